/* pml dataset merge (dataset/merge.h) over small datasets built here: the fixture dataset's
 * eight runs split into its three shards as collect --shard would write them, merged back
 * (in any order the same manifest, every trace checked, logs along, a shard missing
 * reported, identical runs kept once, a lost run giving way); and the refusals, each
 * leaving no OUT and no temporary directory: a run in two inputs with different lines, a
 * damaged, missing or linked trace, two seeds, two kernels, packed with unpacked, the
 * shard header field out of range, and run lines mutated at random (a line the reader
 * refuses is named by its file and line). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset/dataset.h"
#include "dataset/merge.h"
#include "dataset/shard.h"
#include "dataset/verify.h"
#include "util/log.h"
#include "unit.h"

static char tmpdir[] = "/tmp/pml-test-merge-XXXXXX";
static char fixture[4096]; /* tests/fixtures/dataset */

/* --- what the library logged ------------------------------------------------------- */

static char logbuf[32768];
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

/* --- files ---------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
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

static void spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	CHECK(f != NULL);
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *text = slurp(from, &len);

	spit(to, text, len);
	free(text);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Whether tmpdir holds a merge's temporary directory (none may be left behind). */
static bool temp_left(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d)))
		found |= strstr(de->d_name, ".merge-") != NULL;
	if (d)
		closedir(d);
	return found;
}

/* --- shard datasets from the fixture ------------------------------------------------- */

/* Write DIR (under tmpdir) as shard i of 3 of the fixture (i 0: all of it, no shard),
 * with seed as given: its runs, their traces, a boot console log whose text is its name.
 * Returns the dataset as written (the caller frees it). */
static struct pml_dataset *make_shard(const char *name, uint32_t i, uint32_t seed)
{
	struct pml_dataset *fx = NULL, *ds;
	char dir[4200], path[4400], from[4400];

	CHECK(pml_dataset_open(fixture, &fx) == 0);
	if (!fx)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	ds = pml_dataset_new(dir, seed);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/traces", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/logs", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/logs/boot-0001.console", dir);
	spit(path, name, strlen(name));
	snprintf(ds->kernel, sizeof(ds->kernel), "%s", fx->kernel);
	snprintf(ds->created, sizeof(ds->created), "2026-12-0%uT00:00:00Z", i + 1);
	snprintf(ds->heldout_test, sizeof(ds->heldout_test), "%s", fx->heldout_test);
	snprintf(ds->heldout_val, sizeof(ds->heldout_val), "%s", fx->heldout_val);
	if (i)
		snprintf(ds->shard, sizeof(ds->shard), "%u/3", i);
	for (size_t k = 0; k < fx->n_runs; k++) {
		const struct pml_ds_run *r = &fx->runs[k];

		if (i && !pml_shard_has(&(struct pml_shard){i, 3}, r->id))
			continue;
		snprintf(from, sizeof(from), "%s/%s", fixture, r->trace);
		snprintf(path, sizeof(path), "%s/%s", dir, r->trace);
		copy_file(from, path);
		CHECK(pml_dataset_add(ds, r) == 0);
	}
	CHECK(pml_dataset_save(ds) == 0);
	pml_dataset_free(fx);
	return ds;
}

static unsigned merge_flags; /* for the next merge() */

static int merge(const char *out, struct pml_merge_stats *st, const char *first, ...)
{
	const char *dirs[8];
	char paths[8][4200], o[4200];
	size_t n = 0;
	va_list ap;

	va_start(ap, first);
	for (const char *d = first; d && n < 8; d = va_arg(ap, const char *)) {
		snprintf(paths[n], sizeof(paths[n]), "%s/%s", tmpdir, d);
		dirs[n] = paths[n];
		n++;
	}
	va_end(ap);
	snprintf(o, sizeof(o), "%s/%s", tmpdir, out);
	log_reset();
	n = (size_t)pml_dataset_merge(dirs, n, o, merge_flags, NULL, NULL, st);
	merge_flags = 0;
	return (int)n;
}

static size_t progress_calls;

static void count_progress(void *data, size_t done, size_t total)
{
	progress_calls++;
	CHECK(done <= total);
}

