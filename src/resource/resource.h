/* The resource manager: the budget keeper between the predictor and the loader. The set of
 * loaded modules is a cache (DESIGN.md); this object holds its size (a module-memory
 * budget for non-base modules), the CPU that loading may spend (load-ms per second, a
 * token bucket), and what the monitors say the guest has to spare (monitor.h). Every load
 * anyone wants goes through pml_resource_request(), which answers GRANT, GRANT_AFTER_EVICT
 * (with the idle modules to unload first) or REFUSE with a reason, by priority
 * (criticality x urgency x confidence; resource.c opens with why).
 *
 * The manager only keeps accounts: it never loads or unloads. Its owner (pmld) carries a
 * decision out through the loader and tells the manager what really happened
 * (pml_resource_loaded / _release / _set_refcnt / _sync), so the accounts follow the
 * kernel. A decision is committed when it is made: the granted module is counted at once
 * (pending), the modules to evict are no longer counted. An eviction that then fails
 * (the module got a user) is reported back with pml_resource_loaded().
 *
 * Guarantees (checked by tests/unit/test-resource-invariant.c):
 *  - a non-critical request (prediction, dependency) is granted only if the counted bytes
 *    after it, evictions done, stay within the budget;
 *  - eviction picks only loaded modules with refcount 0 that are neither base nor pinned,
 *    the lowest value first, and for a non-critical request only modules worth less than it;
 *  - a critical miss is granted whenever it fits the hard limit (if any), evicting idle
 *    modules or else going over the soft budget (counted and logged).
 *
 * Time comes from an injected clock, so tests and replay are deterministic. Not
 * thread-safe: one owner (pmld's loop) calls it. */
#ifndef PML_RESOURCE_RESOURCE_H
#define PML_RESOURCE_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "resource/monitor.h"

/* Who is asking, in decreasing criticality. */
enum pml_res_kind {
	PML_RES_CRITICAL_MISS, /* a program is blocked on the module now */
	PML_RES_DEPENDENCY,    /* a module something loaded/granted depends on */
	PML_RES_PREDICTION,    /* the predictor expects a need */
	PML_RES__KIND_COUNT,
};

/* The criticality weights of the priority formula. */
#define PML_RES_WEIGHT_CRITICAL 4.0
#define PML_RES_WEIGHT_DEPENDENCY 2.0
#define PML_RES_WEIGHT_PREDICTION 1.0

/* "critical", "dependency", "prediction"; -EINVAL for another name (also accepted:
 * "critical-miss", "miss", "dep", "predicted"). */
const char *pml_res_kind_name(enum pml_res_kind kind);
int pml_res_kind_from_name(const char *name);

struct pml_res_request {
	const char *module;  /* borrowed for the call; '-' and '_' are the same */
	int64_t bytes;	     /* expected resident bytes; <0: the manager's estimate */
	double load_ms;	     /* expected load time; <0: the manager's estimate */
	enum pml_res_kind kind;
	double urgency_ms;   /* predicted time until the need (0: now); ignored for a miss */
	double confidence;   /* probability of the need, [0, 1]; ignored for a miss */
};

enum pml_res_verdict {
	PML_RES_GRANT,
	PML_RES_GRANT_AFTER_EVICT,
	PML_RES_REFUSE,
};

/* Why a request was refused. */
enum pml_res_refusal {
	PML_RES_OK,
	PML_RES_OVER_BUDGET,	/* would exceed the budget; not enough lower-value idle bytes */
	PML_RES_NO_MEMORY,	/* would exceed the hard limit even for a critical miss */
	PML_RES_CPU_BUDGET,	/* the load-time bucket is empty: retry_ms says when */
	PML_RES_CPU_BUSY,	/* the CPUs are busier than cpu_busy_limit */
	PML_RES_LOW_PRIORITY,	/* below min_priority */
	PML_RES_BAD_REQUEST,	/* invalid fields (bad name, confidence outside [0,1]) */
};
/* "over-budget", "no-memory", "cpu-budget", "cpu-busy", "low-priority", "bad-request". */
const char *pml_res_refusal_name(enum pml_res_refusal r);

