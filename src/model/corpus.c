/* The corpus: runs read from trace files into token ids and needs, the vocabulary and
 * module list learned from the training split, and the labels (corpus.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/reuse.h"
#include "model/corpus.h"
#include "trace/trace-file.h"
#include "util/log.h"
#include "util/modname.h"

/* ---- reading one run ------------------------------------------------------------------- */

struct run_reader {
	struct pml_trace_reader *r;
	char command[257];
	struct pml_needs needs;
	uint32_t *need_rec; /* [needs.n] record index + 1 that made each need */
	size_t need_rec_cap;
	uint64_t records;
	uint64_t t0;
};

static void run_reader_release(struct run_reader *rr)
{
	pml_trace_reader_free(rr->r);
	pml_needs_release(&rr->needs);
	free(rr->need_rec);
	memset(rr, 0, sizeof(*rr));
}

static int run_reader_open(struct run_reader *rr, const char *path)
{
	int r;

	memset(rr, 0, sizeof(*rr));
	pml_needs_init(&rr->needs);
	r = pml_trace_reader_open(path, &rr->r);
	if (r < 0) {
		if (rr->r)
			pml_err("%s", pml_trace_reader_error(rr->r));
		else
			pml_err("%s: %s", path, strerror(-r));
		run_reader_release(rr);
		return r;
	}
	snprintf(rr->command, sizeof(rr->command), "%s",
		 pml_trace_reader_header(rr->r)->command);
	return 0;
}

/* The next record (1) with the needs kept up to date, 0 at the end, or -errno; a damaged
 * tail ends the run where it broke (logged), which is not an error. */
