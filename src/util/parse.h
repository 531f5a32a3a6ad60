/* Parsing the numbers commands take on their command lines. */
#ifndef PML_UTIL_PARSE_H
#define PML_UTIL_PARSE_H

#include <stdint.h>

/* "64M", "1048576", "512K", "1G", "2T", "2MiB", an optional trailing B: bytes (binary
 * units). 0, or -EINVAL for anything else: a negative value, one past 9e18, leading space,
 * hexadecimal, infinity, NaN. *ret is written only on success. */
int pml_parse_size(const char *s, int64_t *ret);

/* A whole string as a finite non-negative number (no leading space, hexadecimal,
 * infinity or NaN). 0, or -EINVAL. *ret is written only on success. */
int pml_parse_double(const char *s, double *ret);

#endif
