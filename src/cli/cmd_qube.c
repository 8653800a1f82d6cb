/* splq command line: making, removing, starting and stopping qubes, and ls. */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
	static const struct option opts[] = {
	    {"label", required_argument, NULL, 'l'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	const char *label = NULL;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, ":hl:", opts)) != -1)
		if (c == 'l')
			label = optarg;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage(cli, "clone needs SRC and DST");
	/* checked before anything is copied */
	if (label && !splq_label_find(label))
		return cli_usage(cli, "unknown label '%s' (red, orange, yellow, green, gray, blue, "
		                      "purple, black, or 1-8)",
		                 label);

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_clone(&ctx, argv[optind], argv[optind + 1], &err) < 0 ||
	    (label && splq_op_prefs_set(&ctx, argv[optind + 1], "label", label, &err) < 0))
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
		return q->power != SPLQ_HALTED;
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
	if (splq_op_list(&ctx, &v, &n, &err) < 0) {
		splq_ctx_close(&ctx);
		return cli_fail(cli, &err, NULL);
	}
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
		if (cli->json) {
			json_t *o = cli_qube_json(&ctx, q, &err);
			if (!o) {
				json_decref(yes);
				json_decref(gone);
				splq_qube_info_free(v, n);
				splq_ctx_close(&ctx);
				return cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(q->name)));
			}
			json_array_append_new(yes, o);
		}
		if (!quiet && !cli->json)
			printf("%s: %s\n", q->name, *status ? status : "exists");
	}
	splq_qube_info_free(v, n);
	splq_ctx_close(&ctx);
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

/* ---------- ls ---------- */

/* A column: one of qvm-ls's own, or a property (prop). */
enum ls_kind { LS_NAME, LS_STATE, LS_CLASS, LS_LABEL, LS_TEMPLATE, LS_NETVM, LS_MEMORY, LS_FLAGS,
               LS_PROP };
struct ls_col {
	enum ls_kind kind;
	const char *prop;
	char head[40];
};

static const char *const ls_kinds[] = {"NAME",  "STATE", "CLASS",  "LABEL",
                                       "TEMPLATE", "NETVM", "MEMORY", "FLAGS"};

/* qvm-ls's presets, and splq's own table (the default) */
static const struct {
	const char *name, *fields;
} ls_formats[] = {
    {"splq", "name,class,state,label,template,netvm,memory"},
    {"simple", "name,state,class,label,template,netvm"},
    {"network", "name,state,netvm,ip,ip6,gateway"},
    {"full", "name,state,class,label,uuid"},
    {"prefs", "name,label,template,netvm,vcpus,memory,maxmem"},
};

/* FIELDS ("name,STATE,ip", '-' or '_' alike, any case) into cols. */
static int ls_columns(struct cli *cli, const char *fields, struct ls_col **cols, int *n)
{
	cleanup_free char *list = splq_xstrdup(fields);
	*n = 0;
	*cols = splq_xcalloc(strlen(fields) / 2 + 2, sizeof(**cols));
	for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		struct ls_col *c = &(*cols)[(*n)++];
		char low[40];
		size_t k;
		for (k = 0; w[k] && k < sizeof(low) - 1; k++)
			low[k] = w[k] == '-' ? '_' : (char)tolower((unsigned char)w[k]);
		low[k] = '\0';
		for (k = 0; k < sizeof(c->head) - 1 && low[k]; k++)
			c->head[k] = low[k] == '_' ? '-' : (char)toupper((unsigned char)low[k]);
		c->kind = LS_PROP;
		for (int j = 0; j < LS_PROP; j++)
			if (strcmp(c->head, ls_kinds[j]) == 0)
				c->kind = (enum ls_kind)j;
		if (c->kind != LS_PROP)
			continue;
		const struct splq_prop_def *def = splq_prop_find(low);
		if (!def)
			return cli_usage(cli, "unknown column '%s': a column of ls (%s) or a property",
			                 w, "name, state, class, label, template, netvm, memory, flags");
		c->prop = def->name;
	}
	if (*n == 0)
		return cli_usage(cli, "--fields needs at least one column");
	return -1;
}

/* qvm-ls's FLAGS: type, power, updateable, provides network, installed by
 * a package (never), internal, debug (never), autostart. */
