/* splq: copies of directory trees (see tree.h).
 *
 * The trees are often a qube's volumes, written by the qube: whatever it
 * can make is handled in bounded time, memory, descriptors and disk.  The
 * walk (walk.h) holds a constant number of descriptors whatever the depth;
 * every entry is opened relative to its directory with O_NOFOLLOW and
 * O_NONBLOCK and checked with fstat to be the inode that was listed before
 * anything is read from it; fifos, sockets and devices are never opened;
 * files are copied by their data extents (holes stay holes, nothing beyond
 * the size seen at open) and hard links stay links. */
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "walk.h"

/* chown by an unprivileged user can only fail; like cp -a, an unshifted
 * copy made without root keeps the copier as owner. */
static bool chown_error_ok(int e, long shift)
{
	return e == EPERM && shift == 0 && geteuid() != 0;
}

static int attr_fail(const struct splq_walk *w, const char *top, const char *name, const char *what,
                     int e, struct splq_error *err)
{
	cleanup_free char *p = splq_walk_path(w, top, name);
	return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "cannot set the %s of '%s'", what, p);
}

/* Owner, mode and times of a copy open at fd (a directory's once its
 * contents are in). */
static int set_attrs(int fd, const struct splq_node *n, long shift, const struct splq_walk *w,
                     const char *top, const char *name, struct splq_error *err)
{
	struct timespec ts[2] = {n->atim, n->mtim};
	uid_t uid;
	gid_t gid;

	if (splq_walk_owner(n, shift, w, top, name, &uid, &gid, err) < 0)
		return -1;
	/* chown before chmod: chown clears set-id bits. */
	if (fchown(fd, uid, gid) < 0 && !chown_error_ok(errno, shift))
		return attr_fail(w, top, name, "owner", errno, err);
	if (fchmod(fd, n->mode & 07777) < 0)
		return attr_fail(w, top, name, "mode", errno, err);
	if (futimens(fd, ts) < 0)
		return attr_fail(w, top, name, "times", errno, err);
	return 0;
}

/* The same for a node made at dfd/name that is not open (a symlink, fifo,
 * socket or device node). */
static int set_attrs_at(int dfd, const struct splq_node *n, long shift, const struct splq_walk *w,
                        const char *top, const char *name, struct splq_error *err)
{
	struct timespec ts[2] = {n->atim, n->mtim};
	uid_t uid;
	gid_t gid;

	if (splq_walk_owner(n, shift, w, top, name, &uid, &gid, err) < 0)
		return -1;
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && !chown_error_ok(errno, shift))
		return attr_fail(w, top, name, "owner", errno, err);
	/* A node just made here, never a symlink: fchmodat cannot follow. */
	if (!S_ISLNK(n->mode) && fchmodat(dfd, name, n->mode & 07777, 0) < 0)
		return attr_fail(w, top, name, "mode", errno, err);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return attr_fail(w, top, name, "times", errno, err);
	return 0;
}

/* ---- copy ---- */

/* Hard links: the first copy of a file with more than one link is also
 * linked into a stage directory at the top of the copy, named by a number;
 * the file's other links are made from there (a link needs a name to link
 * from, and the walk keeps no descriptor of the directory the first copy is
 * in).  A file leaves the map and the stage once all its links were made;
 * the stage is removed when the copy ends.  A copy with more than
 * SPLQ_LINKS_MAX files waiting for their other links at once is refused. */
struct copy {
	struct splq_walk w;
	const char *dst; /* path of the top of the copy, for messages */
	long shift;
	int dfd;  /* the directory the current one is copied into */
	int dtop; /* the top of the copy */
	int stage;
	char stage_name[64];
	struct splq_links links;
	unsigned next_id;
};

static int copy_fail(struct copy *c, const char *name, int code, int e, const char *what,
                     struct splq_error *err)
{
	cleanup_free char *p = splq_walk_path(&c->w, c->dst, name);
	if (e)
		return splq_fail_errno(err, code, e, "cannot %s '%s'", what, p);
	return splq_fail(err, code, "cannot %s '%s'", what, p);
}

