/* splq: the Qubes domain model (see model.h). */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ---- classes ---- */

static const char *const class_names[SPLQ_CLASS_COUNT] = {
    [SPLQ_CLASS_ADMINVM] = "AdminVM",
    [SPLQ_CLASS_TEMPLATEVM] = "TemplateVM",
    [SPLQ_CLASS_APPVM] = "AppVM",
    [SPLQ_CLASS_DISPVM] = "DispVM",
    [SPLQ_CLASS_STANDALONEVM] = "StandaloneVM",
};

const char *splq_class_name(enum splq_class c)
{
	if ((int)c < 0 || c >= SPLQ_CLASS_COUNT)
		return "?";
	return class_names[c];
}

int splq_class_parse(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < SPLQ_CLASS_COUNT; i++)
		if (strcmp(name, class_names[i]) == 0)
			return i;
	return -1;
}

bool splq_class_has_template(enum splq_class c)
{
	return c == SPLQ_CLASS_APPVM || c == SPLQ_CLASS_DISPVM;
}

/* ---- quoting for messages ---- */

/* Copy s into buf for a message: printable ASCII as is, anything else as
 * \xNN; cut with "..." when too long. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 8 >= size) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			buf[o++] = (char)*p;
		else
			o += snprintf(buf + o, size - o, "\\x%02x", *p);
	}
	buf[o] = '\0';
	return buf;
}
#define SHOWN(s) shown((s), (char[80]){0}, 80)

/* ---- names ---- */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_printable(char c)
{
	return c >= 0x20 && c < 0x7f;
}

int splq_name_check(const char *name, struct splq_error *err)
{
	size_t len;

	if (!name || !*name)
		return splq_fail(err, SPLQ_E_NAME, "a qube name may not be empty");
	len = strlen(name);
	if (len > SPLQ_NAME_MAX)
		return splq_fail(err, SPLQ_E_NAME,
		                 "qube name '%s' is too long (%zu characters; at most %d)",
		                 SHOWN(name), len, SPLQ_NAME_MAX);
	if (!is_alpha(name[0]))
		return splq_fail(err, SPLQ_E_NAME, "qube name '%s' must start with a letter",
		                 SHOWN(name));
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-')
			continue;
		if (is_printable(c))
			return splq_fail(err, SPLQ_E_NAME,
			                 "qube name '%s' contains '%c'; only letters, digits, "
			                 "'_', '.' and '-' are allowed",
			                 SHOWN(name), c);
		return splq_fail(err, SPLQ_E_NAME,
		                 "qube name '%s' contains the byte 0x%02x; only letters, digits, "
		                 "'_', '.' and '-' are allowed",
		                 SHOWN(name), (unsigned char)c);
	}
	if (strcmp(name, "none") == 0 || strcmp(name, "default") == 0 ||
	    strcmp(name, "Domain-0") == 0)
		return splq_fail(err, SPLQ_E_NAME, "qube name '%s' is reserved", name);
	if (strcmp(name, "dom0") == 0)
		return splq_fail(err, SPLQ_E_NAME,
		                 "qube name 'dom0' belongs to the AdminVM; choose another name");
	if (len >= 3 && strcmp(name + len - 3, "-dm") == 0)
		return splq_fail(err, SPLQ_E_NAME,
		                 "qube name '%s' may not end in '-dm' (reserved for device models)",
		                 name);
	return 0;
}

/* ---- labels ---- */

const struct splq_label splq_labels[8] = {
    {1, "red", 0xcc0000},  {2, "orange", 0xf57900}, {3, "yellow", 0xedd400}, {4, "green", 0x73d216},
    {5, "gray", 0x555555}, {6, "blue", 0x3465a4},   {7, "purple", 0x75507b}, {8, "black", 0x000000},
};

const struct splq_label *splq_label_by_index(int index)
{
	if (index < 1 || index > 8)
		return NULL;
	return &splq_labels[index - 1];
}

