/* Which shard a run belongs to (shard.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/shard.h"

/* A decimal number from 1 to max, all of [s, end). */
static int parse_count(const char *s, const char *end, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (s == end || *s == '0')
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*ret = (uint32_t)v;
	return 0;
}

int pml_shard_parse(const char *s, struct pml_shard *ret)
{
	const char *slash = strchr(s, '/');
	struct pml_shard sh;

	if (!slash || parse_count(s, slash, PML_SHARD_MAX, &sh.index) < 0 ||
	    parse_count(slash + 1, slash + 1 + strlen(slash + 1), PML_SHARD_MAX,
			&sh.count) < 0 ||
	    sh.index > sh.count)
		return -EINVAL;
	*ret = sh;
	return 0;
}

const char *pml_shard_name(const struct pml_shard *s, char *buf, size_t size)
{
	snprintf(buf, size, "%u/%u", s->index, s->count);
	return buf;
}

/* FNV-1a, then a finaliser so that ids differing in their last digit spread. */
static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Lamping and Veach's jump consistent hash: a bucket in [0, n). The double arithmetic
 * is exact enough to be the same on every IEEE 754 host (their paper's reference). */
static uint32_t jump_hash(uint64_t key, uint32_t n)
{
	int64_t b = -1, j = 0;

	while (j < (int64_t)n) {
		b = j;
		key = key * 2862933555777941757ull + 1;
		j = (int64_t)((double)(b + 1) *
			      ((double)(1ll << 31) / (double)((key >> 33) + 1)));
	}
	return (uint32_t)b;
}

uint32_t pml_shard_of(const char *run_id, uint32_t count)
{
	return count <= 1 ? 1 : jump_hash(id_hash(run_id), count) + 1;
}

bool pml_shard_has(const struct pml_shard *s, const char *run_id)
{
	return pml_shard_of(run_id, s->count) == s->index;
}
