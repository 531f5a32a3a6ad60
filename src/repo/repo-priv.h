/* What the repo's own files share (repo.c: opening and look-ups; catalog-build.c: the
 * catalog's build from a module tree; load-order.c; costs.c): the handle, the catalog's
 * constants, and the small SQLite, name and string-list helpers. Nothing outside
 * src/repo/ should include this; the public contract is repo.h, the unit tests' hooks are
 * in repo-internal.h. */
#ifndef PML_REPO_REPO_PRIV_H
#define PML_REPO_REPO_PRIV_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "repo/repo.h"

struct kmod_ctx;

/* SQLite's header field "application id" (offset 68): 'pmlc'. */
#define PML_CATALOG_APP_ID 0x706d6c63
#define NAME_MAX_LEN 255

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

/* The deps table's kind column: 0 hard dependency, 1 softdep pre, 2 softdep post. */
enum { DEP_HARD = 0, DEP_PRE = 1, DEP_POST = 2 };

/* ---- small helpers (repo.c) ---- */

/* The kernel's module name for a name or file name: '-' becomes '_'. */
int repo_normalize_name(const char *in, char *out, size_t size);
/* An SQLite result code as a negative errno (0 for OK, DONE and ROW). */
int repo_sqlite_errno(int rc);
/* Run sql (no rows); 0 or a negative errno, logged at debug level. */
int repo_exec_sql(sqlite3 *db, const char *sql);
/* Prepare one statement into *ret (NULL on failure); 0 or a negative errno. */
int repo_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);
/* The meta table's value of key, copied into buf; NULL when absent. */
const char *repo_meta_get(sqlite3 *db, const char *key, char *buf, size_t size);
/* A libkmod context on moddir alone: no modprobe.d configuration of the host, so the
 * answers are the tree's (softdeps come from the tree's modules.softdep). */
struct kmod_ctx *repo_kmod_open(const char *moddir);

/* A growable NULL-terminated string array. */
struct strv {
	char **v;
	size_t n, cap;
};

/* Append a copy of str; -ENOMEM on failure. */
int repo_strv_push(struct strv *s, const char *str);
/* The NULL-terminated array (allocated even when empty); NULL on allocation failure. */
char **repo_strv_finish(struct strv *s);

/* ---- the catalog's build (catalog-build.c) ---- */

enum catalog_state {
	CATALOG_MISSING,
	CATALOG_CURRENT,
	CATALOG_STALE,	 /* ours, but out of date, older or damaged: rebuild */
	CATALOG_FOREIGN, /* not a pml catalog */
	CATALOG_NEWER,	 /* a pml catalog of a later schema */
};

/* A fingerprint of the tree's index files (size and mtime of each) into buf. */
int repo_tree_fingerprint(const char *moddir, char *buf, size_t size);
/* What is at path: read the SQLite header ourselves (magic and application id), then the
 * meta table. *why says in words what is wrong for the log. */
enum catalog_state repo_catalog_check(const char *path, const char *fingerprint,
				      const char **why);
/* Build the catalog of moddir into a temporary file and rename it over catalog.
 * keep_costs_from: an earlier pml catalog to copy measured costs from, or NULL. */
int repo_catalog_build(const char *moddir, const char *release, const char *catalog,
		       const char *fingerprint, const char *keep_costs_from,
		       size_t *ret_count);

#endif
