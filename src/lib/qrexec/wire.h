/* splq qrexec: the wire format of a qube's qrexec socket.
 *
 * Every running native qube has a qrexec socket of its own: a
 * SOCK_SEQPACKET socket that the host binds at
 * $SPLQ_RUN/qubes/<name>/qrexec before the qube's root is entered, and
 * that appears inside that qube alone, at /run/splq/qrexec (mode 0666:
 * every user of the qube may call, as in Qubes).  The qube's supervisor
 * accepts on it and hands each connection to a host `splq` of its own;
 * the host knows the caller by the socket the call came in on, never by
 * anything the caller sends.
 *
 * One call per connection:
 *
 *   caller -> host   REQUEST: struct splq_qx_request, then the target and
 *                    the service, each NUL-terminated:
 *                    "work\0qubes.Filecopy+\0".  Nothing else the caller
 *                    sends is read; no descriptor is taken from it.
 *   host -> caller   one of
 *                    REFUSED  value 126: the policy denied the call, or an
 *                             ask was not answered yes; msg is empty (why is
 *                             in the host's audit log: a qube never sees the
 *                             policy);
 *                    FAILED   value 125: the call could not be made (a
 *                             malformed request, ...); msg says why;
 *                    ACCEPTED with three descriptors (SCM_RIGHTS): [0] the
 *                             write end of a pipe that is the service's
 *                             stdin, [1] and [2] the read ends of its
 *                             stdout and stderr.  All are pipes made by
 *                             the host for this call: only bytes cross
 *                             them.  Then, once the service has ended:
 *                    EXITED   value: the service's exit code (127: no such
 *                             service in the target, 125: it could not be
 *                             run, 126: the target could not be started, as
 *                             in Qubes; 128+N: signal N).
 *
 * Closing the connection before EXITED hangs the service up, as closing
 * the pipes gives it EOF and EPIPE.  A connection that closes without
 * EXITED is a lost call (Qubes' client then exits 255).
 *
 * Names: a target is a qube name, dom0, @adminvm, @default, @dispvm or
 * @dispvm:NAME (at most SPLQ_QX_TARGET_MAX bytes; empty means
 * @default); a service SERVICE+ARG or SERVICE, at most
 * SPLQ_QX_SERVICE_MAX bytes.  As Qubes' daemon does, the host turns every
 * character of the service outside [A-Za-z0-9_.+-] into '_', and of the
 * target outside [A-Za-z0-9_.@:-]; SERVICE is what comes before the first
 * '+', and may not be empty.  The decoder below checks only the framing. */
#ifndef SPLQ_QREXEC_WIRE_H
#define SPLQ_QREXEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SPLQ_QX_MAGIC       0x73717831u /* "sqx1" */
#define SPLQ_QX_TARGET_MAX  63
#define SPLQ_QX_SERVICE_MAX 255
/* one request: the header and both names with their NULs */
#define SPLQ_QX_REQUEST_MAX (16 + SPLQ_QX_TARGET_MAX + 1 + SPLQ_QX_SERVICE_MAX + 1)

/* Where a qube finds its qrexec socket and splq's own helpers. */
#define SPLQ_QX_SOCKET "/run/splq/qrexec"
/* splq's in-qube helpers (qrexec-client-vm, qfile-agent, ...), seen by
 * every qube read-only */
#define SPLQ_QX_HELPERS "/run/splq/lib/bin"

struct splq_qx_request {
	uint32_t magic;
	uint32_t flags; /* none yet: 0 */
	uint32_t reserved[2];
};

enum splq_qx_type {
	SPLQ_QX_ACCEPTED = 1,
	SPLQ_QX_REFUSED,
	SPLQ_QX_FAILED,
	SPLQ_QX_EXITED,
};

struct splq_qx_reply {
	int32_t type;
	int32_t value;
	char msg[248];
};

/* Encode a request for target and service into buf (SPLQ_QX_REQUEST_MAX
 * bytes); its length, or -1 when the service is empty or a name is too
 * long. */
int splq_qx_request_encode(char *buf, const char *target, const char *service);

/* Decode a request of len bytes (buf is not changed); *target and
 * *service point into buf.  0, or -1 when it is not one request. */
int splq_qx_request_decode(const char *buf, size_t len, const char **target,
                           const char **service);

/* As Qubes' daemon does: every character of target outside
 * [A-Za-z0-9_.@:-] and of service outside [A-Za-z0-9_.+-] becomes '_';
 * every '$' of target became '@' in the caller already.  In place. */
void splq_qx_sanitize(char *target, char *service);

#endif
