/* Replay's private header: the state one replayed run shares between its files (sim.h says
 * what is simulated and measured; the files below each hold one idea of it):
 *  - sim.c        the replay loop: events in time order, telling the policy, its decisions;
 *  - modset.c     the simulated module set: modules by name, load orders, holders, unloads;
 *  - worker.c     the simulated load worker, the replay backend of policy/driver.h;
 *  - stalls.c     a need as it arrives: a hit or a stall (the kernel's modprobe), later
 *                 uses of its modules, the processes that hold them;
 *  - required.c   the ground truth of a run: its required needs and the oracle's future;
 *  - metrics.c    footprint and exposure over time, and the result's timeline.
 * Not part of the library's interface: only src/sim/ includes it. */
#ifndef PML_SIM_SIM_PRIV_H
#define PML_SIM_SIM_PRIV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/driver.h"
#include "resource/resource.h"
#include "sim/sim.h"

#define NEVER UINT64_MAX
#define ACTIONS_MAX 64
#define DEFAULT_TICK_MS 10.0
#define SYNC_NS 250000000ull /* pmld's tick, when it syncs the resource manager */

/* A module of the simulated set (modset.c). */
enum mstate { M_ABSENT, M_LOADING, M_LOADED };

struct smod {
	const struct pml_sim_mod *cm;
	enum mstate st;
	bool base;
	bool in_run;	 /* loaded by the recorded run */
	bool by_worker;	 /* the current load is the worker's */
	bool main_pred;	 /* ... and it is the module the policy asked for */
	bool used;	 /* required by a need since its current load began */
	bool queued;	 /* a worker job for it is waiting or running */
	uint64_t t_done; /* LOADING: when it completes */
	int users;
	int n_holders;	 /* modules in the set with it in their load order */
	uint64_t first_grant;
	long span;	 /* open span, -1 */
	int *order;	 /* indices of its load order, base left out */
	size_t n_order;
	bool order_done;
	/* loaded and not used yet: byte-seconds so far and since when (metrics.c), counted
	 * as before its first use or never used once that is known */
	double unused_bs;
	uint64_t unused_since; /* NEVER: not in that state now */
};

/* A pending event of the loop (sim.c): a load completes, a stalled need is served, the
 * worker wakes after a stall held it. */
enum pend_kind { P_DONE, P_SERVE, P_WAKE };

struct pend {
	uint64_t t, seq;
	enum pend_kind kind;
	int idx;
};

/* A load the driver submitted to the worker (worker.c). */
struct job {
	int mod;
	bool started_main;
};

/* A process holding a module it needed, until it exits (stalls.c). */
struct hold {
	uint32_t pid;
	int mod;
};

/* One replayed run: one trace, one policy. */
struct sim {
	const struct pml_sim_trace *t;
	struct pml_sim_catalog *cat;
	const struct pml_sim_config *cfg;
	struct pml_policy *pol;
	struct pml_resource *res;
	struct pml_driver drv; /* a policy's loads: policy/driver.h, backend in worker.c */
	struct pml_sim_result *r;
	struct pml_clock clock;
	uint64_t now, start, end, t0;
	uint64_t next_sync;
	int err;

	/* the module set (modset.c) */
	struct smod *mods;
	size_t n_mods, cap_mods;
	int *slots; /* hash of names -> index + 1 */
	size_t cap_slots;

	/* the load worker (worker.c) */
	struct job *jobs;
	size_t job_head, n_jobs, cap_jobs;
	int cur; /* module the worker is inserting, -1 */
	uint64_t hold_until;
	bool wake_pending;

	/* pending events (sim.c) */
	struct pend *heap;
	size_t n_heap, cap_heap;
	uint64_t seq;

	/* processes and what they hold (stalls.c) */
	struct hold *holds;
	size_t n_holds, cap_holds;
	uint32_t *exited;
	size_t n_exited, cap_exited;

	/* the ground truth (required.c) */
	struct pml_needs req; /* required needs (pml_sim_required_needs) */
	/* what the oracle is told of the future: req and every later use (reuse.h) */
	struct pml_needs future;
	int *req_of;	      /* raw need -> req index, -1: resolves to nothing */
	long *reuse_of;	      /* record -> the raw need it uses again, -1: none (reuse.h) */
	bool *kernel_asked;   /* raw need: the replayed kernel requested (stall or empty) */

