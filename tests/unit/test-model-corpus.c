/* The corpus and its labels on the real guest trace (tests/fixtures/trace/
 * guest-acceptance.bin): the needs found and where they sit in the token stream, labels
 * set within the horizon and only for needs after the position (a need's own tokens never
 * carry its answer), masks once a module was needed, the horizon's effect, a corpus built
 * on a given vocabulary, and the n-gram baseline trained and judged on it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/corpus.h"
#include "model/train.h"
#include "unit.h"

static char trace[1024];

static bool reuse; /* build() with reuse_labels */

static struct pml_corpus *build(uint32_t horizon_ms, int copies)
{
	struct pml_corpus_src src[4];
	struct pml_corpus_opts o = {.horizon_ms = horizon_ms, .min_docs = 1,
				    .reuse_labels = reuse};
	struct pml_corpus *c = NULL;

	for (int i = 0; i < copies; i++)
		src[i] = (struct pml_corpus_src){.trace = trace, .id = "acc",
						 .script = "socat -u /dev/null SCTP-CONNECT:1.2.3.4:9\n",
						 .split = i == copies - 1 && i ? PML_SPLIT_VAL : PML_SPLIT_TRAIN};
	CHECK(pml_corpus_build(src, copies, &o, &c) == 0);
	return c;
}

/* The first position whose token is tok, -1 when none. */
static int pos_of(const struct pml_corpus *c, const struct pml_corpus_run *r, const char *tok)
{
	int32_t id = pml_vocab_find(c->vocab, tok);

	for (uint32_t i = 0; i < r->n_tok; i++)
		if (r->tok[i] == id)
			return (int)i;
	return -1;
}

static float label(const struct pml_corpus *c, const struct pml_corpus_run *r, int pos,
		   const char *module, float *ret_mask)
{
	int M = c->n_modules, m = pml_corpus_module(c, module);
	float *y = malloc(sizeof(float) * M), *mask = malloc(sizeof(float) * M), v;

	CHECK(m >= 0 && pos >= 0);
	if (m < 0 || pos < 0) {
		free(y);
		free(mask);
		*ret_mask = -1;
		return -1;
	}
	pml_corpus_labels(c, r, (uint32_t)pos, 1, 3.0f, y, mask);
	v = y[m];
	*ret_mask = mask[m];
	free(y);
	free(mask);
	return v;
}

