/* The model file: a round trip through write -> mmap -> borrowed LSTM, and one test per
 * refusal (foreign, newer, truncated, damaged, forged, other kernel series), each checked
 * for its errno and for a message that says what is wrong. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model-file.h"
#include "util/log.h"
#include "unit.h"

static char logbuf[4096];

static void capture(void *data, enum pml_log_level level, const char *fmt, va_list args)
{
	size_t n = strlen(logbuf);

	n += snprintf(logbuf + n, sizeof(logbuf) - n, "%s",
		      level == PML_LOG_WARNING ? "warning: " : "");
	if (n < sizeof(logbuf))
		n += vsnprintf(logbuf + n, sizeof(logbuf) - n, fmt, args);
	if (n + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
}

static char dir[] = "/tmp/pml-test-model-XXXXXX";
static char path[256];

static const char *vocab[] = {"<oov>", "exec:ip", "socket:inet:stream:sctp", "open:/dev/net/tun",
			      "mount:vfat"};
static const char *modules[] = {"sctp", "tun", "vfat"};

static unsigned char *slurp(const char *p, size_t *size)
{
	FILE *f = fopen(p, "rb");
	unsigned char *buf;
	long n;

	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? n : 1);
	CHECK(fread(buf, 1, n, f) == (size_t)n);
	fclose(f);
	*size = n;
	return buf;
}

static void spit(const char *p, const void *buf, size_t size)
{
	FILE *f = fopen(p, "wb");

	CHECK(fwrite(buf, 1, size, f) == size);
	fclose(f);
}

/* Open path expecting err; the log must mention needle. */
static void expect(const char *release, unsigned flags, int err, const char *needle)
{
	struct pml_model_file *mf = NULL;
	int r;

	logbuf[0] = 0;
	r = pml_model_file_open(path, release, flags, &mf);
	if (r != err)
		fprintf(stderr, "open -> %d, expected %d; log: %s\n", r, err, logbuf);
	CHECK(r == err);
	if (needle && !strstr(logbuf, needle))
		fprintf(stderr, "log lacks \"%s\": %s\n", needle, logbuf);
	CHECK(!needle || strstr(logbuf, needle));
	pml_model_file_free(r == 0 ? mf : NULL);
}

static void test_roundtrip(struct pml_lstm *m)
{
	struct pml_model_file *mf = NULL;
	struct pml_lstm *b = NULL;
	int32_t tok[6] = {1, 2, 3, 4, 0, 9};
	const struct pml_model_meta meta = {.kernel_release = "6.1.0-56-amd64", .vocab = vocab,
					    .modules = modules, .horizon_events = 32,
					    .horizon_ms = 2000};

	CHECK(pml_lstm_save(m, path, &meta) == 0);
	logbuf[0] = 0;
	CHECK(pml_model_file_open(path, "6.1.0-56-amd64", 0, &mf) == 0);
	CHECK(logbuf[0] == 0);
	if (!mf)
		return;
	CHECK(mf->kind == PML_MODEL_LSTM);
	CHECK_STR(mf->kernel_series, "6.1");
	CHECK_STR(mf->kernel_release, "6.1.0-56-amd64");
	CHECK(mf->n_vocab == 5 && mf->n_modules == 3);
	CHECK(mf->horizon_events == 32 && mf->horizon_ms == 2000);
	CHECK_STR(mf->vocab[2], "socket:inet:stream:sctp");
	CHECK_STR(mf->modules[2], "vfat");
	CHECK(mf->n_weights == m->nparams);
	CHECK(((uintptr_t)mf->weights & 63) == 0);
	CHECK(!memcmp(mf->weights, m->params_mem, m->nparams * sizeof(float)));
	CHECK(pml_lstm_from_file(mf, &b) == 0);
	if (b) {
		CHECK(pml_lstm_forward(m, tok, NULL, NULL, 1, 6, NULL) == 0);
		CHECK(pml_lstm_forward(b, tok, NULL, NULL, 1, 6, NULL) == 0);
		CHECK(!memcmp(m->probs, b->probs, 6 * 3 * sizeof(float)));
	}
	pml_lstm_free(b);
	pml_model_file_free(mf);
	/* no kernel to check against: accepted silently */
	expect(NULL, 0, 0, NULL);
}

