/* pml dataset: look at a trace dataset made by pml collect. Thin: the manifest is
 * dataset/dataset-manifest.c, the ground truth dataset/needs.c.
 *   stats   runs, events, needs per module, families, distinct module sets, the split
 *   needs   each run's needs (time, alias, module, the modules loaded for it)
 *   verify  every trace against its recorded checksum, and readable to its end
 *   pack    a copy with each trace packed
 *   merge   datasets of one collection (shards) joined into a new one (dataset/merge.c) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd-errors.h"
#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "dataset/dataset.h"
#include "dataset/merge.h"
#include "dataset/needs.h"
#include "dataset/pack.h"
#include "dataset/verify.h"
#include "trace/trace-file.h"
#include "util/json.h"
#include "util/log.h"
#include "util/safepath.h"
#include "util/timeutil.h"
#include "vm/vm.h"

enum { OPT_RESPLIT = CMD_OPT_LONG_ONLY };

/* getopt_long and --help are both made from this table (cmd-options.h), one for all
 * the sub-verbs. */
static const struct cmd_option options[] = {
	{OPT_RESPLIT, "resplit", NULL,
	 "merge: datasets of one seed that cover different scenarios (new\n"
	 "families beside an older dataset): the held-out scenarios and\n"
	 "families are chosen again over all of them, each run's split\n"
	 "derived from that"},
	{'j', "json", NULL, "JSON (stats, merge: one object; needs: one line per need)"},
	{'o', "output", "OUT", "pack, merge: the new dataset directory (must not exist)"},
	{'s', "stored", NULL,
	 "pack: blocks not compressed (for an archive compressed as a\n"
	 "whole: xz finds what the runs have in common)"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml dataset stats [--json] DIR\n"
		"       pml dataset needs [--json] DIR [RUN-ID...]\n"
		"       pml dataset verify DIR\n"
		"       pml dataset pack DIR -o OUT\n"
		"       pml dataset merge -o OUT [--json] [--resplit] DIR...\n\n"
		"stats   runs (ok, failed, lost) per split and family, events, needs per module,\n"
		"        distinct module sets, the held-out scenarios\n"
		"needs   the ground truth of each run (or the runs named): every need with its\n"
		"        time from the trace's start, the alias the kernel asked for, the module\n"
		"        and the modules loaded for it (derived from the trace's module events)\n"
		"verify  check every run's trace against the manifest's size and CRC32 and read it\n"
		"        to its end; exit status 1 when any is damaged\n"
		"pack    write a copy of the dataset into OUT with each trace packed: every\n"
		"        record the model and replay read (a plain system call only the first\n"
		"        time its process makes it since its execve): same tokens, same needs,\n"
		"        about half the bytes; for committing a dataset\n"
		"merge   join datasets of one collection (the shards of 'pml collect --shard I/N')\n"
		"        into the new dataset OUT: refused when their seeds, held-out scenarios,\n"
		"        kernels or packing differ, or a run is in two with different lines (the\n"
		"        same line: kept once; a lost run gives way to one recorded elsewhere);\n"
		"        every trace is checked as verify does while it is copied (no link\n"
		"        followed); OUT appears only when all is written\n");
	cmd_options_help(f, options);
}

static int open_ds(const char *dir, struct pml_dataset **ret)
{
	int r = pml_dataset_open(dir, ret);

	if (r == -ENOENT)
		fprintf(stderr, "pml: dataset: %s: no %s (not a dataset; pml collect -o %s makes "
				"one)\n", dir, PML_DATASET_MANIFEST, dir);
	else if (r < 0)
		fprintf(stderr, "pml: dataset: %s: %s\n", dir, cmd_manifest_strerror(r));
	return r;
}

/* Open a run's trace below the dataset (no link followed, never outside it: the
 * manifest is not trusted), its path for messages into path. The descriptor or -errno;
 * pml_beneath_strerror() words it. */
static int open_trace(const struct pml_dataset *ds, const struct pml_ds_run *run,
		      char *path, size_t size)
{
	snprintf(path, size, "%s/%s", ds->dir, run->trace);
	return pml_dataset_trace_open(ds, run);
}

