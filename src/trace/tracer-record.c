/* `pml trace record` on the live tracer (tracer.h's pml_tracer_record): the command is
 * forked first and held on a pipe until the programs are attached with its pid as the
 * root, so its execve and everything after it is seen; its records go to a trace file
 * (trace-file.h), with the drops noticed, the tracer's CPU time and, when asked, the BPF
 * programs' run-time stats. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <sys/resource.h>

#include "trace/symbolizer.h"
#include "trace/trace-file.h"
#include "trace/tracer.h"
#include "util/log.h"

/* Recording: records go to the trace writer as they come; the writer's thread (of idle
 * priority) resolves samples (the symbolizer sees every record in file order, so the
 * OBJECT record of a file comes before the samples that need it), compresses and writes
 * the blocks. The recording thread only copies records: on a one-CPU guest whatever it
 * does is taken from the traced program. */
struct recording {
	struct pml_trace_writer *w;
	struct pml_symbolizer *sym;
	uint64_t dropped_written; /* the drop count last written as a DROPS record */
	uint64_t samples, samples_named; /* counted in the writer's thread */
};

static int write_record(void *data, const struct pml_tev_hdr *ev)
{
	struct recording *rec = data;

	return pml_trace_writer_add(rec->w, ev, ev->size);
}

static void resolve_record(void *data, struct pml_tev_hdr *ev, size_t size)
{
	struct recording *rec = data;
	struct pml_tev_sample *s = (struct pml_tev_sample *)ev;

	if (ev->kind != PML_TEV_SAMPLE) {
		pml_symbolizer_observe(rec->sym, ev);
		return;
	}
	pml_symbolizer_resolve(rec->sym, s);
	rec->samples++;
	rec->samples_named += s->func[0] != '\0';
}

