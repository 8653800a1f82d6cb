/* splq command line: global options, finding the command, handing over.
 *
 *   splq [--json] COMMAND [ARGS]      splq help [COMMAND]      splq --version
 *
 * Each command parses its own options (commands.c has the table). */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* An unknown command (w2: its second word, or NULL): one line, as there is
 * no command whose help to point to; splq --help lists them. */
static int unknown_command(struct cli *cli, const char *w1, const char *w2)
{
	char name[256];

	snprintf(name, sizeof(name), w2 ? "%s %s" : "%s", w1, w2);
	if (cli->json)
		return cli_usage(cli, "unknown command '%s'", name);
	fflush(stdout);
	fprintf(stderr, "splq: unknown command '%s' (see 'splq --help')\n", cli_one_line(name));
	return SPLQ_E_USAGE;
}

/* `splq help [COMMAND [SUBCOMMAND]]`: help on stdout, or a mistake (64). */
/* A command as help --json tells it. */
static json_t *command_json(const struct cli_command *c)
{
	json_t *opts = json_array();
	for (const char *const *o = c->options; o && o[0]; o += 2)
		json_array_append_new(opts, json_pack("{s:s,s:s}", "option", o[0] + strspn(o[0], " "),
		                                      "help", o[1]));
	return json_pack("{s:s,s:o,s:s,s:s,s:o,s:s}", "name", c->name, "alias",
	                 c->alias ? json_string(c->alias) : json_null(), "summary", c->summary,
	                 "synopsis", c->synopsis, "options", opts, "description", c->description);
}

static int help(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *c;
	int used;

	/* help's own --json, anywhere */
	int k = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cli->json = true;
		else
			argv[k++] = argv[i];
	}
	argc = k;
	/* --completion [bash|zsh]: the script (zsh runs the bash one) */
	if (argc >= 1 && strcmp(argv[0], "--completion") == 0) {
		const char *shell = argc > 1 ? argv[1] : "bash";
		if (argc > 2 || (strcmp(shell, "bash") != 0 && strcmp(shell, "zsh") != 0))
			return cli_usage(cli, "help --completion takes bash or zsh, not '%s'", shell);
		if (strcmp(shell, "zsh") == 0)
			printf("#compdef splq\nautoload -U +X bashcompinit && bashcompinit\n");
		cli_print_completion(stdout);
		return 0;
	}
	/* --man [PAGE]: a man page in roff (splq(1) without PAGE); --man-pages
	 * their names, for make */
	if (argc >= 1 && strcmp(argv[0], "--man-pages") == 0) {
		if (argc > 1)
			return cli_usage(cli, "help --man-pages takes no argument");
		cli_print_man_pages(stdout);
		return 0;
	}
	if (argc >= 1 && strcmp(argv[0], "--man") == 0) {
		if (argc > 2)
			return cli_usage(cli, "help --man takes one page, not '%s'", argv[2]);
		if (cli_print_man(stdout, argc > 1 ? argv[1] : "splq") == 0)
			return 0;
		struct splq_error err;
		splq_fail(&err, SPLQ_E_NOTFOUND, "no man page '%s' (see 'splq help --man-pages')",
		          argv[1]);
		return cli_fail(cli, &err, json_pack("{s:s}", "page", argv[1]));
	}
	if (argc == 0 && cli->json) {
		json_t *a = json_array();
		for (const struct cli_command *x = cli_commands; x->name; x++)
			json_array_append_new(a, command_json(x));
		return cli_ok(cli, json_pack("{s:s,s:o}", "version", SPLQ_VERSION, "commands", a));
	}
	if (argc == 0) {
		cli_print_main_usage(stdout);
		return 0;
	}
	c = cli_command_find(argv[0], argc > 1 ? argv[1] : NULL, &used);
	if (c && argc == used && cli->json)
		return cli_ok(cli, json_pack("{s:o}", "command", command_json(c)));
	if (c && argc == used) {
		cli_print_usage(stdout, c);
		return 0;
	}
	if (!c && argc == 1 && cli_command_is_group(argv[0])) {
		cli_print_group_usage(stdout, argv[0]);
		return 0;
	}
	if (!c && argc == 2 && cli_command_is_group(argv[0]))
		return unknown_command(cli, argv[0], argv[1]);
	if (!c)
		return unknown_command(cli, argv[0], NULL);
	return cli_usage(cli, "help takes one command, not '%s'", argv[used]);
}

/* A group word ("template", "audit") without a known second word. */
static int group_mistake(struct cli *cli, const char *group, const char *next)
{
	cli->cmd = group; /* the hint: Try 'splq template --help'. */
	if (next && (strcmp(next, "--help") == 0 || strcmp(next, "-h") == 0)) {
		cli_print_group_usage(stdout, group);
		return 0;
	}
	if (!next || next[0] == '-') {
		size_t n = strlen(group);
		char list[128] = "";

		for (const struct cli_command *c = cli_commands; c->name; c++) {
			if (strncmp(c->name, group, n) != 0 || c->name[n] != ' ')
				continue;
			if (list[0])
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, c->name + n + 1, sizeof(list) - strlen(list) - 1);
		}
		return cli_usage(cli, "'%s' needs a subcommand: %s", group, list);
	}
	return unknown_command(cli, group, next);
}

/* stdout could not be written (a full disk, a closed pipe): say so. */
static int check_stdout(int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	fprintf(stderr, "splq: cannot write to standard output: %s\n", strerror(errno));
	return rc ? rc : SPLQ_E_NOSPACE;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const struct cli_command *c;
	int i, used, rc;
	bool version = false;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			cli.json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_print_main_usage(stdout);
			return check_stdout(0);
		} else if (strcmp(argv[i], "--version") == 0) {
			version = true;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			return cli_usage(&cli, "unknown option '%.*s'", (int)strcspn(argv[i], "="),
			                 argv[i]);
		}
	}
	if (version && cli.json)
		return check_stdout(cli_ok(&cli, json_pack("{s:s}", "version", SPLQ_VERSION)));
	if (version) {
		printf("splq %s\n", SPLQ_VERSION);
		return check_stdout(0);
	}
	if (i >= argc)
		return cli_usage(&cli, "no command given");
	if (strcmp(argv[i], "help") == 0)
		return check_stdout(help(&cli, argc - i - 1, argv + i + 1));

	c = cli_command_find(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &used);
	if (!c) {
		/* No command to parse the rest: a --json in it still counts. */
		for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
			if (strcmp(argv[k], "--json") == 0)
				cli.json = true;
		if (cli_command_is_group(argv[i]))
			return check_stdout(
			    group_mistake(&cli, argv[i], i + 1 < argc ? argv[i + 1] : NULL));
		return unknown_command(&cli, argv[i], NULL);
	}

	/* The command sees argv[0] = its last word; getopt starts afresh. */
	cli.cmd = c->name;
	optind = 0;
	rc = c->run(&cli, argc - i - used + 1, argv + i + used - 1);
	return check_stdout(rc);
}
