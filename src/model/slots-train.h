/* Training the slot model (slots.h) from a dataset's traces.
 *
 * Every training run is read as the slots policy reads a job: its prior (the command line
 * and the scenario's script), then each record's tokens (model/features.h), each filled
 * template the kernel's index resolves being a candidate. A candidate is labelled 1 when
 * the run needs its module later (a need whose loads include it, at or after the
 * candidate's record; the prior's candidates come before every record), 0 when the run
 * never does; a candidate of a module the run had already needed is no prediction and is
 * left out, and a run's candidates with the same module and features count once (a
 * script's loop names the same thing a hundred times). The weights are a logistic
 * regression over the hashed features, fitted by AdaGrad over shuffled candidates for a
 * few epochs.
 *
 * The threshold is chosen on validation runs, never on test: those of families held out
 * whole for validation when the dataset has some, else every validation run; it is the
 * one of 0.05, 0.10 ... 0.95 with the best F1 of (run, module) decisions (a module is
 * predicted in a run when one of its candidates before its need reaches the threshold).
 */
#ifndef PML_MODEL_SLOTS_TRAIN_H
#define PML_MODEL_SLOTS_TRAIN_H

#include <stddef.h>

#include "dataset/dataset.h"
#include "model/slots.h"

struct pml_slots_train_opts {
	int epochs;	    /* 0: 4 */
	float lr;	    /* 0: 0.3 */
	const char *workloads_dir; /* the scenarios' scripts (the prior), NULL: command only */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

struct pml_slots_train_stats {
	size_t runs_train, runs_val;
	size_t cands_train, pos_train;	/* candidates (after dedup) and positives */
	size_t groups_val, pos_val;	/* (run, module) decisions on validation */
	const char *val_from;		/* "held-out families" or "all validation runs" */
	float threshold;
	double precision, recall, f1;	/* on validation, at the threshold */
};

/* Train on ds (its train split; the threshold on its validation split as above), with
 * resolve (and data) as the kernel's index. The model's kernel series is ds's kernel's.
 * 0, -ENODATA (no candidate in the training runs), -ENOMEM, or a trace's open error. */
int pml_slots_train(const struct pml_dataset *ds, pml_slots_resolve_fn resolve,
		    void *data, const struct pml_slots_train_opts *opts, struct pml_slots_model **ret,
		    struct pml_slots_train_stats *stats);

#endif
