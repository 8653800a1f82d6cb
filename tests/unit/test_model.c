/* Unit tests: the domain model (classes, names, labels, properties, tags,
 * features, user names). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

/* Expect a failure with code and a message containing want. */
static void fails(int r, const struct splq_error *err, int code, const char *want)
{
	assert_int_equal(r, -1);
	assert_int_equal(err->code, code);
	if (!strstr(err->msg, want))
		fail_msg("message '%s' does not contain '%s'", err->msg, want);
}

/* ---- classes ---- */

static void test_classes(void **state)
{
	static const char *const names[] = {"AdminVM", "TemplateVM", "AppVM", "DispVM",
	                                    "StandaloneVM"};

	for (int i = 0; i < SPLQ_CLASS_COUNT; i++) {
		assert_string_equal(splq_class_name(i), names[i]);
		assert_int_equal(splq_class_parse(names[i]), i);
	}
	assert_int_equal(splq_class_parse("appvm"), -1);
	assert_int_equal(splq_class_parse(""), -1);
	assert_int_equal(splq_class_parse("HVM"), -1);
	assert_true(splq_class_has_template(SPLQ_CLASS_APPVM));
	assert_true(splq_class_has_template(SPLQ_CLASS_DISPVM));
	assert_false(splq_class_has_template(SPLQ_CLASS_TEMPLATEVM));
	assert_false(splq_class_has_template(SPLQ_CLASS_STANDALONEVM));
	assert_false(splq_class_has_template(SPLQ_CLASS_ADMINVM));
}

/* ---- names ---- */

static void test_name_good(void **state)
{
	static const char *const good[] = {
	    "work",
	    "a",
	    "Z",
	    "sys-net",
	    "fedora-40.xfce",
	    "my_qube",
	    "disp1234",
	    "a-dmz",
	    "dm",
	    "x-d",
	    "Domain-1",
	    "None",
	    "dom0x",
	    "abcdefghijklmnopqrstuvwxyz01234", /* 31 characters */
	};
	struct splq_error err;

	assert_int_equal(strlen(good[13]), 31);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (splq_name_check(good[i], &err) != 0)
			fail_msg("'%s' refused: %s", good[i], err.msg);
}

static void test_name_empty(void **state)
{
	struct splq_error err;

	fails(splq_name_check("", &err), &err, SPLQ_E_NAME, "may not be empty");
	fails(splq_name_check(NULL, &err), &err, SPLQ_E_NAME, "may not be empty");
}

static void test_name_length(void **state)
{
	const char *n32 = "abcdefghijklmnopqrstuvwxyz012345";
	struct splq_error err;

	assert_int_equal(strlen(n32), 32);
	fails(splq_name_check(n32, &err), &err, SPLQ_E_NAME,
	      "too long (32 characters; at most 31)");
	assert_non_null(strstr(err.msg, n32));
}

static void test_name_first(void **state)
{
	static const char *const bad[] = {"1work", "_work", "-work", ".work", "0"};
	struct splq_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails(splq_name_check(bad[i], &err), &err, SPLQ_E_NAME, "must start with a letter");
}

static void test_name_chars(void **state)
{
	struct splq_error err;

	fails(splq_name_check("my work", &err), &err, SPLQ_E_NAME, "contains ' '");
	fails(splq_name_check("a/b", &err), &err, SPLQ_E_NAME, "contains '/'");
	fails(splq_name_check("a+b", &err), &err, SPLQ_E_NAME, "contains '+'");
	fails(splq_name_check("work;rm", &err), &err, SPLQ_E_NAME, "contains ';'");
	/* Bytes that cannot be shown are named by value, not printed raw. */
	fails(splq_name_check("a\nb", &err), &err, SPLQ_E_NAME, "byte 0x0a");
	assert_null(strchr(err.msg, '\n'));
	fails(splq_name_check("caf\xc3\xa9", &err), &err, SPLQ_E_NAME, "byte 0xc3");
}

static void test_name_reserved(void **state)
{
	struct splq_error err;

	fails(splq_name_check("none", &err), &err, SPLQ_E_NAME, "'none' is reserved");
	fails(splq_name_check("default", &err), &err, SPLQ_E_NAME, "'default' is reserved");
	fails(splq_name_check("Domain-0", &err), &err, SPLQ_E_NAME, "'Domain-0' is reserved");
	fails(splq_name_check("dom0", &err), &err, SPLQ_E_NAME, "belongs to the AdminVM");
}