	/* the set as measured (metrics.c), and as shown to decide() (sim.c) */
	bool dirty;
	int64_t cur_bytes;
	unsigned cur_exposed;
	/* of cur_bytes: loading, in use, idle after a use (the rest: not used yet) */
	int64_t cur_loading, cur_in_use, cur_idle;
	bool *inuse;
	struct pml_loaded *loaded;
	size_t cap_loaded;
};

/* ms from the run's first record. */
static inline double rel_ms(const struct sim *s, uint64_t t)
{
	return ((double)t - (double)s->t0) / 1e6;
}

/* Saturating: costs come from files (catalog, costs, needs model) and a policy's
 * arithmetic; a huge one must not be converted out of uint64's range. NaN is 0. */
static inline uint64_t ms_ns(double ms)
{
	if (!(ms > 0))
		return 0;
	return ms < 1.8e13 ? (uint64_t)(ms * 1e6 + 0.5) : UINT64_MAX;
}

static inline void sim_oom(struct sim *s)
{
	if (!s->err)
		s->err = -ENOMEM;
}

/* Loaded (or loading) modules that have module i in their load order: counted as modules
 * enter and leave the set (sim_present()). */
static inline int sim_holders(const struct sim *s, int i)
{
	return s->mods[i].n_holders;
}

/* ---- sim.c: the loop ---- */

/* Tell the policy of an event at the replay's now (alias "" is none). */
void sim_tell(struct sim *s, enum pml_pol_event_kind kind, const char *module,
	      const char *alias, int64_t bytes, bool predicted);
/* The tracer's record (PML_TEV_MOD_LOAD/FREE) of a module inserted or removed by replay. */
void sim_tell_module_record(struct sim *s, unsigned kind, const char *name);
/* Schedule a pending event at t (same-time events keep the order they were pushed in). */
void sim_push(struct sim *s, uint64_t t, enum pend_kind kind, int idx);

/* ---- modset.c: the simulated module set ---- */

/* The index of module name in the set, added (absent) when new; -ENOMEM or -EINVAL.
 * May move s->mods. */
int sim_mod_index(struct sim *s, const char *name);
/* Compute module i's load order as indices, base left out (once). 0 or -ENOMEM. */
int sim_order_of(struct sim *s, int i);
/* Module i enters (in = true) or leaves the set: its load order's holder counts follow. */
void sim_present(struct sim *s, int i, bool in);
/* Unload module i as pmld's loader would (PML_UNLOAD_DEPS). Returns modules removed. */
int sim_unload(struct sim *s, int i);

/* ---- worker.c: the load worker, the driver's replay backend ---- */

/* Start the next insert of the queued jobs when the worker is free. */
void sim_worker_step(struct sim *s);
/* A load the policy asked for, negotiated by policy/driver.h with the replay backend. */
void sim_do_load(struct sim *s, const struct pml_action *a);
extern const struct pml_driver_ops sim_replay_ops;

/* ---- stalls.c: needs as they arrive ---- */

/* Raw need k arrives now: a hit (served now) or a stall (served later, P_SERVE). */
void sim_need_arrives(struct sim *s, size_t k);
/* Raw need k is served: the policy is told (PML_POL_NEED). */
void sim_serve(struct sim *s, size_t k);
/* Record ri (rec) uses an earlier need's modules again, if it does (reuse_of). */
void sim_reuse(struct sim *s, size_t ri, const struct pml_tev_hdr *rec);
/* Process pid exited: what it held is no longer in use by it. 0 or -ENOMEM. */
int sim_process_exit(struct sim *s, uint32_t pid);

/* ---- required.c: the run's ground truth ---- */

/* The required needs of t into ret and the raw -> required map (req_of may be NULL).
 * 0 or -ENOMEM. */
int sim_required(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
		 struct pml_needs *ret, int *req_of);
/* s->reuse_of and s->future from s->req and s->req_of. 0 or -ENOMEM. */
int sim_future_build(struct sim *s);

/* ---- metrics.c: what is measured over time, the timeline ---- */

/* Advance the clock to t (t <= now: measure only), integrating footprint and exposure. */
void sim_advance(struct sim *s, uint64_t t);
void sim_span_open(struct sim *s, int i, uint64_t t_start);
void sim_span_loaded(struct sim *s, int i);
void sim_span_close(struct sim *s, int i);
void sim_ask_record(struct sim *s, const struct pml_action *a, enum pml_sim_verdict v);

#endif
