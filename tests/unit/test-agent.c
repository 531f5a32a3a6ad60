/* The agent over the in-memory loader with an injected clock: the base set (records, base
 * file, never unloaded), kernel events to records, idle-unload ticks (a module idle < T
 * stays, >= T goes with its unused dependencies, a module in use never goes), a refused
 * unload waits T again, the event loop stops on its stop fd and drains its source, and the
 * resulting log reads back through the report with the right counts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/agent.h"
#include "run/run-report.h"
#include "unit.h"

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
			   "tun:\n"
			   "virtio_blk:\n"
			   "size sctp 438272\n"
			   "size libcrc32c 16384\n"
			   "size vfat 24576\n"
			   "size fat 90112\n"
			   "size loop 32768\n"
			   "size tun 40960\n"
			   "size virtio_blk 20480\n"
			   "alias net-pf-10-proto-132 sctp\n";

static char log_path[64], base_path[80];

static void temp_paths(void)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/pml-test-agent-XXXXXX");
	fd = mkstemp(log_path);
	if (fd >= 0)
		close(fd);
	snprintf(base_path, sizeof(base_path), "%s.base", log_path);
}

static void kev(struct pml_agent *a, enum pml_kevent_kind kind, const char *name, double t)
{
	struct pml_kevent ev = {.kind = kind, .t_ns = S(t), .pid = 201};

	snprintf(ev.name, sizeof(ev.name), "%s", name);
	snprintf(ev.comm, sizeof(ev.comm), "socat");
	CHECK(pml_agent_handle(a, &ev) == 0);
}

static int tick_at(struct pml_agent *a, double t)
{
	fake_now = S(t);
	return pml_agent_tick(a);
}

static bool loaded(struct pml_loader *ld, const char *name)
{
	return pml_loader_refcnt(ld, name) >= 0;
}

static void test_idle_unload(void)
{
	struct pml_agent_config cfg = {.policy = "idle-unload", .idle_seconds = 5,
				       .log_path = log_path, .base_file = base_path,
				       .clock = &clock};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_report *rep = NULL;
	char line[128];
	FILE *f;

	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld)
		return;
	CHECK(pml_loader_load(ld, "virtio_blk", 0, NULL) == 0);
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1);
	f = fopen(base_path, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(line, sizeof(line), f) != NULL);
		CHECK_STR(line, "virtio_blk 20480\n");
		CHECK(fgets(line, sizeof(line), f) == NULL);
		fclose(f);
	}

	/* t = 2 s: the shim loads sctp (and libcrc32c) for socat; vfat gets mounted (in use);
	 * loop is loaded unseen by the kernel events (the first tick finds it). */
	kev(a, PML_KEV_REQUEST, "net-pf-10-proto-132", 2.0);
	CHECK(pml_loader_load(ld, "net-pf-10-proto-132", 0, NULL) == 0);
	kev(a, PML_KEV_LOAD, "libcrc32c", 2.0);
	kev(a, PML_KEV_LOAD, "sctp", 2.0);
	CHECK(pml_loader_load(ld, "vfat", 0, NULL) == 0);
	kev(a, PML_KEV_LOAD, "fat", 2.0);
	kev(a, PML_KEV_LOAD, "vfat", 2.0);
	CHECK(pml_loader_memory_set_refcnt(ld, "vfat", 1) == 0);
	CHECK(pml_loader_load(ld, "loop", 0, NULL) == 0);

	CHECK(tick_at(a, 2.25) == 0);
	CHECK(tick_at(a, 6.9) == 0);
	CHECK(loaded(ld, "sctp"));
	/* At T: sctp goes, and its dependency with it. */
	CHECK(tick_at(a, 7.0) == 2);
	CHECK(!loaded(ld, "sctp"));
	CHECK(!loaded(ld, "libcrc32c"));
	CHECK(loaded(ld, "loop"));
	kev(a, PML_KEV_FREE, "sctp", 7.0); /* the kernel's view of the same */
	CHECK(tick_at(a, 7.25) == 1);	    /* loop: idle since the first tick, 2.25 s */
	CHECK(!loaded(ld, "loop"));
	/* In use, held, or base: never. */
	CHECK(tick_at(a, 100) == 0);
	CHECK(loaded(ld, "vfat") && loaded(ld, "fat") && loaded(ld, "virtio_blk"));
	/* Unmounted at 100 s: vfat and fat go 5 s later. */
	CHECK(pml_loader_memory_set_refcnt(ld, "vfat", 0) == 0);
	CHECK(tick_at(a, 100.25) == 0);
	CHECK(tick_at(a, 105.0) == 0);
	CHECK(tick_at(a, 105.25) == 2);
	CHECK(!loaded(ld, "vfat") && !loaded(ld, "fat"));
	CHECK(tick_at(a, 1000) == 0);
	CHECK(loaded(ld, "virtio_blk"));
	CHECK(pml_agent_stats(a)->unloads == 5);
	CHECK(pml_agent_stats(a)->unload_failed == 0);

	/* A module the loader keeps (-EPERM): not an error, retried only after T again. */
	CHECK(pml_loader_load(ld, "tun", 0, NULL) == 0);
	CHECK(pml_loader_keep(ld, "tun") == 0);
	kev(a, PML_KEV_LOAD, "tun", 1000);
	CHECK(tick_at(a, 1005) == 0);
	CHECK(pml_agent_stats(a)->unload_busy == 1);
	CHECK(tick_at(a, 1005.25) == 0);
	CHECK(pml_agent_stats(a)->unload_busy == 1);
	CHECK(tick_at(a, 1010) == 0);
	CHECK(pml_agent_stats(a)->unload_busy == 2);
	CHECK(loaded(ld, "tun"));

	fake_now = S(1011);
	CHECK(pml_agent_stop(a) == 0);

	/* The log reads back. */
	CHECK(pml_report_load(log_path, &rep) == 0);
	if (rep) {
		const struct pml_report_summary *s = pml_report_summary(rep);
		size_t dep_reasons = 0, dep_causes = 0;

		CHECK(s->malformed == 0);
		CHECK(s->base_modules == 1);
		CHECK(s->base_bytes == 20480);
		CHECK(s->loads == 5);	/* libcrc32c sctp fat vfat tun (loop unseen) */
		CHECK(s->unloads == 5); /* sctp libcrc32c loop vfat fat */
		CHECK(s->requests == 1);
		CHECK(s->fails == 0);
		CHECK(s->agent_cpu_ms >= 0);
		CHECK(s->agent_maxrss_bytes > 0);
		CHECK(s->peak_bytes == 438272 + 16384 + 24576 + 90112);
		for (size_t i = 0; i < pml_report_n_events(rep); i++) {
			const struct pml_report_event *e = pml_report_event(rep, i);

			if (e->kind != PML_EV_UNLOAD || e->duplicate)
				continue;
			CHECK_STR(e->source, "pmld");
			CHECK(e->bytes > 0);
			CHECK(e->ms >= 0);
			CHECK(e->reason && !strncmp(e->reason, "idle 5.", 7));
			dep_reasons += e->reason && strstr(e->reason, "dependency of") != NULL;
			/* typed: the policy's unload, or a dependency taken along */
			CHECK(e->cause == PML_CAUSE_POLICY || e->cause == PML_CAUSE_DEPENDENCY);
			dep_causes += e->cause == PML_CAUSE_DEPENDENCY;
		}
		CHECK(dep_reasons == 2); /* libcrc32c of sctp, fat of vfat */
		CHECK(dep_causes == 2);
		pml_report_free(rep);
	}
