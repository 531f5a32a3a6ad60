/* The baseline policies with an injected clock and hand-made module sets: load-all and
 * static ask once for every listed module not loaded (deduplicated, in order, costs from
 * the hint callback, at most max per decision) and never unload; the oracle refuses to
 * run without the future, asks for a need's modules at the latest start that still meets
 * its deadline (dependencies first), never twice, asks again after a refusal, and unloads
 * a module once no later need wants it and it is not in use. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataset/needs.h"
#include "policy/policy.h"
#include "unit.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

#define MS(x) ((uint64_t)((x) * 1e6))

static struct pml_loaded mod(const char *name, int refcnt, int holders)
{
	struct pml_loaded m = {.bytes = 1000, .refcnt = refcnt, .n_holders = holders};

	snprintf(m.name, sizeof(m.name), "%s", name);
	return m;
}

static int cost(void *data, const char *module, int64_t *bytes, double *ms)
{
	(void)data;
	if (!strcmp(module, "d"))
		*bytes = 10000, *ms = 20;
	else if (!strcmp(module, "a"))
		*bytes = 20000, *ms = 30;
	else if (!strcmp(module, "b"))
		*bytes = 40000, *ms = 100;
	else
		return -ENOENT;
	return 0;
}

static void event(struct pml_policy *p, enum pml_pol_event_kind kind, const char *module,
		  double ms)
{
	struct pml_pol_event ev = {.kind = kind, .t_ns = MS(ms), .module = module, .bytes = -1};

	pml_policy_observe(p, &ev);
}

/* Decide at ms; the actions' modules joined as "+load -unload" in buf. */
static int decide_at(struct pml_policy *p, double ms, const struct pml_loaded *mods, size_t n,
		     struct pml_action *acts, size_t max, char *buf, size_t size)
{
	int r;

	fake_now = MS(ms);
	r = pml_policy_decide(p, mods, n, acts, max);
	buf[0] = '\0';
	for (int i = 0; i < r; i++) {
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%c%s", i ? " " : "",
			 acts[i].kind == PML_ACT_LOAD ? '+' : '-', acts[i].module);
		/* a listed module's load rests on the list (the oracle's on the future) */
		if (acts[i].kind == PML_ACT_LOAD && strcmp(p->ops->name, "oracle"))
			CHECK(acts[i].basis == PML_BASIS_LIST);
	}
	return r;
}