/* Whether out (under tmpdir) does not exist and nothing was left half-made. */
static bool nothing_written(const char *out)
{
	char o[4200];

	snprintf(o, sizeof(o), "%s/%s", tmpdir, out);
	return !exists(o) && !temp_left();
}

/* --- the happy path ------------------------------------------------------------------ */

static void test_merge_shards(void)
{
	struct pml_dataset *s1 = make_shard("s1", 1, 1), *s2 = make_shard("s2", 2, 1),
			   *s3 = make_shard("s3", 3, 1), *fx = NULL, *out = NULL;
	struct pml_merge_stats st;
	char path[4400], path2[4400];
	size_t len, len2;

	CHECK(s1 && s2 && s3);
	if (!s1 || !s2 || !s3)
		goto done;
	/* the fixture's runs fall in all three shards */
	CHECK(s1->n_runs == 3 && s2->n_runs == 1 && s3->n_runs == 4);
	CHECK(pml_dataset_open(fixture, &fx) == 0);
	CHECK(merge("all", &st, "s1", "s2", "s3", NULL) == 0);
	CHECK(st.inputs == 3 && st.runs == 8 && st.ok == 8 && st.traces == 8);
	CHECK(st.duplicates == 0 && st.superseded == 0 && st.seed == 1);
	CHECK(st.shard_count == 3 && st.shards_missing == 0);
	CHECK_STR(st.kernel, fx ? fx->kernel : "");
	/* the three boot consoles: one under its name, the others beside it */
	CHECK(st.logs == 3);
	snprintf(path, sizeof(path), "%s/all/logs/boot-0001.console~3", tmpdir);
	CHECK(exists(path));
	snprintf(path, sizeof(path), "%s/all", tmpdir);
	CHECK(pml_dataset_open(path, &out) == 0);
	CHECK(!temp_left());
	if (out && fx) {
		char why[512];

		CHECK(out->n_runs == 8 && out->seed == 1 && !out->shard[0]);
		CHECK_STR(out->created, "2026-12-02T00:00:00Z"); /* the earliest input's */
		CHECK_STR(out->heldout_test, fx->heldout_test);
		for (size_t i = 0; i < out->n_runs; i++) {
			const struct pml_ds_run *a = &out->runs[i], *b = pml_dataset_find(fx, a->id);

			CHECK(b && b->trace_crc == a->trace_crc && b->n_needs == a->n_needs &&
			      b->split == a->split && b->seed == a->seed && !strcmp(b->params,
										a->params));
			CHECK(pml_dataset_check_run(out, a, -1, why, sizeof(why)) == 0);
			/* by scenario and index */
			if (i)
				CHECK(strcmp(out->runs[i - 1].scenario, a->scenario) < 0 ||
				      (!strcmp(out->runs[i - 1].scenario, a->scenario) &&
				       out->runs[i - 1].index < a->index));
		}
	}
	pml_dataset_free(out);
	/* in another order: the same manifest, byte for byte */
	CHECK(merge("all2", &st, "s3", "s1", "s2", NULL) == 0);
	snprintf(path, sizeof(path), "%s/all/%s", tmpdir, PML_DATASET_MANIFEST);
	snprintf(path2, sizeof(path2), "%s/all2/%s", tmpdir, PML_DATASET_MANIFEST);
	char *a = slurp(path, &len), *b = slurp(path2, &len2);

	CHECK(len > 0 && len == len2 && !memcmp(a, b, len));
	free(a);
	free(b);
	/* OUT exists: refused, untouched */
	CHECK(merge("all", &st, "s1", NULL) == -EEXIST);
	CHECK(log_has("exists", NULL));
	/* a shard not given is reported (OUT given as "part/" is part) */
	CHECK(merge("part/", &st, "s1", "s3", NULL) == 0);
	snprintf(path, sizeof(path), "%s/part/%s", tmpdir, PML_DATASET_MANIFEST);
	CHECK(exists(path));
	CHECK(st.runs == 7 && st.shard_count == 3 && st.shards_missing == 1);
	CHECK_STR(st.missing, "2/3");
	/* a shard given twice: its runs kept once, its log once */
	progress_calls = 0;
	{
		char o[4200], d1[4200], d2[4200];
		const char *dirs[] = {d1, d2};

		snprintf(o, sizeof(o), "%s/twice", tmpdir);
		snprintf(d1, sizeof(d1), "%s/s3", tmpdir);
		snprintf(d2, sizeof(d2), "%s/s3", tmpdir);
		CHECK(pml_dataset_merge(dirs, 2, o, 0, count_progress, NULL, &st) == 0);
	}
	CHECK(progress_calls == 4);
	CHECK(st.runs == 4 && st.duplicates == 4 && st.traces == 4 && st.logs == 1);
	/* a merged dataset merges again, with the shard it lacked */
	CHECK(merge("again", &st, "part", "s2", NULL) == 0);
	CHECK(st.runs == 8 && st.shard_count == 0);
	/* shards of another count: merged, but whether it is whole cannot be told */
	{
		struct pml_dataset *o = make_shard("other-n", 2, 1);

		if (o) {
			snprintf(o->shard, sizeof(o->shard), "2/4");
			CHECK(pml_dataset_save(o) == 0);
		}
		CHECK(merge("other-out", &st, "s1", "other-n", NULL) == 0);
		CHECK(st.runs == 4 && st.shard_count == 0);
		CHECK(log_has("shards of different counts", NULL));
		pml_dataset_free(o);
	}
done:
	pml_dataset_free(s1);
	pml_dataset_free(s2);
	pml_dataset_free(s3);
	pml_dataset_free(fx);
}

