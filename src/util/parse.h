/* Parsing the numbers commands take on their command lines. */
#ifndef PML_UTIL_PARSE_H
#define PML_UTIL_PARSE_H

#include <stdint.h>

/* "64M", "1048576", "512K", "1G", an optional trailing B: bytes. 0, or -EINVAL for
 * anything else, a negative value or one past 9e18. *ret is written only on success. */
int pml_parse_size(const char *s, int64_t *ret);

/* A whole string as a non-negative number. 0, or -EINVAL (also for NaN). *ret is written
 * only on success. */
int pml_parse_double(const char *s, double *ret);

#endif
