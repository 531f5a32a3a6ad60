/* QEMU's process for the vm folder; see qemu.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/timeutil.h"
#include "vm/qemu.h"
#include "vm/vm.h"

/* Under TCG the guest's TSC runs at the host's rate, and the guest kernel's own calibration
 * against the emulated PIT fails when the host is busy (seen here: "tsc: Unable to
 * calibrate against PIT", then a hang before the console comes up, in 3 of 4 boots on a
 * loaded machine). tsc_early_khz= skips it. */
unsigned long pml_qemu_host_tsc_khz(void)
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
	signal(SIGPIPE, SIG_IGN); /* a dead QEMU's input pipe is an error, not a death */
}

/* Whether mark appears in what came (the tail kept from earlier reads, then buf). */
static bool seen(const struct pml_qemu *q, const char *buf, size_t n, const char *mark)
{
	size_t m = strlen(mark);

	if (memmem(buf, n, mark, m))
		return true;
	for (size_t i = 1; i < m && i <= q->n_tail; i++)
		if (m - i <= n && !memcmp(q->tail + q->n_tail - i, mark, i) &&
		    !memcmp(buf, mark + i, m - i))
			return true;
	return false;
}

/* The console as it streams: kept up to PML_VM_CONSOLE_MAX, watched for guest-init's
 * marks (a job may write them too: that only moves its own deadline earlier). */
static void console_take(struct pml_qemu *q, const char *buf, size_t n)
{
	size_t keep = q->kept < PML_VM_CONSOLE_MAX ? PML_VM_CONSOLE_MAX - q->kept : 0;

	if (keep > n)
		keep = n;
	if (keep && write(q->log_fd, buf, keep) == (ssize_t)keep)
		q->kept += keep;
	else
		keep = 0;
	q->dropped += n - keep;
	if (!q->ready && seen(q, buf, n, PML_QEMU_MARK_READY))
		q->ready = true;
	if (!q->cmd_started && !q->pmld_failed && seen(q, buf, n, PML_QEMU_MARK_PMLD_FAILED))
		q->pmld_failed = true;
	if (!q->cmd_started && seen(q, buf, n, PML_QEMU_MARK_CMD)) {
		q->cmd_started = true;
		q->cmd_started_ns = pml_now_ns();
	} else if (q->cmd_started && !q->cmd_done && seen(q, buf, n, PML_QEMU_MARK_CMD_DONE)) {
		q->cmd_done = true;
		q->cmd_done_ns = pml_now_ns();
	}
	if (n >= sizeof(q->tail)) {
		memcpy(q->tail, buf + n - sizeof(q->tail), sizeof(q->tail));
		q->n_tail = sizeof(q->tail);
	} else {
		size_t old = q->n_tail + n > sizeof(q->tail) ? sizeof(q->tail) - n : q->n_tail;

		memmove(q->tail, q->tail + q->n_tail - old, old);
		memcpy(q->tail + old, buf, n);
		q->n_tail = old + n;
	}
}

int pml_qemu_start(const struct pml_qemu_spec *spec, const char *console_log,
		   struct pml_qemu *q)
{
	char kernel[4400], initrd[4400], root[4600], tmpl[4600], run[4600], out[4600];
	char mem[32], smp[16], append[512], memobj[4600], machine[64], qmp[4200];
	unsigned long khz = spec->kvm ? 0 : pml_qemu_host_tsc_khz();
	char *argv[64];
	int in[2] = {-1, -1}, con[2] = {-1, -1}, r;
	size_t n = 0;
	pid_t pid;

