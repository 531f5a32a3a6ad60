/* The run report: reads a decision log (JSONL, doc/decision-log.md) back on the host and
 * turns it into what `pml run` prints: a table of what happened to the module set and the
 * totals of DESIGN.md's metrics (stalls, stall time, peak and time-averaged module memory),
 * as text for people or as one JSON object for programs.
 *
 * Threat model. The log is written inside the guest, which runs untrusted code: every byte
 * of it may be chosen by an attacker who wants the host to believe a forged result, to
 * spend the host's CPU and memory, or to reach the terminal or the program reading the
 * report. So the report
 *  - decodes each record with the log's one parser (pml_event_rec_parse(), event-log.h)
 *    into typed, range-checked fields: a record with a member of the wrong type, out of
 *    its range, not one its kind carries, or of another log version is malformed as a
 *    whole, counted and never shown nor counted as a fact (members the log format does not
 *    define are ignored; a member given twice makes the record malformed); every figure
 *    comes from a record's kind and typed fields, never from its reason's words;
 *  - reads lines of at most PML_REPORT_MAX_LINE bytes (a longer line, or one with a NUL
 *    byte, is malformed) and keeps at most PML_REPORT_MAX_RECORDS records,
 *    PML_REPORT_MAX_MODULES distinct modules and PML_REPORT_MAX_STRING_BYTES of strings;
 *    the well-formed records past those caps are counted as dropped and the report says
 *    the log was cut ("log-cut");
 *  - derives every figure in O(n log n) time in the number of records;
 *  - writes JSON that is valid whatever the strings hold, and text in which no guest
 *    string can reach the terminal as a control sequence (pml_text_escape()).
 * A guest can still write well-formed, in-range lies (a load that never happened); the
 * report makes them no bigger than the ranges allow, and says so through its warnings
 * when it knows (pmld died, the log was cut).
 *
 * The log may also come from a guest that crashed mid-write: a line that does not parse is
 * counted as malformed and skipped, never fatal. Two writers may record the same change
 * (the shim its load, pmld the kernel's module_load seen through tracefs): the report keeps
 * one record per change of a module's state and marks the other as a duplicate. */
#ifndef PML_RUN_REPORT_H
#define PML_RUN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/event-log.h"

/* What the reader keeps. Each line is one record, parsed by pml_event_rec_parse() (its
 * limits on every member are in util/event-log.h). */
#define PML_REPORT_MAX_LINE (64 * 1024)	       /* bytes per line, '\n' excluded */
#define PML_REPORT_MAX_RECORDS 1000000	       /* records kept */
#define PML_REPORT_MAX_MODULES 65536	       /* distinct module names */
#define PML_REPORT_MAX_STRING_BYTES (128u << 20) /* decoded strings kept, all records */
#define PML_REPORT_MAX_T_NS PML_EVENT_MAX_T_NS  /* the window's ends */
#define PML_REPORT_MAX_WARNINGS 64
#define PML_REPORT_MAX_WARNING_TEXT 1024

/* One record of the log, decoded (the members of struct pml_event_rec, read by kind and
 * typed field: see event-log.h). Strings are owned by the report (NULL when absent). */
