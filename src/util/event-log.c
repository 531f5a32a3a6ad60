/* Decision log records: the one writer and the one parser; see event-log.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/event-log.h"
#include "util/json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kind_names[PML_EV__COUNT] = {
	[PML_EV_REQUEST] = "request", [PML_EV_NEED] = "need",	[PML_EV_LOAD] = "load",
	[PML_EV_UNLOAD] = "unload",   [PML_EV_DENY] = "deny",	[PML_EV_FAIL] = "fail",
	[PML_EV_BASE] = "base",	      [PML_EV_INFO] = "info",	[PML_EV_RESOURCE] = "resource",
	[PML_EV_USED] = "used",	      [PML_EV_START] = "start", [PML_EV_STOP] = "stop",
	[PML_EV_ERROR] = "error",
};

static const char *const cause_names[PML_CAUSE__COUNT] = {
	[PML_CAUSE_NONE] = "",		   [PML_CAUSE_MISS] = "miss",
	[PML_CAUSE_PREFETCH] = "prefetch", [PML_CAUSE_DEPENDENCY] = "dependency",
	[PML_CAUSE_API] = "api",	   [PML_CAUSE_RESTART] = "restart",
	[PML_CAUSE_POLICY] = "policy",	   [PML_CAUSE_EVICT] = "evict",
	[PML_CAUSE_REMOVE] = "remove",
};

static const char *const verdict_names[PML_VERDICT__COUNT] = {
	[PML_VERDICT_NONE] = "",
	[PML_VERDICT_GRANT] = "grant",
	[PML_VERDICT_EVICT] = "grant-after-evict",
	[PML_VERDICT_REFUSE] = "refuse",
};

static const char *const via_names[PML_VIA__COUNT] = {
	[PML_VIA_NONE] = "",		 [PML_VIA_MODULE_GET] = "module-get",
	[PML_VIA_NETDEV] = "netdev",	 [PML_VIA_RTM_NEWLINK] = "rtm-newlink",
	[PML_VIA_REQUEST] = "request",	 [PML_VIA_BUSY] = "busy",
	[PML_VIA_REFCOUNT] = "refcount",
};

static const char *const basis_names[PML_BASIS__COUNT] = {
	[PML_BASIS_NONE] = "",	       [PML_BASIS_MODEL] = "model", [PML_BASIS_NAMES] = "names",
	[PML_BASIS_SLOTS] = "slots", [PML_BASIS_LIST] = "list",
};

void pml_event_rec_init(struct pml_event_rec *rec, enum pml_event_kind kind)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->bytes = -1;
	rec->ms = -1;
	rec->confidence = -1;
	rec->priority = -1;
	rec->worker_ms = -1;
}

const char *pml_event_kind_name(enum pml_event_kind kind)
{
	return (unsigned)kind < PML_EV__COUNT ? kind_names[kind] : "?";
}

int pml_event_kind_from_name(const char *name)
{
	for (int k = 0; k < PML_EV__COUNT; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -EINVAL;
}

const char *pml_event_cause_name(enum pml_event_cause cause)
{
	return (unsigned)cause < PML_CAUSE__COUNT ? cause_names[cause] : "";
}

const char *pml_event_verdict_name(enum pml_event_verdict verdict)
{
	return (unsigned)verdict < PML_VERDICT__COUNT ? verdict_names[verdict] : "";
}

const char *pml_event_via_name(enum pml_event_via via)
{
	return (unsigned)via < PML_VIA__COUNT ? via_names[via] : "";
}

const char *pml_event_basis_name(enum pml_event_basis basis)
{
	return (unsigned)basis < PML_BASIS__COUNT ? basis_names[basis] : "";
}

/* The index of name in names[1..n) (0, the NONE entry, is never a name), or -1. */
static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 1; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

struct sbuf {
	char *p;
	size_t size, len;
	bool overflow;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *sb,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->size - sb->len) {
		sb->overflow = true;
		return;
	}
	sb->len += (size_t)n;
}

