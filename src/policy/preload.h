/* The shared implementation of the two preloading baselines, load-all and static (they
 * differ only in which list their driver hands them: see load-all.c and static.c). Internal
 * to src/policy. */
#ifndef PML_POLICY_PRELOAD_H
#define PML_POLICY_PRELOAD_H

#include "policy/policy.h"

int pml_preload_init(struct pml_policy *p);
void pml_preload_observe(struct pml_policy *p, const struct pml_pol_event *ev);
int pml_preload_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		       struct pml_action *out, size_t max);
void pml_preload_free(struct pml_policy *p);

#endif
