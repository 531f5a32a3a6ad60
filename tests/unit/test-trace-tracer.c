/* The live tracer on the machine running the tests: record a small shell pipeline and
 * check the trace follows its process tree (fork, exec, exit, decoded opens) and nothing
 * else; then a program built here that spins in a named function, whose samples must
 * name it (object:function), with its page faults counted and its binary's full path in
 * an OBJECT record. Needs root and a kernel with BPF and BTF; where the kernel refuses the
 * programs (no privileges, no BTF, under valgrind) the test says so and checks nothing,
 * and where it refuses perf events (or a C compiler is missing) the sampling part says so
 * and is skipped. The module tracepoints are only checked in the guest
 * (tests/fixtures/trace/acceptance.sh). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace-decode.h"
#include "trace/trace-file.h"
#include "trace/tracer.h"
#include "unit.h"

#define MAX_PIDS 64

static const char spin_c[] =
	"#include <time.h>\n"
	"static double now(void)\n"
	"{\n"
	"	struct timespec t;\n"
	"	clock_gettime(CLOCK_MONOTONIC, &t);\n"
	"	return t.tv_sec + t.tv_nsec / 1e9;\n"
	"}\n"
	"__attribute__((noinline)) static double pml_spin(double x)\n"
	"{\n"
	"	double t0 = now();\n"
	"	do {\n"
	"		for (int i = 0; i < 200000; i++)\n"
	"			x = x * 1.0000001 + 1e-9;\n"
	"	} while (now() - t0 < 0.4);\n"
	"	return x;\n"
	"}\n"
	"int main(void) { return pml_spin(1.0) < 0; }\n";

static void test_sampling(void)
{
	char dir[] = "/tmp/pml-test-spin-XXXXXX", cmd[512], bin[256], trace[256];
	char *argv[] = {bin, NULL};
	struct pml_tracer_opts o = {.argv = argv, .output = trace, .sample_hz = 997,
				    .fault_interval_ms = 50};
	struct pml_tracer_result res;
	struct pml_trace_reader *r;
	const struct pml_tev_hdr *e;
	uint32_t root;
	unsigned samples = 0, spin = 0, faults = 0, fault_records = 0, objects = 0;
	bool bin_object = false;
	FILE *f;
	int rc;

	if (!mkdtemp(dir))
		return;
	snprintf(bin, sizeof(bin), "%s/spin", dir);
	snprintf(trace, sizeof(trace), "%s/spin.bin", dir);
	snprintf(cmd, sizeof(cmd), "%s/spin.c", dir);
	f = fopen(cmd, "w");
	if (f) {
		fputs(spin_c, f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "cc -O1 -o %s/spin %s/spin.c 2>/dev/null", dir, dir);
	if (system(cmd) != 0) {
		printf("  trace-tracer: sampling skipped, no C compiler to build the test program\n");
		goto out;
	}
	rc = pml_tracer_record(&o, &res);
	CHECK(rc == 0);
	if (rc)
		goto out;
	if (!(res.features & PML_TRACER_F_SAMPLES)) {
		printf("  trace-tracer: sampling skipped, this kernel refused perf events (see the "
		       "warning above)\n");
		goto out;
	}
	CHECK(pml_trace_reader_open(trace, &r) == 0);
	if (!r)
		goto out;
	root = pml_trace_reader_header(r)->root_pid;
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		if (e->kind == PML_TEV_SAMPLE && e->pid == root) {
			const struct pml_tev_sample *sm = (const void *)e;

			samples++;
			CHECK(sm->flags & PML_SAMPLE_RESOLVED);
			spin += !strcmp(sm->object, "spin") && !strcmp(sm->func, "pml_spin");
		} else if (e->kind == PML_TEV_FAULTS && e->pid == root) {
			const struct pml_tev_faults *fa = (const void *)e;

			fault_records++;
			for (int i = 0; i < PML_FAULT__COUNT; i++)
				faults += fa->count[i];
		} else if (e->kind == PML_TEV_OBJECT) {
			const struct pml_tev_object *ob = (const void *)e;

			objects++;
			bin_object |= !strcmp(ob->path, bin);
		}
	}
	CHECK(rc == 0);
	pml_trace_reader_free(r);
	/* 0.4 s at 997 Hz: ~400 samples when the spinner has a CPU to itself; a busy
	 * machine gives fewer, but most of them must be in pml_spin */
	CHECK(samples >= 20);
	CHECK(spin * 10 >= samples * 7);
	CHECK(res.samples_named >= spin);
	if (res.features & (PML_TRACER_F_FAULTS | PML_TRACER_F_FAULTS_TP)) {
		CHECK(fault_records >= 1);
		CHECK(faults >= 10);
	}
	CHECK(bin_object);
	printf("  trace-tracer: spin: %u samples, %u in spin:pml_spin; %u faults in %u records; "
	       "%u objects; features 0x%x\n", samples, spin, faults, fault_records, objects,
	       res.features);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

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
	test_sampling();
	return unit_done("trace-tracer");
}
