/* The loader's logic above the backend seam (loader-backend.h): plans a load the way
 * modprobe does (for each module: softdeps pre, dependencies, the module, softdeps post;
 * each module once), inserts module by module so every step is timed and we know which
 * modules this call actually inserted, and unloads only what nothing uses: refcount 0, no
 * holders, not in the keep set. Both backends share this code, so what the unit tests
 * check on the in-memory kernel is what runs on the real one.
 *
 * A loader is not thread-safe (libkmod contexts are not): one per thread, or serialise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader-backend.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Far above any real plan (btrfs: 8 modules); bounds the work a hostile tree can cause. */
#define PLAN_MAX 256
#define VISIT_DEPTH_MAX 32
#define DEPS_MAX 128
#define SOFT_MAX 16

struct pml_loader {
	const struct pml_modops *ops;
	void *be;
	pml_modname *keep;
	size_t n_keep, cap_keep;
};

int pml_loader_new_ops(const struct pml_modops *ops, void *be, struct pml_loader **ret)
{
	struct pml_loader *ld = calloc(1, sizeof(*ld));

	if (!ld) {
		ops->free(be);
		return -ENOMEM;
	}
	ld->ops = ops;
	ld->be = be;
	*ret = ld;
	return 0;
}

void pml_loader_free(struct pml_loader *ld)
{
	if (!ld)
		return;
	ld->ops->free(ld->be);
	free(ld->keep);
	free(ld);
}

const char *pml_loader_backend(const struct pml_loader *ld)
{
	return ld->ops->name;
}

bool pml_loader_is_kept(const struct pml_loader *ld, const char *name)
{
	char norm[64];

	if (pml_module_name_normalize(name, norm) < 0)
		return false;
	for (size_t i = 0; i < ld->n_keep; i++)
		if (!strcmp(ld->keep[i], norm))
			return true;
	return false;
}

int pml_loader_keep(struct pml_loader *ld, const char *name)
{
	char norm[64];
	int r = pml_module_name_normalize(name, norm);

	if (r < 0)
		return r;
	if (pml_loader_is_kept(ld, norm))
		return 0;
	if (ld->n_keep == ld->cap_keep) {
		size_t cap = ld->cap_keep ? ld->cap_keep * 2 : 64;
		pml_modname *k = realloc(ld->keep, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		ld->keep = k;
		ld->cap_keep = cap;
	}
	memcpy(ld->keep[ld->n_keep++], norm, sizeof(norm));
	return 0;
}

int pml_loader_list_loaded(struct pml_loader *ld, struct pml_loaded *mods, size_t max)
{
	return ld->ops->list_loaded(ld->be, mods, max);
}

int pml_loader_keep_loaded(struct pml_loader *ld)
{
	struct pml_loaded *mods = NULL;
	int n = pml_loader_list_loaded(ld, NULL, 0), added = 0;
	size_t cap;

	if (n <= 0)
		return n;
	/* The set may grow between the two calls: take what fits. */
	mods = calloc((size_t)n + 16, sizeof(*mods));
	if (!mods)
		return -ENOMEM;
	cap = (size_t)n + 16;
	n = pml_loader_list_loaded(ld, mods, cap);
	for (size_t i = 0; n > 0 && i < (size_t)n && i < cap; i++) {
		int r = pml_loader_keep(ld, mods[i].name);

		if (r < 0) {
			added = r;
			break;
		}
		added++;
	}
	free(mods);
	return added;
}

int pml_loader_refcnt(struct pml_loader *ld, const char *name)
{
	char norm[64];
	int refcnt = 0, r = pml_module_name_normalize(name, norm);

	if (r < 0)
		return -ENOENT;
	r = ld->ops->usage(ld->be, norm, &refcnt, NULL, 0);
	return r < 0 ? r : refcnt;
}

int pml_loader_resolve(struct pml_loader *ld, const char *alias, char (*names)[64],
		       size_t max)
{
	if (!alias || !*alias)
		return -EINVAL;
	return ld->ops->resolve(ld->be, alias, 0, names, max);
}

int pml_loader_memory_set_refcnt(struct pml_loader *ld, const char *name, int refcnt)
{
	char norm[64];

	if (!ld->ops->set_refcnt)
		return -EOPNOTSUPP;
	if (pml_module_name_normalize(name, norm) < 0)
		return -ENOENT;
	return ld->ops->set_refcnt(ld->be, norm, refcnt);
}

/* --- planning --------------------------------------------------------------------- */

struct plan {
	pml_modname names[PLAN_MAX];
	bool soft[PLAN_MAX];
	size_t n;
	pml_modname visiting[VISIT_DEPTH_MAX];
	size_t depth;
};

static int plan_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->names[i], name))
			return (int)i;
	return -1;
}

