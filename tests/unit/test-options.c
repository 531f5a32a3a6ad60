/* The table test of issue 19 item 6: every numeric option of every command, and the
 * numbers of the policy file, fed the same list of good and bad values, expecting the
 * same answer everywhere.
 *
 * Three layers:
 * 1. every entry of util/option-table.h against one list of values, each value's meaning
 *    written down per kind (a size, a duration, a number, a whole number) once, the
 *    answer derived from the entry's stated range alone;
 * 2. the policy file's budget-mem and idle-unload through the file parser, answering as
 *    their entries do, with file:line in front;
 * 3. the built commands (pml's verbs and pmld, found beside this test binary) exec'd with
 *    values every entry refuses: each must fail before doing anything, with the sentence
 *    of its entry (which shows the option is wired to that entry). Only refused values
 *    are ever passed, and pml run gets no command, so nothing boots.
 * 4. every command given an unknown option or a bad argument or input file: one prefix,
 *    "pml: VERB: ...", on every line it and the library print, and words, not an errno;
 * 5. the verbs whose options are one table (cmd/cmd-options.h) take every option their
 *    --help shows.
 * And a guard: no hand-rolled number parsing (strtod, atoi, ...) left in the commands,
 * pmld's options or the policy file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader/policy-file.h"
#include "model/model-file.h"
#include "cmd/commands.h"
#include "util/json.h"
#include "util/option-table.h"
#include "unit.h"

#define NO NAN /* not of this kind */

struct val {
	const char *s;
	bool bare;   /* a bare number: sizes and durations take it in the entry's unit */
	double size; /* bytes (bare: in the entry's unit) */
	double dur;  /* seconds (bare: in the entry's unit) */
	double real; /* probabilities and numbers */
	double whole;
};

#define BARE(x, w) {#x, true, x, x, x, w}

static const struct val vals[] = {
	/* bare numbers */
	{"0", true, 0, 0, 0, 0},
	{"1", true, 1, 1, 1, 1},
	{"5", true, 5, 5, 5, 5},
	{"10", true, 10, 10, 10, 10},
	{"16", true, 16, 16, 16, 16},
	{"50", true, 50, 50, 50, 50},
	{"64", true, 64, 64, 64, 64},
	{"200", true, 200, 200, 200, 200},
	{"256", true, 256, 256, 256, 256},
	{"1024", true, 1024, 1024, 1024, 1024},
	{"3600", true, 3600, 3600, 3600, 3600},
	{"86400", true, 86400, 86400, 86400, 86400},
	{"86401", true, 86401, 86401, 86401, 86401},
	{"4194304", true, 4194304, 4194304, 4194304, 4194304},
	{"4294967297", true, 4294967297.0, 4294967297.0, 4294967297.0, 4294967297.0},
	{"99999999999999999999", true, 1e20, 1e20, 1e20, 1e20},
	{"0.5", true, 0.5, 0.5, 0.5, NO},
	{".25", true, 0.25, 0.25, 0.25, NO},
	{"5.", true, 5, 5, 5, NO},
	{"1.0001", true, 1.0001, 1.0001, 1.0001, NO},
	/* exponents: numbers only */
	{"1e3", false, NO, NO, 1000, NO},
	{"1e-3", false, NO, NO, 0.001, NO},
	{"1E2", false, NO, NO, 100, NO},
	{"1e400", false, NO, NO, INFINITY, NO},
	/* sizes: binary, K = KiB */
	{"2M", false, 2 << 20, NO, NO, NO},
	{"2MiB", false, 2 << 20, NO, NO, NO},
	{"2MB", false, 2 << 20, NO, NO, NO},
	{"2mib", false, 2 << 20, NO, NO, NO},
	{"512K", false, 512 << 10, NO, NO, NO},
	{"512k", false, 512 << 10, NO, NO, NO},
	{"64KiB", false, 64 << 10, NO, NO, NO},
	{"1.5G", false, 1.5 * (1 << 30), NO, NO, NO},
	{"1T", false, 1099511627776.0, NO, NO, NO},
	{"2T", false, 2199023255552.0, NO, NO, NO},
	{"512B", false, 512, NO, NO, NO},
	{"2m", false, 2 << 20, 120, NO, NO}, /* a size (case-insensitive) or 2 minutes */
	/* durations */
	{"500ms", false, NO, 0.5, NO, NO},
	{"5s", false, NO, 5, NO, NO},
	{"1min", false, NO, 60, NO, NO},
	{"1h", false, NO, 3600, NO, NO},
	{"25h", false, NO, 90000, NO, NO},
	{"0s", false, NO, 0, NO, NO},
	{"1.5ms", false, NO, 0.0015, NO, NO},
	/* nothing */
	{"", false, NO, NO, NO, NO},
	{" 1", false, NO, NO, NO, NO},
	{"1 ", false, NO, NO, NO, NO},
	{" 2M", false, NO, NO, NO, NO},
	{"2M ", false, NO, NO, NO, NO},
	{"\t1", false, NO, NO, NO, NO},
	{"1\n", false, NO, NO, NO, NO},
	{"+1", false, NO, NO, NO, NO},
	{"-1", false, NO, NO, NO, NO},
	{"-0", false, NO, NO, NO, NO},
	{"nan", false, NO, NO, NO, NO},
	{"NaN", false, NO, NO, NO, NO},
	{"inf", false, NO, NO, NO, NO},
	{"infinity", false, NO, NO, NO, NO},
	{"0x10", false, NO, NO, NO, NO},
	{"0X1", false, NO, NO, NO, NO},
	{"0b1", false, NO, NO, NO, NO},
	{"1e", false, NO, NO, NO, NO},
	{"1e+", false, NO, NO, NO, NO},
	{".", false, NO, NO, NO, NO},
	{"1..2", false, NO, NO, NO, NO},
	{"1.2.3", false, NO, NO, NO, NO},
	{"1,5", false, NO, NO, NO, NO},
	{"1_000", false, NO, NO, NO, NO},
	{"2Mi", false, NO, NO, NO, NO},
	{"2iB", false, NO, NO, NO, NO},
	{"2KM", false, NO, NO, NO, NO},
	{"M", false, NO, NO, NO, NO},
	{"ms", false, NO, NO, NO, NO},
	{"5 s", false, NO, NO, NO, NO},
	{"1e308h", false, NO, NO, NO, NO},
	{"\xef\xbc\x91", false, NO, NO, NO, NO}, /* a fullwidth 1 */
	{"1\x01", false, NO, NO, NO, NO},
};
#define N_VALS (sizeof(vals) / sizeof(vals[0]))

