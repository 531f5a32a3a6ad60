/* Needs from a trace's module tracepoints: see needs.h for what a need is and how loads
 * are attributed to requests. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset/needs.h"
#include "trace/trace-file.h"
#include "util/log.h"

/* A request stays open for loads this long after its last load (or its own time). The
 * loads of one modprobe follow each other within a module's init time: xfs took 0.9 s
 * and btrfs' raid6 benchmark 0.3 s under TCG; 10 s leaves room on a busy host. */
#define NEED_OPEN_NS (10000ull * 1000 * 1000)

void pml_needs_init(struct pml_needs *n)
{
	memset(n, 0, sizeof(*n));
}

void pml_needs_release(struct pml_needs *n)
{
	free(n->v);
	free(n->pids);
	memset(n, 0, sizeof(*n));
}

static struct pml_need *push(struct pml_needs *n)
{
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;
		struct pml_need *v = realloc(n->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		n->v = v;
		n->cap = cap;
	}
	memset(&n->v[n->n], 0, sizeof(n->v[0]));
	return &n->v[n->n++];
}

static void copy_name(char *dst, const char *src, size_t srclen)
{
	size_t len = strnlen(src, srclen);

	if (len >= PML_NEED_NAME_LEN)
		len = PML_NEED_NAME_LEN - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The traced tree's pids: an open-addressing set (0 marks a free slot). */
static bool pid_has(const struct pml_needs *n, uint32_t pid)
{
	if (!n->pid_cap)
		return false;
	for (size_t i = pid * 2654435761u % n->pid_cap;; i = (i + 1) % n->pid_cap) {
		if (n->pids[i] == pid)
			return true;
		if (!n->pids[i])
			return false;
	}
}

static int pid_add(struct pml_needs *n, uint32_t pid)
{
	if (pid_has(n, pid))
		return 0;
	if ((n->n_pids + 1) * 2 > n->pid_cap) {
		size_t cap = n->pid_cap ? n->pid_cap * 2 : 256;
		uint32_t *v = calloc(cap, sizeof(*v)), *old = n->pids;
		size_t old_cap = n->pid_cap;

		if (!v)
			return -ENOMEM;
		n->pids = v;
		n->pid_cap = cap;
		n->n_pids = 0;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				pid_add(n, old[i]);
		free(old);
	}
	for (size_t i = pid * 2654435761u % n->pid_cap;; i = (i + 1) % n->pid_cap) {
		if (!n->pids[i]) {
			n->pids[i] = pid;
			n->n_pids++;
			return 0;
		}
	}
}

/* The need whose modprobe (loader process pid) is already loading for it. */
static struct pml_need *need_of_loader(struct pml_needs *n, uint32_t pid, uint64_t t)
{
	for (size_t i = n->n; i-- > 0;) {
		struct pml_need *nd = &n->v[i];

		if (t >= nd->done_ns && t - nd->done_ns > NEED_OPEN_NS)
			return NULL; /* needs are in time order: older ones are closed too */
		if (nd->n_loaded && nd->loader_pid == pid)
			return nd;
	}
	return NULL;
}

/* The request a new loader process serves: the latest one not yet given a load. */
static struct pml_need *unserved_request(struct pml_needs *n, uint64_t t)
{
	for (size_t i = n->n; i-- > 0;) {
		struct pml_need *nd = &n->v[i];

		if (t >= nd->t_ns && t - nd->t_ns > NEED_OPEN_NS)
			return NULL;
		if (nd->alias[0] && !nd->n_loaded)
			return nd;
	}
	return NULL;
}

int pml_needs_add(struct pml_needs *n, const struct pml_tev_hdr *rec)
{
	const struct pml_tev_module *m = (const struct pml_tev_module *)rec;
	struct pml_need *nd;

	if (!n->first_ns)
		n->first_ns = rec->t_ns;
	if (rec->kind != PML_TEV_MOD_REQUEST && rec->kind != PML_TEV_MOD_LOAD) {
		/* Processes of the traced tree: a load one of them does is user space's own
		 * modprobe, not the kernel's helper serving a request. */
		if (rec->kind != PML_TEV_MOD_FREE && rec->pid)
			return pid_add(n, rec->pid);
		return 0;
	}
	if (rec->size < sizeof(*m))
		return 0;
	n->last_ns = rec->t_ns;
	if (rec->kind == PML_TEV_MOD_REQUEST) {
		nd = push(n);
		if (!nd)
			return -ENOMEM;
		nd->t_ns = nd->done_ns = rec->t_ns;
		nd->pid = rec->pid;
		nd->tid = rec->tid;
		copy_name(nd->alias, m->name, sizeof(m->name));
		return 0;
	}
	/* One loader process (a modprobe) loads for one need: the first of its loads
	 * decides which, the others follow it. */
	nd = need_of_loader(n, rec->pid, rec->t_ns);
	if (!nd && !pid_has(n, rec->pid))
		nd = unserved_request(n, rec->t_ns);
	/* A load with no open request, or past the list's room, starts a need of its own. */
	if (!nd || nd->n_loaded >= PML_NEED_MAX_LOADED) {
		nd = push(n);
		if (!nd)
			return -ENOMEM;
		nd->t_ns = rec->t_ns;
		nd->pid = nd->tid = pid_has(n, rec->pid) ? rec->pid : 0;
	}
	nd->loader_pid = rec->pid;
	copy_name(nd->loaded[nd->n_loaded++], m->name, sizeof(m->name));
	copy_name(nd->module, m->name, sizeof(m->name));
	nd->done_ns = rec->t_ns;
	return 0;
}

/* Needs from an opened reader (rc: what opening it returned); frees it. */
static int needs_from_reader(struct pml_trace_reader *r, int rc, struct pml_needs *ret)
{
	const struct pml_tev_hdr *e;

	if (rc < 0) {
		if (r)
			pml_err("%s", pml_trace_reader_error(r));
		pml_trace_reader_free(r);
		return rc;
	}
	while ((rc = pml_trace_reader_next(r, &e)) > 0) {
		int a = pml_needs_add(ret, e);

		if (a < 0) {
			rc = a;
			break;
		}
	}
	if (rc < 0 && rc != -ENOMEM)
		pml_err("%s", pml_trace_reader_error(r));
	pml_trace_reader_free(r);
	return rc < 0 ? rc : 0;
}

int pml_needs_from_trace(const char *path, struct pml_needs *ret)
{
	struct pml_trace_reader *r = NULL;
	int rc;

	pml_needs_init(ret);
	rc = pml_trace_reader_open(path, &r);
	return needs_from_reader(r, rc, ret);
}

int pml_needs_from_fd(int fd, const char *name, struct pml_needs *ret)
{
	struct pml_trace_reader *r = NULL;
	FILE *f = fdopen(fd, "rb");
	int rc;

	pml_needs_init(ret);
	if (!f) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = pml_trace_reader_new(f, name, &r);
	return needs_from_reader(r, rc, ret);
}

size_t pml_needs_modules(const struct pml_needs *n, const char **out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n->n; i++) {
		for (uint32_t j = 0; j < n->v[i].n_loaded; j++) {
			const char *name = n->v[i].loaded[j];
			bool seen = false;

			for (size_t x = 0; x < k && !seen; x++)
				seen = !strcmp(out[x], name);
			if (!seen && k < max)
				out[k++] = name;
		}
	}
	return k;
}
