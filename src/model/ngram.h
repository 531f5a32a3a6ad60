/* The n-gram baseline predictor: P(module m needed within the horizon | the last
 * k tokens), counted from the same labels the LSTM trains on, for k = 0 (the prior) up to
 * the order (1..3), each order's estimate smoothed toward the one below it (Dirichlet /
 * interpolated backoff):
 *
 *   p_k(m | ctx) = (hits_k[ctx][m] + alpha * p_{k-1}(m | ctx')) / (count_k[ctx] + alpha)
 *
 * Order 1 indexes the token directly; orders 2 and 3 hash the context into a fixed number
 * of buckets (collisions merge contexts; with buckets >> distinct contexts they are rare).
 * Its table is one float allocation, rows of [count, hits[M]], so it is saved in the model
 * file and used from the mapping like the LSTM's weights. Cost per event: (order + 1) x M
 * multiply-adds.
 *
 * Users still call it "markov" (pml train --model markov, the predictor's name); it is
 * not the markov policy (policy/markov.c), a chain over needs without tokens. */
#ifndef PML_MODEL_NGRAM_H
#define PML_MODEL_NGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_NGRAM_MAX_ORDER 3

struct pml_ngram_config {
	int vocab;   /* V */
	int modules; /* M */
	int order;   /* 1..3 */
	int buckets; /* hashed contexts per order >= 2 (ignored for order 1) */
	float alpha; /* smoothing toward the lower order, > 0 (e.g. 2) */
};

struct pml_ngram {
	struct pml_ngram_config cfg;
	float *table; /* [rows, M + 1]: row 0 the prior, then V order-1 rows, then buckets
		       * rows per order >= 2 */
	size_t n_floats;
	bool borrowed;
};

/* Floats in the table of cfg; 0 for an invalid config. */
size_t pml_ngram_table_size(const struct pml_ngram_config *cfg);
/* An empty (all-zero counts) model; NULL on a bad config or no memory. */
struct pml_ngram *pml_ngram_new(const struct pml_ngram_config *cfg);
/* A model over a borrowed table (e.g. a mapped model file): read-only. */
struct pml_ngram *pml_ngram_new_borrowed(const struct pml_ngram_config *cfg,
					 const float *table);
void pml_ngram_free(struct pml_ngram *mk);

/* Count one stream: tokens [N], targets [N, M] (1: module needed within the horizon after
 * event t; the LSTM's labels). The context starts empty at the stream's start.
 * Returns 0 or -EPERM (borrowed). */
int pml_ngram_train(struct pml_ngram *mk, const int32_t *tokens, const float *targets,
		    int N);
/* Probabilities given the last n tokens ctx (oldest first; n may exceed or fall short of
 * the order) into probs [M]. */
void pml_ngram_predict(const struct pml_ngram *mk, const int32_t *ctx, int n, float *probs);

/* Model file: params = {V, M, order, buckets, alpha * 1000}. */
struct pml_model_meta;
struct pml_model_file;
int pml_ngram_save(const struct pml_ngram *mk, const char *path,
		   const struct pml_model_meta *meta);
/* Returns 0, -EINVAL (not an n-gram file or a table of the wrong size), -ENOMEM. */
int pml_ngram_from_file(const struct pml_model_file *mf, struct pml_ngram **ret);

#endif
