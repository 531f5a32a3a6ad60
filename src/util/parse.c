/* Command-line numbers: see parse.h. */
#include <errno.h>
#include <stdlib.h>

#include "util/parse.h"

int pml_parse_size(const char *s, int64_t *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
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

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v != v)
		return -EINVAL;
	*ret = v;
	return 0;
}
