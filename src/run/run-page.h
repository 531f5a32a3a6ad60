/* pml run's report page (--report DIR writes DIR/report.html): the live run's timeline as
 * an SVG, one row per module (loaded on a stall, prefetched and used, prefetched and never
 * used; needs as hits or stalls; unloads), the reason and confidence of each decision on
 * hover, and the totals; with --compare, the policy's run above reactive's on one time
 * scale. Like pml eval --report's page (src/sim/report.c) for replay, from the decision
 * log instead of a simulation. Every string from the guest is escaped. */
#ifndef PML_RUN_RUN_PAGE_H
#define PML_RUN_RUN_PAGE_H

#include <stddef.h>
#include <stdio.h>

#include "run/run-report.h"

struct pml_run_page_run {
	const char *label;	      /* the policy that ran ("lstm", "reactive") */
	const struct pml_report *rep; /* borrowed */
	double wall_s;		      /* pml run's wall for it, -1 unknown */
	double start_to_cmd_s;	      /* QEMU's start to the command, -1 unknown */
	const char *boot;	      /* "restored", "cold", or NULL */
};

/* The page for command (the job's command line, may be NULL) and n runs (1 or 2) to f.
 * Returns 0, or -EIO when writing failed. */
int pml_run_page_html(FILE *f, const char *command, const struct pml_run_page_run *runs,
		      size_t n);

#endif
