/* The trace dataset: what the model learns from and is judged on (issue 5).
 *
 * A dataset is a directory:
 *   manifest.jsonl   one JSON object a line: a header, one line per run, a trailer
 *   traces/ID.trace  each run's trace (pml trace format; reactive policy)
 *   logs/ID.out      a failed run's output (the scenario's stdout and stderr)
 * The header line is {"magic":"pml-dataset","version":1,...} (with "shard":"I/N" when
 * the directory holds one shard of a collection, shard.h); the trailer is
 * {"end":"pml-dataset","runs":N,"crc32":"xxxxxxxx"}, the CRC32 of every byte before the
 * trailer line. The manifest is rewritten whole (temporary file, rename) after every boot,
 * so a killed collection leaves the last complete state and resumes from it. The ground
 * truth (each run's needs) is derived from its trace by needs.h whenever it is wanted
 * (`pml dataset needs`); the manifest keeps the count and the modules loaded.
 *
 * The split is part of the manifest, decided once when the dataset is created and kept
 * by every later collection into it: whole scenarios are held out (the held-out ones
 * never appear in training: the model is judged on jobs it has not seen), and of the other
 * scenarios some runs are held out too (jobs seen before, new parameters and noise). Each
 * run line says its split and whether its scenario is held out, so an evaluation can
 * report the two apart. A dataset made since issue 17 also holds out whole families
 * (every scenario of a few families: programs of a kind the model never saw), named in
 * the header's "heldout_families_test" and "heldout_families_val"; a manifest without
 * them holds out none. */
#ifndef PML_DATASET_DATASET_H
#define PML_DATASET_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_DATASET_MAGIC "pml-dataset"
#define PML_DATASET_VERSION 1
#define PML_DATASET_MANIFEST "manifest.jsonl"

enum pml_split {
	PML_SPLIT_TRAIN,
	PML_SPLIT_VAL,
	PML_SPLIT_TEST,
};

/* "train", "val", "test"; pml_split_parse() returns -EINVAL for anything else (and
 * accepts "validation"). */
const char *pml_split_name(enum pml_split s);
int pml_split_parse(const char *s, enum pml_split *ret);

enum pml_run_state {
	PML_RUN_OK,	  /* the scenario exited 0 and its trace is complete */
	PML_RUN_FAILED,	  /* it exited non-zero or timed out (logs/ID.out has why) */
	PML_RUN_LOST,	  /* the guest did not come back twice: no trace */
};

struct pml_ds_run {
	char id[96];	     /* "netdev/vxlan-overlay#0003": scenario and run index */
	char scenario[80];   /* "netdev/vxlan-overlay" (its script: workloads/<scenario>.sh) */
	char family[32];     /* "netdev" */
	uint32_t index;	     /* run number within the scenario */
	uint32_t seed;	     /* PML_SEED the scenario ran with */
	char params[256];    /* the drawn parameters, "name=value ..." */
	enum pml_run_state state;
	int status;	     /* the scenario's exit status (124: timed out), -1 when lost */
	enum pml_split split;
	bool heldout;	     /* its whole scenario is held out of training */
	char kernel[64];     /* guest kernel release */
	char trace[128];     /* relative to the dataset dir, "" when none */
	uint64_t trace_bytes;
	uint32_t trace_crc;  /* CRC32 of the trace file */
	uint64_t events;     /* records in the trace */
	uint64_t dropped;    /* records the tracer lost (ring buffer full) */
	uint32_t n_needs;
	char modules[1024];  /* modules the run loaded, space-separated, in load order */
	double guest_s;	     /* the scenario's guest time */
	uint32_t boot;	     /* which boot of the collection ran it */
};

struct pml_dataset {
	char dir[4096];
	uint32_t seed;	       /* the collection's seed: run seeds and the split derive from it */
	char kernel[64];       /* release of the first run */
	char created[32];      /* UTC, ISO 8601 */
	char heldout_test[512];	 /* held-out scenarios, space-separated */
	char heldout_val[512];
	char heldout_fam_test[256]; /* held-out families, space-separated ("" in older ones) */
	char heldout_fam_val[256];
	bool packed;	       /* traces packed (pack.h): only what the model and metrics read */
	char shard[24];	       /* "I/N" when collected as shard I of N (shard.h), else "" */
	struct pml_ds_run *runs;
	size_t n_runs, cap_runs;
};

/* A run's id into buf: "SCENARIO#NNNN" (the index in at least four digits). */
void pml_dataset_run_id(const char *scenario, uint32_t index, char *buf, size_t size);

/* The name of a run's files into buf: "FAMILY.NAME.NNNN" and ext (".trace" in traces/,
 * ".out" in logs/). */
void pml_dataset_run_file(const char *scenario, uint32_t index, const char *ext, char *buf,
			  size_t size);

