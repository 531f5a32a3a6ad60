/* The resource API: the line protocol's parser and formatters (every malformed form named
 * in doc/resource-api.md), then the server on a real socket in a temporary directory,
 * served by a thread that polls pml_resource_server_fd() as pmld's loop would, with the
 * client functions of `pml status` / `pml request`: requests and their answers, release,
 * status, malformed lines (the connection survives them, except a line too long), a peer
 * refused (a forked child that becomes nobody; and a fake credential hook for groups), a
 * socketpair adopted, too many clients. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "resource/resource-api.h"
#include "unit.h"

static uint64_t clock_ns = 1000000000ULL;

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static uint64_t test_now(void *data)
{
	return clock_ns;
}

static void check_bad(const char *line, const char *want)
{
	struct pml_res_cmd c;
	char err[160] = "";

	CHECK(pml_res_cmd_parse(line, &c, err, sizeof(err)) == -EINVAL);
	if (!strstr(err, want)) {
		fprintf(stderr, "line '%.60s': error '%s', wanted '%s'\n", line, err, want);
		CHECK(!"error text");
	}
}

static void test_parse(void)
{
	struct pml_res_cmd c;
	struct pml_res_request r;
	char err[160], buf[600], line[700];

	CHECK(pml_res_cmd_parse("REQUEST module=sctp bytes=434176 load_ms=100 kind=prediction "
				"urgency_ms=500 confidence=0.8\n", &c, err, sizeof(err)) == 0);
	CHECK(c.verb == PML_RES_VERB_REQUEST);
	CHECK_STR(c.req.module, "sctp");
	CHECK(c.req.bytes == 434176 && c.req.load_ms == 100 && c.req.urgency_ms == 500);
	CHECK(c.req.kind == PML_RES_PREDICTION && c.req.confidence == 0.8);
	/* Defaults, CRLF, tabs. */
	CHECK(pml_res_cmd_parse("REQUEST\tmodule=nf-tables kind=critical\r\n", &c, err,
				sizeof(err)) == 0);
	CHECK(c.req.bytes == -1 && c.req.load_ms == -1 && c.req.confidence == 1);
	CHECK(c.req.kind == PML_RES_CRITICAL_MISS && c.req.urgency_ms == 0);
	CHECK(pml_res_cmd_parse("RELEASE module=sctp", &c, err, sizeof(err)) == 0);
	CHECK(c.verb == PML_RES_VERB_RELEASE && !strcmp(c.module, "sctp"));
	CHECK(pml_res_cmd_parse("STATUS\n", &c, err, sizeof(err)) == 0);
	CHECK(c.verb == PML_RES_VERB_STATUS);

	check_bad("", "empty line");
	check_bad("   \t", "empty line");
	check_bad("FROB module=x", "unknown verb 'FROB'");
	check_bad("request module=x", "unknown verb 'request'");
	check_bad("REQUEST", "missing module=");
	check_bad("REQUEST kind=prediction", "missing module=");
	check_bad("REQUEST module=x bytes=12k", "bytes: not a size '12k'");
	check_bad("REQUEST module=x bytes=-5", "bytes: not a size");
	check_bad("REQUEST module=x bytes=", "bytes: not a size");
	check_bad("REQUEST module=x bytes=99999999999999999999999", "bytes: not a size");
	check_bad("REQUEST module=x confidence=1.5", "confidence: not a probability");
	check_bad("REQUEST module=x confidence=nan", "confidence: not a probability");
	check_bad("REQUEST module=x urgency_ms=-1", "urgency_ms: not a duration");
	check_bad("REQUEST module=x urgency_ms=inf", "urgency_ms: not a duration");
	check_bad("REQUEST module=x load_ms=abc", "load_ms: not a duration");
	check_bad("REQUEST module=x kind=urgent", "kind: 'urgent' is not");
	check_bad("REQUEST module=x module=y", "module given twice");
	check_bad("REQUEST module=x color=red", "unknown key 'color'");
	check_bad("REQUEST module=../../etc", "module: not a module name");
	check_bad("REQUEST module=x =3", "expected key=value");
	check_bad("REQUEST module=x junk", "expected key=value, got 'junk'");
	check_bad("RELEASE module=x bytes=3", "unknown key 'bytes'");
	check_bad("RELEASE", "missing module=");
	check_bad("STATUS now", "STATUS takes no arguments");
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	snprintf(line, sizeof(line), "REQUEST module=%s", buf);
	check_bad(line, "line too long");
	snprintf(line, sizeof(line), "REQUEST module=%.100s", buf);
	check_bad(line, "module: not a module name");
	/* Non-printing bytes are quoted as '?'. */
	check_bad("\x01\x02", "unknown verb '?" "?'");

	/* Format and parse back. */
	r = (struct pml_res_request){"sctp", 434176, 100.5, PML_RES_DEPENDENCY, 250, 0.25};
	CHECK(pml_res_request_format(&r, buf, sizeof(buf)) > 0);
	CHECK(pml_res_cmd_parse(buf, &c, err, sizeof(err)) == 0);
	CHECK(c.req.bytes == 434176 && c.req.load_ms == 100.5 && c.req.urgency_ms == 250);
	CHECK(c.req.kind == PML_RES_DEPENDENCY && c.req.confidence == 0.25);
	r.bytes = -1;
	r.load_ms = -1;
	CHECK(pml_res_request_format(&r, buf, sizeof(buf)) > 0 && !strstr(buf, "bytes="));
	CHECK(pml_res_request_format(&r, buf, 10) == -ENOSPC);
	r.confidence = 2;
	CHECK(pml_res_request_format(&r, buf, sizeof(buf)) == -EINVAL);
}