/* What the entry must answer for v, from the value's meaning and the entry's stated
 * range: 0 (and *x), -EINVAL or -ERANGE. */
static int expect(const struct pml_num_spec *sp, const struct val *v, double *x)
{
	double ms = sp->unit && !strcmp(sp->unit, "ms") ? 1e-3 : 1;

	switch (sp->kind) {
	case PML_NUM_SIZE:
		*x = v->size * (v->bare && sp->unit && !strcmp(sp->unit, "MiB") ? 1048576 : 1);
		break;
	case PML_NUM_DURATION:
		if (v->bare && (sp->flags & PML_NUM_UNIT_NEEDED))
			return -EINVAL;
		*x = v->bare ? v->dur : v->dur / ms;
		break;
	case PML_NUM_PROB:
	case PML_NUM_REAL:
		*x = v->real;
		break;
	default:
		*x = v->whole;
		break;
	}
	if (isnan(*x))
		return -EINVAL;
	if (!isfinite(*x) || *x < sp->lo || *x > sp->hi ||
	    ((sp->flags & PML_NUM_OPEN_LO) && *x == sp->lo))
		return -ERANGE;
	if ((sp->flags & PML_NUM_WHOLE) && fabs(*x - round(*x)) > 1e-9 * fmax(1, *x))
		return -ERANGE;
	return 0;
}

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-12 * fmax(1, fabs(b));
}

static void test_table(void)
{
	size_t accepted = 0, refused = 0;

	for (size_t i = 0; i < PML_NUMOPT_COUNT; i++) {
		const struct pml_num_spec *sp = &pml_numopts[i];

		CHECK(sp->name && sp->users && sp->lo <= sp->hi);
		for (size_t k = 0; k < N_VALS; k++) {
			double want = 0, got = -7;
			int e = expect(sp, &vals[k], &want);
			char why[256] = "", head[128];
			int r = pml_num_parse(sp, NULL, vals[k].s, &got, why, sizeof(why));

			if (r != e || (e == 0 && !near(got, want)) || (e < 0 && got != -7)) {
				fprintf(stderr, "--%s '%s': got %d (%.17g), want %d (%.17g): %s\n",
					sp->name, vals[k].s, r, got, e, want, why);
				CHECK(!"the table's answer");
				continue;
			}
			CHECK(1);
			if (e == 0) {
				accepted++;
				continue;
			}
			refused++;
			/* one sentence: the option, the value as given (printable), the reason */
			snprintf(head, sizeof(head), "--%s '", sp->name);
			CHECK(!strncmp(why, head, strlen(head)));
			CHECK(strstr(why, e == -EINVAL ? "': not " : "': ") != NULL);
			CHECK(e == -EINVAL || strstr(why, "out of range: want ") ||
			      strstr(why, "not a whole number"));
			CHECK(!strchr(why, '\n') && !strchr(why, '\t'));
		}
	}
	/* the list holds both kinds of value for every entry */
	CHECK(accepted > PML_NUMOPT_COUNT && refused > PML_NUMOPT_COUNT);
}

/* One setting, one entry: an option name used by several commands (--budget-mem for
 * pmld, pml run, pml eval and the policy file) is one entry. Two names are different
 * settings spelt alike in different commands, said here. */
static void test_one_entry_per_name(void)
{
	for (size_t i = 0; i < PML_NUMOPT_COUNT; i++)
		for (size_t j = i + 1; j < PML_NUMOPT_COUNT; j++) {
			const char *n = pml_numopts[i].name;

			if (strcmp(n, pml_numopts[j].name))
				continue;
			/* train-needs' window is seconds of needs, train's a BPTT window of
			 * tokens; collect's seed draws the scenarios' parameters, train's the
			 * weights */
			if (!strcmp(n, "window") || !strcmp(n, "seed"))
				continue;
			fprintf(stderr, "two entries named %s\n", n);
			CHECK(!"one entry per name");
		}
}

