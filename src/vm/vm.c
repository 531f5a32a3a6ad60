/* Running a job in the microVM; see vm.h for the shape of a run. The job is staged on two
 * disks (stage.c), the guest is a clone of a ready snapshot (snapshot.c) or a cold boot,
 * QEMU's console is watched (qemu.c) and what comes back is the guest's, read only by
 * results.c, in this process. */
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
#include "util/outdir.h"
#include "vm/qemu.h"
#include "vm/results.h"
#include "vm/snapshot.h"
#include "vm/stage.h"
#include "vm/vm.h"

static int spawn(char *const *argv, int out_fd, unsigned timeout_s)
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
	return spawn(argv, out_fd, timeout_s);
}

static bool file_exists(const char *dir, const char *name)
{
	char p[4400];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* Whether a marker file starts with word (guest-init writes them; a job may have too: they
 * only decide what the report says, never what the host does with a file). */
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
	return !strncmp(buf, word, strlen(word));
}

/* A line of 64 hex digits from the host's RNG: a clone's RNG seed. */
static int random_hex(char *buf, size_t size)
{
	unsigned char b[32];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != (ssize_t)sizeof(b) || size < 2 * sizeof(b) + 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Start a clone of the job's ready snapshot (building it first when there is none or it is
 * damaged). Returns 0 with q running, 1 when the caller should boot cold (said why), or
 * -EINTR. */
static int start_restored(const struct pml_vm_job *job, const struct pml_qemu_spec *spec,
			  const char *tmpl_dir, const char *tmpl_tar, const char *tmpl_key,
			  uint64_t run_bytes,
			  struct pml_qemu *q, struct pml_vm_result *res, uint64_t *t_start)
{
	char root[4096], key[64], dir[4200], why[512] = "", seed[80], line[256], qmps[4300];
	char failed[4300];
	struct timespec now;
	double build_s;
	uint64_t t0;
	int r;