/* A counted string set, kept simple: the dataset has hundreds of distinct names. */
struct counter {
	char **keys;
	size_t *counts;
	size_t n, cap;
};

static int count(struct counter *c, const char *key, size_t add)
{
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->keys[i], key)) {
			c->counts[i] += add;
			return 0;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		char **k = realloc(c->keys, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		c->keys = k;
		size_t *v = realloc(c->counts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->counts = v;
		c->cap = cap;
	}
	c->keys[c->n] = strdup(key);
	if (!c->keys[c->n])
		return -ENOMEM;
	c->counts[c->n++] = add;
	return 0;
}

static void counter_release(struct counter *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->counts);
}

static struct counter *sort_ctr;

static int by_count(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (sort_ctr->counts[x] != sort_ctr->counts[y])
		return sort_ctr->counts[x] < sort_ctr->counts[y] ? 1 : -1;
	return strcmp(sort_ctr->keys[x], sort_ctr->keys[y]);
}

static size_t *sorted(struct counter *c)
{
	size_t *idx = malloc((c->n + 1) * sizeof(*idx));

	if (!idx)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		idx[i] = i;
	sort_ctr = c;
	qsort(idx, c->n, sizeof(*idx), by_count);
	return idx;
}

/* A run's module set as a sorted, space-joined key. */
static void set_key(const char *modules, char *out, size_t size)
{
	char buf[1024], *w[128], *save = NULL;
	size_t n = 0, len = 0;

	snprintf(buf, sizeof(buf), "%s", modules);
	for (char *t = strtok_r(buf, " ", &save); t && n < 128; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(w[j - 1], w[j]) > 0; j--) {
			char *t = w[j];

			w[j] = w[j - 1];
			w[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "", w[i]);
}

static int cmd_stats(const char *dir, bool json)
{
	struct pml_dataset *ds;
	struct counter mods = {0}, fams = {0}, sets = {0}, scen = {0};
	size_t st[3] = {0}, split[3][3] = {{0}}, held[3] = {0};
	uint64_t events = 0, dropped = 0, bytes = 0, needs = 0;
	double guest = 0;
	int rc = PML_EXIT_FAIL;

	if (open_ds(dir, &ds) < 0)
		return PML_EXIT_FAIL;
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *r = &ds->runs[i];
		char buf[1024], *save = NULL, key[1100];

		st[r->state]++;
		split[r->split][r->state]++;
		if (r->heldout)
			held[r->split]++;
		if (count(&fams, r->family, 1) < 0 || count(&scen, r->scenario, 1) < 0)
			goto out;
		if (r->state != PML_RUN_OK)
			continue;
		events += r->events;
		dropped += r->dropped;
		bytes += r->trace_bytes;
		needs += r->n_needs;
		guest += r->guest_s;
		snprintf(buf, sizeof(buf), "%s", r->modules);
		for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
			if (count(&mods, t, 1) < 0)
				goto out;
		set_key(r->modules, key, sizeof(key));
		if (count(&sets, key, 1) < 0)
			goto out;
	}
	size_t *mi = sorted(&mods), *fi = sorted(&fams);

	if (!mi || !fi) {
		free(mi);
		free(fi);
		goto out;
	}
	if (json) {
		struct pml_json j;

		pml_json_init(&j, stdout, true);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "dataset", dir);
		pml_json_str(&j, "kernel", ds->kernel);
		pml_json_int(&j, "seed", ds->seed);
		if (ds->shard[0])
			pml_json_str(&j, "shard", ds->shard);
		pml_json_int(&j, "runs", (int64_t)ds->n_runs);
		pml_json_int(&j, "ok", (int64_t)st[PML_RUN_OK]);
		pml_json_int(&j, "failed", (int64_t)st[PML_RUN_FAILED]);
		pml_json_int(&j, "lost", (int64_t)st[PML_RUN_LOST]);
		pml_json_int(&j, "scenarios", (int64_t)scen.n);
		pml_json_int(&j, "events", (int64_t)events);
		pml_json_int(&j, "dropped", (int64_t)dropped);
		pml_json_int(&j, "trace_bytes", (int64_t)bytes);
		pml_json_int(&j, "needs", (int64_t)needs);
		pml_json_double(&j, "guest_s", guest);
		pml_json_int(&j, "distinct_modules", (int64_t)mods.n);
		pml_json_int(&j, "distinct_module_sets", (int64_t)sets.n);
		pml_json_obj_begin(&j, "splits");
		for (int s = 0; s < 3; s++) {
			pml_json_obj_begin(&j, pml_split_name((enum pml_split)s));
			pml_json_int(&j, "ok", (int64_t)split[s][PML_RUN_OK]);
			pml_json_int(&j, "failed", (int64_t)split[s][PML_RUN_FAILED]);
			pml_json_int(&j, "lost", (int64_t)split[s][PML_RUN_LOST]);
			pml_json_int(&j, "heldout_scenario_runs", (int64_t)held[s]);
			pml_json_obj_end(&j);
		}
		pml_json_obj_end(&j);
		pml_json_str(&j, "heldout_test", ds->heldout_test);
		pml_json_str(&j, "heldout_val", ds->heldout_val);
		pml_json_str(&j, "heldout_families_test", ds->heldout_fam_test);
		pml_json_str(&j, "heldout_families_val", ds->heldout_fam_val);
		pml_json_obj_begin(&j, "families");
		for (size_t i = 0; i < fams.n; i++)
			pml_json_int(&j, fams.keys[fi[i]], (int64_t)fams.counts[fi[i]]);
		pml_json_obj_end(&j);
		pml_json_obj_begin(&j, "runs_needing");
		for (size_t i = 0; i < mods.n; i++)
			pml_json_int(&j, mods.keys[mi[i]], (int64_t)mods.counts[mi[i]]);
		pml_json_obj_end(&j);
		pml_json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		printf("dataset %s: kernel %s, seed %" PRIu32 ", created %s%s%s\n", dir,
		       ds->kernel[0] ? ds->kernel : "?", ds->seed, ds->created,
		       ds->shard[0] ? ", shard " : "", ds->shard);
		printf("runs       %zu (%zu ok, %zu failed, %zu lost) of %zu scenarios in %zu "
		       "families\n", ds->n_runs, st[0], st[1], st[2], scen.n, fams.n);
		for (int s = 0; s < 3; s++)
			printf("  %-5s    %zu ok, %zu failed, %zu lost; %zu of them from held-out "
			       "scenarios\n", pml_split_name((enum pml_split)s),
			       split[s][PML_RUN_OK], split[s][PML_RUN_FAILED], split[s][PML_RUN_LOST],
			       held[s]);
		printf("held out   test: %s\n           val:  %s\n",
		       ds->heldout_test[0] ? ds->heldout_test : "-",
		       ds->heldout_val[0] ? ds->heldout_val : "-");
		if (ds->heldout_fam_test[0] || ds->heldout_fam_val[0])
			printf("           families held out whole, test: %s; val: %s\n",
			       ds->heldout_fam_test[0] ? ds->heldout_fam_test : "-",
			       ds->heldout_fam_val[0] ? ds->heldout_fam_val : "-");
		printf("events     %" PRIu64 " (%" PRIu64 " dropped), %.1f MB of traces, %.0f s of "
		       "guest time (ok runs)\n", events, dropped, (double)bytes / 1e6, guest);
		printf("needs      %" PRIu64 "; %zu distinct modules, %zu distinct module sets\n",
		       needs, mods.n, sets.n);
		printf("families  ");
		for (size_t i = 0; i < fams.n; i++)
			printf(" %s %zu", fams.keys[fi[i]], fams.counts[fi[i]]);
		printf("\nruns needing each module:\n");
		for (size_t i = 0; i < mods.n; i++)
			printf("  %-28s %zu%s", mods.keys[mi[i]], mods.counts[mi[i]],
			       i % 3 == 2 || i + 1 == mods.n ? "\n" : "");
	}
	free(mi);
	free(fi);
	rc = PML_EXIT_OK;
