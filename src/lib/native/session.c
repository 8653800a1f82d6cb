/* splq native: one command in a qube, seen from the host (session.h). */
#include "session.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util.h"
#include "control.h"
#include "runtime.h"


void splq_session_close(struct splq_session *s)
{
	if (s->raw) {
		tcsetattr(s->dir[0].src, TCSADRAIN, &s->saved);
		s->raw = false;
	}
	splq_close_fd(&s->sock);
	splq_close_fd(&s->master);
	for (int i = 0; i < 3; i++)
		splq_close_fd(&s->pipes[i]);
}

/* The terminal among the caller's stdin and stdout, or -1. */
static int caller_tty(const struct splq_exec *x)
{
	for (int i = 0; i < 2; i++)
		if (x->fds[i] >= 0 && isatty(x->fds[i]))
			return x->fds[i];
	return -1;
}

static int send_request(struct splq_session *s, const struct splq_exec *x, const int *fds, int nfds,
                        struct splq_error *err)
{
	char *passed[4 + SPLQ_EXEC_ENV_MAX];
	char *const *env = passed;
	struct splq_ctl_request req = {.magic = SPLQ_CTL_MAGIC,
	                               .flags = (x->no_wait ? SPLQ_CTL_NO_WAIT : 0) |
	                                        (x->tty ? SPLQ_CTL_TTY : 0)};
	const char *strs[1 + 64 + 16];
	int n = 0;
	strs[n++] = x->user ? x->user : "user";
	if (x->service) {
		/* a service has its own environment, not the caller's */
		req.flags |= SPLQ_CTL_SERVICE;
		strs[n++] = x->service;
		req.argc = 1;
		env = x->env;
		while (env && env[req.envc] && req.envc < 12)
			req.envc++;
	} else {
		for (; x->argv && x->argv[req.argc]; req.argc++) {
			if (req.argc >= 64)
				return splq_fail(err, SPLQ_E_USAGE,
				                 "too many arguments (at most 64)");
			strs[n++] = x->argv[req.argc];
		}
		if (req.argc == 0)
			req.flags |= SPLQ_CTL_LOGIN;
		req.envc = (uint32_t)splq_rt_passed_env(passed, 4);
		for (int i = 0; x->env && x->env[i]; i++) {
			if (i >= SPLQ_EXEC_ENV_MAX)
				return splq_fail(err, SPLQ_E_USAGE,
				                 "too many variables (at most %d)", SPLQ_EXEC_ENV_MAX);
			passed[req.envc++] = x->env[i];
		}
	}
	for (uint32_t i = 0; i < req.envc; i++)
		strs[n++] = env[i];
	if (!x->service && x->workdir) {
		req.flags |= SPLQ_CTL_WORKDIR;
		strs[n++] = x->workdir;
	}
	struct winsize ws = {0};
	int tty = caller_tty(x);
	if (x->tty && tty >= 0 && ioctl(tty, TIOCGWINSZ, &ws) == 0)
		req.rows = ws.ws_row, req.cols = ws.ws_col;
	cleanup_free char *buf = splq_xmalloc(SPLQ_CTL_MAX);
	size_t len = sizeof(req);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;
		if (len + l > SPLQ_CTL_MAX)
			return splq_fail(err, SPLQ_E_USAGE, "the command is longer than 64 KiB");
		memcpy(buf + len, strs[i], l);
		len += l;
	}
	memcpy(buf, &req, sizeof(req));
	if (splq_send_fds(s->sock, buf, len, fds, nfds, MSG_DONTWAIT) != (ssize_t)len)
		return splq_fail_errno(err, SPLQ_E_STATE, errno, "send the command to qube '%s'",
		                       s->qube);
	return 0;
}

