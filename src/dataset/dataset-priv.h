/* What the dataset's files share (dataset.c: the dataset in memory, its runs and their
 * traces; dataset-manifest.c: the manifest written and read back). Internal to
 * src/dataset/; the public contract is dataset.h. */
#ifndef PML_DATASET_DATASET_PRIV_H
#define PML_DATASET_DATASET_PRIV_H

#include <stddef.h>

/* s for a message: control characters as '?', at most size - 1 bytes ("..." when cut).
 * Returns buf. */
const char *ds_printable(const char *s, char *buf, size_t size);

#endif
