/* splq: a qube's properties (prefs), tags and features, and the list of
 * qubes (see ops.h).  The property checks, shared with create, are in
 * common.c. */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

/* ---------- list ---------- */

void splq_qube_info_free(struct splq_qube_info *v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++) {
		free(v[i].label);
		free(v[i].template);
		free(v[i].netvm);
	}
	free(v);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int splq_op_list(struct splq_ctx *ctx, struct splq_qube_info **out, int *n, struct splq_error *err)
{
	struct splq_qube *list = NULL;
	struct splq_qube_info *info = NULL;
	int nq = 0, k = 0;

	ERR_GUARD(err);
	*out = NULL;
	*n = 0;
	splq_ops_reap_disposables(ctx);
	/* one read of the store: each property the listing shows read for
	 * every qube at once */
	static const char *const shown[] = {"label", "template", "netvm", "memory",
	                                    "provides_network", "default_netvm"};
	char **internal = NULL;
	int ninternal = 0;
	if (splq_store_read_begin(ctx->store, err) < 0)
		return -1;
	if (splq_store_read_prefetch(ctx->store, shown, sizeof(shown) / sizeof(shown[0]), err) <
	        0 ||
	    splq_store_feature_holders(ctx->store, SPLQ_FEATURE_INTERNAL, &internal, &ninternal,
	                               err) < 0 ||
	    splq_store_qube_list(ctx->store, &list, &nq, err) < 0)
		goto fail;
	info = splq_xcalloc(nq ? nq : 1, sizeof(*info));
	/* dom0 first, then the rest in the store's (name) order */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < nq; i++) {
			struct splq_qube *q = &list[i];
			struct splq_qube_info *o;
			long mem = 0;

			if ((pass == 0) != (q->klass == SPLQ_CLASS_ADMINVM))
				continue;
			o = &info[k++];
			snprintf(o->name, sizeof(o->name), "%s", q->name);
			o->klass = q->klass;
			o->power = splq_ops_power_of(ctx, q);
			if (splq_ops_prop_get(ctx, q, "label", &o->label, err) < 0)
				goto fail;
			if (splq_class_has_template(q->klass)) {
				if (splq_ops_prop_get(ctx, q, "template", &o->template, err) < 0)
					goto fail;
			}
			if (!o->template)
				o->template = splq_xstrdup("");
			if (q->klass != SPLQ_CLASS_ADMINVM &&
			    splq_ops_prop_get(ctx, q, "netvm", &o->netvm, err) < 0)
				goto fail;
			if (!o->netvm)
				o->netvm = splq_xstrdup("");
			if (!o->label)
				o->label = splq_xstrdup("");
			if (q->klass != SPLQ_CLASS_ADMINVM &&
			    splq_ops_prop_long(ctx, q, "memory", 0, &mem, err) < 0)
				goto fail;
			o->memory = mem;
			o->provides_network =
			    q->klass != SPLQ_CLASS_ADMINVM && splq_ops_prop_true(ctx, q, "provides_network");
			o->internal = bsearch(&(const char *){q->name}, internal, ninternal,
			                      sizeof(char *), cmp_name) != NULL;
		}
	}
	splq_store_read_end(ctx->store);
	splq_strv_free(internal, ninternal);
	splq_qube_list_free(list, nq);
	*out = info;
	*n = k;
	return 0;
fail:
	splq_store_read_end(ctx->store);
	splq_strv_free(internal, ninternal);
	splq_qube_list_free(list, nq);
	splq_qube_info_free(info, k);
	return -1;
}

/* A qube whose figures the backend can tell: not dom0, and a backend
 * that keeps them (has). */
static int figures_of(struct splq_ctx *ctx, const char *name, bool has, struct splq_qube *q,
                      struct splq_error *err)
{
	if (splq_ops_qube_get(ctx, name, q, err) < 0)
		return -1;
	if (q->klass == SPLQ_CLASS_ADMINVM)
		return splq_fail(err, SPLQ_E_VALUE, "dom0 is the host: splq keeps no figures of it");
	if (!has)
		return splq_fail(err, SPLQ_E_UNSUPPORTED, "the %s backend keeps no figures of qubes",
		                 ctx->backend->ops->name);
	return 0;
}

