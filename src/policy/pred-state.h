/* The bookkeeping a prefetching policy keeps per module: which modules the program
 * needed, which are loaded, which this policy asked for, which its loads brought in and
 * whether they were used since, and the take-back of a prefetch left unused. markov,
 * names and lstm (with slots, learned and lstm-model) each embed a struct pml_pred_mod in
 * their own per-module record and keep their own decisions: what to ask for, when, with
 * what confidence, and how long an unused prefetch may stay (their idle deadline).
 *
 * A prediction is "used" when its module is needed, used again, or found with a refcount
 * or holders above 0; an unused one is taken back once idle past the policy's deadline.
 * The time of an unused prefetch runs from its load, and again from an unload of it that
 * was refused (PML_POL_BUSY), so a refused one is retried after the deadline, not every
 * tick. */
#ifndef PML_POLICY_PRED_STATE_H
#define PML_POLICY_PRED_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct pml_pred_mod {
	bool needed;	     /* used by the program (first use seen), or base */
	bool loaded;
	bool asked;	     /* a prefetch was asked for and not taken back */
	bool predicted;	     /* loaded by a prediction ... */
	bool used;	     /* ... and used since */
	bool queued;	     /* waiting in the policy's candidates (names, lstm) */
	uint64_t loaded_at;  /* of the prediction's load, or of a refused unload */
	uint64_t hold_until; /* not taken back before (a naming: name-rules.h); 0 none */
};

/* A use of m (a need, a later use, a refcount seen): the prediction that loaded it, if
 * any, was right. */
static inline void pml_pred_use(struct pml_pred_mod *m)
{
	if (m->predicted)
		m->used = true;
}

/* m was inserted by the load worker for a prediction (ev->predicted) at t_ns: it counts
 * as this policy's prefetch unless it was loaded or needed already. */
static inline void pml_pred_loaded_predicted(struct pml_pred_mod *m, uint64_t t_ns)
{
	if (!m->loaded && !m->needed) {
		m->predicted = true;
		m->loaded_at = t_ns;
	}
	m->loaded = true;
}

/* m was removed: no longer loaded, predicted or asked for (a prediction may ask again).
 * Whether its need is forgotten too is the policy's (pml_pred_observe forgets it). */
static inline void pml_pred_gone(struct pml_pred_mod *m)
{
	m->loaded = m->predicted = m->used = m->asked = false;
}

/* The bookkeeping of one module event (ev->kind other than TRACE and PRIOR, which it
 * ignores) about m, as names and lstm keep it: BASE is needed and loaded; REQUEST, NEED
 * and USE use it (REQUEST and NEED: needed); a predicted LOAD is a prefetch
 * (pml_pred_loaded_predicted), anyone else's LOAD of a module not asked for is a need;
 * UNLOAD forgets it all, the need too (a later use is a need again); BUSY (an unload
 * refused: something holds it) uses it and restarts its idle time. */
void pml_pred_observe(struct pml_pred_mod *m, const struct pml_pol_event *ev);

/* The module name in the loaded set mods[0..n), NULL when absent. */
const struct pml_loaded *pml_pred_in_set(const struct pml_loaded *mods, size_t n,
					 const char *name);

/* Whether m (module name) is an unused prefetch of this policy, for the take-back:
 * returns how long it has been idle (ms since loaded_at, 0 if the clock is behind), and
 * its entry in the loaded set in *ret_l; -1 when it is not: not predicted, used, needed,
 * held (now < hold_until) or not loaded. A module found with a refcount or holders above
 * 0 is marked used (-1). The policy compares the idle time with its own deadline. */
double pml_pred_unused_ms(struct pml_pred_mod *m, const char *name,
			  const struct pml_loaded *mods, size_t n, uint64_t now,
			  const struct pml_loaded **ret_l);

/* Fill *a as the take-back (PML_ACT_UNLOAD, confidence -1) of module, the reason from
 * fmt (cut to fit). */
void pml_pred_unload_action(struct pml_action *a, const char *module, const char *fmt,
			    ...) __attribute__((format(printf, 3, 4)));

/* The cost of loading module for an action: the driver's cost function when it gave one,
 * else the needs model's when there is one; -1 (unknown) each otherwise. */
void pml_pred_cost(const struct pml_policy *pol, const char *module, int64_t *ret_bytes,
		   double *ret_load_ms);

#endif
