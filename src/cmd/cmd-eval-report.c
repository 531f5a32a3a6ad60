/* pml eval --report DIR: DIR/index.html, one run's timeline under each policy and the
 * split's table (sim/report.c draws the page; this file gives it its words). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd-eval.h"
#include "cmd/commands.h"
#include "sim/catalog.h"
#include "sim/report.h"

/* The page's notes: where the costs came from, the settings, what is approximated. */
static void report_notes(char *buf, size_t size, const struct eval_opts *o, const char *costs,
			 struct pml_sim_catalog *cat)
{
	size_t src[4];
	double a, b, c, d;
	char budget[64] = "none";

	pml_sim_catalog_sources(cat, src);
	pml_sim_catalog_coefficients(cat, &a, &b, &c, &d);
	if (o->budget > 0)
		snprintf(budget, sizeof(budget), "%.2f MB", (double)o->budget / EVAL_MB);
	snprintf(buf, size,
			"costs: %zu modules measured (%s), %zu from the catalog, %zu estimated "
			"from the .ko size (bytes = exp(%.2f) * size^%.3f, load = %.1f ms + "
			"%.3f ms/KiB), %zu unknown (64 KiB, 50 ms)\n"
			"budget: %s; tick %.0f ms; preroll %.0f ms; miss %.0f ms; idle %.1f s\n"
			"The trace timeline is kept as recorded in the reactive run (stalls do "
			"not delay what follows); only first uses are needs; a module is in use "
			"while the process that needed it lives. See doc/sim.md.",
			src[PML_SIM_COST_MEASURED], costs[0] ? costs : "none",
			src[PML_SIM_COST_CATALOG], src[PML_SIM_COST_ESTIMATED], a, b, c, d,
			src[PML_SIM_COST_DEFAULT], budget, o->tick_ms > 0 ? o->tick_ms : 10.0,
			o->preroll_ms, o->miss_ms, o->idle_seconds);
}

static int mkdir_p(const char *dir)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int eval_write_report(const struct eval_opts *o, struct eval *ev)
{
	const struct pml_ds_run *run = ev->rep_run;
	struct pml_sim_report rep = {0};
	struct pml_sim_report_row rows[EVAL_MAX_POL];
	const struct pml_sim_result *res[EVAL_MAX_POL];
	char title[4300], about[512], cap[128], notes[6144], file[4200];
	size_t n = 0;
	FILE *f;
	int r;

	for (size_t p = 0; p < ev->n_pol; p++) {
		rows[p].policy = ev->pol[p];
		rows[p].totals = &ev->tot[EVAL_G_ALL][p];
		rows[p].fp_vs_oracle = eval_fp_ratio(ev, EVAL_G_ALL, p, "oracle");
		rows[p].fp_vs_load_all = eval_fp_ratio(ev, EVAL_G_ALL, p, "load-all");
		if (ev->rep_res[p])
			res[n++] = ev->rep_res[p];
	}
	snprintf(title, sizeof(title), "pml eval: %s, %s split", o->dataset,
		 pml_split_name(o->split));
	snprintf(about, sizeof(about), "scenario %s (family %s, %s), seed %u, %s", run->scenario,
		 run->family, run->heldout ? "held out of training" : "seen in training",
		 run->seed, run->params);
	snprintf(cap, sizeof(cap), "%s split, %u runs", pml_split_name(o->split),
		 ev->runs[EVAL_G_ALL]);
	report_notes(notes, sizeof(notes), o, ev->costs_used, ev->cat);
	rep.title = title;
	rep.run_id = run->id;
	rep.run_about = about;
	rep.command = ev->rep_command[0] ? ev->rep_command : NULL;
	rep.results = res;
	rep.n_results = n;
	rep.rows = rows;
	rep.n_rows = ev->n_pol;
	rep.rows_caption = cap;
	rep.notes = notes;
	r = mkdir_p(o->report);
	if (r < 0) {
		fprintf(stderr, "pml: eval: --report %s: %s\n", o->report, strerror(-r));
		return PML_EXIT_FAIL;
	}
	snprintf(file, sizeof(file), "%s/index.html", o->report);
	f = fopen(file, "we");
	if (!f) {
		fprintf(stderr, "pml: eval: %s: %s\n", file, strerror(errno));
		return PML_EXIT_FAIL;
	}
	r = pml_sim_report_html(f, &rep);
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "pml: eval: %s: %s\n", file, strerror(-r));
		return PML_EXIT_FAIL;
	}
	fprintf(stderr, "pml: eval: report of run %s: %s\n", run->id, file);
	return PML_EXIT_OK;
}
