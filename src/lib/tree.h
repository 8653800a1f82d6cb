/* splq: walks over directory trees: copy, remove, change owners.  The
 * trees are often a qube's volumes, written by the qube: nothing in them is
 * trusted.  Nothing here prints. */
#ifndef SPLQ_TREE_H
#define SPLQ_TREE_H

#include "error.h"

/* rm -rf that never follows symlinks and never crosses into another
 * mount; a missing path is not an error. */
int splq_rm_rf(const char *path, struct splq_error *err);
/* Copy a directory tree with modes, owners, times and symlinks; device
 * nodes and fifos are recreated.  If shift is not 0, every uid and gid is
 * moved by it (for volumes owned by a qube's uid range). */
int splq_copy_tree(const char *src, const char *dst, long shift, struct splq_error *err);
/* chown -R by a shift of uids and gids (lchown, no symlink following). */
int splq_shift_tree(const char *path, long shift, struct splq_error *err);

#endif
