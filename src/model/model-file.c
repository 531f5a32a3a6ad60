/* The model file's writer and its checking loader; the layout is in model-file.h.
 *
 * The loader trusts nothing in the file: every size and offset is checked against the
 * real length before use, in an order chosen so that the message names the real problem
 * (a foreign file is "not a model", a newer one "too new", a short one "truncated", and
 * only then a bad checksum means damage). It is fuzzed by tests/fuzz/fuzz-model-file.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model-file.h"
#include "util/log.h"
#include "util/option-table.h"

struct model_header {
	char magic[8];
	uint32_t version;
	uint32_t crc32;
	uint64_t file_size;
	uint32_t header_size;
	uint32_t kind;
	uint32_t params[PML_MODEL_MAX_PARAMS];
	char kernel_series[32];
	char kernel_release[64];
	uint32_t n_vocab;
	uint32_t n_modules;
	uint64_t strings_offset;
	uint64_t strings_size;
	uint64_t weights_offset;
	uint64_t n_weights;
	uint32_t horizon_events;
	uint32_t horizon_ms;
	uint32_t features_version;
	uint32_t epoch;
	float val_loss;
	float threshold;
	uint32_t train_flags;
	float val_score;
	uint32_t roles_size;
	uint8_t reserved[PML_MODEL_HEADER_SIZE - 236];
};

_Static_assert(sizeof(struct model_header) == PML_MODEL_HEADER_SIZE, "header layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the format is little-endian");

#define CRC_START 16 /* the checksum covers everything after itself */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t pml_crc32(uint32_t crc, const void *data, size_t size)
{
	const uint8_t *p = data;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (size--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

int pml_kernel_series(const char *release, char *buf, size_t size)
{
	unsigned major, minor;
	int n = 0;

	if (!release || sscanf(release, "%u.%u%n", &major, &minor, &n) != 2 || !n)
		return -EINVAL;
	if ((size_t)snprintf(buf, size, "%u.%u", major, minor) >= size)
		return -EINVAL;
	return 0;
}

static int params_valid(uint32_t kind, const uint32_t *params, uint64_t *ret_weights)
{
	if (kind == PML_MODEL_LSTM) {
		struct pml_lstm_config cfg = {
			.vocab = (int)params[0], .embed = (int)params[1], .hidden = (int)params[2],
			.layers = (int)params[3], .modules = (int)params[4]};
		size_t n;

		if (params[0] > INT32_MAX || params[1] > INT32_MAX || params[2] > INT32_MAX ||
		    params[3] > INT32_MAX || params[4] > INT32_MAX)
			return -EBADMSG;
		n = pml_lstm_param_count(&cfg, NULL);
		if (!n || params[5] > PML_LSTM_FILE_ADAM)
			return -EBADMSG;
		/* a checkpoint carries Adam's m and v after the weights */
		*ret_weights = params[5] & PML_LSTM_FILE_ADAM ? 3 * (uint64_t)n : n;
		return 0;
	}
	if (kind == PML_MODEL_NGRAM) {
		/* n-gram tables are sized by ngram.c; here only bounds that keep sums finite */
		if (!params[0] || !params[1] || params[0] > (1u << 24) || params[1] > (1u << 16))
			return -EBADMSG;
		*ret_weights = UINT64_MAX; /* any count: ngram.c checks it */
		return 0;
	}
	return -EBADMSG;
}

int pml_model_file_write(const char *path, const struct pml_model_desc *d)
{
	struct model_header h;
	uint64_t strings = 0, woff, expect;
	char *buf = NULL, *p, tmp[4096];
	int fd = -1, r;
	size_t total;

	memset(&h, 0, sizeof(h));
	if (params_valid(d->kind, d->params, &expect) < 0 ||
	    (expect != UINT64_MAX && expect != d->n_weights) || !d->meta.kernel_release ||
	    strlen(d->meta.kernel_release) >= sizeof(h.kernel_release) ||
	    pml_kernel_series(d->meta.kernel_release, h.kernel_series,
			      sizeof(h.kernel_series)) < 0 ||
	    (d->n_vocab && !d->meta.vocab) || (d->n_modules && !d->meta.modules))
		return -EINVAL;
	for (uint32_t i = 0; i < d->n_vocab; i++)
		strings += strlen(d->meta.vocab[i]) + 1;
	for (uint32_t i = 0; i < d->n_modules; i++) {
		strings += strlen(d->meta.modules[i]) + 1;
		if (d->meta.roles && d->meta.roles[i] != PML_MODEL_ROLE_TARGET &&
		    d->meta.roles[i] != PML_MODEL_ROLE_DEP)
			return -EINVAL;
	}
	h.roles_size = d->meta.roles ? d->n_modules : 0;
	woff = (PML_MODEL_HEADER_SIZE + strings + h.roles_size + 63) & ~(uint64_t)63;
	total = woff + d->n_weights * sizeof(float);
	buf = calloc(1, total);
	if (!buf)
		return -ENOMEM;
	memcpy(h.magic, PML_MODEL_MAGIC, 8);
	h.version = PML_MODEL_VERSION;
	h.file_size = total;
	h.header_size = PML_MODEL_HEADER_SIZE;
	h.kind = d->kind;
	memcpy(h.params, d->params, sizeof(h.params));
	strcpy(h.kernel_release, d->meta.kernel_release);
	h.horizon_events = d->meta.horizon_events;
	h.horizon_ms = d->meta.horizon_ms;
	h.features_version = d->meta.features_version;
	h.epoch = d->meta.epoch;
	h.val_loss = d->meta.val_loss;
	h.threshold = d->meta.threshold;
	h.train_flags = d->meta.train_flags;
	h.val_score = d->meta.val_score;
	h.n_vocab = d->n_vocab;
	h.n_modules = d->n_modules;
	h.strings_offset = PML_MODEL_HEADER_SIZE;
	h.strings_size = strings;
	h.weights_offset = woff;
	h.n_weights = d->n_weights;
	p = buf + PML_MODEL_HEADER_SIZE;
	for (uint32_t i = 0; i < d->n_vocab; i++)
		p = stpcpy(p, d->meta.vocab[i]) + 1;
	for (uint32_t i = 0; i < d->n_modules; i++)
		p = stpcpy(p, d->meta.modules[i]) + 1;
	if (h.roles_size)
		memcpy(p, d->meta.roles, h.roles_size);
	if (d->n_weights)
		memcpy(buf + woff, d->weights, d->n_weights * sizeof(float));
	memcpy(buf, &h, sizeof(h));
	h.crc32 = pml_crc32(0, buf + CRC_START, total - CRC_START);
	memcpy(buf, &h, sizeof(h));

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (size_t done = 0; done < total;) {
		ssize_t n = write(fd, buf + done, total - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_unlink;
		}
		done += n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		r = -errno;
		fd = -1;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto out_unlink;
	}
	r = 0;
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	free(buf);
	return r;
}

/* Split n NUL-ended strings starting at *p (before end) into out; advance *p. */
static int split_strings(const char **p, const char *end, uint32_t n, const char **out)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *nul = memchr(*p, '\0', end - *p);

		if (!nul)
			return -EBADMSG;
		out[i] = *p;
		*p = nul + 1;
	}
	return 0;
}

