/* The model file: one trained predictor (LSTM or n-gram) with everything needed to run it
 * on its own: the vocabulary (token strings), the module list (label order), the kernel it
 * was trained for, and the weights, under a magic, a version and a CRC32 over the whole.
 * Laid out so that pml_model_file_open() can mmap it and use the weights in place (they
 * start 64-byte aligned): loading costs a page-in, not a parse.
 *
 * Layout (little-endian), version 3 (versions 1 and 2 are the same with bytes 208.. or
 * 232.. zero, and are still read):
 *   0   char     magic[8]        "PMLMODEL"
 *   8   u32      version         1
 *   12  u32      crc32           CRC-32 (IEEE, zlib's) of bytes [16, file_size)
 *   16  u64      file_size
 *   24  u32      header_size     256
 *   28  u32      kind            enum pml_model_kind
 *   32  u32      params[8]       kind's sizes: LSTM V, E, H, L, M, flags, Adam step;
 *                                   n-gram V, M, order, buckets, alpha x 1000
 *   64  char     kernel_series[32]   "6.1"        (NUL-padded)
 *   96  char     kernel_release[64]  "6.1.0-56-amd64"
 *   160 u32      n_vocab, n_modules
 *   168 u64      strings_offset, strings_size   n_vocab then n_modules NUL-ended strings
 *   184 u64      weights_offset, n_weights      float32, offset a multiple of 64
 *   200 u32      horizon_events, horizon_ms     what "needed" meant in the labels (0: unsaid)
 *   208 u32      features_version   the token scheme (model/features.h) of the vocabulary
 *                                   (0: unsaid, a model of no known feature extractor)
 *   212 u32      epoch              training epochs done (a checkpoint resumes after them)
 *   216 f32      val_loss           validation loss of these weights (0: unmeasured)
 *   220 f32      threshold          the probability above which the trainer measured its
 *                                   precision/recall (a policy's default; 0: unsaid)
 *   224 u32      train_flags        PML_MODEL_TRAIN_* (how the inputs were made)
 *   228 f32      val_score          the trainer's selection score of these weights, lower
 *                                   is better (1 - F1 at the threshold; 0: unmeasured)
 *   232 u32      roles_size         0 (unsaid), or n_modules: one byte per module, right
 *                                   after the strings (enum pml_model_role)
 *   236 ...      zero up to header_size
 *
 * A model for another kernel series (6.1 vs 6.6) is refused unless the caller says so:
 * module names and their split change across series. Another ABI number of the same series
 * only warns (DESIGN.md: names are stable within 6.1). */
#ifndef PML_MODEL_MODEL_FILE_H
#define PML_MODEL_MODEL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/lstm.h"

#define PML_MODEL_MAGIC "PMLMODEL"
#define PML_MODEL_VERSION 3
#define PML_MODEL_HEADER_SIZE 256
#define PML_MODEL_MAX_PARAMS 8

enum pml_model_kind {
	PML_MODEL_LSTM = 1,
	PML_MODEL_NGRAM = 2,
};

enum pml_model_train_flags {
	PML_MODEL_TRAIN_PRIOR = 1 << 0, /* runs began with the prior (command, script) */
	PML_MODEL_TRAIN_REUSE = 1 << 1, /* labels for later uses too (corpus.h) */
};

enum pml_model_flags {
	PML_MODEL_ANY_KERNEL = 1 << 0, /* accept a model of another kernel series (warns) */
};

/* What a module was in the training runs' needs: what the kernel asked for (a need's
 * target: the last module its modprobe loaded), or only ever loaded as another's
 * dependency (udp_tunnel for sctp or vxlan, fat for vfat): nobody asks for those, they
 * come with what needs them. */
enum pml_model_role {
	PML_MODEL_ROLE_TARGET = 1,
	PML_MODEL_ROLE_DEP = 2,
};

/* What a trained model is about, beside its weights. Strings must not contain '\0'. */
struct pml_model_meta {
	const char *kernel_release;  /* e.g. "6.1.0-56-amd64"; the series is derived from it */
	const char *const *vocab;    /* token strings, [V] (token 0: out of vocabulary) */
	const char *const *modules;  /* module names in output order, [M] */
	uint32_t horizon_events;     /* labels: needed within this many events (0: unsaid) */
	uint32_t horizon_ms;	     /* ... or within this many ms (0: unsaid) */
	uint32_t features_version;   /* PML_FEAT_VERSION of the vocabulary (0: unsaid) */
	uint32_t epoch;		     /* epochs trained */
	float val_loss;		     /* validation loss (0: unmeasured) */
	float threshold;	     /* suggested decision threshold (0: unsaid) */
	uint32_t train_flags;	     /* PML_MODEL_TRAIN_* */
	float val_score;	     /* selection score, lower is better (0: unmeasured) */
	const uint8_t *roles;	     /* [M] enum pml_model_role, NULL: unsaid */
};

