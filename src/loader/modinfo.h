/* A module file's .modinfo strings, read from its ELF without libkmod (whose
 * kmod_module_get_info() also parses the signature through OpenSSL). Internal to
 * src/loader/. */
#ifndef PML_LOADER_MODINFO_H
#define PML_LOADER_MODINFO_H

#include <stdbool.h>
#include <stddef.h>

/* Called with each value of the key asked for; return 0 to go on, non-zero to stop. */
typedef int (*pml_modinfo_fn)(void *data, const char *value);

/* Call fn for each "key=value" of the .modinfo section of the module file at path (not
 * followed through a symlink), in the file's order. Returns 0 when fn saw every value,
 * fn's non-zero value when it stopped, or -errno: -ENOENT without such a file or without a
 * .modinfo section, -EBADMSG for a file that is not a well-formed 64-bit ELF. */
int pml_modinfo_each(const char *path, const char *key, pml_modinfo_fn fn, void *data);

/* Which of syms[0..n_syms) the module file at path (not followed through a symlink)
 * imports (undefined symbols of its .symtab): found[k] set for each. Returns how many, or
 * -errno: -ENOENT without a symbol table, -EBADMSG for a file that is not a well-formed
 * 64-bit ELF. */
int pml_modfile_imports(const char *path, const char *const *syms, size_t n_syms,
			bool *found);

#endif
