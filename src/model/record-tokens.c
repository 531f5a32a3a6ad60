/* Records to tokens (the streaming tokenizer: pml_features_record and its collapsing
 * rules), and to ids (the encoder, the tokenizer bound to a vocabulary). features.h holds
 * the token scheme and its reasons.
 *
 * The plain system call is the hot path (most records): it costs a per-process slot
 * lookup and a table read in the encoder, no string work. The other kinds build their
 * strings with bounded copies into fixed buffers; a token longer than
 * PML_FEAT_TOKEN_LEN - 1 bytes is cut. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/features.h"
#include "model/features-priv.h"
#include "trace/trace-decode.h"

/* ---- the tokenizer --------------------------------------------------------------------- */

#define PID_SLOTS 1024 /* a power of two */
#define PID_PROBE 8

struct pid_state {
	uint32_t pid;
	uint32_t used;
	uint64_t seen[8];   /* plain calls made since the process's last execve (nr < 512) */
	uint64_t last_hash; /* of the last non-plain record's tokens */
	uint64_t pad;
};

struct pml_features {
	struct pid_state slots[PID_SLOTS];
	uint32_t evict;	 /* round-robin victim when a probe run is full */
	uint64_t last_t; /* time of the last record that gave tokens, 0 before the first */
};

/* Quiet periods: a gap before a record's tokens of at least these many ms. */
static const struct {
	uint32_t ms;
	const char *tok;
} gaps[] = {{10000, "gap:10s"}, {3000, "gap:3s"}, {1000, "gap:1s"}, {300, "gap:300ms"},
	    {100, "gap:100ms"}};

/* The gap bucket (index into gaps) before a record at t that gives tokens, -1 for none;
 * t becomes the last time. */
static int gap_take(struct pml_features *f, uint64_t t)
{
	uint64_t last = f->last_t;

	f->last_t = t;
	if (!last || t <= last)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(gaps); i++)
		if (t - last >= (uint64_t)gaps[i].ms * 1000000)
			return (int)i;
	return -1;
}

struct pml_features *pml_features_new(void)
{
	return calloc(1, sizeof(struct pml_features));
}

void pml_features_free(struct pml_features *f)
{
	free(f);
}

void pml_features_reset(struct pml_features *f)
{
	memset(f, 0, sizeof(*f));
}

static struct pid_state *pid_get(struct pml_features *f, uint32_t pid)
{
	uint32_t h = (pid * 2654435761u) >> 22; /* 10 bits: PID_SLOTS */
	struct pid_state *s;

	for (int i = 0; i < PID_PROBE; i++) {
		s = &f->slots[(h + i) & (PID_SLOTS - 1)];
		if (s->used && s->pid == pid)
			return s;
		if (!s->used) {
			memset(s, 0, sizeof(*s));
			s->used = 1;
			s->pid = pid;
			return s;
		}
	}
	/* every probed slot taken by another process: forget one, deterministically */
	s = &f->slots[(h + f->evict++ % PID_PROBE) & (PID_SLOTS - 1)];
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->pid = pid;
	return s;
}

/* Plain calls every dynamically linked program makes at start-up (ld.so, libc) or that
 * nearly every process makes: in the dataset's first 40 runs each came once per exec
 * (2400 execs), 16 tokens of noise per program. The x86_64 numbers. */
static const uint16_t ubiquitous[] = {
	0,   /* read */	       1,   /* write */	      3,   /* close */
	8,   /* lseek */       9,   /* mmap */	      10,  /* mprotect */
	11,  /* munmap */      12,  /* brk */	      13,  /* rt_sigaction */
	14,  /* rt_sigprocmask */ 15, /* rt_sigreturn */ 17, /* pread64 */
	21,  /* access */      32,  /* dup */	      33,  /* dup2 */
	39,  /* getpid */      72,  /* fcntl */	      102, /* getuid */
	104, /* getgid */      107, /* geteuid */     108, /* getegid */
	110, /* getppid */     158, /* arch_prctl */  202, /* futex */
	218, /* set_tid_address */ 231, /* exit_group */ 262, /* newfstatat */
	273, /* set_robust_list */ 302, /* prlimit64 */ 318, /* getrandom */
	334, /* rseq */	       4,   /* stat */	      5,   /* fstat */
	6,   /* lstat */
};

