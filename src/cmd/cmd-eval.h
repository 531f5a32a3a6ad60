/* pml eval's files share this (as cmd-collect.h for pml collect). cmd-eval.c is the verb:
 * its options, --help, the policies asked for, the dataset and models checked, and
 * cmd_eval() as the sequence of the steps below. Each step has its own file:
 *   cmd-eval-train.c   what the training split gives the policies (load-all's and
 *                      static's lists, markov's needs model)
 *   cmd-eval-replay.c  the module catalog with its costs and base set, and the replay of
 *                      every run of the split through every policy (src/sim), summed by group
 *   cmd-eval-print.c   the text tables and the JSON object
 *   cmd-eval-report.c  --report DIR: the HTML page of one run (sim/report.c draws it)
 * A step returns PML_EXIT_OK, or the exit status after saying why on stderr; what it
 * opens it keeps in struct eval, which eval_free() releases. */
#ifndef PML_CMD_CMD_EVAL_H
#define PML_CMD_CMD_EVAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dataset/dataset.h"
#include "sim/sim.h"

#define EVAL_MB (1024.0 * 1024.0)
#define EVAL_MAX_POL 16
#define EVAL_DEFAULT_BASE "virtio_mmio,virtio_blk,ext4"

struct pml_needs_model;
struct pml_repo;
struct pml_sim_catalog;
struct pml_slots_model;

/* The command line, as parsed (cmd-eval.c); 0 in a number is "not given, the default". */
struct eval_opts {
	const char *dataset, *split_name, *policies, *report, *run_id, *model, *markov_model;
	const char *costs, *moddir, *base, *save_markov, *slots_model, *needs_out;
	enum pml_split split;
	int64_t budget;
	double threshold, horizon_ms, idle_seconds, tick_ms, preroll_ms, miss_ms;
	bool json, no_names;
	char default_model[4200], default_slots[4200]; /* the shipped ones, when used */
};

/* A module needed in so many training runs, of one family or ("") of all. */
struct eval_modcount {
	char name[64];
	char family[32];
	unsigned runs;
};

/* What the training split gives the policies (cmd-eval-train.c). */
struct eval_training {
	struct eval_modcount *v; /* most often needed first */
	size_t n, cap;
	struct pml_needs_model *markov; /* markov's, counted or --markov-model; may be NULL */
	const char **all;		/* load-all's list: the modules of every family */
	size_t n_all;
};

/* The runs' groups: every run, those of held-out scenarios, those of families held out
 * whole (dataset.h; none in a dataset made before them), the rest (scenarios seen in
 * training). A run of a held-out family is in that group only. */
enum { EVAL_G_ALL, EVAL_G_HELDOUT, EVAL_G_FAMILY, EVAL_G_SEEN, EVAL_G_COUNT };
extern const char *const eval_group_names[EVAL_G_COUNT]; /* as in the JSON */

/* One evaluation: the policies, what they are given, the sums. Owns everything in it. */
struct eval {
	const char *pol[EVAL_MAX_POL]; /* the policy table's names */
	size_t n_pol;
	struct pml_dataset *ds;
	struct pml_slots_model *slots; /* read once, lent to every run's policy */
	struct pml_repo *repo;	       /* the module tree's catalog, or NULL */
	struct pml_sim_catalog *cat;
	char costs_used[4200]; /* the costs file read, "" when none */
	struct eval_training tr;
	struct pml_sim_totals tot[EVAL_G_COUNT][EVAL_MAX_POL];
	unsigned runs[EVAL_G_COUNT];
	/* --report's run: its result under each policy, its command line */
	const struct pml_ds_run *rep_run;
	struct pml_sim_result *rep_res[EVAL_MAX_POL];
	char rep_command[256];
	/* --needs-out FILE: written to needs_tmp (in FILE's directory), renamed at the end */
	FILE *needs_f;
	char needs_tmp[4200];
};

/* cmd-eval.c: the policies asked for. */
ssize_t eval_pol_index(const struct eval *ev, const char *name);
/* Whether a policy of the table's flag (PML_POLICY_PREDICTOR: the lstm model;
 * PML_POLICY_TRACE: the prior script; PML_POLICY_SLOTS: the slot model) is among them. */
bool eval_any(const struct eval *ev, unsigned flag);

/* "pml: eval: <strerror>"; PML_EXIT_FAIL. */
int eval_fail(int err);

/* cmd-eval-train.c */
int eval_learn(const struct eval_opts *o, struct eval *ev);
/* The modules of family ("" for all), most often needed first, in a new array (the names
 * are tr's); NULL when out of memory. */
const char **eval_module_list(const struct eval_training *tr, const char *family,
			      size_t *ret_n);
void eval_training_release(struct eval_training *tr);

/* cmd-eval-replay.c */
int eval_open_catalog(const struct eval_opts *o, struct eval *ev);
int eval_replay(const struct eval_opts *o, struct eval *ev);

/* cmd-eval-print.c */
/* Policy p's footprint over base's in group g, -1 when base is not run or has none. */
double eval_fp_ratio(const struct eval *ev, int g, size_t p, const char *base);
void eval_print_json(const struct eval_opts *o, struct eval *ev);
void eval_print_text(const struct eval_opts *o, struct eval *ev);

/* cmd-eval-report.c */
int eval_write_report(const struct eval_opts *o, struct eval *ev);

#endif
