/* pml guest: what guest-init asks of pml inside the guest. Not for users (hidden from
 * pml --help).
 *   pml guest reseed HEX   mix HEX (the host's seed for a restored clone) into the
 *                          kernel's RNG and reseed it now (RNDRESEEDCRNG): clones of one
 *                          snapshot must not share their random numbers.
 *   pml guest begin SEED TIME DISK BYTES DIR
 *                          a restored clone's start in one process (each exec costs tens
 *                          of ms under TCG): reseed as above, set the clock to TIME (Unix
 *                          seconds), and unpack the job's tar (its first BYTES bytes on
 *                          DISK, read with O_DIRECT: the template's page cache may hold
 *                          that disk's blocks from before the clone's disk was given)
 *                          into DIR.
 *   pml guest capture MAX FIFO FILE [FIFO FILE]
 *                          the command's stdout and stderr: from each FIFO (opened in
 *                          order, as the shell opens their write ends) into its FILE, at
 *                          most MAX bytes each, written as they come (a command that never
 *                          ends still leaves what it wrote); the rest is read and dropped,
 *                          so the command never sees a broken pipe. One process for both
 *                          streams: each exec costs tens of ms under TCG. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd/commands.h"

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int reseed(const char *hex)
{
	unsigned char seed[64];
	size_t n = strlen(hex) / 2;
	int fd;

	if (strlen(hex) % 2 || n < 16 || n > sizeof(seed)) {
		fprintf(stderr, "pml: guest reseed: want 32 to 128 hex digits\n");
		return PML_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "pml: guest reseed: '%s' is not hex\n", hex);
			return PML_EXIT_USAGE;
		}
		seed[i] = (unsigned char)(hi << 4 | lo);
	}
	fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
	if (fd < 0 || write(fd, seed, n) != (ssize_t)n || ioctl(fd, RNDRESEEDCRNG) < 0) {
		fprintf(stderr, "pml: guest reseed: /dev/urandom: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return PML_EXIT_FAIL;
	}
	close(fd);
	return PML_EXIT_OK;
}

/* The job's tar from DISK into dir: BYTES bytes (rounded up to 64 KiB) read with O_DIRECT
 * into memory, then unpacked. The tar is the host's own (stage.c), not the guest's. */
static int unpack_job(const char *disk, unsigned long long bytes, const char *dir)
{
	size_t size = (size_t)((bytes + 65535) / 65536 * 65536);
	struct archive *a = NULL, *w = NULL;
	struct archive_entry *e;
	void *buf = NULL;
	size_t got = 0;
	int fd, r = -EIO;

	if (bytes > (1ull << 30) || posix_memalign(&buf, 4096, size ? size : 4096))
		return -ENOMEM;
	fd = open(disk, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	while (got < size) {
		ssize_t n = read(fd, (char *)buf + got, size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < bytes)
		goto out;
	a = archive_read_new();
	w = archive_write_disk_new();
	if (!a || !w || chdir(dir) < 0)
		goto out;
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
					      ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_memory(a, buf, (size_t)bytes) != ARCHIVE_OK)
		goto out;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const void *blk;
		size_t len;
		la_int64_t off;

		if (archive_write_header(w, e) != ARCHIVE_OK) {
			r = ARCHIVE_FATAL;
			break;
		}
		while ((r = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(w, blk, len, off) != ARCHIVE_OK)
				break;
		if (r != ARCHIVE_EOF || archive_write_finish_entry(w) != ARCHIVE_OK) {
			r = ARCHIVE_FATAL;
			break;
		}
	}
	r = r == ARCHIVE_EOF ? 0 : -EIO;
out:
	if (a)
		archive_read_free(a);
	if (w)
		archive_write_free(w);
	free(buf);
	return r;
}

static int begin(char **argv)
{
	unsigned long long bytes;
	struct timespec ts;
	char *end;
	double t;
	int r, status = reseed(argv[0]);

	errno = 0;
	t = strtod(argv[1], &end);
	if (errno || *end || !(t > 0 && t < 1e11)) {
		fprintf(stderr, "pml: guest begin: '%s' is not a time\n", argv[1]);
		return PML_EXIT_USAGE;
	}
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
		fprintf(stderr, "pml: guest begin: the clock was not set: %s\n", strerror(errno));
		status = PML_EXIT_FAIL;
	}
	errno = 0;
	bytes = strtoull(argv[3], &end, 10);
	if (errno || *end) {
		fprintf(stderr, "pml: guest begin: '%s' is not a size\n", argv[3]);
		return PML_EXIT_USAGE;
	}
	r = unpack_job(argv[2], bytes, argv[4]);
	if (r < 0) {
		fprintf(stderr, "pml: guest begin: cannot unpack the job from %s: %s\n", argv[2],
			strerror(-r));
		return PML_EXIT_FAIL;
	}
	return status;
}

static int capture(int argc, char **argv)
{
	struct pollfd p[2];
	int out[2], n = (argc - 2) / 2, open_n = 0;
	unsigned long long max, kept[2] = {0, 0};
	char *end, buf[65536];

	errno = 0;
	max = strtoull(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || (argc - 2) % 2 || n < 1 || n > 2) {
		fprintf(stderr, "Usage: pml guest capture MAX FIFO FILE [FIFO FILE]\n");
		return PML_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		out[i] = open(argv[3 + 2 * i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		p[i].fd = open(argv[2 + 2 * i], O_RDONLY | O_CLOEXEC);
		p[i].events = POLLIN;
		if (out[i] < 0 || p[i].fd < 0) {
			fprintf(stderr, "pml: guest capture: %s: %s\n", argv[2 + 2 * i],
				strerror(errno));
			return PML_EXIT_FAIL;
		}
		open_n++;
	}
	while (open_n) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return PML_EXIT_FAIL;
		}
		for (int i = 0; i < n; i++) {
			ssize_t r;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(p[i].fd);
				p[i].fd = -1; /* poll skips it */
				open_n--;
				continue;
			}
			if (kept[i] < max) {
				size_t k = (unsigned long long)r < max - kept[i] ? (size_t)r
										 : (size_t)(max - kept[i]);

				if (write(out[i], buf, k) == (ssize_t)k)
					kept[i] += k;
				else
					kept[i] = max; /* the disk is full: drop the rest */
			}
		}
	}
	return PML_EXIT_OK;
}

int cmd_guest(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "reseed"))
		return reseed(argv[2]);
	if (argc == 7 && !strcmp(argv[1], "begin"))
		return begin(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "capture"))
		return capture(argc - 1, argv + 1);
	fprintf(stderr, "Usage: pml guest reseed HEX | begin SEED TIME DISK BYTES DIR |\n"
			"       capture MAX FIFO FILE [FIFO FILE]\n"
			"(inside the guest, for guest-init)\n");
	return PML_EXIT_USAGE;
}
