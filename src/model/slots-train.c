/* Training the slot model (slots-train.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/needs.h"
#include "model/corpus.h"
#include "model/features.h"
#include "model/model-file.h"
#include "model/slots-train.h"
#include "trace/trace-file.h"
#include "util/log.h"
#include "util/modname.h"

struct sample {
	uint32_t feats[PML_SLOTS_MAX_FEATS];
	uint8_t n_feats;
	uint8_t label;
	uint32_t run;	 /* validation: the (run, module) group */
	uint32_t module; /* a hash of the module's name */
	float score;
};

struct samples {
	struct sample *v;
	size_t n, cap;
};

/* One candidate of the run being read, before its label is known. */
struct pending {
	struct sample s;
	char module[64];
	uint64_t t_ns; /* 0: the prior */
};

struct reader {
	struct pml_slots slots;
	struct pending *p;
	size_t n, cap;
	uint64_t now; /* the record being read (0 in the prior) */
	int err;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void on_cand(void *ctx, const struct pml_slot_cand *c)
{
	struct reader *rd = ctx;
	struct pending *p;

	if (rd->err)
		return;
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 1024;
		struct pending *n = realloc(rd->p, cap * sizeof(*n));

		if (!n) {
			rd->err = -ENOMEM;
			return;
		}
		rd->p = n;
		rd->cap = cap;
	}
	p = &rd->p[rd->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->s.feats, c->feats, (size_t)c->n_feats * sizeof(*c->feats));
	p->s.n_feats = (uint8_t)c->n_feats;
	if (pml_module_name_normalize(c->module, p->module) < 0)
		p->module[0] = '\0';
	p->s.module = name_hash(p->module);
	p->t_ns = rd->now;
}

/* When the run first needs module (its first need loading it), UINT64_MAX when never. */
static uint64_t first_need(const struct pml_needs *nd, const char *module)
{
	for (size_t i = 0; i < nd->n; i++)
		for (uint32_t j = 0; j < nd->v[i].n_loaded; j++) {
			char name[64];

			if (pml_module_name_normalize(nd->v[i].loaded[j], name) == 0 &&
			    !strcmp(name, module))
				return nd->v[i].t_ns;
		}
	return UINT64_MAX;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->module != y->module)
		return x->module < y->module ? -1 : 1;
	return memcmp(x->feats, y->feats, sizeof(x->feats));
}

/* Read one run's candidates, label them and append them to out (deduplicated). */
static int read_run(const struct pml_dataset *ds, const struct pml_ds_run *run,
		    const char *workloads, pml_slots_resolve_fn resolve, void *data,
		    uint32_t run_no, struct samples *out)
{
	struct pml_trace_reader *tr = NULL;
	struct pml_features *f = pml_features_new();
	struct reader rd = {0};
	struct pml_needs nd;
	struct pml_feat_tokens t;
	const struct pml_tev_hdr *e;
	char path[4200], *script = NULL;
	size_t first = out->n;
	int r;

	if (!f)
		return -ENOMEM;
	pml_needs_init(&nd);
	r = pml_dataset_trace_path(ds, run, path, sizeof(path));
	if (r >= 0)
		r = pml_trace_reader_open(path, &tr);
	if (r < 0) {
		if (tr)
			pml_warn("%s (run %s left out)", pml_trace_reader_error(tr), run->id);
		pml_features_free(f);
		pml_trace_reader_free(tr);
		return r == -ENOMEM ? r : 0;
	}
	if (workloads && run->scenario[0]) {
		char sp[4200];

		if ((size_t)snprintf(sp, sizeof(sp), "%s/%s.sh", workloads, run->scenario) <
		    sizeof(sp))
			pml_read_text_file(sp, &script);
	}
	pml_slots_init(&rd.slots, NULL, resolve, data, on_cand, &rd);
	pml_slots_prior(&rd.slots, pml_trace_reader_header(tr)->command, script);
	free(script);
	while ((r = pml_trace_reader_next(tr, &e)) > 0 && !rd.err) {
		if (pml_needs_add(&nd, e) < 0) {
			rd.err = -ENOMEM;
			break;
		}
		rd.now = e->t_ns ? e->t_ns : 1;
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n; i++)
			pml_slots_token(&rd.slots, t.tok[i]);
	}
	if (r < 0 && r != -ENOMEM)
		pml_warn("%s (the run is used up to there)", pml_trace_reader_error(tr));
	r = rd.err ? rd.err : r == -ENOMEM ? r : 0;
	for (size_t i = 0; !r && i < rd.n; i++) {
		struct pending *p = &rd.p[i];
		uint64_t need = first_need(&nd, p->module);

		if (!p->module[0] || (need != UINT64_MAX && need < p->t_ns))
			continue; /* needed already: loaded, nothing to predict */
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 65536;
			struct sample *n = realloc(out->v, cap * sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				break;
			}
			out->v = n;
			out->cap = cap;
		}
		p->s.label = need != UINT64_MAX;
		p->s.run = run_no;
		out->v[out->n++] = p->s;
	}
	/* the run's duplicates (same module, same features) count once */
	if (!r && out->n > first) {
		size_t k = first;

		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_sample);
		for (size_t i = first; i < out->n; i++)
			if (i == first || cmp_sample(&out->v[i], &out->v[k - 1]))
				out->v[k++] = out->v[i];
		out->n = k;
	}
	free(rd.p);
	pml_needs_release(&nd);
	pml_features_free(f);
	pml_trace_reader_free(tr);
	return r;
}

