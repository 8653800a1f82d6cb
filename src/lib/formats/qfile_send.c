/* splq: the qfile sender (see qfile.h): paths walked as Qubes' qfile-agent
 * walks them, written as its stream, with the receiver's result checked. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/qfile.h"
#include "util.h"
#include "walk.h"

#define SEND_BUF (256 * 1024)

struct sender {
	int out, in;
	unsigned flags;
	struct splq_qfile_send *s;
	uint8_t *buf;
	size_t fill;
	char *name; /* the stream name of the entry, SPLQ_QFILE_MAX_PATH */
	size_t len;
	struct splq_qfile_hdr *dirs; /* first headers of the directories open */
	size_t ndirs;
	bool pipe_closed;
};

static int flush(struct sender *o, struct splq_error *err)
{
	if (o->fill && splq_write_all(o->out, o->buf, o->fill) < 0) {
		o->pipe_closed = errno == EPIPE;
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "qfile send: cannot write the stream");
	}
	o->fill = 0;
	return 0;
}

/* The bytes just put at the end of the buffer count for the CRC. */
static void counted(struct sender *o, size_t n)
{
	o->s->crc = splq_crc32(o->s->crc, o->buf + o->fill, n);
	o->fill += n;
}

static int emit(struct sender *o, const void *data, size_t len, struct splq_error *err)
{
	const uint8_t *p = data;

	while (len) {
		size_t n = SEND_BUF - o->fill < len ? SEND_BUF - o->fill : len;

		memcpy(o->buf + o->fill, p, n);
		counted(o, n);
		p += n;
		len -= n;
		if (o->fill == SEND_BUF && flush(o, err) < 0)
			return -1;
	}
	return 0;
}

static struct splq_qfile_hdr header_of(const struct sender *o, const struct stat *st)
{
	return (struct splq_qfile_hdr){.namelen = (uint32_t)o->len + 1,
	                               .mode = st->st_mode,
	                               .filelen = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size,
	                               .atime = (uint32_t)st->st_atim.tv_sec,
	                               .atime_nsec = (uint32_t)st->st_atim.tv_nsec,
	                               .mtime = (uint32_t)st->st_mtim.tv_sec,
	                               .mtime_nsec = (uint32_t)st->st_mtim.tv_nsec};
}

static int emit_header(struct sender *o, const struct splq_qfile_hdr *h, struct splq_error *err)
{
	uint8_t b[SPLQ_QFILE_HDR_SIZE];

	splq_qfile_hdr_encode(h, b);
	o->s->entries++;
	return emit(o, b, sizeof(b), err) < 0 ? -1 : emit(o, o->name, o->len + 1, err);
}

