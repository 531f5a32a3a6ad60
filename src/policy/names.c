/* The names policy: prefetch the modules the program names, and nothing else.
 *
 * The naming rules (name-rules.h) read the words of the submitted command line and script
 * (the prior, before anything runs) and of every executed command (the trace's execve
 * records, at exec, ahead of the call that needs the module), and ask the module index
 * what `type vxlan`, `mkfs.btrfs`, `tc ... netem` resolve to. lstm takes them beside its
 * model; this policy is the rules alone, the baseline a learned model has to beat: they
 * know the kernel's and its tools' naming conventions, nothing of any corpus, and say
 * nothing about a program that does not spell its modules out (a socket call, an
 * ioctl, a library that opens a device).
 *
 * The approximations, the same as lstm's for a named module:
 *  - a named module is asked for once, at its first naming, with confidence
 *    PML_NAME_RULES_P and half the horizon as the expected lead (the rules say "this
 *    program will use it", not when: a script names its modules seconds before it uses
 *    them, an executed command milliseconds);
 *  - a wrong naming (a word that resolves to a module the run never uses: `modprobe -r
 *    sctp` names sctp too) costs memory until it is taken back: a prefetch
 *    not used since (no need, refcount and holders never seen above 0), held
 *    PML_NAME_RULES_HOLD_NS since its last naming, idle for idle_seconds and twice the
 *    horizon, is unloaded; named again, it is asked for again, and the policy frame
 *    (policy.c) bounds that at two prefetches between needs. An unload refused (the
 *    module has users) counts the prediction as used. Needed modules stay, as under
 *    reactive.
 *
 * The trace's records go through the same tokenizer as the model's (model/features.h,
 * with an empty vocabulary: only the strings are read), so the rules see exactly the words
 * lstm's rules see. Cost per record: the tokenizer (a table read for a plain system call)
 * and, for an exec, a few string compares and index look-ups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/corpus.h"
#include "model/features.h"
#include "model/slots.h"
#include "policy/name-rules.h"
#include "policy/needs-model.h"
#include "policy/name-wait.h"
#include "policy/policy.h"
#include "policy/pred-state.h"
#include "util/log.h"
#include "util/modname.h"

/* Modules followed per run (named, needed, loaded); beyond it new ones are not. */
#define NAMES_MAX 1024

struct names_mod {
	char name[64];		/* _ spelling */
	struct pml_pred_mod st; /* needed, loaded, asked ... (queued: in cands) */
	char named[40];		/* the words that named it ("type vxlan") */
	float conf;		/* the naming's confidence */
};

struct names_state {
	struct pml_vocab *vocab; /* empty: the tokenizer's strings are what is read */
	struct pml_feat_encoder *enc;
	struct pml_name_rules rules;
	/* slots: the learned naming instead of the rules */
	bool learned;
	struct pml_slots slots;
	struct pml_slots_model *own_model; /* read from slots_path, else NULL (borrowed) */
	const struct pml_slots_model *model;
	float conf; /* of the naming being told */
	/* the script's namings wait for their command (name-wait.h); in_prior: reading it */
	struct pml_name_wait wait;
	bool in_prior;
	struct names_mod *mods;
	int n_mods;
	int *cands; /* module indices asked for, not yet handed out, in naming order */
	int n_cands;
	uint64_t now; /* the time of what the rules read */
	double horizon_ms;
};

/* The index of module, added when new and add is set; -1 when none (or no room). */
static int mod_get(struct names_state *s, const char *module, bool add)
{
	char name[64];

	if (!module || pml_module_name_normalize(module, name) < 0 || !*name)
		return -1;
	for (int i = 0; i < s->n_mods; i++)
		if (!strcmp(s->mods[i].name, name))
			return i;
	if (!add || s->n_mods >= NAMES_MAX)
		return -1;
	memset(&s->mods[s->n_mods], 0, sizeof(s->mods[0]));
	memcpy(s->mods[s->n_mods].name, name, sizeof(name));
	return s->n_mods++;
}

