/* Every network namespace user space can reach, and one netlink question asked in each.
 *
 * Some modules are not pinned by the objects they provide (loader/unpinned.c): interfaces
 * of a kind, nf_tables tables. Whether such an object exists must be asked of every network
 * namespace, not only of pmld's own. A namespace lives while something holds it, and
 * the holders user space can reach are looked for under /proc:
 *  - a process or thread in it (/proc/PID/task/TID/ns/net);
 *  - a bind mount of it (nsfs in /proc/PID/mountinfo, read once per mount namespace: what
 *    `ip netns add` makes under /run/netns; such a namespace may hold no process at all);
 *  - an open descriptor of it (a /proc/PID/fd/N link to net:[INODE]).
 * Each namespace found (by inode) is entered once: a short-lived thread setns()es into
 * each in turn and opens a netlink socket there (a socket stays in the namespace it was
 * made in), and the dumps run on the caller's thread. No descriptor of a namespace is
 * kept after the call: holding one would keep a deleted namespace, and its interfaces,
 * alive.
 *
 * What is not found, and why the answer is still safe: holders that only the kernel sees
 * (a socket made inside a namespace whose maker left it; an open /proc/PID/net file) and
 * mount namespaces held by no process. The latter are noticed (an nsfs mount or
 * descriptor of a mount namespace no process is in) and answer "cannot tell"; so do a
 * namespace that cannot be opened or entered, a holder that changed during the look, and
 * any error. "Cannot tell" keeps the module: a wrong "unused" breaks a program, a wrong
 * "in use" only keeps some memory. A namespace made after the look (a window of
 * milliseconds before the unload) is not seen; no check outside the kernel can close that
 * window.
 *
 * Cost: a walk of /proc (every task's ns link, every descriptor's link, the mountinfo of
 * each mount namespace; kernel threads skipped after one read of their stat) and a dump
 * per namespace, only when an unload of such a module is about to happen. This namespace
 * is asked first, with no walk: an object here answers at once. A sighting in another
 * namespace is trusted for a few seconds by inode (HIT_TTL_NS), and the idle-unload
 * policy waits longer after each refusal, so a module kept for its objects is not looked
 * for on every tick. Measured in the guest for interfaces (TCG, one CPU, 53 processes of
 * which 47 kernel threads, 3 namespaces): 8.6-10 ms a call that finds nothing (the walk 7
 * ms of it), 36 ms the first time (the emulator translating new code), under 1 ms when
 * this namespace has one. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "loader/netns-look.h"
#include "util/timeutil.h"

/* Distinct network namespaces looked into per call (more: "cannot tell"); other paths
 * kept per namespace, tried in turn when a holder goes during the look; how long a
 * sighting (an interface of a kind, a table) in a namespace is trusted; how many
 * sightings are remembered. */
#define NETNS_MAX 256
#define NS_PATHS 4
#define HIT_TTL_NS (5ull * 1000000000)
#define HITS_MAX 16
#define KEY_MAX 32

/* ---- mountinfo ------------------------------------------------------------------------
 */

