/* Merging datasets into a new one (merge.h).
 *
 * The inputs are read as untrusted as any dataset (their manifests by dataset-manifest.c,
 * their traces and logs below their directories following no link); the output is a
 * temporary directory this process made and alone writes into, so it is written by name
 * below its descriptor and removed whole on failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset/dataset.h"
#include "dataset/merge.h"
#include "dataset/shard.h"
#include "dataset/verify.h"
#include "util/json.h"
#include "util/log.h"
#include "util/safepath.h"

/* One run of one input. */
struct entry {
	size_t input;
	const struct pml_ds_run *run;
};

struct merge {
	struct pml_dataset **in; /* the opened inputs, n of them */
	size_t n;
	struct entry *all;	 /* every run of every input */
	size_t n_all;
	struct entry *kept;	 /* the runs of the merged dataset */
	size_t n_kept;
	struct entry *dups;	 /* runs identical to a kept one, from another input */
	size_t n_dups;
	char tmp[4096];		 /* the output being written */
	int tmpfd;
	struct pml_dataset *split; /* PML_MERGE_RESPLIT: the split chosen again, else NULL */
	struct pml_merge_stats st;
};

/* Untrusted text (a manifest's string, a file name) for a message. */
static const char *shown(const char *s, char *buf, size_t size)
{
	pml_text_escape(s, buf, size);
	return buf;
}

/* --- one collection ----------------------------------------------------------------- */

/* Where a kernel was read, for a message: "DIR/manifest.jsonl" and ": run ID" when it
 * was a run line's. */
static void kernel_where(const struct pml_dataset *ds, const char *run, char *buf,
			 size_t size)
{
	char id[160];

	snprintf(buf, size, "%s/%s%s%s", ds->dir, PML_DATASET_MANIFEST, run ? ": run " : "",
		 run ? shown(run, id, sizeof(id)) : "");
}

/* Whether every input is of the first one's collection; what differs is logged. 0 or
 * -EXDEV. The merged kernel (the one the manifests record, "" when none does) into
 * st.kernel. */
