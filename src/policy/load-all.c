/* The load-all policy: load, at start, every module any earlier run needed, and never
 * unload anything.
 *
 * It answers the question "what does perfect recall cost?". If the modules a machine's
 * jobs need form a small known set, loading all of it before the jobs need it removes
 * every stall that the set covers, whatever the job, with no prediction at all; the price
 * is holding the whole set for the whole run, whether this run uses a module or not. So
 * it bounds the footprint of the sensible policies from above, as the oracle bounds it
 * from below, and DESIGN.md reports footprints as ratios to both.
 *
 * The approximations, and what they cost:
 *  - "every module any earlier run needed" is the driver's list (config.preload): `pml
 *    eval` gives every module a training run loaded, the most often needed first, so that
 *    under a budget the resource manager grants the ones most likely to be used. A module
 *    outside the list (a job never seen) stalls as it would under reactive;
 *  - the list is loaded through the same single load worker as every prefetch, one module
 *    at a time in list order, from the moment the policy starts: a program that needs a
 *    module in its first hundred milliseconds may still stall while the list is loading.
 *    The cost of loading everything is paid while the program runs, not hidden before it
 *    (replay's preroll can give it a head start, the same for every policy);
 *  - every load is a prediction request to the resource manager, with a confidence by
 *    rank in the list (1 for the first, falling linearly): what does not fit the
 *    budget is refused and not asked again, since nothing will make room (this policy
 *    never unloads, and the manager evicts only modules of lower value).
 * The implementation is shared with the static policy (static.c), which differs only in
 * the list its driver gives it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/needs-model.h"
#include "policy/preload.h"
#include "util/modname.h"

struct preload_state {
	char (*names)[64];
	bool *asked; /* asked for once (granted, refused or found loaded) */
	size_t n;
	size_t first; /* names before it are all asked */
};

int pml_preload_init(struct pml_policy *p)
{
	struct preload_state *s = calloc(1, sizeof(*s));
	size_t n = p->cfg.n_preload;

	if (!s)
		return -ENOMEM;
	s->names = calloc(n ? n : 1, sizeof(*s->names));
	s->asked = calloc(n ? n : 1, sizeof(*s->asked));
	if (!s->names || !s->asked) {
		free(s->names);
		free(s->asked);
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		char norm[64];
		bool dup = false;

		if (!p->cfg.preload[i] || pml_module_name_normalize(p->cfg.preload[i], norm) < 0 ||
		    !*norm)
			continue;
		for (size_t k = 0; k < s->n && !dup; k++)
			dup = !strcmp(s->names[k], norm);
		if (!dup)
			memcpy(s->names[s->n++], norm, sizeof(norm));
	}
	/* The list is copied: the driver's strings need not outlive the policy. */
	p->cfg.preload = NULL;
	p->cfg.n_preload = s->n;
	p->priv = s;
	return 0;
}

void pml_preload_free(struct pml_policy *p)
{
	struct preload_state *s = p->priv;

	if (!s)
		return;
	free(s->names);
	free(s->asked);
	free(s);
}

void pml_preload_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	/* Nothing to learn: the list is fixed, a refused load is not asked again, and a
	 * module loaded by a need is found in the module set by decide(). */
	(void)p;
	(void)ev;
}

static bool loaded(const struct pml_loaded *mods, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pml_module_name_eq(mods[i].name, name))
			return true;
	return false;
}

int pml_preload_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		       struct pml_action *out, size_t max)
{
	struct preload_state *s = p->priv;
	size_t k = 0;

	for (size_t i = s->first; i < s->n && k < max; i++) {
		struct pml_action *a;

		if (s->asked[i])
			continue;
		s->asked[i] = true;
		if (loaded(mods, n, s->names[i]) || pml_policy_is_protected(p, s->names[i]))
			continue;
		a = &out[k++];
		a->kind = PML_ACT_LOAD;
		a->basis = PML_BASIS_LIST;
		snprintf(a->module, sizeof(a->module), "%s", s->names[i]);
		/* "prediction": the report counts it with the predicted (and wasted) loads */
		snprintf(a->reason, sizeof(a->reason), "prediction: %s, listed %zu of %zu",
			 p->ops->name, i + 1, s->n);
		/* by rank, the first 1: under a budget the manager keeps the most needed and
		 * never evicts one listed earlier for one listed later */
		a->confidence = 1.0 - (double)i / (double)s->n;
		a->lead_ms = 0; /* wanted now: the list is loaded as soon as it can be */
		a->bytes = -1;
		a->load_ms = -1;
		if (p->cfg.cost_fn)
			p->cfg.cost_fn(p->cfg.cost_data, s->names[i], &a->bytes, &a->load_ms);
		else if (p->cfg.needs_model)
			pml_needs_model_cost(p->cfg.needs_model, s->names[i], &a->bytes,
					     &a->load_ms);
	}
	while (s->first < s->n && s->asked[s->first])
		s->first++;
	return (int)k;
}

const struct pml_policy_ops pml_policy_load_all = {
	.name = "load-all",
	.summary = "load every module earlier runs needed, at start; never unload",
	.init = pml_preload_init,
	.observe = pml_preload_observe,
	.decide = pml_preload_decide,
	.free = pml_preload_free,
};
