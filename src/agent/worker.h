/* The load worker: pmld's loads run on a thread of their own, so prediction never waits on
 * a load (an insert takes 10-600 ms here, btrfs's raid6 benchmark alone 280 ms). The loop
 * submits jobs into a bounded queue; the thread loads them one by one through its own
 * loader (libkmod is not thread-safe: the loop's loader and the worker's never share a
 * context); each result goes into a done queue and an eventfd becomes readable, which
 * the loop polls next to its other descriptors and then collects the results.
 *
 * Jobs are loaded in the order submitted. The worker keeps no state about modules beyond
 * its queues: whether a load is wanted is the loop's business (the resource manager). */
#ifndef PML_AGENT_WORKER_H
#define PML_AGENT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"
#include "util/event-log.h"

struct pml_load_job {
	char module[64];
	char reason[96];   /* for the decision log: "prediction: after sctp (p 0.80, ...)" */
	double confidence; /* <0: not a prediction */
	enum pml_event_cause cause; /* of the module's load record: prefetch, api */
	enum pml_event_basis basis; /* a prefetch's: what it rests on */
	uint64_t t_submit_ns; /* set by the submitter (its clock) */
	uint64_t id;	      /* set by pml_worker_submit */
};

struct pml_load_done {
	struct pml_load_job job;
	int err;		  /* pml_loader_load's return */
	struct pml_op_result res; /* the modules inserted, dependencies first */
	double wait_ms;		  /* in the queue (CLOCK_MONOTONIC) */
};

struct pml_worker;

/* The watch set (the source's filter of module references, source.h) is written by a
 * thread of the worker's, not the loop: a write waits ~20-30 ms in the kernel (a grace
 * period), which on the loop delayed every decision and every queued load behind it. The
 * loop hands the set over (pml_worker_watch: a copy, at once); the watch thread writes a
 * set with a new name at once, most often while the insert before runs, and the insert of
 * a watched module waits until a write holding its name is done (so a reference taken
 * right after the insert is seen). A set that only lost names (used, dropped) is written
 * once nothing is being loaded nor held for a miss: the write holds the kernel's event
 * lock an insert takes. A new name is written even while held: the module may be in
 * already (loaded before the source came), and a use must not be missed.
 * fn returns the number of names it holds (in the order given) or -errno, as
 * pml_source_watch; it runs on the watch thread, one call at a time. */
typedef int (*pml_worker_watch_fn)(void *data, const char (*names)[64], size_t n);

struct pml_worker_watch_stats {
	uint64_t writes; /* calls of fn */
	double ms;	 /* their wall time */
	double cpu_ms;	 /* the worker thread's CPU in them */
	int err;	 /* the first failure of fn (-errno; the worker stops writing), 0 */
	int held;	 /* the last write's return */
	size_t asked;	 /* ... and how many names it was given */
};

/* Start a worker thread over ld, which it owns from here (freed by pml_worker_free, even
 * on failure) and is the only one to use. queue_max bounds the pending jobs (0: 64).
 * Returns 0, -ENOMEM, or -errno of eventfd/pthread_create. */
int pml_worker_new(struct pml_loader *ld, size_t queue_max, struct pml_worker **ret);
/* Stop the thread after the load in progress (queued jobs are dropped), free everything.
 * Results not collected are lost. */
void pml_worker_free(struct pml_worker *w);

/* Queue a load. Returns 0 (job->id written), -EEXIST when the module is queued or being
 * loaded already, -EAGAIN when the queue is full. Never blocks on a load. */
int pml_worker_submit(struct pml_worker *w, struct pml_load_job *job);
/* The eventfd that is readable while results wait to be collected. */
int pml_worker_fd(const struct pml_worker *w);
/* Take up to max results (oldest first) and reset the eventfd. Returns the count. */
size_t pml_worker_collect(struct pml_worker *w, struct pml_load_done *out, size_t max);
/* Hold (true) or release (false) the queue: while held, the thread starts no new load (the
 * one in progress finishes). The loop holds it while a program waits on a miss: on a
 * guest with one CPU a prefetch would slow the very load the program is waiting for. */
void pml_worker_hold(struct pml_worker *w, bool hold);
/* Let the worker write the watch set through fn(data, ...), or stop it (fn NULL: waits
 * for a write in progress, so data may be freed after). A new fn starts from a filter
 * holding no name. */
void pml_worker_set_watch(struct pml_worker *w, pml_worker_watch_fn fn, void *data);
/* The names to watch from now on (copied; at most 4096). Never blocks on a write.
 * Returns 0, or -ENOMEM (the set is unchanged). */
int pml_worker_watch(struct pml_worker *w, const char (*names)[64], size_t n);
/* What the writes of the watch set did so far. */
void pml_worker_watch_stats(struct pml_worker *w, struct pml_worker_watch_stats *ret);
/* Jobs queued or in progress, not yet collected, and a change of the watch set not
 * written yet (while not held). */
size_t pml_worker_busy(struct pml_worker *w);
/* Whether module is queued or being loaded. */
bool pml_worker_has(struct pml_worker *w, const char *module);

#endif
