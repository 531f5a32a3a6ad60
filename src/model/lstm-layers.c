/* The LSTM's layers on plain buffers (lstm.h): the embedding, the matmul, the LSTM layer
 * and binary cross-entropy, each a forward and a backward, with the 8-float kernels and
 * the threads they run on. The model that stacks them is lstm.c (lstm-priv.h: the threaded
 * forms it uses); the streaming step pmld runs has its own kernels (lstm-stream.c).
 *
 * Speed comes from three things, none of them -Ofast (llm.c met a real bug from it):
 * GCC vector extensions (8 floats at a time, lowered to SSE on a plain x86-64 and to AVX
 * in the clone below), a vectorised exp() written out (the libm call is scalar and would
 * cost more than the whole matrix work of a streaming step), and target_clones: the hot
 * functions get an FMA/AVX copy picked at load time, so the default build still runs on
 * any x86-64. Reductions keep a fixed order, so a given machine gives bit-identical runs. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm.h"
#include "model/lstm-priv.h"

#include "model/lstm-vec.h"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

PML_INLINE v8f v8_load(const float *p)
{
	v8f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* macros, not functions, where a vector would be an argument: GCC 12 prints an ABI note
 * for 32-byte vector parameters (even always inlined) that no pragma silences */
#define v8_store(p, v)                          \
	do {                                    \
		v8f v8_store_tmp_ = (v);         \
		memcpy((p), &v8_store_tmp_, 32); \
	} while (0)

PML_INLINE v8f v8_splat(float x)
{
	/* a shuffle, not an initialiser list: GCC builds the latter with 7 inserts */
#ifdef __clang__
	return __builtin_shufflevector((v8f){x}, (v8f){x}, 0, 0, 0, 0, 0, 0, 0, 0);
#else
	return __builtin_shuffle((v8f){x}, (v8i){0});
#endif
}

#define v8_hsum(v) ((((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7])))
#define v8_select(mask, a, b) ((v8f)(((v8i)(a) & (mask)) | ((v8i)(b) & ~(mask))))
/* PML_VEXP's MIN and MAX (a and b are evaluated twice) */
#define v8_min(a, b) v8_select((a) < (b), a, b)
#define v8_max(a, b) v8_select((a) > (b), a, b)

/* exp(x) for the 8 floats at xp (PML_VEXP). */
PML_INLINE v8f v8_exp(const float *xp)
{
	return PML_VEXP(v8f, v8i, v8_splat, v8_min, v8_max, v8_load(xp));
}

/* in place on 8 floats at p */
PML_INLINE void v8_sigmoid_at(float *p)
{
	float t[8];

	v8_store(t, -v8_load(p));
	v8_store(p, 1.0f / (1.0f + v8_exp(t)));
}

PML_INLINE void v8_tanh_at(float *p)
{
	float t[8];

	v8_store(t, -2.0f * v8_load(p));
	v8_store(p, 2.0f / (1.0f + v8_exp(t)) - 1.0f);
}

PML_INLINE void sigmoid_span(float *x, int n)
{
	int i = 0;

	for (; i + 8 <= n; i += 8)
		v8_sigmoid_at(x + i);
	if (i < n) {
		float tmp[8] = {0};

		memcpy(tmp, x + i, (n - i) * sizeof(float));
		v8_sigmoid_at(tmp);
		memcpy(x + i, tmp, (n - i) * sizeof(float));
	}
}

PML_INLINE void tanh_span(float *x, int n)
{
	int i = 0;

	for (; i + 8 <= n; i += 8)
		v8_tanh_at(x + i);
	if (i < n) {
		float tmp[8] = {0};

		memcpy(tmp, x + i, (n - i) * sizeof(float));
		v8_tanh_at(tmp);
		memcpy(x + i, tmp, (n - i) * sizeof(float));
	}
}

PML_VEC void pml_sigmoid_inplace(float *x, int n)
{
	sigmoid_span(x, n);
}

PML_VEC void pml_tanh_inplace(float *x, int n)
{
	tanh_span(x, n);
}

/* y[0..n) += a * x[0..n) */
PML_INLINE void axpy(float *y, float a, const float *x, int n)
{
	v8f va = v8_splat(a);
	int i = 0;

	for (; i + 8 <= n; i += 8)
		v8_store(y + i, v8_load(y + i) + va * v8_load(x + i));
	for (; i < n; i++)
		y[i] += a * x[i];
}

/* out [64] += the 64 outputs whose weights for column j start at w + j * stride: the
 * outputs stay in registers while the columns stream past (vertical multiply-adds only). */
