/* The live tracer. This first version is a placeholder that reports -ENOSYS: the BPF
 * programs and the skeleton-based loader land in the next commit. */
#include <errno.h>

#include "trace/tracer.h"

int pml_tracer_new(unsigned flags, pid_t root_pid, size_t ringbuf_bytes,
		   pml_tracer_event_fn fn, void *data, struct pml_tracer **ret)
{
	return -ENOSYS;
}

int pml_tracer_add_pid(struct pml_tracer *t, pid_t pid)
{
	return -ENOSYS;
}

int pml_tracer_poll(struct pml_tracer *t, int timeout_ms)
{
	return -ENOSYS;
}

uint64_t pml_tracer_dropped(struct pml_tracer *t)
{
	return 0;
}

void pml_tracer_free(struct pml_tracer *t)
{
}

int pml_tracer_record(const struct pml_tracer_opts *opts, struct pml_tracer_result *ret)
{
	return -ENOSYS;
}
