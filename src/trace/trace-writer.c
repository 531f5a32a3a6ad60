/* The trace file writer (format in trace-file.h): the file header, blocks compressed and
 * written whole, and in the background mode a thread of idle priority that does it.
 *
 * Integers are serialised byte by byte (put_le32), never by casting a struct, so the
 * on-disk layout is what the header comment says whatever the compiler pads. The records
 * inside blocks are the raw event structs, which trace-event.h lays out without padding
 * holes. CRC32 and compression come from zlib. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "trace/trace-decode.h"
#include "trace/trace-file-priv.h"
#include "trace/trace-file.h"

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

/* Copy a string into a fixed field, NUL-terminated, zero-filled. */
static void put_str(uint8_t *dst, size_t len, const char *s)
{
	size_t n = strnlen(s, len - 1);

	memset(dst, 0, len);
	memcpy(dst, s, n);
}

void pml_trace_header_init(struct pml_trace_header *hdr)
{
	struct utsname u;
	struct timespec ts;
	FILE *f;

	memset(hdr, 0, sizeof(*hdr));
	hdr->version = PML_TRACE_VERSION;
	hdr->event_version = PML_TRACE_EVENT_VERSION;
	hdr->clock_id = CLOCK_MONOTONIC;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	hdr->start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_REALTIME, &ts);
	hdr->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (!uname(&u))
		memcpy(hdr->kernel_release, u.release, sizeof(hdr->kernel_release) - 1);
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (fgets(hdr->boot_id, sizeof(hdr->boot_id), f))
			hdr->boot_id[strcspn(hdr->boot_id, "\n")] = '\0';
		fclose(f);
	}
}

static void header_encode(const struct pml_trace_header *h, uint8_t *p)
{
	memset(p, 0, PML_TRACE_HEADER_SIZE);
	memcpy(p, PML_TRACE_MAGIC, 8);
	put_le32(p + 8, PML_TRACE_VERSION);
	put_le32(p + 12, PML_TRACE_HEADER_SIZE);
	put_le32(p + 16, h->event_version);
	put_le32(p + 20, h->clock_id);
	put_le64(p + 24, h->start_ns);
	put_le64(p + 32, h->start_realtime_ns);
	put_le32(p + 40, h->flags);
	put_le32(p + 44, h->root_pid);
	put_str(p + 48, 64, h->kernel_release);
	put_str(p + 112, 40, h->boot_id);
	put_str(p + 152, 256, h->command);
	put_le32(p + 412, trace_crc32(0, p, 412));
}

/* Writer.
 *
 * Blocks are written in sequence order by whoever holds io_mu. In the background mode
 * (PML_TRACE_W_BACKGROUND) a full block is queued instead of written: a thread at
 * SCHED_IDLE priority applies the transform, compresses and writes the queue in order,
 * so the recording thread only copies records. On a one-CPU machine that thread runs
 * when the traced program leaves the CPU idle, or after it ends; when the queue holds
 * more than PML_TRACE_QUEUE_MAX bytes the recording thread writes the oldest blocks
 * itself, so memory stays bounded whatever the program does. */

#define PML_TRACE_QUEUE_MAX (32u << 20)

struct qblock {
	uint8_t *raw;
	size_t len;
	uint32_t n_records;
};

struct pml_trace_writer {
	int fd;
	unsigned flags;
	int err;		/* first error met; sticky (under mu when background) */
	uint32_t seq;		/* next block's sequence number (under io_mu) */
	uint32_t n_records;	/* in the open block */
	size_t used;		/* bytes in the open block */
	uint64_t events;
	uint8_t *raw;		/* the open block, PML_TRACE_BLOCK_RAW bytes */
	uint8_t *out;		/* header + compressed payload (under io_mu) */
	size_t out_size;
	pml_trace_record_fn transform;
	void *transform_data;
	/* background mode */
	bool bg;
	pthread_t thread;
	pthread_mutex_t mu;	/* the queue, err */
	pthread_mutex_t io_mu;	/* writing a block: keeps the sequence order */
	pthread_cond_t work;
	struct qblock *q;	/* ring of queued blocks */
	size_t q_cap, q_head, q_len, q_bytes;
	bool stop;
};

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *writer_thread(void *arg);

