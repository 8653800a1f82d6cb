/* splq command line: file copy between qubes and the host, `copy` and
 * `move` (ops.h's splq_op_copy). */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Progress on a terminal: bytes, files and rate, on one line redrawn
 * in place, once a copy has taken a second. */
static void progress(void *arg, const struct splq_filecopy_stats *s)
{
	const int *fd = arg;
	double mib = (double)s->bytes / (1024.0 * 1024.0);

	if (s->elapsed_ms < 1000)
		return;
	dprintf(*fd, "\r%10.1f MiB  %8llu files  %8.1f MiB/s%s", mib, (unsigned long long)s->files,
	        mib * 1000.0 / (double)s->elapsed_ms, s->done ? "\n" : "");
}

static void hex(const unsigned char *sha, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

static json_t *files_json(const struct splq_qfile_hashes *h)
{
	json_t *a = json_array();
	char x[65];

	for (size_t i = 0; i < h->n; i++) {
		hex(h->v[i].sha256, x);
		json_array_append_new(a, json_pack("{s:o,s:I,s:s}", "name", cli_jstr(h->v[i].name),
		                                   "size", (json_int_t)h->v[i].size, "sha256", x));
	}
	return a;
}

static int copy_or_move(struct cli *cli, int argc, char **argv, bool move)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"dest", required_argument, NULL, 'd'},
	    {"verify", no_argument, NULL, 'V'},
	    {"secure", no_argument, NULL, 'S'},
	    {"ignore-symlinks", no_argument, NULL, 'I'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *to = NULL;
	struct splq_copy_req req = {.from = NULL, .err_fd = STDERR_FILENO};
	struct splq_copy_result res;
	struct splq_call_decision d;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, move ? "+:hf:t:d:S" : "+:hf:t:d:", opts)) != -1) {
		if (c == 'f')
			req.from = optarg;
		else if (c == 't')
			to = optarg;
		else if (c == 'd')
			req.dest = optarg;
		else if (c == 'V')
			req.verify = true;
		else if (c == 'S' && move)
			req.secure = true;
		else if (c == 'I')
			req.ignore_symlinks = true;
		else
			return cli_usage(cli, "--secure is for move only");
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (!req.from || !to)
		return cli_usage(cli, "%s needs --from SOURCE and --to TARGET",
		                 move ? "move" : "copy");
	if (strcmp(req.from, to) == 0)
		return cli_usage(cli, "'%s' cannot %s files to itself", to, move ? "move" : "copy");
	if (optind == argc)
		return cli_usage(cli, "%s needs at least one PATH", move ? "move" : "copy");
	req.paths = (const char *const *)argv + optind;
	req.npaths = (size_t)(argc - optind);
	req.move = move;
	if (!cli->json && isatty(req.err_fd)) {
		req.progress = progress;
		req.progress_arg = &req.err_fd;
	}
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_call_decide(&ctx, req.from, to, "qubes.Filecopy", true, &d, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
		goto out;
	}
	if (!d.allowed) {
		splq_fail(&err, SPLQ_E_REFUSED, "%s of files from '%s' to '%s' refused: %s%s%s",
		          move ? "move" : "copy", req.from, to, d.why, d.rule[0] ? " at " : "",
		          d.rule);
		rc = cli_fail(cli, &err, NULL);
		goto out;
	}
	rc = splq_op_copy(&ctx, &req, &d, &res, &err);
	json_t *data =
	    json_pack("{s:s,s:o,s:o,s:I,s:b,s:o}", "from", req.from, "to", cli_jstr(d.target),
	              "rule", cli_jstr(d.rule), "bytes", (json_int_t)res.c.bytes, "verified",
	              res.c.verified, "files", files_json(&res.c.sent));
	if (move)
		json_object_set_new(data, "removed", json_boolean(res.removed));
	if (rc < 0) {
		rc = cli_fail(cli, &err, data);
	} else {
		if (cli->json)
			cli_print_result(true, SPLQ_OK, data);
		else {
			printf("%s %zu file%s (%llu bytes) from %s to %s%s\n",
			       move ? "moved" : "copied", res.c.sent.n,
			       res.c.sent.n == 1 ? "" : "s", (unsigned long long)res.c.bytes,
			       req.from, d.target,
			       res.c.verified ? ", every SHA-256 verified at both ends" : "");
			json_decref(data);
		}
		rc = 0;
	}
	splq_filecopy_free(&res.c);
out:
	splq_ctx_close(&ctx);
	return rc;
}

int cmd_copy(struct cli *cli, int argc, char **argv)
{
	return copy_or_move(cli, argc, argv, false);
}

int cmd_move(struct cli *cli, int argc, char **argv)
{
	return copy_or_move(cli, argc, argv, true);
}
