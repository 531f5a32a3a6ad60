/* Module name spelling; see modname.h. */
#include <errno.h>
#include <stddef.h>

#include "util/modname.h"

int pml_module_name_normalize(const char *name, char out[64])
{
	size_t i;

	for (i = 0; name[i]; i++) {
		if (i >= 63) {
			out[63] = '\0';
			return -ENAMETOOLONG;
		}
		out[i] = name[i] == '-' ? '_' : name[i];
	}
	out[i] = '\0';
	return 0;
}

bool pml_module_name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return false;
		if (!ca)
			return true;
	}
}
