/* splq: making and removing qubes (see ops.h): template create, create,
 * clone and remove, with the checks of their bases, labels and sizes. */
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

/* ---------- template create, create, clone, remove ---------- */

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
	if (splq_ops_net_check(ctx, name, false, err) < 0)
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
	if (splq_ops_net_check(ctx, name, false, err) < 0)
		goto rollback;
	if (sizes_store(ctx, name, sizes, nsizes, bytes, err) < 0)
		goto rollback;
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto rollback;
	if (klass == SPLQ_CLASS_STANDALONEVM) {
		/* a copy of the template's root: the backend reads it from root_of */
		if (splq_ops_vmcfg_set_root(ctx, &v, t.name, err) < 0)
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

/* Who still uses qube name as template, default_dispvm, default_template,
 * netvm or default_netvm (but itself). */
static int users_of(struct splq_ctx *ctx, const char *name, char **list, struct splq_error *err)
{
	static const char *const props[] = {"template", "default_dispvm", "default_template",
	                                    "netvm", "default_netvm"};
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

int splq_op_remove(struct splq_ctx *ctx, const char *name, struct splq_error *err)
{
	return splq_op_remove_forced(ctx, name, false, err);
}

int splq_op_remove_forced(struct splq_ctx *ctx, const char *name, bool force,
                          struct splq_error *err)
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
	if (force && splq_ops_power_of(ctx, &q) != SPLQ_HALTED) {
		cleanup_qube struct splq_qube still = {0};
		if (splq_op_kill(ctx, q.name, err) < 0)
			return -1;
		/* a disposable with auto_cleanup went with its kill */
		if (splq_store_qube_get(ctx->store, q.name, &still, NULL) < 0)
			return 0;
	}
	if (splq_ops_power_of(ctx, &q) != SPLQ_HALTED) {
		splq_fail(err, SPLQ_E_STATE, "qube '%s' is running; shut it down first", q.name);
		goto out;
	}
	/* its preloaded disposables go with it (they are its users too) */
	splq_ops_preload_drain(ctx, &q);
	if (users_of(ctx, q.name, &users, err) < 0)
		goto out;
	if (*users) {
		splq_fail(err, SPLQ_E_STATE, "%s '%s' is still used by: %s",
		          q.klass == SPLQ_CLASS_TEMPLATEVM ? "template" : "qube", q.name, users);
		goto out;
	}
	if (splq_ops_vmcfg_build(ctx, &q, &v, err) < 0)
		goto out;
	rc = splq_ops_remove_qube(ctx, &v, false, err);
out:
	return splq_ops_audit_done(ctx, "remove", q.name, NULL, NULL, rc, err);
}