int splq_session_send(struct splq_session *s, int sock, const char *qube, const struct splq_exec *x,
                      long answer_s, struct splq_error *err)
{
	/* Everything but the relay buffers, which are written before they
	 * are read: zeroing their 192 KiB would cost a disposable more page
	 * faults than the rest of its session. */
	memset(s, 0, offsetof(struct splq_session, dir));
	for (int i = 0; i < 3; i++)
		memset(&s->dir[i], 0, offsetof(struct splq_relay_dir, buf));
	s->qube = qube;
	s->sock = sock;
	s->master = -1;
	for (int i = 0; i < 3; i++)
		s->pipes[i] = -1;
	s->tty = x->tty;
	s->no_wait = x->no_wait;
	s->hangup = x->direct ? x->hangup_fd : -1;
	s->answer_s = answer_s;
	s->answer_by = splq_now_ms() + answer_s * 1000;
	int theirs[3] = {-1, -1, -1}, nfds = 0, r = -1;
	if (x->direct) {
		/* a qrexec call's pipes, as they are: nothing to relay */
		for (int i = 0; i < 3; i++)
			s->dir[i].src = s->dir[i].dst = -1;
		r = send_request(s, x, x->fds, 3, err);
		goto out;
	}
	if (!x->tty && !x->no_wait) {
		if (splq_stdio_pipes(s->pipes, theirs) < 0) {
			splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
			goto out;
		}
		for (int i = 0; i < 3; i++)
			fcntl(s->pipes[i], F_SETFL, O_NONBLOCK);
		nfds = 3;
	}
	for (int i = 0; i < 3; i++) {
		struct splq_relay_dir *d = &s->dir[i];
		bool out = i > 0;
		d->open = !x->no_wait && !(x->tty && i == 2);
		d->src = out ? (x->tty ? -1 : s->pipes[i]) : x->fds[0];
		d->dst = out ? x->fds[i] : s->pipes[0];
		d->cap = out ? x->max_output : 0;
		d->filter = out && (x->filter > 0 || (x->filter < 0 && !x->tty && x->fds[i] >= 0 &&
		                                      isatty(x->fds[i])));
		/* one end is a pipe of splq's: unfiltered bytes need no copy */
		d->splice = !x->tty && !d->filter;
	}
	r = send_request(s, x, theirs, nfds, err);
out:
	for (int i = 0; i < 3; i++)
		splq_close_fd(&theirs[i]);
	if (r < 0) {
		s->sock = -1; /* the caller still owns it */
		splq_session_close(s);
	}
	return r;
}

/* The pty master that came with STARTED: it must be one (a pty master of
 * a devpts: /dev/ptmx's device number), or nothing is relayed. */
static int take_master(struct splq_session *s, int fd, struct splq_error *err)
{
	struct stat st;
	int n;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2 || ioctl(fd, TIOCGPTN, &n) < 0) {
		if (fd >= 0)
			close(fd);
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "qube '%s' did not give a pseudo-terminal for the command",
		                 s->qube);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	s->master = fd;
	s->dir[0].dst = s->dir[1].src = fd;
	/* the caller's terminal goes raw: every key goes to the qube */
	int tty = s->dir[0].src;
	if (tty >= 0 && isatty(tty) && tcgetattr(tty, &s->saved) == 0) {
		struct termios raw = s->saved;
		cfmakeraw(&raw);
		if (tcsetattr(tty, TCSADRAIN, &raw) == 0)
			s->raw = true;
	}
	return 0;
}

/* One reply from pid 1.  Returns 1 for "go on", 0 when the command has
 * ended (*status), -1 on failure. */
static int on_reply(struct splq_session *s, int *status, struct splq_error *err)
{
	struct splq_ctl_reply m;
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(s->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	int fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got); /* never more than one is asked for */
		}
	}
	if (n != sizeof(m)) { /* the qube went away with the command */
		if (fd >= 0)
			close(fd);
		if (!s->started)
			return splq_fail(err, SPLQ_E_STATE,
			                 "qube '%s' stopped before the command ran", s->qube);
		*status = 128 + SIGKILL;
		return 0;
	}
	m.msg[sizeof(m.msg) - 1] = 0;
	if (m.type == SPLQ_CTL_STARTED && !s->started) {
		s->started = true;
		s->pid = m.value;
		if (s->tty)
			return take_master(s, fd, err) < 0 ? -1 : 1;
		if (fd >= 0)
			close(fd);
		if (s->no_wait) {
			*status = 0;
			return 0;
		}
		return 1;
	}
	if (fd >= 0)
		close(fd);
	if (m.type == SPLQ_CTL_EXITED && s->started) {
		*status = m.value;
		return 0;
	}
	if (m.type == SPLQ_CTL_FAILED) {
		int code = m.value == 127               ? SPLQ_E_NOCMD
		           : m.value == 126             ? SPLQ_E_CANNOT_EXEC
		           : m.value == SPLQ_E_NOTFOUND ? SPLQ_E_NOTFOUND
		                                        : SPLQ_E_INTERNAL;
		return splq_fail(err, code, "qube '%s': %s", s->qube, m.msg);
	}
	return 1; /* nothing pid 1 should send: ignored */
}