/* A few sentences in full, as a user sees them. */
static void test_sentences(void)
{
	char why[256];
	double v;
	int64_t n;

	CHECK(pml_num_parse(PML_NUMOPT(BUDGET_MEM), NULL, " 2M", &v, why, sizeof(why)) ==
	      -EINVAL);
	CHECK_STR(why, "--budget-mem ' 2M': not a size (e.g. 512K, 64MiB, 1G)");
	CHECK(pml_num_parse(PML_NUMOPT(MEMORY), NULL, "16", &v, why, sizeof(why)) == -ERANGE);
	CHECK_STR(why, "--memory '16': out of range: want a size in [256M, 64G]");
	CHECK(pml_num_parse_i64(PML_NUMOPT(MEMORY), NULL, "2G", &n, why, sizeof(why)) == 0 &&
	      n == 2ll << 30);
	CHECK(pml_num_parse(PML_NUMOPT(THRESHOLD), NULL, "nan", &v, why, sizeof(why)) ==
	      -EINVAL);
	CHECK_STR(why, "--threshold 'nan': not a probability in (0, 1]");
	CHECK(pml_num_parse(PML_NUMOPT(IDLE_SECONDS), NULL, "25h", &v, why, sizeof(why)) ==
	      -ERANGE);
	CHECK_STR(why, "--idle-seconds '25h': out of range: want a duration in (0, 86400s]");
	CHECK(pml_num_parse(PML_NUMOPT(TICK_MS), NULL, "10.5", &v, why, sizeof(why)) == -ERANGE);
	CHECK_STR(why, "--tick-ms '10.5': not a whole number of ms");
	CHECK(pml_num_parse(PML_NUMOPT(HORIZON), NULL, "2s", &v, why, sizeof(why)) == 0 &&
	      v == 2000);
	CHECK(pml_num_parse(PML_NUMOPT(CPUS), "x.conf:3: cpus", "a", &v, why, sizeof(why)) ==
	      -EINVAL);
	CHECK_STR(why, "x.conf:3: cpus 'a': not a whole number in [1, 16]");
	CHECK(pml_num_parse(PML_NUMOPT(CPUS), NULL, "1\x1b[2J", &v, why, sizeof(why)) == -EINVAL);
	CHECK(strchr(why, '\x1b') == NULL); /* a terminal escape is not repeated */
	CHECK(pml_num_check(PML_NUMOPT(THRESHOLD), "m.pmlm: threshold", 7.0, why,
			    sizeof(why)) == -ERANGE);
	CHECK_STR(why, "m.pmlm: threshold 7: out of range: want a probability in (0, 1]");
	CHECK(pml_num_check(PML_NUMOPT(THRESHOLD), NULL, NAN, why, sizeof(why)) == -ERANGE);
	CHECK(pml_num_check(PML_NUMOPT(THRESHOLD), NULL, 0.5, why, sizeof(why)) == 0);
	/* a long value is cut, not overflowing */
	{
		char big[400];

		memset(big, '9', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK(pml_num_parse(PML_NUMOPT(CPUS), NULL, big, &v, why, sizeof(why)) < 0);
		CHECK(strstr(why, "...'") != NULL);
	}
}

/* The policy file's two numbers answer as their entries, with file:line in front. */
static void test_policy_file(void)
{
	static const struct {
		const char *key;
		enum pml_numopt id;
	} keys[] = {{"budget-mem", PML_NUMOPT_BUDGET_MEM},
		    {"idle-unload", PML_NUMOPT_FILE_IDLE_UNLOAD}};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct pml_num_spec *sp = &pml_numopts[keys[i].id];

		for (size_t k = 0; k < N_VALS; k++) {
			const char *s = vals[k].s;
			struct pml_policy_file *p = NULL;
			char text[256], msg[512] = "", want[300], why[256];
			double x, got;
			int e, r;

			/* a token of the file: no blanks, not empty, no comment sign */
			if (!*s || strpbrk(s, " \t\n#\r") || strlen(s) > 64)
				continue;
			e = expect(sp, &vals[k], &x);
			snprintf(text, sizeof(text), "pml-policy 1\n%s %s\n", keys[i].key, s);
			r = pml_policy_file_parse_msg(text, "policy.conf", &p, msg, sizeof(msg));
			if ((r == 0) != (e == 0)) {
				fprintf(stderr, "policy file %s '%s': %d (%s), want %d\n",
					keys[i].key, s, r, msg, e);
				CHECK(!"the policy file answers as its entry");
				pml_policy_file_free(p);
				continue;
			}
			if (r == 0) {
				got = keys[i].id == PML_NUMOPT_BUDGET_MEM ? (double)p->budget_mem
									  : p->idle_unload_s;
				CHECK(near(got, keys[i].id == PML_NUMOPT_BUDGET_MEM ? floor(x) : x));
				pml_policy_file_free(p);
				continue;
			}
			CHECK(r == -EINVAL && p == NULL);
			pml_num_parse(sp, keys[i].key, s, &got, why, sizeof(why));
			snprintf(want, sizeof(want), "policy.conf:2: %s", why);
			CHECK_STR(msg, want);
		}
	}
}

/* A model file's stored numbers are checked by the same table: a threshold of 7, a
 * horizon past an hour or a NaN weight is a damaged file, not a model to use. */
static void test_model_file_numbers(void)
{
	static const char *const vocab[] = {"<unk>", "socket"};
	static const char *const modules[] = {"sctp"};
	float w[4] = {0.25f, 0.5f, 0.125f, 1};
	struct pml_model_desc d = {.kind = PML_MODEL_NGRAM, .params = {2, 1},
				   .meta = {.kernel_release = "6.1.0-56-amd64", .vocab = vocab,
					    .modules = modules, .threshold = 0.5f,
					    .horizon_ms = 2000},
				   .n_vocab = 2, .n_modules = 1, .weights = w, .n_weights = 4};
	char path[] = "/tmp/pml-test-options.XXXXXX";
	struct pml_model_file *mf = NULL;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	CHECK(pml_model_file_write(path, &d) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == 0);
	pml_model_file_free(mf);
	d.meta.threshold = 7.0f;
	CHECK(pml_model_file_write(path, &d) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == -EBADMSG);
	d.meta.threshold = NAN;
	CHECK(pml_model_file_write(path, &d) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == -EBADMSG);
	d.meta.threshold = 0; /* unsaid */
	d.meta.horizon_ms = 7200000;
	CHECK(pml_model_file_write(path, &d) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == -EBADMSG);
	d.meta.horizon_ms = 0;
	w[2] = NAN;
	CHECK(pml_model_file_write(path, &d) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == -EBADMSG);
	w[2] = INFINITY;
	CHECK(pml_model_file_write(path, &d) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == -EBADMSG);
	unlink(path);
	CHECK(pml_model_file_open("/etc/passwd", NULL, 0, &mf) == -ENOEXEC);
	CHECK_STR(pml_model_file_strerror(-ENOEXEC), "not a pml model file");
	CHECK_STR(pml_model_file_strerror(-EXDEV), "trained for another kernel series");
}

/* The directory of this test's build: BUILD/tests/test-options -> BUILD. */
static bool build_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *s;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (int i = 0; i < 2; i++) {
		s = strrchr(buf, '/');
		if (!s)
			return false;
		*s = '\0';
	}
	return true;
}

/* Run argv, its output on fd (1 or 2) into out, the other to /dev/null; the exit status,
 * -1 when it did not exit by itself within 20 s. */
