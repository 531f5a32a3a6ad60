/* The dataset component: needs derived from module records (synthetic cases for each
 * attribution rule, and the real guest trace of the acceptance fixture), the manifest's
 * round trip and its refusals (missing, wrong magic, future version, flipped byte, cut
 * short), a hostile manifest's (traces outside the dataset by "..", an absolute path or a
 * symbolic link; numbers out of their field's range), the split, and the corpus headers
 * of workloads/. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset/dataset.h"
#include "dataset/needs.h"
#include "dataset/pack.h"
#include "model/corpus.h"
#include "model/features.h"
#include "trace/trace-file.h"
#include "dataset/scenario.h"
#include "util/log.h"
#include "util/safepath.h"
#include "unit.h"

static char tmpdir[] = "/tmp/pml-test-dataset-XXXXXX";

static void feed_mod(struct pml_needs *n, int kind, uint64_t t_ms, uint32_t pid,
		     const char *name)
{
	struct pml_tev_module m = {0};

	m.h.kind = (uint16_t)kind;
	m.h.size = sizeof(m);
	m.h.t_ns = t_ms * 1000000ull;
	m.h.pid = m.h.tid = pid;
	m.h.nr = -1;
	snprintf(m.name, sizeof(m.name), "%s", name);
	CHECK(pml_needs_add(n, &m.h) == 0);
}

static void feed_syscall(struct pml_needs *n, uint64_t t_ms, uint32_t pid)
{
	struct pml_tev_hdr h = {.t_ns = t_ms * 1000000ull, .pid = pid, .tid = pid,
				.kind = PML_TEV_SYSCALL, .size = sizeof(h), .nr = 39};

	CHECK(pml_needs_add(n, &h) == 0);
}

static void test_needs_rules(void)
{
	struct pml_needs n;

	pml_needs_init(&n);
	feed_syscall(&n, 1, 100); /* the traced program */
	/* a request that resolves to nothing, then the one that loads a closure */
	feed_mod(&n, PML_TEV_MOD_REQUEST, 10, 100, "net-pf-2-proto-132-type-1");
	feed_mod(&n, PML_TEV_MOD_REQUEST, 20, 100, "net-pf-2-proto-132");
	feed_mod(&n, PML_TEV_MOD_LOAD, 30, 500, "libcrc32c");
	feed_mod(&n, PML_TEV_MOD_LOAD, 40, 500, "udp_tunnel");
	/* a second thread asks while the first modprobe still loads */
	feed_mod(&n, PML_TEV_MOD_REQUEST, 45, 101, "net-pf-2-proto-132");
	feed_mod(&n, PML_TEV_MOD_LOAD, 60, 500, "sctp");
	/* user space runs modprobe itself: pid 102 is of the tree */
	feed_syscall(&n, 70, 102);
	feed_mod(&n, PML_TEV_MOD_LOAD, 80, 102, "tipc");
	/* a load nothing explains, 20 s later, from outside the tree */
	feed_mod(&n, PML_TEV_MOD_LOAD, 20000, 900, "dummy");
	/* a request long after: still a need of its own */
	feed_mod(&n, PML_TEV_MOD_REQUEST, 30000, 100, "fs-vfat");
	feed_mod(&n, PML_TEV_MOD_LOAD, 30050, 901, "fat");
	feed_mod(&n, PML_TEV_MOD_LOAD, 30060, 901, "vfat");

	CHECK(n.n == 6);
	if (n.n == 6) {
		CHECK_STR(n.v[0].alias, "net-pf-2-proto-132-type-1");
		CHECK(n.v[0].n_loaded == 0 && !n.v[0].module[0]);
		CHECK_STR(n.v[1].alias, "net-pf-2-proto-132");
		CHECK(n.v[1].n_loaded == 3);
		CHECK_STR(n.v[1].module, "sctp");
		CHECK_STR(n.v[1].loaded[0], "libcrc32c");
		CHECK(n.v[1].t_ns == 20000000ull && n.v[1].done_ns == 60000000ull);
		CHECK(n.v[1].loader_pid == 500);
		CHECK_STR(n.v[2].alias, "net-pf-2-proto-132");
		CHECK(n.v[2].n_loaded == 0 && n.v[2].pid == 101);
		CHECK(!n.v[3].alias[0] && n.v[3].pid == 102);
		CHECK_STR(n.v[3].module, "tipc");
		CHECK(!n.v[4].alias[0] && n.v[4].pid == 0);
		CHECK_STR(n.v[4].module, "dummy");
		CHECK_STR(n.v[5].module, "vfat");
		CHECK(n.v[5].n_loaded == 2);
	}
	const char *mods[16];
	size_t k = pml_needs_modules(&n, mods, 16);

	CHECK(k == 7);
	if (k == 7) {
		CHECK_STR(mods[0], "libcrc32c");
		CHECK_STR(mods[6], "vfat");
	}
	CHECK(n.first_ns == 1000000ull);
	pml_needs_release(&n);
}

