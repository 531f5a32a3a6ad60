/* pmld's logic: base set, kernel events to records, the idle-check tick, the predictive
 * path (policy -> resource manager -> load worker) and the event loop; see agent.h. The
 * loop is single-threaded except for the worker: unloads stay on the loop, since they never
 * sit on a program's critical path (the shim serves every miss on its own), while loads,
 * which a program may be about to wait for, must not hold up the next prediction. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/agent.h"
#include "model/features.h"
#include "policy/needs-model.h"
#include "resource/resource-api.h"
#include "resource/resource.h"
#include "trace/tracer.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The prior file and the script it names are read up to this many bytes each. */
#define PRIOR_MAX 65536

#define MODS_MAX 4096
#define ACTIONS_MAX 64
#define EVENTS_BATCH 64
#define RESOLVE_MAX 8

/* A module the worker loads for a prediction, from its queueing until it is used or
 * unloaded. Its references are watched from the queueing on (the source's filter is
 * written before the worker can insert it), so a use right after the insert is seen too. */
struct predicted {
	char name[64];
	bool used;
	bool loaded; /* the worker's load record is written: a use is reported from then */
	char early[128]; /* a use seen before that: reported once the load is */
	enum pml_event_via early_via;
};

/* The parts of the loop whose CPU the stop record gives (part_names). */
enum loop_part { PART_TRACE, PART_PRIOR, PART_EVENTS, PART_COLLECT, PART_TICK, PART_API, PART_N };
static const char *const part_names[PART_N] = {"the trace", "the prior", "kernel events",
					       "finished loads", "ticks", "the resource API"};

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
	double watch_ms; /* wall time of the watch writes (the kernel's grace periods) */
	double watch_cpu_ms; /* ... and the CPU they took */
	/* Misses a program waits on now (requested, not loaded yet): the worker is held
	 * until their loads show, or MISS_HOLD_MAX_NS passed (a denied or failed miss). */
	char misses[RESOLVE_MAX][64];
	size_t n_misses;
	uint64_t miss_since;
	struct pml_tracer *tracer; /* while the loop runs with trace_root */
	uint64_t drain_until;	   /* the running drain stops after this (0: drains all) */
	struct utsname uts;	   /* the running kernel: an lstm model must be of its series */
	/* The main thread's CPU per part of the loop since the job's prior (ms), for the
	 * stop record: where pmld's per-job cost goes. */
	double part_ms[PART_N];
};

#define MISS_HOLD_MAX_NS 2000000000ull
/* The tracer's ring buffer (pml trace record keeps its 16 MiB: it records everything).
 * User space maps the data area twice (a record that wraps is read in one piece), so the
 * ring costs pmld twice its size in RSS: 16 MiB made 32 MiB of pmld's 42 MiB peak. With
 * plain_once (pml_agent_start_tracer) a job's records are few: the vxlan job of
 * BENCHMARKS.md sends ~200 (~10 KB) where it sent 1773 (65 KB), a loop of system calls
 * none; pmld drains every trace_ms (20 ms), and 128 KiB holds ~1300 path or netlink records
 * (a tar of /usr/share and a loop of 20000 open+close in the guest dropped none). */
#define TRACE_RINGBUF_BYTES (128u << 10)
/* One drain of the trace delivers records for at most this long, then the loop decides,
 * collects loads and reads kernel events before it goes on (the trace timer has expired
 * again by then). Unbounded, a drain on a one-CPU guest lasted as long as the job kept
 * producing records: 6063 records in 8.1 s, every prediction decided after the job had
 * ended. */
#define DRAIN_MAX_NS 50000000ull

static uint64_t now(const struct pml_agent *a)
{
	return pml_clock_now(a->cfg.clock);
}

static int append(struct pml_agent *a, struct pml_event_rec *rec)
{
	int r;

	if (!rec->t_ns)
		rec->t_ns = now(a);
	if (!rec->source)
		rec->source = "pmld";
	r = pml_event_log_append(a->log_fd, rec);
	if (r < 0) {
		/* Said once per kind of trouble would be nicer; the log is what failed. */
		if (!a->stats.log_errors)
			pml_err("%s: cannot append to the decision log: %s", a->cfg.log_path,
				strerror(-r));
		a->stats.log_errors++;
	}
	return r;
}

/* An info, error or start record (kind) with the words fmt makes; prefix goes before them
 * in the record's reason only ("error: "). */
static void vinfo(struct pml_agent *a, enum pml_event_kind kind, int err, const char *prefix,
		  const char *fmt, va_list ap)
{
	struct pml_event_rec rec;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		pml_err("%s", msg);
	else
		pml_info("%s", msg);
	pml_event_rec_init(&rec, kind);
	rec.err = err;
	if (kind == PML_EV_START)
		rec.policy = a->pol->ops->name;
	{
		char reason[600];

		snprintf(reason, sizeof(reason), "%s%s", prefix, msg);
		rec.reason = reason;
		append(a, &rec);
	}
}

void pml_agent_error(struct pml_agent *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, PML_EV_ERROR, err ? err : -EIO, "error: ", fmt, ap);
	va_end(ap);
}

void pml_agent_info(struct pml_agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, PML_EV_INFO, 0, "", fmt, ap);
	va_end(ap);
}

/* pmld's start record: its words, and the policy as a field. */
__attribute__((format(printf, 2, 3))) static void start_info(struct pml_agent *a,
							     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, PML_EV_START, 0, "", fmt, ap);
	va_end(ap);
}

const struct pml_agent_stats *pml_agent_stats(const struct pml_agent *a)
{
	return &a->stats;
}

static uint64_t res_clock(void *data)
{
	return pml_clock_now(data);
}

static void on_api_request(void *data, const struct pml_res_request *req,
			   const struct pml_res_decision *d);
static const struct pml_driver_ops live_ops;

/* The lstm policy's resolver for the modules a program names: the loader's index. */
static int resolve_alias(void *data, const char *alias, char (*names)[64], size_t max)
{
	return pml_loader_resolve(data, alias, names, max);
}

int pml_agent_new(const struct pml_agent_config *cfg, struct pml_loader *ld,
		  struct pml_agent **ret)
{
	struct pml_policy_config pcfg = {0};
	struct pml_resource_config rcfg = {0};
	struct pml_agent *a;
	int r;

	if (!cfg || !cfg->log_path || !ld || cfg->idle_seconds < 0) {
		if (cfg)
			pml_loader_free(cfg->worker_ld);
		return -EINVAL;
	}
	if (!cfg->policy_ops && !pml_policy_find(cfg->policy ? cfg->policy : "reactive")) {
		pml_loader_free(cfg->worker_ld);
		return -ENOENT;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		pml_loader_free(cfg->worker_ld);
		return -ENOMEM;
	}
	a->cfg = *cfg;
	if (!a->cfg.policy)
		a->cfg.policy = "reactive";
	if (!a->cfg.tick_ms)
		a->cfg.tick_ms = 250;
	if (a->cfg.idle_seconds == 0)
		a->cfg.idle_seconds = 5.0;
	a->ld = ld;
	a->log_fd = -1;
	a->hwm_before_job = -1;
	a->mods = calloc(MODS_MAX, sizeof(*a->mods));
	if (!a->mods) {
		r = -ENOMEM;
		goto fail;
	}
	pcfg.idle_seconds = a->cfg.idle_seconds;
	pcfg.pinned_fn = cfg->pinned_fn;
	pcfg.pinned_data = cfg->pinned_data;
	pcfg.clock = cfg->clock;
	pcfg.needs_model = cfg->needs_model;
	pcfg.threshold = cfg->threshold;
	pcfg.model_path = cfg->model_path;
	pcfg.slots_path = cfg->slots_path;
	if (uname(&a->uts) == 0)
		pcfg.kernel_release = a->uts.release;
	pcfg.prior_command = cfg->prior_command;
	pcfg.prior_script = cfg->prior_script;
	pcfg.horizon_ms = cfg->horizon_ms;
	if (!cfg->no_names) {
		pcfg.resolve_fn = resolve_alias;
		pcfg.resolve_data = ld;
	}
	pcfg.preload = cfg->preload;
	pcfg.n_preload = cfg->n_preload;
	if (cfg->worker_ld) {
		r = pml_worker_new(cfg->worker_ld, 0, &a->worker); /* frees it on failure */
		a->cfg.worker_ld = NULL;
		if (r < 0)
			goto fail;
	}
	r = cfg->policy_ops ? pml_policy_new_ops(cfg->policy_ops, &pcfg, &a->pol) :
			      pml_policy_new(a->cfg.policy, &pcfg, &a->pol);
	if (r < 0)
		goto fail;
	rcfg.budget_mem = cfg->budget_mem;
	rcfg.cpu_ms_per_s = cfg->budget_cpu;
	rcfg.pinned_fn = cfg->pinned_fn;
	rcfg.pinned_data = cfg->pinned_data;
	rcfg.now_ns = res_clock;
	rcfg.clock_data = (void *)cfg->clock;
	r = pml_resource_new(&rcfg, &a->res);
	if (r < 0)
		goto fail;
	pml_driver_init(&a->drv, &live_ops, a, a->pol, a->res);
	a->drv.watch = cfg->on_drive;
	a->drv.watch_data = cfg->on_drive_data;
	r = pml_event_log_open(cfg->log_path);
	if (r < 0)
		goto fail;
	a->log_fd = r;
	if (cfg->resource_socket) {
		struct pml_resource_server_config scfg = {
			.path = cfg->resource_socket,
			.on_request = on_api_request,
			.hook_data = a,
		};

		r = pml_resource_server_new(a->res, &scfg, &a->srv);
		if (r < 0) {
			/* The API is a convenience; the loop works without it. */
			pml_agent_error(a, r, "%s: cannot serve the resource API: %s",
					cfg->resource_socket, strerror(-r));
			a->srv = NULL;
		}
	}
	*ret = a;
	return 0;
fail:
	pml_agent_free(a);
	return r;
}

