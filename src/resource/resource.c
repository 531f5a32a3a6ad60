/* The resource manager (resource.h): the budgets and the decision on each request (its
 * priority, the evictions it needs). The accounts of the module set it decides on are kept
 * in resource-accounts.c, its status shown by resource-status.c (resource-priv.h).
 *
 * Priority. A load is worth doing now in proportion to the stall it will spare, and a
 * request carries three independent factors of that:
 *
 *     priority = criticality x urgency x confidence
 *
 *  - criticality W: who waits if the module is late. A critical miss has a program blocked
 *    on it right now (W = 4); a dependency is needed by a module that is loaded or being
 *    loaded, so its need is as sure as its parent's (W = 2); a prediction is a guess (W = 1).
 *    The weights only order the kinds; 4 > 2 x 1 x 1 makes a miss outrank any dependency
 *    and a dependency any equally urgent and confident prediction.
 *  - urgency U in (0, 1]: how much of the stall is lost by not starting now. A load of L ms
 *    for a need t ms away must start within t - L ms; with t <= L it is already late, U = 1.
 *    Beyond that U = (L + tau) / (t + tau) (tau = 100 ms smooths tiny L): it falls as 1/t,
 *    so a far need can wait for a later request while a slow module (btrfs, 600 ms) needed
 *    in a second ranks above a quick one (tun, 10 ms) needed as soon.
 *  - confidence p: the predictor's probability that the need comes at all.
 *
 * A product, not a sum: any factor near zero makes the load near worthless now (a sure need
 * an hour away, an urgent guess at 1%), which a weighted sum would not say. For a critical
 * miss U = p = 1: the need is now and certain.
 *
 * Value and eviction. Each counted module keeps the priority it last had (its grant, or
 * W_critical when a program used it) and the time since which it is idle (that moment, or
 * its refcount falling to 0). Its value now decays with idle time,
 *
 *     value = v0 x H / (H + idle_ms)      (H = value_halflife_ms: half after H idle)
 *
 * so a module used a moment ago is worth keeping and one loaded on a guess long ago and
 * never used is the first to go. When a request does not fit, the idle modules (loaded,
 * refcount 0, not base, not pinned, not pending) are taken lowest value first (larger
 * first among equals: fewer unloads), until enough bytes are freed; a non-critical
 * request may only evict modules worth less than itself, so predictions never churn each
 * other out at equal worth. This is an approximation of the oracle's rule (evict what is
 * needed furthest in the future): the decayed value stands for that distance.
 *
 * Budgets. A non-critical request must fit min(budget, hard limit) after its evictions or
 * it is refused; it also needs load-time tokens (cpu_ms_per_s refills a bucket of
 * cpu_burst_ms; a load of L takes L, a load longer than the bucket needs it full) and,
 * when configured, CPUs that are not busier than cpu_busy_limit. A critical miss is never
 * throttled by CPU (it spends tokens all the same, which delays the predictions after it),
 * and when it does not fit the soft budget even after evicting every idle module, it is
 * granted over it (counted, logged) as long as it fits the hard limit: the program is
 * blocked and the kernel will load the module anyway; refusing would only lose the count. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resource/resource-priv.h"
#include "util/log.h"
#include "util/timeutil.h"

#define URGENCY_TAU_MS 100.0

static const char *const kind_names[] = {"critical", "dependency", "prediction"};

const char *pml_res_kind_name(enum pml_res_kind kind)
{
	return (unsigned)kind < PML_RES__KIND_COUNT ? kind_names[kind] : "?";
}

int pml_res_kind_from_name(const char *name)
{
	if (!strcmp(name, "critical") || !strcmp(name, "critical-miss") ||
	    !strcmp(name, "critical_miss") || !strcmp(name, "miss"))
		return PML_RES_CRITICAL_MISS;
	if (!strcmp(name, "dependency") || !strcmp(name, "dep"))
		return PML_RES_DEPENDENCY;
	if (!strcmp(name, "prediction") || !strcmp(name, "predicted"))
		return PML_RES_PREDICTION;
	return -EINVAL;
}

const char *pml_res_refusal_name(enum pml_res_refusal r)
{
	switch (r) {
	case PML_RES_OK:
		return "ok";
	case PML_RES_OVER_BUDGET:
		return "over-budget";
	case PML_RES_NO_MEMORY:
		return "no-memory";
	case PML_RES_CPU_BUDGET:
		return "cpu-budget";
	case PML_RES_CPU_BUSY:
		return "cpu-busy";
	case PML_RES_LOW_PRIORITY:
		return "low-priority";
	case PML_RES_BAD_REQUEST:
		return "bad-request";
	}
	return "?";
}

uint64_t res_now_ns(const struct pml_resource *res)
{
	return res->cfg.now_ns ? res->cfg.now_ns(res->cfg.clock_data) : pml_now_ns();
}

bool res_is_pinned(const struct pml_resource *res, const struct res_mod *m)
{
	return m->pinned || (res->cfg.pinned_fn && res->cfg.pinned_fn(res->cfg.pinned_data,
								      m->name));
}

double res_value_now(const struct pml_resource *res, const struct res_mod *m, uint64_t now)
{
	double idle_ms = now > m->t_idle ? (double)(now - m->t_idle) / 1e6 : 0;
	double h = res->cfg.value_halflife_ms;

	return m->v0 * h / (h + idle_ms);
}

static bool evictable(const struct pml_resource *res, const struct res_mod *m)
{
	return m->state == MOD_LOADED && m->refcnt == 0 && !m->base && !res_is_pinned(res, m);
}

static int check_config(const struct pml_resource_config *c)
{
	if (c->hard_mem > 0 && c->budget_mem > 0 && c->hard_mem < c->budget_mem)
		return -EINVAL;
	if (c->mem_reserve < 0 || isnan(c->cpu_ms_per_s) || isnan(c->min_priority))
		return -EINVAL;
	return 0;
}

int pml_resource_new(const struct pml_resource_config *cfg, struct pml_resource **ret)
{
	struct pml_resource *res;
	int err;

	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	if (cfg)
		res->cfg = *cfg;
	err = check_config(&res->cfg);
	if (err) {
		free(res);
		return err;
	}
	if (res->cfg.default_bytes <= 0)
		res->cfg.default_bytes = 64 * 1024;
	if (res->cfg.default_load_ms <= 0)
		res->cfg.default_load_ms = 50;
	if (res->cfg.value_halflife_ms <= 0)
		res->cfg.value_halflife_ms = 10000;
	if (res->cfg.cpu_burst_ms <= 0)
		res->cfg.cpu_burst_ms = res->cfg.cpu_ms_per_s;
	res->tokens = res->cfg.cpu_burst_ms;
	res->t_tokens = res_now_ns(res);
	res->cpu_busy = res->net_rx_bps = res->net_tx_bps = -1;
	*ret = res;
	return 0;
}

void pml_resource_free(struct pml_resource *res)
{
	if (!res)
		return;
	free(res->mods);
	free(res);
}

int pml_resource_set_budget_mem(struct pml_resource *res, int64_t budget, int64_t hard)
{
	if (hard > 0 && budget > 0 && hard < budget)
		return -EINVAL;
	res->cfg.budget_mem = budget;
	res->cfg.hard_mem = hard;
	return 0;
}

int pml_resource_set_cpu_budget(struct pml_resource *res, double ms_per_s, double burst_ms)
{
	if (isnan(ms_per_s) || isnan(burst_ms))
		return -EINVAL;
	res->cfg.cpu_ms_per_s = ms_per_s;
	res->cfg.cpu_burst_ms = burst_ms > 0 ? burst_ms : ms_per_s;
	if (res->tokens > res->cfg.cpu_burst_ms)
		res->tokens = res->cfg.cpu_burst_ms;
	return 0;
}

double pml_res_urgency(double urgency_ms, double load_ms)
{
	if (!(urgency_ms > load_ms)) /* also NaN: treat as now */
		return 1.0;
	if (load_ms < 0)
		load_ms = 0;
	return (load_ms + URGENCY_TAU_MS) / (urgency_ms + URGENCY_TAU_MS);
}

