/* splq-qube: TCP between qubes, Qubes' qubes.ConnectTCP and
 * qvm-connect-tcp.
 *
 *   qubes.ConnectTCP PORT   (the service, in /run/splq/lib/rpc)
 *       connects to 127.0.0.1:PORT in the qube it runs in and joins the
 *       connection to the call: stdin to the socket, the socket to
 *       stdout.  When stdin ends, the socket's sending side is shut down
 *       (the server sees EOF and may still answer); when the server's
 *       side ends, the service exits (Qubes' exit-on-service-eof), even if
 *       stdin goes on.  PORT is the call's argument (qubes.ConnectTCP+80):
 *       decimal 1..65535 with no sign and no leading zero, as Qubes
 *       checks it.
 *
 *   splq-tcp-connect LINK ARG   (internal: run by a qube's pid 1 only)
 *       Qubes' TCP services: a service file that is a symlink whose
 *       target LINK starts with /dev/tcp names an address instead of a
 *       program.  Pid 1 execs /run/splq/lib/bin/splq-qube with argv[0]
 *       "splq-tcp-connect", the link's target as argv[1] and the call's
 *       argument (empty for none) as argv[2]; this connects to the
 *       address and relays as qubes.ConnectTCP does.  The forms
 *       (splq_tcp_address):
 *         /dev/tcp/HOST        HOST, the port from ARG (/dev/tcp/127.0.0.1
 *                              is Qubes' own qubes.ConnectTCP)
 *         /dev/tcp/HOST/PORT   that address; ARG must be empty
 *         /dev/tcp             HOST+PORT from ARG: the last '+' ends HOST,
 *                              every other '+' stands for ':' (IPv6, as a
 *                              call's argument has no ':'); no '_'
 *       HOST is numeric, IPv4 or IPv6: names are never resolved.
 *
 *   qvm-connect-tcp [LOCALPORT]:[DOMAIN]:[PORT]
 *       listens on 127.0.0.1:LOCALPORT in this qube and makes each
 *       connection a call `qrexec-client-vm DOMAIN qubes.ConnectTCP+PORT`
 *       whose stdin and stdout are the connection.  PORT is required; an
 *       empty LOCALPORT is PORT, an empty DOMAIN @default (the policy's
 *       target=).  It binds and listens first (a port in use is an error
 *       here and now), prints what it forwards, then goes on in the
 *       background (a new session, stdio on /dev/null, one child per
 *       connection, reaped): the command returns 0 at once, as Qubes'
 *       does.  It lives until it is killed or its qube stops.
 *       Unlike Qubes' (socat listens on every address), it listens on the
 *       loopback address only: a qube with a netvm does not offer the
 *       other qube's port to its network.  A LOCALPORT below 1024 cannot
 *       be had (Qubes uses sudo there): a qube's network namespace belongs
 *       to the host's user namespace, so not even the qube's root holds
 *       CAP_NET_BIND_SERVICE in it.
 *
 * Exit status: the services 0 once the server's side ended, 125 when the
 * argument or link is not an address (no port, a bad one, a name) or the
 * connection cannot be made (refused, ...), the reason on stderr;
 * qvm-connect-tcp 0 once it listens, 1 for a bad argument (usage on
 * stderr) or when it cannot listen. */
#ifndef SPLQ_QUBE_TCP_H
#define SPLQ_QUBE_TCP_H

#include <sys/socket.h>

#include "error.h"

/* Qubes' exit code for a TCP service that cannot connect or has no
 * address. */
#define SPLQ_TCP_EXIT_FAILED 125

/* A port as Qubes writes it: decimal 1..65535, no sign, no leading zero.
 * The port, or -1. */
int splq_tcp_port(const char *s);

/* An address a TCP service connects to. */
struct splq_tcp_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[64]; /* HOST:PORT ([HOST]:PORT for IPv6), for messages */
};

/* The address of the TCP service link (a symlink's target that starts
 * with /dev/tcp) called with argument arg ("" for none), in the forms
 * above.  Pure.  0, or -1 and err (SPLQ_E_VALUE) saying what is wrong. */
int splq_tcp_address(const char *link, const char *arg, struct splq_tcp_addr *a,
                     struct splq_error *err);

/* The programs: their exit status. */
int splq_qubes_connect_tcp(int argc, char **argv);
int splq_tcp_connect(int argc, char **argv);
int splq_qvm_connect_tcp(int argc, char **argv);

#endif
