/* splq command line: the vault (vault ...), split signing (sign, verify)
 * and the audit log's seals (audit seal).  Passphrases are read here, on
 * the terminal with echo off, from a descriptor, from the environment or
 * as a key file, and go to the vault as they are; this process keeps
 * them only as long as the call takes, and wipes them. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SECRET_MAX    4096 /* a passphrase or a key file, at most */
#define DEFAULT_LOG2N 17   /* scrypt N = 2^17, r 8: 128 MiB, a fraction of a second */
#define ENV_PASS      "SPLQ_VAULT_PASSPHRASE"
#define ENV_NEW       "SPLQ_VAULT_NEW_PASSPHRASE"

/* Where a secret comes from (the options). */
struct secret_src {
	const char *key_file;
	int fd; /* --passphrase-fd, -1 for none */
};

struct secret {
	char buf[SECRET_MAX];
	size_t len;
	bool keyfile;
};

static void secret_wipe(struct secret *s)
{
	explicit_bzero(s->buf, sizeof(s->buf));
	s->len = 0;
}

/* One line from fd, without its newline (a whole short file too). */
static int read_line(int fd, struct secret *s, struct splq_error *err)
{
	s->len = 0;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return splq_fail_errno(err, SPLQ_E_USAGE, errno,
			                       "cannot read the passphrase");
		if (n == 0 || c == '\n')
			break;
		if (s->len == sizeof(s->buf))
			return splq_fail(err, SPLQ_E_VALUE, "a passphrase has at most %d bytes",
			                 SECRET_MAX);
		s->buf[s->len++] = c;
	}
	return 0;
}

/* A passphrase typed on the terminal, not echoed. */
static int read_tty(const char *prompt, struct secret *s, struct splq_error *err)
{
	cleanup_close int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios old, quiet;

	if (tty < 0 || tcgetattr(tty, &old) < 0)
		return splq_fail(err, SPLQ_E_USAGE,
		                 "no passphrase: no terminal to ask on; give --passphrase-fd N, "
		                 "--key-file FILE or " ENV_PASS);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* echo off first: what is typed as soon as the prompt shows stays unseen */
	tcsetattr(tty, TCSAFLUSH, &quiet);
	dprintf(tty, "%s", prompt);
	int rc = read_line(tty, s, err);
	tcsetattr(tty, TCSAFLUSH, &old);
	dprintf(tty, "\n");
	return rc;
}

/* The secret of src: a key file's bytes, a line of --passphrase-fd, the
 * environment variable env, or the terminal (asked twice when confirm). */
static int get_secret(const struct secret_src *src, const char *env, const char *prompt,
                      bool confirm, struct secret *s, struct splq_error *err)
{
	const char *e = env ? getenv(env) : NULL;

	s->keyfile = false;
	if (src->key_file) {
		cleanup_close int fd = open(src->key_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno,
			                       "cannot read key file '%s'", src->key_file);
		size_t n = 0;
		char more;
		for (ssize_t k = 1; k > 0 && n < sizeof(s->buf); n += (size_t)k)
			if ((k = read(fd, s->buf + n, sizeof(s->buf) - n)) < 0)
				return splq_fail_errno(err, SPLQ_E_VALUE, errno,
				                       "cannot read key file '%s'", src->key_file);
			else if (k == 0)
				break;
		if (n == sizeof(s->buf) && read(fd, &more, 1) > 0)
			return splq_fail(err, SPLQ_E_VALUE, "key file '%s' has more than %d bytes",
			                 src->key_file, SECRET_MAX);
		s->len = n;
		s->keyfile = true;
		return 0;
	}
	if (src->fd >= 0)
		return read_line(src->fd, s, err);
	if (e) {
		if (strlen(e) > sizeof(s->buf))
			return splq_fail(err, SPLQ_E_VALUE, "a passphrase has at most %d bytes",
			                 SECRET_MAX);
		s->len = strlen(e);
		memcpy(s->buf, e, s->len);
		return 0;
	}
	if (read_tty(prompt, s, err) < 0)
		return -1;
	if (confirm) {
		struct secret again;
		int rc = read_tty("Again: ", &again, err);
		bool same =
		    rc == 0 && again.len == s->len && memcmp(again.buf, s->buf, s->len) == 0;
		secret_wipe(&again);
		if (rc < 0)
			return -1;
		if (!same)
			return splq_fail(err, SPLQ_E_USAGE, "the passphrases differ");
	}
	return 0;
}

