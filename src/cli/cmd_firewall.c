/* splq command line: a qube's firewall rules, in the manner of
 * qvm-firewall. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int firewall_show(struct cli *cli, struct splq_ctx *ctx, const char *qube, bool raw)
{
	struct splq_error err = {0};
	char **rules = NULL;
	bool dflt = false;
	int n = 0;

	if (splq_op_firewall_list(ctx, qube, &rules, &n, &dflt, &err) < 0)
		return cli_fail(cli, &err, NULL);
	if (cli->json) {
		json_t *a = json_array();

		for (int i = 0; i < n; i++)
			json_array_append_new(a, cli_jstr(rules[i]));
		splq_strv_free(rules, n);
		return cli_ok(cli, json_pack("{s:o,s:b,s:o}", "qube", cli_jstr(qube), "default",
		                             dflt, "rules", a));
	}
	for (int i = 0; i < n; i++)
		if (raw)
			printf("%s\n", rules[i]);
		else
			printf("%-3d %s\n", i, rules[i]);
	splq_strv_free(rules, n);
	return 0;
}

/* The words of a rule, as qvm-firewall takes them, joined by spaces. */
static char *join(char **words, int n)
{
	size_t len = 0;
	char *s = splq_xstrdup("");

	for (int i = 0; i < n; i++)
		splq_str_appendf(&s, &len, "%s%s", i ? " " : "", words[i]);
	return s;
}

/* All of stdin (a pipe too), at most RULES_MAX bytes. */
#define RULES_MAX (1 << 20)
static int read_stdin(char **out, size_t *len, struct splq_error *err)
{
	char *buf = splq_xmalloc(RULES_MAX + 1);
	size_t n = 0;
	ssize_t r;

	while (n < RULES_MAX && (r = read(STDIN_FILENO, buf + n, RULES_MAX - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "read standard input");
		}
		n += (size_t)r;
	}
	if (n == RULES_MAX) {
		free(buf);
		return splq_fail(err, SPLQ_E_VALUE, "firewall rules: more than %d bytes", RULES_MAX);
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

/* A rule number: a decimal from 0. */
static int rule_number(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	return errno || end == text || *end || v < 0 || v > 100000 ? -1 : (int)v;
}

int cmd_firewall(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"raw", no_argument, NULL, 'r'},
	    {"before", required_argument, NULL, 'b'},
	    {"rule-no", required_argument, NULL, 'n'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	cleanup_free char *rule = NULL;
	cleanup_free char *text = NULL;
	const char *before_s = NULL, *number_s = NULL;
	bool raw = false;
	int c, rc, n, r;
	char **args;

	while ((c = cli_getopt(cli, argc, argv, ":h", opts)) != -1) {
		if (c == 'r')
			raw = true;
		else if (c == 'b')
			before_s = optarg;
		else if (c == 'n')
			number_s = optarg;
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	n = argc - optind;
	args = argv + optind;
	if (n == 0)
		return cli_usage(cli, "firewall needs a QUBE");
	const char *qube = args[0], *verb = n > 1 ? args[1] : "list";
	int before = -1, number = -1;
	if (before_s && (strcmp(verb, "add") != 0 || (before = rule_number(before_s)) < 0))
		return cli_usage(cli, "--before takes a rule number (from 0), with add only");
	if (number_s && (strcmp(verb, "del") != 0 || (number = rule_number(number_s)) < 0))
		return cli_usage(cli, "--rule-no takes a rule number (from 0), with del only");
	if (raw && strcmp(verb, "list") != 0)
		return cli_usage(cli, "--raw goes with list only");

	if (strcmp(verb, "list") == 0 || strcmp(verb, "reset") == 0 || strcmp(verb, "reload") == 0) {
		if (n > 2)
			return cli_usage(cli, "firewall QUBE %s takes no more arguments, not '%s'", verb,
			                 args[2]);
	} else if (strcmp(verb, "add") == 0) {
		if (n < 3)
			return cli_usage(cli, "firewall QUBE add needs a RULE (key=value ...)");
		rule = join(args + 2, n - 2);
	} else if (strcmp(verb, "del") == 0) {
		/* del N (qvm-firewall's --rule-no N), or del RULE */
		if (n == 3 && number < 0 && rule_number(args[2]) >= 0)
			number = rule_number(args[2]);
		else if (n >= 3 && number < 0)
			rule = join(args + 2, n - 2);
		else if (n != 2 || number < 0)
			return cli_usage(cli, "firewall QUBE del needs a rule NUMBER or a RULE");
	} else if (strcmp(verb, "set") == 0) {
		size_t len;

		if (n != 3)
			return cli_usage(cli, "firewall QUBE set needs a FILE (- for stdin)");
		if ((strcmp(args[2], "-") == 0 ? read_stdin(&text, &len, &err)
		                               : splq_read_file(args[2], &text, &len, &err)) < 0)
			return cli_fail(cli, &err, NULL);
		if (strlen(text) != len)
			return cli_usage(cli, "firewall rules in '%s' hold a NUL byte", args[2]);
	} else {
		return cli_usage(cli, "unknown firewall action '%s' (list, add, del, set, reset or reload)",
		                 verb);
	}

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (strcmp(verb, "list") == 0) {
		rc = firewall_show(cli, &ctx, qube, raw);
		splq_ctx_close(&ctx);
		return rc;
	}
	if (strcmp(verb, "add") == 0)
		r = splq_op_firewall_add(&ctx, qube, rule, before, &err);
	else if (strcmp(verb, "del") == 0)
		r = splq_op_firewall_del(&ctx, qube, number, rule, &err);
	else if (strcmp(verb, "set") == 0)
		r = splq_op_firewall_set(&ctx, qube, text, &err);
	else if (strcmp(verb, "reset") == 0)
		r = splq_op_firewall_reset(&ctx, qube, &err);
	else
		r = splq_op_firewall_reload(&ctx, qube, &err);
	if (r < 0)
		rc = cli_fail(cli, &err, NULL);
	else
		rc = cli->json ? firewall_show(cli, &ctx, qube, false) : cli_ok(cli, NULL);
	splq_ctx_close(&ctx);
	return rc;
}
