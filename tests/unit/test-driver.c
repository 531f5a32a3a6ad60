/* The negotiation driver (src/policy/driver.c) through its two backends: one scripted
 * scenario runs live (pmld's agent over the in-memory loader, with its load worker) and in
 * replay (pml_sim_run over a hand-made trace and catalog of the same modules), and the
 * decisions the driver makes for each load are compared, field by field, between the two.
 *
 * The scenario, under a 100 KiB budget (a scripted policy asks for one load at each whole
 * second, lead 0, so a request's priority is its confidence):
 *   1 s  stp (needs llc), p 0.9      granted, queued (16 KiB with llc)
 *   2 s  a, p 0.3                   granted, queued
 *   3 s  b, p 0.5                   granted, queued (80 KiB counted)
 *   4 s  the program uses a (the manager, last told at its tick, still counts it idle);
 *        d, p 0.8                   granted after evicting a, the eviction is refused (in
 *                                   use): not loaded (the second rule)
 *   5 s  c, p 0.9                   granted after evicting b: b goes, c is queued
 *   6 s  bridge (needs stp, llc), p 0.9  granted after evicting stp and c: stp is what it
 *                                   loads with, so nothing is evicted and bridge is not
 *                                   loaded (the first rule)
 *   7 s  e, p 0.05                  refused: nothing idle is worth less
 * Before the driver, replay applied neither rule: it loaded d over the budget at 4 s, and
 * at 6 s evicted stp and c to load bridge, which brought stp back. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "policy/driver.h"
#include "sim/catalog.h"
#include "sim/sim.h"
#include "unit.h"

#define T0 10000000000ull /* both clocks start at 10 s */
#define S(x) ((uint64_t)((x) * 1e9))
#define BUDGET (100 * 1024)

/* ---- the script, and a policy that plays it ---- */

struct step {
	double t;
	const char *module;
	double confidence;
};

static const struct step script[] = {
	{1, "stp", 0.9}, {2, "a", 0.3}, {3, "b", 0.5}, {4, "d", 0.8},
	{5, "c", 0.9}, {6, "bridge", 0.9}, {7, "e", 0.05},
};
#define N_STEPS (sizeof(script) / sizeof(script[0]))

static int scripted_init(struct pml_policy *p)
{
	p->priv = calloc(1, sizeof(size_t)); /* the next step */
	return p->priv ? 0 : -ENOMEM;
}

static int scripted_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
			   struct pml_action *out, size_t max)
{
	size_t *next = p->priv;
	uint64_t now = pml_policy_now(p);
	int k = 0;

	while (*next < N_STEPS && (size_t)k < max && now >= T0 + S(script[*next].t)) {
		const struct step *st = &script[(*next)++];
		struct pml_action *a = &out[k++];

		memset(a, 0, sizeof(*a));
		a->kind = PML_ACT_LOAD;
		snprintf(a->module, sizeof(a->module), "%s", st->module);
		snprintf(a->reason, sizeof(a->reason), "prediction: scripted");
		a->confidence = st->confidence;
	}
	return k;
}

static void scripted_free(struct pml_policy *p)
{
	free(p->priv);
}

static const struct pml_policy_ops scripted = {
	.name = "scripted",
	.summary = "the test's script",
	.init = scripted_init,
	.decide = scripted_decide,
	.free = scripted_free,
};

/* ---- what the driver decided ---- */

struct seen {
	char module[64];
	struct pml_drive_result res;
};

struct journal {
	struct seen v[16];
	size_t n;
};

static void watch(void *data, const struct pml_action *act, const struct pml_drive_result *res)
{
	struct journal *j = data;

	if (j->n == sizeof(j->v) / sizeof(j->v[0]))
		return;
	snprintf(j->v[j->n].module, sizeof(j->v[j->n].module), "%s", act->module);
	j->v[j->n++].res = *res;
}

/* ---- live: the agent, its loader and its worker ---- */