/* A run lost in one input and recorded in another is the recorded one. */
static void test_lost_gives_way(void)
{
	struct pml_dataset *s = make_shard("lost", 2, 1), *out = NULL;
	struct pml_merge_stats st;
	char path[4400];

	if (!s)
		return;
	CHECK(s->n_runs == 1);
	if (s->n_runs == 1) {
		struct pml_ds_run r = s->runs[0];

		r.state = PML_RUN_LOST;
		r.status = -1;
		r.trace[0] = '\0';
		r.trace_bytes = 0;
		r.trace_crc = 0;
		r.n_needs = 0;
		CHECK(pml_dataset_add(s, &r) == 0);
		CHECK(pml_dataset_save(s) == 0);
	}
	CHECK(merge("lost-out", &st, "lost", "s2", NULL) == 0);
	CHECK(st.runs == 1 && st.ok == 1 && st.lost == 0 && st.superseded == 1);
	snprintf(path, sizeof(path), "%s/lost-out", tmpdir);
	CHECK(pml_dataset_open(path, &out) == 0);
	CHECK(out && out->n_runs == 1 && out->runs[0].state == PML_RUN_OK);
	pml_dataset_free(out);
	pml_dataset_free(s);
}

/* --- refusals -------------------------------------------------------------------------- */

/* The same run collected twice: refused, naming the run, both manifests and the field. */
static void test_conflict(void)
{
	struct pml_dataset *s = make_shard("conflict", 2, 1);
	struct pml_merge_stats st;

	if (!s)
		return;
	if (s->n_runs == 1) {
		snprintf(s->runs[0].params, sizeof(s->runs[0].params), "noise=2");
		CHECK(pml_dataset_save(s) == 0);
		CHECK(merge("c-out", &st, "s1", "s2", "conflict", NULL) == -EBADMSG);
		CHECK(log_has("run protocols/sctp-echo#0001", "/s2/manifest.jsonl",
			      "/conflict/manifest.jsonl", "\"params\"", NULL));
		CHECK(nothing_written("c-out"));
	}
	pml_dataset_free(s);
}

