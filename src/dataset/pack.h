/* Packing a trace for a committed dataset: the same trace format, with only the records
 * the model and the metrics read. Every record but the plain system call (header only) is
 * kept; a plain call is kept the first time its process makes it since its last execve,
 * which is exactly what the features keep (model/features.h: "collapsing"), so a packed
 * trace gives the model the same tokens and replay the same needs and process lifetimes,
 * in about half the bytes. The header (with the trace's command and clock) is kept, and
 * the end block's drop count. */
#ifndef PML_DATASET_PACK_H
#define PML_DATASET_PACK_H

#include <stdint.h>

struct pml_pack_stats {
	uint64_t records_in, records_out;
	uint64_t plain_in, plain_out;
};

/* Write the packed copy of the trace at in to out (created or truncated; a temporary
 * file renamed into place, so out is never half-written). Returns 0; the reader's -errno
 * for a damaged input (nothing written, the reason logged); -errno of the output. */
int pml_trace_pack(const char *in, const char *out, struct pml_pack_stats *ret);

/* The same with the writer's flags (PML_TRACE_W_STORED: blocks not compressed, for an
 * archive compressed as a whole, which finds what runs have in common). */
int pml_trace_pack_flags(const char *in, const char *out, unsigned flags,
			 struct pml_pack_stats *ret);

/* The same from an open descriptor, which it takes (closes); in_name is for messages. */
int pml_trace_pack_fd(int in_fd, const char *in_name, const char *out, unsigned flags,
		      struct pml_pack_stats *ret);

#endif
