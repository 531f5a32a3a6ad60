/* Replay of one trace under one policy: a discrete-event loop over the trace's records, its
 * needs, load completions and ticks, on a simulated module set. What is simulated and what
 * is approximated is in sim.h; this file keeps to it.
 *
 * Events at the same instant go in this order: load completions and served needs (pending
 * events, in the order they were scheduled), then the need itself, then the trace record,
 * then the tick. So a module whose load completes exactly at its need is a hit, and the
 * policy sees a need before the record that caused it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/driver.h"
#include "resource/resource.h"
#include "sim/reuse.h"
#include "sim/sim.h"
#include "util/log.h"
#include "util/modname.h"

#define NEVER UINT64_MAX
#define ACTIONS_MAX 64
#define DEFAULT_TICK_MS 10.0
#define SYNC_NS 250000000ull /* pmld's tick, when it syncs the resource manager */

/* ---- the simulated module set ---- */

enum mstate { M_ABSENT, M_LOADING, M_LOADED };

struct smod {
	const struct pml_sim_mod *cm;
	enum mstate st;
	bool base;
	bool in_run;	 /* loaded by the recorded run */
	bool by_worker;	 /* the current load is the worker's */
	bool main_pred;	 /* ... and it is the module the policy asked for */
	bool used;	 /* required by a need since its current load began */
	bool queued;	 /* a worker job for it is waiting or running */
	uint64_t t_done; /* LOADING: when it completes */
	int users;
	int n_holders;	 /* modules in the set with it in their load order */
	uint64_t first_grant;
	long span;	 /* open span, -1 */
	int *order;	 /* indices of its load order, base left out */
	size_t n_order;
	bool order_done;
};

enum pend_kind { P_DONE, P_SERVE, P_WAKE };

struct pend {
	uint64_t t, seq;
	enum pend_kind kind;
	int idx;
};

struct job {
	int mod;
	bool started_main;
};

struct hold {
	uint32_t pid;
	int mod;
};

struct sim {
	const struct pml_sim_trace *t;
	struct pml_sim_catalog *cat;
	const struct pml_sim_config *cfg;
	struct pml_policy *pol;
	struct pml_resource *res;
	struct pml_driver drv; /* a load a policy asks for: policy/driver.h, backend below */
	struct pml_sim_result *r;
	struct pml_clock clock;
	uint64_t now, start, end, t0;
	uint64_t next_sync;
	int err;

	struct smod *mods;
	size_t n_mods, cap_mods;
	int *slots; /* hash of names -> index + 1 */
	size_t cap_slots;

	struct job *jobs;
	size_t job_head, n_jobs, cap_jobs;
	int cur; /* module the worker is inserting, -1 */
	uint64_t hold_until;
	bool wake_pending;

	struct pend *heap;
	size_t n_heap, cap_heap;
	uint64_t seq;

	struct hold *holds;
	size_t n_holds, cap_holds;
	uint32_t *exited;
	size_t n_exited, cap_exited;

	struct pml_needs req; /* required needs (pml_sim_required_needs) */
	/* what the oracle is told of the future: req and every later use (reuse.h) */
	struct pml_needs future;
	int *req_of;	      /* raw need -> req index, -1: resolves to nothing */
	long *reuse_of;	      /* record -> the raw need it uses again, -1: none (reuse.h) */
	bool *kernel_asked;   /* raw need: the replayed kernel requested (stall or empty) */

	bool dirty;
	int64_t cur_bytes;
	unsigned cur_exposed;
	bool *inuse;
	struct pml_loaded *loaded;
	size_t cap_loaded;
};

static uint64_t sim_now(void *data)
{
	return ((struct sim *)data)->now;
}

static double rel_ms(const struct sim *s, uint64_t t)
{
	return ((double)t - (double)s->t0) / 1e6;
}

/* Saturating: costs come from files (catalog, costs, needs model) and a policy's
 * arithmetic; a huge one must not be converted out of uint64's range. NaN is 0. */
static uint64_t ms_ns(double ms)
{
	if (!(ms > 0))
		return 0;
	return ms < 1.8e13 ? (uint64_t)(ms * 1e6 + 0.5) : UINT64_MAX;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int slot_find(const struct sim *s, const char *norm)
{
	size_t mask = s->cap_slots - 1;

	for (size_t i = name_hash(norm) & mask;; i = (i + 1) & mask) {
		if (!s->slots[i])
			return -(int)i - 1;
		if (!strcmp(s->mods[s->slots[i] - 1].cm->name, norm))
			return (int)i;
	}
}

/* The index of module name in the set, added (absent) when new; -ENOMEM or -EINVAL. */
static int mod_index(struct sim *s, const char *name)
{
	const struct pml_sim_mod *cm;
	char norm[64];
	int sl;

	if (!name || !*name || pml_module_name_normalize(name, norm) < 0)
		return -EINVAL;
	sl = slot_find(s, norm);
	if (sl >= 0)
		return s->slots[sl] - 1;
	cm = pml_sim_catalog_get(s->cat, norm);
	if (!cm)
		return -ENOMEM;
	if ((s->n_mods + 1) * 2 > s->cap_slots) {
		size_t cap = s->cap_slots * 2;
		int *slots = calloc(cap, sizeof(*slots));
		int *old = s->slots;

		if (!slots)
			return -ENOMEM;
		s->slots = slots;
		s->cap_slots = cap;
		for (size_t i = 0; i < s->n_mods; i++)
			s->slots[-slot_find(s, s->mods[i].cm->name) - 1] = (int)i + 1;
		free(old);
		sl = slot_find(s, norm);
	}
	if (s->n_mods == s->cap_mods) {
		size_t cap = s->cap_mods ? 2 * s->cap_mods : 64;
		struct smod *m = realloc(s->mods, cap * sizeof(*m));
		bool *iu = realloc(s->inuse, cap * sizeof(*iu));

		if (m)
			s->mods = m;
		if (iu)
			s->inuse = iu;
		if (!m || !iu)
			return -ENOMEM;
		s->cap_mods = cap;
	}
	memset(&s->mods[s->n_mods], 0, sizeof(s->mods[0]));
	s->mods[s->n_mods].cm = cm;
	s->mods[s->n_mods].first_grant = NEVER;
	s->mods[s->n_mods].span = -1;
	s->mods[s->n_mods].base = pml_sim_catalog_is_base(s->cat, norm) || cm->builtin;
	s->slots[-sl - 1] = (int)s->n_mods + 1;
	return (int)s->n_mods++;
}

/* The load order of module i as indices, base modules left out (computed once). */
static int order_of(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];
	const struct pml_sim_mod *cm = m->cm;
	int *o;
	size_t n = 0;

	if (m->order_done)
		return 0;
	o = calloc(cm->n_order + 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t k = 0; k < cm->n_order; k++) {
		int j = mod_index(s, cm->order[k]);

		if (j == -ENOMEM) {
			free(o);
			return j;
		}
		m = &s->mods[i]; /* mod_index may move the array */
		if (j < 0 || s->mods[j].base)
			continue;
		o[n++] = j;
	}
	m->order = o;
	m->n_order = n;
	m->order_done = true;
	return 0;
}

