/* Unit tests for the command line's pure pieces: option parsing (what a
 * user sees for a mistake, and --json wherever it is given), argument
 * checks, and the UTF-8 clean-up that keeps --json output valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/cli/args.c"
#include "../../src/cli/text.c"

/* ---------- UTF-8 ---------- */

#define FFFD "\xef\xbf\xbd"

static void sanitize_is(const char *in, size_t inlen, const char *want, size_t wantlen)
{
	size_t n = 12345;
	char *out = cli_utf8_sanitize(in, inlen, &n);

	assert_int_equal(n, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(out[n], '\0');
	free(out);
}
#define SANITIZE_IS(in, want) sanitize_is(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_utf8_valid_unchanged(void **state)
{
	SANITIZE_IS("", "");
	SANITIZE_IS("plain ascii\n", "plain ascii\n");
	SANITIZE_IS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* the edges of the ranges */
	SANITIZE_IS("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf",
	            "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf");
	/* a NUL byte is a character too: the length tells */
	SANITIZE_IS("a\0b", "a\0b");
}

static void test_utf8_invalid_replaced(void **state)
{
	SANITIZE_IS("\xff", FFFD);
	SANITIZE_IS("a\xfe\xff"
	            "b",
	            "a" FFFD FFFD "b");
	/* a stray continuation byte */
	SANITIZE_IS("\x80x", FFFD "x");
	/* a sequence cut short: its good beginning is one replacement */
	SANITIZE_IS("\xe2\x82", FFFD);
	SANITIZE_IS("\xe2\x82"
	            "A",
	            FFFD "A");
	SANITIZE_IS("\xf0\x9f\x98"
	            "end",
	            FFFD "end");
	/* overlong forms */
	SANITIZE_IS("\xc0\xaf", FFFD FFFD);
	SANITIZE_IS("\xe0\x80\xaf", FFFD FFFD FFFD);
	/* a UTF-16 surrogate (U+D800) */
	SANITIZE_IS("\xed\xa0\x80", FFFD FFFD FFFD);
	/* past U+10FFFF */
	SANITIZE_IS("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	SANITIZE_IS("\xf5\x80", FFFD FFFD);
}

/* Whatever bytes a command writes, the result makes a JSON string. */
static void test_utf8_random_bytes_make_json(void **state)
{
	unsigned seed = 12345;
	char buf[256];

	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round % 64) + 1, n;
		char *out;
		json_t *s;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (char)(seed >> 16);
		}
		out = cli_utf8_sanitize(buf, len, &n);
		s = json_stringn(out, n);
		assert_non_null(s);
		json_decref(s);
		free(out);
	}
}

static void test_one_line(void **state)
{
	char s[] = "line1\nline2\r\x1b[31mred\x7f\tend";

	assert_string_equal(cli_one_line(s), "line1?line2??[31mred??end");
}

/* ---------- argument checks ---------- */

static void size_is(const char *s, long long want)
{
	struct splq_error err = {0};
	long long v = -1;

	assert_int_equal(cli_parse_size("--max-output", s, &v, &err), 0);
	assert_true(v == want);
}

static void size_bad(const char *s, const char *msg)
{
	struct splq_error err = {0};
	long long v = -1;

	assert_int_equal(cli_parse_size("--max-output", s, &v, &err), -1);
	assert_int_equal(err.code, SPLQ_E_USAGE);
	assert_non_null(strstr(err.msg, msg));
	assert_true(v == -1);
}

static void test_parse_size(void **state)
{
	(void)state;
	size_is("1", 1);
	size_is("4096", 4096);
	size_is("512K", 512 << 10);
	size_is("16M", 16LL << 20);
	size_is("16MiB", 16LL << 20);
	size_is("2G", 2LL << 30);
	size_is("3TB", 3000000000000LL);
	size_is("100", 100);
	size_bad("0", "at least 1 byte");
	size_bad("", "whole number");
	size_bad("-1", "whole number");
	size_bad("12X", "unknown unit");
	size_bad("1Kb", "unknown unit");
	size_bad("1M ", "unknown unit");
	size_bad("99999999999999999999", "too large");
	size_bad("9999999T", "too large");
}

