/* Asking the policy and carrying out its decisions: after a kernel event, after a drained
 * batch of the trace and at every tick (which also tells the resource manager what the
 * kernel shows), loads first (prefetch.c), then unloads; an unload the policy asks for or
 * an eviction the manager plans, through the loop's loader, with pins and refusals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-priv.h"
#include "resource/resource.h"
#include "util/event-log.h"
#include "util/log.h"

#define ACTIONS_MAX 64

/* Whether a prefetch about to be unloaded was used after all: a reference the source has
 * not been read for yet (the trace's drain decides before the source's). Reads the source
 * first, deciding nothing on what it reads. */
static bool used_unread(struct pml_agent *a, const char *module)
{
	struct predicted *p = agent_pred_find(a, module);

	if (!p || p->used || !p->loaded || !a->src || a->watch_off || a->draining)
		return false;
	a->draining = true;
	if (agent_drain_source(a, a->src) < 0)
		pml_dbg("%s: read before unloading %s failed", a->src->ops->name, module);
	a->draining = false;
	p = agent_pred_find(a, module);
	return p && p->used;
}

/* Carry out an unload a policy asked for (cause policy) or the manager's eviction (evict). */
int agent_do_unload(struct pml_agent *a, const struct pml_action *act,
		    enum pml_event_cause cause)
{
	struct pml_op_result res = {0};
	struct pml_pol_event pev = {.kind = PML_POL_BUSY, .module = act->module, .bytes = -1};
	unsigned flags = PML_UNLOAD_DEPS;
	int removed = 0, r;

	/* used just now (the policy is told): not idle, whatever it decided before */
	if (used_unread(a, act->module))
		return 0;

	/* The loader keeps the base set itself; pins by rule (the policy file's globs) it does
	 * not know, so a dependency it would take along is checked here first. */
	if (a->cfg.pinned_fn &&
	    pml_loader_unload(a->ld, act->module, flags | PML_UNLOAD_DRY_RUN, &res) == 0) {
		for (size_t i = 1; i < res.n && i < PML_MOD_OP_MAX; i++)
			if (pml_policy_is_protected(a->pol, res.mods[i].name)) {
				pml_dbg("unload %s: dependency %s is pinned, leaving all its "
					"dependencies", act->module, res.mods[i].name);
				flags = 0;
				break;
			}
	}
	r = pml_loader_unload(a->ld, act->module, flags, &res);
	pev.t_ns = agent_now(a);
	if (r == -EBUSY || r == -EAGAIN || r == -EPERM) {
		/* Not yet (in use again) or not ours to remove: the policy waits T again.
		 * A prefetch refused as busy has users (a reference, interfaces of its
		 * kind that hold none): it was used. */
		a->stats.unload_busy++;
		pml_dbg("unload %s: %s, later", act->module, strerror(-r));
		if (r == -EBUSY)
			agent_pred_used(a, act->module, PML_VIA_BUSY, "unload refused: in use");
		pml_policy_observe(a->pol, &pev);
		return 0;
	}
	if (r == -ENOENT) {
		pev.kind = PML_POL_UNLOAD; /* gone by other hands */
		pml_policy_observe(a->pol, &pev);
		return 0;
	}
	for (size_t i = 0; i < res.n && i < PML_MOD_OP_MAX; i++) {
		const struct pml_mod_op *op = &res.mods[i];
		const struct pml_loaded *m = agent_find_mod(a, op->name);

		if (!op->done && !op->err)
			continue;
		if (op->err == -EBUSY || op->err == -EAGAIN || op->err == -EPERM) {
			/* The kernel refused (a reference appeared since the check), or a
			 * dependency's objects may live on without a reference
			 * (loader/unpinned.c): kept. */
			a->stats.unload_busy++;
			continue;
		}
		agent_log_unload(a, act, cause, op, m ? m->bytes : -1);
		if (op->err) {
			a->stats.unload_failed++;
			continue;
		}
		removed++;
		a->stats.unloads++;
		pev.kind = PML_POL_UNLOAD;
		pev.module = op->name;
		pml_policy_observe(a->pol, &pev);
	}
	if (r < 0 && !res.n) {
		struct pml_event_rec rec;
		char reason[160];

		a->stats.unload_failed++;
		pml_event_rec_init(&rec, PML_EV_FAIL);
		rec.module = act->module;
		rec.cause = cause;
		rec.err = r;
		snprintf(reason, sizeof(reason), "unload: %s", act->reason);
		rec.reason = reason;
		agent_append(a, &rec);
		pml_err("unload %s: %s", act->module, strerror(-r));
	}
	if (r < 0) {
		pev.kind = PML_POL_BUSY; /* retry after T, not every tick */
		pev.module = act->module;
		pml_policy_observe(a->pol, &pev);
	}
	return removed;
}

