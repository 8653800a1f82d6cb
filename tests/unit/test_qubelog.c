/* Unit tests: a qube's log, the writer's side (native/qubelog.c: bounded,
 * rotated), and the OOM-kill count's parser (native/oom.c). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "native/oom.h"
#include "native/qubelog.h"

#include "fixture.h"

/* ---- rotation, pure ---- */

static void test_must_rotate(void **state)
{
	/* an empty file takes any write (splq_qubelog_write cuts it to max) */
	assert_false(splq_qubelog_must_rotate(0, 10, 100));
	assert_false(splq_qubelog_must_rotate(0, 1000, 100));
	/* up to max exactly, then no more */
	assert_false(splq_qubelog_must_rotate(90, 10, 100));
	assert_true(splq_qubelog_must_rotate(91, 10, 100));
	assert_true(splq_qubelog_must_rotate(100, 1, 100));
	assert_false(splq_qubelog_must_rotate(100, 0, 100));
	/* no overflow near the top */
	assert_true(splq_qubelog_must_rotate(1, (size_t)-1, SPLQ_QUBELOG_MAX));
	assert_false(splq_qubelog_must_rotate(SPLQ_QUBELOG_MAX - 65536, 65536, SPLQ_QUBELOG_MAX));
}

static void test_names(void **state)
{
	struct splq_qubelog_names n;

	splq_qubelog_names("work", &n);
	assert_string_equal(n.cur, "work.log");
	assert_string_equal(n.prev, "work.log.1");
	/* the longest name fits */
	splq_qubelog_names("a234567890123456789012345678901", &n);
	assert_string_equal(n.prev, "a234567890123456789012345678901.log.1");
}

/* ---- writing ---- */

static long long size_of(void **state, const char *rel)
{
	char *p = path_in(state, rel);
	struct stat st;
	long long r = lstat(p, &st) == 0 ? (long long)st.st_size : -1;

	free(p);
	return r;
}

static char *contents(void **state, const char *rel)
{
	char *p = path_in(state, rel), *out = NULL;
	struct splq_error err;

	assert_int_equal(splq_read_file(p, &out, NULL, &err), 0);
	free(p);
	return out;
}

static void test_write_rotates_within_bound(void **state)
{
	struct fixture *f = *state;
	struct splq_qubelog l;
	int dir = open(f->dir, O_PATH | O_DIRECTORY);
	char chunk[30];

	assert_true(dir >= 0);
	splq_qubelog_init(&l, dir, "work", 100);
	/* no byte, no file */
	splq_qubelog_write(&l, "", 0);
	assert_int_equal(size_of(state, "work.log"), -1);
	for (int i = 0; i < 20; i++) {
		snprintf(chunk, sizeof(chunk), "line %02d of the log........\n", i);
		assert_int_equal(strlen(chunk), 27);
		splq_qubelog_write(&l, chunk, strlen(chunk));
		/* never past the bound, whatever is written */
		assert_true(size_of(state, "work.log") <= 100);
		assert_true(size_of(state, "work.log.1") <= 100);
	}
	splq_qubelog_close(&l);
	/* 3 lines (81 bytes) a file: the last two lines in the current
	 * file, the three before in the rotated one, and nothing older */
	char *cur = contents(state, "work.log"), *prev = contents(state, "work.log.1");
	assert_string_equal(cur, "line 18 of the log........\nline 19 of the log........\n");
	assert_string_equal(prev, "line 15 of the log........\nline 16 of the log........\n"
	                          "line 17 of the log........\n");
	free(cur);
	free(prev);
	assert_int_equal(count_entries(f->dir), 2);
	struct stat st;
	char *p = path_in(state, "work.log");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(p);

	/* a later start appends to what is there */
	splq_qubelog_init(&l, dir, "work", 100);
	splq_qubelog_write(&l, "again\n", 6);
	splq_qubelog_close(&l);
	cur = contents(state, "work.log");
	assert_string_equal(cur, "line 18 of the log........\nline 19 of the log........\nagain\n");
	free(cur);
	close(dir);
}

static void test_write_larger_than_bound(void **state)
{
	struct fixture *f = *state;
	struct splq_qubelog l;
	int dir = open(f->dir, O_PATH | O_DIRECTORY);
	char big[250];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	splq_qubelog_init(&l, dir, "flood", 100);
	splq_qubelog_write(&l, big, sizeof(big));
	splq_qubelog_close(&l);
	/* its last 100 bytes */
	assert_int_equal(size_of(state, "flood.log"), 100);
	char *cur = contents(state, "flood.log");
	assert_memory_equal(cur, big + 150, 100);
	free(cur);
	close(dir);
}