int splq_op_usage(struct splq_ctx *ctx, const char *name, struct splq_usage *out,
                  struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	if (figures_of(ctx, name, ctx->backend->ops->usage, &q, err) < 0)
		return -1;
	return ctx->backend->ops->usage(ctx->backend, q.name, out, err);
}

int splq_op_processes(struct splq_ctx *ctx, const char *name, struct splq_process **out, int *n,
                      struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	*out = NULL;
	*n = 0;
	if (figures_of(ctx, name, ctx->backend->ops->processes, &q, err) < 0)
		return -1;
	return ctx->backend->ops->processes(ctx->backend, q.name, out, n, err);
}

/* ---------- prefs ---------- */

void splq_prefs_free(struct splq_pref *v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}

static int pref_read(struct splq_ctx *ctx, const struct splq_qube *q,
                     const struct splq_prop_def *def, struct splq_pref *out, struct splq_error *err)
{
	out->def = def;
	out->value = NULL;
	out->is_default = false;
	if (splq_store_prop_get(ctx->store, q, def->name, &out->value, &out->is_default, err) < 0)
		return -1;
	if (!out->value)
		out->value = splq_xstrdup("");
	return 0;
}

int splq_op_prefs_list(struct splq_ctx *ctx, const char *qube, struct splq_pref **out, int *n,
                       struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	struct splq_pref *v;
	int count = 0, k = 0;

	ERR_GUARD(err);
	*out = NULL;
	*n = 0;
	if (splq_ops_qube_get(ctx, qube, &q, err) < 0)
		return -1;
	for (const struct splq_prop_def *def = splq_props; def->name; def++)
		count++;
	v = splq_xcalloc(count ? count : 1, sizeof(*v));
	for (const struct splq_prop_def *def = splq_props; def->name; def++) {
		if (!splq_ops_class_has(def, q.klass))
			continue;
		if (pref_read(ctx, &q, def, &v[k], err) < 0) {
			splq_prefs_free(v, k);
			return -1;
		}
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

int splq_op_prefs_get(struct splq_ctx *ctx, const char *qube, const char *prop,
                      struct splq_pref *out, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	const struct splq_prop_def *def;

	ERR_GUARD(err);
	memset(out, 0, sizeof(*out));
	if (splq_ops_qube_get(ctx, qube, &q, err) < 0)
		return -1;
	def = splq_ops_prop_def(prop, err);
	if (!def)
		return -1;
	if (!splq_ops_class_has(def, q.klass))
		return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' (%s) has no property '%s'",
		                 q.name, splq_class_name(q.klass), def->name);
	return pref_read(ctx, &q, def, out, err);
}

/* ---------- changes: prefs, tags and features ---------- */

/* A change to qube q, with key and value as the op was given them. */
typedef int (*qube_change_fn)(struct splq_ctx *ctx, const struct splq_qube *q, const char *key,
                              const char *value, struct splq_error *err);

/* Find qube, make the change and log it as op, whatever the outcome (a
 * qube that does not exist gets no entry).  The entry's args: "verb key",
 * or "key=value" without a verb. */
static int qube_change(struct splq_ctx *ctx, const char *qube, const char *op, const char *verb,
                       qube_change_fn change, const char *key, const char *value,
                       struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_free char *args = NULL;
	int rc;

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, qube, &q, err) < 0)
		return -1;
	if (verb)
		args = splq_strdup_printf("%s %s", verb, key ? key : "");
	else
		args = splq_strdup_printf("%s=%s", key ? key : "", value ? value : "");
	rc = change(ctx, &q, key, value, err);
	return splq_ops_audit_done(ctx, op, q.name, args, NULL, rc, err);
}

