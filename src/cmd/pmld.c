/* pmld: the pml daemon. Parses options, reads the policy file, creates the loader, the
 * kernel event source and the agent (src/agent), runs until SIGTERM/SIGINT, and records its
 * own cost at the end. Every failure is said on stderr and, once the log path is known, in
 * the decision log as well: the log is what comes back from the guest.
 *
 * Exit status: 0 after a signal, 1 when it could not start or its loop broke, 2 for a bad
 * command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "agent/agent-options.h"
#include "agent/agent.h"
#include "agent/source.h"
#include "cmd/cmd-options.h"
#include "loader/loader.h"
#include "loader/policy-file.h"
#include "policy/needs-model.h"
#include "policy/policy.h"
#include "resource/resource-api.h"
#include "trace/tracer.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/timeutil.h"

#define DEFAULT_LOG "/run/pml/events.jsonl"

enum {
	OPT_POLICY = CMD_OPT_LONG_ONLY, OPT_IDLE_SECONDS, OPT_LOG, OPT_BASE_FILE, OPT_POLICY_FILE,
	OPT_MODDIR, OPT_TRACEFS, OPT_NO_TRACE, OPT_TICK_MS, OPT_READY_FILE, OPT_DONE_FILE, OPT_MODEL,
	OPT_SLOTS_MODEL, OPT_THRESHOLD, OPT_BUDGET_MEM, OPT_RESOURCE_SOCKET, OPT_TRACE_ROOT,
	OPT_TRACE_CGROUP, OPT_PRIOR_COMMAND, OPT_PRIOR_SCRIPT, OPT_PRIOR_FILE, OPT_BUDGET_CPU,
	OPT_HORIZON, OPT_NO_NAMES,
};

/* getopt_long and --help are both made from this table (cmd/cmd-options.h). */
static const struct cmd_option options[] = {
	{OPT_POLICY, "policy", "NAME",
	 "one of the policies below (default reactive);\n"
	 "lstm and names read the program's behaviour\n"
	 "(--trace-root), markov, load-all and lstm need\n--model"},
	{OPT_MODEL, "model", "FILE",
	 "markov, load-all: the needs model (pml\n"
	 "train-needs, or from a dataset pml eval\n"
	 "--save-markov); lstm: a model file of pml train"},
	{OPT_SLOTS_MODEL, "slots-model", "FILE", "slots, learned: the slot model (pml train-slots)"},
	{OPT_THRESHOLD, "threshold", "P",
	 "least probability worth a prefetch (default:\n"
	 "markov 0.5, lstm the model file's)"},
	{OPT_HORIZON, "horizon", "MS",
	 "how far ahead a prediction looks (default: the\n"
	 "model's): markov prefetches successors needed\n"
	 "within MS of their trigger; lstm gives MS/2 as\n"
	 "the urgency to the resource manager and takes an\n"
	 "unused prefetch back after --idle-seconds and\n"
	 "2 x MS at least"},
	{OPT_NO_NAMES, "no-names", NULL,
	 "lstm: only the model's predictions (lstm-model),\n"
	 "not the modules the program names ('type vxlan',\n"
	 "'mount -t xfs', 'tc ... netem')"},
	{OPT_TRACE_ROOT, "trace-root", "PID",
	 "follow the process tree of PID with the eBPF\n"
	 "tracer and give its records to the policy (1:\n"
	 "everything started after pmld; pmld itself is\n"
	 "never traced)"},
	{OPT_TRACE_CGROUP, "trace-cgroup", "DIR",
	 "with --trace-root: follow the processes of the\n"
	 "cgroup v2 directory DIR instead of PID's tree (the\n"
	 "job alone, put there before its first exec; not\n"
	 "whoever started it)"},
	{OPT_PRIOR_COMMAND, "prior-command", "CMD",
	 "lstm, names: the submitted command line, fed\nbefore it runs"},
	{OPT_PRIOR_SCRIPT, "prior-script", "FILE",
	 "lstm, names: the submitted script's text,\nlikewise"},
	{OPT_PRIOR_FILE, "prior-file", "FILE",
	 "the prior comes later: on SIGUSR1 read FILE (line\n"
	 "1 the job's start, uptime s; line 2 the script's\n"
	 "path; then the command line), start the\n"
	 "prediction from it (records from before the start\n"
	 "are not the program), count the job's costs from\n"
	 "it, and remove FILE (a guest restored from a\n"
	 "snapshot gets its job after pmld started)"},
	{OPT_BUDGET_CPU, "budget-cpu", "MS",
	 "load time predictions may spend per second (ms;\ndefault: none)"},
	{OPT_BUDGET_MEM, "budget-mem", "SIZE",
	 "bytes of non-base modules predictions may fill,\n"
	 "up to 1T (default: the policy file's budget-mem,\nelse none)"},
	{OPT_RESOURCE_SOCKET, "resource-socket", "PATH",
	 "the resource API (default\n" PML_RESOURCE_SOCKET_DEFAULT "; 'none': no API)"},
	{OPT_IDLE_SECONDS, "idle-seconds", "T",
	 "idle-unload: unload after T s at refcount 0\n"
	 "(default: the policy file's idle-unload, else 5)"},
	{OPT_LOG, "log", "PATH", "the decision log, appended (default\n" DEFAULT_LOG ")"},
	{OPT_BASE_FILE, "base-file", "PATH",
	 "also write the base set there (\"name bytes\"\nlines)"},
	{OPT_POLICY_FILE, "policy-file", "PATH",
	 "pins and idle time (default\n" PML_POLICY_FILE_DEFAULT " when present)"},
	{OPT_MODDIR, "moddir", "DIR", "the module tree (default /lib/modules/`uname -r`)"},
	{OPT_TRACEFS, "tracefs", "DIR", "tracefs mount (default: found or mounted)"},
	{OPT_NO_TRACE, "no-tracefs", NULL,
	 "do not watch the kernel's module tracepoints\n"
	 "(tracefs; \"trace\" is the eBPF tracer's word:\n"
	 "--trace-root, pml trace, pml run --trace)"},
	{OPT_NO_TRACE, "no-trace", NULL, "the old name of --no-tracefs"},
	{OPT_TICK_MS, "tick-ms", "MS", "period of idle checks, 10ms to 60s (default 250)"},
	{OPT_READY_FILE, "ready-file", "PATH",
	 "create PATH once watching (for the guest init to\nwait on)"},
	{OPT_DONE_FILE, "done-file", "PATH",
	 "write pmld's exit status into PATH once the stop\nrecord is written: what follows is "
	 "teardown\n(tracepoints, the tracer), which a disposable\nguest need not wait for"},
	{'v', "verbose", NULL, "debug messages on stderr"},
	{'h', "help", NULL, "this text"},
	{0},
};

