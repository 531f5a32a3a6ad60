// SPDX-License-Identifier: GPL-2.0
/* The kernel side of pml's tracer (libbpf CO-RE; the user side is tracer.c).
 *
 * What it watches:
 *  - raw_syscalls:sys_enter for the traced processes: every call's number and time, and
 *    for the calls that predict or cause a module need their arguments, read here from
 *    user memory while they are still there (socket family/type/protocol, setsockopt
 *    level/optname/ULP name, bind/connect address, open paths, execve file and argv,
 *    mount fstype/source, ioctl cmd, bpf cmd, key types, the module syscalls, mmap of
 *    files, the first netlink message of a send on a netlink socket with the link kind
 *    of RTM_NEWLINK);
 *  - module:module_request/module_load/module_free for everyone (a request often runs
 *    in a kworker or in modprobe, not in the traced tree; they are rare);
 *  - sched_process_fork/exec/exit to follow the traced tree in the kernel: a hash map of
 *    traced thread-group ids, seeded with targ_root_pid, grows on fork and shrinks on
 *    the leader's exit, so filtering costs one lookup and no user-space round trip.
 *    Its value is the process's page-fault counters, so counting costs no second map;
 *  - (optional, each attached only when asked and when the kernel takes it; tracer.c
 *    falls back program by program)
 *    - pml_sample, a perf_event program on a CPU clock per CPU: the traced thread's
 *      user-space ip (the user registers' when the CPU was in the kernel) and the
 *      mapping it falls in, looked up with bpf_find_vma at sample time (the file's inode
 *      and device, ip's offset in the file), so user space can name the function even
 *      after the process is gone;
 *    - pml_fault on handle_mm_fault (fentry: the kernel has already found the faulting
 *      vma, so classifying costs no lookup and no lock), else pml_fault_tp on
 *      exceptions:page_fault_user classifying by the mm's fields alone: faults per
 *      region class (heap, stack, file, anonymous), flushed as one record per process
 *      when a fault comes after targ_fault_interval_ns, at exec and at exit;
 *    - pml_mmap_file on the LSM mmap_file hook, where bpf_d_path is allowed: the full
 *      path of each file the traced tree maps, once per file (an LRU set of inodes);
 *      pml_mmap_file_walk, the same by a bounded dentry walk, for a kernel that refuses
 *      bpf_d_path there; pml_sample_obj, the sample program that also names the files
 *      it meets, for a kernel without BPF LSM.
 * With targ_plain_once (pmld), a plain system call (one decoded into no more than its
 * number) is recorded only the first time a process makes it since its last execve, and
 * never when its number is in targ_plain_drop: the rule by which the lstm features
 * collapse such calls anyway (model/features.h), applied before the ring buffer instead of
 * after it. A job's records shrink ~7x and a loop of system calls sends one.
 * Records go through one BPF ring buffer (trace-event.h layouts). A record that finds no
 * room is counted in a per-CPU drop counter that user space reports; nothing is lost
 * silently. Only module records wake the reader; everything else waits for its 100 ms
 * timer (a wake-up per exit cost ~4 ms of a process-spawning script under TCG).
 *
 * System call numbers are x86_64's (the guest); argument registers are di, si, dx, r10,
 * r8, r9 of the user pt_regs that sys_enter receives. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace/trace-event.h"

char LICENSE[] SEC("license") = "GPL";

/* Settings, written by user space before load (rodata: the verifier folds them). */
const volatile __u32 targ_root_pid = 0;
const volatile __u32 targ_self_pid = 0; /* the tracer itself, never traced */
const volatile bool targ_all = false;
/* With a cgroup (v2) id, the traced processes are those of that cgroup and the cgroups
 * below it (a job that makes its own, a container), whatever their parent: a job put in
 * its own cgroup before its first exec is traced without the processes of whoever
 * started it (targ_root_pid then only roots the state map). The level is the cgroup's
 * depth below the root (the root is 0). */
const volatile __u64 targ_cgroup_id = 0;
const volatile __u32 targ_cgroup_level = 0;
const volatile __u64 targ_fault_interval_ns = 100000000;
const volatile bool targ_plain_once = false;
const volatile __u64 targ_plain_drop[8] = {}; /* bit nr; numbers above 511 share bit 511 */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* user space may resize before load */
} rb SEC(".maps");

/* Per traced process: page faults counted since fault_start_ns (0: none yet). (The coarse
 * clock would spare a clock read per fault, but tracing programs may not use it.) */
struct proc_state {
	__u64 fault_start_ns;
	__u32 count[PML_FAULT__COUNT];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct proc_state);
} traced SEC(".maps");

