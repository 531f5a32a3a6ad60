/* The run report over a decision log; see report.h. Loading decodes and sorts the records,
 * analyse() derives every figure in one pass in time order, the printers only format. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/report.h"
#include "util/modname.h"
#include "util/json.h"

struct modstate {
	char name[64];	 /* normalised: '-' -> '_' */
	bool loaded, base;
	bool known;	 /* a record said whether it is loaded */
	int64_t bytes;	 /* best known resident size, -1 unknown */
	size_t change;	 /* index of the record that made the current state */
};

struct pml_report {
	struct pml_report_event *ev;
	size_t n, cap;
	size_t malformed;
	uint64_t win_start, win_end; /* as set by the caller, 0: default */
	struct modstate *mods;
	size_t n_mods, cap_mods;
	struct pml_report_summary sum;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void event_release(struct pml_report_event *e)
{
	free(e->module);
	free(e->alias);
	free(e->result);
	free(e->reason);
	free(e->source);
	free(e->comm);
}

void pml_report_free(struct pml_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++)
		event_release(&rep->ev[i]);
	free(rep->ev);
	free(rep->mods);
	free(rep);
}

/* Decode one line. Returns 0, -EINVAL when it is not a record, -ENOMEM. */
static int decode(const char *line, size_t lineno, struct pml_report_event *e)
{
	struct pml_json_flat flat;
	const struct pml_json_field *t;
	const char *kind;
	int k, r;

	r = pml_json_flat_parse(line, &flat);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	memset(e, 0, sizeof(*e));
	r = -EINVAL;
	t = pml_json_flat_get(&flat, "t_ns");
	kind = pml_json_flat_str(&flat, "event", NULL);
	if (!t || t->type != PML_JSON_NUMBER || t->num < 0 || !kind)
		goto out;
	k = pml_event_kind_from_name(kind);
	if (k < 0)
		goto out;
	/* t_ns may exceed a double's exact range: take the literal's digits. */
	e->t_ns = strtoull(t->str, NULL, 10);
	e->kind = (enum pml_event_kind)k;
	e->bytes = (int64_t)pml_json_flat_num(&flat, "bytes", -1);
	e->ms = pml_json_flat_num(&flat, "ms", -1);
	e->confidence = pml_json_flat_num(&flat, "confidence", -1);
	e->pid = (int)pml_json_flat_num(&flat, "pid", 0);
	e->err = -(int)pml_json_flat_num(&flat, "errno", 0);
	e->line = lineno;
	r = -ENOMEM;
	e->module = dup_or_null(pml_json_flat_str(&flat, "module", NULL));
	e->alias = dup_or_null(pml_json_flat_str(&flat, "alias", NULL));
	e->result = dup_or_null(pml_json_flat_str(&flat, "result", NULL));
	e->reason = dup_or_null(pml_json_flat_str(&flat, "reason", NULL));
	e->source = dup_or_null(pml_json_flat_str(&flat, "source", NULL));
	e->comm = dup_or_null(pml_json_flat_str(&flat, "comm", NULL));
	if ((pml_json_flat_get(&flat, "module") && !e->module) ||
	    (pml_json_flat_get(&flat, "alias") && !e->alias) ||
	    (pml_json_flat_get(&flat, "result") && !e->result) ||
	    (pml_json_flat_get(&flat, "reason") && !e->reason) ||
	    (pml_json_flat_get(&flat, "source") && !e->source) ||
	    (pml_json_flat_get(&flat, "comm") && !e->comm)) {
		event_release(e);
		goto out;
	}
	r = 0;
out:
	pml_json_flat_release(&flat);
	return r;
}