int pml_model_file_parse(const void *buf, size_t size, const char *name,
			 const char *kernel_release, unsigned flags,
			 struct pml_model_file **ret)
{
	const char *base = buf;
	struct model_header h;
	struct pml_model_file *mf;
	const char *p, *end;
	uint64_t expect;
	char series[32], why[160];

	if (!name)
		name = "model";
	/* a short prefix of the magic is a truncated model, anything else a foreign file */
	if (memcmp(base, PML_MODEL_MAGIC, size < 8 ? size : 8)) {
		pml_err("%s: not a pml model file (bad magic)", name);
		return -ENOEXEC;
	}
	if (size < sizeof(h)) {
		pml_err("%s: truncated: %zu bytes, shorter than the %d-byte header", name, size,
			PML_MODEL_HEADER_SIZE);
		return -ENODATA;
	}
	if ((uintptr_t)base % 4) {
		pml_err("%s: model buffer not 4-byte aligned", name);
		return -EINVAL;
	}
	memcpy(&h, base, sizeof(h));
	if (h.version > PML_MODEL_VERSION) {
		pml_err("%s: model format version %u is newer than this pml reads (%d): update "
			"pml or retrain the model with this one",
			name, h.version, PML_MODEL_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (h.version == 0) {
		pml_err("%s: damaged model file (version 0)", name);
		return -EBADMSG;
	}
	if (h.file_size > size) {
		pml_err("%s: truncated: %zu bytes, the header says %llu (copy it again)", name,
			size, (unsigned long long)h.file_size);
		return -ENODATA;
	}
	if (h.file_size < size || h.header_size != sizeof(h)) {
		pml_err("%s: damaged model file (%s)", name,
			h.file_size < size ? "bytes past its end" : "bad header size");
		return -EBADMSG;
	}
	if (pml_crc32(0, base + CRC_START, size - CRC_START) != h.crc32) {
		pml_err("%s: checksum mismatch: the model file is damaged (retrain or copy it "
			"again)", name);
		return -EBADMSG;
	}
	/* the checksum holds: what follows catches a writer's bugs, or a forged file */
	if (params_valid(h.kind, h.params, &expect) < 0 ||
	    (expect != UINT64_MAX && expect != h.n_weights) ||
	    h.strings_offset != sizeof(h) || h.strings_size > size - h.strings_offset ||
	    h.weights_offset % 64 || h.weights_offset < h.strings_offset + h.strings_size ||
	    h.weights_offset > size || h.n_weights > (size - h.weights_offset) / sizeof(float) ||
	    h.weights_offset + h.n_weights * sizeof(float) != size ||
	    (uint64_t)h.n_vocab + h.n_modules > h.strings_size ||
	    (h.roles_size && (h.version < 3 || h.roles_size != h.n_modules ||
			      h.roles_size > h.weights_offset - h.strings_offset - h.strings_size)) ||
	    !memchr(h.kernel_series, '\0', sizeof(h.kernel_series)) ||
	    !memchr(h.kernel_release, '\0', sizeof(h.kernel_release))) {
		pml_err("%s: damaged model file (inconsistent header)", name);
		return -EBADMSG;
	}
	if ((h.kind == PML_MODEL_LSTM && (h.n_vocab != h.params[0] || h.n_modules != h.params[4])) ||
	    (h.kind == PML_MODEL_NGRAM && (h.n_vocab != h.params[0] || h.n_modules != h.params[1]))) {
		pml_err("%s: damaged model file (vocabulary or module count disagrees with the "
			"model's sizes)", name);
		return -EBADMSG;
	}
	if (kernel_release) {
		if (pml_kernel_series(kernel_release, series, sizeof(series)) < 0) {
			pml_err("%s: cannot tell the series of kernel release '%s'", name,
				kernel_release);
			return -EINVAL;
		}
		if (strcmp(series, h.kernel_series)) {
			if (!(flags & PML_MODEL_ANY_KERNEL)) {
				pml_err("%s: trained for kernel %s (series %s), not for %s (series "
					"%s): module names differ across series; retrain, or force it",
					name, h.kernel_release, h.kernel_series, kernel_release, series);
				return -EXDEV;
			}
			pml_warn("%s: trained for kernel series %s, used on %s as asked", name,
				 h.kernel_series, kernel_release);
		} else if (strcmp(kernel_release, h.kernel_release)) {
			pml_warn("%s: trained for kernel %s, running %s: same series, module names "
				 "are stable, predictions may still be a little off",
				 name, h.kernel_release, kernel_release);
		}
	}

	/* the stored settings and the weights are used as numbers: in range and finite, by
	 * the same table as the options that set them (util/option-table.h) */
	if ((h.threshold != 0 && pml_num_check(PML_NUMOPT(THRESHOLD), "threshold", h.threshold,
					       why, sizeof(why)) < 0) ||
	    (h.horizon_ms != 0 && pml_num_check(PML_NUMOPT(HORIZON_MS), "horizon-ms",
						h.horizon_ms, why, sizeof(why)) < 0)) {
		pml_err("%s: damaged model file: %s", name, why);
		return -EBADMSG;
	}
	for (uint64_t i = 0; i < h.n_weights; i++) {
		if (!isfinite(((const float *)(base + h.weights_offset))[i])) {
			pml_err("%s: damaged model file: weight %llu of %llu is not a finite "
				"number (retrain the model)", name, (unsigned long long)i,
				(unsigned long long)h.n_weights);
			return -EBADMSG;
		}
	}

	mf = calloc(1, sizeof(*mf));
	if (!mf)
		return -ENOMEM;
	mf->vocab = calloc((size_t)h.n_vocab + h.n_modules + 1, sizeof(char *));
	if (!mf->vocab) {
		free(mf);
		return -ENOMEM;
	}
	mf->modules = mf->vocab + h.n_vocab;
	p = base + h.strings_offset;
	end = p + h.strings_size;
	if (split_strings(&p, end, h.n_vocab, mf->vocab) < 0 ||
	    split_strings(&p, end, h.n_modules, mf->modules) < 0) {
		pml_err("%s: damaged model file (string table)", name);
		free(mf->vocab);
		free(mf);
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < h.roles_size; i++)
		if (end[i] != PML_MODEL_ROLE_TARGET && end[i] != PML_MODEL_ROLE_DEP) {
			pml_err("%s: damaged model file (module %u's role is %u)", name, i,
				(unsigned)(uint8_t)end[i]);
			free(mf->vocab);
			free(mf);
			return -EBADMSG;
		}
	mf->kind = h.kind;
	mf->version = h.version;
	memcpy(mf->params, h.params, sizeof(mf->params));
	memcpy(mf->kernel_series, h.kernel_series, sizeof(mf->kernel_series));
	memcpy(mf->kernel_release, h.kernel_release, sizeof(mf->kernel_release));
	mf->n_vocab = h.n_vocab;
	mf->n_modules = h.n_modules;
	mf->horizon_events = h.horizon_events;
	mf->horizon_ms = h.horizon_ms;
	mf->features_version = h.features_version;
	mf->epoch = h.epoch;
	mf->val_loss = h.val_loss;
	mf->threshold = h.threshold;
	mf->train_flags = h.train_flags;
	mf->val_score = h.val_score;
	mf->weights = (const float *)(base + h.weights_offset);
	mf->n_weights = h.n_weights;
	mf->roles = h.roles_size ? (const uint8_t *)end : NULL;
	*ret = mf;
	return 0;
}

const char *pml_model_file_strerror(int err)
{
	switch (err) {
	case -ENOEXEC: return "not a pml model file";
	case -ENODATA: return "truncated";
	case -EBADMSG: return "damaged (checksum, header or a stored number wrong)";
	case -EXDEV: return "trained for another kernel series";
	case -EPROTONOSUPPORT: return "a newer model format than this pml reads";
	case -ENOENT: return "no such file";
	case -EACCES: return "not readable (permission denied)";
	case -EISDIR: return "a directory, not a model file";
	case -ENOMEM: return "out of memory";
	default: return err == -EINVAL ? "not a model file pml can read" : strerror(-err);
	}
}

int pml_model_file_open(const char *path, const char *kernel_release, unsigned flags,
			struct pml_model_file **ret)
{
	struct pml_model_file *mf;
	struct stat st;
	void *map;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pml_err("%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (st.st_size == 0) {
		close(fd);
		pml_err("%s: empty file, not a pml model", path);
		return -ENOEXEC;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	r = -errno;
	close(fd);
	if (map == MAP_FAILED) {
		pml_err("%s: mmap: %s", path, strerror(-r));
		return r;
	}
	r = pml_model_file_parse(map, st.st_size, path, kernel_release, flags, &mf);
	if (r < 0) {
		munmap(map, st.st_size);
		return r;
	}
	mf->map = map;
	mf->map_size = st.st_size;
	*ret = mf;
	return 0;
}

void pml_model_file_free(struct pml_model_file *mf)
{
	if (!mf)
		return;
	if (mf->map)
		munmap(mf->map, mf->map_size);
	free(mf->vocab);
	free(mf);
}

int pml_lstm_save(const struct pml_lstm *m, const char *path,
		  const struct pml_model_meta *meta)
{
	const struct pml_lstm_config *c = &m->cfg;
	struct pml_model_desc d = {
		.kind = PML_MODEL_LSTM,
		.params = {c->vocab, c->embed, c->hidden, c->layers, c->modules},
		.meta = *meta,
		.n_vocab = c->vocab,
		.n_modules = c->modules,
		.weights = m->params_mem,
		.n_weights = m->nparams,
	};

	return pml_model_file_write(path, &d);
}

int pml_lstm_save_checkpoint(const struct pml_lstm *m, const char *path,
			     const struct pml_model_meta *meta)
{
	const struct pml_lstm_config *c = &m->cfg;
	struct pml_model_desc d = {
		.kind = PML_MODEL_LSTM,
		.params = {c->vocab, c->embed, c->hidden, c->layers, c->modules,
			   PML_LSTM_FILE_ADAM, (uint32_t)m->adam_t},
		.meta = *meta,
		.n_vocab = c->vocab,
		.n_modules = c->modules,
		.n_weights = 3 * m->nparams,
	};
	float *all;
	int r;

	if (m->params_borrowed || m->adam_t < 0)
		return -EINVAL;
	all = malloc(3 * m->nparams * sizeof(float));
	if (!all)
		return -ENOMEM;
	memcpy(all, m->params_mem, m->nparams * sizeof(float));
	/* before the first update there are no moments yet: zeros are what Adam starts from */
	if (m->m_mem) {
		memcpy(all + m->nparams, m->m_mem, m->nparams * sizeof(float));
		memcpy(all + 2 * m->nparams, m->v_mem, m->nparams * sizeof(float));
	} else {
		memset(all + m->nparams, 0, 2 * m->nparams * sizeof(float));
	}
	d.weights = all;
	r = pml_model_file_write(path, &d);
	free(all);
	return r;
}

int pml_lstm_resume(const struct pml_model_file *mf, struct pml_lstm **ret)
{
	struct pml_lstm *m, *b;
	int r;

	r = pml_lstm_from_file(mf, &b);
	if (r < 0)
		return r;
	m = pml_lstm_new(&b->cfg);
	if (!m) {
		pml_lstm_free(b);
		return -ENOMEM;
	}
	memcpy(m->params_mem, mf->weights, m->nparams * sizeof(float));
	if (mf->params[5] & PML_LSTM_FILE_ADAM) {
		m->m_mem = malloc(m->nparams * sizeof(float));
		m->v_mem = malloc(m->nparams * sizeof(float));
		if (!m->m_mem || !m->v_mem) {
			pml_lstm_free(m);
			pml_lstm_free(b);
			return -ENOMEM;
		}
		memcpy(m->m_mem, mf->weights + m->nparams, m->nparams * sizeof(float));
		memcpy(m->v_mem, mf->weights + 2 * m->nparams, m->nparams * sizeof(float));
		m->adam_t = (int)(mf->params[6] > INT32_MAX ? INT32_MAX : mf->params[6]);
	}
	pml_lstm_free(b);
	*ret = m;
	return 0;
}

int pml_lstm_from_file(const struct pml_model_file *mf, struct pml_lstm **ret)
{
	struct pml_lstm_config cfg;
	struct pml_lstm *m;

	if (mf->kind != PML_MODEL_LSTM)
		return -EINVAL;
	cfg = (struct pml_lstm_config){.vocab = mf->params[0], .embed = mf->params[1],
				       .hidden = mf->params[2], .layers = mf->params[3],
				       .modules = mf->params[4]};
	m = pml_lstm_new_borrowed(&cfg, mf->weights);
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}