static void test_preload(const char *name)
{
	const char *list[] = {"a", "b-x", "a", "basemod", "b_x", "c"};
	struct pml_policy_config cfg = {.clock = &clock, .preload = list, .n_preload = 6,
					.cost_fn = cost};
	struct pml_policy *p = NULL;
	struct pml_loaded mods[3] = {mod("basemod", 2, 0), mod("a", 0, 0)};
	struct pml_action acts[8];
	char buf[256];

	CHECK(pml_policy_new(name, &cfg, &p) == 0);
	if (!p)
		return;
	CHECK_STR(p->ops->name, name);
	event(p, PML_POL_BASE, "basemod", 0);
	/* one per decision when max is 1: b_x first (a is loaded, basemod is base) */
	CHECK(decide_at(p, 0, mods, 2, acts, 1, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "+b_x");
	CHECK(acts[0].confidence == 0.75); /* by rank: 2nd of 4 (duplicates dropped) */
	CHECK(acts[0].bytes == -1); /* no hint for b_x */
	CHECK(strstr(acts[0].reason, "prediction: ") == acts[0].reason);
	CHECK(decide_at(p, 1, mods, 2, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "+c");
	CHECK(acts[0].confidence == 0.25); /* 4th of 4 */
	/* asked once: a refused or gone module is not asked again, nothing is unloaded */
	event(p, PML_POL_UNLOAD, "c", 2);
	CHECK(decide_at(p, 2, mods, 2, acts, 8, buf, sizeof(buf)) == 0);
	mods[2] = mod("b_x", 0, 0);
	CHECK(decide_at(p, 3600e3, mods, 3, acts, 8, buf, sizeof(buf)) == 0);
	pml_policy_free(p);

	/* the hint callback fills the action's costs */
	{
		const char *one[] = {"b"};

		cfg.preload = one;
		cfg.n_preload = 1;
		CHECK(pml_policy_new(name, &cfg, &p) == 0);
		CHECK(decide_at(p, 0, NULL, 0, acts, 8, buf, sizeof(buf)) == 1);
		CHECK(acts[0].bytes == 40000 && acts[0].load_ms == 100);
		pml_policy_free(p);
	}
	/* an empty list asks for nothing */
	cfg.preload = NULL;
	cfg.n_preload = 0;
	CHECK(pml_policy_new(name, &cfg, &p) == 0);
	CHECK(decide_at(p, 0, NULL, 0, acts, 8, buf, sizeof(buf)) == 0);
	pml_policy_free(p);
}

static void need(struct pml_needs *f, double ms, const char *const *mods, size_t n)
{
	struct pml_need *nd = &f->v[f->n++];

	memset(nd, 0, sizeof(*nd));
	nd->t_ns = MS(ms);
	for (size_t i = 0; i < n; i++)
		snprintf(nd->loaded[nd->n_loaded++], PML_NEED_NAME_LEN, "%s", mods[i]);
	snprintf(nd->module, sizeof(nd->module), "%s", mods[n - 1]);
}

static void test_oracle(void)
{
	struct pml_need v[4];
	struct pml_needs future = {.v = v, .cap = 4};
	const char *n0[] = {"d", "a"}, *n1[] = {"b"};
	struct pml_policy_config cfg = {.clock = &clock, .cost_fn = cost};
	struct pml_policy *p = NULL;
	struct pml_loaded mods[4];
	struct pml_action acts[8];
	char buf[256];

	CHECK(pml_policy_new("oracle", &cfg, &p) == -EINVAL); /* no future: not live */
	need(&future, 1000, n0, 2);
	need(&future, 3000, n1, 1);
	cfg.future = &future;
	CHECK(pml_policy_new("oracle", &cfg, &p) == 0);
	if (!p)
		return;
	mods[0] = mod("basemod", 1, 0);
	event(p, PML_POL_BASE, "basemod", 0);
	/* latest starts: d+a (50 ms) at 950 ms, b (100 ms) at 2900 ms; asked within 20 ms */
	CHECK(decide_at(p, 0, mods, 1, acts, 8, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 929, mods, 1, acts, 8, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 930, mods, 1, acts, 8, buf, sizeof(buf)) == 2);
	CHECK_STR(buf, "+d +a");
	CHECK(acts[0].lead_ms == 70 && acts[0].confidence == 1 && acts[1].bytes == 20000);
	CHECK(decide_at(p, 940, mods, 1, acts, 8, buf, sizeof(buf)) == 0); /* asked already */
	event(p, PML_POL_LOAD, "d", 950);
	event(p, PML_POL_LOAD, "a", 980);
	mods[1] = mod("d", 0, 1);
	mods[2] = mod("a", 1, 0);
	CHECK(decide_at(p, 1000, mods, 3, acts, 8, buf, sizeof(buf)) == 0); /* in use */
	mods[2].refcnt = 0;
	CHECK(decide_at(p, 2000, mods, 3, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "-a"); /* d is held by a: it goes along, or at the next decision */
	event(p, PML_POL_UNLOAD, "a", 2000);
	mods[1].n_holders = 0;
	CHECK(decide_at(p, 2010, mods, 2, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "-d");
	event(p, PML_POL_UNLOAD, "d", 2010);
	/* b: asked at 2880 ms; refused (the driver says UNLOAD), asked again */
	CHECK(decide_at(p, 2870, mods, 1, acts, 8, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 2880, mods, 1, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "+b");
	event(p, PML_POL_UNLOAD, "b", 2880);
	CHECK(decide_at(p, 2890, mods, 1, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "+b");
	event(p, PML_POL_LOAD, "b", 2990);
	mods[1] = mod("b", 1, 0);
	CHECK(decide_at(p, 3000, mods, 2, acts, 8, buf, sizeof(buf)) == 0);
	mods[1].refcnt = 0;
	CHECK(decide_at(p, 4000, mods, 2, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "-b");
	pml_policy_free(p);

	/* needs too close together: the schedule runs backwards from the last one, so the
	 * first need's loads start early enough for both */
	future.n = 0;
	need(&future, 1000, n0, 2);
	need(&future, 1010, n1, 1); /* b (100 ms) must start by 910, so d+a by 860 */
	CHECK(pml_policy_new("oracle", &cfg, &p) == 0);
	CHECK(decide_at(p, 830, mods, 1, acts, 8, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 840, mods, 1, acts, 8, buf, sizeof(buf)) == 2);
	CHECK_STR(buf, "+d +a");
	CHECK(decide_at(p, 880, mods, 1, acts, 8, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 890, mods, 1, acts, 8, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "+b");
	pml_policy_free(p);
}

int main(void)
{
	CHECK(pml_policy_find("load-all") == &pml_policy_load_all);
	CHECK(pml_policy_find("static") == &pml_policy_static);
	CHECK(pml_policy_find("oracle") == &pml_policy_oracle);
	test_preload("load-all");
	test_preload("static");
	test_oracle();
	return unit_done("policy-baselines");
}