/* What every vault command parses: the vault (--qube V, or for those
 * that take no NAME the first operand), the secrets' sources. */
struct vault_args {
	const char *vault;
	const char *from_file, *to_file;
	struct secret_src src, old;
	unsigned log2n;
	int nargs;
	char **args;
};

enum {
	OPT_KEY_FILE = 0x200,
	OPT_PASS_FD,
	OPT_OLD_KEY_FILE,
	OPT_SCRYPT,
	OPT_FROM,
	OPT_TO,
};

/* Parse argv; names: how many NAME operands the command takes (0 or 1). */
static int vault_parse(struct cli *cli, int argc, char **argv, int names, struct vault_args *a)
{
	static const struct option opts[] = {
	    {"qube", required_argument, NULL, 'q'},
	    {"key-file", required_argument, NULL, OPT_KEY_FILE},
	    {"old-key-file", required_argument, NULL, OPT_OLD_KEY_FILE},
	    {"passphrase-fd", required_argument, NULL, OPT_PASS_FD},
	    {"scrypt-cost", required_argument, NULL, OPT_SCRYPT},
	    {"from-file", required_argument, NULL, OPT_FROM},
	    {"to-file", required_argument, NULL, OPT_TO},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	int c, rc;
	char *end;

	*a = (struct vault_args){.src.fd = -1, .old.fd = -1, .log2n = DEFAULT_LOG2N};
	while ((c = cli_getopt(cli, argc, argv, ":hq:", opts)) != -1) {
		switch (c) {
		case 'q':
			a->vault = optarg;
			break;
		case OPT_KEY_FILE:
			a->src.key_file = optarg;
			break;
		case OPT_OLD_KEY_FILE:
			a->old.key_file = optarg;
			break;
		case OPT_PASS_FD: {
			long fd = strtol(optarg, &end, 10);
			if (*end || fd < 0 || fd > 1023 || end == optarg)
				cli_arg_error(cli,
				              "--passphrase-fd takes a descriptor number, not '%s'",
				              optarg);
			a->src.fd = a->old.fd = (int)fd;
			break;
		}
		case OPT_SCRYPT: {
			long n = strtol(optarg, &end, 10);
			if (*end || n < 10 || n > 22 || end == optarg)
				cli_arg_error(cli, "--scrypt-cost takes log2 N, 10 to 22, not '%s'",
				              optarg);
			a->log2n = (unsigned)n;
			break;
		}
		case OPT_FROM:
			a->from_file = optarg;
			break;
		case OPT_TO:
			a->to_file = optarg;
			break;
		}
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	a->args = argv + optind;
	a->nargs = argc - optind;
	if (!a->vault && names == 0 && a->nargs == 1) {
		a->vault = a->args[0];
		a->nargs = 0;
	}
	if (!a->vault)
		return cli_usage(cli, "which vault? --qube VAULT");
	if (a->nargs != names)
		return names ? cli_usage(cli, "%s needs one NAME", cli->cmd)
		             : cli_usage(cli, "%s takes no operand '%s'", cli->cmd, a->args[0]);
	return -1;
}

/* What a vault command gives back besides success: text to print (not
 * with --json) and data for its JSON object (both may be NULL). */
struct vault_out {
	char *text;
	json_t *data;
};

/* One vault command once its arguments are parsed and the store is open. */
typedef int (*vault_fn)(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                        struct vault_out *out, struct splq_error *err);

/* Parse (names: how many NAME operands), open, run fn, report: the JSON
 * object names the vault (and NAME) and carries fn's data. */
static int vault_cmd(struct cli *cli, int argc, char **argv, int names, vault_fn fn)
{
	struct vault_args a;
	struct vault_out out = {0};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc;

	if ((rc = vault_parse(cli, argc, argv, names, &a)) >= 0)
		return rc;
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	rc = fn(cli, &ctx, &a, &out, &err);
	json_t *data = json_pack("{s:o}", "qube", cli_jstr(a.vault));
	if (names)
		json_object_set_new(data, "name", cli_jstr(a.args[0]));
	if (rc < 0) {
		json_decref(out.data);
		rc = cli_fail(cli, &err, data);
	} else {
		if (!cli->json && out.text)
			fputs(out.text, stdout);
		if (out.data)
			json_object_update(data, out.data);
		json_decref(out.data);
		rc = cli_ok(cli, data);
	}
	free(out.text);
	splq_ctx_close(&ctx);
	return rc;
}

static int do_init(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                   struct vault_out *out, struct splq_error *err)
{
	struct secret s;
	int rc = get_secret(&a->src, ENV_PASS, "New passphrase for the vault: ", true, &s, err);

	if (rc == 0 && !s.keyfile && s.len == 0)
		rc = splq_fail(err, SPLQ_E_VALUE, "the passphrase is empty");
	if (rc == 0) {
		struct splq_vault_secret vs = {s.buf, s.len, s.keyfile, a->log2n};
		rc = splq_op_vault_init(ctx, a->vault, &vs, err);
	}
	secret_wipe(&s);
	out->text = splq_strdup_printf("vault '%s' is ready, and unlocked\n", a->vault);
	return rc;
}

static int do_unlock(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	struct secret s;
	bool unlocked = false;

	/* an unlocked vault asks for nothing and stays as it is */
	int rc = splq_op_vault_status(ctx, a->vault, &unlocked, err);
	if (rc == 0 && !unlocked) {
		cleanup_free char *prompt =
		    splq_strdup_printf("Passphrase of vault '%s': ", a->vault);
		rc = get_secret(&a->src, ENV_PASS, prompt, false, &s, err);
		if (rc == 0)
			rc = splq_op_vault_unlock(ctx, a->vault, s.buf, s.len, err);
		secret_wipe(&s);
	}
	out->text = splq_strdup_printf(
	    unlocked ? "vault '%s' was unlocked already\n" : "vault '%s' is unlocked\n", a->vault);
	return rc;
}

static int do_lock(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                   struct vault_out *out, struct splq_error *err)
{
	out->text = splq_strdup_printf("vault '%s' is locked\n", a->vault);
	return splq_op_vault_lock(ctx, a->vault, err);
}

static int do_status(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	bool unlocked = false;

	if (splq_op_vault_status(ctx, a->vault, &unlocked, err) < 0)
		return -1;
	out->text = splq_xstrdup(unlocked ? "unlocked\n" : "locked\n");
	out->data = json_pack("{s:b}", "unlocked", unlocked);
	return 0;
}

static int do_passwd(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	struct secret old, s;

	secret_wipe(&s);
	int rc = get_secret(&a->old, ENV_PASS, "Current passphrase: ", false, &old, err);
	if (rc == 0)
		rc = get_secret(&a->src, ENV_NEW, "New passphrase: ", true, &s, err);
	if (rc == 0 && !s.keyfile && s.len == 0)
		rc = splq_fail(err, SPLQ_E_VALUE, "the new passphrase is empty");
	if (rc == 0) {
		struct splq_vault_secret vs = {s.buf, s.len, s.keyfile, a->log2n};
		rc = splq_op_vault_passwd(ctx, a->vault, old.buf, old.len, &vs, err);
	}
	secret_wipe(&old);
	secret_wipe(&s);
	out->text = splq_strdup_printf("vault '%s': its master key is sealed by the new %s\n",
	                               a->vault, a->src.key_file ? "key file" : "passphrase");
	return rc;
}

static int do_rotate(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	cleanup_free char *prompt = splq_strdup_printf("Passphrase of vault '%s': ", a->vault);
	struct secret s;
	int rc = get_secret(&a->src, ENV_PASS, prompt, false, &s, err);

	if (rc == 0)
		rc = splq_op_vault_rotate(ctx, a->vault, s.buf, s.len, err);
	secret_wipe(&s);
	out->text =
	    splq_strdup_printf("vault '%s': everything is under a new master key\n", a->vault);
	return rc;
}

static int do_store(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                    struct vault_out *out, struct splq_error *err)
{
	cleanup_close int fd = a->from_file ? open(a->from_file, O_RDONLY | O_CLOEXEC) : -1;

	if (a->from_file && fd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_VALUE, errno,
		                       "cannot read '%s'", a->from_file);
	return splq_op_vault_store(ctx, a->vault, a->args[0], fd >= 0 ? fd : STDIN_FILENO, err);
}

static int do_retrieve(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                       struct vault_out *out, struct splq_error *err)
{
	if (!a->to_file) {
		if (cli->json)
			return splq_fail(
			    err, SPLQ_E_USAGE,
			    "retrieve --json needs --to-file FILE: a value is not JSON");
		return splq_op_vault_retrieve(ctx, a->vault, a->args[0], STDOUT_FILENO, err);
	}
	/* whole or not at all: beside it, then renamed over it */
	cleanup_free char *tmp = splq_strdup_printf("%s.splq-%d.tmp", a->to_file, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_VALUE, errno, "cannot write '%s'", a->to_file);
	int rc = splq_op_vault_retrieve(ctx, a->vault, a->args[0], fd, err);
	if (rc == 0 && (fsync(fd) < 0 || rename(tmp, a->to_file) < 0))
		rc = splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot write '%s'", a->to_file);
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static void append_time(char **s, size_t *len, long long ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	splq_str_appendf(s, len, "%s\n", buf);
}

static int do_list(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                   struct vault_out *out, struct splq_error *err)
{
	struct splq_vault_item *v = NULL;
	size_t len = 0;
	int n = 0;

	if (splq_op_vault_list(ctx, a->vault, &v, &n, err) < 0)
		return -1;
	json_t *arr = json_array();
	splq_str_appendf(&out->text, &len, "%-24s %-6s %7s %10s  %s\n", "NAME", "KIND", "VERSION",
	                 "SIZE", "UPDATED");
	for (int i = 0; i < n; i++) {
		const char *kind = v[i].key ? "key" : "secret";
		json_array_append_new(
		    arr, json_pack("{s:o,s:s,s:I,s:I,s:I,s:I}", "name", cli_jstr(v[i].name), "kind",
		                   kind, "version", (json_int_t)v[i].version, "size",
		                   (json_int_t)v[i].size, "created", (json_int_t)v[i].created_ms,
		                   "updated", (json_int_t)v[i].updated_ms));
		splq_str_appendf(&out->text, &len, "%-24s %-6s %7llu %10llu  ", v[i].name, kind,
		                 v[i].version, v[i].size);
		append_time(&out->text, &len, v[i].updated_ms);
	}
	out->data = json_pack("{s:o}", "items", arr);
	splq_vault_items_free(v, n);
	return 0;
}

static int do_delete(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	return splq_op_vault_delete(ctx, a->vault, a->args[0], err);
}

/* keygen and pubkey: the public key file on stdout, in JSON publicKey. */
static int pub_out(char *pub, struct vault_out *out)
{
	out->data = json_pack("{s:o}", "publicKey", cli_jstr(pub));
	out->text = pub;
	return 0;
}

static int do_keygen(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	char *pub = NULL;

	if (splq_op_vault_keygen(ctx, a->vault, a->args[0], &pub, err) < 0)
		return -1;
	return pub_out(pub, out);
}

static int do_pubkey(struct cli *cli, struct splq_ctx *ctx, struct vault_args *a,
                     struct vault_out *out, struct splq_error *err)
{
	char *pub = NULL;

	if (splq_op_vault_pubkey(ctx, a->vault, a->args[0], &pub, err) < 0)
		return -1;
	return pub_out(pub, out);
}

int cmd_vault_init(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_init);
}

int cmd_vault_unlock(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_unlock);
}

int cmd_vault_lock(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_lock);
}

