/* splq-qube: qrexec-client-vm (client.h). */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrexec/wire.h"
#include "relay.h"
#include "util.h"

#define PROG "qrexec-client-vm"

/* Exit codes, as Qubes' client has them. */
enum {
	EXIT_CONNECT = 1,
	EXIT_USAGE = 2,
	EXIT_FAILED = 125,
	EXIT_REFUSED = 126,
	EXIT_LOST = 255,
};

struct opts {
	const char *socket;
	const char *prefix;
	int filter_out, filter_err; /* -1: as fd 1 and fd 2 are ttys */
	bool stdin_socket;
	char *target; /* a copy of TARGET, with @ for $ (malloc'ed) */
	const char *service;
	char **local; /* LOCAL_PROGRAM [ARGS...], or NULL */
};

/* The three streams of a call. */
enum { IO_IN, IO_OUT, IO_ERR };

struct call {
	int sock;
	struct splq_relay io[3];
	bool local;  /* a local program was started */
	pid_t child; /* the local program while it runs, else 0 */
	int pidfd;
	int child_code;
	int remote; /* the service's exit code, -1 until it comes */
};

static void usage(FILE *f)
{
	fputs("usage: " PROG " [OPTIONS] TARGET SERVICE[+ARG] [LOCAL_PROGRAM [ARGS...]]\n"
	      "Call SERVICE (with ARG) in the qube TARGET through qrexec.  Without\n"
	      "LOCAL_PROGRAM, this program's stdin, stdout and stderr are the service's;\n"
	      "with it, LOCAL_PROGRAM's stdin and stdout are connected to the service.\n"
	      "Options (before TARGET):\n"
	      "  --buffer-size=N              accepted for compatibility (no effect)\n"
	      "  -t, --filter-escape-chars-stdout\n"
	      "                               replace escape characters in the service's\n"
	      "                               stdout (the default when it goes to a terminal\n"
	      "                               and there is no LOCAL_PROGRAM)\n"
	      "  -T, --filter-escape-chars-stderr\n"
	      "                               the same for its stderr (the default when it\n"
	      "                               goes to a terminal)\n"
	      "  --no-filter-escape-chars-stdout, --no-filter-escape-chars-stderr\n"
	      "                               never replace them\n"
	      "  -a, --agent-socket=PATH      the qrexec socket (default " SPLQ_QX_SOCKET ")\n"
	      "  -p, --prefix-data=DATA       send DATA to the service before stdin\n"
	      "  --use-stdin-socket           stdin is a socket, used for stdout too\n"
	      "  -h, --help                   show this help\n",
	      f);
}

static int bad_usage(void)
{
	usage(stderr);
	return EXIT_USAGE;
}

/* --buffer-size as Qubes checks it: a number (C notation: 0x.., 0..) that
 * starts with a digit, at most INT_MAX. */
static bool good_buffer_size(const char *s)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	return !errno && !*end && v <= INT_MAX;
}