static void test_name_dm(void **state)
{
	struct splq_error err;

	fails(splq_name_check("sys-net-dm", &err), &err, SPLQ_E_NAME, "may not end in '-dm'");
	fails(splq_name_check("a-dm", &err), &err, SPLQ_E_NAME, "may not end in '-dm'");
}

/* Each clause has its own message. */
static void test_name_messages_distinct(void **state)
{
	static const char *const bad[] = {
	    "", "abcdefghijklmnopqrstuvwxyz012345", "1a", "a b", "none", "dom0", "x-dm"};
	char msgs[7][SPLQ_ERROR_MAX];
	struct splq_error err;

	for (int i = 0; i < 7; i++) {
		assert_int_equal(splq_name_check(bad[i], &err), -1);
		strcpy(msgs[i], err.msg);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(msgs[i], msgs[j]);
	}
}

/* ---- labels ---- */

static void test_labels(void **state)
{
	static const struct {
		const char *name;
		unsigned colour;
	} want[8] = {{"red", 0xcc0000},    {"orange", 0xf57900}, {"yellow", 0xedd400},
	             {"green", 0x73d216},  {"gray", 0x555555},   {"blue", 0x3465a4},
	             {"purple", 0x75507b}, {"black", 0x000000}};
	char idx[4];

	for (int i = 0; i < 8; i++) {
		const struct splq_label *l = splq_label_find(want[i].name);

		assert_non_null(l);
		assert_int_equal(l->index, i + 1);
		assert_int_equal(l->colour, want[i].colour);
		assert_ptr_equal(splq_label_by_index(i + 1), l);
		snprintf(idx, sizeof(idx), "%d", i + 1);
		assert_ptr_equal(splq_label_find(idx), l);
		assert_string_equal(splq_labels[i].name, want[i].name);
	}
	assert_null(splq_label_find("pink"));
	/* any case on input: the name in lower case is what is kept */
	assert_ptr_equal(splq_label_find("Red"), &splq_labels[0]);
	assert_ptr_equal(splq_label_find("BLUE"), &splq_labels[5]);
	assert_null(splq_label_find(""));
	assert_null(splq_label_find("0"));
	assert_null(splq_label_find("9"));
	assert_null(splq_label_find("10"));
	assert_null(splq_label_find("1x"));
	assert_null(splq_label_find(NULL));
	assert_null(splq_label_by_index(0));
	assert_null(splq_label_by_index(9));
}

/* ---- the property table ---- */

/* Qubes' address plan (reference/qubes.md §7): no .0 or .255 past 254. */
static void test_net_addresses(void **state)
{
	char a[SPLQ_NET_ADDR_MAX];
	struct splq_error err;

	splq_net_ip4(5, false, a);
	assert_string_equal(a, "10.137.0.5");
	splq_net_ip4(254, false, a);
	assert_string_equal(a, "10.137.0.254");
	splq_net_ip4(255, false, a);
	assert_string_equal(a, "10.137.1.1");
	splq_net_ip4(300, false, a);
	assert_string_equal(a, "10.137.1.46");
	splq_net_ip4(1234, true, a);
	assert_string_equal(a, "10.138.4.218");
	splq_net_ip6(5, false, a);
	assert_string_equal(a, "fd09:24ef:4179::a89:5");
	splq_net_ip6(300, true, a);
	assert_string_equal(a, "fd09:24ef:4179::a8a:12c");
	assert_int_equal(splq_net_dispid("disp42"), 42);
	assert_int_equal(splq_net_dispid("disp"), -1);
	assert_int_equal(splq_net_dispid("disp12a"), -1);
	assert_int_equal(splq_net_dispid("work"), -1);
	assert_int_equal(splq_uplink_check("", &err), 0);
	assert_int_equal(splq_uplink_check("none", &err), 0);
	assert_int_equal(splq_uplink_check("pasta", &err), 0);
	assert_int_equal(splq_uplink_check("netns:up-1.a_b", &err), 0);
	assert_int_equal(splq_uplink_check("netns:", &err), -1);
	assert_int_equal(splq_uplink_check("netns:..", &err), -1);
	assert_int_equal(splq_uplink_check("netns:a/b", &err), -1);
	assert_non_null(strstr(err.msg, "[A-Za-z0-9_.-]"));
	assert_int_equal(splq_uplink_check("slirp", &err), -1);
	assert_non_null(strstr(err.msg, "uplink 'slirp'"));
}

