/* splq: volumes, as qvm-volume shows and resizes them (see ops.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

void splq_volume_info_clear(struct splq_volume_info *v)
{
	if (!v)
		return;
	free(v->path);
	free(v->source);
	v->path = v->source = NULL;
}

/* The facts of volume vol of qube q (not dom0). */
static int describe(struct splq_ctx *ctx, const struct splq_qube *q, int vol,
                    struct splq_volume_info *out, struct splq_error *err)
{
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	const char *name = q->name;

	memset(out, 0, sizeof(*out));
	snprintf(out->qube, sizeof(out->qube), "%s", name);
	out->name = splq_volume_names[vol];
	out->usage = -1;
	out->rw = true;
	if (splq_ops_volume_size(ctx, q, vol, &out->size, &out->size_default, out->size_of, err) <
	    0)
		return -1;
	if (splq_ops_vmcfg_build(ctx, q, &v, err) < 0)
		return -1;
	bool own_root = q->klass == SPLQ_CLASS_TEMPLATEVM || q->klass == SPLQ_CLASS_STANDALONEVM;
	switch (vol) {
	case 0: {
		/* an ext4 image: a template's current generation, a
		 * StandaloneVM's own; an AppVM's is its template's */
		cleanup_free char *link =
		    splq_strdup_printf("%s/templates/%s/root", ctx->home, v.root_of);
		char *real = q->klass == SPLQ_CLASS_TEMPLATEVM ? realpath(link, NULL) : NULL;
		out->pool = "image";
		out->path = q->klass == SPLQ_CLASS_STANDALONEVM
		                ? splq_strdup_printf("%s/qubes/%s/root.img", ctx->home, name)
		            : real ? real
		                   : splq_steal(link);
		out->source =
		    own_root ? splq_xstrdup("") : splq_strdup_printf("%s:root", v.root_of);
		out->save_on_stop = own_root;
		out->snap_on_start = !own_root;
		/* an overlay root's writes go to the volatile volume */
		out->bounded = true;
		break;
	}
	case 1:
		if (q->klass == SPLQ_CLASS_DISPVM) {
			/* from its dvm's snapshot, its writes in memory */
			out->pool = "tmpfs";
			out->path = splq_xstrdup("");
			out->source = v.private_of ? splq_strdup_printf("%s:private", v.private_of)
			                           : splq_xstrdup("");
			out->snap_on_start = v.private_of != NULL;
		} else {
			out->pool = "image";
			out->path = splq_strdup_printf("%s/qubes/%s/private.img", ctx->home, name);
			out->source = splq_xstrdup("");
			out->save_on_stop = true;
		}
		out->bounded = true;
		break;
	default:
		out->pool = "tmpfs";
		out->path = splq_xstrdup("");
		out->source = splq_xstrdup("");
		out->ephemeral = true;
		out->bounded = true;
		break;
	}
	out->running = splq_ops_power_of(ctx, q) != SPLQ_HALTED;
	const struct splq_backend_ops *ops = ctx->backend->ops;
	if (ops->volume_usage)
		out->usage = ops->volume_usage(ctx->backend, &v.c, vol);
	return 0;
}

/* "QUBE:VOLUME" to the qube and the volume's index. */
static int parse_spec(struct splq_ctx *ctx, const char *spec, struct splq_qube *q, int *vol,
                      struct splq_error *err)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	char qname[SPLQ_NAME_MAX + 2];

	if (!colon || colon == spec || !colon[1])
		return splq_fail(err, SPLQ_E_USAGE,
		                 "'%s' does not name a volume: give QUBE:VOLUME "
		                 "(work:private)",
		                 spec ? spec : "");
	if ((size_t)(colon - spec) > SPLQ_NAME_MAX)
		return splq_fail(err, SPLQ_E_NOTFOUND, "no such qube '%.*s'", (int)(colon - spec),
		                 spec);
	snprintf(qname, sizeof(qname), "%.*s", (int)(colon - spec), spec);
	if (splq_ops_qube_get(ctx, qname, q, err) < 0)
		return -1;
	*vol = q->klass == SPLQ_CLASS_ADMINVM ? -1 : splq_volume_index(colon + 1);
	if (*vol < 0)
		return splq_fail(
		    err, SPLQ_E_NOTFOUND, "qube '%s' has no volume '%s'%s", q->name, colon + 1,
		    q->klass == SPLQ_CLASS_ADMINVM ? "" : " (root, private, volatile)");
	return 0;
}

