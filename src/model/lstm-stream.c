/* The LSTM's streaming step: one token at a time, what pmld runs (lstm.h's
 * pml_lstm_stream_*). Training's batched layers are in lstm-layers.c, the model's
 * forward, backward and optimiser in lstm.c. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm-vec.h"
#include "model/lstm.h"

#ifdef __SSE__
#include <xmmintrin.h>
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <errno.h>

/* ---- streaming inference ----------------------------------------------------------------- */

/* The streaming step runs in pmld, once per token, and on this project's testbed that is
 * a guest under QEMU's TCG, where it costs what the emulator makes of it, not what the
 * host CPU would: every float operation is a call into QEMU's softfloat helpers. Measured
 * under qemu-x86_64 7.2 (-cpu max, as the testbed) on the shipped model, per token:
 * training's kernels (lstm-layers.c) in their FMA/AVX clone 3.6 ms, the same in their SSE
 * build 0.9 ms, these 0.18 ms. So the step has its own kernels: plain SSE (16-byte
 * vectors, no target_clones: QEMU runs a guest's 256-bit instructions with the host's and
 * leaves the host's upper vector state dirty, and every SSE instruction of its softfloat
 * helpers stalls after that until something cleans it; its FMA helper is slow besides),
 * no calls (glibc's memcpy is AVX2 code too: src/cmd/pmld.c starts pmld without those
 * under TCG), 8 rows of weights per pass (8 accumulators and one x vector fit the 16 SSE
 * registers; the blocks of 64 spilled, and 4 rows left the adder waiting). On the host CPU
 * (a shared EPYC) a step of the shipped model (E32 H64, 400 modules) costs ~2.6 us; 3.3
 * with 4 rows per pass, exp()'s clamps as masks and the columns' loop rolled. The
 * predictor (pmld's and replay's) goes further: the int16 step below multiplies hidden
 * states in integers; these float kernels stay for a token's first input row and as the
 * reference the tests hold it to.
 *
 * Layout: every vector is padded to a multiple of 4 floats with zeros, H4 = round4(H); gate
 * k of unit j sits at k * H4 + j. Each matrix, round4(rows) x round4(cols) with zero
 * padding, is laid in blocks of 8 rows (the last one 4 when the rows are not a multiple of
 * 8): a block holds its rows' columns 0..3, row after row, then their columns 4..7 and so
 * on, so that a pass reads its block front to back from one pointer (blocked_at). A padded
 * unit's gates are 0, so its c and h stay exactly 0 (tanh(0) is 0 here). */

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline size_t round4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

