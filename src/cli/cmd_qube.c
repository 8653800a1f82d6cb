/* splq command line: making, removing, starting and stopping qubes, and ls. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* template create and create: exactly one NAME after the options.  -1 to
 * go on, else the exit code. */
static int one_name(struct cli *cli, int argc, char **argv)
{
	if (optind >= argc)
		return cli_usage(cli, "%s needs a NAME", cli->cmd);
	if (argc - optind > 1)
		return cli_usage(cli, "%s takes one NAME, not also '%s'", cli->cmd,
		                 argv[optind + 1]);
	return -1;
}

int cmd_template_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"base", required_argument, NULL, 'b'},
	    {"label", required_argument, NULL, 'l'},
	    {"size", required_argument, NULL, CLI_OPT_SIZE},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *base = NULL, *label = NULL;
	cleanup_free struct splq_prop_assign *sizes = splq_xcalloc(argc + 1, sizeof(*sizes));
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int c, rc, nsizes = 0;

	while ((c = cli_getopt(cli, argc, argv, ":hb:l:", opts)) != -1) {
		if (c == 'b')
			base = optarg;
		else if (c == 'l')
			label = optarg;
		else if (c == CLI_OPT_SIZE &&
		         cli_parse_assign("--size", optarg, &sizes[nsizes], &err) < 0)
			cli_arg_error(cli, "%s", err.msg);
		else if (c == CLI_OPT_SIZE)
			nsizes++;
	}
	if ((rc = cli_parse_end(cli)) >= 0 || (rc = one_name(cli, argc, argv)) >= 0)
		return rc;
	if (!base)
		return cli_usage(cli, "template create needs --base host or --base DIR");
	if (!*base)
		return cli_usage(cli, "--base needs 'host' or a directory, not ''");

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_template_create(&ctx, argv[optind], base, label, sizes, nsizes, &err) < 0)
		rc = cli_fail(cli, &err, NULL);
	else
		rc = cli_ok(cli, json_pack("{s:o}", "qube", cli_jstr(argv[optind])));
	splq_ctx_close(&ctx);
	return rc;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"template", required_argument, NULL, 't'},
	    {"class", required_argument, NULL, 'C'},
	    {"label", required_argument, NULL, 'l'},
	    {"memory", required_argument, NULL, CLI_OPT_MEMORY},
	    {"maxmem", required_argument, NULL, CLI_OPT_MAXMEM},
	    {"vcpus", required_argument, NULL, CLI_OPT_VCPUS},
	    {"prop", required_argument, NULL, 'P'},
	    {"size", required_argument, NULL, CLI_OPT_SIZE},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *template = NULL, *label = NULL;
	enum splq_class klass = SPLQ_CLASS_APPVM;
	/* Every option may be a property: argc bounds their number. */
	cleanup_free struct splq_prop_assign *props = splq_xcalloc(argc + 1, sizeof(*props));
	cleanup_free struct splq_prop_assign *sizes = splq_xcalloc(argc + 1, sizeof(*sizes));
	int nprops = 0, nsizes = 0, c, rc;
	struct splq_ctx ctx;
	struct splq_error err = {0};

	while ((c = cli_getopt(cli, argc, argv, ":ht:C:l:P:", opts)) != -1) {
		switch (c) {
		case 't':
			template = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'C':
			if (cli_parse_create_class(optarg, &klass, &err) < 0)
				cli_arg_error(cli, "%s", err.msg);
			break;
		case CLI_OPT_MEMORY:
			props[nprops++] = (struct splq_prop_assign){"memory", optarg};
			break;
		case CLI_OPT_MAXMEM:
			props[nprops++] = (struct splq_prop_assign){"maxmem", optarg};
			break;
		case CLI_OPT_VCPUS:
			props[nprops++] = (struct splq_prop_assign){"vcpus", optarg};
			break;
		case 'P':
			if (cli_parse_assign("--prop", optarg, &props[nprops], &err) < 0)
				cli_arg_error(cli, "%s", err.msg);
			else
				nprops++;
			break;
		case CLI_OPT_SIZE:
			if (cli_parse_assign("--size", optarg, &sizes[nsizes], &err) < 0)
				cli_arg_error(cli, "%s", err.msg);
			else
				nsizes++;
			break;
		}
	}
	if ((rc = cli_parse_end(cli)) >= 0 || (rc = one_name(cli, argc, argv)) >= 0)
		return rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_create(&ctx, argv[optind], klass, template, label, props, nprops, sizes, nsizes,
	                   &err) < 0)
		rc = cli_fail(cli, &err, NULL);
	else
		rc = cli_ok(cli, json_pack("{s:o}", "qube", cli_jstr(argv[optind])));
	splq_ctx_close(&ctx);
	return rc;
}

