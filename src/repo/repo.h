/* The module repository: what a kernel module tree holds, as one catalog.
 *
 * A tree (/lib/modules/REL: the .ko files plus depmod's modules.dep, modules.alias,
 * modules.softdep and modules.builtin) is indexed once through libkmod into an SQLite
 * catalog: per module its file, size, description, license, aliases, hard dependencies
 * (the closure, in load order), soft dependencies (pre/post, resolved to module names) and
 * the costs a calibration run measured in the guest (resident bytes after load, load and
 * unload ms; unknown until then). Reading the catalog is then a few index look-ups instead
 * of parsing 4000 ELF files.
 *
 * The catalog file starts with SQLite's header, carries pml's application id and a `meta`
 * table (magic "pml-catalog", schema version, release, module tree and a fingerprint of the
 * tree's index files). Opening checks the fingerprint and rebuilds when the tree changed,
 * into a temporary file renamed over the old one, so a reader never sees a half-written
 * catalog; measured costs of modules that still exist are carried over. A file that is not
 * a pml catalog is refused, except at the default path in pml's cache, which only pml
 * writes.
 *
 * Alias resolution (modprobe -R) goes through libkmod's binary indexes of the same tree,
 * whose context the repo keeps open: each answer costs index look-ups, also when the alias
 * resolves to no module (about 1 us on the 6.1 tree).
 *
 * A struct pml_repo is not thread-safe: one per thread, or a lock around it. */
#ifndef PML_REPO_REPO_H
#define PML_REPO_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pml_repo;

#define PML_CATALOG_MAGIC "pml-catalog"
#define PML_CATALOG_VERSION 1

enum pml_repo_flags {
	PML_REPO_REBUILD = 1 << 0,  /* rebuild even when the catalog is current */
	PML_REPO_NO_BUILD = 1 << 1, /* never build: -ESTALE when missing or out of date */
};

/* One module of the catalog. Built-in modules (modules.builtin) are listed too: no file,
 * nothing to load. Lists are in the catalog's order: deps in load order (a dependency
 * before the modules needing it), softdeps as modprobe would load them. */
struct pml_module_info {
	char *name;	   /* the kernel's name: '_', never '-' */
	char *path;	   /* absolute path of the .ko; NULL for a built-in module (or one
			      whose catalog entry leads outside the module tree) */
	bool builtin;
	int64_t file_bytes; /* size of the .ko file; 0 for a built-in module */
	char *description; /* NULL when the module has none */
	char *license;	   /* NULL when the module has none */
	char **aliases;
	size_t n_aliases;
	char **deps; /* hard dependencies, the whole closure */
	size_t n_deps;
	char **softdeps_pre; /* loaded before the module (modules.softdep "pre:") */
	size_t n_softdeps_pre;
	char **softdeps_post;
	size_t n_softdeps_post;
	int64_t resident_bytes; /* measured size in memory after load; -1 unknown */
	double load_ms;		/* measured insert time; < 0 unknown */
	double unload_ms;	/* measured remove time; < 0 unknown */
};

/* Open the catalog of the module tree moddir (e.g. /lib/modules/REL; its last component
 * is taken as the release), building or rebuilding it as needed (logged at info level,
 * with the time it took). catalog_path NULL means CACHE/catalog-REL.sqlite
 * (pml_cache_dir()). Returns 0, -ENOENT when moddir or its modules.dep is missing,
 * -EBADMSG when catalog_path holds something that is not a pml catalog (refused, not
 * overwritten), -EPROTONOSUPPORT when it was written by a newer pml, -ESTALE with
 * PML_REPO_NO_BUILD when it would need a build, -ENOMEM, or another -errno from the file
 * system or SQLite (-EIO). Free with pml_repo_free(). */
int pml_repo_open(const char *moddir, const char *catalog_path, unsigned flags,
		  struct pml_repo **ret);
void pml_repo_free(struct pml_repo *repo);

/* Facts about an open repo; the strings live as long as the repo. */
const char *pml_repo_release(const struct pml_repo *repo);
const char *pml_repo_moddir(const struct pml_repo *repo);
const char *pml_repo_catalog_path(const struct pml_repo *repo);
/* Number of modules in the catalog (built-in ones included). */
size_t pml_repo_count(const struct pml_repo *repo);
/* Whether pml_repo_open() (re)built the catalog, and how long that took (ms; 0 if not). */
bool pml_repo_rebuilt(const struct pml_repo *repo);
double pml_repo_build_ms(const struct pml_repo *repo);