/* Tell the manager what the kernel shows: sizes, refcounts, modules gone or loaded by
 * others; and mark prefetched modules in use. */
static void sync_resource(struct pml_agent *a)
{
	struct pml_res_loaded *l = calloc(a->n_mods ? a->n_mods : 1, sizeof(*l));

	for (size_t i = 0; i < a->n_pred; i++) {
		const struct pml_loaded *m = agent_find_mod(a, a->pred[i].name);
		char how[64];

		if (!m || a->pred[i].used || (m->refcnt <= 0 && m->n_holders <= 0))
			continue;
		snprintf(how, sizeof(how), "refcount %d, %d holders", m->refcnt, m->n_holders);
		agent_pred_used(a, a->pred[i].name, PML_VIA_REFCOUNT, how);
	}
	if (!l)
		return;
	for (size_t i = 0; i < a->n_mods; i++) {
		l[i].name = a->mods[i].name;
		l[i].bytes = a->mods[i].bytes;
		l[i].refcnt = a->mods[i].refcnt + a->mods[i].n_holders;
	}
	pml_resource_sync(a->res, l, a->n_mods);
	free(l);
}

/* Read the module set, ask the policy, carry out its unloads and loads. Returns the
 * number of modules removed, or -errno when the module set cannot be read. */
int agent_act_on(struct pml_agent *a, bool tick, bool fresh)
{
	struct pml_action acts[ACTIONS_MAX];
	int n, removed = 0;

	if (!a->pol->ops->decide)
		return 0;
	n = fresh ? agent_refresh(a) : (int)a->n_mods;
	if (n < 0) {
		if (!a->list_failing)
			pml_agent_error(a, n, "cannot list the loaded modules (/proc/modules): "
					"%s; no idle checks until it can", strerror(-n));
		a->list_failing = true;
		return n;
	}
	if (a->list_failing)
		pml_agent_info(a, "the module list reads again");
	a->list_failing = false;
	if (tick)
		sync_resource(a);
	n = pml_policy_decide(a->pol, a->mods, a->n_mods, acts, ACTIONS_MAX);
	if (n < 0) {
		pml_agent_error(a, n, "policy %s: %s", a->pol->ops->name, strerror(-n));
		return 0;
	}
	/* Loads first: the program may be about to need them; an unload can wait. */
	for (int i = 0; i < n; i++)
		if (acts[i].kind == PML_ACT_LOAD)
			agent_do_load(a, &acts[i]);
	for (int i = 0; i < n; i++)
		if (acts[i].kind == PML_ACT_UNLOAD)
			removed += agent_do_unload(a, &acts[i], PML_CAUSE_POLICY);
	return removed;
}

static int act(struct pml_agent *a, bool tick)
{
	return agent_act_on(a, tick, true);
}

int pml_agent_tick(struct pml_agent *a)
{
	a->stats.ticks++;
	if (a->worker && a->n_misses && agent_now(a) - a->miss_since > MISS_HOLD_MAX_NS)
		agent_misses_clear(a);
	return act(a, true);
}