const struct splq_label *splq_label_find(const char *name_or_index)
{
	if (!name_or_index)
		return NULL;
	if (name_or_index[0] >= '1' && name_or_index[0] <= '8' && name_or_index[1] == '\0')
		return splq_label_by_index(name_or_index[0] - '0');
	for (int i = 0; i < 8; i++)
		if (strcasecmp(name_or_index, splq_labels[i].name) == 0)
			return &splq_labels[i];
	return NULL;
}

/* ---- properties ---- */

#define C(x)    (1u << SPLQ_CLASS_##x)
#define ALL     (C(ADMINVM) | C(TEMPLATEVM) | C(APPVM) | C(DISPVM) | C(STANDALONEVM))
#define NOADMIN (ALL & ~C(ADMINVM))

const struct splq_prop_def splq_props[] = {
    {"name", SPLQ_PT_STR, NULL, 0, 0, true, false, ALL, "the qube's name"},
    {"klass", SPLQ_PT_STR, NULL, 0, 0, true, false, ALL,
     "the qube's class (AdminVM, TemplateVM, AppVM, DispVM, StandaloneVM)"},
    {"uuid", SPLQ_PT_STR, NULL, 0, 0, true, false, ALL, "the qube's UUID, fixed at creation"},
    {"label", SPLQ_PT_LABEL, "red", 0, 0, false, false, ALL,
     "colour that marks the qube's windows and trust level"},
    {"template", SPLQ_PT_VM, "", 0, 0, false, true, C(APPVM) | C(DISPVM),
     "the template whose root file system the qube starts from"},
    {"netvm", SPLQ_PT_VM, "", 0, 0, false, false, NOADMIN,
     "the qube that gives this one network access (empty: no network)"},
    {"provides_network", SPLQ_PT_BOOL, "False", 0, 0, false, false, NOADMIN,
     "whether other qubes may use this one as their netvm"},
    {"uplink", SPLQ_PT_STR, "", 0, 0, false, true, NOADMIN,
     "where a qube that provides network and has no netvm gets its own: 'pasta' "
     "(user-mode networking through the host's), 'netns:NAME' (the host's network "
     "namespace /run/netns/NAME), or 'none' and empty (no uplink: a network of qubes "
     "only)"},
    {"default_netvm", SPLQ_PT_VM, "", 0, 0, false, false, C(ADMINVM),
     "the netvm of every qube that sets none itself (templates and qubes that provide "
     "network excepted; empty: no network)"},
    {"ip", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the qube's IPv4 address (empty without network)"},
    {"ip6", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the qube's IPv6 address (empty without network)"},
    {"gateway", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "a network qube's address as its clients' gateway (IPv4)"},
    {"gateway6", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "a network qube's address as its clients' gateway (IPv6)"},
    {"visible_ip", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the IPv4 address the qube sees as its own"},
    {"visible_ip6", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the IPv6 address the qube sees as its own"},
    {"visible_gateway", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the gateway the qube sees (IPv4): its netvm's address"},
    {"visible_gateway6", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the gateway the qube sees (IPv6): its netvm's address"},
    {"visible_netmask", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the netmask of the qube's address"},
    {"dns", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the virtual DNS servers the qube is given (its netvm forwards them upstream)"},
    {"mac", SPLQ_PT_STR, NULL, 0, 0, true, false, NOADMIN,
     "the MAC address of the qube's network interface"},
    {"memory", SPLQ_PT_INT, "400", 32, 1048576, false, false, NOADMIN,
     "memory the qube is given, in MiB: its soft limit, kept under memory pressure "
     "(at most the host's memory)"},
    {"maxmem", SPLQ_PT_INT, "4000", 0, 1048576, false, false, NOADMIN,
     "memory the qube may grow to, in MiB: its hard limit (not below memory; 0: memory "
     "is the hard limit too; default 4000, or memory where that is more)"},
    {"vcpus", SPLQ_PT_INT, "2", 1, 256, false, true, NOADMIN,
     "number of CPUs the qube may use (at most the host's)"},
    {"default_user", SPLQ_PT_STR, "user", 0, 0, false, false, NOADMIN,
     "the user that commands run as in the qube unless told otherwise"},
    {"default_dispvm", SPLQ_PT_VM, "", 0, 0, false, false, ALL,
     "the qube disposables are made from (on dom0: the global default)"},
    {"default_template", SPLQ_PT_VM, "", 0, 0, false, false, C(ADMINVM),
     "the template that 'splq create' uses when given no --template"},
    {"qrexec_ask_program", SPLQ_PT_STR, "", 0, 0, false, false, C(ADMINVM),
     "a program that answers the qrexec policy's ask: given SOURCE SERVICE+ARG "
     "DEFAULT and the targets on its stdin, it prints the one chosen (empty: ask on the "
     "terminal of the host user whose splq call asked; a call from a qube is denied)"},
    {"template_for_dispvms", SPLQ_PT_BOOL, "False", 0, 0, false, false, C(APPVM),
     "whether disposables may be made from this qube"},
    {"include_in_backups", SPLQ_PT_BOOL, "True", 0, 0, false, false, NOADMIN,
     "whether a backup includes this qube (kept for the backup command to come: "
     "nothing reads it yet)"},
    {"autostart", SPLQ_PT_BOOL, "False", 0, 0, false, false, NOADMIN,
     "whether 'splq start --autostart' (run at boot by splq-autostart.service) starts "
     "the qube"},
    {"qrexec_timeout", SPLQ_PT_INT, "60", 1, 3600, false, false, NOADMIN,
     "seconds the qube's pid 1 may take to answer a command before splq gives up"},
    {"shutdown_timeout", SPLQ_PT_INT, "60", 1, 3600, false, false, NOADMIN,
     "seconds to wait for a clean shutdown before killing the qube (read at each "
     "shutdown)"},
    {"auto_cleanup", SPLQ_PT_BOOL, "True", 0, 0, false, false, C(DISPVM),
     "whether the disposable is removed when it stops"},
    {NULL, 0, NULL, 0, 0, false, false, 0, NULL},
};

const struct splq_prop_def *splq_prop_find(const char *name)
{
	if (!name)
		return NULL;
	for (const struct splq_prop_def *d = splq_props; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

const char *splq_prop_type_name(enum splq_prop_type t)
{
	switch (t) {
	case SPLQ_PT_STR:
		return "str";
	case SPLQ_PT_INT:
		return "int";
	case SPLQ_PT_BOOL:
		return "bool";
	case SPLQ_PT_VM:
		return "vm";
	case SPLQ_PT_LABEL:
		return "label";
	}
	return "?";
}

static int parse_int(const struct splq_prop_def *def, const char *value, char **out,
                     struct splq_error *err)
{
	const char *p = value;
	char *end;
	long v;

	if (*p == '-')
		p++;
	if (!is_digit(*p))
		goto bad;
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno == ERANGE || *end != '\0' || v < def->min || v > def->max)
		goto bad;
	*out = splq_strdup_printf("%ld", v);
	return 0;
bad:
	return splq_fail(err, SPLQ_E_VALUE,
	                 "property '%s' takes an integer from %ld to %ld, not '%s'", def->name,
	                 def->min, def->max, SHOWN(value));
}

static int parse_bool(const struct splq_prop_def *def, const char *value, char **out,
                      struct splq_error *err)
{
	static const char *const yes[] = {"True", "true", "1", "yes"};
	static const char *const no[] = {"False", "false", "0", "no"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, yes[i]) == 0) {
			*out = splq_xstrdup("True");
			return 0;
		}
		if (strcmp(value, no[i]) == 0) {
			*out = splq_xstrdup("False");
			return 0;
		}
	}
	return splq_fail(err, SPLQ_E_VALUE,
	                 "property '%s' takes a boolean (True or False), not '%s'", def->name,
	                 SHOWN(value));
}

int splq_prop_parse(const struct splq_prop_def *def, const char *value, char **out,
                    struct splq_error *err)
{
	struct splq_error sub;
	size_t len;

	*out = NULL;
	if (!def)
		return splq_fail(err, SPLQ_E_NOTFOUND, "no such property");
	if (def->readonly)
		return splq_fail(err, SPLQ_E_VALUE, "property '%s' is read-only", def->name);
	if (!value)
		return splq_fail(err, SPLQ_E_VALUE, "property '%s' needs a value", def->name);

	switch (def->type) {
	case SPLQ_PT_INT:
		return parse_int(def, value, out, err);
	case SPLQ_PT_BOOL:
		return parse_bool(def, value, out, err);
	case SPLQ_PT_LABEL: {
		const struct splq_label *l = splq_label_find(value);

		if (!l)
			return splq_fail(err, SPLQ_E_VALUE,
			                 "property '%s' takes a label (red, orange, yellow, green, "
			                 "gray, blue, purple, black, or 1 to 8), not '%s'",
			                 def->name, SHOWN(value));
		*out = splq_xstrdup(l->name);
		return 0;
	}
	case SPLQ_PT_VM:
		if (*value && splq_name_check(value, &sub) < 0)
			return splq_fail(err, SPLQ_E_VALUE,
			                 "property '%s' takes a qube name or nothing, not '%s': %s",
			                 def->name, SHOWN(value), sub.msg);
		*out = splq_xstrdup(value);
		return 0;
	case SPLQ_PT_STR:
		len = strlen(value);
		for (size_t i = 0; i < len; i++)
			if (!is_printable(value[i]))
				return splq_fail(err, SPLQ_E_VALUE,
				                 "property '%s' takes printable text on one line, "
				                 "not '%s'",
				                 def->name, SHOWN(value));
		if (len > 4096)
			return splq_fail(err, SPLQ_E_VALUE,
			                 "property '%s' takes at most 4096 characters, not %zu",
			                 def->name, len);
		if (strcmp(def->name, "default_user") == 0 && splq_user_name_check(value, &sub) < 0)
			return splq_fail(err, SPLQ_E_VALUE, "property '%s': %s", def->name,
			                 sub.msg);
		*out = splq_xstrdup(value);
		return 0;
	}
	return splq_fail(err, SPLQ_E_INTERNAL, "property '%s' has an unknown type", def->name);
}

/* ---- tags, features, users ---- */

/* A tag or a feature name: 1 to 255 letters, digits, '_', '.', '-' and
 * the characters in extra.  what: "tag"; allowed: the allowed characters
 * after "letters, digits, " for the message. */
static int word_check(const char *s, const char *what, const char *extra, const char *allowed,
                      struct splq_error *err)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0)
		return splq_fail(err, SPLQ_E_VALUE, "a %s may not be empty", what);
	if (len > 255)
		return splq_fail(err, SPLQ_E_VALUE, "%s '%s' is too long (%zu bytes; at most 255)",
		                 what, SHOWN(s), len);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-' ||
		      strchr(extra, c)))
			return splq_fail(err, SPLQ_E_VALUE,
			                 "%s '%s' may hold only letters, digits, %s", what,
			                 SHOWN(s), allowed);
	}
	return 0;
}

int splq_tag_check(const char *tag, struct splq_error *err)
{
	return word_check(tag, "tag", ":", "'_', '.', ':' and '-'", err);
}

int splq_feature_name_check(const char *name, struct splq_error *err)
{
	return word_check(name, "feature name", "", "'_', '.' and '-'", err);
}

int splq_feature_value_check(const char *value, struct splq_error *err)
{
	size_t len;

	if (!value)
		return splq_fail(err, SPLQ_E_VALUE, "a feature needs a value");
	len = strlen(value);
	if (len > 4096)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "feature value is too long (%zu bytes; at most 4096)", len);
	for (size_t i = 0; i < len; i++)
		if (!is_printable(value[i]))
			return splq_fail(err, SPLQ_E_VALUE,
			                 "feature value '%s' may hold only printable ASCII",
			                 SHOWN(value));
	return 0;
}

static const char *const feature_on_values[] = {"1", "True", "true", "yes"};
static const char *const feature_off_values[] = {"", "0", "False", "false", "no"};

static bool in_list(const char *const *list, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], value) == 0)
			return true;
	return false;
}

