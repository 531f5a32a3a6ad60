/* A load a policy asks for, live: the request goes to the resource manager through the
 * negotiation driver (policy/driver.h), the one replay runs too, whose live backend is
 * here (the loop's loader plans and evicts, the load worker inserts); requests of the
 * resource API go the same way. The worker's results come back through pml_agent_collect:
 * load records (cause prefetch for the module asked for, dependency for the others), told
 * to the manager and the policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "policy/needs-model.h"
#include "resource/resource-api.h"
#include "resource/resource.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The bytes a load of act->module would add: the module and every dependency (softdeps
 * included) not loaded yet, from the loader's plan, each sized by the action's figure, the
 * needs model's (both measured sizes), else the loader's upper estimate from the .ko file
 * (lstm gives no sizes: counting 64 KiB for bridge's 320 let predictions pass a 1 MiB
 * budget by 13%), else 64 KiB. The budget holds for the whole closure, not the module alone
 * (nft_chain_nat is 16 KiB, with nf_conntrack and nf_nat 256 KiB more). -1 when the plan
 * fails (the manager then uses its own estimate). */
static int64_t plan_bytes(struct pml_agent *a, const struct pml_action *act)
{
	struct pml_op_result plan;
	int64_t total = 0;

	if (pml_loader_load(a->ld, act->module, PML_LOAD_DRY_RUN, &plan) < 0)
		return act->bytes > 0 ? act->bytes : -1;
	for (size_t i = 0; i < plan.n && i < PML_MOD_OP_MAX; i++) {
		int64_t b = -1;
		double ms;

		if (!plan.mods[i].done)
			continue;
		if (!strcmp(plan.mods[i].name, act->module) && act->bytes > 0)
			b = act->bytes;
		else if (a->cfg.needs_model)
			pml_needs_model_cost(a->cfg.needs_model, plan.mods[i].name, &b, &ms);
		if (b <= 0)
			b = pml_loader_estimate_bytes(a->ld, plan.mods[i].name);
		total += b > 0 ? b : 64 * 1024;
	}
	return total > 0 ? total : (act->bytes > 0 ? act->bytes : -1);
}

/* ---- the live backend of the negotiation driver (policy/driver.h): the loop's loader
 * plans and evicts, the load worker inserts ---- */

static bool live_busy(void *be, const char *module)
{
	struct pml_agent *a = be;

	return a->worker && pml_worker_has(a->worker, module);
}

static void live_cost(void *be, const struct pml_action *act, int64_t *ret_bytes,
		      double *ret_load_ms)
{
	*ret_bytes = plan_bytes(be, act);
	*ret_load_ms = act->load_ms > 0 ? act->load_ms : -1;
}

static int live_plan(void *be, const char *module, char (*names)[64], size_t max)
{
	struct pml_agent *a = be;
	struct pml_op_result *plan = calloc(1, sizeof(*plan));
	size_t n = 0;
	int r;

	if (!plan)
		return -ENOMEM;
	r = pml_loader_load(a->ld, module, PML_LOAD_DRY_RUN | PML_LOAD_PLAN_ALL, plan);
	for (size_t i = 0; r >= 0 && i < plan->n && i < PML_MOD_OP_MAX && n < max; i++)
		snprintf(names[n++], 64, "%s", plan->mods[i].name);
	free(plan);
	return r < 0 ? r : (int)n;
}

static int live_evict(void *be, const char *module, const struct pml_action *want)
{
	struct pml_action ev = {.kind = PML_ACT_UNLOAD, .confidence = -1};

	snprintf(ev.module, sizeof(ev.module), "%s", module);
	snprintf(ev.reason, sizeof(ev.reason), "evict: for %.40s (%.40s)", want->module,
		 want->reason);
	return agent_do_unload(be, &ev, PML_CAUSE_EVICT);
}

static int live_refcnt(void *be, const char *module)
{
	return pml_loader_refcnt(((struct pml_agent *)be)->ld, module);
}

