/* The workload corpus as the collector sees it: scenario scripts under workloads/ and
 * the header lines they open with (workloads/README.md):
 *   # pml-family: netdev
 *   # pml-expect: vxlan udp_tunnel ...
 *   # pml-packages: xorriso
 *   # pml-timeout: 240 */
#ifndef PML_DATASET_SCENARIO_H
#define PML_DATASET_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

struct pml_scenario {
	char name[80];	      /* "netdev/vxlan-overlay": family dir / script name */
	char family[32];      /* the header's pml-family, else the directory */
	char packages[256];   /* extra Debian packages, comma-separated, sorted */
	char expect[512];     /* pml-expect, space-separated */
	unsigned timeout_s;   /* pml-timeout, default 240 */
};

struct pml_scenario_list {
	struct pml_scenario *v;
	size_t n;
};

/* Every scenario of the corpus at workloads_dir (workloads/FAMILY/NAME.sh, lib/ and
 * tools/ excepted), sorted by name. Returns 0, -ENOENT when the directory is missing or
 * holds none, -ENOMEM. */
int pml_scenarios_load(const char *workloads_dir, struct pml_scenario_list *ret);
void pml_scenarios_release(struct pml_scenario_list *l);

/* Whether name ("netdev/vxlan-overlay") matches one of the comma-separated globs (fnmatch,
 * '*' crossing '/': "netdev/" followed by '*', "composite/container-start"; a trailing
 * ".sh" is ignored). */
bool pml_scenario_match(const char *name, const char *globs);

#endif
