/* splq command line: what the command files share.  The command line is
 * the only part of splq that reads argv and prints to the user; everything
 * it does goes through libsplq's ops (ops.h), never the store or the
 * backend.  Besides, it uses the model's names (model.h), from the audit
 * log (audit.h) only its entry type and the --since parser, and from the
 * policy (policy/policy.h) its pure evaluation and a decision's text. */
#ifndef SPLQ_CLI_H
#define SPLQ_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "model.h"
#include "ops/ops.h"

#define SPLQ_VERSION "0.1.0"

/* One invocation of splq. */
struct cli {
	bool json;                  /* --json: one JSON object on stdout */
	bool help;                  /* --help or -h among the command's options */
	const char *cmd;            /* the command's full name, "create", "template create" */
	char usage[SPLQ_ERROR_MAX]; /* the first command line mistake, "" if none */
};

/* A command: its name (one or two words), an alias, the function that runs
 * it with argv[0] being its last word, and its help. */
struct cli_command {
	const char *name;
	const char *alias;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;        /* one line for `splq --help` */
	const char *synopsis;       /* one or more lines, each without "splq " */
	const char *const *options; /* pairs: option, what it does; NULL-ended */
	const char *description;    /* one paragraph */
};

/* commands.c: the table (NULL-named sentinel at the end) and help. */
extern const struct cli_command cli_commands[];
/* Find a command from the first one or two words; *used says how many
 * words the name took (1 or 2).  NULL when there is none. */
const struct cli_command *cli_command_find(const char *w1, const char *w2, int *used);
/* Is word the first word of two-word commands ("template", "audit")? */
bool cli_command_is_group(const char *word);
void cli_print_usage(FILE *f, const struct cli_command *c);
void cli_print_group_usage(FILE *f, const char *group);
void cli_print_main_usage(FILE *f);
/* A bash completion script for every command and option of the table. */
void cli_print_completion(FILE *f);
/* manpage.c: the man page PAGE ("splq", "splq-run", "splq-vault"; the
 * "splq-" may be left off) in roff; -1 when there is no such page.  The
 * page names, one per line. */
int cli_print_man(FILE *f, const char *page);
void cli_print_man_pages(FILE *f);

/* args.c (and cli_parse_end, cli_parse_common and cli_no_operands in
 * output.c): option parsing.  Every command's option table ends with
 * CLI_COMMON_OPTIONS and its short option string starts with ":" (or "+:")
 * and holds "h".  cli_getopt() handles --json, --help and mistakes itself
 * (the first mistake is kept in cli->usage and parsing goes on, so that a
 * later --json still applies); it returns the command's own options, and
 * -1 at the end.  main() resets getopt before a command runs. */
enum {
	CLI_OPT_JSON = 0x100,
	CLI_OPT_MEMORY,
	CLI_OPT_VCPUS,
	CLI_OPT_WAIT,
	CLI_OPT_FORCE,
	CLI_OPT_NO_WAIT,
	CLI_OPT_TIMEOUT,
	CLI_OPT_NETVM,
	CLI_OPT_UNSET,
	CLI_OPT_QUBE,
	CLI_OPT_SINCE,
	CLI_OPT_TEMPLATE,
	CLI_OPT_FILTER,
	CLI_OPT_NO_FILTER,
	CLI_OPT_MAX_OUTPUT,
	CLI_OPT_SIZE,
	CLI_OPT_AUTOSTART,
	CLI_OPT_MAXMEM,
	CLI_OPT_SKIP_IF_RUNNING,
	CLI_OPT_ALL,
	CLI_OPT_EXCLUDE,
	CLI_OPT_NO_AUTOSTART,
	CLI_OPT_DISPVM,
	CLI_OPT_WORKDIR,
};
#define CLI_COMMON_OPTIONS                                                                         \
	{"json", no_argument, NULL, CLI_OPT_JSON},                                                 \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts);
/* Keep a command line mistake found while parsing (the first one wins). */
void cli_arg_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After the option loop: with --help print the usage and return 0; after a
 * mistake report it and return 64; otherwise return -1 (go on). */
int cli_parse_end(struct cli *cli);
/* The option loop and cli_parse_end of a command without options of its
 * own. */
int cli_parse_common(struct cli *cli, int argc, char **argv);
/* For a command that takes no operands: with one left after the options,
 * report it and return 64; otherwise return -1 (go on). */
int cli_no_operands(struct cli *cli, int argc, char **argv);

/* Pure helpers (unit-tested): SPLQ_E_USAGE with a message on bad input. */
/* A whole positive number of seconds, 1 .. 31536000 (a year). */
int cli_parse_seconds(const char *opt, const char *s, long *out, struct splq_error *err);
/* A size in bytes, as splq_size_parse reads it but not rounded: at least
 * 1 byte. */
int cli_parse_size(const char *opt, const char *s, long long *out, struct splq_error *err);
/* "NAME=VALUE" split in place (s is changed); an empty value is allowed. */
int cli_parse_assign(const char *opt, char *s, struct splq_prop_assign *out,
                     struct splq_error *err);
/* --class: "AppVM" or "StandaloneVM". */
int cli_parse_create_class(const char *s, enum splq_class *out, struct splq_error *err);

