/* The live tracer on the machine running the tests: record a small shell pipeline and
 * check the trace follows its process tree (fork, exec, exit, decoded opens) and nothing
 * else. Needs root and a kernel with BPF and BTF; where the kernel refuses the programs
 * (no privileges, no BTF, under valgrind) the test says so and checks nothing. The module
 * tracepoints are only checked in the guest (tests/fixtures/trace/acceptance.sh). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace-decode.h"
#include "trace/trace-file.h"
#include "trace/tracer.h"
#include "unit.h"

#define MAX_PIDS 64

int main(void)
{
	char path[] = "/tmp/pml-test-tracer-XXXXXX";
	char *argv[] = {"sh", "-c", "cat /etc/hostname > /dev/null; (exit 3)", NULL};
	struct pml_tracer_opts o = {.argv = argv, .output = path};
	struct pml_tracer_result res;
	struct pml_trace_reader *r;
	struct pml_trace_reader_stats st;
	const struct pml_tev_hdr *e;
	uint32_t pids[MAX_PIDS];
	size_t n_pids = 0;
	int fd, rc, execs = 0, forks = 0, exits = 0, opens = 0, strangers = 0;
	bool cat_exec = false, hostname_open = false;

	if (getenv("VALGRIND") || geteuid() != 0) {
		printf("  trace-tracer: skipped (%s)\n", geteuid() ? "not root" : "valgrind");
		return unit_done("trace-tracer");
	}
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	rc = pml_tracer_record(&o, &res);
	if (rc == -EPERM || rc == -EACCES || rc == -ENOSYS || rc == -EINVAL || rc == -ESRCH ||
	    rc == -EOPNOTSUPP) {
		printf("  trace-tracer: skipped, the kernel refused the programs: %s\n",
		       strerror(-rc));
		unlink(path);
		return unit_done("trace-tracer");
	}
	CHECK(rc == 0);
	CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 3);
	CHECK(res.events > 10);
	CHECK(res.dropped == 0);

	CHECK(pml_trace_reader_open(path, &r) == 0);
	pids[n_pids++] = pml_trace_reader_header(r)->root_pid;
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		struct pml_trace_decoded d;
		const struct pml_trace_field *f;
		bool known = false;

		CHECK(pml_trace_event_decode(e, e->size, &d) == 0);
		for (size_t i = 0; i < n_pids; i++)
			known |= pids[i] == e->pid;
		if (!known && e->kind != PML_TEV_MOD_REQUEST && e->kind != PML_TEV_MOD_LOAD &&
		    e->kind != PML_TEV_MOD_FREE && e->kind != PML_TEV_DROPS)
			strangers++;
		switch (e->kind) {
		case PML_TEV_FORK:
			forks++;
			f = pml_trace_decoded_get(&d, "child");
			if (f && !pml_trace_decoded_get(&d, "thread") && n_pids < MAX_PIDS)
				pids[n_pids++] = (uint32_t)f->num;
			break;
		case PML_TEV_EXEC:
			execs++;
			f = pml_trace_decoded_get(&d, "comm");
			cat_exec |= f && !strcmp(f->str, "cat");
			break;
		case PML_TEV_EXIT:
			exits++;
			break;
		case PML_TEV_PATH:
			opens++;
			f = pml_trace_decoded_get(&d, "path");
			hostname_open |= f && !strcmp(f->str, "/etc/hostname");
			break;
		}
	}
	CHECK(rc == 0);
	pml_trace_reader_stats(r, &st);
	CHECK(st.complete && st.events == res.events);
	CHECK(execs >= 2 && forks >= 1 && exits >= 2 && opens >= 1);
	CHECK(cat_exec);
	CHECK(hostname_open);
	CHECK(strangers == 0);
	printf("  trace-tracer: %llu events (%d exec, %d fork, %d exit, %d open), exit status 3\n",
	       (unsigned long long)res.events, execs, forks, exits, opens);
	pml_trace_reader_free(r);
	unlink(path);
	return unit_done("trace-tracer");
}