int pml_trace_writer_new_fd(int fd, const struct pml_trace_header *hdr, unsigned flags,
			    struct pml_trace_writer **ret)
{
	uint8_t head[PML_TRACE_HEADER_SIZE];
	struct pml_trace_writer *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return -ENOMEM;
	}
	w->fd = fd;
	w->flags = flags;
	w->out_size = PML_TRACE_BLOCK_HEADER_SIZE + compressBound(PML_TRACE_BLOCK_RAW);
	w->raw = malloc(PML_TRACE_BLOCK_RAW);
	w->out = malloc(w->out_size);
	if (!w->raw || !w->out) {
		pml_trace_writer_abort(w);
		return -ENOMEM;
	}
	header_encode(hdr, head);
	err = write_all(fd, head, sizeof(head));
	if (err) {
		pml_trace_writer_abort(w);
		return err;
	}
	if (flags & PML_TRACE_W_BACKGROUND) {
		w->q_cap = PML_TRACE_QUEUE_MAX / PML_TRACE_BLOCK_RAW + 2;
		w->q = calloc(w->q_cap, sizeof(*w->q));
		if (!w->q) {
			pml_trace_writer_abort(w);
			return -ENOMEM;
		}
		pthread_mutex_init(&w->mu, NULL);
		pthread_mutex_init(&w->io_mu, NULL);
		pthread_cond_init(&w->work, NULL);
		w->bg = true;
		err = -pthread_create(&w->thread, NULL, writer_thread, w);
		if (err) {
			w->bg = false;
			pml_trace_writer_abort(w);
			return err;
		}
	}
	*ret = w;
	return 0;
}

int pml_trace_writer_open(const char *path, const struct pml_trace_header *hdr,
			  unsigned flags, struct pml_trace_writer **ret)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	return pml_trace_writer_new_fd(fd, hdr, flags, ret);
}

void pml_trace_writer_set_transform(struct pml_trace_writer *w, pml_trace_record_fn fn,
				    void *data)
{
	w->transform = fn;
	w->transform_data = data;
}

/* Write one block: the caller holds io_mu in background mode. */
static int write_block(struct pml_trace_writer *w, uint8_t type, const uint8_t *payload,
		       size_t raw_len, uint32_t n_records)
{
	uint8_t *h = w->out;
	uint8_t codec = CODEC_STORED;
	size_t stored_len = raw_len;
	uint32_t crc;

	if (type == BLOCK_EVENTS && !(w->flags & PML_TRACE_W_STORED)) {
		uLongf dlen = w->out_size - PML_TRACE_BLOCK_HEADER_SIZE;

		if (compress2(h + PML_TRACE_BLOCK_HEADER_SIZE, &dlen, payload, raw_len, 1) == Z_OK &&
		    dlen < raw_len) {
			codec = CODEC_ZLIB;
			stored_len = dlen;
		}
	}
	if (codec == CODEC_STORED)
		memcpy(h + PML_TRACE_BLOCK_HEADER_SIZE, payload, raw_len);
	memcpy(h, BLOCK_MAGIC, 4);
	h[4] = type;
	h[5] = codec;
	put_le16(h + 6, 0);
	put_le32(h + 8, w->seq);
	put_le32(h + 12, n_records);
	put_le32(h + 16, (uint32_t)raw_len);
	put_le32(h + 20, (uint32_t)stored_len);
	crc = trace_crc32(0, h, 24);
	crc = trace_crc32(crc, h + PML_TRACE_BLOCK_HEADER_SIZE, stored_len);
	put_le32(h + 24, crc);
	w->seq++;
	return write_all(w->fd, h, PML_TRACE_BLOCK_HEADER_SIZE + stored_len);
}

/* Apply the transform to every record of a block, in order. */
static void transform_block(struct pml_trace_writer *w, uint8_t *raw, size_t len)
{
	size_t pos = 0;

	if (!w->transform)
		return;
	while (pos + sizeof(struct pml_tev_hdr) <= len) {
		struct pml_tev_hdr *h = (struct pml_tev_hdr *)(raw + pos);

		if (h->size < sizeof(*h) || h->size > len - pos)
			break; /* cannot happen: add() checked every record */
		w->transform(w->transform_data, h, h->size);
		pml_tev_normalize(h, h->size);
		pos += h->size;
	}
}

/* Background mode: write the oldest queued block, if any. Returns 1 when one was
 * written (whatever the outcome, which goes to w->err), 0 when the queue was empty. */
static int write_queued(struct pml_trace_writer *w)
{
	struct qblock b;
	int err;

	pthread_mutex_lock(&w->io_mu);
	pthread_mutex_lock(&w->mu);
	if (!w->q_len) {
		pthread_mutex_unlock(&w->mu);
		pthread_mutex_unlock(&w->io_mu);
		return 0;
	}
	b = w->q[w->q_head];
	w->q_head = (w->q_head + 1) % w->q_cap;
	w->q_len--;
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	if (!err) {
		transform_block(w, b.raw, b.len);
		err = write_block(w, BLOCK_EVENTS, b.raw, b.len, b.n_records);
	}
	pthread_mutex_unlock(&w->io_mu);
	free(b.raw);
	pthread_mutex_lock(&w->mu);
	w->q_bytes -= b.len;
	if (err && !w->err)
		w->err = err;
	pthread_mutex_unlock(&w->mu);
	return 1;
}

