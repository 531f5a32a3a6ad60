/*
 * uinput: create a virtual input device through /dev/uinput and type on it, the way
 * remote-desktop servers, game-controller mappers and test rigs do.
 *
 *   uinput NAME KEYS     KEYS: how many key presses to emit
 *
 * Opening /dev/uinput loads uinput (char-major-10-223).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/uinput.h>

static void emit(int fd, int type, int code, int val)
{
	struct input_event ie = { .type = (unsigned short)type, .code = (unsigned short)code,
				  .value = val };

	if (write(fd, &ie, sizeof(ie)) != sizeof(ie))
		fprintf(stderr, "uinput: write: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	struct uinput_setup us = { .id = { .bustype = BUS_VIRTUAL, .vendor = 0x1234,
					   .product = 0x5678 } };
	int keys = argc > 2 ? atoi(argv[2]) : 10, fd;

	fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "uinput: /dev/uinput: %s\n", strerror(errno));
		return 1;
	}
	ioctl(fd, UI_SET_EVBIT, EV_KEY);
	for (int k = KEY_1; k <= KEY_0; k++)
		ioctl(fd, UI_SET_KEYBIT, k);
	snprintf(us.name, sizeof(us.name), "%s", argc > 1 ? argv[1] : "pml-keyboard");
	if (ioctl(fd, UI_DEV_SETUP, &us) < 0 || ioctl(fd, UI_DEV_CREATE) < 0) {
		fprintf(stderr, "uinput: create: %s\n", strerror(errno));
		return 1;
	}
	usleep(100000);
	for (int i = 0; i < keys; i++) {
		emit(fd, EV_KEY, KEY_1 + i % 10, 1);
		emit(fd, EV_SYN, SYN_REPORT, 0);
		emit(fd, EV_KEY, KEY_1 + i % 10, 0);
		emit(fd, EV_SYN, SYN_REPORT, 0);
	}
	printf("uinput: %s typed %d keys\n", us.name, keys);
	ioctl(fd, UI_DEV_DESTROY);
	close(fd);
	return 0;
}