static void test_prop_table(void **state)
{
	static const char *const order[] = {
	    "name",
	    "klass",
	    "uuid",
	    "label",
	    "template",
	    "netvm",
	    "provides_network",
	    "uplink",
	    "default_netvm",
	    "ip",
	    "ip6",
	    "gateway",
	    "gateway6",
	    "visible_ip",
	    "visible_ip6",
	    "visible_gateway",
	    "visible_gateway6",
	    "visible_netmask",
	    "dns",
	    "mac",
	    "memory",
	    "maxmem",
	    "vcpus",
	    "default_user",
	    "default_dispvm",
	    "default_template",
	    "qrexec_ask_program",
	    "template_for_dispvms",
	    "include_in_backups",
	    "autostart",
	    "qrexec_timeout",
	    "shutdown_timeout",
	    "auto_cleanup",
	};
	size_t n = sizeof(order) / sizeof(order[0]);
	size_t i;

	for (i = 0; splq_props[i].name; i++) {
		assert_true(i < n);
		assert_string_equal(splq_props[i].name, order[i]);
		assert_ptr_equal(splq_prop_find(order[i]), &splq_props[i]);
		assert_non_null(splq_props[i].help);
		assert_true(strlen(splq_props[i].help) > 0);
		assert_null(strchr(splq_props[i].help, '\n'));
		assert_true(splq_props[i].classes != 0);
	}
	assert_int_equal(i, n);
	assert_null(splq_prop_find("foo"));
	assert_null(splq_prop_find(""));
}

static void test_prop_details(void **state)
{
	const unsigned all = (1u << SPLQ_CLASS_COUNT) - 1;
	const unsigned noadmin = all & ~(1u << SPLQ_CLASS_ADMINVM);
	const struct splq_prop_def *d;

	d = splq_prop_find("uuid");
	assert_true(d->readonly);
	assert_int_equal(d->classes, all);
	d = splq_prop_find("label");
	assert_int_equal(d->type, SPLQ_PT_LABEL);
	assert_string_equal(d->dflt, "red");
	assert_int_equal(d->classes, all);
	d = splq_prop_find("template");
	assert_int_equal(d->type, SPLQ_PT_VM);
	assert_true(d->needs_halted);
	assert_int_equal(d->classes, (1u << SPLQ_CLASS_APPVM) | (1u << SPLQ_CLASS_DISPVM));
	d = splq_prop_find("memory");
	assert_int_equal(d->type, SPLQ_PT_INT);
	assert_string_equal(d->dflt, "400");
	assert_int_equal(d->min, 32);
	assert_int_equal(d->max, 1048576);
	assert_int_equal(d->classes, noadmin);
	d = splq_prop_find("maxmem");
	assert_string_equal(d->dflt, "4000");
	assert_int_equal(d->min, 0);
	d = splq_prop_find("vcpus");
	assert_string_equal(d->dflt, "2");
	assert_int_equal(d->min, 1);
	assert_int_equal(d->max, 256);
	assert_true(d->needs_halted);
	d = splq_prop_find("default_user");
	assert_int_equal(d->type, SPLQ_PT_STR);
	assert_string_equal(d->dflt, "user");
	d = splq_prop_find("default_dispvm");
	assert_int_equal(d->classes, all);
	d = splq_prop_find("template_for_dispvms");
	assert_int_equal(d->classes, 1u << SPLQ_CLASS_APPVM);
	assert_string_equal(d->dflt, "False");
	d = splq_prop_find("include_in_backups");
	assert_string_equal(d->dflt, "True");
	d = splq_prop_find("qrexec_timeout");
	assert_int_equal(d->min, 1);
	assert_int_equal(d->max, 3600);
	assert_string_equal(d->dflt, "60");
	d = splq_prop_find("auto_cleanup");
	assert_int_equal(d->type, SPLQ_PT_BOOL);
	assert_string_equal(d->dflt, "True");
	assert_int_equal(d->classes, 1u << SPLQ_CLASS_DISPVM);

	assert_string_equal(splq_prop_type_name(SPLQ_PT_STR), "str");
	assert_string_equal(splq_prop_type_name(SPLQ_PT_INT), "int");
	assert_string_equal(splq_prop_type_name(SPLQ_PT_BOOL), "bool");
	assert_string_equal(splq_prop_type_name(SPLQ_PT_VM), "vm");
	assert_string_equal(splq_prop_type_name(SPLQ_PT_LABEL), "label");
}

