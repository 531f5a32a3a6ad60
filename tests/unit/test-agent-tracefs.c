/* The tracefs line parser over lines in Linux 6.1's trace_pipe format
 * (tests/fixtures/agent/trace_pipe-6.1.txt), one expectation per fixture line; module_get
 * lines and the filter that limits them to the watched modules; the live source over a
 * fake tracefs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/source.h"
#include "unit.h"

struct expect {
	int r;
	enum pml_kevent_kind kind;
	const char *name;
	int pid;
	const char *comm;
	unsigned long long t_ns;
	int wait;
};

static const struct expect expected[] = {
	{1, PML_KEV_REQUEST, "net-pf-10-proto-132-type-1", 201, "socat", 12345678000ull, 1},
	{1, PML_KEV_LOAD, "libcrc32c", 205, "modprobe", 12401234000ull, 0},
	{1, PML_KEV_LOAD, "sctp", 205, "modprobe", 12512000000ull, 0},
	{1, PML_KEV_FREE, "sctp", 230, "rmmod", 20100001000ull, 0},
	{1, PML_KEV_REQUEST, "netdev-eth7", 45, "kworker/u4:2", 3000100000ull, 1},
	{1, PML_KEV_REQUEST, "fs-vfat", 77, "<...>", 5500000000ull, 0},
	{0},							 /* LOST */
	{1, PML_KEV_REQUEST, "crypto-aes", 300, "my prog", 7000001000ull, 1},
	{1, PML_KEV_LOAD, "fat", 99, "sh", 8000000000ull, 0}, /* tgid column, taints */
	{1, PML_KEV_FREE, "fat", 99, "sh", 9250000000ull, 0},	 /* no irq-info */
	{0},							 /* another event */
	{0},							 /* not a trace line */
	{.r = -22},						 /* empty alias */
	{1, PML_KEV_REQUEST, "rtnl-link-dummy", 1234567, "ip", 123456000001000ull, 1},
};

static void test_fixture(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	char path[512], line[1024];
	uint64_t lost = 0;
	size_t i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/agent/trace_pipe-6.1.txt", dir ? dir : "tests/fixtures");
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const struct expect *e = &expected[i];
		struct pml_kevent ev;
		int r;

		line[strcspn(line, "\n")] = '\0';
		if (i >= sizeof(expected) / sizeof(expected[0])) {
			CHECK(!"more fixture lines than expectations");
			break;
		}
		r = pml_tracefs_parse_line(line, &ev, &lost);
		CHECK(r == e->r);
		if (r != e->r)
			fprintf(stderr, "  line %zu: r=%d: %s\n", i + 1, r, line);
		if (r == 1 && e->r == 1) {
			CHECK(ev.kind == e->kind);
			CHECK_STR(ev.name, e->name);
			CHECK(ev.pid == e->pid);
			CHECK_STR(ev.comm, e->comm);
			CHECK(ev.t_ns == e->t_ns);
			CHECK(ev.wait == (e->wait != 0));
		}
		i++;
	}
	fclose(f);
	CHECK(i == sizeof(expected) / sizeof(expected[0]));
	CHECK(lost == 12);
}

static void test_edges(void)
{
	struct pml_kevent ev;
	char longname[200];

	CHECK(pml_tracefs_parse_line("", &ev, NULL) == 0);
	CHECK(pml_tracefs_parse_line("CPU:0 [LOST 3 EVENTS]", &ev, NULL) == 0);
	/* A module name too long for the event is refused, not truncated. */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, " sh-1 [000] ..... 1.000000: module_free: ", 41);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(pml_tracefs_parse_line(longname, &ev, NULL) == -22);
	/* No task field. */
	CHECK(pml_tracefs_parse_line("[000] ..... 1.000000: module_free: x", &ev, NULL) == -22);
	/* A comm that looks like a timestamp does not fool the header scan. */
	CHECK(pml_tracefs_parse_line("  1.5-7 [000] ..... 2.000000: module_free: loop", &ev,
				     NULL) == 1);
	CHECK_STR(ev.name, "loop");
	CHECK(ev.t_ns == 2000000000ull);
	/* References: a get is a use (its call site kept), a put is not reported. */
	CHECK(pml_tracefs_parse_line("           mount-312     [001] .....    13.000001: "
				     "module_get: loop call_site=blkdev_get_whole+0x2b/0x90 "
				     "refcnt=2", &ev, NULL) == 1);
	CHECK(ev.kind == PML_KEV_GET);
	CHECK_STR(ev.name, "loop");
	CHECK_STR(ev.comm, "mount");
	CHECK(ev.pid == 312);
	CHECK_STR(ev.site, "blkdev_get_whole+0x2b/0x90");
	CHECK(ev.t_ns == 13000001000ull);
	CHECK(pml_tracefs_parse_line("           mount-312     [001] .....    13.000002: "
				     "module_put: loop call_site=blkdev_put+0x40/0x1b0 refcnt=1",
				     &ev, NULL) == 0);
	CHECK(pml_tracefs_parse_line("  <idle>-0 [000] ..s1. 14.0: module_get: sctp refcnt=3",
				     &ev, NULL) == 1);
	CHECK_STR(ev.site, "");
	/* Interfaces made (the kprobe on alloc_netdev_mqs): the module of the setup function,
	 * none for a built-in one. */
	CHECK(pml_tracefs_parse_line("              ip-224     [000] .....    16.718258: "
				     "netdev_alloc: (alloc_netdev_mqs+0x0/0x430) "
				     "setup=dummy_setup+0x0/0x100 [dummy]", &ev, NULL) == 1);
	CHECK(ev.kind == PML_KEV_NETDEV);
	CHECK_STR(ev.name, "dummy");
	CHECK_STR(ev.site, "dummy_setup");
	CHECK(ev.pid == 224);
	CHECK(pml_tracefs_parse_line("              ip-228     [000] .....    17.345144: "
				     "netdev_alloc: (alloc_netdev_mqs+0x0/0x430) "
				     "setup=loopback_setup+0x0/0xc0", &ev, NULL) == 0);
	CHECK(pml_tracefs_parse_line("  ip-1 [000] ..... 1.0: netdev_alloc: (x+0x0/0x1) "
				     "setup=y []", &ev, NULL) == -EINVAL);
}

