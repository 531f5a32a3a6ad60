/* The oracle policy: knows every need of the run before it happens, loads each module so
 * that its load completes just in time, and unloads it right after its last use.
 *
 * It is the limit the other policies are measured against (DESIGN.md): never stalling
 * (when time allows) and holding the fewest module-bytes over time. It cannot run live;
 * replay gives it the run's needs (config.future: each need's loaded[] is every module it
 * requires, the dependency closure without the base set) and the modules' costs
 * (config.cost_fn). With both, "just in time" is a scheduling problem: one load worker
 * loads one module at a time, each need has a deadline (its time) and a length (the load
 * time of its modules not loaded yet), and the latest schedule that meets every deadline
 * is found backwards: the last need's loads end at its time, each earlier need's end at
 * its own time or when the next one's start, whichever comes first. Recomputed at every
 * decision from what is loaded now, so a module taken away (a dependency unloaded along
 * with its last user, a refused load) is simply scheduled again.
 *
 * The approximations, and what they cost:
 *  - the oracle acts when it is asked (replay calls decide() every tick, 10 ms, and after
 *    every event), so it asks for a load up to ORACLE_SLACK_MS before the schedule's
 *    latest start, not exactly at it: a few milliseconds of extra footprint per need;
 *  - a need earlier than the time its loads take after the start (a program that needs a
 *    module in its first milliseconds) stalls even here, for what could not be loaded
 *    since the start: the oracle knows the future, but it starts with the program (unless
 *    replay's preroll gives every policy time before it);
 *  - "right after its last use" is the first decision after the module's last need at
 *    which the module is not in use (refcount 0, no holders): replay's model of use (the
 *    needing process is alive) decides when that is, and an unload takes unused
 *    dependencies along as pmld's loader does, to be reloaded just in time if a later
 *    need wants them again;
 *  - its loads are predictions like any other policy's: the resource manager's budget
 *    applies, and a refused load is asked again at the next decision. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "dataset/needs.h"
#include "policy/policy.h"
#include "util/modname.h"

#define ORACLE_SLACK_MS 20.0
#define ORACLE_DEFAULT_LOAD_MS 50.0

struct or_state {
	char (*asked)[64]; /* loads asked for, not seen loaded or refused yet */
	size_t n_asked, cap_asked;
	/* scratch for decide(): per future need its start, and the modules claimed */
	double *start_ms;
	size_t cap_start;
	const char **claimed;
	size_t n_claimed, cap_claimed;
};

static int or_init(struct pml_policy *p)
{
	if (!p->cfg.future)
		return -EINVAL; /* only replay knows the future */
	p->priv = calloc(1, sizeof(struct or_state));
	return p->priv ? 0 : -ENOMEM;
}

static void or_free(struct pml_policy *p)
{
	struct or_state *s = p->priv;

	if (!s)
		return;
	free(s->asked);
	free(s->start_ms);
	free(s->claimed);
	free(s);
}

static ssize_t asked_find(const struct or_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_asked; i++)
		if (pml_module_name_eq(s->asked[i], name))
			return (ssize_t)i;
	return -1;
}

static void asked_drop(struct or_state *s, const char *name)
{
	ssize_t i = asked_find(s, name);

	if (i >= 0)
		memcpy(s->asked[i], s->asked[--s->n_asked], sizeof(s->asked[0]));
}

static int asked_add(struct or_state *s, const char *name)
{
	if (asked_find(s, name) >= 0)
		return 0;
	if (s->n_asked == s->cap_asked) {
		size_t cap = s->cap_asked ? 2 * s->cap_asked : 32;
		char(*a)[64] = realloc(s->asked, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		s->asked = a;
		s->cap_asked = cap;
	}
	pml_module_name_normalize(name, s->asked[s->n_asked++]);
	return 0;
}

static void or_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	struct or_state *s = p->priv;

	/* Loaded: decide() sees it in the module set from now on. Unloaded or refused:
	 * scheduled again if a need still wants it. */
	if (ev->module && (ev->kind == PML_POL_LOAD || ev->kind == PML_POL_UNLOAD))
		asked_drop(s, ev->module);
}

static const struct pml_loaded *in_set(const struct pml_loaded *mods, size_t n,
				       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pml_module_name_eq(mods[i].name, name))
			return &mods[i];
	return NULL;
}

/* Whether a need after now requires module. */
static bool needed_after(const struct pml_needs *f, uint64_t now, const char *module)
{
	for (size_t i = f->n; i-- > 0;) {
		const struct pml_need *nd = &f->v[i];

		if (nd->t_ns <= now)
			break; /* needs are in time order */
		for (uint32_t j = 0; j < nd->n_loaded; j++)
			if (pml_module_name_eq(nd->loaded[j], module))
				return true;
	}
	return false;
}

