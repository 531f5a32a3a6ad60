/* A small QMP client: QEMU's machine protocol (JSON over a Unix socket), for what the
 * snapshot code asks of QEMU: stop, migrate to a file and wait for it, take a migration
 * back in, continue, quit. Only what pml sends and the two members it reads of a reply
 * ("return" or "error", and a migration's "status") are understood; events that arrive
 * between replies are skipped. QEMU is pml's own child: its replies are parsed with
 * bounds, not trusted blindly, but it is not the hostile party (the guest is). */
#ifndef PML_VM_QMP_H
#define PML_VM_QMP_H

#include <stddef.h>

struct pml_qmp;

/* Connect to QEMU's QMP socket at path, retrying until timeout_ms passes (QEMU makes the
 * socket as it starts), read the greeting and leave capabilities negotiation. Returns 0
 * and *ret, -ETIMEDOUT, -EPROTO for a reply that is not QMP, or -errno. */
int pml_qmp_connect(const char *path, int timeout_ms, struct pml_qmp **ret);
void pml_qmp_close(struct pml_qmp *q);

/* Send one command (a JSON object's text, e.g. {"execute":"stop"}) and wait up to
 * timeout_ms for its reply. Returns 0 on "return", -EREMOTEIO on "error" (its description
 * into err when err is not NULL), -ETIMEDOUT, -EPIPE when QEMU closed the socket, or
 * -errno. reply (may be NULL) gets the reply's text, cut to size. */
int pml_qmp_execute(struct pml_qmp *q, const char *cmd, int timeout_ms, char *reply,
		    size_t size, char *err, size_t err_size);

/* Poll query-migrate until its status is "completed" (0), "failed" or "cancelled"
 * (-EIO, the reply's error-desc in err), or timeout_ms passes (-ETIMEDOUT). */
int pml_qmp_wait_migration(struct pml_qmp *q, int timeout_ms, char *err, size_t err_size);

/* Wait until the VM's status (query-status) is want ("paused", "running", ...) or
 * timeout_ms passes. 0, -ETIMEDOUT, or -errno. */
int pml_qmp_wait_status(struct pml_qmp *q, const char *want, int timeout_ms);

#endif
