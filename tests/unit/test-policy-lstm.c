/* The lstm policy over a real guest trace (tests/fixtures/trace/guest-acceptance.bin),
 * replayed with an injected clock by a small driver written here (loads and unloads
 * applied at once): a model trained on the run (an LSTM with a 200 ms horizon, and the
 * token n-gram) must prefetch sctp, vfat and vxlan before the kernel asks for them; a
 * prefetch never used is taken back once idle and no longer predicted, and loaded at most
 * twice between needs; a program's name names a module only for the programs known to be
 * named after theirs (not `ping`); a model of another kernel series, one of another token
 * scheme and no model at all are refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model-file.h"
#include "model/train.h"
#include "policy/policy.h"
#include "trace/trace-file.h"
#include "unit.h"
#include "util/log.h"

static char fixtures[512], trace[1024];
static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

/* The roles of the fixture model's modules (set by train_model with roles). */
static char dep_only[16][64];
static int n_dep_only;

/* Train a model on the fixture run (horizon 200 ms) into path: an LSTM or an n-gram;
 * with roles, each module's role in the run (model-file.h) is written too; flags go into
 * the file's train_flags as they are (the labels stay first needs). */
static void train_model(const char *path, bool ngram, bool roles, uint32_t flags)
{
	uint8_t role[64];

	struct pml_corpus_src src[3];
	struct pml_corpus_opts co = {.min_docs = 1, .horizon_ms = 200};
	struct pml_corpus *c = NULL;
	struct pml_model_meta meta;
	const char **vocab = NULL;

	for (int i = 0; i < 3; i++)
		src[i] = (struct pml_corpus_src){.trace = trace, .split = PML_SPLIT_TRAIN};
	CHECK(pml_corpus_build(src, 3, &co, &c) == 0);
	if (!c)
		return;
	CHECK(pml_corpus_meta(c, NULL, &meta, &vocab) == 0);
	meta.threshold = 0.5f;
	meta.train_flags |= flags;
	if (roles && c->n_modules <= 64) {
		pml_corpus_roles(c, meta.modules, c->n_modules, role);
		meta.roles = role;
		n_dep_only = 0;
		for (int m = 0; m < c->n_modules && n_dep_only < 16; m++)
			if (role[m] == PML_MODEL_ROLE_DEP)
				snprintf(dep_only[n_dep_only++], 64, "%s", meta.modules[m]);
	}
	if (ngram) {
		struct pml_ngram *mk = NULL;

		CHECK(pml_train_ngram(c, 1, 0.05f, 0, &mk) == 0);
		CHECK(mk && pml_ngram_save(mk, path, &meta) == 0);
		pml_ngram_free(mk);
	} else {
		struct pml_lstm_config cfg = {.vocab = (int)pml_vocab_size(c->vocab), .embed = 16,
					      .hidden = 32, .layers = 1, .modules = c->n_modules};
		struct pml_train_opts o = {.batch = 3, .window = 32, .epochs = 30, .lr = 2e-2f,
					   .pos_weight = 4, .seed = 1};
		struct pml_lstm *m = pml_lstm_new(&cfg);

		pml_lstm_init_params(m, 1);
		CHECK(pml_train_lstm(c, m, &o, NULL) == 0);
		CHECK(pml_lstm_save(m, path, &meta) == 0);
		pml_lstm_free(m);
	}
	free(vocab);
	pml_corpus_free(c);
}

struct driver {
	struct pml_policy *pol;
	struct pml_loaded loaded[64];
	size_t n;
	/* first prefetch time per module name, and wasted unloads */
	char pre_name[32][64];
	uint64_t pre_t[32];
	int n_pre, unloads;
	char unloaded[32][64];
};

static struct pml_loaded *find_loaded(struct driver *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->loaded[i].name, name))
			return &d->loaded[i];
	return NULL;
}

static void ev(struct driver *d, enum pml_pol_event_kind kind, const char *module,
	       bool predicted, const struct pml_tev_hdr *tev)
{
	struct pml_pol_event e = {.kind = kind, .t_ns = fake_now, .module = module, .bytes = -1,
				  .predicted = predicted, .tev = tev};

	pml_policy_observe(d->pol, &e);
}

