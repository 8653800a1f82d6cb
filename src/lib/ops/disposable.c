/* splq: what the ops files share about starting qubes and about
 * disposables (internal.h): a start, with the netvms it needs first; a
 * DispVM's row; the disposables an ended splq left behind; and the pool
 * of preloaded disposables of a dvm (Qubes 4.3's preload-dispvm-max).
 *
 * A preloaded disposable is a DispVM started ahead of time and frozen.
 * Its features say where it is: internal and preload-dispvm-in-progress
 * while its filler (a `splq preload`, its splq.owner) starts it, then
 * internal and preload-dispvm-completed, with no owner: the pool owns it.
 * The dvm's feature preload-dispvm lists the pool (space-separated
 * names).  splq.preload-rev holds a digest of what the dvm was when it was
 * made (preload_rev); one whose dvm has changed since, or whose template
 * root the backend says is no longer current, is stale: never handed out,
 * removed.  A hand-out takes the first ready one out of the list and
 * makes the taker its owner in one transaction, so no two takers ever get
 * the same one; when the command ended, the taker marks it splq.discard
 * and a filler started in the background (`splq preload DVM`) removes it
 * and starts a replacement. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "internal.h"
#include "util.h"

#define PRELOAD_REV     "splq.preload-rev"
#define PRELOAD_DISCARD "splq.discard"

/* ---------- start ---------- */

int splq_ops_netvm_up(struct splq_ctx *ctx, const char *netvm, const char *user,
                      struct splq_error *err)
{
	cleanup_qube struct splq_qube n = {0};
	cleanup_free char *why = NULL;
	enum splq_power p;

	if (!*netvm)
		return 0;
	if (splq_ops_qube_get(ctx, netvm, &n, err) < 0)
		return -1;
	p = splq_ops_power_of(ctx, &n);
	if (p == SPLQ_HALTING)
		return splq_fail(err, SPLQ_E_STATE,
		                 "netvm '%s' of '%s' is shutting down; try again once it halted",
		                 n.name, user);
	if (p != SPLQ_HALTED)
		return 0;
	why = splq_strdup_printf("for the network of %s", user);
	return splq_ops_start_qube(ctx, &n, why, err);
}

int splq_ops_start_qube(struct splq_ctx *ctx, const struct splq_qube *q, const char *args,
                        struct splq_error *err)
{
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *with = NULL;
	int rc = -1;

	if (q->klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_STATE, "dom0 cannot be started: it is the host");
		goto out;
	}
	if (splq_ops_power_of(ctx, q) != SPLQ_HALTED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is already running", q->name);
		goto out;
	}
	if (splq_ops_vmcfg_build(ctx, q, &v, err) < 0 ||
	    splq_ops_netvm_up(ctx, v.c.net.netvm, q->name, err) < 0)
		goto out;
	/* the audit entry says what the filter lets through */
	if (v.c.allow_io_uring)
		with = splq_strdup_printf("%s%s%s=1", args ? args : "", args ? " " : "",
		                          SPLQ_FEATURE_ALLOW_IO_URING);
	rc = ctx->backend->ops->start(ctx->backend, &v.c, NULL, err);
out:
	return splq_ops_audit_done(ctx, "start", q->name, with ? with : args, NULL, rc, err);
}

/* ---------- a DispVM's row ---------- */

#define DISP_TRIES 100

static int disp_name(char *name, struct splq_error *err)
{
	unsigned short r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot pick a disposable name");
	snprintf(name, SPLQ_NAME_MAX + 1, "disp%u", (unsigned)r % 10000);
	return 0;
}

/* The dvm's pool list with name added (add) or taken out, in the caller's
 * transaction. */
