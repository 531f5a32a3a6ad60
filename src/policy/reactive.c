/* The reactive policy: Linux as shipped. Every module is loaded by the kernel's own
 * request_module() on first use (through the modprobe shim, which records the stall) and
 * nothing is ever unloaded. pml adds only the logging around it.
 *
 * It is the baseline every other policy is measured against: its stall rate is 1.0 by
 * definition (each need is a miss) and its footprint only grows, so the peak is the final
 * set. It decides nothing; observe() is not even needed. */
#include "policy/policy.h"

const struct pml_policy_ops pml_policy_reactive = {
	.name = "reactive",
	.summary = "load on the kernel's request, never unload (Linux as shipped)",
};
