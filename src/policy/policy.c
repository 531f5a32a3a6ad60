/* The policy frame: lookup by name, the protected set (base + pinned), the clock, and the
 * filters that keep any policy from unloading a protected module or from loading a module
 * a third time for predictions with no need of it between. The rules themselves live one
 * per file (reactive.c, idle-unload.c, markov.c, names.c, lstm.c ...); see policy.h.
 *
 * Why the second filter is here and not in each policy: a load/unload cycle comes from
 * two rules meeting (a prediction that fires again, a take-back of what was not used),
 * and the rules change; seen live, lstm named the iio driver `ping` at each run of the
 * `ping` command and took it back three times in one job. Counting loads between needs
 * here bounds every policy, live and in replay alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util/log.h"
#include "util/modname.h"
#include "util/timeutil.h"

#define LIVE PML_POLICY_LIVE
#define TRACE PML_POLICY_TRACE
#define PRED PML_POLICY_PREDICTOR
#define NEEDS PML_POLICY_NEEDS_MODEL

/* In the order pml eval prints them: the baselines, then the predictors from the needs
 * alone to the program's behaviour, then the limit. */
const struct pml_policy_info pml_policy_table[] = {
	{&pml_policy_reactive, "Linux as shipped: load on first use, never unload", LIVE},
	{&pml_policy_idle_unload, "reactive, and unload a module unused for --idle-seconds",
	 LIVE},
	{&pml_policy_load_all, "load at start every module the needs model's runs needed",
	 LIVE | NEEDS},
	{&pml_policy_static, "replay only: load at start all the job's family ever needed", 0},
	{&pml_policy_markov, "prefetch what usually follows a need (a needs model)",
	 LIVE | NEEDS},
	{&pml_policy_names, "prefetch what the program names ('type vxlan'); no model",
	 LIVE | TRACE},
	{&pml_policy_slots,
	 "prefetch what the program names, by a learned slot model (pml train-slots)",
	 LIVE | TRACE | PML_POLICY_SLOTS},
	{&pml_policy_lstm_model, "lstm's model alone, without the names", LIVE | TRACE | PRED},
	{&pml_policy_lstm, "prefetch what its behaviour announces (a model), and names",
	 LIVE | TRACE | PRED},
	{&pml_policy_learned,
	 "lstm's model and the slot model: learned, no hand-written rule",
	 LIVE | TRACE | PRED | PML_POLICY_SLOTS},
	{&pml_policy_lstm_idle, "lstm, and unload what is idle (and no longer predicted)",
	 LIVE | TRACE | PRED},
	{&pml_policy_learned_idle, "learned, and unload what is idle (and no longer predicted)",
	 LIVE | TRACE | PRED | PML_POLICY_SLOTS},
	{&pml_policy_oracle, "replay only: the limit, each module loaded just in time", 0},
	{NULL, NULL, 0},
};

#undef LIVE
#undef TRACE
#undef PRED
#undef NEEDS

uint64_t pml_clock_now(const struct pml_clock *c)
{
	if (c && c->now_ns)
		return c->now_ns(c->data);
	return pml_now_ns();
}

const struct pml_policy_info *pml_policy_info(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "reactive+idle-unload"))
		name = "idle-unload";
	for (size_t i = 0; pml_policy_table[i].ops; i++)
		if (!strcmp(pml_policy_table[i].ops->name, name))
			return &pml_policy_table[i];
	return NULL;
}

const struct pml_policy_ops *pml_policy_find(const char *name)
{
	const struct pml_policy_info *info = pml_policy_info(name);

	return info ? info->ops : NULL;
}

bool pml_policy_reads_trace(const char *name)
{
	const struct pml_policy_info *info = pml_policy_info(name);

	return info && (info->flags & PML_POLICY_TRACE);
}

bool pml_policy_needs_predictor(const char *name)
{
	const struct pml_policy_info *info = pml_policy_info(name);

	return info && (info->flags & PML_POLICY_PREDICTOR);
}

char *pml_policy_names_list(char *buf, size_t size, unsigned need)
{
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; pml_policy_table[i].ops && n < size; i++) {
		if ((pml_policy_table[i].flags & need) != need)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
				      pml_policy_table[i].ops->name);
	}
	return buf;
}

char *pml_policy_help(char *buf, size_t size, unsigned need)
{
	size_t n = 0;
	int width = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; pml_policy_table[i].ops; i++)
		if ((pml_policy_table[i].flags & need) == need &&
		    (int)strlen(pml_policy_table[i].ops->name) > width)
			width = (int)strlen(pml_policy_table[i].ops->name);
	for (size_t i = 0; pml_policy_table[i].ops && n < size; i++) {
		if ((pml_policy_table[i].flags & need) != need)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "  %-*s %s\n", width,
				      pml_policy_table[i].ops->name, pml_policy_table[i].summary);
	}
	return buf;
}

bool pml_policy_is_protected(const struct pml_policy *p, const char *module)
{
	for (size_t i = 0; i < p->n_protect; i++)
		if (pml_module_name_eq(p->protect[i], module))
			return true;
	return p->cfg.pinned_fn && p->cfg.pinned_fn(p->cfg.pinned_data, module);
}

