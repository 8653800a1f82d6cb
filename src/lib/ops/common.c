/* splq: what the ops files share (internal.h): small helpers and the
 * audit entry of an op, reading qubes and properties, the property checks,
 * the backend's view of a qube (vm config) and its volume sizes, copying
 * and removing a qube's data, a command's audit summary and result, and
 * removing the disposables an ended splq left behind.  Every ops file
 * calls this one, and none calls another.  Every operation that changes
 * state or runs something appends one audit entry (splq_ops_audit_done),
 * failures included, once the qube it acts on is known. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "internal.h"
#include "services/vault.h"
#include "util.h"

/* ---------- small helpers and the audit entry of an op ---------- */

bool splq_ops_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool splq_ops_class_has(const struct splq_prop_def *def, enum splq_class c)
{
	return (def->classes & (1u << c)) != 0;
}

/* Copy s into a malloc'ed string that is valid UTF-8 without control
 * characters (anything else becomes '?'), at most max bytes; a cut-off
 * string ends in "...".  Audit lines are JSON: they must stay valid. */
static char *sanitize(const char *s, size_t max)
{
	size_t len = strlen(s), o = 0, i = 0;
	char *out = splq_xmalloc(len + 1);
	bool cut = false;

	while (i < len) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t n = 1, k;
		unsigned cp;

		if (p[0] < 0x80) {
			n = 1;
		} else if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2) {
			n = 2;
		} else if ((p[0] & 0xf0) == 0xe0) {
			n = 3;
		} else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4) {
			n = 4;
		} else {
			n = 0;
		}
		if (n > 1) {
			if (i + n > len)
				n = 0;
			for (k = 1; n && k < n; k++)
				if ((p[k] & 0xc0) != 0x80)
					n = 0;
		}
		if (n > 1) {
			/* reject overlong forms, surrogates and > U+10FFFF */
			if (n == 3) {
				cp =
				    ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
				if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
					n = 0;
			} else if (n == 4) {
				cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
				     ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
				if (cp < 0x10000 || cp > 0x10ffff)
					n = 0;
			}
		}
		if (n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
			if (o + 1 > max) {
				cut = true;
				break;
			}
			out[o++] = '?';
			i += n ? n : 1;
			continue;
		}
		if (o + n > max) {
			cut = true;
			break;
		}
		memcpy(out + o, p, n);
		o += n;
		i += n;
	}
	if (cut) {
		/* make room for "..." on a character boundary */
		while (o > 0 && o + 3 > max) {
			o--;
			while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
				o--;
		}
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* argv joined with spaces. */
static char *join_argv(char *const *argv)
{
	size_t len = 1;
	char *s, *p;

	for (int i = 0; argv && argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = p = splq_xmalloc(len);
	*p = '\0';
	for (int i = 0; argv && argv[i]; i++) {
		if (i)
			*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	return s;
}

int splq_ops_audit_done(struct splq_ctx *ctx, const char *op, const char *target, const char *args,
                        const char *ok_result, int rc, struct splq_error *err)
{
	struct splq_error aerr = {0};
	cleanup_free char *a = sanitize(args ? args : "", AUDIT_ARGS_MAX);
	cleanup_free char *result = NULL;
	int r;

	if (rc < 0) {
		cleanup_free char *msg = splq_strdup_printf("error: %s", err->msg);
		result = sanitize(msg, SPLQ_ERROR_MAX + 16);
	} else {
		result = sanitize(ok_result ? ok_result : "ok", SPLQ_ERROR_MAX);
	}
	r = splq_audit_append(ctx->store, ctx->home, ctx->actor, op, target ? target : "", a,
	                      result, &aerr);
	if (rc < 0)
		return rc;
	if (r < 0)
		return splq_fail(err, aerr.code ? aerr.code : SPLQ_E_INTERNAL,
		                 "%s on '%s' was done, but the audit log could not be written: %s",
		                 op, target ? target : "", aerr.msg);
	return rc;
}

/* ---------- qubes and properties ---------- */

int splq_ops_qube_get(struct splq_ctx *ctx, const char *name, struct splq_qube *q,
                      struct splq_error *err)
{
	if (!name || !*name)
		return splq_fail(err, SPLQ_E_USAGE, "no qube named");
	return splq_store_qube_get(ctx->store, name, q, err);
}

int splq_ops_prop_get(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop,
                      char **value, struct splq_error *err)
{
	bool is_default;

	return splq_store_prop_get(ctx->store, q, prop, value, &is_default, err);
}

int splq_ops_prop_long(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop, long dflt,
                       long *out, struct splq_error *err)
{
	const struct splq_prop_def *def = splq_prop_find(prop);
	cleanup_free char *v = NULL;
	char *end;

	*out = dflt;
	if (!def || !splq_ops_class_has(def, q->klass))
		return 0;
	if (splq_ops_prop_get(ctx, q, prop, &v, err) < 0)
		return -1;
	if (!v || !*v)
		return 0;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (errno || *end)
		return splq_fail(err, SPLQ_E_CORRUPT, "qube '%s' has a bad %s value '%s'", q->name,
		                 prop, v);
	return 0;
}

int splq_ops_global_get(struct splq_ctx *ctx, const char *prop, char **value,
                        struct splq_error *err)
{
	cleanup_qube struct splq_qube dom0 = {0};

	*value = NULL;
	if (splq_store_qube_get(ctx->store, DOM0, &dom0, err) < 0 ||
	    splq_ops_prop_get(ctx, &dom0, prop, value, err) < 0)
		return -1;
	if (!*value)
		*value = splq_xstrdup("");
	return 0;
}

bool splq_ops_prop_true(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop)
{
	const struct splq_prop_def *def = splq_prop_find(prop);
	struct splq_error e;
	cleanup_free char *v = NULL;

	if (!def || !splq_ops_class_has(def, q->klass))
		return false;
	if (splq_ops_prop_get(ctx, q, prop, &v, &e) < 0)
		return false;
	return splq_ops_streq(v, "True");
}

enum splq_power splq_ops_power_of(struct splq_ctx *ctx, const struct splq_qube *q)
{
	if (q->klass == SPLQ_CLASS_ADMINVM)
		return SPLQ_RUNNING;
	return ctx->backend->ops->state(ctx->backend, q->name);
}

/* ---------- property checks ---------- */

const struct splq_prop_def *splq_ops_prop_def(const char *prop, struct splq_error *err)
{
	const struct splq_prop_def *def = prop ? splq_prop_find(prop) : NULL;

	if (!def)
		splq_fail(err, SPLQ_E_NOTFOUND, "no such property '%s'", prop ? prop : "");
	return def;
}

/* May property def of a qube (name, class, running) change at all? */
int splq_ops_prop_changeable(const char *qname, enum splq_class klass, bool running,
                             const struct splq_prop_def *def, struct splq_error *err)
{
	if (!splq_ops_class_has(def, klass))
		return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' (%s) has no property '%s'", qname,
		                 splq_class_name(klass), def->name);
	if (def->readonly)
		return splq_fail(err, SPLQ_E_VALUE, "property '%s' is read-only", def->name);
	/* dom0's settings: the global default_dispvm and what only it has */
	if (klass == SPLQ_CLASS_ADMINVM && !splq_ops_streq(def->name, "default_dispvm") &&
	    def->classes != (1u << SPLQ_CLASS_ADMINVM))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "only default_dispvm, default_netvm, default_template and "
		                 "qrexec_ask_program can be set on dom0, not '%s'",
		                 def->name);
	if (def->needs_halted && running)
		return splq_fail(err, SPLQ_E_STATE,
		                 "qube '%s' is running; shut it down first to change '%s'", qname,
		                 def->name);
	return 0;
}

/* memory and vcpus: no more than the host has. */
static int host_check(struct splq_ctx *ctx, const struct splq_prop_def *def, const char *value,
                      struct splq_error *err)
{
	struct splq_host_resources h;
	long v = strtol(value, NULL, 10);

	if (ctx->backend->ops->host_resources(ctx->backend, &h, err) < 0)
		return -1;
	if (splq_ops_streq(def->name, "vcpus") && v > h.cpus)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "vcpus %ld is more than the %ld CPUs this host gives splq", v,
		                 h.cpus);
	if (splq_ops_streq(def->name, "memory") && v > h.memory_mib)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "memory %ld MiB is more than this host's %ld MiB", v,
		                 h.memory_mib);
	return 0;
}

