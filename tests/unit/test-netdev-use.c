/* Network interfaces as module users in every network namespace (loader/netdev-use.h).
 *
 * The mountinfo reader on fixed lines (an `ip netns add` mount, escapes, other mounts,
 * malformed ones). Then, as root on a host with network namespaces (the host kernel has
 * no module support, but has namespaces and some link kinds built in): a namespace held
 * only by a bind mount (`ip netns add`), one held only by an open descriptor after `ip
 * netns del`, and one held only by a process (`unshare -n`), each with a pair of a kind
 * the host has (veth, else bridge), must be seen; gone namespaces must not be kept alive
 * by the look; a recent sighting answers from the cache. Skipped (with a note) where the
 * host cannot make these. VM=1 (in the guest: tests/guest/run copies this binary in) adds
 * the cost per call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader/netdev-use.h"
#include "unit.h"
#include "util/timeutil.h"

static void test_mountinfo(void)
{
	unsigned long ino = 0;
	char path[64];

	CHECK(pml_mountinfo_nsfs(
		  "612 29 0:4 net:[4026532286] /run/netns/ns1 rw shared:299 - "
		  "nsfs nsfs rw\n",
		  "net", &ino, path, sizeof(path)) == 1);
	CHECK(ino == 4026532286ul);
	CHECK_STR(path, "/run/netns/ns1");
	/* escapes: space, backslash; no optional fields */
	CHECK(pml_mountinfo_nsfs(
		  "70 29 0:4 net:[17] /run/netns/a\\040b\\134c rw - nsfs nsfs rw", "net",
		  &ino, path, sizeof(path)) == 1);
	CHECK(ino == 17);
	CHECK_STR(path, "/run/netns/a b\\c");
	/* the type asked for only */
	CHECK(pml_mountinfo_nsfs("71 29 0:4 mnt:[4026531841] /run/m rw - nsfs nsfs rw",
				 "net", &ino, path, sizeof(path)) == 0);
	CHECK(pml_mountinfo_nsfs("71 29 0:4 mnt:[4026531841] /run/m rw - nsfs nsfs rw",
				 "mnt", &ino, path, sizeof(path)) == 1 &&
	      ino == 4026531841ul);
	/* other file systems, and a path that only looks like it */
	CHECK(pml_mountinfo_nsfs("25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
				 "net", &ino, path, sizeof(path)) == 0);
	CHECK(pml_mountinfo_nsfs("26 1 0:30 net:[5] /x rw - tmpfs nsfs rw", "net", &ino,
				 path, sizeof(path)) == 0);
	CHECK(pml_mountinfo_nsfs("27 1 0:4 net:[5] /x rw - nsfsx none rw", "net", &ino,
				 path, sizeof(path)) == 0);
	/* malformed: no separator, short line, a bad inode; a mount point too long */
	CHECK(pml_mountinfo_nsfs("612 29 0:4 net:[1] /a rw nsfs nsfs rw", "net", &ino,
				 path, sizeof(path)) == -EINVAL);
	CHECK(pml_mountinfo_nsfs("612 29 0:4", "net", &ino, path, sizeof(path)) ==
	      -EINVAL);
	CHECK(pml_mountinfo_nsfs("612 29 0:4 net:[1x] /a rw - nsfs nsfs rw", "net", &ino,
				 path, sizeof(path)) == -EINVAL);
	CHECK(pml_mountinfo_nsfs("612 29 0:4 net:[] /a rw - nsfs nsfs rw", "net", &ino,
				 path, sizeof(path)) == -EINVAL);
	CHECK(pml_mountinfo_nsfs("612 29 0:4 net:[9] /0123456789 rw - nsfs nsfs rw",
				 "net", &ino, path, 8) == -ENAMETOOLONG);
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Wait up to 5 s for count_all(kind) to reach want (the kernel tears a namespace down on
 * a work queue, a background process needs time to start). Returns the last count. */
static int wait_count(const char *kind, int want, struct pml_netns_scan *sc)
{
	int n = -1;

	for (int i = 0; i < 100; i++) {
		n = pml_netdev_kind_count_all(kind, sc);
		if (n == want)
			break;
		usleep(50000);
	}
	return n;
}

static void print_scan(const char *what, int n, const struct pml_netns_scan *sc)
{
	printf("  %s: %d interfaces, %u namespaces, %u entered, %u not looked into, %u "
	       "recent, "
	       "%.2f ms\n",
	       what, n, sc->namespaces, sc->entered, sc->unknown, sc->cached, sc->ms);
}

/* A mount namespace held by a bind mount with no process in it (unshare --mount=FILE):
 * its own mounts cannot be read, so the answer is "cannot tell". */
static void test_mnt_held(const char *kind)
{
	struct pml_netns_scan sc;
	unsigned before;
	char dir[64], cmd[512];

	pml_netdev_kind_count_all(kind, &sc);
	before = sc.unknown;
	snprintf(dir, sizeof(dir), "/tmp/pml-unit-mnt-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s && mount --bind %s %s && mount --make-private %s && touch "
		 "%s/m && "
		 "unshare --mount=%s/m true",
		 dir, dir, dir, dir, dir, dir);
	if (sh(cmd) != 0) {
		printf(
		    "  skipped the held mount namespace: unshare --mount=FILE failed\n");
	} else {
		pml_netdev_kind_count_all(kind, &sc);
		print_scan("a mount namespace held by a mount", (int)sc.count, &sc);
		CHECK(sc.unknown > before);
		CHECK(pml_netdev_kind_in_use("pml-no-such-kind", &sc));
	}
	snprintf(cmd, sizeof(cmd),
		 "umount %s/m 2>/dev/null; umount %s 2>/dev/null; rm -rf %s", dir, dir,
		 dir);
	sh(cmd);
}

