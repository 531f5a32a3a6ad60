/* The load order of a module or alias over the catalog: what modprobe would insert, in
 * its order (softdeps pre, the dependencies each with their softdeps, the module,
 * softdeps post), as libkmod's probe list computes it. See repo.h for the contract. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "repo/repo-priv.h"

static bool strv_has(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return true;
	return false;
}

static int probe_list(struct pml_repo *repo, const char *name, struct strv *visited,
		      struct strv *out, int depth);

/* A module with its softdeps around it (kmod's __kmod_module_fill_softdep). */
static int fill_softdep(struct pml_repo *repo, const struct pml_module_info *m,
			struct strv *visited, struct strv *out, int depth)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < m->n_softdeps_pre; i++)
		r = probe_list(repo, m->softdeps_pre[i], visited, out, depth + 1);
	if (r == 0 && !m->builtin && !strv_has(out, m->name))
		r = repo_strv_push(out, m->name);
	if (r == 0 && !strv_has(visited, m->name))
		r = repo_strv_push(visited, m->name);
	for (size_t i = 0; r == 0 && i < m->n_softdeps_post; i++)
		r = probe_list(repo, m->softdeps_post[i], visited, out, depth + 1);
	return r;
}

/* kmod's __kmod_module_get_probe_list over the catalog. Softdeps can form cycles (a
 * module's post naming one whose pre names it): the visited set stops them, the depth
 * bound stops anything else. */
static int probe_list(struct pml_repo *repo, const char *name, struct strv *visited,
		      struct strv *out, int depth)
{
	struct pml_module_info *m = NULL;
	int r;

	if (depth > 32)
		return -ELOOP;
	if (strv_has(visited, name))
		return 0;
	r = repo_strv_push(visited, name);
	if (r < 0)
		return r;
	r = pml_repo_get(repo, name, &m);
	if (r == -ENOENT)
		return 0; /* a softdep naming nothing in this tree: modprobe skips it too */
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < m->n_deps; i++) {
		struct pml_module_info *d = NULL;

		r = pml_repo_get(repo, m->deps[i], &d);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r == 0)
			r = fill_softdep(repo, d, visited, out, depth + 1);
		pml_module_info_free(d);
	}
	if (r == 0)
		r = fill_softdep(repo, m, visited, out, depth);
	pml_module_info_free(m);
	return r;
}

int pml_repo_load_order(struct pml_repo *repo, const char *name, char ***ret_names,
			size_t *ret_n)
{
	struct strv visited = {0}, out = {0};
	struct pml_module_info *info;
	char **mods = NULL;
	char norm[NAME_MAX_LEN + 1];
	size_t n_mods = 0;
	int r;

	if (!name || repo_normalize_name(name, norm, sizeof(norm)) < 0)
		return -EINVAL;
	/* A module name first, an alias otherwise. */
	r = pml_repo_get(repo, norm, &info);
	if (r == 0) {
		pml_module_info_free(info);
		mods = calloc(2, sizeof(*mods));
		if (!mods || !(mods[0] = strdup(norm))) {
			free(mods);
			return -ENOMEM;
		}
		n_mods = 1;
	} else if (r == -ENOENT) {
		r = pml_repo_resolve_alias(repo, name, &mods, &n_mods);
		if (r < 0)
			return r;
		if (n_mods == 0) {
			pml_repo_names_free(mods);
			return -ENOENT;
		}
	} else {
		return r;
	}
	r = 0;
	for (size_t i = 0; r == 0 && i < n_mods; i++)
		r = probe_list(repo, mods[i], &visited, &out, 0);
	pml_repo_names_free(mods);
	pml_repo_names_free(visited.v);
	if (r == 0 && !repo_strv_finish(&out))
		r = -ENOMEM;
	if (r < 0) {
		pml_repo_names_free(out.v);
		return r;
	}
	*ret_names = out.v;
	if (ret_n)
		*ret_n = out.n;
	return (int)out.n;
}
