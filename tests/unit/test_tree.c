/* Unit tests: tree.c (copy, remove and change owners of directory trees). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "error.h"
#include "tree.h"
#include "util.h"

#include "fixture.h"

/* ---- rm_rf ---- */

static void test_rm_rf_no_follow(void **state)
{
	cleanup_free char *outside = path_in(state, "outside");
	cleanup_free char *keep = path_in(state, "outside/keep");
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *sub = path_in(state, "tree/sub/deeper");
	cleanup_free char *file = path_in(state, "tree/sub/deeper/f");
	cleanup_free char *link = path_in(state, "tree/sub/link");
	cleanup_free char *flink = path_in(state, "tree/flink");
	cleanup_free char *ro = path_in(state, "tree/ro");
	struct splq_error err;

	assert_int_equal(mkdir(outside, 0755), 0);
	put(keep, "precious", 0644);
	assert_int_equal(splq_mkdir_p(sub, 0755, &err), 0);
	put(file, "x", 0600);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(symlink(keep, flink), 0);
	assert_int_equal(mkdir(ro, 0500), 0);

	assert_int_equal(splq_rm_rf(tree, &err), 0);
	assert_false(splq_path_exists(tree));
	/* What the links pointed at is untouched. */
	assert_true(splq_path_exists(keep));
	assert_int_equal(count_entries(outside), 1);
	/* A missing path is not an error. */
	assert_int_equal(splq_rm_rf(tree, &err), 0);
	assert_int_equal(splq_rm_rf("/nonexistent-splq/a/b", &err), 0);
}

static void test_rm_rf_top_symlink(void **state)
{
	cleanup_free char *outside = path_in(state, "outside");
	cleanup_free char *keep = path_in(state, "outside/keep");
	cleanup_free char *link = path_in(state, "link");
	cleanup_free char *slash = path_in(state, "link/");
	struct splq_error err;

	assert_int_equal(mkdir(outside, 0755), 0);
	put(keep, "precious", 0644);
	assert_int_equal(symlink(outside, link), 0);
	/* Even with a trailing slash, only the link goes. */
	assert_int_equal(splq_rm_rf(slash, &err), 0);
	assert_false(splq_path_exists(link));
	assert_true(splq_path_exists(keep));
}

static void test_rm_rf_refuses_dots(void **state)
{
	struct splq_error err;

	assert_int_equal(splq_rm_rf("/tmp/..", &err), -1);
	assert_int_equal(splq_rm_rf("/", &err), -1);
	assert_true(splq_path_exists("/tmp"));
}

static int rm_rf_mount_child(void **state)
{
	cleanup_free char *mnt = path_in(state, "tree/mnt");
	cleanup_free char *inside = path_in(state, "tree/mnt/inside");
	cleanup_free char *tree = path_in(state, "tree");
	struct splq_error err;

	if (splq_mkdir_p(mnt, 0755, &err) < 0)
		return 1;
	if (mount("splqtest", mnt, "tmpfs", 0, "size=1m") < 0)
		return 77;
	if (splq_write_file(inside, "x", 1, 0644, &err) < 0)
		return 2;
	/* Refused, and nothing on the other mount is removed. */
	if (splq_rm_rf(tree, &err) != -1 || err.code != SPLQ_E_STATE || !strstr(err.msg, mnt))
		return 3;
	if (!splq_path_exists(inside))
		return 4;
	umount(mnt);
	if (splq_rm_rf(tree, &err) < 0 || splq_path_exists(tree))
		return 5;
	return 0;
}

static void test_rm_rf_other_mount(void **state)
{
	if (!in_mount_ns(state, rm_rf_mount_child))
		skip_msg("needs root and mount namespaces to mount a tmpfs");
}

/* ---- copy_tree and shift_tree ---- */