static float dot(const float *w, float bias, const struct sample *s)
{
	double z = bias;

	for (int i = 0; i < s->n_feats; i++)
		z += w[s->feats[i]];
	return (float)z;
}

/* xorshift, for a shuffle that is the same on every run */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	return x->module < y->module ? -1 : x->module > y->module;
}

/* The threshold with the best F1 of (run, module) decisions on val. */
static void pick_threshold(struct samples *val, struct pml_slots_train_stats *st)
{
	double best = -1;

	qsort(val->v, val->n, sizeof(*val->v), cmp_group);
	st->groups_val = st->pos_val = 0;
	for (size_t i = 0; i < val->n; i++)
		if (!i || cmp_group(&val->v[i], &val->v[i - 1])) {
			st->groups_val++;
			/* positive when any of its candidates is: the module is needed */
			for (size_t j = i; j < val->n && !cmp_group(&val->v[j], &val->v[i]); j++)
				if (val->v[j].label) {
					st->pos_val++;
					break;
				}
		}
	st->threshold = 0.5f;
	for (int k = 1; k <= 19; k++) {
		float thr = 0.05f * (float)k;
		size_t tp = 0, fp = 0;

		for (size_t i = 0; i < val->n;) {
			size_t j = i;
			bool pos = false, pred = false;

			for (; j < val->n && !cmp_group(&val->v[j], &val->v[i]); j++) {
				pos |= val->v[j].label;
				pred |= val->v[j].score >= thr;
			}
			tp += pred && pos;
			fp += pred && !pos;
			i = j;
		}
		double p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
		double rc = st->pos_val ? (double)tp / (double)st->pos_val : 0;
		double f1 = p + rc > 0 ? 2 * p * rc / (p + rc) : 0;

		if (f1 > best) {
			best = f1;
			st->threshold = thr;
			st->precision = p;
			st->recall = rc;
			st->f1 = f1;
		}
	}
}

int pml_slots_train(const struct pml_dataset *ds, pml_slots_resolve_fn resolve,
		    void *data, const struct pml_slots_train_opts *opts, struct pml_slots_model **ret,
		    struct pml_slots_train_stats *st)
{
	struct samples train = {0}, val = {0};
	bool fam_val = ds->heldout_fam_val[0] != '\0';
	int epochs = opts->epochs > 0 ? opts->epochs : 4;
	float lr = opts->lr > 0 ? opts->lr : 0.3f, bias = 0, gb = 0;
	float *w = NULL, *g2 = NULL;
	struct pml_slots_model *m = NULL;
	size_t *order = NULL, total = 0, done = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int r = 0;

