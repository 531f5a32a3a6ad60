/* Features: word shapes and path classes, the tokens of known records of a real guest
 * trace (tests/fixtures/trace/guest-acceptance.bin: an SCTP socket, a vfat loop mount, a
 * vxlan link), the collapsing of plain calls, the prior of a script (comments, pml_expect
 * and expansions left out), the vocabulary (counting, pruning, prefix backoff, the save /
 * load round trip through a model file) and the encoder agreeing with the strings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/features.h"
#include "model/model-file.h"
#include "trace/trace-file.h"
#include "unit.h"

static char fixtures[512];

static const char *fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static void shape(const char *w, const char *want)
{
	char out[PML_FEAT_TOKEN_LEN];

	pml_feat_word_shape(w, out);
	CHECK_STR(out, want);
}

static void pclass(const char *p, const char *want)
{
	char out[PML_FEAT_TOKEN_LEN];

	pml_feat_path_class(p, out);
	CHECK_STR(out, want);
}

static void test_shapes(void)
{
	shape("4789", "#");
	shape("vx0", "vx#");
	shape("cp437", "cp#");
	shape("vxlan", "vxlan");
	shape("10.0.0.1/24", "ip4");
	shape("127.0.0.1", "ip4");
	shape("deadbeef01", "hex");
	shape("tmp.Ab3kL9xQ", "rand");
	shape("SCTP-CONNECT", "SCTP-CONNECT");
	shape("x86_64-linux-gnu", "x#_#-linux-gnu");
	shape("averyveryverylongwordthatgoesonandon", "long");
	pclass("/dev/loop-control", "/dev:loop-control");
	pclass("/dev/loop0", "/dev:loop#");
	pclass("/dev/net/tun", "/dev:net:tun");
	pclass("/proc/self/mountinfo", "/proc:#:mountinfo");
	pclass("/proc/1234/status", "/proc:#:status");
	pclass("/proc/sys/net/ipv4/ip_forward", "/proc:sys:net:ipv4");
	pclass("/sys/dev/block/7:0", "/sys:dev:block:#.#");
	pclass("/tmp/xyz123", "/tmp");
	pclass("/var/tmp/abc", "/var/tmp");
	pclass("./acceptance.sh", "rel");
	pclass("/", "/");
}

/* Every token of the fixture trace, one string "pid token" a line, in order. */
static char *trace_tokens(const char *path, int *ret_records, int *ret_plain, int *ret_sc)
{
	struct pml_trace_reader *r = NULL;
	struct pml_features *f = pml_features_new();
	const struct pml_tev_hdr *e;
	struct pml_feat_tokens t;
	size_t len = 0, cap = 1 << 16;
	char *all = malloc(cap);
	int rc;

	*ret_records = *ret_plain = *ret_sc = 0;
	all[0] = '\0';
	CHECK(pml_trace_reader_open(path, &r) == 0);
	while (r && (rc = pml_trace_reader_next(r, &e)) > 0) {
		(*ret_records)++;
		*ret_plain += e->kind == PML_TEV_SYSCALL;
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n; i++) {
			if (len + 100 > cap)
				all = realloc(all, cap *= 2);
			len += sprintf(all + len, "%u %s\n", e->pid, t.tok[i]);
			*ret_sc += !strncmp(t.tok[i], "sc:", 3);
		}
	}
	pml_trace_reader_free(r);
	pml_features_free(f);
	return all;
}

