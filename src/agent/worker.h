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
/* Jobs queued or in progress, not yet collected. */
size_t pml_worker_busy(struct pml_worker *w);
/* Whether module is queued or being loaded. */
bool pml_worker_has(struct pml_worker *w, const char *module);

#endif