static double cost_ms(const struct pml_policy *p, const char *module)
{
	int64_t bytes;
	double ms;

	if (p->cfg.cost_fn && p->cfg.cost_fn(p->cfg.cost_data, module, &bytes, &ms) == 0 &&
	    ms >= 0)
		return ms;
	return ORACLE_DEFAULT_LOAD_MS;
}

static bool claimed(const struct or_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_claimed; i++)
		if (pml_module_name_eq(s->claimed[i], name))
			return true;
	return false;
}

/* A module need i must have loaded that nothing provides yet (not loaded, not asked for,
 * not claimed by an earlier need of this schedule). */
static bool missing(const struct or_state *s, const struct pml_loaded *mods, size_t n,
		    const char *name)
{
	return !in_set(mods, n, name) && asked_find(s, name) < 0 && !claimed(s, name);
}

static int or_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		     struct pml_action *out, size_t max)
{
	struct or_state *s = p->priv;
	const struct pml_needs *f = p->cfg.future;
	uint64_t now = pml_policy_now(p);
	size_t first = f->n, k = 0;
	double next_start;

	/* Unloads: what no need after now requires, once it is not in use. */
	for (size_t i = 0; i < n && k < max; i++) {
		const struct pml_loaded *l = &mods[i];

		if (l->refcnt > 0 || l->n_holders > 0 || pml_policy_is_protected(p, l->name) ||
		    needed_after(f, now, l->name))
			continue;
		out[k].kind = PML_ACT_UNLOAD;
		snprintf(out[k].module, sizeof(out[k].module), "%s", l->name);
		snprintf(out[k].reason, sizeof(out[k].reason), "oracle: no need after now");
		out[k].confidence = -1;
		k++;
	}

	/* Loads: the latest schedule meeting every future need's deadline. */
	while (first > 0 && f->v[first - 1].t_ns > now)
		first--;
	if (first == f->n)
		return (int)k;
	if (s->cap_start < f->n) {
		double *st = realloc(s->start_ms, f->n * sizeof(*st));

		if (!st)
			return -ENOMEM;
		s->start_ms = st;
		s->cap_start = f->n;
	}
	s->n_claimed = 0;
	for (size_t i = first; i < f->n; i++) {
		const struct pml_need *nd = &f->v[i];
		double len = 0;

		for (uint32_t j = 0; j < nd->n_loaded; j++) {
			if (!missing(s, mods, n, nd->loaded[j]))
				continue;
			if (s->n_claimed == s->cap_claimed) {
				size_t cap = s->cap_claimed ? 2 * s->cap_claimed : 64;
				const char **c = realloc(s->claimed, cap * sizeof(*c));

				if (!c)
					return -ENOMEM;
				s->claimed = c;
				s->cap_claimed = cap;
			}
			s->claimed[s->n_claimed++] = nd->loaded[j];
			len += cost_ms(p, nd->loaded[j]);
		}
		s->start_ms[i] = len; /* the length, for now */
	}
	next_start = 1e300;
	for (size_t i = f->n; i-- > first;) {
		double deadline = ((double)f->v[i].t_ns - (double)now) / 1e6;
		double finish = deadline < next_start ? deadline : next_start;

		s->start_ms[i] = finish - s->start_ms[i];
		next_start = s->start_ms[i];
	}
	/* Ask, in need order, for every load whose latest start is (nearly) now. */
	s->n_claimed = 0;
	for (size_t i = first; i < f->n && k < max; i++) {
		const struct pml_need *nd = &f->v[i];

		/* Starts never decrease along the schedule: the due needs come first. */
		if (s->start_ms[i] > ORACLE_SLACK_MS)
			break;
		for (uint32_t j = 0; j < nd->n_loaded && k < max; j++) {
			const char *m = nd->loaded[j];
			struct pml_action *a;

			if (!missing(s, mods, n, m))
				continue;
			if (asked_add(s, m) < 0)
				return -ENOMEM;
			a = &out[k++];
			a->kind = PML_ACT_LOAD;
			snprintf(a->module, sizeof(a->module), "%s", m);
			snprintf(a->reason, sizeof(a->reason), "oracle: needed in %.0f ms",
				 ((double)nd->t_ns - (double)now) / 1e6);
			a->confidence = 1;
			a->lead_ms = ((double)nd->t_ns - (double)now) / 1e6;
			a->load_ms = cost_ms(p, m);
			a->bytes = -1;
			if (p->cfg.cost_fn) {
				double ms;

				p->cfg.cost_fn(p->cfg.cost_data, m, &a->bytes, &ms);
			}
		}
	}
	return (int)k;
}

const struct pml_policy_ops pml_policy_oracle = {
	.name = "oracle",
	.summary = "replay only: knows the run's needs, loads just in time, unloads after "
		   "the last use",
	.init = or_init,
	.observe = or_observe,
	.decide = or_decide,
	.free = or_free,
};
