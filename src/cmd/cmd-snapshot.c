/* pml snapshot: the ready guests pml run restores (src/vm/snapshot.h): list them, remove
 * them, build one ahead of a first run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "util/json.h"
#include "vm/snapshot.h"

#define MAX_LIST 1024

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml snapshot ls [--json]\n"
		"       pml snapshot rm KEY... | --all\n"
		"       pml snapshot build [pml run's options]\n\n"
		"pml run restores each job's guest from a ready snapshot: a guest booted once to\n"
		"just before its job (base modules, pmld with its policy, model and tracer\n"
		"ready), saved with QEMU's migration. One snapshot per set of settings that shape\n"
		"the guest before its job (policy, pmld's options, model, policy file, pml's\n"
		"binaries, the image, --memory, --cpus, the accelerator); pml run builds it on\n"
		"first use (a cold boot and a save) and reuses it after. They live in\n"
		"$PML_CACHE/snapshots (default ~/.cache/pml/snapshots); each takes about\n"
		"150-250 MB of disk (the guest's touched RAM, sparse, and its root disk's writes).\n\n"
		"  ls      list them: key, policy, memory, vCPUs, size on disk, age\n"
		"  rm      remove the given ones, or all\n"
		"  build   build the snapshot for these run options now (runs `true` in it once)\n");
}

enum { OPT_JSON = CMD_OPT_LONG_ONLY, OPT_ALL };

/* getopt_long and the sub-verbs' --help are made from these tables (cmd-options.h). */
static const struct cmd_option ls_options[] = {
	{OPT_JSON, "json", NULL, "print them as one JSON array"},
	{'h', "help", NULL, "this text"},
	{0},
};