	memset(q, 0, sizeof(*q));
	q->console_fd = q->input_fd = q->log_fd = -1;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", spec->image_dir);
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio.gz", spec->image_dir);
	if (spec->root_qcow2)
		snprintf(root, sizeof(root), "id=root,file=%s,format=qcow2,if=none%s",
			 spec->root_qcow2, spec->root_writable ? "" : ",snapshot=on");
	else
		snprintf(root, sizeof(root),
			 "id=root,file=%s/rootfs.ext4,format=raw,if=none,snapshot=on",
			 spec->image_dir);
	snprintf(tmpl, sizeof(tmpl), "id=job,file=%s,format=raw,if=none,readonly=on",
		 spec->tmpl_disk);
	snprintf(run, sizeof(run), "id=run,file=%s,format=raw,if=none,readonly=on",
		 spec->run_disk);
	snprintf(out, sizeof(out), "id=out,file=%s,format=raw,if=none", spec->out_disk);
	snprintf(mem, sizeof(mem), "%u", spec->mem_mb ? spec->mem_mb : 1024);
	snprintf(smp, sizeof(smp), "%u", spec->cpus ? spec->cpus : 1);
	/* tsc=reliable: no clocksource watchdog, which a busy host would trip into jiffies. */
	r = snprintf(append, sizeof(append), "console=ttyS0 quiet panic=-1 rdinit=/init");
	if (khz)
		r += snprintf(append + r, sizeof(append) - (size_t)r,
			      " tsc_early_khz=%lu tsc=reliable", khz);
	if (spec->wait_for_job)
		r += snprintf(append + r, sizeof(append) - (size_t)r, " pml.wait");
	if (spec->append_extra)
		snprintf(append + r, sizeof(append) - (size_t)r, " %s", spec->append_extra);

	argv[n++] = "qemu-system-x86_64";
	argv[n++] = "-M";
	if (spec->ram_file) {
		snprintf(machine, sizeof(machine), "microvm,acpi=on,memory-backend=mem");
		snprintf(memobj, sizeof(memobj),
			 "memory-backend-file,id=mem,size=%sM,mem-path=%s,share=%s", mem,
			 spec->ram_file, spec->ram_shared ? "on" : "off");
		argv[n++] = machine;
		argv[n++] = "-object";
		argv[n++] = memobj;
	} else {
		argv[n++] = "microvm,acpi=on";
	}
	argv[n++] = "-accel";
	argv[n++] = spec->kvm ? "kvm" : "tcg";
	argv[n++] = "-cpu";
	argv[n++] = spec->kvm ? "host" : "max";
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "-smp";
	argv[n++] = smp;
	argv[n++] = "-nographic";
	argv[n++] = "-no-reboot";
	argv[n++] = "-nodefaults";
	argv[n++] = "-serial";
	argv[n++] = "stdio";
	argv[n++] = "-kernel";
	argv[n++] = kernel;
	argv[n++] = "-initrd";
	argv[n++] = initrd;
	argv[n++] = "-append";
	argv[n++] = append;
	argv[n++] = "-drive";
	argv[n++] = root;
	argv[n++] = "-device";
	argv[n++] = "virtio-blk-device,drive=root,serial=pmlroot";
	argv[n++] = "-drive";
	argv[n++] = tmpl;
	argv[n++] = "-device";
	argv[n++] = "virtio-blk-device,drive=job,serial=pmljob";
	argv[n++] = "-drive";
	argv[n++] = run;
	argv[n++] = "-device";
	argv[n++] = "virtio-blk-device,drive=run,serial=pmlrun";
	argv[n++] = "-drive";
	argv[n++] = out;
	argv[n++] = "-device";
	argv[n++] = "virtio-blk-device,drive=out,serial=pmlout";
	if (spec->qmp_socket) {
		snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", spec->qmp_socket);
		argv[n++] = "-qmp";
		argv[n++] = qmp;
	}
	if (spec->incoming) {
		argv[n++] = "-incoming";
		argv[n++] = "defer";
	}
	argv[n] = NULL;

	q->log_fd = open(console_log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			 0600);
	if (q->log_fd < 0)
		return -errno;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(con, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0) {
		/* Its own process group: a terminal's ^C reaches pml, which stops it. */
		setpgid(0, 0);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(con[1], STDOUT_FILENO) < 0 ||
		    dup2(con[1], STDERR_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "pml: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(con[1]);
	q->pid = pid;
	q->input_fd = in[1];
	q->console_fd = con[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (con[i] >= 0)
			close(con[i]);
	}
	close(q->log_fd);
	q->log_fd = -1;
	return r;
}

static void drain(struct pml_qemu *q)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(q->console_fd, buf, sizeof(buf))) > 0)
		console_take(q, buf, (size_t)n);
}

