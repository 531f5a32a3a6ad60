/* The run report: reads a decision log (JSONL, doc/decision-log.md) back on the host and
 * turns it into what `pml run` prints: a table of what happened to the module set and the
 * totals of DESIGN.md's metrics (stalls, stall time, peak and time-averaged module memory),
 * as text for people or as one JSON object for programs.
 *
 * The log comes from a guest that may have crashed mid-write: a line that does not parse is
 * counted and skipped, never fatal. Two writers may record the same change (the shim its
 * load, pmld the kernel's module_load seen through tracefs): the report keeps one record
 * per change of a module's state and marks the other as a duplicate. */
#ifndef PML_AGENT_REPORT_H
#define PML_AGENT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/event-log.h"

/* One record of the log, decoded. Strings are owned by the report (NULL when absent). */
struct pml_report_event {
	uint64_t t_ns;
	enum pml_event_kind kind;
	char *module, *alias, *result, *reason, *source, *comm;
	int64_t bytes;	   /* -1 unknown */
	double ms;	   /* -1 unknown */
	double confidence; /* -1 none */
	int pid;	   /* 0 unknown; for a need, joined from its request when absent */
	int err;	   /* negative errno, 0 none */
	bool pid_joined;   /* pid/comm came from the matching request record */
	bool duplicate;	   /* a second record of a change already counted */
	size_t line;	   /* 1-based line in the log */
};

struct pml_report_summary {
	size_t records;	  /* well-formed records */
	size_t malformed; /* lines skipped */
	size_t duplicates;
	size_t base_modules;
	int64_t base_bytes;
	size_t loads, unloads, fails;
	size_t requests;  /* module_request seen by the kernel */
	size_t needs;	  /* requests served by the shim */
	size_t stalls;	  /* needs whose result was "loaded": a miss that had to load */
	double stall_ms;  /* sum of their ms */
	double stall_max_ms;
	size_t present;	  /* needs already satisfied when served */
	size_t no_module; /* needs that resolved to no module */
	size_t denied;	  /* needs denied, plus deny records without such a need */
	size_t need_errors;
	/* Module memory of non-base modules over [t_start_ns, t_end_ns]. */
	uint64_t t_start_ns, t_end_ns;
	int64_t peak_bytes;
	double avg_bytes;	/* byte_seconds / duration; the bytes at start if duration 0 */
	double byte_seconds;
	int64_t end_bytes;	/* non-base bytes still loaded at the end */
	/* The agent's own cost, from its closing info record (-1 unknown). */
	double agent_cpu_ms;
	int64_t agent_maxrss_bytes;
	/* Prefetches: loads by pmld whose reason starts "prediction", and those of them never
	 * used (no need for the module and no "used:" record of pmld's before its unload or
	 * the log's end): DESIGN.md's wasted loads. */
	size_t predicted_loads;
	size_t wasted;
};

struct pml_report;

/* Read the log at path. Returns 0, -errno when it cannot be opened (-ENOENT) or read,
 * -ENOMEM. An empty log is a valid, empty report. The window defaults to the first and last
 * record times. Free with pml_report_free(). */
int pml_report_load(const char *log_path, struct pml_report **ret);
/* The same from an open stream (read to its end, not closed). */
int pml_report_load_file(FILE *f, struct pml_report **ret);
void pml_report_free(struct pml_report *rep);

/* Set the run's window (CLOCK_MONOTONIC ns of the guest: when the user's command started
 * and ended) and recompute the memory figures over it. 0 for either keeps the default
 * (first / last record). Returns 0, -EINVAL when end < start. */
int pml_report_set_window(struct pml_report *rep, uint64_t t_start_ns, uint64_t t_end_ns);

const struct pml_report_summary *pml_report_summary(const struct pml_report *rep);
size_t pml_report_n_events(const struct pml_report *rep);
/* Events in time order (stable for equal times), NULL past the end. */
const struct pml_report_event *pml_report_event(const struct pml_report *rep, size_t i);

/* The human summary: base set, a table (time since start, event, module, bytes, ms,
 * reason) of loads, unloads, needs, denials and failures, then the totals. */
void pml_report_print_text(const struct pml_report *rep, FILE *f);

/* Extra top-level members the caller adds to the JSON object (e.g. the command, the
 * policy). Values are strings; NULL-terminated by a NULL key. */
struct pml_report_kv {
	const char *key;
	const char *value;
};

/* One JSON object (pretty-printed when pretty): {"base": {"modules": [...], "count",
 * "bytes"}, "events": [...], "summary": {...}, "exit_status": N, extra...}. The schema is in
 * doc/decision-log.md. extra may be NULL. */
void pml_report_print_json(const struct pml_report *rep, FILE *f, int exit_status,
			   const struct pml_report_kv *extra, bool pretty);

#endif
