/* Replay's simulated module set (sim-priv.h): every module replay has met, by name (an
 * open-addressing hash of catalog names), its state, its load order as indices, how many
 * loaded modules hold it; and its unloads, done as pmld's loader does them (a module in
 * use, held or still loading is refused; its dependencies go along when nothing holds them
 * any more). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-priv.h"
#include "util/modname.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int slot_find(const struct sim *s, const char *norm)
{
	size_t mask = s->cap_slots - 1;

	for (size_t i = name_hash(norm) & mask;; i = (i + 1) & mask) {
		if (!s->slots[i])
			return -(int)i - 1;
		if (!strcmp(s->mods[s->slots[i] - 1].cm->name, norm))
			return (int)i;
	}
}

/* The index of module name in the set, added (absent) when new; -ENOMEM or -EINVAL. */
int sim_mod_index(struct sim *s, const char *name)
{
	const struct pml_sim_mod *cm;
	char norm[64];
	int sl;

	if (!name || !*name || pml_module_name_normalize(name, norm) < 0)
		return -EINVAL;
	sl = slot_find(s, norm);
	if (sl >= 0)
		return s->slots[sl] - 1;
	cm = pml_sim_catalog_get(s->cat, norm);
	if (!cm)
		return -ENOMEM;
	if ((s->n_mods + 1) * 2 > s->cap_slots) {
		size_t cap = s->cap_slots * 2;
		int *slots = calloc(cap, sizeof(*slots));
		int *old = s->slots;

		if (!slots)
			return -ENOMEM;
		s->slots = slots;
		s->cap_slots = cap;
		for (size_t i = 0; i < s->n_mods; i++)
			s->slots[-slot_find(s, s->mods[i].cm->name) - 1] = (int)i + 1;
		free(old);
		sl = slot_find(s, norm);
	}
	if (s->n_mods == s->cap_mods) {
		size_t cap = s->cap_mods ? 2 * s->cap_mods : 64;
		struct smod *m = realloc(s->mods, cap * sizeof(*m));
		bool *iu = realloc(s->inuse, cap * sizeof(*iu));

		if (m)
			s->mods = m;
		if (iu)
			s->inuse = iu;
		if (!m || !iu)
			return -ENOMEM;
		s->cap_mods = cap;
	}
	memset(&s->mods[s->n_mods], 0, sizeof(s->mods[0]));
	s->mods[s->n_mods].cm = cm;
	s->mods[s->n_mods].first_grant = NEVER;
	s->mods[s->n_mods].unused_since = NEVER;
	s->mods[s->n_mods].span = -1;
	s->mods[s->n_mods].base = pml_sim_catalog_is_base(s->cat, norm) || cm->builtin;
	s->slots[-sl - 1] = (int)s->n_mods + 1;
	return (int)s->n_mods++;
}

/* The load order of module i as indices, base modules left out (computed once). */
int sim_order_of(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];
	const struct pml_sim_mod *cm = m->cm;
	int *o;
	size_t n = 0;

	if (m->order_done)
		return 0;
	o = calloc(cm->n_order + 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t k = 0; k < cm->n_order; k++) {
		int j = sim_mod_index(s, cm->order[k]);

		if (j == -ENOMEM) {
			free(o);
			return j;
		}
		m = &s->mods[i]; /* mod_index may move the array */
		if (j < 0 || s->mods[j].base)
			continue;
		o[n++] = j;
	}
	m->order = o;
	m->n_order = n;
	m->order_done = true;
	return 0;
}

/* Module i enters (in = true) or leaves the set: its load order's holder counts follow. */
void sim_present(struct sim *s, int i, bool in)
{
	const struct smod *m = &s->mods[i];

	for (size_t k = 0; k < m->n_order; k++)
		if (m->order[k] != i)
			s->mods[m->order[k]].n_holders += in ? 1 : -1;
}

/* ---- unloads ---- */

static void remove_mod(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];

	if (m->main_pred && !m->used)
		s->r->m.wasted_loads++;
	sim_span_close(s, i);
	m->st = M_ABSENT;
	sim_present(s, i, false);
	m->main_pred = m->by_worker = m->used = false;
	s->r->m.unloads++;
	s->dirty = true;
	pml_resource_release(s->res, m->cm->name);
	sim_tell_module_record(s, PML_TEV_MOD_FREE, m->cm->name);
	sim_tell(s, PML_POL_UNLOAD, m->cm->name, NULL, m->cm->bytes, false);
}

/* Unload module i as pmld's loader would (PML_UNLOAD_DEPS). Returns modules removed. */
int sim_unload(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];
	int removed = 0;

	if (m->st == M_ABSENT) {
		/* gone already */
		sim_tell(s, PML_POL_UNLOAD, m->cm->name, NULL, -1, false);
		return 0;
	}
	if (m->base || m->st == M_LOADING || m->users > 0 || sim_holders(s, i) > 0 ||
	    m->cm->kept) {
		s->r->m.unload_busy++;
		sim_tell(s, PML_POL_BUSY, m->cm->name, NULL, -1, false);
		return 0;
	}
	remove_mod(s, i);
	removed++;
	for (size_t k = m->n_order; k-- > 0;) {
		int d = s->mods[i].order[k];
		struct smod *dm = &s->mods[d];

		if (d == i || dm->st != M_LOADED || dm->base || dm->users > 0 || dm->cm->kept ||
		    sim_holders(s, d) > 0 || pml_policy_is_protected(s->pol, dm->cm->name))
			continue;
		remove_mod(s, d);
		removed++;
	}
	return removed;
}