/* text.c: pure text helpers (unit-tested). */
/* A copy of buf with every invalid UTF-8 sequence replaced by U+FFFD (each
 * maximal ill-formed part by one, as Unicode recommends); never NULL
 * (aborts when out of memory); *outlen is its length without the NUL. */
char *cli_utf8_sanitize(const char *buf, size_t len, size_t *outlen);
/* Replace control characters (newlines, escapes, DEL) by '?' in place, so
 * that text that came from outside stays on one line and cannot drive the
 * terminal. */
char *cli_one_line(char *s);

/* output.c: printing results and errors (the only printing of splq). */
/* JSON strings that are valid UTF-8 whatever the input. */
json_t *cli_jstr(const char *s);
json_t *cli_jstrn(const char *s, size_t len);
/* Success: in JSON mode print {"success":true,"code":0, ...data}; in text
 * mode print nothing (the command printed its text).  Takes data (may be
 * NULL).  Returns 0. */
int cli_ok(struct cli *cli, json_t *data);
/* Print a result object with explicit success and code (run, dispvm). */
void cli_print_result(bool success, int code, json_t *data);
/* Failure of an operation: `splq: <message>` on stderr, or in JSON mode
 * {"success":false,"code":N, ...data,"error":msg} on stdout.  Takes data
 * (may be NULL).  Returns err->code (the exit code). */
int cli_fail(struct cli *cli, const struct splq_error *err, json_t *data);
/* One failure among several that a command goes on past: `splq: <message>`
 * on stderr in text mode; returns {"qube","code","error"} for the command's
 * JSON. */
json_t *cli_warn(struct cli *cli, const char *qube, const struct splq_error *err);
/* A command line mistake: the message and a hint to --help, exit code 64. */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the context (root only, store, backend); on failure report it and
 * return its exit code, else 0. */
int cli_open(struct cli *cli, struct splq_ctx *ctx);

/* qube_json.c: a qube as JSON, the one shape of ls, check and prefs. */
/* "str", "int", "bool", "vm" or "label". */
const char *cli_pref_type(const struct splq_pref *p);
/* The property's name in JSON: "class" for Qubes' "klass". */
const char *cli_pref_key(const struct splq_pref *p);
/* Its value typed: a number, true or false, a string, null for no qube. */
json_t *cli_pref_value(const struct splq_pref *p);
/* {"name", "class", "state", every property by cli_pref_key, "tags"};
 * NULL on failure (err says why). */
json_t *cli_qube_json(struct splq_ctx *ctx, const struct splq_qube_info *q, struct splq_error *err);

/* The commands. */
int cmd_template_create(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_clone(struct cli *cli, int argc, char **argv);
int cmd_remove(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_shutdown(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_dispvm(struct cli *cli, int argc, char **argv);
int cmd_preload(struct cli *cli, int argc, char **argv);
int cmd_discard(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_unpause(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_prefs(struct cli *cli, int argc, char **argv);
int cmd_tags(struct cli *cli, int argc, char **argv);
int cmd_firewall(struct cli *cli, int argc, char **argv);
int cmd_features(struct cli *cli, int argc, char **argv);
int cmd_volume_list(struct cli *cli, int argc, char **argv);
int cmd_volume_info(struct cli *cli, int argc, char **argv);
int cmd_volume_resize(struct cli *cli, int argc, char **argv);
int cmd_audit_log(struct cli *cli, int argc, char **argv);
int cmd_audit_verify(struct cli *cli, int argc, char **argv);
int cmd_policy(struct cli *cli, int argc, char **argv);
int cmd_policy_eval(struct cli *cli, int argc, char **argv);
int cmd_policy_check(struct cli *cli, int argc, char **argv);
int cmd_call(struct cli *cli, int argc, char **argv);
int cmd_copy(struct cli *cli, int argc, char **argv);
int cmd_move(struct cli *cli, int argc, char **argv);
int cmd_qrexec_in(struct cli *cli, int argc, char **argv);
int cmd_vault_init(struct cli *cli, int argc, char **argv);
int cmd_vault_unlock(struct cli *cli, int argc, char **argv);
int cmd_vault_lock(struct cli *cli, int argc, char **argv);
int cmd_vault_status(struct cli *cli, int argc, char **argv);
int cmd_vault_passwd(struct cli *cli, int argc, char **argv);
int cmd_vault_rotate(struct cli *cli, int argc, char **argv);
int cmd_vault_store(struct cli *cli, int argc, char **argv);
int cmd_vault_retrieve(struct cli *cli, int argc, char **argv);
int cmd_vault_list(struct cli *cli, int argc, char **argv);
int cmd_vault_delete(struct cli *cli, int argc, char **argv);
int cmd_vault_keygen(struct cli *cli, int argc, char **argv);
int cmd_vault_pubkey(struct cli *cli, int argc, char **argv);
int cmd_sign(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_audit_seal(struct cli *cli, int argc, char **argv);
/* cmd_vault.c, for audit verify: the log's seals under the public key
 * file pubkey (NULL: each seal's own key, from its vault). */
int cli_audit_seals(struct splq_ctx *ctx, const char *pubkey, int *seals, long long *bad,
                    struct splq_error *err);

#endif
