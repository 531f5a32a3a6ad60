/* The names policy (policy/names.c over policy/name-rules.c): a command line that names a
 * module prefetches it (`ip link add x type vxlan` -> vxlan, `mkfs.btrfs` -> btrfs), from
 * the prior and from an executed command; an unrelated one prefetches nothing; an unused
 * named module is held, then taken back; needed and loaded modules are not asked for; no
 * resolver is refused; and the policy table knows names and lstm-model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/name-rules.h"
#include "policy/name-wait.h"
#include "policy/policy.h"
#include "unit.h"
#include "util/log.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static const struct pml_clock clock = {fake_clock, &fake_now};

/* A small module index: aliases the rules make, and module names. */
static int index_resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	static const char *const table[][2] = {
		{"rtnl-link-vxlan", "vxlan"}, {"fs-btrfs", "btrfs"}, {"sch_netem", "sch_netem"},
		{"ping", "ping"},	      {"ls", "ls"},	     {"fs-ext4", "ext4"},
	};

	if (data)
		(*(int *)data)++;
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

static struct pml_policy *names_new(const char *command, const char *script, int *calls)
{
	struct pml_policy_config cfg = {.clock = &clock, .idle_seconds = 1,
					.prior_command = command, .prior_script = script,
					.resolve_fn = index_resolve, .resolve_data = calls};
	struct pml_policy *p = NULL;

	CHECK(pml_policy_new("names", &cfg, &p) == 0);
	return p;
}

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
	snprintf(e.filename, sizeof(e.filename), "/usr/sbin/%s", argv[0]);
	for (int i = 0; i < argc && i < PML_TEV_EXEC_ARGS; i++)
		snprintf(e.argv[i], sizeof(e.argv[i]), "%s", argv[i]);
	ev.tev = &e.h;
	pml_policy_observe(p, &ev);
}

/* From the prior: the command line and the script name vxlan and btrfs. */
static void test_prior(void)
{
	struct pml_policy *p = names_new("ip link add x type vxlan", "mkfs.btrfs -f /dev/loop0\n"
								     "# mkfs.ext4 in a comment\n"
								     "pml_expect sch_netem\n",
					 NULL);
	struct pml_action acts[16];
	const struct pml_action *a;
	int n;

	fake_now = 1000000000ull;
	if (!p)
		return;
	n = pml_policy_decide(p, NULL, 0, acts, 16);
	CHECK(n == 1);
	a = action_for(acts, n, "vxlan");
	CHECK(a && a->kind == PML_ACT_LOAD && a->confidence == PML_NAME_RULES_P &&
	      a->lead_ms == 1000 && !strcmp(a->reason, "prediction: named by 'type vxlan'") &&
	      a->basis == PML_BASIS_NAMES);
	/* the script's mkfs.btrfs waits for its program, or the command line's ip, to run */
	{
		static const char *const ls[] = {"ls"}, *const ip[] = {"ip"};

		exec_rec(p, 90, ls, 1);
		CHECK(pml_policy_decide(p, NULL, 0, acts, 16) == 0);
		exec_rec(p, 91, ip, 1);
	}
	n = pml_policy_decide(p, NULL, 0, acts, 16);
	CHECK(n == 1);
	a = action_for(acts, n, "btrfs");
	CHECK(a && a->kind == PML_ACT_LOAD && !strcmp(a->reason, "prediction: named by 'mkfs.btrfs'"));
	/* neither the comment nor the label line */
	CHECK(!action_for(acts, n, "ext4") && !action_for(acts, n, "sch_netem"));
	/* asked once */
	CHECK(pml_policy_decide(p, NULL, 0, acts, 16) == 0);
	pml_policy_free(p);
}

/* From the trace: executed commands; an unrelated one (or a program merely named like a
 * module) names nothing; a needed or loaded module is not asked for; an unused one is held
 * 5 s, then taken back once idle; one in use is kept. */