void pml_agent_free(struct pml_agent *a)
{
	if (!a)
		return;
	pml_tracer_free(a->tracer);
	pml_worker_free(a->worker); /* first: it may still be loading */
	pml_resource_server_free(a->srv);
	pml_resource_free(a->res);
	if (a->log_fd >= 0)
		close(a->log_fd);
	pml_policy_free(a->pol);
	free(a->mods);
	free(a->pred);
	free(a);
}

/* Read the module set into a->mods. Returns the count or -errno. */
static int refresh(struct pml_agent *a)
{
	int n = pml_loader_list_loaded(a->ld, a->mods, MODS_MAX);

	if (n < 0)
		return n;
	a->n_mods = (size_t)n < MODS_MAX ? (size_t)n : MODS_MAX;
	return (int)a->n_mods;
}

static const struct pml_loaded *find_mod(const struct pml_agent *a, const char *name)
{
	char want[64], have[64];

	if (pml_module_name_normalize(name, want) < 0)
		return NULL;
	for (size_t i = 0; i < a->n_mods; i++)
		if (!pml_module_name_normalize(a->mods[i].name, have) && !strcmp(want, have))
			return &a->mods[i];
	return NULL;
}

static int write_base_file(const char *path, const struct pml_loaded *mods, size_t n)
{
	char tmp[4096];
	FILE *f;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	/* Oldest first: /proc/modules lists the newest first. */
	for (size_t i = n; i-- > 0;)
		fprintf(f, "%s %lld\n", mods[i].name, (long long)mods[i].bytes);
	if (fflush(f) != 0 || ferror(f))
		r = -errno ? -errno : -EIO;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* The base file of an earlier start: its names into *ret (caller frees). 0, or -errno
 * when there is none or it cannot be read. */
static int read_base_file(const char *path, char (**ret)[64], size_t *ret_n)
{
	char line[256], (*v)[64] = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (sscanf(line, "%63s", name) != 1)
			continue;
		if (n == cap) {
			char (*nv)[64] = realloc(v, (cap ? cap * 2 : 32) * sizeof(*v));

			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 32;
		}
		snprintf(v[n++], 64, "%s", name);
	}
	fclose(f);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool in_list(char (*v)[64], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pml_module_name_eq(v[i], name))
			return true;
	return false;
}

int pml_agent_start(struct pml_agent *a)
{
	uint64_t t = now(a);
	int64_t total = 0;
	char (*base)[64] = NULL;
	size_t n_base = 0, adopted = 0;
	bool restart;
	int n, r;

	if (a->pol->ops == &pml_policy_markov || a->pol->ops == &pml_policy_lstm) {
		char horizon[48] = "";

		if (a->pol->cfg.horizon_ms > 0)
			snprintf(horizon, sizeof(horizon), ", horizon %.0f ms",
				 a->pol->cfg.horizon_ms);
		start_info(a, "start: pmld %d, policy %s (threshold %.2f, idle %.1f s%s), "
			       "tick %u ms, loader %s, budget %lld bytes, worker %s", (int)getpid(),
			       a->pol->ops->name, a->pol->cfg.threshold, a->cfg.idle_seconds,
			       horizon, a->cfg.tick_ms, pml_loader_backend(a->ld),
			       (long long)a->cfg.budget_mem, a->worker ? "on" : "off");
	} else if (a->pol->ops == &pml_policy_load_all)
		start_info(a, "start: pmld %d, policy %s (%zu modules listed), loader %s, "
			       "budget %lld bytes, worker %s", (int)getpid(), a->pol->ops->name,
			       a->pol->cfg.n_preload, pml_loader_backend(a->ld),
			       (long long)a->cfg.budget_mem, a->worker ? "on" : "off");
	else if (a->pol->ops == &pml_policy_idle_unload)
		start_info(a, "start: pmld %d, policy %s (idle %.1f s), tick %u ms, "
			       "loader %s", (int)getpid(), a->pol->ops->name,
			       a->cfg.idle_seconds, a->cfg.tick_ms, pml_loader_backend(a->ld));
	else
		start_info(a, "start: pmld %d, policy %s, loader %s", (int)getpid(),
			       a->pol->ops->name, pml_loader_backend(a->ld));
	n = refresh(a);
	if (n < 0) {
		pml_agent_error(a, n, "cannot list the loaded modules (/proc/modules): %s",
				strerror(-n));
		return n;
	}
	restart = a->cfg.base_file && read_base_file(a->cfg.base_file, &base, &n_base) == 0;
	/* Oldest first, as they were loaded. */
	for (size_t i = a->n_mods; i-- > 0;) {
		const struct pml_loaded *m = &a->mods[i];
		struct pml_event_rec rec;
		struct pml_pol_event pev = {.kind = PML_POL_BASE, .t_ns = t, .module = m->name,
					    .bytes = m->bytes};

		if (restart && !in_list(base, n_base, m->name)) {
			/* loaded since the first start: the program's, managed as such */
			pml_event_rec_init(&rec, PML_EV_LOAD);
			rec.t_ns = t;
			rec.module = m->name;
			rec.bytes = m->bytes;
			rec.cause = PML_CAUSE_RESTART;
			rec.reason = "restart: loaded before this pmld started, after the base set";
			append(a, &rec);
			pev.kind = PML_POL_LOAD;
			pml_policy_observe(a->pol, &pev);
			pml_resource_loaded(a->res, m->name, m->bytes, m->refcnt);
			adopted++;
			n--;
			continue;
		}
		pml_event_rec_init(&rec, PML_EV_BASE);
		rec.t_ns = t;
		rec.module = m->name;
		rec.bytes = m->bytes;
		append(a, &rec);
		pml_policy_observe(a->pol, &pev);
		pml_resource_set_base(a->res, m->name, m->bytes);
		total += m->bytes > 0 ? m->bytes : 0;
	}
	free(base);
	if (restart)
		pml_agent_info(a, "restart: base set of %d modules from %s; %zu modules loaded "
			       "since taken over", n, a->cfg.base_file, adopted);
	r = restart ? 0 : pml_loader_keep_loaded(a->ld);
	if (r < 0)
		pml_agent_error(a, r, "cannot keep the base set in the loader: %s", strerror(-r));
	if (a->cfg.base_file && !restart) {
		r = write_base_file(a->cfg.base_file, a->mods, a->n_mods);
		if (r < 0)
			pml_agent_error(a, r, "%s: cannot write the base set: %s",
					a->cfg.base_file, strerror(-r));
	}
	pml_info("base set: %d modules, %lld bytes", n, (long long)total);
	return n;
}

static struct predicted *pred_find(struct pml_agent *a, const char *name)
{
	char want[64], have[64];

	if (pml_module_name_normalize(name, want) < 0)
		return NULL;
	for (size_t i = 0; i < a->n_pred; i++)
		if (!pml_module_name_normalize(a->pred[i].name, have) && !strcmp(want, have))
			return &a->pred[i];
	return NULL;
}

/* The entry of a module queued for a prediction (loaded false), NULL when memory ran out
 * (only the "used" mark is lost). */
static struct predicted *pred_expect(struct pml_agent *a, const char *name)
{
	struct predicted *p = pred_find(a, name);