out:
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(base_path);
	unlink(log_path);
}

static void test_reactive(void)
{
	struct pml_agent_config cfg = {.log_path = log_path, .clock = &clock};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;

	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld)
		return;
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (a) {
		CHECK(pml_agent_start(a) == 0);
		CHECK(pml_loader_load(ld, "sctp", 0, NULL) == 0);
		CHECK(tick_at(a, 1) == 0);
		CHECK(tick_at(a, 1e6) == 0);
		CHECK(loaded(ld, "sctp"));
	}
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(log_path);
}

/* A source of canned events, without a descriptor: drained on ticks and at stop. */
struct canned {
	struct pml_source base;
	int left;
};

static int canned_fd(struct pml_source *s)
{
	return -1;
}

static int canned_read(struct pml_source *s, struct pml_kevent *evs, size_t max)
{
	struct canned *c = (struct canned *)s;
	size_t n = 0;

	while (c->left > 0 && n < max) {
		memset(&evs[n], 0, sizeof(evs[n]));
		evs[n].kind = PML_KEV_REQUEST;
		evs[n].t_ns = S(3);
		snprintf(evs[n].name, sizeof(evs[n].name), "netdev-x%d", c->left);
		c->left--;
		n++;
	}
	return (int)n;
}

static void canned_free(struct pml_source *s)
{
}