/* The real guest trace: sctp socket, vfat on loop, vxlan link (tests/fixtures/trace). */
static void test_needs_fixture(void)
{
	char path[4096];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_needs n;
	static const char *const want[][2] = {
		{"net-pf-2-proto-132-type-1", ""}, {"net-pf-2-proto-132", "sctp"},
		{"char-major-10-237", "loop"},	   {"fs-vfat", "vfat"},
		{"nls_cp437", "nls_cp437"},	   {"nls_ascii", "nls_ascii"},
		{"rtnl-link-vxlan", "vxlan"},
	};

	snprintf(path, sizeof(path), "%s/trace/guest-acceptance.bin", fx ? fx : "tests/fixtures");
	CHECK(pml_needs_from_trace(path, &n) == 0);
	CHECK(n.n == 7);
	for (size_t i = 0; i < n.n && i < 7; i++) {
		CHECK_STR(n.v[i].alias, want[i][0]);
		CHECK_STR(n.v[i].module, want[i][1]);
		if (i)
			CHECK(n.v[i].t_ns >= n.v[i - 1].t_ns);
	}
	if (n.n > 3) {
		CHECK(n.v[1].n_loaded == 4); /* libcrc32c udp_tunnel ip6_udp_tunnel sctp */
		CHECK(n.v[3].n_loaded == 2); /* fat vfat */
	}
	pml_needs_release(&n);
	CHECK(pml_needs_from_trace("/nonexistent/trace", &n) == -ENOENT);
	pml_needs_release(&n);
}

static struct pml_ds_run mkrun(struct pml_dataset *ds, const char *scen, uint32_t k)
{
	struct pml_ds_run r = {0};

	snprintf(r.id, sizeof(r.id), "%s#%04u", scen, k);
	snprintf(r.scenario, sizeof(r.scenario), "%s", scen);
	snprintf(r.family, sizeof(r.family), "%.*s", (int)(strchr(scen, '/') - scen), scen);
	r.index = k;
	r.seed = pml_dataset_run_seed(ds, scen, k);
	r.split = pml_dataset_split_of(ds, scen, k, &r.heldout);
	snprintf(r.params, sizeof(r.params), "size_mb=%u name=\"q\\x\"", k);
	snprintf(r.modules, sizeof(r.modules), "loop fat vfat");
	snprintf(r.trace, sizeof(r.trace), "traces/x.%u.trace", k);
	r.trace_crc = 0xdeadbeef;
	r.trace_bytes = 1234;
	r.events = 100 + k;
	r.n_needs = 3;
	r.guest_s = 1.5;
	return r;
}

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fwrite(text, 1, len, f);
	fclose(f);
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(1 << 20);

	*len = f && buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (buf)
		buf[*len] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* Whole families held out: of those with 3+ scenarios and at most an eighth of the list,
 * two for test and two for validation, stable, and every run of them in that split. */
static void test_heldout_families(void)
{
	const char *scen[64];
	char names[64][32];
	static const char *const fams[] = {"aa", "bb", "cc", "dd", "ee", "ff", "big", "tiny"};
	static const unsigned sizes[] = {4, 4, 4, 4, 4, 4, 20, 2};
	struct pml_dataset *ds = pml_dataset_new(tmpdir, 3), *again = pml_dataset_new(tmpdir, 3);
	size_t n = 0, held_test = 0, held_val = 0;

	CHECK(ds && again);
	if (!ds || !again)
		goto out;
	for (size_t f = 0; f < 8; f++)
		for (unsigned k = 0; k < sizes[f]; k++) {
			snprintf(names[n], sizeof(names[n]), "%s/s%u", fams[f], k);
			scen[n] = names[n];
			n++;
		}
	/* 46 scenarios: "big" (20) is more than an eighth, "tiny" (2) fewer than three */
	pml_dataset_choose_heldout(ds, scen, n);
	pml_dataset_choose_heldout_families(ds, scen, n);
	pml_dataset_choose_heldout_families(again, scen, n);
	CHECK_STR(ds->heldout_fam_test, again->heldout_fam_test);
	CHECK_STR(ds->heldout_fam_val, again->heldout_fam_val);
	CHECK(strchr(ds->heldout_fam_test, ' ') && strchr(ds->heldout_fam_val, ' '));
	CHECK(!strstr(ds->heldout_fam_test, "big") && !strstr(ds->heldout_fam_val, "big"));
	CHECK(!strstr(ds->heldout_fam_test, "tiny") && !strstr(ds->heldout_fam_val, "tiny"));
	CHECK(pml_dataset_family_heldout(ds, "big") == PML_HELD_NONE);
	CHECK(pml_dataset_family_heldout(ds, "") == PML_HELD_NONE);
	/* "a" is no family: a word of the list only as a whole word */
	CHECK(pml_dataset_family_heldout(ds, "a") == PML_HELD_NONE);
	for (size_t i = 0; i < n; i++) {
		char fam[32];
		bool held;
		enum pml_held_family hf;

		snprintf(fam, sizeof(fam), "%.*s", (int)(strchr(scen[i], '/') - scen[i]), scen[i]);
		hf = pml_dataset_family_heldout(ds, fam);
		for (uint32_t k = 0; k < 20; k++) {
			enum pml_split s = pml_dataset_split_of(ds, scen[i], k, &held);

			if (hf == PML_HELD_FAMILY_TEST)
				CHECK(s == PML_SPLIT_TEST && held);
			if (hf == PML_HELD_FAMILY_VAL)
				CHECK(s == PML_SPLIT_VAL && held);
		}
		held_test += hf == PML_HELD_FAMILY_TEST;
		held_val += hf == PML_HELD_FAMILY_VAL;
	}
	CHECK(held_test == 8 && held_val == 8);
	/* kept through a save and a read; an older manifest without the fields holds none */
	{
		struct pml_dataset *back = NULL;
		struct pml_ds_run r = mkrun(ds, scen[0], 0);

		CHECK(pml_dataset_add(ds, &r) == 0);
		CHECK(pml_dataset_save(ds) == 0);
		CHECK(pml_dataset_open(tmpdir, &back) == 0);
		if (back) {
			CHECK_STR(back->heldout_fam_test, ds->heldout_fam_test);
			CHECK_STR(back->heldout_fam_val, ds->heldout_fam_val);
		}
		pml_dataset_free(back);
		ds->heldout_fam_test[0] = ds->heldout_fam_val[0] = '\0';
		CHECK(pml_dataset_save(ds) == 0);
		back = NULL;
		CHECK(pml_dataset_open(tmpdir, &back) == 0);
		if (back)
			CHECK(!back->heldout_fam_test[0] && !back->heldout_fam_val[0]);
		pml_dataset_free(back);
	}
out:
	pml_dataset_free(ds);
	pml_dataset_free(again);
}