int cmd_clone(struct cli *cli, int argc, char **argv)
{
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage(cli, "clone needs SRC and DST");

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_clone(&ctx, argv[optind], argv[optind + 1], &err) < 0)
		rc = cli_fail(cli, &err, NULL);
	else
		rc = cli_ok(cli, json_pack("{s:o}", "qube", cli_jstr(argv[optind + 1])));
	splq_ctx_close(&ctx);
	return rc;
}

enum each_op { EACH_REMOVE, EACH_START, EACH_SHUTDOWN, EACH_KILL, EACH_PAUSE, EACH_UNPAUSE };

struct each_opts {
	bool force, wait;     /* shutdown; remove --force */
	long timeout_s;	      /* shutdown --timeout (0: the qube's) */
	bool skip_if_running; /* start */
	const bool *waits;    /* shutdown --all: wait for names[i] */
};

static const char *const each_verb[] = {
    [EACH_REMOVE] = "removed", [EACH_START] = "started", [EACH_SHUTDOWN] = "shut down",
    [EACH_KILL] = "killed",    [EACH_PAUSE] = "paused",  [EACH_UNPAUSE] = "unpaused"};

static int each_one(struct splq_ctx *ctx, enum each_op op, const struct each_opts *o,
                    const char *name, bool wait, struct splq_error *err)
{
	switch (op) {
	case EACH_REMOVE:
		return splq_op_remove_forced(ctx, name, o->force, err);
	case EACH_START:
		return o->skip_if_running ? splq_op_start_if_halted(ctx, name, err)
		                          : splq_op_start(ctx, name, err);
	case EACH_SHUTDOWN:
		return splq_op_shutdown(ctx, name, o->force, wait, o->timeout_s, err);
	case EACH_KILL:
		return splq_op_kill(ctx, name, err);
	case EACH_PAUSE:
	case EACH_UNPAUSE:
		return splq_op_pause(ctx, name, op == EACH_PAUSE, err);
	}
	return splq_fail(err, SPLQ_E_INTERNAL, "no such operation");
}

/* The same operation on each of names in order, on ctx (closed here),
 * going on past a failure (each told on stderr), as Qubes' tools do; the
 * exit code is the first failure's, the message "N of M <what>".  JSON:
 * {"qubes":[done...],"failed":[{"qube","code","error"}...]}. */
static int each_list(struct cli *cli, struct splq_ctx *ctx, enum each_op op,
                     const struct each_opts *o, int n, char **names, const char *what)
{
	struct splq_error err = {0};
	json_t *done = json_array(), *failed = json_array();
	int code = 0, nfailed = 0;

	for (int i = 0; i < n; i++) {
		if (each_one(ctx, op, o, names[i], o->wait || (o->waits && o->waits[i]), &err) >= 0) {
			json_array_append_new(done, cli_jstr(names[i]));
			continue;
		}
		json_array_append_new(failed, cli_warn(cli, names[i], &err));
		if (nfailed++ == 0)
			code = err.code;
	}
	splq_ctx_close(ctx);
	json_t *data = json_pack("{s:o,s:o}", "qubes", done, "failed", failed);
	if (nfailed == 0)
		return cli_ok(cli, data);
	splq_fail(&err, code, "%d of %d %s", nfailed, n, what);
	return cli_fail(cli, &err, data);
}

/* The same operation on each NAME: JSON {"qube":NAME} for one, as
 * each_list for several. */