static void test_needs_and_labels(void)
{
	struct pml_corpus *c = build(2000, 1);
	const struct pml_corpus_run *r;
	int sock, req, mount, vfatreq, ipexec, first, load_sctp;
	float mask;

	if (!c)
		return;
	r = &c->runs[0];
	printf("corpus: %u tokens (%u prior), %u needs, %d modules, vocabulary %zu, kernel %s\n",
	       r->n_tok, r->n_prior, r->n_needs, c->n_modules, pml_vocab_size(c->vocab),
	       c->kernel);
	CHECK_STR(c->kernel, "6.1.0-56-amd64");
	CHECK(r->records == 1194);
	CHECK(r->n_prior > 3 && r->tok[0] == pml_vocab_find(c->vocab, PML_TOK_PRIOR));
	CHECK(r->tok[r->n_prior - 1] == pml_vocab_find(c->vocab, PML_TOK_START));
	/* the modules: sorted, in the module_name spelling */
	CHECK(c->n_modules == 10);
	CHECK_STR(c->modules[0], "fat");
	CHECK(pml_corpus_module(c, "ip6_udp_tunnel") >= 0);
	CHECK(pml_corpus_module(c, "ip6-udp-tunnel") == pml_corpus_module(c, "ip6_udp_tunnel"));
	CHECK(pml_corpus_module(c, "btrfs") == -1);
	/* needs with modules: sctp (4 modules), loop, vfat (fat+vfat), nls_cp437, nls_ascii,
	 * vxlan; the -type-1 alias resolving to nothing is left out */
	CHECK(r->n_needs == 6);
	CHECK_STR(r->needs[0].alias, "net-pf-2-proto-132");
	CHECK(r->needs[0].n_mods == 4);
	CHECK_STR(r->needs[0].module, "sctp");

	sock = pos_of(c, r, "sock:AF_INET:SOCK_STREAM:IPPROTO_SCTP");
	req = pos_of(c, r, "req:net:net-pf-2-proto-132");
	load_sctp = pos_of(c, r, "load:sctp");
	mount = pos_of(c, r, "mount:vfat");
	vfatreq = pos_of(c, r, "req:fs:fs-vfat");
	ipexec = pos_of(c, r, "arg:vxlan");
	first = (int)r->n_prior; /* the first record's token */
	CHECK(sock > 0 && req > sock && mount > req && vfatreq > mount && ipexec > vfatreq);
	/* the socket call comes 125 ms before the request: labelled, positive weight */
	CHECK(label(c, r, sock, "sctp", &mask) == 1.0f && mask == 3.0f);
	CHECK(label(c, r, sock, "libcrc32c", &mask) == 1.0f);
	/* the request's own token: the need happened, nothing to predict */
	CHECK(label(c, r, req, "sctp", &mask) == 0.0f && mask == 0.0f);
	CHECK(label(c, r, load_sctp, "sctp", &mask) == 0.0f && mask == 0.0f);
	/* the mount call announces vfat (and fat) 0.3 ms ahead */
	CHECK(label(c, r, mount, "vfat", &mask) == 1.0f && mask == 3.0f);
	CHECK(label(c, r, mount, "fat", &mask) == 1.0f);
	/* ... and loop is loaded by then: masked */
	CHECK(label(c, r, mount, "loop", &mask) == 0.0f && mask == 0.0f);
	/* the ip command's vxlan argument: the need follows 50 ms later */
	CHECK(label(c, r, ipexec, "vxlan", &mask) == 1.0f);
	/* the run's start: sctp (0.38 s ahead) yes, vxlan (1.3 s ahead) yes, both within 2 s */
	CHECK(label(c, r, first, "sctp", &mask) == 1.0f);
	CHECK(label(c, r, 0, "vxlan", &mask) == 1.0f);
	/* past the end: masked */
	{
		int M = c->n_modules;
		float *y = malloc(sizeof(float) * 2 * M), *mk = malloc(sizeof(float) * 2 * M);

		pml_corpus_labels(c, r, r->n_tok - 1, 2, 1.0f, y, mk);
		for (int m = 0; m < M; m++)
			CHECK(mk[M + m] == 0.0f && y[M + m] == 0.0f);
		free(y);
		free(mk);
	}
	pml_corpus_free(c);

	/* a 100 ms horizon: the socket call is too early for sctp, the mount is not for vfat */
	c = build(100, 1);
	if (!c)
		return;
	r = &c->runs[0];
	CHECK(c->horizon_ms == 100);
	CHECK(label(c, r, pos_of(c, r, "sock:AF_INET:SOCK_STREAM:IPPROTO_SCTP"), "sctp", &mask) == 0.0f &&
	      mask == 1.0f);
	CHECK(label(c, r, pos_of(c, r, "mount:vfat"), "vfat", &mask) == 1.0f);
	CHECK(label(c, r, 0, "vxlan", &mask) == 0.0f);
	pml_corpus_free(c);
}

/* Labels for later uses (reuse_labels): a needed module stays labelled, positive before
 * a later record that would make the kernel ask for its alias again; every use is after
 * its need's last load; without uses, the module is labelled 0 with weight. */
static void test_reuse_labels(void)
{
	struct pml_corpus *c;
	const struct pml_corpus_run *r;
	float mask;
	int checked = 0;
	char saved[sizeof(trace)];

	/* guest-v2.bin: acceptance.sh's calls, then nft commands that open netlink sockets
	 * again after nfnetlink was loaded */
	memcpy(saved, trace, sizeof(trace));
	snprintf(trace + strlen(trace) - strlen("guest-acceptance.bin"),
		 sizeof(trace) - (strlen(trace) - strlen("guest-acceptance.bin")), "guest-v2.bin");
	reuse = true;
	c = build(2000, 1);
	reuse = false;
	memcpy(trace, saved, sizeof(trace));
	if (!c)
		return;
	r = &c->runs[0];
	printf("  later uses: %u (needs %u)\n", r->n_uses, r->n_needs);
	CHECK(c->reuse_labels && r->n_uses > 0);
	/* the need's own tokens are no longer masked: the question is now a re-use */
	CHECK(label(c, r, pos_of(c, r, "load:sctp"), "sctp", &mask) >= 0.0f && mask > 0.0f);
	CHECK(label(c, r, pos_of(c, r, "mount:vfat"), "loop", &mask) >= 0.0f && mask > 0.0f);
	for (uint32_t u = 0; u < r->n_uses; u++) {
		const struct pml_corpus_use *us = &r->uses[u];
		const struct pml_corpus_need *nd = &r->needs[us->need];
		int pos = -1;

		CHECK(us->need < r->n_needs && us->rec > nd->rec && us->t_ns > nd->t_ns);
		CHECK(u == 0 || us->t_ns >= r->uses[u - 1].t_ns);
		/* the last token before the use's record, after the need: positive */
		for (uint32_t i = 0; i < r->n_tok; i++)
			if (r->rec[i] >= nd->rec && r->rec[i] < us->rec &&
			    us->t_ns <= r->t_ns[i] + 2000000000ull)
				pos = (int)i;
		if (pos < 0 || !nd->n_mods)
			continue;
		CHECK(label(c, r, pos, c->modules[nd->mods[0]], &mask) == 1.0f && mask == 3.0f);
		checked++;
	}
	CHECK(checked > 0);
	/* the trace's last token: no use after it, every module weighed 0 or 1, never masked
	 * for being loaded */
	CHECK(label(c, r, (int)r->n_tok - 1, "sctp", &mask) == 0.0f && mask == 1.0f);
	pml_corpus_free(c);
}