static void ls_flags(struct splq_ctx *ctx, const struct splq_qube_info *q, char out[9])
{
	static const char type[] = {[SPLQ_CLASS_ADMINVM] = '0', [SPLQ_CLASS_TEMPLATEVM] = 't',
	                            [SPLQ_CLASS_APPVM] = 'a', [SPLQ_CLASS_STANDALONEVM] = 's',
	                            [SPLQ_CLASS_DISPVM] = 'd'};
	struct splq_pref p = {0};
	struct splq_error e = {0};
	bool autostart = false;
	if (q->klass != SPLQ_CLASS_ADMINVM &&
	    splq_op_prefs_get(ctx, q->name, "autostart", &p, &e) == 0) {
		autostart = strcmp(p.value, "True") == 0;
		free(p.value);
	}
	snprintf(out, 9, "%c%c%c%c-%c-%c", type[q->klass] ? type[q->klass] : '-',
	         q->power == SPLQ_HALTED ? '-' : (char)tolower((unsigned char)splq_power_name(q->power)[0]),
	         q->klass == SPLQ_CLASS_TEMPLATEVM || q->klass == SPLQ_CLASS_STANDALONEVM ? 'U' : '-',
	         q->provides_network ? 'N' : '-', q->internal ? 'i' : '-', autostart ? 'A' : '-');
}

/* One cell, malloc'ed; "-" when empty. */
static char *ls_cell(struct splq_ctx *ctx, const struct splq_qube_info *q, const struct ls_col *c)
{
	const char *s = NULL;
	char buf[32];
	switch (c->kind) {
	case LS_NAME:
		s = q->name;
		break;
	case LS_STATE:
		s = splq_power_name(q->power);
		break;
	case LS_CLASS:
		s = splq_class_name(q->klass);
		break;
	case LS_LABEL:
		s = q->label;
		break;
	case LS_TEMPLATE:
		s = q->template;
		break;
	case LS_NETVM:
		s = q->netvm;
		break;
	case LS_MEMORY:
		snprintf(buf, sizeof(buf), q->memory > 0 ? "%ld" : "", q->memory);
		s = buf;
		break;
	case LS_FLAGS:
		ls_flags(ctx, q, buf);
		s = buf;
		break;
	case LS_PROP: {
		struct splq_pref p = {0};
		struct splq_error e = {0};
		if (splq_op_prefs_get(ctx, q->name, c->prop, &p, &e) < 0)
			return splq_xstrdup("-");
		if (!*p.value) {
			free(p.value);
			return splq_xstrdup("-");
		}
		return p.value;
	}
	}
	return splq_xstrdup(s && *s ? s : "-");
}

/* A terminal's colour for a label ("" for none: black, or no colour). */
static void ls_colour(const char *label, char out[32])
{
	const struct splq_label *l = label ? splq_label_find(label) : NULL;
	out[0] = '\0';
	if (l && l->colour)
		snprintf(out, 32, "\033[38;2;%u;%u;%um", l->colour >> 16, (l->colour >> 8) & 0xff,
		         l->colour & 0xff);
}

/* The table (aligned under a header, a qube's name in its label's colour
 * when colour), --raw-data (no header, cells joined by '|') or
 * --raw-list (names alone). */
static void ls_print(struct splq_ctx *ctx, const struct splq_qube_info *v, const int *order, int n,
                     const struct ls_col *cols, int ncols, bool raw, bool colour)
{
	char ***cell = splq_xcalloc(n ? n : 1, sizeof(*cell));
	size_t *width = splq_xcalloc(ncols, sizeof(*width));
	for (int k = 0; k < ncols; k++)
		width[k] = strlen(cols[k].head);
	for (int j = 0; j < n; j++) {
		cell[j] = splq_xcalloc(ncols, sizeof(**cell));
		for (int k = 0; k < ncols; k++) {
			cell[j][k] = ls_cell(ctx, &v[order[j]], &cols[k]);
			if (strlen(cell[j][k]) > width[k])
				width[k] = strlen(cell[j][k]);
		}
	}
	for (int k = 0; !raw && k < ncols; k++) {
		if (k + 1 < ncols)
			printf("%-*s  ", (int)width[k], cols[k].head);
		else
			printf("%s\n", cols[k].head);
	}
	for (int j = 0; j < n; j++) {
		char on[32] = "";
		if (colour)
			ls_colour(v[order[j]].label, on);
		for (int k = 0; k < ncols; k++) {
			const char *c = cell[j][k];
			bool paint = *on && cols[k].kind == LS_NAME;
			if (raw)
				printf("%s%s", k ? "|" : "", c);
			else if (k + 1 < ncols)
				printf("%s%s%s%*s  ", paint ? on : "", c, paint ? "\033[0m" : "",
				       (int)(width[k] - strlen(c)), "");
			else
				printf("%s%s%s", paint ? on : "", c, paint ? "\033[0m" : "");
			free(cell[j][k]);
		}
		printf("\n");
		free(cell[j]);
	}
	free(cell);
	free(width);
}

