/* libFuzzer target for the prior's reader (src/model/prior-tokens.c, the small sh lexer
 * over a submitted command line and script: text a user wrote) and the slot model's
 * reading of it (src/model/slots.c): the input is the command line, a NUL, the script.
 * It must never crash, hang, leak or trip ASan/UBSan; every token must be a non-empty
 * string shorter than PML_FEAT_TOKEN_LEN, the count pml_features_prior returns must be
 * the tokens told, and each slot candidate a filled template of bounded size. Build and
 * run with tests/model/fuzz-prior.sh; seeds: the workloads' scripts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_tok(void *ctx, const char *tok)
{
	size_t n = strnlen(tok, PML_FEAT_TOKEN_LEN);

	if (n == 0 || n >= PML_FEAT_TOKEN_LEN)
		abort();
	++*(int *)ctx;
	return 0;
}

/* Every alias of 40 bytes or less "resolves" to itself, so that candidates are made. */
static int resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	size_t n = strlen(alias);

	(void)data;
	if (n > 40 || max < 1)
		return 0;
	memcpy(names[0], alias, n + 1);
	return 1;
}

static void on_cand(void *ctx, const struct pml_slot_cand *c)
{
	if (strlen(c->alias) >= 112 || strlen(c->module) >= 64 || c->n_feats < 0 ||
	    c->n_feats > PML_SLOTS_MAX_FEATS || c->tmpl < 0 || c->tmpl >= pml_slots_n_templates())
		abort();
	++*(int *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2), *script;
	struct pml_slots s;
	int told = 0, cands = 0, r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	script = buf + strlen(buf) + 1; /* after the first NUL, or the empty string */
	r = pml_features_prior(buf, script, count_tok, &told);
	if (r != told)
		abort();
	pml_slots_init(&s, NULL, resolve, NULL, on_cand, &cands);
	pml_slots_prior(&s, buf, script);
	free(buf);
	return 0;
}
