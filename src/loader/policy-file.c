/* The policy file's parser and queries; the format is in policy-file.h.
 *
 * The parser is strict (an unknown directive is an error, not ignored) because a typo in a
 * deny line silently allowing a module is the failure that matters here; the shim decides
 * what to do with an unparsable file (it allows all and says so, never blocking boot). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/policy-file.h"
#include "util/log.h"
#include "util/option-table.h"

#define POLICY_FILE_MAX (1 << 20)
#define PATTERN_MAX 255

/* Normalise a name or pattern: '-' -> '_' outside [...] classes (where '-' is a range). */
static void normalize(char *s)
{
	bool in_class = false;

	for (; *s; s++) {
		if (*s == '[')
			in_class = true;
		else if (*s == ']')
			in_class = false;
		else if (*s == '-' && !in_class)
			*s = '_';
	}
}

bool pml_module_glob_match(const char *pattern, const char *module)
{
	char p[PATTERN_MAX + 1], m[PATTERN_MAX + 1];

	if (strlen(pattern) > PATTERN_MAX || strlen(module) > PATTERN_MAX)
		return false;
	strcpy(p, pattern);
	strcpy(m, module);
	normalize(p);
	normalize(m);
	return fnmatch(p, m, 0) == 0;
}

void pml_policy_file_free(struct pml_policy_file *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++)
		free(p->rules[i].pattern);
	free(p->rules);
	free(p->name);
	free(p);
}

struct parser {
	struct pml_policy_file *p;
	const char *name;
	unsigned line;
	unsigned budget_line, idle_line;
	char *msg;
	size_t msg_size;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *ps, int err,
						       const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* The _msg variants hand the message to the caller, the others log it. */
	if (ps->msg && ps->msg_size)
		snprintf(ps->msg, ps->msg_size, "%s:%u: %s", ps->name, ps->line, text);
	else
		pml_err("%s:%u: %s", ps->name, ps->line, text);
	return err;
}

/* Module names and globs: what a module name or alias can hold, plus glob syntax. */
static bool pattern_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > PATTERN_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-*?[]!:.,+@", *s))
			return false;
	return true;
}

static int add_rule(struct parser *ps, enum pml_policy_rule_kind kind, const char *pattern)
{
	struct pml_policy_file *p = ps->p;
	struct pml_policy_rule *r;

	r = realloc(p->rules, (p->n_rules + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->rules = r;
	r = &p->rules[p->n_rules];
	r->kind = kind;
	r->line = ps->line;
	r->pattern = strdup(pattern);
	if (!r->pattern)
		return -ENOMEM;
	normalize(r->pattern);
	p->n_rules++;
	return 0;
}

static int parse_magic(struct parser *ps, char **tok, size_t n)
{
	char *end;
	long v;

	if (n == 0 || strcmp(tok[0], PML_POLICY_FILE_MAGIC))
		return fail(ps, -EINVAL,
			    "not a pml policy file: the first line must be '%s %d' "
			    "(add it, then one rule per line: deny MODULE, allow MODULE, "
			    "pin MODULE, budget-mem SIZE, idle-unload TIME)",
			    PML_POLICY_FILE_MAGIC, PML_POLICY_FILE_VERSION);
	if (n != 2)
		return fail(ps, -EINVAL, "the first line must be '%s %d', with the version",
			    PML_POLICY_FILE_MAGIC, PML_POLICY_FILE_VERSION);
	errno = 0;
	v = strtol(tok[1], &end, 10);
	if (errno || *end || v < 1)
		return fail(ps, -EINVAL, "bad version '%s' (this pml reads version %d)", tok[1],
			    PML_POLICY_FILE_VERSION);
	if (v > PML_POLICY_FILE_VERSION)
		return fail(ps, -EPROTONOSUPPORT,
			    "version %ld is newer than this pml reads (%d): upgrade pml, or "
			    "write the file for version %d",
			    v, PML_POLICY_FILE_VERSION, PML_POLICY_FILE_VERSION);
	return 0;
}

#define TOK_MAX 4

static int parse_directive(struct parser *ps, char **tok, size_t n)
{
	static const struct {
		const char *word;
		enum pml_policy_rule_kind kind;
	} rules[] = {{"deny", PML_RULE_DENY}, {"allow", PML_RULE_ALLOW}, {"pin", PML_RULE_PIN}};
	const char *d = tok[0];
	char why[256];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(d, rules[i].word))
			continue;
		if (n < 2)
			return fail(ps, -EINVAL, "%s needs a module name or glob", d);
		if (n > 2)
			return fail(ps, -EINVAL,
				    "%s takes one module name or glob (one rule per line)", d);
		if (!pattern_ok(tok[1]))
			return fail(ps, -EINVAL, "%s: '%.64s' is not a module name or glob", d,
				    tok[1]);
		return add_rule(ps, rules[i].kind, tok[1]);
	}
	if (!strcmp(d, "budget-mem")) {
		if (n != 2)
			return fail(ps, -EINVAL, "budget-mem takes one size (e.g. 64M)");
		if (ps->budget_line)
			return fail(ps, -EINVAL, "budget-mem given twice (first on line %u)",
				    ps->budget_line);
		if (pml_num_parse_i64(PML_NUMOPT(BUDGET_MEM), "budget-mem", tok[1],
				      &ps->p->budget_mem, why, sizeof(why)) < 0)
			return fail(ps, -EINVAL, "%s", why);
		ps->budget_line = ps->line;
		return 0;
	}
	if (!strcmp(d, "idle-unload")) {
		if (n != 2)
			return fail(ps, -EINVAL, "idle-unload takes one duration (e.g. 5s)");
		if (ps->idle_line)
			return fail(ps, -EINVAL, "idle-unload given twice (first on line %u)",
				    ps->idle_line);
		if (pml_num_parse(PML_NUMOPT(FILE_IDLE_UNLOAD), "idle-unload", tok[1],
				  &ps->p->idle_unload_s, why, sizeof(why)) < 0)
			return fail(ps, -EINVAL, "%s", why);
		ps->idle_line = ps->line;
		return 0;
	}
	if (!strcmp(d, PML_POLICY_FILE_MAGIC))
		return fail(ps, -EINVAL, "'%s' belongs on the first line only", d);
	return fail(ps, -EINVAL,
		    "unknown directive '%.64s' (known: deny, allow, pin, budget-mem, idle-unload)",
		    d);
}

