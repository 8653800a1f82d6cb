/* splq command line: qrexec calls.  `call` makes one from the host, its
 * stdin, stdout and stderr relayed as run relays them; `qrexec-in` serves
 * one that a qube made on its qrexec socket (qrexec/wire.h): its qube's
 * supervisor starts it with the connection as stdin, and the caller is
 * the qube named on its command line, never what the connection says. */
#include "cli.h"

#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/policy.h"
#include "qrexec/wire.h"
#include "util.h"

/* The target and the service a caller named, sanitized as Qubes' daemon
 * does (wire.h). */
struct call_names {
	char target[SPLQ_QX_TARGET_MAX + 1];
	char service[SPLQ_QX_SERVICE_MAX + 1];
};

static int names_set(struct call_names *n, const char *target, const char *service,
                     struct splq_error *err)
{
	if (strlen(target) > SPLQ_QX_TARGET_MAX)
		return splq_fail(err, SPLQ_E_USAGE, "target '%s' is longer than %d characters",
		                 target, SPLQ_QX_TARGET_MAX);
	if (!*service || *service == '+' || strlen(service) > SPLQ_QX_SERVICE_MAX)
		return splq_fail(err, SPLQ_E_USAGE,
		                 "service '%s' must be SERVICE[+ARG] of at most %d characters",
		                 service, SPLQ_QX_SERVICE_MAX);
	snprintf(n->target, sizeof(n->target), "%s", target);
	snprintf(n->service, sizeof(n->service), "%s", service);
	splq_qx_sanitize(n->target, n->service);
	return 0;
}

