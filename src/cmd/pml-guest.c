/* pml-guest: what guest-init asks of pml inside the guest, in a small binary of its own
 * (libc only: each exec costs tens of ms under TCG, and pml's libarchive brings ICU,
 * libxml2 and libstdc++ with it). Not for users.
 *   pml-guest reseed HEX   mix HEX (the host's seed for a restored clone) into the
 *                          kernel's RNG and reseed it now (RNDRESEEDCRNG): clones of one
 *                          snapshot must not share their random numbers.
 *   pml-guest begin SEED TIME DISK DIR
 *                          a restored clone's start in one process: reseed as above, set
 *                          the clock to TIME (Unix seconds, from the host), and unpack the
 *                          job's tar from DISK into DIR. The tar is the host's own
 *                          (src/vm/stage.c: regular files at its top, from GNU tar), so a
 *                          small reader of ustar headers does it, with O_DIRECT reads (the
 *                          template's page cache must not answer for the clone's disk).
 *   pml-guest capture MAX FIFO FILE [FIFO FILE]
 *                          the command's stdout and stderr: from each FIFO (opened in
 *                          order, as the shell opens their write ends) into its FILE, at
 *                          most MAX bytes each, written as they come (a command that never
 *                          ends still leaves what it wrote); the rest is read and dropped,
 *                          so the command never sees a broken pipe. One process for both
 *                          streams: each exec costs tens of ms under TCG. */
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

enum { PML_EXIT_OK = 0, PML_EXIT_FAIL = 1, PML_EXIT_USAGE = 2 };

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
		fprintf(stderr, "pml-guest: reseed: want 32 to 128 hex digits\n");
		return PML_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "pml-guest: reseed: '%s' is not hex\n", hex);
			return PML_EXIT_USAGE;
		}
		seed[i] = (unsigned char)(hi << 4 | lo);
	}
	fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
	if (fd < 0 || write(fd, seed, n) != (ssize_t)n || ioctl(fd, RNDRESEEDCRNG) < 0) {
		fprintf(stderr, "pml-guest: reseed: /dev/urandom: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return PML_EXIT_FAIL;
	}
	close(fd);
	return PML_EXIT_OK;
}

#define BLK 65536

/* Sequential O_DIRECT reads of a disk, a block at a time. */
struct disk {
	int fd;
	unsigned char *buf;
	size_t len, off;
};

static int disk_read(struct disk *d, void *out, size_t n)
{
	while (n) {
		size_t k;

		if (d->off == d->len) {
			ssize_t r = read(d->fd, d->buf, BLK);

			if (r <= 0)
				return -EIO;
			d->len = (size_t)r;
			d->off = 0;
		}
		k = d->len - d->off < n ? d->len - d->off : n;
		if (out) {
			memcpy(out, d->buf + d->off, k);
			out = (char *)out + k;
		}
		d->off += k;
		n -= k;
	}
	return 0;
}

static unsigned long long octal(const char *s, size_t n)
{
	unsigned long long v = 0;

	for (size_t i = 0; i < n && s[i]; i++)
		if (s[i] >= '0' && s[i] <= '7')
			v = v * 8 + (unsigned long long)(s[i] - '0');
	return v;
}

/* The job's files: every regular file at the top of the tar into dir; other entries
 * ("./") skipped. 0, or -errno. */
static int unpack_job(const char *path, const char *dir)
{
	struct disk d = {.fd = -1};
	unsigned char hdr[512];
	int r = 0, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	d.fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (d.fd < 0 || dfd < 0 || posix_memalign((void **)&d.buf, 4096, BLK)) {
		r = -errno;
		goto out;
	}
	for (;;) {
		unsigned long long size, pad;
		char name[101];
		int out = -1;

		if (disk_read(&d, hdr, sizeof(hdr)) < 0) {
			r = -EIO;
			break;
		}
		if (!hdr[0])
			break; /* the end-of-archive blocks */
		memcpy(name, hdr, 100);
		name[100] = '\0';
		size = octal((char *)hdr + 124, 12);
		pad = (512 - size % 512) % 512;
		if (!strncmp(name, "./", 2))
			memmove(name, name + 2, strlen(name + 2) + 1);
		if ((hdr[156] == '0' || hdr[156] == '\0') && name[0] && !strchr(name, '/') &&
		    strcmp(name, "..")) {
			out = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
				     0644);
			if (out < 0) {
				r = -errno;
				break;
			}
		}
		while (size) {
			char chunk[8192];
			size_t k = size < sizeof(chunk) ? (size_t)size : sizeof(chunk);

			if (disk_read(&d, chunk, k) < 0 ||
			    (out >= 0 && write(out, chunk, k) != (ssize_t)k)) {
				r = -EIO;
				break;
			}
			size -= k;
		}
		if (out >= 0)
			close(out);
		if (r < 0 || disk_read(&d, NULL, pad) < 0)
			break;
	}
out:
	if (d.fd >= 0)
		close(d.fd);
	if (dfd >= 0)
		close(dfd);
	free(d.buf);
	return r;
}

static int begin(char **argv)
{
	struct timespec ts;
	char *end;
	double t;
	int status = reseed(argv[0]);

	errno = 0;
	t = strtod(argv[1], &end);
	if (errno || *end || !(t > 0 && t < 1e11)) {
		fprintf(stderr, "pml-guest: begin: '%s' is not a time\n", argv[1]);
		return PML_EXIT_USAGE;
	}
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
		fprintf(stderr, "pml-guest: begin: the clock was not set: %s\n", strerror(errno));
		status = PML_EXIT_FAIL;
	}
	if (unpack_job(argv[2], argv[3]) < 0) {
		fprintf(stderr, "pml-guest: begin: cannot unpack the job from %s: %s\n", argv[2],
			strerror(errno));
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
		fprintf(stderr, "Usage: pml-guest capture MAX FIFO FILE [FIFO FILE]\n");
		return PML_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		out[i] = open(argv[3 + 2 * i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		p[i].fd = open(argv[2 + 2 * i], O_RDONLY | O_CLOEXEC);
		p[i].events = POLLIN;
		if (out[i] < 0 || p[i].fd < 0) {
			fprintf(stderr, "pml-guest: capture: %s: %s\n", argv[2 + 2 * i],
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

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "reseed"))
		return reseed(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "begin"))
		return begin(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "capture"))
		return capture(argc - 1, argv + 1);
	fprintf(stderr, "Usage: pml-guest reseed HEX | begin SEED TIME DISK DIR |\n"
			"       capture MAX FIFO FILE [FIFO FILE]\n"
			"(inside the guest, for guest-init)\n");
	return PML_EXIT_USAGE;
}
