/* Predictor cost per event (streaming inference), the number DESIGN.md's "overhead" asks
 * for: feeds a fixed pseudo-random token stream through each predictor behind the
 * predictor interface and prints CPU ns/event (best of 5 runs); then the whole path the
 * lstm policy runs per trace record (features -> token ids -> predictor steps) over a
 * real trace, per record and per token, with a model file's predictor when one is given
 * (else an untrained LSTM of the shipped size), and with a model the lstm policy's own
 * per-record path, without and with the named-modules rules. Not a test: timing depends on the machine;
 * run tests/model/bench.sh.
 *   bench-predictor [EVENTS [TRACE [MODEL]]]   (default 200000 events, no trace) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "loader/loader.h"
#include "model/features.h"
#include "model/predictor.h"
#include "policy/policy.h"
#include "trace/trace-file.h"
#include "vm/paths.h"

/* CPU time of this thread: on a shared machine the wall clock also counts the other
 * processes' turns; the best of 5 runs then removes most cache disturbance. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double bench(const char *label, struct pml_predictor *p, const int32_t *tok, int n)
{
	float *probs = malloc(sizeof(float) * p->n_modules);
	double best = 1e9, sink = 0;

	for (int run = 0; run < 5; run++) {
		double t0 = now();

		pml_predictor_reset(p);
		for (int i = 0; i < n; i++) {
			pml_predictor_observe(p, tok[i], probs);
			sink += probs[i % p->n_modules];
		}
		if (now() - t0 < best)
			best = now() - t0;
	}
	printf("%-44s %8.1f ns/event  (checksum %.3f)\n", label, best / n * 1e9, sink);
	free(probs);
	return best / n * 1e9;
}

/* The records of a trace, copied (the reader's are valid one at a time). */
static char *load_trace(const char *path, size_t *ret_n, size_t *ret_bytes)
{
	struct pml_trace_reader *r = NULL;
	const struct pml_tev_hdr *e;
	size_t len = 0, cap = 1 << 20, n = 0;
	char *buf = malloc(cap);

	if (pml_trace_reader_open(path, &r) < 0) {
		fprintf(stderr, "bench-predictor: %s: cannot read\n", path);
		exit(1);
	}
	while (pml_trace_reader_next(r, &e) > 0) {
		if (len + e->size > cap)
			buf = realloc(buf, cap *= 2);
		memcpy(buf + len, e, e->size);
		len += e->size;
		n++;
	}
	pml_trace_reader_free(r);
	*ret_n = n;
	*ret_bytes = len;
	return buf;
}

/* features + predictor per record of the trace: best of 5 passes of `reps` runs each */
static void bench_path(const char *label, const char *recs, size_t bytes, size_t n_recs,
		       const struct pml_vocab *v, struct pml_predictor *p, int reps)
{
	struct pml_feat_encoder *enc = pml_feat_encoder_new(v);
	float *probs = malloc(sizeof(float) * p->n_modules);
	double best = 1e9, best_feat = 1e9, sink = 0;
	uint64_t toks = 0;

	for (int pass = 0; pass < 5; pass++) {
		double t0 = now();

		toks = 0;
		for (int k = 0; k < reps; k++) {
			pml_feat_encoder_reset(enc);
			pml_predictor_reset(p);
			for (size_t off = 0; off < bytes;) {
				const struct pml_tev_hdr *e = (const void *)(recs + off);
				int32_t ids[PML_FEAT_MAX_TOKENS];
				int n = pml_feat_encode_record(enc, e, ids);

				for (int i = 0; i < n; i++) {
					pml_predictor_observe(p, ids[i], probs);
					sink += probs[0];
				}
				toks += n;
				off += e->size;
			}
		}
		if (now() - t0 < best)
			best = now() - t0;
		/* the features alone */
		t0 = now();
		for (int k = 0; k < reps; k++) {
			pml_feat_encoder_reset(enc);
			for (size_t off = 0; off < bytes;) {
				const struct pml_tev_hdr *e = (const void *)(recs + off);
				int32_t ids[PML_FEAT_MAX_TOKENS];

				sink += pml_feat_encode_record(enc, e, ids);
				off += e->size;
			}
		}
		if (now() - t0 < best_feat)
			best_feat = now() - t0;
	}
	printf("%-44s %8.1f ns/record, %7.1f ns/token (%.2f tokens/record); features alone "
	       "%.1f ns/record  (checksum %.1f)\n",
	       label, best / (n_recs * reps) * 1e9, best / toks * 1e9, (double)toks / (n_recs * reps),
	       best_feat / (n_recs * reps) * 1e9, sink);
	free(probs);
	pml_feat_encoder_free(enc);
}