static void test_kernel_checks(void)
{
	expect("6.1.0-47-amd64", 0, 0, "warning: ");
	CHECK(strstr(logbuf, "same series") != NULL);
	expect("6.6.0-1-amd64", 0, -EXDEV, "series 6.1");
	expect("6.6.0-1-amd64", PML_MODEL_ANY_KERNEL, 0, "warning: ");
	expect("6.10.3", 0, -EXDEV, "retrain");
	expect("garbage", 0, -EINVAL, "series");
}

static void test_refusals(void)
{
	size_t size, fsize;
	unsigned char *good = slurp(path, &size), *bad = malloc(size + 16);
	uint32_t v, crc;

	/* foreign file */
	memcpy(bad, good, size);
	memcpy(bad, "ELF\177abcd", 8);
	spit(path, bad, size);
	expect(NULL, 0, -ENOEXEC, "not a pml model");
	spit(path, "hello", 5);
	expect(NULL, 0, -ENOEXEC, "bad magic");
	spit(path, "", 0);
	expect(NULL, 0, -ENOEXEC, "empty");

	/* newer version (outside the checksummed range: refused before the checksum) */
	memcpy(bad, good, size);
	v = PML_MODEL_VERSION + 1;
	memcpy(bad + 8, &v, 4);
	spit(path, bad, size);
	expect(NULL, 0, -EPROTONOSUPPORT, "newer than this pml");

	/* truncated: inside the magic, inside the header, inside the weights */
	spit(path, good, 5);
	expect(NULL, 0, -ENODATA, "truncated");
	spit(path, good, 100);
	expect(NULL, 0, -ENODATA, "truncated");
	spit(path, good, size - 7);
	expect(NULL, 0, -ENODATA, "truncated");

	/* damaged: a flipped weight byte, then bytes appended */
	memcpy(bad, good, size);
	bad[size - 3] ^= 0x40;
	spit(path, bad, size);
	expect(NULL, 0, -EBADMSG, "checksum mismatch");
	memcpy(bad, good, size);
	memset(bad + size, 0, 16);
	spit(path, bad, size + 16);
	expect(NULL, 0, -EBADMSG, "past its end");

	/* forged: a header that lies (module count) under a recomputed checksum */
	memcpy(bad, good, size);
	v = 4;
	memcpy(bad + 164, &v, 4);
	crc = pml_crc32(0, bad + 16, size - 16);
	memcpy(bad + 12, &crc, 4);
	spit(path, bad, size);
	expect(NULL, 0, -EBADMSG, "damaged");
	/* forged: a weights offset past the end */
	memcpy(bad, good, size);
	memcpy(&fsize, bad + 16, 8);
	fsize = size + 64;
	memcpy(bad + 184, &fsize, 8);
	crc = pml_crc32(0, bad + 16, size - 16);
	memcpy(bad + 12, &crc, 4);
	spit(path, bad, size);
	expect(NULL, 0, -EBADMSG, "inconsistent header");

	/* missing file */
	unlink(path);
	expect(NULL, 0, -ENOENT, "No such file");
	spit(path, good, size);
	expect("6.1.0-56-amd64", 0, 0, NULL);
	free(good);
	free(bad);
}

static void test_helpers(void)
{
	char s[32];

	CHECK(pml_crc32(0, "123456789", 9) == 0xcbf43926u);
	CHECK(pml_kernel_series("6.1.0-56-amd64", s, sizeof(s)) == 0);
	CHECK_STR(s, "6.1");
	CHECK(pml_kernel_series("5.10.0-30-amd64", s, sizeof(s)) == 0);
	CHECK_STR(s, "5.10");
	CHECK(pml_kernel_series("6", s, sizeof(s)) == -EINVAL);
	CHECK(pml_kernel_series(NULL, s, sizeof(s)) == -EINVAL);
}

