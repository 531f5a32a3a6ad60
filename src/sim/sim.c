/* Replay of one trace under one policy: a discrete-event loop over the trace's records, its
 * needs, load completions and ticks, on a simulated module set. What is simulated and what
 * is approximated is in sim.h; this file keeps to it, with the pieces sim-priv.h lists: the
 * module set (modset.c), the load worker (worker.c), needs arriving (stalls.c), the run's
 * ground truth (required.c), what is measured (metrics.c). Here: the loop, the pending
 * events, what the policy is told and when it decides.
 *
 * Events at the same instant go in this order: load completions and served needs (pending
 * events, in the order they were scheduled), then the need itself, then the trace record,
 * then the tick. So a module whose load completes exactly at its need is a hit, and the
 * policy sees a need before the record that caused it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-priv.h"
#include "util/log.h"

static uint64_t sim_now(void *data)
{
	return ((struct sim *)data)->now;
}

/* ---- pending events ---- */

void sim_push(struct sim *s, uint64_t t, enum pend_kind kind, int idx)
{
	size_t i;

	if (s->n_heap == s->cap_heap) {
		size_t cap = s->cap_heap ? 2 * s->cap_heap : 64;
		struct pend *h = realloc(s->heap, cap * sizeof(*h));

		if (!h) {
			sim_oom(s);
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

void sim_tell(struct sim *s, enum pml_pol_event_kind kind, const char *module,
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
void sim_tell_module_record(struct sim *s, unsigned kind, const char *name)
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

static void load_done(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];

	if (m->st != M_LOADING || m->t_done != s->now)
		return; /* stale */
	m->st = M_LOADED;
	sim_span_loaded(s, i);
	s->dirty = true;
	if (m->by_worker) {
		s->cur = -1;
		s->r->m.prefetched++;
		if (m->main_pred)
			s->r->m.predicted_loads++;
	}
	pml_resource_loaded(s->res, m->cm->name, m->cm->bytes, m->users);
	sim_tell_module_record(s, PML_TEV_MOD_LOAD, m->cm->name);
	sim_tell(s, PML_POL_LOAD, m->cm->name, NULL, m->cm->bytes, m->by_worker);
	if (m->by_worker)
		sim_worker_step(s);
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
			sim_oom(s);
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
		l->n_holders = sim_holders(s, (int)i);
	}
	k = pml_policy_decide(s->pol, s->loaded, n, acts, ACTIONS_MAX);
	if (k < 0) {
		if (k == -ENOMEM)
			sim_oom(s);
		return;
	}
	/* Loads first: the program may be about to need them; an unload can wait. */
	for (int i = 0; i < k; i++)
		if (acts[i].kind == PML_ACT_LOAD)
			sim_do_load(s, &acts[i]);
	for (int i = 0; i < k; i++) {
		int j;

		if (acts[i].kind != PML_ACT_UNLOAD)
			continue;
		j = sim_mod_index(s, acts[i].module);
		if (j >= 0)
			sim_unload(s, j);
	}
}

static void sync_resource(struct sim *s)
{
	struct pml_res_loaded *l;
	size_t n = 0;

	l = calloc(s->n_mods ? s->n_mods : 1, sizeof(*l));
	if (!l) {
		sim_oom(s);
		return;
	}
	for (size_t i = 0; i < s->n_mods; i++) {
		const struct smod *m = &s->mods[i];

		if (m->st != M_LOADED || m->base)
			continue;
		l[n].name = m->cm->name;
		l[n].bytes = m->cm->bytes;
		l[n].refcnt = m->users + sim_holders(s, (int)i);
		n++;
	}
	if (pml_resource_sync(s->res, l, n) == -ENOMEM)
		sim_oom(s);
	free(l);
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
		if (sim_process_exit(s, h->pid) < 0) {
			sim_oom(s);
			return;
		}
		break;
	default:
		sim_reuse(s, ri, h);
		break;
	}
	pml_policy_observe(s->pol, &ev);
	if (h->kind != PML_TEV_SYSCALL)
		decide(s);
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
	r = sim_required(s->t, s->cat, &s->req, s->req_of);
	if (r < 0)
		return r;
	pcfg.clock = &s->clock;
	r = sim_future_build(s);
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
	pml_driver_init(&s->drv, &sim_replay_ops, s, s->pol, s->res);
	s->drv.watch = s->cfg->on_drive;
	s->drv.watch_data = s->cfg->on_drive_data;
	/* Modules of the recorded run, so the required sets are known by index. */
	for (size_t i = 0; i < s->t->needs.n; i++)
		for (uint32_t j = 0; j < s->t->needs.v[i].n_loaded; j++) {
			int k = sim_mod_index(s, s->t->needs.v[i].loaded[j]);

			if (k == -ENOMEM)
				return k;
			if (k >= 0)
				s->mods[k].in_run = true;
		}
	n_base = pml_sim_catalog_base(s->cat, &base);
	for (size_t i = 0; i < n_base; i++) {
		int k = sim_mod_index(s, base[i]);

		if (k == -ENOMEM)
			return k;
		if (k < 0)
			continue;
		s->mods[k].st = M_LOADED;
		s->mods[k].base = true;
		pml_resource_set_base(s->res, s->mods[k].cm->name, s->mods[k].cm->bytes);
		sim_tell(s, PML_POL_BASE, s->mods[k].cm->name, NULL, s->mods[k].cm->bytes,
			 false);
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
		sim_advance(&s, tt);
		if (t_pend == tt) {
			struct pend p = pop(&s);

			if (p.kind == P_DONE) {
				load_done(&s, p.idx);
				decide(&s);
			} else if (p.kind == P_SERVE) {
				sim_serve(&s, (size_t)p.idx);
				decide(&s);
			} else {
				s.wake_pending = false;
				sim_worker_step(&s);
			}
		} else if (t_need == tt) {
			sim_need_arrives(&s, ni++);
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
	sim_advance(&s, s.end);
	for (size_t i = 0; i < s.n_mods; i++) {
		struct smod *m = &s.mods[i];

		if (m->st == M_ABSENT)
			continue;
		if (m->main_pred && !m->used)
			s.r->m.wasted_loads++;
		sim_span_close(&s, (int)i);
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