static void sb_str(struct sbuf *sb, const char *key, const char *s)
{
	if (!s)
		return;
	sb_printf(sb, ",\"%s\":\"", key);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			sb_printf(sb, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			sb_printf(sb, "\\u%04x", *c);
		else
			sb_printf(sb, "%c", *c);
	}
	sb_printf(sb, "\"");
}

static void sb_name(struct sbuf *sb, const char *key, const char *name)
{
	if (name && *name)
		sb_printf(sb, ",\"%s\":\"%s\"", key, name);
}

static void sb_num(struct sbuf *sb, const char *key, int decimals, double v)
{
	if (v >= 0 && isfinite(v))
		sb_printf(sb, ",\"%s\":%.*f", key, decimals, v);
}

int pml_event_rec_format(const struct pml_event_rec *rec, char *buf, size_t size)
{
	struct sbuf sb = {.p = buf, .size = size};

	if (size == 0)
		return -ENOSPC;
	sb_printf(&sb, "{\"v\":%d,\"t_ns\":%llu,\"event\":\"%s\"", PML_EVENT_LOG_VERSION,
		  (unsigned long long)rec->t_ns, pml_event_kind_name(rec->kind));
	sb_str(&sb, "module", rec->module);
	sb_str(&sb, "alias", rec->alias);
	sb_str(&sb, "result", rec->result);
	sb_name(&sb, "cause", pml_event_cause_name(rec->cause));
	sb_str(&sb, "for", rec->for_module);
	sb_name(&sb, "basis", pml_event_basis_name(rec->basis));
	sb_name(&sb, "verdict", pml_event_verdict_name(rec->verdict));
	sb_str(&sb, "refusal", rec->refusal);
	sb_num(&sb, "priority", 4, rec->priority);
	sb_name(&sb, "via", pml_event_via_name(rec->via));
	sb_str(&sb, "policy", rec->policy);
	if (rec->bytes >= 0)
		sb_printf(&sb, ",\"bytes\":%lld", (long long)rec->bytes);
	sb_num(&sb, "ms", 3, rec->ms);
	sb_num(&sb, "worker_ms", 3, rec->worker_ms);
	sb_num(&sb, "confidence", 4, rec->confidence);
	if (rec->pid > 0)
		sb_printf(&sb, ",\"pid\":%d", rec->pid);
	sb_str(&sb, "comm", rec->comm);
	if (rec->err)
		sb_printf(&sb, ",\"errno\":%d", -rec->err);
	sb_str(&sb, "reason", rec->reason);
	sb_str(&sb, "source", rec->source);
	sb_printf(&sb, "}\n");
	return sb.overflow ? -ENOSPC : (int)sb.len;
}

int pml_event_log_append(int fd, const struct pml_event_rec *rec)
{
	char buf[2048];
	int n = pml_event_rec_format(rec, buf, sizeof(buf));
	ssize_t w;

	if (n < 0)
		return n;
	do
		w = write(fd, buf, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return w == n ? 0 : -EIO;
}

int pml_event_log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	return fd < 0 ? -errno : fd;
}

/* --- parsing: one line, typed and range-checked --- */

enum field {
	F_V,
	F_T_NS,
	F_EVENT,
	F_MODULE,
	F_ALIAS,
	F_RESULT,
	F_CAUSE,
	F_FOR,
	F_VERDICT,
	F_REFUSAL,
	F_PRIORITY,
	F_VIA,
	F_BASIS,
	F_POLICY,
	F_BYTES,
	F_MS,
	F_WORKER_MS,
	F_CONFIDENCE,
	F_PID,
	F_COMM,
	F_ERRNO,
	F_REASON,
	F_SOURCE,
	F__COUNT,
};

#define KIND(k) (1u << (k))
#define ALL_KINDS ((1u << PML_EV__COUNT) - 1)

