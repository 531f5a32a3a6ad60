/* The id and depth of a cgroup v2 directory (tracer.h's pml_cgroup_id): what a tracer
 * that follows the processes of one cgroup instead of a process tree is given
 * (pml_tracer_config's cgroup_id and cgroup_level; pmld --trace-cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/vfs.h>

#include "trace/tracer.h"

/* cgroup2's magic (linux/magic.h) */
#define CGROUP2_MAGIC 0x63677270

static bool on_cgroup2(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
}

int pml_cgroup_id(const char *dir, uint64_t *id, unsigned *level)
{
	/* a cgroup2 file handle is the kernfs node id, 8 bytes */
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + 8];
	} h;
	struct statfs sf;
	struct stat st;
	char up[4096];
	int mount_id;
	size_t n;

	if (stat(dir, &st) < 0 || statfs(dir, &sf) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (sf.f_type != CGROUP2_MAGIC)
		return -EOPNOTSUPP;
	h.fh.handle_bytes = 8;
	if (name_to_handle_at(AT_FDCWD, dir, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != 8)
		return -EOPNOTSUPP;
	memcpy(id, h.fh.f_handle, 8);
	/* the depth: parents while still on cgroup2 (the root's parent is not) */
	n = (size_t)snprintf(up, sizeof(up), "%s", dir);
	for (*level = 0; n + 3 < sizeof(up) && *level < 64; (*level)++) {
		memcpy(up + n, "/..", 4);
		n += 3;
		if (!on_cgroup2(up))
			return 0;
	}
	return -ENAMETOOLONG;
}
