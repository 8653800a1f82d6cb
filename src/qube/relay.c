/* splq-qube: one direction of a call's bytes (relay.h). */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define RELAY_BUF  65536
#define SPLICE_MAX (1 << 20)

enum { KIND_PIPE, KIND_FILE, KIND_SOCK, KIND_OTHER };

static unsigned char kind_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return KIND_OTHER;
	if (S_ISFIFO(st.st_mode))
		return KIND_PIPE;
	/* a file, or a device that never makes a writer wait (/dev/null) */
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || (S_ISCHR(st.st_mode) && !isatty(fd)))
		return KIND_FILE;
	if (S_ISSOCK(st.st_mode))
		return KIND_SOCK;
	return KIND_OTHER; /* a terminal, /dev/null, ... */
}

static bool nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}


void splq_relay_init(struct splq_relay *r, int src, int dst, unsigned flags, const char *prefix,
                     size_t prefix_len)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->dst = dst;
	r->flags = flags;
	r->src_kind = kind_of(src);
	r->dst_kind = kind_of(dst);
	r->src_nonblock = nonblocking(src);
	r->dst_nonblock = nonblocking(dst);
	/* splice needs a pipe at one end; the other may be a pipe or a file */
	r->splice = !(flags & SPLQ_RELAY_FILTER) &&
	            (r->src_kind == KIND_PIPE || r->dst_kind == KIND_PIPE) &&
	            (r->src_kind == KIND_PIPE || r->src_kind == KIND_FILE) &&
	            (r->dst_kind == KIND_PIPE || r->dst_kind == KIND_FILE);
	r->cap = prefix_len > RELAY_BUF ? prefix_len : RELAY_BUF;
	r->buf = malloc(r->cap);
	if (!r->buf)
		abort();
	if (prefix_len) {
		memcpy(r->buf, prefix, prefix_len);
		r->len = prefix_len;
	}
}

void splq_relay_free(struct splq_relay *r)
{
	free(r->buf);
	r->buf = NULL;
}

static void end_fd(int *fd, unsigned char kind, int how)
{
	if (*fd < 0)
		return;
	if (kind == KIND_SOCK)
		shutdown(*fd, how);
	else
		close(*fd);
	*fd = -1;
}

static void end_src(struct splq_relay *r)
{
	end_fd(&r->src, r->src_kind, SHUT_RD);
}

static void end_dst(struct splq_relay *r)
{
	if (r->flags & SPLQ_RELAY_KEEP_DST)
		r->dst = -1;
	else
		end_fd(&r->dst, r->dst_kind, SHUT_WR);
	r->off = r->len = 0;
	r->wait_dst = false;
}

void splq_relay_stop(struct splq_relay *r)
{
	end_src(r);
	end_dst(r);
	r->drop = false;
}

bool splq_relay_active(const struct splq_relay *r)
{
	return r->src >= 0 || (r->dst >= 0 && r->off < r->len);
}

void splq_relay_poll(const struct splq_relay *r, struct pollfd *p)
{
	p->fd = -1;
	p->events = 0;
	p->revents = 0;
	if (r->dst >= 0 && (r->off < r->len || r->wait_dst)) {
		p->fd = r->dst;
		p->events = POLLOUT;
	} else if (r->src >= 0) {
		p->fd = r->src;
		p->events = POLLIN;
	}
}

/* The source ended: with nothing left to write, so does the destination. */
static void src_done(struct splq_relay *r)
{
	end_src(r);
	if (r->off >= r->len)
		end_dst(r);
}

static void dst_failed(struct splq_relay *r)
{
	end_dst(r);
	if (r->flags & SPLQ_RELAY_DRAIN)
		r->drop = true;
	else
		end_src(r);
}

static void write_some(struct splq_relay *r)
{
	size_t n = r->len - r->off;
	ssize_t w;

	if (r->dst_kind == KIND_SOCK) {
		w = send(r->dst, r->buf + r->off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			r->dst_kind = KIND_OTHER;
	} else {
		/* poll promised room for PIPE_BUF bytes, and no more */
		if (!r->dst_nonblock && r->dst_kind != KIND_FILE && n > PIPE_BUF)
			n = PIPE_BUF;
		w = write(r->dst, r->buf + r->off, n);
	}
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ENOTSOCK)
			dst_failed(r);
		return;
	}
	r->off += (size_t)w;
	if (r->off >= r->len) {
		r->off = r->len = 0;
		if (r->src < 0)
			end_dst(r);
	}
}

static void read_some(struct splq_relay *r)
{
	ssize_t n;

	if (r->src_kind == KIND_SOCK) {
		n = recv(r->src, r->buf, r->cap, MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK) {
			r->src_kind = KIND_OTHER;
			return;
		}
	} else {
		n = read(r->src, r->buf, r->cap);
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF; a read error ends the stream the same way */
		src_done(r);
		return;
	}
	if (r->drop)
		return;
	if (r->flags & SPLQ_RELAY_FILTER)
		splq_filter_escapes(r->buf, (size_t)n);
	r->off = 0;
	r->len = (size_t)n;
}

/* 1 when splice did the step, 0 when the relay must read and write. */
static int splice_some(struct splq_relay *r)
{
	ssize_t n =
	    splice(r->src, NULL, r->dst, NULL, SPLICE_MAX, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

	if (n > 0)
		return 1;
	if (n == 0) {
		src_done(r);
		return 1;
	}
	switch (errno) {
	case EINTR:
		return 1;
	case EAGAIN:
		/* our ends are nonblocking and poll found src readable: dst
		 * is full (or src was empty after all: then the next poll of
		 * src waits) */
		r->wait_dst = true;
		return 1;
	case EPIPE:
	case ECONNRESET:
		dst_failed(r);
		return 1;
	default:
		/* not for these descriptors (EINVAL, ...): read and write,
		 * which also tell an error of either end apart */
		r->splice = false;
		return 0;
	}
}

void splq_relay_step(struct splq_relay *r, short revents)
{
	if (!revents)
		return;
	if (r->dst >= 0 && (r->off < r->len || r->wait_dst)) {
		if (r->wait_dst) {
			r->wait_dst = false;
			if (revents & (POLLERR | POLLHUP | POLLNVAL))
				dst_failed(r);
			return;
		}
		write_some(r);
		return;
	}
	if (r->src < 0)
		return;
	if (!r->drop && r->dst >= 0 && r->splice && splice_some(r))
		return;
	read_some(r);
}