/* Look up a module by name; '-' and '_' are the same, as for the kernel. On success
 * *ret is a new record the caller frees with pml_module_info_free(). Returns 0, -ENOENT
 * when there is no such module, -EINVAL for an empty or overlong name, -ENOMEM, -EIO. */
int pml_repo_get(struct pml_repo *repo, const char *name, struct pml_module_info **ret);
void pml_module_info_free(struct pml_module_info *info);

/* Resolve an alias (or a module name) to module names as `modprobe -R` does (aliases
 * with wildcards, built-in modules, no modprobe.d configuration). On success *ret_names
 * is a NULL-terminated array the caller frees with pml_repo_names_free(); 0 names is a valid
 * answer (the alias resolves to no module). Returns the number of names, -EINVAL for an
 * empty or malformed alias, -ENOMEM, or a -errno from libkmod. */
int pml_repo_resolve_alias(struct pml_repo *repo, const char *alias, char ***ret_names,
			   size_t *ret_n);
void pml_repo_names_free(char **names);
/* The same into a fixed array, in the shape of a policy's resolver
 * (pml_policy_config.resolve_fn; the repo as data, NULL: nothing resolves): up to max
 * names, their count, or a -errno of pml_repo_resolve_alias(). */
int pml_repo_resolve_fn(void *repo, const char *alias, char (*names)[64], size_t max);

/* The modules `modprobe NAME` would insert, in order, each once: for every hard
 * dependency and then NAME itself, its softdeps "pre" (each with its own load order), the
 * module, its softdeps "post" (libkmod's probe list). E.g. sctp -> crc32c_intel
 * crc32c_generic libcrc32c udp_tunnel ip6_udp_tunnel sctp. Built-in modules are left out
 * (nothing to insert). name may be an alias resolving to one or more modules, whose
 * orders are concatenated. On success *ret_names is a NULL-terminated array (free with
 * pml_repo_names_free()); returns the count, -ENOENT when name is neither a module nor an
 * alias of one, -EINVAL, -ENOMEM, -EIO. */
int pml_repo_load_order(struct pml_repo *repo, const char *name, char ***ret_names,
			size_t *ret_n);

/* Call fn for every module in name order; info is borrowed for the call. A non-zero return
 * from fn stops the walk and is returned. Returns 0, fn's value, or -ENOMEM/-EIO. */
typedef int (*pml_repo_foreach_fn)(const struct pml_module_info *info, void *data);
int pml_repo_foreach(struct pml_repo *repo, pml_repo_foreach_fn fn, void *data);

/* All module names, sorted, as a NULL-terminated array (free with pml_repo_names_free()).
 * Returns the count or -ENOMEM/-EIO. */
int pml_repo_list(struct pml_repo *repo, char ***ret_names, size_t *ret_n);

/* Record measured costs of a module; a negative value leaves the stored one as it is (so
 * a calibration that measured only the load time keeps an earlier size). Returns 0,
 * -ENOENT for an unknown module, -EINVAL for a NaN or infinite time, -EIO. */
int pml_repo_set_costs(struct pml_repo *repo, const char *name, int64_t resident_bytes,
		       double load_ms, double unload_ms);

/* Import a calibration log: JSONL, one object per line,
 * {"module":"sctp","bytes":N,"load_ms":x,"unload_ms":y} (bytes/load_ms/unload_ms each
 * optional; empty lines and lines starting with '#' skipped). A decision log (util/
 * event-log.h) is read too: its "load" lines give bytes and load ms ("ms"), its "unload"
 * lines unload ms, other events are skipped. A later line for the same module overrides
 * the values it carries. All or nothing: one bad
 * line (logged as "FILE:LINE: why") and nothing is imported. Lines naming a module the
 * catalog does not have are skipped with a warning (a calibration of another ABI). Returns
 * the number of lines applied, -ENOENT when the file is missing, -EINVAL for a bad line,
 * -EIO. */
int pml_repo_import_costs(struct pml_repo *repo, const char *jsonl_path);

/* The size of a set of modules, e.g. the base set: *ret_file_bytes sums their files,
 * *ret_resident_bytes their measured resident sizes, or -1 when any is not measured.
 * Either output may be NULL. Returns 0 or -ENOENT when a name is not in the catalog. */
int pml_repo_set_size(struct pml_repo *repo, char *const *names, size_t n,
		      int64_t *ret_file_bytes, int64_t *ret_resident_bytes);

#endif
