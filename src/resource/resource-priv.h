/* What the resource manager's files share (resource.c: the decisions, priority and
 * eviction choice; resource-accounts.c: the accounts of the module set and the monitors'
 * samples; resource-status.c: the status and module views, their JSON): the manager's
 * state and the helpers more than one of them uses. Nothing outside src/resource/ should
 * include this; the public contract is resource.h. */
#ifndef PML_RESOURCE_RESOURCE_PRIV_H
#define PML_RESOURCE_RESOURCE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resource/resource.h"

enum mod_state {
	MOD_ABSENT,  /* known only by its hints */
	MOD_PENDING, /* granted, load not reported yet */
	MOD_LOADED,
};

struct res_mod {
	char name[64];
	enum mod_state state;
	bool base, pinned;
	int64_t bytes;	   /* counted bytes when pending/loaded */
	int refcnt;
	double v0;	   /* value at t_idle */
	uint64_t t_idle;   /* since when idle (or last valued) */
	int64_t hint_bytes; /* <0 unknown */
	double hint_ms;	   /* <0 unknown */
};

struct pml_resource {
	struct pml_resource_config cfg;
	struct res_mod *mods;
	size_t n_mods, cap_mods;
	double tokens;
	uint64_t t_tokens;
	/* monitors */
	struct pml_monitor_sample last;
	bool have_last;
	double cpu_busy, net_rx_bps, net_tx_bps;
	int64_t hard_room;	/* MemAvailable - reserve at the last sample */
	int64_t counted_at_sample;
	bool have_room;
	struct pml_res_status st; /* counters only */
};

/* ---- resource.c ---- */

/* The manager's clock (the config's, else CLOCK_MONOTONIC), ns. */
uint64_t res_now_ns(const struct pml_resource *res);
/* Pinned by pml_resource_pin() or the config's pinned_fn. */
bool res_is_pinned(const struct pml_resource *res, const struct res_mod *m);
/* The module's value at now: v0 decayed over its idle time (resource.c's essay). */
double res_value_now(const struct pml_resource *res, const struct res_mod *m, uint64_t now);
/* Refill the load-time bucket up to now. */
void res_refill(struct pml_resource *res, uint64_t now);
/* The hard limit in force: hard_mem and, once sampled, the room MemAvailable leaves.
 * INT64_MAX when none. */
int64_t res_hard_limit(const struct pml_resource *res);

/* ---- resource-accounts.c ---- */

/* The kernel's spelling ('-' -> '_'); names are [A-Za-z0-9_-], 1..63 bytes. */
int res_norm_name(const char *in, char out[64]);
/* The account of a normalised name, NULL when there is none. */
struct res_mod *res_find(struct pml_resource *res, const char *name);
/* Find or add (absent) the account of a normalised name. NULL on -ENOMEM. */
struct res_mod *res_get(struct pml_resource *res, const char *name);
/* Bytes of the loaded and pending modules outside the base set. */
int64_t res_counted_bytes(const struct pml_resource *res);

#endif