static int run_cmd_fd(char *const argv[], int fd, char *out, size_t size)
{
	int fds[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(fd == 1 ? fds[1] : null, 1);
		dup2(fd == 2 ? fds[1] : null, 2);
		close(fds[0]);
		alarm(20); /* a refused value must end it at once; never hang the suite */
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Run argv, its stderr into err (stdout to /dev/null). */
static int run_cmd(char *const argv[], char *err, size_t size)
{
	return run_cmd_fd(argv, 2, err, size);
}

/* Every numeric option of every command, as the commands take it. */
static const struct {
	const char *argv[4]; /* the binary (relative to the build) and any verbs */
	const char *who;     /* the message prefix */
	const char *option;
	enum pml_numopt id;
} cmd_opts[] = {
	{{"pmld"}, "pmld", "--idle-seconds", PML_NUMOPT_IDLE_SECONDS},
	{{"pmld"}, "pmld", "--threshold", PML_NUMOPT_THRESHOLD},
	{{"pmld"}, "pmld", "--horizon", PML_NUMOPT_HORIZON},
	{{"pmld"}, "pmld", "--budget-cpu", PML_NUMOPT_BUDGET_CPU},
	{{"pmld"}, "pmld", "--budget-mem", PML_NUMOPT_BUDGET_MEM},
	{{"pmld"}, "pmld", "--tick-ms", PML_NUMOPT_TICK_MS},
	{{"pmld"}, "pmld", "--trace-root", PML_NUMOPT_TRACE_ROOT},
	{{"pml", "run"}, "pml: run", "--idle-seconds", PML_NUMOPT_IDLE_SECONDS},
	{{"pml", "run"}, "pml: run", "--threshold", PML_NUMOPT_THRESHOLD},
	{{"pml", "run"}, "pml: run", "--horizon", PML_NUMOPT_HORIZON},
	{{"pml", "run"}, "pml: run", "--budget-cpu", PML_NUMOPT_BUDGET_CPU},
	{{"pml", "run"}, "pml: run", "--budget-mem", PML_NUMOPT_BUDGET_MEM},
	{{"pml", "run"}, "pml: run", "--settle", PML_NUMOPT_SETTLE},
	{{"pml", "run"}, "pml: run", "--timeout", PML_NUMOPT_TIMEOUT},
	{{"pml", "run"}, "pml: run", "--memory", PML_NUMOPT_MEMORY},
	{{"pml", "run"}, "pml: run", "--cpus", PML_NUMOPT_CPUS},
	{{"pml", "eval"}, "pml: eval", "--budget-mem", PML_NUMOPT_BUDGET_MEM},
	{{"pml", "eval"}, "pml: eval", "--threshold", PML_NUMOPT_THRESHOLD},
	{{"pml", "eval"}, "pml: eval", "--horizon", PML_NUMOPT_HORIZON},
	{{"pml", "eval"}, "pml: eval", "--idle-seconds", PML_NUMOPT_IDLE_SECONDS},
	{{"pml", "eval"}, "pml: eval", "--tick-ms", PML_NUMOPT_TICK_MS},
	{{"pml", "eval"}, "pml: eval", "--preroll-ms", PML_NUMOPT_PREROLL_MS},
	{{"pml", "eval"}, "pml: eval", "--miss-ms", PML_NUMOPT_MISS_MS},
	{{"pml", "collect"}, "pml: collect", "--runs", PML_NUMOPT_RUNS},
	{{"pml", "collect"}, "pml: collect", "--jobs", PML_NUMOPT_JOBS},
	{{"pml", "collect"}, "pml: collect", "--per-boot", PML_NUMOPT_PER_BOOT},
	{{"pml", "collect"}, "pml: collect", "--seed", PML_NUMOPT_COLLECT_SEED},
	{{"pml", "collect"}, "pml: collect", "--memory", PML_NUMOPT_MEMORY},
	{{"pml", "request"}, "pml: request", "--confidence", PML_NUMOPT_CONFIDENCE},
	{{"pml", "request"}, "pml: request", "--urgency", PML_NUMOPT_URGENCY},
	{{"pml", "request"}, "pml: request", "--bytes", PML_NUMOPT_BYTES},
	{{"pml", "request"}, "pml: request", "--load-ms", PML_NUMOPT_LOAD_MS},
	{{"pml", "trace", "record"}, "pml: trace record", "--ringbuf", PML_NUMOPT_RINGBUF},
	{{"pml", "trace", "record"}, "pml: trace record", "--sample-hz", PML_NUMOPT_SAMPLE_HZ},
	{{"pml", "trace", "record"}, "pml: trace record", "--fault-ms", PML_NUMOPT_FAULT_MS},
	{{"pml", "bench", "loader"}, "pml: bench", "--rounds", PML_NUMOPT_ROUNDS},
	{{"pml", "train-needs"}, "pml: train-needs", "--window", PML_NUMOPT_NEEDS_WINDOW},
	{{"pml", "train-needs"}, "pml: train-needs", "--alpha", PML_NUMOPT_NEEDS_ALPHA},
	{{"pml", "train"}, "pml: train", "--lr", PML_NUMOPT_LR},
	{{"pml", "train"}, "pml: train", "--pos-weight", PML_NUMOPT_POS_WEIGHT},
	{{"pml", "train"}, "pml: train", "--weight-decay", PML_NUMOPT_WEIGHT_DECAY},
	{{"pml", "train"}, "pml: train", "--token-dropout", PML_NUMOPT_TOKEN_DROPOUT},
	{{"pml", "train"}, "pml: train", "--prior-dropout", PML_NUMOPT_PRIOR_DROPOUT},
	{{"pml", "train"}, "pml: train", "--threshold", PML_NUMOPT_THRESHOLD},
	{{"pml", "train"}, "pml: train", "--hidden", PML_NUMOPT_HIDDEN},
	{{"pml", "train"}, "pml: train", "--embed", PML_NUMOPT_EMBED},
	{{"pml", "train"}, "pml: train", "--layers", PML_NUMOPT_LAYERS},
	{{"pml", "train"}, "pml: train", "--epochs", PML_NUMOPT_EPOCHS},
	{{"pml", "train"}, "pml: train", "--patience", PML_NUMOPT_PATIENCE},
	{{"pml", "train"}, "pml: train", "--batch", PML_NUMOPT_BATCH},
	{{"pml", "train"}, "pml: train", "--window", PML_NUMOPT_WINDOW},
	{{"pml", "train"}, "pml: train", "--threads", PML_NUMOPT_THREADS},
	{{"pml", "train"}, "pml: train", "--seed", PML_NUMOPT_TRAIN_SEED},
	{{"pml", "train"}, "pml: train", "--horizon-ms", PML_NUMOPT_HORIZON_MS},
	{{"pml", "train"}, "pml: train", "--min-docs", PML_NUMOPT_MIN_DOCS},
	{{"pml", "train"}, "pml: train", "--order", PML_NUMOPT_ORDER},
	{{"pml", "train"}, "pml: train", "--buckets", PML_NUMOPT_BUCKETS},
};

/* Values every entry refuses (checked against the table first). */
static const char *const refused_everywhere[] = {
	" 2M", "nan", "0x10", "-1", "", "99999999999999999999", "1e308h",
};

static void test_commands(void)
{
	char dir[PATH_MAX], bin[PATH_MAX + 16], err[4096], why[256], want[400];
	bool seen[PML_NUMOPT_COUNT] = {0};
	size_t n_cmd = sizeof(cmd_opts) / sizeof(cmd_opts[0]);

	if (!build_dir(dir, sizeof(dir))) {
		CHECK(!"the build directory");
		return;
	}
	snprintf(bin, sizeof(bin), "%s/pml", dir);
	if (access(bin, X_OK) < 0) {
		fprintf(stderr, "test-options: %s not built, commands not exec'd\n", bin);
		return;
	}
	for (size_t i = 0; i < n_cmd; i++) {
		const struct pml_num_spec *sp = &pml_numopts[cmd_opts[i].id];

		seen[cmd_opts[i].id] = true;
		CHECK(!strcmp(cmd_opts[i].option + 2, sp->name));
		for (size_t k = 0; k < sizeof(refused_everywhere) / sizeof(char *); k++) {
			const char *s = refused_everywhere[k];
			char *argv[8];
			size_t a = 0;
			double v;
			int rc;

			snprintf(bin, sizeof(bin), "%s/%s", dir, cmd_opts[i].argv[0]);
			argv[a++] = bin;
			for (size_t j = 1; j < 4 && cmd_opts[i].argv[j]; j++)
				argv[a++] = (char *)cmd_opts[i].argv[j];
			argv[a++] = (char *)cmd_opts[i].option;
			argv[a++] = (char *)s;
			argv[a] = NULL;
			CHECK(pml_num_parse(sp, NULL, s, &v, why, sizeof(why)) < 0);
			rc = run_cmd(argv, err, sizeof(err));
			snprintf(want, sizeof(want), "%s: %s\n", cmd_opts[i].who, why);
			if (rc <= 0 || !strstr(err, want)) {
				fprintf(stderr, "%s %s '%s': exit %d, stderr:\n%swanted:\n%s",
					cmd_opts[i].argv[1] ? cmd_opts[i].argv[1] : "pmld",
					cmd_opts[i].option, s, rc, err, want);
				CHECK(!"the command refuses by its entry");
			} else {
				CHECK(1);
			}
		}
	}
	/* every entry is some command's option (the file's own idle-unload: the file) */
	for (size_t i = 0; i < PML_NUMOPT_COUNT; i++)
		if (!seen[i] && i != PML_NUMOPT_FILE_IDLE_UNLOAD) {
			fprintf(stderr, "entry --%s: no command exec'd with it\n",
				pml_numopts[i].name);
			CHECK(!"every entry is exec'd");
		}
}

/* Every command, given an option it does not have or a bad argument, answers in the one
 * style "pml: VERB[ SUB]: ..." (pmld: "pmld: ..."): its own sentence, the library's lines
 * through the log sink and getopt_long's complaints alike. A bad input file is described
 * in words, not as an errno of a system call that never failed. Nothing runs: every case
 * is refused while its command line or its first input is read. "@D" is a directory with
 * a manifest.jsonl that is not one, "@L" a file that is no decision log or trace, "@N" a
 * path that does not exist. */
static const struct {
	const char *argv[8];
	const char *who;
	const char *says; /* a part of the sentence, or NULL */
} bad_cmds[] = {
	{{"pmld", "--no-such-option"}, "pmld", "unrecognized option"},
	{{"pmld", "extra"}, "pmld", "unexpected argument 'extra'"},
	{{"pml", "frob"}, "pml", "'frob' is not a pml command"},
	{{"pml", "run", "--no-such-option"}, "pml: run", "unrecognized option"},
	{{"pml", "run", "--accel", "frob"}, "pml: run", "'frob' is not auto, tcg or kvm"},
	{{"pml", "repo", "--no-such-option"}, "pml: repo", "unknown option"},
	{{"pml", "repo", "frob"}, "pml: repo", "not a repo subcommand"},
	{{"pml", "trace", "frob"}, "pml: trace", "unknown subcommand 'frob'"},
	{{"pml", "trace", "dump", "--no-such-option"}, "pml: trace dump", "unrecognized option"},
	{{"pml", "trace", "dump"}, "pml: trace dump", "expected one FILE"},
	{{"pml", "trace", "dump", "@L"}, "pml: trace dump", "not a pml trace file"},
	{{"pml", "trace", "record", "--no-such-option"}, "pml: trace record", "unrecognized"},
	{{"pml", "trace", "record", "-o", "@N"}, "pml: trace record", "expected a command"},
	{{"pml", "status", "--no-such-option"}, "pml: status", "unrecognized option"},
	{{"pml", "status", "extra"}, "pml: status", "unexpected argument 'extra'"},
	{{"pml", "request", "--no-such-option"}, "pml: request", "unrecognized option"},
	{{"pml", "request", "-Z"}, "pml: request", "invalid option -- 'Z'"},
	{{"pml", "request", "--priority", "frob", "m"}, "pml: request", "--priority 'frob'"},
	{{"pml", "request", "--socket"}, "pml: request", "requires an argument"},
	{{"pml", "bench", "loader", "--no-such-option"}, "pml: bench", "unrecognized option"},
	{{"pml", "calibrate", "--no-such-option"}, "pml: calibrate", "unrecognized option"},
	{{"pml", "collect", "--no-such-option"}, "pml: collect", "unrecognized option"},
	{{"pml", "collect", "--shard", "x"}, "pml: collect", "'x' is not I/N"},
	{{"pml", "dataset", "stats", "--no-such-option"}, "pml: dataset", "unrecognized"},
	{{"pml", "dataset", "frob", "@D"}, "pml: dataset", "unknown command 'frob'"},
	{{"pml", "dataset", "stats", "@N"}, "pml: dataset", "no manifest.jsonl"},
	{{"pml", "dataset", "stats", "@D"}, "pml: dataset", "not a pml dataset manifest"},
	{{"pml", "train", "--no-such-option"}, "pml: train", "unrecognized option"},
	{{"pml", "train", "--dataset", "@D"}, "pml: train", "not a pml dataset"},
	{{"pml", "eval", "--no-such-option"}, "pml: eval", "unrecognized option"},
	{{"pml", "eval", "--dataset", "@D"}, "pml: eval", "not a pml dataset manifest"},
	{{"pml", "train-needs", "--no-such-option"}, "pml: train-needs", "unrecognized"},
	{{"pml", "train-needs", "--window"}, "pml: train-needs", "requires an argument"},
	{{"pml", "train-needs", "-o", "@N", "@L"}, "pml: train-needs", "not a decision log"},
	{{"pml", "train-needs", "-o", "@N", "@N"}, "pml: train-needs", "no decision log here"},
	{{"pml", "train-slots", "--no-such-option"}, "pml: train-slots", "unrecognized"},
	{{"pml", "snapshot", "frob"}, "pml: snapshot", "'frob' is not ls, rm or build"},
	{{"pml", "snapshot", "ls", "--no-such-option"}, "pml: snapshot ls", "unknown option"},
	{{"pml", "snapshot", "build", "--no-such-option"}, "pml: snapshot build", "unrecognized"},
};

/* Whether line opens with a message prefix of a pml binary: "pml:", "pmld:", or the
 * older "pml status:" / "pml trace dump:" (words of letters and '-' up to a colon). */
static bool prefixed(const char *line)
{
	const char *p = line;

	if (strncmp(line, "pml", 3))
		return false;
	if (!strncmp(line, "pml:", 4) || !strncmp(line, "pmld:", 5))
		return true;
	if (line[3] != ' ')
		return false;
	for (p = line + 4; *p && (*p == ' ' || *p == '-' || (*p >= 'a' && *p <= 'z')); p++)
		;
	return *p == ':' && p - line < 32;
}

/* Whether the first line of err, and every other line a pml binary wrote with a prefix
 * (its own, the log sink's, getopt_long's), carries who's. */
static bool one_prefix(const char *err, const char *who)
{
	size_t n = strlen(who);
	const char *line = err;
	bool first = true;

	while (*line) {
		const char *end = strchrnul(line, '\n');
		bool ours = !strncmp(line, who, n) && line[n] == ':' && line[n + 1] == ' ';

		if ((first || prefixed(line)) && !ours)
			return false;
		first = false;
		line = *end ? end + 1 : end;
	}
	return !first;
}

static void test_command_prefixes(void)
{
	static const char *const errnos[] = {"Invalid argument", "Bad message",
					     "Exec format error", "Protocol not supported"};
	char dir[PATH_MAX], bin[PATH_MAX + 16], err[8192], tmp[] = "/tmp/pml-test-prefix.XXXXXX";
	char ds[PATH_MAX], log[PATH_MAX], none[PATH_MAX], man[PATH_MAX + 16];
	FILE *f;

	if (!build_dir(dir, sizeof(dir))) {
		CHECK(!"the build directory");
		return;
	}
	snprintf(bin, sizeof(bin), "%s/pml", dir);
	if (access(bin, X_OK) < 0 || !mkdtemp(tmp)) {
		fprintf(stderr, "test-options: %s not built, prefixes not checked\n", bin);
		return;
	}
	snprintf(ds, sizeof(ds), "%s/ds", tmp);
	snprintf(log, sizeof(log), "%s/log", tmp);
	snprintf(none, sizeof(none), "%s/none", tmp);
	snprintf(man, sizeof(man), "%s/manifest.jsonl", ds);
	CHECK(mkdir(ds, 0700) == 0);
	f = fopen(man, "w");
	CHECK(f && fputs("{\"not\": \"a manifest\"}\n", f) >= 0 && fclose(f) == 0);
	f = fopen(log, "w");
	CHECK(f && fputs("not a log\n", f) >= 0 && fclose(f) == 0);
	for (size_t i = 0; i < sizeof(bad_cmds) / sizeof(bad_cmds[0]); i++) {
		char *argv[10];
		size_t a = 0;
		bool ok;
		int rc;

		snprintf(bin, sizeof(bin), "%s/%s", dir, bad_cmds[i].argv[0]);
		argv[a++] = bin;
		for (size_t j = 1; j < 8 && bad_cmds[i].argv[j]; j++) {
			const char *s = bad_cmds[i].argv[j];

			argv[a++] = !strcmp(s, "@D")   ? ds
				    : !strcmp(s, "@L") ? log
				    : !strcmp(s, "@N") ? none
						       : (char *)s;
		}
		argv[a] = NULL;
		rc = run_cmd(argv, err, sizeof(err));
		ok = rc > 0 && one_prefix(err, bad_cmds[i].who) &&
		     (!bad_cmds[i].says || strstr(err, bad_cmds[i].says));
		for (size_t k = 0; k < sizeof(errnos) / sizeof(errnos[0]); k++)
			ok = ok && !strstr(err, errnos[k]);
		if (!ok) {
			fprintf(stderr, "%s", bad_cmds[i].argv[0]);
			for (size_t j = 1; j < 8 && bad_cmds[i].argv[j]; j++)
				fprintf(stderr, " %s", bad_cmds[i].argv[j]);
			fprintf(stderr, ": exit %d, stderr:\n%swanted every line as '%s: ...'%s%s\n",
				rc, err, bad_cmds[i].who, bad_cmds[i].says ? ", saying " : "",
				bad_cmds[i].says ? bad_cmds[i].says : "");
		}
		CHECK(ok);
	}
	unlink(man);
	rmdir(ds);
	unlink(log);
	unlink(none); /* in case a command made it */
	rmdir(tmp);
}

/* The verbs whose getopt_long and --help are made from one table (cmd/cmd-options.h):
 * every option their --help shows ("-s, --socket PATH", "      --window S") is taken.
 * Each is exec'd as `pml VERB --NAME --no-such-option --no-such-option` (and -X for a
 * short form): a known option goes past getopt_long (a flag, and the first unknown one is
 * named; or it takes the first as its value and the second is named), an unknown one is
 * named itself. Either way getopt_long ends the verb before it does anything. */
static void test_option_tables(void)
{
	static const struct {
		const char *bin;     /* relative to the build */
		const char *verb[3]; /* the verb and sub-verb, NULL-ended */
	} verbs[] = {
		{"pml", {"status"}},	  {"pml", {"request"}},	    {"pml", {"train-needs"}},
		{"pml", {"train-slots"}}, {"pml", {"calibrate"}},   {"pml", {"bench", "loader"}},
		{"pml", {"trace", "record"}}, {"pml", {"trace", "dump"}}, {"pml", {"repo"}},
		{"pml", {"snapshot", "ls"}}, {"pml", {"snapshot", "rm"}},
		{"pml", {"dataset", "stats"}}, {"pml", {"train"}}, {"pml", {"collect"}},
		{"pml", {"run"}},	  {"pmld", {NULL}},
		{"pml", {"eval"}},
	};
	static char help[32768], err[8192];
	char dir[PATH_MAX], bin[PATH_MAX + 16];

	if (!build_dir(dir, sizeof(dir)))
		return;
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		char *argv[8], *run[10], what[128] = "";
		size_t na = 0;
		int seen = 0;

		snprintf(bin, sizeof(bin), "%s/%s", dir, verbs[v].bin);
		if (access(bin, X_OK) < 0)
			continue;
		argv[na++] = bin;
		snprintf(what, sizeof(what), "%s", verbs[v].bin);
		for (size_t i = 0; i < 2 && verbs[v].verb[i]; i++) {
			argv[na++] = (char *)verbs[v].verb[i];
			snprintf(what + strlen(what), sizeof(what) - strlen(what), " %s",
				 verbs[v].verb[i]);
		}
		memcpy(run, argv, na * sizeof(*argv));
		argv[na] = (char *)"--help";
		argv[na + 1] = NULL;
		CHECK(run_cmd_fd(argv, 1, help, sizeof(help)) == 0);
		for (char *line = strtok(help, "\n"); line; line = strtok(NULL, "\n")) {
			char name[64], opt[80], want[128], own[128];
			char letter = 0;

			/* an option line, as cmd_options_help() writes it; not prose */
			if (!(!strncmp(line, "  -", 3) &&
			      sscanf(line, "  -%c, --%63[a-z0-9-]", &letter, name) == 2) &&
			    !(!strncmp(line, "      --", 8) &&
			      sscanf(line, "      --%63[a-z0-9-]", name) == 1))
				continue;
			if (!strcmp(name, "help"))
				continue; /* it prints the text and ends */
			seen++;
			for (int form = 0; form < (letter ? 2 : 1); form++) {
				bool refused;

				run[na] = opt;
				run[na + 1] = (char *)"--no-such-option";
				run[na + 2] = (char *)"--no-such-option";
				run[na + 3] = NULL;
				if (form == 0) {
					snprintf(opt, sizeof(opt), "--%s", name);
					snprintf(want, sizeof(want), "unrecognized option '%s'", opt);
				} else {
					snprintf(opt, sizeof(opt), "-%c", letter);
					snprintf(want, sizeof(want), "invalid option -- '%c'", letter);
				}
				/* getopt_long's words, or a verb's own (opterr 0: pml repo) */
				snprintf(own, sizeof(own), "unknown option '%s'", opt);
				run_cmd(run, err, sizeof(err));
				refused = strstr(err, want) || strstr(err, own);
				if (refused)
					fprintf(stderr, "%s --help shows %s, which it refuses:\n%s",
						what, opt, err);
				CHECK(!refused);
			}
		}
		if (!seen)
			fprintf(stderr, "%s --help: no option lines\n", what);
		CHECK(seen > 0);
	}
}

/* The sources that take numbers from users parse them through the table only. */
static void test_no_hand_parsing(void)
{
	static const struct {
		const char *file;
		int allowed; /* calls that are not options, said why */
	} files[] = {
		{"src/cmd/cmd-bench.c", 0},	  {"src/cmd/cmd-calibrate.c", 0},
		{"src/cmd/cmd-collect.c", 2},	  /* guest_marker: the guest's stdout */
		{"src/cmd/cmd-dataset.c", 0},	  {"src/cmd/cmd-eval.c", 0},
		{"src/cmd/cmd-repo.c", 0},	  {"src/cmd/cmd-request.c", 0},
		{"src/cmd/cmd-run.c", 0},	  {"src/cmd/cmd-snapshot.c", 0},
		{"src/cmd/cmd-status.c", 0},	  {"src/cmd/cmd-trace.c", 0},
		{"src/cmd/cmd-train-needs.c", 0}, {"src/cmd/cmd-train.c", 0},
		{"src/cmd/pmld.c", 0},		  {"src/cmd/pml-modprobe.c", 0},
		{"src/agent/agent-options.c", 0},
		{"src/loader/policy-file.c", 1}, /* the format version on the first line */
	};
	static const char *const calls[] = {"strtod(", "strtof(", "strtol(", "strtoul(",
					    "strtoll(", "strtoull(", "atoi(", "atol(", "atof("};
	const char *fix = getenv("PML_TEST_FIXTURES");
	char path[PATH_MAX + 64];

	if (!fix) {
		fprintf(stderr, "test-options: PML_TEST_FIXTURES unset, sources not read\n");
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char line[4096];
		int found = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/../../%s", fix, files[i].file);
		f = fopen(path, "r");
		if (!f)
			continue; /* a command not in this tree */
		while (fgets(line, sizeof(line), f))
			for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++)
				if (strstr(line, calls[c]) && !strstr(line, "sscanf"))
					found++;
		fclose(f);
		if (found != files[i].allowed) {
			fprintf(stderr, "%s: %d number conversions by hand (allowed %d)\n",
				files[i].file, found, files[i].allowed);
			CHECK(!"no hand-rolled number parsing");
		} else {
			CHECK(1);
		}
	}
}

