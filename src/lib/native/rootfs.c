/* splq native: a qube's root file system (see rootfs.h). */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util.h"

static int do_mount(const char *src, const char *target, const char *type, unsigned long flags,
                    const char *data, struct splq_error *err)
{
	if (mount(src, target, type, flags, data) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mount %s on %s",
		                       type ? type : src, target);
	return 0;
}

/* Attach src at target, idmapped through userns_fd. */
static int idmapped_bind(const char *src, const char *target, int userns_fd, bool ro,
                         bool recursive, struct splq_error *err)
{
	unsigned tflags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	cleanup_close int fd = open_tree(AT_FDCWD, src, tflags);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open_tree %s", src);
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
	                (ro ? MOUNT_ATTR_RDONLY : 0),
	    .userns_fd = (unsigned long long)userns_fd,
	};
	if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
	                  sizeof(attr)) < 0) {
		int e = errno;
		return splq_fail_errno(err, e == EINVAL ? SPLQ_E_UNSUPPORTED : SPLQ_E_INTERNAL, e,
		                       "idmapped mount of %s (the file system must support "
		                       "idmapped mounts)",
		                       src);
	}
	if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "move_mount %s to %s", src,
		                       target);
	return 0;
}

static char *at(const char *stage, const char *rel)
{
	return splq_strdup_printf("%s/%s", stage, rel);
}

/* A mount point under stage: a directory, made if missing. */
static int mountpoint(const char *path, struct splq_error *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", path);
	return 0;
}

/* /dev: a small tmpfs with the six character devices a program expects,
 * made here by host root (the qube's root may not make device nodes: that
 * takes CAP_MKNOD on the host), a pts instance and shm of its own. */
static int mount_dev(const char *stage, long base, struct splq_error *err)
{
	static const struct {
		const char *name;
		unsigned major, minor;
	} nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
	             {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	cleanup_free char *dev = at(stage, "dev");
	cleanup_free char *opts =
	    splq_strdup_printf("mode=755,size=64k,uid=%ld,gid=%ld", base, base);
	if (mountpoint(dev, err) < 0 ||
	    do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, opts, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		cleanup_free char *node = splq_strdup_printf("%s/%s", dev, nodes[i].name);
		if (mknod(node, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 ||
		    chmod(node, 0666) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mknod %s", node);
	}
	cleanup_free char *pts = splq_strdup_printf("%s/pts", dev);
	cleanup_free char *ptsopts =
	    splq_strdup_printf("newinstance,ptmxmode=0666,mode=620,gid=%ld", base + 5);
	cleanup_free char *shm = splq_strdup_printf("%s/shm", dev);
	cleanup_free char *shmopts = splq_strdup_printf("mode=1777,uid=%ld,gid=%ld", base, base);
	if (mountpoint(pts, err) < 0 ||
	    do_mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, ptsopts, err) < 0 ||
	    mountpoint(shm, err) < 0 ||
	    do_mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV, shmopts, err) < 0)
		return -1;
	static const char *const links[][2] = {{"pts/ptmx", "ptmx"},
	                                       {"/proc/self/fd", "fd"},
	                                       {"/proc/self/fd/0", "stdin"},
	                                       {"/proc/self/fd/1", "stdout"},
	                                       {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cleanup_free char *l = splq_strdup_printf("%s/%s", dev, links[i][1]);
		if (symlink(links[i][0], l) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "symlink %s", l);
	}
	return 0;
}

int splq_rootfs_mount(const struct splq_rootfs *r, struct splq_error *err)
{
	if (r->root_rw) {
		if (idmapped_bind(r->root_src, r->stage, r->userns_fd, false, false, err) < 0)
			return -1;
	} else {
		cleanup_free char *opts = splq_strdup_printf("lowerdir=%s,upperdir=%s,workdir=%s",
		                                             r->lower, r->upper, r->work);
		if (idmapped_bind(r->root_src, r->lower, r->userns_fd, true, false, err) < 0 ||
		    do_mount("overlay", r->stage, "overlay", MS_NOSUID | MS_NODEV, opts, err) < 0)
			return -1;
	}

	if (r->host_usr) {
		cleanup_free char *usr = at(r->stage, "usr");
		if (mountpoint(usr, err) < 0 ||
		    idmapped_bind("/usr", usr, r->userns_fd, true, true, err) < 0)
			return -1;
	}

	cleanup_free char *home = at(r->stage, "home");
	if (r->private_src) {
		if (mountpoint(home, err) < 0 ||
		    do_mount(r->private_src, home, NULL, MS_BIND | MS_NOSUID | MS_NODEV, NULL,
		             err) < 0)
			return -1;
	}

	if (mount_dev(r->stage, r->base, err) < 0)
		return -1;

	/* /tmp and /run start empty at every start: an overlay's are already
	 * in its volatile layer; a root of its own (TemplateVM, StandaloneVM)
	 * gets a tmpfs for each. */
	if (r->root_rw) {
		cleanup_free char *tmpopts =
		    splq_strdup_printf("mode=1777,uid=%ld,gid=%ld", r->base, r->base);
		cleanup_free char *runopts =
		    splq_strdup_printf("mode=755,uid=%ld,gid=%ld", r->base, r->base);
		cleanup_free char *tmp = at(r->stage, "tmp");
		cleanup_free char *run = at(r->stage, "run");
		if (mountpoint(tmp, err) < 0 ||
		    do_mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, tmpopts, err) < 0 ||
		    mountpoint(run, err) < 0 ||
		    do_mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV, runopts, err) < 0)
			return -1;
	}
	cleanup_free char *proc = at(r->stage, "proc");
	if (mountpoint(proc, err) < 0 ||
	    do_mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	return 0;
}

int splq_rootfs_pivot(const char *stage, struct splq_error *err)
{
	if (chdir(stage) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "chdir %s", stage);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pivot_root %s", stage);
	if (umount2(".", MNT_DETACH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "detach the host's root");
	if (chdir("/") < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "chdir /");
	return 0;
}
