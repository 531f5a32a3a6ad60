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
 * under TCG), the weights row-major with 4 rows per pass (4 accumulators and one x vector
 * fit the 16 SSE registers; the blocks of 64 spilled). On the host CPU a step costs ~2 us
 * (1.6 with the FMA clone).
 *
 * Layout: every vector is padded to a multiple of 4 floats with zeros, H4 = round4(H); gate
 * k of unit j sits at k * H4 + j; each matrix is [rows][round4(cols)] with zero padding. A
 * padded unit's gates are 0, so its c and h stay exactly 0 (tanh(0) is 0 here). */

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
#define v4_select(mask, a, b) ((v4f)(((v4i)(a) & (mask)) | ((v4i)(b) & ~(mask))))

/* v8_exp's polynomial on 4 lanes */
PML_INLINE v4f v4_exp(v4f x)
{
	return PML_VEXP(v4f, v4i, v4_splat, v4_select, x);
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

/* out [rows] = init [rows] + w [rows][cols] . x [cols]; rows and cols multiples of 4. out
 * may be init. */
PML_INLINE void mv4(float *out, const float *init, const float *w, const float *x, int rows,
		    int cols)
{
	for (int r = 0; r < rows; r += 4) {
		const float *w0 = w + (size_t)r * cols, *w1 = w0 + cols, *w2 = w1 + cols,
			    *w3 = w2 + cols;
		v4f a0 = v4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;

		for (int c = 0; c < cols; c += 4) {
			v4f xv = v4_load(x + c);

			a0 += v4_load(w0 + c) * xv;
			a1 += v4_load(w1 + c) * xv;
			a2 += v4_load(w2 + c) * xv;
			a3 += v4_load(w3 + c) * xv;
		}
		v4_store(out + r, v4_load(init + r) + v4_hsum4(a0, a1, a2, a3));
	}
}

/* Copy w [rows][cols] into dst [rows'][stride] (zeroed by the caller); with gates, the
 * rows are LSTM gates (4H of them) and row k * H + j goes to k * round4(H) + j. */
static void pad_rows(float *dst, size_t stride, const float *w, int rows, int cols,
		     bool gates)
{
	const int H = rows / 4, H4 = (int)round4((size_t)H);

	for (int r = 0; r < rows; r++) {
		int to = gates ? (r / H) * H4 + r % H : r;

		memcpy(dst + (size_t)to * stride, w + (size_t)r * cols,
		       (size_t)cols * sizeof(float));
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
		pad_rows(s->b[l], 1, model->params.b[l], (int)(4 * H), 1, true);
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
		pad_rows(s->wihT[l], round4(C), model->params.wih[l], (int)(4 * H), (int)C, true);
		pad_rows(s->whhT[l], H4, model->params.whh[l], (int)(4 * H), (int)H, true);
	}
	s->woutT = p;
	pad_rows(s->woutT, H4, model->params.wout, (int)M, (int)H, false);
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

void pml_lstm_stream_free(struct pml_lstm_stream *s)
{
	if (!s)
		return;
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

void pml_lstm_stream_step(struct pml_lstm_stream *s, int32_t token, float *probs)
{
	const struct pml_lstm_config *cfg = &s->model->cfg;
	const int E = cfg->embed, M = cfg->modules;
	const int H4 = (int)round4(cfg->hidden), E4 = (int)round4(E), G4 = 4 * H4;
	const int M4 = (int)round4(M);
	float *g = s->gates;

	if (token < 0 || token >= cfg->vocab)
		token = 0;
	for (int l = 0; l < cfg->layers; l++) {
		float *h = s->h[l], *c = s->c[l];

		if (l == 0 && s->xproj) {
			float *row = s->xproj + (size_t)token * G4;

			if (!(s->xdone[token / 8] & (1u << (token % 8)))) {
				load_emb(s, token, E);
				mv4(row, s->b[0], s->wihT[0], s->x, G4, E4);
				s->xdone[token / 8] |= (uint8_t)(1u << (token % 8));
			}
			mv4(g, row, s->whhT[0], h, G4, H4);
		} else {
			const float *x = l ? s->h[l - 1] : s->x;

			if (l == 0)
				load_emb(s, token, E);
			mv4(g, s->b[l], s->wihT[l], x, G4, l ? H4 : E4);
			mv4(g, g, s->whhT[l], h, G4, H4);
		}
		for (int j = 0; j < H4; j += 4) {
			v4f gi = v4_sigmoid(v4_load(g + j)), gf = v4_sigmoid(v4_load(g + H4 + j));
			v4f gg = v4_tanh(v4_load(g + 2 * H4 + j));
			v4f go = v4_sigmoid(v4_load(g + 3 * H4 + j));
			v4f cj = gf * v4_load(c + j) + gi * gg;

			v4_store(c + j, cj);
			v4_store(h + j, go * v4_tanh(cj));
		}
	}
	mv4(s->head, s->bout, s->woutT, s->h[cfg->layers - 1], M4, H4);
	for (int m = 0; m < M4; m += 4) {
		v4f q = v4_sigmoid(v4_load(s->head + m));

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
