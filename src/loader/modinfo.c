/* A module file's .modinfo section read straight from its ELF, without libkmod.
 *
 * libkmod's kmod_module_get_info() also parses the module's signature, through OpenSSL:
 * in pmld that pulled ~1.5 MiB of libcrypto's pages into its RSS the first time it asked
 * a module about its aliases (whether it provides an interface kind, before an unload).
 * The aliases are plain "alias=..." strings in .modinfo: a bounded read of the section
 * headers and of that one section is all it takes. The file is the kernel package's own
 * (trusted), but every offset is checked against the file's size anyway.
 *
 * The symbols a module imports (its undefined symbols in .symtab, which the package's
 * modules keep) say what kind of objects it registers with the kernel: a key type, a
 * conntrack helper, a disk (loader/unpinned.c). */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/modinfo.h"

#define MODINFO_MAX (1u << 20)
#define SHDRS_MAX 4096
#define SYMTAB_MAX (16u << 20)

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		done += (size_t)n;
	}
	return 0;
}

/* The section headers of an ELF file, and the names of its sections. */
struct elf {
	int fd;
	uint64_t size; /* of the file */
	Elf64_Shdr *sh;
	unsigned n;
	char *names; /* NUL-terminated */
	size_t names_len;
};

/* Closes e's file and frees what elf_open() read. */
static void elf_close(struct elf *e)
{
	close(e->fd);
	free(e->sh);
	free(e->names);
}

/* Section i (its size checked against the file and max) into a new NUL-terminated
 * buffer. */
static int elf_section(const struct elf *e, unsigned i, size_t max, char **ret,
		       size_t *ret_len)
{
	const Elf64_Shdr *s = &e->sh[i];
	char *buf;
	int r;

	if (s->sh_offset > e->size || s->sh_size > e->size - s->sh_offset || s->sh_size > max)
		return -EBADMSG;
	buf = malloc(s->sh_size + 1);
	if (!buf)
		return -ENOMEM;
	r = read_at(e->fd, buf, s->sh_size, s->sh_offset);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[s->sh_size] = '\0';
	*ret = buf;
	*ret_len = s->sh_size;
	return 0;
}

/* The section headers and their names of the open file fd of size bytes, into e. */
static int elf_open(struct elf *e, int fd, uint64_t size)
{
	Elf64_Ehdr eh;
	int r;

	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->size = size;
	r = read_at(fd, &eh, sizeof(eh), 0);
	if (r < 0)
		return r;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > SHDRS_MAX ||
	    eh.e_shstrndx >= eh.e_shnum || eh.e_shoff > size ||
	    (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff)
		return -EBADMSG;
	e->sh = calloc(eh.e_shnum, sizeof(*e->sh));
	if (!e->sh)
		return -ENOMEM;
	e->n = eh.e_shnum;
	r = read_at(fd, e->sh, eh.e_shnum * sizeof(*e->sh), eh.e_shoff);
	if (!r)
		r = elf_section(e, eh.e_shstrndx, MODINFO_MAX, &e->names, &e->names_len);
	if (r < 0) {
		free(e->sh); /* the caller closes fd */
		free(e->names);
	}
	return r;
}

/* The first section named name, or -ENOENT. */
static int elf_find(const struct elf *e, const char *name)
{
	for (unsigned i = 0; i < e->n; i++)
		if (e->sh[i].sh_name < e->names_len && !strcmp(e->names + e->sh[i].sh_name, name))
			return (int)i;
	return -ENOENT;
}

/* The module file at path (not followed through a symlink), opened into e. */
static int elf_open_path(struct elf *e, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) ? elf_open(e, fd, (uint64_t)st.st_size) : -EBADMSG;
	if (r < 0)
		close(fd);
	return r;
}

int pml_modinfo_each(const char *path, const char *key, pml_modinfo_fn fn, void *data)
{
	size_t klen = strlen(key), len = 0;
	char *info = NULL;
	struct elf e;
	int r = elf_open_path(&e, path), i;

	if (r < 0)
		return r;
	i = elf_find(&e, ".modinfo");
	r = i < 0 ? i : elf_section(&e, (unsigned)i, MODINFO_MAX, &info, &len);
	elf_close(&e);
	if (r < 0)
		return r;
	/* NUL-separated "key=value" strings, with NUL padding between them */
	for (size_t at = 0; at < len;) {
		const char *s = info + at;
		size_t n = strlen(s);

		if (n > klen && !strncmp(s, key, klen) && s[klen] == '=') {
			r = fn(data, s + klen + 1);
			if (r)
				break;
		}
		at += n + 1;
	}
	free(info);
	return r;
}

int pml_modfile_imports(const char *path, const char *const *syms, size_t n_syms,
			bool *found)
{
	char *tab = NULL, *str = NULL;
	size_t tab_len = 0, str_len = 0;
	struct elf e;
	int r = elf_open_path(&e, path), i, hits = 0;

	for (size_t k = 0; k < n_syms; k++)
		found[k] = false;
	if (r < 0)
		return r;
	r = -ENOENT;
	for (i = 0; i < (int)e.n; i++)
		if (e.sh[i].sh_type == SHT_SYMTAB)
			break;
	if (i < (int)e.n && (e.sh[i].sh_link >= e.n || e.sh[i].sh_entsize != sizeof(Elf64_Sym)))
		r = -EBADMSG;
	else if (i < (int)e.n)
		r = elf_section(&e, (unsigned)i, SYMTAB_MAX, &tab, &tab_len);
	if (!r)
		r = elf_section(&e, e.sh[i].sh_link, SYMTAB_MAX, &str, &str_len);
	elf_close(&e);
	for (size_t at = 0; !r && at + sizeof(Elf64_Sym) <= tab_len; at += sizeof(Elf64_Sym)) {
		Elf64_Sym sym;

		memcpy(&sym, tab + at, sizeof(sym));
		if (sym.st_shndx != SHN_UNDEF || !sym.st_name || sym.st_name >= str_len)
			continue;
		for (size_t k = 0; k < n_syms; k++)
			if (!found[k] && !strcmp(str + sym.st_name, syms[k])) {
				found[k] = true;
				hits++;
			}
	}
	free(tab);
	free(str);
	return r < 0 ? r : hits;
}
