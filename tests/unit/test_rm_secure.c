/* Unit tests: tree.c's secure removal (splq_rm_tree with SPLQ_RM_SECURE,
 * what `splq move --secure` does to its sources): a file's data is zeros
 * before its name goes, a file with other links keeps its data, and no
 * symlink is followed.  (test_tree.c: rm_rf, copies, shifts.) */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "tree.h"
#include "util.h"

#include "fixture.h"

/* A file of size bytes of a pattern without zeros, made at path. */
static void pattern_file(const char *path, size_t size)
{
	uint8_t buf[8192];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	assert_true(fd >= 0);
	for (size_t off = 0; off < size;) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(1 + (off + k) % 251);
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		off += n;
	}
	close(fd);
}

/* What fd (open to a file since removed, or not) holds: all zeros (1),
 * the pattern (0); its size must be size. */
static int zeros_in(int fd, size_t size)
{
	uint8_t buf[8192];
	struct stat st;
	bool zero = true, pattern = true;

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)size);
	for (size_t off = 0; off < size;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);

		assert_true(n > 0);
		for (ssize_t k = 0; k < n; k++) {
			zero &= buf[k] == 0;
			pattern &= buf[k] == (uint8_t)(1 + (off + (size_t)k) % 251);
		}
		off += (size_t)n;
	}
	assert_true(zero != pattern);
	return zero;
}

static void test_rm_secure_overwrites(void **state)
{
	/* more than the 64 KiB written at a time, not a multiple of it */
	static const size_t big = 3 * 65536 + 1234;
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *sub = path_in(state, "tree/sub/deeper");
	cleanup_free char *f1 = path_in(state, "tree/top");
	cleanup_free char *f2 = path_in(state, "tree/sub/deeper/big");
	cleanup_free char *ro = path_in(state, "tree/sub/ro");
	cleanup_free char *empty = path_in(state, "tree/sub/empty");
	cleanup_free char *alone = path_in(state, "alone");
	cleanup_free char *plain = path_in(state, "plain");
	struct splq_error err;

	assert_int_equal(splq_mkdir_p(sub, 0755, &err), 0);
	pattern_file(f1, 5);
	pattern_file(f2, big);
	/* read-only: root opens it for writing all the same (as another
	 * user, it would be kept, and said so) */
	pattern_file(ro, 100);
	assert_int_equal(chmod(ro, geteuid() == 0 ? 0400 : 0600), 0);
	put(empty, "", 0644);
	pattern_file(alone, 4096);
	pattern_file(plain, 4096);
	/* Descriptors opened before: they still reach the data after the
	 * names are gone. */
	int fd1 = open(f1, O_RDONLY | O_CLOEXEC), fd2 = open(f2, O_RDONLY | O_CLOEXEC);
	int fdro = open(ro, O_RDONLY | O_CLOEXEC), fda = open(alone, O_RDONLY | O_CLOEXEC);
	int fdp = open(plain, O_RDONLY | O_CLOEXEC);
	assert_true(fd1 >= 0 && fd2 >= 0 && fdro >= 0 && fda >= 0 && fdp >= 0);

	assert_int_equal(splq_rm_tree(tree, SPLQ_RM_SECURE, &err), 0);
	assert_false(splq_path_exists(tree));
	assert_int_equal(zeros_in(fd1, 5), 1);
	assert_int_equal(zeros_in(fd2, big), 1);
	assert_int_equal(zeros_in(fdro, 100), 1);
	/* A file given itself, not a directory. */
	assert_int_equal(splq_rm_tree(alone, SPLQ_RM_SECURE, &err), 0);
	assert_false(splq_path_exists(alone));
	assert_int_equal(zeros_in(fda, 4096), 1);
	/* Without the flag the data is left as it was (what the checks above
	 * tell apart). */
	assert_int_equal(splq_rm_tree(plain, 0, &err), 0);
	assert_false(splq_path_exists(plain));
	assert_int_equal(zeros_in(fdp, 4096), 0);
	/* A missing path is not an error. */
	assert_int_equal(splq_rm_tree(tree, SPLQ_RM_SECURE, &err), 0);
	close(fd1);
	close(fd2);
	close(fdro);
	close(fda);
	close(fdp);
}

