/* splq: a qube's log (see splq_op_logs in ops.h).  Reading it changes
 * nothing, so it is not audited (as ls, prefs and audit log are not). */
#include "ops.h"

#include "internal.h"

int splq_op_logs(struct splq_ctx *ctx, const char *name, int fd, int filter, bool follow,
                 struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	if (q.klass == SPLQ_CLASS_ADMINVM)
		return splq_fail(err, SPLQ_E_VALUE, "dom0 has no log with splq: it is the host");
	if (!ctx->backend->ops->logs)
		return splq_fail(err, SPLQ_E_UNSUPPORTED, "the %s backend keeps no qube logs",
		                 ctx->backend->ops->name);
	return ctx->backend->ops->logs(ctx->backend, q.name, fd, filter, follow, err);
}
