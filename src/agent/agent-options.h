/* The settings pmld takes that `pml run` passes on to the guest: one parser for each, used
 * by pmld itself and by `pml run` on the host before anything boots, so that a value the
 * host accepts is one pmld accepts (a value pmld refused used to leave the guest without
 * pmld, running reactively under a report that named the requested policy).
 *
 * Each parser takes the whole string (no leading or trailing space), returns 0 and writes
 * *ret, or -EINVAL and writes a sentence naming the option and the value into why. */
#ifndef PML_AGENT_AGENT_OPTIONS_H
#define PML_AGENT_AGENT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/* Ranges, inclusive unless said. */
#define PML_OPT_IDLE_MAX_S 86400.0	     /* --idle-seconds (0, 1 day] */
#define PML_OPT_HORIZON_MAX_MS 3600e3	     /* --horizon [1, 1 h] */
#define PML_OPT_BUDGET_CPU_MAX_MS 1000.0     /* --budget-cpu (0, 1000] ms per s */
#define PML_OPT_BUDGET_MEM_MAX (1ll << 40)   /* --budget-mem [0, 1 TiB] */

/* --policy: a policy pmld runs (not the replay-only static and oracle). */
int pml_opt_policy(const char *s, const char **ret, char *why, size_t size);
/* --idle-seconds: a finite number of seconds in (0, PML_OPT_IDLE_MAX_S]. */
int pml_opt_idle_seconds(const char *s, double *ret, char *why, size_t size);
/* --threshold: a probability in (0, 1]. */
int pml_opt_threshold(const char *s, double *ret, char *why, size_t size);
/* --horizon: ms in [1, PML_OPT_HORIZON_MAX_MS]. */
int pml_opt_horizon(const char *s, double *ret, char *why, size_t size);
/* --budget-cpu: ms of load time per second, in (0, PML_OPT_BUDGET_CPU_MAX_MS]. */
int pml_opt_budget_cpu(const char *s, double *ret, char *why, size_t size);
/* --budget-mem: a size (K, M, G, T, optional B or iB) up to PML_OPT_BUDGET_MEM_MAX. */
int pml_opt_budget_mem(const char *s, int64_t *ret, char *why, size_t size);

/* --model for policy: loads it the way pmld will (a needs model for markov and load-all,
 * a model file of pml train for lstm and lstm+idle-unload, checked against
 * kernel_release when not NULL) and frees it again. 0 when pmld would accept it (also when
 * the policy takes no model and path is NULL); -EINVAL when the policy needs one and path
 * is NULL or it takes none; else the loader's negative errno. why says which. */
int pml_opt_check_model(const char *policy, const char *path, const char *kernel_release,
			char *why, size_t size);

#endif
