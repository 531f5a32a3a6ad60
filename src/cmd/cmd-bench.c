/* pml bench loader: pml's load path against modprobe's, in the guest, on real modules.
 *
 * For each module and round it loads and unloads the module three ways, in a rotating
 * order so no way always goes first: kmod's modprobe (a new process that opens the indexes),
 * the pml-modprobe shim in the form the kernel calls it (also a new process), and pml's
 * loader in this process with its libkmod context kept (what pmld does). The kernel's own
 * part (the module's init) is the same for all three; the differences are process start
 * and index loading. Aliases that resolve to no module are timed the same three ways.
 * Prints medians and their ratios to modprobe. Runs as root where modules can be loaded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "loader/loader.h"
#include "util/json.h"
#include "util/timeutil.h"

#define MAX_ROUNDS 50
#define MAX_ITEMS 32

enum way { WAY_MODPROBE, WAY_SHIM, WAY_INPROC, WAY__N };
static const char *const way_names[WAY__N] = {"modprobe", "pml-modprobe", "pml-loader"};

/* Run a command with the environment given, output discarded; returns its wall ms, or a
 * negative value when it could not run or failed. */
static double timed_exec(const char *path, char *const argv[], char *const envp[])
{
	uint64_t t0 = pml_now_ns();
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(127);
		execve(path, argv, envp);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -2;
	return pml_ns_to_ms(pml_now_ns() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (n <= 0)
		return -1;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Load `name` one way; returns ms or <0. */
static double load_one(struct pml_loader *ld, enum way w, const char *name)
{
	static char *const env[] = {"PATH=/usr/sbin:/usr/bin", "PML_EVENT_LOG=/dev/null", NULL};
	struct pml_op_result res;
	uint64_t t0;

	switch (w) {
	case WAY_MODPROBE:
		return timed_exec("/usr/bin/kmod", (char *[]){"modprobe", "-q", (char *)name, NULL},
				  env);
	case WAY_SHIM:
		return timed_exec("/usr/sbin/pml-modprobe",
				  (char *[]){"pml-modprobe", "-q", "--", (char *)name, NULL}, env);
	default:
		t0 = pml_now_ns();
		if (pml_loader_load(ld, name, 0, &res) < 0)
			return -2;
		return pml_ns_to_ms(pml_now_ns() - t0);
	}
}

/* Resolve an alias that names no module one way; returns ms. modprobe and the shim may
 * exit non-zero for it: only the time matters here. */
static double resolve_one(struct pml_loader *ld, enum way w, const char *alias)
{
	static char *const env[] = {"PATH=/usr/sbin:/usr/bin", "PML_EVENT_LOG=/dev/null", NULL};
	char names[4][64];
	uint64_t t0 = pml_now_ns();
	double ms;

	switch (w) {
	case WAY_MODPROBE:
		ms = timed_exec("/usr/bin/kmod", (char *[]){"modprobe", "-q", (char *)alias, NULL},
				env);
		break;
	case WAY_SHIM:
		ms = timed_exec("/usr/sbin/pml-modprobe",
				(char *[]){"pml-modprobe", "-q", "--", (char *)alias, NULL}, env);
		break;
	default:
		pml_loader_resolve(ld, alias, names, 4);
		ms = pml_ns_to_ms(pml_now_ns() - t0);
	}
	if (ms == -2) /* failed as expected: time it anyway */
		ms = pml_ns_to_ms(pml_now_ns() - t0);
	return ms;
}

static int split(char *list, char **items, int max)
{
	int n = 0;

	for (char *tok = strtok(list, ","); tok && n < max; tok = strtok(NULL, ","))
		items[n++] = tok;
	return n;
}

enum { OPT_MODULES = CMD_OPT_LONG_ONLY, OPT_ALIASES, OPT_ROUNDS, OPT_JSON };

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{OPT_MODULES, "modules", "M1,M2",
	 "the modules to load (default tun,vfat,dummy,\nnf_tables,xfs,bridge)"},
	{OPT_ALIASES, "aliases", "A1,A2",
	 "the aliases to resolve (default netdev-pml0,netdev-eth9,\n"
	 "nft-expr-1-ct,char-major-250-0)"},
	{OPT_ROUNDS, "rounds", "N", "times each is timed, 1-50 (default 5)"},
	{OPT_JSON, "json", NULL, "print the results as JSON"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pml bench loader [--modules M1,M2] [--aliases A1,A2] [--rounds N] "
		   "[--json]\n\n"
		   "In the guest (as root): time loading each module through modprobe, the\n"
		   "pml-modprobe shim and pml's in-process loader, and resolving aliases that\n"
		   "name no module; print medians and ratios to modprobe.\n"
		   "From the host: pml run -- pml bench loader\n\n");
	cmd_options_help(f, options);
}

int cmd_bench(int argc, char **argv)
{
	struct cmd_getopt g;
	char mods_buf[1024] = "tun,vfat,dummy,nf_tables,xfs,bridge";
	char alias_buf[1024] = "netdev-pml0,netdev-eth9,nft-expr-1-ct,char-major-250-0";
	char *mods[MAX_ITEMS], *aliases[MAX_ITEMS];
	double t[WAY__N][MAX_ITEMS][MAX_ROUNDS], ta[WAY__N][MAX_ITEMS][MAX_ROUNDS];
	int n_mods, n_aliases, rounds = 5, c, r, failed = 0;
	bool json = false;
	struct pml_loader *ld;

	if (argc < 2 || strcmp(argv[1], "loader")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return PML_EXIT_USAGE;
	}
	argc--;
	argv++;
	argv[0] = (char *)"pml: bench"; /* getopt_long's prefix (commands.h) */
	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_MODULES:
			snprintf(mods_buf, sizeof(mods_buf), "%s", optarg);
			break;
		case OPT_ALIASES:
			snprintf(alias_buf, sizeof(alias_buf), "%s", optarg);
			break;
		case OPT_ROUNDS:
		{
			int64_t n;

			if (cmd_num_i64("pml: bench", PML_NUMOPT_ROUNDS, optarg, &n) < 0)
				return PML_EXIT_USAGE;
			rounds = (int)n;
		}
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	n_mods = split(mods_buf, mods, MAX_ITEMS);
	n_aliases = split(alias_buf, aliases, MAX_ITEMS);
	r = pml_loader_new_kmod(NULL, &ld);
	if (r < 0) {
		fprintf(stderr, "pml: bench: cannot open the module tree: %s\n", strerror(-r));
		return PML_EXIT_FAIL;
	}
	for (int i = 0; i < n_mods; i++) {
		pml_loader_unload(ld, mods[i], PML_UNLOAD_DEPS, NULL);
		for (int k = 0; k < rounds; k++)
			for (int j = 0; j < WAY__N; j++) {
				enum way w = (enum way)((j + k) % WAY__N);

				t[w][i][k] = load_one(ld, w, mods[i]);
				if (t[w][i][k] < 0) {
					fprintf(stderr, "pml: bench: %s: loading %s failed\n",
						way_names[w], mods[i]);
					failed++;
				}
				r = pml_loader_unload(ld, mods[i], PML_UNLOAD_DEPS, NULL);
				if (r < 0) {
					fprintf(stderr, "pml: bench: cannot unload %s (%s): stopping\n",
						mods[i], strerror(-r));
					pml_loader_free(ld);
					return PML_EXIT_FAIL;
				}
			}
	}
	for (int i = 0; i < n_aliases; i++)
		for (int k = 0; k < rounds; k++)
			for (int j = 0; j < WAY__N; j++) {
				enum way w = (enum way)((j + k) % WAY__N);

				ta[w][i][k] = resolve_one(ld, w, aliases[i]);
			}
	pml_loader_free(ld);

	/* Medians per item and way; overall the median of the per-item ratios. */
	double med[WAY__N][MAX_ITEMS], meda[WAY__N][MAX_ITEMS];
	struct pml_json j;

	for (int w = 0; w < WAY__N; w++) {
		for (int i = 0; i < n_mods; i++)
			med[w][i] = median(t[w][i], rounds);
		for (int i = 0; i < n_aliases; i++)
			meda[w][i] = median(ta[w][i], rounds);
	}
	if (json) {
		pml_json_init(&j, stdout, true);
		pml_json_obj_begin(&j, NULL);
		pml_json_int(&j, "rounds", rounds);
		pml_json_arr_begin(&j, "loads");
		for (int i = 0; i < n_mods; i++) {
			pml_json_obj_begin(&j, NULL);
			pml_json_str(&j, "module", mods[i]);
			for (int w = 0; w < WAY__N; w++)
				pml_json_double(&j, way_names[w], med[w][i]);
			pml_json_obj_end(&j);
		}
		pml_json_arr_end(&j);
		pml_json_arr_begin(&j, "no_module");
		for (int i = 0; i < n_aliases; i++) {
			pml_json_obj_begin(&j, NULL);
			pml_json_str(&j, "alias", aliases[i]);
			for (int w = 0; w < WAY__N; w++)
				pml_json_double(&j, way_names[w], meda[w][i]);
			pml_json_obj_end(&j);
		}
		pml_json_arr_end(&j);
		pml_json_obj_end(&j);
	} else {
		printf("median ms over %d rounds (load = insert with dependencies, then unloaded)\n",
		       rounds);
		printf("%-22s %10s %13s %11s %9s %9s\n", "load", "modprobe", "pml-modprobe",
		       "pml-loader", "shim/mp", "loader/mp");
		for (int i = 0; i < n_mods; i++)
			printf("%-22s %10.2f %13.2f %11.2f %9.2f %9.2f\n", mods[i],
			       med[WAY_MODPROBE][i], med[WAY_SHIM][i], med[WAY_INPROC][i],
			       med[WAY_SHIM][i] / med[WAY_MODPROBE][i],
			       med[WAY_INPROC][i] / med[WAY_MODPROBE][i]);
		printf("%-22s %10s %13s %11s %9s %9s\n", "no module", "modprobe", "pml-modprobe",
		       "pml-loader", "shim/mp", "loader/mp");
		for (int i = 0; i < n_aliases; i++)
			printf("%-22s %10.3f %13.3f %11.4f %9.2f %9.4f\n", aliases[i],
			       meda[WAY_MODPROBE][i], meda[WAY_SHIM][i], meda[WAY_INPROC][i],
			       meda[WAY_SHIM][i] / meda[WAY_MODPROBE][i],
			       meda[WAY_INPROC][i] / meda[WAY_MODPROBE][i]);
	}
	return failed ? PML_EXIT_FAIL : 0;
}
