/* The commands' options.
 *
 * The number layer (util/parse.h, util/option-table.h): parse an option's value by its
 * table entry and, when it is refused, print the one sentence
 *   pml: run: --budget-mem ' 2M': not a size (e.g. 512K, 64MiB, 1G)
 * These two are inline so that pml and pmld (separate binaries over libpml) share them.
 *
 * One table of a command's options (git's parse-options), struct cmd_option below: its
 * getopt_long tables and its --help lines are both made from it, so an option cannot be
 * taken without being documented or documented without being taken. Its code is in
 * cmd-options.c, linked into pml and pmld; every verb of pml and pmld use it. */
#ifndef PML_CMD_CMD_OPTIONS_H
#define PML_CMD_CMD_OPTIONS_H

#include <getopt.h>
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

/* One option. A table of them ends with an entry whose name is NULL. */
struct cmd_option {
	int val;	  /* getopt_long's answer: the short letter ('s' is -s), or a value
			   * from CMD_OPT_LONG_ONLY up for an option with no short form */
	const char *name; /* the long name without "--": "socket" */
	const char *arg;  /* the argument's name in --help ("PATH"), NULL for a flag */
	const char *help; /* the --help text; a '\n' goes on under the same column */
};

enum { CMD_OPT_LONG_ONLY = 256, CMD_OPTIONS_MAX = 64 };

/* getopt_long's tables made from a struct cmd_option table. */
struct cmd_getopt {
	struct option longopts[CMD_OPTIONS_MAX + 1];
	char shortopts[3 * CMD_OPTIONS_MAX + 4];
};

/* Fill g from t (at most CMD_OPTIONS_MAX entries; the rest are left out, which the unit
 * test of the converted commands would see). mode goes first in the short options: ""
 * or "+" (stop at the first argument that is not an option). */
void cmd_getopt_init(struct cmd_getopt *g, const struct cmd_option *t, const char *mode);

/* getopt_long over g's tables: the option's val, '?' for one not in the table or missing
 * its argument (getopt_long said so, after argv[0]: the command's prefix), -1 at the end. */
static inline int cmd_getopt(struct cmd_getopt *g, int argc, char **argv)
{
	return getopt_long(argc, argv, g->shortopts, g->longopts, NULL);
}

/* Print t as --help lines, the texts in one column after the widest option:
 *   "  -s, --socket PATH  the resource API socket"
 *   "      --window S     count B after A ..."      (no short form) */
void cmd_options_help(FILE *f, const struct cmd_option *t);

#endif
