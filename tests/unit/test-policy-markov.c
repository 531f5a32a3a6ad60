/* The markov policy and its needs model: training from fixture decision logs (first needs
 * only, no-module/denied needs ignored, the window, the costs), the model file (round trip,
 * checksum, newer version refused), and the policy with an injected clock (a request
 * predicts its successors over the threshold once, a predicted module never used is taken
 * back after its deadline, one in use or needed is kept). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/needs-train.h"
#include "policy/needs-model.h"
#include "policy/policy.h"
#include "unit.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

#define S(x) ((uint64_t)((x) * 1e9))

static char fixtures[512];

static const char *fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/policy/%s", fixtures, name);
	return path;
}

static struct pml_needs_model *trained(void)
{
	struct pml_needs_model *m = NULL;

	CHECK(pml_needs_model_new(30, 0.5, &m) == 0);
	CHECK(pml_needs_train_log(m, fixture("reactive-a.jsonl")) == 6);
	CHECK(pml_needs_train_log(m, fixture("reactive-b.jsonl")) == 3);
	return m;
}

static const struct pml_needs_pred *pred_of(const struct pml_needs_pred *p, int n,
					    const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(p[i].module, name))
			return &p[i];
	return NULL;
}

static void test_train(void)
{
	struct pml_needs_model *m = trained();
	struct pml_needs_pred p[16];
	const struct pml_needs_pred *q;
	int64_t bytes;
	double ms;
	int n;

	CHECK(pml_needs_model_runs(m) == 2);
	CHECK(pml_needs_train_log(m, fixture("no-such.jsonl")) == -ENOENT);
	n = pml_needs_model_predict(m, "sctp", 0, p, 16);
	CHECK(n == 3); /* loop, vfat (both runs), dummy (one); tun is past the window */
	CHECK_STR(p[0].module, "loop");
	CHECK(fabs(p[0].p - 0.8) < 1e-9);
	CHECK(fabs(p[0].gap_ms - 1421.25) < 1e-6);
	CHECK(p[0].count == 2);
	CHECK_STR(p[1].module, "vfat");
	q = pred_of(p, n, "dummy");
	CHECK(q && fabs(q->p - 0.4) < 1e-9);
	CHECK(!pred_of(p, n, "tun"));
	/* the repeated sctp need (present) is no second run of sctp */
	CHECK(!pred_of(p, n, "sctp"));
	/* the threshold cuts */
	CHECK(pml_needs_model_predict(m, "sctp", 0.5, p, 16) == 2);
	CHECK(pml_needs_model_predict(m, "sctp", 0.5, p, 1) == 1);
	CHECK(pml_needs_model_predict(m, "no_such", 0, p, 16) == 0);
	CHECK(pml_needs_model_predict(m, "can", 0, p, 16) == 0); /* denied: not a need */
	/* '-' and '_' alike */
	CHECK(pml_needs_model_predict(m, "nf-tables", 0, p, 16) == 0);
	CHECK(pml_needs_model_cost(m, "sctp", &bytes, &ms) == 0 && bytes == 438272 && ms == 100);
	CHECK(pml_needs_model_cost(m, "tun", &bytes, &ms) == -ENOENT);
	pml_needs_model_free(m);
}

