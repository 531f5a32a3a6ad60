/* The resource manager's invariants under random use: seeded sequences of requests (all
 * kinds, urgencies, confidences, known and unknown sizes), loads completing or failing,
 * releases, needs, refcount changes and time passing, checked step by step against a model
 * of the loaded modules with their refcounts:
 *  - a prediction or dependency is granted only when the counted bytes after it (its
 *    evictions done) are within the budget and the hard limit;
 *  - an eviction names only a loaded module with refcount 0 that is neither base nor
 *    pinned (never one in use, never a pending one);
 *  - a critical miss is granted whenever it fits (the hard limit, if any, after evicting
 *    every evictable module), and refused only when it does not;
 *  - the manager's count of bytes equals the model's after every step.
 * Several seeds and configurations (with and without a hard limit and a CPU budget). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "resource/resource.h"
#include "unit.h"

#define N_MODS 30 /* at most PML_RES_EVICT_MAX evictable: "fits" is exact */
#define N_BASE 3
#define N_PIN 2

struct mmod {
	char name[16];
	int64_t size; /* what a load really takes */
	bool loaded, pending, base, pinned;
	int refcnt;
	int64_t counted; /* bytes the manager counts for it */
};

static struct mmod mods[N_MODS + N_BASE];
static uint64_t rng, clock_ns;
static int failures_before;

static uint64_t test_now(void *data)
{
	return clock_ns;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / (double)(1ULL << 53);
}

static struct mmod *find(const char *name)
{
	for (int i = 0; i < N_MODS + N_BASE; i++)
		if (!strcmp(mods[i].name, name))
			return &mods[i];
	return NULL;
}

static int64_t model_counted(void)
{
	int64_t sum = 0;

	for (int i = 0; i < N_MODS + N_BASE; i++)
		if (!mods[i].base && (mods[i].loaded || mods[i].pending))
			sum += mods[i].counted;
	return sum;
}

static int64_t model_evictable(void)
{
	int64_t sum = 0;

	for (int i = 0; i < N_MODS + N_BASE; i++)
		if (mods[i].loaded && !mods[i].base && !mods[i].pinned && mods[i].refcnt == 0)
			sum += mods[i].counted;
	return sum;
}

struct stats {
	unsigned grants, evict_grants, refusals, over_soft, crit, crit_refused, evicted;
	unsigned present;
};

/* One run: steps random operations. Returns nothing; failures go through CHECK, and the
 * first failing step is reported once. */
static void run(uint64_t seed, int steps, int64_t budget, int64_t hard, double cpu,
		struct stats *st)
{
	struct pml_resource_config cfg = {
		.budget_mem = budget,
		.hard_mem = hard,
		.cpu_ms_per_s = cpu,
		.cpu_burst_ms = cpu * 2,
		.value_halflife_ms = 2000,
		.now_ns = test_now,
	};
	struct pml_resource *res = NULL;
	struct pml_res_status rs;
	int64_t hard_lim = hard > 0 ? hard : INT64_MAX;

	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	clock_ns = 1000000000ULL;
	memset(mods, 0, sizeof(mods));
	for (int i = 0; i < N_MODS + N_BASE; i++) {
		snprintf(mods[i].name, sizeof(mods[i].name), i < N_MODS ? "m%02d" : "base%d",
			 i < N_MODS ? i : i - N_MODS);
		mods[i].size = 1024 * (int64_t)(1 + rnd() % 200); /* 1 KiB .. 200 KiB */
	}
	if (pml_resource_new(&cfg, &res)) {
		CHECK(!"pml_resource_new");
		return;
	}
	for (int i = N_MODS; i < N_MODS + N_BASE; i++) {
		mods[i].base = mods[i].loaded = true;
		mods[i].counted = mods[i].size;
		CHECK(pml_resource_set_base(res, mods[i].name, mods[i].size) == 0);
	}
	for (int i = 0; i < N_PIN; i++) {
		mods[i].pinned = true;
		CHECK(pml_resource_pin(res, mods[i].name) == 0);
	}
	/* Sizes known for half the modules (the catalog). */
	for (int i = 0; i < N_MODS; i += 2)
		CHECK(pml_resource_set_hint(res, mods[i].name, mods[i].size, -1) == 0);

