/* splq native: a qube's root file system, built inside its own mount
 * namespace by its first process (still host root, already pid 1 of the
 * qube's pid namespace), then entered with pivot_root.
 *
 *   /        overlay: the template's root (idmapped to the qube's range,
 *            read-only) under a volatile upper layer; or, for a TemplateVM
 *            or StandaloneVM, its own root, idmapped read-write
 *   /usr     the host's /usr, idmapped, read-only (templates "--base host")
 *   /home    the private volume (owned by the qube's range)
 *   /dev     tmpfs with null zero full random urandom tty, pts, shm
 *   /proc    the qube's own;  /tmp, /run: tmpfs */
#ifndef SPLQ_NATIVE_ROOTFS_H
#define SPLQ_NATIVE_ROOTFS_H

#include <stdbool.h>

#include "../error.h"

struct splq_rootfs {
	const char *stage;        /* empty directory that becomes / */
	const char *root_src;     /* the root volume on disk */
	bool root_rw;             /* own root: no overlay */
	const char *lower;        /* empty directory to attach the idmapped root at */
	const char *upper, *work; /* volatile overlay directories */
	bool host_usr;            /* bind the host's /usr */
	const char *private_src;  /* bound at /home (NULL: none) */
	int userns_fd;            /* idmap: template ids -> qube range */
	long base;                /* host id of root in the qube */
};

/* Mount everything under r->stage, including /proc (the caller must be
 * in the qube's new pid namespace). */
int splq_rootfs_mount(const struct splq_rootfs *r, struct splq_error *err);
/* Make stage the root of the mount namespace and forget the old one. */
int splq_rootfs_pivot(const char *stage, struct splq_error *err);

#endif