/* With targ_plain_once: per traced process, the plain calls recorded since its last
 * execve (bit nr, as targ_plain_drop). Made at a process's first plain call, removed at its
 * execve and its exit; not preallocated (pml trace record never makes one). */
struct plain_seen {
	__u64 bits[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct plain_seen);
} plain SEC(".maps");

/* Files whose OBJECT record was written. */
struct obj_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct obj_key);
	__type(value, __u8);
} objects SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* x86_64 system call numbers */
#define NR_read 0
#define NR_open 2
#define NR_mmap 9
#define NR_ioctl 16
#define NR_sendto 44
#define NR_sendmsg 46
#define NR_socket 41
#define NR_connect 42
#define NR_bind 49
#define NR_socketpair 53
#define NR_setsockopt 54
#define NR_execve 59
#define NR_mount 165
#define NR_init_module 175
#define NR_delete_module 176
#define NR_add_key 248
#define NR_request_key 249
#define NR_keyctl 250
#define NR_openat 257
#define NR_finit_module 313
#define NR_bpf 321
#define NR_execveat 322
#define NR_openat2 437

#define SOL_TCP 6
#define TCP_ULP 31
#define MAP_ANONYMOUS 0x20
#define KEYCTL_SEARCH 10
#define AF_NETLINK 16
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define RTM_NEWLINK 16
#define IFLA_LINKINFO 18
#define IFLA_INFO_KIND 1
#define NLA_TYPE_MASK 0x3fff

static __always_inline bool is_traced(__u32 tgid)
{
	if (tgid == targ_self_pid)
		return false;
	if (targ_all)
		return true;
	/* every caller asks about the current task (sys_enter, faults, samples, mmap, and
	 * fork/exec/exit, which run in the parent's or the process's own context) */
	if (targ_cgroup_id)
		return bpf_get_current_ancestor_cgroup_id(targ_cgroup_level) == targ_cgroup_id;
	if (tgid == targ_root_pid)
		return true;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

static __always_inline void count_drop(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&drops, &key);

	if (v)
		(*v)++;
}

static __always_inline void fill_hdr(struct pml_tev_hdr *h, __u64 pid_tgid, __u16 kind,
				     __u16 size, __s32 nr)
{
	h->t_ns = bpf_ktime_get_ns();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->kind = kind;
	h->size = size;
	h->nr = nr;
}

/* Reserve a record of a given struct type; on failure count a drop and return 0. */
#define RESERVE(e, type)                                                               \
	({                                                                             \
		e = bpf_ringbuf_reserve(&rb, sizeof(type), 0);                         \
		if (!e)                                                                \
			count_drop();                                                  \
		e != NULL;                                                             \
	})

/* Records of system calls do not wake the reader: it drains the ring buffer on a short
 * timer (tracer.c, 100 ms), which at 16 MB holds seconds of the densest syscall stream.
 * Asking the ring buffer how full it is on every record cost more than it saved. */
