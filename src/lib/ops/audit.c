/* splq: the audit log read back and verified (see ops.h; the log itself:
 * audit.h).  Reading it changes nothing, so it is not audited. */
#include "ops.h"

int splq_op_audit_log(struct splq_ctx *ctx, const char *qube, long long since_ms,
                      struct splq_audit_entry **out, int *n, struct splq_error *err)
{
	/* no check that the qube exists: a removed qube's entries stay */
	return splq_audit_read(ctx->home, qube, since_ms, out, n, err);
}

int splq_op_audit_verify(struct splq_ctx *ctx, long long *entries, long long *bad_line,
                         struct splq_error *err)
{
	return splq_audit_verify(ctx->store, ctx->home, entries, bad_line, err);
}