/* For a test that runs pml on the fixture dataset: bin (the built pml), fix (the
 * fixtures' dataset) and the temporary directory tmp (a mkdtemp template) made; false
 * (checked) when one is missing. */
static bool command_paths(char *bin, size_t bin_size, char *fix, size_t fix_size, char *tmp)
{
	char dir[PATH_MAX];
	const char *env = getenv("PML_TEST_FIXTURES");

	if (!build_dir(dir, sizeof(dir)) || !env || !mkdtemp(tmp)) {
		CHECK(!"the build directory, the fixtures and a temporary directory");
		return false;
	}
	snprintf(bin, bin_size, "%s/pml", dir);
	snprintf(fix, fix_size, "%s/dataset", env);
	return true;
}

/* pml eval --needs-out FILE on the fixture dataset: a JSON line per need and policy (the
 * same needs under each), reactive stalling where the oracle does not, and one per module
 * the oracle prefetched (none for reactive); nothing left beside FILE; a FILE that cannot
 * be made is refused, naming the option, before any replay. */
static void test_eval_needs_out(void)
{
	char bin[PATH_MAX + 16], fix[PATH_MAX], out[PATH_MAX + 32], err[8192];
	char tmp[] = "/tmp/pml-test-needs.XXXXXX", line[1024], bad[] = "/nonexistent/needs.jsonl";
	unsigned n_reactive = 0, n_oracle = 0, reactive_stalls = 0, oracle_stalls = 0, bad_lines = 0;
	unsigned n_files = 0, n_prefetch_oracle = 0;
	struct dirent *de;
	DIR *d;
	FILE *f;

	if (!command_paths(bin, sizeof(bin), fix, sizeof(fix), tmp))
		return;
	snprintf(out, sizeof(out), "%s/needs.jsonl", tmp);
	{
		char *argv[] = {bin, "eval", "-d", fix, "--split", "test", "--policy",
				"reactive,oracle", "--needs-out", out, NULL};

		CHECK(run_cmd(argv, err, sizeof(err)) == 0);
	}
	f = fopen(out, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		struct pml_json_flat j;
		const char *pol;
		const struct pml_json_field *st;

		if (pml_json_flat_parse(line, &j) < 0) {
			bad_lines++;
			continue;
		}
		pol = pml_json_flat_str(&j, "policy", "");
		st = pml_json_flat_get(&j, "stalled");
		if (!strcmp(pml_json_flat_str(&j, "kind", ""), "prefetch")) {
			/* a module the load worker inserted: the oracle's, never reactive's */
			n_prefetch_oracle += !strcmp(pol, "oracle");
			bad_lines += strcmp(pol, "oracle") != 0 ||
				     !pml_json_flat_get(&j, "used") ||
				     pml_json_flat_num(&j, "mb_s", -1) < 0;
		} else if (strcmp(pml_json_flat_str(&j, "kind", ""), "need") || !st ||
			   st->type != PML_JSON_BOOL || !pml_json_flat_str(&j, "module", NULL) ||
			   !pml_json_flat_str(&j, "run", NULL))
			bad_lines++;
		else if (!strcmp(pol, "reactive"))
			n_reactive++, reactive_stalls += st->boolean;
		else if (!strcmp(pol, "oracle"))
			n_oracle++, oracle_stalls += st->boolean;
		else
			bad_lines++;
		pml_json_flat_release(&j);
	}
	if (f)
		fclose(f);
	CHECK(bad_lines == 0);
	CHECK(n_reactive > 0 && n_reactive == n_oracle);
	CHECK(reactive_stalls > 0 && oracle_stalls < reactive_stalls);
	CHECK(n_prefetch_oracle > 0);
	d = opendir(tmp);
	while (d && (de = readdir(d)))
		n_files += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(n_files == 1); /* no temporary file left beside it */
	{
		char *argv[] = {bin, "eval", "-d", fix, "--policy", "reactive", "--needs-out", bad,
				NULL};

		CHECK(run_cmd(argv, err, sizeof(err)) == PML_EXIT_USAGE);
		CHECK(strstr(err, "--needs-out /nonexistent/needs.jsonl") != NULL);
	}
	unlink(out);
	rmdir(tmp);
}

