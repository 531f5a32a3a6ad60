/* The tracefs line parser over lines in Linux 6.1's trace_pipe format
 * (tests/fixtures/agent/trace_pipe-6.1.txt), one expectation per fixture line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
}

int main(void)
{
	test_fixture();
	test_edges();
	return unit_done("agent-tracefs");
}
