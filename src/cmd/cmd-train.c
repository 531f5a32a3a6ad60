/* pml train: learn the module predictor from a trace dataset (model/corpus.h, train.h)
 * and write its model file; also judge a trained model on a split (--eval) and show the
 * tokens the features make of a trace (--tokens). Thin: options, progress lines, the
 * summary; the work is in libpml. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd-options.h"
#include "cmd/cmd-errors.h"
#include "cmd/commands.h"
#include "model/corpus.h"
#include "model/features.h"
#include "model/predictor.h"
#include "model/train.h"
#include "trace/trace-file.h"

enum {
	O_DATASET = CMD_OPT_LONG_ONLY, O_MODEL, O_HIDDEN, O_EMBED, O_LAYERS, O_EPOCHS, O_PATIENCE,
	O_BATCH, O_WINDOW, O_LR, O_POSW, O_THREADS, O_SEED, O_RESUME, O_HORIZON,
	O_MINDOCS, O_WORKLOADS, O_NOPRIOR, O_BUCKETS, O_ORDER, O_EVAL, O_SPLIT, O_THRESHOLD,
	O_TOKENS, O_SCRIPT, O_WD, O_SELECT, O_TDROP, O_PDROP, O_ADD_ROLES, O_REUSE,
};

#define STR_(x) #x
#define STR(x) STR_(x)

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{O_DATASET, "dataset", "DIR", "the dataset (manifest.jsonl, traces/)"},
	{'o', "output", "MODEL",
	 "the model file (default lstm.pml or markov.pml);\n"
	 "an LSTM also keeps MODEL.ckpt per epoch (for --resume)"},
	{O_MODEL, "model", "KIND", "lstm (default) or markov (n-gram over the same tokens)"},
	{O_HIDDEN, "hidden", "N", "LSTM state width (default 64)"},
	{O_EMBED, "embed", "N", "token embedding width (default 32)"},
	{O_LAYERS, "layers", "N", "1 or 2 (default 1)"},
	{O_EPOCHS, "epochs", "N", "at most N epochs (default 25)"},
	{O_PATIENCE, "patience", "N", "stop after N epochs with no better validation score (8)"},
	{O_SELECT, "select", "f1|loss",
	 "the best epoch: by the F1 of recall and precision at\n"
	 "its best threshold (default), or by the validation loss"},
	{O_BATCH, "batch", "N", "B rows of T-token BPTT windows (default 8)"},
	{O_WINDOW, "window", "N", "T, the BPTT window in tokens (default 64)"},
	{O_LR, "lr", "X", "Adam learning rate (default 0.005, cosine decay)"},
	{O_POSW, "pos-weight", "X", "weight of positive labels in the loss (default 5)"},
	{O_WD, "weight-decay", "X", "AdamW weight decay (default 0.01)"},
	{O_TDROP, "token-dropout", "X", "read each input token as unknown with chance X (0)"},
	{O_PDROP, "prior-dropout", "X", "train a run without its prior with probability X (0)"},
	{O_THREADS, "threads", "N",
	 "training threads (default 1; results do not depend\non it)"},
	{O_SEED, "seed", "N", "initialisation and shuffling seed (default 1)"},
	{O_RESUME, "resume", "CKPT", "continue from a checkpoint (same dataset and options)"},
	{O_HORIZON, "horizon-ms", "N",
	 "label: module needed within N ms (default " STR(PML_CORPUS_HORIZON_MS) ")"},
	{O_MINDOCS, "min-docs", "N", "vocabulary: tokens seen in at least N training runs (3)"},
	{O_WORKLOADS, "workloads", "DIR", "scenario scripts for the prior (default: workloads)"},
	{O_NOPRIOR, "no-prior", NULL, "leave the command line and script out of the input"},
	{O_REUSE, "reuse-labels", NULL,
	 "label later uses too: a needed module is positive\n"
	 "again when the program is about to use it again (what\n"
	 "an end-of-use unload asks)"},
	{O_ORDER, "order", "N", "markov: context length 1..3 (default 2)"},
	{O_BUCKETS, "buckets", "N", "markov: hashed contexts per order above 1\n(default 4096)"},
	{O_EVAL, "eval", "MODEL", "judge MODEL on --split (default test) and exit"},
	{O_ADD_ROLES, "add-roles", "MODEL",
	 "write MODEL again to -o with the role of each of its\n"
	 "modules in the training runs (needed, or only loaded\n"
	 "as another's dependency); weights unchanged; with\n"
	 "--threshold P, P as its threshold (one chosen by\n"
	 "replay: scripts/sweep-threshold)"},
	{O_SPLIT, "split", "NAME", "val or test (--eval), or train"},
	{O_THRESHOLD, "threshold", "P",
	 "probability that counts as a prediction (default: the\nmodel's, else 0.5)"},
	{O_TOKENS, "tokens", "TRACE", "print the tokens of TRACE (and --script FILE's prior)"},
	{O_SCRIPT, "script", "FILE", "the scenario script whose prior --tokens prints"},
	{'q', "quiet", NULL, "no progress lines"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml train --dataset DIR [-o MODEL] [OPTIONS]\n"
		"       pml train --dataset DIR --eval MODEL [--split val|test] [--threshold P]\n"
		"       pml train --dataset DIR --add-roles MODEL -o OUT [--threshold P]\n"
		"       pml train --tokens TRACE [--script FILE]\n\n"
		"Learn which kernel modules a program will need from its behaviour: a trace\n"
		"dataset (pml collect) becomes token sequences and labels; the model trains on the\n"
		"train split, is judged on the validation split after every epoch, and the best\n"
		"epoch is written to MODEL with its vocabulary, module list and kernel.\n\n");
	cmd_options_help(f, options);
}

struct opts {
	const char *dataset, *out, *kind, *resume, *workloads, *eval, *tokens, *script, *roles;
	int hidden, embed, layers, order, buckets, min_docs, split;
	uint32_t horizon_ms;
	float threshold;
	bool no_prior, quiet, reuse;
	struct pml_train_opts t;
};

/* A number by its table entry (util/option-table.h); the sentence is printed. */
static bool parse_num(enum pml_numopt id, const char *s, double *ret)
{
	return cmd_num("pml: train", id, s, ret) == 0;
}

