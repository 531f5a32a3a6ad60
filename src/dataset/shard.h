/* Sharding a collection (issue 17): `pml collect --shard I/N` collects one of N disjoint
 * parts of the run list, so N hosts of a batch system can collect one dataset between
 * them and `pml dataset merge` joins their parts.
 *
 * A run belongs to a shard by a hash of its id alone ("netdev/vxlan-overlay#0003"), not
 * by its position in the list: the shards are disjoint and together the whole list
 * whatever the list holds, a scenario added later adds its own runs to the shards and
 * moves none of the others, and a shard resumed on another host or by a later pml
 * collects the same runs. The hash is part of the format (a changed hash would make a
 * resumed shard collect another shard's runs): its values are pinned by the unit tests.
 * It is a jump consistent hash (Lamping and Veach, 2014) of FNV-1a: from N to N+1 shards
 * only about 1/(N+1) of the runs move. */
#ifndef PML_DATASET_SHARD_H
#define PML_DATASET_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_SHARD_MAX 65536

struct pml_shard {
	uint32_t index; /* 1..count */
	uint32_t count; /* 1..PML_SHARD_MAX */
};

/* Parse "I/N" (decimal, 1 <= I <= N <= PML_SHARD_MAX, nothing else around it). 0 or
 * -EINVAL. */
int pml_shard_parse(const char *s, struct pml_shard *ret);

/* "I/N" into buf (at least 16 bytes). */
const char *pml_shard_name(const struct pml_shard *s, char *buf, size_t size);

/* The shard (1..count) the run with this id belongs to; count >= 1. */
uint32_t pml_shard_of(const char *run_id, uint32_t count);

/* Whether the run with this id belongs to shard s. */
bool pml_shard_has(const struct pml_shard *s, const char *run_id);

#endif