static int by_time(const void *a, const void *b)
{
	const struct pml_report_event *x = a, *y = b;

	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The state of module name, created (unloaded, unknown size) when new; NULL on ENOMEM. */
static struct modstate *mod_get(struct pml_report *rep, const char *name)
{
	char key[64];
	struct modstate *m;

	pml_module_name_normalize(name, key); /* a longer name is cut to 63 bytes */
	for (size_t i = 0; i < rep->n_mods; i++)
		if (!strcmp(rep->mods[i].name, key))
			return &rep->mods[i];
	if (rep->n_mods == rep->cap_mods) {
		size_t cap = rep->cap_mods ? 2 * rep->cap_mods : 64;
		struct modstate *n = realloc(rep->mods, cap * sizeof(*n));

		if (!n)
			return NULL;
		rep->mods = n;
		rep->cap_mods = cap;
	}
	m = &rep->mods[rep->n_mods++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", key);
	m->bytes = -1;
	return m;
}

static bool is_tracefs(const struct pml_report_event *e)
{
	return e->source && !strcmp(e->source, "tracefs");
}

static bool result_is(const struct pml_report_event *e, const char *result)
{
	return e->result && !strcmp(e->result, result);
}

/* Join a need to the nearest earlier request for the same alias. */
static void join_request(struct pml_report *rep, size_t i)
{
	struct pml_report_event *need = &rep->ev[i];

	if (need->pid > 0 || !need->alias)
		return;
	for (size_t j = i; j-- > 0;) {
		const struct pml_report_event *q = &rep->ev[j];

		if (q->kind != PML_EV_REQUEST || !q->alias || strcmp(q->alias, need->alias))
			continue;
		if (q->pid <= 0)
			return;
		need->pid = q->pid;
		free(need->comm);
		need->comm = dup_or_null(q->comm);
		need->pid_joined = true;
		return;
	}
}

/* Whether a need for the same alias was denied: the shim writes one deny record per denied
 * module of the plan and one need; the need is what counts. */
static bool need_denied(const struct pml_report *rep, const struct pml_report_event *deny)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];

		if (e->kind == PML_EV_NEED && result_is(e, "denied") && e->alias &&
		    deny->alias && !strcmp(e->alias, deny->alias))
			return true;
	}
	return false;
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

/* Prefetches and the wasted ones among them: a load by pmld for a prediction is used when
 * a need of the module, or pmld's "used:" record of it, follows before its unload. */
static void count_prefetches(struct pml_report *rep, struct pml_report_summary *s)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];
		bool used = false;

		if (e->kind != PML_EV_LOAD || e->duplicate || !e->module || !e->source ||
		    strcmp(e->source, "pmld") || !e->reason ||
		    strncmp(e->reason, "prediction", 10))
			continue;
		s->predicted_loads++;
		for (size_t k = i + 1; k < rep->n && !used; k++) {
			const struct pml_report_event *f = &rep->ev[k];

			if (!f->module || strcmp(f->module, e->module))
				continue;
			if (f->kind == PML_EV_UNLOAD && !f->duplicate)
				break;
			used = f->kind == PML_EV_NEED ||
			       (f->kind == PML_EV_INFO && f->reason &&
				!strncmp(f->reason, "used:", 5));
		}
		if (!used)
			s->wasted++;
	}
}

