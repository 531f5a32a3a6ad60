/* The load worker over the in-memory loader (results through the eventfd, dependencies
 * first, a failing insert, a duplicate refused while queued, held), and the agent's
 * predictive path: a kernel request -> markov -> the resource manager -> the worker (held
 * until the miss's own load shows) -> a load record
 * with the prediction's reason and confidence; a budget too small for a prefetch gives a
 * logged refusal and no load; the kernel's record of a prefetched module in use marks it
 * used. Every use seen (issue 18 item 1): a prefetch's references are watched from its
 * queueing on, and a use shorter than a tick (a reference taken and dropped between two
 * ticks, one taken while the worker was still inserting it, an interface of its kind made)
 * counts it used, not wasted. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/needs-train.h"
#include "run/run-report.h"
#include "agent/worker.h"
#include "resource/resource.h"
#include "unit.h"
#include "util/timeutil.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

#define S(x) ((uint64_t)((x) * 1e9))

static const char tree[] = "sctp: libcrc32c\n"
			   "libcrc32c:\n"
			   "vfat: fat\n"
			   "fat:\n"
			   "loop:\n"
			   "dummy:\n"
			   "bad:\n"
			   "virtio_blk:\n"
			   "size sctp 438272\n"
			   "size libcrc32c 16384\n"
			   "size vfat 24576\n"
			   "size fat 90112\n"
			   "size loop 32768\n"
			   "size virtio_blk 20480\n"
			   "alias net-pf-10-proto-132 sctp\n"
			   "alias fs-vfat vfat\n"
			   "alias rtnl-link-dummy dummy\n"
			   "loaded virtio_blk\n"
			   "fail bad 19\n";

static char fixtures[512];

static void test_worker(void)
{
	struct pml_loader *ld = NULL;
	struct pml_worker *w = NULL;
	struct pml_load_job j1 = {.module = "sctp", .confidence = 0.8};
	struct pml_load_job j2 = {.module = "bad", .confidence = 0.5};
	struct pml_load_job j3 = {.module = "loop"};
	struct pml_load_done done[8];
	size_t got = 0, want = 2;

	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	CHECK(pml_worker_new(ld, 4, &w) == 0);
	if (!w)
		return;
	CHECK(pml_worker_submit(w, &j1) == 0);
	CHECK(j1.id == 1);
	{
		/* queued or being loaded: a second job for it is refused (once loaded and
		 * waiting to be collected, it is a new job: the loader finds it loaded) */
		struct pml_load_job again = {.module = "sctp"};
		int r = pml_worker_submit(w, &again);

		CHECK(r == -EEXIST || r == 0);
		want += r == 0;
	}
	CHECK(pml_worker_submit(w, &j2) == 0);
	for (int tries = 0; got < want && tries < 500; tries++) {
		struct pollfd pfd = {.fd = pml_worker_fd(w), .events = POLLIN};

		if (poll(&pfd, 1, 10) > 0)
			got += pml_worker_collect(w, done + got, 8 - got);
	}
	CHECK(got == want);
	CHECK_STR(done[0].job.module, "sctp");
	CHECK(done[0].err == 0);
	CHECK(done[0].res.n == 2);
	CHECK_STR(done[0].res.mods[0].name, "libcrc32c"); /* dependencies first */
	CHECK_STR(done[0].res.mods[1].name, "sctp");
	CHECK(done[0].res.mods[1].done);
	CHECK(done[0].job.confidence == 0.8);
	CHECK_STR(done[got - 1].job.module, "bad"); /* in the order submitted */
	CHECK(done[got - 1].err == -19);
	/* held: nothing starts until released */
	pml_worker_hold(w, true);
	CHECK(pml_worker_submit(w, &j3) == 0);
	usleep(20000);
	CHECK(pml_worker_collect(w, done, 8) == 0);
	CHECK(pml_worker_has(w, "loop"));
	pml_worker_hold(w, false);
	for (int tries = 0; tries < 500; tries++) {
		struct pollfd pfd = {.fd = pml_worker_fd(w), .events = POLLIN};

		if (poll(&pfd, 1, 10) > 0 && pml_worker_collect(w, done, 8) == 1)
			break;
	}
	CHECK_STR(done[0].job.module, "loop");
	CHECK(done[0].err == 0 && done[0].res.n == 1 && done[0].res.mods[0].done);
	CHECK(pml_worker_busy(w) == 0);
	CHECK(!pml_worker_has(w, "sctp"));
	/* a collect with nothing there returns 0 and does not block */
	CHECK(pml_worker_collect(w, done, 8) == 0);
	pml_worker_free(w);
}

