/* pml eval: replay every run of a dataset split through each policy (src/sim) under one
 * budget and print the metrics of DESIGN.md per policy, for all the runs, the held-out
 * scenarios and the seen ones apart; --json as one object; --report DIR an HTML page with
 * one run's timelines. Thin: the replay is sim/sim.c, the page sim/report.c; this file
 * gathers what the policies are given from the training split (load-all's and static's
 * lists, markov's needs model) and prints. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd-options.h"
#include "cmd/cmd-errors.h"
#include "cmd/commands.h"
#include "dataset/dataset.h"
#include "dataset/needs.h"
#include "model/slots.h"
#include "model/model-file.h"
#include "policy/needs-model.h"
#include "policy/policy.h"
#include "repo/repo.h"
#include "sim/catalog.h"
#include "sim/report.h"
#include "sim/sim.h"
#include "util/json.h"
#include "util/log.h"
#include "util/safepath.h"
#include "vm/paths.h"
#include "vm/vm.h"

#define MB (1024.0 * 1024.0)
#define MAX_POL 16
#define DEFAULT_BASE "virtio_mmio,virtio_blk,ext4"
/* The lstm model shipped in the source tree (as pml run's default). */
#define LSTM_MODEL_DEFAULT "data/model-lstm-%s.pmlm"
#define SLOTS_MODEL_DEFAULT "data/model-slots-%s.pmls"

static void usage(FILE *f)
{
	char policies[2048];

	fprintf(f,
		"Usage: pml eval --dataset DIR [--split test] [--policy all|NAME[,NAME...]]\n"
		"                [--budget-mem SIZE] [--json] [--report DIR [--run ID]] [options]\n\n"
		"Replay every run of a dataset split (traces recorded under the reactive policy)\n"
		"through each policy, on a simulated module set with the catalog's load costs,\n"
		"and print per policy: stall rate, stall time, footprint (MB*s, as a ratio to the\n"
		"oracle's and load-all's), peak, predicted and wasted loads, exposure and the\n"
		"lead time of prefetches; for all the runs, the held-out scenarios and the seen\n"
		"ones apart. See doc/sim.md for what is simulated and approximated.\n\n"
		"  -d, --dataset DIR      the dataset (pml collect -o DIR)\n"
		"  -s, --split NAME       train, val or test (default test)\n"
		"  -p, --policy LIST      all (the default: every policy below; those of a model\n"
		"                         only with one) or names, comma-separated\n"
		"  -B, --budget-mem SIZE  module bytes predicted loads may fill (default none)\n"
		"  -j, --json             one JSON object on stdout instead of the tables\n"
		"  -r, --report DIR       write DIR/index.html: one run's timeline per policy\n"
		"      --run ID           the run the report draws (default: the split's first)\n"
		"      --model FILE       the lstm policy's model (pml train -o FILE; default: the\n"
		"                         shipped data/model-lstm-REL.pmlm when there is one)\n"
		"      --slots-model FILE the slots policy's model (pml train-slots -o FILE;\n"
		"                         default: the shipped data/model-slots-REL.pmls)\n"
		"      --markov-model FILE  the markov policy's needs model (default: counted from\n"
		"                         the training split's needs)\n"
		"      --save-markov FILE write the needs model counted from the training split\n"
		"                         (for pml run --policy markov|load-all --model FILE)\n"
		"      --threshold P      least probability worth a prefetch (markov, lstm)\n"
		"      --horizon MS       how far ahead predictions look (markov, lstm; default:\n"
		"                         the model's)\n"
		"      --no-names         lstm: the model's predictions only, not the modules the\n"
		"                         program names ('type vxlan', 'mount -t xfs'), as\n"
		"                         lstm-model (the names policy keeps its rules)\n"
		"      --idle-seconds T   idle-unload's T, and when unused prefetches go (default 5)\n"
		"      --tick-ms MS       how often policies decide, in trace time (default 10)\n"
		"      --preroll-ms MS    time policies get before the program starts (default 0)\n"
		"      --miss-ms MS       the request path of a miss (modprobe's exec) added to each\n"
		"                         stall (default 0: stall time is load time, as DESIGN.md)\n"
		"      --costs FILE       measured module costs (default data/costs-REL.jsonl)\n"
		"      --moddir DIR       the module tree (default: the fetched guest kernel's)\n"
		"      --base LIST        modules the guest has at start, with their dependencies\n"
		"                         (default %s)\n"
		"  -h, --help             this text\n\n"
		PML_NUM_SIZE_HELP PML_NUM_DURATION_HELP "\nPolicies:\n%s",
		DEFAULT_BASE, pml_policy_help(policies, sizeof(policies), 0, 16));
}

struct opts {
	const char *dataset, *split_name, *policies, *report, *run_id, *model, *markov_model;
	const char *costs, *moddir, *base, *save_markov, *slots_model;
	enum pml_split split;
	int64_t budget;
	double threshold, horizon_ms, idle_seconds, tick_ms, preroll_ms, miss_ms;
	bool json, no_names;
};

/* ---- what the training split gives the policies ---- */

struct modcount {
	char name[64];
	char family[32]; /* "" for the all-families list */
	unsigned runs;
};