static void fmt_time(double s, char *buf, size_t size)
{
	if (s >= 3600)
		snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else if (s >= 60)
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, size, "%.0fs", s);
}

static void corpus_progress(void *ctx, size_t done, size_t total)
{
	const struct opts *o = ctx;

	if (!o->quiet && (done == total || done % 20 == 0))
		fprintf(stderr, "pml: train: reading runs %zu/%zu\r", done, total);
	if (!o->quiet && done == total)
		fprintf(stderr, "\n");
}

static void print_eval(FILE *f, const char *label, const struct pml_eval *ev, float thr)
{
	fprintf(f,
		"%s: loss %.4f over %llu positions, %u runs; at p >= %.2f: module recall %.3f "
		"(%u/%u), need recall %.3f (%u/%u), precision %.3f (%u/%u); lead time median "
		"%.0f ms, mean %.0f ms, p10 %.0f ms, %u needs with >= 100 ms; %u needed "
		"modules unknown to the model\n",
		label, ev->loss, (unsigned long long)ev->positions, ev->runs, thr, ev->recall,
		ev->mod_predicted, ev->mod_needs, ev->need_recall, ev->needs_predicted,
		ev->needs, ev->precision, ev->crossings_used, ev->crossings, ev->lead_ms_median,
		ev->lead_ms_mean, ev->lead_ms_p10, ev->lead_over_100ms, ev->unlisted);
}

static void print_signals(FILE *f, const struct pml_eval *ev)
{
	double total = 0;

	for (int i = 0; i < ev->n_signals; i++)
		total += ev->signal_lead_ms[i];
	if (total <= 0)
		return;
	fprintf(f, "lead time by the signal that crossed the threshold:");
	for (int i = 0; i < ev->n_signals; i++)
		fprintf(f, " %s %.0f%% (%u needs)", ev->signal[i],
			100 * ev->signal_lead_ms[i] / total, ev->signal_needs[i]);
	fprintf(f, "\n");
}

static void print_modules(FILE *f, const struct pml_corpus *c, const struct pml_eval *ev)
{
	fprintf(f, "%-24s %6s %9s %9s %6s\n", "module", "needs", "predicted", "prefetch", "used");
	for (int m = 0; m < c->n_modules; m++)
		if (ev->m_needs[m] || ev->m_crossings[m])
			fprintf(f, "%-24s %6u %9u %9u %6u\n", c->modules[m], ev->m_needs[m],
				ev->m_predicted[m], ev->m_crossings[m], ev->m_used[m]);
}

