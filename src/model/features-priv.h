/* What the feature files share (word-tokens.c: a token's parts, word shapes, path
 * classes, an argument's tokens; record-tokens.c: records to tokens and to ids;
 * prior-tokens.c: the prior to tokens and to ids; vocab.c: the vocabulary). Nothing
 * outside src/model/ should include this; the public contract is features.h. */
#ifndef PML_MODEL_FEATURES_PRIV_H
#define PML_MODEL_FEATURES_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/features.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TL PML_FEAT_TOKEN_LEN
/* A word longer than this is shaped "long" (pml_feat_word_shape). */
#define WORD_LONG 24

/* Small helpers of every feature file, inline as they were in one file (the vocabulary
 * hashes every token it looks up). */
static inline uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char *push(struct pml_feat_tokens *out)
{
	if (out->n >= PML_FEAT_MAX_TOKENS)
		return NULL;
	out->tok[out->n][0] = '\0';
	return out->tok[out->n++];
}

static inline const char *basename_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* ---- word-tokens.c ---- */

/* Append src (at most n bytes) to dst (a TL buffer), replacing ':' (our separator) and
 * bytes outside printable ASCII. */
void feat_tok_cat_n(char *dst, const char *src, size_t n);
/* feat_tok_cat_n() of the whole of src. */
void feat_tok_cat(char *dst, const char *src);
/* A ':' after dst, when it fits in a token (TL bytes with the NUL). */
void feat_tok_sep(char *dst);
/* dst = a ":" b (":" c); each part sanitised (':' inside a part becomes '.'), except that
 * a part given as already-built tail (raw) keeps its colons. */
void feat_tok_set(char *dst, const char *kind, const char *rest_raw);
/* An argument of a command line: an option, a path, or words split at : , = @ */
void feat_arg_tokens(struct pml_feat_tokens *out, const char *arg);

#endif