static void decide(struct driver *d)
{
	struct pml_action act[16];
	int n = pml_policy_decide(d->pol, d->loaded, d->n, act, 16);

	CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		if (act[i].kind == PML_ACT_LOAD) {
			CHECK(act[i].confidence >= 0.5 && act[i].confidence <= 1.0);
			CHECK(act[i].lead_ms > 0);
			CHECK((!strncmp(act[i].reason, "prediction: lstm p ", 19) &&
			       act[i].basis == PML_BASIS_MODEL) ||
			      (!strncmp(act[i].reason, "prediction: named by '", 22) &&
			       act[i].basis == PML_BASIS_NAMES));
			CHECK(!find_loaded(d, act[i].module));
			if (d->n_pre < 32) {
				snprintf(d->pre_name[d->n_pre], 64, "%s", act[i].module);
				d->pre_t[d->n_pre++] = fake_now;
			}
			snprintf(d->loaded[d->n].name, 64, "%s", act[i].module);
			d->loaded[d->n].refcnt = 0;
			d->n++;
			ev(d, PML_POL_LOAD, act[i].module, true, NULL);
		} else {
			struct pml_loaded *l = find_loaded(d, act[i].module);

			CHECK(l != NULL);
			if (!l)
				continue;
			*l = d->loaded[--d->n];
			snprintf(d->unloaded[d->unloads++ % 32], 64, "%s", act[i].module);
			ev(d, PML_POL_UNLOAD, act[i].module, false, NULL);
		}
	}
}

/* Replay records [from, to) of the trace (to < 0: all) through the policy. A module_load
 * record of a module already loaded (prefetched) is its need; of another, a load by the
 * program's modprobe. Returns the time each need's request came (by the loaded module:
 * the first request before its load). */
static void replay(struct driver *d, long from, long to, char (*req_mod)[64], uint64_t *req_t,
		   int *n_req)
{
	struct pml_trace_reader *r = NULL;
	const struct pml_tev_hdr *e;
	uint64_t last_req = 0;
	long k = 0;

	CHECK(pml_trace_reader_open(trace, &r) == 0);
	while (r && pml_trace_reader_next(r, &e) > 0) {
		const struct pml_tev_module *mr = (const void *)e;

		if (k++ < from)
			continue;
		if (to >= 0 && k > to)
			break;
		fake_now = e->t_ns;
		ev(d, PML_POL_TRACE, NULL, false, e);
		if (e->kind == PML_TEV_MOD_REQUEST)
			last_req = e->t_ns;
		if (e->kind == PML_TEV_MOD_LOAD) {
			if (n_req && *n_req < 32) {
				snprintf(req_mod[*n_req], 64, "%s", mr->name);
				req_t[(*n_req)++] = last_req;
			}
			if (find_loaded(d, mr->name)) {
				ev(d, PML_POL_NEED, mr->name, false, NULL);
			} else {
				snprintf(d->loaded[d->n++].name, 64, "%s", mr->name);
				ev(d, PML_POL_LOAD, mr->name, false, NULL);
			}
		}
		decide(d);
	}
	pml_trace_reader_free(r);
}

static uint64_t prefetched_at(const struct driver *d, const char *m)
{
	for (int i = 0; i < d->n_pre; i++)
		if (!strcmp(d->pre_name[i], m))
			return d->pre_t[i];
	return 0;
}

static uint64_t requested_at(char (*mods)[64], const uint64_t *t, int n, const char *m)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(mods[i], m))
			return t[i];
	return 0;
}

static void test_prefetch(const char *model, const char *label)
{
	struct pml_policy_config cfg = {.clock = &clock, .model_path = model,
					.kernel_release = "6.1.0-56-amd64",
					.prior_command = "sh ./acceptance.sh"};
	struct driver d = {0};
	char mods[32][64];
	uint64_t t[32];
	int n = 0;
	const char *want[] = {"sctp", "vfat", "vxlan"};

	CHECK(pml_policy_new("lstm", &cfg, &d.pol) == 0);
	if (!d.pol)
		return;
	replay(&d, 0, -1, mods, t, &n);
	printf("%s: %d prefetches:", label, d.n_pre);
	for (int i = 0; i < d.n_pre; i++)
		printf(" %s", d.pre_name[i]);
	printf("\n");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t p = prefetched_at(&d, want[i]), q = requested_at(mods, t, n, want[i]);

		printf("  %s: prefetched %.3f s, requested %.3f s: lead %.0f ms\n", want[i],
		       p / 1e9, q / 1e9, ((double)q - (double)p) / 1e6);
		CHECK(p > 0 && q > 0 && p <= q);
	}
	/* what is loaded at the end was all used: nothing to take back, even much later (a
	 * prefetch taken back on the way, idle and no longer predicted, came back when
	 * predicted again) */
	n = d.unloads;
	fake_now += 60ull * 1000000000;
	decide(&d);
	CHECK(d.unloads == n);
	pml_policy_free(d.pol);
}