int pml_mountinfo_nsfs(const char *line, const char *type, unsigned long *ret_ino,
		       char *path, size_t size)
{
	const char *f[5], *p = line, *sep, *root, *end;
	size_t len[5], tl = strlen(type), k = 0;
	unsigned long ino = 0;

	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
	 */
	for (int i = 0; i < 5; i++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -EINVAL;
		f[i] = p;
		len[i] = strcspn(p, " \n");
		p += len[i];
	}
	sep = strstr(p, " - ");
	if (!sep)
		return -EINVAL;
	if (strncmp(sep + 3, "nsfs", 4) ||
	    (sep[7] != ' ' && sep[7] != '\n' && sep[7] != '\0'))
		return 0;
	/* the root of an nsfs mount names the namespace: net:[4026532286] */
	root = f[3];
	if (len[3] < tl + 3 || strncmp(root, type, tl) || root[tl] != ':' ||
	    root[tl + 1] != '[' || root[len[3] - 1] != ']')
		return 0;
	end = root + len[3] - 1;
	for (p = root + tl + 2; p < end; p++) {
		if (!isdigit((unsigned char)*p) || ino > (~0ul - 9) / 10)
			return -EINVAL;
		ino = ino * 10 + (unsigned long)(*p - '0');
	}
	if (p == root + tl + 2)
		return -EINVAL;
	/* the mount point, with the kernel's \ooo escapes of space, tab, newline,
	 * backslash */
	for (p = f[4]; p < f[4] + len[4]; p++) {
		char c = *p;

		if (c == '\\' && p + 3 < f[4] + len[4] && p[1] >= '0' && p[1] <= '3' &&
		    p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (k + 1 >= size)
			return -ENAMETOOLONG;
		path[k++] = c;
	}
	if (!k)
		return -EINVAL;
	path[k] = '\0';
	*ret_ino = ino;
	return 1;
}

/* ---- finding the namespaces -----------------------------------------------------------
 */

/* A network namespace found, and ways to open it: up to NS_PATHS holders' paths. pid[i]
 * is the holder's process, or for a bind mount the negated pid whose root the path goes
 * through (0: a mount in the caller's own mount namespace, by its plain path). */
struct ns_ent {
	unsigned long ino;
	char *path[NS_PATHS];
	int pid[NS_PATHS];
	int n;
	bool more; /* holders beyond those kept (another thread or descriptor of a process
		      kept, or more than NS_PATHS) */
};

struct ino_set {
	unsigned long *v;
	size_t n, cap;
};

struct walk {
	unsigned long own; /* the caller's network namespace: asked directly */
	unsigned long
	    own_mnt; /* the caller's mount namespace: its mounts by plain path */
	dev_t nsfs;  /* the device of namespace files */
	struct ns_ent *net;
	size_t n_net;
	struct ino_set mnt;  /* mount namespaces of processes (their mountinfo read) */
	struct ino_set held; /* mount namespaces held by an nsfs mount or a descriptor */
	unsigned unknown;
};

static bool ino_has(const struct ino_set *s, unsigned long ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return true;
	return false;
}

/* Adds ino to s: 1 when new, 0 when there, -ENOMEM. */
static int ino_add(struct ino_set *s, unsigned long ino)
{
	if (ino_has(s, ino))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		unsigned long *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ino;
	return 1;
}

/* A holder of network namespace ino, reachable at path (of process pid, 0 for a mount).
 */
static int net_add(struct walk *w, unsigned long ino, const char *path, int pid)
{
	struct ns_ent *e = NULL;

	if (ino == w->own)
		return 0;
	for (size_t i = 0; i < w->n_net && !e; i++)
		if (w->net[i].ino == ino)
			e = &w->net[i];
	if (!e) {
		if (w->n_net == NETNS_MAX) {
			w->unknown++;
			return 0;
		}
		e = &w->net[w->n_net++];
		memset(e, 0, sizeof(*e));
		e->ino = ino;
	}
	for (int i = 0; i < e->n; i++)
		if (pid > 0 && e->pid[i] == pid) {
			e->more =
			    true; /* another thread or descriptor of the same process */
			return 0;
		}
	if (e->n == NS_PATHS) {
		e->more = true;
		return 0;
	}
	e->path[e->n] = strdup(path);
	if (!e->path[e->n])
		return -ENOMEM;
	e->pid[e->n++] = pid;
	return 0;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n_net; i++)
		for (int k = 0; k < w->net[i].n; k++)
			free(w->net[i].path[k]);
	free(w->net);
	free(w->mnt.v);
	free(w->held.v);
}

/* "net:[4026532286]" (a readlink of an ns link or descriptor) of TYPE: its inode, else 0.
 */
static unsigned long ns_link_ino(const char *link, const char *type)
{
	size_t tl = strlen(type);
	char *end;
	unsigned long ino;

	if (strncmp(link, type, tl) || link[tl] != ':' || link[tl + 1] != '[')
		return 0;
	errno = 0;
	ino = strtoul(link + tl + 2, &end, 10);
	return !errno && *end == ']' && !end[1] ? ino : 0;
}

/* An error reading a process's entries: gone (it exited) is no error, anything else makes
 * the answer "cannot tell". */
static void walk_error(struct walk *w, int err)
{
	if (err != ENOENT && err != ESRCH)
		w->unknown++;
}

