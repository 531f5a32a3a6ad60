/* The run report's records: the decision log read back (see run-report.h for the threat
 * model and the limits), and its warnings. Loading reads bounded lines, decodes each into
 * a typed, range-checked record (or counts it malformed), sorts the kept records by time
 * and numbers the distinct module names and aliases by sorting them, so a hostile log
 * costs O(n log n) whatever names it uses (a hash table would need a keyed hash against
 * chosen collisions; a sort has no worst case to find). The figures come from
 * run-report-metrics.c; the printers (run-report-print.c) only format, escaping every
 * guest string. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "run/run-report-priv.h"

void pml_report_free(struct pml_report *rep)
{
	if (!rep)
		return;
	while (rep->strings) {
		struct chunk *c = rep->strings;

		rep->strings = c->next;
		free(c);
	}
	for (size_t i = 0; i < rep->n_warn; i++) {
		free((char *)rep->warn[i].code);
		free((char *)rep->warn[i].text);
	}
	free(rep->warn);
	free(rep->ev);
	free(rep->mod_id);
	free(rep->for_id);
	free(rep->alias_id);
	free(rep->mods);
	free(rep->last_request);
	free(rep->alias_denied);
	free(rep);
}

static char *str_keep(struct pml_report *rep, const char *s, size_t len)
{
	struct chunk *c = rep->strings;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		/* Chunks double from 4 KiB to STRING_CHUNK: a small log stays small. */
		size_t size = c && c->size < STRING_CHUNK ? 2 * c->size : c ? STRING_CHUNK : 4096;

		if (size < len + 1)
			size = len + 1;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = rep->strings;
		rep->strings = c;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

/* --- decoding: one line, by the log's one parser (util/event-log.c) --- */

/* The record's members into e; its strings still point into the parser's storage. */
static void from_rec(const struct pml_event_rec *r, size_t lineno, struct pml_report_event *e)
{
	*e = (struct pml_report_event){
		.t_ns = r->t_ns,
		.kind = r->kind,
		.module = (char *)r->module,
		.alias = (char *)r->alias,
		.result = (char *)r->result,
		.reason = (char *)r->reason,
		.source = (char *)r->source,
		.comm = (char *)r->comm,
		.refusal = (char *)r->refusal,
		.policy = (char *)r->policy,
		.for_module = (char *)r->for_module,
		.bytes = r->bytes,
		.ms = r->ms,
		.confidence = r->confidence,
		.pid = r->pid,
		.err = r->err,
		.cause = r->cause,
		.verdict = r->verdict,
		.priority = r->priority,
		.via = r->via,
		.basis = r->basis,
		.worker_ms = r->worker_ms,
		.line = lineno,
	};
}

/* Copy the strings of a decoded record into the report. */
static int keep_strings(struct pml_report *rep, struct pml_report_event *e)
{
	char **s[] = {&e->module, &e->alias,   &e->result,  &e->reason,
		      &e->source, &e->comm,    &e->refusal, &e->policy, &e->for_module};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (!*s[i])
			continue;
		*s[i] = str_keep(rep, *s[i], strlen(*s[i]));
		if (!*s[i])
			return -ENOMEM;
	}
	return 0;
}

static void count_malformed(struct pml_report *rep, size_t lineno, const char *why)
{
	if (!rep->malformed++) {
		rep->malformed_line = lineno;
		rep->malformed_why = why;
	}
}

enum {
	CUT_RECORDS = 1 << 0,
	CUT_STRINGS = 1 << 1,
	CUT_MODULES = 1 << 2,
};

static void count_dropped(struct pml_report *rep, size_t lineno, unsigned cut)
{
	if (!rep->dropped++ || lineno < rep->dropped_line)
		rep->dropped_line = lineno;
	rep->cut |= cut;
}