static int list_edit(struct splq_ctx *ctx, const char *dvm, const char *name, bool add,
                     struct splq_error *err)
{
	cleanup_free char *list = NULL;
	if (splq_store_feature_get(ctx->store, dvm, SPLQ_PRELOAD_LIST, &list, NULL) < 0)
		list = splq_xstrdup("");
	char *out = splq_xcalloc(1, strlen(list) + strlen(name) + 2);
	size_t len = 0;
	for (char *save = NULL, *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (strcmp(w, name) != 0)
			len += sprintf(out + len, "%s%s", len ? " " : "", w);
	if (add)
		sprintf(out + len, "%s%s", len ? " " : "", name);
	int r = 0;
	if (*out)
		r = splq_store_feature_set(ctx->store, dvm, SPLQ_PRELOAD_LIST, out, err);
	else if (splq_store_feature_remove(ctx->store, dvm, SPLQ_PRELOAD_LIST, err) < 0 &&
	         err->code != SPLQ_E_NOTFOUND)
		r = -1; /* the last one out: no list left */
	free(out);
	return r;
}

int splq_ops_disp_add(struct splq_ctx *ctx, const struct splq_qube *d, const char *netvm,
                      const char *preload_rev, struct splq_qube *q, struct splq_error *err)
{
	char owner[64];
	static const char *const skip[] = {"template", "label", "auto_cleanup",
	                                   "template_for_dispvms", NULL};
	cleanup_free char *label = NULL;

	if (splq_ops_prop_get(ctx, d, "label", &label, err) < 0)
		return -1;
	for (int tries = 0;; tries++) {
		memset(q, 0, sizeof(*q));
		if (disp_name(q->name, err) < 0)
			return -1;
		q->klass = SPLQ_CLASS_DISPVM;
		if (splq_store_begin(ctx->store, err) < 0)
			return -1;
		if (splq_store_qube_add(ctx->store, q, err) == 0)
			break;
		splq_store_rollback(ctx->store);
		if (err->code != SPLQ_E_EXISTS)
			return -1;
		if (tries + 1 >= DISP_TRIES)
			return splq_fail(err, SPLQ_E_EXISTS,
			                 "no free disposable name found after %d tries",
			                 DISP_TRIES);
	}
	if (splq_store_prop_set(ctx->store, q->name, "template", d->name, err) < 0 ||
	    splq_store_prop_set(ctx->store, q->name, "label", label, err) < 0 ||
	    splq_store_prop_set(ctx->store, q->name, "auto_cleanup", "True", err) < 0 ||
	    splq_ops_copy_qube_data(ctx, d, q->name, SPLQ_CLASS_DISPVM, skip, false, err) < 0 ||
	    splq_store_tag_add(ctx->store, q->name, "disp-created-by-dom0", err) < 0 ||
	    splq_store_tag_add(ctx->store, q->name, "created-by-dom0", err) < 0 ||
	    (netvm && (splq_store_prop_set(ctx->store, q->name, "netvm", netvm, err) < 0 ||
	               splq_ops_net_check(ctx, q->name, false, err) < 0)) ||
	    (splq_ops_process_id(getpid(), owner, sizeof(owner)) &&
	     splq_store_feature_set(ctx->store, q->name, DISP_OWNER, owner, err) < 0) ||
	    (preload_rev &&
	     (splq_store_feature_set(ctx->store, q->name, SPLQ_FEATURE_INTERNAL, "1", err) < 0 ||
	      splq_store_feature_set(ctx->store, q->name, SPLQ_PRELOAD_PROGRESS, "1", err) < 0 ||
	      splq_store_feature_set(ctx->store, q->name, PRELOAD_REV, preload_rev, err) < 0 ||
	      list_edit(ctx, d->name, q->name, true, err) < 0)) ||
	    splq_store_commit(ctx->store, err) < 0) {
		splq_store_rollback(ctx->store);
		return -1;
	}
	return 0;
}

/* ---------- disposables left behind ---------- */

/* A process's identity that survives pid reuse: "<pid> <start time>"
 * (the start time in clock ticks since boot, field 22 of its stat). */
bool splq_ops_process_id(pid_t pid, char *out, size_t max)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* the command name, in parentheses, may hold spaces: skip past it */
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return false;
	snprintf(out, max, "%d %llu", (int)pid, strtoull(p + 1, NULL, 10));
	return true;
}

/* Is the splq that made a disposable, or took it from a pool (its
 * splq.owner feature), gone?  false for one without an owner. */
static bool owner_gone(struct splq_ctx *ctx, const char *qube)
{
	cleanup_free char *owner = NULL;
	char now[64];
	if (splq_store_feature_get(ctx->store, qube, DISP_OWNER, &owner, NULL) < 0)
		return false;
	return !splq_ops_process_id((pid_t)atoi(owner), now, sizeof(now)) ||
	       strcmp(now, owner) != 0;
}