	memset(st, 0, sizeof(*st));
	*ret = NULL;
	st->val_from = fam_val ? "held-out validation families" : "all validation runs";
	for (size_t i = 0; i < ds->n_runs; i++)
		total += ds->runs[i].state == PML_RUN_OK && ds->runs[i].split != PML_SPLIT_TEST;
	for (size_t i = 0; i < ds->n_runs && !r; i++) {
		const struct pml_ds_run *run = &ds->runs[i];
		bool is_val;

		if (run->state != PML_RUN_OK || !run->trace[0] || run->split == PML_SPLIT_TEST)
			continue;
		is_val = run->split == PML_SPLIT_VAL;
		if (!is_val || !fam_val ||
		    pml_dataset_family_heldout(ds, run->family) == PML_HELD_FAMILY_VAL) {
			r = read_run(ds, run, opts->workloads_dir, resolve, data, (uint32_t)i,
				     is_val ? &val : &train);
			if (is_val)
				st->runs_val++;
			else
				st->runs_train++;
		}
		if (opts->progress)
			opts->progress(opts->progress_ctx, ++done, total);
	}
	if (r < 0)
		goto out;
	st->cands_train = train.n;
	for (size_t i = 0; i < train.n; i++)
		st->pos_train += train.v[i].label;
	if (!train.n || !st->pos_train) {
		r = -ENODATA;
		goto out;
	}
	w = calloc(PML_SLOTS_MAX_WEIGHTS, sizeof(*w));
	g2 = calloc(PML_SLOTS_MAX_WEIGHTS, sizeof(*g2));
	order = malloc(train.n * sizeof(*order));
	if (!w || !g2 || !order) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < train.n; i++)
		order[i] = i;
	for (int ep = 0; ep < epochs; ep++) {
		for (size_t i = train.n - 1; i > 0; i--) {
			size_t j = (size_t)(rng_next(&rng) % (i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (size_t k = 0; k < train.n; k++) {
			const struct sample *s = &train.v[order[k]];
			float p = 1.0f / (1.0f + expf(-dot(w, bias, s)));
			float g = p - (float)s->label;

			for (int i = 0; i < s->n_feats; i++) {
				uint32_t f = s->feats[i];

				g2[f] += g * g;
				w[f] -= lr * g / sqrtf(g2[f] + 1e-6f);
			}
			gb += g * g;
			bias -= lr * g / sqrtf(gb + 1e-6f);
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t f = 0; f < PML_SLOTS_MAX_WEIGHTS; f++)
		m->n += fabsf(w[f]) >= 1e-4f;
	m->idx = malloc((m->n ? m->n : 1) * sizeof(*m->idx));
	m->w = malloc((m->n ? m->n : 1) * sizeof(*m->w));
	if (!m->idx || !m->w) {
		r = -ENOMEM;
		goto out;
	}
	m->n = 0;
	for (uint32_t f = 0; f < PML_SLOTS_MAX_WEIGHTS; f++)
		if (fabsf(w[f]) >= 1e-4f) {
			m->idx[m->n] = f;
			m->w[m->n++] = fminf(fmaxf(w[f], -100.0f), 100.0f);
		}
	m->bias = fminf(fmaxf(bias, -100.0f), 100.0f);
	if (pml_kernel_series(ds->kernel, m->kernel_series, sizeof(m->kernel_series)) < 0)
		snprintf(m->kernel_series, sizeof(m->kernel_series), "?");
	for (size_t i = 0; i < val.n; i++)
		val.v[i].score = pml_slots_score(m, val.v[i].feats, val.v[i].n_feats);
	m->threshold = 0.5f;
	if (val.n) {
		pick_threshold(&val, st);
		m->threshold = st->threshold;
	} else {
		st->threshold = m->threshold;
	}
	*ret = m;
	m = NULL;
out:
	pml_slots_model_free(m);
	free(w);
	free(g2);
	free(order);
	free(train.v);
	free(val.v);
	return r;
}
