/* The tracefs event source: the kernel's module tracepoints as text from trace_pipe, and
 * the pure parser of one trace_pipe line. See source.h.
 *
 * The text interface costs more per event than eBPF, but module events are rare (a few per
 * second at most) and it needs nothing but a kernel with CONFIG_TRACING, so it is the
 * first source; the eBPF tracer replaces it behind the same interface. References
 * (module_get) are not rare: every open of a modular device, every socket of a modular
 * protocol takes one (2000 SCTP sockets and loop-control opens: 6000); the kernel filters
 * them to the modules the agent watches (its prefetches not yet seen used). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/source.h"
#include "util/log.h"

/* --- the parser --- */

/* The end of the line header: the ':' after the timestamp ("   12.345678: "). Returns its
 * offset and the timestamp's start in *ts, or -1. */
static long find_header_end(const char *line, size_t *ts)
{
	for (const char *c = strchr(line, ':'); c; c = strchr(c + 1, ':')) {
		const char *b = c;
		size_t frac = 0;

		if (c[1] != ' ')
			continue;
		while (b > line && isdigit((unsigned char)b[-1]))
			b--, frac++;
		if (!frac || b == line || b[-1] != '.')
			continue;
		b--;
		if (b == line || !isdigit((unsigned char)b[-1]))
			continue;
		while (b > line && isdigit((unsigned char)b[-1]))
			b--;
		if (b != line && b[-1] != ' ')
			continue;
		*ts = (size_t)(b - line);
		return c - line;
	}
	return -1;
}

/* "12.345678" (any number of fraction digits) -> ns. */
static uint64_t parse_timestamp(const char *p)
{
	uint64_t sec = 0, frac = 0, scale = 1000000000ull;

	while (isdigit((unsigned char)*p))
		sec = sec * 10 + (uint64_t)(*p++ - '0');
	if (*p == '.')
		p++;
	while (isdigit((unsigned char)*p)) {
		if (scale > 1) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
		p++;
	}
	return sec * 1000000000ull + frac;
}

/* Parse "   comm-pid (tgid) [cpu] flags " (the part before the timestamp, len bytes). */
static int parse_task(const char *h, size_t len, struct pml_kevent *ev)
{
	size_t end = len, i;
	const char *dash;
	char task[64];
	long pid;
	char *e;

	/* Right to left: drop the flags token (absent without irq-info), the [cpu] field and
	 * an optional (tgid) column. */
	while (end && h[end - 1] == ' ')
		end--;
	if (end && h[end - 1] != ']') {
		while (end && h[end - 1] != ' ')
			end--;
		while (end && h[end - 1] == ' ')
			end--;
	}
	if (!end || h[end - 1] != ']')
		return -EINVAL;
	while (end && h[end - 1] != '[')
		end--;
	if (!end)
		return -EINVAL;
	end--;
	while (end && h[end - 1] == ' ')
		end--;
	if (end && h[end - 1] == ')') {
		while (end && h[end - 1] != '(')
			end--;
		if (!end)
			return -EINVAL;
		end--;
		while (end && h[end - 1] == ' ')
			end--;
	}
	for (i = 0; i < end && h[i] == ' '; i++)
		;
	if (end - i == 0 || end - i >= sizeof(task))
		return -EINVAL;
	memcpy(task, h + i, end - i);
	task[end - i] = '\0';
	dash = strrchr(task, '-');
	if (!dash || dash == task)
		return -EINVAL;
	pid = strtol(dash + 1, &e, 10);
	if (e == dash + 1 || *e || pid < 0)
		return -EINVAL;
	ev->pid = (int)pid;
	snprintf(ev->comm, sizeof(ev->comm), "%.*s", (int)(dash - task), task);
	return 0;
}

