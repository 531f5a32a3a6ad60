/* pml run: run a command in the microVM on the base kernel and report what happened to the
 * kernel's module set. Thin: options, the kernel and image scripts, pml_vm_run(), then the
 * report from the decision log. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/report.h"
#include "cmd/commands.h"
#include "loader/policy-file.h"
#include "policy/policy.h"
#include "util/log.h"
#include "vm/paths.h"
#include "vm/vm.h"

/* pml's own failures use 125, as docker/podman run do, so they are told apart from the
 * command's status, which pml run returns as its own. */
#define RUN_EXIT_PML 125

/* The needs model shipped for markov, in the source tree (trained by pml train-needs on
 * reactive runs of samples/demo.sh and workloads/; see doc/markov.md). */
#define PML_NEEDS_MODEL_DEFAULT "data/needs-markov-6.1.0-56-amd64.txt"
/* The lstm policy's model shipped in the source tree (pml train on the dataset's train
 * split; see doc/model.md). */
/* load-all's list: the needs model of the dataset's training split (pml eval
 * --save-markov), whose modules are every module a training run needed. */
#define PML_LOAD_ALL_MODEL_DEFAULT "data/needs-dataset-6.1.0-56-amd64.txt"
#define PML_LSTM_MODEL_DEFAULT "data/model-lstm-6.1.0-56-amd64.pmlm"

static bool valid_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return false;
	if (*end && strchr("kKmMgG", *end))
		end++;
	return !*end;
}

static bool valid_seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return end != s && !*end && v >= 0 && v < 3600;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml run [OPTIONS] -- CMD [ARGS...]\n\n"
		"Boot the guest on the minimal base kernel, run CMD in it (in /work) and report\n"
		"which kernel modules were loaded and unloaded, when and why. CMD's stdout and\n"
		"stderr come back as pml's, its exit status as pml's (125: pml itself failed).\n\n"
		"Options:\n"
		"  --policy NAME        reactive (default: Linux as shipped), idle-unload,\n"
		"                       markov (prefetch what usually follows a need), lstm\n"
		"                       (prefetch what the program's behaviour announces, read\n"
		"                       live by the eBPF tracer), lstm+idle-unload (lstm, and\n"
		"                       unload what was used once idle and no longer predicted)\n"
		"                       or load-all (load, at start, every module the needs\n"
		"                       model's runs needed)\n"
		"  --model FILE         markov, load-all: a needs model (default: the shipped\n"
		"                       " PML_NEEDS_MODEL_DEFAULT ",\n"
		"                       for load-all " PML_LOAD_ALL_MODEL_DEFAULT ");\n"
		"                       lstm: a model of pml train (default: the shipped one,\n"
		"                       " PML_LSTM_MODEL_DEFAULT ")\n"
		"  --threshold P        least probability worth a prefetch (default: markov 0.5,\n"
		"                       lstm the model's)\n"
		"  --horizon MS         how far ahead a prediction looks (markov, lstm; default:\n"
		"                       the model's; see pmld --help)\n"
		"  --budget-mem SIZE    bytes of non-base modules prefetches may fill (K, M, G)\n"
		"  --budget-cpu MS      load time prefetches may spend per second of the run\n"
		"  --compare reactive   run CMD again under reactive (a second boot) and print\n"
		"                       both summaries side by side; --report DIR then holds\n"
		"                       DIR/policy and DIR/reactive\n"
		"  --idle-seconds T     idle-unload: unload modules unused for T s (default 5)\n"
		"  --settle T           after CMD, wait T s before the report (default: idle-unload\n"
		"                       T+1, else 0)\n"
		"  --policy-file FILE   allow/deny/pin rules (see doc/policy-file.md)\n"
		"  --copy PATH          put a file, or a directory's contents, into /work (repeatable)\n"
		"  --packages P1,P2     extra Debian packages in the guest image (cached per set)\n"
		"  --report DIR         write the log, summary, stdout/stderr, console and /work/out\n"
		"  --json               print the report as one JSON object on stdout (CMD's output\n"
		"                       is inside it)\n"
		"  --timeout S          CMD's time limit in the guest (default 600)\n"
		"  --memory MB          guest memory (default 1024)\n"
		"  --accel auto|tcg|kvm how to run QEMU (default auto: KVM only if a probe boots)\n"
		"  --trace FILE         record CMD with the eBPF tracer into FILE (see 'pml trace')\n"
		"  --keep               keep the run's scratch directory\n"
		"  -q, --quiet          no progress messages\n"
		"  -h, --help           this text\n");
}

