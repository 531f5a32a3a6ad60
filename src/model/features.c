/* Features: trace records and the prior to token strings, the vocabulary, and the encoder
 * that joins them (features.h holds the token scheme and its reasons).
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
#include "trace/trace-decode.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TL PML_FEAT_TOKEN_LEN

/* ---- small string helpers ------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Append src (at most n bytes) to dst (a TL buffer), replacing ':' (our separator) and
 * bytes outside printable ASCII. */
static void tok_cat_n(char *dst, const char *src, size_t n)
{
	size_t len = strlen(dst);

	for (size_t i = 0; i < n && src[i] && len < TL - 1; i++) {
		char c = src[i];

		if (c == ':')
			c = '.';
		else if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
			c = '?';
		dst[len++] = c;
	}
	dst[len] = '\0';
}

static void tok_cat(char *dst, const char *src)
{
	tok_cat_n(dst, src, TL);
}

/* dst = a ":" b (":" c); each part sanitised (':' inside a part becomes '.'), except that
 * a part given as already-built tail (raw) keeps its colons. */
static void tok_set(char *dst, const char *kind, const char *rest_raw)
{
	size_t n = 0;

	for (const char *s = kind; *s && n < TL - 1; s++)
		dst[n++] = *s;
	if (rest_raw && *rest_raw && n < TL - 1) {
		dst[n++] = ':';
		for (const char *s = rest_raw; *s && n < TL - 1; s++)
			dst[n++] = *s;
	}
	dst[n] = '\0';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int char_class(char c)
{
	if (c >= 'a' && c <= 'z')
		return 1;
	if (c >= 'A' && c <= 'Z')
		return 2;
	if (is_digit(c))
		return 3;
	return 0;
}

/* ---- word shapes and path classes ----------------------------------------------------- */

void pml_feat_word_shape(const char *w, char *out)
{
	size_t n = strlen(w), o = 0;
	int digits = 0, letters = 0, dots = 0, slash = 0, other = 0, hexok = 1;
	int upper = 0, lower = 0, trans = 0, prev = 0;

	out[0] = '\0';
	if (!n)
		return;
	if (n > 24) {
		strcpy(out, "long");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		int k = char_class(c);

		digits += is_digit(c);
		letters += k == 1 || k == 2;
		upper += k == 2;
		lower += k == 1;
		dots += c == '.';
		slash += c == '/';
		if (!is_hex(c))
			hexok = 0;
		if (!k && c != '.' && c != '/')
			other++;
		if (k && prev && k != prev)
			trans++;
		prev = k ? k : prev;
	}
	if (digits == (int)n) {
		strcpy(out, "#");
		return;
	}
	if (!letters && !other && dots == 3 && slash <= 1) {
		strcpy(out, "ip4");
		return;
	}
	if (hexok && n >= 8 && digits && letters) {
		strcpy(out, "hex");
		return;
	}
	if (n >= 6 && upper && lower && trans >= 4) {
		strcpy(out, "rand");
		return;
	}
	for (size_t i = 0; i < n && o < TL - 1;) {
		if (is_digit(w[i])) {
			out[o++] = '#';
			while (i < n && is_digit(w[i]))
				i++;
		} else {
			out[o++] = w[i] == ':' ? '.' : w[i];
			i++;
		}
	}
	out[o] = '\0';
}

/* Top directories whose contents are the program's own scratch: names there are random
 * or per run, so only the directory is kept. */
static const char *const scratch_tops[] = {"tmp", "work", "mnt", "home", "root", "media",
					   "srv", "job", "out", "opt"};

void pml_feat_path_class(const char *path, char *out)
{
	const char *p = path, *comp[4];
	size_t clen[4];
	int nc = 0;
	bool sysctl;

	out[0] = '\0';
	if (!path || path[0] != '/') {
		strcpy(out, "rel");
		return;
	}
	/* the top and up to three more components */
	while (*p && nc < 4) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		if (!(e - p == 1 && p[0] == '.')) {
			comp[nc] = p;
			clen[nc] = e - p;
			nc++;
		}
		p = e;
	}
	if (!nc) {
		strcpy(out, "/");
		return;
	}
	out[0] = '/';
	out[1] = '\0';
	tok_cat_n(out, comp[0], clen[0]);
	for (size_t i = 0; i < ARRAY_SIZE(scratch_tops); i++)
		if (clen[0] == strlen(scratch_tops[i]) &&
		    !memcmp(comp[0], scratch_tops[i], clen[0]))
			return;
	if (clen[0] == 3 && !memcmp(comp[0], "var", 3) && nc > 1 && clen[1] == 3 &&
	    !memcmp(comp[1], "tmp", 3)) {
		strcpy(out, "/var/tmp");
		return;
	}
	sysctl = nc > 1 && clen[0] == 4 && !memcmp(comp[0], "proc", 4) && clen[1] == 3 &&
		 !memcmp(comp[1], "sys", 3);
	for (int i = 1; i < nc; i++) {
		char word[TL], shape[TL];
		size_t l = clen[i] < TL - 1 ? clen[i] : TL - 1;

		memcpy(word, comp[i], l);
		word[l] = '\0';
		/* /proc/<pid>, /proc/self: one class */
		if (i == 1 && clen[0] == 4 && !memcmp(comp[0], "proc", 4) &&
		    (!strcmp(word, "self") || !strcmp(word, "thread-self")))
			strcpy(word, "1");
		/* sysctl names are a fixed vocabulary (ipv4 is not ipv6): kept as they are */
		if (sysctl && strspn(word, "0123456789") != l)
			snprintf(shape, sizeof(shape), "%s", word);
		else
			pml_feat_word_shape(word, shape);
		strcat(out, ":");
		tok_cat(out, shape);
	}
}

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

