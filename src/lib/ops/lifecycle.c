/* splq: the life of a qube (see ops.h): start, the qubes to start at
 * boot, shutdown, kill, a command run in it; disposables (a DispVM made
 * from a disposable template, one command run in it, and everything
 * removed afterwards, whatever happened); and the qrexec call that the
 * policy allowed (ops/call.c decides), served by a run or a disposable;
 * and the file copy, such a call fed by a run in the source. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "policy/policy.h"
#include "qrexec/wire.h"
#include "services/host.h"
#include "tree.h"
#include "util.h"

/* ---------- start, shutdown, kill ---------- */

int splq_op_start(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	return splq_ops_start_qube(ctx, &q, NULL, err);
}

int splq_op_start_if_halted(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	enum splq_power p = splq_ops_power_of(ctx, &q);
	if (q.klass != SPLQ_CLASS_ADMINVM && p != SPLQ_HALTED && p != SPLQ_HALTING)
		return 1;
	return splq_ops_start_qube(ctx, &q, NULL, err);
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

/* The running qubes whose netvm name is, ", "-joined ("" for none). */
static char *running_clients(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	struct splq_qube *list = NULL;
	size_t len = 0;
	char *out = splq_xstrdup("");
	int nq = 0;

	if (splq_store_qube_list(ctx->store, &list, &nq, err) < 0) {
		free(out);
		return NULL;
	}
	for (int i = 0; i < nq; i++) {
		cleanup_free char *netvm = NULL;

		if (list[i].klass == SPLQ_CLASS_ADMINVM ||
		    splq_ops_prop_get(ctx, &list[i], "netvm", &netvm, err) < 0 ||
		    !splq_ops_streq(netvm, name) || splq_ops_power_of(ctx, &list[i]) == SPLQ_HALTED)
			continue;
		splq_str_appendf(&out, &len, "%s%s", len ? ", " : "", list[i].name);
	}
	splq_qube_list_free(list, nq);
	return out;
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
	/* a network qube goes while its clients run only when told so: they
	 * are cut off (kill is always told so) */
	if (!kill && !force && v.c.net.provides_network) {
		cleanup_free char *clients = running_clients(ctx, q.name, err);

		if (!clients)
			goto out;
		if (*clients) {
			splq_fail(err, SPLQ_E_STATE,
			          "qube '%s' is the netvm of running qubes: %s; shut them down "
			          "first, or use --force to cut them off",
			          q.name, clients);
			goto out;
		}
	}
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

int splq_op_pause(struct splq_ctx *ctx, const char *name, bool paused, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	const char *op = paused ? "pause" : "unpause";
	int rc = -1;

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	enum splq_power p = splq_ops_power_of(ctx, &q);
	if (q.klass == SPLQ_CLASS_ADMINVM)
		splq_fail(err, SPLQ_E_STATE, "dom0 cannot be %s: it is the host",
		          paused ? "paused" : "unpaused");
	else if (p != SPLQ_RUNNING && p != SPLQ_PAUSED)
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", q.name);
	else if (!paused && p != SPLQ_PAUSED)
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is not paused", q.name);
	else
		rc = (paused && p == SPLQ_PAUSED) ? 0
		                                  : ctx->backend->ops->pause(ctx->backend, q.name,
		                                                             paused, err);
	return splq_ops_audit_done(ctx, op, q.name, NULL, NULL, rc, err);
}

int splq_op_shutdown_order(struct splq_ctx *ctx, char *const *exclude, int nexclude,
                           char ***names, bool **wait, int *n, struct splq_error *err)
{
	struct splq_qube *list = NULL;
	int nq = 0, k = 0, rc = -1;

	ERR_GUARD(err);
	*names = NULL;
	*wait = NULL;
	*n = 0;
	if (splq_store_qube_list(ctx->store, &list, &nq, err) < 0)
		return -1;
	char **netvm = splq_xcalloc(nq ? nq : 1, sizeof(*netvm));
	bool *left = splq_xcalloc(nq ? nq : 1, sizeof(*left));
	bool *going = splq_xcalloc(nq ? nq : 1, sizeof(*going));
	int nleft = 0;
	for (int i = 0; i < nq; i++) {
		bool excluded = list[i].klass == SPLQ_CLASS_ADMINVM;
		for (int j = 0; j < nexclude && !excluded; j++)
			excluded = strcmp(exclude[j], list[i].name) == 0;
		if (excluded || splq_ops_power_of(ctx, &list[i]) == SPLQ_HALTED)
			continue;
		if (splq_ops_prop_get(ctx, &list[i], "netvm", &netvm[i], err) < 0)
			goto out;
		left[i] = going[i] = true;
		nleft++;
	}
	*names = splq_xcalloc(nleft ? nleft : 1, sizeof(**names));
	*wait = splq_xcalloc(nleft ? nleft : 1, sizeof(**wait));
	/* rounds: those that are no other one's netvm go first, and are
	 * waited for where their netvm goes in a later round */
	while (k < nleft) {
		int first = k;
		for (int i = 0; i < nq; i++) {
			bool serves = false;
			for (int j = 0; j < nq && !serves && left[i]; j++)
				serves = j != i && left[j] && splq_ops_streq(netvm[j], list[i].name);
			if (left[i] && !serves)
				(*names)[k++] = splq_xstrdup(list[i].name);
		}
		if (k == first) /* a loop of netvms: the rest in name order */
			for (int i = 0; i < nq; i++)
				if (left[i])
					(*names)[k++] = splq_xstrdup(list[i].name);
		for (int m = first; m < k; m++)
			for (int i = 0; i < nq; i++)
				if (left[i] && strcmp(list[i].name, (*names)[m]) == 0) {
					left[i] = false;
					for (int j = 0; j < nq; j++)
						(*wait)[m] = (*wait)[m] || (going[j] && j != i &&
						                            splq_ops_streq(netvm[i], list[j].name));
				}
	}
	*n = k;
	rc = 0;
out:
	splq_strv_free(netvm, nq);
	free(left);
	free(going);
	splq_qube_list_free(list, nq);
	return rc;
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
	if (p == SPLQ_PAUSED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is paused; 'splq unpause %s' resumes it",
		          q.name, q.name);
		goto out;
	}
	if (p == SPLQ_HALTED && x->no_autostart) {
		splq_fail(err, SPLQ_E_STATE,
		          "qube '%s' is not running, and may not be started for it", q.name);
		goto out;
	}
	if (p == SPLQ_HALTED && splq_ops_start_qube(ctx, &q, "for run", err) < 0)
		goto out;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	ex = *x;
	ex.user = user;
	ex.info = &info;
	rc = ctx->backend->ops->run(ctx->backend, &v.c, &ex, &st, err);
	if (rc == 0 && status)
		*status = st;
	if (rc == 0 && x->exited)
		x->exited(x->exited_arg, st);
	if (rc < 0 && p == SPLQ_HALTED)
		halt_again(ctx, &q, err);
	splq_ops_exec_info(x, &info, &v.c, q.name);
out:
	if (rc == 0)
		result = x->no_wait ? splq_xstrdup("ok") : splq_ops_exit_result(st, &info);
	return splq_ops_audit_done(ctx, "run", q.name, args, result, rc, err);
}

/* ---------- disposables ---------- */

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

/* The command in p, a preloaded disposable of d taken from its pool:
 * thawed, the command run as in any running qube, then p left to the
 * filler to remove (a signal goes to the command, as with run). */
static int handout(struct splq_ctx *ctx, const struct splq_qube *d, const struct splq_qube *p,
                   const struct splq_ops_vmcfg *v, struct splq_exec *x, const char *args,
                   int *status, char *name, struct splq_error *err)
{
	cleanup_free char *user = NULL;
	cleanup_free char *result = NULL;
	cleanup_free char *with = splq_strdup_printf("%s (preloaded)", args);
	struct splq_exec ex;
	struct splq_exec_info info = {0};
	int st = 0, rc = -1;

	if (name)
		snprintf(name, SPLQ_NAME_MAX + 1, "%s", p->name);
	if (x->user)
		user = splq_xstrdup(x->user);
	else if (splq_ops_prop_get(ctx, p, "default_user", &user, err) < 0)
		goto out;
	if (splq_ops_audit_done(ctx, "dispvm", p->name, with, "started", 0, err) < 0 ||
	    ctx->backend->ops->pause(ctx->backend, p->name, false, err) < 0)
		goto out;
	ex = *x;
	ex.user = user;
	ex.no_wait = false;
	ex.info = &info;
	rc = ctx->backend->ops->run(ctx->backend, &v->c, &ex, &st, err);
	if (rc == 0 && status)
		*status = st;
	if (rc == 0 && x->exited)
		x->exited(x->exited_arg, st);
	splq_ops_exec_info(x, &info, &v->c, d->name);
	if (rc == 0)
		result = splq_ops_exit_result(st, &info);
out:
	splq_ops_disp_used(ctx, p->name, 0);
	return splq_ops_audit_done(ctx, "dispvm", p->name, with, result, rc, err);
}

int splq_op_dispvm(struct splq_ctx *ctx, const char *dvm, const char *netvm,
                   struct splq_exec *x, long timeout_s, int *status, char *name,
                   struct splq_error *err)
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
		char *a = splq_strdup_printf("--template %s%s%s%s %s", d.name,
		                             netvm ? " --netvm '" : "", netvm ? netvm : "",
		                             netvm ? "'" : "", args);
		free(args);
		args = a;
	}
	if (splq_ops_dvm_check(ctx, &d, "used for disposables", err) < 0)
		goto out;
	if (x->user && splq_user_name_check(x->user, err) < 0)
		goto out;
	/* one of the dvm's pool, if it has one ready (never with a netvm or
	 * a timeout of the caller's: those start one of their own) */
	if (!netvm && !timeout_s && splq_ops_preload_max(ctx, &d) > 0) {
		cleanup_qube struct splq_qube p = {0};
		cleanup_vmcfg struct splq_ops_vmcfg pv = {0};
		int got = splq_ops_preload_take(ctx, &d, &p, &pv, err);
		if (got > 0) {
			rc = handout(ctx, &d, &p, &pv, x, args, status, name, err);
			splq_ops_preload_spawn(d.name);
			return rc;
		}
		if (got < 0)
			goto out;
		/* none ready: the filler (maybe already at work) catches up */
		splq_ops_preload_spawn(d.name);
	}

	/* A stop signal while the disposable is being made would leave it
	 * behind: hold them until it is made, then act on them. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&block, stop_signals[i]);
	if (sigprocmask(SIG_BLOCK, &block, &old) == 0)
		masked = true;

	if (splq_ops_disp_add(ctx, &d, netvm, NULL, &q, err) < 0)
		goto out;
	made = true;
	if (name)
		snprintf(name, SPLQ_NAME_MAX + 1, "%s", q.name);
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	v.c.discard = true;
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
	if (splq_ops_audit_done(ctx, "dispvm", q.name, args, "started", 0, err) < 0 ||
	    splq_ops_netvm_up(ctx, v.c.net.netvm, q.name, err) < 0)
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
	if (made && rc == 0 && !signo && info.remover > 0) {
		/* its command has ended: the disposable is hidden now, and the
		 * backend's remover (its supervisor), the owner from now on,
		 * removes it once it has halted (splq_op_discard) */
		splq_ops_disp_used(ctx, q.name, info.remover);
	} else if (made) {
		/* whatever else happened, the disposable goes now */
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

int splq_op_preload(struct splq_ctx *ctx, const char *dvm, struct splq_preload_report *rep,
                    struct splq_error *err)
{
	cleanup_qube struct splq_qube d = {0};

	ERR_GUARD(err);
	memset(rep, 0, sizeof(*rep));
	splq_ops_reap_disposables(ctx);
	if (dispvm_source(ctx, dvm, &d, err) < 0)
		return -1;
	return splq_ops_preload_fill(ctx, &d, true, rep, err);
}

/* ---------- a qrexec call the policy allowed ---------- */

int splq_op_call(struct splq_ctx *ctx, const char *source, const char *service,
                 const struct splq_call_decision *d, struct splq_exec *x, int *status, char *disp,
                 struct splq_error *err)
{
	ERR_GUARD(err);
	if (!d->allowed)
		return splq_fail(err, SPLQ_E_REFUSED, "the call was refused");
	/* as Qubes names a call in the target: always with its '+' */
	cleanup_free char *full =
	    splq_strdup_printf("%s%s", service, strchr(service, '+') ? "" : "+");
	const char *arg = strchr(full, '+') + 1;
	cleanup_free char *e_full = splq_strdup_printf("QREXEC_SERVICE_FULL_NAME=%s", full);
	cleanup_free char *e_source = splq_strdup_printf("QREXEC_REMOTE_DOMAIN=%s", source);
	cleanup_free char *e_arg = splq_strdup_printf("QREXEC_SERVICE_ARGUMENT=%s", arg);
	char *env[13] = {e_full, e_source, e_arg, "QREXEC_REQUESTED_TARGET_TYPE="};
	int n = 4;
	for (char *const *e = x->env; e && *e && n < 12; e++)
		env[n++] = *e;
	env[n] = NULL;
	x->service = full;
	x->env = env;
	x->user = d->user[0] ? d->user : NULL;
	x->no_autostart = !d->autostart;
	if (strncmp(d->target, "@dispvm:", 8) == 0)
		return splq_op_dispvm(ctx, d->target + 8, NULL, x, 0, status, disp, err);
	if (splq_policy_is_dom0(d->target)) {
		/* the host's own services, in this process (services/host.h) */
		cleanup_free char *name = splq_strdup_printf("%.*s", (int)(arg - 1 - full), full);
		splq_host_service_fn fn = splq_host_service_find(name);
		int st = fn ? fn(x->fds, source, arg) : 127;
		if (status)
			*status = st;
		return 0;
	}
	return splq_op_run(ctx, d->target, x, status, err);
}

/* ---------- file copy ---------- */

/* One end of a copy, run in a child of its own: its stdin, stdout and
 * stderr are pipes to the host's relay. */
struct copy_end {
	const struct splq_copy_req *req;
	const struct splq_call_decision *d;
	int fds[3];
};

static int end_failed(const struct copy_end *e, const struct splq_error *err, int code)
{
	dprintf(e->fds[2], "splq: %s\n", err->msg);
	return code;
}

/* The command line of splq's in-qube helper prog: [flag] -- the paths
 * (malloc'ed; the strings are req's). */
static char **helper_argv(const char *prog, const char *flag, const struct splq_copy_req *req)
{
	char **argv = splq_xmalloc((req->npaths + 4) * sizeof(*argv));
	int n = 0;

	argv[n++] = (char *)prog;
	if (flag)
		argv[n++] = (char *)flag;
	argv[n++] = "--";
	for (size_t i = 0; i < req->npaths; i++)
		argv[n++] = (char *)req->paths[i];
	argv[n] = NULL;
	return argv;
}

static int sender_main(const struct copy_end *e)
{
	const struct splq_copy_req *req = e->req;
	struct splq_error err = {0};
	int status = 0;

	if (strcmp(req->from, DOM0) == 0) {
		struct splq_qfile_send s;
		int rc = splq_qfile_send(e->fds[1], e->fds[0], req->paths, req->npaths,
		                         req->ignore_symlinks ? SPLQ_QFILE_IGNORE_SYMLINKS : 0, &s,
		                         &err);
		splq_qfile_send_free(&s);
		return rc < 0 ? end_failed(e, &err, 1) : 0;
	}
	struct splq_ctx cx; /* the parent's store connection is never used across a fork */
	if (splq_ctx_open(&cx, &err) < 0)
		return end_failed(e, &err, 125);
	char **argv = helper_argv(SPLQ_QX_HELPERS "/qfile-agent",
	                          req->ignore_symlinks ? "--ignore-symlinks" : NULL, req);
	struct splq_exec x = {.argv = argv, .direct = true, .hangup_fd = -1};
	memcpy(x.fds, e->fds, sizeof(x.fds));
	int rc = splq_op_run(&cx, req->from, &x, &status, &err);
	free(argv);
	splq_ctx_close(&cx);
	return rc < 0 ? end_failed(e, &err, 125) : status;
}

static int receiver_main(const struct copy_end *e)
{
	const struct splq_copy_req *req = e->req;
	struct splq_error err = {0};
	int status = 0;

	if (splq_policy_is_dom0(e->d->target)) {
		struct splq_qfile_recv r;
		int dir = open(req->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0) {
			splq_fail_errno(&err, SPLQ_E_NOTFOUND, errno, "cannot open '%s'",
			                req->dest);
			return end_failed(e, &err, 1);
		}
		int rc = req->verify
		             ? splq_qfile_receive_confirmed(e->fds[0], e->fds[1], dir, 0, &r, &err)
		             : splq_qfile_receive(e->fds[0], e->fds[1], dir, 0, &r, &err);
		splq_qfile_recv_free(&r);
		close(dir);
		return rc < 0 ? end_failed(e, &err, 1) : 0;
	}
	struct splq_ctx cx; /* the parent's store connection is never used across a fork */
	if (splq_ctx_open(&cx, &err) < 0)
		return end_failed(e, &err, 125);
	/* only splq's host sets this: the receiver sends its hashes and
	 * waits for the host's word */
	char *env[] = {"SPLQ_QFILE_MANIFEST=1", NULL};
	struct splq_exec x = {.direct = true, .hangup_fd = -1, .env = req->verify ? env : NULL};
	char disp[SPLQ_NAME_MAX + 1] = "";
	memcpy(x.fds, e->fds, sizeof(x.fds));
	int rc = splq_op_call(&cx, req->from, "qubes.Filecopy", e->d, &x, &status, disp, &err);
	splq_ctx_close(&cx);
	return rc < 0 ? end_failed(e, &err, 125) : status;
}

/* Fork an end; the child keeps only fds of all[] (n of them). */
static pid_t fork_end(int (*fn)(const struct copy_end *), struct copy_end *e, const int *all, int n)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	for (int i = 0; i < n; i++)
		if (all[i] != e->fds[0] && all[i] != e->fds[1] && all[i] != e->fds[2])
			close(all[i]);
	_exit(fn(e));
}

