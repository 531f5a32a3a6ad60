/* The resource API's line protocol (resource-api.h, doc/resource-api.md): parsing of the
 * request lines a server reads and formatting of its answers, and the reverse for clients.
 * Pure functions over strings: everything a peer sends passes here first, so every field
 * is checked (names, numbers, ranges, duplicates) and a problem comes back in words. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource/resource-api.h"

#define MAX_BYTES (1LL << 40) /* no module is a terabyte: a typo or garbage */
#define MAX_MS (3600.0 * 1000 * 24)

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t size,
						       const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A value quoted in a message: at most 32 bytes of it, non-printing bytes as '?'. */
static const char *quote(const char *s, char out[40])
{
	size_t i;

	for (i = 0; s[i] && i < 32; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i])
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
	return out;
}

static bool parse_double(const char *s, double lo, double hi, double *ret)
{
	char *end;
	double v;

	if (!*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

static bool parse_bytes(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno || v < 0 || v > MAX_BYTES)
		return false;
	*ret = v;
	return true;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

int pml_res_cmd_parse(const char *line, struct pml_res_cmd *ret, char *err, size_t err_size)
{
	char buf[PML_RES_LINE_MAX + 1], q[40];
	struct pml_res_cmd c;
	char *save = NULL, *tok;
	size_t len = strlen(line);
	unsigned seen = 0;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > PML_RES_LINE_MAX - 1)
		return fail(err, err_size, "line too long (max %d bytes)", PML_RES_LINE_MAX);
	if (memchr(line, '\0', len) != NULL || memchr(line, '\n', len) != NULL)
		return fail(err, err_size, "control characters in line");
	memcpy(buf, line, len);
	buf[len] = '\0';

	memset(&c, 0, sizeof(c));
	c.req.bytes = -1;
	c.req.load_ms = -1;
	c.req.kind = PML_RES_PREDICTION;
	c.req.urgency_ms = 0;
	c.req.confidence = 1;
	tok = strtok_r(buf, " \t", &save);
	if (!tok)
		return fail(err, err_size, "empty line");
	if (!strcmp(tok, "REQUEST"))
		c.verb = PML_RES_VERB_REQUEST;
	else if (!strcmp(tok, "RELEASE"))
		c.verb = PML_RES_VERB_RELEASE;
	else if (!strcmp(tok, "STATUS"))
		c.verb = PML_RES_VERB_STATUS;
	else
		return fail(err, err_size, "unknown verb '%s' (REQUEST, RELEASE, STATUS)",
			    quote(tok, q));

	while ((tok = strtok_r(NULL, " \t", &save))) {
		static const char *const keys[] = {"module", "bytes", "load_ms", "kind",
						   "urgency_ms", "confidence"};
		char *eq = strchr(tok, '=');
		const char *val;
		unsigned k;

		if (c.verb == PML_RES_VERB_STATUS)
			return fail(err, err_size, "STATUS takes no arguments");
		if (!eq || eq == tok)
			return fail(err, err_size, "expected key=value, got '%s'", quote(tok, q));
		*eq = '\0';
		val = eq + 1;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(tok, keys[k]))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]) ||
		    (c.verb == PML_RES_VERB_RELEASE && k != 0))
			return fail(err, err_size, "unknown key '%s'", quote(tok, q));
		if (seen & (1u << k))
			return fail(err, err_size, "%s given twice", keys[k]);
		seen |= 1u << k;
		switch (k) {
		case 0:
			if (!valid_name(val))
				return fail(err, err_size, "module: not a module name '%s'",
					    quote(val, q));
			strcpy(c.module, val);
			break;
		case 1:
			if (!parse_bytes(val, &c.req.bytes))
				return fail(err, err_size, "bytes: not a size '%s'", quote(val, q));
			break;
		case 2:
			if (!parse_double(val, 0, MAX_MS, &c.req.load_ms))
				return fail(err, err_size, "load_ms: not a duration '%s'",
					    quote(val, q));
			break;
		case 3: {
			int kind = pml_res_kind_from_name(val);

			if (kind < 0)
				return fail(err, err_size,
					    "kind: '%s' is not critical, dependency or prediction",
					    quote(val, q));
			c.req.kind = kind;
			break;
		}
		case 4:
			if (!parse_double(val, 0, MAX_MS, &c.req.urgency_ms))
				return fail(err, err_size, "urgency_ms: not a duration '%s'",
					    quote(val, q));
			break;
		case 5:
			if (!parse_double(val, 0, 1, &c.req.confidence))
				return fail(err, err_size,
					    "confidence: not a probability in [0, 1] '%s'",
					    quote(val, q));
			break;
		}
	}
	if (c.verb != PML_RES_VERB_STATUS && !c.module[0])
		return fail(err, err_size, "missing module=");
	c.req.module = NULL;
	*ret = c;
	ret->req.module = ret->module;
	return 0;
}