static const struct {
	const char *name;
	unsigned kinds; /* the kinds that carry it */
	const char *why; /* when its value is refused */
} fields[F__COUNT] = {
	[F_V] = {"v", ALL_KINDS, "v not an integer"},
	[F_T_NS] = {"t_ns", ALL_KINDS, "t_ns not an integer in [0, 2^62]"},
	[F_EVENT] = {"event", ALL_KINDS, "event not a known kind"},
	[F_MODULE] = {"module", ALL_KINDS, "module not a name of 1..63 of [A-Za-z0-9_-]"},
	[F_ALIAS] = {"alias", ALL_KINDS, "alias not a string of at most 255 bytes"},
	[F_RESULT] = {"result", KIND(PML_EV_NEED),
		      "result not loaded, present, no-module, denied or error"},
	[F_CAUSE] = {"cause", KIND(PML_EV_LOAD) | KIND(PML_EV_UNLOAD) | KIND(PML_EV_FAIL),
		     "cause not miss, prefetch, dependency, api, restart, policy, evict or "
		     "remove"},
	[F_FOR] = {"for", KIND(PML_EV_LOAD) | KIND(PML_EV_FAIL),
		   "for not a name of 1..63 of [A-Za-z0-9_-]"},
	[F_VERDICT] = {"verdict", KIND(PML_EV_RESOURCE),
		       "verdict not grant, grant-after-evict or refuse"},
	[F_REFUSAL] = {"refusal", KIND(PML_EV_RESOURCE),
		       "refusal not a name of 1..32 of [a-z0-9_+-]"},
	[F_PRIORITY] = {"priority", KIND(PML_EV_RESOURCE), "priority not a number in [0, 1e6]"},
	[F_VIA] = {"via", KIND(PML_EV_USED),
		   "via not module-get, netdev, rtm-newlink, request, busy or refcount"},
	[F_BASIS] = {"basis", KIND(PML_EV_LOAD) | KIND(PML_EV_FAIL),
		     "basis not model, names, slots or list"},
	[F_POLICY] = {"policy", KIND(PML_EV_START), "policy not a name of 1..32 of [a-z0-9_+-]"},
	[F_BYTES] = {"bytes", ALL_KINDS, "bytes not an integer in [0, 1 TiB]"},
	[F_MS] = {"ms", ALL_KINDS, "ms not a number in [0, 1e7]"},
	[F_WORKER_MS] = {"worker_ms", KIND(PML_EV_STOP), "worker_ms not a number in [0, 1e7]"},
	[F_CONFIDENCE] = {"confidence", ALL_KINDS, "confidence not a number in [0, 1]"},
	[F_PID] = {"pid", ALL_KINDS, "pid not an integer in [1, 4194304]"},
	[F_COMM] = {"comm", ALL_KINDS, "comm not a string of at most 31 bytes"},
	[F_ERRNO] = {"errno", ALL_KINDS, "errno not an integer in [1, 4095]"},
	[F_REASON] = {"reason", ALL_KINDS, "reason not a string of at most 1024 bytes"},
	[F_SOURCE] = {"source", ALL_KINDS, "source not a name of 1..32 of [a-z0-9_-]"},
};

/* Why a member is refused on a kind that does not carry it, by member. */
static const char *const field_misplaced[F__COUNT] = {
	[F_RESULT] = "result on a record not a need",
	[F_CAUSE] = "cause on a record not a load, unload or fail",
	[F_FOR] = "for on a record not a load or fail",
	[F_VERDICT] = "verdict on a record not a resource decision",
	[F_REFUSAL] = "refusal on a record not a resource decision",
	[F_PRIORITY] = "priority on a record not a resource decision",
	[F_VIA] = "via on a record not a use",
	[F_BASIS] = "basis on a record not a load or fail",
	[F_POLICY] = "policy on a record not a start",
	[F_WORKER_MS] = "worker_ms on a record not a stop",
};

