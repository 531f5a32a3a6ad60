/* Pure decoding of raw trace events: sizes and checks per kind, string normalisation, and
 * the key/value form that `pml trace dump`, the JSON output and the model's features use.
 * The name tables cover what predicts a module need (families, protocols, socket types,
 * bpf commands, a few ioctls); anything else is shown as a number. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/trace-decode.h"

#include "trace/syscall-names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(sizeof(struct pml_tev_hdr) == 24, "header layout");
_Static_assert(sizeof(struct pml_tev_execve) % 8 == 0, "record sizes are multiples of 8");
_Static_assert(sizeof(struct pml_tev_execve) <= PML_TEV_MAX_SIZE, "max record size");
_Static_assert(sizeof(struct pml_tev_sample) == 152, "sample layout");
_Static_assert(sizeof(struct pml_tev_object) == 360, "object layout");
_Static_assert(sizeof(struct pml_tev_faults) == 48, "faults layout");
_Static_assert(PML_TEV_NETLINK == 20 && PML_TEV_SAMPLE == 21, "kinds are never renumbered");

static const struct {
	const char *name;
	size_t size;
} kinds[PML_TEV__COUNT] = {
	[PML_TEV_SYSCALL] = {"syscall", sizeof(struct pml_tev_hdr)},
	[PML_TEV_SOCKET] = {"socket", sizeof(struct pml_tev_socket)},
	[PML_TEV_SOCKOPT] = {"sockopt", sizeof(struct pml_tev_sockopt)},
	[PML_TEV_SOCKADDR] = {"sockaddr", sizeof(struct pml_tev_sockaddr)},
	[PML_TEV_PATH] = {"path", sizeof(struct pml_tev_path)},
	[PML_TEV_EXECVE] = {"execve", sizeof(struct pml_tev_execve)},
	[PML_TEV_MOUNT] = {"mount", sizeof(struct pml_tev_mount)},
	[PML_TEV_IOCTL] = {"ioctl", sizeof(struct pml_tev_ioctl)},
	[PML_TEV_BPF] = {"bpf", sizeof(struct pml_tev_bpf)},
	[PML_TEV_KEY] = {"key", sizeof(struct pml_tev_key)},
	[PML_TEV_MODCALL] = {"modcall", sizeof(struct pml_tev_modcall)},
	[PML_TEV_MMAP] = {"mmap", sizeof(struct pml_tev_mmap)},
	[PML_TEV_MOD_REQUEST] = {"module_request", sizeof(struct pml_tev_module)},
	[PML_TEV_MOD_LOAD] = {"module_load", sizeof(struct pml_tev_module)},
	[PML_TEV_MOD_FREE] = {"module_free", sizeof(struct pml_tev_module)},
	[PML_TEV_FORK] = {"fork", sizeof(struct pml_tev_proc)},
	[PML_TEV_EXEC] = {"exec", sizeof(struct pml_tev_proc)},
	[PML_TEV_EXIT] = {"exit", sizeof(struct pml_tev_proc)},
	[PML_TEV_DROPS] = {"drops", sizeof(struct pml_tev_drops)},
	[PML_TEV_NETLINK] = {"netlink", sizeof(struct pml_tev_netlink)},
	[PML_TEV_SAMPLE] = {"sample", sizeof(struct pml_tev_sample)},
	[PML_TEV_OBJECT] = {"object", sizeof(struct pml_tev_object)},
	[PML_TEV_FAULTS] = {"faults", sizeof(struct pml_tev_faults)},
};

size_t pml_tev_size(unsigned kind)
{
	return kind < ARRAY_SIZE(kinds) ? kinds[kind].size : 0;
}

const char *pml_tev_kind_name(unsigned kind)
{
	return kind < ARRAY_SIZE(kinds) && kinds[kind].name ? kinds[kind].name : "unknown";
}

const char *pml_syscall_name(int nr)
{
	if (nr < 0 || (size_t)nr >= ARRAY_SIZE(pml_syscall_names))
		return NULL;
	return pml_syscall_names[nr];
}

int pml_syscall_nr(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(pml_syscall_names); i++)
		if (pml_syscall_names[i] && !strcmp(pml_syscall_names[i], name))
			return (int)i;
	return -ENOENT;
}

int pml_tev_check(const void *raw, size_t size)
{
	struct pml_tev_hdr h;
	size_t want;

	if (size < sizeof(h) || size > PML_TEV_MAX_SIZE || size % 8)
		return -EBADMSG;
	memcpy(&h, raw, sizeof(h));
	if (h.size != size)
		return -EBADMSG;
	want = pml_tev_size(h.kind);
	if (want && want != size)
		return -EBADMSG;
	return 0;
}

/* String fields per kind: offset and length. */
struct str_field {
	unsigned kind;
	size_t off, len;
};

