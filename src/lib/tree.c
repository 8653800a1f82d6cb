/* splq: walks over directory trees (see tree.h). */
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static bool dot_or_dotdot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

/* ---- walking a tree ---- */

/* What a walk down a tree hands from a directory to its entries. */
struct walk {
	dev_t dev;  /* rm, shift: the file system the walk stays on */
	bool top;   /* rm, shift: the entry is where the walk began */
	long shift; /* shift, copy: added to owners */
	int dstfd;  /* copy: the directory the entries are copied into */
};

typedef int (*walk_fn)(int dfd, const char *name, const char *path, const struct walk *w,
                       struct splq_error *err);

/* A stream on the directory open at fd, which it takes (closed on
 * failure too).  Messages name the directory as "<what> '<path>'". */
static DIR *dir_open(int fd, const char *path, const char *what, struct splq_error *err)
{
	DIR *d = fdopendir(fd);

	if (!d) {
		int e = errno;

		close(fd);
		splq_fail_errno(err, SPLQ_E_INTERNAL, e, "cannot read %s '%s'", what, path);
	}
	return d;
}

/* fn on each entry of d but . and .., named path/entry; stops at the first
 * failure. */
static int each_entry(DIR *d, const char *path, const char *what, walk_fn fn, const struct walk *w,
                      struct splq_error *err)
{
	for (;;) {
		cleanup_free char *child = NULL;
		struct dirent *de;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot read %s '%s'", what, path);
			return 0;
		}
		if (dot_or_dotdot(de->d_name))
			continue;
		child = splq_strdup_printf("%s/%s", path, de->d_name);
		if (fn(dirfd(d), de->d_name, child, w, err) < 0)
			return -1;
	}
}

/* ---- rm -rf ---- */

static int rm_at(int pfd, const char *name, const char *path, const struct walk *w,
                 struct splq_error *err)
{
	struct walk sub = {0};
	struct stat st, st2;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot stat '%s'", path);
	}
	sub.dev = w->top ? st.st_dev : w->dev;
	if (st.st_dev != sub.dev)
		return splq_fail(err, SPLQ_E_STATE,
		                 "cannot remove '%s': another file system is mounted there", path);

	if (S_ISDIR(st.st_mode)) {
		cleanup_close int fd = -1;
		cleanup_dir DIR *d = NULL;

		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				return 0;
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot open directory '%s'", path);
		}
		/* The entry may have been swapped since fstatat. */
		if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
			return splq_fail(err, SPLQ_E_STATE,
			                 "cannot remove '%s': it changed while being removed",
			                 path);
		d = dir_open(splq_steal_fd(&fd), path, "directory", err);
		if (!d || each_entry(d, path, "directory", rm_at, &sub, err) < 0)
			return -1;
		if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot remove directory '%s'", path);
		return 0;
	}
	if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot remove '%s'", path);
	return 0;
}

int splq_rm_rf(const char *path, struct splq_error *err)
{
	cleanup_free char *copy = NULL;
	cleanup_close int pfd = -1;
	const char *base;

	if (!path || !*path)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot remove an empty path");
	switch (splq_open_parent(path, &copy, &base, &pfd, err)) {
	case 0:
		break;
	case -2: /* a missing parent means a missing path */
		return 0;
	default:
		return -1;
	}
	return rm_at(pfd, base, path, &(struct walk){.top = true}, err);
}

/* ---- copy and shift ---- */

static int shift_id(long id, long shift, const char *path, unsigned *out, struct splq_error *err)
{
	long long v = (long long)id + shift;

	if (v < 0 || v >= (long long)UINT_MAX)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "cannot shift the owner %ld of '%s' by %ld: out of range", id,
		                 path, shift);
	*out = (unsigned)v;
	return 0;
}

static int shifted_owner(const struct stat *st, long shift, const char *path, uid_t *uid,
                         gid_t *gid, struct splq_error *err)
{
	unsigned u = 0, g = 0;

	if (shift_id((long)st->st_uid, shift, path, &u, err) < 0 ||
	    shift_id((long)st->st_gid, shift, path, &g, err) < 0)
		return -1;
	*uid = u;
	*gid = g;
	return 0;
}

