/* The run report's record store, shared by its reader (run-report.c), its metrics
 * (run-report-metrics.c) and its printers (run-report-print.c). Internal to src/run/. */
#ifndef PML_RUN_RUN_REPORT_PRIV_H
#define PML_RUN_RUN_REPORT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/run-report.h"

#define NO_ID UINT32_MAX
#define PREF_DEPS_MAX 16 /* dependencies of one prefetch whose time is parted with it */
#define STRING_CHUNK (1u << 20)

/* Strings of the kept records, in chunks freed together. */
struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

struct modstate {
	bool loaded, base;
	bool known;	 /* a record said whether it is loaded */
	bool used_ahead; /* count_prefetches(): a use follows before the next unload */
	uint64_t pref_t; /* prefetch_exposure(): a prefetch's load, not yet used (0: none) */
	/* ... or a dependency's load for the prefetch of module pref_for (NO_ID: itself a
	 * prefetch), which went unused (pref_orphan: it counts as unused to its own end) */
	uint32_t pref_for;
	bool pref_orphan;
	uint32_t deps[PREF_DEPS_MAX]; /* the dependencies loaded for it, pending */
	unsigned n_deps;
	int64_t bytes;	 /* best known resident size, -1 unknown */
	size_t change;	 /* index of the record that made the current state */
};

struct pml_report {
	struct pml_report_event *ev;
	uint32_t *mod_id, *alias_id; /* per record: dense ids of its module and alias */
	uint32_t *for_id;	     /* per record: the id of the module it was loaded for */
	size_t n, cap;
	size_t malformed, dropped;
	size_t malformed_line, dropped_line; /* the first of each */
	const char *malformed_why;
	unsigned cut; /* CUT_* bits: the caps the log went past */
	struct chunk *strings;
	size_t string_bytes;
	uint64_t win_start, win_end; /* as set by the caller, 0: default */
	struct modstate *mods;
	size_t n_mods;
	size_t *last_request; /* per alias: the latest request walked past, SIZE_MAX none */
	bool *alias_denied;   /* per alias: a need with result "denied" */
	size_t n_aliases;
	struct pml_report_warning *warn;
	size_t n_warn;
	struct pml_report_summary sum;
};

/* ---- run-report-metrics.c ---- */

/* Whether the record's result is result. */
bool report_result_is(const struct pml_report_event *e, const char *result);
/* Every figure of rep->sum from the records (read, sorted and numbered), within the
 * window; marks the duplicates. */
void report_analyse(struct pml_report *rep);

#endif