static int analyse(struct pml_report *rep)
{
	struct pml_report_summary *s = &rep->sum;
	uint64_t t0, t1, last;
	int64_t cur = 0;
	bool started = false;

	memset(s, 0, sizeof(*s));
	s->records = rep->n;
	s->malformed = rep->malformed;
	s->agent_cpu_ms = -1;
	s->agent_maxrss_bytes = -1;
	rep->n_mods = 0;
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
		if (!e->module || e->bytes < 0 || (e->kind != PML_EV_LOAD &&
		    e->kind != PML_EV_UNLOAD && e->kind != PML_EV_BASE))
			continue;
		m = mod_get(rep, e->module);
		if (!m)
			return -ENOMEM;
		if (m->bytes < 0 || e->kind == PML_EV_LOAD)
			m->bytes = e->bytes;
	}

	/* Memory: cur is the non-base bytes loaded after each record; the state at t0 is
	 * that after every record up to t0, integrated from there to t1. */
	last = t0;
	for (size_t i = 0; i < rep->n; i++) {
		struct pml_report_event *e = &rep->ev[i];
		struct modstate *m = e->module ? mod_get(rep, e->module) : NULL;
		bool in_window = e->t_ns > t0 && e->t_ns <= t1;
		bool known;
		int64_t b;

		if (e->module && !m)
			return -ENOMEM;
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
			if (!need_denied(rep, e))
				s->denied++;
			break;
		case PML_EV_FAIL:
			s->fails++;
			break;
		case PML_EV_INFO:
			if (e->source && !strcmp(e->source, "pmld") && e->reason &&
			    !strncmp(e->reason, "stop", 4)) {
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
	if (!started)
		s->peak_bytes = s->end_bytes;
	if (t1 > last)
		s->byte_seconds += (double)s->end_bytes * (double)(t1 - last) / 1e9;
	s->avg_bytes = t1 > t0 ? s->byte_seconds / ((double)(t1 - t0) / 1e9)
			       : (double)s->end_bytes;
	return 0;
}

int pml_report_load_file(FILE *f, struct pml_report **ret)
{
	struct pml_report *rep = calloc(1, sizeof(*rep));
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int r = 0;

	if (!rep)
		return -ENOMEM;
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct pml_report_event e;
		const char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		if (memchr(line, '\0', (size_t)len)) { /* binary junk from a torn write */
			rep->malformed++;
			continue;
		}
		r = decode(line, lineno, &e);
		if (r == -ENOMEM)
			goto fail;
		if (r < 0) {
			rep->malformed++;
			continue;
		}
		if (rep->n == rep->cap) {
			size_t ncap = rep->cap ? 2 * rep->cap : 128;
			struct pml_report_event *n = realloc(rep->ev, ncap * sizeof(*n));

			if (!n) {
				event_release(&e);
				r = -ENOMEM;
				goto fail;
			}
			rep->ev = n;
			rep->cap = ncap;
		}
		rep->ev[rep->n++] = e;
	}
	if (ferror(f)) {
		r = -EIO;
		goto fail;
	}
	free(line);
	line = NULL;
	if (rep->n)
		qsort(rep->ev, rep->n, sizeof(*rep->ev), by_time);
	r = analyse(rep);
	if (r < 0)
		goto fail;
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
	if (t_start_ns && t_end_ns && t_end_ns < t_start_ns)
		return -EINVAL;
	rep->win_start = t_start_ns;
	rep->win_end = t_end_ns;
	return analyse(rep);
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

/* --- text --- */

static const char *human_bytes(int64_t b, char *buf, size_t size)
{
	if (b < 0)
		snprintf(buf, size, "-");
	else if (b < 1024)
		snprintf(buf, size, "%lld B", (long long)b);
	else if (b < 1024 * 1024)
		snprintf(buf, size, "%.1f KiB", (double)b / 1024);
	else
		snprintf(buf, size, "%.1f MiB", (double)b / (1024 * 1024));
	return buf;
}

static double rel_s(const struct pml_report *rep, uint64_t t)
{
	return t >= rep->sum.t_start_ns ? (double)(t - rep->sum.t_start_ns) / 1e9
					: -(double)(rep->sum.t_start_ns - t) / 1e9;
}

void pml_report_print_text(const struct pml_report *rep, FILE *f)
{
	const struct pml_report_summary *s = &rep->sum;
	double dur = (double)(s->t_end_ns - s->t_start_ns) / 1e9;
	char b1[32], b2[32], b3[32];
	size_t shown = 0;

	fprintf(f, "base: %zu modules, %s", s->base_modules,
		human_bytes(s->base_bytes, b1, sizeof(b1)));
	for (size_t i = 0, k = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];

		if (e->kind != PML_EV_BASE || e->duplicate || !e->module)
			continue;
		fprintf(f, "%s%s", k++ ? ", " : ": ", e->module);
	}
	fprintf(f, "\n\n%9s  %-7s %-24s %10s %9s  %s\n", "time s", "event", "module", "bytes",
		"ms", "reason");
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];
		char what[128], why[256], ms[32];

		if (e->duplicate || e->kind == PML_EV_BASE || e->kind == PML_EV_REQUEST)
			continue;
		snprintf(what, sizeof(what), "%s", e->module ? e->module : e->alias ? e->alias : "-");
		why[0] = '\0';
		if (e->result)
			snprintf(why, sizeof(why), "%s", e->result);
		/* A need's alias goes with the result, so the module column stays aligned. */
		if (e->kind == PML_EV_NEED && e->alias && e->module && strcmp(e->alias, e->module))
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%sfor %s",
				 why[0] ? " " : "", e->alias);
		if (e->reason)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
				 why[0] ? ": " : "", e->reason);
		if (e->pid > 0)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s[%s %d]",
				 why[0] ? " " : "", e->comm ? e->comm : "?", e->pid);
		if (e->err)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s(%s)",
				 why[0] ? " " : "", strerror(-e->err));
		if (e->ms >= 0)
			snprintf(ms, sizeof(ms), "%.1f", e->ms);
		else
			snprintf(ms, sizeof(ms), "-");
		fprintf(f, "%9.3f  %-7s %-24s %10s %9s  %s\n", rel_s(rep, e->t_ns),
			pml_event_kind_name(e->kind), what, human_bytes(e->bytes, b1, sizeof(b1)),
			ms, why);
		shown++;
	}
	if (!shown)
		fprintf(f, "%9s  (no module was loaded, unloaded or needed)\n", "");
	fprintf(f, "\nloads: %zu, unloads: %zu", s->loads, s->unloads);
	if (s->fails)
		fprintf(f, ", failed operations: %zu", s->fails);
	fprintf(f, "\nneeds: %zu (stalls %zu, already present %zu, no module %zu, denied %zu",
		s->needs, s->stalls, s->present, s->no_module, s->denied);
	if (s->need_errors)
		fprintf(f, ", errors %zu", s->need_errors);
	fprintf(f, ")\nstall time: %.1f ms total, %.1f ms max\n", s->stall_ms, s->stall_max_ms);
	if (s->predicted_loads)
		fprintf(f, "prefetches: %zu loaded by prediction, %zu wasted (never used)\n",
			s->predicted_loads, s->wasted);
	fprintf(f, "module memory (non-base): peak %s, average %s over %.2f s, %s at end\n",
		human_bytes(s->peak_bytes, b1, sizeof(b1)),
		human_bytes((int64_t)llround(s->avg_bytes), b2, sizeof(b2)), dur,
		human_bytes(s->end_bytes, b3, sizeof(b3)));
	if (s->agent_cpu_ms >= 0)
		fprintf(f, "agent: %.1f ms CPU, max RSS %s\n", s->agent_cpu_ms,
			human_bytes(s->agent_maxrss_bytes, b1, sizeof(b1)));
	if (s->malformed || s->duplicates)
		fprintf(f, "log: %zu records, %zu malformed lines skipped, %zu duplicates\n",
			s->records, s->malformed, s->duplicates);
}

