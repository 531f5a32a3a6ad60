/* The trace event record: the one struct layout shared by the BPF programs (trace.bpf.c,
 * which includes it after vmlinux.h) and user space (tracer, trace file, decoder, replay),
 * as libbpf-bootstrap's x-event.h.
 *
 * Every record starts with struct pml_tev_hdr and has a fixed size per kind, a multiple of 8,
 * so the kernel side reserves a constant size in the ring buffer and a record can be copied
 * into the trace file as it is. Only the plain SYSCALL record (the common case: every system
 * call's number and time) is header-only, 24 bytes. Calls that predict or cause a module
 * need carry their decoded arguments instead of a plain record (one record per call).
 * Strings are fixed arrays, NUL-terminated, zero-filled after the NUL once normalised
 * (pml_trace_event_normalize), so blocks of them compress well.
 *
 * Layout is little-endian (the guest is x86_64). Change a struct only together with
 * PML_TRACE_EVENT_VERSION; the trace file header records the version it was written with. */
#ifndef PML_TRACE_TRACE_EVENT_H
#define PML_TRACE_TRACE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PML_TRACE_EVENT_VERSION 1

enum pml_tev_kind {
	PML_TEV_SYSCALL = 1,	/* header only: nr and time */
	PML_TEV_SOCKET,		/* socket, socketpair: struct pml_tev_socket */
	PML_TEV_SOCKOPT,	/* setsockopt: struct pml_tev_sockopt */
	PML_TEV_SOCKADDR,	/* bind, connect: struct pml_tev_sockaddr */
	PML_TEV_PATH,		/* open, openat, openat2: struct pml_tev_path */
	PML_TEV_EXECVE,		/* execve, execveat: struct pml_tev_execve */
	PML_TEV_MOUNT,		/* mount: struct pml_tev_mount */
	PML_TEV_IOCTL,		/* ioctl: struct pml_tev_ioctl */
	PML_TEV_BPF,		/* bpf: struct pml_tev_bpf */
	PML_TEV_KEY,		/* add_key, request_key, keyctl: struct pml_tev_key */
	PML_TEV_MODCALL,	/* init_module, finit_module, delete_module */
	PML_TEV_MMAP,		/* mmap of a file: struct pml_tev_mmap */
	PML_TEV_MOD_REQUEST,	/* module:module_request (the kernel asks for an alias) */
	PML_TEV_MOD_LOAD,	/* module:module_load */
	PML_TEV_MOD_FREE,	/* module:module_free */
	PML_TEV_FORK,		/* sched_process_fork: struct pml_tev_proc */
	PML_TEV_EXEC,		/* sched_process_exec */
	PML_TEV_EXIT,		/* sched_process_exit (thread-group leader) */
	PML_TEV_DROPS,		/* written by user space: the kernel side dropped records */
	PML_TEV_NETLINK,	/* sendto/sendmsg on a netlink socket: struct pml_tev_netlink */
	PML_TEV__COUNT,
};

/* Common header. t_ns: bpf_ktime_get_ns(), CLOCK_MONOTONIC of the traced machine.
 * pid: the thread-group id (what ps shows), tid: the thread. nr: the system call number
 * for syscall kinds, -1 otherwise. size: the whole record in bytes. */
struct pml_tev_hdr {
	__u64 t_ns;
	__u32 pid;
	__u32 tid;
	__u16 kind;
	__u16 size;
	__s32 nr;
};

struct pml_tev_socket {
	struct pml_tev_hdr h;
	__s32 family;
	__s32 type;
	__s32 protocol;
	__s32 pad;
};

#define PML_TEV_ULP_LEN 16
struct pml_tev_sockopt {
	struct pml_tev_hdr h;
	__s32 fd;
	__s32 level;
	__s32 optname;
	__s32 optlen;
	char ulp[PML_TEV_ULP_LEN]; /* the ULP name for SOL_TCP/TCP_ULP ("tls"), else "" */
};

#define PML_TEV_ADDR_LEN 32
struct pml_tev_sockaddr {
	struct pml_tev_hdr h;
	__s32 fd;
	__s32 addrlen;
	/* the first bytes of the address; the family is its first u16. For AF_ALG this holds
	 * salg_type ("skcipher", "hash": each a module). */
	__u8 addr[PML_TEV_ADDR_LEN];
};

