/* Network interfaces as users of a module.
 *
 * A module that provides a kind of network interface (an `rtnl-link-KIND` alias: bridge,
 * veth, bonding's "bond", vxlan, 8021q's "vlan" ...; tun, openvswitch and wwan without
 * the alias) is not pinned by its interfaces: the kernel keeps its refcount at 0 while an
 * interface of its kind exists, and removing the module deletes every such interface, in
 * every network namespace. So refcount 0 does not mean "unused" for these modules:
 * unloading one tore down a program's bridge under it (an eviction between `ip link add
 * hvbr type bridge` and `ip link set hvbr up`), and unloading veth deleted the veth pairs
 * a test script had put in namespaces made by `ip netns add` ("Network is unreachable").
 *
 * Some modules make an interface of their own when they load (dummy: dummy0, bonding:
 * bond0): those keep them loaded too.
 *
 * The check asks each network namespace for its interfaces (an RTM_GETLINK dump over
 * rtnetlink, each link's IFLA_INFO_KIND); netns-look.c finds the namespaces and enters
 * them. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loader/netdev-use.h"

#define KIND_MAX 32

/* ---- rtnetlink: the links of one namespace by kind -----------------------------------
 */

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

/* pml_netlink_dump's callback: 1 for an RTM_NEWLINK of kind data. */
static int kind_match(const struct nlmsghdr *h, void *data)
{
	char k[KIND_MAX];

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	link_kind(h, k, sizeof(k));
	return !strcmp(k, data);
}

/* Links of kind on netlink socket fd (NETLINK_ROUTE, in the namespace to ask): the count,
 * or -errno. fd is not closed. */
static int dump_count(int fd, const char *kind)
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

	return pml_netlink_dump(fd, &req, req.h.nlmsg_len, kind_match, (void *)kind);
}

int pml_netdev_kind_count(const char *kind)
{
	int fd, r;

	if (!kind || !*kind)
		return -EINVAL;
	fd = pml_netlink_socket(NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	r = dump_count(fd, kind);
	close(fd);
	return r;
}

/* The question asked of each namespace: interfaces of kind. */
static struct pml_netns_question kind_question(const char *kind)
{
	return (struct pml_netns_question){
	    .protocol = NETLINK_ROUTE, .count = dump_count, .key = kind};
}

int pml_netdev_kind_count_all(const char *kind, struct pml_netns_scan *ret_scan)
{
	struct pml_netns_question q = kind_question(kind);

	return pml_netns_count(&q, ret_scan);
}

bool pml_netdev_kind_in_use(const char *kind, struct pml_netns_scan *ret_scan)
{
	struct pml_netns_question q = kind_question(kind);

	return pml_netns_any(&q, ret_scan);
}
