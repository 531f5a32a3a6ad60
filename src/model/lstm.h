/* The LSTM module predictor's numerical core, in the manner of llm.c: token embedding ->
 * 1 or 2 stacked LSTM layers -> a linear head with one sigmoid per module (multi-label),
 * trained with binary cross-entropy, truncated BPTT over windows of T steps, Adam and
 * global-norm gradient clipping. Each layer is a pair x_forward()/x_backward() on plain
 * float buffers whose shapes are written above them; backward accumulates (+=).
 *
 * Gate order is i, f, g, o (input, forget, cell candidate, output), the order of
 * torch.nn.LSTM, so weights move between the two unchanged: wih is torch's weight_ih_lN
 * and whh its weight_hh_lN, row-major [4H, In]. Torch keeps two biases (b_ih, b_hh) that
 * only ever appear summed; we keep one (b = b_ih + b_hh).
 *
 *   i = sigmoid(Wi x + Ui h' + bi)    c = f * c' + i * g
 *   f = sigmoid(Wf x + Uf h' + bf)    h = o * tanh(c)
 *   g = tanh   (Wg x + Ug h' + bg)    (h', c': the previous step's state)
 *   o = sigmoid(Wo x + Uo h' + bo)
 *
 * Memory: parameters, gradients and each of Adam's m and v live in one allocation each,
 * with pointers carved out (struct pml_lstm_params); activations likewise, sized for the
 * (B, T) of the last forward. Randomness comes only from the seed given to
 * pml_lstm_init_params(), so training is deterministic given a seed (on one machine: the
 * vector kernels may use FMA where the CPU has it). */
#ifndef PML_MODEL_LSTM_H
#define PML_MODEL_LSTM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_LSTM_MAX_LAYERS 2

struct pml_lstm_config {
	int vocab;   /* V: tokens; token 0 is the out-of-vocabulary token by convention */
	int embed;   /* E: embedding width */
	int hidden;  /* H: LSTM state width */
	int layers;  /* L: 1 or 2 */
	int modules; /* M: output labels */
};

/* The parameter tensors in the order they lie in memory (and in the model file). */
enum pml_lstm_tensor {
	PML_LSTM_T_EMB,	 /* [V, E] */
	PML_LSTM_T_WIH0, /* [4H, E] */
	PML_LSTM_T_WHH0, /* [4H, H] */
	PML_LSTM_T_B0,	 /* [4H] */
	PML_LSTM_T_WIH1, /* [4H, H]  (size 0 with one layer) */
	PML_LSTM_T_WHH1, /* [4H, H]  (size 0 with one layer) */
	PML_LSTM_T_B1,	 /* [4H]     (size 0 with one layer) */
	PML_LSTM_T_WOUT, /* [M, H] */
	PML_LSTM_T_BOUT, /* [M] */
	PML_LSTM_NTENSORS,
};

struct pml_lstm_params {
	float *emb;
	float *wih[PML_LSTM_MAX_LAYERS];
	float *whh[PML_LSTM_MAX_LAYERS];
	float *b[PML_LSTM_MAX_LAYERS];
	float *wout;
	float *bout;
};

/* ---- layers on plain buffers ---------------------------------------------------------- */

/* out [N, E] = emb[tok[n]]; tok [N], each in [0, V) (the caller checks). */
void pml_embed_forward(float *out, const int32_t *tok, const float *emb, int N, int E);
/* demb [V, E] += scatter of dout [N, E] by tok. */
void pml_embed_backward(float *demb, const float *dout, const int32_t *tok, int N, int E);

/* out [N, OC] = inp [N, C] . w[OC, C]^T + bias [OC] (bias may be NULL). */
void pml_matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N,
			int C, int OC);
/* dinp [N, C] += dout . w;  dw [OC, C] += dout^T . inp;  dbias [OC] += sum_n dout.
 * Any of dinp, dw, dbias may be NULL. */
void pml_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
			 const float *inp, const float *w, int N, int C, int OC);

/* One LSTM layer over B sequences of T steps.
 *   x     [B, T, C]   input
 *   h0,c0 [B, H]      state before step 0 (NULL: zeros)
 *   wih   [4H, C], whh [4H, H], b [4H]
 *   gates [B, T, 4H]  out: activated gates i, f, g, o (kept for backward)
 *   c     [B, T, H]   out: cell state;  tc [B, T, H] out: tanh(c)
 *   h     [B, T, H]   out: hidden state (the layer's output)
 * Returns 0 or -ENOMEM (its scratch). */
int pml_lstm_layer_forward(float *h, float *c, float *tc, float *gates, const float *x,
			   const float *h0, const float *c0, const float *wih, const float *whh,
			   const float *b, int B, int T, int C, int H);
