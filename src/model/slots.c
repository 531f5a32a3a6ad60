/* The slot model (slots.h): templates filled with a program's words, the candidates the
 * kernel's index resolves, their features and score. The file: slots-file.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/slots.h"
#include "util/log.h"
#include "util/modname.h"

/* The kernel's alias and module-name families a word fills (prefix, the word after it).
 * The list is the kernel's naming, not the corpus': issue 17 names these families. */
static const char *const templates[] = {
	"",		/* a module's own name or a whole alias: modprobe sctp, bridge */
	"fs-",		/* mount -t, mkfs.TYPE */
	"rtnl-link-",	/* ip link add ... type KIND */
	"sch_", "cls_", "act_", /* tc qdiscs, filters, actions */
	"nft-expr-", "nft-chain-2-", "nft-chain-10-", "nft-obj-",
	"xt_", "ipt_", "ip6t_", "ebt_", "arpt_",
	"ip_vs_",	/* ipvsadm -s SCHED */
	"ip_set_",	/* ipset create NAME TYPE */
	"nf_conntrack_", "nf_nat_",
	"crypto-",	/* an algorithm's name */
	"algif_",	/* AF_ALG types */
	"nls_", "nls_cp", /* iocharset=, codepage= */
	"tcp_",		/* congestion control */
	"dm-",		/* device-mapper targets */
	"raid",		/* md levels */
	"net-pf-",
};
#define N_TMPL ((int)(sizeof(templates) / sizeof(*templates)))

int pml_slots_n_templates(void)
{
	return N_TMPL;
}

const char *pml_slots_template_prefix(int tmpl)
{
	return tmpl >= 0 && tmpl < N_TMPL ? templates[tmpl] : NULL;
}

/* The forms of a word: how it is written into a template. */
enum form {
	F_WORD,	 /* as written */
	F_UNDER, /* '-', '.', ':' as '_' */
	F_PART,	 /* one part around , = . : / + */
	F_VAL,	 /* the value of KEY=VALUE */
	F_EXEC,	 /* a program's own name */
	F_DOT,	 /* a program's name after its first dot: mkfs.xfs */
	F_STEM,	 /* a program's name without a tool suffix: zramctl */
	F_JOIN,	 /* F_UNDER without its ',': hash:ip,port as hash_ipport */
	F_COUNT
};
static const char *const form_names[F_COUNT] = {"word", "under", "part", "val",
						"exec", "dot", "stem", "join"};

void pml_slots_init(struct pml_slots *s, const struct pml_slots_model *model,
		    pml_slots_resolve_fn resolve, void *resolve_data, pml_slot_fn on_cand,
		    void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->model = model;
	s->resolve = resolve;
	s->resolve_data = resolve_data;
	s->on_cand = on_cand;
	s->ctx = ctx;
}

/* ---- features ---------------------------------------------------------------------- */

static uint32_t fnv(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* A context feature's hash: "name=value". */
static uint32_t base_feat(const char *name, const char *value)
{
	uint32_t h = fnv(2166136261u, name);

	return fnv(fnv(h, "="), value);
}

/* A base feature crossed with template tmpl (-1: with none), into the weight index. */
static uint32_t cross(uint32_t base, int tmpl)
{
	uint32_t h = (base ^ (uint32_t)(tmpl + 2)) * 0x9e3779b1u;

	h ^= h >> 15;
	return h & (PML_SLOTS_MAX_WEIGHTS - 1);
}

struct ctx {
	enum form form;
	const char *key;  /* F_VAL: the key, else "" */
	const char *word; /* the form filled in */
};

/* The context's features, once per filled word; the last one is the shape, which differs
 * when the filling resolves to a module of its own name (exact): shape[0] without,
 * shape[1] with. */
#define MAX_BASE (PML_SLOTS_MAX_FEATS / 2)
struct base {
	uint32_t h[MAX_BASE];
	int n;
	uint32_t shape[2];
};

/* The program's stem: its name up to a '.', '-' or digit ("mkfs.xfs" -> "mkfs",
 * "ip6tables" -> "ip"). */
static void prog_stem(const char *prog, char *out, size_t size)
{
	size_t n = strcspn(prog, ".-0123456789");

	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), prog);
}

