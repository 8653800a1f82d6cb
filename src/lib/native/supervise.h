/* splq native: a qube's supervisor, outside the qube.  It waits for the
 * qube's pid 1, then removes its cgroup and runtime folder.  A TemplateVM's
 * supervisor then makes the root generation the template worked on current
 * (volume.h).  Signals: SIGUSR1 asks for a graceful stop (SIGTERM to pid 1,
 * SIGKILL after the seconds that came with it through sigqueue(3), or
 * after timeout), SIGUSR2 kills pid 1 at once; SIGINT,
 * SIGTERM and SIGHUP are ignored, so the clean-up always happens.
 *
 * Meanwhile it writes the qube's log (qubelog.h): the bytes that come out
 * of the read end of the qube's log pipe, until pid 1 has ended and every
 * process of the qube with it (then what the pipe still holds).
 *
 * It also serves the qube's qrexec socket (qrexec/wire.h): each
 * connection goes to a host splq of its own, `splq qrexec-in NAME` with
 * the connection as its stdin, at most SPLQ_SUPERVISE_CALLS at once (the
 * rest wait in the socket's backlog).  After a call it starts the next
 * one's ahead, `splq qrexec-in --warm NAME`, which opens the store and
 * waits on a socketpair for the connection, sent with SCM_RIGHTS; it is
 * let go after 30 s without a call.  The qube's name in that command
 * line is what tells the host who calls.  When pid 1 has ended, nothing
 * more is accepted; calls still under way end on their own.
 *
 * A running qube's supervisor is splq-init --supervise (small and static);
 * a disposable's is the process splq forked, which its splq waits for. */
#ifndef SPLQ_NATIVE_SUPERVISE_H
#define SPLQ_NATIVE_SUPERVISE_H

#include <sys/types.h>

struct splq_supervise {
	const char *cgroup;        /* the qube's cgroup leaf */
	const char *rundir;        /* its runtime folder */
	pid_t pid;                 /* its pid 1 */
	unsigned timeout;          /* seconds from SIGUSR1 to SIGKILL */
	const char *link, *target; /* a TemplateVM's commit, or NULL */
	const char *name;          /* the qube, for its log */
	int log_dir;               /* the logs folder (qubelog.h), -1: no log */
	int log_fd;                /* the read end of the log pipe, -1: none */
	int oom_fd;                /* -1, or: when pid 1 has ended, the qube's OOM-kill
	                            * count (oom.h) goes here as a decimal line, before
	                            * its cgroup goes (a disposable's splq reads it) */
	int qrexec_fd;             /* the qrexec socket, listening; -1: none */
	int splq_fd;               /* the host splq that serves a call (execveat) */
	int netns_fd;              /* a network qube's uplink namespace (the host's), -1:
	                            * none; at the end its table, its clients' links
	                            * go, and forwarding is back to forwarding_was */
	const char *forwarding_was;
	pid_t uplink_pid; /* a network qube's pasta (a child), 0: none; it ends
	                   * with pid 1 */
};

#define SPLQ_SUPERVISE_CALLS 32

/* Returns pid 1's exit code. */
int splq_supervise(const struct splq_supervise *s);

#endif