int splq_ops_memory_check(const char *qname, long memory, long maxmem, struct splq_error *err)
{
	if (maxmem != 0 && maxmem < memory)
		return splq_fail(
		    err, SPLQ_E_VALUE,
		    "qube '%s': maxmem %ld MiB (its hard memory limit) cannot be below "
		    "memory %ld MiB; raise maxmem, or set it to 0 to make memory the "
		    "hard limit",
		    qname, maxmem, memory);
	return 0;
}

/* Check a canonical value (from splq_prop_parse) for def on a qube. */
int splq_ops_prop_value_check(struct splq_ctx *ctx, enum splq_class klass,
                              const struct splq_prop_def *def, const char *value,
                              struct splq_error *err)
{
	cleanup_qube struct splq_qube t = {0};

	if (splq_ops_streq(def->name, "default_user"))
		return splq_user_name_check(value, err);
	if (splq_ops_streq(def->name, "memory") || splq_ops_streq(def->name, "vcpus"))
		return host_check(ctx, def, value, err);
	if (splq_ops_streq(def->name, "uplink"))
		return splq_uplink_check(value, err);
	if (def->type != SPLQ_PT_VM)
		return 0;
	/* netvm, default_netvm: what they name is checked with the rest of
	 * the network settings (splq_ops_net_check), once all are set */
	if (splq_ops_streq(def->name, "netvm") || splq_ops_streq(def->name, "default_netvm"))
		return 0;
	bool template =
	    splq_ops_streq(def->name, "template") || splq_ops_streq(def->name, "default_template");
	if (!*value) {
		if (splq_ops_streq(def->name, "template"))
			return splq_fail(err, SPLQ_E_VALUE, "property 'template' cannot be empty");
		return 0;
	}
	if (splq_store_qube_get(ctx->store, value, &t, err) < 0) {
		if (err->code == SPLQ_E_NOTFOUND) {
			if (template)
				return splq_fail(err, SPLQ_E_NOTFOUND,
				                 "template '%s' does not exist", value);
			return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' does not exist", value);
		}
		return -1;
	}
	/* a disposable's template is its dvm (or a TemplateVM) */
	if (splq_ops_streq(def->name, "template") && klass == SPLQ_CLASS_DISPVM)
		return splq_ops_dvm_check(ctx, &t, "the template of a DispVM", err);
	if (template && t.klass != SPLQ_CLASS_TEMPLATEVM)
		return splq_fail(err, SPLQ_E_VALUE, "qube '%s' is a%s %s, not a TemplateVM", t.name,
		                 t.klass == SPLQ_CLASS_APPVM || t.klass == SPLQ_CLASS_ADMINVM ? "n"
		                                                                              : "",
		                 splq_class_name(t.klass));
	if (splq_ops_streq(def->name, "default_dispvm"))
		return splq_ops_dvm_check(ctx, &t, "a default_dispvm", err);
	return 0;
}

