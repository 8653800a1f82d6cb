/* splq-qube: the vault's agent, the one process that holds the master key
 * (see vault.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/minisign.h"
#include "formats/vault.h"
#include "tree.h"
#include "util.h"
#include "vault.h"
#include "vault_files.h"

struct agent {
	bool unlocked;
	uint8_t *mk; /* SPLQ_AES_KEY bytes in a page of their own, locked */
	uint32_t gen;
};

/* What one request asks, and what it answers: out (malloc'ed, wiped
 * before it is freed) for stdout. */
struct request {
	const struct splq_vault_req *req;
	const uint8_t *in;
	size_t inlen;
	uint8_t *out;
	size_t outlen;
	char msg[200];
};

static void wipe_free(void *p, size_t n)
{
	if (p)
		splq_wipe(p, n);
	free(p);
}

/* ---------- the operations ---------- */

static int need_unlocked(const struct agent *a, struct splq_error *err)
{
	if (!a->unlocked)
		return splq_fail(err, SPLQ_E_VAULT_LOCKED,
		                 "the vault is locked (splq vault unlock)");
	return 0;
}

/* The fields of the request's input: exactly n of them. */
static int fields(const struct request *r, const uint8_t **f, size_t *flen, int n,
                  struct splq_error *err)
{
	if (splq_vault_fields_decode(r->in, r->inlen, f, flen, n) != n)
		return splq_fail(err, SPLQ_E_VALUE, "the request does not hold %d fields", n);
	return 0;
}

static void set_key(struct agent *a, const uint8_t mk[SPLQ_AES_KEY], uint32_t gen)
{
	memcpy(a->mk, mk, SPLQ_AES_KEY);
	a->gen = gen;
	a->unlocked = true;
}

/* A request that brings the secret as its first of n fields: the
 * fields, the vault's folder (*d) and current generation (*g, both to
 * close), and the master key opened with the secret. */
static int secret_open(const struct request *r, int n, const uint8_t **f, size_t *fl, int *d,
                       int *g, struct splq_vault_master *m, uint8_t mk[SPLQ_AES_KEY],
                       struct splq_error *err)
{
	*d = *g = -1;
	if (fields(r, f, fl, n, err) < 0 || (*d = splq_vfile_data_dir(err)) < 0 ||
	    (*g = splq_vfile_gen_dir(*d, err)) < 0)
		return -1;
	return splq_vfile_master_open(*g, f[0], fl[0], m, mk, err);
}

static int op_init(struct agent *a, struct request *r, struct splq_error *err)
{
	static const char tmp[] = SPLQ_VAULT_DIR ".new";
	const uint8_t *f[2];
	size_t fl[2];
	struct splq_vault_master m = {.generation = 1};
	struct splq_vfile_index ix = {0};
	cleanup_close int home = -1;
	uint8_t mk[SPLQ_AES_KEY];
	int rc = -1;

	if (fields(r, f, fl, 2, err) < 0 || splq_vfile_parse_how(f[0], fl[0], &m, err) < 0)
		return -1;
	if (splq_path_exists(SPLQ_VAULT_DIR))
		return splq_fail(err, SPLQ_E_EXISTS, "this qube is a vault already");
	if (splq_rm_rf(tmp, err) < 0)
		return -1;
	if (mkdir(tmp, 0700) < 0)
		return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot make %s", tmp);
	cleanup_close int d = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0 || mkdirat(d, "g1", 0700) < 0 || mkdirat(d, "g1/r", 0700) < 0 ||
	    mkdirat(d, "pub", 0755) < 0 || symlinkat("g1", d, "current") < 0)
		return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot make %s", tmp);
	cleanup_close int g = openat(d, "g1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (splq_random(mk, sizeof(mk)) < 0) {
		splq_fail(err, SPLQ_E_INTERNAL, "no random bytes");
		goto out;
	}
	if (splq_vfile_master_write(g, &m, f[1], fl[1], mk, err) < 0 ||
	    splq_vfile_index_save(g, mk, 1, &ix, err) < 0)
		goto out;
	if (fsync(d) < 0 || rename(tmp, SPLQ_VAULT_DIR) < 0) {
		splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot make %s", SPLQ_VAULT_DIR);
		goto out;
	}
	home = open("/home", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home >= 0)
		fsync(home);
	set_key(a, mk, 1);
	rc = 0;
