/* Objects that do not pin their module (loader/unpinned.h, modinfo.h's imports).
 *
 * The classes over the pinned kernel's every module, from their aliases and imports:
 * known members of each class (veth, nf_tables, zram, dns_resolver, nf_conntrack_ftp,
 * nfnetlink_queue, iptable_filter) and modules whose objects pin them (sctp, vfat,
 * sch_htb) in none; the import reader on real modules and on files that are not modules;
 * the disk look on a made-up /proc and /sys (a ram disk with a size, an unconfigured zram
 * device, a driver with no major). Skipped (with a note) without the kernel tree. In the
 * guest, tests/guest/run (boot 2) makes the objects and checks pml keeps their modules. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/modinfo.h"
#include "loader/unpinned.h"
#include "unit.h"
#include "vm/paths.h"

/* What the walk of the module tree found. */
static struct {
	unsigned n[PML_UNPINNED_N], total;
	char path[40][4300]; /* of the modules in want[] */
} seen;

static const struct {
	const char *name;
	enum pml_unpinned_class cls;
} want[] = {
    {"veth", PML_UNPINNED_NETDEV},
    {"bridge", PML_UNPINNED_NETDEV},
    {"tun", PML_UNPINNED_NETDEV},
    {"vcan", PML_UNPINNED_NETDEV},
    {"nf_tables", PML_UNPINNED_NFT},
    {"zram", PML_UNPINNED_DISK},
    {"brd", PML_UNPINNED_DISK},
    {"loop", PML_UNPINNED_DISK},
    {"dm_mod", PML_UNPINNED_DISK},
    {"dns_resolver", PML_UNPINNED_KEY_TYPE},
    {"nf_conntrack_ftp", PML_UNPINNED_CT_HELPER},
    {"nf_conntrack_sip", PML_UNPINNED_CT_HELPER},
    {"nfnetlink_queue", PML_UNPINNED_NFNL},
    {"nfnetlink_log", PML_UNPINNED_NFNL},
    {"iptable_filter", PML_UNPINNED_XT_TABLE},
    {"ebtable_nat", PML_UNPINNED_XT_TABLE},
    /* sctp's UDP encapsulation socket; its own control sockets pin it anyway */
    {"sctp", PML_UNPINNED_UDP_TUNNEL},
    {"fou", PML_UNPINNED_UDP_TUNNEL},
    {"l2tp_core", PML_UNPINNED_UDP_TUNNEL},
    {"ip6_gre", PML_UNPINNED_NETDEV},
    {"vfat", PML_UNPINNED_NONE},
    {"sch_htb", PML_UNPINNED_NONE},
    {"nft_ct", PML_UNPINNED_NONE},
    {"xt_conntrack", PML_UNPINNED_NONE},
};
#define N_WANT (sizeof(want) / sizeof(want[0]))

/* The module name of a .ko path ("-" as "_"), into name; false for another file. */
static bool ko_name(const char *path, char *name, size_t size)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n < 4 || strcmp(b + n - 3, ".ko") || n - 3 >= size)
		return false;
	for (size_t i = 0; i < n - 3; i++)
		name[i] = b[i] == '-' ? '_' : b[i];
	name[n - 3] = '\0';
	return true;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	char name[64];
	enum pml_unpinned_class c;

	(void)st;
	(void)f;
	if (type != FTW_F || !ko_name(path, name, sizeof(name)))
		return 0;
	c = pml_unpinned_class_of(name, path);
	seen.n[c]++;
	seen.total++;
	for (size_t i = 0; i < N_WANT; i++)
		if (!strcmp(name, want[i].name)) {
			snprintf(seen.path[i], sizeof(seen.path[i]), "%s", path);
			if (c != want[i].cls)
				printf("  %s: class %s, want %s\n", name, pml_unpinned_class_name(c),
				       pml_unpinned_class_name(want[i].cls));
			CHECK(c == want[i].cls);
		}
	return 0;
}

/* Every kind of a module of several: ip6_gre's interfaces are ip6gre, ip6gretap or
 * ip6erspan, and one of any keeps it (the check once looked at the first alias only, and
 * an idle unload took ip6_gre from under a job's ip6gre tunnels). */
static void test_kinds(void)
{
	char kinds[8][32];
	size_t at = 0;
	int n;
	bool gre = false, tap = false, erspan = false;

	for (size_t i = 0; i < N_WANT; i++)
		at = !strcmp(want[i].name, "ip6_gre") ? i : at;
	n = pml_unpinned_netdev_kinds("ip6_gre", seen.path[at], kinds, 8);
	for (int i = 0; i < n; i++) {
		gre |= !strcmp(kinds[i], "ip6gre");
		tap |= !strcmp(kinds[i], "ip6gretap");
		erspan |= !strcmp(kinds[i], "ip6erspan");
	}
	CHECK(n >= 3 && gre && tap && erspan);
	CHECK(pml_unpinned_netdev_kinds("tun", NULL, kinds, 8) == 1);
	CHECK_STR(kinds[0], "tun");
	CHECK(pml_unpinned_netdev_kinds("vfat", NULL, kinds, 8) == 0);
}

