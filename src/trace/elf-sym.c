/* ELF symbolisation (elf-sym.h): load an object's PT_LOAD segments, function symbols and
 * unwind-table function starts into sorted arrays with libelf, then answer "which
 * function holds file offset X" by binary search.
 *
 * The unwind table is .eh_frame_hdr's binary-search table (found through the
 * PT_GNU_EH_FRAME program header, which survives strip): a sorted list of (function start,
 * FDE) pairs, each encoded as the header's table_enc says (GNU ld and lld write
 * datarel|sdata4). Only the starts are used. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/elf-sym.h"

struct seg {
	uint64_t off, vaddr, filesz;
};

struct sym {
	uint64_t addr, size;
	uint32_t name;	/* offset in names */
	uint8_t rank;	/* lower is the better name among aliases */
};

struct pml_elf_syms {
	struct seg *segs;
	size_t n_segs;
	struct sym *syms;
	size_t n_syms;
	uint64_t *starts; /* unwind-table function starts, sorted */
	size_t n_starts;
	char *names;
	size_t names_len, names_cap;
	uint32_t soname;	/* offset in names, UINT32_MAX: none */
};

void pml_elf_syms_free(struct pml_elf_syms *s)
{
	if (!s)
		return;
	free(s->segs);
	free(s->syms);
	free(s->starts);
	free(s->names);
	free(s);
}

const char *pml_elf_syms_soname(const struct pml_elf_syms *s)
{
	return s->soname == UINT32_MAX ? NULL : s->names + s->soname;
}

size_t pml_elf_syms_count(const struct pml_elf_syms *s)
{
	return s->n_syms;
}

size_t pml_elf_syms_unwind_count(const struct pml_elf_syms *s)
{
	return s->n_starts;
}

static int add_name(struct pml_elf_syms *s, const char *name, uint32_t *ret)
{
	size_t n = strlen(name) + 1;

	if (s->names_len + n > UINT32_MAX)
		return -ENOMEM;
	if (s->names_len + n > s->names_cap) {
		size_t cap = s->names_cap ? s->names_cap * 2 : 4096;
		char *p;

		while (cap < s->names_len + n)
			cap *= 2;
		p = realloc(s->names, cap);
		if (!p)
			return -ENOMEM;
		s->names = p;
		s->names_cap = cap;
	}
	memcpy(s->names + s->names_len, name, n);
	*ret = (uint32_t)s->names_len;
	s->names_len += n;
	return 0;
}

/* Among aliases the name without leading underscores, then a global one, then the
 * shortest: "write" before "__write" (global) and "__libc_write". */
static uint8_t name_rank(const char *name, unsigned bind)
{
	unsigned u = 0;

	while (name[u] == '_' && u < 3)
		u++;
	return (uint8_t)(u * 4 + (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2));
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (int)x->rank - (int)y->rank;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int load_segments(struct pml_elf_syms *s, Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	s->segs = calloc(n ? n : 1, sizeof(*s->segs));
	if (!s->segs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		s->segs[s->n_segs++] = (struct seg){ph.p_offset, ph.p_vaddr, ph.p_filesz};
	}
	return s->n_segs ? 0 : -ENOEXEC;
}

/* The function symbols of the first section of type want; returns the count kept or
 * -errno. */
static int load_symtab(struct pml_elf_syms *s, Elf *elf, Elf64_Word want)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return -EIO;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			unsigned type;
			int err;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (s->n_syms == cap) {
				struct sym *p;

				cap = cap ? cap * 2 : 256;
				p = realloc(s->syms, cap * sizeof(*p));
				if (!p)
					return -ENOMEM;
				s->syms = p;
			}
			err = add_name(s, name, &s->syms[s->n_syms].name);
			if (err)
				return err;
			s->syms[s->n_syms].addr = sym.st_value;
			s->syms[s->n_syms].size = sym.st_size;
			s->syms[s->n_syms].rank = name_rank(name, GELF_ST_BIND(sym.st_info));
			s->n_syms++;
		}
		return (int)s->n_syms;
	}
	return 0;
}

/* Sort, and keep one symbol per address (the best-ranked name, the largest size). */
static void sort_syms(struct pml_elf_syms *s)
{
	size_t out = 0;

	if (!s->n_syms)
		return;
	qsort(s->syms, s->n_syms, sizeof(*s->syms), cmp_sym);
	for (size_t i = 0; i < s->n_syms; i++) {
		if (out && s->syms[out - 1].addr == s->syms[i].addr) {
			if (s->syms[i].size > s->syms[out - 1].size)
				s->syms[out - 1].size = s->syms[i].size;
			continue;
		}
		s->syms[out++] = s->syms[i];
	}
	s->n_syms = out;
}

/* DWARF pointer encodings (the subset .eh_frame_hdr uses). */
#define DW_EH_PE_omit 0xff
#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_udata2 0x02
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sdata2 0x0a
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_datarel 0x30

/* Read one encoded value at *pos of buf (base: the vaddr of buf[0]). Returns false when
 * the encoding is not supported or the buffer ends. */