static void test_manifest(void)
{
	static const char *const scen[] = {
		"block/a", "block/b", "block/c", "fs/a", "fs/b", "fs/c", "fs/d", "fs/e", "misc/a",
	};
	struct pml_dataset *ds = pml_dataset_new(tmpdir, 7), *back = NULL;
	char path[4200];
	size_t len, counts[3] = {0};
	char *text;

	CHECK(ds != NULL);
	if (!ds)
		return;
	pml_dataset_choose_heldout(ds, scen, 9);
	/* one test scenario per family of 3+, one validation scenario in the family of 5 */
	CHECK(strchr(ds->heldout_test, ' ') && !strchr(strchr(ds->heldout_test, ' ') + 1, ' '));
	CHECK(ds->heldout_val[0] && !strchr(ds->heldout_val, ' '));
	CHECK(!strstr(ds->heldout_test, "misc/"));
	for (size_t i = 0; i < 9; i++) {
		for (uint32_t k = 0; k < 40; k++) {
			struct pml_ds_run r = mkrun(ds, scen[i], k);
			bool held2;

			CHECK(pml_dataset_add(ds, &r) == 0);
			counts[r.split]++;
			/* the same answer every time */
			CHECK(pml_dataset_split_of(ds, scen[i], k, &held2) == r.split &&
			      held2 == r.heldout);
			if (r.heldout && r.split == PML_SPLIT_TEST)
				CHECK(strstr(ds->heldout_test, scen[i]) != NULL);
		}
	}
	CHECK(counts[0] > counts[2] && counts[2] > 0 && counts[1] > 0);
	/* replacing by id keeps the count */
	struct pml_ds_run again = mkrun(ds, "fs/a", 3);

	again.status = 7;
	CHECK(pml_dataset_add(ds, &again) == 0);
	CHECK(ds->n_runs == 360);
	CHECK(pml_dataset_find(ds, "fs/a#0003")->status == 7);
	CHECK(pml_dataset_save(ds) == 0);
	CHECK(pml_dataset_open(tmpdir, &back) == 0);
	if (back) {
		CHECK(back->n_runs == 360);
		CHECK(back->seed == 7);
		CHECK_STR(back->heldout_test, ds->heldout_test);
		const struct pml_ds_run *a = pml_dataset_find(back, "fs/a#0003");

		CHECK(a && a->status == 7 && a->trace_crc == 0xdeadbeef && a->events == 103);
		if (a) {
			CHECK_STR(a->params, "size_mb=3 name=\"q\\x\"");
			CHECK_STR(a->family, "fs");
			CHECK(a->guest_s == 1.5);
		}
		for (size_t i = 0; i < back->n_runs; i++)
			CHECK(back->runs[i].split == ds->runs[i].split &&
			      back->runs[i].heldout == ds->runs[i].heldout);
		pml_dataset_free(back);
		back = NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, PML_DATASET_MANIFEST);
	text = read_file(path, &len);
	if (text && len > 200) {
		/* a flipped byte in a run line */
		text[150] ^= 0x01;
		write_file(path, text, len);
		CHECK(pml_dataset_open(tmpdir, &back) == -EBADMSG);
		text[150] ^= 0x01;
		/* cut short: no trailer */
		write_file(path, text, (size_t)(strrchr(text, '{') - text));
		CHECK(pml_dataset_open(tmpdir, &back) == -EBADMSG);
		/* a newer version */
		char *v = strstr(text, "\"version\":1");

		CHECK(v != NULL);
		if (v) {
			v[10] = '9';
			write_file(path, text, len);
			CHECK(pml_dataset_open(tmpdir, &back) == -EPROTONOSUPPORT);
			v[10] = '1';
		}
		/* not a dataset */
		memcpy(strstr(text, "pml-dataset"), "pml-datasex", 11);
		write_file(path, text, len);
		CHECK(pml_dataset_open(tmpdir, &back) == -EINVAL);
	}
	free(text);
	unlink(path);
	CHECK(pml_dataset_open(tmpdir, &back) == -ENOENT);
	CHECK(back == NULL);
	pml_dataset_free(ds);

	enum pml_split sp;

	CHECK(pml_split_parse("validation", &sp) == 0 && sp == PML_SPLIT_VAL);
	CHECK(pml_split_parse("testing", &sp) == -EINVAL);
}

/* --- a hostile manifest ---------------------------------------------------------------- */

/* What the library logged since log_reset(). */
static char logbuf[16384];
static size_t loglen;