static bool has_feature(struct splq_ctx *ctx, const char *qube, const char *name)
{
	cleanup_free char *v = NULL;
	return splq_store_feature_get(ctx->store, qube, name, &v, NULL) == 0;
}

/* Kill (if it runs, or wait for its clean-up) and remove a disposable,
 * with an audit entry saying why; nothing when another splq removed it
 * first (a filler and the next command may both find it). */
static void discard(struct splq_ctx *ctx, const struct splq_qube *q, const char *why)
{
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	struct splq_error err = {0};
	if (ctx->backend->ops->state(ctx->backend, q->name) != SPLQ_HALTED)
		ctx->backend->ops->kill(ctx->backend, q->name, NULL);
	cleanup_qube struct splq_qube again = {0};
	int rc = splq_ops_vmcfg_build(ctx, q, &v, &err);
	if (rc < 0 && splq_store_qube_get(ctx->store, q->name, &again, NULL) < 0)
		return; /* gone already */
	if (rc == 0 && (rc = splq_ops_remove_qube(ctx, &v, true, &err)) > 0)
		return;
	splq_ops_audit_done(ctx, "remove", q->name, why, "ok", rc, &err);
}

static const char *used_why(bool used, bool preloaded)
{
	return !used ? "disposable left by an ended splq"
	       : preloaded ? "preloaded disposable, used"
	                   : "disposable, used";
}

int splq_ops_reap_disposables(struct splq_ctx *ctx)
{
	struct splq_qube *list = NULL;
	int n = 0;
	if (splq_store_qube_list_of(ctx->store, SPLQ_CLASS_DISPVM, &list, &n, NULL) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct splq_qube *q = &list[i];
		if (owner_gone(ctx, q->name))
			discard(ctx, q,
			        used_why(has_feature(ctx, q->name, PRELOAD_DISCARD),
			                 has_feature(ctx, q->name, PRELOAD_REV)));
		else if (has_feature(ctx, q->name, SPLQ_PRELOAD_DONE) &&
		         !has_feature(ctx, q->name, DISP_OWNER) &&
		         splq_ops_power_of(ctx, q) == SPLQ_HALTED)
			discard(ctx, q, "preloaded disposable that stopped (a reboot, a crash)");
	}
	splq_qube_list_free(list, n);
	return 0;
}

int splq_op_discard(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	ERR_GUARD(err);
	if (splq_store_qube_get(ctx->store, name, &q, err) < 0)
		return err->code == SPLQ_E_NOTFOUND ? 1 : -1;
	if (q.klass != SPLQ_CLASS_DISPVM)
		return splq_fail(err, SPLQ_E_VALUE, "qube '%s' is a %s, not a disposable", name,
		                 splq_class_name(q.klass));
	if (splq_ops_power_of(ctx, &q) != SPLQ_HALTED)
		return splq_fail(err, SPLQ_E_STATE, "disposable '%s' is running", name);
	discard(ctx, &q,
	        used_why(has_feature(ctx, name, PRELOAD_DISCARD), has_feature(ctx, name, PRELOAD_REV)));
	return 0;
}

/* ---------- preloaded disposables ---------- */

long splq_ops_preload_max(struct splq_ctx *ctx, const struct splq_qube *d)
{
	cleanup_free char *own = NULL, *global = NULL, *dflt = NULL;
	const char *v = NULL;
	/* dom0's value is for its default_dispvm, ahead of that dvm's own */
	if (splq_ops_global_get(ctx, "default_dispvm", &dflt, NULL) == 0 &&
	    strcmp(dflt, d->name) == 0 &&
	    splq_store_feature_get(ctx->store, DOM0, SPLQ_PRELOAD_MAX, &global, NULL) == 0)
		v = global;
	else if (splq_store_feature_get(ctx->store, d->name, SPLQ_PRELOAD_MAX, &own, NULL) == 0)
		v = own;
	long n;
	if (!v || splq_ops_preload_value(v, &n, NULL) < 0 ||
	    splq_ops_dvm_check(ctx, d, "", NULL) < 0)
		return 0;
	return n;
}

