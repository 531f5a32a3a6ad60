/* The agent: pmld's logic, the live driver of a policy (src/policy). It records the base
 * set at start, turns kernel events from a source (source.h) into decision-log records and
 * policy observations, and on a timer asks the policy what to do and carries it out through
 * the loader, logging every change. The command (src/cmd/pmld.c) only parses options and
 * wires signals.
 *
 * The predictive loop (issue 7): a kernel request is resolved to its modules and told to
 * the policy at once; the loads a policy asks for (markov's prefetches) go to the resource
 * manager (src/resource) as PREDICTION requests, and the granted ones to the load worker
 * (worker.h), a thread with its own loader, so the loop never waits on a load: the
 * negotiation driver replay runs too (policy/driver.h), the agent its live backend. Every
 * decision is a typed record (util/event-log.h): the resource manager's grant or refusal
 * (resource, with its verdict), an eviction (unload, cause evict), the prefetch itself
 * (load, cause prefetch, with the confidence), and the first sign that a prefetched module
 * was used (used, with how it was seen; the report counts the others as wasted); each
 * carries its words for people in its reason ("prediction: ...", "used: ..."). A use is seen however short it is:
 * the source reports the references taken on the prefetches not seen used yet (module_get,
 * watched from their queueing on: pml_agent_attach_source), an interface made with the
 * module's setup function by another process (PML_KEV_NETDEV) or the tracer's RTM_NEWLINK
 * of its kind (interfaces hold no reference) and a kernel request count too, and
 * the tick's refcount sample remains for a source that cannot watch. The manager's API
 * socket is served from the same loop.
 *
 * Every record goes to the decision log (util/event-log.h) with source "pmld" (or
 * "tracefs" for what the kernel reported). A failure the agent can survive is logged as an
 * info record with an errno and a reason starting "error: ", and through pml_err. */
#ifndef PML_AGENT_AGENT_H
#define PML_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/source.h"
#include "agent/worker.h"
#include "loader/loader.h"
#include "policy/driver.h"
#include "policy/policy.h"

struct pml_agent_config {
	const char *policy;	/* "reactive" (NULL), "idle-unload" */
	double idle_seconds;	/* idle-unload: T (0: 5 s) */
	const char *log_path;	/* the decision log (appended, created) */
	const char *base_file;	/* NULL, or where to write the base set ("name bytes" lines) */
	unsigned tick_ms;	/* period of idle checks (0: 250) */
	/* Pins beyond the base set, e.g. the policy file's (see pml_policy_config). */
	bool (*pinned_fn)(void *pinned_data, const char *module);
	void *pinned_data;
	const struct pml_clock *clock; /* NULL: CLOCK_MONOTONIC; borrowed */
	/* markov: the needs model (borrowed, must outlive the agent) and the threshold. */
	const struct pml_needs_model *needs_model;
	double threshold;
	/* The resource manager: the soft budget of non-base module bytes (<=0: none) and the
	 * API socket (NULL: no server). */
	int64_t budget_mem;
	const char *resource_socket;
	/* The load worker's loader, owned by the agent from pml_agent_new() on (freed even
	 * when it fails); NULL: no worker, loads a policy asks for are refused in the log. */
	struct pml_loader *worker_ld;
	/* The resource manager's CPU budget for loading work: load-ms per second (<=0:
	 * none). */
	double budget_cpu;
	/* lstm: the model file (pml train), and the program's command line and script
	 * text for the prior (each may be NULL). */
	const char *model_path;
	const char *slots_path; /* slots, learned: the slot model (pml train-slots) */
	const char *prior_command;
	const char *prior_script;
	/* markov, lstm: how far ahead a prediction looks, ms (0: the model's; see
	 * pml_policy_config). */
	double horizon_ms;
	/* lstm: do not prefetch the modules the program names (only the model's predictions) */
	bool no_names;
	/* load-all: the modules to load at start, in order (copied by the policy). */
	const char *const *preload;
	size_t n_preload;
	/* The eBPF tracer (src/trace), for policies that read the program's behaviour:
	 * the process tree to follow (0: no tracer; 1: everything started after pmld,
	 * which pmld itself is not part of) and how often its ring buffer is drained into
	 * the policy (0: 20 ms). */
	int trace_root;
	/* with trace_root: a cgroup v2 id whose processes are followed instead of the tree
	 * (0: the tree) -- the job put in its own cgroup, without guest-init's processes */
	uint64_t trace_cgroup;
	unsigned trace_cgroup_level; /* its depth below cgroup2's root */
	unsigned trace_ms;
	/* with trace_root: module events arrive once, from the source. The tracer leaves
	 * out its module tracepoints, and each request, load and free the source reports
	 * is also told the policy as the record the tracer would have made (the model's
	 * tokens), in time order with the tracer's records (pml_agent_trace). Without a
	 * source attached when the tracer starts, the tracer records them itself. */
	bool module_records_from_source;
	/* The prior given later (a guest restored before its job): when prior_file is not
	 * NULL, prior_fd (pmld: a signalfd of SIGUSR1) becoming readable means the file is
	 * ready: line 1 the command line, line 2 the script's path (may be empty). The agent
	 * reads it (bounded), gives it to the policy and removes the file to say it did. */
	const char *prior_file;
	int prior_fd;
	/* Tests: a policy pml_policies does not list (used instead of policy's name), and a
	 * function told the outcome of every load negotiated (policy/driver.h). NULL: none. */
	const struct pml_policy_ops *policy_ops;
	pml_drive_watch_fn on_drive;
	void *on_drive_data;
};

