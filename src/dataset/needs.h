/* The ground truth of a run: its needs, derived from the module tracepoints of a trace
 * recorded under the reactive policy (Linux as shipped: every first use autoloads).
 *
 * A need is a point in time where the program asked the kernel for something that a
 * module provides. In a reactive trace it shows as a module_request (the kernel asks for
 * an alias, the requesting thread blocks) followed by the module_load records of what
 * modprobe inserted for it (the dependency closure minus what was already loaded, deps
 * first, the target last). User space may also run modprobe itself (iptables-legacy,
 * scripts): then loads arrive with no request before them; such a need is timed at its
 * first load and has an empty alias.
 *
 * Attribution goes by loader process: all the loads of one modprobe serve one need. The
 * first load of a new loader process belongs to the latest request not yet given a load
 * (within 10 s), or, when the loader is a process of the traced tree, it is user space's
 * own modprobe: a need of its own with no alias; so is a load nothing explains (a module
 * loaded from outside the program). Two threads asking for the same alias while its
 * module loads make two requests and one need with modules (the first request's): the
 * second is a request whose module was on its way;
 * requests whose alias resolves to nothing (netdev-eth9, the -type-1 form of a socket
 * alias) stay needs with no modules: under reactive each still costs a modprobe exec.
 *
 * The builder is a pure function of the records it is fed (no kernel, no files), so the
 * collector, `pml dataset`, replay and tests all derive the same needs. */
#ifndef PML_DATASET_NEEDS_H
#define PML_DATASET_NEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace-event.h"

#define PML_NEED_NAME_LEN 64
#define PML_NEED_MAX_LOADED 24

struct pml_need {
	uint64_t t_ns;	      /* request time (trace clock), or the first load's */
	uint64_t done_ns;     /* the last load of the group (t_ns when none) */
	uint32_t pid, tid;    /* the requesting thread (for user space's own modprobe, its
				 process; 0 when the loader is outside the traced tree) */
	uint32_t loader_pid;  /* the process that loaded the modules */
	char alias[PML_NEED_NAME_LEN];	/* the requested alias, "" when none */
	char module[PML_NEED_NAME_LEN]; /* the target: the last module loaded, "" when none */
	uint32_t n_loaded;
	char loaded[PML_NEED_MAX_LOADED][PML_NEED_NAME_LEN]; /* in load order */
};

struct pml_needs {
	struct pml_need *v;
	size_t n, cap;
	uint64_t first_ns; /* the first record's time (the trace's first event) */
	/* builder state */
	uint64_t last_ns;
	uint32_t *pids; /* pids of the traced tree seen so far (a set) */
	size_t n_pids, pid_cap;
};

void pml_needs_init(struct pml_needs *n);
void pml_needs_release(struct pml_needs *n);

/* Feed one validated record, every one of the trace in the reader's order (time order).
 * Module requests and loads make the needs; the other records tell which processes
 * belong to the traced tree (a load by one of them is user space's own modprobe).
 * Returns 0 or -ENOMEM. */
int pml_needs_add(struct pml_needs *n, const struct pml_tev_hdr *rec);

/* Read every record of the trace at path into ret (initialised here). Returns 0, or the
 * reader's negative errno (the needs before the damage are kept in ret and the reason is
 * logged). ret must be released in both cases. */
int pml_needs_from_trace(const char *path, struct pml_needs *ret);
/* The same from an open descriptor, which it takes (closes); name is for messages. */
int pml_needs_from_fd(int fd, const char *name, struct pml_needs *ret);

/* Modules loaded by the run (needs' loaded lists, in order, each once). */
size_t pml_needs_modules(const struct pml_needs *n, const char **out, size_t max);

#endif