/* What a writer provides. */
struct pml_model_desc {
	enum pml_model_kind kind;
	uint32_t params[PML_MODEL_MAX_PARAMS];
	struct pml_model_meta meta;
	uint32_t n_vocab;
	uint32_t n_modules;
	const float *weights;
	uint64_t n_weights;
};

/* A loaded model file. Every pointer points into the mapping (or the caller's buffer):
 * valid until pml_model_file_free(). */
struct pml_model_file {
	enum pml_model_kind kind;
	uint32_t version;
	uint32_t params[PML_MODEL_MAX_PARAMS];
	char kernel_series[32];
	char kernel_release[64];
	uint32_t n_vocab, n_modules;
	uint32_t horizon_events, horizon_ms;
	uint32_t features_version, epoch, train_flags;
	float val_loss, threshold, val_score;
	const char **vocab;   /* [n_vocab] */
	const char **modules; /* [n_modules] */
	const float *weights; /* [n_weights] */
	uint64_t n_weights;
	const uint8_t *roles; /* [n_modules] enum pml_model_role, NULL: unsaid (before v3) */
	/* private */
	void *map;
	size_t map_size;
};

/* Write desc to path atomically (a temporary file renamed over it). Returns 0, -EINVAL (a
 * string with no room or bad sizes), -ENOMEM or -errno of the file operations. */
int pml_model_file_write(const char *path, const struct pml_model_desc *desc);

/* Check and index a model held in buf (size bytes; 4-byte aligned, must outlive the
 * result). name labels the log messages (a path). kernel_release is the running (or
 * target) kernel; NULL skips the kernel check. Refusals, each logged with what to do:
 *   -ENOEXEC          not a pml model file (bad magic)
 *   -EPROTONOSUPPORT  a newer format version than this pml reads
 *   -ENODATA          truncated (shorter than its header says)
 *   -EBADMSG          checksum mismatch, an inconsistent header, a stored threshold or
 *                     horizon out of range or a weight not finite (damaged file)
 *   -EXDEV            trained for another kernel series (without PML_MODEL_ANY_KERNEL)
 *   -EINVAL           unaligned buffer; -ENOMEM
 * Another ABI number of the same series logs a warning and succeeds. */
int pml_model_file_parse(const void *buf, size_t size, const char *name,
			 const char *kernel_release, unsigned flags,
			 struct pml_model_file **ret);
/* The same from a file, mmap'd read-only; also -errno from open/fstat/mmap. */
int pml_model_file_open(const char *path, const char *kernel_release, unsigned flags,
			struct pml_model_file **ret);
void pml_model_file_free(struct pml_model_file *mf);
/* What a negative errno of pml_model_file_parse/_open means, in words about the file:
 * "not a pml model file", "trained for another kernel series". Never NULL. */
const char *pml_model_file_strerror(int err);

/* "6.1.0-56-amd64" -> "6.1" (major.minor). Returns 0 or -EINVAL (not a release). */
int pml_kernel_series(const char *release, char *buf, size_t size);
/* CRC-32 (IEEE 802.3, as zlib's crc32()); start with crc = 0. */
uint32_t pml_crc32(uint32_t crc, const void *data, size_t size);

/* LSTM -> model file: meta's vocab and modules name the model's V tokens and M outputs
 * (arrays of exactly V and M strings). Returns as pml_model_file_write(). */
int pml_lstm_save(const struct pml_lstm *m, const char *path,
		  const struct pml_model_meta *meta);
/* A model over the file's weights (borrowed: free the model before the file), for
 * inference; a checkpoint loads this way too. Returns 0, -EINVAL (not an LSTM file),
 * -ENOMEM. */
int pml_lstm_from_file(const struct pml_model_file *mf, struct pml_lstm **ret);

/* Training checkpoints: the model file of an LSTM plus Adam's state (params[5] has
 * PML_LSTM_FILE_ADAM, params[6] the step count, the weights are followed by m and v), so
 * training resumes where it stopped and takes the same steps it would have taken. */
#define PML_LSTM_FILE_ADAM 1u
int pml_lstm_save_checkpoint(const struct pml_lstm *m, const char *path,
			     const struct pml_model_meta *meta);
/* An owned, trainable copy of the file's model (with its Adam state when the file is a
 * checkpoint; from a plain model file Adam starts afresh). 0, -EINVAL, -ENOMEM. */
int pml_lstm_resume(const struct pml_model_file *mf, struct pml_lstm **ret);

#endif
