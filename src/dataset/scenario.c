/* The workload corpus: scenario scripts and their headers (scenario.h). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/scenario.h"

static int cmp_scenario(const void *a, const void *b)
{
	return strcmp(((const struct pml_scenario *)a)->name,
		      ((const struct pml_scenario *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a b, c" -> sorted "a,b,c" */
static void sort_list(const char *in, char *out, size_t size)
{
	char buf[256], *words[32], *save = NULL;
	size_t n = 0, len = 0;

	snprintf(buf, sizeof(buf), "%s", in);
	for (char *w = strtok_r(buf, " ,\t\n", &save); w && n < 32;
	     w = strtok_r(NULL, " ,\t\n", &save))
		words[n++] = w;
	qsort(words, n, sizeof(words[0]), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(words[i], words[i - 1]))
			continue;
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s",
					len ? "," : "", words[i]);
	}
}

/* pml-timeout: whole seconds, 1 to a day; anything else keeps the default (atoi would
 * overflow on a long number). */
static void parse_timeout(const char *val, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (*val >= '0' && *val <= '9' && !errno && end != val &&
	    !end[strspn(end, " \t")] && v > 0 && v <= 86400)
		*ret = (unsigned)v;
}

static void parse_header(const char *path, struct pml_scenario *s)
{
	char line[1024];
	FILE *f = fopen(path, "re");

	s->timeout_s = 240;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v;

		if (line[0] != '#') {
			if (line[strspn(line, " \t\n")])
				break;
			continue;
		}
		v = strstr(line, "pml-");
		if (!v || strspn(line + 1, " \t") != (size_t)(v - line - 1))
			continue;
		v += 4;
		char *colon = strchr(v, ':');

		if (!colon)
			continue;
		*colon = '\0';
		char *val = colon + 1 + strspn(colon + 1, " \t");

		val[strcspn(val, "\n")] = '\0';
		if (!strcmp(v, "family"))
			snprintf(s->family, sizeof(s->family), "%s", val);
		else if (!strcmp(v, "expect"))
			snprintf(s->expect, sizeof(s->expect), "%s", val);
		else if (!strcmp(v, "packages"))
			sort_list(val, s->packages, sizeof(s->packages));
		else if (!strcmp(v, "timeout"))
			parse_timeout(val, &s->timeout_s);
	}
	fclose(f);
}

int pml_scenarios_load(const char *workloads_dir, struct pml_scenario_list *ret)
{
	struct pml_scenario_list l = {0};
	size_t cap = 0;
	DIR *top = opendir(workloads_dir);
	struct dirent *fam;

	if (!top)
		return -errno;
	while ((fam = readdir(top))) {
		char dpath[4200];
		DIR *d;
		struct dirent *e;

		if (fam->d_name[0] == '.' || !strcmp(fam->d_name, "lib") ||
		    !strcmp(fam->d_name, "tools") || !strcmp(fam->d_name, "bin"))
			continue;
		snprintf(dpath, sizeof(dpath), "%s/%s", workloads_dir, fam->d_name);
		d = opendir(dpath);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			size_t len = strlen(e->d_name);
			struct pml_scenario *s;
			char path[4500];

			if (len < 4 || strcmp(e->d_name + len - 3, ".sh") || e->d_name[0] == '.')
				continue;
			if (strlen(fam->d_name) + len > sizeof(s->name) - 1)
				continue;
			if (l.n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct pml_scenario *v = realloc(l.v, ncap * sizeof(*v));

				if (!v) {
					closedir(d);
					closedir(top);
					free(l.v);
					return -ENOMEM;
				}
				l.v = v;
				cap = ncap;
			}
			s = &l.v[l.n++];
			memset(s, 0, sizeof(*s));
			snprintf(s->name, sizeof(s->name), "%s/%.*s", fam->d_name, (int)(len - 3),
				 e->d_name);
			snprintf(s->family, sizeof(s->family), "%s", fam->d_name);
			snprintf(path, sizeof(path), "%s/%s", dpath, e->d_name);
			parse_header(path, s);
		}
		closedir(d);
	}
	closedir(top);
	if (!l.n) {
		free(l.v);
		return -ENOENT;
	}
	qsort(l.v, l.n, sizeof(l.v[0]), cmp_scenario);
	*ret = l;
	return 0;
}

void pml_scenarios_release(struct pml_scenario_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool pml_scenario_match(const char *name, const char *globs)
{
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", globs);
	for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(g);

		if (len > 3 && !strcmp(g + len - 3, ".sh"))
			g[len - 3] = '\0';
		if (!fnmatch(g, name, 0))
			return true;
	}
	return false;
}