static int resolve_kmod(void *data, const char *alias, char (*names)[64], size_t max)
{
	return pml_loader_resolve(data, alias, names, max);
}

/* The lstm policy itself (what pmld runs per record: features, predictor, and with a
 * resolver the named-modules rules), without and with the rules; a new policy per rep
 * (its set-up, the prior included, is not timed). */
static void bench_policy(const char *model, const char *recs, size_t bytes, size_t n_recs,
			 int reps)
{
	static const char *const labels[] = {"lstm policy path, model alone",
					     "lstm policy path, names rules on",
					     "learned policy path (lstm + slot model)"};
	struct pml_loader *ld = NULL;
	char moddir[4096], slots[4096] = "";
	const char *slash = strrchr(model, '/');

	/* the slot model beside the lstm model (data/model-slots-REL.pmls) */
	if (slash && strstr(slash, "model-lstm-"))
		snprintf(slots, sizeof(slots), "%.*s/model-slots-%.*s.pmls", (int)(slash - model),
			 model, (int)(strlen(slash + 12) - (strstr(slash, ".pmlm") ? 5 : 0)),
			 slash + 12);
	if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0 || pml_loader_new_kmod(moddir, &ld) < 0)
		ld = NULL;
	for (int v = 0; v < 3; v++) {
		struct pml_policy_config cfg = {.model_path = model,
						.prior_command = "sh ./acceptance.sh"};
		double best = 1e9;

		if (v == 2) {
			if (!slots[0] || access(slots, R_OK) < 0) {
				printf("learned policy path: skipped (no slot model %s)\n", slots);
				break;
			}
			cfg.slots_path = slots;
		}
		if (v >= 1) {
			if (!ld) {
				printf("policy path with names: skipped (no guest module tree)\n");
				break;
			}
			cfg.resolve_fn = resolve_kmod;
			cfg.resolve_data = ld;
		}
		for (int round = 0; round < 3; round++) {
			double t = 0;

			for (int k = 0; k < reps; k++) {
				struct pml_policy *pol = NULL;
				double t0;

				if (pml_policy_new(v == 2 ? "learned" : "lstm", &cfg, &pol) < 0) {
					fprintf(stderr, "bench-predictor: %s: lstm policy refused\n",
						model);
					exit(1);
				}
				t0 = now();
				for (size_t off = 0; off < bytes;) {
					const struct pml_tev_hdr *e = (const void *)(recs + off);
					struct pml_pol_event ev = {.kind = PML_POL_TRACE,
								   .t_ns = e->t_ns, .tev = e};

					pml_policy_observe(pol, &ev);
					off += e->size;
				}
				t += now() - t0;
				pml_policy_free(pol);
			}
			if (t < best)
				best = t;
		}
		printf("%-44s %8.1f ns/record\n", labels[v], best / (n_recs * reps) * 1e9);
	}
	pml_loader_free(ld);
}

