/* splq: the vault, split signing and sealed audit (see ops.h).  Every
 * operation is a call from dom0 of one of the vault's qrexec services
 * (services/vault.h) under the policy: the host passes requests and
 * results, the vault qube does the cryptography (src/qube/vault.h).  A
 * file is hashed here, where it is; only its hash goes into the vault. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"
#include "formats/minisign.h"
#include "formats/vault.h"
#include "internal.h"
#include "services/vault.h"
#include "util.h"

#define CAPTURE_MAX (16u << 20) /* a captured stdout: a list, a key, a signature */

/* Everything in fd (a memfd, from its start), at most max bytes. */
/* Everything in fd (a memfd, read from its start), at most max bytes:
 * what a qube wrote is bounded before it is read. */
static int slurp(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	size_t n;

	*out = NULL;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > max ||
	    splq_read_fd(fd, out, &n, NULL, "an answer") < 0)
		return -1;
	if (len)
		*len = n;
	return 0;
}

/* The input of a call: a pipe holding in (or nothing), its write end
 * closed. */
static int input_pipe(const void *in, size_t len, struct splq_error *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	if (len > 65536 && fcntl(p[1], F_SETPIPE_SZ, (int)len) < (int)len) {
		close(p[0]);
		close(p[1]);
		return splq_fail(err, SPLQ_E_INTERNAL, "a request of %zu bytes does not fit a pipe",
		                 len);
	}
	int rc = len ? splq_write_all(p[1], in, len) : 0;
	close(p[1]);
	if (rc < 0) {
		close(p[0]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	}
	return p[0];
}

/* What one call of a vault service takes and gives. */
struct vcall {
	const char *service; /* SERVICE, without +ARG */
	const char *name;    /* its argument, or NULL */
	int in_fd;           /* its stdin; -1: the fields f (nf of them), or nothing */
	const void *const *f;
	const size_t *fl;
	int nf;
	int out_fd; /* its stdout; -1: captured into out, outlen */
	char *out;
	size_t outlen;
};

/* A call from dom0 of c->service in qube vault, as the policy allows
 * (a halted vault is started for it); c->name is checked first.  Fails
 * with the service's own code and message, or SPLQ_E_REFUSED.  The
 * fields, which may hold a passphrase, are wiped once they are sent. */
static int vault_call(struct splq_ctx *ctx, const char *vault, struct vcall *c,
                      struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_free char *full =
	    splq_strdup_printf("%s%s%s", c->service, c->name ? "+" : "", c->name ? c->name : "");
	cleanup_close int in = -1;
	cleanup_close int out = -1;
	cleanup_close int errfd = -1;
	cleanup_free char *msg = NULL;
	struct splq_call_decision d;
	char disp[SPLQ_NAME_MAX + 1] = "";
	int status = 0;

	c->out = NULL;
	c->outlen = 0;
	if ((c->name && splq_vault_name_check(c->name, err) < 0) ||
	    splq_ops_qube_get(ctx, vault, &q, err) < 0)
		return -1;
	if (strcmp(c->service, "splq.VaultInit") != 0 && !splq_ops_is_vault(ctx, q.name))
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not a vault (splq vault init %s)",
		                 q.name, q.name);
	if (splq_op_call_decide(ctx, DOM0, q.name, full, true, &d, err) < 0)
		return -1;
	if (!d.allowed)
		return splq_fail(err, SPLQ_E_REFUSED,
		                 "call of %s from 'dom0' to '%s' refused: %s%s%s", full, q.name,
		                 d.why, d.rule[0] ? " at " : "", d.rule);
	if (c->in_fd < 0) {
		size_t len = 0;
		uint8_t *fields = c->nf ? splq_vault_fields_encode(c->f, c->fl, c->nf, &len) : NULL;
		in = input_pipe(fields, len, err);
		if (fields)
			splq_wipe(fields, len);
		free(fields);
		if (in < 0)
			return -1;
	}
	if (c->out_fd < 0 && (out = memfd_create("splq-vault-out", MFD_CLOEXEC)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "memfd_create");
	if ((errfd = memfd_create("splq-vault-err", MFD_CLOEXEC)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "memfd_create");
	struct splq_exec x = {
	    .fds = {c->in_fd >= 0 ? c->in_fd : in, c->out_fd >= 0 ? c->out_fd : out, errfd},
	    /* a value shown on a terminal cannot drive it */
	    .filter = c->out_fd >= 0 ? -1 : 0,
	    .hangup_fd = -1};
	if (splq_op_call(ctx, DOM0, full, &d, &x, &status, disp, err) < 0)
		return -1;
	if (status == 0) {
		if (out >= 0 && slurp(out, CAPTURE_MAX, &c->out, &c->outlen) < 0)
			return splq_fail(err, SPLQ_E_INTERNAL, "%s in '%s': its answer is too long",
			                 full, q.name);
		return 0;
	}
	/* the service's one line: "splq-vault: MESSAGE" */
	if (slurp(errfd, 4096, &msg, NULL) < 0)
		msg = splq_xstrdup("");
	char *m = strstr(msg, "splq-vault: ");
	m = m ? m + 12 : msg;
	m[strcspn(m, "\n")] = 0;
	if (status == 127)
		return splq_fail(err, SPLQ_E_NOCMD, "qube '%s' has no service %s", q.name,
		                 c->service);
	if (status > 128 && !*m)
		return splq_fail(err, SPLQ_E_INTERNAL, "vault '%s': %s was killed (signal %d)",
		                 q.name, full, status - 128);
	return splq_fail(
	    err, status >= SPLQ_E_USAGE && status <= SPLQ_E_INTEGRITY ? status : SPLQ_E_INTERNAL,
	    "vault '%s': %s", q.name, *m ? m : "the service failed");
}

/* ---------- the vault ---------- */

/* How a secret seals the master key: the field HOW of the services. */
static char *how_of(const struct splq_vault_secret *s)
{
	return s->keyfile ? splq_xstrdup("keyfile") : splq_strdup_printf("scrypt:%u", s->log2n);
}

/* A call whose answer is only that it was done, audited as op with args. */
static int done_call(struct splq_ctx *ctx, const char *op, const char *vault, struct vcall *c,
                     const char *args, struct splq_error *err)
{
	ERR_GUARD(err);
	int rc = vault_call(ctx, vault, c, err);
	free(c->out);
	return splq_ops_audit_done(ctx, op, vault, args, NULL, rc, err);
}

int splq_op_vault_init(struct splq_ctx *ctx, const char *vault, const struct splq_vault_secret *s,
                       struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_free char *netvm = NULL;
	cleanup_free char *how = how_of(s);
	const void *f[2] = {how, s->data};
	size_t fl[2] = {strlen(how), s->len};
	struct vcall c = {
	    .service = "splq.VaultInit", .in_fd = -1, .out_fd = -1, .f = f, .fl = fl, .nf = 2};
	int rc = -1;

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, vault, &q, err) < 0)
		goto out;
	if (q.klass != SPLQ_CLASS_APPVM && q.klass != SPLQ_CLASS_STANDALONEVM) {
		splq_fail(err, SPLQ_E_VALUE,
		          "qube '%s' is a %s: a vault is an AppVM or StandaloneVM", q.name,
		          splq_class_name(q.klass));
		goto out;
	}
	if (splq_ops_is_vault(ctx, q.name)) {
		splq_fail(err, SPLQ_E_EXISTS, "qube '%s' is a vault already", q.name);
		goto out;
	}
	if (splq_ops_prop_get(ctx, &q, "netvm", &netvm, err) < 0)
		goto out;
	if (*netvm) {
		splq_fail(
		    err, SPLQ_E_STATE,
		    "qube '%s' has netvm '%s': a vault has no network (splq prefs %s netvm '')",
		    q.name, netvm, q.name);
		goto out;
	}
	/* no netvm, and none that a later default_netvm would bring */
	if (splq_store_begin(ctx->store, err) < 0)
		goto out;
	if (splq_store_prop_set(ctx->store, q.name, "netvm", "", err) < 0 ||
	    splq_store_feature_set(ctx->store, q.name, SPLQ_VAULT_FEATURE, "1", err) < 0 ||
	    splq_store_commit(ctx->store, err) < 0) {
		splq_store_rollback(ctx->store);
		goto out;
	}
	rc = vault_call(ctx, q.name, &c, err);
	free(c.out);
	if (rc < 0 && err->code != SPLQ_E_EXISTS) {
		struct splq_error ignored;
		splq_store_feature_remove(ctx->store, q.name, SPLQ_VAULT_FEATURE, &ignored);
	}
out:
	return splq_ops_audit_done(ctx, "vault-init", vault, how, NULL, rc, err);
}