int splq_feature_check(const char *name, const char *value, struct splq_error *err)
{
	if (splq_feature_name_check(name, err) < 0 || splq_feature_value_check(value, err) < 0)
		return -1;
	if (strcmp(name, SPLQ_FEATURE_ALLOW_IO_URING) != 0)
		return 0;
	if (in_list(feature_on_values, 4, value) || in_list(feature_off_values, 5, value))
		return 0;
	return splq_fail(err, SPLQ_E_VALUE, "feature '%s' takes 1 or 0 (True or False), not '%s'",
	                 name, SHOWN(value));
}

bool splq_feature_on(const char *value)
{
	return value && in_list(feature_on_values, 4, value);
}

int splq_user_name_check(const char *name, struct splq_error *err)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return splq_fail(err, SPLQ_E_VALUE, "a user name may not be empty");
	if (len > 32)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "user name '%s' is too long (%zu characters; at most 32)",
		                 SHOWN(name), len);
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "user name '%s' must start with a lower-case letter or '_'",
		                 SHOWN(name));
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-'))
			return splq_fail(err, SPLQ_E_VALUE,
			                 "user name '%s' may hold only lower-case letters, digits, "
			                 "'_' and '-'",
			                 SHOWN(name));
	}
	return 0;
}

/* ---------- volumes ---------- */

