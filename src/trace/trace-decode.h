/* Decoding of raw trace events (trace-event.h) into a readable form: names for system
 * calls, address families, socket types, protocols, bpf commands; key/value fields.
 *
 * Every function here is pure (no I/O, no global state), so the live tracer, the trace
 * reader, `pml trace dump` and replay share it, and it is tested without a kernel. A raw
 * record may come from a damaged or hostile file: the decoder checks the size against the
 * kind and never reads past it, nor past a string field that lacks its NUL. */
#ifndef PML_TRACE_TRACE_DECODE_H
#define PML_TRACE_TRACE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace-event.h"
#include "util/json.h"

/* Size of a record of this kind, 0 for an unknown kind. */
size_t pml_tev_size(unsigned kind);
/* "syscall", "socket", "module_request" ...; "unknown" for an unknown kind. */
const char *pml_tev_kind_name(unsigned kind);
/* x86_64 system call name, NULL when unknown. */
const char *pml_syscall_name(int nr);
/* Number of a system call name, -ENOENT when unknown. */
int pml_syscall_nr(const char *name);

/* Check a raw record: header present, size field equal to size, size as its kind requires
 * (unknown kinds pass when size is sane, so a newer event version can still be skimmed).
 * Returns 0 or -EBADMSG. */
int pml_tev_check(const void *raw, size_t size);

/* Make string fields NUL-terminated and zero after their NUL (the ring buffer hands out
 * uninitialised memory). Records of unknown kind are left alone. */
void pml_tev_normalize(void *raw, size_t size);

#define PML_TRACE_MAX_FIELDS 12

struct pml_trace_field {
	const char *key;
	const char *str;  /* always set: the value as text */
	int64_t num;	  /* the value when is_num */
	bool is_num;
	bool bare;	  /* the text form shows the value alone, without "key=" */
};

/* A decoded event. Field strings point into buf, so a decoded event is self-contained
 * (copy it whole, not field by field). */
struct pml_trace_decoded {
	uint64_t t_ns;
	uint32_t pid, tid;
	unsigned kind;
	int nr;			/* system call number, -1 for non-syscall kinds */
	const char *kind_name;	/* pml_tev_kind_name() */
	const char *name;	/* the system call ("socket", "sys_999") or the kind name */
	size_t n_fields;
	struct pml_trace_field fields[PML_TRACE_MAX_FIELDS];
	size_t buf_used;
	char buf[1024];
};

/* Decode a raw record. Returns 0, or -EBADMSG when pml_tev_check() refuses it. */
int pml_trace_event_decode(const void *raw, size_t size, struct pml_trace_decoded *out);

/* The value of a field by key, NULL when absent. */
const struct pml_trace_field *pml_trace_decoded_get(const struct pml_trace_decoded *d,
						    const char *key);

/* One text line (no newline): time relative to t0_ns in seconds, pid/tid, name, fields.
 * Returns the length it needed (truncated to size as snprintf does). */
int pml_trace_decoded_format(const struct pml_trace_decoded *d, uint64_t t0_ns, char *buf,
			     size_t size);

/* The decoded event as one JSON object (member of an array or top level: key NULL). */
void pml_trace_decoded_json(const struct pml_trace_decoded *d, struct pml_json *j,
			    const char *key);

/* Names used by the decoder, exposed for features and tests. NULL when unknown. */
const char *pml_af_name(int family);
const char *pml_sock_type_name(int type); /* without SOCK_NONBLOCK / SOCK_CLOEXEC bits */
const char *pml_ipproto_name(int protocol);
const char *pml_netlink_proto_name(int protocol);
const char *pml_bpf_cmd_name(int cmd);

#endif