/* Backward of the layer above. dh [B, T, H] is the gradient arriving at h from above;
 * dgates [B, T, 4H] is scratch (pre-activation gradients on return). Accumulates into
 * dx [B, T, C] (may be NULL), dwih, dwhh, db, and dh0/dc0 [B, H] (may be NULL); the
 * gradient does not flow into earlier windows unless the caller passes dh0/dc0 on.
 * Returns 0 or -ENOMEM. */
int pml_lstm_layer_backward(float *dx, float *dwih, float *dwhh, float *db, float *dh0,
			    float *dc0, float *dgates, const float *dh, const float *x,
			    const float *h0, const float *c0, const float *h, const float *c,
			    const float *tc, const float *gates, const float *wih,
			    const float *whh, int B, int T, int C, int H);

/* Binary cross-entropy on logits [N, M] against targets [N, M] (0..1), weighted by mask
 * [N, M] (NULL: all 1). Writes probs [N, M] = sigmoid(logits). Returns the loss summed
 * over elements (in double: the caller divides by the weight sum). */
double pml_bce_forward(float *probs, const float *logits, const float *targets,
		       const float *mask, int N, int M);
/* dlogits [N, M] += scale * mask * (probs - targets). */
void pml_bce_backward(float *dlogits, const float *probs, const float *targets,
		      const float *mask, int N, int M, float scale);

/* Vector kernels shared by training and streaming inference (exported for the tests). */
void pml_sigmoid_inplace(float *x, int n);
void pml_tanh_inplace(float *x, int n);

/* ---- the model ------------------------------------------------------------------------- */

struct pml_lstm {
	struct pml_lstm_config cfg;
	size_t nparams;
	size_t tensor_size[PML_LSTM_NTENSORS];
	float *params_mem; /* owned, or borrowed (read-only, e.g. an mmap'd model file) */
	bool params_borrowed;
	struct pml_lstm_params params;
	float *grads_mem; /* NULL until the first backward */
	struct pml_lstm_params grads;
	float *m_mem, *v_mem; /* Adam moments, allocated at the first update */
	int adam_t;
	int threads;
	/* activations of the last forward, for B x T; NULL until then */
	int B, T;
	float *acts_mem, *dacts_mem;
	size_t acts_size;
	float *x, *h[PML_LSTM_MAX_LAYERS], *c[PML_LSTM_MAX_LAYERS], *tc[PML_LSTM_MAX_LAYERS];
	float *gates[PML_LSTM_MAX_LAYERS], *logits, *probs;
	float *dx, *dh[PML_LSTM_MAX_LAYERS], *dgates, *dlogits;
	float *scratch; /* transposed operands */
	/* state entering the window [L, B, H]: zeros, or the last window's end (carry) */
	float *h0, *c0;
	const int32_t *tokens; /* of the last forward (borrowed until backward) */
	const float *targets, *mask;
	double mask_sum;
};

/* Sizes of each tensor (in floats) into sizes (may be NULL); returns the total.
 * Returns 0 for an invalid config (non-positive sizes, layers not 1..2, overflow). */
size_t pml_lstm_param_count(const struct pml_lstm_config *cfg,
			    size_t sizes[PML_LSTM_NTENSORS]);
/* Point p's tensors into mem (pml_lstm_param_count() floats). */
void pml_lstm_params_carve(const struct pml_lstm_config *cfg, float *mem,
			   struct pml_lstm_params *p);

/* A model with owned, zeroed parameters. NULL on a bad config or allocation failure. */
struct pml_lstm *pml_lstm_new(const struct pml_lstm_config *cfg);
/* A model over borrowed weights (pml_lstm_param_count() floats, e.g. an mmap'd file) for
 * inference; they must outlive the model. Training such a model is refused (-EPERM). */
struct pml_lstm *pml_lstm_new_borrowed(const struct pml_lstm_config *cfg,
				       const float *weights);
void pml_lstm_free(struct pml_lstm *m);

/* Initialise the weights from a seed: uniform(+-1/sqrt(H)) like torch for the LSTM and the
 * head, N(0, 1) * 0.1 for the embedding, forget-gate bias +1 (remember by default), head
 * bias -2 (needs are rare: start near p = 0.12). Deterministic given seed. */
void pml_lstm_init_params(struct pml_lstm *m, uint64_t seed);

/* Forward over tokens [B, T] (each clamped to [0, V) by mapping out-of-range to 0).
 * targets, mask [B, T, M] may be NULL (no loss). Activations are kept for backward;
 * tokens/targets/mask must stay valid until pml_lstm_backward(). Probabilities are in
 * m->probs [B, T, M]. On success *ret_loss (may be NULL) is the mean BCE over the mask
 * weight (0 when there are no targets). The window starts from the state in h0/c0
 * (see pml_lstm_carry_state()); a forward with another B or T than the last one starts
 * from zeros. Returns 0, -ENOMEM, -EINVAL. */
int pml_lstm_forward(struct pml_lstm *m, const int32_t *tokens, const float *targets,
		     const float *mask, int B, int T, double *ret_loss);
/* Threads for training forward/backward (pthreads over batch rows and weight rows; the
 * results do not depend on the count). 1 by default; n <= 0 means 1. */
