/* splq command line: a qube's properties (prefs), tags and features, in
 * the manner of qvm-prefs, qvm-tags and qvm-features. */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void prefs_print_list(struct splq_pref *v, int n)
{
	int width = 0;

	for (int i = 0; i < n; i++)
		if (v[i].def && (int)strlen(v[i].def->name) > width)
			width = (int)strlen(v[i].def->name);
	for (int i = 0; i < n; i++) {
		const char *value = v[i].value ? cli_one_line(v[i].value) : "";

		if (!v[i].def)
			continue;
		if (*value)
			printf("%-*s  %c  %s\n", width, v[i].def->name, v[i].is_default ? 'D' : '-',
			       value);
		else
			printf("%-*s  %c\n", width, v[i].def->name, v[i].is_default ? 'D' : '-');
	}
}

static json_t *prefs_json_list(const char *qube, const struct splq_pref *v, int n)
{
	json_t *props = json_object();

	for (int i = 0; i < n; i++) {
		if (!v[i].def)
			continue;
		json_object_set_new(props, cli_pref_key(&v[i]),
		                    json_pack("{s:o,s:b,s:s}", "value", cli_pref_value(&v[i]),
		                              "default", v[i].is_default, "type",
		                              cli_pref_type(&v[i])));
	}
	return json_pack("{s:o,s:o}", "qube", cli_jstr(qube), "properties", props);
}

/* One property, after reading or changing it; with_type for `prefs Q P`. */
static int prefs_show(struct cli *cli, struct splq_ctx *ctx, const char *qube, const char *prop,
                      bool with_type, bool text)
{
	struct splq_pref p;
	struct splq_error err = {0};
	json_t *o;

	memset(&p, 0, sizeof(p));
	if (splq_op_prefs_get(ctx, qube, prop, &p, &err) < 0)
		return cli_fail(cli, &err, NULL);
	if (!cli->json) {
		if (text)
			printf("%s\n", p.value ? cli_one_line(p.value) : "");
		free(p.value);
		return cli_ok(cli, NULL);
	}
	o = json_pack("{s:o,s:s,s:o,s:b}", "qube", cli_jstr(qube), "property",
	              p.def ? cli_pref_key(&p) : prop, "value", cli_pref_value(&p), "default",
	              p.is_default);
	if (with_type)
		json_object_set_new(o, "type", json_string(cli_pref_type(&p)));
	free(p.value);
	return cli_ok(cli, o);
}

/* The command line of prefs and features: QUBE [KEY [VALUE]], or with
 * --<flag> (-D) QUBE KEY.  -1 to go on with *args and *n, else the exit
 * code. */