PML_INLINE v4f v4_load(const float *p)
{
	v4f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#define v4_store(p, v)                          \
	do {                                    \
		v4f v4_store_tmp_ = (v);         \
		memcpy((p), &v4_store_tmp_, 16); \
	} while (0)

#define v4_splat(x) ((v4f){(x), (x), (x), (x)})
/* PML_VEXP's MIN and MAX: SSE's minps and maxps are its rule, one instruction each where a
 * mask and a select take four */
#ifdef __SSE__
#define v4_min(a, b) ((v4f)_mm_min_ps((__m128)(a), (__m128)(b)))
#define v4_max(a, b) ((v4f)_mm_max_ps((__m128)(a), (__m128)(b)))
#else
#define v4_select(mask, a, b) ((v4f)(((v4i)(a) & (mask)) | ((v4i)(b) & ~(mask))))
#define v4_min(a, b) v4_select((a) < (b), a, b)
#define v4_max(a, b) v4_select((a) > (b), a, b)
#endif

/* v8_exp's polynomial on 4 lanes */
PML_INLINE v4f v4_exp(v4f x)
{
	return PML_VEXP(v4f, v4i, v4_splat, v4_min, v4_max, x);
}

PML_INLINE v4f v4_sigmoid(v4f x)
{
	return 1.0f / (1.0f + v4_exp(-x));
}

PML_INLINE v4f v4_tanh(v4f x)
{
	return 2.0f / (1.0f + v4_exp(-2.0f * x)) - 1.0f;
}

/* The four sums of a0..a3 as one vector, in a fixed order. */
PML_INLINE v4f v4_hsum4(v4f a0, v4f a1, v4f a2, v4f a3)
{
	/* __builtin_shufflevector: clang's, and GCC's since 12 (the fuzzers build with clang) */
	v4f s0 = __builtin_shufflevector(a0, a1, 0, 4, 1, 5) +
		 __builtin_shufflevector(a0, a1, 2, 6, 3, 7);
	v4f s1 = __builtin_shufflevector(a2, a3, 0, 4, 1, 5) +
		 __builtin_shufflevector(a2, a3, 2, 6, 3, 7);

	return __builtin_shufflevector(s0, s1, 0, 1, 4, 5) +
	       __builtin_shufflevector(s0, s1, 2, 3, 6, 7);
}

/* a0..a7 += the 8 rows' 4 floats at q (a block's column quad) * x's 4 at xq */
#define ACC8(q, xq)                                   \
	do {                                          \
		v4f xv_ = v4_load(xq);                \
                                                      \
		a0 += v4_load((q)) * xv_;             \
		a1 += v4_load((q) + 4) * xv_;         \
		a2 += v4_load((q) + 8) * xv_;         \
		a3 += v4_load((q) + 12) * xv_;        \
		a4 += v4_load((q) + 16) * xv_;        \
		a5 += v4_load((q) + 20) * xv_;        \
		a6 += v4_load((q) + 24) * xv_;        \
		a7 += v4_load((q) + 28) * xv_;        \
	} while (0)

/* out [rows] = init [rows] + w . x [cols], w in the blocked layout; rows and cols multiples
 * of 4, out may be init. Each row's 4 lanes sum its columns c % 4 == lane in column order,
 * then v4_hsum4 adds them (the order does not depend on how the loop is cut). The columns
 * go 32 at a time, the loop over them unrolled (the shipped models' embedding width, half
 * their hidden one; on the host the step cost some 4% more with 64 at a time, 7% with the
 * loop rolled), then 4 at a time. */
PML_INLINE void mv4(float *out, const float *init, const float *w, const float *x, int rows,
		    int cols)
{
	int r = 0;

	for (; r + 8 <= rows; r += 8) {
		const float *p = w + (size_t)r * cols;
		v4f a0 = v4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
		    a7 = a0;
		int c = 0;

		for (; c + 32 <= cols; c += 32, p += 256)
#pragma GCC unroll 8
			for (int k = 0; k < 32; k += 4)
				ACC8(p + 8 * k, x + c + k);
		for (; c < cols; c += 4, p += 32)
			ACC8(p, x + c);
		v4_store(out + r, v4_load(init + r) + v4_hsum4(a0, a1, a2, a3));
		v4_store(out + r + 4, v4_load(init + r + 4) + v4_hsum4(a4, a5, a6, a7));
	}
	if (r < rows) {
		const float *p = w + (size_t)r * cols;
		v4f a0 = v4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;

		for (int c = 0; c < cols; c += 4, p += 16) {
			v4f xv = v4_load(x + c);

			a0 += v4_load(p) * xv;
			a1 += v4_load(p + 4) * xv;
			a2 += v4_load(p + 8) * xv;
			a3 += v4_load(p + 12) * xv;
		}
		v4_store(out + r, v4_load(init + r) + v4_hsum4(a0, a1, a2, a3));
	}
}


/* ---- The int16 step (pml_lstm_stream_quantize) ----------------------------------------
 * Every matrix that multiplies a hidden state (h in [-1, 1]: o * tanh(c)) is kept as int16
 * rows, row r as round(w * WQ / max_r |w|), and h as round(h * HQ): a row's product is then
 * sum(wq * hq) in int32 (SSE2's pmaddwd: 8 multiplies and 4 adds in one instruction, which
 * QEMU's TCG runs as plain integer code) times max_r / (WQ * HQ), one float multiply-add per
 * row where the float step had one per column. WQ is the largest that cannot overflow
 * int32 over the row's K columns (K * WQ * HQ < 2^31; 8193 for 64 units). A probability
 * moves by some 1e-5 (tests/unit/test-model-lstm.c), and one under 1.2e-4 reads 0. Under
 * qemu-x86_64 -cpu max (the testbed's TCG) the policy's path over a trace record of
 * bench-e2e's nft-ratelimit went from ~62 to ~26 us (tests/model/bench-predictor.c); on
 * the host the step costs about what the float one does (~3 us). What is left there is
 * the activations' exp(), float code. Replay of the validation split gives the same
 * stalls and footprint to the last digit (one prefetch fewer in 1444 runs). */
#define HQ 4095
/* with it, a module's probability under sigmoid(-9) = 1.2e-4 is given as 0 */
#define FLOOR_LOGIT -9.0f

static inline size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* hq[0..n) = round(h * HQ), n a multiple of 4 (the rest of hq stays 0) */
PML_INLINE void quant_h(int16_t *hq, const float *h, int n)
{
#ifdef __SSE2__
	for (int j = 0; j < n; j += 4) {
		__m128i v = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(h + j), _mm_set1_ps(HQ)));

		_mm_storel_epi64((__m128i *)(hq + j), _mm_packs_epi32(v, v));
	}
