/* The LSTM's first test layer: every parameter tensor's analytic gradient against central
 * finite differences on a small two-layer model (nonzero initial state, a partial mask),
 * plus the properties the trainer relies on: backward accumulates, the streaming step
 * agrees with the windowed forward, a seed names one model, Adam and clipping behave. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm.h"
#include "unit.h"

static const char *tensor_name[PML_LSTM_NTENSORS] = {
	"emb", "wih0", "whh0", "b0", "wih1", "whh1", "b1", "wout", "bout",
};

static double loss_of(struct pml_lstm *m, const int32_t *tok, const float *y, const float *mask,
		      int B, int T)
{
	double loss = 0;

	CHECK(pml_lstm_forward(m, tok, y, mask, B, T, &loss) == 0);
	return loss;
}

static void test_gradcheck(int layers)
{
	const struct pml_lstm_config cfg = {.vocab = 7, .embed = 4, .hidden = 5,
					    .layers = layers, .modules = 3};
	enum { B = 2, T = 4 };
	int32_t tok[B * T];
	float y[B * T * 3], mask[B * T * 3], *grads;
	struct pml_lstm *m = pml_lstm_new(&cfg);
	struct pml_rng rng;
	size_t off = 0;
	double loss;

	CHECK(m != NULL);
	if (!m)
		return;
	pml_lstm_init_params(m, 42);
	pml_rng_seed(&rng, 7);
	/* token 9 is out of range: it must read (and learn) as token 0 */
	for (int i = 0; i < B * T; i++)
		tok[i] = i == 3 ? 9 : (int32_t)(pml_rng_next(&rng) % cfg.vocab);
	for (int i = 0; i < B * T * 3; i++) {
		y[i] = pml_rng_uniform(&rng) < 0.4f;
		mask[i] = i % 5 == 2 ? 0.0f : 1.0f;
	}
	/* a nonzero entering state exercises h0/c0 in forward and backward */
	CHECK(pml_lstm_forward(m, tok, y, mask, B, T, &loss) == 0);
	for (int i = 0; i < layers * B * cfg.hidden; i++) {
		m->h0[i] = 0.5f * (pml_rng_uniform(&rng) - 0.5f);
		m->c0[i] = pml_rng_uniform(&rng) - 0.5f;
	}
	CHECK(pml_lstm_forward(m, tok, y, mask, B, T, &loss) == 0);
	CHECK(loss > 0.1 && loss < 5);
	pml_lstm_zero_grad(m);
	CHECK(pml_lstm_backward(m) == 0);
	grads = malloc(m->nparams * sizeof(float));
	memcpy(grads, m->grads_mem, m->nparams * sizeof(float));

	for (int t = 0; t < PML_LSTM_NTENSORS; t++) {
		double max_abs = 0, max_rel = 0;
		int bad = 0;

		for (size_t i = 0; i < m->tensor_size[t]; i++) {
			float *p = m->params_mem + off + i, saved = *p;
			const float eps = 1e-2f;
			double lp, lm, num, ana = grads[off + i], err;

			*p = saved + eps;
			lp = loss_of(m, tok, y, mask, B, T);
			*p = saved - eps;
			lm = loss_of(m, tok, y, mask, B, T);
			*p = saved;
			num = (lp - lm) / (2.0 * eps);
			err = fabs(num - ana);
			if (err > max_abs)
				max_abs = err;
			if (err / fmax(fabs(num) + fabs(ana), 1e-3) > max_rel)
				max_rel = err / fmax(fabs(num) + fabs(ana), 1e-3);
			if (err > 2e-4 + 2e-2 * fmax(fabs(num), fabs(ana)))
				bad++;
		}
		if (m->tensor_size[t])
			printf("gradcheck L=%d %-5s n=%-3zu max |ana-num| %.2e, max rel %.2e\n",
			       layers, tensor_name[t], m->tensor_size[t], max_abs, max_rel);
		CHECK(bad == 0);
		off += m->tensor_size[t];
	}
	/* row 0 of emb learns from the out-of-range token; row 6 from none of this input */
	CHECK(grads[0] != 0.0f || grads[1] != 0.0f);

	/* backward accumulates: a second pass doubles every gradient */
	CHECK(pml_lstm_forward(m, tok, y, mask, B, T, &loss) == 0);
	CHECK(pml_lstm_backward(m) == 0);
	{
		int same = 1;

		for (size_t i = 0; i < m->nparams; i++)
			if (fabsf(m->grads_mem[i] - 2 * grads[i]) > 1e-6f * (1 + fabsf(grads[i])))
				same = 0;
		CHECK(same);
	}
	free(grads);
	pml_lstm_free(m);
}

