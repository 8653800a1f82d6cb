/* splq: what users ask for, built from model, store, audit and a backend.
 * Every operation that changes state or runs something is audited. */
#ifndef SPLQ_OPS_H
#define SPLQ_OPS_H

#include <stdbool.h>

#include "audit.h"
#include "backend.h"
#include "error.h"
#include "model.h"
#include "services/filecopy.h"
#include "store.h"

struct splq_ctx {
	char *home; /* $SPLQ_HOME or /var/lib/splq */
	char *run;  /* $SPLQ_RUN or /run/splq */
	struct splq_store *store;
	struct splq_backend *backend;
	char actor[32]; /* "uid:N" */
};

/* Refuses anyone but root (SPLQ_E_PERM) before touching anything. */
int splq_ctx_open(struct splq_ctx *ctx, struct splq_error *err);
void splq_ctx_close(struct splq_ctx *ctx);

/* A name=value property assignment given at creation. */
struct splq_prop_assign {
	const char *name;
	const char *value;
};

/* Templates: base is "host" or a root file system directory. */
int splq_op_template_create(struct splq_ctx *ctx, const char *name, const char *base,
                            const char *label, const struct splq_prop_assign *sizes, int nsizes,
                            struct splq_error *err);

/* Create a qube of class klass (AppVM, StandaloneVM; TemplateVM goes
 * through template_create; DispVM through dispvm).  template: a
 * TemplateVM (NULL = none given: an error for AppVM/StandaloneVM).
 * sizes (here and for templates): volume=size pairs, "private"="64M",
 * for volumes that do not take the default size. */
int splq_op_create(struct splq_ctx *ctx, const char *name, enum splq_class klass,
                   const char *template, const char *label, const struct splq_prop_assign *props,
                   int nprops, const struct splq_prop_assign *sizes, int nsizes,
                   struct splq_error *err);
int splq_op_clone(struct splq_ctx *ctx, const char *src, const char *dst, struct splq_error *err);
int splq_op_remove(struct splq_ctx *ctx, const char *name, struct splq_error *err);
/* With force, a qube that runs is killed first (qvm-remove --force). */
int splq_op_remove_forced(struct splq_ctx *ctx, const char *name, bool force,
                          struct splq_error *err);

int splq_op_start(struct splq_ctx *ctx, const char *name, struct splq_error *err);
/* start --skip-if-running: 1 (and nothing done or audited) for a qube that
 * runs, is paused or is starting. */
int splq_op_start_if_halted(struct splq_ctx *ctx, const char *name, struct splq_error *err);
/* The halted qubes with autostart=True, in name order, for `start
 * --autostart` (free with splq_strv_free). */
int splq_op_autostart_list(struct splq_ctx *ctx, char ***names, int *n, struct splq_error *err);
/* timeout_s: seconds before the kill, this once (0: the qube's
 * shutdown_timeout as it is now). */
int splq_op_shutdown(struct splq_ctx *ctx, const char *name, bool force, bool wait, long timeout_s,
                     struct splq_error *err);
int splq_op_kill(struct splq_ctx *ctx, const char *name, struct splq_error *err);
/* shutdown --all: every qube that runs but dom0 and those in exclude, in
 * the order they can go (the clients of a netvm before it); wait[i]
 * says that a later one is names[i]'s netvm, so names[i] must have halted
 * before that one goes. */
int splq_op_shutdown_order(struct splq_ctx *ctx, char *const *exclude, int nexclude,
                           char ***names, bool **wait, int *n, struct splq_error *err);
/* Freeze a running qube's processes (paused), or thaw a paused one, as
 * qvm-pause and qvm-unpause do: its state is Paused meanwhile, run is
 * refused and shutdown or kill thaw it first.  Pausing a paused qube is
 * no error; dom0, a halted qube or (unpause) one not paused is
 * SPLQ_E_STATE. */
int splq_op_pause(struct splq_ctx *ctx, const char *name, bool paused, struct splq_error *err);
/* Starts the qube if halted (unless x->no_autostart).  x->user NULL
 * means its default_user.  x->service: a qrexec service (backend.h). */
int splq_op_run(struct splq_ctx *ctx, const char *name, struct splq_exec *x, int *status,
                struct splq_error *err);
/* A disposable from dvm (a TemplateVM, or an AppVM with
 * template_for_dispvms=True); NULL takes dom0's default_dispvm.  Runs x,
 * removes everything, returns the command's exit code in *status.
 * timeout_s 0 = none.  name (at least SPLQ_NAME_MAX+1) gets "dispN".
 * netvm: its netvm ("" none), or NULL: the dvm's. */
