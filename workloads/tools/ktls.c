/*
 * ktls: send data over a loopback TCP connection with kernel TLS (TCP_ULP "tls"), the way
 * a web server hands record encryption to the kernel after its handshake.
 *
 *   ktls CIPHER BYTES [PORT]     CIPHER: aes-gcm-128 aes-gcm-256 aes-ccm-128 chacha20-poly1305
 *
 * The keys are fixed (no handshake: both ends are this process); the sender has TLS_TX,
 * the receiver TLS_RX with the same secrets, and the received bytes are compared with the
 * sent ones. Setting TCP_ULP loads tls; the first record loads the cipher's modules.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/tls.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static void die(const char *what)
{
	fprintf(stderr, "ktls: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_crypto(int fd, int dir, const char *cipher)
{
	union {
		struct tls12_crypto_info_aes_gcm_128 g128;
		struct tls12_crypto_info_aes_gcm_256 g256;
		struct tls12_crypto_info_aes_ccm_128 c128;
		struct tls12_crypto_info_chacha20_poly1305 cc;
	} ci;
	socklen_t len;

	memset(&ci, 0x5a, sizeof(ci));
	if (strcmp(cipher, "aes-gcm-256") == 0) {
		ci.g256.info.version = TLS_1_2_VERSION;
		ci.g256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
		len = sizeof(ci.g256);
	} else if (strcmp(cipher, "aes-ccm-128") == 0) {
		ci.c128.info.version = TLS_1_2_VERSION;
		ci.c128.info.cipher_type = TLS_CIPHER_AES_CCM_128;
		len = sizeof(ci.c128);
	} else if (strcmp(cipher, "chacha20-poly1305") == 0) {
		ci.cc.info.version = TLS_1_2_VERSION;
		ci.cc.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		len = sizeof(ci.cc);
	} else {
		ci.g128.info.version = TLS_1_2_VERSION;
		ci.g128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
		len = sizeof(ci.g128);
	}
	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0)
		die("setsockopt TCP_ULP tls");
	if (setsockopt(fd, SOL_TLS, dir, &ci, len) < 0)
		die(dir == TLS_TX ? "setsockopt TLS_TX" : "setsockopt TLS_RX");
}

int main(int argc, char **argv)
{
	const char *cipher = argc > 1 ? argv[1] : "aes-gcm-128";
	size_t total = argc > 2 ? (size_t)atol(argv[2]) : 65536, got = 0, sent = 0;
	int port = argc > 3 ? atoi(argv[3]) : 0, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t alen = sizeof(a);
	static unsigned char out[16384], in[16384];
	int ls, c, s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0)
		die("listen");
	getsockname(ls, (struct sockaddr *)&a, &alen);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	s = accept(ls, NULL, NULL);
	if (s < 0)
		die("accept");
	set_crypto(c, TLS_TX, cipher);
	set_crypto(s, TLS_RX, cipher);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + 3);
	while (sent < total || got < total) {
		if (sent < total) {
			size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
			ssize_t w = send(c, out, n, 0);

			if (w < 0)
				die("send");
			sent += (size_t)w;
		}
		while (got < sent) {
			ssize_t r = recv(s, in, sizeof(in), 0);

			if (r <= 0)
				die("recv");
			for (ssize_t i = 0; i < r; i++)
				if (in[i] != out[(got + (size_t)i) % sizeof(out)]) {
					fprintf(stderr, "ktls: byte %zu differs\n", got + (size_t)i);
					return 1;
				}
			got += (size_t)r;
		}
	}
	printf("ktls: %zu bytes through %s, port %d\n", got, cipher, ntohs(a.sin_port));
	return 0;
}
