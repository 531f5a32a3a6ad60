/* The measured costs in the catalog: setting them (one module, or a calibration run's
 * JSONL), and the size of a set of modules. See repo.h for the contract. */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo/repo-priv.h"
#include "util/json.h"
#include "util/log.h"

static int set_costs(struct pml_repo *repo, const char *norm, int64_t bytes, double load_ms,
		     double unload_ms)
{
	sqlite3_stmt *st;
	int r;

	r = repo_prepare(repo->db,
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
		r = repo_sqlite_errno(sqlite3_errcode(repo->db));
	else
		r = sqlite3_changes(repo->db) ? 0 : -ENOENT;
	sqlite3_finalize(st);
	return r;
}

int pml_repo_set_costs(struct pml_repo *repo, const char *name, int64_t resident_bytes,
		       double load_ms, double unload_ms)
{
	char norm[NAME_MAX_LEN + 1];

	if (!name || repo_normalize_name(name, norm, sizeof(norm)) < 0)
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
	r = repo_exec_sql(repo->db, "BEGIN IMMEDIATE");
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
		if (!name || repo_normalize_name(name, norm, sizeof(norm)) < 0) {
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
		r = repo_exec_sql(repo->db, "COMMIT");
	if (r < 0)
		repo_exec_sql(repo->db, "ROLLBACK");
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

		if (!names[i] || repo_normalize_name(names[i], norm, sizeof(norm)) < 0)
			return -EINVAL;
		sqlite3_reset(repo->st_get);
		sqlite3_bind_text(repo->st_get, 1, norm, -1, SQLITE_STATIC);
		rc = sqlite3_step(repo->st_get);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(repo->st_get);
			if (rc == SQLITE_DONE)
				pml_dbg("repo: set size: no module '%s'", norm);
			return rc == SQLITE_DONE ? -ENOENT : repo_sqlite_errno(rc);
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
