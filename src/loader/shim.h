/* The modprobe shim's logic, as functions a test can call (pml-modprobe.c is the thin
 * command around them).
 *
 * The kernel runs /proc/sys/kernel/modprobe as `MODPROBE -q -- ALIAS` (kernel/kmod.c,
 * call_modprobe) with a minimal environment, once per request_module() a program causes:
 * the ALIAS comes from unprivileged programs (a socket family, a file system type given to
 * mount, an interface name), so it is checked before anything else. Programs also run
 * modprobe themselves (iptables, ebtables, ...): the simple forms are served here, the rest
 * go to the real modprobe.
 *
 * Serving a request: resolve through the loader, refuse what the policy file denies
 * (nothing is loaded; the program sees the kernel's usual error), load the rest, and write
 * to the decision log one `need` record (ms = the whole time the shim took, the stall it
 * added) plus one `load` record per module inserted, `deny`/`fail` records as they
 * happen. */
#ifndef PML_LOADER_SHIM_H
#define PML_LOADER_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"

struct pml_policy_file;

/* Longest alias served. The kernel's own requests are below MODULE_NAME_LEN (56). */
#define PML_SHIM_ALIAS_MAX 255
#define PML_SHIM_NAMES_MAX 16
#define PML_SHIM_EVENT_LOG_DEFAULT "/run/pml/events.jsonl"

enum pml_shim_mode {
	PML_SHIM_KERNEL, /* MODPROBE -q -- ALIAS: the kernel's request_module */
	PML_SHIM_LOAD,	 /* modprobe [-q] [-v] [-b] [-a] NAME...: served here */
	PML_SHIM_REMOVE, /* modprobe -r [-q] [-v] NAME...: served here */
	PML_SHIM_EXEC,	 /* anything else: exec the real modprobe with the same arguments */
};

struct pml_shim_args {
	enum pml_shim_mode mode;
	bool quiet, verbose, use_blacklist;
	size_t n_names;
	const char *names[PML_SHIM_NAMES_MAX]; /* point into argv */
	const char *exec_why;		       /* for PML_SHIM_EXEC: what was not simple */
};

/* Sort a command line (argv[0] is the program) into one of the modes. Never fails: what it
 * does not understand is PML_SHIM_EXEC. The names are not checked here (see
 * pml_shim_check_alias). */
void pml_shim_parse_args(int argc, char *const *argv, struct pml_shim_args *ret);

/* Whether alias may be served: 1..PML_SHIM_ALIAS_MAX bytes of [A-Za-z0-9_-:.,+=@()], not
 * starting with '-', no '/', no "..". Returns 0, -EINVAL or -ENAMETOOLONG; *why (may be
 * NULL) says which rule failed, in words. */
int pml_shim_check_alias(const char *alias, const char **why);

/* What a request needs besides the alias. */
struct pml_shim_env {
	struct pml_loader *ld;
	const struct pml_policy_file *policy; /* NULL: allow all */
	int log_fd;			      /* decision log (O_APPEND), <0: none */
	const char *source;		      /* "shim" (kernel), "shim-user" */
	uint64_t t_start_ns;		      /* CLOCK_MONOTONIC when the shim started */
	int pid;			      /* requesting process, 0 unknown */
	const char *comm;
	unsigned load_flags; /* added to the loader's flags (tests: none) */
};

/* What happened to a request. */
struct pml_shim_outcome {
	const char *result; /* "loaded", "present", "no-module", "denied", "error" */
	int err;	    /* the return value */
	char module[64];    /* the (first) module the alias resolved to, "" none */
	char reason[192];
	struct pml_op_result op; /* the modules handled by the load */
	double ms;		 /* as in the need record */
};

/* Serve one load request for alias. Returns 0 (loaded or present), -EINVAL/-ENAMETOOLONG
 * (alias refused, nothing looked up), -ENOENT (no module), -EPERM (denied by the policy:
 * nothing loaded), or the loader's error. Writes the records described above when
 * env->log_fd >= 0; out may be NULL. */
int pml_shim_serve(const struct pml_shim_env *env, const char *alias,
		   struct pml_shim_outcome *out);

/* Serve `modprobe -r NAME`: the module(s) NAME resolves to and their dependencies left
 * unused, never what the policy pins. Writes one `unload` record per module removed (or a
 * `fail` record). Returns 0 or the first error (-ENOENT not loaded, -EBUSY in use, -EPERM
 * pinned or built in). */
int pml_shim_remove(const struct pml_shim_env *env, const char *name,
		    struct pml_op_result *ret);

/* Add every loaded module that the policy pins to the loader's keep set. Returns the
 * number added or -errno. */
int pml_shim_apply_pins(struct pml_loader *ld, const struct pml_policy_file *policy);

/* modprobe's exit status for a pml_shim_serve/remove return value: 0 or 1. */
static inline int pml_shim_exit_status(int r)
{
	return r == 0 ? 0 : 1;
}

#endif
