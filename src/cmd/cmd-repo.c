/* `pml repo`: the module catalog from the command line, like modinfo and modprobe -R on
 * the guest's module tree: list, show MODULE, resolve ALIAS, import-costs FILE, info.
 * All the work is in src/repo/; this file parses options and turns errors into words. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "repo/repo.h"
#include "util/json.h"
#include "util/log.h"
#include "vm/paths.h"

static const char usage_text[] =
	"Usage: pml repo [--moddir DIR] [--catalog FILE] [--rebuild] <subcommand> [<args>]\n"
	"\n"
	"The catalog of the guest kernel's modules, indexed from the module tree through\n"
	"libkmod and kept in an SQLite file, rebuilt when the tree changes.\n"
	"\n"
	"Subcommands:\n"
	"  list [--json]            every module: name, file size, description\n"
	"  show MODULE [--json]     like modinfo, plus dependencies, softdeps and measured costs\n"
	"  resolve ALIAS [--json]   the modules an alias loads, like modprobe -R\n"
	"                           (exit 1 when it resolves to no module)\n"
	"  import-costs FILE        read calibration lines (or a decision log: load/unload)\n"
	"                           {\"module\":M,\"bytes\":N,\"load_ms\":X,\"unload_ms\":Y}\n"
	"  info [--json]            the catalog: file, release, counts\n"
	"\n"
	"Options:\n";

enum { OPT_MODDIR = CMD_OPT_LONG_ONLY, OPT_CATALOG, OPT_REBUILD, OPT_JSON };

/* getopt_long and --help are both made from these tables (cmd-options.h): pml repo's
 * own options, before the subcommand, and the subcommands' (after it). */
static const struct cmd_option options[] = {
	{OPT_MODDIR, "moddir", "DIR",
	 "the module tree (default: the fetched guest kernel's,\n"
	 "CACHE/kernel/REL/lib/modules/REL)"},
	{OPT_CATALOG, "catalog", "FILE", "the catalog file (default: CACHE/catalog-REL.sqlite)"},
	{OPT_REBUILD, "rebuild", NULL, "rebuild the catalog even when it is current"},
	{'h', "help", NULL, "this text"},
	{0},
};

static const struct cmd_option sub_options[] = {
	{OPT_JSON, "json", NULL, "print JSON"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fputs(usage_text, f);
	cmd_options_help(f, options);
}

struct repo_opts {
	const char *moddir;
	const char *catalog;
	unsigned flags;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list args;

	fprintf(stderr, "pml: repo: ");
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\nSee 'pml repo --help'.\n");
	return PML_EXIT_USAGE;
}

static int open_repo(const struct repo_opts *o, struct pml_repo **ret)
{
	char moddir[PATH_MAX], cache[PATH_MAX];
	const char *dir = o->moddir;
	int r;

	if (!dir) {
		r = pml_kernel_moddir(moddir, sizeof(moddir));
		if (r < 0) {
			if (pml_cache_dir(cache, sizeof(cache)) < 0)
				snprintf(cache, sizeof(cache), "~/.cache/pml");
			fprintf(stderr,
				"pml: repo: the guest kernel is not fetched yet (no module tree under "
				"%s/kernel)\n"
				"Run scripts/fetch-kernel first, or pass --moddir DIR.\n",
				cache);
			return -ENOENT;
		}
		dir = moddir;
	}
	r = pml_repo_open(dir, o->catalog, o->flags, ret);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
		if (access(dir, F_OK) < 0)
			fprintf(stderr, "pml: repo: %s: no such module tree\n", dir);
		else
			fprintf(stderr,
				"pml: repo: %s: no modules.dep (not a module tree, or depmod was "
				"not run: depmod -b ROOT REL)\n",
				dir);
		break;
	case -ENOTDIR:
		fprintf(stderr, "pml: repo: %s: not a directory\n", dir);
		break;
	case -EBADMSG:
		fprintf(stderr,
			"pml: repo: %s: not a pml catalog; refusing to overwrite it (remove it or "
			"choose another --catalog)\n",
			o->catalog);
		break;
	case -EPROTONOSUPPORT:
		fprintf(stderr,
			"pml: repo: %s: written by a newer pml (catalog version > %d); use that "
			"pml, or remove the file to rebuild it\n",
			o->catalog, PML_CATALOG_VERSION);
		break;
	default:
		fprintf(stderr, "pml: repo: cannot open the catalog of %s: %s\n", dir,
			strerror(-r));
	}
	return r;
}

