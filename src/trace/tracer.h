/* The live tracer: loads the eBPF programs of trace.bpf.c (through the libbpf skeleton),
 * follows a process tree in the kernel, and hands each record from the ring buffer to a
 * callback. pml_tracer_record() is the whole of `pml trace record`: run a command under
 * the tracer and write a trace file. Needs root (CAP_BPF + CAP_PERFMON) and a kernel with
 * BTF; the pinned guest kernel has both. */
#ifndef PML_TRACE_TRACER_H
#define PML_TRACE_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "trace/trace-event.h"

enum pml_tracer_flags {
	PML_TRACER_ALL = 1 << 0,	/* the whole machine, not one process tree */
	PML_TRACER_STORED = 1 << 1,	/* record: do not compress the trace file's blocks */
};

struct pml_tracer;

/* Called for every record, in ring buffer order (per CPU order; records of different CPUs
 * may be out of time order by a little). ev is valid only during the call. Return 0 to go
 * on, a negative errno to stop the poll with it. */
typedef int (*pml_tracer_event_fn)(void *data, const struct pml_tev_hdr *ev);

/* Open, configure (root pid, whole-machine mode), load and attach the programs. root_pid:
 * the traced tree's root (its descendants are added in the kernel as they fork), ignored
 * with PML_TRACER_ALL. ringbuf_bytes: 0 for the default (16 MB), else a power of two.
 * Returns 0, -EPERM without privileges, -ENOSYS/-EINVAL when the kernel refuses the
 * programs (the libbpf log says why), -ENOMEM. */
int pml_tracer_new(unsigned flags, pid_t root_pid, size_t ringbuf_bytes,
		   pml_tracer_event_fn fn, void *data, struct pml_tracer **ret);
/* Add a process (tgid) to the traced set. Returns 0 or -errno. */
int pml_tracer_add_pid(struct pml_tracer *t, pid_t pid);
/* Wait up to timeout_ms for records and deliver them. Returns the count delivered, or the
 * callback's negative errno, or -errno (-EINTR on a signal). */
int pml_tracer_poll(struct pml_tracer *t, int timeout_ms);
/* Records the kernel side could not queue so far (ring buffer full), over all CPUs. */
uint64_t pml_tracer_dropped(struct pml_tracer *t);
/* Detach and free. */
void pml_tracer_free(struct pml_tracer *t);

struct pml_tracer_opts {
	char *const *argv;	/* the command to run (argv[0] searched in PATH) */
	const char *output;	/* the trace file */
	unsigned flags;		/* enum pml_tracer_flags */
	size_t ringbuf_bytes;	/* 0: default */
};

struct pml_tracer_result {
	uint64_t events;	/* records written */
	uint64_t dropped;	/* records lost in the kernel */
	double seconds;		/* the command's wall time */
	int status;		/* its wait status */
};

/* Fork argv stopped, trace its tree from its exec on, wait for it (and for the tree's
 * last records), write the trace file with an end block. Returns 0 (the command's status
 * is in ret), or -errno: of the tracer setup (nothing run), of the trace file, -ENOENT
 * when the command cannot be executed. */
int pml_tracer_record(const struct pml_tracer_opts *opts, struct pml_tracer_result *ret);

#endif
