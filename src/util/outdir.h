/* Output directories a command writes for the user (`pml run --report DIR`): made under a
 * temporary sibling name and renamed into place at the end, so DIR is never half-written,
 * and never deleting what pml did not make: an existing non-empty DIR is refused unless
 * the caller was told to replace it (--force). */
#ifndef PML_UTIL_OUTDIR_H
#define PML_UTIL_OUTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* dir without its trailing slashes ("out/" -> "out", "/" stays) into buf. 0, -EINVAL for
 * an empty name, -ENAMETOOLONG. */
int pml_outdir_normalize(const char *dir, char *buf, size_t size);

/* Whether dir may become an output directory: absent, or an empty directory, or (force)
 * any directory. 0; -EEXIST when it holds files (why says to use --force or another name),
 * -ENOTDIR when it is not a directory, -errno when its parent cannot take it. */
int pml_outdir_check(const char *dir, bool force, char *why, size_t size);

/* A name beside dir that nothing uses ("DIR.tmp.XXXXXX"), reserved by making it and
 * removing it again, into buf: the caller makes it (the result reader wants to). */
int pml_outdir_tmp_name(const char *dir, char *buf, size_t size);

/* Put tmp (a directory pml made) in dir's place: an empty dir is removed first; with
 * force a non-empty one is renamed aside and removed once tmp is in place. Returns 0 or
 * -errno (tmp is left as it is, named in the caller's message). */
int pml_outdir_commit(const char *tmp, const char *dir, bool force);

/* Remove a directory tree pml made (rm -rf, which never follows a symlink). */
void pml_outdir_remove(const char *dir);

/* Copy the regular file from (never through a symlink) to to (created or replaced,
 * through a temporary file renamed over it), at most max bytes. Returns the bytes copied,
 * -ELOOP / -EINVAL when from is a symlink or not a regular file, -EFBIG when it holds
 * more than max (nothing written), or -errno. */
int64_t pml_copy_file(const char *from, const char *to, uint64_t max);

#endif