static int each_qube(struct cli *cli, enum each_op op, const struct each_opts *o, int n,
                     char **names)
{
	struct splq_ctx ctx;
	struct splq_error err = {0};
	char what[64];
	int rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (n != 1) {
		snprintf(what, sizeof(what), "qubes could not be %s", each_verb[op]);
		return each_list(cli, &ctx, op, o, n, names, what);
	}
	rc = each_one(&ctx, op, o, names[0], o->wait, &err);
	splq_ctx_close(&ctx);
	if (rc < 0)
		return cli_fail(cli, &err, NULL);
	return cli_ok(cli, json_pack("{s:o}", "qube", cli_jstr(names[0])));
}

/* remove, kill: NAME... and no options of their own. */
static int names_command(struct cli *cli, enum each_op op, int argc, char **argv)
{
	static const struct each_opts none = {0};
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage(cli, "%s needs at least one qube NAME", cli->cmd);
	return each_qube(cli, op, &none, argc - optind, argv + optind);
}

int cmd_remove(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct each_opts o = {0};
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, ":hf", opts)) != -1)
		if (c == 'f')
			o.force = true;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage(cli, "remove needs at least one qube NAME");
	return each_qube(cli, EACH_REMOVE, &o, argc - optind, argv + optind);
}

/* start --autostart: every halted qube with autostart=True, going on past
 * a failure (one broken qube must not keep the others down at boot). */
static int start_autostart(struct cli *cli)
{
	static const struct each_opts none = {0};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	char **names = NULL;
	int n = 0, rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_autostart_list(&ctx, &names, &n, &err) < 0) {
		splq_ctx_close(&ctx);
		return cli_fail(cli, &err, NULL);
	}
	rc = each_list(cli, &ctx, EACH_START, &none, n, names, "qubes with autostart did not start");
	splq_strv_free(names, n);
	return rc;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"autostart", no_argument, NULL, CLI_OPT_AUTOSTART},
	    {"skip-if-running", no_argument, NULL, CLI_OPT_SKIP_IF_RUNNING},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct each_opts o = {0};
	bool autostart = false;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, ":h", opts)) != -1) {
		if (c == CLI_OPT_AUTOSTART)
			autostart = true;
		else if (c == CLI_OPT_SKIP_IF_RUNNING)
			o.skip_if_running = true;
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (autostart && optind < argc)
		return cli_usage(cli, "start --autostart takes no qube NAME");
	if (autostart)
		return start_autostart(cli);
	if (optind >= argc)
		return cli_usage(cli, "start needs at least one qube NAME, or --autostart");
	return each_qube(cli, EACH_START, &o, argc - optind, argv + optind);
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	return names_command(cli, EACH_KILL, argc, argv);
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return names_command(cli, EACH_PAUSE, argc, argv);
}

int cmd_unpause(struct cli *cli, int argc, char **argv)
{
	return names_command(cli, EACH_UNPAUSE, argc, argv);
}

/* check (qvm-check): do the qubes NAME... exist, and are they all what
 * the options ask?  Exit 0: all are, 3: some, 1: none (or one does not
 * exist).  Each that is goes to stdout, each that does not exist to
 * stderr, unless --quiet. */
enum { CHECK_RUNNING, CHECK_PAUSED, CHECK_TEMPLATE, CHECK_NETWORKED, CHECK_N };

