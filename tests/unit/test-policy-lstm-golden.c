/* The lstm policy's decisions over one scripted sequence, against a transcript recorded
 * before the naming rules moved out of lstm.c into their own source (policy/name-rules.c)
 * and policy (names), and recorded again when a naming of the script began to wait for its
 * command (policy/name-wait.h): tests/fixtures/policy/lstm-decisions.txt. The sequence: a prior
 * script naming modules, the base set, the real guest trace of
 * tests/fixtures/trace/guest-acceptance.bin record by record, executed commands, uses,
 * a refused unload, a new prior, and time passing (take-backs, idle unloads, the bound on
 * loads between needs). The model is a scripted predictor (a token raises a module's
 * probability, every token lowers all of them), so the transcript depends on no training
 * and no floating-point kernel. Its vocabulary has no bare "exec", so a program it does
 * not list is out of vocabulary, not a program no training run ran (after which the
 * model's guesses stop: test-policy-lstm.c). Each variant is a section: lstm, lstm with
 * no resolver (--no-names), lstm+idle-unload; lstm-model must give the no-names section
 * whatever resolver it is handed.
 *
 * PML_TEST_GOLDEN_OUT=FILE writes the transcript to FILE instead of comparing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/predictor.h"
#include "policy/policy.h"
#include "trace/trace-file.h"
#include "unit.h"
#include "util/log.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

/* ---- the scripted predictor ---- */

static const char *const vocab[] = {
	"<oov>",   "<prior>",	"<start>",    "exec:ip",	 "exec:mkfs.btrfs",
	"exec:tc", "exec:mount", "arg",	      "arg:vxlan",   "arg:netem", "sock",
	"sock:AF_INET", "mount", "mount:vfat", "exit",	     "req",	 "load",
	"gap",	   "fork",	"exec:sleep", "arg:conntrack",
};
#define N_VOCAB (int)(sizeof(vocab) / sizeof(vocab[0]))
/* sorted, as a model's list is */
static const char *const modules[] = {"btrfs", "sch_netem", "sctp", "vfat", "vxlan", "xt_conntrack"};
#define N_MODS (int)(sizeof(modules) / sizeof(modules[0]))

static const struct {
	const char *tok;
	int mod;
	float p;
} bumps[] = {
	{"<prior>", 3, 0.6f},	    {"exec:ip", 4, 0.55f},	 {"arg:vxlan", 4, 0.96f},
	{"exec:tc", 1, 0.7f},	    {"arg:netem", 1, 0.9f},	 {"sock:AF_INET", 2, 0.93f},
	{"exec:mount", 3, 0.88f},   {"exec:mkfs.btrfs", 0, 0.8f}, {"arg:conntrack", 5, 0.75f},
	{"exec:sleep", 2, 0.7f},
};

struct fake {
	struct pml_predictor p;
	float s[N_MODS];
};

static void fake_observe(struct pml_predictor *p, int32_t token, float *probs)
{
	struct fake *f = (struct fake *)p;
	const char *t = token > 0 && token < N_VOCAB ? vocab[token] : "<oov>";

	for (int m = 0; m < N_MODS; m++)
		f->s[m] *= !strcmp(t, "exit") ? 0.5f : 0.8f;
	for (size_t i = 0; i < sizeof(bumps) / sizeof(bumps[0]); i++)
		if (!strcmp(t, bumps[i].tok) && f->s[bumps[i].mod] < bumps[i].p)
			f->s[bumps[i].mod] = bumps[i].p;
	memcpy(probs, f->s, sizeof(f->s));
}

static void fake_reset(struct pml_predictor *p)
{
	memset(((struct fake *)p)->s, 0, sizeof(((struct fake *)p)->s));
}

static void fake_free(struct pml_predictor *p)
{
	(void)p;
}

static const struct pml_predictor_ops fake_ops = {"fake", fake_observe, fake_reset, fake_free};

/* ---- the module index and costs ---- */