static int run_reader_next(struct run_reader *rr, const struct pml_tev_hdr **ret)
{
	size_t before = rr->needs.n;
	int r = pml_trace_reader_next(rr->r, ret);

	if (r < 0 && r != -ENOMEM) {
		pml_warn("%s (the run is used up to there)", pml_trace_reader_error(rr->r));
		return 0;
	}
	if (r <= 0)
		return r;
	if (!rr->records)
		rr->t0 = (*ret)->t_ns;
	rr->records++;
	r = pml_needs_add(&rr->needs, *ret);
	if (r < 0)
		return r;
	if (rr->needs.n > rr->need_rec_cap) {
		size_t cap = rr->needs.cap;
		uint32_t *n = realloc(rr->need_rec, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		rr->need_rec = n;
		rr->need_rec_cap = cap;
	}
	for (size_t i = before; i < rr->needs.n; i++)
		rr->need_rec[i] = (uint32_t)rr->records;
	return 1;
}

/* ---- building ------------------------------------------------------------------------------ */

struct count_ctx {
	struct pml_vocab *counter;
	uint32_t doc;
	int err;
};

static int count_emit(void *ctx, const char *tok)
{
	struct count_ctx *c = ctx;
	int r = pml_vocab_count(c->counter, tok, c->doc);

	return r < 0 ? (c->err = r) : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pass 1 over one training run: count its tokens and collect its modules. */
static int learn_run(const struct pml_corpus_src *s, const struct pml_corpus_opts *o,
		     uint32_t doc, struct pml_vocab *counter, struct pml_vocab *mods)
{
	struct pml_features *f = pml_features_new();
	struct count_ctx cc = {counter, doc, 0};
	struct pml_feat_tokens t;
	const struct pml_tev_hdr *e;
	struct run_reader rr;
	int r;

	if (!f)
		return -ENOMEM;
	r = run_reader_open(&rr, s->trace);
	if (r < 0) {
		pml_features_free(f);
		return r;
	}
	r = pml_features_prior(o->no_prior ? NULL : rr.command, o->no_prior ? NULL : s->script,
			       count_emit, &cc);
	while (r >= 0 && (r = run_reader_next(&rr, &e)) > 0) {
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n && r >= 0; i++)
			r = pml_vocab_count(counter, t.tok[i], doc);
	}
	for (size_t i = 0; r >= 0 && i < rr.needs.n; i++)
		for (uint32_t j = 0; j < rr.needs.v[i].n_loaded && r >= 0; j++) {
			char name[PML_NEED_NAME_LEN];

			pml_module_name_normalize(rr.needs.v[i].loaded[j], name);
			r = pml_vocab_count(mods, name, doc);
		}
	run_reader_release(&rr);
	pml_features_free(f);
	return r < 0 ? r : 0;
}

static int push_tok(struct pml_corpus_run *run, uint32_t *cap, int32_t id, uint64_t t,
		    uint32_t rec)
{
	if (run->n_tok == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 1024;
		int32_t *tok = realloc(run->tok, nc * sizeof(*tok));
		uint64_t *ts;
		uint32_t *rc;

		if (!tok)
			return -ENOMEM;
		run->tok = tok;
		ts = realloc(run->t_ns, nc * sizeof(*ts));
		if (!ts)
			return -ENOMEM;
		run->t_ns = ts;
		rc = realloc(run->rec, nc * sizeof(*rc));
		if (!rc)
			return -ENOMEM;
		run->rec = rc;
		*cap = nc;
	}
	run->tok[run->n_tok] = id;
	run->t_ns[run->n_tok] = t;
	run->rec[run->n_tok] = rec;
	run->n_tok++;
	return 0;
}

#define USES_MAX 65536 /* later uses kept per run */

/* With reuse_labels: record e as a later use of each earlier need whose alias it would make
 * the kernel ask for again (dataset/reuse.h). The record that made a need (a mount's own
 * syscall record comes after its module loaded) is not a later use: only records after
 * the need's last load count. 0 or -ENOMEM. */
static int note_use(const struct run_reader *rr, const struct pml_tev_hdr *e,
		    struct pml_corpus_use **uses, uint32_t *n, uint32_t *cap)
{
	char aliases[PML_REUSE_MAX][64];
	size_t na = pml_reuse_aliases(e, aliases, PML_REUSE_MAX);

	for (size_t k = 0; k < rr->needs.n && na; k++) {
		const struct pml_need *nd = &rr->needs.v[k];
		bool match = false;

		if (!nd->n_loaded || !nd->alias[0] || e->t_ns <= nd->done_ns ||
		    rr->need_rec[k] >= rr->records)
			continue;
		for (size_t a = 0; a < na && !match; a++)
			match = !strcmp(aliases[a], nd->alias);
		if (!match)
			continue;
		if (*n == *cap) {
			uint32_t nc = *cap ? 2 * *cap : 64;
			struct pml_corpus_use *u;

			if (nc > USES_MAX)
				return 0; /* enough: the rest of the run's uses are left out */
			u = realloc(*uses, nc * sizeof(*u));
			if (!u)
				return -ENOMEM;
			*uses = u;
			*cap = nc;
		}
		(*uses)[(*n)++] = (struct pml_corpus_use){
		    .t_ns = e->t_ns, .rec = (uint32_t)rr->records, .need = (uint32_t)k};
	}
	return 0;
}

/* Pass 2 over one run: encode it. */
static int encode_run(struct pml_corpus *c, const struct pml_corpus_src *s,
		      const struct pml_corpus_opts *o, struct pml_corpus_run *run)
{
	struct pml_feat_encoder *enc = pml_feat_encoder_new(c->vocab);
	int32_t prior[PML_CORPUS_MAX_PRIOR], ids[PML_FEAT_MAX_TOKENS];
	const struct pml_tev_hdr *e;
	struct run_reader rr;
	struct pml_corpus_use *raw = NULL; /* .need: an index into rr.needs */
	uint32_t cap = 0, n_raw = 0, raw_cap = 0;
	uint32_t *kept = NULL; /* rr.needs index -> run->needs index + 1 (0: dropped) */
	int np = 0, r;

	if (!enc)
		return -ENOMEM;
	r = run_reader_open(&rr, s->trace);
	if (r < 0) {
		pml_feat_encoder_free(enc);
		return r;
	}
	if (!c->kernel[0])
		snprintf(c->kernel, sizeof(c->kernel), "%s",
			 pml_trace_reader_header(rr.r)->kernel_release);
	np = pml_feat_encode_prior(c->vocab, o->no_prior ? NULL : rr.command,
				   o->no_prior ? NULL : s->script, prior, PML_CORPUS_MAX_PRIOR);
	while ((r = run_reader_next(&rr, &e)) > 0) {
		int n = pml_feat_encode_record(enc, e, ids);

		if (c->reuse_labels)
			r = note_use(&rr, e, &raw, &n_raw, &raw_cap);
		if (r < 0)
			break;

		if (rr.records == 1) { /* the prior is timed at the first record */
			for (int i = 0; i < np && r >= 0; i++)
				r = push_tok(run, &cap, prior[i], e->t_ns, 0);
			run->n_prior = (uint32_t)np;
		}
		for (int i = 0; i < n && r >= 0; i++)
			r = push_tok(run, &cap, ids[i], e->t_ns, (uint32_t)rr.records);
		if (r < 0)
			break;
	}
	if (r >= 0 && !rr.records) {
		for (int i = 0; i < np && r >= 0; i++)
			r = push_tok(run, &cap, prior[i], 0, 0);
		run->n_prior = (uint32_t)np;
	}
	run->records = rr.records;
	if (r >= 0 && rr.needs.n) {
		run->needs = calloc(rr.needs.n, sizeof(*run->needs));
		if (!run->needs)
			r = -ENOMEM;
	}
	if (r >= 0 && n_raw && !(kept = calloc(rr.needs.n, sizeof(*kept))))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < rr.needs.n; i++) {
		const struct pml_need *nd = &rr.needs.v[i];
		struct pml_corpus_need *cn;

		if (!nd->n_loaded)
			continue; /* resolves to no module: nothing to prefetch */
		if (kept)
			kept[i] = run->n_needs + 1;
		cn = &run->needs[run->n_needs++];
		cn->t_ns = nd->t_ns;
		cn->rec = rr.need_rec[i];
		cn->n_loaded = (uint16_t)nd->n_loaded;
		snprintf(cn->alias, sizeof(cn->alias), "%s", nd->alias);
		snprintf(cn->module, sizeof(cn->module), "%s", nd->module);
		for (uint32_t j = 0; j < nd->n_loaded; j++) {
			int m = pml_corpus_module(c, nd->loaded[j]);

			if (m >= 0)
				cn->mods[cn->n_mods++] = (int16_t)m;
		}
	}
	/* the later uses, by the kept needs' indices (a need of no module has none) */
	for (uint32_t k = 0; r >= 0 && kept && k < n_raw; k++)
		if (raw[k].need < rr.needs.n && kept[raw[k].need]) {
			raw[k].need = kept[raw[k].need] - 1;
			raw[run->n_uses++] = raw[k];
		}
	if (r >= 0 && run->n_uses) {
		run->uses = raw;
		raw = NULL;
	} else {
		run->n_uses = 0;
	}
	free(raw);
	free(kept);
	run_reader_release(&rr);
	pml_feat_encoder_free(enc);
	return r < 0 ? r : 0;
}

