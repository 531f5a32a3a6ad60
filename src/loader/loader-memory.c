/* The in-memory kernel: a backend of the loader (loader-backend.h) that simulates a module
 * tree and the kernel's module list from a text description (see pml_loader_new_memory in
 * loader.h for the format). It follows the kernel where the loader depends on it: a
 * module's refcount counts its holders (the kernel's ref_module) plus its other users (a
 * test hook sets those), removal of a used module fails with -EAGAIN, an insert whose
 * dependencies are missing fails with -ENOENT ("Unknown symbol"), /proc/modules lists the
 * newest first. Policy and replay tests run on it in microseconds. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader-backend.h"
#include "util/log.h"

#define MEM_DEPS_MAX 64
#define MEM_SOFT_MAX 16

struct mem_mod {
	pml_modname name;
	pml_modname deps[MEM_DEPS_MAX]; /* as written: last-loaded first */
	size_t n_deps;
	char *pre[MEM_SOFT_MAX], *post[MEM_SOFT_MAX]; /* aliases or names */
	size_t n_pre, n_post;
	char *options;
	int64_t size;
	bool known; /* has a dependency line: it exists in the tree */
	bool builtin, loaded;
	int users;	   /* references other than holders */
	int fail_errno;	   /* >0: inserts fail with -fail_errno */
	int fail_left;	   /* > 0: only this many more of them (0: every one) */
	double load_ms, unload_ms; /* <0: measure */
	unsigned long seq; /* load order, for /proc/modules' newest-first listing */
};

struct mem_alias {
	char *pattern; /* normalised */
	pml_modname module;
};

struct mem {
	struct mem_mod *mods;
	size_t n_mods, cap_mods;
	struct mem_alias *aliases;
	size_t n_aliases, cap_aliases;
	unsigned long seq;
};

/* modules.dep names a module by path ("kernel/net/sctp/sctp.ko"): keep the base name
 * without ".ko[.xz]", normalised. */
static int mod_name_from_token(const char *tok, pml_modname out)
{
	const char *base = strrchr(tok, '/');
	char tmp[64];
	size_t len;

	base = base ? base + 1 : tok;
	len = strcspn(base, ".");
	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, base, len);
	tmp[len] = '\0';
	return pml_module_name_normalize(tmp, out) < 0 ? -EINVAL : 0;
}

/* kmod's alias_normalize: '-' becomes '_' except inside a [...] class. */
static char *alias_normalize(const char *alias)
{
	char *s = strdup(alias);
	bool in_class = false;

	if (!s)
		return NULL;
	for (char *c = s; *c; c++) {
		if (*c == '[')
			in_class = true;
		else if (*c == ']')
			in_class = false;
		else if (*c == '-' && !in_class)
			*c = '_';
	}
	return s;
}

static struct mem_mod *mem_find(struct mem *m, const char *name)
{
	for (size_t i = 0; i < m->n_mods; i++)
		if (!strcmp(m->mods[i].name, name))
			return &m->mods[i];
	return NULL;
}

static struct mem_mod *mem_get(struct mem *m, const char *name)
{
	struct mem_mod *mod = mem_find(m, name);

	if (mod)
		return mod;
	if (m->n_mods == m->cap_mods) {
		size_t cap = m->cap_mods ? m->cap_mods * 2 : 32;
		struct mem_mod *p = realloc(m->mods, cap * sizeof(*p));

		if (!p)
			return NULL;
		m->mods = p;
		m->cap_mods = cap;
	}
	mod = &m->mods[m->n_mods++];
	memset(mod, 0, sizeof(*mod));
	snprintf(mod->name, sizeof(mod->name), "%s", name);
	mod->size = 4096;
	mod->load_ms = mod->unload_ms = -1;
	return mod;
}

static void mem_free(void *be)
{
	struct mem *m = be;

	if (!m)
		return;
	for (size_t i = 0; i < m->n_mods; i++) {
		for (size_t k = 0; k < m->mods[i].n_pre; k++)
			free(m->mods[i].pre[k]);
		for (size_t k = 0; k < m->mods[i].n_post; k++)
			free(m->mods[i].post[k]);
		free(m->mods[i].options);
	}
	for (size_t i = 0; i < m->n_aliases; i++)
		free(m->aliases[i].pattern);
	free(m->mods);
	free(m->aliases);
	free(m);
}

