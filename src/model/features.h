/* Features: what the module predictor reads. A trace record (trace-event.h) becomes zero,
 * one or several token strings; a vocabulary learned from the training split maps each
 * string to the integer the LSTM embeds (0: out of vocabulary).
 *
 * Token strings are colon-separated, most general part first, so that a string the
 * vocabulary does not know falls back to its longest known prefix (pml_vocab_lookup):
 *
 *   sc:read                              a plain system call (collapsed, see below)
 *   sock:AF_INET:SOCK_STREAM:IPPROTO_SCTP   socket(2): family, type, protocol
 *   sopt:6:31:tls                        setsockopt: level, optname, the ULP name
 *   bind:AF_ALG:skcipher, connect:AF_INET    bind/connect family (AF_ALG: salg_type)
 *   open:/dev:loop-control               open of a path, as a path class: /dev, /proc,
 *   open:/proc:#/status                  /sys, /etc, /usr ... keep up to 3 components
 *   open:/tmp                            with digits as '#' and random names as '*';
 *                                        scratch places (/tmp, /work, /mnt, relative
 *                                        paths) keep only their top directory
 *   exec:ip  arg:link  arg:add  arg:vx#:vx0  arg:type  arg:vxlan  arg:#:42
 *                                        an executed program's basename and its argument
 *                                        words, each shaped: digit runs become '#', hex,
 *                                        long and random-looking words a class; the word
 *                                        itself is the last part, so a word seen in
 *                                        enough training runs stays, a rare one (a random
 *                                        interface name) falls back to its shape; an
 *                                        argument holding blanks (sh -c's script, a dm
 *                                        table) gives each of its words, a word holding
 *                                        an unexpanded $x none; a word of lowercase
 *                                        parts joined by ':' and ',' (hash:ip,port) is
 *                                        given whole (arg:hash.ip,port), then its parts
 *   argp:/dev:loop#                      a path argument, as a path class
 *   mount:vfat  msrc:/dev:loop#          mount(2)'s fstype and source class
 *   ioctl:0x4c82                         ioctl command
 *   bpf:BPF_PROG_LOAD:6                  bpf(2) command and prog/map type
 *   key:asymmetric  keyctl:6             key type, keyctl operation
 *   lib:libmount.so                      a mapped library's basename, version cut
 *   nl:NETLINK_ROUTE:16:vxlan            netlink protocol, message type, RTM_NEWLINK kind
 *   modcall:finit_module  modcall:delete_module:sctp
 *   req:fs-vfat  req:netdev-*            a module_request's alias (after it happened)
 *   load:vfat  free:vfat                 module_load / module_free (after they happened)
 *   fork  exit  exit:fail  drops         process events
 *   <prior> ... <start>                  bracket the prior (below)
 *
 * The needs the model learns to predict come from the same records (module_request and
 * module_load, dataset/needs.h). The tokens of a need's records are emitted at the need's
 * own position, and the labels of a position only ever count needs strictly after it
 * (corpus.h), so the model sees a need only once it has happened.
 *
 * Collapsing: most records are plain system calls (header only) with no bearing on
 * modules. The calls every dynamically linked program makes at start-up or nearly every
 * process makes (read, write, close, mmap, brk, rseq ...: in record-tokens.c; in the
 * dataset each came once per exec, 16 tokens of noise per program) are dropped; any other
 * plain call is kept only the first time a process makes it since its last execve: a loop
 * of poll/sendto says "poll" once (which calls a program makes says what it is; how
 * often, little). On the guest acceptance trace 32 of its 828 plain calls remain. Also
 * dropped: a record whose tokens
 * equal the same process's previous non-plain record's (a shell trying each PATH entry
 * with the same execve, the four mappings of one library), the open of a shared library
 * (its mapping follows and names it), fork and exec tracepoints (the clone/execve calls
 * said it) and new threads.
 *
 * Time: when a record comes 100 ms or more after the previous record that gave tokens, a
 * gap token goes before its own (gap:100ms, gap:300ms, gap:1s, gap:3s, gap:10s), so the
 * model can tell a burst from a pause (a script's sleep, a slow network step).
 *
 * The prior: before the first record, the submitted command line and, for a script, its
 * text are tokenised like execve arguments (the first word of each command as exec:, the
 * rest as arguments), between <prior> and <start>. Comments are dropped, and so are the
 * dataset's own pml_expect lines (they name the expected modules: that would be the
 * label). A variable the text gave a literal value before (cc=bbr, then -C "$cc" or
 * ${cc}) reads as that value, as the shell would on a straight run (x=$(cmd) makes it
 * unknown again); other words holding a shell expansion ($x) are dropped, their value is
 * unknown, and so are the words of a quoted string that hold one ("0 $n thin-pool": 0
 * and thin-pool stay).
 *
 * Everything here is pure and deterministic (no I/O, no global state). */
#ifndef PML_MODEL_FEATURES_H
#define PML_MODEL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace-event.h"

/* The token scheme's version, recorded in the model file: a model is refused by a pml
 * whose features differ. */
#define PML_FEAT_VERSION 2
#define PML_FEAT_TOKEN_LEN 64	/* bytes, with the NUL; longer strings are cut */
#define PML_FEAT_MAX_TOKENS 12	/* per record */
#define PML_FEAT_MAX_PRIOR 1024 /* prior tokens kept (a longer script is cut) */

#define PML_TOK_OOV "<oov>"
#define PML_TOK_PRIOR "<prior>"
#define PML_TOK_START "<start>"

/* The tokens of one record. */
struct pml_feat_tokens {
	int n;
	char tok[PML_FEAT_MAX_TOKENS][PML_FEAT_TOKEN_LEN];
};

