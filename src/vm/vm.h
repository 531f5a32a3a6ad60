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
#include <stddef.h>

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
	double idle_seconds;	    /* idle-unload's T */
	double settle_seconds;	    /* wait after the command before stopping pmld */
	const char *policy_file;    /* host path or NULL (allow all) */
	const char *model;	    /* pmld's predictor model (host path) or NULL */
	double threshold;	    /* pmld --threshold, 0: its default */
	const char *budget_mem;	    /* pmld --budget-mem ("64M"), NULL: none */
	double horizon_ms;	    /* pmld --horizon (ms), 0: the model's */
	double budget_cpu;	    /* pmld --budget-cpu (load-ms per s), 0: none */
	bool trace;		    /* record CMD with the eBPF tracer: result_dir/trace.bin */
	double kill_pmld_after;	    /* a test of the fail-safe: kill -9 pmld this many
				       seconds into the command; 0: never */
	const char *bin_dir;	    /* holds pml, pmld, pml-modprobe for the guest */
	const char *guest_dir;	    /* the source tree's guest/ (guest-init) */
	const char *run_dir;	    /* scratch for this run: job.tar, out.img, console.log;
				       results are unpacked into run_dir/result */
	unsigned timeout_s;	    /* the command's time limit in the guest */
	unsigned mem_mb;
	enum pml_vm_accel accel;
};

struct pml_vm_result {
	int exit_status;	/* the command's, as a shell reports it (128+sig when killed) */
	double wall_s;		/* host wall time of the whole boot-run-poweroff */
	double guest_start_s;	/* guest uptime when the command started (boot time) */
	double guest_cmd_s;	/* guest time the command took */
	bool kvm;		/* whether KVM was used */
	char result_dir[4096];	/* run_dir/result */
};

/* Boot, run, collect. Returns 0 when the guest came back with a result (whatever the
 * command's status), -ETIMEDOUT when the guest did not finish in time (console log kept),
 * -EIO when it powered off without a result, -ENOENT for a missing image or binary,
 * other -errno for host failures. ret is written on success. */
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
