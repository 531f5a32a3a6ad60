/* The resource API server and client (resource-api.h). The server keeps its listener and
 * clients in an epoll set of its own, whose fd the owner's loop polls: pmld's loop stays the
 * only loop, and a slow or hostile client can never block it. A client reads its answer
 * before it sends more (the protocol is strictly request/answer), so answers are written
 * with a short bounded wait, and a client that does not read them is dropped rather than
 * buffered for. Lines are bounded (PML_RES_LINE_MAX): a longer one is an error that ends
 * the connection, since the line framing is lost. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "resource/resource-api.h"
#include "util/log.h"

#define SEND_WAIT_MS 200

struct client {
	int fd;
	size_t len;
	char buf[PML_RES_LINE_MAX];
	struct pml_res_peer peer;
};

struct pml_resource_server {
	struct pml_resource *res;
	struct pml_resource_server_config cfg;
	char *path;
	int lfd, efd;
	struct client *clients[PML_RES_CLIENTS_MAX];
	size_t n_clients;
};

static int real_peer_cred(int fd, struct pml_res_peer *ret)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct pml_res_peer p = {0};

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	p.pid = uc.pid;
	p.uid = uc.uid;
	p.gid = uc.gid;
#ifdef SO_PEERGROUPS
	len = sizeof(p.groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p.groups, &len) == 0)
		p.n_groups = len / sizeof(gid_t);
#endif
	*ret = p;
	return 0;
}

bool pml_resource_server_permits(const struct pml_resource_server *srv,
				 const struct pml_res_peer *peer)
{
	if (peer->uid == 0 || peer->uid == geteuid())
		return true;
	if (!srv->cfg.use_gid)
		return false;
	if (peer->gid == srv->cfg.gid)
		return true;
	for (size_t i = 0; i < peer->n_groups && i < 64; i++)
		if (peer->groups[i] == srv->cfg.gid)
			return true;
	return false;
}

/* Write all of buf, waiting at most SEND_WAIT_MS for room. Returns 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len)
{
	int waited = 0;

	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			buf += n, len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waited < SEND_WAIT_MS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			poll(&pfd, 1, 20);
			waited += 20;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static void client_close(struct pml_resource_server *srv, size_t i)
{
	struct client *c = srv->clients[i];

	epoll_ctl(srv->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	srv->clients[i] = srv->clients[--srv->n_clients];
	srv->clients[srv->n_clients] = NULL;
}

static size_t client_index(const struct pml_resource_server *srv, const struct client *c)
{
	for (size_t i = 0; i < srv->n_clients; i++)
		if (srv->clients[i] == c)
			return i;
	return SIZE_MAX;
}

/* Answer one line. Returns 0 to keep the client, <0 to drop it. */
static int serve_line(struct pml_resource_server *srv, struct client *c, const char *line,
		      size_t len)
{
	char out[PML_RES_LINE_MAX * 2 + 64 * PML_RES_EVICT_MAX], err[160];
	struct pml_res_cmd cmd;
	int n, r;

	if (memchr(line, '\0', len)) {
		n = snprintf(out, sizeof(out), "ERR bad request: NUL byte in line\n");
		return send_all(c->fd, out, (size_t)n);
	}
	if (pml_res_cmd_parse(line, &cmd, err, sizeof(err)) < 0) {
		n = snprintf(out, sizeof(out), "ERR bad request: %s\n", err);
		return send_all(c->fd, out, (size_t)n);
	}
	switch (cmd.verb) {
	case PML_RES_VERB_REQUEST: {
		struct pml_res_decision d;

		r = pml_resource_request(srv->res, &cmd.req, &d);
		if (r == -ENOMEM) {
			n = snprintf(out, sizeof(out), "ERR internal: out of memory\n");
			return send_all(c->fd, out, (size_t)n);
		}
		pml_dbg("resource: pid %d uid %u: %s %s: %s", (int)c->peer.pid,
			(unsigned)c->peer.uid, pml_res_kind_name(cmd.req.kind), cmd.module,
			d.reason);
		if (srv->cfg.on_request)
			srv->cfg.on_request(srv->cfg.hook_data, &cmd.req, &d);
		n = pml_res_decision_format(&d, out, sizeof(out));
		if (n < 0)
			n = snprintf(out, sizeof(out), "ERR internal: answer too long\n");
		return send_all(c->fd, out, (size_t)n);
	}
	case PML_RES_VERB_RELEASE:
		r = pml_resource_release(srv->res, cmd.module);
		if (r == 0 && srv->cfg.on_release)
			srv->cfg.on_release(srv->cfg.hook_data, cmd.module);
		n = r == 0 ? snprintf(out, sizeof(out), "OK released\n") :
			     snprintf(out, sizeof(out), "ERR unknown module '%s'\n", cmd.module);
		return send_all(c->fd, out, (size_t)n);
	case PML_RES_VERB_STATUS: {
		char *json = NULL;
		size_t jlen = 0;
		FILE *f = open_memstream(&json, &jlen);

		if (!f)
			return send_all(c->fd, "ERR internal: out of memory\n", 28);
		r = pml_resource_status_json(srv->res, f);
		if (fclose(f) != 0 || r < 0) {
			free(json);
			return send_all(c->fd, "ERR internal: status\n", 21);
		}
		r = send_all(c->fd, json, jlen);
		free(json);
		return r;
	}
	}
	return 0;
}

