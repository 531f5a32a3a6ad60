/* What replay measures over time (sim.h's metrics): the footprint and exposure of the
 * simulated module set integrated as the clock advances, the peak, and with cfg.timeline
 * the result's timeline the report draws (module spans, footprint points, asks). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-priv.h"

/* ---- the result's timeline ---- */

void sim_span_open(struct sim *s, int i, uint64_t t_start)
{
	struct pml_sim_result *r = s->r;
	struct smod *m = &s->mods[i];
	struct pml_sim_span *sp;

	m->span = -1;
	if (!s->cfg->timeline)
		return;
	if (r->n_spans == r->cap_spans) {
		size_t cap = r->cap_spans ? 2 * r->cap_spans : 64;
		struct pml_sim_span *n = realloc(r->spans, cap * sizeof(*n));

		if (!n) {
			sim_oom(s);
			return;
		}
		r->spans = n;
		r->cap_spans = cap;
	}
	sp = &r->spans[r->n_spans];
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->module, sizeof(sp->module), "%s", m->cm->name);
	sp->t_start_ms = rel_ms(s, t_start);
	sp->t_loaded_ms = -1;
	sp->t_end_ms = -1;
	sp->predicted = m->by_worker;
	sp->bytes = m->cm->bytes;
	m->span = (long)r->n_spans++;
}

void sim_span_loaded(struct sim *s, int i)
{
	if (s->mods[i].span >= 0)
		s->r->spans[s->mods[i].span].t_loaded_ms = rel_ms(s, s->now);
}

/* ---- the footprint by state ---- */

/* A module leaves the state "loaded, not used yet" (or the run ends in it): its
 * byte-seconds there are counted, as before its first use once it was used. */
static void unused_close(struct sim *s, struct smod *m)
{
	if (m->unused_since != NEVER && s->now > m->unused_since)
		m->unused_bs += (double)m->cm->bytes * (double)(s->now - m->unused_since) / 1e9;
	m->unused_since = NEVER;
	if (m->used && m->unused_bs > 0) {
		s->r->m.fp_early_bs += m->unused_bs;
		m->unused_bs = 0;
	}
}

void sim_span_close(struct sim *s, int i)
{
	struct smod *m = &s->mods[i];

	/* it goes (or the run ends): what it spent unused is settled */
	unused_close(s, m);
	if (m->unused_bs > 0)
		s->r->m.fp_wasted_bs += m->unused_bs;
	m->unused_bs = 0;

	if (m->span < 0)
		return;
	s->r->spans[m->span].t_end_ms = rel_ms(s, s->now);
	s->r->spans[m->span].used = m->used;
	m->span = -1;
}

void sim_ask_record(struct sim *s, const struct pml_action *a, enum pml_sim_verdict v)
{
	struct pml_sim_result *r = s->r;
	struct pml_sim_ask *k;

	if (!s->cfg->timeline)
		return;
	if (r->n_asks == r->cap_asks) {
		size_t cap = r->cap_asks ? 2 * r->cap_asks : 64;
		struct pml_sim_ask *n = realloc(r->asks, cap * sizeof(*n));

		if (!n) {
			sim_oom(s);
			return;
		}
		r->asks = n;
		r->cap_asks = cap;
	}
	k = &r->asks[r->n_asks++];
	k->t_ms = rel_ms(s, s->now);
	snprintf(k->module, sizeof(k->module), "%s", a->module);
	k->confidence = a->confidence;
	k->verdict = v;
}

static void point_record(struct sim *s)
{
	struct pml_sim_result *r = s->r;

	if (!s->cfg->timeline)
		return;
	if (r->n_points && r->points[r->n_points - 1].t_ms == rel_ms(s, s->now)) {
		r->points[r->n_points - 1].bytes = s->cur_bytes;
		return;
	}
	if (r->n_points == r->cap_points) {
		size_t cap = r->cap_points ? 2 * r->cap_points : 64;
		struct pml_sim_point *n = realloc(r->points, cap * sizeof(*n));

		if (!n) {
			sim_oom(s);
			return;
		}
		r->points = n;
		r->cap_points = cap;
	}
	r->points[r->n_points].t_ms = rel_ms(s, s->now);
	r->points[r->n_points].bytes = s->cur_bytes;
	r->n_points++;
}

/* ---- time ---- */

/* Footprint and exposure of the module set as it is now. */
static void measure(struct sim *s)
{
	int64_t bytes = 0;
	unsigned exposed = 0;

	for (size_t i = 0; i < s->n_mods; i++)
		s->inuse[i] = false;
	for (size_t i = 0; i < s->n_mods; i++) {
		const struct smod *m = &s->mods[i];

		if (m->st == M_ABSENT || m->users <= 0)
			continue;
		s->inuse[i] = true;
		for (size_t k = 0; k < m->n_order; k++)
			s->inuse[m->order[k]] = true;
	}
	s->cur_loading = s->cur_in_use = s->cur_idle = 0;
	for (size_t i = 0; i < s->n_mods; i++) {
		struct smod *m = &s->mods[i];

		if (m->base || m->st == M_ABSENT)
			continue;
		bytes += m->cm->bytes;
		if (m->st == M_LOADED && !s->inuse[i])
			exposed++;
		if (m->st == M_LOADED && !s->inuse[i] && !m->used) {
			if (m->unused_since == NEVER)
				m->unused_since = s->now;
			continue;
		}
		unused_close(s, m);
		if (m->st != M_LOADED)
			s->cur_loading += m->cm->bytes;
		else if (s->inuse[i])
			s->cur_in_use += m->cm->bytes;
		else
			s->cur_idle += m->cm->bytes;
	}
	s->cur_bytes = bytes;
	s->cur_exposed = exposed;
	if (bytes > s->r->m.peak_bytes)
		s->r->m.peak_bytes = bytes;
	point_record(s);
	s->dirty = false;
}

void sim_advance(struct sim *s, uint64_t t)
{
	double dt;

	if (s->dirty)
		measure(s);
	if (t <= s->now)
		return;
	dt = (double)(t - s->now) / 1e9;
	s->r->m.byte_s += (double)s->cur_bytes * dt;
	s->r->m.exposure_s += (double)s->cur_exposed * dt;
	s->r->m.fp_loading_bs += (double)s->cur_loading * dt;
	s->r->m.fp_in_use_bs += (double)s->cur_in_use * dt;
	s->r->m.fp_idle_bs += (double)s->cur_idle * dt;
	s->now = t;
}