static const struct pml_source_ops canned_ops = {"canned", canned_fd, canned_read,
						 canned_free, NULL};

static void test_run(void)
{
	struct pml_agent_config cfg = {.policy = "reactive+idle-unload", .log_path = log_path,
				       .tick_ms = 10};
	struct canned src = {.base = {.ops = &canned_ops}, .left = 70};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_report *rep = NULL;
	int stop = eventfd(1, EFD_CLOEXEC); /* already signalled */

	CHECK(stop >= 0);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld || stop < 0)
		return;
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (a) {
		CHECK(pml_agent_start(a) == 0);
		CHECK(pml_agent_run(a, &src.base, stop) == 0);
		CHECK(pml_agent_stats(a)->events == 70); /* drained at stop, over batches */
		CHECK(pml_agent_stop(a) == 0);
		CHECK(pml_report_load(log_path, &rep) == 0);
		if (rep)
			CHECK(pml_report_summary(rep)->requests == 70);
		pml_report_free(rep);
	}
	pml_agent_free(a);
	pml_loader_free(ld);
	close(stop);
	unlink(log_path);
}

static bool pin_lib(void *data, const char *module)
{
	return !strncmp(module, "lib", 3);
}

/* A pinned dependency (by rule, unknown to the loader) stays when its user goes. */
static void test_pinned_dependency(void)
{
	struct pml_agent_config cfg = {.policy = "idle-unload", .idle_seconds = 1,
				       .log_path = log_path, .pinned_fn = pin_lib,
				       .clock = &clock};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;

	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld)
		return;
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (a) {
		fake_now = S(1);
		CHECK(pml_agent_start(a) == 0);
		CHECK(pml_loader_load(ld, "sctp", 0, NULL) == 0);
		kev(a, PML_KEV_LOAD, "sctp", 1);
		kev(a, PML_KEV_LOAD, "libcrc32c", 1);
		CHECK(tick_at(a, 2) == 1);
		CHECK(!loaded(ld, "sctp"));
		CHECK(loaded(ld, "libcrc32c"));
		CHECK(tick_at(a, 100) == 0);
		CHECK(loaded(ld, "libcrc32c"));
	}
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(log_path);
}

static void test_bad_config(void)
{
	struct pml_agent_config cfg = {.policy = "no-such-policy", .log_path = log_path};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;

	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	CHECK(pml_agent_new(&cfg, ld, &a) == -ENOENT);
	cfg.policy = "reactive";
	cfg.log_path = NULL;
	CHECK(pml_agent_new(&cfg, ld, &a) == -EINVAL);
	cfg.log_path = "/nonexistent/dir/events.jsonl";
	CHECK(pml_agent_new(&cfg, ld, &a) == -ENOENT);
	CHECK(a == NULL);
	pml_loader_free(ld);
}

/* A restarted pmld keeps the first one's base set (its base file) and manages what was
 * loaded since, instead of freezing it as base; records of the program's trace reach the
 * policy and are counted. */