__attribute__((format(printf, 3, 0))) static void log_capture(void *data,
							    enum pml_log_level level,
							    const char *fmt, va_list ap)
{
	int n;

	if (loglen + 2 >= sizeof(logbuf))
		return;
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen - 1, fmt, ap);
	if (n > 0)
		loglen += (size_t)n < sizeof(logbuf) - loglen - 2 ? (size_t)n :
			  sizeof(logbuf) - loglen - 2;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

static void log_reset(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

/* Whether the log holds every one of the NULL-terminated words; says which not. */
static bool log_has(const char *first, ...)
{
	va_list ap;
	bool all = true;

	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *)) {
		if (!strstr(logbuf, w)) {
			fprintf(stderr, "  the log lacks '%s':\n%s", w, logbuf);
			all = false;
		}
	}
	va_end(ap);
	return all;
}

#define HDR_OK "{\"magic\":\"pml-dataset\",\"version\":1,\"seed\":7,\"kernel\":\"6.1.0-56-amd64\"," \
	       "\"created\":\"2026-01-01T00:00:00Z\",\"heldout_test\":\"\",\"heldout_val\":\"\"}"

static char hostile[4200];	/* the dataset directory of these tests */
static uint32_t good_crc;	/* of its traces/a.trace, a copy of a fixture trace */
static uint64_t good_bytes;
static uint32_t good_needs;

/* A run line with pml's fields, the one named key's value replaced by raw (JSON text). */
static void run_line(char *buf, size_t size, const char *key, const char *raw)
{
	char crc[16], bytes[32], needs[16];
	const char *fields[][2] = {
		{"id", "\"fs/a#0000\""}, {"scenario", "\"fs/a\""}, {"family", "\"fs\""},
		{"index", "0"}, {"seed", "1"}, {"params", "\"size_mb=4\""}, {"state", "\"ok\""},
		{"status", "0"}, {"split", "\"train\""}, {"heldout", "false"},
		{"kernel", "\"6.1.0-56-amd64\""}, {"trace", "\"traces/a.trace\""},
		{"trace_bytes", bytes}, {"trace_crc32", crc}, {"events", "10"}, {"dropped", "0"},
		{"needs", needs}, {"modules", "\"loop\""}, {"guest_s", "1.5"}, {"boot", "1"},
	};
	size_t len = 0;

	snprintf(crc, sizeof(crc), "\"%08x\"", good_crc);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)good_bytes);
	snprintf(needs, sizeof(needs), "%u", good_needs);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s\"%s\":%s", i ? "," : "{",
					fields[i][0],
					key && !strcmp(key, fields[i][0]) ? raw : fields[i][1]);
	if (len < size)
		snprintf(buf + len, size - len, "}");
}

/* Write the manifest: header, lines, and a trailer as pml_dataset_save() writes it (the
 * CRC32 of every byte before it, the count of lines unless runs_raw says otherwise), so a
 * refusal comes from what a test put in, never from the checksum. */
static void write_manifest(const char *header, const char *const *lines, size_t n,
			   const char *runs_raw)
{
	char path[4300], *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	FILE *f;

	fprintf(m, "%s\n", header);
	for (size_t i = 0; i < n; i++)
		fprintf(m, "%s\n", lines[i]);
	fflush(m);
	fprintf(m, "{\"end\":\"pml-dataset\",\"runs\":");
	if (runs_raw)
		fprintf(m, "%s", runs_raw);
	else
		fprintf(m, "%zu", n);
	fprintf(m, ",\"crc32\":\"%08lx\"}\n", crc32(crc32(0, Z_NULL, 0), (const Bytef *)buf,
						   (uInt)(strstr(buf, "{\"end\"") - buf)));
	fclose(m);
	snprintf(path, sizeof(path), "%s/%s", hostile, PML_DATASET_MANIFEST);
	f = fopen(path, "we");
	CHECK(f != NULL);
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
	free(buf);
}

/* Open the manifest made of one run line with key set to raw: the result. */
static int open_with(const char *key, const char *raw, struct pml_dataset **ret)
{
	static char line[80000];
	const char *lines[] = {line};

	run_line(line, sizeof(line), key, raw);
	write_manifest(HDR_OK, lines, 1, NULL);
	log_reset();
	*ret = NULL;
	return pml_dataset_open(hostile, ret);
}

static void make_hostile_dir(void)
{
	char src[4300], path[4300];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_needs n;
	size_t len;
	char *text;

	snprintf(hostile, sizeof(hostile), "%s/hostile", tmpdir);
	CHECK(mkdir(hostile, 0755) == 0);
	snprintf(path, sizeof(path), "%s/traces", hostile);
	CHECK(mkdir(path, 0755) == 0);
	/* a trace inside, and a file outside the dataset a forged entry might reach */
	snprintf(src, sizeof(src), "%s/trace/guest-acceptance.bin", fx ? fx : "tests/fixtures");
	text = read_file(src, &len);
	snprintf(path, sizeof(path), "%s/traces/a.trace", hostile);
	write_file(path, text, len);
	snprintf(path, sizeof(path), "%s/x.trace", tmpdir);
	write_file(path, text, len);
	free(text);
	snprintf(path, sizeof(path), "%s/traces/a.trace", hostile);
	CHECK(pml_file_crc32(path, &good_crc, &good_bytes) == 0);
	CHECK(pml_needs_from_trace(path, &n) == 0);
	good_needs = (uint32_t)n.n;
	pml_needs_release(&n);
	/* links: out of the dataset, absolute, a directory pointing out of it */
	snprintf(path, sizeof(path), "%s/traces/out.trace", hostile);
	CHECK(symlink("../../x.trace", path) == 0);
	snprintf(path, sizeof(path), "%s/traces/passwd.trace", hostile);
	CHECK(symlink("/etc/passwd", path) == 0);
	snprintf(path, sizeof(path), "%s/up", hostile);
	CHECK(symlink("..", path) == 0);
	snprintf(path, sizeof(path), "%s/traces/fifo.trace", hostile);
	CHECK(mkfifo(path, 0644) == 0);
}

