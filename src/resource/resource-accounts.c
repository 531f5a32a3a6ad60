/* The resource manager's accounts of the module set (resource.h): one account per module
 * it has heard of, found or added by its normalised name, and what its owner tells it
 * happened to them (loaded, released, needed, refcounts, base, pins, size and load-time
 * hints, a sync with the kernel's list), and the monitors' samples (observe, poll) that
 * give the hard limit its room and the CPU and network rates. The decisions on those
 * accounts are resource.c's; what they look like from outside, resource-status.c's. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resource/resource-priv.h"
#include "util/modname.h"

#define MONITOR_MIN_INTERVAL_NS 250000000ULL

int res_norm_name(const char *in, char out[64])
{
	if (!in || !*in)
		return -EINVAL;
	for (const char *c = in; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return -EINVAL;
	return pml_module_name_normalize(in, out) < 0 ? -EINVAL : 0;
}

struct res_mod *res_find(struct pml_resource *res, const char *name)
{
	for (size_t i = 0; i < res->n_mods; i++)
		if (!strcmp(res->mods[i].name, name))
			return &res->mods[i];
	return NULL;
}

struct res_mod *res_get(struct pml_resource *res, const char *name)
{
	struct res_mod *m = res_find(res, name);

	if (m)
		return m;
	if (res->n_mods == res->cap_mods) {
		size_t cap = res->cap_mods ? res->cap_mods * 2 : 64;
		struct res_mod *nm = realloc(res->mods, cap * sizeof(*nm));

		if (!nm)
			return NULL;
		res->mods = nm;
		res->cap_mods = cap;
	}
	m = &res->mods[res->n_mods++];
	memset(m, 0, sizeof(*m));
	strcpy(m->name, name);
	m->hint_bytes = -1;
	m->hint_ms = -1;
	return m;
}

static bool counted(const struct res_mod *m)
{
	return m->state != MOD_ABSENT && !m->base;
}

int64_t res_counted_bytes(const struct pml_resource *res)
{
	int64_t sum = 0;

	for (size_t i = 0; i < res->n_mods; i++)
		if (counted(&res->mods[i]))
			sum += res->mods[i].bytes;
	return sum;
}

int pml_resource_loaded(struct pml_resource *res, const char *module, int64_t bytes,
			int refcnt)
{
	char name[64];
	struct res_mod *m;
	uint64_t now = res_now_ns(res);

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_get(res, name);
	if (!m)
		return -ENOMEM;
	if (m->state == MOD_ABSENT && !m->base) {
		/* Loaded behind our back (the shim, modprobe by hand): worth a prediction. */
		m->v0 = PML_RES_WEIGHT_PREDICTION;
		m->t_idle = now;
		if (bytes < 0)
			bytes = m->hint_bytes >= 0 ? m->hint_bytes : res->cfg.default_bytes;
	}
	if (bytes >= 0) {
		m->bytes = bytes;
		m->hint_bytes = bytes;
	}
	if (refcnt < 0)
		refcnt = 0;
	if (m->refcnt > 0 && refcnt == 0)
		m->t_idle = now;
	m->refcnt = refcnt;
	m->state = MOD_LOADED;
	return 0;
}

int pml_resource_release(struct pml_resource *res, const char *module)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_find(res, name);
	if (!m || m->state == MOD_ABSENT)
		return -ENOENT;
	if (m->bytes > 0)
		m->hint_bytes = m->bytes;
	m->state = MOD_ABSENT;
	m->bytes = 0;
	m->refcnt = 0;
	m->base = false;
	return 0;
}

int pml_resource_need(struct pml_resource *res, const char *module)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_find(res, name);
	if (!m || (m->state == MOD_ABSENT && !m->base))
		return -ENOENT;
	m->v0 = PML_RES_WEIGHT_CRITICAL;
	m->t_idle = res_now_ns(res);
	return 0;
}

int pml_resource_set_refcnt(struct pml_resource *res, const char *module, int refcnt)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_find(res, name);
	if (!m || (m->state == MOD_ABSENT && !m->base))
		return -ENOENT;
	if (refcnt < 0)
		refcnt = 0;
	if (m->refcnt > 0 && refcnt == 0)
		m->t_idle = res_now_ns(res); /* idle from now, with the value it had */
	m->refcnt = refcnt;
	/* A pending module with users is in fact loaded. */
	if (m->state == MOD_PENDING && refcnt > 0)
		m->state = MOD_LOADED;
	return 0;
}