/* The property prop of q, when it may change now; NULL when not. */
static const struct splq_prop_def *pref_changeable(struct splq_ctx *ctx, const struct splq_qube *q,
                                                   const char *prop, struct splq_error *err)
{
	const struct splq_prop_def *def = splq_ops_prop_def(prop, err);
	bool running;

	if (!def)
		return NULL;
	running = splq_ops_power_of(ctx, q) != SPLQ_HALTED;
	if (splq_ops_prop_changeable(q->name, q->klass, running, def, err) < 0)
		return NULL;
	return def;
}

/* memory and maxmem of q once prop is value (NULL: reset): a maxmem that is
 * set stays at least memory; the default one follows it. */
static int memory_pair_check(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop,
                             const char *value, struct splq_error *err)
{
	cleanup_free char *max = NULL;
	bool max_default;
	long memory;

	if (!splq_ops_streq(prop, "memory") && !splq_ops_streq(prop, "maxmem"))
		return 0;
	if (splq_ops_streq(prop, "maxmem")) {
		if (!value)
			return 0;
		if (splq_ops_prop_long(ctx, q, "memory", 400, &memory, err) < 0)
			return -1;
		return splq_ops_memory_check(q->name, memory, strtol(value, NULL, 10), err);
	}
	if (splq_store_prop_get(ctx->store, q, "maxmem", &max, &max_default, err) < 0)
		return -1;
	if (max_default)
		return 0;
	memory = strtol(value ? value : splq_prop_find("memory")->dflt, NULL, 10);
	return splq_ops_memory_check(q->name, memory, strtol(max, NULL, 10), err);
}

/* The running qubes (but dom0) and their netvms, as they are set now. */
struct netvms {
	struct splq_qube *list;
	char **netvm; /* NULL for a halted qube */
	int n;
};

static void netvms_free(struct netvms *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->netvm[i]);
	free(r->netvm);
	splq_qube_list_free(r->list, r->n);
	*r = (struct netvms){0};
}

static int netvms_get(struct splq_ctx *ctx, struct netvms *r, struct splq_error *err)
{
	*r = (struct netvms){0};
	if (splq_store_qube_list(ctx->store, &r->list, &r->n, err) < 0)
		return -1;
	r->netvm = splq_xcalloc((size_t)r->n + 1, sizeof(*r->netvm));
	for (int i = 0; i < r->n; i++)
		if (r->list[i].klass != SPLQ_CLASS_ADMINVM &&
		    splq_ops_power_of(ctx, &r->list[i]) != SPLQ_HALTED &&
		    splq_ops_prop_get(ctx, &r->list[i], "netvm", &r->netvm[i], err) < 0) {
			netvms_free(r);
			return -1;
		}
	return 0;
}

/* A running qube whose netvm a change moved (its own netvm, dom0's
 * default_netvm, its dvm's), and set, whose netvm was set (to the same,
 * maybe: linked again), is linked to the new one at once (which must be
 * running, as in Qubes OS), or cut off.  before: as they were. */
static int relink_moved(struct splq_ctx *ctx, const struct netvms *before, const char *set,
                        struct splq_error *err)
{
	struct splq_ops_vmcfg *v = splq_xcalloc((size_t)before->n + 1, sizeof(*v));
	bool *moved = splq_xcalloc((size_t)before->n + 1, sizeof(*moved));
	int rc = -1;

	/* every new netvm is checked before any qube changes over */
	for (int i = 0; i < before->n; i++) {
		cleanup_qube struct splq_qube n = {0};

		if (!before->netvm[i])
			continue;
		if (splq_ops_vmcfg_build(ctx, &before->list[i], &v[i], err) < 0)
			goto out;
		moved[i] = !splq_ops_streq(v[i].c.net.netvm, before->netvm[i]) ||
		           splq_ops_streq(before->list[i].name, set);
		if (moved[i] && *v[i].c.net.netvm &&
		    (splq_ops_qube_get(ctx, v[i].c.net.netvm, &n, err) < 0 ||
		     splq_ops_power_of(ctx, &n) != SPLQ_RUNNING)) {
			splq_fail(err, SPLQ_E_STATE,
			          "netvm '%s' of '%s' is not running: a running qube changes over only "
			          "to a running netvm (start it first)",
			          v[i].c.net.netvm, before->list[i].name);
			goto out;
		}
	}
	rc = 0;
	for (int i = 0; i < before->n && rc == 0; i++)
		if (moved[i])
			rc = ctx->backend->ops->net_relink(ctx->backend, &v[i].c, err);
out:
	for (int i = 0; i < before->n; i++)
		splq_ops_vmcfg_clear(&v[i]);
	free(v);
	free(moved);
	return rc;
}

