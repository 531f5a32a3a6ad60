/* The needs model: pair counts of needs within a window, their text file; see needs-model.h.
 * Sizes are small (a few hundred modules, a few thousand pairs), so plain arrays and linear
 * look-ups serve: a prediction scans the pairs once, microseconds per event. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/needs-model.h"
#include "util/modname.h"

struct nm_module {
	char name[64];
	unsigned runs;
	int64_t bytes;
	double load_ms;
};

struct nm_pair {
	unsigned a, b; /* module indexes */
	unsigned count;
	double gap_sum_ms;
};

struct pml_needs_model {
	double window_s, alpha;
	size_t runs;
	struct nm_module *mods;
	size_t n_mods, cap_mods;
	struct nm_pair *pairs;
	size_t n_pairs, cap_pairs;
};

static int find_mod(const struct pml_needs_model *m, const char *name)
{
	char n[64];

	pml_module_name_normalize(name, n);
	for (size_t i = 0; i < m->n_mods; i++)
		if (!strcmp(m->mods[i].name, n))
			return (int)i;
	return -1;
}

/* Index of name, added when new; -ENOMEM. */
static int get_mod(struct pml_needs_model *m, const char *name)
{
	int i = find_mod(m, name);

	if (i >= 0)
		return i;
	if (m->n_mods == m->cap_mods) {
		size_t cap = m->cap_mods ? 2 * m->cap_mods : 64;
		struct nm_module *n = realloc(m->mods, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->mods = n;
		m->cap_mods = cap;
	}
	memset(&m->mods[m->n_mods], 0, sizeof(m->mods[0]));
	pml_module_name_normalize(name, m->mods[m->n_mods].name);
	m->mods[m->n_mods].bytes = -1;
	m->mods[m->n_mods].load_ms = -1;
	return (int)m->n_mods++;
}

static struct nm_pair *get_pair(struct pml_needs_model *m, unsigned a, unsigned b)
{
	for (size_t i = 0; i < m->n_pairs; i++)
		if (m->pairs[i].a == a && m->pairs[i].b == b)
			return &m->pairs[i];
	if (m->n_pairs == m->cap_pairs) {
		size_t cap = m->cap_pairs ? 2 * m->cap_pairs : 256;
		struct nm_pair *n = realloc(m->pairs, cap * sizeof(*n));

		if (!n)
			return NULL;
		m->pairs = n;
		m->cap_pairs = cap;
	}
	m->pairs[m->n_pairs] = (struct nm_pair){.a = a, .b = b};
	return &m->pairs[m->n_pairs++];
}

int pml_needs_model_new(double window_s, double alpha, struct pml_needs_model **ret)
{
	struct pml_needs_model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->window_s = window_s > 0 ? window_s : 30.0;
	m->alpha = alpha >= 0 ? alpha : 0.5;
	*ret = m;
	return 0;
}

void pml_needs_model_free(struct pml_needs_model *m)
{
	if (!m)
		return;
	free(m->mods);
	free(m->pairs);
	free(m);
}

int pml_needs_model_add_run(struct pml_needs_model *m, const char *const *modules,
			    const uint64_t *t_ns, size_t n)
{
	int *idx;
	uint64_t *t;
	size_t k = 0;
	int r = 0;

	for (size_t i = 1; i < n; i++)
		if (t_ns[i] < t_ns[i - 1])
			return -EINVAL;
	idx = calloc(n ? n : 1, sizeof(*idx));
	t = calloc(n ? n : 1, sizeof(*t));
	if (!idx || !t) {
		r = -ENOMEM;
		goto out;
	}
	/* First needs only. */
	for (size_t i = 0; i < n; i++) {
		int j = get_mod(m, modules[i]);
		bool seen = false;

		if (j < 0) {
			r = j;
			goto out;
		}
		for (size_t q = 0; q < k; q++)
			seen |= idx[q] == j;
		if (seen)
			continue;
		idx[k] = j;
		t[k++] = t_ns[i];
		m->mods[j].runs++;
	}
	for (size_t i = 0; i < k; i++)
		for (size_t q = i + 1; q < k; q++) {
			double gap_ms = (double)(t[q] - t[i]) / 1e6;
			struct nm_pair *p;

			if (gap_ms > m->window_s * 1e3)
				break;
			p = get_pair(m, (unsigned)idx[i], (unsigned)idx[q]);
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			p->count++;
			p->gap_sum_ms += gap_ms;
		}
	m->runs++;
out:
	free(idx);
	free(t);
	return r;
}

int pml_needs_model_add_cost(struct pml_needs_model *m, const char *module, int64_t bytes,
			     double load_ms)
{
	int i = get_mod(m, module);

	if (i < 0)
		return i;
	if (bytes >= 0)
		m->mods[i].bytes = bytes;
	if (load_ms >= 0)
		m->mods[i].load_ms = load_ms;
	return 0;
}

static int pred_cmp(const void *x, const void *y)
{
	const struct pml_needs_pred *a = x, *b = y;

	if (a->p != b->p)
		return a->p > b->p ? -1 : 1;
	if (a->gap_ms != b->gap_ms)
		return a->gap_ms < b->gap_ms ? -1 : 1;
	return strcmp(a->module, b->module);
}

int pml_needs_model_predict(const struct pml_needs_model *m, const char *trigger, double min_p,
			    struct pml_needs_pred *out, size_t max)
{
	int a = find_mod(m, trigger);
	struct pml_needs_pred *all;
	size_t k = 0;

	if (a < 0 || max == 0 || m->mods[a].runs == 0)
		return 0;
	all = calloc(m->n_pairs ? m->n_pairs : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_pairs; i++) {
		const struct nm_pair *p = &m->pairs[i];
		double prob;

		if (p->a != (unsigned)a || !p->count)
			continue;
		prob = p->count / (m->mods[a].runs + m->alpha);
		if (prob < min_p)
			continue;
		memcpy(all[k].module, m->mods[p->b].name, 64);
		all[k].p = prob;
		all[k].gap_ms = p->gap_sum_ms / p->count;
		all[k].count = p->count;
		k++;
	}
	qsort(all, k, sizeof(*all), pred_cmp);
	if (k > max)
		k = max;
	if (k)
		memcpy(out, all, k * sizeof(*all));
	free(all);
	return (int)k;
}

int pml_needs_model_cost(const struct pml_needs_model *m, const char *module,
			 int64_t *ret_bytes, double *ret_load_ms)
{
	int i = find_mod(m, module);

	if (i < 0 || (m->mods[i].bytes < 0 && m->mods[i].load_ms < 0))
		return -ENOENT;
	*ret_bytes = m->mods[i].bytes;
	*ret_load_ms = m->mods[i].load_ms;
	return 0;
}

static int by_runs_desc(const void *x, const void *y)
{
	const struct nm_module *a = *(const struct nm_module *const *)x;
	const struct nm_module *b = *(const struct nm_module *const *)y;

	if (a->runs != b->runs)
		return a->runs > b->runs ? -1 : 1;
	return strcmp(a->name, b->name);
}

size_t pml_needs_model_ranked(const struct pml_needs_model *m, const char **out, size_t max)
{
	const struct nm_module **v;
	size_t n = 0;

	for (size_t i = 0; i < m->n_mods; i++)
		n += m->mods[i].runs > 0;
	if (!max)
		return n;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return 0;
	n = 0;
	for (size_t i = 0; i < m->n_mods; i++)
		if (m->mods[i].runs > 0)
			v[n++] = &m->mods[i];
	qsort(v, n, sizeof(*v), by_runs_desc);
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = v[i]->name;
	free(v);
	return n;
}

size_t pml_needs_model_runs(const struct pml_needs_model *m)
{
	return m->runs;
}

size_t pml_needs_model_modules(const struct pml_needs_model *m)
{
	return m->n_mods;
}

size_t pml_needs_model_pairs(const struct pml_needs_model *m)
{
	return m->n_pairs;
}

static uint64_t fnv1a64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int pair_cmp(const void *x, const void *y, void *ctx)
{
	const struct nm_pair *a = x, *b = y;
	const struct nm_module *mods = ctx;
	int c = strcmp(mods[a->a].name, mods[b->a].name);

	return c ? c : strcmp(mods[a->b].name, mods[b->b].name);
}

int pml_needs_model_save(const struct pml_needs_model *m, const char *path)
{
	char *text = NULL, tmp[4096];
	size_t len = 0;
	struct nm_pair *pairs = NULL;
	FILE *f;
	int r = 0, fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s %d\n# P(B needed within the window | A needed): count / (runs(A) + alpha)\n",
		PML_NEEDS_MAGIC, PML_NEEDS_VERSION);
	fprintf(f, "window-s %.3f\nalpha %.3f\nruns %zu\n", m->window_s, m->alpha, m->runs);
	for (size_t i = 0; i < m->n_mods; i++)
		fprintf(f, "module %s %u %" PRId64 " %.3f\n", m->mods[i].name, m->mods[i].runs,
			m->mods[i].bytes, m->mods[i].load_ms);
	/* Sorted by name, so two trainings of the same logs give the same file. */
	pairs = malloc((m->n_pairs ? m->n_pairs : 1) * sizeof(*pairs));
	if (!pairs) {
		fclose(f);
		free(text);
		return -ENOMEM;
	}
	if (m->n_pairs)
		memcpy(pairs, m->pairs, m->n_pairs * sizeof(*pairs));
	qsort_r(pairs, m->n_pairs, sizeof(*pairs), pair_cmp, m->mods);
	for (size_t i = 0; i < m->n_pairs; i++)
		fprintf(f, "next %s %s %u %.3f\n", m->mods[pairs[i].a].name,
			m->mods[pairs[i].b].name, pairs[i].count,
			pairs[i].gap_sum_ms / (pairs[i].count ? pairs[i].count : 1));
	free(pairs);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	{
		char sum[64];
		int n = snprintf(sum, sizeof(sum), "checksum fnv1a64 %016" PRIx64 "\n",
				 fnv1a64(text, len));

		if (write(fd, text, len) != (ssize_t)len || write(fd, sum, n) != n)
			r = -errno ? -errno : -EIO;
	}
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	free(text);
	return r;
}

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t size, const char *fmt,
						      ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