/* A model with roles prefetches the modules the kernel asked for (sctp, vfat, vxlan, as
 * test_prefetch) and none that the run only loaded as another's dependency; the same
 * model without roles prefetched some of those on their own. */
static void test_roles(const char *plain)
{
	char path[] = "/tmp/pml-test-lstm-roles-XXXXXX";
	struct pml_policy_config cfg = {.clock = &clock, .kernel_release = "6.1.0-56-amd64",
					.prior_command = "sh ./acceptance.sh"};
	int fd = mkstemp(path), deps_plain = 0, deps_roles = 0;

	close(fd);
	train_model(path, false, true, 0);
	printf("  only loaded as a dependency in the run (%d):", n_dep_only);
	for (int i = 0; i < n_dep_only; i++)
		printf(" %s", dep_only[i]);
	printf("\n");
	CHECK(n_dep_only > 0);
	for (int k = 0; k < 2; k++) {
		struct driver d = {0};

		cfg.model_path = k ? path : plain;
		CHECK(pml_policy_new("lstm", &cfg, &d.pol) == 0);
		if (!d.pol)
			continue;
		fake_now = 0;
		replay(&d, 0, -1, NULL, NULL, NULL);
		for (int i = 0; i < n_dep_only; i++)
			if (prefetched_at(&d, dep_only[i]))
				*(k ? &deps_roles : &deps_plain) += 1;
		if (k)
			for (size_t i = 0; i < 3; i++)
				CHECK(prefetched_at(&d, (const char *[]){"sctp", "vfat", "vxlan"}[i]));
		pml_policy_free(d.pol);
	}
	printf("  dependencies prefetched alone: %d without roles, %d with\n", deps_plain,
	       deps_roles);
	CHECK(deps_plain > 0 && deps_roles == 0);
	unlink(path);
}

/* A prediction with no need after it: the socket call predicts sctp; the run is then cut
 * and its last records (exits: sctp no longer predicted) come; once idle it goes. */
static void test_take_back(const char *model)
{
	struct pml_policy_config cfg = {.clock = &clock, .model_path = model, .idle_seconds = 3};
	struct driver d = {0};

	CHECK(pml_policy_new("lstm", &cfg, &d.pol) == 0);
	if (!d.pol)
		return;
	/* up to the socket call (record 241 of the dump) */
	replay(&d, 0, 241, NULL, NULL, NULL);
	CHECK(prefetched_at(&d, "sctp") > 0);
	CHECK(find_loaded(&d, "sctp") != NULL);
	/* not yet: idle 1 s */
	replay(&d, 1150, -1, NULL, NULL, NULL);
	fake_now += 1000000000ull;
	decide(&d);
	CHECK(find_loaded(&d, "sctp") != NULL && d.unloads == 0);
	/* idle past 3 s: taken back, except what something holds (in use: kept for good) */
	CHECK(find_loaded(&d, "libcrc32c") != NULL);
	if (find_loaded(&d, "libcrc32c"))
		find_loaded(&d, "libcrc32c")->n_holders = 1;
	fake_now += 10000000000ull;
	decide(&d);
	printf("take back: %d unloads\n", d.unloads);
	CHECK(d.unloads > 0 && !find_loaded(&d, "sctp"));
	CHECK(find_loaded(&d, "libcrc32c") != NULL);
	if (find_loaded(&d, "libcrc32c"))
		find_loaded(&d, "libcrc32c")->n_holders = 0;
	fake_now += 10000000000ull;
	decide(&d);
	CHECK(find_loaded(&d, "libcrc32c") != NULL);
	pml_policy_free(d.pol);
}

/* lstm+idle-unload: after the whole run, what the program used goes once idle (refcount
 * 0, no holders); what is still in use stays; plain lstm keeps both. The LSTM's
 * probabilities stay high at the end of the one run it was trained on: a model trained on
 * first needs alone is not believed about a next use (the idle module goes all the same),
 * one whose file says it learnt later uses (PML_MODEL_TRAIN_REUSE) is, and everything it
 * still predicts is kept. */
