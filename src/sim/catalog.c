/* The replay's module catalog: costs and load orders per module, filled lazily from the
 * repo, from calibration files and by hand; see catalog.h for the sources of a cost and the
 * estimate from the file size. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo/repo.h"
#include "loader/unpinned.h"
#include "sim/catalog.h"
#include "util/json.h"
#include "util/log.h"
#include "util/modname.h"

/* Fitted on data/costs-6.1.0-56-amd64.jsonl (80 modules) against the 6.1.0-56 tree's file
 * sizes; used until pml_sim_catalog_fit() finds enough measured modules to fit its own. */
#define FIT_BYTES_A 2.2916
#define FIT_BYTES_B 0.7560
#define FIT_MS_C 13.015
#define FIT_MS_D 0.1638
#define FIT_MIN 8

struct entry {
	struct pml_sim_mod mod;
	bool measured_bytes, measured_ms; /* given by hand or by a calibration file */
	bool repo_done;			  /* the repo was asked */
};

struct pml_sim_catalog {
	struct pml_repo *repo;
	struct entry **slots; /* open addressing on the normalised name */
	size_t n, cap;
	char (*base)[64];
	size_t n_base, cap_base;
	const char **base_ptrs;
	double a, b, c, d;
};

const char *pml_sim_cost_src_name(enum pml_sim_cost_src s)
{
	switch (s) {
	case PML_SIM_COST_MEASURED:
		return "measured";
	case PML_SIM_COST_CATALOG:
		return "catalog";
	case PML_SIM_COST_ESTIMATED:
		return "estimated";
	case PML_SIM_COST_DEFAULT:
		return "default";
	}
	return "?";
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int pml_sim_catalog_new(struct pml_repo *repo, struct pml_sim_catalog **ret)
{
	struct pml_sim_catalog *cat = calloc(1, sizeof(*cat));

	if (!cat)
		return -ENOMEM;
	cat->repo = repo;
	cat->cap = 256;
	cat->slots = calloc(cat->cap, sizeof(*cat->slots));
	if (!cat->slots) {
		free(cat);
		return -ENOMEM;
	}
	cat->a = FIT_BYTES_A;
	cat->b = FIT_BYTES_B;
	cat->c = FIT_MS_C;
	cat->d = FIT_MS_D;
	*ret = cat;
	return 0;
}

void pml_sim_catalog_free(struct pml_sim_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->cap; i++)
		if (cat->slots[i]) {
			free(cat->slots[i]->mod.order);
			free(cat->slots[i]);
		}
	free(cat->slots);
	free(cat->base);
	free(cat->base_ptrs);
	free(cat);
}

static struct entry **slot_of(struct entry **slots, size_t cap, const char *name)
{
	for (size_t i = hash(name) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!slots[i] || !strcmp(slots[i]->mod.name, name))
			return &slots[i];
}

static int grow(struct pml_sim_catalog *cat)
{
	size_t cap = cat->cap * 2;
	struct entry **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < cat->cap; i++)
		if (cat->slots[i])
			*slot_of(slots, cap, cat->slots[i]->mod.name) = cat->slots[i];
	free(cat->slots);
	cat->slots = slots;
	cat->cap = cap;
	return 0;
}

