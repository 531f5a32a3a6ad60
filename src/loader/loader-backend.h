/* The loader's backend seam (kmod's testsuite idea, as a vtable): struct pml_modops holds
 * the few per-module operations a kernel offers -- resolve an alias, read a module's
 * dependencies and softdeps, ask its state and users, insert or remove one module. The
 * loader (loader.c) builds everything else on top of them once: the load plan (softdeps
 * pre, dependencies, the module, softdeps post), timing, the keep set, unloading the
 * dependencies left unused. So the libkmod backend (loader-kmod.c) and the in-memory one
 * (loader-memory.c) differ only where the kernel differs, and the unit tests of the memory
 * backend exercise the same planning code the real loads use.
 *
 * Internal to src/loader/: callers use loader.h. */
#ifndef PML_LOADER_BACKEND_H
#define PML_LOADER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"

typedef char pml_modname[64];

/* A module's state as the kernel reports it. */
enum pml_mod_state {
	PML_MOD_ABSENT = 0,  /* not loaded */
	PML_MOD_LIVE = 1,    /* loaded */
	PML_MOD_BUILTIN = 2, /* built into the kernel image */
	/* Being inserted or removed by someone else (COMING, GOING): a load inserts anyway
	 * (the kernel waits for the other insert, then says -EEXIST), an unload is -EBUSY. */
	PML_MOD_TRANSIENT = 3,
};

enum pml_resolve_flags {
	/* Drop modules that a 'blacklist' line names when the request was an alias (modprobe
	 * does this for every load; a name asked explicitly is still loaded). */
	PML_RESOLVE_BLACKLIST = 1 << 0,
};

struct pml_modops {
	const char *name;
	void (*free)(void *be);
	/* Module names an alias (or a name) resolves to; count (0: none) or -errno. At most
	 * max are written, the count may be larger. */
	int (*resolve)(void *be, const char *alias, unsigned flags, pml_modname *names,
		       size_t max);
	/* The hard dependencies of module name in load order (first to load first): the
	 * reverse of its modules.dep line. Count or -errno (-ENOENT: no such module). */
	int (*deps)(void *be, const char *name, pml_modname *names, size_t max);
	/* Its softdeps, already resolved to module names. Returns 0 or -errno and writes the
	 * counts of pre and post (each at most max). */
	int (*softdeps)(void *be, const char *name, pml_modname *pre, size_t *n_pre,
			pml_modname *post, size_t *n_post, size_t max);
	/* An enum pml_mod_state, or -errno. */
	int (*state)(void *be, const char *name);
	/* Refcount and holders (modules using it) of a loaded module. Returns the number of
	 * holders (at most max written) or -errno (-ENOENT: not loaded). */
	int (*usage)(void *be, const char *name, int *refcnt, pml_modname *holders,
		     size_t max);
	/* Insert one module (its dependencies are loaded already), with the options the
	 * configuration gives it. 0, -EEXIST when already loaded, or -errno. *sim_ms may be
	 * set to a simulated duration (replay); it is <0 on entry. */
	int (*insert)(void *be, const char *name, double *sim_ms);
	/* Remove one module, never forced. 0 or -errno (-EBUSY, -EAGAIN in use). */
	int (*remove)(void *be, const char *name, double *sim_ms);
	/* Loaded modules, as pml_loader_list_loaded. */
	int (*list_loaded)(void *be, struct pml_loaded *mods, size_t max);
	/* Resident bytes of a loaded module, or -errno. */
	int64_t (*bytes)(void *be, const char *name);
	/* Optional: an upper estimate of a module's resident bytes before it is loaded, or
	 * -errno (-ENOENT: no such module). */
	int64_t (*estimate_bytes)(void *be, const char *name);
	/* Optional: test hook, see pml_loader_memory_set_refcnt. */
	int (*set_refcnt)(void *be, const char *name, int refcnt);
};

/* Wrap a backend into a loader (takes ownership of be: ops->free(be) on failure too).
 * Returns 0 or -ENOMEM. */
int pml_loader_new_ops(const struct pml_modops *ops, void *be, struct pml_loader **ret);

#endif