/* Refuse to copy the source entry name, saying why. */
static int copy_refuse(struct copy *c, const char *name, const char *why, struct splq_error *err)
{
	cleanup_free char *p = splq_walk_path(&c->w, c->w.top, name);
	return splq_fail(err, SPLQ_E_STATE, "cannot copy '%s': %s", p, why);
}

static int stage_open(struct copy *c, struct splq_error *err)
{
	for (int i = 0; c->stage < 0; i++) {
		snprintf(c->stage_name, sizeof(c->stage_name), ".splq-links.%ld.%d", (long)getpid(),
		         i);
		if (mkdirat(c->dtop, c->stage_name, 0700) < 0) {
			if (errno == EEXIST && i < 100)
				continue;
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot create a directory in '%s'", c->dst);
		}
		c->stage = openat(c->dtop, c->stage_name, SPLQ_DIR_FLAGS);
		if (c->stage < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot open directory '%s/%s'", c->dst,
			                       c->stage_name);
	}
	return 0;
}

/* An entry at the top of the source of the stage's name: the stage moves. */
static int stage_move(struct copy *c, struct splq_error *err)
{
	char old[sizeof(c->stage_name)];

	memcpy(old, c->stage_name, sizeof(old));
	for (int i = 0; i < 100; i++) {
		snprintf(c->stage_name, sizeof(c->stage_name), ".splq-links.%ld.m%d",
		         (long)getpid(), i);
		if (renameat2(c->dtop, old, c->dtop, c->stage_name, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot rename '%s/%s'", c->dst, old);
}

static void stage_remove(struct copy *c)
{
	char id[16];

	if (c->stage < 0)
		return;
	for (size_t i = 0; i < c->links.cap; i++)
		if (c->links.v[i].left) {
			snprintf(id, sizeof(id), "%x", c->links.v[i].id);
			unlinkat(c->stage, id, 0);
		}
	splq_links_free(&c->links);
	close(c->stage);
	c->stage = -1;
	unlinkat(c->dtop, c->stage_name, AT_REMOVEDIR);
}

/* A first copy made at c->dfd/name of a file with more links.  A copy
 * whose map is full is refused: copying the other links as files of their
 * own would let a qube fill the host's disk with one file. */
static int stage_add(struct copy *c, const char *name, const struct stat *st,
                     struct splq_error *err)
{
	char id[16];

	if (st->st_nlink < 2)
		return 0;
	if (c->links.n >= SPLQ_LINKS_MAX)
		return copy_refuse(c, name, "too many files with hard links", err);
	if (stage_open(c, err) < 0)
		return -1;
	snprintf(id, sizeof(id), "%x", c->next_id);
	if (linkat(c->dfd, name, c->stage, id, 0) < 0)
		return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "link", err);
	splq_links_add(&c->links, st->st_dev, st->st_ino, st->st_nlink - 1, c->next_id++);
	return 0;
}

/* Another link of a file copied before: 0 made, 1 not (copy it again). */
static int link_again(struct copy *c, struct splq_link *l, const char *name, struct splq_error *err)
{
	bool full = false;
	char id[16];

	snprintf(id, sizeof(id), "%x", l->id);
	if (linkat(c->stage, id, c->dfd, name, 0) < 0) {
		full = true;
		if (errno != EMLINK)
			return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "create link", err);
		/* as many links as the file system allows: the links to come
		 * are made from a new copy */
		l->left = 1;
	}
	if (--l->left == 0) {
		unlinkat(c->stage, id, 0);
		splq_links_drop(&c->links, l);
	}
	return full;
}

/* size bytes of in to out, holes kept (splq_copy_data). */
static int copy_data(struct copy *c, int in, int out, off_t size, const char *name,
                     struct splq_error *err)
{
	int r = splq_copy_data(in, out, size);
	if (r < 0)
		return copy_fail(c, name, SPLQ_E_INTERNAL, -r, "copy to", err);
	return 0; /* 1: the source got shorter meanwhile, and so is the copy */
}

/* Remove what is at c->dfd/name (not a directory with entries) so that a
 * copy can take its place. */
static int clear_slot(struct copy *c, const char *name, struct splq_error *err)
{
	struct stat st;

	if (fstatat(c->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (unlinkat(c->dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
		return copy_fail(c, name, SPLQ_E_STATE, errno, "replace", err);
	return 0;
}

static int copy_file(struct copy *c, const char *name, const struct stat *listed,
                     struct splq_error *err)
{
	cleanup_close int in = openat(c->w.fd, name, SPLQ_OPEN_FLAGS);
	cleanup_close int out = -1;
	struct splq_node n;
	struct stat st;

	if (in < 0) {
		/* a link, socket or leased file now: it changed */
		if (errno == ELOOP || errno == ENXIO || errno == ENOENT || errno == EWOULDBLOCK)
			return 1;
		return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "open the source of", err);
	}
	if (fstat(in, &st) < 0)
		return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "stat the source of", err);
	if (!S_ISREG(st.st_mode) || st.st_dev != listed->st_dev || st.st_ino != listed->st_ino)
		return 1; /* never read what was not listed (a fifo, a device) */
	out = openat(c->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "create", err);
	splq_node_of(&n, &st);
	if (copy_data(c, in, out, st.st_size, name, err) < 0 ||
	    set_attrs(out, &n, c->shift, &c->w, c->dst, name, err) < 0)
		return -1;
	return stage_add(c, name, &st, err);
}

static int copy_node(struct copy *c, const char *name, const struct stat *st,
                     struct splq_error *err)
{
	struct splq_node n;

	splq_node_of(&n, st);
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t len = readlinkat(c->w.fd, name, target, sizeof(target));

		if (len < 0 && (errno == EINVAL || errno == ENOENT))
			return 1; /* no longer a link */
		if (len < 0 || (size_t)len >= sizeof(target))
			return copy_fail(c, name, SPLQ_E_INTERNAL, len < 0 ? errno : ENAMETOOLONG,
			                 "read the source link of", err);
		target[len] = '\0';
		if (symlinkat(target, c->dfd, name) < 0)
			return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "create symlink", err);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode) ||
	           S_ISSOCK(st->st_mode)) {
		/* made anew, never opened */
		if (mknodat(c->dfd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
			return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "create", err);
	} else {
		return copy_refuse(c, name, "a file of unknown type", err);
	}
	if (set_attrs_at(c->dfd, &n, c->shift, &c->w, c->dst, name, err) < 0)
		return -1;
	return stage_add(c, name, st, err);
}

/* Into the directory name (listed as st): made in the copy, and both walks
 * go down into it. */
static int copy_dir(struct copy *c, const char *name, const struct stat *st, struct splq_error *err)
{
	struct stat dst;
	int fd, r;

	if (mkdirat(c->dfd, name, 0700) < 0) {
		if (errno != EEXIST)
			return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "create directory", err);
		if (fstatat(c->dfd, name, &dst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(dst.st_mode)) {
			if (clear_slot(c, name, err) < 0)
				return -1;
			if (mkdirat(c->dfd, name, 0700) < 0)
				return copy_fail(c, name, SPLQ_E_INTERNAL, errno,
				                 "create directory", err);
		}
	}
	fd = openat(c->dfd, name, SPLQ_DIR_FLAGS);
	if (fd < 0)
		return copy_fail(c, name, SPLQ_E_INTERNAL, errno, "open directory", err);
	if (fstat(fd, &dst) < 0) {
		int e = errno;

		close(fd);
		return copy_fail(c, name, SPLQ_E_INTERNAL, e, "open directory", err);
	}
	r = splq_walk_enter(&c->w, name, st, err);
	if (r != 0) {
		close(fd);
		return r;
	}
	c->w.lv[c->w.depth - 1].ddev = dst.st_dev;
	c->w.lv[c->w.depth - 1].dino = dst.st_ino;
	close(c->dfd);
	c->dfd = fd;
	return 0;
}

/* One entry of the current directory; 1 when it changed since it was listed. */
static int copy_one(struct copy *c, const char *name, const struct stat *st, struct splq_error *err)
{
	struct splq_link *l;

	if (c->w.depth == 1 && c->stage >= 0 && strcmp(name, c->stage_name) == 0 &&
	    stage_move(c, err) < 0)
		return -1;
	if (S_ISDIR(st->st_mode))
		return copy_dir(c, name, st, err);
	if (clear_slot(c, name, err) < 0)
		return -1;
	if (st->st_nlink > 1 && (l = splq_links_find(&c->links, st->st_dev, st->st_ino))) {
		int r = link_again(c, l, name, err);
		if (r <= 0)
			return r;
	}
	if (S_ISREG(st->st_mode))
		return copy_file(c, name, st, err);
	return copy_node(c, name, st, err);
}

/* Back up one level in the copy, checking it is the directory went down from. */
static int copy_up(struct copy *c, struct splq_error *err)
{
	const struct splq_level *parent = &c->w.lv[c->w.depth - 1];
	int fd = openat(c->dfd, "..", SPLQ_DIR_FLAGS);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != parent->ddev ||
	    st.st_ino != parent->dino) {
		if (fd >= 0)
			close(fd);
		return splq_fail(err, SPLQ_E_STATE, "cannot copy to '%s': it was moved meanwhile",
		                 c->dst);
	}
	close(c->dfd);
	c->dfd = fd;
	return 0;
}

