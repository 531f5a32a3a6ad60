/* The resource manager: the monitors' parsers on fixture files (and the reader on a
 * fixture /proc), the priority order, each decision (grant, grant after evict, refusals,
 * a critical miss over the soft budget), the CPU token bucket, what may never be evicted,
 * sync with the kernel's list, and the status. The clock is the test's. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resource/monitor.h"
#include "resource/resource.h"
#include "unit.h"

static char fixdir[1024];
static uint64_t clock_ns = 1000000000ULL;

static uint64_t test_now(void *data)
{
	return clock_ns;
}

static void advance_ms(double ms)
{
	clock_ns += (uint64_t)(ms * 1e6);
}

static char *fixture_text(const char *name)
{
	char path[1200];
	char *text = NULL;

	snprintf(path, sizeof(path), "%s/resource/%s", fixdir, name);
	if (pml_monitor_read_file(path, &text) < 0) {
		fprintf(stderr, "cannot read fixture %s\n", path);
		return NULL;
	}
	return text;
}

static void test_parsers(void)
{
	struct pml_meminfo mi;
	struct pml_cpustat c1, c2;
	struct pml_netdev nd;
	struct pml_modsum ms;
	char *t;

	t = fixture_text("proc/meminfo");
	CHECK(t && pml_meminfo_parse(t, &mi) == 0);
	CHECK(mi.total == 512000LL * 1024);
	CHECK(mi.free == 310000LL * 1024);
	CHECK(mi.available == 409600LL * 1024);
	free(t);
	t = fixture_text("meminfo-old");
	CHECK(t && pml_meminfo_parse(t, &mi) == 0 && mi.available == -1 && mi.total > 0);
	free(t);
	CHECK(pml_meminfo_parse("", &mi) == -EINVAL);
	CHECK(pml_meminfo_parse("garbage\nmore: x\n", &mi) == -EINVAL);

	t = fixture_text("proc/stat");
	CHECK(t && pml_cpustat_parse(t, &c1) == 0);
	CHECK(c1.user == 1000 && c1.system == 500 && c1.idle == 8000 && c1.iowait == 100);
	CHECK(c1.ncpu == 2);
	free(t);
	t = fixture_text("proc2/stat");
	CHECK(t && pml_cpustat_parse(t, &c2) == 0);
	free(t);
	/* 300 jiffies passed, 100 of them idle. */
	CHECK(fabs(pml_cpustat_busy(&c1, &c2) - 2.0 / 3.0) < 1e-9);
	CHECK(pml_cpustat_busy(&c2, &c1) == -1);
	CHECK(pml_cpustat_busy(&c1, &c1) == -1);
	CHECK(pml_cpustat_parse("cpu0 1 2 3 4\n", &c1) == -EINVAL);
	CHECK(pml_cpustat_parse("cpu  1 2\n", &c1) == -EINVAL);
	/* An old kernel's four columns. */
	CHECK(pml_cpustat_parse("cpu  1 2 3 4\n", &c1) == 0 && c1.idle == 4 && c1.steal == 0);

	t = fixture_text("proc/net/dev");
	CHECK(t && pml_netdev_parse(t, &nd) == 0);
	CHECK(nd.n_ifaces == 2); /* lo excluded */
	CHECK(nd.rx_bytes == 1005000 && nd.tx_bytes == 206000);
	CHECK(nd.rx_packets == 1010 && nd.tx_packets == 512);
	free(t);
	t = fixture_text("net-dev-bad");
	CHECK(t && pml_netdev_parse(t, &nd) == -EINVAL);
	free(t);

	t = fixture_text("proc/modules");
	CHECK(t && pml_modsum_parse(t, &ms) == 0);
	CHECK(ms.count == 5 && ms.bytes == 434176 + 16384 + 32768 + 16384 + 16384);
	free(t);
	CHECK(pml_modsum_parse("", &ms) == 0 && ms.count == 0 && ms.bytes == 0);
}

static void test_monitor_read(void)
{
	struct pml_monitor_sample s;
	char dir[1200];

	snprintf(dir, sizeof(dir), "%s/resource/proc", fixdir);
	CHECK(pml_monitor_read(dir, 7, &s) == 4);
	CHECK(s.t_ns == 7 && s.ok_mem && s.ok_cpu && s.ok_net && s.ok_mod);
	CHECK(s.mod.count == 5);
	snprintf(dir, sizeof(dir), "%s/resource/proc2", fixdir);
	CHECK(pml_monitor_read(dir, 8, &s) == 3);
	CHECK(!s.ok_mod && s.ok_mem);
	CHECK(pml_monitor_read("/nonexistent", 9, &s) == 0);
	/* The live /proc of this machine: meminfo and stat at least. */
	CHECK(pml_monitor_read(NULL, 10, &s) >= 2 && s.ok_mem && s.ok_cpu);
	CHECK(s.mem.available > 0);
}