static void test_trace(void)
{
	static const char *const ip[] = {"ip", "link", "add", "x", "type", "vxlan"};
	static const char *const mkfs[] = {"mkfs.btrfs", "-f", "/dev/loop0"};
	static const char *const ls[] = {"ls", "-l", "/tmp"};
	static const char *const ping[] = {"ping", "-c", "1", "10.0.0.2"};
	static const char *const tc[] = {"tc", "qdisc", "add", "dev", "x", "root", "netem"};
	int calls = 0;
	struct pml_policy *p = names_new(NULL, NULL, &calls);
	struct pml_action acts[16];
	struct pml_pol_event e = {.kind = PML_POL_LOAD, .bytes = -1, .predicted = true};
	struct pml_loaded l[2] = {{.name = "vxlan"}, {.name = "btrfs"}};
	int n;

	fake_now = 1000000000ull;
	if (!p)
		return;
	exec_rec(p, 100, ls, 3);
	exec_rec(p, 101, ping, 4);
	CHECK(calls == 0); /* nothing to ask the index about */
	CHECK(pml_policy_decide(p, NULL, 0, acts, 16) == 0);
	/* the program needed sch_netem already: named, not asked for */
	e.kind = PML_POL_NEED;
	e.module = "sch_netem";
	e.t_ns = fake_now;
	pml_policy_observe(p, &e);
	exec_rec(p, 102, ip, 6);
	exec_rec(p, 103, mkfs, 3);
	exec_rec(p, 104, tc, 7);
	n = pml_policy_decide(p, NULL, 0, acts, 16);
	CHECK(n == 2 && action_for(acts, n, "vxlan") && action_for(acts, n, "btrfs"));
	CHECK(action_for(acts, n, "btrfs") &&
	      !strcmp(action_for(acts, n, "btrfs")->reason, "prediction: named by 'mkfs.btrfs'"));
	/* both loaded; btrfs in use (mounted) */
	e.kind = PML_POL_LOAD;
	for (int i = 0; i < 2; i++) {
		e.module = l[i].name;
		pml_policy_observe(p, &e);
	}
	l[1].refcnt = 1;
	fake_now += 3000000000ull; /* idle 3 s, but held 5 s */
	CHECK(pml_policy_decide(p, l, 2, acts, 16) == 0);
	fake_now += 3000000000ull;
	n = pml_policy_decide(p, l, 2, acts, 16);
	CHECK(n == 1 && acts[0].kind == PML_ACT_UNLOAD && !strcmp(acts[0].module, "vxlan") &&
	      !strncmp(acts[0].reason, "names: prediction unused for 6.0 s", 34));
	l[1].refcnt = 0;
	fake_now += 60000000000ull;
	CHECK(pml_policy_decide(p, &l[1], 1, acts, 16) == 0); /* used: kept */
	/* taken back, then named again: asked again */
	e.kind = PML_POL_UNLOAD;
	e.module = "vxlan";
	pml_policy_observe(p, &e);
	exec_rec(p, 105, ip, 6);
	n = pml_policy_decide(p, &l[1], 1, acts, 16);
	CHECK(n == 1 && !strcmp(acts[0].module, "vxlan") && acts[0].kind == PML_ACT_LOAD);
	pml_policy_free(p);
}

static void count_release(void *ctx, const char *module, const char *words, float conf)
{
	++*(int *)ctx;
}

/* A naming of the script waits for its command, or one of the two before, to run
 * (name-wait.h); not after a function of the script or a builtin, whose name no program
 * has. */