/* --- JSON --- */

static void json_event(struct pml_json *j, const struct pml_report_event *e)
{
	pml_json_obj_begin(j, NULL);
	pml_json_int(j, "t_ns", (int64_t)e->t_ns);
	pml_json_str(j, "event", pml_event_kind_name(e->kind));
	if (e->module)
		pml_json_str(j, "module", e->module);
	if (e->alias)
		pml_json_str(j, "alias", e->alias);
	if (e->result)
		pml_json_str(j, "result", e->result);
	if (e->bytes >= 0)
		pml_json_int(j, "bytes", e->bytes);
	if (e->ms >= 0)
		pml_json_double(j, "ms", e->ms);
	if (e->confidence >= 0)
		pml_json_double(j, "confidence", e->confidence);
	if (e->pid > 0)
		pml_json_int(j, "pid", e->pid);
	if (e->comm)
		pml_json_str(j, "comm", e->comm);
	if (e->err)
		pml_json_int(j, "errno", -e->err);
	if (e->reason)
		pml_json_str(j, "reason", e->reason);
	if (e->source)
		pml_json_str(j, "source", e->source);
	if (e->duplicate)
		pml_json_bool(j, "duplicate", true);
	pml_json_obj_end(j);
}

static void json_changes(struct pml_json *j, const struct pml_report *rep, const char *key,
			 enum pml_event_kind kind)
{
	pml_json_arr_begin(j, key);
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];

		if (e->kind != kind || e->duplicate || !e->module)
			continue;
		pml_json_obj_begin(j, NULL);
		pml_json_str(j, "module", e->module);
		pml_json_int(j, "t_ns", (int64_t)e->t_ns);
		if (e->bytes >= 0)
			pml_json_int(j, "bytes", e->bytes);
		if (e->ms >= 0)
			pml_json_double(j, "ms", e->ms);
		if (e->reason)
			pml_json_str(j, "reason", e->reason);
		if (e->source)
			pml_json_str(j, "source", e->source);
		pml_json_obj_end(j);
	}
	pml_json_arr_end(j);
}