/* Loaded (or loading) modules that have module i in their load order: counted as modules
 * enter and leave the set (present()). */
static int holders(const struct sim *s, int i)
{
	return s->mods[i].n_holders;
}

/* Module i enters (in = true) or leaves the set: its load order's holder counts follow. */
static void present(struct sim *s, int i, bool in)
{
	const struct smod *m = &s->mods[i];

	for (size_t k = 0; k < m->n_order; k++)
		if (m->order[k] != i)
			s->mods[m->order[k]].n_holders += in ? 1 : -1;
}

static void oom(struct sim *s)
{
	if (!s->err)
		s->err = -ENOMEM;
}

/* ---- the result's timeline ---- */

static void span_open(struct sim *s, int i, uint64_t t_start)
{
	struct pml_sim_result *r = s->r;
	struct smod *m = &s->mods[i];
	struct pml_sim_span *sp;

	m->span = -1;
	if (!s->cfg->timeline)
		return;
	if (r->n_spans == r->cap_spans) {
		size_t cap = r->cap_spans ? 2 * r->cap_spans : 64;
		struct pml_sim_span *n = realloc(r->spans, cap * sizeof(*n));

		if (!n) {
			oom(s);
			return;
		}
		r->spans = n;
		r->cap_spans = cap;
	}
	sp = &r->spans[r->n_spans];
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->module, sizeof(sp->module), "%s", m->cm->name);
	sp->t_start_ms = rel_ms(s, t_start);
	sp->t_loaded_ms = -1;
	sp->t_end_ms = -1;
	sp->predicted = m->by_worker;
	sp->bytes = m->cm->bytes;
	m->span = (long)r->n_spans++;
}

static void span_loaded(struct sim *s, int i)
{
	if (s->mods[i].span >= 0)
		s->r->spans[s->mods[i].span].t_loaded_ms = rel_ms(s, s->now);
}

static void span_close(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];

	if (m->span < 0)
		return;
	s->r->spans[m->span].t_end_ms = rel_ms(s, s->now);
	s->r->spans[m->span].used = m->used;
	m->span = -1;
}

static void ask_record(struct sim *s, const struct pml_action *a, enum pml_sim_verdict v)
{
	struct pml_sim_result *r = s->r;
	struct pml_sim_ask *k;

	if (!s->cfg->timeline)
		return;
	if (r->n_asks == r->cap_asks) {
		size_t cap = r->cap_asks ? 2 * r->cap_asks : 64;
		struct pml_sim_ask *n = realloc(r->asks, cap * sizeof(*n));

		if (!n) {
			oom(s);
			return;
		}
		r->asks = n;
		r->cap_asks = cap;
	}
	k = &r->asks[r->n_asks++];
	k->t_ms = rel_ms(s, s->now);
	snprintf(k->module, sizeof(k->module), "%s", a->module);
	k->confidence = a->confidence;
	k->verdict = v;
}

static void point_record(struct sim *s)
{
	struct pml_sim_result *r = s->r;

	if (!s->cfg->timeline)
		return;
	if (r->n_points && r->points[r->n_points - 1].t_ms == rel_ms(s, s->now)) {
		r->points[r->n_points - 1].bytes = s->cur_bytes;
		return;
	}
	if (r->n_points == r->cap_points) {
		size_t cap = r->cap_points ? 2 * r->cap_points : 64;
		struct pml_sim_point *n = realloc(r->points, cap * sizeof(*n));

		if (!n) {
			oom(s);
			return;
		}
		r->points = n;
		r->cap_points = cap;
	}
	r->points[r->n_points].t_ms = rel_ms(s, s->now);
	r->points[r->n_points].bytes = s->cur_bytes;
	r->n_points++;
}

/* ---- time ---- */

/* Footprint and exposure of the module set as it is now. */
static void measure(struct sim *s)
{
	int64_t bytes = 0;
	unsigned exposed = 0;

	for (size_t i = 0; i < s->n_mods; i++)
		s->inuse[i] = false;
	for (size_t i = 0; i < s->n_mods; i++) {
		const struct smod *m = &s->mods[i];

		if (m->st == M_ABSENT || m->users <= 0)
			continue;
		s->inuse[i] = true;
		for (size_t k = 0; k < m->n_order; k++)
			s->inuse[m->order[k]] = true;
	}
	for (size_t i = 0; i < s->n_mods; i++) {
		const struct smod *m = &s->mods[i];

		if (m->base || m->st == M_ABSENT)
			continue;
		bytes += m->cm->bytes;
		if (m->st == M_LOADED && !s->inuse[i])
			exposed++;
	}
	s->cur_bytes = bytes;
	s->cur_exposed = exposed;
	if (bytes > s->r->m.peak_bytes)
		s->r->m.peak_bytes = bytes;
	point_record(s);
	s->dirty = false;
}