static __always_inline void submit_lazy(void *e)
{
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* targ_plain_once: true when this plain call is not to be recorded (see the top). A
 * process whose set cannot be made (the map full) has its calls recorded: the reader
 * collapses them itself. Two threads racing on the set may both record a first call,
 * which the reader's own rule drops. */
static __always_inline bool plain_skip(__u64 id, long nr)
{
	__u32 tgid = id >> 32;
	__u32 n = nr < 0 || nr > 511 ? 511 : (__u32)nr;
	__u64 bit = 1ull << (n & 63);
	struct plain_seen zero = {}, *s;

	if (!targ_plain_once)
		return false;
	if (targ_plain_drop[n >> 6] & bit)
		return true;
	s = bpf_map_lookup_elem(&plain, &tgid);
	if (!s) {
		bpf_map_update_elem(&plain, &tgid, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&plain, &tgid);
		if (!s)
			return false;
	}
	if (s->bits[n >> 6] & bit)
		return true;
	s->bits[n >> 6] |= bit;
	return false;
}

static __always_inline int emit_plain(__u64 id, long nr)
{
	struct pml_tev_hdr *e;

	if (plain_skip(id, nr))
		return 0;
	if (!RESERVE(e, struct pml_tev_hdr))
		return 0;
	fill_hdr(e, id, PML_TEV_SYSCALL, sizeof(*e), nr);
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_socket(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_socket *e;

	if (!RESERVE(e, struct pml_tev_socket))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_SOCKET, sizeof(*e), nr);
	e->family = (int)BPF_CORE_READ(regs, di);
	e->type = (int)BPF_CORE_READ(regs, si);
	e->protocol = (int)BPF_CORE_READ(regs, dx);
	e->pad = 0;
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_sockopt(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_sockopt *e;

	if (!RESERVE(e, struct pml_tev_sockopt))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_SOCKOPT, sizeof(*e), nr);
	e->fd = (int)BPF_CORE_READ(regs, di);
	e->level = (int)BPF_CORE_READ(regs, si);
	e->optname = (int)BPF_CORE_READ(regs, dx);
	e->optlen = (int)BPF_CORE_READ(regs, r8);
	e->ulp[0] = 0;
	if (e->level == SOL_TCP && e->optname == TCP_ULP)
		bpf_probe_read_user_str(e->ulp, sizeof(e->ulp),
					(void *)BPF_CORE_READ(regs, r10));
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_sockaddr(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_sockaddr *e;
	__u64 len;

	if (!RESERVE(e, struct pml_tev_sockaddr))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_SOCKADDR, sizeof(*e), nr);
	e->fd = (int)BPF_CORE_READ(regs, di);
	e->addrlen = (int)BPF_CORE_READ(regs, dx);
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	len = (__u32)e->addrlen;
	if (len > sizeof(e->addr))
		len = sizeof(e->addr);
	asm volatile("" : "+r"(len)); /* keep the clamped value in the register used */
	bpf_probe_read_user(e->addr, len, (void *)BPF_CORE_READ(regs, si));
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_path(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_path *e;
	const char *path;

	if (!RESERVE(e, struct pml_tev_path))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_PATH, sizeof(*e), nr);
	if (nr == NR_open) {
		e->dfd = -100; /* AT_FDCWD */
		path = (const char *)BPF_CORE_READ(regs, di);
		e->flags = (int)BPF_CORE_READ(regs, si);
	} else {
		e->dfd = (int)BPF_CORE_READ(regs, di);
		path = (const char *)BPF_CORE_READ(regs, si);
		if (nr == NR_openat) {
			e->flags = (int)BPF_CORE_READ(regs, dx);
		} else { /* openat2: struct open_how starts with u64 flags */
			__u64 flags = 0;

			bpf_probe_read_user(&flags, sizeof(flags),
					    (void *)BPF_CORE_READ(regs, dx));
			e->flags = (int)flags;
		}
	}
	e->path[0] = 0;
	bpf_probe_read_user_str(e->path, sizeof(e->path), path);
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_execve(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_execve *e;
	const char *filename;
	const char *const *argv;
	const char *arg;
	__u32 tgid = id >> 32;
	int i;

	/* a new program: its plain calls count as first again (the reader's rule too) */
	if (targ_plain_once)
		bpf_map_delete_elem(&plain, &tgid);
	if (!RESERVE(e, struct pml_tev_execve))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_EXECVE, sizeof(*e), nr);
	if (nr == NR_execve) {
		filename = (const char *)BPF_CORE_READ(regs, di);
		argv = (const char *const *)BPF_CORE_READ(regs, si);
	} else {
		filename = (const char *)BPF_CORE_READ(regs, si);
		argv = (const char *const *)BPF_CORE_READ(regs, dx);
	}
	e->filename[0] = 0;
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename);
	e->argc = 0;
	e->more = 0;
#pragma unroll
	for (i = 0; i < PML_TEV_EXEC_ARGS; i++)
		e->argv[i][0] = 0;
#pragma unroll
	for (i = 0; i < PML_TEV_EXEC_ARGS; i++) {
		arg = NULL;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			goto out;
		bpf_probe_read_user_str(e->argv[i], PML_TEV_ARG_LEN, arg);
		e->argc = i + 1;
	}
	arg = NULL;
	if (!bpf_probe_read_user(&arg, sizeof(arg), &argv[PML_TEV_EXEC_ARGS]) && arg)
		e->more = 1;
out:
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_mount(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_mount *e;

	if (!RESERVE(e, struct pml_tev_mount))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_MOUNT, sizeof(*e), nr);
	e->flags = BPF_CORE_READ(regs, r10);
	e->fstype[0] = 0;
	e->source[0] = 0;
	bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), (void *)BPF_CORE_READ(regs, dx));
	bpf_probe_read_user_str(e->source, sizeof(e->source), (void *)BPF_CORE_READ(regs, di));
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_ioctl(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_ioctl *e;

	if (!RESERVE(e, struct pml_tev_ioctl))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_IOCTL, sizeof(*e), nr);
	e->fd = (int)BPF_CORE_READ(regs, di);
	e->cmd = (__u32)BPF_CORE_READ(regs, si);
	e->arg = BPF_CORE_READ(regs, dx);
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_bpf(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_bpf *e;

	if (!RESERVE(e, struct pml_tev_bpf))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_BPF, sizeof(*e), nr);
	e->cmd = (int)BPF_CORE_READ(regs, di);
	e->size = (__u32)BPF_CORE_READ(regs, dx);
	e->prog_type = 0;
	e->pad = 0;
	/* BPF_MAP_CREATE and BPF_PROG_LOAD: the map / program type is attr's first u32 */
	if (e->cmd == 0 || e->cmd == 5)
		bpf_probe_read_user(&e->prog_type, sizeof(e->prog_type),
				    (void *)BPF_CORE_READ(regs, si));
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_key(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_key *e;
	const char *type = NULL;

	if (!RESERVE(e, struct pml_tev_key))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_KEY, sizeof(*e), nr);
	e->pad = 0;
	e->type[0] = 0;
	if (nr == NR_keyctl) {
		e->op = (int)BPF_CORE_READ(regs, di);
		if (e->op == KEYCTL_SEARCH)
			type = (const char *)BPF_CORE_READ(regs, dx);
	} else {
		e->op = -1;
		type = (const char *)BPF_CORE_READ(regs, di);
	}
	if (type)
		bpf_probe_read_user_str(e->type, sizeof(e->type), type);
	submit_lazy(e);
	return 0;
}