	if (p)
		return p;
	if (a->n_pred == a->cap_pred) {
		size_t cap = a->cap_pred ? 2 * a->cap_pred : 16;
		struct predicted *n = realloc(a->pred, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->pred = n;
		a->cap_pred = cap;
	}
	p = &a->pred[a->n_pred++];
	memset(p, 0, sizeof(*p));
	pml_module_name_normalize(name, p->name);
	a->watch_dirty = true;
	return p;
}

static void pred_used(struct pml_agent *a, const char *name, enum pml_event_via via,
		      const char *how);

/* The worker loaded a predicted module (its load record is written): a use seen while
 * it was in flight is reported now, after the load in the log. */
static void pred_add(struct pml_agent *a, const char *name)
{
	struct predicted *p = pred_expect(a, name);

	if (!p || p->loaded)
		return;
	p->loaded = true;
	if (p->early[0]) {
		char how[sizeof(p->early)];

		memcpy(how, p->early, sizeof(how));
		pred_used(a, p->name, p->early_via, how);
	}
}

static void pred_drop(struct pml_agent *a, const char *name)
{
	struct predicted *p = pred_find(a, name);

	if (!p)
		return;
	if (!p->used)
		a->watch_dirty = true;
	*p = a->pred[--a->n_pred];
}

/* Tell the source which modules' references to report: the prefetches not seen used
 * (queued or loaded), once per change of that set. A source that cannot (no module_get
 * in the kernel, no source) is said once; the tick's refcount sample is then all. */
static double thread_cpu_ms(void);

static void watch_sync(struct pml_agent *a)
{
	char (*names)[64];
	size_t n = 0;
	uint64_t t0;
	double c0;
	int r;

	if (!a->src || a->watch_off || !a->watch_dirty)
		return;
	names = calloc(a->n_pred ? a->n_pred : 1, sizeof(*names));
	if (!names)
		return;
	for (size_t i = 0; i < a->n_pred; i++)
		if (!a->pred[i].used)
			memcpy(names[n++], a->pred[i].name, sizeof(names[0]));
	t0 = pml_now_ns();
	c0 = thread_cpu_ms();
	r = pml_source_watch(a->src, (const char(*)[64])names, n);
	a->watch_cpu_ms += thread_cpu_ms() - c0;
	a->watch_ms += (double)(pml_now_ns() - t0) / 1e6;
	pml_dbg("%s: watching %zu modules: %d (%.1f ms)", a->src->ops->name, n, r,
		(double)(pml_now_ns() - t0) / 1e6);
	a->stats.watch_writes++;
	free(names);
	if (r == -EOPNOTSUPP || r == -ENODEV) {
		a->watch_off = true;
		pml_agent_info(a, "%s: no module references (module:module_get): a use of a "
			       "prefetch shows only at the tick (refcount) or by a request",
			       a->src->ops->name);
		return;
	}
	if (r < 0) {
		a->watch_off = true;
		pml_agent_error(a, r, "%s: cannot watch the references of %zu prefetches: %s; "
				"uses show only at the tick from now on", a->src->ops->name, n,
				strerror(-r));
		return;
	}
	if ((size_t)r < n)
		pml_dbg("%s: watching %d of %zu prefetches (the filter is full)",
			a->src->ops->name, r, n);
	a->watch_dirty = false;
}

/* A prefetched module was used: say so once (the report's wasted loads are the others).
 * Before its load record is written (a use while the worker was inserting it, seen
 * first), the use waits for it (pred_add). */
static void pred_used(struct pml_agent *a, const char *name, enum pml_event_via via,
		      const char *how)
{
	struct predicted *p = pred_find(a, name);
	struct pml_event_rec rec;
	char reason[200];

	if (!p || p->used)
		return;
	if (!p->loaded) {
		if (!p->early[0]) {
			snprintf(p->early, sizeof(p->early), "%s", how);
			p->early_via = via;
		}
		return;
	}
	p->used = true;
	a->watch_dirty = true;
	a->stats.used++;
	pml_event_rec_init(&rec, PML_EV_USED);
	rec.module = p->name;
	rec.via = via;
	snprintf(reason, sizeof(reason), "used: %s (%s)", p->name, how);
	rec.reason = reason;
	append(a, &rec);
	/* A hit makes no request: the first use is the need the policy learns from (markov
	 * chains on it: what follows this module). */
	struct pml_pol_event pev = {.kind = PML_POL_NEED, .t_ns = now(a), .module = p->name,
				    .bytes = -1};

	pml_policy_observe(a->pol, &pev);
}

static int act_on(struct pml_agent *a, bool tick, bool fresh);

static void misses_clear(struct pml_agent *a)
{
	a->n_misses = 0;
	pml_worker_hold(a->worker, false);
}

/* Hold the worker while a program waits on a miss (see struct pml_agent). Returns true
 * when it read the module list. */
static bool track_misses(struct pml_agent *a, const struct pml_kevent *ev,
			 char (*names)[64], int n_names)
{
	char n[64];

	if (ev->kind == PML_KEV_REQUEST) {
		if (n_names <= 0 || refresh(a) < 0)
			return false;
		for (int i = 0; i < n_names && a->n_misses < RESOLVE_MAX; i++) {
			if (find_mod(a, names[i]) || pml_worker_has(a->worker, names[i]))
				continue;
			pml_module_name_normalize(names[i], a->misses[a->n_misses++]);
		}
		if (a->n_misses) {
			a->miss_since = now(a);
			pml_worker_hold(a->worker, true);
		}
		return true;
	}
	if (ev->kind != PML_KEV_LOAD || !a->n_misses ||
	    pml_module_name_normalize(ev->name, n) < 0)
		return false;
	for (size_t i = 0; i < a->n_misses; i++)
		if (!strcmp(a->misses[i], n)) {
			memmove(a->misses[i], a->misses[i + 1],
				(a->n_misses - i - 1) * sizeof(a->misses[0]));
			a->n_misses--;
			break;
		}
	if (!a->n_misses)
		misses_clear(a);
	return false;
}

int pml_agent_handle(struct pml_agent *a, const struct pml_kevent *ev)
{
	struct pml_pol_event pev = {.t_ns = ev->t_ns, .bytes = -1};
	struct pml_event_rec rec;
	char names[RESOLVE_MAX][64];
	int n_names = 0, r;
	bool listed = false; /* the module list was read for this event */

	if (ev->kind == PML_KEV_GET) {
		/* A reference on a watched prefetch: its use, however short. Not a record of
		 * its own: the used record says it, with who took it and where. */
		char how[160];

		a->stats.gets++;
		snprintf(how, sizeof(how), "module_get by %.32s %d%s%.64s", ev->comm[0] ?
			 ev->comm : "?", ev->pid, ev->site[0] ? " at " : "", ev->site);
		pred_used(a, ev->name, PML_VIA_MODULE_GET, how);
		watch_sync(a);
		return 0;
	}
	if (ev->kind == PML_KEV_NETDEV) {
		/* An interface made with the module's setup function, in any namespace: a use
		 * of an interface kind, which no reference shows. Not when pmld's own thread
		 * made it: the module's init (dummy makes dummy0) during the worker's insert. */
		char how[160], task[48];

		snprintf(task, sizeof(task), "/proc/self/task/%d", ev->pid);
		if (ev->pid > 0 && access(task, F_OK) == 0)
			return 0;
		a->stats.netdevs++;
		snprintf(how, sizeof(how), "interface made by %.32s %d with %.64s", ev->comm[0] ?
			 ev->comm : "?", ev->pid, ev->site[0] ? ev->site : "its setup");
		pred_used(a, ev->name, PML_VIA_NETDEV, how);
		watch_sync(a);
		return 0;
	}
	a->stats.events++;
	switch (ev->kind) {
	case PML_KEV_REQUEST:
		pml_event_rec_init(&rec, PML_EV_REQUEST);
		rec.alias = ev->name;
		rec.pid = ev->pid;
		rec.comm = ev->comm[0] ? ev->comm : NULL;
		pev.kind = PML_POL_REQUEST;
		pev.alias = ev->name;
		/* Resolved here, on the loop's own loader: the policy reasons in modules. */
		n_names = pml_loader_resolve(a->ld, ev->name, names, RESOLVE_MAX);
		if (n_names > RESOLVE_MAX)
			n_names = RESOLVE_MAX;
		break;
	case PML_KEV_LOAD: {
		const struct pml_loaded *m = NULL;

		pml_event_rec_init(&rec, PML_EV_LOAD);
		rec.module = ev->name;
		/* The size is in /proc/modules from the tracepoint on. */
		listed = refresh(a) >= 0;
		if (listed && (m = find_mod(a, ev->name)))
			rec.bytes = m->bytes;
		pev.kind = PML_POL_LOAD;
		pev.module = ev->name;
		pev.bytes = rec.bytes;
		pev.predicted = a->worker && pml_worker_has(a->worker, ev->name);
		pml_resource_loaded(a->res, ev->name, rec.bytes, m ? m->refcnt : 0);
		break;
	}
	case PML_KEV_FREE:
		pml_event_rec_init(&rec, PML_EV_UNLOAD);
		rec.module = ev->name;
		pev.kind = PML_POL_UNLOAD;
		pev.module = ev->name;
		pml_resource_release(a->res, ev->name);
		pred_drop(a, ev->name);
		break;
	default:
		return 0;
	}
	rec.t_ns = ev->t_ns ? ev->t_ns : now(a);
	rec.source = "tracefs";
	if (ev->kind != PML_KEV_REQUEST)
		rec.pid = ev->pid, rec.comm = ev->comm[0] ? ev->comm : NULL;
	r = append(a, &rec);
	if (a->worker && track_misses(a, ev, names, n_names))
		listed = true;
	if (ev->kind == PML_KEV_REQUEST && n_names > 0) {
		for (int i = 0; i < n_names; i++) {
			char how[128];

			pev.module = names[i];
			pml_policy_observe(a->pol, &pev);
			snprintf(how, sizeof(how), "requested %.100s", ev->name);
			pred_used(a, names[i], PML_VIA_REQUEST, how);
		}
	} else {
		pml_policy_observe(a->pol, &pev);
	}
	/* A prediction is worth most right after its trigger: decide now, not at the tick,
	 * on the module list just read for the event when it was (each read is /proc/modules
	 * and every module's holders in sysfs: 0.3 ms under TCG, twice per load before). */
	if (a->worker && !a->draining &&
	    (ev->kind == PML_KEV_REQUEST || ev->kind == PML_KEV_LOAD))
		act_on(a, false, !listed);
	watch_sync(a);
	return r;
}

/* This process's CPU time so far, ms; -1 when unknown. */
static double self_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* The calling thread's CPU time so far, ms. */
static double thread_cpu_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Add the main thread's CPU since *since to a part (once the job started) and move
 * *since to now. */
static void account(struct pml_agent *a, enum loop_part part, double *since)
{
	double t = thread_cpu_ms();

	if (a->prior_seen || !a->cfg.prior_file)
		a->part_ms[part] += t - *since;
	*since = t;
}

/* CPU time of this process's threads other than the main one (the load worker), ms from
 * their schedstat; 0 when there are none, -1 when unknown. */
static double other_threads_cpu_ms(void)
{
	char path[64], line[128];
	double sum = 0;
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		unsigned long long ns;
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == (int)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/schedstat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && sscanf(line, "%llu", &ns) == 1)
			sum += (double)ns / 1e6;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* RssAnon and RssFile of /proc/self/status, KiB (-1 when unknown). */
static void rss_parts(int64_t *ret_anon, int64_t *ret_file)
{
	char line[128];
	long long kib;
	FILE *f = fopen("/proc/self/status", "re");

	*ret_anon = *ret_file = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "RssAnon: %lld", &kib) == 1)
			*ret_anon = kib;
		else if (sscanf(line, "RssFile: %lld", &kib) == 1)
			*ret_file = kib;
	}
	if (f)
		fclose(f);
}

