/* Merging datasets (issue 17): the shards of a collection (`pml collect --shard I/N` on
 * several hosts), or any datasets of the same collection, joined into a new one.
 *
 * The inputs must be of one collection: the same seed (runs' seeds and the split derive
 * from it), the same held-out scenarios, the same kernel where a manifest records one,
 * all packed or none. A run is taken once: found in two inputs with the same manifest line
 * it is kept once; a lost run of one input recorded (ok or failed) by another is taken
 * from the one that recorded it, as collect's resume would redo it; any other difference
 * is a conflict and nothing is written. Every trace is checked against its manifest line
 * as it is copied (verify.h: size, CRC32, an ok run's needs), read below its dataset
 * following no link. Logs come along: a run's log from the input its run is taken from,
 * any other (boot-N.console) under its own name, or NAME~K (K the input's position from 1;
 * NAME~K.2 ... when that is taken too) when an earlier input's file of that name differs.
 *
 * OUT is written atomically: a temporary directory beside it, renamed to OUT at the end
 * (never over an existing OUT); on any failure it is removed and OUT does not exist. The
 * merged manifest lists the runs by scenario and index, whatever the order of the
 * inputs; its "created" is the earliest input's, and it records no shard. */
#ifndef PML_DATASET_MERGE_H
#define PML_DATASET_MERGE_H

#include <stddef.h>
#include <stdint.h>

struct pml_merge_stats {
	size_t inputs;
	size_t runs, ok, failed, lost;	/* in the merged dataset */
	size_t duplicates;		/* runs found identical in two inputs: kept once */
	size_t superseded;		/* lost runs of one input that another recorded */
	size_t traces, logs;		/* files copied */
	uint64_t trace_bytes;
	uint32_t seed;
	char kernel[64];
	uint32_t shard_count;		/* N when every input is a shard of N, else 0 */
	size_t shards_missing;		/* then: how many of the N were not given */
	char missing[256];		/* and which, "2/4 4/4" (cut with "..." when long) */
	size_t resplit_moved;		/* PML_MERGE_RESPLIT: runs whose split changed */
};

/* pml_dataset_merge()'s flags. PML_MERGE_RESPLIT: the inputs may hold out different
 * scenarios (collections of different parts of the corpus, e.g. a dataset of new families
 * beside an older one, collected with one seed); the split is chosen again over every
 * scenario the inputs hold (held-out scenarios and families, dataset.h) and every run's
 * split and held-out mark are derived from it, as a collection of the whole would have.
 * A run's split moves only where the larger corpus chose differently (a family now held out
 * whole); the merged manifest says so in the stats (resplit_moved). */
#define PML_MERGE_RESPLIT 1u

/* Called after each run's trace is copied: done of total runs. */
typedef void (*pml_merge_progress_fn)(void *data, size_t done, size_t total);

/* Merge the n datasets in dirs into a new dataset out. Returns 0 and the stats; -EEXIST
 * when out exists; -ENOENT when an input has no manifest; the reader's refusals of an
 * input's manifest (-EINVAL, -EBADMSG, -EPROTONOSUPPORT: logged with its file and line);
 * -EXDEV when the inputs are not of one collection (seed, held-out scenarios unless
 * PML_MERGE_RESPLIT, kernel, packed); -EBADMSG for a run in two inputs with different lines, two runs with one
 * trace file, a trace outside traces/, or a trace that does not match its line (verify.h:
 * size, CRC32, an ok run's needs; a missing file is -ENOENT); the open's refusals of a trace
 * (-ELOOP, ...); -ENOMEM; an I/O error's -errno. Every refusal is logged naming the
 * manifest or file and the run. progress may be NULL. */
int pml_dataset_merge(const char *const *dirs, size_t n, const char *out, unsigned flags,
		      pml_merge_progress_fn progress, void *data,
		      struct pml_merge_stats *ret);

#endif
