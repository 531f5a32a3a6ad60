/* Unit tests of the module repository over the fixture tree tests/fixtures/repo/root
 * (tiny fake .ko files and depmod's indexes, made by tests/fixtures/repo/make-fixture):
 * indexing, look-ups, alias resolution, softdeps, the catalog's persistence and rebuilds,
 * measured costs and their import, and refusing or replacing bad catalog files. No VM,
 * no depmod at run time: the tree is copied into a temporary directory where a test has
 * to change it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repo/repo-internal.h"
#include "repo/repo.h"
#include "unit.h"
#include "util/log.h"

#define REL "1.0.0-fake"

static char fixture[4096]; /* the committed tree */
static char tmpdir[256];

/* Log capture: the last error/warning the library logged. */
static char last_log[1024];

static void capture_log(void *data, enum pml_log_level level, const char *fmt, va_list args)
{
	if (level <= PML_LOG_WARNING)
		vsnprintf(last_log, sizeof(last_log), fmt, args);
}

static int run(const char *fmt, ...)
{
	char cmd[8192];
	va_list args;

	va_start(args, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, args);
	va_end(args);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A private copy of the fixture tree at tmpdir/NAME/lib/modules/REL. */
static void copy_tree(const char *name, char *moddir, size_t size)
{
	CHECK(run("mkdir -p '%s/%s' && cp -a '%s/root/.' '%s/%s/'", tmpdir, name, fixture,
		  tmpdir, name) == 0);
	snprintf(moddir, size, "%s/%s/lib/modules/" REL, tmpdir, name);
}

/* Give a file a new mtime, as depmod rewriting it would. */
static void bump_mtime(const char *moddir, const char *file, int seconds)
{
	char path[4200];
	struct timespec ts[2] = {{.tv_sec = 1800000000 + seconds}, {.tv_sec = 1800000000 + seconds}};

	snprintf(path, sizeof(path), "%s/%s", moddir, file);
	CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

static bool strv_eq(char **v, size_t n, const char *const *want, size_t n_want)
{
	if (n != n_want || !v || v[n])
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], want[i]))
			return false;
	return true;
}

