/* The trainers (LSTM by truncated BPTT, n-gram by counting) and the predictor's judge on
 * a corpus; see train.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/train.h"

#define EVAL_CHUNK 256

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the judge ------------------------------------------------------------------------- */

int pml_eval_alloc_modules(struct pml_eval *ev, int M)
{
	ev->m_needs = calloc(M, sizeof(uint32_t));
	ev->m_predicted = calloc(M, sizeof(uint32_t));
	ev->m_crossings = calloc(M, sizeof(uint32_t));
	ev->m_used = calloc(M, sizeof(uint32_t));
	if (!ev->m_needs || !ev->m_predicted || !ev->m_crossings || !ev->m_used) {
		pml_eval_release(ev);
		return -ENOMEM;
	}
	return 0;
}

void pml_eval_release(struct pml_eval *ev)
{
	free(ev->m_needs);
	free(ev->m_predicted);
	free(ev->m_crossings);
	free(ev->m_used);
	ev->m_needs = ev->m_predicted = ev->m_crossings = ev->m_used = NULL;
}

struct eval_run {
	const struct pml_corpus *c;
	const struct pml_corpus_run *r;
	struct pml_eval *ev;
	int64_t *crossed; /* [M] first crossing position, -1 */
	bool *needed;	  /* [M] */
	double *leads;
	size_t n_leads, cap_leads;
};

static void signal_of(const struct pml_corpus *c, const struct pml_corpus_run *r, int64_t pos,
		      char out[16])
{
	const char *tok = pml_vocab_token(c->vocab, r->tok[pos]);
	size_t n;

	if (r->rec[pos] == 0) {
		strcpy(out, "prior");
		return;
	}
	if (!tok || r->tok[pos] == 0) {
		strcpy(out, "oov");
		return;
	}
	n = strcspn(tok, ":");
	if (n > 15)
		n = 15;
	memcpy(out, tok, n);
	out[n] = '\0';
}

static void add_signal(struct pml_eval *ev, const char *sig, double lead_ms)
{
	int i;

	for (i = 0; i < ev->n_signals; i++)
		if (!strcmp(ev->signal[i], sig))
			break;
	if (i == ev->n_signals) {
		if (ev->n_signals == PML_EVAL_MAX_SIGNALS)
			i = PML_EVAL_MAX_SIGNALS - 1; /* the last bucket takes the rest */
		else
			snprintf(ev->signal[ev->n_signals++], sizeof(ev->signal[0]), "%s", sig);
	}
	ev->signal_lead_ms[i] += lead_ms;
	ev->signal_needs[i]++;
}