/* The qubes as cli_qube_json has them; with --fields or --format, only
 * the chosen columns (their names as in the qube's object; FLAGS as text),
 * name first.  NULL on failure. */
static json_t *ls_json(struct splq_ctx *ctx, const struct splq_qube_info *v, const int *order,
                       int n, const struct ls_col *cols, int ncols, struct splq_error *err)
{
	json_t *a = json_array();

	for (int j = 0; j < n; j++) {
		const struct splq_qube_info *q = &v[order[j]];
		json_t *all = cli_qube_json(ctx, q, err), *o;
		if (!all) {
			json_decref(a);
			return NULL;
		}
		if (!cols) {
			json_array_append_new(a, all);
			continue;
		}
		o = json_pack("{s:O}", "name", json_object_get(all, "name"));
		for (int k = 0; k < ncols; k++) {
			char flags[9], key[40];
			if (cols[k].kind == LS_FLAGS) {
				ls_flags(ctx, q, flags);
				json_object_set_new(o, "flags", json_string(flags));
				continue;
			}
			if (cols[k].kind == LS_PROP)
				snprintf(key, sizeof(key), "%s",
				         strcmp(cols[k].prop, "klass") == 0 ? "class" : cols[k].prop);
			else
				for (size_t i = 0; i < sizeof(key); i++)
					if (!(key[i] = (char)tolower((unsigned char)ls_kinds[cols[k].kind][i])))
						break;
			json_t *x = json_object_get(all, key);
			json_object_set(o, key, x ? x : json_null());
		}
		json_decref(all);
		json_array_append_new(a, o);
	}
	return json_pack("{s:o}", "qubes", a);
}

/* ls's filters: each given one must hold (a list: any of its values). */
struct ls_filter {
	bool running, paused, halted; /* any of the states given */
	char **classes, **tags, **labels;
	int nclasses, ntags, nlabels;
};