static void base_features(const struct pml_slots *s, const struct ctx *x, struct base *b)
{
	const char *form = form_names[x->form];
	char stem[64], pair[160], shape[8];
	int len = (int)strlen(x->word);
	bool exec = x->form == F_EXEC || x->form == F_DOT || x->form == F_STEM;
	const char *prev = exec ? "^" : s->prev;

	b->n = 0;
	prog_stem(s->prog, stem, sizeof(stem));
	b->h[b->n++] = base_feat("b", "");
	b->h[b->n++] = base_feat("k", form);
	b->h[b->n++] = base_feat("p", s->prog);
	b->h[b->n++] = base_feat("pst", stem);
	b->h[b->n++] = base_feat("v", prev);
	b->h[b->n++] = base_feat("src", s->in_prior ? "prior" : "trace");
	if (!exec) {
		snprintf(pair, sizeof(pair), "%s|%s", s->prog, s->sub);
		b->h[b->n++] = base_feat("ps", pair);
		snprintf(pair, sizeof(pair), "%s|%s", s->prog, prev);
		b->h[b->n++] = base_feat("pv", pair);
		/* the word's role: after an option, a word or nothing; its position */
		b->h[b->n++] = base_feat("vo", prev[0] == '-' ? "opt" : prev[0] ? "word" : "none");
		snprintf(pair, sizeof(pair), "%d", s->pos < 4 ? s->pos : 4);
		b->h[b->n++] = base_feat("pos", pair);
	}
	/* the word itself: seen in training, what it named there ("netem" fills sch_ wherever
	 * it is written); unseen (a family no training run had), no weight */
	if (b->n < MAX_BASE - 1)
		b->h[b->n++] = base_feat("w", x->word);
	if (x->key[0])
		b->h[b->n++] = base_feat("key", x->key);
	for (int e = 0; e < 2; e++) {
		snprintf(shape, sizeof(shape), "%d%s%s",
			 len < 3 ? 0 : len < 6 ? 1 : len < 10 ? 2 : 3,
			 strpbrk(x->word, "0123456789") ? "d" : "", e ? "x" : "");
		b->shape[e] = base_feat("sh", shape);
	}
}

/* A candidate's features: every context feature crossed with its template and alone (what
 * names a module of any family: the part that carries to a template the training runs
 * never filled). */
static int features(const struct base *b, int tmpl, bool exact, uint32_t *out)
{
	int n = 0;

	for (int i = 0; i <= b->n; i++) {
		uint32_t h = i < b->n ? b->h[i] : b->shape[exact];

		out[n++] = cross(h, tmpl);
		out[n++] = cross(h, -1);
	}
	return n;
}

int pml_slots_model_index(struct pml_slots_model *m)
{
	uint32_t size = 16;

	while (size < 2 * m->n)
		size *= 2;
	free(m->h_key);
	free(m->h_w);
	m->h_key = calloc(size, sizeof(*m->h_key));
	m->h_w = calloc(size, sizeof(*m->h_w));
	if (!m->h_key || !m->h_w) {
		free(m->h_key);
		free(m->h_w);
		m->h_key = NULL;
		m->h_w = NULL;
		return -ENOMEM;
	}
	m->h_mask = size - 1;
	for (uint32_t i = 0; i < m->n; i++) {
		uint32_t at = (m->idx[i] * 0x9e3779b1u) & m->h_mask;

		while (m->h_key[at])
			at = (at + 1) & m->h_mask;
		m->h_key[at] = m->idx[i] + 1;
		m->h_w[at] = m->w[i];
	}
	return 0;
}

/* The weight of one feature index (0 when absent). */
static float weight(const struct pml_slots_model *m, uint32_t f)
{
	uint32_t lo = 0, hi = m->n;

	if (m->h_key) {
		for (uint32_t at = (f * 0x9e3779b1u) & m->h_mask; m->h_key[at];
		     at = (at + 1) & m->h_mask)
			if (m->h_key[at] == f + 1)
				return m->h_w[at];
		return 0;
	}

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->idx[mid] < f)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->idx[lo] == f ? m->w[lo] : 0;
}