static int set_order(struct pml_sim_mod *m, char *const *names, size_t n)
{
	char(*o)[64] = calloc(n ? n : 1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		pml_module_name_normalize(names[i], o[i]);
	free(m->order);
	m->order = o;
	m->n_order = n;
	return 0;
}

static void estimate(const struct pml_sim_catalog *cat, struct entry *e)
{
	struct pml_sim_mod *m = &e->mod;
	bool est = m->file_bytes > 0;

	if (!e->measured_bytes && m->src != PML_SIM_COST_CATALOG)
		m->bytes = est ? (int64_t)(ceil(exp(cat->a + cat->b * log((double)m->file_bytes)) /
						4096.0) * 4096.0)
			       : PML_SIM_DEFAULT_BYTES;
	if (!e->measured_ms && m->src != PML_SIM_COST_CATALOG)
		m->load_ms = est ? cat->c + cat->d * (double)m->file_bytes / 1024.0
				 : PML_SIM_DEFAULT_LOAD_MS;
	if (m->builtin) {
		m->bytes = 0;
		m->load_ms = 0;
	}
}

/* The source a module's costs come from, from what it knows. */
static void classify(struct entry *e, bool catalog_costs)
{
	struct pml_sim_mod *m = &e->mod;

	if (e->measured_bytes && e->measured_ms)
		m->src = PML_SIM_COST_MEASURED;
	else if (catalog_costs)
		m->src = PML_SIM_COST_CATALOG;
	else if (m->file_bytes > 0)
		m->src = PML_SIM_COST_ESTIMATED;
	else
		m->src = PML_SIM_COST_DEFAULT;
}

/* Fill e from the repo: file size, measured costs, load order. */
static int from_repo(struct pml_sim_catalog *cat, struct entry *e)
{
	struct pml_module_info *info = NULL;
	char **names = NULL;
	size_t n = 0;
	bool cat_costs = false;
	int r;

	e->repo_done = true;
	if (!cat->repo || pml_repo_get(cat->repo, e->mod.name, &info) < 0) {
		classify(e, false);
		estimate(cat, e);
		return 0;
	}
	e->mod.file_bytes = info->file_bytes > 0 ? info->file_bytes : -1;
	e->mod.builtin = info->builtin;
	e->mod.kept = info->path &&
		      pml_unpinned_class_of(e->mod.name, info->path) >= PML_UNPINNED_KEY_TYPE;
	if (info->resident_bytes > 0 && info->load_ms >= 0 && !e->measured_bytes &&
	    !e->measured_ms) {
		e->mod.bytes = info->resident_bytes;
		e->mod.load_ms = info->load_ms;
		cat_costs = true;
	}
	pml_module_info_free(info);
	classify(e, cat_costs);
	estimate(cat, e);
	r = pml_repo_load_order(cat->repo, e->mod.name, &names, &n);
	if (r > 0) {
		r = set_order(&e->mod, names, n);
		pml_repo_names_free(names);
		return r;
	}
	return 0;
}

/* The entry of name, created (without the repo) when new. */
static struct entry *get_entry(struct pml_sim_catalog *cat, const char *name, bool *created)
{
	char norm[64];
	struct entry **slot, *e;

	*created = false;
	if (!name || !*name || pml_module_name_normalize(name, norm) < 0)
		return NULL;
	slot = slot_of(cat->slots, cat->cap, norm);
	if (*slot)
		return *slot;
	if ((cat->n + 1) * 2 > cat->cap) {
		if (grow(cat) < 0)
			return NULL;
		slot = slot_of(cat->slots, cat->cap, norm);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->mod.name, norm, sizeof(norm));
	e->mod.file_bytes = -1;
	e->mod.order = calloc(1, sizeof(*e->mod.order));
	if (!e->mod.order) {
		free(e);
		return NULL;
	}
	memcpy(e->mod.order[0], norm, sizeof(norm));
	e->mod.n_order = 1;
	e->mod.src = PML_SIM_COST_DEFAULT;
	*slot = e;
	cat->n++;
	*created = true;
	return e;
}

int pml_sim_catalog_set_kept(struct pml_sim_catalog *cat, const char *name, bool kept)
{
	bool created;
	struct entry *e = get_entry(cat, name, &created);

	if (!e || created)
		return -ENOENT;
	e->mod.kept = kept;
	return 0;
}

const struct pml_sim_mod *pml_sim_catalog_get(struct pml_sim_catalog *cat, const char *name)
{
	bool created;
	struct entry *e = get_entry(cat, name, &created);

	if (!e)
		return NULL;
	if (!e->repo_done && from_repo(cat, e) < 0)
		return NULL;
	return &e->mod;
}

int pml_sim_catalog_add(struct pml_sim_catalog *cat, const char *name, int64_t bytes,
			double load_ms, const char *const *deps, size_t n_deps)
{
	bool created;
	struct entry *e = get_entry(cat, name, &created);
	char **names;
	int r;

	if (!e)
		return name && *name && strlen(name) < 64 ? -ENOMEM : -EINVAL;
	names = calloc(n_deps + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n_deps; i++)
		names[i] = (char *)deps[i];
	names[n_deps] = e->mod.name;
	r = set_order(&e->mod, names, n_deps + 1);
	free(names);
	if (r < 0)
		return r;
	e->repo_done = true; /* described by hand: the repo is not asked */
	e->mod.bytes = bytes;
	e->mod.load_ms = load_ms;
	e->measured_bytes = e->measured_ms = true;
	e->mod.src = PML_SIM_COST_MEASURED;
	return 0;
}

int pml_sim_catalog_set_costs(struct pml_sim_catalog *cat, const char *name, int64_t bytes,
			      double load_ms)
{
	bool created;
	struct entry *e = get_entry(cat, name, &created);

	if (!e)
		return name && *name && strlen(name) < 64 ? -ENOMEM : -EINVAL;
	if (bytes >= 0) {
		e->mod.bytes = bytes;
		e->measured_bytes = true;
	}
	if (load_ms >= 0) {
		e->mod.load_ms = load_ms;
		e->measured_ms = true;
	}
	if (!e->repo_done)
		return from_repo(cat, e);
	classify(e, e->mod.src == PML_SIM_COST_CATALOG);
	estimate(cat, e);
	return 0;
}

/* A cost from a costs file (not trusted: a number is checked before it is converted):
 * -1 when absent or null, else a number >= 0: for a byte count a whole one, read from
 * its text (digits only), up to 2^53 (a double holds it exactly); for a time at most an
 * hour (replay turns it into nanoseconds). 0 or -EINVAL (logged with the file, line and
 * value). */
static int cost_value(const char *path, unsigned lineno, const char *mod,
		      const struct pml_json_flat *j, const char *key, bool whole,
		      double *ret)
{
	const struct pml_json_field *f = pml_json_flat_get(j, key);
	long long v = -1;
	char *end;

	*ret = -1;
	if (!f || f->type == PML_JSON_NULL)
		return 0;
	if (whole && f->type == PML_JSON_NUMBER && f->str[0] >= '0' && f->str[0] <= '9') {
		errno = 0;
		v = strtoll(f->str, &end, 10);
		if (errno || *end || v > (1ll << 53))
			v = -1;
	}
	if (f->type != PML_JSON_NUMBER || !isfinite(f->num) || f->num < 0 ||
	    (whole && v < 0) || (!whole && f->num > 3.6e6)) {
		pml_err("%s:%u: module %s: \"%s\": %.40s is not %s", path, lineno, mod,
			key, f->type == PML_JSON_NUMBER ? f->str : "(not a number)",
			whole ? "a whole number from 0 to 2^53" :
			"a time from 0 to 3600000 ms");
		return -EINVAL;
	}
	*ret = whole ? (double)v : f->num;
	return 0;
}

int pml_sim_catalog_import_costs(struct pml_sim_catalog *cat, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t size = 0;
	unsigned lineno = 0;
	int count = 0, r = 0;

	if (!f)
		return -errno;
	while (getline(&line, &size, f) > 0) {
		struct pml_json_flat j;
		const char *mod;
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		r = pml_json_flat_parse(p, &j);
		if (r < 0) {
			pml_err("%s:%u: not a JSON object", path, lineno);
			r = -EINVAL;
			break;
		}
		mod = pml_json_flat_str(&j, "module", NULL);
		if (!mod || !*mod || strlen(mod) >= 64) {
			pml_err("%s:%u: no module name", path, lineno);
			pml_json_flat_release(&j);
			r = -EINVAL;
			break;
		}
		double bytes, load_ms;

		if (cost_value(path, lineno, mod, &j, "bytes", true, &bytes) < 0 ||
		    cost_value(path, lineno, mod, &j, "load_ms", false, &load_ms) < 0) {
			pml_json_flat_release(&j);
			r = -EINVAL;
			break;
		}
		r = pml_sim_catalog_set_costs(cat, mod, bytes < 0 ? -1 : (int64_t)bytes,
					      load_ms);
		pml_json_flat_release(&j);
		if (r < 0)
			break;
		count++;
	}
	free(line);
	fclose(f);
	return r < 0 ? r : count;
}

int pml_sim_catalog_fit(struct pml_sim_catalog *cat)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, tx = 0, ty = 0, txx = 0, txy = 0;
	size_t n = 0;

	for (size_t i = 0; i < cat->cap; i++) {
		struct entry *e = cat->slots[i];
		double x, y;

		if (!e || !e->measured_bytes || !e->measured_ms || e->mod.file_bytes <= 0 ||
		    e->mod.bytes <= 0)
			continue;
		x = log((double)e->mod.file_bytes);
		y = log((double)e->mod.bytes);
		sx += x, sy += y, sxx += x * x, sxy += x * y;
		x = (double)e->mod.file_bytes / 1024.0;
		y = e->mod.load_ms;
		tx += x, ty += y, txx += x * x, txy += x * y;
		n++;
	}
	if (n >= FIT_MIN) {
		double dn = (double)n, vx = sxx - sx * sx / dn, wx = txx - tx * tx / dn;

		if (vx > 0 && wx > 0) {
			cat->b = (sxy - sx * sy / dn) / vx;
			cat->a = (sy - cat->b * sx) / dn;
			cat->d = (txy - tx * ty / dn) / wx;
			cat->c = (ty - cat->d * tx) / dn;
			if (cat->c < 1)
				cat->c = 1; /* a load never costs nothing */
		}
	}
	for (size_t i = 0; i < cat->cap; i++)
		if (cat->slots[i])
			estimate(cat, cat->slots[i]);
	return (int)n;
}