static const struct cmd_option rm_options[] = {
	{OPT_ALL, "all", NULL, "remove every snapshot"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void sub_usage(FILE *f, const char *synopsis, const char *what,
		      const struct cmd_option *t)
{
	fprintf(f, "Usage: pml snapshot %s\n\n%s\n\n", synopsis, what);
	cmd_options_help(f, t);
}

/* getopt_long over argv with t: 0 and the flag options in *ret_bits (1 << (val -
 * CMD_OPT_LONG_ONLY)), -1 after --help, or PML_EXIT_USAGE (an unknown option, named
 * after prefix: "pml: snapshot ls: unknown option '--x'"). */
static int sub_options(int argc, char **argv, const char *prefix, const char *synopsis,
		       const char *what, const struct cmd_option *t, unsigned *ret_bits)
{
	struct cmd_getopt g;
	unsigned bits = 0;
	int c;

	/* our own words for a bad option, as before the table */
	opterr = 0;
	optind = 0;
	cmd_getopt_init(&g, t, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		if (c == 'h') {
			sub_usage(stdout, synopsis, what, t);
			opterr = 1;
			return -1;
		}
		if (c < CMD_OPT_LONG_ONLY) {
			if (optopt > 0 && optopt < CMD_OPT_LONG_ONLY)
				fprintf(stderr, "%s: unknown option '-%c'\n", prefix, optopt);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", prefix, argv[optind - 1]);
			opterr = 1;
			return PML_EXIT_USAGE;
		}
		bits |= 1u << (c - CMD_OPT_LONG_ONLY);
	}
	opterr = 1;
	*ret_bits = bits;
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	struct pml_snapshot_info *v;
	unsigned bits;
	bool json;
	int n;

	n = sub_options(argc, argv, "pml: snapshot ls", "ls [--json]",
			"List the snapshots: key, policy, memory, vCPUs, size on disk, age.",
			ls_options, &bits);
	if (n)
		return n < 0 ? PML_EXIT_OK : n;
	json = bits & (1u << (OPT_JSON - CMD_OPT_LONG_ONLY));
	v = calloc(MAX_LIST, sizeof(*v));
	if (!v)
		return PML_EXIT_FAIL;
	n = pml_snapshot_list(v, MAX_LIST);
	if (n < 0) {
		fprintf(stderr, "pml: snapshot ls: %s\n", strerror(-n));
		free(v);
		return PML_EXIT_FAIL;
	}
	if (n > MAX_LIST)
		n = MAX_LIST;
	if (json) {
		struct pml_json j;

		pml_json_init(&j, stdout, false);
		pml_json_arr_begin(&j, NULL);
		for (int i = 0; i < n; i++) {
			pml_json_obj_begin(&j, NULL);
			pml_json_str(&j, "key", v[i].key);
			pml_json_bool(&j, "valid", v[i].valid);
			pml_json_str(&j, "policy", v[i].policy);
			pml_json_int(&j, "mem_mb", v[i].mem_mb);
			pml_json_int(&j, "cpus", v[i].cpus);
			pml_json_bool(&j, "kvm", v[i].kvm);
			pml_json_int(&j, "created", v[i].created);
			pml_json_int(&j, "disk_bytes", (int64_t)v[i].disk_bytes);
			pml_json_obj_end(&j);
		}
		pml_json_arr_end(&j);
		putchar('\n');
	} else {
		time_t now = time(NULL);

		printf("%-18s %-18s %7s %4s %5s %9s %s\n", "key", "policy", "memory", "cpus",
		       "accel", "disk", "age");
		for (int i = 0; i < n; i++)
			printf("%-18s %-18s %6uM %4u %5s %8.0fM %s\n", v[i].key,
			       v[i].valid ? v[i].policy : "(damaged)", v[i].mem_mb, v[i].cpus,
			       v[i].kvm ? "kvm" : "tcg", (double)v[i].disk_bytes / 1048576,
			       v[i].created ? (now - v[i].created < 3600 ? "< 1 h" :
					       now - v[i].created < 86400 ? "< 1 day" : "older")
					    : "-");
		if (!n)
			printf("(none: pml run builds one on first use)\n");
	}
	free(v);
	return PML_EXIT_OK;
}

static int cmd_rm(int argc, char **argv)
{
	int status = PML_EXIT_OK;
	unsigned bits;
	int ret;

	ret = sub_options(argc, argv, "pml: snapshot rm", "rm KEY... | --all",
			  "Remove the given snapshots, or all.", rm_options, &bits);
	if (ret)
		return ret < 0 ? PML_EXIT_OK : ret;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2 && !bits) {
		fprintf(stderr, "pml: snapshot rm: give KEY... or --all\n");
		return PML_EXIT_USAGE;
	}
	if (bits) {
		struct pml_snapshot_info *v = calloc(MAX_LIST, sizeof(*v));
		int n = v ? pml_snapshot_list(v, MAX_LIST) : -ENOMEM;

		if (n < 0) {
			fprintf(stderr, "pml: snapshot rm: %s\n", strerror(-n));
			free(v);
			return PML_EXIT_FAIL;
		}
		for (int i = 0; i < n && i < MAX_LIST; i++)
			if (pml_snapshot_remove(v[i].key) == 0)
				printf("removed %s\n", v[i].key);
		free(v);
		return PML_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		int r = pml_snapshot_remove(argv[i]);

		if (r < 0) {
			fprintf(stderr, "pml: snapshot rm: %s: %s\n", argv[i],
				r == -ENOENT ? "no such snapshot (pml snapshot ls)"
				: r == -EINVAL ? "not a snapshot key" : strerror(-r));
			status = PML_EXIT_FAIL;
		} else {
			printf("removed %s\n", argv[i]);
		}
	}
	return status;
}

/* pml run's options, then "-- true": the run builds the snapshot and restores it once. */
static int cmd_build(int argc, char **argv)
{
	char **v = calloc((size_t)argc + 4, sizeof(*v));
	int n = 0, r;

	if (!v)
		return PML_EXIT_FAIL;
	v[n++] = "pml: snapshot build"; /* getopt_long's prefix (commands.h) */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			fprintf(stderr, "pml: snapshot build: takes pml run's options, no command\n");
			free(v);
			return PML_EXIT_USAGE;
		}
		v[n++] = argv[i];
	}
	v[n++] = "--quiet";
	v[n++] = "--";
	v[n++] = "true";
	r = cmd_run(n, v);
	free(v);
	if (r == 0)
		printf("the snapshot for these settings is ready (pml snapshot ls)\n");
	return r;
}

int cmd_snapshot(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? PML_EXIT_USAGE : PML_EXIT_OK;
	}
	if (!strcmp(argv[1], "ls"))
		return cmd_ls(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return cmd_rm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1);
	fprintf(stderr, "pml: snapshot: '%s' is not ls, rm or build\n", argv[1]);
	return PML_EXIT_USAGE;
}