struct pml_agent;

/* Create an agent over loader ld (borrowed: must outlive the agent). Opens the log.
 * Returns 0, -ENOENT for an unknown policy, -EINVAL for a bad config (no log path,
 * idle_seconds < 0), -ENOMEM, or the -errno of opening the log. */
int pml_agent_new(const struct pml_agent_config *cfg, struct pml_loader *ld,
		  struct pml_agent **ret);
void pml_agent_free(struct pml_agent *a);

/* Record the start and the base set: every module loaded now gets a base record, goes to
 * the base file, into the loader's keep set and the policy's protected set. A restart
 * (the base file exists: an earlier pmld wrote it) keeps that base set instead, and the
 * modules loaded since are taken over as the program's (a load record "restart: ...",
 * told to the policy and the manager), so they are managed, not frozen as base. Returns
 * the number of base modules, or -errno when the module list cannot be read (logged). */
int pml_agent_start(struct pml_agent *a);

/* One kernel event: a request/load/unload record (source "tracefs") and the policy's
 * observation. Returns 0 or the -errno of writing the log. */
int pml_agent_handle(struct pml_agent *a, const struct pml_kevent *ev);

/* One idle check: read the module set, ask the policy, carry out its unloads (with
 * PML_UNLOAD_DEPS; an -EBUSY is "not yet", not an error). Returns the number of modules
 * removed, or -errno when the module set cannot be read. */
int pml_agent_tick(struct pml_agent *a);

/* Collect the load worker's results (log them, tell the manager and the policy). Returns
 * the number of modules loaded. The loop calls it when the worker's eventfd is readable;
 * tests call it after pml_agent_wait_idle(). */
int pml_agent_collect(struct pml_agent *a);
/* Tests: wait up to timeout_ms for the worker to finish its jobs, then collect. Returns
 * the number of modules loaded, or -ETIMEDOUT. */
int pml_agent_wait_idle(struct pml_agent *a, int timeout_ms);
/* The resource manager the agent keeps (for tests and the stop record). */
struct pml_resource *pml_agent_resource(struct pml_agent *a);

/* Attach the eBPF tracer to the tree of trace_root (no-op without one), so that what
 * starts from now on is followed: the daemon calls it before it says it is ready (loading
 * the programs takes seconds under TCG). pml_agent_run() calls it when it was not. Returns
 * 0, or the tracer's -errno (logged; the loop then goes on without it). */