struct train_ctx {
	const struct opts *o;
	const struct pml_corpus *c;
	struct pml_model_meta *meta;
	char ckpt[4096];
	bool tty;
};

static int train_progress(void *ctx, const struct pml_train_progress *pr,
			  const struct pml_lstm *model)
{
	struct train_ctx *tc = ctx;
	char eta[32];

	fmt_time(pr->eta_s, eta, sizeof(eta));
	if (!pr->epoch_done) {
		if (!tc->o->quiet && tc->tty)
			fprintf(stderr, "\repoch %d/%d  step %llu/~%llu  loss %.4f  %.0f tok/s  ETA %s   ",
				pr->epoch + 1, pr->epochs, (unsigned long long)pr->step,
				(unsigned long long)pr->steps, pr->loss, pr->tokens_per_s, eta);
		return 0;
	}
	/* a checkpoint after every epoch: --resume continues from it */
	tc->meta->epoch = (uint32_t)pr->epoch + 1;
	tc->meta->val_loss = pr->val ? (float)pr->val->loss : 0.0f;
	tc->meta->val_score = pr->val ? (float)pr->score : 0.0f;
	if (pml_lstm_save_checkpoint(model, tc->ckpt, tc->meta) < 0)
		fprintf(stderr, "pml: train: %s: cannot write the checkpoint\n", tc->ckpt);
	if (tc->o->quiet)
		return 0;
	if (tc->tty)
		fprintf(stderr, "\r%80s\r", "");
	fprintf(stderr, "epoch %d/%d: train loss %.4f", pr->epoch + 1, pr->epochs, pr->loss);
	if (pr->val)
		fprintf(stderr,
			", val loss %.4f, at p >= %.2f recall %.3f, need recall %.3f, precision "
			"%.3f, F1 %.3f%s, lead median %.0f ms",
			pr->val->loss, pr->threshold, pr->val->recall, pr->val->need_recall,
			pr->val->precision, pml_eval_f1(pr->val), pr->best ? " (best)" : "",
			pr->val->lead_ms_median);
	fprintf(stderr, "; %.0f tok/s, ETA %s\n", pr->tokens_per_s, eta);
	return 0;
}

static int print_prior(void *ctx, const char *tok)
{
	printf("%10s %7s %s\n", "prior", "-", tok);
	return 0;
}

static int dump_tokens(const struct opts *o)
{
	struct pml_trace_reader *r = NULL;
	struct pml_features *f = pml_features_new();
	const struct pml_tev_hdr *e;
	struct pml_feat_tokens t;
	char *script = NULL;
	uint64_t t0 = 0, recs = 0, toks = 0;
	int rc;

	if (!f)
		return PML_EXIT_FAIL;
	if (o->script && (rc = pml_read_text_file(o->script, &script)) < 0) {
		fprintf(stderr, "pml: train: %s: %s\n", o->script, strerror(-rc));
		pml_features_free(f);
		return PML_EXIT_FAIL;
	}
	rc = pml_trace_reader_open(o->tokens, &r);
	if (rc < 0) {
		fprintf(stderr, "pml: train: %s\n",
			r ? pml_trace_reader_error(r) : strerror(-rc));
		pml_trace_reader_free(r);
		pml_features_free(f);
		free(script);
		return PML_EXIT_FAIL;
	}
	pml_features_prior(o->no_prior ? NULL : pml_trace_reader_header(r)->command,
			   o->no_prior ? NULL : script, print_prior, NULL);
	while ((rc = pml_trace_reader_next(r, &e)) > 0) {
		if (!recs)
			t0 = e->t_ns;
		recs++;
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n; i++)
			printf("%10.6f %7u %s\n", (e->t_ns - t0) / 1e9, e->pid, t.tok[i]);
		toks += t.n;
	}
	if (rc < 0)
		fprintf(stderr, "pml: train: %s\n", pml_trace_reader_error(r));
	fprintf(stderr, "pml: train: %llu records, %llu tokens\n", (unsigned long long)recs,
		(unsigned long long)toks);
	pml_trace_reader_free(r);
	pml_features_free(f);
	free(script);
	return rc < 0 ? PML_EXIT_FAIL : PML_EXIT_OK;
}

