/* Network interfaces as users of a module: the kernel does not count them in the module's
 * refcount, in any network namespace (see netdev-use.c). */
#ifndef PML_LOADER_NETDEV_USE_H
#define PML_LOADER_NETDEV_USE_H

#include <stdbool.h>

#include "loader/netns-look.h"

/* Interfaces of link kind KIND ("bridge", "bond", "veth": IFLA_INFO_KIND) in the calling
 * thread's network namespace: the count, or -errno (-EINVAL for an empty kind). */
int pml_netdev_kind_count(const char *kind);

/* Interfaces of KIND in every network namespace the system holds that can be found: those
 * of every process and thread, those held by a bind mount (nsfs: `ip netns add` under
 * /run/netns) in any process's mount namespace, and those held by an open descriptor.
 * Each is entered once (by inode). Returns the count (0 or more) and fills ret_scan (may
 * be NULL); ret_scan->unknown > 0 means some namespace could not be looked into, so the
 * count is a lower bound. -EINVAL for an empty kind, -errno when /proc cannot be read. */
int pml_netdev_kind_count_all(const char *kind, struct pml_netns_scan *ret_scan);

/* Could an interface of KIND exist anywhere? True when one was seen in any network
 * namespace (a sighting is trusted for a few seconds), when some namespace could not be
 * looked into, or on an error: pml keeps a module when it cannot tell. Stops at the first
 * sighting. ret_scan (may be NULL) says what was looked at. */
bool pml_netdev_kind_in_use(const char *kind, struct pml_netns_scan *ret_scan);

#endif