int cmd_vault_status(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_status);
}

int cmd_vault_passwd(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_passwd);
}

int cmd_vault_rotate(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_rotate);
}

int cmd_vault_store(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 1, do_store);
}

int cmd_vault_retrieve(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 1, do_retrieve);
}

int cmd_vault_list(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 0, do_list);
}

int cmd_vault_delete(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 1, do_delete);
}

int cmd_vault_keygen(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 1, do_keygen);
}

int cmd_vault_pubkey(struct cli *cli, int argc, char **argv)
{
	return vault_cmd(cli, argc, argv, 1, do_pubkey);
}

/* ---------- sign and verify ---------- */

int cmd_sign(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vault", required_argument, NULL, 'v'},
	    {"key", required_argument, NULL, 'k'},
	    {"trusted-comment", required_argument, NULL, 't'},
	    {"comment", required_argument, NULL, 'c'},
	    {"sig-file", required_argument, NULL, 'x'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	struct splq_sign_req req = {0};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	cleanup_free char *path = NULL;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, ":hv:k:t:c:x:", opts)) != -1) {
		if (c == 'v')
			req.vault = optarg;
		else if (c == 'k')
			req.key = optarg;
		else if (c == 't')
			req.trusted = optarg;
		else if (c == 'c')
			req.untrusted = optarg;
		else if (c == 'x')
			req.sigfile = optarg;
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (!req.vault || !req.key)
		return cli_usage(cli, "sign needs --vault VAULT and --key NAME");
	if (argc - optind != 1)
		return cli_usage(cli, "sign needs one FILE");
	req.file = argv[optind];
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_sign(&ctx, &req, &path, &err) < 0) {
		rc = cli_fail(cli, &err, json_pack("{s:o}", "file", cli_jstr(req.file)));
	} else {
		if (!cli->json)
			printf("%s\n", path);
		rc = cli_ok(cli, json_pack("{s:o,s:o}", "file", cli_jstr(req.file), "signature",
		                           cli_jstr(path)));
	}
	splq_ctx_close(&ctx);
	return rc;
}