static double kind_weight(enum pml_res_kind kind)
{
	switch (kind) {
	case PML_RES_CRITICAL_MISS:
		return PML_RES_WEIGHT_CRITICAL;
	case PML_RES_DEPENDENCY:
		return PML_RES_WEIGHT_DEPENDENCY;
	default:
		return PML_RES_WEIGHT_PREDICTION;
	}
}

static double load_ms_of(const struct pml_resource *res, const struct pml_res_request *req,
			 const struct res_mod *m)
{
	if (req->load_ms >= 0)
		return req->load_ms;
	if (m && m->hint_ms >= 0)
		return m->hint_ms;
	return res->cfg.default_load_ms;
}

static double priority_of(const struct pml_resource *res, const struct pml_res_request *req,
			  const struct res_mod *m)
{
	double p = req->confidence;

	if (req->kind == PML_RES_CRITICAL_MISS)
		return PML_RES_WEIGHT_CRITICAL;
	if (!(p >= 0))
		p = 0;
	if (p > 1)
		p = 1;
	return kind_weight(req->kind) * pml_res_urgency(req->urgency_ms, load_ms_of(res, req, m)) *
	       p;
}

double pml_resource_priority(const struct pml_resource *res, const struct pml_res_request *req)
{
	char name[64];
	const struct res_mod *m = NULL;

	if (res_norm_name(req->module, name) == 0)
		m = res_find((struct pml_resource *)res, name);
	return priority_of(res, req, m);
}

