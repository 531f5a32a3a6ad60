/* Sample resolution (symbolizer.h): a table of mapped files keyed by (dev, ino) with their
 * paths and lazily loaded ELF tables, and per-pid snapshots of /proc/PID/maps for the
 * samples the kernel could not place. Both are small: a trace maps tens to a few hundred
 * distinct files, and only processes whose samples needed the fallback get a snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/elf-sym.h"
#include "trace/symbolizer.h"

struct obj {
	uint64_t ino;
	uint32_t dev;
	bool tried;		/* ELF tables load attempted */
	char *path;
	char name[PML_TEV_OBJNAME_LEN];
	struct pml_elf_syms *syms;
};

struct mapent {
	uint64_t start, end, off, ino;
	uint32_t dev;
	char *path; /* "" for anonymous, "[vdso]", "/usr/lib/..." */
};

/* Where a file's code sits in a process: ip - offset of a sample placed in it. */
struct bias {
	uint64_t ino, bias;
	uint32_t dev;
};

#define MAX_BIASES 32

struct pidmaps {
	uint32_t pid;
	bool stale;	/* read again before use */
	bool gone;	/* the last read failed */
	struct mapent *ents;
	size_t n;
	struct bias biases[MAX_BIASES]; /* of its samples so far (and its parent's) */
	size_t n_biases;
};

struct pml_symbolizer {
	char *proc_root;
	struct obj **objs;	/* open addressing on (dev, ino), power-of-two size */
	size_t cap, n_objs;
	struct pidmaps *pids;	/* few: only pids that needed the fallback */
	size_t n_pids, cap_pids;
	struct pml_symbolizer_stats st;
};

struct pml_symbolizer *pml_symbolizer_new(const char *proc_root)
{
	struct pml_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->proc_root = strdup(proc_root ? proc_root : "/proc");
	s->cap = 256;
	s->objs = calloc(s->cap, sizeof(*s->objs));
	if (!s->proc_root || !s->objs) {
		pml_symbolizer_free(s);
		return NULL;
	}
	return s;
}

static void pidmaps_release(struct pidmaps *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->ents[i].path);
	free(p->ents);
	p->ents = NULL;
	p->n = 0;
}

void pml_symbolizer_free(struct pml_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->objs && i < s->cap; i++) {
		if (!s->objs[i])
			continue;
		pml_elf_syms_free(s->objs[i]->syms);
		free(s->objs[i]->path);
		free(s->objs[i]);
	}
	for (size_t i = 0; i < s->n_pids; i++)
		pidmaps_release(&s->pids[i]);
	free(s->pids);
	free(s->objs);
	free(s->proc_root);
	free(s);
}

void pml_symbolizer_stats(const struct pml_symbolizer *s, struct pml_symbolizer_stats *ret)
{
	*ret = s->st;
	ret->objects = s->n_objs;
}

/* The object table. */

static size_t obj_slot(const struct pml_symbolizer *s, uint32_t dev, uint64_t ino)
{
	uint64_t h = (ino * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)dev * 0xc2b2ae3d27d4eb4full);
	size_t i = (size_t)(h >> 17) & (s->cap - 1);

	while (s->objs[i] && (s->objs[i]->ino != ino || s->objs[i]->dev != dev))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static struct obj *obj_find(struct pml_symbolizer *s, uint32_t dev, uint64_t ino)
{
	return s->objs[obj_slot(s, dev, ino)];
}

static int obj_grow(struct pml_symbolizer *s)
{
	struct obj **old = s->objs;
	size_t old_cap = s->cap;

	s->objs = calloc(old_cap * 2, sizeof(*s->objs));
	if (!s->objs) {
		s->objs = old;
		return -ENOMEM;
	}
	s->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			s->objs[obj_slot(s, old[i]->dev, old[i]->ino)] = old[i];
	free(old);
	return 0;
}

