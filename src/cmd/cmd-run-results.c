/* pml run's second half: what a run brought back (the command's output, the console's
 * tail, the results' warnings), made into the report, the page and --compare's
 * side-by-side (cmd-run.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd-run.h"
#include "run/run-page.h"
#include "run/run-report.h"
#include "util/json.h"
#include "util/log.h"
#include "util/outdir.h"
#include "vm/paths.h"
#include "vm/results.h"
#include "vm/vm.h"

/* A result file's bytes (at most its cap: the reader kept no more), NULL when absent.
 * Caller frees. */
static char *read_result(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX + 64];
	char *buf = NULL;
	size_t cap = 0;
	int fd;

	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (*len == cap) {
			char *nb;

			if (cap >= PML_RESULTS_STDIO_MAX + 1)
				break;
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap + 1);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	if (buf)
		buf[*len] = '\0';
	return buf ? buf : strdup("");
}

/* A result file to one of our streams (the command's stdout and stderr as pml's own). */
void run_pass_through(const char *dir, const char *name, FILE *to)
{
	char path[PATH_MAX + 64], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, to);
	close(fd);
	fflush(to);
}

/* text (modified) to f a line at a time after prefix, each line's trailing CR dropped and
 * what is left rendered for a terminal (pml_text_escape: control characters as \xNN). */
static void print_lines(FILE *f, const char *prefix, char *text)
{
	char line[1024];

	for (char *p = text; *p;) {
		char *e = strchr(p, '\n'), *next = e ? e + 1 : p + strlen(p);
		size_t k;

		if (e)
			*e = '\0';
		k = strlen(p);
		if (k && p[k - 1] == '\r')
			p[k - 1] = '\0';
		pml_text_escape(p, line, sizeof(line));
		fprintf(f, "%s%s\n", prefix, line);
		p = next;
	}
}

/* The last lines of the console log on stderr: why a guest failed, when the scratch
 * directory is about to go. */
static void console_tail(const char *run_dir, int lines)
{
	char path[PATH_MAX + 64], buf[4096];
	ssize_t n;
	off_t size;
	int fd, nl = 0;
	size_t from = 0;

	snprintf(path, sizeof(path), "%s/console.log", run_dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf))
		lseek(fd, size - (off_t)sizeof(buf), SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = n - 1; i >= 0; i--)
		if (buf[i] == '\n' && i < n - 1 && ++nl == lines) {
			from = (size_t)i + 1;
			break;
		}
	fprintf(stderr, "pml: run: the guest's console ended with:\n");
	print_lines(stderr, "  | ", buf + from);
}

/* What the report must say besides the log: what was cut, refused, stopped or did not
 * start, and what it means for the numbers. */
