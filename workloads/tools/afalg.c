/*
 * afalg: run data through a kernel crypto algorithm over an AF_ALG socket, the way
 * cryptsetup, iwd or libkcapi use the kernel's crypto from user space.
 *
 *   afalg hash NAME [KEYHEX]          digest (or keyed MAC) of stdin, printed in hex
 *   afalg skcipher NAME KEYHEX IVHEX  encrypt stdin (a block multiple), print the ciphertext
 *                                     hex, decrypt it back and check it matches
 *   afalg aead NAME KEYHEX IVHEX TAGLEN  seal stdin with no associated data, print hex
 *   afalg rng NAME N                  N bytes from a kernel RNG (seeded from /dev/urandom)
 *
 * Binding the socket is what makes the kernel load af_alg's algif_TYPE and the algorithm's
 * modules (crypto-NAME aliases). Exit status 0 on success, 1 with the errno on failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_alg.h>

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

static unsigned char buf[65536], out[65536 + 64], back[65536 + 64];

static int unhex(const char *s, unsigned char *b, size_t max)
{
	size_t n = strlen(s) / 2, i;

	if (n > max)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		b[i] = (unsigned char)v;
	}
	return (int)n;
}

static void hex(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int alg_open(const char *type, const char *name, const unsigned char *key, int klen)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG };
	int s;

	snprintf((char *)sa.salg_type, sizeof(sa.salg_type), "%s", type);
	snprintf((char *)sa.salg_name, sizeof(sa.salg_name), "%s", name);
	s = socket(AF_ALG, SOCK_SEQPACKET, 0);
	if (s < 0) {
		fprintf(stderr, "afalg: socket(AF_ALG): %s\n", strerror(errno));
		exit(1);
	}
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "afalg: bind %s %s: %s\n", type, name, strerror(errno));
		exit(1);
	}
	if (klen > 0 && setsockopt(s, SOL_ALG, ALG_SET_KEY, key, (socklen_t)klen) < 0) {
		fprintf(stderr, "afalg: key for %s: %s\n", name, strerror(errno));
		exit(1);
	}
	return s;
}

/* One operation: send data with the op, IV and AEAD length as control messages. */
static ssize_t alg_op(int s, int op, const unsigned char *iv, int ivlen, int assoc,
		      const unsigned char *in, size_t inlen, unsigned char *res, size_t reslen)
{
	char cbuf[CMSG_SPACE(4) + CMSG_SPACE(4 + 64) + CMSG_SPACE(4)] = { 0 };
	struct iovec iov = { (void *)in, inlen };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	struct af_alg_iv *aiv;
	int t;

	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_OP;
	c->cmsg_len = CMSG_LEN(4);
	memcpy(CMSG_DATA(c), &op, 4);
	c = CMSG_NXTHDR(&msg, c);
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_IV;
	c->cmsg_len = CMSG_LEN(4 + ivlen);
	aiv = (struct af_alg_iv *)CMSG_DATA(c);
	aiv->ivlen = (unsigned int)ivlen;
	memcpy(aiv->iv, iv, (size_t)ivlen);
	c = CMSG_NXTHDR(&msg, c);
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
	c->cmsg_len = CMSG_LEN(4);
	t = assoc;
	memcpy(CMSG_DATA(c), &t, 4);
	/* The kernel checks every header up to msg_controllen: no slack after the last. */
	msg.msg_controllen = (size_t)((char *)c - cbuf) + CMSG_SPACE(4);
	if (sendmsg(s, &msg, 0) < 0)
		return -errno;
	return read(s, res, reslen);
}

int main(int argc, char **argv)
{
	unsigned char key[128], iv[64];
	int klen = 0, ivlen = 0, s, op;
	size_t n = 0;
	ssize_t r;

	if (argc < 3) {
		fprintf(stderr, "usage: afalg hash|skcipher|aead|rng NAME [ARGS]\n");
		return 2;
	}
	if (strcmp(argv[1], "rng") == 0) {
		size_t want = argc > 3 ? (size_t)atoi(argv[3]) : 32;
		unsigned char seed[48];
		FILE *f = fopen("/dev/urandom", "r");

		if (!f || fread(seed, 1, sizeof(seed), f) != sizeof(seed))
			return 1;
		fclose(f);
		s = alg_open("rng", argv[2], seed, sizeof(seed));
		op = accept(s, NULL, 0);
		if (want > 128)
			want = 128;
		r = read(op, out, want);
		if (r < 0) {
			fprintf(stderr, "afalg: rng read: %s\n", strerror(errno));
			return 1;
		}
		hex(out, (size_t)r);
		return 0;
	}
	while (n < sizeof(buf) && (r = read(0, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	if (strcmp(argv[1], "hash") == 0) {
		if (argc > 3)
			klen = unhex(argv[3], key, sizeof(key));
		s = alg_open("hash", argv[2], key, klen);
		op = accept(s, NULL, 0);
		if (write(op, buf, n) < 0 || (r = read(op, out, sizeof(out))) < 0) {
			fprintf(stderr, "afalg: hash: %s\n", strerror(errno));
			return 1;
		}
		hex(out, (size_t)r);
		return 0;
	}
	if (argc < 5)
		return 2;
	klen = unhex(argv[3], key, sizeof(key));
	ivlen = unhex(argv[4], iv, sizeof(iv));
	if (strcmp(argv[1], "skcipher") == 0) {
		s = alg_open("skcipher", argv[2], key, klen);
		op = accept(s, NULL, 0);
		r = alg_op(op, ALG_OP_ENCRYPT, iv, ivlen, 0, buf, n, out, n);
		if (r < 0) {
			fprintf(stderr, "afalg: encrypt: %s\n", strerror((int)-r));
			return 1;
		}
		hex(out, (size_t)r < 32 ? (size_t)r : 32);
		close(op);
		op = accept(s, NULL, 0);
		r = alg_op(op, ALG_OP_DECRYPT, iv, ivlen, 0, out, (size_t)r, back, n);
		if (r < 0 || (size_t)r != n || memcmp(back, buf, n) != 0) {
			fprintf(stderr, "afalg: decrypt did not give the input back\n");
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "aead") == 0) {
		int tag = argc > 5 ? atoi(argv[5]) : 16;

		s = alg_open("aead", argv[2], key, klen);
		if (setsockopt(s, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, NULL, (socklen_t)tag) < 0) {
			fprintf(stderr, "afalg: authsize: %s\n", strerror(errno));
			return 1;
		}
		op = accept(s, NULL, 0);
		r = alg_op(op, ALG_OP_ENCRYPT, iv, ivlen, 0, buf, n, out, n + (size_t)tag);
		if (r < 0) {
			fprintf(stderr, "afalg: seal: %s\n", strerror((int)-r));
			return 1;
		}
		hex(out, (size_t)r < 32 ? (size_t)r : 32);
		return 0;
	}
	fprintf(stderr, "afalg: unknown type %s\n", argv[1]);
	return 2;
}
