/* splq native: the control socket of a running qube.
 *
 * Pid 1 of a qube (splq-init) listens on $SPLQ_RUN/qubes/<name>/control,
 * a SOCK_SEQPACKET socket bound on the host before the qube's root was
 * entered, owned by host root with mode 0600: only host root reaches it,
 * and nothing inside the qube sees it.  A disposable's pid 1 also gets one
 * connection ready-made at its birth (splq-init --once FD), on which the
 * disposable's splq sends its command without connecting.
 *
 * One request per connection.  The caller sends a request (below); pid 1
 * forks the command, which is born inside every namespace, cgroup and
 * seccomp filter of the qube (nothing is joined from outside), and
 * answers STARTED, then EXITED; or FAILED.  While it runs, the caller may
 * send SIGNAL messages; closing the connection hangs the command up.
 *
 * No descriptor of the caller's enters the qube.  The command's stdio is
 * one of:
 *   - three pipes made by splq for this request, passed as SCM_RIGHTS with
 *     the request (stdin, stdout, stderr); splq relays the bytes between
 *     them and its own stdio (session.h);
 *   - SPLQ_CTL_TTY: a pseudo-terminal that pid 1 allocates in the qube's
 *     own devpts, the controlling terminal of the command's session, sized
 *     rows x cols; its master comes back to the caller as SCM_RIGHTS with
 *     STARTED (the only descriptor that ever leaves a qube: the caller
 *     checks that it is a pty master before using it);
 *   - SPLQ_CTL_NO_WAIT: the qube's /dev/null as stdin, and as stdout and
 *     stderr a pipe of pid 1's whose bytes go to the qube's log (the
 *     caller does not stay to relay); pid 1 answers STARTED, and writes
 *     into the log that it starts the command and how the command ends;
 *   - SPLQ_CTL_SERVICE: a qrexec service (qrexec/wire.h).  Two pipes, made
 *     by the host for one call, are passed as they are: the service's
 *     stdin and stdout (the caller's ends are in another qube, or with
 *     splq); its stderr goes to the qube's log.  argv is the one string
 *     SERVICE+ARG (or SERVICE), which pid 1 looks up in the qube's root
 *     (services.h); the environment strings are the QREXEC_* variables.
 *
 * A command's environment is a fresh one (HOME, USER, LOGNAME, SHELL,
 * PATH) plus the request's env strings (TERM, LANG and what the caller
 * set with -e); with SPLQ_CTL_WORKDIR it starts in that directory.
 *
 * The qube's log (qubelog.h): pid 1 is born with the write end of the log
 * pipe as its stdout and stderr, its alone (no command inherits it).  It
 * moves into it, without ever blocking, what its --no-wait commands write
 * and its own lines ("splq-init: ..."), in the order they came; the
 * qube's supervisor, on the host, reads the other end.
 * The command leads a session and a process group of its own: SIGNAL
 * reaches the whole group.
 *
 * Pid 1 acts on signals only from outside its pid namespace (the host's
 * supervisor): SIGTERM, SIGINT or SIGPWR from the host stop the qube;
 * the same signals from a process of the qube are ignored, so nothing
 * inside can make pid 1 stop serving. */
#ifndef SPLQ_NATIVE_CONTROL_H
#define SPLQ_NATIVE_CONTROL_H

#include <stdint.h>

#define SPLQ_CTL_MAGIC 0x73706c32u /* "spl2" */
#define SPLQ_CTL_MAX   65536       /* one request: header + strings */

/* request flags */
#define SPLQ_CTL_NO_WAIT 1u /* no stdio, no EXITED: STARTED ends the request */
#define SPLQ_CTL_TTY     2u /* a pseudo-terminal instead of pipes */
#define SPLQ_CTL_LOGIN   4u /* argc is 0: run the user's login shell */
#define SPLQ_CTL_WORKDIR 16u /* one more string after env: the directory the
                              * command starts in (else the user's home) */
#define SPLQ_CTL_SERVICE 8u /* argv[0] is a qrexec service; stdin and stdout only */

/* A request: this header, then 1 + argc + envc NUL-terminated strings:
 * "user\0argv0\0argv1\0...\0TERM=xterm\0". */
struct splq_ctl_request {
	uint32_t magic;
	uint32_t flags;
	uint32_t argc; /* 1..64; 0 with SPLQ_CTL_LOGIN */
	uint32_t envc; /* 0..16 */
	uint16_t rows, cols; /* SPLQ_CTL_TTY: the terminal's size (0: unknown) */
	uint32_t reserved;
};

enum splq_ctl_type {
	SPLQ_CTL_STARTED = 1, /* value: the command's pid in the qube */
	SPLQ_CTL_EXITED,      /* value: exit code, 128+N for signal N */
	SPLQ_CTL_FAILED,      /* value: 126 or 127 (for a service: no such
	                       * service), SPLQ_E_NOTFOUND (no such user) or
	                       * 1; msg says why */
	SPLQ_CTL_SIGNAL,      /* caller to pid 1: value is a signal for the
	                       * command's process group */
};

struct splq_ctl_reply {
	int32_t type;
	int32_t value;
	char msg[256];
};

#endif