static __always_inline int emit_modcall(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_modcall *e;

	if (!RESERVE(e, struct pml_tev_modcall))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_MODCALL, sizeof(*e), nr);
	e->fd = -1;
	e->flags = 0;
	e->len = 0;
	e->name[0] = 0;
	if (nr == NR_init_module) {
		e->len = BPF_CORE_READ(regs, si);
	} else if (nr == NR_finit_module) {
		e->fd = (int)BPF_CORE_READ(regs, di);
		e->flags = (__u32)BPF_CORE_READ(regs, dx);
	} else {
		e->flags = (__u32)BPF_CORE_READ(regs, si);
		bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)BPF_CORE_READ(regs, di));
	}
	submit_lazy(e);
	return 0;
}

/* The struct file behind a descriptor of the current task, NULL if none. */
static __always_inline struct file *fd_to_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *file = NULL;

	if (fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/* mmap of a file: the name of the file behind the descriptor, from the task's fd table
 * (the user passed only a number). Anonymous mappings are plain syscall records. */
static __always_inline int emit_mmap(__u64 id, long nr, struct pt_regs *regs)
{
	struct pml_tev_mmap *e;
	struct file *file;
	const unsigned char *name;
	__u32 flags = (__u32)BPF_CORE_READ(regs, r10);
	int fd = (int)BPF_CORE_READ(regs, r8);

	if (flags & MAP_ANONYMOUS)
		return emit_plain(id, nr);
	file = fd_to_file(fd);
	if (!file)
		return emit_plain(id, nr);
	if (!RESERVE(e, struct pml_tev_mmap))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_MMAP, sizeof(*e), nr);
	e->len = BPF_CORE_READ(regs, si);
	e->prot = (__u32)BPF_CORE_READ(regs, dx);
	e->flags = flags;
	e->fd = fd;
	e->pad = 0;
	e->name[0] = 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
	submit_lazy(e);
	return 0;
}

/* For RTM_NEWLINK: find IFLA_LINKINFO among the first attributes after the ifinfomsg,
 * then IFLA_INFO_KIND inside it, and copy the kind string. buf is the user's message. */
static __always_inline void newlink_kind(char *kind, const __u8 *buf, __u32 mlen)
{
	struct {
		__u16 len;
		__u16 type;
	} nla;
	__u32 off = 32; /* nlmsghdr (16) + ifinfomsg (16) */
	int i, j;

	for (i = 0; i < 12; i++) {
		if (off + 4 > mlen || bpf_probe_read_user(&nla, sizeof(nla), buf + off))
			return;
		if (nla.len < 4)
			return;
		if ((nla.type & NLA_TYPE_MASK) == IFLA_LINKINFO) {
			__u32 in = off + 4;

			for (j = 0; j < 4; j++) {
				if (in + 4 > mlen ||
				    bpf_probe_read_user(&nla, sizeof(nla), buf + in))
					return;
				if (nla.len < 4)
					return;
				if ((nla.type & NLA_TYPE_MASK) == IFLA_INFO_KIND) {
					bpf_probe_read_user_str(kind, PML_TEV_NLKIND_LEN,
								buf + in + 4);
					return;
				}
				in += (nla.len + 3) & ~3u;
			}
			return;
		}
		off += (nla.len + 3) & ~3u;
	}
}