/* ---------- network settings ---------- */

/* The qube named name, or a message that name is what is missing. */
static int netvm_get(struct splq_ctx *ctx, const char *prop, const char *name,
                     struct splq_qube *t, struct splq_error *err)
{
	if (splq_store_qube_get(ctx->store, name, t, err) == 0)
		return 0;
	if (err->code == SPLQ_E_NOTFOUND)
		return splq_fail(err, SPLQ_E_NOTFOUND, "%s '%s': no such qube", prop, name);
	return -1;
}

/* A netvm of what (a qube, or dom0's default): it provides network, and
 * following the netvms from it never comes back to self (NULL: none). */
static int netvm_usable(struct splq_ctx *ctx, const char *what, const char *prop,
                        const char *netvm, const char *self, struct splq_error *err)
{
	char chain[512];
	cleanup_free char *next = splq_xstrdup(netvm);
	size_t len = (size_t)snprintf(chain, sizeof(chain), "%s", self ? self : what);

	for (int hops = 0; *next; hops++) {
		cleanup_qube struct splq_qube t = {0};
		char *up = NULL;

		if (len < sizeof(chain))
			len += (size_t)snprintf(chain + len, sizeof(chain) - len, " -> %s", next);
		if (self && (splq_ops_streq(next, self) || hops > SPLQ_SLOT_MAX))
			return splq_fail(err, SPLQ_E_VALUE, "%s: the netvms make a loop: %s", what,
			                 chain);
		if (netvm_get(ctx, prop, next, &t, err) < 0)
			return -1;
		if (hops == 0 && !splq_ops_prop_true(ctx, &t, "provides_network"))
			return splq_fail(err, SPLQ_E_VALUE,
			                 "%s: qube '%s' cannot be a netvm: it has "
			                 "provides_network=False",
			                 what, t.name);
		if (!self || splq_ops_prop_get(ctx, &t, "netvm", &up, err) < 0) {
			free(up);
			return self ? -1 : 0;
		}
		free(next);
		next = up;
	}
	return 0;
}