/* An integer literal of digits only, at most max. */
static bool uint_field(const struct pml_json_field *f, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (f->type != PML_JSON_NUMBER || !f->len)
		return false;
	for (size_t i = 0; i < f->len; i++) {
		unsigned d = (unsigned)(f->str[i] - '0');

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

static bool num_field(const struct pml_json_field *f, double lo, double hi, double *ret)
{
	if (f->type != PML_JSON_NUMBER || !isfinite(f->num) || f->num < lo || f->num > hi)
		return false;
	*ret = f->num == 0 ? 0 : f->num; /* no -0 */
	return true;
}

/* A string of at most max bytes, no NUL inside. */
static bool str_field(const struct pml_json_field *f, size_t max)
{
	return f->type == PML_JSON_STRING && f->len <= max && strlen(f->str) == f->len;
}

/* 1..max of [a-z0-9_-], plus [A-Z] when upper, plus '+' when plus. */
static bool token_field(const struct pml_json_field *f, size_t max, bool upper, bool plus)
{
	if (!str_field(f, max) || !f->len)
		return false;
	for (size_t i = 0; i < f->len; i++) {
		char c = f->str[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      (upper && c >= 'A' && c <= 'Z') || (plus && c == '+')))
			return false;
	}
	return true;
}

/* A name of names[1..n): its index, or -1. */
static int enum_field(const struct pml_json_field *f, const char *const *names, int n)
{
	if (!str_field(f, 32))
		return -1;
	return name_index(names, n, f->str);
}

static bool result_field(const struct pml_json_field *f)
{
	static const char *const known[] = {"loaded", "present", "no-module", "denied", "error"};

	if (!str_field(f, 16))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(f->str, known[i]))
			return true;
	return false;
}

/* Decode the members of flat into *e (strings pointing into flat). Returns NULL, or why
 * the record is malformed. */