static void test_idle_unload(const char *ngram, const char *lstm, const char *lstm_reuse)
{
	/* (learned+idle-unload without a resolver: its slot model has nothing to read) */
	const char *names[] = {"lstm", "lstm+idle-unload", "lstm+idle-unload",
			       "lstm+idle-unload", "learned+idle-unload"};
	const char *models[] = {ngram, ngram, lstm, lstm_reuse, lstm};

	for (int v = 0; v < 5; v++) {
		struct pml_policy_config cfg = {.clock = &clock, .model_path = models[v],
						.idle_seconds = 3};
		struct driver d = {0};
		struct pml_loaded *vfat, *sctp;

		CHECK(pml_policy_new(names[v], &cfg, &d.pol) == 0);
		if (!d.pol)
			continue;
		replay(&d, 0, -1, NULL, NULL, NULL);
		vfat = find_loaded(&d, "vfat");
		sctp = find_loaded(&d, "sctp");
		CHECK(vfat && sctp);
		if (sctp)
			sctp->refcnt = 2; /* in use */
		d.unloads = 0;
		decide(&d); /* the idle clock starts at the first look */
		fake_now += 10ull * 1000000000;
		decide(&d);
		printf("%s (model %d): %d unloads after the run:", names[v], v, d.unloads);
		for (int i = 0; i < d.unloads && i < 32; i++)
			printf(" %s", d.unloaded[i]);
		printf("\n");
		if (v == 0 || v == 3) {
			CHECK(d.unloads == 0);
		} else {
			CHECK(d.unloads > 0 && !find_loaded(&d, "vfat"));
			CHECK(find_loaded(&d, "sctp") != NULL);
		}
		pml_policy_free(d.pol);
	}
	CHECK(pml_policy_find("lstm+idle-unload") == &pml_policy_lstm_idle);
	CHECK(pml_policy_find("learned+idle-unload") == &pml_policy_learned_idle);
	CHECK(pml_policy_info("learned+idle-unload") &&
	      (pml_policy_info("learned+idle-unload")->flags & PML_POLICY_SLOTS));
	CHECK(pml_policy_reads_trace("lstm+idle-unload") && pml_policy_reads_trace("lstm") &&
	      !pml_policy_reads_trace("markov") && !pml_policy_reads_trace("nope"));
}

/* lstm+idle-unload hands the program's trace to its idle-unload: a module the kernel
 * asked for on behalf of a process stays while the process lives (its exit is a trace
 * record), then goes after T. */
static void test_idle_requester(const char *lstm)
{
	struct pml_policy_config cfg = {.clock = &clock, .model_path = lstm, .idle_seconds = 1};
	struct pml_tev_proc ex = {.h = {.pid = 42, .tid = 42, .kind = PML_TEV_EXIT,
					.size = sizeof(ex)}};
	struct pml_tev_proc fk = {.h = {.pid = 7, .tid = 7, .kind = PML_TEV_FORK,
					.size = sizeof(fk)}, .other = 42};
	struct pml_pol_event tr = {.kind = PML_POL_TRACE, .bytes = -1};
	struct pml_pol_event ev = {.bytes = -1, .module = "nft_reject_inet"};
	struct driver d = {0};

	CHECK(pml_policy_new("lstm+idle-unload", &cfg, &d.pol) == 0);
	if (!d.pol)
		return;
	fake_now = 100ull * 1000000000;
	tr.t_ns = fk.h.t_ns = fake_now;
	tr.tev = &fk.h;
	pml_policy_observe(d.pol, &tr);
	ev.kind = PML_POL_REQUEST;
	ev.t_ns = fake_now;
	ev.pid = 42;
	pml_policy_observe(d.pol, &ev);
	ev.kind = PML_POL_LOAD;
	ev.pid = 0;
	pml_policy_observe(d.pol, &ev);
	snprintf(d.loaded[0].name, sizeof(d.loaded[0].name), "nft_reject_inet");
	d.loaded[0].bytes = 16384;
	d.n = 1;
	decide(&d);
	fake_now += 5ull * 1000000000; /* 5 T: 42 lives */
	decide(&d);
	CHECK(d.unloads == 0);
	tr.t_ns = ex.h.t_ns = fake_now;
	tr.tev = &ex.h;
	pml_policy_observe(d.pol, &tr);
	fake_now += 1000000000;
	decide(&d);
	CHECK(d.unloads == 1 && !find_loaded(&d, "nft_reject_inet"));
	pml_policy_free(d.pol);
}

