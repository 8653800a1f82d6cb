/* splq-qube: the vault's services, clients of its agent (see vault.h). */
#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "crypto.h"
#include "formats/minisign.h"
#include "formats/vault.h"
#include "util.h"

static const struct {
	const char *service;
	int op;
	bool named;  /* takes NAME, the call's argument */
	bool secret; /* brings a secret: may start the agent */
} services[] = {
    {"splq.VaultInit", SPLQ_VOP_INIT, false, true},
    {"splq.VaultUnlock", SPLQ_VOP_UNLOCK, false, true},
    {"splq.VaultLock", SPLQ_VOP_LOCK, false, false},
    {"splq.VaultStatus", SPLQ_VOP_STATUS, false, false},
    {"splq.VaultPasswd", SPLQ_VOP_PASSWD, false, true},
    {"splq.VaultRotate", SPLQ_VOP_ROTATE, false, true},
    {"splq.VaultStore", SPLQ_VOP_STORE, true, false},
    {"splq.VaultGet", SPLQ_VOP_GET, true, false},
    {"splq.VaultList", SPLQ_VOP_LIST, false, false},
    {"splq.VaultDelete", SPLQ_VOP_DELETE, true, false},
    {"splq.VaultKeygen", SPLQ_VOP_KEYGEN, true, false},
    {"splq.VaultPubkey", 0, true, false},
    {"splq.Sign", SPLQ_VOP_SIGN, true, false},
};

static int fail(const struct splq_error *err)
{
	fprintf(stderr, "splq-vault: %s\n", err->msg);
	return err->code ? err->code : SPLQ_E_INTERNAL;
}

/* The agent, started in the background: a session of its own, no
 * descriptor of the call's, the socket bound under a lock so that two
 * services starting it at once make one. */
static void agent_spawn(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return;
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return;
	}
	setsid();
	if (fork() != 0)
		_exit(0);
	syscall(SYS_close_range, 0, ~0U, 0);
	int null = open("/dev/null", O_RDWR);
	if (null != 0 || dup2(0, 1) < 0 || dup2(0, 2) < 0)
		_exit(1);
	umask(077);
	if ((mkdir(SPLQ_VAULT_RUN, 0700) < 0 && errno != EEXIST) || chmod(SPLQ_VAULT_RUN, 0700) < 0)
		_exit(1);
	int lock = open(SPLQ_VAULT_RUN "/lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		_exit(0); /* another is starting, or running */
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", SPLQ_VAULT_AGENT);
	unlink(SPLQ_VAULT_AGENT);
	if (sock < 0 || bind(sock, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(sock, 16) < 0)
		_exit(1);
	splq_vault_agent(sock);
}

/* A connection to the agent; with start, one is started when none runs. */
static int agent_connect(bool start, struct splq_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", SPLQ_VAULT_AGENT);
	for (int i = 0; i < 1000; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		int e = errno;
		close(fd);
		if (e != ENOENT && e != ECONNREFUSED)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, e,
			                       "cannot reach the vault's agent");
		if (!start)
			return splq_fail(err, SPLQ_E_VAULT_LOCKED,
			                 "the vault is locked (splq vault unlock)");
		if (i == 0)
			agent_spawn();
		poll(NULL, 0, 2);
	}
	return splq_fail(err, SPLQ_E_INTERNAL, "the vault's agent did not start");
}