static int live_submit(void *be, const struct pml_action *act)
{
	struct pml_agent *a = be;
	struct pml_load_job job = {0};
	int r;

	if (!a->worker)
		return -ENODEV;
	snprintf(job.module, sizeof(job.module), "%s", act->module);
	snprintf(job.reason, sizeof(job.reason), "%s", act->reason);
	job.confidence = act->confidence;
	/* Every load a policy asks for is a prediction; the API's are asked by others. */
	job.cause = a->api_load ? PML_CAUSE_API : PML_CAUSE_PREFETCH;
	job.basis = a->api_load ? PML_BASIS_NONE : act->basis;
	job.t_submit_ns = pml_now_ns();
	/* Watched before the worker can insert it (its thread writes the filter first, this
	 * only hands the set over): a use right after is seen too. */
	if (!pml_worker_has(a->worker, act->module) && agent_pred_expect(a, act->module))
		agent_watch_sync(a);
	r = pml_worker_submit(a->worker, &job);
	if (r < 0) {
		struct predicted *p = agent_pred_find(a, act->module);

		if (p && !p->loaded && r != -EEXIST)
			agent_pred_drop(a, act->module);
	}
	return r;
}

static void live_decided(void *be, const struct pml_action *act,
			 const struct pml_res_decision *d)
{
	agent_log_decision(be, act->module, act->reason, act->confidence, d);
}

const struct pml_driver_ops agent_live_ops = {
	.name = "live",
	.busy = live_busy,
	.cost = live_cost,
	.plan = live_plan,
	.evict = live_evict,
	.refcnt = live_refcnt,
	.submit = live_submit,
	.decided = live_decided,
};

/* Count what the driver did with a load, and say why one was not made. */
static void drove(struct pml_agent *a, const struct pml_action *act,
		  const struct pml_drive_result *res)
{
	a->stats.evictions += res->evicted;
	switch (res->outcome) {
	case PML_DRIVE_KEEPS_DEP:
		pml_agent_info(a, "resource: %s not loaded: making room would evict %s, "
			       "which it loads with", act->module, res->kept);
		break;
	case PML_DRIVE_EVICT_REFUSED:
		pml_agent_info(a, "resource: %s not loaded: evicting %s was refused (in use)",
			       act->module, res->kept);
		break;
	case PML_DRIVE_NOT_QUEUED:
		if (res->err == -ENODEV)
			pml_agent_info(a, "no load worker: %s not loaded", act->module);
		else
			pml_agent_error(a, res->err, "load worker: cannot queue %s: %s",
					act->module, strerror(-res->err));
		break;
	default:
		break;
	}
}

/* A load a policy asked for: a PREDICTION request to the manager, then carried out. */
void agent_do_load(struct pml_agent *a, const struct pml_action *act)
{
	struct pml_drive_result res;

	a->stats.predictions++;
	if (pml_driver_load(&a->drv, act, &res) < 0)
		return;
	if (res.outcome == PML_DRIVE_REFUSED)
		a->stats.refused++; /* the policy was told: it may ask again */
	drove(a, act, &res);
}

void agent_on_api_request(void *data, const struct pml_res_request *req,
			  const struct pml_res_decision *d)
{
	struct pml_agent *a = data;
	struct pml_action act = {.kind = PML_ACT_LOAD, .confidence = req->confidence};
	struct pml_drive_result res;

	snprintf(act.module, sizeof(act.module), "%s", req->module);
	snprintf(act.reason, sizeof(act.reason), "api: %s request", pml_res_kind_name(req->kind));
	agent_log_decision(a, act.module, act.reason, act.confidence, d);
	a->api_load = true;
	pml_driver_carry_out(&a->drv, &act, d, &res);
	a->api_load = false;
	drove(a, &act, &res);
}

