/* splq command line: run and dispvm.  The command's stdin, stdout and
 * stderr never enter the qube: the backend relays bytes between splq's
 * own and the qube's pipes (or, with -t, a pseudo-terminal of the
 * qube's), and splq exits with the command's exit code.  With --json
 * stdin still passes through while stdout and stderr go to two memory
 * files of splq's, at most --max-output bytes each, read back when the
 * command has ended and returned as strings with exitCode and duration. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crypto.h"
#include "util.h"

#define DEFAULT_MAX_OUTPUT (16LL << 20) /* --json: per stream */
/* Where the command's output goes. */
struct capture {
	int fds[3];
	bool on; /* stdout and stderr are memory files */
};

static void capture_close(struct capture *cap)
{
	if (!cap->on)
		return;
	for (int i = 1; i < 3; i++)
		if (cap->fds[i] >= 0)
			close(cap->fds[i]);
	cap->on = false;
}

static int capture_open(struct capture *cap, bool json, struct splq_error *err)
{
	cap->fds[0] = STDIN_FILENO;
	cap->fds[1] = STDOUT_FILENO;
	cap->fds[2] = STDERR_FILENO;
	cap->on = false;
	if (!json)
		return 0;
	cap->on = true;
	cap->fds[1] = cap->fds[2] = -1;
	for (int i = 1; i < 3; i++) {
		cap->fds[i] = memfd_create(i == 1 ? "splq-stdout" : "splq-stderr", MFD_CLOEXEC);
		if (cap->fds[i] < 0) {
			int e = errno;

			capture_close(cap);
			return splq_fail_errno(
			    err, SPLQ_E_INTERNAL, e,
			    "cannot make a memory file for the command's output");
		}
	}
	return 0;
}

/* The whole of a memory file, as a JSON string (valid UTF-8). */
/* What the command wrote to fd, into o as key: a string when it is UTF-8,
 * else base64 as keyBase64 (nothing replaced, nothing lost).  -1 when it
 * cannot be read. */
static int capture_read(int fd, json_t *o, const char *key, struct splq_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0, n = 0;

	if (splq_read_fd(fd, &buf, &len, err, "the command's output") < 0)
		return -1;
	cleanup_free char *clean = cli_utf8_sanitize(buf ? buf : "", len, &n);
	if (n == len && memcmp(clean, buf ? buf : "", len) == 0) {
		json_object_set_new(o, key, json_stringn(clean, n));
		return 0;
	}
	cleanup_free char *b64 = splq_base64_encode(buf, len);
	cleanup_free char *k = splq_strdup_printf("%sBase64", key);
	json_object_set_new(o, k, json_string(b64));
	return 0;
}

/* Report a finished command: in JSON mode the object, else nothing; the
 * exit code is the command's own. */
static int report(struct cli *cli, struct capture *cap, const char *qube, int status,
                  long long duration, const struct splq_exec_info *info)
{
	struct splq_error err = {0};

	if (!cap->on)
		return status;
	json_t *o = json_pack("{s:o,s:i}", "qube", cli_jstr(qube), "exitCode", status);
	int r = capture_read(cap->fds[1], o, "stdout", &err);
	if (r == 0)
		r = capture_read(cap->fds[2], o, "stderr", &err);
	capture_close(cap);
	if (r < 0) {
		json_decref(o);
		return cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(qube)));
	}
	json_object_set_new(o, "duration", json_integer(duration));
	json_object_set_new(o, "outOfMemory", json_boolean(info->oom));
	cli_print_result(status == 0, SPLQ_OK, o);
	return status;
}

/* Run x in the qube named qube, or with qube NULL in a new disposable made
 * from dvm (NULL: the default) and killed after timeout seconds (0: never),
 * with the output captured in JSON mode; then report it. */
static int run_command(struct cli *cli, const char *qube, const char *dvm, const char *netvm,
                       long timeout, struct splq_exec *x)
{
	char disp[SPLQ_NAME_MAX + 1] = "";
	struct splq_exec_info info = {0};
	struct capture cap;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	long long t0, t1;
	int rc, status = 0;

	if (cli->json && x->tty)
		return cli_usage(cli, "--tty cannot be used with --json");
	if (cli->json && !x->max_output)
		x->max_output = DEFAULT_MAX_OUTPUT;
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (capture_open(&cap, cli->json, &err) < 0) {
		splq_ctx_close(&ctx);
		return cli_fail(cli, &err, NULL);
	}
	memcpy(x->fds, cap.fds, sizeof(x->fds));
	x->info = &info;
	t0 = splq_now_ms();
	if (qube) {
		rc = splq_op_run(&ctx, qube, x, &status, &err);
	} else {
		rc = splq_op_dispvm(&ctx, dvm, netvm, x, timeout, &status, disp, &err);
		qube = disp[0] ? disp : NULL;
	}
	if (rc < 0) {
		capture_close(&cap);
		splq_ctx_close(&ctx);
		/* For a disposable, a timeout or a signal (128+N) is an error of
		 * splq's, with its own exit code. */
		return cli_fail(cli, &err,
		                qube ? json_pack("{s:o}", "qube", cli_jstr(qube)) : NULL);
	}
	t1 = splq_now_ms();
	splq_ctx_close(&ctx);
	if (x->no_wait) {
		/* it runs on: no exit code to tell, only that it started */
		capture_close(&cap);
		return cli_ok(cli, json_pack("{s:o,s:b,s:i}", "qube", cli_jstr(qube), "started", 1,
		                             "pid", (int)info.pid));
	}
	/* the exit code stays the command's (137): this says why */
	if (info.oom && !cli->json) {
		fflush(stdout);
		fprintf(stderr,
		        "splq: qube '%s' ran out of memory (%s %ld MiB): the command was "
		        "killed; raise it with 'splq prefs %s %s %ld'\n",
		        qube, info.limit_prop, info.limit_mib, info.memory_of, info.limit_prop,
		        info.limit_mib * 2);
	}
	return report(cli, &cap, qube, status, t1 - t0, &info);
}