/* pml train --add-roles MODEL -o OUT --threshold P: OUT is MODEL with P as its threshold
 * (the weights as they were); a P out of range is refused before anything is written. */
static void test_add_roles_threshold(void)
{
	char bin[PATH_MAX + 16], fix[PATH_MAX], model[PATH_MAX + 32];
	char out[PATH_MAX + 32], err[4096], tmp[] = "/tmp/pml-test-roles.XXXXXX";
	const char *env = getenv("PML_TEST_FIXTURES");
	struct pml_model_file *a = NULL, *b = NULL;

	if (!command_paths(bin, sizeof(bin), fix, sizeof(fix), tmp))
		return;
	snprintf(model, sizeof(model), "%s/model/tiny-lstm-roles.pml", env);
	snprintf(out, sizeof(out), "%s/m.pml", tmp);
	{
		char *bad[] = {bin, "train", "--dataset", fix, "--add-roles", model, "-o", out,
			       "--threshold", "1.5", "-q", NULL};
		char *good[] = {bin, "train", "--dataset", fix, "--add-roles", model, "-o", out,
				"--threshold", "0.77", "-q", NULL};

		CHECK(run_cmd(bad, err, sizeof(err)) == 2 && strstr(err, "--threshold"));
		CHECK(access(out, F_OK) < 0);
		CHECK(run_cmd(good, err, sizeof(err)) == 0);
	}
	CHECK(pml_model_file_open(model, NULL, PML_MODEL_ANY_KERNEL, &a) == 0);
	CHECK(pml_model_file_open(out, NULL, PML_MODEL_ANY_KERNEL, &b) == 0);
	if (a && b) {
		CHECK(fabsf(b->threshold - 0.77f) < 1e-6f && a->threshold != b->threshold);
		CHECK(a->n_weights == b->n_weights &&
		      !memcmp(a->weights, b->weights, a->n_weights * sizeof(*a->weights)));
	}
	pml_model_file_free(a);
	pml_model_file_free(b);
	unlink(out);
	rmdir(tmp);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_table();
	test_one_entry_per_name();
	test_sentences();
	test_policy_file();
	test_model_file_numbers();
	test_commands();
	test_command_prefixes();
	test_option_tables();
	test_no_hand_parsing();
	test_eval_needs_out();
	test_add_roles_threshold();
	return unit_done("options");
}
