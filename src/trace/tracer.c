/* The live tracer, user-space side (libbpf-bootstrap's shape): open the skeleton, set the
 * rodata settings (root pid, whole-machine mode, our own pid to skip), load, attach, poll
 * the ring buffer, destroy. `pml trace record` is built on it in tracer-record.c; the
 * cgroup id a tracer may follow instead of a process tree comes from cgroup-id.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "trace/symbolizer.h"
#include "trace/trace-decode.h"
#include "trace/tracer.h"
#include "util/log.h"

#include "trace.skel.h"

struct pml_tracer {
	struct pml_trace_bpf *skel;
	struct ring_buffer *rb;
	pml_tracer_event_fn fn;
	void *data;
	int cb_err;
	unsigned features;	/* enum pml_tracer_feature */
	uint64_t malformed;	/* records of a wrong size (a kernel/user mismatch) */
	struct pml_symbolizer *sym;
	struct bpf_link **links;
	size_t n_links;
	struct bpf_link **sample_links; /* one per CPU, like perf_fds */
	size_t n_sample_links;
	int *perf_fds;
	size_t n_perf;
};

/* libbpf's messages go to pml's log sink: warnings as warnings, the rest as debug. While
 * the programs load, they are held back instead (load_log), because a refusal of an
 * optional program is not an error: it is reported in one line and the verifier's log
 * goes to debug; only a refusal of the base programs shows the log as warnings. The
 * program libbpf names in a failure ("prog 'pml_sample': ...") is noted. */
static struct {
	bool capture;
	char *buf;
	size_t len, cap;
	char failed_prog[64];
} load_log;

static void load_log_add(const char *line)
{
	size_t n = strlen(line) + 1;

	if (load_log.len + n > load_log.cap) {
		size_t cap = load_log.cap ? load_log.cap * 2 : 16384;
		char *p;

		while (cap < load_log.len + n)
			cap *= 2;
		if (cap > (4u << 20))
			return; /* keep the head of a runaway log */
		p = realloc(load_log.buf, cap);
		if (!p)
			return;
		load_log.buf = p;
		load_log.cap = cap;
	}
	memcpy(load_log.buf + load_log.len, line, n);
	load_log.len += n;
}

/* Replay the held-back log at a level, then forget it. */
static void load_log_flush(enum pml_log_level lvl)
{
	for (size_t off = 0; off < load_log.len; off += strlen(load_log.buf + off) + 1)
		pml_log(lvl, "%s", load_log.buf + off);
	load_log.len = 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	enum pml_log_level lvl = level == LIBBPF_WARN ? PML_LOG_WARNING : PML_LOG_DEBUG;
	char *msg = NULL, *line, *save = NULL;

	/* the verifier log arrives as one message of many lines: one log line each */
	if (vasprintf(&msg, fmt, args) < 0)
		return 0;
	if (load_log.capture && level == LIBBPF_WARN && !load_log.failed_prog[0]) {
		const char *p = strstr(msg, "prog '");

		if (p) {
			size_t n = strcspn(p + 6, "'");

			if (n < sizeof(load_log.failed_prog)) {
				memcpy(load_log.failed_prog, p + 6, n);
				load_log.failed_prog[n] = '\0';
			}
		}
	}
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (load_log.capture && level == LIBBPF_WARN)
			load_log_add(line);
		else
			pml_log(lvl, "%s", line);
	}
	free(msg);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct pml_tracer *t = ctx;
	const struct pml_tev_hdr *h = data;
	struct pml_tev_sample sample;
	int r;

	if (pml_tev_check(data, size)) {
		t->malformed++;
		return 0;
	}
	if (t->sym) {
		if (h->kind == PML_TEV_SAMPLE) {
			/* the ring buffer is read-only here: resolve a copy */
			memcpy(&sample, data, sizeof(sample));
			pml_symbolizer_resolve(t->sym, &sample);
			h = &sample.h;
		} else {
			pml_symbolizer_observe(t->sym, h);
		}
	}
	r = t->fn(t->data, h);
	if (r < 0) {
		t->cb_err = r;
		return r;
	}
	return 0;
}