/* Decode line lineno and keep it, or count it. Returns 0 or -ENOMEM. */
static int add_line(struct pml_report *rep, const char *line, size_t lineno)
{
	struct pml_event_parsed parsed;
	struct pml_report_event e;
	const char *why;
	int r;

	r = pml_event_rec_parse(line, &parsed, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		count_malformed(rep, lineno, why);
		return 0;
	}
	from_rec(&parsed.rec, lineno, &e);
	r = 0;
	if (rep->n >= PML_REPORT_MAX_RECORDS) {
		count_dropped(rep, lineno, CUT_RECORDS);
	} else if (parsed.str_bytes > PML_REPORT_MAX_STRING_BYTES - rep->string_bytes) {
		count_dropped(rep, lineno, CUT_STRINGS);
	} else {
		if (rep->n == rep->cap) {
			size_t ncap = rep->cap ? 2 * rep->cap : 128;
			struct pml_report_event *n = realloc(rep->ev, ncap * sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				goto out;
			}
			rep->ev = n;
			rep->cap = ncap;
		}
		r = keep_strings(rep, &e);
		if (r < 0)
			goto out;
		rep->string_bytes += parsed.str_bytes;
		rep->ev[rep->n++] = e;
	}
out:
	pml_event_parsed_release(&parsed);
	return r;
}

/* Read the next line of f into buf (PML_REPORT_MAX_LINE + 1 bytes), terminated. Returns
 * its length without the '\n' (PML_REPORT_MAX_LINE + 1 for a longer line, consumed to its
 * end), -1 at the end of f. *nul: the line held a NUL byte. */