static int count_tmp_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void test_index_and_get(const char *moddir)
{
	char catalog[512], path[4200];
	struct pml_repo *repo = NULL;
	struct pml_module_info *m = NULL;

	snprintf(catalog, sizeof(catalog), "%s/get.sqlite", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(pml_repo_rebuilt(repo));
	CHECK(pml_repo_count(repo) == 8); /* 7 files and 1 built-in */
	CHECK_STR(pml_repo_release(repo), REL);
	CHECK_STR(pml_repo_catalog_path(repo), catalog);

	CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
	if (m) {
		static const char *const aliases[] = {"fakefs-alt", "fs-fakefs"};
		static const char *const deps[] = {"fakedep"};
		static const char *const pre[] = {"fakecrc"}, *const post[] = {"fakepost"};

		CHECK_STR(m->name, "fakefs");
		snprintf(path, sizeof(path), "%s/kernel/fake/fakefs.ko", pml_repo_moddir(repo));
		CHECK_STR(m->path, path);
		CHECK(!m->builtin);
		CHECK(m->file_bytes == file_size(path) && m->file_bytes > 0);
		CHECK_STR(m->description, "Fake file system");
		CHECK_STR(m->license, "GPL");
		CHECK(strv_eq(m->aliases, m->n_aliases, aliases, 2));
		CHECK(strv_eq(m->deps, m->n_deps, deps, 1));
		/* modules.softdep says "pre: crypto-fakecrc": an alias, resolved to its module */
		CHECK(strv_eq(m->softdeps_pre, m->n_softdeps_pre, pre, 1));
		CHECK(strv_eq(m->softdeps_post, m->n_softdeps_post, post, 1));
		CHECK(m->resident_bytes == -1 && m->load_ms < 0 && m->unload_ms < 0);
		pml_module_info_free(m);
	}
	/* The whole closure, a dependency before what needs it. */
	m = NULL;
	CHECK(pml_repo_get(repo, "fakechain", &m) == 0);
	if (m) {
		static const char *const deps[] = {"fakedep", "fakefs"};

		CHECK(strv_eq(m->deps, m->n_deps, deps, 2));
		CHECK(m->n_softdeps_pre == 0 && m->softdeps_pre && !m->softdeps_pre[0]);
		pml_module_info_free(m);
	}
	/* '-' and '_' alike; the file is fake-dash.ko, the module fake_dash. */
	m = NULL;
	CHECK(pml_repo_get(repo, "fake-dash", &m) == 0);
	if (m) {
		CHECK_STR(m->name, "fake_dash");
		CHECK_STR(m->license, "Proprietary");
		CHECK(m->n_aliases == 1);
		pml_module_info_free(m);
	}
	m = NULL;
	CHECK(pml_repo_get(repo, "fake_dash", &m) == 0);
	pml_module_info_free(m);
	/* Nothing in .modinfo but a name. */
	m = NULL;
	CHECK(pml_repo_get(repo, "fakebare", &m) == 0);
	if (m) {
		CHECK(!m->description && !m->license && m->n_aliases == 0 && m->aliases);
		pml_module_info_free(m);
	}
	m = NULL;
	CHECK(pml_repo_get(repo, "fakebuiltin", &m) == 0);
	if (m) {
		CHECK(m->builtin && !m->path && m->file_bytes == 0);
		CHECK_STR(m->description, "Fake built-in module");
		CHECK(m->n_aliases == 1 && !strcmp(m->aliases[0], "fake-builtin-alias"));
		pml_module_info_free(m);
	}
	m = (struct pml_module_info *)1;
	CHECK(pml_repo_get(repo, "no-such-module", &m) == -ENOENT);
	CHECK(m == (struct pml_module_info *)1); /* untouched on failure */
	CHECK(pml_repo_get(repo, "", &m) == -EINVAL);
	pml_repo_free(repo);
}

static void test_resolve(const char *moddir)
{
	char catalog[512];
	struct pml_repo *repo = NULL;
	char **names = NULL;
	size_t n = 99;

	snprintf(catalog, sizeof(catalog), "%s/get.sqlite", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(!pml_repo_rebuilt(repo));
	CHECK(pml_repo_resolve_alias(repo, "fs-fakefs", &names, &n) == 1);
	CHECK(n == 1 && names && !strcmp(names[0], "fakefs") && !names[1]);
	pml_repo_names_free(names);
	/* A module name resolves to itself, dashes or not. */
	CHECK(pml_repo_resolve_alias(repo, "fake-dash", &names, &n) == 1);
	CHECK(n == 1 && !strcmp(names[0], "fake_dash"));
	pml_repo_names_free(names);
	/* A wildcard alias (the pattern is in the index, the request is concrete). */
	CHECK(pml_repo_resolve_alias(repo, "pci:v0000FA4Ed00001234sv00000000sd00000000bc02sc00i00",
				     &names, &n) == 1);
	CHECK(n == 1 && !strcmp(names[0], "fake_dash"));
	pml_repo_names_free(names);
	CHECK(pml_repo_resolve_alias(repo, "pci:v00001234d00001234sv00000000sd00000000bc02sc00i00",
				     &names, &n) == 0);
	pml_repo_names_free(names);
	CHECK(pml_repo_resolve_alias(repo, "fake-builtin-alias", &names, &n) == 1);
	CHECK(n == 1 && !strcmp(names[0], "fakebuiltin"));
	pml_repo_names_free(names);
	CHECK(pml_repo_resolve_alias(repo, "crypto-fakecrc", &names, &n) == 1);
	CHECK(n == 1 && !strcmp(names[0], "fakecrc"));
	pml_repo_names_free(names);
	/* No module: a valid answer, an empty array. */
	names = NULL;
	CHECK(pml_repo_resolve_alias(repo, "netdev-eth7", &names, &n) == 0);
	CHECK(n == 0 && names && !names[0]);
	pml_repo_names_free(names);
	CHECK(pml_repo_resolve_alias(repo, "", &names, &n) == -EINVAL);
	pml_repo_free(repo);
}

/* What modprobe would insert, in order (libkmod's probe list). */
static void test_load_order(const char *moddir)
{
	static const char *const chain[] = {"fakedep", "fakecrc", "fakefs", "fakepost",
					    "fakechain"};
	char catalog[512];
	struct pml_repo *repo = NULL;
	char **names = NULL;
	size_t n = 0;

	snprintf(catalog, sizeof(catalog), "%s/get.sqlite", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(pml_repo_load_order(repo, "fakechain", &names, &n) == 5);
	CHECK(strv_eq(names, n, chain, 5));
	pml_repo_names_free(names);
	/* by alias */
	CHECK(pml_repo_load_order(repo, "fs-fakefs", &names, &n) == 4);
	CHECK(strv_eq(names, n, chain, 4));
	pml_repo_names_free(names);
	CHECK(pml_repo_load_order(repo, "fake-dash", &names, &n) == 1);
	pml_repo_names_free(names);
	/* built in: nothing to insert */
	names = NULL;
	CHECK(pml_repo_load_order(repo, "fake-builtin-alias", &names, &n) == 0);
	CHECK(names && !names[0]);
	pml_repo_names_free(names);
	CHECK(pml_repo_load_order(repo, "netdev-eth7", &names, &n) == -ENOENT);
	CHECK(pml_repo_load_order(repo, "", &names, &n) == -EINVAL);
	pml_repo_free(repo);
}

static int count_cb(const struct pml_module_info *m, void *data)
{
	(*(int *)data)++;
	return !strcmp(m->name, "fakedep") ? 7 : 0;
}

static void test_list_and_size(const char *moddir)
{
	static const char *const all[] = {"fake_dash", "fakebare", "fakebuiltin", "fakechain",
					  "fakecrc",   "fakedep",  "fakefs",	  "fakepost"};
	char catalog[512], p1[4200], p2[4200];
	struct pml_repo *repo = NULL;
	char **names = NULL;
	char *set[] = {"fakefs", "fakedep", "fakebuiltin"};
	int64_t file = 0, resident = 0;
	size_t n = 0;
	int seen = 0;

	snprintf(catalog, sizeof(catalog), "%s/get.sqlite", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, PML_REPO_NO_BUILD, &repo) == 0);
	if (!repo)
		return;
	CHECK(pml_repo_list(repo, &names, &n) == 8);
	CHECK(strv_eq(names, n, all, 8));
	pml_repo_names_free(names);
	/* The walk goes in name order and stops at fn's non-zero value. */
	CHECK(pml_repo_foreach(repo, count_cb, &seen) == 7);
	CHECK(seen == 6);

	snprintf(p1, sizeof(p1), "%s/kernel/fake/fakefs.ko", pml_repo_moddir(repo));
	snprintf(p2, sizeof(p2), "%s/kernel/fake/fakedep.ko", pml_repo_moddir(repo));
	CHECK(pml_repo_set_size(repo, set, 3, &file, &resident) == 0);
	CHECK(file == file_size(p1) + file_size(p2));
	CHECK(resident == -1);
	CHECK(pml_repo_set_costs(repo, "fakefs", 40960, 12.5, 3.25) == 0);
	CHECK(pml_repo_set_costs(repo, "fakedep", 8192, -1, -1) == 0);
	CHECK(pml_repo_set_size(repo, set, 3, NULL, &resident) == 0);
	CHECK(resident == 40960 + 8192); /* a built-in module takes no module memory */
	set[1] = "nope";
	CHECK(pml_repo_set_size(repo, set, 3, &file, &resident) == -ENOENT);
	CHECK(pml_repo_set_costs(repo, "nope", 1, 1, 1) == -ENOENT);
	CHECK(pml_repo_set_costs(repo, "fakefs", 1, NAN, 1) == -EINVAL);
	/* A negative value keeps what is stored. */
	CHECK(pml_repo_set_costs(repo, "fakefs", -1, 20.0, -1) == 0);
	pml_repo_free(repo);

	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, PML_REPO_NO_BUILD, &repo) == 0);
	if (repo) {
		struct pml_module_info *m = NULL;

		CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
		if (m) {
			CHECK(m->resident_bytes == 40960);
			CHECK(fabs(m->load_ms - 20.0) < 1e-9);
			CHECK(fabs(m->unload_ms - 3.25) < 1e-9);
			pml_module_info_free(m);
		}
		pml_repo_free(repo);
	}
}