bool splq_ops_is_vault(struct splq_ctx *ctx, const char *name)
{
	cleanup_free char *v = NULL;

	return splq_store_feature_get(ctx->store, name, SPLQ_VAULT_FEATURE, &v, NULL) == 0 &&
	       splq_ops_streq(v, "1");
}

int splq_ops_net_check(struct splq_ctx *ctx, const char *name, bool users, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_free char *netvm = NULL;
	cleanup_free char *uplink = NULL;
	cleanup_free char *what = NULL;
	struct splq_qube *list = NULL;
	bool provides;
	int n = 0, rc = 0;

	if (splq_store_qube_get(ctx->store, name, &q, err) < 0)
		return -1;
	if (q.klass == SPLQ_CLASS_ADMINVM) {
		if (splq_ops_global_get(ctx, "default_netvm", &netvm, err) < 0)
			return -1;
		return netvm_usable(ctx, "default_netvm", "default_netvm", netvm, NULL, err);
	}
	what = splq_strdup_printf("qube '%s'", q.name);
	provides = splq_ops_prop_true(ctx, &q, "provides_network");
	if (splq_ops_prop_get(ctx, &q, "netvm", &netvm, err) < 0 ||
	    splq_ops_prop_get(ctx, &q, "uplink", &uplink, err) < 0 ||
	    netvm_usable(ctx, what, "netvm", netvm, q.name, err) < 0)
		return -1;
	if (*netvm && splq_ops_is_vault(ctx, q.name))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "qube '%s' is a vault: it has no netvm, so it cannot be given '%s'",
		                 q.name, netvm);
	if (*uplink && *netvm)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "qube '%s' has netvm '%s': only a network qube without a netvm "
		                 "has an uplink (uplink=%s)",
		                 q.name, netvm, uplink);
	if (*uplink && !provides)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "qube '%s' does not provide network: an uplink (uplink=%s) needs "
		                 "provides_network=True",
		                 q.name, uplink);
	if (provides || !users)
		return 0;
	/* no longer a network qube: none may use it */
	if (splq_store_qube_list(ctx->store, &list, &n, err) < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++) {
		cleanup_free char *v = NULL;

		if (list[i].klass == SPLQ_CLASS_ADMINVM)
			rc = splq_ops_global_get(ctx, "default_netvm", &v, err);
		else
			rc = splq_ops_prop_get(ctx, &list[i], "netvm", &v, err);
		if (rc == 0 && splq_ops_streq(v, q.name))
			rc = splq_fail(err, SPLQ_E_VALUE,
			               "qube '%s' is the %s of %s: it must keep provides_network=True",
			               q.name,
			               list[i].klass == SPLQ_CLASS_ADMINVM ? "default_netvm" : "netvm",
			               list[i].name);
	}
	splq_qube_list_free(list, n);
	return rc;
}

/* ---------- disposable templates ---------- */

int splq_ops_dvm_check(struct splq_ctx *ctx, const struct splq_qube *d, const char *what,
                       struct splq_error *err)
{
	if (d->klass == SPLQ_CLASS_TEMPLATEVM)
		return 0;
	if (d->klass == SPLQ_CLASS_APPVM) {
		if (splq_ops_prop_true(ctx, d, "template_for_dispvms"))
			return 0;
		return splq_fail(err, SPLQ_E_VALUE,
		                 "qube '%s' cannot be %s: it is an AppVM without "
		                 "template_for_dispvms=True",
		                 d->name, what);
	}
	return splq_fail(err, SPLQ_E_VALUE,
	                 "qube '%s' cannot be %s: it is a%s %s, not a TemplateVM or an AppVM with "
	                 "template_for_dispvms=True",
	                 d->name, what, d->klass == SPLQ_CLASS_ADMINVM ? "n" : "",
	                 splq_class_name(d->klass));
}

/* ---------- vm config ---------- */

void splq_ops_vmcfg_clear(struct splq_ops_vmcfg *v)
{
	free(v->root_of);
	free(v->root_base);
	free(v->private_of);
	free(v->firewall);
	v->root_of = v->root_base = v->private_of = v->firewall = NULL;
}