/* A fake filter write: waits like the kernel's grace period, and notes which names the
 * worker's loader (read on the worker's thread, as fn runs there) had not inserted yet. */
struct fake_filter {
	struct pml_loader *ld;
	int sleep_us;
	int fail;
	unsigned writes;
	char last[8][64];
	size_t n_last;
	char before[8][64]; /* names written before their insert */
	size_t n_before;
	bool vfat_loaded_at_write; /* vfat loaded when a write came */
};

static int fake_filter_write(void *data, const char (*names)[64], size_t n)
{
	struct fake_filter *f = data;

	f->writes++;
	if (f->fail)
		return f->fail;
	usleep((useconds_t)f->sleep_us);
	f->n_last = 0;
	for (size_t i = 0; i < n && i < 8; i++) {
		memcpy(f->last[f->n_last++], names[i], 64);
		if (pml_loader_refcnt(f->ld, names[i]) < 0 && f->n_before < 8)
			memcpy(f->before[f->n_before++], names[i], 64);
	}
	f->vfat_loaded_at_write = pml_loader_refcnt(f->ld, "vfat") >= 0;
	return (int)f->n_last;
}

static bool worker_idle(struct pml_worker *w)
{
	struct pml_load_done done[8];

	for (int tries = 0; tries < 500; tries++) {
		pml_worker_collect(w, done, 8);
		if (!pml_worker_busy(w))
			return true;
		usleep(2000);
	}
	return false;
}

/* Issue 18 item 2: the watch set's writes (~20-30 ms each in the kernel) are the worker's,
 * not the loop's: handing a set over and queueing a load return at once; a watched
 * module's name is written before its insert, with the names of the jobs behind it in the
 * same write, held or not; a removal waits for the worker to be idle and unheld, never
 * before an insert; a failing write stops the writes and is reported. */
static void test_worker_watch(void)
{
	static const char two[2][64] = {"loop", "sctp"};
	static const char one[1][64] = {"sctp"};
	struct fake_filter f = {.sleep_us = 30000};
	struct pml_loader *ld = NULL;
	struct pml_worker *w = NULL;
	struct pml_worker_watch_stats ws;
	struct pml_load_job j1 = {.module = "loop"}, j2 = {.module = "sctp"};
	struct pml_load_job j3 = {.module = "vfat"};
	uint64_t t0;

	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	f.ld = ld; /* the worker's own: fn reads it on the worker's thread only */
	CHECK(pml_worker_new(ld, 8, &w) == 0);
	if (!w)
		return;
	pml_worker_set_watch(w, fake_filter_write, &f);
	CHECK(pml_worker_watch(w, two, 0) == 0); /* empty: what a new source holds */
	CHECK(worker_idle(w) && f.writes == 0);
	pml_worker_hold(w, true); /* both queued before the worker takes one */
	t0 = pml_now_ns();
	CHECK(pml_worker_submit(w, &j1) == 0 && pml_worker_submit(w, &j2) == 0);
	CHECK(pml_worker_watch(w, two, 2) == 0);
	CHECK(pml_now_ns() - t0 < 10000000ull); /* the caller never waits the write out */
	usleep(60000);
	CHECK(f.writes == 1); /* new names: written even while held */
	pml_worker_hold(w, false);
	CHECK(worker_idle(w));
	CHECK(f.writes == 1); /* one write for both, before the first insert */
	CHECK(f.n_before == 2);
	CHECK(f.n_before == 2 && !strcmp(f.before[0], "loop") && !strcmp(f.before[1], "sctp"));
	/* loop used: its name leaves; vfat (not watched: the API's) queued behind the change.
	 * The insert does not wait for the removal: it is written once the worker is idle and
	 * not held (a miss's load takes the lock the write holds). */
	pml_worker_hold(w, true);
	CHECK(pml_worker_watch(w, one, 1) == 0);
	CHECK(pml_worker_submit(w, &j3) == 0);
	usleep(40000);
	CHECK(f.writes == 1);
	pml_worker_hold(w, false);
	CHECK(worker_idle(w));
	CHECK(f.writes == 2 && f.n_last == 1 && !strcmp(f.last[0], "sctp"));
	CHECK(f.vfat_loaded_at_write);
	/* the same set again: nothing to write */
	CHECK(pml_worker_watch(w, one, 1) == 0);
	CHECK(worker_idle(w) && f.writes == 2);
	pml_worker_watch_stats(w, &ws);
	CHECK(ws.writes == 2 && ws.err == 0 && ws.ms >= 50 && ws.held == 1);
	/* a failing write is kept and stops the writes */
	f.fail = -ENODEV;
	CHECK(pml_worker_watch(w, two, 2) == 0);
	CHECK(worker_idle(w));
	CHECK(pml_worker_watch(w, one, 1) == 0);
	CHECK(worker_idle(w) && f.writes == 3);
	pml_worker_watch_stats(w, &ws);
	CHECK(ws.err == -ENODEV);
	/* detached: no write, even with a change */
	pml_worker_set_watch(w, NULL, NULL);
	CHECK(pml_worker_watch(w, two, 2) == 0);
	CHECK(worker_idle(w) && f.writes == 3);
	pml_worker_free(w);
}