int splq_ops_preload_value(const char *value, long *n, struct splq_error *err)
{
	*n = 0;
	if (!*value)
		return 0; /* "": none, as Qubes reads it */
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end || errno || v > SPLQ_PRELOAD_LIMIT)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "%s must be a whole number from 0 to %d, not '%s'",
		                 SPLQ_PRELOAD_MAX, SPLQ_PRELOAD_LIMIT, value);
	*n = v;
	return 0;
}

/* What a disposable of d starts from, as far as the store says: d's set
 * properties, features (bar the pool's own), tags, and dom0's set
 * properties; their FNV-1a fingerprint, in hex (the template's root the
 * backend checks: fresh). */
static void feed(unsigned long long *h, const char *line)
{
	*h = splq_fnv1a(*h, line, strlen(line) + 1);
}

static void feed_props(unsigned long long *h, struct splq_ctx *ctx, const char *qube)
{
	char **names = NULL, **values = NULL;
	int n = 0;
	if (splq_store_prop_list_set(ctx->store, qube, &names, &values, &n, NULL) < 0)
		feed(h, "?"); /* unreadable: never equal to a readable one */
	for (int i = 0; i < n; i++) {
		cleanup_free char *line = splq_strdup_printf("p %s=%s", names[i], values[i]);
		feed(h, line);
	}
	splq_strv_free(names, n);
	splq_strv_free(values, n);
}

static char *preload_rev(struct splq_ctx *ctx, const struct splq_qube *d)
{
	unsigned long long h = SPLQ_FNV1A_INIT;
	char **names = NULL, **values = NULL, **tags = NULL;
	int nf = 0, nt = 0;
	feed(&h, d->name);
	feed_props(&h, ctx, d->name);
	feed_props(&h, ctx, DOM0);
	if (splq_store_feature_list(ctx->store, d->name, &names, &values, &nf, NULL) == 0)
		for (int i = 0; i < nf; i++) {
			if (strncmp(names[i], SPLQ_PRELOAD_LIST, strlen(SPLQ_PRELOAD_LIST)) == 0)
				continue;
			cleanup_free char *line =
			    splq_strdup_printf("f %s=%s", names[i], values[i]);
			feed(&h, line);
		}
	if (splq_store_tag_list(ctx->store, d->name, &tags, &nt, NULL) == 0)
		for (int i = 0; i < nt; i++) {
			cleanup_free char *line = splq_strdup_printf("t %s", tags[i]);
			feed(&h, line);
		}
	splq_strv_free(names, nf);
	splq_strv_free(values, nf);
	splq_strv_free(tags, nt);
	return splq_strdup_printf("%016llx", h);
}

/* Is pool member p ready, and made from what its dvm is now (rev)?  v
 * gets its vm config (cleared by the caller). */
static bool member_fresh(struct splq_ctx *ctx, const struct splq_qube *p, const char *rev,
                         struct splq_ops_vmcfg *v)
{
	cleanup_free char *have = NULL;
	if (splq_store_feature_get(ctx->store, p->name, PRELOAD_REV, &have, NULL) < 0 || !rev ||
	    strcmp(have, rev) != 0 ||
	    ctx->backend->ops->state(ctx->backend, p->name) != SPLQ_PAUSED ||
	    splq_ops_vmcfg_build(ctx, p, v, NULL) < 0)
		return false;
	return ctx->backend->ops->fresh(ctx->backend, &v->c);
}

/* Take the first ready member out of d's pool, owned by this splq from
 * now on, in one transaction.  1 with its row in p; 0 when none is ready. */
static int claim(struct splq_ctx *ctx, const struct splq_qube *d, struct splq_qube *p,
                 struct splq_error *err)
{
	cleanup_free char *list = NULL;
	char owner[64];
	if (!splq_ops_process_id(getpid(), owner, sizeof(owner)) ||
	    splq_store_begin(ctx->store, err) < 0)
		return -1;
	int found = 0;
	if (splq_store_feature_get(ctx->store, d->name, SPLQ_PRELOAD_LIST, &list, NULL) == 0)
		for (char *save = NULL, *w = strtok_r(list, " ", &save); w && !found;
		     w = strtok_r(NULL, " ", &save))
			found = has_feature(ctx, w, SPLQ_PRELOAD_DONE) &&
			        splq_store_qube_get(ctx->store, w, p, NULL) == 0;
	if (found &&
	    (list_edit(ctx, d->name, p->name, false, err) < 0 ||
	     splq_store_feature_remove(ctx->store, p->name, SPLQ_PRELOAD_DONE, err) < 0 ||
	     splq_store_feature_remove(ctx->store, p->name, SPLQ_FEATURE_INTERNAL, err) < 0 ||
	     splq_store_feature_set(ctx->store, p->name, DISP_OWNER, owner, err) < 0)) {
		splq_store_rollback(ctx->store);
		return -1;
	}
	if (splq_store_commit(ctx->store, err) < 0) {
		splq_store_rollback(ctx->store);
		return -1;
	}
	return found;
}