/* ---- parsing property values ---- */

static void parses(const char *prop, const char *in, const char *want)
{
	cleanup_free char *out = NULL;
	struct splq_error err;

	if (splq_prop_parse(splq_prop_find(prop), in, &out, &err) != 0)
		fail_msg("%s='%s' refused: %s", prop, in, err.msg);
	assert_string_equal(out, want);
}

static void refused(const char *prop, const char *in, const char *want)
{
	char *out = (char *)"untouched";
	struct splq_error err;

	fails(splq_prop_parse(splq_prop_find(prop), in, &out, &err), &err, SPLQ_E_VALUE, want);
	assert_null(out);
}

static void test_parse_int(void **state)
{
	parses("memory", "400", "400");
	parses("memory", "32", "32");
	parses("memory", "1048576", "1048576");
	parses("memory", "0400", "400");
	parses("maxmem", "0", "0");
	parses("vcpus", "1", "1");
	parses("vcpus", "256", "256");
	parses("qrexec_timeout", "3600", "3600");

	refused("memory", "12abc",
	        "property 'memory' takes an integer from 32 to 1048576, not '12abc'");
	refused("memory", "31", "not '31'");
	refused("memory", "1048577", "not '1048577'");
	refused("memory", "-400", "not '-400'");
	refused("memory", "", "not ''");
	refused("memory", " 400", "not ' 400'");
	refused("memory", "400 ", "not '400 '");
	refused("memory", "+400", "not '+400'");
	refused("memory", "4e2", "not '4e2'");
	refused("memory", "0x190", "not '0x190'");
	refused("memory", "99999999999999999999999",
	        "from 32 to 1048576, not '99999999999999999999999'");
	refused("memory", "-99999999999999999999999", "not '-99999999999999999999999'");
	refused("vcpus", "0", "property 'vcpus' takes an integer from 1 to 256, not '0'");
	refused("vcpus", "257", "not '257'");
	refused("shutdown_timeout", "0", "from 1 to 3600");
	refused("maxmem", "-1", "from 0 to 1048576, not '-1'");
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = {"True", "true", "1", "yes"};
	static const char *const no[] = {"False", "false", "0", "no"};

	for (int i = 0; i < 4; i++) {
		parses("autostart", yes[i], "True");
		parses("autostart", no[i], "False");
	}
	refused("autostart", "maybe",
	        "property 'autostart' takes a boolean (True or False), not 'maybe'");
	refused("autostart", "", "not ''");
	refused("autostart", "TRUE", "not 'TRUE'");
	refused("autostart", "2", "not '2'");
	refused("provides_network", "True ", "not 'True '");
}

static void test_parse_label(void **state)
{
	parses("label", "blue", "blue");
	parses("label", "6", "blue");
	parses("label", "8", "black");
	refused("label", "pink", "property 'label' takes a label");
	refused("label", "9", "not '9'");
	parses("label", "Blue", "blue"); /* any case on input, kept in lower case */
	refused("label", "", "not ''");
}

static void test_parse_vm(void **state)
{
	parses("netvm", "", "");
	parses("netvm", "sys-net", "sys-net");
	parses("template", "debian-12", "debian-12");
	refused("netvm", "1net", "must start with a letter");
	refused("netvm", "none", "reserved");
	refused("default_dispvm", "a b", "property 'default_dispvm' takes a qube name");
	refused("template", "abcdefghijklmnopqrstuvwxyz012345", "too long");
}

