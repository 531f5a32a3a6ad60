/* The predictor interface and the n-gram baseline: the n-gram estimate on streams whose
 * needs follow one token (order 1) or a pair of tokens (order 2), saved and reopened
 * through a model file as a generic predictor, and the LSTM behind the same interface. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/predictor.h"
#include "unit.h"

enum { V = 8, M = 2, N = 4000 };

static const char *vocab[V] = {"<oov>", "a", "b", "c", "d", "e", "f", "g"};
static const char *modules[M] = {"sctp", "tun"};

/* module 0 is needed right after token 1; module 1 right after the pair (2, 3) */
static void make_stream(struct pml_rng *rng, int32_t *tok, float *y)
{
	for (int t = 0; t < N; t++) {
		tok[t] = 1 + (int32_t)(pml_rng_next(rng) % (V - 1));
		y[t * M] = tok[t] == 1;
		y[t * M + 1] = t > 0 && tok[t - 1] == 2 && tok[t] == 3;
	}
}

/* Drive p over the stream; return the worst |p - y| on each module. */
static void score(struct pml_predictor *p, const int32_t *tok, const float *y, double *worst)
{
	float probs[M];

	worst[0] = worst[1] = 0;
	pml_predictor_reset(p);
	for (int t = 0; t < N; t++) {
		pml_predictor_observe(p, tok[t], probs);
		for (int m = 0; m < M; m++)
			worst[m] = fmax(worst[m], fabs(probs[m] - y[t * M + m]));
	}
}

static void test_ngram(void)
{
	struct pml_ngram_config cfg = {.vocab = V, .modules = M, .order = 1, .alpha = 2.0f};
	int32_t *tok = malloc(sizeof(int32_t) * N);
	float *y = malloc(sizeof(float) * N * M);
	struct pml_rng rng;
	struct pml_ngram *m1, *m2;
	struct pml_predictor *p, *q = NULL;
	double worst[M], again[M];
	char dir[] = "/tmp/pml-test-ngram-XXXXXX", path[128];
	const struct pml_model_meta meta = {.kernel_release = "6.1.0-56-amd64", .vocab = vocab,
					    .modules = modules, .horizon_events = 1};

	pml_rng_seed(&rng, 3);
	make_stream(&rng, tok, y);
	m1 = pml_ngram_new(&cfg);
	cfg.order = 2;
	cfg.buckets = 1024;
	m2 = pml_ngram_new(&cfg);
	CHECK(m1 && m2);
	CHECK(pml_ngram_train(m1, tok, y, N) == 0);
	CHECK(pml_ngram_train(m2, tok, y, N) == 0);
	make_stream(&rng, tok, y); /* judge on a fresh stream */

	p = pml_ngram_predictor_new(m1, false);
	CHECK_STR(p->ops->name, "markov");
	score(p, tok, y, worst);
	printf("ngram order 1: worst error module0 %.3f, module1 %.3f\n", worst[0], worst[1]);
	CHECK(worst[0] < 0.01);	      /* one token tells */
	CHECK(worst[1] > 0.5);	      /* a pair is beyond order 1 */
	pml_predictor_free(p);

	p = pml_ngram_predictor_new(m2, true);
	score(p, tok, y, worst);
	printf("ngram order 2: worst error module0 %.3f, module1 %.3f\n", worst[0], worst[1]);
	CHECK(worst[0] < 0.02 && worst[1] < 0.02);

	/* save, reopen through the generic opener: same predictions, names from the file */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ngram.pml", dir);
	CHECK(pml_ngram_save(m2, path, &meta) == 0);
	CHECK(pml_predictor_open(path, "6.1.0-56-amd64", 0, &q) == 0);
	if (q) {
		CHECK_STR(q->ops->name, "markov");
		CHECK(q->n_modules == M && q->n_tokens == V && q->horizon_events == 1);
		CHECK_STR(q->modules[1], "tun");
		CHECK_STR(q->vocab[3], "c");
		score(q, tok, y, again);
		CHECK(again[0] == worst[0] && again[1] == worst[1]);
		/* out-of-range tokens read as 0 and do not crash */
		{
			float probs[M];

			pml_predictor_observe(q, -1, probs);
			pml_predictor_observe(q, 1000, probs);
			CHECK(probs[0] >= 0 && probs[0] <= 1);
		}
	}
	pml_predictor_free(q);
	CHECK(pml_predictor_open(path, "6.6.1", 0, &q) == -EXDEV);
	pml_predictor_free(p);
	pml_ngram_free(m1);
	unlink(path);
	rmdir(dir);
	free(tok);
	free(y);

	cfg.order = 4;
	CHECK(pml_ngram_new(&cfg) == NULL);
	cfg.order = 2;
	cfg.buckets = 0;
	CHECK(pml_ngram_new(&cfg) == NULL);
}

static void test_lstm_predictor(void)
{
	const struct pml_lstm_config cfg = {.vocab = V, .embed = 4, .hidden = 8, .layers = 2,
					    .modules = M};
	struct pml_lstm *m = pml_lstm_new(&cfg);
	struct pml_predictor *p, *q = NULL;
	int32_t tok[5] = {1, 2, 3, 4, 5};
	float a[M], b[M];
	char dir[] = "/tmp/pml-test-lstmp-XXXXXX", path[128];
	const struct pml_model_meta meta = {.kernel_release = "6.1.0-56-amd64", .vocab = vocab,
					    .modules = modules};
	int same = 1;

	pml_lstm_init_params(m, 8);
	p = pml_lstm_predictor_new(m, false);
	CHECK_STR(p->ops->name, "lstm");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/lstm.pml", dir);
	CHECK(pml_lstm_save(m, path, &meta) == 0);
	CHECK(pml_predictor_open(path, "6.1.0-56-amd64", 0, &q) == 0);
	for (int round = 0; q && round < 2; round++) {
		for (int t = 0; t < 5; t++) {
			pml_predictor_observe(p, tok[t], a);
			pml_predictor_observe(q, tok[t], b);
			same &= !memcmp(a, b, sizeof(a));
		}
		pml_predictor_reset(p);
		pml_predictor_reset(q);
	}
	CHECK(q && same);
	pml_predictor_free(p);
	pml_predictor_free(q);
	pml_lstm_free(m);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_ngram();
	test_lstm_predictor();
	return unit_done("model-predictor");
}
