/* pmld's settings, parsed once for pmld and for `pml run`; see agent-options.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-options.h"
#include "model/predictor.h"
#include "policy/needs-model.h"
#include "policy/policy.h"
#include "util/parse.h"

static int refuse(char *why, size_t size, const char *opt, const char *s, const char *want)
{
	snprintf(why, size, "--%s: '%s' is not %s", opt, s, want);
	return -EINVAL;
}

int pml_opt_policy(const char *s, const char **ret, char *why, size_t size)
{
	const struct pml_policy_ops *ops = pml_policy_find(s);

	if (!ops || !strcmp(s, "static") || !strcmp(s, "oracle")) {
		size_t n = (size_t)snprintf(why, size, "--policy: '%s' is not a policy pmld runs "
					    "(", s);

		for (size_t i = 0, k = 0; pml_policies[i] && n < size; i++) {
			const char *p = pml_policies[i]->name;

			if (strcmp(p, "static") && strcmp(p, "oracle"))
				n += (size_t)snprintf(why + n, size - n, "%s%s", k++ ? ", " : "",
						      p);
		}
		if (n < size)
			snprintf(why + n, size - n, ")");
		return -EINVAL;
	}
	*ret = ops->name;
	return 0;
}

/* A finite number in [lo, hi] (lo excluded when open_lo). */
static int parse_range(const char *opt, const char *s, double lo, bool open_lo, double hi,
		       const char *want, double *ret, char *why, size_t size)
{
	double v;

	if (pml_parse_double(s, &v) < 0 || v < lo || (open_lo && v == lo) || v > hi)
		return refuse(why, size, opt, s, want);
	*ret = v;
	return 0;
}

int pml_opt_idle_seconds(const char *s, double *ret, char *why, size_t size)
{
	return parse_range("idle-seconds", s, 0, true, PML_OPT_IDLE_MAX_S,
			   "a number of seconds in (0, 86400]", ret, why, size);
}

int pml_opt_threshold(const char *s, double *ret, char *why, size_t size)
{
	return parse_range("threshold", s, 0, true, 1, "a probability in (0, 1]", ret, why,
			   size);
}

int pml_opt_horizon(const char *s, double *ret, char *why, size_t size)
{
	return parse_range("horizon", s, 1, false, PML_OPT_HORIZON_MAX_MS,
			   "ms in [1, 3600000]", ret, why, size);
}

int pml_opt_budget_cpu(const char *s, double *ret, char *why, size_t size)
{
	return parse_range("budget-cpu", s, 0, true, PML_OPT_BUDGET_CPU_MAX_MS,
			   "ms of load time per second in (0, 1000]", ret, why, size);
}

int pml_opt_budget_mem(const char *s, int64_t *ret, char *why, size_t size)
{
	int64_t v;

	if (pml_parse_size(s, &v) < 0 || v > PML_OPT_BUDGET_MEM_MAX)
		return refuse(why, size, "budget-mem", s,
			      "a size up to 1T (bytes, or with K, M, G, T, e.g. 2M or 2MiB)");
	*ret = v;
	return 0;
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
