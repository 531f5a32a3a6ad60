/* Where pmld's kernel events come from, behind one small interface: the text of the module
 * tracepoints through tracefs (tracefs.c), with module_get on the watched prefetches and a
 * kprobe on alloc_netdev_mqs. A source hands out a pollable descriptor and, when it is
 * readable (or whenever the agent likes: reads never block), the events decoded so far.
 *
 * Module events arrive once, from here. The eBPF tracer (src/trace), run only for policies
 * that read the program's behaviour (agent/program-trace.c, drained on a timer and told to
 * the policy as trace records, PML_POL_TRACE, from the job's prior on), leaves out its
 * module tracepoints when pmld has this source (PML_TRACER_NO_MODULES). A request, load or
 * free of this source is then the typed event (the record of source "tracefs", the resource
 * manager, the prefetches' uses, PML_POL_REQUEST/LOAD/UNLOAD) and is also told the policy
 * as the record the tracer would have made of it (the model's tokens), queued until the
 * tracer's records made before it are told. Replay makes the same records of its own
 * loads and frees (sim.c's sim_tell_module_record), and the shipped models were trained
 * on those tokens. Without this source the tracer records the module tracepoints itself. */
#ifndef PML_AGENT_SOURCE_H
#define PML_AGENT_SOURCE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pml_kevent_kind {
	PML_KEV_REQUEST, /* module_request: the kernel asks for an alias */
	PML_KEV_LOAD,	 /* module_load: a module was inserted */
	PML_KEV_FREE,	 /* module_free: a module was removed */
	PML_KEV_GET,	 /* module_get: a reference was taken on a watched module (a use) */
	PML_KEV_NETDEV,	 /* an interface was made with a module's setup function (a use) */
};

/* One kernel event. */
struct pml_kevent {
	enum pml_kevent_kind kind;
	uint64_t t_ns;	/* CLOCK_MONOTONIC ns (tracefs: trace_clock "mono", µs precision) */
	int pid;	/* the task that triggered it (for a request: the requester) */
	char comm[32];	/* its name, "<...>" when the kernel did not keep it */
	char name[64];	/* the alias (request) or the module name (load, free, get, netdev) */
	bool wait;	/* request: the caller waits for modprobe */
	char site[64];	/* get: the call site that took the reference ("" unknown); netdev:
			 * the setup function ("dummy_setup") */
};

struct pml_source;

struct pml_source_ops {
	const char *name;
	/* A descriptor to poll for readability, or -1 when the source has none. */
	int (*fd)(struct pml_source *s);
	/* Write up to max decoded events without blocking. Returns the count (0: none
	 * now), or -errno on a failure of the source itself. */
	int (*read)(struct pml_source *s, struct pml_kevent *evs, size_t max);
	void (*free)(struct pml_source *s);
	/* Report PML_KEV_GET for these modules from now on, for no module when n is 0 (may
	 * be NULL: the source sees no references). Returns the number of names it watches
	 * (those that fit its filter, in the order given), or -errno. */
	int (*watch)(struct pml_source *s, const char (*names)[64], size_t n);
};

struct pml_source {
	const struct pml_source_ops *ops;
	uint64_t lost;	    /* events the source reports as dropped */
	uint64_t malformed; /* lines or records it could not decode */
};

static inline int pml_source_fd(struct pml_source *s)
{
	return s->ops->fd(s);
}

static inline int pml_source_read(struct pml_source *s, struct pml_kevent *evs, size_t max)
{
	return s->ops->read(s, evs, max);
}

/* See pml_source_ops.watch; -EOPNOTSUPP when the source has no references to report. */
static inline int pml_source_watch(struct pml_source *s, const char (*names)[64], size_t n)
{
	return s->ops->watch ? s->ops->watch(s, names, n) : -EOPNOTSUPP;
}

static inline void pml_source_free(struct pml_source *s)
{
	if (s)
		s->ops->free(s);
}

/* The module tracepoints through tracefs. root: the tracefs mount (NULL: find it at
 * /sys/kernel/tracing or /sys/kernel/debug/tracing, mounting tracefs when absent). Uses
 * its own trace instance ("pml") when the kernel allows, so the global buffer is left
 * alone; sets its trace_clock to "mono", buffer_percent to 0 (6.1's poll() otherwise waits
 * for a half-full buffer), enables module:module_request, module_load, module_free and
 * opens trace_pipe non-blocking. module:module_get is enabled too, with an event filter
 * that passes only the modules watch names (pml_tracefs_get_filter; none until then), so
 * that no other module's references reach the buffer; a kernel without it makes watch
 * return -ENODEV. On x86_64 it also defines a kprobe, pml/netdev_alloc, on
 * alloc_netdev_mqs with its setup argument as a symbol: an interface made by a module's
 * setup function ("dummy_setup [dummy]", in any namespace) is PML_KEV_NETDEV, the use of
 * an interface kind, whose interfaces hold no reference (without kprobes: none).
 * Returns 0, or -errno with a sentence for the log in why (size bytes):
 * -ENOENT no tracefs and it cannot be mounted, -EACCES/-EPERM not root,
 * -ENODEV no module tracepoints in this kernel. */
int pml_source_new_tracefs(const char *root, char *why, size_t size,
			   struct pml_source **ret);

/* Parse one line of trace_pipe (the default ftrace text output, as in Linux 6.1):
 *   "            sh-123     [000] d..1.    12.345678: module_request: sctp wait=1 call_site=..."
 *   "         mount-312     [001] .....    13.000001: module_get: loop call_site=... refcnt=2"
 * Returns 1 and fills ret for a module_request/module_load/module_free/module_get line
 * (module_put is not reported: a first use is a get) and for a netdev_alloc line whose
 * setup function is a module's ("setup=veth_setup+0x0/0xe0 [veth]"), 0 for any other line (another event, a "CPU:N [LOST M EVENTS]" notice: *lost gets M when lost is
 * not NULL), -EINVAL for a module event line that does not parse. Pure: no I/O. */
int pml_tracefs_parse_line(const char *line, struct pml_kevent *ret, uint64_t *lost);

/* The event filter of module:module_get that passes these modules' references only:
 * 'name == "loop" || name == "vfat"', written into buf (size bytes, NUL-terminated).
 * Names that are not plain module names ([A-Za-z0-9_-]) are skipped; names that would not
 * fit are left out (the filter stops at the first). Returns how many names it holds (0: buf
 * is "", no filter). Pure. */
size_t pml_tracefs_get_filter(const char (*names)[64], size_t n, char *buf, size_t size);

#endif