int splq_op_dispvm(struct splq_ctx *ctx, const char *dvm, const char *netvm,
                   struct splq_exec *x, long timeout_s, int *status, char *name,
                   struct splq_error *err);

/* Preloaded disposables (Qubes 4.3): a dvm whose feature
 * preload-dispvm-max is N (or dom0's, for the default_dispvm) keeps N
 * disposables started ahead of time and frozen; splq_op_dispvm (with
 * neither netvm nor timeout) takes one when one is ready, and a filler in
 * the background removes it afterwards and starts a replacement.
 * splq_op_preload is that filler, run now: it removes the used, stale and
 * surplus ones and starts new ones until the pool is full. */
#define SPLQ_PRELOAD_LIMIT 64
struct splq_preload_report {
	int ready;			 /* members now */
	char *names[SPLQ_PRELOAD_LIMIT]; /* their names */
	int started, removed;		 /* by this call */
};
int splq_op_preload(struct splq_ctx *ctx, const char *dvm, struct splq_preload_report *rep,
                    struct splq_error *err);
void splq_preload_report_clear(struct splq_preload_report *rep);

/* Remove the halted disposable name, as its supervisor does once a cold
 * disposable's command has ended and the qube has halted (so that the
 * caller has its result without waiting for that): 0, or 1 when it is
 * gone already; a qube of another class (SPLQ_E_VALUE) or one that runs
 * (SPLQ_E_STATE) stays. */
int splq_op_discard(struct splq_ctx *ctx, const char *name, struct splq_error *err);

/* The log of qube name (what its --no-wait commands wrote, and its pid
 * 1's messages), oldest first, to fd; with follow, then what it gets until
 * the qube is halted.  filter as splq_exec's.  A qube that never ran has
 * an empty log; dom0 has none (SPLQ_E_VALUE). */
int splq_op_logs(struct splq_ctx *ctx, const char *name, int fd, int filter, bool follow,
                 struct splq_error *err);

/* ls */
struct splq_qube_info {
	char name[SPLQ_NAME_MAX + 1];
	enum splq_class klass;
	enum splq_power power; /* dom0: Running, always (it is the host) */
	char *label;
	char *template; /* "" when none */
	char *netvm;    /* "" when none */
	long memory;
	bool internal; /* the feature internal (a preloaded disposable) */
	bool provides_network;
};
int splq_op_list(struct splq_ctx *ctx, struct splq_qube_info **out, int *n, struct splq_error *err);
/* What the running qube name uses now (stats); dom0 is SPLQ_E_VALUE, a
 * qube that is not running SPLQ_E_STATE. */
int splq_op_usage(struct splq_ctx *ctx, const char *name, struct splq_usage *out,
                  struct splq_error *err);
/* The processes in the running qube name (ps), as splq_usage's errors. */
int splq_op_processes(struct splq_ctx *ctx, const char *name, struct splq_process **out, int *n,
                      struct splq_error *err);
void splq_qube_info_free(struct splq_qube_info *v, int n);

/* volumes (qvm-volume): a qube's root, private and volatile volumes. */
struct splq_volume_info {
	char qube[SPLQ_NAME_MAX + 1];
	const char *name;                /* "root", "private", "volatile" */
	const char *pool;                /* "image" (an ext4 image file), "tmpfs" (memory,
	                                  * made at each start), "dir" (a directory) */
	char *path;                      /* where it lives on the host ("" for a tmpfs) */
	char *source;                    /* "QUBE:VOLUME" it is made from at start, or "" */
	unsigned long long size;         /* bytes */
	bool size_default;               /* the default size (none set) */
	char size_of[SPLQ_NAME_MAX + 1]; /* the qube whose size it is (a
	                                  * disposable's are its dvm's) */
	long long usage;                 /* bytes of the host's disk it takes; -1: not known */
	bool rw, save_on_stop, snap_on_start, ephemeral;
	bool bounded; /* writes beyond size fail with ENOSPC */
	bool running; /* its qube runs */
};
void splq_volume_info_clear(struct splq_volume_info *v);
/* Every volume of qube (NULL: of every qube but dom0), by qube then
 * volume; free each with splq_volume_info_clear, then the array. */
int splq_op_volume_list(struct splq_ctx *ctx, const char *qube, struct splq_volume_info **out,
                        int *n, struct splq_error *err);
/* spec is "QUBE:VOLUME". */
int splq_op_volume_info(struct splq_ctx *ctx, const char *spec, struct splq_volume_info *out,
                        struct splq_error *err);