/* A trace changed after it was collected, one missing, one replaced by a link. */
static void test_damaged_trace(void)
{
	struct pml_dataset *s = make_shard("damaged", 3, 1);
	struct pml_merge_stats st;
	char path[4400], target[4400];
	size_t len;
	char *text;

	if (!s || !s->n_runs)
		goto done;
	snprintf(path, sizeof(path), "%s/damaged/%s", tmpdir, s->runs[1].trace);
	text = slurp(path, &len);
	CHECK(len > 200);
	text[len / 2] ^= 0x20;
	spit(path, text, len);
	CHECK(merge("d-out", &st, "s1", "damaged", NULL) == -EBADMSG);
	CHECK(log_has(s->runs[1].id, s->runs[1].trace, "CRC32", "the manifest says", NULL));
	CHECK(nothing_written("d-out"));
	/* the same length cut: the size differs */
	text[len / 2] ^= 0x20;
	spit(path, text, len - 1);
	CHECK(merge("d-out", &st, "damaged", NULL) == -EBADMSG);
	CHECK(log_has(s->runs[1].id, "bytes", NULL));
	CHECK(nothing_written("d-out"));
	free(text);
	/* missing */
	unlink(path);
	CHECK(merge("d-out", &st, "damaged", NULL) == -ENOENT);
	CHECK(log_has(s->runs[1].id, s->runs[1].trace, NULL));
	CHECK(nothing_written("d-out"));
	/* a link to the fixture's own copy (the same bytes): not followed all the same */
	snprintf(target, sizeof(target), "%s/%s", fixture, s->runs[1].trace);
	CHECK(symlink(target, path) == 0);
	CHECK(merge("d-out", &st, "damaged", NULL) == -ELOOP);
	CHECK(log_has(s->runs[1].id, "link", NULL));
	CHECK(nothing_written("d-out"));
done:
	pml_dataset_free(s);
}

/* Inputs that are not of one collection. */
static void test_not_one_collection(void)
{
	struct pml_dataset *s = make_shard("seed2", 2, 2);
	struct pml_merge_stats st;

	CHECK(merge("x-out", &st, "s1", "seed2", NULL) == -EXDEV);
	CHECK(log_has("/seed2/manifest.jsonl: seed 2", "/s1/manifest.jsonl: seed 1", NULL));
	CHECK(nothing_written("x-out"));
	pml_dataset_free(s);
	/* another kernel, in a run line */
	s = make_shard("kernel", 2, 1);
	if (s && s->n_runs == 1) {
		snprintf(s->runs[0].kernel, sizeof(s->runs[0].kernel), "6.1.0-99-amd64");
		CHECK(pml_dataset_save(s) == 0);
		CHECK(merge("x-out", &st, "s1", "kernel", NULL) == -EXDEV);
		CHECK(log_has("run protocols/sctp-echo#0001: kernel 6.1.0-99-amd64", NULL));
		CHECK(nothing_written("x-out"));
	}
	pml_dataset_free(s);
	/* other held-out scenarios: another corpus */
	s = make_shard("heldout", 2, 1);
	if (s) {
		snprintf(s->heldout_test, sizeof(s->heldout_test), "fs/a");
		CHECK(pml_dataset_save(s) == 0);
		CHECK(merge("x-out", &st, "s1", "heldout", NULL) == -EXDEV);
		CHECK(log_has("held-out test scenarios 'fs/a'", NULL));
		CHECK(nothing_written("x-out"));
	}
	pml_dataset_free(s);
	/* ... merged with --resplit: the split chosen again over the scenarios of both */
	s = make_shard("heldout2", 2, 1);
	if (s) {
		struct pml_dataset *out = NULL;
		char path[4200];

		snprintf(s->heldout_test, sizeof(s->heldout_test), "fs/a");
		snprintf(s->heldout_fam_test, sizeof(s->heldout_fam_test), "netdev");
		CHECK(pml_dataset_save(s) == 0);
		CHECK(merge("x-out", &st, "s1", "heldout2", NULL) == -EXDEV);
		CHECK(log_has("--resplit", NULL));
		merge_flags = PML_MERGE_RESPLIT;
		CHECK(merge("r-out", &st, "s1", "heldout2", NULL) == 0);
		snprintf(path, sizeof(path), "%s/r-out", tmpdir);
		CHECK(pml_dataset_open(path, &out) == 0);
		if (out) {
			/* four scenarios in three families: too few to hold any out */
			CHECK(!out->heldout_test[0] && !out->heldout_fam_test[0]);
			CHECK(out->n_runs == st.runs && st.runs == 4);
			for (size_t i = 0; i < out->n_runs; i++) {
				bool held;

				CHECK(pml_dataset_split_of(out, out->runs[i].scenario,
							   out->runs[i].index, &held) ==
				      out->runs[i].split);
				CHECK(!held && !out->runs[i].heldout);
			}
		}
		pml_dataset_free(out);
	}
	pml_dataset_free(s);
	/* packed with unpacked */
	s = make_shard("packed", 2, 1);
	if (s) {
		s->packed = true;
		CHECK(pml_dataset_save(s) == 0);
		CHECK(merge("x-out", &st, "s1", "packed", NULL) == -EXDEV);
		CHECK(log_has("packed", NULL));
		CHECK(nothing_written("x-out"));
	}
	pml_dataset_free(s);
	/* not a dataset */
	CHECK(merge("x-out", &st, "s1", "nonexistent", NULL) == -ENOENT);
	CHECK(log_has("nonexistent: no manifest.jsonl", NULL));
	CHECK(nothing_written("x-out"));
}