int pml_res_request_format(const struct pml_res_request *req, char *buf, size_t size)
{
	int n, len;

	if (!req->module || !valid_name(req->module) ||
	    (unsigned)req->kind >= PML_RES__KIND_COUNT ||
	    !(req->confidence >= 0 && req->confidence <= 1) || !(req->urgency_ms >= 0))
		return -EINVAL;
	len = snprintf(buf, size, "REQUEST module=%s kind=%s urgency_ms=%.3f confidence=%.6g",
		       req->module, pml_res_kind_name(req->kind), req->urgency_ms,
		       req->confidence);
	if (len < 0 || (size_t)len >= size)
		return -ENOSPC;
	if (req->bytes >= 0) {
		n = snprintf(buf + len, size - len, " bytes=%lld", (long long)req->bytes);
		if (n < 0 || (size_t)(len += n) >= size)
			return -ENOSPC;
	}
	if (req->load_ms >= 0) {
		n = snprintf(buf + len, size - len, " load_ms=%.3f", req->load_ms);
		if (n < 0 || (size_t)(len += n) >= size)
			return -ENOSPC;
	}
	n = snprintf(buf + len, size - len, "\n");
	if (n < 0 || (size_t)(len += n) >= size)
		return -ENOSPC;
	return len;
}

int pml_res_decision_format(const struct pml_res_decision *d, char *buf, size_t size)
{
	char list[PML_RES_EVICT_MAX * 64 + 1] = "";
	size_t off = 0;
	int len;

	switch (d->verdict) {
	case PML_RES_GRANT:
		len = snprintf(buf, size, "OK grant priority=%.3f%s%s -- %s\n", d->priority,
			       d->present ? " present" : "", d->over_soft ? " over_budget" : "",
			       d->reason);
		break;
	case PML_RES_GRANT_AFTER_EVICT:
		for (size_t i = 0; i < d->n_evict; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? "," : "", d->evict[i]);
		len = snprintf(buf, size, "OK evict %s priority=%.3f%s -- %s\n", list,
			       d->priority, d->over_soft ? " over_budget" : "", d->reason);
		break;
	default:
		if (d->refusal == PML_RES_CPU_BUDGET)
			len = snprintf(buf, size,
				       "ERR refused reason=%s priority=%.3f retry_ms=%.0f -- %s\n",
				       pml_res_refusal_name(d->refusal), d->priority, d->retry_ms,
				       d->reason);
		else
			len = snprintf(buf, size, "ERR refused reason=%s priority=%.3f -- %s\n",
				       pml_res_refusal_name(d->refusal), d->priority, d->reason);
		break;
	}
	if (len < 0 || (size_t)len >= size)
		return -ENOSPC;
	return len;
}

int pml_res_reply_parse(const char *line, struct pml_res_reply *ret)
{
	struct pml_res_reply r = {.priority = -1, .text = ""};
	const char *p, *dash = strstr(line, " -- ");
	size_t head = dash ? (size_t)(dash - line) : strcspn(line, "\r\n");
	char buf[PML_RES_LINE_MAX + 1];
	char *save = NULL, *tok;

	if (!strncmp(line, "OK", 2) && (line[2] == ' ' || !line[2] || line[2] == '\n'))
		r.ok = true;
	else if (strncmp(line, "ERR", 3) || (line[3] != ' ' && line[3] && line[3] != '\n'))
		return -EINVAL;
	if (head > PML_RES_LINE_MAX)
		head = PML_RES_LINE_MAX;
	memcpy(buf, line, head);
	buf[head] = '\0';
	if (dash) {
		r.text = dash + 4;
	}
	p = strtok_r(buf, " ", &save); /* OK / ERR */
	p = strtok_r(NULL, " :", &save);
	if (p)
		snprintf(r.word, sizeof(r.word), "%s", p);
	if (r.ok && !strcmp(r.word, "evict") && (p = strtok_r(NULL, " ", &save)))
		snprintf(r.evict, sizeof(r.evict), "%s", p);
	while ((tok = strtok_r(NULL, " ", &save))) {
		if (!strncmp(tok, "reason=", 7))
			snprintf(r.reason, sizeof(r.reason), "%s", tok + 7);
		else if (!strncmp(tok, "priority=", 9))
			r.priority = strtod(tok + 9, NULL);
	}
	*ret = r;
	return 0;
}
