/* splq: one request against the compiled policy (see policy.h), as Qubes'
 * evaluator decides it:
 *
 * - The request's target is checked first: a name that is no domain
 *   becomes @default; @dispvm:DVM must name a template for disposables;
 *   anything else that is not a qube, @adminvm, @default or @dispvm is
 *   refused.
 * - The first rule whose service, argument, source and target match
 *   decides; none: deny.  Where Qubes' own matching fails with an error
 *   (a target @dispvm:DVM or @dispvm:@tag:T meeting a request for @dispvm
 *   from a qube without a usable default_dispvm), that rule denies.
 * - allow: the target is target= or the requested one; @default is
 *   refused, @dispvm becomes @dispvm:<the source's default_dispvm> (none:
 *   refused), @adminvm becomes dom0; autostart=no refuses a target that is
 *   not running (disposables are never running).
 * - ask: target= is the only choice (as written, dom0 for any name of
 *   dom0); without it, the choices are collected from every rule whose
 *   service, argument and source match, last to first, a deny taking away
 *   what it names and an allow or ask adding it (its target=, else its
 *   target column), then @dispvm -> @dispvm:<default_dispvm>, @adminvm ->
 *   dom0, the source itself and internal qubes left out; autostart=no
 *   keeps dom0 and running qubes.  No choice left: deny.  default_target
 *   stays only when it is among the choices. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct req {
	const struct splq_policy_sysinfo *si;
	const char *service, *argument, *source;
	int src; /* the source's domain, -1: not in the system info */
	bool src_dom0;
	const char *target; /* checked: a domain's key or a keyword */
	unsigned char tkind;
	int tdom; /* TK_NAME: its domain; TK_DISPVM_TPL: the template's */
	bool tdom0;
};

static bool is_uuid(const char *s)
{
	return strncmp(s, "uuid:", 5) == 0;
}

/* Qubes' comparison of a rule's word a with a request's word b: equal,
 * or one is "uuid:U" and the other the domain with uuid U. */
static bool match_strings(const struct splq_policy_sysinfo *si, const char *a, const char *b)
{
	const char *u = NULL, *name = NULL;

	if (is_uuid(a) && is_uuid(b))
		return strcmp(a, b) == 0;
	if (is_uuid(a))
		u = a + 5, name = b;
	else if (is_uuid(b))
		u = b + 5, name = a;
	else
		return strcmp(a, b) == 0;
	int i = splq_pol_lookup(si, name);
	return i >= 0 && si->v[i].uuid && strcmp(si->v[i].uuid, u) == 0;
}

static bool source_match(const struct req *q, const struct pol_tok *t)
{
	const struct pol_domain *d = q->src >= 0 ? &q->si->v[q->src] : NULL;

	switch (t->kind) {
	case TK_ANY:
		return true;
	case TK_ADMINVM:
		return q->src_dom0;
	case TK_ANYVM:
		return !q->src_dom0;
	case TK_TYPE:
		return d && d->type && strcmp(d->type, t->value) == 0;
	case TK_TAG:
		return d && splq_pol_has_tag(d, t->value);
	case TK_NAME:
		return t->dom0 ? q->src_dom0 : match_strings(q->si, t->text, q->source);
	default: /* @dispvm:X and @dispvm:@tag:X never match a source */
		return false;
	}
}

static bool rule_applies(const struct req *q, const struct pol_rule *r)
{
	return (!r->service || strcmp(r->service, q->service) == 0) &&
	       (!r->argument || strcmp(r->argument, q->argument) == 0) &&
	       source_match(q, &r->source);
}