/* The corpus for --eval or --resume: the model's vocabulary and modules. */
static int corpus_for_model(const struct opts *o, const struct pml_model_file *mf,
			    struct pml_corpus **ret)
{
	struct pml_corpus_opts co = {
		.horizon_ms = mf->horizon_ms ? mf->horizon_ms : o->horizon_ms,
		.no_prior = !(mf->train_flags & PML_MODEL_TRAIN_PRIOR),
		.reuse_labels = (mf->train_flags & PML_MODEL_TRAIN_REUSE) != 0,
		.vocab = mf->vocab,
		.n_vocab = mf->n_vocab,
		.modules = mf->modules,
		.n_modules = mf->n_modules,
		.progress = corpus_progress,
		.progress_ctx = (void *)o,
	};

	return pml_corpus_from_dataset(o->dataset, o->workloads, &co, ret);
}

static const char *corpus_error(int r)
{
	switch (r) {
	case -ENOENT:
		return "no manifest.jsonl (not a dataset, or collection has not written one yet)";
	case -ENODATA:
		return "no usable run (no training run with a readable trace)";
	case -EINVAL:
		return "not a pml dataset, or the model's vocabulary is malformed";
	default:
		return cmd_manifest_strerror(r);
	}
}

static int do_eval(const struct opts *o)
{
	struct pml_predictor *p = NULL;
	struct pml_corpus *c = NULL;
	struct pml_eval ev = {0};
	float thr;
	int r;

	r = pml_predictor_open(o->eval, NULL, 0, &p);
	if (r < 0)
		return PML_EXIT_FAIL; /* the loader said why */
	if (p->file->features_version != PML_FEAT_VERSION) {
		fprintf(stderr, "pml: train: %s: made with token scheme %u, this pml has %d: "
				"retrain it\n", o->eval, p->file->features_version, PML_FEAT_VERSION);
		pml_predictor_free(p);
		return PML_EXIT_FAIL;
	}
	r = corpus_for_model(o, p->file, &c);
	if (r < 0) {
		fprintf(stderr, "pml: train: %s: %s\n", o->dataset, corpus_error(r));
		pml_predictor_free(p);
		return PML_EXIT_FAIL;
	}
	thr = o->threshold > 0 ? o->threshold : p->file->threshold > 0 ? p->file->threshold : 0.5f;
	r = pml_eval_alloc_modules(&ev, c->n_modules);
	if (r == 0)
		r = pml_eval_predictor(c, o->split, p, thr, 1.0f, &ev);
	if (r < 0) {
		fprintf(stderr, "pml: train: %s: %s\n", o->eval, strerror(-r));
	} else {
		char label[128];

		snprintf(label, sizeof(label), "%s on %s", o->eval, pml_split_name(o->split));
		print_eval(stdout, label, &ev, thr);
		print_signals(stdout, &ev);
		print_modules(stdout, c, &ev);
	}
	pml_eval_release(&ev);
	pml_corpus_free(c);
	pml_predictor_free(p);
	return r < 0 ? PML_EXIT_FAIL : PML_EXIT_OK;
}

/* How many of n roles are dependencies; their names printed to f (the first few). */
static int print_roles(FILE *f, const char *const *modules, const uint8_t *roles, int n)
{
	int deps = 0;

	for (int m = 0; m < n; m++)
		if (roles[m] == PML_MODEL_ROLE_DEP && deps++ < 24)
			fprintf(f, "%s%s", deps > 1 ? " " : "  only loaded as a dependency: ",
				modules[m]);
	if (deps)
		fprintf(f, "%s\n", deps > 24 ? " ..." : "");
	return deps;
}