out:
	splq_wipe(mk, sizeof(mk));
	if (rc < 0) {
		struct splq_error ignored;
		splq_rm_rf(tmp, &ignored);
	}
	return rc;
}

static int op_unlock(struct agent *a, struct request *r, struct splq_error *err)
{
	const uint8_t *f[1];
	size_t fl[1];
	struct splq_vault_master m;
	struct splq_vfile_index ix = {0};
	uint8_t mk[SPLQ_AES_KEY];
	cleanup_close int d = -1;
	cleanup_close int g = -1;

	if (a->unlocked) {
		snprintf(r->msg, sizeof(r->msg), "already unlocked");
		return 0;
	}
	int rc = secret_open(r, 1, f, fl, &d, &g, &m, mk, err);
	/* the index must open under it, or nothing would */
	if (rc == 0)
		rc = splq_vfile_index_load(g, mk, m.generation, &ix, err);
	if (rc == 0)
		set_key(a, mk, m.generation);
	free(ix.e);
	splq_wipe(mk, sizeof(mk));
	return rc;
}

static int op_passwd(struct agent *a, struct request *r, struct splq_error *err)
{
	const uint8_t *f[3];
	size_t fl[3];
	struct splq_vault_master m, n;
	uint8_t mk[SPLQ_AES_KEY];
	cleanup_close int d = -1;
	cleanup_close int g = -1;

	int rc = secret_open(r, 3, f, fl, &d, &g, &m, mk, err);
	n = m;
	if (rc == 0)
		rc = splq_vfile_parse_how(f[1], fl[1], &n, err);
	if (rc == 0)
		rc = splq_vfile_master_write(g, &n, f[2], fl[2], mk, err);
	splq_wipe(mk, sizeof(mk));
	return rc;
}

static int op_rotate(struct agent *a, struct request *r, struct splq_error *err)
{
	const uint8_t *f[1];
	size_t fl[1];
	struct splq_vault_master m;
	struct splq_vfile_index ix = {0}, nx = {0};
	uint8_t old[SPLQ_AES_KEY], mk[SPLQ_AES_KEY];
	char name[16], oldname[16];
	cleanup_close int d = -1;
	cleanup_close int g = -1;
	cleanup_close int ng = -1;
	int rc = -1;

	if (secret_open(r, 1, f, fl, &d, &g, &m, old, err) < 0)
		return -1;
	if (splq_vfile_index_load(g, old, m.generation, &ix, err) < 0 ||
	    splq_random(mk, sizeof(mk)) < 0)
		goto out;
	uint32_t gen = m.generation + 1;
	snprintf(oldname, sizeof(oldname), "g%u", m.generation);
	snprintf(name, sizeof(name), "g%u", gen);
	/* a generation left half-made by a rotate that was cut short goes */
	{
		cleanup_free char *path = splq_strdup_printf("%s/%s", SPLQ_VAULT_DIR, name);
		struct splq_error ignored;
		splq_rm_rf(path, &ignored);
	}
	if (mkdirat(d, name, 0700) < 0) {
		splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot make the vault's '%s'", name);
		goto out;
	}
	ng = openat(d, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ng < 0 || mkdirat(ng, "r", 0700) < 0) {
		splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot make the vault's '%s'", name);
		goto out;
	}
	nx.e = splq_xcalloc(ix.n ? ix.n : 1, sizeof(*nx.e));
	nx.serial = ix.serial;
	for (size_t i = 0; i < ix.n; i++) {
		uint8_t *v;
		size_t vn;
		if (splq_vfile_record_read(g, old, m.generation, &ix.e[i], &v, &vn, err) < 0)
			goto out;
		nx.e[nx.n] = ix.e[i];
		int w = splq_vfile_record_write(ng, mk, gen, &nx.e[nx.n], v, vn, err);
		wipe_free(v, vn);
		if (w < 0)
			goto out;
		nx.n++;
	}
	m.generation = gen;
	if (splq_vfile_index_save(ng, mk, gen, &nx, err) < 0 ||
	    splq_vfile_master_write(ng, &m, f[0], fl[0], mk, err) < 0)
		goto out;
	/* the switch: one rename */
	unlinkat(d, ".current.new", 0);
	if (symlinkat(name, d, ".current.new") < 0 ||
	    renameat(d, ".current.new", d, "current") < 0 || fsync(d) < 0) {
		splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot switch the vault to '%s'",
		                name);
		goto out;
	}
	set_key(a, mk, gen);
	{
		cleanup_free char *path = splq_strdup_printf("%s/%s", SPLQ_VAULT_DIR, oldname);
		struct splq_error ignored;
		splq_rm_rf(path, &ignored);
	}
	snprintf(r->msg, sizeof(r->msg), "%zu records under master key %u", nx.n, gen);
	rc = 0;