int pml_policy_file_parse_msg(const char *text, const char *name,
			      struct pml_policy_file **ret, char *msg, size_t msg_size)
{
	struct parser ps = {.name = name ? name : "policy", .msg = msg, .msg_size = msg_size};
	char *copy = strdup(text ? text : ""), *line, *next;
	int r = 0;

	if (msg && msg_size)
		msg[0] = '\0';
	ps.p = calloc(1, sizeof(*ps.p));
	if (!copy || !ps.p || !(ps.p->name = strdup(ps.name))) {
		r = -ENOMEM;
		goto out;
	}
	ps.p->budget_mem = -1;
	ps.p->idle_unload_s = -1;
	for (line = copy; line && r == 0; line = next) {
		char *tok[TOK_MAX], *t, *save = NULL;
		size_t n = 0;

		ps.line++;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if ((t = strchr(line, '#')))
			*t = '\0';
		for (t = strtok_r(line, " \t\r\f\v", &save); t && n < TOK_MAX;
		     t = strtok_r(NULL, " \t\r\f\v", &save))
			tok[n++] = t;
		if (ps.line == 1) {
			r = parse_magic(&ps, tok, n);
			continue;
		}
		if (n > 0)
			r = parse_directive(&ps, tok, t ? TOK_MAX + 1 : n);
	}
out:
	free(copy);
	if (r < 0) {
		pml_policy_file_free(ps.p);
		return r;
	}
	*ret = ps.p;
	return 0;
}

int pml_policy_file_parse(const char *text, const char *name, struct pml_policy_file **ret)
{
	return pml_policy_file_parse_msg(text, name, ret, NULL, 0);
}

int pml_policy_file_load_msg(const char *path, struct pml_policy_file **ret, char *msg,
			     size_t msg_size)
{
	struct stat st;
	char *buf;
	ssize_t got;
	size_t len = 0;
	int fd, r;

	if (msg && msg_size)
		msg[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode) || st.st_size > POLICY_FILE_MAX) {
		r = !S_ISREG(st.st_mode) ? -EINVAL : -EFBIG;
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s: %s", path,
				 r == -EFBIG ? "larger than 1 MiB" : "not a regular file");
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		got = read(fd, buf + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		if (msg && msg_size)
			snprintf(msg, msg_size, "%s: contains a NUL byte (not a text file)", path);
		return -EINVAL;
	}
	{
		/* Messages name the file as the user would: its base name. */
		const char *base = strrchr(path, '/');

		r = pml_policy_file_parse_msg(buf, base ? base + 1 : path, ret, msg, msg_size);
	}
	free(buf);
	return r;
}

int pml_policy_file_load(const char *path, struct pml_policy_file **ret)
{
	char msg[512];
	int r = pml_policy_file_load_msg(path, ret, msg, sizeof(msg));

	if (r < 0)
		pml_err("%s", msg[0] ? msg : strerror(-r));
	return r;
}

bool pml_policy_file_denies(const struct pml_policy_file *p, const char *module,
			    const struct pml_policy_rule **ret_rule)
{
	const struct pml_policy_rule *match = NULL;

	if (ret_rule)
		*ret_rule = NULL;
	if (!p)
		return false;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pml_policy_rule *r = &p->rules[i];

		if (r->kind != PML_RULE_PIN && pml_module_glob_match(r->pattern, module))
			match = r;
	}
	if (ret_rule)
		*ret_rule = match;
	return match && match->kind == PML_RULE_DENY;
}

bool pml_policy_file_pinned(const struct pml_policy_file *p, const char *module)
{
	if (!p)
		return false;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].kind == PML_RULE_PIN &&
		    pml_module_glob_match(p->rules[i].pattern, module))
			return true;
	return false;
}
