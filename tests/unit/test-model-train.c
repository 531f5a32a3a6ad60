/* The LSTM's third test layer: a fixed-seed loss curve on a tiny synthetic sequence task
 * that needs memory. Tokens 0..11 are noise; token 12+m "announces" module m, which is then
 * needed exactly 3 events later (label y[t][m] = 1 iff tok[t-3] == 12+m). Trained with
 * truncated BPTT over windows (state carried, gradient cut), Adam and clipping; the loss
 * must fall below a threshold and the streaming predictor must then be right on a fresh
 * stream. Bounded to about half a second: 2000 steps of a 24-wide model. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm.h"
#include "unit.h"

enum { V = 16, M = 4, LAG = 3, NOISE = 12 };

/* A stream of n tokens and its labels [n, M]. */
static void make_stream(struct pml_rng *rng, int n, int32_t *tok, float *y)
{
	for (int t = 0; t < n; t++) {
		tok[t] = pml_rng_uniform(rng) < 0.2f ? NOISE + (int32_t)(pml_rng_next(rng) % M)
						     : (int32_t)(pml_rng_next(rng) % NOISE);
		for (int m = 0; m < M; m++)
			y[t * M + m] = t >= LAG && tok[t - LAG] == NOISE + m;
	}
}

int main(void)
{
	const struct pml_lstm_config cfg = {.vocab = V, .embed = 8, .hidden = 24, .layers = 1,
					    .modules = M};
	enum { B = 8, T = 16, WINDOWS = 8, FULL_STEPS = 2000, TEST = 2000 };
	/* under valgrind (make check-valgrind) the point is memory errors, not convergence:
	 * a short run, its thresholds not checked */
	const bool quick = getenv("VALGRIND") && strcmp(getenv("VALGRIND"), "0");
	const int STEPS = quick ? 48 : FULL_STEPS;
	const int len = T * WINDOWS;
	int32_t *stream = malloc(sizeof(int32_t) * B * len), *tok = malloc(sizeof(int32_t) * B * T);
	float *ys = malloc(sizeof(float) * B * len * M), *y = malloc(sizeof(float) * B * T * M);
	int32_t *ttok = malloc(sizeof(int32_t) * TEST);
	float *ty = malloc(sizeof(float) * TEST * M), probs[M];
	struct pml_lstm *m = pml_lstm_new(&cfg);
	struct pml_lstm_stream *s;
	struct pml_rng rng;
	double loss = 0, first = 0, curve[FULL_STEPS];
	int wrong = 0, pos = 0, found = 0;

	pml_lstm_init_params(m, 1234);
	pml_rng_seed(&rng, 1);
	for (int step = 0; step < STEPS; step++) {
		int w = step % WINDOWS;

		if (w == 0) { /* a fresh stream per row every WINDOWS steps */
			for (int b = 0; b < B; b++)
				make_stream(&rng, len, stream + b * len, ys + (size_t)b * len * M);
			pml_lstm_reset_state(m);
		}
		for (int b = 0; b < B; b++) {
			memcpy(tok + b * T, stream + b * len + w * T, sizeof(int32_t) * T);
			memcpy(y + b * T * M, ys + ((size_t)b * len + w * T) * M,
			       sizeof(float) * T * M);
		}
		CHECK(pml_lstm_forward(m, tok, y, NULL, B, T, &loss) == 0);
		pml_lstm_zero_grad(m);
		CHECK(pml_lstm_backward(m) == 0);
		pml_lstm_clip_grad(m, 1.0);
		CHECK(pml_lstm_adam_update(m, 2e-2f * (1.0f - 0.9f * step / STEPS), 0.9f, 0.999f,
					   1e-8f, 0.0f) == 0);
		pml_lstm_carry_state(m);
		if (!step)
			first = loss;
		curve[step] = loss;
	}
	printf("loss curve:");
	for (int i = 0; i < STEPS; i += STEPS / 12)
		printf(" %.4f", curve[i]);
	printf(" ... %.4f\n", loss);
	CHECK(first > 0.15);
	CHECK(quick || loss < 0.01);

	/* a fresh stream through the streaming predictor */
	make_stream(&rng, TEST, ttok, ty);
	s = pml_lstm_stream_new(m, true);
	for (int t = 0; t < TEST; t++) {
		pml_lstm_stream_step(s, ttok[t], probs);
		/* the prediction at t is for y[t] (the need announced LAG events before) */
		for (int k = 0; k < M; k++) {
			int want = ty[t * M + k] > 0.5f, got = probs[k] > 0.5f;

			wrong += want != got;
			pos += want;
			found += want && got;
		}
	}
	printf("fresh stream: %d of %d labels wrong, %d of %d needs predicted\n", wrong,
	       TEST * M, found, pos);
	if (quick)
		printf("valgrind: %d steps only, convergence not checked\n", STEPS);
	CHECK(quick || wrong <= TEST * M / 200);
	CHECK(quick || found >= pos * 99 / 100);
	pml_lstm_stream_free(s);
	pml_lstm_free(m);
	free(stream);
	free(tok);
	free(ys);
	free(y);
	free(ttok);
	free(ty);
	return unit_done("model-train");
}
