/* The job's prior when it arrives after pmld started (a guest restored from a snapshot
 * gets its job then): the prior file read, bounded, and handed to the policy; from then on
 * pmld's CPU and peak RSS are counted as the job's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The prior file and the script it names are read up to this many bytes each. */
#define PRIOR_MAX 65536

/* The prior file (see pml_agent_config): read, bounded, handed to the policy, removed. */
void agent_read_prior(struct pml_agent *a)
{
	char sig[128], *text = NULL, *script = NULL, *nl, *cmd;
	size_t len = 0;
	FILE *f;

	if (read(a->cfg.prior_fd, sig, sizeof(sig)) < 0 && errno != EAGAIN)
		pml_dbg("prior fd: %s", strerror(errno));
	f = fopen(a->cfg.prior_file, "re");
	if (!f) {
		pml_agent_error(a, -errno, "prior: %s: %s", a->cfg.prior_file, strerror(errno));
		return;
	}
	text = calloc(1, PRIOR_MAX + 1);
	if (text)
		len = fread(text, 1, PRIOR_MAX, f);
	fclose(f);
	if (!text)
		return;
	text[len] = '\0';
	/* line 1: the job's start (guest uptime, s); line 2: the script's path (may be
	 * empty); the rest: the command line (which may hold newlines) */
	cmd = text;
	nl = strchr(cmd, '\n');
	if (nl) {
		char *end;
		double t = strtod(cmd, &end);

		if (end != cmd && t > 0 && t < 1e9)
			a->prior_t_ns = (uint64_t)(t * 1e9);
		cmd = nl + 1;
		nl = strchr(cmd, '\n');
		if (nl) {
			char *path = cmd;

			*nl = '\0';
			cmd = nl + 1;
			if (path[0]) {
				f = fopen(path, "re");
				script = f ? calloc(1, PRIOR_MAX + 1) : NULL;
				if (script)
					script[fread(script, 1, PRIOR_MAX, f)] = '\0';
				if (f)
					fclose(f);
				else
					pml_agent_info(a, "prior: the script %s cannot be read: %s",
						       path, strerror(errno));
			}
		}
	}
	len = strlen(cmd);
	while (len && cmd[len - 1] == '\n')
		cmd[--len] = '\0';
	pml_agent_set_prior(a, cmd, script);
	free(text);
	free(script);
	if (unlink(a->cfg.prior_file) < 0)
		pml_agent_error(a, -errno, "prior: %s: %s", a->cfg.prior_file, strerror(errno));
}

int pml_agent_set_prior(struct pml_agent *a, const char *command, const char *script)
{
	struct pml_pol_event pev = {.kind = PML_POL_PRIOR, .t_ns = pml_now_ns(), .bytes = -1,
				    .prior_command = command, .prior_script = script};

	a->prior_seen = true;
	memset(a->part_ms, 0, sizeof(a->part_ms));
	a->cpu_at_prior_ms = agent_self_cpu_ms();
	a->worker_at_prior_ms = a->worker ? agent_other_threads_cpu_ms() : -1;
	/* What pmld held for its start (libbpf's parse of the kernel's BTF peaks at twice
	 * what stays) was paid once, before the job; from here on the peak is the job's. */
	a->hwm_before_job = agent_reset_peak_rss();
	pml_policy_observe(a->pol, &pev);
	pml_agent_info(a, "prior: the job's command line (%zu bytes), %s (%zu bytes)",
		       command ? strlen(command) : 0, script ? "its script" : "no script",
		       script ? strlen(script) : 0);
	return 0;
}