#define SF(k, type, field) {k, offsetof(struct type, field), sizeof(((struct type *)0)->field)}
static const struct str_field str_fields[] = {
	SF(PML_TEV_SOCKOPT, pml_tev_sockopt, ulp),
	SF(PML_TEV_PATH, pml_tev_path, path),
	SF(PML_TEV_EXECVE, pml_tev_execve, filename),
	SF(PML_TEV_MOUNT, pml_tev_mount, fstype),
	SF(PML_TEV_MOUNT, pml_tev_mount, source),
	SF(PML_TEV_KEY, pml_tev_key, type),
	SF(PML_TEV_MODCALL, pml_tev_modcall, name),
	SF(PML_TEV_MMAP, pml_tev_mmap, name),
	SF(PML_TEV_MOD_REQUEST, pml_tev_module, name),
	SF(PML_TEV_MOD_LOAD, pml_tev_module, name),
	SF(PML_TEV_MOD_FREE, pml_tev_module, name),
	SF(PML_TEV_FORK, pml_tev_proc, comm),
	SF(PML_TEV_FORK, pml_tev_proc, filename),
	SF(PML_TEV_EXEC, pml_tev_proc, comm),
	SF(PML_TEV_EXEC, pml_tev_proc, filename),
	SF(PML_TEV_EXIT, pml_tev_proc, comm),
	SF(PML_TEV_EXIT, pml_tev_proc, filename),
	SF(PML_TEV_NETLINK, pml_tev_netlink, kind),
	SF(PML_TEV_SAMPLE, pml_tev_sample, object),
	SF(PML_TEV_SAMPLE, pml_tev_sample, func),
	SF(PML_TEV_OBJECT, pml_tev_object, path),
};

static void normalize_str(char *s, size_t len)
{
	size_t n = strnlen(s, len);

	if (n == len)
		n = len - 1;
	memset(s + n, 0, len - n);
}

void pml_tev_normalize(void *raw, size_t size)
{
	struct pml_tev_hdr h;
	char *p = raw;

	if (pml_tev_check(raw, size))
		return;
	memcpy(&h, raw, sizeof(h));
	if (!pml_tev_size(h.kind))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(str_fields); i++)
		if (str_fields[i].kind == h.kind)
			normalize_str(p + str_fields[i].off, str_fields[i].len);
	if (h.kind == PML_TEV_EXECVE) {
		struct pml_tev_execve *e = raw;

		for (int i = 0; i < PML_TEV_EXEC_ARGS; i++)
			normalize_str(e->argv[i], PML_TEV_ARG_LEN);
		if (e->argc > PML_TEV_EXEC_ARGS)
			e->argc = PML_TEV_EXEC_ARGS;
	}
}

/* Name tables. */