struct training {
	struct modcount *v;
	size_t n, cap;
	struct pml_needs_model *markov;
};

static int count_module(struct training *tr, const char *family, const char *name)
{
	for (size_t i = 0; i < tr->n; i++)
		if (!strcmp(tr->v[i].family, family) && !strcmp(tr->v[i].name, name)) {
			tr->v[i].runs++;
			return 0;
		}
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 128;
		struct modcount *n = realloc(tr->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		tr->v = n;
		tr->cap = cap;
	}
	memset(&tr->v[tr->n], 0, sizeof(tr->v[0]));
	snprintf(tr->v[tr->n].name, sizeof(tr->v[0].name), "%s", name);
	snprintf(tr->v[tr->n].family, sizeof(tr->v[0].family), "%s", family);
	tr->v[tr->n++].runs = 1;
	return 0;
}

static int by_runs(const void *x, const void *y)
{
	const struct modcount *a = x, *b = y;

	if (a->runs != b->runs)
		return a->runs > b->runs ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The modules of family ("" for all), most often needed first, into a new array. */
static const char **module_list(const struct training *tr, const char *family, size_t *ret_n)
{
	const char **v = calloc(tr->n + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < tr->n; i++)
		if (!strcmp(tr->v[i].family, family))
			v[n++] = tr->v[i].name;
	*ret_n = n;
	return v;
}

/* Count the training runs: modules per family and overall; markov's needs model from
 * their traces when wanted. */
static int learn(const struct pml_dataset *ds, struct pml_sim_catalog *cat, bool markov,
		 struct training *tr)
{
	size_t n_train = 0;
	int r;

	if (markov) {
		r = pml_needs_model_new(0, -1, &tr->markov);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];
		char mods[sizeof(run->modules)], *save = NULL, *tok;

		if (run->split != PML_SPLIT_TRAIN || run->state != PML_RUN_OK)
			continue;
		n_train++;
		snprintf(mods, sizeof(mods), "%s", run->modules);
		for (tok = strtok_r(mods, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			if (count_module(tr, "", tok) < 0 || count_module(tr, run->family, tok) < 0)
				return -ENOMEM;
		}
		if (markov) {
			char path[4300];
			struct pml_needs needs;
			const char **names;
			uint64_t *times;
			size_t k = 0;

			if (!run->trace[0])
				continue;
			/* below the dataset, through no link (the manifest is not
			 * trusted) */
			snprintf(path, sizeof(path), "%s/%s", ds->dir, run->trace);
			r = pml_dataset_trace_open(ds, run);
			if (r >= 0)
				r = pml_needs_from_fd(r, path, &needs);
			else
				pml_needs_init(&needs);
			if (r < 0 && r != -ENODATA && r != -EBADMSG) {
				pml_needs_release(&needs);
				fprintf(stderr, "pml: eval: %s: %s (left out of markov's model)\n",
					path, pml_beneath_strerror(r));
				continue;
			}
			names = calloc(needs.n + 1, sizeof(*names));
			times = calloc(needs.n + 1, sizeof(*times));
			if (!names || !times) {
				free(names);
				free(times);
				pml_needs_release(&needs);
				return -ENOMEM;
			}
			for (size_t j = 0; j < needs.n; j++) {
				const struct pml_sim_mod *m;

				if (!needs.v[j].module[0])
					continue;
				names[k] = needs.v[j].module;
				times[k++] = needs.v[j].t_ns;
				m = pml_sim_catalog_get(cat, needs.v[j].module);
				if (m)
					pml_needs_model_add_cost(tr->markov, m->name, m->bytes,
								 m->load_ms);
			}
			r = pml_needs_model_add_run(tr->markov, names, times, k);
			free(names);
			free(times);
			pml_needs_release(&needs);
			if (r == -ENOMEM)
				return r;
		}
	}
	qsort(tr->v, tr->n, sizeof(tr->v[0]), by_runs);
	return (int)n_train;
}

/* ---- results ---- */

/* The runs' groups: every run, those of held-out scenarios, those of families held out
 * whole (dataset.h; none in a dataset made before them), the rest (scenarios seen in
 * training). A run of a held-out family is in that group only. */
enum { G_ALL, G_HELDOUT, G_FAMILY, G_SEEN, G_COUNT };
static const char *const group_names[G_COUNT] = {"all", "heldout", "heldout_family", "seen"};
static const char *const group_captions[G_COUNT] = {
	"all runs", "held-out scenarios", "held-out families", "seen scenarios"};

static int group_of(const struct pml_dataset *ds, const struct pml_ds_run *run)
{
	if (pml_dataset_family_heldout(ds, run->family) != PML_HELD_NONE)
		return G_FAMILY;
	return run->heldout ? G_HELDOUT : G_SEEN;
}

struct eval {
	const char *pol[MAX_POL];
	size_t n_pol;
	struct pml_sim_totals tot[G_COUNT][MAX_POL];
	unsigned runs[G_COUNT];
};

static ssize_t pol_index(const struct eval *ev, const char *name)
{
	for (size_t i = 0; i < ev->n_pol; i++)
		if (!strcmp(ev->pol[i], name))
			return (ssize_t)i;
	return -1;
}

/* The names and lstm policies' resolver for the modules a program names: the catalog's
 * index. */
static int resolve_in_repo(void *data, const char *alias, char (*names)[64], size_t max)
{
	char **v = NULL;
	size_t n = 0;
	int r;

	if (!data)
		return 0; /* no module tree: nothing resolves */
	r = pml_repo_resolve_alias(data, alias, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && i < max; i++)
		snprintf(names[i], 64, "%s", v[i]);
	pml_repo_names_free(v);
	return (int)n;
}

/* A policy that runs the slot model is among them. */
static bool needs_slots(const struct eval *ev)
{
	for (size_t i = 0; i < ev->n_pol; i++) {
		const struct pml_policy_info *in = pml_policy_info(ev->pol[i]);

		if (in && (in->flags & PML_POLICY_SLOTS))
			return true;
	}
	return false;
}

/* A policy that reads the program is among them: the prior script. */
static bool reads_trace(const struct eval *ev)
{
	for (size_t i = 0; i < ev->n_pol; i++)
		if (pml_policy_reads_trace(ev->pol[i]))
			return true;
	return false;
}

/* An lstm policy is among them: the model. */
static bool needs_predictor(const struct eval *ev)
{
	for (size_t i = 0; i < ev->n_pol; i++)
		if (pml_policy_needs_predictor(ev->pol[i]))
			return true;
	return false;
}

static double ratio(const struct eval *ev, int g, size_t p, const char *base)
{
	ssize_t b = pol_index(ev, base);

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

static void print_table(FILE *f, struct eval *ev, int g, const char *caption)
{
	fprintf(f, "%s\n", caption);
	fprintf(f, "  %-16s %5s %6s %11s %8s %9s %6s %8s %8s %5s %6s %9s %7s\n", "policy", "runs",
		"stall", "stalls/need", "stall s", "fp MB*s", "/orcl", "/ld-all", "peak MB",
		"pred", "wasted", "expo m*s", "lead ms");
	for (size_t p = 0; p < ev->n_pol; p++) {
		struct pml_sim_totals *t = &ev->tot[g][p];
		double ro = ratio(ev, g, p, "oracle"), rl = ratio(ev, g, p, "load-all");
		double lead = pml_sim_totals_median_lead(t);
		char sn[32], a[16], b[16], c[16];

		snprintf(sn, sizeof(sn), "%u/%u", t->m.stalls, t->m.needs);
		snprintf(a, sizeof(a), ro >= 0 ? "%.2f" : "-", ro);
		snprintf(b, sizeof(b), rl >= 0 ? "%.2f" : "-", rl);
		snprintf(c, sizeof(c), lead >= 0 ? "%.0f" : "-", lead);
		fprintf(f, "  %-16s %5u %6.3f %11s %8.2f %9.2f %6s %8s %8.3f %5u %6u %9.1f %7s\n",
			ev->pol[p], t->runs, t->m.needs ? (double)t->m.stalls / t->m.needs : 0, sn,
			t->m.stall_ms / 1e3, t->m.byte_s / MB, a, b,
			t->runs ? (double)t->m.peak_bytes / t->runs / MB : 0, t->m.predicted_loads,
			t->m.wasted_loads, t->m.exposure_s, c);
	}
}

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

/* ---- the command ---- */

static int parse_policies(const struct opts *o, struct eval *ev)
{
	char buf[512], *save = NULL, *tok;

	if (!strcmp(o->policies, "all")) {
		/* the table's order: names, lstm-model and lstm side by side */
		for (size_t i = 0; pml_policy_table[i].ops && ev->n_pol < MAX_POL; i++) {
			const char *name = pml_policy_table[i].ops->name;

			if ((pml_policy_table[i].flags & PML_POLICY_SLOTS) && !o->slots_model) {
				if (!o->json)
					fprintf(stderr, "pml: eval: %s left out: no --slots-model FILE "
						"and no shipped one\n", name);
				continue;
			}
			if ((pml_policy_table[i].flags & PML_POLICY_PREDICTOR) && !o->model) {
				if (!o->json)
					fprintf(stderr, "pml: eval: %s left out: no --model FILE and "
						"no shipped model\n", name);
				continue;
			}
			ev->pol[ev->n_pol++] = name;
		}
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", o->policies);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct pml_policy_ops *ops = pml_policy_find(tok);

		if (!ops) {
			char list[256];

			fprintf(stderr, "pml: eval: --policy '%s': not a policy (%s)\n", tok,
				pml_policy_names_list(list, sizeof(list), 0));
			return -ENOENT;
		}
		if (ev->n_pol == MAX_POL)
			return -E2BIG;
		if (pol_index(ev, ops->name) < 0)
			ev->pol[ev->n_pol++] = ops->name;
	}
	for (size_t i = 0; i < ev->n_pol; i++) {
		const struct pml_policy_info *in = pml_policy_info(ev->pol[i]);

		if (in && (in->flags & PML_POLICY_SLOTS) && !o->slots_model) {
			fprintf(stderr, "pml: eval: the %s policy needs --slots-model FILE (pml "
					"train-slots -o FILE)\n", ev->pol[i]);
			return -EINVAL;
		}
	}
	if (needs_predictor(ev) && !o->model) {
		fprintf(stderr, "pml: eval: the lstm policy needs --model FILE (pml train -o FILE): "
				"no model is shipped\n");
		return -EINVAL;
	}
	return 0;
}

static int open_catalog(const struct opts *o, const struct pml_dataset *ds,
			struct pml_repo **ret_repo, struct pml_sim_catalog **ret_cat,
			char *costs_used, size_t size)
{
	char moddir[4096], src[4096], costs[4200], base[512], *save = NULL, *tok;
	const char *rel = ds->kernel[0] ? ds->kernel : PML_KERNEL_RELEASE_PINNED;
	struct pml_repo *repo = NULL;
	int r;

	if (o->moddir)
		snprintf(moddir, sizeof(moddir), "%s", o->moddir);
	else if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0)
		moddir[0] = '\0';
	if (moddir[0]) {
		r = pml_repo_open(moddir, NULL, 0, &repo);
		if (r < 0) {
			fprintf(stderr, "pml: eval: %s: cannot open the module catalog (%s); "
					"replaying without dependencies or file sizes\n", moddir,
				strerror(-r));
			repo = NULL;
		}
	} else {
		fprintf(stderr, "pml: eval: no module tree (run scripts/fetch-kernel or pass "
				"--moddir); replaying without dependencies or file sizes\n");
	}
	r = pml_sim_catalog_new(repo, ret_cat);
	if (r < 0) {
		pml_repo_free(repo);
		return r;
	}
	if (o->costs)
		snprintf(costs, sizeof(costs), "%s", o->costs);
	else if (pml_testbed_src_dir(src, sizeof(src)) == 0)
		snprintf(costs, sizeof(costs), "%s/data/costs-%s.jsonl", src, rel);
	else
		snprintf(costs, sizeof(costs), "data/costs-%s.jsonl", rel);
	r = pml_sim_catalog_import_costs(*ret_cat, costs);
	if (r < 0) {
		fprintf(stderr, "pml: eval: %s: %s; %s\n", costs, cmd_costs_strerror(r),
			o->costs ? "cannot go on without the costs asked for"
				 : "costs are estimated from file sizes only");
		if (o->costs) {
			pml_sim_catalog_free(*ret_cat);
			pml_repo_free(repo);
			return r;
		}
		costs_used[0] = '\0';
	} else {
		snprintf(costs_used, size, "%s", costs);
	}
	pml_sim_catalog_fit(*ret_cat);
	snprintf(base, sizeof(base), "%s", o->base ? o->base : DEFAULT_BASE);
	for (tok = strtok_r(base, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *one[1] = {tok};

		r = pml_sim_catalog_add_base(*ret_cat, one, 1);
		if (r < 0)
			break;
	}
	*ret_repo = repo;
	return r < 0 ? r : 0;
}

static void report_notes(char *buf, size_t size, const struct opts *o, const char *costs,
			 struct pml_sim_catalog *cat)
{
	size_t src[4];
	double a, b, c, d;
	char budget[64] = "none";

	pml_sim_catalog_sources(cat, src);
	pml_sim_catalog_coefficients(cat, &a, &b, &c, &d);
	if (o->budget > 0)
		snprintf(budget, sizeof(budget), "%.2f MB", (double)o->budget / MB);
	snprintf(buf, size,
		 "costs: %zu modules measured (%s), %zu from the catalog, %zu estimated from "
		 "the .ko size (bytes = exp(%.2f) * size^%.3f, load = %.1f ms + %.3f ms/KiB), "
		 "%zu unknown (64 KiB, 50 ms)\n"
		 "budget: %s; tick %.0f ms; preroll %.0f ms; miss %.0f ms; idle %.1f s\n"
		 "The trace timeline is kept as recorded in the reactive run (stalls do not "
		 "delay what follows); only first uses are needs; a module is in use while the "
		 "process that needed it lives. See doc/sim.md.",
		 src[PML_SIM_COST_MEASURED], costs[0] ? costs : "none", src[PML_SIM_COST_CATALOG],
		 src[PML_SIM_COST_ESTIMATED], a, b, c, d, src[PML_SIM_COST_DEFAULT], budget,
		 o->tick_ms > 0 ? o->tick_ms : 10.0, o->preroll_ms, o->miss_ms, o->idle_seconds);
}

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dataset", required_argument, NULL, 'd'},
		{"split", required_argument, NULL, 's'},
		{"policy", required_argument, NULL, 'p'},
		{"budget-mem", required_argument, NULL, 'B'},
		{"json", no_argument, NULL, 'j'},
		{"report", required_argument, NULL, 'r'},
		{"run", required_argument, NULL, 'R'},
		{"model", required_argument, NULL, 'm'},
		{"markov-model", required_argument, NULL, 'M'},
		{"threshold", required_argument, NULL, 't'},
		{"horizon", required_argument, NULL, 'H'},
		{"save-markov", required_argument, NULL, 'S'},
		{"slots-model", required_argument, NULL, 'L'},
		{"no-names", no_argument, NULL, 'N'},
		{"idle-seconds", required_argument, NULL, 'i'},
		{"tick-ms", required_argument, NULL, 'k'},
		{"preroll-ms", required_argument, NULL, 'P'},
		{"miss-ms", required_argument, NULL, 'x'},
		{"costs", required_argument, NULL, 'c'},
		{"moddir", required_argument, NULL, 'D'},
		{"base", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct opts o = {.split_name = "test", .policies = "all", .idle_seconds = 5.0};
	struct pml_dataset *ds = NULL;
	struct pml_slots_model *slots = NULL;
	struct pml_repo *repo = NULL;
	struct pml_sim_catalog *cat = NULL;
	struct training tr = {0};
	struct eval *ev = NULL;
	struct pml_sim_result *rep_res[MAX_POL] = {0};
	const struct pml_ds_run *rep_run = NULL;
	char rep_command[256] = "", costs_used[4200] = "", src_dir[4096] = "";
	char default_model[4200] = "", default_slots[4200] = "";
	const char **all_list = NULL;
	size_t n_all = 0, n_sel = 0, n_done = 0;
	struct pml_json j;
	int c, r, status = PML_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "d:s:p:B:jr:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.dataset = optarg;
			break;
		case 's':
			o.split_name = optarg;
			break;
		case 'p':
			o.policies = optarg;
			break;
		case 'B':
			if (cmd_num_i64("pml: eval", PML_NUMOPT_BUDGET_MEM, optarg, &o.budget) < 0)
				return PML_EXIT_USAGE;
			break;
		case 'j':
			o.json = true;
			break;
		case 'r':
			o.report = optarg;
			break;
		case 'R':
			o.run_id = optarg;
			break;
		case 'm':
			o.model = optarg;
			break;
		case 'M':
			o.markov_model = optarg;
			break;
		case 'S':
			o.save_markov = optarg;
			break;
		case 'L':
			o.slots_model = optarg;
			break;
		case 'N':
			o.no_names = true;
			break;
		case 't':
		case 'H':
		case 'i':
		case 'k':
		case 'x':
		case 'P': {
			/* 0 stays "the default" for those that have one: not given */
			enum pml_numopt id = c == 't'	? PML_NUMOPT_THRESHOLD
					     : c == 'H' ? PML_NUMOPT_HORIZON
					     : c == 'i' ? PML_NUMOPT_IDLE_SECONDS
					     : c == 'k' ? PML_NUMOPT_TICK_MS
					     : c == 'x' ? PML_NUMOPT_MISS_MS
							: PML_NUMOPT_PREROLL_MS;
			double *to = c == 't'	? &o.threshold
				     : c == 'H' ? &o.horizon_ms
				     : c == 'i' ? &o.idle_seconds
				     : c == 'k' ? &o.tick_ms
				     : c == 'x' ? &o.miss_ms
						: &o.preroll_ms;

			if (cmd_num("pml: eval", id, optarg, to) < 0)
				return PML_EXIT_USAGE;
			break;
		}
		case 'c':
			o.costs = optarg;
			break;
		case 'D':
			o.moddir = optarg;
			break;
		case 'b':
			o.base = optarg;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (!o.dataset || optind != argc) {
		usage(stderr);
		return PML_EXIT_USAGE;
	}
	if (pml_split_parse(o.split_name, &o.split) < 0) {
		fprintf(stderr, "pml: eval: --split: '%s' is not train, val or test\n",
			o.split_name);
		return PML_EXIT_USAGE;
	}
	if (!o.model && pml_testbed_src_dir(src_dir, sizeof(src_dir)) == 0) {
		char rel[64];
		struct stat st;

		if (pml_kernel_release(rel, sizeof(rel)) < 0)
			snprintf(rel, sizeof(rel), "%s", PML_KERNEL_RELEASE_PINNED);
		snprintf(default_model, sizeof(default_model), "%s/" LSTM_MODEL_DEFAULT, src_dir,
			 rel);
		if (stat(default_model, &st) == 0)
			o.model = default_model;
	}
	if (!o.slots_model && pml_testbed_src_dir(src_dir, sizeof(src_dir)) == 0) {
		char rel[64];
		struct stat st;

		if (pml_kernel_release(rel, sizeof(rel)) < 0)
			snprintf(rel, sizeof(rel), "%s", PML_KERNEL_RELEASE_PINNED);
		snprintf(default_slots, sizeof(default_slots), "%s/" SLOTS_MODEL_DEFAULT, src_dir,
			 rel);
		if (stat(default_slots, &st) == 0)
			o.slots_model = default_slots;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		goto oom;
	r = parse_policies(&o, ev);
	if (r < 0) {
		free(ev);
		return PML_EXIT_USAGE;
	}
	r = pml_dataset_open(o.dataset, &ds);
	if (r < 0) {
		if (r == -ENOENT)
			fprintf(stderr, "pml: eval: %s: no %s (not a dataset; pml collect -o %s "
					"makes one)\n", o.dataset, PML_DATASET_MANIFEST, o.dataset);
		else
			fprintf(stderr, "pml: eval: %s: %s\n", o.dataset, cmd_manifest_strerror(r));
		goto out;
	}
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];

		if (run->split != o.split || run->state != PML_RUN_OK || !run->trace[0])
			continue;
		n_sel++;
		if (!rep_run && (!o.run_id || !strcmp(o.run_id, run->id)))
			rep_run = run;
	}
	if (!n_sel) {
		fprintf(stderr, "pml: eval: %s: no complete run in the %s split (%zu runs in all)\n",
			o.dataset, pml_split_name(o.split), ds->n_runs);
		goto out;
	}
	if (o.report && o.run_id && !rep_run) {
		fprintf(stderr, "pml: eval: --run %s: no such complete run in the %s split\n",
			o.run_id, pml_split_name(o.split));
		status = PML_EXIT_USAGE;
		goto out;
	}
	if (!o.report)
		rep_run = NULL;
	if (needs_predictor(ev) && o.model) {
		/* said once, in words about the file, not as an errno at the first run */
		struct pml_model_file *mf = NULL;

		r = pml_model_file_open(o.model, ds->kernel[0] ? ds->kernel : NULL, 0, &mf);
		pml_model_file_free(mf);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --model %s: %s\n", o.model,
				pml_model_file_strerror(r));
			status = PML_EXIT_USAGE;
			goto out;
		}
	}
	if (o.slots_model && needs_slots(ev)) {
		/* read once, here, and lent to every run's policy */
		r = pml_slots_model_read(o.slots_model, ds->kernel[0] ? ds->kernel : NULL, &slots);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --slots-model %s: not a slot model this pml can "
					"use (said above)\n", o.slots_model);
			status = PML_EXIT_USAGE;
			goto out;
		}
	}
	r = open_catalog(&o, ds, &repo, &cat, costs_used, sizeof(costs_used));
	if (r < 0)
		goto fail;
	r = learn(ds, cat, o.save_markov || (pol_index(ev, "markov") >= 0 && !o.markov_model),
		  &tr);
	if (r < 0)
		goto fail;
	if (r == 0 && !o.json)
		fprintf(stderr, "pml: eval: %s: no training runs: load-all, static and markov have "
				"nothing to learn from\n", o.dataset);
	if (o.save_markov) {
		r = pml_needs_model_save(tr.markov, o.save_markov);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --save-markov %s: %s\n", o.save_markov,
				strerror(-r));
			goto out;
		}
		if (!o.json)
			fprintf(stderr, "pml: eval: wrote %s: the needs model of %zu training runs "
					"(%zu modules, %zu pairs)\n", o.save_markov,
				pml_needs_model_runs(tr.markov), pml_needs_model_modules(tr.markov),
				pml_needs_model_pairs(tr.markov));
	}
	if (o.markov_model && pol_index(ev, "markov") >= 0) {
		char why[256];

		pml_needs_model_free(tr.markov); /* the one counted for --save-markov */
		tr.markov = NULL;
		r = pml_needs_model_load(o.markov_model, &tr.markov, why, sizeof(why));
		if (r < 0) {
			fprintf(stderr, "pml: eval: %s: %s\n", o.markov_model, why);
			goto out;
		}
	}
	all_list = module_list(&tr, "", &n_all);
	if (!all_list)
		goto oom;
	if (!src_dir[0])
		pml_testbed_src_dir(src_dir, sizeof(src_dir));

	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];
		struct pml_sim_trace *t = NULL;
		const char **fam_list;
		size_t n_fam = 0;
		char path[4300], script[4200];
		char *script_text = NULL;

		if (run->split != o.split || run->state != PML_RUN_OK || !run->trace[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", ds->dir, run->trace);
		r = pml_dataset_trace_open(ds, run);
		if (r >= 0)
			r = pml_sim_trace_load_fd(r, path, &t);
		if (r < 0) {
			fprintf(stderr, "pml: eval: run %s: %s: %s (left out)\n", run->id, path,
				pml_beneath_strerror(r));
			continue;
		}
		if (t->damaged)
			fprintf(stderr, "pml: eval: run %s: %s (replayed up to the damage)\n",
				run->id, t->error);
		fam_list = module_list(&tr, run->family, &n_fam);
		if (!fam_list) {
			pml_sim_trace_free(t);
			goto oom;
		}
		if (src_dir[0] && reads_trace(ev)) {
			snprintf(script, sizeof(script), "%s/workloads/%s.sh", src_dir, run->scenario);
			script_text = read_text(script, 64 * 1024);
		}
		for (size_t p = 0; p < ev->n_pol; p++) {
			struct pml_sim_config cfg = {.policy = ev->pol[p], .budget_mem = o.budget,
						     .tick_ms = o.tick_ms,
						     .preroll_ms = o.preroll_ms,
						     .miss_ms = o.miss_ms,
						     .timeline = run == rep_run};
			struct pml_sim_result *res = NULL;

			cfg.pcfg.idle_seconds = o.idle_seconds;
			cfg.pcfg.threshold = o.threshold;
			cfg.pcfg.horizon_ms = o.horizon_ms;
			if (!o.no_names || !strcmp(ev->pol[p], "names")) {
				cfg.pcfg.resolve_fn = resolve_in_repo;
				cfg.pcfg.resolve_data = repo;
			}
			cfg.pcfg.needs_model = tr.markov;
			if (!strcmp(ev->pol[p], "load-all")) {
				cfg.pcfg.preload = all_list;
				cfg.pcfg.n_preload = n_all;
			} else if (!strcmp(ev->pol[p], "static")) {
				cfg.pcfg.preload = fam_list;
				cfg.pcfg.n_preload = n_fam;
			}
			cfg.pcfg.model_path = o.model;
			cfg.pcfg.slots_model = slots;
			cfg.pcfg.kernel_release = run->kernel[0] ? run->kernel : ds->kernel;
			cfg.pcfg.prior_command = t->hdr.command;
			cfg.pcfg.prior_script = script_text;
			r = pml_sim_run(t, cat, &cfg, &res);
			if (r < 0) {
				fprintf(stderr, "pml: eval: run %s, policy %s: %s\n", run->id,
					ev->pol[p], strerror(-r));
				free(script_text);
				free(fam_list);
				pml_sim_trace_free(t);
				goto fail;
			}
			if (pml_sim_totals_add(&ev->tot[G_ALL][p], res) < 0 ||
			    pml_sim_totals_add(&ev->tot[group_of(ds, run)][p], res) < 0) {
				pml_sim_result_free(res);
				free(script_text);
				free(fam_list);
				pml_sim_trace_free(t);
				goto oom;
			}
			if (run == rep_run)
				rep_res[p] = res;
			else
				pml_sim_result_free(res);
		}
		if (run == rep_run)
			snprintf(rep_command, sizeof(rep_command), "%s", t->hdr.command);
		ev->runs[G_ALL]++;
		ev->runs[group_of(ds, run)]++;
		n_done++;
		free(script_text);
		free(fam_list);
		pml_sim_trace_free(t);
	}
	if (!n_done) {
		fprintf(stderr, "pml: eval: no run of the %s split could be replayed\n",
			pml_split_name(o.split));
		goto out;
	}

	if (o.json) {
		pml_json_init(&j, stdout, false);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "dataset", o.dataset);
		pml_json_str(&j, "split", pml_split_name(o.split));
		pml_json_int(&j, "budget_mem", o.budget > 0 ? o.budget : 0);
		pml_json_double(&j, "tick_ms", o.tick_ms > 0 ? o.tick_ms : 10);
		pml_json_double(&j, "preroll_ms", o.preroll_ms);
		pml_json_double(&j, "miss_ms", o.miss_ms);
		if (needs_predictor(ev))
			pml_json_str(&j, "lstm_model", o.model);
		pml_json_str(&j, "costs", costs_used);
		{
			size_t src[4];

			pml_sim_catalog_sources(cat, src);
			pml_json_obj_begin(&j, "cost_sources");
			for (int s = 0; s < 4; s++)
				pml_json_int(&j, pml_sim_cost_src_name(s), (int64_t)src[s]);
			pml_json_obj_end(&j);
		}
		pml_json_obj_begin(&j, "groups");
		for (int g = 0; g < G_COUNT; g++) {
			/* a dataset that holds out no family has no such group */
			if (g == G_FAMILY && !ds->heldout_fam_test[0] && !ds->heldout_fam_val[0])
				continue;
			pml_json_obj_begin(&j, group_names[g]);
			pml_json_int(&j, "runs", ev->runs[g]);
			pml_json_obj_begin(&j, "policies");
			for (size_t p = 0; p < ev->n_pol && ev->runs[g]; p++) {
				struct pml_sim_totals *t = &ev->tot[g][p];
				double ro = ratio(ev, g, p, "oracle"), rl = ratio(ev, g, p, "load-all");
				double lead = pml_sim_totals_median_lead(t);

				pml_json_obj_begin(&j, ev->pol[p]);
				pml_json_int(&j, "runs", t->runs);
				metrics_json(&j, "sum", &t->m);
				pml_json_double(&j, "stall_rate",
						t->m.needs ? (double)t->m.stalls / t->m.needs : 0);
				if (ro >= 0)
					pml_json_double(&j, "footprint_vs_oracle", ro);
				else
					pml_json_null(&j, "footprint_vs_oracle");
				if (rl >= 0)
					pml_json_double(&j, "footprint_vs_load_all", rl);
				else
					pml_json_null(&j, "footprint_vs_load_all");
				pml_json_double(&j, "peak_bytes_mean",
						t->runs ? (double)t->m.peak_bytes / t->runs : 0);
				pml_json_int(&j, "peak_bytes_max", t->max_peak);
				if (lead >= 0)
					pml_json_double(&j, "lead_ms_median", lead);
				else
					pml_json_null(&j, "lead_ms_median");
				pml_json_obj_end(&j);
			}
			pml_json_obj_end(&j);
			pml_json_obj_end(&j);
		}
		pml_json_obj_end(&j);
		pml_json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		char cap[256];
		size_t src[4];

		pml_sim_catalog_sources(cat, src);
		printf("pml eval: %s, %s split: %u runs (%u of held-out scenarios, ", o.dataset,
		       pml_split_name(o.split), ev->runs[G_ALL], ev->runs[G_HELDOUT]);
		if (ev->runs[G_FAMILY])
			printf("%u of held-out families, ", ev->runs[G_FAMILY]);
		printf("%u seen); budget %s", ev->runs[G_SEEN], o.budget > 0 ? "" : "none");
		if (o.budget > 0)
			printf("%.2f MB", (double)o.budget / MB);
		printf("\ncosts: %zu modules measured, %zu from the catalog, %zu estimated from the "
		       ".ko size, %zu unknown\n", src[PML_SIM_COST_MEASURED],
		       src[PML_SIM_COST_CATALOG], src[PML_SIM_COST_ESTIMATED],
		       src[PML_SIM_COST_DEFAULT]);
		if (needs_predictor(ev))
			printf("lstm model: %s\n", o.model);
		printf("\n");
		for (int g = 0; g < G_COUNT; g++) {
			if (!ev->runs[g] || (g != G_ALL && ev->runs[g] == ev->runs[G_ALL]))
				continue;
			snprintf(cap, sizeof(cap), "%s (%u runs)", group_captions[g], ev->runs[g]);
			print_table(stdout, ev, g, cap);
			printf("\n");
		}
		printf("recorded: the reactive runs' own stalls for these needs (request to the last "
		       "module_load) took %.2f s\n(modprobe's exec included; here a stall is load "
		       "time left%s).\n", ev->tot[G_ALL][0].m.recorded_stall_ms / 1e3,
		       o.miss_ms > 0 ? " plus --miss-ms" : ", see --miss-ms");
		printf("stall: needs not loaded when needed / all needs; stall s: load time left at "
		       "them; fp: module bytes x seconds (non-base),\n/orcl, /ld-all: footprint "
		       "over the oracle's and load-all's; pred: loads asked and done; wasted: never "
		       "used;\nexpo: module-seconds loaded and unused; lead: median time a need's "
		       "module was asked for before it.\n");
	}

	if (o.report && rep_run) {
		struct pml_sim_report rep = {0};
		struct pml_sim_report_row rows[MAX_POL];
		const struct pml_sim_result *res[MAX_POL];
		char title[4300], about[512], cap[128], notes[2048], file[4200];
		size_t n = 0;
		FILE *f;

		for (size_t p = 0; p < ev->n_pol; p++) {
			rows[p].policy = ev->pol[p];
			rows[p].totals = &ev->tot[G_ALL][p];
			rows[p].fp_vs_oracle = ratio(ev, G_ALL, p, "oracle");
			rows[p].fp_vs_load_all = ratio(ev, G_ALL, p, "load-all");
			if (rep_res[p])
				res[n++] = rep_res[p];
		}
		snprintf(title, sizeof(title), "pml eval: %s, %s split", o.dataset,
			 pml_split_name(o.split));
		snprintf(about, sizeof(about), "scenario %s (family %s, %s), seed %u, %s",
			 rep_run->scenario, rep_run->family,
			 rep_run->heldout ? "held out of training" : "seen in training",
			 rep_run->seed, rep_run->params);
		snprintf(cap, sizeof(cap), "%s split, %u runs", pml_split_name(o.split),
			 ev->runs[G_ALL]);
		report_notes(notes, sizeof(notes), &o, costs_used, cat);
		rep.title = title;
		rep.run_id = rep_run->id;
		rep.run_about = about;
		rep.command = rep_command[0] ? rep_command : NULL;
		rep.results = res;
		rep.n_results = n;
		rep.rows = rows;
		rep.n_rows = ev->n_pol;
		rep.rows_caption = cap;
		rep.notes = notes;
		r = mkdir_p(o.report);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --report %s: %s\n", o.report, strerror(-r));
			goto out;
		}
		snprintf(file, sizeof(file), "%s/index.html", o.report);
		f = fopen(file, "we");
		if (!f) {
			fprintf(stderr, "pml: eval: %s: %s\n", file, strerror(errno));
			goto out;
		}
		r = pml_sim_report_html(f, &rep);
		if (fclose(f) != 0 && !r)
			r = -errno;
		if (r < 0) {
			fprintf(stderr, "pml: eval: %s: %s\n", file, strerror(-r));
			goto out;
		}
		fprintf(stderr, "pml: eval: report of run %s: %s\n", rep_run->id, file);
	}
	status = PML_EXIT_OK;
	goto out;
oom:
	r = -ENOMEM;
fail:
	fprintf(stderr, "pml: eval: %s\n", strerror(-r));
out:
	for (size_t p = 0; p < MAX_POL; p++)
		pml_sim_result_free(rep_res[p]);
	if (ev)
		for (int g = 0; g < G_COUNT; g++)
			for (size_t p = 0; p < MAX_POL; p++)
				pml_sim_totals_release(&ev->tot[g][p]);
	free(ev);
	free(all_list);
	free(tr.v);
	pml_needs_model_free(tr.markov);
	pml_sim_catalog_free(cat);
	pml_repo_free(repo);
	pml_slots_model_free(slots);
	pml_dataset_free(ds);
	return status;
}