int splq_op_vault_status(struct splq_ctx *ctx, const char *vault, bool *unlocked,
                         struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultStatus", .in_fd = -1, .out_fd = -1};

	if (vault_call(ctx, vault, &c, err) < 0)
		return -1;
	*unlocked = c.out && strcmp(c.out, "unlocked\n") == 0;
	free(c.out);
	return 0;
}

int splq_op_vault_unlock(struct splq_ctx *ctx, const char *vault, const void *secret, size_t len,
                         struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultUnlock",
	                  .in_fd = -1,
	                  .out_fd = -1,
	                  .f = (const void *[]){secret},
	                  .fl = (size_t[]){len},
	                  .nf = 1};

	return done_call(ctx, "vault-unlock", vault, &c, NULL, err);
}

int splq_op_vault_lock(struct splq_ctx *ctx, const char *vault, struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultLock", .in_fd = -1, .out_fd = -1};

	return done_call(ctx, "vault-lock", vault, &c, NULL, err);
}

int splq_op_vault_passwd(struct splq_ctx *ctx, const char *vault, const void *old, size_t oldlen,
                         const struct splq_vault_secret *s, struct splq_error *err)
{
	cleanup_free char *how = how_of(s);
	struct vcall c = {.service = "splq.VaultPasswd",
	                  .in_fd = -1,
	                  .out_fd = -1,
	                  .f = (const void *[]){old, how, s->data},
	                  .fl = (size_t[]){oldlen, strlen(how), s->len},
	                  .nf = 3};

	return done_call(ctx, "vault-passwd", vault, &c, how, err);
}