/* Grow a volume to size (text, splq_size_parse); SPLQ_E_SHRINK for a
 * smaller size.  *live: a running qube sees the new size at once (else at
 * its next start).  out: the volume afterwards. */
int splq_op_volume_resize(struct splq_ctx *ctx, const char *spec, const char *size, bool *live,
                          struct splq_volume_info *out, struct splq_error *err);

/* prefs: one property (name, value, is_default) or all of them. */
struct splq_pref {
	const struct splq_prop_def *def;
	char *value;
	bool is_default;
};
int splq_op_prefs_list(struct splq_ctx *ctx, const char *qube, struct splq_pref **out, int *n,
                       struct splq_error *err);
void splq_prefs_free(struct splq_pref *v, int n);
int splq_op_prefs_get(struct splq_ctx *ctx, const char *qube, const char *prop,
                      struct splq_pref *out, struct splq_error *err);
int splq_op_prefs_set(struct splq_ctx *ctx, const char *qube, const char *prop, const char *value,
                      struct splq_error *err);
int splq_op_prefs_reset(struct splq_ctx *ctx, const char *qube, const char *prop,
                        struct splq_error *err);

/* tags and features.  The lists are sorted, malloc'ed arrays of malloc'ed
 * strings (free with splq_strv_free); a qube that does not exist is
 * SPLQ_E_NOTFOUND, and so is a feature it does not have. */
int splq_op_tag_list(struct splq_ctx *ctx, const char *qube, char ***tags, int *n,
                     struct splq_error *err);
int splq_op_tag_add(struct splq_ctx *ctx, const char *qube, const char *tag,
                    struct splq_error *err);
int splq_op_tag_remove(struct splq_ctx *ctx, const char *qube, const char *tag,
                       struct splq_error *err);
int splq_op_feature_list(struct splq_ctx *ctx, const char *qube, char ***names, char ***values,
                         int *n, struct splq_error *err);
int splq_op_feature_get(struct splq_ctx *ctx, const char *qube, const char *name, char **value,
                        struct splq_error *err);
int splq_op_feature_set(struct splq_ctx *ctx, const char *qube, const char *name, const char *value,
                        struct splq_error *err);
int splq_op_feature_remove(struct splq_ctx *ctx, const char *qube, const char *name,
                           struct splq_error *err);

/* The audit log (see audit.h).  log: entries oldest first, filtered by
 * target qube (NULL = all; a removed qube's entries stay) and time (unix
 * ms, 0 = all); clear each, then free the array.  verify: the whole log
 * against the store's head; *entries its length, and on SPLQ_E_AUDIT
 * *bad_line the first bad entry. */
int splq_op_audit_log(struct splq_ctx *ctx, const char *qube, long long since_ms,
                      struct splq_audit_entry **out, int *n, struct splq_error *err);
int splq_op_audit_verify(struct splq_ctx *ctx, long long *entries, long long *bad_line,
                         struct splq_error *err);

/* A qrexec call's decision (ops/call.c): the policy's, with an ask
 * answered by dom0's qrexec_ask_program, or else (tty_ok) on the host
 * user's terminal; denied when neither answers.  source must be a qube of
 * the store (or dom0); target as the caller asked ("" for @default);
 * service SERVICE+ARG, sanitized (qrexec/wire.h).  A refusal is a
 * decision, not an error: the function fails only when no decision could
 * be made (no such source, a policy that does not load).  The audit log
 * gets the call either way. */
struct splq_call_decision {
	bool allowed;
	char target[64]; /* allowed: a qube, dom0 or @dispvm:DVM */
	char user[64];   /* "": the target's default_user */
	bool autostart;  /* a halted target may be started */
	char rule[320];  /* FILE:LINE of the rule that decided, "" for none */
	char why[256];   /* refused: why, in words */
};
int splq_op_call_decide(struct splq_ctx *ctx, const char *source, const char *target,
                        const char *service, bool tty_ok, struct splq_call_decision *d,
                        struct splq_error *err);
/* The call d allowed (lifecycle.c): service (SERVICE+ARG) run in d's target as a run,
 * or in a disposable made for it (disp gets its name, at least
 * SPLQ_NAME_MAX+1), with Qubes' QREXEC_* environment and what x->env
 * adds to it (at most 8 more); a halted target is
 * started only where d allows.  x's stdio as for run (x->direct for a
 * caller in a qube); *status the service's exit code (127: no such
 * service). */
int splq_op_call(struct splq_ctx *ctx, const char *source, const char *service,
                 const struct splq_call_decision *d, struct splq_exec *x, int *status,
                 char *disp, struct splq_error *err);

