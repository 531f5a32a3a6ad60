/* The module repository: indexing a module tree through libkmod into an SQLite catalog,
 * and the look-ups on it. See repo.h for the contract.
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
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "repo/repo.h"
#include "repo/repo-internal.h"
#include "util/json.h"
#include "util/log.h"
#include "util/safepath.h"
#include "util/timeutil.h"
#include "vm/paths.h"

/* SQLite's header field "application id" (offset 68): 'pmlc'. */
#define PML_CATALOG_APP_ID 0x706d6c63
#define NAME_MAX_LEN 255
#define STR_(x) #x
#define STR(x) STR_(x)

struct pml_repo {
	sqlite3 *db;
	struct kmod_ctx *kmod; /* for alias resolution; opened on first use */
	char *moddir;
	char *release;
	char *catalog;
	size_t count;
	bool rebuilt;
	double build_ms;
	sqlite3_stmt *st_get;
	sqlite3_stmt *st_aliases;
	sqlite3_stmt *st_deps;
};

static int test_fail_build_after = -1;

void pml_repo__test_fail_build_after(int n_modules)
{
	test_fail_build_after = n_modules;
}

/* ---- small helpers ---- */

/* The kernel's module name for a name or file name: '-' becomes '_'. */
static int normalize_name(const char *in, char *out, size_t size)
{
	size_t n = strlen(in);

	if (n == 0 || n > NAME_MAX_LEN || n >= size)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	return 0;
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
	return normalize_name(buf, out, size);
}

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CORRUPT:
		return -EUCLEAN;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		pml_dbg("repo: sqlite: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sqlite_errno(rc);
	}
	return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

	if (rc != SQLITE_OK) {
		pml_dbg("repo: sqlite: %s: %s", sql, sqlite3_errmsg(db));
		*ret = NULL;
		return sqlite_errno(rc);
	}
	return 0;
}

/* A growable NULL-terminated string array. */
struct strv {
	char **v;
	size_t n, cap;
};

static int strv_push(struct strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strdup(str);
	if (!s->v[s->n])
		return -ENOMEM;
	s->v[++s->n] = NULL;
	return 0;
}

void pml_repo_names_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

/* An empty list is still an allocated array, so callers need not test for NULL. */
static char **strv_finish(struct strv *s)
{
	if (!s->v)
		s->v = calloc(1, sizeof(*s->v));
	return s->v;
}

/* ---- the tree's fingerprint ---- */

static const char *const index_files[] = {
	"modules.dep", "modules.alias", "modules.softdep", "modules.builtin",
	"modules.builtin.modinfo",
};

static int tree_fingerprint(const char *moddir, char *buf, size_t size)
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

enum catalog_state {
	CATALOG_MISSING,
	CATALOG_CURRENT,
	CATALOG_STALE,	 /* ours, but out of date, older or damaged: rebuild */
	CATALOG_FOREIGN, /* not a pml catalog */
	CATALOG_NEWER,	 /* a pml catalog of a later schema */
};

static const char *meta_get(sqlite3 *db, const char *key, char *buf, size_t size)
{
	sqlite3_stmt *st;
	const char *val = NULL;

	if (prepare(db, "SELECT value FROM meta WHERE key = ?1", &st) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
		val = buf;
	}
	sqlite3_finalize(st);
	return val;
}

/* What is at path: read the SQLite header ourselves (magic and application id), then the
 * meta table. *why says in words what is wrong for the log. */