/* The nsfs mounts of the mount namespace of process pid (mnt_ino). */
static int read_mountinfo(struct walk *w, const char *pid, unsigned long mnt_ino)
{
	char path[300], *line = NULL, mp[4096], full[4096 + 300];
	size_t cap = 0;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%s/mountinfo", pid);
	f = fopen(path, "re");
	if (!f) {
		walk_error(w, errno);
		return 0;
	}
	while (r >= 0 && getline(&line, &cap, f) > 0) {
		unsigned long ino;
		int k;

		if (!strstr(line, " - nsfs "))
			continue;
		k = pml_mountinfo_nsfs(line, "net", &ino, mp, sizeof(mp));
		if (k == 1 && mnt_ino == w->own_mnt) {
			r = net_add(w, ino, mp, 0);
			continue;
		}
		if (k == 1) {
			if ((size_t)snprintf(full, sizeof(full), "/proc/%s/root%s", pid,
					     mp) >= sizeof(full))
				w->unknown++;
			else
				r = net_add(w, ino, full, -atoi(pid));
			continue;
		}
		if (k < 0) {
			w->unknown++;
			continue;
		}
		if (pml_mountinfo_nsfs(line, "mnt", &ino, mp, sizeof(mp)) == 1)
			r = ino_add(&w->held, ino);
	}
	free(line);
	fclose(f);
	return r < 0 ? r : 0;
}

/* The namespace type (CLONE_NEWNET ...) of the file descriptor at path (/proc/PID/fd/N)
 * and its inode, 0 when it is no namespace, -errno. The attributes are the cached ones
 * (AT_STATX_DONT_SYNC): a descriptor of a network file system's file asks no server. */
static int fd_ns_type(const struct walk *w, const char *path, unsigned long *ret_ino)
{
	struct statx sx;
	int fd, type;

	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO, &sx) < 0)
		return -errno;
	if (makedev(sx.stx_dev_major, sx.stx_dev_minor) != w->nsfs)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	type = ioctl(fd, NS_GET_NSTYPE);
	type = type < 0 ? -errno : type;
	close(fd);
	*ret_ino = (unsigned long)sx.stx_ino;
	return type;
}

/* True for a kernel thread (PF_KTHREAD in /proc/PID/stat): it is in the first namespaces,
 * holds no descriptor, and most processes of a small guest are such (47 of 53 seen), so
 * one read spares the ten system calls of a walk. */
static bool is_kthread(const char *pid)
{
	char path[300], buf[512];
	const char *p;
	unsigned flags = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS: comm may hold anything */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) != 1)
		return false;
	return flags & 0x00200000; /* PF_KTHREAD */
}

/* One process: its threads' namespaces, its mount namespace's nsfs mounts, its
 * descriptors. */
static int walk_pid(struct walk *w, const char *pid)
{
	char path[600], link[64];
	struct stat st;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (is_kthread(pid))
		return 0;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	d = opendir(path);
	if (!d) {
		walk_error(w, errno);
		return 0;
	}
	while (r >= 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", pid, de->d_name);
		if (stat(path, &st) < 0)
			walk_error(w, errno);
		else
			r = net_add(w, (unsigned long)st.st_ino, path, atoi(pid));
	}
	closedir(d);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
	if (stat(path, &st) < 0) {
		walk_error(w, errno);
	} else {
		r = ino_add(&w->mnt, (unsigned long)st.st_ino);
		if (r > 0)
			r = read_mountinfo(w, pid, (unsigned long)st.st_ino);
		if (r < 0)
			return r;
	}

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d) {
		walk_error(w, errno);
		return 0;
	}
	while (r >= 0 && (de = readdir(d))) {
		ssize_t n;
		unsigned long ino;
		int type;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			walk_error(w, errno);
			continue;
		}
		link[n] = '\0';
		if ((ino = ns_link_ino(link, "net"))) {
			r = net_add(w, ino, path, atoi(pid));
			continue;
		}
		if ((ino = ns_link_ino(link, "mnt"))) {
			r = ino_add(&w->held, ino);
			continue;
		}
		if (link[0] != '/')
			continue; /* socket:[...], pipe:[...], anon_inode:... */
		/* opened through a bind mount, the link says the mount's path (or "/"
		 * once it is unmounted): only the file's device tells */
		type = fd_ns_type(w, path, &ino);
		if (type == CLONE_NEWNET)
			r = net_add(w, ino, path, atoi(pid));
		else if (type == CLONE_NEWNS)
			r = ino_add(&w->held, ino);
		else if (type < 0)
			walk_error(w, -type);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