static const char tree[] = "llc:\n"
			   "stp: llc\n"
			   "bridge: stp llc\n"
			   "a:\n"
			   "b:\n"
			   "c:\n"
			   "d:\n"
			   "e:\n"
			   "virtio_blk:\n"
			   "size llc 8192\n"
			   "size stp 8192\n"
			   "size bridge 40960\n"
			   "size a 32768\n"
			   "size b 32768\n"
			   "size c 40960\n"
			   "size d 24576\n"
			   "size e 40960\n"
			   "size virtio_blk 20480\n"
			   "alias alias-a a\n"
			   "loaded virtio_blk\n";

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

/* The worker inserts into a kernel of its own (the in-memory loader is one per loader):
 * what it loaded is inserted into the agent's too, as the one real kernel would show. */
static void settle(struct pml_agent *a, struct pml_loader *ld, struct journal *j, size_t from)
{
	CHECK(pml_agent_wait_idle(a, 5000) >= 0);
	for (size_t i = from; i < j->n; i++) {
		struct pml_op_result res;

		if (j->v[i].res.outcome == PML_DRIVE_QUEUED)
			CHECK(pml_loader_load(ld, j->v[i].module, 0, &res) == 0);
	}
}

static void run_live(struct journal *j)
{
	char log_path[] = "/tmp/pml-test-driver-XXXXXX";
	struct pml_agent_config cfg = {.policy_ops = &scripted, .log_path = log_path,
				       .clock = &clock, .budget_mem = BUDGET,
				       .on_drive = watch, .on_drive_data = j};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_kevent use = {.kind = PML_KEV_REQUEST, .pid = 100, .name = "alias-a"};
	int fd = mkstemp(log_path);

	if (fd >= 0)
		close(fd);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	CHECK(pml_loader_new_memory(tree, &cfg.worker_ld) == 0);
	fake_now = T0;
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1);
	for (int t = 1; t <= 7; t++) {
		size_t from = j->n;

		fake_now = T0 + S(t);
		if (t == 4) {
			/* The program uses a: the kernel shows a reference, and the decision
			 * comes on the kernel's event, before any tick tells the manager. */
			CHECK(pml_loader_memory_set_refcnt(ld, "a", 1) == 0);
			use.t_ns = fake_now;
			CHECK(pml_agent_handle(a, &use) == 0);
		} else {
			CHECK(pml_agent_tick(a) >= 0);
		}
		settle(a, ld, j, from);
	}
	pml_agent_free(a);
out:
	pml_loader_free(ld);
	unlink(log_path);
}

/* ---- replay: the same modules in a catalog, the use of a as a need in a trace ---- */

static void add_rec(struct pml_sim_trace *t, double s, uint32_t pid, unsigned kind,
		    const char *name)
{
	struct pml_tev_module m;

	memset(&m, 0, sizeof(m));
	m.h.t_ns = T0 + S(s);
	m.h.pid = m.h.tid = pid;
	m.h.kind = (uint16_t)kind;
	m.h.size = sizeof(m);
	m.h.nr = -1;
	m.arg = 1;
	snprintf(m.name, sizeof(m.name), "%s", name);
	CHECK(pml_sim_trace_add(t, &m.h) == 0);
}

static void add_syscall(struct pml_sim_trace *t, double s, uint32_t pid)
{
	struct pml_tev_hdr h = {.t_ns = T0 + S(s), .pid = pid, .tid = pid,
				.kind = PML_TEV_SYSCALL, .size = sizeof(h), .nr = 39};

	CHECK(pml_sim_trace_add(t, &h) == 0);
}

