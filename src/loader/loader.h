/* The loader: the kernel side of pml. Loads and unloads modules through a backend (the real
 * one is libkmod; an in-memory one serves policy and replay tests), dependencies and softdeps
 * first, never unloads a module whose refcount is not 0, and times every operation.
 *
 * A loader keeps its libkmod context and indexes in memory: in a long-lived process (pmld)
 * each request costs index look-ups, not file parsing. Requests that resolve to no module
 * (the kernel asks "netdev-<ifname>" for every unknown interface name) are answered from the
 * index without a load. */
#ifndef PML_LOADER_LOADER_H
#define PML_LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/modname.h"

struct pml_loader;

enum pml_load_flags {
	PML_LOAD_DRY_RUN = 1 << 0,	 /* resolve and plan, insert nothing */
	PML_LOAD_IGNORE_SOFTDEPS = 1 << 1,
	/* Plan as if nothing were loaded: for a module tree that is not the running kernel's
	 * (the host planning for the guest). Use with PML_LOAD_DRY_RUN. */
	PML_LOAD_PLAN_ALL = 1 << 2,
};

enum pml_unload_flags {
	PML_UNLOAD_DEPS = 1 << 0,	 /* also remove dependencies left unused */
	PML_UNLOAD_DRY_RUN = 1 << 1,
};

/* One module touched by an operation. */
struct pml_mod_op {
	char name[64];
	bool done;	   /* inserted / removed by this operation (false: already so) */
	bool soft;	   /* reached only through a softdep: its failure does not fail the load */
	int err;	   /* 0 or negative errno of this module's step */
	double ms;	   /* time of this module's insert/remove */
	int64_t bytes;	   /* resident size from /proc/modules after load, -1 unknown */
};

#define PML_MOD_OP_MAX 32

/* The outcome of a load or unload: the modules in the order they were handled
 * (dependencies first for a load, the module first for an unload). */
struct pml_op_result {
	size_t n;
	struct pml_mod_op mods[PML_MOD_OP_MAX];
	double total_ms;
	bool truncated;	   /* more modules were handled than mods[] holds */
};

/* Create a loader on the real kernel through libkmod. moddir: the module tree
 * (NULL: /lib/modules/`uname -r`). Returns 0, or -errno (-ENOENT: no such tree). */
int pml_loader_new_kmod(const char *moddir, struct pml_loader **ret);
enum pml_loader_kmod_flags {
	/* Read libkmod's index files per look-up instead of mapping them: for a second
	 * loader in one process (pmld's load worker), whose mapped copies would count twice
	 * in the process's RSS. */
	PML_LOADER_KMOD_FILE_INDEXES = 1 << 0,
};
int pml_loader_new_kmod_flags(const char *moddir, unsigned flags, struct pml_loader **ret);

/* An in-memory kernel for tests and replay: modules described by lines of "name: dep1 dep2"
 * (modules.dep's form: dependencies listed last-loaded first; "kernel/x/name.ko" paths are
 * accepted) with optional lines:
 *   alias ALIAS name          (ALIAS may be a glob, as in modules.alias)
 *   size name BYTES           (resident bytes once loaded; default 4096)
 *   softdep name pre: a b post: c   (as in modules.softdep; a, b, c may be aliases)
 *   options name TEXT         (recorded, not interpreted)
 *   loaded name [REFCNT]      (loaded at start, e.g. the base set)
 *   builtin name              (built into the kernel: always present, never removable)
 *   fail name ERRNO [N]       (every insert of name fails with -ERRNO, e.g. "fail x 19";
 *                              with N, the next N only)
 *   cost name LOAD_MS [UNLOAD_MS]  (reported instead of the measured time: replay)
 * and '#' comments (the text of a fixture file). Returns 0, -EINVAL on a bad line (logged
 * with its line number), -ENOMEM. */
int pml_loader_new_memory(const char *description, struct pml_loader **ret);

void pml_loader_free(struct pml_loader *ld);

/* Resolve an alias (or a module name) to module names, as modprobe -R does.
 * Writes up to max names into names[] (each up to 64 bytes) and returns how many matched
 * (0: resolves to no module), or -errno. */
int pml_loader_resolve(struct pml_loader *ld, const char *alias, char (*names)[64],
		       size_t max);

/* Load the module(s) an alias or name resolves to, dependencies first.
 * Returns 0 (also when already loaded: every mods[].done is false), -ENOENT when the alias
 * resolves to no module, or the first negative errno of a failed insert (ret still lists
 * what was done before it). ret may be NULL. */
int pml_loader_load(struct pml_loader *ld, const char *alias, unsigned flags,
		    struct pml_op_result *ret);

/* Unload a module by name. Returns 0, -EBUSY when its refcount is not 0 or another module
 * holds it (nothing is removed), -ENOENT when not loaded, -EPERM when it is built in or in
 * the keep set. With PML_UNLOAD_DEPS, the dependencies and softdeps it pulled in are removed
 * too when nothing uses them any more (refcount 0, no holders, not kept); their failures are
 * listed in ret but do not fail the call. ret may be NULL. */
int pml_loader_unload(struct pml_loader *ld, const char *name, unsigned flags,
		      struct pml_op_result *ret);

/* A loaded module as /proc/modules shows it. */
struct pml_loaded {
	char name[64];
	int64_t bytes;
	int refcnt;
	int n_holders;
};

/* Fill up to max entries; returns the count of loaded modules (may exceed max), or -errno
 * (kmod backend: -ENOENT when the kernel has no /proc/modules, i.e. no module support). */
int pml_loader_list_loaded(struct pml_loader *ld, struct pml_loaded *mods, size_t max);

/* Parse the text of /proc/modules ("name size refcnt holder,holder, state address"); the
 * same contract as pml_loader_list_loaded. Lines that do not parse are skipped. */
int pml_proc_modules_parse(const char *text, struct pml_loaded *mods, size_t max);

/* Refcount of a loaded module, -ENOENT if not loaded. */
int pml_loader_refcnt(struct pml_loader *ld, const char *name);

/* An upper estimate of module name's resident bytes before it is loaded (the libkmod
 * backend: from its .ko file), or -errno (-ENOENT: no such module, -EOPNOTSUPP: the backend
 * cannot tell). */
int64_t pml_loader_estimate_bytes(struct pml_loader *ld, const char *name);

/* The keep set: modules the loader never removes, neither asked by name (-EPERM) nor as an
 * unused dependency (the base set, the policy file's pins). pml_loader_keep adds one name
 * ('-' and '_' equivalent); pml_loader_keep_loaded adds every module loaded now (call it at
 * start to pin the base set). Return 0 / the count added, or -ENOMEM. */
int pml_loader_keep(struct pml_loader *ld, const char *name);
int pml_loader_keep_loaded(struct pml_loader *ld);
bool pml_loader_is_kept(const struct pml_loader *ld, const char *name);

/* The backend's name: "kmod" or "memory". */
const char *pml_loader_backend(const struct pml_loader *ld);

/* Test hook of the in-memory backend: set a loaded module's refcount (a user holding it).
 * Returns 0, -ENOENT when not loaded, -EOPNOTSUPP on another backend. */
int pml_loader_memory_set_refcnt(struct pml_loader *ld, const char *name, int refcnt);

#endif