/* Roles (version 3): written and read back; a model without them has none; a role byte
 * out of range, roles of the wrong size or in a version-2 header are refused. */
static void test_roles(struct pml_lstm *m)
{
	const uint8_t roles[] = {PML_MODEL_ROLE_TARGET, PML_MODEL_ROLE_DEP, PML_MODEL_ROLE_TARGET};
	const uint8_t bad_role[] = {PML_MODEL_ROLE_TARGET, 7, PML_MODEL_ROLE_TARGET};
	struct pml_model_meta meta = {.kernel_release = "6.1.0-56-amd64", .vocab = vocab,
				      .modules = modules, .roles = roles};
	struct pml_model_file *mf = NULL;
	unsigned char *buf;
	size_t size, at;
	uint32_t v, crc;

	CHECK(pml_lstm_save(m, path, &meta) == 0);
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == 0);
	CHECK(mf && mf->version == 3 && mf->roles && !memcmp(mf->roles, roles, 3));
	pml_model_file_free(mf);
	meta.roles = bad_role;
	CHECK(pml_lstm_save(m, path, &meta) == -EINVAL);
	meta.roles = NULL;
	CHECK(pml_lstm_save(m, path, &meta) == 0);
	mf = NULL;
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == 0);
	CHECK(mf && !mf->roles);
	pml_model_file_free(mf);

	/* forged under a recomputed checksum: a role of 7; 2 roles for 3 modules; roles
	 * in a version-2 header */
	meta.roles = roles;
	CHECK(pml_lstm_save(m, path, &meta) == 0);
	buf = slurp(path, &size);
	for (at = 256; at + 9 < size && memcmp(buf + at, "tun\0vfat", 9); at++)
		;
	at += 9; /* the roles follow the last module name */
	CHECK(!memcmp(buf + at, roles, 3));
	for (int k = 0; k < 3; k++) {
		unsigned char *b = malloc(size);

		memcpy(b, buf, size);
		if (k == 0)
			b[at + 1] = 7;
		v = k == 1 ? 2 : 3;
		if (k == 1)
			memcpy(b + 232, &v, 4);
		if (k == 2) {
			v = 2;
			memcpy(b + 8, &v, 4);
		}
		crc = pml_crc32(0, b + 16, size - 16);
		memcpy(b + 12, &crc, 4);
		spit(path, b, size);
		expect(NULL, 0, -EBADMSG, k == 0 ? "role is 7" : "damaged");
		free(b);
	}
	free(buf);
}

/* A version-1 file written when the format was made: it must keep loading (format drift
 * would break every model already shipped). */
static void test_committed_fixture(void)
{
	const char *fix = getenv("PML_TEST_FIXTURES");
	char p[4096];
	struct pml_model_file *mf = NULL;
	struct pml_lstm *m = NULL;
	float probs[2];

	snprintf(p, sizeof(p), "%s/model/tiny-lstm.pml", fix ? fix : "tests/fixtures");
	CHECK(pml_model_file_open(p, "6.1.0-56-amd64", 0, &mf) == 0);
	if (!mf)
		return;
	CHECK(mf->version == 1 && mf->kind == PML_MODEL_LSTM);
	CHECK(mf->params[0] == 4 && mf->params[2] == 4 && mf->params[4] == 2);
	CHECK_STR(mf->vocab[2], "socket:inet:stream:sctp");
	CHECK_STR(mf->modules[1], "tun");
	CHECK(pml_lstm_from_file(mf, &m) == 0);
	if (m) {
		struct pml_lstm_stream *s = pml_lstm_stream_new(m, true);

		pml_lstm_stream_step(s, 2, probs);
		CHECK(probs[0] > 0.0f && probs[0] < 1.0f);
		pml_lstm_stream_free(s);
	}
	pml_lstm_free(m);
	pml_model_file_free(mf);
}

