/* libFuzzer target for the prior's reader (src/model/prior-tokens.c, the small sh lexer
 * over a submitted command line and script: text a user wrote), the slot model's and the
 * naming rules' reading of it (src/model/slots.c, src/policy/name-rules.c), and the wait
 * of the script's namings for their commands (src/policy/name-wait.c): the input is the
 * command line, a NUL, the script. It must never crash, hang, leak or trip ASan/UBSan;
 * every token must be a non-empty string shorter than PML_FEAT_TOKEN_LEN, the count
 * pml_features_prior returns must be the tokens told, each slot candidate a filled
 * template of bounded size, and once every program the prior names has run, no naming may
 * still be held. Build and run with tests/model/fuzz-prior.sh; seeds: the workloads'
 * scripts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/slots.h"
#include "policy/name-rules.h"
#include "policy/name-wait.h"

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

/* The rules' namings, held by the wait when it says so (the prior's programs: exec_tokens) */
struct naming {
	struct pml_name_rules rules;
	struct pml_name_wait wait;
	struct pml_feat_tokens execs;
};

static void on_name(void *ctx, const char *module, const char *words)
{
	struct naming *n = ctx;

	if (!*module || strlen(words) >= 40)
		abort();
	pml_name_wait_hold(&n->wait, module, words, 0.95f, n->rules.prog, n->rules.before,
			   n->rules.before2);
	if (n->wait.n_held > PML_NAME_WAIT_MAX)
		abort();
}

static int collect_exec(void *ctx, const char *tok)
{
	struct pml_feat_tokens *t = ctx;

	if (!strncmp(tok, "exec:", 5) && t->n < PML_FEAT_MAX_TOKENS)
		memcpy(t->tok[t->n++], tok, strlen(tok) + 1);
	return 0;
}

static void on_release(void *ctx, const char *module, const char *words, float conf)
{
	if (!*module || conf != 0.95f)
		abort();
	++*(int *)ctx;
}

/* The script's namings through the wait; then its programs run, in the prior's order (as
 * many as a record's tokens hold at a time): nothing may stay held. */
static void wait_names(const char *command, const char *script)
{
	static struct naming n;
	struct pml_feat_tokens one;
	int released = 0;

	pml_name_rules_init(&n.rules, resolve, NULL, on_name, &n);
	pml_name_wait_reset(&n.wait, script);
	pml_name_rules_prior(&n.rules, command, script);
	n.execs.n = 0;
	pml_features_prior(command, script, collect_exec, &n.execs);
	if (n.execs.n == PML_FEAT_MAX_TOKENS)
		return; /* some programs were not collected: the check does not hold */
	one.n = 1;
	for (int i = 0; i < n.execs.n; i++) {
		memcpy(one.tok[0], n.execs.tok[i], sizeof(one.tok[0]));
		pml_name_wait_record(&n.wait, &one, on_release, &released);
	}
	if (n.wait.n_held != 0)
		abort();
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
	wait_names(buf, script);
	free(buf);
	return 0;
}
