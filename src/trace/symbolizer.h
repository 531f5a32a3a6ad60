/* The tracer's user-space resolution of instruction-pointer samples to (object, function),
 * done while recording so a trace names the code without the traced machine's files.
 *
 * A sample arrives with the mapped file's (dev, ino) and ip's offset in it (the kernel
 * looked the mapping up at sample time, so a process that has exited since is no
 * problem). The file's path comes from the OBJECT record the kernel wrote when the file
 * was first mapped; the function from its ELF tables (elf-sym.h), loaded once per file.
 * Where the kernel gave no mapping (its lookup found the lock busy, or the code is
 * anonymous: JIT, vdso) or no OBJECT record names the file (a kernel without BPF LSM, a
 * process mapped before the trace started), the process's /proc/PID/maps is read instead,
 * kept per pid and read again after the pid's next exec or mmap record. */
#ifndef PML_TRACE_SYMBOLIZER_H
#define PML_TRACE_SYMBOLIZER_H

#include <stdint.h>

#include "trace/trace-event.h"

struct pml_symbolizer;

/* NULL on allocation failure. proc_root: where /proc is ("/proc"; tests point it at a
 * fixture). */
struct pml_symbolizer *pml_symbolizer_new(const char *proc_root);
void pml_symbolizer_free(struct pml_symbolizer *s);

/* Learn from a record, in stream order: OBJECT (a file's path), EXEC and MMAP (the pid's
 * maps snapshot is stale), EXIT (forget the pid). Other kinds are ignored. */
void pml_symbolizer_observe(struct pml_symbolizer *s, const struct pml_tev_hdr *e);

/* Fill a sample's object and func (trace-event.h says what they hold) and set
 * PML_SAMPLE_RESOLVED. Never fails: what cannot be resolved is left "?" or "". */
void pml_symbolizer_resolve(struct pml_symbolizer *s, struct pml_tev_sample *e);

struct pml_symbolizer_stats {
	uint64_t samples;	/* resolve() calls */
	uint64_t named;		/* samples given a function name */
	uint64_t objects;	/* files known */
	uint64_t loaded;	/* files whose ELF tables were loaded */
	uint64_t load_failed;	/* files that could not be opened or parsed */
	uint64_t maps_reads;	/* /proc/PID/maps reads (the fallback) */
};
void pml_symbolizer_stats(const struct pml_symbolizer *s, struct pml_symbolizer_stats *ret);

#endif