/* The name a sample shows: the path's last component without " (deleted)". */
static void set_name(struct obj *o)
{
	const char *base = strrchr(o->path, '/');
	size_t n;

	base = base ? base + 1 : o->path;
	n = strlen(base);
	if (n > 10 && !strcmp(base + n - 10, " (deleted)"))
		n -= 10;
	if (n >= sizeof(o->name))
		n = sizeof(o->name) - 1;
	memcpy(o->name, base, n);
	o->name[n] = '\0';
	if (!o->name[0])
		snprintf(o->name, sizeof(o->name), "?");
}

/* Add or update (dev, ino) -> path. Returns the object, NULL on allocation failure. */
static struct obj *obj_put(struct pml_symbolizer *s, uint32_t dev, uint64_t ino,
			   const char *path)
{
	struct obj *o = obj_find(s, dev, ino);
	char *p;

	if (o && !strcmp(o->path, path))
		return o;
	p = strdup(path);
	if (!p)
		return NULL;
	if (o) { /* a new path for the same file (renamed, or another mount of it) */
		free(o->path);
		o->path = p;
		set_name(o);
		return o;
	}
	if ((s->n_objs + 1) * 2 > s->cap && obj_grow(s)) {
		free(p);
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		free(p);
		return NULL;
	}
	o->dev = dev;
	o->ino = ino;
	o->path = p;
	set_name(o);
	s->objs[obj_slot(s, dev, ino)] = o;
	s->n_objs++;
	return o;
}

/* Open the object's file, checking it is the inode the kernel meant (a path can name
 * another file by now: a package upgrade, a file in another mount namespace). Tries the
 * path as it is, then under /proc/PID/root. */
