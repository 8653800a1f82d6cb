/* splq: the life of a qube (see ops.h): start, the qubes to start at
 * boot, shutdown, kill, and a command run in it. */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "util.h"

/* ---------- start, shutdown, kill ---------- */

static int start_qube(struct splq_ctx *ctx, const struct splq_qube *q, const char *args,
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
	if (splq_ops_vmcfg_build(ctx, q, &v, err) < 0)
		goto out;
	/* the audit entry says what the filter lets through */
	if (v.c.allow_io_uring)
		with = splq_strdup_printf("%s%s%s=1", args ? args : "", args ? " " : "",
		                          SPLQ_FEATURE_ALLOW_IO_URING);
	rc = ctx->backend->ops->start(ctx->backend, &v.c, NULL, err);
out:
	return splq_ops_audit_done(ctx, "start", q->name, with ? with : args, NULL, rc, err);
}

int splq_op_start(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	return start_qube(ctx, &q, NULL, err);
}

/* After a DispVM with auto_cleanup stopped: its row and volumes go. */
static int auto_cleanup(struct splq_ctx *ctx, const struct splq_qube *q,
                        const struct splq_ops_vmcfg *v, struct splq_error *err)
{
	if (q->klass != SPLQ_CLASS_DISPVM || !splq_ops_prop_true(ctx, q, "auto_cleanup"))
		return 0;
	if (ctx->backend->ops->state(ctx->backend, q->name) != SPLQ_HALTED)
		return 0;
	/* a `splq dispvm` waiting for it may have removed it already */
	return splq_ops_remove_qube(ctx, v, true, err);
}

int splq_op_autostart_list(struct splq_ctx *ctx, char ***names, int *n, struct splq_error *err)
{
	struct splq_qube *list = NULL;
	int nq = 0;

	ERR_GUARD(err);
	*names = NULL;
	*n = 0;
	if (splq_store_qube_list(ctx->store, &list, &nq, err) < 0)
		return -1;
	*names = splq_xcalloc(nq + 1, sizeof(**names));
	for (int i = 0; i < nq; i++)
		if (splq_ops_prop_true(ctx, &list[i], "autostart") &&
		    splq_ops_power_of(ctx, &list[i]) == SPLQ_HALTED)
			(*names)[(*n)++] = splq_xstrdup(list[i].name);
	splq_qube_list_free(list, nq);
	return 0;
}

static int stop_qube(struct splq_ctx *ctx, const char *name, bool kill, bool force, bool wait,
                     long timeout_s, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	const char *op = kill ? "kill" : "shutdown";
	cleanup_free char *args = NULL;
	bool cleanup;
	int rc = -1;

	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	if (!kill) {
		char t[32] = "";

		if (timeout_s > 0)
			snprintf(t, sizeof(t), "--timeout %ld", timeout_s);
		args = splq_strdup_printf("%s%s%s%s%s", force ? "--force" : "",
		                          force && (wait || *t) ? " " : "", wait ? "--wait" : "",
		                          wait && *t ? " " : "", t);
	}
	if (q.klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_STATE, "dom0 cannot be %s: it is the host",
		          kill ? "killed" : "shut down");
		goto out;
	}
	if (splq_ops_power_of(ctx, &q) == SPLQ_HALTED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", q.name);
		goto out;
	}
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	if (timeout_s > 0)
		v.c.shutdown_timeout_s = timeout_s;
	cleanup = q.klass == SPLQ_CLASS_DISPVM && splq_ops_prop_true(ctx, &q, "auto_cleanup");
	if (kill)
		rc = ctx->backend->ops->kill(ctx->backend, q.name, err);
	else /* a disposable is removed once halted: wait for that */
		rc = ctx->backend->ops->shutdown(ctx->backend, &v.c, force, wait || cleanup, err);
	if (rc == 0 && cleanup)
		rc = auto_cleanup(ctx, &q, &v, err);
out:
	return splq_ops_audit_done(ctx, op, q.name, args, NULL, rc, err);
}

int splq_op_shutdown(struct splq_ctx *ctx, const char *name, bool force, bool wait, long timeout_s,
                     struct splq_error *err)
{
	ERR_GUARD(err);
	if (timeout_s < 0)
		return splq_fail(err, SPLQ_E_USAGE, "a shutdown timeout cannot be negative");
	return stop_qube(ctx, name, false, force, wait, timeout_s, err);
}

int splq_op_kill(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	ERR_GUARD(err);
	return stop_qube(ctx, name, true, false, false, 0, err);
}

/* ---------- run ---------- */

/* A qube that run started only to find that its command could not run is
 * stopped again (run's error err says so), so a failed first start leaves
 * it Halted. */
static void halt_again(struct splq_ctx *ctx, const struct splq_qube *q, struct splq_error *err)
{
	struct splq_error e = {0};
	size_t len = strlen(err->msg);

	if (stop_qube(ctx, q->name, true, false, false, 0, &e) < 0)
		return;
	snprintf(err->msg + len, sizeof(err->msg) - len,
	         "; qube '%s' was started for it and is halted again", q->name);
}

int splq_op_run(struct splq_ctx *ctx, const char *name, struct splq_exec *x, int *status,
                struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *args = NULL;
	cleanup_free char *user = NULL;
	cleanup_free char *result = NULL;
	struct splq_exec ex;
	struct splq_exec_info info = {0};
	enum splq_power p;
	int st = 0, rc = -1;

	ERR_GUARD(err);
	if (status)
		*status = 0;
	if (!x || (!x->service && (!x->argv || (!x->argv[0] && !x->tty))))
		return splq_fail(err, SPLQ_E_USAGE, "no command given");
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	args = splq_ops_exec_args(NULL, x);
	if (q.klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_VALUE,
		          "commands cannot be run in dom0 with splq: it is the host");
		goto out;
	}
	if (x->user) {
		if (splq_user_name_check(x->user, err) < 0)
			goto out;
		user = splq_xstrdup(x->user);
	} else if (splq_ops_prop_get(ctx, &q, "default_user", &user, err) < 0) {
		goto out;
	}
	p = splq_ops_power_of(ctx, &q);
	if (p == SPLQ_HALTING) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is shutting down; try again once it halted",
		          q.name);
		goto out;
	}
	if (p == SPLQ_HALTED && x->no_autostart) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running, and may not be started for it",
		          q.name);
		goto out;
	}
	if (p == SPLQ_HALTED && start_qube(ctx, &q, "for run", err) < 0)
		goto out;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	ex = *x;
	ex.user = user;
	ex.info = &info;
	rc = ctx->backend->ops->run(ctx->backend, &v.c, &ex, &st, err);
	if (rc == 0 && status)
		*status = st;
	if (rc < 0 && p == SPLQ_HALTED)
		halt_again(ctx, &q, err);
	splq_ops_exec_info(x, &info, &v.c, q.name);
out:
	if (rc == 0)
		result = x->no_wait ? splq_xstrdup("ok") : splq_ops_exit_result(st, &info);
	return splq_ops_audit_done(ctx, "run", q.name, args, result, rc, err);
}
