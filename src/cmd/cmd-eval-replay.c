/* pml eval: the replay. The simulated module set's catalog (the module tree's
 * dependencies and file sizes, the measured costs, the guest's base set), then every
 * complete run of the split through every policy (sim/sim.c), each result added to its
 * policy's totals for all the runs and for the run's group; --report's run keeps its
 * results (and their timelines) for the page. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd-errors.h"
#include "cmd/cmd-eval.h"
#include "cmd/commands.h"
#include "repo/repo.h"
#include "sim/catalog.h"
#include "util/json.h"
#include "util/safepath.h"
#include "vm/paths.h"
#include "vm/vm.h"

/* The module tree's catalog (or none: no dependencies, no file sizes), the costs file
 * (--costs or the shipped one), the base modules. */
int eval_open_catalog(const struct eval_opts *o, struct eval *ev)
{
	char moddir[4096], src[4096], costs[4200], base[512], *save = NULL, *tok;
	const char *rel = ev->ds->kernel[0] ? ev->ds->kernel : PML_KERNEL_RELEASE_PINNED;
	int r;

	if (o->moddir)
		snprintf(moddir, sizeof(moddir), "%s", o->moddir);
	else if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0)
		moddir[0] = '\0';
	if (moddir[0]) {
		r = pml_repo_open(moddir, NULL, 0, &ev->repo);
		if (r < 0) {
			fprintf(stderr, "pml: eval: %s: cannot open the module catalog (%s); "
					"replaying without dependencies or file sizes\n", moddir,
				strerror(-r));
			ev->repo = NULL;
		}
	} else {
		fprintf(stderr, "pml: eval: no module tree (run scripts/fetch-kernel or pass "
				"--moddir); replaying without dependencies or file sizes\n");
	}
	r = pml_sim_catalog_new(ev->repo, &ev->cat);
	if (r < 0)
		return eval_fail(r);
	if (o->costs)
		snprintf(costs, sizeof(costs), "%s", o->costs);
	else if (pml_testbed_src_dir(src, sizeof(src)) == 0)
		snprintf(costs, sizeof(costs), "%s/data/costs-%s.jsonl", src, rel);
	else
		snprintf(costs, sizeof(costs), "data/costs-%s.jsonl", rel);
	r = pml_sim_catalog_import_costs(ev->cat, costs);
	if (r < 0) {
		fprintf(stderr, "pml: eval: %s: %s; %s\n", costs, cmd_costs_strerror(r),
			o->costs ? "cannot go on without the costs asked for"
				 : "costs are estimated from file sizes only");
		if (o->costs)
			return eval_fail(r);
		ev->costs_used[0] = '\0';
	} else {
		snprintf(ev->costs_used, sizeof(ev->costs_used), "%s", costs);
	}
	pml_sim_catalog_fit(ev->cat);
	snprintf(base, sizeof(base), "%s", o->base ? o->base : EVAL_DEFAULT_BASE);
	for (tok = strtok_r(base, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *one[1] = {tok};

		r = pml_sim_catalog_add_base(ev->cat, one, 1);
		if (r < 0)
			return eval_fail(r);
	}
	return PML_EXIT_OK;
}

static int group_of(const struct pml_dataset *ds, const struct pml_ds_run *run)
{
	if (pml_dataset_family_heldout(ds, run->family) != PML_HELD_NONE)
		return EVAL_G_FAMILY;
	return run->heldout ? EVAL_G_HELDOUT : EVAL_G_SEEN;
}

