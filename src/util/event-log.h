/* The decision log: one JSON object per line (JSONL), appended by every pml process in the
 * guest (the modprobe shim, pmld; guest-init once) to one file and brought back to the host
 * for the run report.
 *
 * A record is typed: its kind (`event`) says what happened, and the members the readers act
 * on are fields with a fixed vocabulary (a load's `cause`, a resource decision's `verdict`,
 * a use's `via`, the stop record's `ms` and `bytes`), never words to match. The `reason`
 * is carried beside them for people (the report shows it) and no reader parses it.
 *
 * This file is the one writer (pml_event_rec_format) and the one parser
 * (pml_event_rec_parse) of a record; the schema is doc/decision-log.md, keep the three in
 * step. Every record carries the log's version (`"v":2`); a record of another version, or
 * without one (the prose log before it), is refused by the parser with a message that says
 * so. The log is produced and read back in the same `pml run` (the guest's binaries and
 * guest-init are part of the ready snapshot's key), so no older version is read.
 *
 * The parser takes what a hostile guest wrote: it reads one line of bounded length into
 * typed, range-checked fields (the limits below) and refuses the whole record when a member
 * is of the wrong type, out of range, given twice, or not one its kind carries; members the
 * format does not define are ignored.
 *
 * Each record is written with a single write(2) on an O_APPEND descriptor, so concurrent
 * writers never interleave within a line. Times are CLOCK_MONOTONIC ns of the guest. */
#ifndef PML_UTIL_EVENT_LOG_H
#define PML_UTIL_EVENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_EVENT_LOG_VERSION 2

/* What the parser accepts. Integers are JSON integer literals (digits only: no sign,
 * fraction or exponent); ms, worker_ms, priority and confidence any finite JSON number in
 * range. Strings hold no NUL byte; other bytes (control characters, invalid UTF-8) are kept
 * and escaped by whoever prints them. */
#define PML_EVENT_MAX_T_NS (1ull << 62)	 /* t_ns: about 146 years */
#define PML_EVENT_MAX_BYTES (1ll << 40)	 /* bytes: 1 TiB */
#define PML_EVENT_MAX_MS 1e7		 /* ms, worker_ms: about 2.8 hours */
#define PML_EVENT_MAX_PRIORITY 1e6	 /* priority: [0, 1e6] */
#define PML_EVENT_MAX_PID 4194304	 /* pid: PID_MAX_LIMIT, from 1 */
#define PML_EVENT_MAX_ERRNO 4095	 /* errno: MAX_ERRNO, from 1 */
#define PML_EVENT_MAX_MODULE_NAME 63	 /* module: 1..63 of [A-Za-z0-9_-] */
#define PML_EVENT_MAX_ALIAS 255		 /* alias: 0..255 bytes */
#define PML_EVENT_MAX_REASON 1024	 /* reason: 0..1024 bytes */
#define PML_EVENT_MAX_COMM 31		 /* comm: 0..31 bytes (pmld keeps 32) */
#define PML_EVENT_MAX_TOKEN 32		 /* source, refusal, policy: 1..32 of [a-z0-9_+-] */

/* What a record says happened: the `event` member. */
enum pml_event_kind {
	PML_EV_REQUEST,	 /* the kernel asked for an alias (module_request tracepoint) */
	PML_EV_NEED,	 /* the shim served a request_module: result, stall time */
	PML_EV_LOAD,	 /* a module was inserted (cause: who and why) */
	PML_EV_UNLOAD,	 /* a module was removed (cause) */
	PML_EV_DENY,	 /* policy refused a module */
	PML_EV_FAIL,	 /* a load or unload failed (cause: of the operation that failed) */
	PML_EV_BASE,	 /* a module of the base set, present at start */
	PML_EV_INFO,	 /* anything else worth a line: the policy file, a signal, the prior */
	PML_EV_RESOURCE, /* the resource manager's verdict on a load asked for */
	PML_EV_USED,	 /* the first sign that a prefetched module was used (via) */
	PML_EV_START,	 /* pmld started (policy) */
	PML_EV_STOP,	 /* pmld stopped: ms its CPU, bytes its peak RSS, worker_ms */
	PML_EV_ERROR,	 /* a survivable error (errno) */
	PML_EV__COUNT,
};

/* Why a module was inserted or removed (load, unload, fail): the `cause` member. */
enum pml_event_cause {
	PML_CAUSE_NONE,	      /* not said: the kernel's own record (tracefs) */
	PML_CAUSE_MISS,	      /* "miss": the shim, on a request the program stalled on */
	PML_CAUSE_PREFETCH,   /* "prefetch": pmld, the module a policy predicted */
	PML_CAUSE_DEPENDENCY, /* "dependency": taken along with another's load or unload */
	PML_CAUSE_API,	      /* "api": pmld, for a request on its resource socket */
	PML_CAUSE_RESTART,    /* "restart": found loaded by a restarted pmld, adopted */
	PML_CAUSE_POLICY,     /* "policy": pmld, a policy's unload (idle, unused prediction) */
	PML_CAUSE_EVICT,      /* "evict": pmld, an unload to make room for a grant */
	PML_CAUSE_REMOVE,     /* "remove": the shim, for `modprobe -r` */
	PML_CAUSE__COUNT,
};

