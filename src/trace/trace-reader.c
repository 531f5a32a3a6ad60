/* The trace file reader (format in trace-file.h): streams a file block by block, checks
 * each block and every record in it before handing one out, and stops at the first
 * damage with a message that names the block and the byte offset. The file is not
 * trusted (tests/fuzz/fuzz-trace-reader.c runs on this file).
 *
 * Integers are read byte by byte (get_le32), never by casting a struct, so the on-disk
 * layout is what the header comment says whatever the compiler pads. CRC32 and inflating
 * come from zlib. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "trace/trace-decode.h"
#include "trace/trace-file-priv.h"
#include "trace/trace-file.h"

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* The fuzz build (tests/fuzz) accepts any checksum, so the fuzzer reaches the block and
 * record checks behind it instead of stopping at every mutated byte. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define crc_ok(got, want) ((void)(got), (void)(want), true)
#else
#define crc_ok(got, want) ((got) == (want))
#endif

static void get_str(char *dst, size_t len, const uint8_t *src)
{
	memcpy(dst, src, len);
	dst[len - 1] = '\0';
}

struct pml_trace_reader {
	FILE *f;
	char *name;
	struct pml_trace_header hdr;
	int err;		/* sticky error, 0 while reading */
	bool complete;
	uint64_t offset;	/* file offset of the next unread byte */
	uint64_t good_bytes;
	uint64_t blocks, events;
	struct pml_trace_end end;
	/* the current block */
	uint64_t block_offset;
	uint32_t block_seq;
	uint8_t *raw;		/* inflated payload, 8-byte aligned (malloc) */
	size_t raw_cap, raw_len, pos;
	uint32_t n_records, n_seen;
	uint8_t *stored;
	size_t stored_cap;
	char msg[512];
};

static int fail(struct pml_trace_reader *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pml_trace_reader *r, int err, const char *fmt, ...)
{
	int n = snprintf(r->msg, sizeof(r->msg), "%s: ", r->name);
	va_list ap;

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(r->msg))
		vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	r->err = err;
	return err;
}

/* Read exactly n bytes; returns the count read (short only at end of file or error). */
static size_t read_n(struct pml_trace_reader *r, void *buf, size_t n)
{
	size_t got = fread(buf, 1, n, r->f);

	r->offset += got;
	return got;
}

static int read_header(struct pml_trace_reader *r)
{
	uint8_t p[PML_TRACE_HEADER_SIZE];
	struct pml_trace_header *h = &r->hdr;
	size_t got = read_n(r, p, 12);
	uint32_t size;

	if (got < 8 || memcmp(p, PML_TRACE_MAGIC, 8)) {
		if (got == 0)
			return fail(r, -ENODATA, "empty file, not a pml trace");
		return fail(r, -EINVAL,
			    "not a pml trace file (no PMLTRACE magic at the start; was it "
			    "written by `pml trace record`?)");
	}
	if (got < 12)
		return fail(r, -ENODATA, "file ends inside the header (%zu bytes)", got);
	h->version = get_le32(p + 8);
	if (h->version > PML_TRACE_VERSION)
		return fail(r, -EPROTONOSUPPORT,
			    "trace format version %" PRIu32 " is newer than this pml reads "
			    "(up to %d): use the pml that recorded it, or a newer one",
			    h->version, PML_TRACE_VERSION);
	if (h->version == 0)
		return fail(r, -EBADMSG, "header damaged: format version 0");
	got += read_n(r, p + 12, PML_TRACE_HEADER_SIZE - 12);
	if (got < PML_TRACE_HEADER_SIZE)
		return fail(r, -ENODATA, "file ends inside the header (%zu of %d bytes)", got,
			    PML_TRACE_HEADER_SIZE);
	size = get_le32(p + 12);
	if (size != PML_TRACE_HEADER_SIZE ||
	    !crc_ok(trace_crc32(0, p, 412), get_le32(p + 412)))
		return fail(r, -EBADMSG, "header damaged (checksum mismatch in bytes 0-%d)",
			    PML_TRACE_HEADER_SIZE - 1);
	h->event_version = get_le32(p + 16);
	h->clock_id = get_le32(p + 20);
	h->start_ns = get_le64(p + 24);
	h->start_realtime_ns = get_le64(p + 32);
	h->flags = get_le32(p + 40);
	h->root_pid = get_le32(p + 44);
	get_str(h->kernel_release, sizeof(h->kernel_release), p + 48);
	get_str(h->boot_id, sizeof(h->boot_id), p + 112);
	get_str(h->command, sizeof(h->command), p + 152);
	/* A newer event version only adds kinds (trace-event.h): its records of kinds this
	 * reader knows are read as usual, the others are handed out as unknown kinds (their
	 * size is checked, their payload left alone), so it is not refused. */
	if (h->event_version == 0)
		return fail(r, -EBADMSG, "header damaged: event version 0");
	r->good_bytes = r->offset;
	return 0;
}

