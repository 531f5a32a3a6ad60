/* The idle-unload policy (reactive+idle-unload): loads stay reactive, and a module that has
 * sat unused for T seconds is unloaded.
 *
 * "Unused" is approximated by the only cheap signal the kernel offers: the module's
 * reference count in /proc/modules. A module at refcount 0 with no module holding it could
 * be removed right now without breaking anything (the kernel refuses otherwise), so the
 * question is only whether it will be needed again soon. Lacking a prediction, we do what a
 * cache does without one: we assume the recent past repeats, and evict what has not been
 * touched for T seconds (an LRU with a time-to-live instead of a size bound).
 *
 * The approximation is sampled: the driver calls decide() every tick (the agent every
 * 250 ms) with fresh refcounts, and a module is "idle since" the first tick that saw it at
 * refcount 0 after it was last seen in use, or since its load, its last need or the
 * kernel's last request for it when we were told of one. A use that begins and ends between two ticks (a socket opened and closed
 * within 250 ms) is invisible, so such a module may go while it is still warm and its
 * next use stalls again: idle-unload trades stalls for footprint, and T sets the price.
 * Modules with holders are never candidates themselves; they become candidates when their
 * last holder goes (the agent also asks the loader to take unused dependencies along).
 *
 * A refused unload (-EBUSY: a reference appeared between the tick and the unload, the
 * module has no exit function, or interfaces of its kind exist, which hold no reference:
 * loader/netdev-use.c) restarts the module's idle time, and each further refusal in a row
 * doubles the wait (T, 2T, 4T ... up to 16T): a module kept for what it serves is not
 * asked for every T, and each ask may cost a look into every network namespace. A use, a
 * load or a time in use starts the count again.
 *
 * A module the kernel asks for again after its first need is wanted by a caller that
 * retries, and such a caller may hold no reference in between: nf_tables asks for every
 * expression's module each time it replays a transaction (after each autoload) and pins
 * none until the commit, and as the ruleset's modules arrive, the replays come further
 * apart (0.6-1 s each in one `nft -f` of five modules, seen live, where a wait of T = 1 s
 * took nft_quota away mid-transaction). So each need after the first (a request, a use in
 * replay) doubles the module's wait, as a refusal does (2T, 4T ... up to 16T), for as long
 * as it stays loaded: what is asked for again and again is kept longer.
 *
 * And a module the kernel asked for on behalf of a process is not idle while that
 * process lives (its exit seen in the trace), up to 16T after the request: the replays of
 * one transaction are the same process, however far apart (live, one `nft -f` of a dozen
 * expressions had nft_objref and nft_reject taken away and asked for again four times at
 * T = 1 s with the doubling above). Only for a process of the program's trace (one whose
 * records reach the policy, so its exit will too: pmld traces the job; replay shows the
 * recorded one); a record lost, the hold ends at 16T, then the module waits T as any
 * other. A kernel thread is no such process: crypto's cryptomgr_probe asks for each
 * cipher's modules, and held to 16T they stayed loaded through the rest of a job that
 * used them for a second (live, cryptsetup benchmark's serpent, twofish and camellia). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util/modname.h"

/* The wait after the n-th refusal in a row is T << min(n - 1, REFUSED_SHIFT_MAX); after
 * the n-th time the kernel asked for the module while it was loaded, T << min(n,
 * REFUSED_SHIFT_MAX) (the larger of the two). */
#define REFUSED_SHIFT_MAX 4

struct idle_mod {
	char name[64];
	uint64_t idle_since; /* valid when !in_use */
	int refused;	     /* unloads refused in a row */
	int needs;	     /* needs of it since it was loaded, up to REFUSED_SHIFT_MAX + 1:
			      * those after the first are a caller retrying */
	bool in_use;
	bool seen;	     /* in the latest decide()'s module set */
	uint32_t holder;     /* the process the kernel last asked for it for, while alive */
	uint64_t held_until; /* the hold's bound, when the holder's exit is not seen */
};

/* At most this many live processes of the trace are known (more: no hold for the rest) */
#define TRACED_MAX 4096

