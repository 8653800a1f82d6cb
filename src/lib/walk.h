/* splq: the walk under tree.c: a directory tree read entry by entry in a
 * constant number of descriptors, whatever its depth; and a map of files
 * with more than one hard link.  Nothing here prints.
 *
 * How a walk stays within its descriptors: it holds one open directory
 * (where it is) and, per level, a small record in a heap array: the
 * directory's name, its device and inode as listed, and where reading it
 * goes on after a subdirectory.  Going down opens the entry relative to the
 * current directory (O_NOFOLLOW | O_DIRECTORY) and checks with fstat that
 * it is the directory that was listed; going back up opens ".." of the
 * current directory and checks that it is the device and inode recorded
 * for the parent (if a qube moved a directory meanwhile the walk stops with
 * an error instead of going astray), then seeks the parent to the offset
 * recorded there and reads on.  There is no recursion: the C stack does
 * not grow with the depth of a tree, the heap grows by one record (some 80
 * bytes and the name) per level.
 *
 * Entries are read with getdents64: a directory offset (d_off) is what
 * lseek takes back on a new descriptor of the same directory. */
#ifndef SPLQ_WALK_H
#define SPLQ_WALK_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

/* Flags for opening anything in a tree: never follow a link, never wait
 * for a fifo's writer, never take a terminal, never leak to a child. */
#define SPLQ_OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
#define SPLQ_DIR_FLAGS  (SPLQ_OPEN_FLAGS | O_DIRECTORY)

/* What a walk keeps of an inode. */
struct splq_node {
	dev_t dev;
	ino_t ino;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atim, mtim;
};

void splq_node_of(struct splq_node *n, const struct stat *st);
/* st is n: same device, inode and file type. */
bool splq_same_inode(const struct stat *st, const struct splq_node *n);

/* One directory on the way from the top of a walk to where it is. */
struct splq_level {
	char *name;            /* in its parent; NULL for the top */
	struct splq_node node; /* as listed */
	off_t off;             /* where reading it goes on after a subdirectory */
	dev_t ddev;            /* free for the walk's user (copy: where it goes) */
	ino_t dino;
	bool progress; /* free for the walk's user (rm) */
	bool failed;
};

struct splq_walk {
	const char *top; /* the top's path, for messages */
	struct splq_level *lv;
	size_t depth; /* lv[depth - 1] is where the walk is */
	size_t cap;
	int fd; /* that directory */
	char *buf;
	size_t len, pos;
	off_t next_off; /* the offset after the entry last handed out */
};

enum { SPLQ_WALK_ENTRY = 1, SPLQ_WALK_LEAVE = 2 };

/* What splq_walk_next hands out. */
struct splq_walk_ev {
	const char *name;        /* ENTRY: an entry of w->fd, valid until the next call */
	struct stat st;          /* its lstat */
	int stat_errno;          /* not 0: the lstat failed with it */
	struct splq_level *left; /* LEAVE: the directory done; w->fd is its parent */
};

void splq_walk_init(struct splq_walk *w, const char *top);
void splq_walk_free(struct splq_walk *w);
/* Begin (or begin again) at the directory open at fd (taken), which is st. */
void splq_walk_start(struct splq_walk *w, int fd, const struct stat *st);
/* SPLQ_WALK_ENTRY (an entry of the current directory but . and .., with
 * its lstat; entries gone since they were listed are passed over),
 * SPLQ_WALK_LEAVE (every entry of a directory was handed out and the walk
 * is back in its parent; after the top's, w->depth is 0 and the walk is
 * over), or -1. */
int splq_walk_next(struct splq_walk *w, struct splq_walk_ev *ev, struct splq_error *err);
/* Go down into the entry name of the current directory, listed as st.
 * 1 (nothing done) when it is not, or no longer, that directory. */
int splq_walk_enter(struct splq_walk *w, const char *name, const struct stat *st,
                    struct splq_error *err);
/* For a message: top, the names of the levels below the top, and name (if
 * not NULL), joined by '/'; a long path keeps its head and its tail. */
char *splq_walk_path(const struct splq_walk *w, const char *top, const char *name);

/* n's owner moved by shift into *uid, *gid; -1 (err filled, naming
 * top/.../name) when that is out of range. */
int splq_walk_owner(const struct splq_node *n, long shift, const struct splq_walk *w,
                    const char *top, const char *name, uid_t *uid, gid_t *gid,
                    struct splq_error *err);

/* How often an entry that changed between its listing and its opening is
 * looked at again before a walk gives up on it. */
#define SPLQ_WALK_TRIES 4

/* Files with more than one link, by (dev, ino).  A file is dropped once all
 * its links were seen; the map holds at most SPLQ_LINKS_MAX files at a time
 * (16 MiB), splq_links_add says false past that. */
#define SPLQ_LINKS_MAX (1u << 18)

struct splq_link {
	dev_t dev;
	ino_t ino;
	nlink_t left; /* links still to be seen; 0: a free slot */
	unsigned id;  /* the user's */
};

struct splq_links {
	struct splq_link *v;
	size_t cap, n; /* cap: a power of two */
};

struct splq_link *splq_links_find(struct splq_links *m, dev_t dev, ino_t ino);
bool splq_links_add(struct splq_links *m, dev_t dev, ino_t ino, nlink_t left, unsigned id);
void splq_links_drop(struct splq_links *m, struct splq_link *l);
void splq_links_free(struct splq_links *m);

#endif
