/* Confined paths (util/safepath.h): the attacks a hostile manifest or catalog can make
 * with a path, each refused, both with openat2() and with the component walk used on
 * kernels without it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/safepath.h"
#include "unit.h"

static char tmpdir[] = "/tmp/pml-test-safepath-XXXXXX";
static char outside[sizeof(tmpdir) + 16];

static void test_confined(void)
{
	static const char *const good[] = {
		"traces/x.trace", "a", "a/b/c", "..a", "a..", "a/.b", "...", "a/b.c/d",
	};
	static const char *const bad[] = {
		"", "/etc/passwd", "/", "../x.trace", "a/../b", "a/..", "..", ".", "./a", "a/./b",
		"a//b", "a/", "//a", "a\nb", "a\tb", "a\x7f",
	};
	char *big = malloc(PATH_MAX + 1);

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(pml_path_is_confined(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!pml_path_is_confined(bad[i]));
		if (pml_path_is_confined(bad[i]))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
	}
	CHECK(!pml_path_is_confined(NULL));
	if (big) {
		memset(big, 'a', PATH_MAX);
		big[PATH_MAX] = '\0';
		CHECK(!pml_path_is_confined(big));
		big[PATH_MAX - 1] = '\0'; /* PATH_MAX with its NUL */
		CHECK(pml_path_is_confined(big));
		free(big);
	}
}

static void make_file(const char *rel, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void make_link(const char *target, const char *rel)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	CHECK(symlink(target, path) == 0);
}

/* The tree: ds/traces/ok.trace, ds/traces/{abs,out,in,dangling} links, ds/linkdir -> traces,
 * ds/escape -> .., ds/fifo, and outside/secret beside ds. */
static void make_tree(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/ds", tmpdir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/ds/traces", tmpdir);
	CHECK(mkdir(path, 0755) == 0);
	CHECK(mkdir(outside, 0755) == 0);
	make_file("ds/traces/ok.trace", "ok");
	make_file("outside/secret", "secret");
	make_link("/etc/passwd", "ds/traces/abs.trace");
	make_link("../../outside/secret", "ds/traces/out.trace");
	make_link("ok.trace", "ds/traces/in.trace");
	make_link("../../outside/new", "ds/traces/dangling.trace");
	make_link("traces", "ds/linkdir");
	make_link("..", "ds/escape");
	snprintf(path, sizeof(path), "%s/ds/fifo", tmpdir);
	CHECK(mkfifo(path, 0644) == 0);
}

static void read_back(int fd, const char *want)
{
	char buf[64];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	CHECK(n == (ssize_t)strlen(want));
	if (n >= 0) {
		buf[n] = '\0';
		CHECK_STR(buf, want);
	}
}

static void test_open(bool fallback)
{
	char path[4200];
	struct stat st;
	int dfd, fd;

	pml_safepath__test_no_openat2(fallback);
	snprintf(path, sizeof(path), "%s/ds", tmpdir);
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	if (dfd < 0)
		return;
	fd = pml_open_beneath(dfd, "traces/ok.trace", O_RDONLY);
	CHECK(fd >= 0);
	read_back(fd, "ok");
	if (fd >= 0) {
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	fd = pml_open_regular_beneath(dfd, "traces/ok.trace", O_RDONLY);
	CHECK(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK));
	read_back(fd, "ok");
	if (fd >= 0)
		close(fd);

	/* by their text */
	CHECK(pml_open_beneath(dfd, "../outside/secret", O_RDONLY) == -EINVAL);
	CHECK(pml_open_beneath(dfd, "traces/../../outside/secret", O_RDONLY) == -EINVAL);
	CHECK(pml_open_beneath(dfd, "/etc/passwd", O_RDONLY) == -EINVAL);
	CHECK(pml_open_beneath(dfd, "", O_RDONLY) == -EINVAL);
	/* links: out of the directory, absolute, inside it, dangling, on the way */
	CHECK(pml_open_beneath(dfd, "traces/out.trace", O_RDONLY) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "traces/abs.trace", O_RDONLY) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "traces/in.trace", O_RDONLY) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "traces/dangling.trace", O_RDONLY) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "linkdir/ok.trace", O_RDONLY) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "escape/outside/secret", O_RDONLY) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "traces/out.trace", O_PATH) == -ELOOP);
	CHECK(pml_open_beneath(dfd, "traces/out.trace", O_PATH | O_NOFOLLOW) == -ELOOP);
	CHECK(pml_open_regular_beneath(dfd, "traces/out.trace", O_RDONLY) == -ELOOP);
	/* creating through a dangling link makes nothing outside */
	CHECK(pml_open_beneath(dfd, "traces/dangling.trace", O_WRONLY | O_CREAT) == -ELOOP);
	snprintf(path, sizeof(path), "%s/new", outside);
	CHECK(access(path, F_OK) < 0);
	/* what is there but not a file; a FIFO does not block the open */
	CHECK(pml_open_regular_beneath(dfd, "fifo", O_RDONLY) == -EBADFD);
	CHECK(pml_open_regular_beneath(dfd, "traces", O_RDONLY) == -EISDIR);
	CHECK(pml_open_beneath(dfd, "traces/none", O_RDONLY) == -ENOENT);
	CHECK(pml_open_beneath(dfd, "traces/ok.trace/x", O_RDONLY) == -ENOTDIR);
	/* O_PATH: a check without opening */
	fd = pml_open_regular_beneath(dfd, "traces/ok.trace", O_PATH);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
	if (fd >= 0)
		close(fd);
	/* creating below the directory */
	fd = pml_open_beneath(dfd, fallback ? "traces/new-walk" : "traces/new-openat2",
			      O_WRONLY | O_CREAT | O_EXCL);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
	if (fd >= 0)
		close(fd);
	/* the caller's descriptor is left open */
	CHECK(fcntl(dfd, F_GETFD) >= 0);
	close(dfd);
	/* AT_FDCWD: below the working directory */
	if (chdir(tmpdir) == 0) {
		fd = pml_open_beneath(AT_FDCWD, "ds/traces/ok.trace", O_RDONLY);
		read_back(fd, "ok");
		if (fd >= 0)
			close(fd);
		CHECK(pml_open_beneath(AT_FDCWD, "ds/escape/outside/secret", O_RDONLY) == -ELOOP);
		CHECK(chdir("/") == 0);
	}
	pml_safepath__test_no_openat2(false);
}

static void test_words(void)
{
	CHECK(strstr(pml_beneath_strerror(-ELOOP), "symbolic link") != NULL);
	CHECK(strstr(pml_beneath_strerror(-EINVAL), "'..'") != NULL);
	CHECK(strstr(pml_beneath_strerror(-EBADFD), "regular file") != NULL);
	CHECK_STR(pml_beneath_strerror(-ENOENT), strerror(ENOENT));
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	test_confined();
	make_tree();
	test_open(false);
	test_open(true);
	test_words();
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		CHECK(system(cmd) == 0);
	}
	return unit_done("safepath");
}