PML_INLINE void acc64(float *out, const float *w, size_t stride, const float *x, int cols)
{
	v8f a0 = v8_load(out), a1 = v8_load(out + 8), a2 = v8_load(out + 16),
	    a3 = v8_load(out + 24), a4 = v8_load(out + 32), a5 = v8_load(out + 40),
	    a6 = v8_load(out + 48), a7 = v8_load(out + 56);

	for (int j = 0; j < cols; j++, w += stride) {
		v8f xj = v8_splat(x[j]);

		a0 += xj * v8_load(w);
		a1 += xj * v8_load(w + 8);
		a2 += xj * v8_load(w + 16);
		a3 += xj * v8_load(w + 24);
		a4 += xj * v8_load(w + 32);
		a5 += xj * v8_load(w + 40);
		a6 += xj * v8_load(w + 48);
		a7 += xj * v8_load(w + 56);
	}
	v8_store(out, a0);
	v8_store(out + 8, a1);
	v8_store(out + 16, a2);
	v8_store(out + 24, a3);
	v8_store(out + 32, a4);
	v8_store(out + 40, a5);
	v8_store(out + 48, a6);
	v8_store(out + 56, a7);
}

/* out [rows] += wt [cols, rows]^T . x [cols], 64 outputs at a time. */
PML_INLINE void matvec_t_acc(float *out, const float *wt, const float *x, int rows, int cols)
{
	int r = 0;

	for (; r + 64 <= rows; r += 64)
		acc64(out + r, wt + r, (size_t)rows, x, cols);
	for (; r + 8 <= rows; r += 8) {
		v8f a = v8_load(out + r);

		for (int j = 0; j < cols; j++)
			a += v8_splat(x[j]) * v8_load(wt + (size_t)j * rows + r);
		v8_store(out + r, a);
	}
	for (; r < rows; r++)
		for (int j = 0; j < cols; j++)
			out[r] += x[j] * wt[(size_t)j * rows + r];
}

/* ---- layers ------------------------------------------------------------------------------ */

void pml_embed_forward(float *out, const int32_t *tok, const float *emb, int N, int E)
{
	for (int n = 0; n < N; n++)
		memcpy(out + (size_t)n * E, emb + (size_t)tok[n] * E, E * sizeof(float));
}

void pml_embed_backward(float *demb, const float *dout, const int32_t *tok, int N, int E)
{
	for (int n = 0; n < N; n++) {
		float *d = demb + (size_t)tok[n] * E;
		const float *g = dout + (size_t)n * E;

		for (int e = 0; e < E; e++)
			d[e] += g[e];
	}
}

/* ---- threads: contiguous row ranges, joined before returning ----------------------------- */

typedef void (*range_fn)(void *ctx, int lo, int hi);

struct range_job {
	range_fn fn;
	void *ctx;
	int lo, hi;
};

static void *range_run(void *arg)
{
	struct range_job *j = arg;

	j->fn(j->ctx, j->lo, j->hi);
	return NULL;
}

/* Run fn over [0, n) split in `threads` contiguous ranges. Each output row belongs to
 * one range and every sum keeps its serial order, so the result does not depend on the
 * thread count. A thread that cannot start runs its range on the caller. */
static void parallel_for(int threads, int n, range_fn fn, void *ctx)
{
	enum { MAX_THREADS = 64 };
	struct range_job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	bool started[MAX_THREADS] = {false};

	if (threads > n)
		threads = n;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if (threads <= 1) {
		if (n > 0)
			fn(ctx, 0, n);
		return;
	}
	for (int i = 0; i < threads; i++)
		jobs[i] = (struct range_job){fn, ctx, (int)((long)n * i / threads),
					     (int)((long)n * (i + 1) / threads)};
	for (int i = 1; i < threads; i++)
		started[i] = pthread_create(&tid[i], NULL, range_run, &jobs[i]) == 0;
	range_run(&jobs[0]);
	for (int i = 1; i < threads; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			range_run(&jobs[i]);
	}
}

void lstm_transpose(float *dst, const float *src, int rows, int cols)
{
	enum { TILE = 16 };

	for (int r0 = 0; r0 < rows; r0 += TILE)
		for (int c0 = 0; c0 < cols; c0 += TILE) {
			int r1 = r0 + TILE < rows ? r0 + TILE : rows;
			int c1 = c0 + TILE < cols ? c0 + TILE : cols;

			for (int r = r0; r < r1; r++)
				for (int c = c0; c < c1; c++)
					dst[(size_t)c * rows + r] = src[(size_t)r * cols + c];
		}
}

/* ---- matmul on transposed operands -------------------------------------------------------- */