out:
	if (rc)
		fprintf(stderr, "pml: dataset: out of memory\n");
	counter_release(&mods);
	counter_release(&fams);
	counter_release(&sets);
	counter_release(&scen);
	pml_dataset_free(ds);
	return rc;
}

static void print_needs(const struct pml_ds_run *run, const struct pml_needs *n, bool json,
			uint64_t t0)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct pml_need *nd = &n->v[i];
		double t = (double)(nd->t_ns - t0) / 1e9, d = (double)(nd->done_ns - nd->t_ns) / 1e6;

		if (json) {
			struct pml_json j;
			char loaded[PML_NEED_MAX_LOADED * PML_NEED_NAME_LEN] = "";
			size_t len = 0;

			for (uint32_t k = 0; k < nd->n_loaded; k++)
				len += (size_t)snprintf(loaded + len, sizeof(loaded) - len, "%s%s",
							k ? " " : "", nd->loaded[k]);
			pml_json_init(&j, stdout, false);
			pml_json_obj_begin(&j, NULL);
			pml_json_str(&j, "run", run->id);
			pml_json_double(&j, "t_s", t);
			pml_json_str(&j, "alias", nd->alias);
			pml_json_str(&j, "module", nd->module);
			pml_json_str(&j, "loaded", loaded);
			pml_json_double(&j, "load_ms", d);
			pml_json_obj_end(&j);
			fputc('\n', stdout);
			continue;
		}
		printf("  %9.3f  %-32s -> %-20s", t, nd->alias[0] ? nd->alias : "(user space)",
		       nd->module[0] ? nd->module : "(no module)");
		if (nd->n_loaded > 1) {
			printf(" loaded");
			for (uint32_t k = 0; k < nd->n_loaded; k++)
				printf(" %s", nd->loaded[k]);
		}
		if (nd->n_loaded)
			printf("  (%.1f ms)", d);
		printf("\n");
	}
}

