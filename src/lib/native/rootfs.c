/* splq native: a qube's root file system (see rootfs.h). */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "../util.h"
#include "cgroup_view.h"
#include "image.h"

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

/* A tmpfs of size bytes at target, its top owned by uid:uid with mode. */
static int mount_tmpfs(const char *target, unsigned long long size, const char *mode, long uid,
                       struct splq_error *err)
{
	cleanup_free char *opts =
	    splq_strdup_printf("mode=%s,size=%llu,uid=%ld,gid=%ld", mode, size, uid, uid);
	return do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts, err);
}

static int own_dir(const char *path, mode_t mode, long uid, long gid, struct splq_error *err)
{
	if (mkdir(path, mode) < 0 || chmod(path, mode) < 0 || chown(path, uid, gid) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", path);
	return 0;
}

/* Bind dir (a directory of a nosuid,nodev mount) at target: the bind
 * keeps those flags. */
static int bind_dir(const char *dir, const char *target, struct splq_error *err)
{
	if (mountpoint(target, err) < 0)
		return -1;
	return do_mount(dir, target, NULL, MS_BIND, NULL, err);
}

/* An ext4 image (open as fd) on a loop device of its own, read-write,
 * idmapped to the qube's range, at target.  The loop device's number goes
 * to the file rec (in the runtime folder, the working directory), for a
 * resize while the qube runs. */
static int mount_image(const struct splq_rootfs *r, int fd, const char *target, const char *rec,
                       const char *what, struct splq_error *err)
{
	int nr;
	cleanup_close int loop = splq_image_attach(fd, false, &nr, err);
	if (loop < 0)
		return -1;
	char text[16];
	int len = snprintf(text, sizeof(text), "%d\n", nr);
	cleanup_close int rfd =
	    open(rec, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (rfd < 0 || write(rfd, text, len) != len)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "record the device of %s",
		                       what);
	cleanup_close int mnt = splq_image_mount(nr, false, what, err);
	if (mnt < 0)
		return -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
	                          .userns_fd = (unsigned long long)r->userns_fd};
	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return splq_fail_errno(err, SPLQ_E_UNSUPPORTED, errno, "idmapped mount of %s",
		                       what);
	if (mountpoint(target, err) < 0)
		return -1;
	if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "move_mount %s", what);
	return 0;
}

/* An O_PATH descriptor of rel beneath dirfd, reached through no symlink
 * and no magic link (what the template or the qube made cannot send it
 * elsewhere); a missing directory rel (one component) is made. */
static int beneath(int dirfd, const char *rel, bool dir, struct splq_error *err)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | (dir ? O_DIRECTORY : 0),
	                       .resolve =
	                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOENT && dir && !strchr(rel, '/') &&
	    (mkdirat(dirfd, rel, 0755) == 0 || errno == EEXIST))
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open the mount point /%s",
		                       rel);
	return fd;
}

/* A new file system of type (with options opts: "key=value,flag,...")
 * mounted on the directory target with the mount attributes attr; returns
 * the mount's descriptor.  The new mount API, so that target is the
 * directory opened, never a path. */
static int new_mount(const char *type, const char *opts, unsigned attr, int target,
                     const char *what, struct splq_error *err)
{
	cleanup_close int fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fsopen %s for %s", type, what);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", type, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "name %s for %s", type, what);
	cleanup_free char *copy = splq_xstrdup(opts ? opts : "");
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq)
			*eq = 0;
		if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o,
		             eq ? eq + 1 : NULL, 0) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "option %s of %s for %s", o, type, what);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "make %s for %s", type, what);
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attr);
	if (m < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mount %s for %s", type, what);
	if (move_mount(m, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		close(m);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "attach %s", what);
	}
	return m;
}