int splq_op_vault_rotate(struct splq_ctx *ctx, const char *vault, const void *secret, size_t len,
                         struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultRotate",
	                  .in_fd = -1,
	                  .out_fd = -1,
	                  .f = (const void *[]){secret},
	                  .fl = (size_t[]){len},
	                  .nf = 1};

	return done_call(ctx, "vault-rotate", vault, &c, NULL, err);
}

int splq_op_vault_store(struct splq_ctx *ctx, const char *vault, const char *name, int in_fd,
                        struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultStore", .name = name, .in_fd = in_fd, .out_fd = -1};

	return done_call(ctx, "vault-store", vault, &c, name, err);
}

int splq_op_vault_retrieve(struct splq_ctx *ctx, const char *vault, const char *name, int out_fd,
                           struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultGet", .name = name, .in_fd = -1, .out_fd = out_fd};

	return done_call(ctx, "vault-retrieve", vault, &c, name, err);
}

void splq_vault_items_free(struct splq_vault_item *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int splq_op_vault_list(struct splq_ctx *ctx, const char *vault, struct splq_vault_item **out,
                       int *n, struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultList", .in_fd = -1, .out_fd = -1};
	struct splq_vault_item *v = NULL;
	int count = 0;

	*out = NULL;
	*n = 0;
	if (vault_call(ctx, vault, &c, err) < 0)
		return -1;
	for (char *line = c.out, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char name[SPLQ_VAULT_NAME_MAX + 1], kind[8];
		struct splq_vault_item it = {0};
		if (sscanf(line, "%64[^\t]\t%7[^\t]\t%llu\t%llu\t%lld\t%lld", name, kind,
		           &it.version, &it.size, &it.created_ms, &it.updated_ms) != 6 ||
		    splq_vault_name_check(name, NULL) < 0)
			continue;
		it.name = splq_xstrdup(name);
		it.key = strcmp(kind, "key") == 0;
		v = realloc(v, (size_t)(count + 1) * sizeof(*v));
		if (!v)
			abort();
		v[count++] = it;
	}
	free(c.out);
	*out = v;
	*n = count;
	return 0;
}

int splq_op_vault_delete(struct splq_ctx *ctx, const char *vault, const char *name,
                         struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultDelete", .name = name, .in_fd = -1, .out_fd = -1};

	return done_call(ctx, "vault-delete", vault, &c, name, err);
}

int splq_op_vault_keygen(struct splq_ctx *ctx, const char *vault, const char *name, char **pub,
                         struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultKeygen", .name = name, .in_fd = -1, .out_fd = -1};

	ERR_GUARD(err);
	int rc = vault_call(ctx, vault, &c, err);
	*pub = rc == 0 ? c.out : NULL;
	return splq_ops_audit_done(ctx, "vault-keygen", vault, name, NULL, rc, err);
}

int splq_op_vault_pubkey(struct splq_ctx *ctx, const char *vault, const char *name, char **pub,
                         struct splq_error *err)
{
	struct vcall c = {.service = "splq.VaultPubkey", .name = name, .in_fd = -1, .out_fd = -1};

	*pub = NULL;
	if (vault_call(ctx, vault, &c, err) < 0)
		return -1;
	*pub = c.out;
	return 0;
}

/* ---------- split signing ---------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The vault's signature of hash, with comments. */
static int vault_sign(struct splq_ctx *ctx, const char *vault, const char *key,
                      const uint8_t hash[SPLQ_BLAKE2B], const char *trusted, const char *untrusted,
                      char **sig, struct splq_error *err)
{
	struct vcall c = {.service = "splq.Sign",
	                  .name = key,
	                  .in_fd = -1,
	                  .out_fd = -1,
	                  .f = (const void *[]){hash, trusted, untrusted},
	                  .fl = (size_t[]){SPLQ_BLAKE2B, strlen(trusted), strlen(untrusted)},
	                  .nf = 3};

	*sig = NULL;
	if (vault_call(ctx, vault, &c, err) < 0)
		return -1;
	*sig = c.out;
	return 0;
}

int splq_op_sign(struct splq_ctx *ctx, const struct splq_sign_req *req, char **sigpath,
                 struct splq_error *err)
{
	uint8_t hash[SPLQ_BLAKE2B];
	char hx[2 * SPLQ_BLAKE2B + 1] = "";
	cleanup_free char *trusted = NULL;
	cleanup_free char *sig = NULL;
	cleanup_free char *args = NULL;
	int rc = -1;

	ERR_GUARD(err);
	*sigpath =
	    req->sigfile ? splq_xstrdup(req->sigfile) : splq_strdup_printf("%s.minisig", req->file);
	cleanup_close int fd = open(req->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_VALUE, errno,
		                "cannot read '%s'", req->file);
		goto out;
	}
	if (splq_blake2b_fd(fd, hash) < 0) {
		splq_fail_errno(err, SPLQ_E_VALUE, errno, "cannot read '%s'", req->file);
		goto out;
	}
	hex(hash, 16, hx);
	trusted = req->trusted ? splq_xstrdup(req->trusted)
	                       : splq_minisign_trusted_default(req->file, (long long)time(NULL));
	if (vault_sign(ctx, req->vault, req->key, hash, trusted,
	               req->untrusted ? req->untrusted : SPLQ_MINISIGN_UNTRUSTED_DEFAULT, &sig,
	               err) < 0)
		goto out;
	/* what came out of a qube is written only once it is a signature */
	struct splq_minisign_sig parsed;
	struct splq_error why;
	if (splq_minisign_sig_parse(sig, strlen(sig), &parsed, &why) < 0) {
		splq_fail(err, SPLQ_E_INTEGRITY, "vault '%s' answered no signature: %s", req->vault,
		          why.msg);
		goto out;
	}
	rc = splq_write_file(*sigpath, sig, strlen(sig), 0644, err);
out:
	args = splq_strdup_printf("key=%s file=%s blake2b=%s...", req->key, req->file, hx);
	rc = splq_ops_audit_done(ctx, "sign", req->vault, args, NULL, rc, err);
	if (rc < 0) {
		free(*sigpath);
		*sigpath = NULL;
	}
	return rc;
}