static const char *const af_names[] = {
	[0] = "AF_UNSPEC",	 [1] = "AF_UNIX",	 [2] = "AF_INET",
	[3] = "AF_AX25",	 [4] = "AF_IPX",	 [5] = "AF_APPLETALK",
	[6] = "AF_NETROM",	 [7] = "AF_BRIDGE",	 [8] = "AF_ATMPVC",
	[9] = "AF_X25",		 [10] = "AF_INET6",	 [11] = "AF_ROSE",
	[12] = "AF_DECnet",	 [13] = "AF_NETBEUI",	 [14] = "AF_SECURITY",
	[15] = "AF_KEY",	 [16] = "AF_NETLINK",	 [17] = "AF_PACKET",
	[18] = "AF_ASH",	 [19] = "AF_ECONET",	 [20] = "AF_ATMSVC",
	[21] = "AF_RDS",	 [22] = "AF_SNA",	 [23] = "AF_IRDA",
	[24] = "AF_PPPOX",	 [25] = "AF_WANPIPE",	 [26] = "AF_LLC",
	[27] = "AF_IB",		 [28] = "AF_MPLS",	 [29] = "AF_CAN",
	[30] = "AF_TIPC",	 [31] = "AF_BLUETOOTH",	 [32] = "AF_IUCV",
	[33] = "AF_RXRPC",	 [34] = "AF_ISDN",	 [35] = "AF_PHONET",
	[36] = "AF_IEEE802154",	 [37] = "AF_CAIF",	 [38] = "AF_ALG",
	[39] = "AF_NFC",	 [40] = "AF_VSOCK",	 [41] = "AF_KCM",
	[42] = "AF_QIPCRTR",	 [43] = "AF_SMC",	 [44] = "AF_XDP",
	[45] = "AF_MCTP",
};

const char *pml_af_name(int family)
{
	return family >= 0 && (size_t)family < ARRAY_SIZE(af_names) ? af_names[family] : NULL;
}

static const char *const sock_type_names[] = {
	[1] = "SOCK_STREAM", [2] = "SOCK_DGRAM",     [3] = "SOCK_RAW",
	[4] = "SOCK_RDM",    [5] = "SOCK_SEQPACKET", [6] = "SOCK_DCCP",
	[10] = "SOCK_PACKET",
};

#define PML_SOCK_TYPE_MASK 0xf

const char *pml_sock_type_name(int type)
{
	type &= PML_SOCK_TYPE_MASK;
	return (size_t)type < ARRAY_SIZE(sock_type_names) ? sock_type_names[type] : NULL;
}

const char *pml_ipproto_name(int protocol)
{
	switch (protocol) {
	case 0: return "IPPROTO_IP";
	case 1: return "IPPROTO_ICMP";
	case 2: return "IPPROTO_IGMP";
	case 4: return "IPPROTO_IPIP";
	case 6: return "IPPROTO_TCP";
	case 17: return "IPPROTO_UDP";
	case 33: return "IPPROTO_DCCP";
	case 41: return "IPPROTO_IPV6";
	case 47: return "IPPROTO_GRE";
	case 50: return "IPPROTO_ESP";
	case 51: return "IPPROTO_AH";
	case 58: return "IPPROTO_ICMPV6";
	case 103: return "IPPROTO_PIM";
	case 115: return "IPPROTO_L2TP";
	case 132: return "IPPROTO_SCTP";
	case 136: return "IPPROTO_UDPLITE";
	case 137: return "IPPROTO_MPLS";
	case 255: return "IPPROTO_RAW";
	case 262: return "IPPROTO_MPTCP";
	}
	return NULL;
}