out:
	free(ix.e);
	free(nx.e);
	splq_wipe(old, sizeof(old));
	splq_wipe(mk, sizeof(mk));
	return rc;
}

/* The index of the unlocked vault, and its generation's directory. */
static int open_index(struct agent *a, int *g, struct splq_vfile_index *ix, struct splq_error *err)
{
	*g = -1;
	memset(ix, 0, sizeof(*ix));
	if (need_unlocked(a, err) < 0)
		return -1;
	cleanup_close int d = splq_vfile_data_dir(err);
	if (d < 0 || (*g = splq_vfile_gen_dir(d, err)) < 0)
		return -1;
	return splq_vfile_index_load(*g, a->mk, a->gen, ix, err);
}

static int check_name(const struct request *r, struct splq_error *err)
{
	return splq_vault_name_check(r->req->name, err);
}

/* A new version of an entry: the old one's record goes once the index no
 * longer names it. */
static int put_entry(struct agent *a, int g, struct splq_vfile_index *ix,
                     struct splq_vault_entry *e, const void *value, size_t n,
                     struct splq_error *err)
{
	struct splq_vault_entry *old = splq_vfile_index_find(ix, e->name);
	uint8_t old_id[SPLQ_VAULT_ID];
	long long now = splq_wall_ms();

	e->version = old ? old->version + 1 : 1;
	e->created_ms = old ? old->created_ms : now;
	e->updated_ms = now;
	if (splq_vfile_record_write(g, a->mk, a->gen, e, value, n, err) < 0)
		return -1;
	if (old) {
		memcpy(old_id, old->id, sizeof(old_id));
		*old = *e;
	} else {
		ix->e = realloc(ix->e, (ix->n + 1) * sizeof(*ix->e));
		if (!ix->e)
			abort();
		ix->e[ix->n++] = *e;
	}
	char path[32];
	if (splq_vfile_index_save(g, a->mk, a->gen, ix, err) < 0) {
		splq_vfile_record_path(e->id, path);
		unlinkat(g, path, 0);
		return -1;
	}
	if (old) {
		splq_vfile_record_path(old_id, path);
		unlinkat(g, path, 0);
	}
	return 0;
}

