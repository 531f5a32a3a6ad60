/* Confined paths: see safepath.h for the threat and the rules.
 *
 * Why no link at all, not just none leading outside: a link inside the directory is fine
 * today and points elsewhere once the tree is copied or unpacked somewhere else, and the
 * fallback (a component at a time with O_NOFOLLOW) cannot tell an inside link from an
 * outside one without resolving it itself. Refusing both keeps the two ways identical. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "util/safepath.h"

static int no_openat2; /* 1 once the kernel said ENOSYS (or a test asked) */

void pml_safepath__test_no_openat2(bool on)
{
	__atomic_store_n(&no_openat2, on ? 1 : 0, __ATOMIC_RELAXED);
}

bool pml_path_is_confined(const char *rel)
{
	size_t len;

	if (!rel || !*rel || *rel == '/')
		return false;
	len = strnlen(rel, PATH_MAX);
	if (len >= PATH_MAX)
		return false;
	for (const char *c = rel; *c;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
				return false;
		c += n;
		if (*c == '/' && !*++c)
			return false; /* trailing "/" */
	}
	return true;
}

static bool creates(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* An O_PATH | O_NOFOLLOW open hands back the link itself: refuse it like the others. */
static int refuse_link(int fd, int flags)
{
	struct stat st;

	if (fd >= 0 && (flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/* openat2's way: 0 or more (the descriptor), -errno, or -ENOSYS to fall back. */
static int open_openat2(int dirfd, const char *rel, int flags)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = creates(flags) ? 0644 : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (__atomic_load_n(&no_openat2, __ATOMIC_RELAXED))
		return -ENOSYS;
	fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	if (fd >= 0)
		return refuse_link((int)fd, flags);
	if (errno == ENOSYS)
		__atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
	/* EPERM: a seccomp filter that does not know openat2; E2BIG: an older struct */
	if (errno == ENOSYS || errno == EPERM || errno == E2BIG)
		return -ENOSYS;
	return -errno;
#else
	return -ENOSYS;
#endif
}

/* One directory at a time, none of them followed if a link. */
static int open_walk(int dirfd, const char *rel, int flags)
{
	char buf[PATH_MAX];
	char *comp = buf, *slash;
	int cur = dirfd, fd;

	memcpy(buf, rel, strlen(rel) + 1);
	while ((slash = strchr(comp, '/'))) {
		*slash = '\0';
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			struct stat st;

			fd = -errno;
			if (fd == -ENOTDIR &&
			    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				fd = -ELOOP;
			if (cur != dirfd)
				close(cur);
			return fd;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		comp = slash + 1;
	}
	fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = -errno;
	if (cur != dirfd)
		close(cur);
	return refuse_link(fd, flags);
}

int pml_open_beneath(int dirfd, const char *rel, int flags)
{
	int fd;

	if (!pml_path_is_confined(rel))
		return -EINVAL;
	fd = open_openat2(dirfd, rel, flags);
	if (fd == -ENOSYS)
		fd = open_walk(dirfd, rel, flags);
	return fd;
}

int pml_open_regular_beneath(int dirfd, const char *rel, int flags)
{
	struct stat st;
	/* O_PATH opens nothing (and openat2 takes no other flag with it) */
	int nb = flags & O_PATH ? 0 : O_NONBLOCK;
	int fd = pml_open_beneath(dirfd, rel, flags | nb), fl, r = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	else if (!(flags & (O_NONBLOCK | O_PATH)) &&
		 ((fl = fcntl(fd, F_GETFL)) < 0 ||
		  fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

const char *pml_beneath_strerror(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a relative path inside the directory (absolute, '..', '.' or "
		       "an empty component; refused)";
	case -ELOOP:
		return "a symbolic link, or one on its way (refused: links are not "
		       "followed out of the directory)";
	case -EXDEV:
		return "leads outside the directory (refused)";
	case -EISDIR:
		return "a directory, not a file";
	case -EBADFD:
		return "not a regular file (refused)";
	default:
		return strerror(-err);
	}
}