/* The modules a program names: the rules read the prior's and the executed commands'
 * words and ask the resolver; pml_expect lines (the dataset's labels) are not read. */
static int fake_resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	static const char *const table[][2] = {
		{"rtnl-link-vxlan", "vxlan"}, {"fs-xfs", "xfs"}, {"sch_netem", "sch_netem"},
		{"sctp", "sctp"}, {"rtnl-link-ipip", "ipip"}, {"zram", "zram"}, {"nbd", "nbd"},
		{"ip_vs", "ip_vs"}, {"ip_vs_wrr", "ip_vs_wrr"}, {"vsock", "vsock"}, {"loop", "loopx"},
	};

	(*(int *)data)++;
	if (!strcmp(alias, "rtnl-link-vxlan"))
		(*(int *)data) += 1000; /* marks it asked */
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(alias, table[i][0]) && max > 0) {
			snprintf(names[0], 64, "%s", table[i][1]);
			return 1;
		}
	return 0;
}

static const struct pml_action *action_for(const struct pml_action *a, int n, const char *m)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(a[i].module, m))
			return &a[i];
	return NULL;
}

/* An execve record of argv by pid at fake_now, told to the policy. */
static void exec_rec(struct pml_policy *p, int pid, const char *const *argv, int argc)
{
	struct pml_tev_execve e;
	struct pml_pol_event ev = {.kind = PML_POL_TRACE, .t_ns = fake_now, .bytes = -1};

	memset(&e, 0, sizeof(e));
	e.h.t_ns = fake_now;
	e.h.pid = e.h.tid = (__u32)pid;
	e.h.kind = PML_TEV_EXECVE;
	e.h.size = sizeof(e);
	e.h.nr = 59;
	e.argc = (__u32)argc;
	snprintf(e.filename, sizeof(e.filename), "/usr/bin/%s", argv[0]);
	for (int i = 0; i < argc && i < PML_TEV_EXEC_ARGS; i++)
		snprintf(e.argv[i], sizeof(e.argv[i]), "%s", argv[i]);
	ev.tev = &e.h;
	pml_policy_observe(p, &ev);
}