/* chown by an unprivileged user can only fail; like cp -a, an unshifted
 * copy made without root keeps the copier as owner. */
static bool chown_error_ok(int e, long shift)
{
	return e == EPERM && shift == 0 && geteuid() != 0;
}

static int copy_data(int in, int out, const char *path, struct splq_error *err)
{
	static const size_t chunk = 1 << 20;
	cleanup_free char *buf = NULL;
	bool use_cfr = true;

	for (;;) {
		ssize_t n;

		if (use_cfr) {
			n = copy_file_range(in, NULL, out, NULL, chunk * 64, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			              errno == EOPNOTSUPP || errno == EBADF || errno == EPERM)) {
				use_cfr = false;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot copy to '%s'", path);
			if (n == 0)
				return 0;
			continue;
		}
		if (!buf)
			buf = splq_xmalloc(chunk);
		n = read(in, buf, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot read the source of '%s'", path);
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot write '%s'", path);
			off += w;
		}
	}
}

/* Remove a non-directory at dstfd/name so that a copy can take its place. */
static int clear_slot(int dstfd, const char *name, const char *path, struct splq_error *err)
{
	struct stat st;

	if (fstatat(dstfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return splq_fail(err, SPLQ_E_STATE,
		                 "cannot copy to '%s': a directory of that name exists", path);
	if (unlinkat(dstfd, name, 0) < 0 && errno != ENOENT)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot replace '%s'", path);
	return 0;
}

static int copy_dir(int srcfd, int dstfd, const char *dpath, long shift, struct splq_error *err);

/* Owner, mode and times of a copy open at fd (a directory's once its
 * contents are in). */
static int set_attrs(int fd, const struct stat *st, const char *path, long shift,
                     struct splq_error *err)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	uid_t uid;
	gid_t gid;

	if (shifted_owner(st, shift, path, &uid, &gid, err) < 0)
		return -1;
	/* chown before chmod: chown clears set-id bits. */
	if (fchown(fd, uid, gid) < 0 && !chown_error_ok(errno, shift))
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the owner of '%s'",
		                       path);
	if (fchmod(fd, st->st_mode & 07777) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the mode of '%s'",
		                       path);
	if (futimens(fd, ts) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the times of '%s'",
		                       path);
	return 0;
}