static bool log_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/* The worker's loader of the last agent() (the agent owns it; only its thread reads it). */
static struct pml_loader *worker_ld;

static struct pml_agent *agent(struct pml_needs_model *m, int64_t budget, char *log_path,
			       struct pml_loader **ret_ld)
{
	struct pml_agent_config cfg = {.policy = "markov", .log_path = log_path,
				       .clock = &clock, .needs_model = m, .threshold = 0.5,
				       .budget_mem = budget};
	struct pml_agent *a = NULL;
	int fd;

	fd = mkstemp(log_path);
	if (fd >= 0)
		close(fd);
	CHECK(pml_loader_new_memory(tree, ret_ld) == 0);
	CHECK(pml_loader_new_memory(tree, &cfg.worker_ld) == 0);
	worker_ld = cfg.worker_ld;
	CHECK(pml_agent_new(&cfg, *ret_ld, &a) == 0);
	if (a)
		CHECK(pml_agent_start(a) == 1);
	return a;
}

static void request(struct pml_agent *a, const char *alias, double t)
{
	struct pml_kevent ev = {.kind = PML_KEV_REQUEST, .t_ns = S(t), .pid = 7};

	fake_now = S(t);
	snprintf(ev.name, sizeof(ev.name), "%s", alias);
	snprintf(ev.comm, sizeof(ev.comm), "socat");
	CHECK(pml_agent_handle(a, &ev) == 0);
}

static void kload(struct pml_agent *a, const char *name, double t)
{
	struct pml_kevent ev = {.kind = PML_KEV_LOAD, .t_ns = S(t), .pid = 7};

	fake_now = S(t);
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	CHECK(pml_agent_handle(a, &ev) == 0);
}

static bool loaded_in(struct pml_loader *ld, const char *name)
{
	return pml_loader_refcnt(ld, name) >= 0;
}

static bool tick_ok(struct pml_agent *a, double t)
{
	fake_now = S(t);
	return pml_agent_tick(a) >= 0;
}

