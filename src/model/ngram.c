/* The n-gram baseline; see ngram.h for the estimate. Counting is exact (floats
 * hold integers exactly up to 2^24 per cell, far more events than a training split has per
 * context); prediction walks the orders from the prior upward. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/ngram.h"
#include "model/model-file.h"

#define PRIOR_BASE 0.01f /* what an unseen module's prior tends to with no data */

size_t pml_ngram_table_size(const struct pml_ngram_config *cfg)
{
	size_t rows;

	if (cfg->vocab <= 0 || cfg->vocab > (1 << 24) || cfg->modules <= 0 ||
	    cfg->modules > (1 << 16) || cfg->order < 1 || cfg->order > PML_NGRAM_MAX_ORDER ||
	    !(cfg->alpha > 0.0f && cfg->alpha < 1e6f))
		return 0;
	if (cfg->order > 1 && (cfg->buckets <= 0 || cfg->buckets > (1 << 22)))
		return 0;
	rows = 1 + (size_t)cfg->vocab + (cfg->order > 1 ? (size_t)(cfg->order - 1) * cfg->buckets : 0);
	return rows * ((size_t)cfg->modules + 1);
}

static struct pml_ngram *ngram_alloc(const struct pml_ngram_config *cfg)
{
	struct pml_ngram *mk;
	size_t n = pml_ngram_table_size(cfg);

	if (!n)
		return NULL;
	mk = calloc(1, sizeof(*mk));
	if (!mk)
		return NULL;
	mk->cfg = *cfg;
	if (cfg->order == 1)
		mk->cfg.buckets = 0;
	mk->n_floats = n;
	return mk;
}

struct pml_ngram *pml_ngram_new(const struct pml_ngram_config *cfg)
{
	struct pml_ngram *mk = ngram_alloc(cfg);

	if (!mk)
		return NULL;
	mk->table = calloc(mk->n_floats, sizeof(float));
	if (!mk->table) {
		free(mk);
		return NULL;
	}
	return mk;
}

struct pml_ngram *pml_ngram_new_borrowed(const struct pml_ngram_config *cfg,
					 const float *table)
{
	struct pml_ngram *mk = ngram_alloc(cfg);

	if (!mk)
		return NULL;
	mk->table = (float *)table; /* never written: training refuses borrowed models */
	mk->borrowed = true;
	return mk;
}

void pml_ngram_free(struct pml_ngram *mk)
{
	if (!mk)
		return;
	if (!mk->borrowed)
		free(mk->table);
	free(mk);
}

static inline int32_t clamp_token(const struct pml_ngram *mk, int32_t t)
{
	return t >= 0 && t < mk->cfg.vocab ? t : 0;
}

/* The row of the order-k context ending at ctx[n - 1] (k <= n). */
static size_t context_row(const struct pml_ngram *mk, const int32_t *ctx, int n, int k)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)k;

	if (k == 1)
		return 1 + (size_t)clamp_token(mk, ctx[n - 1]);
	for (int i = n - k; i < n; i++) {
		h ^= (uint64_t)(uint32_t)clamp_token(mk, ctx[i]);
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return 1 + (size_t)mk->cfg.vocab + (size_t)(k - 2) * mk->cfg.buckets +
	       h % (uint64_t)mk->cfg.buckets;
}

static void count_row(struct pml_ngram *mk, size_t row, const float *y)
{
	const int M = mk->cfg.modules;
	float *r = mk->table + row * (M + 1);

	r[0] += 1.0f;
	for (int m = 0; m < M; m++)
		r[1 + m] += y[m];
}

int pml_ngram_train(struct pml_ngram *mk, const int32_t *tokens, const float *targets, int N)
{
	const int M = mk->cfg.modules;

	if (mk->borrowed)
		return -EPERM;
	for (int t = 0; t < N; t++) {
		const float *y = targets + (size_t)t * M;

		count_row(mk, 0, y);
		for (int k = 1; k <= mk->cfg.order && k <= t + 1; k++)
			count_row(mk, context_row(mk, tokens, t + 1, k), y);
	}
	return 0;
}

void pml_ngram_predict(const struct pml_ngram *mk, const int32_t *ctx, int n, float *probs)
{
	const int M = mk->cfg.modules;
	const float a = mk->cfg.alpha;
	const float *r = mk->table;

	for (int m = 0; m < M; m++)
		probs[m] = (r[1 + m] + a * PRIOR_BASE) / (r[0] + a);
	for (int k = 1; k <= mk->cfg.order && k <= n; k++) {
		float inv;

		r = mk->table + context_row(mk, ctx, n, k) * (M + 1);
		if (r[0] == 0.0f)
			continue; /* unseen context: the lower order's estimate stands */
		inv = 1.0f / (r[0] + a);
		for (int m = 0; m < M; m++)
			probs[m] = (r[1 + m] + a * probs[m]) * inv;
	}
}

int pml_ngram_save(const struct pml_ngram *mk, const char *path,
		   const struct pml_model_meta *meta)
{
	const struct pml_ngram_config *c = &mk->cfg;
	struct pml_model_desc d = {
		.kind = PML_MODEL_NGRAM,
		.params = {c->vocab, c->modules, c->order, c->buckets,
			   (uint32_t)(c->alpha * 1000.0f + 0.5f)},
		.meta = *meta,
		.n_vocab = c->vocab,
		.n_modules = c->modules,
		.weights = mk->table,
		.n_weights = mk->n_floats,
	};

	return pml_model_file_write(path, &d);
}

int pml_ngram_from_file(const struct pml_model_file *mf, struct pml_ngram **ret)
{
	struct pml_ngram_config cfg;
	struct pml_ngram *mk;

	if (mf->kind != PML_MODEL_NGRAM || mf->params[0] > (1u << 24) ||
	    mf->params[1] > (1u << 16) || mf->params[2] > PML_NGRAM_MAX_ORDER ||
	    mf->params[3] > (1u << 22) || mf->params[4] > (1u << 30))
		return -EINVAL;
	cfg = (struct pml_ngram_config){.vocab = mf->params[0], .modules = mf->params[1],
					.order = mf->params[2], .buckets = mf->params[3],
					.alpha = mf->params[4] / 1000.0f};
	if (pml_ngram_table_size(&cfg) != mf->n_weights)
		return -EINVAL;
	mk = pml_ngram_new_borrowed(&cfg, mf->weights);
	if (!mk)
		return -ENOMEM;
	*ret = mk;
	return 0;
}
