/* Command-line numbers: see parse.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse.h"

/* strtod over the whole of a number's text: no leading space (strtod would skip it), no
 * hexadecimal, infinity or NaN. */
static int parse_finite(const char *s, double *ret, char **end)
{
	errno = 0;
	if (!s || !(isdigit((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+'))
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p == 'x' || *p == 'X')
			return -EINVAL;
	*ret = strtod(s, end);
	if (errno || *end == s || !isfinite(*ret))
		return -EINVAL;
	return 0;
}

int pml_parse_size(const char *s, int64_t *ret)
{
	static const char units[] = "kmgt";
	const char *u;
	char *end;
	double v;

	if (parse_finite(s, &v, &end) < 0 || v < 0)
		return -EINVAL;
	u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
	if (u) {
		for (const char *k = units; k <= u; k++)
			v *= 1024;
		end++;
		if (end[0] == 'i' && (end[1] == 'B' || end[1] == 'b'))
			end++; /* KiB, MiB: the same binary units */
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > 9e18)
		return -EINVAL;
	*ret = (int64_t)v;
	return 0;
}

int pml_parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	if (parse_finite(s, &v, &end) < 0 || *end || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}