static void test_live(void)
{
	char ns[64], cmd[512], path[128];
	const char *kind = "veth";
	struct pml_netns_scan sc;
	int n0, n, fd;
	pid_t child;

	if (geteuid() != 0 || sh("ip netns list >/dev/null 2>&1") != 0) {
		printf("  skipped the namespaces: not root, or no ip netns here\n");
		return;
	}
	snprintf(ns, sizeof(ns), "pml-unit-%d", (int)getpid());
	if (sh((snprintf(cmd, sizeof(cmd), "ip netns add %s", ns), cmd)) != 0) {
		printf("  skipped the namespaces: ip netns add failed\n");
		return;
	}
	n0 = pml_netdev_kind_count_all(kind, &sc);
	CHECK(n0 >= 0);
	snprintf(cmd, sizeof(cmd),
		 "ip -n %s link add pmlva type veth peer name pmlvb 2>/dev/null", ns);
	if (sh(cmd) != 0) {
		kind = "bridge";
		n0 = pml_netdev_kind_count_all(kind, &sc);
		snprintf(
		    cmd, sizeof(cmd),
		    "ip -n %s link add pmlva type bridge && ip -n %s link add pmlvb type "
		    "bridge",
		    ns, ns);
		if (sh(cmd) != 0) {
			printf("  skipped the namespaces: neither veth nor bridge links "
			       "here\n");
			snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
			sh(cmd);
			return;
		}
	}
	printf("  kind %s (%d outside the test's namespaces)\n", kind, n0);

	/* held by a bind mount only: no process is in it */
	n = pml_netdev_kind_count_all(kind, &sc);
	print_scan("named namespace", n, &sc);
	CHECK(n == n0 + 2);
	CHECK(sc.namespaces >= 2 && sc.entered >= 2);
	CHECK(pml_netdev_kind_in_use(kind, &sc));
	/* (a host with processes pml may not read answers "cannot tell" before entering)
	 */
	CHECK(sc.unknown || sc.count >= 1);
	/* a sighting is trusted for a while: the next answer enters nothing */
	if (n0 == 0 && !sc.unknown) {
		CHECK(pml_netdev_kind_in_use(kind, &sc) && sc.cached == 1 &&
		      sc.count == 0);
		print_scan("again (recent sighting)", (int)sc.count, &sc);
	}

	/* held by a descriptor only, after ip netns del */
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
	CHECK(sh(cmd) == 0);
	n = pml_netdev_kind_count_all(kind, &sc);
	print_scan("held by a descriptor", n, &sc);
	CHECK(n == n0 + 2);
	if (fd >= 0)
		close(fd);
	/* gone: the look itself must not keep it */
	n = wait_count(kind, n0, &sc);
	print_scan("after the last holder", n, &sc);
	CHECK(n == n0);

	/* held by a process only (unshare -n: no mount, no descriptor) */
	child = fork();
	if (child == 0) {
		char c[256];

		snprintf(c, sizeof(c), "ip link add pmlva type %s%s; exec sleep 30", kind,
			 !strcmp(kind, "veth") ? " peer name pmlvb"
					       : " && ip link add pmlvb type bridge");
		execlp("unshare", "unshare", "-n", "sh", "-c", c, (char *)NULL);
		_exit(127);
	}
	CHECK(child > 0);
	n = wait_count(kind, n0 + 2, &sc);
	print_scan("held by a process", n, &sc);
	if (n == n0 && child > 0) {
		printf("  note: unshare -n made nothing here (no unshare?)\n");
	} else {
		CHECK(n == n0 + 2);
		CHECK(pml_netdev_kind_in_use(kind, &sc));
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	n = wait_count(kind, n0, &sc);
	CHECK(n == n0);
	test_mnt_held(kind);
}

/* The cost of one answer with nothing to find: the whole walk and every namespace
 * entered. */
static void test_cost(void)
{
	struct pml_netns_scan sc;
	uint64_t t0;
	int N = 20;
	bool busy = false;

	CHECK(pml_netdev_kind_count_all("", &sc) == -EINVAL);
	CHECK(pml_netdev_kind_in_use("", &sc));
	t0 = pml_now_ns();
	for (int i = 0; i < N; i++)
		busy |= pml_netdev_kind_in_use("pml-no-such-kind", &sc);
	printf("  no interface of the kind: %.2f ms per call (%u namespaces, %u entered, "
	       "%u not "
	       "looked into)%s\n",
	       pml_ns_to_ms(pml_now_ns() - t0) / N, sc.namespaces, sc.entered, sc.unknown,
	       busy ? ": in use (cannot tell)" : "");
	CHECK(busy == (sc.unknown > 0));
	if (getenv("VM"))
		CHECK(!busy); /* the guest: every namespace can be looked into */
}

int main(void)
{
	test_mountinfo();
	test_live();
	test_cost();
	return unit_done("netdev-use");
}