static int copy_fd_file(const char *path, FILE *to)
{
	FILE *f = fopen(path, "re");
	char buf[65536];
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, to);
	fclose(f);
	fflush(to);
	return 0;
}

/* A result file's whole text (NUL-terminated), NULL when absent. Caller frees. */
static char *slurp(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];
	FILE *f;
	char *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);

	if (m) {
		char chunk[65536];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
	}
	fclose(f);
	return buf;
}

/* --report DIR: the decision log, the summary (text and JSON), the command's output, the
 * console log and the files the command left in /work/out (as DIR/out). Written into a
 * temporary sibling and renamed, so DIR is never half-written. */
static int write_report_dir(const struct pml_report *rep, const struct pml_vm_result *res,
			    const char *run_dir, const char *dir, int status)
{
	char tmp[PATH_MAX], path[PATH_MAX + 64], src[PATH_MAX + 64];
	static const char *const files[] = {"events.jsonl", "stdout", "stderr", "base.txt", "trace.bin",
					    "pmld.out", "modules.end"};
	FILE *f;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", dir, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (mkdir(tmp, 0755) < 0) {
		fprintf(stderr, "pml: run: --report %s: %s\n", tmp, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s", res->result_dir, files[i]);
		if (access(src, R_OK) == 0)
			pml_spawn_wait((char *[]){"cp", src, tmp, NULL}, -1, 0);
	}
	snprintf(src, sizeof(src), "%s/console.log", run_dir);
	pml_spawn_wait((char *[]){"cp", src, tmp, NULL}, -1, 0);
	snprintf(src, sizeof(src), "%s/out", res->result_dir);
	if (access(src, F_OK) == 0)
		pml_spawn_wait((char *[]){"cp", "-a", src, tmp, NULL}, -1, 0);
	snprintf(path, sizeof(path), "%s/summary.json", tmp);
	f = fopen(path, "we");
	if (f) {
		pml_report_print_json(rep, f, status, NULL, true);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/summary.txt", tmp);
	f = fopen(path, "we");
	if (f) {
		pml_report_print_text(rep, f);
		fclose(f);
	}
	/* Replace an earlier report of the same name. */
	pml_spawn_wait((char *[]){"rm", "-rf", (char *)dir, NULL}, -1, 0);
	r = rename(tmp, dir) < 0 ? -errno : 0;
	if (r < 0) {
		fprintf(stderr, "pml: run: --report %s: %s\n", dir, strerror(-r));
		pml_spawn_wait((char *[]){"rm", "-rf", tmp, NULL}, -1, 0);
	}
	return r;
}

static bool valid_policy(const char *p)
{
	return !strcmp(p, "reactive") || !strcmp(p, "idle-unload") || !strcmp(p, "markov") ||
	       pml_policy_reads_trace(p) || !strcmp(p, "load-all");
}

/* One boot of job: the guest run, its report (window set), --report DIR written.
 * Returns the command's status, or RUN_EXIT_PML (said on stderr). */
static int boot_once(struct pml_vm_job *job, char *run_dir, const char *report_dir,
		     struct pml_vm_result *res, struct pml_report **rep)
{
	char path[PATH_MAX + 64];
	int r, status;

	*rep = NULL;
	pml_info("booting the guest (policy %s)", job->policy);
	r = pml_vm_run(job, res);
	if (r < 0) {
		fprintf(stderr, "pml: run: the guest run failed: %s (kept %s)\n", strerror(-r),
			run_dir);
		return RUN_EXIT_PML;
	}
	status = res->exit_status;
	snprintf(path, sizeof(path), "%s/events.jsonl", res->result_dir);
	r = pml_report_load(path, rep);
	if (r < 0) {
		fprintf(stderr, "pml: run: %s: cannot read the decision log: %s\n", path,
			strerror(-r));
		return RUN_EXIT_PML;
	}
	pml_report_set_window(*rep, (uint64_t)(res->guest_start_s * 1e9),
			      (uint64_t)((res->guest_start_s + res->guest_cmd_s) * 1e9));
	if (report_dir && write_report_dir(*rep, res, run_dir, report_dir, status) < 0)
		status = RUN_EXIT_PML;
	return status;
}

/* The side-by-side of --compare. */
static void print_compare(FILE *f, const char *policy, const struct pml_report *a,
			  const struct pml_report *b)
{
	const struct pml_report_summary *x = pml_report_summary(a), *y = pml_report_summary(b);

	fprintf(f, "\n%-22s %14s %14s\n", "", policy, "reactive");
	fprintf(f, "%-22s %14zu %14zu\n", "needs", x->needs, y->needs);
	fprintf(f, "%-22s %14zu %14zu\n", "stalls", x->stalls, y->stalls);
	fprintf(f, "%-22s %14.1f %14.1f\n", "stall ms", x->stall_ms, y->stall_ms);
	fprintf(f, "%-22s %14.1f %14.1f\n", "stall max ms", x->stall_max_ms, y->stall_max_ms);
	fprintf(f, "%-22s %14zu %14zu\n", "already present", x->present, y->present);
	fprintf(f, "%-22s %14zu %14zu\n", "loads", x->loads, y->loads);
	fprintf(f, "%-22s %14zu %14zu\n", "  by prediction", x->predicted_loads,
		y->predicted_loads);
	fprintf(f, "%-22s %14zu %14zu\n", "  wasted", x->wasted, y->wasted);
	fprintf(f, "%-22s %14zu %14zu\n", "unloads", x->unloads, y->unloads);
	fprintf(f, "%-22s %14.1f %14.1f\n", "peak KiB", (double)x->peak_bytes / 1024,
		(double)y->peak_bytes / 1024);
	fprintf(f, "%-22s %14.1f %14.1f\n", "average KiB", x->avg_bytes / 1024,
		y->avg_bytes / 1024);
	fprintf(f, "%-22s %14.2f %14.2f\n", "command s",
		(double)(x->t_end_ns - x->t_start_ns) / 1e9,
		(double)(y->t_end_ns - y->t_start_ns) / 1e9);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'P'},
		{"idle-seconds", required_argument, NULL, 'I'},
		{"settle", required_argument, NULL, 'S'},
		{"policy-file", required_argument, NULL, 'F'},
		{"copy", required_argument, NULL, 'c'},
		{"packages", required_argument, NULL, 'p'},
		{"report", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"memory", required_argument, NULL, 'm'},
		{"accel", required_argument, NULL, 'a'},
		{"keep", no_argument, NULL, 'k'},
		{"trace", required_argument, NULL, 0x100},
		{"model", required_argument, NULL, 'M'},
		{"threshold", required_argument, NULL, 'T'},
		{"budget-mem", required_argument, NULL, 'B'},
		{"budget-cpu", required_argument, NULL, 'U'},
		{"compare", required_argument, NULL, 'C'},
		{"horizon", required_argument, NULL, 'H'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct pml_vm_job job = {
		.policy = "reactive", .idle_seconds = 5, .settle_seconds = -1,
		.timeout_s = 600, .mem_mb = 1024, .accel = PML_ACCEL_AUTO,
	};
	const char *report_dir = NULL, *compare = NULL;
	/* A test of the fail-safe: kill -9 pmld this many seconds into the command. */
	const char *kill_after = getenv("PML_TEST_KILL_PMLD");
	const char *trace_file = NULL;
	char packages[4096] = "", run_dir[] = "/tmp/pml-run.XXXXXX";
	char run_dir2[] = "/tmp/pml-run.XXXXXX", model_path[PATH_MAX + 64];
	char report_sub[PATH_MAX];
	struct pml_report *rep2 = NULL;
	struct pml_vm_result res2;
	struct pml_testbed tb;
	bool json = false, keep = false, quiet = false;
	struct pml_vm_result res;
	struct pml_report *rep = NULL;
	char *end;
	int c, r, status = RUN_EXIT_PML;

	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			job.policy = optarg;
			if (!valid_policy(optarg)) {
				fprintf(stderr, "pml: run: unknown policy '%s' (reactive, idle-unload, "
					"markov, lstm, lstm+idle-unload, load-all)\n", optarg);
				return RUN_EXIT_PML;
			}
			break;
		case 'I':
		case 'S': {
			double v = strtod(optarg, &end);

			if (*end || end == optarg || v < 0 || v > 3600) {
				fprintf(stderr, "pml: run: --%s: '%s' is not a number of seconds "
						"(0-3600)\n", c == 'I' ? "idle-seconds" : "settle",
					optarg);
				return RUN_EXIT_PML;
			}
			*(c == 'I' ? &job.idle_seconds : &job.settle_seconds) = v;
			break;
		}
		case 'F':
			job.policy_file = optarg;
			break;
		case 'c':
			if (job.n_copy == PML_VM_MAX_COPY) {
				fprintf(stderr, "pml: run: at most %d --copy\n", PML_VM_MAX_COPY);
				return RUN_EXIT_PML;
			}
			if (access(optarg, R_OK) < 0) {
				fprintf(stderr, "pml: run: --copy %s: %s\n", optarg, strerror(errno));
				return RUN_EXIT_PML;
			}
			job.copy[job.n_copy++] = optarg;
			break;
		case 'p':
			if (strlen(packages) + strlen(optarg) + 2 > sizeof(packages)) {
				fprintf(stderr, "pml: run: --packages: list too long\n");
				return RUN_EXIT_PML;
			}
			if (*packages)
				strcat(packages, ",");
			strcat(packages, optarg);
			break;
		case 'r':
			report_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
		case 'm': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || end == optarg || v == 0 || v > (c == 't' ? 86400ul : 65536ul)) {
				fprintf(stderr, "pml: run: --%s: bad value '%s'\n",
					c == 't' ? "timeout" : "memory", optarg);
				return RUN_EXIT_PML;
			}
			*(c == 't' ? &job.timeout_s : &job.mem_mb) = (unsigned)v;
			break;
		}
		case 'a':
			if (!strcmp(optarg, "auto"))
				job.accel = PML_ACCEL_AUTO;
			else if (!strcmp(optarg, "tcg"))
				job.accel = PML_ACCEL_TCG;
			else if (!strcmp(optarg, "kvm"))
				job.accel = PML_ACCEL_KVM;
			else {
				fprintf(stderr, "pml: run: --accel: '%s' is not auto, tcg or kvm\n",
					optarg);
				return RUN_EXIT_PML;
			}
			break;
		case 0x100:
			trace_file = optarg;
			job.trace = true;
			break;
		case 'k':
			keep = true;
			break;
		case 'M':
			if (access(optarg, R_OK) < 0) {
				fprintf(stderr, "pml: run: --model %s: %s\n", optarg, strerror(errno));
				return RUN_EXIT_PML;
			}
			job.model = optarg;
			break;
		case 'T':
			job.threshold = strtod(optarg, &end);
			if (*end || end == optarg || job.threshold <= 0 || job.threshold > 1) {
				fprintf(stderr, "pml: run: --threshold: '%s' is not a probability in "
						"(0, 1]\n", optarg);
				return RUN_EXIT_PML;
			}
			break;
		case 'B':
			if (!valid_size(optarg)) {
				fprintf(stderr, "pml: run: --budget-mem: '%s' is not a size (e.g. "
						"64M)\n", optarg);
				return RUN_EXIT_PML;
			}
			job.budget_mem = optarg;
			break;
		case 'U':
			job.budget_cpu = strtod(optarg, &end);
			if (*end || end == optarg || job.budget_cpu <= 0 || job.budget_cpu > 1000) {
				fprintf(stderr, "pml: run: --budget-cpu: '%s' is not ms of load time per "
						"second (0-1000]\n", optarg);
				return RUN_EXIT_PML;
			}
			break;
		case 'H':
			job.horizon_ms = strtod(optarg, &end);
			if (*end || end == optarg || job.horizon_ms < 1 || job.horizon_ms > 3600e3) {
				fprintf(stderr, "pml: run: --horizon: '%s' is not ms (1-3600000)\n",
					optarg);
				return RUN_EXIT_PML;
			}
			break;
		case 'C':
			if (strcmp(optarg, "reactive")) {
				fprintf(stderr, "pml: run: --compare: only 'reactive' is known, not "
						"'%s'\n", optarg);
				return RUN_EXIT_PML;
			}
			compare = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return RUN_EXIT_PML;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "pml: run: no command given (pml run [OPTIONS] -- CMD [ARGS...])\n");
		return RUN_EXIT_PML;
	}
	job.argv = argv + optind;
	if (job.settle_seconds < 0)
		job.settle_seconds = !strcmp(job.policy, "idle-unload") ? job.idle_seconds + 1 : 0;
	if (job.policy_file) {
		struct pml_policy_file *pf;

		r = pml_policy_file_load(job.policy_file, &pf);
		if (r < 0)
			return RUN_EXIT_PML; /* the parser logged file:line: what */
		pml_policy_file_free(pf);
	}
	if (kill_after && !valid_seconds(kill_after)) {
		fprintf(stderr, "pml: run: PML_TEST_KILL_PMLD: '%s' is not seconds\n",
			kill_after);
		return RUN_EXIT_PML;
	}
	if (quiet)
		pml_set_log_level(PML_LOG_WARNING);

	r = pml_testbed_prepare(packages, quiet, &tb);
	if (r < 0) {
		fprintf(stderr, "pml: run: the testbed is not ready (see above)\n");
		return RUN_EXIT_PML;
	}
	job.bin_dir = tb.bin_dir;
	job.guest_dir = tb.guest_dir;
	job.image_dir = tb.image_dir;

	if ((!strcmp(job.policy, "markov") || pml_policy_reads_trace(job.policy) ||
	     !strcmp(job.policy, "load-all")) && !job.model) {
		snprintf(model_path, sizeof(model_path), "%s/%s", tb.src_dir,
			 pml_policy_reads_trace(job.policy) ? PML_LSTM_MODEL_DEFAULT
			 : !strcmp(job.policy, "load-all") ? PML_LOAD_ALL_MODEL_DEFAULT
							   : PML_NEEDS_MODEL_DEFAULT);
		if (access(model_path, R_OK) < 0) {
			fprintf(stderr, "pml: run: --policy %s: no --model and the shipped one is "
					"missing (%s): %s\n", job.policy, model_path, strerror(errno));
			return RUN_EXIT_PML;
		}
		job.model = model_path;
	}
	if (!mkdtemp(run_dir)) {
		fprintf(stderr, "pml: run: cannot make a scratch directory: %s\n", strerror(errno));
		return RUN_EXIT_PML;
	}
	job.run_dir = run_dir;
	if (kill_after)
		job.kill_pmld_after = strtod(kill_after, NULL);
	if (compare && report_dir)
		snprintf(report_sub, sizeof(report_sub), "%s.policy.tmp", report_dir);
	status = boot_once(&job, run_dir, compare && report_dir ? report_sub : report_dir, &res,
			   &rep);
	if (!rep) {
		keep = true; /* what went wrong is in the console log there */
		goto out;
	}
	if (trace_file) {
		char src[PATH_MAX + 64];

		snprintf(src, sizeof(src), "%s/trace.bin", res.result_dir);
		if (access(src, R_OK) < 0 ||
		    pml_spawn_wait((char *[]){"cp", src, (char *)trace_file, NULL}, -1, 0) != 0) {
			fprintf(stderr, "pml: run: --trace %s: the guest recorded no trace (see "
					"stderr above)\n", trace_file);
			status = RUN_EXIT_PML;
		}
	}
	if (compare) {
		struct pml_vm_job job2 = job;

		job2.trace = false;

		if (!mkdtemp(run_dir2)) {
			fprintf(stderr, "pml: run: cannot make a scratch directory: %s\n",
				strerror(errno));
			status = RUN_EXIT_PML;
			goto out;
		}
		job2.run_dir = run_dir2;
		job2.policy = "reactive";
		job2.settle_seconds = 0;
		/* Linux as shipped: no model, no budget, no kill. */
		job2.model = NULL;
		job2.threshold = 0;
		job2.budget_mem = NULL;
		job2.budget_cpu = 0;
		job2.horizon_ms = 0;
		job2.kill_pmld_after = 0;
		if (report_dir)
			snprintf(report_sub, sizeof(report_sub), "%s.reactive.tmp", report_dir);
		r = boot_once(&job2, run_dir2, report_dir ? report_sub : NULL, &res2, &rep2);
		if (!rep2) {
			status = RUN_EXIT_PML;
			keep = true;
			goto out;
		}
		if (report_dir) {
			char a[PATH_MAX + 32], b[PATH_MAX + 32];

			pml_spawn_wait((char *[]){"rm", "-rf", (char *)report_dir, NULL}, -1, 0);
			if (mkdir(report_dir, 0755) < 0) {
				fprintf(stderr, "pml: run: --report %s: %s\n", report_dir,
					strerror(errno));
				status = RUN_EXIT_PML;
			}
			snprintf(a, sizeof(a), "%s.policy.tmp", report_dir);
			snprintf(b, sizeof(b), "%s/policy", report_dir);
			if (rename(a, b) < 0)
				status = RUN_EXIT_PML;
			snprintf(a, sizeof(a), "%s.reactive.tmp", report_dir);
			snprintf(b, sizeof(b), "%s/reactive", report_dir);
			if (rename(a, b) < 0)
				status = RUN_EXIT_PML;
		}
	}

	char path[PATH_MAX + 64];

	if (json) {
		char *out_text = slurp(res.result_dir, "stdout");
		char *err_text = slurp(res.result_dir, "stderr");
		char wall[32];
		const struct pml_report_kv extra[] = {
			{"policy", job.policy},
			{"stdout", out_text ? out_text : ""},
			{"stderr", err_text ? err_text : ""},
			{"accel", res.kvm ? "kvm" : "tcg"},
			{"wall_s", (snprintf(wall, sizeof(wall), "%.2f", res.wall_s), wall)},
			{NULL, NULL},
		};

		pml_report_print_json(rep, stdout, status, extra, true);
		free(out_text);
		free(err_text);
	} else {
		snprintf(path, sizeof(path), "%s/stdout", res.result_dir);
		copy_fd_file(path, stdout);
		snprintf(path, sizeof(path), "%s/stderr", res.result_dir);
		copy_fd_file(path, stderr);
		if (!quiet) {
			fprintf(stderr, "\n");
			pml_report_print_text(rep, stderr);
			fprintf(stderr, "pml: guest %s, boot %.2f s (guest time), command %.2f s, "
					"wall %.1f s\n", res.kvm ? "KVM" : "TCG",
				res.guest_start_s, res.guest_cmd_s, res.wall_s);
		}
	}
	if (rep2) {
		if (!quiet && !json) {
			fprintf(stderr, "\n== the same command under reactive (status %d)\n",
				res2.exit_status);
			pml_report_print_text(rep2, stderr);
		}
		print_compare(stderr, job.policy, rep, rep2);
	}
out:
	pml_report_free(rep);
	pml_report_free(rep2);
	if (!keep) {
		pml_spawn_wait((char *[]){"rm", "-rf", run_dir, NULL}, -1, 0);
		if (compare && strcmp(run_dir2, "/tmp/pml-run.XXXXXX"))
			pml_spawn_wait((char *[]){"rm", "-rf", run_dir2, NULL}, -1, 0);
	} else {
		pml_info("kept %s", run_dir);
		if (compare && strcmp(run_dir2, "/tmp/pml-run.XXXXXX"))
			pml_info("kept %s", run_dir2);
	}
	return status;
}
