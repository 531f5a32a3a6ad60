/* Objects that do not pin their module: why refcount 0 is not "unused" for some modules,
 * and the check pml makes before it removes one (see unpinned.c). Internal to
 * src/loader/. */
#ifndef PML_LOADER_UNPINNED_H
#define PML_LOADER_UNPINNED_H

#include <stdbool.h>
#include <stddef.h>

/* The classes: modules whose objects live on at refcount 0, and go with the module. */
enum pml_unpinned_class {
	PML_UNPINNED_NONE,	/* its objects pin it, or it has none */
	PML_UNPINNED_NETDEV,	/* a kind of network interface (rtnl-link-KIND alias) */
	PML_UNPINNED_NFT,	/* nf_tables: an empty table */
	PML_UNPINNED_DISK,	/* disks (device_add_disk): a ram disk, a zram device */
	PML_UNPINNED_KEY_TYPE,	/* a key type: keys of it */
	PML_UNPINNED_CT_HELPER, /* a conntrack helper: connections it helps */
	PML_UNPINNED_NFNL,	/* another nfnetlink subsystem: queues, log groups, timeouts */
	PML_UNPINNED_XT_TABLE,	/* an x_tables table: its chains' policies */
	PML_UNPINNED_UDP_TUNNEL, /* UDP sockets it opens in the kernel: FOU/GUE ports, L2TP */
	PML_UNPINNED_N,
};

/* The interface kinds (IFLA_INFO_KIND) module name provides: its rtnl-link-KIND aliases
 * (from the file at path, may be NULL) and the few without one (tun). Up to max into
 * kinds; returns how many. */
int pml_unpinned_netdev_kinds(const char *name, const char *path, char (*kinds)[32],
			      int max);

/* The class's name ("netdev", "key-type" ...). */
const char *pml_unpinned_class_name(enum pml_unpinned_class c);

/* The class of module name whose file is at path (may be NULL: then by name only), from
 * its aliases and the symbols it imports. An unreadable file is class NONE. */
enum pml_unpinned_class pml_unpinned_class_of(const char *name, const char *path);

/* Whether module name (file path) may still have users its refcount does not count.
 * Returns 0 when none can exist (it may be removed), -EBUSY when some were seen (an
 * interface of its kind, a table, a disk with a size), -EPERM when pml cannot tell (the
 * class gives no way to look: keys, helped connections; or a look that failed): the
 * module is kept. why (size bytes, may be NULL) says which, in words. */
int pml_unpinned_check(const char *name, const char *path, char *why, size_t size);

/* Disks of the block majors named names[0..n) (their /proc/devices names: "ramdisk",
 * "zram") with a size above 0, under root ("" for the system: root/proc/devices,
 * root/sys/block/DISK/{dev,size}): the count, or -ENOENT when no such major is
 * registered, -errno when the files cannot be read. */
int pml_disks_with_size(const char *root, const char *const *names, size_t n);

#endif