void splq_ops_disp_used(struct splq_ctx *ctx, const char *name, pid_t remover)
{
	char owner[64];
	if (splq_store_begin(ctx->store, NULL) < 0)
		return;
	if (splq_store_feature_set(ctx->store, name, PRELOAD_DISCARD, "1", NULL) < 0 ||
	    splq_store_feature_set(ctx->store, name, SPLQ_FEATURE_INTERNAL, "1", NULL) < 0 ||
	    (remover > 0 && splq_ops_process_id(remover, owner, sizeof(owner)) &&
	     splq_store_feature_set(ctx->store, name, DISP_OWNER, owner, NULL) < 0) ||
	    splq_store_commit(ctx->store, NULL) < 0)
		splq_store_rollback(ctx->store);
}

int splq_ops_preload_take(struct splq_ctx *ctx, const struct splq_qube *d, struct splq_qube *p,
                          struct splq_ops_vmcfg *v, struct splq_error *err)
{
	cleanup_free char *rev = preload_rev(ctx, d);
	for (;;) {
		int r = claim(ctx, d, p, err);
		if (r <= 0)
			return r;
		if (member_fresh(ctx, p, rev, v))
			return 1;
		/* stale: this splq owns it now, the filler removes it */
		splq_ops_disp_used(ctx, p->name, 0);
		splq_qube_clear(p);
	}
}

/* Start one member of d's pool and freeze it; 0 once it is ready. */
static int preload_one(struct splq_ctx *ctx, const struct splq_qube *d, const char *rev,
                       char **made, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *args = splq_strdup_printf("--template %s", d->name);
	const struct splq_backend_ops *b = ctx->backend->ops;
	if (splq_ops_disp_add(ctx, d, NULL, rev, &q, err) < 0)
		return splq_ops_audit_done(ctx, "preload", d->name, args, NULL, -1, err);
	int rc = -1;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0 ||
	    b->volumes_create(ctx->backend, &v.c, err) < 0 ||
	    splq_ops_netvm_up(ctx, v.c.net.netvm, q.name, err) < 0 ||
	    b->start(ctx->backend, &v.c, NULL, err) < 0 ||
	    b->pause(ctx->backend, q.name, true, err) < 0)
		goto out;
	if (splq_store_begin(ctx->store, err) < 0)
		goto out;
	if (splq_store_feature_remove(ctx->store, q.name, SPLQ_PRELOAD_PROGRESS, err) < 0 ||
	    splq_store_feature_remove(ctx->store, q.name, DISP_OWNER, err) < 0 ||
	    splq_store_feature_set(ctx->store, q.name, SPLQ_PRELOAD_DONE, "1", err) < 0 ||
	    splq_store_commit(ctx->store, err) < 0) {
		splq_store_rollback(ctx->store);
		goto out;
	}
	rc = 0;
	*made = splq_xstrdup(q.name);
out:
	if (rc < 0) {
		struct splq_error ignored;
		discard(ctx, &q, "preloaded disposable that failed to start");
		if (splq_store_begin(ctx->store, &ignored) == 0 &&
		    (list_edit(ctx, d->name, q.name, false, &ignored) < 0 ||
		     splq_store_commit(ctx->store, &ignored) < 0))
			splq_store_rollback(ctx->store);
	}
	return splq_ops_audit_done(ctx, "preload", q.name, args, "ready", rc, err);
}

/* The lock one filler of dvm holds at a time: $SPLQ_RUN/preload/<dvm>.lock */
static int fill_lock(struct splq_ctx *ctx, const char *dvm, struct splq_error *err)
{
	cleanup_free char *dir = splq_strdup_printf("%s/preload", ctx->run);
	cleanup_free char *path = splq_strdup_printf("%s/%s.lock", dir, dvm);
	if (splq_mkdir_p(dir, 0700, err) < 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "lock %s", path);
		}
	return fd;
}

