/* The microVM testbed: run one command in a QEMU guest booted on the pinned Debian kernel
 * with only the base modules loaded, and bring its results back.
 *
 * A run is three virtio disks found in the guest by serial number: the root filesystem of
 * a cached image (opened with snapshot=on: the image never changes), the job (a tar: the
 * command, settings, policy file, pml's guest binaries, guest-init, the user's files) and
 * the output (a sparse raw file the guest writes a tar onto: exit status, stdout, stderr,
 * the decision log, /work/out). The kernel console goes to a log file. */
#ifndef PML_VM_VM_H
#define PML_VM_VM_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/results.h"

enum pml_vm_accel {
	PML_ACCEL_AUTO, /* KVM when a cached probe says it boots here, else TCG */
	PML_ACCEL_TCG,
	PML_ACCEL_KVM,
};

#define PML_VM_MAX_COPY 16

struct pml_vm_job {
	const char *image_dir;	    /* an image built by scripts/build-image */
	char *const *argv;	    /* the command, NULL-terminated */
	const char *copy[PML_VM_MAX_COPY]; /* host files/dirs put under /work */
	size_t n_copy;
	const char *policy;	    /* agent policy name: reactive, idle-unload, markov, lstm
				       (lstm: pmld traces what the guest starts after it,
				       with the command line and script as prior) */
	double idle_seconds;	    /* pmld --idle-seconds, 0: pmld's default (the policy
				       file's idle-unload, else 5) */
	double settle_seconds;	    /* wait after the command before stopping pmld */
	const char *policy_file;    /* host path or NULL (allow all) */
	const char *model;	    /* pmld's predictor model (host path) or NULL */
	const char *slots_model;    /* pmld's slot model (host path: slots, learned) or NULL */
	double threshold;	    /* pmld --threshold, 0: its default */
	const char *budget_mem;	    /* pmld --budget-mem ("64M"), NULL: none */
	double horizon_ms;	    /* pmld --horizon (ms), 0: the model's */
	double budget_cpu;	    /* pmld --budget-cpu (load-ms per s), 0: none */
	bool trace;		    /* record CMD with the eBPF tracer: result_dir/trace.bin */
	double kill_pmld_after;	    /* a test of the fail-safe: kill -9 pmld this many
				       seconds into the command; 0: never */
	bool break_pmld;	    /* a test of the fallback rule: pmld gets a setting it
				       refuses, so it does not start */
	const char *bin_dir;	    /* holds pml, pmld, pml-modprobe for the guest */
	const char *guest_dir;	    /* the source tree's guest/ (guest-init) */
	const char *run_dir;	    /* scratch for this run: job.tar, out.img, console.log;
				       results are unpacked into run_dir/result */
	const char *result_dir;	    /* or there when set (it must not exist: it is made) */
	bool fallback;		    /* run the command even when pmld does not start (the
				       report says so); else the guest does not run it */
	enum pml_vm_snapshot {
		PML_VM_SNAPSHOT_AUTO = 0, /* restore a clone of the ready snapshot for these
					     settings, building it first when missing */
		PML_VM_SNAPSHOT_OFF,	  /* boot cold */
	} snapshot;
	unsigned timeout_s;	    /* the command's time limit in the guest */
	unsigned mem_mb;
	/* vCPUs (0: 1). Under TCG each is a host thread (QEMU's multi-threaded TCG): with 2,
	 * pmld's work and its prefetches run beside the job instead of taking its CPU. */
	unsigned cpus;
	enum pml_vm_accel accel;
};

/* How long the host waits, and how much console it keeps. The command's own limit is
 * the job's timeout_s (+ settle); the host counts it from the moment the guest says on
 * its console that the command starts, and stops the guest PML_VM_GRACE_S after it: the
 * guest's own watchdog writes what there is before that (guest/guest-init). */
#define PML_VM_GRACE_S 10
/* Once the guest says the command exited, it has settle + this long to end (stop pmld, at
 * most 10 s, and write its results): a guest kernel stuck after the command (seen: a
 * 2-vCPU TCG guest whose second vCPU stopped answering as pmld stopped) is stopped then,
 * not at the command's time limit. A job that prints the mark itself only moves its own
 * deadline earlier. */
#define PML_VM_AFTER_CMD_S 60
#define PML_VM_BOOT_TCG_S 180	   /* boot to the command's start, TCG */
#define PML_VM_BOOT_KVM_S 30
#define PML_VM_BOOT_RESTORE_S 30   /* a restored clone, QEMU's start to the command */
#define PML_VM_CONSOLE_MAX (4u << 20) /* console.log bytes kept (the rest is counted) */

