/* The catalog's build: indexing a module tree through libkmod into an SQLite catalog, and
 * the check of an existing one. See repo.h for the contract, repo.c for the opening that
 * decides between them.
 *
 * The catalog is a cache of the tree. Its validity is a fingerprint of depmod's index
 * files (size and mtime of modules.dep, .alias, .softdep, .builtin, .builtin.modinfo):
 * depmod rewrites them whenever the tree changes, and checking them costs five stat()s,
 * so every open can afford it. A rebuild writes a new file beside the old one and renames
 * it over, so a crash or an error mid-way leaves the old catalog (or none), never half a
 * catalog; the measured costs, which cannot be recomputed without a guest, are copied from
 * the old file first. */
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/repo-internal.h"
#include "repo/repo-priv.h"
#include "util/log.h"
#include "util/safepath.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static int test_fail_build_after = -1;

void pml_repo__test_fail_build_after(int n_modules)
{
	test_fail_build_after = n_modules;
}

/* Module name from a modules.dep / modules.builtin path: basename without .ko[.xz|...]. */
static int name_from_path(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	char buf[NAME_MAX_LEN + 1];
	char *dot;

	base = base ? base + 1 : path;
	if (strlen(base) > NAME_MAX_LEN)
		return -EINVAL;
	strcpy(buf, base);
	dot = strstr(buf, ".ko");
	if (dot)
		*dot = '\0';
	return repo_normalize_name(buf, out, size);
}

/* ---- the tree's fingerprint ---- */

static const char *const index_files[] = {
	"modules.dep", "modules.alias", "modules.softdep", "modules.builtin",
	"modules.builtin.modinfo",
};

int repo_tree_fingerprint(const char *moddir, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(index_files) / sizeof(index_files[0]); i++) {
		char path[PATH_MAX];
		struct stat st;
		int n;

		if (snprintf(path, sizeof(path), "%s/%s", moddir, index_files[i]) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		if (stat(path, &st) < 0)
			n = snprintf(buf + off, size - off, "%s:-;", index_files[i]);
		else
			n = snprintf(buf + off, size - off, "%s:%lld:%lld.%09ld;", index_files[i],
				     (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				     st.st_mtim.tv_nsec);
		if (n < 0 || (size_t)n >= size - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
	}
	return 0;
}

/* ---- checking an existing catalog ---- */

/* What is at path: read the SQLite header ourselves (magic and application id), then the
 * meta table. *why says in words what is wrong for the log. */
enum catalog_state repo_catalog_check(const char *path, const char *fingerprint,
				      const char **why)
{
	unsigned char hdr[100];
	char buf[1024];
	struct stat st;
	sqlite3 *db = NULL;
	sqlite3_stmt *st_count = NULL;
	enum catalog_state state = CATALOG_STALE;
	const char *v;
	uint32_t app_id;
	ssize_t n;
	int fd;

	*why = "";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = "missing";
		return errno == ENOENT ? CATALOG_MISSING : CATALOG_FOREIGN;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return CATALOG_FOREIGN;
	}
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n == 0) {
		*why = "empty file";
		return CATALOG_STALE;
	}
	if (n < (ssize_t)sizeof(hdr) || memcmp(hdr, "SQLite format 3", 16)) {
		*why = "not an SQLite file";
		return CATALOG_FOREIGN;
	}
	app_id = (uint32_t)hdr[68] << 24 | (uint32_t)hdr[69] << 16 | (uint32_t)hdr[70] << 8 |
		 hdr[71];
	if (app_id != PML_CATALOG_APP_ID) {
		*why = "an SQLite file of another application";
		return CATALOG_FOREIGN;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		*why = "cannot be opened";
		goto out;
	}
	v = repo_meta_get(db, "magic", buf, sizeof(buf));
	if (!v || strcmp(v, PML_CATALOG_MAGIC)) {
		*why = "damaged (no magic)";
		goto out;
	}
	v = repo_meta_get(db, "version", buf, sizeof(buf));
	if (!v) {
		*why = "damaged (no version)";
		goto out;
	}
	if (atoi(v) > PML_CATALOG_VERSION) {
		*why = "written by a newer pml";
		state = CATALOG_NEWER;
		goto out;
	}
	if (atoi(v) < PML_CATALOG_VERSION) {
		*why = "an older format";
		goto out;
	}
	v = repo_meta_get(db, "fingerprint", buf, sizeof(buf));
	if (!v || strcmp(v, fingerprint)) {
		*why = "the module tree changed";
		goto out;
	}
	/* Damage inside the file shows up here rather than at a later look-up. */
	v = repo_meta_get(db, "modules", buf, sizeof(buf));
	if (!v || repo_prepare(db, "PRAGMA quick_check", &st_count) < 0 ||
	    sqlite3_step(st_count) != SQLITE_ROW || !sqlite3_column_text(st_count, 0) ||
	    strcmp((const char *)sqlite3_column_text(st_count, 0), "ok")) {
		*why = "damaged (integrity check failed)";
		goto out;
	}
	sqlite3_finalize(st_count);
	if (repo_prepare(db, "SELECT count(*) FROM modules", &st_count) < 0 ||
	    sqlite3_step(st_count) != SQLITE_ROW ||
	    sqlite3_column_int64(st_count, 0) != atoll(v)) {
		*why = "damaged (module count)";
		goto out;
	}
	state = CATALOG_CURRENT;
out:
	sqlite3_finalize(st_count);
	sqlite3_close(db);
	return state;
}