static void print_strv(const char *label, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%-16s%s\n", label, v[i]);
}

static void print_joined(const char *label, char **v, size_t n)
{
	printf("%-16s", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", v[i]);
	printf("\n");
}

static void json_strv(struct pml_json *j, const char *key, char **v, size_t n)
{
	pml_json_arr_begin(j, key);
	for (size_t i = 0; i < n; i++)
		pml_json_str(j, NULL, v[i]);
	pml_json_arr_end(j);
}

static void json_module(struct pml_json *j, const char *key, const struct pml_module_info *m)
{
	pml_json_obj_begin(j, key);
	pml_json_str(j, "name", m->name);
	if (m->path)
		pml_json_str(j, "path", m->path);
	else
		pml_json_null(j, "path");
	pml_json_bool(j, "builtin", m->builtin);
	pml_json_int(j, "file_bytes", m->file_bytes);
	if (m->description)
		pml_json_str(j, "description", m->description);
	else
		pml_json_null(j, "description");
	if (m->license)
		pml_json_str(j, "license", m->license);
	else
		pml_json_null(j, "license");
	json_strv(j, "aliases", m->aliases, m->n_aliases);
	json_strv(j, "deps", m->deps, m->n_deps);
	json_strv(j, "softdeps_pre", m->softdeps_pre, m->n_softdeps_pre);
	json_strv(j, "softdeps_post", m->softdeps_post, m->n_softdeps_post);
	pml_json_int(j, "resident_bytes", m->resident_bytes);
	pml_json_double(j, "load_ms", m->load_ms);
	pml_json_double(j, "unload_ms", m->unload_ms);
	pml_json_obj_end(j);
}

struct list_ctx {
	struct pml_json *j;
	size_t n;
};

static int list_one(const struct pml_module_info *m, void *data)
{
	struct list_ctx *c = data;
	char size[24];

	c->n++;
	if (c->j) {
		json_module(c->j, NULL, m);
		return 0;
	}
	if (m->builtin)
		snprintf(size, sizeof(size), "builtin");
	else
		snprintf(size, sizeof(size), "%" PRId64, m->file_bytes);
	/* One line per module: a few descriptions hold newlines. */
	printf("%-24s %9s  ", m->name, size);
	for (const char *p = m->description ? m->description : "-"; *p; p++)
		putchar(*p == '\n' || *p == '\t' ? ' ' : *p);
	putchar('\n');
	return 0;
}

static int do_list(struct pml_repo *repo, bool json)
{
	struct pml_json j;
	struct list_ctx c = {.j = json ? &j : NULL};
	int r;

	if (json) {
		pml_json_init(&j, stdout, false);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "release", pml_repo_release(repo));
		pml_json_arr_begin(&j, "modules");
	}
	r = pml_repo_foreach(repo, list_one, &c);
	if (json) {
		pml_json_arr_end(&j);
		pml_json_obj_end(&j);
		fputc('\n', stdout);
	}
	if (r < 0) {
		fprintf(stderr, "pml: repo: reading the catalog: %s\n", strerror(-r));
		return PML_EXIT_FAIL;
	}
	return PML_EXIT_OK;
}

static void print_cost_ms(const char *label, double ms)
{
	if (ms < 0)
		printf("%-16sunknown (not calibrated)\n", label);
	else
		printf("%-16s%.1f ms\n", label, ms);
}