static float sigmoid(double z)
{
	return (float)(1.0 / (1.0 + exp(-z)));
}

float pml_slots_score(const struct pml_slots_model *m, const uint32_t *feats, int n)
{
	double z;

	if (!m)
		return 0;
	z = m->bias;
	for (int i = 0; i < n; i++)
		z += weight(m, feats[i]);
	return sigmoid(z);
}

/* ---- candidates -------------------------------------------------------------------- */

/* Whether w can fill a template: 2-32 bytes of [a-z0-9_-], the first not _ or -. */
static bool fillable(const char *w)
{
	size_t n = strlen(w);

	if (n < 2 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') ||
		      (i && (w[i] == '_' || w[i] == '-'))))
			return false;
	return true;
}

static void fill(struct pml_slots *s, enum form form, const char *key, const char *word,
		 const char *words)
{
	char alias[112], names[4][64];
	struct ctx x = {form, key, word};
	struct base b;

	double shared = 0, shared_shape[2] = {0, 0};

	if (!fillable(word) || !s->resolve)
		return;
	base_features(s, &x, &b);
	if (s->model) {
		shared = s->model->bias;
		for (int i = 0; i < b.n; i++)
			shared += weight(s->model, cross(b.h[i], -1));
		for (int e = 0; e < 2; e++)
			shared_shape[e] = weight(s->model, cross(b.shape[e], -1));
	}
	for (int t = 0; t < N_TMPL; t++) {
		int n;

		/* a plain number names nothing but a codepage, a raid level, a family */
		if (word[strspn(word, "0123456789")] == '\0' && strcmp(templates[t], "nls_cp") &&
		    strcmp(templates[t], "raid") && strcmp(templates[t], "net-pf-"))
			continue;
		/* with a model, a filling that cannot reach its threshold whatever it resolves
		 * to is not asked of the index (a look-up costs tens of microseconds); the
		 * uncrossed half of the sum is the same for every template: summed once */
		if (s->model) {
			double z = shared;

			for (int i = 0; i < b.n; i++)
				z += weight(s->model, cross(b.h[i], t));
			if (sigmoid(z + shared_shape[0] + weight(s->model, cross(b.shape[0], t))) <
				    s->model->threshold &&
			    sigmoid(z + shared_shape[1] + weight(s->model, cross(b.shape[1], t))) <
				    s->model->threshold)
				continue;
		}
		snprintf(alias, sizeof(alias), "%s%s", templates[t], word);
		n = s->resolve(s->resolve_data, alias, names, 4);
		for (int i = 0; i < n && i < 4; i++) {
			struct pml_slot_cand c = {.module = names[i], .alias = alias,
						  .words = words, .tmpl = t,
						  .prior = s->in_prior};

			c.n_feats = features(&b, t, pml_module_name_eq(names[i], alias), c.feats);
			c.score = pml_slots_score(s->model, c.feats, c.n_feats);
			s->on_cand(s->ctx, &c);
		}
	}
}