static void remove_hostile_dir(void)
{
	static const char *const names[] = {
		"traces/a.trace", "traces/out.trace", "traces/passwd.trace", "traces/fifo.trace",
		"up", PML_DATASET_MANIFEST, "traces",
	};
	char path[4400];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", hostile, names[i]);
		if (unlink(path) < 0)
			CHECK(rmdir(path) == 0);
	}
	CHECK(rmdir(hostile) == 0);
	snprintf(path, sizeof(path), "%s/x.trace", tmpdir);
	unlink(path);
}

/* The manifest as made, and each path a forged one may hold in place of its trace. */
static void test_hostile_paths(void)
{
	static const char *const escapes[] = {
		"../x.trace", "/etc/passwd", "traces/../../x.trace", "..", "/", "./traces/a.trace",
		"traces//a.trace", "traces/a.trace/", "traces/a\\n.trace",
	};
	struct pml_dataset *ds = NULL;
	char path[4400], want[64];
	struct pml_needs n;
	uint32_t crc;
	uint64_t size;
	int fd;

	/* as made: it reads, and so does its trace, by descriptor */
	CHECK(open_with(NULL, NULL, &ds) == 0);
	CHECK(loglen == 0);
	if (ds) {
		const struct pml_ds_run *r = &ds->runs[0];

		fd = pml_dataset_trace_open(ds, r);
		CHECK(fd >= 0);
		CHECK(fd >= 0 && pml_fd_crc32(fd, &crc, &size) == 0 && crc == r->trace_crc &&
		      size == r->trace_bytes);
		CHECK(fd >= 0 && lseek(fd, 0, SEEK_SET) == 0);
		CHECK(fd >= 0 && pml_needs_from_fd(fd, "a.trace", &n) == 0 &&
		      n.n == r->n_needs && n.n > 0);
		pml_needs_release(&n);
		CHECK(pml_dataset_trace_path(ds, r, path, sizeof(path)) == 0);
		snprintf(want, sizeof(want), "/traces/a.trace");
		CHECK(strstr(path, want) != NULL);
		/* pack by descriptor: the same records as by path */
		fd = pml_dataset_trace_open(ds, r);
		snprintf(path, sizeof(path), "%s/packed.trace", tmpdir);
		struct pml_pack_stats st;

		CHECK(pml_trace_pack_fd(fd, "a.trace", path, 0, &st) == 0 &&
		      st.records_out < st.records_in);
		unlink(path);
		pml_dataset_free(ds);
	}

	/* by its text: refused as the manifest is read, naming the file, line, run, value */
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		char raw[128];

		snprintf(raw, sizeof(raw), "\"%s\"", escapes[i]);
		CHECK(open_with("trace", raw, &ds) == -EBADMSG);
		CHECK(ds == NULL);
		snprintf(want, sizeof(want), "'%s'", escapes[i]);
		if (strchr(escapes[i], '\\'))
			snprintf(want, sizeof(want), "'traces/a?.trace'");
		CHECK(log_has("hostile/manifest.jsonl:2:", "run fs/a#0000", "\"trace\"", want,
			      "refused: not a relative path inside the dataset directory", NULL));
		CHECK(!strstr(logbuf, "checksum"));
	}
	/* the scenario names a script under workloads/ */
	CHECK(open_with("scenario", "\"../../../etc/passwd\"", &ds) == -EBADMSG);
	CHECK(log_has("manifest.jsonl:2:", "\"scenario\"", "'../../../etc/passwd'", NULL));
	CHECK(open_with("scenario", "\"/etc/passwd\"", &ds) == -EBADMSG);

	/* by the disk: the entry is fine, what is there is a link or not a file */
	static const struct {
		const char *trace;
		int err;
	} disk[] = {
		{"traces/out.trace", -ELOOP},	 /* -> ../../x.trace, outside the dataset */
		{"traces/passwd.trace", -ELOOP}, /* -> /etc/passwd */
		{"up/x.trace", -ELOOP},		 /* a directory link out of it */
		{"up/hostile/traces/a.trace", -ELOOP}, /* ... even back into it */
		{"traces/fifo.trace", -EBADFD},	 /* would block a reader */
		{"traces", -EISDIR},
	};
	for (size_t i = 0; i < sizeof(disk) / sizeof(disk[0]); i++) {
		char raw[128];

		snprintf(raw, sizeof(raw), "\"%s\"", disk[i].trace);
		CHECK(open_with("trace", raw, &ds) == 0);
		if (!ds)
			continue;
		log_reset();
		fd = pml_dataset_trace_open(ds, &ds->runs[0]);
		CHECK(fd == disk[i].err);
		if (fd >= 0)
			close(fd);
		snprintf(want, sizeof(want), "trace '%s'", disk[i].trace);
		CHECK(log_has("hostile/manifest.jsonl", "run fs/a#0000", want,
			      pml_beneath_strerror(disk[i].err), NULL));
		/* a reader by path is refused the same, and training on it stops */
		CHECK(pml_dataset_trace_path(ds, &ds->runs[0], path, sizeof(path)) == disk[i].err);
		pml_dataset_free(ds);
		struct pml_corpus_opts co = {0};
		struct pml_corpus *corpus = NULL;

		CHECK(pml_corpus_from_dataset(hostile, NULL, &co, &corpus) == disk[i].err);
		CHECK(corpus == NULL);
	}
	/* a missing trace is the reader's to report, not a refusal */
	CHECK(open_with("trace", "\"traces/none.trace\"", &ds) == 0);
	if (ds) {
		log_reset();
		CHECK(pml_dataset_trace_open(ds, &ds->runs[0]) == -ENOENT);
		CHECK(pml_dataset_trace_path(ds, &ds->runs[0], path, sizeof(path)) == 0);
		CHECK(loglen == 0);
		pml_dataset_free(ds);
	}
}

