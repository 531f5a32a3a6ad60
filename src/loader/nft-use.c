/* nf_tables tables as users of nf_tables.
 *
 * What a ruleset holds mostly pins nf_tables: a base chain's type, a rule's expressions, a
 * set, a named counter each take a reference (seen in the guest: refcount 0, then 1 with a
 * set, 2 with a counter). A table alone does not: after `nft add table inet t`,
 * /proc/modules says refcount 0, and removing the module drops the table, its flags and
 * its name with it, in every network namespace. So a table, in any namespace, keeps the
 * module: netns-look.c finds the namespaces, and here each is asked for its tables by an
 * NFT_MSG_GETTABLE dump over nfnetlink (any family), the request `nft list tables` makes.
 * Any error is "cannot tell", which keeps the module. */
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "loader/nft-use.h"

/* pml_netlink_dump's callback: 1 for a table. */
static int is_table(const struct nlmsghdr *h, void *data)
{
	(void)data;
	return h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE);
}

int pml_nft_table_dump(int fd, const char *key)
{
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
	} req = {
	    .h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg)),
		  .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
		  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		  .nlmsg_seq = 1},
	    .g = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0},
	};

	(void)key;
	return pml_netlink_dump(fd, &req, req.h.nlmsg_len, is_table, NULL);
}

bool pml_nft_tables_in_use(struct pml_netns_scan *ret_scan)
{
	const struct pml_netns_question q = {
	    .protocol = NETLINK_NETFILTER, .count = pml_nft_table_dump, .key = "nf_tables:table"};

	return pml_netns_any(&q, ret_scan);
}
