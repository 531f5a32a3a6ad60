/* ELF symbolisation of instruction-pointer samples (trace/elf-sym.c, and the symbolizer
 * around it: OBJECT records, the /proc/PID/maps fallback on a fake /proc), on binaries this test
 * builds with the system's C compiler: a PIE program and a shared library it links, each
 * also stripped. The program reports where its functions are, as file offsets computed
 * from /proc/self/maps exactly as the kernel side computes a sample's offset (ip -
 * vm_start + vm_pgoff * page size); every offset must resolve to the function's name from
 * .symtab, from .dynsym when stripped, and to the unwind table's "sub_<address>" for a
 * function a stripped file has no symbol for (never to its exported neighbour). Skipped
 * where no compiler is installed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "trace/elf-sym.h"
#include "trace/symbolizer.h"
#include "unit.h"

static char dir[] = "/tmp/pml-test-elf-XXXXXX";

static const char lib_c[] =
	"int lib_exported(int x);\n"
	"void *lib_static_addr(void);\n"
	"static __attribute__((noinline)) int lib_static(int x) { return x * 7 + 3; }\n"
	"int lib_exported(int x) { return lib_static(x) + 1; }\n"
	"void *lib_static_addr(void) { return (void *)lib_static; }\n"
	"int __lib_write(int x) { return x ^ 0x55; }\n"
	"extern __typeof(__lib_write) lib_write __attribute__((weak, alias(\"__lib_write\")));\n";

static const char prog_c[] =
	"#include <stdio.h>\n"
	"#include <stdint.h>\n"
	"int lib_exported(int x);\n"
	"int lib_write(int x);\n"
	"void *lib_static_addr(void);\n"
	"static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
	"__attribute__((noinline)) int pml_test_global(int x) { return helper(x) ^ 5; }\n"
	"static void report(const char *name, const void *p)\n"
	"{\n"
	"	FILE *f = fopen(\"/proc/self/maps\", \"r\");\n"
	"	char line[512];\n"
	"	uintptr_t a = (uintptr_t)p;\n"
	"	while (f && fgets(line, sizeof(line), f)) {\n"
	"		unsigned long s, e, off;\n"
	"		char perm[8];\n"
	"		if (sscanf(line, \"%lx-%lx %7s %lx\", &s, &e, perm, &off) == 4 &&\n"
	"		    a >= s && a < e) {\n"
	"			printf(\"%s %lx\\n\", name, (unsigned long)(a - s + off));\n"
	"			break;\n"
	"		}\n"
	"	}\n"
	"	if (f)\n"
	"		fclose(f);\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	report(\"main\", (void *)main);\n"
	"	report(\"helper\", (void *)helper);\n"
	"	report(\"pml_test_global\", (void *)pml_test_global);\n"
	"	report(\"pml_test_global+5\", (const char *)(void *)pml_test_global + 5);\n"
	"	report(\"lib_exported\", (void *)lib_exported);\n"
	"	report(\"lib_static\", lib_static_addr());\n"
	"	report(\"lib_write\", (void *)lib_write);\n"
	"	return (helper(argc) + pml_test_global(argc) + lib_exported(argc) +\n"
	"		lib_write(argc)) == 12345;\n"
	"}\n";

#define MAX_FN 16
static struct {
	char name[64];
	uint64_t off;
} fns[MAX_FN];
static size_t n_fns;

static const char *path_of(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static int write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}


static uint64_t off_of(const char *name)
{
	for (size_t i = 0; i < n_fns; i++)
		if (!strcmp(fns[i].name, name))
			return fns[i].off;
	return UINT64_MAX;
}

static const char *lookup(const char *file, uint64_t off, uint64_t *addr)
{
	static char name[4][128];
	static int k;
	struct pml_elf_syms *s;
	int rc;

	k = (k + 1) % 4;
	if (pml_elf_syms_load(path_of(file), &s)) {
		snprintf(name[k], sizeof(name[k]), "(load failed)");
		return name[k];
	}
	rc = pml_elf_syms_lookup(s, off, name[k], sizeof(name[k]), addr);
	if (rc)
		snprintf(name[k], sizeof(name[k]), "(%s)", strerror(-rc));
	pml_elf_syms_free(s);
	return name[k];
}

static void sample_init(struct pml_tev_sample *e, uint32_t pid, uint64_t ip, uint64_t ino,
			uint32_t dev, uint64_t off, uint16_t flags)
{
	memset(e, 0, sizeof(*e));
	e->h.kind = PML_TEV_SAMPLE;
	e->h.size = sizeof(*e);
	e->h.pid = e->h.tid = pid;
	e->h.nr = -1;
	e->ip = ip;
	e->ino = ino;
	e->dev = dev;
	e->offset = off;
	e->flags = flags;
}

/* The symbolizer: a sample names its file through an OBJECT record, or, without one or
 * without a mapping from the kernel, through the process's maps (a fake /proc here). */