/* Numbers out of their field's range, or not integers: each refused, naming the file,
 * line, run, field and value; the edges of each range read back exactly. */
static void test_hostile_numbers(void)
{
	static const struct {
		const char *key, *raw;
	} bad[] = {
		{"index", "1e300"}, {"index", "-1"}, {"index", "12345678901234567890123"},
		{"index", "4294967296"}, {"index", "1.5"}, {"index", "1e3"},
		{"seed", "1e300"}, {"seed", "-1"}, {"needs", "-1e300"}, {"boot", "-1"},
		{"status", "1e300"}, {"status", "2147483648"}, {"status", "-2147483649"},
		{"trace_bytes", "1e300"}, {"trace_bytes", "-1"},
		{"trace_bytes", "12345678901234567890123"}, {"trace_bytes", "9223372036854775808"},
		{"events", "-1"}, {"events", "1e19"}, {"dropped", "18446744073709551616"},
		{"guest_s", "1e400"},
	};
	/* not JSON numbers: refused by the field check, or by a stricter parser */
	static const struct {
		const char *key, *raw;
	} odd[] = {
		{"index", "nan"}, {"trace_bytes", "inf"}, {"guest_s", "nan"}, {"seed", "-nan"},
		{"events", "0x10"}, {"needs", "+1"},
	};
	static const struct {
		const char *key, *raw;
	} wrong[] = {
		{"index", "\"3\""}, {"trace_crc32", "\"xyz\""}, {"trace_crc32", "\"123456789\""},
		{"trace_crc32", "\"\""}, {"trace_crc32", "7"}, {"trace", "5"},
	};
	struct pml_dataset *ds = NULL;
	char line[8192], big[70000], want[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(open_with(bad[i].key, bad[i].raw, &ds) == -EBADMSG);
		snprintf(want, sizeof(want), "\"%s\": %s is not", bad[i].key, bad[i].raw);
		CHECK(log_has("hostile/manifest.jsonl:2:", "run fs/a#0000", want, NULL));
		CHECK(!strstr(logbuf, "checksum"));
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		CHECK(open_with(odd[i].key, odd[i].raw, &ds) == -EBADMSG);
		CHECK(log_has("hostile/manifest.jsonl:2:", NULL));
	}
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		CHECK(open_with(wrong[i].key, wrong[i].raw, &ds) == -EBADMSG);
		snprintf(want, sizeof(want), "\"%s\"", wrong[i].key);
		CHECK(log_has("hostile/manifest.jsonl:2:", "run fs/a#0000", want, NULL));
	}

	/* the edges, exactly: past a double's 53 bits too */
	CHECK(open_with("index", "4294967295", &ds) == 0);
	CHECK(ds && ds->runs[0].index == 4294967295u);
	pml_dataset_free(ds);
	CHECK(open_with("trace_bytes", "9223372036854775807", &ds) == 0);
	CHECK(ds && ds->runs[0].trace_bytes == 9223372036854775807ull);
	pml_dataset_free(ds);
	CHECK(open_with("events", "9007199254740993", &ds) == 0);
	CHECK(ds && ds->runs[0].events == 9007199254740993ull);
	pml_dataset_free(ds);
	CHECK(open_with("status", "-2147483648", &ds) == 0);
	CHECK(ds && ds->runs[0].status == -2147483647 - 1);
	pml_dataset_free(ds);
	CHECK(open_with("guest_s", "null", &ds) == 0); /* what the writer makes of a NaN */
	CHECK(ds && ds->runs[0].guest_s == 0);
	pml_dataset_free(ds);
	CHECK(open_with("guest_s", "-0.25", &ds) == 0);
	CHECK(ds && ds->runs[0].guest_s == -0.25);
	pml_dataset_free(ds);

	/* a string longer than its field is refused, not cut */
	memset(big, 'k', 200);
	big[0] = big[199] = '"';
	big[200] = '\0';
	CHECK(open_with("kernel", big, &ds) == -EBADMSG);
	CHECK(log_has("manifest.jsonl:2:", "\"kernel\"", "198 bytes", NULL));
	/* so is a line longer than any pml writes (it would not fit zlib's length either) */
	memset(big, 'p', sizeof(big) - 1);
	big[0] = big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	CHECK(open_with("params", big, &ds) == -EBADMSG);
	CHECK(log_has("manifest.jsonl:2:", "bytes (a pml dataset's are at most", NULL));

	/* the header */
	const char *lines[] = {line};

	run_line(line, sizeof(line), NULL, NULL);
	static const struct {
		const char *hdr, *word;
		int err;
	} hdrs[] = {
		{"{\"magic\":\"pml-dataset\",\"version\":1,\"seed\":1e300}", "\"seed\": 1e300", -EINVAL},
		{"{\"magic\":\"pml-dataset\",\"version\":1,\"seed\":-1}", "\"seed\": -1", -EINVAL},
		{"{\"magic\":\"pml-dataset\",\"version\":1e300}", "version 1e300 is newer",
		 -EPROTONOSUPPORT},
		{"{\"magic\":\"pml-dataset\",\"version\":12345678901234567890123}",
		 "version 12345678901234567890123 is newer", -EPROTONOSUPPORT},
		{"{\"magic\":\"pml-dataset\",\"version\":-1}", "\"version\": -1", -EINVAL},
		{"{\"magic\":\"pml-dataset\",\"version\":0}", "\"version\": 0", -EINVAL},
		{"{\"magic\":\"pml-dataset\"}", "no version", -EINVAL},
	};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		write_manifest(hdrs[i].hdr, lines, 1, NULL);
		log_reset();
		CHECK(pml_dataset_open(hostile, &ds) == hdrs[i].err);
		CHECK(log_has("hostile/manifest.jsonl", hdrs[i].word, NULL));
	}
	/* the trailer's count */
	static const char *const counts[] = {"-1", "1e300", "18446744073709551617", "1.0", "2",
					     "null", "\"1\""};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		write_manifest(HDR_OK, lines, 1, counts[i]);
		log_reset();
		CHECK(pml_dataset_open(hostile, &ds) == -EBADMSG);
		CHECK(log_has("hostile/manifest.jsonl:3:",
			      counts[i][0] == 'n' ? "counts no runs" :
			      counts[i][0] == '"' ? "\"runs\": not a number" : counts[i], NULL));
	}
	write_manifest(HDR_OK, lines, 1, NULL);
	CHECK(pml_dataset_open(hostile, &ds) == 0);
	pml_dataset_free(ds);
}