/* A file with another link outside the tree keeps its data there. */
static void test_rm_secure_hardlink(void **state)
{
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *in = path_in(state, "tree/linked");
	cleanup_free char *own = path_in(state, "tree/own");
	cleanup_free char *keep = path_in(state, "keep");
	cleanup_free char *top = path_in(state, "top");
	cleanup_free char *keep2 = path_in(state, "keep2");
	struct splq_error err;
	struct stat st;

	assert_int_equal(mkdir(tree, 0755), 0);
	pattern_file(keep, 20000);
	assert_int_equal(link(keep, in), 0);
	pattern_file(own, 20000);
	int fd = open(own, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(splq_rm_tree(tree, SPLQ_RM_SECURE, &err), 0);
	assert_false(splq_path_exists(tree));
	int kfd = open(keep, O_RDONLY | O_CLOEXEC);
	assert_true(kfd >= 0);
	assert_int_equal(zeros_in(kfd, 20000), 0);
	assert_int_equal(fstat(kfd, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	/* the file of its own in the same tree was overwritten */
	assert_int_equal(zeros_in(fd, 20000), 1);
	close(kfd);
	close(fd);
	/* The same for a linked file given itself. */
	pattern_file(keep2, 3000);
	assert_int_equal(link(keep2, top), 0);
	assert_int_equal(splq_rm_tree(top, SPLQ_RM_SECURE, &err), 0);
	assert_false(splq_path_exists(top));
	kfd = open(keep2, O_RDONLY | O_CLOEXEC);
	assert_true(kfd >= 0);
	assert_int_equal(zeros_in(kfd, 3000), 0);
	close(kfd);
}

/* Symlinks go as links: what they point at is never written to. */
static void test_rm_secure_symlinks(void **state)
{
	cleanup_free char *outside = path_in(state, "outside");
	cleanup_free char *target = path_in(state, "outside/target");
	cleanup_free char *inner = path_in(state, "outside/dir/inner");
	cleanup_free char *odir = path_in(state, "outside/dir");
	cleanup_free char *tree = path_in(state, "tree");
	cleanup_free char *flink = path_in(state, "tree/flink");
	cleanup_free char *rlink = path_in(state, "tree/rlink");
	cleanup_free char *dlink = path_in(state, "tree/dlink");
	cleanup_free char *top = path_in(state, "toplink");
	cleanup_free char *topdir = path_in(state, "topdir");
	struct splq_error err;

	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(mkdir(odir, 0755), 0);
	assert_int_equal(mkdir(tree, 0755), 0);
	pattern_file(target, 10000);
	pattern_file(inner, 10000);
	assert_int_equal(symlink(target, flink), 0);
	assert_int_equal(symlink("../outside/target", rlink), 0);
	assert_int_equal(symlink(odir, dlink), 0);
	assert_int_equal(symlink(target, top), 0);
	assert_int_equal(symlink(odir, topdir), 0);

	assert_int_equal(splq_rm_tree(tree, SPLQ_RM_SECURE, &err), 0);
	assert_false(splq_path_exists(tree));
	/* a link given itself: only the link goes */
	assert_int_equal(splq_rm_tree(top, SPLQ_RM_SECURE, &err), 0);
	assert_int_equal(splq_rm_tree(topdir, SPLQ_RM_SECURE, &err), 0);
	struct stat st;
	assert_int_equal(lstat(top, &st), -1);
	assert_int_equal(lstat(topdir, &st), -1);
	int fd = open(target, O_RDONLY | O_CLOEXEC), ifd = open(inner, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && ifd >= 0);
	assert_int_equal(zeros_in(fd, 10000), 0);
	assert_int_equal(zeros_in(ifd, 10000), 0);
	assert_int_equal(count_entries(outside), 2);
	close(fd);
	close(ifd);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_rm_secure_overwrites),
	    T(test_rm_secure_hardlink),
	    T(test_rm_secure_symlinks),
	};

	return cmocka_run_group_tests_name("rm_secure", tests, NULL, NULL);
}