const char *const splq_volume_names[3] = {"root", "private", "volatile"};

int splq_volume_index(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (name && strcmp(name, splq_volume_names[i]) == 0)
			return i;
	return -1;
}

unsigned long long splq_volume_default_size(int index)
{
	return index == 1   ? SPLQ_PRIVATE_SIZE_DEFAULT
	       : index == 0 ? SPLQ_ROOT_SIZE_DEFAULT
	                    : SPLQ_VOLATILE_SIZE_DEFAULT;
}

int splq_bytes_parse(const char *text, unsigned long long *out, struct splq_error *err)
{
	static const struct {
		const char *unit;
		unsigned long long factor;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"K", 1024ULL},
	    {"Ki", 1024ULL},
	    {"KiB", 1024ULL},
	    {"KB", 1000ULL},
	    {"M", SPLQ_MIB},
	    {"Mi", SPLQ_MIB},
	    {"MiB", SPLQ_MIB},
	    {"MB", 1000ULL * 1000},
	    {"G", SPLQ_GIB},
	    {"Gi", SPLQ_GIB},
	    {"GiB", SPLQ_GIB},
	    {"GB", 1000ULL * 1000 * 1000},
	    {"T", 1024ULL * SPLQ_GIB},
	    {"Ti", 1024ULL * SPLQ_GIB},
	    {"TiB", 1024ULL * SPLQ_GIB},
	    {"TB", 1000ULL * 1000 * 1000 * 1000},
	};
	const char *p = text ? text : "";
	unsigned long long n = 0;
	char limit[32];

	splq_size_format(SPLQ_SIZE_MAX, limit, sizeof(limit));
	if (*p < '0' || *p > '9')
		return splq_fail(err, SPLQ_E_VALUE,
		                 "size '%s' must be a whole number with an optional unit (B, K, M, "
		                 "G, T, KiB, MiB, GiB, TiB, KB, MB, GB, TB): 4G, 512MiB",
		                 p);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return splq_fail(err, SPLQ_E_VALUE, "size '%s' is too large (at most %s)",
			                 text, limit);
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (n > SPLQ_SIZE_MAX / units[i].factor + 1)
			return splq_fail(err, SPLQ_E_VALUE, "size '%s' is too large (at most %s)",
			                 text, limit);
		n *= units[i].factor;
		if (n > SPLQ_SIZE_MAX)
			return splq_fail(err, SPLQ_E_VALUE, "size '%s' is too large (at most %s)",
			                 text, limit);
		*out = n;
		return 0;
	}
	return splq_fail(err, SPLQ_E_VALUE,
	                 "size '%s' has an unknown unit '%s' (B, K, M, G, T, KiB, MiB, GiB, TiB, "
	                 "KB, MB, GB, TB)",
	                 text, p);
}

