/* What comes back from the guest: the output disk (a plain tar the guest wrote onto a raw
 * virtio disk) unpacked into a fresh directory on the host, with every byte of it treated
 * as hostile. results.c opens with the threat model and the rules; this header is what
 * everything above it sees.
 *
 * The known top-level files land in DEST under their own names (DEST/status, DEST/stdout,
 * ...), each a regular file capped in size; the job's /work/out (the guest's work-out.tar)
 * lands in DEST/out as regular files, directories and symlinks that stay inside out/.
 * Nothing else is created, and nothing outside DEST is ever touched. */
#ifndef PML_VM_RESULTS_H
#define PML_VM_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The limits (results.c says why each is what it is). */
#define PML_RESULTS_SMALL_MAX (4ull << 10)	 /* status, start, end, the markers */
#define PML_RESULTS_TEXT_MAX (1ull << 20)	 /* base.txt, modules.end, pmld.out */
#define PML_RESULTS_STDIO_MAX (16ull << 20)	 /* stdout, stderr, each */
#define PML_RESULTS_EVENTS_MAX (64ull << 20)	 /* events.jsonl */
#define PML_RESULTS_TRACE_MAX (512ull << 20)	 /* trace.bin */
#define PML_RESULTS_OUT_BYTES_MAX (1ull << 30)	 /* all of /work/out's file bytes */
#define PML_RESULTS_OUT_ENTRIES_MAX 10000	 /* /work/out's entries (all kinds) */
#define PML_RESULTS_PATH_MAX 1024		 /* an out/ path or symlink target, bytes */
#define PML_RESULTS_DEPTH_MAX 32		 /* an out/ path's components */
#define PML_RESULTS_ENTRIES_MAX 256		 /* entries of the outer archive */
#define PML_RESULTS_SECONDS_MAX 30		 /* wall time of the whole unpack */

/* The files the host takes from the top level of the disk, one slot each: what
 * guest/guest-init writes (keep the two in step; a name not here is refused). */
enum pml_results_name {
	PML_RESULTS_STATUS,	 /* the command's exit status ("0\n") */
	PML_RESULTS_START,	 /* /proc/uptime when the command started */
	PML_RESULTS_END,	 /* /proc/uptime when it ended */
	PML_RESULTS_STDOUT,
	PML_RESULTS_STDERR,
	PML_RESULTS_EVENTS,	 /* events.jsonl, the decision log */
	PML_RESULTS_BASE,	 /* base.txt */
	PML_RESULTS_PMLD_OUT,	 /* pmld.out */
	PML_RESULTS_PMLD_STATUS, /* pmld's exit status */
	PML_RESULTS_MODULES_END, /* modules.end, /proc/modules at the end */
	PML_RESULTS_TRACE,	 /* trace.bin */
	PML_RESULTS_PMLD_START,	 /* pmld.start: "ready" or "failed" */
	PML_RESULTS_TIMED_OUT,	 /* timed-out: marker, the command hit its time limit */
	PML_RESULTS_WATCHDOG,	 /* watchdog: marker, the command could not be stopped */
	PML_RESULTS_SPACE,	 /* space: KiB left on the guest's /run at the end */
	PML_RESULTS__N,
};

struct pml_results_file {
	bool present;	/* written into DEST under its name */
	bool truncated; /* the guest sent more than the cap; the rest was dropped */
	uint64_t bytes; /* bytes kept */
};

struct pml_results {
	struct pml_results_file file[PML_RESULTS__N];
	/* DEST/out, from the guest's work-out.tar. */
	bool out_present;
	bool out_truncated;	/* a cap (bytes, entries) stopped it early */
	uint64_t out_bytes;	/* file bytes written under out/ */
	size_t out_files, out_dirs, out_symlinks;
	/* Parsed and range-checked from the small files; -1 when absent or malformed. */
	int status;		/* 0-255 */
	int pmld_status;	/* 0-255 */
	double start_s, end_s;	/* guest uptime, seconds, 0 to 1e9 */
	int64_t space_kib;	/* 0 to 2^40 */
	/* What was not taken, and why. */
	size_t refused;		/* entries not taken: unknown names, duplicates, links (hard,
				   or symbolic out of out/ or at the top level), devices,
				   FIFOs, bad paths (.., absolute, control characters, too
				   long or deep), paths through a symlink */
	size_t setid_dropped;	/* setuid/setgid/sticky bits removed from what was kept */
	bool archive_damaged;	/* the outer or inner archive ended in an error or was cut */
	bool timed_out;		/* PML_RESULTS_SECONDS_MAX passed: what was read is kept */
	char first_refusal[256]; /* the first refused entry and why, printable ASCII only */
};

/* The name of a slot as it is on the disk and in DEST ("stdout", "events.jsonl"). */
const char *pml_results_name(enum pml_results_name n);
/* Its byte cap. */
uint64_t pml_results_cap(enum pml_results_name n);

/* Unpack the output disk DISK_IMAGE (a regular file; a symlink is refused) into DEST_DIR,
 * which this creates with mode 0700 and must not exist. Reads the tar with libarchive in
 * this process (tar formats only, no compression filters). A damaged, cut or garbage disk
 * is not an error: what could be read is kept and ret says what happened (an all-zero
 * disk yields no files; the caller checks ret->status). On a host failure DEST_DIR is
 * left with whatever was written so far: the caller removes it.
 * Returns 0 and writes ret; -EEXIST when DEST_DIR exists; -ENOENT, -ELOOP (a symlink),
 * -EINVAL (not a regular file) or another -errno for DISK_IMAGE; -ENOMEM; -ENOSPC, -EIO
 * or another -errno when the host could not write a file. */
int pml_results_unpack(const char *disk_image, const char *dest_dir,
		       struct pml_results *ret);

#endif