/* The optional programs, by the feature they serve. */
static unsigned feature_of(const char *prog)
{
	if (!strcmp(prog, "pml_sample"))
		return PML_TRACER_F_SAMPLES;
	if (!strcmp(prog, "pml_sample_obj"))
		return PML_TRACER_F_SAMPLE_OBJECTS;
	if (!strcmp(prog, "pml_fault"))
		return PML_TRACER_F_FAULTS;
	if (!strcmp(prog, "pml_fault_tp"))
		return PML_TRACER_F_FAULTS_TP;
	if (!strcmp(prog, "pml_mmap_file"))
		return PML_TRACER_F_OBJECTS;
	if (!strcmp(prog, "pml_mmap_file_walk"))
		return PML_TRACER_F_OBJECTS_WALK;
	return 0;
}

static const char *feature_name(unsigned f)
{
	switch (f) {
	case PML_TRACER_F_SAMPLES:
		return "instruction-pointer sampling";
	case PML_TRACER_F_FAULTS:
		return "page-fault counting on handle_mm_fault";
	case PML_TRACER_F_FAULTS_TP:
		return "page-fault counting on page_fault_user";
	case PML_TRACER_F_OBJECTS:
		return "full paths of mapped files (LSM mmap_file)";
	case PML_TRACER_F_SAMPLE_OBJECTS:
		return "paths of sampled files (dentry walk)";
	case PML_TRACER_F_OBJECTS_WALK:
		return "paths of mapped files by dentry walk (LSM mmap_file)";
	}
	return "?";
}

/* Open the skeleton with the programs of want and load it. On a refusal of an optional
 * program, drop its feature and try again. Returns 0 with t->skel loaded and *want the
 * features that loaded, or -errno. */
static int load_programs(struct pml_tracer *t, const struct pml_tracer_config *cfg,
			 bool module_tps, unsigned *want)
{
	int err = -EINVAL;

	for (int attempt = 0; attempt < 8; attempt++) {
		__typeof__(t->skel->progs) *p;
		unsigned f;

		t->skel = pml_trace_bpf__open();
		if (!t->skel) {
			err = -errno;
			pml_err("trace: cannot open the BPF object: %s", strerror(-err));
			return err;
		}
		p = &t->skel->progs;
		t->skel->rodata->targ_root_pid = (__u32)cfg->root_pid;
		t->skel->rodata->targ_self_pid = (__u32)getpid();
		t->skel->rodata->targ_all = cfg->flags & PML_TRACER_ALL;
		t->skel->rodata->targ_cgroup_id = cfg->cgroup_id;
		t->skel->rodata->targ_cgroup_level = cfg->cgroup_level;
		t->skel->rodata->targ_fault_interval_ns =
			(uint64_t)(cfg->fault_interval_ms ? cfg->fault_interval_ms
							  : PML_TRACER_DEFAULT_FAULT_MS) *
			1000000u;
		t->skel->rodata->targ_plain_once = cfg->plain_once;
		for (int i = 0; i < 8; i++)
			t->skel->rodata->targ_plain_drop[i] = cfg->plain_drop[i];
		if (cfg->ringbuf_bytes) {
			err = bpf_map__set_max_entries(t->skel->maps.rb, (__u32)cfg->ringbuf_bytes);
			if (err)
				return err;
		}
		bpf_program__set_autoload(p->pml_module_request, module_tps);
		bpf_program__set_autoload(p->pml_module_load, module_tps);
		bpf_program__set_autoload(p->pml_module_free, module_tps);
		bpf_program__set_autoload(p->pml_sample, *want & PML_TRACER_F_SAMPLES);
		bpf_program__set_autoload(p->pml_sample_obj, *want & PML_TRACER_F_SAMPLE_OBJECTS);
		bpf_program__set_autoload(p->pml_fault, *want & PML_TRACER_F_FAULTS);
		bpf_program__set_autoload(p->pml_fault_tp, *want & PML_TRACER_F_FAULTS_TP);
		bpf_program__set_autoload(p->pml_mmap_file, *want & PML_TRACER_F_OBJECTS);
		bpf_program__set_autoload(p->pml_mmap_file_walk, *want & PML_TRACER_F_OBJECTS_WALK);
		load_log.capture = true;
		load_log.failed_prog[0] = '\0';
		err = pml_trace_bpf__load(t->skel);
		load_log.capture = false;
		if (!err) {
			load_log_flush(PML_LOG_DEBUG);
			return 0;
		}
		f = feature_of(load_log.failed_prog);
		if (!f || !(*want & f)) {
			load_log_flush(PML_LOG_WARNING);
			return err;
		}
		load_log_flush(PML_LOG_DEBUG);
		*want &= ~f;
		/* the fallbacks are loaded only when needed: each costs verification time,
		 * seconds of it under TCG */
		if (f == PML_TRACER_F_FAULTS || f == PML_TRACER_F_OBJECTS) {
			unsigned alt = f == PML_TRACER_F_FAULTS ? PML_TRACER_F_FAULTS_TP
								: PML_TRACER_F_OBJECTS_WALK;

			pml_warn("trace: the kernel refused %s (%s: %s): trying %s",
				 feature_name(f), load_log.failed_prog, strerror(-err),
				 feature_name(alt));
			*want |= alt;
		} else {
			pml_warn("trace: the kernel refused %s (%s: %s): recording without it",
				 feature_name(f), load_log.failed_prog, strerror(-err));
		}
		pml_trace_bpf__destroy(t->skel);
		t->skel = NULL;
	}
	return err;
}