struct pml_report_event {
	uint64_t t_ns;
	enum pml_event_kind kind;
	char *module, *alias, *result, *reason, *source, *comm, *refusal, *policy;
	char *for_module;  /* a dependency's load: the module it was loaded for, NULL */
	int64_t bytes;	   /* -1 unknown */
	double ms;	   /* -1 unknown */
	double confidence; /* -1 none */
	int pid;	   /* 0 unknown; for a need, joined from its request when absent */
	int err;	   /* negative errno, 0 none */
	enum pml_event_cause cause;	/* load, unload, fail */
	enum pml_event_verdict verdict; /* resource */
	double priority;		/* resource, -1 unknown */
	enum pml_event_via via;		/* used */
	enum pml_event_basis basis;	/* load, fail of cause prefetch */
	double worker_ms;		/* stop, -1 unknown */
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
	/* The agent's own cost, from its stop record (-1 unknown). */
	double agent_cpu_ms;
	int64_t agent_maxrss_bytes;
	/* Prefetches: loads by pmld of cause prefetch, and those of them never used (no need
	 * for the module and no used record of pmld's before its unload or the log's end):
	 * DESIGN.md's wasted loads. */
	size_t predicted_loads;
	size_t wasted;
	/* ... parted by what each rests on (the load record's basis; NONE: not said): the
	 * model's own prefetches and their precision apart from the rules' */
	size_t predicted_by[PML_BASIS__COUNT], wasted_by[PML_BASIS__COUNT];
	/* Exposure of prefetches: module-seconds (within the window) each of them spent
	 * loaded before its first use (a need of it, or a use pmld saw), or until its unload
	 * or the end when never used. Live sees when a use begins, not when it ends: a used
	 * module is not counted after, so this is what prediction adds, not replay's
	 * exposure of everything loaded and idle. */
	double prefetch_exposure_s;
	/* The same in byte-seconds, parted by how it ended (issue 18's honest live
	 * footprint; replay's "before the first use" and "never used"): of prefetches then
	 * used, and of those never used. The rest of byte_seconds is what needs and uses
	 * kept loaded, and dependencies. */
	double prefetch_early_byte_s, prefetch_unused_byte_s;
	/* Well-formed records not kept because the log went past a cap (the figures stop
	 * where the kept records do). Not counted in records nor malformed. */
	size_t dropped;
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
 * (first / last record). Returns 0, -EINVAL when end < start, -ERANGE when either is past
 * PML_REPORT_MAX_T_NS; the window is then unchanged. */
int pml_report_set_window(struct pml_report *rep, uint64_t t_start_ns, uint64_t t_end_ns);
/* The same from seconds as the guest reports them (start, and the command's duration),
 * checked before any conversion: -ERANGE when either is not finite, negative or past
 * PML_REPORT_MAX_T_NS once added. */
int pml_report_set_window_s(struct pml_report *rep, double start_s, double duration_s);

const struct pml_report_summary *pml_report_summary(const struct pml_report *rep);
size_t pml_report_n_events(const struct pml_report *rep);
/* Events in time order (stable for equal times), NULL past the end. */
const struct pml_report_event *pml_report_event(const struct pml_report *rep, size_t i);

/* Warnings: what the numbers do not say by themselves. The caller adds what it knows
 * (codes in use: "pmld-died", "log-truncated", "guest-out-of-space", "output-truncated",
 * "policy"); the report adds "malformed-records" when lines were skipped and "log-cut"
 * when records were dropped past a cap. code is a short stable identifier, 1..32 of
 * [a-z0-9-]; the text (printf-style, cut to PML_REPORT_MAX_WARNING_TEXT bytes) says what
 * happened and what it means for the figures, and may hold guest text (it is escaped when
 * printed). Returns 0, -EINVAL on a bad code, -ENOSPC past PML_REPORT_MAX_WARNINGS,
 * -ENOMEM. */
int pml_report_add_warning(struct pml_report *rep, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct pml_report_warning {
	const char *code;
	const char *text;
};

size_t pml_report_n_warnings(const struct pml_report *rep);
/* In the order added, NULL past the end; owned by the report. */
const struct pml_report_warning *pml_report_warning(const struct pml_report *rep, size_t i);

/* The human summary: base set, a table (time since start, event, module, bytes, ms,
 * reason) of loads, unloads, needs, denials and failures, the totals, then the warnings
 * ("warnings:", one "warning: CODE: TEXT" line each). Every guest string is rendered
 * through pml_text_escape(). */
void pml_report_print_text(const struct pml_report *rep, FILE *f);

/* Extra top-level members the caller adds to the JSON object (e.g. the command, the
 * policy); an array ended by a NULL key. An initializer that sets only key and value is a
 * string, as before. */
enum pml_report_kv_type {
	PML_KV_STRING = 0, /* value NUL-terminated; NULL writes null */
	PML_KV_BYTES,	   /* len bytes at value (a program's output): a JSON string when
			    * valid UTF-8 (NUL bytes as \u0000), else base64 with a sibling
			    * member "<key>_encoding": "base64" */
	PML_KV_BOOL,	   /* value "true" or "false"; anything else writes null */
	PML_KV_RAW_NUMBER, /* value a JSON number literal, written as is; null when it is
			    * not one or not finite */
};

struct pml_report_kv {
	const char *key;
	const char *value;
	size_t len; /* PML_KV_BYTES only */
	enum pml_report_kv_type type;
};

/* One JSON object (pretty-printed when pretty): {"base": {"modules": [...], "count",
 * "bytes"}, "events": [...], "loads", "unloads", "summary": {...}, "warnings": [{"code",
 * "text"}...], "exit_status": N, extra...}. The schema is in doc/decision-log.md. extra may
 * be NULL. The output is valid JSON (RFC 8259, UTF-8) whatever the log held. */
void pml_report_print_json(const struct pml_report *rep, FILE *f, int exit_status,
			   const struct pml_report_kv *extra, bool pretty);

#endif