/* Root of a qube that uses template tname: set root_of and root_base. */
int splq_ops_vmcfg_set_root(struct splq_ctx *ctx, struct splq_ops_vmcfg *v, const char *tname,
                            struct splq_error *err)
{
	cleanup_qube struct splq_qube t = {0};

	if (splq_store_qube_get(ctx->store, tname, &t, err) < 0)
		return -1;
	free(v->root_of);
	free(v->root_base);
	v->root_of = splq_xstrdup(t.name);
	v->root_base = t.base ? splq_xstrdup(t.base) : NULL;
	return 0;
}

/* A boolean feature of qube: *on, and *set when the qube has it at all. */
static int vmcfg_feature(struct splq_ctx *ctx, const char *qube, const char *name, bool *set,
                         bool *on, struct splq_error *err)
{
	cleanup_free char *value = NULL;
	struct splq_error e = {0};

	*set = *on = false;
	if (splq_store_feature_get(ctx->store, qube, name, &value, &e) < 0) {
		if (e.code == SPLQ_E_NOTFOUND)
			return 0;
		return splq_fail(err, e.code, "%s", e.msg);
	}
	*set = true;
	*on = splq_feature_on(value);
	return 0;
}

/* A property's value into a fixed buffer. */
static int vmcfg_prop(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop, char *out,
                      size_t len, struct splq_error *err)
{
	cleanup_free char *v = NULL;

	if (splq_ops_prop_get(ctx, q, prop, &v, err) < 0)
		return -1;
	snprintf(out, len, "%s", v ? v : "");
	return 0;
}

static int vmcfg_net(struct splq_ctx *ctx, const struct splq_qube *q, struct splq_vm_net *n,
                     struct splq_error *err)
{
	int disp = q->klass == SPLQ_CLASS_DISPVM ? splq_net_dispid(q->name) : -1;

	if (q->klass == SPLQ_CLASS_ADMINVM)
		return 0;
	n->provides_network = splq_ops_prop_true(ctx, q, "provides_network");
	/* a disposable's link has its own number, apart from the qubes' */
	n->id = disp >= 0 ? 65536 + disp : q->slot;
	if (vmcfg_prop(ctx, q, "netvm", n->netvm, sizeof(n->netvm), err) < 0)
		return -1;
	if (!*n->netvm && !n->provides_network)
		return 0; /* loopback only */
	if (vmcfg_prop(ctx, q, "uplink", n->uplink, sizeof(n->uplink), err) < 0 ||
	    vmcfg_prop(ctx, q, "ip", n->ip4, sizeof(n->ip4), err) < 0 ||
	    vmcfg_prop(ctx, q, "ip6", n->ip6, sizeof(n->ip6), err) < 0 ||
	    vmcfg_prop(ctx, q, "visible_gateway", n->gw4, sizeof(n->gw4), err) < 0 ||
	    vmcfg_prop(ctx, q, "visible_gateway6", n->gw6, sizeof(n->gw6), err) < 0)
		return -1;
	return 0;
}

int splq_ops_vmcfg_build(struct splq_ctx *ctx, const struct splq_qube *q, struct splq_ops_vmcfg *v,
                         struct splq_error *err)
{
	cleanup_free char *tmpl = NULL;
	long n;

	splq_ops_vmcfg_clear(v);
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", q->name);
	v->c.name = v->name;
	v->c.klass = q->klass;
	v->c.slot = q->slot;