static int wait_end(pid_t pid)
{
	int st = 0;

	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid <= 0)
		return 125;
	return splq_exit_code(st);
}

/* move: the sources go, in the source qube or on the host. */
static int remove_sources(struct splq_ctx *ctx, const struct splq_copy_req *req,
                          struct splq_error *err)
{
	if (strcmp(req->from, DOM0) == 0) {
		int rc = 0;
		for (size_t i = 0; i < req->npaths; i++)
			if (splq_rm_tree(req->paths[i], req->secure ? SPLQ_RM_SECURE : 0, err) < 0)
				rc = -1;
		return rc;
	}
	char **argv = helper_argv(SPLQ_QX_HELPERS "/splq-remove", req->secure ? "--secure" : NULL,
	                          req);
	int status = 0;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct splq_exec x = {.argv = argv, .filter = 1, .fds = {null, null, req->err_fd}};
	int rc = splq_op_run(ctx, req->from, &x, &status, err);
	if (null >= 0)
		close(null);
	free(argv);
	if (rc == 0 && status != 0)
		rc = splq_fail(err, SPLQ_E_TRANSFER,
		               "the copy is complete, but not every source could be removed in "
		               "'%s' (splq-remove exited %d)",
		               req->from, status);
	return rc;
}

int splq_op_copy(struct splq_ctx *ctx, const struct splq_copy_req *req,
                 const struct splq_call_decision *d, struct splq_copy_result *res,
                 struct splq_error *err)
{
	bool to_dom0 = splq_policy_is_dom0(d->target);
	struct splq_copy_req r = *req;
	int sp[3][2], rp[3][2], all[12], rc = -1;
	cleanup_free char *args = NULL;
	cleanup_free char *result = NULL;