static bool is_ubiquitous(int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(ubiquitous); i++)
		if (ubiquitous[i] == nr)
			return true;
	return false;
}

void pml_features_ubiquitous_mask(uint64_t mask[8])
{
	memset(mask, 0, 8 * sizeof(uint64_t));
	for (size_t i = 0; i < ARRAY_SIZE(ubiquitous); i++)
		mask[ubiquitous[i] >> 6] |= 1ull << (ubiquitous[i] & 63);
}

/* The collapsing rule for a plain call: true when it is kept (not ubiquitous, and the
 * process's first of this call since its last execve). */
static bool plain_keep(struct pml_features *f, const struct pml_tev_hdr *rec)
{
	struct pid_state *s;
	unsigned nr = rec->nr < 0 || rec->nr > 511 ? 511 : (unsigned)rec->nr;
	uint64_t bit = 1ull << (nr & 63);

	if (is_ubiquitous(rec->nr))
		return false;
	s = pid_get(f, rec->pid);
	if (s->seen[nr >> 6] & bit)
		return false;
	s->seen[nr >> 6] |= bit;
	return true;
}

static void push_kv(struct pml_feat_tokens *out, const char *kind, const char *rest)
{
	char *t = push(out);

	if (t)
		feat_tok_set(t, kind, rest);
}

/* A bounded string field of a record as a C string in buf (TL bytes). */
static const char *field(char *buf, const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n])
		n++;

	if (n > TL - 1)
		n = TL - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static const char *rtm_type(unsigned type, char buf[16])
{
	static const struct {
		unsigned t;
		const char *n;
	} names[] = {
		{16, "RTM_NEWLINK"},   {17, "RTM_DELLINK"},	  {18, "RTM_GETLINK"},
		{19, "RTM_SETLINK"},   {20, "RTM_NEWADDR"},	  {21, "RTM_DELADDR"},
		{22, "RTM_GETADDR"},   {24, "RTM_NEWROUTE"},	  {25, "RTM_DELROUTE"},
		{26, "RTM_GETROUTE"},  {28, "RTM_NEWNEIGH"},	  {32, "RTM_NEWRULE"},
		{36, "RTM_NEWQDISC"},  {40, "RTM_NEWTCLASS"},	  {44, "RTM_NEWTFILTER"},
		{104, "RTM_NEWCHAIN"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].t == type)
			return names[i].n;
	snprintf(buf, 16, "%u", type);
	return buf;
}

static void sock_tokens(struct pml_feat_tokens *out, const struct pml_tev_socket *e)
{
	char rest[TL], num[3][16];
	const char *fam = pml_af_name(e->family), *type = pml_sock_type_name(e->type);
	const char *proto = NULL;

	if (e->family == 2 || e->family == 10)
		proto = pml_ipproto_name(e->protocol);
	else if (e->family == 16)
		proto = pml_netlink_proto_name(e->protocol);
	snprintf(num[0], sizeof(num[0]), "%d", e->family);
	snprintf(num[1], sizeof(num[1]), "%d", e->type & 0xf);
	snprintf(num[2], sizeof(num[2]), "%d", e->protocol);
	snprintf(rest, sizeof(rest), "%s:%s:%s", fam ? fam : num[0], type ? type : num[1],
		 proto ? proto : num[2]);
	push_kv(out, "sock", rest);
}

static void sockaddr_tokens(struct pml_feat_tokens *out, const struct pml_tev_sockaddr *e)
{
	const char *call = pml_syscall_name(e->h.nr);
	char rest[TL], buf[TL], num[16];
	uint16_t family;
	const char *fam;

	if (!call || (strcmp(call, "bind") && strcmp(call, "connect")))
		call = "sockaddr";
	if (e->addrlen < 2) {
		push_kv(out, call, NULL);
		return;
	}
	memcpy(&family, e->addr, 2);
	fam = pml_af_name(family);
	snprintf(num, sizeof(num), "%u", family);
	snprintf(rest, sizeof(rest), "%s", fam ? fam : num);
	if (family == 38 && e->addrlen >= 16) {
		/* AF_ALG: salg_type[14] at 2, salg_name from 24 (its first 8 bytes here) */
		feat_tok_sep(rest);
		feat_tok_cat(rest, field(buf, (const char *)e->addr + 2, 14));
		if (e->addrlen > 24 && e->addr[24]) {
			feat_tok_sep(rest);
			feat_tok_cat(rest, field(buf, (const char *)e->addr + 24, PML_TEV_ADDR_LEN - 24));
		}
	}
	push_kv(out, call, rest);
}