static bool read_enc(const uint8_t *buf, size_t len, size_t *pos, uint8_t enc, uint64_t base,
		     uint64_t *ret)
{
	size_t at = *pos, n;
	uint64_t v = 0;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		n = 8;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		n = 4;
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		n = 2;
		break;
	default:
		return false;
	}
	if (at + n > len)
		return false;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)buf[at + i] << (8 * i);
	if ((enc & 0x0f) == DW_EH_PE_sdata4)
		v = (uint64_t)(int64_t)(int32_t)v;
	else if ((enc & 0x0f) == DW_EH_PE_sdata2)
		v = (uint64_t)(int64_t)(int16_t)v;
	switch (enc & 0x70) {
	case 0:
		break;
	case DW_EH_PE_pcrel:
		v += base + at;
		break;
	case DW_EH_PE_datarel:
		v += base;
		break;
	default:
		return false;
	}
	*pos = at + n;
	*ret = v;
	return true;
}

/* Function starts from .eh_frame_hdr. A file without one, or with an encoding not
 * handled, simply has none (0 returned); only -ENOMEM is an error. */
static int load_unwind(struct pml_elf_syms *s, Elf *elf)
{
	size_t n_ph, pos = 4;
	GElf_Phdr ph;
	Elf_Data *d = NULL;
	const uint8_t *b;
	uint64_t ptr, count;

	if (elf_getphdrnum(elf, &n_ph))
		return 0;
	for (size_t i = 0; i < n_ph; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_GNU_EH_FRAME) {
			d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
			break;
		}
	if (!d || !d->d_buf || d->d_size < 4)
		return 0;
	b = d->d_buf;
	if (b[0] != 1 || b[2] == DW_EH_PE_omit || b[3] == DW_EH_PE_omit)
		return 0;
	if (!read_enc(b, d->d_size, &pos, b[1], ph.p_vaddr, &ptr) ||
	    !read_enc(b, d->d_size, &pos, b[2], ph.p_vaddr, &count))
		return 0;
	/* each entry is two values of table_enc: bound the count by the bytes present */
	if (!count || count > (d->d_size - pos) / 4)
		return 0;
	s->starts = malloc(count * sizeof(*s->starts));
	if (!s->starts)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t start, fde;

		if (!read_enc(b, d->d_size, &pos, b[3], ph.p_vaddr, &start) ||
		    !read_enc(b, d->d_size, &pos, b[3], ph.p_vaddr, &fde))
			break;
		s->starts[s->n_starts++] = start;
	}
	/* the table is sorted by definition; a damaged file need not be */
	qsort(s->starts, s->n_starts, sizeof(*s->starts), cmp_u64);
	return 0;
}

/* DT_SONAME from the dynamic section, if any. */
static int load_soname(struct pml_elf_syms *s, Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_SONAME)
				continue;
			name = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			return name && *name ? add_name(s, name, &s->soname) : 0;
		}
		return 0;
	}
	return 0;
}

int pml_elf_syms_load_fd(int fd, struct pml_elf_syms **ret)
{
	struct pml_elf_syms *s;
	GElf_Ehdr eh;
	Elf *elf;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EIO;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -EIO;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		elf_end(elf);
		return -ENOEXEC;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		elf_end(elf);
		return -ENOMEM;
	}
	s->soname = UINT32_MAX;
	err = load_segments(s, elf);
	if (!err) {
		int n = load_symtab(s, elf, SHT_SYMTAB);

		if (n == 0)
			n = load_symtab(s, elf, SHT_DYNSYM);
		err = n < 0 ? n : 0;
	}
	if (!err)
		err = load_unwind(s, elf);
	if (!err)
		err = load_soname(s, elf);
	elf_end(elf);
	if (err) {
		pml_elf_syms_free(s);
		return err;
	}
	sort_syms(s);
	*ret = s;
	return 0;
}

int pml_elf_syms_load(const char *path, struct pml_elf_syms **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	err = pml_elf_syms_load_fd(fd, ret);
	close(fd);
	return err;
}

/* Index of the last element <= key, or -1. */
static ptrdiff_t last_sym_le(const struct sym *a, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid].addr <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

static ptrdiff_t last_u64_le(const uint64_t *a, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

int pml_elf_syms_lookup(const struct pml_elf_syms *s, uint64_t off, char *name, size_t size,
			uint64_t *ret_addr)
{
	const struct sym *sym = NULL;
	uint64_t vaddr = 0, start;
	ptrdiff_t i, j;
	bool found = false;

	for (size_t k = 0; k < s->n_segs; k++)
		if (off >= s->segs[k].off && off - s->segs[k].off < s->segs[k].filesz) {
			vaddr = off - s->segs[k].off + s->segs[k].vaddr;
			found = true;
			break;
		}
	if (!found)
		return -ENOENT;
	i = last_sym_le(s->syms, s->n_syms, vaddr);
	j = last_u64_le(s->starts, s->n_starts, vaddr);
	if (i >= 0)
		sym = &s->syms[i];
	/* a sized symbol that covers the address is authoritative */
	if (sym && sym->size && vaddr - sym->addr < sym->size)
		goto named;
	if (j < 0) {
		if (sym && !sym->size)
			goto named;
		return -ENOENT;
	}
	start = s->starts[j];
	/* the unwind table's function starts at or after the symbol: the symbol's own
	 * start (named) or a function the symbols do not know (sub_) */
	if (sym && sym->addr == start)
		goto named;
	if (sym && !sym->size && sym->addr > start)
		goto named;
	snprintf(name, size, "sub_%" PRIx64, start);
	if (ret_addr)
		*ret_addr = start;
	return 0;
named:
	snprintf(name, size, "%s", s->names + sym->name);
	if (ret_addr)
		*ret_addr = sym->addr;
	return 0;
}
