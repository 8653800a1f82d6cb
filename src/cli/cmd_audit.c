/* splq command line: audit log and audit verify. */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "util.h"

/* RESULT in quotes when it holds spaces ("exit 3", "error: ..."), so that
 * the fields before ARGS stay one word each. */
static void print_result(const char *r)
{
	if (*r && !strpbrk(r, " \"\\")) {
		fputs(r, stdout);
		return;
	}
	putchar('"');
	for (; *r; r++) {
		if (*r == '"' || *r == '\\')
			putchar('\\');
		putchar(*r);
	}
	putchar('"');
}

static void print_entry(struct splq_audit_entry *e)
{
	char *target = e->target ? cli_one_line(e->target) : NULL;

	printf("%lld %s %s %s %s ", e->seq, cli_one_line(e->time),
	       e->actor ? cli_one_line(e->actor) : "-", e->op ? cli_one_line(e->op) : "-",
	       target && *target ? target : "-");
	print_result(e->result ? cli_one_line(e->result) : "");
	if (e->args && *e->args)
		printf(" %s", cli_one_line(e->args));
	putchar('\n');
}

static json_t *entry_json(const struct splq_audit_entry *e)
{
	return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "seq", (json_int_t)e->seq, "time",
	                 cli_jstr(e->time), "actor", cli_jstr(e->actor), "op", cli_jstr(e->op),
	                 "target", cli_jstr(e->target), "args", cli_jstr(e->args), "result",
	                 cli_jstr(e->result), "prev", cli_jstr(e->prev));
}

/* One entry as -f prints it: a line, or with --json a JSON object a line. */
static void follow_print(struct cli *cli, struct splq_audit_entry *e)
{
	if (!cli->json) {
		print_entry(e);
		return;
	}
	json_t *o = entry_json(e);
	json_dumpf(o, stdout, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(o);
	fputc('\n', stdout);
}

static volatile sig_atomic_t follow_stop;

static void on_follow_stop(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/* audit log -f: the entries after seq last as they are appended (each a
 * line, or with --json a JSON object a line), until SIGINT or SIGTERM. */
static int audit_follow(struct cli *cli, struct splq_ctx *ctx, const char *qube, long long last)
{
	struct splq_error err = {0};
	cleanup_free char *path = splq_strdup_printf("%s/audit.log", ctx->home);
	struct stat before = {0};
	signal(SIGINT, on_follow_stop);
	signal(SIGTERM, on_follow_stop);
	while (!follow_stop) {
		struct stat now;
		/* read again only once the log has changed */
		if (stat(path, &now) == 0 &&
		    (now.st_size != before.st_size || now.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
		     now.st_mtim.tv_sec != before.st_mtim.tv_sec)) {
			struct splq_audit_entry *v = NULL;
			int n = 0;
			before = now;
			if (splq_op_audit_log(ctx, qube, 0, &v, &n, &err) < 0)
				return cli_fail(cli, &err, NULL);
			for (int i = 0; i < n; i++) {
				if (v[i].seq > last) {
					follow_print(cli, &v[i]);
					last = v[i].seq;
				}
				splq_audit_entry_clear(&v[i]);
			}
			free(v);
			fflush(stdout);
		}
		struct timespec t = {0, 200000000};
		nanosleep(&t, NULL);
	}
	return SPLQ_OK;
}

int cmd_audit_log(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"qube", required_argument, NULL, 'q'},
	    {"since", required_argument, NULL, 's'},
	    {"follow", no_argument, NULL, 'f'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *qube = NULL;
	long long since = 0;
	struct splq_audit_entry *v = NULL;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	bool follow = false;
	int c, rc, n = 0;

	while ((c = cli_getopt(cli, argc, argv, ":hq:s:f", opts)) != -1) {
		if (c == 'f') {
			follow = true;
		} else if (c == 'q') {
			qube = optarg;
		} else if (c == 's') {
			if (splq_audit_parse_since(optarg, splq_wall_ms(), &since, &err) < 0)
				cli_arg_error(cli,
				              strstr(err.msg, "--since") ? "%s" : "--since: %s",
				              err.msg);
		}
	}
	if ((rc = cli_parse_end(cli)) >= 0 || (rc = cli_no_operands(cli, argc, argv)) >= 0)
		return rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_audit_log(&ctx, qube, since, &v, &n, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
	} else if (follow) {
		/* what is there first, then what comes */
		long long last = 0;
		for (int i = 0; i < n; i++) {
			follow_print(cli, &v[i]);
			last = v[i].seq;
		}
		fflush(stdout);
		if (n == 0) { /* none matched: from the log's end on */
			struct splq_audit_entry *all = NULL;
			int na = 0;
			if (splq_op_audit_log(&ctx, NULL, 0, &all, &na, &err) == 0 && na > 0)
				last = all[na - 1].seq;
			for (int i = 0; i < na; i++)
				splq_audit_entry_clear(&all[i]);
			free(all);
		}
		rc = audit_follow(cli, &ctx, qube, last);
	} else if (cli->json) {
		json_t *a = json_array();

		for (int i = 0; i < n; i++)
			json_array_append_new(a, entry_json(&v[i]));
		rc = cli_ok(cli, json_pack("{s:o}", "entries", a));
	} else {
		for (int i = 0; i < n; i++)
			print_entry(&v[i]);
		rc = cli_ok(cli, NULL);
	}
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&v[i]);
	free(v);
	splq_ctx_close(&ctx);
	return rc;
}

int cmd_audit_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pubkey", required_argument, NULL, 'p'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *pubkey = NULL;
	long long entries = 0, bad = 0;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int c, rc, seals = 0;

	while ((c = cli_getopt(cli, argc, argv, ":hp:", opts)) != -1)
		if (c == 'p')
			pubkey = optarg;
	if ((rc = cli_parse_end(cli)) >= 0 || (rc = cli_no_operands(cli, argc, argv)) >= 0)
		return rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_audit_verify(&ctx, &entries, &bad, &err) < 0 ||
	    cli_audit_seals(&ctx, pubkey, &seals, &bad, &err) < 0) {
		json_t *data = NULL;

		if (strncmp(err.msg, "audit log", 9) != 0) {
			static const char prefix[] = "audit log: ";
			char msg[SPLQ_ERROR_MAX];
			size_t len = strnlen(err.msg, sizeof(err.msg) - sizeof(prefix));

			memcpy(msg, prefix, sizeof(prefix) - 1);
			memcpy(msg + sizeof(prefix) - 1, err.msg, len);
			msg[sizeof(prefix) - 1 + len] = '\0';
			memcpy(err.msg, msg, sizeof(msg));
		}
		if (err.code == SPLQ_E_AUDIT)
			data = json_pack("{s:I}", "badEntry", (json_int_t)bad);
		rc = cli_fail(cli, &err, data);
	} else {
		if (!cli->json && seals)
			printf("audit log OK: %lld entries, %d seal%s checked\n", entries, seals,
			       seals == 1 ? "" : "s");
		else if (!cli->json)
			printf("audit log OK: %lld entries\n", entries);
		/* a number of entries is a count (audit log's entries are the entries) */
		rc = cli_ok(cli, json_pack("{s:I,s:i}", "count", (json_int_t)entries, "seals",
		                           seals));
	}
	splq_ctx_close(&ctx);
	return rc;
}
