/* splq native: ext4 volume images (see image.h). */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif
#define EXT4_SUPER_MAGIC 0xEF53

/* Run the e2fsprogs program prog with argv (no shell, no environment but
 * PATH); its output goes to /dev/null.  Exit codes up to ok count as
 * success (e2fsck: 1 means it corrected something). */
static int run_e2fs(const char *prog, char *const argv[], int ok, const char *what,
                    struct splq_error *err)
{
	const char *const dirs[] = {"/usr/sbin", "/sbin"};
	char path[64] = "";
	for (size_t i = 0; i < 2 && !*path; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], prog);
		if (access(path, X_OK) < 0)
			*path = 0;
	}
	if (!*path)
		return splq_fail(err, SPLQ_E_UNSUPPORTED,
		                 "%s is missing (install e2fsprogs) for %s", prog, what);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		dup2(pfd[1], 2);
		syscall(SYS_close_range, 3, ~0U, 0);
		char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		execve(path, argv, env);
		_exit(127);
	}
	close(pfd[1]);
	/* what it says on stderr: the last line names what went wrong */
	char said[1024];
	size_t len = 0;
	for (;;) {
		char buf[512];
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (len == sizeof(said) - 1)
				memmove(said, said + 512, len -= 512);
			said[len++] = buf[i];
		}
	}
	close(pfd[0]);
	said[len] = 0;
	while (len && (said[len - 1] == '\n' || said[len - 1] == ' '))
		said[--len] = 0;
	char *last = strrchr(said, '\n');
	last = last ? last + 1 : said;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "wait for %s", prog);
	if (!WIFEXITED(st) || WEXITSTATUS(st) > ok) {
		bool full = strstr(said, "No space left") || strstr(said, "Disk quota exceeded");
		return splq_fail(err, full ? SPLQ_E_NOSPACE : SPLQ_E_INTERNAL,
		                 "%s failed (status %d) on %s%s%s", prog,
		                 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), what,
		                 *last ? ": " : "", last);
	}
	return 0;
}

/* mkfs.ext4 of size bytes at path (a new file) holding the tree at dir. */
static int mkfs_from(const char *path, unsigned long long size, const char *dir,
                     struct splq_error *err)
{
	cleanup_free char *blocks = splq_strdup_printf("%llu", size / SPLQ_IMAGE_BLOCK);
	{
		cleanup_close int fd =
		    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "create %s", path);
		if (ftruncate(fd, (off_t)size) < 0) {
			splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "size %s", path);
			unlink(path);
			return -1;
		}
	}
	/* -m 0: no blocks reserved for a root that has no capability over
	 * them anyway; lazy init: the inode tables and journal are not
	 * written now, so the image stays sparse. */
	char *argv[] = {"mkfs.ext4", "-q",        "-F",
	                "-b",        "4096",      "-m",
	                "0",         "-E",        "lazy_itable_init=1,lazy_journal_init=1",
	                "-d",        (char *)dir, (char *)path,
	                blocks,      NULL};
	if (run_e2fs("mkfs.ext4", argv, 0, path, err) < 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

int splq_image_make(const char *path, unsigned long long size, struct splq_error *err)
{
	cleanup_free char *seed = splq_strdup_printf("%s.seed", path);
	cleanup_free char *user = splq_strdup_printf("%s/user", seed);
	int r = -1;
	if (mkdir(seed, 0755) < 0 || chmod(seed, 0755) < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", seed);
		goto out;
	}
	if (mkdir(user, 0700) < 0 || chown(user, 1000, 1000) < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", user);
		goto out;
	}
	r = mkfs_from(path, size, seed, err);
out:
	rmdir(user);
	rmdir(seed);
	return r;
}

int splq_image_make_from(const char *path, unsigned long long size, const char *dir,
                         struct splq_error *err)
{
	return mkfs_from(path, size, dir, err);
}

int splq_image_open(const char *path, const char *what, struct splq_error *err)
{
	cleanup_close int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "%s (%s)", what, path);
	struct stat st;
	unsigned long long fs_bytes;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    splq_image_fs_bytes(fd, &fs_bytes, err) < 0 || fs_bytes == 0)
		return splq_fail(err, SPLQ_E_CORRUPT, "%s (%s) is not an ext4 image", what, path);
	/* grown while in use, where the kernel could not grow the file
	 * system with it (image.h): it follows now, before anything uses it */
	if ((unsigned long long)st.st_size / SPLQ_IMAGE_BLOCK * SPLQ_IMAGE_BLOCK > fs_bytes &&
	    splq_image_grow_offline(path, err) < 0)
		return -1;
	return splq_steal_fd(&fd);
}