	ERR_GUARD(err);
	memset(res, 0, sizeof(*res));
	r.verify = req->verify || req->move; /* a move is a verified copy */
	args = splq_strdup_printf("%s -> %s, %zu path%s%s%s", req->from, d->target, req->npaths,
	                          req->npaths == 1 ? "" : "s", r.verify ? ", verify" : "",
	                          req->secure ? ", secure" : "");
	if (!d->allowed) {
		splq_fail(err, SPLQ_E_REFUSED, "the copy was refused");
		goto out;
	}
	if (req->npaths == 0 || req->npaths > 60) {
		splq_fail(err, SPLQ_E_USAGE,
		          "a copy takes 1 to 60 paths (a folder takes its tree)");
		goto out;
	}
	if (to_dom0 != (req->dest != NULL)) {
		splq_fail(err, SPLQ_E_USAGE,
		          to_dom0 ? "files copied to dom0 need a folder to land in (--dest DIR)"
		                  : "--dest is for copies to dom0 only");
		goto out;
	}
	if (strcmp(req->from, d->target) == 0) {
		splq_fail(err, SPLQ_E_USAGE, "'%s' cannot copy files to itself", req->from);
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		if (pipe2(sp[i], O_CLOEXEC) < 0 || pipe2(rp[i], O_CLOEXEC) < 0) {
			splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
			for (int k = 0; k <= i; k++)
				for (int j = 0; j < 2; j++)
					close(sp[k][j]), close(rp[k][j]);
			goto out;
		}
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			all[4 * i + 2 * j] = sp[i][j], all[4 * i + 2 * j + 1] = rp[i][j];
	/* each end's stdin is the read end of its first pipe, its stdout and
	 * stderr the write ends of the others */
	struct copy_end se = {&r, d, {sp[0][0], sp[1][1], sp[2][1]}};
	struct copy_end re = {&r, d, {rp[0][0], rp[1][1], rp[2][1]}};
	fflush(NULL);
	pid_t spid = fork_end(sender_main, &se, all, 12);
	pid_t rpid = spid < 0 ? -1 : fork_end(receiver_main, &re, all, 12);
	for (int i = 0; i < 3; i++)
		close(se.fds[i]), close(re.fds[i]);
	struct splq_filecopy_io io = {.from_sender = sp[1][0],
	                              .to_receiver = rp[0][1],
	                              .from_receiver = rp[1][0],
	                              .to_sender = sp[0][1],
	                              .err = {sp[2][0], rp[2][0]},
	                              .err_out = req->err_fd};
	if (spid < 0 || rpid < 0) {
		int mine[] = {io.from_sender, io.to_receiver, io.from_receiver,
		              io.to_sender,   io.err[0],      io.err[1]};
		for (int i = 0; i < 6; i++)
			close(mine[i]);
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fork");
		wait_end(spid);
		goto out;
	}
	res->c.manifest = r.verify;
	res->c.progress = req->progress;
	res->c.progress_arg = req->progress_arg;
	rc = splq_filecopy_relay(&io, &res->c, err);
	int sst = wait_end(spid), rst = wait_end(rpid);
	if (rc == 0 && rst != 0)
		rc = splq_fail(err, SPLQ_E_TRANSFER, "the receiver in '%s' failed (exit %d)",
		               d->target, rst);
	else if (rc == 0 && sst != 0)
		rc = splq_fail(err, SPLQ_E_TRANSFER,
		               "every file arrived, but the sender in '%s' failed (exit %d)",
		               req->from, sst);
	else if (rc < 0 && rst == 127)
		splq_fail(err, SPLQ_E_TRANSFER, "'%s' has no qubes.Filecopy service", d->target);
	if (rc == 0 && req->move) {
		rc = remove_sources(ctx, &r, err);
		res->removed = rc == 0;
	}
out:
	if (rc == 0)
		result = splq_strdup_printf(
		    "%zu files, %llu bytes%s%s", res->c.sent.n, (unsigned long long)res->c.bytes,
		    res->c.verified ? ", verified" : "", res->removed ? ", sources removed" : "");
	return splq_ops_audit_done(ctx, req->move ? "move" : "copy", req->from, args, result, rc,
	                           err);
}