static void advance(struct sim *s, uint64_t t)
{
	double dt;

	if (s->dirty)
		measure(s);
	if (t <= s->now)
		return;
	dt = (double)(t - s->now) / 1e9;
	s->r->m.byte_s += (double)s->cur_bytes * dt;
	s->r->m.exposure_s += (double)s->cur_exposed * dt;
	s->now = t;
}

static void push(struct sim *s, uint64_t t, enum pend_kind kind, int idx)
{
	size_t i;

	if (s->n_heap == s->cap_heap) {
		size_t cap = s->cap_heap ? 2 * s->cap_heap : 64;
		struct pend *h = realloc(s->heap, cap * sizeof(*h));

		if (!h) {
			oom(s);
			return;
		}
		s->heap = h;
		s->cap_heap = cap;
	}
	i = s->n_heap++;
	s->heap[i] = (struct pend){.t = t, .seq = s->seq++, .kind = kind, .idx = idx};
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct pend tmp;

		if (s->heap[p].t < s->heap[i].t ||
		    (s->heap[p].t == s->heap[i].t && s->heap[p].seq < s->heap[i].seq))
			break;
		tmp = s->heap[p];
		s->heap[p] = s->heap[i];
		s->heap[i] = tmp;
		i = p;
	}
}

static struct pend pop(struct sim *s)
{
	struct pend top = s->heap[0];
	size_t i = 0;

	s->heap[0] = s->heap[--s->n_heap];
	for (;;) {
		size_t l = 2 * i + 1, rr = l + 1, m = i;
		struct pend tmp;

		if (l < s->n_heap && (s->heap[l].t < s->heap[m].t ||
				      (s->heap[l].t == s->heap[m].t && s->heap[l].seq < s->heap[m].seq)))
			m = l;
		if (rr < s->n_heap && (s->heap[rr].t < s->heap[m].t ||
				       (s->heap[rr].t == s->heap[m].t &&
					s->heap[rr].seq < s->heap[m].seq)))
			m = rr;
		if (m == i)
			break;
		tmp = s->heap[m];
		s->heap[m] = s->heap[i];
		s->heap[i] = tmp;
		i = m;
	}
	return top;
}

/* ---- telling the policy ---- */

static void tell(struct sim *s, enum pml_pol_event_kind kind, const char *module,
		 const char *alias, int64_t bytes, bool predicted)
{
	struct pml_pol_event ev = {.kind = kind, .t_ns = s->now, .module = module,
				   .alias = alias && *alias ? alias : NULL, .bytes = bytes,
				   .predicted = predicted};

	pml_policy_observe(s->pol, &ev);
}

/* The tracer's record of a module inserted or removed in the replayed run: the live
 * tracer sees module tracepoints system-wide, so a predictive policy reads its own loads
 * there too. (pid 0: the replay knows no process for them.) */
static void tell_module_record(struct sim *s, unsigned kind, const char *name)
{
	struct pml_tev_module rec;
	struct pml_pol_event ev = {.kind = PML_POL_TRACE, .t_ns = s->now, .bytes = -1,
				   .tev = &rec.h};

	memset(&rec, 0, sizeof(rec));
	rec.h.t_ns = s->now;
	rec.h.kind = (uint16_t)kind;
	rec.h.size = sizeof(rec);
	rec.h.nr = -1;
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	pml_policy_observe(s->pol, &ev);
}

/* ---- the load worker ---- */

static void worker_step(struct sim *s)
{
	if (s->cur >= 0)
		return;
	if (s->now < s->hold_until) {
		if (!s->wake_pending) {
			push(s, s->hold_until, P_WAKE, -1);
			s->wake_pending = true;
		}
		return;
	}
	while (s->job_head < s->n_jobs) {
		struct job *j = &s->jobs[s->job_head];
		struct smod *mm;
		int next = -1;

		if (order_of(s, j->mod) < 0) {
			oom(s);
			return;
		}
		mm = &s->mods[j->mod];
		for (size_t k = 0; k < mm->n_order && next < 0; k++)
			if (s->mods[mm->order[k]].st == M_ABSENT)
				next = mm->order[k];
		if (next < 0) {
			/* Done, or already loaded by other hands (a need that came first). */
			if (!j->started_main && mm->st == M_LOADED)
				pml_resource_loaded(s->res, mm->cm->name, -1, mm->users);
			mm->queued = false;
			s->job_head++;
			continue;
		}
		if (order_of(s, next) < 0) {
			oom(s);
			return;
		}
		j = &s->jobs[s->job_head];
		{
			struct smod *n = &s->mods[next];

			n->st = M_LOADING;
			present(s, next, true);
			n->by_worker = true;
			n->main_pred = next == j->mod;
			n->used = false;
			n->t_done = s->now + ms_ns(n->cm->load_ms);
			if (n->first_grant == NEVER)
				n->first_grant = s->now;
			if (next == j->mod)
				j->started_main = true;
			span_open(s, next, s->now);
			push(s, n->t_done, P_DONE, next);
			s->cur = next;
			s->dirty = true;
		}
		return;
	}
}

/* ---- unloads ---- */

static void remove_mod(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];

	if (m->main_pred && !m->used)
		s->r->m.wasted_loads++;
	span_close(s, i);
	m->st = M_ABSENT;
	present(s, i, false);
	m->main_pred = m->by_worker = m->used = false;
	s->r->m.unloads++;
	s->dirty = true;
	pml_resource_release(s->res, m->cm->name);
	tell_module_record(s, PML_TEV_MOD_FREE, m->cm->name);
	tell(s, PML_POL_UNLOAD, m->cm->name, NULL, m->cm->bytes, false);
}