static int fake_resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	static const char *const table[][3] = {
		{"rtnl-link-vxlan", "vxlan", NULL},
		{"rtnl-link-ipip", "ipip", NULL},
		{"fs-btrfs", "btrfs", NULL},
		{"fs-xfs", "xfs", NULL},
		{"fs-vfat", "vfat", NULL},
		{"sch_netem", "sch_netem", NULL},
		{"zram", "zram", NULL},
		{"loop", "loop", NULL},
		{"sctp", "sctp", NULL},
		{"nfnetlink-subsys-10", "nf_tables", NULL},
		{"nft-expr-masq", "nft_masq", NULL},
		{"nft-chain-2-nat", "nft_chain_nat", NULL},
		{"xt_conntrack", "xt_conntrack", NULL},
		{"ip_vs", "ip_vs", NULL},
		{"ip_vs_wrr", "ip_vs_wrr", NULL},
		{"dm_crypt", "dm_crypt", "dm-mod"},
	};
	int n = 0;

	(void)data;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(alias, table[i][0]))
			continue;
		for (int k = 1; k < 3 && table[i][k] && (size_t)n < max; k++)
			snprintf(names[n++], 64, "%s", table[i][k]);
	}
	return n;
}

static int fake_cost(void *data, const char *module, int64_t *ret_bytes, double *ret_load_ms)
{
	(void)data;
	if (!strcmp(module, "zram"))
		return -ENOENT;
	*ret_bytes = 4096 * (int64_t)strlen(module);
	*ret_load_ms = 10.0 + (double)strlen(module);
	return 0;
}

/* ---- the driver: applies every action at once, writes the transcript ---- */

struct driver {
	struct pml_policy *pol;
	struct pml_loaded loaded[128];
	size_t n;
	char *out;
	size_t len, cap;
};

static void say(struct driver *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct driver *d, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (d->cap - d->len < 512) {
		size_t cap = d->cap ? 2 * d->cap : 65536;
		char *n = realloc(d->out, cap);

		if (!n)
			return;
		d->out = n;
		d->cap = cap;
	}
	va_start(ap, fmt);
	k = vsnprintf(d->out + d->len, d->cap - d->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		d->len += (size_t)k < d->cap - d->len ? (size_t)k : d->cap - d->len - 1;
}

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
	struct pml_action act[32];
	int n = pml_policy_decide(d->pol, d->loaded, d->n, act, 32);

	CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		struct pml_action *a = &act[i];

		if (a->kind == PML_ACT_LOAD) {
			say(d, "%.3f load %s conf %.3f lead %.0f bytes %lld load %.1f: %s\n",
			    fake_now / 1e9, a->module, a->confidence, a->lead_ms,
			    (long long)a->bytes, a->load_ms, a->reason);
			if (find_loaded(d, a->module) || d->n == 128)
				continue;
			snprintf(d->loaded[d->n].name, 64, "%s", a->module);
			d->loaded[d->n].refcnt = 0;
			d->loaded[d->n++].n_holders = 0;
			ev(d, PML_POL_LOAD, a->module, true, NULL);
		} else {
			struct pml_loaded *l = find_loaded(d, a->module);

			say(d, "%.3f unload %s: %s\n", fake_now / 1e9, a->module, a->reason);
			if (!l)
				continue;
			*l = d->loaded[--d->n];
			ev(d, PML_POL_UNLOAD, a->module, false, NULL);
		}
	}
}

/* The fixture trace, record by record: a module_load of a module loaded already is its
 * need, of another the program's own load. */
static void replay(struct driver *d, const char *trace)
{
	struct pml_trace_reader *r = NULL;
	const struct pml_tev_hdr *e;

	CHECK(pml_trace_reader_open(trace, &r) == 0);
	while (r && pml_trace_reader_next(r, &e) > 0) {
		const struct pml_tev_module *mr = (const void *)e;

		fake_now = e->t_ns;
		ev(d, PML_POL_TRACE, NULL, false, e);
		if (e->kind == PML_TEV_MOD_LOAD) {
			if (find_loaded(d, mr->name)) {
				ev(d, PML_POL_NEED, mr->name, false, NULL);
			} else if (d->n < 128) {
				snprintf(d->loaded[d->n++].name, 64, "%s", mr->name);
				ev(d, PML_POL_LOAD, mr->name, false, NULL);
			}
		}
		decide(d);
	}
	pml_trace_reader_free(r);
}