static void test_parse_seconds(void **state)
{
	struct splq_error err = {0};
	long v = 0;

	assert_int_equal(cli_parse_seconds("--timeout", "30", &v, &err), 0);
	assert_int_equal(v, 30);
	assert_int_equal(cli_parse_seconds("--timeout", "31536000", &v, &err), 0);
	assert_int_equal(v, 31536000);
	/* the one duration parser: s, m, h, d */
	static const struct {
		const char *in;
		long s;
	} good[] = {{"5s", 5}, {"5m", 300}, {"1h", 3600}, {"2d", 172800}, {"365d", 31536000}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(cli_parse_seconds("--timeout", good[i].in, &v, &err), 0);
		assert_int_equal(v, good[i].s);
	}
	const char *bad[] = {"0",    "0m",   "-5",     "abc", "",   " 5",
	                     "+5",   "31536001", "366d",  "99999999999999999999999",
	                     "1.5",  "5y",   "5 s",    "5ss", "m",  "99999999999999d"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		v = -1;
		assert_int_equal(cli_parse_seconds("--timeout", bad[i], &v, &err), -1);
		assert_int_equal(err.code, SPLQ_E_USAGE);
		assert_non_null(strstr(err.msg, "--timeout"));
		assert_int_equal(v, -1);
	}
}

static void test_parse_assign(void **state)
{
	struct splq_error err = {0};
	struct splq_prop_assign a = {0};
	char ok[] = "memory=800", empty[] = "netvm=", eq[] = "default_user=a=b";
	char noeq[] = "memory", noname[] = "=5";

	assert_int_equal(cli_parse_assign("--prop", ok, &a, &err), 0);
	assert_string_equal(a.name, "memory");
	assert_string_equal(a.value, "800");
	assert_int_equal(cli_parse_assign("--prop", empty, &a, &err), 0);
	assert_string_equal(a.name, "netvm");
	assert_string_equal(a.value, "");
	assert_int_equal(cli_parse_assign("--prop", eq, &a, &err), 0);
	assert_string_equal(a.name, "default_user");
	assert_string_equal(a.value, "a=b");
	assert_int_equal(cli_parse_assign("--prop", noeq, &a, &err), -1);
	assert_int_equal(err.code, SPLQ_E_USAGE);
	assert_non_null(strstr(err.msg, "NAME=VALUE"));
	assert_int_equal(cli_parse_assign("--prop", noname, &a, &err), -1);
	assert_int_equal(err.code, SPLQ_E_USAGE);
}

static void test_parse_class(void **state)
{
	struct splq_error err = {0};
	enum splq_class c = SPLQ_CLASS_ADMINVM;

	assert_int_equal(cli_parse_create_class("AppVM", &c, &err), 0);
	assert_int_equal(c, SPLQ_CLASS_APPVM);
	assert_int_equal(cli_parse_create_class("StandaloneVM", &c, &err), 0);
	assert_int_equal(c, SPLQ_CLASS_STANDALONEVM);
	const char *bad[] = {"TemplateVM", "DispVM", "AdminVM", "appvm", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(cli_parse_create_class(bad[i], &c, &err), -1);
		assert_int_equal(err.code, SPLQ_E_USAGE);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(c, SPLQ_CLASS_STANDALONEVM);
}

/* ---------- cli_getopt ---------- */

static const struct option create_opts[] = {
    {"template", required_argument, NULL, 't'},
    {"label", required_argument, NULL, 'l'},
    {"memory", required_argument, NULL, CLI_OPT_MEMORY},
    CLI_COMMON_OPTIONS,
    {0},
};

/* Parse argv like `splq create ...` does; returns the template given. */
static const char *parse(struct cli *cli, int argc, char **argv, const char *shortopts)
{
	const char *template = NULL;
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->cmd = "create";
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, shortopts, create_opts)) != -1)
		if (c == 't')
			template = optarg;
	return template;
}