static void test_predictive_path(void)
{
	char path[600], log_path[] = "/tmp/pml-test-agent-worker-XXXXXX";
	struct pml_needs_model *m = NULL;
	struct pml_loader *ld = NULL;
	struct pml_agent *a;
	struct pml_report *rep = NULL;
	struct pml_res_module acct;

	CHECK(pml_needs_model_new(30, 0.5, &m) == 0);
	snprintf(path, sizeof(path), "%s/policy/reactive-a.jsonl", fixtures);
	CHECK(pml_needs_train_log(m, path) > 0);
	snprintf(path, sizeof(path), "%s/policy/reactive-b.jsonl", fixtures);
	CHECK(pml_needs_train_log(m, path) > 0);

	a = agent(m, 0, log_path, &ld);
	if (!a)
		goto out;
	request(a, "net-pf-10-proto-132", 2);
	/* the program waits on sctp: the worker is held until its load shows */
	usleep(20000);
	CHECK(pml_agent_collect(a) == 0);
	CHECK(pml_agent_stats(a)->prefetched == 0);
	kload(a, "sctp", 2.1);
	{
		int got = pml_agent_wait_idle(a, 5000);

		CHECK(got == 3); /* loop, vfat and vfat's fat */
	}
	CHECK(pml_agent_stats(a)->predictions == 2);
	CHECK(pml_agent_stats(a)->prefetched == 3);
	CHECK(log_has(log_path, "\"resource: grant loop"));
	/* the request counts vfat with its dependency fat (the needs model has no size for
	 * fat: the loader's estimate, the memory backend's 88 KiB) */
	CHECK(log_has(log_path, "resource: grant vfat (priority"));
	CHECK(log_has(log_path, "prediction of 112.0 KiB"));
	CHECK(log_has(log_path, "\"event\":\"load\",\"module\":\"loop\""));
	CHECK(log_has(log_path, "\"confidence\":0.8"));
	CHECK(log_has(log_path, "\"reason\":\"prediction: after sctp (p 0.80, gap 1.4 s); queued "));
	CHECK(log_has(log_path, "dependency of vfat, prediction: after sctp"));
	/* typed: the predicted module's cause, its dependency's, the manager's verdict */
	CHECK(log_has(log_path, "\"event\":\"load\",\"module\":\"loop\",\"cause\":\"prefetch\""));
	CHECK(log_has(log_path, "\"event\":\"load\",\"module\":\"vfat\",\"cause\":\"prefetch\""));
	CHECK(log_has(log_path, "\"event\":\"load\",\"module\":\"fat\",\"cause\":\"dependency\""));
	CHECK(log_has(log_path, "\"event\":\"resource\",\"module\":\"loop\",\"verdict\":\"grant\","
			       "\"priority\":"));
	CHECK(log_has(log_path, "\"event\":\"start\",\"policy\":\"markov\""));
	CHECK(pml_resource_module(pml_agent_resource(a), "loop", &acct) == 0 && acct.loaded);
	/* the kernel then asks for vfat: the prefetch was used */
	request(a, "fs-vfat", 3);
	CHECK(log_has(log_path, "\"used: vfat (requested fs-vfat)\""));
	CHECK(log_has(log_path, "\"event\":\"used\",\"module\":\"vfat\",\"via\":\"request\""));
	CHECK(pml_agent_stats(a)->used == 1);
	pml_agent_stop(a);
	CHECK(log_has(log_path, "\"event\":\"stop\",\"bytes\":"));
	pml_agent_free(a);
	pml_loader_free(ld);
	/* the report counts the prefetches and the one never used */
	CHECK(pml_report_load(log_path, &rep) == 0);
	if (rep) {
		const struct pml_report_summary *s = pml_report_summary(rep);

		CHECK(s->predicted_loads == 2);
		CHECK(s->wasted == 1); /* loop: loaded, never seen used */
		pml_report_free(rep);
	}
	unlink(log_path);

	/* a budget below loop's 32 KiB: both prefetches refused, logged with the reason */
	snprintf(log_path, sizeof(log_path), "/tmp/pml-test-agent-worker-XXXXXX");
	a = agent(m, 16384, log_path, &ld);
	if (!a)
		goto out;
	request(a, "net-pf-10-proto-132", 2);
	kload(a, "sctp", 2.1);
	CHECK(pml_agent_wait_idle(a, 5000) == 0);
	CHECK(pml_agent_stats(a)->refused == 2);
	CHECK(log_has(log_path, "\"resource: refuse loop (over-budget"));
	CHECK(log_has(log_path, "\"event\":\"resource\",\"module\":\"loop\",\"verdict\":\"refuse\","
			       "\"refusal\":\"over-budget\""));
	CHECK(!log_has(log_path, "\"event\":\"load\",\"module\":\"loop\""));
	CHECK(pml_agent_stats(a)->prefetched == 0);
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(log_path);
out:
	pml_needs_model_free(m);
}

/* A source with no events of its own that remembers what it was told to watch. */
struct watching {
	struct pml_source base;
	char names[8][64];
	size_t n;
	/* with ld (the worker's loader: the writes run on its thread), the names written
	 * while ld did not have them loaded yet */
	struct pml_loader *ld;
	char before[8][64];
	size_t n_before;
	unsigned calls;
};

static int watching_fd(struct pml_source *s)
{
	return -1;
}

static int watching_read(struct pml_source *s, struct pml_kevent *evs, size_t max)
{
	return 0;
}

static void watching_free(struct pml_source *s)
{
}

static int watching_watch(struct pml_source *base, const char (*names)[64], size_t n)
{
	struct watching *w = (struct watching *)base;

	w->calls++;
	w->n = 0;
	for (size_t i = 0; i < n && w->n < 8; i++) {
		memcpy(w->names[w->n++], names[i], 64);
		if (w->ld && pml_loader_refcnt(w->ld, names[i]) < 0 && w->n_before < 8)
			memcpy(w->before[w->n_before++], names[i], 64);
	}
	return (int)w->n;
}

