/* The libkmod backend, read-only, against the real guest module tree (the host kernel has
 * no module support): alias resolution, load plans with softdeps (PML_LOAD_DRY_RUN |
 * PML_LOAD_PLAN_ALL), and the cost of a request that resolves to no module. Skipped (with
 * a note) when the kernel tree has not been fetched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/loader.h"
#include "loader/modinfo.h"
#include "loader/netdev-use.h"
#include "unit.h"
#include "util/timeutil.h"
#include "vm/paths.h"

static int pos(const struct pml_op_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->mods[i].name, name))
			return (int)i;
	return -1;
}

static void print_plan(const char *what, const struct pml_op_result *r)
{
	printf("  plan %s:", what);
	for (size_t i = 0; i < r->n; i++)
		printf(" %s%s", r->mods[i].name, r->mods[i].soft ? "(soft)" : "");
	printf("  [%.3f ms]\n", r->total_ms);
}

/* pml_modinfo_each's callbacks for the test: collect rtnl-link aliases; stop at one. */
static int count_rtnl(void *data, const char *v)
{
	*(int *)data += !strncmp(v, "rtnl-link-", 10);
	return 0;
}

static int stop_at_vxlan(void *data, const char *v)
{
	(void)data;
	return strcmp(v, "rtnl-link-vxlan") ? 0 : 7;
}

/* .modinfo read from the ELF: real modules, and files that are not modules. */
static void test_modinfo(const char *moddir)
{
	char path[4300], bad[] = "/tmp/pml-test-modinfo-XXXXXX", link[64];
	unsigned char elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
	int n = 0, fd;

	snprintf(path, sizeof(path), "%s/kernel/drivers/net/vxlan/vxlan.ko", moddir);
	if (access(path, F_OK) < 0)
		snprintf(path, sizeof(path), "%s/kernel/drivers/net/vxlan.ko", moddir);
	CHECK(pml_modinfo_each(path, "alias", count_rtnl, &n) == 0);
	CHECK(n == 1);
	CHECK(pml_modinfo_each(path, "alias", stop_at_vxlan, NULL) == 7);
	n = 0;
	CHECK(pml_modinfo_each(path, "license", count_rtnl, &n) == 0 && n == 0);
	CHECK(pml_modinfo_each("/nonexistent.ko", "alias", count_rtnl, &n) == -ENOENT);
	fd = mkstemp(bad);
	CHECK(fd >= 0);
	CHECK(write(fd, "not an ELF file at all, just text", 33) == 33);
	CHECK(pml_modinfo_each(bad, "alias", count_rtnl, &n) == -EBADMSG);
	/* an ELF header whose section table lies beyond the file */
	elf[0x3a] = 64; /* e_shentsize */
	elf[0x3c] = 3;	/* e_shnum */
	elf[0x28] = 0xff; /* e_shoff */
	elf[0x2f] = 0x7f;
	CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, elf, sizeof(elf), 0) == sizeof(elf));
	CHECK(pml_modinfo_each(bad, "alias", count_rtnl, &n) == -EBADMSG);
	close(fd);
	snprintf(link, sizeof(link), "%s.lnk", bad);
	CHECK(symlink(path, link) == 0);
	CHECK(pml_modinfo_each(link, "alias", count_rtnl, &n) == -ELOOP);
	unlink(link);
	unlink(bad);
}

