/* pml eval's output on stdout: per group of runs (all, held-out scenarios, held-out
 * families, seen scenarios) a table of the policies' summed metrics, or (--json) one
 * object with the same numbers and the settings they were replayed under. */
#include <stdio.h>

#include "cmd/cmd-eval.h"
#include "sim/catalog.h"
#include "util/json.h"

const char *const eval_group_names[EVAL_G_COUNT] = {"all", "heldout", "heldout_family", "seen"};
static const char *const group_captions[EVAL_G_COUNT] = {
	"all runs", "held-out scenarios", "held-out families", "seen scenarios"};

double eval_fp_ratio(const struct eval *ev, int g, size_t p, const char *base)
{
	ssize_t b = eval_pol_index(ev, base);

	if (b < 0 || ev->tot[g][b].m.byte_s <= 0)
		return -1;
	return ev->tot[g][p].m.byte_s / ev->tot[g][b].m.byte_s;
}

static void metrics_json(struct pml_json *j, const char *key, const struct pml_sim_metrics *m)
{
	pml_json_obj_begin(j, key);
	pml_json_int(j, "needs", m->needs);
	pml_json_int(j, "stalls", m->stalls);
	pml_json_double(j, "stall_rate", m->needs ? (double)m->stalls / m->needs : 0);
	pml_json_double(j, "stall_ms", m->stall_ms);
	pml_json_double(j, "footprint_byte_s", m->byte_s);
	pml_json_int(j, "peak_bytes", m->peak_bytes);
	pml_json_int(j, "predicted_loads", m->predicted_loads);
	pml_json_int(j, "wasted_loads", m->wasted_loads);
	pml_json_int(j, "prefetched_modules", m->prefetched);
	pml_json_int(j, "miss_loads", m->miss_loads);
	pml_json_int(j, "refused", m->refused);
	pml_json_int(j, "evictions", m->evictions);
	pml_json_int(j, "unloads", m->unloads);
	pml_json_double(j, "exposure_module_s", m->exposure_s);
	pml_json_obj_begin(j, "footprint_by_state_byte_s");
	pml_json_double(j, "in_use", m->fp_in_use_bs);
	pml_json_double(j, "idle_after_use", m->fp_idle_bs);
	pml_json_double(j, "before_first_use", m->fp_early_bs);
	pml_json_double(j, "never_used", m->fp_wasted_bs);
	pml_json_double(j, "loading", m->fp_loading_bs);
	pml_json_obj_end(j);
	pml_json_int(j, "needs_with_lead", m->lead_n);
	if (m->lead_n)
		pml_json_double(j, "lead_ms_mean", m->lead_sum_ms / m->lead_n);
	else
		pml_json_null(j, "lead_ms_mean");
	pml_json_int(j, "empty_requests", m->empty_requests);
	pml_json_double(j, "duration_s", m->duration_s);
	pml_json_double(j, "recorded_stall_ms", m->recorded_stall_ms);
	pml_json_obj_end(j);
}

/* Group g's policies, as an object per policy name. */
static void group_json(struct pml_json *j, struct eval *ev, int g)
{
	pml_json_obj_begin(j, eval_group_names[g]);
	pml_json_int(j, "runs", ev->runs[g]);
	pml_json_obj_begin(j, "policies");
	for (size_t p = 0; p < ev->n_pol && ev->runs[g]; p++) {
		struct pml_sim_totals *t = &ev->tot[g][p];
		double ro = eval_fp_ratio(ev, g, p, "oracle");
		double rl = eval_fp_ratio(ev, g, p, "load-all");
		double lead = pml_sim_totals_median_lead(t);

		pml_json_obj_begin(j, ev->pol[p]);
		pml_json_int(j, "runs", t->runs);
		metrics_json(j, "sum", &t->m);
		pml_json_double(j, "stall_rate", t->m.needs ? (double)t->m.stalls / t->m.needs : 0);
		if (ro >= 0)
			pml_json_double(j, "footprint_vs_oracle", ro);
		else
			pml_json_null(j, "footprint_vs_oracle");
		if (rl >= 0)
			pml_json_double(j, "footprint_vs_load_all", rl);
		else
			pml_json_null(j, "footprint_vs_load_all");
		pml_json_double(j, "peak_bytes_mean",
				t->runs ? (double)t->m.peak_bytes / t->runs : 0);
		pml_json_int(j, "peak_bytes_max", t->max_peak);
		if (lead >= 0)
			pml_json_double(j, "lead_ms_median", lead);
		else
			pml_json_null(j, "lead_ms_median");
		pml_json_obj_end(j);
	}
	pml_json_obj_end(j);
	pml_json_obj_end(j);
}

