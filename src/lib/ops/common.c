/* splq: what users ask for, built from model, store, audit and a backend
 * (see ops.h).  Every operation that changes state or runs something
 * appends one audit entry, failures included, once the qube it acts on is
 * known.  This file: the context, the helpers the ops files share
 * (ops_internal.h), the audit log, and the life of a qube (create, clone,
 * remove, start, shutdown, kill, run).  Disposables are in ops_dispvm.c;
 * properties, tags, features and the list in ops_prefs.c. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "util.h"

#define AUDIT_ARGS_MAX 200

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

/* ---------- the audit log ---------- */

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

/* ---------- vm config ---------- */

void splq_ops_vmcfg_clear(struct splq_ops_vmcfg *v)
{
	free(v->root_of);
	free(v->root_base);
	free(v->private_of);
	v->root_of = v->root_base = v->private_of = NULL;
}

/* Root of a qube that uses template tname: set root_of and root_base. */
static int vmcfg_set_root(struct splq_ctx *ctx, struct splq_ops_vmcfg *v, const char *tname,
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
	v->c.private_of_slot = -1;

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
				v->c.private_of_slot = d.slot;
				if (splq_ops_prop_get(ctx, &d, "template", &dt, err) < 0)
					return -1;
				if (!dt || !*dt)
					return splq_fail(err, SPLQ_E_CORRUPT,
					                 "qube '%s' has no template", d.name);
				if (vmcfg_set_root(ctx, v, dt, err) < 0)
					return -1;
				break;
			}
		}
		if (vmcfg_set_root(ctx, v, tmpl, err) < 0)
			return -1;
		break;
	default:
		break;
	}
	v->c.root_of = v->root_of;
	v->c.root_base = v->root_base;
	v->c.private_of = v->private_of;

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

/* ---------- context ---------- */

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

static const char *label_canon(const char *label, struct splq_error *err)
{
	const struct splq_label *l = splq_label_find(label);

	if (!l) {
		splq_fail(err, SPLQ_E_VALUE,
		          "unknown label '%s' (use red, orange, yellow, green, gray, blue, purple "
		          "or black)",
		          label);
		return NULL;
	}
	return l->name;
}

/* ---------- template create, create, clone, remove ---------- */

/* Does dir look like a root file system: an /etc, and a shell at /bin/sh
 * (looked up as inside it: its symlinks resolve within it, as merged-/usr
 * roots need)? */
static int root_check(const char *dir, struct splq_error *err)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	cleanup_close int fd = open(dir, O_DIRECTORY | O_CLOEXEC);
	cleanup_close int etc = -1, sh = -1;
	struct stat st;

	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_VALUE, errno, "cannot open base '%s'", dir);
	etc = openat(fd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "base '%s' does not look like a root file system: it has no /etc",
		                 dir);
	sh = (int)syscall(SYS_openat2, fd, "bin/sh", &how, sizeof(how));
	if (sh < 0 || fstat(sh, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "base '%s' does not look like a root file system: it has no "
		                 "shell at /bin/sh",
		                 dir);
	return 0;
}

