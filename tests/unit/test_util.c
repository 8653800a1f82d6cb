/* Unit tests: errors and util (files, directories). */
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

#include "fixture.h"

/* ---- error.c ---- */

static void test_error_fill(void **state)
{
	struct splq_error err = {0};

	assert_int_equal(splq_fail(&err, SPLQ_E_STATE, "qube '%s' is running", "work"), -1);
	assert_int_equal(err.code, SPLQ_E_STATE);
	assert_string_equal(err.msg, "qube 'work' is running");
	/* NULL err is allowed and still reports failure. */
	assert_int_equal(splq_fail(NULL, SPLQ_E_STATE, "x"), -1);
	assert_int_equal(splq_fail_errno(NULL, SPLQ_E_STATE, ENOENT, "x"), -1);
}

static void test_error_errno(void **state)
{
	struct splq_error err = {0};

	splq_fail_errno(&err, SPLQ_E_INTERNAL, ENOENT, "cannot open '%s'", "/x");
	assert_int_equal(err.code, SPLQ_E_INTERNAL);
	assert_string_equal(err.msg, "cannot open '/x': No such file or directory");
	/* A full disk is always told as such. */
	splq_fail_errno(&err, SPLQ_E_INTERNAL, ENOSPC, "cannot write '%s'", "/y");
	assert_int_equal(err.code, SPLQ_E_NOSPACE);
	assert_non_null(strstr(err.msg, "/y"));
	splq_fail_errno(&err, SPLQ_E_STATE, EDQUOT, "q");
	assert_int_equal(err.code, SPLQ_E_NOSPACE);
	splq_fail_errno(&err, SPLQ_E_STATE, EIO, "q");
	assert_int_equal(err.code, SPLQ_E_NOSPACE);
}

static void test_error_long_message(void **state)
{
	struct splq_error err;
	char big[2 * SPLQ_ERROR_MAX];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	splq_fail_errno(&err, SPLQ_E_INTERNAL, ENOENT, "%s", big);
	assert_int_equal(strlen(err.msg), SPLQ_ERROR_MAX - 1);
}

