/* The resource manager's local API: a Unix stream socket speaking one line per request and
 * one line per answer (doc/resource-api.md is the reference; keep the two in step).
 *
 *   REQUEST module=sctp bytes=434176 load_ms=100 kind=prediction urgency_ms=500 confidence=0.8
 *     -> OK grant priority=0.267 -- prediction of 424.0 KiB at priority 0.267
 *     -> OK evict a,b priority=... -- ...
 *     -> ERR refused reason=over-budget priority=... -- ...
 *   RELEASE module=sctp      -> OK released | ERR unknown module 'sctp'
 *   STATUS                   -> one JSON object on one line
 *   anything malformed       -> ERR bad request: <what>
 *
 * The server is an object with one fd (an epoll set of its listener and clients) that its
 * owner's event loop polls; pml_resource_server_handle() then does all the ready work
 * without blocking on any client. Peers are checked with SO_PEERCRED when they connect:
 * root, the server's own user, or members of the configured group; anyone else reads
 * "ERR permission denied" and is disconnected. The protocol parser and formatter are pure
 * functions, and the client side (for `pml status`, `pml request`) lives here too. */
#ifndef PML_RESOURCE_RESOURCE_API_H
#define PML_RESOURCE_RESOURCE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "resource/resource.h"

#define PML_RESOURCE_SOCKET_DEFAULT "/run/pml/resource.sock"
/* The longest line either side sends, '\n' included, except STATUS's JSON answer. */
#define PML_RES_LINE_MAX 512
#define PML_RES_CLIENTS_MAX 32

/* ---- protocol (pure) ---- */

enum pml_res_verb {
	PML_RES_VERB_REQUEST,
	PML_RES_VERB_RELEASE,
	PML_RES_VERB_STATUS,
};

struct pml_res_cmd {
	enum pml_res_verb verb;
	char module[64];
	struct pml_res_request req; /* REQUEST; req.module points at module[] */
};

/* Parse one request line (without or with its '\n'/"\r\n"). REQUEST's optional fields
 * default to bytes/load_ms unknown (-1), kind=prediction, urgency_ms=0, confidence=1.
 * Returns 0, or -EINVAL with the problem in words in err ("unknown verb 'FOO'",
 * "confidence: not a number 'x'"), never longer than err_size. */
int pml_res_cmd_parse(const char *line, struct pml_res_cmd *ret, char *err, size_t err_size);
/* Format a REQUEST line (with '\n'). Returns the length, -ENOSPC, -EINVAL (bad fields). */
int pml_res_request_format(const struct pml_res_request *req, char *buf, size_t size);
/* Format the answer to a REQUEST (with '\n'). Returns the length or -ENOSPC. */
int pml_res_decision_format(const struct pml_res_decision *d, char *buf, size_t size);

/* An answer as a client reads it. */
struct pml_res_reply {
	bool ok;
	char word[32];	   /* after OK/ERR: "grant", "evict", "released", "refused", "bad" ... */
	char evict[PML_RES_LINE_MAX]; /* "a,b" for OK evict */
	char reason[32];   /* reason=... of a refusal */
	double priority;   /* -1 when absent */
	const char *text;  /* the words after " -- " (points into the parsed line), or "" */
};
/* Parse an answer line. Returns 0 or -EINVAL (not OK/ERR: e.g. STATUS's JSON). */
int pml_res_reply_parse(const char *line, struct pml_res_reply *ret);

/* ---- server ---- */

struct pml_res_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[64]; /* supplementary groups, when known */
	size_t n_groups;
};

struct pml_resource_server_config {
	const char *path;	/* socket path; the file is replaced, made 0660 (0666 with no
				 * group: the credential check is the gate) */
	bool use_gid;		/* members of gid may connect too */
	gid_t gid;
	/* Test hook: the peer's credentials instead of SO_PEERCRED/SO_PEERGROUPS. Returns 0
	 * or -errno (the peer is then refused). */
	int (*peer_cred)(void *cred_data, int fd, struct pml_res_peer *ret);
	void *cred_data;
	/* Told after a REQUEST was decided (the owner starts the load and the evictions)
	 * and after a RELEASE was accounted. May be NULL. */
	void (*on_request)(void *hook_data, const struct pml_res_request *req,
			   const struct pml_res_decision *d);
	void (*on_release)(void *hook_data, const char *module);
	void *hook_data;
};

struct pml_resource_server;

/* Listen on cfg->path for res (borrowed: must outlive the server). Returns 0, -EINVAL
 * (no path, or longer than sun_path), or -errno of socket/bind/listen/epoll. */
int pml_resource_server_new(struct pml_resource *res, const struct pml_resource_server_config *cfg,
			    struct pml_resource_server **ret);
/* Close every client and the listener, unlink the socket file. */
void pml_resource_server_free(struct pml_resource_server *srv);
/* The fd to poll for readability (EPOLLIN) in the owner's loop. */
int pml_resource_server_fd(const struct pml_resource_server *srv);
/* Accept, check and serve whatever is ready, without blocking. Returns the number of
 * requests answered, or -errno of the epoll set itself. */
int pml_resource_server_handle(struct pml_resource_server *srv);
/* Serve an already connected stream socket (a socketpair end in tests); the credential
 * check applies. The server owns fd from here. Returns 0, -EPERM (refused, fd closed),
 * -EBUSY (too many clients, fd closed), -errno. */
int pml_resource_server_adopt(struct pml_resource_server *srv, int fd);
/* Connected clients now. */
size_t pml_resource_server_clients(const struct pml_resource_server *srv);
/* Whether peer may use the API under this server's rules. */
bool pml_resource_server_permits(const struct pml_resource_server *srv,
				 const struct pml_res_peer *peer);

/* ---- client ---- */

/* Connect to the socket at path (NULL: the default). Returns an fd or -errno. */
int pml_resource_client_connect(const char *path);
/* Send line (a '\n' is added when missing) and read one answer line into buf (without the
 * '\n'). Waits up to timeout_ms for the answer (<=0: 5 s). Returns the answer's length,
 * -EPIPE/-ECONNRESET when the server hung up, -ETIMEDOUT, -EMSGSIZE when the answer does
 * not fit buf, -errno. */
int pml_resource_client_call(int fd, const char *line, char *buf, size_t size, int timeout_ms);

#endif
