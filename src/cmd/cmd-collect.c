/* pml collect: run workload scenarios in guests under the reactive policy and record each
 * run's trace into a dataset (dataset.h): the manifest, the traces, failed runs' output.
 *
 * Runs are batched several to a boot (workloads/run-scenario --reset unloads everything
 * outside the base set between runs); a run that leaves a module that will not unload ends
 * its boot, and the rest of the batch goes to a later one, so every run starts from the
 * base set. Scenarios seen to leave such modules are scheduled last in their batches. Up
 * to --jobs guests run at once. The manifest is rewritten after every boot, so a killed
 * collection resumes where it stopped: runs already recorded (ok or failed) are not redone.
 * A boot that fails (no result) is retried once per run; a run lost twice is recorded as
 * lost. With --shard I/N only the runs of one shard are collected (dataset/shard.h), into
 * a directory of its own that records the shard; `pml dataset merge` joins the shards. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd-collect.h"
#include "cmd/cmd-options.h"
#include "cmd/cmd-errors.h"
#include "cmd/commands.h"
#include "dataset/dataset.h"
#include "dataset/needs.h"
#include "dataset/scenario.h"
#include "dataset/shard.h"
#include "trace/trace-file.h"
#include "util/log.h"
#include "util/safepath.h"
#include "util/timeutil.h"
#include "vm/vm.h"

enum { OPT_PER_BOOT = CMD_OPT_LONG_ONLY, OPT_SEED, OPT_MEMORY, OPT_LIST, OPT_SHARD };

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{'o', "output", "DIR", "the dataset (created if missing)"},
	{'s', "scenarios", "GLOBS", "which scenarios, by FAMILY/NAME globs (default: all)"},
	{'n', "runs", "N", "runs per scenario (default 1): run indices 0..N-1"},
	{'j', "jobs", "N", "guests at once (default: the number of CPUs, at most 2)"},
	{OPT_PER_BOOT, "per-boot", "N", "runs per boot at most (default 14)"},
	{OPT_SEED, "seed", "N",
	 "a new dataset's seed (run seeds and split derive from it;\n"
	 "default 1); an existing dataset keeps its own"},
	{OPT_SHARD, "shard", "I/N",
	 "only shard I of N (1 <= I <= N): the runs are split into N\n"
	 "disjoint shards by a hash of the run id, so N hosts can\n"
	 "collect one dataset, each into its own DIR (the same\n"
	 "corpus, --seed and --runs on all), joined by 'pml dataset\n"
	 "merge'; seeds and split do not depend on it; DIR records\n"
	 "its shard and is resumed only as that shard"},
	{OPT_MEMORY, "memory", "MB", "guest memory (default 1024)"},
	{OPT_LIST, "list", NULL, "print the runs that would be done, and stop"},
	{'q', "quiet", NULL, "no progress messages"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml collect -o DIR [--scenarios GLOB[,GLOB]] [--runs N] [OPTIONS]\n\n"
		"Run workload scenarios (workloads/FAMILY/NAME.sh) in guests on the base kernel under\n"
		"the reactive policy, record each run with the eBPF tracer, and add the runs to the\n"
		"dataset in DIR (manifest.jsonl, traces/, logs/). Runs already in DIR are kept and\n"
		"not redone: rerunning the same command resumes a collection that was stopped.\n\n"
		"Options:\n");
	cmd_options_help(f, options);
	fprintf(f,
		"\nThe split: whole scenarios are held out for test and validation (one per family of\n"
		"3+ scenarios, and one more for validation in families of 5+), and ~15%%/10%% of the\n"
		"other scenarios' runs; 'pml dataset stats DIR' shows it.\n");
}

/* Add the comma-separated packages to the set in c->packages. -E2BIG when it is full. */
static int add_packages(struct collect *c, const char *packages)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", packages);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char pat[260];
		size_t len = strlen(c->packages);

		snprintf(pat, sizeof(pat), ",%s,", w);
		if (len) {
			char all[4100];

			snprintf(all, sizeof(all), ",%s,", c->packages);
			if (strstr(all, pat))
				continue;
		}
		if (len + strlen(w) + 2 > sizeof(c->packages))
			return -E2BIG;
		snprintf(c->packages + len, sizeof(c->packages) - len, "%s%s", len ? "," : "", w);
	}
	return 0;
}