/* The streaming tokenizer: per-process memory for the collapsing rules. */
struct pml_features;

/* NULL on allocation failure. */
struct pml_features *pml_features_new(void);
void pml_features_free(struct pml_features *f);
/* Forget every process: the next record starts a new run. */
void pml_features_reset(struct pml_features *f);

/* The tokens of one validated record (pml_tev_check passed) into out; out->n may be 0
 * (collapsed or ignored). Returns out->n. */
int pml_features_record(struct pml_features *f, const struct pml_tev_hdr *rec,
			struct pml_feat_tokens *out);

/* The plain system calls the collapsing rule always drops, as bits (nr < 512) into
 * mask[8]: a tracer may leave them out, and record the others only once per process
 * between execves (pml_tracer_config.plain_once), giving the same tokens. */
void pml_features_ubiquitous_mask(uint64_t mask[8]);

/* Called once per token, in order; tok is valid during the call only. */
typedef int (*pml_feat_emit_fn)(void *ctx, const char *tok);

/* The prior's tokens: <prior>, the command line's (space-separated words; may be NULL),
 * the script text's (may be NULL), <start>. Stops at and returns the first negative
 * value emit returns; else the number of tokens emitted. */
int pml_features_prior(const char *command, const char *script, pml_feat_emit_fn emit,
		       void *ctx);

/* The shape of one word into out (size >= PML_FEAT_TOKEN_LEN): "4789" -> "#",
 * "vx0" -> "vx#", "10.0.0.1/24" -> "ip4", "deadbeef01" -> "hex", a random-looking mix of
 * cases and digits -> "rand", over 24 bytes -> "long"; a plain word is itself. */
void pml_feat_word_shape(const char *word, char *out);
/* The class of a path into out (size >= PML_FEAT_TOKEN_LEN), without a kind prefix:
 * "/dev/loop0" -> "/dev:loop#", "/tmp/x" -> "/tmp", "rel/x" -> "rel". */
void pml_feat_path_class(const char *path, char *out);

/* ---- the vocabulary ------------------------------------------------------------------ */

/* Token strings to integers: a hash table over an owned string arena. Token 0 is always
 * PML_TOK_OOV. While counting (training) each token also counts its prefixes, and the
 * number of distinct runs (documents) it was seen in. */
struct pml_vocab;

/* A vocabulary holding only PML_TOK_OOV. NULL on allocation failure. */
struct pml_vocab *pml_vocab_new(void);
/* A vocabulary of the given strings in order (strings[0] must be PML_TOK_OOV: a model
 * file's list). Returns 0, -EINVAL (strings[0] is not the OOV token, or a duplicate),
 * -ENOMEM. */
int pml_vocab_from_strings(const char *const *strings, size_t n, struct pml_vocab **ret);
void pml_vocab_free(struct pml_vocab *v);

size_t pml_vocab_size(const struct pml_vocab *v);
/* The string of token id, NULL when out of range. */
const char *pml_vocab_token(const struct pml_vocab *v, int32_t id);
/* The id of exactly s, -1 when absent. */
int32_t pml_vocab_find(const struct pml_vocab *v, const char *s);
/* The id of s, else of its longest known prefix at a ':' boundary, else 0 (OOV). */
int32_t pml_vocab_lookup(const struct pml_vocab *v, const char *s);
/* Add s (if new). Returns its id or -ENOMEM. */
int32_t pml_vocab_add(struct pml_vocab *v, const char *s);

/* Count s and its ':'-prefixes as seen in document doc (doc numbers increase: a token
 * counts once per document). Returns 0 or -ENOMEM. */
int pml_vocab_count(struct pml_vocab *v, const char *s, uint32_t doc);
/* Documents s was seen in (0 when absent). */
uint32_t pml_vocab_docs(const struct pml_vocab *v, const char *s);
/* A new vocabulary of the counted tokens seen in at least min_docs documents: OOV first,
 * the special tokens, then by document count (descending), then by string, capped at
 * max_size tokens (0: no cap). Deterministic. Returns 0 or -ENOMEM. */
int pml_vocab_prune(const struct pml_vocab *counted, uint32_t min_docs, size_t max_size,
		    struct pml_vocab **ret);

/* ---- the encoder: records -> token ids ------------------------------------------------ */

/* A tokenizer bound to a vocabulary, with the plain-call fast path (a system call
 * number's id is looked up once). The vocabulary is borrowed and must outlive it. */
struct pml_feat_encoder;

struct pml_feat_encoder *pml_feat_encoder_new(const struct pml_vocab *v);
void pml_feat_encoder_free(struct pml_feat_encoder *e);
/* The strings of the tokens pml_feat_encode_record() last produced from a record that is
 * not a plain system call (n 0 otherwise), before the vocabulary: words the model never
 * saw keep their spelling here. */
const struct pml_feat_tokens *pml_feat_encoder_last(const struct pml_feat_encoder *e);
void pml_feat_encoder_reset(struct pml_feat_encoder *e);
/* The ids of one record's tokens into ids (room for PML_FEAT_MAX_TOKENS). Returns the
 * count (0..PML_FEAT_MAX_TOKENS). */
int pml_feat_encode_record(struct pml_feat_encoder *e, const struct pml_tev_hdr *rec,
			   int32_t *ids);
/* The prior's ids (see pml_features_prior) into ids (at most max; the rest are cut).
 * Returns the count. */
int pml_feat_encode_prior(const struct pml_vocab *v, const char *command, const char *script,
			  int32_t *ids, int max);

#endif
