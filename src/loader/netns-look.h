/* Every network namespace user space can reach, and one netlink question asked in each
 * (netns-look.c): how objects that do not pin their module are found in namespaces other
 * than pmld's own. Internal to src/loader/. */
#ifndef PML_LOADER_NETNS_LOOK_H
#define PML_LOADER_NETNS_LOOK_H

#include <stdbool.h>
#include <stddef.h>

/* What one look over the namespaces saw. */
struct pml_netns_scan {
	unsigned namespaces; /* distinct network namespaces found, this one included */
	unsigned entered;    /* of those, looked into (this one included) */
	unsigned unknown;    /* namespaces or holders that could not be looked into */
	unsigned cached;     /* answered from a recent sighting instead of entering */
	unsigned count;	     /* objects seen (interfaces of the kind, tables) */
	double ms;	     /* the look's wall time */
};

/* What is asked of one namespace: a netlink socket of protocol (NETLINK_ROUTE,
 * NETLINK_NETFILTER) made in it is passed to count, which returns how many objects key
 * names it holds, or -errno. key (at most 31 bytes, not empty) also names recent
 * sightings, so two questions must not share one. */
struct pml_netns_question {
	int protocol;
	int (*count)(int fd, const char *key);
	const char *key;
};

/* Send req (len bytes, a dump request) on netlink socket fd and read the answer to its
 * end: the sum of each(message, data) over its messages, or -errno (the kernel's error, or
 * the socket's). */
struct nlmsghdr;
int pml_netlink_dump(int fd, const void *req, size_t len,
		     int (*each)(const struct nlmsghdr *h, void *data), void *data);

/* A netlink socket of protocol in the calling thread's namespace: the fd, or -errno. */
int pml_netlink_socket(int protocol);

/* q asked of this namespace and of every other one that can be found: those of every
 * process and thread, those held by a bind mount (nsfs: `ip netns add` under /run/netns)
 * in any process's mount namespace, and those held by an open descriptor. Each is entered
 * once (by inode). Returns the sum (0 or more) and fills ret_scan (may be NULL);
 * ret_scan->unknown > 0 means some namespace could not be asked, so the sum is a lower
 * bound. -EINVAL for a bad key, -errno when /proc cannot be read. */
int pml_netns_count(const struct pml_netns_question *q, struct pml_netns_scan *ret_scan);

/* Could q's objects exist anywhere? True when one was seen in any namespace (a sighting
 * is trusted for a few seconds), when some namespace could not be asked, or on an error:
 * pml keeps a module when it cannot tell. Stops at the first sighting. */
bool pml_netns_any(const struct pml_netns_question *q, struct pml_netns_scan *ret_scan);

/* One line of /proc/PID/mountinfo: when it is an nsfs mount of a namespace of TYPE
 * ("net", "mnt"), its inode into *ret_ino and its mount point (unescaped; relative to the
 * process's root) into path, and 1 is returned; 0 when the line is another mount; -EINVAL
 * when it is malformed; -ENAMETOOLONG when the mount point does not fit in size. */
int pml_mountinfo_nsfs(const char *line, const char *type, unsigned long *ret_ino,
		       char *path, size_t size);

#endif