void res_refill(struct pml_resource *res, uint64_t now)
{
	if (res->cfg.cpu_ms_per_s <= 0)
		return;
	if (now > res->t_tokens) {
		res->tokens += res->cfg.cpu_ms_per_s * (double)(now - res->t_tokens) / 1e9;
		if (res->tokens > res->cfg.cpu_burst_ms)
			res->tokens = res->cfg.cpu_burst_ms;
	}
	res->t_tokens = now;
}

int64_t res_hard_limit(const struct pml_resource *res)
{
	int64_t hard = res->cfg.hard_mem > 0 ? res->cfg.hard_mem : INT64_MAX;

	if (res->cfg.mem_reserve > 0 && res->have_room) {
		int64_t room = res->counted_at_sample + res->hard_room;

		if (room < hard)
			hard = room;
	}
	return hard;
}

struct cand {
	struct res_mod *m;
	double value;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->m->bytes != y->m->bytes)
		return x->m->bytes > y->m->bytes ? -1 : 1;
	return strcmp(x->m->name, y->m->name);
}

/* Choose evictions freeing at least need bytes among idle modules worth less than
 * below (any worth when below < 0), lowest value first. Returns the count chosen (written
 * to out, at most PML_RES_EVICT_MAX), -ENOSPC when they cannot free enough, -ENOMEM. */
static int choose_evictions(struct pml_resource *res, int64_t need, double below, uint64_t now,
			    struct res_mod **out)
{
	struct cand *c;
	size_t n = 0;
	int64_t freed = 0;
	int k = 0;

	if (need <= 0)
		return 0;
	c = malloc((res->n_mods + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_mods; i++) {
		struct res_mod *m = &res->mods[i];
		double v;

		if (!evictable(res, m) || m->bytes <= 0)
			continue;
		v = res_value_now(res, m, now);
		if (below >= 0 && !(v < below))
			continue;
		c[n++] = (struct cand){m, v};
	}
	qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n && freed < need && k < PML_RES_EVICT_MAX; i++) {
		out[k++] = c[i].m;
		freed += c[i].m->bytes;
	}
	free(c);
	return freed >= need ? k : -ENOSPC;
}