#define PML_RES_EVICT_MAX 32

struct pml_res_decision {
	enum pml_res_verdict verdict;
	enum pml_res_refusal refusal; /* PML_RES_OK unless refused */
	double priority;	      /* of the request */
	int64_t bytes;		      /* bytes counted for the module */
	bool present;		      /* already loaded or pending: granted, nothing to do */
	bool over_soft;		      /* a critical miss granted over the soft budget */
	double retry_ms;	      /* PML_RES_CPU_BUDGET: when the bucket will hold enough */
	size_t n_evict;
	char evict[PML_RES_EVICT_MAX][64]; /* lowest value first */
	char reason[160];		   /* words for the decision log */
};

struct pml_resource_config {
	int64_t budget_mem;	/* soft budget of counted bytes (non-base); <=0: none */
	int64_t hard_mem;	/* hard limit even for critical misses; <=0: none */
	/* Keep at least this much MemAvailable: once a sample is observed, the hard limit is
	 * also counted + MemAvailable - mem_reserve. 0: MemAvailable not used. */
	int64_t mem_reserve;
	double cpu_ms_per_s;	/* load-time budget (token rate); <=0: none */
	double cpu_burst_ms;	/* bucket depth; <=0: cpu_ms_per_s (one second's worth) */
	double cpu_busy_limit;	/* refuse predictions while busy fraction >= this; <=0 off */
	double min_priority;	/* refuse requests below this priority; 0: off */
	int64_t default_bytes;	/* estimate for a module of unknown size; <=0: 64 KiB */
	double default_load_ms; /* estimate of an unknown load time; <=0: 50 ms */
	double value_halflife_ms; /* an idle module's value halves over this; <=0: 10 s */
	/* Protected from eviction besides pml_resource_pin()'s names; may be NULL. */
	bool (*pinned_fn)(void *pinned_data, const char *module);
	void *pinned_data;
	/* The clock (CLOCK_MONOTONIC ns); NULL: the real one. */
	uint64_t (*now_ns)(void *clock_data);
	void *clock_data;
};

struct pml_resource;

/* Create a manager. cfg may be NULL (no budgets). Returns 0, -EINVAL for contradicting
 * limits (hard_mem below budget_mem), -ENOMEM. */
int pml_resource_new(const struct pml_resource_config *cfg, struct pml_resource **ret);
void pml_resource_free(struct pml_resource *res);

/* Change the limits at run time (the policy file re-read, `pml run --budget-mem`).
 * Same meaning as the config fields. Return 0 or -EINVAL. */
int pml_resource_set_budget_mem(struct pml_resource *res, int64_t budget, int64_t hard);
int pml_resource_set_cpu_budget(struct pml_resource *res, double ms_per_s, double burst_ms);

/* The priority of a request: criticality weight x urgency x confidence (resource.c).
 * A critical miss is PML_RES_WEIGHT_CRITICAL. load_ms <0: the default estimate. */
double pml_resource_priority(const struct pml_resource *res, const struct pml_res_request *req);
/* Urgency in (0, 1] of a need urgency_ms away for a load of load_ms. */
double pml_res_urgency(double urgency_ms, double load_ms);

/* Decide on a request and commit the decision (see the top). ret is always written.
 * Returns 0, or -EINVAL for a bad request (also a REFUSE/bad-request in ret), -ENOMEM. */
int pml_resource_request(struct pml_resource *res, const struct pml_res_request *req,
			 struct pml_res_decision *ret);

/* The module is loaded now with this resident size (bytes <0: keep the counted one) and
 * refcount: a granted load done, one the kernel or the shim did on its own, an eviction
 * that failed. Returns 0 or -EINVAL/-ENOMEM. */
int pml_resource_loaded(struct pml_resource *res, const char *module, int64_t bytes,
			int refcnt);