static void *writer_thread(void *arg)
{
	struct pml_trace_writer *w = arg;
	struct sched_param sp = {0};

	/* only when nothing else wants the CPU (a failure leaves the normal policy) */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->q_len && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->q_len && w->stop) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		pthread_mutex_unlock(&w->mu);
		write_queued(w);
	}
}

static int writer_err(struct pml_trace_writer *w)
{
	int err;

	if (!w->bg)
		return w->err;
	pthread_mutex_lock(&w->mu);
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err;
}

/* Background mode: queue the open block (a fresh buffer takes its place); over the
 * queue's bound, write the oldest blocks here. */
static int queue_block(struct pml_trace_writer *w)
{
	uint8_t *fresh = malloc(PML_TRACE_BLOCK_RAW);
	bool full;

	if (!fresh)
		return -ENOMEM;
	pthread_mutex_lock(&w->mu);
	while (w->q_len == w->q_cap) { /* cannot happen within the byte bound; be safe */
		pthread_mutex_unlock(&w->mu);
		write_queued(w);
		pthread_mutex_lock(&w->mu);
	}
	w->q[(w->q_head + w->q_len) % w->q_cap] =
		(struct qblock){w->raw, w->used, w->n_records};
	w->q_len++;
	w->q_bytes += w->used;
	full = w->q_bytes > PML_TRACE_QUEUE_MAX;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	w->raw = fresh;
	while (full) {
		write_queued(w);
		pthread_mutex_lock(&w->mu);
		full = w->q_bytes > PML_TRACE_QUEUE_MAX / 2;
		pthread_mutex_unlock(&w->mu);
	}
	return 0;
}

int pml_trace_writer_flush(struct pml_trace_writer *w)
{
	int err = writer_err(w);

	if (err)
		return err;
	if (!w->used)
		return 0;
	if (w->bg) {
		err = queue_block(w);
	} else {
		transform_block(w, w->raw, w->used);
		err = write_block(w, BLOCK_EVENTS, w->raw, w->used, w->n_records);
	}
	w->used = 0;
	w->n_records = 0;
	if (err && !w->bg)
		w->err = err;
	return err;
}

int pml_trace_writer_add(struct pml_trace_writer *w, const void *raw, size_t size)
{
	int err;

	if (pml_tev_check(raw, size))
		return -EBADMSG;
	if (!w->bg && w->err)
		return w->err;
	if (w->used + size > PML_TRACE_BLOCK_RAW) {
		err = pml_trace_writer_flush(w);
		if (err)
			return err;
	}
	memcpy(w->raw + w->used, raw, size);
	pml_tev_normalize(w->raw + w->used, size);
	w->used += size;
	w->n_records++;
	w->events++;
	return 0;
}

uint64_t pml_trace_writer_events(const struct pml_trace_writer *w)
{
	return w->events;
}

/* Background mode: let the thread write what is queued, and end it. */
static void stop_thread(struct pml_trace_writer *w)
{
	if (!w->bg)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->bg = false; /* from here on, one thread: the plain mode */
	while (w->q_len) { /* not reached: the thread drains before it ends */
		free(w->q[w->q_head].raw);
		w->q_head = (w->q_head + 1) % w->q_cap;
		w->q_len--;
	}
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->io_mu);
	pthread_cond_destroy(&w->work);
}

int pml_trace_writer_close(struct pml_trace_writer *w, const struct pml_trace_end *end)
{
	uint8_t p[END_PAYLOAD];
	uint64_t blocks;
	int err;

	err = pml_trace_writer_flush(w);
	stop_thread(w);
	if (!err)
		err = w->err;
	blocks = w->seq;
	put_le64(p, end ? end->end_ns : 0);
	put_le64(p + 8, w->events);
	put_le64(p + 16, end ? end->dropped : 0);
	put_le64(p + 24, blocks);
	if (!err)
		err = write_block(w, BLOCK_END, p, sizeof(p), 0);
	if (!err && fsync(w->fd) && errno != EINVAL && errno != EROFS)
		err = -errno;
	if (close(w->fd) && !err)
		err = -errno;
	w->fd = -1;
	pml_trace_writer_abort(w);
	return err;
}

void pml_trace_writer_abort(struct pml_trace_writer *w)
{
	if (!w)
		return;
	stop_thread(w);
	if (w->fd >= 0)
		close(w->fd);
	free(w->q);
	free(w->raw);
	free(w->out);
	free(w);
}