void eval_print_json(const struct eval_opts *o, struct eval *ev)
{
	struct pml_json j;
	size_t src[4];

	pml_json_init(&j, stdout, false);
	pml_json_obj_begin(&j, NULL);
	pml_json_str(&j, "dataset", o->dataset);
	pml_json_str(&j, "split", pml_split_name(o->split));
	pml_json_int(&j, "budget_mem", o->budget > 0 ? o->budget : 0);
	pml_json_double(&j, "tick_ms", o->tick_ms > 0 ? o->tick_ms : 10);
	pml_json_double(&j, "preroll_ms", o->preroll_ms);
	pml_json_double(&j, "miss_ms", o->miss_ms);
	if (eval_any(ev, PML_POLICY_PREDICTOR))
		pml_json_str(&j, "lstm_model", o->model);
	pml_json_str(&j, "costs", ev->costs_used);
	pml_sim_catalog_sources(ev->cat, src);
	pml_json_obj_begin(&j, "cost_sources");
	for (int s = 0; s < 4; s++)
		pml_json_int(&j, pml_sim_cost_src_name(s), (int64_t)src[s]);
	pml_json_obj_end(&j);
	pml_json_obj_begin(&j, "groups");
	for (int g = 0; g < EVAL_G_COUNT; g++) {
		/* a dataset that holds out no family has no such group */
		if (g == EVAL_G_FAMILY && !ev->ds->heldout_fam_test[0] &&
		    !ev->ds->heldout_fam_val[0])
			continue;
		group_json(&j, ev, g);
	}
	pml_json_obj_end(&j);
	pml_json_obj_end(&j);
	fputc('\n', stdout);
}

static void print_table(FILE *f, struct eval *ev, int g, const char *caption)
{
	fprintf(f, "%s\n", caption);
	fprintf(f, "  %-19s %5s %6s %11s %8s %9s %6s %8s %8s %5s %6s %9s %7s\n", "policy", "runs",
		"stall", "stalls/need", "stall s", "fp MB*s", "/orcl", "/ld-all", "peak MB",
		"pred", "wasted", "expo m*s", "lead ms");
	for (size_t p = 0; p < ev->n_pol; p++) {
		struct pml_sim_totals *t = &ev->tot[g][p];
		double ro = eval_fp_ratio(ev, g, p, "oracle");
		double rl = eval_fp_ratio(ev, g, p, "load-all");
		double lead = pml_sim_totals_median_lead(t);
		char sn[32], a[16], b[16], c[16];

		snprintf(sn, sizeof(sn), "%u/%u", t->m.stalls, t->m.needs);
		snprintf(a, sizeof(a), ro >= 0 ? "%.2f" : "-", ro);
		snprintf(b, sizeof(b), rl >= 0 ? "%.2f" : "-", rl);
		snprintf(c, sizeof(c), lead >= 0 ? "%.0f" : "-", lead);
		fprintf(f, "  %-19s %5u %6.3f %11s %8.2f %9.2f %6s %8s %8.3f %5u %6u %9.1f %7s\n",
			ev->pol[p], t->runs, t->m.needs ? (double)t->m.stalls / t->m.needs : 0, sn,
			t->m.stall_ms / 1e3, t->m.byte_s / EVAL_MB, a, b,
			t->runs ? (double)t->m.peak_bytes / t->runs / EVAL_MB : 0,
			t->m.predicted_loads, t->m.wasted_loads, t->m.exposure_s, c);
	}
}