static const char *decode(const struct pml_json_flat *flat, struct pml_event_rec *e,
			  size_t *str_bytes)
{
	const struct pml_json_field *fld[F__COUNT] = {0};
	uint64_t v;
	int k;

	pml_event_rec_init(e, PML_EV_INFO);
	for (size_t i = 0; i < flat->n; i++) {
		const struct pml_json_field *f = &flat->fields[i];

		for (size_t j = 0; j < i; j++)
			if (!strcmp(flat->fields[j].key, f->key))
				return "a member given twice";
		for (int x = 0; x < F__COUNT; x++)
			if (!strcmp(f->key, fields[x].name))
				fld[x] = f;
	}
	if (!fld[F_T_NS] || !fld[F_EVENT])
		return "no t_ns or no event";
	/* The version before anything else: a record of another one is not read at all. */
	if (!fld[F_V])
		return "no log version (\"v\"): a log of a pml before version 2 of the log, "
		       "which this pml does not read (rerun with this pml)";
	if (!uint_field(fld[F_V], 1000000, &v))
		return fields[F_V].why;
	if (v != PML_EVENT_LOG_VERSION)
		return v < PML_EVENT_LOG_VERSION ? "an older log version (this pml reads version "
						   "2: rerun with this pml)"
						 : "a newer log version (this pml reads version "
						   "2: read it with the pml that wrote it)";
	k = fld[F_EVENT]->type == PML_JSON_STRING && str_field(fld[F_EVENT], 16)
		    ? pml_event_kind_from_name(fld[F_EVENT]->str)
		    : -1;
	if (k < 0)
		return fields[F_EVENT].why;
	e->kind = (enum pml_event_kind)k;
	for (int x = 0; x < F__COUNT; x++) {
		const struct pml_json_field *f = fld[x];
		bool ok = true;
		double d = -1;
		int n = 0;

		if (!f || x == F_V || x == F_EVENT)
			continue;
		if (!(fields[x].kinds & KIND(e->kind)))
			return field_misplaced[x];
		switch ((enum field)x) {
		case F_T_NS:
			ok = uint_field(f, PML_EVENT_MAX_T_NS, &v);
			e->t_ns = v;
			break;
		case F_MODULE:
			ok = token_field(f, PML_EVENT_MAX_MODULE_NAME, true, false);
			e->module = f->str;
			break;
		case F_FOR:
			ok = token_field(f, PML_EVENT_MAX_MODULE_NAME, true, false);
			e->for_module = f->str;
			break;
		case F_ALIAS:
			ok = str_field(f, PML_EVENT_MAX_ALIAS);
			e->alias = f->str;
			break;
		case F_RESULT:
			ok = result_field(f);
			e->result = f->str;
			break;
		case F_CAUSE:
			n = enum_field(f, cause_names, PML_CAUSE__COUNT);
			ok = n > 0;
			e->cause = ok ? (enum pml_event_cause)n : PML_CAUSE_NONE;
			break;
		case F_VERDICT:
			n = enum_field(f, verdict_names, PML_VERDICT__COUNT);
			ok = n > 0;
			e->verdict = ok ? (enum pml_event_verdict)n : PML_VERDICT_NONE;
			break;
		case F_REFUSAL:
			ok = token_field(f, PML_EVENT_MAX_TOKEN, false, true);
			e->refusal = f->str;
			break;
		case F_PRIORITY:
			ok = num_field(f, 0, PML_EVENT_MAX_PRIORITY, &d);
			e->priority = d;
			break;
		case F_VIA:
			n = enum_field(f, via_names, PML_VIA__COUNT);
			ok = n > 0;
			e->via = ok ? (enum pml_event_via)n : PML_VIA_NONE;
			break;
		case F_BASIS:
			n = enum_field(f, basis_names, PML_BASIS__COUNT);
			ok = n > 0;
			e->basis = ok ? (enum pml_event_basis)n : PML_BASIS_NONE;
			break;
		case F_POLICY:
			ok = token_field(f, PML_EVENT_MAX_TOKEN, false, true);
			e->policy = f->str;
			break;
		case F_BYTES:
			ok = uint_field(f, (uint64_t)PML_EVENT_MAX_BYTES, &v);
			e->bytes = ok ? (int64_t)v : -1;
			break;
		case F_MS:
			ok = num_field(f, 0, PML_EVENT_MAX_MS, &d);
			e->ms = d;
			break;
		case F_WORKER_MS:
			ok = num_field(f, 0, PML_EVENT_MAX_MS, &d);
			e->worker_ms = d;
			break;
		case F_CONFIDENCE:
			ok = num_field(f, 0, 1, &d);
			e->confidence = d;
			break;
		case F_PID:
			ok = uint_field(f, PML_EVENT_MAX_PID, &v) && v >= 1;
			e->pid = ok ? (int)v : 0;
			break;
		case F_COMM:
			ok = str_field(f, PML_EVENT_MAX_COMM);
			e->comm = f->str;
			break;
		case F_ERRNO:
			ok = uint_field(f, PML_EVENT_MAX_ERRNO, &v) && v >= 1;
			e->err = ok ? -(int)v : 0;
			break;
		case F_REASON:
			ok = str_field(f, PML_EVENT_MAX_REASON);
			e->reason = f->str;
			break;
		case F_SOURCE:
			ok = token_field(f, PML_EVENT_MAX_TOKEN, false, false);
			e->source = f->str;
			break;
		case F_V:
		case F_EVENT:
		case F__COUNT:
			break;
		}
		if (!ok)
			return fields[x].why;
		if (f->type == PML_JSON_STRING && x != F_CAUSE && x != F_VERDICT && x != F_VIA &&
		    x != F_BASIS)
			*str_bytes += f->len + 1;
	}
	/* What a kind cannot be read without. */
	switch (e->kind) {
	case PML_EV_RESOURCE:
		if (!e->module || !e->verdict)
			return "a resource decision without module or verdict";
		if ((e->verdict == PML_VERDICT_REFUSE) != (e->refusal != NULL))
			return "a refusal without a refuse verdict, or a refuse without refusal";
		break;
	case PML_EV_USED:
		if (!e->module || !e->via)
			return "a use without module or via";
		break;
	default:
		break;
	}
	return NULL;
}

int pml_event_rec_parse(const char *line, struct pml_event_parsed *ret, const char **why)
{
	struct pml_json_flat flat;
	struct pml_event_rec rec;
	size_t str_bytes = 0;
	const char *w;
	int r;

	r = pml_json_flat_parse(line, &flat);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*why = r == -E2BIG ? "more than 32 members" : "not a flat JSON object";
		return -EBADMSG;
	}
	w = decode(&flat, &rec, &str_bytes);
	if (w) {
		pml_json_flat_release(&flat);
		*why = w;
		return -EBADMSG;
	}
	ret->rec = rec;
	ret->str_bytes = str_bytes;
	ret->buf = flat.buf; /* the strings rec points to */
	return 0;
}

void pml_event_parsed_release(struct pml_event_parsed *p)
{
	free(p->buf);
	p->buf = NULL;
}