static void lower(const char *in, char *out, size_t size)
{
	size_t i = 0;

	for (; in[i] && i < size - 1; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
	out[i] = '\0';
}

/* Every form of an argument word. */
static void arg_forms(struct pml_slots *s, const char *raw)
{
	char w[64], under[64], words[48], buf[64];
	const char *eq;
	int parts = 0;

	lower(raw, w, sizeof(w));
	snprintf(words, sizeof(words), "%.16s %.28s", s->prev[0] ? s->prev : s->prog, raw);
	eq = strchr(w, '=');
	if (eq && eq > w && eq[1]) {
		char key[32];
		const char *k = w;

		while (*k == '-')
			k++;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - k > 0 ? eq - k : 0), k);
		/* its value, and the value's parts (-o loop,iocharset=utf8 splits below) */
		snprintf(buf, sizeof(buf), "%s", eq + 1);
		buf[strcspn(buf, ",")] = '\0';
		fill(s, F_VAL, key, buf, words);
	}
	if (w[0] == '-')
		return; /* an option's own name names nothing */
	fill(s, F_WORD, "", w, words);
	snprintf(under, sizeof(under), "%s", w);
	for (char *p = under; *p; p++)
		if (*p == '-' || *p == '.' || *p == ':')
			*p = '_';
	if (strcmp(under, w))
		fill(s, F_UNDER, "", under, words);
	if (strchr(under, ',') && !strchr(under, '=')) {
		char *o = buf;

		for (const char *p = under; *p; p++)
			if (*p != ',')
				*o++ = *p;
		*o = '\0';
		fill(s, F_JOIN, "", buf, words);
	}
	/* parts: a list (loop,ro), a key=value, hash.ip (':' is '.' in a token: the
	 * tokenizer gives the compound word whole, then its parts), a compound
	 * (serpent-xts-plain64) */
	snprintf(buf, sizeof(buf), "%s", w);
	if (strpbrk(buf, ",=.:/+-")) {
		for (char *save = NULL, *p = strtok_r(buf, ",=.:/+-", &save); p && parts < 6;
		     p = strtok_r(NULL, ",=.:/+-", &save), parts++) {
			char *e = strchr(p, '=');

			if (e)
				*e = '\0';
			fill(s, F_PART, "", p, words);
		}
	}
}

static void exec_forms(struct pml_slots *s)
{
	static const char *const suffixes[] = {"ctl", "adm", "setup", "-client", "-server"};
	const char *dot = strchr(s->prog, '.');
	char w[64], stem[64];

	lower(s->prog, w, sizeof(w));
	fill(s, F_EXEC, "", w, s->prog);
	if (dot && dot[1]) {
		lower(dot + 1, stem, sizeof(stem));
		fill(s, F_DOT, "", stem, s->prog);
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
		size_t n = strlen(w), k = strlen(suffixes[i]);

		if (n > k + 1 && !strcmp(w + n - k, suffixes[i])) {
			snprintf(stem, sizeof(stem), "%.*s", (int)(n - k), w);
			fill(s, F_STEM, "", stem, s->prog);
		}
	}
}

void pml_slots_token(struct pml_slots *s, const char *tok)
{
	const char *w;

	if (!strcmp(tok, "<prior>")) {
		s->in_prior = true;
		return;
	}
	if (!strcmp(tok, "<start>")) {
		s->in_prior = false;
		s->prog[0] = s->prev[0] = s->sub[0] = '\0';
		return;
	}
	if (!strncmp(tok, "exec:", 5)) {
		snprintf(s->prog, sizeof(s->prog), "%s", tok + 5);
		memcpy(s->before2, s->before, sizeof(s->before));
		memcpy(s->before, s->cmd, sizeof(s->cmd));
		snprintf(s->cmd, sizeof(s->cmd), "%s", tok + 5);
		s->prev[0] = s->sub[0] = '\0';
		s->pos = 0;
		exec_forms(s);
		return;
	}
	if (!strncmp(tok, "argp:", 5)) {
		s->prev[0] = '\0'; /* a path: a word of the same command */
		s->pos++;
		return;
	}
	if (strncmp(tok, "arg:", 4) || !s->prog[0]) {
		s->prog[0] = s->prev[0] = s->sub[0] = '\0';
		return;
	}
	/* arg:SHAPE:word or arg:word: the word is the last part */
	w = strrchr(tok, ':') + 1;
	s->pos++;
	if (*w && *w != '#')
		arg_forms(s, w);
	if (!s->sub[0] && *w && *w != '-')
		snprintf(s->sub, sizeof(s->sub), "%s", w);
	snprintf(s->prev, sizeof(s->prev), "%s", w);
}

static int prior_emit(void *ctx, const char *tok)
{
	pml_slots_token(ctx, tok);
	return 0;
}

void pml_slots_prior(struct pml_slots *s, const char *command, const char *script)
{
	s->cmd[0] = s->before[0] = s->before2[0] = '\0';
	pml_features_prior(command, script, prior_emit, s);
	s->in_prior = false;
	s->prog[0] = s->prev[0] = s->sub[0] = s->cmd[0] = s->before[0] = s->before2[0] = '\0';
}