static void bench_trace(const char *trace, const char *model)
{
	size_t n_recs, bytes;
	char *recs = load_trace(trace, &n_recs, &bytes);
	struct pml_predictor *p = NULL;
	struct pml_vocab *v = NULL;
	char label[160];
	int reps = (int)(200000 / (n_recs ? n_recs : 1)) + 1;

	if (model) {
		if (pml_predictor_open(model, NULL, 0, &p) < 0 ||
		    pml_vocab_from_strings(p->vocab, (size_t)p->n_tokens, &v) < 0) {
			fprintf(stderr, "bench-predictor: %s: cannot open\n", model);
			exit(1);
		}
		snprintf(label, sizeof(label), "trace path, %s %s (V%d M%d)", p->ops->name,
			 strrchr(model, '/') ? strrchr(model, '/') + 1 : model, p->n_tokens,
			 p->n_modules);
		bench_path(label, recs, bytes, n_recs, v, p, reps);
		pml_predictor_free(p);
		pml_vocab_free(v);
		bench_policy(model, recs, bytes, n_recs, reps / 10 + 1);
	} else {
		/* the trace's own vocabulary, an untrained LSTM of the shipped size */
		struct pml_vocab *cnt = pml_vocab_new();
		struct pml_features *f = pml_features_new();
		struct pml_feat_tokens t;
		static const int Hs[] = {32, 48, 64};

		for (size_t off = 0; off < bytes;) {
			const struct pml_tev_hdr *e = (const void *)(recs + off);

			pml_features_record(f, e, &t);
			for (int i = 0; i < t.n; i++)
				pml_vocab_count(cnt, t.tok[i], 0);
			off += e->size;
		}
		pml_vocab_prune(cnt, 1, 0, &v);
		for (size_t h = 0; h < sizeof(Hs) / sizeof(Hs[0]); h++) {
			struct pml_lstm_config cfg = {.vocab = (int)pml_vocab_size(v), .embed = 32,
						      .hidden = Hs[h], .layers = 1, .modules = 150};
			struct pml_lstm *m = pml_lstm_new(&cfg);

			pml_lstm_init_params(m, 1);
			p = pml_lstm_predictor_new(m, true);
			snprintf(label, sizeof(label), "trace path, lstm E32 H%d L1 M150", Hs[h]);
			bench_path(label, recs, bytes, n_recs, v, p, reps);
			pml_predictor_free(p);
		}
		pml_vocab_free(v);
		pml_vocab_free(cnt);
		pml_features_free(f);
	}
	free(recs);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	int32_t *tok = malloc(sizeof(int32_t) * n);
	struct pml_rng rng;
	char label[128];

	pml_rng_seed(&rng, 1);
	for (int i = 0; i < n; i++)
		tok[i] = (int32_t)(pml_rng_next(&rng) % 512);
	static const struct {
		int E, H, L;
	} sizes[] = {{32, 64, 1}, {32, 64, 2}, {32, 48, 1}, {16, 32, 1}};
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct pml_lstm_config cfg = {.vocab = 512, .embed = sizes[z].E,
					      .hidden = sizes[z].H, .layers = sizes[z].L,
					      .modules = 128};
		const int H = cfg.hidden, L = cfg.layers;
		/* multiply-adds per event with the input table: whh per layer, wih above
		 * layer 0, the head */
		double macs = L * 4.0 * H * H + (L - 1) * 4.0 * H * H + 128.0 * H;
		struct pml_lstm *m = pml_lstm_new(&cfg);
		struct pml_predictor *p;
		double ns;

		pml_lstm_init_params(m, 1);
		p = pml_lstm_predictor_new(m, false);
		snprintf(label, sizeof(label), "lstm V512 E%d H%d L%d M128", cfg.embed, H, L);
		ns = bench(label, p, tok, n);
		printf("%-44s %8.0f MACs/event, %.1f GMAC/s\n", "", macs, macs / ns);
		pml_predictor_free(p);
		pml_lstm_free(m);
	}
	for (int order = 1; order <= 3; order++) {
		struct pml_ngram_config cfg = {.vocab = 512, .modules = 128, .order = order,
						.buckets = 4096, .alpha = 2.0f};
		struct pml_ngram *mk = pml_ngram_new(&cfg);
		float *y = calloc((size_t)n * 128, sizeof(float));
		struct pml_predictor *p;

		for (int i = 0; i < n; i++)
			y[(size_t)i * 128 + tok[i] % 128] = 1;
		pml_ngram_train(mk, tok, y, n);
		p = pml_ngram_predictor_new(mk, true);
		snprintf(label, sizeof(label), "ngram V512 M128 order %d", order);
		bench(label, p, tok, n);
		pml_predictor_free(p);
		free(y);
	}
	free(tok);
	if (argc > 2)
		bench_trace(argv[2], argc > 3 ? argv[3] : NULL);
	return 0;
}