static bool plan_visiting(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->depth; i++)
		if (!strcmp(p->visiting[i], name))
			return true;
	return false;
}

static int plan_visit(struct pml_loader *ld, struct plan *p, const char *name, bool soft,
		      unsigned flags)
{
	pml_modname deps[DEPS_MAX], pre[SOFT_MAX], post[SOFT_MAX];
	size_t n_pre = 0, n_post = 0;
	int n_deps, r, at = plan_find(p, name);

	if (at >= 0) {
		/* Reached as a hard dependency after a softdep: its failure now matters. */
		if (!soft)
			p->soft[at] = false;
		return 0;
	}
	/* A softdep cycle (a pre: b, b pre: a) or a dependency loop in a broken tree. */
	if (plan_visiting(p, name) || p->depth >= VISIT_DEPTH_MAX)
		return 0;
	memcpy(p->visiting[p->depth++], name, sizeof(pml_modname));

	if (!(flags & PML_LOAD_IGNORE_SOFTDEPS)) {
		r = ld->ops->softdeps(ld->be, name, pre, &n_pre, post, &n_post, SOFT_MAX);
		if (r < 0 && r != -ENOENT)
			goto out;
	}
	for (size_t i = 0; i < n_pre; i++)
		if ((r = plan_visit(ld, p, pre[i], true, flags)) < 0)
			goto out;
	n_deps = ld->ops->deps(ld->be, name, deps, DEPS_MAX);
	if (n_deps < 0 && n_deps != -ENOENT) {
		r = n_deps;
		goto out;
	}
	for (int i = 0; i < n_deps && i < DEPS_MAX; i++)
		if ((r = plan_visit(ld, p, deps[i], soft, flags)) < 0)
			goto out;
	if (plan_find(p, name) < 0) {
		if (p->n >= PLAN_MAX) {
			r = -E2BIG;
			goto out;
		}
		memcpy(p->names[p->n], name, sizeof(pml_modname));
		p->soft[p->n++] = soft;
	}
	for (size_t i = 0; i < n_post; i++)
		if ((r = plan_visit(ld, p, post[i], true, flags)) < 0)
			goto out;
	r = 0;
out:
	p->depth--;
	return r;
}

static struct pml_mod_op *result_add(struct pml_op_result *ret, const char *name)
{
	struct pml_mod_op *op;

	if (!ret)
		return NULL;
	if (ret->n >= PML_MOD_OP_MAX) {
		ret->truncated = true;
		return NULL;
	}
	op = &ret->mods[ret->n++];
	memset(op, 0, sizeof(*op));
	snprintf(op->name, sizeof(op->name), "%s", name);
	op->bytes = -1;
	return op;
}

static struct pml_mod_op *result_find(struct pml_op_result *ret, const char *name)
{
	for (size_t i = 0; ret && i < ret->n; i++)
		if (!strcmp(ret->mods[i].name, name))
			return &ret->mods[i];
	return NULL;
}

static void result_reset(struct pml_op_result *ret)
{
	if (ret)
		memset(ret, 0, sizeof(*ret));
}

int64_t pml_loader_estimate_bytes(struct pml_loader *ld, const char *name)
{
	char norm[64];

	if (!ld->ops->estimate_bytes)
		return -EOPNOTSUPP;
	if (pml_module_name_normalize(name, norm) < 0)
		return -ENOENT;
	return ld->ops->estimate_bytes(ld->be, norm);
}

/* --- load ------------------------------------------------------------------------- */

/* Insert the modules of plan p in order (a failed softdep is ignored, a failed hard step
 * stops the plan). Returns 0 or the failing step's negative errno. */