int pml_resource_set_base(struct pml_resource *res, const char *module, int64_t bytes)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_get(res, name);
	if (!m)
		return -ENOMEM;
	m->base = true;
	m->state = MOD_LOADED;
	if (bytes >= 0)
		m->bytes = bytes;
	return 0;
}

int pml_resource_pin(struct pml_resource *res, const char *module)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_get(res, name);
	if (!m)
		return -ENOMEM;
	m->pinned = true;
	return 0;
}

int pml_resource_set_hint(struct pml_resource *res, const char *module, int64_t bytes,
			  double load_ms)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_get(res, name);
	if (!m)
		return -ENOMEM;
	if (bytes >= 0)
		m->hint_bytes = bytes;
	if (load_ms >= 0)
		m->hint_ms = load_ms;
	return 0;
}

int pml_resource_sync(struct pml_resource *res, const struct pml_res_loaded *mods, size_t n)
{
	char name[64];
	bool *seen;
	int err = 0;

	/* Mark by index: names listed; the table may grow while adding. */
	for (size_t i = 0; i < n; i++) {
		if (res_norm_name(mods[i].name, name))
			continue;
		err = pml_resource_loaded(res, name, mods[i].bytes, mods[i].refcnt);
		if (err)
			return err;
	}
	seen = calloc(res->n_mods + 1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct res_mod *m;

		if (res_norm_name(mods[i].name, name))
			continue;
		m = res_find(res, name);
		if (m)
			seen[m - res->mods] = true;
	}
	for (size_t i = 0; i < res->n_mods; i++) {
		struct res_mod *m = &res->mods[i];

		/* Base modules are never counted: keep their accounts as they are. */
		if (!seen[i] && m->state == MOD_LOADED && !m->base)
			pml_resource_release(res, m->name);
	}
	free(seen);
	return 0;
}

void pml_resource_observe(struct pml_resource *res, const struct pml_monitor_sample *s)
{
	if (s->ok_mem && s->mem.available >= 0) {
		res->hard_room = s->mem.available - res->cfg.mem_reserve;
		res->counted_at_sample = res_counted_bytes(res);
		res->have_room = true;
	}
	/* Rates need an interval long enough for the counters to move by more than their
	 * granularity (jiffies are 10 ms): a shorter one keeps the previous baseline. */
	if (res->have_last && s->t_ns < res->last.t_ns + MONITOR_MIN_INTERVAL_NS) {
		if (s->ok_mem)
			res->last.mem = s->mem, res->last.ok_mem = true;
		if (s->ok_mod)
			res->last.mod = s->mod, res->last.ok_mod = true;
		return;
	}
	if (res->have_last) {
		double dt = (double)(s->t_ns - res->last.t_ns) / 1e9;

		if (s->ok_cpu && res->last.ok_cpu) {
			double busy = pml_cpustat_busy(&res->last.cpu, &s->cpu);

			if (busy >= 0)
				res->cpu_busy = busy;
		}
		if (s->ok_net && res->last.ok_net && s->net.rx_bytes >= res->last.net.rx_bytes &&
		    s->net.tx_bytes >= res->last.net.tx_bytes) {
			res->net_rx_bps = (double)(s->net.rx_bytes - res->last.net.rx_bytes) / dt;
			res->net_tx_bps = (double)(s->net.tx_bytes - res->last.net.tx_bytes) / dt;
		}
	}
	/* Keep the last good reading of each monitor for the next delta. */
	if (!res->have_last) {
		res->last = *s;
	} else {
		res->last.t_ns = s->t_ns;
		if (s->ok_mem)
			res->last.mem = s->mem, res->last.ok_mem = true;
		if (s->ok_cpu)
			res->last.cpu = s->cpu, res->last.ok_cpu = true;
		if (s->ok_net)
			res->last.net = s->net, res->last.ok_net = true;
		if (s->ok_mod)
			res->last.mod = s->mod, res->last.ok_mod = true;
	}
	res->have_last = true;
}

int pml_resource_poll(struct pml_resource *res, const char *procdir)
{
	struct pml_monitor_sample s;
	int n = pml_monitor_read(procdir, res_now_ns(res), &s);

	pml_resource_observe(res, &s);
	return n;
}