/* The catalog follows the tree: a changed index means a rebuild, and measured costs of
 * modules still there survive it. */
static void test_rebuild(void)
{
	char moddir[4096], catalog[512], dep[4200];
	struct pml_repo *repo = NULL;
	struct pml_module_info *m = NULL;

	copy_tree("tree1", moddir, sizeof(moddir));
	snprintf(catalog, sizeof(catalog), "%s/tree1.sqlite", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, PML_REPO_NO_BUILD, &repo) == -ESTALE);
	CHECK(access(catalog, F_OK) < 0);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(pml_repo_rebuilt(repo));
	CHECK(pml_repo_set_costs(repo, "fakefs", 4096, 12.5, 3.0) == 0);
	CHECK(pml_repo_set_costs(repo, "fakebare", 100, 1.0, 1.0) == 0);
	pml_repo_free(repo);

	/* Unchanged: no rebuild. */
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	CHECK(repo && !pml_repo_rebuilt(repo));
	pml_repo_free(repo);

	/* depmod ran again (same content, new mtime): rebuilt, costs kept. */
	bump_mtime(moddir, "modules.alias", 1);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, PML_REPO_NO_BUILD, &repo) == -ESTALE);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(pml_repo_rebuilt(repo));
	CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
	if (m) {
		CHECK(m->resident_bytes == 4096 && m->load_ms == 12.5 && m->unload_ms == 3.0);
		pml_module_info_free(m);
	}
	pml_repo_free(repo);

	/* fakebare removed from the tree: gone from the catalog, the others keep costs. */
	snprintf(dep, sizeof(dep), "%s/modules.dep", moddir);
	CHECK(run("sed -i '/fakebare/d' '%s' && rm '%s/kernel/fake/fakebare.ko'", dep, moddir) ==
	      0);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(pml_repo_rebuilt(repo) && pml_repo_count(repo) == 7);
	m = NULL;
	CHECK(pml_repo_get(repo, "fakebare", &m) == -ENOENT);
	CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
	if (m) {
		CHECK(m->resident_bytes == 4096);
		pml_module_info_free(m);
	}
	pml_repo_free(repo);

	/* Forced rebuild keeps costs too. */
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, PML_REPO_REBUILD, &repo) == 0);
	if (repo) {
		m = NULL;
		CHECK(pml_repo_rebuilt(repo));
		CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
		CHECK(m && m->load_ms == 12.5);
		pml_module_info_free(m);
		pml_repo_free(repo);
	}
	CHECK(count_tmp_files() == 0);
}

