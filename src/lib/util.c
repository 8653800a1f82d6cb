/* splq: small helpers (see util.h). */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

/* ---- allocation ---- */

char *splq_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	return s;
}

void splq_str_appendf(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *more;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (r < 0 || !(*s = realloc(*s, *len + (size_t)r + 1)))
		abort();
	memcpy(*s + *len, more, (size_t)r + 1);
	*len += (size_t)r;
	free(more);
}

void *splq_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

void *splq_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

char *splq_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

/* ---- paths ---- */

bool splq_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

unsigned long long splq_fnv1a(unsigned long long h, const void *data, size_t n)
{
	for (const unsigned char *p = data; n--; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

long long splq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long splq_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int splq_mkdir_p(const char *path, mode_t mode, struct splq_error *err)
{
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t len;
	char *p;

	if (!path || !*path)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "cannot create a directory with an empty path");
	buf = splq_xstrdup(path);
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';

	p = buf;
	for (;;) {
		while (*p == '/')
			p++;
		p = strchr(p, '/');
		if (p)
			*p = '\0';
		if (mkdir(buf, mode) == 0) {
			/* The umask must not weaken or widen what was asked for. */
			if (chmod(buf, mode) < 0)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot set the mode of directory '%s'",
				                       buf);
		} else if (errno != EEXIST) {
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot create directory '%s'", buf);
		} else if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
			return splq_fail(err, SPLQ_E_INTERNAL,
			                 "cannot create directory '%s': a file of that name exists",
			                 buf);
		}
		if (!p)
			break;
		*p++ = '/';
	}
	return 0;
}

int splq_open_parent(const char *path, char **copy, const char **base, int *pfd,
                     struct splq_error *err)
{
	char *c, *slash;
	size_t len;

	c = splq_xstrdup(path);
	len = strlen(c);
	while (len > 1 && c[len - 1] == '/')
		c[--len] = '\0';
	*copy = c;
	slash = strrchr(c, '/');
	if (!slash) {
		*base = c;
		*pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		*base = slash + 1;
		if (slash == c) {
			*pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		} else {
			*slash = '\0';
			*pfd = open(c, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			*slash = '/';
		}
	}
	if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "refusing to operate on '%s'", path);
	if (*pfd < 0) {
		int e = errno;

		splq_fail_errno(err, e == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL, e,
		                "cannot open the directory holding '%s'", path);
		return e == ENOENT ? -2 : -1;
	}
	return 0;
}

/* ---- whole files ---- */

int splq_read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int splq_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int splq_write_file(const char *path, const void *data, size_t len, mode_t mode,
                    struct splq_error *err)
{
	cleanup_free char *copy = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_close int pfd = -1;
	cleanup_close int fd = -1;
	const char *base;
	int e;

	if (!path || !*path)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot write a file with an empty path");
	if (splq_open_parent(path, &copy, &base, &pfd, err) < 0)
		return -1;
	tmp = splq_strdup_printf("%.*s.%s.XXXXXX", (int)(base - copy), copy, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot create a file beside '%s'", path);
	if (splq_write_all(fd, data, len) < 0) {
		e = errno;
		goto fail;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		e = errno;
		goto fail;
	}
	if (close(splq_steal_fd(&fd)) < 0) {
		e = errno;
		goto fail;
	}
	if (rename(tmp, copy) < 0) {
		e = errno;
		goto fail;
	}
	/* Make the rename itself durable. */
	fsync(pfd);
	return 0;
fail:
	unlink(tmp);
	return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "cannot write '%s'", path);
}