static void test_symbolizer(void)
{
	char proc[256], path[512], line[1024];
	struct pml_symbolizer *s;
	struct pml_symbolizer_stats st;
	struct pml_tev_sample e;
	struct pml_tev_object o;
	struct pml_tev_hdr ex;
	struct pml_tev_proc pr;
	struct stat sb;
	uint64_t off = off_of("main");
	FILE *f;

	CHECK(stat(path_of("prog"), &sb) == 0);
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(path, sizeof(path), "%s/4242", proc);
	CHECK(mkdir(proc, 0755) == 0 && mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/4242/maps", proc);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "10000-40000 r-xp 00000000 07:02 %lu %s\n", (unsigned long)sb.st_ino,
		path_of("prog"));
	fprintf(f, "7fff0000-7fff2000 r-xp 00000000 00:00 0 [vdso]\n");
	fprintf(f, "80000000-80001000 rw-p 00000000 00:00 0 \n");
	fclose(f);
	s = pml_symbolizer_new(proc);
	CHECK(s != NULL);
	if (!s)
		return;

	/* named by the OBJECT record */
	memset(&o, 0, sizeof(o));
	o.h.kind = PML_TEV_OBJECT;
	o.h.size = sizeof(o);
	o.h.pid = 1;
	o.ino = sb.st_ino;
	o.dev = 5;
	snprintf(o.path, sizeof(o.path), "%s", path_of("prog"));
	pml_symbolizer_observe(s, &o.h);
	sample_init(&e, 1, 0x5000 + off, sb.st_ino, 5, off, 0);
	pml_symbolizer_resolve(s, &e);
	CHECK(e.flags & PML_SAMPLE_RESOLVED);
	CHECK_STR(e.object, "prog");
	CHECK_STR(e.func, "main");

	/* the kernel found no mapping (lock busy): the process's maps place ip */
	sample_init(&e, 4242, 0x10000 + off, 0, 0, 0, PML_SAMPLE_NO_VMA);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "prog");
	CHECK_STR(e.func, "main");
	CHECK(e.ino == (uint64_t)sb.st_ino && e.offset == off && e.dev == ((7u << 20) | 2));
	/* a file no OBJECT record named: found in the maps by ip */
	sample_init(&e, 4242, 0x10000 + off, sb.st_ino, 99, off, 0);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "prog");
	CHECK_STR(e.func, "main");
	/* anonymous code */
	sample_init(&e, 4242, 0x7fff0100, 0, 0, 0, 0);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "[vdso]");
	CHECK_STR(e.func, "");
	sample_init(&e, 4242, 0x80000010, 0, 0, 0, 0);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "[anon]");
	/* a process that is gone, in the kernel at the sample: an exec */
	sample_init(&e, 777, 0x10000 + off, 0, 0, 0, PML_SAMPLE_KERNEL);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "[kernel]");
	sample_init(&e, 777, 0x10000 + off, 0, 0, 0, PML_SAMPLE_NO_VMA);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "?");
	/* an unknown file and no maps: the offset stays for the dump */
	sample_init(&e, 777, 0x10000 + off, 12345, 1, off, 0);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "?");
	/* a sample the kernel could not place, of a process that is gone by now: placed
	 * by where the process was seen running prog (pid 1: the OBJECT-named sample at
	 * 0x5000 + off), and so for the child it forked, until that child execs */
	sample_init(&e, 1, 0x5000 + off + 4, 0, 0, 0, PML_SAMPLE_NO_VMA | PML_SAMPLE_KERNEL);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "prog");
	CHECK_STR(e.func, "main");
	CHECK(e.ino == (uint64_t)sb.st_ino && e.offset == off + 4);
	memset(&pr, 0, sizeof(pr));
	pr.h.kind = PML_TEV_FORK;
	pr.h.size = sizeof(pr);
	pr.h.pid = 1;
	pr.other = 2;
	pml_symbolizer_observe(s, &pr.h);
	sample_init(&e, 2, 0x5000 + off, 0, 0, 0, PML_SAMPLE_NO_VMA);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.func, "main");
	pr.h.kind = PML_TEV_EXEC;
	pr.h.pid = 2;
	pml_symbolizer_observe(s, &pr.h);
	sample_init(&e, 2, 0x5000 + off, 0, 0, 0, PML_SAMPLE_NO_VMA);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "?");
	/* far from any known code: not placed */
	sample_init(&e, 1, 0x7f0000000000, 0, 0, 0, PML_SAMPLE_NO_VMA);
	pml_symbolizer_resolve(s, &e);
	CHECK_STR(e.object, "?");

	/* the pid's exit forgets its maps */
	memset(&ex, 0, sizeof(ex));
	ex.kind = PML_TEV_EXIT;
	ex.pid = 4242;
	pml_symbolizer_observe(s, &ex);

	pml_symbolizer_stats(s, &st);
	CHECK(st.samples == 12 && st.named == 5);
	CHECK(st.loaded == 3 && st.objects == 3); /* one per (dev, ino) key */
	printf("  trace-elf: symbolizer: %llu samples, %llu named, %llu maps reads\n",
	       (unsigned long long)st.samples, (unsigned long long)st.named,
	       (unsigned long long)st.maps_reads);
	pml_symbolizer_free(s);
	snprintf(line, sizeof(line), "rm -rf %s", proc);
	CHECK(system(line) == 0);
}

