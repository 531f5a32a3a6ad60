/* Checking a run's trace against its manifest line: what `pml dataset verify` does for
 * every run, and what `pml dataset merge` does to each trace it copies. */
#ifndef PML_DATASET_VERIFY_H
#define PML_DATASET_VERIFY_H

#include <stddef.h>

#include "dataset/dataset.h"

/* Check run's trace in ds: opened below ds->dir following no link
 * (pml_dataset_trace_open()), its size and CRC32 those of the manifest line, and, for an
 * ok run, read to its end with as many needs as the line counts (a failed run's trace may
 * be cut short by the failure).
 *
 * When copy_fd >= 0 (opened for reading and writing, empty), the bytes are written to it
 * as they are checksummed and the needs are read back from it, so what was checked is
 * what was copied; copy_fd stays open, at an undefined offset.
 *
 * Returns 0; -ENOENT when the run has no trace (no "trace" entry); on damage a negative
 * errno and, in why, a phrase to follow the trace's path in a message: the open's refusals
 * and errors (-ELOOP, -EISDIR, -ENOENT for a missing file, ...: pml_beneath_strerror()'s
 * words), -EBADMSG for a size, CRC32 or count of needs not the line's, the reader's
 * -errno for an ok run's trace that cannot be read to its end; a write error of copy_fd
 * (why says so). */
int pml_dataset_check_run(const struct pml_dataset *ds, const struct pml_ds_run *run,
			  int copy_fd, char *why, size_t size);

#endif