static void test_trace_tokens(void)
{
	int records, plain, sc;
	char *all = trace_tokens(fixture("trace/guest-acceptance.bin"), &records, &plain, &sc);
	const char *sock, *req, *mount, *vfat, *ip;

	printf("guest-acceptance: %d records (%d plain calls) -> %d sc tokens\n", records, plain,
	       sc);
	CHECK(records == 1194);
	/* collapsed: no start-up calls, each other plain call once per process and execve */
	CHECK(sc == 32);
	CHECK(!strstr(all, "sc:brk\n") && !strstr(all, "sc:mmap\n") && !strstr(all, "sc:read\n"));
	CHECK(strstr(all, "197 sc:vfork\n") && strstr(all, "209 sc:umount2\n"));
	/* the known records, in their order */
	sock = strstr(all, "198 sock:AF_INET:SOCK_STREAM:IPPROTO_SCTP\n");
	req = strstr(all, "198 req:net:net-pf-2-proto-132\n");
	CHECK(sock && req && sock < req);
	CHECK(strstr(all, "200 load:sctp\n") > req);
	CHECK(strstr(all, "198 exec:socat\n198 arg:-u\n198 argp:/dev:null\n198 arg:SCTP-CONNECT\n"
			  "198 arg:ip4:127.0.0.1\n198 arg:#:9\n") != NULL);
	CHECK(strstr(all, "204 open:/dev:loop-control\n204 req:char:char-major-10-237\n") != NULL);
	mount = strstr(all, "204 mount:vfat\n204 msrc:/dev:loop#\n");
	vfat = strstr(all, "204 req:fs:fs-vfat\n");
	CHECK(mount && vfat && mount < vfat);
	CHECK(strstr(all, "204 req:nls_cp437\n") != NULL);
	ip = strstr(all, "210 exec:ip\n210 arg:link\n210 arg:add\n210 arg:vx#:vx0\n210 arg:type\n"
			 "210 arg:vxlan\n210 arg:id\n210 arg:#:42\n");
	CHECK(ip != NULL);
	CHECK(strstr(all, "210 sock:AF_NETLINK:SOCK_RAW:NETLINK_ROUTE\n") > ip);
	CHECK(strstr(all, "210 req:rtnl:rtnl-link-vxlan\n") > ip);
	CHECK(strstr(all, "211 load:vxlan\n") != NULL);
	CHECK(strstr(all, "lib:libmount.so\n") != NULL);
	/* no library's open (its mapping says it), no tracepoint exec, the shell's second
	 * execve of the same command dropped */
	CHECK(!strstr(all, "libc.so.#"));
	CHECK(!strstr(all, "197 exec:sh\n197 argp:rel\n197 exec:sh"));
	/* exits: socat failed to connect */
	CHECK(strstr(all, "198 exit:fail\n") != NULL);
	free(all);
}

struct collect {
	char toks[256][PML_FEAT_TOKEN_LEN];
	int n;
};

static int collect_emit(void *ctx, const char *tok)
{
	struct collect *c = ctx;

	if (c->n < 256)
		snprintf(c->toks[c->n++], PML_FEAT_TOKEN_LEN, "%s", tok);
	return 0;
}

static int has(const struct collect *c, const char *tok)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->toks[i], tok))
			return i;
	return -1;
}

