/* pml run's second half: what a run brought back, made into the report, the page and the
 * side-by-side of --compare (cmd-run-results.c). Internal to src/cmd/. */
#ifndef PML_CMD_CMD_RUN_H
#define PML_CMD_CMD_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "run/run-page.h"
#include "run/run-report.h"
#include "vm/vm.h"

/* pml's own failures use 125, as docker/podman run do, so they are told apart from the
 * command's status, which pml run returns as its own. */
#define RUN_EXIT_PML 125

/* The members pml run adds to the JSON report (values point into the caller's buffers). */
struct run_extra {
	struct pml_report_kv kv[20];
	char wall[32], wall_after[32], start_cmd[32], rss[32], tout[8], terr[8], timed_out[8];
	char *out, *err;
};

/* A result file to one of our streams (the command's stdout and stderr as pml's own). */
void run_pass_through(const char *dir, const char *name, FILE *to);

/* One boot of job: the guest run, its report (window and warnings set). Returns the
 * command's status, or RUN_EXIT_PML (said on stderr), or 128+signal. */
int run_boot_once(struct pml_vm_job *job, struct pml_vm_result *res, struct pml_report **rep);

/* The summary files of --report (the results are already in the directory). */
int run_finish_report_dir(const struct pml_report *rep, const struct pml_vm_result *res,
			  const char *run_dir, int status, const struct pml_report_kv *extra);

/* DIR/report.html: the run's timeline (and reactive's beside it with --compare). */
int run_write_page(const char *dir, const struct pml_vm_job *job,
		   const struct pml_run_page_run *runs, size_t n);

/* The members pml run adds to the JSON report, for job and its result (with_output: the
 * command's stdout and stderr too). Release with run_extra_release(). */
void run_extra_init(struct run_extra *x, const struct pml_vm_job *job,
		    const struct pml_vm_result *res, bool with_output);

void run_extra_release(struct run_extra *x);

/* The side-by-side of --compare. */
void run_print_compare(FILE *f, const char *policy, const struct pml_report *a,
		       const struct pml_report *b, const struct pml_vm_result *ra,
		       const struct pml_vm_result *rb);

#endif