/* Reset the kernel's peak RSS of this process (/proc/self/clear_refs, 5), so that the
 * stop record's getrusage peak is the job's. Returns the peak before, bytes, or -1 when
 * it could not be reset (the stop record then gives the lifetime peak, as before). */
static int64_t reset_peak_rss(void)
{
	struct rusage ru;
	int fd;
	bool ok;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && write(fd, "5", 1) == 1;
	if (fd >= 0)
		close(fd);
	return ok ? (int64_t)ru.ru_maxrss * 1024 : -1;
}

/* The prior file (see pml_agent_config): read, bounded, handed to the policy, removed. */
static void read_prior(struct pml_agent *a)
{
	char sig[128], *text = NULL, *script = NULL, *nl, *cmd;
	size_t len = 0;
	FILE *f;

	if (read(a->cfg.prior_fd, sig, sizeof(sig)) < 0 && errno != EAGAIN)
		pml_dbg("prior fd: %s", strerror(errno));
	f = fopen(a->cfg.prior_file, "re");
	if (!f) {
		pml_agent_error(a, -errno, "prior: %s: %s", a->cfg.prior_file, strerror(errno));
		return;
	}
	text = calloc(1, PRIOR_MAX + 1);
	if (text)
		len = fread(text, 1, PRIOR_MAX, f);
	fclose(f);
	if (!text)
		return;
	text[len] = '\0';
	/* line 1: the job's start (guest uptime, s); line 2: the script's path (may be
	 * empty); the rest: the command line (which may hold newlines) */
	cmd = text;
	nl = strchr(cmd, '\n');
	if (nl) {
		char *end;
		double t = strtod(cmd, &end);

		if (end != cmd && t > 0 && t < 1e9)
			a->prior_t_ns = (uint64_t)(t * 1e9);
		cmd = nl + 1;
		nl = strchr(cmd, '\n');
		if (nl) {
			char *path = cmd;

			*nl = '\0';
			cmd = nl + 1;
			if (path[0]) {
				f = fopen(path, "re");
				script = f ? calloc(1, PRIOR_MAX + 1) : NULL;
				if (script)
					script[fread(script, 1, PRIOR_MAX, f)] = '\0';
				if (f)
					fclose(f);
				else
					pml_agent_info(a, "prior: the script %s cannot be read: %s",
						       path, strerror(errno));
			}
		}
	}
	len = strlen(cmd);
	while (len && cmd[len - 1] == '\n')
		cmd[--len] = '\0';
	pml_agent_set_prior(a, cmd, script);
	free(text);
	free(script);
	if (unlink(a->cfg.prior_file) < 0)
		pml_agent_error(a, -errno, "prior: %s: %s", a->cfg.prior_file, strerror(errno));
}

int pml_agent_set_prior(struct pml_agent *a, const char *command, const char *script)
{
	struct pml_pol_event pev = {.kind = PML_POL_PRIOR, .t_ns = pml_now_ns(), .bytes = -1,
				    .prior_command = command, .prior_script = script};

	a->prior_seen = true;
	memset(a->part_ms, 0, sizeof(a->part_ms));
	a->cpu_at_prior_ms = self_cpu_ms();
	a->worker_at_prior_ms = a->worker ? other_threads_cpu_ms() : -1;
	/* What pmld held for its start (libbpf's parse of the kernel's BTF peaks at twice
	 * what stays) was paid once, before the job; from here on the peak is the job's. */
	a->hwm_before_job = reset_peak_rss();
	pml_policy_observe(a->pol, &pev);
	pml_agent_info(a, "prior: the job's command line (%zu bytes), %s (%zu bytes)",
		       command ? strlen(command) : 0, script ? "its script" : "no script",
		       script ? strlen(script) : 0);
	return 0;
}

/* An interface of a kind is made (RTM_NEWLINK with IFLA_INFO_KIND): a use of the module
 * of rtnl-link-KIND, which its interfaces do not pin (no reference, no request when the
 * module is there), so the tick's refcount never shows it. */
static void link_kind_used(struct pml_agent *a, const struct pml_tev_netlink *nl)
{
	char alias[64], names[RESOLVE_MAX][64], how[96];
	bool watching = false;
	int n;

	if (nl->protocol != 0 /* NETLINK_ROUTE */ || nl->nlmsg_type != 16 /* RTM_NEWLINK */ ||
	    !nl->kind[0])
		return;
	for (size_t i = 0; i < a->n_pred && !watching; i++)
		watching = !a->pred[i].used;
	if (!watching)
		return;
	snprintf(alias, sizeof(alias), "rtnl-link-%.*s", PML_TEV_NLKIND_LEN, nl->kind);
	n = pml_loader_resolve(a->ld, alias, names, RESOLVE_MAX);
	snprintf(how, sizeof(how), "RTM_NEWLINK of kind %.*s by pid %u", PML_TEV_NLKIND_LEN,
		 nl->kind, (unsigned)nl->h.pid);
	for (int i = 0; i < n && i < RESOLVE_MAX; i++)
		pred_used(a, names[i], PML_VIA_RTM_NEWLINK, how);
}

void pml_agent_trace(struct pml_agent *a, const struct pml_tev_hdr *rec)
{
	struct pml_pol_event pev = {.kind = PML_POL_TRACE, .t_ns = rec->t_ns, .bytes = -1,
				    .tev = rec};

	/* Before the job's prior, or before the job's start it gives (records drained after
	 * the prior but made before it: guest-init's own set-up), not the program. */
	if (a->cfg.prior_file && (!a->prior_seen || rec->t_ns < a->prior_t_ns)) {
		a->stats.trace_before_prior++;
		return;
	}
	a->stats.trace_records++;
	if (rec->kind == PML_TEV_NETLINK && rec->size >= sizeof(struct pml_tev_netlink))
		link_kind_used(a, (const struct pml_tev_netlink *)rec);
	pml_policy_observe(a->pol, &pev);
}

