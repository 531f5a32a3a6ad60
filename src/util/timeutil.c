/* Monotonic clock helper; see timeutil.h. */
#include <time.h>

#include "util/timeutil.h"

uint64_t pml_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