static const struct pml_source_ops watching_ops = {
	.name = "watching",
	.fd = watching_fd,
	.read = watching_read,
	.free = watching_free,
	.watch = watching_watch,
};

static bool watched(const struct watching *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->names[i], name))
			return true;
	return false;
}

static void get(struct pml_agent *a, const char *name, const char *site, double t)
{
	struct pml_kevent ev = {.kind = PML_KEV_GET, .t_ns = S(t), .pid = 300};

	fake_now = S(t);
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	snprintf(ev.comm, sizeof(ev.comm), "mount");
	snprintf(ev.site, sizeof(ev.site), "%s", site);
	CHECK(pml_agent_handle(a, &ev) == 0);
}

/* The line number of the first line of path holding needle, 0 when none. */
static int log_line(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, needle)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

/* markov's two prefetches after sctp (loop, vfat), both used only between ticks: vfat
 * mounted and unmounted between the ticks at 2.2 and 2.45 s, where the refcount reads 0;
 * loop opened while the worker was still inserting it. Before the references were
 * watched, both counted as wasted. */
static void test_short_use(void)
{
	char path[600], log_path[] = "/tmp/pml-test-agent-worker-XXXXXX";
	struct watching w = {.base = {.ops = &watching_ops}};
	struct pml_needs_model *m = NULL;
	struct pml_loader *ld = NULL;
	struct pml_report *rep = NULL;
	struct pml_op_result res;
	struct pml_agent *a;
	int load_line, used_line;

	CHECK(pml_needs_model_new(30, 0.5, &m) == 0);
	snprintf(path, sizeof(path), "%s/policy/reactive-a.jsonl", fixtures);
	CHECK(pml_needs_train_log(m, path) > 0);
	snprintf(path, sizeof(path), "%s/policy/reactive-b.jsonl", fixtures);
	CHECK(pml_needs_train_log(m, path) > 0);
	a = agent(m, 0, log_path, &ld);
	if (!a)
		goto out;
	w.ld = worker_ld;
	pml_agent_attach_source(a, &w.base);
	CHECK(w.n == 0); /* nothing to watch yet */
	request(a, "net-pf-10-proto-132", 2);
	kload(a, "sctp", 2.1);
	get(a, "loop", "lo_open+0x1c/0x70", 2.1);
	CHECK(pml_agent_stats(a)->used == 0); /* its load is not in the log yet */
	CHECK(pml_agent_wait_idle(a, 5000) == 3);
	/* queued: watched before the worker inserted them (its thread writes the filter) */
	{
		bool loop = false, vfat = false;

		for (size_t i = 0; i < w.n_before; i++) {
			loop |= !strcmp(w.before[i], "loop");
			vfat |= !strcmp(w.before[i], "vfat");
		}
		CHECK(loop && vfat);
	}
	/* the real kernel shows what the worker loaded: the ticks read it at refcount 0 */
	CHECK(pml_loader_load(ld, "loop", 0, &res) == 0);
	CHECK(pml_loader_load(ld, "vfat", 0, &res) == 0);
	load_line = log_line(log_path, "\"event\":\"load\",\"module\":\"loop\"");
	used_line = log_line(log_path, "\"used: loop (module_get by mount 300 at lo_open+0x1c/0x70)");
	CHECK(load_line > 0 && used_line > load_line);
	CHECK(!watched(&w, "loop") && watched(&w, "vfat") && w.n == 1);
	CHECK(tick_ok(a, 2.2));
	CHECK(pml_agent_stats(a)->used == 1);
	/* vfat: mounted and unmounted between two ticks */
	CHECK(pml_loader_memory_set_refcnt(ld, "vfat", 1) == 0);
	get(a, "vfat", "get_fs_type+0x2f/0xb0", 2.3);
	CHECK(pml_loader_memory_set_refcnt(ld, "vfat", 0) == 0);
	CHECK(tick_ok(a, 2.45));
	CHECK(log_has(log_path, "\"used: vfat (module_get by mount 300 at get_fs_type+0x2f/0xb0)"));
	CHECK(pml_agent_stats(a)->used == 2);
	CHECK(pml_agent_stats(a)->gets == 2);
	CHECK(pml_agent_wait_idle(a, 5000) == 0); /* the worker writes the set: no name left */
	CHECK(w.n == 0); /* nothing left to watch */
	/* a second reference is not a second use */
	get(a, "vfat", "get_fs_type+0x2f/0xb0", 2.5);
	CHECK(pml_agent_stats(a)->used == 2);
	pml_agent_stop(a);
	CHECK(log_has(log_path, "3 references seen"));
	pml_agent_free(a);
	pml_loader_free(ld);
	CHECK(pml_report_load(log_path, &rep) == 0);
	if (rep) {
		const struct pml_report_summary *s = pml_report_summary(rep);

		CHECK(s->predicted_loads == 2);
		CHECK(s->wasted == 0);
		pml_report_free(rep);
	}
	unlink(log_path);
out:
	pml_needs_model_free(m);
}