static int obj_open(struct pml_symbolizer *s, const struct obj *o, uint32_t pid)
{
	char alt[4096];
	const char *cands[2];
	struct stat st;
	size_t plen = strlen(o->path);

	if (plen > 10 && !strcmp(o->path + plen - 10, " (deleted)"))
		return -ENOENT;
	cands[0] = o->path;
	snprintf(alt, sizeof(alt), "%s/%" PRIu32 "/root%s", s->proc_root, pid, o->path);
	cands[1] = alt;
	for (int i = 0; i < 2; i++) {
		int fd = open(cands[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (!fstat(fd, &st) && st.st_ino == o->ino)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

static void obj_load(struct pml_symbolizer *s, struct obj *o, uint32_t pid)
{
	int fd;

	if (o->tried)
		return;
	o->tried = true;
	fd = obj_open(s, o, pid);
	if (fd >= 0 && !pml_elf_syms_load_fd(fd, &o->syms)) {
		const char *soname = pml_elf_syms_soname(o->syms);

		s->st.loaded++;
		/* a library by the name programs link it by: libnftables.so.1, not the
		 * file's libnftables.so.1.1.0 (stable across minor versions) */
		if (soname && !strchr(soname, '/'))
			snprintf(o->name, sizeof(o->name), "%s", soname);
	} else {
		s->st.load_failed++;
	}
	if (fd >= 0)
		close(fd);
}

/* The /proc/PID/maps fallback. */

static struct pidmaps *pid_find(struct pml_symbolizer *s, uint32_t pid)
{
	for (size_t i = 0; i < s->n_pids; i++)
		if (s->pids[i].pid == pid)
			return &s->pids[i];
	return NULL;
}

static void pid_forget(struct pml_symbolizer *s, uint32_t pid)
{
	struct pidmaps *p = pid_find(s, pid);

	if (!p)
		return;
	pidmaps_release(p);
	*p = s->pids[--s->n_pids];
}

static struct pidmaps *pid_get(struct pml_symbolizer *s, uint32_t pid)
{
	struct pidmaps *p = pid_find(s, pid);

	if (p)
		return p;
	if (s->n_pids == s->cap_pids) {
		size_t cap = s->cap_pids ? s->cap_pids * 2 : 16;
		struct pidmaps *n = realloc(s->pids, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->pids = n;
		s->cap_pids = cap;
	}
	p = &s->pids[s->n_pids++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->stale = true;
	return p;
}

/* Read /proc/PID/maps into p (replacing what it held). Returns 0 or -errno (the process
 * is gone: -ENOENT). */
static int read_maps(struct pml_symbolizer *s, struct pidmaps *p)
{
	char path[256], line[4608];
	size_t cap = 0;
	FILE *f;

	pidmaps_release(p);
	p->stale = false;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/maps", s->proc_root, p->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	s->st.maps_reads++;
	while (fgets(line, sizeof(line), f)) {
		struct mapent m = {0};
		unsigned maj, min;
		int pos = 0;
		char *name;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &m.start, &m.end, &m.off, &maj, &min, &m.ino, &pos) < 6 || !pos)
			continue;
		name = line + pos;
		name[strcspn(name, "\n")] = '\0';
		m.dev = (maj << 20) | (min & 0xfffff);
		m.path = strdup(name);
		if (!m.path)
			break;
		if (p->n == cap) {
			struct mapent *n;

			cap = cap ? cap * 2 : 32;
			n = realloc(p->ents, cap * sizeof(*n));
			if (!n) {
				free(m.path);
				break;
			}
			p->ents = n;
		}
		p->ents[p->n++] = m;
	}
	fclose(f);
	return 0;
}

/* The pid's mapping holding ip, from a fresh enough snapshot; NULL if none. */
static const struct mapent *maps_lookup(struct pml_symbolizer *s, uint32_t pid, uint64_t ip)
{
	struct pidmaps *p = pid_get(s, pid);

	if (!p)
		return NULL;
	for (int pass = 0; pass < 2; pass++) {
		bool fresh = p->stale;

		if (p->gone)
			return NULL;
		if (p->stale && read_maps(s, p)) {
			/* the process is gone: no new read per sample until its next exec
			 * or mmap record */
			p->gone = true;
			return NULL;
		}
		for (size_t i = 0; i < p->n; i++)
			if (ip >= p->ents[i].start && ip < p->ents[i].end)
				return &p->ents[i];
		if (fresh)
			return NULL;
		/* not there: mapped since the snapshot was read */
		p->stale = true;
	}
	return NULL;
}

/* Remember where a placed sample's file sits in its process. */
static void note_bias(struct pml_symbolizer *s, const struct pml_tev_sample *e)
{
	struct pidmaps *p = pid_get(s, e->h.pid);
	uint64_t bias = e->ip - e->offset;

	if (!p)
		return;
	for (size_t i = 0; i < p->n_biases; i++)
		if (p->biases[i].ino == e->ino && p->biases[i].dev == e->dev &&
		    p->biases[i].bias == bias)
			return;
	if (p->n_biases == MAX_BIASES)
		memmove(p->biases, p->biases + 1, --p->n_biases * sizeof(p->biases[0]));
	p->biases[p->n_biases++] = (struct bias){e->ino, bias, e->dev};
}

/* A sample the kernel could not place (its mmap lock was held: a fork copying the
 * address space, an mmap): try the files the process (or its parent before the fork)
 * was seen running, newest first; the first whose tables hold ip - bias wins. */
static struct obj *place_by_bias(struct pml_symbolizer *s, struct pml_tev_sample *e,
				 uint64_t *ret_off)
{
	struct pidmaps *p = pid_find(s, e->h.pid);
	char name[PML_TEV_FUNC_LEN];

	for (size_t i = p ? p->n_biases : 0; i-- > 0;) {
		struct obj *o = obj_find(s, p->biases[i].dev, p->biases[i].ino);
		uint64_t off = e->ip - p->biases[i].bias;

		if (!o)
			continue;
		obj_load(s, o, e->h.pid);
		if (o->syms && !pml_elf_syms_lookup(o->syms, off, name, sizeof(name), NULL)) {
			*ret_off = off;
			return o;
		}
	}
	return NULL;
}

void pml_symbolizer_observe(struct pml_symbolizer *s, const struct pml_tev_hdr *e)
{
	struct pidmaps *p;

	switch (e->kind) {
	case PML_TEV_FORK: {
		const struct pml_tev_proc *f = (const void *)e;
		struct pidmaps *parent, *child;

		/* a new process runs its parent's code until it execs */
		if (f->arg || !(parent = pid_find(s, e->pid)) || !parent->n_biases)
			break;
		child = pid_get(s, f->other);
		parent = pid_find(s, e->pid); /* pid_get may have moved the array */
		if (child && parent) {
			memcpy(child->biases, parent->biases, sizeof(child->biases));
			child->n_biases = parent->n_biases;
		}
		break;
	}
	case PML_TEV_OBJECT: {
		const struct pml_tev_object *o = (const void *)e;
		char path[PML_TEV_OBJPATH_LEN + 1];

		memcpy(path, o->path, PML_TEV_OBJPATH_LEN);
		path[PML_TEV_OBJPATH_LEN] = '\0';
		if (path[0])
			obj_put(s, o->dev, o->ino, path);
		break;
	}
	case PML_TEV_EXEC:
	case PML_TEV_MMAP:
		p = pid_find(s, e->pid);
		if (p) {
			p->stale = true;
			p->gone = false;
			if (e->kind == PML_TEV_EXEC)
				p->n_biases = 0; /* a new image */
		}
		break;
	case PML_TEV_EXIT:
		pid_forget(s, e->pid);
		break;
	}
}

static void set_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, len - n);
}

void pml_symbolizer_resolve(struct pml_symbolizer *s, struct pml_tev_sample *e)
{
	const struct mapent *m = NULL;
	struct obj *o = NULL;
	uint64_t off = e->offset;

	s->st.samples++;
	set_str(e->object, sizeof(e->object), "?");
	set_str(e->func, sizeof(e->func), "");
	e->flags |= PML_SAMPLE_RESOLVED;
	if (e->ino) {
		o = obj_find(s, e->dev, e->ino);
		if (!o) { /* no OBJECT record named it: ask the process */
			m = maps_lookup(s, e->h.pid, e->ip);
			if (m && m->ino == e->ino && m->path[0] == '/')
				o = obj_put(s, e->dev, e->ino, m->path);
		}
	} else {
		m = maps_lookup(s, e->h.pid, e->ip);
		if (!m && (e->flags & PML_SAMPLE_NO_VMA))
			o = place_by_bias(s, e, &off);
		if (o) {
			e->ino = o->ino;
			e->dev = o->dev;
			e->offset = off;
			goto named;
		}
		if (!m) {
			/* in the kernel with ip in no mapping: an exec replacing the image */
			if (e->flags & PML_SAMPLE_KERNEL && !(e->flags & PML_SAMPLE_NO_VMA))
				set_str(e->object, sizeof(e->object), "[kernel]");
			return;
		}
		if (m->ino && m->path[0] == '/') {
			o = obj_put(s, m->dev, m->ino, m->path);
			off = e->ip - m->start + m->off;
			/* the same identity a kernel-placed sample would carry */
			e->ino = m->ino;
			e->dev = m->dev;
			e->offset = off;
		} else {
			set_str(e->object, sizeof(e->object), m->path[0] ? m->path : "[anon]");
			return;
		}
	}
	if (!o)
		return;
named:
	obj_load(s, o, e->h.pid);
	set_str(e->object, sizeof(e->object), o->name);
	if (o->syms && !pml_elf_syms_lookup(o->syms, off, e->func, sizeof(e->func), NULL))
		s->st.named++;
	if (!(e->flags & PML_SAMPLE_NO_VMA))
		note_bias(s, e);
}