/* Every network namespace under /proc but the caller's, into w. 0 or -errno. */
static int walk_proc(struct walk *w)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (stat("/proc/thread-self/ns/net", &st) == 0 ||
	    stat("/proc/self/ns/net", &st) == 0) {
		w->own = (unsigned long)st.st_ino;
		w->nsfs = st.st_dev;
	} else {
		return -errno; /* no namespace files to compare with */
	}
	if (stat("/proc/self/ns/mnt", &st) == 0)
		w->own_mnt = (unsigned long)st.st_ino;
	w->net = calloc(NETNS_MAX, sizeof(*w->net));
	if (!w->net)
		return -ENOMEM;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (r >= 0 && (de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			r = walk_pid(w, de->d_name);
	closedir(d);
	/* a mount namespace held with no process in it: its nsfs mounts were not read */
	for (size_t i = 0; i < w->held.n; i++)
		if (!ino_has(&w->mnt, w->held.v[i]))
			w->unknown++;
	return r;
}

/* ---- entering them --------------------------------------------------------------------
 */

/* A descriptor of namespace e from one of its holders: the fd; -ENOENT when every holder
 * went away (so did the namespace); -ESTALE when a holder went where the look did not go
 * (a thread into another namespace) or when one may remain that was not kept, or a
 * mount's path went with the process it was read through; other -errno when it cannot be
 * opened. */
static int open_ns(const struct ns_ent *e)
{
	int err = e->more ? -ESTALE : -ENOENT;

	for (int i = 0; i < e->n; i++) {
		struct stat st;
		struct statfs sf;
		int fd = open(e->path[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			char proc[32];

			if (errno != ENOENT && errno != ESRCH) {
				err = -errno;
			} else if (e->pid[i] < 0) {
				/* gone: the mount, or only the process it was reached
				 * through */
				snprintf(proc, sizeof(proc), "/proc/%d", -e->pid[i]);
				if (access(proc, F_OK) < 0 && err == -ENOENT)
					err = -ESTALE;
			}
			continue;
		}
		if (fstat(fd, &st) == 0 && fstatfs(fd, &sf) == 0 &&
		    sf.f_type == NSFS_MAGIC && (unsigned long)st.st_ino == e->ino)
			return fd;
		close(fd);
		err = -ESTALE;
	}
	return err;
}

struct enter_job {
	int protocol; /* of the sockets made */
	const int *ns;
	int *sock; /* out: a netlink socket of protocol in ns[i], or -errno */
	size_t n;
};

/* The thread that visits the namespaces: setns() moves only it, and it dies after. */
static void *enter_main(void *arg)
{
	struct enter_job *j = arg;

	for (size_t i = 0; i < j->n; i++)
		j->sock[i] = setns(j->ns[i], CLONE_NEWNET) < 0 ? -errno : pml_netlink_socket(j->protocol);
	return NULL;
}

/* ---- recent sightings -----------------------------------------------------------------
 */

static struct {
	unsigned long ino;
	char key[KEY_MAX];
	uint64_t t;
} hits[HITS_MAX];
static pthread_mutex_t hits_lock = PTHREAD_MUTEX_INITIALIZER;

static bool hit_fresh(unsigned long ino, const char *key, uint64_t now)
{
	bool fresh = false;

	pthread_mutex_lock(&hits_lock);
	for (size_t i = 0; i < HITS_MAX && !fresh; i++)
		fresh = hits[i].t && hits[i].ino == ino && now - hits[i].t < HIT_TTL_NS &&
			!strcmp(hits[i].key, key);
	pthread_mutex_unlock(&hits_lock);
	return fresh;
}

static void hit_note(unsigned long ino, const char *key, uint64_t now)
{
	size_t k = 0;

	pthread_mutex_lock(&hits_lock);
	for (size_t i = 0; i < HITS_MAX; i++) {
		if (hits[i].ino == ino && !strcmp(hits[i].key, key)) {
			k = i;
			break;
		}
		if (hits[i].t < hits[k].t)
			k = i; /* the oldest (or an empty slot) */
	}
	hits[k].ino = ino;
	snprintf(hits[k].key, sizeof(hits[k].key), "%s", key);
	hits[k].t = now;
	pthread_mutex_unlock(&hits_lock);
}

/* ---- the look -------------------------------------------------------------------------
 */

/* q's count in this namespace (no walk), or -errno. */
static int count_here(const struct pml_netns_question *q)
{
	int fd = pml_netlink_socket(q->protocol), r;

	if (fd < 0)
		return fd;
	r = q->count(fd, q->key);
	close(fd);
	return r;
}

/* q's count over every namespace found; first: stop at the first sighting (and trust
 * recent ones). Fills st. Returns the count or -errno. */
static int look(const struct pml_netns_question *q, bool first, struct pml_netns_scan *st)
{
	struct walk w = {0};
	uint64_t t0 = pml_now_ns();
	int *fds = NULL, *socks = NULL, r;
	unsigned long *inos = NULL;
	size_t n_open = 0;

	memset(st, 0, sizeof(*st));
	if (!q->key || !*q->key || strlen(q->key) >= KEY_MAX)
		return -EINVAL;
	st->namespaces = 1;
	r = count_here(q);
	if (r < 0)
		st->unknown++;
	else
		st->entered++, st->count += (unsigned)r;
	if (first && (st->count || st->unknown))
		goto out;

	r = walk_proc(&w);
	if (r < 0)
		goto out;
	st->namespaces += (unsigned)w.n_net;
	st->unknown += w.unknown;
	if (first && st->unknown)
		goto out;
	if (first)
		for (size_t i = 0; i < w.n_net; i++)
			if (hit_fresh(w.net[i].ino, q->key, t0)) {
				st->cached++;
				goto out;
			}
	if (!w.n_net)
		goto out;

	fds = malloc(w.n_net * sizeof(*fds));
	socks = malloc(w.n_net * sizeof(*socks));
	inos = malloc(w.n_net * sizeof(*inos));
	if (!fds || !socks || !inos) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w.n_net; i++) {
		int fd = open_ns(&w.net[i]);

		if (fd == -ENOENT) {
			st->namespaces--; /* gone with its holders */
			continue;
		}
		if (fd < 0) {
			st->unknown++;
			continue;
		}
		inos[n_open] = w.net[i].ino;
		fds[n_open++] = fd;
	}
	if (first && st->unknown)
		goto out;
	if (n_open) {
		struct enter_job job = {
		    .protocol = q->protocol, .ns = fds, .sock = socks, .n = n_open};
		pthread_t th;
		int e = pthread_create(&th, NULL, enter_main, &job);

		if (e) {
			st->unknown += (unsigned)n_open;
			r = -e;
			goto out;
		}
		pthread_join(th, NULL);
		for (size_t i = 0; i < n_open; i++) {
			int c;

			if (socks[i] < 0) {
				st->unknown++;
				continue;
			}
			c = first && st->count ? -ECANCELED : q->count(socks[i], q->key);
			close(socks[i]);
			if (c == -ECANCELED)
				continue; /* seen already: the answer is in */
			if (c < 0) {
				st->unknown++;
				continue;
			}
			st->entered++;
			st->count += (unsigned)c;
			if (c > 0)
				hit_note(inos[i], q->key, t0);
		}
	}
	r = 0;
out:
	for (size_t i = 0; i < n_open; i++)
		close(fds[i]);
	free(fds);
	free(socks);
	free(inos);
	walk_release(&w);
	st->ms = pml_ns_to_ms(pml_now_ns() - t0);
	return r < 0 ? r : (int)st->count;
}

int pml_netlink_socket(int protocol)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);

	return fd < 0 ? -errno : fd;
}