int splq_duration_parse(const char *text, long long max_s, long long *out_s,
                        struct splq_error *err)
{
	const char *p = text ? text : "";
	long long n = 0, unit = 1;

	if (*p < '0' || *p > '9')
		return splq_fail(err, SPLQ_E_VALUE,
		                 "'%s' is not a duration: a whole number of seconds, or with a unit "
		                 "s, m, h or d (30, 30s, 5m, 1h, 2d)",
		                 p);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - 9) / 10 / 86400)
			return splq_fail(err, SPLQ_E_VALUE, "duration '%s' is too long (at most %lld s)",
			                 text, max_s);
		n = n * 10 + (*p - '0');
	}
	if (*p && !p[1] && strchr("smhd", *p))
		unit = *p == 's' ? 1 : *p == 'm' ? 60 : *p == 'h' ? 3600 : 86400;
	else if (*p)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "duration '%s' has an unknown unit '%s' (s, m, h or d)", text, p);
	if (n * unit > max_s)
		return splq_fail(err, SPLQ_E_VALUE, "duration '%s' is too long (at most %lld s)",
		                 text, max_s);
	*out_s = n * unit;
	return 0;
}

int splq_size_parse(const char *text, unsigned long long *out, struct splq_error *err)
{
	unsigned long long n;
	char least[32];

	if (splq_bytes_parse(text, &n, err) < 0)
		return -1;
	n = (n + SPLQ_MIB - 1) / SPLQ_MIB * SPLQ_MIB;
	if (n < SPLQ_SIZE_MIN) {
		splq_size_format(SPLQ_SIZE_MIN, least, sizeof(least));
		return splq_fail(err, SPLQ_E_VALUE, "size '%s' is too small (at least %s)", text,
		                 least);
	}
	*out = n;
	return 0;
}