/* The resource manager's verdict (resource): the `verdict` member. */
enum pml_event_verdict {
	PML_VERDICT_NONE,
	PML_VERDICT_GRANT,	 /* "grant" */
	PML_VERDICT_EVICT,	 /* "grant-after-evict": granted once idle modules go */
	PML_VERDICT_REFUSE,	 /* "refuse" (refusal says why) */
	PML_VERDICT__COUNT,
};

/* How pmld saw a prefetched module used (used): the `via` member. */
enum pml_event_via {
	PML_VIA_NONE,
	PML_VIA_MODULE_GET,  /* "module-get": a reference the kernel took (module:module_get) */
	PML_VIA_NETDEV,	     /* "netdev": an interface of its kind made (alloc_netdev_mqs) */
	PML_VIA_RTM_NEWLINK, /* "rtm-newlink": the tracer decoded an RTM_NEWLINK of its kind */
	PML_VIA_REQUEST,     /* "request": the kernel requested it (loaded or in flight) */
	PML_VIA_BUSY,	     /* "busy": an unload was refused, in use */
	PML_VIA_REFCOUNT,    /* "refcount": the tick's sample saw references or holders */
	PML_VIA__COUNT,
};

/* What a prefetch rests on (load, fail of cause prefetch): the `basis` member, so that the
 * report counts each source of predictions' prefetches and their use apart. */
enum pml_event_basis {
	PML_BASIS_NONE,
	PML_BASIS_MODEL, /* "model": a model of the program's behaviour (lstm, markov's needs) */
	PML_BASIS_NAMES, /* "names": the naming rules read it in the program's words */
	PML_BASIS_SLOTS, /* "slots": the slot model read it in the program's words */
	PML_BASIS_LIST,	 /* "list": a list given in advance (load-all, static) */
	PML_BASIS__COUNT,
};

struct pml_event_rec {
	uint64_t t_ns;
	enum pml_event_kind kind;
	const char *module;	/* NULL when none */
	const char *alias;	/* the requested alias, NULL when none */
	const char *reason;	/* for people, never parsed: "miss: net-pf-10-proto-132" */
	const char *source;	/* "shim", "pmld", "tracefs", "guest-init" */
	const char *result;	/* need: "loaded", "present", "no-module", "denied", "error" */
	int64_t bytes;		/* resident bytes of the module (stop: pmld's peak RSS), -1 */
	double ms;		/* duration of the operation (stall for a need; stop: CPU), <0 */
	double confidence;	/* predictor confidence behind a decision, <0 none */
	int pid;		/* requesting process, 0 unknown */
	const char *comm;
	int err;		/* negative errno for fail/need error/error, 0 otherwise */
	enum pml_event_cause cause;	/* load, unload, fail */
	const char *for_module;	/* load, fail of cause dependency: the module it was
				 * loaded for (a prefetch's), NULL when not said */
	enum pml_event_basis basis;	/* load, fail of cause prefetch */
	enum pml_event_verdict verdict; /* resource */
	const char *refusal;	/* resource refused: "over-budget", ...; NULL otherwise */
	double priority;	/* resource: the request's priority, <0 unknown */
	enum pml_event_via via;	/* used */
	const char *policy;	/* start: the policy's name */
	double worker_ms;	/* stop: the load worker's CPU (since the job started), <0 */
};

/* A record with every optional field marked unknown. */
void pml_event_rec_init(struct pml_event_rec *rec, enum pml_event_kind kind);
const char *pml_event_kind_name(enum pml_event_kind kind);
/* Returns the kind for a name, or -EINVAL. */
int pml_event_kind_from_name(const char *name);
const char *pml_event_cause_name(enum pml_event_cause cause);	  /* "" for NONE */
const char *pml_event_verdict_name(enum pml_event_verdict verdict); /* "" for NONE */
const char *pml_event_via_name(enum pml_event_via via);		  /* "" for NONE */
const char *pml_event_basis_name(enum pml_event_basis basis);	  /* "" for NONE */

/* Format rec as one JSON line (with '\n') into buf. Returns the length, or -ENOSPC. */
int pml_event_rec_format(const struct pml_event_rec *rec, char *buf, size_t size);
/* Append rec to the log at fd (opened O_APPEND) in one write. Returns 0 or -errno. */
int pml_event_log_append(int fd, const struct pml_event_rec *rec);
/* Open (create) a log for appending; returns fd or -errno. */
int pml_event_log_open(const char *path);

/* A parsed record: rec's strings point into storage it owns. */
struct pml_event_parsed {
	struct pml_event_rec rec;
	size_t str_bytes; /* the strings' total size, terminators included */
	char *buf;	  /* owned */
};

/* Parse one line (without its '\n'; at most the caller's line limit, NUL-terminated) into
 * *ret. Returns 0 (release with pml_event_parsed_release()), -EBADMSG when the line is not
 * a well-formed record of this version (*why then says what is wrong, in words, a static
 * string: "ms not a number in [0, 1e7]", "log version 1 (written by an older pml), this pml
 * reads version 2"), or -ENOMEM. *ret is written only on success. */
int pml_event_rec_parse(const char *line, struct pml_event_parsed *ret, const char **why);
void pml_event_parsed_release(struct pml_event_parsed *p);

#endif