static void test_names(const char *model)
{
	const char *script = "set -e\n"
			     "ip link add t0 type ipip remote 10.0.0.2\n"
			     "mkfs.xfs -q /tmp/img && mount -t xfs -o loop /tmp/img /mnt\n"
			     "tc qdisc add dev v0 root netem delay 5ms\n"
			     "zramctl --find --size 8M; nbd-client -N x 127.0.0.1 /dev/nbd0\n"
			     "ipvsadm -A -t 10.0.0.1:80 -s wrr\n"
			     "socat -u /dev/null VSOCK-LISTEN:1234 &\n"
			     "mount -o loop,ro /tmp/img /mnt\n"
			     "# pml-expect: sctp\n"
			     "pml_expect sctp\n"
			     "echo type $kind\n";
	int calls = 0;
	struct pml_policy_config cfg = {.clock = &clock, .model_path = model, .idle_seconds = 1,
					.prior_script = script, .resolve_fn = fake_resolve,
					.resolve_data = &calls};
	struct pml_policy *p = NULL;
	struct pml_action acts[64];
	const struct pml_action *a;
	int n;

	fake_now = 1000000000ull;
	CHECK(pml_policy_new("lstm", &cfg, &p) == 0);
	if (!p)
		return;
	n = pml_policy_decide(p, NULL, 0, acts, 64);
	CHECK(calls > 0);
	/* (modules the fixture's model does not know: its own predictions do not interfere) */
	a = action_for(acts, n, "ipip"); /* after a builtin: at once */
	CHECK(a && a->kind == PML_ACT_LOAD && a->confidence > 0.9 &&
	      !strcmp(a->reason, "prediction: named by 'type ipip'") &&
	      a->basis == PML_BASIS_NAMES);
	/* the rest wait for their command, or the one before (name-wait.h): as the job runs
	 * its programs (these executed alone name nothing themselves, but zramctl, whose
	 * naming is the same) */
	CHECK(!action_for(acts, n, "xfs") && !action_for(acts, n, "sch_netem"));
	{
		static const char *const progs[] = {"ip",	"mount",   "tc",   "zramctl",
						    "nbd-client", "ipvsadm", "socat"};

		for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++)
			exec_rec(p, 300 + (int)i, &progs[i], 1);
	}
	n = pml_policy_decide(p, NULL, 0, acts, 64);
	a = action_for(acts, n, "xfs");
	CHECK(a && (!strcmp(a->reason, "prediction: named by 'mkfs.xfs'")));
	a = action_for(acts, n, "sch_netem");
	CHECK(a && !strcmp(a->reason, "prediction: named by 'tc netem'"));
	/* programs named after their module, ipvsadm's scheduler, socat's address type */
	a = action_for(acts, n, "zram");
	CHECK(a && !strcmp(a->reason, "prediction: named by 'zramctl'"));
	a = action_for(acts, n, "nbd");
	CHECK(a && !strcmp(a->reason, "prediction: named by 'nbd-client'"));
	CHECK(action_for(acts, n, "ip_vs") && action_for(acts, n, "ip_vs_wrr"));
	a = action_for(acts, n, "vsock"); /* after a path argument too */
	CHECK(a && !strcmp(a->reason, "prediction: named by 'socat VSOCK-LISTEN'"));
	a = action_for(acts, n, "loopx"); /* (the fake index's name for loop) */
	CHECK(a && !strcmp(a->reason, "prediction: named by 'mount -o loop'"));
	a = action_for(acts, n, "sctp"); /* the label line is not read (the model may say) */
	CHECK(!a || !strstr(a->reason, "named"));
	/* asked once; loaded, unused: held 5 s, then taken back (idle 1 s, not predicted) */
	CHECK(pml_policy_decide(p, NULL, 0, acts, 64) == 0);
	{
		struct pml_pol_event e = {.kind = PML_POL_LOAD, .t_ns = fake_now,
					  .module = "xfs", .bytes = -1, .predicted = true};
		struct pml_loaded l = {.name = "xfs", .bytes = 1000};

		pml_policy_observe(p, &e);
		fake_now += 3000000000ull;
		CHECK(pml_policy_decide(p, &l, 1, acts, 64) == 0);
		fake_now += 3000000000ull;
		n = pml_policy_decide(p, &l, 1, acts, 64);
		CHECK(n == 1 && acts[0].kind == PML_ACT_UNLOAD && !strcmp(acts[0].module, "xfs"));
	}
	pml_policy_free(p);

	/* live: the executed `ip link add ... type vxlan` of the fixture run is read */
	{
		struct pml_policy_config c2 = {.clock = &clock, .model_path = model,
					       .resolve_fn = fake_resolve, .resolve_data = &calls};
		struct driver d = {0};

		calls = 0;
		CHECK(pml_policy_new("lstm", &c2, &d.pol) == 0);
		if (d.pol) {
			replay(&d, 0, -1, NULL, NULL, NULL);
			CHECK(calls >= 1000);
			pml_policy_free(d.pol);
		}
	}
	/* no resolver: the model alone, nothing named */
	cfg.resolve_fn = NULL;
	CHECK(pml_policy_new("lstm", &cfg, &p) == 0);
	if (p) {
		n = pml_policy_decide(p, NULL, 0, acts, 64);
		for (int i = 0; i < n; i++)
			CHECK(strncmp(acts[i].reason, "prediction: named", 17));
		pml_policy_free(p);
	}
}

/* The kernel's index as the resolver sees it: `ping` (an industrial-I/O sensor driver)
 * and `lp` (the parallel printer) are module names too. */
static int index_resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	static const char *const mods[] = {"ping", "lp", "zram", "bridge", "nbd"};

	(void)data;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (!strcmp(alias, mods[i]) && max > 0) {
			snprintf(names[0], 64, "%s", mods[i]);
			return 1;
		}
	return 0;
}

/* Once the job runs, or its script names, a program no training run ran, the model's own
 * guesses stop: the acceptance run replayed after such an exec prefetches nothing (it
 * prefetches sctp, vfat and vxlan otherwise, test_prefetch), nor with a script naming one;
 * after a known program's exec it still prefetches them. What a launcher runs counts, not
 * the launcher: an unknown program whose process executes a known one within 100 ms (env,
 * nice), or one on the command line, stops nothing. A new prior (a restored guest's job)
 * starts again. */
