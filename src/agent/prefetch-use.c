/* The prefetches watched until used: a module the worker loads for a prediction is
 * followed from its queueing on, the source told to report its references (the watch set),
 * and its first use, however it is seen (a reference, a request, an interface, a refused
 * unload, the tick's refcount), is said once in a used record and told to the policy as
 * the need it is. The report counts the prefetches never used as wasted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-priv.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/modname.h"
#include "util/timeutil.h"

struct predicted *agent_pred_find(struct pml_agent *a, const char *name)
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
struct predicted *agent_pred_expect(struct pml_agent *a, const char *name)
{
	struct predicted *p = agent_pred_find(a, name);

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

/* The worker loaded a predicted module (its load record is written): a use seen while
 * it was in flight is reported now, after the load in the log. */
void agent_pred_add(struct pml_agent *a, const char *name)
{
	struct predicted *p = agent_pred_expect(a, name);

	if (!p || p->loaded)
		return;
	p->loaded = true;
	if (p->early[0]) {
		char how[sizeof(p->early)];

		memcpy(how, p->early, sizeof(how));
		agent_pred_used(a, p->name, p->early_via, how);
	}
}

void agent_pred_drop(struct pml_agent *a, const char *name)
{
	struct predicted *p = agent_pred_find(a, name);

	if (!p)
		return;
	if (!p->used)
		a->watch_dirty = true;
	*p = a->pred[--a->n_pred];
}

/* The watch set could not be written (r < 0): uses show at the tick from now on. */
static void watch_failed(struct pml_agent *a, int r, size_t n)
{
	a->watch_off = true;
	if (r == -EOPNOTSUPP || r == -ENODEV) {
		pml_agent_info(a, "%s: no module references (module:module_get): a use of a "
			       "prefetch shows only at the tick (refcount) or by a request",
			       a->src->ops->name);
		return;
	}
	pml_agent_error(a, r, "%s: cannot watch the references of %zu prefetches: %s; "
			"uses show only at the tick from now on", a->src->ops->name, n,
			strerror(-r));
}

/* Tell the source which modules' references to report: the prefetches not seen used
 * (queued or loaded), once per change of that set. With a load worker, the set is handed
 * to it and its thread writes it (worker.h: before the insert of a module the filter does
 * not hold yet, else when it has nothing to load), so the loop never waits the kernel's
 * ~20-30 ms per write. A source that cannot (no module_get in the kernel, no source) is
 * said once; the tick's refcount sample is then all. */
void agent_watch_sync(struct pml_agent *a)
{
	char (*names)[64];
	size_t n = 0;
	uint64_t t0;
	double c0;
	int r;

	if (!a->src || a->watch_off)
		return;
	if (a->worker) {
		struct pml_worker_watch_stats ws;

		pml_worker_watch_stats(a->worker, &ws);
		if (ws.err < 0) {
			pml_worker_set_watch(a->worker, NULL, NULL);
			watch_failed(a, ws.err, ws.asked);
			return;
		}
	}
	if (!a->watch_dirty)
		return;
	names = calloc(a->n_pred ? a->n_pred : 1, sizeof(*names));
	if (!names)
		return;
	for (size_t i = 0; i < a->n_pred; i++)
		if (!a->pred[i].used)
			memcpy(names[n++], a->pred[i].name, sizeof(names[0]));
	t0 = pml_now_ns();
	c0 = agent_thread_cpu_ms();
	if (a->worker)
		r = pml_worker_watch(a->worker, (const char(*)[64])names, n);
	else
		r = pml_source_watch(a->src, (const char(*)[64])names, n);
	a->watch_cpu_ms += agent_thread_cpu_ms() - c0;
	a->watch_ms += (double)(pml_now_ns() - t0) / 1e6;
	pml_dbg("%s: watching %zu modules: %d (%.1f ms)", a->src->ops->name, n, r,
		(double)(pml_now_ns() - t0) / 1e6);
	a->stats.watch_writes++;
	free(names);
	if (r < 0) {
		if (a->worker && r == -ENOMEM)
			return; /* still dirty: handed over at the next sync */
		watch_failed(a, r, n);
		return;
	}
	if (!a->worker && (size_t)r < n)
		pml_dbg("%s: watching %d of %zu prefetches (the filter is full)",
			a->src->ops->name, r, n);
	a->watch_dirty = false;
}

/* A prefetched module was used: say so once (the report's wasted loads are the others).
 * Before its load record is written (a use while the worker was inserting it, seen
 * first), the use waits for it (pred_add). */
void agent_pred_used(struct pml_agent *a, const char *name, enum pml_event_via via,
		     const char *how)
{
	struct predicted *p = agent_pred_find(a, name);
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
	agent_append(a, &rec);
	/* A hit makes no request: the first use is the need the policy learns from (markov
	 * chains on it: what follows this module). */
	struct pml_pol_event pev = {.kind = PML_POL_NEED, .t_ns = agent_now(a), .module = p->name,
				    .bytes = -1};

	pml_policy_observe(a->pol, &pev);
}

/* The worker's writes of the watch set go to the source (worker.h's watch_fn). */
static int source_watch(void *data, const char (*names)[64], size_t n)
{
	return pml_source_watch(data, names, n);
}

void pml_agent_attach_source(struct pml_agent *a, struct pml_source *src)
{
	/* The worker stops writing to the source it had (after a write in progress) before
	 * that one may be freed. */
	if (a->worker)
		pml_worker_set_watch(a->worker, src ? source_watch : NULL, src);
	a->src = src;
	a->watch_off = false;
	a->watch_dirty = true;
	agent_watch_sync(a);
}