static void test_prior(void)
{
	static const char script[] =
		"#!/bin/sh\n"
		"# pml-expect: vxlan udp_tunnel\n"
		"set -e\n"
		". \"$(dirname \"$0\")/../lib/common.sh\"\n"
		"pml_expect bonding tls\n"
		"pml_pick mode active-backup balance-rr\n"
		"socat -u /dev/null SCTP-CONNECT:127.0.0.1:9 2>/dev/null\n"
		"ip link add \"$bond\" type bond mode \"$mode\" # a comment: geneve\n"
		"if mount -o loop /tmp/x.img /mnt; then umount /mnt; fi\n"
		"for i in 0 1; do ip link add vx$i type vxlan id 42; done\n"
		"x=$(modprobe -n sctp) && echo 'done, quoted' | cat\n"
		"bond=bond$bn\n"
		"timeout -k 5 30 env A=1 xxd -r\n"
		"$PML_PING -c 3 10.0.0.1\n"
		"cc=bbr opts='-P fq'\n"
		"v=ipip ip link show\n"
		"ip link add y type \"$v\"\n"
		"iperf3 -C \"$cc\" $opts ${cc}x\n"
		"dmsetup create p --table \"0 $(sectors $d) thin-pool $md 128 0\"\n"
		"sh -c 'ip link add x type ipvlan id 4'\n"
		"ls /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b/c\n"
		"cc=$(cat /etc/cc) && iperf3 -Z \"$cc\"\n";
	struct collect c = {.n = 0};
	int n = pml_features_prior("sh ./run.sh", script, collect_emit, &c);

	CHECK(n == c.n);
	CHECK(has(&c, PML_TOK_PRIOR) == 0);
	CHECK(has(&c, PML_TOK_START) == c.n - 1);
	CHECK(has(&c, "exec:sh") == 1);
	CHECK(has(&c, "exec:socat") > 0);
	CHECK(has(&c, "arg:SCTP-CONNECT") > 0);
	CHECK(has(&c, "arg:#:2") < 0);		/* 2>/dev/null: a descriptor */
	CHECK(has(&c, "arg:bonding") < 0);	/* pml_expect: the label itself */
	CHECK(has(&c, "arg:udp_tunnel") < 0);	/* the header comment */
	CHECK(has(&c, "arg:geneve") < 0);	/* a trailing comment */
	CHECK(has(&c, "arg:bond") > 0 && has(&c, "arg:mode") > 0);
	CHECK(has(&c, "arg:active-backup") > 0);
	CHECK(has(&c, "exec:mount") > 0 && has(&c, "exec:umount") > 0);
	CHECK(has(&c, "exec:if") < 0 && has(&c, "exec:for") < 0 && has(&c, "exec:do") < 0);
	CHECK(has(&c, "exec:ip") > 0 && has(&c, "arg:vxlan") > 0);
	CHECK(has(&c, "exec:modprobe") > 0 && has(&c, "arg:sctp") > 0);
	CHECK(has(&c, "exec:cat") > 0);
	/* wrappers, their options and numbers are not the program; an expansion is unknown */
	CHECK(has(&c, "exec:xxd") > 0 && has(&c, "exec:timeout") < 0 && has(&c, "exec:-k") < 0);
	CHECK(has(&c, "exec:?") > 0 && has(&c, "arg:-W") < 0 && has(&c, "arg:ip4:10.0.0.1") > 0);
	CHECK(has(&c, "exec:set") > 0);
	/* a variable given a literal value reads as it (unquoted: split at blanks) until it
	 * is given another one */
	CHECK(has(&c, "exec:iperf3") > 0 && has(&c, "arg:bbr") > 0 && has(&c, "arg:fq") > 0);
	CHECK(has(&c, "arg:bbrx") > 0);
	CHECK(has(&c, "arg:ipip") < 0); /* v=ipip cmd: v is cmd's, not the script's */
	CHECK(has(&c, "arg:-Z") > 0 && has(&c, "arg:-Z") == c.n - 2); /* its $cc: unknown */
	/* words in one argument are words; those holding an expansion are dropped */
	CHECK(has(&c, "exec:dmsetup") > 0 && has(&c, "arg:thin-pool") > 0);
	CHECK(has(&c, "arg:md") < 0 && has(&c, "arg:sectors") < 0);
	CHECK(has(&c, "arg:ipvlan") > 0 && has(&c, "arg:type") > 0);
	/* a path longer than a token is cut inside it (fuzz-prior found it written past) */
	CHECK(has(&c, "exec:ls") > 0 && has(&c, "exec:ls") + 1 < c.n &&
	      !strncmp(c.toks[has(&c, "exec:ls") + 1], "argp:/aaaa", 10));
	/* expansions are dropped, never half-read */
	for (int i = 0; i < c.n; i++)
		CHECK(!strchr(c.toks[i], '$'));
}

/* An execve argument holding words (a dm table, sh -c's script) gives a token per word;
 * a word holding an unexpanded $x or `x` gives none. */
static void test_exec_words(void)
{
	struct pml_tev_execve e = {.h = {.t_ns = 1, .pid = 7, .tid = 7, .kind = PML_TEV_EXECVE,
					 .size = sizeof(e), .nr = 59},
				   .argc = 4};
	struct pml_features *f = pml_features_new();
	struct pml_feat_tokens out = {0};
	bool pool = false, dev = false, dollar = false;

	snprintf(e.filename, sizeof(e.filename), "/usr/sbin/dmsetup");
	snprintf(e.argv[0], sizeof(e.argv[0]), "dmsetup");
	snprintf(e.argv[1], sizeof(e.argv[1]), "create");
	snprintf(e.argv[2], sizeof(e.argv[2]), "--table");
	snprintf(e.argv[3], sizeof(e.argv[3]), "0 2048 thin-pool /dev/loop1 $x 128");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(pml_features_record(f, &e.h, &out) > 0);
	for (int i = 0; i < out.n; i++) {
		pool |= !strcmp(out.tok[i], "arg:thin-pool");
		dev |= !strncmp(out.tok[i], "argp:/dev", 9);
		dollar |= strchr(out.tok[i], '$') != NULL;
	}
	CHECK(pool && dev && !dollar);
	pml_features_free(f);
}

/* A compound word (ipset's hash:ip,port) is given whole, then its parts; an address with
 * a port, a socat address and a key=value list are not compound; a long word among the
 * words of one argument is "long", as a long argument is. */