int pml_tracefs_parse_line(const char *line, struct pml_kevent *ret, uint64_t *lost)
{
	static const struct {
		const char *name;
		enum pml_kevent_kind kind;
	} events[] = {
		{"module_request", PML_KEV_REQUEST},
		{"module_load", PML_KEV_LOAD},
		{"module_free", PML_KEV_FREE},
		{"module_get", PML_KEV_GET},
		{"netdev_alloc", PML_KEV_NETDEV},
	};
	struct pml_kevent ev = {0};
	const char *p, *name;
	size_t ts, n, i;
	long hend;
	unsigned long long m;

	if (sscanf(line, " CPU:%*d [LOST %llu EVENTS]", &m) == 1) {
		if (lost)
			*lost += m;
		return 0;
	}
	hend = find_header_end(line, &ts);
	if (hend < 0)
		return 0;
	p = line + hend + 2;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		n = strlen(events[i].name);
		if (!strncmp(p, events[i].name, n) && p[n] == ':')
			break;
	}
	if (i == sizeof(events) / sizeof(events[0]))
		return 0;
	ev.kind = events[i].kind;
	p += n + 1;
	while (*p == ' ')
		p++;
	if (ev.kind == PML_KEV_NETDEV) {
		/* "(alloc_netdev_mqs+0x0/0x430) setup=dummy_setup+0x0/0x100 [dummy]": the module
		 * is the bracket; a built-in setup (loopback) has none and is not ours */
		const char *st = strstr(p, " setup="), *lb = strrchr(p, '['), *rb;

		if (!st || !lb || lb < st || !(rb = strchr(lb, ']')))
			return st ? 0 : -EINVAL;
		st += 7;
		snprintf(ev.site, sizeof(ev.site), "%.*s", (int)strcspn(st, "+ "), st);
		if (rb == lb + 1 || (size_t)(rb - lb - 1) >= sizeof(ev.name))
			return -EINVAL;
		memcpy(ev.name, lb + 1, (size_t)(rb - lb - 1));
		if (parse_task(line, ts, &ev) < 0)
			return -EINVAL;
		ev.t_ns = parse_timestamp(line + ts);
		*ret = ev;
		return 1;
	}
	name = p;
	n = strcspn(name, " \t\r\n");
	if (n == 0 || n >= sizeof(ev.name))
		return -EINVAL;
	memcpy(ev.name, name, n);
	if (ev.kind == PML_KEV_REQUEST) {
		const char *w = strstr(name + n, "wait=");

		ev.wait = w && w[5] == '1';
	} else if (ev.kind == PML_KEV_GET) {
		const char *c = strstr(name + n, "call_site=");

		if (c) {
			c += 10;
			snprintf(ev.site, sizeof(ev.site), "%.*s", (int)strcspn(c, " \t\r\n"), c);
		}
	}
	if (parse_task(line, ts, &ev) < 0)
		return -EINVAL;
	ev.t_ns = parse_timestamp(line + ts);
	*ret = ev;
	return 1;
}

/* --- the live source --- */

#define TRACEFS_BUF (64 * 1024)

struct tracefs_source {
	struct pml_source base;
	char dir[512];	    /* the instance (or the tracefs root) */
	char root[128];	    /* the tracefs root (kprobe_events) */
	bool netdev_probe;  /* we defined pml/netdev_alloc and remove it at the end */
	bool own_instance; /* we created dir and remove it at the end */
	int fd;		    /* trace_pipe */
	bool has_get;	    /* the kernel has module:module_get */
	bool get_on;	    /* ... and it is enabled now */
	char get_filter[4000]; /* its filter now (GET_FILTER_MAX) */
	size_t start, len;
	char buf[TRACEFS_BUF];
};

static const char *const module_events[] = {"module_request", "module_load", "module_free"};

/* Write val to dir/file. Returns 0 or -errno. */
static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	ssize_t n, len = (ssize_t)strlen(val);
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, (size_t)len);
	if (n < 0)
		r = -errno;
	else if (n != len)
		r = -EIO;
	close(fd);
	return r;
}

static bool has_file(const char *dir, const char *file)
{
	char path[512];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

/* Find (or mount) tracefs. Returns 0 with the root in buf, or -ENOENT. */
static int find_tracefs(char *buf, size_t size)
{
	if (has_file("/sys/kernel/tracing", "trace_pipe")) {
		snprintf(buf, size, "/sys/kernel/tracing");
		return 0;
	}
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    has_file("/sys/kernel/tracing", "trace_pipe")) {
		snprintf(buf, size, "/sys/kernel/tracing");
		return 0;
	}
	if (!has_file("/sys/kernel/debug/tracing", "trace_pipe"))
		mount("nodev", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (has_file("/sys/kernel/debug/tracing", "trace_pipe")) {
		snprintf(buf, size, "/sys/kernel/debug/tracing");
		return 0;
	}
	return -ENOENT;
}

static void set_events(struct tracefs_source *s, const char *val)
{
	char file[128];

	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "events/module/%s/enable", module_events[i]);
		write_file(s->dir, file, val);
	}
	if (s->get_on)
		write_file(s->dir, "events/module/module_get/enable", val);
	if (s->netdev_probe)
		write_file(s->dir, "events/pml/netdev_alloc/enable", val);
}

