/* Words for a refused input. The library answers a bad file the user named with an errno
 * (-EINVAL, -EBADMSG, -EPROTONOSUPPORT) and says the details through the log sink; a
 * command printing strerror() of it ("Bad message", "Protocol not supported") describes a
 * system call that never failed. These say what is wrong with the input instead, and fall
 * back to strerror() for what really is a system error (a missing file, a permission, no
 * memory). Header-only, for the verbs of pml (STYLE.md: commands turn errors into words). */
#ifndef PML_CMD_CMD_ERRORS_H
#define PML_CMD_CMD_ERRORS_H

#include <errno.h>
#include <string.h>

/* pml_dataset_open() of a dataset directory the user gave (dataset/dataset.h). */
static inline const char *cmd_manifest_strerror(int r)
{
	switch (r) {
	case -ENOENT:
		return "no manifest.jsonl (not a dataset)";
	case -EINVAL:
		return "not a pml dataset manifest (its magic or a header field)";
	case -EPROTONOSUPPORT:
		return "a manifest of a newer pml; use that pml or recollect";
	case -EBADMSG:
		return "the manifest is damaged (a malformed line, or its trailer or checksum "
		       "is wrong; see above)";
	default:
		return strerror(-r);
	}
}

/* A decision log (events.jsonl, or a pml run --report directory) the user gave. */
static inline const char *cmd_log_strerror(int r)
{
	switch (r) {
	case -ENOENT:
		return "no decision log here (give events.jsonl or a pml run --report directory)";
	case -EBADMSG:
	case -EINVAL:
		return "not a decision log this pml reads (no well-formed record; see above)";
	default:
		return strerror(-r);
	}
}

/* A costs file (JSONL of module costs, data/costs-*.jsonl) the user gave. */
static inline const char *cmd_costs_strerror(int r)
{
	switch (r) {
	case -EINVAL:
		return "not a costs file this pml reads (a malformed line; see above)";
	default:
		return strerror(-r);
	}
}

#endif
