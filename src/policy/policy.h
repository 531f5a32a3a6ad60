/* Policies: the decision rules of pml, as ops tables (redis evict.c's shape). A policy is told
 * what happened (observe: base modules, requests, needs, loads, unloads) and, when its driver
 * asks, looks at the modules loaded right now and says which loads and unloads it wants
 * (decide). It never touches the kernel itself: the live agent (src/agent) carries the
 * actions out through the loader, replay (src/sim) applies them to its simulated module set.
 * So one implementation serves both, and a policy under test needs neither kernel nor
 * loader.
 *
 * Time comes from an injected clock (struct pml_clock): the agent passes CLOCK_MONOTONIC,
 * replay and tests a clock they advance themselves, so decisions are deterministic.
 *
 * Base modules (present when the agent started) and pinned modules (from the policy file)
 * are protected: pml_policy_decide() drops any unload of them whatever the policy says.
 * It also drops a load of a module the policy's own loads brought in twice already with
 * no need of it between (PML_POLICY_LOADS_PER_NEED): whatever a policy's rules, a module
 * is not loaded and taken back over and over for a need that never comes. */
#ifndef PML_POLICY_POLICY_H
#define PML_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"
#include "trace/trace-event.h"
#include "util/event-log.h"

struct pml_needs_model; /* policy/needs-model.h */
struct pml_predictor;	/* model/predictor.h */
struct pml_needs;	/* dataset/needs.h */

/* A source of time in CLOCK_MONOTONIC ns. now_ns NULL means the real monotonic clock. */
struct pml_clock {
	uint64_t (*now_ns)(void *data);
	void *data;
};

/* The time of clock c (NULL: the real monotonic clock). */
uint64_t pml_clock_now(const struct pml_clock *c);

/* What a policy is told. Strings are borrowed for the duration of the call. */
enum pml_pol_event_kind {
	PML_POL_BASE,	 /* module present at start: protected */
	PML_POL_REQUEST, /* the kernel asked for alias (module unknown yet) */
	PML_POL_NEED,	 /* a program needed module (the shim served it) */
	PML_POL_LOAD,	 /* module was inserted (by anyone) */
	PML_POL_UNLOAD,	 /* module was removed (by anyone) */
	PML_POL_BUSY,	 /* an unload the policy asked for was refused (-EBUSY) */
	PML_POL_TRACE,	 /* one record of the program's trace (tev): what predictive
			    policies read; others ignore it */
	PML_POL_PRIOR,	 /* the job's prior arrived (prior_command, prior_script) after the
			    policy started: predictive policies start their stream again
			    from it; others ignore it */
	PML_POL_USE,	 /* a later use of a loaded module (replay: a record that would
			    make the kernel ask for it again, dataset/reuse.h): counts as a need
			    between prefetch loads (PML_POLICY_LOADS_PER_NEED); policies
			    may ignore it */
};

struct pml_pol_event {
	enum pml_pol_event_kind kind;
	uint64_t t_ns;
	const char *module; /* NULL for a request */
	const char *alias;  /* NULL when none */
	int64_t bytes;	    /* -1 unknown */
	bool predicted;	    /* LOAD: done by the agent for a prediction (not a need) */
	const struct pml_tev_hdr *tev; /* TRACE: the record (validated), borrowed */
	uint32_t pid;		       /* REQUEST: the process the kernel asked for (0:
					* unknown) */
	const char *prior_command;     /* PRIOR: the command line (may be NULL) */
	const char *prior_script;      /* PRIOR: the script's text (may be NULL) */
};

enum pml_action_kind {
	PML_ACT_LOAD,
	PML_ACT_UNLOAD,
};

/* What a policy asks for. */
struct pml_action {
	enum pml_action_kind kind;
	char module[64];
	char reason[96];   /* for the decision log: "idle 5.0 s" */
	double confidence; /* <0: not a prediction */
	/* A predicted load (0 when unknown; pml_policy_decide() zeroes them for policies
	 * that do not set them): */
	double lead_ms;	   /* expected time until the need (the resource manager's urgency) */
	int64_t bytes;	   /* expected resident bytes */
	double load_ms;	   /* expected load time */
	enum pml_event_basis basis; /* a predicted load: what it rests on (NONE: not said) */
};

struct pml_slots_model;

