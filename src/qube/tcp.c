/* splq-qube: qubes.ConnectTCP, Qubes' /dev/tcp services and
 * qvm-connect-tcp (tcp.h). */
#include "tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "qrexec/wire.h"
#include "relay.h"

#define TCP_PREFIX "/dev/tcp"

int splq_tcp_port(const char *s)
{
	int v = 0;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 5)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v <= 65535 ? v : -1;
}

/* a->sa and a->text from HOST (hostlen bytes) and PORT. */
static int set_address(struct splq_tcp_addr *a, const char *host, size_t hostlen, const char *port,
                       struct splq_error *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;
	char h[INET6_ADDRSTRLEN];
	int p = splq_tcp_port(port);

	memset(a, 0, sizeof(*a));
	if (!*port)
		return splq_fail(err, SPLQ_E_VALUE, "no port given (call SERVICE+PORT)");
	if (p < 0)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "'%.16s' is not a port (1 to 65535, decimal, no leading zero)",
		                 port);
	if (hostlen == 0)
		return splq_fail(err, SPLQ_E_VALUE, "no host given");
	if (hostlen >= sizeof(h))
		return splq_fail(err, SPLQ_E_VALUE, "'%.*s...' is not a numeric address", 16, host);
	memcpy(h, host, hostlen);
	h[hostlen] = 0;
	if (inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		a->len = sizeof(*in4);
		snprintf(a->text, sizeof(a->text), "%s:%d", h, p);
	} else if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		a->len = sizeof(*in6);
		snprintf(a->text, sizeof(a->text), "[%s]:%d", h, p);
	} else {
		/* names are never resolved: what a name means is the qube's
		 * resolver's to say, and it may say anything */
		return splq_fail(err, SPLQ_E_VALUE, "'%s' is not a numeric IPv4 or IPv6 address",
		                 h);
	}
	return 0;
}

int splq_tcp_address(const char *link, const char *arg, struct splq_tcp_addr *a,
                     struct splq_error *err)
{
	const char *rest = link + strlen(TCP_PREFIX);

	if (strncmp(link, TCP_PREFIX, strlen(TCP_PREFIX)) != 0 || (*rest && *rest != '/'))
		return splq_fail(err, SPLQ_E_VALUE, "'%.64s' is not a /dev/tcp link", link);
	if (!*rest) {
		/* /dev/tcp: HOST+PORT in the argument */
		const char *plus = strrchr(arg, '+');
		char host[INET6_ADDRSTRLEN];
		size_t n;

		if (!*arg)
			return splq_fail(err, SPLQ_E_VALUE,
			                 "no address given (call SERVICE+HOST+PORT)");
		if (!plus || strchr(arg, '_'))
			return splq_fail(err, SPLQ_E_VALUE, "'%.64s' is not HOST+PORT", arg);
		n = (size_t)(plus - arg);
		if (n >= sizeof(host))
			return splq_fail(err, SPLQ_E_VALUE, "'%.64s' is not HOST+PORT", arg);
		/* a call's argument has no ':': '+' stands for it */
		for (size_t i = 0; i < n; i++)
			host[i] = arg[i] == '+' ? ':' : arg[i];
		return set_address(a, host, n, plus + 1, err);
	}
	const char *host = rest + 1, *slash = strchr(host, '/');

	if (!slash) /* /dev/tcp/HOST: the port is the argument */
		return set_address(a, host, strlen(host), arg, err);
	/* /dev/tcp/HOST/PORT: the link says it all */
	if (*arg)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "the service takes no argument: its link names the port");
	return set_address(a, host, (size_t)(slash - host), slash + 1, err);
}

/* Relay stdin to the socket and the socket to stdout until the socket's
 * reading side (the server's sending side) ends: the exit status. */
