/* Paths read out of files pml reads (a dataset manifest's "trace", a run's "scenario"),
 * kept inside the directory they are relative to.
 *
 * A file pml reads may be hostile (a dataset downloaded or unpacked from an archive, its
 * manifest's checksum easily redone), so a path it names is never used as given: its text
 * must be confined (relative, no ".." or "." component, no empty one), and it is opened
 * from the directory's descriptor without following any symbolic link, so neither a link
 * in the tree nor one made later leads outside. pml never writes a link into the trees
 * it reads this way, so a link is refused rather than resolved. */
#ifndef PML_UTIL_SAFEPATH_H
#define PML_UTIL_SAFEPATH_H

#include <stdbool.h>

/* Whether rel stays inside the directory it is taken relative to, by its text alone: not
 * NULL or empty, not absolute, no "." or ".." component, no empty one ("a//b", "a/"), no
 * control character, shorter than PATH_MAX. */
bool pml_path_is_confined(const char *rel);

/* Open rel below the directory dirfd (or AT_FDCWD) without leaving it. flags are
 * openat()'s (O_CLOEXEC is added; O_CREAT makes mode 0644, less the umask). Uses
 * openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it (5.6),
 * else opens each directory on the way with O_NOFOLLOW and the last component with
 * O_NOFOLLOW; both refuse the same paths. Returns the descriptor, or -EINVAL when rel is
 * not confined (pml_path_is_confined()), -ELOOP when it or a directory on its way is a
 * symbolic link, -EXDEV if the kernel finds it leads outside all the same, or openat's
 * -errno (-ENOENT, -ENOTDIR, ...). */
int pml_open_beneath(int dirfd, const char *rel, int flags);

/* The same for a regular file: opened without blocking on a FIFO or a device, and refused
 * with -EISDIR for a directory, -EBADFD for anything else that is not a regular file.
 * O_NONBLOCK is cleared again unless flags asked for it. */
int pml_open_regular_beneath(int dirfd, const char *rel, int flags);

/* Words for the refusals above, to follow a path in a message ("a symbolic link
 * (refused: ...)"); strerror(-err) for any other error. */
const char *pml_beneath_strerror(int err);

/* Tests only: behave as on a kernel without openat2() (on), or as usual (off). */
void pml_safepath__test_no_openat2(bool on);

#endif