struct mm_fwd {
	float *out;
	const float *inp, *wt, *bias; /* wt: w transposed, [C, OC] */
	int C, OC;
};

static PML_VEC void mm_fwd_rows(void *ctx, int lo, int hi)
{
	const struct mm_fwd *a = ctx;

	for (int n = lo; n < hi; n++) {
		float *o = a->out + (size_t)n * a->OC;

		if (a->bias)
			memcpy(o, a->bias, a->OC * sizeof(float));
		else
			memset(o, 0, a->OC * sizeof(float));
		matvec_t_acc(o, a->wt, a->inp + (size_t)n * a->C, a->OC, a->C);
	}
}

void lstm_matmul_forward_t(int threads, float *out, const float *inp, const float *wt,
			   const float *bias, int N, int C, int OC)
{
	struct mm_fwd a = {out, inp, wt, bias, C, OC};

	parallel_for(threads, N, mm_fwd_rows, &a);
}

struct mm_bwd {
	float *dinp, *dw, *dbias;
	const float *dout, *doutT, *inp, *w;
	int N, C, OC;
};

/* dinp [n, :] += dout [n, :] . w: w [OC, C] is already the transposed operand */
static PML_VEC void mm_bwd_inp_rows(void *ctx, int lo, int hi)
{
	const struct mm_bwd *a = ctx;

	for (int n = lo; n < hi; n++)
		matvec_t_acc(a->dinp + (size_t)n * a->C, a->w, a->dout + (size_t)n * a->OC, a->C,
			     a->OC);
}

/* dw [k, :] += sum_n dout [n, k] inp [n, :], with doutT [OC, N]; dbias [k] likewise */
static PML_VEC void mm_bwd_w_rows(void *ctx, int lo, int hi)
{
	const struct mm_bwd *a = ctx;

	for (int k = lo; k < hi; k++) {
		const float *g = a->doutT + (size_t)k * a->N;

		if (a->dw)
			matvec_t_acc(a->dw + (size_t)k * a->C, a->inp, g, a->C, a->N);
		if (a->dbias) {
			float sum = a->dbias[k];

			for (int n = 0; n < a->N; n++)
				sum += g[n];
			a->dbias[k] = sum;
		}
	}
}

void lstm_matmul_backward_t(int threads, float *dinp, float *dw, float *dbias,
			    const float *dout, const float *doutT, const float *inp,
			    const float *w, int N, int C, int OC)
{
	struct mm_bwd a = {dinp, dw, dbias, dout, doutT, inp, w, N, C, OC};

	if (dinp)
		parallel_for(threads, N, mm_bwd_inp_rows, &a);
	if (dw || dbias)
		parallel_for(threads, OC, mm_bwd_w_rows, &a);
}

/* The public layer functions allocate their transposes; on allocation failure they fall
 * back to the plain loops (same sums in the same order: the same result, slower). */
PML_VEC void pml_matmul_forward(float *out, const float *inp, const float *w,
				const float *bias, int N, int C, int OC)
{
	float *wt = malloc((size_t)C * OC * sizeof(float));

	if (wt) {
		lstm_transpose(wt, w, OC, C);
		lstm_matmul_forward_t(1, out, inp, wt, bias, N, C, OC);
		free(wt);
		return;
	}
	for (int n = 0; n < N; n++) {
		const float *x = inp + (size_t)n * C;
		float *o = out + (size_t)n * OC;

		for (int k = 0; k < OC; k++) {
			float sum = bias ? bias[k] : 0.0f;

			for (int c = 0; c < C; c++)
				sum += x[c] * w[(size_t)k * C + c];
			o[k] = sum;
		}
	}
}

PML_VEC void pml_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
				 const float *inp, const float *w, int N, int C, int OC)
{
	float *doutT = (dw || dbias) ? malloc((size_t)N * OC * sizeof(float)) : NULL;

	if (doutT || !(dw || dbias)) {
		if (doutT)
			lstm_transpose(doutT, dout, N, OC);
		lstm_matmul_backward_t(1, dinp, dw, dbias, dout, doutT, inp, w, N, C, OC);
		free(doutT);
		return;
	}
	for (int n = 0; n < N; n++) {
		const float *g = dout + (size_t)n * OC;

		if (dinp)
			for (int k = 0; k < OC; k++)
				axpy(dinp + (size_t)n * C, g[k], w + (size_t)k * C, C);
	}
	for (int k = 0; k < OC; k++)
		for (int n = 0; n < N; n++) {
			float gk = dout[(size_t)n * OC + k];

			if (dw)
				axpy(dw + (size_t)k * C, gk, inp + (size_t)n * C, C);
			if (dbias)
				dbias[k] += gk;
		}
}

