/* Replay's load worker and its backend of the negotiation driver (policy/driver.h): the
 * driver asks the simulated set (busy, cost, plan, evict, refcnt) and submits to one
 * asynchronous worker, FIFO, a module at a time, dependencies first, each taking its
 * catalog load time, as pmld's. A stalled need holds the worker (hold_until). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-priv.h"

/* ---- the load worker ---- */

void sim_worker_step(struct sim *s)
{
	if (s->cur >= 0)
		return;
	if (s->now < s->hold_until) {
		if (!s->wake_pending) {
			sim_push(s, s->hold_until, P_WAKE, -1);
			s->wake_pending = true;
		}
		return;
	}
	while (s->job_head < s->n_jobs) {
		struct job *j = &s->jobs[s->job_head];
		struct smod *mm;
		int next = -1;

		if (sim_order_of(s, j->mod) < 0) {
			sim_oom(s);
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
		if (sim_order_of(s, next) < 0) {
			sim_oom(s);
			return;
		}
		j = &s->jobs[s->job_head];
		{
			struct smod *n = &s->mods[next];

			n->st = M_LOADING;
			sim_present(s, next, true);
			n->by_worker = true;
			n->main_pred = next == j->mod;
			n->used = false;
			n->t_done = s->now + ms_ns(n->cm->load_ms);
			if (n->first_grant == NEVER)
				n->first_grant = s->now;
			if (next == j->mod)
				j->started_main = true;
			sim_span_open(s, next, s->now);
			sim_push(s, n->t_done, P_DONE, next);
			s->cur = next;
			s->dirty = true;
		}
		return;
	}
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
	int i = sim_mod_index(s, module);
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
	int i = sim_mod_index(s, act->module);
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
	int i = sim_mod_index(s, module);
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
	int e = sim_mod_index(s, module);

	return e < 0 ? 0 : sim_unload(s, e);
}

static int replay_refcnt(void *be, const char *module)
{
	struct sim *s = be;
	int e = sim_mod_index(s, module);

	return e < 0 || s->mods[e].st == M_ABSENT ? -ENOENT : s->mods[e].users;
}

static int replay_submit(void *be, const struct pml_action *act)
{
	struct sim *s = be;
	int i = sim_mod_index(s, act->module);

	if (i < 0)
		return i;
	if (s->n_jobs == s->cap_jobs) {
		size_t cap = s->cap_jobs ? 2 * s->cap_jobs : 64;
		struct job *n = realloc(s->jobs, cap * sizeof(*n));

		if (!n) {
			sim_oom(s);
			return -ENOMEM;
		}
		s->jobs = n;
		s->cap_jobs = cap;
	}
	s->jobs[s->n_jobs++] = (struct job){.mod = i};
	s->mods[i].queued = true;
	if (s->mods[i].first_grant == NEVER)
		s->mods[i].first_grant = s->now;
	sim_worker_step(s);
	return 0;
}

const struct pml_driver_ops sim_replay_ops = {
	.name = "replay",
	.busy = replay_busy,
	.cost = replay_cost,
	.plan = replay_plan,
	.evict = replay_evict,
	.refcnt = replay_refcnt,
	.submit = replay_submit,
};

void sim_do_load(struct sim *s, const struct pml_action *a)
{
	struct pml_drive_result res;
	struct pml_action act = *a;
	int i = sim_mod_index(s, a->module);

	s->r->m.asks++;
	if (i < 0) {
		if (i == -ENOMEM)
			sim_oom(s);
		return;
	}
	if (sim_order_of(s, i) < 0) {
		sim_oom(s);
		return;
	}
	snprintf(act.module, sizeof(act.module), "%s", s->mods[i].cm->name);
	if (pml_driver_load(&s->drv, &act, &res) < 0) {
		sim_oom(s);
		return;
	}
	s->r->m.evictions += res.evicted;
	switch (res.outcome) {
	case PML_DRIVE_SKIPPED:
	case PML_DRIVE_PRESENT:
		sim_ask_record(s, a, PML_SIM_IGNORED);
		break;
	case PML_DRIVE_QUEUED:
		sim_ask_record(s, a, PML_SIM_GRANTED);
		break;
	default:
		/* Refused by the manager, or granted only by an eviction that could not be
		 * made (driver.h's two rules): not loaded either way. */
		s->r->m.refused++;
		sim_ask_record(s, a, PML_SIM_REFUSED);
		break;
	}
}
