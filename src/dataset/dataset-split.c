/* The split and the run seeds (dataset.h): the held-out scenarios and families, chosen
 * by a hash of the collection's seed and their names, each run's split, each run's seed.
 * The hash is stable across hosts and builds, so the same seed and list of scenarios make
 * the same choice in every collection into a dataset. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"

static const char *const split_names[] = {"train", "val", "test"};

const char *pml_split_name(enum pml_split s)
{
	return (unsigned)s < 3 ? split_names[s] : "?";
}

int pml_split_parse(const char *s, enum pml_split *ret)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, split_names[i])) {
			*ret = (enum pml_split)i;
			return 0;
		}
	}
	if (!strcmp(s, "validation")) {
		*ret = PML_SPLIT_VAL;
		return 0;
	}
	return -EINVAL;
}

/* FNV-1a over the seed and strings, then a finaliser: stable across hosts and builds. */
static uint32_t hash_mix(uint32_t seed, const char *s, uint32_t k)
{
	uint64_t h = 1469598103934665603ull ^ seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h = (h ^ k) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

uint32_t pml_dataset_run_seed(const struct pml_dataset *ds, const char *scenario,
			      uint32_t index)
{
	return hash_mix(ds->seed, scenario, index + 1) & 0x7fffffff;
}

static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
	return false;
}

static void append_word(char *list, size_t size, const char *word)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len ? " " : "", word);
}

void pml_dataset_choose_heldout(struct pml_dataset *ds, const char *const *scenarios,
				size_t n)
{
	ds->heldout_test[0] = ds->heldout_val[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *slash = strchr(scenarios[i], '/');
		size_t flen = slash ? (size_t)(slash - scenarios[i]) : strlen(scenarios[i]);
		size_t members = 0, best = SIZE_MAX, second = SIZE_MAX;
		bool first = true;

		/* once per family: at its first member */
		for (size_t j = 0; j < i && first; j++)
			first = !(strncmp(scenarios[j], scenarios[i], flen) == 0 &&
				  scenarios[j][flen] == '/');
		if (!first)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (strncmp(scenarios[j], scenarios[i], flen) || scenarios[j][flen] != '/')
				continue;
			members++;
			uint32_t h = hash_mix(ds->seed, scenarios[j], 0);

			if (best == SIZE_MAX || h < hash_mix(ds->seed, scenarios[best], 0)) {
				second = best;
				best = j;
			} else if (second == SIZE_MAX ||
				   h < hash_mix(ds->seed, scenarios[second], 0)) {
				second = j;
			}
		}
		if (members >= 3)
			append_word(ds->heldout_test, sizeof(ds->heldout_test), scenarios[best]);
		if (members >= 5)
			append_word(ds->heldout_val, sizeof(ds->heldout_val), scenarios[second]);
	}
}

struct fam_pick {
	uint32_t hash;
	char name[32];
};

static int fam_pick_cmp(const void *a, const void *b)
{
	const struct fam_pick *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : strcmp(x->name, y->name);
}

void pml_dataset_choose_heldout_families(struct pml_dataset *ds,
					 const char *const *scenarios, size_t n)
{
	struct fam_pick pick[64];
	size_t np = 0;

	ds->heldout_fam_test[0] = ds->heldout_fam_val[0] = '\0';
	for (size_t i = 0; i < n && np < sizeof(pick) / sizeof(*pick); i++) {
		const char *slash = strchr(scenarios[i], '/');
		size_t flen = slash ? (size_t)(slash - scenarios[i]) : 0, members = 0;
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = !(strncmp(scenarios[j], scenarios[i], flen) == 0 &&
				  scenarios[j][flen] == '/');
		if (!first || !flen || flen >= sizeof(pick[0].name))
			continue;
		for (size_t j = 0; j < n; j++)
			members += !strncmp(scenarios[j], scenarios[i], flen) &&
				   scenarios[j][flen] == '/';
		if (members < 3 || members * 8 > n)
			continue;
		memcpy(pick[np].name, scenarios[i], flen);
		pick[np].name[flen] = '\0';
		pick[np].hash = hash_mix(ds->seed ^ 0xfa3111e5u, pick[np].name, 0);
		np++;
	}
	qsort(pick, np, sizeof(*pick), fam_pick_cmp);
	for (size_t k = 0; k < np && k < 4; k++) {
		char *list = k < 2 ? ds->heldout_fam_test : ds->heldout_fam_val;

		append_word(list, sizeof(ds->heldout_fam_test), pick[k].name);
	}
}

enum pml_held_family pml_dataset_family_heldout(const struct pml_dataset *ds,
						const char *family)
{
	if (!family[0])
		return PML_HELD_NONE;
	if (word_in(ds->heldout_fam_test, family))
		return PML_HELD_FAMILY_TEST;
	if (word_in(ds->heldout_fam_val, family))
		return PML_HELD_FAMILY_VAL;
	return PML_HELD_NONE;
}

enum pml_split pml_dataset_split_of(const struct pml_dataset *ds, const char *scenario,
				    uint32_t index, bool *ret_heldout)
{
	const char *slash = strchr(scenario, '/');
	char family[32];
	uint32_t h;

	snprintf(family, sizeof(family), "%.*s",
		 slash ? (int)(slash - scenario) : 0, scenario);
	switch (pml_dataset_family_heldout(ds, family)) {
	case PML_HELD_FAMILY_TEST:
		*ret_heldout = true;
		return PML_SPLIT_TEST;
	case PML_HELD_FAMILY_VAL:
		*ret_heldout = true;
		return PML_SPLIT_VAL;
	case PML_HELD_NONE:
		break;
	}
	if (word_in(ds->heldout_test, scenario)) {
		*ret_heldout = true;
		return PML_SPLIT_TEST;
	}
	if (word_in(ds->heldout_val, scenario)) {
		*ret_heldout = true;
		return PML_SPLIT_VAL;
	}
	*ret_heldout = false;
	h = hash_mix(ds->seed ^ 0x5a5a5a5au, scenario, index) % 100;
	return h < 15 ? PML_SPLIT_TEST : h < 25 ? PML_SPLIT_VAL : PML_SPLIT_TRAIN;
}
