/* A recorded trace in memory for replay (sim.h: struct pml_sim_trace): its records back
 * to back, each 8-byte aligned and checked, in time order, and the needs derived from
 * them as they are added. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"
#include "trace/trace-decode.h"
#include "util/log.h"

struct pml_sim_trace *pml_sim_trace_new(void)
{
	struct pml_sim_trace *t = calloc(1, sizeof(*t));

	if (t)
		pml_needs_init(&t->needs);
	return t;
}

void pml_sim_trace_free(struct pml_sim_trace *t)
{
	if (!t)
		return;
	pml_needs_release(&t->needs);
	free(t->buf);
	free(t->off);
	free(t);
}

int pml_sim_trace_add(struct pml_sim_trace *t, const struct pml_tev_hdr *rec)
{
	size_t size = rec->size, need;
	int r;

	if (size < sizeof(*rec) || pml_tev_check(rec, size) < 0)
		return -EINVAL;
	if (t->n && rec->t_ns < t->t_last)
		return -EINVAL;
	need = t->len + ((size + 7) & ~(size_t)7);
	if (need > t->cap) {
		size_t cap = t->cap ? t->cap : 64 * 1024;
		uint8_t *b;

		while (cap < need)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	if (t->n == t->cap_off) {
		size_t cap = t->cap_off ? 2 * t->cap_off : 1024;
		size_t *o = realloc(t->off, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		t->off = o;
		t->cap_off = cap;
	}
	memcpy(t->buf + t->len, rec, size);
	t->off[t->n++] = t->len;
	t->len = need;
	if (t->n == 1)
		t->t_first = rec->t_ns;
	t->t_last = rec->t_ns;
	r = pml_needs_add(&t->needs, rec);
	return r < 0 ? r : 0;
}

/* Load from an opened reader (r: what opening it returned); frees it. */
static int trace_load(struct pml_trace_reader *rd, int r, struct pml_sim_trace **ret)
{
	const struct pml_tev_hdr *e;
	struct pml_sim_trace *t;

	if (r < 0) {
		if (rd)
			pml_err("%s", pml_trace_reader_error(rd));
		pml_trace_reader_free(rd);
		return r;
	}
	t = pml_sim_trace_new();
	if (!t) {
		pml_trace_reader_free(rd);
		return -ENOMEM;
	}
	t->hdr = *pml_trace_reader_header(rd);
	while ((r = pml_trace_reader_next(rd, &e)) > 0) {
		/* The reader's records are in time order within a block; a record from an
		 * earlier time (two CPUs' buffers) is taken at the latest time so far. */
		if (t->n && e->t_ns < t->t_last) {
			struct pml_tev_hdr *c = malloc(e->size);

			if (!c) {
				r = -ENOMEM;
				break;
			}
			memcpy(c, e, e->size);
			c->t_ns = t->t_last;
			r = pml_sim_trace_add(t, c);
			free(c);
		} else {
			r = pml_sim_trace_add(t, e);
		}
		if (r < 0)
			break;
	}
	if (r == -ENOMEM) {
		pml_trace_reader_free(rd);
		pml_sim_trace_free(t);
		return r;
	}
	if (r < 0) {
		t->damaged = true;
		snprintf(t->error, sizeof(t->error), "%s", pml_trace_reader_error(rd));
	}
	pml_trace_reader_free(rd);
	*ret = t;
	return 0;
}

int pml_sim_trace_load(const char *path, struct pml_sim_trace **ret)
{
	struct pml_trace_reader *rd = NULL;
	int r = pml_trace_reader_open(path, &rd);

	return trace_load(rd, r, ret);
}

int pml_sim_trace_load_fd(int fd, const char *name, struct pml_sim_trace **ret)
{
	struct pml_trace_reader *rd = NULL;
	FILE *f = fdopen(fd, "rb");
	int r;

	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	r = pml_trace_reader_new(f, name, &rd);
	return trace_load(rd, r, ret);
}
