/* The vocabulary: token strings to integers, a hash table over an owned string arena, with
 * the counting and pruning that training builds it by. See features.h for the contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/features-priv.h"

/* ---- the vocabulary ----------------------------------------------------------------------- */

struct pml_vocab {
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *off;	    /* [n] string offsets into arena */
	uint32_t *docs;	    /* [n] documents seen in (counting) */
	uint32_t *last_doc; /* [n] last document + 1 */
	size_t n, cap;
	int32_t *slots; /* hash table of ids, -1 empty */
	size_t n_slots;
};

static int vocab_grow_slots(struct pml_vocab *v)
{
	size_t ns = v->n_slots ? v->n_slots * 2 : 256;
	int32_t *s = malloc(ns * sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(s, 0xff, ns * sizeof(*s));
	for (size_t i = 0; i < v->n; i++) {
		const char *str = v->arena + v->off[i];
		size_t h = fnv1a(str, strlen(str)) & (ns - 1);

		while (s[h] >= 0)
			h = (h + 1) & (ns - 1);
		s[h] = (int32_t)i;
	}
	free(v->slots);
	v->slots = s;
	v->n_slots = ns;
	return 0;
}

static int32_t vocab_find_n(const struct pml_vocab *v, const char *s, size_t len)
{
	size_t h;

	if (!v->n_slots)
		return -1;
	h = fnv1a(s, len) & (v->n_slots - 1);
	while (v->slots[h] >= 0) {
		const char *str = v->arena + v->off[v->slots[h]];

		if (!strncmp(str, s, len) && str[len] == '\0')
			return v->slots[h];
		h = (h + 1) & (v->n_slots - 1);
	}
	return -1;
}

static int32_t vocab_add_n(struct pml_vocab *v, const char *s, size_t len)
{
	int32_t id = vocab_find_n(v, s, len);
	size_t h;

	if (id >= 0)
		return id;
	if (v->n >= INT32_MAX - 1 || v->arena_len + len + 1 > UINT32_MAX)
		return -ENOMEM;
	if ((v->n + 1) * 2 > v->n_slots && vocab_grow_slots(v) < 0)
		return -ENOMEM;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		uint32_t *o = realloc(v->off, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		v->off = o;
		o = realloc(v->docs, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		v->docs = o;
		o = realloc(v->last_doc, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		v->last_doc = o;
		v->cap = cap;
	}
	if (v->arena_len + len + 1 > v->arena_cap) {
		size_t cap = v->arena_cap ? v->arena_cap * 2 : 4096;
		char *a;

		while (cap < v->arena_len + len + 1)
			cap *= 2;
		a = realloc(v->arena, cap);
		if (!a)
			return -ENOMEM;
		v->arena = a;
		v->arena_cap = cap;
	}
	memcpy(v->arena + v->arena_len, s, len);
	v->arena[v->arena_len + len] = '\0';
	v->off[v->n] = (uint32_t)v->arena_len;
	v->docs[v->n] = 0;
	v->last_doc[v->n] = 0;
	v->arena_len += len + 1;
	h = fnv1a(s, len) & (v->n_slots - 1);
	while (v->slots[h] >= 0)
		h = (h + 1) & (v->n_slots - 1);
	v->slots[h] = (int32_t)v->n;
	return (int32_t)v->n++;
}

struct pml_vocab *pml_vocab_new(void)
{
	struct pml_vocab *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (vocab_add_n(v, PML_TOK_OOV, strlen(PML_TOK_OOV)) != 0) {
		pml_vocab_free(v);
		return NULL;
	}
	return v;
}

void pml_vocab_free(struct pml_vocab *v)
{
	if (!v)
		return;
	free(v->arena);
	free(v->off);
	free(v->docs);
	free(v->last_doc);
	free(v->slots);
	free(v);
}

int pml_vocab_from_strings(const char *const *strings, size_t n, struct pml_vocab **ret)
{
	struct pml_vocab *v;

	if (!n || strcmp(strings[0], PML_TOK_OOV))
		return -EINVAL;
	v = pml_vocab_new();
	if (!v)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		int32_t id = vocab_add_n(v, strings[i], strlen(strings[i]));

		if (id < 0) {
			pml_vocab_free(v);
			return -ENOMEM;
		}
		if ((size_t)id != i) { /* a duplicate string */
			pml_vocab_free(v);
			return -EINVAL;
		}
	}
	*ret = v;
	return 0;
}

size_t pml_vocab_size(const struct pml_vocab *v)
{
	return v->n;
}

const char *pml_vocab_token(const struct pml_vocab *v, int32_t id)
{
	return id >= 0 && (size_t)id < v->n ? v->arena + v->off[id] : NULL;
}

int32_t pml_vocab_find(const struct pml_vocab *v, const char *s)
{
	return vocab_find_n(v, s, strlen(s));
}

int32_t pml_vocab_lookup(const struct pml_vocab *v, const char *s)
{
	size_t len = strlen(s);

	for (;;) {
		int32_t id = vocab_find_n(v, s, len);

		if (id >= 0)
			return id;
		while (len > 0 && s[len - 1] != ':')
			len--;
		if (len == 0)
			return 0;
		len--; /* drop the ':' */
	}
}

int32_t pml_vocab_add(struct pml_vocab *v, const char *s)
{
	return vocab_add_n(v, s, strlen(s));
}

int pml_vocab_count(struct pml_vocab *v, const char *s, uint32_t doc)
{
	size_t len = strlen(s);

	while (len) {
		int32_t id = vocab_add_n(v, s, len);

		if (id < 0)
			return id;
		if (v->last_doc[id] != doc + 1) {
			v->last_doc[id] = doc + 1;
			v->docs[id]++;
		}
		while (len > 0 && s[len - 1] != ':')
			len--;
		if (len)
			len--;
	}
	return 0;
}

uint32_t pml_vocab_docs(const struct pml_vocab *v, const char *s)
{
	int32_t id = pml_vocab_find(v, s);

	return id >= 0 ? v->docs[id] : 0;
}

static const struct pml_vocab *sort_vocab; /* qsort has no context argument */

static int by_docs(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	uint32_t dx = sort_vocab->docs[x], dy = sort_vocab->docs[y];

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(sort_vocab->arena + sort_vocab->off[x],
		      sort_vocab->arena + sort_vocab->off[y]);
}

int pml_vocab_prune(const struct pml_vocab *counted, uint32_t min_docs, size_t max_size,
		    struct pml_vocab **ret)
{
	static const char *const specials[] = {PML_TOK_PRIOR, PML_TOK_START};
	struct pml_vocab *v = pml_vocab_new();
	int32_t *ids = malloc((counted->n + 1) * sizeof(*ids));
	size_t k = 0;

	if (!v || !ids) {
		pml_vocab_free(v);
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(specials); i++)
		if (pml_vocab_add(v, specials[i]) < 0)
			goto nomem;
	for (size_t i = 1; i < counted->n; i++)
		if (counted->docs[i] >= min_docs && pml_vocab_find(v, counted->arena + counted->off[i]) < 0)
			ids[k++] = (int32_t)i;
	sort_vocab = counted;
	qsort(ids, k, sizeof(*ids), by_docs);
	sort_vocab = NULL;
	for (size_t i = 0; i < k && (!max_size || v->n < max_size); i++)
		if (pml_vocab_add(v, counted->arena + counted->off[ids[i]]) < 0)
			goto nomem;
	for (size_t i = 0; i < v->n; i++) {
		int32_t id = pml_vocab_find(counted, v->arena + v->off[i]);

		v->docs[i] = id >= 0 ? counted->docs[id] : 0;
	}
	free(ids);
	*ret = v;
	return 0;
nomem:
	pml_vocab_free(v);
	free(ids);
	return -ENOMEM;
}