/* Set (value) or reset (NULL) prop of q; the network settings are
 * checked as they are then, and the change undone where they disagree. */
static int net_change(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop,
                      const char *value, struct splq_error *err)
{
	static const char *const moving[] = {"netvm", "default_netvm", "provides_network"};
	struct netvms before = {0};
	bool moves = false;
	int rc = -1;

	for (size_t i = 0; i < sizeof(moving) / sizeof(*moving); i++)
		moves = moves || splq_ops_streq(prop, moving[i]);
	if (splq_store_begin(ctx->store, err) < 0)
		return -1;
	if (moves && netvms_get(ctx, &before, err) < 0)
		goto out;
	if ((value ? splq_store_prop_set(ctx->store, q->name, prop, value, err)
	           : splq_store_prop_reset(ctx->store, q->name, prop, err)) < 0 ||
	    splq_ops_net_check(ctx, q->name, true, err) < 0 ||
	    (moves && relink_moved(ctx, &before, splq_ops_streq(prop, "netvm") ? q->name : NULL,
	                           err) < 0))
		goto out;
	rc = splq_store_commit(ctx->store, err);
out:
	if (rc < 0)
		splq_store_rollback(ctx->store);
	netvms_free(&before);
	return rc;
}

static int pref_set(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop,
                    const char *value, struct splq_error *err)
{
	const struct splq_prop_def *def = pref_changeable(ctx, q, prop, err);
	cleanup_free char *canon = NULL;

	if (!def)
		return -1;
	if (splq_prop_parse(def, value ? value : "", &canon, err) < 0)
		return -1;
	if (splq_ops_prop_value_check(ctx, q->klass, def, canon, err) < 0)
		return -1;
	if (memory_pair_check(ctx, q, def->name, canon, err) < 0)
		return -1;
	return net_change(ctx, q, def->name, canon, err);
}

static int pref_reset(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop,
                      const char *unused, struct splq_error *err)
{
	const struct splq_prop_def *def = pref_changeable(ctx, q, prop, err);

	if (!def)
		return -1;
	if (splq_ops_streq(def->name, "template"))
		return splq_fail(
		    err, SPLQ_E_VALUE,
		    "property 'template' has no default; set another template instead");
	if (memory_pair_check(ctx, q, def->name, NULL, err) < 0)
		return -1;
	return net_change(ctx, q, def->name, NULL, err);
}

static int tag_add(struct splq_ctx *ctx, const struct splq_qube *q, const char *tag,
                   const char *unused, struct splq_error *err)
{
	if (splq_tag_check(tag ? tag : "", err) < 0)
		return -1;
	return splq_store_tag_add(ctx->store, q->name, tag, err);
}

static int tag_remove(struct splq_ctx *ctx, const struct splq_qube *q, const char *tag,
                      const char *unused, struct splq_error *err)
{
	if (splq_tag_check(tag ? tag : "", err) < 0)
		return -1;
	return splq_store_tag_remove(ctx->store, q->name, tag, err);
}

/* After preload-dispvm-max of q changed: the pool it sizes (q's, or for
 * dom0 its default_dispvm's) shrinks now and grows in the background. */
static void preload_resize(struct splq_ctx *ctx, const struct splq_qube *q)
{
	cleanup_qube struct splq_qube d = {0};
	cleanup_free char *dflt = NULL;
	const char *dvm = q->name;
	if (q->klass == SPLQ_CLASS_ADMINVM) {
		if (splq_ops_global_get(ctx, "default_dispvm", &dflt, NULL) < 0 || !*dflt)
			return;
		dvm = dflt;
	}
	if (splq_store_qube_get(ctx->store, dvm, &d, NULL) < 0)
		return;
	struct splq_preload_report rep;
	splq_ops_preload_fill(ctx, &d, false, &rep, NULL);
	splq_preload_report_clear(&rep);
	if (splq_ops_preload_max(ctx, &d) > 0)
		splq_ops_preload_spawn(d.name);
}

