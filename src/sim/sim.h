/* Replay: one recorded run, one policy, a simulated module set, the metrics of DESIGN.md.
 *
 * A run recorded under the reactive policy (Linux as shipped) is a timeline of what the
 * program did (trace records) and, derived from its module tracepoints, of what it needed
 * (dataset/needs.h). Replay drives any policy (src/policy, the same ops tables pmld runs)
 * over that timeline with a clock it advances itself, tells it what pmld would be told,
 * carries its actions out on a simulated module set with the catalog's costs, and measures.
 *
 * What the policy is told, as pmld tells it (agent.c):
 *  - PML_POL_BASE for every base module before anything else;
 *  - PML_POL_TRACE for every record of the trace, except that the module tracepoints'
 *    records describe the replayed run, not the recorded one: a module_request only when
 *    the replayed kernel would have asked (the need stalls, or its alias resolves to no
 *    module), and module_load/module_free records made up for the replay's own inserts
 *    and removals (the live tracer sees those system-wide, prefetches included);
 *  - PML_POL_REQUEST (alias, module) when a need stalls: the kernel's request_module;
 *  - PML_POL_LOAD for every module inserted, .predicted for the load worker's;
 *  - PML_POL_NEED for the need's module once it is served, stalled or not. (Live, pmld
 *    learns of a hit only through refcounts; replay says it, since a need it cannot see
 *    would leave predictive policies blind after their own successes.)
 *  - PML_POL_UNLOAD / PML_POL_BUSY for unloads done or refused, and UNLOAD for a predicted
 *    load the resource manager refused (so the policy may ask again), as pmld does.
 * decide() is called after every event other than a plain system-call record, and at every
 * tick (cfg.tick_ms of trace time). (pmld decides once per batch of trace records, every
 * 20 ms, so replay's policies may act up to that much sooner on a record.)
 *
 * What is simulated:
 *  - a need (time t, module M) requires M's load order minus the base set, restricted to
 *    the modules the recorded run loaded at all (a softdep that failed to load in the guest
 *    is not required);
 *  - a need whose required modules are all loaded is a hit; otherwise it stalls for the
 *    time left on those in flight (the longest) plus the whole load time of the missing
 *    ones, loaded one after the other by the kernel's modprobe (the shim), as the
 *    reactive run did (plus cfg.miss_ms for the request path itself, 0 by default). A
 *    stalled need holds the load worker, as pmld's does;
 *  - predicted loads go through the resource manager (src/resource, the same budget logic
 *    pmld uses: granted only if the counted bytes stay within the budget, evicting idle
 *    modules of lower value when that makes room) and one asynchronous load worker: FIFO,
 *    a module at a time, each taking its load time, dependencies first. The negotiation is
 *    pmld's own (policy/driver.h, with the simulated set and worker as its backend,
 *    sim/worker.c): a grant whose evictions would take what the module loads with, or
 *    whose eviction is refused (the module in use or held since the manager last heard),
 *    is not loaded;
 *  - a needed module is in use (refcount 1) from the need until the process that needed
 *    it exits (to the end of the run when that is unknown); a module is held while a
 *    loaded module has it in its load order. Unloads of modules in use or held are refused
 *    (-EBUSY); an unload takes the module's dependencies along when nothing holds them any
 *    more, as pmld's loader does (PML_UNLOAD_DEPS).
 *
 * The approximations, and what they cost:
 *  - the timeline is kept as recorded in the reactive run: a stall does not delay what
 *    comes after it, and the recorded run's own stalls are not removed from it. Absolute
 *    times are those of the guest under TCG; ratios between policies are what hold;
 *  - only first uses are needs (the reactive trace shows nothing of later uses), so a
 *    policy that unloads a module and would need it again is not charged for it: unloading
 *    policies look better than they are, by as much as the recorded run re-used modules;
 *  - a program's use of a module ends with its process: a filesystem still mounted after
 *    mount(8) exits counts as unused from then on (unloads are allowed that the kernel
 *    would refuse);
 *  - costs are the catalog's (measured for 120 modules, estimated from the file size for
 *    the rest, see sim/catalog.h); in-flight loads do not slow each other down.
 *
 * Metrics (DESIGN.md, same definitions):
 *  - needs: needs with at least one required module (requests resolving to nothing are
 *    counted apart, empty_requests); stalls: those not all loaded at the need;
 *  - stall time: the sum of the stalls computed as above;
 *  - footprint: resident bytes of non-base modules loaded or being loaded, integrated over
 *    the run (byte-seconds), and its peak;
 *  - predicted loads: modules the policy asked for that the worker inserted (the module
 *    asked for, not its dependencies); wasted: those never required by a need before their
 *    unload or the end of the run;
 *  - exposure: module-seconds of loaded non-base modules not in use (not needed by a live
 *    process, nor a dependency of one that is);
 *  - lead time of a need: from the first time a load of its module was granted (the
 *    prediction acted on) to the need; needs of a module never asked for have none. */