/* --add-roles: MODEL again, with its modules' roles counted on the training split. */
static int do_add_roles(const struct opts *o)
{
	struct pml_model_file *mf = NULL;
	struct pml_corpus *c = NULL;
	struct pml_model_desc d;
	uint8_t *roles = NULL;
	int r, deps;

	r = pml_model_file_open(o->roles, NULL, PML_MODEL_ANY_KERNEL, &mf);
	if (r < 0)
		return PML_EXIT_FAIL; /* the loader said why */
	r = corpus_for_model(o, mf, &c);
	if (r < 0) {
		fprintf(stderr, "pml: train: %s: %s\n", o->dataset, corpus_error(r));
		pml_model_file_free(mf);
		return PML_EXIT_FAIL;
	}
	roles = malloc(mf->n_modules ? mf->n_modules : 1);
	if (!roles) {
		r = -ENOMEM;
		goto out;
	}
	pml_corpus_roles(c, mf->modules, (int)mf->n_modules, roles);
	d = (struct pml_model_desc){
	    .kind = mf->kind,
	    .meta = {.kernel_release = mf->kernel_release, .vocab = mf->vocab,
		     .modules = mf->modules, .horizon_events = mf->horizon_events,
		     .horizon_ms = mf->horizon_ms, .features_version = mf->features_version,
		     .epoch = mf->epoch, .val_loss = mf->val_loss,
		     .threshold = o->threshold > 0 ? o->threshold : mf->threshold,
		     .train_flags = mf->train_flags, .val_score = mf->val_score, .roles = roles},
	    .n_vocab = mf->n_vocab,
	    .n_modules = mf->n_modules,
	    .weights = mf->weights,
	    .n_weights = mf->n_weights,
	};
	memcpy(d.params, mf->params, sizeof(d.params));
	r = pml_model_file_write(o->out, &d);
	if (r < 0) {
		fprintf(stderr, "pml: train: %s: cannot write the model: %s\n", o->out, strerror(-r));
		goto out;
	}
	deps = print_roles(stdout, mf->modules, roles, (int)mf->n_modules);
	printf("%s: %u modules, %d of them only loaded as a dependency in %s's training runs; "
	       "threshold %.2f%s\n", o->out, mf->n_modules, deps, o->dataset,
	       d.meta.threshold, d.meta.threshold > 0 ? "" : " (unsaid: users take 0.5)");
out:
	free(roles);
	pml_corpus_free(c);
	pml_model_file_free(mf);
	return r < 0 ? PML_EXIT_FAIL : PML_EXIT_OK;
}

/* The threshold with the best F1 of module recall and precision on the validation split:
 * its runs of held-out families when the dataset has some (model/train.h,
 * pml_threshold_split), else all of it (the sweep printed unless quiet). */
static float pick_threshold(const struct pml_corpus *c, struct pml_predictor *p, bool quiet)
{
	struct pml_eval evs[PML_SWEEP_N];
	int best = pml_eval_sweep(c, pml_threshold_split(c), p, evs);

	if (best < 0)
		return 0.5f;
	for (int i = 0; i < PML_SWEEP_N && !quiet; i++)
		fprintf(stderr,
			"  p >= %.2f: recall %.3f, need recall %.3f, precision %.3f, F1 %.3f, lead "
			"median %.0f ms%s\n",
			pml_sweep_thresholds[i], evs[i].recall, evs[i].need_recall, evs[i].precision,
			pml_eval_f1(&evs[i]), evs[i].lead_ms_median, i == best ? " <-" : "");
	return pml_sweep_thresholds[best];
}