static void test_compound_words(void)
{
	struct collect c = {0};
	int whole;

	pml_features_prior(NULL,
			   "ipset create s hash:ip,port\n"
			   "socat TCP-LISTEN:80,fork 10.0.0.1:80 x:1y\n"
			   "sh -c 'ls aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\n",
			   collect_emit, &c);
	whole = has(&c, "arg:hash.ip,port");
	CHECK(whole > 0 && has(&c, "arg:hash") == whole + 1 && has(&c, "arg:ip") == whole + 2 &&
	      has(&c, "arg:port") == whole + 3);
	CHECK(has(&c, "arg:TCP-LISTEN") > 0 && has(&c, "arg:fork") > 0);
	for (int i = 0; i < c.n; i++)
		CHECK(!strstr(c.toks[i], "LISTEN.") && !strstr(c.toks[i], ".fork") &&
		      !strstr(c.toks[i], "x.#"));
	CHECK(has(&c, "arg:ls") > 0 && has(&c, "arg:long") == has(&c, "arg:ls") + 1);
}

static void test_vocab(void)
{
	struct pml_vocab *cnt = pml_vocab_new(), *v = NULL, *back = NULL;
	struct pml_model_file *mf = NULL;
	const char *modules[] = {"sctp"};
	char path[] = "/tmp/pml-test-vocab-XXXXXX";
	const char **strs;
	int fd;

	CHECK(pml_vocab_size(cnt) == 1);
	CHECK_STR(pml_vocab_token(cnt, 0), PML_TOK_OOV);
	/* three documents */
	CHECK(pml_vocab_count(cnt, "arg:vx#:vx0", 0) == 0);
	CHECK(pml_vocab_count(cnt, "arg:vx#:vx0", 0) == 0); /* same doc: once */
	CHECK(pml_vocab_count(cnt, "arg:vx#:vx7", 1) == 0);
	CHECK(pml_vocab_count(cnt, "arg:vx#:vx3", 2) == 0);
	CHECK(pml_vocab_count(cnt, "sc:read", 1) == 0);
	CHECK(pml_vocab_count(cnt, "sc:read", 2) == 0);
	CHECK(pml_vocab_docs(cnt, "arg:vx#:vx0") == 1);
	CHECK(pml_vocab_docs(cnt, "arg:vx#") == 3);
	CHECK(pml_vocab_docs(cnt, "arg") == 3);
	CHECK(pml_vocab_docs(cnt, "sc:read") == 2);
	CHECK(pml_vocab_prune(cnt, 2, 0, &v) == 0);
	if (!v)
		return;
	/* OOV, the specials, then by documents: arg, arg:vx#, sc (3), sc:read (2) */
	CHECK(pml_vocab_size(v) == 7);
	CHECK_STR(pml_vocab_token(v, 0), PML_TOK_OOV);
	CHECK_STR(pml_vocab_token(v, 1), PML_TOK_PRIOR);
	CHECK_STR(pml_vocab_token(v, 2), PML_TOK_START);
	CHECK_STR(pml_vocab_token(v, 3), "arg");
	CHECK_STR(pml_vocab_token(v, 4), "arg:vx#");
	CHECK_STR(pml_vocab_token(v, 6), "sc:read");
	CHECK(pml_vocab_find(v, "arg:vx#:vx0") < 0);
	/* backoff: a rare word falls back to its shape, an unknown kind to OOV */
	CHECK(pml_vocab_lookup(v, "arg:vx#:vx0") == 4);
	CHECK(pml_vocab_lookup(v, "arg:vx#:vx99") == 4);
	CHECK(pml_vocab_lookup(v, "arg:bond#:bond1") == 3);
	CHECK(pml_vocab_lookup(v, "sc:read") == 6);
	CHECK(pml_vocab_lookup(v, "sc:write") == 5);
	CHECK(pml_vocab_lookup(v, "mount:vfat") == 0);
	CHECK(pml_vocab_lookup(v, "") == 0);

	/* round trip through a model file */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	strs = malloc(sizeof(char *) * pml_vocab_size(v));
	for (size_t i = 0; i < pml_vocab_size(v); i++)
		strs[i] = pml_vocab_token(v, (int32_t)i);
	{
		float w[1] = {0};
		struct pml_model_desc d = {
			.kind = PML_MODEL_NGRAM,
			.params = {(uint32_t)pml_vocab_size(v), 1, 1, 0, 2000},
			.meta = {.kernel_release = "6.1.0-56-amd64", .vocab = strs,
				 .modules = modules, .features_version = PML_FEAT_VERSION},
			.n_vocab = (uint32_t)pml_vocab_size(v),
			.n_modules = 1,
			.weights = w,
			.n_weights = 1,
		};

		CHECK(pml_model_file_write(path, &d) == 0);
	}
	CHECK(pml_model_file_open(path, NULL, 0, &mf) == 0);
	if (mf) {
		CHECK(mf->features_version == PML_FEAT_VERSION);
		CHECK(pml_vocab_from_strings(mf->vocab, mf->n_vocab, &back) == 0);
		CHECK(back && pml_vocab_size(back) == pml_vocab_size(v));
		for (size_t i = 0; back && i < pml_vocab_size(v); i++)
			CHECK_STR(pml_vocab_token(back, (int32_t)i), pml_vocab_token(v, (int32_t)i));
		CHECK(back && pml_vocab_lookup(back, "arg:vx#:vx5") == 4);
	}
	/* a list not starting with OOV, or with a duplicate, is refused */
	{
		const char *bad1[] = {"sc:read", "<oov>"};
		const char *bad2[] = {"<oov>", "a", "a"};
		struct pml_vocab *x = NULL;

		CHECK(pml_vocab_from_strings(bad1, 2, &x) == -EINVAL);
		CHECK(pml_vocab_from_strings(bad2, 3, &x) == -EINVAL);
	}
	pml_model_file_free(mf);
	unlink(path);
	free(strs);
	pml_vocab_free(back);
	pml_vocab_free(v);
	pml_vocab_free(cnt);
}