/* Saving writes a new temporary file: one planted as a link is replaced, not written
 * through. */
static void test_save_through_link(void)
{
	char link[4400], victim[4300], *text;
	struct pml_dataset *ds = pml_dataset_new(hostile, 1);
	size_t len = 0;

	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	write_file(victim, "keep\n", 5);
	snprintf(link, sizeof(link), "%s/%s.tmp", hostile, PML_DATASET_MANIFEST);
	CHECK(symlink(victim, link) == 0);
	CHECK(ds && pml_dataset_save(ds) == 0);
	text = read_file(victim, &len);
	CHECK(text && !strcmp(text, "keep\n"));
	free(text);
	CHECK(access(link, F_OK) < 0);
	pml_dataset_free(ds);
	ds = NULL;
	CHECK(pml_dataset_open(hostile, &ds) == 0 && ds && ds->n_runs == 0);
	pml_dataset_free(ds);
	unlink(victim);
}

static void test_hostile(void)
{
	pml_set_log_fn(log_capture, NULL);
	make_hostile_dir();
	test_hostile_paths();
	pml_safepath__test_no_openat2(true); /* the same on a kernel without openat2 */
	test_hostile_paths();
	pml_safepath__test_no_openat2(false);
	test_hostile_numbers();
	test_save_through_link();
	remove_hostile_dir();
	pml_set_log_fn(NULL, NULL);
}

/* The committed sample dataset (8 runs collected in the guest) reads and verifies. */
static void test_fixture_dataset(void)
{
	char dir[4096], path[4300];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_dataset *ds = NULL;

	snprintf(dir, sizeof(dir), "%s/dataset", fx ? fx : "tests/fixtures");
	CHECK(pml_dataset_open(dir, &ds) == 0);
	if (!ds)
		return;
	CHECK(ds->n_runs == 8);
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *r = &ds->runs[i];
		uint32_t crc;
		uint64_t size;
		struct pml_needs n;

		CHECK(r->state == PML_RUN_OK);
		CHECK(pml_dataset_trace_path(ds, r, path, sizeof(path)) == 0);
		CHECK(pml_file_crc32(path, &crc, &size) == 0 && crc == r->trace_crc &&
		      size == r->trace_bytes);
		CHECK(pml_needs_from_trace(path, &n) == 0 && n.n == r->n_needs);
		pml_needs_release(&n);
	}
	pml_dataset_free(ds);
}

/* Every token the features make of a trace, one string ("tok tok|tok|..."), and its
 * needs. NULL on a read error. */