static void test_replies(void)
{
	struct pml_res_decision d = {.verdict = PML_RES_GRANT_AFTER_EVICT, .priority = 0.4,
				     .n_evict = 2};
	struct pml_res_reply rep;
	char buf[600];

	strcpy(d.evict[0], "a");
	strcpy(d.evict[1], "b_c");
	strcpy(d.reason, "prediction of 1.0 KiB");
	CHECK(pml_res_decision_format(&d, buf, sizeof(buf)) > 0);
	CHECK(starts(buf, "OK evict a,b_c priority=0.400 -- prediction"));
	CHECK(pml_res_reply_parse(buf, &rep) == 0 && rep.ok);
	CHECK_STR(rep.word, "evict");
	CHECK_STR(rep.evict, "a,b_c");
	CHECK(fabs(rep.priority - 0.4) < 1e-9);
	CHECK(!strncmp(rep.text, "prediction of 1.0 KiB", 21));

	d = (struct pml_res_decision){.verdict = PML_RES_REFUSE, .refusal = PML_RES_CPU_BUDGET,
				      .priority = 0.1, .retry_ms = 250};
	CHECK(pml_res_decision_format(&d, buf, sizeof(buf)) > 0);
	CHECK(starts(buf, "ERR refused reason=cpu-budget priority=0.100 retry_ms=250 -- "));
	CHECK(pml_res_reply_parse(buf, &rep) == 0 && !rep.ok);
	CHECK_STR(rep.word, "refused");
	CHECK_STR(rep.reason, "cpu-budget");

	d = (struct pml_res_decision){.verdict = PML_RES_GRANT, .priority = 4, .over_soft = true};
	CHECK(pml_res_decision_format(&d, buf, sizeof(buf)) > 0);
	CHECK(starts(buf, "OK grant priority=4.000 over_budget -- "));
	CHECK(pml_res_decision_format(&d, buf, 8) == -ENOSPC);

	CHECK(pml_res_reply_parse("ERR bad request: unknown verb 'X'", &rep) == 0);
	CHECK(!rep.ok && !strcmp(rep.word, "bad"));
	CHECK(pml_res_reply_parse("ERR permission denied", &rep) == 0);
	CHECK_STR(rep.word, "permission");
	CHECK(pml_res_reply_parse("{\"memory\":{}}", &rep) == -EINVAL);
	CHECK(pml_res_reply_parse("OKAY", &rep) == -EINVAL);
}

