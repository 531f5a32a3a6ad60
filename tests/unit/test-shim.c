/* The modprobe shim's logic: argument sorting (the kernel's form, modprobe's user forms),
 * hostile aliases, and the decision log it writes while serving requests against the
 * in-memory loader, read back line by line with util/json.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/shim.h"
#include "loader/policy-file.h"
#include "unit.h"
#include "util/event-log.h"
#include "util/json.h"
#include "util/timeutil.h"

#define ARGV(...) ((char *const[]){"modprobe", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"modprobe", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(a, ...) pml_shim_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a))

static void test_args(void)
{
	struct pml_shim_args a;

	PARSE(&a, "-q", "--", "net-pf-10-proto-132");
	CHECK(a.mode == PML_SHIM_KERNEL && a.quiet && a.n_names == 1);
	CHECK_STR(a.names[0], "net-pf-10-proto-132");
	/* The kernel form keeps a hostile alias as it is: the check comes later. */
	PARSE(&a, "-q", "--", "-r");
	CHECK(a.mode == PML_SHIM_KERNEL);
	CHECK_STR(a.names[0], "-r");

	PARSE(&a, "sctp");
	CHECK(a.mode == PML_SHIM_LOAD && !a.quiet && a.n_names == 1);
	PARSE(&a, "ip_tables", "-q"); /* iptables' own call: options after the name */
	CHECK(a.mode == PML_SHIM_LOAD && a.quiet);
	CHECK_STR(a.names[0], "ip_tables");
	PARSE(&a, "-qvb", "nf_tables");
	CHECK(a.mode == PML_SHIM_LOAD && a.quiet && a.verbose && a.use_blacklist);
	PARSE(&a, "-a", "tun", "loop");
	CHECK(a.mode == PML_SHIM_LOAD && a.n_names == 2);
	PARSE(&a, "--all", "--quiet", "tun", "loop", "vfat");
	CHECK(a.mode == PML_SHIM_LOAD && a.n_names == 3 && a.quiet);
	PARSE(&a, "-r", "sctp");
	CHECK(a.mode == PML_SHIM_REMOVE && a.n_names == 1);
	PARSE(&a, "-rq", "sctp", "tun");
	CHECK(a.mode == PML_SHIM_REMOVE && a.n_names == 2 && a.quiet);
	PARSE(&a, "--remove", "--verbose", "sctp");
	CHECK(a.mode == PML_SHIM_REMOVE && a.verbose);
	PARSE(&a, "-s", "-q", "--", "x");
	CHECK(a.mode == PML_SHIM_LOAD && a.n_names == 1);

	/* Everything else is the real modprobe's. */
	PARSE(&a, "sctp", "debug=1");
	CHECK(a.mode == PML_SHIM_EXEC && a.exec_why);
	PARSE(&a, "-R", "net-pf-10-proto-132");
	CHECK(a.mode == PML_SHIM_EXEC);
	PARSE(&a, "--show-depends", "sctp");
	CHECK(a.mode == PML_SHIM_EXEC);
	PARSE(&a, "-c");
	CHECK(a.mode == PML_SHIM_EXEC);
	PARSE(&a, "-q");
	CHECK(a.mode == PML_SHIM_EXEC);
	PARSE(&a, "-nv", "sctp");
	CHECK(a.mode == PML_SHIM_EXEC);
	PARSE(&a, "-q", "--", "a", "b");
	CHECK(a.mode == PML_SHIM_EXEC);
	pml_shim_parse_args(1, (char *const[]){"modprobe", NULL}, &a);
	CHECK(a.mode == PML_SHIM_EXEC);
	PARSE(&a, "-a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
	      "14", "15", "16", "17");
	CHECK(a.mode == PML_SHIM_EXEC);
}