static void run_replay(struct journal *j)
{
	const char *llc[] = {"llc"}, *stp_llc[] = {"llc", "stp"}, *base[] = {"virtio_blk"};
	struct pml_sim_config cfg = {.policy_ops = &scripted, .budget_mem = BUDGET,
				     .on_drive = watch, .on_drive_data = j};
	struct pml_sim_catalog *cat = NULL;
	struct pml_sim_trace *t = pml_sim_trace_new();
	struct pml_sim_result *r = NULL;

	CHECK(pml_sim_catalog_new(NULL, &cat) == 0);
	if (!cat || !t)
		goto out;
	CHECK(pml_sim_catalog_add(cat, "llc", 8192, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add(cat, "stp", 8192, 10, llc, 1) == 0);
	CHECK(pml_sim_catalog_add(cat, "bridge", 40960, 20, stp_llc, 2) == 0);
	CHECK(pml_sim_catalog_add(cat, "a", 32768, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add(cat, "b", 32768, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add(cat, "c", 40960, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add(cat, "d", 24576, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add(cat, "e", 40960, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add(cat, "virtio_blk", 20480, 10, NULL, 0) == 0);
	CHECK(pml_sim_catalog_add_base(cat, base, 1) == 0);
	/* The program (pid 100) runs 8 s; at 4 s it needs a (the recorded run's modprobe
	 * inserted it): a hit on the prefetch, in use from then on. */
	add_syscall(t, 0, 100);
	add_rec(t, 4, 100, PML_TEV_MOD_REQUEST, "alias-a");
	add_rec(t, 4.005, 900, PML_TEV_MOD_LOAD, "a");
	add_syscall(t, 8, 100);
	CHECK(pml_sim_run(t, cat, &cfg, &r) == 0);
	if (r) {
		CHECK(r->m.needs == 1 && r->m.stalls == 0);
		CHECK(r->m.evictions == 1);
		CHECK(r->m.refused == 3); /* d, bridge (the rules) and e (the budget) */
	}
	pml_sim_result_free(r);
out:
	pml_sim_trace_free(t);
	pml_sim_catalog_free(cat);
}

/* ---- the comparison ---- */

static void test_same_decisions(void)
{
	static const enum pml_drive_outcome want[N_STEPS] = {
		PML_DRIVE_QUEUED,	   PML_DRIVE_QUEUED,	PML_DRIVE_QUEUED,
		PML_DRIVE_EVICT_REFUSED, PML_DRIVE_QUEUED,	PML_DRIVE_KEEPS_DEP,
		PML_DRIVE_REFUSED,
	};
	struct journal live = {0}, replay = {0};

	run_live(&live);
	run_replay(&replay);
	CHECK(live.n == N_STEPS);
	CHECK(replay.n == N_STEPS);
	for (size_t i = 0; i < N_STEPS && i < live.n && i < replay.n; i++) {
		const struct pml_drive_result *l = &live.v[i].res, *r = &replay.v[i].res;

		CHECK_STR(live.v[i].module, script[i].module);
		CHECK_STR(replay.v[i].module, script[i].module);
		if (l->outcome != want[i] || r->outcome != want[i])
			fprintf(stderr, "  step %zu (%s): live %s, replay %s, expected %s\n", i,
				script[i].module, pml_drive_outcome_name(l->outcome),
				pml_drive_outcome_name(r->outcome),
				pml_drive_outcome_name(want[i]));
		CHECK(l->outcome == want[i]);
		CHECK(r->outcome == want[i]);
		CHECK(l->d.verdict == r->d.verdict);
		CHECK(l->d.refusal == r->d.refusal);
		CHECK(l->d.bytes == r->d.bytes);
		CHECK(fabs(l->d.priority - r->d.priority) < 1e-9);
		CHECK(l->d.n_evict == r->d.n_evict);
		for (size_t k = 0; k < l->d.n_evict && k < r->d.n_evict; k++)
			CHECK_STR(l->d.evict[k], r->d.evict[k]);
		CHECK(l->evicted == r->evicted);
		CHECK_STR(l->kept, r->kept);
	}
	if (live.n == N_STEPS && replay.n == N_STEPS) {
		/* the requests are sized by what the load adds: stp with llc, bridge alone */
		CHECK(live.v[0].res.d.bytes == 16384);
		CHECK(live.v[5].res.d.bytes == 40960);
		CHECK_STR(live.v[3].res.kept, "a");
		CHECK(live.v[3].res.d.n_evict == 1);
		CHECK(live.v[4].res.d.verdict == PML_RES_GRANT_AFTER_EVICT);
		CHECK(live.v[4].res.evicted == 1);
		CHECK_STR(live.v[4].res.d.evict[0], "b");
		CHECK_STR(live.v[5].res.kept, "stp");
		CHECK(live.v[5].res.d.n_evict == 2);
		CHECK(live.v[5].res.evicted == 0);
		CHECK(live.v[6].res.d.refusal == PML_RES_OVER_BUDGET);
	}
}

int main(void)
{
	test_same_decisions();
	return unit_done("driver");
}