/* A file copy (lifecycle.c): the call of qubes.Filecopy that d allowed
 * from req->from (a qube or dom0) to d's target, fed by qfile-agent run
 * in the source qube (its default_user's paths, relative to its home) or
 * by the host itself (the host's paths), through the host's relay
 * (services/filecopy.h).  In a qube the files land in the service user's
 * ~/QubesIncoming/FROM/; in dom0 in req->dest.  verify: every file's
 * SHA-256 at both ends, compared, the copy removed when one differs.
 * move: a verified copy, then the paths are removed at the source
 * (secure: their data overwritten first).  res->c keeps the hashes; the
 * caller frees it with splq_filecopy_free. */
struct splq_copy_req {
	const char *from;
	const char *dest;
	const char *const *paths;
	size_t npaths;
	bool verify, move, secure, ignore_symlinks;
	int err_fd; /* the ends' messages, filtered */
	void (*progress)(void *arg, const struct splq_filecopy_stats *s);
	void *progress_arg;
};
struct splq_copy_result {
	struct splq_filecopy c;
	bool removed; /* move: the sources are gone */
};
int splq_op_copy(struct splq_ctx *ctx, const struct splq_copy_req *req,
                 const struct splq_call_decision *d, struct splq_copy_result *res,
                 struct splq_error *err);

/* The qrexec policy (ops/qrexec_policy.c; the policy itself: policy/policy.h).
 * dir: $SPLQ_HOME/policy.d, made with splq's default policy
 * (90-splq-default.policy, which denies every call) when it is missing
 * (*dir malloc'ed). */
#define SPLQ_POLICY_DIR          "policy.d"
#define SPLQ_POLICY_DEFAULT_FILE "90-splq-default.policy"
struct splq_policy;
struct splq_policy_sysinfo;
int splq_op_policy_dir(struct splq_ctx *ctx, char **dir, struct splq_error *err);
/* Every *.policy file of dir (SPLQ_E_POLICY when it does not load,
 * SPLQ_E_NOTFOUND when dir is missing); free with splq_policy_free. */
int splq_op_policy_load(const char *dir, struct splq_policy **out, struct splq_error *err);
/* The domains a policy decision looks at: the store's qubes with their
 * class, tags, default_dispvm (unset: the global one), whether disposables
 * can be made from them, power state and uuid.  The file variant reads
 * Qubes' JSON ({"domains":{...}}): SPLQ_E_NOTFOUND when it is missing,
 * SPLQ_E_VALUE when it is malformed.  Free with splq_policy_sysinfo_free. */
int splq_op_policy_sysinfo(struct splq_ctx *ctx, struct splq_policy_sysinfo **out,
                           struct splq_error *err);
int splq_op_policy_sysinfo_file(const char *path, struct splq_policy_sysinfo **out,
                                struct splq_error *err);

/* Firewall rules (reference/qubes.md §2), as qvm-firewall keeps them:
 * list gives Qubes' text one rule a line, expired ones left out, numbered
 * from 0 by their place; *is_default when none were set (Qubes' one rule
 * action=accept).  add puts RULE before rule number before (-1: at the
 * end); del removes rule number (or, with -1, the first rule equal to
 * RULE); set replaces them all by the lines of text; reset goes back to
 * the default; reload applies them again unchanged (qvm-firewall
 * --reload: dsthost names are looked up again).  A bad rule changes
 * nothing and names its key; every change is stored, applied at once to
 * the qube while it runs (its netvm's rules for it, in one transaction;
 * the netvm looks dsthost names up then, and one it cannot find fails
 * the change), and logged. */
int splq_op_firewall_list(struct splq_ctx *ctx, const char *qube, char ***rules, int *n,
                          bool *is_default, struct splq_error *err);
int splq_op_firewall_add(struct splq_ctx *ctx, const char *qube, const char *rule, int before,
                         struct splq_error *err);
int splq_op_firewall_del(struct splq_ctx *ctx, const char *qube, int number, const char *rule,
                         struct splq_error *err);
int splq_op_firewall_set(struct splq_ctx *ctx, const char *qube, const char *text,
                         struct splq_error *err);
int splq_op_firewall_reset(struct splq_ctx *ctx, const char *qube, struct splq_error *err);
int splq_op_firewall_reload(struct splq_ctx *ctx, const char *qube, struct splq_error *err);

