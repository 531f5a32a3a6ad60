/* pmld's settings, parsed once for pmld and for `pml run`; see agent-options.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-options.h"
#include "model/predictor.h"
#include "policy/needs-model.h"
#include "policy/policy.h"
#include "util/option-table.h"

int pml_opt_policy(const char *s, const char **ret, char *why, size_t size)
{
	const struct pml_policy_info *info = pml_policy_info(s);
	char list[256];

	if (!info || !(info->flags & PML_POLICY_LIVE)) {
		snprintf(why, size, "--policy '%s': not a policy pmld runs (%s)", s,
			 pml_policy_names_list(list, sizeof(list), PML_POLICY_LIVE));
		return -EINVAL;
	}
	*ret = info->ops->name;
	return 0;
}

/* The option's entry of the table: one grammar, range and sentence (util/parse.h). */
static int parse_num(enum pml_numopt id, const char *s, double *ret, char *why, size_t size)
{
	return pml_num_parse(&pml_numopts[id], NULL, s, ret, why, size) < 0 ? -EINVAL : 0;
}

int pml_opt_idle_seconds(const char *s, double *ret, char *why, size_t size)
{
	return parse_num(PML_NUMOPT_IDLE_SECONDS, s, ret, why, size);
}

int pml_opt_threshold(const char *s, double *ret, char *why, size_t size)
{
	return parse_num(PML_NUMOPT_THRESHOLD, s, ret, why, size);
}

int pml_opt_horizon(const char *s, double *ret, char *why, size_t size)
{
	return parse_num(PML_NUMOPT_HORIZON, s, ret, why, size);
}

int pml_opt_budget_cpu(const char *s, double *ret, char *why, size_t size)
{
	return parse_num(PML_NUMOPT_BUDGET_CPU, s, ret, why, size);
}

int pml_opt_budget_mem(const char *s, int64_t *ret, char *why, size_t size)
{
	return pml_num_parse_i64(PML_NUMOPT(BUDGET_MEM), NULL, s, ret, why, size) < 0 ? -EINVAL
										    : 0;
}

int pml_opt_check_model(const char *policy, const char *path, const char *kernel_release,
			char *why, size_t size)
{
	bool needs = !strcmp(policy, "markov") || !strcmp(policy, "load-all");
	bool lstm = pml_policy_needs_predictor(policy);
	int r;

	why[0] = '\0';
	if (!needs && !lstm) {
		if (!path)
			return 0;
		snprintf(why, size, "--model %s: policy %s takes no model", path, policy);
		return -EINVAL;
	}
	if (!path) {
		snprintf(why, size, "policy %s needs --model FILE", policy);
		return -EINVAL;
	}
	if (needs) {
		struct pml_needs_model *m = NULL;
		char msg[256] = "";

		r = pml_needs_model_load(path, &m, msg, sizeof(msg));
		if (r < 0) {
			snprintf(why, size, "--model %s: not a needs model pmld can use: %s", path,
				 msg[0] ? msg : strerror(-r));
			return r;
		}
		if (!strcmp(policy, "load-all") && !pml_needs_model_ranked(m, NULL, 0)) {
			snprintf(why, size, "--model %s: the needs model lists no module", path);
			r = -EINVAL;
		}
		pml_needs_model_free(m);
		return r;
	} else {
		struct pml_predictor *p = NULL;

		r = pml_predictor_open(path, kernel_release, 0, &p);
		if (r < 0) {
			snprintf(why, size, "--model %s: not a model file pmld can use (%s)", path,
				 r == -ENOEXEC	  ? "not a pml model file"
				 : r == -ENODATA  ? "truncated"
				 : r == -EBADMSG  ? "damaged: checksum or header mismatch"
				 : r == -EXDEV	  ? "trained for another kernel series"
				 : r == -EPROTONOSUPPORT ? "a newer format than this pml reads"
							 : strerror(-r));
			return r;
		}
		pml_predictor_free(p);
		return 0;
	}
}
