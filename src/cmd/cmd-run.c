/* pml run: run a command in the microVM on the base kernel and report what happened to the
 * kernel's module set. Thin: options (pmld's checked by pmld's own parsers before any
 * boot), the kernel and image scripts, pml_vm_run(), then the report from the decision
 * log with what the run itself says (cut output, a timeout, pmld's fate) as warnings
 * (cmd-run-results.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-options.h"
#include "cmd/cmd-options.h"
#include "cmd/cmd-run.h"
#include "run/run-report.h"
#include "run/run-page.h"
#include "cmd/commands.h"
#include "loader/policy-file.h"
#include "model/slots.h"
#include "policy/policy.h"
#include "util/json.h"
#include "util/log.h"
#include "util/outdir.h"
#include "vm/paths.h"
#include "vm/results.h"
#include "vm/vm.h"


/* The needs model shipped for markov, in the source tree (trained by pml train-needs on
 * reactive runs of samples/demo.sh and workloads/; see doc/markov.md). */
#define PML_NEEDS_MODEL_DEFAULT "data/needs-markov-6.1.0-56-amd64.txt"
/* The lstm policy's model shipped in the source tree (pml train on the dataset's train
 * split; see doc/model.md). */
/* load-all's list: the needs model of the dataset's training split (pml eval
 * --save-markov), whose modules are every module a training run needed. */
#define PML_LOAD_ALL_MODEL_DEFAULT "data/needs-dataset-6.1.0-56-amd64.txt"
#define PML_LSTM_MODEL_DEFAULT "data/model-lstm-6.1.0-56-amd64.pmlm"
#define PML_SLOTS_MODEL_DEFAULT "data/model-slots-6.1.0-56-amd64.pmls"