#ifndef PML_SIM_SIM_H
#define PML_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset/needs.h"
#include "policy/driver.h"
#include "policy/policy.h"
#include "sim/catalog.h"
#include "trace/trace-file.h"

/* A trace held in memory, with its needs, to be replayed under several policies. */
struct pml_sim_trace {
	struct pml_trace_header hdr;
	uint8_t *buf; /* the records back to back, each 8-byte aligned */
	size_t len, cap;
	size_t *off; /* record i starts at buf + off[i] */
	size_t n, cap_off;
	uint64_t t_first, t_last; /* of the records */
	struct pml_needs needs;	  /* from pml_needs_add over every record */
	bool damaged;		  /* the file was cut or damaged: records up to the damage */
	char error[256];	  /* the reader's words when damaged */
};

/* Read the trace at path. Returns 0 (also for a damaged file: the records before the
 * damage, ->damaged and ->error set), -errno of opening it, -EINVAL/-EPROTONOSUPPORT/
 * -EBADMSG for a file that is not a readable pml trace (nothing read), -ENOMEM. */
int pml_sim_trace_load(const char *path, struct pml_sim_trace **ret);
/* The same from an open descriptor, which it takes (closes); name is for messages. */
int pml_sim_trace_load_fd(int fd, const char *name, struct pml_sim_trace **ret);
/* An empty trace to fill with pml_sim_trace_add (tests). NULL on allocation failure. */
struct pml_sim_trace *pml_sim_trace_new(void);
/* Append one record (copied; its size from its header; records must come in time order).
 * Returns 0, -EINVAL for a record smaller than its header or out of order, -ENOMEM. */
int pml_sim_trace_add(struct pml_sim_trace *t, const struct pml_tev_hdr *rec);
void pml_sim_trace_free(struct pml_sim_trace *t);

struct pml_sim_config {
	const char *policy;		/* a name pml_policy_find() knows */
	/* The policy's settings (idle_seconds, needs_model, threshold, preload, pins...).
	 * The replay sets clock, future and cost_fn/cost_data itself. */
	struct pml_policy_config pcfg;
	int64_t budget_mem;		/* module bytes for predicted loads; <=0 none */
	double tick_ms;			/* decide() period in trace time; <=0: 10 ms */
	double preroll_ms;		/* the clock starts this long before the first record */
	/* The kernel's request path of a miss before anything is inserted (usermode helper,
	 * modprobe's exec and set-up): added to every stall; 0 by DESIGN.md's definition of
	 * stall time (load time left). In the recorded guest runs it is ~200 ms (median). */
	double miss_ms;
	bool timeline;			/* keep what a report draws */
	/* Tests: a policy pml_policies does not list (used instead of policy's name), and a
	 * function told the outcome of every load negotiated (policy/driver.h). NULL: none. */
	const struct pml_policy_ops *policy_ops;
	pml_drive_watch_fn on_drive;
	void *on_drive_data;
};

/* One need as replayed. Times are ms from the run's first record. */
struct pml_sim_need {
	double t_ms;
	char module[64]; /* what was needed (the need's last module) */
	char alias[64];	 /* "" for a user-space modprobe */
	unsigned n_required;
	bool stalled;
	double stall_ms;
	double lead_ms;	 /* < 0: never asked for before the need */
};

/* A module's time in the set, for the report: asked for (prediction) or requested (miss)
 * at t_start_ms, loaded at t_loaded_ms, gone at t_end_ms (the run's end when never). */