int pml_agent_start_tracer(struct pml_agent *a);

/* One record of the program's trace (the eBPF tracer's, or a test's): told to the policy
 * as PML_POL_TRACE. Decisions follow at the caller's pace (the loop decides once per
 * drained batch). */
void pml_agent_trace(struct pml_agent *a, const struct pml_tev_hdr *rec);
/* With module_records_from_source: tell the policy the module records still queued (the
 * tracer's ring is empty: no earlier record of the program is to come). The loop calls
 * it after each drain. */
void pml_agent_trace_flush(struct pml_agent *a);

/* The job's prior (command line, script text; either may be NULL), when it arrives after
 * the agent started (a guest restored from a snapshot gets its job then): the policy
 * starts its prediction stream again from it (PML_POL_PRIOR). Returns 0. */
int pml_agent_set_prior(struct pml_agent *a, const char *command, const char *script);

/* The source whose events the agent is handed (borrowed; NULL: none): the agent tells
 * it, as its prefetches come and go, which modules' references to report
 * (pml_source_watch: the prefetches not seen used, from their queueing on), so that a
 * use shorter than a tick is seen. pml_agent_run() attaches its source itself; tests
 * that call pml_agent_handle() attach theirs. */
void pml_agent_attach_source(struct pml_agent *a, struct pml_source *src);

/* The event loop: waits (epoll) on the source (may be NULL: ticks only), a timerfd of
 * tick_ms, the worker's eventfd, the resource API's socket, with trace_root set the
 * tracer's drain timer (a tracer that cannot start is logged and the loop goes on without
 * it: the policy then sees only needs), and stop_fd; returns when stop_fd becomes readable (a signalfd for SIGTERM, an
 * eventfd in tests) without reading it. A source that fails is logged and dropped; the loop
 * goes on. Returns 0, or -errno when the loop itself cannot be set up (logged). */
int pml_agent_run(struct pml_agent *a, struct pml_source *src, int stop_fd);

/* Record the stop: a stop record ("stop: ..." in words) with the agent's CPU time (ms),
 * maximum RSS (bytes) from getrusage and the load worker's CPU (worker_ms), then sync the
 * log. Returns 0 or -errno. */
int pml_agent_stop(struct pml_agent *a);

/* Log a survivable failure: pml_err and an error record (reason "error: MSG", errno err). */
__attribute__((format(printf, 3, 4))) void pml_agent_error(struct pml_agent *a, int err,
							   const char *fmt, ...);
/* An info record with reason MSG (and pml_info). */
__attribute__((format(printf, 2, 3))) void pml_agent_info(struct pml_agent *a,
							  const char *fmt, ...);

/* Counters, for tests and the stop record. */
struct pml_agent_stats {
	uint64_t events;	 /* kernel events handled */
	uint64_t ticks;
	uint64_t unloads;	 /* modules removed */
	uint64_t unload_busy;	 /* unloads refused with -EBUSY */
	uint64_t unload_failed;	 /* other failures */
	uint64_t log_errors;	 /* records that could not be written */
	uint64_t predictions;	 /* loads the policy asked for */
	uint64_t refused;	 /* ... the resource manager refused */
	uint64_t prefetched;	 /* modules the worker loaded */
	uint64_t load_failed;
	uint64_t evictions;
	uint64_t used;		 /* prefetched modules seen in use */
	uint64_t gets;		 /* references on watched prefetches (module_get) */
	uint64_t netdevs;	 /* interfaces made by others than pmld (any module's) */
	uint64_t watch_writes;	 /* times the source was told the watched set */
	uint64_t trace_records;	 /* records of the program's trace told to the policy */
	uint64_t trace_dropped;	 /* records the tracer lost (ring buffer full) */
	uint64_t trace_before_prior; /* records before a later prior (not told) */
	uint64_t trace_module_records; /* of trace_records: module events of the source */
};
const struct pml_agent_stats *pml_agent_stats(const struct pml_agent *a);

#endif