static int cmd_needs(const char *dir, char **ids, int n_ids, bool json)
{
	struct pml_dataset *ds;
	int rc = PML_EXIT_OK;

	if (open_ds(dir, &ds) < 0)
		return PML_EXIT_FAIL;
	for (int k = 0; k < n_ids; k++)
		if (!pml_dataset_find(ds, ids[k])) {
			fprintf(stderr, "pml: dataset: %s: no run '%s' (pml dataset stats lists the "
					"scenarios; ids are SCENARIO#NNNN)\n", dir, ids[k]);
			pml_dataset_free(ds);
			return PML_EXIT_USAGE;
		}
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];
		struct pml_needs n;
		char path[4400];
		bool want = !n_ids;

		for (int k = 0; k < n_ids && !want; k++)
			want = !strcmp(ids[k], run->id);
		if (!want || !run->trace[0])
			continue;
		int r = open_trace(ds, run, path, sizeof(path));

		if (r < 0) {
			fprintf(stderr, "pml: dataset: %s: %s: %s\n", run->id, path,
				pml_beneath_strerror(r));
			rc = PML_EXIT_FAIL;
			continue;
		}
		r = pml_needs_from_fd(r, path, &n);
		if (!json)
			printf("%s (%s, seed %" PRIu32 "%s%s):\n", run->id, pml_split_name(run->split),
			       run->seed, run->params[0] ? ", " : "", run->params);
		print_needs(run, &n, json, n.first_ns);
		if (r < 0) {
			fprintf(stderr, "pml: dataset: %s: %s\n", path, strerror(-r));
			rc = PML_EXIT_FAIL;
		}
		pml_needs_release(&n);
	}
	pml_dataset_free(ds);
	return rc;
}

static int cmd_verify(const char *dir)
{
	struct pml_dataset *ds;
	size_t bad = 0, checked = 0;

	if (open_ds(dir, &ds) < 0)
		return PML_EXIT_FAIL;
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];
		char why[512];

		if (!run->trace[0])
			continue;
		checked++;
		if (pml_dataset_check_run(ds, run, -1, why, sizeof(why)) < 0) {
			printf("%s: %s/%s: %s\n", run->id, ds->dir, run->trace, why);
			bad++;
		}
	}
	printf("%zu traces checked, %zu damaged\n", checked, bad);
	pml_dataset_free(ds);
	return bad ? PML_EXIT_FAIL : PML_EXIT_OK;
}

