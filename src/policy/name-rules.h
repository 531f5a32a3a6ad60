/* The naming rules: the modules a program names, read from its words.
 *
 * A script or a command often says which kernel feature it is about to use, in the words
 * the kernel's module aliases are made of: `ip link add x type vxlan` (rtnl-link-vxlan),
 * `mount -t xfs` and `mkfs.xfs` (fs-xfs), `tc qdisc add ... netem` (sch_netem), `modprobe
 * sctp`. These rules read the token strings of the features (model/features.h: exec:PROG
 * starts a command, arg:WORD are its words; the prior's, from the command line and the
 * script text, and every executed command's, from the trace), turn the words into aliases,
 * and ask the module index (the driver's resolver: libkmod live, the catalog in replay)
 * what they resolve to. So they name modules no model was trained on, and words no
 * vocabulary holds.
 *
 * They are a source of predictions, not a policy: the `names` policy (names.c) acts on
 * them alone, and lstm (lstm.c) takes them beside its model. A named module is a
 * prediction of confidence PML_NAME_RULES_P, held PML_NAME_RULES_HOLD_NS before an unused
 * one may be taken back (a script names its modules long before it uses them). The
 * dataset's pml_expect lines (its labels) and comments never reach the rules: the prior's
 * tokenizer drops them.
 *
 * Pure but for the resolver: no allocation, no clock, no I/O of its own. */
#ifndef PML_POLICY_NAME_RULES_H
#define PML_POLICY_NAME_RULES_H

#include <stddef.h>

#include "model/features.h"

/* The confidence of a named module, and how long one named but unused is held. */
#define PML_NAME_RULES_P 0.95f
#define PML_NAME_RULES_HOLD_NS (5ull * 1000000000)

/* Resolves an alias or a module name to module names (up to max); returns the count (0:
 * none) or -errno. The same as pml_policy_config.resolve_fn. */
typedef int (*pml_name_resolve_fn)(void *data, const char *alias, char (*names)[64],
				   size_t max);
/* Told each module a rule named (as the resolver spells it) with the words that named it
 * ("type vxlan"); both valid during the call only. */
typedef void (*pml_name_fn)(void *ctx, const char *module, const char *words);

/* Embedded in its user's state; no release needed. */
struct pml_name_rules {
	pml_name_resolve_fn resolve;
	void *resolve_data;
	pml_name_fn on_name;
	void *ctx;
	/* the command being read: its program, the word before; cmd: the program of the
	 * latest command (kept past its end), before and before2: those of the two
	 * commands before it (name-wait.h) */
	char prog[64], prev[64];
	char cmd[64], before[64], before2[64];
};

/* Set r up: resolve (with resolve_data) asks the index, on_name (with ctx) hears what is
 * named. */
void pml_name_rules_init(struct pml_name_rules *r, pml_name_resolve_fn resolve,
			 void *resolve_data, pml_name_fn on_name, void *ctx);
/* One token string through the rules, in stream order. */
void pml_name_rules_token(struct pml_name_rules *r, const char *tok);
/* The tokens of one trace record (pml_feat_encoder_last, pml_features_record). */
void pml_name_rules_record(struct pml_name_rules *r, const struct pml_feat_tokens *t);
/* The prior (the command line, the script text; either may be NULL), then a clean context
 * for the trace. */
void pml_name_rules_prior(struct pml_name_rules *r, const char *command, const char *script);

#endif