static int add_link(struct pml_tracer *t, struct bpf_link *l)
{
	struct bpf_link **n = realloc(t->links, (t->n_links + 1) * sizeof(*n));

	if (!n) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	t->links = n;
	t->links[t->n_links++] = l;
	return 0;
}

/* Attach one program; returns 0 or -errno. */
static int attach(struct pml_tracer *t, struct bpf_program *prog)
{
	struct bpf_link *l = bpf_program__attach(prog);

	if (!l)
		return -errno;
	return add_link(t, l);
}

/* Attach pml_mmap_file and check that it runs: map a file and see the hook count it. */
static int attach_objects(struct pml_tracer *t, struct bpf_program *prog)
{
	__u64 before = t->skel->bss->lsm_calls;
	int err = attach(t, prog), fd;
	char exe[64];
	void *m;

	if (err)
		return err;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)getpid());
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m != MAP_FAILED)
		munmap(m, 4096);
	if (t->skel->bss->lsm_calls == before) {
		/* the hook never runs: BPF LSM is not in this kernel's active LSMs */
		bpf_link__destroy(t->links[--t->n_links]);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group,
			   unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
}

/* A CPU clock event on every online CPU, each running pml_sample. Returns 0 or -errno of
 * the first refusal (the events opened so far stay with t and are closed at free). */
static int attach_sampling(struct pml_tracer *t, struct bpf_program *prog, unsigned hz)
{
	int ncpus = libbpf_num_possible_cpus();
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1000000000ull / hz, /* the CPU clock counts ns */
		.disabled = 1,
	};
	int opened = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -ENODEV;
	t->perf_fds = calloc((size_t)ncpus, sizeof(*t->perf_fds));
	t->sample_links = calloc((size_t)ncpus, sizeof(*t->sample_links));
	if (!t->perf_fds || !t->sample_links)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		struct bpf_link *l;
		int fd = perf_event_open(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			if (errno == ENODEV) /* an offline CPU */
				continue;
			return -errno;
		}
		t->perf_fds[t->n_perf++] = fd;
		l = bpf_program__attach_perf_event(prog, fd);
		if (!l)
			return -errno;
		t->sample_links[t->n_sample_links++] = l;
		opened++;
	}
	return opened ? 0 : -ENODEV;
}