static int op_store(struct agent *a, struct request *r, struct splq_error *err)
{
	struct splq_vfile_index ix;
	int g;
	int rc = -1;

	if (check_name(r, err) < 0)
		return -1;
	if (r->inlen > SPLQ_VAULT_SECRET_MAX)
		return splq_fail(err, SPLQ_E_VALUE, "a value has at most %u MiB",
		                 SPLQ_VAULT_SECRET_MAX >> 20);
	if (open_index(a, &g, &ix, err) == 0) {
		struct splq_vault_entry *old = splq_vfile_index_find(&ix, r->req->name);
		struct splq_vault_entry e = {.kind = SPLQ_VAULT_SECRET};
		snprintf(e.name, sizeof(e.name), "%.*s", SPLQ_VAULT_NAME_MAX, r->req->name);
		if (old && old->kind != SPLQ_VAULT_SECRET)
			splq_fail(err, SPLQ_E_EXISTS, "'%s' is a signing key", e.name);
		else if (put_entry(a, g, &ix, &e, r->in, r->inlen, err) == 0) {
			snprintf(r->msg, sizeof(r->msg), "version %llu",
			         (unsigned long long)e.version);
			rc = 0;
		}
	}
	free(ix.e);
	if (g >= 0)
		close(g);
	return rc;
}

/* The entry name of kind in the index of the unlocked vault, read. */
static int get_entry(struct agent *a, const char *name, int kind, uint8_t **value, size_t *n,
                     struct splq_error *err)
{
	struct splq_vfile_index ix;
	int g, rc = -1;

	*value = NULL;
	if (open_index(a, &g, &ix, err) == 0) {
		struct splq_vault_entry *e = splq_vfile_index_find(&ix, name);
		if (!e || e->kind != kind)
			splq_fail(err, SPLQ_E_NOTFOUND, "no %s '%s' in the vault",
			          kind == SPLQ_VAULT_SECRET ? "secret" : "signing key", name);
		else
			rc = splq_vfile_record_read(g, a->mk, a->gen, e, value, n, err);
	}
	free(ix.e);
	if (g >= 0)
		close(g);
	return rc;
}

static int op_get(struct agent *a, struct request *r, struct splq_error *err)
{
	if (check_name(r, err) < 0)
		return -1;
	return get_entry(a, r->req->name, SPLQ_VAULT_SECRET, &r->out, &r->outlen, err);
}

static int op_list(struct agent *a, struct request *r, struct splq_error *err)
{
	struct splq_vfile_index ix;
	int g;
	char *s = NULL;
	size_t len = 0;

	if (open_index(a, &g, &ix, err) < 0) {
		free(ix.e);
		if (g >= 0)
			close(g);
		return -1;
	}
	close(g);
	splq_str_appendf(&s, &len, "%s", "");
	for (size_t i = 0; i < ix.n; i++) {
		const struct splq_vault_entry *e = &ix.e[i];
		splq_str_appendf(&s, &len, "%s\t%s\t%llu\t%llu\t%lld\t%lld\n", e->name,
		                 e->kind == SPLQ_VAULT_SECRET ? "secret" : "key",
		                 (unsigned long long)e->version, (unsigned long long)e->size,
		                 (long long)e->created_ms, (long long)e->updated_ms);
	}
	free(ix.e);
	r->out = (uint8_t *)s;
	r->outlen = len;
	return 0;
}

static int op_delete(struct agent *a, struct request *r, struct splq_error *err)
{
	struct splq_vfile_index ix;
	int g, rc = -1;

	if (check_name(r, err) < 0)
		return -1;
	if (open_index(a, &g, &ix, err) == 0) {
		struct splq_vault_entry *e = splq_vfile_index_find(&ix, r->req->name);
		if (!e) {
			splq_fail(err, SPLQ_E_NOTFOUND, "no secret or key '%s' in the vault",
			          r->req->name);
		} else {
			struct splq_vault_entry gone = *e;
			*e = ix.e[--ix.n];
			if (splq_vfile_index_save(g, a->mk, a->gen, &ix, err) == 0) {
				char path[32];
				splq_vfile_record_path(gone.id, path);
				unlinkat(g, path, 0);
				if (gone.kind == SPLQ_VAULT_SIGNKEY) {
					cleanup_close int p = splq_vfile_pub_dir(err);
					cleanup_free char *pub =
					    splq_strdup_printf("%s.pub", gone.name);
					if (p >= 0)
						unlinkat(p, pub, 0);
				}
				rc = 0;
			}
		}
	}
	free(ix.e);
	if (g >= 0)
		close(g);
	return rc;
}