	if (run_bytes > PML_QEMU_RUN_DISK_BYTES) {
		snprintf(res->snapshot_note, sizeof(res->snapshot_note),
			 "the job's files (%llu MiB) do not fit a snapshot's run disk: cold boot",
			 (unsigned long long)(run_bytes >> 20));
		return 1;
	}
	if (pml_snapshot_root(root, sizeof(root)) < 0 ||
	    (mkdir(root, 0755) < 0 && errno != EEXIST) ||
	    pml_snapshot_key(tmpl_key, job->image_dir, spec->mem_mb, spec->cpus, spec->kvm, key,
			     sizeof(key)) < 0) {
		snprintf(res->snapshot_note, sizeof(res->snapshot_note),
			 "no snapshot directory (%s): cold boot", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", root, key);
	r = pml_snapshot_verify(dir, key, spec->mem_mb, why, sizeof(why));
	if (r == -EBADMSG || r == -ESTALE) {
		pml_warn("snapshot %s refused: %s; removing it and building it again", key, why);
		pml_outdir_remove(dir);
		r = -ENOENT;
	}
	/* A template whose pmld did not start is not retried for the same key (a run under
	 * such settings fails or falls back by itself; pml snapshot rm KEY tries again). */
	snprintf(failed, sizeof(failed), "%s.failed", dir);
	if (r == -ENOENT && access(failed, F_OK) == 0) {
		snprintf(res->snapshot_note, sizeof(res->snapshot_note),
			 "no snapshot: pmld did not start when snapshot %s was built: cold boot",
			 key);
		return 1;
	}
	if (r == -ENOENT) {
		pml_info("building a ready snapshot for these settings (once: later runs restore "
			 "it; pml snapshot ls)");
		t0 = pml_now_ns();
		r = pml_vm_stage_template(job, tmpl_dir, tmpl_tar);
		if (r < 0)
			return 1; /* said; the cold boot below says it again */
		r = pml_snapshot_build(spec, tmpl_tar, key, job->policy, dir, why, sizeof(why));
		build_s = (double)(pml_now_ns() - t0) / 1e9;
		if (r == -EEXIST)
			r = 0; /* another run built it first */
		if (r == -EINTR)
			return r;
		if (r == 0)
			r = pml_snapshot_verify(dir, key, spec->mem_mb, why, sizeof(why));
		if (r < 0) {
			int fd = r == -EAGAIN ? open(failed, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)
					      : -1;

			if (fd >= 0)
				close(fd);
			snprintf(res->snapshot_note, sizeof(res->snapshot_note),
				 "no snapshot: %s: cold boot", why);
			return 1;
		}
		pml_info("snapshot %s ready in %.1f s", key, build_s);
		pml_snapshot_prune(PML_SNAPSHOT_KEEP, key);
	}
	if (r < 0) {
		snprintf(res->snapshot_note, sizeof(res->snapshot_note), "no snapshot: %s: cold boot",
			 why);
		return 1;
	}
	/* The clone's identity: its RNG seed and the wall clock, from the host. */
	clock_gettime(CLOCK_REALTIME, &now);
	if (random_hex(seed, sizeof(seed)) < 0)
		return 1;
	snprintf(line, sizeof(line), "go %s %lld.%09ld", seed, (long long)now.tv_sec,
		 now.tv_nsec);
	snprintf(qmps, sizeof(qmps), "%s/qmp.sock", job->run_dir);
	*t_start = pml_now_ns();
	r = pml_snapshot_start_clone(dir, spec, qmps, res->console, line, q, why, sizeof(why));
	if (r < 0) {
		if (pml_vm_stop_signal)
			return -EINTR;
		pml_warn("%s; removing snapshot %s and booting cold", why, key);
		pml_outdir_remove(dir);
		snprintf(res->snapshot_note, sizeof(res->snapshot_note), "%s: cold boot", why);
		return 1;
	}
	res->restored = true;
	return 0;
}

int pml_vm_run(const struct pml_vm_job *job, struct pml_vm_result *ret)
{
	struct pml_vm_result res = {0};
	char tmpl_dir[4200], tmpl_tar[4200], run_stage[4200], run_tar[4200], out_img[4200];
	char tmpl_key[32];
	struct pml_qemu_spec spec = {0};
	struct pml_qemu q = {.pid = 0, .console_fd = -1, .input_fd = -1, .log_fd = -1};
	unsigned settle_s;
	uint64_t t0, run_bytes = 0;
	bool kvm = false;
	int r;

	if (!file_exists(job->image_dir, ".complete")) {
		pml_err("no guest image at %s (scripts/build-image makes it)", job->image_dir);
		return -ENOENT;
	}
	if (job->accel == PML_ACCEL_KVM)
		kvm = true;
	else if (job->accel == PML_ACCEL_AUTO)
		kvm = pml_vm_kvm_works(job->image_dir, job->guest_dir, job->bin_dir);
	snprintf(tmpl_dir, sizeof(tmpl_dir), "%s/tmpl", job->run_dir);
	snprintf(tmpl_tar, sizeof(tmpl_tar), "%s/tmpl.tar", job->run_dir);
	snprintf(run_stage, sizeof(run_stage), "%s/run", job->run_dir);
	snprintf(run_tar, sizeof(run_tar), "%s/run.tar", job->run_dir);
	snprintf(out_img, sizeof(out_img), "%s/out.img", job->run_dir);
	snprintf(res.console, sizeof(res.console), "%s/console.log", job->run_dir);
	if (job->result_dir)
		snprintf(res.result_dir, sizeof(res.result_dir), "%s", job->result_dir);
	else
		snprintf(res.result_dir, sizeof(res.result_dir), "%s/result", job->run_dir);
	r = pml_vm_template_key(job, tmpl_key, sizeof(tmpl_key));
	if (r < 0)
		return r;
	r = pml_vm_stage_run(job, run_stage, run_tar, &run_bytes);
	if (r < 0)
		return r;
	/* The run disk has one size whatever it holds (a clone must see its template's). */
	if (run_bytes <= PML_QEMU_RUN_DISK_BYTES && truncate(run_tar, PML_QEMU_RUN_DISK_BYTES) < 0)
		return -errno;
	r = open(out_img, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r < 0)
		return -errno;
	if (ftruncate(r, (off_t)PML_QEMU_OUT_DISK_BYTES) < 0) {
		int err = -errno;

		close(r);
		return err;
	}
	close(r);

	spec.image_dir = job->image_dir;
	spec.kvm = kvm;
	spec.mem_mb = job->mem_mb ? job->mem_mb : 1024;
	spec.cpus = job->cpus ? job->cpus : 1;
	spec.run_disk = run_tar;
	spec.out_disk = out_img;
	t0 = pml_now_ns();
	r = 1;
	if (job->snapshot == PML_VM_SNAPSHOT_AUTO)
		r = start_restored(job, &spec, tmpl_dir, tmpl_tar, tmpl_key, run_bytes, &q, &res,
				   &t0);
	if (r == -EINTR)
		return r;
	if (r == 1) {
		if (res.snapshot_note[0])
			pml_info("%s", res.snapshot_note);
		if (access(tmpl_tar, F_OK) < 0 &&
		    (r = pml_vm_stage_template(job, tmpl_dir, tmpl_tar)) < 0)
			return r;
		spec.tmpl_disk = tmpl_tar;
		t0 = pml_now_ns();
		r = pml_qemu_start(&spec, res.console, &q);
		if (r < 0) {
			pml_err("cannot start qemu-system-x86_64: %s", strerror(-r));
			return r;
		}
	}
	settle_s = (unsigned)(job->settle_seconds + 0.999);
	q.after_cmd_s = settle_s + PML_VM_AFTER_CMD_S;
	r = pml_qemu_watch(&q, res.restored ? PML_VM_BOOT_RESTORE_S
				      : kvm	  ? PML_VM_BOOT_KVM_S
						  : PML_VM_BOOT_TCG_S,
			   job->timeout_s + settle_s + PML_VM_GRACE_S, false);
	pml_qemu_finish(&q, 0);
	res.wall_s = (double)(pml_now_ns() - t0) / 1e9;
	res.wall_after_start_s = q.cmd_started ? (double)(pml_now_ns() - q.cmd_started_ns) / 1e9
					       : -1;
	res.start_to_cmd_s = q.cmd_started ? (double)(q.cmd_started_ns - t0) / 1e9 : -1;
	res.kvm = kvm;
	if (r == -EINTR)
		return r;
	if (r < 0 && r != -ETIMEDOUT) {
		pml_err("qemu-system-x86_64 could not run: %s", strerror(-r));
		return r;
	}
	if (r == -ETIMEDOUT && !q.cmd_started) {
		pml_err("the guest did not reach the command within %u s (console: %s)",
			res.restored ? PML_VM_BOOT_RESTORE_S
			: kvm	     ? PML_VM_BOOT_KVM_S
				     : PML_VM_BOOT_TCG_S, res.console);
		return -ETIMEDOUT;
	}
	if (r > 0 && !q.cmd_started)
		pml_err("qemu-system-x86_64 exited with status %d (console: %s)", r, res.console);
	/* Whatever came back, even after the host stopped the guest. */
	r = pml_results_unpack(out_img, res.result_dir, &res.results);
	if (r < 0) {
		pml_err("%s: cannot unpack the guest's results: %s", res.result_dir,
			strerror(-r));
		return r;
	}
	res.host_stopped = q.deadline;
	res.hung_after_cmd = q.deadline && q.cmd_done;
	res.after_cmd_s = q.after_cmd_s;
	res.pmld_start = marker_says(res.result_dir, "pmld.start", "ready")	 ? 1
			 : marker_says(res.result_dir, "pmld.start", "failed") ? 0
									   : -1;
	res.pmld_status = res.results.pmld_status;
	res.space_kib = res.results.space_kib;
	res.guest_start_s = res.results.start_s;
	res.guest_cmd_s = res.results.start_s >= 0 && res.results.end_s >= res.results.start_s
				  ? res.results.end_s - res.results.start_s
				  : -1;
	if (!q.cmd_started) {
		/* The guest stopped before the command: pmld did not start under a policy
		 * that needs it (the guest said so), or the guest broke. */
		if (res.pmld_start == 0) {
			res.cmd_not_run = true;
			res.exit_status = -1;
			*ret = res;
			return 0;
		}
		pml_err("the guest stopped before running the command (console: %s)", res.console);
		return -EIO;
	}
	res.timed_out = (q.deadline && !res.hung_after_cmd) ||
			res.results.file[PML_RESULTS_TIMED_OUT].present ||
			res.results.file[PML_RESULTS_WATCHDOG].present;
	/* guest-init writes 255 before the command and its status after it */
	if (res.results.status >= 0 &&
	    !((res.timed_out || res.hung_after_cmd) && res.results.status == 255))
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
			.snapshot = PML_VM_SNAPSHOT_OFF,
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