static void fmt_bytes(char *buf, size_t size, int64_t b)
{
	if (b == INT64_MAX)
		snprintf(buf, size, "none");
	else if (b >= 10 << 20 || b <= -(10 << 20))
		snprintf(buf, size, "%.1f MiB", (double)b / (1 << 20));
	else
		snprintf(buf, size, "%.1f KiB", (double)b / 1024);
}

static void refuse(struct pml_resource *res, struct pml_res_decision *d,
		   enum pml_res_refusal why)
{
	d->verdict = PML_RES_REFUSE;
	d->refusal = why;
	res->st.refusals++;
}

int pml_resource_request(struct pml_resource *res, const struct pml_res_request *req,
			 struct pml_res_decision *ret)
{
	struct res_mod *evict[PML_RES_EVICT_MAX];
	struct pml_res_decision d = {.verdict = PML_RES_REFUSE};
	uint64_t now = res_now_ns(res);
	bool critical = req->kind == PML_RES_CRITICAL_MISS;
	char name[64], s1[32], s2[32];
	struct res_mod *m;
	int64_t b, used, soft, hard, need_soft, need_hard;
	double load_ms;
	int k = 0;

	res->st.requests++;
	if (res_norm_name(req->module, name) || (unsigned)req->kind >= PML_RES__KIND_COUNT ||
	    (!critical && (!(req->confidence >= 0 && req->confidence <= 1) ||
			   !(req->urgency_ms >= 0)))) {
		refuse(res, &d, PML_RES_BAD_REQUEST);
		snprintf(d.reason, sizeof(d.reason), "bad request");
		*ret = d;
		return -EINVAL;
	}
	res->st.by_kind[req->kind]++;
	m = res_find(res, name);
	d.priority = priority_of(res, req, m);

	/* Already there: nothing to load; the request still says it is wanted. */
	if (m && (m->state != MOD_ABSENT || m->base)) {
		double v = res_value_now(res, m, now);

		m->v0 = d.priority > v ? d.priority : v;
		m->t_idle = now;
		d.verdict = PML_RES_GRANT;
		d.present = true;
		d.bytes = m->bytes;
		snprintf(d.reason, sizeof(d.reason), "%s", m->base ? "base module" :
			 m->state == MOD_PENDING ? "already granted" : "already loaded");
		res->st.grants++;
		*ret = d;
		return 0;
	}

	b = req->bytes >= 0 ? req->bytes : m && m->hint_bytes >= 0 ? m->hint_bytes :
	    res->cfg.default_bytes;
	load_ms = load_ms_of(res, req, m);
	d.bytes = b;
	res_refill(res, now);

	if (!critical) {
		if (res->cfg.min_priority > 0 && d.priority < res->cfg.min_priority) {
			refuse(res, &d, PML_RES_LOW_PRIORITY);
			snprintf(d.reason, sizeof(d.reason), "priority %.3f below %.3f",
				 d.priority, res->cfg.min_priority);
			goto out;
		}
		if (res->cfg.cpu_busy_limit > 0 && res->cpu_busy >= res->cfg.cpu_busy_limit) {
			refuse(res, &d, PML_RES_CPU_BUSY);
			snprintf(d.reason, sizeof(d.reason), "cpus %.0f%% busy (limit %.0f%%)",
				 res->cpu_busy * 100, res->cfg.cpu_busy_limit * 100);
			goto out;
		}
		if (res->cfg.cpu_ms_per_s > 0) {
			double want = load_ms < res->cfg.cpu_burst_ms ? load_ms :
				      res->cfg.cpu_burst_ms;

			if (res->tokens < want) {
				refuse(res, &d, PML_RES_CPU_BUDGET);
				d.retry_ms = (want - res->tokens) / res->cfg.cpu_ms_per_s * 1000;
				snprintf(d.reason, sizeof(d.reason),
					 "load budget: %.0f ms wanted, %.0f ms left, retry in %.0f ms",
					 load_ms, res->tokens, d.retry_ms);
				goto out;
			}
		}
	}