/* A public key: a file's text, or (-P) the base64 line itself. */
static int pubkey_text(const char *file, const char *line, char **out, size_t *len,
                       struct splq_error *err)
{
	if (line) {
		*out = splq_xstrdup(line);
		*len = strlen(line);
		return 0;
	}
	if (splq_read_file(file, out, len, err) < 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "cannot read public key '%s'", file);
	return 0;
}

/* Needs no store: a signature is checked with what the caller gives. */
int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pubkey", required_argument, NULL, 'p'},
	    {"pubkey-line", required_argument, NULL, 'P'},
	    {"sig-file", required_argument, NULL, 'x'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *file_p = NULL, *line_p = NULL, *sigfile = NULL;
	struct splq_error err = {0};
	cleanup_free char *pk = NULL;
	cleanup_free char *trusted = NULL;
	size_t pklen = 0;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, ":hp:P:x:", opts)) != -1) {
		if (c == 'p')
			file_p = optarg;
		else if (c == 'P')
			line_p = optarg;
		else if (c == 'x')
			sigfile = optarg;
	}
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	if (!file_p == !line_p)
		return cli_usage(cli, "verify needs --pubkey FILE or -P PUBLIC_KEY (one of them)");
	if (argc - optind != 1)
		return cli_usage(cli, "verify needs one FILE");
	const char *file = argv[optind];
	if (pubkey_text(file_p, line_p, &pk, &pklen, &err) < 0 ||
	    splq_op_verify(pk, pklen, file, sigfile, &trusted, &err) < 0)
		return cli_fail(cli, &err, json_pack("{s:o}", "file", cli_jstr(file)));
	if (!cli->json)
		printf("Signature and comment signature verified\nTrusted comment: %s\n",
		       cli_one_line(trusted));
	return cli_ok(cli, json_pack("{s:o,s:o}", "file", cli_jstr(file), "trustedComment",
	                             cli_jstr(trusted)));
}