/* The kprobe of interfaces made (see source.h): defined in the tracefs root (an earlier
 * pmld's definition is reused), enabled in our instance. Without kprobes, or on another
 * architecture (the setup argument's register), there is none. */
static void netdev_probe_start(struct tracefs_source *s)
{
#ifdef __x86_64__
	char path[600];
	int fd;

	if (!has_file(s->root, "kprobe_events"))
		return;
	if (!has_file(s->dir, "events/pml/netdev_alloc/enable")) {
		/* appended, not truncated: other probes stay */
		snprintf(path, sizeof(path), "%s/kprobe_events", s->root);
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0) {
			static const char def[] =
				"p:pml/netdev_alloc alloc_netdev_mqs setup=%cx:symbol\n";

			if (write(fd, def, sizeof(def) - 1) < 0)
				pml_dbg("tracefs: kprobe pml/netdev_alloc: %s", strerror(errno));
			close(fd);
		}
	}
	s->netdev_probe = write_file(s->dir, "events/pml/netdev_alloc/enable", "1") == 0;
#else
	(void)s;
#endif
}

static bool plain_name(const char *name)
{
	if (!name[0])
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return false;
	return true;
}

size_t pml_tracefs_get_filter(const char (*names)[64], size_t n, char *buf, size_t size)
{
	size_t len = 0, held = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w;

		if (!plain_name(names[i]))
			continue;
		w = snprintf(buf + len, size - len, "%sname == \"%s\"", held ? " || " : "",
			     names[i]);
		if (w < 0 || (size_t)w >= size - len) {
			buf[len] = '\0';
			break;
		}
		len += (size_t)w;
		held++;
	}
	return held;
}

/* A filter no module name passes ('/' is in none). */
#define GET_NONE "name == \"/\""
/* The kernel refuses a filter of PAGE_SIZE bytes or more: ~200 names fit below this. */
#define GET_FILTER_MAX 4000

/* The event stays on and only its filter changes. Measured in the guest (TCG): a filter
 * write costs ~1 ms of CPU and the writer waits ~20 ms (the kernel replacing a filter
 * waits for an RCU grace period, tracepoint_synchronize_unregister); turning the event on
 * at a job's first prefetch instead (it patches kernel text: a static key) made pmld's
 * next drain take 85 ms of CPU, its kernel-events part 47 ms per job against 2 ms so. A
 * reference the filter drops costs its taker ~6-12 us. Written only when it changes. */
static int tracefs_watch(struct pml_source *base, const char (*names)[64], size_t n)
{
	struct tracefs_source *s = (struct tracefs_source *)base;
	char filter[GET_FILTER_MAX];
	size_t held;
	int r;

	if (!s->has_get)
		return -ENODEV;
	held = pml_tracefs_get_filter(names, n, filter, sizeof(filter));
	if (!held)
		snprintf(filter, sizeof(filter), "%s", GET_NONE);
	if (!strcmp(filter, s->get_filter))
		return (int)held;
	r = write_file(s->dir, "events/module/module_get/filter", filter);
	if (r < 0)
		return r;
	memcpy(s->get_filter, filter, sizeof(filter));
	if (!s->get_on) {
		r = write_file(s->dir, "events/module/module_get/enable", "1");
		if (r < 0)
			return r;
		s->get_on = true;
	}
	return (int)held;
}

static int tracefs_fd(struct pml_source *base)
{
	return ((struct tracefs_source *)base)->fd;
}

static int tracefs_read(struct pml_source *base, struct pml_kevent *evs, size_t max)
{
	struct tracefs_source *s = (struct tracefs_source *)base;
	size_t n = 0;

	for (;;) {
		char *nl;
		ssize_t got;

		while (n < max && (nl = memchr(s->buf + s->start, '\n', s->len - s->start))) {
			int r;

			*nl = '\0';
			r = pml_tracefs_parse_line(s->buf + s->start, &evs[n], &s->base.lost);
			if (r > 0)
				n++;
			else if (r < 0)
				s->base.malformed++;
			s->start = (size_t)(nl + 1 - s->buf);
		}
		if (n == max)
			return (int)n;
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->len -= s->start;
		s->start = 0;
		if (s->len == sizeof(s->buf)) {
			/* A line longer than the buffer: not ours, drop it. */
			s->base.malformed++;
			s->len = 0;
		}
		got = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (int)n;
		if (got < 0)
			return n ? (int)n : -errno;
		if (got == 0)
			return (int)n;
		s->len += (size_t)got;
	}
}

