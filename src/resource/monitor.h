/* The resource monitors: what the guest has to spare, read from /proc. Each file has a
 * parser that is a pure function over the file's text (unit-tested on fixture files) and
 * one reader that takes a proc directory ("/proc" live, a fixture folder in tests), so
 * the same code serves the daemon and the tests.
 *
 *   memory   /proc/meminfo: MemTotal, MemFree, MemAvailable (what the kernel thinks can be
 *            allocated without swapping: the room left for modules)
 *   modules  /proc/modules: the sum of the size column (module memory) and the count
 *   cpu      /proc/stat: the aggregate "cpu" line; busy fraction = delta of non-idle
 *            jiffies over delta of all jiffies between two samples
 *   network  /proc/net/dev: bytes and packets summed over interfaces other than lo;
 *            rates from two samples
 *
 * Byte counts are bytes (meminfo's kB converted). */
#ifndef PML_RESOURCE_MONITOR_H
#define PML_RESOURCE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pml_meminfo {
	int64_t total;	   /* bytes, -1 when the field is missing */
	int64_t free;
	int64_t available; /* MemAvailable; -1 on kernels older than 3.14 */
};

struct pml_cpustat {
	/* jiffies of the aggregate "cpu" line */
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
	unsigned ncpu; /* "cpuN" lines */
};

struct pml_netdev {
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets; /* all but lo */
	unsigned n_ifaces;				       /* counted, lo excluded */
};

struct pml_modsum {
	int64_t bytes; /* sum of sizes */
	unsigned count;
};

/* One sample of every monitor. A monitor whose file could not be read has its ok_* false
 * (the host kernel has no /proc/modules, a container may lack /proc/net/dev). */
struct pml_monitor_sample {
	uint64_t t_ns; /* when taken (the caller's clock) */
	bool ok_mem, ok_cpu, ok_net, ok_mod;
	struct pml_meminfo mem;
	struct pml_cpustat cpu;
	struct pml_netdev net;
	struct pml_modsum mod;
};

/* Parse /proc/meminfo text. Returns 0, -EINVAL when neither MemTotal nor MemAvailable is
 * there (not a meminfo file). Missing fields are -1. */
int pml_meminfo_parse(const char *text, struct pml_meminfo *ret);
/* Parse /proc/stat text (the "cpu" line and the count of "cpuN" lines). Returns 0 or
 * -EINVAL when there is no aggregate cpu line with at least 4 numbers. */
int pml_cpustat_parse(const char *text, struct pml_cpustat *ret);
/* Parse /proc/net/dev text (two header lines, then "iface: 16 numbers"). Returns 0 or
 * -EINVAL when a data line is malformed. */
int pml_netdev_parse(const char *text, struct pml_netdev *ret);
/* Sum the size column of /proc/modules text. Lines that do not parse are skipped. Returns
 * 0 (an empty file is 0 modules). */
int pml_modsum_parse(const char *text, struct pml_modsum *ret);

/* Busy fraction [0, 1] of the CPUs between two samples; -1 when no time passed. */
double pml_cpustat_busy(const struct pml_cpustat *prev, const struct pml_cpustat *cur);

/* Read the four files under procdir (NULL: "/proc") into ret; t_ns is set to t_ns.
 * Returns the number of monitors read (0..4); files that are missing or do not parse
 * leave their ok_* false. */
int pml_monitor_read(const char *procdir, uint64_t t_ns, struct pml_monitor_sample *ret);

/* Read a whole small file (< 1 MiB) into a NUL-terminated malloc'd buffer. /proc files
 * report size 0, so it reads until EOF. Returns 0 and *ret (caller frees), -EFBIG, or
 * -errno of open/read. */
int pml_monitor_read_file(const char *path, char **ret);

#endif
