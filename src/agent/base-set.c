/* pmld's start: the module list (agent_refresh, read again wherever the agent needs it),
 * the base set recorded and protected (pml_agent_start), its file, and after a restart the
 * modules loaded since the first start taken over as the program's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "resource/resource.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/modname.h"

/* Read the module set into a->mods. Returns the count or -errno. */
int agent_refresh(struct pml_agent *a)
{
	int n = pml_loader_list_loaded(a->ld, a->mods, MODS_MAX);

	if (n < 0)
		return n;
	a->n_mods = (size_t)n < MODS_MAX ? (size_t)n : MODS_MAX;
	return (int)a->n_mods;
}

const struct pml_loaded *agent_find_mod(const struct pml_agent *a, const char *name)
{
	char want[64], have[64];

	if (pml_module_name_normalize(name, want) < 0)
		return NULL;
	for (size_t i = 0; i < a->n_mods; i++)
		if (!pml_module_name_normalize(a->mods[i].name, have) && !strcmp(want, have))
			return &a->mods[i];
	return NULL;
}

static int write_base_file(const char *path, const struct pml_loaded *mods, size_t n)
{
	char tmp[4096];
	FILE *f;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	/* Oldest first: /proc/modules lists the newest first. */
	for (size_t i = n; i-- > 0;)
		fprintf(f, "%s %lld\n", mods[i].name, (long long)mods[i].bytes);
	if (fflush(f) != 0 || ferror(f))
		r = -errno ? -errno : -EIO;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* The base file of an earlier start: its names into *ret (caller frees). 0, or -errno
 * when there is none or it cannot be read. */
static int read_base_file(const char *path, char (**ret)[64], size_t *ret_n)
{
	char line[256], (*v)[64] = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (sscanf(line, "%63s", name) != 1)
			continue;
		if (n == cap) {
			char (*nv)[64] = realloc(v, (cap ? cap * 2 : 32) * sizeof(*v));

			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 32;
		}
		snprintf(v[n++], 64, "%s", name);
	}
	fclose(f);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool in_list(char (*v)[64], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pml_module_name_eq(v[i], name))
			return true;
	return false;
}

int pml_agent_start(struct pml_agent *a)
{
	uint64_t t = agent_now(a);
	int64_t total = 0;
	char (*base)[64] = NULL;
	size_t n_base = 0, adopted = 0;
	bool restart;
	int n, r;

	if (a->pol->ops == &pml_policy_markov || a->pol->ops == &pml_policy_lstm) {
		char horizon[48] = "";

		if (a->pol->cfg.horizon_ms > 0)
			snprintf(horizon, sizeof(horizon), ", horizon %.0f ms",
				 a->pol->cfg.horizon_ms);
		agent_start_info(a, "start: pmld %d, policy %s (threshold %.2f, idle %.1f s%s), "
			       "tick %u ms, loader %s, budget %lld bytes, worker %s", (int)getpid(),
			       a->pol->ops->name, a->pol->cfg.threshold, a->cfg.idle_seconds,
			       horizon, a->cfg.tick_ms, pml_loader_backend(a->ld),
			       (long long)a->cfg.budget_mem, a->worker ? "on" : "off");
	} else if (a->pol->ops == &pml_policy_load_all)
		agent_start_info(a, "start: pmld %d, policy %s (%zu modules listed), loader %s, "
			       "budget %lld bytes, worker %s", (int)getpid(), a->pol->ops->name,
			       a->pol->cfg.n_preload, pml_loader_backend(a->ld),
			       (long long)a->cfg.budget_mem, a->worker ? "on" : "off");
	else if (a->pol->ops == &pml_policy_idle_unload)
		agent_start_info(a, "start: pmld %d, policy %s (idle %.1f s), tick %u ms, "
			       "loader %s", (int)getpid(), a->pol->ops->name,
			       a->cfg.idle_seconds, a->cfg.tick_ms, pml_loader_backend(a->ld));
	else
		agent_start_info(a, "start: pmld %d, policy %s, loader %s", (int)getpid(),
			       a->pol->ops->name, pml_loader_backend(a->ld));
	n = agent_refresh(a);
	if (n < 0) {
		pml_agent_error(a, n, "cannot list the loaded modules (/proc/modules): %s",
				strerror(-n));
		return n;
	}
	restart = a->cfg.base_file && read_base_file(a->cfg.base_file, &base, &n_base) == 0;
	/* Oldest first, as they were loaded. */
	for (size_t i = a->n_mods; i-- > 0;) {
		const struct pml_loaded *m = &a->mods[i];
		struct pml_event_rec rec;
		struct pml_pol_event pev = {.kind = PML_POL_BASE, .t_ns = t, .module = m->name,
					    .bytes = m->bytes};

		if (restart && !in_list(base, n_base, m->name)) {
			/* loaded since the first start: the program's, managed as such */
			pml_event_rec_init(&rec, PML_EV_LOAD);
			rec.t_ns = t;
			rec.module = m->name;
			rec.bytes = m->bytes;
			rec.cause = PML_CAUSE_RESTART;
			rec.reason = "restart: loaded before this pmld started, after the base set";
			agent_append(a, &rec);
			pev.kind = PML_POL_LOAD;
			pml_policy_observe(a->pol, &pev);
			pml_resource_loaded(a->res, m->name, m->bytes, m->refcnt);
			adopted++;
			n--;
			continue;
		}
		pml_event_rec_init(&rec, PML_EV_BASE);
		rec.t_ns = t;
		rec.module = m->name;
		rec.bytes = m->bytes;
		agent_append(a, &rec);
		pml_policy_observe(a->pol, &pev);
		pml_resource_set_base(a->res, m->name, m->bytes);
		total += m->bytes > 0 ? m->bytes : 0;
	}
	free(base);
	if (restart)
		pml_agent_info(a, "restart: base set of %d modules from %s; %zu modules loaded "
			       "since taken over", n, a->cfg.base_file, adopted);
	r = restart ? 0 : pml_loader_keep_loaded(a->ld);
	if (r < 0)
		pml_agent_error(a, r, "cannot keep the base set in the loader: %s", strerror(-r));
	if (a->cfg.base_file && !restart) {
		r = write_base_file(a->cfg.base_file, a->mods, a->n_mods);
		if (r < 0)
			pml_agent_error(a, r, "%s: cannot write the base set: %s",
					a->cfg.base_file, strerror(-r));
	}
	pml_info("base set: %d modules, %lld bytes", n, (long long)total);
	return n;
}
