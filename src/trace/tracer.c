/* The live tracer, user-space side (libbpf-bootstrap's shape): open the skeleton, set the
 * rodata settings (root pid, whole-machine mode, our own pid to skip), load, attach, poll
 * the ring buffer, destroy. pml_tracer_record() builds `pml trace record` on it: the
 * command is forked first and held on a pipe until the programs are attached with its pid
 * as the root, so its execve and everything after it is seen. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "trace/trace-decode.h"
#include "trace/trace-file.h"
#include "trace/tracer.h"
#include "util/log.h"

#include "trace.skel.h"

struct pml_tracer {
	struct pml_trace_bpf *skel;
	struct ring_buffer *rb;
	pml_tracer_event_fn fn;
	void *data;
	int cb_err;
	uint64_t malformed; /* records of a wrong size (a kernel/user mismatch) */
};

/* libbpf's messages go to pml's log sink: warnings as warnings, the rest as debug. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	enum pml_log_level lvl = level == LIBBPF_WARN ? PML_LOG_WARNING : PML_LOG_DEBUG;
	char msg[16384], *line, *save = NULL;

	/* the verifier log arrives as one message of many lines: one log line each */
	vsnprintf(msg, sizeof(msg), fmt, args);
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pml_log(lvl, "%s", line);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct pml_tracer *t = ctx;
	int r;

	if (pml_tev_check(data, size)) {
		t->malformed++;
		return 0;
	}
	r = t->fn(t->data, data);
	if (r < 0) {
		t->cb_err = r;
		return r;
	}
	return 0;
}

int pml_tracer_new(unsigned flags, pid_t root_pid, size_t ringbuf_bytes,
		   pml_tracer_event_fn fn, void *data, struct pml_tracer **ret)
{
	struct pml_tracer *t;
	int err;

	libbpf_set_print(libbpf_log);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->data = data;
	t->skel = pml_trace_bpf__open();
	if (!t->skel) {
		err = -errno;
		pml_err("trace: cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	t->skel->rodata->targ_root_pid = (__u32)root_pid;
	t->skel->rodata->targ_self_pid = (__u32)getpid();
	t->skel->rodata->targ_all = flags & PML_TRACER_ALL;
	if (ringbuf_bytes) {
		err = bpf_map__set_max_entries(t->skel->maps.rb, (__u32)ringbuf_bytes);
		if (err)
			goto fail;
	}
	/* a kernel without module support (this project's build host) has no module
	 * tracepoints: trace the rest rather than nothing */
	if (libbpf_find_vmlinux_btf_id("module_request", BPF_TRACE_RAW_TP) < 0) {
		pml_warn("trace: this kernel has no module tracepoints (no module support?): "
			 "module_request/load/free will not be recorded");
		bpf_program__set_autoload(t->skel->progs.pml_module_request, false);
		bpf_program__set_autoload(t->skel->progs.pml_module_load, false);
		bpf_program__set_autoload(t->skel->progs.pml_module_free, false);
	}
	err = pml_trace_bpf__load(t->skel);
	if (err) {
		pml_err("trace: the kernel refused the BPF programs: %s (needs root and a "
			"kernel with BPF and BTF)", strerror(-err));
		goto fail;
	}
	err = pml_trace_bpf__attach(t->skel);
	if (err) {
		pml_err("trace: cannot attach the BPF programs: %s", strerror(-err));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.rb), on_record, t, NULL);
	if (!t->rb) {
		err = -errno;
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	pml_tracer_free(t);
	return err < 0 ? err : -EINVAL;
}

int pml_tracer_add_pid(struct pml_tracer *t, pid_t pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;

	return bpf_map__update_elem(t->skel->maps.traced, &key, sizeof(key), &one, sizeof(one),
				    BPF_ANY);
}

int pml_tracer_poll(struct pml_tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	/* Most records are submitted without a wake-up (trace.bpf.c), so epoll may report
	 * nothing ready when the timer runs out: drain the buffer whatever it said. */
	if (n >= 0 && !t->cb_err) {
		int m = ring_buffer__consume(t->rb);

		n = m < 0 ? m : n + m;
	}

	if (t->cb_err) {
		n = t->cb_err;
		t->cb_err = 0;
	}
	return n;
}

uint64_t pml_tracer_dropped(struct pml_tracer *t)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	__u32 key = 0;
	__u64 *v;

	if (ncpus <= 0)
		return 0;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map__lookup_elem(t->skel->maps.drops, &key, sizeof(key), v,
				  sizeof(*v) * (size_t)ncpus, 0))
		for (int i = 0; i < ncpus; i++)
			sum += v[i];
	free(v);
	return sum + t->malformed;
}

void pml_tracer_free(struct pml_tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	pml_trace_bpf__destroy(t->skel);
	free(t);
}

/* Recording. */

struct recording {
	struct pml_trace_writer *w;
	uint64_t dropped_written; /* the drop count last written as a DROPS record */
};

static int write_record(void *data, const struct pml_tev_hdr *ev)
{
	struct recording *rec = data;

	return pml_trace_writer_add(rec->w, ev, ev->size);
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
	err = pml_trace_writer_open(opts->output, &hdr,
				    opts->flags & PML_TRACER_STORED ? PML_TRACE_W_STORED : 0,
				    &rec.w);
	if (err)
		goto kill_child;
	err = pml_tracer_new(opts->flags, pid, opts->ringbuf_bytes, write_record, &rec, &t);
	if (err)
		goto kill_child;

	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	t0 = now_ns(CLOCK_MONOTONIC);
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
	pml_tracer_free(t);
	if (rec.w) {
		uint64_t events = pml_trace_writer_events(rec.w);
		int cerr = pml_trace_writer_close(rec.w, &end);

		if (!err)
			err = cerr;
		if (!err && ret) {
			ret->events = events;
			ret->dropped = end.dropped;
			ret->seconds = end.end_ns > t0 && t0 ? (end.end_ns - t0) / 1e9 : 0;
			ret->status = status;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	return err;
}
