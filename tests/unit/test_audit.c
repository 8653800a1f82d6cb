/* splq: unit tests of the audit log: the line format, the parser, the hash
 * chain (every kind of tampering at every position), --since values, and
 * appending through a real store. */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "store.h"
#include "tree.h"
#include "util.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- helpers ---- */

static char *format_entry(long long seq, const char *time, const char *actor, const char *op,
                          const char *target, const char *args, const char *result,
                          const char *prev)
{
	struct splq_audit_entry e = {0};
	char *line;

	e.seq = seq;
	assert_true(strlen(time) < sizeof(e.time));
	memcpy(e.time, time, strlen(time) + 1);
	e.actor = (char *)actor;
	e.op = (char *)op;
	e.target = (char *)target;
	e.args = (char *)args;
	e.result = (char *)result;
	assert_true(strlen(prev) < sizeof(e.prev));
	memcpy(e.prev, prev, strlen(prev) + 1);
	line = splq_audit_format(&e);
	assert_non_null(line);
	return line;
}

static bool contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

#define assert_contains(h, n)                                                                      \
	do {                                                                                       \
		if (!contains((h), (n)))                                                           \
			fail_msg("\"%s\" does not contain \"%s\"", (h), (n));                      \
	} while (0)

/* A six-entry log built by hand.  The values hold no character that JSON
 * escapes, and none whose low bit flipped gives '"' or '\\', so that the
 * byte-flip test below knows exactly which flips leave a line valid. */
#define NLOG 6
static const struct {
	const char *actor, *op, *target, *args, *result;
} log_values[NLOG] = {
    {"uid:0", "create", "work", "--template debian-12 --label blue", "ok"},
    {"uid:0", "start", "work", "", "ok"},
    {"qube:work", "run", "work", "ls -la /home/user", "exit 0"},
    {"uid:1000", "prefs", "work", "memory 800", "ok"},
    {"uid:0", "dispvm", "disp42", "--timeout 30 make test", "exit 3"},
    {"uid:0", "remove", "work", "", "error: qube 'work' is running; shut it down first"},
};

struct testlog {
	char buf[8192];
	size_t len;
	size_t off[NLOG + 1]; /* where line i (0-based) starts; off[NLOG] = len */
	char hash[NLOG][65];  /* hash of each line */
};

static void build_log(struct testlog *t)
{
	char prev[65] = ZEROS;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < NLOG; i++) {
		char time[64];
		char *line;
		size_t n;

		/* every digit of these times stays a valid time when its low bit
		 * flips (month 11, day 12, hours/minutes 11, seconds 1x) */
		snprintf(time, sizeof(time), "2026-11-12T11:11:1%d.%03uZ", i,
		         111u * (unsigned)(i + 1) % 1000u);
		line = format_entry(i + 1, time, log_values[i].actor, log_values[i].op,
		                    log_values[i].target, log_values[i].args, log_values[i].result,
		                    prev);
		n = strlen(line);
		assert_true(t->len + n + 1 < sizeof(t->buf));
		t->off[i] = t->len;
		memcpy(t->buf + t->len, line, n);
		t->len += n;
		t->buf[t->len++] = '\n';
		splq_sha256_hex(line, n, prev);
		memcpy(t->hash[i], prev, 65);
		free(line);
	}
	t->off[NLOG] = t->len;
}

static size_t line_len(const struct testlog *t, int i) /* without the newline */
{
	return t->off[i + 1] - t->off[i] - 1;
}

/* Is byte pos of line i inside a string value whose change the line's own
 * content cannot reveal (any byte of actor, op, target, args, result, and
 * the digits of time)? */
static bool in_free_text(const struct testlog *t, int i, size_t pos)
{
	static const char *const keys[] = {"time", "actor", "op", "target", "args", "result"};
	const char *line = t->buf + t->off[i];
	size_t len = line_len(t, i);

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char pat[32];
		const char *p, *vs, *ve;

		snprintf(pat, sizeof(pat), "\"%s\":\"", keys[k]);
		p = memmem(line, len, pat, strlen(pat));
		assert_non_null(p);
		vs = p + strlen(pat);
		ve = memchr(vs, '"', (size_t)(line + len - vs));
		assert_non_null(ve);
		if (line + pos >= vs && line + pos < ve)
			return k > 0 || (line[pos] >= '0' && line[pos] <= '9');
	}
	return false;
}

static long long verify_bad(const char *buf, size_t len, long long head_seq, const char *head,
                            struct splq_error *err)
{
	long long bad = -1;
	int r;

	memset(err, 0, sizeof(*err));
	r = splq_audit_verify_buffer(buf, len, head_seq, head, &bad, err);
	if (r == 0)
		return 0;
	assert_int_equal(r, -1);
	assert_int_equal(err->code, SPLQ_E_AUDIT);
	assert_true(err->msg[0] != '\0');
	return bad;
}

/* ---- hashing and the line format ---- */