static int cmd_pack(const char *dir, const char *out, bool stored)
{
	struct pml_dataset *ds;
	char tmp[4000], src[4400], dst[4400];
	uint64_t in_bytes = 0, out_bytes = 0, rec_in = 0, rec_out = 0;
	int rc = PML_EXIT_FAIL;

	if (!out) {
		fprintf(stderr, "pml: dataset pack: no output directory (-o OUT)\n");
		return PML_EXIT_USAGE;
	}
	if (access(out, F_OK) == 0) {
		fprintf(stderr, "pml: dataset pack: %s exists; give a new directory\n", out);
		return PML_EXIT_USAGE;
	}
	if (open_ds(dir, &ds) < 0)
		return PML_EXIT_FAIL;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid());
	snprintf(dst, sizeof(dst), "%s/traces", tmp);
	if (mkdir(tmp, 0755) < 0 || mkdir(dst, 0755) < 0) {
		fprintf(stderr, "pml: dataset pack: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < ds->n_runs; i++) {
		struct pml_ds_run *run = &ds->runs[i];
		struct pml_pack_stats st;
		int r;

		if (!run->trace[0])
			continue;
		r = open_trace(ds, run, src, sizeof(src));
		if (r == -EINVAL || r == -ELOOP || r == -EXDEV || r == -EISDIR ||
		    r == -EBADFD) {
			/* not a damaged trace but a forged entry: none of it is copied */
			fprintf(stderr, "pml: dataset pack: %s: %s: %s\n", run->id, src,
				pml_beneath_strerror(r));
			goto out;
		}
		/* the entry is confined (the manifest's reader saw to it): below tmp */
		snprintf(dst, sizeof(dst), "%s/%s", tmp, run->trace);
		if (r >= 0)
			r = pml_trace_pack_fd(r, src, dst,
					      stored ? PML_TRACE_W_STORED : 0, &st);
		if (r < 0) {
			if (run->state == PML_RUN_OK) {
				fprintf(stderr, "pml: dataset pack: %s: %s: %s\n", run->id, src,
					strerror(-r));
				goto out;
			}
			run->trace[0] = '\0'; /* a failed run's damaged trace is left out */
			continue;
		}
		in_bytes += run->trace_bytes;
		rec_in += st.records_in;
		rec_out += st.records_out;
		if (pml_file_crc32(dst, &run->trace_crc, &run->trace_bytes) < 0)
			goto out;
		run->events = st.records_out;
		out_bytes += run->trace_bytes;
	}
	snprintf(ds->dir, sizeof(ds->dir), "%s", tmp);
	ds->packed = true;
	if (pml_dataset_save(ds) < 0 || rename(tmp, out) < 0) {
		fprintf(stderr, "pml: dataset pack: %s: cannot write: %s\n", out, strerror(errno));
		goto out;
	}
	printf("%zu runs packed into %s: %.1f MB of traces (was %.1f MB), %llu of %llu records "
	       "kept\n", ds->n_runs, out, (double)out_bytes / 1e6, (double)in_bytes / 1e6,
	       (unsigned long long)rec_out, (unsigned long long)rec_in);
	rc = PML_EXIT_OK;
out:
	if (rc != PML_EXIT_OK)
		pml_spawn_wait((char *[]){"rm", "-rf", tmp, NULL}, -1, 0);
	pml_dataset_free(ds);
	return rc;
}

struct merge_progress {
	double t0, last;
	bool shown;
};

/* On a long merge, a line after 2 s, then every 5 s, and the last one. */
static void merge_progress(void *data, size_t done, size_t total)
{
	struct merge_progress *p = data;
	double now = (double)pml_now_ns() / 1e9;

	if (now - p->t0 < 2 || (p->shown && now - p->last < 5 && done < total))
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "pml: dataset merge: %zu/%zu runs copied and checked (%.0f%%), %.0f s\n",
		done, total, 100.0 * (double)done / (double)(total ? total : 1), now - p->t0);
}