static int add_alias(struct mem *m, const char *pattern, const pml_modname module)
{
	if (m->n_aliases == m->cap_aliases) {
		size_t cap = m->cap_aliases ? m->cap_aliases * 2 : 32;
		struct mem_alias *p = realloc(m->aliases, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->aliases = p;
		m->cap_aliases = cap;
	}
	m->aliases[m->n_aliases].pattern = alias_normalize(pattern);
	if (!m->aliases[m->n_aliases].pattern)
		return -ENOMEM;
	memcpy(m->aliases[m->n_aliases++].module, module, sizeof(pml_modname));
	return 0;
}

static bool parse_num(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		return false;
	*ret = v;
	return true;
}

#define TOK_MAX 80

/* One line of the description; tok[] its whitespace-separated words. */
static int parse_line(struct mem *m, char **tok, size_t n)
{
	pml_modname name;
	struct mem_mod *mod;
	double v;
	size_t len = strlen(tok[0]);

	if (tok[0][len - 1] == ':') {
		tok[0][len - 1] = '\0';
		if (mod_name_from_token(tok[0], name) < 0 || !(mod = mem_get(m, name)))
			return -EINVAL;
		mod->known = true;
		mod->n_deps = 0;
		for (size_t i = 1; i < n; i++) {
			if (mod->n_deps >= MEM_DEPS_MAX ||
			    mod_name_from_token(tok[i], mod->deps[mod->n_deps]) < 0)
				return -EINVAL;
			mod->n_deps++;
		}
		return 0;
	}
	if (n < 2 || mod_name_from_token(!strcmp(tok[0], "alias") ? tok[n - 1] : tok[1], name) < 0)
		return -EINVAL;
	if (!strcmp(tok[0], "alias")) {
		if (n != 3)
			return -EINVAL;
		return add_alias(m, tok[1], name);
	}
	if (!(mod = mem_get(m, name)))
		return -ENOMEM;
	if (!strcmp(tok[0], "size")) {
		if (n != 3 || !parse_num(tok[2], &v))
			return -EINVAL;
		mod->size = (int64_t)v;
	} else if (!strcmp(tok[0], "softdep")) {
		int where = 0; /* 1 pre, 2 post */

		for (size_t i = 2; i < n; i++) {
			char **list = where == 1 ? mod->pre : mod->post;
			size_t *cnt = where == 1 ? &mod->n_pre : &mod->n_post;

			if (!strcmp(tok[i], "pre:")) {
				where = 1;
				continue;
			}
			if (!strcmp(tok[i], "post:")) {
				where = 2;
				continue;
			}
			if (!where || *cnt >= MEM_SOFT_MAX)
				return -EINVAL;
			if (!(list[*cnt] = strdup(tok[i])))
				return -ENOMEM;
			(*cnt)++;
		}
	} else if (!strcmp(tok[0], "options")) {
		size_t total = 1;
		char *o;

		for (size_t i = 2; i < n; i++)
			total += strlen(tok[i]) + 1;
		if (!(o = calloc(1, total)))
			return -ENOMEM;
		for (size_t i = 2; i < n; i++) {
			if (i > 2)
				strcat(o, " ");
			strcat(o, tok[i]);
		}
		free(mod->options);
		mod->options = o;
	} else if (!strcmp(tok[0], "loaded")) {
		if (n > 3 || (n == 3 && !parse_num(tok[2], &v)))
			return -EINVAL;
		mod->loaded = true;
		mod->users = n == 3 ? (int)v : 0;
		mod->seq = ++m->seq;
	} else if (!strcmp(tok[0], "builtin")) {
		if (n != 2)
			return -EINVAL;
		mod->builtin = mod->known = true;
	} else if (!strcmp(tok[0], "fail")) {
		double times = 0;

		if (n < 3 || n > 4 || !parse_num(tok[2], &v) || v < 1 || v > 4095 ||
		    (n == 4 && (!parse_num(tok[3], &times) || times < 1 || times > 1e6)))
			return -EINVAL;
		mod->fail_errno = (int)v;
		mod->fail_left = (int)times;
	} else if (!strcmp(tok[0], "cost")) {
		if (n < 3 || n > 4 || !parse_num(tok[2], &mod->load_ms) ||
		    (n == 4 && !parse_num(tok[3], &mod->unload_ms)))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int mem_resolve(void *be, const char *alias, unsigned flags, pml_modname *names,
		       size_t max);

/* Loaded modules that name this one as a softdep pre: they use it at run time (libcrc32c
 * holds a crc32c transform), which the kernel shows in the refcount, not as a holder. */
static int soft_users_of(struct mem *m, const char *name)
{
	int n = 0;

	for (size_t i = 0; i < m->n_mods; i++) {
		struct mem_mod *u = &m->mods[i];
		bool uses = false;

		if (!u->loaded)
			continue;
		for (size_t k = 0; k < u->n_pre && !uses; k++) {
			pml_modname r[8];
			int nr = mem_resolve(m, u->pre[k], 0, r, 8);

			for (int j = 0; j < nr && j < 8; j++)
				uses |= !strcmp(r[j], name);
		}
		n += uses;
	}
	return n;
}

static int holders_of(struct mem *m, const char *name, pml_modname *holders, size_t max)
{
	int n = 0;

	for (size_t i = 0; i < m->n_mods; i++) {
		struct mem_mod *h = &m->mods[i];

		if (!h->loaded)
			continue;
		for (size_t k = 0; k < h->n_deps; k++) {
			if (strcmp(h->deps[k], name))
				continue;
			if ((size_t)n < max)
				memcpy(holders[n], h->name, sizeof(pml_modname));
			n++;
			break;
		}
	}
	return n;
}

static int mem_resolve(void *be, const char *alias, unsigned flags, pml_modname *names,
		       size_t max)
{
	struct mem *m = be;
	pml_modname norm;
	struct mem_mod *mod;
	char *a;
	int n = 0;

	if (pml_module_name_normalize(alias, norm) == 0 && (mod = mem_find(m, norm)) &&
	    mod->known) {
		if (max)
			memcpy(names[0], norm, sizeof(norm));
		return 1;
	}
	if (!(a = alias_normalize(alias)))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_aliases; i++) {
		bool dup = false;

		if (fnmatch(m->aliases[i].pattern, a, 0) != 0)
			continue;
		for (int k = 0; k < n && (size_t)k < max; k++)
			dup |= !strcmp(names[k], m->aliases[i].module);
		if (dup)
			continue;
		if ((size_t)n < max)
			memcpy(names[n], m->aliases[i].module, sizeof(pml_modname));
		n++;
	}
	free(a);
	return n;
}

static int mem_deps(void *be, const char *name, pml_modname *names, size_t max)
{
	struct mem_mod *mod = mem_find(be, name);
	size_t n = 0;

	if (!mod || !mod->known)
		return -ENOENT;
	/* modules.dep lists the last to load first. */
	for (size_t i = mod->n_deps; i-- > 0; n++)
		if (n < max)
			memcpy(names[n], mod->deps[i], sizeof(pml_modname));
	return (int)n;
}

static void resolve_list(struct mem *m, char **in, size_t n_in, pml_modname *out,
			 size_t *n_out, size_t max)
{
	*n_out = 0;
	for (size_t i = 0; i < n_in; i++) {
		pml_modname tmp[8];
		int n = mem_resolve(m, in[i], 0, tmp, 8);

		for (int k = 0; k < n && k < 8 && *n_out < max; k++)
			memcpy(out[(*n_out)++], tmp[k], sizeof(pml_modname));
	}
}

static int mem_softdeps(void *be, const char *name, pml_modname *pre, size_t *n_pre,
			pml_modname *post, size_t *n_post, size_t max)
{
	struct mem *m = be;
	struct mem_mod *mod = mem_find(m, name);

	*n_pre = *n_post = 0;
	if (!mod)
		return -ENOENT;
	resolve_list(m, mod->pre, mod->n_pre, pre, n_pre, max);
	resolve_list(m, mod->post, mod->n_post, post, n_post, max);
	return 0;
}

static int mem_state(void *be, const char *name)
{
	struct mem_mod *mod = mem_find(be, name);

	if (!mod)
		return PML_MOD_ABSENT;
	if (mod->builtin)
		return PML_MOD_BUILTIN;
	return mod->loaded ? PML_MOD_LIVE : PML_MOD_ABSENT;
}

static int mem_usage(void *be, const char *name, int *refcnt, pml_modname *holders,
		     size_t max)
{
	struct mem *m = be;
	struct mem_mod *mod = mem_find(m, name);
	int nh;

	if (!mod || !mod->loaded)
		return -ENOENT;
	nh = holders_of(m, name, holders, max);
	*refcnt = mod->users + nh + soft_users_of(m, name);
	return nh;
}

static int mem_insert(void *be, const char *name, double *sim_ms)
{
	struct mem *m = be;
	struct mem_mod *mod = mem_find(m, name);

	if (!mod || !mod->known)
		return -ENOENT;
	if (mod->builtin || mod->loaded)
		return -EEXIST;
	if (mod->load_ms >= 0)
		*sim_ms = mod->load_ms;
	if (mod->fail_errno) {
		int e = mod->fail_errno;

		if (mod->fail_left > 0 && --mod->fail_left == 0)
			mod->fail_errno = 0;
		return -e;
	}
	for (size_t i = 0; i < mod->n_deps; i++) {
		struct mem_mod *d = mem_find(m, mod->deps[i]);

		if (!d || !(d->loaded || d->builtin))
			return -ENOENT; /* the kernel: "Unknown symbol in module" */
	}
	mod->loaded = true;
	mod->users = 0;
	mod->seq = ++m->seq;
	return 0;
}

static int mem_remove(void *be, const char *name, double *sim_ms)
{
	struct mem *m = be;
	struct mem_mod *mod = mem_find(m, name);

	if (!mod || !mod->loaded)
		return mod && mod->builtin ? -EPERM : -ENOENT;
	if (mod->users || holders_of(m, name, NULL, 0) || soft_users_of(m, name))
		return -EAGAIN; /* delete_module with O_NONBLOCK on a used module */
	if (mod->unload_ms >= 0)
		*sim_ms = mod->unload_ms;
	mod->loaded = false;
	mod->users = 0;
	return 0;
}

static int mem_list_loaded(void *be, struct pml_loaded *mods, size_t max)
{
	struct mem *m = be;
	int n = 0;

	/* Newest first, as /proc/modules. */
	for (unsigned long s = m->seq; s > 0; s--) {
		for (size_t i = 0; i < m->n_mods; i++) {
			struct mem_mod *mod = &m->mods[i];
			int nh;

			if (!mod->loaded || mod->seq != s)
				continue;
			if ((size_t)n < max) {
				struct pml_loaded *l = &mods[n];

				memset(l, 0, sizeof(*l));
				memcpy(l->name, mod->name, sizeof(l->name));
				l->bytes = mod->size;
				nh = holders_of(m, mod->name, NULL, 0);
				l->n_holders = nh;
				l->refcnt = mod->users + nh + soft_users_of(m, mod->name);
			}
			n++;
		}
	}
	return n;
}

static int64_t mem_bytes(void *be, const char *name)
{
	struct mem_mod *mod = mem_find(be, name);

	return mod && mod->loaded ? mod->size : -ENOENT;
}

static int64_t mem_estimate_bytes(void *be, const char *name)
{
	struct mem_mod *mod = mem_find(be, name);

	return mod ? mod->size : -ENOENT;
}

static int mem_set_refcnt(void *be, const char *name, int refcnt)
{
	struct mem *m = be;
	struct mem_mod *mod = mem_find(m, name);
	int nh;

	if (!mod || !mod->loaded || refcnt < 0)
		return -ENOENT;
	/* refcnt is the total the kernel would show: holders stay counted. */
	nh = holders_of(m, name, NULL, 0) + soft_users_of(m, name);
	mod->users = refcnt > nh ? refcnt - nh : 0;
	return 0;
}

static const struct pml_modops mem_ops = {
	.name = "memory",
	.free = mem_free,
	.resolve = mem_resolve,
	.deps = mem_deps,
	.softdeps = mem_softdeps,
	.state = mem_state,
	.usage = mem_usage,
	.insert = mem_insert,
	.remove = mem_remove,
	.list_loaded = mem_list_loaded,
	.bytes = mem_bytes,
	.estimate_bytes = mem_estimate_bytes,
	.set_refcnt = mem_set_refcnt,
};

int pml_loader_new_memory(const char *description, struct pml_loader **ret)
{
	struct mem *m = calloc(1, sizeof(*m));
	char *text = description ? strdup(description) : NULL, *line, *next;
	unsigned lineno = 0;
	int r = 0;

	if (!m || !text) {
		free(text);
		mem_free(m);
		return -ENOMEM;
	}
	for (line = text; line && r == 0; line = next) {
		char *tok[TOK_MAX], *p, *s2 = NULL;
		size_t n = 0;

		lineno++;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if ((p = strchr(line, '#')))
			*p = '\0';
		for (p = strtok_r(line, " \t\r", &s2); p; p = strtok_r(NULL, " \t\r", &s2)) {
			if (n == TOK_MAX) {
				r = -EINVAL;
				break;
			}
			tok[n++] = p;
		}
		if (r == 0 && n > 0)
			r = parse_line(m, tok, n);
		if (r < 0)
			pml_err("loader: memory description, line %u: %s", lineno,
				r == -ENOMEM ? "out of memory" : "bad line");
	}
	free(text);
	if (r < 0) {
		mem_free(m);
		return r;
	}
	return pml_loader_new_ops(&mem_ops, m, ret);
}