/* Unload module i as pmld's loader would (PML_UNLOAD_DEPS). Returns modules removed. */
static int unload(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];
	int removed = 0;

	if (m->st == M_ABSENT) {
		tell(s, PML_POL_UNLOAD, m->cm->name, NULL, -1, false); /* gone already */
		return 0;
	}
	if (m->base || m->st == M_LOADING || m->users > 0 || holders(s, i) > 0) {
		s->r->m.unload_busy++;
		tell(s, PML_POL_BUSY, m->cm->name, NULL, -1, false);
		return 0;
	}
	remove_mod(s, i);
	removed++;
	for (size_t k = m->n_order; k-- > 0;) {
		int d = s->mods[i].order[k];
		struct smod *dm = &s->mods[d];

		if (d == i || dm->st != M_LOADED || dm->base || dm->users > 0 ||
		    holders(s, d) > 0 || pml_policy_is_protected(s->pol, dm->cm->name))
			continue;
		remove_mod(s, d);
		removed++;
	}
	return removed;
}

/* ---- loads a policy asks for ---- */

static bool in_flight_or_queued(const struct smod *m)
{
	return m->st == M_LOADING || m->queued;
}

/* The replay backend of the negotiation driver (policy/driver.h): the simulated set
 * answers, the simulated worker loads. Names are the catalog's (do_load sees to it). */

static bool replay_busy(void *be, const char *module)
{
	struct sim *s = be;
	int i = mod_index(s, module);
	const struct smod *m;

	if (i < 0)
		return true;
	m = &s->mods[i];
	return m->base || m->st == M_LOADED || in_flight_or_queued(m);
}

/* The module and its load order not loaded yet nor queued on their own. */
static void replay_cost(void *be, const struct pml_action *act, int64_t *ret_bytes,
			double *ret_load_ms)
{
	struct sim *s = be;
	int i = mod_index(s, act->module);
	int64_t plan = 0;
	double plan_ms = 0;

	for (size_t k = 0; i >= 0 && k < s->mods[i].n_order; k++) {
		const struct smod *m = &s->mods[i];
		const struct smod *o = &s->mods[m->order[k]];

		if (o->st == M_ABSENT && (o == m || !o->queued)) {
			plan += o->cm->bytes;
			plan_ms += o->cm->load_ms;
		}
	}
	*ret_bytes = plan > 0 ? plan : -1;
	*ret_load_ms = plan_ms > 0 ? plan_ms : -1;
}

static int replay_plan(void *be, const char *module, char (*names)[64], size_t max)
{
	struct sim *s = be;
	int i = mod_index(s, module);
	const struct pml_sim_mod *cm;
	size_t n = 0;

	if (i < 0)
		return i;
	cm = s->mods[i].cm;
	for (size_t k = 0; k < cm->n_order && n < max; k++)
		snprintf(names[n++], 64, "%s", cm->order[k]);
	return (int)n;
}

static int replay_evict(void *be, const char *module, const struct pml_action *want)
{
	struct sim *s = be;
	int e = mod_index(s, module);

	return e < 0 ? 0 : unload(s, e);
}

static int replay_refcnt(void *be, const char *module)
{
	struct sim *s = be;
	int e = mod_index(s, module);

	return e < 0 || s->mods[e].st == M_ABSENT ? -ENOENT : s->mods[e].users;
}

static int replay_submit(void *be, const struct pml_action *act)
{
	struct sim *s = be;
	int i = mod_index(s, act->module);

	if (i < 0)
		return i;
	if (s->n_jobs == s->cap_jobs) {
		size_t cap = s->cap_jobs ? 2 * s->cap_jobs : 64;
		struct job *n = realloc(s->jobs, cap * sizeof(*n));

		if (!n) {
			oom(s);
			return -ENOMEM;
		}
		s->jobs = n;
		s->cap_jobs = cap;
	}
	s->jobs[s->n_jobs++] = (struct job){.mod = i};
	s->mods[i].queued = true;
	if (s->mods[i].first_grant == NEVER)
		s->mods[i].first_grant = s->now;
	worker_step(s);
	return 0;
}

static const struct pml_driver_ops replay_ops = {
	.name = "replay",
	.busy = replay_busy,
	.cost = replay_cost,
	.plan = replay_plan,
	.evict = replay_evict,
	.refcnt = replay_refcnt,
	.submit = replay_submit,
};

static void do_load(struct sim *s, const struct pml_action *a)
{
	struct pml_drive_result res;
	struct pml_action act = *a;
	int i = mod_index(s, a->module);

	s->r->m.asks++;
	if (i < 0) {
		if (i == -ENOMEM)
			oom(s);
		return;
	}
	if (order_of(s, i) < 0) {
		oom(s);
		return;
	}
	snprintf(act.module, sizeof(act.module), "%s", s->mods[i].cm->name);
	if (pml_driver_load(&s->drv, &act, &res) < 0) {
		oom(s);
		return;
	}
	s->r->m.evictions += res.evicted;
	switch (res.outcome) {
	case PML_DRIVE_SKIPPED:
	case PML_DRIVE_PRESENT:
		ask_record(s, a, PML_SIM_IGNORED);
		break;
	case PML_DRIVE_QUEUED:
		ask_record(s, a, PML_SIM_GRANTED);
		break;
	default:
		/* Refused by the manager, or granted only by an eviction that could not be
		 * made (driver.h's two rules): not loaded either way. */
		s->r->m.refused++;
		ask_record(s, a, PML_SIM_REFUSED);
		break;
	}
}

/* ---- decisions ---- */

