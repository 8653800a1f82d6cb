/* splq command line: logs.  The qube's log is bytes the qube wrote: they
 * go to stdout as they are, filtered as run filters them where stdout is
 * a terminal; with --json they go to a memory file of splq's first and
 * come back as lines (valid UTF-8, at most twice the log's bound). */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

/* The lines of the memory file fd (the last one may lack its newline). */
static json_t *read_lines(int fd, struct splq_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (splq_read_fd(fd, &buf, &len, err, "the log back") < 0)
		return NULL;
	json_t *lines = json_array();
	for (size_t at = 0; at < len;) {
		char *nl = memchr(buf + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - buf) : len;

		json_array_append_new(lines, cli_jstrn(buf + at, end - at));
		at = end + 1;
	}
	return lines;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"filter-escape-chars", no_argument, NULL, CLI_OPT_FILTER},
	    {"no-filter-escape-chars", no_argument, NULL, CLI_OPT_NO_FILTER},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	bool follow = false;
	int c, rc, filter = -1;
	cleanup_close int mem = -1;
	const char *name;

	while ((c = cli_getopt(cli, argc, argv, ":hf", opts)) != -1) {
		if (c == 'f')
			follow = true;
		else if (c == CLI_OPT_FILTER)
			filter = 1;
		else if (c == CLI_OPT_NO_FILTER)
			filter = 0;
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage(cli, "logs needs a qube NAME");
	if (optind + 1 < argc)
		return cli_usage(cli, "logs takes one qube, not '%s'", argv[optind + 1]);
	if (cli->json && follow)
		return cli_usage(cli, "--follow cannot be used with --json");
	name = argv[optind];
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (cli->json && (mem = memfd_create("splq-log", MFD_CLOEXEC)) < 0) {
		splq_fail_errno(&err, SPLQ_E_INTERNAL, errno,
		                "cannot make a memory file for the log");
		rc = cli_fail(cli, &err, NULL);
	} else if (splq_op_logs(&ctx, name, cli->json ? mem : STDOUT_FILENO, cli->json ? 0 : filter,
	                        follow, &err) < 0) {
		rc = cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(name)));
	} else if (cli->json) {
		json_t *lines = read_lines(mem, &err);

		rc = lines ? cli_ok(cli,
		                    json_pack("{s:o,s:o}", "qube", cli_jstr(name), "lines", lines))
		           : cli_fail(cli, &err, NULL);
	} else {
		rc = cli_ok(cli, NULL);
	}
	splq_ctx_close(&ctx);
	return rc;
}
