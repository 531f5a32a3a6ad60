/* A strict JSON checker for tests (RFC 8259 text in UTF-8): used on what pml writes, so it
 * shares no code with src/util/json.c. Strings may not hold raw bytes < 0x20 nor invalid
 * UTF-8 (overlongs, surrogates, past U+10FFFF, cut short); raw 0x7f is refused too, as
 * pml's writer escapes it. Header-only: tests and fuzz targets include it. */
#ifndef PML_TESTS_JSON_CHECK_H
#define PML_TESTS_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct json_check {
	const unsigned char *p, *end;
};

static inline void jc_ws(struct json_check *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* One UTF-8 character at c->p (first byte >= 0x80), decoded the long way round. */
static inline bool jc_utf8(struct json_check *c)
{
	unsigned char b = *c->p;
	int n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
	uint32_t cp, min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;

	if (!n || b >= 0xf8 || c->end - c->p < n)
		return false;
	cp = b & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	c->p += n;
	return true;
}

static inline bool jc_string(struct json_check *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		unsigned char b = *c->p;

		if (b < 0x20 || b == 0x7f)
			return false;
		if (b >= 0x80) {
			if (!jc_utf8(c))
				return false;
			continue;
		}
		if (b == '\\') {
			c->p++;
			if (c->p >= c->end)
				return false;
			if (*c->p == 'u') {
				for (int i = 1; i <= 4; i++) {
					unsigned char h = c->p + i < c->end ? c->p[i] : 0;

					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return false;
				}
				c->p += 4;
			} else if (!strchr("\"\\/bfnrt", *c->p) || !*c->p) {
				return false;
			}
		}
		c->p++;
	}
	if (c->p >= c->end)
		return false;
	c->p++;
	return true;
}

static inline bool jc_digits(struct json_check *c)
{
	const unsigned char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s;
}

static inline bool jc_number(struct json_check *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (!jc_digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!jc_digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!jc_digits(c))
			return false;
	}
	return true;
}

static inline bool jc_word(struct json_check *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return false;
	c->p += n;
	return true;
}

static inline bool jc_value(struct json_check *c, int depth)
{
	bool first = true;
	char close;

	jc_ws(c);
	if (c->p >= c->end || depth > 64)
		return false;
	switch (*c->p) {
	case '"':
		return jc_string(c);
	case 't':
		return jc_word(c, "true");
	case 'f':
		return jc_word(c, "false");
	case 'n':
		return jc_word(c, "null");
	case '{':
	case '[':
		close = *c->p == '{' ? '}' : ']';
		c->p++;
		for (;;) {
			jc_ws(c);
			if (c->p < c->end && *c->p == close && first) {
				c->p++;
				return true;
			}
			if (close == '}') {
				if (!jc_string(c))
					return false;
				jc_ws(c);
				if (c->p >= c->end || *c->p++ != ':')
					return false;
			}
			if (!jc_value(c, depth + 1))
				return false;
			jc_ws(c);
			first = false;
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == close) {
				c->p++;
				return true;
			}
			return false;
		}
	default:
		return jc_number(c);
	}
}

/* Whether s[0..n) is exactly one JSON value (whitespace around it allowed). */
static inline bool json_check(const char *s, size_t n)
{
	struct json_check c = {(const unsigned char *)s, (const unsigned char *)s + n};

	if (!jc_value(&c, 0))
		return false;
	jc_ws(&c);
	return c.p == c.end;
}

#endif
