/* splq: a qube's firewall rules, as qvm-firewall keeps them (see ops.h):
 * Qubes' text, checked rule by rule, stored, and applied at once in the
 * netvm of a running qube. */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/firewall.h"
#include "internal.h"
#include "util.h"

/* The rules of qube q as they are set (Qubes' default when none are). */
static int rules_load(struct splq_ctx *ctx, const char *qube, struct splq_fw_rules *r,
                      bool *is_default, struct splq_error *err)
{
	cleanup_free char *text = NULL;

	*r = (struct splq_fw_rules){0};
	if (splq_store_firewall_get(ctx->store, qube, &text, err) < 0)
		return -1;
	if (is_default)
		*is_default = !text;
	if (!text)
		return splq_fw_rules_default(r);
	if (splq_fw_rules_parse(text, strlen(text), (long long)time(NULL), r, err) < 0)
		return splq_fail(err, SPLQ_E_CORRUPT, "the stored firewall of '%s': %s", qube,
		                 err->msg);
	return 0;
}

/* The rules as Qubes' text, one a line; those expired at now left out. */
static char *rules_text(const struct splq_fw_rules *r, long long now)
{
	size_t len = 0;
	char *out = splq_xstrdup("");

	for (size_t i = 0; i < r->n; i++) {
		if (splq_fw_rule_expired(&r->v[i], now))
			continue;
		cleanup_free char *line = splq_fw_rule_format(&r->v[i]);
		splq_str_appendf(&out, &len, "%s\n", line);
	}
	return out;
}

int splq_op_firewall_list(struct splq_ctx *ctx, const char *qube, char ***rules, int *n,
                          bool *is_default, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	struct splq_fw_rules r;
	long long now = (long long)time(NULL);

	ERR_GUARD(err);
	*rules = NULL;
	*n = 0;
	if (splq_ops_qube_get(ctx, qube, &q, err) < 0 || rules_load(ctx, q.name, &r, is_default, err) < 0)
		return -1;
	*rules = splq_xcalloc(r.n + 1, sizeof(**rules));
	for (size_t i = 0; i < r.n; i++)
		if (!splq_fw_rule_expired(&r.v[i], now))
			(*rules)[(*n)++] = splq_fw_rule_format(&r.v[i]);
	splq_fw_rules_free(&r);
	return 0;
}

/* A change to the rules of q: new (NULL: back to the default). */
typedef int (*fw_change_fn)(struct splq_fw_rules *r, const char *arg, int number,
                            struct splq_error *err);

/* Store the rules, then apply them to q if it runs with its netvm. */
static int store_apply(struct splq_ctx *ctx, const struct splq_qube *q, const char *text,
                       struct splq_error *err)
{
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};

	if (splq_store_begin(ctx->store, err) < 0)
		return -1;
	if (splq_store_firewall_set(ctx->store, q->name, text, err) < 0)
		goto rollback;
	if (q->klass != SPLQ_CLASS_ADMINVM && splq_ops_power_of(ctx, q) != SPLQ_HALTED) {
		if (splq_ops_vmcfg_build(ctx, q, &v, err) < 0)
			goto rollback;
		if (*v.c.net.netvm && ctx->backend->ops->firewall_apply(ctx->backend, &v.c, err) < 0)
			goto rollback;
	}
	return splq_store_commit(ctx->store, err);
rollback:
	splq_store_rollback(ctx->store);
	return -1;
}

static int fw_change(struct splq_ctx *ctx, const char *qube, const char *verb, const char *arg,
                     int number, fw_change_fn fn, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_free char *args = NULL;
	cleanup_free char *text = NULL;
	struct splq_fw_rules r = {0};
	int rc = -1;

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, qube, &q, err) < 0)
		return -1;
	/* a whole list set is in the log as its rules, once they are stored */
	if (strcmp(verb, "set") == 0)
		args = splq_xstrdup(verb);
	else if (number >= 0)
		args = splq_strdup_printf("%s %d%s%s", verb, number, arg ? " " : "", arg ? arg : "");
	else
		args = splq_strdup_printf("%s%s%s", verb, arg ? " " : "", arg ? arg : "");
	if (q.klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_VALUE, "dom0 has no firewall: it is the host");
		goto out;
	}
	if (fn) {
		if (rules_load(ctx, q.name, &r, NULL, err) < 0 || fn(&r, arg, number, err) < 0)
			goto out;
		text = rules_text(&r, (long long)time(NULL));
	} else if (strcmp(verb, "reload") == 0 &&
	           splq_store_firewall_get(ctx->store, q.name, &text, err) < 0) {
		goto out;
	}
	rc = store_apply(ctx, &q, text, err);