static void exec_rec(struct driver *d, int pid, const char *const *argv, int argc)
{
	struct pml_tev_execve e;

	memset(&e, 0, sizeof(e));
	e.h.t_ns = fake_now;
	e.h.pid = e.h.tid = (__u32)pid;
	e.h.kind = PML_TEV_EXECVE;
	e.h.size = sizeof(e);
	e.h.nr = 59;
	e.argc = (__u32)argc;
	snprintf(e.filename, sizeof(e.filename), "/usr/sbin/%s", argv[0]);
	for (int i = 0; i < argc && i < PML_TEV_EXEC_ARGS; i++)
		snprintf(e.argv[i], sizeof(e.argv[i]), "%s", argv[i]);
	ev(d, PML_POL_TRACE, NULL, false, &e.h);
}

static void wait_ms(struct driver *d, int ms, int step)
{
	for (int t = 0; t < ms; t += step) {
		fake_now += (uint64_t)step * 1000000;
		decide(d);
	}
}

static const char script1[] = "set -e\n"
			      "ip link add t0 type ipip remote 10.0.0.2\n"
			      "mkfs.xfs -q /tmp/img && mount -t xfs -o loop /tmp/img /mnt\n"
			      "mount -t vfat /dev/loop0 /mnt\n"
			      "tc qdisc add dev v0 root netem delay 5ms\n"
			      "zramctl --find --size 8M\n"
			      "socat -u /dev/null SCTP-LISTEN:1234 &\n"
			      "ping -c 1 10.0.0.2\n"
			      "# mkfs.btrfs in a comment\n"
			      "pml_expect btrfs\n";
static const char script2[] = "nft add rule ip nat post masquerade\n"
			      "iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT\n"
			      "ipvsadm -A -t 10.0.0.1:80 -s wrr\n"
			      "cryptsetup open /dev/loop1 c\n";

