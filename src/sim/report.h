/* The replay report: one HTML page (inline SVG, no scripts, no external files) that shows
 * how each policy handled one run, for a person to look at: per policy a timeline with a
 * row per module (being loaded, loaded by a prediction or by a stall, a prediction never
 * used), the needs on it (hit, or a stall and how long), the loads the policy asked for
 * (granted or refused by the budget), and below it the module memory against the budget.
 * Rows are the same modules in the same order for every policy, so the timelines compare
 * at a glance. A table of the run's metrics per policy comes first and, when given, the
 * metrics over the whole split.
 *
 * The timelines need results replayed with cfg.timeline set. */
#ifndef PML_SIM_REPORT_H
#define PML_SIM_REPORT_H

#include <stdio.h>

#include "sim/sim.h"

/* One line of the split-wide table. */
struct pml_sim_report_row {
	const char *policy;
	struct pml_sim_totals *totals; /* pml_sim_totals_median_lead() sorts its leads */
	double fp_vs_oracle;	       /* < 0: not known */
	double fp_vs_load_all;
};

struct pml_sim_report {
	const char *title;	 /* "pml eval: tests/fixtures/dataset, split test" */
	const char *run_id;	 /* the run drawn */
	const char *run_about;	 /* a line about it (scenario, family, held out or seen) */
	const char *command;	 /* the traced command line, may be NULL */
	const struct pml_sim_result *const *results; /* the run under each policy */
	size_t n_results;
	const struct pml_sim_report_row *rows; /* the split's table; may be NULL */
	size_t n_rows;
	const char *rows_caption; /* "test split, 12 runs" */
	const char *notes;	  /* free text under the tables (costs, approximations) */
};

/* Write the page to f. Returns 0, or -EIO when the stream failed. */
int pml_sim_report_html(FILE *f, const struct pml_sim_report *rep);

#endif
