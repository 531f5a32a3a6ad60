/* The commands' side of the number layer (util/parse.h, util/option-table.h): parse an
 * option's value by its table entry and, when it is refused, print the one sentence
 *   pml: run: --budget-mem ' 2M': not a size (e.g. 512K, 64MiB, 1G)
 * Header-only so that pml and pmld (separate binaries over libpml) share it. */
#ifndef PML_CMD_CMD_OPTIONS_H
#define PML_CMD_CMD_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "util/option-table.h"

/* who: the message prefix ("pml: run", "pmld"). 0 and *ret, or -1 (printed). */
static inline int cmd_num(const char *who, enum pml_numopt id, const char *arg, double *ret)
{
	char why[256];

	if (pml_num_parse(&pml_numopts[id], NULL, arg, ret, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", who, why);
		return -1;
	}
	return 0;
}

static inline int cmd_num_i64(const char *who, enum pml_numopt id, const char *arg,
			      int64_t *ret)
{
	char why[256];

	if (pml_num_parse_i64(&pml_numopts[id], NULL, arg, ret, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", who, why);
		return -1;
	}
	return 0;
}

#endif