static void add_warnings(struct pml_report *rep, const struct pml_vm_job *job,
			 const struct pml_vm_result *res, bool log_present)
{
	const struct pml_results *rs = &res->results;
	static const struct {
		enum pml_results_name n;
		const char *what;
	} cut[] = {
		{PML_RESULTS_STDOUT, "stdout"},
		{PML_RESULTS_STDERR, "stderr"},
		{PML_RESULTS_EVENTS, "the decision log"},
		{PML_RESULTS_TRACE, "the trace"},
	};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		if (rs->file[cut[i].n].truncated)
			pml_report_add_warning(rep, i < 2 ? "output-truncated" : "log-truncated",
					       "%s was cut at %llu MiB (the guest sent more)%s",
					       cut[i].what,
					       (unsigned long long)(pml_results_cap(cut[i].n) >> 20),
					       i == 2 ? ": records after the cut are missing from "
							"every figure" : "");
	if (!log_present)
		pml_report_add_warning(rep, "no-log", "no decision log came back: nothing is "
				       "known of the module set during the run");
	if (res->hung_after_cmd)
		pml_report_add_warning(rep, "guest-hung", "the guest said the command had exited "
				       "and then did not end within %u s: the host stopped it; what "
				       "came back is what it had written (the console's tail says "
				       "why)", res->after_cmd_s);
	if (res->timed_out)
		pml_report_add_warning(rep, "timed-out", "the command did not end within its %u s "
				       "and was stopped%s", job->timeout_s,
				       res->host_stopped ? "; the guest did not end either and was "
				       "stopped by the host: what came back is what it had written"
				       : "");
	if (res->pmld_start == 0 && strcmp(job->policy, "reactive"))
		pml_report_add_warning(rep, "policy-fallback", "pmld did not start: the command "
				       "ran under reactive (the kernel's autoload through the "
				       "shim), not under %s", job->policy);
	else if (res->pmld_start == 0)
		pml_report_add_warning(rep, "pmld-not-started", "pmld did not start: the shim "
				       "served needs alone; the base set and the kernel's own "
				       "records are missing from the log");
	else if (res->pmld_start == 1 && res->pmld_status > 0 && !res->host_stopped)
		pml_report_add_warning(rep, "pmld-died", "pmld ended with status %d%s before the "
				       "end of the run: after its last record no decision was "
				       "made and the shim served needs alone", res->pmld_status,
				       res->pmld_status > 128 ? " (killed by a signal)" : "");
	else if (res->pmld_start == 1 && res->pmld_status < 0 && !res->timed_out)
		pml_report_add_warning(rep, "pmld-unknown", "pmld's exit status did not come "
				       "back: it may have died during the run");
	if (res->space_kib >= 0 && res->space_kib < 1024)
		pml_report_add_warning(rep, "guest-out-of-space", "the guest's /run had %lld KiB "
				       "left at the end: the decision log and outputs may be cut "
				       "where it filled up", (long long)res->space_kib);
	if (res->guest_cmd_s < 0)
		pml_report_add_warning(rep, "command-time-unknown", "the command's start or end "
				       "time did not come back: its duration is unknown");
	if (rs->refused)
		pml_report_add_warning(rep, "refused", "%zu entries the guest sent back were "
				       "refused (first: %s)", rs->refused, rs->first_refusal);
	if (rs->setid_dropped)
		pml_report_add_warning(rep, "setid-dropped", "%zu setuid, setgid or sticky bits "
				       "dropped from files in out/", rs->setid_dropped);
	if (rs->out_truncated)
		pml_report_add_warning(rep, "out-truncated", "/work/out was cut at a limit "
				       "(%llu MiB, %d entries): out/ is incomplete",
				       (unsigned long long)(PML_RESULTS_OUT_BYTES_MAX >> 20),
				       PML_RESULTS_OUT_ENTRIES_MAX);
	if (rs->archive_damaged)
		pml_report_add_warning(rep, "results-damaged", "the guest's results were damaged "
				       "or cut: what could be read is reported");
	if (rs->timed_out)
		pml_report_add_warning(rep, "results-slow", "reading the guest's results took "
				       "over %d s and was stopped", PML_RESULTS_SECONDS_MAX);
}

/* One boot of job: the guest run, its report (window and warnings set). Returns the
 * command's status, or RUN_EXIT_PML (said on stderr), or 128+signal. */
int run_boot_once(struct pml_vm_job *job, struct pml_vm_result *res, struct pml_report **rep)
{
	char path[PATH_MAX + 64];
	bool log_present;
	int r;

	*rep = NULL;
	pml_info("booting the guest (policy %s)", job->policy);
	r = pml_vm_run(job, res);
	if (r == -EINTR) {
		fprintf(stderr, "pml: run: stopped by signal %d; the guest was stopped\n",
			(int)pml_vm_stop_signal);
		return 128 + (int)pml_vm_stop_signal;
	}
	if (r < 0) {
		fprintf(stderr, "pml: run: the guest run failed: %s\n", strerror(-r));
		console_tail(job->run_dir, 15);
		return RUN_EXIT_PML;
	}
	if (res->cmd_not_run) {
		char *msg;
		size_t len;

		fprintf(stderr, "pml: run: pmld did not start under policy %s, so the command "
				"was not run (--allow-fallback runs it under reactive)\n",
			job->policy);
		msg = read_result(res->result_dir, "pmld.out", &len);
		if (msg && len) {
			fprintf(stderr, "pmld said:\n");
			print_lines(stderr, "", msg);
		}
		free(msg);
		return RUN_EXIT_PML;
	}
	snprintf(path, sizeof(path), "%s/events.jsonl", res->result_dir);
	log_present = access(path, F_OK) == 0;
	/* Nothing came back, not even what guest-init's watchdog writes: the guest itself was
	 * stuck; its console is the only witness. */
	if (!log_present || res->hung_after_cmd)
		console_tail(job->run_dir, 30);
	r = pml_report_load(log_present ? path : "/dev/null", rep);
	if (r < 0) {
		fprintf(stderr, "pml: run: %s: cannot read the decision log: %s\n", path,
			strerror(-r));
		return RUN_EXIT_PML;
	}
	if (res->guest_start_s >= 0 && res->guest_cmd_s >= 0 &&
	    pml_report_set_window_s(*rep, res->guest_start_s, res->guest_cmd_s) < 0)
		pml_report_add_warning(*rep, "command-time-unknown", "the command's start or end "
				       "time is out of range: its duration is unknown");
	add_warnings(*rep, job, res, log_present);
	if (res->exit_status < 0) {
		fprintf(stderr, "pml: run: the command's exit status did not come back from the "
				"guest\n");
		return RUN_EXIT_PML;
	}
	return res->exit_status;
}