static int do_train(struct opts *o)
{
	struct pml_corpus_opts co = {
		.horizon_ms = o->horizon_ms,
		.min_docs = (uint32_t)o->min_docs,
		.no_prior = o->no_prior,
		.reuse_labels = o->reuse,
		.progress = corpus_progress,
		.progress_ctx = o,
	};
	struct pml_model_file *resume_mf = NULL, *best_mf = NULL;
	struct pml_corpus *c = NULL;
	struct pml_lstm *model = NULL;
	struct pml_ngram *mk = NULL;
	struct pml_model_meta meta;
	const char **vocab = NULL;
	uint8_t *roles = NULL;
	struct pml_predictor *p = NULL;
	struct train_ctx tc = {.o = o, .tty = isatty(2)};
	struct pml_train_result res = {0};
	struct pml_eval ev = {0};
	bool ngram = !strcmp(o->kind, "markov");
	uint64_t toks[3];
	int r, rc = PML_EXIT_FAIL;
	struct stat st;

	if (o->resume) {
		r = pml_model_file_open(o->resume, NULL, 0, &resume_mf);
		if (r < 0)
			return PML_EXIT_FAIL;
		if (resume_mf->kind != PML_MODEL_LSTM || resume_mf->features_version != PML_FEAT_VERSION) {
			fprintf(stderr, "pml: train: %s: not an LSTM checkpoint of this token scheme\n",
				o->resume);
			goto out;
		}
		r = corpus_for_model(o, resume_mf, &c);
	} else {
		r = pml_corpus_from_dataset(o->dataset, o->workloads, &co, &c);
	}
	if (r < 0) {
		fprintf(stderr, "pml: train: %s: %s\n", o->dataset, corpus_error(r));
		goto out;
	}
	if (!c->n_modules) {
		fprintf(stderr, "pml: train: %s: no training run needed any module: nothing to learn\n",
			o->dataset);
		goto out;
	}
	if (!o->quiet) {
		size_t nr[3];

		for (int s = 0; s < 3; s++)
			nr[s] = pml_corpus_count(c, s, &toks[s]);
		fprintf(stderr,
			"pml: train: %zu runs (train %zu, val %zu, test %zu), %llu/%llu/%llu tokens; "
			"vocabulary %zu, modules %d, horizon %u ms, kernel %s\n",
			c->n_runs, nr[0], nr[1], nr[2], (unsigned long long)toks[0],
			(unsigned long long)toks[1], (unsigned long long)toks[2],
			pml_vocab_size(c->vocab), c->n_modules, c->horizon_ms, c->kernel);
	}
	r = pml_corpus_meta(c, c->kernel[0] ? c->kernel : "6.1.0-0-amd64", &meta, &vocab);
	if (r < 0)
		goto out;
	meta.train_flags = (o->no_prior ? 0 : PML_MODEL_TRAIN_PRIOR) |
			   (o->reuse ? PML_MODEL_TRAIN_REUSE : 0);
	if (resume_mf)
		meta.train_flags = resume_mf->train_flags;
	roles = malloc((size_t)c->n_modules);
	if (!roles) {
		r = -ENOMEM;
		goto out;
	}
	pml_corpus_roles(c, meta.modules, c->n_modules, roles);
	meta.roles = roles;
	if (ngram) {
		r = pml_train_ngram(c, o->order, 2.0f, o->buckets, &mk);
		if (r < 0) {
			fprintf(stderr, "pml: train: markov: %s\n", strerror(-r));
			goto out;
		}
		p = pml_ngram_predictor_new(mk, false);
	} else {
		struct pml_lstm_config cfg = {.vocab = (int)pml_vocab_size(c->vocab),
					      .embed = o->embed, .hidden = o->hidden,
					      .layers = o->layers, .modules = c->n_modules};

		if (resume_mf) {
			r = pml_lstm_resume(resume_mf, &model);
			if (r < 0)
				goto out;
			o->t.start_epoch = (int)resume_mf->epoch;
			/* the best model so far, when -o holds one of this vocabulary */
			if (pml_model_file_open(o->out, NULL, 0, &best_mf) == 0 &&
			    best_mf->kind == PML_MODEL_LSTM && best_mf->n_weights == model->nparams &&
			    best_mf->val_score > 0 && best_mf->epoch > 0) {
				o->t.best_params = best_mf->weights;
				o->t.best_val = best_mf->val_score;
				o->t.best_epoch = (int)best_mf->epoch - 1;
			}
			if (!o->quiet)
				fprintf(stderr, "pml: train: resuming %s after epoch %d\n", o->resume,
					o->t.start_epoch);
		} else {
			model = pml_lstm_new(&cfg);
			if (!model) {
				fprintf(stderr, "pml: train: bad model size (hidden %d, embed %d, layers %d)\n",
					o->hidden, o->embed, o->layers);
				goto out;
			}
			pml_lstm_init_params(model, o->t.seed);
		}
		snprintf(tc.ckpt, sizeof(tc.ckpt), "%s.ckpt", o->out);
		tc.c = c;
		tc.meta = &meta;
		o->t.progress = train_progress;
		o->t.ctx = &tc;
		if (!o->quiet)
			fprintf(stderr, "pml: train: lstm E%d H%d L%d, %zu parameters, B%d x T%d, seed %llu\n",
				model->cfg.embed, model->cfg.hidden, model->cfg.layers, model->nparams,
				o->t.batch, o->t.window ? o->t.window : 64,
				(unsigned long long)o->t.seed);
		r = pml_train_lstm(c, model, &o->t, &res);
		if (r < 0) {
			fprintf(stderr, "pml: train: %s\n", strerror(-r));
			goto out;
		}
		if (!o->quiet)
			fprintf(stderr, "pml: train: %d epochs in %.0f s (%.0f tokens/s), best epoch %d\n",
				res.epochs_run - o->t.start_epoch, res.seconds,
				res.seconds > 0 ? res.tokens / res.seconds : 0, res.best_epoch + 1);
		meta.epoch = (uint32_t)res.best_epoch + 1;
		p = pml_lstm_predictor_new(model, false);
	}
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	/* the decision threshold from the validation split, then the numbers at it */
	meta.threshold = o->threshold > 0 ? o->threshold : 0.5f;
	if (pml_corpus_count(c, PML_SPLIT_VAL, NULL)) {
		if (!(o->threshold > 0)) {
			if (!o->quiet)
				fprintf(stderr, "pml: train: thresholds on the validation split:\n");
			meta.threshold = pick_threshold(c, p, o->quiet);
		}
		r = pml_eval_alloc_modules(&ev, c->n_modules);
		if (r == 0)
			r = pml_eval_predictor(c, PML_SPLIT_VAL, p, meta.threshold, 1.0f, &ev);
		if (r < 0)
			goto out;
		/* what the trainer selected on (weighted as trained: --resume compares it) */
		meta.val_loss = ngram ? (float)ev.loss : (float)res.best_loss;
		meta.val_score = ngram ? (float)(1.0 - pml_eval_f1(&ev)) : (float)res.best_val;
		print_eval(stdout, "validation", &ev, meta.threshold);
		print_signals(stdout, &ev);
	}
	r = ngram ? pml_ngram_save(mk, o->out, &meta) : pml_lstm_save(model, o->out, &meta);
	if (r < 0) {
		fprintf(stderr, "pml: train: %s: cannot write the model: %s\n", o->out, strerror(-r));
		goto out;
	}
	if (stat(o->out, &st) == 0)
		printf("model %s: %s, %zu tokens, %d modules, %lld bytes, threshold %.2f, kernel %s\n",
		       o->out, ngram ? "markov" : "lstm", pml_vocab_size(c->vocab), c->n_modules,
		       (long long)st.st_size, meta.threshold, meta.kernel_release);
	rc = PML_EXIT_OK;
out:
	pml_eval_release(&ev);
	pml_predictor_free(p);
	pml_lstm_free(model);
	pml_ngram_free(mk);
	free(vocab);
	free(roles);
	pml_model_file_free(best_mf);
	pml_model_file_free(resume_mf);
	pml_corpus_free(c);
	return rc;
}

