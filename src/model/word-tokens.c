/* The parts of token strings: sanitised copies into a token (tok_*), the shape of a word
 * (pml_feat_word_shape), the class of a path (pml_feat_path_class), and an argument's
 * tokens, which the record tokens (an execve's arguments) and the prior (a script's words)
 * share. features.h holds the token scheme and its reasons. */
#include <stdio.h>
#include <string.h>

#include "model/features.h"
#include "model/features-priv.h"

/* ---- small string helpers ------------------------------------------------------------- */

/* Append src (at most n bytes) to dst (a TL buffer), replacing ':' (our separator) and
 * bytes outside printable ASCII. */
void feat_tok_cat_n(char *dst, const char *src, size_t n)
{
	size_t len = strlen(dst);

	for (size_t i = 0; i < n && src[i] && len < TL - 1; i++) {
		char c = src[i];

		if (c == ':')
			c = '.';
		else if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
			c = '?';
		dst[len++] = c;
	}
	dst[len] = '\0';
}

void feat_tok_cat(char *dst, const char *src)
{
	feat_tok_cat_n(dst, src, TL);
}

void feat_tok_sep(char *dst)
{
	size_t len = strlen(dst);

	if (len < TL - 1) {
		dst[len] = ':';
		dst[len + 1] = '\0';
	}
}

/* dst = a ":" b (":" c); each part sanitised (':' inside a part becomes '.'), except that
 * a part given as already-built tail (raw) keeps its colons. */
void feat_tok_set(char *dst, const char *kind, const char *rest_raw)
{
	size_t n = 0;

	for (const char *s = kind; *s && n < TL - 1; s++)
		dst[n++] = *s;
	if (rest_raw && *rest_raw && n < TL - 1) {
		dst[n++] = ':';
		for (const char *s = rest_raw; *s && n < TL - 1; s++)
			dst[n++] = *s;
	}
	dst[n] = '\0';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int char_class(char c)
{
	if (c >= 'a' && c <= 'z')
		return 1;
	if (c >= 'A' && c <= 'Z')
		return 2;
	if (is_digit(c))
		return 3;
	return 0;
}

/* ---- word shapes and path classes ----------------------------------------------------- */

void pml_feat_word_shape(const char *w, char *out)
{
	size_t n = strlen(w), o = 0;
	int digits = 0, letters = 0, dots = 0, slash = 0, other = 0, hexok = 1;
	int upper = 0, lower = 0, trans = 0, prev = 0;

	out[0] = '\0';
	if (!n)
		return;
	if (n > WORD_LONG) {
		strcpy(out, "long");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		int k = char_class(c);

		digits += is_digit(c);
		letters += k == 1 || k == 2;
		upper += k == 2;
		lower += k == 1;
		dots += c == '.';
		slash += c == '/';
		if (!is_hex(c))
			hexok = 0;
		if (!k && c != '.' && c != '/')
			other++;
		if (k && prev && k != prev)
			trans++;
		prev = k ? k : prev;
	}
	if (digits == (int)n) {
		strcpy(out, "#");
		return;
	}
	if (!letters && !other && dots == 3 && slash <= 1) {
		strcpy(out, "ip4");
		return;
	}
	if (hexok && n >= 8 && digits && letters) {
		strcpy(out, "hex");
		return;
	}
	if (n >= 6 && upper && lower && trans >= 4) {
		strcpy(out, "rand");
		return;
	}
	for (size_t i = 0; i < n && o < TL - 1;) {
		if (is_digit(w[i])) {
			out[o++] = '#';
			while (i < n && is_digit(w[i]))
				i++;
		} else {
			out[o++] = w[i] == ':' ? '.' : w[i];
			i++;
		}
	}
	out[o] = '\0';
}

/* Top directories whose contents are the program's own scratch: names there are random
 * or per run, so only the directory is kept. */
static const char *const scratch_tops[] = {"tmp", "work", "mnt", "home", "root", "media",
					   "srv", "job", "out", "opt"};

void pml_feat_path_class(const char *path, char *out)
{
	const char *p = path, *comp[4];
	size_t clen[4];
	int nc = 0;
	bool sysctl;

	out[0] = '\0';
	if (!path || path[0] != '/') {
		strcpy(out, "rel");
		return;
	}
	/* the top and up to three more components */
	while (*p && nc < 4) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		if (!(e - p == 1 && p[0] == '.')) {
			comp[nc] = p;
			clen[nc] = e - p;
			nc++;
		}
		p = e;
	}
	if (!nc) {
		strcpy(out, "/");
		return;
	}
	out[0] = '/';
	out[1] = '\0';
	feat_tok_cat_n(out, comp[0], clen[0]);
	for (size_t i = 0; i < ARRAY_SIZE(scratch_tops); i++)
		if (clen[0] == strlen(scratch_tops[i]) &&
		    !memcmp(comp[0], scratch_tops[i], clen[0]))
			return;
	if (clen[0] == 3 && !memcmp(comp[0], "var", 3) && nc > 1 && clen[1] == 3 &&
	    !memcmp(comp[1], "tmp", 3)) {
		strcpy(out, "/var/tmp");
		return;
	}
	sysctl = nc > 1 && clen[0] == 4 && !memcmp(comp[0], "proc", 4) && clen[1] == 3 &&
		 !memcmp(comp[1], "sys", 3);
	for (int i = 1; i < nc; i++) {
		char word[TL], shape[TL];
		size_t l = clen[i] < TL - 1 ? clen[i] : TL - 1;

		memcpy(word, comp[i], l);
		word[l] = '\0';
		/* /proc/<pid>, /proc/self: one class */
		if (i == 1 && clen[0] == 4 && !memcmp(comp[0], "proc", 4) &&
		    (!strcmp(word, "self") || !strcmp(word, "thread-self")))
			strcpy(word, "1");
		/* sysctl names are a fixed vocabulary (ipv4 is not ipv6): kept as they are */
		if (sysctl && strspn(word, "0123456789") != l)
			snprintf(shape, sizeof(shape), "%s", word);
		else
			pml_feat_word_shape(word, shape);
		feat_tok_sep(out);
		feat_tok_cat(out, shape);
	}
}