void pml_lstm_set_threads(struct pml_lstm *m, int n);
/* Zero the parameter gradients. */
void pml_lstm_zero_grad(struct pml_lstm *m);
/* Backward of the last forward (which had targets); accumulates into the gradients.
 * Returns 0, -EINVAL (no forward with targets before), -EPERM (borrowed weights),
 * -ENOMEM. */
int pml_lstm_backward(struct pml_lstm *m);
/* Scale the gradients so their global L2 norm is at most max_norm (<= 0: no clipping).
 * Returns the norm before clipping. */
double pml_lstm_clip_grad(struct pml_lstm *m, double max_norm);
/* One AdamW step with bias correction (weight_decay 0: plain Adam). 0, -ENOMEM, -EPERM. */
int pml_lstm_adam_update(struct pml_lstm *m, float lr, float beta1, float beta2, float eps,
			 float weight_decay);
/* Truncated BPTT across windows: make the last window's final state the next window's
 * initial state (gradients do not flow back across). reset zeros it. */
void pml_lstm_carry_state(struct pml_lstm *m);
void pml_lstm_reset_state(struct pml_lstm *m);
/* Zero the entering state of batch row b only (its sequence ended: the next window of that
 * row starts a new one). No-op before the first forward or for b out of range. */
void pml_lstm_reset_row(struct pml_lstm *m, int b);

/* ---- streaming inference --------------------------------------------------------------- */

/* One event stream's state: (h, c) per layer and scratch. Many streams may share one model
 * (the model is only read). */
struct pml_lstm_stream {
	const struct pml_lstm *model;
	float *mem;
	/* per layer (h, c), the gates, the head, an embedding row, the biases: each padded to
	 * a multiple of 4 floats, the gates laid [4][round4(H)] (lstm-stream.c) */
	float *h[PML_LSTM_MAX_LAYERS], *c[PML_LSTM_MAX_LAYERS];
	float *gates, *head, *x;
	float *b[PML_LSTM_MAX_LAYERS], *bout;
	/* the weights re-laid padded, in blocks of rows (lstm-stream.c; one allocation, wT) */
	float *wT;
	float *wihT[PML_LSTM_MAX_LAYERS], *whhT[PML_LSTM_MAX_LAYERS], *woutT;
	/* optional table emb . wih0^T + b0 [V, 4 round4(H)], owned by the stream; row v is
	 * made at token v's first step (xdone: a bit per token) */
	float *xproj;
	uint8_t *xdone;
	/* pml_lstm_stream_quantize: the matrices that multiply a hidden state (every layer's
	 * recurrent one, the input one of layers above the first, the head) as int16 rows
	 * (q, one allocation; each row padded to round8 columns) with a scale per row, and
	 * the hidden state quantized once per use (hq); NULL: the float matrices above */
	int16_t *q;
	int16_t *whhQ[PML_LSTM_MAX_LAYERS], *wihQ[PML_LSTM_MAX_LAYERS], *woutQ, *hq;
	float *qscale;
	float *whhS[PML_LSTM_MAX_LAYERS], *wihS[PML_LSTM_MAX_LAYERS], *woutS;
};

/* A stream at the zero state. It keeps padded copies of the matrices and biases (so
 * training the model further does not reach a stream made before), but without precompute
 * still reads the embedding: the model must outlive the stream. With precompute, the
 * embedding and layer 0's input projection are folded into one [V, 4H] table (V*4H
 * floats, saves E*4H multiply-adds per event; a token's row is made at its first step,
 * so only the rows of the tokens seen are resident). NULL on allocation failure. */
struct pml_lstm_stream *pml_lstm_stream_new(const struct pml_lstm *model, bool precompute);
void pml_lstm_stream_free(struct pml_lstm_stream *s);
/* Multiply hidden states in 16-bit integers from now on (lstm-stream.c, "The int16
 * step"): under QEMU's TCG a float multiply-add is a call into its softfloat helpers and
 * an integer one is not. A probability moves by some 1e-5, one under 1.2e-4 reads 0. 0 or
 * -ENOMEM (the stream is then as it was). The predictor (predictor.h) does it. */
int pml_lstm_stream_quantize(struct pml_lstm_stream *s);
void pml_lstm_stream_reset(struct pml_lstm_stream *s);
/* Feed one token (out-of-range -> 0); write the M probabilities into probs. */
void pml_lstm_stream_step(struct pml_lstm_stream *s, int32_t token, float *probs);

/* xorshift64* generator, the only randomness in the model code. */
struct pml_rng {
	uint64_t s;
};
void pml_rng_seed(struct pml_rng *r, uint64_t seed);
uint64_t pml_rng_next(struct pml_rng *r);
/* uniform in [0, 1) */
float pml_rng_uniform(struct pml_rng *r);
/* standard normal (Box-Muller) */
float pml_rng_normal(struct pml_rng *r);

#endif
