/* The corpus: recorded runs as the model learns from them. Each run becomes its token ids
 * (features.h: the prior, then every record's tokens), each token with its time and the
 * index of the record it came from, and its needs (dataset/needs.h) with the label index
 * of every module they loaded.
 *
 * Labels. For token position i of a run and module m:
 *   y[i][m] = 1  when a need loading m comes after position i (its record is later than
 *                i's) and within the horizon: t(need) - t(i) <= horizon_ms;
 *   mask[i][m] = 0 once m has been needed in the run (it is loaded: nothing to predict;
 *                reactive runs never unload), and past the run's end.
 * With reuse_labels, a module needed stays labelled: y[i][m] = 1 when a later use of its
 * need (struct pml_corpus_use) comes after position i and within the horizon.
 * A need is seen by the model only through its own records' tokens (req:, load:), which
 * sit at the need's position and so are never labelled with it: no token carries its own
 * answer.
 *
 * The horizon is in milliseconds of the trace clock, not in events: the event rate of a
 * program varies a hundredfold (a compression loop against a shell script waiting), and a
 * prefetch pays only if it completes before the need, which is a matter of time
 * (doc/model.md has the measurements behind the default).
 *
 * The vocabulary is learned from the training split (a token and its prefixes counted once
 * per run; kept when seen in min_docs runs) and the module list is every module a training
 * run needed, sorted by name; or both come from a model (evaluation). */
#ifndef PML_MODEL_CORPUS_H
#define PML_MODEL_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset/dataset.h"
#include "dataset/needs.h"
#include "model/features.h"

#define PML_CORPUS_HORIZON_MS 2000 /* doc/model.md: why */
#define PML_CORPUS_MAX_PRIOR PML_FEAT_MAX_PRIOR

struct pml_corpus_need {
	uint64_t t_ns;
	uint32_t rec;	   /* the record that made it: tokens of earlier records precede it */
	uint16_t n_mods;
	int16_t mods[PML_NEED_MAX_LOADED]; /* label indices (modules outside the list left out) */
	uint16_t n_loaded; /* modules it loaded, in the list or not */
	char alias[PML_NEED_NAME_LEN];
	char module[PML_NEED_NAME_LEN];
};

/* A later use of a need's modules: a record that would make the kernel ask for the need's
 * alias again if they were not loaded (dataset/reuse.h: a mount of the same type, a socket
 * of the same family, an interface of the same kind). */
struct pml_corpus_use {
	uint64_t t_ns;
	uint32_t rec;  /* its record index + 1 */
	uint32_t need; /* index into the run's needs */
};

struct pml_corpus_run {
	char id[96];
	char scenario[80];
	enum pml_split split;
	bool heldout;
	bool heldout_family; /* its whole family is held out (dataset.h) */
	uint32_t n_tok, n_prior; /* tokens; the first n_prior are the prior */
	int32_t *tok;		 /* [n_tok] */
	uint64_t *t_ns;		 /* [n_tok] the token's time (the prior: the first record's) */
	uint32_t *rec;		 /* [n_tok] its record index + 1 (0: the prior) */
	uint64_t records;
	struct pml_corpus_need *needs; /* in time order */
	uint32_t n_needs;
	struct pml_corpus_use *uses; /* in time order; only with reuse_labels */
	uint32_t n_uses;
};

struct pml_corpus {
	struct pml_vocab *vocab;
	char **modules; /* [n_modules], sorted */
	int n_modules;
	uint32_t horizon_ms;
	bool reuse_labels; /* labels for later uses too (pml_corpus_opts) */
	char kernel[64]; /* the first run's kernel release */
	struct pml_corpus_run *runs;
	size_t n_runs;
};

/* One run to read. */
struct pml_corpus_src {
	const char *trace; /* path */
	const char *id;	   /* NULL: the path */
	const char *scenario;
	const char *script; /* the scenario's text for the prior, NULL when none */
	enum pml_split split;
	bool heldout;
	bool heldout_family;
};

struct pml_corpus_opts {
	uint32_t horizon_ms;	/* 0: PML_CORPUS_HORIZON_MS */
	uint32_t min_docs;	/* vocabulary: training runs a token must appear in (0: 3) */
	size_t max_vocab;	/* 0: 20000 */
	bool no_prior;		/* leave the prior out (ablation) */
	/* Label later uses too: after a need, its modules stay labelled (mask 1) and are
	 * positive when a later use comes within the horizon, so the model says whether a
	 * loaded module is about to be used again (the end-of-use unload's question), not
	 * only what comes first. */
	bool reuse_labels;
	/* Given (evaluation with a trained model): its vocabulary strings and module list
	 * instead of learning them. */
	const char *const *vocab;
	size_t n_vocab;
	const char *const *modules;
	size_t n_modules;
	/* progress, called after each run read (may be NULL) */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

/* Read the runs (twice: once to learn the vocabulary from the training split, once to
 * encode). A run whose trace cannot be read is skipped with a warning when others remain
 * (its error is logged). Returns 0, -ENODATA (no usable training run when learning),
 * -EINVAL, -ENOMEM. */
int pml_corpus_build(const struct pml_corpus_src *src, size_t n,
		     const struct pml_corpus_opts *opts, struct pml_corpus **ret);

/* The runs of a dataset directory (its manifest; runs with a trace, lost ones left out),
 * the prior's script text from workloads_dir/<scenario>.sh when workloads_dir is given
 * and the file exists. Returns as pml_corpus_build(), plus pml_dataset_open()'s errors
 * and pml_dataset_trace_path()'s refusals (-ELOOP: a trace is a symbolic link, ...). */
int pml_corpus_from_dataset(const char *dir, const char *workloads_dir,
			    const struct pml_corpus_opts *opts, struct pml_corpus **ret);

void pml_corpus_free(struct pml_corpus *c);

/* The label index of module (name spelt either way, '-' or '_'), -1 when not listed. */
int pml_corpus_module(const struct pml_corpus *c, const char *module);

/* Labels for positions [pos, pos + n) of run r into y and mask [n, M] (see the top of the
 * file); positive labels get weight pos_weight in mask. */
void pml_corpus_labels(const struct pml_corpus *c, const struct pml_corpus_run *r,
		       uint32_t pos, int n, float pos_weight, float *y, float *mask);

/* Runs and tokens of a split (split < 0: all). */
size_t pml_corpus_count(const struct pml_corpus *c, int split, uint64_t *ret_tokens);

/* Read a whole text file (a scenario script) into a NUL-terminated buffer the caller
 * frees. Returns 0, -errno, -EFBIG (over 1 MiB). */
int pml_read_text_file(const char *path, char **ret);

#endif