int cmd_call(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'f'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *source = "dom0";
	struct call_names n;
	struct splq_call_decision d;
	struct splq_exec x = {.filter = -1, .fds = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	char disp[SPLQ_NAME_MAX + 1] = "";
	int c, rc, status = 0;

	while ((c = cli_getopt(cli, argc, argv, "+:hf:", opts)) != -1)
		if (c == 'f')
			source = optarg;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage(cli, "call needs a TARGET and a SERVICE[+ARG]");
	if (names_set(&n, argv[optind], argv[optind + 1], &err) < 0)
		return cli_usage(cli, "%s", err.msg);
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_call_decide(&ctx, source, n.target, n.service, true, &d, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
	} else if (!d.allowed) {
		splq_fail(&err, SPLQ_E_REFUSED, "call of %s from '%s' to '%s' refused: %s%s%s",
		          n.service, source, *n.target ? n.target : "@default", d.why,
		          d.rule[0] ? " at " : "", d.rule);
		rc = cli_fail(cli, &err, NULL);
	} else if (splq_op_call(&ctx, source, n.service, &d, &x, &status, disp, &err) < 0) {
		rc = cli_fail(cli, &err, json_pack("{s:o}", "target", cli_jstr(d.target)));
	} else {
		if (cli->json)
			cli_print_result(status == 0, SPLQ_OK,
			                 json_pack("{s:o,s:o,s:i}", "target",
			                           cli_jstr(disp[0] ? disp : d.target), "rule",
			                           cli_jstr(d.rule), "exitCode", status));
		rc = status;
	}
	splq_ctx_close(&ctx);
	return rc;
}

/* One reply on the caller's connection, with fds (ACCEPTED) or none. */
static void reply(int conn, int type, int value, const char *msg, const int *fds, int nfds)
{
	struct splq_qx_reply r = {.type = type, .value = value};
	snprintf(r.msg, sizeof(r.msg), "%.*s", (int)sizeof(r.msg) - 1, msg ? msg : "");
	splq_send_fds(conn, &r, sizeof(r), fds, nfds, 0);
}

static void close_three(int fds[3])
{
	for (int i = 0; i < 3; i++)
		splq_close_fd(&fds[i]);
}

/* The end of a call, told its caller as soon as the service ended: the
 * service's ends closed (the caller sees its output end), then EXITED. */
struct exited {
	int conn;
	int *theirs;
	bool sent;
};

static void send_exited(void *arg, int status)
{
	struct exited *ex = arg;
	struct splq_qx_reply r = {.type = SPLQ_QX_EXITED, .value = status};

	if (ex->sent)
		return;
	ex->sent = true;
	close_three(ex->theirs);
	(void)!send(ex->conn, &r, sizeof(r), MSG_NOSIGNAL);
}

int cmd_qrexec_in(struct cli *cli, int argc, char **argv)
{
	char buf[SPLQ_QX_REQUEST_MAX + 1];
	const char *target, *service;
	struct call_names n;
	struct splq_call_decision d;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	char disp[SPLQ_NAME_MAX + 1] = "";
	int mine[3] = {-1, -1, -1}, theirs[3] = {-1, -1, -1}, fds[1], nfds, status = 0, rc, c;
	int conn = STDIN_FILENO;
	bool warm = false, opened = false;
	static const struct option opts[] = {
	    {"warm", no_argument, NULL, 'w'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};

	while ((c = cli_getopt(cli, argc, argv, "+:h", opts)) != -1)
		if (c == 'w')
			warm = true;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "qrexec-in needs the calling qube's NAME");
	const char *source = argv[optind];
	if (warm) {
		/* started ahead by the qube's supervisor: the store first, then
		 * the call's connection from it (stdin is a socketpair of the
		 * supervisor's, never the qube's); its end closing means none */
		char byte;
		int fd = -1;
		if ((rc = cli_open(cli, &ctx)))
			return rc;
		opened = true;
		/* what every call reads first, read once now: the store's schema
		 * and its qubes (and the code that reads them, paged in) */
		struct splq_policy_sysinfo *si = NULL;
		if (splq_op_policy_sysinfo(&ctx, &si, &err) == 0)
			splq_policy_sysinfo_free(si);
		if (splq_recv_fds(STDIN_FILENO, &byte, 1, &fd, 1, &nfds, 0) != 1 || nfds != 1) {
			splq_ctx_close(&ctx);
			return 0;
		}
		conn = fd;
		/* made ready at SCHED_IDLE (supervise.c); a call is no idle work */
		sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){0});
	}
	/* one request; no descriptor is taken from the caller */
	ssize_t len = splq_recv_fds(conn, buf, sizeof(buf), fds, 0, &nfds, 0);
	if (len < 0 || splq_qx_request_decode(buf, (size_t)len, &target, &service) < 0) {
		reply(conn, SPLQ_QX_FAILED, 125, "malformed request", NULL, 0);
		rc = 125;
		goto out;
	}
	if (names_set(&n, target, service, &err) < 0) {
		reply(conn, SPLQ_QX_FAILED, 125, err.msg, NULL, 0);
		rc = 125;
		goto out;
	}
	if (!opened && (rc = cli_open(cli, &ctx))) {
		reply(conn, SPLQ_QX_FAILED, 125, "the store could not be opened", NULL, 0);
		return rc;
	}
	opened = true;
	/* A qube never sees the policy: why a call was refused, and what kept
	 * the policy from deciding, are in the host's audit log only. */
	if (splq_op_call_decide(&ctx, source, n.target, n.service, false, &d, &err) < 0 ||
	    !d.allowed) {
		reply(conn, SPLQ_QX_REFUSED, 126, NULL, NULL, 0);
		rc = 126;
		goto out;
	}
	/* the caller's ends in mine, the service's in theirs */
	if (splq_stdio_pipes(mine, theirs) < 0) {
		reply(conn, SPLQ_QX_FAILED, 125, "the call's pipes could not be made", NULL, 0);
		rc = 125;
		goto out;
	}
	reply(conn, SPLQ_QX_ACCEPTED, 0, NULL, mine, 3);
	close_three(mine);
	struct exited ex = {.conn = conn, .theirs = theirs};
	struct splq_exec x = {
	    .direct = true, .hangup_fd = conn, .exited = send_exited, .exited_arg = &ex};
	memcpy(x.fds, theirs, sizeof(x.fds));
	if (splq_op_call(&ctx, source, n.service, &d, &x, &status, disp, &err) < 0) {
		/* the target did not start, or the call was hung up */
		status = err.code == SPLQ_E_NOCMD                                        ? 127
		         : err.code == SPLQ_E_CANNOT_EXEC || err.code == SPLQ_E_INTERNAL ? 125
		                                                                          : 126;
	}
	send_exited(&ex, status);
	rc = 0;
out:
	close_three(mine);
	close_three(theirs);
	if (opened)
		splq_ctx_close(&ctx);
	if (conn != STDIN_FILENO)
		close(conn);
	return rc;
}