static void test_file(void)
{
	struct pml_needs_model *m = trained(), *back = NULL;
	char path[] = "/tmp/pml-test-needs-XXXXXX", why[160], *text;
	struct pml_needs_pred a[16], b[16];
	FILE *f;
	long len;
	int fd = mkstemp(path), na, nb;

	if (fd >= 0)
		close(fd);
	CHECK(pml_needs_model_save(m, path) == 0);
	CHECK(pml_needs_model_load(path, &back, why, sizeof(why)) == 0);
	if (back) {
		na = pml_needs_model_predict(m, "sctp", 0, a, 16);
		nb = pml_needs_model_predict(back, "sctp", 0, b, 16);
		CHECK(na == nb);
		for (int i = 0; i < na && i < nb; i++) {
			CHECK_STR(a[i].module, b[i].module);
			CHECK(fabs(a[i].p - b[i].p) < 1e-9);
			CHECK(fabs(a[i].gap_ms - b[i].gap_ms) < 1e-3);
		}
		CHECK(pml_needs_model_runs(back) == 2);
		pml_needs_model_free(back);
		back = NULL;
	}
	/* a changed byte is caught */
	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	CHECK(fread(text, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	{
		char *p = strstr(text, "next sctp loop 2");

		CHECK(p != NULL);
		if (p)
			p[15] = '9';
		CHECK(pml_needs_model_parse(text, (size_t)len, &back, why, sizeof(why)) ==
		      -EBADMSG);
		CHECK(strstr(why, "checksum") != NULL);
	}
	CHECK(pml_needs_model_parse("pml-needs-markov 7\n", 19, &back, why, sizeof(why)) ==
	      -EPROTONOSUPPORT);
	CHECK(strstr(why, "newer") != NULL);
	CHECK(pml_needs_model_parse("hello\n", 6, &back, why, sizeof(why)) == -EBADMSG);
	CHECK(pml_needs_model_parse("pml-needs-markov 1\nwindow-s 30\n", 31, &back, why,
				    sizeof(why)) == -EBADMSG); /* no checksum */
	free(text);
	unlink(path);
	pml_needs_model_free(m);
}

static struct pml_loaded mod(const char *name, int refcnt)
{
	struct pml_loaded l = {.bytes = 1000, .refcnt = refcnt};

	snprintf(l.name, sizeof(l.name), "%s", name);
	return l;
}

static void ev(struct pml_policy *p, enum pml_pol_event_kind kind, const char *module,
	       double t, bool predicted)
{
	struct pml_pol_event e = {.kind = kind, .t_ns = S(t), .module = module, .bytes = -1,
				  .predicted = predicted};

	pml_policy_observe(p, &e);
}

static void test_policy(void)
{
	struct pml_needs_model *m = trained();
	struct pml_policy_config cfg = {.idle_seconds = 5, .clock = &clock, .needs_model = m,
					.threshold = 0.5};
	struct pml_policy *p = NULL;
	struct pml_action acts[16];
	struct pml_loaded mods[8];
	int n;

	CHECK(pml_policy_find("markov") == &pml_policy_markov);
	{
		struct pml_policy_config none = cfg;

		none.needs_model = NULL;
		CHECK(pml_policy_new("markov", &none, &p) == -EINVAL);
	}
	CHECK(pml_policy_new("markov", &cfg, &p) == 0);
	if (!p)
		return;
	ev(p, PML_POL_BASE, "virtio_blk", 1, false);
	mods[0] = mod("virtio_blk", 0);
	fake_now = S(2);
	CHECK(pml_policy_decide(p, mods, 1, acts, 16) == 0); /* nothing needed yet */
	/* the kernel asks for sctp: loop and vfat are predicted, dummy (0.4) is not */
	ev(p, PML_POL_REQUEST, "sctp", 2, false);
	n = pml_policy_decide(p, mods, 1, acts, 16);
	CHECK(n == 2);
	CHECK(acts[0].kind == PML_ACT_LOAD);
	CHECK_STR(acts[0].module, "loop");
	CHECK(fabs(acts[0].confidence - 0.8) < 1e-9);
	CHECK(fabs(acts[0].lead_ms - 1421.25) < 1e-6);
	CHECK(acts[0].bytes == 32768 && acts[0].load_ms == 24);
	CHECK(strstr(acts[0].reason, "prediction: after sctp") == acts[0].reason);
	CHECK(acts[0].basis == PML_BASIS_MODEL);
	CHECK_STR(acts[1].module, "vfat");
	/* asked once: the same trigger again, or the next decide, asks nothing more */
	ev(p, PML_POL_REQUEST, "sctp", 2.1, false);
	CHECK(pml_policy_decide(p, mods, 1, acts, 16) == 0);
	/* the worker loaded both (the kernel's records of our loads first: no trigger) */
	ev(p, PML_POL_LOAD, "loop", 2.2, false);
	ev(p, PML_POL_LOAD, "loop", 2.2, true);
	ev(p, PML_POL_LOAD, "vfat", 2.3, true);
	mods[1] = mod("sctp", 2);
	mods[2] = mod("loop", 0);
	mods[3] = mod("vfat", 0);
	/* loop is used (refcount seen); vfat never: gone after 5 s + 2 x its gap (1.92 s) */
	mods[2].refcnt = 1;
	fake_now = S(3);
	CHECK(pml_policy_decide(p, mods, 4, acts, 16) == 0);
	mods[2].refcnt = 0;
	fake_now = S(2.3 + 5 + 3.8);
	CHECK(pml_policy_decide(p, mods, 4, acts, 16) == 0);
	fake_now = S(2.3 + 5 + 3.9);
	n = pml_policy_decide(p, mods, 4, acts, 16);
	CHECK(n == 1);
	CHECK(acts[0].kind == PML_ACT_UNLOAD);
	CHECK_STR(acts[0].module, "vfat");
	CHECK(strstr(acts[0].reason, "prediction unused") != NULL);
	/* a refused unload waits again */
	ev(p, PML_POL_BUSY, "vfat", 11.2, false);
	fake_now = S(12);
	CHECK(pml_policy_decide(p, mods, 4, acts, 16) == 0);
	/* a need marks it used: kept for good */
	ev(p, PML_POL_NEED, "vfat", 12.5, false);
	fake_now = S(40);
	CHECK(pml_policy_decide(p, mods, 4, acts, 16) == 0);
	pml_policy_free(p);

	/* a lower threshold lets dummy in; a load by someone else (user space's modprobe) is
	 * a trigger too */
	cfg.threshold = 0.3;
	CHECK(pml_policy_new("markov", &cfg, &p) == 0);
	if (p) {
		ev(p, PML_POL_LOAD, "sctp", 1, false);
		fake_now = S(1);
		n = pml_policy_decide(p, mods, 1, acts, 16);
		CHECK(n == 3);
		/* nearest need first: loop 1.42 s, dummy 1.84 s, vfat 1.92 s */
		CHECK(n == 3 && !strcmp(acts[1].module, "dummy") &&
		      fabs(acts[1].confidence - 0.4) < 1e-9);
		CHECK(n == 3 && !strcmp(acts[2].module, "vfat"));
		/* an unknown module predicts nothing */
		ev(p, PML_POL_REQUEST, "xfs", 2, false);
		CHECK(pml_policy_decide(p, mods, 1, acts, 16) == 0);
		pml_policy_free(p);
	}
	/* a horizon of 1.5 s keeps the successors needed within it: loop (1.42 s) only */
	cfg.horizon_ms = 1500;
	CHECK(pml_policy_new("markov", &cfg, &p) == 0);
	if (p) {
		ev(p, PML_POL_LOAD, "sctp", 1, false);
		fake_now = S(1);
		n = pml_policy_decide(p, mods, 1, acts, 16);
		CHECK(n == 1 && !strcmp(acts[0].module, "loop"));
		pml_policy_free(p);
	}
	pml_needs_model_free(m);
}

/* load-all's list from a needs model: the modules some run needed, most runs first,
 * with the model's cost hints on the actions. */
static void test_load_all(void)
{
	struct pml_needs_model *m = trained();
	const char *names[16];
	size_t n = pml_needs_model_ranked(m, NULL, 0);
	struct pml_policy_config cfg = {.clock = &clock, .needs_model = m};
	struct pml_policy *p = NULL;
	struct pml_action acts[16];

	CHECK(n == 5);
	CHECK(pml_needs_model_ranked(m, names, 16) == n);
	CHECK(pml_needs_model_ranked(m, names, 2) == n); /* writes 2, says how many */
	/* sctp, loop and vfat in both runs (by name), then dummy and tun in one */
	CHECK_STR(names[0], "loop");
	CHECK_STR(names[1], "sctp");
	CHECK(pml_needs_model_ranked(m, names, 16) == n);
	CHECK_STR(names[2], "vfat");
	CHECK_STR(names[3], "dummy");
	CHECK_STR(names[4], "tun");
	cfg.preload = names;
	cfg.n_preload = n;
	CHECK(pml_policy_new("load-all", &cfg, &p) == 0);
	if (p) {
		int k = pml_policy_decide(p, NULL, 0, acts, 16);

		CHECK(k == 5);
		CHECK(k == 5 && !strcmp(acts[1].module, "sctp") && acts[1].bytes == 438272 &&
		      acts[1].load_ms == 100);
		CHECK(pml_policy_decide(p, NULL, 0, acts, 16) == 0); /* asked once */
		pml_policy_free(p);
	}
	pml_needs_model_free(m);
}

/* A needs model's text with a correct checksum line (as pml_needs_model_save writes it). */
static char *model_text(const char *body, size_t *len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char *t = NULL;
	FILE *f = open_memstream(&t, len);

	fputs(body, f);
	fflush(f);
	for (size_t i = 0; i < *len; i++) {
		h ^= (unsigned char)t[i];
		h *= 0x100000001b3ull;
	}
	fprintf(f, "checksum fnv1a64 %016llx\n", (unsigned long long)h);
	fclose(f);
	return t;
}

/* Numbers read from a needs model file are range-checked: out of range is refused, named. */
static void test_ranges(void)
{
	static const char *const bad[] = {
		"window-s inf\n", "window-s nan\n", "window-s -1\n", "alpha 1e300\n",
		"module loop 4 99999999999999 56.4\n", "module loop 4 32768 nan\n",
		"module loop 4 32768 1e300\n",
		"module loop 4 32768 5\nnext loop loop 1 inf\n",
	};
	char head[64], why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pml_needs_model *m = NULL;
		char body[512];
		size_t len;
		char *t;

		snprintf(head, sizeof(head), "pml-needs-markov 1\n");
		snprintf(body, sizeof(body), "%s%s", head, bad[i]);
		t = model_text(body, &len);
		why[0] = '\0';
		CHECK(pml_needs_model_parse(t, len, &m, why, sizeof(why)) < 0);
		CHECK(strstr(why, i == 7 ? "line 3" : "line 2") != NULL);
		pml_needs_model_free(m);
		free(t);
	}
}

/* A trigger whose successors outgrow the module table mid-loop: the reason still names
 * the trigger (trigger() kept a pointer into the table across get(), which may move it). */
static void test_many_successors(void)
{
	struct pml_needs_model *m = NULL;
	struct pml_policy_config cfg = {.idle_seconds = 5, .clock = &clock, .threshold = 0.5};
	struct pml_policy *p = NULL;
	struct pml_action acts[64];
	const char *run[41];
	char names[41][16];
	uint64_t t[41];
	int n, named = 0;

	CHECK(pml_needs_model_new(30, 0.5, &m) == 0);
	if (!m)
		return;
	for (int i = 0; i < 41; i++) {
		snprintf(names[i], sizeof(names[i]), i ? "succ%02d" : "trig", i);
		run[i] = names[i];
		t[i] = S(1 + 0.01 * i);
	}
	for (int r = 0; r < 3; r++)
		CHECK(pml_needs_model_add_run(m, run, t, 41) == 0);
	cfg.needs_model = m;
	CHECK(pml_policy_new("markov", &cfg, &p) == 0);
	if (!p) {
		pml_needs_model_free(m);
		return;
	}
	for (int i = 0; i < 40; i++) {
		char base[16];

		snprintf(base, sizeof(base), "base%02d", i);
		ev(p, PML_POL_BASE, base, 1, false);
	}
	fake_now = S(2);
	ev(p, PML_POL_REQUEST, "trig", 2, false);
	n = pml_policy_decide(p, NULL, 0, acts, 64);
	CHECK(n == 32); /* MK_PREDS_MAX */
	for (int i = 0; i < n; i++)
		named += strstr(acts[i].reason, "prediction: after trig ") == acts[i].reason;
	CHECK(named == n);
	pml_policy_free(p);
	pml_needs_model_free(m);
}

int main(void)
{
	const char *env = getenv("PML_TEST_FIXTURES");

	snprintf(fixtures, sizeof(fixtures), "%s", env ? env : "tests/fixtures");
	test_ranges();
	test_train();
	test_file();
	test_policy();
	test_load_all();
	test_many_successors();
	return unit_done("policy-markov");
}
