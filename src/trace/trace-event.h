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
 * Layout is little-endian (the guest is x86_64). The trace file header records the event
 * version a file was written with. A new version only ADDS kinds (numbered after the last
 * one): the size and meaning of an existing kind never change, so a reader of any version
 * reads the kinds it knows in a file of any later version and skips (passes through as
 * "unknown") the kinds it does not know. To change a record, add a new kind.
 *   version 1: SYSCALL .. NETLINK
 *   version 2: SAMPLE (user-space instruction pointer samples), OBJECT (the full path of
 *              a mapped file), FAULTS (page faults per interval by region class) */
#ifndef PML_TRACE_TRACE_EVENT_H
#define PML_TRACE_TRACE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PML_TRACE_EVENT_VERSION 2

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
	/* version 2 */
	PML_TEV_SAMPLE,		/* sampled user-space ip, resolved: struct pml_tev_sample */
	PML_TEV_OBJECT,		/* a file mapped for the first time: struct pml_tev_object */
	PML_TEV_FAULTS,		/* page faults of a process in an interval: pml_tev_faults */
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

/* Version 2. */

enum pml_tev_sample_flags {
	PML_SAMPLE_KERNEL = 1 << 0,	/* the CPU was in the kernel (a system call, a fault):
					 * ip is where the program entered it */
	PML_SAMPLE_NO_VMA = 1 << 1,	/* the kernel could not look up the mapping (its lock
					 * was held: a fork copying the address space, an
					 * mmap): user space placed ip, if at all, through
					 * /proc/PID/maps or the files the process (or its
					 * parent) was seen running */
	PML_SAMPLE_RESOLVED = 1 << 2,	/* user space filled object and func */
};

#define PML_TEV_OBJNAME_LEN 32
#define PML_TEV_FUNC_LEN 64
/* The user-space instruction pointer of a traced thread, sampled on a CPU clock (a BPF
 * program on a perf event per CPU). The kernel side fills the header, ip, and the mapping
 * ip falls in: the mapped file's inode and device and ip's offset in that file (ino 0:
 * an anonymous mapping, JIT code, the vdso, or no mapping found). The user-space side
 * (the tracer, while recording) fills object and func from the file's ELF symbol tables
 * before the record is written, so a trace names the code without the traced machine's
 * files: object is the file's name, a library's soname ("libc.so.6", "libnftables.so.1"); "[anon]", "[vdso]"; "[kernel]" when the
 * CPU was in the kernel and ip is in no mapping, as during an exec; "?" when unknown),
 * func the function ("main"; "sub_<hex>" for a function of a stripped object found only
 * through its unwind table, named by its address in the file; "" when unknown). */
struct pml_tev_sample {
	struct pml_tev_hdr h;
	__u64 ip;
	__u64 offset;	/* ip's offset in the mapped file (valid when ino != 0) */
	__u64 ino;
	__u32 dev;	/* the file system's device, kernel encoding (major << 20 | minor) */
	__u16 flags;	/* enum pml_tev_sample_flags */
	__u16 pad;
	char object[PML_TEV_OBJNAME_LEN];
	char func[PML_TEV_FUNC_LEN];
};

#define PML_TEV_OBJPATH_LEN 320
/* A file the traced tree maps (mmap, and the binary and interpreter an exec maps), the
 * first time it is mapped during the trace (once per inode and device): its full path
 * (bpf_d_path from the LSM mmap_file hook: absolute in the mapping task's mount
 * namespace, " (deleted)" appended if unlinked). A sample's (dev, ino) names its file
 * through this record. Where the kernel cannot give the path (no BPF LSM), no OBJECT
 * records are written and the mmap records' base names are all there is. */
struct pml_tev_object {
	struct pml_tev_hdr h;
	__u64 ino;
	__u32 dev;
	__u32 prot;	/* PROT_* of the mapping that announced it */
	char path[PML_TEV_OBJPATH_LEN];
};

enum pml_tev_fault_class {
	PML_FAULT_HEAP,		/* the brk heap */
	PML_FAULT_STACK,	/* the main thread's stack (a VM_GROWSDOWN mapping) */
	PML_FAULT_FILE,		/* a file mapping: code and data of the binary and libraries */
	PML_FAULT_ANON,		/* anything else: anonymous mmap (malloc arenas, thread
				 * stacks, JIT), shared memory */
	PML_FAULT__COUNT,
};

/* Page faults of one process (tgid) on its user addresses, counted in the kernel per
 * region class and flushed as one record when a fault comes after the interval ran out,
 * at exec (the faults of the old image) and at exit. span_ns: the time the counts cover
 * (from the first fault of the interval to the flush). */
struct pml_tev_faults {
	struct pml_tev_hdr h;
	__u64 span_ns;
	__u32 count[PML_FAULT__COUNT];
};

/* The largest record; a reader refuses anything bigger. */
#define PML_TEV_MAX_SIZE 1024

#endif
