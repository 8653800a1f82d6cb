/* splq: unit tests for the DNS query and answer of a firewall's dsthost
 * (formats/dns.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "formats/dns.h"

/* An answer as a server sends it: the header, the question of name, then
 * the answer records (raw bytes after the question). */
static size_t answer(uint8_t *buf, uint16_t id, int rcode, const char *name, int qtype, int an,
                     const uint8_t *records, size_t rlen)
{
	int n = splq_dns_query(buf, id, name, qtype);

	assert_true(n > 0);
	buf[2] = 0x81; /* QR, RD */
	buf[3] = (uint8_t)(0x80 | rcode); /* RA */
	buf[7] = (uint8_t)an;
	if (rlen)
		memcpy(buf + n, records, rlen);
	return (size_t)n + rlen;
}

static void test_query(void **state)
{
	uint8_t buf[SPLQ_DNS_QUERY_MAX];
	static const uint8_t want[] = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w',
	                               'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's',
	                               't', 0, 0, 28, 0, 1};
	char longname[300];

	assert_int_equal(splq_dns_query(buf, 0x1234, "WWW.example.test.", SPLQ_DNS_AAAA),
	                 (int)sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(splq_dns_query(buf, 1, "a..b", SPLQ_DNS_A), -1);
	assert_int_equal(splq_dns_query(buf, 1, ".a", SPLQ_DNS_A), -1);
	assert_int_equal(splq_dns_query(buf, 1, "a..", SPLQ_DNS_A), -1);
	assert_int_equal(splq_dns_query(buf, 1, "", SPLQ_DNS_A), -1);
	memset(longname, 'a', 64);
	longname[64] = 0;
	assert_int_equal(splq_dns_query(buf, 1, longname, SPLQ_DNS_A), -1); /* label > 63 */
	for (int i = 0; i < 128; i++)
		memcpy(longname + 2 * i, "a.", 2);
	longname[255] = 0;
	assert_int_equal(splq_dns_query(buf, 1, longname, SPLQ_DNS_A), -1); /* name > 255 */
}

/* Answers through a CNAME (compressed both ways), records of other names
 * and classes skipped, max honoured. */
static void test_answer(void **state)
{
	uint8_t buf[1024], addrs[4][16];
	struct splq_error err;
	/* the question's name is at offset 12 */
	static const uint8_t rec[] = {
	    /* www.example.test CNAME web.example.test (pointer to "example.test" at 16) */
	    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16,
	    /* an A record of another name: skipped */
	    1, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1,
	    /* web.example.test A 198.51.100.10 and .11 (pointer to the CNAME's target) */
	    0xc0, 46, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 10,
	    0xc0, 46, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 11,
	    /* class CH: skipped */
	    0xc0, 46, 0, 1, 0, 3, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
	size_t len = answer(buf, 7, 0, "www.example.test", SPLQ_DNS_A, 5, rec, sizeof(rec));

	assert_int_equal(splq_dns_answer(buf, len, 7, "www.example.test", SPLQ_DNS_A, addrs, 4, &err),
	                 2);
	assert_memory_equal(addrs[0], ((uint8_t[]){198, 51, 100, 10}), 4);
	assert_memory_equal(addrs[1], ((uint8_t[]){198, 51, 100, 11}), 4);
	assert_int_equal(splq_dns_answer(buf, len, 7, "www.example.test", SPLQ_DNS_A, addrs, 1, &err),
	                 1);
	/* an answer of none: a name without records of that type */
	len = answer(buf, 8, 0, "v4only.test", SPLQ_DNS_AAAA, 0, NULL, 0);
	assert_int_equal(splq_dns_answer(buf, len, 8, "v4only.test", SPLQ_DNS_AAAA, addrs, 4, &err),
	                 0);
	/* an AAAA record of four bytes is not an address */
	static const uint8_t short6[] = {0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4};
	len = answer(buf, 9, 0, "v6.test", SPLQ_DNS_AAAA, 1, short6, sizeof(short6));
	assert_int_equal(splq_dns_answer(buf, len, 9, "v6.test", SPLQ_DNS_AAAA, addrs, 4, &err), 0);
}

static void test_hostile(void **state)
{
	uint8_t buf[1024], addrs[4][16];
	struct splq_error err;
	size_t len;

	/* NXDOMAIN, SERVFAIL */
	len = answer(buf, 1, 3, "gone.test", SPLQ_DNS_A, 0, NULL, 0);
	assert_int_equal(splq_dns_answer(buf, len, 1, "gone.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	assert_int_equal(err.code, SPLQ_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "gone.test: no such name"));
	len = answer(buf, 1, 2, "gone.test", SPLQ_DNS_A, 0, NULL, 0);
	assert_int_equal(splq_dns_answer(buf, len, 1, "gone.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	assert_int_equal(err.code, SPLQ_E_STATE);
	/* another id, another question, not an answer, cut short */
	len = answer(buf, 1, 0, "a.test", SPLQ_DNS_A, 0, NULL, 0);
	assert_int_equal(splq_dns_answer(buf, len, 2, "a.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	assert_int_equal(err.code, SPLQ_E_CORRUPT);
	assert_int_equal(splq_dns_answer(buf, len, 1, "b.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	assert_int_equal(splq_dns_answer(buf, len, 1, "a.test", SPLQ_DNS_AAAA, addrs, 4, &err), -1);
	assert_int_equal(splq_dns_answer(buf, len - 1, 1, "a.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	buf[2] = 0x01;
	assert_int_equal(splq_dns_answer(buf, len, 1, "a.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	/* a record promised, and not there; one whose data runs past the end */
	len = answer(buf, 1, 0, "a.test", SPLQ_DNS_A, 1, NULL, 0);
	assert_int_equal(splq_dns_answer(buf, len, 1, "a.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	static const uint8_t over[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 40, 1, 2, 3, 4};
	len = answer(buf, 1, 0, "a.test", SPLQ_DNS_A, 1, over, sizeof(over));
	assert_int_equal(splq_dns_answer(buf, len, 1, "a.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	/* a name that points at itself */
	static const uint8_t loop[] = {0xc0, 24, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4};
	len = answer(buf, 1, 0, "a.test", SPLQ_DNS_A, 1, loop, sizeof(loop));
	buf[24] = 0xc0;
	buf[25] = 24;
	assert_int_equal(splq_dns_answer(buf, len, 1, "a.test", SPLQ_DNS_A, addrs, 4, &err), -1);
	assert_int_equal(err.code, SPLQ_E_CORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_answer),
	    cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