int pml_trace_reader_new(FILE *f, const char *name, struct pml_trace_reader **ret)
{
	struct pml_trace_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		fclose(f);
		return -ENOMEM;
	}
	r->f = f;
	r->name = strdup(name ? name : "trace");
	if (!r->name) {
		pml_trace_reader_free(r);
		return -ENOMEM;
	}
	*ret = r;
	return read_header(r);
}

int pml_trace_reader_open(const char *path, struct pml_trace_reader **ret)
{
	FILE *f = fopen(path, "rbe");

	*ret = NULL;
	if (!f)
		return -errno;
	return pml_trace_reader_new(f, path, ret);
}

void pml_trace_reader_free(struct pml_trace_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->name);
	free(r->raw);
	free(r->stored);
	free(r);
}

const struct pml_trace_header *pml_trace_reader_header(const struct pml_trace_reader *r)
{
	return &r->hdr;
}

const char *pml_trace_reader_error(const struct pml_trace_reader *r)
{
	return r->err ? r->msg : "";
}

void pml_trace_reader_stats(const struct pml_trace_reader *r,
			    struct pml_trace_reader_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->blocks = r->blocks;
	ret->events = r->events;
	ret->good_bytes = r->good_bytes;
	ret->complete = r->complete;
	if (r->complete)
		ret->end = r->end;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;

	if (need <= *cap)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = need;
	return 0;
}

/* Read and check the next block into r->raw. Returns 1 for an events block, 0 for the end
 * block, or a negative errno (message set). */
