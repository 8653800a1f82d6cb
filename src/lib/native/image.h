/* splq native: ext4 volume images.  A kept private volume is a sparse
 * file holding an ext4 file system whose files are owned by the qube's
 * own ids (0..65535, /home/user by 1000:1000): the qube sees it through
 * an idmapped mount, so copying it to another qube (clone, a disposable
 * from a dvm) is a copy of one file, and the host never walks the tree
 * inside.  Only the kernel's ext4 driver ever writes inside an image, on
 * behalf of the qube; splq reads no more of it than the two fields of the
 * superblock that give its size, and e2fsck and resize2fs run on an image
 * only while nothing uses it, to grow it.
 *
 * At start the qube's pid 1-to-be (host root, in the qube's mount
 * namespace) attaches the image to a free loop device (LOOP_CTL_GET_FREE,
 * LOOP_CONFIGURE with LO_FLAGS_AUTOCLEAR: the device goes away with the
 * last user of the file system, however the qube ends) and mounts it
 * nosuid,nodev; nothing of it is mounted on the host. */
#ifndef SPLQ_NATIVE_IMAGE_H
#define SPLQ_NATIVE_IMAGE_H

#include <stdbool.h>
#include <sys/types.h>

#include "../error.h"

/* The block size of every image splq makes; sizes are whole blocks. */
#define SPLQ_IMAGE_BLOCK 4096ULL

/* A new image of size bytes at path (which must not exist) holding an
 * empty /home: the root directory (0:0, 0755) and user/ (1000:1000,
 * 0700).  Made with mkfs.ext4 and lazy initialisation, so a fresh image
 * takes a few MiB of disk. */
int splq_image_make(const char *path, unsigned long long size, struct splq_error *err);

/* A new image of size bytes at path (which must not exist) holding a copy
 * of the tree at dir, owners and modes as they are (a template's root,
 * staged by the host). */
int splq_image_make_from(const char *path, unsigned long long size, const char *dir,
                         struct splq_error *err);

/* Open the image at path read-write, checked to be an ext4 image (what
 * names it in messages: "the private volume of 'work'"); a file system
 * smaller than its file (grown while in use) grows first.  Returns the
 * descriptor. */
int splq_image_open(const char *path, const char *what, struct splq_error *err);

/* Copy the image src to dst (new), keeping holes: a reflink where the file
 * system offers one, else only the parts that hold data. */
int splq_image_copy(const char *src, const char *dst, struct splq_error *err);

/* The size of the file system in an image, in bytes, from its superblock
 * (0 when it is not an ext4 image). */
int splq_image_fs_bytes(int fd, unsigned long long *bytes, struct splq_error *err);

/* Attach the image open as fd to a free loop device (autoclear, read-write
 * unless ro).  Returns the loop device's descriptor; *nr its number. */
int splq_image_attach(int fd, bool ro, int *nr, struct splq_error *err);

/* Mount the ext4 file system on loop device nr, nosuid,nodev (read-only
 * ones without journal recovery: nothing is written), without
 * attaching it anywhere: returns the mount's descriptor (for
 * open_tree/move_mount). */
int splq_image_mount(int nr, bool ro, const char *what, struct splq_error *err);

/* Grow the file system of an image that nothing uses to the image's size
 * (e2fsck -f -p, then resize2fs). */
int splq_image_grow_offline(const char *path, struct splq_error *err);

/* Grow the mounted file system that fs_fd (any descriptor in it) belongs
 * to so that it fills bytes. */
int splq_image_grow_fs(int fs_fd, unsigned long long bytes, const char *what,
                       struct splq_error *err);

/* Grow an image in use: the loop device nr (checked to be backed by
 * image_fd) learns the file's new size; fs_fd is the mounted file system,
 * checked to be on that device.  Online growth of ext4 needs
 * CAP_SYS_RESOURCE: without it, SPLQ_E_UNSUPPORTED (the device has grown,
 * the file system has not). */
int splq_image_grow_live(int image_fd, int nr, int fs_fd, unsigned long long bytes,
                         const char *what, struct splq_error *err);

#endif