/* sendto/sendmsg: decoded only on netlink sockets (the first message of the buffer),
 * a plain syscall record otherwise. */
static __always_inline int emit_send(__u64 id, long nr, struct pt_regs *regs)
{
	int fd = (int)BPF_CORE_READ(regs, di);
	struct file *file = fd_to_file(fd);
	struct pml_tev_netlink *e;
	struct socket *sock;
	struct sock *sk;
	struct nlmsghdr nlh;
	const __u8 *buf;
	__u64 len;

	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return emit_plain(id, nr);
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_NETLINK)
		return emit_plain(id, nr);
	if (nr == NR_sendto) {
		buf = (const __u8 *)BPF_CORE_READ(regs, si);
		len = BPF_CORE_READ(regs, dx);
	} else {
		struct user_msghdr msg;
		struct iovec iov;

		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)BPF_CORE_READ(regs, si)) ||
		    !msg.msg_iovlen ||
		    bpf_probe_read_user(&iov, sizeof(iov), msg.msg_iov))
			return emit_plain(id, nr);
		buf = iov.iov_base;
		len = iov.iov_len;
	}
	if (len < sizeof(nlh) || bpf_probe_read_user(&nlh, sizeof(nlh), buf))
		return emit_plain(id, nr);
	if (!RESERVE(e, struct pml_tev_netlink))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_NETLINK, sizeof(*e), nr);
	e->fd = fd;
	e->protocol = BPF_CORE_READ(sk, sk_protocol);
	e->nlmsg_type = nlh.nlmsg_type;
	e->nlmsg_flags = nlh.nlmsg_flags;
	e->nlmsg_len = nlh.nlmsg_len;
	e->kind[0] = 0;
	if (e->protocol == 0 && nlh.nlmsg_type == RTM_NEWLINK)
		newlink_kind(e->kind, buf, nlh.nlmsg_len < len ? nlh.nlmsg_len : (__u32)len);
	submit_lazy(e);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(pml_sys_enter, struct pt_regs *regs, long nr)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!is_traced(id >> 32))
		return 0;
	switch (nr) {
	case NR_socket:
	case NR_socketpair:
		return emit_socket(id, nr, regs);
	case NR_setsockopt:
		return emit_sockopt(id, nr, regs);
	case NR_bind:
	case NR_connect:
		return emit_sockaddr(id, nr, regs);
	case NR_open:
	case NR_openat:
	case NR_openat2:
		return emit_path(id, nr, regs);
	case NR_execve:
	case NR_execveat:
		return emit_execve(id, nr, regs);
	case NR_mount:
		return emit_mount(id, nr, regs);
	case NR_ioctl:
		return emit_ioctl(id, nr, regs);
	case NR_bpf:
		return emit_bpf(id, nr, regs);
	case NR_add_key:
	case NR_request_key:
	case NR_keyctl:
		return emit_key(id, nr, regs);
	case NR_init_module:
	case NR_finit_module:
	case NR_delete_module:
		return emit_modcall(id, nr, regs);
	case NR_mmap:
		return emit_mmap(id, nr, regs);
	case NR_sendto:
	case NR_sendmsg:
		return emit_send(id, nr, regs);
	}
	return emit_plain(id, nr);
}

