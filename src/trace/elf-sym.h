/* ELF symbolisation for the tracer's instruction-pointer samples: which function of an
 * object file holds a given byte of the file. The kernel side reports a sample as (the
 * mapped file, ip's offset in that file); this turns the pair into a function name with
 * the file's own tables and nothing else (no debug info, no running process):
 *   - file offset -> virtual address through the PT_LOAD program headers;
 *   - the function symbols of .symtab, or of .dynsym when the file is stripped;
 *   - for code no symbol covers (a stripped binary's main, a library's static
 *     functions), the function starts of the unwind table (.eh_frame_hdr, which strip
 *     keeps): such a function is named "sub_<hex address>", stable across runs of the
 *     same file, so a model can still tell functions apart.
 * Loading reads the file once (libelf) and keeps only sorted arrays; a lookup is a pure
 * binary search on them. */
#ifndef PML_TRACE_ELF_SYM_H
#define PML_TRACE_ELF_SYM_H

#include <stddef.h>
#include <stdint.h>

struct pml_elf_syms;

/* Load the tables of the ELF file open on fd (not closed, not kept). Returns 0; -ENOEXEC
 * when it is not an ELF object with loadable segments; -EIO when libelf cannot read it;
 * -ENOMEM. A file with neither symbols nor an unwind table loads (every lookup then
 * fails with -ENOENT). */
int pml_elf_syms_load_fd(int fd, struct pml_elf_syms **ret);
/* The same by path; -errno of open(2) too. */
int pml_elf_syms_load(const char *path, struct pml_elf_syms **ret);
void pml_elf_syms_free(struct pml_elf_syms *s);

/* The file's DT_SONAME ("libnftables.so.1" for libnftables.so.1.1.0), NULL if it has
 * none (executables). Valid as long as s. */
const char *pml_elf_syms_soname(const struct pml_elf_syms *s);

/* Function symbols kept (after removing aliases) and unwind-table function starts. */
size_t pml_elf_syms_count(const struct pml_elf_syms *s);
size_t pml_elf_syms_unwind_count(const struct pml_elf_syms *s);

/* The function holding the byte at file offset off. Writes its name into name (size
 * bytes, truncated, NUL-terminated) and its start address (the ELF virtual address) into
 * *ret_addr when not NULL. A symbol with a size covers [value, value + size); a symbol
 * without one reaches to the next function start. Where symbols and the unwind table
 * disagree the nearer start wins, so a static function between two exported ones is not
 * taken for the first of them. Among aliases of one address the name a person would use
 * is kept ("write" over "__write" and "__libc_write"). Returns 0, or -ENOENT when off is
 * in no loaded segment or no function is known there. */
int pml_elf_syms_lookup(const struct pml_elf_syms *s, uint64_t off, char *name, size_t size,
			uint64_t *ret_addr);

#endif