out:
	splq_fw_rules_free(&r);
	return splq_ops_audit_done(ctx, "firewall", q.name, args, NULL, rc, err);
}

/* add: the rule before rule number before (0-based, as qvm-firewall
 * numbers them), at the end when -1. */
static int add_rule(struct splq_fw_rules *r, const char *text, int before,
                    struct splq_error *err)
{
	struct splq_fw_rule rule;
	size_t at = before >= 0 ? (size_t)before : r->n;

	if (at > r->n)
		return splq_fail(err, SPLQ_E_VALUE, "there is no rule %d to add before (%zu rules)",
		                 before, r->n);
	if (splq_fw_rule_parse(text, strlen(text), (long long)time(NULL), &rule, err) < 0)
		return -1;
	splq_fw_rules_insert(r, at, &rule);
	return 0;
}

/* del: rule number (0-based), or (-1) the first rule equal to text. */
static int del_rule(struct splq_fw_rules *r, const char *text, int number,
                    struct splq_error *err)
{
	size_t at = r->n;

	if (number >= 0) {
		if ((size_t)number >= r->n)
			return splq_fail(err, SPLQ_E_NOTFOUND, "there is no rule %d (%zu rules)",
			                 number, r->n);
		at = (size_t)number;
	} else {
		struct splq_fw_rule want;
		cleanup_free char *canon = NULL;

		if (splq_fw_rule_parse(text, strlen(text), (long long)time(NULL), &want, err) < 0)
			return -1;
		canon = splq_fw_rule_format(&want);
		for (size_t i = 0; i < r->n && at == r->n; i++) {
			cleanup_free char *have = splq_fw_rule_format(&r->v[i]);
			if (strcmp(have, canon) == 0)
				at = i;
		}
		if (at == r->n)
			return splq_fail(err, SPLQ_E_NOTFOUND, "no rule is '%s'", canon);
	}
	memmove(r->v + at, r->v + at + 1, (r->n - at - 1) * sizeof(*r->v));
	r->n--;
	return 0;
}

/* set: the rules of a text, every line checked first. */
static int set_rules(struct splq_fw_rules *r, const char *text, int unused,
                     struct splq_error *err)
{
	struct splq_fw_rules fresh = {0};

	if (splq_fw_rules_parse(text, strlen(text), (long long)time(NULL), &fresh, err) < 0)
		return -1;
	splq_fw_rules_free(r);
	*r = fresh;
	return 0;
}

int splq_op_firewall_add(struct splq_ctx *ctx, const char *qube, const char *rule, int before,
                         struct splq_error *err)
{
	return fw_change(ctx, qube, "add", rule, before, add_rule, err);
}

int splq_op_firewall_del(struct splq_ctx *ctx, const char *qube, int number, const char *rule,
                         struct splq_error *err)
{
	return fw_change(ctx, qube, "del", rule, number, del_rule, err);
}

int splq_op_firewall_set(struct splq_ctx *ctx, const char *qube, const char *text,
                         struct splq_error *err)
{
	return fw_change(ctx, qube, "set", text, -1, set_rules, err);
}

int splq_op_firewall_reset(struct splq_ctx *ctx, const char *qube, struct splq_error *err)
{
	return fw_change(ctx, qube, "reset", NULL, -1, NULL, err);
}

int splq_op_firewall_reload(struct splq_ctx *ctx, const char *qube, struct splq_error *err)
{
	return fw_change(ctx, qube, "reload", NULL, -1, NULL, err);
}