/* Read what the client sent and answer each complete line. Returns the number of lines
 * answered, or -1 when the client is gone (closed here). */
static int client_readable(struct pml_resource_server *srv, struct client *c)
{
	int answered = 0;

	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return answered;
		if (n <= 0)
			goto drop;
		c->len += (size_t)n;
		while ((nl = memchr(c->buf, '\n', c->len))) {
			size_t line_len = (size_t)(nl - c->buf);

			*nl = '\0';
			/* Tolerate stray blank lines (a human with socat). */
			if (line_len && !(line_len == 1 && c->buf[0] == '\r')) {
				if (serve_line(srv, c, c->buf, line_len) < 0)
					goto drop;
				answered++;
			}
			c->len -= line_len + 1;
			memmove(c->buf, nl + 1, c->len);
		}
		if (c->len == sizeof(c->buf)) {
			char msg[80];
			int m = snprintf(msg, sizeof(msg),
					 "ERR bad request: line too long (max %d bytes)\n",
					 PML_RES_LINE_MAX);

			send_all(c->fd, msg, (size_t)m);
			goto drop;
		}
	}
drop:
	client_close(srv, client_index(srv, c));
	return -1;
}

/* The table is full: serve (and so drop) the clients that have hung up but whose events
 * this round has not reached yet, before refusing a newcomer. */
static void reap_clients(struct pml_resource_server *srv)
{
	for (size_t i = srv->n_clients; i-- > 0;) {
		struct pollfd p = {.fd = srv->clients[i]->fd, .events = POLLIN | POLLRDHUP};

		if (poll(&p, 1, 0) == 1 && i < srv->n_clients)
			client_readable(srv, srv->clients[i]);
	}
}

int pml_resource_server_adopt(struct pml_resource_server *srv, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct pml_res_peer peer;
	struct client *c;
	int err;

	err = srv->cfg.peer_cred ? srv->cfg.peer_cred(srv->cfg.cred_data, fd, &peer) :
				   real_peer_cred(fd, &peer);
	if (err < 0 || !pml_resource_server_permits(srv, &peer)) {
		if (err < 0)
			pml_warn("resource: peer credentials unavailable: %s", strerror(-err));
		else
			pml_info("resource: refused pid %d uid %u gid %u", (int)peer.pid,
				 (unsigned)peer.uid, (unsigned)peer.gid);
		send_all(fd, "ERR permission denied\n", 22);
		close(fd);
		return -EPERM;
	}
	if (srv->n_clients == PML_RES_CLIENTS_MAX)
		reap_clients(srv);
	if (srv->n_clients == PML_RES_CLIENTS_MAX) {
		send_all(fd, "ERR busy: too many clients\n", 27);
		close(fd);
		return -EBUSY;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->peer = peer;
	ev.data.ptr = c;
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		close(fd);
		free(c);
		return err;
	}
	srv->clients[srv->n_clients++] = c;
	return 0;
}

