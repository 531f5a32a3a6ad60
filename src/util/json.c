/* JSON writer and flat-object reader; see json.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

void pml_json_init(struct pml_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

void pml_json_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void indent(struct pml_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void member(struct pml_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		j->need_comma[j->depth] = true;
		indent(j);
	}
	if (key) {
		pml_json_write_string(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_scope(struct pml_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth < PML_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_scope(struct pml_json *j, char c)
{
	bool had = j->need_comma[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
	if (j->depth == 0 && j->pretty)
		fputc('\n', j->f);
}

void pml_json_obj_begin(struct pml_json *j, const char *key)
{
	open_scope(j, key, '{');
}

void pml_json_obj_end(struct pml_json *j)
{
	close_scope(j, '}');
}

void pml_json_arr_begin(struct pml_json *j, const char *key)
{
	open_scope(j, key, '[');
}

void pml_json_arr_end(struct pml_json *j)
{
	close_scope(j, ']');
}

void pml_json_str(struct pml_json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		pml_json_write_string(j->f, val);
	else
		fputs("null", j->f);
}

void pml_json_int(struct pml_json *j, const char *key, int64_t val)
{
	member(j, key);
	fprintf(j->f, "%lld", (long long)val);
}

void pml_json_double(struct pml_json *j, const char *key, double val)
{
	member(j, key);
	if (isfinite(val))
		fprintf(j->f, "%.6g", val);
	else
		fputs("null", j->f);
}

void pml_json_bool(struct pml_json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->f);
}

void pml_json_null(struct pml_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

/* --- reader --- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a string literal at p (pointing at the opening quote) into *out, advancing out.
 * Returns the position after the closing quote, or NULL on a syntax error. */
static const char *parse_string(const char *p, char **out)
{
	char *o = *out;

	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			*o++ = *p;
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'u': {
			unsigned cp = 0;

			for (int i = 1; i <= 4; i++) {
				int h = hexval(p[i]);

				if (h < 0)
					return NULL;
				cp = cp * 16 + (unsigned)h;
			}
			p += 4;
			/* Encode the BMP code point as UTF-8 (surrogates kept as is). */
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | (cp >> 6));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xe0 | (cp >> 12));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			return NULL;
		}
		p++;
	}
	if (*p != '"')
		return NULL;
	*o++ = '\0';
	*out = o;
	return p + 1;
}

int pml_json_flat_parse(const char *text, struct pml_json_flat *ret)
{
	struct pml_json_flat flat = {0};
	const char *p = skip_ws(text);
	char *o;
	int r = -EINVAL;

	/* Decoded text never exceeds the input, plus a terminator per field. */
	flat.buf = malloc(strlen(text) + 2 * PML_JSON_MAX_FIELDS + 1);
	if (!flat.buf)
		return -ENOMEM;
	o = flat.buf;
	if (*p++ != '{')
		goto fail;
	p = skip_ws(p);
	if (*p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		struct pml_json_field *f;

		if (flat.n == PML_JSON_MAX_FIELDS) {
			r = -E2BIG;
			goto fail;
		}
		f = &flat.fields[flat.n++];
		f->key = o;
		p = parse_string(skip_ws(p), &o);
		if (!p)
			goto fail;
		p = skip_ws(p);
		if (*p++ != ':')
			goto fail;
		p = skip_ws(p);
		if (*p == '"') {
			f->type = PML_JSON_STRING;
			f->str = o;
			p = parse_string(p, &o);
			if (!p)
				goto fail;
		} else if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5)) {
			f->type = PML_JSON_BOOL;
			f->boolean = *p == 't';
			f->str = f->boolean ? "true" : "false";
			p += f->boolean ? 4 : 5;
		} else if (!strncmp(p, "null", 4)) {
			f->type = PML_JSON_NULL;
			f->str = NULL;
			p += 4;
		} else {
			char *end;

			f->num = strtod(p, &end);
			if (end == p)
				goto fail;
			f->type = PML_JSON_NUMBER;
			f->str = o;
			memcpy(o, p, (size_t)(end - p));
			o += end - p;
			*o++ = '\0';
			p = end;
		}
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			goto fail;
		break;
	}
done:
	p = skip_ws(p);
	if (*p)
		goto fail;
	*ret = flat;
	return 0;
fail:
	free(flat.buf);
	return r;
}

void pml_json_flat_release(struct pml_json_flat *flat)
{
	free(flat->buf);
	flat->buf = NULL;
	flat->n = 0;
}

const struct pml_json_field *pml_json_flat_get(const struct pml_json_flat *flat,
					       const char *key)
{
	for (size_t i = 0; i < flat->n; i++)
		if (!strcmp(flat->fields[i].key, key))
			return &flat->fields[i];
	return NULL;
}

const char *pml_json_flat_str(const struct pml_json_flat *flat, const char *key,
			      const char *def)
{
	const struct pml_json_field *f = pml_json_flat_get(flat, key);

	return f && f->type == PML_JSON_STRING ? f->str : def;
}

double pml_json_flat_num(const struct pml_json_flat *flat, const char *key, double def)
{
	const struct pml_json_field *f = pml_json_flat_get(flat, key);

	return f && f->type == PML_JSON_NUMBER ? f->num : def;
}
