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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/features.h"
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

/* The records a live tracer delivered, copied. */
struct records {
	char *buf;
	size_t len, cap, n, plain, ubiquitous;
};

static int collect(void *data, const struct pml_tev_hdr *ev)
{
	struct records *r = data;

	if (r->len + ev->size > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1 << 16;
		char *b;

		while (cap < r->len + ev->size)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, ev, ev->size);
	r->len += ev->size;
	r->n++;
	return 0;
}

/* The features' tokens of a record stream, one line per token prefixed by the process
 * ("pid tok\n"), gap tokens left out (their times differ by the ns between two tracers),
 * sorted by process with each process's order kept: the streams of two tracers agree
 * process by process, not in how different processes interleave. */
static char *tokens_by_pid(struct records *r, const uint64_t drop[8])
{
	struct pml_features *f = pml_features_new();
	struct pml_feat_tokens t;
	size_t cap = 1 << 16, len = 0, n_lines = 0;
	char *out = malloc(cap), **lines, *sorted;

	out[0] = '\0';
	for (size_t off = 0; off < r->len;) {
		const struct pml_tev_hdr *e = (const void *)(r->buf + off);
		int n = pml_features_record(f, e, &t);

		if (e->kind == PML_TEV_SYSCALL) {
			unsigned nr = e->nr < 0 || e->nr > 511 ? 511 : (unsigned)e->nr;

			r->plain++;
			r->ubiquitous += (drop[nr >> 6] >> (nr & 63)) & 1;
		}
		for (int i = 0; i < n; i++) {
			if (!strncmp(t.tok[i], "gap:", 4))
				continue;
			if (len + 100 > cap)
				out = realloc(out, cap *= 2);
			len += (size_t)snprintf(out + len, cap - len, "%10u %s\n", e->pid, t.tok[i]);
			n_lines++;
		}
		off += e->size;
	}
	pml_features_free(f);
	/* a stable sort by pid: lines compared by their pid field, ties by position */
	lines = calloc(n_lines + 1, sizeof(*lines));
	for (size_t i = 0, k = 0; k < n_lines; k++) {
		lines[k] = out + i;
		i += strcspn(out + i, "\n") + 1;
	}
	for (size_t i = 1; i < n_lines; i++)
		for (size_t j = i; j > 0 && strncmp(lines[j - 1], lines[j], 10) > 0; j--) {
			char *x = lines[j - 1];

			lines[j - 1] = lines[j];
			lines[j] = x;
		}
	sorted = calloc(1, len + 1);
	for (size_t k = 0, at = 0; k < n_lines; k++) {
		size_t l = strcspn(lines[k], "\n") + 1;

		memcpy(sorted + at, lines[k], l);
		at += l;
	}
	free(lines);
	free(out);
	return sorted;
}

/* plain_once (pmld's setting) against the full record stream, two tracers on one run: the
 * same tokens, from far fewer records, none of them a call the features always drop. */
static void test_plain_once(void)
{
	char *argv[] = {"sh", "-c",
			"for i in 1 2 3; do uname -a > /dev/null; cat /etc/hostname /etc/passwd "
			"> /dev/null; done; ls / > /dev/null; (exit 0)",
			NULL};
	struct pml_tracer_config cfg = {
		.flags = PML_TRACER_NO_SAMPLES | PML_TRACER_NO_FAULTS | PML_TRACER_NO_OBJECTS,
	};
	struct records all = {0}, once = {0};
	struct pml_tracer *ta = NULL, *tb = NULL;
	char *tok_all, *tok_once;
	int go[2], status = 0, rc;
	pid_t pid;
	char c = 'g';

	CHECK(pipe(go) == 0);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(go[0]);
	cfg.root_pid = pid;
	rc = pml_tracer_open(&cfg, collect, &all, &ta);
	cfg.plain_once = true;
	pml_features_ubiquitous_mask(cfg.plain_drop);
	if (!rc)
		rc = pml_tracer_open(&cfg, collect, &once, &tb);
	CHECK(rc == 0);
	if (rc) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		pml_tracer_free(ta);
		close(go[1]);
		return;
	}
	CHECK(write(go[1], &c, 1) == 1);
	close(go[1]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		pml_tracer_poll(ta, 20);
		pml_tracer_poll(tb, 20);
	}
	while (pml_tracer_poll(ta, 0) > 0)
		;
	while (pml_tracer_poll(tb, 0) > 0)
		;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(pml_tracer_dropped(ta) == 0 && pml_tracer_dropped(tb) == 0);
	tok_all = tokens_by_pid(&all, cfg.plain_drop);
	tok_once = tokens_by_pid(&once, cfg.plain_drop);
	CHECK(strlen(tok_all) > 100);
	CHECK(!strcmp(tok_all, tok_once));
	if (strcmp(tok_all, tok_once))
		fprintf(stderr, "  all records' tokens:\n%s\n  plain_once's:\n%s\n", tok_all,
			tok_once);
	CHECK(once.ubiquitous == 0 && all.ubiquitous > 0);
	CHECK(once.n * 2 < all.n);
	printf("  trace-tracer: plain_once: %zu records (%zu plain) for the %zu (%zu plain) of the "
	       "full stream, the same tokens\n", once.n, once.plain, all.n, all.plain);
	free(tok_all);
	free(tok_once);
	free(all.buf);
	free(once.buf);
	pml_tracer_free(ta);
	pml_tracer_free(tb);
}

