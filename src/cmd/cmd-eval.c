/* pml eval: replay every run of a dataset split through each policy (src/sim) under one
 * budget and print the metrics of DESIGN.md per policy, for all the runs, the held-out
 * scenarios and the seen ones apart; --json as one object; --report DIR an HTML page with
 * one run's timelines. This file is the command: its options and --help, the policies
 * asked for, the dataset and the models checked up front, and cmd_eval() as the sequence
 * of steps whose files cmd-eval.h lists (the training split, the replay, the printing,
 * the page). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd-errors.h"
#include "cmd/cmd-eval.h"
#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "dataset/dataset.h"
#include "model/model-file.h"
#include "model/slots.h"
#include "policy/policy.h"
#include "repo/repo.h"
#include "sim/catalog.h"
#include "vm/paths.h"
#include "vm/vm.h"

/* ---- the policies asked for ---- */

ssize_t eval_pol_index(const struct eval *ev, const char *name)
{
	for (size_t i = 0; i < ev->n_pol; i++)
		if (!strcmp(ev->pol[i], name))
			return (ssize_t)i;
	return -1;
}

bool eval_any(const struct eval *ev, unsigned flag)
{
	for (size_t i = 0; i < ev->n_pol; i++) {
		const struct pml_policy_info *in = pml_policy_info(ev->pol[i]);

		if (in && (in->flags & flag))
			return true;
	}
	return false;
}

int eval_fail(int err)
{
	fprintf(stderr, "pml: eval: %s\n", strerror(-err));
	return PML_EXIT_FAIL;
}

/* The policies of --policy into ev->pol: "all" leaves out those whose model is missing
 * (said), names must be policies. 0, or -errno (said). */