static void test_sha256_vectors(void **state)
{
	char out[65];

	splq_sha256_hex("abc", 3, out);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	splq_sha256_hex("", 0, out);
	assert_string_equal(out,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_format_exact_bytes(void **state)
{
	char *line = format_entry(7, "2026-11-28T10:00:00.123Z", "uid:0", "create", "work",
	                          "--template t --label blue", "ok", ZEROS);

	assert_string_equal(line,
	                    "{\"seq\":7,\"time\":\"2026-11-28T10:00:00.123Z\",\"actor\":\"uid:0\","
	                    "\"op\":\"create\",\"target\":\"work\",\"args\":\"--template t "
	                    "--label blue\",\"result\":\"ok\",\"prev\":\"" ZEROS "\"}");
	free(line);

	/* NULL args and result are written as empty strings */
	line = format_entry(1, "2026-11-28T10:00:00.123Z", "uid:0", "start", "", NULL, NULL, ZEROS);
	assert_contains(line, "\"target\":\"\",\"args\":\"\",\"result\":\"\",");
	free(line);
}

static void test_round_trip(void **state)
{
	static const char *const values[] = {
	    "plain",
	    "",
	    "say \"hi\" and 'bye'",
	    "back\\slash \\\" \\n",
	    "two\nlines\r\nand a\ttab",
	    "\x01\x02\x1b[31mred\x1b[0m\x1f\x7f",
	    "caf\xc3\xa9 \xe2\x82\xac 100 \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac",
	    "slash / and {\"json\":[1,2]}",
	    "\xe2\x80\xa8 line separator",
	};
	size_t n = sizeof(values) / sizeof(values[0]);

	for (size_t i = 0; i < n; i++) {
		const char *v = values[i], *w = values[(i + 3) % n];
		struct splq_audit_entry e;
		struct splq_error err;
		char *line = format_entry(
		    42, "2026-01-31T23:59:59.999Z", v, w, v, w, v,
		    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		char *again;

		assert_null(memchr(line, '\n', strlen(line)));
		assert_null(memchr(line, '\r', strlen(line)));
		assert_int_equal(splq_audit_parse(line, strlen(line), &e, &err), 0);
		assert_int_equal(e.seq, 42);
		assert_string_equal(e.time, "2026-01-31T23:59:59.999Z");
		assert_string_equal(e.actor, v);
		assert_string_equal(e.op, w);
		assert_string_equal(e.target, v);
		assert_string_equal(e.args, w);
		assert_string_equal(e.result, v);
		assert_string_equal(
		    e.prev, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		again = splq_audit_format(&e);
		assert_non_null(again);
		assert_string_equal(again, line);
		splq_audit_entry_clear(&e);
		assert_null(e.actor);
		free(again);
		free(line);
	}
}

static void test_format_invalid_utf8(void **state)
{
	/* argv may hold any bytes: they must not break the line */
	struct splq_audit_entry e;
	struct splq_error err;
	char *line = format_entry(1, "2026-11-28T10:00:00.000Z", "uid:0", "run", "work",
	                          "bad \xff byte \xc3 cut \xed\xa0\x80 surrogate", "ok", ZEROS);
	char *again;

	assert_int_equal(splq_audit_parse(line, strlen(line), &e, &err), 0);
	assert_string_equal(e.args, "bad \xef\xbf\xbd byte \xef\xbf\xbd cut "
	                            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate");
	again = splq_audit_format(&e);
	assert_string_equal(again, line);
	free(again);
	free(line);
	splq_audit_entry_clear(&e);
}

static void test_parse_rejects(void **state)
{
#define T "\"time\":\"2026-11-28T10:00:00.123Z\""
#define P "\"prev\":\"" ZEROS "\""
#define S                                                                                          \
	"\"actor\":\"uid:0\",\"op\":\"create\",\"target\":\"work\",\"args\":\"\",\"result\":"      \
	"\"ok\""
	static const struct {
		const char *line, *why;
	} bad[] = {
	    {"", "not JSON"},
	    {"{\"seq\":1,", "not JSON"},
	    {"[1,2,3]", "not a JSON object"},
	    {"{\"seq\":1," T "," S "," P "} trailing", "not JSON"},
	    {"{\"seq\":1," T "," S "," P ",\"extra\":1}", "unknown key \"extra\""},
	    {"{\"seq\":1," T "," S "," P ",\"seq\":2}", "not JSON"}, /* duplicate key */
	    {"{" T "," S "," P "}", "\"seq\" is missing"},
	    {"{\"seq\":1," S "," P "}", "\"time\" is missing"},
	    {"{\"seq\":1," T ",\"op\":\"c\",\"target\":\"w\",\"args\":\"\",\"result\":\"ok\"," P
	     "}",
	     "\"actor\" is missing"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"target\":\"w\",\"args\":\"\",\"result\":\"ok\"," P
	     "}",
	     "\"op\" is missing"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":\"c\",\"args\":\"\",\"result\":\"ok\"," P "}",
	     "\"target\" is missing"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":\"c\",\"target\":\"w\",\"result\":\"ok\"," P
	     "}",
	     "\"args\" is missing"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":\"c\",\"target\":\"w\",\"args\":\"\"," P "}",
	     "\"result\" is missing"},
	    {"{\"seq\":1," T "," S "}", "\"prev\" is missing"},
	    {"{\"seq\":\"1\"," T "," S "," P "}", "\"seq\" is not an integer"},
	    {"{\"seq\":1.0," T "," S "," P "}", "\"seq\" is not an integer"},
	    {"{\"seq\":null," T "," S "," P "}", "\"seq\" is not an integer"},
	    {"{\"seq\":0," T "," S "," P "}", "\"seq\" is 0; it must be 1 or more"},
	    {"{\"seq\":-3," T "," S "," P "}", "\"seq\" is -3"},
	    {"{\"seq\":99999999999999999999," T "," S "," P "}", "not JSON"},
	    {"{\"seq\":1,\"time\":5," S "," P "}", "\"time\" is not a string"},
	    {"{\"seq\":1,\"time\":\"yesterday\"," S "," P "}", "\"time\" is not a UTC time"},
	    {"{\"seq\":1,\"time\":\"2026-11-28T10:00:00Z\"," S "," P "}", "\"time\" is not a UTC"},
	    {"{\"seq\":1,\"time\":\"2026-02-30T10:00:00.000Z\"," S "," P "}", "\"time\""},
	    {"{\"seq\":1,\"time\":\"2026-11-28T24:00:00.000Z\"," S "," P "}", "\"time\""},
	    {"{\"seq\":1,\"time\":\"2026-11-28T10:00:00.000+01:00\"," S "," P "}", "\"time\""},
	    {"{\"seq\":1," T ",\"actor\":7,\"op\":\"c\",\"target\":\"w\",\"args\":\"\",\"result\":"
	     "\"ok\"," P "}",
	     "\"actor\" is not a string"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":null,\"target\":\"w\",\"args\":\"\","
	     "\"result\":\"ok\"," P "}",
	     "\"op\" is not a string"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":\"c\",\"target\":[],\"args\":\"\","
	     "\"result\":\"ok\"," P "}",
	     "\"target\" is not a string"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":\"c\",\"target\":\"w\",\"args\":{},"
	     "\"result\":\"ok\"," P "}",
	     "\"args\" is not a string"},
	    {"{\"seq\":1," T ",\"actor\":\"u\",\"op\":\"c\",\"target\":\"w\",\"args\":\"\","
	     "\"result\":true," P "}",
	     "\"result\" is not a string"},
	    {"{\"seq\":1," T "," S ",\"prev\":1}", "\"prev\" is not a string"},
	    {"{\"seq\":1," T "," S ",\"prev\":\"" ZEROS "0\"}", "\"prev\" is not 64 lowercase hex"},
	    {"{\"seq\":1," T "," S ",\"prev\":\""
	     "000000000000000000000000000000000000000000000000000"
	     "000000000000\"}",
	     "\"prev\" is not 64"},
	    {"{\"seq\":1," T "," S
	     ",\"prev\":\"ABCDEF0000000000000000000000000000000000000000000000"
	     "000000000000\"}",
	     "\"prev\" is not 64 lowercase hex"},
	    {"{\"seq\":1," T "," S ",\"prev\":\"g00000000000000000000000000000000000000000000000000"
	     "0000000000000\"}",
	     "\"prev\" is not 64 lowercase hex"},
	    {"{\"seq\":1," T ",\"actor\":\"a\\u0000b\",\"op\":\"c\",\"target\":\"w\",\"args\":\"\","
	     "\"result\":\"ok\"," P "}",
	     "not JSON"},
	};
	/* and the same line correct, to show the table tests what it says */
	static const char good[] = "{\"seq\":1," T "," S "," P "}";
#undef T
#undef P
#undef S
	struct splq_audit_entry e;
	struct splq_error err;

	assert_int_equal(splq_audit_parse(good, strlen(good), &e, &err), 0);
	splq_audit_entry_clear(&e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (splq_audit_parse(bad[i].line, strlen(bad[i].line), &e, &err) == 0)
			fail_msg("accepted: %s", bad[i].line);
		assert_int_equal(err.code, SPLQ_E_AUDIT);
		if (!contains(err.msg, bad[i].why))
			fail_msg("for %s: message \"%s\" lacks \"%s\"", bad[i].line, err.msg,
			         bad[i].why);
		assert_null(e.actor);
	}
	/* a NUL byte inside the buffer */
	{
		char withnul[sizeof(good)];
		memcpy(withnul, good, sizeof(good));
		withnul[30] = '\0';
		assert_int_equal(splq_audit_parse(withnul, sizeof(good) - 1, &e, &err), -1);
		assert_int_equal(err.code, SPLQ_E_AUDIT);
	}
}

/* ---- the hash chain ---- */

static void test_verify_good_logs(void **state)
{
	struct testlog t;
	struct splq_error err;

	build_log(&t);
	assert_int_equal(verify_bad(t.buf, t.len, NLOG, t.hash[NLOG - 1], &err), 0);
	/* every prefix is a good log for the matching head */
	for (int i = 0; i < NLOG; i++)
		assert_int_equal(verify_bad(t.buf, t.off[i + 1], i + 1, t.hash[i], &err), 0);
	assert_int_equal(verify_bad("", 0, 0, NULL, &err), 0);
	assert_int_equal(verify_bad("", 0, 0, "", &err), 0);
	/* the first line's prev is 64 zeros */
	assert_non_null(memmem(t.buf, line_len(&t, 0), "\"prev\":\"" ZEROS "\"}",
	                       strlen("\"prev\":\"" ZEROS "\"}")));
}

static void test_tamper_flip_every_byte(void **state)
{
	struct testlog t;
	struct splq_error err;
	int free_text = 0, structure = 0;

	build_log(&t);
	for (int i = 0; i < NLOG; i++) {
		for (size_t p = t.off[i]; p < t.off[i + 1]; p++) {
			char copy[sizeof(t.buf)];
			long long expect, bad;
			bool newline = p == t.off[i + 1] - 1;

			memcpy(copy, t.buf, t.len);
			copy[p] ^= 0x01;
			/* A flip the line itself cannot reveal (a changed letter in
			 * a free-text value or a time digit) is caught by the next
			 * entry's prev, or, for the last entry, by the store's
			 * head.  Anything else breaks the line itself. */
			if (!newline && in_free_text(&t, i, p - t.off[i])) {
				expect = i + 1 < NLOG ? i + 2 : NLOG;
				free_text++;
			} else {
				expect = i + 1;
				structure++;
			}
			bad = verify_bad(copy, t.len, NLOG, t.hash[NLOG - 1], &err);
			if (bad != expect)
				fail_msg(
				    "byte %zu of entry %d ('%c' -> '%c'): reported entry %lld, "
				    "expected %lld (%s)",
				    p - t.off[i], i + 1, t.buf[p], copy[p], bad, expect, err.msg);
			if (expect == i + 2)
				assert_contains(err.msg, "does not follow entry");
			char want[32];
			snprintf(want, sizeof(want), "entry %lld:", expect);
			assert_contains(err.msg, want);
		}
	}
	/* both kinds were exercised, many times */
	assert_true(free_text > 150);
	assert_true(structure > 600);
}

static void test_tamper_delete_each(void **state)
{
	struct testlog t;
	struct splq_error err;

	build_log(&t);
	for (int k = 0; k < NLOG; k++) {
		char copy[sizeof(t.buf)];
		size_t n = t.off[k];

		memcpy(copy, t.buf, t.off[k]);
		memcpy(copy + n, t.buf + t.off[k + 1], t.len - t.off[k + 1]);
		n += t.len - t.off[k + 1];
		assert_int_equal(verify_bad(copy, n, NLOG, t.hash[NLOG - 1], &err), k + 1);
		if (k < NLOG - 1) {
			char want[96];
			snprintf(want, sizeof(want), "entry %d: sequence number is %d, expected %d",
			         k + 1, k + 2, k + 1);
			assert_contains(err.msg, want);
		} else {
			assert_contains(err.msg, "the log ends at entry 5 but the store records 6 "
			                         "entries (entries were removed from the end)");
		}
	}
	/* everything deleted */
	assert_int_equal(verify_bad("", 0, NLOG, t.hash[NLOG - 1], &err), 1);
	assert_contains(err.msg, "the log is empty but the store records 6 entries");
}

/* Copy lines in the given order (indexes into t) into out. */
static size_t assemble(const struct testlog *t, const int *order, int n, char *out)
{
	size_t len = 0;

	for (int k = 0; k < n; k++) {
		size_t l = t->off[order[k] + 1] - t->off[order[k]];
		memcpy(out + len, t->buf + t->off[order[k]], l);
		len += l;
	}
	return len;
}

static void test_tamper_swap_each_pair(void **state)
{
	struct testlog t;
	struct splq_error err;

	build_log(&t);
	for (int a = 0; a < NLOG; a++) {
		for (int b = a + 1; b < NLOG; b++) {
			int order[NLOG];
			char copy[sizeof(t.buf)], want[96];
			size_t n;

			for (int k = 0; k < NLOG; k++)
				order[k] = k;
			order[a] = b;
			order[b] = a;
			n = assemble(&t, order, NLOG, copy);
			assert_int_equal(n, t.len);
			assert_int_equal(verify_bad(copy, n, NLOG, t.hash[NLOG - 1], &err), a + 1);
			snprintf(want, sizeof(want), "entry %d: sequence number is %d, expected %d",
			         a + 1, b + 1, a + 1);
			assert_contains(err.msg, want);
		}
	}
}

static void test_tamper_insert_copy(void **state)
{
	struct testlog t;
	struct splq_error err;

	build_log(&t);
	/* a copy of entry k put before line p (p == NLOG: at the end) */
	for (int k = 0; k < NLOG; k++) {
		for (int p = 0; p <= NLOG; p++) {
			int order[NLOG + 1], n = 0;
			char copy[2 * sizeof(t.buf)];
			long long expect;
			size_t len;

			for (int j = 0; j < NLOG; j++) {
				if (j == p)
					order[n++] = k;
				order[n++] = j;
			}
			if (p == NLOG)
				order[n++] = k;
			len = assemble(&t, order, n, copy);
			/* A copy of entry p+1 put just before it is, at its place,
			 * exactly right; the original after it is then out of
			 * place.  Any other copy is out of place itself. */
			expect = k == p ? p + 2 : p + 1;
			if (verify_bad(copy, len, NLOG, t.hash[NLOG - 1], &err) != expect)
				fail_msg("copy of entry %d inserted at line %d: %s (expected entry "
				         "%lld)",
				         k + 1, p + 1, err.msg, expect);
			if (expect == NLOG + 1)
				assert_contains(err.msg, "entry 7: not recorded in the store "
				                         "(appended by hand)");
		}
	}
}

static void test_tamper_insert_forged(void **state)
{
	struct testlog t;
	struct splq_error err;

	build_log(&t);
	/* A forged entry with the right seq and prev for its place: the line is
	 * locally perfect; the chain breaks at the entry pushed down after it
	 * (its seq no longer matches), at the store's head hash when it sits in
	 * the head's place, or at the end when it is extra. */
	for (int p = 0; p <= NLOG; p++) {
		char copy[2 * sizeof(t.buf)];
		char *forged = format_entry(p + 1, "2026-11-12T11:12:00.000Z", "uid:0", "create",
		                            "evil", "", "ok", p == 0 ? ZEROS : t.hash[p - 1]);
		size_t n = t.off[p], fl = strlen(forged);
		long long expect = p < NLOG - 1 ? p + 2 : p + 1;
		long long bad;

		memcpy(copy, t.buf, n);
		memcpy(copy + n, forged, fl);
		copy[n + fl] = '\n';
		memcpy(copy + n + fl + 1, t.buf + t.off[p], t.len - t.off[p]);
		bad = verify_bad(copy, t.len + fl + 1, NLOG, t.hash[NLOG - 1], &err);
		if (bad != expect)
			fail_msg("forged entry at line %d: %s (expected entry %lld)", p + 1,
			         err.msg, expect);
		if (p == NLOG - 1)
			assert_contains(err.msg, "entry 6: changed (its hash does not match the "
			                         "store's record)");
		if (p == NLOG)
			assert_contains(err.msg, "entry 7: not recorded in the store");
		free(forged);
	}
}

static void test_verify_tail_and_head(void **state)
{
	struct testlog t;
	struct splq_error err;
	char copy[sizeof(t.buf) + 2];

	build_log(&t);
	/* no final newline */
	assert_int_equal(verify_bad(t.buf, t.len - 1, NLOG, t.hash[NLOG - 1], &err), NLOG);
	assert_contains(err.msg, "entry 6: incomplete");
	/* the last line cut in half */
	assert_int_equal(verify_bad(t.buf, t.off[NLOG - 1] + 20, NLOG, t.hash[NLOG - 1], &err),
	                 NLOG);
	assert_contains(err.msg, "entry 6: not a valid audit entry");
	/* the store has more entries than the log */
	assert_int_equal(verify_bad(t.buf, t.len, NLOG + 1, t.hash[NLOG - 1], &err), NLOG + 1);
	assert_contains(err.msg, "the log ends at entry 6 but the store records 7 entries");
	/* the head's hash differs: the last entry was changed */
	assert_int_equal(verify_bad(t.buf, t.len, NLOG, t.hash[NLOG - 2], &err), NLOG);
	assert_contains(err.msg, "entry 6: changed (its hash does not match the store's record)");
	/* the log has more entries than the store */
	assert_int_equal(verify_bad(t.buf, t.len, NLOG - 1, t.hash[NLOG - 2], &err), NLOG);
	assert_contains(err.msg, "entry 6: not recorded in the store (appended by hand)");
	assert_int_equal(verify_bad(t.buf, t.len, 0, NULL, &err), 1);
	assert_contains(err.msg, "entry 1: not recorded in the store");
	/* a blank line at the end */
	memcpy(copy, t.buf, t.len);
	copy[t.len] = '\n';
	assert_int_equal(verify_bad(copy, t.len + 1, NLOG, t.hash[NLOG - 1], &err), NLOG + 1);
	/* a blank line in the middle */
	memcpy(copy, t.buf, t.off[2]);
	copy[t.off[2]] = '\n';
	memcpy(copy + t.off[2] + 1, t.buf + t.off[2], t.len - t.off[2]);
	assert_int_equal(verify_bad(copy, t.len + 1, NLOG, t.hash[NLOG - 1], &err), 3);
	assert_contains(err.msg, "entry 3: not a valid audit entry");
	/* a changed first prev */
	memcpy(copy, t.buf, t.len);
	copy[t.off[1] - 4] = '1'; /* the last digit of its prev */
	assert_int_equal(verify_bad(copy, t.len, NLOG, t.hash[NLOG - 1], &err), 1);
	assert_contains(err.msg, "entry 1: does not start the chain");
	/* NULL bad_line and err are allowed */
	assert_int_equal(splq_audit_verify_buffer(copy, t.len, NLOG, t.hash[NLOG - 1], NULL, NULL),
	                 -1);
}

/* ---- --since ---- */

static void test_parse_since(void **state)
{
	const long long now = 1795860000000LL; /* 2026-11-28T10:00:00Z */
	static const struct {
		const char *in;
		long long ms;
	} good[] = {
	    {"2026-11-28", 1795824000000LL},
	    {"2026-11-28T10:00:00Z", 1795860000000LL},
	    {"2026-11-28t10:00:00z", 1795860000000LL},
	    {"2026-11-28T10:00:00.5Z", 1795860000500LL},
	    {"2026-11-28T10:00:00.123456Z", 1795860000123LL},
	    {"2026-11-28T12:30:00+02:30", 1795860000000LL},
	    {"2026-11-28T07:00:00-03:00", 1795860000000LL},
	    {"2024-02-29", 1709164800000LL},
	    {"1969-12-31T23:59:59Z", -1000LL},
	    {"@1764324000", 1764324000000LL},
	    {"@0", 0},
	    {"30s", 1795860000000LL - 30000},
	    {"15m", 1795860000000LL - 900000},
	    {"2h", 1795860000000LL - 7200000},
	    {"7d", 1795860000000LL - 604800000},
	    {"0s", 1795860000000LL},
	    /* one duration parser for the whole command line: bare seconds too */
	    {"5", 1795860000000LL - 5000},
	    {"90", 1795860000000LL - 90000},
	    /* a date-time without a zone is UTC, as the log writes it */
	    {"2026-11-28T10:00:00", 1795860000000LL},
	    {"2026-11-28T10:00:00.25", 1795860000250LL},
	};
	static const char *const bad[] = {
	    "yesterday",
	    "2026-13-01",
	    "2026-00-10",
	    "2026-02-29",
	    "2023-02-29",
	    "2026-11-31",
	    "2026-11-28T24:00:00Z",
	    "2026-11-28T10:60:00Z",
	    "2026-11-28T10:00Z",
	    "2026-11-28T10:00",
	    "2026-11-28T10:00:00.Z",
	    "2026-11-28T10:00:00+2:00",
	    "2026-11-28T10:00:00+24:00",
	    "2026-11-28 10:00:00Z",
	    "2026-11-28x",
	    "26-11-28",
	    "@",
	    "@12x",
	    "@-5",
	    "-5m",
	    "5y",
	    "10 m",
	    "m",
	    "h2",
	    "99999999999999999999d",
	    "999999999999999999d",
	    " 2h",
	    "2h ",
	};
	struct splq_error err;
	long long ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		if (splq_audit_parse_since(good[i].in, now, &ms, &err) != 0)
			fail_msg("rejected %s: %s", good[i].in, err.msg);
		if (ms != good[i].ms)
			fail_msg("%s gave %lld, expected %lld", good[i].in, ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		memset(&err, 0, sizeof(err));
		if (splq_audit_parse_since(bad[i], now, &ms, &err) == 0)
			fail_msg("accepted \"%s\" as %lld", bad[i], ms);
		assert_int_equal(err.code, SPLQ_E_USAGE);
		snprintf(want, sizeof(want), "'%s'", bad[i]);
		assert_contains(err.msg, want);
	}
	assert_int_equal(splq_audit_parse_since("", now, &ms, &err), -1);
	assert_int_equal(err.code, SPLQ_E_USAGE);
	assert_int_equal(splq_audit_parse_since(NULL, now, &ms, &err), -1);
	assert_int_equal(err.code, SPLQ_E_USAGE);
}

/* ---- files ---- */

static char *make_home(void)
{
	char tmpl[] = "/tmp/splq-test-audit-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return splq_xstrdup(tmpl);
}

static void remove_home(char *home)
{
	struct splq_error err;

	assert_int_equal(splq_rm_rf(home, &err), 0);
	free(home);
}

static void write_log(const char *home, const char *data, size_t len)
{
	char *path = splq_strdup_printf("%s/audit.log", home);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	free(path);
}

static void free_entries(struct splq_audit_entry *list, int n)
{
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&list[i]);
	free(list);
}

static void test_read_filters(void **state)
{
	char *home = make_home();
	struct testlog t;
	struct splq_audit_entry *list;
	struct splq_error err;
	long long since;
	int n;

	/* no log yet: no entries */
	assert_int_equal(splq_audit_read(home, NULL, 0, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	free_entries(list, n);

	build_log(&t);
	write_log(home, t.buf, t.len);
	assert_int_equal(splq_audit_read(home, NULL, 0, &list, &n, &err), 0);
	assert_int_equal(n, NLOG);
	for (int i = 0; i < n; i++) {
		assert_int_equal(list[i].seq, i + 1);
		assert_string_equal(list[i].op, log_values[i].op);
		assert_string_equal(list[i].result, log_values[i].result);
	}
	free_entries(list, n);

	assert_int_equal(splq_audit_read(home, "disp42", 0, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].op, "dispvm");
	free_entries(list, n);
	assert_int_equal(splq_audit_read(home, "nosuch", 0, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	free_entries(list, n);

	/* entry i (0-based) is at 11:11:1i.xxx; from 11:11:13 on: entries 4, 5, 6 */
	assert_int_equal(splq_audit_parse_since("2026-11-12T11:11:13Z", 0, &since, &err), 0);
	assert_int_equal(splq_audit_read(home, NULL, since, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].seq, 4);
	free_entries(list, n);
	assert_int_equal(splq_audit_read(home, "work", since, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].seq, 4);
	assert_int_equal(list[1].seq, 6);
	free_entries(list, n);
	/* exactly at an entry's time includes it */
	assert_int_equal(splq_audit_parse_since("2026-11-12T11:11:13.444Z", 0, &since, &err), 0);
	assert_int_equal(splq_audit_read(home, NULL, since, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	free_entries(list, n);
	assert_int_equal(splq_audit_read(home, NULL, since + 1, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	free_entries(list, n);

	/* a line that does not parse is named */
	{
		char copy[sizeof(t.buf)];
		memcpy(copy, t.buf, t.len);
		copy[t.off[3]] = '[';
		write_log(home, copy, t.len);
		list = (void *)1;
		assert_int_equal(splq_audit_read(home, NULL, 0, &list, &n, &err), -1);
		assert_int_equal(err.code, SPLQ_E_AUDIT);
		assert_contains(err.msg, "line 4: not a valid audit entry");
		assert_contains(err.msg, "audit.log");
	}
	remove_home(home);
}

/* ---- through the store ---- */

struct fixture {
	char *home;
	struct splq_store *store;
};

static int store_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct splq_error err;

	f->home = make_home();
	if (splq_store_open(f->home, &f->store, &err) < 0) {
		fprintf(stderr, "cannot open a store in %s: %s\n", f->home, err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int store_teardown(void **state)
{
	struct fixture *f = *state;

	splq_store_close(f->store);
	remove_home(f->home);
	free(f);
	return 0;
}

static char *log_path(const struct fixture *f)
{
	return splq_strdup_printf("%s/audit.log", f->home);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void append3(struct fixture *f)
{
	struct splq_error err;

	assert_int_equal(splq_audit_append(f->store, f->home, "uid:0", "create", "work",
	                                   "--template debian-12", "ok", &err),
	                 0);
	assert_int_equal(splq_audit_append(f->store, f->home, "qube:work", "run", "work",
	                                   "sh -c 'echo \"a\nb\"'", "exit 0", &err),
	                 0);
	assert_int_equal(
	    splq_audit_append(f->store, f->home, "uid:0", "remove", "work", NULL, NULL, &err), 0);
}

static void test_store_append_verify(void **state)
{
	struct fixture *f = *state;
	struct splq_audit_entry *list;
	struct splq_error err;
	long long entries = -1, bad = -1, seq;
	char hash[65], *path = log_path(f), *log;
	struct timespec ts;
	struct stat st;
	size_t len;
	int n;

	/* an empty store and no log: fine */
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), 0);
	assert_int_equal(entries, 0);

	append3(f);
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), 0);
	assert_int_equal(entries, 3);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* the head is the last line's hash */
	assert_int_equal(splq_store_audit_head(f->store, &seq, hash, &err), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(splq_read_file(path, &log, &len, &err), 0);
	{
		char *last = log + len - 1;
		char want[65];
		assert_int_equal(*last, '\n');
		while (last > log && last[-1] != '\n')
			last--;
		splq_sha256_hex(last, (size_t)(log + len - 1 - last), want);
		assert_string_equal(hash, want);
		assert_int_equal(strncmp(log, "{\"seq\":1,\"time\":\"", 17), 0);
	}
	free(log);

	assert_int_equal(splq_audit_read(f->home, NULL, 0, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].actor, "uid:0");
	assert_string_equal(list[1].args, "sh -c 'echo \"a\nb\"'");
	assert_string_equal(list[2].args, "");
	assert_string_equal(list[2].result, "");
	assert_string_equal(list[0].prev, ZEROS);
	/* the time is now, to the millisecond, in UTC */
	clock_gettime(CLOCK_REALTIME, &ts);
	{
		long long ms, now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		char arg[40];
		snprintf(arg, sizeof(arg), "%s", list[0].time);
		assert_int_equal(strlen(arg), 24);
		assert_int_equal(splq_audit_parse_since(arg, 0, &ms, &err), 0);
		assert_true(ms <= now && ms > now - 60000);
	}
	free_entries(list, n);
	free(path);
}

static void test_store_truncated_log(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	long long entries, bad = 0;
	char *path = log_path(f), *log;
	size_t len;

	append3(f);
	assert_int_equal(splq_read_file(path, &log, &len, &err), 0);
	/* drop the last line */
	{
		char *p = log + len - 1;
		while (p > log && p[-1] != '\n')
			p--;
		assert_int_equal(truncate(path, p - log), 0);
	}
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), -1);
	assert_int_equal(err.code, SPLQ_E_AUDIT);
	assert_int_equal(bad, 3);
	assert_contains(err.msg, "the log ends at entry 2 but the store records 3 entries");
	assert_int_equal(entries, 2);

	/* the log deleted entirely */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), -1);
	assert_int_equal(bad, 1);
	assert_contains(err.msg, "is missing but the store records 3 entries");
	free(log);
	free(path);
}

static void test_store_edited_last_entry(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	long long entries, bad = 0;
	char *path = log_path(f), *log, *p;
	size_t len;

	append3(f);
	assert_int_equal(splq_read_file(path, &log, &len, &err), 0);
	/* "remove" -> "rEmove" in the last line: still a valid line */
	p = strstr(log, "\"op\":\"remove\"");
	assert_non_null(p);
	p[7] = 'E';
	write_log(f->home, log, len);
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), -1);
	assert_int_equal(err.code, SPLQ_E_AUDIT);
	assert_int_equal(bad, 3);
	assert_contains(err.msg, "entry 3: changed");

	/* an edit of the middle entry is caught at the entry after it */
	p[7] = 'e';
	p = strstr(log, "\"op\":\"run\"");
	assert_non_null(p);
	p[6] = 'R';
	write_log(f->home, log, len);
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), -1);
	assert_int_equal(bad, 3);
	assert_contains(err.msg, "entry 3: does not follow entry 2");

	/* put back, it verifies again, and appending goes on from there */
	p[6] = 'r';
	write_log(f->home, log, len);
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), 0);
	assert_int_equal(
	    splq_audit_append(f->store, f->home, "uid:0", "start", "w", "", "ok", &err), 0);
	assert_int_equal(splq_audit_verify(f->store, f->home, &entries, &bad, &err), 0);
	assert_int_equal(entries, 4);
	free(log);
	free(path);
}

static void test_store_concurrent_appenders(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	long long entries, bad;
	enum { PROCS = 4, EACH = 25 };
	pid_t pids[PROCS];

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct splq_store *s;
			char args[64];
			if (splq_store_open(f->home, &s, &err) < 0)
				_exit(2);
			for (int i = 0; i < EACH; i++) {
				snprintf(args, sizeof(args), "proc %d item %d", p, i);
				if (splq_audit_append(s, f->home, "uid:0", "run", "work", args,
				                      "ok", &err) < 0) {
					fprintf(stderr, "append: %s\n", err.msg);
					_exit(1);
				}
			}
			splq_store_close(s);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	if (splq_audit_verify(f->store, f->home, &entries, &bad, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(entries, PROCS * EACH);
}

/* A disk that fills up in the middle of a line: the write is reported with
 * the file's name and no half line is left behind.  Needs root (a small
 * tmpfs in a private mount namespace). */
static void test_store_disk_full(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	long long entries, bad;
	char *loghome, *path, *filler, *pad;
	off_t before;
	size_t first;
	int fd;

	if (geteuid() != 0) {
		print_message("skipped: needs root to mount a small tmpfs\n");
		skip();
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		print_message("skipped: cannot make a private mount namespace: %s\n",
		              strerror(errno));
		skip();
	}
	loghome = make_home();
	assert_int_equal(mount("tmpfs", loghome, "tmpfs", 0, "size=64k,mode=0700"), 0);
	path = splq_strdup_printf("%s/audit.log", loghome);
	filler = splq_strdup_printf("%s/filler", loghome);

	/* two entries that end 10 bytes before a page boundary */
	assert_int_equal(splq_audit_append(f->store, loghome, "uid:0", "a", "w", "x", "ok", &err),
	                 0);
	first = (size_t)file_size(path);
	pad = calloc(1, 4096);
	memset(pad, 'p', 4086 - 2 * first + 1);
	assert_int_equal(splq_audit_append(f->store, loghome, "uid:0", "a", "w", pad, "ok", &err),
	                 0);
	before = file_size(path);
	assert_int_equal(before, 4086);
	/* fill the rest */
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	for (;;) {
		ssize_t w = write(fd, pad, 4096);
		if (w < 0) {
			assert_int_equal(errno, ENOSPC);
			break;
		}
	}
	close(fd);

	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    splq_audit_append(f->store, loghome, "uid:0", "b", "w", "a longer line", "ok", &err),
	    -1);
	assert_int_equal(err.code, SPLQ_E_NOSPACE);
	assert_contains(err.msg, path);
	assert_int_equal(file_size(path), before);
	assert_int_equal(splq_audit_verify(f->store, loghome, &entries, &bad, &err), 0);
	assert_int_equal(entries, 2);

	/* with room again, the log goes on */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(
	    splq_audit_append(f->store, loghome, "uid:0", "b", "w", "a longer line", "ok", &err),
	    0);
	assert_int_equal(splq_audit_verify(f->store, loghome, &entries, &bad, &err), 0);
	assert_int_equal(entries, 3);

	assert_int_equal(umount2(loghome, MNT_DETACH), 0);
	remove_home(loghome);
	free(pad);
	free(filler);
	free(path);
}

static void test_host_actor(void **state)
{
	char buf[32], want[32];

	snprintf(want, sizeof(want), "uid:%u", (unsigned)getuid());
	assert_string_equal(splq_audit_host_actor(buf), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_format_exact_bytes),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_format_invalid_utf8),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_verify_good_logs),
	    cmocka_unit_test(test_tamper_flip_every_byte),
	    cmocka_unit_test(test_tamper_delete_each),
	    cmocka_unit_test(test_tamper_swap_each_pair),
	    cmocka_unit_test(test_tamper_insert_copy),
	    cmocka_unit_test(test_tamper_insert_forged),
	    cmocka_unit_test(test_verify_tail_and_head),
	    cmocka_unit_test(test_parse_since),
	    cmocka_unit_test(test_read_filters),
	    cmocka_unit_test(test_host_actor),
	    cmocka_unit_test_setup_teardown(test_store_append_verify, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(test_store_truncated_log, store_setup, store_teardown),
	    cmocka_unit_test_setup_teardown(test_store_edited_last_entry, store_setup,
	                                    store_teardown),
	    cmocka_unit_test_setup_teardown(test_store_concurrent_appenders, store_setup,
	                                    store_teardown),
	    cmocka_unit_test_setup_teardown(test_store_disk_full, store_setup, store_teardown),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