int cmd_train(int argc, char **argv)
{
	struct cmd_getopt g;
	struct opts o = {.kind = "lstm", .hidden = 64, .embed = 32, .layers = 1, .order = 2,
			 .buckets = 4096,
			 .split = PML_SPLIT_TEST, .horizon_ms = PML_CORPUS_HORIZON_MS,
			 .min_docs = 3, .workloads = "workloads",
			 /* tuned on the first 322 runs of the dataset (doc/model.md) */
			 .t = {.seed = 1, .threads = 1, .batch = 8, .epochs = 25, .patience = 8,
			       .lr = 5e-3f, .pos_weight = 5, .weight_decay = 0.01f}};
	bool split_set = false;
	double v;
	int c;

	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		const char *name = NULL;
		bool ok = true;

		switch (c) {
		case O_DATASET: o.dataset = optarg; break;
		case 'o': o.out = optarg; break;
		case O_MODEL:
			o.kind = optarg;
			ok = !strcmp(optarg, "lstm") || !strcmp(optarg, "markov");
			name = "model";
			break;
		case O_RESUME: o.resume = optarg; break;
		case O_WORKLOADS: o.workloads = optarg; break;
		case O_NOPRIOR: o.no_prior = true; break;
		case O_REUSE: o.reuse = true; break;
		case O_EVAL: o.eval = optarg; break;
		case O_ADD_ROLES: o.roles = optarg; break;
		case O_TOKENS: o.tokens = optarg; break;
		case O_SCRIPT: o.script = optarg; break;
		case O_SELECT:
			o.t.select_loss = !strcmp(optarg, "loss");
			ok = o.t.select_loss || !strcmp(optarg, "f1");
			name = "select";
			break;
		case O_SPLIT:
			ok = pml_split_parse(optarg, (enum pml_split *)&o.split) == 0;
			split_set = true;
			name = "split";
			break;
		case 'q': o.quiet = true; break;
		case 'h': usage(stdout); return PML_EXIT_OK;
		case O_LR: case O_POSW: case O_THRESHOLD: case O_WD: case O_TDROP: case O_PDROP:
			ok = parse_num(c == O_LR	   ? PML_NUMOPT_LR
				       : c == O_POSW  ? PML_NUMOPT_POS_WEIGHT
				       : c == O_WD    ? PML_NUMOPT_WEIGHT_DECAY
				       : c == O_TDROP ? PML_NUMOPT_TOKEN_DROPOUT
				       : c == O_PDROP ? PML_NUMOPT_PRIOR_DROPOUT
						      : PML_NUMOPT_THRESHOLD,
				       optarg, &v);
			if (!ok)
				return PML_EXIT_USAGE;
			if (ok) {
				if (c == O_TDROP)
					o.t.token_dropout = (float)v;
				else if (c == O_PDROP)
					o.t.prior_dropout = (float)v;
				else if (c == O_LR)
					o.t.lr = (float)v;
				else if (c == O_WD)
					o.t.weight_decay = (float)v;
				else if (c == O_POSW)
					o.t.pos_weight = (float)v;
				else
					o.threshold = o.t.threshold = (float)v;
			}
			break;
		default:
			if (c < O_HIDDEN || c > O_ORDER) {
				usage(stderr);
				return PML_EXIT_USAGE;
			}
			/* the integer options */
			ok = parse_num(c == O_HIDDEN	 ? PML_NUMOPT_HIDDEN
				       : c == O_EMBED	 ? PML_NUMOPT_EMBED
				       : c == O_LAYERS	 ? PML_NUMOPT_LAYERS
				       : c == O_EPOCHS	 ? PML_NUMOPT_EPOCHS
				       : c == O_PATIENCE ? PML_NUMOPT_PATIENCE
				       : c == O_BATCH	 ? PML_NUMOPT_BATCH
				       : c == O_WINDOW	 ? PML_NUMOPT_WINDOW
				       : c == O_THREADS	 ? PML_NUMOPT_THREADS
				       : c == O_SEED	 ? PML_NUMOPT_TRAIN_SEED
				       : c == O_HORIZON	 ? PML_NUMOPT_HORIZON_MS
				       : c == O_MINDOCS	 ? PML_NUMOPT_MIN_DOCS
				       : c == O_ORDER	 ? PML_NUMOPT_ORDER
							 : PML_NUMOPT_BUCKETS,
				       optarg, &v);
			if (!ok)
				return PML_EXIT_USAGE;
			switch (c) {
			case O_HIDDEN: o.hidden = (int)v; break;
			case O_EMBED: o.embed = (int)v; break;
			case O_LAYERS: o.layers = (int)v; break;
			case O_EPOCHS: o.t.epochs = (int)v; break;
			case O_PATIENCE: o.t.patience = (int)v; break;
			case O_BATCH: o.t.batch = (int)v; break;
			case O_WINDOW: o.t.window = (int)v; break;
			case O_THREADS: o.t.threads = (int)v; break;
			case O_SEED: o.t.seed = (uint64_t)v; break;
			case O_HORIZON: o.horizon_ms = (uint32_t)v; break;
			case O_MINDOCS: o.min_docs = (int)v; break;
			case O_ORDER: o.order = (int)v; break;
			case O_BUCKETS: o.buckets = (int)v; break;
			}
			break;
		}
		if (!ok) {
			fprintf(stderr, "pml: train: --%s: bad value '%s'\n", name ? name : "?", optarg);
			return PML_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pml: train: unexpected argument '%s'\n", argv[optind]);
		return PML_EXIT_USAGE;
	}
	if (o.tokens)
		return dump_tokens(&o);
	if (!o.dataset) {
		fprintf(stderr, "pml: train: no dataset (--dataset DIR); see pml train --help\n");
		return PML_EXIT_USAGE;
	}
	if (access(o.workloads, R_OK) < 0) {
		if (!o.no_prior && !o.eval)
			fprintf(stderr, "pml: train: %s: no scenario scripts here; the prior is the "
					"command line only (--workloads DIR)\n", o.workloads);
		o.workloads = NULL;
	}
	if (o.roles) {
		if (!o.out) {
			fprintf(stderr, "pml: train: --add-roles: no output (-o OUT)\n");
			return PML_EXIT_USAGE;
		}
		return do_add_roles(&o);
	}
	if (o.eval) {
		if (!split_set)
			o.split = PML_SPLIT_TEST;
		return do_eval(&o);
	}
	if (!o.out)
		o.out = strcmp(o.kind, "markov") ? "lstm.pml" : "markov.pml";
	return do_train(&o);
}
