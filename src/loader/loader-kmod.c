/* The libkmod backend of the loader (loader-backend.h): the real kernel.
 *
 * One kmod context per loader, its indexes loaded into memory once (kmod_load_resources),
 * so a request in a long-lived process costs index look-ups, not file parsing: an alias
 * that resolves to nothing ("netdev-eth7") is answered in microseconds. Modules are
 * inserted one at a time with kmod_module_insert_module (the loader walks the plan, so it
 * can time each step and knows which modules it inserted), each with the options the
 * modprobe.d configuration gives it. Install/remove commands of the configuration are not
 * run (logged): pml times modules, not shell commands. Removal is never forced.
 *
 * The module list comes from /proc/modules ("name size refcnt holders, state address"). */
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "loader/loader-backend.h"
#include "loader/modinfo.h"
#include "loader/unpinned.h"
#include "util/log.h"

struct kb {
	struct kmod_ctx *ctx;
};

static void kb_log(void *data, int priority, const char *file, int line, const char *fn,
		   const char *format, va_list args)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	pml_log(priority <= LOG_ERR ? PML_LOG_WARNING : PML_LOG_DEBUG, "libkmod: %s", msg);
}

static void kb_free(void *be)
{
	struct kb *k = be;

	if (!k)
		return;
	kmod_unref(k->ctx);
	free(k);
}

static int copy_names(struct kmod_list *list, pml_modname *names, size_t max)
{
	struct kmod_list *l;
	int n = 0;

	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);

		if ((size_t)n < max)
			snprintf(names[n], sizeof(pml_modname), "%s", kmod_module_get_name(m));
		n++;
		kmod_module_unref(m);
	}
	return n;
}

/* Whether list is just the module called alias (a request by name, not by alias). */
static bool is_own_name(struct kmod_list *list, const char *alias)
{
	struct kmod_module *m;
	pml_modname norm;
	bool same;

	if (pml_module_name_normalize(alias, norm) < 0 || kmod_list_next(list, list))
		return false;
	m = kmod_module_get_module(list);
	same = !strcmp(kmod_module_get_name(m), norm);
	kmod_module_unref(m);
	return same;
}

static int kb_resolve(void *be, const char *alias, unsigned flags, pml_modname *names,
		      size_t max)
{
	struct kb *k = be;
	struct kmod_list *list = NULL, *filtered = NULL;
	int r, n;

	r = kmod_module_new_from_lookup(k->ctx, alias, &list);
	if (r < 0)
		return r;
	/* modprobe drops blacklisted modules when they are reached through an alias (not when
	 * asked by their own name): KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY. */
	if ((flags & PML_RESOLVE_BLACKLIST) && list && !is_own_name(list, alias)) {
		r = kmod_module_apply_filter(k->ctx, KMOD_FILTER_BLACKLIST, list, &filtered);
		if (r == 0) {
			kmod_module_unref_list(list);
			list = filtered;
		}
	}
	n = copy_names(list, names, max);
	kmod_module_unref_list(list);
	return n;
}

static int kb_deps(void *be, const char *name, pml_modname *names, size_t max)
{
	struct kb *k = be;
	struct kmod_module *mod;
	struct kmod_list *deps;
	int r = kmod_module_new_from_name(k->ctx, name, &mod), n;

	if (r < 0)
		return r;
	/* libkmod keeps modules.dep's list reversed: load order, first to load first. */
	deps = kmod_module_get_dependencies(mod);
	n = copy_names(deps, names, max);
	kmod_module_unref_list(deps);
	kmod_module_unref(mod);
	return n;
}

static int kb_softdeps(void *be, const char *name, pml_modname *pre, size_t *n_pre,
		       pml_modname *post, size_t *n_post, size_t max)
{
	struct kb *k = be;
	struct kmod_module *mod;
	struct kmod_list *lpre = NULL, *lpost = NULL;
	int r = kmod_module_new_from_name(k->ctx, name, &mod), a, b;

	*n_pre = *n_post = 0;
	if (r < 0)
		return r;
	r = kmod_module_get_softdeps(mod, &lpre, &lpost);
	if (r == 0) {
		a = copy_names(lpre, pre, max);
		b = copy_names(lpost, post, max);
		*n_pre = (size_t)a < max ? (size_t)a : max;
		*n_post = (size_t)b < max ? (size_t)b : max;
	}
	kmod_module_unref_list(lpre);
	kmod_module_unref_list(lpost);
	kmod_module_unref(mod);
	return r;
}