static struct pml_resource *new_res(int64_t budget, int64_t hard)
{
	struct pml_resource_config cfg = {
		.budget_mem = budget,
		.hard_mem = hard,
		.now_ns = test_now,
	};
	struct pml_resource *res = NULL;

	CHECK(pml_resource_new(&cfg, &res) == 0);
	return res;
}

static struct pml_res_request req(const char *m, int64_t bytes, enum pml_res_kind kind,
				  double urgency_ms, double p)
{
	return (struct pml_res_request){m, bytes, 10, kind, urgency_ms, p};
}

static void test_priority(void)
{
	struct pml_resource *res = new_res(0, 0);
	struct pml_res_request a, b;

	/* Urgency: 1 when the need is closer than the load takes, then falling as 1/t. */
	CHECK(pml_res_urgency(0, 50) == 1.0);
	CHECK(pml_res_urgency(50, 50) == 1.0);
	CHECK(fabs(pml_res_urgency(1100, 100) - 200.0 / 1200) < 1e-12);
	CHECK(pml_res_urgency(2000, 100) < pml_res_urgency(1000, 100));
	/* A slow module needed in 1 s is more urgent than a quick one needed as soon. */
	CHECK(pml_res_urgency(1000, 600) > pml_res_urgency(1000, 10));

	/* Criticality: a miss outranks any dependency, a dependency any prediction at the
	 * same urgency and confidence. */
	a = req("x", 1, PML_RES_CRITICAL_MISS, 1e6, 0.01);
	CHECK(pml_resource_priority(res, &a) == PML_RES_WEIGHT_CRITICAL);
	b = req("y", 1, PML_RES_DEPENDENCY, 0, 1.0);
	CHECK(pml_resource_priority(res, &a) > pml_resource_priority(res, &b));
	a = req("z", 1, PML_RES_PREDICTION, 0, 1.0);
	CHECK(pml_resource_priority(res, &b) > pml_resource_priority(res, &a));
	CHECK(pml_resource_priority(res, &a) == 1.0);
	/* Confidence and urgency scale it. */
	b = req("z", 1, PML_RES_PREDICTION, 0, 0.5);
	CHECK(pml_resource_priority(res, &b) == 0.5);
	b = req("z", 1, PML_RES_PREDICTION, 1e5, 1.0);
	CHECK(pml_resource_priority(res, &b) < 0.01);
	/* The product: sure but far ranks below near and likely. */
	a = req("q", 1, PML_RES_PREDICTION, 5, 0.6);
	b = req("r", 1, PML_RES_PREDICTION, 10000, 1.0);
	CHECK(pml_resource_priority(res, &a) > pml_resource_priority(res, &b));

	CHECK_STR(pml_res_kind_name(PML_RES_DEPENDENCY), "dependency");
	CHECK(pml_res_kind_from_name("critical") == PML_RES_CRITICAL_MISS);
	CHECK(pml_res_kind_from_name("prediction") == PML_RES_PREDICTION);
	CHECK(pml_res_kind_from_name("bogus") == -EINVAL);
	pml_resource_free(res);
}

