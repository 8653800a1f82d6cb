/* splq command line: printing results and errors (see cli.h).  Text goes
 * to stdout, errors to stderr as one `splq: <message>` line; with --json
 * exactly one object goes to stdout: success and code first, then the
 * command's data, then error on failure. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *cli_jstrn(const char *s, size_t len)
{
	size_t n;
	cleanup_free char *clean = cli_utf8_sanitize(s ? s : "", s ? len : 0, &n);

	return json_stringn(clean, n);
}

json_t *cli_jstr(const char *s)
{
	return cli_jstrn(s, s ? strlen(s) : 0);
}

static void print_json(json_t *obj)
{
	json_dumpf(obj, stdout, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(obj);
}

/* {"success":..,"code":.., ...data, "error":msg}; takes data. */
static json_t *result(bool success, int code, json_t *data, const char *error)
{
	json_t *o = json_object();

	json_object_set_new(o, "success", json_boolean(success));
	json_object_set_new(o, "code", json_integer(code));
	if (data) {
		const char *key;
		json_t *v;

		json_object_foreach(data, key, v)
		{
			if (strcmp(key, "success") && strcmp(key, "code") && strcmp(key, "error"))
				json_object_set(o, key, v);
		}
		json_decref(data);
	}
	if (error)
		json_object_set_new(o, "error", cli_jstr(error));
	return o;
}

void cli_print_result(bool success, int code, json_t *data)
{
	print_json(result(success, code, data, NULL));
}

int cli_ok(struct cli *cli, json_t *data)
{
	if (cli->json)
		print_json(result(true, SPLQ_OK, data, NULL));
	else
		json_decref(data);
	fflush(stdout);
	return SPLQ_OK;
}

int cli_fail(struct cli *cli, const struct splq_error *err, json_t *data)
{
	char msg[SPLQ_ERROR_MAX];
	int code = err->code > 0 && err->code < 256 ? err->code : SPLQ_E_INTERNAL;

	snprintf(msg, sizeof(msg), "%s", err->msg[0] ? err->msg : "unknown error");
	if (cli->json) {
		print_json(result(false, code, data, msg));
		return code;
	}
	json_decref(data);
	fflush(stdout);
	fprintf(stderr, "splq: %s\n", cli_one_line(msg));
	return code;
}

json_t *cli_warn(struct cli *cli, const char *qube, const struct splq_error *err)
{
	char msg[SPLQ_ERROR_MAX];
	int code = err->code > 0 && err->code < 256 ? err->code : SPLQ_E_INTERNAL;

	snprintf(msg, sizeof(msg), "%s", err->msg[0] ? err->msg : "unknown error");
	if (!cli->json) {
		fflush(stdout);
		fprintf(stderr, "splq: %s\n", cli_one_line(msg));
	}
	return json_pack("{s:o,s:i,s:o}", "qube", cli_jstr(qube), "code", code, "error",
	                 cli_jstr(msg));
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	char msg[SPLQ_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		print_json(result(false, SPLQ_E_USAGE, NULL, msg));
		return SPLQ_E_USAGE;
	}
	fflush(stdout);
	fprintf(stderr, "splq: %s\n", cli_one_line(msg));
	if (cli->cmd)
		fprintf(stderr, "Try 'splq %s --help'.\n", cli->cmd);
	else
		fprintf(stderr, "Try 'splq --help'.\n");
	return SPLQ_E_USAGE;
}

int cli_parse_end(struct cli *cli)
{
	const struct cli_command *c;
	int used;

	if (cli->help) {
		char first[64];
		const char *space = strchr(cli->cmd, ' ');

		snprintf(first, sizeof(first), "%.*s",
		         (int)(space ? (size_t)(space - cli->cmd) : strlen(cli->cmd)), cli->cmd);
		c = cli_command_find(first, space ? space + 1 : NULL, &used);
		if (c)
			cli_print_usage(stdout, c);
		return 0;
	}
	if (cli->usage[0])
		return cli_usage(cli, "%s", cli->usage);
	return -1;
}

int cli_parse_common(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};

	while (cli_getopt(cli, argc, argv, ":h", opts) != -1)
		;
	return cli_parse_end(cli);
}

int cli_no_operands(struct cli *cli, int argc, char **argv)
{
	if (optind < argc)
		return cli_usage(cli, "%s takes no arguments, not '%s'", cli->cmd, argv[optind]);
	return -1;
}

int cli_open(struct cli *cli, struct splq_ctx *ctx)
{
	struct splq_error err = {0};

	memset(ctx, 0, sizeof(*ctx));
	if (splq_ctx_open(ctx, &err) < 0)
		return cli_fail(cli, &err, NULL);
	return 0;
}
