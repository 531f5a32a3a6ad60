/* The policy ops tables with an injected clock and hand-made module sets: reactive never
 * acts; idle-unload unloads a module after T seconds at refcount 0, never one in use,
 * never a base or pinned one, and restarts the idle time after a refused unload, doubling
 * the wait for each refusal in a row. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "unit.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

#define S(x) ((uint64_t)((x) * 1e9))

static struct pml_loaded mod(const char *name, int refcnt, int holders)
{
	struct pml_loaded m = {.bytes = 1000, .refcnt = refcnt, .n_holders = holders};

	snprintf(m.name, sizeof(m.name), "%s", name);
	return m;
}

static void event(struct pml_policy *p, enum pml_pol_event_kind kind, const char *module,
		  double t)
{
	struct pml_pol_event ev = {.kind = kind, .t_ns = S(t), .module = module, .bytes = -1};

	pml_policy_observe(p, &ev);
}

/* Decide at time t; return the number of actions, names joined in buf. */
static int decide_at(struct pml_policy *p, double t, struct pml_loaded *mods, size_t n,
		     char *buf, size_t size)
{
	struct pml_action acts[16];
	int r;

	fake_now = S(t);
	r = pml_policy_decide(p, mods, n, acts, 16);
	buf[0] = '\0';
	for (int i = 0; i < r; i++) {
		CHECK(acts[i].kind == PML_ACT_UNLOAD);
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " " : "",
			 acts[i].module);
	}
	return r;
}

static void test_lookup(void)
{
	struct pml_policy_config cfg = {.idle_seconds = -1};
	struct pml_policy *p = NULL;

	CHECK(pml_policy_find("reactive") == &pml_policy_reactive);
	CHECK(pml_policy_find("idle-unload") == &pml_policy_idle_unload);
	CHECK(pml_policy_find("reactive+idle-unload") == &pml_policy_idle_unload);
	CHECK(pml_policy_find("no-such-policy") == NULL);
	CHECK(pml_policy_new("no-such", NULL, &p) == -ENOENT);
	CHECK(pml_policy_new("idle-unload", &cfg, &p) == -EINVAL);
	CHECK(p == NULL);
}

static void test_reactive(void)
{
	struct pml_policy_config cfg = {.idle_seconds = 1, .clock = &clock};
	struct pml_loaded mods[] = {mod("sctp", 0, 0), mod("loop", 0, 0)};
	struct pml_policy *p;
	char buf[256];

	CHECK(pml_policy_new("reactive", &cfg, &p) == 0);
	event(p, PML_POL_LOAD, "sctp", 0);
	CHECK(decide_at(p, 0, mods, 2, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 1000, mods, 2, buf, sizeof(buf)) == 0);
	pml_policy_free(p);
}

