/* What the trace file's writer (trace-writer.c) and reader (trace-reader.c) share: the
 * block header's constants (the layout is in trace-file.h) and the CRC32 both compute.
 * Internal to src/trace/; the public contract is trace-file.h. */
#ifndef PML_TRACE_TRACE_FILE_PRIV_H
#define PML_TRACE_TRACE_FILE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define BLOCK_MAGIC "PMLB"
#define BLOCK_EVENTS 1
#define BLOCK_END 2
#define CODEC_STORED 0
#define CODEC_ZLIB 1
#define END_PAYLOAD 32

static inline uint32_t trace_crc32(uint32_t crc, const void *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

#endif
