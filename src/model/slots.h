/* The slot model: an open-vocabulary predictor of the modules a program names (issue 17).
 *
 * The kernel asks for modules by aliases built from a few templates: rtnl-link-KIND,
 * fs-TYPE, sch_/cls_/act_NAME, nft-expr-NAME, xt_NAME, ip_vs_SCHED, crypto-ALG,
 * nls_CHARSET, tcp_CONG, ip_set_TYPE, dm-TARGET and plain module names. A program that is
 * about to use such a module very often spells the variable part out in its words (`ip
 * link add x type vxlan`, `mkfs.xfs`, `tc filter ... flower`, `ipset create s hash:ip`),
 * seconds to milliseconds before the kernel asks. The slot model fills every template
 * with every word of every command (the word as written, with '-' and '.' as '_', its
 * parts around ',', '=', '.', ':', '-', a compound word's parts run
 * together (hash:ip,port: hash_ipport), the value of KEY=VALUE, the part of a program's
 * name after its dot), keeps the fillings the kernel's index resolves to a module (so any
 * of its ~4000 modules can be predicted, seen in training or not), and scores each with a
 * logistic model over features of the context that carry across programs: the template,
 * the word before ("type", "-t", "-j"), the program and its sub-command ("tc filter"),
 * the form of the word, whether it is an option's value, where it came from (the script's
 * text or an executed command), its role (after an option, its position) and the word
 * itself. No feature is the module's name: what is learned is which contexts name a
 * module through which template, and which words name one wherever they are written; a
 * word no training run had gets no weight of its own and is judged by its context alone.
 * The naming rules (policy/name-rules.h) hand-code a few such contexts;
 * this learns them, and others, from the dataset's traces (slots-train.c).
 *
 * A candidate whose score reaches the model's threshold is a prediction: the slots policy
 * (policy/names.c) acts on it as the names policy acts on a rule's naming.
 *
 * The model file: "PMLSLOT1" magic, a version, the kernel series it was trained on, the
 * threshold, the sparse weights (index, value) in ascending index order, and a CRC32 of
 * every byte before it. Read as untrusted input: every count, index and value is checked
 * (finite weights of a bounded size, a threshold in (0, 1)). */
#ifndef PML_MODEL_SLOTS_H
#define PML_MODEL_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_SLOTS_MAGIC "PMLSLOT1"
#define PML_SLOTS_VERSION 1
#define PML_SLOTS_BITS 18 /* feature hashes: indices below 1 << PML_SLOTS_BITS */
#define PML_SLOTS_MAX_FEATS 28
#define PML_SLOTS_MAX_WEIGHTS (1u << PML_SLOTS_BITS)

/* Resolves an alias to module names (up to max); the count, 0 for none, or -errno
 * (pml_policy_config.resolve_fn's shape). */
typedef int (*pml_slots_resolve_fn)(void *data, const char *alias, char (*names)[64],
				    size_t max);

/* One candidate: a template filled with a word that resolves to module. */
struct pml_slot_cand {
	const char *module;   /* as the resolver spells it */
	const char *alias;    /* the filled template */
	const char *words;    /* the words that named it, for the decision log ("type vxlan") */
	int tmpl;	      /* index of the template */
	uint32_t feats[PML_SLOTS_MAX_FEATS];
	int n_feats;
	float score;	      /* the model's probability (0 without a model) */
	bool prior;	      /* from the script's or command line's text, not a trace record */
};

/* Told each candidate (valid during the call only). */
typedef void (*pml_slot_fn)(void *ctx, const struct pml_slot_cand *c);

struct pml_slots_model {
	char kernel_series[32]; /* "6.1": the series the weights were trained on */
	float threshold;
	uint32_t n;	 /* nonzero weights */
	uint32_t *idx;	 /* [n] ascending */
	float *w;	 /* [n] */
	float bias;
	/* an open-addressing index of idx (pml_slots_model_index; NULL: binary search) */
	uint32_t *h_key; /* [h_mask + 1], index + 1, 0: empty */
	float *h_w;
	uint32_t h_mask;
};

/* The reader of a token stream (model/features.h strings), in its user's state. */
struct pml_slots {
	const struct pml_slots_model *model; /* NULL: every candidate scores 0 */
	pml_slots_resolve_fn resolve;
	void *resolve_data;
	pml_slot_fn on_cand;
	void *ctx;
	bool in_prior;
	/* the command being read */
	char prog[64], prev[64], sub[64];
	/* the program of the latest command (kept past its end), and of the two commands
	 * before it (policy/name-wait.h) */
	char cmd[64], before[64], before2[64];
	int pos;
};

void pml_slots_init(struct pml_slots *s, const struct pml_slots_model *model,
		    pml_slots_resolve_fn resolve, void *resolve_data, pml_slot_fn on_cand,
		    void *ctx);
/* One token string, in stream order. With a model, only the candidates that reach its
 * threshold are told (a filling that cannot is not resolved at all); without one, every
 * candidate the index resolves (training). */
void pml_slots_token(struct pml_slots *s, const char *tok);
/* The prior (command line, script text; either may be NULL) through the same reader, then
 * a clean context for the trace. */
void pml_slots_prior(struct pml_slots *s, const char *command, const char *script);

/* The number of templates, and one's text ("rtnl-link-%s" shape: prefix and suffix). */
int pml_slots_n_templates(void);
const char *pml_slots_template_prefix(int tmpl);

/* Build m's hash index of its weights (scoring without it searches the sorted list). 0 or
 * -ENOMEM (the model still scores, more slowly). */
int pml_slots_model_index(struct pml_slots_model *m);

/* The model's probability for the features. */
float pml_slots_score(const struct pml_slots_model *m, const uint32_t *feats, int n);

/* Read a model file. 0, or -ENOENT, -EINVAL (not a slot model, or a bad field: logged
 * naming the file and the field), -EPROTONOSUPPORT (a newer version), -EBADMSG (the
 * checksum), -EXDEV (trained on another kernel series than kernel_release's, when that is
 * not NULL), -ENOMEM. */
int pml_slots_model_read(const char *path, const char *kernel_release,
			 struct pml_slots_model **ret);
/* The same from bytes in memory (path names them in messages). */
int pml_slots_model_parse(const void *data, size_t size, const char *path,
			  const char *kernel_release, struct pml_slots_model **ret);
/* Write one (temporary file, rename). 0 or -errno. */
int pml_slots_model_write(const char *path, const struct pml_slots_model *m);
void pml_slots_model_free(struct pml_slots_model *m);

#endif