static void mount_tokens(struct pml_feat_tokens *out, const struct pml_tev_mount *e)
{
	char buf[TL], cls[TL], *t;

	field(buf, e->fstype, sizeof(e->fstype));
	t = push(out);
	if (t) {
		strcpy(t, "mount:");
		feat_tok_cat(t, buf[0] ? buf : "-");
	}
	field(buf, e->source, sizeof(e->source));
	if (buf[0] == '/')
		pml_feat_path_class(buf, cls);
	else
		pml_feat_word_shape(buf, cls);
	if (cls[0])
		push_kv(out, "msrc", cls);
}

static void execve_tokens(struct pml_feat_tokens *out, const struct pml_tev_execve *e)
{
	char buf[PML_TEV_PATH_LEN + 1], arg[PML_TEV_ARG_LEN + 1], *t;
	unsigned argc = e->argc < PML_TEV_EXEC_ARGS ? e->argc : PML_TEV_EXEC_ARGS;

	memcpy(buf, e->filename, PML_TEV_PATH_LEN);
	buf[PML_TEV_PATH_LEN] = '\0';
	t = push(out);
	if (t) {
		strcpy(t, "exec:");
		feat_tok_cat(t, basename_of(buf));
	}
	for (unsigned i = 1; i < argc; i++) {
		memcpy(arg, e->argv[i], PML_TEV_ARG_LEN);
		arg[PML_TEV_ARG_LEN] = '\0';
		feat_arg_tokens(out, arg);
	}
}

static void netlink_tokens(struct pml_feat_tokens *out, const struct pml_tev_netlink *e)
{
	char rest[TL], num[16], tbuf[16], kind[TL];
	const char *proto = pml_netlink_proto_name(e->protocol);

	snprintf(num, sizeof(num), "%d", e->protocol);
	if (e->protocol == 0) {
		snprintf(rest, sizeof(rest), "%s:%s", proto, rtm_type(e->nlmsg_type, tbuf));
		field(kind, e->kind, sizeof(e->kind));
		if (kind[0]) {
			feat_tok_sep(rest);
			feat_tok_cat(rest, kind);
		}
	} else if (e->protocol == 12) {
		snprintf(rest, sizeof(rest), "%s:%u:%u", proto, e->nlmsg_type >> 8,
			 e->nlmsg_type & 0xff);
	} else if (e->protocol == 16 && e->nlmsg_type >= 0x10) {
		/* generic netlink family ids are handed out at run time */
		snprintf(rest, sizeof(rest), "%s", proto);
	} else {
		snprintf(rest, sizeof(rest), "%s:%u", proto ? proto : num, e->nlmsg_type);
	}
	push_kv(out, "nl", rest);
}

static void mmap_tokens(struct pml_feat_tokens *out, const struct pml_tev_mmap *e)
{
	char buf[TL], *so, shape[TL];

	field(buf, e->name, sizeof(e->name));
	if (!buf[0] || !strcmp(buf, "ld.so.cache"))
		return;
	so = strstr(buf, ".so");
	if (so && (so[3] == '\0' || so[3] == '.')) {
		so[3] = '\0';
		push_kv(out, "lib", buf);
		return;
	}
	pml_feat_word_shape(buf, shape);
	push_kv(out, "map", shape);
}

static void module_tokens(struct pml_feat_tokens *out, const struct pml_tev_module *e)
{
	char buf[TL], rest[TL], *t;
	size_t cls;

	field(buf, e->name, sizeof(e->name));
	if (e->h.kind != PML_TEV_MOD_REQUEST) {
		t = push(out);
		if (t) {
			strcpy(t, e->h.kind == PML_TEV_MOD_LOAD ? "load:" : "free:");
			feat_tok_cat(t, buf);
		}
		return;
	}
	/* an alias: its first dash-separated part is its class (fs, net, char, crypto ...) */
	cls = strcspn(buf, "-");
	if (cls == 6 && !memcmp(buf, "netdev", 6)) {
		push_kv(out, "req", "netdev");
		return;
	}
	rest[0] = '\0';
	feat_tok_cat_n(rest, buf, cls);
	if (buf[cls]) {
		feat_tok_sep(rest);
		feat_tok_cat(rest, buf);
	}
	push_kv(out, "req", rest);
}