static double cpu_seconds(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Drops go into the stream as they are noticed, so even a torn file says so. */
static int note_drops(struct pml_tracer *t, struct recording *rec)
{
	uint64_t d = pml_tracer_dropped(t);
	struct pml_tev_drops e = {0};

	if (d == rec->dropped_written)
		return 0;
	rec->dropped_written = d;
	e.h.t_ns = now_ns(CLOCK_MONOTONIC);
	e.h.pid = (uint32_t)getpid();
	e.h.tid = e.h.pid;
	e.h.kind = PML_TEV_DROPS;
	e.h.size = sizeof(e);
	e.h.nr = -1;
	e.dropped = d;
	return pml_trace_writer_add(rec->w, &e, sizeof(e));
}

static void join_argv(char *buf, size_t size, char *const *argv)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && len + 1 < size; i++) {
		int n = snprintf(buf + len, size - len, "%s%s", i ? " " : "", argv[i]);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

int pml_tracer_record(const struct pml_tracer_opts *opts, struct pml_tracer_result *ret)
{
	struct pml_trace_header hdr;
	struct pml_trace_end end = {0};
	struct recording rec = {0};
	struct pml_tracer *t = NULL;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	struct pml_tracer_config cfg = {0};
	struct pml_tracer_prog_stats progs[PML_TRACER_MAX_PROGS];
	size_t n_progs = 0;
	int stats_fd = -1;
	double cpu0 = 0, cpu1 = 0, total0 = 0;
	unsigned features = 0;
	int go[2] = {-1, -1}, ex[2] = {-1, -1};
	uint64_t t0 = 0, t1, last_flush;
	int status = 0, err, child_err = 0;
	pid_t pid = -1;
	ssize_t n;
	char c = 0;

	if (!opts->argv || !opts->argv[0])
		return -EINVAL;
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (pid == 0) {
		/* hold until the tracer is attached, then become the command */
		close(go[1]);
		close(ex[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(opts->argv[0], opts->argv);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	go[0] = ex[1] = -1;

	pml_trace_header_init(&hdr);
	hdr.root_pid = (uint32_t)pid;
	if (opts->flags & PML_TRACER_ALL) {
		hdr.flags |= PML_TRACE_F_ALL;
		hdr.root_pid = 0;
	}
	join_argv(hdr.command, sizeof(hdr.command), opts->argv);
	rec.sym = pml_symbolizer_new("/proc");
	if (!rec.sym) {
		err = -ENOMEM;
		goto kill_child;
	}
	err = pml_trace_writer_open(opts->output, &hdr,
				    PML_TRACE_W_BACKGROUND |
				    (opts->flags & PML_TRACER_STORED ? PML_TRACE_W_STORED : 0),
				    &rec.w);
	if (err)
		goto kill_child;
	pml_trace_writer_set_transform(rec.w, resolve_record, &rec);
	cfg.flags = opts->flags | PML_TRACER_RAW_SAMPLES;
	cfg.root_pid = pid;
	cfg.ringbuf_bytes = opts->ringbuf_bytes;
	cfg.sample_hz = opts->sample_hz;
	cfg.fault_interval_ms = opts->fault_interval_ms;
	if (opts->flags & PML_TRACER_BPF_STATS) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			pml_warn("trace: cannot enable BPF run-time stats: %s", strerror(-stats_fd));
	}
	err = pml_tracer_open(&cfg, write_record, &rec, &t);
	if (err)
		goto kill_child;

	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	t0 = now_ns(CLOCK_MONOTONIC);
	/* from here on, what tracing the command costs */
	cpu0 = cpu_seconds(RUSAGE_THREAD);
	total0 = cpu_seconds(RUSAGE_SELF);
	if (write(go[1], "g", 1) != 1) {
		err = -errno;
		goto out_restore;
	}
	close(go[1]);
	go[1] = -1;
	n = read(ex[0], &child_err, sizeof(child_err));
	if (n == (ssize_t)sizeof(child_err)) {
		pml_err("trace: cannot run %s: %s", opts->argv[0], strerror(child_err));
		waitpid(pid, &status, 0);
		pid = -1;
		err = -child_err;
		goto out_restore;
	}

	last_flush = t0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		err = pml_tracer_poll(t, 100);
		if (err < 0 && err != -EINTR)
			break;
		err = 0;
		t1 = now_ns(CLOCK_MONOTONIC);
		if (t1 - last_flush >= 1000000000u) {
			/* a crash or a killed guest then loses at most a second */
			err = note_drops(t, &rec);
			if (!err)
				err = pml_trace_writer_flush(rec.w);
			if (err)
				break;
			last_flush = t1;
		}
		if (w == pid) {
			pid = -1;
			end.end_ns = now_ns(CLOCK_MONOTONIC);
			break;
		}
	}
	if (pid > 0) { /* stopped by an error: do not leave the command behind */
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		pid = -1;
		end.end_ns = now_ns(CLOCK_MONOTONIC);
	}
	/* the last records: the exit and whatever the ring buffer still holds */
	if (!err) {
		int k;

		while ((k = pml_tracer_poll(t, 0)) > 0)
			;
		if (k < 0 && k != -EINTR)
			err = k;
	}
	if (!err)
		err = note_drops(t, &rec);
out_restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
kill_child:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
out:
	end.dropped = t ? pml_tracer_dropped(t) : 0;
	cpu1 = cpu_seconds(RUSAGE_THREAD);
	if (t) {
		features = pml_tracer_features(t);
		if (stats_fd >= 0)
			pml_tracer_prog_stats(t, progs, PML_TRACER_MAX_PROGS, &n_progs);
	}
	pml_tracer_free(t);
	if (stats_fd >= 0)
		close(stats_fd);
	if (rec.w) {
		uint64_t events = pml_trace_writer_events(rec.w);
		int cerr = pml_trace_writer_close(rec.w, &end); /* resolves the last samples */

		if (!err)
			err = cerr;
		if (!err && ret) {
			ret->events = events;
			ret->dropped = end.dropped;
			ret->seconds = end.end_ns > t0 && t0 ? (end.end_ns - t0) / 1e9 : 0;
			ret->status = status;
			ret->features = features;
			ret->samples = rec.samples;
			ret->samples_named = rec.samples_named;
			ret->tracer_cpu_s = cpu0 ? cpu1 - cpu0 : 0;
			ret->total_cpu_s = total0 ? cpu_seconds(RUSAGE_SELF) - total0 : 0;
			ret->n_progs = n_progs;
			memcpy(ret->progs, progs, n_progs * sizeof(progs[0]));
		}
	}
	pml_symbolizer_free(rec.sym);
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	return err;
}