static void test_write_refuses_a_link(void **state)
{
	struct fixture *f = *state;
	struct splq_qubelog l;
	int dir = open(f->dir, O_PATH | O_DIRECTORY);
	char *target = path_in(state, "elsewhere"), *link = path_in(state, "evil.log");

	put(target, "keep\n", 0600);
	assert_int_equal(symlink(target, link), 0);
	splq_qubelog_init(&l, dir, "evil", 100);
	splq_qubelog_write(&l, "bytes\n", 6);
	splq_qubelog_close(&l);
	char *t = contents(state, "elsewhere");
	assert_string_equal(t, "keep\n");
	free(t);
	free(target);
	free(link);
	close(dir);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	char *logs = path_in(state, SPLQ_QUBELOG_DIR);
	int dir = splq_qubelog_dir(f->dir, &err);
	struct stat st;

	assert_true(dir >= 0);
	assert_int_equal(lstat(logs, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	struct splq_qubelog l;
	splq_qubelog_init(&l, dir, "gone", 10);
	splq_qubelog_write(&l, "0123456789", 10);
	splq_qubelog_write(&l, "abc", 3);
	splq_qubelog_close(&l);
	splq_qubelog_init(&l, dir, "other", 10);
	splq_qubelog_write(&l, "x", 1);
	splq_qubelog_close(&l);
	assert_int_equal(count_entries(logs), 3);
	assert_int_equal(splq_qubelog_remove(f->dir, "gone", &err), 0);
	assert_int_equal(count_entries(logs), 1);
	/* again: nothing to remove is fine */
	assert_int_equal(splq_qubelog_remove(f->dir, "gone", &err), 0);
	close(dir);
	free(logs);
}

/* ---- the OOM-kill count ---- */

static void test_oom_parse(void **state)
{
	static const char v1[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
	static const char v2[] = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n";

	assert_int_equal(splq_oom_parse(v1, strlen(v1)), 3);
	assert_int_equal(splq_oom_parse(v2, strlen(v2)), 2);
	/* oom_kill_disable is not oom_kill; a cut-off line counts as a line */
	assert_int_equal(splq_oom_parse("oom_kill_disable 1\n", 19), -1);
	assert_int_equal(splq_oom_parse("oom_kill 7", 10), 7);
	/* nothing, or nonsense */
	assert_int_equal(splq_oom_parse("", 0), -1);
	assert_int_equal(splq_oom_parse("oom_kill \n", 10), -1);
	assert_int_equal(splq_oom_parse("oom_kill -1\n", 12), -1);
	assert_int_equal(splq_oom_parse("oom_kill 12x\n", 13), -1);
	/* only len bytes are read */
	assert_int_equal(splq_oom_parse("oom_kill 45", 10), 4);
}

/* ---- a keyed cgroup file: cpu.stat for stats ---- */

static void test_cgroup_key(void **state)
{
	static const char cpu[] = "usage_usec 1523004\nuser_usec 1000\nsystem_usec 523004\n"
	                          "nr_periods 0\n";

	assert_int_equal(splq_cgroup_key(cpu, strlen(cpu), "usage_usec"), 1523004);
	assert_int_equal(splq_cgroup_key(cpu, strlen(cpu), "system_usec"), 523004);
	assert_int_equal(splq_cgroup_key(cpu, strlen(cpu), "nr_periods"), 0);
	/* a key is a whole word: no prefix, no suffix */
	assert_int_equal(splq_cgroup_key(cpu, strlen(cpu), "usage"), -1);
	assert_int_equal(splq_cgroup_key(cpu, strlen(cpu), "sage_usec"), -1);
	assert_int_equal(splq_cgroup_key(cpu, strlen(cpu), "throttled_usec"), -1);
	/* a number too long for any counter is none */
	assert_int_equal(splq_cgroup_key("k 123456789012345678901234567890123456789012\n", 46, "k"),
	                 -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_must_rotate), cmocka_unit_test(test_names),
	    T(test_write_rotates_within_bound), T(test_write_larger_than_bound),
	    T(test_write_refuses_a_link),       T(test_remove),
	    cmocka_unit_test(test_oom_parse),
	    cmocka_unit_test(test_cgroup_key),
	};

	return cmocka_run_group_tests_name("qubelog", tests, NULL, NULL);
}