static void test_decisions(void)
{
	struct pml_resource *res = new_res(1000, 0);
	struct pml_res_decision d;
	struct pml_res_request r;
	struct pml_res_status st;
	struct pml_res_module pm;

	/* Fits: grant, counted as pending until the load is reported. */
	r = req("a", 400, PML_RES_PREDICTION, 0, 0.5);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	CHECK(d.n_evict == 0 && d.priority == 0.5);
	CHECK(pml_resource_module(res, "a", &pm) == 0 && pm.pending && pm.bytes == 400);
	/* Asking again: present, nothing to do. */
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT && d.present);
	CHECK(pml_resource_loaded(res, "a", 400, 0) == 0);
	r = req("b", 400, PML_RES_PREDICTION, 0, 0.9);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	CHECK(pml_resource_loaded(res, "b", 400, 0) == 0);

	/* 800 counted of 1000: a prediction worth less than both idle modules is refused. */
	r = req("c", 400, PML_RES_PREDICTION, 0, 0.3);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_REFUSE);
	CHECK(d.refusal == PML_RES_OVER_BUDGET);
	CHECK(strstr(d.reason, "budget") != NULL);
	/* Worth more than a (0.5) but not b (0.9): a goes. */
	r = req("c", 400, PML_RES_PREDICTION, 0, 0.7);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT_AFTER_EVICT);
	CHECK(d.n_evict == 1 && !strcmp(d.evict[0], "a"));
	CHECK(pml_resource_module(res, "a", &pm) == 0 && !pm.loaded && !pm.pending);
	pml_resource_status(res, &st);
	CHECK(st.counted == 800 && st.n_pending == 1 && st.n_loaded == 1);
	CHECK(pml_resource_loaded(res, "c", 400, 0) == 0);

	/* Values decay with idle time: after a while b (used long ago) goes before c. */
	advance_ms(60000);
	CHECK(pml_resource_need(res, "c") == 0); /* c used now: worth a miss */
	r = req("d", 300, PML_RES_PREDICTION, 0, 0.6);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT_AFTER_EVICT);
	CHECK(d.n_evict == 1 && !strcmp(d.evict[0], "b"));
	CHECK(pml_resource_loaded(res, "d", 300, 0) == 0);

	/* In use (refcount > 0): never evicted, even by a miss; the miss goes over the soft
	 * budget instead. */
	CHECK(pml_resource_set_refcnt(res, "c", 1) == 0);
	CHECK(pml_resource_set_refcnt(res, "d", 2) == 0);
	r = req("e", 500, PML_RES_CRITICAL_MISS, 0, 0);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	CHECK(d.over_soft && d.n_evict == 0 && d.priority == PML_RES_WEIGHT_CRITICAL);
	pml_resource_status(res, &st);
	CHECK(st.counted == 1200 && st.over_soft == 1);
	CHECK(pml_resource_loaded(res, "e", 500, 1) == 0);
	/* Over budget now: even a sure, urgent prediction is refused. */
	r = req("f", 1, PML_RES_DEPENDENCY, 0, 1);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_REFUSE);
	/* c and d idle again: a miss evicts them to fit under the soft budget, lowest value
	 * first (d: 0.6 decayed; c was needed, worth 4 decayed). */
	CHECK(pml_resource_set_refcnt(res, "c", 0) == 0);
	CHECK(pml_resource_set_refcnt(res, "d", 0) == 0);
	r = req("g", 300, PML_RES_CRITICAL_MISS, 0, 0);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT_AFTER_EVICT);
	CHECK(!d.over_soft && d.n_evict == 2);
	CHECK(d.n_evict == 2 && !strcmp(d.evict[0], "d") && !strcmp(d.evict[1], "c"));
	pml_resource_status(res, &st);
	CHECK(st.counted == 800 && st.evictions == 4);

	/* Release: no longer counted; unknown modules say so. */
	CHECK(pml_resource_release(res, "g") == 0);
	CHECK(pml_resource_release(res, "g") == -ENOENT);
	CHECK(pml_resource_release(res, "never") == -ENOENT);
	/* A grant whose load failed is released the same way. */
	r = req("h", 100, PML_RES_PREDICTION, 0, 1);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	CHECK(pml_resource_release(res, "h") == 0);
	pml_resource_status(res, &st);
	CHECK(st.counted == 500);

	/* Bad requests. */
	r = req("bad name", 1, PML_RES_PREDICTION, 0, 1);
	CHECK(pml_resource_request(res, &r, &d) == -EINVAL && d.refusal == PML_RES_BAD_REQUEST);
	r = req("x", 1, PML_RES_PREDICTION, 0, 1.5);
	CHECK(pml_resource_request(res, &r, &d) == -EINVAL);
	r = req("x", 1, PML_RES_PREDICTION, -1, 0.5);
	CHECK(pml_resource_request(res, &r, &d) == -EINVAL);
	r = req("x", 1, PML_RES_PREDICTION, 0, NAN);
	CHECK(pml_resource_request(res, &r, &d) == -EINVAL);
	pml_resource_free(res);
}