/* Where each policy's footprint went, per group shown. */
static void print_states(FILE *f, struct eval *ev)
{
	fprintf(f, "footprint by state, MB*s (in use; idle after a use; loaded before the first "
		"use; never used; loading):\n");
	for (int g = 0; g < EVAL_G_COUNT; g++) {
		if (!ev->runs[g] || (g != EVAL_G_ALL && ev->runs[g] == ev->runs[EVAL_G_ALL]))
			continue;
		fprintf(f, "  %s\n", group_captions[g]);
		for (size_t p = 0; p < ev->n_pol; p++) {
			const struct pml_sim_metrics *m = &ev->tot[g][p].m;

			fprintf(f, "    %-19s %9.2f %9.2f %9.2f %9.2f %9.2f\n", ev->pol[p],
				m->fp_in_use_bs / EVAL_MB, m->fp_idle_bs / EVAL_MB,
				m->fp_early_bs / EVAL_MB, m->fp_wasted_bs / EVAL_MB,
				m->fp_loading_bs / EVAL_MB);
		}
	}
	fputc('\n', f);
}

void eval_print_text(const struct eval_opts *o, struct eval *ev)
{
	char cap[256];
	size_t src[4];

	pml_sim_catalog_sources(ev->cat, src);
	printf("pml eval: %s, %s split: %u runs (%u of held-out scenarios, ", o->dataset,
	       pml_split_name(o->split), ev->runs[EVAL_G_ALL], ev->runs[EVAL_G_HELDOUT]);
	if (ev->runs[EVAL_G_FAMILY])
		printf("%u of held-out families, ", ev->runs[EVAL_G_FAMILY]);
	printf("%u seen); budget %s", ev->runs[EVAL_G_SEEN], o->budget > 0 ? "" : "none");
	if (o->budget > 0)
		printf("%.2f MB", (double)o->budget / EVAL_MB);
	printf("\ncosts: %zu modules measured, %zu from the catalog, %zu estimated from the "
	       ".ko size, %zu unknown\n", src[PML_SIM_COST_MEASURED], src[PML_SIM_COST_CATALOG],
	       src[PML_SIM_COST_ESTIMATED], src[PML_SIM_COST_DEFAULT]);
	if (eval_any(ev, PML_POLICY_PREDICTOR))
		printf("lstm model: %s\n", o->model);
	printf("\n");
	for (int g = 0; g < EVAL_G_COUNT; g++) {
		if (!ev->runs[g] || (g != EVAL_G_ALL && ev->runs[g] == ev->runs[EVAL_G_ALL]))
			continue;
		snprintf(cap, sizeof(cap), "%s (%u runs)", group_captions[g], ev->runs[g]);
		print_table(stdout, ev, g, cap);
		printf("\n");
	}
	print_states(stdout, ev);
	printf("recorded: the reactive runs' own stalls for these needs (request to the last "
	       "module_load) took %.2f s\n(modprobe's exec included; here a stall is load "
	       "time left%s).\n", ev->tot[EVAL_G_ALL][0].m.recorded_stall_ms / 1e3,
	       o->miss_ms > 0 ? " plus --miss-ms" : ", see --miss-ms");
	printf("stall: needs not loaded when needed / all needs; stall s: load time left at "
	       "them; fp: module bytes x seconds (non-base),\n/orcl, /ld-all: footprint "
	       "over the oracle's and load-all's; pred: loads asked and done; wasted: never "
	       "used;\nexpo: module-seconds loaded and unused; lead: median time a need's "
	       "module was asked for before it.\n");
}