/* ---- an argument's tokens -------------------------------------------------------------- */

/* One word (no separators inside) as an argument token. */
static void word_token(struct pml_feat_tokens *out, const char *w)
{
	char shape[TL], *t;

	if (!*w)
		return;
	pml_feat_word_shape(w, shape);
	t = push(out);
	if (!t)
		return;
	strcpy(t, "arg:");
	feat_tok_cat(t, shape);
	if (!strcmp(shape, "hex") || !strcmp(shape, "rand") || !strcmp(shape, "long"))
		return;
	if (strcmp(shape, w)) {
		feat_tok_sep(t);
		feat_tok_cat(t, w);
	}
}

/* A word of words joined by ':' and ',' (ipset's hash:ip,port, a type and its parts):
 * at least one ':', every part a lowercase word, at most WORD_LONG bytes (a longer one
 * is "long"). Addresses (10.0.0.1:80), key=value lists and paths are not. */
static bool compound_word(const char *arg)
{
	size_t n = strlen(arg);

	if (n > WORD_LONG || !strchr(arg, ':'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = arg[i];
		bool start = i == 0 || arg[i - 1] == ':' || arg[i - 1] == ',';

		if (c == ':' || c == ',') {
			if (start)
				return false; /* an empty part */
			continue;
		}
		if (!(c >= 'a' && c <= 'z') && (start || !(is_digit(c) || c == '_' || c == '-')))
			return false;
	}
	return arg[n - 1] != ':' && arg[n - 1] != ',';
}

/* An argument of a command line: an option, a path, or words split at : , = @ (and a
 * compound word whole, before its parts) */
void feat_arg_tokens(struct pml_feat_tokens *out, const char *arg)
{
	char buf[TL], shape[TL];
	const char *eq;

	if (!*arg)
		return;
	if (strpbrk(arg, " \t\n")) {
		/* words in one argument (sh -c 'ip link add ...', a dm table, a tc ematch):
		 * each a word of its own; one holding an unexpanded $x or `x` names nothing */
		for (const char *p = arg; *p;) {
			size_t n = strcspn(p, " \t\n");

			if (n && !memchr(p, '$', n) && !memchr(p, '`', n)) {
				/* cut as a single argument is: a word this long is "long" */
				size_t k = n < TL - 1 ? n : TL - 1;

				memcpy(buf, p, k);
				buf[k] = '\0';
				feat_arg_tokens(out, buf);
			}
			p += n;
			p += strspn(p, " \t\n");
		}
		return;
	}
	if (arg[0] == '-' && arg[1] && !is_digit(arg[1])) {
		char *t = push(out);

		eq = strchr(arg, '=');
		if (t) {
			strcpy(t, "arg:");
			feat_tok_cat_n(t, arg, eq ? (size_t)(eq - arg) : strlen(arg));
		}
		if (eq)
			feat_arg_tokens(out, eq + 1);
		return;
	}
	pml_feat_word_shape(arg, shape);
	if (strchr(arg, '/') && strcmp(shape, "ip4")) {
		char *t = push(out);

		if (t) {
			pml_feat_path_class(arg, buf);
			feat_tok_set(t, "argp", buf);
		}
		return;
	}
	if (compound_word(arg)) {
		/* the whole word first (':' is '.' in a token): hash:ip names what its parts
		 * do not */
		snprintf(buf, sizeof(buf), "%s", arg);
		for (char *c = buf; *c; c++)
			if (*c == ':')
				*c = '.';
		word_token(out, buf);
	}
	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ":,=@");

		if (n) {
			if (n > TL - 1)
				n = TL - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			word_token(out, buf);
		}
		p += n;
		if (*p)
			p++;
	}
}
