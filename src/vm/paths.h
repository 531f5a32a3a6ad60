/* Where pml keeps its artefacts outside the checkout: $PML_CACHE, else
 * $XDG_CACHE_HOME/pml, else ~/.cache/pml. The kernel tree of release REL is unpacked under
 * CACHE/kernel/REL/ (boot/vmlinuz-REL, lib/modules/REL); guest images under CACHE/images. */
#ifndef PML_VM_PATHS_H
#define PML_VM_PATHS_H

#include <stddef.h>

/* The pinned guest kernel release; kernel.pin in the source tree records the package. */
#define PML_KERNEL_RELEASE_PINNED "6.1.0-56-amd64"

/* Write the cache directory into buf. Returns 0 or -ENAMETOOLONG. */
int pml_cache_dir(char *buf, size_t size);
/* The release actually in the cache (the pinned one, or the fallback the fetch script
 * recorded in CACHE/kernel/current). Returns 0 or -ENOENT when no kernel was fetched. */
int pml_kernel_release(char *buf, size_t size);
/* CACHE/kernel/REL/lib/modules/REL for the current release. 0 or -ENOENT. */
int pml_kernel_moddir(char *buf, size_t size);

#endif
