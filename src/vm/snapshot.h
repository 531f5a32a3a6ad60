/* Ready snapshots: a guest booted once to the point just before its job (base set loaded,
 * pmld up with its policy, model and tracer, guest-init waiting for a "go" line), saved
 * with QEMU's own migration machinery, and restored as a fresh clone per job.
 *
 * A snapshot is a directory CACHE/snapshots/KEY:
 *   meta        magic, version, what it was made of, sizes and CRC-32s (itself checked)
 *   ram         the guest's RAM (memory-backend-file; clones map it privately)
 *   state       the migration stream of everything else (~70 kB: x-ignore-shared)
 *   root.qcow2  the template's root disk writes, over the image's rootfs.ext4 (clones
 *               open it with snapshot=on: their writes go to a temporary overlay)
 *   tmpl.tar    the template disk (guest-init, pml's binaries, pmld's settings)
 * KEY hashes everything that shapes the guest before its job: the template disk's
 * contents (binaries, guest-init, policy and pmld settings, model, policy file), the
 * image, QEMU's version, the memory size and the accelerator. A template whose pmld did
 * not start leaves KEY.failed instead (not retried until removed). At most
 * PML_SNAPSHOT_KEEP are kept: a new one removes the least recently used. */
#ifndef PML_VM_SNAPSHOT_H
#define PML_VM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/qemu.h"

#define PML_SNAPSHOT_VERSION 1

/* CACHE/snapshots into buf. 0 or -errno. */
int pml_snapshot_root(char *buf, size_t size);

/* The key of a template (tmpl_key from pml_vm_stage_template()) for this image, memory,
 * vCPUs and accelerator, into key (33 bytes at least). 0 or -errno. */
int pml_snapshot_key(const char *tmpl_key, const char *image_dir, unsigned mem_mb,
		     unsigned cpus, bool kvm, char *key, size_t key_size);

/* Check the snapshot in dir against key and mem_mb: the meta file's magic, version and
 * checksum, the files' sizes, and the CRC-32 of the state, root disk and template disk.
 * The RAM file's size is checked, not its bytes (1 GiB would cost more than the restore).
 * 0; -ENOENT when there is none; -EBADMSG when damaged (why says which part); -ESTALE
 * for another key, size or QEMU. */
int pml_snapshot_verify(const char *dir, const char *key, unsigned mem_mb, char *why,
			size_t why_size);

/* Build the snapshot for key into dir (made under a temporary name, renamed into place):
 * boot spec's guest (template disk tmpl_tar, copied in) until guest-init says it is
 * ready with pmld up, then stop it and migrate its state to a file. A guest whose pmld
 * did not come up is not saved (-EAGAIN). Returns 0, -EEXIST when another process built
 * it first (dir is then there), -ETIMEDOUT, -EINTR on a stop signal, or -errno; why says
 * what happened. */
int pml_snapshot_build(const struct pml_qemu_spec *spec, const char *tmpl_tar,
		       const char *key, const char *policy, const char *dir, char *why,
		       size_t why_size);

/* Start a clone of the snapshot in dir: QEMU with its RAM mapped privately, its root disk
 * under a temporary overlay, the given run and out disks, waiting for its state, which
 * this then loads (QMP migrate-incoming) before continuing the guest and giving it line
 * (its "go"). qmp_socket is a path of the caller's scratch. Returns 0 with q running, or
 * -errno (QEMU is stopped and q finished); why says what failed. */
int pml_snapshot_start_clone(const char *dir, const struct pml_qemu_spec *spec,
			     const char *qmp_socket, const char *console_log, const char *line,
			     struct pml_qemu *q, char *why, size_t why_size);

/* One snapshot, as pml snapshot ls shows it. */
struct pml_snapshot_info {
	char key[64];
	char policy[64];
	unsigned mem_mb;
	unsigned cpus;
	bool kvm;
	int64_t created;     /* Unix time */
	uint64_t disk_bytes; /* blocks actually used on disk */
	bool valid;	     /* its meta file checks out */
};

/* Every snapshot under the root, up to max into out; returns how many there are (may be
 * more than max) or -errno. */
int pml_snapshot_list(struct pml_snapshot_info *out, size_t max);

/* Keep the keep most recently used snapshots (and except), removing the others. Returns
 * how many were removed, or -errno. */
#define PML_SNAPSHOT_KEEP 8
int pml_snapshot_prune(size_t keep, const char *except);

/* Remove the snapshot of key (a directory name under the root: no '/' or '..'). 0,
 * -ENOENT, -EINVAL. */
int pml_snapshot_remove(const char *key);

#endif
