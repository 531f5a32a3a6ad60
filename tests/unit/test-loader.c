/* The loader's planning, load, unload and keep-set logic over the in-memory kernel
 * (tests/fixtures/loader/tree.txt: a slice of the real 6.1 tree). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "unit.h"

static char *read_fixture(const char *name)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/loader/%s", dir ? dir : "tests/fixtures", name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static bool is_loaded(struct pml_loader *ld, const char *name)
{
	struct pml_loaded mods[64];
	int n = pml_loader_list_loaded(ld, mods, 64);

	for (int i = 0; i < n && i < 64; i++)
		if (!strcmp(mods[i].name, name))
			return true;
	return false;
}

static const struct pml_mod_op *find_op(const struct pml_op_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->mods[i].name, name))
			return &r->mods[i];
	return NULL;
}

static struct pml_loader *fixture_loader(const char *tree, const char *extra)
{
	size_t len = strlen(tree) + (extra ? strlen(extra) : 0) + 2;
	char *text = calloc(1, len);
	struct pml_loader *ld = NULL;

	snprintf(text, len, "%s\n%s", tree, extra ? extra : "");
	if (pml_loader_new_memory(text, &ld) < 0)
		ld = NULL;
	free(text);
	return ld;
}

static void test_load_sctp(const char *tree)
{
	struct pml_loader *ld = fixture_loader(tree, NULL);
	struct pml_op_result r;
	static const char *const order[] = {"crc32c_intel",   "crc32c_generic", "libcrc32c",
					    "udp_tunnel",     "ip6_udp_tunnel", "sctp"};
	const struct pml_mod_op *op;

	CHECK(ld != NULL);
	if (!ld)
		return;
	CHECK_STR(pml_loader_backend(ld), "memory");
	/* Deps first, softdep pre before the module that wants it (libcrc32c: crc32c). */
	CHECK(pml_loader_load(ld, "net-pf-10-proto-132", 0, &r) == 0);
	CHECK(r.n == 6);
	for (size_t i = 0; i < 6 && i < r.n; i++) {
		CHECK_STR(r.mods[i].name, order[i]);
		CHECK(r.mods[i].done);
		CHECK(r.mods[i].err == 0);
		CHECK(r.mods[i].ms >= 0);
	}
	CHECK(r.mods[0].soft && r.mods[1].soft && !r.mods[2].soft && !r.mods[5].soft);
	CHECK((op = find_op(&r, "sctp")) && op->bytes == 434176);
	CHECK(r.total_ms >= 0);
	CHECK(is_loaded(ld, "sctp") && is_loaded(ld, "crc32c_generic"));

	/* Already loaded: success, nothing done. */
	CHECK(pml_loader_load(ld, "sctp", 0, &r) == 0);
	CHECK(r.n == 6);
	for (size_t i = 0; i < r.n; i++)
		CHECK(!r.mods[i].done);

	/* Holders count in the refcount, as the kernel's ref_module does. */
	CHECK(pml_loader_refcnt(ld, "libcrc32c") == 1);
	CHECK(pml_loader_refcnt(ld, "sctp") == 0);
	CHECK(pml_loader_refcnt(ld, "loop") == -ENOENT);

	/* Refused while held or used; nothing removed. */
	CHECK(pml_loader_unload(ld, "libcrc32c", 0, &r) == -EBUSY);
	CHECK(pml_loader_memory_set_refcnt(ld, "sctp", 1) == 0);
	CHECK(pml_loader_refcnt(ld, "sctp") == 1);
	CHECK(pml_loader_unload(ld, "sctp", PML_UNLOAD_DEPS, &r) == -EBUSY);
	CHECK(is_loaded(ld, "sctp"));
	CHECK(pml_loader_memory_set_refcnt(ld, "sctp", 0) == 0);

	/* Without PML_UNLOAD_DEPS only the module goes. */
	CHECK(pml_loader_unload(ld, "sctp", 0, &r) == 0);
	CHECK(r.n == 1 && r.mods[0].done && !strcmp(r.mods[0].name, "sctp"));
	CHECK(r.mods[0].bytes == 434176);
	CHECK(!is_loaded(ld, "sctp") && is_loaded(ld, "libcrc32c"));
	CHECK(pml_loader_unload(ld, "sctp", 0, &r) == -ENOENT);

	/* Reload: only sctp is inserted. */
	CHECK(pml_loader_load(ld, "net-pf-2-proto-132", 0, &r) == 0);
	CHECK((op = find_op(&r, "sctp")) && op->done);
	CHECK((op = find_op(&r, "libcrc32c")) && !op->done);

	/* With deps, keeping udp_tunnel: the rest goes, libcrc32c before crc32c. */
	CHECK(pml_loader_keep(ld, "udp-tunnel") == 0);
	CHECK(pml_loader_is_kept(ld, "udp_tunnel"));
	CHECK(pml_loader_unload(ld, "udp_tunnel", 0, &r) == -EPERM);
	CHECK(pml_loader_unload(ld, "sctp", PML_UNLOAD_DRY_RUN | PML_UNLOAD_DEPS, &r) == 0);
	/* A dry run cannot know that crc32c's users go with libcrc32c: it lists 3 of 5. */
	CHECK(r.n == 3 && is_loaded(ld, "sctp"));
	CHECK(pml_loader_unload(ld, "sctp", PML_UNLOAD_DEPS, &r) == 0);
	CHECK(r.n == 5);
	CHECK_STR(r.mods[0].name, "sctp");
	CHECK(find_op(&r, "ip6_udp_tunnel") && find_op(&r, "crc32c_intel"));
	CHECK(!find_op(&r, "udp_tunnel"));
	for (size_t i = 0; i < r.n; i++)
		CHECK(r.mods[i].done && r.mods[i].err == 0);
	CHECK(!is_loaded(ld, "libcrc32c") && !is_loaded(ld, "crc32c_generic"));
	CHECK(is_loaded(ld, "udp_tunnel") && is_loaded(ld, "virtio_blk"));
	pml_loader_free(ld);
}

