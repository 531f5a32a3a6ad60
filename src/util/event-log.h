/* The decision log: one JSON object per line (JSONL), appended by every pml process in the
 * guest (the modprobe shim, pmld) to one file and brought back to the host for the report.
 *
 * Each record is written with a single write(2) on an O_APPEND descriptor, so concurrent
 * writers never interleave within a line. Times are CLOCK_MONOTONIC ns of the guest.
 * The schema is documented in doc/decision-log.md; keep the two in step. */
#ifndef PML_UTIL_EVENT_LOG_H
#define PML_UTIL_EVENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a record says happened. */
enum pml_event_kind {
	PML_EV_REQUEST, /* the kernel asked for an alias (module_request tracepoint) */
	PML_EV_NEED,	/* the shim served a request_module: result, stall time */
	PML_EV_LOAD,	/* a module was inserted (by the shim on a miss, or by pmld) */
	PML_EV_UNLOAD,	/* a module was removed */
	PML_EV_DENY,	/* policy refused a module */
	PML_EV_FAIL,	/* a load or unload failed */
	PML_EV_BASE,	/* a module of the base set, present at start */
	PML_EV_INFO,	/* anything else worth a line: agent start/stop, policy */
	PML_EV__COUNT,
};

struct pml_event_rec {
	uint64_t t_ns;
	enum pml_event_kind kind;
	const char *module;	/* NULL when none */
	const char *alias;	/* the requested alias, NULL when none */
	const char *reason;	/* why, in words ("miss: net-pf-10-proto-132", "idle 5.0 s") */
	const char *source;	/* "shim", "pmld", "tracefs" */
	const char *result;	/* need: "loaded", "present", "no-module", "denied", "error" */
	int64_t bytes;		/* resident bytes of the module, -1 unknown */
	double ms;		/* duration of the operation (stall for a need), <0 unknown */
	double confidence;	/* predictor confidence behind a decision, <0 none */
	int pid;		/* requesting process, 0 unknown */
	const char *comm;
	int err;		/* negative errno for fail/need error, 0 otherwise */
};

/* A record with every optional field marked unknown. */
void pml_event_rec_init(struct pml_event_rec *rec, enum pml_event_kind kind);
const char *pml_event_kind_name(enum pml_event_kind kind);
/* Returns the kind for a name, or -EINVAL. */
int pml_event_kind_from_name(const char *name);

/* Format rec as one JSON line (with '\n') into buf. Returns the length, or -ENOSPC. */
int pml_event_rec_format(const struct pml_event_rec *rec, char *buf, size_t size);
/* Append rec to the log at fd (opened O_APPEND) in one write. Returns 0 or -errno. */
int pml_event_log_append(int fd, const struct pml_event_rec *rec);
/* Open (create) a log for appending; returns fd or -errno. */
int pml_event_log_open(const char *path);

#endif