static void decide(struct sim *s)
{
	struct pml_action acts[ACTIONS_MAX];
	size_t n = 0;
	int k;

	if (!s->pol->ops->decide || s->err)
		return;
	if (s->cap_loaded < s->n_mods) {
		struct pml_loaded *l = realloc(s->loaded, s->cap_mods * sizeof(*l));

		if (!l) {
			oom(s);
			return;
		}
		s->loaded = l;
		s->cap_loaded = s->cap_mods;
	}
	for (size_t i = 0; i < s->n_mods; i++) {
		const struct smod *m = &s->mods[i];
		struct pml_loaded *l;

		if (m->st != M_LOADED)
			continue;
		l = &s->loaded[n++];
		memcpy(l->name, m->cm->name, sizeof(l->name));
		l->bytes = m->cm->bytes;
		l->refcnt = m->users;
		l->n_holders = holders(s, (int)i);
	}
	k = pml_policy_decide(s->pol, s->loaded, n, acts, ACTIONS_MAX);
	if (k < 0) {
		if (k == -ENOMEM)
			oom(s);
		return;
	}
	/* Loads first: the program may be about to need them; an unload can wait. */
	for (int i = 0; i < k; i++)
		if (acts[i].kind == PML_ACT_LOAD)
			do_load(s, &acts[i]);
	for (int i = 0; i < k; i++) {
		int j;

		if (acts[i].kind != PML_ACT_UNLOAD)
			continue;
		j = mod_index(s, acts[i].module);
		if (j >= 0)
			unload(s, j);
	}
}

static void sync_resource(struct sim *s)
{
	struct pml_res_loaded *l;
	size_t n = 0;

	l = calloc(s->n_mods ? s->n_mods : 1, sizeof(*l));
	if (!l) {
		oom(s);
		return;
	}
	for (size_t i = 0; i < s->n_mods; i++) {
		const struct smod *m = &s->mods[i];

		if (m->st != M_LOADED || m->base)
			continue;
		l[n].name = m->cm->name;
		l[n].bytes = m->cm->bytes;
		l[n].refcnt = m->users + holders(s, (int)i);
		n++;
	}
	if (pml_resource_sync(s->res, l, n) == -ENOMEM)
		oom(s);
	free(l);
}

/* ---- needs ---- */

static bool pid_exited(const struct sim *s, uint32_t pid)
{
	for (size_t i = 0; i < s->n_exited; i++)
		if (s->exited[i] == pid)
			return true;
	return false;
}

/* A need's process holds its module from the request on (while it waits for it, too)
 * until it exits (for ever when that is unknown). */
static void hold_pid(struct sim *s, uint32_t pid, const char *module)
{
	int i = mod_index(s, module);

	if (i < 0 || (pid && pid_exited(s, pid)))
		return;
	if (s->n_holds == s->cap_holds) {
		size_t cap = s->cap_holds ? 2 * s->cap_holds : 32;
		struct hold *h = realloc(s->holds, cap * sizeof(*h));

		if (!h) {
			oom(s);
			return;
		}
		s->holds = h;
		s->cap_holds = cap;
	}
	s->holds[s->n_holds++] = (struct hold){.pid = pid, .mod = i};
	s->mods[i].users++;
	s->dirty = true;
}

static void hold(struct sim *s, size_t k)
{
	hold_pid(s, s->t->needs.v[k].pid, s->t->needs.v[k].module);
}

static void serve(struct sim *s, size_t k)
{
	const struct pml_need *nd = &s->t->needs.v[k];
	int i = mod_index(s, nd->module);

	if (i >= 0)
		tell(s, PML_POL_NEED, s->mods[i].cm->name, nd->alias, s->mods[i].cm->bytes,
		     false);
}

/* What a need of rq's modules waits for now: *wait for loads in flight, *missing_ns for
 * the absent ones' loads; the present ones are used. False when out of memory. */
static bool tally(struct sim *s, const struct pml_need *rq, uint64_t *wait,
		  uint64_t *missing_ns)
{
	for (uint32_t j = 0; j < rq->n_loaded; j++) {
		int i = mod_index(s, rq->loaded[j]);
		struct smod *m;

		if (i < 0 || order_of(s, i) < 0) {
			oom(s);
			return false;
		}
		m = &s->mods[i];
		if (m->st == M_LOADING && m->t_done > s->now + *wait)
			*wait = m->t_done - s->now;
		else if (m->st == M_ABSENT)
			*missing_ns += ms_ns(m->cm->load_ms);
		if (m->st != M_ABSENT)
			m->used = true;
	}
	return true;
}

/* The kernel's modprobe loads what is missing of rq, one after the other, once what is in
 * flight (that the missing ones may depend on) is in, wait from now. */
static void miss_loads(struct sim *s, const struct pml_need *rq, uint64_t wait)
{
	uint64_t t = s->now + wait;

	for (uint32_t j = 0; j < rq->n_loaded; j++) {
		int i = mod_index(s, rq->loaded[j]);
		struct smod *m = &s->mods[i];

		if (m->st != M_ABSENT)
			continue;
		m->st = M_LOADING;
		present(s, i, true);
		m->by_worker = m->main_pred = false;
		m->used = true;
		t += ms_ns(m->cm->load_ms);
		m->t_done = t;
		span_open(s, i, s->now);
		push(s, t, P_DONE, i);
		s->r->m.miss_loads++;
	}
	s->dirty = true;
	if (t > s->hold_until)
		s->hold_until = t;
}