#else
	for (int j = 0; j < n; j++) {
		float x = h[j] * HQ;

		hq[j] = (int16_t)(x < 0 ? x - 0.5f : x + 0.5f);
	}
#endif
}

/* out [rows] = init [rows] + scale [rows] * (wq . hq), wq [rows][k] (k a multiple of 8,
 * rows of 4), out may be init */
PML_INLINE void mvq(float *out, const float *init, const int16_t *wq, const float *scale,
		    const int16_t *hq, int rows, int k)
{
	for (int r = 0; r < rows; r += 4) {
		const int16_t *w = wq + (size_t)r * k;
#ifdef __SSE2__
		__m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;

		for (int c = 0; c < k; c += 8) {
			__m128i hv = _mm_loadu_si128((const __m128i *)(hq + c));

			a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + c)), hv));
			a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + k + c)), hv));
			a2 = _mm_add_epi32(a2, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 2 * k + c)), hv));
			a3 = _mm_add_epi32(a3, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 3 * k + c)), hv));
		}
		/* the four rows' sums as one vector: transpose and add */
		__m128i t0 = _mm_unpacklo_epi32(a0, a1), t1 = _mm_unpackhi_epi32(a0, a1);
		__m128i t2 = _mm_unpacklo_epi32(a2, a3), t3 = _mm_unpackhi_epi32(a2, a3);
		__m128i sum = _mm_add_epi32(_mm_add_epi32(_mm_unpacklo_epi64(t0, t2),
							   _mm_unpackhi_epi64(t0, t2)),
					    _mm_add_epi32(_mm_unpacklo_epi64(t1, t3),
							   _mm_unpackhi_epi64(t1, t3)));

		_mm_storeu_ps(out + r, _mm_add_ps(_mm_loadu_ps(init + r),
						  _mm_mul_ps(_mm_loadu_ps(scale + r),
							     _mm_cvtepi32_ps(sum))));
#else
		for (int i = 0; i < 4; i++) {
			int32_t acc = 0;

			for (int c = 0; c < k; c++)
				acc += (int32_t)w[(size_t)i * k + c] * hq[c];
			out[r + i] = init[r + i] + scale[r + i] * (float)acc;
		}
#endif
	}
}

/* The cell's step from the pre-activation gates g [4][H4] (i, f, g, o), in place: c = f * c
 * + i * g, h = o * tanh(c). The gates' activations are a pass of their own: each one's
 * exp() is a chain of some 30 dependent operations, and a loop of nothing else keeps
 * several chains in flight. */