/* --- the manifest, mutated ------------------------------------------------------------- */

/* Rewrite dir's manifest with its line `line` (1-based) replaced by text, and a trailer
 * true to the new bytes: only the line itself can be refused. */
static void rewrite_line(const char *dir, size_t line, const char *text)
{
	char path[4400], *orig, *buf = NULL;
	size_t len, blen = 0, no = 0;
	FILE *m = open_memstream(&buf, &blen);

	snprintf(path, sizeof(path), "%s/%s", dir, PML_DATASET_MANIFEST);
	orig = slurp(path, &len);
	for (char *p = orig, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		no++;
		if (strstr(p, "{\"end\"") == p)
			break;
		if (no == line)
			fprintf(m, "%s\n", text);
		else
			fwrite(p, 1, (size_t)(nl - p + 1), m);
	}
	fflush(m);
	fprintf(m, "{\"end\":\"pml-dataset\",\"runs\":%zu,\"crc32\":\"%08lx\"}\n", no - 2,
		crc32(crc32(0, Z_NULL, 0), (const Bytef *)buf, (uInt)blen));
	fclose(m);
	spit(path, buf, blen);
	free(buf);
	free(orig);
}

/* The n-th line of dir's manifest into out. */
static void get_line(const char *dir, size_t line, char *out, size_t size)
{
	char path[4400], *text;
	size_t len, no = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, PML_DATASET_MANIFEST);
	text = slurp(path, &len);
	out[0] = '\0';
	for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1)
		if (++no == line)
			snprintf(out, size, "%.*s", (int)(nl - p), p);
	free(text);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void test_malformed_lines(void)
{
	static const char nasty[] = "{}[]\":,\\-+.e0123456789 nulltruefalse\x01\x7f\xff";
	static const char *const values[] = {
		"1e300", "-1", "nan", "1.5", "99999999999999999999999", "\"x\"", "{}", "[1]",
		"null", "true", "\"../x.trace\"", "\"/etc/passwd\"", "\"\"",
	};
	static const char *const keys[] = {"\"index\":", "\"trace\":", "\"trace_bytes\":",
					   "\"needs\":", "\"id\":", "\"split\":"};
	struct pml_dataset *s = make_shard("fuzz", 3, 1), *probe;
	char dir[4200], good[8192], bad[8192];
	struct pml_merge_stats st;
	size_t refused = 0, named = 0;

	if (!s)
		return;
	pml_dataset_free(s);
	snprintf(dir, sizeof(dir), "%s/fuzz", tmpdir);
	get_line(dir, 3, good, sizeof(good));
	CHECK(strstr(good, "\"id\"") != NULL);
	/* one case by hand: the number out of its field's range, named by file:line */
	snprintf(bad, sizeof(bad), "%s", good);
	{
		char *v = strstr(bad, "\"index\":");

		CHECK(v != NULL);
		if (v) {
			char rest[8192];

			snprintf(rest, sizeof(rest), "%s", strchr(v, ','));
			snprintf(v, sizeof(bad) - (size_t)(v - bad), "\"index\":1e300%s", rest);
		}
	}
	rewrite_line(dir, 3, bad);
	CHECK(merge("f-out", &st, "s1", "fuzz", NULL) == -EBADMSG);
	CHECK(log_has("/fuzz/manifest.jsonl:3: run ", "\"index\"", "1e300", NULL));
	CHECK(nothing_written("f-out"));
	for (int iter = 0; iter < 300; iter++) {
		size_t len = strlen(good), pos = next_rand() % len;
		int r;

		snprintf(bad, sizeof(bad), "%s", good);
		switch (next_rand() % 4) {
		case 0: /* a byte replaced */
			bad[pos] = nasty[next_rand() % (sizeof(nasty) - 1)];
			break;
		case 1: /* cut short */
			bad[pos] = '\0';
			break;
		case 2: /* a byte inserted */
			memmove(bad + pos + 1, bad + pos, len - pos + 1);
			bad[pos] = nasty[next_rand() % (sizeof(nasty) - 1)];
			break;
		default: { /* a field's value replaced */
			const char *k = keys[next_rand() % 6];
			char *v = strstr(bad, k), rest[8192];
			const char *end;

			if (!v)
				break;
			end = v + strlen(k);
			end += *end == '"' ? strcspn(end + 1, "\"") + 2 : strcspn(end, ",}");
			snprintf(rest, sizeof(rest), "%s", end);
			snprintf(v, sizeof(bad) - (size_t)(v - bad), "%s%s%s", k,
				 values[next_rand() % (sizeof(values) / sizeof(values[0]))],
				 rest);
			break;
		}
		}
		rewrite_line(dir, 3, bad);
		log_reset();
		probe = NULL;
		r = pml_dataset_open(dir, &probe);
		pml_dataset_free(probe);
		if (r < 0) {
			/* the reader refuses it: merge refuses it the same, naming file:line */
			refused++;
			CHECK(merge("f-out", &st, "fuzz", NULL) == r);
			named += strstr(logbuf, "/fuzz/manifest.jsonl:3:") != NULL;
			if (!strstr(logbuf, "/fuzz/manifest.jsonl:3:"))
				fprintf(stderr, "  not named by line: %s\n  %s", bad, logbuf);
			CHECK(strstr(logbuf, "/fuzz/manifest.jsonl:3:") != NULL);
			CHECK(nothing_written("f-out"));
		} else {
			/* read: then merged, or refused for what the line now says (another
			 * trace, a size not the file's), never half-written */
			char o[4200];

			r = merge("f-out", &st, "fuzz", NULL);
			snprintf(o, sizeof(o), "%s/f-out", tmpdir);
			if (r == 0)
				rm_tree(o);
			else
				CHECK(nothing_written("f-out"));
		}
	}
	/* most mutations are refused by the reader */
	CHECK(refused > 150 && named == refused);
}