static int op_keygen(struct agent *a, struct request *r, struct splq_error *err)
{
	struct splq_vfile_index ix;
	struct splq_minisign_key k;
	uint8_t value[SPLQ_MINISIGN_KEYNUM + SPLQ_ED25519_SEED];
	int g, rc = -1;

	if (check_name(r, err) < 0)
		return -1;
	if (open_index(a, &g, &ix, err) == 0) {
		struct splq_vault_entry e = {.kind = SPLQ_VAULT_SIGNKEY};
		snprintf(e.name, sizeof(e.name), "%.*s", SPLQ_VAULT_NAME_MAX, r->req->name);
		if (splq_vfile_index_find(&ix, e.name)) {
			splq_fail(err, SPLQ_E_EXISTS, "'%s' is in the vault already", e.name);
		} else if (splq_random(k.keynum, sizeof(k.keynum)) < 0 ||
		           splq_ed25519_keypair(value + SPLQ_MINISIGN_KEYNUM, k.pub) < 0) {
			splq_fail(err, SPLQ_E_INTERNAL, "cannot make an Ed25519 key");
		} else {
			memcpy(value, k.keynum, sizeof(k.keynum));
			cleanup_free char *pub = splq_minisign_key_format(&k);
			cleanup_free char *file = splq_strdup_printf("%s.pub", e.name);
			cleanup_close int p = splq_vfile_pub_dir(err);
			if (p >= 0 && put_entry(a, g, &ix, &e, value, sizeof(value), err) == 0 &&
			    splq_vfile_write_at(p, file, pub, strlen(pub), err) == 0) {
				r->outlen = strlen(pub);
				r->out = (uint8_t *)splq_steal(pub);
				rc = 0;
			}
		}
	}
	splq_wipe(value, sizeof(value));
	free(ix.e);
	if (g >= 0)
		close(g);
	return rc;
}

/* A comment of the request: one line, at most minisign's length. */
static int comment(const uint8_t *f, size_t len, char *out, const char *what,
                   struct splq_error *err)
{
	if (len > SPLQ_MINISIGN_COMMENT_MAX || memchr(f, '\n', len) || memchr(f, '\r', len) ||
	    memchr(f, 0, len))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "the %s comment must be one line of at most %d "
		                 "bytes",
		                 what, SPLQ_MINISIGN_COMMENT_MAX);
	memcpy(out, f, len);
	out[len] = 0;
	return 0;
}

static int op_sign(struct agent *a, struct request *r, struct splq_error *err)
{
	const uint8_t *f[3];
	size_t fl[3];
	char trusted[SPLQ_MINISIGN_COMMENT_MAX + 1], untrusted[SPLQ_MINISIGN_COMMENT_MAX + 1];
	struct splq_minisign_sig s;
	uint8_t *key = NULL;
	size_t klen = 0;
	int rc = -1;

	if (check_name(r, err) < 0 || fields(r, f, fl, 3, err) < 0)
		return -1;
	if (fl[0] != SPLQ_BLAKE2B)
		return splq_fail(err, SPLQ_E_VALUE, "a signature is of a %d-byte BLAKE2b hash",
		                 SPLQ_BLAKE2B);
	if (comment(f[1], fl[1], trusted, "trusted", err) < 0 ||
	    comment(f[2], fl[2], untrusted, "untrusted", err) < 0 ||
	    get_entry(a, r->req->name, SPLQ_VAULT_SIGNKEY, &key, &klen, err) < 0)
		return -1;
	if (klen != SPLQ_MINISIGN_KEYNUM + SPLQ_ED25519_SEED) {
		splq_fail(err, SPLQ_E_INTEGRITY, "signing key '%s' is malformed", r->req->name);
	} else if (splq_minisign_sign(key + SPLQ_MINISIGN_KEYNUM, key, f[0], trusted, untrusted, &s,
	                              err) == 0) {
		char *text = splq_minisign_sig_format(&s);
		r->out = (uint8_t *)text;
		r->outlen = strlen(text);
		rc = 0;
	}
	wipe_free(key, klen);
	return rc;
}

