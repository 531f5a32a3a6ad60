/* The numbers pml takes, from a command line or a settings file: one grammar, one range
 * check, one error sentence. Every numeric option of every command, and every number of
 * a file that holds settings (the policy file, a model file's stored threshold), is
 * described by a struct pml_num_spec (their table is util/option-table.h) and parsed
 * with pml_num_parse(), so the same text gets the same answer everywhere.
 *
 * The grammar (whole string; no leading or trailing space, no sign, no hexadecimal, no
 * infinity or NaN):
 *   size      DIGITS[.DIGITS][UNIT]  UNIT: K M G T, or KiB MiB GiB TiB, optional B
 *             (case-insensitive). Binary always: K = KiB = 1024, M = MiB = 1024^2, ...
 *             A bare number is in the spec's unit (bytes unless said, e.g. MiB).
 *   duration  DIGITS[.DIGITS][UNIT]  UNIT: ms, s, m (or min), h. A bare number is in the
 *             spec's unit (s or ms), unless the spec wants the unit written.
 *   prob      a number in [0, 1] (the spec narrows it): 0.5, .25, 1, 1e-3
 *   int       DIGITS
 *   real      DIGITS[.DIGITS][e[+-]DIGITS]
 * The result is a finite double in the spec's unit (bytes; the duration's s or ms), inside
 * [lo, hi] (lo left out with PML_NUM_OPEN_LO), whole where the spec says so. */
#ifndef PML_UTIL_PARSE_H
#define PML_UTIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum pml_num_kind {
	PML_NUM_SIZE,
	PML_NUM_DURATION,
	PML_NUM_PROB,
	PML_NUM_INT,
	PML_NUM_REAL,
};

enum pml_num_flags {
	PML_NUM_OPEN_LO = 1 << 0,    /* lo itself is out of range */
	PML_NUM_WHOLE = 1 << 1,	     /* the result must be whole in its unit (durations) */
	PML_NUM_UNIT_NEEDED = 1 << 2, /* durations: a bare number is refused */
};

struct pml_num_spec {
	const char *name; /* the option without "--", or the file's key: "budget-mem" */
	enum pml_num_kind kind;
	double lo, hi;	  /* the range in the result's unit */
	unsigned flags;	  /* enum pml_num_flags */
	/* durations: "s" or "ms", the result's unit and a bare number's; sizes: "MiB" when
	 * a bare number is MiB (the result is still bytes), NULL for bytes; ints and reals:
	 * a word shown after the range ("MiB", "per s"), or NULL. */
	const char *unit;
	const char *users; /* who takes it, for the table test and docs: "pmld, run, eval" */
};

/* The help lines commands print under their options. */
#define PML_NUM_SIZE_HELP                                                                \
	"Sizes: a number of bytes, or with K, M, G, T (the same as KiB, MiB, GiB, TiB:\n" \
	"powers of 1024), e.g. 512K, 64M, 64MiB, 1.5G.\n"
#define PML_NUM_DURATION_HELP                                                          \
	"Durations: a number in the option's unit, or with ms, s, m, h (e.g. 500ms, 5s,\n" \
	"2m, 1h).\n"

/* Parse s by spec. 0 and *ret, or -EINVAL when s is not of the spec's kind, -ERANGE when
 * it is but outside the range; then why (when not NULL) holds the sentence
 *   "--budget-mem ' 2M': not a size (e.g. 512K, 64MiB, 1G)"
 *   "--memory '16': out of range: want a size in [256M, 64G]"
 * with "--NAME" replaced by label when label is not NULL ("policy.conf:3: idle-unload").
 * *ret is written only on success. */
int pml_num_parse(const struct pml_num_spec *spec, const char *label, const char *s,
		  double *ret, char *why, size_t size);
/* The same into an int64_t (sizes in bytes, truncated; others rounded when whole). */
int pml_num_parse_i64(const struct pml_num_spec *spec, const char *label, const char *s,
		      int64_t *ret, char *why, size_t size);
/* A number that arrived as a number (a model file's field): 0 when finite and in spec's
 * range, else -ERANGE and why ("model.pmlm: threshold 7: out of range: want a
 * probability in (0, 1]"; NaN and infinity are out of every range). */
int pml_num_check(const struct pml_num_spec *spec, const char *label, double v, char *why,
		  size_t size);
/* The range as the sentences above say it: "a size in [0, 1T]". */
void pml_num_describe(const struct pml_num_spec *spec, char *buf, size_t size);

/* The grammar alone, for callers with no spec (kept from before the specs): a size in
 * bytes up to 9e18, and a finite non-negative real. 0 or -EINVAL; *ret written only on
 * success. */
int pml_parse_size(const char *s, int64_t *ret);
int pml_parse_double(const char *s, double *ret);

#endif