static __always_inline int emit_module(__u16 kind, const char *name, __u32 arg)
{
	struct pml_tev_module *e;

	if (!RESERVE(e, struct pml_tev_module))
		return 0;
	fill_hdr(&e->h, bpf_get_current_pid_tgid(), kind, sizeof(*e), -1);
	e->arg = arg;
	e->pad = 0;
	e->name[0] = 0;
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tp_btf/module_request")
int BPF_PROG(pml_module_request, char *name, bool wait, unsigned long ip)
{
	return emit_module(PML_TEV_MOD_REQUEST, name, wait);
}

SEC("tp_btf/module_load")
int BPF_PROG(pml_module_load, struct module *mod)
{
	return emit_module(PML_TEV_MOD_LOAD, mod->name, (__u32)BPF_CORE_READ(mod, taints));
}

SEC("tp_btf/module_free")
int BPF_PROG(pml_module_free, struct module *mod)
{
	return emit_module(PML_TEV_MOD_FREE, mod->name, 0);
}

/* Page faults. */

/* Write the process's fault counts as one record and start a new interval (at the next
 * fault). Counts are updated by every thread without a lock: a fault counted on another
 * CPU while this one flushes may land in either interval or, rarely, be lost; the
 * counts are a rate signal, not an audit. */
static __always_inline void flush_faults(__u32 tgid, __u32 tid, struct proc_state *st)
{
	struct pml_tev_faults *e;
	__u64 now;
	int i;

	if (!st || !st->fault_start_ns)
		return;
	now = bpf_ktime_get_ns();
	if (!RESERVE(e, struct pml_tev_faults))
		return;
	fill_hdr(&e->h, ((__u64)tgid << 32) | tid, PML_TEV_FAULTS, sizeof(*e), -1);
	e->h.t_ns = now;
	e->span_ns = now - st->fault_start_ns;
#pragma unroll
	for (i = 0; i < PML_FAULT__COUNT; i++) {
		e->count[i] = st->count[i];
		st->count[i] = 0;
	}
	st->fault_start_ns = 0;
	submit_lazy(e);
}

/* The traced process's state, created on first use when tracing the whole machine
 * (where fork adds nobody); NULL when the process is not traced. */
static __always_inline struct proc_state *proc_state(__u32 tgid)
{
	struct proc_state zero = {}, *st;

	if (tgid == targ_self_pid || !tgid)
		return NULL;
	st = bpf_map_lookup_elem(&traced, &tgid);
	if (st || !targ_all)
		return st;
	bpf_map_update_elem(&traced, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&traced, &tgid);
}

static __always_inline void count_fault(struct proc_state *st, __u64 id, unsigned cls)
{
	__u64 now = bpf_ktime_get_ns();

	__sync_fetch_and_add(&st->count[cls & (PML_FAULT__COUNT - 1)], 1);
	if (!st->fault_start_ns)
		st->fault_start_ns = now;
	else if (now - st->fault_start_ns >= targ_fault_interval_ns)
		flush_faults(id >> 32, (__u32)id, st);
}

/* Classify by the vma the kernel found: a file mapping, the brk heap, the main stack
 * (the vma holding mm->start_stack), else anonymous. The hot path of the fault programs
 * reads kernel structs by direct (BTF) loads, not bpf_probe_read_kernel calls: this runs
 * on every page fault of the machine, and a helper call per field cost more than the
 * rest of the program. */
static __always_inline unsigned fault_class_vma(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	__u64 start = vma->vm_start, end = vma->vm_end;
	__u64 stack;

	if (vma->vm_file)
		return PML_FAULT_FILE;
	if (!mm)
		return PML_FAULT_ANON;
	if (end > mm->start_brk && start <= mm->brk)
		return PML_FAULT_HEAP;
	stack = mm->start_stack;
	if (start <= stack && stack < end)
		return PML_FAULT_STACK;
	return PML_FAULT_ANON;
}

SEC("fentry/handle_mm_fault")
int BPF_PROG(pml_fault, struct vm_area_struct *vma, unsigned long address, unsigned int flags,
	     struct pt_regs *regs)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct proc_state *st = proc_state(id >> 32);

	if (st)
		count_fault(st, id, fault_class_vma(vma));
	return 0;
}

#define X86_PF_INSTR (1 << 4)
#define STACK_GUESS (8ull << 20)

/* The fallback without a vma (exceptions:page_fault_user fires before the kernel looks
 * it up): by the mm's fields. An instruction fetch or the binary's own image is a file
 * fault; the rest of the file-backed data (libraries' .data) counts as anonymous here. */
SEC("tp_btf/page_fault_user")
int BPF_PROG(pml_fault_tp, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct proc_state *st = proc_state(id >> 32);
	struct mm_struct *mm;
	unsigned cls = PML_FAULT_ANON;

	if (!st)
		return 0;
	mm = bpf_get_current_task_btf()->mm;
	if (!mm)
		return 0;
	if ((error_code & X86_PF_INSTR) || (address >= mm->start_code && address < mm->end_data))
		cls = PML_FAULT_FILE;
	else if (address >= mm->start_brk && address < mm->brk)
		cls = PML_FAULT_HEAP;
	else if (address <= mm->env_end && address + STACK_GUESS >= mm->start_stack)
		cls = PML_FAULT_STACK;
	count_fault(st, id, cls);
	return 0;
}

/* Mapped files' paths. */

#define PATH_DEPTH 12
#define NAME_MAX_READ 64

/* The path of a file by walking its dentries up to the root, crossing mount points
 * (struct mount from the vfsmount), at most PATH_DEPTH components of at most
 * NAME_MAX_READ - 1 bytes each; a deeper path keeps its last components ("/.../a/b" is
 * not marked: it starts at the depth reached). Safe anywhere (only probe reads); a
 * concurrent rename can give a mix of old and new names. bpf_d_path is exact but only
 * allowed in a few hooks. */
