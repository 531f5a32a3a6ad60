/* The LSTM trainer on a real trace (tests/fixtures/trace/guest-acceptance.bin, three
 * copies to train on, one to validate): the validation loss must drop well below the
 * untrained model's; two runs with one seed give the same weights; a run interrupted
 * after two epochs and resumed from its checkpoint ends where the straight run does; the
 * model file keeps what the trainer knew (vocabulary, modules, horizon, features version,
 * epoch, loss, threshold) and refuses another kernel series. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/train.h"
#include "unit.h"

static char trace[1024];
static const bool *quick_p;

static struct pml_corpus *build(void)
{
	struct pml_corpus_src src[4];
	struct pml_corpus_opts o = {.min_docs = 1};
	struct pml_corpus *c = NULL;

	for (int i = 0; i < 4; i++)
		src[i] = (struct pml_corpus_src){.trace = trace, .split = i < 3 ? PML_SPLIT_TRAIN
										 : PML_SPLIT_VAL};
	CHECK(pml_corpus_build(src, 4, &o, &c) == 0);
	return c;
}

static struct pml_lstm *new_model(const struct pml_corpus *c)
{
	struct pml_lstm_config cfg = {.vocab = (int)pml_vocab_size(c->vocab), .embed = 8,
				      .hidden = 16, .layers = 1, .modules = c->n_modules};
	struct pml_lstm *m = pml_lstm_new(&cfg);

	pml_lstm_init_params(m, 7);
	return m;
}

static double val_loss(const struct pml_corpus *c, struct pml_lstm *m, struct pml_eval *ev)
{
	struct pml_predictor *p = pml_lstm_predictor_new(m, false);

	CHECK(pml_eval_predictor(c, PML_SPLIT_VAL, p, 0.5f, 1.0f, ev) == 0);
	pml_predictor_free(p);
	return ev->loss;
}

/* The weights at the end of epoch `at` (what a checkpoint then holds); with stop, the
 * run is interrupted there after writing a checkpoint to ckpt. */
struct snap {
	int at;
	float *w;
	bool stop;
	const char *ckpt;
	struct pml_model_meta *meta;
};

static int snap_progress(void *ctx, const struct pml_train_progress *pr,
			 const struct pml_lstm *model)
{
	struct snap *s = ctx;

	if (!pr->epoch_done || pr->epoch != s->at)
		return 0;
	s->w = malloc(sizeof(float) * model->nparams);
	memcpy(s->w, model->params_mem, sizeof(float) * model->nparams);
	if (s->ckpt) {
		s->meta->epoch = (uint32_t)pr->epoch + 1;
		CHECK(pml_lstm_save_checkpoint(model, s->ckpt, s->meta) == 0);
	}
	return s->stop;
}

static void test_train(void)
{
	struct pml_corpus *c = build();
	struct pml_lstm *m, *m2;
	struct pml_train_opts o = {.batch = 4, .window = 32, .epochs = *quick_p ? 2 : 12,
				   .patience = 50, .lr = 2e-2f, .seed = 3, .select_loss = true};
	struct pml_train_result res;
	struct pml_eval ev = {0};
	double before, after;

	if (!c)
		return;
	m = new_model(c);
	before = val_loss(c, m, &ev);
	CHECK(pml_train_lstm(c, m, &o, &res) == 0);
	after = val_loss(c, m, &ev);
	printf("tiny lstm: val loss %.4f -> %.4f in %d epochs (best %d), %.2f s; recall %.2f, "
	       "precision %.2f\n",
	       before, after, res.epochs_run, res.best_epoch + 1, res.seconds, ev.recall,
	       ev.precision);
	CHECK(res.epochs_run == o.epochs);
	CHECK(fabs(res.best_loss - after) < 1e-6 && fabs(res.best_val - after) < 1e-6);
	CHECK(*quick_p || after < 0.5 * before);
	CHECK(res.tokens == (uint64_t)o.epochs * 3 * c->runs[0].n_tok);

	/* the same seed, the same model */
	m2 = new_model(c);
	o.threads = 2; /* the thread count does not change results */
	CHECK(pml_train_lstm(c, m2, &o, &res) == 0);
	CHECK(!memcmp(m->params_mem, m2->params_mem, sizeof(float) * m->nparams));
	pml_lstm_free(m2);
	/* selection by F1 (the default): a threshold comes with the best epoch */
	m2 = new_model(c);
	o.select_loss = false;
	o.threads = 1;
	CHECK(pml_train_lstm(c, m2, &o, &res) == 0);
	CHECK(res.best_threshold >= 0.1f && res.best_threshold <= 0.9f);
	CHECK(res.best_val >= 0 && res.best_val < 0.5);
	pml_lstm_free(m2);
	pml_lstm_free(m);
	pml_corpus_free(c);
}