static int set_modules(struct pml_corpus *c, char **names, size_t n)
{
	c->modules = calloc(n ? n : 1, sizeof(char *));
	if (!c->modules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->modules[i] = strdup(names[i]);
		if (!c->modules[i])
			return -ENOMEM;
		c->n_modules++;
	}
	qsort(c->modules, n, sizeof(char *), cmp_str);
	return 0;
}

int pml_corpus_build(const struct pml_corpus_src *src, size_t n,
		     const struct pml_corpus_opts *opts, struct pml_corpus **ret)
{
	struct pml_corpus_opts o = opts ? *opts : (struct pml_corpus_opts){0};
	struct pml_corpus *c;
	size_t learned = 0, total = 0;
	int r = 0;

	if (!o.horizon_ms)
		o.horizon_ms = PML_CORPUS_HORIZON_MS;
	if (!o.min_docs)
		o.min_docs = 3;
	if (!o.max_vocab)
		o.max_vocab = 20000;
	if (!n || (o.vocab && !o.n_vocab) || (o.modules && !o.n_modules) ||
	    (!o.vocab != !o.modules))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->horizon_ms = o.horizon_ms;
	c->reuse_labels = o.reuse_labels;
	c->runs = calloc(n, sizeof(*c->runs));
	if (!c->runs) {
		free(c);
		return -ENOMEM;
	}
	if (o.vocab) {
		r = pml_vocab_from_strings(o.vocab, o.n_vocab, &c->vocab);
		if (r == 0)
			r = set_modules(c, (char **)o.modules, o.n_modules);
		if (r < 0)
			goto fail;
	} else {
		struct pml_vocab *counter = pml_vocab_new(), *mods = pml_vocab_new();
		char **names = NULL;
		size_t k = 0;

		if (!counter || !mods) {
			r = -ENOMEM;
		}
		for (size_t i = 0; r == 0 && i < n; i++) {
			int lr;

			if (src[i].split != PML_SPLIT_TRAIN)
				continue;
			lr = learn_run(&src[i], &o, (uint32_t)i, counter, mods);
			if (lr == -ENOMEM)
				r = lr;
			else if (lr == 0)
				learned++;
			total++;
			if (o.progress)
				o.progress(o.progress_ctx, total, 2 * n);
		}
		if (r == 0 && !learned)
			r = -ENODATA;
		if (r == 0)
			r = pml_vocab_prune(counter, o.min_docs, o.max_vocab, &c->vocab);
		if (r == 0) {
			names = calloc(pml_vocab_size(mods), sizeof(char *));
			if (!names)
				r = -ENOMEM;
			/* a module: a full name (no prefixes: names hold no ':') needed in a run */
			for (size_t i = 1; r == 0 && i < pml_vocab_size(mods); i++)
				names[k++] = (char *)pml_vocab_token(mods, (int32_t)i);
			if (r == 0)
				r = set_modules(c, names, k);
		}
		free(names);
		pml_vocab_free(counter);
		pml_vocab_free(mods);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct pml_corpus_run *run = &c->runs[c->n_runs];
		int er;

		memset(run, 0, sizeof(*run));
		snprintf(run->id, sizeof(run->id), "%s", src[i].id ? src[i].id : src[i].trace);
		snprintf(run->scenario, sizeof(run->scenario), "%s",
			 src[i].scenario ? src[i].scenario : "");
		run->split = src[i].split;
		run->heldout = src[i].heldout;
		run->heldout_family = src[i].heldout_family;
		er = encode_run(c, &src[i], &o, run);
		if (o.progress)
			o.progress(o.progress_ctx, o.vocab ? i + 1 : n + i + 1, o.vocab ? n : 2 * n);
		if (er == -ENOMEM) {
			r = er;
			c->n_runs++;
			goto fail;
		}
		if (er < 0 || !run->n_tok) {
			free(run->tok);
			free(run->t_ns);
			free(run->rec);
			free(run->needs);
			free(run->uses);
			continue;
		}
		c->n_runs++;
	}
	if (!c->n_runs) {
		r = -ENODATA;
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	pml_corpus_free(c);
	return r;
}

void pml_corpus_free(struct pml_corpus *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_runs; i++) {
		free(c->runs[i].tok);
		free(c->runs[i].t_ns);
		free(c->runs[i].rec);
		free(c->runs[i].needs);
		free(c->runs[i].uses);
	}
	free(c->runs);
	for (int i = 0; i < c->n_modules; i++)
		free(c->modules[i]);
	free(c->modules);
	pml_vocab_free(c->vocab);
	free(c);
}