/* A policy that asks for dummy once, as a prediction, and from 10 s on to unload it (as
 * an idle unload would). */
static int dummy_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
			struct pml_action *out, size_t max)
{
	bool unload = pml_policy_now(p) >= S(10);

	if (!max || (p->priv && !unload))
		return 0;
	p->priv = &p->priv; /* asked */
	memset(out, 0, sizeof(*out));
	out->kind = unload ? PML_ACT_UNLOAD : PML_ACT_LOAD;
	snprintf(out->module, sizeof(out->module), "dummy");
	snprintf(out->reason, sizeof(out->reason), unload ? "idle 8.0 s" : "prediction: test");
	out->confidence = 0.9;
	return 1;
}

static const struct pml_policy_ops dummy_once = {
	.name = "dummy-once",
	.summary = "asks for dummy once",
	.decide = dummy_decide,
};

/* An interface kind: its interfaces hold no reference on the module, so the use is the
 * RTM_NEWLINK the tracer decodes (the link made and deleted at once), or the kprobe's
 * interface made with the module's setup function (test_netdev_use). */
static void test_link_kind_use(void)
{
	char log_path[] = "/tmp/pml-test-agent-worker-XXXXXX";
	struct pml_agent_config cfg = {.policy_ops = &dummy_once, .log_path = log_path,
				       .clock = &clock};
	struct pml_tev_netlink nl = {.h = {.t_ns = S(3), .pid = 400, .tid = 400,
					   .kind = PML_TEV_NETLINK, .size = sizeof(nl), .nr = 44},
				     .protocol = 0, .nlmsg_type = 16, .kind = "dummy"};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_report *rep = NULL;
	int fd = mkstemp(log_path);

	if (fd >= 0)
		close(fd);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	CHECK(pml_loader_new_memory(tree, &cfg.worker_ld) == 0);
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1);
	CHECK(tick_ok(a, 2));
	CHECK(pml_agent_wait_idle(a, 5000) == 1);
	nl.kind[0] = 'v'; /* another kind first: not a use of dummy */
	pml_agent_trace(a, &nl.h);
	CHECK(pml_agent_stats(a)->used == 0);
	{
		/* the kprobe's interface made by pmld itself (the module's init making dummy0
		 * during the worker's insert) is not a use */
		struct pml_kevent ev = {.kind = PML_KEV_NETDEV, .t_ns = S(2.5),
					.pid = (int)getpid(), .name = "dummy",
					.site = "dummy_setup"};

		CHECK(pml_agent_handle(a, &ev) == 0);
		CHECK(pml_agent_stats(a)->used == 0);
	}
	nl.kind[0] = 'd';
	pml_agent_trace(a, &nl.h);
	CHECK(pml_agent_stats(a)->used == 1);
	CHECK(log_has(log_path, "\"used: dummy (RTM_NEWLINK of kind dummy by pid 400)"));
	pml_agent_free(a);
	CHECK(pml_report_load(log_path, &rep) == 0);
	if (rep) {
		CHECK(pml_report_summary(rep)->predicted_loads == 1);
		CHECK(pml_report_summary(rep)->wasted == 0);
		pml_report_free(rep);
	}
out:
	pml_loader_free(ld);
	unlink(log_path);
}

/* A source holding one reference not read yet. */
static int pending_read(struct pml_source *base, struct pml_kevent *evs, size_t max)
{
	struct watching *w = (struct watching *)base;

	if (w->calls == 0 || !max || w->n == 0)
		return 0;
	memset(evs, 0, sizeof(*evs));
	evs->kind = PML_KEV_GET;
	evs->pid = 500;
	snprintf(evs->comm, sizeof(evs->comm), "ip");
	snprintf(evs->name, sizeof(evs->name), "%s", w->names[0]);
	w->calls = 0; /* read once */
	return 1;
}