static void detach_sampling(struct pml_tracer *t)
{
	for (size_t i = 0; i < t->n_sample_links; i++)
		bpf_link__destroy(t->sample_links[i]);
	t->n_sample_links = 0;
	for (size_t i = 0; i < t->n_perf; i++)
		close(t->perf_fds[i]);
	t->n_perf = 0;
}

int pml_tracer_open(const struct pml_tracer_config *cfg, pml_tracer_event_fn fn, void *data,
		    struct pml_tracer **ret)
{
	__typeof__(((struct pml_trace_bpf *)0)->progs) *p;
	unsigned want = 0, hz;
	struct pml_tracer *t;
	bool module_tps = true;
	int err;

	libbpf_set_print(libbpf_log);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->data = data;
	if (!(cfg->flags & PML_TRACER_NO_SAMPLES))
		want |= PML_TRACER_F_SAMPLES | PML_TRACER_F_SAMPLE_OBJECTS;
	if (!(cfg->flags & PML_TRACER_NO_FAULTS))
		want |= PML_TRACER_F_FAULTS; /* FAULTS_TP if the kernel refuses it */
	if (!(cfg->flags & PML_TRACER_NO_OBJECTS))
		want |= PML_TRACER_F_OBJECTS; /* OBJECTS_WALK if the kernel refuses it */
	/* a kernel without module support (this project's build host) has no module
	 * tracepoints: trace the rest rather than nothing */
	if (cfg->flags & PML_TRACER_NO_MODULES) {
		module_tps = false;
	} else if (libbpf_find_vmlinux_btf_id("module_request", BPF_TRACE_RAW_TP) < 0) {
		pml_warn("trace: this kernel has no module tracepoints (no module support?): "
			 "module_request/load/free will not be recorded");
		module_tps = false;
	}
	err = load_programs(t, cfg, module_tps, &want);
	if (err) {
		pml_err("trace: the kernel refused the BPF programs: %s (needs root and a "
			"kernel with BPF and BTF)", strerror(-err));
		goto fail;
	}
	/* the root is traced from the start, with its fault counters */
	if (!(cfg->flags & PML_TRACER_ALL) && cfg->root_pid > 0) {
		err = pml_tracer_add_pid(t, cfg->root_pid);
		if (err)
			goto fail;
	}
	p = &t->skel->progs;
	{
		struct bpf_program *base[] = {
			p->pml_sys_enter, p->pml_fork, p->pml_exec, p->pml_exit,
			module_tps ? p->pml_module_request : NULL,
			module_tps ? p->pml_module_load : NULL,
			module_tps ? p->pml_module_free : NULL,
		};

		for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
			if (!base[i])
				continue;
			err = attach(t, base[i]);
			if (err) {
				pml_err("trace: cannot attach %s: %s", bpf_program__name(base[i]),
					strerror(-err));
				goto fail;
			}
		}
	}
	/* faults: on handle_mm_fault, or on the tracepoint when the kernel refused that
	 * program (load_programs loaded the one that passed) */
	if (want & PML_TRACER_F_FAULTS) {
		err = attach(t, p->pml_fault);
		if (err) {
			pml_warn("trace: cannot attach %s (%s): recording without it",
				 feature_name(PML_TRACER_F_FAULTS), strerror(-err));
			want &= ~PML_TRACER_F_FAULTS;
		}
	} else if (want & PML_TRACER_F_FAULTS_TP) {
		err = attach(t, p->pml_fault_tp);
		if (err) {
			pml_warn("trace: cannot attach %s (%s): recording without it",
				 feature_name(PML_TRACER_F_FAULTS_TP), strerror(-err));
			want &= ~PML_TRACER_F_FAULTS_TP;
		}
	}
	/* OBJECT records: bpf_d_path, else the dentry walk, in the LSM hook */
	if (want & (PML_TRACER_F_OBJECTS | PML_TRACER_F_OBJECTS_WALK)) {
		struct bpf_program *prog = want & PML_TRACER_F_OBJECTS ? p->pml_mmap_file
								       : p->pml_mmap_file_walk;

		err = attach_objects(t, prog);
		want &= ~(PML_TRACER_F_OBJECTS | PML_TRACER_F_OBJECTS_WALK);
		if (err)
			pml_warn("trace: cannot attach %s (%s): mmap records keep the file's name "
				 "only", feature_name(PML_TRACER_F_OBJECTS), strerror(-err));
		else
			want |= PML_TRACER_F_OBJECTS |
				(prog == p->pml_mmap_file_walk ? PML_TRACER_F_OBJECTS_WALK : 0);
	}
	if (want & (PML_TRACER_F_SAMPLES | PML_TRACER_F_SAMPLE_OBJECTS)) {
		struct bpf_program *prog = p->pml_sample;

		/* without the LSM hook, the variant that names the files it meets */
		if ((want & PML_TRACER_F_SAMPLE_OBJECTS) &&
		    (!(want & PML_TRACER_F_OBJECTS) || !(want & PML_TRACER_F_SAMPLES)))
			prog = p->pml_sample_obj;
		want &= ~PML_TRACER_F_SAMPLE_OBJECTS;
		want |= PML_TRACER_F_SAMPLES;
		if (prog == p->pml_sample_obj)
			want |= PML_TRACER_F_SAMPLE_OBJECTS;
		hz = cfg->sample_hz ? cfg->sample_hz : PML_TRACER_DEFAULT_SAMPLE_HZ;
		if (hz > 100000)
			hz = 100000;
		err = attach_sampling(t, prog, hz);
		if (err) {
			pml_warn("trace: no instruction-pointer sampling: perf events refused (%s)",
				 strerror(-err));
			detach_sampling(t);
			want &= ~(PML_TRACER_F_SAMPLES | PML_TRACER_F_SAMPLE_OBJECTS);
		} else {
			if (!(cfg->flags & PML_TRACER_RAW_SAMPLES)) {
				t->sym = pml_symbolizer_new("/proc");
				if (!t->sym) {
					err = -ENOMEM;
					goto fail;
				}
			}
		}
	}
	t->features = want;
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