/* The rest of fd, NUL-terminated; 0, or -1 and errno. */
static int read_rest(int fd, char **out, size_t *len)
{
	cleanup_free char *buf = NULL;
	size_t cap = 4096, used = 0;

	buf = splq_xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (cap - used < 2) {
			char *nb;

			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				abort();
			buf = nb;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		used += n;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = splq_steal(buf);
	return 0;
}

int splq_read_file(const char *path, char **out, size_t *len, struct splq_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "cannot read '%s'", path);
	if (read_rest(fd, out, len) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot read '%s'", path);
	return 0;
}

int splq_read_fd(int fd, char **out, size_t *len, struct splq_error *err, const char *what)
{
	if (lseek(fd, 0, SEEK_SET) < 0 || read_rest(fd, out, len) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot read %s", what);
	return 0;
}

int splq_write_string(const char *path, const char *s, struct splq_error *err)
{
	cleanup_close int fd = -1;
	size_t len = strlen(s);
	ssize_t n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "cannot open '%s' for writing", path);
	do
		n = write(fd, s, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot write '%s' to '%s'", s,
		                       path);
	if ((size_t)n != len)
		return splq_fail(err, SPLQ_E_INTERNAL, "short write of '%s' to '%s'", s, path);
	if (close(splq_steal_fd(&fd)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot write '%s' to '%s'", s,
		                       path);
	return 0;
}

int splq_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* ---- file data ---- */

/* Bytes [off, off + len) of in to the same place in out.  0, 1 when in
 * ends before, or -errno. */
static int copy_range(int in, int out, off_t off, off_t len, bool *no_cfr, char **buf)
{
	static const size_t chunk = 1 << 20;

	while (len > 0) {
		size_t want = len > (off_t)(1 << 30) ? (size_t)1 << 30 : (size_t)len;
		ssize_t n;

		if (!*no_cfr) {
			loff_t i = off, o = off;

			n = copy_file_range(in, &i, out, &o, want, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			              errno == EOPNOTSUPP || errno == EBADF || errno == EPERM)) {
				*no_cfr = true;
				continue;
			}
		} else {
			if (!*buf)
				*buf = splq_xmalloc(chunk);
			n = pread(in, *buf, want < chunk ? want : chunk, off);
			for (ssize_t done = 0; n > 0 && done < n;) {
				ssize_t w = pwrite(out, *buf + done, n - done, off + done);

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return -errno;
				done += w;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 1;
		off += n;
		len -= n;
	}
	return 0;
}

int splq_copy_data(int in, int out, off_t size)
{
	cleanup_free char *buf = NULL;
	bool seek = true, no_cfr = false;
	int r = 0;

	if (size <= 0)
		return 0;
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	for (off_t off = 0, data, end; off < size && r == 0; off = end) {
		data = seek ? lseek(in, off, SEEK_DATA) : off;
		if (data < 0 && errno == ENXIO)
			break; /* a hole to the end */
		if (data < 0 && errno != EINVAL && errno != EOPNOTSUPP)
			return -errno;
		if (data < 0) {
			seek = false; /* no holes known: all of it is data */
			data = off;
		}
		end = seek ? lseek(in, data, SEEK_HOLE) : size;
		if (data >= size)
			break;
		if (end < 0 || end > size)
			end = size;
		r = copy_range(in, out, data, end - data, &no_cfr, &buf);
		if (r < 0)
			return r;
	}
	if (ftruncate(out, size) < 0)
		return -errno;
	return r;
}

/* ---- sockets ---- */

int splq_stdio_pipes(int mine[3], int theirs[3])
{
	for (int i = 0; i < 3; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			int e = errno;
			for (int k = 0; k < i; k++) {
				splq_close_fd(&mine[k]);
				splq_close_fd(&theirs[k]);
			}
			errno = e;
			return -1;
		}
		/* stdin: the command reads p[0]; stdout, stderr: it writes p[1] */
		theirs[i] = i == 0 ? p[0] : p[1];
		mine[i] = i == 0 ? p[1] : p[0];
	}
	return 0;
}

void splq_filter_escapes(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if ((c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' && c != '\b' &&
		    c != '\a')
			buf[i] = '_';
	}
}

ssize_t splq_recv_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds, int flags)
{
	char cbuf[CMSG_SPACE(SPLQ_SEND_FDS_MAX * sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	*nfds = 0;
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int got[SPLQ_SEND_FDS_MAX];
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(got, CMSG_DATA(c), (size_t)k * sizeof(int));
		for (int i = 0; i < k; i++) {
			if (*nfds < max)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		while (*nfds > 0)
			close(fds[--*nfds]);
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

ssize_t splq_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds, int flags)
{
	char cbuf[CMSG_SPACE(SPLQ_SEND_FDS_MAX * sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds < 0 || nfds > SPLQ_SEND_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
}

void splq_sigpipe_hold(struct splq_sigpipe *h)
{
	sigset_t pipe, pending;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	h->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &h->old);
}

void splq_sigpipe_release(struct splq_sigpipe *h)
{
	sigset_t pipe, pending;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!h->was_pending) {
		struct timespec zero = {0};

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &h->old, NULL);
}