/* The largest difference between s's probabilities and the windowed forward's (m->probs,
 * of tok[0..n)), over two rounds of the stream (reset between). */
static double stream_max_diff(const struct pml_lstm *m, struct pml_lstm_stream *s,
			      const int32_t *tok, int n)
{
	const int M = m->cfg.modules;
	float *probs = malloc(sizeof(float) * (size_t)M);
	double maxd = 0;

	CHECK(probs != NULL);
	for (int round = 0; round < 2 && probs; round++) {
		for (int t = 0; t < n; t++) {
			pml_lstm_stream_step(s, tok[t], probs);
			for (int k = 0; k < M; k++)
				maxd = fmax(maxd, fabs(probs[k] - m->probs[t * M + k]));
		}
		pml_lstm_stream_reset(s);
	}
	free(probs);
	return maxd;
}

/* The streaming step must give what the windowed forward gives, event by event. */
static void test_stream_matches_forward(bool precompute)
{
	const struct pml_lstm_config cfg = {.vocab = 20, .embed = 6, .hidden = 13, .layers = 2,
					    .modules = 11};
	enum { T = 9 };
	int32_t tok[T];
	struct pml_lstm *m = pml_lstm_new(&cfg);
	struct pml_lstm_stream *s;
	double maxd = 0;

	pml_lstm_init_params(m, 3);
	for (int t = 0; t < T; t++)
		tok[t] = (t * 7 + 1) % 23; /* includes out-of-range ids */
	CHECK(pml_lstm_forward(m, tok, NULL, NULL, 1, T, NULL) == 0);
	s = pml_lstm_stream_new(m, precompute);
	CHECK(s != NULL);
	maxd = stream_max_diff(m, s, tok, T);
	printf("stream vs forward (precompute %d): max diff %.2e\n", precompute, maxd);
	CHECK(maxd < 1e-5);
	pml_lstm_stream_free(s);

	/* a model over borrowed weights predicts the same and refuses training */
	{
		struct pml_lstm *b = pml_lstm_new_borrowed(&cfg, m->params_mem);
		double loss;
		float y[T * 11] = {0};

		CHECK(b != NULL);
		CHECK(pml_lstm_forward(b, tok, y, NULL, 1, T, &loss) == 0);
		CHECK(!memcmp(b->probs, m->probs, sizeof(float) * T * 11));
		CHECK(pml_lstm_backward(b) == -EPERM);
		CHECK(pml_lstm_adam_update(b, 1e-3f, 0.9f, 0.999f, 1e-8f, 0) == -EPERM);
		pml_lstm_free(b);
	}
	pml_lstm_free(m);
}

/* The int16 step (pml_lstm_stream_quantize) against the windowed float forward: within a
 * few thousandths of a probability, for a small odd-sized model of two layers and for the
 * shipped size with every hidden weight at its row's largest and a saturated state (the
 * worst case of the int32 sums: an overflow would be off by far more than that). */
static void test_stream_quantized(int hidden, int layers, float whh, bool precompute)
{
	const struct pml_lstm_config cfg = {.vocab = 20, .embed = 6, .hidden = hidden,
					    .layers = layers, .modules = 11};
	enum { T = 12 };
	int32_t tok[T];
	struct pml_lstm *m = pml_lstm_new(&cfg);
	struct pml_lstm_stream *s;
	double maxd = 0;

	CHECK(m != NULL);
	if (!m)
		return;
	pml_lstm_init_params(m, 5);
	for (int l = 0; l < layers && whh != 0; l++) {
		for (int i = 0; i < 4 * hidden * hidden; i++)
			m->params.whh[l][i] = i % 3 ? whh : -whh;
		for (int i = 0; i < 4 * hidden; i++)
			m->params.b[l][i] = 4; /* gates open: h near +-1 */
	}
	for (int t = 0; t < T; t++)
		tok[t] = (t * 5 + 2) % 20;
	CHECK(pml_lstm_forward(m, tok, NULL, NULL, 1, T, NULL) == 0);
	s = pml_lstm_stream_new(m, precompute);
	CHECK(s != NULL && pml_lstm_stream_quantize(s) == 0);
	CHECK(s && s->q != NULL);
	if (s)
		maxd = stream_max_diff(m, s, tok, T);
	printf("int16 stream vs forward (H %d, L %d, whh %g): max diff %.2e\n", hidden, layers,
	       whh, maxd);
	CHECK(maxd < 5e-3);
	pml_lstm_stream_free(s);
	pml_lstm_free(m);
}

