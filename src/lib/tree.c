/* splq: remove and change owners of directory trees (see tree.h; copies
 * are in tree_copy.c).
 *
 * The trees are often a qube's volumes, written by the qube: whatever it
 * can make is handled in bounded time, memory and descriptors.  The walk
 * (walk.h) holds a constant number of descriptors whatever the depth, and
 * checks every directory it enters or goes back to against what was
 * listed; rm never crosses into another mount, and goes on past what it
 * cannot remove; a shift changes each inode once, also one with many
 * links, and never follows a link. */
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "walk.h"

/* ---- rm -rf ---- */

/* rm goes on past what it cannot remove, says what the first thing was and
 * how many more there were. */
struct rm {
	struct splq_walk w;
	int pfd;          /* the top's parent */
	const char *base; /* the top's name in it */
	int failures;
	unsigned flags; /* SPLQ_RM_* */
	struct splq_error *err;
};

static void rm_note(struct rm *r, struct splq_level *in, const struct splq_error *e)
{
	if (in)
		in->failed = true;
	if (r->failures++ == 0)
		*r->err = *e;
}

static void rm_fail(struct rm *r, struct splq_level *in, int code, int e, const char *name,
                    const char *why)
{
	cleanup_free char *p = splq_walk_path(&r->w, r->w.top, name);
	struct splq_error x;

	if (e)
		splq_fail_errno(&x, code, e, "cannot remove '%s'%s", p, why);
	else
		splq_fail(&x, code, "cannot remove '%s'%s", p, why);
	rm_note(r, in, &x);
}

/* SPLQ_RM_SECURE: the data of the regular file base in dfd, which is st,
 * overwritten with zeros and synced before it is unlinked.  A file with
 * other hard links keeps its data: they still name it. */
static int overwrite(int dfd, const char *base, const struct stat *st)
{
	static const char zeros[64 * 1024];
	struct stat now;

	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 || st->st_size == 0)
		return 0;
	cleanup_close int fd =
	    openat(dfd, base, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &now) < 0)
		return -1;
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		errno = ESTALE;
		return -1;
	}
	for (off_t off = 0; off < now.st_size;) {
		size_t n = (size_t)(now.st_size - off) < sizeof(zeros) ? (size_t)(now.st_size - off)
		                                                       : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return fdatasync(fd);
}