static void need_arrives(struct sim *s, size_t k)
{
	const struct pml_need *nd = &s->t->needs.v[k];
	const struct pml_need *rq;
	struct pml_sim_need *out;
	uint64_t wait = 0, missing_ns = 0;
	int target;

	if (s->req_of[k] < 0) {
		/* Resolves to no module: the kernel still asks (a modprobe exec under Linux
		 * as shipped, an index look-up under pml); nothing to load. */
		s->r->m.empty_requests++;
		s->kernel_asked[k] = true;
		if (nd->alias[0])
			tell(s, PML_POL_REQUEST, NULL, nd->alias, -1, false);
		return;
	}
	rq = &s->req.v[s->req_of[k]];
	if (!tally(s, rq, &wait, &missing_ns))
		return;
	out = &s->r->needs[s->r->n_needs++];
	memset(out, 0, sizeof(*out));
	out->t_ms = rel_ms(s, s->now);
	snprintf(out->module, sizeof(out->module), "%s", nd->module);
	snprintf(out->alias, sizeof(out->alias), "%s", nd->alias);
	out->n_required = rq->n_loaded;
	out->lead_ms = -1;
	target = mod_index(s, nd->module);
	if (target >= 0 && s->mods[target].first_grant <= s->now) {
		out->lead_ms = (double)(s->now - s->mods[target].first_grant) / 1e6;
		s->r->m.lead_n++;
		s->r->m.lead_sum_ms += out->lead_ms;
	}
	s->r->m.needs++;
	s->r->m.recorded_stall_ms += (double)(nd->done_ns - nd->t_ns) / 1e6;
	hold(s, k);
	if (wait + missing_ns == 0) {
		serve(s, k);
		return;
	}
	/* A miss: the kernel's request path (usermode helper, modprobe's exec) runs first;
	 * modprobe then waits for what is in flight and inserts what is missing. */
	if (wait < ms_ns(s->cfg->miss_ms))
		wait = ms_ns(s->cfg->miss_ms);
	out->stalled = true;
	out->stall_ms = (double)(wait + missing_ns) / 1e6;
	s->r->m.stalls++;
	s->r->m.stall_ms += out->stall_ms;
	s->kernel_asked[k] = true;
	if (nd->alias[0])
		tell(s, PML_POL_REQUEST, nd->module, nd->alias, -1, false);
	miss_loads(s, rq, wait);
	push(s, s->now + wait + missing_ns, P_SERVE, (int)k);
}

/* A later use of need k's modules by process pid (a record that would make the kernel
 * ask for the need's alias again, reuse.h): a use when they are loaded; when the policy
 * unloaded one, the kernel asks again and the program waits: a stall, counted in
 * stalls, stall time and reloads (not a new need: the needs stay the first uses). */
static void use_again(struct sim *s, size_t k, uint32_t pid)
{
	const struct pml_need *nd = &s->t->needs.v[k];
	const struct pml_need *rq = &s->req.v[s->req_of[k]];
	uint64_t wait = 0, missing_ns = 0;

	if (!tally(s, rq, &wait, &missing_ns))
		return;
	hold_pid(s, pid, nd->module);
	if (wait + missing_ns == 0) {
		for (uint32_t j = 0; j < rq->n_loaded; j++)
			tell(s, PML_POL_USE, rq->loaded[j], NULL, -1, false);
		return;
	}
	if (wait < ms_ns(s->cfg->miss_ms))
		wait = ms_ns(s->cfg->miss_ms);
	s->r->m.stalls++;
	s->r->m.reloads++;
	s->r->m.stall_ms += (double)(wait + missing_ns) / 1e6;
	tell(s, PML_POL_REQUEST, nd->module, nd->alias, -1, false);
	miss_loads(s, rq, wait);
	push(s, s->now + wait + missing_ns, P_SERVE, (int)k);
}

/* The need (raw index) that rec uses again: one that came before rec and whose alias
 * rec would make the kernel ask for again (reuse.h); -1 when none. */
static long reused_need(const struct sim *s, const struct pml_tev_hdr *rec)
{
	char aliases[PML_REUSE_MAX][64];
	size_t n = pml_reuse_aliases(rec, aliases, PML_REUSE_MAX);

	for (size_t a = 0; a < n; a++)
		for (size_t k = 0; k < s->t->needs.n; k++) {
			const struct pml_need *nd = &s->t->needs.v[k];

			if (nd->t_ns < rec->t_ns && s->req_of[k] >= 0 && nd->alias[0] &&
			    !strcmp(nd->alias, aliases[a]))
				return (long)k;
		}
	return -1;
}

static void reuse(struct sim *s, size_t ri, const struct pml_tev_hdr *rec)
{
	long k = s->reuse_of[ri];

	if (k >= 0)
		use_again(s, (size_t)k, rec->pid);
}

static int future_push(struct pml_needs *f, const struct pml_need *nd)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct pml_need *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = *nd;
	return 0;
}

/* The later uses of the trace's records (reuse_of, read by the replay loop) and the
 * oracle's future: the required needs merged in time order with a copy of a need's
 * required modules at each later use of it (so it keeps or brings back what is used
 * again, as it does for needs). 0 or -ENOMEM. */
static int future_build(struct sim *s)
{
	struct pml_needs *f = &s->future;
	size_t q = 0;

	pml_needs_init(f);
	f->first_ns = s->req.first_ns;
	s->reuse_of = malloc((s->t->n + 1) * sizeof(*s->reuse_of));
	if (!s->reuse_of)
		return -ENOMEM;
	for (size_t ri = 0; ri < s->t->n; ri++) {
		const struct pml_tev_hdr *h = (const void *)(s->t->buf + s->t->off[ri]);
		long k = reused_need(s, h);
		struct pml_need use;

		s->reuse_of[ri] = k;
		if (k < 0)
			continue;
		while (q < s->req.n && s->req.v[q].t_ns <= h->t_ns)
			if (future_push(f, &s->req.v[q++]) < 0)
				return -ENOMEM;
		use = s->req.v[s->req_of[k]];
		use.t_ns = use.done_ns = h->t_ns;
		use.pid = use.tid = h->pid;
		if (future_push(f, &use) < 0)
			return -ENOMEM;
	}
	while (q < s->req.n)
		if (future_push(f, &s->req.v[q++]) < 0)
			return -ENOMEM;
	return 0;
}