#define RO_ATTR (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* /sys/fs/cgroup: the qube's own cgroups (cgroup_view.h), read-only. */
static int mount_cgroups(int sys, const struct splq_cgroup_view *v, struct splq_error *err)
{
	cleanup_close int at = beneath(sys, "fs/cgroup", true, err);
	if (at < 0)
		return -1;
	if (!v->tmpfs) {
		int m =
		    v->n ? new_mount(v->fs[0].type, NULL, RO_ATTR, at, "/sys/fs/cgroup", err) : 0;
		if (m > 0)
			close(m);
		return m < 0 ? -1 : 0;
	}
	cleanup_close int t = new_mount("tmpfs", "mode=755,size=64k", RO_ATTR & ~MOUNT_ATTR_RDONLY,
	                                at, "/sys/fs/cgroup", err);
	if (t < 0)
		return -1;
	for (int i = 0; i < v->n; i++) {
		cleanup_free char *what = splq_strdup_printf("/sys/fs/cgroup/%s", v->fs[i].name);
		if (mkdirat(t, v->fs[i].name, 0755) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", what);
		cleanup_close int dir = beneath(t, v->fs[i].name, true, err);
		int m =
		    dir < 0 ? -1 : new_mount(v->fs[i].type, v->fs[i].opts, RO_ATTR, dir, what, err);
		if (m < 0)
			return -1;
		close(m);
	}
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	if (mount_setattr(t, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "make /sys/fs/cgroup read-only");
	return 0;
}

/* /sys: a sysfs of the qube's network namespace (its /sys/class/net shows
 * the qube's interfaces only), read-only, with the qube's own cgroups at
 * /sys/fs/cgroup; firmware tables hidden under an empty tmpfs, as
 * container runtimes do, and a qube pinned to some CPUs (cpus.h) sees those
 * as the online ones, as sysconf(_SC_NPROCESSORS_ONLN) counts them.  The
 * qube's root cannot remount any of it: the mount namespace is the host's,
 * and the seccomp filter refuses mounts. */
static int mount_sys(const struct splq_rootfs *r, int stage, struct splq_error *err)
{
	/* a root of its own made before /sys was one of its mount points
	 * (volume.c) has none, and host root may not make one in it (an
	 * idmapped mount): then the qube has no /sys, as it had */
	if (faccessat(stage, "sys", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
	    mkdirat(stage, "sys", 0555) < 0 && errno == EOVERFLOW)
		return 0;
	cleanup_close int at = beneath(stage, "sys", true, err);
	if (at < 0)
		return -1;
	cleanup_close int sys = new_mount("sysfs", NULL, RO_ATTR, at, "/sys", err);
	if (sys < 0 || (r->cgroups && mount_cgroups(sys, r->cgroups, err) < 0))
		return -1;
	static const char *const masked[] = {"firmware", "devices/virtual/powercap"};
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		struct splq_error ignored;
		cleanup_close int dir = beneath(sys, masked[i], true, &ignored);
		cleanup_free char *what = splq_strdup_printf("/sys/%s", masked[i]);
		int m =
		    dir < 0 ? 0 : new_mount("tmpfs", "size=4k,mode=555", RO_ATTR, dir, what, err);
		if (m < 0)
			return -1;
		if (m > 0)
			close(m);
	}
	if (!r->cpus_online)
		return 0;
	/* the file lives on the volatile tmpfs, so that the mount names no
	 * host path */
	cleanup_free char *text = splq_strdup_printf("%s\n", r->cpus_online);
	cleanup_close int f = open("volatile/cpus-online",
	                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (f < 0 || write(f, text, strlen(text)) != (ssize_t)strlen(text))
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "write the online CPUs");
	cleanup_close int online = beneath(sys, "devices/system/cpu/online", false, err);
	cleanup_close int src = online < 0 ? -1
	                                   : open_tree(AT_FDCWD, "volatile/cpus-online",
	                                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	struct mount_attr ro = {.attr_set = RO_ATTR};
	if (online < 0)
		return -1;
	if (src < 0 || mount_setattr(src, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
	    move_mount(src, "", online, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "mount /sys/devices/system/cpu/online");
	return 0;
}

/* /run/splq: host root's (nobody in the qube), holding splq's in-qube
 * helpers at lib/, a read-only bind of r->helpers, and later the qrexec
 * socket (splq_rootfs_qrexec). */
static int mount_helpers(const struct splq_rootfs *r, int run, struct splq_error *err)
{
	if (mkdirat(run, "splq", 0755) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir /run/splq");
	cleanup_close int dir = beneath(run, "splq", true, err);
	if (dir < 0)
		return -1;
	if (mkdirat(dir, "lib", 0755) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir /run/splq/lib");
	cleanup_close int lib = beneath(dir, "lib", true, err);
	/* by path: a clone must come from this mount namespace */
	cleanup_close int tree =
	    lib < 0 ? -1 : open_tree(AT_FDCWD, r->helpers, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	struct mount_attr ro = {
	    .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (lib < 0)
		return -1;
	if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
	    move_mount(tree, "", lib, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mount /run/splq/lib");
	return 0;
}

/* /etc/resolv.conf: r->resolv, in a file of the host's under /run/splq
 * (the qube reads it, its root cannot change it).  A root's own link or
 * missing file is replaced in an overlay (its upper layer is thrown away
 * at stop); a root of its own keeps what it has. */
static int mount_resolv(const struct splq_rootfs *r, int stage, int run, struct splq_error *err)
{
	cleanup_close int etc = beneath(stage, "etc", true, err);
	struct stat st;

	if (etc < 0)
		return -1;
	if (fstatat(etc, "resolv.conf", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		if (r->root_rw)
			return 0;
		(void)unlinkat(etc, "resolv.conf", 0);
		int made = openat(etc, "resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		                  0644);
		if (made < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "make /etc/resolv.conf");
		close(made);
	}
	if (mkdirat(run, "splq", 0755) < 0 && errno != EEXIST)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir /run/splq");
	cleanup_close int dir = beneath(run, "splq", true, err);
	if (dir < 0)
		return -1;
	int fd = openat(dir, "resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	                0644);
	if (fd < 0 || splq_write_all(fd, r->resolv, strlen(r->resolv)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "write /run/splq/resolv.conf");
	}
	close(fd);
	cleanup_close int tree = open_tree(dir, "resolv.conf", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	cleanup_close int target = beneath(etc, "resolv.conf", false, err);
	if (target < 0)
		return -1;
	if (tree < 0 ||
	    move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mount /etc/resolv.conf");
	return 0;
}

/* /run: a tmpfs of its own at every start, as container runtimes give,
 * owned by the qube's root. */
static int mount_run(const struct splq_rootfs *r, int stage, struct splq_error *err)
{
	cleanup_close int at = beneath(stage, "run", true, err);
	if (at < 0)
		return -1;
	cleanup_free char *opts =
	    splq_strdup_printf("mode=755,size=%llu,uid=%ld,gid=%ld",
	                       r->run_size ? r->run_size : 16ULL << 20, r->base, r->base);
	/* the new mount's root: the tmpfs, not the directory under it */
	cleanup_close int m =
	    new_mount("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, at, "/run", err);
	if (m < 0)
		return -1;
	if (r->helpers && mount_helpers(r, m, err) < 0)
		return -1;
	return r->resolv ? mount_resolv(r, stage, m, err) : 0;
}

int splq_rootfs_qrexec(const char *stage, struct splq_error *err)
{
	cleanup_free char *path = at(stage, "run/splq");
	cleanup_close int dir = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", path);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/qrexec", dir);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socket");
	/* every user of the qube may call, as in Qubes */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    fchmodat(dir, "qrexec", 0666, 0) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "listen on /run/splq/qrexec");
	}
	return fd;
}

int splq_rootfs_mount(const struct splq_rootfs *r, struct splq_error *err)
{
	/* Everything of the runtime folder is named relative to it, so that
	 * the qube's mountinfo shows no host path. */
	if (chdir(r->rundir) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "chdir %s", r->rundir);
	/* the volatile volume: a tmpfs of its size in this mount namespace,
	 * its pages charged to the qube's memory cgroup */
	if (mkdir("volatile", 0700) < 0 && errno != EEXIST)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s/volatile", r->rundir);
	if (mount_tmpfs("volatile", r->volatile_size, "0700", 0, err) < 0)
		return -1;
	if (r->root_rw) {
		if (mount_image(r, r->root_fd, r->stage, "root.loop", "the root volume", err) < 0)
			return -1;
	} else {
		if (own_dir("volatile/upper", r->upper_mode, r->upper_uid, r->upper_gid, err) < 0 ||
		    own_dir("volatile/work", 0700, 0, 0, err) < 0 || mountpoint("lower", err) < 0 ||
		    idmapped_bind(r->root_src, "lower", r->userns_fd, true, false, err) < 0 ||
		    do_mount("overlay", r->stage, "overlay", MS_NOSUID | MS_NODEV,
		             "lowerdir=lower,upperdir=volatile/upper,workdir=volatile/work",
		             err) < 0)
			return -1;
	}

	if (r->host_usr) {
		cleanup_free char *usr = at(r->stage, "usr");
		if (mountpoint(usr, err) < 0 ||
		    idmapped_bind("/usr", usr, r->userns_fd, true, true, err) < 0)
			return -1;
	}

	cleanup_free char *home = at(r->stage, "home");
	if (r->private_fd >= 0) {
		if (mount_image(r, r->private_fd, home, "private.loop", "the private volume", err) <
		    0)
			return -1;
	} else if (r->private_src) {
		/* what the disposable writes stays in memory of its own: its
		 * dvm's snapshot is never written */
		if (mountpoint("private", err) < 0 ||
		    mount_tmpfs("private", r->private_size, "0700", 0, err) < 0 ||
		    own_dir("private/upper", r->private_mode, r->private_uid, r->private_gid, err) <
		        0 ||
		    own_dir("private/work", 0700, 0, 0, err) < 0 || mountpoint("plower", err) < 0 ||
		    idmapped_bind(r->private_src, "plower", r->userns_fd, true, false, err) < 0 ||
		    mountpoint(home, err) < 0 ||
		    do_mount("overlay", home, "overlay", MS_NOSUID | MS_NODEV,
		             "lowerdir=plower,upperdir=private/upper,workdir=private/work", err) < 0)
			return -1;
	} else {
		/* a disposable's empty private volume */
		cleanup_free char *user = at(home, "user");
		if (mountpoint(home, err) < 0 ||
		    mount_tmpfs(home, r->private_size, "0755", r->base, err) < 0 ||
		    own_dir(user, 0700, r->base + 1000, r->base + 1000, err) < 0)
			return -1;
	}

	if (mount_dev(r->stage, r->base, err) < 0)
		return -1;

	/* /tmp starts empty at every start: an overlay's is already in its
	 * volatile layer; a root of its own (TemplateVM, StandaloneVM) gets it
	 * from the volatile volume.  /run is a tmpfs. */
	if (r->root_rw) {
		cleanup_free char *tmp = at(r->stage, "tmp");
		if (own_dir("volatile/tmp", 01777, r->base, r->base, err) < 0 ||
		    bind_dir("volatile/tmp", tmp, err) < 0)
			return -1;
	}
	cleanup_free char *proc = at(r->stage, "proc");
	if (mountpoint(proc, err) < 0 ||
	    do_mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	cleanup_close int stage = open(r->stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (stage < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", r->stage);
	return mount_run(r, stage, err) < 0 || mount_sys(r, stage, err) < 0 ? -1 : 0;
}

/* A directory everyone may write to, sticky: made if missing, its mode
 * set if it has another; a symlink is left alone. */
static void sticky_dir(const char *path)
{
	if (mkdir(path, 01777) < 0 && errno != EEXIST)
		return;
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) != 01777)
		(void)!fchmod(fd, 01777);
}

void splq_rootfs_settle(void)
{
	sticky_dir("/tmp");
	sticky_dir("/var/tmp");
	/* EEXIST: the template has one (whatever it is) */
	(void)!symlink("../proc/self/mounts", "/etc/mtab");
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
