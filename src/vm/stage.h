/* Staging a job for the guest (the vm folder's own; not part of vm.h): two tars on two
 * disks. The template disk (serial pmljob) holds what shapes the guest before its job:
 * guest-init, pml's binaries, pmld's settings, its model and the policy file; a ready
 * snapshot is keyed by it. The run disk (serial pmlrun) holds the job itself: the
 * command, its settings (time limit, settle, output cap) and the user's --copy files; a
 * restored guest reads it after its "go" line. */
#ifndef PML_VM_STAGE_H
#define PML_VM_STAGE_H

#include <stdint.h>

#include "vm/vm.h"

/* The template's key into key (17 bytes at least): a hash of everything the template
 * disk would hold that shapes the guest (file contents, not times), read where they are,
 * without staging them. Returns 0, -EINVAL for a setting that cannot go into the settings
 * file, or the -errno of reading a file (logged). */
int pml_vm_template_key(const struct pml_vm_job *job, char *key, size_t key_size);

/* Stage the template into dir (made) and tar it to tar_path (needed only to build a
 * snapshot or to boot cold). Returns 0, -ENOENT for a missing binary (logged), -EINVAL
 * for a setting that cannot go into the settings file, or -errno. */
int pml_vm_stage_template(const struct pml_vm_job *job, const char *dir, const char *tar_path);

/* Stage the run into dir (made) and tar it to tar_path; *ret_bytes its size. Returns 0 or
 * -errno (logged). */
int pml_vm_stage_run(const struct pml_vm_job *job, const char *dir, const char *tar_path,
		     uint64_t *ret_bytes);

/* Run argv (stdin /dev/null), logging a failure. 0, or a negative errno (-EIO for a
 * nonzero exit). */
int pml_vm_spawn_quiet(char *const *argv);

/* FNV-1a 64 over n bytes, continuing from h (start with PML_VM_HASH_INIT). */
#define PML_VM_HASH_INIT 0xcbf29ce484222325ull
uint64_t pml_vm_hash(uint64_t h, const void *data, size_t n);
/* The same over a file's contents (and its length). 0 or -errno. */
int pml_vm_hash_file(uint64_t *h, const char *path);

#endif