static void send_signal(struct splq_session *s, int sig)
{
	struct splq_ctl_reply m = {.type = SPLQ_CTL_SIGNAL, .value = sig};
	(void)!send(s->sock, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Take n new bytes into d's buffer: bounded, filtered.  -1 past the cap. */
static int take(struct splq_session *s, struct splq_relay_dir *d, size_t n, struct splq_error *err)
{
	if (d->cap && d->total + (long long)n > d->cap)
		return splq_fail(err, SPLQ_E_TOOBIG,
		                 "the command in qube '%s' wrote more than %lld bytes to %s "
		                 "(--max-output); it was killed",
		                 s->qube, d->cap, d == &s->dir[1] ? "stdout" : "stderr");
	d->total += (long long)n;
	if (d->filter)
		splq_filter_escapes(d->buf, n);
	d->len = n;
	d->off = 0;
	return 0;
}

/* End direction i: its source gives no more (or its reader is gone). */
static void dir_end(struct splq_session *s, int i)
{
	struct splq_relay_dir *d = &s->dir[i];
	d->open = false;
	d->len = d->off = 0;
	if (i == 0 && !s->tty)
		splq_close_fd(&s->pipes[0]); /* the qube's stdin sees EOF */
	else if (i > 0 && !s->tty)
		splq_close_fd(&s->pipes[i]); /* the qube's writer sees EPIPE */
	if (i == 0)
		d->dst = -1;
	else
		d->src = -1;
}

/* Move bytes of direction i by splice(2), both ends ready: 1 moved (or
 * nothing to do), 0 when splice cannot serve these ends (then buf does). */
static int splice_dir(struct splq_session *s, int i)
{
	struct splq_relay_dir *d = &s->dir[i];
	size_t want = 1 << 20;
	if (d->cap && d->cap - d->total < (long long)want)
		want = (size_t)(d->cap - d->total);
	if (want == 0)
		return 0; /* at the cap: one more byte through buf says so */
	ssize_t n = splice(d->src, NULL, d->dst, NULL, want, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n > 0)
		d->total += n;
	else if (n < 0 && errno == EAGAIN)
		d->dst_ready = false; /* ask dst again first */
	else if (n == 0)
		dir_end(s, i);
	else if (errno == EPIPE)
		dir_end(s, i); /* its reader is gone */
	else if (errno != EAGAIN && errno != EINTR)
		return (d->splice = false), 0;
	return 1;
}

/* Move bytes of direction i as far as its ends allow without waiting;
 * readable/writable: what poll said.  -1 past the cap. */
static int pump(struct splq_session *s, int i, bool readable, bool writable, struct splq_error *err)
{
	struct splq_relay_dir *d = &s->dir[i];
	if (d->splice && d->len == 0 && d->open) {
		if (writable)
			d->dst_ready = true;
		if (!readable || !d->dst_ready)
			return 0;
		if (splice_dir(s, i))
			return 0;
	}
	if (d->len == 0 && readable && d->open) {
		ssize_t n = read(d->src, d->buf, sizeof(d->buf));
		if (n > 0) {
			if (take(s, d, (size_t)n, err) < 0)
				return -1;
			writable = true; /* try at once */
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* EOF; EIO: a pty whose other side is closed */
			if (i == 0 && s->tty)
				d->open = false; /* the qube's terminal stays */
			else
				dir_end(s, i);
		}
	}
	if (d->len > 0 && writable && d->dst >= 0) {
		ssize_t w = write(d->dst, d->buf + d->off, d->len - d->off);
		if (w > 0) {
			d->off += (size_t)w;
			if (d->off == d->len)
				d->len = d->off = 0;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			dir_end(s, i); /* its reader is gone */
		}
	}
	return 0;
}

/* The command has ended: relay what it wrote before (no more than the
 * pipes held then, so a background writer cannot keep splq here). */
static int drain(struct splq_session *s, struct splq_error *err)
{
	for (int i = 1; i < 3; i++) {
		struct splq_relay_dir *d = &s->dir[i];
		int avail = 0;
		if (d->src >= 0 && ioctl(d->src, FIONREAD, &avail) < 0)
			avail = 0;
		long long budget = avail;
		for (;;) {
			while (d->len > 0 && d->dst >= 0) {
				ssize_t w = write(d->dst, d->buf + d->off, d->len - d->off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					if (errno == EAGAIN) {
						struct pollfd p = {.fd = d->dst, .events = POLLOUT};
						poll(&p, 1, -1);
						continue;
					}
					d->len = 0;
					break;
				}
				d->off += (size_t)w;
				if (d->off == d->len)
					d->len = d->off = 0;
			}
			if (budget <= 0 || d->src < 0 || d->dst < 0)
				break;
			size_t want =
			    budget < (long long)sizeof(d->buf) ? (size_t)budget : sizeof(d->buf);
			ssize_t n = read(d->src, d->buf, want);
			if (n <= 0)
				break;
			budget -= n;
			if (take(s, d, (size_t)n, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Has the connection of s->hangup closed?  What else comes on it is
 * read and dropped. */
static bool hung_up_caller(struct splq_session *s)
{
	char buf[256];
	ssize_t n = recv(s->hangup, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return false;
	s->hangup = -1;
	return true;
}

int splq_session_run(struct splq_session *s, const struct splq_session_end *end, int *status,
                     int *signo, struct splq_error *err)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigdelset(&set, SIGPIPE); /* writes to a closed reader get EPIPE */
	cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	*signo = 0;
	int r = 1;
	bool timed_out = false, stopped = false, hung_up = false;
	while (r == 1) {
		struct pollfd p[3 + 6];
		int np = 3, at[3][2];
		p[0] = (struct pollfd){.fd = s->sock, .events = POLLIN};
		p[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
		p[2] = (struct pollfd){.fd = s->hangup, .events = POLLIN};
		for (int i = 0; i < 3; i++) {
			struct splq_relay_dir *d = &s->dir[i];
			at[i][0] = at[i][1] = -1;
			if (!s->started)
				continue;
			/* splice: first a dst that takes bytes, then a src that
			 * has some (asking both at once would spin on a full dst) */
			bool sp = d->splice && d->len == 0 && d->open && d->src >= 0 && d->dst >= 0;
			if (d->len == 0 && d->open && d->src >= 0 && (!sp || d->dst_ready)) {
				at[i][0] = np;
				p[np++] = (struct pollfd){.fd = d->src, .events = POLLIN};
			}
			if ((d->len > 0 || (sp && !d->dst_ready)) && d->dst >= 0) {
				at[i][1] = np;
				p[np++] = (struct pollfd){.fd = d->dst, .events = POLLOUT};
			}
		}
		long long now = splq_now_ms(), until = -1;
		if (!s->started)
			until = s->answer_by;
		if (end && end->deadline >= 0 && !timed_out && (until < 0 || end->deadline < until))
			until = end->deadline;
		int wait = until < 0 ? -1 : until > now ? (int)(until - now) : 0;
		int ready = poll(p, (nfds_t)np, wait);
		if (ready < 0 && errno != EINTR) {
			r = splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "poll");
			break;
		}
		if (ready == 0) {
			now = splq_now_ms();
			if (end && end->deadline >= 0 && now >= end->deadline && !timed_out) {
				timed_out = true;
				kill(end->supervisor, SIGUSR2); /* pid 1 dies, and the session */
			} else if (!s->started && now >= s->answer_by) {
				r = splq_fail(err, SPLQ_E_NOANSWER,
				              "qube '%s' did not answer within %ld s (its "
				              "qrexec_timeout); 'splq kill %s' stops it",
				              s->qube, s->answer_s, s->qube);
			}
			continue;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGWINCH) {
					struct winsize ws;
					int tty = s->dir[0].src >= 0 && isatty(s->dir[0].src)
					              ? s->dir[0].src
					              : s->dir[1].dst;
					if (s->master >= 0 && ioctl(tty, TIOCGWINSZ, &ws) == 0)
						ioctl(s->master, TIOCSWINSZ, &ws);
					continue;
				}
				send_signal(s, sig);
				if (sig == SIGTERM && end && end->supervisor > 0 && !stopped) {
					kill(end->supervisor, SIGUSR1); /* a graceful stop */
					stopped = true;
					*signo = sig;
				}
				/* a terminal session ends as a terminal would: the
				 * closed master hangs up the qube's side */
				if (s->tty && (sig == SIGTERM || sig == SIGHUP)) {
					*signo = sig;
					hung_up = true;
					r = 0;
				}
			}
		}
		if (p[2].revents && hung_up_caller(s)) {
			/* a qrexec caller went away: its service is hung up */
			send_signal(s, SIGHUP);
			*signo = SIGHUP;
			hung_up = true;
			r = 0;
		}
		for (int i = 0; i < 3 && r == 1; i++) {
			bool rd = at[i][0] >= 0 && p[at[i][0]].revents;
			bool wr = at[i][1] >= 0 && p[at[i][1]].revents;
			if ((rd || wr) && pump(s, i, rd, wr, err) < 0) {
				send_signal(s, SIGKILL);
				r = -1;
			}
		}
		if (r == 1 && p[0].revents)
			r = on_reply(s, status, err);
	}
	if (r == 0 && s->started && !s->no_wait && !hung_up && drain(s, err) < 0)
		r = -1;
	splq_session_close(s);
	sigset_t pending;
	sigemptyset(&pending);
	sigpending(&pending);
	if (sigismember(&pending, SIGPIPE)) {
		siginfo_t si;
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, SIGPIPE);
		sigtimedwait(&one, &si, &(struct timespec){0, 0});
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return -1;
	if (timed_out)
		return splq_fail(err, SPLQ_E_TIMEOUT, "timed out");
	if (*signo)
		return splq_fail(err, 128 + *signo, "interrupted by signal %d", *signo);
	return 0;
}