enum {
	OPT_TRACE = CMD_OPT_LONG_ONLY, OPT_ALLOW_FALLBACK, OPT_NO_SNAPSHOT, OPT_CPUS, OPT_POLICY,
	OPT_IDLE_SECONDS, OPT_SETTLE, OPT_POLICY_FILE, OPT_COPY, OPT_PACKAGES, OPT_REPORT,
	OPT_FORCE, OPT_JSON, OPT_TIMEOUT, OPT_MEMORY, OPT_ACCEL, OPT_KEEP, OPT_MODEL,
	OPT_SLOTS_MODEL, OPT_THRESHOLD, OPT_BUDGET_MEM, OPT_BUDGET_CPU, OPT_COMPARE, OPT_HORIZON,
};

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{OPT_POLICY, "policy", "NAME", "one of the policies below (default reactive)"},
	{OPT_MODEL, "model", "FILE",
	 "markov, load-all: a needs model (default: the shipped\n" PML_NEEDS_MODEL_DEFAULT
	 ",\nfor load-all " PML_LOAD_ALL_MODEL_DEFAULT ");\n"
	 "lstm: a model of pml train (default: the shipped one,\n" PML_LSTM_MODEL_DEFAULT ")"},
	{OPT_SLOTS_MODEL, "slots-model", "FILE",
	 "slots, learned: a slot model of pml train-slots\n"
	 "(default: the shipped\n" PML_SLOTS_MODEL_DEFAULT ")"},
	{OPT_THRESHOLD, "threshold", "P",
	 "least probability worth a prefetch (default:\nmarkov 0.5, lstm the model's)"},
	{OPT_HORIZON, "horizon", "MS",
	 "how far ahead a prediction looks (markov, lstm;\n"
	 "default: the model's; see pmld --help)"},
	{OPT_BUDGET_MEM, "budget-mem", "SIZE",
	 "bytes of non-base modules prefetches may fill\n(up to 1T)"},
	{OPT_BUDGET_CPU, "budget-cpu", "MS", "load time prefetches may spend per second of the run"},
	{OPT_COMPARE, "compare", "reactive",
	 "run CMD again under reactive (a second guest) and\n"
	 "print both summaries side by side; --report DIR then\n"
	 "holds DIR/policy and DIR/reactive"},
	{OPT_IDLE_SECONDS, "idle-seconds", "T",
	 "idle-unload: unload modules unused for T s (default:\n"
	 "the policy file's idle-unload, else 5)"},
	{OPT_SETTLE, "settle", "T",
	 "after CMD, wait T s before the report, to see what\n"
	 "idle-unload takes back after it (default 0: the\n"
	 "job is done, nobody waits)"},
	{OPT_POLICY_FILE, "policy-file", "FILE", "allow/deny/pin rules (see doc/policy-file.md)"},
	{OPT_COPY, "copy", "PATH",
	 "put a file, or a directory's contents, into /work\n(repeatable)"},
	{OPT_PACKAGES, "packages", "P1,P2",
	 "extra Debian packages in the guest image (cached\nper set)"},
	{OPT_REPORT, "report", "DIR",
	 "write the log, summary, stdout/stderr, console and\n"
	 "/work/out into DIR (made; an existing non-empty DIR\nis refused)"},
	{OPT_FORCE, "force", NULL, "with --report: replace an existing DIR"},
	{OPT_NO_SNAPSHOT, "no-snapshot", NULL,
	 "boot the guest cold instead of restoring the ready\n"
	 "snapshot for these settings (see pml snapshot --help:\n"
	 "built on first use, ~10-20 s, then ~0.5 s a restore)"},
	{OPT_ALLOW_FALLBACK, "allow-fallback", NULL,
	 "run CMD even when pmld does not start (the report then\n"
	 "says the policy that really ran: reactive); without it\n"
	 "pml run fails (125) with pmld's message"},
	{OPT_JSON, "json", NULL,
	 "print the report as one JSON object on stdout (CMD's\noutput is inside it)"},
	{OPT_TIMEOUT, "timeout", "S",
	 "CMD's time limit (default 600): it is stopped then,\n"
	 "status 124, and the guest within 10 s more, with what\nit had"},
	{OPT_MEMORY, "memory", "SIZE", "guest memory, MiB when bare, 256M to 64G\n(default 1024)"},
	{OPT_CPUS, "cpus", "N",
	 "guest vCPUs, 1-16 (default 2: pmld and its\n"
	 "prefetches run beside the job instead of taking its\n"
	 "CPU; under TCG each vCPU is a host thread, idle when\n"
	 "the guest is)"},
	{OPT_ACCEL, "accel", "MODE",
	 "auto, tcg or kvm: how to run QEMU (default auto: KVM\nonly if a probe boots)"},
	{OPT_TRACE, "trace", "FILE",
	 "record CMD with the eBPF tracer into FILE (see\n'pml trace')"},
	{OPT_KEEP, "keep", NULL, "keep the run's scratch directory"},
	{'q', "quiet", NULL, "no progress messages"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	char policies[2048];

	fprintf(f,
		"Usage: pml run [OPTIONS] -- CMD [ARGS...]\n\n"
		"Boot the guest on the minimal base kernel, run CMD in it (in /work) and report\n"
		"which kernel modules were loaded and unloaded, when and why. CMD's stdout and\n"
		"stderr come back as pml's, its exit status as pml's (125: pml itself failed).\n\n"
		"Options:\n");
	cmd_options_help(f, options);
	fprintf(f,
		"\n" PML_NUM_SIZE_HELP PML_NUM_DURATION_HELP "\n"
		"Policies (pmld's; pml eval also replays static and oracle):\n%s\n"
		"What comes back from the guest is untrusted: regular files and directories only\n"
		"(symlinks only when they stay inside out/; no devices, FIFOs, setuid bits),\n"
		"stdout and stderr kept up to 16 MiB each, the decision log up to 64 MiB, /work/out\n"
		"up to 1 GiB; what was cut or refused is said in the report (warnings).\n"
		"Exit status: CMD's; 124 when it timed out; 125 when pml failed; 128+N when pml\n"
		"was stopped by signal N (the guest is stopped and nothing is left behind).\n",
		pml_policy_help(policies, sizeof(policies), PML_POLICY_LIVE));
}

/* Settings checked on the host before anything boots, by pmld's own parsers (a value pmld
 * refused used to leave the guest without pmld under a report naming the policy). */
static int check_option(int c, const char *arg, struct pml_vm_job *job)
{
	char why[512];
	int64_t size;
	int r = 0;

	switch (c) {
	case OPT_POLICY:
		r = pml_opt_policy(arg, &job->policy, why, sizeof(why));
		break;
	case OPT_IDLE_SECONDS:
		r = pml_opt_idle_seconds(arg, &job->idle_seconds, why, sizeof(why));
		break;
	case OPT_THRESHOLD:
		r = pml_opt_threshold(arg, &job->threshold, why, sizeof(why));
		break;
	case OPT_HORIZON:
		r = pml_opt_horizon(arg, &job->horizon_ms, why, sizeof(why));
		break;
	case OPT_BUDGET_CPU:
		r = pml_opt_budget_cpu(arg, &job->budget_cpu, why, sizeof(why));
		break;
	case OPT_BUDGET_MEM:
		r = pml_opt_budget_mem(arg, &size, why, sizeof(why));
		job->budget_mem = arg;
		break;
	}
	if (r < 0)
		fprintf(stderr, "pml: run: %s\n", why);
	return r;
}