PML_INLINE void cell(float *g, float *c, float *h, int H4)
{
	for (int j = 0; j < 2 * H4; j += 4)
		v4_store(g + j, v4_sigmoid(v4_load(g + j)));
	for (int j = 2 * H4; j < 3 * H4; j += 4)
		v4_store(g + j, v4_tanh(v4_load(g + j)));
	for (int j = 3 * H4; j < 4 * H4; j += 4)
		v4_store(g + j, v4_sigmoid(v4_load(g + j)));
	for (int j = 0; j < H4; j += 4) {
		v4f cj = v4_load(g + H4 + j) * v4_load(c + j) +
			 v4_load(g + j) * v4_load(g + 2 * H4 + j);

		v4_store(c + j, cj);
		v4_store(h + j, v4_load(g + 3 * H4 + j) * v4_tanh(cj));
	}
}

/* Where row r's columns c..c+3 start in the blocked layout (Layout) of a matrix of rows4
 * rows and cols4 columns (both multiples of 4, c one of 4) */
static size_t blocked_at(size_t r, size_t c, size_t rows4, size_t cols4)
{
	size_t b = r / 8 * 8, n = rows4 - b < 8 ? rows4 - b : 8;

	return b * cols4 + c * n + (r - b) * 4;
}

/* Where gate row r of an LSTM of H units goes: gate k of unit j, row k * H + j, to k *
 * round4(H) + j. */
static size_t gate_to(int r, int H)
{
	return (size_t)(r / H) * round4((size_t)H) + (size_t)(r % H);
}

/* Copy w [rows][cols] into dst, a matrix of rows4 x round4(cols) in the blocked layout
 * (zeroed by the caller); with gates, the rows are LSTM gates (4H of them, gate_to). */
static void pad_rows(float *dst, size_t rows4, const float *w, int rows, int cols, bool gates)
{
	const size_t cols4 = round4((size_t)cols);

	for (int r = 0; r < rows; r++) {
		size_t to = gates ? gate_to(r, rows / 4) : (size_t)r;

		for (int c = 0; c < cols; c += 4)
			memcpy(dst + blocked_at(to, (size_t)c, rows4, cols4),
			       w + (size_t)r * cols + c,
			       (size_t)(cols - c < 4 ? cols - c : 4) * sizeof(float));
	}
}

struct pml_lstm_stream *pml_lstm_stream_new(const struct pml_lstm *model, bool precompute)
{
	const struct pml_lstm_config *cfg = &model->cfg;
	const size_t H = cfg->hidden, L = cfg->layers, E = cfg->embed, M = cfg->modules;
	const size_t H4 = round4(H), E4 = round4(E), M4 = round4(M), G4 = 4 * H4;
	struct pml_lstm_stream *s = calloc(1, sizeof(*s));
	size_t nt = 0;
	float *p;

	if (!s)
		return NULL;
	s->model = model;
	/* h, c per layer; gates; the head; x (an embedding row); the biases */
	s->mem = calloc(2 * L * H4 + G4 + M4 + E4 + L * G4 + M4, sizeof(float));
	if (!s->mem)
		goto fail;
	p = s->mem;
	for (size_t l = 0; l < L; l++) {
		s->h[l] = p, p += H4;
		s->c[l] = p, p += H4;
	}
	s->gates = p, p += G4;
	s->head = p, p += M4;
	s->x = p, p += E4;
	for (size_t l = 0; l < L; l++) {
		s->b[l] = p, p += G4;
		for (size_t r = 0; r < 4 * H; r++)
			s->b[l][gate_to((int)r, (int)H)] = model->params.b[l][r];
	}
	s->bout = p;
	memcpy(s->bout, model->params.bout, M * sizeof(float));
	for (size_t l = 0; l < L; l++)
		nt += G4 * (l ? H4 : E4) + G4 * H4;
	nt += M4 * H4;
	s->wT = calloc(nt, sizeof(float));
	if (!s->wT)
		goto fail;
	p = s->wT;
	for (size_t l = 0; l < L; l++) {
		size_t C = l ? H : E;

		s->wihT[l] = p, p += G4 * round4(C);
		s->whhT[l] = p, p += G4 * H4;
		pad_rows(s->wihT[l], G4, model->params.wih[l], (int)(4 * H), (int)C, true);
		pad_rows(s->whhT[l], G4, model->params.whh[l], (int)(4 * H), (int)H, true);
	}
	s->woutT = p;
	pad_rows(s->woutT, M4, model->params.wout, (int)M, (int)H, false);
	if (precompute) {
		/* Row v (b0 + wih0 . emb[v]) is made at v's first step: a run meets a few hundred
		 * of the vocabulary's tokens, and a table made whole (2.3 MB for the shipped
		 * model) would be resident in every pmld. calloc of that size maps zero pages
		 * that stay untouched until written. */
		s->xproj = calloc((size_t)cfg->vocab * G4, sizeof(float));
		s->xdone = calloc(((size_t)cfg->vocab + 7) / 8, 1);
		if (!s->xproj || !s->xdone)
			goto fail;
	}
	return s;
fail:
	pml_lstm_stream_free(s);
	return NULL;
}

