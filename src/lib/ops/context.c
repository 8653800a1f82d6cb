/* splq: the context every operation works in (see ops.h): the store
 * under SPLQ_HOME, runtime state under SPLQ_RUN, and the backend. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "util.h"

/* A folder from the environment (var): absolute, or refused, since a
 * relative one would put a store wherever splq happens to run. */
static char *abs_dir(const char *var, const char *p, struct splq_error *err)
{
	char *r;
	size_t len;

	if (p[0] != '/') {
		splq_fail(err, SPLQ_E_VALUE, "%s must be an absolute path, not '%s'", var, p);
		return NULL;
	}
	r = splq_xstrdup(p);
	len = strlen(r);
	while (len > 1 && r[len - 1] == '/')
		r[--len] = '\0';
	return r;
}

int splq_ctx_open(struct splq_ctx *ctx, struct splq_error *err)
{
	const char *home, *run;

	memset(ctx, 0, sizeof(*ctx));
	if (geteuid() != 0)
		return splq_fail(err, SPLQ_E_PERM,
		                 "must be run as root (rootless mode is not supported yet)");
	home = getenv("SPLQ_HOME");
	if (!home || !*home)
		home = "/var/lib/splq";
	run = getenv("SPLQ_RUN");
	if (!run || !*run)
		run = "/run/splq";
	ctx->home = abs_dir("SPLQ_HOME", home, err);
	if (!ctx->home)
		goto fail;
	ctx->run = abs_dir("SPLQ_RUN", run, err);
	if (!ctx->run)
		goto fail;
	if (splq_mkdir_p(ctx->home, 0700, err) < 0)
		goto fail;
	if (splq_store_open(ctx->home, &ctx->store, err) < 0)
		goto fail;
	if (splq_backend_native_new(ctx->home, ctx->run, &ctx->backend, err) < 0)
		goto fail;
	splq_audit_host_actor(ctx->actor);
	return 0;
fail:
	splq_ctx_close(ctx);
	return -1;
}

void splq_ctx_close(struct splq_ctx *ctx)
{
	if (ctx->backend && ctx->backend->ops && ctx->backend->ops->free)
		ctx->backend->ops->free(ctx->backend);
	ctx->backend = NULL;
	if (ctx->store)
		splq_store_close(ctx->store);
	ctx->store = NULL;
	free(ctx->home);
	free(ctx->run);
	ctx->home = ctx->run = NULL;
}