static int handle_need(struct eval_run *er, const struct pml_corpus_need *nd)
{
	struct pml_eval *ev = er->ev;
	bool any = false, all = true;
	uint64_t last_t = 0;
	int64_t last_pos = -1;

	ev->unlisted += nd->n_loaded - nd->n_mods;
	for (int q = 0; q < nd->n_mods; q++) {
		int m = nd->mods[q];

		if (er->needed[m])
			continue; /* not a first use */
		any = true;
		ev->mod_needs++;
		if (ev->m_needs)
			ev->m_needs[m]++;
		if (er->crossed[m] >= 0) {
			uint64_t t = er->r->t_ns[er->crossed[m]];

			ev->mod_predicted++;
			ev->crossings_used++;
			if (ev->m_predicted) {
				ev->m_predicted[m]++;
				ev->m_used[m]++;
			}
			if (last_pos < 0 || t >= last_t) {
				last_t = t;
				last_pos = er->crossed[m];
			}
		} else {
			all = false;
		}
		er->needed[m] = true;
	}
	if (!any)
		return 0;
	ev->needs++;
	if (all && last_pos >= 0) {
		double lead = nd->t_ns > last_t ? (nd->t_ns - last_t) / 1e6 : 0.0;
		char sig[16];

		ev->needs_predicted++;
		if (er->n_leads == er->cap_leads) {
			size_t cap = er->cap_leads ? er->cap_leads * 2 : 256;
			double *l = realloc(er->leads, cap * sizeof(*l));

			if (!l)
				return -ENOMEM;
			er->leads = l;
			er->cap_leads = cap;
		}
		er->leads[er->n_leads++] = lead;
		if (lead >= 100.0)
			ev->lead_over_100ms++;
		signal_of(er->c, er->r, last_pos, sig);
		add_signal(ev, sig, lead);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int pml_eval_predictor(const struct pml_corpus *c, int split, struct pml_predictor *p,
		       float threshold, float pos_weight, struct pml_eval *ev)
{
	const int M = c->n_modules;
	float *probs = malloc(sizeof(float) * M);
	float *y = malloc(sizeof(float) * EVAL_CHUNK * M);
	float *mask = malloc(sizeof(float) * EVAL_CHUNK * M);
	struct eval_run er = {.c = c, .ev = ev};
	double loss = 0, wsum = 0;
	int r = 0;

	er.crossed = malloc(sizeof(int64_t) * M);
	er.needed = malloc(sizeof(bool) * M);
	{
		uint32_t *keep[4] = {ev->m_needs, ev->m_predicted, ev->m_crossings, ev->m_used};

		memset(ev, 0, sizeof(*ev));
		ev->m_needs = keep[0], ev->m_predicted = keep[1];
		ev->m_crossings = keep[2], ev->m_used = keep[3];
	}
	if (p->n_modules != M) {
		r = -EINVAL;
		goto out;
	}
	if (!probs || !y || !mask || !er.crossed || !er.needed) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t ri = 0; ri < c->n_runs && r == 0; ri++) {
		const struct pml_corpus_run *run = &c->runs[ri];
		uint32_t next = 0;

		if (split == PML_EVAL_VAL_FAMILIES
			    ? run->split != PML_SPLIT_VAL || !run->heldout_family
			    : split >= 0 && (int)run->split != split)
			continue;
		er.r = run;
		ev->runs++;
		for (int m = 0; m < M; m++) {
			er.crossed[m] = -1;
			er.needed[m] = false;
		}
		pml_predictor_reset(p);
		for (uint32_t i = 0; i < run->n_tok && r == 0; i++) {
			const float *yk, *mk;
			int k = i % EVAL_CHUNK;

			if (k == 0)
				pml_corpus_labels(c, run, i, EVAL_CHUNK,
						  pos_weight > 0 ? pos_weight : 1.0f, y, mask);
			yk = y + (size_t)k * M;
			mk = mask + (size_t)k * M;
			while (next < run->n_needs && run->needs[next].rec <= run->rec[i] && r == 0)
				r = handle_need(&er, &run->needs[next++]);
			pml_predictor_observe(p, run->tok[i], probs);
			for (int m = 0; m < M; m++) {
				float q = probs[m] < 1e-7f ? 1e-7f : probs[m] > 1 - 1e-7f ? 1 - 1e-7f : probs[m];

				if (mk[m] > 0) {
					loss -= mk[m] * (yk[m] > 0 ? log(q) : log(1 - q));
					wsum += mk[m];
				}
				if (!er.needed[m] && er.crossed[m] < 0 && probs[m] >= threshold) {
					er.crossed[m] = i;
					ev->crossings++;
					if (ev->m_crossings)
						ev->m_crossings[m]++;
				}
			}
			ev->positions++;
		}
		while (next < run->n_needs && r == 0)
			r = handle_need(&er, &run->needs[next++]);
	}
	if (r < 0)
		goto out;
	ev->loss = wsum > 0 ? loss / wsum : 0;
	ev->precision = ev->crossings ? (double)ev->crossings_used / ev->crossings : 0;
	ev->recall = ev->mod_needs ? (double)ev->mod_predicted / ev->mod_needs : 0;
	ev->need_recall = ev->needs ? (double)ev->needs_predicted / ev->needs : 0;
	if (er.n_leads) {
		double sum = 0;

		qsort(er.leads, er.n_leads, sizeof(double), cmp_double);
		for (size_t i = 0; i < er.n_leads; i++)
			sum += er.leads[i];
		ev->lead_ms_mean = sum / er.n_leads;
		ev->lead_ms_median = er.leads[er.n_leads / 2];
		ev->lead_ms_p10 = er.leads[er.n_leads / 10];
	}
out:
	free(er.leads);
	free(er.crossed);
	free(er.needed);
	free(probs);
	free(y);
	free(mask);
	return r;
}

const float pml_sweep_thresholds[PML_SWEEP_N] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f,
						   0.7f, 0.8f, 0.9f, 0.95f, 0.98f};

