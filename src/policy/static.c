/* The static policy: load, at start, every module the program's family of jobs ever
 * needed, and never unload anything.
 *
 * This is what an administrator does by hand today: a build host gets overlay and loop in
 * /etc/modules, a router nf_tables and the NAT modules, because "that kind of machine"
 * needs them. It is load-all narrowed by one piece of knowledge given before the program
 * runs, what kind of job it is, and it asks whether that label alone is enough: if jobs of
 * one family need the same modules, a per-family list catches most needs at a fraction of
 * load-all's footprint, and a predictor must beat it to be worth its cost.
 *
 * The approximations, and what they cost:
 *  - the family is the dataset's (the scenario's folder: netdev, fs, crypto ...), known
 *    to the driver, which gives the list (config.preload): every module a training run of
 *    that family loaded, the most often needed first. The policy itself never sees the
 *    label, only the list, so it runs unchanged live with a list from the policy file;
 *  - a module the family never needed in training (the job's unexpected path, a
 *    held-out scenario's own modules) stalls as under reactive; a module the family
 *    needed once, in one job, is held by every job of the family: the list is a union, not
 *    a vote;
 *  - loading, budget and refusals are load-all's (load-all.c, whose code this shares):
 *    the list goes through the single load worker in order from the start, a refused load
 *    is not asked again, nothing is ever unloaded. */
#include "policy/preload.h"

const struct pml_policy_ops pml_policy_static = {
	.name = "static",
	.summary = "load every module the program's family needed before, at start; never "
		   "unload",
	.init = pml_preload_init,
	.observe = pml_preload_observe,
	.decide = pml_preload_decide,
	.free = pml_preload_free,
};
