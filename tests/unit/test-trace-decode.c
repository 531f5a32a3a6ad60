/* Decoding of raw trace events: the readable form of the calls the acceptance trace must
 * show (SCTP socket, vfat mount, vxlan link), robustness against damaged records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace-decode.h"
#include "unit.h"

static void hdr(void *raw, unsigned kind, size_t size, int nr)
{
	struct pml_tev_hdr *h = raw;

	memset(raw, 0, size);
	h->t_ns = 2500000000ull;
	h->pid = 42;
	h->tid = 43;
	h->kind = kind;
	h->size = size;
	h->nr = nr;
}

static const char *fmt(const void *raw, size_t size, char *buf, size_t len)
{
	struct pml_trace_decoded d;

	if (pml_trace_event_decode(raw, size, &d))
		return "(refused)";
	pml_trace_decoded_format(&d, 1000000000ull, buf, len);
	return buf;
}

static void test_names(void)
{
	CHECK_STR(pml_syscall_name(41), "socket");
	CHECK_STR(pml_syscall_name(165), "mount");
	CHECK(pml_syscall_name(9999) == NULL);
	CHECK(pml_syscall_name(-1) == NULL);
	CHECK(pml_syscall_nr("finit_module") == 313);
	CHECK(pml_syscall_nr("nope") == -ENOENT);
	CHECK_STR(pml_af_name(38), "AF_ALG");
	CHECK_STR(pml_ipproto_name(132), "IPPROTO_SCTP");
	CHECK_STR(pml_bpf_cmd_name(5), "BPF_PROG_LOAD");
	CHECK_STR(pml_tev_kind_name(PML_TEV_MOD_REQUEST), "module_request");
	CHECK_STR(pml_tev_kind_name(999), "unknown");
}

static void test_socket(void)
{
	struct pml_tev_socket e;
	struct pml_trace_decoded d;
	char buf[256];

	hdr(&e, PML_TEV_SOCKET, sizeof(e), 41);
	e.family = 2;
	e.type = 1 | 02000000;
	e.protocol = 132;
	CHECK(pml_trace_event_decode(&e, sizeof(e), &d) == 0);
	CHECK_STR(d.name, "socket");
	CHECK_STR(pml_trace_decoded_get(&d, "family")->str, "AF_INET");
	CHECK_STR(pml_trace_decoded_get(&d, "type")->str, "SOCK_STREAM|SOCK_CLOEXEC");
	CHECK_STR(pml_trace_decoded_get(&d, "protocol")->str, "IPPROTO_SCTP");
	CHECK_STR(fmt(&e, sizeof(e), buf, sizeof(buf)),
		  "   1.500000     42/43     socket(family=AF_INET type=SOCK_STREAM|SOCK_CLOEXEC "
		  "protocol=IPPROTO_SCTP)");
	/* an unknown family is shown as its number */
	e.family = 99;
	CHECK(pml_trace_event_decode(&e, sizeof(e), &d) == 0);
	CHECK(pml_trace_decoded_get(&d, "family")->is_num);
	CHECK(pml_trace_decoded_get(&d, "family")->num == 99);
}

static void test_execve_mount_module(void)
{
	struct pml_tev_execve x;
	struct pml_tev_mount m;
	struct pml_tev_module r;
	struct pml_trace_decoded d;
	const char *args[] = {"ip", "link", "add", "x", "type", "vxlan", "id", "42"};
	char buf[512];

	hdr(&x, PML_TEV_EXECVE, sizeof(x), 59);
	strcpy(x.filename, "/usr/sbin/ip");
	for (int i = 0; i < 8; i++)
		strcpy(x.argv[i], args[i]);
	x.argc = 8;
	x.more = 1;
	CHECK(pml_trace_event_decode(&x, sizeof(x), &d) == 0);
	CHECK_STR(d.name, "execve");
	CHECK_STR(pml_trace_decoded_get(&d, "filename")->str, "/usr/sbin/ip");
	CHECK_STR(pml_trace_decoded_get(&d, "argv")->str, "ip link add x type vxlan id 42");
	CHECK(pml_trace_decoded_get(&d, "more") != NULL);
	/* an argument without its NUL stops at the field's end */
	memset(x.argv[0], 'A', PML_TEV_ARG_LEN);
	x.argc = 1000;
	CHECK(pml_trace_event_decode(&x, sizeof(x), &d) == 0);
	CHECK(strlen(pml_trace_decoded_get(&d, "argv")->str) > PML_TEV_ARG_LEN);

	hdr(&m, PML_TEV_MOUNT, sizeof(m), 165);
	strcpy(m.fstype, "vfat");
	strcpy(m.source, "/dev/loop0");
	CHECK_STR(fmt(&m, sizeof(m), buf, sizeof(buf)),
		  "   1.500000     42/43     mount(fstype=vfat source=/dev/loop0 flags=0x0)");

	hdr(&r, PML_TEV_MOD_REQUEST, sizeof(r), -1);
	strcpy(r.name, "net-pf-2-proto-132-type-1");
	r.arg = 1;
	CHECK_STR(fmt(&r, sizeof(r), buf, sizeof(buf)),
		  "   1.500000     42/43     module_request module=net-pf-2-proto-132-type-1 "
		  "wait=1");
}