/* ---- building ---- */

static const char schema_sql[] =
	"PRAGMA application_id = 1886219363;" /* PML_CATALOG_APP_ID */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE modules ("
	"  name TEXT PRIMARY KEY,"
	"  path TEXT," /* relative to the module tree; NULL for built-in */
	"  builtin INTEGER NOT NULL,"
	"  file_bytes INTEGER NOT NULL,"
	"  description TEXT,"
	"  license TEXT,"
	"  resident_bytes INTEGER NOT NULL DEFAULT -1,"
	"  load_ms REAL NOT NULL DEFAULT -1,"
	"  unload_ms REAL NOT NULL DEFAULT -1);"
	"CREATE TABLE aliases (module TEXT NOT NULL, ord INTEGER NOT NULL,"
	"  alias TEXT NOT NULL, PRIMARY KEY (module, ord));"
	/* kind: 0 hard dependency, 1 softdep pre, 2 softdep post */
	"CREATE TABLE deps (module TEXT NOT NULL, kind INTEGER NOT NULL, ord INTEGER NOT NULL,"
	"  dep TEXT NOT NULL, PRIMARY KEY (module, kind, ord));";

struct builder {
	const char *moddir;
	sqlite3 *db;
	struct kmod_ctx *kmod;
	sqlite3_stmt *ins_mod, *ins_alias, *ins_dep;
	size_t count;
};

static int insert_deps(struct builder *b, const char *name, int kind, struct kmod_list *list)
{
	struct kmod_list *it;
	int ord = 0;

	kmod_list_foreach(it, list) {
		struct kmod_module *m = kmod_module_get_module(it);

		sqlite3_reset(b->ins_dep);
		sqlite3_bind_text(b->ins_dep, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(b->ins_dep, 2, kind);
		sqlite3_bind_int(b->ins_dep, 3, ord++);
		sqlite3_bind_text(b->ins_dep, 4, kmod_module_get_name(m), -1, SQLITE_TRANSIENT);
		kmod_module_unref(m);
		if (sqlite3_step(b->ins_dep) != SQLITE_DONE)
			return repo_sqlite_errno(sqlite3_errcode(b->db));
	}
	return 0;
}

/* Index one module: relpath is its file under the tree (NULL: built-in). */
static int index_module(struct builder *b, struct kmod_module *mod, const char *name,
			const char *relpath)
{
	struct kmod_list *info = NULL, *deps = NULL, *pre = NULL, *post = NULL, *it;
	const char *desc = NULL, *license = NULL;
	int64_t bytes = 0;
	int ord = 0, r;

	if (relpath) {
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", b->moddir, relpath);
		if (stat(path, &st) == 0) {
			bytes = st.st_size;
		} else {
			pml_warn("repo: %s: %s (listed in modules.dep)", path, strerror(errno));
			bytes = -1;
		}
	}
	if (kmod_module_get_info(mod, &info) < 0)
		pml_dbg("repo: %s: no modinfo", name);
	kmod_list_foreach(it, info) {
		const char *key = kmod_module_info_get_key(it);
		const char *val = kmod_module_info_get_value(it);

		if (!val)
			continue;
		if (!strcmp(key, "description") && !desc)
			desc = val;
		else if (!strcmp(key, "license") && !license)
			license = val;
	}
	sqlite3_reset(b->ins_mod);
	sqlite3_bind_text(b->ins_mod, 1, name, -1, SQLITE_STATIC);
	if (relpath)
		sqlite3_bind_text(b->ins_mod, 2, relpath, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(b->ins_mod, 2);
	sqlite3_bind_int(b->ins_mod, 3, !relpath);
	sqlite3_bind_int64(b->ins_mod, 4, bytes);
	sqlite3_bind_text(b->ins_mod, 5, desc, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_mod, 6, license, -1, SQLITE_STATIC);
	r = sqlite3_step(b->ins_mod);
	if (r == SQLITE_CONSTRAINT) {
		/* The same name twice (a file and a built-in): the first one counts. */
		pml_dbg("repo: %s listed twice, keeping the first", name);
		r = 0;
		goto out;
	}
	if (r != SQLITE_DONE) {
		r = repo_sqlite_errno(sqlite3_errcode(b->db));
		goto out;
	}
	r = 0;
	kmod_list_foreach(it, info) {
		const char *val = kmod_module_info_get_value(it);

		if (strcmp(kmod_module_info_get_key(it), "alias") || !val)
			continue;
		sqlite3_reset(b->ins_alias);
		sqlite3_bind_text(b->ins_alias, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(b->ins_alias, 2, ord++);
		sqlite3_bind_text(b->ins_alias, 3, val, -1, SQLITE_STATIC);
		if (sqlite3_step(b->ins_alias) != SQLITE_DONE) {
			r = repo_sqlite_errno(sqlite3_errcode(b->db));
			goto out;
		}
	}
	if (relpath) {
		deps = kmod_module_get_dependencies(mod);
		r = insert_deps(b, name, DEP_HARD, deps);
		if (r < 0)
			goto out;
		if (kmod_module_get_softdeps(mod, &pre, &post) == 0) {
			r = insert_deps(b, name, DEP_PRE, pre);
			if (r == 0)
				r = insert_deps(b, name, DEP_POST, post);
			if (r < 0)
				goto out;
		}
	}
	b->count++;
out:
	kmod_module_info_free_list(info);
	kmod_module_unref_list(deps);
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	return r;
}

/* The modules with a file: every line of modules.dep ("kernel/x/y.ko: deps..."). */
static int index_files_of(struct builder *b)
{
	char path[PATH_MAX], name[NAME_MAX_LEN + 1];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/modules.dep", b->moddir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct kmod_module *mod;
		char *colon = strchr(line, ':');

		if (!colon || colon == line)
			continue;
		*colon = '\0';
		if (name_from_path(line, name, sizeof(name)) < 0)
			continue;
		/* The file must be in the tree: modules.dep is read, not trusted, and
		 * libkmod opens what it names for the modinfo. An old depmod's absolute
		 * paths into the tree itself are taken as relative. */
		const char *rel = line;
		size_t ml = strlen(b->moddir);

		if (rel[0] == '/' && !strncmp(rel, b->moddir, ml) && rel[ml] == '/')
			rel += ml + 1;
		if (!pml_path_is_confined(rel)) {
			pml_warn("repo: %s/modules.dep: module %s: '%.200s' is not a "
				 "path inside the module tree (the module is left out)",
				 b->moddir, name, line);
			continue;
		}
		if (test_fail_build_after >= 0 && b->count >= (size_t)test_fail_build_after) {
			r = -EIO;
			break;
		}
		r = kmod_module_new_from_name(b->kmod, name, &mod);
		if (r < 0)
			break;
		r = index_module(b, mod, name, rel);
		kmod_module_unref(mod);
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

/* Built-in modules (modules.builtin): no file; libkmod finds their modinfo in
 * modules.builtin.modinfo when looked up as built-in. */
static int index_builtins(struct builder *b)
{
	char path[PATH_MAX], name[NAME_MAX_LEN + 1];
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/modules.builtin", b->moddir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) >= 0) {
		struct kmod_list *list = NULL, *it;
		struct kmod_module *mod = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (!*line || name_from_path(line, name, sizeof(name)) < 0)
			continue;
		if (kmod_module_new_from_lookup(b->kmod, name, &list) == 0) {
			kmod_list_foreach(it, list) {
				struct kmod_module *m = kmod_module_get_module(it);

				if (!mod && !strcmp(kmod_module_get_name(m), name) &&
				    !kmod_module_get_path(m))
					mod = m;
				else
					kmod_module_unref(m);
			}
			kmod_module_unref_list(list);
		}
		if (!mod && kmod_module_new_from_name(b->kmod, name, &mod) < 0)
			continue;
		r = index_module(b, mod, name, NULL);
		kmod_module_unref(mod);
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

static int meta_put(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int r = repo_prepare(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : repo_sqlite_errno(sqlite3_errcode(db));
	sqlite3_finalize(st);
	return r;
}

/* Carry the measured costs over from the previous catalog (a pml catalog, possibly stale
 * or damaged: whatever can be read is kept, a failure only costs the measurements). */
static void copy_costs(sqlite3 *db, const char *old_path)
{
	char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS old", old_path);
	int r;

	if (!sql)
		return;
	r = repo_exec_sql(db, sql);
	sqlite3_free(sql);
	if (r < 0)
		return;
	r = repo_exec_sql(db, "UPDATE modules SET resident_bytes = o.resident_bytes,"
			 " load_ms = o.load_ms, unload_ms = o.unload_ms"
			 " FROM old.modules AS o WHERE o.name = modules.name"
			 " AND (o.resident_bytes >= 0 OR o.load_ms >= 0 OR o.unload_ms >= 0)");
	if (r < 0)
		pml_warn("repo: %s: could not carry measured costs over (%s)", old_path,
			 strerror(-r));
	else if (sqlite3_changes(db) > 0)
		pml_dbg("repo: kept the measured costs of %d modules", sqlite3_changes(db));
	repo_exec_sql(db, "DETACH DATABASE old");
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Build the catalog of moddir into a temporary file and rename it over catalog.
 * keep_costs_from: an earlier pml catalog to copy measured costs from, or NULL. */
int repo_catalog_build(const char *moddir, const char *release, const char *catalog,
		       const char *fingerprint, const char *keep_costs_from,
		       size_t *ret_count)
{
	struct builder b = {.moddir = moddir};
	char tmp[PATH_MAX], num[32], *dir, *slash;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", catalog, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	r = mkdir_parents(catalog);
	if (r < 0)
		return r;
	unlink(tmp);
	b.kmod = repo_kmod_open(moddir);
	if (!b.kmod)
		return -ENOMEM;
	if (sqlite3_open_v2(tmp, &b.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = b.db ? repo_sqlite_errno(sqlite3_errcode(b.db)) : -ENOMEM;
		goto out;
	}
	/* A temporary file needs no journal: on failure it is deleted. */
	r = repo_exec_sql(b.db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
	if (r == 0)
		r = repo_exec_sql(b.db, schema_sql);
	if (r == 0)
		r = repo_exec_sql(b.db, "BEGIN");
	if (r == 0)
		r = repo_prepare(b.db,
			    "INSERT INTO modules (name, path, builtin, file_bytes, description,"
			    " license) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &b.ins_mod);
	if (r == 0)
		r = repo_prepare(b.db, "INSERT INTO aliases VALUES (?1, ?2, ?3)", &b.ins_alias);
	if (r == 0)
		r = repo_prepare(b.db, "INSERT INTO deps VALUES (?1, ?2, ?3, ?4)", &b.ins_dep);
	if (r == 0)
		r = index_files_of(&b);
	if (r == 0)
		r = index_builtins(&b);
	snprintf(num, sizeof(num), "%zu", b.count);
	if (r == 0)
		r = meta_put(b.db, "magic", PML_CATALOG_MAGIC);
	if (r == 0)
		r = meta_put(b.db, "version", STR(PML_CATALOG_VERSION));
	if (r == 0)
		r = meta_put(b.db, "release", release);
	if (r == 0)
		r = meta_put(b.db, "moddir", moddir);
	if (r == 0)
		r = meta_put(b.db, "fingerprint", fingerprint);
	if (r == 0)
		r = meta_put(b.db, "modules", num);
	if (r == 0)
		r = repo_exec_sql(b.db, "COMMIT");
	if (r == 0 && keep_costs_from)
		copy_costs(b.db, keep_costs_from);
	sqlite3_finalize(b.ins_mod);
	sqlite3_finalize(b.ins_alias);
	sqlite3_finalize(b.ins_dep);
	b.ins_mod = b.ins_alias = b.ins_dep = NULL;
	if (sqlite3_close(b.db) != SQLITE_OK && r == 0)
		r = -EIO;
	b.db = NULL;
	if (r == 0)
		r = fsync_path(tmp, O_RDONLY);
	if (r == 0 && rename(tmp, catalog) < 0)
		r = -errno;
	if (r == 0) {
		dir = strdup(catalog);
		slash = dir ? strrchr(dir, '/') : NULL;
		if (slash) {
			*slash = '\0';
			fsync_path(*dir ? dir : "/", O_RDONLY | O_DIRECTORY);
		}
		free(dir);
		*ret_count = b.count;
	}
out:
	sqlite3_finalize(b.ins_mod);
	sqlite3_finalize(b.ins_alias);
	sqlite3_finalize(b.ins_dep);
	sqlite3_close(b.db);
	kmod_unref(b.kmod);
	if (r < 0)
		unlink(tmp);
	return r;
}