/* The summary files of --report (the results are already in the directory). */
int run_finish_report_dir(const struct pml_report *rep, const struct pml_vm_result *res,
			  const char *run_dir, int status, const struct pml_report_kv *extra)
{
	char path[PATH_MAX + 64], src[PATH_MAX + 64];
	FILE *f;

	snprintf(src, sizeof(src), "%s/console.log", run_dir);
	snprintf(path, sizeof(path), "%s/console.log", res->result_dir);
	pml_copy_file(src, path, PML_VM_CONSOLE_MAX + 4096);
	snprintf(path, sizeof(path), "%s/summary.json", res->result_dir);
	f = fopen(path, "wxe");
	if (!f)
		return -errno;
	pml_report_print_json(rep, f, status, extra, true);
	if (fclose(f) != 0)
		return -EIO;
	snprintf(path, sizeof(path), "%s/summary.txt", res->result_dir);
	f = fopen(path, "wxe");
	if (!f)
		return -errno;
	pml_report_print_text(rep, f);
	if (fclose(f) != 0)
		return -EIO;
	return chmod(res->result_dir, 0755) < 0 ? -errno : 0;
}

/* DIR/report.html: the run's timeline (and reactive's beside it with --compare). */
int run_write_page(const char *dir, const struct pml_vm_job *job,
		   const struct pml_run_page_run *runs, size_t n)
{
	char path[PATH_MAX + 64], *cmd = NULL;
	size_t len = 0;
	FILE *f, *c = open_memstream(&cmd, &len);
	int r;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; job->argv[i]; i++)
		fprintf(c, "%s%s", i ? " " : "", job->argv[i]);
	fclose(c);
	snprintf(path, sizeof(path), "%s/report.html", dir);
	f = fopen(path, "wxe");
	if (!f) {
		free(cmd);
		return -errno;
	}
	r = pml_run_page_html(f, cmd, runs, n);
	if (fclose(f) != 0)
		r = -EIO;
	free(cmd);
	return r;
}


void run_extra_init(struct run_extra *x, const struct pml_vm_job *job,
			   const struct pml_vm_result *res, bool with_output)
{
	size_t n = 0, lo = 0, le = 0;
	struct rusage ru;
	const char *ran = res->pmld_start == 0 ? "reactive" : job->policy;

	memset(x, 0, sizeof(*x));
	x->kv[n++] = (struct pml_report_kv){.key = "policy", .value = job->policy};
	x->kv[n++] = (struct pml_report_kv){.key = "policy_ran", .value = ran};
	if (with_output) {
		x->out = read_result(res->result_dir, "stdout", &lo);
		x->err = read_result(res->result_dir, "stderr", &le);
		x->kv[n++] = (struct pml_report_kv){.key = "stdout", .value = x->out ? x->out : "",
						    .len = lo, .type = PML_KV_BYTES};
		x->kv[n++] = (struct pml_report_kv){.key = "stderr", .value = x->err ? x->err : "",
						    .len = le, .type = PML_KV_BYTES};
	}
	snprintf(x->tout, sizeof(x->tout), "%s",
		 res->results.file[PML_RESULTS_STDOUT].truncated ? "true" : "false");
	snprintf(x->terr, sizeof(x->terr), "%s",
		 res->results.file[PML_RESULTS_STDERR].truncated ? "true" : "false");
	snprintf(x->timed_out, sizeof(x->timed_out), "%s", res->timed_out ? "true" : "false");
	x->kv[n++] = (struct pml_report_kv){.key = "stdout_truncated", .value = x->tout,
					    .type = PML_KV_BOOL};
	x->kv[n++] = (struct pml_report_kv){.key = "stderr_truncated", .value = x->terr,
					    .type = PML_KV_BOOL};
	x->kv[n++] = (struct pml_report_kv){.key = "timed_out", .value = x->timed_out,
					    .type = PML_KV_BOOL};
	x->kv[n++] = (struct pml_report_kv){.key = "accel", .value = res->kvm ? "kvm" : "tcg"};
	snprintf(x->wall, sizeof(x->wall), "%.2f", res->wall_s);
	x->kv[n++] = (struct pml_report_kv){.key = "wall_s", .value = x->wall,
					    .type = PML_KV_RAW_NUMBER};
	x->kv[n++] = (struct pml_report_kv){.key = "boot",
					    .value = res->restored ? "restored" : "cold"};
	if (res->snapshot_note[0])
		x->kv[n++] = (struct pml_report_kv){.key = "snapshot_note",
						    .value = res->snapshot_note};
	if (res->start_to_cmd_s >= 0) {
		snprintf(x->start_cmd, sizeof(x->start_cmd), "%.3f", res->start_to_cmd_s);
		x->kv[n++] = (struct pml_report_kv){.key = "start_to_command_s",
						    .value = x->start_cmd,
						    .type = PML_KV_RAW_NUMBER};
	}
	if (res->wall_after_start_s >= 0) {
		snprintf(x->wall_after, sizeof(x->wall_after), "%.2f", res->wall_after_start_s);
		x->kv[n++] = (struct pml_report_kv){.key = "wall_after_start_s",
						    .value = x->wall_after,
						    .type = PML_KV_RAW_NUMBER};
	}
	/* pml's own peak memory (QEMU's, the guest's RAM, is bounded by --memory) */
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		snprintf(x->rss, sizeof(x->rss), "%ld", ru.ru_maxrss);
		x->kv[n++] = (struct pml_report_kv){.key = "pml_maxrss_kib", .value = x->rss,
						    .type = PML_KV_RAW_NUMBER};
	}
	x->kv[n] = (struct pml_report_kv){0};
}

