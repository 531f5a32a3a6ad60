/*
 * tipcmsg: a TIPC service and its client on this node: the server binds a service
 * address {TYPE, INSTANCE}, the client sends COUNT datagrams to it by name, the server
 * checks them, as cluster middleware using TIPC's name-based addressing does.
 *
 *   tipcmsg TYPE INSTANCE COUNT
 *
 * socket(AF_TIPC) loads tipc (net-pf-30).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/tipc.h>

int main(int argc, char **argv)
{
	unsigned int type = argc > 1 ? (unsigned int)atoi(argv[1]) : 18888;
	unsigned int inst = argc > 2 ? (unsigned int)atoi(argv[2]) : 17;
	int count = argc > 3 ? atoi(argv[3]) : 5, srv, cli, ok = 0;
	struct sockaddr_tipc a = { .family = AF_TIPC, .addrtype = TIPC_ADDR_NAMESEQ,
				   .scope = TIPC_NODE_SCOPE };
	char msg[64], got[64];

	srv = socket(AF_TIPC, SOCK_RDM, 0);
	if (srv < 0) {
		fprintf(stderr, "tipcmsg: socket: %s\n", strerror(errno));
		return 1;
	}
	a.addr.nameseq.type = type;
	a.addr.nameseq.lower = inst;
	a.addr.nameseq.upper = inst;
	if (bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "tipcmsg: bind: %s\n", strerror(errno));
		return 1;
	}
	cli = socket(AF_TIPC, SOCK_RDM, 0);
	a.addrtype = TIPC_ADDR_NAME;
	a.addr.name.name.type = type;
	a.addr.name.name.instance = inst;
	a.addr.name.domain = 0;
	for (int i = 0; i < count; i++) {
		ssize_t r;

		snprintf(msg, sizeof(msg), "message %d to {%u,%u}", i, type, inst);
		if (sendto(cli, msg, strlen(msg) + 1, 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fprintf(stderr, "tipcmsg: sendto: %s\n", strerror(errno));
			return 1;
		}
		r = recv(srv, got, sizeof(got), 0);
		if (r > 0 && strcmp(got, msg) == 0)
			ok++;
	}
	printf("tipcmsg: %d/%d messages through {%u,%u}\n", ok, count, type, inst);
	return ok == count ? 0 : 1;
}