/* --done-file: status, a line, written whole (a reader polls for it) */
static void write_done(struct pml_agent *a, const char *path, int status)
{
	char line[16];
	int n = snprintf(line, sizeof(line), "%d\n", status);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, line, (size_t)n) != n)
		pml_agent_error(a, fd < 0 ? -errno : -EIO, "%s: cannot write the done file", path);
	if (fd >= 0)
		close(fd);
}

static void usage(FILE *f)
{
	char policies[2048];

	fprintf(f,
		"Usage: pmld [OPTIONS]\n\n"
		"The pml daemon: records the base module set, watches the kernel's module\n"
		"requests, loads and unloads, applies a policy, and logs every decision as JSONL.\n\n");
	cmd_options_help(f, options);
	fprintf(f,
		"\n" PML_NUM_SIZE_HELP PML_NUM_DURATION_HELP "\nPolicies:\n%s\n"
		"Stops on SIGTERM or SIGINT, logging its CPU time and maximum RSS; exit 0.\n",
		pml_policy_help(policies, sizeof(policies), PML_POLICY_LIVE));
}

/* The first max bytes of a text file, NUL-terminated (caller frees); NULL with errno. */
static char *read_text(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Before the agent exists: say it on stderr and, when possible, in the log. */
static void early_error(const char *log_path, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void early_error(const char *log_path, int err, const char *fmt, ...)
{
	struct pml_event_rec rec;
	char msg[600], reason[640];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pmld: %s\n", msg);
	fd = pml_event_log_open(log_path);
	if (fd < 0) {
		fprintf(stderr, "pmld: %s: cannot open the decision log either: %s\n", log_path,
			strerror(-fd));
		return;
	}
	snprintf(reason, sizeof(reason), "error: %s", msg);
	pml_event_rec_init(&rec, PML_EV_ERROR);
	rec.reason = reason;
	rec.source = "pmld";
	rec.err = err ? err : -EIO;
	rec.t_ns = pml_now_ns();
	pml_event_log_append(fd, &rec);
	close(fd);
}

static int bad_option(const char *why)
{
	fprintf(stderr, "pmld: %s\n", why);
	return 2;
}

static bool pinned_by_file(void *data, const char *module)
{
	return pml_policy_file_pinned(data, module);
}

/* The glibc setting tcg_reexec() adds: no AVX2 string functions, no AVX memcpy. */
#define TCG_TUNABLE "glibc.cpu.hwcaps=-AVX2,-AVX_Fast_Unaligned_Load"

/* Under QEMU's TCG (the testbed's guest), start again without glibc's AVX2 string and
 * memory functions. QEMU runs a guest's 256-bit instructions with the host's, which leaves
 * the host's upper vector state dirty, and every SSE instruction of its softfloat helpers
 * pays for that until something cleans it: the model's float work after any glibc
 * strlen/memcpy/strcmp (the features, the naming rules, libbpf) ran 4-5x slower. Measured
 * in the guest, the lstm policy over the 1773 records pmld saw of the vxlan job of
 * BENCHMARKS.md ("pmld's cost per job after restore"): 125 ms as started, 32-55 ms started
 * so. The SSE2 versions glibc then picks cost nothing that shows at pmld's string lengths.
 * Only when the CPU says TCG (its hypervisor leaf), only once (the setting is the guard),
 * and on failure pmld carries on as it is. */
static void tcg_reexec(char **argv)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	char vendor[13] = "", *val;
	const char *have = getenv("GLIBC_TUNABLES");

	if (have && strstr(have, "glibc.cpu.hwcaps"))
		return; /* set by the user, or by the re-exec */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &c, 4);
	memcpy(vendor + 8, &d, 4);
	if (strcmp(vendor, "TCGTCGTCGTCG"))
		return;
	if (asprintf(&val, "%s%s%s", have ? have : "", have ? ":" : "", TCG_TUNABLE) < 0)
		return;
	if (setenv("GLIBC_TUNABLES", val, 1) == 0) {
		execv("/proc/self/exe", argv);
		pml_dbg("re-exec without AVX2 under TCG: %s", strerror(errno));
		/* val still holds the old value before its ':' */
		if (have)
			val[strlen(val) - strlen(TCG_TUNABLE) - 1] = '\0';
		if (have ? setenv("GLIBC_TUNABLES", val, 1) : unsetenv("GLIBC_TUNABLES"))
			pml_dbg("GLIBC_TUNABLES: %s", strerror(errno));
	}
	free(val);
#else
	(void)argv;
#endif
}

