/* pml collect's two files share this: the runs to do (pending), a guest running a batch
 * of them (boot), the collection (collect), and what a boot's stdout says of each run
 * (run_out). cmd-collect.c is the verb (options, the dataset, the queue, what a run's
 * outcome records); cmd-collect-sched.c schedules the queue into boots, --jobs at once. */
#ifndef PML_CMD_CMD_COLLECT_H
#define PML_CMD_CMD_COLLECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "dataset/dataset.h"
#include "dataset/scenario.h"
#include "vm/vm.h"

#define MAX_JOBS 8

struct pending {
	const struct pml_scenario *sc;
	uint32_t index;
	int tries;
};

struct boot {
	pid_t pid;
	uint32_t number;
	char run_dir[PATH_MAX];
	struct pending *runs; /* owned */
	size_t n;
	double t0;
};

struct collect {
	struct pml_dataset *ds;
	struct pml_scenario_list scen;
	char *sticky;	       /* per scenario index: left modules behind once */
	struct pending *queue; /* runs still to do */
	size_t n_queue;
	size_t per_boot;
	int jobs;
	unsigned memory_mb;
	bool quiet;
	char stage[PATH_MAX];  /* the workloads, tools built, for /work */
	char packages[4096];   /* the union of the scenarios' extra packages: one image */
	struct pml_testbed tb;
	uint32_t boots;
	size_t done_ok, done_failed, done_lost, total;
	double t_start, busy_s;
	size_t runs_timed;
};

/* The parsed stdout of a boot, per run. */
struct run_out {
	char id[96];
	bool started, ended, stopped;
	int status;
	double t0, t1;
	char params[256];
	char sticky[1024];
	char *out;	/* the run's own output lines */
	size_t out_len;
	FILE *outf;
};

/* ---- cmd-collect.c ---- */

/* Read a boot's stdout at path into v [n], whose ids the caller filled: each run's
 * markers (started, ended, stopped, status, times), sticky modules and own output lines.
 * The stdout is the guest's: its numbers are range-checked. */
void collect_parse_stdout(const char *path, struct run_out *v, size_t n);
/* Record the outcome of one run of a finished boot. Returns 1 when it was recorded, 0
 * when it must be requeued. */
int collect_record_run(struct collect *c, const struct boot *b, const struct pending *p,
		       struct run_out *o, const char *result_dir, bool excused);

/* ---- cmd-collect-sched.c ---- */

/* Run the queue in boots, up to c->jobs guests at once, until it is empty, a guest cannot
 * start, or ^C/SIGTERM (*ret_interrupted then true: running boots are killed, their runs
 * not done). Sets c->t_start. PML_EXIT_OK or PML_EXIT_FAIL. */
int collect_boots(struct collect *c, bool *ret_interrupted);

#endif
