/* Running QEMU for the vm folder (not part of vm.h's interface): the microvm command line
 * for a cold boot, a template boot and a restored clone; the process with its console
 * read through a pipe (capped, watched for guest-init's marks, under deadlines) and its
 * serial input, through which a restored guest gets its job's "go" line. */
#ifndef PML_VM_QEMU_H
#define PML_VM_QEMU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What guest-init writes on the console just before the command, and when a template is
 * ready to be saved. */
#define PML_QEMU_MARK_CMD "pml-guest: running the command"
#define PML_QEMU_MARK_READY "pml-guest: ready for a job"
#define PML_QEMU_MARK_PMLD_FAILED "pml-guest: pmld did not start"
#define PML_QEMU_MARK_CMD_DONE "pml-guest: command exited with status"

/* The size the per-run disk (serial pmlrun) always has, whatever its tar holds: a restored
 * guest must see the disk its template saw. A job bigger than this boots cold. */
#define PML_QEMU_RUN_DISK_BYTES (1ull << 30)
#define PML_QEMU_OUT_DISK_BYTES (2ull << 30)

struct pml_qemu_spec {
	const char *image_dir;	/* vmlinuz, initramfs.cpio.gz, rootfs.ext4 */
	bool kvm;
	unsigned mem_mb;
	unsigned cpus;		/* vCPUs (0: 1) */
	const char *root_qcow2; /* NULL: the image's rootfs.ext4 with snapshot=on */
	bool root_writable;	/* root_qcow2 written in place (a template), else snapshot=on */
	const char *tmpl_disk;	/* serial pmljob: guest-init, pml's binaries, settings */
	const char *run_disk;	/* serial pmlrun: the command and its files */
	const char *out_disk;	/* serial pmlout: where the guest writes its results */
	const char *ram_file;	/* guest RAM in this file (NULL: anonymous) */
	bool ram_shared;	/* share=on (a template writes it), else a private copy */
	const char *qmp_socket; /* NULL: no QMP */
	bool incoming;		/* -incoming defer: a clone waiting for its state */
	bool wait_for_job;	/* guest-init waits for a "go" line (pml.wait) */
	const char *append_extra; /* more kernel command line, or NULL */
};

struct pml_qemu {
	pid_t pid;	   /* 0 once reaped */
	int console_fd;	   /* pipe: QEMU's stdout and stderr */
	int input_fd;	   /* pipe: QEMU's stdin (the guest's serial input) */
	int log_fd;	   /* the console log */
	uint64_t kept, dropped;
	char tail[64];	   /* the last console bytes, to find a mark across reads */
	size_t n_tail;
	bool cmd_started;  /* PML_QEMU_MARK_CMD seen */
	uint64_t cmd_started_ns;
	bool ready;	   /* PML_QEMU_MARK_READY seen */
	bool pmld_failed;  /* PML_QEMU_MARK_PMLD_FAILED seen (before the command) */
	bool cmd_done;	   /* PML_QEMU_MARK_CMD_DONE seen (after the command's start) */
	uint64_t cmd_done_ns;
	/* With cmd_done, the guest gets this long to end (guest-init's stop of pmld and its
	 * results): a guest whose kernel hangs after the command is stopped then, not at the
	 * command's time limit. 0: no such deadline. Set by the caller before watching. */
	unsigned after_cmd_s;
	bool deadline;	   /* stopped at a deadline */
	int status;	   /* exit status once reaped (0-255, 128+signal) */
};

/* Start QEMU as spec says, its console into console_log (created, 0600). Returns 0 and
 * fills q, or -errno. */
int pml_qemu_start(const struct pml_qemu_spec *spec, const char *console_log,
		   struct pml_qemu *q);

/* Read the console until QEMU exits (returns its status, 0-255 or 128+signal), or
 * until_ready is set and PML_QEMU_MARK_READY appears (returns 0 with QEMU still running),
 * under deadlines: boot_s from now until the command's mark, cmd_s after it. At a
 * deadline QEMU is killed and -ETIMEDOUT returned; on pml_vm_stop_signal, killed and
 * -EINTR; else -errno. */
int pml_qemu_watch(struct pml_qemu *q, unsigned boot_s, unsigned cmd_s, bool until_ready);

/* Write a line to the guest's serial input. 0 or -errno. */
int pml_qemu_send_line(struct pml_qemu *q, const char *line);

/* Wait up to timeout_ms for QEMU to exit on its own, then kill it; close everything. */
void pml_qemu_finish(struct pml_qemu *q, int timeout_ms);

/* The host's TSC rate in kHz, 0 when unknown. */
unsigned long pml_qemu_host_tsc_khz(void);

#endif