static int relay(int sock, const char *name)
{
	struct splq_relay in, out;
	int code = 0;

	splq_relay_init(&in, STDIN_FILENO, sock, 0, NULL, 0);
	splq_relay_init(&out, sock, STDOUT_FILENO, 0, NULL, 0);
	while (splq_relay_active(&out)) {
		struct pollfd p[2];

		splq_relay_poll(&in, &p[0]);
		splq_relay_poll(&out, &p[1]);
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", name, strerror(errno));
			code = 1;
			break;
		}
		splq_relay_step(&in, p[0].revents);
		splq_relay_step(&out, p[1].revents);
	}
	splq_relay_stop(&in);
	splq_relay_stop(&out);
	splq_relay_free(&in);
	splq_relay_free(&out);
	return code;
}

/* Connect to the address of link and arg and relay: the exit status. */
static int connect_and_relay(const char *name, const char *link, const char *arg)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	struct splq_error err = {0};
	struct splq_tcp_addr a;
	int sock, code;

	if (splq_tcp_address(link, arg, &a, &err) < 0) {
		fprintf(stderr, "%s: %s\n", name, err.msg);
		return SPLQ_TCP_EXIT_FAILED;
	}
	/* a caller gone is the end of stdout, not a signal */
	sigaction(SIGPIPE, &ign, NULL);
	sock = socket(a.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		fprintf(stderr, "%s: cannot make a socket: %s\n", name, strerror(errno));
		return SPLQ_TCP_EXIT_FAILED;
	}
	if (connect(sock, (struct sockaddr *)&a.sa, a.len) < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", name, a.text, strerror(errno));
		close(sock);
		return SPLQ_TCP_EXIT_FAILED;
	}
	code = relay(sock, name);
	close(sock);
	return code;
}

int splq_qubes_connect_tcp(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr,
		        "usage: qubes.ConnectTCP PORT (the service of qubes.ConnectTCP+PORT)\n");
		return SPLQ_TCP_EXIT_FAILED;
	}
	/* Qubes' own is a link to /dev/tcp/127.0.0.1 */
	return connect_and_relay("qubes.ConnectTCP", TCP_PREFIX "/127.0.0.1",
	                         argc == 2 ? argv[1] : "");
}

int splq_tcp_connect(int argc, char **argv)
{
	const char *full = getenv("QREXEC_SERVICE_FULL_NAME");
	char name[64];

	if (argc != 3) {
		fprintf(stderr, "usage: splq-tcp-connect LINK ARG (run by a qube's pid 1)\n");
		return SPLQ_TCP_EXIT_FAILED;
	}
	/* messages name the service the caller called */
	if (!full || !*full)
		full = "splq-tcp-connect";
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(full, "+"), full);
	return connect_and_relay(name, argv[1], argv[2]);
}

/* ---- qvm-connect-tcp ---- */

#define CONNECT_PROG "qvm-connect-tcp"

static int connect_usage(FILE *f)
{
	fputs("usage: " CONNECT_PROG " [LOCALPORT]:[DOMAIN]:[PORT]\n"
	      "Listen on 127.0.0.1:LOCALPORT in this qube and take every connection to\n"
	      "port PORT of the qube DOMAIN, each through a qrexec call\n"
	      "qubes.ConnectTCP+PORT that the policy decides.  An empty LOCALPORT is\n"
	      "PORT, an empty DOMAIN @default (the policy's target=).  It goes on in the\n"
	      "background until it is killed or the qube stops.\n",
	      f);
	return f == stdout ? 0 : 1;
}

/* SIGCHLD: reap every forwarder that ended. */
static void reap_children(int sig)
{
	int e = errno;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

/* A child for one connection: qrexec-client-vm with it as stdin and
 * stdout. */
static void __attribute__((noreturn)) forward(int conn, char *domain, char *service)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	char *argv[] = {"qrexec-client-vm", "--", domain, service, NULL};

	sigaction(SIGCHLD, &dfl, NULL);
	if (dup2(conn, STDIN_FILENO) < 0 || dup2(conn, STDOUT_FILENO) < 0)
		_exit(1);
	close(conn);
	_exit(splq_qrexec_client_vm(4, argv));
}