static void test_parse_str(void **state)
{
	parses("default_user", "user", "user");
	parses("default_user", "_svc-1", "_svc-1");
	refused("default_user", "us\ner", "default_user");
	refused("default_user", "", "default_user");
	refused("default_user", "Root", "default_user");
	refused("default_user", "a b", "default_user");
}

static void test_parse_readonly(void **state)
{
	refused("uuid", "00000000-0000-0000-0000-000000000000", "property 'uuid' is read-only");
	refused("name", "x", "property 'name' is read-only");
	refused("klass", "AppVM", "property 'klass' is read-only");
}

/* ---- tags, features, users ---- */

static void test_tags(void **state)
{
	char long_tag[300];
	struct splq_error err;

	assert_int_equal(splq_tag_check("created-by-dom0", &err), 0);
	assert_int_equal(splq_tag_check("audit:signed.v1_x", &err), 0);
	memset(long_tag, 't', 255);
	long_tag[255] = '\0';
	assert_int_equal(splq_tag_check(long_tag, &err), 0);
	long_tag[255] = 't';
	long_tag[256] = '\0';
	fails(splq_tag_check(long_tag, &err), &err, SPLQ_E_VALUE, "too long");
	fails(splq_tag_check("", &err), &err, SPLQ_E_VALUE, "may not be empty");
	fails(splq_tag_check("a b", &err), &err, SPLQ_E_VALUE, "tag 'a b'");
	fails(splq_tag_check("a/b", &err), &err, SPLQ_E_VALUE, "tag 'a/b'");
}

static void test_features(void **state)
{
	char big[5000];
	struct splq_error err;

	assert_int_equal(splq_feature_name_check("service.cups", &err), 0);
	assert_int_equal(splq_feature_name_check("gui-agent_1", &err), 0);
	fails(splq_feature_name_check("", &err), &err, SPLQ_E_VALUE, "may not be empty");
	fails(splq_feature_name_check("a:b", &err), &err, SPLQ_E_VALUE, "feature name 'a:b'");
	fails(splq_feature_name_check("a b", &err), &err, SPLQ_E_VALUE, "feature name 'a b'");

	assert_int_equal(splq_feature_value_check("", &err), 0);
	assert_int_equal(splq_feature_value_check("1 2 ~!@#", &err), 0);
	fails(splq_feature_value_check("a\nb", &err), &err, SPLQ_E_VALUE, "printable");
	fails(splq_feature_value_check("\x7f", &err), &err, SPLQ_E_VALUE, "printable");
	memset(big, 'v', 4096);
	big[4096] = '\0';
	assert_int_equal(splq_feature_value_check(big, &err), 0);
	big[4096] = 'v';
	big[4097] = '\0';
	fails(splq_feature_value_check(big, &err), &err, SPLQ_E_VALUE, "too long");
}

static void test_features_splq_reads(void **state)
{
	struct splq_error err;
	const char *on[] = {"1", "True", "true", "yes"};
	const char *off[] = {"", "0", "False", "false", "no"};

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(splq_feature_check("splq.allow-io_uring", on[i], &err), 0);
		assert_true(splq_feature_on(on[i]));
	}
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(splq_feature_check("splq.allow-io_uring", off[i], &err), 0);
		assert_false(splq_feature_on(off[i]));
	}
	fails(splq_feature_check("splq.allow-io_uring", "maybe", &err), &err, SPLQ_E_VALUE,
	      "feature 'splq.allow-io_uring' takes 1 or 0 (True or False), not 'maybe'");
	fails(splq_feature_check("splq.allow-io_uring", "on", &err), &err, SPLQ_E_VALUE,
	      "takes 1 or 0");
	assert_false(splq_feature_on("maybe"));
	assert_false(splq_feature_on(NULL));
	/* other features: any value */
	assert_int_equal(splq_feature_check("service.cups", "maybe", &err), 0);
	fails(splq_feature_check("a b", "1", &err), &err, SPLQ_E_VALUE, "feature name 'a b'");
	fails(splq_feature_check("x", "a\nb", &err), &err, SPLQ_E_VALUE, "printable");
}