/* The header's shard: written, read back, refused out of range. */
static void test_shard_header(void)
{
	char dir[4200], line[8192];
	struct pml_dataset *ds = NULL;

	snprintf(dir, sizeof(dir), "%s/s1", tmpdir);
	CHECK(pml_dataset_open(dir, &ds) == 0);
	CHECK(ds && !strcmp(ds->shard, "1/3"));
	pml_dataset_free(ds);
	get_line(dir, 1, line, sizeof(line));
	CHECK(strstr(line, "\"shard\":\"1/3\"") != NULL);
	memcpy(strstr(line, "\"1/3\""), "\"0/3\"", 5);
	rewrite_line(dir, 1, line);
	log_reset();
	ds = NULL;
	CHECK(pml_dataset_open(dir, &ds) == -EINVAL && !ds);
	CHECK(log_has("\"shard\": '0/3' is not a shard", NULL));
}

int main(void)
{
	const char *fx = getenv("PML_TEST_FIXTURES");

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(fixture, sizeof(fixture), "%s/dataset", fx ? fx : "tests/fixtures");
	pml_set_log_fn(log_capture, NULL);
	test_merge_shards();
	test_lost_gives_way();
	test_conflict();
	test_damaged_trace();
	test_not_one_collection();
	test_malformed_lines();
	test_shard_header();
	rm_tree(tmpdir);
	return unit_done("dataset-merge");
}
