/* Later uses of a module in a recorded trace: the aliases a record would make the kernel
 * request if the module serving it were not loaded. A reactive trace shows only each
 * module's first need (the kernel asks once, then the module stays); replay uses these to
 * charge a policy that unloaded a module the program goes on to use (doc/sim.md). */
#ifndef PML_DATASET_REUSE_H
#define PML_DATASET_REUSE_H

#include <stddef.h>

#include "trace/trace-event.h"

#define PML_REUSE_MAX 3

/* The aliases of rec (socket, mount, a netlink RTM_NEWLINK with a link kind, an AF_ALG
 * bind, a TCP ULP) into out, most specific first; returns how many (0 for any other
 * record). rec must be a checked record (pml_tev_check). */
size_t pml_reuse_aliases(const struct pml_tev_hdr *rec, char (*out)[64], size_t max);

#endif