static int choose_policies(const struct eval_opts *o, struct eval *ev)
{
	char buf[512], *save = NULL, *tok;

	if (!strcmp(o->policies, "all")) {
		/* the table's order: names, lstm-model and lstm side by side */
		for (size_t i = 0; pml_policy_table[i].ops && ev->n_pol < EVAL_MAX_POL; i++) {
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
		if (ev->n_pol == EVAL_MAX_POL)
			return -E2BIG;
		if (eval_pol_index(ev, ops->name) < 0)
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
	if (eval_any(ev, PML_POLICY_PREDICTOR) && !o->model) {
		fprintf(stderr, "pml: eval: the lstm policy needs --model FILE (pml train -o FILE): "
				"no model is shipped\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- the command line ---- */

/* The long-only options' values (cmd-options.h). */
enum {
	OPT_RUN = CMD_OPT_LONG_ONLY,
	OPT_MODEL,
	OPT_SLOTS_MODEL,
	OPT_MARKOV_MODEL,
	OPT_SAVE_MARKOV,
	OPT_THRESHOLD,
	OPT_HORIZON,
	OPT_NO_NAMES,
	OPT_IDLE_SECONDS,
	OPT_TICK_MS,
	OPT_PREROLL_MS,
	OPT_MISS_MS,
	OPT_COSTS,
	OPT_MODDIR,
	OPT_BASE,
	OPT_NEEDS_OUT,
};

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{'d', "dataset", "DIR", "the dataset (pml collect -o DIR)"},
	{'s', "split", "NAME", "train, val or test (default test)"},
	{'p', "policy", "LIST",
	 "all (the default: every policy below; those of a\n"
	 "model only with one) or names, comma-separated"},
	{'B', "budget-mem", "SIZE", "module bytes predicted loads may fill (default none)"},
	{'j', "json", NULL, "one JSON object on stdout instead of the tables"},
	{'r', "report", "DIR", "write DIR/index.html: one run's timeline per policy"},
	{OPT_RUN, "run", "ID", "the run the report draws (default: the split's first)"},
	{OPT_MODEL, "model", "FILE",
	 "the lstm policy's model (pml train -o FILE; default:\n"
	 "the shipped data/model-lstm-REL.pmlm when there is one)"},
	{OPT_SLOTS_MODEL, "slots-model", "FILE",
	 "the slots policy's model (pml train-slots -o FILE;\n"
	 "default: the shipped data/model-slots-REL.pmls)"},
	{OPT_MARKOV_MODEL, "markov-model", "FILE",
	 "the markov policy's needs model (default: counted\n"
	 "from the training split's needs)"},
	{OPT_SAVE_MARKOV, "save-markov", "FILE",
	 "write the needs model counted from the training split\n"
	 "(for pml run --policy markov|load-all --model FILE)"},
	{OPT_THRESHOLD, "threshold", "P", "least probability worth a prefetch (markov, lstm)"},
	{OPT_HORIZON, "horizon", "MS",
	 "how far ahead predictions look (markov, lstm;\n"
	 "default: the model's)"},
	{OPT_NO_NAMES, "no-names", NULL,
	 "lstm: the model's predictions only, not the modules\n"
	 "the program names ('type vxlan', 'mount -t xfs'), as\n"
	 "lstm-model (the names policy keeps its rules)"},
	{OPT_IDLE_SECONDS, "idle-seconds", "T",
	 "idle-unload's T, and when unused prefetches go\n"
	 "(default 5)"},
	{OPT_TICK_MS, "tick-ms", "MS", "how often policies decide, in trace time (default 10)"},
	{OPT_PREROLL_MS, "preroll-ms", "MS",
	 "time policies get before the program starts\n"
	 "(default 0)"},
	{OPT_MISS_MS, "miss-ms", "MS",
	 "the request path of a miss (modprobe's exec) added to\n"
	 "each stall (default 0: stall time is load time, as\n"
	 "DESIGN.md)"},
	{OPT_COSTS, "costs", "FILE", "measured module costs (default data/costs-REL.jsonl)"},
	{OPT_MODDIR, "moddir", "DIR", "the module tree (default: the fetched guest kernel's)"},
	{OPT_BASE, "base", "LIST",
	 "modules the guest has at start, with their\n"
	 "dependencies (default " EVAL_DEFAULT_BASE ")"},
	{OPT_NEEDS_OUT, "needs-out", "FILE",
	 "write every replayed need and prefetch, one JSON\n"
	 "object a line (kind need: module, alias, stalled,\n"
	 "stall_ms, lead_ms; kind prefetch: module, used, mb_s),\n"
	 "for finding what stalls and what is loaded for nothing"},
	{'h', "help", NULL, "this text"},
	{0},
};

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
		"ones apart. See doc/sim.md for what is simulated and approximated.\n\n");
	cmd_options_help(f, options);
	fprintf(f, "\n" PML_NUM_SIZE_HELP PML_NUM_DURATION_HELP "\nPolicies:\n%s",
		pml_policy_help(policies, sizeof(policies), 0));
}

/* Parse argv into o. -1 to go on, or the exit status (--help; a bad option, said). */
static int parse_options(int argc, char **argv, struct eval_opts *o)
{
	struct cmd_getopt g;
	int c;

	*o = (struct eval_opts){.split_name = "test", .policies = "all", .idle_seconds = 5.0};
	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'd':
			o->dataset = optarg;
			break;
		case 's':
			o->split_name = optarg;
			break;
		case 'p':
			o->policies = optarg;
			break;
		case 'B':
			if (cmd_num_i64("pml: eval", PML_NUMOPT_BUDGET_MEM, optarg, &o->budget) < 0)
				return PML_EXIT_USAGE;
			break;
		case 'j':
			o->json = true;
			break;
		case 'r':
			o->report = optarg;
			break;
		case OPT_RUN:
			o->run_id = optarg;
			break;
		case OPT_MODEL:
			o->model = optarg;
			break;
		case OPT_MARKOV_MODEL:
			o->markov_model = optarg;
			break;
		case OPT_SAVE_MARKOV:
			o->save_markov = optarg;
			break;
		case OPT_SLOTS_MODEL:
			o->slots_model = optarg;
			break;
		case OPT_NO_NAMES:
			o->no_names = true;
			break;
		/* numbers by util's table; 0 stays "the default" for those that have one */
		case OPT_THRESHOLD:
			if (cmd_num("pml: eval", PML_NUMOPT_THRESHOLD, optarg, &o->threshold) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_HORIZON:
			if (cmd_num("pml: eval", PML_NUMOPT_HORIZON, optarg, &o->horizon_ms) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_IDLE_SECONDS:
			if (cmd_num("pml: eval", PML_NUMOPT_IDLE_SECONDS, optarg, &o->idle_seconds) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_TICK_MS:
			if (cmd_num("pml: eval", PML_NUMOPT_TICK_MS, optarg, &o->tick_ms) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_PREROLL_MS:
			if (cmd_num("pml: eval", PML_NUMOPT_PREROLL_MS, optarg, &o->preroll_ms) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_MISS_MS:
			if (cmd_num("pml: eval", PML_NUMOPT_MISS_MS, optarg, &o->miss_ms) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_COSTS:
			o->costs = optarg;
			break;
		case OPT_MODDIR:
			o->moddir = optarg;
			break;
		case OPT_BASE:
			o->base = optarg;
			break;
		case OPT_NEEDS_OUT:
			o->needs_out = optarg;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (!o->dataset || optind != argc) {
		usage(stderr);
		return PML_EXIT_USAGE;
	}
	if (pml_split_parse(o->split_name, &o->split) < 0) {
		fprintf(stderr, "pml: eval: --split: '%s' is not train, val or test\n",
			o->split_name);
		return PML_EXIT_USAGE;
	}
	return -1;
}

/* The shipped model data/model-KIND-REL.EXT of the source tree into buf, when there is
 * one: the default of --model (lstm, pmlm) and of --slots-model (slots, pmls). */
static const char *shipped_model(const char *kind, const char *ext, char *buf, size_t size)
{
	char src_dir[4096], rel[64];
	struct stat st;

	if (pml_testbed_src_dir(src_dir, sizeof(src_dir)) < 0)
		return NULL;
	if (pml_kernel_release(rel, sizeof(rel)) < 0)
		snprintf(rel, sizeof(rel), "%s", PML_KERNEL_RELEASE_PINNED);
	snprintf(buf, size, "%s/data/model-%s-%s.%s", src_dir, kind, rel, ext);
	return stat(buf, &st) == 0 ? buf : NULL;
}

/* ---- the dataset and the models, checked before anything is replayed ---- */

/* The dataset, its split's complete runs (at least one), --report's run. */
static int open_dataset(const struct eval_opts *o, struct eval *ev)
{
	size_t n_sel = 0;
	int r;

	r = pml_dataset_open(o->dataset, &ev->ds);
	if (r < 0) {
		if (r == -ENOENT)
			fprintf(stderr, "pml: eval: %s: no %s (not a dataset; pml collect -o %s "
					"makes one)\n", o->dataset, PML_DATASET_MANIFEST, o->dataset);
		else
			fprintf(stderr, "pml: eval: %s: %s\n", o->dataset,
				cmd_manifest_strerror(r));
		return PML_EXIT_FAIL;
	}
	for (size_t i = 0; i < ev->ds->n_runs; i++) {
		const struct pml_ds_run *run = &ev->ds->runs[i];

		if (run->split != o->split || run->state != PML_RUN_OK || !run->trace[0])
			continue;
		n_sel++;
		if (!ev->rep_run && (!o->run_id || !strcmp(o->run_id, run->id)))
			ev->rep_run = run;
	}
	if (!n_sel) {
		fprintf(stderr, "pml: eval: %s: no complete run in the %s split (%zu runs in all)\n",
			o->dataset, pml_split_name(o->split), ev->ds->n_runs);
		return PML_EXIT_FAIL;
	}
	if (o->report && o->run_id && !ev->rep_run) {
		fprintf(stderr, "pml: eval: --run %s: no such complete run in the %s split\n",
			o->run_id, pml_split_name(o->split));
		return PML_EXIT_USAGE;
	}
	if (!o->report)
		ev->rep_run = NULL;
	return PML_EXIT_OK;
}

/* The lstm model checked and the slot model read, once, in words about the file, not as
 * an errno at the first run. */
static int check_models(const struct eval_opts *o, struct eval *ev)
{
	const char *rel = ev->ds->kernel[0] ? ev->ds->kernel : NULL;
	int r;

	if (eval_any(ev, PML_POLICY_PREDICTOR) && o->model) {
		struct pml_model_file *mf = NULL;

		r = pml_model_file_open(o->model, rel, 0, &mf);
		pml_model_file_free(mf);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --model %s: %s\n", o->model,
				pml_model_file_strerror(r));
			return PML_EXIT_USAGE;
		}
	}
	if (o->slots_model && eval_any(ev, PML_POLICY_SLOTS)) {
		/* lent to every run's policy */
		r = pml_slots_model_read(o->slots_model, rel, &ev->slots);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --slots-model %s: not a slot model this pml can "
					"use (said above)\n", o->slots_model);
			return PML_EXIT_USAGE;
		}
	}
	return PML_EXIT_OK;
}

/* --needs-out FILE: a temporary file beside FILE, renamed to it once every run is
 * replayed, so that a failed eval leaves no half-written FILE. */
static int open_needs_out(const struct eval_opts *o, struct eval *ev)
{
	int fd;

	if (!o->needs_out)
		return PML_EXIT_OK;
	snprintf(ev->needs_tmp, sizeof(ev->needs_tmp), "%s.XXXXXX", o->needs_out);
	fd = mkostemp(ev->needs_tmp, O_CLOEXEC);
	if (fd < 0 || !(ev->needs_f = fdopen(fd, "w"))) {
		fprintf(stderr, "pml: eval: --needs-out %s: %s\n", o->needs_out, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(ev->needs_tmp);
		}
		ev->needs_tmp[0] = 0;
		return PML_EXIT_USAGE;
	}
	return PML_EXIT_OK;
}

static int commit_needs_out(const struct eval_opts *o, struct eval *ev)
{
	int r = fchmod(fileno(ev->needs_f), 0644);

	if (fclose(ev->needs_f) != 0)
		r = -1;
	ev->needs_f = NULL;
	if (r == 0 && rename(ev->needs_tmp, o->needs_out) == 0) {
		ev->needs_tmp[0] = 0;
		return PML_EXIT_OK;
	}
	fprintf(stderr, "pml: eval: --needs-out %s: %s\n", o->needs_out, strerror(errno));
	return PML_EXIT_FAIL;
}

static void eval_free(struct eval *ev)
{
	if (!ev)
		return;
	if (ev->needs_f)
		fclose(ev->needs_f);
	if (ev->needs_tmp[0])
		unlink(ev->needs_tmp);
	for (size_t p = 0; p < EVAL_MAX_POL; p++)
		pml_sim_result_free(ev->rep_res[p]);
	for (int g = 0; g < EVAL_G_COUNT; g++)
		for (size_t p = 0; p < EVAL_MAX_POL; p++)
			pml_sim_totals_release(&ev->tot[g][p]);
	eval_training_release(&ev->tr);
	pml_sim_catalog_free(ev->cat);
	pml_repo_free(ev->repo);
	pml_slots_model_free(ev->slots);
	pml_dataset_free(ev->ds);
	free(ev);
}

int cmd_eval(int argc, char **argv)
{
	struct eval_opts o;
	struct eval *ev;
	int status;

	status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;
	if (!o.model)
		o.model = shipped_model("lstm", "pmlm", o.default_model, sizeof(o.default_model));
	if (!o.slots_model)
		o.slots_model = shipped_model("slots", "pmls", o.default_slots,
					      sizeof(o.default_slots));
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return eval_fail(-ENOMEM);
	if (choose_policies(&o, ev) < 0) {
		free(ev);
		return PML_EXIT_USAGE;
	}
	if ((status = open_dataset(&o, ev)) || (status = check_models(&o, ev)) ||
	    (status = eval_open_catalog(&o, ev)) || (status = eval_learn(&o, ev)) ||
	    (status = open_needs_out(&o, ev)) || (status = eval_replay(&o, ev)) ||
	    (ev->needs_f && (status = commit_needs_out(&o, ev))))
		goto out;
	if (o.json)
		eval_print_json(&o, ev);
	else
		eval_print_text(&o, ev);
	if (o.report && ev->rep_run)
		status = eval_write_report(&o, ev);
out:
	eval_free(ev);
	return status;
}
