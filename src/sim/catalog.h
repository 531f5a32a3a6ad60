/* The replay's view of the module catalog: for every module a replay touches, what its load
 * costs (resident bytes, load ms) and what a load of it inserts (its load order: hard
 * dependencies and softdeps, then the module), plus the base set (the modules the
 * guest has before the program starts: never loaded, never counted).
 *
 * Costs come, first found wins, from:
 *  1. measured figures given to the catalog (pml_sim_catalog_import_costs: the calibration
 *     file data/costs-REL.jsonl, 80 modules measured in the guest by `pml calibrate`);
 *  2. measured figures stored in the repo's catalog (resident bytes, load ms);
 *  3. an estimate from the .ko file size (repo), fitted on the measured modules: resident
 *     bytes by a power law (log bytes = a + b log file bytes; on the 80 measured of
 *     6.1.0-56, b = 0.76 with a residual spread of about x1.4) and load ms by a straight
 *     line in file KiB (13 ms + 0.16 ms/KiB: init work does not grow with the file the way
 *     copying does, but the biggest modules are the slow ones: btrfs, sctp); see
 *     pml_sim_catalog_fit();
 *  4. defaults (the resource manager's: 64 KiB, 50 ms) for a module unknown to the repo.
 * Each module says which source it got (pml_sim_mod.src) so a report can say how much of a
 * result rests on estimates.
 *
 * The catalog works without a repo (tests, a machine without the kernel tree): modules are
 * then described by pml_sim_catalog_add() and unknown ones get the defaults and no
 * dependencies. A catalog is not thread-safe (lookups fill it lazily from the repo). */
#ifndef PML_SIM_CATALOG_H
#define PML_SIM_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pml_repo;

#define PML_SIM_DEFAULT_BYTES (64 * 1024)
#define PML_SIM_DEFAULT_LOAD_MS 50.0

enum pml_sim_cost_src {
	PML_SIM_COST_MEASURED,	/* given (calibration file, a test) */
	PML_SIM_COST_CATALOG,	/* measured, stored in the repo's catalog */
	PML_SIM_COST_ESTIMATED, /* from the .ko file size */
	PML_SIM_COST_DEFAULT,	/* nothing known */
};

/* "measured", "catalog", "estimated", "default". */
const char *pml_sim_cost_src_name(enum pml_sim_cost_src s);

struct pml_sim_mod {
	char name[64];	    /* normalised ('_') */
	int64_t bytes;	    /* resident bytes once loaded */
	double load_ms;	    /* insert time */
	enum pml_sim_cost_src src;
	int64_t file_bytes; /* the .ko's size, -1 unknown */
	bool builtin;	    /* built into the kernel: nothing to load, always there */
	/* pmld never removes it: objects of its class (a key type's keys, a conntrack
	 * helper's connections ...) may outlive a reference, and cannot be looked for
	 * (loader/unpinned.h); replay's unloads of it are refused as live */
	bool kept;
	/* What a load inserts, in order, the module itself included (after its hard
	 * dependencies and "pre" softdeps, before its "post" softdeps); base modules
	 * included: the replay leaves them out. */
	char (*order)[64];
	size_t n_order;
};

struct pml_sim_catalog;

/* A catalog backed by repo (borrowed, may be NULL; must outlive the catalog). Returns 0 or
 * -ENOMEM. */
int pml_sim_catalog_new(struct pml_repo *repo, struct pml_sim_catalog **ret);
void pml_sim_catalog_free(struct pml_sim_catalog *cat);

/* Describe a module by hand: its costs (measured) and its dependencies in load order
 * (deps may be NULL with n_deps 0). Replaces an earlier description. Returns 0, -EINVAL for
 * an empty or overlong name, -ENOMEM. */
int pml_sim_catalog_add(struct pml_sim_catalog *cat, const char *name, int64_t bytes,
			double load_ms, const char *const *deps, size_t n_deps);

/* Set a module's measured costs, keeping its dependencies (from the repo when it has
 * them); bytes <0 / load_ms <0 keep that figure's other source. 0, -EINVAL, -ENOMEM. */
int pml_sim_catalog_set_costs(struct pml_sim_catalog *cat, const char *name, int64_t bytes,
			      double load_ms);

/* Read a calibration file: JSONL lines {"module":M,"bytes":N,"load_ms":X,...}; '#' lines
 * and empty lines are skipped, a later line for a module overrides an earlier one. Returns
 * the number of modules set, -errno of fopen, -EINVAL for a malformed line (logged with
 * its line number; lines before it stay applied), -ENOMEM. */
int pml_sim_catalog_import_costs(struct pml_sim_catalog *cat, const char *path);

/* Fit the file-size estimate (see the top) on the modules with measured costs whose file
 * size the repo knows, and re-estimate every module that uses it. With fewer than 8 such
 * modules the built-in coefficients (fitted on data/costs-6.1.0-56-amd64.jsonl) stay.
 * Returns the number of modules the fit used. */
int pml_sim_catalog_fit(struct pml_sim_catalog *cat);

/* The fitted coefficients: bytes = exp(a) * file^b, load_ms = c + d * file KiB. */
void pml_sim_catalog_coefficients(const struct pml_sim_catalog *cat, double *a, double *b,
				  double *c, double *d);

/* The module name (or a name the repo resolves as an alias to one module) as the catalog
 * knows it, created on first use. NULL on allocation failure or an empty/overlong name.
 * The pointer stays valid until the catalog is freed. */
const struct pml_sim_mod *pml_sim_catalog_get(struct pml_sim_catalog *cat, const char *name);

/* Mark name kept (pml_sim_mod.kept): replay refuses its unloads, as pmld does. 0 or
 * -ENOENT (not in the catalog). */
int pml_sim_catalog_set_kept(struct pml_sim_catalog *cat, const char *name, bool kept);

/* The base set: the modules named and their load orders (e.g. virtio_mmio, virtio_blk,
 * ext4: what the guest's initramfs inserts). Adds to the set. Returns 0 or -ENOMEM. */
int pml_sim_catalog_add_base(struct pml_sim_catalog *cat, const char *const *names, size_t n);
bool pml_sim_catalog_is_base(const struct pml_sim_catalog *cat, const char *name);
/* The base set's names in the order added (borrowed). */
size_t pml_sim_catalog_base(struct pml_sim_catalog *cat, const char *const **ret);

/* A cost callback for struct pml_policy_config (cost_data: the catalog): 0 always (a
 * module unknown gets the defaults). */
int pml_sim_catalog_cost(void *cat, const char *module, int64_t *ret_bytes,
			 double *ret_load_ms);

/* Counts of the modules looked up so far by source of their costs (array of 4). */
void pml_sim_catalog_sources(const struct pml_sim_catalog *cat, size_t counts[4]);

#endif
