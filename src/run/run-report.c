/* The run report over a decision log; see run-report.h for the threat model and the limits.
 * Loading reads bounded lines, decodes each into a typed, range-checked record (or counts
 * it malformed), sorts the kept records by time and numbers the distinct module names and
 * aliases by sorting them, so a hostile log costs O(n log n) whatever names it uses (a
 * hash table would need a keyed hash against chosen collisions; a sort has no worst case
 * to find). analyse() derives every figure in passes over the records in time order; the
 * printers only format, escaping every guest string. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "run/run-report-priv.h"
#include "util/json.h"

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
		.bytes = r->bytes,
		.ms = r->ms,
		.confidence = r->confidence,
		.pid = r->pid,
		.err = r->err,
		.cause = r->cause,
		.verdict = r->verdict,
		.priority = r->priority,
		.via = r->via,
		.worker_ms = r->worker_ms,
		.line = lineno,
	};
}

/* Copy the strings of a decoded record into the report. */
static int keep_strings(struct pml_report *rep, struct pml_report_event *e)
{
	char **s[] = {&e->module, &e->alias,   &e->result,  &e->reason,
		      &e->source, &e->comm,    &e->refusal, &e->policy};

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

static int by_module(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = modname_cmp(x->name, y->name);

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

static bool result_is(const struct pml_report_event *e, const char *result)
{
	return e->result && !strcmp(e->result, result);
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
		    result_is(&rep->ev[i], "denied"))
			rep->alias_denied[rep->alias_id[i]] = true;
	r = 0;
out:
	free(refs);
	return r;
}

/* --- analysis --- */

static bool is_tracefs(const struct pml_report_event *e)
{
	return e->source && !strcmp(e->source, "tracefs");
}

static bool is_pmld(const struct pml_report_event *e)
{
	return e->source && !strcmp(e->source, "pmld");
}

/* Join need i to the nearest earlier request for the same alias (walked past already). */
static void join_request(struct pml_report *rep, size_t i)
{
	struct pml_report_event *need = &rep->ev[i];
	const struct pml_report_event *q;
	uint32_t a = rep->alias_id[i];

	if (need->pid > 0 || a == NO_ID || rep->last_request[a] == SIZE_MAX)
		return;
	q = &rep->ev[rep->last_request[a]];
	if (q->pid <= 0)
		return;
	need->pid = q->pid;
	need->comm = q->comm;
	need->pid_joined = true;
}

/* Apply a load (loaded=true) or unload record i to its module. Returns true when it is a
 * change of state (counted), false for a duplicate. A record from the actor (shim, pmld)
 * supersedes the kernel's (tracefs) record of the same change: the count stays one, the
 * actor's record (with its ms and reason) is the one shown, the kernel's time is kept. */
static bool apply_change(struct pml_report *rep, struct modstate *m, size_t i, bool loaded)
{
	struct pml_report_event *e = &rep->ev[i];

	if (m->loaded != loaded || !m->known) {
		m->loaded = loaded;
		m->known = true;
		m->change = i;
		return true;
	}
	if (m->change < rep->n && rep->ev[m->change].kind == e->kind &&
	    is_tracefs(&rep->ev[m->change]) && !is_tracefs(e)) {
		rep->ev[m->change].duplicate = true;
		m->change = i;
		return false; /* counted already, under the earlier record */
	}
	e->duplicate = true;
	return false;
}

/* Prefetches and the wasted ones among them: a load by pmld of cause prefetch is used when
 * a need of the module, or pmld's used record of it, follows before its unload. One pass
 * backwards: per module, whether a use comes before its next unload. */
static void count_prefetches(struct pml_report *rep, struct pml_report_summary *s)
{
	for (size_t i = rep->n; i-- > 0;) {
		const struct pml_report_event *e = &rep->ev[i];
		struct modstate *m;

		if (rep->mod_id[i] == NO_ID)
			continue;
		m = &rep->mods[rep->mod_id[i]];
		if (e->kind == PML_EV_LOAD) {
			if (e->duplicate || e->cause != PML_CAUSE_PREFETCH || !is_pmld(e))
				continue;
			s->predicted_loads++;
			if (!m->used_ahead)
				s->wasted++;
		} else if (e->kind == PML_EV_UNLOAD && !e->duplicate) {
			m->used_ahead = false;
		} else if (e->kind == PML_EV_NEED || (e->kind == PML_EV_USED && is_pmld(e))) {
			m->used_ahead = true;
		}
	}
}

/* Seconds of [a, t] within [t0, t1]. */
static double seconds_within(uint64_t a, uint64_t t, uint64_t t0, uint64_t t1)
{
	a = a > t0 ? a : t0;
	t = t < t1 ? t : t1;
	return t > a ? (double)(t - a) / 1e9 : 0;
}

/* The prefetches' module-seconds loaded and not yet used, within [t0, t1]: from a
 * prefetch's load to its module's first need, use or unload, or to the end. */
static double prefetch_exposure(struct pml_report *rep, uint64_t t0, uint64_t t1)
{
	double sum = 0;

	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];
		struct modstate *m;

		if (rep->mod_id[i] == NO_ID)
			continue;
		m = &rep->mods[rep->mod_id[i]];
		if (e->kind == PML_EV_LOAD && !e->duplicate && e->cause == PML_CAUSE_PREFETCH &&
		    is_pmld(e)) {
			if (!m->pref_t)
				m->pref_t = e->t_ns ? e->t_ns : 1;
			continue;
		}
		if (!m->pref_t || !((e->kind == PML_EV_UNLOAD && !e->duplicate) ||
				    e->kind == PML_EV_NEED ||
				    (e->kind == PML_EV_USED && is_pmld(e))))
			continue;
		sum += seconds_within(m->pref_t, e->t_ns, t0, t1);
		m->pref_t = 0;
	}
	for (size_t k = 0; k < rep->n_mods; k++) /* the end: what is left */
		if (rep->mods[k].pref_t)
			sum += seconds_within(rep->mods[k].pref_t, t1, t0, t1);
	return sum;
}