int splq_op_verify(const char *pubkey_text, size_t pklen, const char *file, const char *sigfile,
                   char **trusted, struct splq_error *err)
{
	struct splq_minisign_key k;
	struct splq_minisign_sig s;
	cleanup_free char *sigtext = NULL;
	cleanup_free char *sigpath = sigfile ? NULL : splq_strdup_printf("%s.minisig", file);
	cleanup_free char *data = NULL;
	uint8_t hash[SPLQ_BLAKE2B];
	size_t len = 0;

	*trusted = NULL;
	if (splq_minisign_key_parse(pubkey_text, pklen, &k, err) < 0)
		return -1;
	if (splq_read_file(sigfile ? sigfile : sigpath, &sigtext, &len, err) < 0)
		return -1;
	if (splq_minisign_sig_parse(sigtext, len, &s, err) < 0)
		return -1;
	cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_VALUE, errno,
		                       "cannot read '%s'", file);
	if (s.prehashed) {
		if (splq_blake2b_fd(fd, hash) < 0)
			return splq_fail_errno(err, SPLQ_E_VALUE, errno, "cannot read '%s'", file);
	} else if (splq_read_fd(fd, &data, &len, err, file) < 0) {
		return -1;
	}
	if (splq_minisign_verify(&k, &s, hash, data, data ? len : 0, err) < 0)
		return -1;
	*trusted = splq_xstrdup(s.trusted);
	return 0;
}