static const struct pml_source_ops pending_ops = {
	.name = "pending",
	.fd = watching_fd,
	.read = pending_read,
	.free = watching_free,
	.watch = watching_watch,
};

/* An unload of a prefetch not seen used reads the source first: a reference waiting there
 * (the trace's drain decided before the source was read) makes it used, and not unloaded. */
static void test_use_before_unload(void)
{
	char log_path[] = "/tmp/pml-test-agent-worker-XXXXXX";
	struct pml_agent_config cfg = {.policy_ops = &dummy_once, .log_path = log_path,
				       .clock = &clock};
	struct watching w = {.base = {.ops = &pending_ops}};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_op_result res;
	int fd = mkstemp(log_path);

	if (fd >= 0)
		close(fd);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	CHECK(pml_loader_new_memory(tree, &cfg.worker_ld) == 0);
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1);
	pml_agent_attach_source(a, &w.base);
	CHECK(tick_ok(a, 2));
	CHECK(pml_agent_wait_idle(a, 5000) == 1);
	CHECK(pml_loader_load(ld, "dummy", 0, &res) == 0);
	CHECK(watched(&w, "dummy"));
	w.calls = 1; /* the reference is taken now; the source has not been read */
	CHECK(tick_ok(a, 10));
	CHECK(pml_agent_stats(a)->used == 1);
	CHECK(pml_agent_stats(a)->unloads == 0);
	CHECK(loaded_in(ld, "dummy"));
	CHECK(log_has(log_path, "\"used: dummy (module_get by ip 500)"));
	/* not used again: the next unload goes through */
	CHECK(tick_ok(a, 11));
	CHECK(pml_agent_stats(a)->unloads == 1);
	pml_agent_free(a);
out:
	pml_loader_free(ld);
	unlink(log_path);
}

/* The kprobe's interface made with dummy's setup, by another process: a use, in any
 * policy (no tracer needed). */
static void test_netdev_use(void)
{
	char log_path[] = "/tmp/pml-test-agent-worker-XXXXXX";
	struct pml_agent_config cfg = {.policy_ops = &dummy_once, .log_path = log_path,
				       .clock = &clock};
	struct pml_kevent ev = {.kind = PML_KEV_NETDEV, .t_ns = S(3), .pid = 999999,
				.comm = "ip", .name = "dummy", .site = "dummy_setup"};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	int fd = mkstemp(log_path);

	if (fd >= 0)
		close(fd);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	CHECK(pml_loader_new_memory(tree, &cfg.worker_ld) == 0);
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1);
	CHECK(tick_ok(a, 2));
	CHECK(pml_agent_wait_idle(a, 5000) == 1);
	CHECK(pml_agent_handle(a, &ev) == 0);
	CHECK(pml_agent_stats(a)->used == 1);
	CHECK(pml_agent_stats(a)->netdevs == 1);
	CHECK(log_has(log_path, "\"used: dummy (interface made by ip 999999 with dummy_setup)"));
	pml_agent_free(a);
out:
	pml_loader_free(ld);
	unlink(log_path);
}

/* train-needs refuses a log of which no record is read (the log before version 2) rather
 * than counting it as a run without needs. */
static void test_train_old_log(void)
{
	char path[] = "/tmp/pml-test-old-log-XXXXXX";
	struct pml_needs_model *m = NULL;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "{\"t_ns\":1,\"event\":\"need\",\"module\":\"sctp\",\"alias\":\"a\","
		   "\"result\":\"loaded\",\"source\":\"shim\"}\n");
	fclose(f);
	CHECK(pml_needs_model_new(30, 0.5, &m) == 0);
	CHECK(m && pml_needs_train_log(m, path) == -EBADMSG);
	pml_needs_model_free(m);
	unlink(path);
}

int main(void)
{
	const char *env = getenv("PML_TEST_FIXTURES");

	snprintf(fixtures, sizeof(fixtures), "%s", env ? env : "tests/fixtures");
	test_worker();
	test_worker_watch();
	test_predictive_path();
	test_short_use();
	test_link_kind_use();
	test_use_before_unload();
	test_netdev_use();
	test_train_old_log();
	return unit_done("agent-worker");
}
