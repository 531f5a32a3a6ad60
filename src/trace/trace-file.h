/* The trace file: what `pml trace record` writes and `pml trace dump`, the dataset builder
 * and replay read.
 *
 * Layout (all integers little-endian):
 *   file header, 416 bytes:
 *     0 "PMLTRACE"  8 u32 version  12 u32 header size  16 u32 event version
 *     20 u32 clock id (CLOCK_MONOTONIC)  24 u64 start ns on that clock
 *     32 u64 start wall-clock ns  40 u32 flags  44 u32 root pid
 *     48 char kernel release[64]  112 char boot id[40]  152 char command[256]
 *     408 u32 reserved  412 u32 CRC32 of bytes 0..411
 *   blocks, each a 28-byte header then stored_len bytes of payload:
 *     0 "PMLB"  4 u8 type (1 events, 2 end)  5 u8 codec (0 stored, 1 zlib)  6 u16 0
 *     8 u32 sequence number  12 u32 records  16 u32 raw length  20 u32 stored length
 *     24 u32 CRC32 of header bytes 0..23 and the stored payload
 *   An events block holds whole records (trace-event.h) back to back, raw_len bytes once
 *   inflated. The last block is an end block (32 bytes: u64 end ns, events, dropped,
 *   blocks); a file without one was cut short (the recorder died or the disk filled).
 *
 * Blocks are written whole with write(2) and the writer flushes at least every
 * PML_TRACE_BLOCK_RAW bytes or when asked, so a crash loses at most the open block (and,
 * with PML_TRACE_W_BACKGROUND, the blocks still queued). The
 * reader streams block by block and stops at the first damage with a message that names
 * the block and byte offset; every record of every intact block before it has been
 * returned by then. */
#ifndef PML_TRACE_TRACE_FILE_H
#define PML_TRACE_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace-event.h"

#define PML_TRACE_MAGIC "PMLTRACE"
#define PML_TRACE_VERSION 1
#define PML_TRACE_HEADER_SIZE 416
#define PML_TRACE_BLOCK_HEADER_SIZE 28
#define PML_TRACE_BLOCK_RAW (64 * 1024) /* writer's block size before compression */
#define PML_TRACE_BLOCK_MAX (4 * 1024 * 1024) /* reader refuses larger blocks */

enum pml_trace_flags {
	PML_TRACE_F_ALL = 1 << 0, /* the whole machine was traced, not one process tree */
};

struct pml_trace_header {
	uint32_t version;	/* file format version (reader fills it; writer ignores) */
	uint32_t event_version; /* PML_TRACE_EVENT_VERSION of the records */
	uint32_t clock_id;	/* CLOCK_MONOTONIC: the clock of every t_ns */
	uint32_t flags;		/* enum pml_trace_flags */
	uint32_t root_pid;	/* the traced tree's root, 0 with PML_TRACE_F_ALL */
	uint64_t start_ns;	/* clock_id time at start */
	uint64_t start_realtime_ns;
	char kernel_release[64];
	char boot_id[40];
	char command[256];	/* the traced command line, space-joined, truncated */
};

/* Summary in the end block. */
struct pml_trace_end {
	uint64_t end_ns;
	uint64_t events;
	uint64_t dropped; /* records the kernel side could not queue (ring buffer full) */
	uint64_t blocks;  /* event blocks before the end block */
};

/* Fill hdr for a recording starting now on this machine: release from uname, boot id
 * from /proc/sys/kernel/random/boot_id (empty when unreadable), the clocks, the event
 * version. flags, root_pid and command are left zero for the caller. */
void pml_trace_header_init(struct pml_trace_header *hdr);

/* Writer. */
struct pml_trace_writer;

enum pml_trace_writer_flags {
	PML_TRACE_W_STORED = 1 << 0, /* do not compress blocks */
	PML_TRACE_W_BACKGROUND = 1 << 1, /* compress and write full blocks in a thread of idle
					  * priority (SCHED_IDLE), so a recorder sharing one
					  * CPU with the traced program does not slow it; at
					  * most 32 MB wait, beyond that the caller writes */
};