/* All of stdin, at most max bytes. */
static int read_stdin(uint8_t **out, size_t *len, size_t max, struct splq_error *err)
{
	/* room for a value of 1 MiB from the start: pages are touched only as
	 * they fill */
	size_t cap = (1u << 20) + 4096, n = 0;
	uint8_t *buf = splq_xmalloc(cap);

	for (;;) {
		if (n == cap) {
			if (cap > max) {
				splq_wipe(buf, n);
				free(buf);
				return splq_fail(err, SPLQ_E_VALUE, "a value has at most %u MiB",
				                 SPLQ_VAULT_SECRET_MAX >> 20);
			}
			/* never more than one byte past max: that byte says too much */
			size_t grown = cap * 2 < max + 1 ? cap * 2 : max + 1;
			uint8_t *bigger = splq_xmalloc(grown);
			memcpy(bigger, buf, n);
			splq_wipe(buf, n);
			free(buf);
			buf = bigger;
			cap = grown;
		}
		ssize_t k = read(STDIN_FILENO, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			splq_wipe(buf, n);
			free(buf);
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot read the request");
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > max) {
		splq_wipe(buf, n);
		free(buf);
		return splq_fail(err, SPLQ_E_VALUE, "a value has at most %u MiB",
		                 SPLQ_VAULT_SECRET_MAX >> 20);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The public key of NAME, from the vault's files: no secret, no agent. */
static int pubkey(const char *name)
{
	struct splq_error err = {0};
	cleanup_free char *path = splq_strdup_printf("%s/pub/%s.pub", SPLQ_VAULT_DIR, name);
	cleanup_free char *text = NULL;
	size_t len;

	if (!splq_path_exists(SPLQ_VAULT_DIR))
		return fail(&(struct splq_error){SPLQ_E_STATE,
		                                 "this qube is not a vault (splq vault init)"});
	if (splq_read_file(path, &text, &len, &err) < 0) {
		splq_fail(&err, SPLQ_E_NOTFOUND, "no signing key '%s' in the vault", name);
		return fail(&err);
	}
	return splq_write_all(STDOUT_FILENO, text, len) < 0 ? SPLQ_E_NOSPACE : 0;
}

/* The reply's bytes, to stdout as they come: -1 when the agent's end
 * stopped short, -2 when stdout's reader went away. */
static int relay_out(int conn, uint64_t length)
{
	char buf[65536];

	/* into a pipe (a qrexec call's stdout), without a copy here */
	while (length > 0) {
		ssize_t k = splice(conn, NULL, STDOUT_FILENO, NULL,
		                   length < (1u << 20) ? length : 1u << 20, SPLICE_F_MORE);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EPIPE)
			return -2;
		if (k < 0)
			break; /* stdout is no pipe: copy below */
		if (k == 0)
			return -1;
		length -= (uint64_t)k;
	}
	while (length > 0) {
		ssize_t k = read(conn, buf, length < sizeof(buf) ? length : sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		if (splq_write_all(STDOUT_FILENO, buf, (size_t)k) < 0)
			return -2;
		length -= (uint64_t)k;
	}
	splq_wipe(buf, sizeof(buf));
	return 0;
}

int splq_vault_service(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *arg = getenv("QREXEC_SERVICE_ARGUMENT");
	struct splq_error err = {0};
	struct splq_vault_req req = {.magic = SPLQ_VAULT_REQ_MAGIC};
	struct splq_vault_rep rep;
	uint8_t *in = NULL;
	size_t inlen = 0;
	int s = -1;

	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(self, services[i].service) == 0)
			s = (int)i;
	if (s < 0)
		return fail(&(struct splq_error){SPLQ_E_USAGE, "not a vault service"});
	if (geteuid() != 0)
		return fail(&(struct splq_error){SPLQ_E_PERM, "a vault service runs as root"});
	if (!arg)
		arg = argc > 1 ? argv[1] : "";
	if (services[s].named) {
		if (splq_vault_name_check(arg, &err) < 0)
			return fail(&err);
		snprintf(req.name, sizeof(req.name), "%s", arg);
	}
	if (services[s].op == 0)
		return pubkey(arg);
	if (services[s].op != SPLQ_VOP_INIT && !splq_path_exists(SPLQ_VAULT_DIR))
		return fail(&(struct splq_error){SPLQ_E_STATE,
		                                 "this qube is not a vault (splq vault init)"});
	if (read_stdin(&in, &inlen, SPLQ_VAULT_SECRET_MAX + 65536, &err) < 0)
		return fail(&err);
	int conn = agent_connect(services[s].secret, &err);
	if (conn < 0 && services[s].op == SPLQ_VOP_STATUS) {
		splq_wipe(in, inlen);
		free(in);
		return splq_write_all(STDOUT_FILENO, "locked\n", 7) < 0 ? SPLQ_E_NOSPACE : 0;
	}
	if (conn < 0) {
		splq_wipe(in, inlen);
		free(in);
		return fail(&err);
	}
	req.op = (uint32_t)services[s].op;
	req.length = inlen;
	struct splq_sigpipe sp;
	splq_sigpipe_hold(&sp);
	int rc = splq_write_all(conn, &req, sizeof(req)) < 0 ||
	                 (inlen && splq_write_all(conn, in, inlen) < 0)
	             ? -1
	             : 0;
	splq_wipe(in, inlen);
	free(in);
	if (rc == 0)
		rc = splq_read_all(conn, &rep, sizeof(rep));
	if (rc == 0)
		rc = relay_out(conn, rep.length);
	splq_sigpipe_release(&sp);
	close(conn);
	if (rc == -2)
		return fail(&(struct splq_error){SPLQ_E_NOSPACE, "the answer's reader went away"});
	if (rc < 0)
		return fail(&(struct splq_error){SPLQ_E_INTERNAL,
		                                 "the vault's agent ended without an answer"});
	rep.msg[sizeof(rep.msg) - 1] = 0;
	if (rep.code != 0) {
		fprintf(stderr, "splq-vault: %s\n", rep.msg);
		return rep.code > 0 && rep.code < 126 ? rep.code : SPLQ_E_INTERNAL;
	}
	return 0;
}

/* ---------- splq-sign ---------- */

static int sign_usage(void)
{
	fputs("usage: splq-sign [-t TRUSTED_COMMENT] [-c COMMENT] [-x SIGFILE] VAULT KEY FILE\n",
	      stderr);
	return 2;
}

int splq_sign(int argc, char **argv)
{
	const char *trusted = NULL, *untrusted = SPLQ_MINISIGN_UNTRUSTED_DEFAULT, *sigfile = NULL;
	struct splq_error err = {0};
	uint8_t hash[SPLQ_BLAKE2B];
	int i = 1;

	for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] && !argv[i][2]; i += 2) {
		if (argv[i][1] == 't')
			trusted = argv[i + 1];
		else if (argv[i][1] == 'c')
			untrusted = argv[i + 1];
		else if (argv[i][1] == 'x')
			sigfile = argv[i + 1];
		else
			return sign_usage();
	}
	if (argc - i != 3)
		return sign_usage();
	const char *vault = argv[i], *key = argv[i + 1], *file = argv[i + 2];
	if (splq_vault_name_check(key, &err) < 0) {
		fprintf(stderr, "splq-sign: %s\n", err.msg);
		return 2;
	}
	cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || splq_blake2b_fd(fd, hash) < 0) {
		fprintf(stderr, "splq-sign: cannot read '%s': %s\n", file, strerror(errno));
		return 1;
	}
	cleanup_free char *dflt = splq_minisign_trusted_default(file, (long long)time(NULL));
	if (!trusted)
		trusted = dflt;
	cleanup_free char *path =
	    sigfile ? splq_xstrdup(sigfile) : splq_strdup_printf("%s.minisig", file);
	cleanup_free char *tmp = splq_strdup_printf("%s.%d.tmp", path, (int)getpid());
	const void *f[3] = {hash, trusted, untrusted};
	size_t fl[3] = {SPLQ_BLAKE2B, strlen(trusted), strlen(untrusted)};
	size_t len;
	cleanup_free uint8_t *req = splq_vault_fields_encode(f, fl, 3, &len);

	/* the call, in a child of this process: the request on its stdin,
	 * the signature into a file beside the final one */
	int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int p[2];
	if (out < 0 || pipe(p) < 0) {
		fprintf(stderr, "splq-sign: cannot write '%s': %s\n", tmp, strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (dup2(p[0], 0) < 0 || dup2(out, 1) < 0)
			_exit(125);
		cleanup_free char *svc = splq_strdup_printf("splq.Sign+%s", key);
		char *cargv[] = {"qrexec-client-vm", "--", (char *)vault, svc, NULL};
		_exit(splq_qrexec_client_vm(4, cargv));
	}
	close(p[0]);
	struct splq_sigpipe sp;
	splq_sigpipe_hold(&sp);
	(void)!splq_write_all(p[1], req, len);
	close(p[1]);
	splq_sigpipe_release(&sp);
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	int rc = pid > 0 ? splq_exit_code(st) : 125;
	cleanup_free char *text = NULL;
	struct splq_minisign_sig sig;
	if (rc == 0 && (fsync(out) < 0 || splq_read_file(tmp, &text, &len, &err) < 0 ||
	                splq_minisign_sig_parse(text, len, &sig, &err) < 0)) {
		fprintf(stderr, "splq-sign: the vault's answer is not a signature: %s\n", err.msg);
		rc = 1;
	}
	close(out);
	if (rc == 0 && rename(tmp, path) < 0) {
		fprintf(stderr, "splq-sign: cannot write '%s': %s\n", path, strerror(errno));
		rc = 1;
	}
	if (rc != 0)
		unlink(tmp);
	else
		printf("%s\n", path);
	return rc;
}
