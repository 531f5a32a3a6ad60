/* The prior to tokens (pml_features_prior: a small shell lexer over the command line and
 * the script), and to ids (pml_feat_encode_prior). features.h holds the token scheme and
 * its reasons. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "model/features.h"
#include "model/features-priv.h"

/* ---- the prior -------------------------------------------------------------------------- */

/* Variables the text assigned a literal value (x=1, y="a b", z=$x once x is known), in
 * text order: a later $x or ${x} reads the value, as the shell would on a straight run. A
 * variable assigned anything else (x=$(cmd), x=$1) is unknown again. */
#define PRIOR_VARS 32
struct prior_var {
	char name[32];
	char value[128];
};

struct prior_ctx {
	pml_feat_emit_fn emit;
	void *ctx;
	int count;
	int err;
	struct prior_var vars[PRIOR_VARS];
	int n_vars;
};

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/* The index of the variable named by the n bytes at name, or pc->n_vars when unknown. */
static int find_var(const struct prior_ctx *pc, const char *name, size_t n)
{
	int v;

	for (v = 0; v < pc->n_vars; v++)
		if (strlen(pc->vars[v].name) == n && !strncmp(pc->vars[v].name, name, n))
			break;
	return v;
}

/* The length of the name an assignment word (NAME=...) sets; 0 when w is not one or the
 * name is too long to keep. */
static size_t assigned_name(const struct prior_ctx *pc, const char *w)
{
	const char *eq = strchr(w, '=');
	size_t k = eq ? (size_t)(eq - w) : 0;

	if (!k || k >= sizeof(pc->vars[0].name))
		return 0;
	for (size_t j = 0; j < k; j++)
		if (!name_char(w[j], j == 0))
			return 0;
	return k;
}

/* The variable named at s (after a '$': NAME or {NAME}); its value or NULL when unknown,
 * and *len the characters after the '$' that name it (0: no name there). */
static const char *var_ref(const struct prior_ctx *pc, const char *s, size_t *len)
{
	bool brace = s[0] == '{';
	size_t i = brace, n;
	int v;

	*len = 0;
	while (name_char(s[i], i == brace))
		i++;
	n = i - brace;
	if (!n || n >= sizeof(pc->vars[0].name) || (brace && s[i] != '}'))
		return NULL;
	*len = i + brace;
	v = find_var(pc, s + brace, n);
	return v < pc->n_vars ? pc->vars[v].value : NULL;
}

/* A command of assignments only (x=1 y=2): each sets its variable, or makes it unknown
 * when its value held an expansion (the lexer cut it to "x="). */
static void prior_assign(struct prior_ctx *pc, char **words, int n)
{
	for (int i = 0; i < n; i++)
		if (!assigned_name(pc, words[i]))
			return; /* a command after all */
	for (int i = 0; i < n; i++) {
		size_t k = assigned_name(pc, words[i]);
		const char *value = words[i] + k + 1;
		int v = find_var(pc, words[i], k);

		if (!value[0]) { /* unknown (or empty): forgotten */
			if (v < pc->n_vars)
				pc->vars[v] = pc->vars[--pc->n_vars];
			continue;
		}
		if (v == pc->n_vars) {
			if (pc->n_vars == PRIOR_VARS)
				continue;
			pc->n_vars++;
		}
		snprintf(pc->vars[v].name, sizeof(pc->vars[v].name), "%.*s", (int)k, words[i]);
		snprintf(pc->vars[v].value, sizeof(pc->vars[v].value), "%s", value);
	}
}

static void prior_flush(struct prior_ctx *pc, struct pml_feat_tokens *t)
{
	for (int i = 0; i < t->n && !pc->err; i++) {
		int r = pc->emit(pc->ctx, t->tok[i]);

		if (r < 0)
			pc->err = r;
		else
			pc->count++;
	}
	t->n = 0;
}

/* Words that open a compound command: the program comes after them. */
static const char *const keywords[] = {
	"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!",
	"[[", "]]", "esac", "then;", "do;",
};

/* Programs that run another one (timeout 5 cmd, env X=1 cmd): the program comes after
 * them, their options and their numeric arguments. */
static const char *const wrappers[] = {
	"timeout", "nohup", "setsid", "env", "sudo", "exec", "command", "xargs", "time",
	"nice", "ionice", "stdbuf", "eval",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return true;
	return false;
}

#define EXPANDED "$" /* the lexer's stand-in for a word holding an expansion */

/* One simple command's words: the program, then its arguments. */
static void prior_command(struct prior_ctx *pc, char **words, int n)
{
	struct pml_feat_tokens t = {0};
	int i = 0;
	char *tok;

	/* keywords, leading assignments (x=1 cmd) and wrappers are not the program */
	for (;;) {
		if (i < n && (in_list(words[i], keywords, ARRAY_SIZE(keywords)) ||
			      (strchr(words[i], '=') && words[i][0] != '=' && words[i][0] != '-'))) {
			i++;
			continue;
		}
		if (i < n && in_list(words[i], wrappers, ARRAY_SIZE(wrappers))) {
			for (i++; i < n && (words[i][0] == '-' || is_digit(words[i][0]) ||
					    (strchr(words[i], '=') && words[i][0] != '='));
			     i++)
				;
			continue;
		}
		break;
	}
	if (i >= n)
		return;
	/* for/case heads list words, not a command; the dataset's pml_expect names the
	 * expected modules: the label itself */
	if (!strcmp(words[i], "for") || !strcmp(words[i], "case") || !strcmp(words[i], "in") ||
	    !strncmp(words[i], "pml_expect", 10) || !strncmp(words[i], "pml-expect", 10))
		return;
	tok = push(&t);
	strcpy(tok, "exec:");
	/* a program named by an expansion ($PML_PING): unknown, its arguments still speak */
	feat_tok_cat(tok, strcmp(words[i], EXPANDED) ? basename_of(words[i]) : "?");
	prior_flush(pc, &t);
	for (i++; i < n && !pc->err; i++) {
		if (strcmp(words[i], EXPANDED))
			feat_arg_tokens(&t, words[i]);
		prior_flush(pc, &t);
	}
}