static int base_resolve(const char *base, char **out, struct splq_error *err)
{
	struct stat st;

	if (!base || !*base)
		return splq_fail(err, SPLQ_E_USAGE, "a template needs a base: host or a directory");
	if (splq_ops_streq(base, "host")) {
		*out = splq_xstrdup("host");
		return 0;
	}
	if (stat(base, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return splq_fail(err, SPLQ_E_NOTFOUND, "base directory '%s' does not exist",
			                 base);
		return splq_fail_errno(err, SPLQ_E_VALUE, errno, "cannot use base directory '%s'",
		                       base);
	}
	if (!S_ISDIR(st.st_mode))
		return splq_fail(err, SPLQ_E_VALUE, "base '%s' is not a directory", base);
	*out = realpath(base, NULL);
	if (!*out)
		return splq_fail_errno(err, SPLQ_E_VALUE, errno,
		                       "cannot resolve base directory '%s'", base);
	if (root_check(*out, err) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Sizes given at creation (name: a volume, value: a size): checked, then
 * stored in the open transaction.  An AppVM's root is its template's. */
static int sizes_check(const char *name, enum splq_class klass,
                       const struct splq_prop_assign *sizes, int n, unsigned long long *out,
                       struct splq_error *err)
{
	for (int i = 0; i < n; i++) {
		int v = splq_volume_index(sizes[i].name);

		if (v < 0)
			return splq_fail(err, SPLQ_E_NOTFOUND,
			                 "no such volume '%s' (root, private or volatile)",
			                 sizes[i].name ? sizes[i].name : "");
		if (v == 0 && klass == SPLQ_CLASS_APPVM)
			return splq_fail(
			    err, SPLQ_E_VALUE,
			    "the root volume of AppVM '%s' is its template's: size the "
			    "template's root",
			    name);
		if (splq_size_parse(sizes[i].value, &out[i], err) < 0)
			return -1;
	}
	return 0;
}

static int sizes_store(struct splq_ctx *ctx, const char *name, const struct splq_prop_assign *sizes,
                       int n, const unsigned long long *bytes, struct splq_error *err)
{
	for (int i = 0; i < n; i++)
		if (splq_store_volume_set(ctx->store, name, sizes[i].name, bytes[i], err) < 0)
			return -1;
	return 0;
}

static char *args_with_sizes(char *args, const struct splq_prop_assign *sizes, int n)
{
	for (int i = 0; i < n && strlen(args) < 4 * AUDIT_ARGS_MAX; i++) {
		char *a =
		    splq_strdup_printf("%s --size %s=%s", args, sizes[i].name ? sizes[i].name : "",
		                       sizes[i].value ? sizes[i].value : "");
		free(args);
		args = a;
	}
	return args;
}

/* The last step of making a qube whose rows are written in the open
 * transaction: its volumes (a copy of src's when src is given), then the
 * commit.  On failure the volumes go, what was made of them included, and
 * the transaction is rolled back. */
static int volumes_commit(struct splq_ctx *ctx, const struct splq_vm_config *src,
                          const struct splq_vm_config *c, struct splq_error *err)
{
	const struct splq_backend_ops *ops = ctx->backend->ops;
	int rc = src ? ops->volumes_clone(ctx->backend, src, c, err)
	             : ops->volumes_create(ctx->backend, c, err);

	if (rc < 0 || splq_store_commit(ctx->store, err) < 0) {
		ops->volumes_remove(ctx->backend, c, NULL);
		splq_store_rollback(ctx->store);
		return -1;
	}
	return 0;
}

int splq_op_template_create(struct splq_ctx *ctx, const char *name, const char *base,
                            const char *label, const struct splq_prop_assign *sizes, int nsizes,
                            struct splq_error *err)
{
	cleanup_free unsigned long long *bytes = splq_xcalloc(nsizes + 1, sizeof(*bytes));
	cleanup_free char *rbase = NULL;
	cleanup_free char *args = NULL;
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	struct splq_qube q = {0};
	const char *lname;
	int rc = -1;

	ERR_GUARD(err);
	if (splq_name_check(name, err) < 0)
		return -1;
	args =
	    splq_strdup_printf("--base %s --label %s", base ? base : "", label ? label : "black");
	args = args_with_sizes(args, sizes, nsizes);
	lname = label_canon(label ? label : "black", err);
	if (!lname)
		goto out;
	if (sizes_check(name, SPLQ_CLASS_TEMPLATEVM, sizes, nsizes, bytes, err) < 0)
		goto out;
	if (base_resolve(base, &rbase, err) < 0)
		goto out;
	/* the audit names the folder that was copied, not one relative to
	 * wherever splq ran */
	free(args);
	args = splq_strdup_printf("--base %s --label %s", rbase, lname);
	args = args_with_sizes(args, sizes, nsizes);

	if (splq_store_begin(ctx->store, err) < 0)
		goto out;
	snprintf(q.name, sizeof(q.name), "%s", name);
	q.klass = SPLQ_CLASS_TEMPLATEVM;
	q.base = rbase;
	if (splq_store_qube_add(ctx->store, &q, err) < 0)
		goto rollback;
	if (splq_store_prop_set(ctx->store, name, "label", lname, err) < 0)
		goto rollback;
	if (splq_store_tag_add(ctx->store, name, "created-by-dom0", err) < 0)
		goto rollback;
	if (sizes_store(ctx, name, sizes, nsizes, bytes, err) < 0)
		goto rollback;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto rollback;
	rc = volumes_commit(ctx, NULL, &v.c, err);
	goto out;
rollback:
	splq_store_rollback(ctx->store);
out:
	return splq_ops_audit_done(ctx, "template-create", name, args, NULL, rc, err);
}

int splq_op_create(struct splq_ctx *ctx, const char *name, enum splq_class klass,
                   const char *template, const char *label, const struct splq_prop_assign *props,
                   int nprops, const struct splq_prop_assign *sizes, int nsizes,
                   struct splq_error *err)
{
	cleanup_free unsigned long long *bytes = NULL;
	cleanup_qube struct splq_qube t = {0};
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *args = NULL;
	cleanup_free char *tbase = NULL;
	cleanup_free char *dflt = NULL;
	char **canon = NULL;
	struct splq_qube q = {0};
	long memory = strtol(splq_prop_find("memory")->dflt, NULL, 10), maxmem = -1;
	const char *lname;
	size_t alen;
	int rc = -1, i;

	ERR_GUARD(err);
	if (splq_name_check(name, err) < 0)
		return -1;
	if (klass != SPLQ_CLASS_APPVM && klass != SPLQ_CLASS_STANDALONEVM) {
		if (klass == SPLQ_CLASS_TEMPLATEVM)
			return splq_fail(err, SPLQ_E_USAGE,
			                 "a TemplateVM is made with: splq template create");
		if (klass == SPLQ_CLASS_DISPVM)
			return splq_fail(err, SPLQ_E_USAGE, "a DispVM is made with: splq dispvm");
		return splq_fail(err, SPLQ_E_USAGE, "cannot create a qube of class %s",
		                 (unsigned)klass < SPLQ_CLASS_COUNT ? splq_class_name(klass) : "?");
	}
	if (nprops < 0 || (nprops > 0 && !props) || nsizes < 0 || (nsizes > 0 && !sizes))
		return splq_fail(err, SPLQ_E_USAGE, "bad property list");
	bytes = splq_xcalloc(nsizes + 1, sizeof(*bytes));
	/* no --template: dom0's default_template (the audit names it) */
	if ((!template || !*template) &&
	    splq_ops_global_get(ctx, "default_template", &dflt, err) == 0 && *dflt)
		template = dflt;

	args = splq_strdup_printf("%s--template %s --label %s",
	                          klass == SPLQ_CLASS_STANDALONEVM ? "--class StandaloneVM " : "",
	                          template ? template : "", label ? label : "red");
	for (i = 0; i < nprops; i++) {
		char *a = splq_strdup_printf("%s %s=%s", args, props[i].name ? props[i].name : "",
		                             props[i].value ? props[i].value : "");
		free(args);
		args = a;
		alen = strlen(args);
		if (alen > 4 * AUDIT_ARGS_MAX)
			break;
	}
	args = args_with_sizes(args, sizes, nsizes);

	/* everything is checked before anything is written */
	if (!template || !*template) {
		if (!dflt)
			goto out; /* default_template could not be read */
		splq_fail(err, SPLQ_E_USAGE,
		          "qube '%s' needs a template: --template T, or set a default with: splq "
		          "prefs dom0 default_template T",
		          name);
		goto out;
	}
	if (splq_store_qube_get(ctx->store, template, &t, err) < 0) {
		if (err->code == SPLQ_E_NOTFOUND)
			splq_fail(err, SPLQ_E_NOTFOUND, "template '%s' does not exist", template);
		goto out;
	}
	if (t.klass != SPLQ_CLASS_TEMPLATEVM) {
		splq_fail(err, SPLQ_E_VALUE, "qube '%s' is a%s %s, not a TemplateVM", t.name,
		          t.klass == SPLQ_CLASS_APPVM || t.klass == SPLQ_CLASS_ADMINVM ? "n" : "",
		          splq_class_name(t.klass));
		goto out;
	}
	lname = label_canon(label ? label : "red", err);
	if (!lname)
		goto out;
	canon = splq_xcalloc(nprops + 1, sizeof(*canon));
	for (i = 0; i < nprops; i++) {
		const struct splq_prop_def *def = splq_ops_prop_def(props[i].name, err);

		if (!def)
			goto out;
		if (splq_ops_prop_changeable(name, klass, false, def, err) < 0)
			goto out;
		if (splq_prop_parse(def, props[i].value ? props[i].value : "", &canon[i], err) < 0)
			goto out;
		if (splq_ops_prop_value_check(ctx, klass, def, canon[i], err) < 0)
			goto out;
		if (splq_ops_streq(def->name, "memory"))
			memory = strtol(canon[i], NULL, 10);
		if (splq_ops_streq(def->name, "maxmem"))
			maxmem = strtol(canon[i], NULL, 10);
	}
	if (maxmem >= 0 && splq_ops_memory_check(name, memory, maxmem, err) < 0)
		goto out;
	if (sizes_check(name, klass, sizes, nsizes, bytes, err) < 0)
		goto out;

	if (splq_store_begin(ctx->store, err) < 0)
		goto out;
	snprintf(q.name, sizeof(q.name), "%s", name);
	q.klass = klass;
	if (klass == SPLQ_CLASS_STANDALONEVM && t.base)
		q.base = tbase = splq_xstrdup(t.base);
	if (splq_store_qube_add(ctx->store, &q, err) < 0)
		goto rollback;
	if (klass == SPLQ_CLASS_APPVM &&
	    splq_store_prop_set(ctx->store, name, "template", t.name, err) < 0)
		goto rollback;
	if (splq_store_prop_set(ctx->store, name, "label", lname, err) < 0)
		goto rollback;
	for (i = 0; i < nprops; i++)
		if (splq_store_prop_set(ctx->store, name, splq_prop_find(props[i].name)->name,
		                        canon[i], err) < 0)
			goto rollback;
	if (splq_store_tag_add(ctx->store, name, "created-by-dom0", err) < 0)
		goto rollback;
	if (sizes_store(ctx, name, sizes, nsizes, bytes, err) < 0)
		goto rollback;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto rollback;
	if (klass == SPLQ_CLASS_STANDALONEVM) {
		/* a copy of the template's root: the backend reads it from root_of */
		if (vmcfg_set_root(ctx, &v, t.name, err) < 0)
			goto rollback;
		v.c.root_of = v.root_of;
		v.c.root_base = v.root_base;
	}
	rc = volumes_commit(ctx, NULL, &v.c, err);
	goto out;
rollback:
	splq_store_rollback(ctx->store);
out:
	if (canon)
		splq_strv_free(canon, nprops);
	return splq_ops_audit_done(ctx, "create", name, args, NULL, rc, err);
}

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

int splq_op_clone(struct splq_ctx *ctx, const char *src, const char *dst, struct splq_error *err)
{
	cleanup_qube struct splq_qube s = {0};
	cleanup_vmcfg struct splq_ops_vmcfg vs = {0};
	cleanup_vmcfg struct splq_ops_vmcfg vd = {0};
	cleanup_free char *args = NULL;
	cleanup_free char *dbase = NULL;
	struct splq_qube d = {0};
	int rc = -1;

	ERR_GUARD(err);
	if (splq_name_check(dst, err) < 0)
		return -1;
	if (splq_ops_qube_get(ctx, src, &s, err) < 0)
		return -1;
	args = splq_strdup_printf("from %s", s.name);
	if (s.klass == SPLQ_CLASS_DISPVM) {
		splq_fail(err, SPLQ_E_VALUE, "qube '%s' is a DispVM: disposables cannot be cloned",
		          s.name);
		goto out;
	}
	if (s.klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_VALUE, "dom0 cannot be cloned");
		goto out;
	}
	if (splq_ops_power_of(ctx, &s) != SPLQ_HALTED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is running; shut it down first", s.name);
		goto out;
	}
	if (splq_ops_vmcfg_build(ctx, &s, &vs, err) < 0)
		goto out;

	if (splq_store_begin(ctx->store, err) < 0)
		goto out;
	snprintf(d.name, sizeof(d.name), "%s", dst);
	d.klass = s.klass;
	if (s.base)
		d.base = dbase = splq_xstrdup(s.base);
	if (splq_store_qube_add(ctx->store, &d, err) < 0)
		goto rollback;
	if (splq_ops_copy_qube_data(ctx, &s, dst, s.klass, NULL, true, err) < 0)
		goto rollback;
	for (int i = 0; i < 3; i++) {
		unsigned long long size;
		bool is_set;

		if (splq_store_volume_get(ctx->store, s.name, splq_volume_names[i], &size, &is_set,
		                          err) < 0 ||
		    (is_set &&
		     splq_store_volume_set(ctx->store, dst, splq_volume_names[i], size, err) < 0))
			goto rollback;
	}
	if (!splq_store_tag_has(ctx->store, dst, "created-by-dom0") &&
	    splq_store_tag_add(ctx->store, dst, "created-by-dom0", err) < 0)
		goto rollback;
	if (splq_ops_vmcfg_build(ctx, &d, &vd, err) < 0)
		goto rollback;
	rc = volumes_commit(ctx, &vs.c, &vd.c, err);
	goto out;
rollback:
	splq_store_rollback(ctx->store);
out:
	return splq_ops_audit_done(ctx, "clone", dst, args, NULL, rc, err);
}

/* Who still uses qube name as template, default_dispvm or default_template
 * (but itself). */
static int users_of(struct splq_ctx *ctx, const char *name, char **list, struct splq_error *err)
{
	static const char *const props[] = {"template", "default_dispvm", "default_template"};
	size_t len = 0, cap = 64;
	char *s = splq_xmalloc(cap);

	s[0] = '\0';
	for (size_t p = 0; p < sizeof(props) / sizeof(props[0]); p++) {
		char **users = NULL;
		int n = 0;

		if (splq_store_prop_users(ctx->store, props[p], name, &users, &n, err) < 0) {
			free(s);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			size_t ul = strlen(users[i]);
			bool dup = false;

			if (splq_ops_streq(users[i], name))
				continue;
			/* the same qube may use it both ways */
			for (const char *c = s; *c;) {
				const char *e = strstr(c, ", ");
				size_t l = e ? (size_t)(e - c) : strlen(c);

				if (l == ul && strncmp(c, users[i], ul) == 0)
					dup = true;
				c += l;
				if (e)
					c += 2;
			}
			if (dup)
				continue;
			if (len + ul + 3 > cap) {
				cap = (len + ul + 3) * 2;
				s = realloc(s, cap);
				if (!s)
					abort();
			}
			if (len) {
				memcpy(s + len, ", ", 2);
				len += 2;
			}
			memcpy(s + len, users[i], ul);
			len += ul;
			s[len] = '\0';
		}
		splq_strv_free(users, n);
	}
	*list = s;
	return 0;
}

/* Remove a halted qube's row and volumes: row first, inside a transaction
 * that is undone when the volumes cannot be removed. */
int splq_ops_remove_qube(struct splq_ctx *ctx, const struct splq_ops_vmcfg *v, bool missing_ok,
                         struct splq_error *err)
{
	if (splq_store_begin(ctx->store, err) < 0)
		return -1;
	if (splq_store_qube_remove(ctx->store, v->c.name, err) < 0 &&
	    !(missing_ok && err->code == SPLQ_E_NOTFOUND))
		goto rollback;
	if (ctx->backend->ops->volumes_remove(ctx->backend, &v->c, err) < 0)
		goto rollback;
	if (splq_store_commit(ctx->store, err) < 0)
		goto rollback;
	return 0;
rollback:
	splq_store_rollback(ctx->store);
	return -1;
}

int splq_op_remove(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *users = NULL;
	int rc = -1;

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	if (q.klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_STATE, "dom0 cannot be removed");
		goto out;
	}
	if (splq_ops_power_of(ctx, &q) != SPLQ_HALTED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is running; shut it down first", q.name);
		goto out;
	}
	if (users_of(ctx, q.name, &users, err) < 0)
		goto out;
	if (*users) {
		splq_fail(err, SPLQ_E_STATE, "template '%s' is still used by: %s", q.name, users);
		goto out;
	}
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	rc = splq_ops_remove_qube(ctx, &v, false, err);
out:
	return splq_ops_audit_done(ctx, "remove", q.name, NULL, NULL, rc, err);
}

/* ---------- start, shutdown, kill, run ---------- */

static int start_qube(struct splq_ctx *ctx, const struct splq_qube *q, const char *args,
                      struct splq_error *err)
{
	cleanup_vmcfg struct splq_ops_vmcfg v = {0};
	cleanup_free char *with = NULL;
	int rc = -1;

	if (q->klass == SPLQ_CLASS_ADMINVM) {
		splq_fail(err, SPLQ_E_STATE, "dom0 cannot be started: it is the host");
		goto out;
	}
	if (splq_ops_power_of(ctx, q) != SPLQ_HALTED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is already running", q->name);
		goto out;
	}
	if (splq_ops_vmcfg_build(ctx, q, &v, err) < 0)
		goto out;
	/* the audit entry says what the filter lets through */
	if (v.c.allow_io_uring)
		with = splq_strdup_printf("%s%s%s=1", args ? args : "", args ? " " : "",
		                          SPLQ_FEATURE_ALLOW_IO_URING);
	rc = ctx->backend->ops->start(ctx->backend, &v.c, NULL, err);
out:
	return splq_ops_audit_done(ctx, "start", q->name, with ? with : args, NULL, rc, err);
}

int splq_op_start(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	cleanup_qube struct splq_qube q = {0};

	ERR_GUARD(err);
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	return start_qube(ctx, &q, NULL, err);
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
			snprintf(t, sizeof(t), " --timeout %ld", timeout_s);
		args = splq_strdup_printf("%s%s%s", force ? " --force" : "", wait ? " --wait" : "",
		                          t);
		memmove(args, args + (*args == ' '), strlen(args) + 1 - (*args == ' '));
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

int splq_op_shutdown(struct splq_ctx *ctx, const char *name, bool force, bool wait,
                     long timeout_s, struct splq_error *err)
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

/* Audit summary of a command: [--user U] argv. */
char *splq_ops_exec_args(const char *prefix, const char *user, char *const *argv)
{
	cleanup_free char *cmd = join_argv(argv);

	return splq_strdup_printf("%s%s%s%s%s", prefix ? prefix : "", user ? "--user " : "",
	                          user ? user : "", user ? " " : "", cmd);
}

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
	if (!x || !x->argv || (!x->argv[0] && !x->tty))
		return splq_fail(err, SPLQ_E_USAGE, "no command given");
	if (splq_ops_qube_get(ctx, name, &q, err) < 0)
		return -1;
	args = splq_ops_exec_args(NULL, x->user, x->argv);
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
	if (p == SPLQ_HALTED && start_qube(ctx, &q, "for run", err) < 0)
		goto out;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	ex = *x;
	ex.user = user;
	ex.info = &info;
	rc = ctx->backend->ops->run(ctx->backend, &v.c, &ex, &st, err);
	if (rc == 0 && status)
		*status = st;
	if (rc < 0 && p == SPLQ_HALTED)
		halt_again(ctx, &q, err);
	splq_ops_exec_info(x, &info, &v.c, q.name);
out:
	if (rc == 0)
		result = x->no_wait ? splq_xstrdup("ok") : splq_ops_exit_result(st, &info);
	return splq_ops_audit_done(ctx, "run", q.name, args, result, rc, err);
}