static int protect_add(struct pml_policy *p, const char *module)
{
	if (!module || !*module)
		return 0;
	for (size_t i = 0; i < p->n_protect; i++)
		if (pml_module_name_eq(p->protect[i], module))
			return 0;
	if (p->n_protect == p->cap_protect) {
		size_t cap = p->cap_protect ? 2 * p->cap_protect : 64;
		char(*n)[64] = realloc(p->protect, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->protect = n;
		p->cap_protect = cap;
	}
	snprintf(p->protect[p->n_protect++], 64, "%s", module);
	return 0;
}

int pml_policy_new(const char *name, const struct pml_policy_config *cfg,
		   struct pml_policy **ret)
{
	const struct pml_policy_ops *ops = pml_policy_find(name);

	if (!ops)
		return -ENOENT;
	return pml_policy_new_ops(ops, cfg, ret);
}

int pml_policy_new_ops(const struct pml_policy_ops *ops, const struct pml_policy_config *cfg,
		       struct pml_policy **ret)
{
	struct pml_policy *p;
	int r;

	if (!ops)
		return -EINVAL;
	if (cfg && cfg->idle_seconds < 0)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ops = ops;
	if (cfg)
		p->cfg = *cfg;
	p->cfg.pinned = NULL;
	p->cfg.n_pinned = 0;
	for (size_t i = 0; cfg && i < cfg->n_pinned; i++) {
		r = protect_add(p, cfg->pinned[i]);
		if (r < 0)
			goto fail;
	}
	r = ops->init ? ops->init(p) : 0;
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	free(p->protect);
	free(p);
	return r;
}

void pml_policy_free(struct pml_policy *p)
{
	if (!p)
		return;
	if (p->ops->free)
		p->ops->free(p);
	free(p->protect);
	free(p->loads);
	free(p);
}

static struct pml_policy_loads *loads_find(struct pml_policy *p, const char *module)
{
	for (size_t i = 0; i < p->n_loads; i++)
		if (pml_module_name_eq(p->loads[i].name, module))
			return &p->loads[i];
	return NULL;
}

/* The count of module, created when new; NULL on allocation failure (the count is lost:
 * the bound then does not hold for this module, which only costs memory). */
static struct pml_policy_loads *loads_get(struct pml_policy *p, const char *module)
{
	struct pml_policy_loads *l = loads_find(p, module);

	if (l)
		return l;
	if (p->n_loads == p->cap_loads) {
		size_t cap = p->cap_loads ? 2 * p->cap_loads : 32;
		struct pml_policy_loads *n = realloc(p->loads, cap * sizeof(*n));

		if (!n)
			return NULL;
		p->loads = n;
		p->cap_loads = cap;
	}
	l = &p->loads[p->n_loads++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", module);
	return l;
}

/* Count prefetch loads between needs. A load is seen once however many records say it
 * (the tracepoint's and the load worker's). */
static void loads_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	struct pml_policy_loads *l;

	if (!ev->module)
		return;
	switch (ev->kind) {
	case PML_POL_NEED:
	case PML_POL_REQUEST:
	case PML_POL_USE:
		l = loads_find(p, ev->module);
		if (l) {
			l->loads = 0;
			l->said = false;
		}
		break;
	case PML_POL_LOAD:
		l = loads_get(p, ev->module);
		if (!l)
			break;
		if (!ev->predicted) { /* the program's own load: a need */
			l->loads = 0;
			l->said = false;
		} else if (!l->loaded) {
			l->loads++;
		}
		l->loaded = true;
		break;
	case PML_POL_UNLOAD:
		l = loads_find(p, ev->module);
		if (l)
			l->loaded = false;
		break;
	default:
		break;
	}
}

void pml_policy_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	/* A failed allocation here only loses protection of a base module the policy could
	 * still never unload while it is in use; decide() re-checks refcounts anyway. */
	if (ev->kind == PML_POL_BASE)
		protect_add(p, ev->module);
	loads_observe(p, ev);
	if (p->ops->observe)
		p->ops->observe(p, ev);
}

/* True when a load of module would be one prefetch too many since its last need. */
static bool loads_exhausted(struct pml_policy *p, const char *module)
{
	struct pml_policy_loads *l = loads_find(p, module);

	if (!l || l->loaded || l->loads < PML_POLICY_LOADS_PER_NEED)
		return false;
	if (!l->said)
		pml_info("policy %s: %s not loaded: loaded %d times for predictions with "
			 "no need "
			 "of it between",
			 p->ops->name, module, l->loads);
	l->said = true;
	return true;
}

int pml_policy_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		      struct pml_action *out, size_t max)
{
	int r, k = 0;

	if (!p->ops->decide || max == 0)
		return 0;
	memset(out, 0, max * sizeof(*out));
	r = p->ops->decide(p, mods, n, out, max);
	if (r < 0)
		return r;
	for (int i = 0; i < r; i++) {
		if (out[i].kind == PML_ACT_UNLOAD && pml_policy_is_protected(p, out[i].module))
			continue;
		if (out[i].kind == PML_ACT_LOAD && loads_exhausted(p, out[i].module))
			continue;
		if (k != i)
			out[k] = out[i];
		k++;
	}
	return k;
}

uint64_t pml_policy_now(const struct pml_policy *p)
{
	return pml_clock_now(p->cfg.clock);
}
