/* Unit tests: the ports and addresses of TCP services (src/qube/tcp.c). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "qube/tcp.h"

static void test_port(void **state)
{
	assert_int_equal(splq_tcp_port("1"), 1);
	assert_int_equal(splq_tcp_port("80"), 80);
	assert_int_equal(splq_tcp_port("65535"), 65535);
	/* Qubes' rule: decimal, 1..65535, no sign, no leading zero */
	const char *bad[] = {"",   "0",  "00", "012", "65536", "99999",  "100000",    "-1",
	                     "+1", " 1", "1 ", "1a",  "0x10",  "8080\n", "4294967377"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(splq_tcp_port(bad[i]), -1);
}

/* The address of link and arg as text, or "error: MESSAGE". */
static const char *addr(const char *link, const char *arg)
{
	static char out[SPLQ_ERROR_MAX + 8];
	static struct splq_tcp_addr a;
	struct splq_error err = {0};

	if (splq_tcp_address(link, arg, &a, &err) < 0) {
		assert_int_equal(err.code, SPLQ_E_VALUE);
		snprintf(out, sizeof(out), "error: %s", err.msg);
		return out;
	}
	return a.text;
}

static void test_forms(void **state)
{
	struct splq_error err = {0};
	struct splq_tcp_addr a;

	/* /dev/tcp/HOST: the port is the argument */
	assert_string_equal(addr("/dev/tcp/127.0.0.1", "8080"), "127.0.0.1:8080");
	assert_string_equal(addr("/dev/tcp/::1", "22"), "[::1]:22");
	assert_int_equal(splq_tcp_address("/dev/tcp/127.0.0.1", "8080", &a, &err), 0);
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&a.sa;
	assert_int_equal(in4->sin_family, AF_INET);
	assert_int_equal(ntohs(in4->sin_port), 8080);
	assert_int_equal(ntohl(in4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(splq_tcp_address("/dev/tcp/::1", "22", &a, &err), 0);
	assert_int_equal(a.sa.ss_family, AF_INET6);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_string_equal(addr("/dev/tcp/127.0.0.1", ""),
	                    "error: no port given (call SERVICE+PORT)");
	assert_string_equal(addr("/dev/tcp/127.0.0.1", "012"),
	                    "error: '012' is not a port (1 to 65535, decimal, no leading zero)");
	/* /dev/tcp/HOST/PORT: no argument */
	assert_string_equal(addr("/dev/tcp/10.1.2.3/443", ""), "10.1.2.3:443");
	assert_string_equal(addr("/dev/tcp/10.1.2.3/443", "1"),
	                    "error: the service takes no argument: its link names the port");
	assert_string_equal(addr("/dev/tcp/10.1.2.3/", ""),
	                    "error: no port given (call SERVICE+PORT)");
	assert_string_equal(addr("/dev/tcp/10.1.2.3/443/x", ""),
	                    "error: '443/x' is not a port (1 to 65535, decimal, no leading zero)");
	/* /dev/tcp: HOST+PORT, '+' for ':', no '_' */
	assert_string_equal(addr("/dev/tcp", "127.0.0.1+80"), "127.0.0.1:80");
	assert_string_equal(addr("/dev/tcp", "++1+80"), "[::1]:80");
	assert_string_equal(addr("/dev/tcp", "fe80++1+80"), "[fe80::1]:80");
	assert_string_equal(addr("/dev/tcp", ""),
	                    "error: no address given (call SERVICE+HOST+PORT)");
	assert_string_equal(addr("/dev/tcp", "80"), "error: '80' is not HOST+PORT");
	assert_string_equal(addr("/dev/tcp", "127_0_0_1+80"),
	                    "error: '127_0_0_1+80' is not HOST+PORT");
	assert_string_equal(addr("/dev/tcp", "+80"), "error: no host given");
}

static void test_not_addresses(void **state)
{
	/* names are never resolved */
	assert_string_equal(addr("/dev/tcp/localhost", "80"),
	                    "error: 'localhost' is not a numeric IPv4 or IPv6 address");
	assert_string_equal(addr("/dev/tcp/localhost/80", ""),
	                    "error: 'localhost' is not a numeric IPv4 or IPv6 address");
	assert_string_equal(addr("/dev/tcp/127.1", "80"),
	                    "error: '127.1' is not a numeric IPv4 or IPv6 address");
	assert_string_equal(addr("/dev/tcp/", "80"), "error: no host given");
	assert_string_equal(addr("/dev/tcp//80", ""), "error: no host given");
	assert_string_equal(addr("/dev/tcpx", "80"), "error: '/dev/tcpx' is not a /dev/tcp link");
	assert_string_equal(addr("/dev/udp/127.0.0.1", "80"),
	                    "error: '/dev/udp/127.0.0.1' is not a /dev/tcp link");
	/* a host longer than any numeric address */
	char link[200] = "/dev/tcp/";
	memset(link + 9, '1', 100);
	assert_string_equal(addr(link, "80"),
	                    "error: '1111111111111111...' is not a numeric address");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_port),
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_not_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