int pml_agent_collect(struct pml_agent *a)
{
	struct pml_load_done done[16];
	int loaded = 0;
	size_t n;

	if (!a->worker)
		return 0;
	while ((n = pml_worker_collect(a->worker, done, 16)) > 0) {
		for (size_t i = 0; i < n; i++) {
			const struct pml_load_done *d = &done[i];
			bool main_done = false;

			for (size_t k = 0; k < d->res.n && k < PML_MOD_OP_MAX; k++) {
				const struct pml_mod_op *op = &d->res.mods[k];
				struct pml_event_rec rec;
				struct pml_pol_event pev = {.kind = PML_POL_LOAD, .t_ns = agent_now(a),
							    .module = op->name, .bytes = op->bytes,
							    .predicted = true};
				char reason[200];
				bool is_main = !strcmp(op->name, d->job.module);

				if (!op->done && !op->err)
					continue;
				pml_event_rec_init(&rec, op->err ? PML_EV_FAIL : PML_EV_LOAD);
				rec.module = op->name;
				rec.bytes = op->bytes;
				rec.ms = op->ms;
				rec.err = op->err;
				rec.confidence = d->job.confidence;
				/* Only the module predicted is of cause prefetch: the report
				 * counts those (and as wasted when unused). */
				rec.cause = is_main ? d->job.cause : PML_CAUSE_DEPENDENCY;
				if (is_main)
					rec.basis = d->job.basis;
				else
					rec.for_module = d->job.module;
				/* The queue's wait (from the decision's submit to the insert's
				 * start) is lead the prefetch lost before its load began. */
				if (is_main)
					snprintf(reason, sizeof(reason), "%s%s; queued %.1f ms",
						 op->err ? "load: " : "", d->job.reason,
						 d->wait_ms);
				else
					snprintf(reason, sizeof(reason), "%sdependency of %s, %s",
						 op->err ? "load: " : "", d->job.module,
						 d->job.reason);
				rec.reason = reason;
				agent_append(a, &rec);
				if (op->err) {
					a->stats.load_failed++;
					continue;
				}
				loaded++;
				a->stats.prefetched++;
				pml_resource_loaded(a->res, op->name, op->bytes, 0);
				pml_policy_observe(a->pol, &pev);
				if (is_main) {
					agent_pred_add(a, op->name);
					main_done = true;
				}
			}
			if (d->err < 0 && !main_done) {
				struct pml_pol_event pev = {.kind = PML_POL_UNLOAD, .t_ns = agent_now(a),
							    .module = d->job.module, .bytes = -1};

				if (!d->res.n) {
					struct pml_event_rec rec;
					char reason[200];

					pml_event_rec_init(&rec, PML_EV_FAIL);
					rec.module = d->job.module;
					rec.cause = d->job.cause;
					rec.basis = d->job.basis;
					rec.err = d->err;
					rec.confidence = d->job.confidence;
					snprintf(reason, sizeof(reason), "load: %s", d->job.reason);
					rec.reason = reason;
					agent_append(a, &rec);
					a->stats.load_failed++;
				}
				pml_resource_release(a->res, d->job.module);
				pml_policy_observe(a->pol, &pev);
			} else if (!main_done) {
				/* Already loaded (by the shim, on a need that came first). */
				pml_resource_loaded(a->res, d->job.module, -1, 0);
			}
			if (!main_done) {
				struct predicted *p = agent_pred_find(a, d->job.module);

				if (p && !p->loaded) /* no prefetch after all */
					agent_pred_drop(a, d->job.module);
			}
		}
	}
	agent_watch_sync(a);
	return loaded;
}

int pml_agent_wait_idle(struct pml_agent *a, int timeout_ms)
{
	uint64_t end = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int total = 0;

	if (!a->worker)
		return 0;
	while (pml_worker_busy(a->worker)) {
		int got = pml_agent_collect(a);

		total += got;
		if (got > 0)
			continue;
		if (pml_now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return total + pml_agent_collect(a);
}
