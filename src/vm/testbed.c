/* Getting the testbed ready for a guest run: the tree's scripts fetch the kernel and build
 * the image (they are shell: mmdebstrap, dpkg and mke2fs do the work), this file finds them
 * and calls them. See vm.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "vm/paths.h"
#include "vm/vm.h"

#ifndef PML_SRCDIR
#define PML_SRCDIR "."
#endif

int pml_spawn_capture(char *const *argv, char *out, size_t size)
{
	char tmpl[] = "/tmp/pml-out.XXXXXX";
	int fd = mkstemp(tmpl), r;
	ssize_t n;

	if (fd < 0)
		return -errno;
	unlink(tmpl);
	r = pml_spawn_wait(argv, fd, 0);
	if (r == 0) {
		char *nl;

		lseek(fd, 0, SEEK_SET);
		n = read(fd, out, size - 1);
		out[n > 0 ? n : 0] = '\0';
		while (n > 0 && out[n - 1] == '\n')
			out[--n] = '\0';
		nl = strrchr(out, '\n');
		if (nl)
			memmove(out, nl + 1, strlen(nl + 1) + 1);
	}
	close(fd);
	return r;
}

int pml_testbed_src_dir(char *buf, size_t size)
{
	const char *env = getenv("PML_SRCDIR");
	char guest[4200];

	snprintf(buf, size, "%s", env && *env ? env : PML_SRCDIR);
	snprintf(guest, sizeof(guest), "%s/guest", buf);
	return access(guest, R_OK) < 0 ? -ENOENT : 0;
}

int pml_testbed_prepare(const char *packages, bool quiet, struct pml_testbed *ret)
{
	struct pml_testbed tb = {0};
	const char *env = getenv("PML_SRCDIR");
	char script[4200], rel[256];
	ssize_t n;
	int r;

	snprintf(tb.src_dir, sizeof(tb.src_dir), "%s", env && *env ? env : PML_SRCDIR);
	snprintf(tb.guest_dir, sizeof(tb.guest_dir), "%s/guest", tb.src_dir);
	if (access(tb.guest_dir, R_OK) < 0) {
		pml_err("pml's tree is not at %s (set PML_SRCDIR to the checkout)", tb.src_dir);
		return -ENOENT;
	}
	n = readlink("/proc/self/exe", tb.bin_dir, sizeof(tb.bin_dir) - 1);
	if (n <= 0) {
		pml_err("cannot find my own binary: %s", strerror(errno));
		return -ENOENT;
	}
	tb.bin_dir[n] = '\0';
	*strrchr(tb.bin_dir, '/') = '\0';

	if (pml_kernel_release(rel, sizeof(rel)) < 0) {
		snprintf(script, sizeof(script), "%s/scripts/fetch-kernel", tb.src_dir);
		pml_info("no guest kernel yet: fetching it (%s)", script);
		if (pml_spawn_wait((char *[]){script, NULL}, STDERR_FILENO, 0) != 0) {
			pml_err("the guest kernel package could not be fetched (see above; "
				"scripts/fetch-kernel retries)");
			return -EIO;
		}
	}
	snprintf(script, sizeof(script), "%s/scripts/build-image", tb.src_dir);
	r = pml_spawn_capture((char *[]){script, "--packages", (char *)packages,
					 quiet ? "--quiet" : NULL, NULL},
			      tb.image_dir, sizeof(tb.image_dir));
	if (r != 0) {
		pml_err("no guest image (%s failed; see above)", script);
		return -EIO;
	}
	*ret = tb;
	return 0;
}