/* Stage the corpus once: the scripts and the helper tools built for the guest. */
static int stage_workloads(struct collect *c)
{
	char src[PATH_MAX + 32], bin[PATH_MAX + 8], build[PATH_MAX + 32];

	snprintf(c->stage, sizeof(c->stage), "/tmp/pml-collect.XXXXXX");
	if (!mkdtemp(c->stage))
		return -errno;
	snprintf(src, sizeof(src), "%s/workloads/.", c->tb.src_dir);
	if (pml_spawn_wait((char *[]){"cp", "-a", src, c->stage, NULL}, -1, 0) != 0)
		return -EIO;
	snprintf(bin, sizeof(bin), "%s/bin", c->stage);
	snprintf(build, sizeof(build), "%s/workloads/tools/build", c->tb.src_dir);
	if (pml_spawn_wait((char *[]){build, bin, NULL}, STDERR_FILENO, 0) != 0) {
		pml_err("building the workload tools failed (%s)", build);
		return -EIO;
	}
	return 0;
}

static struct run_out *find_out(struct run_out *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return &v[i];
	return NULL;
}

/* The guest's stdout is not trusted: its numbers are read whole and range-checked (a
 * time finite, a status an int), never converted out of range. s is what follows the
 * run id; 0 or -EINVAL. */
static int guest_marker(const char *s, double *ret_t, int *ret_status)
{
	char *end;
	double t;
	long st;

	errno = 0;
	t = strtod(s, &end);
	if (end == s || errno || !isfinite(t) || (*end && *end != ' ' && *end != '\n'))
		return -EINVAL;
	if (ret_status) {
		s = end;
		errno = 0;
		st = strtol(s, &end, 10);
		if (end == s || errno || st < INT_MIN || st > INT_MAX ||
		    (*end && *end != ' ' && *end != '\n'))
			return -EINVAL;
		*ret_status = (int)st;
	}
	*ret_t = t;
	return 0;
}

void collect_parse_stdout(const char *path, struct run_out *v, size_t n)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	struct run_out *cur = NULL;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char id[128], rest[1024];
		double t;
		int st, k = -1;
		struct run_out *r;

		if (sscanf(line, "### pml-scenario start %127s %n", id, &k) == 1 &&
		    k > 0 && guest_marker(line + k, &t, NULL) == 0) {
			cur = find_out(v, n, id);
			if (cur) {
				cur->started = true;
				cur->t0 = t;
			}
			continue;
		}
		k = -1;
		if (sscanf(line, "### pml-scenario end %127s %n", id, &k) == 1 && k > 0 &&
		    guest_marker(line + k, &t, &st) == 0) {
			r = find_out(v, n, id);
			if (r) {
				r->ended = true;
				r->t1 = t;
				r->status = st;
			}
			cur = NULL;
			continue;
		}
		if (sscanf(line, "### pml-sticky %127s %1023[^\n]", id, rest) >= 1) {
			r = find_out(v, n, id);
			if (r && sscanf(line, "### pml-sticky %*s %1023[^\n]", rest) == 1)
				snprintf(r->sticky, sizeof(r->sticky), "%s", rest);
			continue;
		}
		if (sscanf(line, "### pml-stopped sticky %127s", id) == 1) {
			r = find_out(v, n, id);
			if (r)
				r->stopped = true;
			continue;
		}
		if (!strncmp(line, "### ", 4) || !cur)
			continue;
		if (!cur->outf)
			cur->outf = open_memstream(&cur->out, &cur->out_len);
		if (cur->outf)
			fputs(line, cur->outf);
		if (!strncmp(line, "pml-param ", 10)) {
			char name[64], val[128];
			size_t len = strlen(cur->params);

			if (sscanf(line + 10, "%63s %127[^\n]", name, val) == 2)
				snprintf(cur->params + len, sizeof(cur->params) - len, "%s%s=%s",
					 len ? " " : "", name, val);
		}
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (v[i].outf) {
			fclose(v[i].outf);
			v[i].outf = NULL;
		}
}

/* Read the trace on fd (taken): its header's kernel, counts and the needs. 0, or the
 * reader's -errno (what was read before damage is kept). */
static int read_trace(int fd, const char *path, struct pml_ds_run *run,
		      struct pml_needs *needs)
{
	struct pml_trace_reader *r = NULL;
	struct pml_trace_reader_stats st;
	const struct pml_tev_hdr *e;
	FILE *f = fdopen(fd, "rb");
	int rc;