void splq_size_format(unsigned long long bytes, char *buf, unsigned long len)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (u < 4 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", bytes, names[u]);
}

/* ---- network addresses (reference/qubes.md §7) ---- */

static void qid_xy(int id, int *x, int *y)
{
	if (id < 255) {
		*x = id >> 8;
		*y = id & 0xff;
	} else {
		*x = (id - 1) / 254;
		*y = (id - 1) % 254 + 1;
	}
}

void splq_net_ip4(int id, bool disp, char out[SPLQ_NET_ADDR_MAX])
{
	int x, y;

	qid_xy(id, &x, &y);
	snprintf(out, SPLQ_NET_ADDR_MAX, "10.%d.%d.%d", disp ? 138 : 137, x, y);
}

void splq_net_ip6(int id, bool disp, char out[SPLQ_NET_ADDR_MAX])
{
	snprintf(out, SPLQ_NET_ADDR_MAX, "fd09:24ef:4179::%s:%x", disp ? "a8a" : "a89", id);
}

int splq_net_dispid(const char *name)
{
	char *end;
	long n;

	if (strncmp(name, "disp", 4) != 0 || !isdigit((unsigned char)name[4]))
		return -1;
	n = strtol(name + 4, &end, 10);
	return *end || n < 0 || n > 65535 ? -1 : (int)n;
}

int splq_uplink_check(const char *value, struct splq_error *err)
{
	const char *ns = strncmp(value, "netns:", 6) == 0 ? value + 6 : NULL;

	if (!*value || strcmp(value, "none") == 0 || strcmp(value, "pasta") == 0)
		return 0;
	if (!ns)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "uplink '%s': give pasta, netns:NAME or none", value);
	if (!*ns || strlen(ns) > 64 || strcmp(ns, ".") == 0 || strcmp(ns, "..") == 0 ||
	    strspn(ns, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
	        strlen(ns))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "uplink '%s': a network namespace name is 1 to 64 of "
		                 "[A-Za-z0-9_.-] (a name under /run/netns)",
		                 value);
	return 0;
}
