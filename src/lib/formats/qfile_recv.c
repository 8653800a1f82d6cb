/* splq: the qfile receiver (see qfile.h): a stream's entries written
 * beneath a directory, every step relative to a directory descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "formats/qfile.h"
#include "tree.h"
#include "util.h"

#define RECV_BUF  (256 * 1024)
#define HOLE_UNIT 4096

void splq_qfile_recv_init(struct splq_qfile_recv *r, int dirfd, unsigned flags)
{
	*r = (struct splq_qfile_recv){.root = dirfd, .cur = dirfd, .out = -1};
	splq_qfile_parser_init(&r->p, flags);
	r->md = EVP_MD_CTX_new();
	if (!r->md)
		abort();
}

static void drop_file(struct splq_qfile_recv *r)
{
	if (r->out >= 0)
		close(r->out);
	r->out = -1;
	if (r->tmp[0])
		unlinkat(r->cur, r->tmp, 0);
	r->tmp[0] = '\0';
}

void splq_qfile_recv_free(struct splq_qfile_recv *r)
{
	drop_file(r);
	if (r->cur >= 0 && r->cur != r->root)
		close(r->cur);
	for (size_t i = 0; i < r->ntops; i++)
		free(r->tops[i]);
	free(r->tops);
	free(r->ids);
	EVP_MD_CTX_free(r->md);
	splq_qfile_hashes_free(&r->hashes);
	splq_qfile_parser_free(&r->p);
	*r = (struct splq_qfile_recv){.root = -1, .cur = -1, .out = -1};
}

/* The walk is in the directory open at fd now (root, or one it owns). */
static void move_to(struct splq_qfile_recv *r, int fd)
{
	if (r->cur != r->root)
		close(r->cur);
	r->cur = fd;
}

/* An I/O error on the entry being received: the result carries e. */
static int io_fail(struct splq_qfile_recv *r, int e, const char *what, struct splq_error *err)
{
	char q[200];

	splq_fail_errno(err, e == EEXIST ? SPLQ_E_EXISTS : SPLQ_E_INTERNAL, e,
	                "qfile receive: cannot %s '%s'", what,
	                splq_qfile_quote(r->p.name, q, sizeof(q)));
	return splq_qfile_parser_fail(&r->p, e);
}

/* Nothing of the stream stays: the file being written, then each
 * top-level entry it made (names it found taken were refused, so every one
 * of these is its own). */