int pml_tracer_new(unsigned flags, pid_t root_pid, size_t ringbuf_bytes,
		   pml_tracer_event_fn fn, void *data, struct pml_tracer **ret)
{
	struct pml_tracer_config cfg = {
		.flags = flags | PML_TRACER_NO_SAMPLES | PML_TRACER_NO_FAULTS |
			 PML_TRACER_NO_OBJECTS,
		.root_pid = root_pid,
		.ringbuf_bytes = ringbuf_bytes,
	};

	return pml_tracer_open(&cfg, fn, data, ret);
}

unsigned pml_tracer_features(const struct pml_tracer *t)
{
	return t->features;
}

void pml_tracer_prog_stats(const struct pml_tracer *t, struct pml_tracer_prog_stats *ret,
			   size_t max, size_t *ret_n)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (n >= max)
			break;
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		snprintf(ret[n].name, sizeof(ret[n].name), "%s", bpf_program__name(prog));
		ret[n].runs = info.run_cnt;
		ret[n].ns = info.run_time_ns;
		n++;
	}
	*ret_n = n;
}

int pml_tracer_add_pid(struct pml_tracer *t, pid_t pid)
{
	__u32 key = (__u32)pid;
	uint64_t zero[8] = {0}; /* the process's state (trace.bpf.c): no faults counted yet */
	size_t size = bpf_map__value_size(t->skel->maps.traced);
	int err;

	if (size > sizeof(zero))
		return -EINVAL;
	err = bpf_map__update_elem(t->skel->maps.traced, &key, sizeof(key), zero, size,
				   BPF_NOEXIST);
	return err == -EEXIST ? 0 : err; /* already traced: keep its counters */
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
	detach_sampling(t);
	for (size_t i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	free(t->sample_links);
	free(t->perf_fds);
	pml_trace_bpf__destroy(t->skel);
	pml_symbolizer_free(t->sym);
	free(t);
}