static int on_trace_record(void *data, const struct pml_tev_hdr *rec)
{
	struct pml_agent *a = data;

	pml_agent_trace(a, rec);
	/* -EAGAIN: stop this poll here (the record is delivered), the rest waits a turn */
	return a->drain_until && pml_now_ns() > a->drain_until ? -EAGAIN : 0;
}

/* Deliver what the tracer has queued, for DRAIN_MAX_NS at most unless all is asked for
 * (at stop); decide once for the batch. */
static void drain_trace(struct pml_agent *a, bool all)
{
	uint64_t before = a->stats.trace_records, dropped;
	int n;

	a->drain_until = all ? 0 : pml_now_ns() + DRAIN_MAX_NS;
	n = pml_tracer_poll(a->tracer, 0);
	a->drain_until = 0;
	if (n == -EAGAIN)
		n = (int)(a->stats.trace_records - before); /* more to come: the next turn */
	if (n < 0 && n != -EINTR)
		pml_agent_error(a, n, "tracer: %s", strerror(-n));
	dropped = pml_tracer_dropped(a->tracer);
	if (dropped > a->stats.trace_dropped) {
		pml_agent_error(a, -ENOBUFS, "tracer: the kernel dropped %llu records",
				(unsigned long long)(dropped - a->stats.trace_dropped));
		a->stats.trace_dropped = dropped;
	}
	/* On the module list of the last tick or event: reading it (/proc/modules and each
	 * module's holders in sysfs) 50 times a second cost more CPU than the predictor on a
	 * one-CPU guest, slowing the program's own loads. */
	if (n > 0 && a->worker)
		act_on(a, false, false);
}

/* cause: the unload's (policy, evict); a dependency taken along is one of its own. */
static void log_unload(struct pml_agent *a, const struct pml_action *act,
		       enum pml_event_cause cause, const struct pml_mod_op *op, int64_t bytes)
{
	struct pml_event_rec rec;
	char reason[256];

	pml_event_rec_init(&rec, op->err ? PML_EV_FAIL : PML_EV_UNLOAD);
	rec.module = op->name;
	rec.cause = strcmp(op->name, act->module) ? PML_CAUSE_DEPENDENCY : cause;
	rec.bytes = op->bytes >= 0 ? op->bytes : bytes;
	rec.ms = op->ms;
	rec.err = op->err;
	if (strcmp(op->name, act->module))
		snprintf(reason, sizeof(reason), "%s%s (unused dependency of %s)",
			 op->err ? "unload: " : "", act->reason, act->module);
	else
		snprintf(reason, sizeof(reason), "%s%s", op->err ? "unload: " : "", act->reason);
	rec.reason = reason;
	append(a, &rec);
}

static int drain(struct pml_agent *a, struct pml_source *src);

/* Whether a prefetch about to be unloaded was used after all: a reference the source has
 * not been read for yet (the trace's drain decides before the source's). Reads the source
 * first, deciding nothing on what it reads. */
static bool used_unread(struct pml_agent *a, const char *module)
{
	struct predicted *p = pred_find(a, module);

	if (!p || p->used || !p->loaded || !a->src || a->watch_off || a->draining)
		return false;
	a->draining = true;
	if (drain(a, a->src) < 0)
		pml_dbg("%s: read before unloading %s failed", a->src->ops->name, module);
	a->draining = false;
	p = pred_find(a, module);
	return p && p->used;
}

/* Carry out an unload a policy asked for (cause policy) or the manager's eviction (evict). */
static int do_unload(struct pml_agent *a, const struct pml_action *act,
		     enum pml_event_cause cause)
{
	struct pml_op_result res = {0};
	struct pml_pol_event pev = {.kind = PML_POL_BUSY, .module = act->module, .bytes = -1};
	unsigned flags = PML_UNLOAD_DEPS;
	int removed = 0, r;

	/* used just now (the policy is told): not idle, whatever it decided before */
	if (used_unread(a, act->module))
		return 0;

	/* The loader keeps the base set itself; pins by rule (the policy file's globs) it does
	 * not know, so a dependency it would take along is checked here first. */
	if (a->cfg.pinned_fn &&
	    pml_loader_unload(a->ld, act->module, flags | PML_UNLOAD_DRY_RUN, &res) == 0) {
		for (size_t i = 1; i < res.n && i < PML_MOD_OP_MAX; i++)
			if (pml_policy_is_protected(a->pol, res.mods[i].name)) {
				pml_dbg("unload %s: dependency %s is pinned, leaving all its "
					"dependencies", act->module, res.mods[i].name);
				flags = 0;
				break;
			}
	}
	r = pml_loader_unload(a->ld, act->module, flags, &res);
	pev.t_ns = now(a);
	if (r == -EBUSY || r == -EAGAIN || r == -EPERM) {
		/* Not yet (in use again) or not ours to remove: the policy waits T again.
		 * A prefetch refused as busy has users (a reference, interfaces of its
		 * kind that hold none): it was used. */
		a->stats.unload_busy++;
		pml_dbg("unload %s: %s, later", act->module, strerror(-r));
		if (r == -EBUSY)
			pred_used(a, act->module, PML_VIA_BUSY, "unload refused: in use");
		pml_policy_observe(a->pol, &pev);
		return 0;
	}
	if (r == -ENOENT) {
		pev.kind = PML_POL_UNLOAD; /* gone by other hands */
		pml_policy_observe(a->pol, &pev);
		return 0;
	}
	for (size_t i = 0; i < res.n && i < PML_MOD_OP_MAX; i++) {
		const struct pml_mod_op *op = &res.mods[i];
		const struct pml_loaded *m = find_mod(a, op->name);

		if (!op->done && !op->err)
			continue;
		if (op->err == -EBUSY || op->err == -EAGAIN) {
			/* The kernel refused: a reference appeared since the check. */
			a->stats.unload_busy++;
			continue;
		}
		log_unload(a, act, cause, op, m ? m->bytes : -1);
		if (op->err) {
			a->stats.unload_failed++;
			continue;
		}
		removed++;
		a->stats.unloads++;
		pev.kind = PML_POL_UNLOAD;
		pev.module = op->name;
		pml_policy_observe(a->pol, &pev);
	}
	if (r < 0 && !res.n) {
		struct pml_event_rec rec;
		char reason[160];

		a->stats.unload_failed++;
		pml_event_rec_init(&rec, PML_EV_FAIL);
		rec.module = act->module;
		rec.cause = cause;
		rec.err = r;
		snprintf(reason, sizeof(reason), "unload: %s", act->reason);
		rec.reason = reason;
		append(a, &rec);
		pml_err("unload %s: %s", act->module, strerror(-r));
	}
	if (r < 0) {
		pev.kind = PML_POL_BUSY; /* retry after T, not every tick */
		pev.module = act->module;
		pml_policy_observe(a->pol, &pev);
	}
	return removed;
}

/* Log a resource decision: every grant, refusal and eviction plan is a record. */
static void log_decision(struct pml_agent *a, const char *module, const char *why,
			 double confidence, const struct pml_res_decision *d)
{
	struct pml_event_rec rec;
	char reason[400];
	const char *word = d->verdict == PML_RES_REFUSE ? "refuse" :
			   d->verdict == PML_RES_GRANT_AFTER_EVICT ? "grant after evicting" :
			   "grant";

	pml_event_rec_init(&rec, PML_EV_RESOURCE);
	rec.module = module;
	rec.confidence = confidence;
	rec.bytes = d->bytes;
	rec.priority = d->priority;
	rec.verdict = d->verdict == PML_RES_REFUSE	     ? PML_VERDICT_REFUSE
		      : d->verdict == PML_RES_GRANT_AFTER_EVICT ? PML_VERDICT_EVICT
								: PML_VERDICT_GRANT;
	if (d->verdict == PML_RES_REFUSE)
		rec.refusal = pml_res_refusal_name(d->refusal);
	if (d->verdict == PML_RES_REFUSE)
		snprintf(reason, sizeof(reason), "resource: refuse %s (%s, priority %.3f): %s; %s",
			 module, pml_res_refusal_name(d->refusal), d->priority, d->reason, why);
	else
		snprintf(reason, sizeof(reason), "resource: %s %s%s (priority %.3f): %s; %s", word,
			 module, d->present ? " (already there)" : "", d->priority, d->reason,
			 why);
	rec.reason = reason;
	append(a, &rec);
}

/* The bytes a load of act->module would add: the module and every dependency (softdeps
 * included) not loaded yet, from the loader's plan, each sized by the action's figure, the
 * needs model's (both measured sizes), else the loader's upper estimate from the .ko file
 * (lstm gives no sizes: counting 64 KiB for bridge's 320 let predictions pass a 1 MiB
 * budget by 13%), else 64 KiB. The budget holds for the whole closure, not the module alone
 * (nft_chain_nat is 16 KiB, with nf_conntrack and nf_nat 256 KiB more). -1 when the plan
 * fails (the manager then uses its own estimate). */