int pml_corpus_module(const struct pml_corpus *c, const char *module)
{
	char name[PML_NEED_NAME_LEN];
	int lo = 0, hi = c->n_modules - 1;

	pml_module_name_normalize(module, name);
	while (lo <= hi) {
		int mid = (lo + hi) / 2, d = strcmp(c->modules[mid], name);

		if (!d)
			return mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void pml_corpus_labels(const struct pml_corpus *c, const struct pml_corpus_run *r,
		       uint32_t pos, int n, float pos_weight, float *y, float *mask)
{
	const int M = c->n_modules;
	const uint64_t H = (uint64_t)c->horizon_ms * 1000000;

	memset(y, 0, (size_t)n * M * sizeof(float));
	for (int k = 0; k < n; k++) {
		uint32_t i = pos + k;
		float *yk = y + (size_t)k * M, *mk = mask + (size_t)k * M;

		if (i >= r->n_tok) {
			memset(mk, 0, (size_t)M * sizeof(float));
			continue;
		}
		for (int m = 0; m < M; m++)
			mk[m] = 1.0f;
		for (uint32_t j = 0; j < r->n_needs; j++) {
			const struct pml_corpus_need *nd = &r->needs[j];

			if (nd->rec <= r->rec[i]) { /* happened: loaded, nothing to predict */
				if (c->reuse_labels)
					continue; /* ... but whether it is used again */
				for (int q = 0; q < nd->n_mods; q++)
					mk[nd->mods[q]] = 0.0f;
				continue;
			}
			if (nd->t_ns > r->t_ns[i] + H)
				break; /* later needs are later still */
			for (int q = 0; q < nd->n_mods; q++)
				yk[nd->mods[q]] = 1.0f;
		}
		/* later uses after position i within the horizon (uses are in time order) */
		for (uint32_t u = 0; u < r->n_uses; u++) {
			const struct pml_corpus_use *us = &r->uses[u];
			const struct pml_corpus_need *nd = &r->needs[us->need];

			if (us->rec <= r->rec[i] || nd->rec > r->rec[i])
				continue; /* past, or before its need: the need's label covers it */
			if (us->t_ns > r->t_ns[i] + H)
				break;
			for (int q = 0; q < nd->n_mods; q++)
				yk[nd->mods[q]] = 1.0f;
		}
		for (int m = 0; m < M; m++)
			if (yk[m] > 0 && mk[m] > 0)
				mk[m] = pos_weight;
	}
}

size_t pml_corpus_count(const struct pml_corpus *c, int split, uint64_t *ret_tokens)
{
	size_t n = 0;
	uint64_t t = 0;

	for (size_t i = 0; i < c->n_runs; i++)
		if (split < 0 || (int)c->runs[i].split == split) {
			n++;
			t += c->runs[i].n_tok;
		}
	if (ret_tokens)
		*ret_tokens = t;
	return n;
}

int pml_read_text_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long len;
	int r = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		r = -errno;
		fclose(f);
		return r;
	}
	if (len > (1 << 20)) {
		fclose(f);
		return -EFBIG;
	}
	buf = malloc((size_t)len + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		r = ferror(f) ? -EIO : -ENODATA;
		free(buf);
		fclose(f);
		return r;
	}
	buf[len] = '\0';
	fclose(f);
	*ret = buf;
	return 0;
}