/* The vault (ops/vault.c): every operation a call from dom0 of the vault
 * qube's services (services/vault.h, src/qube/vault.h) under the policy,
 * each audited with the secret's name, never its value.  Failures carry
 * the vault's own code: SPLQ_E_VAULT_LOCKED, SPLQ_E_BADSECRET,
 * SPLQ_E_INTEGRITY, SPLQ_E_NOTFOUND (no such secret), ...
 *
 * init: qube vault (an AppVM or StandaloneVM without a netvm) becomes a
 * vault (the feature SPLQ_VAULT_FEATURE, its netvm set to none), its
 * master key sealed by s, and is left unlocked.  A secret: a passphrase
 * (scrypt, cost 2^log2n) or a key file's bytes. */
struct splq_vault_secret {
	const void *data;
	size_t len;
	bool keyfile;
	unsigned log2n;
};
int splq_op_vault_init(struct splq_ctx *ctx, const char *vault,
                       const struct splq_vault_secret *s, struct splq_error *err);
int splq_op_vault_status(struct splq_ctx *ctx, const char *vault, bool *unlocked,
                         struct splq_error *err);
int splq_op_vault_unlock(struct splq_ctx *ctx, const char *vault, const void *secret, size_t len,
                         struct splq_error *err);
int splq_op_vault_lock(struct splq_ctx *ctx, const char *vault, struct splq_error *err);
/* The master key sealed again by s, after old opened it. */
int splq_op_vault_passwd(struct splq_ctx *ctx, const char *vault, const void *old, size_t oldlen,
                         const struct splq_vault_secret *s, struct splq_error *err);
/* A new master key, every record encrypted again under it; secret opens
 * the old one and seals the new. */
int splq_op_vault_rotate(struct splq_ctx *ctx, const char *vault, const void *secret, size_t len,
                         struct splq_error *err);
/* store: the value is all of in_fd; retrieve: it goes to out_fd. */
int splq_op_vault_store(struct splq_ctx *ctx, const char *vault, const char *name, int in_fd,
                        struct splq_error *err);
int splq_op_vault_retrieve(struct splq_ctx *ctx, const char *vault, const char *name, int out_fd,
                           struct splq_error *err);
struct splq_vault_item {
	char *name;
	bool key; /* a signing key, else a secret */
	unsigned long long version, size;
	long long created_ms, updated_ms; /* unix ms */
};
int splq_op_vault_list(struct splq_ctx *ctx, const char *vault, struct splq_vault_item **items,
                       int *n, struct splq_error *err);
void splq_vault_items_free(struct splq_vault_item *v, int n);
int splq_op_vault_delete(struct splq_ctx *ctx, const char *vault, const char *name,
                         struct splq_error *err);
/* keygen: a new Ed25519 key made in the vault; pubkey: a key's public
 * half.  *pub: the public key file in minisign's format (malloc'ed). */
int splq_op_vault_keygen(struct splq_ctx *ctx, const char *vault, const char *name, char **pub,
                         struct splq_error *err);
int splq_op_vault_pubkey(struct splq_ctx *ctx, const char *vault, const char *name, char **pub,
                         struct splq_error *err);

/* Split signing: file hashed here (BLAKE2b-512), the hash signed by key in
 * vault, the signature written to sigfile (NULL: FILE.minisig) in
 * minisign's format; *sigpath where it went (malloc'ed).  trusted NULL:
 * minisign's own "timestamp:T\tfile:NAME\thashed". */
struct splq_sign_req {
	const char *vault, *key, *file, *sigfile, *trusted, *untrusted;
};
int splq_op_sign(struct splq_ctx *ctx, const struct splq_sign_req *req, char **sigpath,
                 struct splq_error *err);
/* A minisign signature (sigfile, NULL: FILE.minisig) of file under the
 * public key pubkey (a .pub file's text or its base64 line): 0 and
 * *trusted its trusted comment (malloc'ed), or SPLQ_E_VERIFY. */
int splq_op_verify(const char *pubkey, size_t len, const char *file, const char *sigfile,
                   char **trusted, struct splq_error *err);

/* Sealed audit: the head of the audit chain (its last entry, *seq)
 * signed by key in vault, and the seal appended to the log.  seals_verify
 * checks every seal of the log (after splq_op_audit_verify checked the
 * chain) under pubkey (NULL: each seal's key, from its vault): a history
 * rewritten before a seal fails with SPLQ_E_AUDIT, *bad_line the seal. */
int splq_op_audit_seal(struct splq_ctx *ctx, const char *vault, const char *key, long long *seq,
                       struct splq_error *err);
int splq_op_audit_seals_verify(struct splq_ctx *ctx, const char *pubkey, size_t len, int *seals,
                               long long *bad_line, struct splq_error *err);

#endif