static void test_wait(void)
{
	static const char *const ip[] = {"ip", "netns", "add", "a"};
	static const char *const ls[] = {"ls"};
	struct pml_policy *p = names_new(NULL, "ip netns add a\n"
					       "tc qdisc add dev x root netem\n"
					       "f() { true; }\n"
					       "f link add x type vxlan\n"
					       "set -e\n"
					       "mkfs.btrfs -f /dev/loop0\n",
					 NULL);
	struct pml_action acts[16];
	const struct pml_action *a;
	int n;

	fake_now = 1000000000ull;
	if (!p)
		return;
	n = pml_policy_decide(p, NULL, 0, acts, 16);
	CHECK(n == 2 && action_for(acts, n, "vxlan") && action_for(acts, n, "btrfs"));
	exec_rec(p, 100, ls, 1);
	CHECK(pml_policy_decide(p, NULL, 0, acts, 16) == 0);
	exec_rec(p, 101, ip, 4);
	n = pml_policy_decide(p, NULL, 0, acts, 16);
	a = action_for(acts, n, "sch_netem");
	CHECK(n == 1 && a && a->confidence == PML_NAME_RULES_P &&
	      !strcmp(a->reason, "prediction: named by 'tc netem'"));
	pml_policy_free(p);

	/* the command before is a library's function (pml_sleep, not defined in the script):
	 * the one before it releases */
	p = names_new(NULL, "ip netns add a\npml_sleep\ntc qdisc add dev x root netem\n", NULL);
	if (!p)
		return;
	CHECK(pml_policy_decide(p, NULL, 0, acts, 16) == 0);
	exec_rec(p, 102, ip, 4);
	n = pml_policy_decide(p, NULL, 0, acts, 16);
	CHECK(n == 1 && action_for(acts, n, "sch_netem"));
	pml_policy_free(p);

	/* functions the script defines: the forms a shell reads */
	{
		struct pml_name_wait w;

		pml_name_wait_reset(&w, "g () {\n  function h {\nk(){ :; }\nnot_one (x)\n");
		CHECK(w.n_funcs == 3 && !strcmp(w.funcs[0], "g") && !strcmp(w.funcs[1], "h") &&
		      !strcmp(w.funcs[2], "k"));
		CHECK(!pml_name_wait_hold(&w, "m", "w", 0.9f, "g", "ip", ""));
		CHECK(!pml_name_wait_hold(&w, "m", "w", 0.9f, "tc", "cd", ""));
		CHECK(!pml_name_wait_hold(&w, "m", "w", 0.9f, "tc", "", ""));
		{
			struct pml_feat_tokens t = {.n = 1, .tok = {"exec:modprobe"}};
			int told = 0;

			/* one of its programs ran already: at once */
			pml_name_wait_record(&w, &t, count_release, &told);
			CHECK(told == 0 && !pml_name_wait_hold(&w, "m", "w", 0.9f, "tc", "ip",
							      "modprobe"));
		}
		CHECK(pml_name_wait_hold(&w, "m", "w", 0.9f, "tc", "ip", "") && w.n_held == 1);
		for (int i = 1; i < PML_NAME_WAIT_MAX; i++)
			CHECK(pml_name_wait_hold(&w, "m", "w", 0.9f, "tc", "ip", ""));
		CHECK(!pml_name_wait_hold(&w, "m", "w", 0.9f, "tc", "ip", "")); /* full: at once */
	}
}

static void test_table(void)
{
	struct pml_policy_config cfg = {.clock = &clock};
	struct pml_policy *p = NULL;

	CHECK(pml_policy_find("names") == &pml_policy_names);
	CHECK(pml_policy_find("lstm-model") == &pml_policy_lstm_model);
	CHECK(pml_policy_reads_trace("names") && !pml_policy_needs_predictor("names"));
	CHECK(pml_policy_reads_trace("lstm-model") && pml_policy_needs_predictor("lstm-model"));
	CHECK(pml_policy_needs_predictor("lstm") && pml_policy_needs_predictor("lstm+idle-unload"));
	CHECK(!pml_policy_reads_trace("markov") && !pml_policy_needs_predictor("markov"));
	/* the rules need an index to ask */
	CHECK(pml_policy_new("names", &cfg, &p) == -EINVAL && !p);
}

int main(void)
{
	pml_set_log_fn(NULL, NULL);
	test_prior();
	test_trace();
	test_wait();
	test_table();
	return unit_done("policy-names");
}
