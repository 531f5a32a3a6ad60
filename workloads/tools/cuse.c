/*
 * cuse: a character device served from user space through CUSE, the way osspd provides
 * /dev/dsp: this process answers CUSE_INIT on /dev/cuse, the kernel creates /dev/NAME,
 * and a child opens it, writes a line and reads it back (the server echoes it).
 *
 *   cuse NAME [MESSAGE]
 *
 * Opening /dev/cuse loads cuse and fuse (char-major-10-203).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/fuse.h>

static char req[135168], store[4096];
static size_t stored;

static void reply(int fd, uint64_t unique, int error, const void *data, size_t len)
{
	char out[8192];
	struct fuse_out_header *h = (struct fuse_out_header *)out;

	if (len > sizeof(out) - sizeof(*h))
		len = sizeof(out) - sizeof(*h);
	h->len = (uint32_t)(sizeof(*h) + len);
	h->error = error;
	h->unique = unique;
	memcpy(out + sizeof(*h), data, len);
	if (write(fd, out, h->len) < 0 && errno != ENOENT)
		fprintf(stderr, "cuse: reply: %s\n", strerror(errno));
}

static int client(const char *path, const char *msg)
{
	char back[4096];
	ssize_t r;
	int fd = -1;

	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = open(path, O_RDWR);
		if (fd < 0)
			usleep(50000);
	}
	if (fd < 0) {
		fprintf(stderr, "cuse: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (write(fd, msg, strlen(msg)) < 0)
		return 1;
	r = read(fd, back, sizeof(back) - 1);
	close(fd);
	if (r < 0)
		return 1;
	back[r] = 0;
	printf("cuse: %s echoed \"%s\"\n", path, back);
	return strcmp(back, msg) != 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "pmlcuse";
	const char *msg = argc > 2 ? argv[2] : "hello through cuse";
	char path[256], info[128];
	int fd, status = 1;
	pid_t kid = -1;

	fd = open("/dev/cuse", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "cuse: /dev/cuse: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/%s", name);
	for (;;) {
		ssize_t n = read(fd, req, sizeof(req));
		struct fuse_in_header *in = (struct fuse_in_header *)req;
		void *arg = req + sizeof(*in);

		if (n < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			break;
		}
		switch (in->opcode) {
		case CUSE_INIT: {
			struct cuse_init_out o = { .major = FUSE_KERNEL_VERSION,
						   .minor = FUSE_KERNEL_MINOR_VERSION,
						   .max_read = 4096, .max_write = 4096 };
			char buf[sizeof(o) + sizeof(info)];
			int ilen = snprintf(info, sizeof(info), "DEVNAME=%s", name) + 1;

			memcpy(buf, &o, sizeof(o));
			memcpy(buf + sizeof(o), info, (size_t)ilen);
			reply(fd, in->unique, 0, buf, sizeof(o) + (size_t)ilen);
			kid = fork();
			if (kid == 0)
				_exit(client(path, msg));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = 1, .open_flags = FOPEN_DIRECT_IO };

			reply(fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_WRITE: {
			struct fuse_write_in *w = arg;
			struct fuse_write_out o = { .size = w->size };

			stored = w->size < sizeof(store) ? w->size : sizeof(store);
			memcpy(store, (char *)arg + sizeof(*w), stored);
			reply(fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ:
			reply(fd, in->unique, 0, store, stored);
			break;
		case FUSE_RELEASE:
			reply(fd, in->unique, 0, NULL, 0);
			if (kid > 0 && waitpid(kid, &status, 0) == kid) {
				close(fd);
				return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
			}
			break;
		case FUSE_INTERRUPT:
			break;
		default:
			reply(fd, in->unique, -ENOSYS, NULL, 0);
		}
	}
	fprintf(stderr, "cuse: read: %s\n", strerror(errno));
	if (kid > 0)
		kill(kid, SIGTERM);
	return 1;
}