static __always_inline void walk_path(char *buf, struct file *file)
{
	const unsigned char *names[PATH_DEPTH];
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry), *parent;
	struct vfsmount *vmnt = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = (struct mount *)((char *)vmnt - bpf_core_field_offset(struct mount, mnt));
	__u64 n = 0, off = 0, at;
	int i;

	buf[0] = 0;
#pragma unroll
	for (i = 0; i < PATH_DEPTH + 4; i++) {
		parent = BPF_CORE_READ(d, d_parent);
		if (d == parent) { /* the root of a mount: continue at its mount point */
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			if (up == mnt || !up)
				break;
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			continue;
		}
		if (n < PATH_DEPTH)
			names[n++] = BPF_CORE_READ(d, d_name.name);
		d = parent;
	}
#pragma unroll
	for (i = PATH_DEPTH - 1; i >= 0; i--) {
		long len;

		if (i >= n)
			continue;
		if (off >= 250)
			break;
		/* masked offsets: a bound the verifier of every kernel keeps (the record's
		 * path holds 256 + NAME_MAX_READ bytes for it) */
		at = off;
		asm volatile("" : "+r"(at)); /* so the compiler keeps the masks */
		buf[at & 0xff] = '/';
		at++;
		off++;
		len = bpf_probe_read_kernel_str(buf + (at & 0xff), NAME_MAX_READ, names[i]);
		if (len <= 0)
			break;
		off += len - 1;
	}
	if (!off) {
		buf[0] = '/';
		buf[1] = 0;
	}
}

/* The OBJECT record of a file, once per (ino, dev) per trace. d_path: use bpf_d_path
 * (only where the kernel allows it). */
static __always_inline void emit_object(struct file *file, __u32 prot, bool d_path)
{
	struct obj_key k = {};
	struct pml_tev_object *e;
	__u8 one = 1;

	k.ino = BPF_CORE_READ(file, f_inode, i_ino);
	k.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	if (bpf_map_update_elem(&objects, &k, &one, BPF_NOEXIST))
		return; /* written before */
	if (!RESERVE(e, struct pml_tev_object))
		return;
	fill_hdr(&e->h, bpf_get_current_pid_tgid(), PML_TEV_OBJECT, sizeof(*e), -1);
	e->ino = k.ino;
	e->dev = k.dev;
	e->prot = prot;
	if (!d_path || bpf_d_path(&file->f_path, e->path, sizeof(e->path)) < 0)
		walk_path(e->path, file);
	submit_lazy(e);
}

/* Instruction-pointer samples. */

/* x86_64: user addresses end below 0x0000800000000000 (4-level) or 0x0100000000000000
 * (5-level paging); kernel addresses start at 0xff00000000000000 with either. */
#define KERNEL_START 0xff00000000000000ull

struct vma_ctx {
	__u64 ip;
	__u64 offset;
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

/* The mapping ip falls in, read under the mm's lock (bpf_find_vma holds it). With
 * objects, also the OBJECT record of its file when it is the first sample there. */
static __always_inline long vma_info(struct vm_area_struct *vma, struct vma_ctx *c,
				     bool objects)
{
	struct file *f = vma->vm_file;

	if (!f)
		return 0;
	if (objects)
		emit_object(f, 4 /* PROT_EXEC: it ran */, false);
	c->ino = f->f_inode->i_ino;
	c->dev = f->f_inode->i_sb->s_dev;
	c->offset = c->ip - vma->vm_start + (vma->vm_pgoff << 12);
	return 0;
}

static long sample_vma(struct task_struct *task, struct vm_area_struct *vma,
		       struct vma_ctx *c)
{
	return vma_info(vma, c, false);
}

static long sample_vma_obj(struct task_struct *task, struct vm_area_struct *vma,
			   struct vma_ctx *c)
{
	return vma_info(vma, c, true);
}

static __always_inline int sample(struct bpf_perf_event_data *ctx, bool objects)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vma_ctx c = {};
	struct pml_tev_sample *e;
	struct task_struct *task;
	__u16 flags = 0;
	long err;