static void test_alias(void)
{
	static const char *const good[] = {
		"net-pf-10-proto-132", "crypto-cbc(aes)", "crypto-hmac(sha256)-all", "fs-vfat",
		"block-major-7-0", "netdev-eth0", "nls_iso8859-1", "char-major-10-237",
		"cpu:type:x86,ven0000fam0006mod003F:feature:,0000", "nft-expr-1-ct", "tcp_bbr",
		"rtnl-link-wireguard", "a"};
	static const char *const bad[] = {"",	      "../x",	   "x/y",     "..",   "a\nb",
					  "a b",      "-q",	   "fs-\x7f", "a\tb", "$(reboot)",
					  "a;b",      "fs-*",	   "a\\b",    "x`id`", "a..b",
					  "\xc3\xa9", "net-pf-10\r"};
	char long_alias[PML_SHIM_ALIAS_MAX + 2];
	const char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = pml_shim_check_alias(good[i], &why);

		if (r)
			fprintf(stderr, "refused good alias '%s': %s\n", good[i], why);
		CHECK(r == 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pml_shim_check_alias(bad[i], &why);

		if (r == 0)
			fprintf(stderr, "accepted bad alias '%s'\n", bad[i]);
		CHECK(r == -EINVAL && why);
	}
	CHECK(pml_shim_check_alias(NULL, &why) == -EINVAL);
	CHECK_STR(why, "empty");
	CHECK(pml_shim_check_alias("../x", &why) == -EINVAL);
	CHECK_STR(why, "contains '..'");
	CHECK(pml_shim_check_alias("a\x01", &why) == -EINVAL);
	CHECK_STR(why, "contains a control character");
	memset(long_alias, 'a', sizeof(long_alias));
	long_alias[PML_SHIM_ALIAS_MAX] = '\0';
	CHECK(pml_shim_check_alias(long_alias, NULL) == 0);
	long_alias[PML_SHIM_ALIAS_MAX] = 'a';
	long_alias[PML_SHIM_ALIAS_MAX + 1] = '\0';
	CHECK(pml_shim_check_alias(long_alias, &why) == -ENAMETOOLONG);
	CHECK_STR(why, "too long");
}

/* The decision log, read back. */
struct logread {
	size_t n;
	struct pml_json_flat recs[64];
};

static void log_read(const char *path, struct logread *lr)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	lr->n = 0;
	if (!f)
		return;
	while (lr->n < 64 && fgets(line, sizeof(line), f)) {
		if (pml_json_flat_parse(line, &lr->recs[lr->n]) == 0)
			lr->n++;
		else
			CHECK(!"a log line does not parse");
	}
	fclose(f);
}

static void log_release(struct logread *lr)
{
	for (size_t i = 0; i < lr->n; i++)
		pml_json_flat_release(&lr->recs[i]);
	lr->n = 0;
}

static const char *field(struct logread *lr, size_t i, const char *key)
{
	return i < lr->n ? pml_json_flat_str(&lr->recs[i], key, "") : "";
}

static double num(struct logread *lr, size_t i, const char *key)
{
	return i < lr->n ? pml_json_flat_num(&lr->recs[i], key, -1) : -1;
}

static size_t count_event(struct logread *lr, const char *event)
{
	size_t n = 0;

	for (size_t i = 0; i < lr->n; i++)
		n += !strcmp(field(lr, i, "event"), event);
	return n;
}

