/* splq native: read-only mounts of template root generations (see
 * rootmnt.h). */
#include "rootmnt.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util.h"
#include "image.h"

char *splq_rootmnt_path(const char *run, const char *kind, const char *qube, const char *gen)
{
	return splq_strdup_printf("%s/%s/%s/%s", run, kind, qube, gen);
}

bool splq_rootmnt_ready(const char *mnt, const char *image)
{
	struct stat m, img;
	if (stat(mnt, &m) < 0 || stat(image, &img) < 0)
		return false;
	/* the mount's device: a loop device backed by this very file */
	char sys[64], link[256], dev[sizeof(link) + 8];
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(m.st_dev), minor(m.st_dev));
	ssize_t n = readlink(sys, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	const char *name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (strncmp(name, "loop", 4) != 0 || strchr(name, '.'))
		return false;
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	cleanup_close int lfd = open(dev, O_RDONLY | O_CLOEXEC);
	struct loop_info64 info;
	if (lfd < 0 || ioctl(lfd, LOOP_GET_STATUS64, &info) < 0)
		return false;
	return info.lo_inode == img.st_ino && info.lo_device == img.st_dev &&
	       m.st_ino == 2; /* the root directory of an ext4 file system */
}

int splq_rootmnt_make(const char *mnt, const char *image, struct splq_error *err)
{
	if (splq_rootmnt_ready(mnt, image))
		return 0;
	/* a stale mount (of a generation since removed) goes first */
	umount2(mnt, MNT_DETACH | UMOUNT_NOFOLLOW);
	if (splq_mkdir_p(mnt, 0700, err) < 0)
		return -1;
	cleanup_close int fd = open(image, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "volume %s", image);
	if (!S_ISREG(st.st_mode))
		return splq_fail(err, SPLQ_E_CORRUPT, "volume %s is not an image", image);
	int nr;
	/* the device goes away with the mount (autoclear) */
	cleanup_close int loop = splq_image_attach(fd, true, &nr, err);
	if (loop < 0)
		return -1;
	cleanup_free char *what = splq_strdup_printf("volume %s", image);
	cleanup_close int m = splq_image_mount(nr, true, what, err);
	if (m < 0)
		return -1;
	if (move_mount(m, "", AT_FDCWD, mnt, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "move_mount %s to %s", image,
		                       mnt);
	return 0;
}

void splq_rootmnt_drop(const char *run, const char *kind, const char *qube, const char *gen)
{
	cleanup_free char *mnt = splq_rootmnt_path(run, kind, qube, gen);
	while (umount2(mnt, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		;
	rmdir(mnt);
}

void splq_rootmnt_drop_all(const char *run, const char *kind, const char *qube)
{
	cleanup_free char *dir = splq_strdup_printf("%s/%s/%s", run, kind, qube);
	cleanup_dir DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			splq_rootmnt_drop(run, kind, qube, de->d_name);
	rmdir(dir);
}