static ssize_t read_line(FILE *f, char *buf, bool *nul)
{
	size_t n = 0;
	bool any = false;
	int c;

	*nul = false;
	while ((c = getc_unlocked(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			*nul = true;
		if (n < PML_REPORT_MAX_LINE)
			buf[n] = (char)c;
		if (n <= PML_REPORT_MAX_LINE)
			n++;
	}
	if (!any)
		return -1;
	buf[n <= PML_REPORT_MAX_LINE ? n : PML_REPORT_MAX_LINE] = '\0';
	return (ssize_t)n;
}

/* --- numbering modules and aliases --- */

struct name_ref {
	const char *name;
	size_t line;
	uint32_t i; /* the record */
};

static int by_time(const void *a, const void *b)
{
	const struct pml_report_event *x = a, *y = b;

	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Module names compare with '-' and '_' alike, as the kernel does. */
static int modname_cmp(const char *p, const char *q)
{
	for (;; p++, q++) {
		unsigned char c = *p == '-' ? '_' : (unsigned char)*p;
		unsigned char d = *q == '-' ? '_' : (unsigned char)*q;

		if (c != d)
			return c < d ? -1 : 1;
		if (!c)
			return 0;
	}
}

static int by_name(const void *a, const void *b)
{
	return modname_cmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static int by_module(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = by_name(a, b);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int by_alias(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int by_first_line(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* Give each record the dense id of its module (or alias: alias true) in ids, NO_ID when it
 * has none; returns the number of distinct names. refs: room for rep->n. */
static size_t number_names(struct pml_report *rep, bool alias, uint32_t *ids,
			   struct name_ref *refs)
{
	int (*cmp)(const char *, const char *) = alias ? strcmp : modname_cmp;
	size_t m = 0, n_ids = 0;

	for (size_t i = 0; i < rep->n; i++) {
		const char *name = alias ? rep->ev[i].alias : rep->ev[i].module;

		ids[i] = NO_ID;
		if (name)
			refs[m++] = (struct name_ref){name, rep->ev[i].line, (uint32_t)i};
	}
	qsort(refs, m, sizeof(*refs), alias ? by_alias : by_module);
	for (size_t k = 0; k < m; k++) {
		if (!k || cmp(refs[k].name, refs[k - 1].name))
			n_ids++;
		ids[refs[k].i] = (uint32_t)(n_ids - 1);
	}
	return n_ids;
}

/* Past PML_REPORT_MAX_MODULES distinct modules, drop the records of the modules that
 * appear (by line) after the first that many. */
static int cap_modules(struct pml_report *rep, struct name_ref *refs)
{
	size_t n_ids = rep->n_mods, k = 0;
	uint32_t *remap;

	if (n_ids <= PML_REPORT_MAX_MODULES)
		return 0;
	/* The first line of each module: records are in time order, so look at all. */
	for (size_t id = 0; id < n_ids; id++)
		refs[id] = (struct name_ref){NULL, SIZE_MAX, (uint32_t)id};
	for (size_t i = 0; i < rep->n; i++) {
		uint32_t id = rep->mod_id[i];

		if (id != NO_ID && rep->ev[i].line < refs[id].line)
			refs[id].line = rep->ev[i].line;
	}
	qsort(refs, n_ids, sizeof(*refs), by_first_line);
	remap = malloc(n_ids * sizeof(*remap));
	if (!remap)
		return -ENOMEM;
	for (size_t r = 0; r < n_ids; r++)
		remap[refs[r].i] = r < PML_REPORT_MAX_MODULES ? (uint32_t)r : NO_ID;
	for (size_t i = 0; i < rep->n; i++) {
		uint32_t id = rep->mod_id[i];

		if (id != NO_ID && remap[id] == NO_ID) {
			count_dropped(rep, rep->ev[i].line, CUT_MODULES);
			continue;
		}
		rep->ev[k] = rep->ev[i];
		rep->mod_id[k++] = id == NO_ID ? NO_ID : remap[id];
	}
	rep->n = k;
	rep->n_mods = PML_REPORT_MAX_MODULES;
	free(remap);
	return 0;
}

/* Give each record that says which module it was loaded for (a dependency's load) that
 * module's id in rep->for_id: NO_ID when it says none, or names a module no record is of.
 * refs: room for rep->n (at least one per module id). */
static int number_for(struct pml_report *rep, struct name_ref *refs)
{
	size_t m = 0;

	rep->for_id = malloc((rep->n ? rep->n : 1) * sizeof(*rep->for_id));
	if (!rep->for_id)
		return -ENOMEM;
	for (size_t id = 0; id < rep->n_mods; id++)
		refs[id].name = NULL;
	for (size_t i = 0; i < rep->n; i++) {
		uint32_t id = rep->mod_id[i];

		if (id != NO_ID && !refs[id].name)
			refs[id] = (struct name_ref){rep->ev[i].module, 0, id};
	}
	for (size_t id = 0; id < rep->n_mods; id++)
		if (refs[id].name)
			refs[m++] = refs[id];
	qsort(refs, m, sizeof(*refs), by_name);
	for (size_t i = 0; i < rep->n; i++) {
		struct name_ref key = {rep->ev[i].for_module, 0, 0};
		const struct name_ref *hit =
			key.name ? bsearch(&key, refs, m, sizeof(*refs), by_name) : NULL;

		rep->for_id[i] = hit ? hit->i : NO_ID;
	}
	return 0;
}

/* After the records are read: time order, module and alias ids, the per-name state. */
static int index_records(struct pml_report *rep)
{
	struct name_ref *refs;
	int r = -ENOMEM;

	if (rep->n)
		qsort(rep->ev, rep->n, sizeof(*rep->ev), by_time);
	refs = malloc((rep->n ? rep->n : 1) * sizeof(*refs));
	rep->mod_id = malloc((rep->n ? rep->n : 1) * sizeof(*rep->mod_id));
	rep->alias_id = malloc((rep->n ? rep->n : 1) * sizeof(*rep->alias_id));
	if (!refs || !rep->mod_id || !rep->alias_id)
		goto out;
	rep->n_mods = number_names(rep, false, rep->mod_id, refs);
	r = cap_modules(rep, refs);
	if (r < 0)
		goto out;
	r = number_for(rep, refs);
	if (r < 0)
		goto out;
	rep->n_aliases = number_names(rep, true, rep->alias_id, refs);
	r = -ENOMEM;
	rep->mods = calloc(rep->n_mods ? rep->n_mods : 1, sizeof(*rep->mods));
	rep->last_request = calloc(rep->n_aliases ? rep->n_aliases : 1,
				   sizeof(*rep->last_request));
	rep->alias_denied = calloc(rep->n_aliases ? rep->n_aliases : 1,
				   sizeof(*rep->alias_denied));
	if (!rep->mods || !rep->last_request || !rep->alias_denied)
		goto out;
	for (size_t i = 0; i < rep->n; i++)
		if (rep->ev[i].kind == PML_EV_NEED && rep->alias_id[i] != NO_ID &&
		    report_result_is(&rep->ev[i], "denied"))
			rep->alias_denied[rep->alias_id[i]] = true;
	r = 0;
out:
	free(refs);
	return r;
}

/* --- loading --- */

static int warn_load(struct pml_report *rep)
{
	char caps[96];
	int r = 0;

	snprintf(caps, sizeof(caps), "%s%s%s%s%s",
		 rep->cut & CUT_RECORDS ? "1000000 records" : "",
		 rep->cut & CUT_RECORDS && rep->cut & ~CUT_RECORDS ? ", " : "",
		 rep->cut & CUT_STRINGS ? "128 MiB of strings" : "",
		 rep->cut & CUT_STRINGS && rep->cut & CUT_MODULES ? ", " : "",
		 rep->cut & CUT_MODULES ? "65536 distinct modules" : "");
	if (rep->malformed)
		r = pml_report_add_warning(
			rep, "malformed-records",
			"%zu malformed line%s skipped (the first at line %zu: %s); the figures "
			"count only the %zu well-formed records",
			rep->malformed, rep->malformed == 1 ? "" : "s", rep->malformed_line,
			rep->malformed_why, rep->n);
	if (r >= 0 && rep->dropped)
		r = pml_report_add_warning(
			rep, "log-cut",
			"the log went past the report's limits (%s): %zu well-formed records "
			"were dropped, the first at line %zu; the figures leave them out",
			caps, rep->dropped, rep->dropped_line);
	return r;
}

int pml_report_load_file(FILE *f, struct pml_report **ret)
{
	struct pml_report *rep = calloc(1, sizeof(*rep));
	char *line = malloc(PML_REPORT_MAX_LINE + 1);
	size_t lineno = 0;
	ssize_t len;
	int r = -ENOMEM;

	if (!rep || !line)
		goto fail;
	for (;;) {
		const char *p = line;
		bool nul;

		len = read_line(f, line, &nul);
		if (len < 0)
			break;
		lineno++;
		if (len > PML_REPORT_MAX_LINE) {
			count_malformed(rep, lineno, "a line longer than 64 KiB");
			continue;
		}
		if (nul) { /* binary junk from a torn write, a zero-filled tail */
			count_malformed(rep, lineno, "a NUL byte");
			continue;
		}
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			continue;
		r = add_line(rep, line, lineno);
		if (r < 0)
			goto fail;
	}
	if (ferror(f)) {
		r = -EIO;
		goto fail;
	}
	free(line);
	line = NULL;
	r = index_records(rep);
	if (r < 0)
		goto fail;
	r = warn_load(rep);
	if (r < 0)
		goto fail;
	report_analyse(rep);
	*ret = rep;
	return 0;
fail:
	free(line);
	pml_report_free(rep);
	return r;
}

int pml_report_load(const char *log_path, struct pml_report **ret)
{
	FILE *f = fopen(log_path, "re");
	int r;

	if (!f)
		return -errno;
	r = pml_report_load_file(f, ret);
	fclose(f);
	return r;
}

size_t pml_report_n_events(const struct pml_report *rep)
{
	return rep->n;
}

const struct pml_report_event *pml_report_event(const struct pml_report *rep, size_t i)
{
	return i < rep->n ? &rep->ev[i] : NULL;
}

/* --- warnings --- */

int pml_report_add_warning(struct pml_report *rep, const char *code, const char *fmt, ...)
{
	struct pml_report_warning *w;
	char *text, *c;
	size_t len;
	va_list ap;
	int n;

	len = code ? strlen(code) : 0;
	if (!len || len > 32 || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789-") != len ||
	    !fmt)
		return -EINVAL;
	if (rep->n_warn == PML_REPORT_MAX_WARNINGS)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if ((size_t)n > PML_REPORT_MAX_WARNING_TEXT) {
		len = PML_REPORT_MAX_WARNING_TEXT;
		/* Cut at a character, not inside one. */
		while (len && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
		text[len] = '\0';
	}
	c = strdup(code);
	w = realloc(rep->warn, (rep->n_warn + 1) * sizeof(*w));
	if (!c || !w) {
		free(c);
		free(text);
		if (w)
			rep->warn = w;
		return -ENOMEM;
	}
	rep->warn = w;
	rep->warn[rep->n_warn++] = (struct pml_report_warning){c, text};
	return 0;
}

size_t pml_report_n_warnings(const struct pml_report *rep)
{
	return rep->n_warn;
}

const struct pml_report_warning *pml_report_warning(const struct pml_report *rep, size_t i)
{
	return i < rep->n_warn ? &rep->warn[i] : NULL;
}

