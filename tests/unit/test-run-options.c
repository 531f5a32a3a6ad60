/* pmld's settings as pml run checks them on the host (one parser for both, so a value
 * the host takes is one pmld takes), and the --report directory rules: never removing
 * what pml did not make, never half-written. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-options.h"
#include "util/outdir.h"
#include "util/parse.h"
#include "unit.h"

static void test_sizes(void)
{
	static const struct {
		const char *s;
		int64_t v; /* -1: refused */
	} cases[] = {
		{"2M", 2 << 20}, {"2MiB", 2 << 20}, {"2MB", 2 << 20}, {"512K", 512 << 10},
		{"1T", 1ll << 40}, {"1048576", 1048576}, {"0", 0}, {"1.5K", 1536},
		{" 2M", -1}, {"2M ", -1}, {"nan", -1}, {"inf", -1}, {"0x10", -1},
		{"-1", -1}, {"", -1}, {"M", -1}, {"2Mi", -1}, {"2iB", -1}, {"2X", -1},
		{"99999999999999999999", -1}, {"1e300", -1}, {"2T", -1},
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		int r = pml_opt_budget_mem(cases[i].s, &v, why, sizeof(why));

		if (cases[i].v < 0) {
			CHECK(r == -EINVAL);
			CHECK(v == -7);
			CHECK(strstr(why, "--budget-mem") != NULL);
		} else {
			CHECK(r == 0);
			CHECK(v == cases[i].v);
		}
	}
}

static void test_numbers(void)
{
	char why[256];
	double v;

	CHECK(pml_opt_idle_seconds("0", &v, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "'0'") != NULL);
	CHECK(pml_opt_idle_seconds("0.5", &v, why, sizeof(why)) == 0 && v == 0.5);
	CHECK(pml_opt_idle_seconds("1e308", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_idle_seconds("nan", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_threshold("nan", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_threshold("0", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_threshold("1", &v, why, sizeof(why)) == 0 && v == 1);
	CHECK(pml_opt_threshold("1.0001", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_horizon("0", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_horizon("3600000", &v, why, sizeof(why)) == 0);
	CHECK(pml_opt_horizon("3600001", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_budget_cpu("inf", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_budget_cpu("0", &v, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_budget_cpu("50", &v, why, sizeof(why)) == 0 && v == 50);
	CHECK(pml_parse_double("1e3", &v) == 0 && v == 1000);
	CHECK(pml_parse_double("0x10", &v) == -EINVAL);
	CHECK(pml_parse_double("-0", &v) == -EINVAL); /* no sign: every range starts at 0 */
	CHECK(pml_parse_double("infinity", &v) == -EINVAL);
}

static void test_policy_and_model(void)
{
	const char *p = NULL;
	char why[512];

	CHECK(pml_opt_policy("lstm", &p, why, sizeof(why)) == 0 && p && !strcmp(p, "lstm"));
	CHECK(pml_opt_policy("oracle", &p, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "reactive") != NULL && strstr(why, ", oracle") == NULL);
	CHECK(pml_opt_policy("nosuch", &p, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_check_model("reactive", NULL, NULL, why, sizeof(why)) == 0);
	CHECK(pml_opt_check_model("reactive", "/etc/passwd", NULL, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_check_model("lstm", NULL, NULL, why, sizeof(why)) == -EINVAL);
	CHECK(pml_opt_check_model("lstm", "/etc/passwd", NULL, why, sizeof(why)) < 0);
	CHECK(strstr(why, "/etc/passwd") != NULL);
	CHECK(pml_opt_check_model("markov", "/etc/passwd", NULL, why, sizeof(why)) < 0);
	CHECK(pml_opt_check_model("markov", "/nonexistent/model", NULL, why, sizeof(why)) < 0);
	CHECK(strstr(why, "/nonexistent/model") != NULL);
}

static void test_outdir(void)
{
	char top[] = "/tmp/pml-test-outdir.XXXXXX", dir[4200], tmp[4300], path[4400], why[512];
	struct stat st;
	int fd;

	CHECK(mkdtemp(top) != NULL);
	CHECK(pml_outdir_normalize("a/b///", dir, sizeof(dir)) == 0);
	CHECK_STR(dir, "a/b");
	CHECK(pml_outdir_normalize("/", dir, sizeof(dir)) == 0);
	CHECK_STR(dir, "/");
	CHECK(pml_outdir_normalize("", dir, sizeof(dir)) == -EINVAL);

	snprintf(dir, sizeof(dir), "%s/report", top);
	CHECK(pml_outdir_check(dir, false, why, sizeof(why)) == 0); /* absent */
	CHECK(mkdir(dir, 0755) == 0);
	CHECK(pml_outdir_check(dir, false, why, sizeof(why)) == 0); /* empty */
	snprintf(path, sizeof(path), "%s/precious", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(pml_outdir_check(dir, false, why, sizeof(why)) == -EEXIST);
	CHECK(strstr(why, "--force") != NULL);
	CHECK(pml_outdir_check(dir, true, why, sizeof(why)) == 0);
	CHECK(pml_outdir_check(path, true, why, sizeof(why)) == -ENOTDIR);

	/* without force a full directory is never replaced */
	CHECK(pml_outdir_tmp_name(dir, tmp, sizeof(tmp)) == 0);
	CHECK(lstat(tmp, &st) < 0 && errno == ENOENT);
	CHECK(mkdir(tmp, 0700) == 0);
	CHECK(pml_outdir_commit(tmp, dir, false) < 0);
	CHECK(stat(path, &st) == 0);
	/* with force it is, and the new one is in place whole */
	snprintf(path, sizeof(path), "%s/summary.json", tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(pml_outdir_commit(tmp, dir, true) == 0);
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	CHECK(stat(path, &st) == 0);
	snprintf(path, sizeof(path), "%s/precious", dir);
	CHECK(stat(path, &st) < 0);

	/* copies refuse links and oversize files, and leave nothing half-written */
	snprintf(path, sizeof(path), "%s/link", top);
	CHECK(symlink("/etc/passwd", path) == 0);
	snprintf(tmp, sizeof(tmp), "%s/copy", top);
	CHECK(pml_copy_file(path, tmp, 1 << 20) == -ELOOP);
	CHECK(lstat(tmp, &st) < 0);
	CHECK(pml_copy_file("/etc/passwd", tmp, 1) == -EFBIG);
	CHECK(lstat(tmp, &st) < 0);
	CHECK(pml_copy_file("/etc/passwd", tmp, 1 << 20) > 0);
	CHECK(lstat(tmp, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(pml_copy_file("/dev/null", tmp, 1 << 20) == -EINVAL);
	pml_outdir_remove(top);
	CHECK(lstat(top, &st) < 0);
}

int main(void)
{
	test_sizes();
	test_numbers();
	test_policy_and_model();
	test_outdir();
	return unit_done("run-options");
}