static char *push(struct pml_feat_tokens *out)
{
	if (out->n >= PML_FEAT_MAX_TOKENS)
		return NULL;
	out->tok[out->n][0] = '\0';
	return out->tok[out->n++];
}

static void push_kv(struct pml_feat_tokens *out, const char *kind, const char *rest)
{
	char *t = push(out);

	if (t)
		tok_set(t, kind, rest);
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

static const char *basename_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* One word (no separators inside) as an argument token. */
static void word_token(struct pml_feat_tokens *out, const char *w)
{
	char shape[TL], *t;

	if (!*w)
		return;
	pml_feat_word_shape(w, shape);
	t = push(out);
	if (!t)
		return;
	strcpy(t, "arg:");
	tok_cat(t, shape);
	if (!strcmp(shape, "hex") || !strcmp(shape, "rand") || !strcmp(shape, "long"))
		return;
	if (strcmp(shape, w)) {
		strcat(t, ":");
		tok_cat(t, w);
	}
}

/* An argument of a command line: an option, a path, or words split at : , = @ */
static void arg_tokens(struct pml_feat_tokens *out, const char *arg)
{
	char buf[TL], shape[TL];
	const char *eq;

	if (!*arg)
		return;
	if (arg[0] == '-' && arg[1] && !is_digit(arg[1])) {
		char *t = push(out);

		eq = strchr(arg, '=');
		if (t) {
			strcpy(t, "arg:");
			tok_cat_n(t, arg, eq ? (size_t)(eq - arg) : strlen(arg));
		}
		if (eq)
			arg_tokens(out, eq + 1);
		return;
	}
	pml_feat_word_shape(arg, shape);
	if (strchr(arg, '/') && strcmp(shape, "ip4")) {
		char *t = push(out);

		if (t) {
			pml_feat_path_class(arg, buf);
			tok_set(t, "argp", buf);
		}
		return;
	}
	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ":,=@");

		if (n) {
			if (n > TL - 1)
				n = TL - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			word_token(out, buf);
		}
		p += n;
		if (*p)
			p++;
	}
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
		strcat(rest, ":");
		tok_cat(rest, field(buf, (const char *)e->addr + 2, 14));
		if (e->addrlen > 24 && e->addr[24]) {
			strcat(rest, ":");
			tok_cat(rest, field(buf, (const char *)e->addr + 24, PML_TEV_ADDR_LEN - 24));
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
		tok_cat(t, buf[0] ? buf : "-");
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
		tok_cat(t, basename_of(buf));
	}
	for (unsigned i = 1; i < argc; i++) {
		memcpy(arg, e->argv[i], PML_TEV_ARG_LEN);
		arg[PML_TEV_ARG_LEN] = '\0';
		arg_tokens(out, arg);
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
			strcat(rest, ":");
			tok_cat(rest, kind);
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
			tok_cat(t, buf);
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
	tok_cat_n(rest, buf, cls);
	if (buf[cls]) {
		strcat(rest, ":");
		tok_cat(rest, buf);
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
			strcat(rest, ":");
			tok_cat(rest, buf);
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

			tok_cat(t, buf);
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
			strcat(rest, ":");
			tok_cat(rest, buf);
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
		tok_set(out->tok[0], gaps[g].tok, NULL);
	}
	return out->n;
}