static void test_netlink(void)
{
	struct pml_tev_netlink n;
	char buf[256];

	hdr(&n, PML_TEV_NETLINK, sizeof(n), 46);
	n.fd = 3;
	n.protocol = 0;
	n.nlmsg_type = 16;
	n.nlmsg_flags = 0x605;
	strcpy(n.kind, "vxlan");
	CHECK_STR(fmt(&n, sizeof(n), buf, sizeof(buf)),
		  "   1.500000     42/43     sendmsg(fd=3 protocol=NETLINK_ROUTE type=RTM_NEWLINK "
		  "flags=0x605 kind=vxlan)");
	n.protocol = 12; /* netfilter: subsystem 10 (nftables), message 0 */
	n.nlmsg_type = 10 << 8;
	n.kind[0] = 0;
	CHECK_STR(fmt(&n, sizeof(n), buf, sizeof(buf)),
		  "   1.500000     42/43     sendmsg(fd=3 protocol=NETLINK_NETFILTER "
		  "type=subsys10/0 flags=0x605)");
}

static void test_refusals(void)
{
	struct pml_tev_socket e;
	struct pml_trace_decoded d;
	uint8_t big[PML_TEV_MAX_SIZE + 8];

	hdr(&e, PML_TEV_SOCKET, sizeof(e), 41);
	CHECK(pml_tev_check(&e, sizeof(e)) == 0);
	CHECK(pml_tev_check(&e, 16) == -EBADMSG);		 /* shorter than a header */
	CHECK(pml_tev_check(&e, sizeof(e) - 8) == -EBADMSG); /* size field disagrees */
	e.h.size = 24;
	CHECK(pml_tev_check(&e, 24) == -EBADMSG); /* too short for its kind */
	CHECK(pml_trace_event_decode(&e, 24, &d) == -EBADMSG);
	/* an unknown kind of sane size (a newer writer's) passes and decodes as "unknown",
	 * shown by its number, its payload skipped */
	hdr(&e, 200, sizeof(e), -1);
	CHECK(pml_trace_event_decode(&e, sizeof(e), &d) == 0);
	CHECK_STR(d.kind_name, "unknown");
	CHECK_STR(d.name, "kind200");
	CHECK(d.n_fields == 0);
	hdr(big, 200, sizeof(big), -1);
	CHECK(pml_tev_check(big, sizeof(big)) == -EBADMSG);
}

static void test_normalize(void)
{
	struct pml_tev_path p;
	struct pml_tev_execve x;

	hdr(&p, PML_TEV_PATH, sizeof(p), 257);
	memset(p.path, 'z', sizeof(p.path));
	memcpy(p.path, "/dev/net/tun", 13);
	pml_tev_normalize(&p, sizeof(p));
	CHECK_STR(p.path, "/dev/net/tun");
	CHECK(p.path[sizeof(p.path) - 1] == 0 && p.path[20] == 0);
	memset(p.path, 'z', sizeof(p.path));
	pml_tev_normalize(&p, sizeof(p));
	CHECK(strlen(p.path) == sizeof(p.path) - 1);

	hdr(&x, PML_TEV_EXECVE, sizeof(x), 59);
	memset(x.argv, 'q', sizeof(x.argv));
	x.argc = 77;
	pml_tev_normalize(&x, sizeof(x));
	CHECK(x.argc == PML_TEV_EXEC_ARGS);
	CHECK(strlen(x.argv[7]) == PML_TEV_ARG_LEN - 1);
}

static void test_json(void)
{
	struct pml_tev_sockaddr a;
	struct pml_trace_decoded d;
	struct pml_json j;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	hdr(&a, PML_TEV_SOCKADDR, sizeof(a), 49);
	a.fd = 3;
	a.addrlen = 88;
	a.addr[0] = 38; /* AF_ALG, little-endian */
	strcpy((char *)a.addr + 2, "skcipher");
	CHECK(pml_trace_event_decode(&a, sizeof(a), &d) == 0);
	pml_json_init(&j, f, false);
	pml_trace_decoded_json(&d, &j, NULL);
	fclose(f);
	CHECK_STR(text, "{\"t_ns\":2500000000,\"pid\":42,\"tid\":43,\"kind\":\"sockaddr\","
			"\"name\":\"bind\",\"nr\":49,\"fd\":3,\"family\":\"AF_ALG\","
			"\"alg_type\":\"skcipher\"}");
	free(text);
}