	pml_needs_init(needs);
	if (!f) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = pml_trace_reader_new(f, path, &r);
	if (rc < 0) {
		pml_trace_reader_free(r);
		return rc;
	}
	snprintf(run->kernel, sizeof(run->kernel), "%s",
		 pml_trace_reader_header(r)->kernel_release);
	while ((rc = pml_trace_reader_next(r, &e)) > 0)
		if (pml_needs_add(needs, e) < 0) {
			rc = -ENOMEM;
			break;
		}
	pml_trace_reader_stats(r, &st);
	run->events = st.events;
	run->dropped = st.complete ? st.end.dropped : 0;
	if (rc < 0)
		pml_warn("%s", pml_trace_reader_error(r));
	pml_trace_reader_free(r);
	return rc < 0 ? rc : 0;
}

/* Open rel below dir (pml_open_beneath()): the dataset being resumed, or what came back
 * from the guest, may hold links that lead elsewhere. */
static int open_below(const char *dir, const char *rel, int flags, bool regular)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return -errno;
	fd = regular ? pml_open_regular_beneath(dfd, rel, flags) :
		       pml_open_beneath(dfd, rel, flags);
	close(dfd);
	return fd;
}

static void write_log(struct collect *c, const struct pending *p, const char *why,
		      const struct run_out *o)
{
	char path[PATH_MAX + 256], rel[128], lf[112];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/logs", c->ds->dir);
	mkdir(path, 0755);
	pml_dataset_run_file(p->sc->name, p->index, ".out", lf, sizeof(lf));
	snprintf(rel, sizeof(rel), "logs/%s", lf);
	fd = open_below(c->ds->dir, rel, O_WRONLY | O_CREAT | O_TRUNC, false);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		pml_warn("%s/%s: %s", c->ds->dir, rel,
			 pml_beneath_strerror(fd < 0 ? fd : -errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "# %s\n", why);
	if (o && o->out)
		fwrite(o->out, 1, o->out_len, f);
	fclose(f);
}

/* Record the outcome of one run of a finished boot. Returns 1 when it was recorded, 0
 * when it must be requeued. */
int collect_record_run(struct collect *c, const struct boot *b, const struct pending *p,
		       struct run_out *o, const char *result_dir, bool excused)
{
	struct pml_ds_run run = {0};
	struct pml_needs needs;
	char tf[112], src[PATH_MAX + 256], dst[PATH_MAX + 256], rel[160], why[256] = "";
	const char *mods[256];
	size_t nm;
	int r, fd;

	pml_dataset_run_id(p->sc->name, p->index, run.id, sizeof(run.id));
	snprintf(run.scenario, sizeof(run.scenario), "%s", p->sc->name);
	snprintf(run.family, sizeof(run.family), "%s", p->sc->family);
	run.index = p->index;
	run.seed = pml_dataset_run_seed(c->ds, p->sc->name, p->index);
	run.split = pml_dataset_split_of(c->ds, p->sc->name, p->index, &run.heldout);
	run.boot = b->number;
	run.status = -1;
	pml_dataset_run_file(p->sc->name, p->index, ".trace", tf, sizeof(tf));
	if (!o || !o->started) {
		if (excused || p->tries < 1)
			return 0; /* not reached (the boot stopped early): again later */
		run.state = PML_RUN_LOST;
		write_log(c, p, "lost: twice the guest stopped before this run started", o);
		goto add;
	}
	if (!o->ended) {
		if (p->tries < 1)
			return 0;
		run.state = PML_RUN_LOST;
		write_log(c, p, "lost: the guest stopped during this run, twice", o);
		goto add;
	}
	snprintf(run.params, sizeof(run.params), "%s", o->params);
	run.status = o->status;
	run.guest_s = isfinite(o->t1 - o->t0) ? o->t1 - o->t0 : 0;
	snprintf(src, sizeof(src), "%s/out/traces/%s", result_dir, tf);
	snprintf(dst, sizeof(dst), "%s/traces/%s", c->ds->dir, tf);
	/* what came back is the guest's: a regular file, reached through no link */
	snprintf(rel, sizeof(rel), "out/traces/%s", tf);
	fd = open_below(result_dir, rel, O_PATH, true);
	if (fd >= 0)
		close(fd);
	if (fd == -ELOOP || fd == -EISDIR || fd == -EBADFD) {
		snprintf(why, sizeof(why), "the trace that came back is %s",
			 pml_beneath_strerror(fd));
	} else if (fd >= 0 &&
		   pml_spawn_wait((char *[]){"mv", "-f", src, dst, NULL}, -1, 0) == 0) {
		snprintf(run.trace, sizeof(run.trace), "traces/%s", tf);
		fd = pml_dataset_trace_open(c->ds, &run);
		r = fd < 0 ? fd : pml_fd_crc32(fd, &run.trace_crc, &run.trace_bytes);
		if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
			r = -errno;
		if (r == 0) {
			r = read_trace(fd, dst, &run, &needs);
		} else {
			if (fd >= 0)
				close(fd);
			pml_needs_init(&needs);
		}
		run.n_needs = (uint32_t)needs.n;
		nm = pml_needs_modules(&needs, mods, 256);
		for (size_t i = 0; i < nm; i++) {
			size_t len = strlen(run.modules);

			snprintf(run.modules + len, sizeof(run.modules) - len, "%s%s",
				 len ? " " : "", mods[i]);
		}
		pml_needs_release(&needs);
		if (r < 0)
			snprintf(why, sizeof(why), "the trace is damaged: %s", strerror(-r));
	} else {
		snprintf(why, sizeof(why), "no trace came back");
	}
	if (run.status != 0 && !why[0])
		snprintf(why, sizeof(why), "the scenario exited with status %d%s", run.status,
			 run.status == 124 ? " (timed out)" : "");
	run.state = why[0] ? PML_RUN_FAILED : PML_RUN_OK;
	if (why[0])
		write_log(c, p, why, o);
	if (o->sticky[0]) {
		if (!c->sticky[p->sc - c->scen.v])
			pml_info("%s left modules that do not unload (%s): its runs end their "
				 "boots from now on", p->sc->name, o->sticky);
		c->sticky[p->sc - c->scen.v] = 1;
	}
add:
	if (!c->ds->kernel[0] && run.kernel[0])
		snprintf(c->ds->kernel, sizeof(c->ds->kernel), "%s", run.kernel);
	if (pml_dataset_add(c->ds, &run) < 0)
		return -ENOMEM;
	if (run.state == PML_RUN_OK)
		c->done_ok++;
	else if (run.state == PML_RUN_FAILED)
		c->done_failed++;
	else
		c->done_lost++;
	return 1;
}

/* A whole number by its table entry (util/option-table.h). */
static int parse_uint(enum pml_numopt id, const char *s, unsigned long *ret)
{
	int64_t v;

	if (cmd_num_i64("pml: collect", id, s, &v) < 0)
		return -EINVAL;
	*ret = (unsigned long)v;
	return 0;
}

int cmd_collect(int argc, char **argv)
{
	struct cmd_getopt g;
	struct collect c = {.per_boot = 14, .memory_mb = 1024};
	const char *out = NULL, *globs = "*";
	unsigned long runs = 1, v, seed = 1;
	bool list_only = false;
	struct pml_shard shard = {.index = 1, .count = 1};
	char shard_name[24] = "";
	char wdir[PATH_MAX + 16], path[PATH_MAX + 32];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool interrupted = false;
	int ch, r, rc = PML_EXIT_FAIL;

	c.jobs = ncpu >= 2 ? 2 : 1;
	cmd_getopt_init(&g, options, "");
	while ((ch = cmd_getopt(&g, argc, argv)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 's':
			globs = optarg;
			break;
		case 'n':
			if (parse_uint(PML_NUMOPT_RUNS, optarg, &runs) < 0)
				return PML_EXIT_USAGE;
			break;
		case 'j':
			if (parse_uint(PML_NUMOPT_JOBS, optarg, &v) < 0)
				return PML_EXIT_USAGE;
			c.jobs = (int)v;
			break;
		case OPT_PER_BOOT:
			if (parse_uint(PML_NUMOPT_PER_BOOT, optarg, &v) < 0)
				return PML_EXIT_USAGE;
			c.per_boot = v;
			break;
		case OPT_SEED:
			if (parse_uint(PML_NUMOPT_COLLECT_SEED, optarg, &seed) < 0)
				return PML_EXIT_USAGE;
			break;
		case OPT_MEMORY:
			if (parse_uint(PML_NUMOPT_MEMORY, optarg, &v) < 0)
				return PML_EXIT_USAGE;
			c.memory_mb = (unsigned)(v >> 20);
			break;
		case OPT_LIST:
			list_only = true;
			break;
		case OPT_SHARD:
			if (pml_shard_parse(optarg, &shard) < 0) {
				fprintf(stderr, "pml: collect: --shard: '%s' is not I/N (shard I of N, "
						"1 <= I <= N <= %d)\n", optarg, PML_SHARD_MAX);
				return PML_EXIT_USAGE;
			}
			pml_shard_name(&shard, shard_name, sizeof(shard_name));
			break;
		case 'q':
			c.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (!out || optind < argc) {
		fprintf(stderr, out ? "pml: collect: unexpected argument '%s'\n" :
				      "pml: collect: no dataset directory (-o DIR)%s\n",
			out ? argv[optind] : "");
		return PML_EXIT_USAGE;
	}
	if (c.quiet)
		pml_set_log_level(PML_LOG_WARNING);

	/* The corpus: in the tree pml runs from (PML_SRCDIR overrides). */
	r = pml_testbed_src_dir(wdir, sizeof(wdir) - 16);
	if (r < 0) {
		fprintf(stderr, "pml: collect: pml's source tree is not found (set PML_SRCDIR)\n");
		return PML_EXIT_FAIL;
	}
	strcat(wdir, "/workloads");
	r = pml_scenarios_load(wdir, &c.scen);
	if (r < 0) {
		fprintf(stderr, "pml: collect: %s: no scenarios (%s)\n", wdir, strerror(-r));
		return PML_EXIT_FAIL;
	}
	{
		size_t matched = 0;

		for (size_t i = 0; i < c.scen.n; i++)
			matched += pml_scenario_match(c.scen.v[i].name, globs);
		if (!matched) {
			fprintf(stderr, "pml: collect: no scenario matches '%s' (%zu in %s; "
					"FAMILY/NAME globs, e.g. 'netdev/*')\n", globs, c.scen.n, wdir);
			rc = PML_EXIT_USAGE;
			goto out;
		}
	}
	c.sticky = calloc(c.scen.n, 1);
	c.queue = calloc(c.scen.n * runs + 1, sizeof(*c.queue));
	if (!c.sticky || !c.queue)
		goto out;

	/* The dataset: resume, or a new one with the split chosen over the whole corpus. */
	mkdir(out, 0755);
	r = pml_dataset_open(out, &c.ds);
	if (r == -ENOENT) {
		const char **names = calloc(c.scen.n, sizeof(*names));

		c.ds = pml_dataset_new(out, (uint32_t)seed);
		if (!c.ds || !names) {
			free(names);
			goto out;
		}
		/* over the whole corpus, whatever --scenarios and --shard take */
		for (size_t i = 0; i < c.scen.n; i++)
			names[i] = c.scen.v[i].name;
		pml_dataset_choose_heldout(c.ds, names, c.scen.n);
		pml_dataset_choose_heldout_families(c.ds, names, c.scen.n);
		free(names);
		snprintf(c.ds->shard, sizeof(c.ds->shard), "%s", shard_name);
	} else if (r < 0) {
		fprintf(stderr, "pml: collect: %s: cannot resume this dataset (%s)\n", out,
			cmd_manifest_strerror(r));
		goto out;
	} else if (strcmp(c.ds->shard, shard_name)) {
		/* its runs are another part of the list: resuming it as this one would mix
		 * two shards in one directory */
		fprintf(stderr, "pml: collect: %s was collected as %s%s; resume it with %s%s, or "
				"give another directory\n", out,
			c.ds->shard[0] ? "shard " : "a whole dataset (no --shard)", c.ds->shard,
			c.ds->shard[0] ? "--shard " : "no --shard", c.ds->shard);
		rc = PML_EXIT_USAGE;
		goto out;
	} else if (!c.quiet) {
		fprintf(stderr, "pml: collect: resuming %s%s%s (%zu runs recorded)\n", out,
			shard_name[0] ? ", shard " : "", shard_name, c.ds->n_runs);
	}
	/* traces/ and logs/ are written into: in a dataset being resumed, neither may be
	 * a link that would take the writes elsewhere */
	for (int k = 0; k < 2; k++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", out, k ? "logs" : "traces");
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "pml: collect: %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (lstat(path, &st) < 0) {
			fprintf(stderr, "pml: collect: %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "pml: collect: %s: %s\n", path,
				S_ISLNK(st.st_mode) ? pml_beneath_strerror(-ELOOP) :
				"not a directory");
			goto out;
		}
	}

	/* What is left to do: interleaved by run index, so every boot mixes scenarios; of
	 * this shard's runs only. */
	for (uint32_t k = 0; k < runs; k++) {
		for (size_t i = 0; i < c.scen.n; i++) {
			const struct pml_ds_run *done;
			char id[128];

			if (!pml_scenario_match(c.scen.v[i].name, globs))
				continue;
			pml_dataset_run_id(c.scen.v[i].name, k, id, sizeof(id));
			if (!pml_shard_has(&shard, id))
				continue;
			done = pml_dataset_find(c.ds, id);
			if (done && done->state != PML_RUN_LOST)
				continue;
			c.queue[c.n_queue++] = (struct pending){.sc = &c.scen.v[i], .index = k};
		}
	}
	c.total = c.n_queue;
	if (list_only) {
		for (size_t i = 0; i < c.n_queue; i++) {
			char id[128];
			bool held;
			enum pml_split sp = pml_dataset_split_of(c.ds, c.queue[i].sc->name,
							       c.queue[i].index, &held);

			pml_dataset_run_id(c.queue[i].sc->name, c.queue[i].index, id, sizeof(id));
			printf("%s\t%s%s\t%s\n", id, pml_split_name(sp), held ? " (held out)" : "",
			       c.queue[i].sc->packages[0] ? c.queue[i].sc->packages : "-");
		}
		rc = PML_EXIT_OK;
		goto out;
	}
	if (!c.n_queue) {
		if (!c.quiet)
			fprintf(stderr, "pml: collect: nothing to do: every run asked for is in %s\n",
				out);
		rc = pml_dataset_save(c.ds) < 0 ? PML_EXIT_FAIL : PML_EXIT_OK;
		goto out;
	}

	/* The testbed: the kernel, one image with every package the runs need (cached per
	 * package set by build-image), the staged corpus. */
	for (size_t i = 0; i < c.n_queue; i++) {
		if (add_packages(&c, c.queue[i].sc->packages) < 0) {
			fprintf(stderr, "pml: collect: the scenarios' package lists are too long "
					"together; collect fewer scenarios at once\n");
			goto out;
		}
	}
	if (pml_testbed_prepare(c.packages, c.quiet, &c.tb) < 0) {
		fprintf(stderr, "pml: collect: the testbed (packages '%s') is not ready\n",
			c.packages[0] ? c.packages : "none");
		goto out;
	}
	if (stage_workloads(&c) < 0) {
		fprintf(stderr, "pml: collect: cannot stage the workloads\n");
		goto out;
	}
	if (!c.quiet) {
		size_t n_scen = 0;

		/* a shard takes some of a scenario's runs: count the scenarios themselves */
		for (size_t i = 0; i < c.scen.n; i++)
			for (size_t k = 0; k < c.n_queue; k++)
				if (c.queue[k].sc == &c.scen.v[i]) {
					n_scen++;
					break;
				}
		fprintf(stderr, "pml: collect: %zu runs of %zu scenarios into %s%s%s%s, %d guests "
			"at once, up to %zu runs a boot\n", c.n_queue, n_scen, out,
			shard_name[0] ? " (shard " : "", shard_name, shard_name[0] ? ")" : "",
			c.jobs, c.per_boot);
	}
	rc = collect_boots(&c, &interrupted);
	if (interrupted) {
		fprintf(stderr, "pml: collect: interrupted; %zu runs recorded in %s (rerun the same "
				"command to resume)\n", c.ds->n_runs, out);
		rc = 130;
	} else if (!c.quiet) {
		fprintf(stderr, "pml: collect: done in %.0f s: %zu ok, %zu failed, %zu lost; %s has "
				"%zu runs\n", (double)pml_now_ns() / 1e9 - c.t_start, c.done_ok,
			c.done_failed, c.done_lost, out, c.ds->n_runs);
	}
out:
	if (c.stage[0])
		pml_spawn_wait((char *[]){"rm", "-rf", c.stage, NULL}, -1, 0);
	pml_dataset_free(c.ds);
	pml_scenarios_release(&c.scen);
	free(c.sticky);
	free(c.queue);
	return rc;
}
