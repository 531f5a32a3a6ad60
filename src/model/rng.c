/* The seeded generator of the model code (lstm.h's pml_rng_*): xorshift64* seeded by
 * splitmix64, uniform and normal floats. The only randomness of training (the initial
 * weights, train.c's shuffles and dropouts), so a seed names one model. */
#include <math.h>
#include <stdint.h>

#include "model/lstm.h"

void pml_rng_seed(struct pml_rng *r, uint64_t seed)
{
	/* splitmix64 of the seed, so nearby seeds give unrelated streams and 0 is allowed */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	r->s = z ? z : 0x2545f4914f6cdd1dull;
}

uint64_t pml_rng_next(struct pml_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

float pml_rng_uniform(struct pml_rng *r)
{
	return (float)(pml_rng_next(r) >> 40) / 16777216.0f;
}

float pml_rng_normal(struct pml_rng *r)
{
	float u1 = pml_rng_uniform(r), u2 = pml_rng_uniform(r);

	if (u1 < 1e-7f)
		u1 = 1e-7f;
	return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864f * u2);
}