	used = res_counted_bytes(res);
	soft = res->cfg.budget_mem > 0 ? res->cfg.budget_mem : INT64_MAX;
	hard = res_hard_limit(res);
	/* Bytes to free to fit: saturating, the limits may be INT64_MAX. */
	need_soft = soft == INT64_MAX ? INT64_MIN : used + b - soft;
	need_hard = hard == INT64_MAX ? INT64_MIN : used + b - hard;

	if (critical) {
		int64_t need = need_soft > need_hard ? need_soft : need_hard;

		k = choose_evictions(res, need, -1, now, evict);
		if (k == -ENOMEM)
			return -ENOMEM;
		if (k < 0) {
			/* Cannot get under the soft budget: go over it if the hard limit
			 * allows, evicting only what the hard limit needs. */
			k = choose_evictions(res, need_hard, -1, now, evict);
			if (k == -ENOMEM)
				return -ENOMEM;
			if (k < 0) {
				refuse(res, &d, PML_RES_NO_MEMORY);
				fmt_bytes(s1, sizeof(s1), b);
				fmt_bytes(s2, sizeof(s2), hard);
				snprintf(d.reason, sizeof(d.reason),
					 "critical miss of %s does not fit the hard limit %s", s1,
					 s2);
				goto out;
			}
			d.over_soft = true;
		}
	} else {
		int64_t need = need_soft > need_hard ? need_soft : need_hard;

		k = choose_evictions(res, need, d.priority, now, evict);
		if (k == -ENOMEM)
			return -ENOMEM;
		if (k < 0) {
			bool by_hard = need_hard > need_soft;

			refuse(res, &d, by_hard ? PML_RES_NO_MEMORY : PML_RES_OVER_BUDGET);
			fmt_bytes(s1, sizeof(s1), b);
			fmt_bytes(s2, sizeof(s2), by_hard ? hard : soft);
			snprintf(d.reason, sizeof(d.reason),
				 "%s of %s at priority %.3f: over the %s %s, not enough idle "
				 "modules worth less", pml_res_kind_name(req->kind), s1,
				 d.priority, by_hard ? "hard limit" : "budget", s2);
			goto out;
		}
	}

	/* Commit. */
	/* Names first: res_get() may move the table evict[] points into. */
	for (int i = 0; i < k; i++)
		strcpy(d.evict[i], evict[i]->name);
	d.n_evict = (size_t)k;
	if (!res_get(res, name))
		return -ENOMEM;
	for (size_t i = 0; i < d.n_evict; i++) {
		struct res_mod *e = res_find(res, d.evict[i]);

		e->state = MOD_ABSENT;
		e->hint_bytes = e->bytes;
		e->bytes = 0;
		res->st.evictions++;
	}
	m = res_find(res, name);
	m->state = MOD_PENDING;
	m->bytes = b;
	m->refcnt = 0;
	m->v0 = d.priority;
	m->t_idle = now;
	if (res->cfg.cpu_ms_per_s > 0)
		res->tokens -= load_ms;
	d.verdict = k ? PML_RES_GRANT_AFTER_EVICT : PML_RES_GRANT;
	res->st.grants++;
	if (k)
		res->st.evict_grants++;
	fmt_bytes(s1, sizeof(s1), b);
	if (d.over_soft) {
		res->st.over_soft++;
		fmt_bytes(s2, sizeof(s2), soft);
		snprintf(d.reason, sizeof(d.reason),
			 "critical miss of %s granted over the budget %s%s", s1, s2,
			 k ? " after evictions" : "");
		pml_warn("resource: %s: %s", name, d.reason);
	} else {
		snprintf(d.reason, sizeof(d.reason), "%s of %s at priority %.3f%s",
			 pml_res_kind_name(req->kind), s1, d.priority,
			 k ? ", evicting lower-value idle modules" : "");
	}
out:
	*ret = d;
	return 0;
}
