/* The policy frame: lookup by name, the protected set (base + pinned), the clock, and the
 * filter that keeps any policy from unloading a protected module. The rules themselves live
 * one per file (reactive.c, idle-unload.c, markov.c); see policy.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util/timeutil.h"
#include "util/modname.h"

const struct pml_policy_ops *const pml_policies[] = {
	&pml_policy_reactive,
	&pml_policy_idle_unload,
	&pml_policy_markov,
	&pml_policy_lstm,
	&pml_policy_lstm_idle,
	&pml_policy_load_all,
	&pml_policy_static,
	&pml_policy_oracle,
	NULL,
};

uint64_t pml_clock_now(const struct pml_clock *c)
{
	if (c && c->now_ns)
		return c->now_ns(c->data);
	return pml_now_ns();
}

const struct pml_policy_ops *pml_policy_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "reactive+idle-unload"))
		name = "idle-unload";
	for (size_t i = 0; pml_policies[i]; i++)
		if (!strcmp(pml_policies[i]->name, name))
			return pml_policies[i];
	return NULL;
}

bool pml_policy_reads_trace(const char *name)
{
	const struct pml_policy_ops *ops = pml_policy_find(name);

	return ops == &pml_policy_lstm || ops == &pml_policy_lstm_idle;
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
	struct pml_policy *p;
	int r;

	if (!ops)
		return -ENOENT;
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
	free(p);
}

void pml_policy_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	/* A failed allocation here only loses protection of a base module the policy could
	 * still never unload while it is in use; decide() re-checks refcounts anyway. */
	if (ev->kind == PML_POL_BASE)
		protect_add(p, ev->module);
	if (p->ops->observe)
		p->ops->observe(p, ev);
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