/* The whole sequence through policy name; resolve: hand it the fake index. */
static char *run(const char *name, bool resolve, const char *trace)
{
	static const char *const mkfs[] = {"mkfs.btrfs", "-f", "/dev/loop1"};
	static const char *const ip[] = {"ip", "link", "add", "v0", "type", "vxlan", "id", "42"};
	static const char *const tc[] = {"tc", "qdisc", "add", "dev", "v0", "root", "netem"};
	static const char *const zram[] = {"zramctl", "--find"};
	static const char *const iptables[] = {"iptables", "-m", "conntrack", "--ctstate", "NEW"};
	static const char *const sleep[] = {"sleep", "1"};
	struct fake f = {.p = {.ops = &fake_ops, .n_tokens = N_VOCAB, .n_modules = N_MODS,
			       .vocab = vocab, .modules = modules, .horizon_ms = 400}};
	struct pml_policy_config cfg = {.clock = &clock, .predictor = &f.p, .threshold = 0.5,
					.idle_seconds = 1.5, .prior_command = "sh ./job.sh",
					.prior_script = script1, .cost_fn = fake_cost};
	struct driver d = {0};
	struct pml_pol_event pe = {.kind = PML_POL_PRIOR, .bytes = -1,
				   .prior_command = "sh ./two.sh", .prior_script = script2};
	struct pml_loaded *l;

	if (resolve)
		cfg.resolve_fn = fake_resolve;
	fake_now = 1000000000ull;
	say(&d, "== %s%s\n", name, resolve ? "" : " no-names");
	CHECK(pml_policy_new(name, &cfg, &d.pol) == 0);
	if (!d.pol)
		return d.out;
	ev(&d, PML_POL_BASE, "ext4", false, NULL);
	ev(&d, PML_POL_BASE, "virtio_blk", false, NULL);
	decide(&d);
	replay(&d, trace);
	say(&d, "-- after the trace: %zu loaded\n", d.n);
	wait_ms(&d, 2000, 250);
	exec_rec(&d, 500, mkfs, 3);
	decide(&d);
	fake_now += 100000000;
	exec_rec(&d, 501, ip, 8);
	exec_rec(&d, 502, tc, 7);
	exec_rec(&d, 503, iptables, 5);
	decide(&d);
	l = find_loaded(&d, "btrfs");
	if (l)
		l->refcnt = 1; /* mounted */
	wait_ms(&d, 1000, 100);
	if (l)
		l->refcnt = 0;
	ev(&d, PML_POL_NEED, "sch_netem", false, NULL);
	for (int i = 0; i < 5; i++) {
		exec_rec(&d, 600 + i, zram, 2);
		decide(&d);
		if (i == 1)
			ev(&d, PML_POL_BUSY, "zram", false, NULL);
		wait_ms(&d, 3000, 500);
	}
	exec_rec(&d, 700, sleep, 2);
	decide(&d);
	pe.t_ns = fake_now;
	pml_policy_observe(d.pol, &pe);
	say(&d, "-- a new prior\n");
	decide(&d);
	ev(&d, PML_POL_NEED, "nf_tables", false, NULL);
	wait_ms(&d, 20000, 500);
	say(&d, "-- end: %zu loaded\n", d.n);
	pml_policy_free(d.pol);
	return d.out;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = n >= 0 ? calloc(1, (size_t)n + 1) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The section of golden that starts with head ("== lstm\n"), up to the next "== ". */
static char *section(const char *golden, const char *head)
{
	const char *s = golden, *e;

	while (s && strncmp(s, head, strlen(head))) {
		s = strstr(s, "\n== ");
		s = s ? s + 1 : NULL;
	}
	if (!s)
		return NULL;
	e = strstr(s + 3, "\n== ");
	return strndup(s, e ? (size_t)(e - s + 1) : strlen(s));
}

/* Compare got with want (want's first line replaced by got's: the head names the variant
 * that ran); print the first line that differs. */
static void compare(const char *label, const char *got, const char *want)
{
	const char *g, *w;
	int line = 1;

	CHECK(got && want);
	if (!got || !want) {
		fprintf(stderr, "%s: %s\n", label, want ? "no transcript" : "no golden section");
		return;
	}
	g = strchr(got, '\n');
	w = strchr(want, '\n');
	while (g && w) {
		const char *ge = strchr(g + 1, '\n'), *we = strchr(w + 1, '\n');
		size_t gl = ge ? (size_t)(ge - g) : strlen(g), wl = we ? (size_t)(we - w) : strlen(w);

		line++;
		if (gl != wl || memcmp(g, w, gl)) {
			fprintf(stderr, "%s: line %d differs:\n  got:  %.*s\n  want: %.*s\n", label,
				line, (int)gl - 1, g + 1, (int)wl - 1, w + 1);
			CHECK(!"transcript as recorded");
			return;
		}
		g = ge;
		w = we;
	}
	CHECK(!g && !w);
	printf("%s: %d lines as recorded\n", label, line);
}

int main(void)
{
	const char *fx = getenv("PML_TEST_FIXTURES"), *out = getenv("PML_TEST_GOLDEN_OUT");
	char trace[1024], golden_path[1024];
	char *a, *b, *c, *golden;

	pml_set_log_fn(NULL, NULL);
	snprintf(trace, sizeof(trace), "%s/trace/guest-acceptance.bin", fx ? fx : "tests/fixtures");
	snprintf(golden_path, sizeof(golden_path), "%s/policy/lstm-decisions.txt",
		 fx ? fx : "tests/fixtures");
	a = run("lstm", true, trace);
	b = run("lstm", false, trace);
	c = run("lstm+idle-unload", true, trace);
	if (out) {
		FILE *f = fopen(out, "we");

		CHECK(f != NULL);
		if (f) {
			fprintf(f, "%s%s%s", a ? a : "", b ? b : "", c ? c : "");
			CHECK(fclose(f) == 0);
		}
		printf("wrote %s\n", out);
	} else {
		char *s;

		golden = read_file(golden_path);
		CHECK(golden != NULL);
		s = golden ? section(golden, "== lstm\n") : NULL;
		compare("lstm", a, s);
		free(s);
		s = golden ? section(golden, "== lstm no-names\n") : NULL;
		compare("lstm --no-names", b, s);
		if (pml_policy_find("lstm-model")) {
			char *m = run("lstm-model", true, trace), *n = run("lstm-model", false, trace);

			compare("lstm-model", m, s);
			compare("lstm-model, no resolver", n, s);
			free(m);
			free(n);
		}
		free(s);
		s = golden ? section(golden, "== lstm+idle-unload\n") : NULL;
		compare("lstm+idle-unload", c, s);
		free(s);
		free(golden);
	}
	free(a);
	free(b);
	free(c);
	return unit_done("policy-lstm-golden");
}