static void test_restart(void)
{
	struct pml_agent_config cfg = {.policy = "idle-unload", .idle_seconds = 5,
				       .log_path = log_path, .base_file = base_path,
				       .clock = &clock};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_tev_hdr rec = {.t_ns = S(3), .pid = 300, .tid = 300,
				  .kind = PML_TEV_SYSCALL, .size = sizeof(rec), .nr = 39};
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	unlink(base_path);
	truncate(log_path, 0);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld)
		return;
	CHECK(pml_loader_load(ld, "virtio_blk", 0, NULL) == 0);
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1);
	CHECK(pml_loader_load(ld, "net-pf-10-proto-132", 0, NULL) == 0);
	pml_agent_trace(a, &rec);
	pml_agent_trace(a, &rec);
	CHECK(pml_agent_stats(a)->trace_records == 2);
	pml_agent_free(a); /* pmld dies */
	a = NULL;

	fake_now = S(10);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 1); /* virtio_blk only: sctp is not base */
	CHECK(tick_at(a, 10.25) == 0);
	CHECK(tick_at(a, 15.5) == 2);	/* sctp and libcrc32c, idle 5 s since the restart */
	CHECK(!loaded(ld, "sctp") && loaded(ld, "virtio_blk"));
	f = fopen(log_path, "r");
	if (f) {
		char buf[65536];

		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		text = strdup(buf);
		fclose(f);
	}
	CHECK(text && strstr(text, "restart: base set of 1 modules"));
	CHECK(text && strstr(text, "restart: loaded before this pmld started"));
	free(text);
out:
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(base_path);
}

/* A policy that writes down what it is told, a letter each: R a typed request of sctp,
 * L a typed load, m/l/f the trace's module request/load/free record (with its time in
 * seconds and the alias when it is a request), s another trace record, o anything else. */
static char told[2048];

static void told_add(const char *what)
{
	size_t len = strlen(told);

	snprintf(told + len, sizeof(told) - len, "%s", what);
}

static void count_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	char buf[96];

	if (ev->kind == PML_POL_BASE)
		return;
	if (ev->kind == PML_POL_REQUEST && ev->module && !strcmp(ev->module, "sctp")) {
		told_add("R ");
	} else if (ev->kind == PML_POL_LOAD) {
		told_add("L ");
	} else if (ev->kind == PML_POL_TRACE && ev->tev && ev->tev->kind >= PML_TEV_MOD_REQUEST &&
		   ev->tev->kind <= PML_TEV_MOD_FREE) {
		const struct pml_tev_module *m = (const void *)ev->tev;

		snprintf(buf, sizeof(buf), "%c%g%s%s%s ", "mlf"[m->h.kind - PML_TEV_MOD_REQUEST],
			 (double)m->h.t_ns / 1e9, m->h.kind == PML_TEV_MOD_REQUEST ? "(" : "",
			 m->h.kind == PML_TEV_MOD_REQUEST ? m->name : "",
			 m->h.kind == PML_TEV_MOD_REQUEST ? (m->arg ? ",wait)" : ")") : "");
		told_add(buf);
	} else if (ev->kind == PML_POL_TRACE && ev->tev) {
		snprintf(buf, sizeof(buf), "s%g ", (double)ev->tev->t_ns / 1e9);
		told_add(buf);
	} else {
		told_add("o ");
	}
}

static const struct pml_policy_ops counting = {
	.name = "counting",
	.summary = "counts what it is told",
	.observe = count_observe,
};

static void trace_syscall_at(struct pml_agent *a, double t)
{
	struct pml_tev_hdr h = {.t_ns = S(t), .pid = 201, .tid = 201, .kind = PML_TEV_SYSCALL,
				.size = sizeof(h), .nr = 41};

	pml_agent_trace(a, &h);
}

/* Module events arrive once (issue 19 item 2): the tracer leaves out the module
 * tracepoints and tracefs' event reaches the policy twice, as a typed PML_POL_REQUEST
 * (per module the alias resolves to, at once) and as the record the tracer would have
 * made (the model's tokens), told in time order with the tracer's records: after those
 * made before it, before those made after, the rest when the tracer's ring is empty. The
 * decision log has it once, from tracefs. Without module_records_from_source, no record
 * is made (the tracer records them). */
