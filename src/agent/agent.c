/* pmld's logic (agent.h), the agent itself: its config, what pml_agent_new() builds (the
 * policy, the resource manager with the negotiation driver over the live backend, the load
 * worker, the resource API) and pml_agent_free() takes down, its counters. The other ideas
 * of pmld each have a file of their own (agent-priv.h lists them). The loop is
 * single-threaded except for the worker: unloads stay on the loop, since they never sit on
 * a program's critical path (the shim serves every miss on its own), while loads, which a
 * program may be about to wait for, must not hold up the next prediction. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "resource/resource-api.h"
#include "resource/resource.h"
#include "trace/tracer.h"
#include "util/event-log.h"
#include "util/timeutil.h"

uint64_t agent_now(const struct pml_agent *a)
{
	return pml_clock_now(a->cfg.clock);
}

const struct pml_agent_stats *pml_agent_stats(const struct pml_agent *a)
{
	return &a->stats;
}

static uint64_t res_clock(void *data)
{
	return pml_clock_now(data);
}

/* The lstm policy's resolver for the modules a program names: the loader's index. */
static int resolve_alias(void *data, const char *alias, char (*names)[64], size_t max)
{
	return pml_loader_resolve(data, alias, names, max);
}

int pml_agent_new(const struct pml_agent_config *cfg, struct pml_loader *ld,
		  struct pml_agent **ret)
{
	struct pml_policy_config pcfg = {0};
	struct pml_resource_config rcfg = {0};
	struct pml_agent *a;
	int r;

	if (!cfg || !cfg->log_path || !ld || cfg->idle_seconds < 0) {
		if (cfg)
			pml_loader_free(cfg->worker_ld);
		return -EINVAL;
	}
	if (!cfg->policy_ops && !pml_policy_find(cfg->policy ? cfg->policy : "reactive")) {
		pml_loader_free(cfg->worker_ld);
		return -ENOENT;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		pml_loader_free(cfg->worker_ld);
		return -ENOMEM;
	}
	a->cfg = *cfg;
	if (!a->cfg.policy)
		a->cfg.policy = "reactive";
	if (!a->cfg.tick_ms)
		a->cfg.tick_ms = 250;
	if (a->cfg.idle_seconds == 0)
		a->cfg.idle_seconds = 5.0;
	a->ld = ld;
	a->log_fd = -1;
	a->hwm_before_job = -1;
	a->mods = calloc(MODS_MAX, sizeof(*a->mods));
	if (!a->mods) {
		r = -ENOMEM;
		goto fail;
	}
	pcfg.idle_seconds = a->cfg.idle_seconds;
	pcfg.pinned_fn = cfg->pinned_fn;
	pcfg.pinned_data = cfg->pinned_data;
	pcfg.clock = cfg->clock;
	pcfg.needs_model = cfg->needs_model;
	pcfg.threshold = cfg->threshold;
	pcfg.model_path = cfg->model_path;
	pcfg.slots_path = cfg->slots_path;
	if (uname(&a->uts) == 0)
		pcfg.kernel_release = a->uts.release;
	pcfg.prior_command = cfg->prior_command;
	pcfg.prior_script = cfg->prior_script;
	pcfg.horizon_ms = cfg->horizon_ms;
	if (!cfg->no_names) {
		pcfg.resolve_fn = resolve_alias;
		pcfg.resolve_data = ld;
	}
	pcfg.preload = cfg->preload;
	pcfg.n_preload = cfg->n_preload;
	if (cfg->worker_ld) {
		r = pml_worker_new(cfg->worker_ld, 0, &a->worker); /* frees it on failure */
		a->cfg.worker_ld = NULL;
		if (r < 0)
			goto fail;
	}
	r = cfg->policy_ops ? pml_policy_new_ops(cfg->policy_ops, &pcfg, &a->pol) :
			      pml_policy_new(a->cfg.policy, &pcfg, &a->pol);
	if (r < 0)
		goto fail;
	rcfg.budget_mem = cfg->budget_mem;
	rcfg.cpu_ms_per_s = cfg->budget_cpu;
	rcfg.pinned_fn = cfg->pinned_fn;
	rcfg.pinned_data = cfg->pinned_data;
	rcfg.now_ns = res_clock;
	rcfg.clock_data = (void *)cfg->clock;
	r = pml_resource_new(&rcfg, &a->res);
	if (r < 0)
		goto fail;
	pml_driver_init(&a->drv, &agent_live_ops, a, a->pol, a->res);
	a->drv.watch = cfg->on_drive;
	a->drv.watch_data = cfg->on_drive_data;
	r = pml_event_log_open(cfg->log_path);
	if (r < 0)
		goto fail;
	a->log_fd = r;
	if (cfg->resource_socket) {
		struct pml_resource_server_config scfg = {
			.path = cfg->resource_socket,
			.on_request = agent_on_api_request,
			.hook_data = a,
		};

		r = pml_resource_server_new(a->res, &scfg, &a->srv);
		if (r < 0) {
			/* The API is a convenience; the loop works without it. */
			pml_agent_error(a, r, "%s: cannot serve the resource API: %s",
					cfg->resource_socket, strerror(-r));
			a->srv = NULL;
		}
	}
	*ret = a;
	return 0;
fail:
	pml_agent_free(a);
	return r;
}

void pml_agent_free(struct pml_agent *a)
{
	if (!a)
		return;
	pml_tracer_free(a->tracer);
	pml_worker_free(a->worker); /* first: it may still be loading */
	pml_resource_server_free(a->srv);
	pml_resource_free(a->res);
	if (a->log_fd >= 0)
		close(a->log_fd);
	pml_policy_free(a->pol);
	free(a->mods);
	free(a->pred);
	free(a);
}

struct pml_resource *pml_agent_resource(struct pml_agent *a)
{
	return a->res;
}
