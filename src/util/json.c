/* JSON writer, flat-object reader, UTF-8 checks and text for a terminal; see json.h. */
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

/* --- UTF-8 --- */

size_t pml_utf8_decode(const void *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t c;

	if (!n)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	/* RFC 3629 (Unicode table 3-7): the second byte's range rules out overlongs, surrogates and
	 * code points past U+10FFFF. */
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	c = (c << 6) | (p[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*cp = c;
	return len;
}

bool pml_utf8_valid(const void *s, size_t n)
{
	const unsigned char *p = s;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t len;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		len = pml_utf8_decode(p + i, n - i, &cp);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

/* Code points a terminal may act on rather than show, or that reorder what it shows. */
static bool text_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t pml_text_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t n = strlen((const char *)p), total = 0, w = 0;
	bool stop = size == 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t len = pml_utf8_decode(p + i, n - i, &cp);
		bool esc = !len || text_unsafe(cp);
		size_t k = len ? len : 1; /* an invalid sequence: one byte at a time */
		size_t need = esc ? 4 * k : k;

		/* Once a piece does not fit nothing more is written: out never ends inside
		 * an escape or a sequence. */
		if (!stop && w + need >= size)
			stop = true;
		for (size_t b = 0; !stop && b < k; b++) {
			if (esc) {
				out[w++] = '\\';
				out[w++] = 'x';
				out[w++] = hex[p[i + b] >> 4];
				out[w++] = hex[p[i + b] & 15];
			} else {
				out[w++] = (char)p[i + b];
			}
		}
		total += need;
		i += k;
	}
	if (size)
		out[w] = '\0';
	return total;
}

/* --- writer --- */

void pml_json_write_stringn(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t len;

		if (c >= 0x80) {
			len = pml_utf8_decode(p + i, n - i, &cp);
			if (len) {
				fwrite(p + i, 1, len, f);
				i += len;
			} else {
				fputs("\\ufffd", f);
				i++;
			}
			continue;
		}
		switch (c) {
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
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
		i++;
	}
	fputc('"', f);
}

void pml_json_write_string(FILE *f, const char *s)
{
	pml_json_write_stringn(f, s, strlen(s));
}

bool pml_json_number_literal(const char *s, size_t n)
{
	size_t i = 0;

#define DIGIT(k) ((k) < n && s[k] >= '0' && s[k] <= '9')
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else if (DIGIT(i)) {
		while (DIGIT(i))
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (!DIGIT(i))
			return false;
		while (DIGIT(i))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!DIGIT(i))
			return false;
		while (DIGIT(i))
			i++;
	}
#undef DIGIT
	return i == n;
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

void pml_json_strn(struct pml_json *j, const char *key, const char *s, size_t n)
{
	member(j, key);
	if (s)
		pml_json_write_stringn(j->f, s, n);
	else
		fputs("null", j->f);
}

void pml_json_base64(struct pml_json *j, const char *key, const void *buf, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = buf;
	size_t i;

	member(j, key);
	fputc('"', j->f);
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		fputc(tab[v >> 18], j->f);
		fputc(tab[(v >> 12) & 63], j->f);
		fputc(tab[(v >> 6) & 63], j->f);
		fputc(tab[v & 63], j->f);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		fputc(tab[v >> 18], j->f);
		fputc(tab[(v >> 12) & 63], j->f);
		fputs("==", j->f);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		fputc(tab[v >> 18], j->f);
		fputc(tab[(v >> 12) & 63], j->f);
		fputc(tab[(v >> 6) & 63], j->f);
		fputc('=', j->f);
	}
	fputc('"', j->f);
}

bool pml_json_raw_number(struct pml_json *j, const char *key, const char *literal)
{
	bool ok = literal && pml_json_number_literal(literal, strlen(literal)) &&
		  isfinite(strtod(literal, NULL));

	member(j, key);
	fputs(ok ? literal : "null", j->f);
	return ok;
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

/* Decode a string literal at p (pointing at the opening quote) into *out, advancing out
 * past the terminator; *len is the decoded length. Returns the position after the closing
 * quote, or NULL on a syntax error. */
static const char *parse_string(const char *p, char **out, size_t *len)
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
			unsigned cp = 0, lo = 0;

			for (int i = 1; i <= 4; i++) {
				int h = hexval(p[i]);

				if (h < 0)
					return NULL;
				cp = cp * 16 + (unsigned)h;
			}
			p += 4;
			/* A high surrogate and a low one make one code point; a lone one is
			 * no character: U+FFFD, so what was decoded is valid UTF-8. */
			if (cp >= 0xd800 && cp <= 0xdbff && p[1] == '\\' && p[2] == 'u') {
				for (int i = 3; i <= 6; i++) {
					int h = hexval(p[i]);

					if (h < 0)
						return NULL;
					lo = lo * 16 + (unsigned)h;
				}
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | (cp >> 6));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*o++ = (char)(0xe0 | (cp >> 12));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xf0 | (cp >> 18));
				*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
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
	*len = (size_t)(o - *out);
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
		size_t klen;

		if (flat.n == PML_JSON_MAX_FIELDS) {
			r = -E2BIG;
			goto fail;
		}
		f = &flat.fields[flat.n++];
		f->key = o;
		p = parse_string(skip_ws(p), &o, &klen);
		if (!p)
			goto fail;
		p = skip_ws(p);
		if (*p++ != ':')
			goto fail;
		p = skip_ws(p);
		if (*p == '"') {
			f->type = PML_JSON_STRING;
			f->str = o;
			p = parse_string(p, &o, &f->len);
			if (!p)
				goto fail;
		} else if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5)) {
			f->type = PML_JSON_BOOL;
			f->boolean = *p == 't';
			f->str = f->boolean ? "true" : "false";
			f->len = f->boolean ? 4 : 5;
			p += f->boolean ? 4 : 5;
		} else if (!strncmp(p, "null", 4)) {
			f->type = PML_JSON_NULL;
			f->str = NULL;
			p += 4;
		} else {
			size_t n = strspn(p, "0123456789+-.eE");
			char *end;

			if (!pml_json_number_literal(p, n))
				goto fail;
			f->num = strtod(p, &end);
			if (end != p + n)
				goto fail;
			f->type = PML_JSON_NUMBER;
			f->str = o;
			f->len = n;
			memcpy(o, p, n);
			o += n;
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