/* ---- the server, served by a thread as pmld's loop would ---- */

static struct pml_resource_server *srv;
static int stop_fd;
static int n_hook_requests, n_hook_releases;
static char last_hook_module[64];

static void *serve(void *arg)
{
	struct pollfd p[2] = {{.fd = pml_resource_server_fd(srv), .events = POLLIN},
			      {.fd = stop_fd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		pml_resource_server_handle(srv);
	}
	return NULL;
}

static void on_request(void *data, const struct pml_res_request *req,
		       const struct pml_res_decision *d)
{
	n_hook_requests++;
	snprintf(last_hook_module, sizeof(last_hook_module), "%s", req->module);
}

static void on_release(void *data, const char *module)
{
	n_hook_releases++;
}

/* Connect a raw socket and send bytes; the caller reads. */
static int raw_connect(const char *path)
{
	int fd = pml_resource_client_connect(path);

	CHECK(fd >= 0);
	return fd;
}

/* Read one line (up to '\n') with a timeout; returns its length or -1 on EOF/timeout. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			return -1;
		n = read(fd, buf + got, 1);
		if (n <= 0)
			return got ? (int)got : -1;
		if (buf[got] == '\n') {
			buf[got] = '\0';
			return (int)got;
		}
		got++;
	}
	buf[got] = '\0';
	return (int)got;
}

/* A child that becomes nobody, connects and reports what it read through its status:
 * 0 = "ERR permission denied" then EOF, 2 = something else, 3 = could not connect. */
static int refused_as_nobody(const char *path)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		char buf[128];
		int fd, n;

		alarm(10);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(4);
		fd = pml_resource_client_connect(path);
		if (fd < 0)
			_exit(3);
		/* The server answers the connection itself; a request is not read. */
		if (write(fd, "STATUS\n", 7) < 0) {
			/* closed already: still read what was said */
		}
		n = read_line(fd, buf, sizeof(buf));
		if (n < 0 || strcmp(buf, "ERR permission denied"))
			_exit(2);
		_exit(read_line(fd, buf, sizeof(buf)) < 0 ? 0 : 2);
	}
	if (pid < 0)
		return -1;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_server(void)
{
	struct pml_resource_config rcfg = {.budget_mem = 1 << 20, .now_ns = test_now};
	struct pml_resource_server_config scfg = {
		.on_request = on_request,
		.on_release = on_release,
	};
	struct pml_resource *res = NULL;
	char dir[] = "/tmp/pml-res-XXXXXX", path[128], buf[8192], big[1200];
	struct pml_res_reply rep;
	pthread_t th;
	int fd, fd2, fds[PML_RES_CLIENTS_MAX + 2];

	CHECK(mkdtemp(dir) != NULL);
	chmod(dir, 0755); /* nobody must reach the socket to be refused by the check */
	snprintf(path, sizeof(path), "%s/resource.sock", dir);
	scfg.path = path;
	CHECK(pml_resource_new(&rcfg, &res) == 0);
	CHECK(pml_resource_set_base(res, "ext4", 100000) == 0);
	CHECK(pml_resource_server_new(res, &scfg, &srv) == 0);
	if (!srv)
		return;
	stop_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(pthread_create(&th, NULL, serve, NULL) == 0);

	fd = raw_connect(path);
	CHECK(pml_resource_client_call(fd, "REQUEST module=sctp bytes=434176 load_ms=100 "
				       "kind=prediction urgency_ms=50 confidence=0.8",
				       buf, sizeof(buf), 0) > 0);
	CHECK(starts(buf, "OK grant priority=0.800"));
	CHECK(pml_res_reply_parse(buf, &rep) == 0 && rep.ok && !strcmp(rep.word, "grant"));
	/* Over the budget: refused with the reason; the connection stays. */
	CHECK(pml_resource_client_call(fd, "REQUEST module=btrfs bytes=1700000 confidence=0.9",
				       buf, sizeof(buf), 0) > 0);
	CHECK(starts(buf, "ERR refused reason=over-budget"));
	/* A miss evicts the idle prediction once it is loaded. */
	CHECK(pml_resource_client_call(fd, "REQUEST module=btrfs bytes=900000 kind=critical",
				       buf, sizeof(buf), 0) > 0);
	CHECK(starts(buf, "OK grant priority=4.000 over_budget")); /* sctp pending */
	CHECK(pml_resource_client_call(fd, "RELEASE module=btrfs", buf, sizeof(buf), 0) > 0);
	CHECK_STR(buf, "OK released");
	CHECK(pml_resource_client_call(fd, "RELEASE module=btrfs", buf, sizeof(buf), 0) > 0);
	CHECK_STR(buf, "ERR unknown module 'btrfs'");
	/* Malformed lines: errors, and the connection goes on. */
	CHECK(pml_resource_client_call(fd, "FROB", buf, sizeof(buf), 0) > 0);
	CHECK_STR(buf, "ERR bad request: unknown verb 'FROB' (REQUEST, RELEASE, STATUS)");
	CHECK(pml_resource_client_call(fd, "REQUEST module=x bytes=lots", buf, sizeof(buf), 0) >
	      0);
	CHECK_STR(buf, "ERR bad request: bytes: not a size 'lots'");
	CHECK(pml_resource_client_call(fd, "REQUEST module=x confidence=7", buf, sizeof(buf),
				       0) > 0);
	CHECK(starts(buf, "ERR bad request: confidence"));
	CHECK(write(fd, "STATUS\0junk\n", 12) == 12);
	CHECK(read_line(fd, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "ERR bad request: NUL byte in line");
	/* Two requests in one write: two answers, in order. */
	CHECK(write(fd, "STATUS\nRELEASE module=nope\n", 27) == 27);
	CHECK(read_line(fd, buf, sizeof(buf)) > 0 && buf[0] == '{');
	CHECK(read_line(fd, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "ERR unknown module 'nope'");
	CHECK(pml_resource_client_call(fd, "STATUS", buf, sizeof(buf), 0) > 0);
	CHECK(buf[0] == '{' && strstr(buf, "\"name\":\"sctp\",\"state\":\"pending\""));
	CHECK(strstr(buf, "\"requests\":3") != NULL);
	/* A line too long: error, then the server hangs up (framing lost). */
	fd2 = raw_connect(path);
	memset(big, 'A', sizeof(big));
	CHECK(write(fd2, big, sizeof(big)) == (ssize_t)sizeof(big));
	CHECK(read_line(fd2, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "ERR bad request: line too long (max 512 bytes)");
	CHECK(read_line(fd2, buf, sizeof(buf)) < 0);
	close(fd2);
	/* A client that hangs up mid-line does no harm. */
	fd2 = raw_connect(path);
	CHECK(write(fd2, "REQUEST mod", 11) == 11);
	close(fd2);
	CHECK(pml_resource_client_call(fd, "STATUS", buf, sizeof(buf), 0) > 0 && buf[0] == '{');
	/* An answer longer than the caller's buffer. */
	CHECK(pml_resource_client_call(fd, "STATUS", buf, 16, 0) == -EMSGSIZE);
	close(fd);

	/* A peer without permission: nobody. */
	/* A forked child under valgrind inherits the server thread's buffers and is judged
	 * for them at exit; the credential hook tests cover the logic there. */
	if (!getenv("VALGRIND"))
		CHECK(refused_as_nobody(path) == 0);

	/* Too many clients: the one past the limit reads "ERR busy". */
	for (int i = 0; i < PML_RES_CLIENTS_MAX + 1; i++) {
		fds[i] = raw_connect(path);
		CHECK(pml_resource_client_call(fds[i], "STATUS", buf, sizeof(buf), 0) > 0);
		if (i < PML_RES_CLIENTS_MAX)
			CHECK(buf[0] == '{');
		else
			CHECK_STR(buf, "ERR busy: too many clients");
	}
	for (int i = 0; i < PML_RES_CLIENTS_MAX + 1; i++)
		close(fds[i]);
	/* The server notices the hang-ups; a new client gets in. */
	fd = raw_connect(path);
	CHECK(pml_resource_client_call(fd, "STATUS", buf, sizeof(buf), 0) > 0 && buf[0] == '{');
	close(fd);

	/* The hooks saw every decided request and the release. */
	CHECK(n_hook_requests == 3 && n_hook_releases == 1);
	CHECK_STR(last_hook_module, "btrfs");

	CHECK(eventfd_write(stop_fd, 1) == 0);
	pthread_join(th, NULL);
	close(stop_fd);
	pml_resource_server_free(srv);
	srv = NULL;
	/* The socket file is gone with the server; connecting now fails. */
	CHECK(pml_resource_client_connect(path) == -ENOENT);
	rmdir(dir);
	pml_resource_free(res);
}

/* The credential check through the test hook: a fake peer per connection. */
static struct pml_res_peer fake_peer;

static int fake_cred(void *data, int fd, struct pml_res_peer *ret)
{
	if (fake_peer.pid < 0)
		return -ENOTSUP;
	*ret = fake_peer;
	return 0;
}

static void test_credentials(void)
{
	struct pml_resource_server_config scfg = {.peer_cred = fake_cred};
	struct pml_resource *res = NULL;
	char dir[] = "/tmp/pml-res-XXXXXX", path[128], buf[256];
	int sv[2];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s", dir);
	scfg.path = path;
	CHECK(pml_resource_new(NULL, &res) == 0);
	CHECK(pml_resource_server_new(res, &scfg, &srv) == 0);
	if (!srv)
		return;

	/* Rules. */
	fake_peer = (struct pml_res_peer){.pid = 1, .uid = 0, .gid = 0};
	CHECK(pml_resource_server_permits(srv, &fake_peer));
	fake_peer = (struct pml_res_peer){.pid = 1, .uid = 1000, .gid = 1000};
	CHECK(!pml_resource_server_permits(srv, &fake_peer));
	pml_resource_server_free(srv);
	scfg.use_gid = true;
	scfg.gid = 4242;
	CHECK(pml_resource_server_new(res, &scfg, &srv) == 0);
	CHECK(!pml_resource_server_permits(srv, &fake_peer));
	fake_peer.gid = 4242; /* primary group */
	CHECK(pml_resource_server_permits(srv, &fake_peer));
	fake_peer.gid = 1000;
	fake_peer.groups[0] = 27;
	fake_peer.groups[1] = 4242; /* supplementary */
	fake_peer.n_groups = 2;
	CHECK(pml_resource_server_permits(srv, &fake_peer));
	{
		struct stat st;

		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0660 && st.st_gid == 4242);
	}

	/* Over a socketpair: refused, then allowed. */
	fake_peer = (struct pml_res_peer){.pid = 7, .uid = 1000, .gid = 1000};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(pml_resource_server_adopt(srv, sv[1]) == -EPERM);
	CHECK(read_line(sv[0], buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "ERR permission denied");
	CHECK(read_line(sv[0], buf, sizeof(buf)) < 0); /* closed */
	close(sv[0]);
	CHECK(pml_resource_server_clients(srv) == 0);
	/* Credentials that cannot be read: refused too. */
	fake_peer.pid = -1;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(pml_resource_server_adopt(srv, sv[1]) == -EPERM);
	close(sv[0]);

	fake_peer = (struct pml_res_peer){.pid = 7, .uid = 1000, .gid = 4242};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(pml_resource_server_adopt(srv, sv[1]) == 0);
	CHECK(pml_resource_server_clients(srv) == 1);
	CHECK(write(sv[0], "REQUEST module=tun bytes=1000 confidence=0.5\n", 45) == 45);
	CHECK(pml_resource_server_handle(srv) == 1);
	CHECK(read_line(sv[0], buf, sizeof(buf)) > 0);
	CHECK(starts(buf, "OK grant priority=0.500"));
	close(sv[0]);
	CHECK(pml_resource_server_handle(srv) == 0);
	CHECK(pml_resource_server_clients(srv) == 0);

	/* Bad configurations. */
	{
		struct pml_resource_server *s2 = NULL;
		struct pml_resource_server_config bad = {0};
		char longpath[200];

		CHECK(pml_resource_server_new(res, &bad, &s2) == -EINVAL);
		memset(longpath, 'x', sizeof(longpath) - 1);
		longpath[sizeof(longpath) - 1] = '\0';
		bad.path = longpath;
		CHECK(pml_resource_server_new(res, &bad, &s2) == -EINVAL);
		bad.path = "/nonexistent-dir/s";
		CHECK(pml_resource_server_new(res, &bad, &s2) == -ENOENT);
	}
	pml_resource_server_free(srv);
	srv = NULL;
	rmdir(dir);
	pml_resource_free(res);
}

/* Random lines, biased towards the protocol's alphabet: the parser answers 0 or -EINVAL
 * with a terminated message, never more; the reply parser takes anything. Then the same
 * garbage through a server, which answers every line and survives. */
static void test_random_lines(void)
{
	static const char *const pieces[] = {"REQUEST", "RELEASE", "STATUS", " ", "\t", "=",
					     "module", "bytes", "load_ms", "kind", "urgency_ms",
					     "confidence", "critical", "prediction", "sctp", "0",
					     "1e308", "-", "0.5", "nan", "\r", "x", "\x80", "--"};
	struct pml_resource_server_config scfg = {.path = NULL, .peer_cred = NULL};
	struct pml_resource *res = NULL;
	struct pml_res_reply rep;
	struct pml_res_cmd c;
	char line[700], err[64], dir[] = "/tmp/pml-res-XXXXXX", path[128], buf[8192];
	uint64_t x = 42;
	int ok = 0, sv[2];

	for (int i = 0; i < 20000; i++) {
		size_t len = 0;
		int n = 1 + (int)(x % 12);

		for (int k = 0; k < n && len < 600; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (x % 7 == 0) {
				line[len++] = (char)(1 + x % 255);
			} else {
				const char *p = pieces[(x >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];

				len += (size_t)snprintf(line + len, sizeof(line) - len, "%s", p);
			}
		}
		line[len] = '\0';
		memset(err, 'Z', sizeof(err));
		int r = pml_res_cmd_parse(line, &c, err, sizeof(err));

		if (r == 0)
			ok++;
		else
			CHECK(r == -EINVAL && memchr(err, '\0', sizeof(err)) != NULL);
		pml_res_reply_parse(line, &rep);
	}
	CHECK(ok > 0);

	/* Through a server. */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s", dir);
	scfg.path = path;
	CHECK(pml_resource_new(NULL, &res) == 0);
	CHECK(pml_resource_server_new(res, &scfg, &srv) == 0);
	if (!srv)
		return;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(pml_resource_server_adopt(srv, sv[1]) == 0);
	for (int i = 0; i < 2000; i++) {
		size_t len = 0;

		for (int k = 0; k < 6; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s",
						pieces[x % (sizeof(pieces) / sizeof(pieces[0]))]);
		}
		/* No '\n' inside; blank lines get no answer, so make each line non-blank. */
		for (size_t k = 0; k < len; k++)
			if (line[k] == '\n')
				line[k] = ' ';
		line[len++] = '#';
		line[len++] = '\n';
		CHECK(write(sv[0], line, len) == (ssize_t)len);
		pml_resource_server_handle(srv);
		if (read_line(sv[0], buf, sizeof(buf)) < 0) {
			CHECK(!"no answer");
			break;
		}
		CHECK(starts(buf, "OK ") || starts(buf, "ERR ") || buf[0] == '{');
	}
	CHECK(pml_resource_server_clients(srv) == 1);
	close(sv[0]);
	pml_resource_server_handle(srv);
	pml_resource_server_free(srv);
	srv = NULL;
	rmdir(dir);
	pml_resource_free(res);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parse();
	test_replies();
	test_server();
	test_credentials();
	test_random_lines();
	return unit_done("resource-api");
}