/* Write pid into dir/cgroup.procs. */
static int cg_join(const char *dir, pid_t pid)
{
	char path[256], num[32];
	int fd, n = snprintf(num, sizeof(num), "%d", (int)pid), ok;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, num, (size_t)n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* A child that waits for a byte on go[0], joins cg (if any), then runs sh -c script. */
static pid_t spawn_waiting(int go[2], const char *cg, const char *script)
{
	pid_t pid = fork();
	char c;

	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1 || (cg && cg_join(cg, getpid()) < 0))
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The tracer following a cgroup (pmld's --trace-cgroup): the processes of a cgroup below
 * it are traced, a sibling process outside it is not, whoever their parent. */
static void test_cgroup(void)
{
	char root[] = "/tmp/pml-test-cg-XXXXXX", job[96], inner[128], procs[160];
	struct pml_tracer_config cfg = {
		.flags = PML_TRACER_NO_SAMPLES | PML_TRACER_NO_FAULTS | PML_TRACER_NO_OBJECTS,
	};
	struct records rec = {0};
	struct pml_tracer *t = NULL;
	int go_in[2], go_out[2], st_in = 0, st_out = 0, rc, execs_in = 0, execs_out = 0;
	unsigned level = 99;
	uint64_t id = 0;
	pid_t in, out;
	char c = 'g';

	CHECK(mkdtemp(root) != NULL);
	CHECK(pml_cgroup_id(root, &id, &level) == -EOPNOTSUPP); /* /tmp is not cgroup2 */
	if (mount("none", root, "cgroup2", 0, NULL) < 0) {
		printf("  trace-tracer: cgroup skipped, cannot mount cgroup2: %s\n",
		       strerror(errno));
		rmdir(root);
		return;
	}
	snprintf(job, sizeof(job), "%s/job", root);
	snprintf(inner, sizeof(inner), "%s/inner", job);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", job);
	CHECK(mkdir(job, 0755) == 0 && mkdir(inner, 0755) == 0);
	CHECK(pml_cgroup_id(root, &id, &level) == 0 && level == 0);
	CHECK(pml_cgroup_id(inner, &id, &level) == 0 && level == 2);
	CHECK(pml_cgroup_id(procs, &id, &level) == -ENOTDIR);
	CHECK(pml_cgroup_id(job, &cfg.cgroup_id, &cfg.cgroup_level) == 0 && cfg.cgroup_level == 1);
	CHECK(pipe(go_in) == 0 && pipe(go_out) == 0);
	/* the traced one joins a cgroup below job's (a job that makes its own) */
	in = spawn_waiting(go_in, inner, "cat /etc/hostname > /dev/null; true");
	/* exec: everything the one outside runs keeps its pid */
	out = spawn_waiting(go_out, NULL, "exec cat /etc/passwd > /dev/null");
	close(go_in[0]);
	close(go_out[0]);
	rc = pml_tracer_open(&cfg, collect, &rec, &t);
	CHECK(rc == 0);
	if (!rc) {
		CHECK(write(go_in[1], &c, 1) == 1 && write(go_out[1], &c, 1) == 1);
		while (waitpid(in, &st_in, WNOHANG) == 0 || waitpid(out, &st_out, WNOHANG) == 0)
			pml_tracer_poll(t, 20);
		while (pml_tracer_poll(t, 0) > 0)
			;
	}
	close(go_in[1]);
	close(go_out[1]);
	if (rc) {
		kill(in, SIGKILL);
		kill(out, SIGKILL);
	}
	waitpid(in, &st_in, 0);
	waitpid(out, &st_out, 0);
	CHECK(WIFEXITED(st_in) && WEXITSTATUS(st_in) == 0);
	for (size_t off = 0; off < rec.len;) {
		const struct pml_tev_hdr *e = (const void *)(rec.buf + off);

		if (e->kind == PML_TEV_EXEC)
			*(e->pid == (uint32_t)out ? &execs_out : &execs_in) += 1;
		CHECK(e->pid != (uint32_t)out);
		off += e->size;
	}
	/* sh, then cat in a child of it: both traced */
	CHECK(execs_in >= 2);
	CHECK(execs_out == 0);
	printf("  trace-tracer: cgroup: %zu records, %d execs of the cgroup's processes, %d of the "
	       "one outside\n", rec.n, execs_in, execs_out);
	pml_tracer_free(t);
	free(rec.buf);
	rmdir(inner);
	rmdir(job);
	CHECK(umount(root) == 0);
	rmdir(root);
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
	test_plain_once();
	test_cgroup();
	test_sampling();
	return unit_done("trace-tracer");
}