__attribute__((format(printf, 4, 5))) static int
refuse(struct sender *o, int code, struct splq_error *err, const char *fmt, ...)
{
	char msg[SPLQ_ERROR_MAX], q[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return splq_fail(err, code, "qfile send: '%s' %s", splq_qfile_quote(o->name, q, sizeof(q)),
	                 msg);
}

static int send_file(struct sender *o, int dfd, const char *base, const struct stat *st,
                     struct splq_error *err)
{
	cleanup_close int fd = openat(dfd, base, SPLQ_OPEN_FLAGS);
	struct splq_qfile_hdr h = header_of(o, st);
	uint64_t left = h.filelen;
	struct splq_node n;
	struct stat now;

	splq_node_of(&n, st);
	if (fd < 0)
		return refuse(o, SPLQ_E_INTERNAL, err, "cannot be opened: %s", strerror(errno));
	if (fstat(fd, &now) < 0 || !splq_same_inode(&now, &n))
		return refuse(o, SPLQ_E_STATE, err, "changed while it was sent");
	if (emit_header(o, &h, err) < 0)
		return -1;
	while (left) {
		size_t room = SEND_BUF - o->fill;
		ssize_t got = read(fd, o->buf + o->fill, left < room ? (size_t)left : room);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return refuse(o, SPLQ_E_INTERNAL, err, "cannot be read: %s",
			              strerror(errno));
		if (got == 0)
			return refuse(o, SPLQ_E_STATE, err, "shrank while it was sent");
		counted(o, (size_t)got);
		left -= (uint64_t)got;
		if (o->fill == SEND_BUF && flush(o, err) < 0)
			return -1;
	}
	o->s->bytes += h.filelen;
	return 0;
}

static int send_symlink(struct sender *o, int dfd, const char *base, const struct stat *st,
                        struct splq_error *err)
{
	struct splq_qfile_hdr h = header_of(o, st);
	cleanup_free char *target = splq_xmalloc((size_t)st->st_size + 1);
	ssize_t n = readlinkat(dfd, base, target, (size_t)st->st_size + 1);

	if (n != st->st_size)
		return refuse(o, SPLQ_E_STATE, err, "changed while it was sent");
	if (emit_header(o, &h, err) < 0)
		return -1;
	return emit(o, target, (size_t)n, err);
}

/* Has the receiver given up early?  (It sends its result only at the end
 * or at an error.) */
static int read_result(struct sender *o, struct splq_error *err);

static int early_result(struct sender *o, struct splq_error *err)
{
	struct pollfd p = {.fd = o->in, .events = POLLIN};

	if (o->in < 0 || poll(&p, 1, 0) <= 0)
		return 0;
	if (read_result(o, err) < 0)
		return -1;
	return splq_fail(err, SPLQ_E_INTERNAL, "qfile send: the receiver ended the copy early");
}

/* One entry, named o->name, listed as st in dfd. */
static int send_entry(struct sender *o, int dfd, const char *base, const struct stat *st,
                      struct splq_error *err)
{
	if (o->len + 1 > SPLQ_QFILE_MAX_NAMELEN)
		return refuse(o, SPLQ_E_VALUE, err,
		              "has a name too long for Qubes (at most %d bytes)",
		              SPLQ_QFILE_MAX_NAMELEN - 1);
	if (S_ISREG(st->st_mode))
		return send_file(o, dfd, base, st, err) < 0 ? -1 : early_result(o, err);
	if (S_ISLNK(st->st_mode) && !(o->flags & SPLQ_QFILE_IGNORE_SYMLINKS))
		return send_symlink(o, dfd, base, st, err) < 0 ? -1 : early_result(o, err);
	if (S_ISDIR(st->st_mode)) {
		struct splq_qfile_hdr h = header_of(o, st);

		if (o->ndirs % 16 == 0) {
			o->dirs = realloc(o->dirs, (o->ndirs + 16) * sizeof(*o->dirs));
			if (!o->dirs)
				abort();
		}
		o->dirs[o->ndirs++] = h;
		return emit_header(o, &h, err);
	}
	if (!S_ISLNK(st->st_mode))
		o->s->skipped++;
	return 1;
}

/* The directory just left, a second time; back to its parent's name. */
static int leave_dir(struct sender *o, struct splq_error *err)
{
	char *slash;

	if (emit_header(o, &o->dirs[--o->ndirs], err) < 0 || early_result(o, err) < 0)
		return -1;
	slash = strrchr(o->name, '/');
	o->len = slash ? (size_t)(slash - o->name) : 0;
	o->name[o->len] = '\0';
	return 0;
}

static int send_tree(struct sender *o, int fd, const struct stat *st, struct splq_error *err)
{
	struct splq_walk w;
	struct splq_walk_ev ev;
	int r = 0;

	splq_walk_init(&w, o->name);
	splq_walk_start(&w, fd, st);
	while (r >= 0) {
		r = splq_walk_next(&w, &ev, err);
		if (r == SPLQ_WALK_LEAVE) {
			r = leave_dir(o, err);
			if (w.depth == 0)
				break;
			continue;
		}
		if (r < 0)
			break;
		size_t nl = strlen(ev.name);

		if (o->len + 1 + nl + 1 > SPLQ_QFILE_MAX_PATH) {
			r = refuse(o, SPLQ_E_VALUE, err, "holds a name too long for Qubes");
			break;
		}
		o->name[o->len] = '/';
		memcpy(o->name + o->len + 1, ev.name, nl + 1);
		o->len += 1 + nl;
		if (ev.stat_errno) {
			r = refuse(o, SPLQ_E_INTERNAL, err, "cannot be read: %s",
			           strerror(ev.stat_errno));
			break;
		}
		r = send_entry(o, w.fd, ev.name, &ev.st, err);
		if (r >= 0 && S_ISDIR(ev.st.st_mode)) {
			r = splq_walk_enter(&w, ev.name, &ev.st, err);
			if (r > 0)
				r = refuse(o, SPLQ_E_STATE, err, "changed while it was sent");
			continue; /* o->name stays the directory's */
		}
		o->len -= 1 + nl;
		o->name[o->len] = '\0';
	}
	splq_walk_free(&w);
	return r < 0 ? -1 : 0;
}

static int send_path(struct sender *o, const char *path, struct splq_error *err)
{
	cleanup_free char *d = splq_xstrdup(path), *b = splq_xstrdup(path);
	const char *dir = dirname(d), *base = basename(b);
	cleanup_close int dfd = -1;
	struct stat st;
	int fd, r;

	if (!*path)
		return splq_fail(err, SPLQ_E_USAGE, "qfile send: an empty path");
	if (strlen(base) + 1 > SPLQ_QFILE_MAX_NAMELEN)
		return splq_fail(err, SPLQ_E_VALUE, "qfile send: '%s' has too long a name", path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "qfile send: cannot read '%s'", path);
	o->len = strlen(base);
	memcpy(o->name, base, o->len + 1);
	r = send_entry(o, dfd, base, &st, err);
	if (r != 0 || !S_ISDIR(st.st_mode))
		return r < 0 ? -1 : 0;
	fd = openat(dfd, base, SPLQ_DIR_FLAGS);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "qfile send: cannot open directory '%s'", path);
	return send_tree(o, fd, &st, err);
}

