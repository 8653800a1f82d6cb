/* splq-init: pid 1's side of the qube's log (see initlog.h). */
#include "initlog.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void initlog_open(struct initlog *in, int fd)
{
	struct stat st;
	int collect[2];

	in->log = in->collect_r = in->collect_w = -1;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || pipe2(collect, O_CLOEXEC) < 0)
		return;
	in->log = fd;
	in->collect_r = collect[0];
	in->collect_w = collect[1];
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(in->collect_r, F_SETFL, O_NONBLOCK);
}

/* Write what waits in logbuf to the log pipe, as far as it takes it. */
static void log_flush(struct initlog *in)
{
	while (in->logoff < in->loglen) {
		ssize_t w = write(in->log, in->logbuf + in->logoff, in->loglen - in->logoff);
		if (w <= 0)
			break; /* full: poll says when it takes more */
		in->logoff += (size_t)w;
	}
	if (in->logoff == in->loglen)
		in->logoff = in->loglen = 0;
}

/* Room at the end of logbuf (what waits moved to its start). */
static size_t log_room(struct initlog *in)
{
	if (in->logoff > 0) {
		memmove(in->logbuf, in->logbuf + in->logoff, in->loglen - in->logoff);
		in->loglen -= in->logoff;
		in->logoff = 0;
	}
	return sizeof(in->logbuf) - in->loglen;
}

/* May bytes of the collect pipe be taken now?  Not those that came
 * after the lines waiting in notes. */
static bool log_may_collect(const struct initlog *in)
{
	return in->nlen == 0 || in->ahead > 0;
}

/* Move what the collect pipe holds, and pid 1's lines in their turn,
 * toward the log, as far as it goes without waiting. */
void initlog_pump(struct initlog *in)
{
	if (in->log < 0)
		return;
	for (;;) {
		log_flush(in);
		size_t room = log_room(in);
		if (in->nlen > 0 && in->ahead == 0) {
			if (room < in->nlen)
				return; /* the log pipe's reader makes room */
			memcpy(in->logbuf + in->loglen, in->notes, in->nlen);
			in->loglen += in->nlen;
			in->nlen = 0;
			continue;
		}
		size_t want = in->nlen > 0 && in->ahead < room ? in->ahead : room;
		if (want == 0)
			return;
		ssize_t n = read(in->collect_r, in->logbuf + in->loglen, want);
		if (n <= 0) {
			in->ahead = 0; /* nothing more before the lines */
			if (in->nlen == 0)
				return;
			continue;
		}
		in->loglen += (size_t)n;
		in->ahead -= in->nlen > 0 ? (size_t)n : 0;
	}
}

/* One line into the qube's log, "splq-init: ...", after what the
 * commands wrote before; dropped when there is no room for it. */
void initlog_note(struct initlog *in, const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	if (in->log < 0)
		return;
	int n = snprintf(buf, sizeof(buf), "splq-init: ");
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = m < 0 ? n : n + m > (int)sizeof(buf) - 2 ? (int)sizeof(buf) - 2 : n + m;
	buf[n++] = '\n';
	if (in->nlen == 0) {
		/* what the commands wrote so far goes before it */
		int queued = 0;
		ioctl(in->collect_r, FIONREAD, &queued);
		in->ahead = queued > 0 ? (size_t)queued : 0;
	}
	if (in->nlen + (size_t)n <= sizeof(in->notes)) {
		memcpy(in->notes + in->nlen, buf, (size_t)n);
		in->nlen += (size_t)n;
	}
	initlog_pump(in);
}

void initlog_poll(const struct initlog *in, struct pollfd p[2])
{
	bool room = in->loglen - in->logoff < sizeof(in->logbuf);

	p[0] =
	    (struct pollfd){.fd = in->log >= 0 && log_may_collect(in) && room ? in->collect_r : -1,
	                    .events = POLLIN};
	p[1] =
	    (struct pollfd){.fd = in->log >= 0 && (in->loglen > 0 || in->nlen > 0) ? in->log : -1,
	                    .events = POLLOUT};
}

void initlog_finish(struct initlog *in)
{
	if (in->log < 0)
		return;
	fcntl(in->log, F_SETFL, fcntl(in->log, F_GETFL) & ~O_NONBLOCK);
	for (int i = 0; i < 4 && (in->loglen || in->nlen || i == 0); i++)
		initlog_pump(in);
}