static int key_value_args(struct cli *cli, int argc, char **argv, const char *flag, const char *key,
                          bool *flagged, char ***args, int *n)
{
	const struct option opts[] = {
	    {flag, no_argument, NULL, 'D'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	int c, rc;

	/* a value may start with '-' (memory -5 gets the range message): the
	 * first word that looks like a negative number, and all after it,
	 * are operands */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (argv[i][0] == '-' && isdigit((unsigned char)argv[i][1])) {
			/* (kept for the process's life: the operands point into it) */
			static char **with;
			with = splq_xcalloc(argc + 2, sizeof(*with));
			memcpy(with, argv, i * sizeof(*with));
			with[i] = "--";
			memcpy(with + i + 1, argv + i, (argc - i) * sizeof(*with));
			argv = with;
			argc++;
			break;
		}
	}
	*flagged = false;
	while ((c = cli_getopt(cli, argc, argv, ":hD", opts)) != -1)
		if (c == 'D')
			*flagged = true;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	*n = argc - optind;
	*args = argv + optind;
	if (*n == 0)
		return cli_usage(cli, "%s needs a QUBE", cli->cmd);
	if (*flagged && *n != 2)
		return cli_usage(cli, "%s --%s needs QUBE and %s", cli->cmd, flag, key);
	if (*n > 3)
		return cli_usage(cli, "%s takes QUBE [%s [VALUE]], not also '%s'", cli->cmd, key,
		                 (*args)[3]);
	return -1;
}

/* prefs --help-properties [QUBE]: every property (of QUBE's class), with
 * its type, its default ("-" where it is the qube's own: name, uuid, ip,
 * ...) and its help, as qvm-prefs --help-properties. */
static int prefs_help(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help-properties", no_argument, NULL, 'P'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_error err = {0};
	unsigned classes = ~0u;
	int c, rc, width = 0, dwidth = 0;

	while ((c = cli_getopt(cli, argc, argv, ":h", opts)) != -1)
		;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage(cli, "prefs --help-properties takes at most one QUBE, not also '%s'",
		                 argv[optind + 1]);
	if (optind < argc) {
		struct splq_ctx ctx;
		struct splq_pref k = {0};
		if ((rc = cli_open(cli, &ctx)))
			return rc;
		rc = splq_op_prefs_get(&ctx, argv[optind], "klass", &k, &err);
		splq_ctx_close(&ctx);
		if (rc < 0)
			return cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(argv[optind])));
		classes = 1u << splq_class_parse(k.value);
		free(k.value);
	}
	json_t *a = json_array();
	for (const struct splq_prop_def *d = splq_props; d->name; d++) {
		if (!(d->classes & classes))
			continue;
		if ((int)strlen(d->name) > width)
			width = (int)strlen(d->name);
		if (d->dflt && (int)strlen(d->dflt) > dwidth)
			dwidth = (int)strlen(d->dflt);
		json_t *cl = json_array();
		for (int k = 0; k < SPLQ_CLASS_COUNT; k++)
			if (d->classes & (1u << k))
				json_array_append_new(cl, json_string(splq_class_name(k)));
		json_t *o = json_pack("{s:s,s:s,s:o,s:b,s:b,s:o,s:s}", "name", d->name, "type",
		                      splq_prop_type_name(d->type), "default",
		                      d->dflt ? json_string(d->dflt) : json_null(), "readonly",
		                      d->readonly, "needsHalted", d->needs_halted, "classes", cl,
		                      "help", d->help);
		if (d->type == SPLQ_PT_INT)
			json_object_set_new(o, "range", json_pack("[I,I]", (json_int_t)d->min,
			                                          (json_int_t)d->max));
		json_array_append_new(a, o);
	}
	if (cli->json)
		return cli_ok(cli, json_pack("{s:o}", "properties", a));
	json_decref(a);
	if (dwidth < 7)
		dwidth = 7;
	printf("%-*s  %-5s  %-*s  %s\n", width, "NAME", "TYPE", dwidth, "DEFAULT", "HELP");
	for (const struct splq_prop_def *d = splq_props; d->name; d++)
		if (d->classes & classes)
			printf("%-*s  %-5s  %-*s  %s\n", width, d->name, splq_prop_type_name(d->type),
			       dwidth, d->dflt ? (*d->dflt ? d->dflt : "''") : "-", d->help);
	return cli_ok(cli, NULL);
}

int cmd_prefs(struct cli *cli, int argc, char **argv)
{
	bool reset;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc, n;
	char **args;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help-properties") == 0)
			return prefs_help(cli, argc, argv);
	if ((rc = key_value_args(cli, argc, argv, "default", "PROPERTY", &reset, &args, &n)) >= 0)
		return rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (n == 1) {
		struct splq_pref *v = NULL;
		int count = 0;

		if (splq_op_prefs_list(&ctx, args[0], &v, &count, &err) < 0) {
			rc = cli_fail(cli, &err, NULL);
		} else if (cli->json) {
			rc = cli_ok(cli, prefs_json_list(args[0], v, count));
		} else {
			prefs_print_list(v, count);
			rc = cli_ok(cli, NULL);
		}
		splq_prefs_free(v, count);
	} else if (reset) {
		if (splq_op_prefs_reset(&ctx, args[0], args[1], &err) < 0)
			rc = cli_fail(cli, &err, NULL);
		else
			rc = prefs_show(cli, &ctx, args[0], args[1], false, false);
	} else if (n == 3) {
		if (splq_op_prefs_set(&ctx, args[0], args[1], args[2], &err) < 0)
			rc = cli_fail(cli, &err, NULL);
		else
			rc = prefs_show(cli, &ctx, args[0], args[1], false, false);
	} else {
		rc = prefs_show(cli, &ctx, args[0], args[1], true, true);
	}
	splq_ctx_close(&ctx);
	return rc;
}

/* The qube's tags: printed one a line, or {"qube","tags":[...]}. */
static int tags_show(struct cli *cli, struct splq_ctx *ctx, const char *qube, bool text)
{
	struct splq_error err = {0};
	char **tags = NULL;
	int n = 0;
	json_t *a;

	if (splq_op_tag_list(ctx, qube, &tags, &n, &err) < 0)
		return cli_fail(cli, &err, NULL);
	a = json_array();
	for (int i = 0; i < n; i++) {
		if (text && !cli->json)
			printf("%s\n", cli_one_line(tags[i]));
		json_array_append_new(a, cli_jstr(tags[i]));
	}
	splq_strv_free(tags, n);
	return cli_ok(cli, json_pack("{s:o,s:o}", "qube", cli_jstr(qube), "tags", a));
}

