/* splq: disposables (see splq_op_dispvm in ops.h): a DispVM made from a
 * disposable template, one command run in it, and everything removed
 * afterwards, whatever happened. */
#include "ops.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "util.h"

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

/* Make the DispVM's row (its own transaction), name filled in q. */
static int disp_add(struct splq_ctx *ctx, const struct splq_qube *d, struct splq_qube *q,
                    struct splq_error *err)
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
	    (splq_ops_process_id(getpid(), owner, sizeof(owner)) &&
	     splq_store_feature_set(ctx->store, q->name, DISP_OWNER, owner, err) < 0) ||
	    splq_store_commit(ctx->store, err) < 0) {
		splq_store_rollback(ctx->store);
		return -1;
	}
	return 0;
}

static int dispvm_source(struct splq_ctx *ctx, const char *dvm, struct splq_qube *d,
                         struct splq_error *err)
{
	cleanup_free char *dflt = NULL;

	if (!dvm) {
		if (splq_ops_global_get(ctx, "default_dispvm", &dflt, err) < 0)
			return -1;
		if (!*dflt)
			return splq_fail(err, SPLQ_E_NOTFOUND,
			                 "no default_dispvm is set; pass --template or set it "
			                 "with: splq prefs dom0 default_dispvm DVM");
		dvm = dflt;
	}
	if (splq_store_qube_get(ctx->store, dvm, d, err) < 0) {
		if (err->code == SPLQ_E_NOTFOUND)
			splq_fail(err, SPLQ_E_NOTFOUND, "disposable template '%s' does not exist",
			          dvm);
		return -1;
	}
	return 0;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

int splq_op_dispvm(struct splq_ctx *ctx, const char *dvm, struct splq_exec *x, long timeout_s,
                   int *status, char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube d = {0};
	cleanup_qube struct splq_qube q = {0};
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *args = NULL;
	cleanup_free char *user = NULL;
	cleanup_free char *result = NULL;
	struct splq_error cerr = {0};
	struct splq_exec first;
	struct splq_exec_info info = {0};
	sigset_t block, old;
	bool masked = false, made = false, built = false, left = false;
	int st = 0, signo = 0, rc = -1;
	const char *target;

	ERR_GUARD(err);
	if (status)
		*status = 0;
	if (name)
		name[0] = '\0';
	if (!x || (!x->service && (!x->argv || (!x->argv[0] && !x->tty))))
		return splq_fail(err, SPLQ_E_USAGE, "no command given");
	if (timeout_s < 0)
		return splq_fail(err, SPLQ_E_USAGE, "a timeout cannot be negative");
	splq_ops_reap_disposables(ctx);
	if (dispvm_source(ctx, dvm, &d, err) < 0)
		return -1;
	args = splq_ops_exec_args(NULL, x);
	{
		char *a = splq_strdup_printf("--template %s %s", d.name, args);
		free(args);
		args = a;
	}
	if (splq_ops_dvm_check(ctx, &d, "used for disposables", err) < 0)
		goto out;
	if (x->user && splq_user_name_check(x->user, err) < 0)
		goto out;

	/* A stop signal while the disposable is being made would leave it
	 * behind: hold them until it is made, then act on them. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&block, stop_signals[i]);
	if (sigprocmask(SIG_BLOCK, &block, &old) == 0)
		masked = true;

	if (disp_add(ctx, &d, &q, err) < 0)
		goto out;
	made = true;
	if (name)
		snprintf(name, SPLQ_NAME_MAX + 1, "%s", q.name);
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	if (v.c.allow_io_uring) { /* the audit entry says what the filter lets through */
		char *a = splq_strdup_printf("%s=1 %s", SPLQ_FEATURE_ALLOW_IO_URING, args);
		free(args);
		args = a;
	}
	built = true;
	if (x->user)
		user = splq_xstrdup(x->user);
	else if (splq_ops_prop_get(ctx, &q, "default_user", &user, err) < 0)
		goto out;
	if (ctx->backend->ops->volumes_create(ctx->backend, &v.c, err) < 0)
		goto out;
	if (masked) {
		sigset_t pending;

		sigemptyset(&pending);
		sigpending(&pending);
		for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
			if (sigismember(&block, stop_signals[i]) &&
			    sigismember(&pending, stop_signals[i])) {
				sigset_t one;
				siginfo_t si;

				signo = stop_signals[i];
				sigemptyset(&one);
				sigaddset(&one, signo);
				sigtimedwait(&one, &si, &(struct timespec){0, 0});
				break;
			}
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		masked = false;
		if (signo)
			goto out;
	}
	first = *x;
	first.user = user;
	first.no_wait = false;
	first.info = &info;
	/* in the log before it runs: a splq killed meanwhile leaves this
	 * entry, and the next splq the removal of what it left */
	if (splq_ops_audit_done(ctx, "dispvm", q.name, args, "started", 0, err) < 0)
		goto out;
	if (ctx->backend->ops->start(ctx->backend, &v.c, &first, err) < 0)
		goto out;
	rc = ctx->backend->ops->wait(ctx->backend, q.name, timeout_s ? timeout_s * 1000 : -1, &st,
	                             &signo, err);
	splq_ops_exec_info(x, &info, &v.c, d.name);
	if (signo) {
		rc = -1;
	} else if (rc < 0 && err->code == SPLQ_E_TIMEOUT) {
		splq_fail(err, SPLQ_E_TIMEOUT,
		          "disposable '%s' timed out after %ld s; it was killed", q.name,
		          timeout_s);
	}
out:
	if (made) {
		/* always: whatever happened, the disposable goes */
		if (ctx->backend->ops->state(ctx->backend, q.name) != SPLQ_HALTED)
			ctx->backend->ops->kill(ctx->backend, q.name, NULL);
		if (built)
			left = splq_ops_remove_qube(ctx, &v, true, &cerr) < 0;
		else
			left = splq_store_qube_remove(ctx->store, q.name, &cerr) < 0 &&
			       cerr.code != SPLQ_E_NOTFOUND;
	}
	if (signo) {
		if (left)
			rc = splq_fail(err, 128 + signo,
			               "interrupted by signal %d; disposable '%s' could not be "
			               "removed: %s",
			               signo, q.name, cerr.msg);
		else
			rc = splq_fail(err, 128 + signo,
			               "interrupted by signal %d; disposable '%s' was removed",
			               signo, q.name);
		if (status)
			*status = 128 + signo;
	} else if (left && rc == 0) {
		rc = splq_fail(err, cerr.code, "disposable '%s' could not be removed: %s", q.name,
		               cerr.msg);
	} else if (left) {
		size_t len = strlen(err->msg);

		snprintf(err->msg + len, sizeof(err->msg) - len,
		         "; disposable '%s' could not be removed: %s", q.name, cerr.msg);
	}
	if (!signo && rc < 0 && err->code == SPLQ_E_TIMEOUT) {
		if (status)
			*status = SPLQ_E_TIMEOUT;
	} else if (rc == 0 && status) {
		*status = st;
	}
	if (rc == 0)
		result = splq_ops_exit_result(st, &info);
	target = made ? q.name : d.name;
	rc = splq_ops_audit_done(ctx, "dispvm", target, args, result, rc, err);
	/* only now may a held stop signal take effect: nothing is left behind */
	if (masked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