static void test_import(const char *moddir)
{
	char catalog[512], jsonl[512];
	struct pml_repo *repo = NULL;
	struct pml_module_info *m = NULL;

	snprintf(catalog, sizeof(catalog), "%s/import.sqlite", tmpdir);
	snprintf(jsonl, sizeof(jsonl), "%s/costs.jsonl", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	write_file(jsonl, "# calibration, 6.1 guest\n"
			  "{\"module\":\"fakefs\",\"bytes\":53248,\"load_ms\":13.5,\"unload_ms\":4}\n"
			  "\n"
			  "{\"module\":\"fake-dash\",\"load_ms\":2.5}\n"
			  "{\"module\":\"sctp\",\"bytes\":1,\"load_ms\":1}\n");
	last_log[0] = '\0';
	CHECK(pml_repo_import_costs(repo, jsonl) == 2);
	CHECK(strstr(last_log, "costs.jsonl:5:") && strstr(last_log, "sctp")); /* skipped */
	CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
	if (m) {
		CHECK(m->resident_bytes == 53248 && m->load_ms == 13.5 && m->unload_ms == 4);
		pml_module_info_free(m);
	}
	m = NULL;
	CHECK(pml_repo_get(repo, "fake_dash", &m) == 0);
	if (m) {
		CHECK(m->resident_bytes == -1 && m->load_ms == 2.5 && m->unload_ms < 0);
		pml_module_info_free(m);
	}

	/* A decision log from a calibration run in the guest. */
	write_file(jsonl, "{\"t_ns\":1,\"event\":\"request\",\"alias\":\"fs-fakefs\"}\n"
			  "{\"t_ns\":2,\"event\":\"load\",\"module\":\"fakecrc\",\"bytes\":16384,"
			  "\"ms\":4.5,\"source\":\"pmld\"}\n"
			  "{\"t_ns\":3,\"event\":\"need\",\"module\":\"fakecrc\",\"ms\":99}\n"
			  "{\"t_ns\":4,\"event\":\"unload\",\"module\":\"fakecrc\",\"ms\":1.5}\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == 2);
	m = NULL;
	CHECK(pml_repo_get(repo, "fakecrc", &m) == 0);
	if (m) {
		CHECK(m->resident_bytes == 16384 && m->load_ms == 4.5 && m->unload_ms == 1.5);
		pml_module_info_free(m);
	}

	/* One bad line: nothing of the file is applied, the error names file and line. */
	write_file(jsonl, "{\"module\":\"fakedep\",\"bytes\":1000}\n"
			  "{\"module\":\"fakefs\",\"bytes\":1}\n"
			  "{\"module\":\"fakecrc\",\"bytes\":-5}\n");
	last_log[0] = '\0';
	CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
	CHECK(strstr(last_log, "costs.jsonl:3:") && strstr(last_log, "bytes"));
	m = NULL;
	CHECK(pml_repo_get(repo, "fakedep", &m) == 0);
	CHECK(m && m->resident_bytes == -1);
	pml_module_info_free(m);
	m = NULL;
	CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
	CHECK(m && m->resident_bytes == 53248);
	pml_module_info_free(m);

	write_file(jsonl, "{\"module\":\"fakedep\",\"bytes\":1000}\n{not json\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
	CHECK(strstr(last_log, "costs.jsonl:2:"));
	write_file(jsonl, "{\"bytes\":1000}\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
	CHECK(strstr(last_log, "costs.jsonl:1:") && strstr(last_log, "module"));
	write_file(jsonl, "{\"module\":\"fakedep\"}\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
	write_file(jsonl, "{\"module\":\"fakedep\",\"load_ms\":\"fast\"}\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
	CHECK(strstr(last_log, "load_ms"));
	write_file(jsonl, "{\"module\":\"fakedep\",\"bytes\":{\"a\":1}}\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
	/* numbers out of range for what they become (an int64 of bytes, a time replay turns
	 * into nanoseconds): refused before any conversion, the value named */
	static const char *const out_of_range[][2] = {
		{"bytes", "1e300"}, {"bytes", "1.5"}, {"bytes", "9007199254740993"},
		{"bytes", "12345678901234567890123"}, {"load_ms", "1e300"},
		{"unload_ms", "-1e300"}, {"load_ms", "3600001"},
	};
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++) {
		char text[256], want[128];

		snprintf(text, sizeof(text), "{\"module\":\"fakedep\",\"%s\":%s}\n",
			 out_of_range[i][0], out_of_range[i][1]);
		write_file(jsonl, text);
		last_log[0] = '\0';
		CHECK(pml_repo_import_costs(repo, jsonl) == -EINVAL);
		snprintf(want, sizeof(want), "costs.jsonl:1: \"%s\": %s is not",
			 out_of_range[i][0], out_of_range[i][1]);
		CHECK(strstr(last_log, want) != NULL);
	}
	write_file(jsonl, "{\"module\":\"fakedep\",\"bytes\":9007199254740992,"
			  "\"load_ms\":3600000}\n");
	CHECK(pml_repo_import_costs(repo, jsonl) == 1);
	snprintf(jsonl, sizeof(jsonl), "%s/missing.jsonl", tmpdir);
	CHECK(pml_repo_import_costs(repo, jsonl) == -ENOENT);
	CHECK(strstr(last_log, "missing.jsonl"));
	m = NULL;
	CHECK(pml_repo_get(repo, "fakedep", &m) == 0);
	CHECK(m && m->resident_bytes == 9007199254740992ll && m->load_ms == 3600000);
	pml_module_info_free(m);
	pml_repo_free(repo);
}

static void set_meta(const char *catalog, const char *sql)
{
	sqlite3 *db = NULL;

	CHECK(sqlite3_open(catalog, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

/* Files at the catalog path that are not a current pml catalog. */
static void test_bad_catalogs(const char *moddir)
{
	char catalog[512], cache[512], def[600];
	struct pml_repo *repo = NULL;
	struct pml_module_info *m = NULL;
	char *before, *after;
	size_t n1 = 0, n2 = 0;
	sqlite3 *db = NULL;
	FILE *f;

	/* Not SQLite at all, given explicitly: refused, left as it was. */
	snprintf(catalog, sizeof(catalog), "%s/notes.txt", tmpdir);
	write_file(catalog, "my precious notes, not a catalog\n");
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == -EBADMSG);
	before = read_all(catalog, &n1);
	CHECK(before && !strcmp(before, "my precious notes, not a catalog\n"));
	free(before);

	/* Another application's SQLite database: refused too. */
	snprintf(catalog, sizeof(catalog), "%s/other.sqlite", tmpdir);
	CHECK(sqlite3_open(catalog, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL,
			   NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == -EBADMSG);

	/* At the default path (pml's cache) the same garbage is replaced. */
	snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
	setenv("PML_CACHE", cache, 1);
	CHECK(mkdir(cache, 0755) == 0);
	snprintf(def, sizeof(def), "%s/catalog-" REL ".sqlite", cache);
	write_file(def, "garbage");
	CHECK(pml_repo_open(moddir, NULL, 0, &repo) == 0);
	if (repo) {
		CHECK(pml_repo_rebuilt(repo));
		CHECK_STR(pml_repo_catalog_path(repo), def);
		CHECK(pml_repo_count(repo) == 8);
		pml_repo_free(repo);
	}
	/* The cache dir is made when missing. */
	snprintf(cache, sizeof(cache), "%s/cache2/deeper", tmpdir);
	setenv("PML_CACHE", cache, 1);
	repo = NULL;
	CHECK(pml_repo_open(moddir, NULL, 0, &repo) == 0);
	pml_repo_free(repo);

	/* A damaged pml catalog: rebuilt. */
	snprintf(catalog, sizeof(catalog), "%s/damaged.sqlite", tmpdir);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	pml_repo_free(repo);
	f = fopen(catalog, "r+e");
	CHECK(f != NULL);
	if (f) {
		char junk[4096];

		memset(junk, 0xa5, sizeof(junk));
		fseek(f, 4096, SEEK_SET); /* page 2 onwards: the tables */
		fwrite(junk, 1, sizeof(junk), f);
		fwrite(junk, 1, sizeof(junk), f);
		fclose(f);
	}
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (repo) {
		CHECK(pml_repo_rebuilt(repo));
		CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
		pml_module_info_free(m);
		pml_repo_free(repo);
	}

	/* Truncated mid-way (what a non-atomic writer would leave): rebuilt. */
	CHECK(truncate(catalog, 5000) == 0);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	CHECK(repo && pml_repo_rebuilt(repo) && pml_repo_count(repo) == 8);
	pml_repo_free(repo);

	/* An older schema: rebuilt, its costs carried over. */
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (repo) {
		CHECK(pml_repo_set_costs(repo, "fakecrc", 777, 7, 7) == 0);
		pml_repo_free(repo);
	}
	set_meta(catalog, "UPDATE meta SET value = '0' WHERE key = 'version'");
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (repo) {
		m = NULL;
		CHECK(pml_repo_rebuilt(repo));
		CHECK(pml_repo_get(repo, "fakecrc", &m) == 0);
		CHECK(m && m->resident_bytes == 777);
		pml_module_info_free(m);
		pml_repo_free(repo);
	}

	/* A newer schema: refused, untouched. */
	set_meta(catalog, "UPDATE meta SET value = '99' WHERE key = 'version'");
	before = read_all(catalog, &n1);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == -EPROTONOSUPPORT);
	after = read_all(catalog, &n2);
	CHECK(before && after && n1 == n2 && !memcmp(before, after, n1));
	free(before);
	free(after);
	CHECK(count_tmp_files() == 0);
}

/* A build that fails half-way leaves the previous catalog as it was and no temporary
 * file behind. */
static void test_failed_build(void)
{
	char moddir[4096], catalog[512];
	struct pml_repo *repo = NULL;
	char *before, *after;
	size_t n1 = 0, n2 = 0;

	copy_tree("tree2", moddir, sizeof(moddir));
	snprintf(catalog, sizeof(catalog), "%s/tree2.sqlite", tmpdir);
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	pml_repo_free(repo);
	before = read_all(catalog, &n1);
	bump_mtime(moddir, "modules.dep", 2);
	pml_repo__test_fail_build_after(3);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == -EIO);
	CHECK(repo == NULL);
	pml_repo__test_fail_build_after(-1);
	after = read_all(catalog, &n2);
	CHECK(before && after && n1 == n2 && !memcmp(before, after, n1));
	free(before);
	free(after);
	CHECK(count_tmp_files() == 0);
	/* and the next open, without the fault, rebuilds */
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	CHECK(repo && pml_repo_rebuilt(repo));
	pml_repo_free(repo);
}

/* A modules.dep naming files outside the tree (libkmod would open them for their
 * modinfo): those modules are left out; an old depmod's absolute path into the tree is
 * taken. A catalog whose path column leads outside does not hand that path on. */
static void test_hostile_tree(void)
{
	char moddir[4096], catalog[512], dep[4200], sql[512], want[4300];
	struct pml_repo *repo = NULL;
	struct pml_module_info *m = NULL;

	copy_tree("tree3", moddir, sizeof(moddir));
	snprintf(catalog, sizeof(catalog), "%s/tree3.sqlite", tmpdir);
	snprintf(dep, sizeof(dep), "%s/modules.dep", moddir);
	CHECK(run("sed -i 's|^kernel/fake/fakebare.ko:|%s/kernel/fake/fakebare.ko:|' '%s' && "
		  "printf '/etc/passwd.ko:\\n../../../../etc/shadow.ko:\\n"
		  "kernel/../../../../../etc/group.ko:\\n' >> '%s'", moddir, dep, dep) == 0);
	last_log[0] = '\0';
	CHECK(pml_repo_open(moddir, catalog, 0, &repo) == 0);
	if (!repo)
		return;
	CHECK(strstr(last_log, "is not a path inside the module tree") != NULL);
	CHECK(pml_repo_get(repo, "passwd", &m) == -ENOENT);
	CHECK(pml_repo_get(repo, "shadow", &m) == -ENOENT);
	CHECK(pml_repo_get(repo, "group", &m) == -ENOENT);
	CHECK(pml_repo_get(repo, "fakebare", &m) == 0);
	snprintf(want, sizeof(want), "%s/kernel/fake/fakebare.ko", moddir);
	CHECK(m && m->path && !strcmp(m->path, want) && m->file_bytes > 0);
	pml_module_info_free(m);
	pml_repo_free(repo);

	/* the catalog is a file too */
	snprintf(sql, sizeof(sql), "UPDATE modules SET path = '/etc/passwd' WHERE name = 'fakefs';"
				   "UPDATE modules SET path = '../../x.ko' WHERE name = 'fakedep';");
	set_meta(catalog, sql);
	repo = NULL;
	CHECK(pml_repo_open(moddir, catalog, PML_REPO_NO_BUILD, &repo) == 0);
	if (!repo)
		return;
	m = NULL;
	last_log[0] = '\0';
	CHECK(pml_repo_get(repo, "fakefs", &m) == 0);
	CHECK(m && !m->path && strstr(last_log, "'/etc/passwd' is not inside the module tree"));
	pml_module_info_free(m);
	m = NULL;
	CHECK(pml_repo_get(repo, "fakedep", &m) == 0);
	CHECK(m && !m->path);
	pml_module_info_free(m);
	pml_repo_free(repo);
}

static void test_bad_trees(void)
{
	char path[600], catalog[512];
	struct pml_repo *repo = NULL;

	snprintf(catalog, sizeof(catalog), "%s/none.sqlite", tmpdir);
	snprintf(path, sizeof(path), "%s/no-such-tree", tmpdir);
	CHECK(pml_repo_open(path, catalog, 0, &repo) == -ENOENT);
	snprintf(path, sizeof(path), "%s/empty-tree", tmpdir);
	CHECK(mkdir(path, 0755) == 0);
	CHECK(pml_repo_open(path, catalog, 0, &repo) == -ENOENT);
	CHECK(access(catalog, F_OK) < 0);
	CHECK(repo == NULL);
}

int main(void)
{
	const char *base = getenv("PML_TEST_FIXTURES");

	snprintf(fixture, sizeof(fixture), "%s/repo", base && *base ? base : "tests/fixtures");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pml-test-repo.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* Keep the real cache out of it. */
	setenv("PML_CACHE", tmpdir, 1);
	pml_set_log_fn(capture_log, NULL);

	char moddir[4200];
	snprintf(moddir, sizeof(moddir), "%s/root/lib/modules/" REL, fixture);
	test_index_and_get(moddir);
	test_resolve(moddir);
	test_load_order(moddir);
	test_list_and_size(moddir);
	test_rebuild();
	test_import(moddir);
	test_bad_catalogs(moddir);
	test_failed_build();
	test_bad_trees();
	test_hostile_tree();

	run("rm -rf '%s'", tmpdir);
	return unit_done("repo");
}