/* ---- the result ---- */

/* Up to len bytes: fewer only at the end of the input; -1 on an error. */
static ssize_t read_full(int fd, uint8_t *b, size_t len)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = read(fd, b + have, len - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

static int read_result(struct sender *o, struct splq_error *err)
{
	struct splq_qfile_send *s = o->s;
	cleanup_free uint8_t *b = splq_xmalloc(SPLQ_QFILE_RESULT_MAX);
	struct splq_qfile_result res;
	size_t have;
	ssize_t n;

	n = read_full(o->in, b, SPLQ_QFILE_RESULT_SIZE + 4);
	if (n < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "qfile send: cannot read the receiver's result");
	if (n < SPLQ_QFILE_RESULT_SIZE)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "qfile send: the receiver ended without a result");
	have = n < SPLQ_QFILE_RESULT_SIZE + 4 ? SPLQ_QFILE_RESULT_SIZE : (size_t)n;
	if (splq_qfile_result_decode(b, have, &res, err) < 0)
		return -1;
	if (res.has_ext) {
		n = read_full(o->in, b + have, res.last_namelen);
		if (n < 0 || splq_qfile_result_decode(b, have + (size_t)n, &res, err) != 0)
			res.last_namelen = 0; /* no name, as Qubes' sender takes it */
	}
	s->remote_code = res.error_code;
	s->remote_crc = res.crc32;
	free(s->remote_last);
	s->remote_last = splq_xmalloc(res.last_namelen + 1);
	memcpy(s->remote_last, res.last_name ? res.last_name : "", res.last_namelen);
	s->remote_last[res.last_namelen] = '\0';
	return splq_qfile_result_check(s->remote_code, s->remote_last, err);
}

int splq_qfile_result_check(uint32_t code, const char *last, struct splq_error *err)
{
	char q[200];

	splq_qfile_quote(last ? last : "", q, sizeof(q));
	switch (code) {
	case 0:
		return 0;
	case EEXIST:
		return splq_fail(err, SPLQ_E_EXISTS,
		                 "qfile send: a file named '%s' already exists where it goes", q);
	case EILSEQ:
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "qfile send: the receiver refuses a character in a name or link "
		                 "target (like '%s')",
		                 q);
	case ENOLINK:
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "qfile send: the receiver cannot verify that link '%s' would not "
		                 "be broken by the copy",
		                 q);
	case SPLQ_QFILE_LEGAL_EOF:
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "qfile send: the receiver got a stream cut short at '%s'", q);
	default:
		return splq_fail_errno(err, SPLQ_E_INTERNAL, (int)code,
		                       "qfile send: the receiver failed at '%s'", q);
	}
}

int splq_qfile_send(int out, int in, const char *const *paths, size_t npaths, unsigned flags,
                    struct splq_qfile_send *s, struct splq_error *err)
{
	struct sender o = {.out = out, .in = in, .flags = flags, .s = s};
	struct splq_sigpipe hold;
	uint8_t end[SPLQ_QFILE_HDR_SIZE] = {0};
	struct splq_error own;
	int r = 0;

	if (!err)
		err = &own;
	*s = (struct splq_qfile_send){0};
	splq_sigpipe_hold(&hold);
	o.buf = splq_xmalloc(SEND_BUF);
	o.name = splq_xmalloc(SPLQ_QFILE_MAX_PATH);
	for (size_t i = 0; i < npaths && r == 0; i++)
		r = send_path(&o, paths[i], err);
	if (r == 0)
		r = emit(&o, end, sizeof(end), err);
	if (r == 0)
		r = flush(&o, err);
	if (in >= 0 && (r == 0 || o.pipe_closed)) {
		/* After a broken pipe, the receiver's reason is the better message. */
		struct splq_error mine = *err;

		if (read_result(&o, err) < 0)
			r = -1;
		else if (o.pipe_closed)
			*err = mine;
		else if (s->remote_crc != (uint64_t)s->crc)
			r = splq_fail(
			    err, SPLQ_E_CORRUPT,
			    "qfile send: checksum mismatch: sent CRC-32 %08x, the receiver "
			    "got %08llx",
			    s->crc, (unsigned long long)s->remote_crc);
	}
	splq_sigpipe_release(&hold);
	free(o.buf);
	free(o.name);
	free(o.dirs);
	return r < 0 || o.pipe_closed ? -1 : 0;
}

void splq_qfile_send_free(struct splq_qfile_send *s)
{
	free(s->remote_last);
	*s = (struct splq_qfile_send){0};
}