static char *read_tree(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	char path[1024];
	FILE *f;
	char *buf = calloc(1, 1 << 16);

	snprintf(path, sizeof(path), "%s/loader/tree.txt", dir ? dir : "tests/fixtures");
	f = fopen(path, "r");
	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	if (fread(buf, 1, (1 << 16) - 1, f) == 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* A fresh in-memory kernel, an empty log, an environment as the kernel's call sets it. */
static struct pml_loader *setup(const char *tree, const char *extra, const char *logpath,
				struct pml_shim_env *env)
{
	struct pml_loader *ld = NULL;
	char *text = malloc(strlen(tree) + strlen(extra) + 2);

	sprintf(text, "%s\n%s", tree, extra);
	CHECK(pml_loader_new_memory(text, &ld) == 0);
	free(text);
	unlink(logpath);
	memset(env, 0, sizeof(*env));
	env->ld = ld;
	env->log_fd = pml_event_log_open(logpath);
	CHECK(env->log_fd >= 0);
	env->source = "shim";
	env->t_start_ns = pml_now_ns();
	return ld;
}

static void teardown(struct pml_shim_env *env)
{
	pml_loader_free(env->ld);
	if (env->log_fd >= 0)
		close(env->log_fd);
}

static void test_serve(const char *tree, const char *logpath)
{
	struct pml_shim_env env;
	struct pml_shim_outcome o;
	struct logread lr;
	struct pml_policy_file *pol = NULL;
	static const char *const order[] = {"crc32c_intel",   "crc32c_generic", "libcrc32c",
					    "udp_tunnel",     "ip6_udp_tunnel", "sctp"};

	/* A miss: one load record per module inserted, then the need. */
	setup(tree, "", logpath, &env);
	CHECK(pml_shim_serve(&env, "net-pf-10-proto-132", &o) == 0);
	CHECK_STR(o.result, "loaded");
	CHECK_STR(o.module, "sctp");
	log_read(logpath, &lr);
	CHECK(lr.n == 7);
	for (size_t i = 0; i < 6 && i < lr.n; i++) {
		CHECK_STR(field(&lr, i, "event"), "load");
		CHECK_STR(field(&lr, i, "module"), order[i]);
		CHECK_STR(field(&lr, i, "reason"), "miss: net-pf-10-proto-132");
		CHECK_STR(field(&lr, i, "cause"), "miss");
		CHECK_STR(field(&lr, i, "source"), "shim");
		CHECK(num(&lr, i, "ms") >= 0);
	}
	CHECK(num(&lr, 5, "bytes") == 434176);
	CHECK_STR(field(&lr, 6, "event"), "need");
	CHECK_STR(field(&lr, 6, "alias"), "net-pf-10-proto-132");
	CHECK_STR(field(&lr, 6, "module"), "sctp");
	CHECK_STR(field(&lr, 6, "result"), "loaded");
	CHECK(num(&lr, 6, "ms") >= 0 && num(&lr, 6, "ms") - o.ms < 0.001);
	CHECK(num(&lr, 6, "t_ns") >= num(&lr, 0, "t_ns"));
	log_release(&lr);

	/* The same again: present, nothing loaded. */
	CHECK(pml_shim_serve(&env, "net-pf-2-proto-132", &o) == 0);
	CHECK_STR(o.result, "present");
	log_read(logpath, &lr);
	CHECK(lr.n == 8);
	CHECK_STR(field(&lr, 7, "result"), "present");
	log_release(&lr);

	/* No module: a lookup, a need, exit 1. */
	CHECK(pml_shim_serve(&env, "netdev-foo", &o) == -ENOENT);
	CHECK(pml_shim_exit_status(-ENOENT) == 1);
	CHECK_STR(o.result, "no-module");
	/* Hostile: refused before any look-up, logged (escaped, bounded). */
	CHECK(pml_shim_serve(&env, "../../bin/sh", &o) == -EINVAL);
	CHECK_STR(o.result, "error");
	CHECK(pml_shim_serve(&env, "fs-\x1b[2J", &o) == -EINVAL);
	log_read(logpath, &lr);
	CHECK(lr.n == 11);
	CHECK_STR(field(&lr, 8, "result"), "no-module");
	CHECK(!pml_json_flat_get(&lr.recs[8], "module"));
	CHECK_STR(field(&lr, 9, "result"), "error");
	CHECK_STR(field(&lr, 9, "reason"), "invalid alias: contains '..'");
	CHECK(num(&lr, 9, "errno") == EINVAL);
	CHECK_STR(field(&lr, 10, "alias"), "fs-\x1b[2J"); /* escaped in the file, decoded here */
	log_release(&lr);
	teardown(&env);

	/* Denied: nothing loaded, a deny record, the need says why. */
	CHECK(pml_policy_file_parse("pml-policy 1\ndeny sctp\ndeny tun\n", "policy.conf", &pol) ==
	      0);
	setup(tree, "", logpath, &env);
	env.policy = pol;
	CHECK(pml_shim_serve(&env, "net-pf-10-proto-132", &o) == -EPERM);
	CHECK_STR(o.result, "denied");
	CHECK(pml_loader_refcnt(env.ld, "libcrc32c") == -ENOENT); /* nothing loaded */
	CHECK(pml_shim_serve(&env, "fs-vfat", &o) == 0);	   /* others still load */
	log_read(logpath, &lr);
	CHECK(lr.n == 5);
	CHECK_STR(field(&lr, 0, "event"), "deny");
	CHECK_STR(field(&lr, 0, "module"), "sctp");
	CHECK_STR(field(&lr, 0, "reason"), "policy: deny sctp (policy.conf:2)");
	CHECK_STR(field(&lr, 1, "event"), "need");
	CHECK_STR(field(&lr, 1, "result"), "denied");
	CHECK_STR(field(&lr, 1, "reason"), "policy: deny sctp (policy.conf:2)");
	CHECK(count_event(&lr, "load") == 2);
	log_release(&lr);
	teardown(&env);
	pml_policy_file_free(pol);

	/* A denied dependency denies what needs it; allow after deny wins. */
	CHECK(pml_policy_file_parse("pml-policy 1\ndeny lib*\ndeny crc32c*\n"
				    "allow crc32c-generic\n",
				    "p.conf", &pol) == 0);
	setup(tree, "", logpath, &env);
	env.policy = pol;
	CHECK(pml_shim_serve(&env, "sctp", &o) == -EPERM);
	CHECK_STR(o.reason, "policy: deny crc32c* (p.conf:3), needed by sctp");
	log_read(logpath, &lr);
	CHECK(count_event(&lr, "deny") == 2); /* crc32c_intel, libcrc32c; not crc32c_generic */
	CHECK_STR(field(&lr, 0, "module"), "crc32c_intel");
	CHECK_STR(field(&lr, 1, "module"), "libcrc32c");
	CHECK(count_event(&lr, "load") == 0);
	log_release(&lr);
	teardown(&env);
	pml_policy_file_free(pol);

	/* An insert refused as busy (the old copy still going away: an unload racing the
	 * request) is tried again until it goes in; one that stays busy fails the need. */
	setup(tree, "fail fat 16 2\n", logpath, &env);
	CHECK(pml_shim_serve(&env, "fs-vfat", &o) == 0);
	CHECK_STR(o.result, "loaded");
	CHECK(pml_loader_refcnt(env.ld, "vfat") == 0);
	teardown(&env);
	setup(tree, "fail fat 16\n", logpath, &env);
	CHECK(pml_shim_serve(&env, "fs-vfat", &o) == -EBUSY);
	CHECK_STR(o.result, "error");
	teardown(&env);

	/* Failures: a softdep's is logged and ignored, a hard one fails the need. */
	setup(tree, "fail crc32c_intel 19\nfail fat 12\n", logpath, &env);
	CHECK(pml_shim_serve(&env, "sctp", &o) == 0);
	CHECK_STR(o.result, "loaded");
	CHECK(pml_shim_serve(&env, "fs-vfat", &o) == -ENOMEM);
	CHECK_STR(o.result, "error");
	log_read(logpath, &lr);
	CHECK(count_event(&lr, "fail") == 2);
	CHECK_STR(field(&lr, 0, "event"), "fail");
	CHECK_STR(field(&lr, 0, "module"), "crc32c_intel");
	CHECK_STR(field(&lr, 0, "reason"), "insert: No such device (softdep, ignored)");
	CHECK_STR(field(&lr, 0, "cause"), "miss");
	CHECK(num(&lr, 0, "errno") == ENODEV);
	CHECK_STR(field(&lr, lr.n - 1, "event"), "need");
	CHECK_STR(field(&lr, lr.n - 1, "result"), "error");
	CHECK(num(&lr, lr.n - 1, "errno") == ENOMEM);
	log_release(&lr);
	teardown(&env);
}

static void test_remove(const char *tree, const char *logpath)
{
	struct pml_shim_env env;
	struct pml_policy_file *pol = NULL;
	struct pml_op_result r;
	struct logread lr;

	CHECK(pml_policy_file_parse("pml-policy 1\npin lib*\n", "p.conf", &pol) == 0);
	setup(tree, "", logpath, &env);
	env.policy = pol;
	env.source = "shim-user";
	CHECK(pml_shim_serve(&env, "sctp", NULL) == 0);
	CHECK(pml_loader_memory_set_refcnt(env.ld, "sctp", 1) == 0);
	CHECK(pml_shim_remove(&env, "sctp", &r) == -EBUSY);
	CHECK(pml_loader_memory_set_refcnt(env.ld, "sctp", 0) == 0);
	CHECK(pml_shim_remove(&env, "net-pf-10-proto-132", &r) == 0);
	/* sctp and the tunnels go; libcrc32c is pinned, so crc32c stays in use. */
	CHECK(r.n == 3);
	CHECK(pml_loader_refcnt(env.ld, "libcrc32c") == 0);
	CHECK(pml_loader_refcnt(env.ld, "sctp") == -ENOENT);
	CHECK(pml_shim_remove(&env, "sctp", &r) == -ENOENT);
	CHECK(pml_shim_remove(&env, "libcrc32c", &r) == -EPERM);
	CHECK(pml_shim_remove(&env, "../x", &r) == -EINVAL);
	log_read(logpath, &lr);
	CHECK(count_event(&lr, "unload") == 3);
	CHECK(count_event(&lr, "fail") == 3); /* busy sctp, sctp gone, pinned libcrc32c */
	for (size_t i = 0; i < lr.n; i++) {
		if (strcmp(field(&lr, i, "event"), "unload"))
			continue;
		CHECK_STR(field(&lr, i, "reason"), "modprobe -r net-pf-10-proto-132");
		CHECK_STR(field(&lr, i, "cause"), "remove");
		CHECK_STR(field(&lr, i, "source"), "shim-user");
		CHECK(num(&lr, i, "bytes") > 0);
	}
	log_release(&lr);
	teardown(&env);
	pml_policy_file_free(pol);
}

int main(void)
{
	char logpath[] = "/tmp/pml-test-shim-XXXXXX";
	int fd = mkstemp(logpath);
	char *tree = read_tree();

	CHECK(fd >= 0 && tree);
	if (fd >= 0)
		close(fd);
	test_args();
	test_alias();
	if (tree && fd >= 0) {
		test_serve(tree, logpath);
		test_remove(tree, logpath);
	}
	unlink(logpath);
	free(tree);
	return unit_done("shim");
}
