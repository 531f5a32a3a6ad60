/* The live tracer: loads the eBPF programs of trace.bpf.c (through the libbpf skeleton),
 * follows a process tree in the kernel, samples its instruction pointer and resolves the
 * samples to functions (symbolizer.h), and hands each record from the ring buffer to a
 * callback. pml_tracer_record() is the whole of `pml trace record`: run a command under
 * the tracer and write a trace file. Needs root (CAP_BPF + CAP_PERFMON) and a kernel with
 * BTF; the pinned guest kernel has both. */
#ifndef PML_TRACE_TRACER_H
#define PML_TRACE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "trace/trace-event.h"

enum pml_tracer_flags {
	PML_TRACER_ALL = 1 << 0,	/* the whole machine, not one process tree */
	PML_TRACER_STORED = 1 << 1,	/* record: do not compress the trace file's blocks */
	PML_TRACER_NO_SAMPLES = 1 << 2,	/* no instruction-pointer sampling */
	PML_TRACER_NO_FAULTS = 1 << 3,	/* no page-fault counting */
	PML_TRACER_NO_OBJECTS = 1 << 4,	/* no OBJECT records (full paths of mapped files) */
	PML_TRACER_BPF_STATS = 1 << 5,	/* record: enable the kernel's BPF run-time stats and
					 * report each program's runs and time */
	PML_TRACER_RAW_SAMPLES = 1 << 6, /* hand samples to the callback unresolved (the
					  * caller resolves them later, in order, with its
					  * own symbolizer: pml_tracer_record does it in the
					  * trace writer's thread) */
	PML_TRACER_NO_MODULES = 1 << 7, /* no module_request/load/free records (pmld reads
					 * them from tracefs once) */
};

/* The optional parts actually running (pml_tracer_features): each is dropped with a
 * warning when the kernel refuses it (no perf events, no fentry, no BPF LSM ...). */
enum pml_tracer_feature {
	PML_TRACER_F_SAMPLES = 1 << 0,	/* ip samples on a CPU clock */
	PML_TRACER_F_FAULTS = 1 << 1,	/* page faults classified by vma (fentry) */
	PML_TRACER_F_FAULTS_TP = 1 << 2, /* page faults classified by mm fields (tracepoint) */
	PML_TRACER_F_OBJECTS = 1 << 3,	/* OBJECT records from the LSM mmap_file hook */
	PML_TRACER_F_SAMPLE_OBJECTS = 1 << 4, /* without it, from the sample program (a
					       * bounded dentry walk) */
	PML_TRACER_F_OBJECTS_WALK = 1 << 5, /* OBJECTS by a dentry walk: the kernel refused
					     * bpf_d_path in the hook */
};

/* Per CPU. Under QEMU TCG a sample costs ~180 us of the traced program's wall time (the
 * timer interrupt, the program, bpf_find_vma's deferred unlock: BENCHMARKS.md), so 1 kHz
 * slowed a CPU-bound program by ~18-25%; 99 Hz (not 100: no lockstep with periodic work)
 * keeps it near 2%. On hardware a sample costs a few us: ask for more with --sample-hz. */
#define PML_TRACER_DEFAULT_SAMPLE_HZ 99
#define PML_TRACER_DEFAULT_FAULT_MS 100

/* Settings of pml_tracer_open(). Zero values mean the defaults. */
struct pml_tracer_config {
	unsigned flags;			/* enum pml_tracer_flags */
	pid_t root_pid;			/* the traced tree's root; ignored with PML_TRACER_ALL */
	/* A cgroup v2 id (pml_cgroup_id): the processes in that cgroup are traced instead of
	 * root_pid's tree (root_pid then only gets the state of a process traced from the
	 * start); ignored with PML_TRACER_ALL. */
	uint64_t cgroup_id;
	unsigned cgroup_level;		/* its depth below cgroup2's root (pml_cgroup_id) */
	size_t ringbuf_bytes;		/* 0: 16 MB; else a power of two */
	unsigned sample_hz;		/* per CPU; 0: PML_TRACER_DEFAULT_SAMPLE_HZ */
	unsigned fault_interval_ms;	/* 0: PML_TRACER_DEFAULT_FAULT_MS */
	/* Plain system-call records (PML_TEV_SYSCALL) only for a process's first call of
	 * each number since its last execve, and none for the numbers set in plain_drop
	 * (bit nr; numbers above 511 share bit 511): for a reader that collapses them so
	 * anyway (model/features.h), which then reads ~7x fewer records and no loop of
	 * calls fills the ring buffer. */
	bool plain_once;
	uint64_t plain_drop[8];
};