static int64_t plan_bytes(struct pml_agent *a, const struct pml_action *act)
{
	struct pml_op_result plan;
	int64_t total = 0;

	if (pml_loader_load(a->ld, act->module, PML_LOAD_DRY_RUN, &plan) < 0)
		return act->bytes > 0 ? act->bytes : -1;
	for (size_t i = 0; i < plan.n && i < PML_MOD_OP_MAX; i++) {
		int64_t b = -1;
		double ms;

		if (!plan.mods[i].done)
			continue;
		if (!strcmp(plan.mods[i].name, act->module) && act->bytes > 0)
			b = act->bytes;
		else if (a->cfg.needs_model)
			pml_needs_model_cost(a->cfg.needs_model, plan.mods[i].name, &b, &ms);
		if (b <= 0)
			b = pml_loader_estimate_bytes(a->ld, plan.mods[i].name);
		total += b > 0 ? b : 64 * 1024;
	}
	return total > 0 ? total : (act->bytes > 0 ? act->bytes : -1);
}

/* ---- the live backend of the negotiation driver (policy/driver.h): the loop's loader
 * plans and evicts, the load worker inserts ---- */

static bool live_busy(void *be, const char *module)
{
	struct pml_agent *a = be;

	return a->worker && pml_worker_has(a->worker, module);
}

static void live_cost(void *be, const struct pml_action *act, int64_t *ret_bytes,
		      double *ret_load_ms)
{
	*ret_bytes = plan_bytes(be, act);
	*ret_load_ms = act->load_ms > 0 ? act->load_ms : -1;
}

static int live_plan(void *be, const char *module, char (*names)[64], size_t max)
{
	struct pml_agent *a = be;
	struct pml_op_result *plan = calloc(1, sizeof(*plan));
	size_t n = 0;
	int r;

	if (!plan)
		return -ENOMEM;
	r = pml_loader_load(a->ld, module, PML_LOAD_DRY_RUN | PML_LOAD_PLAN_ALL, plan);
	for (size_t i = 0; r >= 0 && i < plan->n && i < PML_MOD_OP_MAX && n < max; i++)
		snprintf(names[n++], 64, "%s", plan->mods[i].name);
	free(plan);
	return r < 0 ? r : (int)n;
}

static int live_evict(void *be, const char *module, const struct pml_action *want)
{
	struct pml_action ev = {.kind = PML_ACT_UNLOAD, .confidence = -1};

	snprintf(ev.module, sizeof(ev.module), "%s", module);
	snprintf(ev.reason, sizeof(ev.reason), "evict: for %.40s (%.40s)", want->module,
		 want->reason);
	return do_unload(be, &ev, PML_CAUSE_EVICT);
}

static int live_refcnt(void *be, const char *module)
{
	return pml_loader_refcnt(((struct pml_agent *)be)->ld, module);
}

static int live_submit(void *be, const struct pml_action *act)
{
	struct pml_agent *a = be;
	struct pml_load_job job = {0};
	int r;

	if (!a->worker)
		return -ENODEV;
	snprintf(job.module, sizeof(job.module), "%s", act->module);
	snprintf(job.reason, sizeof(job.reason), "%s", act->reason);
	job.confidence = act->confidence;
	/* Every load a policy asks for is a prediction; the API's are asked by others. */
	job.cause = a->api_load ? PML_CAUSE_API : PML_CAUSE_PREFETCH;
	job.t_submit_ns = pml_now_ns();
	/* Watched before the worker can insert it: a use right after is seen too. */
	if (!pml_worker_has(a->worker, act->module) && pred_expect(a, act->module))
		watch_sync(a);
	r = pml_worker_submit(a->worker, &job);
	if (r < 0) {
		struct predicted *p = pred_find(a, act->module);

		if (p && !p->loaded && r != -EEXIST)
			pred_drop(a, act->module);
	}
	return r;
}

static void live_decided(void *be, const struct pml_action *act,
			 const struct pml_res_decision *d)
{
	log_decision(be, act->module, act->reason, act->confidence, d);
}

static const struct pml_driver_ops live_ops = {
	.name = "live",
	.busy = live_busy,
	.cost = live_cost,
	.plan = live_plan,
	.evict = live_evict,
	.refcnt = live_refcnt,
	.submit = live_submit,
	.decided = live_decided,
};

/* Count what the driver did with a load, and say why one was not made. */
static void drove(struct pml_agent *a, const struct pml_action *act,
		  const struct pml_drive_result *res)
{
	a->stats.evictions += res->evicted;
	switch (res->outcome) {
	case PML_DRIVE_KEEPS_DEP:
		pml_agent_info(a, "resource: %s not loaded: making room would evict %s, "
			       "which it loads with", act->module, res->kept);
		break;
	case PML_DRIVE_EVICT_REFUSED:
		pml_agent_info(a, "resource: %s not loaded: evicting %s was refused (in use)",
			       act->module, res->kept);
		break;
	case PML_DRIVE_NOT_QUEUED:
		if (res->err == -ENODEV)
			pml_agent_info(a, "no load worker: %s not loaded", act->module);
		else
			pml_agent_error(a, res->err, "load worker: cannot queue %s: %s",
					act->module, strerror(-res->err));
		break;
	default:
		break;
	}
}

/* A load a policy asked for: a PREDICTION request to the manager, then carried out. */
static void do_load(struct pml_agent *a, const struct pml_action *act)
{
	struct pml_drive_result res;

	a->stats.predictions++;
	if (pml_driver_load(&a->drv, act, &res) < 0)
		return;
	if (res.outcome == PML_DRIVE_REFUSED)
		a->stats.refused++; /* the policy was told: it may ask again */
	drove(a, act, &res);
}

static void on_api_request(void *data, const struct pml_res_request *req,
			   const struct pml_res_decision *d)
{
	struct pml_agent *a = data;
	struct pml_action act = {.kind = PML_ACT_LOAD, .confidence = req->confidence};
	struct pml_drive_result res;

	snprintf(act.module, sizeof(act.module), "%s", req->module);
	snprintf(act.reason, sizeof(act.reason), "api: %s request", pml_res_kind_name(req->kind));
	log_decision(a, act.module, act.reason, act.confidence, d);
	a->api_load = true;
	pml_driver_carry_out(&a->drv, &act, d, &res);
	a->api_load = false;
	drove(a, &act, &res);
}

/* Tell the manager what the kernel shows: sizes, refcounts, modules gone or loaded by
 * others; and mark prefetched modules in use. */
static void sync_resource(struct pml_agent *a)
{
	struct pml_res_loaded *l = calloc(a->n_mods ? a->n_mods : 1, sizeof(*l));

	for (size_t i = 0; i < a->n_pred; i++) {
		const struct pml_loaded *m = find_mod(a, a->pred[i].name);
		char how[64];

		if (!m || a->pred[i].used || (m->refcnt <= 0 && m->n_holders <= 0))
			continue;
		snprintf(how, sizeof(how), "refcount %d, %d holders", m->refcnt, m->n_holders);
		pred_used(a, a->pred[i].name, PML_VIA_REFCOUNT, how);
	}
	if (!l)
		return;
	for (size_t i = 0; i < a->n_mods; i++) {
		l[i].name = a->mods[i].name;
		l[i].bytes = a->mods[i].bytes;
		l[i].refcnt = a->mods[i].refcnt + a->mods[i].n_holders;
	}
	pml_resource_sync(a->res, l, a->n_mods);
	free(l);
}

/* Read the module set, ask the policy, carry out its unloads and loads. Returns the
 * number of modules removed, or -errno when the module set cannot be read. */
static int act_on(struct pml_agent *a, bool tick, bool fresh)
{
	struct pml_action acts[ACTIONS_MAX];
	int n, removed = 0;

	if (!a->pol->ops->decide)
		return 0;
	n = fresh ? refresh(a) : (int)a->n_mods;
	if (n < 0) {
		if (!a->list_failing)
			pml_agent_error(a, n, "cannot list the loaded modules (/proc/modules): "
					"%s; no idle checks until it can", strerror(-n));
		a->list_failing = true;
		return n;
	}
	if (a->list_failing)
		pml_agent_info(a, "the module list reads again");
	a->list_failing = false;
	if (tick)
		sync_resource(a);
	n = pml_policy_decide(a->pol, a->mods, a->n_mods, acts, ACTIONS_MAX);
	if (n < 0) {
		pml_agent_error(a, n, "policy %s: %s", a->pol->ops->name, strerror(-n));
		return 0;
	}
	/* Loads first: the program may be about to need them; an unload can wait. */
	for (int i = 0; i < n; i++)
		if (acts[i].kind == PML_ACT_LOAD)
			do_load(a, &acts[i]);
	for (int i = 0; i < n; i++)
		if (acts[i].kind == PML_ACT_UNLOAD)
			removed += do_unload(a, &acts[i], PML_CAUSE_POLICY);
	return removed;
}