static void test_protected_and_hard(void)
{
	struct pml_resource *res = new_res(1000, 1500);
	struct pml_res_decision d;
	struct pml_res_request r;
	struct pml_res_status st;

	/* Base modules are not counted and never evicted. */
	CHECK(pml_resource_set_base(res, "ext4", 900000) == 0);
	CHECK(pml_resource_loaded(res, "p", 600, 0) == 0);
	CHECK(pml_resource_pin(res, "p") == 0);
	CHECK(pml_resource_loaded(res, "q", 300, 0) == 0);
	pml_resource_status(res, &st);
	CHECK(st.counted == 900 && st.n_base == 1 && st.base_bytes == 900000);
	/* A request for a base module is present. */
	r = req("ext4", 1, PML_RES_PREDICTION, 0, 1);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.present);
	/* A miss of 700: 900 + 700 = 1600 is over the hard limit 1500. Evicting q (the only
	 * candidate: p is pinned) leaves 1300: over the soft budget 1000, within the hard
	 * limit. Granted over the soft budget, q evicted. */
	r = req("m", 700, PML_RES_CRITICAL_MISS, 0, 0);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT_AFTER_EVICT);
	CHECK(d.over_soft && d.n_evict == 1 && !strcmp(d.evict[0], "q"));
	pml_resource_status(res, &st);
	CHECK(st.counted == 1300);
	/* A miss that cannot fit the hard limit at all: refused, no-memory. */
	r = req("n", 300, PML_RES_CRITICAL_MISS, 0, 0);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_REFUSE);
	CHECK(d.refusal == PML_RES_NO_MEMORY);
	CHECK(pml_resource_set_budget_mem(res, 2000, 1000) == -EINVAL);
	CHECK(pml_resource_set_budget_mem(res, 2000, 0) == 0);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	pml_resource_free(res);

	/* MemAvailable as a hard limit: reserve 300 KiB of 400 KiB available leaves 100 KiB. */
	{
		struct pml_resource_config cfg = {.mem_reserve = 300 << 10, .now_ns = test_now};
		struct pml_monitor_sample s = {.t_ns = clock_ns, .ok_mem = true};

		CHECK(pml_resource_new(&cfg, &res) == 0);
		s.mem.available = 400 << 10;
		s.mem.total = 1 << 20;
		pml_resource_observe(res, &s);
		r = req("big", 101 << 10, PML_RES_PREDICTION, 0, 1);
		CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_NO_MEMORY);
		r = req("small", 60 << 10, PML_RES_PREDICTION, 0, 1);
		CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
		/* The grant consumed room the sample does not know of yet. */
		r = req("small2", 60 << 10, PML_RES_PREDICTION, 0, 1);
		CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_NO_MEMORY);
		pml_resource_status(res, &st);
		CHECK(st.hard_now == 100 << 10 && st.mem_available == 400 << 10);
		pml_resource_free(res);
	}
}

static bool pin_nf(void *data, const char *m)
{
	return !strncmp(m, "nf_", 3);
}

static void test_cpu_and_limits(void)
{
	struct pml_resource_config cfg = {
		.cpu_ms_per_s = 100, /* 10% of a CPU for loading */
		.cpu_burst_ms = 200,
		.min_priority = 0.05,
		.cpu_busy_limit = 0.9,
		.pinned_fn = pin_nf,
		.budget_mem = 100,
		.now_ns = test_now,
	};
	struct pml_resource *res = NULL;
	struct pml_res_decision d;
	struct pml_res_request r;
	struct pml_monitor_sample s = {0};

	CHECK(pml_resource_new(&cfg, &res) == 0);
	r = (struct pml_res_request){"a", 1, 150, PML_RES_PREDICTION, 0, 1};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	/* 50 ms of tokens left: a 100 ms load waits 0.5 s. */
	r = (struct pml_res_request){"b", 1, 100, PML_RES_PREDICTION, 0, 1};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_CPU_BUDGET);
	CHECK(fabs(d.retry_ms - 500) < 1e-6);
	/* A miss is never throttled, but spends tokens. */
	r = (struct pml_res_request){"m", 1, 100, PML_RES_CRITICAL_MISS, 0, 0};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	advance_ms(500);
	r = (struct pml_res_request){"b", 1, 100, PML_RES_PREDICTION, 0, 1};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_CPU_BUDGET);
	advance_ms(1000);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	/* A load longer than the bucket goes when the bucket is full. */
	advance_ms(10000);
	r = (struct pml_res_request){"btrfs", 1, 600, PML_RES_PREDICTION, 0, 1};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);

	/* Below the minimum priority. */
	advance_ms(10000);
	r = (struct pml_res_request){"c", 1, 1, PML_RES_PREDICTION, 0, 0.01};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_LOW_PRIORITY);

	/* Busy CPUs: two samples 95% busy. */
	s.ok_cpu = true;
	s.t_ns = clock_ns;
	s.cpu.idle = 1000;
	s.cpu.user = 0;
	pml_resource_observe(res, &s);
	s.t_ns += 1000000000;
	s.cpu.idle = 1005;
	s.cpu.user = 95;
	pml_resource_observe(res, &s);
	r = (struct pml_res_request){"c", 1, 1, PML_RES_PREDICTION, 0, 1};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_CPU_BUSY);
	r.kind = PML_RES_CRITICAL_MISS;
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);

	/* Pinned by rule: never an eviction candidate. */
	pml_resource_free(res);
	cfg.cpu_ms_per_s = 0;
	cfg.cpu_busy_limit = 0;
	CHECK(pml_resource_new(&cfg, &res) == 0);
	CHECK(pml_resource_loaded(res, "nf_tables", 90, 0) == 0);
	r = (struct pml_res_request){"x", 50, 1, PML_RES_CRITICAL_MISS, 0, 0};
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT && d.over_soft);
	pml_resource_free(res);
}