/* Parse argv into o: -1 when it is fine, else the exit status. */
static int parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_BUFFER = 256, OPT_NO_T, OPT_NO_TT, OPT_STDIN_SOCKET };
	static const struct option longopts[] = {
	    {"buffer-size", required_argument, NULL, OPT_BUFFER},
	    {"filter-escape-chars-stdout", no_argument, NULL, 't'},
	    {"filter-escape-chars-stderr", no_argument, NULL, 'T'},
	    {"no-filter-escape-chars-stdout", no_argument, NULL, OPT_NO_T},
	    {"no-filter-escape-chars-stderr", no_argument, NULL, OPT_NO_TT},
	    {"agent-socket", required_argument, NULL, 'a'},
	    {"prefix-data", required_argument, NULL, 'p'},
	    {"source-qube", required_argument, NULL, 's'},
	    {"use-stdin-socket", no_argument, NULL, OPT_STDIN_SOCKET},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.socket = SPLQ_QX_SOCKET, .filter_out = -1, .filter_err = -1};
	optind = 0; /* a fresh scan, also when called twice in one process */
	while ((c = getopt_long(argc, argv, "+tTa:p:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BUFFER:
			/* Qubes sizes its vchan buffers with it; a qrexec
			 * socket has none, so it is only checked. */
			if (!good_buffer_size(optarg)) {
				fprintf(stderr, PROG ": invalid --buffer-size '%s'\n", optarg);
				return EXIT_CONNECT;
			}
			break;
		case 't':
			o->filter_out = 1;
			break;
		case 'T':
			o->filter_err = 1;
			break;
		case OPT_NO_T:
			o->filter_out = 0;
			break;
		case OPT_NO_TT:
			o->filter_err = 0;
			break;
		case 'a':
			o->socket = optarg;
			break;
		case 'p':
			if (o->prefix)
				return bad_usage();
			o->prefix = optarg;
			break;
		case 's':
			fprintf(stderr,
			        PROG ": --source-qube is not supported: splq knows the calling "
			             "qube by the socket its call comes in on\n");
			return EXIT_USAGE;
		case OPT_STDIN_SOCKET:
			o->stdin_socket = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return bad_usage();
		}
	}
	if (argc - optind < 2)
		return bad_usage();
	o->target = splq_xstrdup(argv[optind]);
	o->service = argv[optind + 1];
	o->local = argc - optind > 2 ? argv + optind + 2 : NULL;
	for (char *p = o->target; *p; p++)
		if (*p == '$')
			*p = '@';
	if (o->stdin_socket) {
		int type = 0;
		socklen_t len = sizeof(type);

		if (o->local) {
			fprintf(stderr,
			        PROG ": --use-stdin-socket cannot go with a local program\n");
			return EXIT_USAGE;
		}
		if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
			fprintf(stderr,
			        PROG ": --use-stdin-socket: stdin is not a stream socket\n");
			return EXIT_USAGE;
		}
	}
	if (o->filter_out < 0)
		o->filter_out = !o->local && isatty(1);
	if (o->filter_err < 0)
		o->filter_err = isatty(2);
	return -1;
}

/* Connect to the qrexec socket and send the request: the socket, or -1
 * with *code set. */
static int request(const struct opts *o, int *code)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[SPLQ_QX_REQUEST_MAX];
	int len = splq_qx_request_encode(buf, o->target, o->service);
	int fd;

	*code = EXIT_USAGE;
	if (len < 0) {
		if (strlen(o->target) > SPLQ_QX_TARGET_MAX)
			fprintf(stderr, PROG ": target '%s' is too long (at most %d bytes)\n",
			        o->target, SPLQ_QX_TARGET_MAX);
		else if (!*o->service)
			fprintf(stderr, PROG ": the service name is empty\n");
		else
			fprintf(stderr, PROG ": service '%s' is too long (at most %d bytes)\n",
			        o->service, SPLQ_QX_SERVICE_MAX);
		return -1;
	}
	*code = EXIT_CONNECT;
	if (strlen(o->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, PROG ": the qrexec socket path '%s' is too long\n", o->socket);
		return -1;
	}
	strcpy(sa.sun_path, o->socket);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot make a socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, PROG ": cannot connect to the qrexec socket %s: %s\n", o->socket,
		        strerror(errno));
		close(fd);
		return -1;
	}
	if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		fprintf(stderr, PROG ": cannot send the request to %s: %s\n", o->socket,
		        strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* One reply: 1 (*rep filled, NUL-terminated, its descriptors in fds), 0
 * when the host closed the connection, -1 when it broke or sent something
 * that is not a reply. */
static int recv_reply(int sock, struct splq_qx_reply *rep, int *fds, int *nfds)
{
	ssize_t n;

	memset(rep, 0, sizeof(*rep));
	do
		n = splq_recv_fds(sock, rep, sizeof(*rep), fds, 3, nfds, 0);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < (ssize_t)offsetof(struct splq_qx_reply, msg)) {
		while (*nfds > 0)
			close(fds[--*nfds]);
		return -1;
	}
	rep->msg[sizeof(rep->msg) - 1] = 0;
	splq_filter_escapes(rep->msg, strlen(rep->msg));
	return 1;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The local program's child: its stdin is in, its stdout out. */
static void __attribute__((noreturn))
exec_local(char **argv, int in, int out, const struct sigaction *old_pipe, pid_t client)
{
	const char *prog = argv[0], *base = strrchr(prog, '/');
	char num[24];
	int fd;

	sigaction(SIGPIPE, old_pipe, NULL);
	if ((fd = dup(0)) >= 0) {
		snprintf(num, sizeof(num), "%d", fd);
		setenv("SAVED_FD_0", num, 1);
	}
	if ((fd = dup(1)) >= 0) {
		snprintf(num, sizeof(num), "%d", fd);
		setenv("SAVED_FD_1", num, 1);
	}
	snprintf(num, sizeof(num), "%d", (int)client);
	setenv("QREXEC_AGENT_PID", num, 1);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0) {
		fprintf(stderr, PROG ": cannot start '%s': %s\n", prog, strerror(errno));
		_exit(255);
	}
	argv[0] = (char *)(base ? base + 1 : prog);
	execv(prog, argv);
	fprintf(stderr, PROG ": cannot run '%s': %s\n", prog, strerror(errno));
	_exit(255);
}