int main(void)
{
	const unsigned plan = PML_LOAD_DRY_RUN | PML_LOAD_PLAN_ALL;
	struct pml_loader *ld = NULL;
	struct pml_op_result r;
	char moddir[4096], names[8][64];
	uint64_t t0;
	double us, us_hit;
	int n, N = 2000;

	CHECK(pml_loader_new_kmod("/nonexistent/lib/modules/x", &ld) == -ENOENT);
	/* network interfaces as module users: this namespace's links by kind (the host has
	 * no interface of a made-up kind; a bad kind is refused) */
	CHECK(pml_netdev_kind_count("") == -EINVAL);
	n = pml_netdev_kind_count("pml-no-such-kind");
	CHECK(n == 0 || n == -EPERM || n == -EACCES || n == -EAFNOSUPPORT);
	if (n < 0)
		printf("  note: no rtnetlink here (%s): interfaces count as users\n", strerror(-n));
	CHECK(pml_netdev_kind_count("pml-no-such-kind") == n); /* a dump ends cleanly */
	if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0) {
		printf("  skipped: no guest kernel tree (run the kernel fetch first)\n");
		return unit_done("loader-kmod");
	}
	t0 = pml_now_ns();
	CHECK(pml_loader_new_kmod(moddir, &ld) == 0);
	if (!ld)
		return unit_done("loader-kmod");
	printf("  context + indexes: %.2f ms\n", pml_ns_to_ms(pml_now_ns() - t0));
	CHECK_STR(pml_loader_backend(ld), "kmod");

	CHECK(pml_loader_resolve(ld, "net-pf-10-proto-132", names, 8) == 1);
	CHECK_STR(names[0], "sctp");
	CHECK(pml_loader_resolve(ld, "fs-vfat", names, 8) == 1);
	CHECK_STR(names[0], "vfat");
	CHECK(pml_loader_resolve(ld, "block-major-7-0", names, 8) == 1);
	CHECK_STR(names[0], "loop");
	CHECK(pml_loader_resolve(ld, "crc32c", names, 8) == 2);

	/* sctp: its deps, and libcrc32c's softdep crc32c before libcrc32c. */
	CHECK(pml_loader_load(ld, "net-pf-10-proto-132", plan, &r) == 0);
	print_plan("sctp", &r);
	CHECK(pos(&r, "sctp") == (int)r.n - 1);
	CHECK(pos(&r, "libcrc32c") >= 0 && pos(&r, "udp_tunnel") >= 0 &&
	      pos(&r, "ip6_udp_tunnel") >= 0);
	CHECK(pos(&r, "crc32c_generic") >= 0 && pos(&r, "crc32c_generic") < pos(&r, "libcrc32c"));
	CHECK(pos(&r, "crc32c_intel") >= 0 && pos(&r, "crc32c_intel") < pos(&r, "libcrc32c"));
	CHECK(r.n == 6);
	for (size_t i = 0; i < r.n; i++)
		CHECK(r.mods[i].done); /* would be inserted */
	CHECK(pml_loader_load(ld, "sctp", plan | PML_LOAD_IGNORE_SOFTDEPS, &r) == 0);
	CHECK(r.n == 4);

	CHECK(pml_loader_load(ld, "fs-btrfs", plan, &r) == 0);
	print_plan("btrfs", &r);
	CHECK(pos(&r, "btrfs") == (int)r.n - 1);
	CHECK(pos(&r, "raid6_pq") >= 0 && pos(&r, "xor") >= 0 && pos(&r, "zstd_compress") >= 0);
	CHECK(pos(&r, "crc32c_generic") >= 0);
	CHECK(pml_loader_load(ld, "fs-vfat", plan, &r) == 0);
	print_plan("vfat", &r);
	CHECK(pos(&r, "fat") == 0 && pos(&r, "vfat") == 1);

	/* netdev-foo: resolves to nothing, answered from the in-memory index. */
	CHECK(pml_loader_resolve(ld, "netdev-foo", names, 8) == 0);
	CHECK(pml_loader_load(ld, "netdev-foo", 0, &r) == -ENOENT && r.n == 0);
	t0 = pml_now_ns();
	for (int i = 0; i < N; i++)
		n = pml_loader_resolve(ld, "netdev-foo", names, 8);
	us = pml_ns_to_ms(pml_now_ns() - t0) * 1000 / N;
	t0 = pml_now_ns();
	for (int i = 0; i < N; i++)
		n = pml_loader_resolve(ld, "net-pf-10-proto-132", names, 8);
	us_hit = pml_ns_to_ms(pml_now_ns() - t0) * 1000 / N;
	printf("  resolve: no-module %.2f us, sctp alias %.2f us (mean of %d)\n", us, us_hit, N);
	CHECK(n == 1);
	CHECK(us < 500); /* generous: a machine under load; measured a few us */

	/* pmld's load worker: the index files read per look-up, not mapped; the same plans */
	{
		static const char *const asked[] = {"net-pf-10-proto-132", "fs-btrfs", "fs-vfat"};
		struct pml_loader *ld2 = NULL;
		struct pml_op_result r2;

		CHECK(pml_loader_new_kmod_flags("/nonexistent/lib/modules/x",
						PML_LOADER_KMOD_FILE_INDEXES, &ld2) == -ENOENT);
		CHECK(pml_loader_new_kmod_flags(moddir, PML_LOADER_KMOD_FILE_INDEXES, &ld2) == 0);
		for (size_t i = 0; ld2 && i < sizeof(asked) / sizeof(asked[0]); i++) {
			CHECK(pml_loader_load(ld, asked[i], plan, &r) == 0);
			CHECK(pml_loader_load(ld2, asked[i], plan, &r2) == 0);
			CHECK(r.n == r2.n && r.n > 0);
			for (size_t k = 0; k < r.n && k < r2.n; k++)
				CHECK_STR(r.mods[k].name, r2.mods[k].name);
		}
		CHECK(ld2 && pml_loader_resolve(ld2, "block-major-7-0", names, 8) == 1);
		CHECK_STR(names[0], "loop");
		pml_loader_free(ld2);
	}

	pml_loader_free(ld);
	test_modinfo(moddir);
	return unit_done("loader-kmod");
}
