/* Objects that do not pin their module.
 *
 * Most of what a module provides holds a reference to it while it exists: a socket its
 * family, a mount its file system, a qdisc its ops, a configured loop device the loop
 * driver; refcount 0 then means "unused", and the kernel refuses to remove a module in
 * use. Some objects hold none, and the kernel lets the module go with them still there,
 * taking them along. Looked for in the pinned kernel (which modules register such
 * objects, from the symbols they import) and tried in the guest (refcounts in
 * /proc/modules with the object made, then the removal):
 *  - a kind of network interface (veth, bridge, vxlan, dummy ...: an rtnl-link-KIND
 *    alias, or tun, openvswitch, wwan): every interface of the kind, in every network
 *    namespace, is deleted (netdev-use.c). Looked for: kept while one exists anywhere.
 *  - nf_tables: a table alone (a chain, set or rule in it pins the module) is dropped
 *    (nft-use.c). Looked for: kept while a table exists in any namespace.
 *  - a disk driver (imports device_add_disk): brd's ram disks and a zram device given a
 *    size hold data at refcount 0 (seen: rmmod zram succeeds after `disksize`, and the
 *    data is gone). Looked for: kept while a disk of its block major has a size above 0
 *    (an unconfigured loop or zram device has none; a loop device in use pins loop).
 *  - a key type (imports register_key_type: dns_resolver, rxrpc, cifs, nfsv4, libceph):
 *    its keys are destroyed. Not looked for: /proc/keys shows only the keys the reader
 *    may view; kept.
 *  - a conntrack helper (nf_conntrack_ftp, _sip, ...: imports
 *    nf_conntrack_helper(s)_register): connections it helps lose it (refcount 0 seen).
 *    Not looked for (connections come and go by the packet); kept.
 *  - another nfnetlink subsystem (nfnetlink_queue, _log, _acct, _cttimeout, ...):
 *    bound queues, log groups, accounting objects, timeout policies go (nfnetlink_queue
 *    at refcount 0 seen). Not looked for; kept.
 *  - an x_tables table (iptable_filter, ebtable_nat, ...): rules beyond the initial ones
 *    pin the module (ip_tables takes a reference for them), a chain's policy (`-P INPUT
 *    DROP`) does not, and a dropped policy opens a firewall. Not looked for; kept.
 *  - UDP sockets the module opens in the kernel for encapsulation (imports
 *    setup_udp_tunnel_sock: fou, l2tp_core, tipc; vxlan and geneve are interface kinds
 *    first): `ip fou add port 5555 ipproto 4` makes a port that pins nothing, and idle
 *    unload of fou broke a job's FOU tunnel under it (seen live: its pings failed). Not
 *    looked for; kept.
 * A module of no class is removed at refcount 0 as before. A module of a class that is
 * not looked for is never removed by pml (-EPERM: "cannot tell" keeps the module, as the
 * namespace look does). The list is what was found, not a proof that nothing else
 * exists: a class found later belongs here, with its test. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/modinfo.h"
#include "loader/netdev-use.h"
#include "loader/nft-use.h"
#include "loader/unpinned.h"
#include "util/log.h"

#define MAJORS_MAX 16

static const char *const class_names[PML_UNPINNED_N] = {
    [PML_UNPINNED_NONE] = "none",	     [PML_UNPINNED_NETDEV] = "netdev",
    [PML_UNPINNED_NFT] = "nf_tables",	     [PML_UNPINNED_DISK] = "disk",
    [PML_UNPINNED_KEY_TYPE] = "key-type",    [PML_UNPINNED_CT_HELPER] = "conntrack-helper",
    [PML_UNPINNED_NFNL] = "nfnetlink",	     [PML_UNPINNED_XT_TABLE] = "xtables-table",
    [PML_UNPINNED_UDP_TUNNEL] = "udp-tunnel",
};

const char *pml_unpinned_class_name(enum pml_unpinned_class c)
{
	return c >= 0 && c < PML_UNPINNED_N ? class_names[c] : "?";
}

/* Modules that register a kind of network interface without an rtnl-link alias (their
 * import of rtnl_link_register in the 6.1 tree): the kind IFLA_INFO_KIND says. A
 * persistent tun device, an openvswitch datapath's port, a wwan link. */
