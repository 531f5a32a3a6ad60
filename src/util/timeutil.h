/* Clocks used across pml. All event times are CLOCK_MONOTONIC nanoseconds (in the guest:
 * since its boot), so the shim, the agent and the kernel's trace clock ("mono") agree. */
#ifndef PML_UTIL_TIMEUTIL_H
#define PML_UTIL_TIMEUTIL_H

#include <stdint.h>

uint64_t pml_now_ns(void);
static inline double pml_ns_to_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

#endif