/* ---------- sealed audit ---------- */

#define SEAL_OP "audit-seal"

/* What a seal of the chain up to entry seq (whose line hashes to head)
 * signs: this line, as the trusted comment and, hashed, as the file. */
static char *seal_text(long long seq, const char *head)
{
	return splq_strdup_printf("splq audit seal seq=%lld head=%s", seq, head);
}

int splq_op_audit_seal(struct splq_ctx *ctx, const char *vault, const char *key, long long *seq,
                       struct splq_error *err)
{
	struct splq_audit_entry *v = NULL;
	struct splq_minisign_sig s;
	cleanup_free char *sig = NULL;
	cleanup_free char *text = NULL;
	cleanup_free char *args = NULL;
	cleanup_free char *result = NULL;
	cleanup_free char *sig64 = NULL;
	cleanup_free char *global64 = NULL;
	uint8_t hash[SPLQ_BLAKE2B];
	char head[65];
	int n = 0, rc = -1;

	ERR_GUARD(err);
	*seq = 0;
	/* the head as the chain has it now: the hash of the last line */
	if (splq_audit_read(ctx->home, NULL, 0, &v, &n, err) < 0)
		goto out;
	if (n == 0) {
		splq_fail(err, SPLQ_E_STATE, "the audit log is empty: nothing to seal");
		goto out;
	}
	{
		cleanup_free char *line = splq_audit_format(&v[n - 1]);
		splq_sha256_hex(line, strlen(line), head);
	}
	*seq = v[n - 1].seq;
	text = seal_text(*seq, head);
	if (splq_blake2b(text, strlen(text), hash) < 0) {
		splq_fail(err, SPLQ_E_INTERNAL, "BLAKE2b failed");
		goto out;
	}
	if (vault_sign(ctx, vault, key, hash, text, "splq audit seal", &sig, err) < 0 ||
	    splq_minisign_sig_parse(sig, strlen(sig), &s, err) < 0)
		goto out;
	{
		uint8_t raw[2 + SPLQ_MINISIGN_KEYNUM + SPLQ_ED25519_SIG] = {'E', 'D'};
		memcpy(raw + 2, s.keynum, sizeof(s.keynum));
		memcpy(raw + 10, s.sig, sizeof(s.sig));
		sig64 = splq_base64_encode(raw, sizeof(raw));
	}
	global64 = splq_base64_encode(s.global, sizeof(s.global));
	args = splq_strdup_printf("key=%s seq=%lld head=%s", key, *seq, head);
	result = splq_strdup_printf("sealed sig=%s global=%s", sig64, global64);
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&v[i]);
	free(v);
	return splq_ops_audit_done(ctx, SEAL_OP, vault, args ? args : key, result, rc, err);
}