	switch (q->klass) {
	case SPLQ_CLASS_TEMPLATEVM:
	case SPLQ_CLASS_STANDALONEVM:
		v->root_of = splq_xstrdup(q->name);
		v->root_base = q->base ? splq_xstrdup(q->base) : NULL;
		break;
	case SPLQ_CLASS_APPVM:
	case SPLQ_CLASS_DISPVM:
		if (splq_ops_prop_get(ctx, q, "template", &tmpl, err) < 0)
			return -1;
		if (!tmpl || !*tmpl)
			return splq_fail(err, SPLQ_E_CORRUPT, "qube '%s' has no template", q->name);
		if (q->klass == SPLQ_CLASS_DISPVM) {
			cleanup_qube struct splq_qube d = {0};
			cleanup_free char *dt = NULL;

			if (splq_store_qube_get(ctx->store, tmpl, &d, err) < 0)
				return -1;
			if (d.klass == SPLQ_CLASS_APPVM) {
				/* made from a dvm: its template's root, its private */
				v->private_of = splq_xstrdup(d.name);
				if (splq_ops_prop_get(ctx, &d, "template", &dt, err) < 0)
					return -1;
				if (!dt || !*dt)
					return splq_fail(err, SPLQ_E_CORRUPT,
					                 "qube '%s' has no template", d.name);
				if (splq_ops_vmcfg_set_root(ctx, v, dt, err) < 0)
					return -1;
				break;
			}
		}
		if (splq_ops_vmcfg_set_root(ctx, v, tmpl, err) < 0)
			return -1;
		break;
	default:
		break;
	}
	v->c.root_of = v->root_of;
	v->c.root_base = v->root_base;
	v->c.private_of = v->private_of;
	v->c.dvm = q->klass == SPLQ_CLASS_APPVM && splq_ops_prop_true(ctx, q, "template_for_dispvms");

	if (splq_ops_prop_long(ctx, q, "memory", 400, &n, err) < 0)
		return -1;
	v->c.memory_mib = n;
	if (splq_ops_prop_long(ctx, q, "maxmem", SPLQ_MAXMEM_DEFAULT, &n, err) < 0)
		return -1;
	v->c.maxmem_mib = n;
	if (splq_ops_prop_long(ctx, q, "vcpus", 2, &n, err) < 0)
		return -1;
	v->c.vcpus = n;
	if (splq_ops_prop_long(ctx, q, "shutdown_timeout", 60, &n, err) < 0)
		return -1;
	v->c.shutdown_timeout_s = n;
	if (splq_ops_prop_long(ctx, q, "qrexec_timeout", 60, &n, err) < 0)
		return -1;
	v->c.qrexec_timeout_s = n;

	/* io_uring: the qube's own feature; a disposable without one takes
	 * that of the qube it is made from (it has no time to be given one) */
	bool set, on;
	if (vmcfg_feature(ctx, q->name, SPLQ_FEATURE_ALLOW_IO_URING, &set, &on, err) < 0)
		return -1;
	if (!set && q->klass == SPLQ_CLASS_DISPVM &&
	    vmcfg_feature(ctx, tmpl, SPLQ_FEATURE_ALLOW_IO_URING, &set, &on, err) < 0)
		return -1;
	v->c.allow_io_uring = on;
	unsigned long long *sizes[3] = {&v->c.root_size, &v->c.private_size, &v->c.volatile_size};
	for (int i = 0; i < 3; i++) {
		bool is_default;

		if (splq_ops_volume_size(ctx, q, i, sizes[i], &is_default, NULL, err) < 0)
			return -1;
	}
	if (vmcfg_net(ctx, q, &v->c.net, err) < 0)
		return -1;
	if (*v->c.net.netvm && splq_store_firewall_get(ctx->store, q->name, &v->firewall, err) < 0)
		return -1;
	v->c.net.firewall = v->firewall;
	return 0;
}

int splq_ops_volume_size(struct splq_ctx *ctx, const struct splq_qube *q, int vol,
                         unsigned long long *size, bool *is_default, char *owner,
                         struct splq_error *err)
{
	cleanup_qube struct splq_qube o = {0};
	cleanup_free char *tmpl = NULL;
	const struct splq_qube *from = q;
	bool is_set;

	/* a disposable's volumes and an AppVM's root are its template's (a
	 * disposable's root: its dvm's template's) */
	for (int hops = 0; hops < 2; hops++) {
		bool borrowed = from->klass == SPLQ_CLASS_DISPVM ||
		                (from->klass == SPLQ_CLASS_APPVM && vol == 0);

		if (!borrowed)
			break;
		free(tmpl);
		tmpl = NULL;
		if (splq_ops_prop_get(ctx, from, "template", &tmpl, err) < 0)
			return -1;
		if (!tmpl || !*tmpl)
			return splq_fail(err, SPLQ_E_CORRUPT, "qube '%s' has no template",
			                 from->name);
		splq_qube_clear(&o);
		if (splq_store_qube_get(ctx->store, tmpl, &o, err) < 0)
			return -1;
		from = &o;
	}
	if (owner)
		snprintf(owner, SPLQ_NAME_MAX + 1, "%s", from->name);
	*size = splq_volume_default_size(vol);
	if (splq_store_volume_get(ctx->store, from->name, splq_volume_names[vol], size, &is_set,
	                          err) < 0)
		return -1;
	*is_default = !is_set;
	return 0;
}