static int execute_plan(struct pml_loader *ld, const struct plan *p, unsigned flags,
			struct pml_op_result *ret)
{
	int r = 0;

	for (size_t i = 0; i < p->n; i++) {
		const char *name = p->names[i];
		struct pml_mod_op *op, scratch;
		double sim_ms = -1;
		uint64_t t;
		int st = PML_MOD_ABSENT, e;

		/* A dependency shared with an earlier plan of the same alias: handled there. */
		op = result_find(ret, name);
		if (op && (op->done || op->err))
			continue;
		if (!op)
			op = result_add(ret, name);
		if (!op)
			op = &scratch;
		op->soft = p->soft[i];
		if (!(flags & PML_LOAD_PLAN_ALL)) {
			st = ld->ops->state(ld->be, name);
			if (st < 0 && st != -ENOENT)
				pml_dbg("loader: state of %s: %s", name, strerror(-st));
		}
		if (st == PML_MOD_LIVE || st == PML_MOD_BUILTIN)
			continue;
		if (flags & PML_LOAD_DRY_RUN) {
			op->done = true; /* would be inserted */
			continue;
		}
		t = pml_now_ns();
		e = ld->ops->insert(ld->be, name, &sim_ms);
		op->ms = sim_ms >= 0 ? sim_ms : pml_ns_to_ms(pml_now_ns() - t);
		if (e == -EEXIST) /* loaded by someone else meanwhile */
			continue;
		if (e < 0) {
			op->err = e;
			if (p->soft[i]) {
				pml_dbg("loader: softdep %s failed: %s (ignored)", name,
					strerror(-e));
				continue;
			}
			pml_info("loader: inserting %s failed: %s", name, strerror(-e));
			r = e;
			break;
		}
		op->done = true;
		op->bytes = ld->ops->bytes(ld->be, name);
		if (op->bytes < 0)
			op->bytes = -1;
	}
	return r;
}

int pml_loader_load(struct pml_loader *ld, const char *alias, unsigned flags,
		    struct pml_op_result *ret)
{
	pml_modname primary[16];
	struct plan *p;
	uint64_t t0 = pml_now_ns();
	int n, r = 0;

	result_reset(ret);
	if (!alias || !*alias)
		return -EINVAL;
	n = ld->ops->resolve(ld->be, alias, PML_RESOLVE_BLACKLIST, primary, 16);
	if (n <= 0) {
		if (ret)
			ret->total_ms = pml_ns_to_ms(pml_now_ns() - t0);
		return n < 0 ? n : -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (n == 1) {
		r = plan_visit(ld, p, primary[0], false, flags);
		if (r == 0)
			r = execute_plan(ld, p, flags, ret);
		goto out;
	}
	/* An alias several modules claim (net-pf-40: vmci, hv_sock, vsock_loopback): like
	 * modprobe, try each with its dependencies; a module that cannot load here (no such
	 * device) does not keep the others from loading. Success when one of them loaded. */
	{
		int first_err = 0, loaded = 0;

		for (int i = 0; i < n && i < 16; i++) {
			memset(p, 0, sizeof(*p));
			r = plan_visit(ld, p, primary[i], false, flags);
			if (r == 0)
				r = execute_plan(ld, p, flags, ret);
			if (r == 0)
				loaded++;
			else if (!first_err)
				first_err = r;
		}
		r = loaded ? 0 : first_err;
	}
out:
	free(p);
	if (ret)
		ret->total_ms = pml_ns_to_ms(pml_now_ns() - t0);
	return r;
}

/* --- unload ----------------------------------------------------------------------- */

static bool name_in(pml_modname *set, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(set[i], name))
			return true;
	return false;
}

/* Whether candidate can go now: loaded (not built in), refcount 0, and every holder is
 * already gone (in a dry run: in the would-be-removed set). */