static int op_lock(struct agent *a, struct request *r, struct splq_error *err)
{
	splq_wipe(a->mk, SPLQ_AES_KEY);
	a->unlocked = false;
	return 0;
}

static int op_status(struct agent *a, struct request *r, struct splq_error *err)
{
	r->out = (uint8_t *)splq_xstrdup(a->unlocked ? "unlocked\n" : "locked\n");
	r->outlen = strlen((char *)r->out);
	return 0;
}

/* The operations, by their number (vault.h). */
static int (*const ops[])(struct agent *, struct request *, struct splq_error *) = {
    [SPLQ_VOP_INIT] = op_init,     [SPLQ_VOP_UNLOCK] = op_unlock, [SPLQ_VOP_LOCK] = op_lock,
    [SPLQ_VOP_STATUS] = op_status, [SPLQ_VOP_PASSWD] = op_passwd, [SPLQ_VOP_ROTATE] = op_rotate,
    [SPLQ_VOP_STORE] = op_store,   [SPLQ_VOP_GET] = op_get,       [SPLQ_VOP_LIST] = op_list,
    [SPLQ_VOP_DELETE] = op_delete, [SPLQ_VOP_KEYGEN] = op_keygen, [SPLQ_VOP_SIGN] = op_sign,
};

static int dispatch(struct agent *a, struct request *r, struct splq_error *err)
{
	uint32_t op = r->req->op;

	if (op >= sizeof(ops) / sizeof(ops[0]) || !ops[op])
		return splq_fail(err, SPLQ_E_USAGE, "no such vault operation %u", op);
	return ops[op](a, r, err);
}

/* One connection: one request, one reply. */
static void serve(struct agent *a, int conn)
{
	struct splq_vault_req req;
	struct splq_vault_rep rep = {0};
	struct request r = {.req = &req};
	struct splq_error err = {0};
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	uint8_t *in = NULL;

	/* only root of this qube: the services, never another user of it */
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0)
		return;
	struct timeval tv = {.tv_sec = 30};
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (splq_read_all(conn, &req, sizeof(req)) < 0 || req.magic != SPLQ_VAULT_REQ_MAGIC ||
	    !memchr(req.name, 0, sizeof(req.name)) || req.length > SPLQ_VAULT_SECRET_MAX + 65536)
		return;
	in = splq_xmalloc(req.length ? req.length : 1);
	if (splq_read_all(conn, in, req.length) < 0) {
		wipe_free(in, req.length);
		return;
	}
	r.in = in;
	r.inlen = req.length;
	if (dispatch(a, &r, &err) < 0) {
		rep.code = err.code ? err.code : SPLQ_E_INTERNAL;
		snprintf(rep.msg, sizeof(rep.msg), "%.*s", (int)sizeof(rep.msg) - 1, err.msg);
		wipe_free(r.out, r.outlen);
		r.out = NULL;
		r.outlen = 0;
	} else {
		snprintf(rep.msg, sizeof(rep.msg), "%s", r.msg);
	}
	rep.length = r.outlen;
	if (splq_write_all(conn, &rep, sizeof(rep)) == 0 && r.outlen)
		(void)splq_write_all(conn, r.out, r.outlen);
	wipe_free(r.out, r.outlen);
	wipe_free(in, req.length);
}

void splq_vault_agent(int sock)
{
	struct agent a = {0};

	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NAME, "splq-vault");
	/* a client gone mid-answer is an error on that connection, no more */
	signal(SIGPIPE, SIG_IGN);
	a.mk = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a.mk == MAP_FAILED)
		_exit(1);
	madvise(a.mk, 4096, MADV_DONTDUMP);
	(void)mlock(a.mk, 4096); /* where the qube's limits allow it */
	for (;;) {
		int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			_exit(1);
		}
		serve(&a, conn);
		close(conn);
	}
}