struct pml_vm_result {
	int exit_status;	/* the command's, as a shell reports it (128+sig when killed);
				   124 when it timed out; -1 when no status came back or the
				   command was not run */
	double wall_s;		/* host wall time of the whole boot-run-poweroff */
	double wall_after_start_s; /* of it, from the command's start (as the console said)
				   to the guest's end; -1 when it did not start */
	double start_to_cmd_s;	/* of it, from QEMU's start to the command's start (boot or
				   restore); -1 when it did not start */
	double guest_start_s;	/* guest uptime when the command started (boot time), -1
				   unknown */
	double guest_cmd_s;	/* guest time the command took, -1 unknown */
	bool kvm;		/* whether KVM was used */
	bool timed_out;		/* the command did not end within its time (the guest's
				   timeout or watchdog said so, or the host stopped the
				   guest) */
	bool host_stopped;	/* the host stopped the guest at its deadline */
	bool hung_after_cmd;	/* ... after the guest said the command had exited */
	unsigned after_cmd_s;	/* the time it had to end after saying so */
	bool cmd_not_run;	/* pmld did not start and the guest did not run the command */
	int pmld_start;		/* 1 pmld came up, 0 it did not, -1 unknown */
	int pmld_status;	/* pmld's exit status in the guest, -1 unknown */
	int64_t space_kib;	/* KiB left on the guest's /run at the end, -1 unknown */
	struct pml_results results; /* what came back, and what was refused */
	bool restored;		/* a clone of a ready snapshot (else a cold boot) */
	char snapshot_note[600]; /* why the run booted cold, when it did under AUTO */
	char console[4200];	/* run_dir/console.log */
	char result_dir[4096];	/* run_dir/result or job->result_dir */
};

/* SIGINT, SIGTERM and SIGHUP set pml_vm_stop_signal instead of killing pml, so that a
 * running guest is stopped and the scratch directories are removed; pml_vm_run() then
 * returns -EINTR. Call once before the first run. */
extern volatile sig_atomic_t pml_vm_stop_signal;
void pml_vm_catch_signals(void);

/* Boot, run, collect. Returns 0 when the command started (whatever came back: ret says
 * what, with exit_status 124 and timed_out when it did not end in time) or when the guest
 * refused to run it because pmld did not start (cmd_not_run); -ETIMEDOUT when the guest did
 * not reach the command in time, -EIO when it stopped before, -EINTR when a signal stopped
 * it (pml_vm_stop_signal), -ENOENT for a missing image or binary, other -errno for host
 * failures. ret is written on success. */
int pml_vm_run(const struct pml_vm_job *job, struct pml_vm_result *ret);

/* Run argv on the host, stdin from /dev/null, stdout to out_fd (-1: inherit), wait up to timeout_s (0: none).
 * Returns the exit status (0-255), 128+signal, -ETIMEDOUT (killed), or -errno. */
int pml_spawn_wait(char *const *argv, int out_fd, unsigned timeout_s);

/* Like pml_spawn_wait() with stdout captured: its last line (the answer of a script that
 * reports progress on stderr) into out. */
int pml_spawn_capture(char *const *argv, char *out, size_t size);

/* What a guest run needs on the host: pml's tree (guest/, scripts/), its binaries for the
 * guest, and the image for a package set. */
struct pml_testbed {
	char src_dir[4096];
	char guest_dir[4200];
	char bin_dir[4096];
	char image_dir[4096];
};

/* pml's source tree (guest/, scripts/, workloads/): PML_SRCDIR in the environment, else
 * the tree pml was built from. 0, or -ENOENT when it has no guest/ directory. */
int pml_testbed_src_dir(char *buf, size_t size);

/* Make the testbed ready: find the tree (PML_SRCDIR in the environment, else the tree pml
 * was built from) and the running binary's directory, fetch the guest kernel when it is
 * missing (scripts/fetch-kernel) and build or reuse the image for packages (comma-separated,
 * "" for none; scripts/build-image, progress on stderr). Returns 0, or -ENOENT / -EIO with
 * the reason logged (and the scripts' own messages on stderr). */
int pml_testbed_prepare(const char *packages, bool quiet, struct pml_testbed *ret);

/* Whether KVM boots this kernel here: a short probe boot, its answer cached under the
 * cache directory per host kernel. */
bool pml_vm_kvm_works(const char *image_dir, const char *guest_dir, const char *bin_dir);

#endif