/* 1: matches, 0: does not, -1: Qubes' matching fails here. */
static int target_match(const struct req *q, const struct pol_tok *t)
{
	const struct pol_domain *src = q->src >= 0 ? &q->si->v[q->src] : NULL;
	const struct pol_domain *d;
	int i;

	switch (t->kind) {
	case TK_ANY:
		return 1;
	case TK_ADMINVM:
		return q->tdom0;
	case TK_ANYVM:
		return !q->tdom0;
	case TK_TYPE:
		d = q->tkind == TK_NAME ? &q->si->v[q->tdom] : NULL;
		return d && d->type && strcmp(d->type, t->value) == 0;
	case TK_TAG:
		return q->tkind == TK_NAME && splq_pol_has_tag(&q->si->v[q->tdom], t->value);
	case TK_DEFAULT:
		return q->tkind == TK_DEFAULT;
	case TK_DISPVM:
		return q->tkind == TK_DISPVM;
	case TK_DISPVM_TPL:
		if (q->tkind == TK_DISPVM) {
			if (!src || !src->disp_default)
				return -1;
			return strcmp(t->text, src->disp_default) == 0;
		}
		if (q->tkind == TK_DISPVM_TPL)
			return match_strings(q->si, t->value, q->target + 8);
		return 0;
	case TK_DISPVM_TAG:
		if (q->tkind == TK_DISPVM) {
			if (!src || !src->default_dispvm)
				return 0;
			if ((i = splq_pol_lookup(q->si, src->default_dispvm)) < 0)
				return -1;
		} else if (q->tkind == TK_DISPVM_TPL) {
			i = q->tdom;
		} else {
			return 0;
		}
		d = &q->si->v[i];
		return d->tfd && splq_pol_has_tag(d, t->value);
	case TK_NAME:
		return t->dom0 ? q->tdom0 : match_strings(q->si, t->text, q->target);
	}
	return 0;
}

/* ---- decisions ---- */

static void decided_by(struct splq_policy_decision *d, const struct pol_rule *r)
{
	d->file = r ? r->file : NULL;
	d->line = r ? r->line : 0;
}

