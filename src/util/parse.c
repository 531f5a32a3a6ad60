/* The numbers pml takes: the grammar, the range check and the sentences of parse.h.
 *
 * The text is checked by hand before strtod sees it: strtod alone skips leading space,
 * reads hexadecimal, "inf", "nan" and an exponent, which is how "0x10", " 2M" and "nan"
 * used to pass as budgets. What strtod is then given is only [0-9.eE+-] already known to
 * be one decimal number. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse.h"

#define NUM_TEXT_MAX 64 /* digits of one number; longer is not a number pml takes */
#define SHOW_MAX 48	/* characters of a bad value repeated in a message */

/* DIGITS[.DIGITS] with at least one digit (frac), an exponent after it (exp): the length
 * of the number at s, 0 when there is none. */
static size_t scan_number(const char *s, bool frac, bool exp)
{
	size_t i = 0, digits = 0;

	for (; isdigit((unsigned char)s[i]); i++)
		digits++;
	if (frac && s[i] == '.')
		for (i++; isdigit((unsigned char)s[i]); i++)
			digits++;
	if (!digits)
		return 0;
	if (exp && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (s[j] == '+' || s[j] == '-')
			j++;
		if (isdigit((unsigned char)s[j])) {
			while (isdigit((unsigned char)s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

/* "k", "KiB", "mb", "T": the power of 1024 (1-4), 0 for "" (bare) or "B" alone (bytes:
 * -1), -2 for anything else. */
static int size_unit(const char *u)
{
	static const char letters[] = "kmgt";
	const char *l;

	if (!*u)
		return 0;
	if ((u[0] == 'B' || u[0] == 'b') && !u[1])
		return -1;
	l = strchr(letters, tolower((unsigned char)u[0]));
	if (!l)
		return -2;
	u++;
	if (*u == 'i' || *u == 'I')
		u++;
	else if (!*u)
		return (int)(l - letters) + 1;
	if ((*u == 'B' || *u == 'b') && !u[1])
		return (int)(l - letters) + 1;
	return -2;
}

/* "ms", "s", "m", "min", "h": seconds per unit; 0 for "" (bare); -1 for anything else. */
static double duration_unit(const char *u)
{
	if (!*u)
		return 0;
	if (!strcmp(u, "ms"))
		return 1e-3;
	if (!strcmp(u, "s"))
		return 1;
	if (!strcmp(u, "m") || !strcmp(u, "min"))
		return 60;
	if (!strcmp(u, "h"))
		return 3600;
	return -1;
}

static double spec_seconds(const struct pml_num_spec *spec)
{
	return spec->unit && !strcmp(spec->unit, "ms") ? 1e-3 : 1;
}

/* The value of s by spec's grammar, in the result's unit, possibly out of range or not
 * finite; -EINVAL when s is not of the kind. */
static int scan(const struct pml_num_spec *spec, const char *s, double *ret)
{
	bool frac = spec->kind != PML_NUM_INT;
	bool exp = spec->kind == PML_NUM_PROB || spec->kind == PML_NUM_REAL;
	char text[NUM_TEXT_MAX + 1];
	size_t n = s ? scan_number(s, frac, exp) : 0;
	const char *u;
	double v;

	if (!n || n > NUM_TEXT_MAX)
		return -EINVAL;
	memcpy(text, s, n);
	text[n] = '\0';
	u = s + n;
	v = strtod(text, NULL); /* ERANGE: inf, or 0 for a tiny value; the range decides */
	switch (spec->kind) {
	case PML_NUM_SIZE: {
		int p = size_unit(u);

		if (p == -2)
			return -EINVAL;
		if (p == 0 && spec->unit && !strcmp(spec->unit, "MiB"))
			p = 2;
		for (int i = 0; i < p; i++)
			v *= 1024;
		break;
	}
	case PML_NUM_DURATION: {
		double mul = duration_unit(u);

		if (mul < 0 || (mul == 0 && (spec->flags & PML_NUM_UNIT_NEEDED)))
			return -EINVAL;
		if (mul > 0)
			v = v * mul / spec_seconds(spec);
		break;
	}
	default:
		if (*u)
			return -EINVAL;
		break;
	}
	*ret = v;
	return 0;
}

static bool whole(double v)
{
	return fabs(v - round(v)) <= 1e-9 * fmax(1, fabs(v));
}

static bool in_range(const struct pml_num_spec *spec, double v)
{
	if (!isfinite(v) || v < spec->lo || v > spec->hi)
		return false;
	if ((spec->flags & PML_NUM_OPEN_LO) && v == spec->lo)
		return false;
	return true;
}

static const char *noun(const struct pml_num_spec *spec)
{
	switch (spec->kind) {
	case PML_NUM_SIZE: return "a size";
	case PML_NUM_DURATION: return "a duration";
	case PML_NUM_PROB: return "a probability";
	case PML_NUM_INT: return "a whole number";
	default: return "a number";
	}
}

/* 0, 1536, 64K, 1T: the largest binary unit that divides it. */
static void fmt_size(double v, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	double x = floor(v);
	int p = 0;

	while (p < 4 && x >= 1024 && fmod(x, 1024) == 0) {
		x /= 1024;
		p++;
	}
	if (p)
		snprintf(buf, size, "%.0f%c", x, units[p - 1]);
	else
		snprintf(buf, size, "%.0f", x);
}

static void fmt_value(const struct pml_num_spec *spec, double v, char *buf, size_t size)
{
	if (spec->kind == PML_NUM_SIZE)
		fmt_size(v, buf, size);
	else if (spec->kind == PML_NUM_DURATION && v != 0)
		snprintf(buf, size, "%.15g%s", v, spec->unit ? spec->unit : "s");
	else
		snprintf(buf, size, "%.15g", v);
}

void pml_num_describe(const struct pml_num_spec *spec, char *buf, size_t size)
{
	char lo[32], hi[32];

	fmt_value(spec, spec->lo, lo, sizeof(lo));
	fmt_value(spec, spec->hi, hi, sizeof(hi));
	snprintf(buf, size, "%s in %c%s, %s]%s%s", noun(spec),
		 spec->flags & PML_NUM_OPEN_LO ? '(' : '[', lo, hi,
		 spec->unit && (spec->kind == PML_NUM_INT || spec->kind == PML_NUM_REAL) ? " "
											  : "",
		 spec->unit && (spec->kind == PML_NUM_INT || spec->kind == PML_NUM_REAL)
			 ? spec->unit
			 : "");
}

/* s as a message repeats it: at most SHOW_MAX characters, controls as '?'. */
static void show(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	if (!s)
		s = "";
	for (; s[i] && i < SHOW_MAX && i + 4 < size; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i] && i + 4 <= size) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

static void say_label(const struct pml_num_spec *spec, const char *label, char *buf,
		      size_t size)
{
	if (label)
		snprintf(buf, size, "%s", label);
	else
		snprintf(buf, size, "--%s", spec->name);
}

static const char *examples(const struct pml_num_spec *spec)
{
	switch (spec->kind) {
	case PML_NUM_SIZE:
		return spec->unit ? "1024 (MiB), 512M, 2G" : "512K, 64MiB, 1G";
	case PML_NUM_DURATION:
		return "500ms, 5s, 2m, 1h";
	default:
		return NULL;
	}
}

int pml_num_parse(const struct pml_num_spec *spec, const char *label, const char *s,
		  double *ret, char *why, size_t size)
{
	char lab[128], val[SHOW_MAX + 8], want[128];
	double v;
	int r = scan(spec, s, &v);

	if (r == 0 && in_range(spec, v) && (!(spec->flags & PML_NUM_WHOLE) || whole(v))) {
		if (spec->flags & PML_NUM_WHOLE)
			v = round(v);
		*ret = v;
		return 0;
	}
	if (!why || !size)
		return r < 0 ? r : -ERANGE;
	say_label(spec, label, lab, sizeof(lab));
	show(s, val, sizeof(val));
	pml_num_describe(spec, want, sizeof(want));
	if (r < 0) {
		const char *ex = examples(spec);

		if (spec->kind == PML_NUM_DURATION && (spec->flags & PML_NUM_UNIT_NEEDED))
			snprintf(why, size, "%s '%s': not a duration with its unit (e.g. %s)", lab,
				 val, ex);
		else if (ex)
			snprintf(why, size, "%s '%s': not %s (e.g. %s)", lab, val, noun(spec), ex);
		else
			snprintf(why, size, "%s '%s': not %s", lab, val, want);
		return r;
	}
	if (in_range(spec, v))
		snprintf(why, size, "%s '%s': not a whole number of %s", lab, val,
			 spec->unit ? spec->unit : "units");
	else
		snprintf(why, size, "%s '%s': out of range: want %s", lab, val, want);
	return -ERANGE;
}

int pml_num_parse_i64(const struct pml_num_spec *spec, const char *label, const char *s,
		      int64_t *ret, char *why, size_t size)
{
	double v;
	int r = pml_num_parse(spec, label, s, &v, why, size);

	if (r < 0)
		return r;
	if (!(v < 9.2e18)) {
		/* no spec's range reaches this far; refuse rather than overflow */
		if (why && size)
			snprintf(why, size, "--%s: too large", spec->name);
		return -ERANGE;
	}
	*ret = spec->kind == PML_NUM_SIZE ? (int64_t)v : (int64_t)llround(v);
	return 0;
}

int pml_num_check(const struct pml_num_spec *spec, const char *label, double v, char *why,
		  size_t size)
{
	char lab[160], want[128];

	if (in_range(spec, v) && (!(spec->flags & PML_NUM_WHOLE) || whole(v)))
		return 0;
	if (why && size) {
		say_label(spec, label, lab, sizeof(lab));
		pml_num_describe(spec, want, sizeof(want));
		snprintf(why, size, "%s %.9g: out of range: want %s", lab, v, want);
	}
	return -ERANGE;
}

int pml_parse_size(const char *s, int64_t *ret)
{
	static const struct pml_num_spec spec = {"size", PML_NUM_SIZE, 0, 9e18, 0, NULL, NULL};

	return pml_num_parse_i64(&spec, NULL, s, ret, NULL, 0) < 0 ? -EINVAL : 0;
}

int pml_parse_double(const char *s, double *ret)
{
	static const struct pml_num_spec spec = {"number", PML_NUM_REAL, 0, DBL_MAX, 0, NULL,
						 NULL};

	return pml_num_parse(&spec, NULL, s, ret, NULL, 0) < 0 ? -EINVAL : 0;
}
