/* A small JSON writer (streamed to a FILE, escaping done right) and a reader for the flat
 * objects pml writes one per line (JSONL): string, number, bool and null values only.
 * Nesting is not needed by any log pml reads back, so the reader refuses it. */
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
/* Write s as a JSON string literal (with quotes). */
void pml_json_write_string(FILE *f, const char *s);

enum pml_json_type {
	PML_JSON_STRING,
	PML_JSON_NUMBER,
	PML_JSON_BOOL,
	PML_JSON_NULL,
};

struct pml_json_field {
	const char *key;
	const char *str; /* decoded string; for numbers the literal text */
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

/* Parse one flat JSON object (one JSONL line). Returns 0, -EINVAL on a syntax error or a
 * nested value, -E2BIG past PML_JSON_MAX_FIELDS, -ENOMEM. On success release with
 * pml_json_flat_release(). */
int pml_json_flat_parse(const char *text, struct pml_json_flat *ret);
void pml_json_flat_release(struct pml_json_flat *flat);
/* Field lookup: NULL when absent. The typed getters return def when absent or mistyped. */
const struct pml_json_field *pml_json_flat_get(const struct pml_json_flat *flat,
					       const char *key);
const char *pml_json_flat_str(const struct pml_json_flat *flat, const char *key,
			      const char *def);
double pml_json_flat_num(const struct pml_json_flat *flat, const char *key, double def);

#endif