/* The first max bytes of a text file, in a new string; NULL when it cannot be read. */
static char *read_text(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* What one run's replay under every policy needs besides the options: the trace, static's
 * list (the run's family), the workload's script (the prior of policies that read it). */
struct one_run {
	const struct pml_ds_run *run;
	struct pml_sim_trace *t;
	const char **fam_list;
	size_t n_fam;
	char *script_text;
};

/* The members every --needs-out line starts with. */
static void line_head(struct pml_json *j, const struct eval *ev, const struct pml_ds_run *run,
		      const char *kind, const char *policy)
{
	pml_json_init(j, ev->needs_f, false);
	pml_json_obj_begin(j, NULL);
	pml_json_str(j, "kind", kind);
	pml_json_str(j, "run", run->id);
	pml_json_str(j, "scenario", run->scenario);
	pml_json_str(j, "family", run->family);
	pml_json_str(j, "group", eval_group_names[group_of(ev->ds, run)]);
	pml_json_str(j, "policy", policy);
}

/* --needs-out: a JSON line per need of res (the run's, under policy), then one per module
 * the policy's load worker inserted (a prefetch, or a dependency of one). 0 or -EIO. */
static int write_needs_out(struct eval *ev, const struct pml_ds_run *run, const char *policy,
		       const struct pml_sim_result *res)
{
	for (size_t i = 0; i < res->n_needs; i++) {
		const struct pml_sim_need *nd = &res->needs[i];
		struct pml_json j;

		line_head(&j, ev, run, "need", policy);
		pml_json_double(&j, "t_ms", nd->t_ms);
		pml_json_str(&j, "module", nd->module);
		pml_json_str(&j, "alias", nd->alias);
		pml_json_bool(&j, "stalled", nd->stalled);
		pml_json_double(&j, "stall_ms", nd->stall_ms);
		if (nd->lead_ms >= 0)
			pml_json_double(&j, "lead_ms", nd->lead_ms);
		else
			pml_json_null(&j, "lead_ms");
		pml_json_obj_end(&j);
		fputc('\n', ev->needs_f);
	}
	for (size_t i = 0; i < res->n_spans; i++) {
		const struct pml_sim_span *sp = &res->spans[i];
		double end = sp->t_end_ms >= 0 ? sp->t_end_ms : res->end_ms;
		struct pml_json j;

		if (!sp->predicted)
			continue;
		line_head(&j, ev, run, "prefetch", policy);
		pml_json_str(&j, "module", sp->module);
		pml_json_double(&j, "t_ms", sp->t_start_ms);
		pml_json_double(&j, "t_end_ms", end);
		pml_json_bool(&j, "used", sp->used);
		pml_json_int(&j, "bytes", sp->bytes);
		pml_json_double(&j, "mb_s", (double)sp->bytes * (end - sp->t_start_ms) / 1e3 /
						    EVAL_MB);
		pml_json_obj_end(&j);
		fputc('\n', ev->needs_f);
	}
	return ferror(ev->needs_f) ? -EIO : 0;
}

/* Replay r under policy p into the totals. PML_EXIT_OK or the exit status (said). */
static int replay_policy(const struct eval_opts *o, struct eval *ev, const struct one_run *r1,
			 size_t p)
{
	const struct pml_ds_run *run = r1->run;
	struct pml_sim_config cfg = {.policy = ev->pol[p], .budget_mem = o->budget,
				     .tick_ms = o->tick_ms,
				     .preroll_ms = o->preroll_ms,
				     .miss_ms = o->miss_ms,
				     .timeline = run == ev->rep_run || ev->needs_f};
	struct pml_sim_result *res = NULL;
	int r;

	cfg.pcfg.idle_seconds = o->idle_seconds;
	cfg.pcfg.threshold = o->threshold;
	cfg.pcfg.horizon_ms = o->horizon_ms;
	if (!o->no_names || !strcmp(ev->pol[p], "names")) {
		cfg.pcfg.resolve_fn = pml_repo_resolve_fn; /* the catalog's index */
		cfg.pcfg.resolve_data = ev->repo;
	}
	cfg.pcfg.needs_model = ev->tr.markov;
	if (!strcmp(ev->pol[p], "load-all")) {
		cfg.pcfg.preload = ev->tr.all;
		cfg.pcfg.n_preload = ev->tr.n_all;
	} else if (!strcmp(ev->pol[p], "static")) {
		cfg.pcfg.preload = r1->fam_list;
		cfg.pcfg.n_preload = r1->n_fam;
	}
	cfg.pcfg.model_path = o->model;
	cfg.pcfg.slots_model = ev->slots;
	cfg.pcfg.kernel_release = run->kernel[0] ? run->kernel : ev->ds->kernel;
	cfg.pcfg.prior_command = r1->t->hdr.command;
	cfg.pcfg.prior_script = r1->script_text;
	r = pml_sim_run(r1->t, ev->cat, &cfg, &res);
	if (r < 0) {
		fprintf(stderr, "pml: eval: run %s, policy %s: %s\n", run->id, ev->pol[p],
			strerror(-r));
		return eval_fail(r);
	}
	if (pml_sim_totals_add(&ev->tot[EVAL_G_ALL][p], res) < 0 ||
	    pml_sim_totals_add(&ev->tot[group_of(ev->ds, run)][p], res) < 0) {
		pml_sim_result_free(res);
		return eval_fail(-ENOMEM);
	}
	if (ev->needs_f && write_needs_out(ev, run, ev->pol[p], res) < 0) {
		fprintf(stderr, "pml: eval: --needs-out %s: %s\n", o->needs_out, strerror(EIO));
		pml_sim_result_free(res);
		return PML_EXIT_FAIL;
	}
	if (run == ev->rep_run)
		ev->rep_res[p] = res;
	else
		pml_sim_result_free(res);
	return PML_EXIT_OK;
}

/* Replay run under every policy. PML_EXIT_OK (a trace that cannot be read is said and
 * left out: *ret_done stays false) or the exit status (said). */
static int replay_run(const struct eval_opts *o, struct eval *ev, const char *src_dir,
		      const struct pml_ds_run *run, bool *ret_done)
{
	struct one_run r1 = {.run = run};
	char path[4300], script[4200];
	int r, status = PML_EXIT_OK;

	snprintf(path, sizeof(path), "%s/%s", ev->ds->dir, run->trace);
	r = pml_dataset_trace_open(ev->ds, run);
	if (r >= 0)
		r = pml_sim_trace_load_fd(r, path, &r1.t);
	if (r < 0) {
		fprintf(stderr, "pml: eval: run %s: %s: %s (left out)\n", run->id, path,
			pml_beneath_strerror(r));
		return PML_EXIT_OK;
	}
	if (r1.t->damaged)
		fprintf(stderr, "pml: eval: run %s: %s (replayed up to the damage)\n", run->id,
			r1.t->error);
	r1.fam_list = eval_module_list(&ev->tr, run->family, &r1.n_fam);
	if (!r1.fam_list) {
		status = eval_fail(-ENOMEM);
		goto out;
	}
	if (src_dir[0] && eval_any(ev, PML_POLICY_TRACE)) {
		snprintf(script, sizeof(script), "%s/workloads/%s.sh", src_dir, run->scenario);
		r1.script_text = read_text(script, 64 * 1024);
	}
	for (size_t p = 0; p < ev->n_pol && status == PML_EXIT_OK; p++)
		status = replay_policy(o, ev, &r1, p);
	if (status != PML_EXIT_OK)
		goto out;
	if (run == ev->rep_run)
		snprintf(ev->rep_command, sizeof(ev->rep_command), "%s", r1.t->hdr.command);
	ev->runs[EVAL_G_ALL]++;
	ev->runs[group_of(ev->ds, run)]++;
	*ret_done = true;
out:
	free(r1.script_text);
	free(r1.fam_list);
	pml_sim_trace_free(r1.t);
	return status;
}

int eval_replay(const struct eval_opts *o, struct eval *ev)
{
	char src_dir[4096];
	size_t n_done = 0;

	pml_testbed_src_dir(src_dir, sizeof(src_dir)); /* the workloads' scripts */
	for (size_t i = 0; i < ev->ds->n_runs; i++) {
		const struct pml_ds_run *run = &ev->ds->runs[i];
		bool done = false;
		int status;

		if (run->split != o->split || run->state != PML_RUN_OK || !run->trace[0])
			continue;
		status = replay_run(o, ev, src_dir, run, &done);
		if (status != PML_EXIT_OK)
			return status;
		n_done += done;
	}
	if (!n_done) {
		fprintf(stderr, "pml: eval: no run of the %s split could be replayed\n",
			pml_split_name(o->split));
		return PML_EXIT_FAIL;
	}
	return PML_EXIT_OK;
}
