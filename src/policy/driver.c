/* The negotiation driver: one path from a policy's load to the load worker for pmld and
 * replay, the backend doing each step; see driver.h for the rules and why they are here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/driver.h"
#include "util/modname.h"

/* A plan larger than this is cut (the loader's own is at most PML_MOD_OP_MAX). */
#define PLAN_MAX 64

const char *pml_drive_outcome_name(enum pml_drive_outcome o)
{
	switch (o) {
	case PML_DRIVE_SKIPPED:
		return "skipped";
	case PML_DRIVE_REFUSED:
		return "refused";
	case PML_DRIVE_PRESENT:
		return "present";
	case PML_DRIVE_NO_PLAN:
		return "no-plan";
	case PML_DRIVE_KEEPS_DEP:
		return "keeps-dependency";
	case PML_DRIVE_EVICT_REFUSED:
		return "evict-refused";
	case PML_DRIVE_NOT_QUEUED:
		return "not-queued";
	case PML_DRIVE_QUEUED:
		return "queued";
	}
	return "?";
}

void pml_driver_init(struct pml_driver *drv, const struct pml_driver_ops *ops, void *be,
		     struct pml_policy *pol, struct pml_resource *res)
{
	memset(drv, 0, sizeof(*drv));
	drv->ops = ops;
	drv->be = be;
	drv->pol = pol;
	drv->res = res;
}

static void done(struct pml_driver *drv, const struct pml_action *act,
		 struct pml_drive_result *ret, enum pml_drive_outcome o)
{
	ret->outcome = o;
	if (drv->watch)
		drv->watch(drv->watch_data, act, ret);
}

/* The evicted module the load of module would need back, into ret->kept; -errno when the
 * load cannot be planned. */
static int keeps_dep(struct pml_driver *drv, const char *module,
		     const struct pml_res_decision *d, struct pml_drive_result *ret)
{
	char plan[PLAN_MAX][64];
	int n = drv->ops->plan(drv->be, module, plan, PLAN_MAX);

	if (n < 0)
		return n;
	for (size_t i = 0; i < d->n_evict; i++)
		for (int k = 0; k < n && k < PLAN_MAX; k++)
			if (pml_module_name_eq(plan[k], d->evict[i])) {
				snprintf(ret->kept, sizeof(ret->kept), "%s", d->evict[i]);
				return 0;
			}
	return 0;
}

void pml_driver_carry_out(struct pml_driver *drv, const struct pml_action *act,
			  const struct pml_res_decision *d, struct pml_drive_result *ret)
{
	int r;

	if (&ret->d != d)
		ret->d = *d;
	ret->err = 0;
	ret->evicted = 0;
	ret->kept[0] = '\0';
	if (d->verdict == PML_RES_REFUSE) {
		done(drv, act, ret, PML_DRIVE_REFUSED);
		return;
	}
	if (d->present) {
		done(drv, act, ret, PML_DRIVE_PRESENT);
		return;
	}
	if (d->n_evict) {
		r = keeps_dep(drv, act->module, d, ret);
		if (r < 0 || ret->kept[0]) {
			pml_resource_release(drv->res, act->module);
			ret->err = r < 0 ? r : 0;
			done(drv, act, ret, r < 0 ? PML_DRIVE_NO_PLAN : PML_DRIVE_KEEPS_DEP);
			return;
		}
	}
	for (size_t i = 0; i < d->n_evict; i++) {
		if (drv->ops->evict(drv->be, d->evict[i], act) > 0) {
			ret->evicted++;
			continue;
		}
		r = drv->ops->refcnt(drv->be, d->evict[i]);
		if (r >= 0) {
			/* Still there (in use again): the manager counts it again. */
			pml_resource_loaded(drv->res, d->evict[i], -1, r);
			snprintf(ret->kept, sizeof(ret->kept), "%s", d->evict[i]);
		}
	}
	if (ret->kept[0]) {
		pml_resource_release(drv->res, act->module);
		done(drv, act, ret, PML_DRIVE_EVICT_REFUSED);
		return;
	}
	r = drv->ops->submit(drv->be, act);
	if (r < 0 && r != -EEXIST) {
		pml_resource_release(drv->res, act->module);
		ret->err = r;
		done(drv, act, ret, PML_DRIVE_NOT_QUEUED);
		return;
	}
	done(drv, act, ret, PML_DRIVE_QUEUED);
}

int pml_driver_load(struct pml_driver *drv, const struct pml_action *act,
		    struct pml_drive_result *ret)
{
	struct pml_res_request req = {
		.module = act->module,
		.kind = PML_RES_PREDICTION,
		.urgency_ms = act->lead_ms > 0 ? act->lead_ms : 0,
		.confidence = act->confidence < 0 ? 1 : act->confidence > 1 ? 1 : act->confidence,
	};
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->d.verdict = PML_RES_REFUSE;
	if (drv->ops->busy(drv->be, act->module)) {
		done(drv, act, ret, PML_DRIVE_SKIPPED);
		return 0;
	}
	drv->ops->cost(drv->be, act, &req.bytes, &req.load_ms);
	r = pml_resource_request(drv->res, &req, &ret->d);
	if (r == -ENOMEM) {
		ret->err = r;
		ret->outcome = PML_DRIVE_REFUSED;
		return r;
	}
	if (drv->ops->decided)
		drv->ops->decided(drv->be, act, &ret->d);
	if (ret->d.verdict == PML_RES_REFUSE) {
		/* The policy may ask again on a later trigger. */
		struct pml_pol_event pev = {.kind = PML_POL_UNLOAD, .t_ns = pml_policy_now(drv->pol),
					    .module = act->module, .bytes = -1};

		pml_policy_observe(drv->pol, &pev);
		done(drv, act, ret, PML_DRIVE_REFUSED);
		return 0;
	}
	pml_driver_carry_out(drv, act, &ret->d, ret);
	return 0;
}
