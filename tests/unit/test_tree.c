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
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "error.h"
#include "tree.h"
#include "util.h"

/* Skip with the reason on the test's output. */
#define skip_msg(why)                                                                              \
	do {                                                                                       \
		print_message("[ SKIP     ] %s\n", why);                                           \
		skip();                                                                            \
	} while (0)

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/splq-test-tree-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	int r = splq_rm_rf(f->dir, &err);

	free(f);
	return r;
}

static char *path_in(void **state, const char *rel)
{
	struct fixture *f = *state;

	return splq_strdup_printf("%s/%s", f->dir, rel);
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

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

/* Run fn in a child with its own mount namespace; skip without root. */
static bool in_mount_ns(void **state, int (*fn)(void **state))
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		return false;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		_exit(fn(state));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		return false;
	assert_int_equal(WEXITSTATUS(status), 0);
	return true;
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
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