static void test_unfamiliar(const char *model)
{
	static const char *const odd[] = {"frobnicate-tool", "--all"};
	static const char *const known[] = {"ip", "link"};

	for (int v = 0; v < 6; v++) {
		struct pml_policy_config cfg = {
			.clock = &clock, .model_path = model, .kernel_release = "6.1.0-56-amd64",
			.prior_command = v == 5 ? "frobnicate-tool sh ./acceptance.sh"
						: "sh ./acceptance.sh",
			.prior_script = v == 2 ? "frobnicate-tool --all\n" : NULL};
		struct driver d = {0};
		bool stopped = v == 0 || v == 2;

		fake_now = 0;
		CHECK(pml_policy_new("lstm", &cfg, &d.pol) == 0);
		if (!d.pol)
			return;
		if (v == 0 || v == 3 || v == 4)
			exec_rec(d.pol, 4242, odd, 2);
		if (v == 1 || v == 4) {
			fake_now = 5 * 1000000ull; /* 5 ms later, the same process */
			exec_rec(d.pol, 4242, known, 2);
		}
		if (v == 3) {
			struct pml_pol_event pe = {.kind = PML_POL_PRIOR, .bytes = -1,
						   .prior_command = "sh ./acceptance.sh"};

			pml_policy_observe(d.pol, &pe);
		}
		replay(&d, 0, -1, NULL, NULL, NULL);
		printf("unfamiliar %d: %d prefetches\n", v, d.n_pre);
		CHECK(stopped ? d.n_pre == 0 : prefetched_at(&d, "sctp") > 0);
		pml_policy_free(d.pol);
	}
}

/* A program's name names a module only when the program is known to be named after it
 * (bridge, nbd-client, zramctl ...): `ping` does not load the iio driver ping, `lp` not
 * the printer driver, from the script or from an executed command. */
static void test_program_names(const char *model)
{
	static const char *const ping[] = {"ping", "-c", "1", "10.0.0.2"};
	static const char *const lp[] = {"lp", "-d", "office", "/tmp/f"};
	static const char *const nbd[] = {"nbd-client", "-N", "x", "127.0.0.1"};
	struct pml_policy_config cfg = {.clock = &clock,
					.model_path = model,
					.idle_seconds = 1,
					.prior_script = "ping -c 1 10.0.0.2\nlp /tmp/f\n"
							"bridge link show\n",
					.resolve_fn = index_resolve};
	struct pml_policy *p = NULL;
	struct pml_action acts[64];
	const struct pml_action *a;
	int n;

	fake_now = 1000000000ull;
	CHECK(pml_policy_new("lstm", &cfg, &p) == 0);
	if (!p)
		return;
	/* the script's bridge waits for its command, or lp's before it (name-wait.h) */
	CHECK(pml_policy_decide(p, NULL, 0, acts, 64) == 0);
	/* live: the executed commands */
	exec_rec(p, 100, ping, 4);
	exec_rec(p, 101, lp, 4);
	n = pml_policy_decide(p, NULL, 0, acts, 64);
	a = action_for(acts, n, "bridge");
	CHECK(n == 1 && a && a->kind == PML_ACT_LOAD &&
	      !strcmp(a->reason, "prediction: named by 'bridge'"));
	exec_rec(p, 102, nbd, 4);
	n = pml_policy_decide(p, NULL, 0, acts, 64);
	CHECK(!action_for(acts, n, "ping"));
	CHECK(!action_for(acts, n, "lp"));
	a = action_for(acts, n, "nbd");
	CHECK(a && !strcmp(a->reason, "prediction: named by 'nbd-client'"));
	pml_policy_free(p);
}

/* A module named again and again but never used is loaded at most twice between needs of
 * it (the policy frame's bound; seen live: `ping` named, loaded and taken back three
 * times in one job); a need makes it a candidate again. */