static void show_text(struct pml_repo *repo, const struct pml_module_info *m)
{
	char **order = NULL;
	size_t n_order = 0;

	printf("%-16s%s\n", "name:", m->name);
	printf("%-16s%s\n", "filename:", m->builtin ? "(builtin)" : m->path);
	if (!m->builtin)
		printf("%-16s%" PRId64 " bytes\n", "file size:", m->file_bytes);
	printf("%-16s", "description:");
	/* Continuation lines of a long description indented under the first, as modinfo. */
	for (const char *p = m->description ? m->description : "-"; *p; p++)
		if (*p == '\n')
			printf("\n%16s", "");
		else
			putchar(*p);
	putchar('\n');
	printf("%-16s%s\n", "license:", m->license ? m->license : "-");
	print_strv("alias:", m->aliases, m->n_aliases);
	print_joined("depends:", m->deps, m->n_deps);
	if (m->n_softdeps_pre)
		print_joined("softdep pre:", m->softdeps_pre, m->n_softdeps_pre);
	if (m->n_softdeps_post)
		print_joined("softdep post:", m->softdeps_post, m->n_softdeps_post);
	if (!m->builtin && pml_repo_load_order(repo, m->name, &order, &n_order) > 0)
		print_joined("load order:", order, n_order);
	pml_repo_names_free(order);
	if (m->builtin)
		return; /* part of the kernel image: nothing to load or measure */
	if (m->resident_bytes < 0)
		printf("%-16sunknown (not calibrated)\n", "resident:");
	else
		printf("%-16s%" PRId64 " bytes\n", "resident:", m->resident_bytes);
	print_cost_ms("load:", m->load_ms);
	print_cost_ms("unload:", m->unload_ms);
}

/* Like modinfo: a module name, or else an alias, whose modules are then all shown
 * (--json: an array in that case). */
static int do_show(struct pml_repo *repo, const char *name, bool json)
{
	struct pml_module_info *m;
	struct pml_json j;
	char **names = NULL;
	size_t n = 0;
	int r = pml_repo_get(repo, name, &m);

	if (r == -ENOENT && pml_repo_resolve_alias(repo, name, &names, &n) > 0) {
		if (json) {
			pml_json_init(&j, stdout, true);
			pml_json_arr_begin(&j, NULL);
		}
		for (size_t i = 0; i < n; i++) {
			if (pml_repo_get(repo, names[i], &m) < 0)
				continue;
			if (json) {
				json_module(&j, NULL, m);
			} else {
				printf("%s", i ? "\n" : "");
				show_text(repo, m);
			}
			pml_module_info_free(m);
		}
		if (json) {
			pml_json_arr_end(&j); /* pretty: ends the line itself */
		}
		pml_repo_names_free(names);
		return PML_EXIT_OK;
	}
	pml_repo_names_free(names);
	if (r == -ENOENT || r == -EINVAL) {
		fprintf(stderr, "pml: repo: no module '%s' in %s (see 'pml repo list')\n", name,
			pml_repo_release(repo));
		return PML_EXIT_FAIL;
	}
	if (r < 0) {
		fprintf(stderr, "pml: repo: %s: %s\n", name, strerror(-r));
		return PML_EXIT_FAIL;
	}
	if (json) {
		pml_json_init(&j, stdout, true);
		json_module(&j, NULL, m);
	} else {
		show_text(repo, m);
	}
	pml_module_info_free(m);
	return PML_EXIT_OK;
}

static int do_resolve(struct pml_repo *repo, const char *alias, bool json)
{
	char **names;
	size_t n;
	int r = pml_repo_resolve_alias(repo, alias, &names, &n);

	if (r == -EINVAL) {
		fprintf(stderr, "pml: repo: '%s': not a valid alias\n", alias);
		return PML_EXIT_USAGE;
	}
	if (r < 0) {
		fprintf(stderr, "pml: repo: resolving '%s': %s\n", alias, strerror(-r));
		return PML_EXIT_FAIL;
	}
	if (json) {
		struct pml_json j;

		pml_json_init(&j, stdout, false);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "alias", alias);
		json_strv(&j, "modules", names, n);
		pml_json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", names[i]);
	}
	if (n == 0)
		fprintf(stderr, "pml: repo: '%s' resolves to no module in %s\n", alias,
			pml_repo_release(repo));
	pml_repo_names_free(names);
	return n ? PML_EXIT_OK : PML_EXIT_FAIL;
}

static int do_import(struct pml_repo *repo, const char *file)
{
	int r = pml_repo_import_costs(repo, file);

	/* The library named the file and line already. */
	if (r < 0) {
		fprintf(stderr, "pml: repo: nothing imported from %s\n", file);
		return r == -EINVAL ? PML_EXIT_USAGE : PML_EXIT_FAIL;
	}
	printf("imported %d cost lines from %s\n", r, file);
	return PML_EXIT_OK;
}