static enum catalog_state catalog_check(const char *path, const char *fingerprint,
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
	v = meta_get(db, "magic", buf, sizeof(buf));
	if (!v || strcmp(v, PML_CATALOG_MAGIC)) {
		*why = "damaged (no magic)";
		goto out;
	}
	v = meta_get(db, "version", buf, sizeof(buf));
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
	v = meta_get(db, "fingerprint", buf, sizeof(buf));
	if (!v || strcmp(v, fingerprint)) {
		*why = "the module tree changed";
		goto out;
	}
	/* Damage inside the file shows up here rather than at a later look-up. */
	v = meta_get(db, "modules", buf, sizeof(buf));
	if (!v || prepare(db, "PRAGMA quick_check", &st_count) < 0 ||
	    sqlite3_step(st_count) != SQLITE_ROW || !sqlite3_column_text(st_count, 0) ||
	    strcmp((const char *)sqlite3_column_text(st_count, 0), "ok")) {
		*why = "damaged (integrity check failed)";
		goto out;
	}
	sqlite3_finalize(st_count);
	if (prepare(db, "SELECT count(*) FROM modules", &st_count) < 0 ||
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

enum { DEP_HARD = 0, DEP_PRE = 1, DEP_POST = 2 };

struct builder {
	const char *moddir;
	sqlite3 *db;
	struct kmod_ctx *kmod;
	sqlite3_stmt *ins_mod, *ins_alias, *ins_dep;
	size_t count;
};

static void kmod_log_to_pml(void *data, int priority, const char *file, int line,
			    const char *fn, const char *format, va_list args)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	/* libkmod's complaints are about the tree; the repo reports what matters itself. */
	pml_dbg("repo: libkmod: %s", msg);
}

/* A libkmod context on moddir alone: no modprobe.d configuration of the host, so the
 * answers are the tree's (softdeps come from the tree's modules.softdep). */
static struct kmod_ctx *kmod_open(const char *moddir)
{
	const char *no_config = NULL;
	struct kmod_ctx *ctx = kmod_new(moddir, &no_config);

	if (!ctx)
		return NULL;
	kmod_set_log_fn(ctx, kmod_log_to_pml, NULL);
	kmod_load_resources(ctx);
	return ctx;
}

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
			return sqlite_errno(sqlite3_errcode(b->db));
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
		r = sqlite_errno(sqlite3_errcode(b->db));
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
			r = sqlite_errno(sqlite3_errcode(b->db));
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
	int r = prepare(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlite_errno(sqlite3_errcode(db));
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
	r = exec_sql(db, sql);
	sqlite3_free(sql);
	if (r < 0)
		return;
	r = exec_sql(db, "UPDATE modules SET resident_bytes = o.resident_bytes,"
			 " load_ms = o.load_ms, unload_ms = o.unload_ms"
			 " FROM old.modules AS o WHERE o.name = modules.name"
			 " AND (o.resident_bytes >= 0 OR o.load_ms >= 0 OR o.unload_ms >= 0)");
	if (r < 0)
		pml_warn("repo: %s: could not carry measured costs over (%s)", old_path,
			 strerror(-r));
	else if (sqlite3_changes(db) > 0)
		pml_dbg("repo: kept the measured costs of %d modules", sqlite3_changes(db));
	exec_sql(db, "DETACH DATABASE old");
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
static int catalog_build(const char *moddir, const char *release, const char *catalog,
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
	b.kmod = kmod_open(moddir);
	if (!b.kmod)
		return -ENOMEM;
	if (sqlite3_open_v2(tmp, &b.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = b.db ? sqlite_errno(sqlite3_errcode(b.db)) : -ENOMEM;
		goto out;
	}
	/* A temporary file needs no journal: on failure it is deleted. */
	r = exec_sql(b.db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
	if (r == 0)
		r = exec_sql(b.db, schema_sql);
	if (r == 0)
		r = exec_sql(b.db, "BEGIN");
	if (r == 0)
		r = prepare(b.db,
			    "INSERT INTO modules (name, path, builtin, file_bytes, description,"
			    " license) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &b.ins_mod);
	if (r == 0)
		r = prepare(b.db, "INSERT INTO aliases VALUES (?1, ?2, ?3)", &b.ins_alias);
	if (r == 0)
		r = prepare(b.db, "INSERT INTO deps VALUES (?1, ?2, ?3, ?4)", &b.ins_dep);
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
		r = exec_sql(b.db, "COMMIT");
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

/* ---- opening ---- */

static int default_catalog(const char *release, char *buf, size_t size)
{
	char cache[PATH_MAX];
	int r = pml_cache_dir(cache, sizeof(cache));

	if (r < 0)
		return r;
	if (snprintf(buf, size, "%s/catalog-%s.sqlite", cache, release) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static int repo_prepare(struct pml_repo *repo)
{
	int r;

	r = prepare(repo->db,
		    "SELECT name, path, builtin, file_bytes, description, license,"
		    " resident_bytes, load_ms, unload_ms FROM modules WHERE name = ?1",
		    &repo->st_get);
	if (r == 0)
		r = prepare(repo->db, "SELECT alias FROM aliases WHERE module = ?1 ORDER BY ord",
			    &repo->st_aliases);
	if (r == 0)
		r = prepare(repo->db,
			    "SELECT kind, dep FROM deps WHERE module = ?1 ORDER BY kind, ord",
			    &repo->st_deps);
	return r;
}

int pml_repo_open(const char *moddir, const char *catalog_path, unsigned flags,
		  struct pml_repo **ret)
{
	char dir[PATH_MAX], fp[1024], catalog[PATH_MAX], path[PATH_MAX + 32];
	enum catalog_state state;
	struct pml_repo *repo;
	const char *why, *base;
	struct stat st;
	size_t len;
	int r;

	if (!moddir || !*moddir)
		return -EINVAL;
	if (!realpath(moddir, dir))
		return -errno;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	if (access(path, R_OK) < 0)
		return -ENOENT;
	r = tree_fingerprint(dir, fp, sizeof(fp));
	if (r < 0)
		return r;
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	if (catalog_path) {
		if (snprintf(catalog, sizeof(catalog), "%s", catalog_path) >= (int)sizeof(catalog))
			return -ENAMETOOLONG;
	} else {
		r = default_catalog(base, catalog, sizeof(catalog));
		if (r < 0)
			return r;
	}

	repo = calloc(1, sizeof(*repo));
	if (!repo)
		return -ENOMEM;
	repo->moddir = strdup(dir);
	repo->release = strdup(base);
	repo->catalog = strdup(catalog);
	if (!repo->moddir || !repo->release || !repo->catalog) {
		r = -ENOMEM;
		goto fail;
	}

	state = catalog_check(catalog, fp, &why);
	/* At the default path the file is pml's by construction: whatever is there is
	 * replaced. Elsewhere a file pml cannot vouch for is left alone. */
	if (!catalog_path && (state == CATALOG_FOREIGN || state == CATALOG_NEWER)) {
		pml_warn("repo: %s: %s, replacing it", catalog, why);
		state = CATALOG_STALE;
	}
	if (state == CATALOG_FOREIGN) {
		pml_dbg("repo: %s: %s", catalog, why);
		r = -EBADMSG;
		goto fail;
	}
	if (state == CATALOG_NEWER) {
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	if (state == CATALOG_CURRENT && (flags & PML_REPO_REBUILD))
		state = CATALOG_STALE, why = "rebuild asked for";
	if (state != CATALOG_CURRENT) {
		uint64_t t0 = pml_now_ns();

		if (flags & PML_REPO_NO_BUILD) {
			r = -ESTALE;
			goto fail;
		}
		pml_info("repo: %s catalog of %s (%s): %s ...",
			 state == CATALOG_MISSING ? "building the" : "rebuilding the", base,
			 state == CATALOG_MISSING ? "none yet" : why, catalog);
		r = catalog_build(dir, base, catalog, fp,
				  state == CATALOG_STALE ? catalog : NULL, &repo->count);
		if (r < 0)
			goto fail;
		repo->rebuilt = true;
		repo->build_ms = pml_ns_to_ms(pml_now_ns() - t0);
		pml_info("repo: indexed %zu modules in %.0f ms", repo->count, repo->build_ms);
	}

	if (sqlite3_open_v2(catalog, &repo->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		r = repo->db ? sqlite_errno(sqlite3_errcode(repo->db)) : -ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(repo->db, 5000);
	r = repo_prepare(repo);
	if (r < 0)
		goto fail;
	if (!repo->rebuilt) {
		char buf[32];

		repo->count = meta_get(repo->db, "modules", buf, sizeof(buf)) ?
				      (size_t)strtoull(buf, NULL, 10) : 0;
	}
	*ret = repo;
	return 0;
fail:
	pml_repo_free(repo);
	return r;
}

void pml_repo_free(struct pml_repo *repo)
{
	if (!repo)
		return;
	sqlite3_finalize(repo->st_get);
	sqlite3_finalize(repo->st_aliases);
	sqlite3_finalize(repo->st_deps);
	sqlite3_close(repo->db);
	kmod_unref(repo->kmod);
	free(repo->moddir);
	free(repo->release);
	free(repo->catalog);
	free(repo);
}

const char *pml_repo_release(const struct pml_repo *repo)
{
	return repo->release;
}

const char *pml_repo_moddir(const struct pml_repo *repo)
{
	return repo->moddir;
}

const char *pml_repo_catalog_path(const struct pml_repo *repo)
{
	return repo->catalog;
}

size_t pml_repo_count(const struct pml_repo *repo)
{
	return repo->count;
}

bool pml_repo_rebuilt(const struct pml_repo *repo)
{
	return repo->rebuilt;
}

double pml_repo_build_ms(const struct pml_repo *repo)
{
	return repo->build_ms;
}

/* ---- look-ups ---- */

void pml_module_info_free(struct pml_module_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->path);
	free(info->description);
	free(info->license);
	pml_repo_names_free(info->aliases);
	pml_repo_names_free(info->deps);
	pml_repo_names_free(info->softdeps_pre);
	pml_repo_names_free(info->softdeps_post);
	free(info);
}

static char *dup_col(sqlite3_stmt *st, int col, bool *oom)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	char *d;

	if (!s)
		return NULL;
	d = strdup((const char *)s);
	if (!d)
		*oom = true;
	return d;
}

/* Fill a record from a row of `SELECT name, path, builtin, ...` (repo->st_get's columns). */
static int info_from_row(struct pml_repo *repo, sqlite3_stmt *row, struct pml_module_info **ret)
{
	struct pml_module_info *info = calloc(1, sizeof(*info));
	struct strv lists[3] = {{0}};
	struct strv aliases = {0};
	bool oom = false;
	int r = 0, rc;

	if (!info)
		return -ENOMEM;
	info->name = dup_col(row, 0, &oom);
	if (sqlite3_column_type(row, 1) != SQLITE_NULL) {
		const char *rel = (const char *)sqlite3_column_text(row, 1);

		/* the builder stores paths inside the tree (index_files_of()); a catalog
		 * holding any other was not made by it, and its path is not passed on */
		if (!rel || !pml_path_is_confined(rel)) {
			pml_warn("repo: %s: module %s: path '%.200s' is not inside the "
				 "module tree (left out)", repo->catalog,
				 info->name ? info->name : "?", rel ? rel : "");
		} else if (asprintf(&info->path, "%s/%s", repo->moddir, rel) < 0) {
			info->path = NULL;
			oom = true;
		}
	}
	info->builtin = sqlite3_column_int(row, 2);
	info->file_bytes = sqlite3_column_int64(row, 3);
	info->description = dup_col(row, 4, &oom);
	info->license = dup_col(row, 5, &oom);
	info->resident_bytes = sqlite3_column_int64(row, 6);
	info->load_ms = sqlite3_column_double(row, 7);
	info->unload_ms = sqlite3_column_double(row, 8);
	if (oom || !info->name) {
		r = -ENOMEM;
		goto fail;
	}

	sqlite3_reset(repo->st_aliases);
	sqlite3_bind_text(repo->st_aliases, 1, info->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(repo->st_aliases)) == SQLITE_ROW && r == 0)
		r = strv_push(&aliases, (const char *)sqlite3_column_text(repo->st_aliases, 0));
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	sqlite3_reset(repo->st_aliases);
	sqlite3_reset(repo->st_deps);
	sqlite3_bind_text(repo->st_deps, 1, info->name, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(repo->st_deps)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(repo->st_deps, 0);

		if (kind >= 0 && kind < 3)
			r = strv_push(&lists[kind],
				      (const char *)sqlite3_column_text(repo->st_deps, 1));
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	sqlite3_reset(repo->st_deps);
	info->aliases = strv_finish(&aliases);
	info->n_aliases = aliases.n;
	info->deps = strv_finish(&lists[DEP_HARD]);
	info->n_deps = lists[DEP_HARD].n;
	info->softdeps_pre = strv_finish(&lists[DEP_PRE]);
	info->n_softdeps_pre = lists[DEP_PRE].n;
	info->softdeps_post = strv_finish(&lists[DEP_POST]);
	info->n_softdeps_post = lists[DEP_POST].n;
	if (r == 0 && (!info->aliases || !info->deps || !info->softdeps_pre ||
		       !info->softdeps_post))
		r = -ENOMEM;
	if (r < 0)
		goto fail;
	*ret = info;
	return 0;
fail:
	pml_module_info_free(info);
	return r;
}

int pml_repo_get(struct pml_repo *repo, const char *name, struct pml_module_info **ret)
{
	char norm[NAME_MAX_LEN + 1];
	int r, rc;

	if (!name || normalize_name(name, norm, sizeof(norm)) < 0)
		return -EINVAL;
	sqlite3_reset(repo->st_get);
	sqlite3_bind_text(repo->st_get, 1, norm, -1, SQLITE_STATIC);
	rc = sqlite3_step(repo->st_get);
	if (rc == SQLITE_ROW)
		r = info_from_row(repo, repo->st_get, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	sqlite3_reset(repo->st_get);
	return r;
}

int pml_repo_resolve_alias(struct pml_repo *repo, const char *alias, char ***ret_names,
			   size_t *ret_n)
{
	struct kmod_list *list = NULL, *it;
	struct strv names = {0};
	int r;

	if (!alias || !*alias || strlen(alias) >= PATH_MAX)
		return -EINVAL;
	if (!repo->kmod) {
		repo->kmod = kmod_open(repo->moddir);
		if (!repo->kmod)
			return -ENOMEM;
	}
	r = kmod_module_new_from_lookup(repo->kmod, alias, &list);
	if (r < 0)
		return r;
	kmod_list_foreach(it, list) {
		struct kmod_module *m = kmod_module_get_module(it);

		if (r == 0)
			r = strv_push(&names, kmod_module_get_name(m));
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	if (r == 0 && !strv_finish(&names))
		r = -ENOMEM;
	if (r < 0) {
		pml_repo_names_free(names.v);
		return r;
	}
	*ret_names = names.v;
	if (ret_n)
		*ret_n = names.n;
	return (int)names.n;
}

/* ---- load order ---- */

static bool strv_has(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return true;
	return false;
}

static int probe_list(struct pml_repo *repo, const char *name, struct strv *visited,
		      struct strv *out, int depth);

/* A module with its softdeps around it (kmod's __kmod_module_fill_softdep). */
static int fill_softdep(struct pml_repo *repo, const struct pml_module_info *m,
			struct strv *visited, struct strv *out, int depth)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < m->n_softdeps_pre; i++)
		r = probe_list(repo, m->softdeps_pre[i], visited, out, depth + 1);
	if (r == 0 && !m->builtin && !strv_has(out, m->name))
		r = strv_push(out, m->name);
	if (r == 0 && !strv_has(visited, m->name))
		r = strv_push(visited, m->name);
	for (size_t i = 0; r == 0 && i < m->n_softdeps_post; i++)
		r = probe_list(repo, m->softdeps_post[i], visited, out, depth + 1);
	return r;
}

/* kmod's __kmod_module_get_probe_list over the catalog. Softdeps can form cycles (a
 * module's post naming one whose pre names it): the visited set stops them, the depth
 * bound stops anything else. */
static int probe_list(struct pml_repo *repo, const char *name, struct strv *visited,
		      struct strv *out, int depth)
{
	struct pml_module_info *m = NULL;
	int r;

	if (depth > 32)
		return -ELOOP;
	if (strv_has(visited, name))
		return 0;
	r = strv_push(visited, name);
	if (r < 0)
		return r;
	r = pml_repo_get(repo, name, &m);
	if (r == -ENOENT)
		return 0; /* a softdep naming nothing in this tree: modprobe skips it too */
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < m->n_deps; i++) {
		struct pml_module_info *d = NULL;

		r = pml_repo_get(repo, m->deps[i], &d);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r == 0)
			r = fill_softdep(repo, d, visited, out, depth + 1);
		pml_module_info_free(d);
	}
	if (r == 0)
		r = fill_softdep(repo, m, visited, out, depth);
	pml_module_info_free(m);
	return r;
}

int pml_repo_load_order(struct pml_repo *repo, const char *name, char ***ret_names,
			size_t *ret_n)
{
	struct strv visited = {0}, out = {0};
	struct pml_module_info *info;
	char **mods = NULL;
	char norm[NAME_MAX_LEN + 1];
	size_t n_mods = 0;
	int r;

	if (!name || normalize_name(name, norm, sizeof(norm)) < 0)
		return -EINVAL;
	/* A module name first, an alias otherwise. */
	r = pml_repo_get(repo, norm, &info);
	if (r == 0) {
		pml_module_info_free(info);
		mods = calloc(2, sizeof(*mods));
		if (!mods || !(mods[0] = strdup(norm))) {
			free(mods);
			return -ENOMEM;
		}
		n_mods = 1;
	} else if (r == -ENOENT) {
		r = pml_repo_resolve_alias(repo, name, &mods, &n_mods);
		if (r < 0)
			return r;
		if (n_mods == 0) {
			pml_repo_names_free(mods);
			return -ENOENT;
		}
	} else {
		return r;
	}
	r = 0;
	for (size_t i = 0; r == 0 && i < n_mods; i++)
		r = probe_list(repo, mods[i], &visited, &out, 0);
	pml_repo_names_free(mods);
	pml_repo_names_free(visited.v);
	if (r == 0 && !strv_finish(&out))
		r = -ENOMEM;
	if (r < 0) {
		pml_repo_names_free(out.v);
		return r;
	}
	*ret_names = out.v;
	if (ret_n)
		*ret_n = out.n;
	return (int)out.n;
}

int pml_repo_foreach(struct pml_repo *repo, pml_repo_foreach_fn fn, void *data)
{
	sqlite3_stmt *st;
	int r, rc;

	r = prepare(repo->db,
		    "SELECT name, path, builtin, file_bytes, description, license,"
		    " resident_bytes, load_ms, unload_ms FROM modules ORDER BY name",
		    &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pml_module_info *info;

		r = info_from_row(repo, st, &info);
		if (r < 0)
			break;
		r = fn(info, data);
		pml_module_info_free(info);
		if (r)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int pml_repo_list(struct pml_repo *repo, char ***ret_names, size_t *ret_n)
{
	struct strv names = {0};
	sqlite3_stmt *st;
	int r, rc;

	r = prepare(repo->db, "SELECT name FROM modules ORDER BY name", &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0)
		r = strv_push(&names, (const char *)sqlite3_column_text(st, 0));
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlite_errno(rc);
	sqlite3_finalize(st);
	if (r == 0 && !strv_finish(&names))
		r = -ENOMEM;
	if (r < 0) {
		pml_repo_names_free(names.v);
		return r;
	}
	*ret_names = names.v;
	if (ret_n)
		*ret_n = names.n;
	return (int)names.n;
}

/* ---- costs ---- */

static int set_costs(struct pml_repo *repo, const char *norm, int64_t bytes, double load_ms,
		     double unload_ms)
{
	sqlite3_stmt *st;
	int r;

	r = prepare(repo->db,
		    "UPDATE modules SET"
		    " resident_bytes = CASE WHEN ?2 >= 0 THEN ?2 ELSE resident_bytes END,"
		    " load_ms = CASE WHEN ?3 >= 0 THEN ?3 ELSE load_ms END,"
		    " unload_ms = CASE WHEN ?4 >= 0 THEN ?4 ELSE unload_ms END"
		    " WHERE name = ?1",
		    &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, bytes);
	sqlite3_bind_double(st, 3, load_ms);
	sqlite3_bind_double(st, 4, unload_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = sqlite_errno(sqlite3_errcode(repo->db));
	else
		r = sqlite3_changes(repo->db) ? 0 : -ENOENT;
	sqlite3_finalize(st);
	return r;
}

int pml_repo_set_costs(struct pml_repo *repo, const char *name, int64_t resident_bytes,
		       double load_ms, double unload_ms)
{
	char norm[NAME_MAX_LEN + 1];

	if (!name || normalize_name(name, norm, sizeof(norm)) < 0)
		return -EINVAL;
	if (!isfinite(load_ms) || !isfinite(unload_ms))
		return -EINVAL;
	return set_costs(repo, norm, resident_bytes, load_ms, unload_ms);
}

/* A byte count's literal: digits only, at most 2^53 (a double holds it exactly, so the
 * int64 it becomes is the number written). -1 when it is not one. */
static double whole_bytes(const char *text)
{
	char *end;
	long long v;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	return errno || *end || v > (1ll << 53) ? -1 : (double)v;
}

/* A cost field of a calibration line: absent or null -> -1; else a number >= 0. */
static int cost_field(const struct pml_json_flat *flat, const char *key, double *ret,
		      const char **why)
{
	const struct pml_json_field *f = pml_json_flat_get(flat, key);
	bool bytes = !strcmp(key, "bytes");

	*ret = -1;
	if (!f || f->type == PML_JSON_NULL)
		return 0;
	/* bytes go into an int64, read from the text; a time at most an hour (replay
	 * turns it into nanoseconds) */
	if (f->type != PML_JSON_NUMBER || !isfinite(f->num) || f->num < 0 ||
	    (bytes && whole_bytes(f->str) < 0) || (!bytes && f->num > 3.6e6)) {
		*why = key;
		return -EINVAL;
	}
	*ret = bytes ? whole_bytes(f->str) : f->num;
	return 0;
}

int pml_repo_import_costs(struct pml_repo *repo, const char *jsonl_path)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int updated = 0, r;
	FILE *f;

	f = fopen(jsonl_path, "re");
	if (!f) {
		r = -errno;
		pml_err("%s: %s", jsonl_path, strerror(-r));
		return r;
	}
	r = exec_sql(repo->db, "BEGIN IMMEDIATE");
	if (r < 0)
		goto out;
	while (getline(&line, &cap, f) >= 0) {
		struct pml_json_flat flat;
		char norm[NAME_MAX_LEN + 1];
		const char *name, *event, *why = NULL, *p = line;
		double bytes, load, unload;

		lineno++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			continue;
		r = pml_json_flat_parse(p, &flat);
		if (r < 0) {
			pml_err("%s:%zu: %s", jsonl_path, lineno,
				r == -ENOMEM ? "out of memory" : "not a flat JSON object");
			break;
		}
		name = pml_json_flat_str(&flat, "module", NULL);
		event = pml_json_flat_str(&flat, "event", NULL);
		if (event && strcmp(event, "load") && strcmp(event, "unload")) {
			/* a decision-log line that measured nothing: request, need, ... */
			pml_json_flat_release(&flat);
			continue;
		}
		if (!name || normalize_name(name, norm, sizeof(norm)) < 0) {
			pml_err("%s:%zu: no \"module\" name", jsonl_path, lineno);
			r = -EINVAL;
		} else if (cost_field(&flat, "bytes", &bytes, &why) < 0 ||
			   cost_field(&flat, event ? "ms" : "load_ms", &load, &why) < 0 ||
			   cost_field(&flat, "unload_ms", &unload, &why) < 0) {
			const struct pml_json_field *bad = pml_json_flat_get(&flat, why);

			if (bad && bad->type == PML_JSON_NUMBER)
				pml_err("%s:%zu: \"%s\": %.40s is not %s", jsonl_path,
					lineno, why, bad->str, strcmp(why, "bytes") ?
					"a time from 0 to 3600000 ms" :
					"a whole number from 0 to 2^53");
			else
				pml_err("%s:%zu: \"%s\" is not a number", jsonl_path,
					lineno, why);
			r = -EINVAL;
		} else if (bytes < 0 && load < 0 && unload < 0) {
			pml_err("%s:%zu: none of \"bytes\", \"load_ms\", \"unload_ms\"", jsonl_path,
				lineno);
			r = -EINVAL;
		} else {
			if (event && !strcmp(event, "unload")) {
				/* its "ms" is the remove time; the size is the load's business */
				unload = load;
				load = -1;
				bytes = -1;
			}
			r = set_costs(repo, norm, bytes < 0 ? -1 : (int64_t)bytes, load, unload);
			if (r == -ENOENT) {
				pml_warn("%s:%zu: no module '%s' in %s, skipped", jsonl_path,
					 lineno, norm, repo->release);
				r = 0;
			} else if (r == 0) {
				updated++;
			} else {
				pml_err("%s:%zu: %s", jsonl_path, lineno, strerror(-r));
			}
		}
		pml_json_flat_release(&flat);
		if (r < 0)
			break;
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		pml_err("%s: read error", jsonl_path);
	}
	if (r == 0)
		r = exec_sql(repo->db, "COMMIT");
	if (r < 0)
		exec_sql(repo->db, "ROLLBACK");
out:
	free(line);
	fclose(f);
	return r < 0 ? r : updated;
}

int pml_repo_set_size(struct pml_repo *repo, char *const *names, size_t n,
		      int64_t *ret_file_bytes, int64_t *ret_resident_bytes)
{
	int64_t file = 0, resident = 0;
	bool unknown = false;

	for (size_t i = 0; i < n; i++) {
		char norm[NAME_MAX_LEN + 1];
		int rc;

		if (!names[i] || normalize_name(names[i], norm, sizeof(norm)) < 0)
			return -EINVAL;
		sqlite3_reset(repo->st_get);
		sqlite3_bind_text(repo->st_get, 1, norm, -1, SQLITE_STATIC);
		rc = sqlite3_step(repo->st_get);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(repo->st_get);
			if (rc == SQLITE_DONE)
				pml_dbg("repo: set size: no module '%s'", norm);
			return rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
		}
		if (sqlite3_column_int64(repo->st_get, 3) > 0)
			file += sqlite3_column_int64(repo->st_get, 3);
		if (sqlite3_column_int(repo->st_get, 2))
			; /* built into the kernel image: no module memory */
		else if (sqlite3_column_int64(repo->st_get, 6) >= 0)
			resident += sqlite3_column_int64(repo->st_get, 6);
		else
			unknown = true;
		sqlite3_reset(repo->st_get);
	}
	if (ret_file_bytes)
		*ret_file_bytes = file;
	if (ret_resident_bytes)
		*ret_resident_bytes = unknown ? -1 : resident;
	return 0;
}
