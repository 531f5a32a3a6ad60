/* pml: the command. Maps `pml <verb>` to cmd_<verb>() (see commands.h) and sets up the
 * library's log sink; everything else lives in libpml. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "util/log.h"

struct pml_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct pml_cmd commands[] = {
	{"run", cmd_run, "run a program in the microVM on the base kernel, report module use"},
	{"repo", cmd_repo, "the module catalog: list, show MODULE, resolve ALIAS"},
	{"trace", cmd_trace, "record a program's behaviour (eBPF), dump trace files"},
	{"status", cmd_status, "show the running pmld's resource manager: budgets, modules"},
	{"request", cmd_request, "ask the running pmld's resource manager for a module"},
	{"bench", cmd_bench, "benchmarks: loader (pml vs modprobe, in the guest)"},
	{"calibrate", cmd_calibrate, "measure module costs in the guest into the catalog"},
	{"collect", cmd_collect, "run workload scenarios in guests into a trace dataset"},
	{"dataset", cmd_dataset, "a trace dataset: stats, needs (ground truth), verify, merge"},
	{"train", cmd_train, "learn the module predictor (LSTM, n-gram) from a trace dataset"},
	{"eval", cmd_eval, "replay a dataset split through the policies: stalls, footprint"},
	{"train-needs", cmd_train_needs, "count the markov policy's needs model from run logs"},
	{"train-slots", cmd_train_slots, "learn the slots policy's model: which words name which modules"},
	{"snapshot", cmd_snapshot, "ready guests for pml run: ls, rm KEY|--all, build"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pml [--version] [--help] <command> [<args>]\n\n"
		   "pml, the predictive module loader: runs a program on a minimal base kernel\n"
		   "and loads the kernel modules it will need before it needs them.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nSee 'pml <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	pml_set_log_fn(pml_log_stderr, "pml");
	if (argc < 2) {
		usage(stderr);
		return PML_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return PML_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pml 0.1\n");
		return PML_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			/* One prefix for everything the verb prints: its own errors, the
			 * library's through the log sink, and getopt_long's complaints, which
			 * name argv[0] ("pml: status: unrecognized option '--x'"). */
			char who[64];

			snprintf(who, sizeof(who), "pml: %s", commands[i].name);
			pml_set_log_fn(pml_log_stderr, who);
			argv[1] = who;
			return commands[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "pml: '%s' is not a pml command. See 'pml --help'.\n", argv[1]);
	return PML_EXIT_USAGE;
}
