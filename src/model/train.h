/* Training and judging the module predictors on a corpus (corpus.h).
 *
 * The LSTM (lstm.h) trains by truncated BPTT: B rows, each walking its own run window by
 * window (T tokens), the state carried from one window to the next and zeroed when a row
 * starts its next run; a run's last window is padded with masked positions. Runs are dealt
 * to rows in an order shuffled per epoch from the seed, so training is deterministic
 * given the seed (and the machine: see lstm.h). Adam with a cosine learning-rate decay,
 * global-norm clipping. After every epoch the model is judged on the validation split by
 * the streaming predictor itself (what sim and pmld run), and the best epoch is kept (by
 * the F1 of recall and precision at its best threshold: the validation loss proved a noisy
 * guide, flat while recall doubled): training stops when `patience` epochs bring no
 * improvement.
 *
 * The judgement (struct pml_eval) is the predictor's own, before any policy:
 *   loss         mean masked BCE over positions and modules (corpus.h's labels), the
 *                positives weighted as in training when the trainer asks;
 *   recall       of module needs: the module's probability crossed the threshold at some
 *                position before the need (and after its previous need, if any); of
 *                needs: every listed module of the need did;
 *   precision    of crossings: a module's first crossing in a run (a prefetch a policy
 *                would issue) is right when the module is needed later in that run;
 *   lead time    need time minus the first crossing's time (for a need: its last
 *                module's), the head start a prefetch gets; and which token kind caused
 *                the crossing (exec:, arg:, sock:, <start> ...), each kind's share of
 *                the lead time summed over needs. */
#ifndef PML_MODEL_TRAIN_H
#define PML_MODEL_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "model/corpus.h"
#include "model/lstm.h"
#include "model/ngram.h"
#include "model/model-file.h"
#include "model/predictor.h"

#define PML_EVAL_MAX_SIGNALS 24

struct pml_eval {
	double loss;		  /* mean masked BCE (positives weighted as asked) */
	uint64_t positions;	  /* token positions judged */
	uint32_t runs;
	uint32_t mod_needs;	  /* (need, listed module) pairs */
	uint32_t mod_predicted;	  /* ... crossed before the need */
	uint32_t needs;		  /* needs with at least one listed module */
	uint32_t needs_predicted; /* ... all of whose listed modules crossed before it */
	uint32_t unlisted;	  /* modules needed that the model does not know */
	uint32_t crossings;	  /* first crossings (prefetches) */
	uint32_t crossings_used;  /* ... followed by a need of the module in the run */
	double precision, recall, need_recall;
	double lead_ms_median, lead_ms_mean; /* over predicted needs */
	double lead_ms_p10;		     /* 10th percentile: the short head starts */
	uint32_t lead_over_100ms;	     /* predicted needs with >= 100 ms of lead */
	/* lead time per signal: the kind of token at the crossing that set a need's lead */
	int n_signals;
	char signal[PML_EVAL_MAX_SIGNALS][16];
	double signal_lead_ms[PML_EVAL_MAX_SIGNALS];
	uint32_t signal_needs[PML_EVAL_MAX_SIGNALS];
	/* per module [n_modules] (NULL unless asked: pml_eval_alloc_modules) */
	uint32_t *m_needs, *m_predicted, *m_crossings, *m_used;
};

/* Judge predictor p (its vocabulary and modules those of c) on the runs of split
 * (< 0: all) at threshold; the loss weighs positive labels by pos_weight (1: plain BCE;
 * the trainer selects epochs on its own training weight). ev's per-module arrays are
 * filled when allocated. Returns 0, -EINVAL (module counts differ) or -ENOMEM. */
int pml_eval_predictor(const struct pml_corpus *c, int split, struct pml_predictor *p,
		       float threshold, float pos_weight, struct pml_eval *ev);
/* The thresholds a sweep tries. */
/* As a split for pml_eval_predictor() and pml_eval_sweep(): the validation runs of the
 * families held out whole (dataset.h), where thresholds are chosen when a dataset has
 * such families (issue 17: never on test, and on programs of kinds not trained on). */
#define PML_EVAL_VAL_FAMILIES 16
/* The split thresholds are chosen on: PML_EVAL_VAL_FAMILIES when c has validation runs of
 * held-out families, else PML_SPLIT_VAL. */
int pml_threshold_split(const struct pml_corpus *c);

#define PML_SWEEP_N 11
extern const float pml_sweep_thresholds[PML_SWEEP_N];

/* Judge p on split at each of pml_sweep_thresholds (evs[i], plain BCE) and return the
 * index of the best F1 of module recall and precision (the lowest threshold on ties).
 * Returns the index, or -ENOMEM / -EINVAL. */