void run_extra_release(struct run_extra *x)
{
	free(x->out);
	free(x->err);
}

/* The side-by-side of --compare. */
void run_print_compare(FILE *f, const char *policy, const struct pml_report *a,
		       const struct pml_report *b, const struct pml_vm_result *ra,
		       const struct pml_vm_result *rb)
{
	const struct pml_report_summary *x = pml_report_summary(a), *y = pml_report_summary(b);

	fprintf(f, "\n%-22s %14s %14s\n", "", policy, "reactive");
	fprintf(f, "%-22s %14s %14s\n", "boot", ra->restored ? "restored" : "cold",
		rb->restored ? "restored" : "cold");
	fprintf(f, "%-22s %14.2f %14.2f\n", "start -> command s", ra->start_to_cmd_s,
		rb->start_to_cmd_s);
	fprintf(f, "%-22s %14.2f %14.2f\n", "guest wall s", ra->wall_s, rb->wall_s);
	fprintf(f, "%-22s %14zu %14zu\n", "needs", x->needs, y->needs);
	fprintf(f, "%-22s %14zu %14zu\n", "stalls", x->stalls, y->stalls);
	fprintf(f, "%-22s %14.1f %14.1f\n", "stall ms", x->stall_ms, y->stall_ms);
	fprintf(f, "%-22s %14.1f %14.1f\n", "stall max ms", x->stall_max_ms, y->stall_max_ms);
	fprintf(f, "%-22s %14zu %14zu\n", "already present", x->present, y->present);
	fprintf(f, "%-22s %14zu %14zu\n", "loads", x->loads, y->loads);
	fprintf(f, "%-22s %14zu %14zu\n", "  by prediction", x->predicted_loads,
		y->predicted_loads);
	fprintf(f, "%-22s %14zu %14zu\n", "  wasted", x->wasted, y->wasted);
	for (int k = PML_BASIS_NONE + 1; k < PML_BASIS__COUNT; k++) {
		char what[32];

		if (!x->predicted_by[k] && !y->predicted_by[k])
			continue;
		snprintf(what, sizeof(what), "    %s (wasted)", pml_event_basis_name(k));
		fprintf(f, "%-22s %7zu (%4zu) %7zu (%4zu)\n", what, x->predicted_by[k],
			x->wasted_by[k], y->predicted_by[k], y->wasted_by[k]);
	}
	fprintf(f, "%-22s %14.2f %14.2f\n", "  loaded before use s", x->prefetch_exposure_s,
		y->prefetch_exposure_s);
	fprintf(f, "%-22s %14.1f %14.1f\n", "  before use KiB.s", x->prefetch_early_byte_s / 1024,
		y->prefetch_early_byte_s / 1024);
	fprintf(f, "%-22s %14.1f %14.1f\n", "  never used KiB.s",
		x->prefetch_unused_byte_s / 1024, y->prefetch_unused_byte_s / 1024);
	fprintf(f, "%-22s %14zu %14zu\n", "unloads", x->unloads, y->unloads);
	fprintf(f, "%-22s %14.1f %14.1f\n", "peak KiB", (double)x->peak_bytes / 1024,
		(double)y->peak_bytes / 1024);
	fprintf(f, "%-22s %14.1f %14.1f\n", "average KiB", x->avg_bytes / 1024,
		y->avg_bytes / 1024);
	fprintf(f, "%-22s %14.2f %14.2f\n", "command s",
		(double)(x->t_end_ns - x->t_start_ns) / 1e9,
		(double)(y->t_end_ns - y->t_start_ns) / 1e9);
	fprintf(f, "%-22s %14.0f %14.0f\n", "pmld CPU ms", x->agent_cpu_ms, y->agent_cpu_ms);
}