#define PML_TEV_PATH_LEN 64
struct pml_tev_path {
	struct pml_tev_hdr h;
	__s32 dfd;
	__s32 flags;
	char path[PML_TEV_PATH_LEN];
};

#define PML_TEV_EXEC_ARGS 8
#define PML_TEV_ARG_LEN 48
struct pml_tev_execve {
	struct pml_tev_hdr h;
	__u32 argc; /* arguments captured (at most PML_TEV_EXEC_ARGS) */
	__u32 more; /* 1 when argv went on past the captured ones */
	char filename[PML_TEV_PATH_LEN];
	char argv[PML_TEV_EXEC_ARGS][PML_TEV_ARG_LEN];
};

#define PML_TEV_FSTYPE_LEN 32
struct pml_tev_mount {
	struct pml_tev_hdr h;
	__u64 flags;
	char fstype[PML_TEV_FSTYPE_LEN];
	char source[PML_TEV_PATH_LEN];
};

struct pml_tev_ioctl {
	struct pml_tev_hdr h;
	__s32 fd;
	__u32 cmd;
	__u64 arg;
};

struct pml_tev_bpf {
	struct pml_tev_hdr h;
	__s32 cmd;
	__u32 size;
	__u32 prog_type; /* for BPF_PROG_LOAD / BPF_MAP_CREATE: prog or map type, else 0 */
	__u32 pad;
};

#define PML_TEV_KEYTYPE_LEN 32
struct pml_tev_key {
	struct pml_tev_hdr h;
	__s32 op; /* keyctl operation, -1 for add_key / request_key */
	__u32 pad;
	char type[PML_TEV_KEYTYPE_LEN]; /* key type when the call names one */
};

#define PML_TEV_MODNAME_LEN 56
struct pml_tev_modcall {
	struct pml_tev_hdr h;
	__s32 fd;	/* finit_module */
	__u32 flags;	/* finit_module / delete_module flags */
	__u64 len;	/* init_module image length */
	char name[PML_TEV_MODNAME_LEN]; /* delete_module */
};

struct pml_tev_mmap {
	struct pml_tev_hdr h;
	__u64 len;
	__u32 prot;
	__u32 flags;
	__s32 fd;
	__u32 pad;
	char name[PML_TEV_PATH_LEN]; /* the mapped file's name (last path component) */
};

/* module_request: arg = wait flag; module_load: arg = taints; module_free: 0. */
struct pml_tev_module {
	struct pml_tev_hdr h;
	__u32 arg;
	__u32 pad;
	char name[PML_TEV_MODNAME_LEN];
};

#define PML_TEV_COMM_LEN 16
/* fork: other = child pid (tgid), arg = 1 for a new thread; exec: other = old pid,
 * filename = the binary; exit: arg = exit code as wait(2) encodes it. */
struct pml_tev_proc {
	struct pml_tev_hdr h;
	__u32 other;
	__s32 arg;
	char comm[PML_TEV_COMM_LEN];
	char filename[PML_TEV_PATH_LEN];
};

struct pml_tev_drops {
	struct pml_tev_hdr h;
	__u64 dropped; /* records lost so far (cumulative) */
};

#define PML_TEV_NLKIND_LEN 16
/* The first netlink message of a sendto/sendmsg on a netlink socket. For RTM_NEWLINK
 * (NETLINK_ROUTE type 16) kind holds IFLA_LINKINFO/IFLA_INFO_KIND ("vxlan"): the link
 * type whose rtnl-link-<kind> module the kernel is about to request. */
struct pml_tev_netlink {
	struct pml_tev_hdr h;
	__s32 fd;
	__s32 protocol;		/* NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_GENERIC ... */
	__u16 nlmsg_type;	/* for NETLINK_NETFILTER: subsystem << 8 | message */
	__u16 nlmsg_flags;
	__u32 nlmsg_len;
	char kind[PML_TEV_NLKIND_LEN];
};

/* The largest record; a reader refuses anything bigger. */
#define PML_TEV_MAX_SIZE 1024

#endif
