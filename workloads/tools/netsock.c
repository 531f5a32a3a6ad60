/*
 * netsock: open sockets of given families, the first thing a program speaking a protocol
 * does (and what makes the kernel load the protocol: net-pf-F[-proto-P[-type-T]]).
 *
 *   netsock FAMILY TYPE PROTO [FAMILY TYPE PROTO]...   numbers or the names below
 *
 * Each socket is opened, reported ("netsock 30 5 0 ok" or the errno) and kept open until
 * all are done. Exit status: the number of sockets that failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

static const struct { const char *name; int v; } names[] = {
	{ "unix", 1 }, { "inet", 2 }, { "ax25", 3 }, { "ipx", 4 }, { "appletalk", 5 },
	{ "x25", 9 }, { "inet6", 10 }, { "rose", 11 }, { "key", 15 }, { "netlink", 16 },
	{ "packet", 17 }, { "rds", 21 }, { "pppox", 24 }, { "llc", 26 }, { "can", 29 },
	{ "tipc", 30 }, { "bluetooth", 31 }, { "rxrpc", 33 }, { "isdn", 34 },
	{ "phonet", 35 }, { "ieee802154", 36 }, { "caif", 37 }, { "alg", 38 }, { "nfc", 39 },
	{ "vsock", 40 }, { "kcm", 41 }, { "qipcrtr", 42 }, { "smc", 43 }, { "xdp", 44 },
	{ "mctp", 45 },
	{ "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM }, { "raw", SOCK_RAW },
	{ "rdm", SOCK_RDM }, { "seqpacket", SOCK_SEQPACKET },
};

static int num(const char *s)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].v;
	return atoi(s);
}

int main(int argc, char **argv)
{
	int failed = 0;

	for (int i = 1; i + 2 < argc; i += 3) {
		int f = num(argv[i]), t = num(argv[i + 1]), p = num(argv[i + 2]);
		int s = socket(f, t, p);

		if (s < 0) {
			printf("netsock %d %d %d %s\n", f, t, p, strerror(errno));
			failed++;
		} else {
			printf("netsock %d %d %d ok\n", f, t, p);
		}
	}
	return failed;
}