static void act_named(struct names_state *s, const char *module, const char *words)
{
	int m = mod_get(s, module, true);
	struct names_mod *md;

	if (m < 0)
		return;
	md = &s->mods[m];
	md->st.hold_until = s->now + PML_NAME_RULES_HOLD_NS;
	if (md->st.needed || md->st.loaded || md->st.asked)
		return;
	md->st.asked = true;
	md->conf = s->conf;
	snprintf(md->named, sizeof(md->named), "%s", words);
	if (!md->st.queued) {
		md->st.queued = true;
		s->cands[s->n_cands++] = m;
	}
}

/* A naming: one of the script waits for its command (name-wait.h) */
static void on_named(void *ctx, const char *module, const char *words)
{
	struct names_state *s = ctx;

	if (s->in_prior &&
	    pml_name_wait_hold(&s->wait, module, words, s->conf,
			       s->learned ? s->slots.prog : s->rules.prog,
			       s->learned ? s->slots.before : s->rules.before,
			       s->learned ? s->slots.before2 : s->rules.before2))
		return;
	act_named(s, module, words);
}

/* A naming of the script released by its command's exec */
static void on_released(void *ctx, const char *module, const char *words, float conf)
{
	struct names_state *s = ctx;
	float c = s->conf;

	s->conf = conf;
	act_named(s, module, words);
	s->conf = c;
}

/* slots: a candidate of the slot model, a naming when it reaches the threshold */
static void on_slot(void *ctx, const struct pml_slot_cand *c)
{
	struct names_state *s = ctx;

	if (c->score < s->model->threshold)
		return;
	s->conf = c->score;
	on_named(s, c->module, c->words);
	s->conf = PML_NAME_RULES_P;
}

/* The prior (the job's command line and script) through the naming source. */
static void read_prior(struct names_state *s, const char *command, const char *script)
{
	pml_name_wait_reset(&s->wait, script);
	s->in_prior = true;
	if (s->learned)
		pml_slots_prior(&s->slots, command, script);
	else
		pml_name_rules_prior(&s->rules, command, script);
	s->in_prior = false;
}

static void names_free(struct pml_policy *pol)
{
	struct names_state *s = pol->priv;

	if (!s)
		return;
	pml_slots_model_free(s->own_model);
	pml_feat_encoder_free(s->enc);
	pml_vocab_free(s->vocab);
	free(s->mods);
	free(s->cands);
	free(s);
	pol->priv = NULL;
}