static char *trace_tokens(const char *path, struct pml_needs *needs)
{
	struct pml_trace_reader *r = NULL;
	struct pml_features *f = pml_features_new();
	struct pml_feat_tokens t;
	const struct pml_tev_hdr *e;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc = pml_trace_reader_open(path, &r);

	pml_needs_init(needs);
	while (rc >= 0 && (rc = pml_trace_reader_next(r, &e)) > 0) {
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n; i++)
			fprintf(m, "%s ", t.tok[i]);
		if (t.n)
			fputc('|', m);
		pml_needs_add(needs, e);
	}
	fclose(m);
	pml_trace_reader_free(r);
	pml_features_free(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A packed trace gives the model the same tokens and the same needs, in fewer records. */
static void test_pack(void)
{
	char dir[4096], in[4300], out[4300];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_dataset *ds = NULL;

	snprintf(dir, sizeof(dir), "%s/dataset", fx ? fx : "tests/fixtures");
	CHECK(pml_dataset_open(dir, &ds) == 0);
	if (!ds)
		return;
	snprintf(out, sizeof(out), "%s/packed.trace", tmpdir);
	for (size_t i = 0; i < ds->n_runs; i++) {
		struct pml_pack_stats st;
		struct pml_needs n1, n2;
		char *t1, *t2;

		pml_dataset_trace_path(ds, &ds->runs[i], in, sizeof(in));
		CHECK(pml_trace_pack(in, out, &st) == 0);
		CHECK(st.records_out < st.records_in && st.plain_out < st.plain_in);
		CHECK(st.records_in - st.records_out == st.plain_in - st.plain_out);
		t1 = trace_tokens(in, &n1);
		t2 = trace_tokens(out, &n2);
		CHECK(t1 && t2 && strlen(t1) > 1000);
		CHECK(t1 && t2 && !strcmp(t1, t2));
		CHECK(n1.n == n2.n && n1.n == ds->runs[i].n_needs);
		if (i == 0) { /* stored blocks: the same records, more bytes */
			char *t3;
			struct pml_needs n3;
			uint32_t crc;
			uint64_t packed_size, stored_size;

			pml_file_crc32(out, &crc, &packed_size);
			CHECK(pml_trace_pack_flags(in, out, PML_TRACE_W_STORED, NULL) == 0);
			pml_file_crc32(out, &crc, &stored_size);
			CHECK(stored_size > packed_size);
			t3 = trace_tokens(out, &n3);
			CHECK(t1 && t3 && !strcmp(t1, t3));
			free(t3);
			pml_needs_release(&n3);
		}
		for (size_t k = 0; k < n1.n && k < n2.n; k++)
			CHECK(!memcmp(&n1.v[k], &n2.v[k], sizeof(n1.v[k])));
		free(t1);
		free(t2);
		pml_needs_release(&n1);
		pml_needs_release(&n2);
	}
	/* a damaged input is refused and nothing is written */
	unlink(out);
	snprintf(in, sizeof(in), "%s/cut.trace", tmpdir);
	pml_dataset_trace_path(ds, &ds->runs[0], dir, sizeof(dir));
	{
		size_t len;
		char *text = read_file(dir, &len);

		write_file(in, text, len / 2);
		free(text);
	}
	CHECK(pml_trace_pack(in, out, NULL) < 0);
	CHECK(access(out, F_OK) < 0);
	unlink(in);
	pml_dataset_free(ds);
}

static void test_scenarios(void)
{
	char dir[4096];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_scenario_list l = {0};
	size_t fams = 0, vfat = 0;

	snprintf(dir, sizeof(dir), "%s/../../workloads", fx ? fx : "tests/fixtures");
	CHECK(pml_scenarios_load(dir, &l) == 0);
	CHECK(l.n >= 40);
	for (size_t i = 0; i < l.n; i++) {
		if (!i || strcmp(l.v[i].family, l.v[i - 1].family))
			fams++;
		if (i)
			CHECK(strcmp(l.v[i - 1].name, l.v[i].name) < 0);
		if (!strcmp(l.v[i].name, "filesystems/vfat-image")) {
			vfat++;
			CHECK_STR(l.v[i].family, "filesystems");
			CHECK(strstr(l.v[i].expect, "vfat") != NULL);
		}
		if (!strcmp(l.v[i].name, "filesystems/udf-disc"))
			CHECK_STR(l.v[i].packages, "udftools");
	}
	CHECK(fams >= 8 && vfat == 1);
	pml_scenarios_release(&l);
	/* a header's timeout out of range keeps the default (atoi overflowed on it) */
	static const char *const timeouts[][2] = {
		{"99999999999999999999999", "240"}, {"-5", "240"}, {"1e300", "240"},
		{"86401", "240"}, {"0", "240"}, {"12x", "240"}, {"90", "90"}, {"86400", "86400"},
	};
	char wdir[4200], path[4300];

	snprintf(wdir, sizeof(wdir), "%s/workloads", tmpdir);
	snprintf(path, sizeof(path), "%s/fam", wdir);
	CHECK(mkdir(wdir, 0755) == 0 && mkdir(path, 0755) == 0);
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		char text[128];

		snprintf(path, sizeof(path), "%s/fam/s.sh", wdir);
		snprintf(text, sizeof(text), "#!/bin/sh\n# pml-timeout: %s\n", timeouts[i][0]);
		write_file(path, text, strlen(text));
		CHECK(pml_scenarios_load(wdir, &l) == 0 && l.n == 1);
		if (l.n == 1)
			CHECK(l.v[0].timeout_s == (unsigned)atoi(timeouts[i][1]));
		pml_scenarios_release(&l);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/fam", wdir);
	rmdir(path);
	rmdir(wdir);
	CHECK(pml_scenarios_load("/nonexistent", &l) == -ENOENT);
	CHECK(pml_scenario_match("netdev/vxlan-overlay", "block/*,netdev/*"));
	CHECK(pml_scenario_match("netdev/vxlan-overlay", "*vxlan*"));
	CHECK(pml_scenario_match("netdev/vxlan-overlay", "netdev/vxlan-overlay.sh"));
	CHECK(!pml_scenario_match("netdev/vxlan-overlay", "block/*,filesystems/*"));
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_needs_rules();
	test_needs_fixture();
	test_manifest();
	test_heldout_families();
	test_fixture_dataset();
	test_hostile();
	test_pack();
	test_scenarios();
	rmdir(tmpdir);
	return unit_done("dataset");
}
