/* splq command line: policy, policy eval and policy check.  Loading goes
 * through the ops (ops/qrexec_policy.c); deciding and the decision's text are the
 * policy library's pure functions (policy/policy.h). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "util.h"

enum { OPT_POLICY_DIR = 0x200, OPT_SYSTEM_INFO };

/* What a decision is made from; unload frees it. */
struct loaded {
	struct splq_ctx ctx;
	bool open;
	char *dir;
	struct splq_policy *policy;
	struct splq_policy_sysinfo *si;
};

static void unload(struct loaded *l)
{
	splq_policy_free(l->policy);
	splq_policy_sysinfo_free(l->si);
	free(l->dir);
	if (l->open)
		splq_ctx_close(&l->ctx);
	memset(l, 0, sizeof(*l));
}

/* Open the store, then the system info (file or store) and the policy
 * (dir or the store's policy.d).  An exit code on failure (printed), or
 * 0. */
static int load(struct cli *cli, const char *dir, const char *si_file, struct loaded *l)
{
	struct splq_error err = {0};
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = cli_open(cli, &l->ctx)))
		return rc;
	l->open = true;
	if (si_file ? splq_op_policy_sysinfo_file(si_file, &l->si, &err) < 0
	            : splq_op_policy_sysinfo(&l->ctx, &l->si, &err) < 0)
		goto fail;
	if (dir)
		l->dir = splq_xstrdup(dir);
	else if (splq_op_policy_dir(&l->ctx, &l->dir, &err) < 0)
		goto fail;
	if (splq_op_policy_load(l->dir, &l->policy, &err) < 0)
		goto fail;
	return 0;
fail:
	rc = cli_fail(cli, &err, NULL);
	unload(l);
	return rc;
}

static int parse_opts(struct cli *cli, int argc, char **argv, const char **dir,
                      const char **si_file)
{
	static const struct option opts[] = {
	    {"policy-dir", required_argument, NULL, OPT_POLICY_DIR},
	    {"system-info", required_argument, NULL, OPT_SYSTEM_INFO},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	int c;

	while ((c = cli_getopt(cli, argc, argv, ":h", opts)) != -1) {
		if (c == OPT_POLICY_DIR)
			*dir = optarg;
		else if (c == OPT_SYSTEM_INFO)
			*si_file = optarg;
	}
	return cli_parse_end(cli);
}

static json_t *decision_json(const struct splq_policy_decision *d, const char *line)
{
	json_t *o = json_object();

	json_object_set_new(o, "decision", cli_jstr(line));
	json_object_set_new(o, "action", json_string(splq_policy_action_name(d->action)));
	if (d->action == SPLQ_POLICY_ALLOW)
		json_object_set_new(o, "target", cli_jstr(d->target));
	if (d->action == SPLQ_POLICY_ASK) {
		json_t *a = json_array();

		for (int i = 0; i < d->ntargets; i++)
			json_array_append_new(a, cli_jstr(d->targets[i]));
		json_object_set_new(o, "targets", a);
		json_object_set_new(o, "defaultTarget",
		                    d->default_target ? cli_jstr(d->default_target) : json_null());
	}
	if (d->action != SPLQ_POLICY_DENY) {
		json_object_set_new(o, "user", d->user ? cli_jstr(d->user) : json_null());
		json_object_set_new(o, "autostart", json_boolean(d->autostart));
		json_object_set_new(o, "notify", json_boolean(d->notify));
	} else {
		json_object_set_new(o, "reason", cli_jstr(d->reason));
	}
	json_object_set_new(o, "file", d->file ? cli_jstr(d->file) : json_null());
	json_object_set_new(o, "line", d->file && d->line ? json_integer(d->line) : json_null());
	return o;
}

/* The decision's text line (malloc'ed when buf is too short). */
static char *format(const struct splq_policy_decision *d, char *buf, size_t size)
{
	size_t n = splq_policy_decision_format(d, buf, size);

	if (n < size)
		return buf;
	char *big = splq_xmalloc(n + 1);
	splq_policy_decision_format(d, big, n + 1);
	return big;
}

int cmd_policy(struct cli *cli, int argc, char **argv)
{
	struct splq_ctx ctx;
	struct splq_error err = {0};
	cleanup_free char *dir = NULL;
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0 ||
	    (rc = cli_no_operands(cli, argc, argv)) >= 0)
		return rc;
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_policy_dir(&ctx, &dir, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
	} else {
		cleanup_free char *shown = splq_strdup_printf("%s/", dir);

		if (!cli->json)
			printf("%s\n", shown);
		rc = cli_ok(cli, json_pack("{s:o}", "policyDir", cli_jstr(shown)));
	}
	splq_ctx_close(&ctx);
	return rc;
}

/* One query "SERVICE+ARG SOURCE TARGET" (changed in place); false when it
 * is not three words. */
static bool split_query(char *s, char **w)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(s, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == 3)
			return false;
		w[n++] = t;
	}
	return n == 3;
}

