/* Module names as the kernel spells them. The kernel treats '-' and '_' in module names as
 * the same character and reports '_' (/proc/modules, tracepoints); modules.dep file names
 * and users write either. Every component compares names through this one function. */
#ifndef PML_UTIL_MODNAME_H
#define PML_UTIL_MODNAME_H

#include <stdbool.h>

/* Write name with '-' turned into '_' into out (64 bytes: the kernel's limit is 56).
 * Returns 0, or -ENAMETOOLONG when name has more than 63 bytes (out then holds the first
 * 63, terminated). */
int pml_module_name_normalize(const char *name, char out[64]);

/* Whether a and b name the same module ('-' and '_' alike). */
bool pml_module_name_eq(const char *a, const char *b);

#endif