/* Version 2 kinds: samples (resolved and not), objects, faults. */
static void test_v2_kinds(void)
{
	struct pml_tev_sample sm;
	struct pml_tev_object ob;
	struct pml_tev_faults fa;
	struct pml_trace_decoded d;
	char buf[512];

	CHECK(PML_TRACE_EVENT_VERSION >= 2);
	CHECK_STR(pml_tev_kind_name(PML_TEV_SAMPLE), "sample");
	CHECK_STR(pml_tev_kind_name(PML_TEV_OBJECT), "object");
	CHECK_STR(pml_tev_kind_name(PML_TEV_FAULTS), "faults");
	/* every kind has a name and a size */
	for (unsigned k = 1; k < PML_TEV__COUNT; k++)
		CHECK(pml_tev_size(k) && strcmp(pml_tev_kind_name(k), "unknown"));

	hdr(&sm, PML_TEV_SAMPLE, sizeof(sm), -1);
	sm.ip = 0x55d0c0de1234;
	sm.ino = 4242;
	sm.dev = (8 << 20) | 1;
	sm.offset = 0x1234;
	/* as the kernel sends it: not resolved */
	CHECK_STR(fmt(&sm, sizeof(sm), buf, sizeof(buf)),
		  "   1.500000     42/43     sample ino4242:+0x1234 ip=0x55d0c0de1234");
	sm.flags = PML_SAMPLE_RESOLVED;
	strcpy(sm.object, "mkfs.xfs");
	strcpy(sm.func, "main");
	CHECK_STR(fmt(&sm, sizeof(sm), buf, sizeof(buf)),
		  "   1.500000     42/43     sample mkfs.xfs:main ip=0x55d0c0de1234");
	CHECK(pml_trace_event_decode(&sm, sizeof(sm), &d) == 0);
	CHECK_STR(pml_trace_decoded_get(&d, "at")->str, "mkfs.xfs:main");
	/* a function the tables do not know: the offset in the object */
	sm.func[0] = '\0';
	sm.flags |= PML_SAMPLE_KERNEL;
	CHECK_STR(fmt(&sm, sizeof(sm), buf, sizeof(buf)),
		  "   1.500000     42/43     sample mkfs.xfs:+0x1234 ip=0x55d0c0de1234 kernel=1");
	/* anonymous code */
	sm.ino = 0;
	strcpy(sm.object, "[vdso]");
	sm.flags = PML_SAMPLE_RESOLVED;
	CHECK_STR(fmt(&sm, sizeof(sm), buf, sizeof(buf)),
		  "   1.500000     42/43     sample [vdso] ip=0x55d0c0de1234");
	/* names without their NUL are bounded and normalised */
	memset(sm.func, 'f', sizeof(sm.func));
	strcpy(sm.object, "libnftables.so.1");
	sm.ino = 1;
	pml_tev_normalize(&sm, sizeof(sm));
	CHECK(sm.func[PML_TEV_FUNC_LEN - 1] == '\0');
	CHECK(pml_trace_event_decode(&sm, sizeof(sm), &d) == 0);
	CHECK(strlen(pml_trace_decoded_get(&d, "at")->str) == 17 + PML_TEV_FUNC_LEN - 1);

	hdr(&ob, PML_TEV_OBJECT, sizeof(ob), -1);
	ob.ino = 99;
	ob.dev = (254 << 20) | 3;
	strcpy(ob.path, "/usr/lib/x86_64-linux-gnu/libnftables.so.1.1.0");
	CHECK_STR(fmt(&ob, sizeof(ob), buf, sizeof(buf)),
		  "   1.500000     42/43     object path=/usr/lib/x86_64-linux-gnu/libnftables.so.1.1.0 "
		  "dev=254:3 ino=99");

	hdr(&fa, PML_TEV_FAULTS, sizeof(fa), -1);
	fa.span_ns = 100000000;
	fa.count[PML_FAULT_HEAP] = 12;
	fa.count[PML_FAULT_STACK] = 3;
	fa.count[PML_FAULT_FILE] = 40;
	fa.count[PML_FAULT_ANON] = 7;
	CHECK_STR(fmt(&fa, sizeof(fa), buf, sizeof(buf)),
		  "   1.500000     42/43     faults heap=12 stack=3 file=40 anon=7 ms=100");
	CHECK(pml_trace_event_decode(&fa, sizeof(fa), &d) == 0);
	CHECK(pml_trace_decoded_get(&d, "file")->num == 40);
	/* sizes are checked as for every kind */
	CHECK(pml_tev_check(&fa, sizeof(fa) - 8) == -EBADMSG);
	fa.h.size = sizeof(fa) + 8;
	CHECK(pml_tev_check(&fa, sizeof(fa) + 8) == -EBADMSG);
}

int main(void)
{
	test_names();
	test_socket();
	test_execve_mount_module();
	test_netlink();
	test_refusals();
	test_normalize();
	test_json();
	test_v2_kinds();
	return unit_done("trace-decode");
}