static void set_times(const char *path, time_t sec)
{
	struct timespec ts[2] = {{sec, 123000}, {sec + 1, 456000}};

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void check_same(const char *a, const char *b, long shift)
{
	struct stat sa, sb;

	assert_int_equal(lstat(a, &sa), 0);
	assert_int_equal(lstat(b, &sb), 0);
	assert_int_equal(sa.st_mode, sb.st_mode);
	assert_int_equal((long)sa.st_uid + shift, (long)sb.st_uid);
	assert_int_equal((long)sa.st_gid + shift, (long)sb.st_gid);
	assert_int_equal(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	assert_int_equal(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	if (S_ISREG(sa.st_mode)) {
		cleanup_free char *ca = NULL;
		cleanup_free char *cb = NULL;
		size_t la, lb;
		struct splq_error err;

		assert_int_equal(splq_read_file(a, &ca, &la, &err), 0);
		assert_int_equal(splq_read_file(b, &cb, &lb, &err), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(ca, cb, la);
		assert_int_not_equal(sa.st_ino, sb.st_ino);
	}
	if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode))
		assert_int_equal(sa.st_rdev, sb.st_rdev);
}

static const char *const tree_entries[] = {
    "",        "bin",      "bin/tool", "bin/suid", "etc",  "etc/secret", "etc/link",
    "etc/abs", "dangling", "big",      "fifo",     "null", "empty",
};

static void make_tree(void **state, bool root)
{
	cleanup_free char *src = path_in(state, "src");
	struct splq_error err;
	char *p;

	assert_int_equal(splq_mkdir_p(src, 0755, &err), 0);
	p = path_in(state, "src/bin");
	assert_int_equal(mkdir(p, 0750), 0);
	free(p);
	p = path_in(state, "src/bin/tool");
	put(p, "#!/bin/sh\necho hi\n", 0755);
	free(p);
	p = path_in(state, "src/bin/suid");
	put(p, "suid", 04755);
	free(p);
	p = path_in(state, "src/etc");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = path_in(state, "src/etc/secret");
	put(p, "s3cret", 0640);
	if (root)
		assert_int_equal(chown(p, 1000, 1001), 0);
	free(p);
	p = path_in(state, "src/etc/link");
	assert_int_equal(symlink("secret", p), 0);
	if (root)
		assert_int_equal(lchown(p, 1002, 1003), 0);
	free(p);
	p = path_in(state, "src/etc/abs");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = path_in(state, "src/dangling");
	assert_int_equal(symlink("../nowhere", p), 0);
	free(p);
	p = path_in(state, "src/empty");
	put(p, "", 0600);
	free(p);
	p = path_in(state, "src/big");
	{
		size_t n = 3 * 1024 * 1024 + 17;
		char *buf = malloc(n);

		for (size_t i = 0; i < n; i++)
			buf[i] = (char)(i * 31 + (i >> 12));
		assert_int_equal(splq_write_file(p, buf, n, 0644, &err), 0);
		free(buf);
	}
	free(p);
	p = path_in(state, "src/fifo");
	assert_int_equal(mkfifo(p, 0620), 0);
	free(p);
	if (root) {
		p = path_in(state, "src/null");
		assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
		free(p);
	}
	for (size_t i = 0; i < sizeof(tree_entries) / sizeof(tree_entries[0]); i++) {
		p = path_in(state, "src/");
		char *q = splq_strdup_printf("%s%s", p, tree_entries[i]);

		if (splq_path_exists(q))
			set_times(q, 1500000000 + (time_t)i * 1000);
		free(p);
		free(q);
	}
	/* Directory times last: creating entries moved them. */
	p = path_in(state, "src/bin");
	set_times(p, 1400000000);
	free(p);
	p = path_in(state, "src/etc");
	set_times(p, 1400000100);
	free(p);
	p = path_in(state, "src");
	set_times(p, 1400000200);
	free(p);
}

static void check_tree(void **state, const char *dst, long shift)
{
	for (size_t i = 0; i < sizeof(tree_entries) / sizeof(tree_entries[0]); i++) {
		cleanup_free char *a = NULL;
		cleanup_free char *b = NULL;
		cleanup_free char *src = path_in(state, "src");

		a = splq_strdup_printf("%s/%s", src, tree_entries[i]);
		b = splq_strdup_printf("%s/%s", dst, tree_entries[i]);
		if (!splq_path_exists(a)) {
			assert_false(splq_path_exists(b));
			continue;
		}
		check_same(a, b, shift);
		{
			struct stat st;
			char la[256] = {0}, lb[256] = {0};

			assert_int_equal(lstat(a, &st), 0);
			if (S_ISLNK(st.st_mode)) {
				assert_true(readlink(a, la, sizeof(la) - 1) > 0);
				assert_true(readlink(b, lb, sizeof(lb) - 1) > 0);
				assert_string_equal(la, lb);
			}
		}
	}
}

static void test_copy_tree(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *suid = path_in(state, "dst/bin/suid");
	bool root = geteuid() == 0;
	struct splq_error err;
	struct stat st;

	make_tree(state, root);
	assert_int_equal(splq_copy_tree(src, dst, 0, &err), 0);
	check_tree(state, dst, 0);
	assert_int_equal(stat(suid, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
}

static void test_copy_tree_shift(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *suid = path_in(state, "dst/bin/suid");
	cleanup_free char *link = path_in(state, "dst/etc/link");
	const long shift = 1000000000L + 5 * 65536;
	struct splq_error err;
	struct stat st;

	if (geteuid() != 0)
		skip_msg("needs root to give files to other owners");
	make_tree(state, true);
	assert_int_equal(splq_copy_tree(src, dst, shift, &err), 0);
	check_tree(state, dst, shift);
	/* chown must not have cleared the set-uid bit. */
	assert_int_equal(stat(suid, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, (uid_t)shift);
	/* The link itself was given away, not its target. */
	assert_int_equal(lstat(link, &st), 0);
	assert_int_equal(st.st_uid, (uid_t)(1002 + shift));
}

static void test_copy_tree_errors(void **state)
{
	cleanup_free char *none = path_in(state, "none");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *f = path_in(state, "src/f");
	struct splq_error err;

	assert_int_equal(splq_copy_tree(none, dst, 0, &err), -1);
	assert_int_equal(err.code, SPLQ_E_NOTFOUND);
	assert_non_null(strstr(err.msg, none));

	assert_int_equal(mkdir(src, 0755), 0);
	put(f, "x", 0644);
	if (geteuid() == 0) {
		/* An owner pushed out of range is refused, naming the file. */
		assert_int_equal(splq_copy_tree(src, dst, -1000000, &err), -1);
		assert_int_equal(err.code, SPLQ_E_VALUE);
	}
}

static int nospace_child(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *big = path_in(state, "src/big");
	cleanup_free char *mnt = path_in(state, "small");
	cleanup_free char *dst = path_in(state, "small/dst");
	struct splq_error err;
	size_t n = 2 * 1024 * 1024;
	char *buf = calloc(1, n);

	if (mkdir(src, 0755) < 0 || mkdir(mnt, 0755) < 0)
		return 1;
	if (splq_write_file(big, buf, n, 0644, &err) < 0)
		return 2;
	free(buf);
	if (mount("splqtest", mnt, "tmpfs", 0, "size=256k") < 0)
		return 77;
	if (splq_copy_tree(src, dst, 0, &err) != -1)
		return 3;
	if (err.code != SPLQ_E_NOSPACE || !strstr(err.msg, "small/dst/big"))
		return 4;
	umount(mnt);
	return 0;
}

static void test_copy_tree_nospace(void **state)
{
	if (!in_mount_ns(state, nospace_child))
		skip_msg("needs root and mount namespaces to mount a small tmpfs");
}

static void test_shift_tree(void **state)
{
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *file = path_in(state, "tree/f");
	cleanup_free char *suid = path_in(state, "tree/suid");
	cleanup_free char *link = path_in(state, "tree/link");
	cleanup_free char *outside = path_in(state, "outside");
	struct splq_error err;
	struct stat st;

	if (geteuid() != 0)
		skip_msg("needs root to give files to other owners");
	assert_int_equal(mkdir(tree, 0755), 0);
	put(file, "x", 0644);
	put(suid, "x", 06755);
	put(outside, "x", 0644);
	assert_int_equal(chown(outside, 7, 7), 0);
	assert_int_equal(symlink(outside, link), 0);

	assert_int_equal(splq_shift_tree(tree, 200000, &err), 0);
	assert_int_equal(stat(tree, &st), 0);
	assert_int_equal(st.st_uid, 200000);
	assert_int_equal(st.st_gid, 200000);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_uid, 200000);
	assert_int_equal(stat(suid, &st), 0);
	assert_int_equal(st.st_uid, 200000);
	assert_int_equal(st.st_mode & 07777, 06755);
	assert_int_equal(lstat(link, &st), 0);
	assert_int_equal(st.st_uid, 200000);
	/* The link's target outside the tree kept its owner. */
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_uid, 7);

	assert_int_equal(splq_shift_tree(tree, -200000, &err), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
	/* Below uid 0 is refused. */
	assert_int_equal(splq_shift_tree(tree, -1, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
}

/* ---- what a qube can make ---- */

static void stat_of(const char *path, struct stat *st)
{
	assert_int_equal(lstat(path, st), 0);
}

/* A 1 GiB file with 8 KiB of data at 1 MiB and 4 KiB at its end stays
 * sparse, with the same bytes. */
static void test_copy_sparse(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *f = path_in(state, "src/sparse");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *g = path_in(state, "dst/sparse");
	const off_t size = (off_t)1 << 30;
	char data[8192], back[8192];
	struct splq_error err;
	struct stat a, b;
	int fd;

	assert_int_equal(mkdir(src, 0755), 0);
	fd = open(f, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 1);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(pwrite(fd, data, sizeof(data), 1 << 20), (ssize_t)sizeof(data));
	assert_int_equal(pwrite(fd, data, 4096, size - 4096), 4096);
	close(fd);

	assert_int_equal(splq_copy_tree(src, dst, 0, &err), 0);
	stat_of(f, &a);
	stat_of(g, &b);
	assert_int_equal(b.st_size, size);
	/* about the same blocks (a file system may round extents up) */
	assert_true(b.st_blocks <= a.st_blocks + 2048);
	assert_true(b.st_blocks < 16384); /* far from 1 GiB's 2 Mi blocks */
	fd = open(g, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, sizeof(back), 1 << 20), (ssize_t)sizeof(back));
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(pread(fd, back, 4096, size - 4096), 4096);
	assert_memory_equal(back, data, 4096);
	assert_int_equal(pread(fd, back, 16, 4096), 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(back[i], 0);
	close(fd);
}

/* Links of one file, in several directories, stay one file; a file with a
 * link outside the tree is one file in the copy; nothing else is left at
 * the copy's top. */
static void test_copy_hardlinks(void **state)
{
	static const char *const names[] = {"src/a", "src/d/b", "src/d/e/c", "src/d/e/c2", "src/z"};
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *deep = path_in(state, "src/d/e");
	cleanup_free char *out = path_in(state, "outside");
	cleanup_free char *in = path_in(state, "src/half");
	cleanup_free char *dst = path_in(state, "dst");
	bool root = geteuid() == 0;
	const long shift = root ? 65536 : 0;
	struct splq_error err;
	struct stat first, st;

	assert_int_equal(splq_mkdir_p(deep, 0755, &err), 0);
	put(out, "half", 0644);
	assert_int_equal(link(out, in), 0);
	char *p = path_in(state, names[0]);
	put(p, "linked", 0640);
	if (root)
		assert_int_equal(chown(p, 1000, 1000), 0);
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		char *q = path_in(state, names[i]);

		assert_int_equal(link(p, q), 0);
		free(q);
	}
	free(p);

	assert_int_equal(splq_copy_tree(src, dst, shift, &err), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cleanup_free char *q = path_in(state, names[i]);
		cleanup_free char *d = splq_strdup_printf("%s/%s", dst, names[i] + 4);
		cleanup_free char *text = NULL;

		stat_of(d, &st);
		if (i == 0)
			first = st;
		assert_int_equal(st.st_ino, first.st_ino);
		assert_int_equal(st.st_nlink, 5);
		assert_int_equal(st.st_mode & 07777, 0640);
		if (root)
			assert_int_equal(st.st_uid, 1000 + shift); /* shifted once */
		assert_int_equal(splq_read_file(d, &text, NULL, &err), 0);
		assert_string_equal(text, "linked");
	}
	cleanup_free char *half = splq_strdup_printf("%s/half", dst);
	stat_of(half, &st);
	assert_int_equal(st.st_nlink, 1);
	/* a, d, half, z: no stage directory left behind */
	assert_int_equal(count_entries(dst), 4);
}

/* Links are copied as links, never followed: to a secret, to a directory
 * outside, dangling, and at the top. */
static void test_copy_symlinks(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *outside = path_in(state, "outside");
	cleanup_free char *secret = path_in(state, "outside/shadow");
	cleanup_free char *dst = path_in(state, "dst");
	static const char *const links[][2] = {
	    {"shadow", "/etc/shadow"}, {"up", "../outside"}, {"dir", "/etc"}, {"self", "."}};
	struct splq_error err;
	char target[256];
	struct stat st;

	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(mkdir(outside, 0700), 0);
	put(secret, "secret", 0600);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cleanup_free char *l = splq_strdup_printf("%s/%s", src, links[i][0]);

		assert_int_equal(symlink(links[i][1], l), 0);
	}
	assert_int_equal(splq_copy_tree(src, dst, 0, &err), 0);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cleanup_free char *l = splq_strdup_printf("%s/%s", dst, links[i][0]);
		ssize_t n;

		stat_of(l, &st);
		assert_true(S_ISLNK(st.st_mode));
		n = readlink(l, target, sizeof(target) - 1);
		assert_true(n > 0);
		target[n] = '\0';
		assert_string_equal(target, links[i][1]);
	}
	assert_int_equal(count_entries(dst), 4);
	assert_int_equal(count_entries(outside), 1);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "a walk blocked\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(99);
}

/* A fifo is made anew in the copy; nothing waits for a writer. */
static void test_copy_fifo(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *fifo = path_in(state, "src/fifo");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *copy = path_in(state, "dst/fifo");
	struct splq_error err;
	struct stat st;

	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(mkfifo(fifo, 0640), 0);
	signal(SIGALRM, on_alarm);
	alarm(20);
	assert_int_equal(splq_copy_tree(src, dst, 0, &err), 0);
	alarm(0);
	stat_of(copy, &st);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* depth directories "d" below top, a file "leaf" in the last, made through
 * descriptors (the path is longer than PATH_MAX). */
static void make_deep(const char *top, int depth)
{
	int fd = open(top, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	for (int i = 0; i < depth; i++) {
		int next;

		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	int leaf = openat(fd, "leaf", O_WRONLY | O_CREAT, 0644);
	assert_true(leaf >= 0);
	assert_int_equal(write(leaf, "bottom", 6), 6);
	close(leaf);
	close(fd);
}

/* How deep the chain of "d" below top goes, -1 unless "leaf" at its end
 * reads "bottom"; owner of the leaf in *uid. */
static int deep_depth(const char *top, uid_t *uid)
{
	int fd = open(top, O_RDONLY | O_DIRECTORY), n = 0;
	char buf[8] = {0};
	struct stat st;

	while (fd >= 0) {
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

		if (next < 0)
			break;
		close(fd);
		fd = next;
		n++;
	}
	int leaf = openat(fd, "leaf", O_RDONLY);
	if (leaf < 0 || read(leaf, buf, sizeof(buf)) != 6 || strcmp(buf, "bottom") != 0)
		n = -1;
	if (leaf >= 0 && fstat(leaf, &st) == 0 && uid)
		*uid = st.st_uid;
	if (leaf >= 0)
		close(leaf);
	close(fd);
	return n;
}

/* 3000 levels with 64 descriptors: copy, shift and remove. */
static void test_deep_tree(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *dst = path_in(state, "dst");
	struct rlimit old, low;
	struct splq_error err;
	uid_t uid = 0;
	int r1, r2, r3 = 0, r4, r5;

	assert_int_equal(mkdir(src, 0755), 0);
	make_deep(src, 3000);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	r1 = splq_copy_tree(src, dst, 0, &err);
	if (r1 == 0 && geteuid() == 0)
		r3 = splq_shift_tree(dst, 100000, &err);
	r4 = splq_rm_rf(src, &err);
	setrlimit(RLIMIT_NOFILE, &old);
	assert_int_equal(r1, 0);
	assert_int_equal(r3, 0);
	assert_int_equal(r4, 0);
	assert_false(splq_path_exists(src));
	r2 = deep_depth(dst, &uid);
	assert_int_equal(r2, 3000);
	if (geteuid() == 0)
		assert_int_equal(uid, 100000);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	r5 = splq_rm_rf(dst, &err);
	setrlimit(RLIMIT_NOFILE, &old);
	assert_int_equal(r5, 0);
	assert_false(splq_path_exists(dst));
}

/* A shift changes a file with many links once; links are given away, not
 * their targets. */
static void test_shift_hardlinks(void **state)
{
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *sub = path_in(state, "tree/sub");
	cleanup_free char *a = path_in(state, "tree/a");
	cleanup_free char *b = path_in(state, "tree/sub/b");
	cleanup_free char *c = path_in(state, "tree/sub/c");
	cleanup_free char *l = path_in(state, "tree/l");
	cleanup_free char *out = path_in(state, "outside");
	struct splq_error err;
	struct stat st;

	if (geteuid() != 0)
		skip_msg("needs root to give files to other owners");
	assert_int_equal(splq_mkdir_p(sub, 0755, &err), 0);
	put(a, "x", 04755);
	assert_int_equal(chown(a, 1000, 1000), 0);
	assert_int_equal(chmod(a, 04755), 0);
	assert_int_equal(link(a, b), 0);
	assert_int_equal(link(a, c), 0);
	put(out, "x", 0644);
	assert_int_equal(symlink(out, l), 0);
	assert_int_equal(splq_shift_tree(tree, 70000, &err), 0);
	stat_of(c, &st);
	assert_int_equal(st.st_uid, 71000);
	assert_int_equal(st.st_gid, 71000);
	assert_int_equal(st.st_mode & 07777, 04755);
	stat_of(l, &st);
	assert_int_equal(st.st_uid, 70000);
	stat_of(out, &st);
	assert_int_equal(st.st_uid, 0);
}

struct swapper {
	const char *a, *b;
	atomic_bool stop;
	atomic_long swaps;
};

static void *swap_loop(void *arg)
{
	struct swapper *s = arg;

	while (!atomic_load(&s->stop))
		if (renameat2(AT_FDCWD, s->a, AT_FDCWD, s->b, RENAME_EXCHANGE) == 0)
			atomic_fetch_add(&s->swaps, 1);
	return NULL;
}

/* A file and a fifo swapped all the while (RENAME_EXCHANGE) as a qube
 * could: every copy ends, and either copies what it found or says that an
 * entry kept changing; a fifo is never read. */
static void test_copy_swap_race(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *f = path_in(state, "src/f");
	cleanup_free char *p = path_in(state, "src/p");
	cleanup_free char *dst = path_in(state, "dst");
	struct swapper s = {.a = f, .b = p};
	int copied = 0, changed = 0, other = 0;
	struct splq_error err;
	pthread_t t;

	assert_int_equal(mkdir(src, 0755), 0);
	put(f, "data", 0644);
	assert_int_equal(mkfifo(p, 0644), 0);
	signal(SIGALRM, on_alarm);
	alarm(120);
	assert_int_equal(pthread_create(&t, NULL, swap_loop, &s), 0);
	for (int i = 0; i < 400; i++) {
		if (splq_copy_tree(src, dst, 0, &err) == 0) {
			/* each is either: the copy is no snapshot, but a fifo is
			 * never read and a file is copied whole */
			for (int k = 0; k < 2; k++) {
				cleanup_free char *e =
				    splq_strdup_printf("%s/%s", dst, k ? "p" : "f");
				cleanup_free char *text = NULL;
				struct stat st;

				if (lstat(e, &st) < 0)
					continue;
				if (!S_ISFIFO(st.st_mode) &&
				    !(S_ISREG(st.st_mode) &&
				      splq_read_file(e, &text, NULL, &err) == 0 &&
				      strcmp(text, "data") == 0))
					other++;
			}
			copied++;
		} else if (err.code == SPLQ_E_STATE && strstr(err.msg, "changing")) {
			changed++;
		} else {
			print_message("copy failed: %s\n", err.msg);
			other++;
		}
		assert_int_equal(splq_rm_rf(dst, &err), 0);
	}
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	alarm(0);
	print_message("[          ] %d copied, %d changed, %ld swaps\n", copied, changed,
	              atomic_load(&s.swaps));
	assert_int_equal(other, 0);
	assert_true(copied > 0);
	assert_true(atomic_load(&s.swaps) > 0);
}

/* An entry of the copy's top named like the stage for links, links in it
 * and beside it: all copied as they are. */
static void test_copy_stage_name(void **state)
{
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *dst = path_in(state, "dst");
	struct splq_error err;
	struct stat a, b;

	assert_int_equal(mkdir(src, 0755), 0);
	for (int i = 0; i < 3; i++) {
		cleanup_free char *d =
		    splq_strdup_printf("%s/.splq-links.%ld.%d", src, (long)getpid(), i);
		cleanup_free char *m =
		    splq_strdup_printf("%s/.splq-links.%ld.m%d", src, (long)getpid(), i);
		cleanup_free char *f = splq_strdup_printf("%s/0", d);
		cleanup_free char *l = splq_strdup_printf("%s/l%d", src, i);

		assert_int_equal(mkdir(d, 0755), 0);
		put(m, "m", 0644);
		put(f, "zero", 0644);
		assert_int_equal(link(f, l), 0);
	}
	assert_int_equal(splq_copy_tree(src, dst, 0, &err), 0);
	assert_int_equal(count_entries(dst), 9);
	for (int i = 0; i < 3; i++) {
		cleanup_free char *f =
		    splq_strdup_printf("%s/.splq-links.%ld.%d/0", dst, (long)getpid(), i);
		cleanup_free char *l = splq_strdup_printf("%s/l%d", dst, i);

		stat_of(f, &a);
		stat_of(l, &b);
		assert_int_equal(a.st_ino, b.st_ino);
		assert_int_equal(a.st_nlink, 2);
	}
}

static int rm_goes_on_child(void **state)
{
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *mnt = path_in(state, "tree/a/mnt");
	cleanup_free char *bind = path_in(state, "tree/b/bind");
	cleanup_free char *target = path_in(state, "target");
	cleanup_free char *keep = path_in(state, "target/keep");
	struct splq_error err;

	if (splq_mkdir_p(mnt, 0755, &err) < 0 || splq_mkdir_p(bind, 0755, &err) < 0 ||
	    splq_mkdir_p(target, 0755, &err) < 0)
		return 1;
	if (splq_write_file(keep, "x", 1, 0644, &err) < 0)
		return 1;
	for (int i = 0; i < 20; i++) {
		cleanup_free char *f = splq_strdup_printf("%s/f%d", tree, i);
		if (splq_write_file(f, "x", 1, 0644, &err) < 0)
			return 1;
	}
	if (mount("splqtest", mnt, "tmpfs", 0, "size=1m") < 0)
		return 77;
	/* a bind mount of the same file system: the same st_dev */
	if (mount(target, bind, NULL, MS_BIND, NULL) < 0)
		return 2;
	if (splq_rm_rf(tree, &err) != -1 || err.code != SPLQ_E_STATE ||
	    !(strstr(err.msg, "mnt") || strstr(err.msg, "bind")) ||
	    !strstr(err.msg, "and 1 more")) {
		fprintf(stderr, "rm_rf said: %s\n", err.msg);
		return 3;
	}
	/* everything else is gone, the bind mount's source is untouched */
	if (count_entries(tree) != 2 || !splq_path_exists(keep) || !splq_path_exists(mnt))
		return 4;
	umount(bind);
	umount(mnt);
	if (splq_rm_rf(tree, &err) < 0 || splq_path_exists(tree))
		return 5;
	return 0;
}

static void test_rm_rf_goes_on(void **state)
{
	if (!in_mount_ns(state, rm_goes_on_child))
		skip_msg("needs root and mount namespaces to mount a tmpfs");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_rm_rf_no_follow),
	    T(test_rm_rf_top_symlink),
	    cmocka_unit_test(test_rm_rf_refuses_dots),
	    T(test_rm_rf_other_mount),
	    T(test_copy_tree),
	    T(test_copy_tree_shift),
	    T(test_copy_tree_errors),
	    T(test_copy_tree_nospace),
	    T(test_shift_tree),
	    T(test_copy_sparse),
	    T(test_copy_hardlinks),
	    T(test_copy_symlinks),
	    T(test_copy_fifo),
	    T(test_deep_tree),
	    T(test_shift_hardlinks),
	    T(test_copy_swap_race),
	    T(test_copy_stage_name),
	    T(test_rm_rf_goes_on),
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