/* A change made to each record just before its block is written (in file order, in the
 * writer's thread in background mode): the tracer resolves samples there. rec is the
 * record in the block, size its size; it is normalised again afterwards. */
typedef void (*pml_trace_record_fn)(void *data, struct pml_tev_hdr *rec, size_t size);

/* Create (truncate) path and write the header. Returns 0 or -errno of open/write. */
int pml_trace_writer_open(const char *path, const struct pml_trace_header *hdr,
			  unsigned flags, struct pml_trace_writer **ret);
/* The same on an open descriptor, which the writer then owns (closes). */
int pml_trace_writer_new_fd(int fd, const struct pml_trace_header *hdr, unsigned flags,
			    struct pml_trace_writer **ret);
/* Set the transform (before the first record). */
void pml_trace_writer_set_transform(struct pml_trace_writer *w, pml_trace_record_fn fn,
				    void *data);
/* Append one raw record (copied, then normalised). Returns 0, -EBADMSG when the record
 * fails pml_tev_check(), or -errno of a block write. */
int pml_trace_writer_add(struct pml_trace_writer *w, const void *raw, size_t size);
/* Write the open block now (no-op when empty; in background mode: queue it). Returns 0
 * or -errno (in background mode, of an earlier block). */
int pml_trace_writer_flush(struct pml_trace_writer *w);
/* Records added so far. */
uint64_t pml_trace_writer_events(const struct pml_trace_writer *w);
/* Flush, write the end block (end->events and ->blocks are filled by the writer; end may
 * be NULL), fsync, close and free. Returns 0 or the first -errno met by the writer. */
int pml_trace_writer_close(struct pml_trace_writer *w, const struct pml_trace_end *end);
/* Close and free without an end block (tests of torn files; error paths). */
void pml_trace_writer_abort(struct pml_trace_writer *w);

/* Reader. */
struct pml_trace_reader;

/* Open path and read its header. Returns 0; -errno of fopen; -EINVAL when it is not a pml
 * trace (wrong magic); -EPROTONOSUPPORT for a format version newer than this reader (a
 * newer EVENT version is read: its new kinds come out as records of unknown kind);
 * -EBADMSG for a damaged header; -ENODATA when the file ends inside the header.
 * On failure other than fopen's, *ret still receives a reader whose
 * pml_trace_reader_error() says why (free it); on fopen failure *ret is NULL. */
int pml_trace_reader_open(const char *path, struct pml_trace_reader **ret);
/* The same on a stream the reader then owns (fclose at free); name is used in messages. */
int pml_trace_reader_new(FILE *f, const char *name, struct pml_trace_reader **ret);
void pml_trace_reader_free(struct pml_trace_reader *r);

const struct pml_trace_header *pml_trace_reader_header(const struct pml_trace_reader *r);

/* The next record: *ret points to a validated record (pml_tev_check passed, 8-byte
 * aligned, ->size bytes) valid until the next call. Returns 1 with a record, 0 at the
 * end block, or a negative errno at damage: -ENODATA when the file ends inside a block
 * or without an end block, -EBADMSG for a checksum mismatch or a malformed block,
 * -ENOMEM. After an error every later call returns the same error. */
int pml_trace_reader_next(struct pml_trace_reader *r, const struct pml_tev_hdr **ret);

/* Why the last call failed, in words naming the file, block and byte offset; "" if none. */
const char *pml_trace_reader_error(const struct pml_trace_reader *r);

struct pml_trace_reader_stats {
	uint64_t blocks;	/* intact event blocks read */
	uint64_t events;	/* records returned */
	uint64_t good_bytes;	/* file offset up to which everything was intact */
	bool complete;		/* the end block was read */
	struct pml_trace_end end; /* valid when complete */
};
void pml_trace_reader_stats(const struct pml_trace_reader *r,
			    struct pml_trace_reader_stats *ret);

#endif
