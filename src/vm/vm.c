/* Running a job in the microVM; see vm.h for the shape of a run. Packing the job (what
 * the host sends: the user's own files) is done by spawning tar and cp; what comes back
 * is the guest's and is read only by src/vm/results.c, in this process. QEMU's console
 * is read through a pipe: capped, and watched for the command's start, from which the
 * command's time limit counts. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/timeutil.h"
#include "vm/paths.h"
#include "vm/results.h"
#include "vm/vm.h"

static int spawn(char *const *argv, int out_fd, bool err_to_out, unsigned timeout_s)
{
	uint64_t deadline = timeout_s ? pml_now_ns() + (uint64_t)timeout_s * 1000000000ull : 0;
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* No spawned tool reads our stdin; QEMU with -serial stdio would otherwise put
		 * the user's terminal in raw mode (or stop on SIGTTOU in the background). */
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
			_exit(127);
		if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
			_exit(127);
		if (out_fd >= 0 && err_to_out && dup2(out_fd, STDERR_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "pml: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, deadline ? WNOHANG : 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (deadline && pml_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		if (deadline) {
			struct timespec ts = {0, 20 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int pml_spawn_wait(char *const *argv, int out_fd, unsigned timeout_s)
{
	return spawn(argv, out_fd, false, timeout_s);
}

static int spawn_quiet(char *const *argv)
{
	int r = pml_spawn_wait(argv, -1, 0);

	if (r != 0)
		pml_err("%s failed (%s%d)", argv[0], r < 0 ? "error " : "exit status ", r);
	return r == 0 ? 0 : r < 0 ? r : -EIO;
}

/* The job's settings file, sourced by guest-init: only values we produced or checked
 * (letters, digits and the characters of extra; paths add '/' and '+'). */
static bool safe_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!strchr(extra, *s) && !((*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool shell_safe(const char *s)
{
	return safe_chars(s, "-_.");
}

/* The script a command runs, when it is one: "sh X", "bash X" (options skipped), or X
 * itself when it ends in .sh, after any "env NAME=VALUE". Relative names are in /work.
 * NULL otherwise. */
static const char *prior_script(char *const *argv)
{
	static char path[1100];
	const char *x = NULL, *base;

	/* env NAME=VALUE ... CMD: the command is after them */
	while (argv[0] && (!strcmp(argv[0], "env") || !strcmp(argv[0], "/usr/bin/env") ||
			   (strchr(argv[0], '=') && argv[0][0] != '=')))
		argv++;
	if (!argv[0])
		return NULL;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "sh") || !strcmp(base, "bash") || !strcmp(base, "dash")) {
		for (size_t i = 1; argv[i]; i++)
			if (argv[i][0] != '-') {
				x = argv[i];
				break;
			} else if (!strcmp(argv[i], "-c")) {
				return NULL;
			}
	} else if (strlen(argv[0]) > 3 && !strcmp(argv[0] + strlen(argv[0]) - 3, ".sh")) {
		x = argv[0];
	}
	if (!x || strlen(x) > 1000)
		return NULL;
	snprintf(path, sizeof(path), "%s%s", x[0] == '/' ? "" : "/work/", x);
	return path;
}

static int write_env(const char *path, const struct pml_vm_job *job)
{
	FILE *f;

	if (!safe_chars(job->policy, "-_.+") || (job->budget_mem && !shell_safe(job->budget_mem)))
		return -EINVAL;
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "POLICY=%s\nSETTLE=%u\nTIMEOUT=%u\nOUT_CAP=%llu\n", job->policy,
		(unsigned)(job->settle_seconds + 0.999), job->timeout_s,
		(unsigned long long)PML_RESULTS_STDIO_MAX);
	if (job->idle_seconds > 0)
		fprintf(f, "IDLE=%.3f\n", job->idle_seconds);
	if (job->fallback)
		fprintf(f, "FALLBACK=1\n");
	if (job->break_pmld)
		fprintf(f, "PMLD_TEST_BREAK=1\n");
	if (job->trace)
		fprintf(f, "TRACE=1\n");
	if (job->model)
		fprintf(f, "PMLD_MODEL=/job/pmld.model\n");
	if (job->threshold > 0)
		fprintf(f, "PMLD_THRESHOLD=%.4f\n", job->threshold);
	if (job->budget_mem)
		fprintf(f, "PMLD_BUDGET=%s\n", job->budget_mem);
	if (job->kill_pmld_after > 0)
		fprintf(f, "PMLD_KILL_AFTER=%.3f\n", job->kill_pmld_after);
	if (job->budget_cpu > 0)
		fprintf(f, "PMLD_BUDGET_CPU=%.3f\n", job->budget_cpu);
	if (job->horizon_ms > 0)
		fprintf(f, "PMLD_HORIZON=%.1f\n", job->horizon_ms);
	/* A policy that reads the program's behaviour gets the tracer on everything started
	 * after pmld (pid 1's later children), and the command line and script as prior. */
	if (!strncmp(job->policy, "lstm", 4)) { /* lstm, lstm+idle-unload */
		const char *script = prior_script(job->argv);

		fprintf(f, "PMLD_TRACE_ROOT=1\n");
		if (script && safe_chars(script, "-_./+"))
			fprintf(f, "PMLD_PRIOR_SCRIPT=%s\n", script);
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

static int write_argv(const char *path, char *const *argv)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	for (size_t i = 0; argv[i]; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* tar of the --copy items: a directory's contents land in /work, a file as /work/NAME. */
static int make_work_tar(const struct pml_vm_job *job, const char *tar_path)
{
	char *argv[4 + 3 * PML_VM_MAX_COPY + 1];
	char dirs[PML_VM_MAX_COPY][4096], bases[PML_VM_MAX_COPY][1024];
	size_t n = 0;
	struct stat st;

	argv[n++] = "tar";
	argv[n++] = "-cf";
	argv[n++] = (char *)tar_path;
	for (size_t i = 0; i < job->n_copy; i++) {
		const char *p = job->copy[i];
		char *slash;

		if (stat(p, &st) < 0) {
			pml_err("--copy %s: %s", p, strerror(errno));
			return -errno;
		}
		if (!realpath(p, dirs[i]))
			return -errno;
		if (S_ISDIR(st.st_mode)) {
			snprintf(bases[i], sizeof(bases[i]), ".");
		} else {
			slash = strrchr(dirs[i], '/');
			snprintf(bases[i], sizeof(bases[i]), "%s", slash + 1);
			if (slash == dirs[i])
				slash[1] = '\0';
			else
				*slash = '\0';
		}
		argv[n++] = "-C";
		argv[n++] = dirs[i];
		argv[n++] = bases[i];
	}
	argv[n] = NULL;
	return spawn_quiet(argv);
}

static int stage_job(const struct pml_vm_job *job, const char *stage, const char *job_tar)
{
	char path[4400], src[4400];
	static const char *const bins[] = {"pml", "pmld", "pml-modprobe"};
	int r;

	snprintf(path, sizeof(path), "%s/bin", stage);
	if (mkdir(stage, 0755) < 0 || mkdir(path, 0755) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/cmd", stage);
	r = write_argv(path, job->argv);
	if (r < 0)
		return r;
	/* the command line as one line of text: the lstm policy's prior */
	snprintf(path, sizeof(path), "%s/cmdline", stage);
	{
		FILE *f = fopen(path, "we");

		if (!f)
			return -errno;
		for (size_t i = 0; job->argv[i]; i++)
			fprintf(f, "%s%s", i ? " " : "", job->argv[i]);
		if (fclose(f) != 0)
			return -EIO;
	}
	snprintf(path, sizeof(path), "%s/env", stage);
	r = write_env(path, job);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s", job->bin_dir, bins[i]);
		if (access(src, X_OK) < 0) {
			pml_err("%s is missing: run make", src);
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/bin/%s", stage, bins[i]);
		r = spawn_quiet((char *[]){"cp", src, path, NULL});
		if (r < 0)
			return r;
	}
	snprintf(src, sizeof(src), "%s/guest-init", job->guest_dir);
	snprintf(path, sizeof(path), "%s/guest-init", stage);
	r = spawn_quiet((char *[]){"cp", src, path, NULL});
	if (r < 0)
		return r;
	if (job->model) {
		snprintf(path, sizeof(path), "%s/pmld.model", stage);
		r = spawn_quiet((char *[]){"cp", (char *)job->model, path, NULL});
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/policy.conf", stage);
	if (job->policy_file) {
		r = spawn_quiet((char *[]){"cp", (char *)job->policy_file, path, NULL});
		if (r < 0)
			return r;
	}
	if (job->n_copy) {
		snprintf(path, sizeof(path), "%s/work.tar", stage);
		r = make_work_tar(job, path);
		if (r < 0)
			return r;
	}
	return spawn_quiet((char *[]){"tar", "-cf", (char *)job_tar, "-C", (char *)stage, ".",
				      NULL});
}

/* The host's TSC rate in kHz, 0 when unknown. Under TCG the guest's TSC runs at the host's
 * rate, and the guest kernel's own calibration against the emulated PIT fails when the
 * host is busy (seen here: "tsc: Unable to calibrate against PIT", then a hang before the
 * console comes up, in 3 of 4 boots on a loaded machine). tsc_early_khz= skips it. */
static unsigned long host_tsc_khz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz > 0 ? (unsigned long)(mhz * 1000) : 0;
}

volatile sig_atomic_t pml_vm_stop_signal;

static void on_stop_signal(int sig)
{
	pml_vm_stop_signal = sig;
}

void pml_vm_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: poll wakes */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The console as it streams: kept up to PML_VM_CONSOLE_MAX, and watched for the line
 * guest-init writes just before the command (a job may write it too: that only moves the
 * deadline earlier). */
#define CMD_START_MARK "pml-guest: running the command"

struct console {
	int fd;
	uint64_t kept, dropped;
	char tail[64]; /* the last bytes seen, to find the mark across reads */
	size_t n_tail;
	bool started;
};

static void console_take(struct console *c, const char *buf, size_t n)
{
	size_t keep = c->kept < PML_VM_CONSOLE_MAX ? PML_VM_CONSOLE_MAX - c->kept : 0;
	size_t mark = strlen(CMD_START_MARK);

	if (keep > n)
		keep = n;
	if (keep && write(c->fd, buf, keep) == (ssize_t)keep)
		c->kept += keep;
	else
		keep = 0;
	c->dropped += n - keep;
	if (c->started)
		return;
	if (memmem(buf, n, CMD_START_MARK, mark)) {
		c->started = true;
		return;
	}
	/* across the boundary: the tail's end and the new bytes' start */
	for (size_t i = 1; i < mark && i <= c->n_tail; i++)
		if (mark - i <= n && !memcmp(c->tail + c->n_tail - i, CMD_START_MARK, i) &&
		    !memcmp(buf, CMD_START_MARK + i, mark - i)) {
			c->started = true;
			return;
		}
	if (n >= sizeof(c->tail)) {
		memcpy(c->tail, buf + n - sizeof(c->tail), sizeof(c->tail));
		c->n_tail = sizeof(c->tail);
	} else {
		size_t old = c->n_tail + n > sizeof(c->tail) ? sizeof(c->tail) - n : c->n_tail;

		memmove(c->tail, c->tail + c->n_tail - old, old);
		memcpy(c->tail + old, buf, n);
		c->n_tail = old + n;
	}
}

struct qemu_run {
	bool started;	  /* the command's start was seen */
	uint64_t started_ns; /* when (pml_now_ns()) */
	bool deadline;	  /* stopped at a deadline (boot or command) */
	uint64_t dropped; /* console bytes not kept */
};

/* Run QEMU with its console (stdout and stderr) into console, capped; stop it (SIGKILL)
 * at boot_s when the command has not started, at cmd_s after it started, or when
 * pml_vm_stop_signal is set. Returns QEMU's exit status (0-255, 128+signal), -ETIMEDOUT
 * at a deadline, -EINTR on a stop signal, or -errno. */
static int watch_qemu(char *const *argv, const char *console, unsigned boot_s, unsigned cmd_s,
		      struct qemu_run *run)
{
	struct console c = {.fd = -1};
	uint64_t deadline = pml_now_ns() + (uint64_t)boot_s * 1000000000ull;
	int pfd[2], status = 0, r = 0;
	bool eof = false;
	pid_t pid;

	c.fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c.fd < 0)
		return -errno;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		close(c.fd);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out_pipe;
	}
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* Its own process group: a terminal's ^C reaches pml, which stops it. */
		setpgid(0, 0);
		if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
		    dup2(pfd[1], STDOUT_FILENO) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "pml: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		uint64_t now = pml_now_ns();
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		char buf[65536];
		pid_t w;

		if (pml_vm_stop_signal) {
			r = -EINTR;
			break;
		}
		if (now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if (!eof) {
			uint64_t left_ms = (deadline - now) / 1000000 + 1;

			if (poll(&p, 1, left_ms < 200 ? (int)left_ms : 200) > 0) {
				ssize_t n = read(pfd[0], buf, sizeof(buf));

				if (n > 0) {
					bool was = c.started;

					console_take(&c, buf, (size_t)n);
					if (c.started && !was) {
						run->started_ns = pml_now_ns();
						deadline = run->started_ns +
							   (uint64_t)cmd_s * 1000000000ull;
					}
				} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
					eof = true;
				}
			}
		} else {
			struct timespec ts = {0, 20 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			pid = 0;
			/* what QEMU wrote last is still in the pipe */
			ssize_t n;

			while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
				console_take(&c, buf, (size_t)n);
			r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
		if (w < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		run->deadline = r == -ETIMEDOUT;
	}
out_pipe:
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (c.dropped) {
		char note[96];
		int k = snprintf(note, sizeof(note), "\n[pml: %llu more console bytes not kept]\n",
				 (unsigned long long)c.dropped);

		if (write(c.fd, note, (size_t)k) < 0)
			r = r ? r : -errno;
	}
	close(c.fd);
	run->started = c.started;
	run->dropped = c.dropped;
	return r;
}

static int run_qemu(const struct pml_vm_job *job, bool kvm, const char *job_tar,
		    const char *out_img, const char *console, struct qemu_run *run)
{
	char kernel[4400], initrd[4400], root[4600], jobd[4600], outd[4600], mem[32];
	char append[256];
	unsigned long khz = kvm ? 0 : host_tsc_khz();
	unsigned settle = (unsigned)(job->settle_seconds + 0.999);

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", job->image_dir);
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio.gz", job->image_dir);
	snprintf(root, sizeof(root), "id=root,file=%s/rootfs.ext4,format=raw,if=none,snapshot=on",
		 job->image_dir);
	snprintf(jobd, sizeof(jobd), "id=job,file=%s,format=raw,if=none,readonly=on", job_tar);
	snprintf(outd, sizeof(outd), "id=out,file=%s,format=raw,if=none", out_img);
	snprintf(mem, sizeof(mem), "%u", job->mem_mb ? job->mem_mb : 1024);
	/* tsc=reliable: no clocksource watchdog, which a busy host would trip into jiffies. */
	snprintf(append, sizeof(append), "console=ttyS0 quiet panic=-1 rdinit=/init");
	if (khz)
		snprintf(append, sizeof(append),
			 "console=ttyS0 quiet panic=-1 rdinit=/init tsc_early_khz=%lu tsc=reliable",
			 khz);
	char *argv[] = {
		"qemu-system-x86_64", "-M", "microvm,acpi=on", "-accel", kvm ? "kvm" : "tcg",
		"-cpu", kvm ? "host" : "max", "-m", mem, "-smp", "1", "-nographic",
		"-no-reboot", "-nodefaults", "-serial", "stdio", "-kernel", kernel, "-initrd",
		initrd, "-append", append,
		"-drive", root, "-device", "virtio-blk-device,drive=root,serial=pmlroot",
		"-drive", jobd, "-device", "virtio-blk-device,drive=job,serial=pmljob",
		"-drive", outd, "-device", "virtio-blk-device,drive=out,serial=pmlout", NULL,
	};

	/* A probe boot (timeout_s 0) runs `true`: the boot limit is its whole limit. */
	return watch_qemu(argv, console, kvm ? PML_VM_BOOT_KVM_S : PML_VM_BOOT_TCG_S,
			  job->timeout_s + settle + PML_VM_GRACE_S, run);
}

static bool file_exists(const char *dir, const char *name)
{
	char p[4400];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* A marker file's first word (guest-init writes them; a job may have too: they only
 * decide what the report says, never what the host does with a file). */
static bool marker_says(const char *dir, const char *name, const char *word)
{
	char p[4400], buf[32] = "";
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !word || !strncmp(buf, word, strlen(word));
}

/* A number of KiB from a marker, -1 when absent or not one. */
static int64_t marker_kib(const char *dir, const char *name)
{
	char p[4400], buf[32] = "", *end;
	long long v;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v < 0 || v > (1ll << 40))
		return -1;
	return v;
}

int pml_vm_run(const struct pml_vm_job *job, struct pml_vm_result *ret)
{
	struct pml_vm_result res = {0};
	char stage[4200], job_tar[4200], out_img[4200], console[4200];
	struct qemu_run run = {0};
	uint64_t t0;
	bool kvm = false;
	int r, fd;

	if (!file_exists(job->image_dir, ".complete")) {
		pml_err("no guest image at %s (scripts/build-image makes it)", job->image_dir);
		return -ENOENT;
	}
	if (job->accel == PML_ACCEL_KVM)
		kvm = true;
	else if (job->accel == PML_ACCEL_AUTO)
		kvm = pml_vm_kvm_works(job->image_dir, job->guest_dir, job->bin_dir);
	snprintf(stage, sizeof(stage), "%s/job", job->run_dir);
	snprintf(job_tar, sizeof(job_tar), "%s/job.tar", job->run_dir);
	snprintf(out_img, sizeof(out_img), "%s/out.img", job->run_dir);
	snprintf(console, sizeof(console), "%s/console.log", job->run_dir);
	if (job->result_dir)
		snprintf(res.result_dir, sizeof(res.result_dir), "%s", job->result_dir);
	else
		snprintf(res.result_dir, sizeof(res.result_dir), "%s/result", job->run_dir);
	r = stage_job(job, stage, job_tar);
	if (r < 0)
		return r;
	fd = open(out_img, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, 2048ll << 20) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;

	t0 = pml_now_ns();
	r = run_qemu(job, kvm, job_tar, out_img, console, &run);
	res.wall_s = (double)(pml_now_ns() - t0) / 1e9;
	res.wall_after_start_s = run.started ? (double)(pml_now_ns() - run.started_ns) / 1e9 : -1;
	res.kvm = kvm;
	res.cmd_started = run.started;
	res.console_dropped = run.dropped;
	if (r == -EINTR)
		return r;
	if (r < 0 && r != -ETIMEDOUT) {
		pml_err("qemu-system-x86_64 could not run: %s", strerror(-r));
		return r;
	}
	if (r == -ETIMEDOUT && !run.started) {
		pml_err("the guest did not reach the command within %u s (console: %s)",
			kvm ? PML_VM_BOOT_KVM_S : PML_VM_BOOT_TCG_S, console);
		return -ETIMEDOUT;
	}
	if (r > 0 && !run.started)
		pml_err("qemu-system-x86_64 exited with status %d (console: %s)", r, console);
	/* Whatever came back, even after the host stopped the guest. */
	r = pml_results_unpack(out_img, res.result_dir, &res.results);
	if (r < 0) {
		pml_err("%s: cannot unpack the guest's results: %s", res.result_dir,
			strerror(-r));
		return r;
	}
	res.host_stopped = run.deadline;
	res.pmld_start = marker_says(res.result_dir, "pmld.start", "ready")	 ? 1
			 : marker_says(res.result_dir, "pmld.start", "failed") ? 0
									   : -1;
	res.pmld_status = res.results.pmld_status;
	res.space_kib = marker_kib(res.result_dir, "space");
	res.guest_start_s = res.results.start_s;
	res.guest_cmd_s = res.results.start_s >= 0 && res.results.end_s >= res.results.start_s
				  ? res.results.end_s - res.results.start_s
				  : -1;
	if (!run.started) {
		/* The guest stopped before the command: pmld did not start under a policy
		 * that needs it (the guest said so), or the guest broke. */
		if (res.pmld_start == 0) {
			res.cmd_not_run = true;
			res.exit_status = -1;
			*ret = res;
			return 0;
		}
		pml_err("the guest stopped before running the command (console: %s)", console);
		return -EIO;
	}
	res.timed_out = run.deadline || marker_says(res.result_dir, "timed-out", NULL) ||
			marker_says(res.result_dir, "watchdog", NULL);
	/* guest-init writes 255 before the command and its status after it */
	if (res.results.status >= 0 && !(res.timed_out && res.results.status == 255))
		res.exit_status = res.results.status;
	else if (res.timed_out)
		res.exit_status = 124; /* as timeout(1) */
	else
		res.exit_status = -1; /* no status came back: the caller says so */
	*ret = res;
	return 0;
}

bool pml_vm_kvm_works(const char *image_dir, const char *guest_dir, const char *bin_dir)
{
	char cache[4096], probe[4400], dir[] = "/tmp/pml-kvm-probe.XXXXXX";
	struct utsname u;
	FILE *f;
	int answer = -1;

	if (access("/dev/kvm", R_OK | W_OK) < 0)
		return false;
	if (pml_cache_dir(cache, sizeof(cache)) < 0 || uname(&u) < 0)
		return false;
	snprintf(probe, sizeof(probe), "%s/kvm-probe-%s", cache, u.release);
	f = fopen(probe, "re");
	if (f) {
		char word[8] = "";

		if (fscanf(f, "%7s", word) == 1)
			answer = !strcmp(word, "yes");
		fclose(f);
	}
	if (answer < 0 && mkdtemp(dir)) {
		struct pml_vm_job j = {
			.image_dir = image_dir, .argv = (char *[]){"true", NULL},
			.policy = "reactive", .bin_dir = bin_dir, .guest_dir = guest_dir,
			.run_dir = dir, .timeout_s = 0, .accel = PML_ACCEL_KVM,
		};
		struct pml_vm_result res;

		pml_info("probing whether KVM boots the guest here (once per host kernel)");
		answer = pml_vm_run(&j, &res) == 0;
		pml_spawn_wait((char *[]){"rm", "-rf", dir, NULL}, -1, 0);
		f = fopen(probe, "we");
		if (f) {
			fprintf(f, "%s\n", answer ? "yes" : "no");
			fclose(f);
		}
		if (!answer)
			pml_info("KVM does not boot the guest here: using TCG");
	}
	return answer == 1;
}
