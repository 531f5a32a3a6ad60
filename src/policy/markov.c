/* The markov policy: prefetch the modules that usually follow the one just needed.
 *
 * The question a prefetcher must answer is "which module will this program need next,
 * and when?". The full answer depends on everything the program will do; we approximate
 * it with the cheapest signal that already reaches pmld, the needs themselves, and with a
 * first-order chain over them: P(B needed within a window | A just needed), counted from
 * the need sequences of earlier reactive runs (needs-model.h). Jobs on a machine repeat
 * themselves (the same container start, the same backup script), so the modules of one
 * step predict the next steps' well; a job never seen before simply gets no predictions
 * and runs reactively, which is the worst case and no worse than Linux as shipped.
 *
 * The approximations, and what they cost:
 *  - only the latest need conditions a prediction (no longer context): a module that
 *    follows A in one job and not in another gets the average of the two, and below the
 *    threshold it is left to the reactive path (a stall, not an error);
 *  - every successor within the window is a candidate at once, not only the next one: a
 *    prefetch pays only if it completes before the need, so the earliest signal wins even
 *    if it is less precise; candidates are handed out nearest need first (the load worker
 *    is FIFO), and the model's typical gap goes to the resource manager as the urgency,
 *    so far ones are refused first when the budget is tight;
 *  - a need is a first use in the run, so each module triggers once: a loop of the same
 *    needs cannot make the policy loop.
 * A prediction that was wrong costs memory and exposure until it is taken back: a module
 * loaded by prediction and not used (no need for it, refcount never seen above 0 with no
 * holders) for idle_seconds plus twice its expected gap is unloaded, and the report counts
 * it as a wasted load. Modules the program really needed stay, as under reactive: this
 * policy adds prefetching to reactive, and the idle rule applies to its own mistakes only.
 *
 * What counts as "just needed" live: a kernel request resolved to its module (the agent
 * resolves aliases; PML_POL_REQUEST with module set), a need, or a load the agent did not
 * ask for (user space's modprobe calls reach pmld only as loads). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/needs-model.h"
#include "policy/policy.h"
#include "policy/pred-state.h"
#include "util/modname.h"

#define MK_PREDS_MAX 32

/* A module's bookkeeping (pred-state.h), with one difference from names' and lstm's: its
 * st.needed is "triggered", needed once in this run, and stays set when the module goes
 * (each module triggers its successors once). */
struct mk_mod {
	char name[64];
	struct pml_pred_mod st;
	double gap_ms; /* the expected gap of the prediction that loaded it */
};

struct mk_cand {
	char module[64];
	char trigger[64];
	double p, gap_ms;
};

struct mk_state {
	struct mk_mod *mods;
	size_t n, cap;
	struct mk_cand *cands; /* asked for, not yet handed out by decide() */
	size_t n_cands, cap_cands;
};

static struct mk_mod *find(struct mk_state *s, const char *name)
{
	char n[64];

	pml_module_name_normalize(name, n);
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->mods[i].name, n))
			return &s->mods[i];
	return NULL;
}

static struct mk_mod *get(struct mk_state *s, const char *name)
{
	struct mk_mod *m = find(s, name);

	if (m)
		return m;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct mk_mod *n = realloc(s->mods, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->mods = n;
		s->cap = cap;
	}
	m = &s->mods[s->n++];
	memset(m, 0, sizeof(*m));
	pml_module_name_normalize(name, m->name);
	return m;
}

static int mk_init(struct pml_policy *p)
{
	if (!p->cfg.needs_model)
		return -EINVAL;
	if (p->cfg.threshold <= 0)
		p->cfg.threshold = 0.5;
	if (p->cfg.idle_seconds <= 0)
		p->cfg.idle_seconds = 5.0;
	p->priv = calloc(1, sizeof(struct mk_state));
	return p->priv ? 0 : -ENOMEM;
}

static void mk_free(struct pml_policy *p)
{
	struct mk_state *s = p->priv;

	if (s) {
		free(s->mods);
		free(s->cands);
	}
	free(s);
}

static void push_cand(struct mk_state *s, const char *module, const char *trigger,
		      const struct pml_needs_pred *pr)
{
	struct mk_cand *c;

	if (s->n_cands == s->cap_cands) {
		size_t cap = s->cap_cands ? 2 * s->cap_cands : 32;
		struct mk_cand *n = realloc(s->cands, cap * sizeof(*n));

		if (!n)
			return; /* a prediction lost: the need stalls as under reactive */
		s->cands = n;
		s->cap_cands = cap;
	}
	c = &s->cands[s->n_cands++];
	snprintf(c->module, sizeof(c->module), "%s", module);
	snprintf(c->trigger, sizeof(c->trigger), "%s", trigger);
	c->p = pr->p;
	c->gap_ms = pr->gap_ms;
}

static int by_gap(const void *x, const void *y)
{
	const struct pml_needs_pred *a = x, *b = y;

	if (a->gap_ms != b->gap_ms)
		return a->gap_ms < b->gap_ms ? -1 : 1;
	return strcmp(a->module, b->module);
}