static uint64_t tokens_hash(const struct pml_feat_tokens *out)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < out->n; i++)
		h = (h ^ fnv1a(out->tok[i], strlen(out->tok[i]))) * 0x100000001b3ull;
	return h ? h : 1;
}

int pml_features_record(struct pml_features *f, const struct pml_tev_hdr *rec,
			struct pml_feat_tokens *out)
{
	char buf[TL], num[24];
	const char *name;
	struct pid_state *s;
	int g;

	out->n = 0;
	if (rec->kind == PML_TEV_SYSCALL) {
		if (!plain_keep(f, rec))
			return 0;
		name = pml_syscall_name(rec->nr);
		snprintf(num, sizeof(num), "%d", rec->nr);
		g = gap_take(f, rec->t_ns);
		if (g >= 0)
			push_kv(out, gaps[g].tok, NULL);
		push_kv(out, "sc", name ? name : num);
		return out->n;
	}
	switch (rec->kind) {
	case PML_TEV_SOCKET:
		sock_tokens(out, (const void *)rec);
		break;
	case PML_TEV_SOCKOPT: {
		const struct pml_tev_sockopt *e = (const void *)rec;
		char rest[TL];

		snprintf(rest, sizeof(rest), "%d:%d", e->level, e->optname);
		field(buf, e->ulp, sizeof(e->ulp));
		if (buf[0]) {
			feat_tok_sep(rest);
			feat_tok_cat(rest, buf);
		}
		push_kv(out, "sopt", rest);
		break;
	}
	case PML_TEV_SOCKADDR:
		sockaddr_tokens(out, (const void *)rec);
		break;
	case PML_TEV_PATH: {
		const struct pml_tev_path *e = (const void *)rec;
		char cls[TL];

		field(buf, e->path, sizeof(e->path));
		/* a library's open: its mapping follows and says it (lib:) */
		if (strstr(basename_of(buf), ".so"))
			break;
		pml_feat_path_class(buf, cls);
		push_kv(out, "open", cls);
		break;
	}
	case PML_TEV_EXECVE:
		execve_tokens(out, (const void *)rec);
		break;
	case PML_TEV_MOUNT:
		mount_tokens(out, (const void *)rec);
		break;
	case PML_TEV_IOCTL: {
		const struct pml_tev_ioctl *e = (const void *)rec;

		snprintf(num, sizeof(num), "0x%x", e->cmd);
		push_kv(out, "ioctl", num);
		break;
	}
	case PML_TEV_BPF: {
		const struct pml_tev_bpf *e = (const void *)rec;
		const char *cmd = pml_bpf_cmd_name(e->cmd);
		char rest[TL];

		snprintf(num, sizeof(num), "%d", e->cmd);
		if (e->cmd == 0 || e->cmd == 5)
			snprintf(rest, sizeof(rest), "%s:%u", cmd, e->prog_type);
		else
			snprintf(rest, sizeof(rest), "%s", cmd ? cmd : num);
		push_kv(out, "bpf", rest);
		break;
	}
	case PML_TEV_KEY: {
		const struct pml_tev_key *e = (const void *)rec;

		if (e->op >= 0) {
			snprintf(num, sizeof(num), "%d", e->op);
			push_kv(out, "keyctl", num);
		}
		field(buf, e->type, sizeof(e->type));
		if (buf[0]) {
			char t[TL] = "";

			feat_tok_cat(t, buf);
			push_kv(out, "key", t);
		} else if (e->op < 0) {
			push_kv(out, "key", NULL);
		}
		break;
	}
	case PML_TEV_MODCALL: {
		const struct pml_tev_modcall *e = (const void *)rec;
		char rest[TL];

		name = pml_syscall_name(rec->nr);
		snprintf(rest, sizeof(rest), "%s", name ? name : "?");
		field(buf, e->name, sizeof(e->name));
		if (name && !strcmp(name, "delete_module") && buf[0]) {
			feat_tok_sep(rest);
			feat_tok_cat(rest, buf);
		}
		push_kv(out, "modcall", rest);
		break;
	}
	case PML_TEV_MMAP:
		mmap_tokens(out, (const void *)rec);
		break;
	case PML_TEV_MOD_REQUEST:
	case PML_TEV_MOD_LOAD:
	case PML_TEV_MOD_FREE:
		module_tokens(out, (const void *)rec);
		break;
	case PML_TEV_EXIT: {
		const struct pml_tev_proc *e = (const void *)rec;

		push_kv(out, "exit", e->arg ? "fail" : NULL);
		break;
	}
	case PML_TEV_DROPS:
		push_kv(out, "drops", NULL);
		break;
	case PML_TEV_NETLINK:
		netlink_tokens(out, (const void *)rec);
		break;
	default: /* fork (the clone call said it), exec (execve said it), unknown kinds */
		return 0;
	}
	/* the same tokens as the process's previous record say nothing new */
	s = pid_get(f, rec->pid);
	if (rec->kind == PML_TEV_EXECVE)
		memset(s->seen, 0, sizeof(s->seen));
	if (out->n) {
		uint64_t h = tokens_hash(out);

		if (h == s->last_hash)
			out->n = 0;
		else
			s->last_hash = h;
	}
	if (out->n && (g = gap_take(f, rec->t_ns)) >= 0) {
		if (out->n == PML_FEAT_MAX_TOKENS)
			out->n--;
		memmove(out->tok[1], out->tok[0], out->n * sizeof(out->tok[0]));
		out->n++;
		feat_tok_set(out->tok[0], gaps[g].tok, NULL);
	}
	return out->n;
}