/* Set up the relays (and start the local program) for an accepted call
 * whose pipes are fds: 0, or -1 (after a message). */
static int start(struct call *c, const struct opts *o, int fds[3], const struct sigaction *old_pipe)
{
	unsigned out_flags = SPLQ_RELAY_DRAIN | (o->filter_out ? SPLQ_RELAY_FILTER : 0);
	unsigned err_flags =
	    SPLQ_RELAY_DRAIN | SPLQ_RELAY_KEEP_DST | (o->filter_err ? SPLQ_RELAY_FILTER : 0);
	size_t plen = o->prefix ? strlen(o->prefix) : 0;
	int in_src = 0, out_dst = o->stdin_socket ? 0 : 1;

	for (int i = 0; i < 3; i++)
		set_nonblock(fds[i]);
	if (o->local) {
		/* the local program talks through pipes of ours, so that its
		 * stdout's end and a failed write into its stdin are seen
		 * here, as Qubes' client sees them */
		int to[2], from[2];
		pid_t me = getpid();

		if (pipe2(to, O_CLOEXEC) < 0)
			goto fail;
		if (pipe2(from, O_CLOEXEC) < 0) {
			close(to[0]);
			close(to[1]);
			goto fail;
		}
		c->child = fork();
		if (c->child < 0) {
			c->child = 0;
			close(to[0]);
			close(to[1]);
			close(from[0]);
			close(from[1]);
			goto fail;
		}
		if (c->child == 0)
			exec_local(o->local, to[0], from[1], old_pipe, me);
		c->local = true;
		close(to[0]);
		close(from[1]);
		set_nonblock(to[1]);
		set_nonblock(from[0]);
		in_src = from[0];
		out_dst = to[1];
		c->pidfd = (int)syscall(SYS_pidfd_open, c->child, 0);
	}
	splq_relay_init(&c->io[IO_IN], in_src, fds[0], 0, o->prefix, plen);
	splq_relay_init(&c->io[IO_OUT], fds[1], out_dst, out_flags, NULL, 0);
	splq_relay_init(&c->io[IO_ERR], fds[2], 2, err_flags, NULL, 0);
	return 0;
fail:
	fprintf(stderr, PROG ": cannot start '%s': %s\n", o->local[0], strerror(errno));
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	return -1;
}

/* The child is reaped (or not yet, with WNOHANG). */
static void reap(struct call *c, int flags)
{
	int st;
	pid_t r;

	if (!c->child)
		return;
	do
		r = waitpid(c->child, &st, flags);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	c->child_code = r < 0 ? EXIT_LOST : splq_exit_code(st);
	c->child = 0;
	splq_close_fd(&c->pidfd);
}

/* A message from the host during the call: false when the call is lost. */
static bool on_reply(struct call *c)
{
	struct splq_qx_reply rep;
	int fds[3], nfds = 0;
	int r = recv_reply(c->sock, &rep, fds, &nfds);

	while (r > 0 && nfds > 0)
		close(fds[--nfds]);
	if (r == 0) {
		fprintf(stderr, PROG ": the call was lost: the host closed the connection "
		                     "before the service ended\n");
		return false;
	}
	if (r < 0 || rep.type != SPLQ_QX_EXITED) {
		fprintf(stderr, PROG ": the call was lost: the host sent %s\n",
		        r < 0 ? "a message that is not a reply" : "an unexpected reply");
		return false;
	}
	c->remote = rep.value < 0 || rep.value > 255 ? 255 : rep.value;
	/* the service is gone: its stdin is closed, local input no longer read */
	splq_relay_stop(&c->io[IO_IN]);
	splq_close_fd(&c->sock);
	return true;
}