static const char *const kind_table[][2] = {
    {"tun", "tun"},
    {"openvswitch", "openvswitch"},
    {"wwan", "wwan"},
};

/* The imports that put a module in a class, in the order they are tried. */
static const struct {
	const char *sym;
	enum pml_unpinned_class cls;
} import_table[] = {
    {"device_add_disk", PML_UNPINNED_DISK},
    {"register_key_type", PML_UNPINNED_KEY_TYPE},
    {"nf_conntrack_helper_register", PML_UNPINNED_CT_HELPER},
    {"nf_conntrack_helpers_register", PML_UNPINNED_CT_HELPER},
    {"nfnetlink_subsys_register", PML_UNPINNED_NFNL},
    {"ipt_register_table", PML_UNPINNED_XT_TABLE},
    {"ip6t_register_table", PML_UNPINNED_XT_TABLE},
    {"arpt_register_table", PML_UNPINNED_XT_TABLE},
    {"ebt_register_table", PML_UNPINNED_XT_TABLE},
    {"setup_udp_tunnel_sock", PML_UNPINNED_UDP_TUNNEL},
};
#define N_IMPORTS (sizeof(import_table) / sizeof(import_table[0]))

/* Disk drivers whose block major is not named as the module: /proc/devices names. */
static const char *const major_table[][3] = {
    {"brd", "ramdisk", NULL},
    {"dm_mod", "device-mapper", NULL},
    {"md_mod", "md", "mdp"},
    {"null_blk", "nullb", NULL},
    {"virtio_blk", "virtblk", NULL},
};

#define KINDS_MAX 8

/* The interface kinds of a module: ip6_gre provides ip6gre, ip6gretap and ip6erspan. */
struct kinds {
	char v[KINDS_MAX][32];
	int n;
};

/* pml_modinfo_each's callback: each rtnl-link-KIND alias's kind into data. */
static int alias_kind(void *data, const char *alias)
{
	struct kinds *k = data;

	if (strncmp(alias, "rtnl-link-", 10) || !alias[10] || k->n == KINDS_MAX)
		return 0;
	snprintf(k->v[k->n++], sizeof(k->v[0]), "%s", alias + 10);
	return 0;
}

/* The interface kinds module name provides, into k: true when one or more. */
static bool netdev_kinds(const char *name, const char *path, struct kinds *k)
{
	k->n = 0;
	for (size_t i = 0; i < sizeof(kind_table) / sizeof(kind_table[0]); i++)
		if (!strcmp(name, kind_table[i][0]))
			snprintf(k->v[k->n++], sizeof(k->v[0]), "%s", kind_table[i][1]);
	/* The aliases from the file's .modinfo (not kmod_module_get_info: it also parses
	 * the signature through OpenSSL, ~1.5 MiB of libcrypto's pages in pmld's RSS). */
	if (path)
		pml_modinfo_each(path, "alias", alias_kind, k);
	return k->n > 0;
}

int pml_unpinned_netdev_kinds(const char *name, const char *path, char (*kinds)[32],
			      int max)
{
	struct kinds k;
	int n = 0;

	netdev_kinds(name, path, &k);
	for (; n < k.n && n < max; n++)
		memcpy(kinds[n], k.v[n], sizeof(kinds[n]));
	return n;
}

/* The class of module name (file path), and into k its interface kinds: one read of
 * .modinfo, one of .symtab when it has none. */
static enum pml_unpinned_class classify(const char *name, const char *path, struct kinds *k)
{
	const char *syms[N_IMPORTS];
	bool found[N_IMPORTS];

	if (netdev_kinds(name, path, k))
		return PML_UNPINNED_NETDEV;
	if (!strcmp(name, "nf_tables"))
		return PML_UNPINNED_NFT;
	if (!path)
		return PML_UNPINNED_NONE;
	for (size_t i = 0; i < N_IMPORTS; i++)
		syms[i] = import_table[i].sym;
	if (pml_modfile_imports(path, syms, N_IMPORTS, found) <= 0)
		return PML_UNPINNED_NONE;
	for (size_t i = 0; i < N_IMPORTS; i++)
		if (found[i])
			return import_table[i].cls;
	return PML_UNPINNED_NONE;
}

enum pml_unpinned_class pml_unpinned_class_of(const char *name, const char *path)
{
	struct kinds k;

	return classify(name, path, &k);
}