static void analyse(struct pml_report *rep)
{
	struct pml_report_summary *s = &rep->sum;
	uint64_t t0, t1, last;
	int64_t cur = 0;
	bool started = false;

	memset(s, 0, sizeof(*s));
	s->records = rep->n;
	s->malformed = rep->malformed;
	s->dropped = rep->dropped;
	s->agent_cpu_ms = -1;
	s->agent_maxrss_bytes = -1;
	for (size_t k = 0; k < rep->n_mods; k++)
		rep->mods[k] = (struct modstate){.bytes = -1};
	for (size_t k = 0; k < rep->n_aliases; k++)
		rep->last_request[k] = SIZE_MAX;
	t0 = rep->win_start ? rep->win_start : (rep->n ? rep->ev[0].t_ns : 0);
	t1 = rep->win_end ? rep->win_end : (rep->n ? rep->ev[rep->n - 1].t_ns : 0);
	if (t1 < t0)
		t1 = t0;
	s->t_start_ns = t0;
	s->t_end_ns = t1;

	/* Sizes first: a load seen only by the kernel carries none, its unload may. */
	for (size_t i = 0; i < rep->n; i++) {
		struct pml_report_event *e = &rep->ev[i];
		struct modstate *m;

		e->duplicate = false;
		if (rep->mod_id[i] == NO_ID || e->bytes < 0 ||
		    (e->kind != PML_EV_LOAD && e->kind != PML_EV_UNLOAD && e->kind != PML_EV_BASE))
			continue;
		m = &rep->mods[rep->mod_id[i]];
		if (m->bytes < 0 || e->kind == PML_EV_LOAD)
			m->bytes = e->bytes;
	}

	/* Memory: cur is the non-base bytes loaded after each record; the state at t0 is
	 * that after every record up to t0, integrated from there to t1. Bytes are at most
	 * 1 TiB per module and 65536 modules: cur stays below 2^56. */
	last = t0;
	for (size_t i = 0; i < rep->n; i++) {
		struct pml_report_event *e = &rep->ev[i];
		struct modstate *m = rep->mod_id[i] != NO_ID ? &rep->mods[rep->mod_id[i]] : NULL;
		bool in_window = e->t_ns > t0 && e->t_ns <= t1;
		bool known;
		int64_t b;

		if (e->t_ns > t0 && !started) {
			started = true;
			s->peak_bytes = cur;
		}
		if (in_window) {
			s->byte_seconds += (double)cur * (double)(e->t_ns - last) / 1e9;
			last = e->t_ns;
		}
		b = m && m->bytes > 0 ? m->bytes : 0;
		switch (e->kind) {
		case PML_EV_BASE:
			if (!m)
				break;
			if (m->base) {
				e->duplicate = true;
				break;
			}
			m->base = true;
			m->known = true;
			if (m->loaded)
				cur -= b; /* counted as loaded before: it is base after all */
			m->loaded = true;
			m->change = i;
			s->base_modules++;
			s->base_bytes += e->bytes > 0 ? e->bytes : b;
			break;
		case PML_EV_LOAD:
			if (!m)
				break;
			if (apply_change(rep, m, i, true)) {
				s->loads++;
				if (!m->base)
					cur += b;
			}
			break;
		case PML_EV_UNLOAD:
			if (!m)
				break;
			known = m->known;
			if (apply_change(rep, m, i, false)) {
				s->unloads++;
				/* Unseen before: loaded before the log began, never counted. */
				if (!m->base && known)
					cur -= b;
			}
			break;
		case PML_EV_REQUEST:
			s->requests++;
			if (rep->alias_id[i] != NO_ID)
				rep->last_request[rep->alias_id[i]] = i;
			break;
		case PML_EV_NEED:
			s->needs++;
			join_request(rep, i);
			if (result_is(e, "loaded")) {
				s->stalls++;
				if (e->ms > 0) {
					s->stall_ms += e->ms;
					if (e->ms > s->stall_max_ms)
						s->stall_max_ms = e->ms;
				}
			} else if (result_is(e, "present")) {
				s->present++;
			} else if (result_is(e, "no-module")) {
				s->no_module++;
			} else if (result_is(e, "denied")) {
				s->denied++;
			} else {
				s->need_errors++;
			}
			break;
		case PML_EV_DENY:
			/* The shim writes one deny per denied module of the plan and one need:
			 * the need is what counts. */
			if (rep->alias_id[i] == NO_ID || !rep->alias_denied[rep->alias_id[i]])
				s->denied++;
			break;
		case PML_EV_FAIL:
			s->fails++;
			break;
		case PML_EV_STOP:
			if (is_pmld(e)) {
				s->agent_cpu_ms = e->ms;
				s->agent_maxrss_bytes = e->bytes;
			}
			break;
		default:
			break;
		}
		if (e->t_ns <= t1)
			s->end_bytes = cur;
		if (in_window && cur > s->peak_bytes)
			s->peak_bytes = cur;
	}
	for (size_t i = 0; i < rep->n; i++)
		s->duplicates += rep->ev[i].duplicate;
	count_prefetches(rep, s);
	s->prefetch_exposure_s = prefetch_exposure(rep, t0, t1);
	if (!started)
		s->peak_bytes = s->end_bytes;
	if (t1 > last)
		s->byte_seconds += (double)s->end_bytes * (double)(t1 - last) / 1e9;
	s->avg_bytes = t1 > t0 ? s->byte_seconds / ((double)(t1 - t0) / 1e9)
			       : (double)s->end_bytes;
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
	analyse(rep);
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

int pml_report_set_window(struct pml_report *rep, uint64_t t_start_ns, uint64_t t_end_ns)
{
	if (t_start_ns > PML_REPORT_MAX_T_NS || t_end_ns > PML_REPORT_MAX_T_NS)
		return -ERANGE;
	if (t_start_ns && t_end_ns && t_end_ns < t_start_ns)
		return -EINVAL;
	rep->win_start = t_start_ns;
	rep->win_end = t_end_ns;
	analyse(rep);
	return 0;
}

int pml_report_set_window_s(struct pml_report *rep, double start_s, double duration_s)
{
	const double max_s = (double)PML_REPORT_MAX_T_NS / 1e9;

	if (!isfinite(start_s) || !isfinite(duration_s) || start_s < 0 || duration_s < 0 ||
	    start_s > max_s || duration_s > max_s || start_s + duration_s > max_s)
		return -ERANGE;
	return pml_report_set_window(rep, (uint64_t)(start_s * 1e9),
				     (uint64_t)((start_s + duration_s) * 1e9));
}

const struct pml_report_summary *pml_report_summary(const struct pml_report *rep)
{
	return &rep->sum;
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