/* The module is gone (unloaded, or a granted load failed). Returns 0, -ENOENT when it was
 * not counted. */
int pml_resource_release(struct pml_resource *res, const char *module);
/* A program used the module (a need served): its value rises to a critical miss's.
 * Returns 0, -ENOENT when not loaded or pending. */
int pml_resource_need(struct pml_resource *res, const char *module);
/* The module's refcount changed. A module in use is never evicted; when it falls to 0 its
 * idle time starts. Returns 0, -ENOENT when not loaded. */
int pml_resource_set_refcnt(struct pml_resource *res, const char *module, int refcnt);
/* A base module (present at start): never counted, never evicted. Returns 0 or -errno. */
int pml_resource_set_base(struct pml_resource *res, const char *module, int64_t bytes);
/* Never evict module (the policy file's pins). Returns 0 or -errno. */
int pml_resource_pin(struct pml_resource *res, const char *module);
/* Remember a module's size and load time for requests that do not say (the catalog's
 * measured costs). bytes/load_ms <0: unchanged. Returns 0 or -errno. */
int pml_resource_set_hint(struct pml_resource *res, const char *module, int64_t bytes,
			  double load_ms);

/* Reconcile with the kernel's module list (names, sizes, refcounts, e.g. from
 * pml_loader_list_loaded): listed modules become loaded with those figures, counted
 * modules not listed are dropped unless pending (granted, load not reported yet) or base
 * (never counted). Returns 0 or -ENOMEM. */
struct pml_res_loaded {
	const char *name;
	int64_t bytes;
	int refcnt;
};
int pml_resource_sync(struct pml_resource *res, const struct pml_res_loaded *mods, size_t n);

/* Feed a monitor sample (monitor.h): MemAvailable for the hard limit, CPU busy fraction
 * and network rates against the previous sample. */
void pml_resource_observe(struct pml_resource *res, const struct pml_monitor_sample *s);
/* Read the monitors under procdir (NULL: /proc) at the manager's clock and observe them.
 * Returns the number of monitors read. */
int pml_resource_poll(struct pml_resource *res, const char *procdir);

/* The state for `pml status`. */
struct pml_res_status {
	int64_t budget_mem, hard_mem, hard_now; /* hard_now: the limit in force, -1 none */
	int64_t counted;	  /* bytes of loaded + pending non-base modules */
	int64_t pending;	  /* bytes granted whose load is not reported yet */
	int64_t base_bytes;
	unsigned n_loaded, n_pending, n_base, n_in_use;
	double cpu_ms_per_s, cpu_tokens_ms, cpu_burst_ms;
	double cpu_busy;	  /* last measured fraction, -1 unknown */
	double net_rx_bps, net_tx_bps; /* bytes/s, -1 unknown */
	int64_t mem_available, mem_total; /* -1 unknown */
	int64_t modules_bytes;	  /* /proc/modules sum at the last sample, -1 unknown */
	uint64_t requests, grants, evict_grants, refusals, over_soft, evictions;
	uint64_t by_kind[PML_RES__KIND_COUNT];
};
void pml_resource_status(struct pml_resource *res, struct pml_res_status *ret);
/* The status as one JSON object on one line (with '\n'), the modules listed with state,
 * bytes, refcount and value. Returns 0 or -errno of the stream. */
int pml_resource_status_json(struct pml_resource *res, FILE *f);

/* One module's account, for tests and status. Returns 0, -ENOENT when unknown. */
struct pml_res_module {
	char name[64];
	bool loaded, pending, base, pinned;
	int64_t bytes;
	int refcnt;
	double value; /* now */
};
int pml_resource_module(struct pml_resource *res, const char *module,
			struct pml_res_module *ret);
/* Iterate: fill up to max accounts of loaded/pending modules; returns how many exist. */
int pml_resource_modules(struct pml_resource *res, struct pml_res_module *out, size_t max);

#endif