int pml_needs_model_parse(const char *text, size_t len, struct pml_needs_model **ret,
			  char *why, size_t why_size)
{
	struct pml_needs_model *m = NULL;
	const char *p = text, *end = text + len, *sum_line = NULL;
	char line[512];
	unsigned lineno = 0, version;
	uint64_t want;
	int r;

	if (why && why_size)
		why[0] = '\0';
	/* The checksum line is the last one. */
	for (const char *q = text; q < end;) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));

		if (!strncmp(q, "checksum ", 9))
			sum_line = q;
		q = nl ? nl + 1 : end;
	}
	if (len < strlen(PML_NEEDS_MAGIC) || strncmp(text, PML_NEEDS_MAGIC " ", 17))
		return fail(why, why_size, "not a needs model (no '%s' first line)",
			    PML_NEEDS_MAGIC);
	if (sscanf(text + 17, "%u", &version) != 1)
		return fail(why, why_size, "line 1: no version");
	if (version > PML_NEEDS_VERSION) {
		if (why && why_size)
			snprintf(why, why_size, "version %u is newer than this pml reads (%d): "
				 "update pml or retrain with pml train-needs", version,
				 PML_NEEDS_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (!sum_line)
		return fail(why, why_size, "no checksum line (file truncated?)");
	if (sscanf(sum_line, "checksum fnv1a64 %" SCNx64, &want) != 1 ||
	    want != fnv1a64(text, (size_t)(sum_line - text)))
		return fail(why, why_size, "checksum mismatch (file damaged or edited): "
			    "retrain with pml train-needs");
	r = pml_needs_model_new(30, 0.5, &m);
	if (r < 0)
		return r;
	end = sum_line;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char a[64], b[64];
		unsigned u;
		double d;
		long long ll;
		size_t z;

		lineno++;
		if (n >= sizeof(line)) {
			r = fail(why, why_size, "line %u: too long", lineno);
			goto bad;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		if (lineno == 1 || !line[0] || line[0] == '#')
			continue;
		if (sscanf(line, "window-s %lf", &d) == 1) {
			if (!(d > 0 && d <= 86400)) {
				r = fail(why, why_size, "line %u: window-s %g is not seconds in "
					 "(0, 86400]", lineno, d);
				goto bad;
			}
			m->window_s = d;
		} else if (sscanf(line, "alpha %lf", &d) == 1) {
			if (!(d >= 0 && d <= 1e6)) {
				r = fail(why, why_size, "line %u: alpha %g is not in [0, 1e6]",
					 lineno, d);
				goto bad;
			}
			m->alpha = d;
		} else if (sscanf(line, "runs %zu", &z) == 1) {
			m->runs = z;
		} else if (sscanf(line, "module %63s %u %lld %lf", a, &u, &ll, &d) == 4) {
			int i;

			/* bytes and load time: -1 is "unknown"; a count is not negative */
			if (u > 1000000000u || ll < -1 || ll > (1ll << 40) || !(d >= -1 && d <= 1e7)) {
				r = fail(why, why_size, "line %u: module %s: a count, size or load "
					 "time out of range", lineno, a);
				goto bad;
			}
			i = get_mod(m, a);

			if (i < 0) {
				r = i;
				goto bad;
			}
			m->mods[i].runs = u;
			m->mods[i].bytes = ll;
			m->mods[i].load_ms = d;
		} else if (sscanf(line, "next %63s %63s %u %lf", a, b, &u, &d) == 4) {
			int i = find_mod(m, a), j = find_mod(m, b);
			struct nm_pair *pr;

			if (u > 1000000000u || !(d >= 0 && d <= 1e9)) {
				r = fail(why, why_size, "line %u: next %s %s: a count or gap out of "
					 "range", lineno, a, b);
				goto bad;
			}

			if (i < 0 || j < 0) {
				r = fail(why, why_size, "line %u: next names a module without a "
					 "module line", lineno);
				goto bad;
			}
			pr = get_pair(m, (unsigned)i, (unsigned)j);
			if (!pr) {
				r = -ENOMEM;
				goto bad;
			}
			pr->count = u;
			pr->gap_sum_ms = d * u;
		} else {
			r = fail(why, why_size, "line %u: cannot parse '%.60s'", lineno, line);
			goto bad;
		}
	}
	*ret = m;
	return 0;
bad:
	pml_needs_model_free(m);
	return r;
}

int pml_needs_model_load(const char *path, struct pml_needs_model **ret, char *why,
			 size_t why_size)
{
	struct stat st;
	char *text;
	FILE *f;
	size_t n;
	int r;

	if (why && why_size)
		why[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) < 0 || st.st_size > (64 << 20)) {
		fclose(f);
		return -EFBIG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, (size_t)st.st_size, f);
	fclose(f);
	text[n] = '\0';
	r = pml_needs_model_parse(text, n, ret, why, why_size);
	free(text);
	return r;
}