/* The vectorised sigmoid/tanh against libm over a wide range. */
static void test_activations(void)
{
	enum { N = 2001 };
	static float x0[N], xs[N], ys[N];
	double maxs = 0, maxt = 0;

	for (int i = 0; i < N; i++)
		x0[i] = xs[i] = ys[i] = -100.0f + 0.1f * i;
	pml_sigmoid_inplace(xs, N);
	pml_tanh_inplace(ys, N);
	for (int i = 0; i < N; i++) {
		double x = x0[i];

		maxs = fmax(maxs, fabs(xs[i] - 1.0 / (1.0 + exp(-x))));
		maxt = fmax(maxt, fabs(ys[i] - tanh(x)));
	}
	printf("activations vs libm: sigmoid %.2e, tanh %.2e\n", maxs, maxt);
	CHECK(maxs < 2e-7);
	CHECK(maxt < 4e-7);
}

/* Same seed, same data -> bit-identical weights after training; clipping bounds the norm. */
static void train_steps(struct pml_lstm *m, uint64_t seed, int threads)
{
	enum { B = 3, T = 5 };
	int32_t tok[B * T];
	float y[B * T * 4];
	struct pml_rng rng;

	pml_lstm_set_threads(m, threads);
	pml_lstm_init_params(m, seed);
	pml_rng_seed(&rng, 99);
	for (int i = 0; i < B * T; i++)
		tok[i] = (int32_t)(pml_rng_next(&rng) % 10);
	for (int i = 0; i < B * T * 4; i++)
		y[i] = pml_rng_uniform(&rng) < 0.3f;
	for (int step = 0; step < 4; step++) {
		CHECK(pml_lstm_forward(m, tok, y, NULL, B, T, NULL) == 0);
		pml_lstm_zero_grad(m);
		CHECK(pml_lstm_backward(m) == 0);
		pml_lstm_clip_grad(m, 0.5);
		CHECK(pml_lstm_clip_grad(m, 0) <= 0.5 + 1e-5);
		CHECK(pml_lstm_adam_update(m, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f) == 0);
		pml_lstm_carry_state(m);
	}
}

static void test_determinism(void)
{
	const struct pml_lstm_config cfg = {.vocab = 10, .embed = 3, .hidden = 6, .layers = 2,
					    .modules = 4};
	struct pml_lstm *a = pml_lstm_new(&cfg), *b = pml_lstm_new(&cfg), *c = pml_lstm_new(&cfg);
	struct pml_lstm *d = pml_lstm_new(&cfg);

	train_steps(a, 5, 1);
	train_steps(b, 5, 1);
	train_steps(c, 6, 1);
	/* threads split rows, never a sum: the same bits for any thread count */
	train_steps(d, 5, 3);
	CHECK(!memcmp(a->params_mem, b->params_mem, a->nparams * sizeof(float)));
	CHECK(memcmp(a->params_mem, c->params_mem, a->nparams * sizeof(float)) != 0);
	CHECK(!memcmp(a->params_mem, d->params_mem, a->nparams * sizeof(float)));
	CHECK(a->adam_t == 4);
	pml_lstm_free(a);
	pml_lstm_free(b);
	pml_lstm_free(c);
	pml_lstm_free(d);
}

static void test_config(void)
{
	struct pml_lstm_config cfg = {.vocab = 512, .embed = 32, .hidden = 64, .layers = 1,
				      .modules = 128};
	size_t s[PML_LSTM_NTENSORS];

	CHECK(pml_lstm_param_count(&cfg, s) ==
	      512 * 32 + 256 * 32 + 256 * 64 + 256 + 128 * 64 + 128);
	CHECK(s[PML_LSTM_T_WIH1] == 0);
	cfg.layers = 3;
	CHECK(pml_lstm_param_count(&cfg, NULL) == 0);
	CHECK(pml_lstm_new(&cfg) == NULL);
	cfg.layers = 1;
	cfg.hidden = 0;
	CHECK(pml_lstm_param_count(&cfg, NULL) == 0);
	cfg.hidden = 64;
	cfg.vocab = 1 << 30;
	CHECK(pml_lstm_param_count(&cfg, NULL) == 0);
}

int main(void)
{
	test_config();
	test_activations();
	test_gradcheck(1);
	test_gradcheck(2);
	test_stream_matches_forward(false);
	test_stream_matches_forward(true);
	test_stream_quantized(13, 2, 0, false);
	test_stream_quantized(13, 2, 0, true);
	test_stream_quantized(64, 1, 2.0f, true);
	test_stream_quantized(64, 2, 2.0f, false);
	test_determinism();
	return unit_done("model-lstm");
}