static const char *const netlink_names[] = {
	[0] = "NETLINK_ROUTE",	       [2] = "NETLINK_USERSOCK",
	[3] = "NETLINK_FIREWALL",      [4] = "NETLINK_SOCK_DIAG",
	[5] = "NETLINK_NFLOG",	       [6] = "NETLINK_XFRM",
	[7] = "NETLINK_SELINUX",       [8] = "NETLINK_ISCSI",
	[9] = "NETLINK_AUDIT",	       [10] = "NETLINK_FIB_LOOKUP",
	[11] = "NETLINK_CONNECTOR",    [12] = "NETLINK_NETFILTER",
	[13] = "NETLINK_IP6_FW",       [14] = "NETLINK_DNRTMSG",
	[15] = "NETLINK_KOBJECT_UEVENT", [16] = "NETLINK_GENERIC",
	[18] = "NETLINK_SCSITRANSPORT", [19] = "NETLINK_ECRYPTFS",
	[20] = "NETLINK_RDMA",	       [21] = "NETLINK_CRYPTO",
	[22] = "NETLINK_SMC",
};

const char *pml_netlink_proto_name(int protocol)
{
	return protocol >= 0 && (size_t)protocol < ARRAY_SIZE(netlink_names)
		       ? netlink_names[protocol]
		       : NULL;
}

static const char *const bpf_cmd_names[] = {
	"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
	"BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET",
	"BPF_PROG_ATTACH", "BPF_PROG_DETACH", "BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID",
	"BPF_MAP_GET_NEXT_ID", "BPF_PROG_GET_FD_BY_ID", "BPF_MAP_GET_FD_BY_ID",
	"BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY", "BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD",
	"BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY", "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
	"BPF_MAP_FREEZE", "BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH",
	"BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH",
	"BPF_LINK_CREATE", "BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
	"BPF_ENABLE_STATS", "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP",
};

const char *pml_bpf_cmd_name(int cmd)
{
	return cmd >= 0 && (size_t)cmd < ARRAY_SIZE(bpf_cmd_names) ? bpf_cmd_names[cmd] : NULL;
}

static const char *ioctl_name(uint32_t cmd)
{
	switch (cmd) {
	case 0x4c00: return "LOOP_SET_FD";
	case 0x4c01: return "LOOP_CLR_FD";
	case 0x4c04: return "LOOP_SET_STATUS64";
	case 0x4c0a: return "LOOP_CONFIGURE";
	case 0x4c80: return "LOOP_CTL_ADD";
	case 0x4c82: return "LOOP_CTL_GET_FREE";
	case 0x400454ca: return "TUNSETIFF";
	case 0x8913: return "SIOCGIFFLAGS";
	case 0x8914: return "SIOCSIFFLAGS";
	case 0x8933: return "SIOCGIFINDEX";
	case 0x89a0: return "SIOCBRADDBR";
	case 0x5401: return "TCGETS";
	case 0x5413: return "TIOCGWINSZ";
	}
	return NULL;
}

static const char *rtm_name(unsigned type)
{
	switch (type) {
	case 16: return "RTM_NEWLINK";
	case 17: return "RTM_DELLINK";
	case 18: return "RTM_GETLINK";
	case 19: return "RTM_SETLINK";
	case 20: return "RTM_NEWADDR";
	case 21: return "RTM_DELADDR";
	case 22: return "RTM_GETADDR";
	case 24: return "RTM_NEWROUTE";
	case 25: return "RTM_DELROUTE";
	case 26: return "RTM_GETROUTE";
	case 28: return "RTM_NEWNEIGH";
	case 32: return "RTM_NEWRULE";
	case 36: return "RTM_NEWQDISC";
	case 40: return "RTM_NEWTCLASS";
	case 44: return "RTM_NEWTFILTER";
	case 104: return "RTM_NEWCHAIN";
	}
	return NULL;
}

/* Building the field list. */

