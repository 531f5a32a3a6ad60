/* Output directories and bounded copies; see outdir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/outdir.h"

int pml_outdir_normalize(const char *dir, char *buf, size_t size)
{
	size_t n = dir ? strlen(dir) : 0;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!n)
		return -EINVAL;
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, dir, n);
	buf[n] = '\0';
	return 0;
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

int pml_outdir_check(const char *dir, bool force, char *why, size_t size)
{
	char parent[4096], *slash;
	struct stat st;

	why[0] = '\0';
	if (lstat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(why, size, "%s exists and is not a directory", dir);
			return -ENOTDIR;
		}
		if (!force && !dir_is_empty(dir)) {
			snprintf(why, size, "%s exists and is not empty: pml does not remove what "
				 "it did not make (give another name, or --force to replace it)",
				 dir);
			return -EEXIST;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(why, size, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (access(parent, W_OK | X_OK) < 0) {
		int err = errno;

		snprintf(why, size, "%s: cannot make it in %s: %s", dir, parent, strerror(err));
		return -err;
	}
	return 0;
}

int pml_outdir_tmp_name(const char *dir, char *buf, size_t size)
{
	if (snprintf(buf, size, "%s.tmp.XXXXXX", dir) >= (int)size)
		return -ENAMETOOLONG;
	if (!mkdtemp(buf))
		return -errno;
	return rmdir(buf) < 0 ? -errno : 0;
}

void pml_outdir_remove(const char *dir)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--one-file-system", "--", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
}

int pml_outdir_commit(const char *tmp, const char *dir, bool force)
{
	char aside[4200] = "";
	struct stat st;

	if (lstat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (rmdir(dir) < 0) {
			if (!force || (errno != ENOTEMPTY && errno != EEXIST))
				return -errno;
			if (pml_outdir_tmp_name(dir, aside, sizeof(aside)) < 0 ||
			    rename(dir, aside) < 0)
				return -errno;
		}
	}
	if (rename(tmp, dir) < 0) {
		int err = errno;

		if (aside[0] && rename(aside, dir) < 0)
			return -errno;
		return -err;
	}
	if (aside[0])
		pml_outdir_remove(aside);
	return 0;
}

int64_t pml_copy_file(const char *from, const char *to, uint64_t max)
{
	char tmp[4200], buf[65536];
	struct stat st;
	int in, out = -1;
	int64_t done = 0;
	int r = 0;

	in = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		close(in);
		return -EFBIG;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", to) >= (int)sizeof(tmp)) {
		close(in);
		return -ENAMETOOLONG;
	}
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((uint64_t)done + (uint64_t)n > max) {
			r = -EFBIG;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
		done += n;
	}
	close(in);
	if (fchmod(out, 0644) < 0 && !r)
		r = -errno;
	if (close(out) < 0 && !r)
		r = -EIO;
	if (!r && rename(tmp, to) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	return done;
}