static bool check_one(const struct splq_qube_info *q, int what)
{
	switch (what) {
	case CHECK_RUNNING:
		return q->klass == SPLQ_CLASS_ADMINVM || q->power != SPLQ_HALTED;
	case CHECK_PAUSED:
		return q->power == SPLQ_PAUSED;
	case CHECK_TEMPLATE:
		return q->klass == SPLQ_CLASS_TEMPLATEVM;
	default:
		return q->provides_network || *q->netvm;
	}
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const char *const words[CHECK_N] = {"running", "paused", "template", "networked"};
	static const struct option opts[] = {
	    {"running", no_argument, NULL, 0x200 + CHECK_RUNNING},
	    {"paused", no_argument, NULL, 0x200 + CHECK_PAUSED},
	    {"template", no_argument, NULL, 0x200 + CHECK_TEMPLATE},
	    {"networked", no_argument, NULL, 0x200 + CHECK_NETWORKED},
	    {"quiet", no_argument, NULL, 'q'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_qube_info *v = NULL;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	bool want[CHECK_N] = {0}, quiet = false;
	char status[64] = "";
	int n = 0, c, rc, matched = 0, missing = 0;

	while ((c = cli_getopt(cli, argc, argv, ":hq", opts)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c >= 0x200 && c < 0x200 + CHECK_N)
			want[c - 0x200] = true;
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage(cli, "check needs at least one qube NAME");
	for (int k = 0; k < CHECK_N; k++)
		if (want[k])
			snprintf(status + strlen(status), sizeof(status) - strlen(status), "%s%s",
			         *status ? ", " : "", words[k]);
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	rc = splq_op_list(&ctx, &v, &n, &err);
	splq_ctx_close(&ctx);
	if (rc < 0)
		return cli_fail(cli, &err, NULL);
	json_t *yes = json_array(), *gone = json_array();
	for (int i = optind; i < argc; i++) {
		const struct splq_qube_info *q = NULL;
		for (int j = 0; j < n && !q; j++)
			if (strcmp(v[j].name, argv[i]) == 0)
				q = &v[j];
		if (!q) {
			missing++;
			json_array_append_new(gone, cli_jstr(argv[i]));
			if (!quiet && !cli->json)
				fprintf(stderr, "%s: non-existent!\n", argv[i]);
			continue;
		}
		bool all = true;
		for (int k = 0; k < CHECK_N; k++)
			all = all && (!want[k] || check_one(q, k));
		if (!all)
			continue;
		matched++;
		json_array_append_new(yes, cli_jstr(q->name));
		if (!quiet && !cli->json)
			printf("%s: %s\n", q->name, *status ? status : "exists");
	}
	splq_qube_info_free(v, n);
	int checked = argc - optind - missing;
	int code = missing || !matched ? 1 : matched < checked ? 3 : 0;
	if (!matched && *status && !quiet && !cli->json)
		printf("None of qubes: %s\n", status);
	if (cli->json)
		cli_print_result(code == 0, SPLQ_OK,
		                 json_pack("{s:o,s:o,s:i}", "qubes", yes, "missing", gone, "exitCode",
		                           code));
	else {
		json_decref(yes);
		json_decref(gone);
		fflush(stdout);
	}
	return code;
}

int cmd_shutdown(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"wait", no_argument, NULL, CLI_OPT_WAIT},
	    {"force", no_argument, NULL, CLI_OPT_FORCE},
	    {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},
	    {"all", no_argument, NULL, CLI_OPT_ALL},
	    {"exclude", required_argument, NULL, CLI_OPT_EXCLUDE},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct each_opts o = {0};
	struct splq_error err = {0};
	cleanup_free char **exclude = splq_xcalloc(argc, sizeof(*exclude));
	bool all = false;
	int c, rc, nexclude = 0;

	while ((c = cli_getopt(cli, argc, argv, ":h", opts)) != -1) {
		if (c == CLI_OPT_WAIT)
			o.wait = true;
		else if (c == CLI_OPT_FORCE)
			o.force = true;
		else if (c == CLI_OPT_ALL)
			all = true;
		else if (c == CLI_OPT_EXCLUDE)
			exclude[nexclude++] = optarg;
		else if (c == CLI_OPT_TIMEOUT &&
		         cli_parse_seconds("--timeout", optarg, &o.timeout_s, &err) < 0)
			return cli_fail(cli, &err, NULL);
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (all && optind < argc)
		return cli_usage(cli, "shutdown --all takes no qube NAME");
	if (nexclude && !all)
		return cli_usage(cli, "--exclude goes with --all");
	if (!all && optind >= argc)
		return cli_usage(cli, "shutdown needs at least one qube NAME, or --all");
	if (!all)
		return each_qube(cli, EACH_SHUTDOWN, &o, argc - optind, argv + optind);

	/* --all: in the order they can go, the clients of a netvm first */
	struct splq_ctx ctx;
	char **names = NULL;
	cleanup_free bool *waits = NULL;
	int n = 0;
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_shutdown_order(&ctx, exclude, nexclude, &names, &waits, &n, &err) < 0) {
		splq_ctx_close(&ctx);
		return cli_fail(cli, &err, NULL);
	}
	o.waits = waits;
	rc = each_list(cli, &ctx, EACH_SHUTDOWN, &o, n, names, "qubes could not be shut down");
	splq_strv_free(names, n);
	return rc;
}

/* ls: the columns, header first. */
enum { LS_NAME, LS_CLASS, LS_STATE, LS_LABEL, LS_TEMPLATE, LS_NETVM, LS_MEMORY, LS_COLS };

static void ls_print(const struct splq_qube_info *v, const int *order, int n)
{
	static const char *const head[LS_COLS] = {"NAME",     "CLASS", "STATE", "LABEL",
	                                          "TEMPLATE", "NETVM", "MEMORY"};
	char mem[32];
	const char *cell[LS_COLS];
	size_t width[LS_COLS];

	for (int k = 0; k < LS_COLS; k++)
		width[k] = strlen(head[k]);
	/* Two passes: widths, then the lines. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (int k = 0; k < LS_COLS - 1; k++)
				printf("%-*s  ", (int)width[k], head[k]);
			printf("%s\n", head[LS_MEMORY]);
		}
		for (int j = 0; j < n; j++) {
			const struct splq_qube_info *q = &v[order[j]];

			snprintf(mem, sizeof(mem), q->memory > 0 ? "%ld" : "-", q->memory);
			cell[LS_NAME] = q->name;
			cell[LS_CLASS] = splq_class_name(q->klass);
			/* dom0 is where splq runs: it is always running. */
			cell[LS_STATE] =
			    q->klass == SPLQ_CLASS_ADMINVM ? "Running" : splq_power_name(q->power);
			cell[LS_LABEL] = q->label && *q->label ? q->label : "-";
			cell[LS_TEMPLATE] = q->template && *q->template ? q->template : "-";
			cell[LS_NETVM] = q->netvm && *q->netvm ? q->netvm : "-";
			cell[LS_MEMORY] = mem;
			for (int k = 0; k < LS_COLS; k++) {
				if (!cell[k])
					cell[k] = "-";
				if (pass == 0 && strlen(cell[k]) > width[k])
					width[k] = strlen(cell[k]);
			}
			if (pass == 0)
				continue;
			for (int k = 0; k < LS_COLS - 1; k++)
				printf("%-*s  ", (int)width[k], cell[k]);
			printf("%s\n", cell[LS_MEMORY]);
		}
	}
}