static int kb_state(void *be, const char *name)
{
	struct kb *k = be;
	struct kmod_module *mod;
	int r = kmod_module_new_from_name(k->ctx, name, &mod);

	if (r < 0)
		return r;
	r = kmod_module_get_initstate(mod);
	kmod_module_unref(mod);
	switch (r) {
	case KMOD_MODULE_BUILTIN:
		return PML_MOD_BUILTIN;
	case KMOD_MODULE_LIVE:
		return PML_MOD_LIVE;
	case KMOD_MODULE_COMING:
	case KMOD_MODULE_GOING:
		return PML_MOD_TRANSIENT;
	default:
		return r == -ENOENT || r >= 0 ? PML_MOD_ABSENT : r;
	}
}

static int kb_usage(void *be, const char *name, int *refcnt, pml_modname *holders,
		    size_t max)
{
	struct kb *k = be;
	struct kmod_module *mod;
	struct kmod_list *h;
	int r = kmod_module_new_from_name(k->ctx, name, &mod), n;

	if (r < 0)
		return r;
	r = kmod_module_get_refcnt(mod);
	if (r < 0) {
		kmod_module_unref(mod);
		return r;
	}
	*refcnt = r;
	h = kmod_module_get_holders(mod);
	n = copy_names(h, holders, max);
	kmod_module_unref_list(h);
	kmod_module_unref(mod);
	return n;
}

static int kb_insert(void *be, const char *name, double *sim_ms)
{
	struct kb *k = be;
	struct kmod_module *mod;
	const char *cmd;
	int r = kmod_module_new_from_name(k->ctx, name, &mod);

	if (r < 0)
		return r;
	if (!kmod_module_get_path(mod)) {
		kmod_module_unref(mod);
		return -ENOENT;
	}
	cmd = kmod_module_get_install_commands(mod);
	if (cmd)
		pml_info("loader: %s: ignoring the install command '%s'", name, cmd);
	r = kmod_module_insert_module(mod, 0, kmod_module_get_options(mod));
	kmod_module_unref(mod);
	return r;
}

/* Refcount 0 does not mean unused for every module (unpinned.c): a module whose objects
 * may live on without a reference is kept (-EBUSY: seen; -EPERM: cannot tell). */
static int kb_remove(void *be, const char *name, double *sim_ms)
{
	struct kb *k = be;
	struct kmod_module *mod;
	char why[160];
	int r = kmod_module_new_from_name(k->ctx, name, &mod);

	if (r < 0)
		return r;
	r = pml_unpinned_check(kmod_module_get_name(mod), kmod_module_get_path(mod), why,
			       sizeof(why));
	if (r < 0) {
		pml_dbg("%s: not removed: %s", name, why);
		kmod_module_unref(mod);
		return r;
	}
	r = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	return r;
}

/* One line of /proc/modules into l; false when it is not one. */
static bool parse_proc_line(char *line, struct pml_loaded *l)
{
	char name[64], holders[4096], state[16];
	long long size;
	int refcnt;

	if (sscanf(line, "%63s %lld %d %4095s %15s", name, &size, &refcnt, holders, state) < 4)
		return false;
	memset(l, 0, sizeof(*l));
	memcpy(l->name, name, sizeof(l->name));
	l->bytes = size;
	l->refcnt = refcnt;
	if (strcmp(holders, "-"))
		for (char *c = holders; *c; c++)
			l->n_holders += *c == ',';
	return true;
}

int pml_proc_modules_parse(const char *text, struct pml_loaded *mods, size_t max)
{
	int n = 0;

	while (text && *text) {
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);
		char line[8192];
		struct pml_loaded tmp;

		if (len < sizeof(line)) {
			memcpy(line, text, len);
			line[len] = '\0';
			if (parse_proc_line(line, (size_t)n < max ? &mods[n] : &tmp))
				n++;
		}
		text += len + (eol ? 1 : 0);
	}
	return n;
}

