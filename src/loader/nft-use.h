/* nf_tables tables as users of nf_tables: an empty table does not pin the module (see
 * nft-use.c). Internal to src/loader/. */
#ifndef PML_LOADER_NFT_USE_H
#define PML_LOADER_NFT_USE_H

#include <stdbool.h>

#include "loader/netns-look.h"

/* Tables on the NETLINK_NETFILTER socket fd (in the namespace to ask), any family: the
 * count, or -errno (the kernel's answer when nf_tables is not there). key is unused (the
 * shape of struct pml_netns_question's count). */
int pml_nft_table_dump(int fd, const char *key);

/* Could an nf_tables table exist in any network namespace? True when one was seen, when
 * some namespace could not be asked, or on an error (netns-look.h). Ask only while
 * nf_tables is loaded: without it the kernel would ask for the module. */
bool pml_nft_tables_in_use(struct pml_netns_scan *ret_scan);

#endif