static void test_sync_status(void)
{
	struct pml_resource *res = new_res(1 << 20, 0);
	struct pml_res_loaded list[] = {{"sctp", 434176, 2}, {"libcrc32c", 16384, 3},
					{"vfat", 20000, 0}};
	struct pml_res_decision d;
	struct pml_res_request r;
	struct pml_res_status st;
	struct pml_res_module mods[8];
	char dir[1200], *json = NULL;
	size_t jlen = 0;
	FILE *f;

	CHECK(pml_resource_set_base(res, "ext4", 1000) == 0);
	r = req("tun", 5000, PML_RES_PREDICTION, 0, 1);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.verdict == PML_RES_GRANT);
	CHECK(pml_resource_sync(res, list, 3) == 0);
	pml_resource_status(res, &st);
	/* The three listed and the pending tun are counted; ext4 is base. */
	CHECK(st.counted == 434176 + 16384 + 20000 + 5000);
	CHECK(st.n_loaded == 3 && st.n_pending == 1 && st.n_in_use == 2);
	/* vfat gone from the list: dropped; tun still pending. */
	CHECK(pml_resource_sync(res, list, 2) == 0);
	pml_resource_status(res, &st);
	CHECK(st.counted == 434176 + 16384 + 5000);
	CHECK(pml_resource_modules(res, mods, 8) == 4); /* sctp libcrc32c tun ext4 */
	/* A known size is remembered: vfat asked again without bytes. */
	r = req("vfat", -1, PML_RES_PREDICTION, 0, 1);
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.bytes == 20000);
	CHECK(pml_resource_set_hint(res, "btrfs", 1700000, 600) == 0);
	r = req("btrfs", -1, PML_RES_PREDICTION, 0, 1);
	r.load_ms = -1;
	CHECK(pml_resource_request(res, &r, &d) == 0 && d.refusal == PML_RES_OVER_BUDGET);
	CHECK(d.bytes == 1700000);

	snprintf(dir, sizeof(dir), "%s/resource/proc", fixdir);
	CHECK(pml_resource_poll(res, dir) == 4);
	advance_ms(1000);
	snprintf(dir, sizeof(dir), "%s/resource/proc2", fixdir);
	CHECK(pml_resource_poll(res, dir) == 3);
	pml_resource_status(res, &st);
	CHECK(fabs(st.cpu_busy - 2.0 / 3.0) < 1e-9);
	CHECK(fabs(st.net_rx_bps - 500000) < 1e-6 && fabs(st.net_tx_bps - 100000) < 1e-6);
	CHECK(st.mem_available == 400000LL * 1024);
	CHECK(st.modules_bytes == 434176 + 16384 + 32768 + 16384 + 16384); /* kept from 1st */
	/* A sample too soon after the last (10 ms: a jiffy or so) does not make a rate. */
	{
		struct pml_monitor_sample s2;

		advance_ms(10);
		CHECK(pml_monitor_read(dir, clock_ns, &s2) == 3);
		s2.cpu.user += 1;
		pml_resource_observe(res, &s2);
		pml_resource_status(res, &st);
		CHECK(fabs(st.cpu_busy - 2.0 / 3.0) < 1e-9);
	}

	f = open_memstream(&json, &jlen);
	CHECK(pml_resource_status_json(res, f) == 0);
	fclose(f);
	CHECK(json && jlen > 0 && json[jlen - 1] == '\n' && !memchr(json, '\n', jlen - 1));
	CHECK(json && strstr(json, "\"budget\":1048576") != NULL);
	CHECK(json && strstr(json, "\"name\":\"sctp\",\"state\":\"loaded\"") != NULL);
	CHECK(json && strstr(json, "\"name\":\"ext4\",\"state\":\"base\"") != NULL);
	CHECK(json && strstr(json, "\"busy\":0.666") != NULL);
	free(json);
	pml_resource_free(res);
}

int main(void)
{
	const char *env = getenv("PML_TEST_FIXTURES");

	snprintf(fixdir, sizeof(fixdir), "%s", env ? env : "tests/fixtures");
	test_parsers();
	test_monitor_read();
	test_priority();
	test_decisions();
	test_protected_and_hard();
	test_cpu_and_limits();
	test_sync_status();
	return unit_done("resource");
}
