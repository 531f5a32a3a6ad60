/* Which module aliases a trace record would make the kernel ask for (reuse.h). The
 * kernel's own request sites, in 6.1:
 *  - socket(F, T, P): net/socket.c asks "net-pf-F" for a family with no handler; inet,
 *    inet6 and others ask "net-pf-F-proto-P-type-T", then "net-pf-F-proto-P" for a
 *    protocol with none (netlink: "net-pf-16-proto-P");
 *  - mount(..., fstype): get_fs_type asks "fs-TYPE";
 *  - RTM_NEWLINK with IFLA_INFO_KIND K: rtnetlink asks "rtnl-link-K";
 *  - bind of an AF_ALG socket to type T: af_alg asks "algif-T";
 *  - setsockopt(SOL_TCP, TCP_ULP, U): "tcp-ulp-U".
 * Replay matches these against the aliases of the run's recorded needs, so a family or
 * type this list does not know simply yields no later use (as before). */
#include <stdio.h>
#include <string.h>

#include "dataset/reuse.h"

#define AF_NETLINK_ 16
#define AF_ALG_ 38
#define NETLINK_ROUTE_ 0
#define RTM_NEWLINK_ 16
#define SOCK_TYPE_MASK_ 0xf

/* A fixed-size char field as a string: printable, up to its first NUL. */
static int field(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	while (n < len && n + 1 < size && src[n] > ' ' && src[n] < 0x7f)
		n++;
	if (n < len && src[n] && n + 1 < size)
		return 0; /* not a clean name */
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n > 0;
}

size_t pml_reuse_aliases(const struct pml_tev_hdr *rec, char (*out)[64], size_t max)
{
	char name[48];
	size_t n = 0;

	if (max < PML_REUSE_MAX)
		return 0;
	switch (rec->kind) {
	case PML_TEV_SOCKET: {
		const struct pml_tev_socket *e = (const void *)rec;
		int type = e->type & SOCK_TYPE_MASK_;

		if (e->family <= 0 || e->family > 63 || e->protocol < 0 || e->protocol > 65535)
			return 0;
		if (e->family != AF_NETLINK_)
			snprintf(out[n++], 64, "net-pf-%d-proto-%d-type-%d", e->family, e->protocol,
				 type);
		snprintf(out[n++], 64, "net-pf-%d-proto-%d", e->family, e->protocol);
		snprintf(out[n++], 64, "net-pf-%d", e->family);
		return n;
	}
	case PML_TEV_MOUNT: {
		const struct pml_tev_mount *e = (const void *)rec;

		if (!field(name, sizeof(name), e->fstype, sizeof(e->fstype)))
			return 0;
		snprintf(out[n++], 64, "fs-%s", name);
		return n;
	}
	case PML_TEV_NETLINK: {
		const struct pml_tev_netlink *e = (const void *)rec;

		if (e->protocol != NETLINK_ROUTE_ || e->nlmsg_type != RTM_NEWLINK_ ||
		    !field(name, sizeof(name), e->kind, sizeof(e->kind)))
			return 0;
		snprintf(out[n++], 64, "rtnl-link-%s", name);
		return n;
	}
	case PML_TEV_SOCKADDR: {
		const struct pml_tev_sockaddr *e = (const void *)rec;
		unsigned family = e->addr[0] | (unsigned)e->addr[1] << 8;

		/* struct sockaddr_alg: family, then salg_type[14] */
		if (family != AF_ALG_ || !field(name, sizeof(name), (const char *)e->addr + 2, 14))
			return 0;
		snprintf(out[n++], 64, "algif-%s", name);
		return n;
	}
	case PML_TEV_SOCKOPT: {
		const struct pml_tev_sockopt *e = (const void *)rec;

		if (!field(name, sizeof(name), e->ulp, sizeof(e->ulp)))
			return 0;
		snprintf(out[n++], 64, "tcp-ulp-%s", name);
		return n;
	}
	default:
		return 0;
	}
}