/* The background part: accept and forward until killed. */
static void __attribute__((noreturn)) serve(int lsock, char *domain, char *service)
{
	struct sigaction chld = {.sa_handler = reap_children,
	                         .sa_flags = SA_RESTART | SA_NOCLDSTOP};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* nothing of the caller's is kept: its session, its stdio (a
	 * `splq run` waits for those), its working directory */
	setsid();
	if (chdir("/") < 0 || null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
		_exit(1);
	close(null);
	sigemptyset(&chld.sa_mask);
	sigaction(SIGCHLD, &chld, NULL);
	for (;;) {
		int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (conn < 0) {
			if (errno == EBADF || errno == EINVAL || errno == ENOTSOCK)
				_exit(1);
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of something: wait for a forwarder to end */
				struct timespec nap = {.tv_nsec = 100 * 1000 * 1000};

				nanosleep(&nap, NULL);
			}
			continue; /* EINTR, ECONNABORTED, ...: the next one */
		}
		pid = fork();
		if (pid == 0) {
			close(lsock);
			forward(conn, domain, service);
		}
		/* a failed fork closes the connection: the client sees EOF */
		close(conn);
	}
}

int splq_qvm_connect_tcp(int argc, char **argv)
{
	char *spec, *domain, *port_s, *lport_s, service[32];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int port, lport, lsock, one = 1;
	pid_t pid;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return connect_usage(stdout);
	if (argc != 2)
		return connect_usage(stderr);
	/* LOCALPORT:DOMAIN:PORT, exactly three fields */
	spec = argv[1];
	domain = strchr(spec, ':');
	port_s = domain ? strchr(domain + 1, ':') : NULL;
	if (!port_s || strchr(port_s + 1, ':'))
		return connect_usage(stderr);
	*domain++ = 0;
	*port_s++ = 0;
	if (!*port_s) {
		fprintf(stderr,
		        CONNECT_PROG ": PORT is missing: say which port of the other qube to "
		                     "reach\n");
		return connect_usage(stderr);
	}
	lport_s = *spec ? spec : port_s;
	if (!*domain)
		domain = "@default";
	port = splq_tcp_port(port_s);
	lport = splq_tcp_port(lport_s);
	if (port < 0 || lport < 0) {
		fprintf(stderr, CONNECT_PROG ": '%s' is not a port (1 to 65535)\n",
		        port < 0 ? port_s : lport_s);
		return connect_usage(stderr);
	}
	if (strlen(domain) > SPLQ_QX_TARGET_MAX) {
		fprintf(stderr,
		        CONNECT_PROG ": the qube name '%s' is too long (at most %d bytes)\n",
		        domain, SPLQ_QX_TARGET_MAX);
		return 1;
	}
	snprintf(service, sizeof(service), "qubes.ConnectTCP+%d", port);

	/* listening before the command returns: a port in use is said now,
	 * and connections made right after it are queued, not refused */
	lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0) {
		fprintf(stderr, CONNECT_PROG ": cannot make a socket: %s\n", strerror(errno));
		return 1;
	}
	sa.sin_port = htons((uint16_t)lport);
	setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lsock, SOMAXCONN) < 0) {
		int e = errno;

		fprintf(stderr, CONNECT_PROG ": cannot listen on 127.0.0.1:%d: %s%s\n", lport,
		        strerror(e),
		        e == EACCES && lport < 1024
		            ? " (a qube's network namespace is the host's: not even its root may "
		              "listen below 1024)"
		            : "");
		close(lsock);
		return 1;
	}
	printf("Forwarding 127.0.0.1:%d in this qube to port %d of '%s' (%s)\n", lport, port,
	       domain, service);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, CONNECT_PROG ": cannot go to the background: %s\n",
		        strerror(errno));
		close(lsock);
		return 1;
	}
	if (pid == 0)
		serve(lsock, domain, service);
	close(lsock);
	return 0;
}