double pml_eval_f1(const struct pml_eval *ev)
{
	return ev->precision + ev->recall > 0
		       ? 2 * ev->precision * ev->recall / (ev->precision + ev->recall)
		       : 0;
}

int pml_threshold_split(const struct pml_corpus *c)
{
	for (size_t i = 0; i < c->n_runs; i++)
		if (c->runs[i].split == PML_SPLIT_VAL && c->runs[i].heldout_family)
			return PML_EVAL_VAL_FAMILIES;
	return PML_SPLIT_VAL;
}

int pml_eval_sweep(const struct pml_corpus *c, int split, struct pml_predictor *p,
		   struct pml_eval evs[PML_SWEEP_N])
{
	int best = 0;

	for (int i = 0; i < PML_SWEEP_N; i++) {
		int r;

		memset(&evs[i], 0, sizeof(evs[i]));
		r = pml_eval_predictor(c, split, p, pml_sweep_thresholds[i], 1.0f, &evs[i]);
		if (r < 0)
			return r;
		if (pml_eval_f1(&evs[i]) > pml_eval_f1(&evs[best]))
			best = i;
	}
	return best;
}

/* ---- the LSTM trainer ------------------------------------------------------------------- */

int pml_train_lstm(const struct pml_corpus *c, struct pml_lstm *model,
		   const struct pml_train_opts *opts, struct pml_train_result *res)
{
	struct pml_train_opts o = *opts;
	const int M = c->n_modules;
	int B, T, n_train = 0, n_val = 0, since_best = 0, r = 0;
	int *order = NULL, *row_run = NULL;
	uint32_t *row_pos = NULL;
	int32_t *tok = NULL;
	float *y = NULL, *mask = NULL, *best = NULL;
	uint64_t padded = 0, steps_est, gstep;
	double t_start = mono_s(), t_last = 0, best_val;
	struct pml_train_result rs = {0};
	struct pml_rng rng;

	if (!o.batch)
		o.batch = 16;
	if (!o.window)
		o.window = 64;
	if (!o.epochs)
		o.epochs = 20;
	if (!o.patience)
		o.patience = 4;
	if (!(o.lr > 0))
		o.lr = 3e-3f;
	if (!(o.clip > 0))
		o.clip = 1.0f;
	if (!(o.pos_weight > 0))
		o.pos_weight = 1.0f;
	if (!(o.threshold > 0))
		o.threshold = 0.5f;
	B = o.batch;
	T = o.window;
	if (model->cfg.modules != M || (size_t)model->cfg.vocab != pml_vocab_size(c->vocab))
		return -EINVAL;
	for (size_t i = 0; i < c->n_runs; i++) {
		if (c->runs[i].split == PML_SPLIT_TRAIN) {
			n_train++;
			padded += (c->runs[i].n_tok + T - 1) / T * (uint64_t)T;
		}
		n_val += c->runs[i].split == PML_SPLIT_VAL;
	}
	if (!n_train)
		return -ENODATA;
	steps_est = (padded + (uint64_t)B * T - 1) / ((uint64_t)B * T);
	order = malloc(sizeof(int) * n_train);
	row_run = malloc(sizeof(int) * B);
	row_pos = malloc(sizeof(uint32_t) * B);
	tok = malloc(sizeof(int32_t) * B * T);
	y = malloc(sizeof(float) * (size_t)B * T * M);
	mask = malloc(sizeof(float) * (size_t)B * T * M);
	best = malloc(sizeof(float) * model->nparams);
	if (!order || !row_run || !row_pos || !tok || !y || !mask || !best) {
		r = -ENOMEM;
		goto out;
	}
	best_val = o.best_params ? o.best_val : INFINITY;
	rs.best_epoch = o.best_params ? o.best_epoch : -1;
	rs.best_val = best_val;
	memcpy(best, o.best_params ? o.best_params : model->params_mem,
	       sizeof(float) * model->nparams);
	if (o.best_params)
		since_best = o.start_epoch - 1 - o.best_epoch;
	pml_lstm_set_threads(model, o.threads);
	gstep = (uint64_t)o.start_epoch * steps_est;
	for (int epoch = o.start_epoch; epoch < o.epochs; epoch++) {
		struct pml_train_progress pr = {.epoch = epoch, .epochs = o.epochs,
						.steps = steps_est};
		double loss_sum = 0, loss_w = 0;
		uint64_t ep_tokens = 0;
		int next = 0, k = 0;
		struct pml_eval val = {0};

		/* the epoch's order: Fisher-Yates from (seed, epoch) */
		for (size_t i = 0; i < c->n_runs; i++)
			if (c->runs[i].split == PML_SPLIT_TRAIN)
				order[k++] = (int)i;
		pml_rng_seed(&rng, o.seed * 0x9e3779b97f4a7c15ull + (uint64_t)epoch + 1);
		for (int i = n_train - 1; i > 0; i--) {
			int j = (int)(pml_rng_next(&rng) % (uint64_t)(i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int b = 0; b < B; b++)
			row_run[b] = -1;
		pml_lstm_reset_state(model);
		/* the schedule's clock restarts at each epoch's nominal start, so a resumed run
		 * takes the steps the uninterrupted one takes (epochs differ in length by the
		 * rows' packing) */
		gstep = (uint64_t)epoch * steps_est;
		for (;;) {
			int active = 0;
			double loss;
			float lr;

			for (int b = 0; b < B; b++) {
				const struct pml_corpus_run *run;

				if (row_run[b] >= 0 && row_pos[b] < c->runs[row_run[b]].n_tok) {
					active++;
				} else if (next < n_train) {
					row_run[b] = order[next++];
					row_pos[b] = 0;
					/* prior dropout: the run starts at <start>, as a
					 * program with no script would */
					if (o.prior_dropout > 0 && c->runs[row_run[b]].n_prior > 1 &&
					    pml_rng_uniform(&rng) < o.prior_dropout)
						row_pos[b] = c->runs[row_run[b]].n_prior - 1;
					pml_lstm_reset_row(model, b);
					active++;
				} else {
					row_run[b] = -1;
				}
				if (row_run[b] < 0) {
					memset(tok + b * T, 0, sizeof(int32_t) * T);
					memset(y + (size_t)b * T * M, 0, sizeof(float) * T * M);
					memset(mask + (size_t)b * T * M, 0, sizeof(float) * T * M);
					continue;
				}
				run = &c->runs[row_run[b]];
				for (int t = 0; t < T; t++) {
					uint32_t i = row_pos[b] + t;

					tok[b * T + t] = i < run->n_tok ? run->tok[i] : 0;
					/* token dropout: read as out of vocabulary */
					if (o.token_dropout > 0 && i < run->n_tok &&
					    pml_rng_uniform(&rng) < o.token_dropout)
						tok[b * T + t] = 0;
					ep_tokens += i < run->n_tok;
				}
				pml_corpus_labels(c, run, row_pos[b], T, o.pos_weight,
						  y + (size_t)b * T * M, mask + (size_t)b * T * M);
			}
			if (!active)
				break;
			r = pml_lstm_forward(model, tok, y, mask, B, T, &loss);
			if (r < 0)
				goto out;
			pml_lstm_zero_grad(model);
			r = pml_lstm_backward(model);
			if (r < 0)
				goto out;
			pml_lstm_clip_grad(model, o.clip);
			lr = o.lr * (0.1f + 0.9f * 0.5f * (1.0f + cosf((float)M_PI * (float)gstep /
							       (float)(steps_est * o.epochs))));
			r = pml_lstm_adam_update(model, lr, 0.9f, 0.999f, 1e-8f, o.weight_decay);
			if (r < 0)
				goto out;
			pml_lstm_carry_state(model);
			for (int b = 0; b < B; b++)
				if (row_run[b] >= 0)
					row_pos[b] += T;
			if (model->mask_sum > 0) {
				loss_sum += loss * model->mask_sum;
				loss_w += model->mask_sum;
			}
			pr.step++;
			gstep++;
			if (o.progress && mono_s() - t_last >= 1.0) {
				double el = mono_s() - t_start;
				uint64_t done = gstep - (uint64_t)o.start_epoch * steps_est;
				uint64_t left = steps_est * o.epochs > gstep ? steps_est * o.epochs - gstep : 0;

				t_last = mono_s();
				pr.loss = loss_w > 0 ? loss_sum / loss_w : 0;
				pr.tokens_per_s = (rs.tokens + ep_tokens) / (el > 0 ? el : 1);
				pr.eta_s = done ? el / done * left : 0;
				o.progress(o.ctx, &pr, model);
			}
		}
		rs.tokens += ep_tokens;
		rs.epochs_run = epoch + 1;
		pr.loss = loss_w > 0 ? loss_sum / loss_w : 0;
		pr.epoch_done = true;
		if (n_val) {
			struct pml_predictor *p = pml_lstm_predictor_new(model, false);

			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			r = pml_eval_predictor(c, PML_SPLIT_VAL, p, o.threshold, o.pos_weight, &val);
			pr.score = val.loss;
			pr.threshold = o.threshold;
			if (r == 0 && !o.select_loss) {
				struct pml_eval evs[PML_SWEEP_N];
				int bi = pml_eval_sweep(c, PML_SPLIT_VAL, p, evs);

				r = bi < 0 ? bi : 0;
				if (r == 0) {
					double loss = val.loss;

					val = evs[bi];
					val.loss = loss;
					pr.score = 1.0 - pml_eval_f1(&evs[bi]);
					pr.threshold = pml_sweep_thresholds[bi];
				}
			}
			pml_predictor_free(p);
			if (r < 0)
				goto out;
			pr.val = &val;
			if (pr.score < best_val) {
				best_val = pr.score;
				rs.best_epoch = epoch;
				rs.best_val = pr.score;
				rs.best_loss = val.loss;
				rs.best_threshold = pr.threshold;
				memcpy(best, model->params_mem, sizeof(float) * model->nparams);
				pr.best = true;
				since_best = 0;
			} else {
				since_best++;
			}
		}
		{
			double el = mono_s() - t_start;
			uint64_t done = gstep - (uint64_t)o.start_epoch * steps_est;

			pr.tokens_per_s = rs.tokens / (el > 0 ? el : 1);
			pr.eta_s = done ? el / done * (steps_est * (o.epochs - epoch - 1)) : 0;
		}
		if (o.progress && o.progress(o.ctx, &pr, model))
			break;
		if (n_val && since_best >= o.patience)
			break;
	}
	if (n_val && rs.best_epoch >= 0)
		memcpy(model->params_mem, best, sizeof(float) * model->nparams);
	else
		rs.best_epoch = rs.epochs_run - 1;
	rs.seconds = mono_s() - t_start;
	if (res)
		*res = rs;
out:
	free(order);
	free(row_run);
	free(row_pos);
	free(tok);
	free(y);
	free(mask);
	free(best);
	return r;
}

/* ---- the n-gram trainer ----------------------------------------------------------------- */

/* Labels are made a chunk at a time (a long run's [n, M] would be large); the n-gram
 * context restarts at each chunk's start, which changes the counts of (order - 1)
 * positions per chunk, a few in a thousand. */
#define NGRAM_CHUNK 4096

int pml_train_ngram(const struct pml_corpus *c, int order, float alpha, int buckets,
		    struct pml_ngram **ret)
{
	struct pml_ngram_config cfg = {.vocab = (int)pml_vocab_size(c->vocab),
					.modules = c->n_modules, .order = order,
					.buckets = buckets, .alpha = alpha};
	struct pml_ngram *mk;
	float *y, *mask;
	int trained = 0;

	if (!pml_ngram_table_size(&cfg))
		return -EINVAL;
	mk = pml_ngram_new(&cfg);
	y = malloc(sizeof(float) * NGRAM_CHUNK * c->n_modules);
	mask = malloc(sizeof(float) * NGRAM_CHUNK * c->n_modules);
	if (!mk || !y || !mask) {
		pml_ngram_free(mk);
		free(y);
		free(mask);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_runs; i++) {
		const struct pml_corpus_run *run = &c->runs[i];

		if (run->split != PML_SPLIT_TRAIN)
			continue;
		trained++;
		for (uint32_t pos = 0; pos < run->n_tok; pos += NGRAM_CHUNK) {
			int n = run->n_tok - pos < NGRAM_CHUNK ? (int)(run->n_tok - pos) : NGRAM_CHUNK;

			pml_corpus_labels(c, run, pos, n, 1.0f, y, mask);
			pml_ngram_train(mk, run->tok + pos, y, n);
		}
	}
	free(y);
	free(mask);
	if (!trained) {
		pml_ngram_free(mk);
		return -ENODATA;
	}
	*ret = mk;
	return 0;
}

int pml_corpus_meta(const struct pml_corpus *c, const char *kernel_release,
		    struct pml_model_meta *meta, const char ***ret_vocab)
{
	size_t V = pml_vocab_size(c->vocab);
	const char **vocab = malloc(sizeof(char *) * V);

	if (!vocab)
		return -ENOMEM;
	for (size_t i = 0; i < V; i++)
		vocab[i] = pml_vocab_token(c->vocab, (int32_t)i);
	memset(meta, 0, sizeof(*meta));
	meta->kernel_release = kernel_release ? kernel_release : c->kernel;
	meta->vocab = vocab;
	meta->modules = (const char *const *)c->modules;
	meta->horizon_ms = c->horizon_ms;
	meta->features_version = PML_FEAT_VERSION;
	*ret_vocab = vocab;
	return 0;
}

void pml_corpus_roles(const struct pml_corpus *c, const char *const *modules, int n,
		      uint8_t *roles)
{
	/* by corpus label: 0 not loaded, 1 a dependency, 2 a target */
	uint8_t *seen = calloc((size_t)c->n_modules + 1, 1);

	for (size_t i = 0; seen && i < c->n_runs; i++) {
		const struct pml_corpus_run *r = &c->runs[i];

		if (r->split != PML_SPLIT_TRAIN)
			continue;
		for (uint32_t k = 0; k < r->n_needs; k++) {
			const struct pml_corpus_need *nd = &r->needs[k];
			int t = pml_corpus_module(c, nd->module);

			for (uint16_t j = 0; j < nd->n_mods; j++)
				if (nd->mods[j] >= 0 && !seen[nd->mods[j]])
					seen[nd->mods[j]] = 1;
			if (t >= 0)
				seen[t] = 2;
		}
	}
	for (int m = 0; m < n; m++) {
		int l = pml_corpus_module(c, modules[m]);

		roles[m] = seen && l >= 0 && seen[l] == 1 ? PML_MODEL_ROLE_DEP
							  : PML_MODEL_ROLE_TARGET;
	}
	free(seen);
}