static void tracefs_free(struct pml_source *base)
{
	struct tracefs_source *s = (struct tracefs_source *)base;

	set_events(s, "0");
	if (s->netdev_probe) {
		char path[600];
		int fd;

		snprintf(path, sizeof(path), "%s/kprobe_events", s->root);
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "-:pml/netdev_alloc\n", 19) < 0)
				pml_dbg("tracefs: removing pml/netdev_alloc: %s", strerror(errno));
			close(fd);
		}
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->own_instance && rmdir(s->dir) < 0)
		pml_dbg("tracefs: cannot remove instance %s: %s", s->dir, strerror(errno));
	free(s);
}

static const struct pml_source_ops tracefs_ops = {
	.name = "tracefs",
	.fd = tracefs_fd,
	.read = tracefs_read,
	.watch = tracefs_watch,
	.free = tracefs_free,
};

int pml_source_new_tracefs(const char *root, char *why, size_t size,
			   struct pml_source **ret)
{
	struct tracefs_source *s;
	char rootbuf[128], path[512];
	int r;

	if (!root) {
		r = find_tracefs(rootbuf, sizeof(rootbuf));
		if (r < 0) {
			snprintf(why, size, "no tracefs at /sys/kernel/tracing or "
				 "/sys/kernel/debug/tracing, and mounting it failed");
			return r;
		}
		root = rootbuf;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	s->base.ops = &tracefs_ops;
	s->fd = -1;
	snprintf(s->root, sizeof(s->root), "%s", root);
	snprintf(path, sizeof(path), "%s/instances/pml", root);
	if (mkdir(path, 0755) == 0 || errno == EEXIST) {
		snprintf(s->dir, sizeof(s->dir), "%s", path);
		s->own_instance = true;
	} else {
		pml_dbg("tracefs: no instance (%s), using the top-level buffer",
			strerror(errno));
		snprintf(s->dir, sizeof(s->dir), "%s", root);
	}
	if (!has_file(s->dir, "events/module/module_request/enable")) {
		snprintf(why, size, "%s: no module tracepoints (events/module/module_request)",
			 s->dir);
		r = -ENODEV;
		goto fail;
	}
	r = write_file(s->dir, "trace_clock", "mono");
	if (r < 0) {
		snprintf(why, size, "%s/trace_clock: cannot set \"mono\": %s", s->dir,
			 strerror(-r));
		goto fail;
	}
	/* Without this, 6.1's poll() on trace_pipe waits for a half-full buffer. */
	if (has_file(s->dir, "buffer_percent"))
		write_file(s->dir, "buffer_percent", "0");
	for (size_t i = 0; i < 3; i++) {
		char file[128];

		snprintf(file, sizeof(file), "events/module/%s/enable", module_events[i]);
		r = write_file(s->dir, file, "1");
		if (r < 0) {
			snprintf(why, size, "%s/%s: %s", s->dir, file, strerror(-r));
			goto fail;
		}
	}
	s->has_get = has_file(s->dir, "events/module/module_get/filter");
	/* On from the start, passing nothing until watched: turning a tracepoint on or off
	 * patches kernel text (a static key), which under TCG cost the guest far more than
	 * the filter that drops every other reference (see tracefs_watch). */
	if (s->has_get && (write_file(s->dir, "events/module/module_get/filter", GET_NONE) < 0 ||
			   write_file(s->dir, "events/module/module_get/enable", "1") < 0))
		s->has_get = false;
	s->get_on = s->has_get;
	snprintf(s->get_filter, sizeof(s->get_filter), "%s", s->has_get ? GET_NONE : "");
	netdev_probe_start(s);
	write_file(s->dir, "tracing_on", "1");
	if (snprintf(path, sizeof(path), "%s/trace_pipe", s->dir) >= (int)sizeof(path)) {
		r = -ENAMETOOLONG;
		snprintf(why, size, "%s: path too long", s->dir);
		goto fail;
	}
	s->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0) {
		r = -errno;
		snprintf(why, size, "%s: %s", path, strerror(errno));
		goto fail;
	}
	*ret = &s->base;
	return 0;
fail:
	tracefs_free(&s->base);
	return r;
}
