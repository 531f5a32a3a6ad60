/* A prefetching policy's per-module bookkeeping (pred-state.h): the module events as
 * names and lstm record them, and the checks and actions of taking back an unused
 * prefetch that markov, names and lstm share. */
#include <stdarg.h>
#include <stdio.h>

#include "policy/needs-model.h"
#include "policy/pred-state.h"
#include "util/modname.h"

void pml_pred_observe(struct pml_pred_mod *m, const struct pml_pol_event *ev)
{
	switch (ev->kind) {
	case PML_POL_BASE:
		m->needed = m->loaded = true;
		break;
	case PML_POL_REQUEST:
	case PML_POL_NEED:
		m->needed = true;
		pml_pred_use(m);
		break;
	case PML_POL_USE: /* a later use (replay) */
		pml_pred_use(m);
		break;
	case PML_POL_LOAD:
		if (ev->predicted) {
			pml_pred_loaded_predicted(m, ev->t_ns);
			break;
		}
		/* loaded by someone else: the program uses it */
		if (!m->asked)
			m->needed = true;
		m->loaded = true;
		break;
	case PML_POL_UNLOAD:
		/* gone: a later use is a need again, a prediction may ask again */
		pml_pred_gone(m);
		m->needed = false;
		break;
	case PML_POL_BUSY:
		/* refused: something holds it (a reference, an interface of its kind), so
		 * the prediction was used; retried after the idle time again, not every
		 * tick */
		m->loaded_at = ev->t_ns;
		pml_pred_use(m);
		break;
	case PML_POL_TRACE:
	case PML_POL_PRIOR:
		break;
	}
}

const struct pml_loaded *pml_pred_in_set(const struct pml_loaded *mods, size_t n,
					 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pml_module_name_eq(name, mods[i].name))
			return &mods[i];
	return NULL;
}

double pml_pred_unused_ms(struct pml_pred_mod *m, const char *name,
			  const struct pml_loaded *mods, size_t n, uint64_t now,
			  const struct pml_loaded **ret_l)
{
	const struct pml_loaded *l;

	if (!m->predicted || m->used || m->needed || now < m->hold_until)
		return -1;
	l = pml_pred_in_set(mods, n, name);
	if (!l)
		return -1;
	if (l->refcnt > 0 || l->n_holders > 0) {
		m->used = true;
		return -1;
	}
	*ret_l = l;
	return now > m->loaded_at ? (double)(now - m->loaded_at) / 1e6 : 0;
}

void pml_pred_unload_action(struct pml_action *a, const char *module, const char *fmt,
			    ...)
{
	va_list ap;

	a->kind = PML_ACT_UNLOAD;
	snprintf(a->module, sizeof(a->module), "%s", module);
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	a->confidence = -1;
}

void pml_pred_cost(const struct pml_policy *pol, const char *module, int64_t *ret_bytes,
		   double *ret_load_ms)
{
	*ret_bytes = -1;
	*ret_load_ms = -1;
	if (pol->cfg.cost_fn)
		pol->cfg.cost_fn(pol->cfg.cost_data, module, ret_bytes, ret_load_ms);
	else if (pol->cfg.needs_model)
		pml_needs_model_cost(pol->cfg.needs_model, module, ret_bytes,
				     ret_load_ms);
}
