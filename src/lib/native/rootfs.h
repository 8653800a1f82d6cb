/* splq native: a qube's root file system, built inside its own mount
 * namespace by its first process (still host root, already pid 1 of the
 * qube's pid namespace), then entered with pivot_root.
 *
 *   /        overlay: the template's root (its generation's read-only
 *            host-side mount, rootmnt.h, idmapped to the qube's range)
 *            under an upper layer on the volatile volume; or, for a
 *            TemplateVM or StandaloneVM, its own root: its ext4 image on a
 *            loop device of its own, idmapped, read-write
 *   /usr     the host's /usr, idmapped, read-only (templates "--base host")
 *   /home    the private volume: its ext4 image on a loop device, idmapped
 *            (image.h); a disposable's: a tmpfs of the private size, or
 *            an overlay of its dvm's snapshot (its read-only host-side
 *            mount, rootmnt.h, idmapped) under an upper layer on a tmpfs
 *            of the private size
 *   /dev     tmpfs with null zero full random urandom tty, pts, shm
 *   /proc    the qube's own;  /tmp: in the overlay, or for a root of its
 *            own a directory of the volatile volume
 *   /run     a tmpfs of a fifth of the qube's memory (at most its volatile
 *            size), mode 0755, the qube's root's; in it /run/splq, host
 *            root's: splq's in-qube helpers at lib/ (bin/ on the PATH,
 *            rpc/ its own qrexec services), read-only, and the qube's
 *            qrexec socket (qrexec/wire.h)
 *   /sys     a sysfs of the qube's network namespace, read-only, with
 *            /sys/fs/cgroup the qube's own cgroups, read-only
 *            (splq_cgroup_view), firmware hidden and, for a qube pinned to
 *            some CPUs, those as /sys/devices/system/cpu/online
 * The volatile volume is a tmpfs of the volatile size mounted in the
 * qube's mount namespace only (never on the host's disk); its pages are
 * charged to the qube's memory cgroup.  Every writable mount is nosuid and
 * nodev; the overlay's options name its layers relative to the runtime
 * folder, so that nothing in the qube's mountinfo names a host path.
 *
 * What programs expect beyond the mounts (/tmp and /var/tmp mode 1777,
 * /etc/mtab) pid 1 makes after it became the qube's root, in the qube's
 * tree, with no more power than the qube's root has: splq_rootfs_settle. */
#ifndef SPLQ_NATIVE_ROOTFS_H
#define SPLQ_NATIVE_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "../error.h"
#include "cgroup_view.h"

struct splq_rootfs {
	const char *stage;                /* empty directory that becomes / */
	const char *rundir;               /* the runtime folder, holding the empty directories
	                                   * volatile/, lower/, private/ and plower/
	                                   * (named relative to it) */
	const char *root_src;             /* the template root's read-only mount */
	bool root_rw;                     /* own root: no overlay */
	int root_fd;                      /* own root: its ext4 image */
	unsigned long long volatile_size; /* bytes of the volatile tmpfs */
	mode_t upper_mode;                /* the overlay's upper directory: */
	uid_t upper_uid;                  /* the root's top, in the qube's range */
	gid_t upper_gid;
	bool host_usr;                   /* bind the host's /usr */
	int private_fd;                  /* the private volume's ext4 image, or -1:
	                                  * a disposable's (private_src, or an
	                                  * empty tmpfs) */
	const char *private_src;         /* a disposable's: its dvm's snapshot's
	                                  * read-only mount, or NULL */
	mode_t private_mode;             /* its upper directory: the snapshot's */
	uid_t private_uid;               /* top, in the qube's range */
	gid_t private_gid;
	unsigned long long private_size; /* bytes of a tmpfs private volume, or of
	                                  * the snapshot's upper layer */
	int userns_fd;                   /* idmap: template ids -> qube range */
	long base;                       /* host id of root in the qube */

	/* what the qube sees of the host */
	const struct splq_cgroup_view *cgroups; /* /sys/fs/cgroup; NULL: nothing */
	const char *cpus_online;                /* a CPU list (cpus.h); NULL: the host's */
	unsigned long long run_size;            /* bytes of the /run tmpfs (0: 16 MiB) */
	const char *helpers;                    /* splq's in-qube helpers (a directory), or NULL */
	const char *resolv; /* the text of /etc/resolv.conf, or NULL: the root's own */
};

/* Mount everything under r->stage, including /proc (the caller must be
 * in the qube's new pid namespace). */
int splq_rootfs_mount(const struct splq_rootfs *r, struct splq_error *err);
/* The qube's qrexec socket, bound at stage's /run/splq/qrexec (mode
 * 0666) and listening, non-blocking: its descriptor. */
int splq_rootfs_qrexec(const char *stage, struct splq_error *err);
/* Make stage the root of the mount namespace and forget the old one. */
int splq_rootfs_pivot(const char *stage, struct splq_error *err);
/* As the qube's root, inside, before anything of the qube runs: /tmp and
 * /var/tmp are sticky directories everyone may write to, and /etc/mtab is
 * a symlink to ../proc/self/mounts unless the root has one.  An overlay's
 * changes land in its volatile layer; a root of its own keeps them.  Best
 * effort: a root that refuses is left as it is. */
void splq_rootfs_settle(void);

#endif
