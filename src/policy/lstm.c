/* The lstm policy: prefetch what a learned model of the program's behaviour says it is
 * about to need.
 *
 * The question a prefetcher must answer is "which module will this program need, and
 * when?". The markov policy answers it from the needs alone; this one reads everything the
 * tracer sees, earliest first: the submitted command line and script text (the prior, fed
 * before the program runs), then every record of the run as tokens (model/features.h:
 * executed programs and their arguments, sockets, paths, mounts, netlink link kinds, the
 * libraries mapped, earlier needs). A predictor (model/predictor.h: an LSTM, or the n-gram
 * baseline over the same tokens) turns the stream into, for every module it knows, the
 * probability that the program needs it within the model's horizon (2 s by default: the
 * labels it was trained on say what "soon" means, in ms of the trace clock; the driver's
 * horizon_ms, pmld --horizon, changes the urgency and the take-back time below, not the
 * probabilities).
 *
 * The approximations, and what they cost:
 *  - a prefetch is asked for once, when a module's probability first crosses the
 *    threshold: the earliest confident signal wins, because a prefetch pays only if it
 *    completes before the need (loads take 10-600 ms here). Candidates are handed out most
 *    probable first; the horizon's half goes to the resource manager as the expected lead
 *    time (the model says "within the horizon", not when), so a tight budget refuses by
 *    confidence and cost, not by a promise of timing the model cannot make;
 *  - the model was trained on reactive runs, where every need shows as a module_request
 *    and module_load records; live, a module this policy prefetched is never requested,
 *    so those tokens are missing and the stream drifts from what the model saw. Replay of
 *    reactive traces (sim) has no such drift. A run the model never saw the like of gets
 *    low probabilities everywhere and simply runs reactively: a miss is a stall, as under
 *    Linux as shipped, never an error;
 *  - a module never seen needed in training has no output: it is always left to the
 *    reactive path;
 *  - once the job runs (or its script names) a program no training run ran (its
 *    exec:NAME token falls back to the bare "exec"), the model's own guesses stop for the
 *    rest of the job: what it says about a program it never saw was mostly wrong (on the
 *    validation split, 42 of the model's 132 wasted prefetches on held-out scenarios came
 *    after such a program, and none of its used ones: doc/sim.md). A launcher is not the
 *    program: an unknown one on the command line, or one whose process executes a known
 *    program within 100 ms (env, nice), stops nothing. Names and the slot model go on,
 *    they read the program's words whatever the program;
 *  - a module the training runs only ever loaded as another's dependency (udp_tunnel for
 *    sctp, vxlan or geneve; the model file's roles, model-file.h) is never prefetched on
 *    its own: the kernel never asks for it, it comes with the module that needs it. Its
 *    probability is high whenever any of its users' is (it is a label of all of them), so
 *    alone it was the most common wasted prefetch in replay.
 * A prediction that was wrong costs memory and exposure until it is taken back: a module
 * this policy loaded, not used since (no need for it, refcount and holders never seen
 * above 0), loaded for idle_seconds and twice the horizon at least, and no longer predicted
 * (below the threshold now) is unloaded; the report counts it as a wasted load. It is
 * asked for again only after its probability has fallen below 0.8 x threshold and crossed
 * again (hysteresis: no load/unload cycling on a probability that hovers); one named by
 * the program's words (the naming rules, policy/name-rules.h: a second source beside the
 * model when the driver gives a resolver; the names policy is that source alone, and
 * lstm-model the model alone) is asked for again at its next naming, and the policy frame
 * (policy.c) bounds both: no more than two prefetches of a module without a need of it
 * between. An unload the kernel or the loader refused (the module has users: a reference,
 * an interface of its kind) counts the prediction as used. Modules the program really
 * needed stay, as under reactive; under lstm+idle-unload they go once idle-unload finds
 * them idle for idle_seconds. There a used module is kept for a predicted next use only
 * when the model was trained to predict later uses (pml train --reuse-labels); a model
 * trained on first needs alone says nothing about a next use once the first has come (on
 * the validation split, keeping what it still scored cost 5.8% of the footprint for one
 * stall in 2899 needs: doc/sim.md). A module so unloaded is asked for again only after its
 * probability has fallen below the hysteresis and crossed again.
 *
 * Cost per event: the features (a table read for a plain system call) and one predictor
 * step (tests/model/bench-predictor.c measures both). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/model-file.h"
#include "model/predictor.h"
#include "model/slots.h"
#include "policy/name-rules.h"
#include "policy/name-wait.h"
#include "policy/needs-model.h"
#include "policy/policy.h"
#include "policy/pred-state.h"
#include "util/log.h"
#include "util/modname.h"

#define HYSTERESIS 0.8f
/* Named modules (policy/name-rules.h): at most this many outside the model's list. */
#define NAMED_MAX 64