static void test_shared_dep(const char *tree)
{
	struct pml_loader *ld = fixture_loader(tree, NULL);
	struct pml_op_result r;

	CHECK(ld != NULL);
	if (!ld)
		return;
	CHECK(pml_loader_load(ld, "sctp", 0, &r) == 0);
	CHECK(pml_loader_load(ld, "fs-btrfs", 0, &r) == 0);
	CHECK(find_op(&r, "raid6_pq") && find_op(&r, "raid6_pq")->done);
	CHECK(find_op(&r, "libcrc32c") && !find_op(&r, "libcrc32c")->done);
	CHECK(pml_loader_refcnt(ld, "libcrc32c") == 2);
	/* btrfs goes with its own deps; libcrc32c stays: sctp holds it. */
	CHECK(pml_loader_unload(ld, "btrfs", PML_UNLOAD_DEPS, &r) == 0);
	CHECK(find_op(&r, "xor") && find_op(&r, "zstd_compress"));
	CHECK(!find_op(&r, "libcrc32c"));
	CHECK(is_loaded(ld, "libcrc32c") && is_loaded(ld, "crc32c_generic"));
	CHECK(!is_loaded(ld, "raid6_pq"));
	pml_loader_free(ld);
}

static void test_failures(const char *tree)
{
	struct pml_loader *ld = fixture_loader(tree, "fail crc32c_intel 19\n");
	struct pml_op_result r;
	const struct pml_mod_op *op;

	CHECK(ld != NULL);
	if (!ld)
		return;
	/* A softdep failing (no SSE4.2: ENODEV) does not fail the load. */
	CHECK(pml_loader_load(ld, "sctp", 0, &r) == 0);
	CHECK((op = find_op(&r, "crc32c_intel")) && op->err == -ENODEV && !op->done && op->soft);
	CHECK((op = find_op(&r, "crc32c_generic")) && op->done);
	CHECK(is_loaded(ld, "sctp"));
	pml_loader_free(ld);

	ld = fixture_loader(tree, "fail udp_tunnel 12\n");
	CHECK(ld != NULL);
	if (!ld)
		return;
	/* A hard dependency failing stops the load; what was done is listed. */
	CHECK(pml_loader_load(ld, "sctp", 0, &r) == -ENOMEM);
	CHECK((op = find_op(&r, "libcrc32c")) && op->done);
	CHECK((op = find_op(&r, "udp_tunnel")) && op->err == -ENOMEM);
	CHECK(!find_op(&r, "sctp"));
	CHECK(!is_loaded(ld, "sctp") && is_loaded(ld, "libcrc32c"));
	pml_loader_free(ld);
}