/* -e NAME=VALUE: NAME is a shell variable's name. */
static void exec_env(struct cli *cli, const char *arg, struct splq_exec *x)
{
	static char *env[SPLQ_EXEC_ENV_MAX + 1];
	static int n;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;
	bool ok = len > 0 && !isdigit((unsigned char)arg[0]);
	for (size_t i = 0; i < len && ok; i++)
		ok = isalnum((unsigned char)arg[i]) || arg[i] == '_';
	if (!ok) {
		cli_arg_error(cli, "-e takes NAME=VALUE (NAME: letters, digits and _), not '%s'", arg);
		return;
	}
	if (n == SPLQ_EXEC_ENV_MAX) {
		cli_arg_error(cli, "at most %d variables with -e", SPLQ_EXEC_ENV_MAX);
		return;
	}
	env[n++] = (char *)arg;
	x->env = env;
}

/* The options run and dispvm share; 0 when c was one of them. */
static int exec_option(struct cli *cli, int c, struct splq_exec *x)
{
	struct splq_error err = {0};

	switch (c) {
	case 'e':
		exec_env(cli, optarg, x);
		break;
	case CLI_OPT_WORKDIR:
		if (optarg[0] != '/')
			cli_arg_error(cli, "--workdir takes an absolute path in the qube, not '%s'",
			              optarg);
		x->workdir = optarg;
		break;
	case 'p': /* the command's stdio always passes: qvm-run's --pass-io */
		break;
	case 'u':
		x->user = optarg;
		break;
	case 't':
		x->tty = true;
		break;
	case 'i': /* stdin always passes: accepted for podman's -it */
		break;
	case CLI_OPT_FILTER:
		x->filter = 1;
		break;
	case CLI_OPT_NO_FILTER:
		x->filter = 0;
		break;
	case CLI_OPT_MAX_OUTPUT:
		if (cli_parse_size("--max-output", optarg, &x->max_output, &err) < 0)
			cli_arg_error(cli, "%s", err.msg);
		break;
	default:
		return -1;
	}
	return 0;
}

#define EXEC_OPTIONS                                                                               \
	{"user", required_argument, NULL, 'u'}, {"tty", no_argument, NULL, 't'},                  \
	    {"interactive", no_argument, NULL, 'i'}, {"env", required_argument, NULL, 'e'},       \
	    {"workdir", required_argument, NULL, CLI_OPT_WORKDIR},                                 \
	    {"pass-io", no_argument, NULL, 'p'},                                                   \
	    {"filter-escape-chars", no_argument, NULL, CLI_OPT_FILTER},                            \
	    {"no-filter-escape-chars", no_argument, NULL, CLI_OPT_NO_FILTER},                      \
	{                                                                                          \
		"max-output", required_argument, NULL, CLI_OPT_MAX_OUTPUT                          \
	}

