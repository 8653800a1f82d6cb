/* Unit tests: CPU lists and the CPUs a qube is pinned to (native/cpus.c). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <sched.h>
#include <string.h>

#include "native/cpus.h"

/* parse then format: the list as the kernel writes it */
static void roundtrip(const char *in, const char *want)
{
	cpu_set_t set;
	char out[256];

	assert_int_equal(splq_cpus_parse(in, &set), 0);
	assert_int_equal(splq_cpus_format(&set, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_parse_format(void **state)
{
	cpu_set_t set;

	roundtrip("0", "0");
	roundtrip("0-3\n", "0-3");
	roundtrip("0,1,2,5", "0-2,5");
	roundtrip("8-11,3", "3,8-11");
	roundtrip("", "");
	roundtrip("\n", "");
	roundtrip("2-2", "2");
	assert_int_equal(splq_cpus_parse("0-1,4-7", &set), 0);
	assert_int_equal(CPU_COUNT(&set), 6);
	assert_true(CPU_ISSET(5, &set));
	assert_false(CPU_ISSET(2, &set));
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {"x",   "1-",   "-1", "3-1",   "1,",      ",1",    "1,,2",
	                                  "1 2", "1\n2", "-",  "99999", "0-99999", "1-2-3", "0x1"};
	cpu_set_t set;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (splq_cpus_parse(bad[i], &set) != -1)
			fail_msg("'%s' parsed", bad[i]);
}

static void test_format_small_buffer(void **state)
{
	cpu_set_t set;
	char out[4];

	assert_int_equal(splq_cpus_parse("0,2,4,6", &set), 0);
	assert_int_equal(splq_cpus_format(&set, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(splq_cpus_format(&set, out, 0), -1);
}

static const char *pick(const char *from, long n, unsigned long turn)
{
	static char out[256];
	cpu_set_t f, o;

	assert_int_equal(splq_cpus_parse(from, &f), 0);
	if (splq_cpus_pick(&f, n, turn, &o) < 0)
		return NULL;
	assert_int_equal(CPU_COUNT(&o), n);
	assert_int_equal(splq_cpus_format(&o, out, sizeof(out)), 0);
	return out;
}

static void test_pick(void **state)
{
	/* one CPU each: qubes of consecutive slots take turns */
	assert_string_equal(pick("0-1", 1, 0), "0");
	assert_string_equal(pick("0-1", 1, 1), "1");
	assert_string_equal(pick("0-1", 1, 2), "0");
	/* blocks of n, wrapping around */
	assert_string_equal(pick("0-3", 2, 0), "0-1");
	assert_string_equal(pick("0-3", 2, 1), "2-3");
	assert_string_equal(pick("0-2", 2, 1), "0,2");
	/* only CPUs of the set, in its order */
	assert_string_equal(pick("1,3,5,7", 2, 1), "5,7");
	assert_string_equal(pick("4-7", 4, 12345), "4-7");
	/* a slot far up the range */
	assert_string_equal(pick("0-1", 1, 999999), "1");
	/* not more than there are, and at least one */
	assert_null(pick("0-1", 3, 0));
	assert_null(pick("0-1", 0, 0));
	assert_null(pick("", 1, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_format),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_format_small_buffer),
	    cmocka_unit_test(test_pick),
	};

	return cmocka_run_group_tests_name("cpus", tests, NULL, NULL);
}
