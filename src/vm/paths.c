/* Cache paths; see paths.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/paths.h"

int pml_cache_dir(char *buf, size_t size)
{
	const char *env = getenv("PML_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(buf, size, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(buf, size, "%s/pml", xdg);
	else
		n = snprintf(buf, size, "%s/.cache/pml", home && *home ? home : "/root");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int pml_kernel_release(char *buf, size_t size)
{
	char cache[4096], path[4200];
	FILE *f;
	int r;

	r = pml_cache_dir(cache, sizeof(cache));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/kernel/current", cache);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	r = fgets(buf, (int)size, f) ? 0 : -ENOENT;
	fclose(f);
	if (r == 0)
		buf[strcspn(buf, "\n")] = '\0';
	if (r == 0 && !*buf)
		r = -ENOENT;
	return r;
}

int pml_kernel_moddir(char *buf, size_t size)
{
	char cache[4096], rel[256];
	int r, n;

	r = pml_cache_dir(cache, sizeof(cache));
	if (r < 0)
		return r;
	r = pml_kernel_release(rel, sizeof(rel));
	if (r < 0)
		return r;
	n = snprintf(buf, size, "%s/kernel/%s/lib/modules/%s", cache, rel, rel);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return access(buf, R_OK) == 0 ? 0 : -ENOENT;
}