struct pml_policy_config {
	double idle_seconds;		 /* idle-unload: T, unload after T s at refcount 0 */
	const char *const *pinned;	 /* never unloaded; copied by pml_policy_new() */
	size_t n_pinned;
	/* More pins by rule (the policy file's globs): true protects module. May be NULL;
	 * pinned_data is borrowed and must outlive the policy. */
	bool (*pinned_fn)(void *pinned_data, const char *module);
	void *pinned_data;
	const struct pml_clock *clock; /* NULL: CLOCK_MONOTONIC; borrowed, must outlive */
	/* markov: the needs model (needs-model.h; borrowed, must outlive the policy) and the
	 * least probability worth a prefetch (0: 0.5). */
	const struct pml_needs_model *needs_model;
	double threshold;
	/* markov, lstm: how far ahead a prediction looks, in ms (0: the model's: markov
	 * every successor in the needs model's window, lstm the label horizon it was trained
	 * with). markov prefetches only successors whose mean gap is within it; lstm hands
	 * half of it to the resource manager as the expected lead (the urgency) and takes
	 * an unused prefetch back after idle_seconds and twice it at least. The model's own
	 * probabilities are not changed: lstm's were learnt for its label horizon. */
	double horizon_ms;
	/* names, lstm: resolves an alias or module name to module names (live: the loader,
	 * replay: the catalog), up to max; returns the count (0: none) or -errno. With it
	 * the policy prefetches the modules the program names (policy/name-rules.h: "type
	 * vxlan" in its script or in an executed command's arguments -> rtnl-link-vxlan ->
	 * vxlan), the modules a model has no output for included. names needs it; lstm
	 * without it (and lstm-model always) is the model alone. */
	int (*resolve_fn)(void *resolve_data, const char *alias, char (*names)[64], size_t max);
	void *resolve_data;
	/* lstm (set by lstm+idle-unload): also unload what the program used once it is idle (refcount 0, no holders;
	 * idle-unload's rule, idle_seconds) and its predicted need has fallen (below 0.8 x
	 * threshold). Off: like Linux, what was needed stays; only wrong prefetches go. */
	bool unload_idle;
	/* lstm: the module predictor (model/predictor.h), opened from model_path (a model
	 * file of pml train; kernel_release, when set, must be of the model's kernel series)
	 * unless predictor is given (borrowed, must outlive the policy; the policy resets and
	 * drives its stream). The prior: the submitted command line and, for a script, its
	 * text (either may be NULL), fed to the predictor before the first trace record
	 * (replay of a dataset run: the trace header's command and workloads/<scenario>.sh).
	 * threshold (0: the model file's, else 0.5); idle_seconds (0: twice the horizon)
	 * before an unused prefetch is taken back. */
	const char *model_path;
	const char *kernel_release;
	/* slots: the slot model (model/slots.h), read from slots_path (kernel_release, when
	 * set, must be of its series) unless slots_model is given (borrowed). */
	const char *slots_path;
	const struct pml_slots_model *slots_model;
	struct pml_predictor *predictor;
	const char *prior_command;
	const char *prior_script;
	/* load-all, static: the modules to load at start, in this order (the driver chooses
	 * them: every module the training runs needed, or those of the program's family);
	 * copied by the policy's init. */
	const char *const *preload;
	size_t n_preload;
	/* oracle (replay only): the run's needs, past and future, each need's loaded[] being
	 * every module it requires (its dependency closure, base set left out). Borrowed, must
	 * outlive the policy. */
	const struct pml_needs *future;
	/* Cost hints for a module (any policy may use them for its actions' bytes and
	 * load_ms; the oracle times its loads with them): 0, or -ENOENT when unknown.
	 * May be NULL; cost_data is borrowed. */
	int (*cost_fn)(void *cost_data, const char *module, int64_t *ret_bytes,
		       double *ret_load_ms);
	void *cost_data;
};

struct pml_policy;

/* Prefetch loads of one module allowed between two needs of it (pml_policy_decide()). */
#define PML_POLICY_LOADS_PER_NEED 2

/* The frame's count of one module's prefetch loads since its last need. */
struct pml_policy_loads {
	char name[64];
	bool loaded; /* a load was seen and no unload since */
	bool said;   /* the drop was logged */
	int loads;   /* predicted loads since the last need (or non-predicted load) */
};

struct pml_policy_ops {
	const char *name;
	const char *summary; /* one line for --help */
	/* Set up p->priv. Returns 0 or -errno. */
	int (*init)(struct pml_policy *p);
	void (*observe)(struct pml_policy *p, const struct pml_pol_event *ev);
	/* mods: the modules loaded now (refcounts fresh). Write up to max actions; return
	 * how many, or -errno. */
	int (*decide)(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		      struct pml_action *out, size_t max);
	void (*free)(struct pml_policy *p);
};