/* The filler: with max < 0, as many as splq_ops_preload_max says. */
static int fill(struct splq_ctx *ctx, const struct splq_qube *d, bool start, long max,
                struct splq_preload_report *rep, struct splq_error *err)
{
	memset(rep, 0, sizeof(*rep));
	cleanup_close int lock = fill_lock(ctx, d->name, err);
	if (lock < 0)
		return -1;
	/* what hand-outs have used, or found stale */
	char **users = NULL;
	int nu = 0;
	if (splq_store_prop_users(ctx->store, "template", d->name, &users, &nu, err) < 0)
		return -1;
	for (int i = 0; i < nu; i++) {
		cleanup_qube struct splq_qube q = {0};
		if (splq_store_qube_get(ctx->store, users[i], &q, NULL) == 0 &&
		    q.klass == SPLQ_CLASS_DISPVM && has_feature(ctx, q.name, PRELOAD_DISCARD)) {
			discard(ctx, &q, "preloaded disposable, used");
			rep->removed++;
		}
	}
	splq_strv_free(users, nu);

	/* the pool: members that are gone, stale or too many go */
	if (max < 0)
		max = splq_ops_preload_max(ctx, d);
	cleanup_free char *rev = preload_rev(ctx, d);
	cleanup_free char *list = NULL;
	if (splq_store_feature_get(ctx->store, d->name, SPLQ_PRELOAD_LIST, &list, NULL) < 0)
		list = splq_xstrdup("");
	for (char *save = NULL, *w = strtok_r(list, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		cleanup_qube struct splq_qube q = {0};
		cleanup_vmcfg struct splq_ops_vmcfg v = {0};
		bool there = splq_store_qube_get(ctx->store, w, &q, NULL) == 0;
		const char *why = !there                        ? NULL
		                  : rep->ready >= max           ? "preloaded disposable beyond "
		                                                  "preload-dispvm-max"
		                  : !member_fresh(ctx, &q, rev, &v) ? "stale preloaded disposable"
		                                                : NULL;
		if (there && !why) {
			if (rep->ready < SPLQ_PRELOAD_LIMIT)
				rep->names[rep->ready] = splq_xstrdup(q.name);
			rep->ready++;
			continue;
		}
		if (there) {
			discard(ctx, &q, why);
			rep->removed++;
		}
		struct splq_error ignored;
		if (splq_store_begin(ctx->store, &ignored) == 0 &&
		    (list_edit(ctx, d->name, w, false, &ignored) < 0 ||
		     splq_store_commit(ctx->store, &ignored) < 0))
			splq_store_rollback(ctx->store);
	}
	while (start && rep->ready < max) {
		char *made = NULL;
		if (preload_one(ctx, d, rev, &made, err) < 0)
			return -1;
		rep->names[rep->ready++] = made;
		rep->started++;
	}
	return 0;
}

int splq_ops_preload_fill(struct splq_ctx *ctx, const struct splq_qube *d, bool start,
                          struct splq_preload_report *rep, struct splq_error *err)
{
	return fill(ctx, d, start, -1, rep, err);
}

void splq_ops_preload_drain(struct splq_ctx *ctx, const struct splq_qube *d)
{
	struct splq_preload_report rep;
	if (!has_feature(ctx, d->name, SPLQ_PRELOAD_LIST))
		return;
	fill(ctx, d, false, 0, &rep, NULL);
	splq_preload_report_clear(&rep);
}

void splq_preload_report_clear(struct splq_preload_report *rep)
{
	for (int i = 0; i < rep->ready && i < SPLQ_PRELOAD_LIMIT; i++)
		free(rep->names[i]);
	memset(rep, 0, sizeof(*rep));
}

void splq_ops_preload_spawn(const char *dvm)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return;
	}
	/* on its own: no terminal, no descriptor of the caller's, none of
	 * its signals; SPLQ_HOME and the rest come with the environment */
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
	char *argv[] = {"splq", "preload", (char *)dvm, NULL};
	extern char **environ;
	pid_t pid;
	posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
}