void pml_report_print_json(const struct pml_report *rep, FILE *f, int exit_status,
			   const struct pml_report_kv *extra, bool pretty)
{
	const struct pml_report_summary *s = &rep->sum;
	struct pml_json j;

	pml_json_init(&j, f, pretty);
	pml_json_obj_begin(&j, NULL);
	pml_json_obj_begin(&j, "base");
	pml_json_arr_begin(&j, "modules");
	for (size_t i = 0; i < rep->n; i++)
		if (rep->ev[i].kind == PML_EV_BASE && !rep->ev[i].duplicate && rep->ev[i].module)
			pml_json_str(&j, NULL, rep->ev[i].module);
	pml_json_arr_end(&j);
	pml_json_int(&j, "count", (int64_t)s->base_modules);
	pml_json_int(&j, "bytes", s->base_bytes);
	pml_json_obj_end(&j);

	pml_json_arr_begin(&j, "events");
	for (size_t i = 0; i < rep->n; i++)
		json_event(&j, &rep->ev[i]);
	pml_json_arr_end(&j);
	json_changes(&j, rep, "loads", PML_EV_LOAD);
	json_changes(&j, rep, "unloads", PML_EV_UNLOAD);

	pml_json_obj_begin(&j, "summary");
	pml_json_int(&j, "loads", (int64_t)s->loads);
	pml_json_int(&j, "unloads", (int64_t)s->unloads);
	pml_json_int(&j, "fails", (int64_t)s->fails);
	pml_json_int(&j, "requests", (int64_t)s->requests);
	pml_json_int(&j, "needs", (int64_t)s->needs);
	pml_json_int(&j, "stalls", (int64_t)s->stalls);
	pml_json_double(&j, "stall_ms", s->stall_ms);
	pml_json_double(&j, "stall_max_ms", s->stall_max_ms);
	pml_json_int(&j, "present", (int64_t)s->present);
	pml_json_int(&j, "no_module", (int64_t)s->no_module);
	pml_json_int(&j, "denied", (int64_t)s->denied);
	pml_json_int(&j, "need_errors", (int64_t)s->need_errors);
	pml_json_int(&j, "predicted_loads", (int64_t)s->predicted_loads);
	pml_json_int(&j, "wasted", (int64_t)s->wasted);
	pml_json_int(&j, "peak_bytes", s->peak_bytes);
	pml_json_int(&j, "avg_bytes", (int64_t)llround(s->avg_bytes));
	pml_json_int(&j, "byte_seconds", (int64_t)llround(s->byte_seconds));
	pml_json_int(&j, "end_bytes", s->end_bytes);
	pml_json_int(&j, "t_start_ns", (int64_t)s->t_start_ns);
	pml_json_int(&j, "t_end_ns", (int64_t)s->t_end_ns);
	pml_json_double(&j, "duration_s", (double)(s->t_end_ns - s->t_start_ns) / 1e9);
	if (s->agent_cpu_ms >= 0)
		pml_json_double(&j, "agent_cpu_ms", s->agent_cpu_ms);
	else
		pml_json_null(&j, "agent_cpu_ms");
	if (s->agent_maxrss_bytes >= 0)
		pml_json_int(&j, "agent_maxrss_bytes", s->agent_maxrss_bytes);
	else
		pml_json_null(&j, "agent_maxrss_bytes");
	pml_json_int(&j, "records", (int64_t)s->records);
	pml_json_int(&j, "malformed", (int64_t)s->malformed);
	pml_json_int(&j, "duplicates", (int64_t)s->duplicates);
	pml_json_obj_end(&j);

	pml_json_int(&j, "exit_status", exit_status);
	for (size_t i = 0; extra && extra[i].key; i++)
		pml_json_str(&j, extra[i].key, extra[i].value);
	pml_json_obj_end(&j);
	if (!pretty)
		fputc('\n', f);
}
