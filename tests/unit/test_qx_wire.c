/* Unit tests: the codec of a qube's qrexec socket (qrexec/wire.c). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "qrexec/wire.h"

/* A request as the decoder sees it: header fields, then raw name bytes. */
static size_t raw(char *buf, uint32_t magic, uint32_t flags, uint32_t r0, uint32_t r1,
                  const char *names, size_t names_len)
{
	struct splq_qx_request rq = {.magic = magic, .flags = flags, .reserved = {r0, r1}};

	memcpy(buf, &rq, sizeof(rq));
	memcpy(buf + sizeof(rq), names, names_len);
	return sizeof(rq) + names_len;
}

static int decode(const char *buf, size_t len)
{
	const char *t = "unset", *s = "unset";
	int r = splq_qx_request_decode(buf, len, &t, &s);

	if (r < 0) {
		/* a refused request leaves the outputs alone */
		assert_string_equal(t, "unset");
		assert_string_equal(s, "unset");
	}
	return r;
}

static void test_round_trip(void **state)
{
	char buf[SPLQ_QX_REQUEST_MAX];
	const char *t, *s;
	int n = splq_qx_request_encode(buf, "work", "qubes.Filecopy+");
	struct splq_qx_request rq;

	assert_int_equal(n, 16 + 5 + 16);
	memcpy(&rq, buf, sizeof(rq));
	assert_int_equal(rq.magic, SPLQ_QX_MAGIC);
	assert_int_equal(rq.flags, 0);
	assert_memory_equal(buf + 16, "work\0qubes.Filecopy+\0", 21);
	assert_int_equal(splq_qx_request_decode(buf, (size_t)n, &t, &s), 0);
	assert_string_equal(t, "work");
	assert_string_equal(s, "qubes.Filecopy+");
	/* the names point into buf */
	assert_ptr_equal(t, buf + 16);
	assert_ptr_equal(s, buf + 21);

	n = splq_qx_request_encode(buf, "@dispvm:dvm", "qubes.ConnectTCP+22");
	assert_int_equal(splq_qx_request_decode(buf, (size_t)n, &t, &s), 0);
	assert_string_equal(t, "@dispvm:dvm");
	assert_string_equal(s, "qubes.ConnectTCP+22");
}

