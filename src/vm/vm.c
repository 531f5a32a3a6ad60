/* Running a job in the microVM; see vm.h for the shape of a run. Host-side work that
 * standard tools do well (tar with its handling of modes, symlinks and odd names; cp) is
 * done by spawning them rather than by reimplementing them. */
#include <errno.h>
#include <fcntl.h>
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

static int read_double(const char *path, double *ret)
{
	FILE *f = fopen(path, "re");
	int r = -EIO;

	if (!f)
		return -errno;
	if (fscanf(f, "%lf", ret) == 1)
		r = 0;
	fclose(f);
	return r;
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
	fprintf(f, "POLICY=%s\nIDLE=%.3f\nSETTLE=%u\nTIMEOUT=%u\n", job->policy,
		job->idle_seconds, (unsigned)(job->settle_seconds + 0.999), job->timeout_s);
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

static int run_qemu(const struct pml_vm_job *job, bool kvm, const char *job_tar,
		    const char *out_img, const char *console, unsigned timeout_s)
{
	char kernel[4400], initrd[4400], root[4600], jobd[4600], outd[4600], mem[32];
	char append[256];
	unsigned long khz = kvm ? 0 : host_tsc_khz();
	int fd, r;

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

	fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* QEMU's own complaints go to the console log too, next to the guest's. */
	r = spawn(argv, fd, true, timeout_s);
	close(fd);
	return r;
}

static bool file_exists(const char *dir, const char *name)
{
	char p[4400];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

int pml_vm_run(const struct pml_vm_job *job, struct pml_vm_result *ret)
{
	struct pml_vm_result res = {0};
	char stage[4200], job_tar[4200], out_img[4200], console[4200], path[4400];
	uint64_t t0;
	bool kvm = false;
	double v;
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
	snprintf(res.result_dir, sizeof(res.result_dir), "%s/result", job->run_dir);
	r = stage_job(job, stage, job_tar);
	if (r < 0)
		return r;
	fd = open(out_img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, 2048ll << 20) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;

	t0 = pml_now_ns();
	/* Boot under TCG takes seconds; give the guest the command's limit plus room. */
	r = run_qemu(job, kvm, job_tar, out_img, console, job->timeout_s + (kvm ? 30 : 120));
	res.wall_s = (double)(pml_now_ns() - t0) / 1e9;
	res.kvm = kvm;
	if (r == -ETIMEDOUT) {
		pml_err("the guest did not finish within %u s (console: %s)",
			job->timeout_s + (kvm ? 30 : 120), console);
		return -ETIMEDOUT;
	}
	if (r != 0) {
		pml_err("qemu-system-x86_64 failed (%s%d; console: %s)", r < 0 ? "error " :
			"exit status ", r, console);
		return r < 0 ? r : -EIO;
	}
	if (mkdir(res.result_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = pml_spawn_wait((char *[]){"tar", "-xf", out_img, "-C", res.result_dir, NULL}, -1, 0);
	snprintf(path, sizeof(path), "%s/status", res.result_dir);
	if (r != 0 || read_double(path, &v) < 0) {
		pml_err("the guest stopped without a result (console: %s)", console);
		return -EIO;
	}
	res.exit_status = (int)v;
	snprintf(path, sizeof(path), "%s/start", res.result_dir);
	if (read_double(path, &v) == 0) {
		double end;

		res.guest_start_s = v;
		snprintf(path, sizeof(path), "%s/end", res.result_dir);
		if (read_double(path, &end) == 0)
			res.guest_cmd_s = end - v;
	}
	if (file_exists(res.result_dir, "work-out.tar")) {
		char out[4400], tar[4400];

		snprintf(out, sizeof(out), "%s/out", res.result_dir);
		snprintf(tar, sizeof(tar), "%s/work-out.tar", res.result_dir);
		if (mkdir(out, 0755) == 0)
			spawn_quiet((char *[]){"tar", "-xpf", tar, "-C", out, NULL});
		unlink(tar);
	}
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
