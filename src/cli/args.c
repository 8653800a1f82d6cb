/* splq command line: option parsing and argument checks (see cli.h).
 * Nothing here prints: tests/unit/test_cli.c compiles this file. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_arg_error(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->usage[0])
		return;
	va_start(ap, fmt);
	vsnprintf(cli->usage, sizeof(cli->usage), fmt, ap);
	va_end(ap);
}

/* The long option that an argument like "--name=value" names (exactly or
 * by a prefix, as getopt_long accepts); NULL if none. */
static const struct option *long_option(const char *arg, const struct option *longopts)
{
	size_t n = strcspn(arg, "=");
	const struct option *prefix = NULL;

	for (const struct option *o = longopts; o->name; o++) {
		if (strncmp(o->name, arg, n) != 0)
			continue;
		if (strlen(o->name) == n)
			return o;
		if (!prefix)
			prefix = o;
	}
	return prefix;
}

/* Keep a clear message for an unknown option (missing false) or an option
 * without its value (missing true), naming it as the user wrote it. */
static void bad_option(struct cli *cli, char **argv, const struct option *longopts, bool missing)
{
	const char *prev = optind > 0 ? argv[optind - 1] : NULL;
	bool is_long = prev && strncmp(prev, "--", 2) == 0 && prev[2];
	int n = is_long ? (int)strcspn(prev, "=") : 0;

	if (missing) {
		if (is_long)
			cli_arg_error(cli, "option '%.*s' needs a value", n, prev);
		else
			cli_arg_error(cli, "option '-%c' needs a value", optopt);
		return;
	}
	if (optopt == 0 && is_long) {
		cli_arg_error(cli, "unknown option '%.*s'", n, prev);
		return;
	}
	if (is_long && prev[n] == '=') {
		const struct option *o = long_option(prev + 2, longopts);

		if (o && o->has_arg == no_argument && o->val == optopt) {
			cli_arg_error(cli, "option '--%s' takes no value", o->name);
			return;
		}
	}
	if (optopt > 0x20 && optopt < 0x7f)
		cli_arg_error(cli, "unknown option '-%c'", optopt);
	else
		cli_arg_error(cli, "unknown option");
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shortopts, longopts, NULL);

		switch (c) {
		case CLI_OPT_JSON:
			cli->json = true;
			break;
		case 'h':
			cli->help = true;
			break;
		case '?':
			bad_option(cli, argv, longopts, false);
			break;
		case ':':
			bad_option(cli, argv, longopts, true);
			break;
		default:
			return c;
		}
	}
}

int cli_parse_seconds(const char *opt, const char *s, long *out, struct splq_error *err)
{
	long long v;

	if (splq_duration_parse(s, 31536000, &v, err) < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return splq_fail(err, SPLQ_E_USAGE, "%s: %s", opt, why);
	}
	if (v < 1)
		return splq_fail(err, SPLQ_E_USAGE,
		                 "%s must be between 1 s and 365 days (31536000 s), not '%s'", opt, s);
	*out = (long)v;
	return 0;
}

int cli_parse_size(const char *opt, const char *s, long long *out, struct splq_error *err)
{
	unsigned long long v;

	if (splq_bytes_parse(s, &v, err) < 0) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		return splq_fail(err, SPLQ_E_USAGE, "%s: %s", opt, why);
	}
	if (v == 0)
		return splq_fail(err, SPLQ_E_USAGE, "%s must be at least 1 byte, not '%s'", opt, s);
	*out = (long long)v;
	return 0;
}

int cli_parse_assign(const char *opt, char *s, struct splq_prop_assign *out, struct splq_error *err)
{
	char *eq = strchr(s, '=');

	if (!eq || eq == s)
		return splq_fail(err, SPLQ_E_USAGE, "%s needs NAME=VALUE, not '%s'", opt, s);
	*eq = '\0';
	out->name = s;
	out->value = eq + 1;
	return 0;
}

int cli_parse_create_class(const char *s, enum splq_class *out, struct splq_error *err)
{
	if (strcmp(s, "AppVM") == 0) {
		*out = SPLQ_CLASS_APPVM;
		return 0;
	}
	if (strcmp(s, "StandaloneVM") == 0) {
		*out = SPLQ_CLASS_STANDALONEVM;
		return 0;
	}
	if (strcmp(s, "TemplateVM") == 0)
		return splq_fail(err, SPLQ_E_USAGE,
		                 "--class TemplateVM: make templates with 'splq template create'");
	if (strcmp(s, "DispVM") == 0)
		return splq_fail(err, SPLQ_E_USAGE,
		                 "--class DispVM: disposables are made by 'splq dispvm'");
	return splq_fail(err, SPLQ_E_USAGE, "--class must be AppVM or StandaloneVM, not '%s'", s);
}