static int exec_check(struct cli *cli, const struct splq_exec *x)
{
	if (x->user && !*x->user)
		return cli_usage(cli, "--user needs a user name, not ''");
	if (x->tty && x->no_wait)
		return cli_usage(cli, "--tty and --no-wait cannot be used together");
	return -1;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    EXEC_OPTIONS,
	    {"no-wait", no_argument, NULL, CLI_OPT_NO_WAIT},
	    {"no-autostart", no_argument, NULL, CLI_OPT_NO_AUTOSTART},
	    {"autostart", no_argument, NULL, CLI_OPT_AUTOSTART},
	    {"dispvm", optional_argument, NULL, CLI_OPT_DISPVM},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_exec x = {.filter = -1};
	const char *name, *dvm = NULL;
	bool dispvm = false;
	int c, rc, i;

	/* "+": options end at the qube's name; the rest is the command. */
	while ((c = cli_getopt(cli, argc, argv, "+:hu:tie:p", opts)) != -1) {
		if (c == CLI_OPT_NO_WAIT)
			x.no_wait = true;
		else if (c == CLI_OPT_NO_AUTOSTART)
			x.no_autostart = true;
		else if (c == CLI_OPT_AUTOSTART)
			x.no_autostart = false;
		else if (c == CLI_OPT_DISPVM)
			dispvm = true, dvm = optarg;
		else
			exec_option(cli, c, &x);
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if ((rc = exec_check(cli, &x)) >= 0)
		return rc;
	if (dispvm) {
		/* as qvm-run --dispvm[=DVM]: no NAME, the rest is the command */
		if (dvm && !*dvm)
			return cli_usage(cli, "--dispvm= needs a qube name, not ''");
		if (x.no_wait)
			return cli_usage(cli, "--dispvm and --no-wait cannot be used together");
		i = optind;
		if (i < argc && strcmp(argv[i], "--") == 0)
			i++;
		if (i >= argc && !x.tty)
			return cli_usage(cli, "run --dispvm needs a COMMAND (or -t for a shell)");
		x.argv = argv + i;
		return run_command(cli, NULL, dvm, NULL, 0, &x);
	}
	if (optind >= argc)
		return cli_usage(cli, "run needs a qube NAME and a COMMAND");
	name = argv[optind];
	i = optind + 1;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc && !x.tty)
		return cli_usage(cli, "run needs a COMMAND to run in '%s' (or -t for a shell)",
		                 name);
	x.argv = argv + i; /* argv[argc] is NULL */
	return run_command(cli, name, NULL, NULL, 0, &x);
}

int cmd_dispvm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    EXEC_OPTIONS,
	    {"template", required_argument, NULL, CLI_OPT_TEMPLATE},
	    {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},
	    {"netvm", required_argument, NULL, CLI_OPT_NETVM},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_exec x = {.filter = -1};
	struct splq_error err = {0};
	const char *dvm = NULL, *netvm = NULL;
	long timeout = 0;
	int c, rc;

	/* "+": options end where the command begins. */
	while ((c = cli_getopt(cli, argc, argv, "+:hu:tie:p", opts)) != -1) {
		if (c == CLI_OPT_TEMPLATE) {
			dvm = optarg;
		} else if (c == CLI_OPT_NETVM) {
			netvm = optarg;
		} else if (c == CLI_OPT_TIMEOUT) {
			if (cli_parse_seconds("--timeout", optarg, &timeout, &err) < 0)
				cli_arg_error(cli, "%s", err.msg);
		} else {
			exec_option(cli, c, &x);
		}
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (optind >= argc && !x.tty)
		return cli_usage(cli, "dispvm needs a COMMAND (or -t for a shell)");
	if ((rc = exec_check(cli, &x)) >= 0)
		return rc;
	if (dvm && !*dvm)
		return cli_usage(cli, "--template needs a qube name, not ''");
	x.argv = argv + optind; /* argv[argc] is NULL */
	return run_command(cli, NULL, dvm, netvm, timeout, &x);
}

int cmd_preload(struct cli *cli, int argc, char **argv)
{
	struct splq_preload_report rep;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (optind + 1 < argc)
		return cli_usage(cli, "preload takes one DVM, not '%s'", argv[optind + 1]);
	const char *dvm = optind < argc ? argv[optind] : NULL;
	if (dvm && !*dvm)
		return cli_usage(cli, "preload needs a qube name, not ''");
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	rc = splq_op_preload(&ctx, dvm, &rep, &err);
	splq_ctx_close(&ctx);
	if (rc < 0) {
		rc = cli_fail(cli, &err, NULL);
		splq_preload_report_clear(&rep);
		return rc;
	}
	if (cli->json) {
		json_t *names = json_array();
		for (int i = 0; i < rep.ready; i++)
			json_array_append_new(names, cli_jstr(rep.names[i]));
		rc = cli_ok(cli, json_pack("{s:o,s:i,s:i}", "preloaded", names, "started",
		                           rep.started, "removed", rep.removed));
	} else {
		printf("%d ready (%d started, %d removed)", rep.ready, rep.started, rep.removed);
		for (int i = 0; i < rep.ready; i++)
			printf("%s%s", i ? " " : ": ", rep.names[i]);
		printf("\n");
		rc = cli_ok(cli, NULL);
	}
	splq_preload_report_clear(&rep);
	return rc;
}

int cmd_discard(struct cli *cli, int argc, char **argv)
{
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (optind + 1 != argc || !*argv[optind])
		return cli_usage(cli, "discard needs one disposable's NAME");
	const char *name = argv[optind];
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	rc = splq_op_discard(&ctx, name, &err);
	splq_ctx_close(&ctx);
	if (rc < 0)
		return cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(name)));
	if (cli->json)
		return cli_ok(cli, json_pack("{s:o,s:b}", "qube", cli_jstr(name), "removed", rc == 0));
	printf(rc == 0 ? "removed %s\n" : "%s was removed already\n", name);
	return cli_ok(cli, NULL);
}
