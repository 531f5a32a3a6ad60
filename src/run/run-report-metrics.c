/* The run report's metrics (run-report.h's summary): report_analyse() derives every
 * figure in passes over the records in time order, as run-report.c read, sorted and
 * numbered them, within the window the caller sets: the changes of the module set (a
 * second record of one change marked a duplicate), needs and stalls, module memory,
 * prefetches, the wasted ones and their exposure, pmld's own cost. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "run/run-report-priv.h"

bool report_result_is(const struct pml_report_event *e, const char *result)
{
	return e->result && !strcmp(e->result, result);
}

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
		enum pml_event_basis b;

		if (rep->mod_id[i] == NO_ID)
			continue;
		m = &rep->mods[rep->mod_id[i]];
		if (e->kind == PML_EV_LOAD) {
			if (e->duplicate || e->cause != PML_CAUSE_PREFETCH || !is_pmld(e))
				continue;
			b = (unsigned)e->basis < PML_BASIS__COUNT ? e->basis : PML_BASIS_NONE;
			s->predicted_loads++;
			s->predicted_by[b]++;
			if (!m->used_ahead) {
				s->wasted++;
				s->wasted_by[b]++;
			}
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

/* A prefetch's time before its first use, or to its unload or the end when never used
 * (used says which), within [t0, t1], into the summary: its byte-seconds, and its
 * module-seconds unless it is a dependency loaded for one. Clears m's pending state. */
static void add_exposure(struct pml_report_summary *s, struct modstate *m, uint64_t t,
			 bool used, uint64_t t0, uint64_t t1)
{
	double sec = seconds_within(m->pref_t, t, t0, t1);
	double bs = sec * (double)(m->bytes > 0 ? m->bytes : 0);

	if (m->pref_for == NO_ID)
		s->prefetch_exposure_s += sec;
	if (used)
		s->prefetch_early_byte_s += bs;
	else
		s->prefetch_unused_byte_s += bs;
	m->pref_t = 0;
}

/* Prefetch p (id) is used at t (or went unused): the dependencies loaded for it and not
 * yet resolved are parted with it, before their first use; unused, they count as unused
 * until they go themselves. */
static void resolve_deps(struct pml_report *rep, struct pml_report_summary *s, uint32_t p,
			 uint64_t t, bool used, uint64_t t0, uint64_t t1)
{
	struct modstate *m = &rep->mods[p];

	for (unsigned k = 0; k < m->n_deps; k++) {
		struct modstate *d = &rep->mods[m->deps[k]];

		if (!d->pref_t || d->pref_for != p || d->pref_orphan)
			continue;
		if (used)
			add_exposure(s, d, t, true, t0, t1);
		else
			d->pref_orphan = true;
	}
	m->n_deps = 0;
}

/* The prefetches' time loaded and not yet used, within [t0, t1]: from a prefetch's load
 * to its module's first need, use or unload, or to the end; the dependencies loaded for
 * it (the load record's "for") alike, parted by its outcome. */
static void prefetch_exposure(struct pml_report *rep, struct pml_report_summary *s,
			      uint64_t t0, uint64_t t1)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];
		uint32_t id = rep->mod_id[i];
		struct modstate *m;
		bool used;

		if (id == NO_ID)
			continue;
		m = &rep->mods[id];
		if (e->kind == PML_EV_LOAD && !e->duplicate && is_pmld(e) && !m->pref_t &&
		    (e->cause == PML_CAUSE_PREFETCH ||
		     (e->cause == PML_CAUSE_DEPENDENCY && rep->for_id[i] != NO_ID &&
		      rep->for_id[i] != id))) {
			m->pref_t = e->t_ns ? e->t_ns : 1;
			m->pref_for = e->cause == PML_CAUSE_PREFETCH ? NO_ID : rep->for_id[i];
			m->pref_orphan = false;
			if (m->pref_for != NO_ID) {
				struct modstate *p = &rep->mods[m->pref_for];

				if (p->n_deps < PREF_DEPS_MAX)
					p->deps[p->n_deps++] = id;
			}
			continue;
		}
		if (!m->pref_t || !((e->kind == PML_EV_UNLOAD && !e->duplicate) ||
				    e->kind == PML_EV_NEED ||
				    (e->kind == PML_EV_USED && is_pmld(e))))
			continue;
		used = e->kind != PML_EV_UNLOAD;
		if (m->pref_for == NO_ID)
			resolve_deps(rep, s, id, e->t_ns, used, t0, t1);
		add_exposure(s, m, e->t_ns, used, t0, t1);
	}
	for (size_t k = 0; k < rep->n_mods; k++) /* the end: what is left, never used */
		if (rep->mods[k].pref_t)
			add_exposure(s, &rep->mods[k], t1, false, t0, t1);
}

void report_analyse(struct pml_report *rep)
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
		rep->mods[k] = (struct modstate){.bytes = -1, .pref_for = NO_ID};
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
			if (report_result_is(e, "loaded")) {
				s->stalls++;
				if (e->ms > 0) {
					s->stall_ms += e->ms;
					if (e->ms > s->stall_max_ms)
						s->stall_max_ms = e->ms;
				}
			} else if (report_result_is(e, "present")) {
				s->present++;
			} else if (report_result_is(e, "no-module")) {
				s->no_module++;
			} else if (report_result_is(e, "denied")) {
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
	prefetch_exposure(rep, s, t0, t1);
	if (!started)
		s->peak_bytes = s->end_bytes;
	if (t1 > last)
		s->byte_seconds += (double)s->end_bytes * (double)(t1 - last) / 1e9;
	s->avg_bytes = t1 > t0 ? s->byte_seconds / ((double)(t1 - t0) / 1e9)
			       : (double)s->end_bytes;
}

int pml_report_set_window(struct pml_report *rep, uint64_t t_start_ns, uint64_t t_end_ns)
{
	if (t_start_ns > PML_REPORT_MAX_T_NS || t_end_ns > PML_REPORT_MAX_T_NS)
		return -ERANGE;
	if (t_start_ns && t_end_ns && t_end_ns < t_start_ns)
		return -EINVAL;
	rep->win_start = t_start_ns;
	rep->win_end = t_end_ns;
	report_analyse(rep);
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