/* The seal e, checked: the chain's entry seq hashes to head (its
 * successor's prev says so, and the chain was checked), and the
 * signature of them holds under k (NULL: the key the seal names, from
 * its vault). */
static int seal_check(struct splq_ctx *ctx, const struct splq_audit_entry *v, int n, int i,
                      const struct splq_minisign_key *k, struct splq_error *err)
{
	const struct splq_audit_entry *e = &v[i];
	char key[SPLQ_VAULT_NAME_MAX + 1], head[65], sig64[128], global64[128];
	long long seq;
	struct splq_minisign_key vk;

	if (sscanf(e->args, "key=%64s seq=%lld head=%64s", key, &seq, head) != 3 ||
	    sscanf(e->result, "sealed sig=%127s global=%127s", sig64, global64) != 2)
		return splq_fail(err, SPLQ_E_AUDIT,
		                 "audit log: entry %lld: a seal that says nothing", e->seq);
	/* the entry after seq carries seq's hash as its prev */
	int at = -1;
	for (int j = 0; j < i; j++)
		if (v[j].seq == seq + 1)
			at = j;
	if (at < 0 || strcmp(v[at].prev, head) != 0)
		return splq_fail(err, SPLQ_E_AUDIT,
		                 "audit log: entry %lld: the seal of entry %lld does not match the "
		                 "log (history rewritten before the seal)",
		                 e->seq, seq);
	if (!k) {
		cleanup_free char *pub = NULL;
		if (splq_op_vault_pubkey(ctx, e->target, key, &pub, err) < 0 ||
		    splq_minisign_key_parse(pub, strlen(pub), &vk, err) < 0)
			return -1;
		k = &vk;
	}
	struct splq_minisign_sig s = {0};
	uint8_t raw[2 + SPLQ_MINISIGN_KEYNUM + SPLQ_ED25519_SIG + 1];
	cleanup_free char *text = seal_text(seq, head);
	uint8_t hash[SPLQ_BLAKE2B];
	if (splq_base64_decode(sig64, strlen(sig64), raw, sizeof(raw)) != sizeof(raw) - 1 ||
	    raw[0] != 'E' || raw[1] != 'D' ||
	    splq_base64_decode(global64, strlen(global64), s.global, sizeof(s.global)) !=
	        sizeof(s.global))
		return splq_fail(err, SPLQ_E_AUDIT, "audit log: entry %lld: a malformed seal",
		                 e->seq);
	s.prehashed = true;
	memcpy(s.keynum, raw + 2, sizeof(s.keynum));
	memcpy(s.sig, raw + 10, sizeof(s.sig));
	snprintf(s.trusted, sizeof(s.trusted), "%s", text);
	struct splq_error why = {0};
	if (splq_blake2b(text, strlen(text), hash) < 0 ||
	    splq_minisign_verify(k, &s, hash, NULL, 0, &why) < 0)
		return splq_fail(err, SPLQ_E_AUDIT,
		                 "audit log: entry %lld: the seal of entry %lld does not hold (%s)",
		                 e->seq, seq, why.msg);
	return 0;
}

int splq_op_audit_seals_verify(struct splq_ctx *ctx, const char *pubkey_text, size_t pklen,
                               int *seals, long long *bad_line, struct splq_error *err)
{
	struct splq_audit_entry *v = NULL;
	struct splq_minisign_key k;
	int n = 0, rc = 0;

	*seals = 0;
	*bad_line = 0;
	if (pubkey_text && splq_minisign_key_parse(pubkey_text, pklen, &k, err) < 0)
		return -1;
	if (splq_audit_read(ctx->home, NULL, 0, &v, &n, err) < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++) {
		if (!splq_ops_streq(v[i].op, SEAL_OP) || strncmp(v[i].result, "sealed ", 7) != 0)
			continue;
		if ((rc = seal_check(ctx, v, n, i, pubkey_text ? &k : NULL, err)) < 0)
			*bad_line = i + 1;
		else
			(*seals)++;
	}
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&v[i]);
	free(v);
	return rc;
}