static int check_inputs(struct merge *m)
{
	const struct pml_dataset *a = m->in[0];
	char s1[160], s2[160], first[4400], here[4400];

	for (size_t i = 1; i < m->n; i++) {
		const struct pml_dataset *b = m->in[i];
		bool t = strcmp(b->heldout_test, a->heldout_test) != 0;

		if (b->seed != a->seed) {
			pml_err("%s/%s: seed %" PRIu32 ", but %s/%s: seed %" PRIu32
				": not one collection (runs' seeds and the split derive from "
				"the seed)", b->dir, PML_DATASET_MANIFEST, b->seed, a->dir,
				PML_DATASET_MANIFEST, a->seed);
			return -EXDEV;
		}
		if (!m->split && (t || strcmp(b->heldout_val, a->heldout_val) ||
				  strcmp(b->heldout_fam_test, a->heldout_fam_test) ||
				  strcmp(b->heldout_fam_val, a->heldout_fam_val))) {
			if (!t && !strcmp(b->heldout_val, a->heldout_val)) {
				pml_err("%s/%s and %s/%s hold out different families: not one "
					"collection (pml dataset merge --resplit chooses the "
					"split again)", b->dir, PML_DATASET_MANIFEST, a->dir,
					PML_DATASET_MANIFEST);
				return -EXDEV;
			}
			shown(t ? b->heldout_test : b->heldout_val, s1, sizeof(s1));
			shown(t ? a->heldout_test : a->heldout_val, s2, sizeof(s2));
			pml_err("%s/%s: held-out %s scenarios '%s', but %s/%s: '%s': not one "
				"collection (the split was chosen over another corpus; pml "
				"dataset merge --resplit chooses it again over both)",
				b->dir, PML_DATASET_MANIFEST, t ? "test" : "validation", s1,
				a->dir, PML_DATASET_MANIFEST, s2);
			return -EXDEV;
		}
		if (b->packed != a->packed) {
			pml_err("%s is packed and %s is not: pack all inputs or none "
				"(pml dataset pack)", a->packed ? a->dir : b->dir,
				a->packed ? b->dir : a->dir);
			return -EXDEV;
		}
	}
	/* the kernel: every one a manifest records, in its header or a run line, the same */
	first[0] = '\0';
	for (size_t i = 0; i < m->n; i++) {
		const struct pml_dataset *b = m->in[i];

		for (size_t k = 0; k <= b->n_runs; k++) {
			const char *kern = k ? b->runs[k - 1].kernel : b->kernel;
			const char *run = k ? b->runs[k - 1].id : NULL;

			if (!kern[0])
				continue;
			if (!first[0]) {
				snprintf(m->st.kernel, sizeof(m->st.kernel), "%s", kern);
				kernel_where(b, run, first, sizeof(first));
			} else if (strcmp(kern, m->st.kernel)) {
				kernel_where(b, run, here, sizeof(here));
				shown(kern, s1, sizeof(s1));
				shown(m->st.kernel, s2, sizeof(s2));
				pml_err("%s: kernel %s, but %s: kernel %s: not one collection "
					"(traces of two kernels)", here, s1, first, s2);
				return -EXDEV;
			}
		}
	}
	m->st.seed = a->seed;
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* PML_MERGE_RESPLIT: the split chosen over every scenario of the inputs, and every run's
 * split and held-out mark derived from it (the inputs' runs are changed in memory). 0 or
 * -ENOMEM. */
static int resplit(struct merge *m)
{
	const char **names;
	size_t n = 0;

	m->split = pml_dataset_new("", m->in[0]->seed);
	for (size_t i = 0; i < m->n; i++)
		n += m->in[i]->n_runs;
	names = calloc(n + 1, sizeof(*names));
	if (!m->split || !names) {
		free(names);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->in[i]->n_runs; k++) {
			const char *sc = m->in[i]->runs[k].scenario;
			bool seen = false;

			for (size_t j = 0; j < n && !seen; j++)
				seen = !strcmp(names[j], sc);
			if (!seen)
				names[n++] = sc;
		}
	qsort(names, n, sizeof(*names), cmp_str);
	pml_dataset_choose_heldout(m->split, names, n);
	pml_dataset_choose_heldout_families(m->split, names, n);
	free(names);
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->in[i]->n_runs; k++) {
			struct pml_ds_run *r = &m->in[i]->runs[k];
			bool held;
			enum pml_split s = pml_dataset_split_of(m->split, r->scenario, r->index,
								&held);

			if (s != r->split || held != r->heldout)
				m->st.resplit_moved++;
			r->split = s;
			r->heldout = held;
		}
	return 0;
}

/* The name of the first field in which two lines of one run differ, NULL when none. */
static const char *run_diff(const struct pml_ds_run *a, const struct pml_ds_run *b)
{
#define STR(f, name) if (strcmp(a->f, b->f)) return name
#define NUM(f, name) if (a->f != b->f) return name
	STR(id, "id");
	STR(scenario, "scenario");
	STR(family, "family");
	NUM(index, "index");
	NUM(seed, "seed");
	STR(params, "params");
	NUM(state, "state");
	NUM(status, "status");
	NUM(split, "split");
	NUM(heldout, "heldout");
	STR(kernel, "kernel");
	STR(trace, "trace");
	NUM(trace_bytes, "trace_bytes");
	NUM(trace_crc, "trace_crc32");
	NUM(events, "events");
	NUM(dropped, "dropped");
	NUM(n_needs, "needs");
	STR(modules, "modules");
	NUM(guest_s, "guest_s");
	NUM(boot, "boot");
#undef STR
#undef NUM
	return NULL;
}

static int by_id(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = strcmp(a->run->id, b->run->id);

	if (c)
		return c;
	return a->input < b->input ? -1 : a->input > b->input;
}

static int by_scenario(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = strcmp(a->run->scenario, b->run->scenario);

	if (c)
		return c;
	if (a->run->index != b->run->index)
		return a->run->index < b->run->index ? -1 : 1;
	return strcmp(a->run->id, b->run->id);
}

/* Choose each run once (m->kept, by scenario and index): identical lines are one run, a
 * lost line gives way to a recorded one, anything else is a conflict (logged). 0,
 * -EBADMSG or -ENOMEM. */
static int choose_runs(struct merge *m)
{
	char s1[160];

	for (size_t i = 0; i < m->n; i++)
		m->n_all += m->in[i]->n_runs;
	m->all = calloc(m->n_all + 1, sizeof(*m->all));
	m->kept = calloc(m->n_all + 1, sizeof(*m->kept));
	m->dups = calloc(m->n_all + 1, sizeof(*m->dups));
	if (!m->all || !m->kept || !m->dups)
		return -ENOMEM;
	m->n_all = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < m->in[i]->n_runs; k++)
			m->all[m->n_all++] = (struct entry){i, &m->in[i]->runs[k]};
	qsort(m->all, m->n_all, sizeof(*m->all), by_id);
	for (size_t i = 0; i < m->n_all;) {
		size_t j = i + 1;
		struct entry best = m->all[i];

		for (; j < m->n_all && !strcmp(m->all[j].run->id, best.run->id); j++) {
			const struct entry *e = &m->all[j];
			const char *field = run_diff(best.run, e->run);
			bool lost_e = e->run->state == PML_RUN_LOST;
			bool lost_best = best.run->state == PML_RUN_LOST;

			if (!field) {
				m->st.duplicates++;
				m->dups[m->n_dups++] = *e;
			} else if (lost_e && lost_best) {
				m->st.duplicates++; /* lost twice: as good as once */
			} else if (lost_e || lost_best) {
				m->st.superseded++;
				if (lost_best)
					best = *e;
			} else {
				pml_err("run %s: %s/%s and %s/%s differ in \"%s\" (the run was "
					"collected twice; keep one of them)",
					shown(best.run->id, s1, sizeof(s1)),
					m->in[best.input]->dir, PML_DATASET_MANIFEST,
					m->in[e->input]->dir, PML_DATASET_MANIFEST, field);
				return -EBADMSG;
			}
		}
		m->kept[m->n_kept++] = best;
		i = j;
	}
	qsort(m->kept, m->n_kept, sizeof(*m->kept), by_scenario);
	return 0;
}