/* Relay until the call is done: the exit status. */
static int run(struct call *c)
{
	bool lost = false;

	for (;;) {
		bool output =
		    splq_relay_active(&c->io[IO_OUT]) || splq_relay_active(&c->io[IO_ERR]);
		struct pollfd p[5];
		int timeout = -1, n;

		if (!output && (lost || (c->remote >= 0 && !c->child)))
			break;
		p[0] = (struct pollfd){.fd = c->sock, .events = POLLIN};
		p[1] = (struct pollfd){.fd = lost ? -1 : c->pidfd, .events = POLLIN};
		for (int i = 0; i < 3; i++)
			splq_relay_poll(&c->io[i], &p[2 + i]);
		if (lost)
			timeout = 0;
		else if (c->child && c->pidfd < 0)
			timeout = 50; /* no pidfd (an old kernel): look now and then */
		n = poll(p, 5, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			lost = true;
			break;
		}
		if (n == 0 && lost)
			break;
		if (p[0].revents && !on_reply(c)) {
			/* what the service wrote before is still relayed, as
			 * far as it is there now; nothing more is waited for */
			lost = true;
			splq_relay_stop(&c->io[IO_IN]);
			splq_close_fd(&c->sock);
		}
		for (int i = 0; i < 3; i++)
			splq_relay_step(&c->io[i], p[2 + i].revents);
		if (!lost && c->child && (c->pidfd < 0 || p[1].revents))
			reap(c, WNOHANG);
	}
	for (int i = 0; i < 3; i++)
		splq_relay_stop(&c->io[i]);
	/* the local program is never killed: wait for it */
	reap(c, 0);
	if (lost)
		return EXIT_LOST;
	/* with a local program, a failed service wins (so that qvm-move
	 * cannot remove what did not arrive), else the program's code */
	return c->remote || !c->local ? c->remote : c->child_code;
}

int splq_qrexec_client_vm(int argc, char **argv)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL}, old_pipe;
	struct call c = {.sock = -1, .pidfd = -1, .remote = -1};
	struct splq_qx_reply rep;
	struct opts o;
	int fds[3], nfds = 0, code, r;

	/* descriptors 0, 1 and 2 open, so that nothing else lands there */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return EXIT_CONNECT;
	code = parse(argc, argv, &o);
	cleanup_free char *target = o.target;
	if (code >= 0)
		return code;
	/* a failed write is an error to handle, not a signal; the local
	 * program gets the caller's disposition back */
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGCHLD, &dfl, NULL);

	c.sock = request(&o, &code);
	if (c.sock < 0)
		return code;
	r = recv_reply(c.sock, &rep, fds, &nfds);
	if (r == 0 || (r > 0 && rep.type == SPLQ_QX_REFUSED)) {
		fputs("Request refused\n", stderr);
		if (r == 0)
			fputs("the host closed the connection without an answer\n", stderr);
		else if (rep.msg[0])
			fprintf(stderr, "%s\n", rep.msg);
		code = EXIT_REFUSED;
	} else if (r > 0 && rep.type == SPLQ_QX_FAILED) {
		fprintf(stderr, PROG ": %s\n", rep.msg[0] ? rep.msg : "the call could not be made");
		code = EXIT_FAILED;
	} else if (r < 0 || rep.type != SPLQ_QX_ACCEPTED || nfds != 3) {
		fprintf(stderr, PROG ": the host's answer on %s is not a qrexec reply\n", o.socket);
		code = EXIT_CONNECT;
	} else {
		code = -1;
	}
	if (code >= 0) {
		while (nfds > 0)
			close(fds[--nfds]);
		close(c.sock);
		return code;
	}
	if (start(&c, &o, fds, &old_pipe) < 0) {
		/* closing the connection hangs the service up */
		close(c.sock);
		return EXIT_CONNECT;
	}
	code = run(&c);
	for (int i = 0; i < 3; i++)
		splq_relay_free(&c.io[i]);
	splq_close_fd(&c.sock);
	return code;
}