struct pml_tracer;

/* Called for every record, in ring buffer order (per CPU order; records of different CPUs
 * may be out of time order by a little). ev is valid only during the call. Return 0 to go
 * on, a negative errno to stop the poll with it. */
typedef int (*pml_tracer_event_fn)(void *data, const struct pml_tev_hdr *ev);

/* Open, configure, load and attach the programs; the root's descendants are added in the
 * kernel as they fork. Sample records reach fn resolved (object and func filled). An
 * optional part the kernel refuses is left out with a warning (pml_tracer_features says
 * what runs). Returns 0, -EPERM without privileges, -ENOSYS/-EINVAL when the kernel
 * refuses the base programs (the libbpf log says why), -ENOMEM. */
int pml_tracer_open(const struct pml_tracer_config *cfg, pml_tracer_event_fn fn, void *data,
		    struct pml_tracer **ret);
/* The version-1 tracer (system calls, module tracepoints, processes; no samples, faults
 * or OBJECT records): pml_tracer_open() with PML_TRACER_NO_SAMPLES | NO_FAULTS |
 * NO_OBJECTS added to flags. */
int pml_tracer_new(unsigned flags, pid_t root_pid, size_t ringbuf_bytes,
		   pml_tracer_event_fn fn, void *data, struct pml_tracer **ret);
/* The id the kernel gives the cgroup v2 directory dir (what BPF's cgroup id helpers
 * return) and its depth below the hierarchy's root (0: the root). Returns 0 with *id and
 * *level set, or -errno (-ENOTDIR, -EOPNOTSUPP for a directory not on cgroup2). */
int pml_cgroup_id(const char *dir, uint64_t *id, unsigned *level);
/* enum pml_tracer_feature bits of what is running. */
unsigned pml_tracer_features(const struct pml_tracer *t);
/* Add a process (tgid) to the traced set. Returns 0 or -errno. */
int pml_tracer_add_pid(struct pml_tracer *t, pid_t pid);
/* Wait up to timeout_ms for records and deliver them. Returns the count delivered, or the
 * callback's negative errno, or -errno (-EINTR on a signal). */
int pml_tracer_poll(struct pml_tracer *t, int timeout_ms);
/* Records the kernel side could not queue so far (ring buffer full), over all CPUs. */
uint64_t pml_tracer_dropped(struct pml_tracer *t);
/* Detach and free. */
void pml_tracer_free(struct pml_tracer *t);

/* Runs and time of one BPF program (PML_TRACER_BPF_STATS). */
struct pml_tracer_prog_stats {
	char name[32];
	uint64_t runs;
	uint64_t ns;
};

#define PML_TRACER_MAX_PROGS 16

/* Kernel-side counts, read when the recording ends. */
void pml_tracer_prog_stats(const struct pml_tracer *t, struct pml_tracer_prog_stats *ret,
			   size_t max, size_t *ret_n);

struct pml_tracer_opts {
	char *const *argv;	/* the command to run (argv[0] searched in PATH) */
	const char *output;	/* the trace file */
	unsigned flags;		/* enum pml_tracer_flags */
	size_t ringbuf_bytes;	/* 0: default */
	unsigned sample_hz;	/* 0: default */
	unsigned fault_interval_ms; /* 0: default */
};

struct pml_tracer_result {
	uint64_t events;	/* records written */
	uint64_t dropped;	/* records lost in the kernel */
	double seconds;		/* the command's wall time */
	int status;		/* its wait status */
	unsigned features;	/* enum pml_tracer_feature bits that ran */
	uint64_t samples;	/* sample records */
	uint64_t samples_named;	/* of them resolved to a function */
	double tracer_cpu_s;	/* CPU time (user + system) of the recording thread while the
				 * command ran: what tracing takes from a one-CPU machine */
	double total_cpu_s;	/* of the whole recorder, from the command's start to the
				 * trace file closed (the writer thread's compression too) */
	size_t n_progs;		/* with PML_TRACER_BPF_STATS */
	struct pml_tracer_prog_stats progs[PML_TRACER_MAX_PROGS];
};

/* Fork argv stopped, trace its tree from its exec on, wait for it (and for the tree's
 * last records), write the trace file with an end block. Returns 0 (the command's status
 * is in ret), or -errno: of the tracer setup (nothing run), of the trace file, -ENOENT
 * when the command cannot be executed. */
int pml_tracer_record(const struct pml_tracer_opts *opts, struct pml_tracer_result *ret);

#endif