static void test_user_names(void **state)
{
	struct splq_error err;

	assert_int_equal(splq_user_name_check("user", &err), 0);
	assert_int_equal(splq_user_name_check("root", &err), 0);
	assert_int_equal(splq_user_name_check("_apt", &err), 0);
	assert_int_equal(splq_user_name_check("a-b_9", &err), 0);
	assert_int_equal(splq_user_name_check("abcdefghijklmnopqrstuvwxyz012345", &err), 0);
	fails(splq_user_name_check("abcdefghijklmnopqrstuvwxyz0123456", &err), &err, SPLQ_E_VALUE,
	      "too long");
	fails(splq_user_name_check("", &err), &err, SPLQ_E_VALUE, "may not be empty");
	fails(splq_user_name_check("9user", &err), &err, SPLQ_E_VALUE, "must start");
	fails(splq_user_name_check("-user", &err), &err, SPLQ_E_VALUE, "must start");
	fails(splq_user_name_check("User", &err), &err, SPLQ_E_VALUE, "must start");
	fails(splq_user_name_check("us er", &err), &err, SPLQ_E_VALUE, "user name 'us er'");
	fails(splq_user_name_check("us:er", &err), &err, SPLQ_E_VALUE, "user name 'us:er'");
}

static void test_sizes(void **state)
{
	struct splq_error err;
	unsigned long long n = 0;
	char buf[32];

	(void)state;
	assert_int_equal(splq_size_parse("4G", &n, &err), 0);
	assert_int_equal(n, 4ULL << 30);
	assert_int_equal(splq_size_parse("4GiB", &n, &err), 0);
	assert_int_equal(n, 4ULL << 30);
	assert_int_equal(splq_size_parse("512M", &n, &err), 0);
	assert_int_equal(n, 512ULL << 20);
	assert_int_equal(splq_size_parse("1GB", &n, &err), 0);
	assert_int_equal(n, 954ULL << 20); /* 10^9 rounded up to a MiB */
	assert_int_equal(splq_size_parse("16777216", &n, &err), 0);
	assert_int_equal(n, 16ULL << 20);
	assert_int_equal(splq_size_parse("16777217", &n, &err), 0);
	assert_int_equal(n, 17ULL << 20);
	assert_int_equal(splq_size_parse("16T", &n, &err), 0);
	const char *bad[] = {"",
	                     "G",
	                     "-1G",
	                     "4X",
	                     "4 G",
	                     "4g",
	                     "1.5G",
	                     "0",
	                     "15M",
	                     "17T",
	                     "99999999999999999999999",
	                     "18446744073709551615K"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(splq_size_parse(bad[i], &n, &err), -1);
		assert_int_equal(err.code, SPLQ_E_VALUE);
	}
	splq_size_format(2ULL << 30, buf, sizeof(buf));
	assert_string_equal(buf, "2 GiB");
	splq_size_format(1536ULL << 20, buf, sizeof(buf));
	assert_string_equal(buf, "1536 MiB");
	splq_size_format(17, buf, sizeof(buf));
	assert_string_equal(buf, "17 B");
	assert_int_equal(splq_volume_index("private"), 1);
	assert_int_equal(splq_volume_index("kernel"), -1);
	assert_int_equal(splq_volume_default_size(1), 2ULL << 30);
	assert_int_equal(splq_volume_default_size(0), 10ULL << 30);
	assert_int_equal(splq_volume_default_size(2), 10ULL << 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_name_good),
	    cmocka_unit_test(test_name_empty),
	    cmocka_unit_test(test_name_length),
	    cmocka_unit_test(test_name_first),
	    cmocka_unit_test(test_name_chars),
	    cmocka_unit_test(test_name_reserved),
	    cmocka_unit_test(test_name_dm),
	    cmocka_unit_test(test_name_messages_distinct),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_prop_table),
	    cmocka_unit_test(test_net_addresses),
	    cmocka_unit_test(test_prop_details),
	    cmocka_unit_test(test_parse_int),
	    cmocka_unit_test(test_parse_bool),
	    cmocka_unit_test(test_parse_label),
	    cmocka_unit_test(test_parse_vm),
	    cmocka_unit_test(test_parse_str),
	    cmocka_unit_test(test_parse_readonly),
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_features),
	    cmocka_unit_test(test_features_splq_reads),
	    cmocka_unit_test(test_user_names),
	    cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
