/* The one predictor interface that the simulator (sim) and the live agent (pmld) both
 * drive, whatever the model behind it: events go in one token at a time, and after each
 * the predictor says, for every module it knows, the probability that the program needs
 * it within the horizon (what "within" means, in events or ms, is fixed by the labels the
 * model was trained on, and recorded in its model file).
 *
 * Tokens come from the features (event -> token); token 0 is the out-of-vocabulary token
 * and an out-of-range token is read as 0. An ops table, as the policies have (redis'
 * evict.c style): observe, reset, free. A predictor holds one stream's state: the live
 * agent keeps one per traced program, replay one per trace. */
#ifndef PML_MODEL_PREDICTOR_H
#define PML_MODEL_PREDICTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "model/lstm.h"
#include "model/ngram.h"
#include "model/model-file.h"

struct pml_predictor;

struct pml_predictor_ops {
	const char *name; /* "lstm", "markov" (the n-gram) */
	/* Feed one event's token; write n_modules probabilities into probs. */
	void (*observe)(struct pml_predictor *p, int32_t token, float *probs);
	/* Forget the stream: the next token starts a new program run. */
	void (*reset)(struct pml_predictor *p);
	void (*free)(struct pml_predictor *p);
};

struct pml_predictor {
	const struct pml_predictor_ops *ops;
	int n_tokens;		     /* V */
	int n_modules;		     /* M: length of probs */
	const char *const *vocab;    /* [V] token strings, NULL when not known */
	const char *const *modules;  /* [M] module names in probs order, NULL when not known */
	const uint8_t *roles;	     /* [M] enum pml_model_role (model-file.h), NULL: unsaid */
	uint32_t horizon_events;     /* from the model file, 0 when not known */
	uint32_t horizon_ms;
	struct pml_model_file *file; /* owned when opened from a file */
};

static inline void pml_predictor_observe(struct pml_predictor *p, int32_t token, float *probs)
{
	p->ops->observe(p, token, probs);
}

static inline void pml_predictor_reset(struct pml_predictor *p)
{
	p->ops->reset(p);
}

/* Frees the predictor, what it owns (model, file), and nothing else. NULL is a no-op. */
static inline void pml_predictor_free(struct pml_predictor *p)
{
	if (p)
		p->ops->free(p);
}

/* An LSTM predictor (streaming step, precomputed input table). own: the predictor frees
 * model. NULL on allocation failure. */
struct pml_predictor *pml_lstm_predictor_new(struct pml_lstm *model, bool own);
/* An n-gram predictor. own: the predictor frees mk. NULL on allocation failure. */
struct pml_predictor *pml_ngram_predictor_new(struct pml_ngram *mk, bool own);

/* Open a model file (LSTM or n-gram) as a predictor; see pml_model_file_open() for
 * kernel_release, flags and the refusals (negative errno, logged). The predictor owns the
 * mapping; vocab and modules point into it. */
int pml_predictor_open(const char *path, const char *kernel_release, unsigned flags,
		       struct pml_predictor **ret);

#endif