static int copy_entry(int srcfd, const char *name, const char *dpath, const struct walk *w,
                      struct splq_error *err)
{
	int dstfd = w->dstfd;
	long shift = w->shift;
	struct timespec ts[2];
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (fstatat(srcfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot stat the source of '%s'", dpath);
	if (shifted_owner(&st, shift, dpath, &uid, &gid, err) < 0)
		return -1;
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;

	if (S_ISDIR(st.st_mode)) {
		cleanup_close int sfd = -1;
		cleanup_close int dfd = -1;
		struct stat dst;

		if (mkdirat(dstfd, name, 0700) < 0) {
			if (errno != EEXIST)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot create directory '%s'", dpath);
			if (fstatat(dstfd, name, &dst, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(dst.st_mode)) {
				if (clear_slot(dstfd, name, dpath, err) < 0)
					return -1;
				if (mkdirat(dstfd, name, 0700) < 0)
					return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
					                       "cannot create directory '%s'",
					                       dpath);
			}
		}
		sfd = openat(srcfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot open the source of '%s'", dpath);
		dfd = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot open directory '%s'", dpath);
		if (copy_dir(sfd, dfd, dpath, shift, err) < 0)
			return -1;
		return set_attrs(dfd, &st, dpath, shift, err);
	}

	if (clear_slot(dstfd, name, dpath, err) < 0)
		return -1;

	if (S_ISREG(st.st_mode)) {
		cleanup_close int in = -1;
		cleanup_close int out = -1;

		in = openat(srcfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot open the source of '%s'", dpath);
		out =
		    openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot create '%s'",
			                       dpath);
		if (copy_data(in, out, dpath, err) < 0)
			return -1;
		return set_attrs(out, &st, dpath, shift, err);
	}

	if (S_ISLNK(st.st_mode)) {
		size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
		cleanup_free char *target = NULL;
		ssize_t n;

		for (;;) {
			free(target);
			target = splq_xmalloc(cap);
			n = readlinkat(srcfd, name, target, cap);
			if (n < 0)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot read the source link of '%s'",
				                       dpath);
			if ((size_t)n < cap)
				break;
			cap *= 2;
		}
		target[n] = '\0';
		if (symlinkat(target, dstfd, name) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot create symlink '%s'", dpath);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) ||
	           S_ISSOCK(st.st_mode)) {
		if (mknodat(dstfd, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot create '%s'",
			                       dpath);
	} else {
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot copy '%s': unknown file type",
		                 dpath);
	}

	if (fchownat(dstfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 &&
	    !chown_error_ok(errno, shift))
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the owner of '%s'",
		                       dpath);
	/* A node just made here, never a symlink: fchmodat cannot follow. */
	if (!S_ISLNK(st.st_mode) && fchmodat(dstfd, name, st.st_mode & 07777, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the mode of '%s'",
		                       dpath);
	if (utimensat(dstfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the times of '%s'",
		                       dpath);
	return 0;
}

static int copy_dir(int srcfd, int dstfd, const char *dpath, long shift, struct splq_error *err)
{
	const struct walk w = {.shift = shift, .dstfd = dstfd};
	cleanup_dir DIR *d = NULL;
	int fd;

	fd = dup(srcfd);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot read the source of '%s'", dpath);
	d = dir_open(fd, dpath, "the source of", err);
	if (!d)
		return -1;
	return each_entry(d, dpath, "the source of", copy_entry, &w, err);
}

int splq_copy_tree(const char *src, const char *dst, long shift, struct splq_error *err)
{
	cleanup_close int sfd = -1;
	cleanup_close int dfd = -1;
	struct stat st;

	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "cannot open directory '%s'", src);
	if (fstat(sfd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot stat '%s'", src);
	if (mkdir(dst, 0700) < 0 && errno != EEXIST)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot create directory '%s'",
		                       dst);
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open directory '%s'",
		                       dst);
	if (copy_dir(sfd, dfd, dst, shift, err) < 0)
		return -1;
	return set_attrs(dfd, &st, dst, shift, err);
}

static int shift_at(int pfd, const char *name, const char *path, const struct walk *w,
                    struct splq_error *err)
{
	struct walk sub = {.shift = w->shift};
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "cannot stat '%s'", path);
	sub.dev = w->top ? st.st_dev : w->dev;
	if (st.st_dev != sub.dev)
		return splq_fail(err, SPLQ_E_STATE,
		                 "cannot change owners under '%s': another file system is "
		                 "mounted there",
		                 path);
	if (shifted_owner(&st, w->shift, path, &uid, &gid, err) < 0)
		return -1;

	if (S_ISDIR(st.st_mode)) {
		cleanup_dir DIR *d = NULL;
		int fd;

		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot open directory '%s'", path);
		d = dir_open(fd, path, "directory", err);
		if (!d || each_entry(d, path, "directory", shift_at, &sub, err) < 0)
			return -1;
		if (fchown(dirfd(d), uid, gid) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot set the owner of '%s'", path);
		if ((st.st_mode & (S_ISUID | S_ISGID)) && fchmod(dirfd(d), st.st_mode & 07777) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot set the mode of '%s'", path);
		return 0;
	}
	if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the owner of '%s'",
		                       path);
	/* chown clears set-id bits of files; put them back. */
	if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) &&
	    fchmodat(pfd, name, st.st_mode & 07777, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set the mode of '%s'",
		                       path);
	return 0;
}

int splq_shift_tree(const char *path, long shift, struct splq_error *err)
{
	cleanup_free char *copy = NULL;
	cleanup_close int pfd = -1;
	const char *base;

	if (!path || !*path)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot change owners of an empty path");
	if (splq_open_parent(path, &copy, &base, &pfd, err) < 0)
		return -1;
	if (shift == 0)
		return 0;
	return shift_at(pfd, base, path, &(struct walk){.top = true, .shift = shift}, err);
}
