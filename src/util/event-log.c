/* Decision log records: formatting and appending; see event-log.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/event-log.h"

static const char *const kind_names[PML_EV__COUNT] = {
	[PML_EV_REQUEST] = "request", [PML_EV_NEED] = "need",	[PML_EV_LOAD] = "load",
	[PML_EV_UNLOAD] = "unload",   [PML_EV_DENY] = "deny",	[PML_EV_FAIL] = "fail",
	[PML_EV_BASE] = "base",	      [PML_EV_INFO] = "info",
};

void pml_event_rec_init(struct pml_event_rec *rec, enum pml_event_kind kind)
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->bytes = -1;
	rec->ms = -1;
	rec->confidence = -1;
}

const char *pml_event_kind_name(enum pml_event_kind kind)
{
	return (unsigned)kind < PML_EV__COUNT ? kind_names[kind] : "?";
}

int pml_event_kind_from_name(const char *name)
{
	for (int k = 0; k < PML_EV__COUNT; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -EINVAL;
}

struct sbuf {
	char *p;
	size_t size, len;
	bool overflow;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *sb,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->size - sb->len) {
		sb->overflow = true;
		return;
	}
	sb->len += (size_t)n;
}

static void sb_str(struct sbuf *sb, const char *key, const char *s)
{
	if (!s)
		return;
	sb_printf(sb, ",\"%s\":\"", key);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			sb_printf(sb, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			sb_printf(sb, "\\u%04x", *c);
		else
			sb_printf(sb, "%c", *c);
	}
	sb_printf(sb, "\"");
}

int pml_event_rec_format(const struct pml_event_rec *rec, char *buf, size_t size)
{
	struct sbuf sb = {.p = buf, .size = size};

	if (size == 0)
		return -ENOSPC;
	sb_printf(&sb, "{\"t_ns\":%llu,\"event\":\"%s\"", (unsigned long long)rec->t_ns,
		  pml_event_kind_name(rec->kind));
	sb_str(&sb, "module", rec->module);
	sb_str(&sb, "alias", rec->alias);
	sb_str(&sb, "result", rec->result);
	if (rec->bytes >= 0)
		sb_printf(&sb, ",\"bytes\":%lld", (long long)rec->bytes);
	if (rec->ms >= 0 && isfinite(rec->ms))
		sb_printf(&sb, ",\"ms\":%.3f", rec->ms);
	if (rec->confidence >= 0 && isfinite(rec->confidence))
		sb_printf(&sb, ",\"confidence\":%.4f", rec->confidence);
	if (rec->pid > 0)
		sb_printf(&sb, ",\"pid\":%d", rec->pid);
	sb_str(&sb, "comm", rec->comm);
	if (rec->err)
		sb_printf(&sb, ",\"errno\":%d", -rec->err);
	sb_str(&sb, "reason", rec->reason);
	sb_str(&sb, "source", rec->source);
	sb_printf(&sb, "}\n");
	return sb.overflow ? -ENOSPC : (int)sb.len;
}

int pml_event_log_append(int fd, const struct pml_event_rec *rec)
{
	char buf[2048];
	int n = pml_event_rec_format(rec, buf, sizeof(buf));
	ssize_t w;

	if (n < 0)
		return n;
	do
		w = write(fd, buf, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return w == n ? 0 : -EIO;
}

int pml_event_log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	return fd < 0 ? -errno : fd;
}