int cmd_tags(struct cli *cli, int argc, char **argv)
{
	struct splq_ctx ctx;
	struct splq_error err = {0};
	const char *qube, *verb;
	bool add;
	int rc, n;
	char **args;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	n = argc - optind;
	args = argv + optind;
	if (n == 0)
		return cli_usage(cli, "tags needs a QUBE");
	qube = args[0];
	verb = n > 1 ? args[1] : "list";
	if (strcmp(verb, "list") == 0) {
		if (n > 2)
			return cli_usage(cli, "tags QUBE list takes no more arguments, not '%s'",
			                 args[2]);
		if ((rc = cli_open(cli, &ctx)))
			return rc;
		rc = tags_show(cli, &ctx, qube, true);
		splq_ctx_close(&ctx);
		return rc;
	}
	if (strcmp(verb, "add") != 0 && strcmp(verb, "del") != 0)
		return cli_usage(cli, "unknown tags action '%s' (list, add or del)", verb);
	add = strcmp(verb, "add") == 0;
	if (n < 3)
		return cli_usage(cli, "tags QUBE %s needs at least one TAG", verb);

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	for (int i = 2; i < n; i++) {
		int r = add ? splq_op_tag_add(&ctx, qube, args[i], &err)
		            : splq_op_tag_remove(&ctx, qube, args[i], &err);
		if (r < 0) {
			rc = cli_fail(cli, &err, NULL);
			splq_ctx_close(&ctx);
			return rc;
		}
	}
	rc = cli->json ? tags_show(cli, &ctx, qube, false) : cli_ok(cli, NULL);
	splq_ctx_close(&ctx);
	return rc;
}

static int features_list(struct cli *cli, struct splq_ctx *ctx, const char *qube)
{
	struct splq_error err = {0};
	char **names = NULL, **values = NULL;
	int n = 0, width = 0;
	json_t *o;

	if (splq_op_feature_list(ctx, qube, &names, &values, &n, &err) < 0)
		return cli_fail(cli, &err, NULL);
	o = json_object();
	for (int i = 0; i < n; i++) {
		if ((int)strlen(names[i]) > width)
			width = (int)strlen(names[i]);
		json_object_set_new(o, names[i], cli_jstr(values[i]));
	}
	if (!cli->json) {
		for (int i = 0; i < n; i++) {
			cli_one_line(names[i]);
			if (values[i] && *values[i])
				printf("%-*s  %s\n", width, names[i], cli_one_line(values[i]));
			else
				printf("%s\n", names[i]);
		}
	}
	splq_strv_free(names, n);
	splq_strv_free(values, n);
	return cli_ok(cli, json_pack("{s:o,s:o}", "qube", cli_jstr(qube), "features", o));
}

/* {"qube","feature","value"}; value NULL (JSON null) after --unset. */
static json_t *feature_json(const char *qube, const char *name, const char *value)
{
	return json_pack("{s:o,s:o,s:o}", "qube", cli_jstr(qube), "feature", cli_jstr(name),
	                 "value", value ? cli_jstr(value) : json_null());
}

int cmd_features(struct cli *cli, int argc, char **argv)
{
	bool unset;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc, n;
	char **args;

	if ((rc = key_value_args(cli, argc, argv, "unset", "NAME", &unset, &args, &n)) >= 0)
		return rc;

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (n == 1) {
		rc = features_list(cli, &ctx, args[0]);
	} else if (unset) {
		if (splq_op_feature_remove(&ctx, args[0], args[1], &err) < 0)
			rc = cli_fail(cli, &err, NULL);
		else
			rc = cli_ok(cli, feature_json(args[0], args[1], NULL));
	} else if (n == 3) {
		if (splq_op_feature_set(&ctx, args[0], args[1], args[2], &err) < 0)
			rc = cli_fail(cli, &err, NULL);
		else
			rc = cli_ok(cli, feature_json(args[0], args[1], args[2]));
	} else {
		cleanup_free char *value = NULL;

		if (splq_op_feature_get(&ctx, args[0], args[1], &value, &err) < 0) {
			rc = cli_fail(cli, &err, NULL);
		} else {
			if (!cli->json)
				printf("%s\n", cli_one_line(value));
			rc = cli_ok(cli, feature_json(args[0], args[1], value));
		}
	}
	splq_ctx_close(&ctx);
	return rc;
}