static void load_done(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];

	if (m->st != M_LOADING || m->t_done != s->now)
		return; /* stale */
	m->st = M_LOADED;
	span_loaded(s, i);
	s->dirty = true;
	if (m->by_worker) {
		s->cur = -1;
		s->r->m.prefetched++;
		if (m->main_pred)
			s->r->m.predicted_loads++;
	}
	pml_resource_loaded(s->res, m->cm->name, m->cm->bytes, m->users);
	tell_module_record(s, PML_TEV_MOD_LOAD, m->cm->name);
	tell(s, PML_POL_LOAD, m->cm->name, NULL, m->cm->bytes, m->by_worker);
	if (m->by_worker)
		worker_step(s);
}

static void record(struct sim *s, size_t ri, size_t *req_cursor)
{
	const struct pml_tev_hdr *h = (const void *)(s->t->buf + s->t->off[ri]);
	struct pml_pol_event ev = {.kind = PML_POL_TRACE, .t_ns = s->now, .bytes = -1,
				   .tev = h};

	switch (h->kind) {
	case PML_TEV_MOD_LOAD:
	case PML_TEV_MOD_FREE:
		return; /* the recorded run's module set: ours is told as it changes */
	case PML_TEV_MOD_REQUEST: {
		/* The k-th request record made the k-th need with an alias. */
		bool asked = true;

		while (*req_cursor < s->t->needs.n && !s->t->needs.v[*req_cursor].alias[0])
			(*req_cursor)++;
		if (*req_cursor < s->t->needs.n)
			asked = s->kernel_asked[(*req_cursor)++];
		if (!asked)
			return; /* the replayed kernel had the module: it asked nothing */
		break;
	}
	case PML_TEV_EXIT:
		for (size_t i = 0; i < s->n_holds;) {
			if (s->holds[i].pid == h->pid) {
				s->mods[s->holds[i].mod].users--;
				s->holds[i] = s->holds[--s->n_holds];
				s->dirty = true;
			} else {
				i++;
			}
		}
		if (s->n_exited == s->cap_exited) {
			size_t cap = s->cap_exited ? 2 * s->cap_exited : 64;
			uint32_t *e = realloc(s->exited, cap * sizeof(*e));

			if (!e) {
				oom(s);
				return;
			}
			s->exited = e;
			s->cap_exited = cap;
		}
		s->exited[s->n_exited++] = h->pid;
		break;
	default:
		reuse(s, ri, h);
		break;
	}
	pml_policy_observe(s->pol, &ev);
	if (h->kind != PML_TEV_SYSCALL)
		decide(s);
}

/* ---- required needs ---- */