int main(int argc, char **argv)
{
	struct cmd_getopt g;
	struct pml_agent_config cfg = {.policy = "reactive", .log_path = DEFAULT_LOG,
				       .resource_socket = PML_RESOURCE_SOCKET_DEFAULT};
	const char *policy_file = NULL, *moddir = NULL, *tracefs = NULL, *ready = NULL;
	const char *done_file = NULL;
	const char *model_path = NULL, *prior_script = NULL;
	char *script_text = NULL;
	const char **preload = NULL;
	struct pml_needs_model *model = NULL;
	bool budget_given = false;
	struct pml_policy_file *pf = NULL;
	struct pml_loader *ld = NULL;
	struct pml_agent *a = NULL;
	struct pml_source *src = NULL;
	struct signalfd_siginfo si;
	bool trace = true, idle_given = false;
	char why[512];
	sigset_t mask;
	int c, r, sfd = -1, status = 1;

	pml_set_log_fn(pml_log_stderr, "pmld");
	argv[0] = (char *)"pmld"; /* getopt_long's complaints say "pmld: ...", not the path */
	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_POLICY:
			if (pml_opt_policy(optarg, &cfg.policy, why, sizeof(why)) < 0)
				return bad_option(why);
			break;
		case OPT_IDLE_SECONDS:
			if (pml_opt_idle_seconds(optarg, &cfg.idle_seconds, why, sizeof(why)) < 0)
				return bad_option(why);
			idle_given = true;
			break;
		case OPT_LOG:
			cfg.log_path = optarg;
			break;
		case OPT_BASE_FILE:
			cfg.base_file = optarg;
			break;
		case OPT_POLICY_FILE:
			policy_file = optarg;
			break;
		case OPT_MODDIR:
			moddir = optarg;
			break;
		case OPT_TRACEFS:
			tracefs = optarg;
			break;
		case OPT_NO_TRACE:
			trace = false;
			break;
		case OPT_TICK_MS: {
			int64_t v;

			if (cmd_num_i64("pmld", PML_NUMOPT_TICK_MS, optarg, &v) < 0)
				return 2;
			cfg.tick_ms = (unsigned)v;
			break;
		}
		case OPT_READY_FILE:
			ready = optarg;
			break;
		case OPT_DONE_FILE:
			done_file = optarg;
			break;
		case OPT_MODEL:
			model_path = optarg;
			break;
		case OPT_SLOTS_MODEL:
			cfg.slots_path = optarg;
			break;
		case OPT_THRESHOLD:
			if (pml_opt_threshold(optarg, &cfg.threshold, why, sizeof(why)) < 0)
				return bad_option(why);
			break;
		case OPT_BUDGET_MEM:
			if (pml_opt_budget_mem(optarg, &cfg.budget_mem, why, sizeof(why)) < 0)
				return bad_option(why);
			budget_given = true;
			break;
		case OPT_RESOURCE_SOCKET:
			cfg.resource_socket = strcmp(optarg, "none") ? optarg : NULL;
			break;
		case OPT_TRACE_ROOT: {
			int64_t v;

			if (cmd_num_i64("pmld", PML_NUMOPT_TRACE_ROOT, optarg, &v) < 0)
				return 2;
			cfg.trace_root = (int)v;
			break;
		}
		case OPT_TRACE_CGROUP: {
			int e = pml_cgroup_id(optarg, &cfg.trace_cgroup, &cfg.trace_cgroup_level);

			if (e < 0) {
				fprintf(stderr, "pmld: --trace-cgroup %s: %s\n", optarg,
					e == -EOPNOTSUPP ? "not a cgroup v2 directory"
							 : strerror(-e));
				return 2;
			}
			break;
		}
		case OPT_PRIOR_COMMAND:
			cfg.prior_command = optarg;
			break;
		case OPT_PRIOR_SCRIPT:
			prior_script = optarg;
			break;
		case OPT_PRIOR_FILE:
			cfg.prior_file = optarg;
			break;
		case OPT_BUDGET_CPU:
			if (pml_opt_budget_cpu(optarg, &cfg.budget_cpu, why, sizeof(why)) < 0)
				return bad_option(why);
			break;
		case OPT_HORIZON:
			if (pml_opt_horizon(optarg, &cfg.horizon_ms, why, sizeof(why)) < 0)
				return bad_option(why);
			break;
		case OPT_NO_NAMES:
			cfg.no_names = true;
			break;
		case 'v':
			pml_set_log_level(PML_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pmld: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (pml_policy_reads_trace(cfg.policy))
		tcg_reexec(argv);
	/* No transparent huge pages: the guest kernel backs any 2 MiB-aligned stretch of
	 * anonymous memory pmld touches with a whole huge page, and the load worker's stack
	 * (one call deep into libkmod) or the model's input table then counted 2 MiB of RSS
	 * each for a few KiB used. Kept across the re-exec above and by the worker. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);

	/* Signals arrive through a descriptor the loop polls: no handler races. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		early_error(cfg.log_path, -errno, "signalfd: %s", strerror(errno));
		return 1;
	}
	cfg.prior_fd = -1;
	if (cfg.prior_file) {
		sigset_t usr1;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		if (sigprocmask(SIG_BLOCK, &usr1, NULL) < 0 ||
		    (cfg.prior_fd = signalfd(-1, &usr1, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
			early_error(cfg.log_path, -errno, "signalfd: %s", strerror(errno));
			return 1;
		}
	}

	if (!policy_file && access(PML_POLICY_FILE_DEFAULT, F_OK) == 0)
		policy_file = PML_POLICY_FILE_DEFAULT;
	if (policy_file) {
		r = pml_policy_file_load_msg(policy_file, &pf, why, sizeof(why));
		if (r < 0) {
			early_error(cfg.log_path, r, "policy file: %s",
				    why[0] ? why : strerror(-r));
			goto out;
		}
		if (!idle_given && pf->idle_unload_s > 0)
			cfg.idle_seconds = pf->idle_unload_s;
		if (!budget_given && pf->budget_mem > 0)
			cfg.budget_mem = pf->budget_mem;
		cfg.pinned_fn = pinned_by_file;
		cfg.pinned_data = pf;
	}

	if (!strcmp(cfg.policy, "markov") || !strcmp(cfg.policy, "load-all")) {
		if (!model_path) {
			early_error(cfg.log_path, -EINVAL, "policy %s needs --model FILE (a "
				    "needs model from pml train-needs)", cfg.policy);
			goto out;
		}
		r = pml_needs_model_load(model_path, &model, why, sizeof(why));
		if (r < 0) {
			early_error(cfg.log_path, r, "%s: %s", model_path,
				    why[0] ? why : strerror(-r));
			goto out;
		}
		cfg.needs_model = model;
	}
	if (!strcmp(cfg.policy, "load-all")) {
		size_t n = pml_needs_model_ranked(model, NULL, 0);

		preload = calloc(n + 1, sizeof(*preload));
		if (!n || !preload) {
			early_error(cfg.log_path, n ? -ENOMEM : -EINVAL, "%s: %s", model_path,
				    n ? strerror(ENOMEM) : "the needs model lists no module");
			goto out;
		}
		cfg.preload = preload;
		cfg.n_preload = pml_needs_model_ranked(model, preload, n);
	}
	if (pml_policy_needs_predictor(cfg.policy)) {
		if (!model_path) {
			early_error(cfg.log_path, -EINVAL, "policy %s needs --model FILE (a model "
				    "file of pml train)", cfg.policy);
			goto out;
		}
		cfg.model_path = model_path;
	}
	if (pml_policy_info(cfg.policy) &&
	    (pml_policy_info(cfg.policy)->flags & PML_POLICY_SLOTS) && !cfg.slots_path) {
		early_error(cfg.log_path, -EINVAL, "policy %s needs --slots-model FILE (a slot "
			    "model of pml train-slots)", cfg.policy);
		goto out;
	}
	if (pml_policy_reads_trace(cfg.policy)) {
		if (prior_script) {
			script_text = read_text(prior_script, 65536);
			if (!script_text)
				pml_warn("--prior-script %s: %s; no script prior", prior_script,
					 strerror(errno));
			cfg.prior_script = script_text;
		}
	}

	r = pml_loader_new_kmod(moddir, &ld);
	if (r < 0) {
		early_error(cfg.log_path, r, "cannot open the module tree %s: %s",
			    moddir ? moddir : "/lib/modules/`uname -r`", strerror(-r));
		goto out;
	}
	/* The worker's own loader: libkmod contexts are not shared between threads. A
	 * policy that prefetches has one (names has no model but predicts). */
	if ((model || cfg.model_path || pml_policy_reads_trace(cfg.policy)) &&
	    pml_loader_new_kmod_flags(moddir, PML_LOADER_KMOD_FILE_INDEXES, &cfg.worker_ld) < 0)
		cfg.worker_ld = NULL;
	/* Module events once: from tracefs, not also from the tracer (the agent goes back
	 * to the tracer's when tracefs could not be opened). Without a tracer the policy
	 * gets no trace records at all, these included. */
	cfg.module_records_from_source = cfg.trace_root > 0;
	r = pml_agent_new(&cfg, ld, &a);
	if (r < 0) {
		early_error(cfg.log_path, r, "cannot start the agent (log %s): %s", cfg.log_path,
			    strerror(-r));
		goto out;
	}
	if (policy_file)
		pml_agent_info(a, "policy file %s", policy_file);
	if (model)
		pml_agent_info(a, "needs model %s: %zu runs, %zu modules, %zu pairs", model_path,
			       pml_needs_model_runs(model), pml_needs_model_modules(model),
			       pml_needs_model_pairs(model));
	if (cfg.n_preload)
		pml_agent_info(a, "load-all: %zu modules to load, %s first", cfg.n_preload,
			       preload[0]);
	/* Without the base set, idle-unload could take modules the system booted with:
	 * only a policy that never unloads may go on. */
	r = pml_agent_start(a);
	if (r < 0 && pml_policy_find(cfg.policy)->decide) {
		pml_agent_error(a, r, "policy %s needs the base set: stopping", cfg.policy);
		goto out;
	}

	if (trace) {
		why[0] = '\0';
		r = pml_source_new_tracefs(tracefs, why, sizeof(why), &src);
		if (r < 0) {
			pml_agent_error(a, r, "tracefs: %s; continuing without kernel events "
					"(no request records, loads seen by the shim only)", why);
			src = NULL;
		}
	}
	/* The tracer before the ready file: the program must start under it; after the
	 * source, which gives the module events it then leaves out. */
	pml_agent_attach_source(a, src);
	pml_agent_start_tracer(a);
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0)
			pml_agent_error(a, -errno, "%s: cannot create the ready file: %s", ready,
					strerror(errno));
		else
			close(fd);
	}

	r = pml_agent_run(a, src, sfd);
	if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		pml_agent_info(a, "signal %s from pid %u", strsignal((int)si.ssi_signo),
			       si.ssi_pid);
	/* The stop record first: the log is whole from here, and the tracepoints' and the
	 * tracer's teardown (a third of a second under TCG) is no part of the job */
	if (pml_agent_stop(a) < 0)
		fprintf(stderr, "pmld: %s: the decision log may be incomplete\n", cfg.log_path);
	status = r < 0 ? 1 : 0;
	if (done_file)
		write_done(a, done_file, status);
out:
	pml_source_free(src);
	pml_agent_free(a);
	pml_loader_free(ld);
	pml_policy_file_free(pf);
	pml_needs_model_free(model);
	free(preload);
	free(script_text);
	if (sfd >= 0)
		close(sfd);
	if (cfg.prior_fd >= 0)
		close(cfg.prior_fd);
	return status;
}