static const char *buf_add(struct pml_trace_decoded *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *buf_add(struct pml_trace_decoded *d, const char *fmt, ...)
{
	size_t room = sizeof(d->buf) - d->buf_used;
	char *s = d->buf + d->buf_used;
	va_list ap;
	int n;

	if (!room)
		return "";
	va_start(ap, fmt);
	n = vsnprintf(s, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return "";
	d->buf_used += (size_t)n + 1 < room ? (size_t)n + 1 : room;
	return s;
}

static void field_str(struct pml_trace_decoded *d, const char *key, const char *val)
{
	struct pml_trace_field *f;

	if (d->n_fields >= PML_TRACE_MAX_FIELDS)
		return;
	f = &d->fields[d->n_fields++];
	f->key = key;
	f->str = val;
	f->num = 0;
	f->is_num = false;
	f->bare = false;
}

static void field_num(struct pml_trace_decoded *d, const char *key, int64_t val)
{
	if (d->n_fields >= PML_TRACE_MAX_FIELDS)
		return;
	field_str(d, key, buf_add(d, "%" PRId64, val));
	d->fields[d->n_fields - 1].num = val;
	d->fields[d->n_fields - 1].is_num = true;
}

static void field_hex(struct pml_trace_decoded *d, const char *key, uint64_t val)
{
	field_str(d, key, buf_add(d, "0x%" PRIx64, val));
}

/* A bounded string field: copied into buf, stopping at len even without a NUL. */
static void field_bstr(struct pml_trace_decoded *d, const char *key, const char *s, size_t len)
{
	field_str(d, key, buf_add(d, "%.*s", (int)strnlen(s, len), s));
}

/* A named constant: the name when known, else the number. */
static void field_named(struct pml_trace_decoded *d, const char *key, int64_t val,
			const char *name)
{
	if (name)
		field_str(d, key, name);
	else
		field_num(d, key, val);
}

static void decode_socket(struct pml_trace_decoded *d, const struct pml_tev_socket *e)
{
	const char *type = pml_sock_type_name(e->type);
	const char *proto = NULL;

	field_named(d, "family", e->family, pml_af_name(e->family));
	if (type && (e->type & ~PML_SOCK_TYPE_MASK))
		type = buf_add(d, "%s%s%s", type, e->type & 04000 ? "|SOCK_NONBLOCK" : "",
			       e->type & 02000000 ? "|SOCK_CLOEXEC" : "");
	field_named(d, "type", e->type, type);
	if (e->family == 2 || e->family == 10)
		proto = pml_ipproto_name(e->protocol);
	else if (e->family == 16)
		proto = pml_netlink_proto_name(e->protocol);
	field_named(d, "protocol", e->protocol, proto);
}

static void decode_sockaddr(struct pml_trace_decoded *d, const struct pml_tev_sockaddr *e)
{
	uint16_t family;

	field_num(d, "fd", e->fd);
	if (e->addrlen < 2) {
		field_num(d, "addrlen", e->addrlen);
		return;
	}
	memcpy(&family, e->addr, 2);
	field_named(d, "family", family, pml_af_name(family));
	if ((family == 2 || family == 10) && e->addrlen >= 4)
		field_num(d, "port", (e->addr[2] << 8) | e->addr[3]);
	else if (family == 38 && e->addrlen >= 16) /* AF_ALG: salg_type[14] */
		field_bstr(d, "alg_type", (const char *)e->addr + 2, 14);
}

static void decode_syscall_args(struct pml_trace_decoded *d, const void *raw)
{
	switch (d->kind) {
	case PML_TEV_SOCKET:
		decode_socket(d, raw);
		break;
	case PML_TEV_SOCKOPT: {
		const struct pml_tev_sockopt *e = raw;

		field_num(d, "fd", e->fd);
		field_num(d, "level", e->level);
		field_num(d, "optname", e->optname);
		if (e->ulp[0])
			field_bstr(d, "ulp", e->ulp, sizeof(e->ulp));
		break;
	}
	case PML_TEV_SOCKADDR:
		decode_sockaddr(d, raw);
		break;
	case PML_TEV_PATH: {
		const struct pml_tev_path *e = raw;

		field_bstr(d, "path", e->path, sizeof(e->path));
		field_hex(d, "flags", (uint32_t)e->flags);
		break;
	}
	case PML_TEV_EXECVE: {
		const struct pml_tev_execve *e = raw;
		unsigned argc = e->argc < PML_TEV_EXEC_ARGS ? e->argc : PML_TEV_EXEC_ARGS;
		char argv[PML_TEV_EXEC_ARGS * (PML_TEV_ARG_LEN + 1) + 1];
		size_t len = 0;

		field_bstr(d, "filename", e->filename, sizeof(e->filename));
		/* argv joined by spaces into one value; the raw record keeps them apart */
		argv[0] = '\0';
		for (unsigned i = 0; i < argc; i++) {
			size_t n = strnlen(e->argv[i], PML_TEV_ARG_LEN);

			if (i)
				argv[len++] = ' ';
			memcpy(argv + len, e->argv[i], n);
			len += n;
			argv[len] = '\0';
		}
		field_str(d, "argv", buf_add(d, "%s", argv));
		if (e->more)
			field_num(d, "more", 1);
		break;
	}
	case PML_TEV_MOUNT: {
		const struct pml_tev_mount *e = raw;

		field_bstr(d, "fstype", e->fstype, sizeof(e->fstype));
		field_bstr(d, "source", e->source, sizeof(e->source));
		field_hex(d, "flags", e->flags);
		break;
	}
	case PML_TEV_IOCTL: {
		const struct pml_tev_ioctl *e = raw;

		field_num(d, "fd", e->fd);
		if (ioctl_name(e->cmd))
			field_str(d, "cmd", ioctl_name(e->cmd));
		else
			field_hex(d, "cmd", e->cmd);
		break;
	}
	case PML_TEV_BPF: {
		const struct pml_tev_bpf *e = raw;

		field_named(d, "cmd", e->cmd, pml_bpf_cmd_name(e->cmd));
		if (e->cmd == 0)
			field_num(d, "map_type", e->prog_type);
		else if (e->cmd == 5)
			field_num(d, "prog_type", e->prog_type);
		break;
	}
	case PML_TEV_KEY: {
		const struct pml_tev_key *e = raw;

		if (e->op >= 0)
			field_num(d, "op", e->op);
		if (e->type[0])
			field_bstr(d, "type", e->type, sizeof(e->type));
		break;
	}
	case PML_TEV_MODCALL: {
		const struct pml_tev_modcall *e = raw;

		if (d->name && !strcmp(d->name, "init_module"))
			field_num(d, "len", (int64_t)e->len);
		else if (d->name && !strcmp(d->name, "finit_module"))
			field_num(d, "fd", e->fd);
		else
			field_bstr(d, "name", e->name, sizeof(e->name));
		if (e->flags)
			field_hex(d, "flags", e->flags);
		break;
	}
	case PML_TEV_NETLINK: {
		const struct pml_tev_netlink *e = raw;

		field_num(d, "fd", e->fd);
		field_named(d, "protocol", e->protocol, pml_netlink_proto_name(e->protocol));
		if (e->protocol == 0 && rtm_name(e->nlmsg_type))
			field_str(d, "type", rtm_name(e->nlmsg_type));
		else if (e->protocol == 12)
			field_str(d, "type", buf_add(d, "subsys%u/%u", e->nlmsg_type >> 8,
						     e->nlmsg_type & 0xff));
		else
			field_num(d, "type", e->nlmsg_type);
		field_hex(d, "flags", e->nlmsg_flags);
		if (e->kind[0])
			field_bstr(d, "kind", e->kind, sizeof(e->kind));
		break;
	}
	case PML_TEV_MMAP: {
		const struct pml_tev_mmap *e = raw;

		field_bstr(d, "file", e->name, sizeof(e->name));
		field_num(d, "len", (int64_t)e->len);
		field_str(d, "prot", buf_add(d, "%s%s%s", e->prot & 1 ? "r" : "-",
					     e->prot & 2 ? "w" : "-", e->prot & 4 ? "x" : "-"));
		break;
	}
	}
}

/* A sample: "object:func" as one bare value (the line reads "sample libc.so.6:write"),
 * the object and offset when the function is unknown, then the raw ip. */
static void decode_sample(struct pml_trace_decoded *d, const struct pml_tev_sample *e)
{
	int olen = (int)strnlen(e->object, sizeof(e->object));
	int flen = (int)strnlen(e->func, sizeof(e->func));
	const char *at;

	if (!(e->flags & PML_SAMPLE_RESOLVED))
		at = e->ino ? buf_add(d, "ino%" PRIu64 ":+0x%" PRIx64, (uint64_t)e->ino,
				      (uint64_t)e->offset)
			    : "?";
	else if (flen)
		at = buf_add(d, "%.*s:%.*s", olen, e->object, flen, e->func);
	else if (e->ino)
		at = buf_add(d, "%.*s:+0x%" PRIx64, olen, e->object, (uint64_t)e->offset);
	else
		at = buf_add(d, "%.*s", olen, e->object);
	field_str(d, "at", at);
	d->fields[d->n_fields - 1].bare = true;
	field_hex(d, "ip", e->ip);
	if (e->flags & PML_SAMPLE_KERNEL)
		field_num(d, "kernel", 1);
	if (e->flags & PML_SAMPLE_NO_VMA)
		field_num(d, "novma", 1);
}

/* Kinds recorded at a system call's entry (their nr is the call's number). */
static bool is_syscall_kind(unsigned kind)
{
	return kind <= PML_TEV_MMAP || kind == PML_TEV_NETLINK;
}

int pml_trace_event_decode(const void *raw, size_t size, struct pml_trace_decoded *out)
{
	struct pml_tev_hdr h;
	if (pml_tev_check(raw, size))
		return -EBADMSG;
	memcpy(&h, raw, sizeof(h));
	memset(out, 0, offsetof(struct pml_trace_decoded, buf));
	out->buf[0] = '\0';
	out->t_ns = h.t_ns;
	out->pid = h.pid;
	out->tid = h.tid;
	out->kind = h.kind;
	out->nr = h.nr;
	out->kind_name = pml_tev_kind_name(h.kind);
	out->name = out->kind_name;

	if (!pml_tev_size(h.kind)) {
		/* a kind of a newer event version: shown by number, its payload skipped */
		out->name = buf_add(out, "kind%u", h.kind);
		return 0;
	}
	if (is_syscall_kind(h.kind)) {
		out->name = pml_syscall_name(h.nr);
		if (!out->name)
			out->name = buf_add(out, "sys_%d", h.nr);
		decode_syscall_args(out, raw);
		return 0;
	}
	switch (h.kind) {
	case PML_TEV_MOD_REQUEST:
	case PML_TEV_MOD_LOAD:
	case PML_TEV_MOD_FREE: {
		const struct pml_tev_module *e = raw;

		field_bstr(out, "module", e->name, sizeof(e->name));
		if (h.kind == PML_TEV_MOD_REQUEST)
			field_num(out, "wait", e->arg);
		else if (h.kind == PML_TEV_MOD_LOAD && e->arg)
			field_hex(out, "taints", e->arg);
		break;
	}
	case PML_TEV_FORK:
	case PML_TEV_EXEC:
	case PML_TEV_EXIT: {
		const struct pml_tev_proc *e = raw;

		field_bstr(out, "comm", e->comm, sizeof(e->comm));
		if (h.kind == PML_TEV_FORK) {
			field_num(out, "child", e->other);
			if (e->arg)
				field_num(out, "thread", 1);
		} else if (h.kind == PML_TEV_EXEC) {
			field_bstr(out, "filename", e->filename, sizeof(e->filename));
		} else {
			field_num(out, "status", e->arg);
		}
		break;
	}
	case PML_TEV_DROPS: {
		const struct pml_tev_drops *e = raw;

		field_num(out, "dropped", (int64_t)e->dropped);
		break;
	}
	case PML_TEV_SAMPLE:
		decode_sample(out, raw);
		break;
	case PML_TEV_OBJECT: {
		const struct pml_tev_object *e = raw;

		field_bstr(out, "path", e->path, sizeof(e->path));
		field_str(out, "dev", buf_add(out, "%u:%u", e->dev >> 20, e->dev & 0xfffff));
		field_num(out, "ino", (int64_t)e->ino);
		break;
	}
	case PML_TEV_FAULTS: {
		const struct pml_tev_faults *e = raw;
		static const char *const cls[PML_FAULT__COUNT] = {"heap", "stack", "file",
								  "anon"};

		for (int i = 0; i < PML_FAULT__COUNT; i++)
			field_num(out, cls[i], e->count[i]);
		field_num(out, "ms", (int64_t)(e->span_ns / 1000000));
		break;
	}
	}
	return 0;
}

const struct pml_trace_field *pml_trace_decoded_get(const struct pml_trace_decoded *d,
						    const char *key)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (!strcmp(d->fields[i].key, key))
			return &d->fields[i];
	return NULL;
}

/* Does a value need quoting in the text form? */
static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20)
			return true;
	return false;
}