static void test_idle_unload(void)
{
	const char *pinned[] = {"loop"};
	struct pml_policy_config cfg = {
		.idle_seconds = 5, .pinned = pinned, .n_pinned = 1, .clock = &clock};
	struct pml_loaded mods[] = {
		mod("sctp", 0, 0),	 mod("libcrc32c", 1, 1), mod("virtio_blk", 0, 0),
		mod("loop", 0, 0),	 mod("vfat", 1, 0),
	};
	struct pml_policy *p;
	char buf[256];

	fake_now = 0;
	CHECK(pml_policy_new("idle-unload", &cfg, &p) == 0);
	event(p, PML_POL_BASE, "virtio-blk", 0); /* '-' and '_' are one */
	CHECK(pml_policy_is_protected(p, "virtio_blk"));
	CHECK(pml_policy_is_protected(p, "loop"));
	CHECK(!pml_policy_is_protected(p, "sctp"));
	event(p, PML_POL_LOAD, "sctp", 0);

	CHECK(decide_at(p, 0.25, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 4.9, mods, 5, buf, sizeof(buf)) == 0);
	/* At T: sctp goes; libcrc32c (held), vfat (in use), base and pinned stay. */
	CHECK(decide_at(p, 5.0, mods, 5, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "sctp");
	{
		struct pml_action a;

		fake_now = S(5.0);
		CHECK(pml_policy_decide(p, mods, 5, &a, 1) == 1);
		CHECK_STR(a.reason, "idle 5.0 s");
		CHECK(a.confidence < 0);
	}
	/* The unload was refused: the idle time starts again. */
	event(p, PML_POL_BUSY, "sctp", 5.0);
	CHECK(decide_at(p, 9.9, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 10.0, mods, 5, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "sctp");
	/* Refused again (its interfaces exist): each refusal in a row doubles the wait,
	 * so a module kept for what it serves is not retried every T: 2T, 4T, 8T, 16T,
	 * 16T. */
	{
		double t = 10.0, w = 10.0;

		for (int i = 0; i < 5; i++) {
			event(p, PML_POL_BUSY, "sctp", t);
			CHECK(decide_at(p, t + w - 0.1, mods, 5, buf, sizeof(buf)) == 0);
			CHECK(decide_at(p, t + w, mods, 5, buf, sizeof(buf)) == 1);
			t += w;
			if (w < 80)
				w *= 2;
		}
		/* a use starts the count again: back to T */
		event(p, PML_POL_NEED, "sctp", t);
		event(p, PML_POL_BUSY, "sctp", t + 5);
		CHECK(decide_at(p, t + 9.9, mods, 5, buf, sizeof(buf)) == 0);
		CHECK(decide_at(p, t + 10, mods, 5, buf, sizeof(buf)) == 1);
		fake_now = 0;
	}
	event(p, PML_POL_UNLOAD, "sctp", 10.0);

	/* sctp gone: its dependency is free now, idle from the first tick that sees it so. */
	mods[0] = mod("vfat", 1, 0);
	mods[1] = mod("libcrc32c", 0, 0);
	mods[4] = mod("fat", 1, 1);
	CHECK(decide_at(p, 10.25, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 15.2, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 15.25, mods, 5, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "libcrc32c");

	/* vfat was in use until 20 s, then released. */
	mods[1] = mod("nls_cp437", 1, 0);
	CHECK(decide_at(p, 20.0, mods, 5, buf, sizeof(buf)) == 0);
	mods[0] = mod("vfat", 0, 0);
	CHECK(decide_at(p, 20.5, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 25.4, mods, 5, buf, sizeof(buf)) == 0);
	/* A need in between restarts its idle time. */
	event(p, PML_POL_NEED, "vfat", 22.0);
	CHECK(decide_at(p, 26.9, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 27.0, mods, 5, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "vfat");
	/* So does a request of the kernel's for it while loaded (refcount still 0: a
	 * transaction of nf_tables replayed after an autoload), and a later use in replay;
	 * and each need after the first doubles the wait (a caller retrying, whose replays
	 * come further apart as the transaction grows): 2T, 4T, 8T, 16T, 16T. */
	event(p, PML_POL_REQUEST, "vfat", 26.0);
	CHECK(decide_at(p, 35.9, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 36.0, mods, 5, buf, sizeof(buf)) == 1);
	event(p, PML_POL_USE, "vfat", 30.0);
	CHECK(decide_at(p, 49.9, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 50.0, mods, 5, buf, sizeof(buf)) == 1);
	{
		double w = 40;

		for (int i = 0; i < 3; i++, w = 80) {
			event(p, PML_POL_NEED, "vfat", 50.0);
			CHECK(decide_at(p, 50.0 + w - 0.1, mods, 5, buf, sizeof(buf)) == 0);
			CHECK(decide_at(p, 50.0 + w, mods, 5, buf, sizeof(buf)) == 1);
		}
	}
	/* unloaded and loaded again: back to T after its first need */
	event(p, PML_POL_UNLOAD, "vfat", 130.0);
	event(p, PML_POL_LOAD, "vfat", 131.0);
	event(p, PML_POL_NEED, "vfat", 131.0);
	CHECK(decide_at(p, 135.9, mods, 5, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 136.0, mods, 5, buf, sizeof(buf)) == 1);

	/* Base and pinned modules never go, however long they idle. */
	CHECK(decide_at(p, 1000, mods + 2, 2, buf, sizeof(buf)) == 0);
	pml_policy_free(p);
}

static void request(struct pml_policy *p, const char *module, uint32_t pid, double t)
{
	struct pml_pol_event ev = {.kind = PML_POL_REQUEST, .t_ns = S(t), .module = module,
				   .alias = module, .bytes = -1, .pid = pid};

	pml_policy_observe(p, &ev);
}

/* A trace record of process pid, of kind */
static void proc_record(struct pml_policy *p, uint32_t pid, uint16_t kind, double t)
{
	struct pml_tev_proc rec = {.h = {.t_ns = S(t), .pid = pid, .tid = pid, .kind = kind,
					 .size = sizeof(rec)}};
	struct pml_pol_event ev = {.kind = PML_POL_TRACE, .t_ns = S(t), .bytes = -1,
				   .tev = &rec.h};

	pml_policy_observe(p, &ev);
}

static void exits(struct pml_policy *p, uint32_t pid, double t)
{
	proc_record(p, pid, PML_TEV_EXIT, t);
}

/* A record of process pid in the program's trace (it runs: its exit will be seen) */
static void runs(struct pml_policy *p, uint32_t pid, double t)
{
	proc_record(p, pid, PML_TEV_EXECVE, t);
}

/* What the kernel asked for for a process stays while that process lives (one `nft -f`
 * whose transaction nf_tables replays after each autoload, pinning nothing until the
 * commit), up to 16T when its exit is never seen; then T as any other. Only for a
 * process of the program's trace: for any other (no trace yet, a kernel thread such as
 * cryptomgr_probe) no exit could end the hold. */
static void test_requester_hold(void)
{
	struct pml_policy_config cfg = {.idle_seconds = 1, .clock = &clock};
	struct pml_loaded mods[] = {mod("nft_objref", 0, 0), mod("nft_reject", 0, 0),
				    mod("sctp", 0, 0)};
	struct pml_policy *p;
	char buf[256];

	fake_now = 0;
	CHECK(pml_policy_new("idle-unload", &cfg, &p) == 0);
	/* no trace yet (its exits could not be seen): no hold */
	event(p, PML_POL_LOAD, "nft_objref", 0);
	request(p, "nft_objref", 41, 0);
	CHECK(decide_at(p, 1.0, mods, 1, buf, sizeof(buf)) == 1);
	event(p, PML_POL_UNLOAD, "nft_objref", 1.0);
	exits(p, 40, 0); /* the program's trace flows */
	runs(p, 42, 0);
	runs(p, 43, 0);
	runs(p, 45, 0);
	for (int i = 0; i < 3; i++)
		event(p, PML_POL_LOAD, mods[i].name, 0);
	request(p, "nft_objref", 42, 0.1);
	request(p, "nft_reject", 43, 0.1);
	event(p, PML_POL_NEED, "sctp", 0.1); /* no process said: T */
	CHECK(decide_at(p, 1.1, mods, 3, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "sctp");
	event(p, PML_POL_UNLOAD, "sctp", 1.1);
	/* 42 and 43 live: nothing goes; another process's exit changes nothing */
	exits(p, 44, 5.0);
	CHECK(decide_at(p, 9.0, mods, 2, buf, sizeof(buf)) == 0);
	/* 42 exits at 10: nft_objref idle from then, T */
	exits(p, 42, 10.0);
	CHECK(decide_at(p, 10.9, mods, 2, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 11.0, mods, 2, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "nft_objref");
	event(p, PML_POL_UNLOAD, "nft_objref", 11.0);
	/* 43's exit never comes: held to 16T after its request, then T */
	CHECK(decide_at(p, 16.0, mods + 1, 1, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 16.1, mods + 1, 1, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 17.0, mods + 1, 1, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 17.1, mods + 1, 1, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "nft_reject");
	event(p, PML_POL_UNLOAD, "nft_reject", 17.1);
	/* a miss: the request comes first, a decision before the load, then the load */
	request(p, "nft_reject", 45, 20.0);
	CHECK(decide_at(p, 20.05, mods + 2, 1, buf, sizeof(buf)) == 0); /* sctp: gone */
	event(p, PML_POL_LOAD, "nft_reject", 20.1);
	CHECK(decide_at(p, 22.0, mods + 1, 1, buf, sizeof(buf)) == 0);
	exits(p, 45, 22.0);
	CHECK(decide_at(p, 23.0, mods + 1, 1, buf, sizeof(buf)) == 1);
	event(p, PML_POL_UNLOAD, "nft_reject", 23.0);
	/* a process the trace never showed (a kernel thread: cryptomgr_probe asking for a
	 * cipher) holds nothing: T; nor does one whose exit came (45, again) */
	request(p, "sctp", 77, 30.0);
	event(p, PML_POL_LOAD, "sctp", 30.0);
	CHECK(decide_at(p, 30.9, mods + 2, 1, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 31.0, mods + 2, 1, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "sctp");
	event(p, PML_POL_UNLOAD, "sctp", 31.0);
	request(p, "nft_reject", 45, 32.0);
	event(p, PML_POL_LOAD, "nft_reject", 32.0);
	CHECK(decide_at(p, 33.0, mods + 1, 1, buf, sizeof(buf)) == 1);
	pml_policy_free(p);
}

static bool pin_nls(void *data, const char *module)
{
	(void)data;
	return !strncmp(module, "nls_", 4);
}

static void test_pinned_fn(void)
{
	struct pml_policy_config cfg = {.idle_seconds = 1, .pinned_fn = pin_nls,
					.clock = &clock};
	struct pml_loaded mods[] = {mod("nls_cp437", 0, 0), mod("vfat", 0, 0)};
	struct pml_policy *p;
	char buf[64];

	CHECK(pml_policy_new("idle-unload", &cfg, &p) == 0);
	CHECK(decide_at(p, 0, mods, 2, buf, sizeof(buf)) == 0);
	CHECK(decide_at(p, 2, mods, 2, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "vfat");
	pml_policy_free(p);
}

static void test_zero_ttl(void)
{
	struct pml_policy_config cfg = {.idle_seconds = 0, .clock = &clock};
	struct pml_loaded mods[] = {mod("tun", 0, 0), mod("nf_tables", 2, 0)};
	struct pml_policy *p;
	char buf[64];

	CHECK(pml_policy_new("idle-unload", &cfg, &p) == 0);
	CHECK(decide_at(p, 1, mods, 2, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "tun");
	pml_policy_free(p);
}

int main(void)
{
	test_lookup();
	test_reactive();
	test_idle_unload();
	test_requester_hold();
	test_pinned_fn();
	test_zero_ttl();
	return unit_done("policy-ops");
}
