/* The policy file (/etc/pml/policy.conf): what an administrator tells pml about modules.
 * Read by the modprobe shim on every kernel request (so it is small and quick to parse)
 * and by pmld.
 *
 *   pml-policy 1              # first line: magic and format version
 *   deny sctp                 # never load it (the program gets the kernel's error)
 *   deny nf_*                 # globs: * ? [..]; '-' and '_' are the same in names
 *   allow nf_tables           # the last deny/allow line that matches a module wins
 *   pin ext4                  # never unload (globs allowed)
 *   budget-mem 64M            # bytes of loaded non-base modules: K, M, G, T (1024), up to 1T
 *   idle-unload 5s            # unload after this idle time: ms, s, m, h; up to 1 day
 *
 * No line matching a module means allowed. Errors name the file and line.
 *
 * It lives in `loader` because the loader's shim applies its deny list on every request,
 * and the layers above (resource budgets, policies, pmld) read it from here. */
#ifndef PML_LOADER_POLICY_FILE_H
#define PML_LOADER_POLICY_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PML_POLICY_FILE_MAGIC "pml-policy"
#define PML_POLICY_FILE_VERSION 1
#define PML_POLICY_FILE_DEFAULT "/etc/pml/policy.conf"

enum pml_policy_rule_kind {
	PML_RULE_DENY,
	PML_RULE_ALLOW,
	PML_RULE_PIN,
};

struct pml_policy_rule {
	enum pml_policy_rule_kind kind;
	char *pattern; /* normalised: '-' -> '_' outside [...] */
	unsigned line;
};

struct pml_policy_file {
	char *name; /* the file name given, for messages */
	struct pml_policy_rule *rules;
	size_t n_rules;
	int64_t budget_mem;   /* bytes, -1 when not set */
	double idle_unload_s; /* seconds, -1 when not set */
};

/* Parse text (name is used in messages). Returns 0 and *ret (free with
 * pml_policy_file_free), or -EINVAL on a syntax error, -EPROTONOSUPPORT on a version newer
 * than this pml reads, -ENOMEM. On error the message ("policy.conf:3: unknown directive
 * 'dney'") is written into msg by the _msg variants, logged with pml_err by the others. */
int pml_policy_file_parse(const char *text, const char *name, struct pml_policy_file **ret);
int pml_policy_file_parse_msg(const char *text, const char *name,
			      struct pml_policy_file **ret, char *msg, size_t msg_size);
/* Read and parse a file: as _parse, plus -ENOENT (and other open/read errors) when it
 * cannot be read, -EFBIG past 1 MiB. */
int pml_policy_file_load(const char *path, struct pml_policy_file **ret);
int pml_policy_file_load_msg(const char *path, struct pml_policy_file **ret, char *msg,
			     size_t msg_size);
void pml_policy_file_free(struct pml_policy_file *p);

/* Whether the policy refuses module (a module name; '-' and '_' equivalent). The matching
 * rule, if any, is returned through ret_rule (may be NULL). p NULL allows all. */
bool pml_policy_file_denies(const struct pml_policy_file *p, const char *module,
			    const struct pml_policy_rule **ret_rule);
/* Whether a pin line matches module. */
bool pml_policy_file_pinned(const struct pml_policy_file *p, const char *module);

/* Glob match of a module name against a pattern with '-' and '_' equivalent. */
bool pml_module_glob_match(const char *pattern, const char *module);

#endif
