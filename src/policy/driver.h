/* The negotiation driver: what happens to a load a policy asked for, between the policy and
 * the module set, once for pmld (src/agent) and replay (src/sim). A load is a PREDICTION
 * request to the resource manager, sized by what the load would add; a refusal is told to
 * the policy (so it may ask again on a later trigger); a grant after evictions is carried
 * out only if making room takes nothing the module loads with and every eviction goes
 * through; then the load is queued on the load worker.
 *
 * The two drivers of the policies differ only in how a step is done, which a backend table
 * says (struct pml_driver_ops, as loader-backend.h separates the loader's backends): live,
 * the loader plans and unloads and the load worker thread inserts; in replay, the
 * simulated module set answers and the simulated worker takes the catalog's load times.
 * The rules are here, so replay's numbers are those of the rules pmld runs.
 *
 * The two rules a grant after evictions must pass, and why:
 *  - never evict what the module loads with (bridge's stp and llc): the load would need
 *    them back, and a kernel request for the module racing the eviction fails on the
 *    missing symbols;
 *  - never load when an eviction was refused (the module got a user since the manager
 *    counted it idle): the room was not made, and loading anyway would pass the budget.
 * Either way the granted module is released from the manager's accounts and not loaded.
 * (The policy is not told, as pmld never told it: it just sees no load.) */
#ifndef PML_POLICY_DRIVER_H
#define PML_POLICY_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "resource/resource.h"

/* What came of one load (pml_driver_load, pml_driver_carry_out). */
enum pml_drive_outcome {
	PML_DRIVE_SKIPPED,	   /* queued or under way already: nothing was asked */
	PML_DRIVE_REFUSED,	   /* the resource manager refused */
	PML_DRIVE_PRESENT,	   /* granted, and already loaded or granted before */
	PML_DRIVE_NO_PLAN,	   /* evictions to make, but the load could not be planned */
	PML_DRIVE_KEEPS_DEP,	   /* making room would evict what it loads with: not loaded */
	PML_DRIVE_EVICT_REFUSED,   /* an eviction was refused (in use): not loaded */
	PML_DRIVE_NOT_QUEUED,	   /* the worker could not take it (err) */
	PML_DRIVE_QUEUED,	   /* evictions done, the load is on the worker */
};

/* "skipped", "refused", "present", "no-plan", "keeps-dependency", "evict-refused",
 * "not-queued", "queued". */
const char *pml_drive_outcome_name(enum pml_drive_outcome o);

struct pml_drive_result {
	enum pml_drive_outcome outcome;
	int err;		   /* NO_PLAN, NOT_QUEUED: the backend's -errno */
	unsigned evicted;	   /* evictions that removed their module */
	char kept[64];		   /* KEEPS_DEP, EVICT_REFUSED: the module that stays */
	struct pml_res_decision d; /* the manager's decision (not for SKIPPED) */
};

/* How a driver does each step. be is the backend's own state. Module names are the
 * action's, as the policy wrote them. */
struct pml_driver_ops {
	const char *name;
	/* A load of module needs no request: it is queued or being loaded (replay, which
	 * knows its set exactly: or loaded, or a base module). */
	bool (*busy)(void *be, const char *module);
	/* The request's figures for act: the bytes and the load time of the module and what
	 * it needs that is not loaded yet; <0 where unknown (the manager estimates). */
	void (*cost)(void *be, const struct pml_action *act, int64_t *ret_bytes,
		     double *ret_load_ms);
	/* Every module a load of module brings or needs, itself included, loaded or not
	 * (its dependencies and softdeps): up to max names, the count, or -errno. */
	int (*plan)(void *be, const char *module, char (*names)[64], size_t max);
	/* Unload module to make room for want (act: want's action, for the log). Returns the
	 * modules removed (0: it stayed, in use, or was gone already) or -errno. */
	int (*evict)(void *be, const char *module, const struct pml_action *want);
	/* The refcount of module while it is loaded, -ENOENT when it is not. */
	int (*refcnt)(void *be, const char *module);
	/* Queue the load of act->module on the worker: 0, -EEXIST when it is queued
	 * already (not an error), or -errno (-ENODEV: no worker). */
	int (*submit)(void *be, const struct pml_action *act);
	/* Optional: the manager's decision on act, as soon as it is made (the decision
	 * log: before any eviction's record). */
	void (*decided)(void *be, const struct pml_action *act,
			const struct pml_res_decision *d);
};

/* Told every outcome (tests compare the two backends by it). */
typedef void (*pml_drive_watch_fn)(void *data, const struct pml_action *act,
				   const struct pml_drive_result *res);

/* A driver, embedded in its owner (pmld's agent, a replay); everything borrowed. */
struct pml_driver {
	const struct pml_driver_ops *ops;
	void *be;
	struct pml_policy *pol;
	struct pml_resource *res;
	pml_drive_watch_fn watch; /* may be NULL */
	void *watch_data;
};

void pml_driver_init(struct pml_driver *drv, const struct pml_driver_ops *ops, void *be,
		     struct pml_policy *pol, struct pml_resource *res);

/* A load the policy asked for (act->kind PML_ACT_LOAD): request, then carry out. ret is
 * always written. Returns 0, or -ENOMEM from the manager (ret: REFUSED). */
int pml_driver_load(struct pml_driver *drv, const struct pml_action *act,
		    struct pml_drive_result *ret);

/* Carry out a decision d the manager made on act->module (by pml_driver_load, or for a
 * client of the resource API): nothing when refused or present; else the two rules above,
 * the evictions, and the load on the worker. A load not made is released from the
 * manager's accounts. ret is always written. */
void pml_driver_carry_out(struct pml_driver *drv, const struct pml_action *act,
			  const struct pml_res_decision *d, struct pml_drive_result *ret);

#endif
