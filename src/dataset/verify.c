/* A run's trace against its manifest line (verify.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset/needs.h"
#include "dataset/verify.h"
#include "util/safepath.h"

/* All of buf to fd. 0 or -errno. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t k = write(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

/* CRC32 and size of fd from its offset to its end, each block also written to copy_fd
 * when >= 0. 0, or -errno with what failed in why. */
static int crc_copy(int fd, int copy_fd, uint32_t *ret_crc, uint64_t *ret_size, char *why,
		    size_t size)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, Z_NULL, 0);
	uint64_t n = 0;
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) != 0) {
		int r;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			snprintf(why, size, "%s", strerror(-r));
			return r;
		}
		crc = crc32(crc, buf, (uInt)k);
		n += (uint64_t)k;
		if (copy_fd >= 0 && (r = write_all(copy_fd, buf, (size_t)k)) < 0) {
			snprintf(why, size, "writing its copy: %s", strerror(-r));
			return r;
		}
	}
	*ret_crc = (uint32_t)crc;
	*ret_size = n;
	return 0;
}

int pml_dataset_check_run(const struct pml_dataset *ds, const struct pml_ds_run *run,
			  int copy_fd, char *why, size_t size)
{
	char path[4400];
	struct pml_needs n;
	uint32_t crc;
	uint64_t bytes;
	int fd, r;

	if (!run->trace[0])
		return -ENOENT;
	fd = pml_dataset_trace_open(ds, run);
	if (fd < 0) {
		snprintf(why, size, "%s", pml_beneath_strerror(fd));
		return fd;
	}
	r = crc_copy(fd, copy_fd, &crc, &bytes, why, size);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (crc != run->trace_crc || bytes != run->trace_bytes) {
		snprintf(why, size, "CRC32 %08" PRIx32 " and %" PRIu64 " bytes, the manifest "
			 "says %08" PRIx32 " and %" PRIu64 " (changed or damaged since "
			 "collected)", crc, bytes, run->trace_crc, run->trace_bytes);
		close(fd);
		return -EBADMSG;
	}
	if (run->state != PML_RUN_OK) {
		close(fd);
		return 0;
	}
	/* the needs from the bytes just checked: the copy when there is one */
	if (copy_fd >= 0) {
		close(fd);
		fd = lseek(copy_fd, 0, SEEK_SET) < 0 ? -1 : dup(copy_fd);
	} else if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		r = -errno;
		snprintf(why, size, "%s", strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s", ds->dir, run->trace);
	r = pml_needs_from_fd(fd, path, &n);
	if (r < 0) {
		snprintf(why, size, "unreadable: %s", strerror(-r));
	} else if (n.n != run->n_needs) {
		snprintf(why, size, "%zu needs, the manifest says %" PRIu32, n.n,
			 run->n_needs);
		r = -EBADMSG;
	}
	pml_needs_release(&n);
	return r;
}
