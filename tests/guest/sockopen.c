#define _GNU_SOURCE
/* sockopen FAMILY TYPE PROTOCOL: open one socket and say how it went ("ok" or the errno
 * name), exit 0 either way. Used by the guest tests to trigger (or be denied) the
 * module behind an address family. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: sockopen FAMILY TYPE PROTOCOL\n");
		return 2;
	}
	fd = socket(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
	if (fd < 0) {
		printf("socket(%s, %s, %s): %s\n", argv[1], argv[2], argv[3],
		       strerrorname_np(errno));
		return 0;
	}
	printf("socket(%s, %s, %s): ok\n", argv[1], argv[2], argv[3]);
	close(fd);
	return 0;
}