static json_t *ls_json(const struct splq_qube_info *v, const int *order, int n)
{
	json_t *a = json_array();

	for (int j = 0; j < n; j++) {
		const struct splq_qube_info *q = &v[order[j]];
		const char *state =
		    q->klass == SPLQ_CLASS_ADMINVM ? "Running" : splq_power_name(q->power);

		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "name", cli_jstr(q->name), "class",
		                 cli_jstr(splq_class_name(q->klass)), "state", cli_jstr(state),
		                 "label", cli_jstr(q->label), "template", cli_jstr(q->template),
		                 "netvm", cli_jstr(q->netvm), "memory", (json_int_t)q->memory));
	}
	return json_pack("{s:o}", "qubes", a);
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct splq_qube_info *v = NULL;
	cleanup_free int *order = NULL;
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	bool all = false;
	int n = 0, k = 0, rc, c;

	while ((c = cli_getopt(cli, argc, argv, ":ha", opts)) != -1)
		if (c == 'a')
			all = true;
	if ((rc = cli_parse_end(cli)) >= 0 || (rc = cli_no_operands(cli, argc, argv)) >= 0)
		return rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_list(&ctx, &v, &n, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
		splq_ctx_close(&ctx);
		return rc;
	}
	splq_ctx_close(&ctx);

	/* dom0 (the AdminVM) first, the rest in the order given (by name);
	 * internal qubes (preloaded disposables) only with --all */
	order = splq_xcalloc(n + 1, sizeof(*order));
	for (int j = 0; j < n; j++)
		if (v[j].klass == SPLQ_CLASS_ADMINVM)
			order[k++] = j;
	for (int j = 0; j < n; j++)
		if (v[j].klass != SPLQ_CLASS_ADMINVM && (all || !v[j].internal))
			order[k++] = j;

	if (cli->json) {
		rc = cli_ok(cli, ls_json(v, order, k));
	} else {
		ls_print(v, order, k);
		rc = cli_ok(cli, NULL);
	}
	splq_qube_info_free(v, n);
	return rc;
}