	if (!(id >> 32) || !is_traced(id >> 32))
		return 0;
	task = bpf_get_current_task_btf();
	if (!task->mm) /* a kernel thread (whole-machine mode) */
		return 0;
	c.ip = ctx->regs.ip;
	if (c.ip >= KERNEL_START) { /* in the kernel: where the program entered it */
		c.ip = BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(task), ip);
		flags |= PML_SAMPLE_KERNEL;
	}
	if (objects)
		err = bpf_find_vma(task, c.ip, sample_vma_obj, &c, 0);
	else
		err = bpf_find_vma(task, c.ip, sample_vma, &c, 0);
	if (err && err != -2 /* ENOENT: in no mapping */)
		flags |= PML_SAMPLE_NO_VMA;
	if (!RESERVE(e, struct pml_tev_sample))
		return 0;
	fill_hdr(&e->h, id, PML_TEV_SAMPLE, sizeof(*e), -1);
	e->ip = c.ip;
	e->offset = c.offset;
	e->ino = c.ino;
	e->dev = c.dev;
	e->flags = flags;
	e->pad = 0;
	e->object[0] = 0;
	e->func[0] = 0;
	submit_lazy(e);
	return 0;
}

/* Two variants, loaded both and attached one: pml_sample_obj also names the files it
 * meets, for when pml_mmap_file cannot run (no BPF LSM); pml_sample does not, and still
 * samples where a kernel refuses ring-buffer records from inside bpf_find_vma's
 * callback. */
SEC("perf_event")
int pml_sample(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, false);
}

SEC("perf_event")
int pml_sample_obj(struct bpf_perf_event_data *ctx)
{
	return sample(ctx, true);
}

/* Mapped files' full paths, from the LSM hook every file mapping passes (mmap, and the
 * binary and interpreter exec maps), where bpf_d_path is allowed. A kernel built with
 * BPF LSM but booted without it in its lsm= list attaches the program and never runs
 * it: user space maps a file after attaching and looks at lsm_calls. */
__u64 lsm_calls = 0;

static __always_inline int mmap_file(struct file *file, unsigned long prot, int ret,
				     bool d_path)
{
	lsm_calls++;
	if (ret || !file)
		return ret;
	if (is_traced(bpf_get_current_pid_tgid() >> 32))
		emit_object(file, (__u32)prot, d_path);
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(pml_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	return mmap_file(file, prot, ret, true);
}

/* The same with the dentry walk only, for a kernel that does not allow bpf_d_path in
 * this hook (it allows it in the hooks it lists as sleepable). */
SEC("lsm/mmap_file")
int BPF_PROG(pml_mmap_file_walk, struct file *file, unsigned long reqprot,
	     unsigned long prot, unsigned long flags, int ret)
{
	return mmap_file(file, prot, ret, false);
}

/* Processes. */

static __always_inline struct pml_tev_proc *proc_event(__u16 kind, __u32 tgid, __u32 tid)
{
	struct pml_tev_proc *e;

	if (!RESERVE(e, struct pml_tev_proc))
		return NULL;
	fill_hdr(&e->h, ((__u64)tgid << 32) | tid, kind, sizeof(*e), -1);
	e->other = 0;
	e->arg = 0;
	e->filename[0] = 0;
	return e;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pml_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	__u32 ctgid = child->tgid;
	struct proc_state zero = {};
	struct pml_tev_proc *e;

	if (!is_traced(ptgid))
		return 0;
	if (!targ_all && ctgid != ptgid)
		bpf_map_update_elem(&traced, &ctgid, &zero, BPF_ANY);
	e = proc_event(PML_TEV_FORK, ptgid, parent->pid);
	if (!e)
		return 0;
	e->other = ctgid != ptgid ? ctgid : (__u32)child->pid;
	e->arg = ctgid == ptgid; /* a new thread */
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), parent->comm);
	submit_lazy(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pml_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct pml_tev_proc *e;

	if (!is_traced(p->tgid))
		return 0;
	flush_faults(p->tgid, p->pid, bpf_map_lookup_elem(&traced, &tgid));
	e = proc_event(PML_TEV_EXEC, p->tgid, p->pid);
	if (!e)
		return 0;
	e->other = old_pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	submit_lazy(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pml_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct proc_state *st;
	struct pml_tev_proc *e;

	if (p->pid != p->tgid || !is_traced(tgid)) /* threads: only the leader's exit */
		return 0;
	st = bpf_map_lookup_elem(&traced, &tgid);
	if (st) {
		flush_faults(tgid, p->pid, st);
		bpf_map_delete_elem(&traced, &tgid);
	}
	if (targ_plain_once)
		bpf_map_delete_elem(&plain, &tgid);
	e = proc_event(PML_TEV_EXIT, tgid, p->pid);
	if (!e)
		return 0;
	e->arg = p->exit_code;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), p->comm);
	submit_lazy(e);
	return 0;
}
