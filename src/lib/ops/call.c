/* splq: the decision on a qrexec call (see ops.h): the policy, an ask
 * answered on the host, and the audit entry that says who called what and
 * which rule decided.  The call itself is then a run or a disposable
 * (splq_op_call, lifecycle.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "policy/policy.h"
#include "services/vault.h"
#include "util.h"

/* An ask answered by the prompt program (dom0's qrexec_ask_program):
 * argv SOURCE SERVICE+ARG DEFAULT, the targets one a line on its stdin,
 * the chosen one on its stdout and exit 0.  Otherwise a question on the
 * terminal of the host user whose splq asked, where there is one.  The
 * answer, or NULL for no. */
static char *ask(struct splq_ctx *ctx, const char *source, const char *service,
                 const struct splq_policy_decision *d, bool tty_ok)
{
	cleanup_free char *program = NULL;
	char line[256] = "";
	struct splq_error ignored;

	if (splq_ops_global_get(ctx, "qrexec_ask_program", &program, &ignored) == 0 &&
	    *program) {
		int in[2], out[2];
		if (pipe2(in, O_CLOEXEC) < 0)
			return NULL;
		if (pipe2(out, O_CLOEXEC) < 0) {
			close(in[0]);
			close(in[1]);
			return NULL;
		}
		pid_t pid = fork();
		if (pid == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			char *argv[] = {program, (char *)source, (char *)service,
			                (char *)(d->default_target ? d->default_target : ""), NULL};
			execv(program, argv);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		for (int i = 0; pid > 0 && i < d->ntargets; i++)
			if (dprintf(in[1], "%s\n", d->targets[i]) < 0)
				break;
		close(in[1]);
		ssize_t n = pid > 0 ? read(out[0], line, sizeof(line) - 1) : -1;
		close(out[0]);
		int st = 1;
		while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return NULL;
		line[n] = 0;
	} else {
		if (!tty_ok)
			return NULL;
		cleanup_close int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty < 0)
			return NULL;
		dprintf(tty, "qrexec: '%s' asks to call %s. Allowed targets:", source, service);
		for (int i = 0; i < d->ntargets; i++)
			dprintf(tty, " %s", d->targets[i]);
		dprintf(tty, "\nTarget%s%s%s (empty for no): ", d->default_target ? " [" : "",
		        d->default_target ? d->default_target : "", d->default_target ? "]" : "");
		ssize_t n = read(tty, line, sizeof(line) - 1);
		if (n <= 0)
			return NULL;
		line[n] = 0;
		if (line[0] == '\n' && d->default_target)
			snprintf(line, sizeof(line), "%s", d->default_target);
	}
	line[strcspn(line, "\n")] = 0;
	for (int i = 0; i < d->ntargets; i++)
		if (strcmp(line, d->targets[i]) == 0)
			return splq_xstrdup(line);
	return NULL;
}

int splq_op_call_decide(struct splq_ctx *ctx, const char *source, const char *target,
                        const char *service, bool tty_ok, struct splq_call_decision *out,
                        struct splq_error *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *args = NULL;
	cleanup_free char *answer = NULL;
	cleanup_qube struct splq_qube q = {0};
	struct splq_policy *p = NULL;
	struct splq_policy_sysinfo *si = NULL;
	struct splq_policy_decision d = {0};
	int rc = -1;

	ERR_GUARD(err);
	memset(out, 0, sizeof(*out));
	args = splq_strdup_printf("%s -> %s %s", source, *target ? target : "@default", service);
	if (splq_ops_qube_get(ctx, source, &q, err) < 0 || splq_op_policy_dir(ctx, &dir, err) < 0 ||
	    splq_op_policy_load(dir, &p, err) < 0 || splq_op_policy_sysinfo(ctx, &si, err) < 0)
		goto out;
	splq_policy_eval_call(p, si, service, source, target, &d);
	if (d.file)
		snprintf(out->rule, sizeof(out->rule), "%s:%d", d.file, d.line);
	if (d.action == SPLQ_POLICY_ASK) {
		answer = ask(ctx, source, service, &d, tty_ok);
		if (!answer) {
			snprintf(out->why, sizeof(out->why), "the ask was not answered yes");
		} else {
			snprintf(out->target, sizeof(out->target), "%s", answer);
			out->allowed = true;
		}
	} else if (d.action == SPLQ_POLICY_ALLOW) {
		snprintf(out->target, sizeof(out->target), "%s", d.target);
		out->allowed = true;
	} else {
		snprintf(out->why, sizeof(out->why), "%s", d.reason);
	}
	if (out->allowed) {
		snprintf(out->user, sizeof(out->user), "%s",
		         splq_vault_service_is(service) ? SPLQ_VAULT_USER : d.user ? d.user : "");
		out->autostart = d.autostart;
	}
	rc = 0;
out:
	splq_policy_decision_clear(&d);
	splq_policy_sysinfo_free(si);
	splq_policy_free(p);
	{
		cleanup_free char *result =
		    rc < 0 ? NULL
		    : out->allowed
		        ? splq_strdup_printf("allow target=%s%s%s (%s)", out->target,
		                             out->autostart ? "" : " autostart=no",
		                             answer ? " asked" : "", out->rule)
		        : splq_strdup_printf("deny (%s%s%s)", out->rule[0] ? out->rule : "",
		                             out->rule[0] ? ": " : "", out->why);
		return splq_ops_audit_done(ctx, "call", source, args, result, rc, err);
	}
}