/* A corpus on a given vocabulary and module list (what --eval does with a model). */
static void test_given_vocab(void)
{
	const char *vocab[] = {PML_TOK_OOV, PML_TOK_PRIOR, PML_TOK_START, "mount:vfat", "sc"};
	const char *mods[] = {"loop", "vfat"};
	struct pml_corpus_src src = {.trace = trace, .split = PML_SPLIT_TEST};
	struct pml_corpus_opts o = {.vocab = vocab, .n_vocab = 5, .modules = mods, .n_modules = 2};
	struct pml_corpus *c = NULL;
	uint32_t oov = 0;

	CHECK(pml_corpus_build(&src, 1, &o, &c) == 0);
	if (!c)
		return;
	CHECK(pml_vocab_size(c->vocab) == 5 && c->n_modules == 2);
	for (uint32_t i = 0; i < c->runs[0].n_tok; i++)
		oov += c->runs[0].tok[i] == 0;
	CHECK(oov > 0 && oov < c->runs[0].n_tok);
	CHECK(pos_of(c, &c->runs[0], "mount:vfat") > 0);
	/* vfat's need lists fat too, which this model does not know */
	CHECK(c->runs[0].needs[2].n_mods == 1 && c->runs[0].needs[2].n_loaded == 2);
	pml_corpus_free(c);
	/* learning needs a training run */
	CHECK(pml_corpus_build(&src, 1, NULL, &c) == -ENODATA);
}

static void test_ngram(void)
{
	struct pml_corpus *c = build(2000, 2);
	struct pml_ngram *mk = NULL;
	struct pml_predictor *p;
	struct pml_eval ev = {0};

	if (!c)
		return;
	CHECK(pml_train_ngram(c, 2, 0.1f, 1024, &mk) == 0);
	if (!mk) {
		pml_corpus_free(c);
		return;
	}
	p = pml_ngram_predictor_new(mk, true);
	CHECK(pml_eval_alloc_modules(&ev, c->n_modules) == 0);
	CHECK(pml_eval_predictor(c, PML_SPLIT_VAL, p, 0.5f, 1.0f, &ev) == 0);
	printf("ngram on its own training run: loss %.4f, recall %.2f, need recall %.2f, "
	       "precision %.2f, lead median %.0f ms\n",
	       ev.loss, ev.recall, ev.need_recall, ev.precision, ev.lead_ms_median);
	/* the validation run is the training run: the counts know it by heart */
	CHECK(ev.runs == 1 && ev.needs == 6 && ev.mod_needs == 10);
	CHECK(ev.recall >= 0.8 && ev.precision >= 0.8);
	CHECK(ev.lead_ms_median > 0);
	CHECK(ev.n_signals > 0);
	CHECK(ev.m_needs[pml_corpus_module(c, "sctp")] == 1);
	pml_eval_release(&ev);
	pml_predictor_free(p);
	pml_corpus_free(c);
}

int main(void)
{
	const char *fx = getenv("PML_TEST_FIXTURES");

	snprintf(trace, sizeof(trace), "%s/trace/guest-acceptance.bin", fx ? fx : "tests/fixtures");
	test_needs_and_labels();
	test_reuse_labels();
	test_given_vocab();
	test_ngram();
	return unit_done("model-corpus");
}