static void test_imports(void)
{
	const char *syms[] = {"rtnl_link_register", "register_key_type", "no_such_symbol"};
	char bad[] = "/tmp/pml-test-imports-XXXXXX", link[64];
	bool found[3];
	size_t veth = 0, ftp = 0;
	int fd;

	for (size_t i = 0; i < N_WANT; i++) {
		veth = !strcmp(want[i].name, "veth") ? i : veth;
		ftp = !strcmp(want[i].name, "nf_conntrack_ftp") ? i : ftp;
	}
	CHECK(pml_modfile_imports(seen.path[veth], syms, 3, found) == 1);
	CHECK(found[0] && !found[1] && !found[2]);
	CHECK(pml_modfile_imports(seen.path[ftp], syms, 3, found) == 0);
	CHECK(!found[0] && !found[1] && !found[2]);
	CHECK(pml_modfile_imports("/nonexistent.ko", syms, 3, found) == -ENOENT);
	fd = mkstemp(bad);
	CHECK(fd >= 0);
	CHECK(write(fd, "\177ELF not really", 15) == 15);
	close(fd);
	CHECK(pml_modfile_imports(bad, syms, 3, found) == -EBADMSG);
	CHECK(pml_unpinned_class_of("pml_not_a_module", bad) == PML_UNPINNED_NONE);
	snprintf(link, sizeof(link), "%s.lnk", bad);
	CHECK(symlink(seen.path[veth], link) == 0);
	CHECK(pml_modfile_imports(link, syms, 3, found) == -ELOOP);
	unlink(link);
	unlink(bad);
}

/* root/rel with text in it (parents made). */
static void put(const char *root, const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_disks(void)
{
	char root[] = "/tmp/pml-test-disks-XXXXXX", cmd[128];
	const char *ram[] = {"ramdisk"}, *zram[] = {"zram"}, *nbd[] = {"nbd"};

	CHECK(mkdtemp(root) != NULL);
	put(root, "proc/devices", "Character devices:\n  1 mem\n252 zram\n\nBlock devices:\n"
				  "  1 ramdisk\n  7 loop\n252 zram\n254 virtblk\n");
	put(root, "sys/block/ram0/dev", "1:0\n");
	put(root, "sys/block/ram0/size", "8192\n");
	put(root, "sys/block/zram0/dev", "252:0\n");
	put(root, "sys/block/zram0/size", "0\n");
	put(root, "sys/block/vda/dev", "254:0\n");
	put(root, "sys/block/vda/size", "4096\n");
	CHECK(pml_disks_with_size(root, ram, 1) == 1);
	CHECK(pml_disks_with_size(root, zram, 1) == 0); /* unconfigured: no data */
	CHECK(pml_disks_with_size(root, nbd, 1) == -ENOENT);
	put(root, "sys/block/zram0/size", "2048\n"); /* `echo 1M > disksize` */
	CHECK(pml_disks_with_size(root, zram, 1) == 1);
	put(root, "sys/block/zram1/dev", "252:1\n"); /* its size unreadable: kept */
	CHECK(pml_disks_with_size(root, zram, 1) == 2);
	/* a major named in the character section only is not a disk driver's */
	put(root, "proc/devices", "Character devices:\n252 zram\n\nBlock devices:\n  1 ramdisk\n");
	CHECK(pml_disks_with_size(root, zram, 1) == -ENOENT);
	CHECK(pml_disks_with_size("/nonexistent", ram, 1) == -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

/* The check's answers that need no kernel object: no class removes; a class that is not
 * looked for keeps, in words. */
static void test_check(void)
{
	char why[160];

	for (size_t i = 0; i < N_WANT; i++) {
		int r;

		if (!seen.path[i][0])
			continue;
		if (want[i].cls == PML_UNPINNED_NONE) {
			CHECK(pml_unpinned_check(want[i].name, seen.path[i], why, sizeof(why)) == 0);
		} else if (want[i].cls >= PML_UNPINNED_KEY_TYPE) {
			r = pml_unpinned_check(want[i].name, seen.path[i], why, sizeof(why));
			CHECK(r == -EPERM && strstr(why, pml_unpinned_class_name(want[i].cls)));
		}
	}
}

int main(void)
{
	char moddir[4096];

	test_disks();
	if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0) {
		printf("  skipped: no guest kernel tree (run the kernel fetch first)\n");
		return unit_done("unpinned");
	}
	CHECK(nftw(moddir, visit, 32, FTW_PHYS) == 0);
	for (size_t i = 0; i < N_WANT; i++)
		if (!seen.path[i][0]) {
			printf("  %s: not in the module tree\n", want[i].name);
			CHECK(false);
		}
	printf("  %u modules:", seen.total);
	for (int c = 0; c < PML_UNPINNED_N; c++)
		printf(" %s %u%s", pml_unpinned_class_name(c), seen.n[c],
		       c + 1 < PML_UNPINNED_N ? "," : "\n");
	CHECK(seen.total > 3000);
	CHECK(seen.n[PML_UNPINNED_NETDEV] >= 30 && seen.n[PML_UNPINNED_DISK] >= 20);
	test_imports();
	test_kinds();
	test_check();
	return unit_done("unpinned");
}
