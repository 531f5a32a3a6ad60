/* A need as the replayed run meets it (sim.h): its required modules all loaded is a hit;
 * otherwise a stall for what is in flight plus the kernel's modprobe loading what is
 * missing, one after the other. A later use of a need's modules (reuse.h) is a use, or a
 * stall when the policy unloaded one. The process that needed a module holds it until it
 * exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-priv.h"

static bool pid_exited(const struct sim *s, uint32_t pid)
{
	for (size_t i = 0; i < s->n_exited; i++)
		if (s->exited[i] == pid)
			return true;
	return false;
}

/* A need's process holds its module from the request on (while it waits for it, too)
 * until it exits (for ever when that is unknown). */
static void hold_pid(struct sim *s, uint32_t pid, const char *module)
{
	int i = sim_mod_index(s, module);

	if (i < 0 || (pid && pid_exited(s, pid)))
		return;
	if (s->n_holds == s->cap_holds) {
		size_t cap = s->cap_holds ? 2 * s->cap_holds : 32;
		struct hold *h = realloc(s->holds, cap * sizeof(*h));

		if (!h) {
			sim_oom(s);
			return;
		}
		s->holds = h;
		s->cap_holds = cap;
	}
	s->holds[s->n_holds++] = (struct hold){.pid = pid, .mod = i};
	s->mods[i].users++;
	s->dirty = true;
}

static void hold(struct sim *s, size_t k)
{
	hold_pid(s, s->t->needs.v[k].pid, s->t->needs.v[k].module);
}

void sim_serve(struct sim *s, size_t k)
{
	const struct pml_need *nd = &s->t->needs.v[k];
	int i = sim_mod_index(s, nd->module);

	if (i >= 0)
		sim_tell(s, PML_POL_NEED, s->mods[i].cm->name, nd->alias,
			 s->mods[i].cm->bytes, false);
}

/* What a need of rq's modules waits for now: *wait for loads in flight, *missing_ns for
 * the absent ones' loads; the present ones are used. False when out of memory. */
static bool tally(struct sim *s, const struct pml_need *rq, uint64_t *wait,
		  uint64_t *missing_ns)
{
	for (uint32_t j = 0; j < rq->n_loaded; j++) {
		int i = sim_mod_index(s, rq->loaded[j]);
		struct smod *m;

		if (i < 0 || sim_order_of(s, i) < 0) {
			sim_oom(s);
			return false;
		}
		m = &s->mods[i];
		if (m->st == M_LOADING && m->t_done > s->now + *wait)
			*wait = m->t_done - s->now;
		else if (m->st == M_ABSENT)
			*missing_ns += ms_ns(m->cm->load_ms);
		if (m->st != M_ABSENT)
			m->used = true;
	}
	return true;
}

/* The kernel's modprobe loads what is missing of rq, one after the other, once what is in
 * flight (that the missing ones may depend on) is in, wait from now. */
static void miss_loads(struct sim *s, const struct pml_need *rq, uint64_t wait)
{
	uint64_t t = s->now + wait;

	for (uint32_t j = 0; j < rq->n_loaded; j++) {
		int i = sim_mod_index(s, rq->loaded[j]);
		struct smod *m = &s->mods[i];

		if (m->st != M_ABSENT)
			continue;
		m->st = M_LOADING;
		sim_present(s, i, true);
		m->by_worker = m->main_pred = false;
		m->used = true;
		t += ms_ns(m->cm->load_ms);
		m->t_done = t;
		sim_span_open(s, i, s->now);
		sim_push(s, t, P_DONE, i);
		s->r->m.miss_loads++;
	}
	s->dirty = true;
	if (t > s->hold_until)
		s->hold_until = t;
}

