/* The dataset in memory (dataset.h): its runs, their ids and file names, their traces
 * opened beneath the dataset's directory, the CRC32 of a file. The manifest that keeps it
 * on disk is in dataset-manifest.c, the split and the run seeds in dataset-split.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset/dataset-priv.h"
#include "dataset/dataset.h"
#include "util/log.h"
#include "util/safepath.h"

void pml_dataset_run_id(const char *scenario, uint32_t index, char *buf, size_t size)
{
	snprintf(buf, size, "%s#%04" PRIu32, scenario, index);
}

void pml_dataset_run_file(const char *scenario, uint32_t index, const char *ext, char *buf,
			  size_t size)
{
	char s[96];

	snprintf(s, sizeof(s), "%s", scenario);
	for (char *p = s; *p; p++)
		if (*p == '/')
			*p = '.';
	snprintf(buf, size, "%s.%04" PRIu32 "%s", s, index, ext);
}

struct pml_dataset *pml_dataset_new(const char *dir, uint32_t seed)
{
	struct pml_dataset *ds = calloc(1, sizeof(*ds));
	time_t now = time(NULL);
	struct tm tm;

	if (!ds)
		return NULL;
	snprintf(ds->dir, sizeof(ds->dir), "%s", dir);
	ds->seed = seed;
	gmtime_r(&now, &tm);
	strftime(ds->created, sizeof(ds->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ds;
}

void pml_dataset_free(struct pml_dataset *ds)
{
	if (!ds)
		return;
	free(ds->runs);
	free(ds);
}

const struct pml_ds_run *pml_dataset_find(const struct pml_dataset *ds, const char *id)
{
	for (size_t i = 0; i < ds->n_runs; i++)
		if (!strcmp(ds->runs[i].id, id))
			return &ds->runs[i];
	return NULL;
}

int pml_dataset_add(struct pml_dataset *ds, const struct pml_ds_run *run)
{
	struct pml_ds_run *old = (struct pml_ds_run *)pml_dataset_find(ds, run->id);

	if (old) {
		*old = *run;
		return 0;
	}
	if (ds->n_runs == ds->cap_runs) {
		size_t cap = ds->cap_runs ? ds->cap_runs * 2 : 64;
		struct pml_ds_run *v = realloc(ds->runs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ds->runs = v;
		ds->cap_runs = cap;
	}
	ds->runs[ds->n_runs++] = *run;
	return 0;
}

/* The refusals of pml_open_regular_beneath(): what the entry is, not what the disk
 * did. */
static bool refused(int err)
{
	return err == -EINVAL || err == -ELOOP || err == -EXDEV || err == -EISDIR ||
	       err == -EBADFD;
}

/* s for a message: control characters as '?', at most size - 1 bytes ("..." when cut). */
const char *ds_printable(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

/* Open run's trace below ds->dir with flags (pml_open_regular_beneath()); a refusal is
 * logged naming the manifest, the run and its entry. */
static int trace_open_flags(const struct pml_dataset *ds, const struct pml_ds_run *run,
			    int flags)
{
	char shown[160];
	int dfd, fd;

	if (!run->trace[0])
		return -ENOENT;
	dfd = open(ds->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = pml_open_regular_beneath(dfd, run->trace, flags);
	close(dfd);
	if (refused(fd))
		pml_err("%s/%s: run %s: trace '%s': %s", ds->dir, PML_DATASET_MANIFEST,
			run->id, ds_printable(run->trace, shown, sizeof(shown)),
			pml_beneath_strerror(fd));
	return fd;
}

int pml_dataset_trace_open(const struct pml_dataset *ds, const struct pml_ds_run *run)
{
	return trace_open_flags(ds, run, O_RDONLY);
}

int pml_dataset_trace_path(const struct pml_dataset *ds, const struct pml_ds_run *run,
			   char *buf, size_t size)
{
	int fd;

	if (!run->trace[0])
		return -ENOENT;
	/* the entry is checked as pml_dataset_trace_open() would; a missing file or one
	 * that cannot be opened is left to the reader to report */
	fd = trace_open_flags(ds, run, O_PATH);
	if (refused(fd))
		return fd;
	if (fd >= 0)
		close(fd);
	if ((size_t)snprintf(buf, size, "%s/%s", ds->dir, run->trace) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int pml_fd_crc32(int fd, uint32_t *ret_crc, uint64_t *ret_size)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, Z_NULL, 0);
	uint64_t size = 0;
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		crc = crc32(crc, buf, (uInt)k);
		size += (uint64_t)k;
	}
	if (k < 0)
		return -errno;
	*ret_crc = (uint32_t)crc;
	*ret_size = size;
	return 0;
}

int pml_file_crc32(const char *path, uint32_t *ret_crc, uint64_t *ret_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = pml_fd_crc32(fd, ret_crc, ret_size);
	close(fd);
	return r;
}
