/* splq-init: pid 1's side of the qube's log (src/lib/native/qubelog.h).
 *
 * Pid 1 is born with the write end of the log pipe as its stdout and
 * stderr; the qube's supervisor, on the host, reads the other end.  No
 * command gets it: --no-wait commands write to the collect pipe (blocking,
 * as any pipe), and pid 1 moves its bytes and its own lines
 * ("splq-init: ..."), in the order they came, into the log pipe, whose
 * write end is its alone and never blocks it.  At most LOG_BUF bytes wait
 * in pid 1 for the log pipe; meanwhile the commands wait for their pipe.
 * A line of pid 1's waits until the bytes that were in the collect pipe
 * when it was written have gone before it, and is dropped when
 * LOG_NOTES bytes of lines wait already. */
#ifndef SPLQ_INIT_INITLOG_H
#define SPLQ_INIT_INITLOG_H

#include <poll.h>
#include <stddef.h>

#define LOG_BUF   65536
#define LOG_NOTES 4096

struct initlog {
	int log;                  /* the log pipe's write end, -1: no log */
	int collect_r, collect_w; /* the collect pipe */
	size_t logoff, loglen;    /* logbuf[logoff..loglen) waits */
	char logbuf[LOG_BUF];
	size_t nlen;  /* notes[0..nlen): pid 1's lines waiting their turn */
	size_t ahead; /* collect bytes that go before them */
	char notes[LOG_NOTES];
};

/* With fd the log pipe (pid 1's stdout), make the collect pipe; else (not
 * a pipe) the log is off and every call below does nothing. */
void initlog_open(struct initlog *l, int fd);
/* The two poll entries of the log: the collect pipe while its bytes may
 * be taken, the log pipe while bytes wait for it. */
void initlog_poll(const struct initlog *l, struct pollfd p[2]);
/* Move bytes and lines toward the log, as far as it goes without waiting. */
void initlog_pump(struct initlog *l);
/* One line, "splq-init: ..." and a newline. */
void initlog_note(struct initlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Pid 1 ends: the last bytes and lines go, waiting for the log pipe (its
 * reader is the host's supervisor, which waits for nothing of the qube). */
void initlog_finish(struct initlog *l);

#endif
