/* pml train-slots: train the slot model (model/slots.h) on a trace dataset. Thin: the
 * module tree's index (repo) resolves the filled templates, model/slots-train.c learns,
 * the model file is written. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "dataset/dataset.h"
#include "model/slots-train.h"
#include "model/slots.h"
#include "repo/repo.h"
#include "util/timeutil.h"
#include "vm/paths.h"
#include "vm/vm.h"

enum { OPT_MODDIR = CMD_OPT_LONG_ONLY, OPT_WORKLOADS };

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{'d', "dataset", "DIR", "the trace dataset (pml collect)"},
	{'o', "output", "FILE", "the model to write (required)"},
	{OPT_MODDIR, "moddir", "DIR", "the kernel's module tree (default: the pinned kernel's)"},
	{OPT_WORKLOADS, "workloads", "DIR", "the scenarios' scripts (default: the source tree's)"},
	{'q', "quiet", NULL, "no progress"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml train-slots --dataset DIR -o FILE [OPTIONS]\n\n"
		"Train the slot model of the slots policy: which words of a program (its\n"
		"script, its command lines) fill which of the kernel's alias templates\n"
		"(rtnl-link-KIND, fs-TYPE, sch_NAME, xt_NAME ...), so that any module the\n"
		"kernel's index resolves can be predicted, seen in training or not. Learned\n"
		"from the dataset's training split; the threshold is chosen on its validation\n"
		"split (its held-out validation families when it has some), never on test.\n"
		"Judge it with pml eval --policy slots --slots-model FILE.\n\n");
	cmd_options_help(f, options);
}

struct progress {
	double t0, last;
};

static void progress(void *ctx, size_t done, size_t total)
{
	struct progress *p = ctx;
	double now = (double)pml_now_ns() / 1e9;

	if (now - p->last < 5 && done < total)
		return;
	p->last = now;
	fprintf(stderr, "pml: train-slots: %zu/%zu runs read, %.0f s\n", done, total,
		now - p->t0);
}

int cmd_train_slots(int argc, char **argv)
{
	struct cmd_getopt g;
	const char *dir = NULL, *out = NULL, *moddir_opt = NULL, *workloads = NULL;
	char moddir[4096], src[4096], wl[4200];
	struct pml_slots_train_opts to = {0};
	struct pml_slots_train_stats st;
	struct pml_slots_model *m = NULL;
	struct pml_dataset *ds = NULL;
	struct pml_repo *repo = NULL;
	struct progress pg;
	bool quiet = false;
	int c, r, rc = PML_EXIT_FAIL;

	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_MODDIR:
			moddir_opt = optarg;
			break;
		case OPT_WORKLOADS:
			workloads = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (!dir || !out || optind < argc) {
		fprintf(stderr, "pml: train-slots: %s\n",
			!dir ? "no dataset (--dataset DIR)"
			: !out ? "no output file (-o FILE)" : "unexpected argument");
		return PML_EXIT_USAGE;
	}
	r = pml_dataset_open(dir, &ds);
	if (r < 0) {
		fprintf(stderr, "pml: train-slots: %s: %s\n", dir,
			r == -ENOENT ? "no manifest.jsonl (not a dataset)" : "cannot read the manifest");
		return PML_EXIT_USAGE;
	}
	if (moddir_opt)
		snprintf(moddir, sizeof(moddir), "%s", moddir_opt);
	else if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0)
		moddir[0] = '\0';
	r = moddir[0] ? pml_repo_open(moddir, NULL, 0, &repo) : -ENOENT;
	if (r < 0) {
		fprintf(stderr, "pml: train-slots: %s: cannot open the module index (%s); run "
				"scripts/fetch-kernel or give --moddir\n", moddir[0] ? moddir : "-",
			strerror(-r));
		goto out;
	}
	if (!workloads && pml_testbed_src_dir(src, sizeof(src)) == 0) {
		snprintf(wl, sizeof(wl), "%s/workloads", src);
		workloads = wl;
	}
	pg.t0 = pg.last = (double)pml_now_ns() / 1e9;
	to.workloads_dir = workloads;
	to.progress = quiet ? NULL : progress;
	to.progress_ctx = &pg;
	r = pml_slots_train(ds, pml_repo_resolve_fn, repo, &to, &m, &st);
	if (r < 0) {
		fprintf(stderr, "pml: train-slots: %s: %s\n", dir,
			r == -ENODATA ? "no candidate in the training runs" : strerror(-r));
		goto out;
	}
	r = pml_slots_model_write(out, m);
	if (r < 0) {
		fprintf(stderr, "pml: train-slots: %s: cannot write: %s\n", out, strerror(-r));
		goto out;
	}
	printf("%s: %u weights; trained on %zu runs (%zu candidates, %zu needed later); "
	       "threshold %.2f chosen on %s (%zu runs, %zu run-module decisions, %zu needed): "
	       "precision %.3f, recall %.3f, F1 %.3f\n",
	       out, m->n, st.runs_train, st.cands_train, st.pos_train, m->threshold,
	       st.val_from, st.runs_val, st.groups_val, st.pos_val, st.precision, st.recall,
	       st.f1);
	rc = PML_EXIT_OK;
out:
	pml_slots_model_free(m);
	pml_repo_free(repo);
	pml_dataset_free(ds);
	return rc;
}