int main(void)
{
	char line[256], expect[64], cmd[1024];
	uint64_t main_addr = 0, helper_addr = 0, static_addr = 0, a = 0;
	struct pml_elf_syms *s;
	FILE *p;

	if (system("cc --version >/dev/null 2>&1") != 0) {
		printf("  trace-elf: skipped, no C compiler (cc) to build the test binaries\n");
		return unit_done("trace-elf");
	}
	if (!mkdtemp(dir))
		return 1;
	CHECK(write_file("lib.c", lib_c) == 0);
	CHECK(write_file("prog.c", prog_c) == 0);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && cc -O1 -fPIC -shared -Wl,-soname,libpmlt.so.1 -o libpmlt.so lib.c && "
		 "ln -s libpmlt.so libpmlt.so.1 && "
		 "cc -O1 -fPIE -pie -o prog prog.c -L. -lpmlt -Wl,-rpath,%s && "
		 "cp prog prog.stripped && strip prog.stripped && "
		 "cp libpmlt.so libpmlt.stripped.so && strip libpmlt.stripped.so", dir, dir);
	CHECK(system(cmd) == 0);
	/* the program reports its functions' file offsets */
	snprintf(line, sizeof(line), "%s/prog", dir);
	p = popen(line, "r");
	CHECK(p != NULL);
	while (p && n_fns < MAX_FN && fgets(line, sizeof(line), p))
		if (sscanf(line, "%63s %" SCNx64, fns[n_fns].name, &fns[n_fns].off) == 2)
			n_fns++;
	if (p)
		pclose(p);
	CHECK(n_fns == 7);

	/* unstripped: .symtab names everything, static functions too */
	CHECK_STR(lookup("prog", off_of("main"), &main_addr), "main");
	CHECK_STR(lookup("prog", off_of("helper"), &helper_addr), "helper");
	CHECK_STR(lookup("prog", off_of("pml_test_global"), NULL), "pml_test_global");
	CHECK_STR(lookup("prog", off_of("pml_test_global+5"), &a), "pml_test_global");
	CHECK(a != 0 && main_addr != 0 && helper_addr != 0);
	CHECK_STR(lookup("libpmlt.so", off_of("lib_exported"), NULL), "lib_exported");
	CHECK_STR(lookup("libpmlt.so", off_of("lib_static"), &static_addr), "lib_static");
	/* aliases: the plain name, even though it is the weak one */
	CHECK_STR(lookup("libpmlt.so", off_of("lib_write"), NULL), "lib_write");

	/* stripped: .dynsym names the exported functions; the others come from the unwind
	 * table, named by their address (the same address the symbol table gave) */
	CHECK(pml_elf_syms_load(path_of("prog.stripped"), &s) == 0);
	if (s) {
		printf("  trace-elf: stripped program: %zu symbols, %zu unwind-table functions\n",
		       pml_elf_syms_count(s), pml_elf_syms_unwind_count(s));
		CHECK(pml_elf_syms_unwind_count(s) >= 3);
		pml_elf_syms_free(s);
	}
	snprintf(expect, sizeof(expect), "sub_%" PRIx64, main_addr);
	CHECK_STR(lookup("prog.stripped", off_of("main"), NULL), expect);
	snprintf(expect, sizeof(expect), "sub_%" PRIx64, helper_addr);
	CHECK_STR(lookup("prog.stripped", off_of("helper"), NULL), expect);
	CHECK_STR(lookup("libpmlt.stripped.so", off_of("lib_exported"), NULL), "lib_exported");
	CHECK_STR(lookup("libpmlt.stripped.so", off_of("lib_write"), NULL), "lib_write");
	snprintf(expect, sizeof(expect), "sub_%" PRIx64, static_addr);
	CHECK_STR(lookup("libpmlt.stripped.so", off_of("lib_static"), NULL), expect);
	printf("  trace-elf: main at %s, stripped: %s; lib_static stripped: %s\n",
	       lookup("prog", off_of("main"), NULL), lookup("prog.stripped", off_of("main"), NULL),
	       lookup("libpmlt.stripped.so", off_of("lib_static"), NULL));

	test_symbolizer();

	/* the soname names a library; a program has none */
	CHECK(pml_elf_syms_load(path_of("libpmlt.stripped.so"), &s) == 0);
	if (s) {
		CHECK_STR(pml_elf_syms_soname(s), "libpmlt.so.1");
		pml_elf_syms_free(s);
	}
	CHECK(pml_elf_syms_load(path_of("prog"), &s) == 0);
	if (s) {
		CHECK(pml_elf_syms_soname(s) == NULL);
		pml_elf_syms_free(s);
	}

	/* refusals */
	CHECK_STR(lookup("prog", 1ull << 40, NULL), "(No such file or directory)");
	CHECK(pml_elf_syms_load(path_of("prog.c"), &s) == -ENOEXEC);
	CHECK(pml_elf_syms_load(path_of("nonexistent"), &s) == -ENOENT);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return unit_done("trace-elf");
}
