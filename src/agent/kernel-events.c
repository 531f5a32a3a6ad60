/* The kernel's events as a source (source.h) hands them to pmld: a request, load or free
 * becomes a record (source "tracefs") and the policy's observation, and decides at once; a
 * reference taken on a watched prefetch or an interface made with a module's setup
 * function is a use of it; the misses a program waits on hold the load worker. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "resource/resource.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/modname.h"

#define EVENTS_BATCH 64

void agent_misses_clear(struct pml_agent *a)
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
		if (n_names <= 0 || agent_refresh(a) < 0)
			return false;
		for (int i = 0; i < n_names && a->n_misses < RESOLVE_MAX; i++) {
			if (agent_find_mod(a, names[i]) || pml_worker_has(a->worker, names[i]))
				continue;
			pml_module_name_normalize(names[i], a->misses[a->n_misses++]);
		}
		if (a->n_misses) {
			a->miss_since = agent_now(a);
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
		agent_misses_clear(a);
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
		agent_pred_used(a, ev->name, PML_VIA_MODULE_GET, how);
		agent_watch_sync(a);
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
		agent_pred_used(a, ev->name, PML_VIA_NETDEV, how);
		agent_watch_sync(a);
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
		pev.pid = ev->pid > 0 ? (uint32_t)ev->pid : 0;
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
		listed = agent_refresh(a) >= 0;
		if (listed && (m = agent_find_mod(a, ev->name)))
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
		agent_pred_drop(a, ev->name);
		break;
	default:
		return 0;
	}
	rec.t_ns = ev->t_ns ? ev->t_ns : agent_now(a);
	rec.source = "tracefs";
	if (ev->kind != PML_KEV_REQUEST)
		rec.pid = ev->pid, rec.comm = ev->comm[0] ? ev->comm : NULL;
	r = agent_append(a, &rec);
	agent_queue_module_record(a, ev);
	if (a->worker && track_misses(a, ev, names, n_names))
		listed = true;
	if (ev->kind == PML_KEV_REQUEST && n_names > 0) {
		for (int i = 0; i < n_names; i++) {
			char how[128];

			pev.module = names[i];
			pml_policy_observe(a->pol, &pev);
			snprintf(how, sizeof(how), "requested %.100s", ev->name);
			agent_pred_used(a, names[i], PML_VIA_REQUEST, how);
		}
	} else {
		pml_policy_observe(a->pol, &pev);
	}
	/* A prediction is worth most right after its trigger: decide now, not at the tick,
	 * on the module list just read for the event when it was (each read is /proc/modules
	 * and every module's holders in sysfs: 0.3 ms under TCG, twice per load before). */
	if (a->worker && !a->draining &&
	    (ev->kind == PML_KEV_REQUEST || ev->kind == PML_KEV_LOAD))
		agent_act_on(a, false, !listed);
	agent_watch_sync(a);
	return r;
}

/* Drain the source. Returns 0, or -errno when it failed (the caller drops it). */
int agent_drain_source(struct pml_agent *a, struct pml_source *src)
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