struct idle_state {
	struct idle_mod *mods;
	size_t n, cap;
	/* the live processes the trace has shown, ascending: their exits will be seen */
	uint32_t *pids;
	size_t n_pids, cap_pids;
};

/* T, in ns. */
static uint64_t ttl_ns(const struct pml_policy *p)
{
	return (uint64_t)(p->cfg.idle_seconds * 1e9);
}

static struct idle_mod *find(struct idle_state *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (pml_module_name_eq(s->mods[i].name, name))
			return &s->mods[i];
	return NULL;
}

/* The state of name, created idle since t when new. NULL on allocation failure. */
static struct idle_mod *get(struct idle_state *s, const char *name, uint64_t t)
{
	struct idle_mod *m = find(s, name);

	if (m)
		return m;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct idle_mod *n = realloc(s->mods, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->mods = n;
		s->cap = cap;
	}
	m = &s->mods[s->n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->idle_since = t;
	return m;
}

static void drop(struct idle_state *s, struct idle_mod *m)
{
	*m = s->mods[--s->n];
}

static int idle_init(struct pml_policy *p)
{
	p->priv = calloc(1, sizeof(struct idle_state));
	return p->priv ? 0 : -ENOMEM;
}

static void idle_free(struct pml_policy *p)
{
	struct idle_state *s = p->priv;

	if (s) {
		free(s->mods);
		free(s->pids);
	}
	free(s);
}

/* Where pid is in s->pids, or where it would go; *found tells which. */
static size_t pid_at(const struct idle_state *s, uint32_t pid, bool *found)
{
	size_t lo = 0, hi = s->n_pids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_pids && s->pids[lo] == pid;
	return lo;
}

/* A record of pid came (it is alive and traced), or its exit (alive no more). */
static void pid_seen(struct idle_state *s, uint32_t pid, bool exited)
{
	bool found;
	size_t at = pid_at(s, pid, &found);

	if (exited && found) {
		s->n_pids--;
		memmove(s->pids + at, s->pids + at + 1, (s->n_pids - at) * sizeof(*s->pids));
		return;
	}
	if (exited || found || !pid || s->n_pids >= TRACED_MAX)
		return;
	if (s->n_pids == s->cap_pids) {
		size_t cap = s->cap_pids ? 2 * s->cap_pids : 64;
		uint32_t *n = realloc(s->pids, cap * sizeof(*n));

		if (!n)
			return; /* unknown: no hold for it */
		s->pids = n;
		s->cap_pids = cap;
	}
	memmove(s->pids + at + 1, s->pids + at, (s->n_pids - at) * sizeof(*s->pids));
	s->pids[at] = pid;
	s->n_pids++;
}

static bool pid_traced(const struct idle_state *s, uint32_t pid)
{
	bool found;

	pid_at(s, pid, &found);
	return found;
}

/* A process exited: what the kernel asked for for it is idle from now. */
static void holder_exit(struct idle_state *s, uint32_t pid, uint64_t t)
{
	for (size_t i = 0; i < s->n; i++) {
		struct idle_mod *m = &s->mods[i];

		if (!pid || m->holder != pid)
			continue;
		m->holder = 0;
		if (!m->in_use && m->idle_since < t)
			m->idle_since = t;
	}
}

static void idle_observe(struct pml_policy *p, const struct pml_pol_event *ev)
{
	struct idle_state *s = p->priv;
	struct idle_mod *m;

	if (ev->kind == PML_POL_TRACE) {
		if (!ev->tev)
			return;
		pid_seen(s, ev->tev->pid, ev->tev->kind == PML_TEV_EXIT);
		/* a forked process is traced from its birth (a thread: arg 1) */
		if (ev->tev->kind == PML_TEV_FORK && ev->tev->size >= sizeof(struct pml_tev_proc) &&
		    !((const struct pml_tev_proc *)ev->tev)->arg)
			pid_seen(s, ((const struct pml_tev_proc *)ev->tev)->other, false);
		if (ev->tev->kind == PML_TEV_EXIT)
			holder_exit(s, ev->tev->pid, ev->t_ns);
		return;
	}
	if (!ev->module)
		return;
	switch (ev->kind) {
	case PML_POL_LOAD:
	case PML_POL_NEED:
	case PML_POL_REQUEST:
	case PML_POL_USE:
	case PML_POL_BUSY:
		/* A fresh load, a use, or a refusal: the idle time starts again. A request
		 * the kernel made for a module already loaded is a use that no reference may
		 * show: nf_tables asks for every expression's module each time it replays a
		 * transaction (after each autoload), and holds none of them until the commit;
		 * one taken away in between fails the whole ruleset ("No such file or
		 * directory": seen live with nft_quota, 5 s into one `nft -f`). */
		m = get(s, ev->module, ev->t_ns);
		if (!m)
			break;
		if (ev->kind != PML_POL_LOAD && ev->kind != PML_POL_BUSY &&
		    m->needs <= REFUSED_SHIFT_MAX)
			m->needs++;
		if (!m->in_use)
			m->idle_since = ev->t_ns;
		if (ev->kind != PML_POL_BUSY)
			m->refused = 0;
		else if (m->refused <= REFUSED_SHIFT_MAX)
			m->refused++;
		if (ev->kind == PML_POL_REQUEST && ev->pid && pid_traced(s, ev->pid)) {
			m->holder = ev->pid;
			m->held_until = ev->t_ns + (ttl_ns(p) << REFUSED_SHIFT_MAX);
		}
		break;
	case PML_POL_UNLOAD:
		m = find(s, ev->module);
		if (m)
			drop(s, m);
		break;
	default:
		break;
	}
}

static int idle_decide(struct pml_policy *p, const struct pml_loaded *mods, size_t n,
		       struct pml_action *out, size_t max)
{
	struct idle_state *s = p->priv;
	uint64_t now = pml_policy_now(p);
	uint64_t ttl = ttl_ns(p);
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		s->mods[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		const struct pml_loaded *l = &mods[i];
		struct idle_mod *m;
		uint64_t wait;
		int shift;

		if (pml_policy_is_protected(p, l->name))
			continue;
		m = get(s, l->name, now);
		if (!m)
			return -ENOMEM;
		m->seen = true;
		if (l->refcnt != 0 || l->n_holders > 0) {
			m->in_use = true;
			m->refused = 0;
			continue;
		}
		if (m->in_use) {
			m->in_use = false;
			m->idle_since = now;
		}
		if (m->holder) {
			if (now < m->held_until)
				continue;
			m->holder = 0; /* its exit was not seen: idle from now */
			m->idle_since = now;
		}
		shift = m->refused > 1 ? m->refused - 1 : 0;
		if (m->needs - 1 > shift)
			shift = m->needs - 1;
		wait = ttl << (shift > REFUSED_SHIFT_MAX ? REFUSED_SHIFT_MAX : shift);
		if (now < m->idle_since || now - m->idle_since < wait || k == max)
			continue;
		out[k].kind = PML_ACT_UNLOAD;
		snprintf(out[k].module, sizeof(out[k].module), "%s", l->name);
		snprintf(out[k].reason, sizeof(out[k].reason), "idle %.1f s",
			 (double)(now - m->idle_since) / 1e9);
		out[k].confidence = -1;
		k++;
	}
	/* Forget modules that left by other hands (or the base set, never tracked); not one
	 * the kernel asked for for a process and that is still on its way in (a miss: the
	 * request comes before the load). */
	for (size_t i = 0; i < s->n;)
		if (!s->mods[i].seen && !(s->mods[i].holder && now < s->mods[i].held_until))
			drop(s, &s->mods[i]);
		else
			i++;
	return (int)k;
}

const struct pml_policy_ops pml_policy_idle_unload = {
	.name = "idle-unload",
	.summary = "reactive loads; unload a module idle (refcount 0) for T seconds",
	.init = idle_init,
	.observe = idle_observe,
	.decide = idle_decide,
	.free = idle_free,
};