static void test_getopt_anywhere(void **state)
{
	char *argv[] = {"create", "work", "--json", "-t", "deb", NULL};
	struct cli cli;
	const char *t = parse(&cli, 5, argv, ":ht:l:");

	assert_string_equal(t, "deb");
	assert_true(cli.json);
	assert_false(cli.help);
	assert_string_equal(cli.usage, "");
	/* the one positional argument, whatever came after it */
	assert_int_equal(5 - optind, 1);
	assert_string_equal(argv[optind], "work");
}

static void test_getopt_not_after_dashdash(void **state)
{
	char *argv[] = {"create", "-t", "deb", "--", "--json", NULL};
	struct cli cli;

	parse(&cli, 5, argv, ":ht:l:");
	assert_false(cli.json);
	assert_string_equal(argv[optind], "--json");
}

static void test_getopt_plus_mode_stops_at_name(void **state)
{
	/* run: everything after the qube's name is the command */
	char *argv[] = {"run", "--json", "work", "echo", "--json", "-t", "x", NULL};
	struct cli cli;
	const char *t = parse(&cli, 7, argv, "+:ht:l:");

	assert_null(t);
	assert_true(cli.json);
	assert_string_equal(cli.usage, "");
	assert_string_equal(argv[optind], "work");
	assert_string_equal(argv[optind + 1], "echo");
	assert_string_equal(argv[optind + 2], "--json");
}

static void test_getopt_mistakes(void **state)
{
	struct cli cli;
	char *unknown_long[] = {"create", "--nope=1", "w", NULL};
	char *unknown_short[] = {"create", "-x", "w", NULL};
	char *missing_long[] = {"create", "w", "--template", NULL};
	char *missing_short[] = {"create", "w", "-t", NULL};
	char *novalue[] = {"create", "--json=yes", NULL};
	char *first_wins[] = {"create", "--bad", "-y", "--json", NULL};
	char *help[] = {"create", "--bogus", "-h", NULL};

	parse(&cli, 3, unknown_long, ":ht:l:");
	assert_string_equal(cli.usage, "unknown option '--nope'");
	parse(&cli, 3, unknown_short, ":ht:l:");
	assert_string_equal(cli.usage, "unknown option '-x'");
	parse(&cli, 3, missing_long, ":ht:l:");
	assert_string_equal(cli.usage, "option '--template' needs a value");
	parse(&cli, 3, missing_short, ":ht:l:");
	assert_string_equal(cli.usage, "option '-t' needs a value");
	parse(&cli, 2, novalue, ":ht:l:");
	assert_string_equal(cli.usage, "option '--json' takes no value");
	/* the first mistake is told, and a later --json still counts */
	parse(&cli, 4, first_wins, ":ht:l:");
	assert_string_equal(cli.usage, "unknown option '--bad'");
	assert_true(cli.json);
	/* --help is seen after a mistake too (it wins in cli_parse_end) */
	parse(&cli, 3, help, ":ht:l:");
	assert_true(cli.help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_valid_unchanged),
	    cmocka_unit_test(test_utf8_invalid_replaced),
	    cmocka_unit_test(test_utf8_random_bytes_make_json),
	    cmocka_unit_test(test_one_line),
	    cmocka_unit_test(test_parse_seconds),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_parse_assign),
	    cmocka_unit_test(test_parse_class),
	    cmocka_unit_test(test_getopt_anywhere),
	    cmocka_unit_test(test_getopt_not_after_dashdash),
	    cmocka_unit_test(test_getopt_plus_mode_stops_at_name),
	    cmocka_unit_test(test_getopt_mistakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