struct lstm_mod {
	/* needed, loaded, asked ... (queued: in cands; hold_until: named) */
	struct pml_pred_mod st;
	bool armed; /* may be asked for (probability fell below the hysteresis since) */
	float p_ask;
	int32_t by_token; /* the token whose step crossed the threshold */
	char named[40];	  /* the words that named it, when a rule did ("type vxlan") */
};

struct lstm_state {
	struct pml_predictor *p;
	bool own_p;
	struct pml_vocab *vocab;
	struct pml_feat_encoder *enc;
	/* [M + NAMED_MAX]: the model's modules, then those named outside its list (whose
	 * probability stays 0) */
	float *probs;
	struct lstm_mod *mods;
	int *cands; /* module indices asked for, not yet handed out */
	int n_cands;
	char (*extra)[64];
	int n_extra;
	/* the naming rules, when the driver gave a resolver; the time of what they read */
	struct pml_name_rules names;
	bool use_names;
	/* learned: the slot model (model/slots.h) names instead of the rules */
	struct pml_slots slots;
	struct pml_slots_model *own_slots;
	const struct pml_slots_model *slots_model;
	float name_p; /* the confidence of the naming being told */
	/* the script's namings wait for their command (name-wait.h); in_prior: reading it */
	struct pml_name_wait wait;
	bool in_prior;
	uint64_t now;
	float thr;
	double horizon_ms;
	uint64_t events, tokens;
	/* exec_unknown: the token a program's name no training run ran falls back to (the
	 * bare prefix "exec"; -1: none); unfamiliar: the job's script names such a program,
	 * or the job has run one, and the model's own guesses have stopped. They stop at
	 * the exec (its first records are where the model guesses wrong), for good once the
	 * process has not executed another program within LAUNCHER_NS; one that has was a
	 * launcher (env, nice) and they resume. pending_pid: that process, since pending_t. */
	int32_t exec_unknown;
	bool unfamiliar;
	uint32_t pending_pid;
	uint64_t pending_t;
	/* the model was trained on later uses too (pml train --reuse-labels): a used module's
	 * probability then predicts its next use */
	bool knows_reuse;
	/* unload_idle: an idle-unload policy told every event, whose unloads of used modules
	 * are made (with knows_reuse: when the module's predicted next use has fallen) */
	struct pml_policy *idle;
};

/* The model's index of module (names spelt either way), -1 when it has none. The model's
 * module list is sorted (model/corpus.h), so a binary search; a list that is not falls
 * back to a scan. */