static void test_no_cycle(const char *model)
{
	static const char *const zramctl[] = {"zramctl", "--find"};
	struct pml_policy_config cfg = {.clock = &clock,
					.model_path = model,
					.idle_seconds = 1,
					.resolve_fn = index_resolve};
	struct pml_policy *p = NULL;
	struct pml_action acts[64];
	struct pml_loaded l = {.name = "zram", .bytes = 1000};
	bool loaded = false;
	int loads = 0, unloads = 0, n;

	fake_now = 1000000000ull;
	CHECK(pml_policy_new("lstm", &cfg, &p) == 0);
	if (!p)
		return;
	for (int round = 0; round < 6; round++) {
		exec_rec(p, 200 + round, zramctl, 2);
		for (int step = 0; step < 2; step++) {
			n = pml_policy_decide(p, loaded ? &l : NULL, loaded, acts, 64);
			for (int i = 0; i < n; i++) {
				struct pml_pol_event e = {.t_ns = fake_now,
							  .module = "zram",
							  .bytes = -1,
							  .predicted = true};

				if (strcmp(acts[i].module, "zram"))
					continue;
				e.kind = acts[i].kind == PML_ACT_LOAD ? PML_POL_LOAD
								      : PML_POL_UNLOAD;
				loads += acts[i].kind == PML_ACT_LOAD;
				unloads += acts[i].kind == PML_ACT_UNLOAD;
				loaded = acts[i].kind == PML_ACT_LOAD;
				pml_policy_observe(p, &e);
			}
			fake_now +=
			    6000000000ull; /* past the 5 s hold and the idle time */
		}
	}
	CHECK(loads == 2 && unloads == 2 && !loaded);
	/* the program loads it itself (a need), it goes again: named, it may be loaded */
	{
		struct pml_pol_event e = {.kind = PML_POL_LOAD,
					  .t_ns = fake_now,
					  .module = "zram",
					  .bytes = -1};

		pml_policy_observe(p, &e);
		e.kind = PML_POL_UNLOAD;
		pml_policy_observe(p, &e);
	}
	exec_rec(p, 300, zramctl, 2);
	n = pml_policy_decide(p, NULL, 0, acts, 64);
	CHECK(action_for(acts, n, "zram") &&
	      action_for(acts, n, "zram")->kind == PML_ACT_LOAD);
	pml_policy_free(p);
}

static void test_refusals(const char *model)
{
	struct pml_policy_config cfg = {.clock = &clock, .model_path = model,
					.kernel_release = "6.6.0-1-amd64"};
	struct pml_policy *p = NULL;
	char old[1024];

	CHECK(pml_policy_new("lstm", &cfg, &p) == -EXDEV && !p);
	cfg.kernel_release = "6.1.0-50-amd64"; /* the same series: a warning */
	CHECK(pml_policy_new("lstm", &cfg, &p) == 0 && p);
	pml_policy_free(p);
	p = NULL;
	/* a model of before the token scheme (format version 1, no features version) */
	snprintf(old, sizeof(old), "%s/model/tiny-lstm.pml", fixtures);
	cfg.model_path = old;
	cfg.kernel_release = NULL;
	CHECK(pml_policy_new("lstm", &cfg, &p) == -EPROTONOSUPPORT && !p);
	cfg.model_path = NULL;
	CHECK(pml_policy_new("lstm", &cfg, &p) == -EINVAL && !p);
	cfg.model_path = "/nonexistent/model.pml";
	CHECK(pml_policy_new("lstm", &cfg, &p) == -ENOENT && !p);
	CHECK(pml_policy_find("lstm") == &pml_policy_lstm);
}

int main(void)
{
	const char *fx = getenv("PML_TEST_FIXTURES");
	char lstm[] = "/tmp/pml-test-lstm-XXXXXX", ngram[] = "/tmp/pml-test-ngram-XXXXXX";
	char lstm_reuse[] = "/tmp/pml-test-lstm-reuse-XXXXXX";
	int fd;

	pml_set_log_fn(NULL, NULL);
	snprintf(fixtures, sizeof(fixtures), "%s", fx ? fx : "tests/fixtures");
	snprintf(trace, sizeof(trace), "%s/trace/guest-acceptance.bin", fixtures);
	fd = mkstemp(lstm);
	close(fd);
	fd = mkstemp(ngram);
	close(fd);
	fd = mkstemp(lstm_reuse);
	close(fd);
	train_model(lstm, false, false, 0);
	train_model(ngram, true, false, 0);
	train_model(lstm_reuse, false, false, PML_MODEL_TRAIN_REUSE);
	test_prefetch(lstm, "lstm");
	test_roles(lstm);
	test_prefetch(ngram, "ngram tokens");
	test_take_back(ngram);
	test_idle_unload(ngram, lstm, lstm_reuse);
	test_idle_requester(lstm);
	test_names(lstm);
	test_program_names(lstm);
	test_unfamiliar(lstm);
	test_no_cycle(lstm);
	test_refusals(lstm);
	unlink(lstm);
	unlink(ngram);
	unlink(lstm_reuse);
	return unit_done("policy-lstm");
}
