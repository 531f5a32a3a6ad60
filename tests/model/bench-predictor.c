/* Predictor cost per event (streaming inference), the number DESIGN.md's "overhead" asks
 * for: feeds a fixed pseudo-random token stream through each predictor behind the
 * predictor interface and prints ns/event (best of 5 runs). Not a test: timing depends on
 * the machine; run tests/model/bench.sh.
 *   bench-predictor [EVENTS]   (default 200000) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/predictor.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench(const char *label, struct pml_predictor *p, const int32_t *tok, int n)
{
	float *probs = malloc(sizeof(float) * p->n_modules);
	double best = 1e9, sink = 0;

	for (int run = 0; run < 5; run++) {
		double t0 = now();

		pml_predictor_reset(p);
		for (int i = 0; i < n; i++) {
			pml_predictor_observe(p, tok[i], probs);
			sink += probs[i % p->n_modules];
		}
		if (now() - t0 < best)
			best = now() - t0;
	}
	printf("%-44s %8.1f ns/event  (checksum %.3f)\n", label, best / n * 1e9, sink);
	free(probs);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	int32_t *tok = malloc(sizeof(int32_t) * n);
	struct pml_rng rng;
	char label[128];

	pml_rng_seed(&rng, 1);
	for (int i = 0; i < n; i++)
		tok[i] = (int32_t)(pml_rng_next(&rng) % 512);
	for (int layers = 1; layers <= 2; layers++) {
		struct pml_lstm_config cfg = {.vocab = 512, .embed = 32, .hidden = 64,
					      .layers = layers, .modules = 128};
		struct pml_lstm *m = pml_lstm_new(&cfg);
		struct pml_predictor *p;
		struct pml_lstm_stream *s;
		float probs[128];
		double t0, best = 1e9;

		pml_lstm_init_params(m, 1);
		p = pml_lstm_predictor_new(m, false);
		snprintf(label, sizeof(label), "lstm V512 E32 H64 L%d M128 (table)", layers);
		bench(label, p, tok, n);
		pml_predictor_free(p);
		/* without the precomputed input table, straight on the stream */
		s = pml_lstm_stream_new(m, false);
		for (int run = 0; run < 5; run++) {
			t0 = now();
			for (int i = 0; i < n; i++)
				pml_lstm_stream_step(s, tok[i], probs);
			if (now() - t0 < best)
				best = now() - t0;
		}
		printf("lstm V512 E32 H64 L%d M128 (no table)        %8.1f ns/event\n", layers,
		       best / n * 1e9);
		pml_lstm_stream_free(s);
		pml_lstm_free(m);
	}
	for (int order = 1; order <= 3; order++) {
		struct pml_markov_config cfg = {.vocab = 512, .modules = 128, .order = order,
						.buckets = 4096, .alpha = 2.0f};
		struct pml_markov *mk = pml_markov_new(&cfg);
		float *y = calloc((size_t)n * 128, sizeof(float));
		struct pml_predictor *p;

		for (int i = 0; i < n; i++)
			y[(size_t)i * 128 + tok[i] % 128] = 1;
		pml_markov_train(mk, tok, y, n);
		p = pml_markov_predictor_new(mk, true);
		snprintf(label, sizeof(label), "markov V512 M128 order %d", order);
		bench(label, p, tok, n);
		pml_predictor_free(p);
		free(y);
	}
	free(tok);
	return 0;
}