void pml_sim_catalog_coefficients(const struct pml_sim_catalog *cat, double *a, double *b,
				  double *c, double *d)
{
	*a = cat->a;
	*b = cat->b;
	*c = cat->c;
	*d = cat->d;
}

static int base_add(struct pml_sim_catalog *cat, const char *name)
{
	char norm[64];

	if (pml_module_name_normalize(name, norm) < 0)
		return 0;
	if (pml_sim_catalog_is_base(cat, norm))
		return 0;
	if (cat->n_base == cat->cap_base) {
		size_t cap = cat->cap_base ? 2 * cat->cap_base : 16;
		char(*b)[64] = realloc(cat->base, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		cat->base = b;
		cat->cap_base = cap;
	}
	memcpy(cat->base[cat->n_base++], norm, sizeof(norm));
	return 0;
}

int pml_sim_catalog_add_base(struct pml_sim_catalog *cat, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pml_sim_mod *m = pml_sim_catalog_get(cat, names[i]);
		int r;

		if (!m)
			return -ENOMEM;
		for (size_t k = 0; k < m->n_order; k++) {
			r = base_add(cat, m->order[k]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

bool pml_sim_catalog_is_base(const struct pml_sim_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->n_base; i++)
		if (pml_module_name_eq(cat->base[i], name))
			return true;
	return false;
}

size_t pml_sim_catalog_base(struct pml_sim_catalog *cat, const char *const **ret)
{
	const char **p = realloc(cat->base_ptrs, (cat->n_base ? cat->n_base : 1) * sizeof(*p));

	if (!p) {
		*ret = NULL;
		return 0;
	}
	cat->base_ptrs = p;
	for (size_t i = 0; i < cat->n_base; i++)
		p[i] = cat->base[i];
	*ret = p;
	return cat->n_base;
}

int pml_sim_catalog_cost(void *data, const char *module, int64_t *ret_bytes,
			 double *ret_load_ms)
{
	const struct pml_sim_mod *m = pml_sim_catalog_get(data, module);

	if (!m)
		return -ENOENT;
	*ret_bytes = m->bytes;
	*ret_load_ms = m->load_ms;
	return 0;
}

void pml_sim_catalog_sources(const struct pml_sim_catalog *cat, size_t counts[4])
{
	memset(counts, 0, 4 * sizeof(counts[0]));
	for (size_t i = 0; i < cat->cap; i++)
		if (cat->slots[i] && cat->slots[i]->mod.src <= PML_SIM_COST_DEFAULT)
			counts[cat->slots[i]->mod.src]++;
}