static void test_misc(const char *tree)
{
	struct pml_loader *ld = fixture_loader(tree, "builtin crc32c_generic\n"
						     "cost loop 12.5 3\n"
						     "loaded tun 2\n");
	struct pml_op_result r;
	struct pml_loaded mods[8];
	char names[4][64];
	int n;

	CHECK(ld != NULL);
	if (!ld)
		return;
	/* Aliases resolving to nothing cost a lookup, no load. */
	CHECK(pml_loader_resolve(ld, "netdev-foo", names, 4) == 0);
	CHECK(pml_loader_load(ld, "netdev-foo", 0, &r) == -ENOENT);
	CHECK(r.n == 0);
	CHECK(pml_loader_load(ld, "", 0, &r) == -EINVAL);
	/* Globs in aliases; '-' and '_' the same in names. */
	CHECK(pml_loader_resolve(ld, "block-major-7-0", names, 4) == 1);
	CHECK_STR(names[0], "loop");
	CHECK(pml_loader_resolve(ld, "crc32c", names, 4) == 2);
	CHECK(pml_loader_resolve(ld, "ip6-udp-tunnel", names, 4) == 1);
	CHECK_STR(names[0], "ip6_udp_tunnel");
	/* Replay costs replace the measured time. */
	CHECK(pml_loader_load(ld, "char-major-10-237", 0, &r) == 0);
	CHECK(r.n == 1 && r.mods[0].done && r.mods[0].ms == 12.5);
	CHECK(pml_loader_unload(ld, "loop", 0, &r) == 0 && r.mods[0].ms == 3);
	/* Built in: present, not removable. */
	CHECK(pml_loader_load(ld, "crc32c_generic", 0, &r) == 0 && r.n == 1 && !r.mods[0].done);
	CHECK(pml_loader_unload(ld, "crc32c_generic", 0, &r) == -EPERM);
	/* Dry run: planned, nothing inserted. */
	CHECK(pml_loader_load(ld, "btrfs", PML_LOAD_DRY_RUN, &r) == 0);
	CHECK(r.n == 7 && find_op(&r, "btrfs") && find_op(&r, "btrfs")->done);
	CHECK(!find_op(&r, "crc32c_generic")->done); /* built in */
	CHECK(!is_loaded(ld, "btrfs"));
	CHECK(pml_loader_load(ld, "btrfs", PML_LOAD_DRY_RUN | PML_LOAD_IGNORE_SOFTDEPS, &r) == 0);
	CHECK(r.n == 5);
	CHECK(pml_loader_unload(ld, "tun", 0, &r) == -EBUSY);
	/* The base set: pinned, listed newest first with refcounts. */
	CHECK(pml_loader_keep_loaded(ld) == 2);
	CHECK(pml_loader_unload(ld, "virtio_blk", 0, &r) == -EPERM);
	n = pml_loader_list_loaded(ld, mods, 8);
	CHECK(n == 2);
	CHECK_STR(mods[0].name, "tun");
	CHECK(mods[0].refcnt == 2 && mods[0].n_holders == 0);
	CHECK(pml_loader_unload(ld, "tun", 0, &r) == -EPERM); /* kept wins over busy */
	CHECK(pml_loader_list_loaded(ld, mods, 1) == 2);
	pml_loader_free(ld);

	/* Bad descriptions are refused. */
	CHECK(pml_loader_new_memory("sctp: libcrc32c\nbogus line here\n", &ld) == -EINVAL);
	CHECK(pml_loader_new_memory("size sctp lots\n", &ld) == -EINVAL);
	CHECK(pml_loader_new_memory("softdep x crc32c\n", &ld) == -EINVAL);
	/* A softdep cycle terminates. */
	CHECK(pml_loader_new_memory("a:\nb:\nsoftdep a pre: b\nsoftdep b pre: a\n", &ld) == 0);
	CHECK(pml_loader_load(ld, "a", 0, &r) == 0 && r.n == 2);
	CHECK_STR(r.mods[0].name, "b");
	pml_loader_free(ld);
}