static int copy_walk(struct copy *c, struct splq_error *err)
{
	struct splq_walk_ev ev;

	for (;;) {
		int e = splq_walk_next(&c->w, &ev, err);

		if (e < 0)
			return -1;
		if (e == SPLQ_WALK_LEAVE) {
			const char *name = c->w.depth ? ev.left->name : NULL;

			if (c->w.depth == 0)
				stage_remove(c);
			if (set_attrs(c->dfd, &ev.left->node, c->shift, &c->w, c->dst, name, err) <
			    0)
				return -1;
			if (c->w.depth == 0)
				return 0;
			if (copy_up(c, err) < 0)
				return -1;
			continue;
		}
		for (int tries = 0;; tries++) {
			if (ev.stat_errno)
				return copy_fail(c, ev.name, SPLQ_E_INTERNAL, ev.stat_errno,
				                 "stat the source of", err);
			int r = copy_one(c, ev.name, &ev.st, err);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
			if (tries == SPLQ_WALK_TRIES)
				return copy_refuse(c, ev.name, "it keeps changing while it is read",
				                   err);
			if (fstatat(c->w.fd, ev.name, &ev.st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					break; /* gone */
				ev.stat_errno = errno;
			}
		}
	}
}

int splq_copy_tree(const char *src, const char *dst, long shift, struct splq_error *err)
{
	struct copy c = {.dst = dst, .shift = shift, .dfd = -1, .dtop = -1, .stage = -1};
	struct stat st, dst_st;
	int sfd, r;

	/* the top is the host's path: it may be a symlink */
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
		                       errno, "cannot open directory '%s'", src);
	if (fstat(sfd, &st) < 0) {
		close(sfd);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot stat '%s'", src);
	}
	splq_walk_init(&c.w, src);
	splq_walk_start(&c.w, sfd, &st);
	if (mkdir(dst, 0700) < 0 && errno != EEXIST) {
		r = splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot create directory '%s'",
		                    dst);
		goto out;
	}
	c.dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c.dfd < 0 || fstat(c.dfd, &dst_st) < 0) {
		r = splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open directory '%s'", dst);
		goto out;
	}
	c.w.lv[0].ddev = dst_st.st_dev;
	c.w.lv[0].dino = dst_st.st_ino;
	c.dtop = dup(c.dfd);
	if (c.dtop < 0) {
		r = splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open directory '%s'", dst);
		goto out;
	}
	r = copy_walk(&c, err);
out:
	stage_remove(&c);
	splq_links_free(&c.links);
	splq_walk_free(&c.w);
	if (c.dfd >= 0)
		close(c.dfd);
	if (c.dtop >= 0)
		close(c.dtop);
	return r;
}
