/* splq: unit tests for Qubes' firewall rules (formats/firewall.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/firewall.h"

#define NOW 1000000LL

/* text parses, and prints back as canon; canon parses to the same. */
static void round_trip(const char *text, const char *canon)
{
	struct splq_fw_rule r, again;
	struct splq_error err;
	char *f, *g;

	if (splq_fw_rule_parse(text, strlen(text), NOW, &r, &err) < 0)
		fail_msg("'%s': %s", text, err.msg);
	f = splq_fw_rule_format(&r);
	assert_string_equal(f, canon);
	assert_int_equal(splq_fw_rule_parse(f, strlen(f), NOW, &again, &err), 0);
	g = splq_fw_rule_format(&again);
	assert_string_equal(g, canon);
	free(f);
	free(g);
}

static void test_valid(void **state)
{
	round_trip("action=accept", "action=accept");
	round_trip("action=drop", "action=drop");
	round_trip("action=accept dsthost=198.51.100.10 proto=tcp dstports=443",
	           "action=accept dst4=198.51.100.10/32 proto=tcp dstports=443-443");
	round_trip("proto=udp action=accept dstports=1000-2000 dst4=203.0.113.0/24",
	           "action=accept dst4=203.0.113.0/24 proto=udp dstports=1000-2000");
	round_trip("action=drop dst6=2001:db8::/32", "action=drop dst6=2001:db8::/32");
	/* port 0 is a port, as in Qubes */
	round_trip("action=drop proto=tcp dstports=0-1023", "action=drop proto=tcp dstports=0-1023");
	round_trip("action=accept dsthost=2001:db8::1", "action=accept dst6=2001:db8::1/128");
	round_trip("action=accept dsthost=www.example.test", "action=accept dsthost=www.example.test");
	round_trip("action=accept specialtarget=dns", "action=accept specialtarget=dns");
	round_trip("action=accept proto=icmp icmptype=8", "action=accept proto=icmp icmptype=8");
	round_trip("action=accept expire=+60", "action=accept expire=1000060");
	round_trip("action=accept expire=2000000 comment=until the demo ends",
	           "action=accept expire=2000000 comment=until the demo ends");
}

static void refused(const char *text, const char *msg)
{
	struct splq_fw_rule r;
	struct splq_error err;

	assert_int_equal(splq_fw_rule_parse(text, strlen(text), NOW, &r, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	if (!strstr(err.msg, msg))
		fail_msg("'%s': '%s' does not say '%s'", text, err.msg, msg);
}

static void test_invalid(void **state)
{
	refused("proto=tcp", "needs action");
	refused("action=allow", "action=allow");
	refused("action=accept colour=red", "unknown key 'colour'");
	refused("action=accept action=drop", "action: given twice");
	refused("action=accept dstports=80", "only with proto=tcp or proto=udp");
	refused("action=accept proto=icmp dstports=80", "only with proto=tcp or proto=udp");
	refused("action=accept proto=tcp dstports=65536", "dstports=65536");
	refused("action=accept proto=tcp dstports=70000", "dstports=70000");
	refused("action=accept proto=tcp dstports=90-80", "ends before it starts");
	refused("action=accept proto=tcp dstports=a", "dstports=a");
	refused("action=accept icmptype=3", "only with proto=icmp");
	refused("action=accept proto=icmp icmptype=256", "icmptype=256");
	refused("action=accept proto=sctp", "proto=sctp");
	refused("action=accept dst4=10.0.0.1/8", "host bits");
	refused("action=accept dst4=2001:db8::1", "not an IPv4 address");
	refused("action=accept dst6=198.51.100.1", "not an IPv6 address");
	refused("action=accept dst4=10.0.0.0/33", "prefix");
	refused("action=accept dst4=10.0.0.0/8 dsthost=a.test", "one destination");
	refused("action=accept dsthost=-x", "host name");
	refused("action=accept dsthost=a$b", "a value is");
	refused("action=accept specialtarget=ntp", "specialtarget=ntp");
	refused("action=accept specialtarget=dns dst4=10.0.0.0/8", "its own destination");
	refused("action=accept expire=soon", "expire=soon");
	refused("action=accept comment=a=b", "comment=a=b");
	refused("action=accept proto", "key=value");
}

static void test_list(void **state)
{
	const char *text = "# a comment\n\naction=accept specialtarget=dns\r\n"
	                   "  action=accept proto=tcp dstports=443\naction=drop\n";
	const char *bad = "action=accept\naction=accept proto=tcp\naction=accept dstports=1\n";
	struct splq_fw_rules r = {0}, untouched = {0};
	struct splq_error err;

	assert_int_equal(splq_fw_rules_parse(text, strlen(text), NOW, &r, &err), 0);
	assert_int_equal(r.n, 3);
	assert_true(r.v[0].dns);
	assert_int_equal(r.v[1].port_lo, 443);
	assert_false(r.v[2].accept);
	splq_fw_rules_free(&r);
	assert_int_equal(splq_fw_rules_parse(bad, strlen(bad), NOW, &untouched, &err), -1);
	assert_non_null(strstr(err.msg, "line 3: dstports=1-1"));
	assert_null(untouched.v);
	assert_int_equal(splq_fw_rules_default(&r), 0);
	assert_int_equal(r.n, 1);
	char *f = splq_fw_rule_format(&r.v[0]);
	assert_string_equal(f, "action=accept");
	free(f);
	splq_fw_rules_free(&r);
}

static void test_nft(void **state)
{
	const char *text = "action=accept dst4=198.51.100.10/32 proto=tcp dstports=443\n"
	                   "action=accept specialtarget=dns\n"
	                   "action=accept proto=icmp icmptype=8\n"
	                   "action=drop dst6=2001:db8::/32 expire=1000060\n"
	                   "action=accept dsthost=www.example.test\n"
	                   "action=accept expire=999999\n";
	struct splq_fw_rules r;
	struct splq_error err;
	char *b;

	assert_int_equal(splq_fw_rules_parse(text, strlen(text), 0, &r, &err), 0);
	b = splq_fw_nft_batch("splq", "fw-vif3", &r, NOW, &err);
	assert_non_null(b);
	assert_string_equal(
	    b, "add chain inet splq fw-vif3\n"
	       "flush chain inet splq fw-vif3\n"
	       "add rule inet splq fw-vif3 ip daddr 198.51.100.10/32 meta l4proto tcp th dport "
	       "443-443 accept\n"
	       "add rule inet splq fw-vif3 ct original ip daddr { 10.139.1.1, 10.139.1.2 } meta "
	       "l4proto { tcp, udp } th dport 53 accept\n"
	       "add rule inet splq fw-vif3 meta l4proto icmp icmp type 8 accept\n"
	       "add rule inet splq fw-vif3 meta l4proto ipv6-icmp icmpv6 type 8 accept\n"
	       "add rule inet splq fw-vif3 meta time < 1000060 ip6 daddr 2001:db8::/32 reject "
	       "with icmpx type admin-prohibited\n"
	       "add rule inet splq fw-vif3 reject with icmpx type admin-prohibited\n");
	free(b);
	assert_null(splq_fw_nft_batch("splq", "fw vif; flush ruleset", &r, NOW, &err));
	splq_fw_rules_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_nft),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
