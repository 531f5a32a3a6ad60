/* A small JSON writer (streamed to a FILE, escaping done right) and a reader for the flat
 * objects pml writes one per line (JSONL): string, number, bool and null values only.
 * Nesting is not needed by any log pml reads back, so the reader refuses it.
 *
 * Some of what is written comes from the guest (module names, reasons, the command's
 * output), so the writer's output is valid JSON whatever the bytes: every control
 * character, 0x7f and NUL is escaped and a byte that is not part of a valid UTF-8 sequence
 * is written as \ufffd. The same UTF-8 decoder renders text for a terminal
 * (pml_text_escape()). */
#ifndef PML_UTIL_JSON_H
#define PML_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PML_JSON_MAX_DEPTH 32

struct pml_json {
	FILE *f;
	int depth;
	bool pretty;
	bool need_comma[PML_JSON_MAX_DEPTH];
};

/* pretty: newline and indent between members (for humans); else one line. */
void pml_json_init(struct pml_json *j, FILE *f, bool pretty);
/* key is NULL for array elements and the top-level value. */
void pml_json_obj_begin(struct pml_json *j, const char *key);
void pml_json_obj_end(struct pml_json *j);
void pml_json_arr_begin(struct pml_json *j, const char *key);
void pml_json_arr_end(struct pml_json *j);
void pml_json_str(struct pml_json *j, const char *key, const char *val);
void pml_json_int(struct pml_json *j, const char *key, int64_t val);
void pml_json_double(struct pml_json *j, const char *key, double val);
void pml_json_bool(struct pml_json *j, const char *key, bool val);
void pml_json_null(struct pml_json *j, const char *key);
/* The n bytes at s as a JSON string: NUL bytes are written as \u0000 (for output that may
 * hold them, a program's stdout). A NULL s is written as null. */
void pml_json_strn(struct pml_json *j, const char *key, const char *s, size_t n);
/* The n bytes at buf as one base64 string (RFC 4648, padded). */
void pml_json_base64(struct pml_json *j, const char *key, const void *buf, size_t n);
/* A number given as text, written as is when it is a JSON number literal with a finite
 * value; null otherwise. Returns whether it was written as is. */
bool pml_json_raw_number(struct pml_json *j, const char *key, const char *literal);
/* Write s as a JSON string literal (with quotes): '"' and '\\' escaped, \n \r \t as such,
 * every other byte < 0x20 and 0x7f as \u00XX, each byte of an invalid UTF-8 sequence
 * (overlong, surrogate, past U+10FFFF, cut short, a stray continuation byte) as \ufffd.
 * The output is ASCII-safe JSON whatever s holds. */
void pml_json_write_string(FILE *f, const char *s);
/* The same for n bytes, NUL bytes included (as \u0000). */
void pml_json_write_stringn(FILE *f, const char *s, size_t n);

/* Whether s[0..n) is a JSON number literal: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * (no NaN, Infinity, hex, leading '+' or '.'). Its value may still overflow a double. */
bool pml_json_number_literal(const char *s, size_t n);

/* --- UTF-8 and text for a terminal --- */

/* The length (1 to 4) of the valid UTF-8 sequence at s (n bytes available), its code point
 * in *cp; 0 when the bytes there are not one (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF, no sequence cut short by n). A NUL byte is a valid sequence. */
size_t pml_utf8_decode(const void *s, size_t n, uint32_t *cp);
/* Whether s[0..n) is valid UTF-8 throughout (NUL bytes allowed). */
bool pml_utf8_valid(const void *s, size_t n);
/* Render in (NUL-terminated; NULL as "") for a terminal: a control character (< 0x20, 0x7f,
 * the C1 range U+0080..U+009F), a bidirectional override or isolate (U+202A..U+202E,
 * U+2066..U+2069) and every byte of an invalid UTF-8 sequence become \xNN per byte; the
 * rest is copied. out is always terminated when size > 0 and never ends inside an escape
 * or a sequence. Returns the length the whole rendering needs (like snprintf: cut when
 * >= size). */
size_t pml_text_escape(const char *in, char *out, size_t size);

enum pml_json_type {
	PML_JSON_STRING,
	PML_JSON_NUMBER,
	PML_JSON_BOOL,
	PML_JSON_NULL,
};

struct pml_json_field {
	const char *key;
	const char *str; /* decoded string; for numbers the literal text */
	size_t len;	 /* strlen of str, counting any NUL bytes a \u0000 put inside */
	double num;
	bool boolean;
	enum pml_json_type type;
};

#define PML_JSON_MAX_FIELDS 32

struct pml_json_flat {
	size_t n;
	struct pml_json_field fields[PML_JSON_MAX_FIELDS];
	char *buf; /* owned storage for decoded keys and strings */
};

/* Parse one flat JSON object (one JSONL line). Numbers must be JSON number literals (no
 * NaN, Infinity, hex; a literal past a double's range parses to +-HUGE_VAL: check with
 * isfinite()). In strings a \uXXXX pair of surrogates becomes its code point, a lone
 * surrogate U+FFFD; raw bytes are kept as they are (valid UTF-8 or not: callers that show
 * them escape them). Returns 0, -EINVAL on a syntax error or a nested value, -E2BIG past
 * PML_JSON_MAX_FIELDS, -ENOMEM. On success release with pml_json_flat_release(). */
int pml_json_flat_parse(const char *text, struct pml_json_flat *ret);
void pml_json_flat_release(struct pml_json_flat *flat);
/* Field lookup: NULL when absent. The typed getters return def when absent or mistyped. */
const struct pml_json_field *pml_json_flat_get(const struct pml_json_flat *flat,
					       const char *key);
const char *pml_json_flat_str(const struct pml_json_flat *flat, const char *key,
			      const char *def);
double pml_json_flat_num(const struct pml_json_flat *flat, const char *key, double def);

#endif