int pml_resource_server_new(struct pml_resource *res, const struct pml_resource_server_config *cfg,
			    struct pml_resource_server **ret)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct pml_resource_server *srv;
	int err;

	if (!cfg || !cfg->path || strlen(cfg->path) >= sizeof(addr.sun_path))
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->res = res;
	srv->cfg = *cfg;
	srv->lfd = srv->efd = -1;
	srv->path = strdup(cfg->path);
	if (!srv->path) {
		err = -ENOMEM;
		goto fail;
	}
	srv->cfg.path = srv->path;
	strcpy(addr.sun_path, cfg->path);
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0) {
		err = -errno;
		goto fail;
	}
	/* A stale socket from a previous pmld is replaced; anything else there is kept. */
	{
		struct stat st;

		if (lstat(cfg->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(cfg->path);
	}
	if (bind(srv->lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		goto fail;
	}
	/* The credential check is the gate; the mode only keeps others from connecting
	 * when a group is configured (and its owner chgrp's the socket). */
	if (cfg->use_gid) {
		if (chown(cfg->path, (uid_t)-1, cfg->gid) < 0)
			pml_warn("resource: chgrp %s: %s", cfg->path, strerror(errno));
		chmod(cfg->path, 0660);
	} else {
		chmod(cfg->path, 0666);
	}
	if (listen(srv->lfd, 16) < 0) {
		err = -errno;
		goto fail_unlink;
	}
	srv->efd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->efd < 0) {
		err = -errno;
		goto fail_unlink;
	}
	ev.data.ptr = NULL; /* the listener */
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->lfd, &ev) < 0) {
		err = -errno;
		goto fail_unlink;
	}
	*ret = srv;
	return 0;
fail_unlink:
	unlink(cfg->path);
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->efd >= 0)
		close(srv->efd);
	free(srv->path);
	free(srv);
	return err;
}

void pml_resource_server_free(struct pml_resource_server *srv)
{
	if (!srv)
		return;
	while (srv->n_clients)
		client_close(srv, srv->n_clients - 1);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->efd >= 0)
		close(srv->efd);
	if (srv->path)
		unlink(srv->path);
	free(srv->path);
	free(srv);
}

int pml_resource_server_fd(const struct pml_resource_server *srv)
{
	return srv->efd;
}

size_t pml_resource_server_clients(const struct pml_resource_server *srv)
{
	return srv->n_clients;
}

int pml_resource_server_handle(struct pml_resource_server *srv)
{
	struct epoll_event evs[16];
	int answered = 0;

	for (;;) {
		int n = epoll_wait(srv->efd, evs, 16, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return answered;
		bool accept_ready = false;

		/* Clients first: hang-ups free their slots before new peers are counted. */
		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			int r;

			if (!c) {
				accept_ready = true;
				continue;
			}
			/* A client closed earlier in this batch is no longer in the table. */
			if (client_index(srv, c) == SIZE_MAX)
				continue;
			r = client_readable(srv, c);
			if (r > 0)
				answered += r;
		}
		if (accept_ready) {
			int fd;

			while ((fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
				pml_resource_server_adopt(srv, fd);
		}
	}
}

int pml_resource_client_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, err;

	if (!path)
		path = PML_RESOURCE_SOCKET_DEFAULT;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pml_resource_client_call(int fd, const char *line, char *buf, size_t size, int timeout_ms)
{
	size_t len = strlen(line), got = 0;
	int err;

	if (timeout_ms <= 0)
		timeout_ms = 5000;
	if (size == 0)
		return -EMSGSIZE;
	err = send_all(fd, line, len);
	if (!err && (len == 0 || line[len - 1] != '\n'))
		err = send_all(fd, "\n", 1);
	/* A server that refuses a peer says why and hangs up at once: the send may fail
	 * while the answer is still there to read. */
	if (err && err != -EPIPE && err != -ECONNRESET)
		return err;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		char *nl;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		/* Read no further than the answer's end: the next answer stays queued. */
		n = recv(fd, buf + got, size - 1 - got, MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got ? -ECONNRESET : err ? err : -EPIPE;
		nl = memchr(buf + got, '\n', (size_t)n);
		if (nl)
			n = nl - (buf + got) + 1;
		n = recv(fd, buf + got, (size_t)n, 0);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		got += (size_t)n;
		if (nl) {
			buf[got - 1] = '\0';
			return (int)got - 1;
		}
		if (got == size - 1)
			return -EMSGSIZE;
	}
}
