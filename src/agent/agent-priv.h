/* pmld's private header: the agent's state and what its files share (agent.h says what the
 * agent does; the files below each hold one idea of it):
 *  - agent.c          the agent itself: its config, creation (policy, resource manager,
 *                     load worker, resource API) and freeing, its counters;
 *  - log-records.c    writing the decision log: every record goes through agent_append;
 *                     info, error and start records, unload and resource decisions;
 *  - base-set.c       the start: the module list, the base set (and its file, for a
 *                     restart), the modules taken over after a restart;
 *  - kernel-events.c  the kernel's events from a source (source.h): records, the
 *                     policy's observations, misses a program waits on;
 *  - program-trace.c  the eBPF tracer's records of the program (src/trace) to the policy;
 *  - prior.c          the job's prior (command line, script) arriving after the start;
 *  - prefetch.c       a load a policy asks for: the live backend of the negotiation driver
 *                     (policy/driver.h), the load worker's results;
 *  - prefetch-use.c   the prefetches watched until used: the source's watch set, the used
 *                     record (the report's wasted loads are the others);
 *  - decide.c         asking the policy (after events, trace batches, at the tick) and
 *                     carrying out its unloads and the manager's evictions;
 *  - loop.c           the event loop (epoll over the source, timers, worker, API, stop);
 *  - usage.c          what pmld costs: CPU per part of the loop, RSS, the stop record.
 * Not part of the library's interface: only src/agent/ includes it. */
#ifndef PML_AGENT_AGENT_PRIV_H
#define PML_AGENT_AGENT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "agent/agent.h"
#include "resource/resource.h"
#include "trace/trace-event.h"
#include "util/event-log.h"

#define MODS_MAX 4096
#define RESOLVE_MAX 8
#define MODQ_MAX 64

/* A module the worker loads for a prediction, from its queueing until it is used or
 * unloaded. Its references are watched from the queueing on (the worker's thread writes
 * the source's filter before it inserts it), so a use right after the insert is seen too. */
struct predicted {
	char name[64];
	bool used;
	bool loaded; /* the worker's load record is written: a use is reported from then */
	char early[128]; /* a use seen before that: reported once the load is */
	enum pml_event_via early_via;
};

/* The parts of the loop whose CPU the stop record gives (usage.c's part_names). */
enum loop_part { PART_TRACE, PART_PRIOR, PART_EVENTS, PART_COLLECT, PART_TICK, PART_API, PART_N };

struct pml_agent {
	struct pml_agent_config cfg;
	/* With a prior to come (cfg.prior_file), the program has not started before it:
	 * what the tracer sees until then is the guest's own set-up, not told the policy. */
	bool prior_seen;
	uint64_t prior_t_ns; /* the job's start as the prior file gives it, 0 unknown */
	double cpu_at_prior_ms;
	double worker_at_prior_ms; /* the load worker's part of cpu_at_prior_ms */
	/* The peak RSS pmld reached before its job (its start: loading the BPF programs),
	 * bytes, -1 when unknown; the kernel's peak is reset at the prior, so the stop
	 * record's peak is the job's (see pml_agent_set_prior). */
	int64_t hwm_before_job;
	struct pml_loader *ld;
	struct pml_policy *pol;
	int log_fd;
	struct pml_loaded *mods; /* the latest module set */
	size_t n_mods;
	struct pml_agent_stats stats;
	uint64_t lost_logged, malformed_logged;
	bool list_failing; /* said once, not every tick */
	struct pml_resource *res;
	struct pml_driver drv; /* a load a policy asks for: policy/driver.h, backend below */
	bool api_load;	       /* the driver carries out a request of the resource API */
	struct pml_resource_server *srv;
	struct pml_worker *worker;
	struct predicted *pred;
	size_t n_pred, cap_pred;
	/* The source of kernel events while the loop runs (borrowed), and whether the set of
	 * prefetches not seen used (whose references it watches) changed since told. */
	struct pml_source *src;
	bool watch_dirty;
	bool watch_off; /* the source cannot watch references: uses show at the tick */
	bool draining;	/* reading the source before an unload (no decisions in between) */
	double watch_ms; /* the loop's wall time in the watch set's hand-overs (or writes,
			  * without a worker: the kernel's grace periods) */
	double watch_cpu_ms; /* ... and the loop's CPU in them */
	/* Misses a program waits on now (requested, not loaded yet): the worker is held
	 * until their loads show, or MISS_HOLD_MAX_NS passed (a denied or failed miss). */
	char misses[RESOLVE_MAX][64];
	size_t n_misses;
	uint64_t miss_since;
	struct pml_tracer *tracer; /* while the loop runs with trace_root */
	uint64_t drain_until;	   /* the running drain stops after this (0: drains all) */
	/* cfg.module_records_from_source: the source's module events as the tracer's
	 * records, waiting for the tracer's records of the program made before them. */
	struct pml_tev_module modq[MODQ_MAX];
	size_t n_modq;
	struct utsname uts;	   /* the running kernel: an lstm model must be of its series */
	/* The main thread's CPU per part of the loop since the job's prior (ms), for the
	 * stop record: where pmld's per-job cost goes. */
	double part_ms[PART_N];
};

#define MISS_HOLD_MAX_NS 2000000000ull

/* agent.c */
uint64_t agent_now(const struct pml_agent *a);

/* log-records.c */
int agent_append(struct pml_agent *a, struct pml_event_rec *rec);
__attribute__((format(printf, 2, 3))) void agent_start_info(struct pml_agent *a,
							    const char *fmt, ...);
void agent_log_unload(struct pml_agent *a, const struct pml_action *act,
		      enum pml_event_cause cause, const struct pml_mod_op *op, int64_t bytes);
void agent_log_decision(struct pml_agent *a, const char *module, const char *why,
			double confidence, const struct pml_res_decision *d);

/* base-set.c */
int agent_refresh(struct pml_agent *a);
const struct pml_loaded *agent_find_mod(const struct pml_agent *a, const char *name);

/* kernel-events.c */
void agent_misses_clear(struct pml_agent *a);
int agent_drain_source(struct pml_agent *a, struct pml_source *src);

/* program-trace.c */
void agent_drain_trace(struct pml_agent *a, bool all);
void agent_queue_module_record(struct pml_agent *a, const struct pml_kevent *ev);

/* prior.c */
void agent_read_prior(struct pml_agent *a);

/* prefetch.c */
extern const struct pml_driver_ops agent_live_ops;
void agent_do_load(struct pml_agent *a, const struct pml_action *act);
void agent_on_api_request(void *data, const struct pml_res_request *req,
			  const struct pml_res_decision *d);

/* prefetch-use.c */
struct predicted *agent_pred_find(struct pml_agent *a, const char *name);
struct predicted *agent_pred_expect(struct pml_agent *a, const char *name);
void agent_pred_add(struct pml_agent *a, const char *name);
void agent_pred_drop(struct pml_agent *a, const char *name);
void agent_pred_used(struct pml_agent *a, const char *name, enum pml_event_via via,
		     const char *how);
void agent_watch_sync(struct pml_agent *a);

/* decide.c */
int agent_act_on(struct pml_agent *a, bool tick, bool fresh);
int agent_do_unload(struct pml_agent *a, const struct pml_action *act,
		    enum pml_event_cause cause);

/* usage.c */
double agent_self_cpu_ms(void);
double agent_thread_cpu_ms(void);
double agent_other_threads_cpu_ms(void);
void agent_account(struct pml_agent *a, enum loop_part part, double *since);
int64_t agent_reset_peak_rss(void);

#endif