static int calibrated(const struct pml_module_info *m, void *data)
{
	if (m->resident_bytes >= 0 || m->load_ms >= 0)
		(*(size_t *)data)++;
	return 0;
}

static int do_info(struct pml_repo *repo, bool json)
{
	size_t n_cal = 0;

	pml_repo_foreach(repo, calibrated, &n_cal);
	if (json) {
		struct pml_json j;

		pml_json_init(&j, stdout, false);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "catalog", pml_repo_catalog_path(repo));
		pml_json_str(&j, "release", pml_repo_release(repo));
		pml_json_str(&j, "moddir", pml_repo_moddir(repo));
		pml_json_int(&j, "modules", (int64_t)pml_repo_count(repo));
		pml_json_int(&j, "calibrated", (int64_t)n_cal);
		pml_json_obj_end(&j);
		fputc('\n', stdout);
		return PML_EXIT_OK;
	}
	printf("%-16s%s\n", "catalog:", pml_repo_catalog_path(repo));
	printf("%-16s%s\n", "release:", pml_repo_release(repo));
	printf("%-16s%s\n", "module tree:", pml_repo_moddir(repo));
	printf("%-16s%zu\n", "modules:", pml_repo_count(repo));
	printf("%-16s%zu\n", "calibrated:", n_cal);
	return PML_EXIT_OK;
}

int cmd_repo(int argc, char **argv)
{
	struct cmd_getopt g;
	struct repo_opts o = {0};
	struct pml_repo *repo;
	const char *sub, *arg = NULL, *sub_usage;
	bool json = false, takes_json = true;
	int c, r, nargs;

	/* Our own words for a bad option, naming the verb. */
	opterr = 0;
	optind = 0;
	cmd_getopt_init(&g, options, "+:");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_MODDIR:
			o.moddir = optarg;
			break;
		case OPT_CATALOG:
			o.catalog = optarg;
			break;
		case OPT_REBUILD:
			o.flags |= PML_REPO_REBUILD;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return PML_EXIT_USAGE;
	}
	sub = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(sub, "list")) {
		sub_usage = "list [--json]";
		nargs = 0;
	} else if (!strcmp(sub, "show")) {
		sub_usage = "show MODULE [--json]";
		nargs = 1;
	} else if (!strcmp(sub, "resolve")) {
		sub_usage = "resolve ALIAS [--json]";
		nargs = 1;
	} else if (!strcmp(sub, "import-costs")) {
		sub_usage = "import-costs FILE";
		nargs = 1;
		takes_json = false;
	} else if (!strcmp(sub, "info")) {
		sub_usage = "info [--json]";
		nargs = 0;
	} else {
		return usage_error("'%s' is not a repo subcommand", sub);
	}
	/* Options may follow the argument (show sctp --json): getopt permutes them. optind 0
	 * makes glibc start over, also forgetting the '+' (stop at the first argument) of the
	 * first pass. */
	optind = 0;
	cmd_getopt_init(&g, sub_options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_JSON:
			if (!takes_json)
				return usage_error("%s takes no --json", sub);
			json = true;
			break;
		case 'h':
			printf("Usage: pml repo [--moddir DIR] [--catalog FILE] %s\n", sub_usage);
			return PML_EXIT_OK;
		default:
			return usage_error("%s: unknown option '%s'", sub, argv[optind - 1]);
		}
	}
	if (argc - optind != nargs)
		return usage_error("usage: pml repo %s", sub_usage);
	if (nargs)
		arg = argv[optind];

	r = open_repo(&o, &repo);
	if (r < 0)
		return PML_EXIT_FAIL;
	if (!strcmp(sub, "list"))
		r = do_list(repo, json);
	else if (!strcmp(sub, "show"))
		r = do_show(repo, arg, json);
	else if (!strcmp(sub, "resolve"))
		r = do_resolve(repo, arg, json);
	else if (!strcmp(sub, "import-costs"))
		r = do_import(repo, arg);
	else
		r = do_info(repo, json);
	pml_repo_free(repo);
	return r;
}