static int names_init(struct pml_policy *pol)
{
	const struct pml_policy_config *cfg = &pol->cfg;
	struct names_state *s;

	if (!cfg->resolve_fn) {
		pml_err("names policy: no module index to ask what a name resolves to (the "
			"rules are off: --no-names)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pol->priv = s;
	s->vocab = pml_vocab_new();
	s->enc = s->vocab ? pml_feat_encoder_new(s->vocab) : NULL;
	s->mods = calloc(NAMES_MAX, sizeof(*s->mods));
	s->cands = calloc(NAMES_MAX, sizeof(*s->cands));
	if (!s->enc || !s->mods || !s->cands) {
		names_free(pol);
		return -ENOMEM;
	}
	s->horizon_ms = cfg->horizon_ms > 0 ? cfg->horizon_ms : PML_CORPUS_HORIZON_MS;
	if (pol->cfg.idle_seconds <= 0)
		pol->cfg.idle_seconds = 2 * s->horizon_ms / 1e3;
	s->conf = PML_NAME_RULES_P;
	s->learned = pol->ops == &pml_policy_slots;
	if (s->learned) {
		int r = 0;

		s->model = cfg->slots_model;
		if (!s->model && cfg->slots_path) {
			r = pml_slots_model_read(cfg->slots_path, cfg->kernel_release,
						 &s->own_model);
			s->model = s->own_model;
		}
		if (!s->model) {
			if (!r)
				pml_err("slots policy: no slot model (pml train --kind slots)");
			names_free(pol);
			return r < 0 ? r : -EINVAL;
		}
		pml_slots_init(&s->slots, s->model, cfg->resolve_fn, cfg->resolve_data, on_slot,
			       s);
	}
	pml_name_rules_init(&s->rules, cfg->resolve_fn, cfg->resolve_data, on_named, s);
	s->now = pml_policy_now(pol);
	read_prior(s, cfg->prior_command, cfg->prior_script);
	return 0;
}

static void names_observe(struct pml_policy *pol, const struct pml_pol_event *ev)
{
	struct names_state *s = pol->priv;
	int m;

	if (ev->kind == PML_POL_PRIOR) {
		/* the job's prior after a start in a template: its words, then its run */
		pml_feat_encoder_reset(s->enc);
		s->now = pml_policy_now(pol);
		read_prior(s, ev->prior_command, ev->prior_script);
		return;
	}
	if (ev->kind == PML_POL_TRACE) {
		int32_t ids[PML_FEAT_MAX_TOKENS];

		if (!ev->tev)
			return;
		pml_feat_encode_record(s->enc, ev->tev, ids);
		s->now = ev->t_ns;
		pml_name_wait_record(&s->wait, pml_feat_encoder_last(s->enc), on_released, s);
		if (s->learned) {
			const struct pml_feat_tokens *t = pml_feat_encoder_last(s->enc);

			for (int i = 0; i < t->n; i++)
				pml_slots_token(&s->slots, t->tok[i]);
		} else {
			pml_name_rules_record(&s->rules, pml_feat_encoder_last(s->enc));
		}
		return;
	}
	m = mod_get(s, ev->module, true);
	if (m >= 0)
		pml_pred_observe(&s->mods[m].st, ev);
}

static int names_decide(struct pml_policy *pol, const struct pml_loaded *mods, size_t n,
			struct pml_action *out, size_t max)
{
	struct names_state *s = pol->priv;
	uint64_t now = pml_policy_now(pol);
	size_t k = 0;
	int kept = 0;

	/* Prefetches first, in naming order: what the program said it is about to use. */
	for (int c = 0; c < s->n_cands; c++) {
		int m = s->cands[c];
		struct names_mod *md = &s->mods[m];
		struct pml_action *a;

		if (k >= max) {
			s->cands[kept++] = m; /* no room: next time */
			continue;
		}
		md->st.queued = false;
		if (!md->st.asked || md->st.loaded || md->st.needed ||
		    pml_pred_in_set(mods, n, md->name))
			continue;
		a = &out[k++];
		a->kind = PML_ACT_LOAD;
		snprintf(a->module, sizeof(a->module), "%s", md->name);
		if (snprintf(a->reason, sizeof(a->reason), "prediction: named by '%s'",
			     md->named) < 0)
			a->reason[0] = '\0';
		a->confidence = md->conf;
		a->basis = s->learned ? PML_BASIS_SLOTS : PML_BASIS_NAMES;
		a->lead_ms = s->horizon_ms / 2;
		pml_pred_cost(pol, md->name, &a->bytes, &a->load_ms);
	}
	s->n_cands = kept;

	/* Then the mistakes: named, loaded, never used, past the hold and the idle time. */
	for (int m = 0; m < s->n_mods && k < max; m++) {
		struct names_mod *md = &s->mods[m];
		const struct pml_loaded *l = NULL;
		double idle_ms = pml_pred_unused_ms(&md->st, md->name, mods, n, now, &l);

		if (idle_ms < 0 || idle_ms < pol->cfg.idle_seconds * 1e3 ||
		    idle_ms < 2 * s->horizon_ms)
			continue;
		pml_pred_unload_action(&out[k++], l->name,
				       "names: prediction unused for %.1f s",
				       idle_ms / 1e3);
	}
	return (int)k;
}

const struct pml_policy_ops pml_policy_names = {
	.name = "names",
	.summary = "reactive, plus prefetch of the modules the program names in its command "
		   "line, script and executed commands ('type vxlan', 'mkfs.btrfs'); unused "
		   "ones are unloaded",
	.init = names_init,
	.observe = names_observe,
	.decide = names_decide,
	.free = names_free,
};

const struct pml_policy_ops pml_policy_slots = {
	.name = "slots",
	.summary = "reactive, plus prefetch of the modules the program names, by a learned "
		   "model of which words fill which kernel alias template (model/slots.h); "
		   "unused ones are unloaded",
	.init = names_init,
	.observe = names_observe,
	.decide = names_decide,
	.free = names_free,
};