static int read_block(struct pml_trace_reader *r)
{
	uint8_t h[PML_TRACE_BLOCK_HEADER_SIZE];
	uint64_t off = r->offset;
	uint64_t idx = r->blocks + 1; /* 1-based in messages */
	uint32_t seq, n_records, raw_len, stored_len, crc;
	size_t got;
	uint8_t type, codec;

	got = read_n(r, h, sizeof(h));
	if (got == 0)
		return fail(r, -ENODATA,
			    "no end block after block %" PRIu64 " at byte %" PRIu64
			    ": the recording was cut short (%" PRIu64 " events read)",
			    r->blocks, off, r->events);
	if (got < sizeof(h))
		return fail(r, -ENODATA,
			    "block %" PRIu64 " at byte %" PRIu64 ": file ends inside the block "
			    "header (torn write; %" PRIu64 " intact blocks read before it)",
			    idx, off, r->blocks);
	if (memcmp(h, BLOCK_MAGIC, 4))
		return fail(r, -EBADMSG,
			    "block %" PRIu64 " at byte %" PRIu64 ": no block magic (file damaged "
			    "after byte %" PRIu64 ")", idx, off, off);
	type = h[4];
	codec = h[5];
	seq = get_le32(h + 8);
	n_records = get_le32(h + 12);
	raw_len = get_le32(h + 16);
	stored_len = get_le32(h + 20);
	crc = get_le32(h + 24);
	if (raw_len > PML_TRACE_BLOCK_MAX || stored_len > PML_TRACE_BLOCK_MAX)
		return fail(r, -EBADMSG,
			    "block %" PRIu64 " at byte %" PRIu64 ": implausible length %" PRIu32
			    " (file damaged after byte %" PRIu64 ")", idx, off,
			    raw_len > stored_len ? raw_len : stored_len, off);
	if (grow(&r->stored, &r->stored_cap, stored_len ? stored_len : 1))
		return fail(r, -ENOMEM, "out of memory");
	got = read_n(r, r->stored, stored_len);
	if (got < stored_len)
		return fail(r, -ENODATA,
			    "block %" PRIu64 " at byte %" PRIu64 ": file ends inside the block "
			    "(%zu of %" PRIu32 " bytes; torn write, %" PRIu64
			    " intact blocks read before it)", idx, off, got, stored_len, r->blocks);
	if (!crc_ok(trace_crc32(trace_crc32(0, h, 24), r->stored, stored_len), crc))
		return fail(r, -EBADMSG,
			    "block %" PRIu64 " at byte %" PRIu64 ": checksum mismatch (file "
			    "damaged after byte %" PRIu64 ")", idx, off, off);
	/* The checksum holds: anything wrong from here on was written so (a bug or a
	 * forgery), not damaged in storage; still refuse it in words. */
	if (seq != r->blocks || (type != BLOCK_EVENTS && type != BLOCK_END) ||
	    (codec != CODEC_STORED && codec != CODEC_ZLIB) || h[6] || h[7])
		return fail(r, -EBADMSG,
			    "block %" PRIu64 " at byte %" PRIu64 ": malformed block header "
			    "(type %u, codec %u, sequence %" PRIu32 ")", idx, off, type, codec, seq);
	if (grow(&r->raw, &r->raw_cap, raw_len ? raw_len : 1))
		return fail(r, -ENOMEM, "out of memory");
	if (codec == CODEC_STORED) {
		if (stored_len != raw_len)
			return fail(r, -EBADMSG, "block %" PRIu64 " at byte %" PRIu64
				    ": stored length differs from raw length", idx, off);
		memcpy(r->raw, r->stored, raw_len);
	} else {
		uLongf dlen = raw_len;

		if (uncompress(r->raw, &dlen, r->stored, stored_len) != Z_OK || dlen != raw_len)
			return fail(r, -EBADMSG, "block %" PRIu64 " at byte %" PRIu64
				    ": payload does not inflate to %" PRIu32 " bytes", idx, off,
				    raw_len);
	}
	r->block_offset = off;
	r->block_seq = seq;
	r->raw_len = raw_len;
	r->pos = 0;
	r->n_records = n_records;
	r->n_seen = 0;
	if (type == BLOCK_END) {
		if (raw_len != END_PAYLOAD)
			return fail(r, -EBADMSG, "end block at byte %" PRIu64 ": wrong size %" PRIu32,
				    off, raw_len);
		r->end.end_ns = get_le64(r->raw);
		r->end.events = get_le64(r->raw + 8);
		r->end.dropped = get_le64(r->raw + 16);
		r->end.blocks = get_le64(r->raw + 24);
		r->complete = true;
		r->good_bytes = r->offset;
		return 0;
	}
	return 1;
}

/* Check every record of the block before handing out the first, so a block is either
 * returned whole or refused whole. */
static int check_block_records(struct pml_trace_reader *r)
{
	size_t pos = 0;
	uint32_t n = 0;

	while (pos < r->raw_len) {
		struct pml_tev_hdr h;
		size_t left = r->raw_len - pos;

		if (left < sizeof(h))
			break;
		memcpy(&h, r->raw + pos, sizeof(h));
		if (h.size > left || pml_tev_check(r->raw + pos, h.size))
			break;
		pos += h.size;
		n++;
	}
	if (pos != r->raw_len || n != r->n_records)
		return fail(r, -EBADMSG,
			    "block %" PRIu64 " at byte %" PRIu64 ": malformed record %" PRIu32
			    " at offset %zu in the block", r->blocks + 1, r->block_offset, n, pos);
	return 0;
}

int pml_trace_reader_next(struct pml_trace_reader *r, const struct pml_tev_hdr **ret)
{
	const struct pml_tev_hdr *e;
	int rc;

	if (r->err)
		return r->err;
	if (r->complete)
		return 0;
	while (r->pos >= r->raw_len) {
		rc = read_block(r);
		if (rc <= 0)
			return rc;
		rc = check_block_records(r);
		if (rc)
			return rc;
		r->blocks++;
		r->good_bytes = r->offset;
	}
	e = (const struct pml_tev_hdr *)(r->raw + r->pos);
	r->pos += e->size;
	r->n_seen++;
	r->events++;
	*ret = e;
	return 1;
}