/* Row r of w [rows][cols] into int16 row to of dst [][k] and its scale (see "The int16
 * step"). */
static void quant_row(int16_t *dst, float *scale, size_t to, const float *w, int cols,
		      size_t k, float wq_max)
{
	float mx = 0;

	for (int c = 0; c < cols; c++)
		mx = fmaxf(mx, fabsf(w[c]));
	scale[to] = mx > 0 ? mx / (wq_max * HQ) : 0;
	for (int c = 0; c < cols && mx > 0; c++)
		dst[to * k + (size_t)c] = (int16_t)lrintf(w[c] * wq_max / mx);
}

/* An LSTM's [4H][H] gate matrix w (a layer above the first's input one, or a recurrent
 * one) into int16 rows in the gates' layout (gate_to) */
static void quant_gates(int16_t *dst, float *scale, const float *w, int H, size_t k,
			float wq_max)
{
	for (int r = 0; r < 4 * H; r++)
		quant_row(dst, scale, gate_to(r, H), w + (size_t)r * (size_t)H, H, k, wq_max);
}

int pml_lstm_stream_quantize(struct pml_lstm_stream *s)
{
	const struct pml_lstm_config *cfg = &s->model->cfg;
	const struct pml_lstm_params *pr = &s->model->params;
	const size_t H = cfg->hidden, L = cfg->layers, M = cfg->modules;
	const size_t H4 = round4(H), G4 = 4 * H4, M4 = round4(M), K = round8(H4);
	/* K * wq_max * HQ < 2^31: no row's sum can overflow */
	const float wq_max = fminf(32767.0f, floorf(2147483647.0f / ((float)K * HQ)) - 1);
	size_t nq = M4 * K + K, ns = M4;
	int16_t *q;
	float *sc;

	if (s->q)
		return 0;
	for (size_t l = 0; l < L; l++)
		nq += G4 * K * (l ? 2 : 1), ns += G4 * (l ? 2 : 1);
	q = calloc(nq, sizeof(*q));
	sc = calloc(ns, sizeof(*sc));
	if (!q || !sc) {
		free(q);
		free(sc);
		return -ENOMEM;
	}
	s->q = q;
	s->qscale = sc;
	for (size_t l = 0; l < L; l++) {
		s->whhQ[l] = q, q += G4 * K;
		s->whhS[l] = sc, sc += G4;
		quant_gates(s->whhQ[l], s->whhS[l], pr->whh[l], (int)H, K, wq_max);
		if (!l)
			continue;
		s->wihQ[l] = q, q += G4 * K;
		s->wihS[l] = sc, sc += G4;
		quant_gates(s->wihQ[l], s->wihS[l], pr->wih[l], (int)H, K, wq_max);
	}
	s->woutQ = q, q += M4 * K;
	s->woutS = sc;
	for (size_t r = 0; r < M; r++)
		quant_row(s->woutQ, s->woutS, r, pr->wout + r * H, (int)H, K, wq_max);
	s->hq = q;
	return 0;
}

void pml_lstm_stream_free(struct pml_lstm_stream *s)
{
	if (!s)
		return;
	free(s->q);
	free(s->qscale);
	free(s->xproj);
	free(s->xdone);
	free(s->wT);
	free(s->mem);
	free(s);
}

