/* libFuzzer target for the output-disk unpacker (src/vm/results.c): any byte string is
 * the disk a hostile guest wrote. It is written to a file and unpacked into a fresh
 * directory, which is then walked without following links and removed. Beyond not
 * crashing, hanging, leaking or reading out of bounds (ASan/UBSan), the unpacker must
 * never leave a special file, a setuid/setgid/sticky bit or a symlink outside out/ behind,
 * and never write next to the result directory: any of those traps.
 * Build and run: make fuzz-results (FUZZ_TIME seconds, default 20); the seeds are
 * tests/fixtures/results/*.tar. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256], disk[300], dest[300];
static size_t dest_len, real_out_len;
static char real_out[PATH_MAX + 8]; /* dest/out with the links in its own path resolved */

static int check_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		/* only under out/, and relative */
		char real[PATH_MAX];

		if (n <= 0 || target[0] == '/' || strncmp(path + dest_len, "/out/", 5))
			__builtin_trap();
		/* followed, it leads inside out/ or nowhere */
		if (realpath(path, real) && (strncmp(real, real_out, real_out_len) ||
					     (real[real_out_len] && real[real_out_len] != '/')))
			__builtin_trap();
		return 0;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		__builtin_trap();
	if (st->st_mode & 07022)
		__builtin_trap();
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void cleanup(void)
{
	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(root, sizeof(root), "%s/pml-fuzz-results.XXXXXX", tmp);
	if (!mkdtemp(root))
		abort();
	snprintf(disk, sizeof(disk), "%s/out.img", root);
	snprintf(dest, sizeof(dest), "%s/result", root);
	dest_len = strlen(dest);
	if (!realpath(root, real_out))
		abort();
	strcat(real_out, "/result/out");
	real_out_len = strlen(real_out);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pml_results res;
	DIR *d;
	struct dirent *de;
	int fd, r;

	if (!root[0])
		setup();
	fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	r = pml_results_unpack(disk, dest, &res);
	if (r < 0)
		abort(); /* a regular file and a fresh directory: host failures only */
	if (res.first_refusal[sizeof(res.first_refusal) - 1] != '\0' ||
	    (res.status < -1 || res.status > 255))
		__builtin_trap();
	for (const char *p = res.first_refusal; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			__builtin_trap();
	nftw(dest, check_one, 16, FTW_PHYS);
	/* nothing next to the result directory but the disk */
	d = opendir(root);
	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "out.img") && strcmp(de->d_name, "result"))
			__builtin_trap();
	closedir(d);
	if (nftw(dest, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		abort();
	return 0;
}
