/* The policy file: a good file, every error with its line number, magic and version
 * errors, deny/allow/pin matching with globs and '-'/'_' equivalence. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/policy-file.h"
#include "unit.h"

static char fixdir[1024];

static const char *fixture(const char *name)
{
	static char path[1200];

	snprintf(path, sizeof(path), "%s/loader/%s", fixdir, name);
	return path;
}

/* Parse text expecting failure err and a message that starts with want. */
static void check_error(const char *text, int err, const char *want)
{
	struct pml_policy_file *p = NULL;
	char msg[512];
	int r = pml_policy_file_parse_msg(text, "policy.conf", &p, msg, sizeof(msg));

	CHECK(r == err);
	CHECK(p == NULL);
	if (strncmp(msg, want, strlen(want))) {
		fprintf(stderr, "message: %s\nwanted:  %s...\n", msg, want);
		CHECK(!"message");
	} else {
		CHECK(1);
	}
}

static void test_good(void)
{
	struct pml_policy_file *p = NULL;
	const struct pml_policy_rule *rule;
	char msg[256];

	CHECK(pml_policy_file_load_msg(fixture("policy-good.conf"), &p, msg, sizeof(msg)) == 0);
	if (!p)
		return;
	CHECK_STR(p->name, "policy-good.conf");
	CHECK(p->n_rules == 5);
	CHECK(p->budget_mem == 64LL << 20);
	CHECK(p->idle_unload_s == 5);
	CHECK(pml_policy_file_denies(p, "sctp", &rule));
	CHECK(rule && rule->line == 3 && rule->kind == PML_RULE_DENY);
	CHECK(pml_policy_file_denies(p, "dccp_ipv4", NULL));
	CHECK(pml_policy_file_denies(p, "dccp-ipv6", NULL));
	/* '-' and '_' the same, either side. */
	CHECK(pml_policy_file_denies(p, "nf_conntrack", &rule) && rule->line == 5);
	CHECK(pml_policy_file_denies(p, "nf-nat", NULL));
	/* The last matching line wins. */
	CHECK(!pml_policy_file_denies(p, "nf_tables", &rule));
	CHECK(rule && rule->kind == PML_RULE_ALLOW && rule->line == 6);
	CHECK(!pml_policy_file_denies(p, "nf-tables", NULL));
	CHECK(!pml_policy_file_denies(p, "vfat", &rule) && rule == NULL);
	CHECK(!pml_policy_file_denies(p, "ext4", NULL));
	CHECK(pml_policy_file_pinned(p, "ext4"));
	CHECK(!pml_policy_file_pinned(p, "sctp"));
	/* No policy: everything allowed. */
	CHECK(!pml_policy_file_denies(NULL, "sctp", NULL));
	pml_policy_file_free(p);

	/* Comments, blank lines, tabs, CRLF, sizes and durations. */
	CHECK(pml_policy_file_parse("pml-policy 1   # magic\r\n\n\tdeny\tcrc32c-*\r\n"
				    "budget-mem 1.5G\nidle-unload 250ms\n",
				    "x", &p) == 0);
	if (p) {
		CHECK(p->budget_mem == 1536LL << 20);
		CHECK(p->idle_unload_s == 0.25);
		CHECK(pml_policy_file_denies(p, "crc32c_generic", NULL));
		pml_policy_file_free(p);
	}
	CHECK(pml_policy_file_parse("pml-policy 1\nbudget-mem 65536\nidle-unload 2m\n", "x",
				    &p) == 0);
	if (p) {
		CHECK(p->budget_mem == 65536 && p->idle_unload_s == 120);
		CHECK(p->n_rules == 0);
		pml_policy_file_free(p);
	}
	CHECK(pml_policy_file_parse("pml-policy 1\n", "x", &p) == 0);
	if (p) {
		CHECK(p->budget_mem == -1 && p->idle_unload_s == -1);
		pml_policy_file_free(p);
	}
	/* Bracket classes keep '-' as a range. */
	CHECK(pml_module_glob_match("nf_[a-c]*", "nf-conntrack"));
	CHECK(!pml_module_glob_match("nf_[a-c]*", "nf_tables"));
	CHECK(pml_module_glob_match("ip6-udp-tunnel", "ip6_udp_tunnel"));
}

static void test_errors(void)
{
	struct pml_policy_file *p = NULL;
	char msg[512];

	CHECK(pml_policy_file_load_msg(fixture("policy-typo.conf"), &p, msg, sizeof(msg)) ==
	      -EINVAL);
	CHECK_STR(msg, "policy-typo.conf:3: unknown directive 'dney' (known: deny, allow, pin, "
		       "budget-mem, idle-unload)");
	CHECK(pml_policy_file_load_msg(fixture("policy-nomagic.conf"), &p, msg, sizeof(msg)) ==
	      -EINVAL);
	CHECK(!strncmp(msg, "policy-nomagic.conf:1: not a pml policy file", 44));
	CHECK(strstr(msg, "'pml-policy 1'") != NULL);
	CHECK(pml_policy_file_load_msg(fixture("policy-future.conf"), &p, msg, sizeof(msg)) ==
	      -EPROTONOSUPPORT);
	CHECK(!strncmp(msg, "policy-future.conf:1: version 2 is newer than this pml reads", 60));
	CHECK(pml_policy_file_load_msg(fixture("no-such.conf"), &p, msg, sizeof(msg)) == -ENOENT);
	CHECK(strstr(msg, "No such file") != NULL);
	CHECK(pml_policy_file_load_msg(fixdir, &p, msg, sizeof(msg)) == -EINVAL);
	CHECK(p == NULL);

	check_error("", -EINVAL, "policy.conf:1: not a pml policy file");
	check_error("# comment\npml-policy 1\n", -EINVAL, "policy.conf:1: not a pml policy");
	check_error("pml-policy\n", -EINVAL, "policy.conf:1: the first line must be");
	check_error("pml-policy one\n", -EINVAL, "policy.conf:1: bad version 'one'");
	check_error("pml-policy 1\n\n\ndeny\n", -EINVAL,
		    "policy.conf:4: deny needs a module name or glob");
	check_error("pml-policy 1\nallow a b\n", -EINVAL,
		    "policy.conf:2: allow takes one module name or glob");
	check_error("pml-policy 1\npin a b c d e f\n", -EINVAL, "policy.conf:2: pin takes one");
	check_error("pml-policy 1\ndeny ../x\n", -EINVAL,
		    "policy.conf:2: deny: '../x' is not a module name or glob");
	check_error("pml-policy 1\nbudget-mem 64Q\n", -EINVAL,
		    "policy.conf:2: budget-mem '64Q': not a size (e.g. 512K, 64MiB, 1G)");
	check_error("pml-policy 1\nbudget-mem -5M\n", -EINVAL,
		    "policy.conf:2: budget-mem '-5M': not a size");
	check_error("pml-policy 1\nbudget-mem 1M\nbudget-mem 2M\n", -EINVAL,
		    "policy.conf:3: budget-mem given twice (first on line 2)");
	check_error("pml-policy 1\nidle-unload 5\n", -EINVAL,
		    "policy.conf:2: idle-unload '5': not a duration with its unit");
	check_error("pml-policy 1\nidle-unload\n", -EINVAL,
		    "policy.conf:2: idle-unload takes one duration");
	check_error("pml-policy 1\npml-policy 1\n", -EINVAL,
		    "policy.conf:2: 'pml-policy' belongs on the first line only");
}

int main(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");

	snprintf(fixdir, sizeof(fixdir), "%s", dir ? dir : "tests/fixtures");
	test_good();
	test_errors();
	return unit_done("policy-file");
}