static int cmd_merge(char **dirs, int n, const char *out, bool json, bool resplit)
{
	struct merge_progress prog = {.t0 = (double)pml_now_ns() / 1e9};
	struct pml_merge_stats st;
	int r;

	if (!out) {
		fprintf(stderr, "pml: dataset merge: no output directory (-o OUT)\n");
		return PML_EXIT_USAGE;
	}
	r = pml_dataset_merge((const char *const *)dirs, (size_t)n, out,
			      resplit ? PML_MERGE_RESPLIT : 0, merge_progress, &prog, &st);
	if (r == -EEXIST)
		return PML_EXIT_USAGE;
	if (r < 0) {
		/* the library named the file and the run */
		fprintf(stderr, "pml: dataset merge: nothing written (%s not made)\n", out);
		return PML_EXIT_FAIL;
	}
	if (json) {
		struct pml_json j;

		pml_json_init(&j, stdout, true);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "output", out);
		pml_json_int(&j, "inputs", (int64_t)st.inputs);
		pml_json_int(&j, "runs", (int64_t)st.runs);
		pml_json_int(&j, "ok", (int64_t)st.ok);
		pml_json_int(&j, "failed", (int64_t)st.failed);
		pml_json_int(&j, "lost", (int64_t)st.lost);
		pml_json_int(&j, "duplicates", (int64_t)st.duplicates);
		pml_json_int(&j, "superseded_lost", (int64_t)st.superseded);
		pml_json_int(&j, "traces", (int64_t)st.traces);
		pml_json_int(&j, "trace_bytes", (int64_t)st.trace_bytes);
		pml_json_int(&j, "logs", (int64_t)st.logs);
		pml_json_int(&j, "seed", st.seed);
		pml_json_str(&j, "kernel", st.kernel);
		if (resplit)
			pml_json_int(&j, "resplit_moved", (int64_t)st.resplit_moved);
		if (st.shard_count) {
			pml_json_int(&j, "shard_count", st.shard_count);
			pml_json_int(&j, "shards_missing", (int64_t)st.shards_missing);
			pml_json_str(&j, "missing", st.missing);
		}
		pml_json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		printf("%zu runs (%zu ok, %zu failed, %zu lost) from %zu datasets into %s: %zu "
		       "traces (%.1f MB) checked and copied, %zu logs", st.runs, st.ok, st.failed,
		       st.lost, st.inputs, out, st.traces, (double)st.trace_bytes / 1e6, st.logs);
		if (st.duplicates || st.superseded)
			printf("; %zu runs found twice kept once, %zu lost runs taken from where "
			       "they were recorded", st.duplicates, st.superseded);
		printf("\n");
		if (resplit)
			printf("the split chosen again over the merged scenarios: %zu runs moved "
			       "split\n", st.resplit_moved);
		if (st.shard_count && st.shards_missing)
			printf("shards of %" PRIu32 ": %zu not given (%s): the dataset is not whole "
			       "yet\n", st.shard_count, st.shards_missing, st.missing);
		else if (st.shard_count)
			printf("shards of %" PRIu32 ": all given\n", st.shard_count);
	}
	return PML_EXIT_OK;
}

int cmd_dataset(int argc, char **argv)
{
	struct cmd_getopt g;
	const char *out = NULL;
	bool json = false, stored = false, resplit = false;
	const char *verb;
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? PML_EXIT_USAGE : PML_EXIT_OK;
	}
	verb = argv[1];
	argc--;
	argv++;
	argv[0] = (char *)"pml: dataset"; /* getopt_long's prefix (commands.h) */
	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			stored = true;
			break;
		case OPT_RESPLIT:
			resplit = true;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "pml: dataset %s: no dataset directory given\n", verb);
		return PML_EXIT_USAGE;
	}
	if (!strcmp(verb, "stats"))
		return cmd_stats(argv[optind], json);
	if (!strcmp(verb, "needs"))
		return cmd_needs(argv[optind], argv + optind + 1, argc - optind - 1, json);
	if (!strcmp(verb, "verify"))
		return cmd_verify(argv[optind]);
	if (!strcmp(verb, "pack"))
		return cmd_pack(argv[optind], out, stored);
	if (!strcmp(verb, "merge"))
		return cmd_merge(argv + optind, argc - optind, out, json, resplit);
	fprintf(stderr, "pml: dataset: unknown command '%s' (stats, needs, verify, pack, "
			"merge)\n", verb);
	return PML_EXIT_USAGE;
}