void sim_need_arrives(struct sim *s, size_t k)
{
	const struct pml_need *nd = &s->t->needs.v[k];
	const struct pml_need *rq;
	struct pml_sim_need *out;
	uint64_t wait = 0, missing_ns = 0;
	int target;

	if (s->req_of[k] < 0) {
		/* Resolves to no module: the kernel still asks (a modprobe exec under Linux
		 * as shipped, an index look-up under pml); nothing to load. */
		s->r->m.empty_requests++;
		s->kernel_asked[k] = true;
		if (nd->alias[0])
			sim_tell(s, PML_POL_REQUEST, NULL, nd->alias, -1, false);
		return;
	}
	rq = &s->req.v[s->req_of[k]];
	if (!tally(s, rq, &wait, &missing_ns))
		return;
	out = &s->r->needs[s->r->n_needs++];
	memset(out, 0, sizeof(*out));
	out->t_ms = rel_ms(s, s->now);
	snprintf(out->module, sizeof(out->module), "%s", nd->module);
	snprintf(out->alias, sizeof(out->alias), "%s", nd->alias);
	out->n_required = rq->n_loaded;
	out->lead_ms = -1;
	target = sim_mod_index(s, nd->module);
	if (target >= 0 && s->mods[target].first_grant <= s->now) {
		out->lead_ms = (double)(s->now - s->mods[target].first_grant) / 1e6;
		s->r->m.lead_n++;
		s->r->m.lead_sum_ms += out->lead_ms;
	}
	s->r->m.needs++;
	s->r->m.recorded_stall_ms += (double)(nd->done_ns - nd->t_ns) / 1e6;
	hold(s, k);
	if (wait + missing_ns == 0) {
		sim_serve(s, k);
		return;
	}
	/* A miss: the kernel's request path (usermode helper, modprobe's exec) runs first;
	 * modprobe then waits for what is in flight and inserts what is missing. */
	if (wait < ms_ns(s->cfg->miss_ms))
		wait = ms_ns(s->cfg->miss_ms);
	out->stalled = true;
	out->stall_ms = (double)(wait + missing_ns) / 1e6;
	s->r->m.stalls++;
	s->r->m.stall_ms += out->stall_ms;
	s->kernel_asked[k] = true;
	if (nd->alias[0])
		sim_tell(s, PML_POL_REQUEST, nd->module, nd->alias, -1, false);
	miss_loads(s, rq, wait);
	sim_push(s, s->now + wait + missing_ns, P_SERVE, (int)k);
}

/* A later use of need k's modules by process pid (a record that would make the kernel
 * ask for the need's alias again, reuse.h): a use when they are loaded; when the policy
 * unloaded one, the kernel asks again and the program waits: a stall, counted in
 * stalls, stall time and reloads (not a new need: the needs stay the first uses). */
static void use_again(struct sim *s, size_t k, uint32_t pid)
{
	const struct pml_need *nd = &s->t->needs.v[k];
	const struct pml_need *rq = &s->req.v[s->req_of[k]];
	uint64_t wait = 0, missing_ns = 0;

	if (!tally(s, rq, &wait, &missing_ns))
		return;
	hold_pid(s, pid, nd->module);
	if (wait + missing_ns == 0) {
		for (uint32_t j = 0; j < rq->n_loaded; j++)
			sim_tell(s, PML_POL_USE, rq->loaded[j], NULL, -1, false);
		return;
	}
	if (wait < ms_ns(s->cfg->miss_ms))
		wait = ms_ns(s->cfg->miss_ms);
	s->r->m.stalls++;
	s->r->m.reloads++;
	s->r->m.stall_ms += (double)(wait + missing_ns) / 1e6;
	sim_tell(s, PML_POL_REQUEST, nd->module, nd->alias, -1, false);
	miss_loads(s, rq, wait);
	sim_push(s, s->now + wait + missing_ns, P_SERVE, (int)k);
}

void sim_reuse(struct sim *s, size_t ri, const struct pml_tev_hdr *rec)
{
	long k = s->reuse_of[ri];

	if (k >= 0)
		use_again(s, (size_t)k, rec->pid);
}

/* Process pid exited: its holds end; later holds for it are not taken (hold_pid). */
int sim_process_exit(struct sim *s, uint32_t pid)
{
	for (size_t i = 0; i < s->n_holds;) {
		if (s->holds[i].pid == pid) {
			s->mods[s->holds[i].mod].users--;
			s->holds[i] = s->holds[--s->n_holds];
			s->dirty = true;
		} else {
			i++;
		}
	}
	if (s->n_exited == s->cap_exited) {
		size_t cap = s->cap_exited ? 2 * s->cap_exited : 64;
		uint32_t *e = realloc(s->exited, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		s->exited = e;
		s->cap_exited = cap;
	}
	s->exited[s->n_exited++] = pid;
	return 0;
}
