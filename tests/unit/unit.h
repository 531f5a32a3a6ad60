/* A tiny test harness for pml's unit tests: CHECK() records a failure with its location
 * and goes on; each test binary ends with unit_done(), which prints
 * "unit: NAME: N passed, N failed" and returns the exit status. */
#ifndef PML_TESTS_UNIT_H
#define PML_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (cond) {                                                            \
			unit_passed++;                                                 \
		} else {                                                               \
			unit_failed++;                                                 \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *_a = (a), *_b = (b);                                       \
		if (_a && _b && !strcmp(_a, _b)) {                                     \
			unit_passed++;                                                 \
		} else {                                                               \
			unit_failed++;                                                 \
			fprintf(stderr, "FAIL %s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)",            \
				_b ? _b : "(null)");                                   \
		}                                                                      \
	} while (0)

static inline int unit_done(const char *name)
{
	printf("unit: %s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