/* ---- the prior -------------------------------------------------------------------------- */

struct prior_ctx {
	pml_feat_emit_fn emit;
	void *ctx;
	int count;
	int err;
};

static void prior_flush(struct prior_ctx *pc, struct pml_feat_tokens *t)
{
	for (int i = 0; i < t->n && !pc->err; i++) {
		int r = pc->emit(pc->ctx, t->tok[i]);

		if (r < 0)
			pc->err = r;
		else
			pc->count++;
	}
	t->n = 0;
}

/* Words that open a compound command: the program comes after them. */
static const char *const keywords[] = {
	"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!",
	"[[", "]]", "esac", "then;", "do;",
};

/* Programs that run another one (timeout 5 cmd, env X=1 cmd): the program comes after
 * them, their options and their numeric arguments. */
static const char *const wrappers[] = {
	"timeout", "nohup", "setsid", "env", "sudo", "exec", "command", "xargs", "time",
	"nice", "ionice", "stdbuf", "eval",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return true;
	return false;
}

#define EXPANDED "$" /* the lexer's stand-in for a word holding an expansion */

/* One simple command's words: the program, then its arguments. */
static void prior_command(struct prior_ctx *pc, char **words, int n)
{
	struct pml_feat_tokens t = {0};
	int i = 0;
	char *tok;

	/* keywords, leading assignments (x=1 cmd) and wrappers are not the program */
	for (;;) {
		if (i < n && (in_list(words[i], keywords, ARRAY_SIZE(keywords)) ||
			      (strchr(words[i], '=') && words[i][0] != '=' && words[i][0] != '-'))) {
			i++;
			continue;
		}
		if (i < n && in_list(words[i], wrappers, ARRAY_SIZE(wrappers))) {
			for (i++; i < n && (words[i][0] == '-' || is_digit(words[i][0]) ||
					    (strchr(words[i], '=') && words[i][0] != '='));
			     i++)
				;
			continue;
		}
		break;
	}
	if (i >= n)
		return;
	/* for/case heads list words, not a command; the dataset's pml_expect names the
	 * expected modules: the label itself */
	if (!strcmp(words[i], "for") || !strcmp(words[i], "case") || !strcmp(words[i], "in") ||
	    !strncmp(words[i], "pml_expect", 10) || !strncmp(words[i], "pml-expect", 10))
		return;
	tok = push(&t);
	strcpy(tok, "exec:");
	/* a program named by an expansion ($PML_PING): unknown, its arguments still speak */
	tok_cat(tok, strcmp(words[i], EXPANDED) ? basename_of(words[i]) : "?");
	prior_flush(pc, &t);
	for (i++; i < n && !pc->err; i++) {
		if (strcmp(words[i], EXPANDED))
			arg_tokens(&t, words[i]);
		prior_flush(pc, &t);
	}
}