void pml_lstm_stream_reset(struct pml_lstm_stream *s)
{
	const struct pml_lstm_config *cfg = &s->model->cfg;

	memset(s->mem, 0, 2 * (size_t)cfg->layers * round4(cfg->hidden) * sizeof(float));
}

/* The token's embedding row into the padded s->x, element by element (through volatile:
 * GCC would make a copy loop a memcpy call). */
PML_INLINE void load_emb(struct pml_lstm_stream *s, int32_t token, int E)
{
	const float *e = s->model->params.emb + (size_t)token * E;

	for (int k = 0; k < E; k++)
		((volatile float *)s->x)[k] = e[k];
}

/* out [rows] = init + w . h, h a hidden state [H4]: in int16 (wq, scale) once the stream is
 * quantized, else in floats (wT) */
PML_INLINE void mul_h(struct pml_lstm_stream *s, float *out, const float *init,
		      const float *wT, const int16_t *wq, const float *scale, const float *h,
		      int rows)
{
	const int H4 = (int)round4(s->model->cfg.hidden);

	if (s->q) {
		quant_h(s->hq, h, H4);
		mvq(out, init, wq, scale, s->hq, rows, (int)round8((size_t)H4));
	} else {
		mv4(out, init, wT, h, rows, H4);
	}
}

/* Layer l's gates before the recurrent part: b + wih . x (x the token's embedding, or the
 * layer below's h), from layer 0's table when there is one (its row made at the token's
 * first step), else computed into g. */
PML_INLINE const float *layer_input(struct pml_lstm_stream *s, int l, int32_t token, float *g)
{
	const struct pml_lstm_config *cfg = &s->model->cfg;
	const int E = cfg->embed, E4 = (int)round4(E), G4 = 4 * (int)round4(cfg->hidden);

	if (l > 0) {
		mul_h(s, g, s->b[l], s->wihT[l], s->wihQ[l], s->wihS[l], s->h[l - 1], G4);
		return g;
	}
	if (!s->xproj) {
		load_emb(s, token, E);
		mv4(g, s->b[0], s->wihT[0], s->x, G4, E4);
		return g;
	}
	if (!(s->xdone[token / 8] & (1u << (token % 8)))) {
		load_emb(s, token, E);
		mv4(s->xproj + (size_t)token * G4, s->b[0], s->wihT[0], s->x, G4, E4);
		s->xdone[token / 8] |= (uint8_t)(1u << (token % 8));
	}
	return s->xproj + (size_t)token * G4;
}

void pml_lstm_stream_step(struct pml_lstm_stream *s, int32_t token, float *probs)
{
	const struct pml_lstm_config *cfg = &s->model->cfg;
	const int M = cfg->modules;
	const int H4 = (int)round4(cfg->hidden), G4 = 4 * H4;
	const int M4 = (int)round4(M);
	float *g = s->gates;

	if (token < 0 || token >= cfg->vocab)
		token = 0;
	for (int l = 0; l < cfg->layers; l++) {
		mul_h(s, g, layer_input(s, l, token, g), s->whhT[l], s->whhQ[l], s->whhS[l],
		      s->h[l], G4);
		cell(g, s->c[l], s->h[l], H4);
	}
	mul_h(s, s->head, s->bout, s->woutT, s->woutQ, s->woutS, s->h[cfg->layers - 1], M4);
	for (int m = 0; m < M4; m += 4) {
		v4f z = v4_load(s->head + m), q;
		v4i low = z < v4_splat(FLOOR_LOGIT);

		/* the int16 step: four modules under 1.2e-4 read 0 (most modules, most of the
		 * time: an exp() each saved) */
		if (s->q && low[0] & low[1] & low[2] & low[3])
			q = v4_splat(0.0f);
		else
			q = v4_sigmoid(z);

		if (m + 4 <= M) {
			v4_store(probs + m, q);
		} else {
			/* (not a loop: GCC would make it a memcpy call) */
			probs[m] = q[0];
			if (m + 1 < M)
				probs[m + 1] = q[1];
			if (m + 2 < M)
				probs[m + 2] = q[2];
		}
	}
}
