/* splq-qube: one direction of a call's bytes, moved between two
 * descriptors inside a poll loop (relay.c).
 *
 * A relay never blocks the loop that drives it: it waits for one of its
 * ends at a time (splq_relay_poll says which and for what), and each step
 * moves only what that end can take without blocking.  It uses splice(2)
 * where both ends are pipes or files and the bytes are not filtered, and
 * read and write (recv and send with MSG_DONTWAIT on sockets) otherwise.
 * Descriptors of its own (the service's pipes) should be O_NONBLOCK; the
 * caller's stdin and stdout are used as they are (their flags are shared
 * with other processes, so they are never changed): a write into one that
 * blocks is kept to PIPE_BUF bytes, which poll promised room for.
 *
 * The end of the source (EOF or a read error) ends the destination once
 * what was read has been written: a socket is shut down (SHUT_WR), any
 * other descriptor closed, unless SPLQ_RELAY_KEEP_DST.  A failed write
 * (EPIPE, ...) counts as the end of the destination: with
 * SPLQ_RELAY_DRAIN the source is still read to its end and what comes is
 * dropped, so the writer on the other side never blocks; without it the
 * relay stops, ending both sides. */
#ifndef SPLQ_QUBE_RELAY_H
#define SPLQ_QUBE_RELAY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

enum {
	SPLQ_RELAY_FILTER = 1,   /* Qubes' escape filter on the bytes (splq_filter_escapes) */
	SPLQ_RELAY_KEEP_DST = 2, /* never end dst (the client's own stderr) */
	SPLQ_RELAY_DRAIN = 4,    /* after a failed write, read src to its end, dropping it */
};

struct splq_relay {
	int src, dst;   /* -1 once ended */
	unsigned flags; /* SPLQ_RELAY_* */
	unsigned char src_kind, dst_kind;
	bool src_nonblock, dst_nonblock;
	bool splice;   /* splice(2) still to be tried */
	bool wait_dst; /* splice found dst full: wait for room */
	bool drop;     /* dst failed (SPLQ_RELAY_DRAIN): read and drop */
	char *buf;
	size_t cap, off, len; /* bytes [off, len) of buf are still to be written */
};

/* A relay from src to dst, with prefix (prefix_len bytes, may be 0)
 * written before anything read from src.  Aborts when out of memory. */
void splq_relay_init(struct splq_relay *r, int src, int dst, unsigned flags, const char *prefix,
                     size_t prefix_len);
/* Is anything left to do? */
bool splq_relay_active(const struct splq_relay *r);
/* The descriptor and events to wait for (fd -1 when none). */
void splq_relay_poll(const struct splq_relay *r, struct pollfd *p);
/* One step after poll reported revents on the descriptor from
 * splq_relay_poll. */
void splq_relay_step(struct splq_relay *r, short revents);
/* Stop now: end both sides, drop what was not written yet. */
void splq_relay_stop(struct splq_relay *r);
void splq_relay_free(struct splq_relay *r);


#endif