static bool removable(struct pml_loader *ld, const char *name, pml_modname *gone,
		      size_t n_gone, bool dry)
{
	pml_modname holders[DEPS_MAX];
	int refcnt = 0, nh;

	if (pml_loader_is_kept(ld, name) || ld->ops->state(ld->be, name) != PML_MOD_LIVE)
		return false;
	nh = ld->ops->usage(ld->be, name, &refcnt, holders, DEPS_MAX);
	if (nh < 0 || nh > DEPS_MAX)
		return false;
	if (!dry)
		return refcnt == 0 && nh == 0;
	/* The kernel counts each holder in the refcount (ref_module): in a dry run, holders
	 * that would be gone by then no longer count. Other references (a crypto transform
	 * libcrc32c holds on crc32c) are not known until the real removal. */
	for (int i = 0; i < nh; i++) {
		if (!name_in(gone, n_gone, holders[i]))
			return false;
		refcnt--;
	}
	return refcnt <= 0;
}

int pml_loader_unload(struct pml_loader *ld, const char *name, unsigned flags,
		      struct pml_op_result *ret)
{
	bool dry = flags & PML_UNLOAD_DRY_RUN;
	pml_modname norm, *gone = NULL;
	struct plan *p = NULL;
	uint64_t t0 = pml_now_ns(), t;
	size_t n_gone = 0;
	double sim_ms = -1;
	int refcnt = 0, st, nh, r;
	struct pml_mod_op *op, scratch;

	result_reset(ret);
	if (!name || pml_module_name_normalize(name, norm) < 0)
		return -ENOENT;
	if (pml_loader_is_kept(ld, norm))
		return -EPERM;
	st = ld->ops->state(ld->be, norm);
	if (st == PML_MOD_BUILTIN)
		return -EPERM;
	if (st == PML_MOD_TRANSIENT)
		return -EBUSY;
	if (st != PML_MOD_LIVE)
		return st < 0 && st != -ENOENT ? st : -ENOENT;
	nh = ld->ops->usage(ld->be, norm, &refcnt, NULL, 0);
	if (nh < 0)
		return nh;
	if (refcnt != 0 || nh > 0)
		return -EBUSY;

	/* The candidates are computed before the removal: afterwards the module's own
	 * dependency data may still be readable (kmod) but must not be needed. */
	if (flags & PML_UNLOAD_DEPS) {
		p = calloc(1, sizeof(*p));
		gone = calloc(PLAN_MAX + 1, sizeof(*gone));
		if (!p || !gone) {
			r = -ENOMEM;
			goto out;
		}
		r = plan_visit(ld, p, norm, false, 0);
		if (r < 0)
			goto out;
	}

	op = result_add(ret, norm) ?: &scratch;
	if (dry) {
		op->done = true;
	} else {
		t = pml_now_ns();
		op->bytes = ld->ops->bytes(ld->be, norm);
		r = ld->ops->remove(ld->be, norm, &sim_ms);
		op->ms = sim_ms >= 0 ? sim_ms : pml_ns_to_ms(pml_now_ns() - t);
		if (r < 0) {
			op->err = r;
			op->bytes = -1;
			goto out;
		}
		op->done = true;
	}
	r = 0;
	if (!p)
		goto out;
	memcpy(gone[n_gone++], norm, sizeof(norm));

	/* Remove the unused ones, last loaded first, until a pass frees nothing more (taking
	 * libcrc32c away drops crc32c's refcount: the next pass can take crc32c). */
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t k = p->n; k-- > 0;) {
			const char *c = p->names[k];
			int e;

			if (name_in(gone, n_gone, c) || !removable(ld, c, gone, n_gone, dry))
				continue;
			op = result_add(ret, c) ?: &scratch;
			memcpy(gone[n_gone++], c, sizeof(pml_modname));
			progress = true;
			if (dry) {
				op->done = true;
				continue;
			}
			sim_ms = -1;
			t = pml_now_ns();
			op->bytes = ld->ops->bytes(ld->be, c);
			e = ld->ops->remove(ld->be, c, &sim_ms);
			op->ms = sim_ms >= 0 ? sim_ms : pml_ns_to_ms(pml_now_ns() - t);
			if (e < 0) {
				op->err = e;
				op->bytes = -1;
				pml_dbg("loader: removing unused %s failed: %s", c, strerror(-e));
			} else {
				op->done = true;
			}
		}
	}
out:
	free(p);
	free(gone);
	if (ret)
		ret->total_ms = pml_ns_to_ms(pml_now_ns() - t0);
	return r;
}
