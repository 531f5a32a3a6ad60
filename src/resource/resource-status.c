/* What the resource manager shows (resource.h): its status for `pml status` (budgets,
 * limits in force, counted bytes, the CPU bucket, the monitors' last readings, the
 * counters), the accounts of loaded and pending modules, and both as one JSON line. */
#include <errno.h>
#include <string.h>

#include "resource/resource-priv.h"
#include "util/json.h"

void pml_resource_status(struct pml_resource *res, struct pml_res_status *ret)
{
	struct pml_res_status s = res->st;
	int64_t hard;

	res_refill(res, res_now_ns(res));
	s.budget_mem = res->cfg.budget_mem > 0 ? res->cfg.budget_mem : -1;
	s.hard_mem = res->cfg.hard_mem > 0 ? res->cfg.hard_mem : -1;
	hard = res_hard_limit(res);
	s.hard_now = hard == INT64_MAX ? -1 : hard;
	s.counted = s.pending = s.base_bytes = 0;
	s.n_loaded = s.n_pending = s.n_base = s.n_in_use = 0;
	for (size_t i = 0; i < res->n_mods; i++) {
		const struct res_mod *m = &res->mods[i];

		if (m->base) {
			s.n_base++;
			s.base_bytes += m->bytes;
			continue;
		}
		if (m->state == MOD_ABSENT)
			continue;
		s.counted += m->bytes;
		if (m->state == MOD_PENDING) {
			s.n_pending++;
			s.pending += m->bytes;
		} else {
			s.n_loaded++;
		}
		if (m->refcnt > 0)
			s.n_in_use++;
	}
	s.cpu_ms_per_s = res->cfg.cpu_ms_per_s > 0 ? res->cfg.cpu_ms_per_s : -1;
	s.cpu_burst_ms = res->cfg.cpu_ms_per_s > 0 ? res->cfg.cpu_burst_ms : -1;
	s.cpu_tokens_ms = res->cfg.cpu_ms_per_s > 0 ? res->tokens : -1;
	s.cpu_busy = res->cpu_busy;
	s.net_rx_bps = res->net_rx_bps;
	s.net_tx_bps = res->net_tx_bps;
	s.mem_available = res->have_last && res->last.ok_mem ? res->last.mem.available : -1;
	s.mem_total = res->have_last && res->last.ok_mem ? res->last.mem.total : -1;
	s.modules_bytes = res->have_last && res->last.ok_mod ? res->last.mod.bytes : -1;
	*ret = s;
}

static void fill_module(const struct pml_resource *res, const struct res_mod *m, uint64_t now,
			struct pml_res_module *out)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->name, m->name);
	out->loaded = m->state == MOD_LOADED;
	out->pending = m->state == MOD_PENDING;
	out->base = m->base;
	out->pinned = res_is_pinned(res, m);
	out->bytes = m->state == MOD_ABSENT ? 0 : m->bytes;
	out->refcnt = m->refcnt;
	out->value = m->state == MOD_ABSENT ? 0 : res_value_now(res, m, now);
}

int pml_resource_module(struct pml_resource *res, const char *module,
			struct pml_res_module *ret)
{
	char name[64];
	struct res_mod *m;

	if (res_norm_name(module, name))
		return -EINVAL;
	m = res_find(res, name);
	if (!m)
		return -ENOENT;
	fill_module(res, m, res_now_ns(res), ret);
	return 0;
}

int pml_resource_modules(struct pml_resource *res, struct pml_res_module *out, size_t max)
{
	uint64_t now = res_now_ns(res);
	size_t n = 0;

	for (size_t i = 0; i < res->n_mods; i++) {
		const struct res_mod *m = &res->mods[i];

		if (m->state == MOD_ABSENT && !m->base)
			continue;
		if (n < max)
			fill_module(res, m, now, &out[n]);
		n++;
	}
	return (int)n;
}

static void json_num_or_null(struct pml_json *j, const char *key, double v)
{
	if (v < 0)
		pml_json_null(j, key);
	else
		pml_json_double(j, key, v);
}

static void json_int_or_null(struct pml_json *j, const char *key, int64_t v)
{
	if (v < 0)
		pml_json_null(j, key);
	else
		pml_json_int(j, key, v);
}

int pml_resource_status_json(struct pml_resource *res, FILE *f)
{
	struct pml_res_status s;
	struct pml_json j;
	uint64_t now = res_now_ns(res);

	pml_resource_status(res, &s);
	pml_json_init(&j, f, false);
	pml_json_obj_begin(&j, NULL);
	pml_json_obj_begin(&j, "memory");
	json_int_or_null(&j, "budget", s.budget_mem);
	json_int_or_null(&j, "hard", s.hard_now);
	pml_json_int(&j, "counted", s.counted);
	pml_json_int(&j, "pending", s.pending);
	pml_json_int(&j, "base", s.base_bytes);
	json_int_or_null(&j, "available", s.mem_available);
	json_int_or_null(&j, "total", s.mem_total);
	json_int_or_null(&j, "modules", s.modules_bytes);
	pml_json_obj_end(&j);
	pml_json_obj_begin(&j, "cpu");
	json_num_or_null(&j, "load_ms_per_s", s.cpu_ms_per_s);
	json_num_or_null(&j, "burst_ms", s.cpu_burst_ms);
	if (s.cpu_ms_per_s < 0)
		pml_json_null(&j, "tokens_ms");
	else
		pml_json_double(&j, "tokens_ms", s.cpu_tokens_ms);
	json_num_or_null(&j, "busy", s.cpu_busy);
	pml_json_obj_end(&j);
	pml_json_obj_begin(&j, "net");
	json_num_or_null(&j, "rx_bytes_per_s", s.net_rx_bps);
	json_num_or_null(&j, "tx_bytes_per_s", s.net_tx_bps);
	pml_json_obj_end(&j);
	pml_json_obj_begin(&j, "counters");
	pml_json_int(&j, "requests", (int64_t)s.requests);
	pml_json_int(&j, "grants", (int64_t)s.grants);
	pml_json_int(&j, "evict_grants", (int64_t)s.evict_grants);
	pml_json_int(&j, "refusals", (int64_t)s.refusals);
	pml_json_int(&j, "over_soft", (int64_t)s.over_soft);
	pml_json_int(&j, "evictions", (int64_t)s.evictions);
	for (int k = 0; k < PML_RES__KIND_COUNT; k++)
		pml_json_int(&j, pml_res_kind_name(k), (int64_t)s.by_kind[k]);
	pml_json_obj_end(&j);
	pml_json_arr_begin(&j, "modules");
	for (size_t i = 0; i < res->n_mods; i++) {
		const struct res_mod *m = &res->mods[i];
		struct pml_res_module pm;

		if (m->state == MOD_ABSENT && !m->base)
			continue;
		fill_module(res, m, now, &pm);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "name", pm.name);
		pml_json_str(&j, "state", pm.base ? "base" : pm.pending ? "pending" : "loaded");
		pml_json_int(&j, "bytes", pm.bytes);
		pml_json_int(&j, "refcnt", pm.refcnt);
		pml_json_bool(&j, "pinned", pm.pinned);
		if (!pm.base)
			pml_json_double(&j, "value", pm.value);
		pml_json_obj_end(&j);
	}
	pml_json_arr_end(&j);
	pml_json_obj_end(&j);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}
