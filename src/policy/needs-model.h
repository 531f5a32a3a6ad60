/* The needs model of the markov policy: for each pair of modules (A, B), how often B was
 * needed within a window after A was needed, counted over the `need` sequences of earlier
 * reactive runs (one decision log per run). It answers P(B needed soon | A just needed)
 * and the typical gap between the two needs (the lead time a prefetch of B gets from A).
 * Per module it also keeps the resident bytes and load time its loads showed, the hints
 * the resource manager needs before the module was ever loaded here.
 *
 * The file is text, small enough to read and diff:
 *   pml-needs-markov 1                 magic and version
 *   window-s 30.000                    the training window
 *   alpha 0.500                        smoothing: p = n(A,B) / (n(A) + alpha)
 *   runs 11                            logs counted
 *   module NAME RUNS BYTES LOAD_MS     once per module needed (BYTES -1, LOAD_MS -1: unknown)
 *   next A B COUNT GAP_MS              B needed within the window after A, COUNT runs
 *   checksum fnv1a64 HEX               of every byte before this line
 * '#' lines are comments. A file of a newer version or with a wrong checksum is refused. */
#ifndef PML_POLICY_NEEDS_MODEL_H
#define PML_POLICY_NEEDS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define PML_NEEDS_MAGIC "pml-needs-markov"
#define PML_NEEDS_VERSION 1

struct pml_needs_model;

/* A successor of a need. */
struct pml_needs_pred {
	char module[64];
	double p;	/* P(module needed within the window | the trigger just needed) */
	double gap_ms;	/* mean time from the trigger's need to this one */
	unsigned count; /* runs that showed the pair */
};

/* An empty model counting needs up to window_s seconds apart (<=0: 30 s), smoothing
 * alpha (<0: 0.5). Returns 0 or -ENOMEM. */
int pml_needs_model_new(double window_s, double alpha, struct pml_needs_model **ret);
void pml_needs_model_free(struct pml_needs_model *m);

/* Count one run: the modules needed, in time order, at times t_ns. A module's repeats
 * after its first need are ignored (a need is a first use). Returns 0, -EINVAL (times not
 * in order), -ENOMEM. */
int pml_needs_model_add_run(struct pml_needs_model *m, const char *const *modules,
			    const uint64_t *t_ns, size_t n);
/* Remember what a load of module cost (bytes <0 / load_ms <0: unknown): the latest known
 * figures win. Returns 0 or -ENOMEM. */
int pml_needs_model_add_cost(struct pml_needs_model *m, const char *module, int64_t bytes,
			     double load_ms);

/* The successors of trigger with p >= min_p, highest p first (ties: shorter gap), up to
 * max. Returns how many were written (0: an unknown trigger). */
int pml_needs_model_predict(const struct pml_needs_model *m, const char *trigger, double min_p,
			    struct pml_needs_pred *out, size_t max);
/* A module's cost hints; returns 0, -ENOENT when the model has none. */
int pml_needs_model_cost(const struct pml_needs_model *m, const char *module,
			 int64_t *ret_bytes, double *ret_load_ms);

/* The modules some run needed (as a trigger: dependencies loaded only for others are
 * left out), most runs first, ties by name: the load-all policy's list. Writes up to max
 * names (borrowed from m) and returns how many modules there are. */
size_t pml_needs_model_ranked(const struct pml_needs_model *m, const char **out, size_t max);

/* Sizes, for messages: runs counted, modules, pairs. */
size_t pml_needs_model_runs(const struct pml_needs_model *m);
size_t pml_needs_model_modules(const struct pml_needs_model *m);
size_t pml_needs_model_pairs(const struct pml_needs_model *m);

/* Write the model (atomically: a temporary file renamed). Returns 0 or -errno. */
int pml_needs_model_save(const struct pml_needs_model *m, const char *path);
/* Parse a model's text. Returns 0, -EBADMSG (not a model, a bad line, a checksum
 * mismatch), -EPROTONOSUPPORT (a newer version), -ENOMEM; why gets the problem in words
 * ("line 7: bad next line", "checksum mismatch (file damaged or edited)"). */
int pml_needs_model_parse(const char *text, size_t len, struct pml_needs_model **ret,
			  char *why, size_t why_size);
/* Read and parse a file: as _parse, plus -errno of reading it. */
int pml_needs_model_load(const char *path, struct pml_needs_model **ret, char *why,
			 size_t why_size);

#endif