static void test_module_event_views(void)
{
	struct pml_agent_config cfg = {.policy_ops = &counting, .log_path = log_path,
				       .clock = &clock, .module_records_from_source = true};
	struct pml_kevent req = {.kind = PML_KEV_REQUEST, .t_ns = S(2), .pid = 201,
				 .wait = true};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	char buf[65536], *p;
	size_t len = 0;
	int requests = 0;
	FILE *f;

	told[0] = '\0';
	truncate(log_path, 0);
	snprintf(req.name, sizeof(req.name), "net-pf-10-proto-132");
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld)
		return;
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 0);
	CHECK(pml_agent_handle(a, &req) == 0); /* tracefs' event, at 2 s */
	CHECK_STR(told, "R ");		       /* the typed request at once */
	trace_syscall_at(a, 1.5);	       /* the tracer's records made before it */
	trace_syscall_at(a, 2);
	CHECK_STR(told, "R s1.5 s2 ");
	trace_syscall_at(a, 2.5); /* one made after it: the module record first */
	CHECK_STR(told, "R s1.5 s2 m2(net-pf-10-proto-132,wait) s2.5 ");
	kev(a, PML_KEV_LOAD, "sctp", 3);
	kev(a, PML_KEV_FREE, "sctp", 4);
	CHECK_STR(told, "R s1.5 s2 m2(net-pf-10-proto-132,wait) s2.5 L o ");
	pml_agent_trace_flush(a); /* the ring is empty: the rest */
	CHECK_STR(told, "R s1.5 s2 m2(net-pf-10-proto-132,wait) s2.5 L o l3 f4 ");
	pml_agent_trace_flush(a);
	CHECK(strlen(told) == strlen("R s1.5 s2 m2(net-pf-10-proto-132,wait) s2.5 L o l3 f4 "));
	CHECK(pml_agent_stats(a)->events == 3 && pml_agent_stats(a)->trace_records == 6);
	CHECK(pml_agent_stats(a)->trace_module_records == 3);
	f = fopen(log_path, "r");
	if (f) {
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, "\"event\":\"request\"")); p++)
		requests++;
	CHECK(requests == 1);
	CHECK(strstr(buf, "\"source\":\"tracefs\"") != NULL);
	pml_agent_free(a);
	a = NULL;

	/* without it: the typed events only */
	told[0] = '\0';
	cfg.module_records_from_source = false;
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 0);
	CHECK(pml_agent_handle(a, &req) == 0);
	trace_syscall_at(a, 2.5);
	pml_agent_trace_flush(a);
	CHECK_STR(told, "R s2.5 ");
out:
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(log_path);
}

/* A full queue of module records (64) tells its oldest rather than drop one. */
static void test_module_record_queue_full(void)
{
	struct pml_agent_config cfg = {.policy_ops = &counting, .log_path = log_path,
				       .clock = &clock, .module_records_from_source = true};
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	size_t n = 0;

	told[0] = '\0';
	truncate(log_path, 0);
	CHECK(pml_loader_new_memory(tree, &ld) == 0);
	if (!ld)
		return;
	fake_now = S(1);
	CHECK(pml_agent_new(&cfg, ld, &a) == 0);
	if (!a)
		goto out;
	CHECK(pml_agent_start(a) == 0);
	for (int i = 0; i < 65; i++)
		kev(a, PML_KEV_FREE, "nothing", 2 + i * 0.001);
	CHECK(strncmp(told, "o o ", 4) == 0);
	for (const char *p = told; (p = strchr(p, 'f')); p++)
		n++;
	CHECK(n == 1); /* the 65th pushed the first out */
	CHECK(strstr(told, "f2 ") != NULL);
	pml_agent_trace_flush(a);
	n = 0;
	for (const char *p = told; (p = strchr(p, 'f')); p++)
		n++;
	CHECK(n == 65);
	CHECK(pml_agent_stats(a)->trace_records == 65);
out:
	pml_agent_free(a);
	pml_loader_free(ld);
	unlink(log_path);
}

int main(void)
{
	temp_paths();
	test_idle_unload();
	test_reactive();
	test_run();
	test_pinned_dependency();
	test_bad_config();
	test_restart();
	test_module_event_views();
	test_module_record_queue_full();
	return unit_done("agent");
}