static bool in_list(char (*v)[PML_NEED_NAME_LEN], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Build the required needs of t and the raw -> required map (req_of may be NULL). */
static int required(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
		    struct pml_needs *ret, int *req_of)
{
	const char **run = NULL;
	size_t n_run = 0;

	pml_needs_init(ret);
	for (size_t i = 0; i < t->needs.n; i++)
		n_run += t->needs.v[i].n_loaded;
	run = calloc(n_run ? n_run : 1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	n_run = pml_needs_modules(&t->needs, run, n_run);
	for (size_t i = 0; i < t->needs.n; i++) {
		const struct pml_need *nd = &t->needs.v[i];
		struct pml_need q = *nd;

		q.n_loaded = 0;
		for (uint32_t j = 0; j < nd->n_loaded; j++) {
			const struct pml_sim_mod *cm = pml_sim_catalog_get(cat, nd->loaded[j]);

			if (!cm) {
				free(run);
				pml_needs_release(ret);
				return -ENOMEM;
			}
			for (size_t k = 0; k < cm->n_order && q.n_loaded < PML_NEED_MAX_LOADED;
			     k++) {
				const char *o = cm->order[k];
				bool ours = !strcmp(o, cm->name);

				for (size_t x = 0; x < n_run && !ours; x++)
					ours = pml_module_name_eq(run[x], o);
				if (!ours || pml_sim_catalog_is_base(cat, o) ||
				    in_list(q.loaded, q.n_loaded, o))
					continue;
				snprintf(q.loaded[q.n_loaded++], PML_NEED_NAME_LEN, "%s", o);
			}
		}
		if (req_of)
			req_of[i] = -1;
		if (!q.n_loaded)
			continue;
		if (ret->n == ret->cap) {
			size_t cap = ret->cap ? 2 * ret->cap : 16;
			struct pml_need *v = realloc(ret->v, cap * sizeof(*v));

			if (!v) {
				free(run);
				pml_needs_release(ret);
				return -ENOMEM;
			}
			ret->v = v;
			ret->cap = cap;
		}
		if (req_of)
			req_of[i] = (int)ret->n;
		ret->v[ret->n++] = q;
	}
	free(run);
	return 0;
}

int pml_sim_required_needs(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
			   struct pml_needs *ret)
{
	return required(t, cat, ret, NULL);
}

/* ---- the run ---- */

void pml_sim_result_free(struct pml_sim_result *r)
{
	if (!r)
		return;
	free(r->needs);
	free(r->spans);
	free(r->points);
	free(r->asks);
	free(r);
}

static void sim_release(struct sim *s)
{
	pml_policy_free(s->pol);
	pml_resource_free(s->res);
	for (size_t i = 0; i < s->n_mods; i++)
		free(s->mods[i].order);
	free(s->mods);
	free(s->slots);
	free(s->jobs);
	free(s->heap);
	free(s->holds);
	free(s->exited);
	free(s->req_of);
	free(s->reuse_of);
	free(s->kernel_asked);
	free(s->inuse);
	free(s->loaded);
	pml_needs_release(&s->req);
	pml_needs_release(&s->future);
}

static int setup(struct sim *s)
{
	struct pml_policy_config pcfg = s->cfg->pcfg;
	struct pml_resource_config rcfg = {0};
	const char *const *base;
	size_t n_base;
	int r;

	s->cap_slots = 256;
	s->slots = calloc(s->cap_slots, sizeof(*s->slots));
	s->req_of = calloc(s->t->needs.n + 1, sizeof(*s->req_of));
	s->kernel_asked = calloc(s->t->needs.n + 1, sizeof(*s->kernel_asked));
	s->r->needs = calloc(s->t->needs.n + 1, sizeof(*s->r->needs));
	if (!s->slots || !s->req_of || !s->kernel_asked || !s->r->needs)
		return -ENOMEM;
	r = required(s->t, s->cat, &s->req, s->req_of);
	if (r < 0)
		return r;
	pcfg.clock = &s->clock;
	r = future_build(s);
	if (r < 0)
		return r;
	pcfg.future = &s->future;
	pcfg.cost_fn = pml_sim_catalog_cost;
	pcfg.cost_data = s->cat;
	r = s->cfg->policy_ops ? pml_policy_new_ops(s->cfg->policy_ops, &pcfg, &s->pol) :
				 pml_policy_new(s->cfg->policy, &pcfg, &s->pol);
	if (r < 0)
		return r;
	rcfg.budget_mem = s->cfg->budget_mem > 0 ? s->cfg->budget_mem : 0;
	rcfg.now_ns = sim_now;
	rcfg.clock_data = s;
	r = pml_resource_new(&rcfg, &s->res);
	if (r < 0)
		return r;
	pml_driver_init(&s->drv, &replay_ops, s, s->pol, s->res);
	s->drv.watch = s->cfg->on_drive;
	s->drv.watch_data = s->cfg->on_drive_data;
	/* Modules of the recorded run, so the required sets are known by index. */
	for (size_t i = 0; i < s->t->needs.n; i++)
		for (uint32_t j = 0; j < s->t->needs.v[i].n_loaded; j++) {
			int k = mod_index(s, s->t->needs.v[i].loaded[j]);

			if (k == -ENOMEM)
				return k;
			if (k >= 0)
				s->mods[k].in_run = true;
		}
	n_base = pml_sim_catalog_base(s->cat, &base);
	for (size_t i = 0; i < n_base; i++) {
		int k = mod_index(s, base[i]);

		if (k == -ENOMEM)
			return k;
		if (k < 0)
			continue;
		s->mods[k].st = M_LOADED;
		s->mods[k].base = true;
		pml_resource_set_base(s->res, s->mods[k].cm->name, s->mods[k].cm->bytes);
		tell(s, PML_POL_BASE, s->mods[k].cm->name, NULL, s->mods[k].cm->bytes, false);
	}
	return 0;
}

int pml_sim_run(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
		const struct pml_sim_config *cfg, struct pml_sim_result **ret)
{
	struct sim s = {.t = t, .cat = cat, .cfg = cfg, .cur = -1};
	uint64_t tick = ms_ns(cfg->tick_ms > 0 ? cfg->tick_ms : DEFAULT_TICK_MS);
	uint64_t next_tick, preroll = ms_ns(cfg->preroll_ms);
	size_t ri = 0, ni = 0, req_cursor = 0;
	int r;

	const struct pml_policy_ops *ops = cfg->policy_ops ? cfg->policy_ops :
					   pml_policy_find(cfg->policy);

	if (!ops)
		return -ENOENT;
	s.r = calloc(1, sizeof(*s.r));
	if (!s.r)
		return -ENOMEM;
	snprintf(s.r->policy, sizeof(s.r->policy), "%s", ops->name);
	s.r->budget_mem = cfg->budget_mem > 0 ? cfg->budget_mem : 0;
	s.clock.now_ns = sim_now;
	s.clock.data = &s;
	s.t0 = t->t_first;
	s.start = s.now = t->t_first > preroll ? t->t_first - preroll : 0;
	s.end = t->t_last;
	r = setup(&s);
	if (r < 0)
		goto fail;
	s.dirty = true;
	decide(&s);
	next_tick = s.start + tick;
	while (!s.err) {
		uint64_t t_rec = ri < t->n ? ((const struct pml_tev_hdr *)(t->buf + t->off[ri]))->t_ns
					   : NEVER;
		uint64_t t_need = ni < t->needs.n ? t->needs.v[ni].t_ns : NEVER;
		uint64_t t_pend = s.n_heap ? s.heap[0].t : NEVER;
		uint64_t tt;

		if (t_need != NEVER && t_need < s.now)
			t_need = s.now;
		tt = t_rec < t_need ? t_rec : t_need;
		if (t_pend < tt)
			tt = t_pend;
		if (next_tick < tt)
			tt = next_tick;
		if (tt == NEVER || tt > s.end)
			break;
		advance(&s, tt);
		if (t_pend == tt) {
			struct pend p = pop(&s);

			if (p.kind == P_DONE) {
				load_done(&s, p.idx);
				decide(&s);
			} else if (p.kind == P_SERVE) {
				serve(&s, (size_t)p.idx);
				decide(&s);
			} else {
				s.wake_pending = false;
				worker_step(&s);
			}
		} else if (t_need == tt) {
			need_arrives(&s, ni++);
			decide(&s);
		} else if (t_rec == tt) {
			record(&s, ri++, &req_cursor);
		} else {
			/* The manager hears of sizes and refcounts at pmld's tick (250 ms). */
			if (s.now >= s.next_sync) {
				sync_resource(&s);
				s.next_sync = s.now + SYNC_NS;
			}
			decide(&s);
			next_tick += tick;
		}
	}
	if (s.err) {
		r = s.err;
		goto fail;
	}
	advance(&s, s.end);
	for (size_t i = 0; i < s.n_mods; i++) {
		struct smod *m = &s.mods[i];

		if (m->st == M_ABSENT)
			continue;
		if (m->main_pred && !m->used)
			s.r->m.wasted_loads++;
		span_close(&s, (int)i);
	}
	s.r->m.duration_s = (double)(s.end - s.start) / 1e9;
	s.r->start_ms = rel_ms(&s, s.start);
	s.r->end_ms = rel_ms(&s, s.end);
	sim_release(&s);
	*ret = s.r;
	return 0;
fail:
	sim_release(&s);
	pml_sim_result_free(s.r);
	return r;
}