/* Three steps, checkpoint, three more == three steps, checkpoint, resume, three more. */
static void ckpt_steps(struct pml_lstm *m, int from, int to)
{
	int32_t tok[2 * 4];
	float y[2 * 4 * 3];

	for (int step = from; step < to; step++) {
		for (int i = 0; i < 8; i++)
			tok[i] = (step * 3 + i) % 5;
		for (int i = 0; i < 24; i++)
			y[i] = (step + i) % 4 == 0;
		CHECK(pml_lstm_forward(m, tok, y, NULL, 2, 4, NULL) == 0);
		pml_lstm_zero_grad(m);
		CHECK(pml_lstm_backward(m) == 0);
		pml_lstm_clip_grad(m, 1.0);
		CHECK(pml_lstm_adam_update(m, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f) == 0);
	}
}

static void test_checkpoint(void)
{
	const struct pml_lstm_config cfg = {.vocab = 5, .embed = 4, .hidden = 6, .layers = 2,
					    .modules = 3};
	const struct pml_model_meta meta = {.kernel_release = "6.1.0-56-amd64", .vocab = vocab,
					    .modules = modules};
	struct pml_lstm *a = pml_lstm_new(&cfg), *b = NULL, *inf = NULL;
	struct pml_model_file *mf = NULL;

	pml_lstm_init_params(a, 21);
	ckpt_steps(a, 0, 3);
	CHECK(pml_lstm_save_checkpoint(a, path, &meta) == 0);
	ckpt_steps(a, 3, 6);
	CHECK(pml_model_file_open(path, "6.1.0-56-amd64", 0, &mf) == 0);
	if (!mf)
		goto out;
	CHECK(mf->params[5] == PML_LSTM_FILE_ADAM && mf->params[6] == 3);
	CHECK(pml_lstm_resume(mf, &b) == 0);
	/* a checkpoint is a model file too: it predicts */
	CHECK(pml_lstm_from_file(mf, &inf) == 0);
	if (b) {
		CHECK(b->adam_t == 3);
		ckpt_steps(b, 3, 6);
		CHECK(b->adam_t == 6);
		CHECK(!memcmp(a->params_mem, b->params_mem, a->nparams * sizeof(float)));
	}
out:
	pml_lstm_free(inf);
	pml_lstm_free(b);
	pml_model_file_free(mf);
	pml_lstm_free(a);
}

static void test_bad_writes(struct pml_lstm *m)
{
	char long_release[80];

	memset(long_release, '6', sizeof(long_release) - 1);
	long_release[sizeof(long_release) - 1] = 0;
	struct pml_model_meta meta = {.kernel_release = "not-a-release", .vocab = vocab,
				      .modules = modules};

	CHECK(pml_lstm_save(m, path, &meta) == -EINVAL);
	meta.kernel_release = long_release;
	CHECK(pml_lstm_save(m, path, &meta) == -EINVAL);
	meta.kernel_release = "6.1.0-56-amd64";
	meta.vocab = NULL;
	CHECK(pml_lstm_save(m, path, &meta) == -EINVAL);
}

int main(void)
{
	const struct pml_lstm_config cfg = {.vocab = 5, .embed = 4, .hidden = 6, .layers = 2,
					    .modules = 3};
	struct pml_lstm *m = pml_lstm_new(&cfg);

	pml_set_log_fn(capture, NULL);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/model.pml", dir);
	pml_lstm_init_params(m, 11);
	test_helpers();
	test_roundtrip(m);
	test_kernel_checks();
	test_refusals();
	test_bad_writes(m);
	test_committed_fixture();
	test_roles(m);
	test_checkpoint();
	pml_lstm_free(m);
	unlink(path);
	rmdir(dir);
	return unit_done("model-file");
}
