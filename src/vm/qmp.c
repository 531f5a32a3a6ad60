/* The QMP client; see qmp.h. Replies are one JSON object a line. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/timeutil.h"
#include "vm/qmp.h"

#define QMP_LINE_MAX 65536

struct pml_qmp {
	int fd;
	char buf[QMP_LINE_MAX];
	size_t len; /* bytes in buf not yet returned as lines */
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int left_ms(uint64_t deadline)
{
	uint64_t now = pml_now_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000 + 1);
}

/* The next line (NUL-terminated, newline removed) into line. 0, -ETIMEDOUT, -EPIPE,
 * -EMSGSIZE for a line longer than QMP_LINE_MAX, or -errno. */
static int read_line(struct pml_qmp *q, char *line, size_t size, uint64_t deadline)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		ssize_t n;
		int ms;

		if (nl) {
			size_t k = (size_t)(nl - q->buf);

			if (k >= size)
				return -EMSGSIZE;
			memcpy(line, q->buf, k);
			line[k] = '\0';
			if (k && line[k - 1] == '\r')
				line[k - 1] = '\0';
			memmove(q->buf, nl + 1, q->len - k - 1);
			q->len -= k + 1;
			return 0;
		}
		if (q->len == sizeof(q->buf))
			return -EMSGSIZE;
		ms = left_ms(deadline);
		if (!ms)
			return -ETIMEDOUT;
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		q->len += (size_t)n;
	}
}

/* The string value of "key" in a reply's text (the first one), into out. */
static bool string_member(const char *text, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t k = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(text, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return false;
	for (p++; *p && *p != '"' && k + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[k++] = *p;
	}
	out[k] = '\0';
	return true;
}

static int send_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EPIPE ? -EPIPE : -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int pml_qmp_execute(struct pml_qmp *q, const char *cmd, int timeout_ms, char *reply,
		    size_t size, char *err, size_t err_size)
{
	uint64_t deadline = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	static char line[QMP_LINE_MAX];
	int r;

	r = send_all(q->fd, cmd);
	if (r < 0 || (r = send_all(q->fd, "\n")) < 0)
		return r;
	for (;;) {
		r = read_line(q, line, sizeof(line), deadline);
		if (r < 0)
			return r;
		if (!strncmp(line, "{\"return\"", 9)) {
			if (reply)
				snprintf(reply, size, "%s", line);
			return 0;
		}
		if (!strncmp(line, "{\"error\"", 8)) {
			if (reply)
				snprintf(reply, size, "%s", line);
			if (err && !string_member(line, "desc", err, err_size))
				snprintf(err, err_size, "%.200s", line);
			return -EREMOTEIO;
		}
		/* an asynchronous event ({"timestamp": ..., "event": ...}), not our reply */
		if (strstr(line, "\"event\""))
			continue;
		return -EPROTO;
	}
}

int pml_qmp_connect(const char *path, int timeout_ms, struct pml_qmp **ret)
{
	uint64_t deadline = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pml_qmp *q;
	char line[4096];
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0) {
			r = -errno;
			free(q);
			return r;
		}
		if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		r = -errno;
		close(q->fd);
		if ((r != -ENOENT && r != -ECONNREFUSED) || !left_ms(deadline)) {
			free(q);
			return r == -ENOENT || r == -ECONNREFUSED ? -ETIMEDOUT : r;
		}
		sleep_ms(5);
	}
	r = read_line(q, line, sizeof(line), deadline);
	if (r == 0 && strncmp(line, "{\"QMP\"", 6))
		r = -EPROTO;
	if (r == 0)
		r = pml_qmp_execute(q, "{\"execute\":\"qmp_capabilities\"}", left_ms(deadline) + 1,
				    NULL, 0, NULL, 0);
	if (r < 0) {
		pml_qmp_close(q);
		return r;
	}
	*ret = q;
	return 0;
}

void pml_qmp_close(struct pml_qmp *q)
{
	if (!q)
		return;
	close(q->fd);
	free(q);
}

int pml_qmp_wait_migration(struct pml_qmp *q, int timeout_ms, char *err, size_t err_size)
{
	uint64_t deadline = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	char reply[8192], status[64];
	int r;

	for (;;) {
		r = pml_qmp_execute(q, "{\"execute\":\"query-migrate\"}", left_ms(deadline) + 1,
				    reply, sizeof(reply), err, err_size);
		if (r < 0)
			return r;
		if (string_member(reply, "status", status, sizeof(status))) {
			if (!strcmp(status, "completed"))
				return 0;
			if (!strcmp(status, "failed") || !strcmp(status, "cancelled")) {
				if (err && !string_member(reply, "error-desc", err, err_size))
					snprintf(err, err_size, "migration %s", status);
				return -EIO;
			}
		}
		if (!left_ms(deadline))
			return -ETIMEDOUT;
		sleep_ms(10);
	}
}

int pml_qmp_wait_status(struct pml_qmp *q, const char *want, int timeout_ms)
{
	uint64_t deadline = pml_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	char reply[4096], status[64];
	int r;

	for (;;) {
		r = pml_qmp_execute(q, "{\"execute\":\"query-status\"}", left_ms(deadline) + 1,
				    reply, sizeof(reply), NULL, 0);
		if (r < 0)
			return r;
		if (string_member(reply, "status", status, sizeof(status)) &&
		    !strcmp(status, want))
			return 0;
		if (!left_ms(deadline))
			return -ETIMEDOUT;
		sleep_ms(5);
	}
}
