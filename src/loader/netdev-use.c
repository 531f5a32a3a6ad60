/* Network interfaces as users of a module.
 *
 * A module that provides a kind of network interface (an `rtnl-link-KIND` alias: bridge,
 * veth, bonding's "bond", vxlan, 8021q's "vlan" ...) is not pinned by its interfaces: the
 * kernel keeps its refcount at 0 while an interface of its kind exists, and removing the
 * module deletes every such interface, in every network namespace. So refcount 0 does not
 * mean "unused" for these modules, and unloading one at refcount 0 can tear down a
 * program's bridge under it (seen: an eviction took bridge between `ip link add hvbr type
 * bridge` and `ip link set hvbr up`).
 *
 * The check asks the kernel for the interfaces of this network namespace (an RTM_GETLINK
 * dump over rtnetlink, each link's IFLA_INFO_KIND). Other namespaces are not looked into
 * (that would need setns per namespace): when any process lives in another network
 * namespace the answer is "in use", which keeps such modules loaded while containers or
 * test namespaces exist. Errors also answer "in use": a wrong "unused" breaks a program, a
 * wrong "in use" only keeps some memory. Some modules make an interface of their own when
 * they load (dummy: dummy0, bonding: bond0): those keep them loaded too. */
#include <errno.h>
#include <dirent.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/netdev-use.h"

/* True when a process is in a network namespace other than ours (or we cannot tell). */
static bool other_netns(void)
{
	struct stat self, st;
	DIR *d;
	struct dirent *de;
	bool other = false;

	if (stat("/proc/self/ns/net", &self) < 0)
		return true;
	d = opendir("/proc");
	if (!d)
		return true;
	while (!other && (de = readdir(d))) {
		char path[300];

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st) == 0 && (st.st_ino != self.st_ino || st.st_dev != self.st_dev))
			other = true; /* kernel threads and gone processes fail stat: skipped */
	}
	closedir(d);
	return other;
}

/* IFLA_INFO_KIND of one RTM_NEWLINK message, into kind (empty when none). */
static void link_kind(const struct nlmsghdr *h, char *kind, size_t size)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *a = IFLA_RTA(ifi);

	kind[0] = '\0';
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const struct rtattr *b;
		int blen;

		if (a->rta_type != IFLA_LINKINFO)
			continue;
		blen = (int)RTA_PAYLOAD(a);
		for (b = RTA_DATA(a); RTA_OK(b, blen); b = RTA_NEXT(b, blen)) {
			size_t n = RTA_PAYLOAD(b);

			if (b->rta_type != IFLA_INFO_KIND)
				continue;
			if (n >= size)
				n = size - 1;
			memcpy(kind, RTA_DATA(b), n);
			kind[n] = '\0';
			kind[strnlen(kind, n)] = '\0';
			return;
		}
	}
}

int pml_netdev_kind_count(const char *kind)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		      .nlmsg_type = RTM_GETLINK,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = 1},
		.i = {.ifi_family = AF_UNSPEC},
	};
	char *buf;
	int fd, count = 0, r = 0;
	bool done = false;

	if (!kind || !*kind)
		return -EINVAL;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	buf = malloc(32768);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (!done) {
		ssize_t n = recv(fd, buf, 32768, 0);
		struct nlmsghdr *h;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0) {
			r = -EIO;
			break;
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len)) {
			char k[32];

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
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			link_kind(h, k, sizeof(k));
			count += !strcmp(k, kind);
		}
	}
	free(buf);
	close(fd);
	return r < 0 ? r : count;
}

bool pml_netdev_kind_in_use(const char *kind)
{
	if (other_netns())
		return true;
	return pml_netdev_kind_count(kind) != 0; /* an error counts as in use */
}