/* Activate a pre-activation gate row [4H] in place and advance the cell:
 * c = f * cprev + i * g, tc = tanh(c), h = o * tc. cprev may alias c. */
PML_INLINE void lstm_cell(float *h, float *c, float *tc, float *g, const float *cprev, int H)
{
	float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;

	sigmoid_span(g, 2 * H);
	tanh_span(gg, H);
	sigmoid_span(go, H);
	for (int k = 0; k < H; k++)
		c[k] = gf[k] * (cprev ? cprev[k] : 0.0f) + gi[k] * gg[k];
	memcpy(tc, c, H * sizeof(float));
	tanh_span(tc, H);
	for (int k = 0; k < H; k++)
		h[k] = go[k] * tc[k];
}

/* ---- the LSTM layer ------------------------------------------------------------------------ */

struct lstm_args {
	float *h, *c, *tc, *gates, *dx, *dwih, *dwhh, *db, *dh0, *dc0, *dgates;
	const float *dh, *x, *h0, *c0, *wih, *whh, *whhT;
	float *hprev; /* backward: [B, T, H] the state each step started from */
	int B, T, C, H;
};

static PML_VEC void lstm_fwd_rows(void *ctx, int lo, int hi)
{
	const struct lstm_args *a = ctx;
	const int T = a->T, H = a->H, G = 4 * H;

	for (int bi = lo; bi < hi; bi++)
		for (int t = 0; t < T; t++) {
			size_t bt = (size_t)bi * T + t;
			const float *hp = t ? a->h + (bt - 1) * H
					    : (a->h0 ? a->h0 + (size_t)bi * H : NULL);
			const float *cp = t ? a->c + (bt - 1) * H
					    : (a->c0 ? a->c0 + (size_t)bi * H : NULL);
			float *g = a->gates + bt * G;

			if (hp)
				matvec_t_acc(g, a->whhT, hp, G, H);
			lstm_cell(a->h + bt * H, a->c + bt * H, a->tc + bt * H, g, cp, H);
		}
}

/* The recurrence of the backward, one sequence at a time: pre-activation gradients into
 * dgates, the entering state's gradient into dh0/dc0, and hprev for the weight sums. */
static PML_VEC void lstm_bwd_rows(void *ctx, int lo, int hi)
{
	const struct lstm_args *a = ctx;
	const int T = a->T, H = a->H, G = 4 * H;
	float dh_next[H], dc_next[H]; /* H <= 4096 (pml_lstm_param_count) */

	for (int bi = lo; bi < hi; bi++) {
		memset(dh_next, 0, sizeof(dh_next));
		memset(dc_next, 0, sizeof(dc_next));
		for (int t = T - 1; t >= 0; t--) {
			size_t bt = (size_t)bi * T + t;
			const float *g = a->gates + bt * G;
			const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
			const float *cp = t ? a->c + (bt - 1) * H
					    : (a->c0 ? a->c0 + (size_t)bi * H : NULL);
			const float *hp = t ? a->h + (bt - 1) * H
					    : (a->h0 ? a->h0 + (size_t)bi * H : NULL);
			const float *tcv = a->tc + bt * H, *dht = a->dh + bt * H;
			float *d = a->dgates + bt * G;

			for (int k = 0; k < H; k++) {
				float dhk = dht[k] + dh_next[k];
				float dc = dc_next[k] + dhk * go[k] * (1.0f - tcv[k] * tcv[k]);
				float cpk = cp ? cp[k] : 0.0f;

				d[k] = dc * gg[k] * gi[k] * (1.0f - gi[k]);
				d[H + k] = dc * cpk * gf[k] * (1.0f - gf[k]);
				d[2 * H + k] = dc * gi[k] * (1.0f - gg[k] * gg[k]);
				d[3 * H + k] = dhk * tcv[k] * go[k] * (1.0f - go[k]);
				dc_next[k] = dc * gf[k];
			}
			/* dh' = whh^T . d: whh [4H, H] is the transposed operand as it lies */
			memset(dh_next, 0, H * sizeof(float));
			matvec_t_acc(dh_next, a->whh, d, H, G);
			if (hp)
				memcpy(a->hprev + bt * H, hp, H * sizeof(float));
			else
				memset(a->hprev + bt * H, 0, H * sizeof(float));
		}
		if (a->dh0)
			for (int k = 0; k < H; k++)
				a->dh0[(size_t)bi * H + k] += dh_next[k];
		if (a->dc0)
			for (int k = 0; k < H; k++)
				a->dc0[(size_t)bi * H + k] += dc_next[k];
	}
}