void splq_qfile_recv_undo(struct splq_qfile_recv *r)
{
	drop_file(r);
	move_to(r, r->root);
	for (size_t i = r->ntops; i-- > 0;) {
		struct stat st;
		struct splq_error e;

		if (fstatat(r->root, r->tops[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			unlinkat(r->root, r->tops[i], 0);
		} else {
			cleanup_free char *path =
			    splq_strdup_printf("/proc/self/fd/%d/%s", r->root, r->tops[i]);

			splq_rm_rf(path, &e);
		}
	}
}

static void add_top(struct splq_qfile_recv *r, size_t depth, const char *base)
{
	if (depth)
		return;
	if (r->ntops == r->topcap) {
		r->topcap = r->topcap ? 2 * r->topcap : 16;
		r->tops = realloc(r->tops, r->topcap * sizeof(*r->tops));
		if (!r->tops)
			abort();
	}
	r->tops[r->ntops++] = splq_xstrdup(base);
}

static void times_of(const struct splq_qfile_hdr *h, struct timespec t[2])
{
	t[0] = (struct timespec){.tv_sec = h->atime, .tv_nsec = h->atime_nsec};
	t[1] = (struct timespec){.tv_sec = h->mtime, .tv_nsec = h->mtime_nsec};
}

/* Set-user-ID and set-group-ID bits never come across. */
#define MODE_MASK 01777

static int taken(struct splq_qfile_recv *r, const char *base, struct splq_error *err)
{
	struct stat st;

	if (fstatat(r->cur, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return io_fail(r, EEXIST, "create (the name exists; it is never overwritten)", err);
	if (errno != ENOENT)
		return io_fail(r, errno, "look up", err);
	return 0;
}

static int file_begin(struct splq_qfile_recv *r, const struct splq_qfile_ev *ev,
                      struct splq_error *err)
{
	if (taken(r, ev->base, err) < 0)
		return -1;
	r->out = -1;
	if (!r->no_tmpfile) {
		r->out = openat(r->cur, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
		if (r->out < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT)
			return io_fail(r, errno, "create", err);
		r->no_tmpfile = r->out < 0;
	}
	for (int i = 0; r->out < 0; i++) {
		snprintf(r->tmp, sizeof(r->tmp), ".qfile-%d-%llu", (int)getpid(),
		         (unsigned long long)r->p.entries * 64 + (unsigned)i);
		r->out = openat(r->cur, r->tmp,
		                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (r->out < 0 && (errno != EEXIST || i > 64)) {
			r->tmp[0] = '\0';
			return io_fail(r, errno, "create", err);
		}
	}
	r->off = 0;
	if (EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		return io_fail(r, ENOMEM, "hash", err);
	return 0;
}

static bool zeros(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* n bytes of data at the file's offset off. */
static int write_at(struct splq_qfile_recv *r, const uint8_t *data, size_t n, uint64_t off,
                    struct splq_error *err)
{
	while (n > 0) {
		ssize_t w = pwrite(r->out, data, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return io_fail(r, w < 0 ? errno : ENOSPC, "write", err);
		data += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write data at r->off, leaving holes for whole blocks of zeros. */
static int file_data(struct splq_qfile_recv *r, const uint8_t *data, size_t len,
                     struct splq_error *err)
{
	size_t i = 0, run = 0; /* data[i - run, i) waits to be written */

	EVP_DigestUpdate(r->md, data, len);
	while (i < len) {
		size_t n = HOLE_UNIT - (size_t)((r->off + i) % HOLE_UNIT);

		n = n < len - i ? n : len - i;
		if (n == HOLE_UNIT && zeros(data + i, n)) {
			if (write_at(r, data + i - run, run, r->off + i - run, err) < 0)
				return -1;
			run = 0;
		} else {
			run += n;
		}
		i += n;
	}
	if (write_at(r, data + len - run, run, r->off + len - run, err) < 0)
		return -1;
	r->off += len;
	r->bytes += len;
	return 0;
}

/* The file is whole: its size, mode and times, then its name. */
static int file_end(struct splq_qfile_recv *r, const struct splq_qfile_ev *ev,
                    struct splq_error *err)
{
	const char *slash = strrchr(ev->name, '/');
	const char *base = slash ? slash + 1 : ev->name;
	unsigned char sha[32];
	struct timespec t[2];
	char proc[32];

	times_of(ev->hdr, t);
	if (ftruncate(r->out, (off_t)ev->hdr->filelen) < 0)
		return io_fail(r, errno, "write", err);
	if (fchmod(r->out, ev->hdr->mode & MODE_MASK & 0777) < 0 || futimens(r->out, t) < 0)
		return io_fail(r, errno, "set the mode and times of", err);
	if (r->tmp[0]) {
		if (syscall(SYS_renameat2, r->cur, r->tmp, r->cur, base, RENAME_NOREPLACE) < 0)
			return io_fail(r, errno, "name", err);
		r->tmp[0] = '\0';
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", r->out);
		if (linkat(r->out, "", r->cur, base, AT_EMPTY_PATH) < 0 &&
		    (errno == EEXIST ||
		     linkat(AT_FDCWD, proc, r->cur, base, AT_SYMLINK_FOLLOW) < 0))
			return io_fail(r, errno, "name", err);
	}
	add_top(r, ev->depth, base);
	close(r->out);
	r->out = -1;
	EVP_DigestFinal_ex(r->md, sha, NULL);
	splq_qfile_hashes_add(&r->hashes, ev->name, ev->hdr->filelen, sha);
	return 0;
}

static int dir_begin(struct splq_qfile_recv *r, const struct splq_qfile_ev *ev,
                     struct splq_error *err)
{
	struct stat st;
	int fd;

	if (mkdirat(r->cur, ev->base, 0700) < 0)
		return io_fail(r, errno,
		               errno == EEXIST ? "create (the name exists; it is never overwritten)"
		                               : "create directory",
		               err);
	add_top(r, ev->depth, ev->base);
	fd = openat(r->cur, ev->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return io_fail(r, errno, "open directory", err);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return io_fail(r, errno, "open directory", err);
	}
	if (ev->depth + 1 > r->idcap) {
		r->idcap = r->idcap ? 2 * r->idcap : 16;
		r->ids = realloc(r->ids, r->idcap * sizeof(*r->ids));
		if (!r->ids)
			abort();
	}
	r->ids[ev->depth] = (struct splq_qfile_dir_id){st.st_dev, st.st_ino};
	move_to(r, fd);
	return 0;
}

/* The directory's second header: its mode and times, and back up to its
 * parent, which must still be the directory it was. */
static int dir_end(struct splq_qfile_recv *r, const struct splq_qfile_ev *ev,
                   struct splq_error *err)
{
	struct timespec t[2];
	struct stat st;
	int fd;

	times_of(ev->hdr, t);
	if (fchmod(r->cur, ev->hdr->mode & MODE_MASK) < 0 || futimens(r->cur, t) < 0)
		return io_fail(r, errno, "set the mode and times of", err);
	if (ev->depth == 0) {
		move_to(r, r->root);
		return 0;
	}
	fd = openat(r->cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return io_fail(r, errno, "go back up from", err);
	if (fstat(fd, &st) < 0 || st.st_dev != r->ids[ev->depth - 1].dev ||
	    st.st_ino != r->ids[ev->depth - 1].ino) {
		close(fd);
		return io_fail(r, ESTALE, "go back up from (its parent was moved)", err);
	}
	move_to(r, fd);
	return 0;
}

static int symlink_make(struct splq_qfile_recv *r, const struct splq_qfile_ev *ev,
                        struct splq_error *err)
{
	struct timespec t[2];

	if (symlinkat(ev->target, r->cur, ev->base) < 0)
		return io_fail(r, errno,
		               errno == EEXIST ? "create (the name exists; it is never overwritten)"
		                               : "create symlink",
		               err);
	add_top(r, ev->depth, ev->base);
	times_of(ev->hdr, t);
	if (utimensat(r->cur, ev->base, t, AT_SYMLINK_NOFOLLOW) < 0)
		return io_fail(r, errno, "set the times of", err);
	return 0;
}

static int handle(struct splq_qfile_recv *r, const struct splq_qfile_ev *ev, struct splq_error *err)
{
	switch (ev->kind) {
	case SPLQ_QFILE_FILE:
		return file_begin(r, ev, err);
	case SPLQ_QFILE_DATA:
		return file_data(r, ev->data, ev->len, err);
	case SPLQ_QFILE_FILE_END:
		return file_end(r, ev, err);
	case SPLQ_QFILE_DIR:
		return dir_begin(r, ev, err);
	case SPLQ_QFILE_DIR_END:
		return dir_end(r, ev, err);
	case SPLQ_QFILE_SYMLINK:
		return symlink_make(r, ev, err);
	case SPLQ_QFILE_END:
		if ((r->p.flags & SPLQ_QFILE_SYNC) && syncfs(r->root) < 0)
			return io_fail(r, errno, "sync the files of", err);
		r->done = true;
		return 1;
	}
	return 0;
}

int splq_qfile_recv_feed(struct splq_qfile_recv *r, const void *buf, size_t len,
                         struct splq_error *err)
{
	const uint8_t *b = buf;
	struct splq_qfile_ev ev;
	size_t used;

	if (r->done)
		return 1;
	for (;;) {
		int e = splq_qfile_next(&r->p, b, len, &used, &ev, err);

		b += used;
		len -= used;
		if (e == 0)
			return 0;
		if (e > 0)
			e = handle(r, &ev, err);
		if (e < 0) {
			splq_qfile_recv_undo(r);
			return -1;
		}
		if (e > 0)
			return 1;
	}
}

int splq_qfile_recv_eof(struct splq_qfile_recv *r, struct splq_error *err)
{
	if (r->done)
		return 0;
	splq_qfile_parser_eof(&r->p, err);
	splq_qfile_recv_undo(r);
	return -1;
}

int splq_qfile_receive(int in, int out, int dirfd, unsigned flags, struct splq_qfile_recv *r,
                       struct splq_error *err)
{
	cleanup_free uint8_t *buf = splq_xmalloc(RECV_BUF);
	uint8_t res[SPLQ_QFILE_RESULT_MAX];
	int e = 0;

	splq_qfile_recv_init(r, dirfd, flags);
	while (e == 0) {
		ssize_t n = read(in, buf, RECV_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                "qfile receive: cannot read the stream");
			splq_qfile_parser_fail(&r->p, errno);
			splq_qfile_recv_undo(r);
			e = -1;
		} else if (n == 0) {
			e = splq_qfile_recv_eof(r, err);
			break;
		} else {
			e = splq_qfile_recv_feed(r, buf, (size_t)n, err);
		}
	}
	if (out >= 0) {
		size_t len = splq_qfile_parser_result(&r->p, res);

		if (splq_write_all(out, res, len) < 0 && e >= 0)
			e = splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                    "qfile receive: cannot send the result");
	}
	return e < 0 ? -1 : 0;
}

int splq_qfile_receive_confirmed(int in, int out, int dirfd, unsigned flags,
                                 struct splq_qfile_recv *r, struct splq_error *err)
{
	size_t len;
	char yes = 0;
	ssize_t got = -1;

	if (splq_qfile_receive(in, out, dirfd, flags, r, err) < 0)
		return -1;
	cleanup_free uint8_t *m = splq_qfile_manifest_encode(&r->hashes, &len);
	if (splq_write_all(out, m, len) == 0)
		while ((got = read(in, &yes, 1)) < 0 && errno == EINTR)
			;
	if (got == 1 && yes == 'y')
		return 0;
	splq_qfile_recv_undo(r);
	return splq_fail(err, SPLQ_E_VERIFY, "the copy was not confirmed; it was removed");
}