/* A small shell lexer: enough of sh to find simple commands and their literal words.
 * Quotes are removed; a word holding an expansion ($x, `x`) is dropped; comments end at
 * the newline; ; & | ( ) newline end a command; < > separate words. */
static void prior_text(struct prior_ctx *pc, const char *s)
{
	enum { MAXW = 64 };
	char *words[MAXW], word[256];
	char store[MAXW][256];
	int nw = 0;
	size_t wl = 0;
	bool in_word = false, expanded = false;

	for (int i = 0; i < MAXW; i++)
		words[i] = store[i];
#define END_WORD()                                                                   \
	do {                                                                         \
		if (in_word && nw < MAXW) {                                          \
			char *eq_ = memchr(word, '=', wl);                           \
			if (expanded && eq_ && eq_ != word) /* x=$y: an assignment */ \
				wl = (size_t)(eq_ - word) + 1;                       \
			else if (expanded)                                           \
				strcpy(word, EXPANDED), wl = 1;                      \
			word[wl] = '\0';                                             \
			if (wl)                                                      \
				memcpy(store[nw++], word, wl + 1);                   \
		}                                                                    \
		in_word = false, expanded = false, wl = 0;                           \
	} while (0)
#define END_CMD()                                    \
	do {                                         \
		END_WORD();                          \
		if (nw)                              \
			prior_command(pc, words, nw); \
		nw = 0;                              \
	} while (0)
	for (const char *p = s; *p && !pc->err; p++) {
		char c = *p;

		if (c == '\\' && p[1] == '\n') {
			p++;
			continue;
		}
		if (c == '#' && !in_word) {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		if (c == '\'' || c == '"') {
			const char *e = p + 1;

			while (*e && *e != c) {
				if (c == '"' && (*e == '$' || *e == '`'))
					expanded = true;
				if (c == '"' && *e == '\\' && e[1])
					e++;
				if (wl < sizeof(word) - 1)
					word[wl++] = *e;
				e++;
			}
			in_word = true;
			p = *e ? e : e - 1;
			continue;
		}
		if (c == '$' || c == '`') {
			expanded = true;
			in_word = true;
			if (c == '$' && p[1] == '(') {
				/* $(cmd): the inner command is a command of its own */
				END_CMD();
				p++;
			}
			continue;
		}
		if (c == '<' || c == '>') {
			/* 2>/dev/null: the digits are a descriptor, not a word */
			bool fd = in_word && wl > 0 && !expanded;

			for (size_t i = 0; fd && i < wl; i++)
				fd = is_digit(word[i]);
			if (fd)
				in_word = false, wl = 0;
			END_WORD();
			continue;
		}
		if (c == ' ' || c == '\t') {
			END_WORD();
			continue;
		}
		if (c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
			END_CMD();
			continue;
		}
		if (wl < sizeof(word) - 1)
			word[wl++] = c;
		in_word = true;
	}
	END_CMD();
#undef END_WORD
#undef END_CMD
}

int pml_features_prior(const char *command, const char *script, pml_feat_emit_fn emit,
		       void *ctx)
{
	struct prior_ctx pc = {emit, ctx, 0, 0};
	int r;

	r = emit(ctx, PML_TOK_PRIOR);
	if (r < 0)
		return r;
	pc.count++;
	if (command && *command)
		prior_text(&pc, command);
	if (!pc.err && script && *script)
		prior_text(&pc, script);
	if (pc.err)
		return pc.err;
	r = emit(ctx, PML_TOK_START);
	if (r < 0)
		return r;
	return pc.count + 1;
}

/* ---- the vocabulary ----------------------------------------------------------------------- */

struct pml_vocab {
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *off;	    /* [n] string offsets into arena */
	uint32_t *docs;	    /* [n] documents seen in (counting) */
	uint32_t *last_doc; /* [n] last document + 1 */
	size_t n, cap;
	int32_t *slots; /* hash table of ids, -1 empty */
	size_t n_slots;
};

static int vocab_grow_slots(struct pml_vocab *v)
{
	size_t ns = v->n_slots ? v->n_slots * 2 : 256;
	int32_t *s = malloc(ns * sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(s, 0xff, ns * sizeof(*s));
	for (size_t i = 0; i < v->n; i++) {
		const char *str = v->arena + v->off[i];
		size_t h = fnv1a(str, strlen(str)) & (ns - 1);

		while (s[h] >= 0)
			h = (h + 1) & (ns - 1);
		s[h] = (int32_t)i;
	}
	free(v->slots);
	v->slots = s;
	v->n_slots = ns;
	return 0;
}

static int32_t vocab_find_n(const struct pml_vocab *v, const char *s, size_t len)
{
	size_t h;

	if (!v->n_slots)
		return -1;
	h = fnv1a(s, len) & (v->n_slots - 1);
	while (v->slots[h] >= 0) {
		const char *str = v->arena + v->off[v->slots[h]];

		if (!strncmp(str, s, len) && str[len] == '\0')
			return v->slots[h];
		h = (h + 1) & (v->n_slots - 1);
	}
	return -1;
}

static int32_t vocab_add_n(struct pml_vocab *v, const char *s, size_t len)
{
	int32_t id = vocab_find_n(v, s, len);
	size_t h;

	if (id >= 0)
		return id;
	if (v->n >= INT32_MAX - 1 || v->arena_len + len + 1 > UINT32_MAX)
		return -ENOMEM;
	if ((v->n + 1) * 2 > v->n_slots && vocab_grow_slots(v) < 0)
		return -ENOMEM;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		uint32_t *o = realloc(v->off, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		v->off = o;
		o = realloc(v->docs, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		v->docs = o;
		o = realloc(v->last_doc, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		v->last_doc = o;
		v->cap = cap;
	}
	if (v->arena_len + len + 1 > v->arena_cap) {
		size_t cap = v->arena_cap ? v->arena_cap * 2 : 4096;
		char *a;

		while (cap < v->arena_len + len + 1)
			cap *= 2;
		a = realloc(v->arena, cap);
		if (!a)
			return -ENOMEM;
		v->arena = a;
		v->arena_cap = cap;
	}
	memcpy(v->arena + v->arena_len, s, len);
	v->arena[v->arena_len + len] = '\0';
	v->off[v->n] = (uint32_t)v->arena_len;
	v->docs[v->n] = 0;
	v->last_doc[v->n] = 0;
	v->arena_len += len + 1;
	h = fnv1a(s, len) & (v->n_slots - 1);
	while (v->slots[h] >= 0)
		h = (h + 1) & (v->n_slots - 1);
	v->slots[h] = (int32_t)v->n;
	return (int32_t)v->n++;
}

struct pml_vocab *pml_vocab_new(void)
{
	struct pml_vocab *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (vocab_add_n(v, PML_TOK_OOV, strlen(PML_TOK_OOV)) != 0) {
		pml_vocab_free(v);
		return NULL;
	}
	return v;
}

void pml_vocab_free(struct pml_vocab *v)
{
	if (!v)
		return;
	free(v->arena);
	free(v->off);
	free(v->docs);
	free(v->last_doc);
	free(v->slots);
	free(v);
}

int pml_vocab_from_strings(const char *const *strings, size_t n, struct pml_vocab **ret)
{
	struct pml_vocab *v;

	if (!n || strcmp(strings[0], PML_TOK_OOV))
		return -EINVAL;
	v = pml_vocab_new();
	if (!v)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		int32_t id = vocab_add_n(v, strings[i], strlen(strings[i]));

		if (id < 0) {
			pml_vocab_free(v);
			return -ENOMEM;
		}
		if ((size_t)id != i) { /* a duplicate string */
			pml_vocab_free(v);
			return -EINVAL;
		}
	}
	*ret = v;
	return 0;
}

size_t pml_vocab_size(const struct pml_vocab *v)
{
	return v->n;
}

const char *pml_vocab_token(const struct pml_vocab *v, int32_t id)
{
	return id >= 0 && (size_t)id < v->n ? v->arena + v->off[id] : NULL;
}

int32_t pml_vocab_find(const struct pml_vocab *v, const char *s)
{
	return vocab_find_n(v, s, strlen(s));
}

int32_t pml_vocab_lookup(const struct pml_vocab *v, const char *s)
{
	size_t len = strlen(s);

	for (;;) {
		int32_t id = vocab_find_n(v, s, len);

		if (id >= 0)
			return id;
		while (len > 0 && s[len - 1] != ':')
			len--;
		if (len == 0)
			return 0;
		len--; /* drop the ':' */
	}
}

int32_t pml_vocab_add(struct pml_vocab *v, const char *s)
{
	return vocab_add_n(v, s, strlen(s));
}

int pml_vocab_count(struct pml_vocab *v, const char *s, uint32_t doc)
{
	size_t len = strlen(s);

	while (len) {
		int32_t id = vocab_add_n(v, s, len);

		if (id < 0)
			return id;
		if (v->last_doc[id] != doc + 1) {
			v->last_doc[id] = doc + 1;
			v->docs[id]++;
		}
		while (len > 0 && s[len - 1] != ':')
			len--;
		if (len)
			len--;
	}
	return 0;
}

uint32_t pml_vocab_docs(const struct pml_vocab *v, const char *s)
{
	int32_t id = pml_vocab_find(v, s);

	return id >= 0 ? v->docs[id] : 0;
}

static const struct pml_vocab *sort_vocab; /* qsort has no context argument */

static int by_docs(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	uint32_t dx = sort_vocab->docs[x], dy = sort_vocab->docs[y];

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(sort_vocab->arena + sort_vocab->off[x],
		      sort_vocab->arena + sort_vocab->off[y]);
}

int pml_vocab_prune(const struct pml_vocab *counted, uint32_t min_docs, size_t max_size,
		    struct pml_vocab **ret)
{
	static const char *const specials[] = {PML_TOK_PRIOR, PML_TOK_START};
	struct pml_vocab *v = pml_vocab_new();
	int32_t *ids = malloc((counted->n + 1) * sizeof(*ids));
	size_t k = 0;

	if (!v || !ids) {
		pml_vocab_free(v);
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(specials); i++)
		if (pml_vocab_add(v, specials[i]) < 0)
			goto nomem;
	for (size_t i = 1; i < counted->n; i++)
		if (counted->docs[i] >= min_docs && pml_vocab_find(v, counted->arena + counted->off[i]) < 0)
			ids[k++] = (int32_t)i;
	sort_vocab = counted;
	qsort(ids, k, sizeof(*ids), by_docs);
	sort_vocab = NULL;
	for (size_t i = 0; i < k && (!max_size || v->n < max_size); i++)
		if (pml_vocab_add(v, counted->arena + counted->off[ids[i]]) < 0)
			goto nomem;
	for (size_t i = 0; i < v->n; i++) {
		int32_t id = pml_vocab_find(counted, v->arena + v->off[i]);

		v->docs[i] = id >= 0 ? counted->docs[id] : 0;
	}
	free(ids);
	*ret = v;
	return 0;
nomem:
	pml_vocab_free(v);
	free(ids);
	return -ENOMEM;
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

struct encode_prior_ctx {
	const struct pml_vocab *v;
	int32_t *ids;
	int n, max;
};

static int encode_prior_emit(void *ctx, const char *tok)
{
	struct encode_prior_ctx *c = ctx;

	/* keep <start> even when the script was cut */
	if (c->n >= c->max - 1 && strcmp(tok, PML_TOK_START))
		return 0;
	if (c->n < c->max)
		c->ids[c->n++] = pml_vocab_lookup(c->v, tok);
	return 0;
}

int pml_feat_encode_prior(const struct pml_vocab *v, const char *command, const char *script,
			  int32_t *ids, int max)
{
	struct encode_prior_ctx c = {v, ids, 0, max};

	if (max <= 0)
		return 0;
	pml_features_prior(command, script, encode_prior_emit, &c);
	return c.n;
}