static void deny(struct splq_policy_decision *d, const struct pol_rule *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void deny(struct splq_policy_decision *d, const struct pol_rule *r, const char *fmt, ...)
{
	va_list ap;

	d->action = SPLQ_POLICY_DENY;
	d->target = d->default_target = d->user = NULL;
	d->ntargets = 0;
	d->autostart = true;
	d->notify = r ? r->notify : true;
	decided_by(d, r);
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static void *grow(void *p, size_t *cap, size_t want, size_t elem)
{
	if (*cap >= want)
		return p;
	*cap = want < 64 ? 64 : 2 * want;
	p = realloc(p, *cap * elem);
	if (!p)
		abort();
	return p;
}

/* May the call go to t without starting it? */
static int running_ok(const struct req *q, const char *t)
{
	int i;

	if (splq_policy_is_dom0(t))
		return 1;
	if (strncmp(t, "@dispvm", 7) == 0)
		return 0;
	if ((i = splq_pol_lookup(q->si, t)) < 0)
		return -1;
	return q->si->v[i].running;
}

static void allow(const struct req *q, const struct pol_rule *r, struct splq_policy_decision *d)
{
	const struct pol_domain *src = q->src >= 0 ? &q->si->v[q->src] : NULL;
	const char *t = q->target;
	unsigned char kind = q->tkind;
	size_t len;

	if (r->redirect.kind != TK_NONE) {
		t = r->redirect.text;
		kind = r->redirect.kind;
		if (kind == TK_NAME && splq_pol_lookup(q->si, t) < 0) {
			kind = TK_DEFAULT;
		} else if (kind == TK_DISPVM_TPL) {
			int i = splq_pol_lookup(q->si, r->redirect.value);

			if (i < 0 || !q->si->v[i].tfd)
				return deny(d, r, "target=%s is not a template for disposables", t);
		}
	}
	if (kind == TK_DEFAULT)
		return deny(d, r, "allow, but neither the caller nor the rule names a target");
	if (kind == TK_DISPVM) {
		if (!src || !src->disp_default)
			return deny(d, r, "allow to @dispvm, but '%s' has no default_dispvm",
			            q->source);
		t = src->disp_default;
	} else if (kind == TK_ADMINVM) {
		t = "dom0";
	}
	if (!r->autostart && running_ok(q, t) != 1)
		return deny(d, r, "autostart=no, and '%s' would have to be started", t);
	len = strlen(t) + 1;
	d->buf = grow(d->buf, &d->bufcap, len, 1);
	memcpy(d->buf, t, len);
	d->action = SPLQ_POLICY_ALLOW;
	d->target = d->buf;
	d->ntargets = 0;
	d->default_target = NULL;
	d->user = r->user;
	d->autostart = r->autostart;
	d->notify = r->notify;
	d->reason[0] = '\0';
	decided_by(d, r);
}

/* Add (on) or take away (off) what token t stands for from the set: one
 * byte per domain for its name, one for @dispvm:NAME, then @adminvm and
 * @dispvm.  -1 where Qubes fails (@dispvm:X of a domain it lacks). */
static int expand(const struct req *q, const struct pol_tok *t, unsigned char *set,
                  unsigned char on)
{
	const struct splq_policy_sysinfo *si = q->si;
	unsigned char *names = set, *disp = set + si->n, *special = set + 2 * si->n;
	int i;

	switch (t->kind) {
	case TK_NAME:
		if ((i = splq_pol_lookup(si, t->text)) >= 0)
			names[i] = on;
		break;
	case TK_ANY:
	case TK_ANYVM:
		for (i = 0; i < si->n; i++) {
			if (t->kind == TK_ANY || !splq_policy_is_dom0(si->v[i].name))
				names[i] = on;
			if (si->v[i].tfd)
				disp[i] = on;
		}
		special[1] = on;
		break;
	case TK_ADMINVM:
		special[0] = on;
		break;
	case TK_TYPE:
		for (i = 0; i < si->n; i++)
			if (si->v[i].type && strcmp(si->v[i].type, t->value) == 0)
				names[i] = on;
		break;
	case TK_TAG:
		for (i = 0; i < si->n; i++)
			if (splq_pol_has_tag(&si->v[i], t->value))
				names[i] = on;
		break;
	case TK_DISPVM:
		special[1] = on;
		break;
	case TK_DISPVM_TPL:
		if ((i = splq_pol_lookup(si, t->value)) < 0)
			return -1;
		if (si->v[i].tfd)
			disp[i] = on;
		break;
	case TK_DISPVM_TAG:
		for (i = 0; i < si->n; i++)
			if (si->v[i].tfd && splq_pol_has_tag(&si->v[i], t->value))
				disp[i] = on;
		break;
	}
	return 0;
}

/* The choices of an ask without target=, sorted, into d->targets.  NULL,
 * or why Qubes fails to collect them. */
static const char *collect(const struct splq_policy *p, const struct req *q,
                           struct splq_policy_decision *d)
{
	const struct splq_policy_sysinfo *si = q->si;
	const struct pol_domain *src;
	int n = si->n, a = 0, b = 0;
	unsigned char *names, *disp;

	if (q->src < 0)
		return "the source is not in the system info";
	src = &si->v[q->src];
	if (!src->uuid)
		return "the source has no uuid";
	d->set = grow(d->set, &d->setcap, (size_t)(2 * n + 2), 1);
	memset(d->set, 0, (size_t)(2 * n + 2));
	names = d->set;
	disp = d->set + n;
	for (int k = p->n - 1; k >= 0; k--) {
		const struct pol_rule *r = &p->rules[k];
		const struct pol_tok *t = r->action != ACT_DENY && r->redirect.kind != TK_NONE
		                              ? &r->redirect
		                              : &r->target;

		if (rule_applies(q, r) && expand(q, t, d->set, r->action != ACT_DENY) < 0)
			return "a rule names @dispvm:X of a domain the system info lacks";
	}
	if (d->set[2 * n + 1]) { /* @dispvm */
		if (src->default_dispvm) {
			int i = splq_pol_lookup(si, src->default_dispvm);

			if (i < 0)
				return "the source's default_dispvm is not in the system info";
			disp[i] = 1;
		}
	}
	if (d->set[2 * n]) { /* @adminvm */
		int i = splq_pol_lookup(si, "dom0");

		if (i < 0)
			return "dom0 is not in the system info";
		names[i] = 1;
	}
	names[q->src] = 0;
	for (int i = 0; i < n; i++)
		if (si->v[i].internal)
			names[i] = disp[i] = 0;

	/* both lists are sorted: merge them */
	d->targets = grow(d->targets, &d->cap, (size_t)(2 * n + 1), sizeof(char *));
	d->ntargets = 0;
	for (;;) {
		while (a < n && !names[a])
			a++;
		while (b < n && !disp[b])
			b++;
		if (a >= n && b >= n)
			break;
		if (b >= n || (a < n && strcmp(si->v[a].name, si->v[b].disp_name) < 0))
			d->targets[d->ntargets++] = si->v[a++].name;
		else
			d->targets[d->ntargets++] = si->v[b++].disp_name;
	}
	return NULL;
}

static void ask(const struct splq_policy *p, const struct req *q, const struct pol_rule *r,
                struct splq_policy_decision *d)
{
	const struct pol_domain *src = q->src >= 0 ? &q->si->v[q->src] : NULL;
	const char *dt = NULL;

	if (r->redirect.kind != TK_NONE) {
		d->targets = grow(d->targets, &d->cap, 1, sizeof(char *));
		d->targets[0] = r->redirect.dom0 ? "dom0" : r->redirect.text;
		d->ntargets = 1;
	} else {
		const char *why = collect(p, q, d);

		if (why)
			return deny(d, r, "ask, but its choices cannot be collected: %s", why);
	}
	if (!r->autostart) {
		int k = 0;

		for (int i = 0; i < d->ntargets; i++) {
			int ok = running_ok(q, d->targets[i]);

			if (ok < 0)
				return deny(d, r, "ask with autostart=no, but '%s' is not a domain",
				            d->targets[i]);
			if (ok)
				d->targets[k++] = d->targets[i];
		}
		d->ntargets = k;
	}
	if (d->ntargets == 0)
		return deny(d, r, "ask, but there is no target to choose from");
	if (r->default_target.kind == TK_DISPVM)
		dt = src ? src->disp_default : NULL;
	else if (r->default_target.kind != TK_NONE)
		dt = r->default_target.dom0 ? "dom0" : r->default_target.text;
	if (dt) {
		int i;

		for (i = 0; i < d->ntargets && strcmp(d->targets[i], dt) != 0; i++)
			;
		if (i == d->ntargets)
			dt = NULL;
	}
	d->action = SPLQ_POLICY_ASK;
	d->target = NULL;
	d->default_target = dt;
	d->user = r->user;
	d->autostart = r->autostart;
	d->notify = r->notify;
	d->reason[0] = '\0';
	decided_by(d, r);
}

/* ---- requests ---- */

void splq_policy_eval(const struct splq_policy *p, const struct splq_policy_sysinfo *si,
                      const char *service, const char *argument, const char *source,
                      const char *target, struct splq_policy_decision *d)
{
	struct req q = {.si = si, .service = service, .argument = argument, .source = source};
	struct pol_tok t;
	const char *why;

	q.src = splq_pol_lookup(si, source);
	q.src_dom0 = splq_policy_is_dom0(source);
	if (!*target)
		target = "@default";
	if ((why = splq_pol_token(target, CTX_INTENDED, &t)))
		return deny(d, NULL, "target '%s' %s", target, why);
	q.target = target;
	q.tkind = t.kind;
	q.tdom = -1;
	if (t.kind == TK_NAME && (q.tdom = splq_pol_lookup(si, target)) < 0) {
		q.target = "@default"; /* an unknown qube: as if none was named */
		q.tkind = TK_DEFAULT;
	} else if (t.kind == TK_DISPVM_TPL) {
		q.tdom = splq_pol_lookup(si, t.value);
		if (q.tdom < 0 || !si->v[q.tdom].tfd)
			return deny(d, NULL, "'%s' is not a template for disposables", t.value);
	}
	q.tdom0 = splq_policy_is_dom0(q.target);

	for (int k = 0; k < p->n; k++) {
		const struct pol_rule *r = &p->rules[k];
		int m;

		if (!rule_applies(&q, r))
			continue;
		if ((m = target_match(&q, &r->target)) < 0)
			return deny(d, r, "%s for @dispvm, but '%s' has no usable default_dispvm",
			            r->target.text, source);
		if (!m)
			continue;
		if (r->action == ACT_DENY)
			return deny(d, r, "denied by the policy");
		if (r->action == ACT_ALLOW)
			return allow(&q, r, d);
		return ask(p, &q, r, d);
	}
	deny(d, NULL, "no rule matches");
}

void splq_policy_eval_call(const struct splq_policy *p, const struct splq_policy_sysinfo *si,
                           const char *call, const char *source, const char *target,
                           struct splq_policy_decision *d)
{
	const char *plus = strchr(call, '+');
	char small[256];
	char *service = small;
	size_t n = plus ? (size_t)(plus - call) : strlen(call);

	if (n >= sizeof(small) && !(service = malloc(n + 1)))
		abort();
	memcpy(service, call, n);
	service[n] = '\0';
	splq_policy_eval(p, si, service, plus ? plus : "+", source, target, d);
	if (service != small)
		free(service);
}

void splq_policy_decision_clear(struct splq_policy_decision *d)
{
	free(d->targets);
	free(d->buf);
	free(d->set);
	memset(d, 0, sizeof(*d));
}
