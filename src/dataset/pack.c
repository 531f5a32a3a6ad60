/* Packing a trace: see pack.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset/pack.h"
#include "trace/trace-file.h"
#include "util/log.h"

/* Per process: the plain calls seen since its last execve (nr < 512, as the features). */
struct proc_seen {
	uint32_t pid;
	uint64_t seen[8];
};

struct seen_set {
	struct proc_seen *v;
	size_t n, cap; /* open addressing, cap a power of two */
};

static struct proc_seen *proc_get(struct seen_set *s, uint32_t pid)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct proc_seen *v = calloc(cap, sizeof(*v)), *old = s->v;

		if (!v)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (!old[i].pid)
				continue;
			size_t j = old[i].pid * 2654435761u & (cap - 1);

			while (v[j].pid)
				j = (j + 1) & (cap - 1);
			v[j] = old[i];
		}
		free(old);
		s->v = v;
		s->cap = cap;
	}
	for (size_t j = pid * 2654435761u & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		if (s->v[j].pid == pid)
			return &s->v[j];
		if (!s->v[j].pid) {
			s->v[j].pid = pid;
			s->n++;
			return &s->v[j];
		}
	}
}

/* Pack from an opened reader (rc: what opening it returned); frees it. */
static int pack_reader(struct pml_trace_reader *r, int rc, const char *out,
		       unsigned flags, struct pml_pack_stats *ret)
{
	struct pml_trace_writer *w = NULL;
	struct pml_trace_reader_stats rst;
	struct pml_trace_end end = {0};
	struct pml_pack_stats st = {0};
	struct seen_set seen = {0};
	const struct pml_tev_hdr *e;
	char tmp[4200];

	if (rc < 0) {
		if (r)
			pml_err("%s", pml_trace_reader_error(r));
		pml_trace_reader_free(r);
		return rc;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid());
	rc = pml_trace_writer_open(tmp, pml_trace_reader_header(r), flags, &w);
	if (rc < 0) {
		pml_trace_reader_free(r);
		return rc;
	}
	while ((rc = pml_trace_reader_next(r, &e)) > 0) {
		bool keep = true;

		st.records_in++;
		if (e->kind == PML_TEV_SYSCALL && e->pid) {
			struct proc_seen *p = proc_get(&seen, e->pid);
			unsigned nr = e->nr < 0 || e->nr > 511 ? 511 : (unsigned)e->nr;
			uint64_t bit = 1ull << (nr & 63);

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			st.plain_in++;
			keep = !(p->seen[nr >> 6] & bit);
			p->seen[nr >> 6] |= bit;
			st.plain_out += keep;
		} else if (e->kind == PML_TEV_EXECVE && e->pid) {
			struct proc_seen *p = proc_get(&seen, e->pid);

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			memset(p->seen, 0, sizeof(p->seen));
		}
		if (!keep)
			continue;
		rc = pml_trace_writer_add(w, e, e->size);
		if (rc < 0)
			break;
		st.records_out++;
	}
	if (rc < 0) {
		if (pml_trace_reader_error(r)[0])
			pml_err("%s", pml_trace_reader_error(r));
		pml_trace_writer_abort(w);
		unlink(tmp);
		goto out;
	}
	pml_trace_reader_stats(r, &rst);
	if (rst.complete)
		end = rst.end;
	rc = pml_trace_writer_close(w, &end);
	if (rc == 0 && rename(tmp, out) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	else if (ret)
		*ret = st;
out:
	free(seen.v);
	pml_trace_reader_free(r);
	return rc;
}

int pml_trace_pack(const char *in, const char *out, struct pml_pack_stats *ret)
{
	return pml_trace_pack_flags(in, out, 0, ret);
}

int pml_trace_pack_flags(const char *in, const char *out, unsigned flags,
			 struct pml_pack_stats *ret)
{
	struct pml_trace_reader *r = NULL;
	int rc = pml_trace_reader_open(in, &r);

	return pack_reader(r, rc, out, flags, ret);
}

int pml_trace_pack_fd(int in_fd, const char *in_name, const char *out, unsigned flags,
		      struct pml_pack_stats *ret)
{
	struct pml_trace_reader *r = NULL;
	FILE *f = fdopen(in_fd, "rb");
	int rc;

	if (!f) {
		rc = -errno;
		close(in_fd);
		return rc;
	}
	rc = pml_trace_reader_new(f, in_name, &r);
	return pack_reader(r, rc, out, flags, ret);
}
