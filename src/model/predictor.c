/* The predictor interface's two implementations (LSTM, n-gram) and the opener that picks
 * one from a model file's kind; see predictor.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/predictor.h"
#include "util/log.h"

/* ---- LSTM ---------------------------------------------------------------------------- */

struct lstm_predictor {
	struct pml_predictor base;
	struct pml_lstm *model;
	struct pml_lstm_stream *stream;
	bool own;
};

static void lstm_pred_observe(struct pml_predictor *p, int32_t token, float *probs)
{
	struct lstm_predictor *lp = (struct lstm_predictor *)p;

	pml_lstm_stream_step(lp->stream, token, probs);
}

static void lstm_pred_reset(struct pml_predictor *p)
{
	pml_lstm_stream_reset(((struct lstm_predictor *)p)->stream);
}

static void lstm_pred_free(struct pml_predictor *p)
{
	struct lstm_predictor *lp = (struct lstm_predictor *)p;

	pml_lstm_stream_free(lp->stream);
	if (lp->own)
		pml_lstm_free(lp->model);
	pml_model_file_free(p->file);
	free(lp);
}

static const struct pml_predictor_ops lstm_pred_ops = {
	.name = "lstm",
	.observe = lstm_pred_observe,
	.reset = lstm_pred_reset,
	.free = lstm_pred_free,
};

struct pml_predictor *pml_lstm_predictor_new(struct pml_lstm *model, bool own)
{
	struct lstm_predictor *lp = calloc(1, sizeof(*lp));
	/* the [V, 4H] input table saves E x 4H multiply-adds per event; skip it past 64 MB */
	bool table = (size_t)model->cfg.vocab * 4 * model->cfg.hidden <= (16u << 20);

	if (!lp)
		return NULL;
	lp->stream = pml_lstm_stream_new(model, table);
	if (!lp->stream || pml_lstm_stream_quantize(lp->stream) < 0) {
		pml_lstm_stream_free(lp->stream);
		free(lp);
		return NULL;
	}
	lp->model = model;
	lp->own = own;
	lp->base.ops = &lstm_pred_ops;
	lp->base.n_tokens = model->cfg.vocab;
	lp->base.n_modules = model->cfg.modules;
	return &lp->base;
}

/* ---- n-gram -------------------------------------------------------------------------- */

struct ngram_predictor {
	struct pml_predictor base;
	struct pml_ngram *mk;
	bool own;
	int n;					/* tokens seen, capped at the order */
	int32_t hist[PML_NGRAM_MAX_ORDER]; /* oldest first */
};

static void ngram_observe(struct pml_predictor *p, int32_t token, float *probs)
{
	struct ngram_predictor *mp = (struct ngram_predictor *)p;
	const int order = mp->mk->cfg.order;

	if (mp->n < order) {
		mp->hist[mp->n++] = token;
	} else {
		memmove(mp->hist, mp->hist + 1, (order - 1) * sizeof(int32_t));
		mp->hist[order - 1] = token;
	}
	pml_ngram_predict(mp->mk, mp->hist, mp->n, probs);
}

static void ngram_reset(struct pml_predictor *p)
{
	((struct ngram_predictor *)p)->n = 0;
}

static void ngram_free(struct pml_predictor *p)
{
	struct ngram_predictor *mp = (struct ngram_predictor *)p;

	if (mp->own)
		pml_ngram_free(mp->mk);
	pml_model_file_free(p->file);
	free(mp);
}

static const struct pml_predictor_ops ngram_ops = {
	.name = "markov",
	.observe = ngram_observe,
	.reset = ngram_reset,
	.free = ngram_free,
};

struct pml_predictor *pml_ngram_predictor_new(struct pml_ngram *mk, bool own)
{
	struct ngram_predictor *mp = calloc(1, sizeof(*mp));

	if (!mp)
		return NULL;
	mp->mk = mk;
	mp->own = own;
	mp->base.ops = &ngram_ops;
	mp->base.n_tokens = mk->cfg.vocab;
	mp->base.n_modules = mk->cfg.modules;
	return &mp->base;
}

/* ---- from a file --------------------------------------------------------------------- */

int pml_predictor_open(const char *path, const char *kernel_release, unsigned flags,
		       struct pml_predictor **ret)
{
	struct pml_model_file *mf;
	struct pml_predictor *p = NULL;
	int r;

	r = pml_model_file_open(path, kernel_release, flags, &mf);
	if (r < 0)
		return r;
	if (mf->kind == PML_MODEL_LSTM) {
		struct pml_lstm *m;

		r = pml_lstm_from_file(mf, &m);
		if (r == 0) {
			p = pml_lstm_predictor_new(m, true);
			if (!p)
				pml_lstm_free(m);
		}
	} else {
		struct pml_ngram *mk;

		r = pml_ngram_from_file(mf, &mk);
		if (r == 0) {
			p = pml_ngram_predictor_new(mk, true);
			if (!p)
				pml_ngram_free(mk);
		}
	}
	if (r == -EINVAL)
		pml_err("%s: damaged model file (table size disagrees with the model's sizes)",
			path);
	if (r == 0 && !p)
		r = -ENOMEM;
	if (r < 0) {
		pml_model_file_free(mf);
		return r;
	}
	p->file = mf;
	p->vocab = mf->vocab;
	p->modules = mf->modules;
	p->roles = mf->roles;
	p->horizon_events = mf->horizon_events;
	p->horizon_ms = mf->horizon_ms;
	*ret = p;
	return 0;
}
