/* The slot model's file (slots.h): write, and read as untrusted input. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "model/model-file.h"
#include "model/slots.h"
#include "util/log.h"


struct file_head {
	char magic[8];
	uint32_t version;
	char series[32];
	float threshold;
	float bias;
	uint32_t n;
};

void pml_slots_model_free(struct pml_slots_model *m)
{
	if (!m)
		return;
	free(m->idx);
	free(m->w);
	free(m->h_key);
	free(m->h_w);
	free(m);
}

int pml_slots_model_write(const char *path, const struct pml_slots_model *m)
{
	struct file_head h = {.version = PML_SLOTS_VERSION, .threshold = m->threshold,
			      .bias = m->bias, .n = m->n};
	char tmp[4200];
	uLong crc = crc32(0, Z_NULL, 0);
	uint32_t c;
	FILE *f;
	int r = 0;

	memcpy(h.magic, PML_SLOTS_MAGIC, 8);
	snprintf(h.series, sizeof(h.series), "%s", m->kernel_series);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "wbe");
	if (!f)
		return -errno;
	crc = crc32(crc, (const Bytef *)&h, sizeof(h));
	fwrite(&h, sizeof(h), 1, f);
	for (uint32_t i = 0; i < m->n; i++) {
		crc = crc32(crc, (const Bytef *)&m->idx[i], 4);
		crc = crc32(crc, (const Bytef *)&m->w[i], 4);
		fwrite(&m->idx[i], 4, 1, f);
		fwrite(&m->w[i], 4, 1, f);
	}
	c = (uint32_t)crc;
	fwrite(&c, 4, 1, f);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int pml_slots_model_parse(const void *data, size_t size, const char *path,
			  const char *kernel_release, struct pml_slots_model **ret)
{
	const unsigned char *buf = data;
	struct pml_slots_model *m = NULL;
	struct file_head h;
	char series[32];
	uint32_t crc;
	int r = -EINVAL;

	*ret = NULL;
	if (size < sizeof(h) + 4 || size > sizeof(h) + 4 + 8ull * PML_SLOTS_MAX_WEIGHTS) {
		pml_err("%s: %zu bytes: not a slot model (magic %s)", path, size,
			PML_SLOTS_MAGIC);
		return -EINVAL;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, PML_SLOTS_MAGIC, 8)) {
		pml_err("%s: not a slot model (no magic %s)", path, PML_SLOTS_MAGIC);
		goto out;
	}
	if (h.version != PML_SLOTS_VERSION) {
		pml_err("%s: slot model version %u, this pml reads %d", path, h.version,
			PML_SLOTS_VERSION);
		r = h.version > PML_SLOTS_VERSION ? -EPROTONOSUPPORT : -EINVAL;
		goto out;
	}
	memcpy(&crc, buf + size - 4, 4);
	if (crc != (uint32_t)crc32(crc32(0, Z_NULL, 0), buf, (uInt)(size - 4))) {
		pml_err("%s: checksum mismatch (damaged or cut)", path);
		r = -EBADMSG;
		goto out;
	}
	if (h.n > PML_SLOTS_MAX_WEIGHTS || size != sizeof(h) + 4 + 8ull * h.n) {
		pml_err("%s: says %u weights in %zu bytes", path, h.n, size);
		goto out;
	}
	if (!memchr(h.series, '\0', sizeof(h.series)) || !h.series[0]) {
		pml_err("%s: no kernel series", path);
		goto out;
	}
	if (!isfinite(h.threshold) || h.threshold <= 0 || h.threshold >= 1 ||
	    !isfinite(h.bias) || fabsf(h.bias) > 100) {
		pml_err("%s: threshold %g or bias %g out of range (0 < threshold < 1, |bias| <= "
			"100)", path, (double)h.threshold, (double)h.bias);
		goto out;
	}
	if (kernel_release) {
		if (pml_kernel_series(kernel_release, series, sizeof(series)) < 0 ||
		    strcmp(series, h.series)) {
			pml_err("%s: trained for kernel series %s, not for %s", path, h.series,
				kernel_release);
			r = -EXDEV;
			goto out;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->idx = malloc((h.n ? h.n : 1) * 4)) ||
	    !(m->w = malloc((h.n ? h.n : 1) * 4))) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < h.n; i++) {
		memcpy(&m->idx[i], buf + sizeof(h) + 8ull * i, 4);
		memcpy(&m->w[i], buf + sizeof(h) + 8ull * i + 4, 4);
		if (m->idx[i] >= PML_SLOTS_MAX_WEIGHTS || (i && m->idx[i] <= m->idx[i - 1]) ||
		    !isfinite(m->w[i]) || fabsf(m->w[i]) > 100) {
			pml_err("%s: weight %u (index %u, value %g): out of range or order", path,
				i, m->idx[i], (double)m->w[i]);
			goto out;
		}
	}
	memcpy(m->kernel_series, h.series, sizeof(h.series));
	m->threshold = h.threshold;
	m->bias = h.bias;
	m->n = h.n;
	pml_slots_model_index(m); /* without it, it scores all the same */
	*ret = m;
	m = NULL;
	r = 0;
out:
	pml_slots_model_free(m);
	return r;
}

int pml_slots_model_read(const char *path, const char *kernel_release,
			 struct pml_slots_model **ret)
{
	unsigned char *buf;
	struct stat st;
	size_t size;
	int fd, r;

	*ret = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		pml_err("%s: %s", path, r == -ELOOP ? "a symbolic link (not followed)" : strerror(-r));
		return r == -ELOOP ? -EINVAL : r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > 16 + 64 + 4 + 8ull * PML_SLOTS_MAX_WEIGHTS) {
		pml_err("%s: not a slot model (%s)", path,
			S_ISREG(st.st_mode) ? "too large" : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t got = 0; got < size;) {
		ssize_t k = read(fd, buf + got, size - got);

		if (k <= 0) {
			pml_err("%s: cannot read: %s", path, k < 0 ? strerror(errno) : "short");
			close(fd);
			free(buf);
			return -EIO;
		}
		got += (size_t)k;
	}
	close(fd);
	r = pml_slots_model_parse(buf, size, path, kernel_release, ret);
	free(buf);
	return r;
}