/* ---------- audit seal ---------- */

int cmd_audit_seal(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vault", required_argument, NULL, 'v'},
	    {"key", required_argument, NULL, 'k'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	const char *vault = NULL, *key = NULL;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	long long seq = 0;
	int c, rc;

	while ((c = cli_getopt(cli, argc, argv, ":hv:k:", opts)) != -1) {
		if (c == 'v')
			vault = optarg;
		else if (c == 'k')
			key = optarg;
	}
	if ((rc = cli_parse_end(cli)) >= 0 || (rc = cli_no_operands(cli, argc, argv)) >= 0)
		return rc;
	if (!vault || !key)
		return cli_usage(cli, "audit seal needs --vault VAULT and --key NAME");
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_audit_seal(&ctx, vault, key, &seq, &err) < 0) {
		rc = cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(vault)));
	} else {
		if (!cli->json)
			printf("audit log sealed at entry %lld by key '%s' of vault '%s'\n", seq,
			       key, vault);
		rc = cli_ok(cli, json_pack("{s:o,s:o,s:I}", "qube", cli_jstr(vault), "key",
		                           cli_jstr(key), "sealed", (json_int_t)seq));
	}
	splq_ctx_close(&ctx);
	return rc;
}

/* For audit verify: the seals, checked under the key given (or each
 * one's, from its vault). */
int cli_audit_seals(struct splq_ctx *ctx, const char *pubkey, int *seals, long long *bad,
                    struct splq_error *err)
{
	cleanup_free char *pk = NULL;
	size_t len = 0;

	if (pubkey && pubkey_text(pubkey, NULL, &pk, &len, err) < 0)
		return -1;
	return splq_op_audit_seals_verify(ctx, pk, len, seals, bad, err);
}