#define DUMP_BUF 32768

int pml_netlink_dump(int fd, const void *req, size_t len,
		     int (*each)(const struct nlmsghdr *h, void *data), void *data)
{
	char *buf;
	int count = 0, r = 0;
	bool done = false;

	if (send(fd, req, len, 0) < 0)
		return -errno;
	buf = malloc(DUMP_BUF);
	if (!buf)
		return -ENOMEM;
	while (!done) {
		ssize_t n = recv(fd, buf, DUMP_BUF, 0);
		struct nlmsghdr *h;
		int left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		left = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				r = e->error ? e->error : -EIO;
				done = true;
				break;
			}
			count += each(h, data);
		}
	}
	free(buf);
	return r < 0 ? r : count;
}

int pml_netns_count(const struct pml_netns_question *q, struct pml_netns_scan *ret_scan)
{
	struct pml_netns_scan st;
	int r = look(q, false, &st);

	if (ret_scan)
		*ret_scan = st;
	return r;
}

bool pml_netns_any(const struct pml_netns_question *q, struct pml_netns_scan *ret_scan)
{
	struct pml_netns_scan st;
	int r = look(q, true, &st);

	if (ret_scan)
		*ret_scan = st;
	return r != 0 || st.unknown > 0 || st.cached > 0;
}
