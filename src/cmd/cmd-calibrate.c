/* pml calibrate: measure each module's costs in the guest (resident bytes after load, load
 * ms, unload ms) and store them in the module catalog, where replay and the resource
 * manager read them. On the host it boots the guest once and runs itself there with
 * --in-guest; the measurements come back as JSONL and go through pml_repo_import_costs().
 * A module is measured with the dependencies it needs: every module the load inserted gets
 * its own numbers. A module that will not unload (sctp stays referenced) keeps an unknown
 * unload time and is left loaded, so it is measured last where it matters. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd-errors.h"
#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "loader/loader.h"
#include "repo/repo.h"
#include "util/log.h"
#include "vm/paths.h"
#include "vm/vm.h"

enum { OPT_MODULES = CMD_OPT_LONG_ONLY, OPT_CATALOG, OPT_IN_GUEST };

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{OPT_MODULES, "modules", "M1,M2,...",
	 "the modules (default: guest/calibrate-modules.txt)"},
	{OPT_CATALOG, "catalog", "FILE", "the catalog to store the costs in"},
	{'o', "output", "FILE", "also keep the measurements (JSONL)"},
	{OPT_IN_GUEST, "in-guest", NULL, "measure here (what the guest runs; not for hosts)"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pml calibrate [--modules M1,M2,...] [--catalog FILE] [-o FILE]\n\n"
		   "Boot the guest, load and unload each module (default: guest/calibrate-modules.txt)\n"
		   "with its dependencies, and store each module's resident bytes, load ms and\n"
		   "unload ms in the catalog (see 'pml repo show MODULE'). -o also keeps the\n"
		   "measurements (JSONL).\n\n");
	cmd_options_help(f, options);
}

/* Guest side: one JSON line per module touched. */
static int measure(char *list, FILE *out)
{
	struct pml_loader *ld;
	int r, n = 0, failed = 0;

	r = pml_loader_new_kmod(NULL, &ld);
	if (r < 0) {
		fprintf(stderr, "pml: calibrate: cannot open the module tree: %s\n", strerror(-r));
		return PML_EXIT_FAIL;
	}
	pml_loader_keep_loaded(ld);
	for (char *m = strtok(list, ","); m; m = strtok(NULL, ",")) {
		struct pml_op_result load, unload = {0};

		r = pml_loader_load(ld, m, 0, &load);
		if (r < 0) {
			fprintf(stderr, "pml: calibrate: %s: load failed: %s\n", m, strerror(-r));
			failed++;
			continue;
		}
		r = pml_loader_unload(ld, m, PML_UNLOAD_DEPS, &unload);
		for (size_t i = 0; i < load.n; i++) {
			const struct pml_mod_op *op = &load.mods[i];
			double unload_ms = -1;

			if (!op->done || op->err)
				continue;
			for (size_t k = 0; k < unload.n; k++)
				if (!strcmp(unload.mods[k].name, op->name) && unload.mods[k].done)
					unload_ms = unload.mods[k].ms;
			fprintf(out, "{\"module\":\"%s\",\"bytes\":%lld,\"load_ms\":%.3f", op->name,
				(long long)op->bytes, op->ms);
			if (unload_ms >= 0)
				fprintf(out, ",\"unload_ms\":%.3f", unload_ms);
			fprintf(out, "}\n");
			n++;
		}
		if (r < 0)
			fprintf(stderr, "pml: calibrate: %s stays loaded (%s)\n", m, strerror(-r));
	}
	pml_loader_free(ld);
	fprintf(stderr, "pml: calibrate: measured %d modules, %d loads failed\n", n, failed);
	return n > 0 ? 0 : PML_EXIT_FAIL;
}

static int read_list(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[256];

	if (!f)
		return -errno;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n#")] = '\0';
		if (!*line)
			continue;
		if (strlen(buf) + strlen(line) + 2 > size)
			break;
		if (*buf)
			strcat(buf, ",");
		strcat(buf, line);
	}
	fclose(f);
	return 0;
}