static int mod_index(const struct lstm_state *s, const char *module)
{
	const char *const *mods = s->p->modules;
	int lo = 0, hi = s->p->n_modules - 1;
	char name[64];

	if (!module || !mods)
		return -1;
	pml_module_name_normalize(module, name);
	for (int i = 0; i < s->n_extra; i++)
		if (!strcmp(s->extra[i], name))
			return s->p->n_modules + i;
	while (lo <= hi) {
		int mid = (lo + hi) / 2, d = strcmp(mods[mid], name);

		if (!d)
			return mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	for (int i = 0; i < s->p->n_modules; i++)
		if (pml_module_name_eq(mods[i], name))
			return i;
	return -1;
}

static const char *name_of(const struct lstm_state *s, int m)
{
	return m < s->p->n_modules ? s->p->modules[m] : s->extra[m - s->p->n_modules];
}

static void queue(struct lstm_state *s, int m)
{
	if (!s->mods[m].st.queued) {
		s->mods[m].st.queued = true;
		s->cands[s->n_cands++] = m;
	}
}

static void scan(struct lstm_state *s, int32_t token)
{
	for (int m = 0; m < s->p->n_modules; m++) {
		struct lstm_mod *md = &s->mods[m];
		float q = s->probs[m];

		if (q < s->thr * HYSTERESIS)
			md->armed = true;
		if (q < s->thr || !md->armed || s->unfamiliar || s->pending_pid ||
		    md->st.needed || md->st.loaded ||
		    md->st.asked || (s->p->roles && s->p->roles[m] == PML_MODEL_ROLE_DEP))
			continue;
		md->st.asked = true;
		md->armed = false;
		md->p_ask = q;
		md->by_token = token;
		md->named[0] = '\0';
		queue(s, m);
	}
}

/* ---- modules the program names (policy/name-rules.h) ----------------------------------
 * A named module is a prefetch of confidence PML_NAME_RULES_P, the model's list or not (up
 * to NAMED_MAX outside it), held PML_NAME_RULES_HOLD_NS before an unused one may be taken
 * back. */
static void act_named(struct lstm_state *s, const char *module, const char *words)
{
	char norm[64];
	int m = mod_index(s, module);
	struct lstm_mod *md;

	if (m < 0) {
		if (s->n_extra >= NAMED_MAX || pml_module_name_normalize(module, norm) < 0 ||
		    !*norm)
			return;
		memcpy(s->extra[s->n_extra++], norm, sizeof(norm));
		m = mod_index(s, norm);
		if (m < 0)
			return;
		s->mods[m].armed = true;
	}
	md = &s->mods[m];
	md->st.hold_until = s->now + PML_NAME_RULES_HOLD_NS;
	if (md->st.needed || md->st.loaded || md->st.asked)
		return;
	md->st.asked = true;
	md->armed = false;
	md->p_ask = s->name_p;
	md->by_token = -1;
	snprintf(md->named, sizeof(md->named), "%s", words);
	queue(s, m);
}

/* A naming: one of the script waits for its command (name-wait.h) */
static void on_named(void *ctx, const char *module, const char *words)
{
	struct lstm_state *s = ctx;

	if (s->in_prior &&
	    pml_name_wait_hold(&s->wait, module, words, s->name_p,
			       s->slots_model ? s->slots.prog : s->names.prog,
			       s->slots_model ? s->slots.before : s->names.before,
			       s->slots_model ? s->slots.before2 : s->names.before2))
		return;
	act_named(s, module, words);
}

/* A naming of the script released by its command's exec */
static void on_released(void *ctx, const char *module, const char *words, float conf)
{
	struct lstm_state *s = ctx;
	float p = s->name_p;

	s->name_p = conf;
	act_named(s, module, words);
	s->name_p = p;
}

/* learned: a slot model's candidate is a naming when it reaches its threshold */
static void on_slot(void *ctx, const struct pml_slot_cand *c)
{
	struct lstm_state *s = ctx;

	if (c->score < s->slots_model->threshold)
		return;
	s->name_p = c->score;
	on_named(s, c->module, c->words);
	s->name_p = PML_NAME_RULES_P;
}

/* ids[watch_from..n) (none when watch_from < 0): a program no training run ran there stops
 * the model's guesses from that token on */
static void feed(struct lstm_state *s, const int32_t *ids, int n, int watch_from)
{
	for (int i = 0; i < n; i++) {
		if (watch_from >= 0 && i >= watch_from && ids[i] == s->exec_unknown)
			s->unfamiliar = true;
		pml_predictor_observe(s->p, ids[i], s->probs);
		s->tokens++;
		scan(s, ids[i]);
	}
}

static void lstm_free(struct pml_policy *pol)
{
	struct lstm_state *s = pol->priv;

	if (!s)
		return;
	if (s->own_p)
		pml_predictor_free(s->p);
	pml_policy_free(s->idle);
	pml_slots_model_free(s->own_slots);
	pml_feat_encoder_free(s->enc);
	pml_vocab_free(s->vocab);
	free(s->probs);
	free(s->mods);
	free(s->cands);
	free(s->extra);
	free(s);
	pol->priv = NULL;
}

/* The prior: before the program runs, what it was told to do (the command line, the
 * script's text; either may be NULL). Given at init, or later (PML_POL_PRIOR) to a policy
 * that started before its job, as in a guest restored from a snapshot: the predictor's
 * stream then starts again from the prior, as in training, and what it read before (the
 * guest's own set-up) is forgotten. 0 or -ENOMEM. */
static int apply_prior(struct pml_policy *pol, const char *command, const char *script)
{
	struct lstm_state *s = pol->priv;
	int32_t *prior = malloc(PML_FEAT_MAX_PRIOR * sizeof(int32_t));
	int from;

	if (!prior)
		return -ENOMEM;
	/* the script's commands come after the command line's (and its <start>): from
	 * there on, a program no training run ran stops the model's guesses (the command
	 * line is left out: a launcher such as env there says nothing of the job) */
	from = pml_feat_encode_prior(s->vocab, command, NULL, prior, PML_FEAT_MAX_PRIOR) - 1;
	feed(s, prior, pml_feat_encode_prior(s->vocab, command, script, prior, PML_FEAT_MAX_PRIOR),
	     from);
	free(prior);
	if (s->use_names) {
		s->now = pml_policy_now(pol);
		pml_name_wait_reset(&s->wait, script);
		s->in_prior = true;
		if (s->slots_model)
			pml_slots_prior(&s->slots, command, script);
		else
			pml_name_rules_prior(&s->names, command, script);
		s->in_prior = false;
	}
	return 0;
}

static int lstm_init(struct pml_policy *pol)
{
	const struct pml_policy_config *cfg = &pol->cfg;
	struct lstm_state *s = calloc(1, sizeof(*s));
	const struct pml_policy_info *info;
	int r;

	if (!s)
		return -ENOMEM;
	pol->priv = s;
	if (cfg->predictor) {
		s->p = cfg->predictor;
		pml_predictor_reset(s->p);
	} else if (cfg->model_path) {
		r = pml_predictor_open(cfg->model_path, cfg->kernel_release, 0, &s->p);
		if (r < 0)
			goto fail; /* the loader logged why */
		s->own_p = true;
	} else {
		pml_err("lstm policy: no model (a model file: pml train)");
		r = -EINVAL;
		goto fail;
	}
	if (!s->p->vocab || !s->p->modules || s->p->n_modules <= 0) {
		pml_err("lstm policy: the predictor has no vocabulary or module list");
		r = -EINVAL;
		goto fail;
	}
	if (s->p->file && s->p->file->features_version != PML_FEAT_VERSION) {
		pml_err("%s: made with token scheme %u, this pml has %d: retrain it (pml train)",
			cfg->model_path ? cfg->model_path : "model",
			s->p->file->features_version, PML_FEAT_VERSION);
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	r = pml_vocab_from_strings(s->p->vocab, (size_t)s->p->n_tokens, &s->vocab);
	if (r < 0) {
		pml_err("lstm policy: the model's vocabulary is malformed");
		goto fail;
	}
	s->enc = pml_feat_encoder_new(s->vocab);
	s->probs = calloc((size_t)s->p->n_modules + NAMED_MAX, sizeof(float));
	s->mods = calloc((size_t)s->p->n_modules + NAMED_MAX, sizeof(*s->mods));
	s->cands = calloc((size_t)s->p->n_modules + NAMED_MAX, sizeof(int));
	s->extra = calloc(NAMED_MAX, sizeof(*s->extra));
	if (!s->enc || !s->probs || !s->mods || !s->cands || !s->extra) {
		r = -ENOMEM;
		goto fail;
	}
	s->exec_unknown = pml_vocab_find(s->vocab, "exec");
	s->knows_reuse = s->p->file && (s->p->file->train_flags & PML_MODEL_TRAIN_REUSE);
	for (int m = 0; m < s->p->n_modules; m++)
		s->mods[m].armed = true;
	s->thr = cfg->threshold > 0 ? (float)cfg->threshold
		 : s->p->file && s->p->file->threshold > 0 ? s->p->file->threshold
							    : 0.5f;
	pol->cfg.threshold = s->thr;
	s->horizon_ms = cfg->horizon_ms > 0 ? cfg->horizon_ms
			: s->p->horizon_ms	  ? s->p->horizon_ms
						  : 2000;
	if (pol->cfg.idle_seconds <= 0)
		pol->cfg.idle_seconds = 2 * s->horizon_ms / 1e3;
	if (cfg->unload_idle) {
		struct pml_policy_config icfg = {
			.idle_seconds = pol->cfg.idle_seconds,
			.pinned = cfg->pinned,
			.n_pinned = cfg->n_pinned,
			.pinned_fn = cfg->pinned_fn,
			.pinned_data = cfg->pinned_data,
			.clock = cfg->clock,
		};

		r = pml_policy_new("idle-unload", &icfg, &s->idle);
		if (r < 0)
			goto fail;
	}
	s->name_p = PML_NAME_RULES_P;
	info = pml_policy_info(pol->ops->name);
	if (cfg->resolve_fn && info && (info->flags & PML_POLICY_SLOTS)) {
		s->slots_model = cfg->slots_model;
		if (!s->slots_model && cfg->slots_path) {
			r = pml_slots_model_read(cfg->slots_path, cfg->kernel_release,
						 &s->own_slots);
			if (r < 0)
				goto fail;
			s->slots_model = s->own_slots;
		}
		if (!s->slots_model) {
			pml_err("learned policy: no slot model (pml train-slots)");
			r = -EINVAL;
			goto fail;
		}
		pml_slots_init(&s->slots, s->slots_model, cfg->resolve_fn, cfg->resolve_data,
			       on_slot, s);
		s->use_names = true;
	} else if (cfg->resolve_fn) {
		pml_name_rules_init(&s->names, cfg->resolve_fn, cfg->resolve_data, on_named, s);
		s->use_names = true;
	}
	r = apply_prior(pol, cfg->prior_command, cfg->prior_script);
	if (r < 0)
		goto fail;
	return 0;
fail:
	lstm_free(pol);
	return r;
}

/* A process that executed a program no training run ran and has not executed another
 * within LAUNCHER_NS ran it (env, nice or stdbuf exec what they were given at once: a few
 * ms under TCG). */
#define LAUNCHER_NS (100 * 1000000ull)

static void settle_pending(struct lstm_state *s, uint64_t now)
{
	if (s->pending_pid && now >= s->pending_t + LAUNCHER_NS) {
		s->unfamiliar = true;
		s->pending_pid = 0;
	}
}

/* unfamiliar: the exec of an unknown program stops the guesses and starts its wait; an
 * exec of the same process within LAUNCHER_NS ends it (a launcher: they resume), time
 * ends it otherwise (for good). */
static void watch_programs(struct lstm_state *s, const struct pml_tev_hdr *rec,
			   const int32_t *ids, int n)
{
	bool exec = rec->kind == PML_TEV_EXECVE && n > 0, unknown = false;

	if (s->unfamiliar)
		return;
	/* (a shell's tries along PATH repeat the same execve: no tokens the second time) */
	for (int i = 0; exec && i < n && !unknown; i++)
		unknown = ids[i] == s->exec_unknown;
	if (exec && !unknown && s->pending_pid == rec->pid) {
		s->pending_pid = 0; /* a launcher: what it ran is known */
		return;
	}
	settle_pending(s, rec->t_ns);
	if (!unknown || s->pending_pid == rec->pid)
		return;
	if (s->pending_pid) /* a second one meanwhile: the first ran */
		s->unfamiliar = true;
	s->pending_pid = rec->pid;
	s->pending_t = rec->t_ns;
}

static void lstm_observe(struct pml_policy *pol, const struct pml_pol_event *ev)
{
	struct lstm_state *s = pol->priv;
	int m, n;

	if (ev->kind == PML_POL_PRIOR) {
		s->unfamiliar = false;
		s->pending_pid = 0;
		pml_predictor_reset(s->p);
		pml_feat_encoder_reset(s->enc);
		apply_prior(pol, ev->prior_command, ev->prior_script);
		return;
	}
	if (ev->kind == PML_POL_TRACE) {
		int32_t ids[PML_FEAT_MAX_TOKENS];

		if (!ev->tev)
			return;
		if (s->idle) /* the trace flows: its requesters' exits */
			pml_policy_observe(s->idle, ev);
		s->events++;
		n = pml_feat_encode_record(s->enc, ev->tev, ids);
		watch_programs(s, ev->tev, ids, n);
		feed(s, ids, n, -1);
		if (s->use_names) {
			const struct pml_feat_tokens *t = pml_feat_encoder_last(s->enc);

			s->now = ev->t_ns;
			pml_name_wait_record(&s->wait, t, on_released, s);
			if (s->slots_model)
				for (int i = 0; i < t->n; i++)
					pml_slots_token(&s->slots, t->tok[i]);
			else
				pml_name_rules_record(&s->names, t);
		}
		return;
	}
	if (s->idle)
		pml_policy_observe(s->idle, ev);
	m = mod_index(s, ev->module);
	if (m >= 0)
		pml_pred_observe(&s->mods[m].st, ev);
}

static int by_p(const void *a, const void *b, void *ctx)
{
	const struct lstm_state *s = ctx;
	float x = s->mods[*(const int *)a].p_ask, y = s->mods[*(const int *)b].p_ask;

	if (x != y)
		return x > y ? -1 : 1;
	return *(const int *)a - *(const int *)b;
}

/* unload_idle: idle-unload's candidates whose predicted need has fallen, appended to
 * out[0..k) (not twice). Returns how many were added. */
static size_t idle_unloads(struct lstm_state *s, const struct pml_loaded *mods, size_t n,
			   struct pml_action *out, size_t k, size_t max)
{
	struct pml_action cand[16];
	int nc = pml_policy_decide(s->idle, mods, n, cand, 16);
	size_t added = 0;

	for (int i = 0; i < nc && k + added < max; i++) {
		int m = mod_index(s, cand[i].module);
		float q = m >= 0 ? s->probs[m] : 0;
		bool dup = false;

		if (cand[i].kind != PML_ACT_UNLOAD || (s->knows_reuse && q >= s->thr * HYSTERESIS))
			continue; /* a later use predicted: kept */
		if (m >= 0 && s->mods[m].st.predicted && !s->mods[m].st.used)
			continue; /* an unused prefetch: the rule above decides */
		for (size_t j = 0; j < k + added && !dup; j++)
			dup = out[j].kind == PML_ACT_UNLOAD &&
			      pml_module_name_eq(out[j].module, cand[i].module);
		if (dup)
			continue;
		if (m >= 0)
			s->mods[m].armed = false; /* asked for again once p has fallen and risen */
		out[k + added] = cand[i];
		if (snprintf(out[k + added].reason, sizeof(out[k + added].reason),
			     "lstm: %s, p now %.2f", cand[i].reason, q) < 0)
			out[k + added].reason[0] = '\0';
		added++;
	}
	return added;
}

static int lstm_decide(struct pml_policy *pol, const struct pml_loaded *mods, size_t n,
		       struct pml_action *out, size_t max)
{
	struct lstm_state *s = pol->priv;
	uint64_t now = pml_policy_now(pol);
	size_t k = 0;
	int c, kept = 0;

	settle_pending(s, now);
	/* Prefetches first, most probable first: what the program may be about to wait for. */
	qsort_r(s->cands, s->n_cands, sizeof(int), by_p, s);
	for (c = 0; c < s->n_cands; c++) {
		int m = s->cands[c];
		struct lstm_mod *md = &s->mods[m];
		const char *name = name_of(s, m);
		const char *tok = md->by_token >= 0 ? pml_vocab_token(s->vocab, md->by_token) : NULL;
		struct pml_action *a;

		if (k >= max) {
			s->cands[kept++] = m; /* no room: next time */
			continue;
		}
		md->st.queued = false;
		if (!md->st.asked || md->st.loaded || md->st.needed ||
		    pml_pred_in_set(mods, n, name))
			continue;
		a = &out[k++];
		a->kind = PML_ACT_LOAD;
		snprintf(a->module, sizeof(a->module), "%s", name);
		/* (a long token is cut, on purpose) */
		if (md->named[0]) {
			if (snprintf(a->reason, sizeof(a->reason), "prediction: named by '%s'",
				     md->named) < 0)
				a->reason[0] = '\0';
		} else if (snprintf(a->reason, sizeof(a->reason), "prediction: lstm p %.2f at %s",
				    md->p_ask, tok ? tok : "?") < 0) {
			a->reason[0] = '\0';
		}
		a->confidence = md->p_ask;
		/* the model's (a token crossed the threshold), else a naming's */
		a->basis = md->by_token >= 0 ? PML_BASIS_MODEL
			   : s->slots_model  ? PML_BASIS_SLOTS
					     : PML_BASIS_NAMES;
		a->lead_ms = s->horizon_ms / 2;
		pml_pred_cost(pol, name, &a->bytes, &a->load_ms);
	}
	s->n_cands = kept;

	/* Then the mistakes: predicted, never used, idle past the deadline, no longer
	 * predicted. */
	for (int m = 0; m < s->p->n_modules + s->n_extra && k < max; m++) {
		struct pml_pred_mod *st = &s->mods[m].st;
		const struct pml_loaded *l = NULL;
		double idle_ms = pml_pred_unused_ms(st, name_of(s, m), mods, n, now, &l);

		if (idle_ms < 0 || idle_ms < pol->cfg.idle_seconds * 1e3 ||
		    idle_ms < 2 * s->horizon_ms || s->probs[m] >= s->thr)
			continue;
		pml_pred_unload_action(&out[k++], l->name,
				       "lstm: prediction unused for %.1f s (p now %.2f)",
				       idle_ms / 1e3, s->probs[m]);
	}
	if (s->idle && k < max)
		k += idle_unloads(s, mods, n, out, k, max);
	return (int)k;
}

const struct pml_policy_ops pml_policy_lstm = {
	.name = "lstm",
	.summary = "reactive, plus prefetch of what a model of the program's behaviour "
		   "(pml train) predicts within its horizon; unused prefetches are unloaded",
	.init = lstm_init,
	.observe = lstm_observe,
	.decide = lstm_decide,
	.free = lstm_free,
};

static int lstm_idle_init(struct pml_policy *pol)
{
	pol->cfg.unload_idle = true;
	return lstm_init(pol);
}

/* The model alone: the naming rules off whatever resolver the driver gives (lstm
 * --no-names), so that replay can show the model, the rules (names) and both (lstm) side
 * by side. */
static int lstm_model_init(struct pml_policy *pol)
{
	pol->cfg.resolve_fn = NULL;
	return lstm_init(pol);
}

const struct pml_policy_ops pml_policy_lstm_model = {
	.name = "lstm-model",
	.summary = "lstm's model alone, without the modules the program names (lstm "
		   "--no-names)",
	.init = lstm_model_init,
	.observe = lstm_observe,
	.decide = lstm_decide,
	.free = lstm_free,
};

const struct pml_policy_ops pml_policy_lstm_idle = {
	.name = "lstm+idle-unload",
	.summary = "lstm, plus unload of what the program used once it is idle (and, with a "
		   "model trained on later uses, no longer predicted)",
	.init = lstm_idle_init,
	.observe = lstm_observe,
	.decide = lstm_decide,
	.free = lstm_free,
};

/* The learned policy: lstm's model, and the slot model (pml train-slots) naming the
 * modules the program spells out instead of the hand-written rules: no rule of this
 * project's writing decides a prefetch. */
const struct pml_policy_ops pml_policy_learned = {
	.name = "learned",
	.summary = "lstm's model and the slot model (pml train-slots) in place of the naming "
		   "rules: every prefetch from a model trained on traces",
	.init = lstm_init,
	.observe = lstm_observe,
	.decide = lstm_decide,
	.free = lstm_free,
};

/* learned, and unload what is idle, as lstm+idle-unload does for lstm */
const struct pml_policy_ops pml_policy_learned_idle = {
	.name = "learned+idle-unload",
	.summary = "learned, plus unload of what the program used once it is idle (and, with "
		   "a model trained on later uses, no longer predicted)",
	.init = lstm_idle_init,
	.observe = lstm_observe,
	.decide = lstm_decide,
	.free = lstm_free,
};
