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

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml train-needs [OPTIONS] LOG... -o FILE\n\n"
		"Count which modules follow which in the needs of earlier runs, for the markov\n"
		"policy (pml run --policy markov --model FILE). A LOG is a decision log\n"
		"(events.jsonl) or a pml run --report directory holding one; reactive runs give\n"
		"the full need sequence. From a trace dataset instead: pml eval --dataset DIR\n"
		"--save-markov FILE (its training split).\n\n"
		"  -o, --output FILE    the model to write (required)\n"
		"  --window S           count B after A when needed within S seconds (default 30)\n"
		"  --alpha A            smoothing: p = count / (runs of A + A) (default 0.5)\n"
		"  -q, --quiet          no summary\n"
		"  -h, --help           this text\n");
}

int cmd_train_needs(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"window", required_argument, NULL, 'w'},
		{"alpha", required_argument, NULL, 'a'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *out = NULL;
	double window = 30, alpha = 0.5;
	struct pml_needs_model *m;
	bool quiet = false;
	size_t needs = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'w':
		case 'a':
			if (cmd_num("pml: train-needs",
				    c == 'w' ? PML_NUMOPT_NEEDS_WINDOW : PML_NUMOPT_NEEDS_ALPHA, optarg,
				    c == 'w' ? &window : &alpha) < 0)
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