int cmd_calibrate(int argc, char **argv)
{
	struct cmd_getopt g;
	char list[8192] = "", moddir[4096], path[PATH_MAX + 256], run_dir[] = "/tmp/pml-cal.XXXXXX";
	const char *catalog = NULL, *output = NULL;
	bool in_guest = false;
	struct pml_testbed tb;
	struct pml_vm_result res;
	struct pml_repo *repo;
	int c, r;

	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_MODULES:
			snprintf(list, sizeof(list), "%s", optarg);
			break;
		case OPT_CATALOG:
			catalog = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_IN_GUEST:
			in_guest = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (in_guest) {
		FILE *out = output ? fopen(output, "we") : stdout;
		int ret;

		if (!out) {
			fprintf(stderr, "pml: calibrate: %s: %s\n", output, strerror(errno));
			return PML_EXIT_FAIL;
		}
		ret = measure(list, out);
		if (out != stdout)
			fclose(out);
		return ret;
	}

	r = pml_kernel_moddir(moddir, sizeof(moddir));
	r = r < 0 ? r : pml_testbed_prepare("", false, &tb);
	if (r < 0) {
		fprintf(stderr, "pml: calibrate: the testbed is not ready (scripts/fetch-kernel, "
				"scripts/build-image)\n");
		return PML_EXIT_FAIL;
	}
	if (!*list) {
		snprintf(path, sizeof(path), "%s/calibrate-modules.txt", tb.guest_dir);
		if (read_list(path, list, sizeof(list)) < 0 || !*list) {
			fprintf(stderr, "pml: calibrate: %s: no module list\n", path);
			return PML_EXIT_FAIL;
		}
	}
	if (!mkdtemp(run_dir)) {
		fprintf(stderr, "pml: calibrate: %s\n", strerror(errno));
		return PML_EXIT_FAIL;
	}
	struct pml_vm_job job = {
		.image_dir = tb.image_dir, .bin_dir = tb.bin_dir, .guest_dir = tb.guest_dir,
		.argv = (char *[]){"pml", "calibrate", "--in-guest", "--modules", list, "-o",
				   "/work/out/costs.jsonl", NULL},
		.policy = "reactive", .run_dir = run_dir, .timeout_s = 1800, .mem_mb = 1024,
		.accel = PML_ACCEL_AUTO,
	};
	pml_info("measuring modules in the guest (%s)", list);
	r = pml_vm_run(&job, &res);
	if (r < 0) {
		fprintf(stderr, "pml: calibrate: the guest run failed: %s (kept %s)\n", strerror(-r),
			run_dir);
		return PML_EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/stderr", res.result_dir);
	pml_spawn_wait((char *[]){"cat", path, NULL}, STDERR_FILENO, 0);
	snprintf(path, sizeof(path), "%s/out/costs.jsonl", res.result_dir);
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "pml: calibrate: no measurements came back (kept %s)\n", run_dir);
		return PML_EXIT_FAIL;
	}
	if (output)
		pml_spawn_wait((char *[]){"cp", path, (char *)output, NULL}, -1, 0);
	r = pml_repo_open(moddir, catalog, 0, &repo);
	if (r < 0) {
		fprintf(stderr, "pml: calibrate: cannot open the catalog: %s\n", strerror(-r));
		return PML_EXIT_FAIL;
	}
	r = pml_repo_import_costs(repo, path);
	if (r >= 0)
		printf("pml: calibrate: stored the costs of %d modules in %s\n", r,
		       pml_repo_catalog_path(repo));
	else
		fprintf(stderr, "pml: calibrate: import failed: %s\n", cmd_costs_strerror(r));
	pml_repo_free(repo);
	pml_spawn_wait((char *[]){"rm", "-rf", run_dir, NULL}, -1, 0);
	return r >= 0 ? 0 : PML_EXIT_FAIL;
}