int pml_trace_decoded_format(const struct pml_trace_decoded *d, uint64_t t0_ns, char *buf,
			     size_t size)
{
	int64_t rel = (int64_t)(d->t_ns - t0_ns);
	size_t len = 0;
	int n;

#define EMIT(...)                                                                      \
	do {                                                                           \
		n = snprintf(buf + (len < size ? len : size), len < size ? size - len : 0, \
			     __VA_ARGS__);                                             \
		if (n > 0)                                                             \
			len += (size_t)n;                                              \
	} while (0)

	EMIT("%4" PRId64 ".%06" PRId64 " %6u/%-6u %s", rel / 1000000000,
	     (rel < 0 ? -rel : rel) % 1000000000 / 1000, d->pid, d->tid, d->name);
	if (d->kind != PML_TEV_SYSCALL && is_syscall_kind(d->kind) && d->nr >= 0)
		EMIT("(");
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct pml_trace_field *f = &d->fields[i];
		const char *sep = i ? " " : (is_syscall_kind(d->kind) ? "" : " ");

		if (f->bare && !needs_quotes(f->str)) {
			EMIT("%s%s", sep, f->str);
		} else if (needs_quotes(f->str)) {
			EMIT("%s%s=\"", sep, f->key);
			for (const char *s = f->str; *s; s++) {
				if (*s == '"' || *s == '\\')
					EMIT("\\%c", *s);
				else if ((unsigned char)*s < 0x20)
					EMIT("\\x%02x", (unsigned char)*s);
				else
					EMIT("%c", *s);
			}
			EMIT("\"");
		} else {
			EMIT("%s%s=%s", sep, f->key, f->str);
		}
	}
	if (d->kind != PML_TEV_SYSCALL && is_syscall_kind(d->kind) && d->nr >= 0)
		EMIT(")");
#undef EMIT
	return (int)len;
}

void pml_trace_decoded_json(const struct pml_trace_decoded *d, struct pml_json *j,
			    const char *key)
{
	pml_json_obj_begin(j, key);
	pml_json_int(j, "t_ns", (int64_t)d->t_ns);
	pml_json_int(j, "pid", d->pid);
	pml_json_int(j, "tid", d->tid);
	pml_json_str(j, "kind", d->kind_name);
	pml_json_str(j, "name", d->name);
	if (d->nr >= 0)
		pml_json_int(j, "nr", d->nr);
	for (size_t i = 0; i < d->n_fields; i++) {
		if (d->fields[i].is_num)
			pml_json_int(j, d->fields[i].key, d->fields[i].num);
		else
			pml_json_str(j, d->fields[i].key, d->fields[i].str);
	}
	pml_json_obj_end(j);
}