/* module was just needed: mark a prediction used, predict its successors once. */
static void trigger(struct pml_policy *p, const char *module)
{
	struct mk_state *s = p->priv;
	struct pml_needs_pred preds[MK_PREDS_MAX];
	struct mk_mod *m = get(s, module);
	char trig[64];
	int n;

	if (!m)
		return;
	pml_pred_use(&m->st);
	if (m->st.needed)
		return;
	m->st.needed = true;
	/* its name, kept: get() below may move s->mods, and m with it */
	memcpy(trig, m->name, sizeof(trig));
	n = pml_needs_model_predict(p->cfg.needs_model, module, p->cfg.threshold, preds,
				    MK_PREDS_MAX);
	/* The nearest need first: the worker loads in order, and a far one can wait. */
	if (n > 1)
		qsort(preds, (size_t)n, sizeof(preds[0]), by_gap);
	for (int i = 0; i < n; i++) {
		struct mk_mod *b = get(s, preds[i].module);

		if (!b || b->st.needed || b->st.asked || b->st.loaded)
			continue;
		/* beyond the horizon: left to a nearer trigger, or to the reactive path */
		if (p->cfg.horizon_ms > 0 && preds[i].gap_ms > p->cfg.horizon_ms)
			continue;
		b->st.asked = true;
		push_cand(s, b->name, trig, &preds[i]);
	}
}

/* The events as pred-state.h's pml_pred_observe() records them, but for a need (a trigger
 * of predictions, once), which a module's going does not forget, and a refused unload,
 * which only restarts the idle time. */
static void mk_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	struct mk_state *s = p->priv;
	struct mk_mod *m;

	if (!ev->module)
		return;
	switch (ev->kind) {
	case PML_POL_BASE:
		m = get(s, ev->module);
		if (m)
			m->st.needed = m->st.loaded = true;
		break;
	case PML_POL_REQUEST:
	case PML_POL_NEED:
		trigger(p, ev->module);
		break;
	case PML_POL_LOAD:
		m = get(s, ev->module);
		if (!m)
			break;
		if (ev->predicted) {
			pml_pred_loaded_predicted(&m->st, ev->t_ns);
			break;
		}
		/* The kernel's record of our own prefetch is no need; anyone else's load is. */
		m->st.loaded = true;
		if (!m->st.asked)
			trigger(p, ev->module);
		break;
	case PML_POL_UNLOAD:
		m = find(s, ev->module);
		if (m)
			pml_pred_gone(&m->st);
		break;
	case PML_POL_BUSY:
		m = find(s, ev->module);
		if (m)
			m->st.loaded_at = ev->t_ns;
		break;
	case PML_POL_USE:
		m = find(s, ev->module);
		if (m)
			pml_pred_use(&m->st);
		break;
	case PML_POL_TRACE: /* this policy reads needs, not the program's events */
	case PML_POL_PRIOR:
		break;
	}
}

static int mk_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		     struct pml_action *out, size_t max)
{
	struct mk_state *s = p->priv;
	uint64_t now = pml_policy_now(p);
	size_t k = 0, c;

	/* Prefetches first: they are what the program may be about to wait for. */
	for (c = 0; c < s->n_cands && k < max; c++) {
		const struct mk_cand *cd = &s->cands[c];
		struct mk_mod *m = find(s, cd->module);
		struct pml_action *a;

		if (pml_pred_in_set(mods, n, cd->module) ||
		    (m && (m->st.loaded || !m->st.asked)))
			continue;
		a = &out[k++];
		a->kind = PML_ACT_LOAD;
		a->basis = PML_BASIS_MODEL;
		snprintf(a->module, sizeof(a->module), "%s", cd->module);
		/* (the length is used: a long trigger name is cut, on purpose) */
		if (snprintf(a->reason, sizeof(a->reason), "prediction: after %s (p %.2f, gap "
			     "%.1f s)", cd->trigger, cd->p, cd->gap_ms / 1e3) < 0)
			a->reason[0] = '\0';
		a->confidence = cd->p;
		a->lead_ms = cd->gap_ms;
		a->bytes = -1;
		a->load_ms = -1;
		pml_needs_model_cost(p->cfg.needs_model, cd->module, &a->bytes, &a->load_ms);
		if (m)
			m->gap_ms = cd->gap_ms;
	}
	if (c) {
		memmove(s->cands, s->cands + c, (s->n_cands - c) * sizeof(*s->cands));
		s->n_cands -= c;
	}

	/* Then the mistakes: predicted, never used, past their deadline. */
	for (size_t i = 0; i < s->n && k < max; i++) {
		struct mk_mod *m = &s->mods[i];
		const struct pml_loaded *l = NULL;
		double idle_ms = pml_pred_unused_ms(&m->st, m->name, mods, n, now, &l);

		/* (st.needed adds nothing: a module triggered is never an unused one) */
		if (idle_ms < 0 || idle_ms < p->cfg.idle_seconds * 1e3 + 2 * m->gap_ms)
			continue;
		pml_pred_unload_action(&out[k++], l->name, "prediction unused for %.1f s",
				       idle_ms / 1e3);
	}
	return (int)k;
}

const struct pml_policy_ops pml_policy_markov = {
	.name = "markov",
	.summary = "reactive, plus prefetch of the modules that usually follow a need "
		   "(a needs model); unused prefetches are unloaded",
	.init = mk_init,
	.observe = mk_observe,
	.decide = mk_decide,
	.free = mk_free,
};