int splq_op_volume_list(struct splq_ctx *ctx, const char *qube, struct splq_volume_info **out,
                        int *n, struct splq_error *err)
{
	struct splq_qube *qs = NULL;
	int nq = 0, rc = -1;

	ERR_GUARD(err);
	*out = NULL;
	*n = 0;
	if (qube) {
		qs = splq_xcalloc(1, sizeof(*qs));
		if (splq_ops_qube_get(ctx, qube, qs, err) < 0) {
			free(qs);
			return -1;
		}
		nq = 1;
	} else if (splq_store_qube_list(ctx->store, &qs, &nq, err) < 0) {
		return -1;
	}
	*out = splq_xcalloc((size_t)nq * 3 + 1, sizeof(**out));
	for (int i = 0; i < nq; i++) {
		if (qs[i].klass == SPLQ_CLASS_ADMINVM)
			continue;
		for (int vol = 0; vol < 3; vol++) {
			if (describe(ctx, &qs[i], vol, &(*out)[*n], err) < 0)
				goto out;
			++*n;
		}
	}
	rc = 0;
out:
	if (rc < 0) {
		for (int i = 0; i < *n; i++)
			splq_volume_info_clear(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	splq_qube_list_free(qs, nq);
	return rc;
}

int splq_op_volume_info(struct splq_ctx *ctx, const char *spec, struct splq_volume_info *out,
                        struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	int vol;

	ERR_GUARD(err);
	memset(out, 0, sizeof(*out));
	if (parse_spec(ctx, spec, &q, &vol, err) < 0)
		return -1;
	return describe(ctx, &q, vol, out, err);
}

static int resize(struct splq_ctx *ctx, struct splq_qube *q, int vol, const char *size, bool *live,
                  struct splq_volume_info *out, struct splq_error *err)
{
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	unsigned long long bytes, now;
	bool is_default;
	char owner[SPLQ_NAME_MAX + 1], was[32], want[32];
	const char *vname = splq_volume_names[vol];

	if (splq_size_parse(size, &bytes, err) < 0)
		return -1;
	if (q->klass == SPLQ_CLASS_DISPVM || (q->klass == SPLQ_CLASS_APPVM && vol == 0)) {
		if (splq_ops_volume_size(ctx, q, vol, &now, &is_default, owner, err) < 0)
			return -1;
		return splq_fail(err, SPLQ_E_VALUE,
		                 "the %s volume of %s '%s' takes its size from '%s': resize %s:%s",
		                 vname, splq_class_name(q->klass), q->name, owner, owner, vname);
	}
	if (splq_ops_volume_size(ctx, q, vol, &now, &is_default, NULL, err) < 0)
		return -1;
	splq_size_format(now, was, sizeof(was));
	splq_size_format(bytes, want, sizeof(want));
	if (bytes < now)
		return splq_fail(err, SPLQ_E_SHRINK,
		                 "volume '%s:%s' is %s; it cannot shrink to %s (volumes only grow)",
		                 q->name, vname, was, want);
	if (splq_store_begin(ctx->store, err) < 0)
		return -1;
	if (splq_store_volume_set(ctx->store, q->name, vname, bytes, err) < 0 ||
	    splq_ops_vmcfg_build(ctx, q, &v, err) < 0 ||
	    ctx->backend->ops->volume_grow(ctx->backend, &v.c, vol, bytes, live, err) < 0 ||
	    splq_store_commit(ctx->store, err) < 0) {
		splq_store_rollback(ctx->store);
		return -1;
	}
	return describe(ctx, q, vol, out, err);
}

int splq_op_volume_resize(struct splq_ctx *ctx, const char *spec, const char *size, bool *live,
                          struct splq_volume_info *out, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_free char *args = NULL;
	int vol, rc;

	ERR_GUARD(err);
	memset(out, 0, sizeof(*out));
	*live = false;
	if (parse_spec(ctx, spec, &q, &vol, err) < 0)
		return -1;
	args = splq_strdup_printf("%s %s", splq_volume_names[vol], size ? size : "");
	rc = resize(ctx, &q, vol, size, live, out, err);
	return splq_ops_audit_done(ctx, "volume-resize", q.name, args,
	                           rc == 0 && *live ? "ok (live)" : NULL, rc, err);
}