static void rm_entry(struct rm *r, struct splq_walk_ev *ev)
{
	struct splq_walk *w = &r->w;
	struct splq_level *cur = &w->lv[w->depth - 1];
	struct splq_error x;

	for (int tries = 0;; tries++) {
		if (ev->stat_errno)
			return rm_fail(r, cur, SPLQ_E_INTERNAL, ev->stat_errno, ev->name, "");
		if (ev->st.st_dev != w->lv[0].node.dev)
			return rm_fail(r, cur, SPLQ_E_STATE, 0, ev->name,
			               ": another file system is mounted there");
		if (!S_ISDIR(ev->st.st_mode)) {
			if ((r->flags & SPLQ_RM_SECURE) && overwrite(w->fd, ev->name, &ev->st) < 0)
				rm_fail(r, cur, SPLQ_E_INTERNAL, errno, ev->name,
				        " (its data could not be overwritten; it was kept)");
			else if (unlinkat(w->fd, ev->name, 0) == 0 || errno == ENOENT)
				cur->progress = true;
			else
				rm_fail(r, cur, SPLQ_E_INTERNAL, errno, ev->name, "");
			return;
		}
		/* a bind mount of the same file system has the same st_dev */
		struct statx stx;
		if (statx(w->fd, ev->name, AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 &&
		    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
			return rm_fail(r, cur, SPLQ_E_STATE, 0, ev->name,
			               ": another file system is mounted there");
		int e = splq_walk_enter(w, ev->name, &ev->st, &x);
		if (e < 0)
			return rm_note(r, cur, &x);
		if (e == 0)
			return;
		if (tries == SPLQ_WALK_TRIES)
			return rm_fail(r, cur, SPLQ_E_STATE, 0, ev->name, ": it keeps changing");
		/* not the directory listed: look again */
		if (fstatat(w->fd, ev->name, &ev->st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				return;
			ev->stat_errno = errno;
		}
	}
}

/* Every entry of the directory left was seen: remove it.  1 when it is
 * read once more instead. */
static int rm_leave(struct rm *r, struct splq_level *left)
{
	struct splq_walk *w = &r->w;
	struct splq_level *parent = w->depth ? &w->lv[w->depth - 1] : NULL;
	int pfd = parent ? w->fd : r->pfd;
	const char *name = parent ? left->name : r->base;
	struct stat st;
	int e;

	if (unlinkat(pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
		if (parent)
			parent->progress = true;
		return 0;
	}
	e = errno;
	if (e == ENOTEMPTY && left->failed) {
		if (parent)
			parent->failed = true; /* it was said why */
		return 0;
	}
	/* Where a directory offset counts entries (tmpfs before Linux 6.6),
	 * the entries removed before it move it and some are skipped: read
	 * the directory again from its start while each pass removes some. */
	if (e == ENOTEMPTY && left->progress && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    splq_same_inode(&st, &left->node)) {
		struct splq_error ignored;

		if (parent)
			return splq_walk_enter(w, name, &st, &ignored) == 0;
		int fd = openat(pfd, name, SPLQ_DIR_FLAGS);
		struct stat now;

		if (fd >= 0 && fstat(fd, &now) == 0 && splq_same_inode(&now, &left->node)) {
			splq_walk_start(w, fd, &now);
			return 1;
		}
		if (fd >= 0)
			close(fd);
	}
	rm_fail(r, parent, SPLQ_E_INTERNAL, e, parent ? name : NULL, "");
	return 0;
}

int splq_rm_rf(const char *path, struct splq_error *err)
{
	return splq_rm_tree(path, 0, err);
}

int splq_rm_tree(const char *path, unsigned flags, struct splq_error *err)
{
	cleanup_free char *copy = NULL;
	cleanup_close int pfd = -1;
	struct rm r = {.err = err, .flags = flags};
	struct splq_error own, x;
	struct splq_walk_ev ev;
	struct stat st, now;
	int fd;

	if (!err)
		r.err = err = &own;
	if (!path || !*path)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot remove an empty path");
	switch (splq_open_parent(path, &copy, &r.base, &pfd, err)) {
	case 0:
		break;
	case -2: /* a missing parent means a missing path */
		return 0;
	default:
		return -1;
	}
	if (fstatat(pfd, r.base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
		           ? 0
		           : splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot stat '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if ((flags & SPLQ_RM_SECURE) && overwrite(pfd, r.base, &st) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot overwrite the data of '%s'; it was kept",
			                       path);
		if (unlinkat(pfd, r.base, 0) < 0 && errno != ENOENT)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot remove '%s'",
			                       path);
		return 0;
	}
	fd = openat(pfd, r.base, SPLQ_DIR_FLAGS);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open directory '%s'",
		                       path);
	if (fstat(fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		close(fd);
		return splq_fail(err, SPLQ_E_STATE, "cannot remove '%s': it changed meanwhile",
		                 path);
	}
	r.pfd = pfd;
	splq_walk_init(&r.w, copy);
	splq_walk_start(&r.w, fd, &now);
	for (;;) {
		int e = splq_walk_next(&r.w, &ev, &x);

		if (e < 0) {
			rm_note(&r, NULL, &x); /* the walk cannot go on: the rest stays */
			break;
		}
		if (e == SPLQ_WALK_ENTRY)
			rm_entry(&r, &ev);
		else if (rm_leave(&r, ev.left) == 0 && r.w.depth == 0)
			break;
	}
	splq_walk_free(&r.w);
	if (r.failures > 1) {
		size_t len = strlen(err->msg);

		snprintf(err->msg + len, sizeof(err->msg) - len, " (and %d more)", r.failures - 1);
	}
	return r.failures ? -1 : 0;
}

/* ---- shift ---- */

/* A shift changes each inode once: files with more than one link are
 * remembered (walk.h's map) until all their links were seen. */
struct shift {
	struct splq_walk w;
	long shift;
	struct splq_links links;
};

static int shift_fail(struct shift *s, const char *name, int code, int e, const char *what,
                      struct splq_error *err)
{
	cleanup_free char *p = splq_walk_path(&s->w, s->w.top, name);
	if (e)
		return splq_fail_errno(err, code, e, "cannot %s '%s'", what, p);
	return splq_fail(err, code, "cannot %s '%s'", what, p);
}

static int shift_refuse(struct shift *s, const char *name, const char *why, struct splq_error *err)
{
	cleanup_free char *p = splq_walk_path(&s->w, s->w.top, name);
	return splq_fail(err, SPLQ_E_STATE, "cannot change the owner of '%s': %s", p, why);
}

/* Shift the owner of fd (O_PATH or not), which is st, at dir/name; put
 * set-id bits back, which chown clears. */
static int shift_fd(struct shift *s, int fd, bool opath, int dir, const char *name,
                    const struct stat *st, struct splq_error *err)
{
	struct splq_node n;
	uid_t uid;
	gid_t gid;

	splq_node_of(&n, st);
	if (splq_walk_owner(&n, s->shift, &s->w, s->w.top, name, &uid, &gid, err) < 0)
		return -1;
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		return shift_fail(s, name, SPLQ_E_INTERNAL, errno, "set the owner of", err);
	if (S_ISLNK(st->st_mode) || !(st->st_mode & (S_ISUID | S_ISGID)))
		return 0;
	cleanup_close int mfd = opath ? openat(dir, name, SPLQ_OPEN_FLAGS) : -1;
	struct stat now;
	if (opath && (mfd < 0 || fstat(mfd, &now) < 0 || !splq_same_inode(&now, &n)))
		return shift_refuse(s, name, "it changed meanwhile", err);
	if (fchmod(opath ? mfd : fd, st->st_mode & 07777) < 0)
		return shift_fail(s, name, SPLQ_E_INTERNAL, errno, "set the mode of", err);
	return 0;
}

/* A non-directory at dir/name, listed as st; 1 when it changed. */
static int shift_other(struct shift *s, int dir, const char *name, const struct stat *st,
                       struct splq_error *err)
{
	cleanup_close int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct splq_link *l;
	struct stat now;

	if (fd < 0)
		return errno == ENOENT ? 1
		                       : shift_fail(s, name, SPLQ_E_INTERNAL, errno, "open", err);
	if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return 1;
	if (now.st_nlink > 1 && (l = splq_links_find(&s->links, now.st_dev, now.st_ino))) {
		if (--l->left == 0)
			splq_links_drop(&s->links, l);
		return 0; /* shifted at its first link */
	}
	if (shift_fd(s, fd, true, dir, name, &now, err) < 0)
		return -1;
	if (now.st_nlink > 1 &&
	    !splq_links_add(&s->links, now.st_dev, now.st_ino, now.st_nlink - 1, 0))
		return shift_refuse(s, name, "too many files with hard links", err);
	return 0;
}

static int shift_walk(struct shift *s, struct splq_error *err)
{
	struct splq_walk_ev ev;

	for (;;) {
		int e = splq_walk_next(&s->w, &ev, err);

		if (e < 0)
			return -1;
		if (e == SPLQ_WALK_LEAVE) {
			if (s->w.depth == 0)
				return 0;
			continue;
		}
		for (int tries = 0;; tries++) {
			int r;

			if (ev.stat_errno)
				return shift_fail(s, ev.name, SPLQ_E_INTERNAL, ev.stat_errno,
				                  "stat", err);
			if (ev.st.st_dev != s->w.lv[0].node.dev)
				return shift_refuse(s, ev.name,
				                    "another file system is mounted there", err);
			if (S_ISDIR(ev.st.st_mode)) {
				r = splq_walk_enter(&s->w, ev.name, &ev.st, err);
				if (r == 0)
					r = shift_fd(s, s->w.fd, false, -1, NULL, &ev.st, err);
			} else {
				r = shift_other(s, s->w.fd, ev.name, &ev.st, err);
			}
			if (r < 0)
				return -1;
			if (r == 0)
				break;
			if (tries == SPLQ_WALK_TRIES)
				return shift_refuse(s, ev.name, "it keeps changing", err);
			if (fstatat(s->w.fd, ev.name, &ev.st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					break;
				ev.stat_errno = errno;
			}
		}
	}
}

int splq_shift_tree(const char *path, long shift, struct splq_error *err)
{
	cleanup_free char *copy = NULL;
	cleanup_close int pfd = -1;
	struct shift s = {.shift = shift};
	const char *base;
	struct stat st;
	int r;

	if (!path || !*path)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot change owners of an empty path");
	if (splq_open_parent(path, &copy, &base, &pfd, err) < 0)
		return -1;
	if (shift == 0)
		return 0;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "cannot stat '%s'", path);
	splq_walk_init(&s.w, copy);
	if (!S_ISDIR(st.st_mode)) {
		r = shift_other(&s, pfd, base, &st, err);
		if (r > 0)
			r = splq_fail(err, SPLQ_E_STATE,
			              "cannot change owners of '%s': it changed meanwhile", path);
	} else {
		int fd = openat(pfd, base, SPLQ_DIR_FLAGS);
		struct stat now;

		if (fd < 0 || fstat(fd, &now) < 0 || now.st_ino != st.st_ino ||
		    now.st_dev != st.st_dev) {
			if (fd >= 0)
				close(fd);
			r = splq_fail(err, SPLQ_E_STATE,
			              "cannot change owners of '%s': it changed meanwhile", path);
		} else {
			splq_walk_start(&s.w, fd, &now);
			r = shift_fd(&s, fd, false, -1, NULL, &now, err);
			if (r == 0)
				r = shift_walk(&s, err);
		}
	}
	splq_links_free(&s.links);
	splq_walk_free(&s.w);
	return r;
}