/* The encoder's fast path and the string path give the same ids on the whole trace. */
static void test_encoder(void)
{
	struct pml_trace_reader *r = NULL;
	struct pml_features *f = pml_features_new();
	struct pml_vocab *cnt = pml_vocab_new(), *v = NULL;
	struct pml_feat_encoder *enc;
	const struct pml_tev_hdr *e;
	struct pml_feat_tokens t;
	int32_t ids[PML_FEAT_MAX_TOKENS];
	int mismatches = 0, total = 0, oov = 0;

	CHECK(pml_trace_reader_open(fixture("trace/guest-acceptance.bin"), &r) == 0);
	while (r && pml_trace_reader_next(r, &e) > 0) {
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n; i++)
			pml_vocab_count(cnt, t.tok[i], 0);
	}
	pml_trace_reader_free(r);
	r = NULL;
	CHECK(pml_vocab_prune(cnt, 1, 0, &v) == 0);
	enc = pml_feat_encoder_new(v);
	pml_features_reset(f);
	CHECK(pml_trace_reader_open(fixture("trace/guest-acceptance.bin"), &r) == 0);
	while (r && pml_trace_reader_next(r, &e) > 0) {
		int n = pml_feat_encode_record(enc, e, ids);

		pml_features_record(f, e, &t);
		mismatches += n != t.n;
		for (int i = 0; i < n && i < t.n; i++) {
			mismatches += ids[i] != pml_vocab_find(v, t.tok[i]);
			oov += ids[i] == 0;
			total++;
		}
	}
	printf("encoder: %d tokens, %d mismatches, %d out of vocabulary\n", total, mismatches,
	       oov);
	CHECK(total > 150 && mismatches == 0 && oov == 0);
	{
		int32_t prior[64];
		int n = pml_feat_encode_prior(v, "sh ./acceptance.sh", "mount -o loop x /mnt\n",
					      prior, 64);

		CHECK(n == 9);
		CHECK(prior[0] == pml_vocab_find(v, PML_TOK_PRIOR));
		CHECK(prior[n - 1] == pml_vocab_find(v, PML_TOK_START));
		CHECK(prior[3] == pml_vocab_find(v, "exec:mount"));
		/* a cut prior keeps its <start> */
		n = pml_feat_encode_prior(v, "sh ./acceptance.sh", "mount -o loop x /mnt\n",
					  prior, 4);
		CHECK(n == 4 && prior[3] == pml_vocab_find(v, PML_TOK_START));
	}
	pml_trace_reader_free(r);
	pml_feat_encoder_free(enc);
	pml_vocab_free(v);
	pml_vocab_free(cnt);
	pml_features_free(f);
}

int main(void)
{
	const char *fx = getenv("PML_TEST_FIXTURES");

	snprintf(fixtures, sizeof(fixtures), "%s", fx ? fx : "tests/fixtures");
	test_shapes();
	test_trace_tokens();
	test_prior();
	test_exec_words();
	test_compound_words();
	test_vocab();
	test_encoder();
	return unit_done("features");
}