static void test_get_filter(void)
{
	const char names[4][64] = {"loop", "nf_tables", "bad\"name", "vfat"};
	char buf[64];

	CHECK(pml_tracefs_get_filter(names, 0, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "");
	CHECK(pml_tracefs_get_filter(names, 1, buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "name == \"loop\"");
	/* a name that could break the filter's syntax is left out */
	CHECK(pml_tracefs_get_filter(names, 4, buf, sizeof(buf)) == 3);
	CHECK_STR(buf, "name == \"loop\" || name == \"nf_tables\" || name == \"vfat\"");
	/* what does not fit is left out, the rest stays a valid filter */
	CHECK(pml_tracefs_get_filter(names, 4, buf, 40) == 2);
	CHECK_STR(buf, "name == \"loop\" || name == \"nf_tables\"");
	CHECK(pml_tracefs_get_filter(names, 4, buf, 10) == 0);
	CHECK_STR(buf, "");
}

static int put(const char *dir, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static char *slurp(const char *dir, const char *file)
{
	static char buf[256];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The live source over a fake tracefs: directories and files where the kernel has them,
 * a FIFO for trace_pipe. Checks the settings it writes and the events it reads, lines
 * split across reads included. */
static void test_fake_tracefs(void)
{
	char root[] = "/tmp/pml-test-tracefs-XXXXXX", inst[128], dir[256], why[256] = "";
	static const char *const evs[] = {"module_request", "module_load", "module_free"};
	struct pml_source *src = NULL;
	struct pml_kevent out[8];
	int wfd, n;

	if (!mkdtemp(root)) {
		CHECK(!"mkdtemp");
		return;
	}
	/* No module events: refused with a reason. (module_get, created below for the
	 * watch, is optional: a kernel without it is tried at the end.) */
	snprintf(inst, sizeof(inst), "%s/instances", root);
	CHECK(mkdir(inst, 0755) == 0);
	CHECK(pml_source_new_tracefs(root, why, sizeof(why), &src) == -ENODEV);
	CHECK(strstr(why, "no module tracepoints") != NULL);

	snprintf(inst, sizeof(inst), "%s/instances/pml", root);
	{
		char p[256];

		CHECK(mkdir(inst, 0755) == 0);
		snprintf(p, sizeof(p), "%s/events", inst);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/events/module", inst);
		mkdir(p, 0755);
		for (size_t i = 0; i < 3; i++) {
			snprintf(p, sizeof(p), "%s/events/module/%s", inst, evs[i]);
			mkdir(p, 0755);
			snprintf(p, sizeof(p), "events/module/%s/enable", evs[i]);
			put(inst, p, "0\n");
		}
		snprintf(p, sizeof(p), "%s/events/module/module_get", inst);
		mkdir(p, 0755);
		put(inst, "events/module/module_get/enable", "0\n");
		put(inst, "events/module/module_get/filter", "name == \"sctp\"\n"); /* old */
	}
	put(inst, "trace_clock", "[local] global mono\n");
	put(inst, "buffer_percent", "50\n");
	snprintf(dir, sizeof(dir), "%s/trace_pipe", inst);
	CHECK(mkfifo(dir, 0600) == 0);

	CHECK(pml_source_new_tracefs(root, why, sizeof(why), &src) == 0);
	if (!src)
		goto out;
	CHECK_STR(slurp(inst, "trace_clock"), "mono");
	CHECK_STR(slurp(inst, "buffer_percent"), "0");
	CHECK_STR(slurp(inst, "events/module/module_request/enable"), "1");
	CHECK_STR(slurp(inst, "events/module/module_free/enable"), "1");
	/* on from the start (no text patching during a job), passing no module until told */
	CHECK_STR(slurp(inst, "events/module/module_get/enable"), "1");
	CHECK_STR(slurp(inst, "events/module/module_get/filter"), "name == \"/\"");
	{
		const char names[2][64] = {"loop", "vfat"};

		CHECK(pml_source_watch(src, names, 2) == 2);
		CHECK_STR(slurp(inst, "events/module/module_get/filter"),
			  "name == \"loop\" || name == \"vfat\"");
		CHECK(pml_source_watch(src, names + 1, 1) == 1);
		CHECK_STR(slurp(inst, "events/module/module_get/filter"), "name == \"vfat\"");
		/* the same set again: not written (each write costs the kernel a grace period) */
		put(inst, "events/module/module_get/filter", "untouched");
		CHECK(pml_source_watch(src, names + 1, 1) == 1);
		CHECK_STR(slurp(inst, "events/module/module_get/filter"), "untouched");
		CHECK(pml_source_watch(src, names, 0) == 0);
		CHECK_STR(slurp(inst, "events/module/module_get/filter"), "name == \"/\"");
		CHECK_STR(slurp(inst, "events/module/module_get/enable"), "1");
	}
	CHECK(pml_source_fd(src) >= 0);
	wfd = open(dir, O_WRONLY | O_NONBLOCK);
	CHECK(wfd >= 0);
	CHECK(pml_source_read(src, out, 8) == 0); /* nothing yet: does not block */
	{
		const char *a = "   socat-201   [001] .....  12.345678: module_request: sctp wa";
		const char *b = "it=1 call_site=x\n  modprobe-205  [000] .....  12.4: module_lo"
				"ad: sctp \ngarbage\n  rmmod-9 [0] ..... 13.0: module_free: \n";

		CHECK(write(wfd, a, strlen(a)) == (ssize_t)strlen(a));
		CHECK(pml_source_read(src, out, 8) == 0); /* half a line */
		CHECK(write(wfd, b, strlen(b)) == (ssize_t)strlen(b));
		n = pml_source_read(src, out, 8);
		CHECK(n == 2);
		if (n == 2) {
			CHECK(out[0].kind == PML_KEV_REQUEST);
			CHECK_STR(out[0].name, "sctp");
			CHECK(out[0].pid == 201);
			CHECK(out[1].kind == PML_KEV_LOAD);
			CHECK(out[1].t_ns == 12400000000ull);
		}
		CHECK(src->malformed == 1); /* the module_free without a name */
	}
	close(wfd);
	pml_source_free(src);
	CHECK_STR(slurp(inst, "events/module/module_load/enable"), "0");
	CHECK_STR(slurp(inst, "events/module/module_get/enable"), "0");
	/* a kernel without module_get: the source works, and says it cannot watch */
	{
		char p[256];
		const char names[1][64] = {"loop"};

		snprintf(p, sizeof(p), "%s/events/module/module_get/enable", inst);
		unlink(p);
		snprintf(p, sizeof(p), "%s/events/module/module_get/filter", inst);
		unlink(p);
		/* and with kprobes: the interface probe is defined (appended) and enabled,
		 * then disabled and removed */
		put(root, "kprobe_events", "p:other/x f\n");
		snprintf(p, sizeof(p), "%s/events/pml", inst);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/events/pml/netdev_alloc", inst);
		mkdir(p, 0755);
		put(inst, "events/pml/netdev_alloc/enable", "0\n");
		CHECK(pml_source_new_tracefs(root, why, sizeof(why), &src) == 0);
		if (src)
			CHECK(pml_source_watch(src, names, 1) == -ENODEV);
#ifdef __x86_64__
		CHECK_STR(slurp(inst, "events/pml/netdev_alloc/enable"), "1");
#endif
		pml_source_free(src);
#ifdef __x86_64__
		CHECK_STR(slurp(inst, "events/pml/netdev_alloc/enable"), "0");
		CHECK_STR(slurp(root, "kprobe_events"), "p:other/x f\n-:pml/netdev_alloc\n");
#endif
	}
out:
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		CHECK(system(cmd) == 0);
	}
}

int main(void)
{
	test_fixture();
	test_edges();
	test_get_filter();
	test_fake_tracefs();
	return unit_done("agent-tracefs");
}
