/* A command's table of options (cmd-options.h) made into getopt_long's tables and into
 * its --help lines: the one place a pml verb's options are written down. */
#include <string.h>

#include "cmd/cmd-options.h"

void cmd_getopt_init(struct cmd_getopt *g, const struct cmd_option *t, const char *mode)
{
	size_t n = 0, k;

	memset(g, 0, sizeof(*g));
	k = strlen(mode);
	memcpy(g->shortopts, mode, k);
	for (; t->name && n < CMD_OPTIONS_MAX; t++, n++) {
		g->longopts[n] = (struct option){t->name, t->arg ? required_argument : no_argument,
						 NULL, t->val};
		if (t->val > 0 && t->val < CMD_OPT_LONG_ONLY) {
			g->shortopts[k++] = (char)t->val;
			if (t->arg)
				g->shortopts[k++] = ':';
		}
	}
}

/* "  -s, --socket PATH" or "      --window S": its width, printed when f is not NULL. */
static int option_left(FILE *f, const struct cmd_option *o)
{
	char buf[128];
	int n;

	if (o->val > 0 && o->val < CMD_OPT_LONG_ONLY)
		n = snprintf(buf, sizeof(buf), "  -%c, --%s%s%s", o->val, o->name,
			     o->arg ? " " : "", o->arg ? o->arg : "");
	else
		n = snprintf(buf, sizeof(buf), "      --%s%s%s", o->name, o->arg ? " " : "",
			     o->arg ? o->arg : "");
	if (f)
		fputs(buf, f);
	return n;
}

void cmd_options_help(FILE *f, const struct cmd_option *t)
{
	int col = 0;

	for (const struct cmd_option *o = t; o->name; o++) {
		int n = option_left(NULL, o);

		if (n > col)
			col = n;
	}
	col += 2;
	for (const struct cmd_option *o = t; o->name; o++) {
		const char *p = o->help, *nl;

		fprintf(f, "%*s", col - option_left(f, o), "");
		while ((nl = strchr(p, '\n'))) {
			fprintf(f, "%.*s\n%*s", (int)(nl - p), p, col, "");
			p = nl + 1;
		}
		fprintf(f, "%s\n", p);
	}
}