int cmd_policy_eval(struct cli *cli, int argc, char **argv)
{
	const char *dir = NULL, *si_file = NULL;
	struct loaded l;
	struct splq_policy_decision d = {0};
	struct splq_error err = {0};
	json_t *all = NULL;
	char *in = NULL, out[512];
	size_t cap = 1 << 16, have = 0, start = 0;
	long lineno = 0;
	int rc;

	if ((rc = parse_opts(cli, argc, argv, &dir, &si_file)) >= 0 ||
	    (rc = cli_no_operands(cli, argc, argv)) >= 0)
		return rc;
	if ((rc = load(cli, dir, si_file, &l)))
		return rc;
	if (cli->json)
		all = json_array();
	in = splq_xmalloc(cap);
	/* Read in large blocks; answer every whole line; flush before
	 * waiting for more, so that a caller that writes one query and waits
	 * gets its answer. */
	for (;;) {
		char *nl;

		while ((nl = memchr(in + start, '\n', have - start))) {
			char *w[3], *q = in + start, *text;
			cleanup_free char *query = NULL;

			*nl = '\0';
			start = (size_t)(nl + 1 - in);
			lineno++;
			if (!q[strspn(q, " \t\r")])
				continue;
			if (cli->json)
				query = splq_xstrdup(q);
			if (!split_query(q, w)) {
				splq_fail(&err, SPLQ_E_VALUE,
				          "standard input, line %ld: a query is SERVICE+ARG SOURCE "
				          "TARGET",
				          lineno);
				goto fail;
			}
			splq_policy_eval_call(l.policy, l.si, w[0], w[1], w[2], &d);
			text = format(&d, out, sizeof(out));
			if (all) {
				json_t *o = decision_json(&d, text);
				json_object_set_new(o, "query", cli_jstr(query));
				json_array_append_new(all, o);
			} else {
				fputs(text, stdout);
				putchar('\n');
			}
			if (text != out)
				free(text);
		}
		memmove(in, in + start, have - start);
		have -= start;
		start = 0;
		if (have == cap) {
			if (cap >= (1 << 24)) {
				splq_fail(&err, SPLQ_E_VALUE, "standard input, line %ld: too long",
				          lineno + 1);
				goto fail;
			}
			cap *= 2;
			if (!(in = realloc(in, cap)))
				abort();
		}
		if (!all)
			fflush(stdout);
		ssize_t r = read(STDIN_FILENO, in + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "cannot read standard input");
			goto fail;
		}
		if (r == 0) {
			if (have == 0)
				break;
			in[have++] = '\n'; /* a last line without its newline */
			continue;
		}
		have += (size_t)r;
	}
	rc = cli_ok(cli, all ? json_pack("{s:o}", "decisions", all) : NULL);
	all = NULL;
	goto out;
fail:
	rc = cli_fail(cli, &err, NULL);
out:
	json_decref(all);
	free(in);
	splq_policy_decision_clear(&d);
	unload(&l);
	return rc;
}

/* The decision in words. */
static void print_words(const struct splq_policy_decision *d, const char *call, const char *src,
                        const char *tgt)
{
	if (d->action == SPLQ_POLICY_DENY) {
		printf("deny: %s may not call %s on %s: %s", src, call, tgt, d->reason);
	} else if (d->action == SPLQ_POLICY_ALLOW) {
		printf("allow: %s may call %s on %s", src, call, d->target);
		if (strcmp(d->target, tgt) != 0)
			printf(" (it asked for %s)", tgt);
	} else {
		printf("ask: %s may call %s on ", src, call);
		for (int i = 0; i < d->ntargets; i++)
			printf("%s%s",
			       i == 0                 ? ""
			       : i == d->ntargets - 1 ? " or "
			                              : ", ",
			       d->targets[i]);
		printf(" if the user agrees");
		if (d->default_target)
			printf(" (offered first: %s)", d->default_target);
	}
	if (d->action != SPLQ_POLICY_DENY) {
		if (d->user)
			printf(", as user %s", d->user);
		if (!d->autostart)
			printf(", only if it is running");
		if (d->notify)
			printf(", with a notification");
	}
	if (d->file && d->line)
		printf(" (%s:%d)", d->file, d->line);
	else if (d->file)
		printf(" (%s)", d->file);
	putchar('\n');
}

int cmd_policy_check(struct cli *cli, int argc, char **argv)
{
	const char *dir = NULL, *si_file = NULL;
	struct loaded l;
	struct splq_policy_decision d = {0};
	char out[512], *text;
	int rc;

	if ((rc = parse_opts(cli, argc, argv, &dir, &si_file)) >= 0)
		return rc;
	if (argc - optind != 3)
		return cli_usage(cli,
		                 "policy check takes SERVICE+ARG SOURCE TARGET (%d argument%s "
		                 "given)",
		                 argc - optind, argc - optind == 1 ? "" : "s");
	const char *call = argv[optind], *src = argv[optind + 1], *tgt = argv[optind + 2];
	if ((rc = load(cli, dir, si_file, &l)))
		return rc;
	splq_policy_eval_call(l.policy, l.si, call, src, tgt, &d);
	text = format(&d, out, sizeof(out));
	if (!cli->json) {
		print_words(&d, call, src, tgt);
		rc = cli_ok(cli, NULL);
	} else {
		json_t *o = decision_json(&d, text);

		json_object_set_new(o, "query",
		                    json_pack("{s:o,s:o,s:o}", "call", cli_jstr(call), "source",
		                              cli_jstr(src), "target", cli_jstr(tgt)));
		rc = cli_ok(cli, o);
	}
	if (text != out)
		free(text);
	splq_policy_decision_clear(&d);
	unload(&l);
	return rc;
}