struct pml_policy {
	const struct pml_policy_ops *ops;
	struct pml_policy_config cfg; /* pinned points into owned copies */
	void *priv;
	/* protected names: base then pinned */
	char (*protect)[64];
	size_t n_protect, cap_protect;
	/* prefetch loads per module since its last need */
	struct pml_policy_loads *loads;
	size_t n_loads, cap_loads;
};

extern const struct pml_policy_ops pml_policy_reactive;
extern const struct pml_policy_ops pml_policy_idle_unload;
extern const struct pml_policy_ops pml_policy_markov;
extern const struct pml_policy_ops pml_policy_names;
extern const struct pml_policy_ops pml_policy_slots;
extern const struct pml_policy_ops pml_policy_learned;
extern const struct pml_policy_ops pml_policy_lstm;
extern const struct pml_policy_ops pml_policy_lstm_model;
extern const struct pml_policy_ops pml_policy_lstm_idle;
extern const struct pml_policy_ops pml_policy_learned_idle;
extern const struct pml_policy_ops pml_policy_load_all;
extern const struct pml_policy_ops pml_policy_static;
extern const struct pml_policy_ops pml_policy_oracle;

/* The ops table of a policy by name ("reactive", "idle-unload", "markov", also spelt
 * "reactive+idle-unload"), NULL when unknown. */
const struct pml_policy_ops *pml_policy_find(const char *name);
/* True for the policies that read the program's behaviour (names, lstm, lstm-model,
 * lstm+idle-unload): their drivers give them the trace records and the prior. */
bool pml_policy_reads_trace(const char *name);
/* True for those of them that run a model file of pml train (lstm, lstm-model,
 * lstm+idle-unload; not names): their drivers need --model. */
bool pml_policy_needs_predictor(const char *name);
/* The policy table: every policy once, with the line --help prints and what it needs.
 * pmld, pml run, pml eval and their --help and error messages all read it (it used to be
 * written out in four places). */
enum pml_policy_flags {
	PML_POLICY_LIVE = 1 << 0,	/* pmld runs it (static and oracle are replay only) */
	PML_POLICY_TRACE = 1 << 1,	/* reads the program's behaviour (trace records, prior) */
	PML_POLICY_PREDICTOR = 1 << 2,	/* needs a model file of pml train (--model) */
	PML_POLICY_NEEDS_MODEL = 1 << 3, /* needs a needs model of pml train-needs (--model) */
	PML_POLICY_SLOTS = 1 << 4,	/* needs a slot model of pml train-slots (--slots-model) */
};

struct pml_policy_info {
	const struct pml_policy_ops *ops; /* ops->name is the policy's name */
	const char *summary;		  /* one line, no period */
	unsigned flags;			  /* enum pml_policy_flags */
};

/* The table, ended by an entry with ops NULL. */
extern const struct pml_policy_info pml_policy_table[];
/* The entry of a policy by name (also "reactive+idle-unload"), NULL when unknown. */
const struct pml_policy_info *pml_policy_info(const char *name);
/* The names of the policies that have every flag of need, ", "-separated, into buf:
 * "reactive, idle-unload, markov, ...". Returns buf. */
char *pml_policy_names_list(char *buf, size_t size, unsigned need);
/* The --help lines of those policies: "  NAME summary\n" each, the names padded to the
 * longest of them. Returns buf. */
char *pml_policy_help(char *buf, size_t size, unsigned need);

/* Create policy NAME. Returns 0, -ENOENT for an unknown name, -EINVAL for a bad config
 * (idle_seconds < 0), -ENOMEM. Free with pml_policy_free(). */
int pml_policy_new(const char *name, const struct pml_policy_config *cfg,
		   struct pml_policy **ret);
void pml_policy_free(struct pml_policy *p);
/* The same for a policy given by its ops table, one the table does not list (tests).
 * Returns 0, -EINVAL, -ENOMEM, or the -errno of its init. */
int pml_policy_new_ops(const struct pml_policy_ops *ops, const struct pml_policy_config *cfg,
		       struct pml_policy **ret);

/* Tell the policy what happened. A PML_POL_BASE module becomes protected. */
void pml_policy_observe(struct pml_policy *p, const struct pml_pol_event *ev);
/* Ask for actions given the loaded modules. Unloads of protected modules are dropped, and
 * loads of a module loaded for predictions PML_POLICY_LOADS_PER_NEED times since its last
 * need (PML_POL_NEED, a PML_POL_REQUEST naming it, a load not predicted). Returns the
 * count written to out (<= max), or -errno. */
int pml_policy_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		      struct pml_action *out, size_t max);
/* True for base and pinned modules. */
bool pml_policy_is_protected(const struct pml_policy *p, const char *module);
/* The policy's clock. */
uint64_t pml_policy_now(const struct pml_policy *p);

#endif
