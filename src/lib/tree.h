/* splq: walks over directory trees: copy, remove, change owners.  The
 * trees are often a qube's volumes, written by the qube, so nothing in them
 * is trusted: links are never followed, every entry is checked to be what
 * was listed before it is read, fifos, sockets and devices are never
 * opened, and a walk holds a few descriptors whatever the depth of a tree
 * (walk.h says how).  Nothing here prints. */
#ifndef SPLQ_TREE_H
#define SPLQ_TREE_H

#include "error.h"

/* rm -rf that never follows symlinks and never crosses into another mount
 * (another st_dev or a mount root: a bind mount); a missing path is not an
 * error.  It goes on past what it cannot remove: -1 then, err naming the
 * first thing left and how many more there are. */
int splq_rm_rf(const char *path, struct splq_error *err);
/* The same, with SPLQ_RM_SECURE: the data of every regular file is
 * overwritten with zeros and synced before it is unlinked (not a file
 * with other hard links, whose data they still name).  On copy-on-write
 * file systems, and on flash, old blocks may survive (README). */
enum { SPLQ_RM_SECURE = 1 };
int splq_rm_tree(const char *path, unsigned flags, struct splq_error *err);
/* Copy a directory tree (into dst, made if missing) with modes, owners,
 * times and symlinks (as links); fifos, sockets and device nodes are made
 * anew; files keep their holes (a clone of their extents where the file
 * system can) and hard links stay links.  A file is copied up to the size
 * it had when it was opened.  An entry that keeps changing while it is
 * read is refused (SPLQ_E_STATE).  If shift is not 0, every uid and gid is
 * moved by it (for volumes owned by a qube's uid range).  On failure, what
 * was copied stays: the caller removes dst. */
int splq_copy_tree(const char *src, const char *dst, long shift, struct splq_error *err);
/* chown -R by a shift of uids and gids: links are changed themselves,
 * never their targets; a file with many links is changed once; set-id bits
 * are kept.  Stops at another mount. */
int splq_shift_tree(const char *path, long shift, struct splq_error *err);

#endif