static int feature_set(struct splq_ctx *ctx, const struct splq_qube *q, const char *name,
                       const char *value, struct splq_error *err)
{
	long n;
	bool pool = splq_ops_streq(name, SPLQ_PRELOAD_MAX);
	if (splq_feature_check(name ? name : "", value ? value : "", err) < 0 ||
	    (pool && splq_ops_preload_value(value, &n, err) < 0) ||
	    splq_store_feature_set(ctx->store, q->name, name, value, err) < 0)
		return -1;
	if (pool)
		preload_resize(ctx, q);
	return 0;
}

static int feature_remove(struct splq_ctx *ctx, const struct splq_qube *q, const char *name,
                          const char *unused, struct splq_error *err)
{
	if (splq_feature_name_check(name ? name : "", err) < 0 ||
	    splq_store_feature_remove(ctx->store, q->name, name, err) < 0)
		return -1;
	if (splq_ops_streq(name, SPLQ_PRELOAD_MAX))
		preload_resize(ctx, q);
	return 0;
}

int splq_op_prefs_set(struct splq_ctx *ctx, const char *qube, const char *prop, const char *value,
                      struct splq_error *err)
{
	return qube_change(ctx, qube, "prefs", NULL, pref_set, prop, value, err);
}

int splq_op_prefs_reset(struct splq_ctx *ctx, const char *qube, const char *prop,
                        struct splq_error *err)
{
	return qube_change(ctx, qube, "prefs", "reset", pref_reset, prop, NULL, err);
}

int splq_op_tag_add(struct splq_ctx *ctx, const char *qube, const char *tag, struct splq_error *err)
{
	return qube_change(ctx, qube, "tags", "add", tag_add, tag, NULL, err);
}

int splq_op_tag_remove(struct splq_ctx *ctx, const char *qube, const char *tag,
                       struct splq_error *err)
{
	return qube_change(ctx, qube, "tags", "del", tag_remove, tag, NULL, err);
}

int splq_op_feature_set(struct splq_ctx *ctx, const char *qube, const char *name, const char *value,
                        struct splq_error *err)
{
	return qube_change(ctx, qube, "features", NULL, feature_set, name, value, err);
}

int splq_op_feature_remove(struct splq_ctx *ctx, const char *qube, const char *name,
                           struct splq_error *err)
{
	return qube_change(ctx, qube, "features", "unset", feature_remove, name, NULL, err);
}

/* ---------- tags and features ---------- */

/* A qube named qube exists: the store's own "no such qube" when not. */
static int qube_exists(struct splq_ctx *ctx, const char *qube, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	if (!qube)
		return splq_fail(err, SPLQ_E_USAGE, "no qube named");
	return splq_store_qube_get(ctx->store, qube, &q, err);
}

int splq_op_tag_list(struct splq_ctx *ctx, const char *qube, char ***tags, int *n,
                     struct splq_error *err)
{
	*tags = NULL;
	*n = 0;
	if (qube_exists(ctx, qube, err) < 0)
		return -1;
	return splq_store_tag_list(ctx->store, qube, tags, n, err);
}

int splq_op_feature_list(struct splq_ctx *ctx, const char *qube, char ***names, char ***values,
                         int *n, struct splq_error *err)
{
	*names = *values = NULL;
	*n = 0;
	if (qube_exists(ctx, qube, err) < 0)
		return -1;
	return splq_store_feature_list(ctx->store, qube, names, values, n, err);
}

int splq_op_feature_get(struct splq_ctx *ctx, const char *qube, const char *name, char **value,
                        struct splq_error *err)
{
	*value = NULL;
	if (qube_exists(ctx, qube, err) < 0)
		return -1;
	return splq_store_feature_get(ctx->store, qube, name ? name : "", value, err);
}