struct pml_sim_span {
	char module[64];
	double t_start_ms, t_loaded_ms, t_end_ms;
	bool predicted; /* inserted by the load worker */
	bool used;	/* required by a need while there */
	int64_t bytes;
};

struct pml_sim_point {
	double t_ms;
	int64_t bytes; /* footprint from then on */
};

enum pml_sim_verdict {
	PML_SIM_GRANTED,
	PML_SIM_REFUSED, /* by the resource manager (budget), or granted only by evictions
			    that could not be made (policy/driver.h's two rules) */
	PML_SIM_IGNORED, /* already loaded, in flight or queued */
};

/* A load a policy asked for. */
struct pml_sim_ask {
	double t_ms;
	char module[64];
	double confidence;
	enum pml_sim_verdict verdict;
};

struct pml_sim_metrics {
	unsigned needs, stalls, empty_requests;
	double stall_ms;
	double byte_s;		 /* footprint, byte-seconds */
	int64_t peak_bytes;
	unsigned predicted_loads; /* modules asked for, inserted by the worker */
	unsigned prefetched;	  /* modules the worker inserted, dependencies included */
	unsigned wasted_loads;
	unsigned miss_loads;	  /* modules inserted on a stall */
	/* stalls of a later use of a module the policy had unloaded (the trace's records
	 * that would make the kernel ask again: dataset/reuse.h); in stalls too */
	unsigned reloads;
	unsigned asks;
	unsigned refused;	  /* asks not loaded: PML_SIM_REFUSED */
	unsigned evictions;	  /* modules evicted to make room (that went) */
	unsigned unloads, unload_busy;
	double exposure_s;	  /* module-seconds loaded and not in use */
	/* byte_s by what each module was doing (they sum to byte_s): loading; loaded and in
	 * use; idle after a use; loaded before its first use; loaded and never used before
	 * it went (or the run ended) */
	double fp_loading_bs, fp_in_use_bs, fp_idle_bs, fp_early_bs, fp_wasted_bs;
	unsigned lead_n;	  /* needs with a lead time */
	double lead_sum_ms;
	double duration_s;	  /* replayed time (preroll included) */
	/* The recorded run's own stalls for the same needs (request to its last module_load
	 * record), whatever the policy: what Linux as shipped cost in the guest. */
	double recorded_stall_ms;
};

struct pml_sim_result {
	char policy[32];
	struct pml_sim_metrics m;
	struct pml_sim_need *needs;
	size_t n_needs;
	int64_t budget_mem;
	double start_ms, end_ms; /* replayed interval, ms from the first record */
	/* with cfg.timeline: */
	struct pml_sim_span *spans;
	size_t n_spans, cap_spans;
	struct pml_sim_point *points;
	size_t n_points, cap_points;
	struct pml_sim_ask *asks;
	size_t n_asks, cap_asks;
};

/* Replay t under cfg's policy with cat's costs and base set. Returns 0, -ENOENT for an
 * unknown policy, -EINVAL for a policy that refuses its config (the oracle without
 * needs, markov without a model), -ENOMEM. Free the result with pml_sim_result_free(). */
int pml_sim_run(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
		const struct pml_sim_config *cfg, struct pml_sim_result **ret);
void pml_sim_result_free(struct pml_sim_result *r);

/* The needs of t as replay sees them, into ret (initialised here; release it): the needs
 * with at least one required module, each loaded[] holding its required modules (load
 * order, base set left out), what the oracle is given. Returns 0 or -ENOMEM. */
int pml_sim_required_needs(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
			   struct pml_needs *ret);

/* Sums over runs (one per policy), for tables. */
struct pml_sim_totals {
	unsigned runs;
	struct pml_sim_metrics m; /* sums; peak_bytes is the sum of the runs' peaks */
	int64_t max_peak;
	double *leads;		  /* every lead time, for the median */
	size_t n_leads, cap_leads;
};

/* Add r to tot. Returns 0 or -ENOMEM (the leads are then incomplete). */
int pml_sim_totals_add(struct pml_sim_totals *tot, const struct pml_sim_result *r);
void pml_sim_totals_release(struct pml_sim_totals *tot);
/* Median of the lead times (ms), -1 when none. Sorts tot->leads. */
double pml_sim_totals_median_lead(struct pml_sim_totals *tot);

#endif