/* ---------- a qube's data: copied, removed ---------- */

/* Copy the set (non-default) properties, tags and features of src to dst
 * (inside the caller's transaction).  skip: property names not to copy. */
int splq_ops_copy_qube_data(struct splq_ctx *ctx, const struct splq_qube *src, const char *dst,
                            enum splq_class dst_klass, const char *const *skip, bool tags_features,
                            struct splq_error *err)
{
	for (const struct splq_prop_def *def = splq_props; def->name; def++) {
		cleanup_free char *value = NULL;
		bool is_default = true, skipped = false;

		if (def->readonly || !splq_ops_class_has(def, src->klass) ||
		    !splq_ops_class_has(def, dst_klass))
			continue;
		for (int i = 0; skip && skip[i]; i++)
			if (splq_ops_streq(skip[i], def->name))
				skipped = true;
		if (skipped)
			continue;
		if (splq_store_prop_get(ctx->store, src, def->name, &value, &is_default, err) < 0)
			return -1;
		if (is_default)
			continue;
		if (splq_store_prop_set(ctx->store, dst, def->name, value, err) < 0)
			return -1;
	}
	if (!tags_features)
		return 0;

	char **tags = NULL, **names = NULL, **values = NULL;
	int ntags = 0, nfeat = 0, rc = -1;

	if (splq_store_tag_list(ctx->store, src->name, &tags, &ntags, err) < 0)
		goto out;
	for (int i = 0; i < ntags; i++)
		if (splq_store_tag_add(ctx->store, dst, tags[i], err) < 0)
			goto out;
	if (splq_store_feature_list(ctx->store, src->name, &names, &values, &nfeat, err) < 0)
		goto out;
	for (int i = 0; i < nfeat; i++)
		if (splq_store_feature_set(ctx->store, dst, names[i], values[i], err) < 0)
			goto out;
	rc = 0;
out:
	if (tags)
		splq_strv_free(tags, ntags);
	if (names)
		splq_strv_free(names, nfeat);
	if (values)
		splq_strv_free(values, nfeat);
	return rc;
}

/* Remove a halted qube's row and volumes: row first, inside a transaction
 * that is undone when the volumes cannot be removed. */
int splq_ops_remove_qube(struct splq_ctx *ctx, const struct splq_ops_vmcfg *v, bool missing_ok,
                         struct splq_error *err)
{
	if (splq_store_begin(ctx->store, err) < 0)
		return -1;
	if (splq_store_qube_remove(ctx->store, v->c.name, err) < 0) {
		if (!missing_ok || err->code != SPLQ_E_NOTFOUND)
			goto rollback;
		/* another splq removed it, volumes and all: nothing to do */
		splq_store_rollback(ctx->store);
		return 1;
	}
	if (ctx->backend->ops->volumes_remove(ctx->backend, &v->c, err) < 0)
		goto rollback;
	if (splq_store_commit(ctx->store, err) < 0)
		goto rollback;
	return 0;
rollback:
	splq_store_rollback(ctx->store);
	return -1;
}

/* ---------- a command: its audit summary and result ---------- */

void splq_ops_exec_info(struct splq_exec *x, struct splq_exec_info *info,
                        const struct splq_vm_config *c, const char *memory_of)
{
	info->limit_mib = c->maxmem_mib > 0 ? c->maxmem_mib : c->memory_mib;
	info->limit_prop = c->maxmem_mib > 0 ? "maxmem" : "memory";
	snprintf(info->memory_of, sizeof(info->memory_of), "%s", memory_of);
	if (x->info)
		*x->info = *info;
}

char *splq_ops_exit_result(int status, const struct splq_exec_info *info)
{
	return splq_strdup_printf("exit %d%s", status, info->oom ? " (oom)" : "");
}

/* Audit summary of a command: [--user U] argv, or --service SERVICE+ARG. */
char *splq_ops_exec_args(const char *prefix, const struct splq_exec *x)
{
	cleanup_free char *cmd =
	    x->service ? splq_strdup_printf("--service %s", x->service) : join_argv(x->argv);

	return splq_strdup_printf("%s%s%s%s%s", prefix ? prefix : "", x->user ? "--user " : "",
	                          x->user ? x->user : "", x->user ? " " : "", cmd);
}
