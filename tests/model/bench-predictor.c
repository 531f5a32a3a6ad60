/* Predictor cost per event (streaming inference), the number DESIGN.md's "overhead" asks
 * for: feeds a fixed pseudo-random token stream through each predictor behind the
 * predictor interface and prints CPU ns/event (best of 5 runs). Not a test: timing depends on
 * the machine; run tests/model/bench.sh.
 *   bench-predictor [EVENTS]   (default 200000) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/predictor.h"

/* CPU time of this thread: on a shared machine the wall clock also counts the other
 * processes' turns; the best of 5 runs then removes most cache disturbance. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double bench(const char *label, struct pml_predictor *p, const int32_t *tok, int n)
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
	return best / n * 1e9;
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
	static const struct {
		int E, H, L;
	} sizes[] = {{32, 64, 1}, {32, 64, 2}, {32, 48, 1}, {16, 32, 1}};
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct pml_lstm_config cfg = {.vocab = 512, .embed = sizes[z].E,
					      .hidden = sizes[z].H, .layers = sizes[z].L,
					      .modules = 128};
		const int H = cfg.hidden, L = cfg.layers;
		/* multiply-adds per event with the input table: whh per layer, wih above
		 * layer 0, the head */
		double macs = L * 4.0 * H * H + (L - 1) * 4.0 * H * H + 128.0 * H;
		struct pml_lstm *m = pml_lstm_new(&cfg);
		struct pml_predictor *p;
		double ns;

		pml_lstm_init_params(m, 1);
		p = pml_lstm_predictor_new(m, false);
		snprintf(label, sizeof(label), "lstm V512 E%d H%d L%d M128", cfg.embed, H, L);
		ns = bench(label, p, tok, n);
		printf("%-44s %8.0f MACs/event, %.1f GMAC/s\n", "", macs, macs / ns);
		pml_predictor_free(p);
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