/* /proc/devices' block section: the majors named names[0..n) into majors. The count. */
static int block_majors(FILE *f, const char *const *names, size_t n, unsigned *majors)
{
	char line[128], dev[64];
	bool block = false;
	unsigned maj;
	int k = 0;

	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Block devices:", 14)) {
			block = true;
			continue;
		}
		if (!block || sscanf(line, "%u %63s", &maj, dev) != 2)
			continue;
		for (size_t i = 0; i < n && k < MAJORS_MAX; i++)
			if (!strcmp(dev, names[i]))
				majors[k++] = maj;
	}
	return k;
}

/* The first line of root/sys/block/disk/file into buf: 0 or -errno. */
static int read_sys(const char *root, const char *disk, const char *file, char *buf,
		    size_t size)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/block/%s/%s", root, disk, file);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	return 0;
}

int pml_disks_with_size(const char *root, const char *const *names, size_t n)
{
	unsigned majors[MAJORS_MAX];
	char path[512], buf[64];
	struct dirent *de;
	int n_maj, count = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/devices", root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n_maj = block_majors(f, names, n, majors);
	fclose(f);
	if (!n_maj)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/sys/block", root);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned maj, min;
		unsigned long long sectors;
		bool ours = false;

		if (de->d_name[0] == '.' || read_sys(root, de->d_name, "dev", buf, sizeof(buf)) ||
		    sscanf(buf, "%u:%u", &maj, &min) != 2)
			continue;
		for (int i = 0; i < n_maj; i++)
			ours |= majors[i] == maj;
		if (!ours)
			continue;
		/* a disk of ours whose size cannot be read counts as one with data */
		if (read_sys(root, de->d_name, "size", buf, sizeof(buf)) ||
		    sscanf(buf, "%llu", &sectors) != 1 || sectors > 0)
			count++;
	}
	closedir(d);
	return count;
}

/* The block major names of disk driver name, into names (up to 2): the count. */
static size_t disk_majors(const char *name, const char **names)
{
	for (size_t i = 0; i < sizeof(major_table) / sizeof(major_table[0]); i++)
		if (!strcmp(name, major_table[i][0])) {
			names[0] = major_table[i][1];
			names[1] = major_table[i][2];
			return names[1] ? 2 : 1;
		}
	names[0] = name; /* zram, nbd, loop, drbd, rbd ... */
	return 1;
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t size,
							 const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

int pml_unpinned_check(const char *name, const char *path, char *why, size_t size)
{
	struct kinds k;
	enum pml_unpinned_class c = classify(name, path, &k);
	struct pml_netns_scan sc;
	const char *majors[2];
	int r;

	say(why, size, "%s", "");
	switch (c) {
	case PML_UNPINNED_NONE:
		return 0;
	case PML_UNPINNED_NETDEV:
		/* every kind it provides: an interface of any of them keeps it */
		for (int i = 0; i < k.n; i++) {
			if (!pml_netdev_kind_in_use(k.v[i], &sc))
				continue;
			pml_dbg("%s: interfaces of kind %s: %u seen in %u of %u network namespaces "
				"(%u recent, %u not looked into), %.2f ms",
				name, k.v[i], sc.count, sc.entered, sc.namespaces, sc.cached,
				sc.unknown, sc.ms);
			say(why, size,
			    "interfaces of kind %s may exist (%u seen, %u namespaces not looked into)",
			    k.v[i], sc.count, sc.unknown);
			return sc.count || sc.cached ? -EBUSY : -EPERM;
		}
		return 0;
	case PML_UNPINNED_NFT:
		if (!pml_nft_tables_in_use(&sc))
			return 0;
		say(why, size, "nf_tables tables may exist (%u seen, %u namespaces not looked into)",
		    sc.count, sc.unknown);
		return sc.count || sc.cached ? -EBUSY : -EPERM;
	case PML_UNPINNED_DISK:
		r = pml_disks_with_size("", majors, disk_majors(name, majors));
		if (!r)
			return 0;
		if (r > 0) {
			say(why, size, "%d %s disks with a size", r, name);
			return -EBUSY;
		}
		say(why, size, "%s: its disks cannot be looked at (%s)", name, strerror(-r));
		return -EPERM;
	default:
		say(why, size, "%s: objects that do not pin it cannot be looked for",
		    pml_unpinned_class_name(c));
		return -EPERM;
	}
}