/* A small shell lexer: enough of sh to find simple commands and their literal words.
 * Quotes are removed; a word holding an expansion ($x, `x`) is dropped; comments end at
 * the newline; ; & | ( ) newline end a command; < > separate words. */
static void prior_text(struct prior_ctx *pc, const char *s)
{
	enum { MAXW = 64 };
	char *words[MAXW], word[256];
	char store[MAXW][256];
	int nw = 0;
	size_t wl = 0;
	bool in_word = false, expanded = false;

	for (int i = 0; i < MAXW; i++)
		words[i] = store[i];
#define END_WORD()                                                                   \
	do {                                                                         \
		if (in_word && nw < MAXW) {                                          \
			char *eq_ = memchr(word, '=', wl);                           \
			if (expanded && eq_ && eq_ != word) /* x=$y: an assignment */ \
				wl = (size_t)(eq_ - word) + 1;                       \
			else if (expanded && !memchr(word, ' ', wl))                 \
				strcpy(word, EXPANDED), wl = 1;                      \
			word[wl] = '\0';                                             \
			if (wl)                                                      \
				memcpy(store[nw++], word, wl + 1);                   \
		}                                                                    \
		in_word = false, expanded = false, wl = 0;                           \
	} while (0)
#define END_CMD()                                    \
	do {                                         \
		END_WORD();                          \
		if (nw) {                            \
			prior_assign(pc, words, nw);  \
			prior_command(pc, words, nw); \
		}                                    \
		nw = 0;                              \
	} while (0)
	for (const char *p = s; *p && !pc->err; p++) {
		const char *val;
		size_t len;
		char c = *p;

		if (c == '\\' && p[1] == '\n') {
			p++;
			continue;
		}
		if (c == '#' && !in_word) {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		if (c == '\'' || c == '"') {
			const char *e = p + 1;

			while (*e && *e != c) {
				if (c == '"' && *e == '$' && (val = var_ref(pc, e + 1, &len))) {
					/* a known variable: its value, one word as quoted */
					for (; *val && wl < sizeof(word) - 1; val++)
						word[wl++] = *val;
					e += 1 + len;
					continue;
				}
				if (c == '"' && (*e == '$' || *e == '`'))
					expanded = true;
				if (c == '"' && *e == '\\' && e[1])
					e++;
				if (wl < sizeof(word) - 1)
					word[wl++] = *e;
				e++;
			}
			in_word = true;
			p = *e ? e : e - 1;
			continue;
		}
		if (c == '$' && (val = var_ref(pc, p + 1, &len))) {
			/* a known variable unquoted: its value, split at blanks */
			for (; *val; val++) {
				if (*val == ' ' || *val == '\t' || *val == '\n') {
					END_WORD();
				} else if (wl < sizeof(word) - 1) {
					word[wl++] = *val;
					in_word = true;
				}
			}
			p += len;
			continue;
		}
		if (c == '$' || c == '`') {
			expanded = true;
			in_word = true;
			if (wl < sizeof(word) - 1)
				word[wl++] = c; /* marks the words it spoils (below) */
			if (c == '$' && p[1] == '(') {
				/* $(cmd): the inner command is a command of its own */
				END_CMD();
				p++;
			}
			continue;
		}
		if (c == '<' || c == '>') {
			/* 2>/dev/null: the digits are a descriptor, not a word */
			bool fd = in_word && wl > 0 && !expanded;

			for (size_t i = 0; fd && i < wl; i++)
				fd = is_digit(word[i]);
			if (fd)
				in_word = false, wl = 0;
			END_WORD();
			continue;
		}
		if (c == ' ' || c == '\t') {
			END_WORD();
			continue;
		}
		if (c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
			END_CMD();
			continue;
		}
		if (wl < sizeof(word) - 1)
			word[wl++] = c;
		in_word = true;
	}
	END_CMD();
#undef END_WORD
#undef END_CMD
}

int pml_features_prior(const char *command, const char *script, pml_feat_emit_fn emit,
		       void *ctx)
{
	struct prior_ctx pc = {.emit = emit, .ctx = ctx};
	int r;

	r = emit(ctx, PML_TOK_PRIOR);
	if (r < 0)
		return r;
	pc.count++;
	if (command && *command)
		prior_text(&pc, command);
	if (!pc.err && script && *script)
		prior_text(&pc, script);
	if (pc.err)
		return pc.err;
	r = emit(ctx, PML_TOK_START);
	if (r < 0)
		return r;
	return pc.count + 1;
}

struct encode_prior_ctx {
	const struct pml_vocab *v;
	int32_t *ids;
	int n, max;
};

static int encode_prior_emit(void *ctx, const char *tok)
{
	struct encode_prior_ctx *c = ctx;

	/* keep <start> even when the script was cut */
	if (c->n >= c->max - 1 && strcmp(tok, PML_TOK_START))
		return 0;
	if (c->n < c->max)
		c->ids[c->n++] = pml_vocab_lookup(c->v, tok);
	return 0;
}

int pml_feat_encode_prior(const struct pml_vocab *v, const char *command, const char *script,
			  int32_t *ids, int max)
{
	struct encode_prior_ctx c = {v, ids, 0, max};

	if (max <= 0)
		return 0;
	pml_features_prior(command, script, encode_prior_emit, &c);
	return c.n;
}