	for (int step = 0; step < steps; step++) {
		struct mmod *m = &mods[rnd() % (N_MODS + N_BASE)];
		unsigned op = rnd() % 100;
		int fails = unit_failed;

		if (op < 45) {
			/* A request. */
			struct pml_res_request r = {
				.module = m->name,
				.bytes = rnd() % 3 ? m->size : -1,
				.load_ms = rnd() % 2 ? (double)(rnd() % 300) : -1,
				.kind = (enum pml_res_kind)(rnd() % 3),
				.urgency_ms = (double)(rnd() % 5000),
				.confidence = rnd01(),
			};
			struct pml_res_decision d;
			bool was_there = m->loaded || m->pending;
			int64_t before = model_counted(), evictable = model_evictable();
			int64_t freed = 0, after;

			CHECK(pml_resource_request(res, &r, &d) == 0);
			if (was_there) {
				CHECK(d.verdict == PML_RES_GRANT && d.present && d.n_evict == 0);
				st->present++;
				goto next;
			}
			for (size_t i = 0; i < d.n_evict; i++) {
				struct mmod *e = find(d.evict[i]);

				CHECK(d.verdict == PML_RES_GRANT_AFTER_EVICT);
				CHECK(e != NULL);
				if (!e)
					continue;
				/* Never in use, base, pinned or still loading. */
				CHECK(e->loaded && !e->pending);
				CHECK(e->refcnt == 0);
				CHECK(!e->base && !e->pinned);
				freed += e->counted;
				e->loaded = false;
				e->counted = 0;
				st->evicted++;
			}
			after = before - freed + d.bytes;
			if (r.kind == PML_RES_CRITICAL_MISS) {
				bool fits = hard_lim == INT64_MAX ||
					    before - evictable + d.bytes <= hard_lim;

				st->crit++;
				/* Always served when it fits; refused only when it does not. */
				CHECK(fits == (d.verdict != PML_RES_REFUSE));
				if (d.verdict == PML_RES_REFUSE) {
					CHECK(d.refusal == PML_RES_NO_MEMORY);
					st->crit_refused++;
				}
				if (d.verdict != PML_RES_REFUSE)
					CHECK(after <= hard_lim);
				if (d.verdict != PML_RES_REFUSE && !d.over_soft && budget > 0)
					CHECK(after <= budget);
				if (d.over_soft)
					st->over_soft++;
			} else if (d.verdict != PML_RES_REFUSE) {
				/* A predicted (or dependency) load never exceeds the budget. */
				if (budget > 0)
					CHECK(after <= budget);
				CHECK(after <= hard_lim);
				CHECK(!d.over_soft);
			}
			if (d.verdict == PML_RES_REFUSE) {
				CHECK(d.n_evict == 0);
				st->refusals++;
			} else {
				st->grants++;
				if (d.n_evict)
					st->evict_grants++;
				m->pending = true;
				m->counted = d.bytes;
				/* Most loads complete at once; others stay in flight a while. */
				if (rnd() % 4) {
					m->pending = false;
					m->loaded = true;
					m->counted = m->size;
					CHECK(pml_resource_loaded(res, m->name, m->size, 0) == 0);
				}
			}
		} else if (op < 55) {
			/* A pending load completes (or fails: released). */
			if (!m->pending)
				goto next;
			m->pending = false;
			if (rnd() % 5) {
				m->loaded = true;
				m->counted = m->size;
				CHECK(pml_resource_loaded(res, m->name, m->size, 0) == 0);
			} else {
				m->counted = 0;
				CHECK(pml_resource_release(res, m->name) == 0);
			}
		} else if (op < 65) {
			/* An unload by someone (idle policy, rmmod): only at refcount 0. */
			if (!m->loaded || m->base || m->refcnt)
				goto next;
			m->loaded = false;
			m->counted = 0;
			CHECK(pml_resource_release(res, m->name) == 0);
		} else if (op < 75) {
			int r = pml_resource_need(res, m->name);

			CHECK((r == 0) == (m->loaded || m->pending || m->base));
		} else if (op < 90) {
			/* A user takes or drops the module. */
			int rc = rnd() % 3 ? 0 : (int)(1 + rnd() % 3);
			int r;

			r = pml_resource_set_refcnt(res, m->name, rc);
			CHECK((r == 0) == (m->loaded || m->pending || m->base));
			if (r == 0) {
				m->refcnt = rc;
				if (m->pending && rc > 0) {
					/* Being used means the load finished. */
					m->pending = false;
					m->loaded = true;
				}
			}
		} else {
			clock_ns += (rnd() % 3000) * 1000000ULL;
		}
next:
		pml_resource_status(res, &rs);
		CHECK(rs.counted == model_counted());
		if (unit_failed != fails && failures_before == 0) {
			failures_before = unit_failed;
			fprintf(stderr, "first failure: seed %" PRIu64 " step %d op %u module %s\n",
				seed, step, op, m->name);
		}
	}
	pml_resource_free(res);
}

int main(void)
{
	static const struct {
		int64_t budget, hard;
		double cpu;
	} cfgs[] = {
		{1 << 20, 0, 0},		/* soft budget only */
		{1 << 20, 3 << 19, 0},		/* soft 1 MiB, hard 1.5 MiB */
		{512 << 10, 512 << 10, 200},	/* hard = soft, CPU budget */
		{0, 2 << 20, 100},		/* hard limit only */
	};
	struct stats total = {0};
	int steps = 5000;

	for (unsigned c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++)
		for (uint64_t seed = 1; seed <= 5; seed++) {
			struct stats st = {0};

			run(seed + 100 * c, steps, cfgs[c].budget, cfgs[c].hard, cfgs[c].cpu, &st);
			total.grants += st.grants;
			total.evict_grants += st.evict_grants;
			total.refusals += st.refusals;
			total.over_soft += st.over_soft;
			total.crit += st.crit;
			total.crit_refused += st.crit_refused;
			total.evicted += st.evicted;
			total.present += st.present;
		}
	printf("invariant: %d runs x %d steps: %u grants (%u after evictions, %u modules "
	       "evicted), %u refusals, %u critical misses (%u over the soft budget, %u refused "
	       "for the hard limit), %u already present\n",
	       20, steps, total.grants, total.evict_grants, total.evicted, total.refusals,
	       total.crit, total.over_soft, total.crit_refused, total.present);
	/* The runs must exercise every branch, or the invariants prove little. */
	CHECK(total.evict_grants > 100 && total.refusals > 100 && total.over_soft > 10);
	CHECK(total.crit_refused > 0);
	return unit_done("resource-invariant");
}