int pml_qemu_watch(struct pml_qemu *q, unsigned boot_s, unsigned cmd_s, bool until_ready)
{
	uint64_t deadline = q->cmd_started ? q->cmd_started_ns + (uint64_t)cmd_s * 1000000000ull
					   : pml_now_ns() + (uint64_t)boot_s * 1000000000ull;
	bool eof = false;
	int status, r;

	for (;;) {
		uint64_t now = pml_now_ns();
		struct pollfd p = {.fd = q->console_fd, .events = POLLIN};
		char buf[65536];
		pid_t w;

		if (pml_vm_stop_signal) {
			r = -EINTR;
			break;
		}
		if (now >= deadline) {
			r = -ETIMEDOUT;
			q->deadline = true;
			break;
		}
		if (!eof) {
			uint64_t left_ms = (deadline - now) / 1000000 + 1;

			if (poll(&p, 1, left_ms < 200 ? (int)left_ms : 200) > 0) {
				ssize_t n = read(q->console_fd, buf, sizeof(buf));

				if (n > 0) {
					bool was = q->cmd_started, done = q->cmd_done;

					console_take(q, buf, (size_t)n);
					if (q->cmd_started && !was)
						deadline = q->cmd_started_ns +
							   (uint64_t)cmd_s * 1000000000ull;
					if (q->cmd_done && !done && q->after_cmd_s) {
						uint64_t end = q->cmd_done_ns +
							       q->after_cmd_s * 1000000000ull;

						deadline = end < deadline ? end : deadline;
					}
					if (until_ready && q->ready)
						return 0;
				} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
					eof = true;
				}
			}
		} else {
			struct timespec ts = {0, 20 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		w = waitpid(q->pid, &status, WNOHANG);
		if (w == q->pid) {
			q->pid = 0;
			drain(q); /* what QEMU wrote last is still in the pipe */
			q->status = WIFEXITED(status) ? WEXITSTATUS(status)
						      : 128 + WTERMSIG(status);
			return q->status;
		}
		if (w < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	kill(q->pid, SIGKILL);
	waitpid(q->pid, &status, 0);
	q->pid = 0;
	q->status = 128 + SIGKILL;
	return r;
}

int pml_qemu_send_line(struct pml_qemu *q, const char *line)
{
	size_t n = strlen(line);

	while (n) {
		ssize_t w = write(q->input_fd, line, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		line += w;
		n -= (size_t)w;
	}
	return write(q->input_fd, "\n", 1) == 1 ? 0 : -errno;
}

void pml_qemu_finish(struct pml_qemu *q, int timeout_ms)
{
	uint64_t deadline = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int status;

	while (q->pid > 0 && pml_now_ns() < deadline) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (waitpid(q->pid, &status, WNOHANG) == q->pid) {
			q->pid = 0;
			q->status = WIFEXITED(status) ? WEXITSTATUS(status)
						      : 128 + WTERMSIG(status);
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
		q->pid = 0;
		q->status = 128 + SIGKILL;
	}
	if (q->console_fd >= 0) {
		drain(q);
		close(q->console_fd);
	}
	if (q->input_fd >= 0)
		close(q->input_fd);
	if (q->log_fd >= 0) {
		if (q->dropped) {
			char note[96];
			int k = snprintf(note, sizeof(note),
					 "\n[pml: %llu more console bytes not kept]\n",
					 (unsigned long long)q->dropped);

			if (write(q->log_fd, note, (size_t)k) < 0) {
				/* the log is best effort */
			}
		}
		close(q->log_fd);
	}
	q->console_fd = q->input_fd = q->log_fd = -1;
}
