/* pml train-needs: count the needs model of the markov policy (policy/needs-model.h) from
 * the decision logs of earlier runs (reactive ones: every first use is then a need). Thin:
 * each log is read with the run report's reader (time order, duplicates marked), its
 * `need` sequence and its load costs go to the model, the model is written. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/needs-train.h"
#include "cmd/cmd-options.h"
#include "cmd/cmd-errors.h"
#include "cmd/commands.h"
#include "policy/needs-model.h"

enum { OPT_WINDOW = CMD_OPT_LONG_ONLY, OPT_ALPHA };

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{'o', "output", "FILE", "the model to write (required)"},
	{OPT_WINDOW, "window", "S", "count B after A when needed within S seconds (default 30)"},
	{OPT_ALPHA, "alpha", "A", "smoothing: p = count / (runs of A + A) (default 0.5)"},
	{'q', "quiet", NULL, "no summary"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml train-needs [OPTIONS] LOG... -o FILE\n\n"
		"Count which modules follow which in the needs of earlier runs, for the markov\n"
		"policy (pml run --policy markov --model FILE). A LOG is a decision log\n"
		"(events.jsonl) or a pml run --report directory holding one; reactive runs give\n"
		"the full need sequence. From a trace dataset instead: pml eval --dataset DIR\n"
		"--save-markov FILE (its training split).\n\n");
	cmd_options_help(f, options);
}

int cmd_train_needs(int argc, char **argv)
{
	struct cmd_getopt g;
	const char *out = NULL;
	double window = 30, alpha = 0.5;
	struct pml_needs_model *m;
	bool quiet = false;
	size_t needs = 0;
	int c, r;

	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_WINDOW:
		case OPT_ALPHA:
			if (cmd_num("pml: train-needs",
				    c == OPT_WINDOW ? PML_NUMOPT_NEEDS_WINDOW : PML_NUMOPT_NEEDS_ALPHA,
				    optarg, c == OPT_WINDOW ? &window : &alpha) < 0)
				return PML_EXIT_USAGE;
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
	if (!out || optind >= argc) {
		fprintf(stderr, "pml: train-needs: %s\n",
			!out ? "no output file (-o FILE)" : "no logs given");
		return PML_EXIT_USAGE;
	}
	if (pml_needs_model_new(window, alpha, &m) < 0) {
		fprintf(stderr, "pml: train-needs: out of memory\n");
		return PML_EXIT_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		r = pml_needs_train_log(m, argv[i]);
		if (r < 0) {
			fprintf(stderr, "pml: train-needs: %s: %s\n", argv[i], cmd_log_strerror(r));
			pml_needs_model_free(m);
			return PML_EXIT_FAIL;
		}
		needs += (size_t)r;
	}
	r = pml_needs_model_save(m, out);
	if (r < 0) {
		fprintf(stderr, "pml: train-needs: %s: %s\n", out, strerror(-r));
		pml_needs_model_free(m);
		return PML_EXIT_FAIL;
	}
	if (!quiet)
		printf("%s: %zu runs, %zu needs, %zu modules, %zu pairs\n", out,
		       pml_needs_model_runs(m), needs, pml_needs_model_modules(m),
		       pml_needs_model_pairs(m));
	pml_needs_model_free(m);
	return PML_EXIT_OK;
}
