/* A naming of the script waits for its command: see name-wait.h. */
#include <stdio.h>
#include <string.h>

#include "policy/name-wait.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/* The function line starts defines ("NAME()", "NAME ()", "function NAME"), into w. */
static void scan_function(struct pml_name_wait *w, const char *line)
{
	const char *q = line + strspn(line, " \t"), *r;
	bool keyword = !strncmp(q, "function ", 9);
	size_t n;

	if (keyword)
		q += 9 + strspn(q + 9, " \t");
	n = strspn(q, NAME_CHARS);
	if (!n || n >= sizeof(w->funcs[0]) || w->n_funcs >= PML_NAME_WAIT_FUNCS)
		return;
	r = q + n + strspn(q + n, " \t");
	if (!keyword && (r[0] != '(' || r[1] != ')'))
		return;
	memcpy(w->funcs[w->n_funcs], q, n);
	w->funcs[w->n_funcs++][n] = '\0';
}

void pml_name_wait_reset(struct pml_name_wait *w, const char *script)
{
	w->n_funcs = w->n_ran = w->n_held = 0;
	for (const char *l = script; l && *l;) {
		const char *e = strchr(l, '\n');

		scan_function(w, l);
		l = e ? e + 1 : NULL;
	}
}

static bool listed(const char (*list)[64], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/* No program of this name runs: a function of the script, or a builtin of the shell (dash's
 * and bash's that scripts use as commands). */
static bool not_a_program(const struct pml_name_wait *w, const char *name)
{
	static const char *const builtins[] = {
		".", ":", "[", "alias", "break", "cd", "command", "continue", "echo", "eval",
		"exec", "exit", "export", "false", "getopts", "local", "printf", "read",
		"readonly", "return", "set", "shift", "source", "test", "trap", "true", "type",
		"ulimit", "umask", "unset", "wait",
	};

	for (size_t i = 0; i < sizeof(builtins) / sizeof(*builtins); i++)
		if (!strcmp(name, builtins[i]))
			return true;
	return listed(w->funcs, w->n_funcs, name);
}

bool pml_name_wait_hold(struct pml_name_wait *w, const char *module, const char *words,
			float conf, const char *prog, const char *before, const char *before2)
{
	struct pml_name_wait_item *h;

	if (!*prog || !*before || w->n_held >= PML_NAME_WAIT_MAX ||
	    w->n_ran >= PML_NAME_WAIT_RAN || strlen(prog) >= sizeof(h->prog) ||
	    strlen(before) >= sizeof(h->before) || not_a_program(w, prog) ||
	    not_a_program(w, before) || listed(w->ran, w->n_ran, prog) ||
	    listed(w->ran, w->n_ran, before) || listed(w->ran, w->n_ran, before2))
		return false;
	h = &w->held[w->n_held++];
	snprintf(h->module, sizeof(h->module), "%s", module);
	snprintf(h->words, sizeof(h->words), "%s", words);
	h->conf = conf;
	snprintf(h->prog, sizeof(h->prog), "%s", prog);
	snprintf(h->before, sizeof(h->before), "%s", before);
	/* the second command back: a release more (a function or builtin releases nothing) */
	snprintf(h->before2, sizeof(h->before2), "%s",
		 strlen(before2) < sizeof(h->before2) && !not_a_program(w, before2) ? before2 : "");
	return true;
}

/* prog ran: remember it, release what waits for it (in the order it was held). */
static void ran(struct pml_name_wait *w, const char *prog, pml_name_wait_fn fn, void *ctx)
{
	int kept = 0;

	if (strlen(prog) >= sizeof(w->ran[0]) || listed(w->ran, w->n_ran, prog))
		return;
	if (w->n_ran < PML_NAME_WAIT_RAN)
		snprintf(w->ran[w->n_ran++], sizeof(w->ran[0]), "%s", prog);
	for (int i = 0; i < w->n_held; i++) {
		struct pml_name_wait_item h = w->held[i];

		if (strcmp(h.prog, prog) && strcmp(h.before, prog) && strcmp(h.before2, prog)) {
			w->held[kept++] = h;
			continue;
		}
		fn(ctx, h.module, h.words, h.conf);
	}
	w->n_held = kept;
}

void pml_name_wait_record(struct pml_name_wait *w, const struct pml_feat_tokens *t,
			  pml_name_wait_fn fn, void *ctx)
{
	for (int i = 0; i < t->n; i++)
		if (!strncmp(t->tok[i], "exec:", 5))
			ran(w, t->tok[i] + 5, fn, ctx);
}