int splq_image_copy(const char *src, const char *dst, struct splq_error *err)
{
	cleanup_close int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "volume %s", src);
	struct stat st;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return splq_fail(err, SPLQ_E_CORRUPT, "volume %s is not a regular file", src);
	cleanup_close int out =
	    open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "create %s", dst);
	int r = splq_copy_data(in, out, st.st_size);
	if (r >= 0)
		return 0;
	unlink(dst);
	return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "copy %s to %s", src, dst);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int splq_image_fs_bytes(int fd, unsigned long long *bytes, struct splq_error *err)
{
	unsigned char sb[1024];
	*bytes = 0;
	ssize_t n = pread(fd, sb, sizeof(sb), 1024);
	if (n < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "read a volume's superblock");
	if (n != (ssize_t)sizeof(sb) || (sb[0x38] | sb[0x39] << 8) != EXT4_SUPER_MAGIC)
		return 0;
	uint32_t log = le32(sb + 0x18);
	if (log > 6)
		return 0;
	unsigned long long count = le32(sb + 0x4);
	if (le32(sb + 0x60) & 0x80) /* 64bit */
		count |= (unsigned long long)le32(sb + 0x150) << 32;
	*bytes = count << (10 + log);
	return 0;
}

int splq_image_attach(int fd, bool ro, int *nr, struct splq_error *err)
{
	cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return splq_fail_errno(err, SPLQ_E_UNSUPPORTED, errno, "open /dev/loop-control");
	struct loop_config cfg = {.fd = (uint32_t)fd, .block_size = 4096};
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0);
	/* another process may take the free device first: try again */
	for (int tries = 0; tries < 64; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return splq_fail_errno(err, SPLQ_E_UNSUPPORTED, errno,
			                       "find a free loop device");
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		int lfd = open(dev, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0)
			return splq_fail_errno(err, SPLQ_E_UNSUPPORTED, errno, "open %s", dev);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			*nr = n;
			return lfd;
		}
		int e = errno;
		close(lfd);
		if (e != EBUSY)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "attach a volume to %s",
			                       dev);
	}
	return splq_fail(err, SPLQ_E_INTERNAL, "no free loop device (all taken while trying)");
}

int splq_image_mount(int nr, bool ro, const char *what, struct splq_error *err)
{
	cleanup_close int fs = (int)syscall(SYS_fsopen, "ext4", FSOPEN_CLOEXEC);
	if (fs < 0)
		return splq_fail_errno(err, SPLQ_E_UNSUPPORTED, errno, "fsopen ext4");
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", dev, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "errors", "remount-ro", 0) < 0 ||
	    (ro && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0) ||
	    (ro && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "norecovery", NULL, 0) < 0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		char log[256] = "";
		ssize_t n = read(fs, log, sizeof(log) - 1);
		log[n > 0 ? n : 0] = 0;
		if (n > 0 && log[n - 1] == '\n')
			log[n - 1] = 0;
		return splq_fail(err, SPLQ_E_CORRUPT, "cannot mount %s: %s%s%s", what, strerror(e),
		                 *log ? ": " : "", log);
	}
	unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0);
	int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fsmount %s", what);
	return m;
}

int splq_image_grow_offline(const char *path, struct splq_error *err)
{
	/* resize2fs wants a checked file system; -p: repair only what is
	 * safe without asking */
	char *fsck[] = {"e2fsck", "-f", "-p", (char *)path, NULL};
	char *grow[] = {"resize2fs", (char *)path, NULL};
	if (run_e2fs("e2fsck", fsck, 1, path, err) < 0 ||
	    run_e2fs("resize2fs", grow, 0, path, err) < 0)
		return -1;
	return 0;
}

int splq_image_grow_fs(int fs_fd, unsigned long long bytes, const char *what,
                       struct splq_error *err)
{
	struct statfs sf;
	if (fstatfs(fs_fd, &sf) < 0 || sf.f_type != EXT4_SUPER_MAGIC || sf.f_bsize <= 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "%s is not a mounted ext4 file system",
		                 what);
	uint64_t count = bytes / (unsigned long long)sf.f_bsize;
	if (ioctl(fs_fd, EXT4_IOC_RESIZE_FS, &count) < 0) {
		int e = errno;
		if (e == EPERM && prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 0)
			return splq_fail(
			    err, SPLQ_E_UNSUPPORTED,
			    "%s cannot grow while it is in use: online growth of ext4 "
			    "needs CAP_SYS_RESOURCE, which this host does not give splq",
			    what);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "grow the file system of %s", what);
	}
	return 0;
}

int splq_image_grow_live(int image_fd, int nr, int fs_fd, unsigned long long bytes,
                         const char *what, struct splq_error *err)
{
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	cleanup_close int lfd = open(dev, O_RDONLY | O_CLOEXEC);
	struct loop_info64 info;
	struct stat img, ldev, fs;
	if (lfd < 0 || ioctl(lfd, LOOP_GET_STATUS64, &info) < 0 || fstat(image_fd, &img) < 0 ||
	    fstat(lfd, &ldev) < 0 || fstat(fs_fd, &fs) < 0)
		return splq_fail_errno(err, SPLQ_E_STATE, errno, "find the device of %s", what);
	if (info.lo_inode != img.st_ino || info.lo_device != img.st_dev ||
	    fs.st_dev != ldev.st_rdev)
		return splq_fail(err, SPLQ_E_STATE, "%s is not on %s any more", what, dev);
	if (ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "tell %s its new size", dev);
	return splq_image_grow_fs(fs_fd, bytes, what, err);
}