static bool in_list(char **list, int n, const char *s, bool nocase)
{
	for (int i = 0; i < n; i++)
		if (nocase ? strcasecmp(list[i], s) == 0 : strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool ls_keep(struct splq_ctx *ctx, const struct splq_qube_info *q, const struct ls_filter *f)
{
	enum splq_power p = q->power;
	if ((f->running || f->paused || f->halted) &&
	    !((f->running && p != SPLQ_HALTED && p != SPLQ_PAUSED) ||
	      (f->paused && p == SPLQ_PAUSED) || (f->halted && p == SPLQ_HALTED)))
		return false;
	if (f->nclasses && !in_list(f->classes, f->nclasses, splq_class_name(q->klass), true))
		return false;
	if (f->nlabels && !in_list(f->labels, f->nlabels, q->label, true))
		return false;
	if (!f->ntags)
		return true;
	char **tags = NULL;
	int nt = 0;
	struct splq_error e = {0};
	bool any = false;
	if (splq_op_tag_list(ctx, q->name, &tags, &nt, &e) == 0)
		for (int i = 0; i < nt && !any; i++)
			any = in_list(f->tags, f->ntags, tags[i], false);
	splq_strv_free(tags, nt);
	return any;
}

/* A repeated option's values, each of which may be a comma list. */
static void ls_add(char ***list, int *n, const char *arg)
{
	cleanup_free char *copy = splq_xstrdup(arg);
	for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char **grown = splq_xcalloc(*n + 1, sizeof(*grown));
		if (*n)
			memcpy(grown, *list, *n * sizeof(*grown));
		free(*list);
		*list = grown;
		(*list)[(*n)++] = splq_xstrdup(w);
	}
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	enum { O_RUNNING = 0x300, O_PAUSED, O_HALTED, O_CLASS, O_TAGS, O_LABEL, O_RAW_DATA,
	       O_RAW_LIST };
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"running", no_argument, NULL, O_RUNNING},
	    {"paused", no_argument, NULL, O_PAUSED},
	    {"halted", no_argument, NULL, O_HALTED},
	    {"class", required_argument, NULL, O_CLASS},
	    {"tags", required_argument, NULL, O_TAGS},
	    {"label", required_argument, NULL, O_LABEL},
	    {"format", required_argument, NULL, 'o'},
	    {"fields", required_argument, NULL, 'O'},
	    {"raw-data", no_argument, NULL, O_RAW_DATA},
	    {"raw-list", no_argument, NULL, O_RAW_LIST},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_qube_info *v = NULL;
	cleanup_free int *order = NULL;
	cleanup_free struct ls_col *cols = NULL;
	struct ls_filter f = {0};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	const char *fields = NULL, *format = NULL;
	bool all = false, raw_data = false, raw_list = false;
	int n = 0, k = 0, rc, c, ncols = 0;

	while ((c = cli_getopt(cli, argc, argv, ":hao:O:", opts)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case O_RUNNING: f.running = true; break;
		case O_PAUSED: f.paused = true; break;
		case O_HALTED: f.halted = true; break;
		case O_CLASS: ls_add(&f.classes, &f.nclasses, optarg); break;
		case O_TAGS: ls_add(&f.tags, &f.ntags, optarg); break;
		case O_LABEL: ls_add(&f.labels, &f.nlabels, optarg); break;
		case 'o': format = optarg; break;
		case 'O': fields = optarg; break;
		case O_RAW_DATA: raw_data = true; break;
		case O_RAW_LIST: raw_list = true; break;
		}
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		goto done;
	rc = SPLQ_E_USAGE;
	if (format && fields) {
		rc = cli_usage(cli, "--format and --fields do not go together");
		goto done;
	}
	if (raw_list && (format || fields || raw_data)) {
		rc = cli_usage(cli, "--raw-list is the names alone: no --format, --fields or --raw-data");
		goto done;
	}
	if (format) {
		for (size_t i = 0; i < sizeof(ls_formats) / sizeof(ls_formats[0]) && !fields; i++)
			if (strcmp(ls_formats[i].name, format) == 0)
				fields = ls_formats[i].fields;
		if (!fields) {
			rc = cli_usage(cli, "unknown format '%s': splq, simple, network, full or prefs",
			               format);
			goto done;
		}
	}
	if ((rc = ls_columns(cli, raw_list ? "name" : fields ? fields : ls_formats[0].fields,
	                     &cols, &ncols)) >= 0)
		goto done;
	for (int i = 0; i < f.nclasses; i++) {
		int kc = 0;
		while (kc < SPLQ_CLASS_COUNT && strcasecmp(splq_class_name(kc), f.classes[i]) != 0)
			kc++;
		if (kc == SPLQ_CLASS_COUNT) {
			rc = cli_usage(cli, "unknown class '%s': AdminVM, TemplateVM, AppVM, DispVM or "
			                    "StandaloneVM",
			               f.classes[i]);
			goto done;
		}
	}
	for (int i = 0; i < f.nlabels; i++)
		if (!splq_label_find(f.labels[i])) {
			rc = cli_usage(cli, "unknown label '%s'", f.labels[i]);
			goto done;
		}

	if ((rc = cli_open(cli, &ctx)))
		goto done;
	if (splq_op_list(&ctx, &v, &n, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
		splq_ctx_close(&ctx);
		goto done;
	}
	/* the qubes named, in that order, or: dom0 (the AdminVM) first, the
	 * rest by name; internal qubes (preloaded disposables) only with
	 * --all or by name */
	order = splq_xcalloc(n + argc + 1, sizeof(*order));
	for (int i = optind; i < argc; i++) {
		int j = 0;
		while (j < n && strcmp(v[j].name, argv[i]) != 0)
			j++;
		if (j == n) {
			splq_fail(&err, SPLQ_E_NOTFOUND, "no such qube '%s'", argv[i]);
			rc = cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(argv[i])));
			goto close;
		}
		if (ls_keep(&ctx, &v[j], &f))
			order[k++] = j;
	}
	for (int pass = 0; optind == argc && pass < 2; pass++)
		for (int j = 0; j < n; j++)
			if ((pass == 0) == (v[j].klass == SPLQ_CLASS_ADMINVM) && (all || !v[j].internal) &&
			    ls_keep(&ctx, &v[j], &f))
				order[k++] = j;

	if (cli->json) {
		json_t *data = ls_json(&ctx, v, order, k, fields ? cols : NULL, ncols, &err);
		rc = data ? cli_ok(cli, data) : cli_fail(cli, &err, NULL);
	} else {
		const char *nc = getenv("NO_COLOR");
		ls_print(&ctx, v, order, k, cols, ncols, raw_data || raw_list,
		         !raw_data && !raw_list && isatty(STDOUT_FILENO) && !(nc && *nc));
		rc = cli_ok(cli, NULL);
	}
close:
	splq_ctx_close(&ctx);
	splq_qube_info_free(v, n);
done:
	splq_strv_free(f.classes, f.nclasses);
	splq_strv_free(f.tags, f.ntags);
	splq_strv_free(f.labels, f.nlabels);
	return rc;
}
