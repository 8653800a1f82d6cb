/* splq native: one command in a qube, seen from the host: the request to
 * the qube's pid 1 (control.h) and the relay of its bytes.
 *
 * No descriptor of the caller's enters the qube.  For each request splq
 * makes three pipes (or asks pid 1 for a pseudo-terminal of the qube's
 * own) and relays: the caller's stdin into the qube, the qube's stdout and
 * stderr out to the caller's.  Each direction moves at the pace of its
 * reader (one buffer, filled only once emptied: back-pressure) and closes
 * when its end closes.  When the command ends, what it wrote before is
 * relayed and the session ends; whatever it left running in the
 * background holds only pipes whose other end is gone.
 *
 * Bytes out of the qube are bounded by max_output (the command is killed
 * past it) and filtered as qvm-run filters them when they go to a
 * terminal (splq_filter_escapes).  With a pseudo-terminal the caller's
 * terminal is raw while the session lasts and restored on every way out
 * (the session handles its signals itself), its size goes in with the
 * request and follows SIGWINCH.  Without one, SIGINT, SIGTERM and SIGHUP
 * to splq go to the command's whole process group in the qube. */
#ifndef SPLQ_NATIVE_SESSION_H
#define SPLQ_NATIVE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <termios.h>

#include "../backend.h"

#define SPLQ_RELAY_BUF 65536

struct splq_relay_dir {
	int src, dst;
	bool open;	   /* src still gives bytes */
	bool filter;	   /* splq_filter_escapes on the way */
	bool splice;	   /* bytes may move by splice(2), not through buf */
	bool dst_ready;	   /* splice: dst took bytes when last asked */
	long long total;   /* bytes taken from src */
	long long cap;	   /* at most this many (0: no bound) */
	size_t len, off;   /* buf[off..len) waits for dst */
	char buf[SPLQ_RELAY_BUF];
};

struct splq_session {
	const char *qube;
	int sock;    /* the request's connection to pid 1 */
	int pipes[3];	/* splq's ends: stdin's write end, stdout's and
			 * stderr's read ends (-1 with a pty) */
	int master;  /* the pty master pid 1 sent (-1 without) */
	bool tty, no_wait, started;
	pid_t pid;   /* the command's pid in the qube */
	long answer_s;	     /* pid 1's time to answer */
	long long answer_by; /* ms (splq_now_ms): STARTED or FAILED by then */
	int hangup;  /* the connection whose closing hangs up (splq_exec), or -1 */
	bool raw;    /* the caller's terminal is raw: saved restores it */
	struct termios saved;
	struct splq_relay_dir dir[3]; /* in, out, err */
};

/* How splq_session_run ends a disposable's session: its supervisor gets
 * SIGUSR1 (stop) on SIGTERM to splq and SIGUSR2 (kill) at deadline. */
struct splq_session_end {
	pid_t supervisor;   /* 0: a lasting qube's command, nothing to stop */
	long long deadline; /* ms, < 0: none */
};

/* Send x as a request on sock (the session takes sock).  answer_s: how
 * long pid 1 may take to answer (the qube's qrexec_timeout). */
int splq_session_send(struct splq_session *s, int sock, const char *qube,
                      const struct splq_exec *x, long answer_s, struct splq_error *err);
/* Relay until the command has ended; *status is its exit code.  *signo:
 * the stop signal that ended a disposable's session (then -1 returned),
 * SPLQ_E_TIMEOUT at end->deadline.  The session is closed. */
int splq_session_run(struct splq_session *s, const struct splq_session_end *end, int *status,
                     int *signo, struct splq_error *err);
void splq_session_close(struct splq_session *s);


#endif