int pml_corpus_from_dataset(const char *dir, const char *workloads_dir,
			    const struct pml_corpus_opts *opts, struct pml_corpus **ret)
{
	struct pml_dataset *ds;
	struct pml_corpus_src *src;
	char (*paths)[4096];
	char **scripts;
	size_t n = 0;
	int r;

	r = pml_dataset_open(dir, &ds);
	if (r < 0)
		return r;
	src = calloc(ds->n_runs ? ds->n_runs : 1, sizeof(*src));
	paths = calloc(ds->n_runs ? ds->n_runs : 1, sizeof(*paths));
	scripts = calloc(ds->n_runs ? ds->n_runs : 1, sizeof(*scripts));
	if (!src || !paths || !scripts) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];

		if (run->state == PML_RUN_LOST || !run->trace[0])
			continue;
		/* a trace entry refused (a link, not a file: logged) fails the corpus, a
		 * forged dataset is not trained on in part */
		r = pml_dataset_trace_path(ds, run, paths[n], sizeof(paths[n]));
		if (r == -ELOOP || r == -EINVAL || r == -EXDEV || r == -EISDIR ||
		    r == -EBADFD)
			goto out;
		if (r < 0)
			continue;
		if (workloads_dir && run->scenario[0]) {
			char sp[4096];

			/* a missing script leaves the prior to the command line */
			if ((size_t)snprintf(sp, sizeof(sp), "%s/%s.sh", workloads_dir,
					     run->scenario) < sizeof(sp))
				pml_read_text_file(sp, &scripts[n]);
		}
		src[n] = (struct pml_corpus_src){.trace = paths[n], .id = run->id,
						 .scenario = run->scenario,
						 .script = scripts[n], .split = run->split,
						 .heldout = run->heldout,
						 .heldout_family = pml_dataset_family_heldout(
							 ds, run->family) != PML_HELD_NONE};
		n++;
	}
	if (!n) {
		r = -ENODATA;
		goto out;
	}
	r = pml_corpus_build(src, n, opts, ret);
out:
	for (size_t i = 0; scripts && i < n; i++)
		free(scripts[i]);
	free(scripts);
	free(paths);
	free(src);
	pml_dataset_free(ds);
	return r;
}