int cmd_run(int argc, char **argv)
{
	struct cmd_getopt g;
	struct pml_vm_job job = {
		.policy = "reactive", .settle_seconds = -1,
		.timeout_s = 600, .mem_mb = 1024, .cpus = 2, .accel = PML_ACCEL_AUTO,
	};
	const char *report_arg = NULL, *compare = NULL;
	/* A test of the fail-safe: kill -9 pmld this many seconds into the command. */
	const char *kill_after = getenv("PML_TEST_KILL_PMLD");
	const char *trace_file = NULL;
	char packages[4096] = "", run_dir[] = "/tmp/pml-run.XXXXXX";
	char run_dir2[] = "/tmp/pml-run.XXXXXX", model_path[PATH_MAX + 64];
	char slots_path[PATH_MAX + 64];
	char report_dir[PATH_MAX - 64], report_tmp[PATH_MAX] = "", sub[PATH_MAX + 64];
	char why[1024], release[256];
	struct pml_report *rep2 = NULL;
	struct pml_vm_result res, res2;
	struct pml_testbed tb;
	bool json = false, keep = false, quiet = false, force = false;
	bool made_run = false, made_run2 = false;
	struct pml_report *rep = NULL;
	struct run_extra extra = {0};
	int c, r, status = RUN_EXIT_PML;

	cmd_getopt_init(&g, options, "+");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_POLICY:
		case OPT_IDLE_SECONDS:
		case OPT_THRESHOLD:
		case OPT_HORIZON:
		case OPT_BUDGET_CPU:
		case OPT_BUDGET_MEM:
			if (check_option(c, optarg, &job) < 0)
				return RUN_EXIT_PML;
			break;
		case OPT_SETTLE:
			if (cmd_num("pml: run", PML_NUMOPT_SETTLE, optarg, &job.settle_seconds) < 0)
				return RUN_EXIT_PML;
			break;
		case OPT_POLICY_FILE:
			job.policy_file = optarg;
			break;
		case OPT_COPY:
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
		case OPT_PACKAGES:
			if (strlen(packages) + strlen(optarg) + 2 > sizeof(packages)) {
				fprintf(stderr, "pml: run: --packages: list too long\n");
				return RUN_EXIT_PML;
			}
			if (*packages)
				strcat(packages, ",");
			strcat(packages, optarg);
			break;
		case OPT_REPORT:
			report_arg = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_ALLOW_FALLBACK:
			job.fallback = true;
			break;
		case OPT_NO_SNAPSHOT:
			job.snapshot = PML_VM_SNAPSHOT_OFF;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_TIMEOUT:
		case OPT_MEMORY:
		case OPT_CPUS: {
			enum pml_numopt id = c == OPT_TIMEOUT ? PML_NUMOPT_TIMEOUT
					     : c == OPT_MEMORY ? PML_NUMOPT_MEMORY
							: PML_NUMOPT_CPUS;
			int64_t v;

			if (cmd_num_i64("pml: run", id, optarg, &v) < 0)
				return RUN_EXIT_PML;
			if (c == OPT_MEMORY)
				job.mem_mb = (unsigned)(v >> 20);
			else
				*(c == OPT_TIMEOUT ? &job.timeout_s : &job.cpus) = (unsigned)v;
			break;
		}
		case OPT_ACCEL:
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
		case OPT_TRACE:
			trace_file = optarg;
			job.trace = true;
			break;
		case OPT_KEEP:
			keep = true;
			break;
		case OPT_SLOTS_MODEL:
			if (access(optarg, R_OK) < 0) {
				fprintf(stderr, "pml: run: --slots-model %s: %s\n", optarg,
					strerror(errno));
				return RUN_EXIT_PML;
			}
			job.slots_model = optarg;
			break;
		case OPT_MODEL:
			if (access(optarg, R_OK) < 0) {
				fprintf(stderr, "pml: run: --model %s: %s\n", optarg, strerror(errno));
				return RUN_EXIT_PML;
			}
			job.model = optarg;
			break;
		case OPT_COMPARE:
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
	if (force && !report_arg) {
		fprintf(stderr, "pml: run: --force only goes with --report DIR\n");
		return RUN_EXIT_PML;
	}
	if (report_arg) {
		if (pml_outdir_normalize(report_arg, report_dir, sizeof(report_dir)) < 0) {
			fprintf(stderr, "pml: run: --report: '%s' is not a directory name\n",
				report_arg);
			return RUN_EXIT_PML;
		}
		if (pml_outdir_check(report_dir, force, why, sizeof(why)) < 0) {
			fprintf(stderr, "pml: run: --report %s\n", why);
			return RUN_EXIT_PML;
		}
	}
	if (job.policy_file) {
		struct pml_policy_file *pf;

		r = pml_policy_file_load(job.policy_file, &pf);
		if (r < 0)
			return RUN_EXIT_PML; /* the parser logged file:line: what */
		pml_policy_file_free(pf);
	}
	/* No settle unless asked: idle-unload used to wait T+1 s after the command to show
	 * its last unloads, 2.5-6 s of every run's wall for a job already done. */
	if (job.settle_seconds < 0)
		job.settle_seconds = 0;
	if (kill_after && pml_opt_idle_seconds(kill_after, &job.kill_pmld_after, why,
					       sizeof(why)) < 0) {
		fprintf(stderr, "pml: run: PML_TEST_KILL_PMLD: '%s' is not seconds\n",
			kill_after);
		return RUN_EXIT_PML;
	}
	/* A test of the fallback rule: pmld refuses a setting and does not start. */
	job.break_pmld = getenv("PML_TEST_BREAK_PMLD") != NULL;
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

	if ((!strcmp(job.policy, "markov") || pml_policy_needs_predictor(job.policy) ||
	     !strcmp(job.policy, "load-all")) && !job.model) {
		snprintf(model_path, sizeof(model_path), "%s/%s", tb.src_dir,
			 pml_policy_needs_predictor(job.policy) ? PML_LSTM_MODEL_DEFAULT
			 : !strcmp(job.policy, "load-all") ? PML_LOAD_ALL_MODEL_DEFAULT
							   : PML_NEEDS_MODEL_DEFAULT);
		job.model = model_path;
	}
	/* The model as pmld will load it, against the guest's kernel. */
	if (pml_kernel_release(release, sizeof(release)) < 0)
		release[0] = '\0';
	if (pml_opt_check_model(job.policy, job.model, release[0] ? release : NULL, why,
				sizeof(why)) < 0) {
		fprintf(stderr, "pml: run: %s\n", why);
		return RUN_EXIT_PML;
	}
	if (pml_policy_info(job.policy) &&
	    (pml_policy_info(job.policy)->flags & PML_POLICY_SLOTS)) {
		struct pml_slots_model *sm = NULL;

		if (!job.slots_model) {
			snprintf(slots_path, sizeof(slots_path), "%s/%s", tb.src_dir,
				 PML_SLOTS_MODEL_DEFAULT);
			job.slots_model = slots_path;
		}
		/* read as pmld will, against the guest's kernel: refused here, not there */
		if (pml_slots_model_read(job.slots_model, release[0] ? release : NULL, &sm) < 0) {
			fprintf(stderr, "pml: run: --slots-model %s: not a slot model pmld can use "
					"(see above)\n", job.slots_model);
			return RUN_EXIT_PML;
		}
		pml_slots_model_free(sm);
	} else {
		job.slots_model = NULL;
	}

	/* From here on a signal stops the guest and everything made is removed. */
	pml_vm_catch_signals();
	if (!mkdtemp(run_dir)) {
		fprintf(stderr, "pml: run: cannot make a scratch directory: %s\n", strerror(errno));
		return RUN_EXIT_PML;
	}
	made_run = true;
	job.run_dir = run_dir;
	if (report_arg) {
		r = pml_outdir_tmp_name(report_dir, report_tmp, sizeof(report_tmp));
		if (r < 0) {
			fprintf(stderr, "pml: run: --report %s: %s\n", report_dir, strerror(-r));
			goto out;
		}
		if (compare) {
			if (mkdir(report_tmp, 0755) < 0) {
				fprintf(stderr, "pml: run: --report %s: %s\n", report_tmp,
					strerror(errno));
				report_tmp[0] = '\0';
				goto out;
			}
			snprintf(sub, sizeof(sub), "%s/policy", report_tmp);
			job.result_dir = strdup(sub);
		} else {
			job.result_dir = report_tmp;
		}
	}
	status = run_boot_once(&job, &res, &rep);
	if (!rep)
		goto out;
	run_extra_init(&extra, &job, &res, false);
	if (report_arg && run_finish_report_dir(rep, &res, run_dir, status, extra.kv) < 0) {
		fprintf(stderr, "pml: run: --report %s: cannot write the summary: %s\n",
			report_dir, strerror(errno));
		status = RUN_EXIT_PML;
	}
	run_extra_release(&extra);
	if (trace_file) {
		char src[PATH_MAX + 64];

		snprintf(src, sizeof(src), "%s/trace.bin", res.result_dir);
		r = (int)pml_copy_file(src, trace_file, PML_RESULTS_TRACE_MAX);
		if (r < 0) {
			fprintf(stderr, "pml: run: --trace %s: %s\n", trace_file,
				r == -ENOENT ? "the guest recorded no trace (see stderr above)"
					     : strerror(-r));
			status = RUN_EXIT_PML;
		}
	}
	if (compare && !pml_vm_stop_signal) {
		struct pml_vm_job job2 = job;

		job2.trace = false;
		if (!mkdtemp(run_dir2)) {
			fprintf(stderr, "pml: run: cannot make a scratch directory: %s\n",
				strerror(errno));
			status = RUN_EXIT_PML;
			goto out;
		}
		made_run2 = true;
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
		job2.result_dir = NULL;
		if (report_arg) {
			snprintf(sub, sizeof(sub), "%s/reactive", report_tmp);
			job2.result_dir = sub;
		}
		r = run_boot_once(&job2, &res2, &rep2);
		if (!rep2) {
			status = r > 128 && r < 125 + 64 ? r : RUN_EXIT_PML;
			goto out;
		}
		run_extra_init(&extra, &job2, &res2, false);
		if (report_arg && run_finish_report_dir(rep2, &res2, run_dir2, res2.exit_status,
							extra.kv) < 0)
			status = RUN_EXIT_PML;
		run_extra_release(&extra);
	}
	if (pml_vm_stop_signal) {
		status = 128 + (int)pml_vm_stop_signal;
		goto out;
	}
	if (report_arg) {
		struct pml_run_page_run page[2] = {
			{job.policy, rep, res.wall_s, res.start_to_cmd_s,
			 res.restored ? "restored" : "cold"},
			{"reactive", rep2, rep2 ? res2.wall_s : -1, rep2 ? res2.start_to_cmd_s : -1,
			 rep2 && res2.restored ? "restored" : "cold"},
		};

		if (run_write_page(report_tmp, &job, page, rep2 ? 2 : 1) < 0)
			fprintf(stderr, "pml: run: --report %s: cannot write report.html\n",
				report_dir);
		r = pml_outdir_commit(report_tmp, report_dir, force);
		if (r < 0) {
			fprintf(stderr, "pml: run: --report %s: cannot put the report in place: "
					"%s (it is in %s)\n", report_dir, strerror(-r), report_tmp);
			status = RUN_EXIT_PML;
		}
		report_tmp[0] = '\0';
		/* the results are read from where they now are */
		snprintf(res.result_dir, sizeof(res.result_dir), "%s%s", report_dir,
			 compare ? "/policy" : "");
	}

	if (json) {
		run_extra_init(&extra, &job, &res, true);
		pml_report_print_json(rep, stdout, status, extra.kv, true);
		run_extra_release(&extra);
	} else {
		run_pass_through(res.result_dir, "stdout", stdout);
		run_pass_through(res.result_dir, "stderr", stderr);
		if (!quiet) {
			char cmd_s[32];

			if (res.guest_cmd_s >= 0)
				snprintf(cmd_s, sizeof(cmd_s), "%.2f s", res.guest_cmd_s);
			else
				snprintf(cmd_s, sizeof(cmd_s), "unknown");
			fprintf(stderr, "\n");
			pml_report_print_text(rep, stderr);
			fprintf(stderr, "pml: run: guest %s, %s, %.2f s to the command, command %s, "
					"wall %.1f s\n", res.kvm ? "KVM" : "TCG",
				res.restored ? "restored from a snapshot" : "cold boot",
				res.start_to_cmd_s > 0 ? res.start_to_cmd_s : 0, cmd_s, res.wall_s);
		}
	}
	if (rep2) {
		if (!quiet && !json) {
			fprintf(stderr, "\n== the same command under reactive (status %d)\n",
				res2.exit_status);
			pml_report_print_text(rep2, stderr);
		}
		run_print_compare(stderr, job.policy, rep, rep2, &res, &res2);
	}
out:
	pml_report_free(rep);
	pml_report_free(rep2);
	if (compare && job.result_dir && job.result_dir != report_tmp)
		free((char *)job.result_dir);
	if (report_tmp[0])
		pml_outdir_remove(report_tmp);
	if (!keep || pml_vm_stop_signal) {
		if (made_run)
			pml_outdir_remove(run_dir);
		if (made_run2)
			pml_outdir_remove(run_dir2);
	} else {
		if (made_run)
			pml_info("kept %s", run_dir);
		if (made_run2)
			pml_info("kept %s", run_dir2);
	}
	return status;
}
