/* The resource monitors (monitor.h): parsers of /proc/meminfo, /proc/stat, /proc/net/dev
 * and /proc/modules as pure functions over text, and the reader that feeds them the live
 * files (or a fixture folder). The parsers are written for untrusted-looking input: a
 * truncated or odd file gives -EINVAL or skipped lines, never a read past the text. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resource/monitor.h"

#define MONITOR_FILE_MAX (1 << 20)

/* The next line of text at *p (without its '\n') into line; advances *p. Returns false at
 * the end. Lines longer than the buffer are cut (the rest skipped). */
static bool next_line(const char **p, char *line, size_t size)
{
	const char *s = *p, *nl;
	size_t len;

	if (!*s)
		return false;
	nl = strchr(s, '\n');
	len = nl ? (size_t)(nl - s) : strlen(s);
	*p = nl ? nl + 1 : s + len;
	if (len >= size)
		len = size - 1;
	memcpy(line, s, len);
	line[len] = '\0';
	return true;
}

int pml_meminfo_parse(const char *text, struct pml_meminfo *ret)
{
	struct pml_meminfo m = {-1, -1, -1};
	char line[256], key[64], unit[16];
	const char *p = text;

	while (next_line(&p, line, sizeof(line))) {
		unsigned long long v;
		int n;

		unit[0] = '\0';
		n = sscanf(line, "%63[^:]: %llu %15s", key, &v, unit);
		if (n < 2)
			continue;
		if (v > INT64_MAX / 1024)
			continue;
		int64_t bytes = !strcmp(unit, "kB") ? (int64_t)v * 1024 : (int64_t)v;

		if (!strcmp(key, "MemTotal"))
			m.total = bytes;
		else if (!strcmp(key, "MemFree"))
			m.free = bytes;
		else if (!strcmp(key, "MemAvailable"))
			m.available = bytes;
	}
	if (m.total < 0 && m.available < 0)
		return -EINVAL;
	*ret = m;
	return 0;
}

int pml_cpustat_parse(const char *text, struct pml_cpustat *ret)
{
	struct pml_cpustat c = {0};
	bool found = false;
	char line[512];
	const char *p = text;

	while (next_line(&p, line, sizeof(line))) {
		unsigned long long v[8] = {0};
		int n;

		if (strncmp(line, "cpu", 3))
			continue;
		if (line[3] >= '0' && line[3] <= '9') {
			c.ncpu++;
			continue;
		}
		if (line[3] != ' ' || found)
			continue;
		n = sscanf(line + 3, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		if (n < 4)
			return -EINVAL;
		c.user = v[0], c.nice = v[1], c.system = v[2], c.idle = v[3];
		c.iowait = v[4], c.irq = v[5], c.softirq = v[6], c.steal = v[7];
		found = true;
	}
	if (!found)
		return -EINVAL;
	*ret = c;
	return 0;
}

int pml_netdev_parse(const char *text, struct pml_netdev *ret)
{
	struct pml_netdev d = {0};
	char line[512];
	const char *p = text;

	while (next_line(&p, line, sizeof(line))) {
		unsigned long long rb, rp, x[6], tb, tp;
		char *colon = strchr(line, ':');
		char *name = line;

		/* The two header lines have '|' and no "name:" */
		if (!colon || strchr(line, '|'))
			continue;
		*colon = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &rb, &rp,
			   &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &tb, &tp) != 10)
			return -EINVAL;
		if (!strcmp(name, "lo"))
			continue;
		d.rx_bytes += rb, d.rx_packets += rp;
		d.tx_bytes += tb, d.tx_packets += tp;
		d.n_ifaces++;
	}
	*ret = d;
	return 0;
}

int pml_modsum_parse(const char *text, struct pml_modsum *ret)
{
	struct pml_modsum s = {0};
	char line[1024];
	const char *p = text;

	while (next_line(&p, line, sizeof(line))) {
		char name[64];
		long long size;
		int refcnt;

		/* "name size refcnt holders state address": the refcount is "-" for a module
		 * that cannot be unloaded; the size is what matters here. */
		if (sscanf(line, "%63s %lld %d", name, &size, &refcnt) < 2 || size < 0)
			continue;
		s.bytes += size;
		s.count++;
	}
	*ret = s;
	return 0;
}

double pml_cpustat_busy(const struct pml_cpustat *prev, const struct pml_cpustat *cur)
{
	uint64_t idle0 = prev->idle + prev->iowait, idle1 = cur->idle + cur->iowait;
	uint64_t all0 = prev->user + prev->nice + prev->system + idle0 + prev->irq +
			prev->softirq + prev->steal;
	uint64_t all1 = cur->user + cur->nice + cur->system + idle1 + cur->irq + cur->softirq +
			cur->steal;
	double busy;

	/* Counters only grow; a smaller one means a different source (or a wrap): no data. */
	if (all1 <= all0 || idle1 < idle0)
		return -1;
	busy = 1.0 - (double)(idle1 - idle0) / (double)(all1 - all0);
	return busy < 0 ? 0 : busy > 1 ? 1 : busy;
}

int pml_monitor_read_file(const char *path, char **ret)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			char *nb;

			if (cap >= MONITOR_FILE_MAX) {
				err = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb, cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*ret = buf;
	return 0;
}

static char *read_proc(const char *procdir, const char *name)
{
	char path[4096];
	char *text = NULL;

	snprintf(path, sizeof(path), "%s/%s", procdir, name);
	if (pml_monitor_read_file(path, &text) < 0)
		return NULL;
	return text;
}

int pml_monitor_read(const char *procdir, uint64_t t_ns, struct pml_monitor_sample *ret)
{
	struct pml_monitor_sample s = {.t_ns = t_ns};
	char *text;
	int n = 0;

	if (!procdir)
		procdir = "/proc";
	if ((text = read_proc(procdir, "meminfo"))) {
		s.ok_mem = pml_meminfo_parse(text, &s.mem) == 0;
		free(text);
	}
	if ((text = read_proc(procdir, "stat"))) {
		s.ok_cpu = pml_cpustat_parse(text, &s.cpu) == 0;
		free(text);
	}
	if ((text = read_proc(procdir, "net/dev"))) {
		s.ok_net = pml_netdev_parse(text, &s.net) == 0;
		free(text);
	}
	if ((text = read_proc(procdir, "modules"))) {
		s.ok_mod = pml_modsum_parse(text, &s.mod) == 0;
		free(text);
	}
	n = s.ok_mem + s.ok_cpu + s.ok_net + s.ok_mod;
	*ret = s;
	return n;
}