static void test_limits(void **state)
{
	char buf[SPLQ_QX_REQUEST_MAX], target[SPLQ_QX_TARGET_MAX + 2],
	    service[SPLQ_QX_SERVICE_MAX + 2];
	const char *t, *s;
	int n;

	memset(target, 'a', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	memset(service, 'b', sizeof(service) - 1);
	service[sizeof(service) - 1] = 0;
	/* one byte too long, each */
	assert_int_equal(splq_qx_request_encode(buf, target, "x"), -1);
	assert_int_equal(splq_qx_request_encode(buf, "work", service), -1);
	/* the longest of both fills the buffer exactly */
	target[SPLQ_QX_TARGET_MAX] = 0;
	service[SPLQ_QX_SERVICE_MAX] = 0;
	n = splq_qx_request_encode(buf, target, service);
	assert_int_equal(n, SPLQ_QX_REQUEST_MAX);
	assert_int_equal(splq_qx_request_decode(buf, (size_t)n, &t, &s), 0);
	assert_int_equal(strlen(t), SPLQ_QX_TARGET_MAX);
	assert_int_equal(strlen(s), SPLQ_QX_SERVICE_MAX);
	/* an empty service is refused, an empty (or no) target is @default */
	assert_int_equal(splq_qx_request_encode(buf, "work", ""), -1);
	assert_int_equal(splq_qx_request_encode(buf, "work", NULL), -1);
	n = splq_qx_request_encode(buf, "", "q.S");
	assert_int_equal(n, 16 + 1 + 4);
	assert_int_equal(splq_qx_request_decode(buf, (size_t)n, &t, &s), 0);
	assert_string_equal(t, "");
	assert_string_equal(s, "q.S");
	n = splq_qx_request_encode(buf, NULL, "q.S");
	assert_int_equal(n, 16 + 1 + 4);
	assert_int_equal(splq_qx_request_decode(buf, (size_t)n, &t, &s), 0);
	assert_string_equal(t, "");
}

static void test_malformed(void **state)
{
	char buf[SPLQ_QX_REQUEST_MAX + 64], big[SPLQ_QX_REQUEST_MAX + 64];
	const uint32_t M = SPLQ_QX_MAGIC;
	size_t n;

	/* the good one the others differ from */
	n = raw(buf, M, 0, 0, 0, "w\0s\0", 4);
	assert_int_equal(decode(buf, n), 0);
	/* short: nothing, part of the header, the header alone */
	assert_int_equal(decode(buf, 0), -1);
	assert_int_equal(decode(buf, 15), -1);
	assert_int_equal(decode(buf, 16), -1);
	/* cut inside the names */
	assert_int_equal(decode(buf, 17), -1);
	assert_int_equal(decode(buf, 18), -1);
	assert_int_equal(decode(buf, 19), -1);
	/* bad magic, flags, reserved words */
	n = raw(buf, M ^ 1, 0, 0, 0, "w\0s\0", 4);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 1, 0, 0, "w\0s\0", 4);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0x80000000u, 0, 0, "w\0s\0", 4);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 1, 0, "w\0s\0", 4);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 0, 1, "w\0s\0", 4);
	assert_int_equal(decode(buf, n), -1);
	/* missing NULs */
	n = raw(buf, M, 0, 0, 0, "w\0s", 3);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 0, 0, "ws", 2);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 0, 0, "w\0", 2);
	assert_int_equal(decode(buf, n), -1);
	/* bytes after the second name: a third name, a stray byte, a NUL */
	n = raw(buf, M, 0, 0, 0, "w\0s\0x\0", 6);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 0, 0, "w\0s\0x", 5);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 0, 0, "w\0s\0\0", 5);
	assert_int_equal(decode(buf, n), -1);
	/* empty service */
	n = raw(buf, M, 0, 0, 0, "w\0\0", 3);
	assert_int_equal(decode(buf, n), -1);
	n = raw(buf, M, 0, 0, 0, "\0\0", 2);
	assert_int_equal(decode(buf, n), -1);
	/* empty target, accepted */
	n = raw(buf, M, 0, 0, 0, "\0s\0", 3);
	assert_int_equal(decode(buf, n), 0);

	/* a target one byte too long (the whole request is short enough) */
	memset(big, 'a', SPLQ_QX_TARGET_MAX + 1);
	memcpy(big + SPLQ_QX_TARGET_MAX + 1, "\0s\0", 3);
	n = raw(buf, M, 0, 0, 0, big, SPLQ_QX_TARGET_MAX + 4);
	assert_int_equal(decode(buf, n), -1);
	memcpy(big + SPLQ_QX_TARGET_MAX, "\0s\0", 3);
	n = raw(buf, M, 0, 0, 0, big, SPLQ_QX_TARGET_MAX + 3);
	assert_int_equal(decode(buf, n), 0);
	/* a service one byte too long */
	memcpy(big, "w", 2);
	memset(big + 2, 'b', SPLQ_QX_SERVICE_MAX + 1);
	big[2 + SPLQ_QX_SERVICE_MAX + 1] = 0;
	n = raw(buf, M, 0, 0, 0, big, 2 + SPLQ_QX_SERVICE_MAX + 2);
	assert_int_equal(decode(buf, n), -1);
	big[2 + SPLQ_QX_SERVICE_MAX] = 0;
	n = raw(buf, M, 0, 0, 0, big, 2 + SPLQ_QX_SERVICE_MAX + 1);
	assert_int_equal(decode(buf, n), 0);
	/* longer than the longest request, even with good names at its start */
	memset(big, 0, sizeof(big));
	memcpy(big, "w\0s\0", 4);
	n = raw(buf, M, 0, 0, 0, big, SPLQ_QX_REQUEST_MAX + 1 - 16);
	assert_int_equal(n, SPLQ_QX_REQUEST_MAX + 1);
	assert_int_equal(decode(buf, n), -1);
	assert_int_equal(decode(buf, sizeof(buf)), -1);
	/* the decoder does not change its input */
	n = raw(buf, M, 0, 0, 0, "w\0s\0x", 5);
	memcpy(big, buf, n);
	decode(buf, n);
	assert_memory_equal(big, buf, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
