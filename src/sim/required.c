/* The ground truth of a replayed run: its required needs (a need's modules in load order,
 * base set left out, restricted to what the recorded run loaded at all) and what the
 * oracle is told of the future (those needs and every later use of them, reuse.h). Built
 * once per run, before the loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-priv.h"
#include "dataset/reuse.h"
#include "util/modname.h"

static bool in_list(char (*v)[PML_NEED_NAME_LEN], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Build the required needs of t and the raw -> required map (req_of may be NULL). */
int sim_required(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
		 struct pml_needs *ret, int *req_of)
{
	const char **run = NULL;
	size_t n_run = 0;

	pml_needs_init(ret);
	for (size_t i = 0; i < t->needs.n; i++)
		n_run += t->needs.v[i].n_loaded;
	run = calloc(n_run ? n_run : 1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	n_run = pml_needs_modules(&t->needs, run, n_run);
	for (size_t i = 0; i < t->needs.n; i++) {
		const struct pml_need *nd = &t->needs.v[i];
		struct pml_need q = *nd;

		q.n_loaded = 0;
		for (uint32_t j = 0; j < nd->n_loaded; j++) {
			const struct pml_sim_mod *cm = pml_sim_catalog_get(cat, nd->loaded[j]);

			if (!cm) {
				free(run);
				pml_needs_release(ret);
				return -ENOMEM;
			}
			for (size_t k = 0; k < cm->n_order && q.n_loaded < PML_NEED_MAX_LOADED;
			     k++) {
				const char *o = cm->order[k];
				bool ours = !strcmp(o, cm->name);

				for (size_t x = 0; x < n_run && !ours; x++)
					ours = pml_module_name_eq(run[x], o);
				if (!ours || pml_sim_catalog_is_base(cat, o) ||
				    in_list(q.loaded, q.n_loaded, o))
					continue;
				snprintf(q.loaded[q.n_loaded++], PML_NEED_NAME_LEN, "%s", o);
			}
		}
		if (req_of)
			req_of[i] = -1;
		if (!q.n_loaded)
			continue;
		if (ret->n == ret->cap) {
			size_t cap = ret->cap ? 2 * ret->cap : 16;
			struct pml_need *v = realloc(ret->v, cap * sizeof(*v));

			if (!v) {
				free(run);
				pml_needs_release(ret);
				return -ENOMEM;
			}
			ret->v = v;
			ret->cap = cap;
		}
		if (req_of)
			req_of[i] = (int)ret->n;
		ret->v[ret->n++] = q;
	}
	free(run);
	return 0;
}

int pml_sim_required_needs(const struct pml_sim_trace *t, struct pml_sim_catalog *cat,
			   struct pml_needs *ret)
{
	return sim_required(t, cat, ret, NULL);
}

/* The need (raw index) that rec uses again: one that came before rec and whose alias
 * rec would make the kernel ask for again (reuse.h); -1 when none. */
static long reused_need(const struct sim *s, const struct pml_tev_hdr *rec)
{
	char aliases[PML_REUSE_MAX][64];
	size_t n = pml_reuse_aliases(rec, aliases, PML_REUSE_MAX);

	for (size_t a = 0; a < n; a++)
		for (size_t k = 0; k < s->t->needs.n; k++) {
			const struct pml_need *nd = &s->t->needs.v[k];

			if (nd->t_ns < rec->t_ns && s->req_of[k] >= 0 && nd->alias[0] &&
			    !strcmp(nd->alias, aliases[a]))
				return (long)k;
		}
	return -1;
}

static int future_push(struct pml_needs *f, const struct pml_need *nd)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct pml_need *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = *nd;
	return 0;
}

/* The later uses of the trace's records (reuse_of, read by the replay loop) and the
 * oracle's future: the required needs merged in time order with a copy of a need's
 * required modules at each later use of it (so it keeps or brings back what is used
 * again, as it does for needs). 0 or -ENOMEM. */
int sim_future_build(struct sim *s)
{
	struct pml_needs *f = &s->future;
	size_t q = 0;

	pml_needs_init(f);
	f->first_ns = s->req.first_ns;
	s->reuse_of = malloc((s->t->n + 1) * sizeof(*s->reuse_of));
	if (!s->reuse_of)
		return -ENOMEM;
	for (size_t ri = 0; ri < s->t->n; ri++) {
		const struct pml_tev_hdr *h = (const void *)(s->t->buf + s->t->off[ri]);
		long k = reused_need(s, h);
		struct pml_need use;

		s->reuse_of[ri] = k;
		if (k < 0)
			continue;
		while (q < s->req.n && s->req.v[q].t_ns <= h->t_ns)
			if (future_push(f, &s->req.v[q++]) < 0)
				return -ENOMEM;
		use = s->req.v[s->req_of[k]];
		use.t_ns = use.done_ns = h->t_ns;
		use.pid = use.tid = h->pid;
		if (future_push(f, &use) < 0)
			return -ENOMEM;
	}
	while (q < s->req.n)
		if (future_push(f, &s->req.v[q++]) < 0)
			return -ENOMEM;
	return 0;
}