static int act(struct pml_agent *a, bool tick)
{
	return act_on(a, tick, true);
}

int pml_agent_tick(struct pml_agent *a)
{
	a->stats.ticks++;
	if (a->worker && a->n_misses && now(a) - a->miss_since > MISS_HOLD_MAX_NS)
		misses_clear(a);
	return act(a, true);
}

int pml_agent_collect(struct pml_agent *a)
{
	struct pml_load_done done[16];
	int loaded = 0;
	size_t n;

	if (!a->worker)
		return 0;
	while ((n = pml_worker_collect(a->worker, done, 16)) > 0) {
		for (size_t i = 0; i < n; i++) {
			const struct pml_load_done *d = &done[i];
			bool main_done = false;

			for (size_t k = 0; k < d->res.n && k < PML_MOD_OP_MAX; k++) {
				const struct pml_mod_op *op = &d->res.mods[k];
				struct pml_event_rec rec;
				struct pml_pol_event pev = {.kind = PML_POL_LOAD, .t_ns = now(a),
							    .module = op->name, .bytes = op->bytes,
							    .predicted = true};
				char reason[200];
				bool is_main = !strcmp(op->name, d->job.module);

				if (!op->done && !op->err)
					continue;
				pml_event_rec_init(&rec, op->err ? PML_EV_FAIL : PML_EV_LOAD);
				rec.module = op->name;
				rec.bytes = op->bytes;
				rec.ms = op->ms;
				rec.err = op->err;
				rec.confidence = d->job.confidence;
				/* Only the module predicted is of cause prefetch: the report
				 * counts those (and as wasted when unused). */
				rec.cause = is_main ? d->job.cause : PML_CAUSE_DEPENDENCY;
				if (is_main)
					snprintf(reason, sizeof(reason), "%s%s",
						 op->err ? "load: " : "", d->job.reason);
				else
					snprintf(reason, sizeof(reason), "%sdependency of %s, %s",
						 op->err ? "load: " : "", d->job.module,
						 d->job.reason);
				rec.reason = reason;
				append(a, &rec);
				if (op->err) {
					a->stats.load_failed++;
					continue;
				}
				loaded++;
				a->stats.prefetched++;
				pml_resource_loaded(a->res, op->name, op->bytes, 0);
				pml_policy_observe(a->pol, &pev);
				if (is_main) {
					pred_add(a, op->name);
					main_done = true;
				}
			}
			if (d->err < 0 && !main_done) {
				struct pml_pol_event pev = {.kind = PML_POL_UNLOAD, .t_ns = now(a),
							    .module = d->job.module, .bytes = -1};

				if (!d->res.n) {
					struct pml_event_rec rec;
					char reason[200];

					pml_event_rec_init(&rec, PML_EV_FAIL);
					rec.module = d->job.module;
					rec.cause = d->job.cause;
					rec.err = d->err;
					rec.confidence = d->job.confidence;
					snprintf(reason, sizeof(reason), "load: %s", d->job.reason);
					rec.reason = reason;
					append(a, &rec);
					a->stats.load_failed++;
				}
				pml_resource_release(a->res, d->job.module);
				pml_policy_observe(a->pol, &pev);
			} else if (!main_done) {
				/* Already loaded (by the shim, on a need that came first). */
				pml_resource_loaded(a->res, d->job.module, -1, 0);
			}
			if (!main_done) {
				struct predicted *p = pred_find(a, d->job.module);

				if (p && !p->loaded) /* no prefetch after all */
					pred_drop(a, d->job.module);
			}
		}
	}
	watch_sync(a);
	return loaded;
}

int pml_agent_wait_idle(struct pml_agent *a, int timeout_ms)
{
	uint64_t end = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int total = 0;

	if (!a->worker)
		return 0;
	while (pml_worker_busy(a->worker)) {
		int got = pml_agent_collect(a);

		total += got;
		if (got > 0)
			continue;
		if (pml_now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return total + pml_agent_collect(a);
}

struct pml_resource *pml_agent_resource(struct pml_agent *a)
{
	return a->res;
}

/* Drain the source. Returns 0, or -errno when it failed (the caller drops it). */
static int drain(struct pml_agent *a, struct pml_source *src)
{
	struct pml_kevent evs[EVENTS_BATCH];
	int n;

	do {
		n = pml_source_read(src, evs, EVENTS_BATCH);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			pml_agent_handle(a, &evs[i]);
	} while (n == EVENTS_BATCH);
	if (src->lost > a->lost_logged) {
		pml_agent_error(a, -ENOBUFS, "%s: the kernel dropped %llu events",
				src->ops->name, (unsigned long long)(src->lost - a->lost_logged));
		a->lost_logged = src->lost;
	}
	if (src->malformed > a->malformed_logged) {
		pml_agent_error(a, -EBADMSG, "%s: %llu lines could not be parsed",
				src->ops->name,
				(unsigned long long)(src->malformed - a->malformed_logged));
		a->malformed_logged = src->malformed;
	}
	return 0;
}

int pml_agent_start_tracer(struct pml_agent *a)
{
	struct pml_tracer_config tcfg = {
		.flags = PML_TRACER_NO_SAMPLES | PML_TRACER_NO_FAULTS | PML_TRACER_NO_OBJECTS,
		.root_pid = a->cfg.trace_root,
		.cgroup_id = a->cfg.trace_cgroup,
		.cgroup_level = a->cfg.trace_cgroup_level,
		.ringbuf_bytes = TRACE_RINGBUF_BYTES,
		/* The records only reach the policy's features (a policy that reads the trace:
		 * lstm), which collapse plain system calls: the kernel leaves out what they
		 * would drop (tracer.h). */
		.plain_once = true,
	};
	int r;

	if (a->cfg.trace_root <= 0 || a->tracer)
		return 0;
	pml_features_ubiquitous_mask(tcfg.plain_drop);
	r = pml_tracer_open(&tcfg, on_trace_record, a, &a->tracer);
	if (r < 0) {
		pml_agent_error(a, r, "tracer: cannot follow pid %d: %s; the policy sees needs "
				"only", a->cfg.trace_root, strerror(-r));
		a->tracer = NULL;
		return r;
	}
	if (a->cfg.trace_cgroup)
		pml_agent_info(a, "tracer: following the processes of cgroup %llu",
			       (unsigned long long)a->cfg.trace_cgroup);
	else
		pml_agent_info(a, "tracer: following the process tree of pid %d",
			       a->cfg.trace_root);
	return 0;
}

/* The tracer's drain timer in the loop. Returns its descriptor, or -1 (logged; the
 * tracer is then dropped: the policy works from needs alone, as markov does). */
static int start_trace_timer(struct pml_agent *a, int ep, uint32_t tag)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
	unsigned ms = a->cfg.trace_ms ? a->cfg.trace_ms : 20;
	int fd;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pml_agent_error(a, -errno, "tracer: timer: %s; the policy sees needs only",
				strerror(errno));
		if (fd >= 0)
			close(fd);
		pml_tracer_free(a->tracer);
		a->tracer = NULL;
		return -1;
	}
	pml_dbg("tracer: drained every %u ms", ms);
	return fd;
}

void pml_agent_attach_source(struct pml_agent *a, struct pml_source *src)
{
	a->src = src;
	a->watch_off = false;
	a->watch_dirty = true;
	watch_sync(a);
}

