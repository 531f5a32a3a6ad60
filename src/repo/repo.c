/* The module repository: opening a catalog (building it when it is missing or stale, in
 * catalog-build.c) and the look-ups on it, with the small helpers the repo's files share
 * (repo-priv.h). See repo.h for the contract; the load order is in load-order.c, the
 * measured costs in costs.c. */
#include <errno.h>
#include <libkmod.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/repo.h"
#include "repo/repo-priv.h"
#include "util/log.h"
#include "util/safepath.h"
#include "util/timeutil.h"
#include "vm/paths.h"

/* ---- small helpers ---- */

/* The kernel's module name for a name or file name: '-' becomes '_'. */
int repo_normalize_name(const char *in, char *out, size_t size)
{
	size_t n = strlen(in);

	if (n == 0 || n > NAME_MAX_LEN || n >= size)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	return 0;
}

int repo_sqlite_errno(int rc)
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

int repo_exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		pml_dbg("repo: sqlite: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return repo_sqlite_errno(rc);
	}
	return 0;
}

int repo_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

	if (rc != SQLITE_OK) {
		pml_dbg("repo: sqlite: %s: %s", sql, sqlite3_errmsg(db));
		*ret = NULL;
		return repo_sqlite_errno(rc);
	}
	return 0;
}

int repo_strv_push(struct strv *s, const char *str)
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

int pml_repo_resolve_fn(void *repo, const char *alias, char (*names)[64], size_t max)
{
	char **v = NULL;
	size_t n = 0;
	int r;

	if (!repo)
		return 0;
	r = pml_repo_resolve_alias(repo, alias, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && i < max; i++)
		snprintf(names[i], 64, "%s", v[i]);
	pml_repo_names_free(v);
	return (int)(n < max ? n : max);
}

/* An empty list is still an allocated array, so callers need not test for NULL. */
char **repo_strv_finish(struct strv *s)
{
	if (!s->v)
		s->v = calloc(1, sizeof(*s->v));
	return s->v;
}

const char *repo_meta_get(sqlite3 *db, const char *key, char *buf, size_t size)
{
	sqlite3_stmt *st;
	const char *val = NULL;

	if (repo_prepare(db, "SELECT value FROM meta WHERE key = ?1", &st) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
		val = buf;
	}
	sqlite3_finalize(st);
	return val;
}

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
struct kmod_ctx *repo_kmod_open(const char *moddir)
{
	const char *no_config = NULL;
	struct kmod_ctx *ctx = kmod_new(moddir, &no_config);

	if (!ctx)
		return NULL;
	kmod_set_log_fn(ctx, kmod_log_to_pml, NULL);
	kmod_load_resources(ctx);
	return ctx;
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

static int prepare_statements(struct pml_repo *repo)
{
	int r;

	r = repo_prepare(repo->db,
		    "SELECT name, path, builtin, file_bytes, description, license,"
		    " resident_bytes, load_ms, unload_ms FROM modules WHERE name = ?1",
		    &repo->st_get);
	if (r == 0)
		r = repo_prepare(repo->db, "SELECT alias FROM aliases WHERE module = ?1 ORDER BY ord",
			    &repo->st_aliases);
	if (r == 0)
		r = repo_prepare(repo->db,
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
	r = repo_tree_fingerprint(dir, fp, sizeof(fp));
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

	state = repo_catalog_check(catalog, fp, &why);
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
		r = repo_catalog_build(dir, base, catalog, fp,
				  state == CATALOG_STALE ? catalog : NULL, &repo->count);
		if (r < 0)
			goto fail;
		repo->rebuilt = true;
		repo->build_ms = pml_ns_to_ms(pml_now_ns() - t0);
		pml_info("repo: indexed %zu modules in %.0f ms", repo->count, repo->build_ms);
	}

	if (sqlite3_open_v2(catalog, &repo->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		r = repo->db ? repo_sqlite_errno(sqlite3_errcode(repo->db)) : -ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(repo->db, 5000);
	r = prepare_statements(repo);
	if (r < 0)
		goto fail;
	if (!repo->rebuilt) {
		char buf[32];

		repo->count = repo_meta_get(repo->db, "modules", buf, sizeof(buf)) ?
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
		r = repo_strv_push(&aliases, (const char *)sqlite3_column_text(repo->st_aliases, 0));
	if (r == 0 && rc != SQLITE_DONE)
		r = repo_sqlite_errno(rc);
	sqlite3_reset(repo->st_aliases);
	sqlite3_reset(repo->st_deps);
	sqlite3_bind_text(repo->st_deps, 1, info->name, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(repo->st_deps)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(repo->st_deps, 0);

		if (kind >= 0 && kind < 3)
			r = repo_strv_push(&lists[kind],
				      (const char *)sqlite3_column_text(repo->st_deps, 1));
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = repo_sqlite_errno(rc);
	sqlite3_reset(repo->st_deps);
	info->aliases = repo_strv_finish(&aliases);
	info->n_aliases = aliases.n;
	info->deps = repo_strv_finish(&lists[DEP_HARD]);
	info->n_deps = lists[DEP_HARD].n;
	info->softdeps_pre = repo_strv_finish(&lists[DEP_PRE]);
	info->n_softdeps_pre = lists[DEP_PRE].n;
	info->softdeps_post = repo_strv_finish(&lists[DEP_POST]);
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

	if (!name || repo_normalize_name(name, norm, sizeof(norm)) < 0)
		return -EINVAL;
	sqlite3_reset(repo->st_get);
	sqlite3_bind_text(repo->st_get, 1, norm, -1, SQLITE_STATIC);
	rc = sqlite3_step(repo->st_get);
	if (rc == SQLITE_ROW)
		r = info_from_row(repo, repo->st_get, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : repo_sqlite_errno(rc);
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
		repo->kmod = repo_kmod_open(repo->moddir);
		if (!repo->kmod)
			return -ENOMEM;
	}
	r = kmod_module_new_from_lookup(repo->kmod, alias, &list);
	if (r < 0)
		return r;
	kmod_list_foreach(it, list) {
		struct kmod_module *m = kmod_module_get_module(it);

		if (r == 0)
			r = repo_strv_push(&names, kmod_module_get_name(m));
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	if (r == 0 && !repo_strv_finish(&names))
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

int pml_repo_foreach(struct pml_repo *repo, pml_repo_foreach_fn fn, void *data)
{
	sqlite3_stmt *st;
	int r, rc;

	r = repo_prepare(repo->db,
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
		r = repo_sqlite_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int pml_repo_list(struct pml_repo *repo, char ***ret_names, size_t *ret_n)
{
	struct strv names = {0};
	sqlite3_stmt *st;
	int r, rc;

	r = repo_prepare(repo->db, "SELECT name FROM modules ORDER BY name", &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0)
		r = repo_strv_push(&names, (const char *)sqlite3_column_text(st, 0));
	if (r == 0 && rc != SQLITE_DONE)
		r = repo_sqlite_errno(rc);
	sqlite3_finalize(st);
	if (r == 0 && !repo_strv_finish(&names))
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
