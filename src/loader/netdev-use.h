/* Network interfaces as users of a module: the kernel does not count them in the module's
 * refcount (see netdev-use.c). */
#ifndef PML_LOADER_NETDEV_USE_H
#define PML_LOADER_NETDEV_USE_H

#include <stdbool.h>

/* Interfaces of link kind KIND ("bridge", "bond", "veth": IFLA_INFO_KIND) in this network
 * namespace: the count, or -errno. */
int pml_netdev_kind_count(const char *kind);

/* Could an interface of KIND exist anywhere? True when this namespace has one, when any
 * process is in another network namespace (not looked into), or on an error. */
bool pml_netdev_kind_in_use(const char *kind);

#endif