int pml_agent_run(struct pml_agent *a, struct pml_source *src, int stop_fd)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {0};
	int ep, tfd = -1, trfd = -1, r = 0;
	enum { TAG_STOP, TAG_TIMER, TAG_SOURCE, TAG_WORKER, TAG_SERVER, TAG_TRACE, TAG_PRIOR };

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		r = -errno;
		pml_agent_error(a, r, "epoll_create1: %s", strerror(-r));
		return r;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0) {
		r = -errno;
		pml_agent_error(a, r, "timerfd_create: %s", strerror(-r));
		goto out;
	}
	its.it_interval.tv_sec = a->cfg.tick_ms / 1000;
	its.it_interval.tv_nsec = (long)(a->cfg.tick_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(tfd, 0, &its, NULL) < 0) {
		r = -errno;
		pml_agent_error(a, r, "timerfd_settime: %s", strerror(-r));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = TAG_STOP;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &ev) < 0) {
		r = -errno;
		pml_agent_error(a, r, "epoll_ctl(stop fd %d): %s", stop_fd, strerror(-r));
		goto out;
	}
	ev.data.u32 = TAG_TIMER;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0) {
		r = -errno;
		pml_agent_error(a, r, "epoll_ctl(timerfd): %s", strerror(-r));
		goto out;
	}
	if (src && pml_source_fd(src) >= 0) {
		ev.data.u32 = TAG_SOURCE;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pml_source_fd(src), &ev) < 0) {
			pml_agent_error(a, -errno, "%s: cannot poll: %s; reading it every tick",
					src->ops->name, strerror(errno));
		}
	}
	if (a->worker) {
		ev.data.u32 = TAG_WORKER;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pml_worker_fd(a->worker), &ev) < 0)
			pml_agent_error(a, -errno, "load worker: cannot poll: %s; collecting "
					"every tick", strerror(errno));
	}
	if (a->srv) {
		ev.data.u32 = TAG_SERVER;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pml_resource_server_fd(a->srv), &ev) < 0)
			pml_agent_error(a, -errno, "resource API: cannot poll: %s",
					strerror(errno));
	}
	if (a->cfg.prior_file && a->cfg.prior_fd >= 0) {
		ev.data.u32 = TAG_PRIOR;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, a->cfg.prior_fd, &ev) < 0)
			pml_agent_error(a, -errno, "prior: cannot poll: %s", strerror(errno));
	}
	if (a->cfg.trace_root > 0 && !a->tracer)
		pml_agent_start_tracer(a);
	if (a->tracer)
		trfd = start_trace_timer(a, ep, TAG_TRACE);
	pml_agent_attach_source(a, src);
	for (;;) {
		struct epoll_event evs[8];
		bool stop = false, tick = false, readable = false, done = false, api = false;
		bool trace = false;
		int n = epoll_wait(ep, evs, 8, -1);
		double since = thread_cpu_ms();

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			pml_agent_error(a, r, "epoll_wait: %s", strerror(-r));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == TAG_STOP)
				stop = true;
			else if (evs[i].data.u32 == TAG_TIMER)
				tick = true;
			else if (evs[i].data.u32 == TAG_WORKER)
				done = true;
			else if (evs[i].data.u32 == TAG_SERVER)
				api = true;
			else if (evs[i].data.u32 == TAG_TRACE)
				trace = true;
			else if (evs[i].data.u32 == TAG_PRIOR) {
				account(a, PART_TRACE, &since); /* the wake-up, before the prior */
				read_prior(a);
				account(a, PART_PRIOR, &since);
			} else
				readable = true;
		}
		/* The program's behaviour: the records that announce needs come first. */
		if ((trace || stop) && a->tracer) {
			uint64_t expirations;

			if (read(trfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				pml_dbg("timerfd read: %s", strerror(errno));
			drain_trace(a, stop);
			account(a, PART_TRACE, &since);
		}
		/* Finished loads first: the policy and the manager must know what is loaded
		 * before they judge the next event. */
		if (done || tick || stop) {
			pml_agent_collect(a);
			account(a, PART_COLLECT, &since);
		}
		/* Events first, so the policy sees loads before it judges idleness; and on
		 * every tick too, in case a wakeup was lost (6.1's trace_pipe poll). */
		if (src && (readable || tick || stop)) {
			int d = drain(a, src);

			if (d < 0) {
				pml_agent_error(a, d, "%s: read failed (%s); continuing without "
						"kernel events", src->ops->name, strerror(-d));
				if (pml_source_fd(src) >= 0)
					epoll_ctl(ep, EPOLL_CTL_DEL, pml_source_fd(src), NULL);
				src = NULL;
				a->src = NULL;
			}
			account(a, PART_EVENTS, &since);
		}
		if (api) {
			pml_resource_server_handle(a->srv);
			account(a, PART_API, &since);
		}
		if (stop)
			break;
		if (tick) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				pml_dbg("timerfd read: %s", strerror(errno));
			pml_agent_tick(a);
			account(a, PART_TICK, &since);
		}
		watch_sync(a);
		account(a, PART_EVENTS, &since);
	}
out:
	a->src = NULL;
	if (a->tracer) {
		pml_agent_info(a, "tracer: %llu records of the program told to the policy, %llu "
			       "dropped, %llu before the job's prior (the guest's set-up)",
			       (unsigned long long)a->stats.trace_records,
			       (unsigned long long)a->stats.trace_dropped,
			       (unsigned long long)a->stats.trace_before_prior);
		pml_tracer_free(a->tracer);
		a->tracer = NULL;
	}
	if (trfd >= 0)
		close(trfd);
	if (tfd >= 0)
		close(tfd);
	close(ep);
	return r;
}

int pml_agent_stop(struct pml_agent *a)
{
	struct pml_event_rec rec;
	struct rusage ru;
	char reason[1000], job[128] = "", peak[160] = "", parts[256] = "";
	double cpu_ms = -1, worker_ms;
	int64_t rss = -1, anon, file;
	int r;

	cpu_ms = self_cpu_ms();
	worker_ms = a->worker ? other_threads_cpu_ms() : -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		rss = (int64_t)ru.ru_maxrss * 1024;
	/* In a guest restored from a snapshot, what pmld did before its job was paid once,
	 * in the template: the record's ms is the CPU since the job started (its prior). */
	if (a->prior_seen && cpu_ms >= 0 && a->cpu_at_prior_ms >= 0) {
		/* the load worker's part: the kernel inserting prefetched modules, work that a
		 * modprobe process does for a need under reactive */
		if (worker_ms >= 0 && a->worker_at_prior_ms >= 0)
			snprintf(job, sizeof(job), " (%.1f ms since the job started, %.1f ms of it "
				 "the load worker's)", cpu_ms - a->cpu_at_prior_ms,
				 worker_ms - a->worker_at_prior_ms);
		else
			snprintf(job, sizeof(job), " (%.1f ms since the job started)",
				 cpu_ms - a->cpu_at_prior_ms);
	}
	/* Likewise the peak RSS (reset at the prior: pml_agent_set_prior); and what is
	 * resident at the end, pmld's own memory apart from the mapped files (its binary, the
	 * libraries, the model file, libkmod's indexes: page cache, shared). */
	rss_parts(&anon, &file);
	if (a->hwm_before_job >= 0 && rss >= 0)
		snprintf(peak, sizeof(peak), " since the job started (%lld KiB since pmld started)",
			 (long long)((rss > a->hwm_before_job ? rss : a->hwm_before_job) / 1024));
	if (anon >= 0 && file >= 0)
		snprintf(peak + strlen(peak), sizeof(peak) - strlen(peak),
			 ", %lld KiB anonymous and %lld KiB file-backed at the end", (long long)anon,
			 (long long)file);
	for (int p = 0, n = 0; p < PART_N && n >= 0 && (size_t)n < sizeof(parts); p++)
		n += snprintf(parts + n, sizeof(parts) - (size_t)n, "%s %s %.1f ms",
			      p ? "," : "; the main thread's", part_names[p], a->part_ms[p]);
	snprintf(reason, sizeof(reason),
		 "stop: cpu %.1f ms%s%s, max RSS %lld KiB%s; %llu events, %llu ticks, %llu unloaded, "
		 "%llu refused, %llu failed; %llu predictions, %llu refused by the manager, "
		 "%llu prefetched, %llu used, %llu load failures, %llu evictions; %llu "
		 "references seen, %llu interfaces made, the watch set written %llu times (%.1f ms, "
		 "%.1f ms CPU)",
		 cpu_ms, job, parts, (long long)(rss / 1024), peak,
		 (unsigned long long)a->stats.events, (unsigned long long)a->stats.ticks,
		 (unsigned long long)a->stats.unloads, (unsigned long long)a->stats.unload_busy,
		 (unsigned long long)a->stats.unload_failed,
		 (unsigned long long)a->stats.predictions, (unsigned long long)a->stats.refused,
		 (unsigned long long)a->stats.prefetched, (unsigned long long)a->stats.used,
		 (unsigned long long)a->stats.load_failed,
		 (unsigned long long)a->stats.evictions, (unsigned long long)a->stats.gets,
		 (unsigned long long)a->stats.netdevs,
		 (unsigned long long)a->stats.watch_writes, a->watch_ms, a->watch_cpu_ms);
	pml_event_rec_init(&rec, PML_EV_STOP);
	rec.reason = reason;
	rec.ms = job[0] ? cpu_ms - a->cpu_at_prior_ms : cpu_ms;
	rec.bytes = rss;
	/* The worker's part, counted from where ms is (none when only its total is known). */
	if (worker_ms >= 0 && !job[0])
		rec.worker_ms = worker_ms;
	else if (worker_ms >= 0 && a->worker_at_prior_ms >= 0)
		rec.worker_ms = worker_ms - a->worker_at_prior_ms;
	r = append(a, &rec);
	pml_info("%s", reason);
	if (fdatasync(a->log_fd) < 0 && errno != EINVAL && errno != EROFS && !r)
		r = -errno;
	return r;
}