static int kb_list_loaded(void *be, struct pml_loaded *mods, size_t max)
{
	FILE *f = fopen("/proc/modules", "re");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct pml_loaded tmp;

		if (parse_proc_line(line, (size_t)n < max ? &mods[n] : &tmp))
			n++;
	}
	free(line);
	fclose(f);
	return n;
}

static int64_t kb_bytes(void *be, const char *name)
{
	FILE *f = fopen("/proc/modules", "re");
	char *line = NULL;
	size_t cap = 0, len = strlen(name);
	int64_t r = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct pml_loaded l;

		if (strncmp(line, name, len) || line[len] != ' ')
			continue;
		if (parse_proc_line(line, &l))
			r = l.bytes;
		break;
	}
	free(line);
	fclose(f);
	return r;
}

/* Before a load the only size at hand is the .ko file's. Resident size grows slower than
 * the file (about file^0.76 on the 6.1.0-56 calibration, data/costs-*.jsonl) except for
 * tiny modules, whose text, data and per-module structures fill at least four pages: the
 * file plus 8 KiB, and 16 KiB at least, was above the measured size of all 80 calibrated
 * modules (median 1.7x above). An upper estimate keeps a budget a budget. */
static int64_t kb_estimate_bytes(void *be, const char *name)
{
	struct kb *k = be;
	struct kmod_module *mod;
	const char *path;
	struct stat st;
	int64_t r;
	int e = kmod_module_new_from_name(k->ctx, name, &mod);

	if (e < 0)
		return e;
	path = kmod_module_get_path(mod);
	if (!path)
		r = -ENOENT; /* not in modules.dep: built in, or no such module */
	else if (stat(path, &st) < 0)
		r = -errno;
	else
		r = ((int64_t)st.st_size + 8192 + 4095) / 4096 * 4096;
	if (r >= 0 && r < 16384)
		r = 16384;
	kmod_module_unref(mod);
	return r;
}

static const struct pml_modops kmod_ops = {
	.name = "kmod",
	.free = kb_free,
	.resolve = kb_resolve,
	.deps = kb_deps,
	.softdeps = kb_softdeps,
	.state = kb_state,
	.usage = kb_usage,
	.insert = kb_insert,
	.remove = kb_remove,
	.list_loaded = kb_list_loaded,
	.bytes = kb_bytes,
	.estimate_bytes = kb_estimate_bytes,
};

int pml_loader_new_kmod(const char *moddir, struct pml_loader **ret)
{
	return pml_loader_new_kmod_flags(moddir, 0, ret);
}

int pml_loader_new_kmod_flags(const char *moddir, unsigned flags, struct pml_loader **ret)
{
	struct kb *k;
	struct stat st;
	int r;

	if (moddir && (stat(moddir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return -ENOENT;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ctx = kmod_new(moddir, NULL);
	if (!k->ctx) {
		free(k);
		return -ENOMEM;
	}
	kmod_set_log_fn(k->ctx, kb_log, NULL);
	kmod_set_log_priority(k->ctx, LOG_ERR);
	if (!moddir && (stat(kmod_get_dirname(k->ctx), &st) < 0 || !S_ISDIR(st.st_mode))) {
		kb_free(k);
		return -ENOENT;
	}
	/* Without its indexes mapped libkmod opens and reads the index files on every
	 * look-up: the loader's whole point is to avoid that, so a tree without them is an
	 * error. A second loader in the same process (pmld's load worker, a few look-ups per
	 * load) reads them per look-up instead: mapped twice, their pages count twice in the
	 * process's RSS. */
	if (flags & PML_LOADER_KMOD_FILE_INDEXES) {
		struct stat dep;
		char path[4200];

		snprintf(path, sizeof(path), "%s/modules.dep.bin", kmod_get_dirname(k->ctx));
		if (stat(path, &dep) < 0) {
			r = -errno;
			pml_err("loader: %s: %s (run depmod)", path, strerror(-r));
			kb_free(k);
			return r;
		}
		return pml_loader_new_ops(&kmod_ops, k, ret);
	}
	r = kmod_load_resources(k->ctx);
	if (r < 0) {
		pml_err("loader: %s: cannot load the module indexes (run depmod): %s",
			kmod_get_dirname(k->ctx), strerror(-r));
		kb_free(k);
		return r;
	}
	return pml_loader_new_ops(&kmod_ops, k, ret);
}