/* ---- the encoder ------------------------------------------------------------------------- */

#define SYS_IDS 512

struct pml_feat_encoder {
	const struct pml_vocab *v;
	struct pml_features f;
	int32_t sys_id[SYS_IDS]; /* -1: not looked up yet, -2: ubiquitous (dropped) */
	int32_t gap_id[ARRAY_SIZE(gaps)];
	struct pml_feat_tokens last; /* the strings of the latest record's tokens */
};

const struct pml_feat_tokens *pml_feat_encoder_last(const struct pml_feat_encoder *e)
{
	return &e->last;
}

struct pml_feat_encoder *pml_feat_encoder_new(const struct pml_vocab *v)
{
	struct pml_feat_encoder *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->v = v;
	memset(e->sys_id, 0xff, sizeof(e->sys_id));
	for (size_t i = 0; i < ARRAY_SIZE(gaps); i++)
		e->gap_id[i] = pml_vocab_lookup(v, gaps[i].tok);
	return e;
}

void pml_feat_encoder_free(struct pml_feat_encoder *e)
{
	free(e);
}

void pml_feat_encoder_reset(struct pml_feat_encoder *e)
{
	pml_features_reset(&e->f);
}

int pml_feat_encode_record(struct pml_feat_encoder *e, const struct pml_tev_hdr *rec,
			   int32_t *ids)
{
	struct pml_feat_tokens t;
	int n, k = 0, g;

	e->last.n = 0;
	if (rec->kind == PML_TEV_SYSCALL && rec->nr >= 0 && rec->nr < SYS_IDS) {
		/* -2: a ubiquitous call, dropped before any lookup */
		if (e->sys_id[rec->nr] == -2)
			return 0;
		if (e->sys_id[rec->nr] == -1 && is_ubiquitous(rec->nr)) {
			e->sys_id[rec->nr] = -2;
			return 0;
		}
		if (!plain_keep(&e->f, rec))
			return 0;
		g = gap_take(&e->f, rec->t_ns);
		if (g >= 0)
			ids[k++] = e->gap_id[g];
		if (e->sys_id[rec->nr] < 0) {
			char tok[TL];
			const char *name = pml_syscall_name(rec->nr);

			if (name)
				snprintf(tok, sizeof(tok), "sc:%s", name);
			else
				snprintf(tok, sizeof(tok), "sc:%d", rec->nr);
			e->sys_id[rec->nr] = pml_vocab_lookup(e->v, tok);
		}
		ids[k++] = e->sys_id[rec->nr];
		return k;
	}
	n = pml_features_record(&e->f, rec, &t);
	for (int i = 0; i < n; i++)
		ids[i] = pml_vocab_lookup(e->v, t.tok[i]);
	e->last.n = n;
	memcpy(e->last.tok, t.tok, (size_t)n * sizeof(t.tok[0]));
	return n;
}
