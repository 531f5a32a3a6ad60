/* Every number a pml command or settings file takes, in one table: its name, its kind
 * (size, duration, probability, whole number, number) and its range (util/parse.h). A
 * command parses an option with pml_num_parse(PML_NUMOPT(X), NULL, optarg, ...), so that
 * an option given to several commands (--budget-mem to pmld, pml run, pml eval and the
 * policy file) is one entry and gets one answer, and tests/unit/test-options.c feeds
 * every entry the same good and bad values.
 *
 * It lives at the bottom (util) because pmld's and pml run's shared checks (agent), the
 * policy file (loader), model files (model) and the commands all read it; it is data and
 * includes nothing above util. */
#ifndef PML_UTIL_OPTION_TABLE_H
#define PML_UTIL_OPTION_TABLE_H

#include "util/parse.h"

enum pml_numopt {
	/* pmld's settings, passed on by pml run, replayed by pml eval */
	PML_NUMOPT_IDLE_SECONDS,
	PML_NUMOPT_THRESHOLD,
	PML_NUMOPT_HORIZON,
	PML_NUMOPT_BUDGET_CPU,
	PML_NUMOPT_BUDGET_MEM,
	PML_NUMOPT_TICK_MS,
	/* pmld */
	PML_NUMOPT_TRACE_ROOT,
	/* pml run (memory also pml collect) */
	PML_NUMOPT_SETTLE,
	PML_NUMOPT_TIMEOUT,
	PML_NUMOPT_MEMORY,
	PML_NUMOPT_CPUS,
	/* pml eval */
	PML_NUMOPT_PREROLL_MS,
	PML_NUMOPT_MISS_MS,
	/* pml collect */
	PML_NUMOPT_RUNS,
	PML_NUMOPT_JOBS,
	PML_NUMOPT_PER_BOOT,
	PML_NUMOPT_COLLECT_SEED,
	/* pml request */
	PML_NUMOPT_CONFIDENCE,
	PML_NUMOPT_URGENCY,
	PML_NUMOPT_BYTES,
	PML_NUMOPT_LOAD_MS,
	/* pml trace record */
	PML_NUMOPT_RINGBUF,
	PML_NUMOPT_SAMPLE_HZ,
	PML_NUMOPT_FAULT_MS,
	/* pml bench loader */
	PML_NUMOPT_ROUNDS,
	/* pml train-needs (and the needs model file it writes) */
	PML_NUMOPT_NEEDS_WINDOW,
	PML_NUMOPT_NEEDS_ALPHA,
	/* pml train */
	PML_NUMOPT_LR,
	PML_NUMOPT_POS_WEIGHT,
	PML_NUMOPT_WEIGHT_DECAY,
	PML_NUMOPT_TOKEN_DROPOUT,
	PML_NUMOPT_PRIOR_DROPOUT,
	PML_NUMOPT_HIDDEN,
	PML_NUMOPT_EMBED,
	PML_NUMOPT_LAYERS,
	PML_NUMOPT_EPOCHS,
	PML_NUMOPT_PATIENCE,
	PML_NUMOPT_BATCH,
	PML_NUMOPT_WINDOW,
	PML_NUMOPT_THREADS,
	PML_NUMOPT_TRAIN_SEED,
	PML_NUMOPT_HORIZON_MS,
	PML_NUMOPT_MIN_DOCS,
	PML_NUMOPT_ORDER,
	PML_NUMOPT_BUCKETS,
	/* the policy file: idle-unload (budget-mem is PML_NUMOPT_BUDGET_MEM) */
	PML_NUMOPT_FILE_IDLE_UNLOAD,
	PML_NUMOPT_COUNT,
};

extern const struct pml_num_spec pml_numopts[PML_NUMOPT_COUNT];

#define PML_NUMOPT(id) (&pml_numopts[PML_NUMOPT_##id])

#endif