static void test_resume(void)
{
	struct pml_corpus *c = build();
	struct pml_train_opts o = {.batch = 4, .window = 32, .epochs = 4, .patience = 50,
				   .lr = 1e-2f, .seed = 5, .progress = snap_progress};
	char path[] = "/tmp/pml-test-ckpt-XXXXXX";
	struct snap straight = {.at = 3}, first = {.at = 1, .stop = true, .ckpt = path},
		    second = {.at = 3};
	struct pml_model_meta meta;
	struct pml_model_file *mf = NULL;
	struct pml_train_result res;
	struct pml_lstm *m, *r = NULL;
	const char **vocab = NULL;
	int fd;

	if (!c)
		return;
	fd = mkstemp(path);
	close(fd);
	CHECK(pml_corpus_meta(c, NULL, &meta, &vocab) == 0);
	first.meta = &meta;
	/* straight through */
	m = new_model(c);
	o.ctx = &straight;
	CHECK(pml_train_lstm(c, m, &o, &res) == 0);
	CHECK(res.epochs_run == 4);
	pml_lstm_free(m);
	/* interrupted after two epochs ... */
	m = new_model(c);
	o.ctx = &first;
	CHECK(pml_train_lstm(c, m, &o, &res) == 0);
	CHECK(res.epochs_run == 2);
	pml_lstm_free(m);
	/* ... and resumed from the checkpoint */
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == 0);
	if (mf) {
		CHECK(mf->epoch == 2 && mf->features_version == PML_FEAT_VERSION);
		CHECK(pml_lstm_resume(mf, &r) == 0);
	}
	if (r) {
		o.ctx = &second;
		o.start_epoch = (int)mf->epoch;
		CHECK(pml_train_lstm(c, r, &o, &res) == 0);
		CHECK(res.epochs_run == 4);
		CHECK(straight.w && second.w &&
		      !memcmp(straight.w, second.w, sizeof(float) * r->nparams));
	}
	pml_lstm_free(r);
	pml_model_file_free(mf);
	free(vocab);
	free(first.w);
	free(straight.w);
	free(second.w);
	unlink(path);
	pml_corpus_free(c);
}

/* What the model file keeps, and the kernel series it refuses. */
static void test_model_file(void)
{
	struct pml_corpus *c = build();
	char path[] = "/tmp/pml-test-model-XXXXXX";
	struct pml_model_meta meta;
	struct pml_model_file *mf = NULL;
	struct pml_predictor *p = NULL;
	const char **vocab = NULL;
	struct pml_lstm *m;
	int fd;

	if (!c)
		return;
	fd = mkstemp(path);
	close(fd);
	m = new_model(c);
	CHECK(pml_corpus_meta(c, NULL, &meta, &vocab) == 0);
	meta.epoch = 7;
	meta.val_loss = 0.125f;
	meta.threshold = 0.4f;
	meta.train_flags = PML_MODEL_TRAIN_PRIOR;
	CHECK(pml_lstm_save(m, path, &meta) == 0);
	CHECK(pml_model_file_open(path, "6.1.0-56-amd64", 0, &mf) == 0);
	if (mf) {
		CHECK(mf->version == PML_MODEL_VERSION);
		CHECK(mf->horizon_ms == PML_CORPUS_HORIZON_MS);
		CHECK(mf->features_version == PML_FEAT_VERSION);
		CHECK(mf->epoch == 7 && mf->val_loss == 0.125f && mf->threshold == 0.4f);
		CHECK(mf->train_flags == PML_MODEL_TRAIN_PRIOR);
		CHECK(mf->n_vocab == pml_vocab_size(c->vocab) && (int)mf->n_modules == c->n_modules);
		CHECK_STR(mf->vocab[0], PML_TOK_OOV);
		CHECK_STR(mf->modules[0], c->modules[0]);
		CHECK_STR(mf->kernel_release, "6.1.0-56-amd64");
	}
	pml_model_file_free(mf);
	mf = NULL;
	/* another series is refused, another ABI number of 6.1 only warned about */
	CHECK(pml_model_file_open(path, "6.6.0-1-amd64", 0, &mf) == -EXDEV && !mf);
	CHECK(pml_predictor_open(path, "5.10.0-30-amd64", 0, &p) == -EXDEV && !p);
	CHECK(pml_predictor_open(path, "6.1.0-47-amd64", 0, &p) == 0 && p);
	if (p)
		CHECK(p->n_tokens == (int)pml_vocab_size(c->vocab) && p->horizon_ms == 2000);
	pml_predictor_free(p);
	unlink(path);
	free(vocab);
	pml_lstm_free(m);
	pml_corpus_free(c);
}

/* Thresholds are chosen on the validation runs of held-out families when there are some:
 * the judge then reads only those. */
static void test_threshold_split(void)
{
	struct pml_corpus *c = build();
	struct pml_lstm *m;
	struct pml_predictor *p;
	struct pml_eval ev = {0};

	if (!c)
		return;
	CHECK(pml_threshold_split(c) == PML_SPLIT_VAL);
	c->runs[3].heldout_family = true;
	CHECK(pml_threshold_split(c) == PML_EVAL_VAL_FAMILIES);
	m = new_model(c);
	p = pml_lstm_predictor_new(m, false);
	CHECK(pml_eval_predictor(c, PML_EVAL_VAL_FAMILIES, p, 0.5f, 1.0f, &ev) == 0);
	CHECK(ev.runs == 1);
	memset(&ev, 0, sizeof(ev));
	c->runs[3].heldout_family = false;
	CHECK(pml_eval_predictor(c, PML_EVAL_VAL_FAMILIES, p, 0.5f, 1.0f, &ev) == 0);
	CHECK(ev.runs == 0);
	pml_predictor_free(p);
	pml_lstm_free(m);
	pml_corpus_free(c);
}

int main(void)
{
	const char *fx = getenv("PML_TEST_FIXTURES");
	static bool quick;

	quick = getenv("VALGRIND") && strcmp(getenv("VALGRIND"), "0");
	quick_p = &quick;
	snprintf(trace, sizeof(trace), "%s/trace/guest-acceptance.bin", fx ? fx : "tests/fixtures");
	test_train();
	test_resume();
	test_model_file();
	test_threshold_split();
	return unit_done("model-trainer");
}