/* --- the output --------------------------------------------------------------------- */

/* Make the directories of the confined path rel below the output (its last component
 * is the file). 0 or -errno. */
static int make_parents(int dfd, const char *rel)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(dfd, buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Copy run's trace into the output, checked against its line as it is copied. */
static int copy_trace(struct merge *m, const struct entry *e)
{
	const struct pml_dataset *ds = m->in[e->input];
	const struct pml_ds_run *run = e->run;
	char why[512], s1[160], s2[160];
	int fd, r;

	if (!run->trace[0])
		return 0;
	/* every trace pml writes is in traces/: elsewhere one could take the manifest's or
	 * a log's place in the output */
	if (strncmp(run->trace, "traces/", 7)) {
		pml_err("%s/%s: run %s: trace '%s' is not in traces/ (pml writes every trace "
			"there)", ds->dir, PML_DATASET_MANIFEST,
			shown(run->id, s1, sizeof(s1)), shown(run->trace, s2, sizeof(s2)));
		return -EBADMSG;
	}
	r = make_parents(m->tmpfd, run->trace);
	fd = r < 0 ? r : pml_open_beneath(m->tmpfd, run->trace, O_RDWR | O_CREAT | O_EXCL);
	if (fd == -EEXIST) {
		pml_err("%s/%s: run %s: trace '%s' is another run's trace too (a forged "
			"manifest)", ds->dir, PML_DATASET_MANIFEST,
			shown(run->id, s1, sizeof(s1)), shown(run->trace, s2, sizeof(s2)));
		return -EBADMSG;
	}
	if (fd < 0) {
		pml_err("%s/%s: %s", m->tmp, shown(run->trace, s2, sizeof(s2)),
			strerror(-fd));
		return fd;
	}
	r = pml_dataset_check_run(ds, run, fd, why, sizeof(why));
	close(fd);
	if (r < 0) {
		pml_err("%s/%s: run %s: %s", ds->dir, shown(run->trace, s2, sizeof(s2)),
			shown(run->id, s1, sizeof(s1)), why);
		return r;
	}
	m->st.traces++;
	m->st.trace_bytes += run->trace_bytes;
	return 0;
}

/* A run's copy in a later input: not copied, but checked all the same (damage there is
 * worth knowing; it does not touch the output). */
static void check_duplicate(struct merge *m, const struct entry *e)
{
	char why[512], s1[160], s2[160];

	if (e->run->trace[0] && pml_dataset_check_run(m->in[e->input], e->run, -1, why,
						      sizeof(why)) < 0)
		pml_warn("%s/%s: run %s: %s (the same run is taken from an earlier input: "
			 "not used)", m->in[e->input]->dir,
			 shown(e->run->trace, s2, sizeof(s2)), shown(e->run->id, s1, sizeof(s1)),
			 why);
}

/* Whether the files on the two descriptors hold the same bytes (both at offset 0). */
static bool same_bytes(int a, int b)
{
	char x[16384], y[16384];

	for (;;) {
		ssize_t k = read(a, x, sizeof(x)), l;

		if (k < 0)
			return false;
		for (ssize_t got = 0; got < k; got += l) {
			l = read(b, y + got, (size_t)(k - got));
			if (l <= 0)
				return false;
		}
		if (memcmp(x, y, (size_t)k))
			return false;
		if (k == 0)
			return read(b, y, 1) == 0;
	}
}

/* Copy fd (at offset 0) into a new file name of the output's logs/; -EEXIST when one is
 * there. */
static int copy_new(struct merge *m, int fd, const char *name)
{
	char rel[320], buf[65536];
	ssize_t k;
	int out, r = 0;

	snprintf(rel, sizeof(rel), "logs/%s", name);
	out = pml_open_beneath(m->tmpfd, rel, O_WRONLY | O_CREAT | O_EXCL);
	if (out < 0)
		return out;
	while (!r && (k = read(fd, buf, sizeof(buf))) != 0) {
		if (k < 0) {
			r = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (ssize_t off = 0, w; !r && off < k; off += w) {
			w = write(out, buf + off, (size_t)(k - off));
			if (w < 0)
				r = -errno;
		}
	}
	close(out);
	return r;
}

/* Whether name is the log of a merged run taken from another input than input. */
static bool other_inputs_log(const struct merge *m, size_t input, const char *name)
{
	for (size_t i = 0; i < m->n_kept; i++) {
		const struct pml_ds_run *run = m->kept[i].run;
		char lf[160];

		pml_dataset_run_file(run->scenario, run->index, ".out", lf, sizeof(lf));
		if (!strcmp(lf, name))
			return m->kept[i].input != input;
	}
	return false;
}

/* Copy one log file: under its name, unless an earlier input's file of that name is
 * there; then nothing when it holds the same bytes, else under NAME~K (then NAME~K.2 ...:
 * a merged input may hold NAME~K already). */
static int copy_log(struct merge *m, size_t input, int logsfd, const char *name)
{
	char cand[300], s1[300], rel[310];
	int fd, have, r = -EEXIST;

	if (other_inputs_log(m, input, name))
		return 0;
	fd = pml_open_regular_beneath(logsfd, name, O_RDONLY);
	if (fd < 0) {
		/* pml writes no link, FIFO or directory into logs/: not copied */
		pml_warn("%s/logs/%s: %s: not copied", m->in[input]->dir,
			 shown(name, s1, sizeof(s1)), pml_beneath_strerror(fd));
		return 0;
	}
	for (int k = 0; k < 100 && r == -EEXIST; k++) {
		if (k == 0)
			snprintf(cand, sizeof(cand), "%s", name);
		else if (k == 1)
			snprintf(cand, sizeof(cand), "%s~%zu", name, input + 1);
		else
			snprintf(cand, sizeof(cand), "%s~%zu.%d", name, input + 1, k);
		if (lseek(fd, 0, SEEK_SET) < 0) {
			r = -errno;
			break;
		}
		r = copy_new(m, fd, cand);
		if (r != -EEXIST)
			break;
		/* taken: by the same bytes (the same log in two inputs), nothing to do */
		snprintf(rel, sizeof(rel), "logs/%s", cand);
		have = pml_open_regular_beneath(m->tmpfd, rel, O_RDONLY);
		if (have >= 0 && lseek(fd, 0, SEEK_SET) == 0 && same_bytes(fd, have)) {
			close(have);
			close(fd);
			return 0;
		}
		if (have >= 0)
			close(have);
	}
	close(fd);
	if (r < 0) {
		pml_err("%s/logs/%s: %s", m->tmp, shown(cand, s1, sizeof(s1)), strerror(-r));
		return r;
	}
	m->st.logs++;
	return 0;
}

/* Copy an input's logs/ (a missing one is no error; a link in its place is not
 * followed). */
static int copy_logs(struct merge *m, size_t input)
{
	int dfd = open(m->in[input]->dir, O_PATH | O_DIRECTORY | O_CLOEXEC), logsfd, r = 0;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return -errno;
	logsfd = pml_open_beneath(dfd, "logs", O_RDONLY | O_DIRECTORY);
	close(dfd);
	if (logsfd == -ENOENT)
		return 0;
	if (logsfd < 0) {
		pml_warn("%s/logs: %s: its logs are not copied", m->in[input]->dir,
			 pml_beneath_strerror(logsfd));
		return 0;
	}
	d = fdopendir(logsfd);
	if (!d) {
		r = -errno;
		close(logsfd);
		return r;
	}
	while (!r && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = copy_log(m, input, dirfd(d), de->d_name);
	}
	closedir(d);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* The merged manifest, into the output. */
static int write_manifest(struct merge *m)
{
	struct pml_dataset *ds = pml_dataset_new(m->tmp, m->st.seed);
	int r = 0;

	if (!ds)
		return -ENOMEM;
	snprintf(ds->kernel, sizeof(ds->kernel), "%s", m->st.kernel);
	{
		const struct pml_dataset *sp = m->split ? m->split : m->in[0];

		snprintf(ds->heldout_test, sizeof(ds->heldout_test), "%s", sp->heldout_test);
		snprintf(ds->heldout_val, sizeof(ds->heldout_val), "%s", sp->heldout_val);
		snprintf(ds->heldout_fam_test, sizeof(ds->heldout_fam_test), "%s",
			 sp->heldout_fam_test);
		snprintf(ds->heldout_fam_val, sizeof(ds->heldout_fam_val), "%s",
			 sp->heldout_fam_val);
	}
	ds->packed = m->in[0]->packed;
	/* the collection began when its earliest part did */
	for (size_t i = 0; i < m->n; i++)
		if (m->in[i]->created[0] && strcmp(m->in[i]->created, ds->created) < 0)
			snprintf(ds->created, sizeof(ds->created), "%s", m->in[i]->created);
	for (size_t i = 0; i < m->n_kept && !r; i++) {
		const struct pml_ds_run *run = m->kept[i].run;

		r = pml_dataset_add(ds, run);
		m->st.ok += run->state == PML_RUN_OK;
		m->st.failed += run->state == PML_RUN_FAILED;
		m->st.lost += run->state == PML_RUN_LOST;
	}
	m->st.runs = m->n_kept;
	if (!r) {
		r = pml_dataset_save(ds);
		if (r < 0)
			pml_err("%s/%s: cannot write: %s", m->tmp, PML_DATASET_MANIFEST,
				strerror(-r));
	}
	pml_dataset_free(ds);
	return r;
}

/* Which shards the inputs are, when all are shards of one N. */
static void note_shards(struct merge *m)
{
	struct pml_shard s;
	uint32_t count = 0;
	size_t len = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (pml_shard_parse(m->in[i]->shard, &s) < 0)
			return;
		if (count && s.count != count) {
			pml_warn("%s is shard %s, %s shard %s: shards of different counts "
				 "(whether the merged dataset is whole cannot be told)",
				 m->in[0]->dir, m->in[0]->shard, m->in[i]->dir, m->in[i]->shard);
			return;
		}
		count = s.count;
	}
	m->st.shard_count = count;
	for (uint32_t k = 1; k <= count; k++) {
		bool given = false;

		for (size_t i = 0; i < m->n && !given; i++)
			given = pml_shard_parse(m->in[i]->shard, &s) == 0 && s.index == k;
		if (given)
			continue;
		char *end = m->st.missing + len;
		size_t left = sizeof(m->st.missing) - len;

		m->st.shards_missing++;
		if (len + 16 < sizeof(m->st.missing))
			len += (size_t)snprintf(end, left, "%s%" PRIu32 "/%" PRIu32,
						len ? " " : "", k, count);
		else if (!strstr(m->st.missing, "..."))
			snprintf(end, left, " ...");
	}
}

/* The temporary directory beside out: "DIR/.NAME.merge-XXXXXX". */
static int make_tmp(struct merge *m, const char *out)
{
	const char *slash = strrchr(out, '/');
	int dlen = slash ? (int)(slash - out + 1) : 0;

	if ((size_t)snprintf(m->tmp, sizeof(m->tmp), "%.*s.%s.merge-XXXXXX", dlen, out,
			     slash ? slash + 1 : out) >= sizeof(m->tmp))
		return -ENAMETOOLONG;
	if (!mkdtemp(m->tmp)) {
		m->tmp[0] = '\0';
		return -errno;
	}
	m->tmpfd = open(m->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->tmpfd < 0 || chmod(m->tmp, 0755) < 0 ||
	    mkdirat(m->tmpfd, "traces", 0755) < 0 || mkdirat(m->tmpfd, "logs", 0755) < 0)
		return -errno;
	return 0;
}

int pml_dataset_merge(const char *const *dirs, size_t n, const char *out, unsigned flags,
		      pml_merge_progress_fn progress, void *data, struct pml_merge_stats *ret)
{
	struct merge m = {.n = n, .tmpfd = -1};
	char name[4000];
	size_t len;
	struct stat st;
	int r = 0;

	if (!n || !out[0])
		return -EINVAL;
	/* "OUT/" is OUT: its temporary directory goes beside it, not in it */
	len = (size_t)snprintf(name, sizeof(name), "%s", out);
	if (len >= sizeof(name))
		return -ENAMETOOLONG;
	while (len > 1 && name[len - 1] == '/')
		name[--len] = '\0';
	out = name;
	if (lstat(out, &st) == 0) {
		pml_err("%s exists; give a new directory", out);
		return -EEXIST;
	}
	m.in = calloc(n, sizeof(*m.in));
	if (!m.in)
		return -ENOMEM;
	m.st.inputs = n;
	for (size_t i = 0; i < n && !r; i++) {
		r = pml_dataset_open(dirs[i], &m.in[i]);
		if (r == -ENOENT)
			pml_err("%s: no %s (not a dataset)", dirs[i], PML_DATASET_MANIFEST);
		else if (r < 0)
			pml_err("%s/%s: not merged: %s", dirs[i], PML_DATASET_MANIFEST,
				strerror(-r));
	}
	if (!r && (flags & PML_MERGE_RESPLIT))
		r = resplit(&m);
	if (!r)
		r = check_inputs(&m);
	if (!r)
		r = choose_runs(&m);
	if (!r) {
		note_shards(&m);
		r = make_tmp(&m, out);
		if (r < 0)
			pml_err("%s: cannot make a temporary directory beside it: %s", out,
				strerror(-r));
	}
	for (size_t i = 0; i < m.n_kept && !r; i++) {
		r = copy_trace(&m, &m.kept[i]);
		if (progress)
			progress(data, i + 1, m.n_kept);
	}
	for (size_t i = 0; i < m.n_dups && !r; i++)
		check_duplicate(&m, &m.dups[i]);
	for (size_t i = 0; i < n && !r; i++)
		r = copy_logs(&m, i);
	if (!r)
		r = write_manifest(&m);
	/* everything on disk before the name appears: a crash leaves no OUT half-written */
	if (!r && syncfs(m.tmpfd) < 0)
		r = -errno;
	if (!r && renameat2(AT_FDCWD, m.tmp, AT_FDCWD, out, RENAME_NOREPLACE) < 0) {
		r = -errno;
		pml_err("%s: %s", out, r == -EEXIST ?
			"made by someone else meanwhile; nothing written" : strerror(-r));
	}
	if (m.tmpfd >= 0)
		close(m.tmpfd);
	if (r && m.tmp[0])
		nftw(m.tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < n; i++)
		pml_dataset_free(m.in[i]);
	free(m.in);
	pml_dataset_free(m.split);
	free(m.all);
	free(m.kept);
	free(m.dups);
	if (!r && ret)
		*ret = m.st;
	return r;
}