int pml_eval_sweep(const struct pml_corpus *c, int split, struct pml_predictor *p,
		   struct pml_eval evs[PML_SWEEP_N]);
/* F1 of ev's module recall and precision (0 when both are 0). */
double pml_eval_f1(const struct pml_eval *ev);

/* Allocate (zeroed) / free the per-module arrays of ev for M modules. 0 or -ENOMEM. */
int pml_eval_alloc_modules(struct pml_eval *ev, int M);
void pml_eval_release(struct pml_eval *ev);

struct pml_train_progress {
	int epoch;	     /* 0-based */
	int epochs;
	uint64_t step, steps; /* within the epoch (steps: an estimate) */
	double loss;	     /* mean training loss of the epoch so far */
	double tokens_per_s;
	double eta_s;	     /* to the end of the last epoch */
	bool epoch_done;     /* the call after an epoch: val, best are set */
	const struct pml_eval *val; /* at the epoch's best threshold */
	double score;	     /* the selection score (lower is better) */
	float threshold;     /* the epoch's best threshold (F1 selection) */
	bool best;
};

struct pml_train_opts {
	int embed, hidden, layers; /* 0: 32, 64, 1 */
	int batch, window;	   /* B rows, T tokens per window (0: 16, 64) */
	int epochs;		   /* maximum (0: 20) */
	int patience;		   /* epochs without a better validation loss (0: 4) */
	float lr;		   /* 0: 3e-3 */
	float clip;		   /* global-norm clip (0: 1.0) */
	float pos_weight;	   /* weight of positive labels (0: 1) */
	float weight_decay;	   /* AdamW's decoupled weight decay (0: none) */
	/* Regularisers against learning the training scenarios by heart: each input token
	 * is read as out of vocabulary with probability token_dropout; a run starts without
	 * its prior (at <start>) with probability prior_dropout. Both drawn from the seed. */
	float token_dropout, prior_dropout;
	float threshold;	   /* for the validation metrics with select_loss (0: 0.5) */
	/* Selection: by default the epoch with the best F1 of module recall and precision
	 * on the validation split, at its best threshold of a sweep (score 1 - F1): what a
	 * policy then uses. select_loss: the validation loss, weighted as trained. */
	bool select_loss;
	uint64_t seed;
	int threads;
	/* Resume: start at this epoch (a checkpoint's), the best so far scoring best_val
	 * (the selection score) at epoch best_epoch with weights best_params (may be NULL:
	 * none yet). */
	int start_epoch;
	double best_val;
	int best_epoch;
	const float *best_params;
	/* Called often (about every second and after each epoch); model is the model being
	 * trained (after an epoch: its weights at the end of the epoch, which a checkpoint
	 * saves). A non-zero return after an epoch stops training there (an interruption:
	 * resume from that epoch's checkpoint). */
	int (*progress)(void *ctx, const struct pml_train_progress *pr, const struct pml_lstm *model);
	void *ctx;
};

struct pml_train_result {
	int epochs_run;	 /* the last epoch done + 1 */
	int best_epoch;	 /* 0-based */
	double best_val; /* its selection score (lower is better) */
	double best_loss; /* its validation loss (weighted as trained) */
	float best_threshold; /* its best threshold (F1 selection; 0: none) */
	double seconds;
	uint64_t tokens; /* trained on, padding excluded */
};

/* Train model (initialised by the caller, or resumed) on c's training split. On return
 * model holds the best epoch's weights (the last epoch's when there is no validation
 * split). Returns 0, -ENODATA (no training run), -ENOMEM, or the model's errors. */
int pml_train_lstm(const struct pml_corpus *c, struct pml_lstm *model,
		   const struct pml_train_opts *o, struct pml_train_result *res);

/* Count an n-gram model of order, alpha, buckets over c's training split. 0, -ENOMEM,
 * -EINVAL (bad config), -ENODATA. */
int pml_train_ngram(const struct pml_corpus *c, int order, float alpha, int buckets,
		    struct pml_ngram **ret);

/* The model-file description of c (vocabulary strings, module list, horizon, features
 * version, the kernel); strings point into c and *ret_vocab (free it). 0 or -ENOMEM. */
int pml_corpus_meta(const struct pml_corpus *c, const char *kernel_release,
		    struct pml_model_meta *meta, const char ***ret_vocab);

/* The role of each of modules[0..n) in c's training runs into roles (enum
 * pml_model_role): a target when some need's target (the last module its modprobe
 * loaded) was it, a dependency when it was only ever loaded for another; a module no
 * training need loaded is a target (what a model of no roles assumed). */
void pml_corpus_roles(const struct pml_corpus *c, const char *const *modules, int n,
		      uint8_t *roles);

#endif