static void test_error_code_names(void **state)
{
	static const struct {
		int code;
		const char *name;
	} t[] = {
	    {SPLQ_E_USAGE, "usage"},
	    {SPLQ_E_NAME, "bad-name"},
	    {SPLQ_E_NOTFOUND, "not-found"},
	    {SPLQ_E_EXISTS, "exists"},
	    {SPLQ_E_STATE, "state"},
	    {SPLQ_E_VALUE, "bad-value"},
	    {SPLQ_E_INTERNAL, "internal"},
	    {SPLQ_E_LOCKED, "locked"},
	    {SPLQ_E_CORRUPT, "corrupt"},
	    {SPLQ_E_NOSPACE, "no-space"},
	    {SPLQ_E_UNSUPPORTED, "unsupported"},
	    {SPLQ_E_PERM, "not-root"},
	    {SPLQ_E_AUDIT, "audit"},
	    {SPLQ_E_TIMEOUT, "timeout"},
	    {SPLQ_E_CANNOT_EXEC, "cannot-exec"},
	    {SPLQ_E_NOCMD, "no-command"},
	    {SPLQ_E_TOOBIG, "output-too-big"},
	    {SPLQ_E_NOANSWER, "no-answer"},
	    {SPLQ_E_SHRINK, "shrink"},
	    {SPLQ_E_POLICY, "policy"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(splq_code_name(t[i].code), t[i].name);
	assert_string_equal(splq_code_name(12345), "unknown");
}

/* ---- small helpers ---- */

static void test_strings(void **state)
{
	cleanup_free char *s = splq_strdup_printf("%s-%d", "disp", 42);
	cleanup_free char *d = splq_xstrdup("abc");
	cleanup_free int *z = splq_xcalloc(4, sizeof(int));

	assert_string_equal(s, "disp-42");
	assert_string_equal(d, "abc");
	for (int i = 0; i < 4; i++)
		assert_int_equal(z[i], 0);
}

static void test_now_ms(void **state)
{
	long long a = splq_now_ms();

	usleep(20000);
	assert_true(splq_now_ms() - a >= 19);
}

static void test_mkdir_p(void **state)
{
	cleanup_free char *deep = path_in(state, "a/b/c/");
	cleanup_free char *abc = path_in(state, "a/b/c");
	cleanup_free char *file = path_in(state, "file");
	cleanup_free char *under = path_in(state, "file/x");
	struct splq_error err;
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(splq_mkdir_p(deep, 0751, &err), 0);
	umask(old);
	assert_int_equal(stat(abc, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0751);
	/* Existing directories are fine. */
	assert_int_equal(splq_mkdir_p(abc, 0700, &err), 0);
	assert_int_equal(stat(abc, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	/* A file in the way is an error naming it. */
	put(file, "x", 0644);
	assert_int_equal(splq_mkdir_p(under, 0700, &err), -1);
	assert_non_null(strstr(err.msg, file));
}

static void test_path_exists(void **state)
{
	cleanup_free char *link = path_in(state, "dangling");
	cleanup_free char *none = path_in(state, "none");

	assert_int_equal(symlink("/nonexistent/splq", link), 0);
	assert_true(splq_path_exists(link));
	assert_false(splq_path_exists(none));
}

/* ---- whole files ---- */

static void test_write_file(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *p = path_in(state, "conf");
	cleanup_free char *out = NULL;
	char old[16] = {0};
	struct splq_error err;
	struct stat st, st2;
	size_t len;
	int fd;

	assert_int_equal(splq_write_file(p, "first", 5, 0640, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);

	/* Replace: a reader of the old file still sees all of the old one. */
	assert_int_equal(splq_write_file(p, "second\0x", 8, 0600, &err), 0);
	assert_int_equal(read(fd, old, sizeof(old)), 5);
	assert_string_equal(old, "first");
	close(fd);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_not_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st2.st_mode & 07777, 0600);
	assert_int_equal(splq_read_file(p, &out, &len, &err), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(out, "second\0x", 8);
	/* No temporary file is left beside it. */
	assert_int_equal(count_entries(f->dir), 1);
}

static void test_write_file_errors(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *missing = path_in(state, "nodir/conf");
	cleanup_free char *dir = path_in(state, "adir");
	struct splq_error err;

	assert_int_equal(splq_write_file(missing, "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.msg, missing));
	/* Renaming over a directory fails, and the temporary file is gone. */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(splq_write_file(dir, "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.msg, dir));
	assert_int_equal(count_entries(f->dir), 1);
	assert_int_equal(count_entries(dir), 0);
}

static void test_read_file(void **state)
{
	cleanup_free char *missing = path_in(state, "missing");
	cleanup_free char *p = path_in(state, "f");
	cleanup_free char *out = NULL;
	cleanup_free char *proc = NULL;
	struct splq_error err;
	size_t len = 99;

	assert_int_equal(splq_read_file(missing, &out, &len, &err), -1);
	assert_int_equal(err.code, SPLQ_E_NOTFOUND);
	assert_non_null(strstr(err.msg, missing));
	put(p, "", 0644);
	assert_int_equal(splq_read_file(p, &out, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	/* Files whose size says 0 are read to their end. */
	assert_int_equal(splq_read_file("/proc/self/status", &proc, NULL, &err), 0);
	assert_non_null(strstr(proc, "Name:"));
}

static void test_write_string(void **state)
{
	cleanup_free char *p = path_in(state, "f");
	cleanup_free char *missing = path_in(state, "missing");
	cleanup_free char *out = NULL;
	struct splq_error err;

	put(p, "old-old-old", 0644);
	assert_int_equal(splq_write_string(p, "new", &err), 0);
	assert_int_equal(splq_read_file(p, &out, NULL, &err), 0);
	assert_string_equal(out, "new-old-old");
	/* It never creates a file. */
	assert_int_equal(splq_write_string(missing, "x", &err), -1);
	assert_false(splq_path_exists(missing));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_fill),
	    cmocka_unit_test(test_error_errno),
	    cmocka_unit_test(test_error_long_message),
	    cmocka_unit_test(test_error_code_names),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_now_ms),
	    T(test_mkdir_p),
	    T(test_path_exists),
	    T(test_write_file),
	    T(test_write_file_errors),
	    T(test_read_file),
	    T(test_write_string),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
