/* A module file's .modinfo section read straight from its ELF, without libkmod.
 *
 * libkmod's kmod_module_get_info() also parses the module's signature, through OpenSSL:
 * in pmld that pulled ~1.5 MiB of libcrypto's pages into its RSS the first time it asked
 * a module about its aliases (whether it provides an interface kind, before an unload).
 * The aliases are plain "alias=..." strings in .modinfo: a bounded read of the section
 * headers and of that one section is all it takes. The file is the kernel package's own
 * (trusted), but every offset is checked against the file's size anyway. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/modinfo.h"

#define MODINFO_MAX (1u << 20)
#define SHDRS_MAX 4096

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

/* The .modinfo section of the open ELF file fd of st_size bytes into a new buffer. */
static int load_modinfo(int fd, uint64_t size, char **ret, size_t *ret_len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL, *names;
	char *strtab = NULL, *buf = NULL;
	int r;

	r = read_at(fd, &eh, sizeof(eh), 0);
	if (r < 0)
		return r;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > SHDRS_MAX ||
	    eh.e_shstrndx >= eh.e_shnum || eh.e_shoff > size ||
	    (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff)
		return -EBADMSG;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	r = read_at(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff);
	names = &sh[eh.e_shstrndx];
	if (!r && (names->sh_offset > size || names->sh_size > size - names->sh_offset ||
		   names->sh_size == 0 || names->sh_size > MODINFO_MAX))
		r = -EBADMSG;
	if (!r && !(strtab = malloc(names->sh_size + 1)))
		r = -ENOMEM;
	if (!r)
		r = read_at(fd, strtab, names->sh_size, names->sh_offset);
	if (r < 0)
		goto out;
	strtab[names->sh_size] = '\0';
	r = -ENOENT; /* until the section is found */
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		const Elf64_Shdr *s = &sh[i];

		if (s->sh_name >= names->sh_size || strcmp(strtab + s->sh_name, ".modinfo"))
			continue;
		if (s->sh_offset > size || s->sh_size > size - s->sh_offset ||
		    s->sh_size > MODINFO_MAX) {
			r = -EBADMSG;
			break;
		}
		buf = malloc(s->sh_size + 1);
		if (!buf) {
			r = -ENOMEM;
			break;
		}
		r = read_at(fd, buf, s->sh_size, s->sh_offset);
		if (r < 0)
			break;
		buf[s->sh_size] = '\0';
		*ret = buf;
		*ret_len = s->sh_size;
		buf = NULL;
		break;
	}
out:
	free(buf);
	free(strtab);
	free(sh);
	return r;
}

int pml_modinfo_each(const char *path, const char *key, pml_modinfo_fn fn, void *data)
{
	size_t klen = strlen(key), len = 0;
	char *info = NULL;
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = S_ISREG(st.st_mode) ? load_modinfo(fd, (uint64_t)st.st_size, &info, &len) : -EBADMSG;
	close(fd);
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