/* An alias several modules claim (net-pf-40 in 6.1: vmw_vsock_vmci_transport, hv_sock,
 * vsock_loopback): one whose dependency cannot load here (hv_vmbus: ENODEV without
 * Hyper-V) must not keep the others from loading, as with modprobe. */
static void test_alias_alternatives(void)
{
	static const char tree[] =
		"kernel/net/vmw_vsock/vsock.ko:\n"
		"kernel/net/vmw_vsock/vmw_vsock_vmci_transport.ko: kernel/net/vmw_vsock/vsock.ko\n"
		"kernel/drivers/hv/hv_vmbus.ko:\n"
		"kernel/net/vmw_vsock/hv_sock.ko: kernel/net/vmw_vsock/vsock.ko "
		"kernel/drivers/hv/hv_vmbus.ko\n"
		"kernel/net/vmw_vsock/vsock_loopback.ko: kernel/net/vmw_vsock/vsock.ko\n"
		"alias net-pf-40 vmw_vsock_vmci_transport\n"
		"alias net-pf-40 hv_sock\n"
		"alias net-pf-40 vsock_loopback\n";
	struct pml_loader *ld = fixture_loader(tree, "fail hv_vmbus 19\n");
	struct pml_op_result res;
	size_t vsock_entries = 0;

	CHECK(ld != NULL);
	if (!ld)
		return;
	CHECK(pml_loader_load(ld, "net-pf-40", 0, &res) == 0);
	CHECK(is_loaded(ld, "vsock_loopback"));
	CHECK(is_loaded(ld, "vmw_vsock_vmci_transport"));
	CHECK(!is_loaded(ld, "hv_sock"));
	CHECK(find_op(&res, "hv_vmbus") && find_op(&res, "hv_vmbus")->err == -ENODEV);
	for (size_t i = 0; i < res.n; i++)
		vsock_entries += !strcmp(res.mods[i].name, "vsock");
	CHECK(vsock_entries == 1); /* a shared dependency is listed once */
	pml_loader_free(ld);

	/* When none of them can load, the first failure is the answer. */
	ld = fixture_loader(tree, "fail hv_vmbus 19\nfail vsock 12\n");
	CHECK(ld && pml_loader_load(ld, "net-pf-40", 0, &res) == -ENOMEM);
	pml_loader_free(ld);
}

static void test_proc_modules(void)
{
	char *text = read_fixture("proc-modules.txt");
	struct pml_loaded mods[16];
	int n;

	CHECK(text != NULL);
	if (!text)
		return;
	n = pml_proc_modules_parse(text, mods, 16);
	CHECK(n == 7);
	CHECK_STR(mods[0].name, "sctp");
	CHECK(mods[0].bytes == 434176 && mods[0].refcnt == 2 && mods[0].n_holders == 0);
	CHECK_STR(mods[3].name, "libcrc32c");
	CHECK(mods[3].refcnt == 3 && mods[3].n_holders == 3);
	CHECK(mods[1].n_holders == 1);
	CHECK_STR(mods[5].name, "vboxdrv");
	CHECK(pml_proc_modules_parse(text, mods, 2) == 7);
	CHECK(pml_proc_modules_parse("", mods, 2) == 0);
	free(text);
}

int main(void)
{
	char *tree = read_fixture("tree.txt");

	test_proc_modules();
	test_alias_alternatives();

	CHECK(tree != NULL);
	if (tree) {
		test_load_sctp(tree);
		test_shared_dep(tree);
		test_failures(tree);
		test_misc(tree);
	}
	free(tree);
	return unit_done("loader");
}