/* A new, empty dataset for dir (nothing is written until pml_dataset_save()). NULL on
 * allocation failure. */
struct pml_dataset *pml_dataset_new(const char *dir, uint32_t seed);

/* Read dir/manifest.jsonl. Returns 0; -ENOENT when there is none; -EINVAL when it is not
 * a pml dataset (magic, or a bad header field); -EPROTONOSUPPORT for a newer version;
 * -EBADMSG when the trailer is missing or its checksum does not match, or a line is
 * malformed (logged with the file, line, run and field).
 *
 * The manifest is not trusted (its checksum is easily redone): a run whose trace is not
 * a confined relative path (util/safepath.h: absolute, "..") or whose scenario is not a
 * name under workloads/ is refused, and so is every number that is not an integer in
 * the range of its field (no 1e300, -1, nan or 23 digits; converted from the text, so
 * nothing is rounded either), every string longer than its field. */
int pml_dataset_open(const char *dir, struct pml_dataset **ret);
void pml_dataset_free(struct pml_dataset *ds);

/* Append a run (copied). A run with the id of an earlier one replaces it. 0 or -ENOMEM. */
int pml_dataset_add(struct pml_dataset *ds, const struct pml_ds_run *run);

/* The run with this id, NULL when none. */
const struct pml_ds_run *pml_dataset_find(const struct pml_dataset *ds, const char *id);

/* Write manifest.jsonl (temporary file, fsync, rename). 0 or -errno. */
int pml_dataset_save(const struct pml_dataset *ds);

/* Open a run's trace for reading, below the dataset directory and following no symbolic
 * link (pml_open_regular_beneath()). Returns the descriptor (the caller closes it);
 * -ENOENT when the run has none or the file is missing; -EINVAL when its entry is not a
 * confined path, -ELOOP when it or a directory on its way is a symbolic link, -EISDIR or
 * -EBADFD when it is not a regular file (these refusals are logged naming the manifest,
 * the run and the entry; pml_beneath_strerror() has words for them); open's -errno. */
int pml_dataset_trace_open(const struct pml_dataset *ds, const struct pml_ds_run *run);

/* The path of a run's trace into buf, for messages and for readers that take a path. Its
 * entry is checked as pml_dataset_trace_open() does, and refused with the same errors
 * (logged); a missing file is not an error here (the reader reports it). Such a reader
 * opens the path again by name, so a link made between the check and its open would be
 * followed: a reader that can take a descriptor uses pml_dataset_trace_open(). 0, or
 * -ENOENT when the run has none, -ENAMETOOLONG, the refusals. */
int pml_dataset_trace_path(const struct pml_dataset *ds, const struct pml_ds_run *run,
			   char *buf, size_t size);

/* Choose the held-out scenarios of a new dataset from the full list (family/name
 * strings): per family with at least three scenarios, one for test and, with at least
 * five, one more for validation, chosen by a hash of the seed and the name, so the choice
 * is stable across collections with the same seed and list. Writes ds->heldout_*. */
void pml_dataset_choose_heldout(struct pml_dataset *ds, const char *const *scenarios,
				size_t n);

/* Choose the held-out families from the same list (family/name strings): of the families
 * with at least three scenarios and at most an eighth of all (so that a held-out family
 * is never the bulk of the corpus), the two first by a hash of the seed and the family's
 * name for test and the next two for validation. Writes ds->heldout_fam_*. */
void pml_dataset_choose_heldout_families(struct pml_dataset *ds,
					 const char *const *scenarios, size_t n);

/* Whether family is held out whole: PML_HELD_FAMILY_TEST or _VAL, or PML_HELD_NONE. */
enum pml_held_family { PML_HELD_NONE, PML_HELD_FAMILY_TEST, PML_HELD_FAMILY_VAL };
enum pml_held_family pml_dataset_family_heldout(const struct pml_dataset *ds,
						const char *family);

/* The split of run index of scenario in ds (held-out families first, then held-out
 * scenarios; the others by a hash of the seed, scenario and index: about 15% test, 10%
 * validation). */
enum pml_split pml_dataset_split_of(const struct pml_dataset *ds, const char *scenario,
				    uint32_t index, bool *ret_heldout);

/* The seed of run index of scenario: a hash of the dataset seed, scenario and index. */
uint32_t pml_dataset_run_seed(const struct pml_dataset *ds, const char *scenario,
			      uint32_t index);

/* CRC32 (zlib's) of a whole file into ret, and its size. 0 or -errno. */
int pml_file_crc32(const char *path, uint32_t *ret_crc, uint64_t *ret_size);
/* The same from fd's offset to its end (fd is left open). */
int pml_fd_crc32(int fd, uint32_t *ret_crc, uint64_t *ret_size);

#endif