void lstm_layer_forward_mt(int threads, float *scratch, float *h, float *c, float *tc,
			   float *gates, const float *x, const float *h0, const float *c0,
			   const float *wih, const float *whh, const float *b, int B,
			   int T, int C, int H)
{
	struct lstm_args a = {.h = h, .c = c, .tc = tc, .gates = gates, .x = x, .h0 = h0,
			      .c0 = c0, .whhT = scratch, .B = B, .T = T, .C = C, .H = H};

	/* the input projection of every step at once; the recurrence adds whh . h' */
	lstm_transpose(scratch, wih, 4 * H, C);
	lstm_matmul_forward_t(threads, gates, x, scratch, b, B * T, C, 4 * H);
	lstm_transpose(scratch, whh, 4 * H, H);
	parallel_for(threads, B, lstm_fwd_rows, &a);
}

void lstm_layer_backward_mt(int threads, float *scratch, float *dx, float *dwih,
			    float *dwhh, float *db, float *dh0, float *dc0, float *dgates,
			    const float *dh, const float *x, const float *h0,
			    const float *c0, const float *h, const float *c,
			    const float *tc, const float *gates, const float *wih,
			    const float *whh, int B, int T, int C, int H)
{
	const int N = B * T, G = 4 * H;
	float *dT = scratch, *hprev = scratch + (size_t)N * G;
	struct lstm_args a = {.h = (float *)h, .c = (float *)c, .tc = (float *)tc,
			      .gates = (float *)gates, .dh0 = dh0, .dc0 = dc0, .dgates = dgates,
			      .dh = dh, .h0 = h0, .c0 = c0, .whh = whh, .hprev = hprev,
			      .B = B, .T = T, .C = C, .H = H};

	parallel_for(threads, B, lstm_bwd_rows, &a);
	lstm_transpose(dT, dgates, N, G);
	/* dwhh += sum over steps of d (x) the state the step started from */
	lstm_matmul_backward_t(threads, NULL, dwhh, NULL, dgates, dT, hprev, whh, N, H, G);
	lstm_matmul_backward_t(threads, dx, dwih, db, dgates, dT, x, wih, N, C, G);
}

int pml_lstm_layer_forward(float *h, float *c, float *tc, float *gates, const float *x,
			   const float *h0, const float *c0, const float *wih, const float *whh,
			   const float *b, int B, int T, int C, int H)
{
	float *scratch = malloc((size_t)4 * H * (C > H ? C : H) * sizeof(float));

	if (!scratch)
		return -ENOMEM;
	lstm_layer_forward_mt(1, scratch, h, c, tc, gates, x, h0, c0, wih, whh, b, B, T, C, H);
	free(scratch);
	return 0;
}

int pml_lstm_layer_backward(float *dx, float *dwih, float *dwhh, float *db, float *dh0,
			    float *dc0, float *dgates, const float *dh, const float *x,
			    const float *h0, const float *c0, const float *h, const float *c,
			    const float *tc, const float *gates, const float *wih,
			    const float *whh, int B, int T, int C, int H)
{
	float *scratch = malloc((size_t)B * T * 5 * H * sizeof(float));

	if (!scratch)
		return -ENOMEM;
	lstm_layer_backward_mt(1, scratch, dx, dwih, dwhh, db, dh0, dc0, dgates, dh, x, h0, c0,
			       h, c, tc, gates, wih, whh, B, T, C, H);
	free(scratch);
	return 0;
}

double pml_bce_forward(float *probs, const float *logits, const float *targets,
		       const float *mask, int N, int M)
{
	size_t n = (size_t)N * M;
	double loss = 0.0;

	memcpy(probs, logits, n * sizeof(float));
	pml_sigmoid_inplace(probs, (int)n);
	if (!targets)
		return 0.0;
	for (size_t i = 0; i < n; i++) {
		float z = logits[i], y = targets[i];
		/* log(1 + e^z) - y z, stable for both signs of z; float terms, a double sum */
		float l = fmaxf(z, 0.0f) - z * y + log1pf(expf(-fabsf(z)));

		loss += mask ? mask[i] * l : l;
	}
	return loss;
}

void pml_bce_backward(float *dlogits, const float *probs, const float *targets,
		      const float *mask, int N, int M, float scale)
{
	size_t n = (size_t)N * M;

	for (size_t i = 0; i < n; i++)
		dlogits[i] += scale * (mask ? mask[i] : 1.0f) * (probs[i] - targets[i]);
}
