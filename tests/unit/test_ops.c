/* Unit tests for the ops layer (src/lib/ops/), over a real store and audit
 * log in a scratch SPLQ_HOME and a fake backend that keeps its qubes'
 * power states and volumes in memory and records what it was asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ops/internal.h"
#include "ops/ops.h"
#include "tree.h"
#include "util.h"

/* ---------- the fake backend ---------- */

#define FAKE_MAX 64

enum wait_mode { WAIT_EXIT, WAIT_TIMEOUT, WAIT_SIGNAL };

struct fake_cfg {
	bool set;
	char name[32];
	enum splq_class klass;
	char root_of[32];
	char root_base[256];
	bool has_private_of;
	char private_of[32];
	long memory, vcpus;
};

struct fake {
	struct splq_backend b;
	char running[FAKE_MAX][32]; /* qubes that are running */
	int nrunning;
	char volumes[FAKE_MAX][32]; /* qubes that have volumes */
	int nvolumes;

	int creates, removes, clones, starts, runs, waits, shutdowns, kills;
	bool fail_create; /* volumes_create makes half the volumes, then fails */
	bool fail_remove;
	enum wait_mode wait_mode;
	int wait_status;
	int wait_signo;
	bool remover;			  /* a discard disposable's wait leaves its */
	struct splq_exec_info *first_info; /* removal to this process */
	bool first_discard;
	int run_status;
	char run_user[64];
	char first_user[64];
	char first_argv0[64];
	bool first_given;
	struct fake_cfg created, started, clone_src, clone_dst;
};

static struct fake *F(struct splq_backend *b)
{
	return (struct fake *)b;
}

static int find(char (*set)[32], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(set[i], name) == 0)
			return i;
	return -1;
}

static void set_add(char (*set)[32], int *n, const char *name)
{
	if (find(set, *n, name) < 0 && *n < FAKE_MAX)
		snprintf(set[(*n)++], 32, "%s", name);
}

static void set_del(char (*set)[32], int *n, const char *name)
{
	int i = find(set, *n, name);

	if (i < 0)
		return;
	memcpy(set[i], set[*n - 1], 32);
	(*n)--;
}

static void record(struct fake_cfg *r, const struct splq_vm_config *c)
{
	memset(r, 0, sizeof(*r));
	r->set = true;
	snprintf(r->name, sizeof(r->name), "%s", c->name);
	r->klass = c->klass;
	snprintf(r->root_of, sizeof(r->root_of), "%s", c->root_of ? c->root_of : "(null)");
	snprintf(r->root_base, sizeof(r->root_base), "%s", c->root_base ? c->root_base : "(null)");
	r->has_private_of = c->private_of != NULL;
	snprintf(r->private_of, sizeof(r->private_of), "%s", c->private_of ? c->private_of : "");
	r->memory = c->memory_mib;
	r->vcpus = c->vcpus;
}

/* A host of 4 CPUs and 8 GiB. */
static int fk_host_resources(struct splq_backend *b, struct splq_host_resources *out,
                             struct splq_error *err)
{
	out->cpus = 4;
	out->memory_mib = 8192;
	return 0;
}

static int fk_volumes_create(struct splq_backend *b, const struct splq_vm_config *cfg,
                             struct splq_error *err)
{
	struct fake *f = F(b);

	f->creates++;
	record(&f->created, cfg);
	set_add(f->volumes, &f->nvolumes, cfg->name);
	if (f->fail_create)
		return splq_fail(err, SPLQ_E_NOSPACE, "fake: disk full while making '%s'",
		                 cfg->name);
	return 0;
}

static int fk_volumes_clone(struct splq_backend *b, const struct splq_vm_config *src,
                            const struct splq_vm_config *dst, struct splq_error *err)
{
	struct fake *f = F(b);

	f->clones++;
	record(&f->clone_src, src);
	record(&f->clone_dst, dst);
	set_add(f->volumes, &f->nvolumes, dst->name);
	if (f->fail_create)
		return splq_fail(err, SPLQ_E_NOSPACE, "fake: disk full while cloning");
	return 0;
}

static int fk_volumes_remove(struct splq_backend *b, const struct splq_vm_config *cfg,
                             struct splq_error *err)
{
	struct fake *f = F(b);

	f->removes++;
	if (f->fail_remove)
		return splq_fail(err, SPLQ_E_NOSPACE, "fake: cannot remove '%s'", cfg->name);
	set_del(f->volumes, &f->nvolumes, cfg->name);
	return 0;
}

static enum splq_power fk_state(struct splq_backend *b, const char *name)
{
	struct fake *f = F(b);

	return find(f->running, f->nrunning, name) >= 0 ? SPLQ_RUNNING : SPLQ_HALTED;
}

static int fk_start(struct splq_backend *b, const struct splq_vm_config *cfg,
                    const struct splq_exec *first, struct splq_error *err)
{
	struct fake *f = F(b);

	f->starts++;
	record(&f->started, cfg);
	f->first_given = first != NULL;
	if (first) {
		snprintf(f->first_user, sizeof(f->first_user), "%s",
		         first->user ? first->user : "(null)");
		snprintf(f->first_argv0, sizeof(f->first_argv0), "%s", first->argv[0]);
		f->first_info = first->info;
		f->first_discard = cfg->discard;
	}
	set_add(f->running, &f->nrunning, cfg->name);
	return 0;
}

static int fk_run(struct splq_backend *b, const struct splq_vm_config *cfg,
                  const struct splq_exec *x, int *status, struct splq_error *err)
{
	struct fake *f = F(b);

	f->runs++;
	snprintf(f->run_user, sizeof(f->run_user), "%s", x->user ? x->user : "(null)");
	*status = f->run_status;
	return 0;
}

static int fk_wait(struct splq_backend *b, const char *name, long timeout_ms, int *status,
                   int *signo, struct splq_error *err)
{
	struct fake *f = F(b);

	f->waits++;
	*status = 0;
	*signo = 0;
	set_del(f->running, &f->nrunning, name);
	switch (f->wait_mode) {
	case WAIT_TIMEOUT:
		return splq_fail(err, SPLQ_E_TIMEOUT, "fake: timeout");
	case WAIT_SIGNAL:
		*signo = f->wait_signo;
		*status = 128 + f->wait_signo;
		return 0;
	case WAIT_EXIT:
		break;
	}
	*status = f->wait_status;
	if (f->remover && f->first_discard && f->first_info)
		f->first_info->remover = getpid();
	return 0;
}

static int fk_shutdown(struct splq_backend *b, const struct splq_vm_config *cfg, bool force,
                       bool wait, struct splq_error *err)
{
	struct fake *f = F(b);

	f->shutdowns++;
	set_del(f->running, &f->nrunning, cfg->name);
	return 0;
}

static int fk_kill(struct splq_backend *b, const char *name, struct splq_error *err)
{
	struct fake *f = F(b);

	f->kills++;
	set_del(f->running, &f->nrunning, name);
	return 0;
}

static int fk_net_relink(struct splq_backend *b, const struct splq_vm_config *cfg,
                         struct splq_error *err)
{
	return 0;
}

static void fk_free(struct splq_backend *b) {}

static const struct splq_backend_ops fake_ops = {
    .name = "fake",
    .host_resources = fk_host_resources,
    .volumes_create = fk_volumes_create,
    .volumes_clone = fk_volumes_clone,
    .volumes_remove = fk_volumes_remove,
    .state = fk_state,
    .start = fk_start,
    .run = fk_run,
    .wait = fk_wait,
    .shutdown = fk_shutdown,
    .kill = fk_kill,
    .net_relink = fk_net_relink,
    .firewall_apply = fk_net_relink,
    .free = fk_free,
};

/* The tests never open the native backend (splq_ctx_open is only seen
 * refusing non-root callers): a weak stand-in keeps the link free of it. */
__attribute__((weak)) int splq_backend_native_new(const char *home, const char *run,
                                                  struct splq_backend **out, struct splq_error *err)
{
	return splq_fail(err, SPLQ_E_INTERNAL, "the native backend is not used in these tests");
}

/* ---------- fixture ---------- */

struct T {
	char dir[64];
	struct splq_ctx ctx;
	struct fake fake;
	struct splq_error err;
};

static int setup(void **state)
{
	struct T *t = calloc(1, sizeof(*t));
	struct splq_error err = {0};

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/splq-test-ops.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->ctx.home = splq_strdup_printf("%s/home", t->dir);
	t->ctx.run = splq_strdup_printf("%s/run", t->dir);
	assert_int_equal(mkdir(t->ctx.home, 0700), 0);
	assert_int_equal(mkdir(t->ctx.run, 0700), 0);
	if (splq_store_open(t->ctx.home, &t->ctx.store, &err) < 0)
		fail_msg("store: %s", err.msg);
	t->fake.b.ops = &fake_ops;
	t->fake.b.home = t->ctx.home;
	t->fake.b.run = t->ctx.run;
	t->ctx.backend = &t->fake.b;
	snprintf(t->ctx.actor, sizeof(t->ctx.actor), "uid:0");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct T *t = *state;
	struct splq_error err;

	splq_ctx_close(&t->ctx); /* the fake's free does nothing */
	splq_rm_rf(t->dir, &err);
	free(t);
	return 0;
}

#define OK(call)                                                                                   \
	do {                                                                                       \
		if ((call) < 0)                                                                    \
			fail_msg("%s failed: [%d] %s", #call, t->err.code, t->err.msg);            \
	} while (0)

/* call must fail with code; the message must contain msg (if not NULL). */
#define FAILS(call, want_code, want_msg)                                                           \
	do {                                                                                       \
		memset(&t->err, 0, sizeof(t->err));                                                \
		if ((call) >= 0)                                                                   \
			fail_msg("%s succeeded, expected code %d", #call, (int)(want_code));       \
		if (t->err.code != (int)(want_code))                                               \
			fail_msg("%s: code %d (%s), expected %d", #call, t->err.code, t->err.msg,  \
			         (int)(want_code));                                                \
		if ((want_msg) && !strstr(t->err.msg, (want_msg) ? (want_msg) : ""))               \
			fail_msg("%s: message '%s' lacks '%s'", #call, t->err.msg,                 \
			         (want_msg) ? (want_msg) : "");                                    \
	} while (0)

static bool exists(struct T *t, const char *name)
{
	struct splq_qube q;
	struct splq_error err;
	bool r = splq_store_qube_get(t->ctx.store, name, &q, &err) == 0;

	if (r)
		splq_qube_clear(&q);
	return r;
}

static char *prop(struct T *t, const char *qube, const char *name, bool *is_default)
{
	struct splq_qube q;
	struct splq_error err;
	char *v = NULL;
	bool d;

	if (splq_store_qube_get(t->ctx.store, qube, &q, &err) < 0)
		fail_msg("qube %s: %s", qube, err.msg);
	if (splq_store_prop_get(t->ctx.store, &q, name, &v, &d, &err) < 0)
		fail_msg("prop %s.%s: %s", qube, name, err.msg);
	splq_qube_clear(&q);
	if (is_default)
		*is_default = d;
	return v;
}

static void assert_prop(struct T *t, const char *qube, const char *name, const char *want)
{
	char *v = prop(t, qube, name, NULL);

	if (strcmp(v, want) != 0)
		fail_msg("%s.%s is '%s', expected '%s'", qube, name, v, want);
	free(v);
}

static bool has_volumes(struct T *t, const char *name)
{
	return find(t->fake.volumes, t->fake.nvolumes, name) >= 0;
}

/* Number of audit entries (all, or for one qube). */
static int audit_count(struct T *t, const char *qube)
{
	struct splq_audit_entry *e = NULL;
	struct splq_error err;
	int n = 0;

	if (splq_audit_read(t->ctx.home, qube, 0, &e, &n, &err) < 0)
		fail_msg("audit read: %s", err.msg);
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&e[i]);
	free(e);
	return n;
}

/* The last audit entry must be op on target with a result starting with
 * result and args containing args (NULL: not checked). */
static void assert_last_audit(struct T *t, const char *op, const char *target, const char *result,
                              const char *args)
{
	struct splq_audit_entry *e = NULL;
	struct splq_error err;
	int n = 0;

	if (splq_audit_read(t->ctx.home, NULL, 0, &e, &n, &err) < 0)
		fail_msg("audit read: %s", err.msg);
	assert_true(n > 0);
	struct splq_audit_entry *l = &e[n - 1];
	if (strcmp(l->op, op) != 0 || strcmp(l->target, target) != 0 ||
	    strncmp(l->result, result, strlen(result)) != 0 || (args && !strstr(l->args, args)))
		fail_msg("last audit entry is op=%s target=%s result='%s' args='%s'; expected "
		         "op=%s target=%s result='%s...' args~'%s'",
		         l->op, l->target, l->result, l->args, op, target, result,
		         args ? args : "");
	assert_string_equal(l->actor, "uid:0");
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&e[i]);
	free(e);
}

static void assert_audit_verifies(struct T *t)
{
	long long entries = 0, bad = 0;
	struct splq_error err;

	if (splq_audit_verify(t->ctx.store, t->ctx.home, &entries, &bad, &err) < 0)
		fail_msg("audit verify: %s (line %lld)", err.msg, bad);
}

static void mk_template(struct T *t, const char *name)
{
	OK(splq_op_template_create(&t->ctx, name, "host", NULL, NULL, 0, &t->err));
}

static void mk_appvm(struct T *t, const char *name, const char *tmpl)
{
	OK(splq_op_create(&t->ctx, name, SPLQ_CLASS_APPVM, tmpl, NULL, NULL, 0, NULL, 0, &t->err));
}

/* ---------- template create ---------- */

static void test_template_create_host(void **state)
{
	struct T *t = *state;
	struct splq_qube q;
	char **tags = NULL;
	int n = 0;

	OK(splq_op_template_create(&t->ctx, "deb", "host", NULL, NULL, 0, &t->err));
	OK(splq_store_qube_get(t->ctx.store, "deb", &q, &t->err));
	assert_int_equal(q.klass, SPLQ_CLASS_TEMPLATEVM);
	assert_string_equal(q.base, "host");
	splq_qube_clear(&q);
	assert_prop(t, "deb", "label", "black");
	OK(splq_store_tag_list(t->ctx.store, "deb", &tags, &n, &t->err));
	assert_int_equal(n, 1);
	assert_string_equal(tags[0], "created-by-dom0");
	splq_strv_free(tags, n);

	assert_int_equal(t->fake.creates, 1);
	assert_string_equal(t->fake.created.name, "deb");
	assert_string_equal(t->fake.created.root_of, "deb");
	assert_string_equal(t->fake.created.root_base, "host");
	assert_true(has_volumes(t, "deb"));
	assert_last_audit(t, "template-create", "deb", "ok", "--base host --label black");
	assert_audit_verifies(t);
}

static void test_template_create_dir(void **state)
{
	struct T *t = *state;
	struct splq_qube q;
	char *rel, *file;

	rel = splq_strdup_printf("%s/rootfs/", t->dir);
	assert_int_equal(mkdir(rel, 0755), 0);
	/* not a root yet: no /etc, then no shell */
	FAILS(splq_op_template_create(&t->ctx, "mini", rel, "blue", NULL, 0, &t->err),
	      SPLQ_E_VALUE, "has no /etc");
	file = splq_strdup_printf("%s/rootfs/etc", t->dir);
	assert_int_equal(mkdir(file, 0755), 0);
	free(file);
	FAILS(splq_op_template_create(&t->ctx, "mini", rel, "blue", NULL, 0, &t->err),
	      SPLQ_E_VALUE, "no shell at /bin/sh");
	/* a merged-/usr root: /bin is an absolute symlink, resolved inside */
	file = splq_strdup_printf("%s/rootfs/usr", t->dir);
	assert_int_equal(mkdir(file, 0755), 0);
	free(file);
	file = splq_strdup_printf("%s/rootfs/usr/bin", t->dir);
	assert_int_equal(mkdir(file, 0755), 0);
	free(file);
	file = splq_strdup_printf("%s/rootfs/bin", t->dir);
	assert_int_equal(symlink("/usr/bin", file), 0);
	free(file);
	file = splq_strdup_printf("%s/rootfs/usr/bin/sh", t->dir);
	FILE *sh = fopen(file, "w");
	assert_non_null(sh);
	fclose(sh);
	FAILS(splq_op_template_create(&t->ctx, "mini", rel, "blue", NULL, 0, &t->err),
	      SPLQ_E_VALUE, "no shell at /bin/sh"); /* not executable */
	assert_int_equal(chmod(file, 0755), 0);
	free(file);
	assert_false(has_volumes(t, "mini"));
	OK(splq_op_template_create(&t->ctx, "mini", rel, "blue", NULL, 0, &t->err));
	OK(splq_store_qube_get(t->ctx.store, "mini", &q, &t->err));
	/* stored as the canonical absolute path */
	char *want = realpath(rel, NULL);
	assert_string_equal(q.base, want);
	assert_string_equal(t->fake.created.root_base, want);
	assert_prop(t, "mini", "label", "blue");
	splq_qube_clear(&q);
	free(want);

	file = splq_strdup_printf("%s/afile", t->dir);
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	FAILS(splq_op_template_create(&t->ctx, "t2", file, NULL, NULL, 0, &t->err), SPLQ_E_VALUE,
	      "not a directory");
	assert_false(exists(t, "t2"));
	FAILS(splq_op_template_create(&t->ctx, "t2", "/no/such/dir", NULL, NULL, 0, &t->err),
	      SPLQ_E_NOTFOUND, "base directory '/no/such/dir' does not exist");
	assert_false(exists(t, "t2"));
	assert_last_audit(t, "template-create", "t2", "error: base directory", NULL);
	assert_int_equal(t->fake.creates, 1);
	free(rel);
	free(file);
}

static void test_template_create_refusals(void **state)
{
	struct T *t = *state;
	int before;

	mk_template(t, "deb");
	before = audit_count(t, NULL);
	/* a bad name is refused before anything, and not audited */
	FAILS(splq_op_template_create(&t->ctx, "9bad", "host", NULL, NULL, 0, &t->err), SPLQ_E_NAME,
	      NULL);
	FAILS(splq_op_template_create(&t->ctx, "x-dm", "host", NULL, NULL, 0, &t->err), SPLQ_E_NAME,
	      NULL);
	assert_int_equal(audit_count(t, NULL), before);

	FAILS(splq_op_template_create(&t->ctx, "deb", "host", NULL, NULL, 0, &t->err),
	      SPLQ_E_EXISTS, "deb");
	FAILS(splq_op_template_create(&t->ctx, "t3", "host", "pink", NULL, 0, &t->err),
	      SPLQ_E_VALUE, "pink");
	assert_false(exists(t, "t3"));
	FAILS(splq_op_template_create(&t->ctx, "t3", NULL, NULL, NULL, 0, &t->err), SPLQ_E_USAGE,
	      NULL);
	assert_false(exists(t, "t3"));
	assert_int_equal(t->fake.creates, 1);
	assert_int_equal(audit_count(t, NULL), before + 3);
}

static void test_template_create_volumes_fail(void **state)
{
	struct T *t = *state;

	t->fake.fail_create = true;
	FAILS(splq_op_template_create(&t->ctx, "deb", "host", NULL, NULL, 0, &t->err),
	      SPLQ_E_NOSPACE, "disk full");
	/* nothing half-made: no row, no tags, the partial volumes gone */
	assert_false(exists(t, "deb"));
	assert_false(has_volumes(t, "deb"));
	assert_true(t->fake.removes >= 1);
	assert_last_audit(t, "template-create", "deb", "error: fake: disk full", NULL);
	assert_audit_verifies(t);

	/* and the name can be used afterwards */
	t->fake.fail_create = false;
	mk_template(t, "deb");
	assert_true(exists(t, "deb"));
	assert_false(splq_store_tag_has(t->ctx.store, "nonexistent", "created-by-dom0"));
}

/* ---------- create ---------- */

static void test_create_appvm(void **state)
{
	struct T *t = *state;
	struct splq_prop_assign props[] = {
	    {"memory", "4096"}, {"vcpus", "1"}, {"default_user", "root"}};
	struct splq_qube q;

	mk_template(t, "deb");
	OK(splq_op_create(&t->ctx, "work", SPLQ_CLASS_APPVM, "deb", NULL, props, 3, NULL, 0,
	                  &t->err));
	OK(splq_store_qube_get(t->ctx.store, "work", &q, &t->err));
	assert_int_equal(q.klass, SPLQ_CLASS_APPVM);
	assert_null(q.base);
	splq_qube_clear(&q);
	assert_prop(t, "work", "template", "deb");
	assert_prop(t, "work", "label", "red");
	assert_prop(t, "work", "memory", "4096");
	assert_prop(t, "work", "vcpus", "1");
	assert_prop(t, "work", "default_user", "root");
	assert_true(splq_store_tag_has(t->ctx.store, "work", "created-by-dom0"));

	assert_string_equal(t->fake.created.name, "work");
	assert_int_equal(t->fake.created.klass, SPLQ_CLASS_APPVM);
	assert_string_equal(t->fake.created.root_of, "deb");
	assert_string_equal(t->fake.created.root_base, "host");
	assert_int_equal(t->fake.created.memory, 4096);
	assert_int_equal(t->fake.created.vcpus, 1);
	assert_last_audit(t, "create", "work", "ok", "--template deb --label red memory=4096");

	/* label given, bools canonicalised */
	struct splq_prop_assign p2[] = {{"template_for_dispvms", "yes"}};
	OK(splq_op_create(&t->ctx, "dvm", SPLQ_CLASS_APPVM, "deb", "green", p2, 1, NULL, 0,
	                  &t->err));
	assert_prop(t, "dvm", "label", "green");
	assert_prop(t, "dvm", "template_for_dispvms", "True");
}

static void test_create_refusals(void **state)
{
	struct T *t = *state;
	int creates;

	mk_template(t, "deb");
	mk_appvm(t, "work", "deb");
	creates = t->fake.creates;

	FAILS(
	    splq_op_create(&t->ctx, "a", SPLQ_CLASS_APPVM, "nope", NULL, NULL, 0, NULL, 0, &t->err),
	    SPLQ_E_NOTFOUND, "template 'nope' does not exist");
	FAILS(
	    splq_op_create(&t->ctx, "a", SPLQ_CLASS_APPVM, "work", NULL, NULL, 0, NULL, 0, &t->err),
	    SPLQ_E_VALUE, "qube 'work' is an AppVM, not a TemplateVM");
	FAILS(splq_op_create(&t->ctx, "a", SPLQ_CLASS_APPVM, NULL, NULL, NULL, 0, NULL, 0, &t->err),
	      SPLQ_E_USAGE, NULL);
	FAILS(splq_op_create(&t->ctx, "a", SPLQ_CLASS_TEMPLATEVM, "deb", NULL, NULL, 0, NULL, 0,
	                     &t->err),
	      SPLQ_E_USAGE, NULL);
	FAILS(
	    splq_op_create(&t->ctx, "a", SPLQ_CLASS_DISPVM, "deb", NULL, NULL, 0, NULL, 0, &t->err),
	    SPLQ_E_USAGE, NULL);
	FAILS(splq_op_create(&t->ctx, "work", SPLQ_CLASS_APPVM, "deb", NULL, NULL, 0, NULL, 0,
	                     &t->err),
	      SPLQ_E_EXISTS, NULL);
	FAILS(splq_op_create(&t->ctx, "Domain-0", SPLQ_CLASS_APPVM, "deb", NULL, NULL, 0, NULL, 0,
	                     &t->err),
	      SPLQ_E_NAME, NULL);
	FAILS(splq_op_create(&t->ctx, "a", SPLQ_CLASS_APPVM, "deb", "pink", NULL, 0, NULL, 0,
	                     &t->err),
	      SPLQ_E_VALUE, "pink");

	struct {
		struct splq_prop_assign p;
		enum splq_class klass;
		int code;
		const char *msg;
	} bad[] = {
	    {{"colour", "x"}, SPLQ_CLASS_APPVM, SPLQ_E_NOTFOUND, "colour"},
	    {{"memory", "lots"}, SPLQ_CLASS_APPVM, SPLQ_E_VALUE, NULL},
	    {{"memory", "1"}, SPLQ_CLASS_APPVM, SPLQ_E_VALUE, NULL},
	    {{"uuid", "x"}, SPLQ_CLASS_APPVM, SPLQ_E_VALUE, "read-only"},
	    {{"netvm", "ghost"}, SPLQ_CLASS_APPVM, SPLQ_E_NOTFOUND, "netvm 'ghost': no such qube"},
	    {{"default_dispvm", "work"}, SPLQ_CLASS_APPVM, SPLQ_E_VALUE, "template_for_dispvms"},
	    {{"default_dispvm", "ghost"}, SPLQ_CLASS_APPVM, SPLQ_E_NOTFOUND, "ghost"},
	    {{"template_for_dispvms", "True"},
	     SPLQ_CLASS_STANDALONEVM,
	     SPLQ_E_NOTFOUND,
	     "StandaloneVM"},
	    {{"auto_cleanup", "False"}, SPLQ_CLASS_APPVM, SPLQ_E_NOTFOUND, "(AppVM)"},
	    {{"default_user", "Bad User"}, SPLQ_CLASS_APPVM, SPLQ_E_VALUE, NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the valid props before the bad one must not be written either */
		struct splq_prop_assign ps[] = {{"memory", "800"}, bad[i].p};

		memset(&t->err, 0, sizeof(t->err));
		if (splq_op_create(&t->ctx, "a", bad[i].klass, "deb", NULL, ps, 2, NULL, 0,
		                   &t->err) >= 0)
			fail_msg("prop %s=%s accepted", bad[i].p.name, bad[i].p.value);
		if (t->err.code != bad[i].code)
			fail_msg("prop %s=%s: code %d (%s), expected %d", bad[i].p.name,
			         bad[i].p.value, t->err.code, t->err.msg, bad[i].code);
		if (bad[i].msg && !strstr(t->err.msg, bad[i].msg))
			fail_msg("prop %s=%s: message '%s' lacks '%s'", bad[i].p.name,
			         bad[i].p.value, t->err.msg, bad[i].msg);
	}
	assert_false(exists(t, "a"));
	assert_int_equal(t->fake.creates, creates);
	/* a refused create of a valid name is audited */
	assert_last_audit(t, "create", "a", "error: ", NULL);
	assert_audit_verifies(t);
}

static void test_create_volumes_fail(void **state)
{
	struct T *t = *state;
	struct splq_prop_assign props[] = {{"memory", "800"}};
	char **tags = NULL;
	int n = -1;

	mk_template(t, "deb");
	t->fake.fail_create = true;
	FAILS(splq_op_create(&t->ctx, "work", SPLQ_CLASS_APPVM, "deb", NULL, props, 1, NULL, 0,
	                     &t->err),
	      SPLQ_E_NOSPACE, NULL);
	assert_false(exists(t, "work"));
	assert_false(has_volumes(t, "work"));
	/* no properties left behind under that name */
	char **users = NULL;
	OK(splq_store_prop_users(t->ctx.store, "template", "deb", &users, &n, &t->err));
	assert_int_equal(n, 0);
	splq_strv_free(users, n);
	t->fake.fail_create = false;
	mk_appvm(t, "work", "deb");
	assert_prop(t, "work", "memory", "400");
	OK(splq_store_tag_list(t->ctx.store, "work", &tags, &n, &t->err));
	assert_int_equal(n, 1);
	splq_strv_free(tags, n);
}

static void test_create_standalone(void **state)
{
	struct T *t = *state;
	struct splq_qube q;

	mk_template(t, "deb");
	OK(splq_op_create(&t->ctx, "solo", SPLQ_CLASS_STANDALONEVM, "deb", "purple", NULL, 0, NULL,
	                  0, &t->err));
	OK(splq_store_qube_get(t->ctx.store, "solo", &q, &t->err));
	assert_int_equal(q.klass, SPLQ_CLASS_STANDALONEVM);
	assert_string_equal(q.base, "host");
	splq_qube_clear(&q);
	/* the volumes are a copy of the template's root */
	assert_string_equal(t->fake.created.name, "solo");
	assert_int_equal(t->fake.created.klass, SPLQ_CLASS_STANDALONEVM);
	assert_string_equal(t->fake.created.root_of, "deb");
	assert_string_equal(t->fake.created.root_base, "host");
	/* afterwards it is its own root, and the template is not in use */
	OK(splq_op_start(&t->ctx, "solo", &t->err));
	assert_string_equal(t->fake.started.root_of, "solo");
	assert_string_equal(t->fake.started.root_base, "host");
	OK(splq_op_remove(&t->ctx, "deb", &t->err));
	assert_last_audit(t, "remove", "deb", "ok", NULL);
}

/* ---------- clone ---------- */

static void test_clone(void **state)
{
	struct T *t = *state;
	struct splq_prop_assign props[] = {{"memory", "1234"}};
	char *v = NULL;
	struct splq_qube q;

	mk_template(t, "deb");
	OK(splq_op_create(&t->ctx, "work", SPLQ_CLASS_APPVM, "deb", "blue", props, 1, NULL, 0,
	                  &t->err));
	OK(splq_op_tag_add(&t->ctx, "work", "dev", &t->err));
	OK(splq_op_feature_set(&t->ctx, "work", "gui", "1", &t->err));

	OK(splq_op_clone(&t->ctx, "work", "work2", &t->err));
	OK(splq_store_qube_get(t->ctx.store, "work2", &q, &t->err));
	assert_int_equal(q.klass, SPLQ_CLASS_APPVM);
	splq_qube_clear(&q);
	assert_prop(t, "work2", "memory", "1234");
	assert_prop(t, "work2", "label", "blue");
	assert_prop(t, "work2", "template", "deb");
	assert_true(splq_store_tag_has(t->ctx.store, "work2", "dev"));
	assert_true(splq_store_tag_has(t->ctx.store, "work2", "created-by-dom0"));
	OK(splq_store_feature_get(t->ctx.store, "work2", "gui", &v, &t->err));
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(t->fake.clones, 1);
	assert_string_equal(t->fake.clone_src.name, "work");
	assert_string_equal(t->fake.clone_dst.name, "work2");
	assert_last_audit(t, "clone", "work2", "ok", "work");

	/* templates clone with their base */
	OK(splq_op_clone(&t->ctx, "deb", "deb2", &t->err));
	OK(splq_store_qube_get(t->ctx.store, "deb2", &q, &t->err));
	assert_string_equal(q.base, "host");
	splq_qube_clear(&q);

	FAILS(splq_op_clone(&t->ctx, "work", "work2", &t->err), SPLQ_E_EXISTS, NULL);
	FAILS(splq_op_clone(&t->ctx, "ghost", "x", &t->err), SPLQ_E_NOTFOUND, NULL);
	FAILS(splq_op_clone(&t->ctx, "work", "bad name", &t->err), SPLQ_E_NAME, NULL);
	FAILS(splq_op_clone(&t->ctx, "dom0", "x", &t->err), SPLQ_E_VALUE, NULL);

	t->fake.fail_create = true;
	FAILS(splq_op_clone(&t->ctx, "work", "work3", &t->err), SPLQ_E_NOSPACE, NULL);
	assert_false(exists(t, "work3"));
	assert_false(has_volumes(t, "work3"));
}

/* ---------- remove ---------- */

static void test_remove(void **state)
{
	struct T *t = *state;

	mk_template(t, "deb");
	mk_appvm(t, "a", "deb");
	mk_appvm(t, "b", "deb");

	FAILS(splq_op_remove(&t->ctx, "dom0", &t->err), SPLQ_E_STATE, "dom0 cannot be removed");
	assert_last_audit(t, "remove", "dom0", "error: dom0 cannot be removed", NULL);
	FAILS(splq_op_remove(&t->ctx, "deb", &t->err), SPLQ_E_STATE,
	      "template 'deb' is still used by: a, b");
	assert_true(exists(t, "deb"));
	assert_true(has_volumes(t, "deb"));
	FAILS(splq_op_remove(&t->ctx, "ghost", &t->err), SPLQ_E_NOTFOUND, NULL);

	OK(splq_op_start(&t->ctx, "a", &t->err));
	FAILS(splq_op_remove(&t->ctx, "a", &t->err), SPLQ_E_STATE,
	      "qube 'a' is running; shut it down first");
	assert_true(exists(t, "a"));
	OK(splq_op_shutdown(&t->ctx, "a", false, true, 0, &t->err));
	OK(splq_op_remove(&t->ctx, "a", &t->err));
	assert_false(exists(t, "a"));
	assert_false(has_volumes(t, "a"));
	assert_last_audit(t, "remove", "a", "ok", NULL);

	/* a template that is someone's default_dispvm is in use too */
	mk_template(t, "t2");
	OK(splq_op_prefs_set(&t->ctx, "b", "default_dispvm", "t2", &t->err));
	FAILS(splq_op_remove(&t->ctx, "t2", &t->err), SPLQ_E_STATE,
	      "template 't2' is still used by: b");

	/* volumes that cannot be removed: the row stays */
	t->fake.fail_remove = true;
	FAILS(splq_op_remove(&t->ctx, "b", &t->err), SPLQ_E_NOSPACE, NULL);
	assert_true(exists(t, "b"));
	t->fake.fail_remove = false;
	OK(splq_op_remove(&t->ctx, "b", &t->err));
	OK(splq_op_remove(&t->ctx, "t2", &t->err));
	OK(splq_op_remove(&t->ctx, "deb", &t->err));
	assert_false(exists(t, "deb"));
	assert_int_equal(t->fake.nvolumes, 0);
	assert_audit_verifies(t);
}

/* ---------- start, shutdown, kill, run ---------- */

static void test_start_stop(void **state)
{
	struct T *t = *state;
	struct splq_prop_assign props[] = {{"memory", "700"}, {"vcpus", "3"}};

	mk_template(t, "deb");
	OK(splq_op_create(&t->ctx, "work", SPLQ_CLASS_APPVM, "deb", NULL, props, 2, NULL, 0,
	                  &t->err));

	FAILS(splq_op_shutdown(&t->ctx, "work", false, false, 0, &t->err), SPLQ_E_STATE,
	      "qube 'work' is not running");
	assert_last_audit(t, "shutdown", "work", "error: qube 'work' is not running", NULL);
	FAILS(splq_op_kill(&t->ctx, "work", &t->err), SPLQ_E_STATE, "qube 'work' is not running");
	FAILS(splq_op_start(&t->ctx, "dom0", &t->err), SPLQ_E_STATE, NULL);
	FAILS(splq_op_start(&t->ctx, "ghost", &t->err), SPLQ_E_NOTFOUND, NULL);

	OK(splq_op_start(&t->ctx, "work", &t->err));
	assert_int_equal(fk_state(&t->fake.b, "work"), SPLQ_RUNNING);
	assert_false(t->fake.first_given);
	assert_string_equal(t->fake.started.root_of, "deb");
	assert_string_equal(t->fake.started.root_base, "host");
	assert_int_equal(t->fake.started.memory, 700);
	assert_int_equal(t->fake.started.vcpus, 3);
	assert_last_audit(t, "start", "work", "ok", NULL);
	FAILS(splq_op_start(&t->ctx, "work", &t->err), SPLQ_E_STATE,
	      "qube 'work' is already running");

	OK(splq_op_shutdown(&t->ctx, "work", true, true, 0, &t->err));
	assert_int_equal(fk_state(&t->fake.b, "work"), SPLQ_HALTED);
	assert_last_audit(t, "shutdown", "work", "ok", "--force --wait");

	OK(splq_op_start(&t->ctx, "work", &t->err));
	OK(splq_op_kill(&t->ctx, "work", &t->err));
	assert_int_equal(fk_state(&t->fake.b, "work"), SPLQ_HALTED);
	assert_last_audit(t, "kill", "work", "ok", NULL);
	assert_true(exists(t, "work"));
}

static void test_run(void **state)
{
	struct T *t = *state;
	char *argv[] = {"sh", "-c", "exit 5", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}};
	int status = -1, before;

	mk_template(t, "deb");
	mk_appvm(t, "work", "deb");
	before = audit_count(t, "work");
	t->fake.run_status = 5;
	OK(splq_op_run(&t->ctx, "work", &x, &status, &t->err));
	assert_int_equal(status, 5);
	/* halted: started first, as an audit entry of its own */
	assert_int_equal(t->fake.starts, 1);
	assert_int_equal(fk_state(&t->fake.b, "work"), SPLQ_RUNNING);
	assert_string_equal(t->fake.run_user, "user");
	assert_int_equal(audit_count(t, "work"), before + 2);
	assert_last_audit(t, "run", "work", "exit 5", "sh -c exit 5");

	/* running: no second start; --user and default_user */
	x.user = "root";
	t->fake.run_status = 0;
	OK(splq_op_run(&t->ctx, "work", &x, &status, &t->err));
	assert_int_equal(t->fake.starts, 1);
	assert_string_equal(t->fake.run_user, "root");
	assert_int_equal(status, 0);
	assert_last_audit(t, "run", "work", "exit 0", "--user root sh");
	x.user = NULL;
	OK(splq_op_prefs_set(&t->ctx, "work", "default_user", "alice", &t->err));
	OK(splq_op_run(&t->ctx, "work", &x, &status, &t->err));
	assert_string_equal(t->fake.run_user, "alice");

	x.user = "Not A User";
	FAILS(splq_op_run(&t->ctx, "work", &x, &status, &t->err), SPLQ_E_VALUE, NULL);
	x.user = NULL;
	FAILS(splq_op_run(&t->ctx, "dom0", &x, &status, &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_run(&t->ctx, "ghost", &x, &status, &t->err), SPLQ_E_NOTFOUND, NULL);
	char *none[] = {NULL};
	x.argv = none;
	FAILS(splq_op_run(&t->ctx, "work", &x, &status, &t->err), SPLQ_E_USAGE, NULL);

	/* a long command is cut to 200 bytes in the audit log */
	char big[600];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *argv2[] = {"echo", big, NULL};
	x.argv = argv2;
	OK(splq_op_run(&t->ctx, "work", &x, &status, &t->err));
	struct splq_audit_entry *e = NULL;
	int n = 0;
	OK(splq_audit_read(t->ctx.home, "work", 0, &e, &n, &t->err));
	assert_true(strlen(e[n - 1].args) <= 200);
	assert_true(strncmp(e[n - 1].args, "echo aaaa", 9) == 0);
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&e[i]);
	free(e);
	assert_audit_verifies(t);
}

/* ---------- prefs ---------- */

static void test_prefs(void **state)
{
	struct T *t = *state;
	struct splq_pref *list = NULL, one;
	int n = 0;
	bool d;
	char *v;

	mk_template(t, "deb");
	mk_appvm(t, "work", "deb");

	OK(splq_op_prefs_set(&t->ctx, "work", "memory", "4096", &t->err));
	assert_last_audit(t, "prefs", "work", "ok", "memory=4096");
	v = prop(t, "work", "memory", &d);
	assert_string_equal(v, "4096");
	assert_false(d);
	free(v);

	OK(splq_op_prefs_get(&t->ctx, "work", "memory", &one, &t->err));
	assert_string_equal(one.value, "4096");
	assert_false(one.is_default);
	assert_string_equal(one.def->name, "memory");
	free(one.value);
	OK(splq_op_prefs_get(&t->ctx, "work", "vcpus", &one, &t->err));
	assert_true(one.is_default);
	free(one.value);

	OK(splq_op_prefs_list(&t->ctx, "work", &list, &n, &t->err));
	bool saw_memory = false, saw_template = false;
	for (int i = 0; i < n; i++) {
		/* only properties an AppVM has */
		assert_string_not_equal(list[i].def->name, "auto_cleanup");
		if (strcmp(list[i].def->name, "memory") == 0) {
			saw_memory = true;
			assert_string_equal(list[i].value, "4096");
			assert_false(list[i].is_default);
		}
		if (strcmp(list[i].def->name, "template") == 0) {
			saw_template = true;
			assert_string_equal(list[i].value, "deb");
		}
		if (strcmp(list[i].def->name, "name") == 0)
			assert_string_equal(list[i].value, "work");
	}
	assert_true(saw_memory && saw_template);
	splq_prefs_free(list, n);

	OK(splq_op_prefs_reset(&t->ctx, "work", "memory", &t->err));
	assert_last_audit(t, "prefs", "work", "ok", "reset memory");
	v = prop(t, "work", "memory", &d);
	assert_string_equal(v, "400");
	assert_true(d);
	free(v);

	/* refusals */
	FAILS(splq_op_prefs_set(&t->ctx, "work", "nope", "1", &t->err), SPLQ_E_NOTFOUND, "nope");
	assert_last_audit(t, "prefs", "work", "error: ", "nope=1");
	FAILS(splq_op_prefs_set(&t->ctx, "work", "auto_cleanup", "True", &t->err), SPLQ_E_NOTFOUND,
	      "qube 'work' (AppVM) has no property 'auto_cleanup'");
	FAILS(splq_op_prefs_set(&t->ctx, "work", "name", "other", &t->err), SPLQ_E_VALUE,
	      "read-only");
	FAILS(splq_op_prefs_set(&t->ctx, "work", "memory", "-5", &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_prefs_set(&t->ctx, "work", "netvm", "deb", &t->err), SPLQ_E_VALUE,
	      "qube 'deb' cannot be a netvm: it has provides_network=False");
	OK(splq_op_prefs_set(&t->ctx, "work", "netvm", "", &t->err));
	FAILS(splq_op_prefs_set(&t->ctx, "work", "template", "", &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_prefs_set(&t->ctx, "work", "template", "ghost", &t->err), SPLQ_E_NOTFOUND,
	      "ghost");
	FAILS(splq_op_prefs_set(&t->ctx, "work", "template", "work", &t->err), SPLQ_E_VALUE,
	      "not a TemplateVM");
	FAILS(splq_op_prefs_reset(&t->ctx, "work", "template", &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_prefs_set(&t->ctx, "ghost", "memory", "500", &t->err), SPLQ_E_NOTFOUND, NULL);
	assert_prop(t, "work", "template", "deb");

	/* default_dispvm: a TemplateVM or a dvm, nothing else */
	mk_appvm(t, "plain", "deb");
	FAILS(splq_op_prefs_set(&t->ctx, "work", "default_dispvm", "plain", &t->err), SPLQ_E_VALUE,
	      "template_for_dispvms");
	OK(splq_op_prefs_set(&t->ctx, "plain", "template_for_dispvms", "true", &t->err));
	OK(splq_op_prefs_set(&t->ctx, "work", "default_dispvm", "plain", &t->err));
	OK(splq_op_prefs_set(&t->ctx, "work", "default_dispvm", "deb", &t->err));
	OK(splq_op_prefs_set(&t->ctx, "work", "default_dispvm", "", &t->err));

	/* dom0: only default_dispvm */
	FAILS(splq_op_prefs_set(&t->ctx, "dom0", "label", "red", &t->err), SPLQ_E_VALUE, NULL);
	OK(splq_op_prefs_set(&t->ctx, "dom0", "default_dispvm", "plain", &t->err));
	assert_prop(t, "dom0", "default_dispvm", "plain");
	assert_last_audit(t, "prefs", "dom0", "ok", "default_dispvm=plain");

	/* needs_halted while running */
	OK(splq_op_start(&t->ctx, "work", &t->err));
	FAILS(splq_op_prefs_set(&t->ctx, "work", "vcpus", "1", &t->err), SPLQ_E_STATE,
	      "qube 'work' is running; shut it down first to change 'vcpus'");
	FAILS(splq_op_prefs_reset(&t->ctx, "work", "vcpus", &t->err), SPLQ_E_STATE, NULL);
	OK(splq_op_prefs_set(&t->ctx, "work", "memory", "800", &t->err));
	OK(splq_op_prefs_set(&t->ctx, "work", "label", "6", &t->err));
	assert_prop(t, "work", "label", "blue");
	assert_audit_verifies(t);
}

/* ---------- tags and features ---------- */

static void test_tags_features(void **state)
{
	struct T *t = *state;
	char *v = NULL;

	mk_template(t, "deb");
	mk_appvm(t, "work", "deb");
	OK(splq_op_tag_add(&t->ctx, "work", "dev", &t->err));
	assert_true(splq_store_tag_has(t->ctx.store, "work", "dev"));
	assert_last_audit(t, "tags", "work", "ok", "add dev");
	OK(splq_op_tag_remove(&t->ctx, "work", "dev", &t->err));
	assert_false(splq_store_tag_has(t->ctx.store, "work", "dev"));
	assert_last_audit(t, "tags", "work", "ok", "del dev");
	FAILS(splq_op_tag_remove(&t->ctx, "work", "dev", &t->err), SPLQ_E_NOTFOUND, NULL);
	assert_last_audit(t, "tags", "work", "error: ", "del dev");
	FAILS(splq_op_tag_add(&t->ctx, "work", "no spaces", &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_tag_add(&t->ctx, "ghost", "dev", &t->err), SPLQ_E_NOTFOUND, NULL);

	OK(splq_op_feature_set(&t->ctx, "work", "gui", "1", &t->err));
	OK(splq_store_feature_get(t->ctx.store, "work", "gui", &v, &t->err));
	assert_string_equal(v, "1");
	free(v);
	assert_last_audit(t, "features", "work", "ok", "gui=1");
	OK(splq_op_feature_remove(&t->ctx, "work", "gui", &t->err));
	FAILS(splq_store_feature_get(t->ctx.store, "work", "gui", &v, &t->err), SPLQ_E_NOTFOUND,
	      NULL);
	assert_last_audit(t, "features", "work", "ok", "unset gui");
	FAILS(splq_op_feature_remove(&t->ctx, "work", "gui", &t->err), SPLQ_E_NOTFOUND, NULL);
	FAILS(splq_op_feature_set(&t->ctx, "work", "bad name", "1", &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_feature_set(&t->ctx, "work", "ok", "tab\there", &t->err), SPLQ_E_VALUE, NULL);
	assert_audit_verifies(t);
}

/* Reading tags, features and the audit log: the qube must exist, nothing
 * is audited, and the answers match what the changes did. */
static void test_read_tags_features_audit(void **state)
{
	struct T *t = *state;
	char **tags = NULL, **names = NULL, **values = NULL, *v = NULL;
	struct splq_audit_entry *e = NULL;
	long long entries = 0, bad = 0;
	int n = -1, before;

	mk_template(t, "deb");
	mk_appvm(t, "work", "deb");
	OK(splq_op_tag_add(&t->ctx, "work", "zeta", &t->err));
	OK(splq_op_tag_add(&t->ctx, "work", "alpha", &t->err));
	OK(splq_op_feature_set(&t->ctx, "work", "service.cups", "a value", &t->err));
	OK(splq_op_feature_set(&t->ctx, "work", "gui", "1", &t->err));
	before = audit_count(t, NULL);

	OK(splq_op_tag_list(&t->ctx, "work", &tags, &n, &t->err));
	assert_int_equal(n, 3);
	assert_string_equal(tags[0], "alpha");
	assert_string_equal(tags[1], "created-by-dom0");
	assert_string_equal(tags[2], "zeta");
	splq_strv_free(tags, n);
	tags = &v; /* not NULL: a failure must reset it */
	n = 5;
	FAILS(splq_op_tag_list(&t->ctx, "ghost", &tags, &n, &t->err), SPLQ_E_NOTFOUND,
	      "no such qube 'ghost'");
	assert_null(tags);
	assert_int_equal(n, 0);

	OK(splq_op_feature_list(&t->ctx, "work", &names, &values, &n, &t->err));
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "gui");
	assert_string_equal(values[0], "1");
	assert_string_equal(names[1], "service.cups");
	assert_string_equal(values[1], "a value");
	splq_strv_free(names, n);
	splq_strv_free(values, n);
	FAILS(splq_op_feature_list(&t->ctx, "ghost", &names, &values, &n, &t->err), SPLQ_E_NOTFOUND,
	      "no such qube 'ghost'");
	assert_int_equal(n, 0);

	OK(splq_op_feature_get(&t->ctx, "work", "service.cups", &v, &t->err));
	assert_string_equal(v, "a value");
	free(v);
	v = NULL;
	FAILS(splq_op_feature_get(&t->ctx, "work", "nosuch", &v, &t->err), SPLQ_E_NOTFOUND,
	      "qube 'work' has no feature 'nosuch'");
	assert_null(v);
	FAILS(splq_op_feature_get(&t->ctx, "ghost", "gui", &v, &t->err), SPLQ_E_NOTFOUND,
	      "no such qube 'ghost'");
	/* reading is not audited */
	assert_int_equal(audit_count(t, NULL), before);

	/* the audit log through ops: all of it, one qube's part, a removed
	 * qube's part, nothing after now */
	OK(splq_op_audit_log(&t->ctx, NULL, 0, &e, &n, &t->err));
	assert_int_equal(n, before);
	assert_string_equal(e[0].op, "template-create");
	assert_string_equal(e[0].target, "deb");
	assert_string_equal(e[n - 1].op, "features");
	assert_string_equal(e[n - 1].args, "gui=1");
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&e[i]);
	free(e);
	mk_appvm(t, "gone", "deb");
	OK(splq_op_remove(&t->ctx, "gone", &t->err));
	OK(splq_op_audit_log(&t->ctx, "gone", 0, &e, &n, &t->err));
	assert_int_equal(n, 2);
	assert_string_equal(e[0].op, "create");
	assert_string_equal(e[1].op, "remove");
	for (int i = 0; i < n; i++)
		splq_audit_entry_clear(&e[i]);
	free(e);
	OK(splq_op_audit_log(&t->ctx, NULL, (long long)time(NULL) * 1000 + 3600000, &e, &n,
	                     &t->err));
	assert_int_equal(n, 0);
	free(e);

	OK(splq_op_audit_verify(&t->ctx, &entries, &bad, &t->err));
	assert_int_equal(entries, before + 2);
	assert_int_equal(bad, 0);
	/* one byte of the first entry changed: the second no longer chains to it */
	{
		char *path = splq_strdup_printf("%s/audit.log", t->ctx.home);
		char *log = NULL, *op;
		size_t len = 0;

		OK(splq_read_file(path, &log, &len, &t->err));
		op = strstr(log, "\"template-create\"");
		assert_non_null(op);
		op[9] = '4';
		OK(splq_write_file(path, log, len, 0600, &t->err));
		free(log);
		free(path);
	}
	FAILS(splq_op_audit_verify(&t->ctx, &entries, &bad, &t->err), SPLQ_E_AUDIT, NULL);
	assert_int_equal(bad, 2);
}

/* ---------- list ---------- */

static void test_list(void **state)
{
	struct T *t = *state;
	struct splq_qube_info *v = NULL;
	int n = 0;

	mk_template(t, "deb");
	OK(splq_op_create(&t->ctx, "alpha", SPLQ_CLASS_APPVM, "deb", "green", NULL, 0, NULL, 0,
	                  &t->err));
	OK(splq_op_create(&t->ctx, "zed", SPLQ_CLASS_STANDALONEVM, "deb", NULL, NULL, 0, NULL, 0,
	                  &t->err));
	OK(splq_op_prefs_set(&t->ctx, "alpha", "memory", "900", &t->err));
	OK(splq_op_start(&t->ctx, "alpha", &t->err));

	OK(splq_op_list(&t->ctx, &v, &n, &t->err));
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "dom0");
	assert_int_equal(v[0].klass, SPLQ_CLASS_ADMINVM);
	assert_int_equal(v[0].power, SPLQ_RUNNING);
	assert_int_equal(v[0].memory, 0);
	assert_string_equal(v[0].template, "");
	assert_string_equal(v[1].name, "alpha");
	assert_int_equal(v[1].power, SPLQ_RUNNING);
	assert_string_equal(v[1].label, "green");
	assert_string_equal(v[1].template, "deb");
	assert_int_equal(v[1].memory, 900);
	assert_string_equal(v[2].name, "deb");
	assert_int_equal(v[2].klass, SPLQ_CLASS_TEMPLATEVM);
	assert_int_equal(v[2].power, SPLQ_HALTED);
	assert_string_equal(v[2].label, "black");
	assert_string_equal(v[2].template, "");
	assert_string_equal(v[3].name, "zed");
	assert_string_equal(v[3].template, "");
	assert_int_equal(v[3].memory, 400);
	splq_qube_info_free(v, n);
}

/* ---------- disposables ---------- */

static void mk_dvm(struct T *t)
{
	struct splq_prop_assign props[] = {{"template_for_dispvms", "True"}, {"memory", "512"}};

	mk_template(t, "deb");
	OK(splq_op_create(&t->ctx, "dvm", SPLQ_CLASS_APPVM, "deb", "orange", props, 2, NULL, 0,
	                  &t->err));
}

static int count_qubes(struct T *t)
{
	struct splq_qube *list = NULL;
	int n = 0;

	OK(splq_store_qube_list(t->ctx.store, &list, &n, &t->err));
	splq_qube_list_free(list, n);
	return n;
}

static void test_dispvm(void **state)
{
	struct T *t = *state;
	char *argv[] = {"true", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}};
	char name[SPLQ_NAME_MAX + 1];
	int status = -1, nq;

	mk_dvm(t);
	nq = count_qubes(t);

	/* no default_dispvm yet */
	FAILS(splq_op_dispvm(&t->ctx, NULL, NULL, &x, 0, &status, name, &t->err), SPLQ_E_NOTFOUND,
	      "no default_dispvm is set; pass --template or set it with: splq prefs dom0 "
	      "default_dispvm DVM");

	t->fake.wait_status = 3;
	OK(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 0, &status, name, &t->err));
	assert_int_equal(status, 3);
	assert_true(strncmp(name, "disp", 4) == 0);
	long num = strtol(name + 4, NULL, 10);
	assert_true(num >= 0 && num <= 9999);
	/* what it was made of */
	assert_string_equal(t->fake.created.name, name);
	assert_int_equal(t->fake.created.klass, SPLQ_CLASS_DISPVM);
	assert_string_equal(t->fake.started.name, name);
	assert_string_equal(t->fake.started.root_of, "deb");
	assert_string_equal(t->fake.started.root_base, "host");
	assert_true(t->fake.started.has_private_of);
	assert_string_equal(t->fake.started.private_of, "dvm");
	assert_int_equal(t->fake.started.memory, 512); /* the dvm's, copied */
	assert_true(t->fake.first_given);
	assert_string_equal(t->fake.first_argv0, "true");
	assert_string_equal(t->fake.first_user, "user");
	assert_int_equal(t->fake.waits, 1);
	/* and everything of it is gone */
	assert_false(exists(t, name));
	assert_false(has_volumes(t, name));
	assert_int_equal(count_qubes(t), nq);
	assert_last_audit(t, "dispvm", name, "exit 3", "--template dvm true");

	/* dom0's default_dispvm, straight from a TemplateVM */
	OK(splq_op_prefs_set(&t->ctx, "dom0", "default_dispvm", "deb", &t->err));
	t->fake.wait_status = 0;
	x.user = "root";
	OK(splq_op_dispvm(&t->ctx, NULL, NULL, &x, 5, &status, name, &t->err));
	assert_int_equal(status, 0);
	assert_string_equal(t->fake.started.root_of, "deb");
	assert_false(t->fake.started.has_private_of);
	assert_string_equal(t->fake.first_user, "root");
	assert_false(exists(t, name));
	assert_int_equal(count_qubes(t), nq);
	assert_audit_verifies(t);
}

/* A backend whose wait leaves the removal to a process of its own (the
 * native supervisor's splq discard): the disposable is hidden, marked
 * used and owned by that process, and splq_op_discard removes it once it
 * has halted. */
static void test_dispvm_remover(void **state)
{
	struct T *t = *state;
	char *argv[] = {"true", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}};
	char name[SPLQ_NAME_MAX + 1], me[64];
	cleanup_free char *owner = NULL, *used = NULL, *internal = NULL;
	int status = -1, nq;

	mk_dvm(t);
	nq = count_qubes(t);
	t->fake.remover = true;
	t->fake.wait_status = 2;
	OK(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 0, &status, name, &t->err));
	assert_int_equal(status, 2);
	assert_true(t->fake.first_discard);
	assert_true(exists(t, name));
	assert_true(has_volumes(t, name));
	assert_last_audit(t, "dispvm", name, "exit 2", "--template dvm true");
	OK(splq_store_feature_get(t->ctx.store, name, "internal", &internal, &t->err));
	OK(splq_store_feature_get(t->ctx.store, name, "splq.discard", &used, &t->err));
	OK(splq_store_feature_get(t->ctx.store, name, "splq.owner", &owner, &t->err));
	assert_true(splq_ops_process_id(getpid(), me, sizeof(me)));
	assert_string_equal(owner, me);
	/* its owner lives: another splq's clean-up leaves it alone */
	splq_ops_reap_disposables(&t->ctx);
	assert_true(exists(t, name));

	/* a qube of another class, or one that runs, stays */
	FAILS(splq_op_discard(&t->ctx, "dvm", &t->err), SPLQ_E_VALUE, "not a disposable");
	set_add(t->fake.running, &t->fake.nrunning, name);
	FAILS(splq_op_discard(&t->ctx, name, &t->err), SPLQ_E_STATE, "is running");
	set_del(t->fake.running, &t->fake.nrunning, name);
	assert_int_equal(splq_op_discard(&t->ctx, name, &t->err), 0);
	assert_false(exists(t, name));
	assert_false(has_volumes(t, name));
	assert_int_equal(count_qubes(t), nq);
	assert_last_audit(t, "remove", name, "ok", "disposable, used");
	assert_int_equal(splq_op_discard(&t->ctx, name, &t->err), 1); /* gone already */
	assert_audit_verifies(t);
}

static void test_dispvm_refusals(void **state)
{
	struct T *t = *state;
	char *argv[] = {"true", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}};
	char name[SPLQ_NAME_MAX + 1];
	int status = -1, nq;

	mk_dvm(t);
	mk_appvm(t, "plain", "deb");
	OK(splq_op_create(&t->ctx, "solo", SPLQ_CLASS_STANDALONEVM, "deb", NULL, NULL, 0, NULL, 0,
	                  &t->err));
	nq = count_qubes(t);
	FAILS(splq_op_dispvm(&t->ctx, "plain", NULL, &x, 0, &status, name, &t->err), SPLQ_E_VALUE,
	      "template_for_dispvms");
	assert_last_audit(t, "dispvm", "plain", "error: ", NULL);
	FAILS(splq_op_dispvm(&t->ctx, "solo", NULL, &x, 0, &status, name, &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_dispvm(&t->ctx, "dom0", NULL, &x, 0, &status, name, &t->err), SPLQ_E_VALUE, NULL);
	FAILS(splq_op_dispvm(&t->ctx, "ghost", NULL, &x, 0, &status, name, &t->err), SPLQ_E_NOTFOUND,
	      "ghost");
	assert_int_equal(t->fake.starts, 0);
	assert_int_equal(count_qubes(t), nq);

	/* volumes that cannot be made: nothing is left */
	t->fake.fail_create = true;
	FAILS(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 0, &status, name, &t->err), SPLQ_E_NOSPACE, NULL);
	assert_int_equal(count_qubes(t), nq);
	assert_int_equal(t->fake.nvolumes, 4); /* deb, dvm, plain, solo */
	assert_int_equal(t->fake.starts, 0);
}

static void test_dispvm_timeout(void **state)
{
	struct T *t = *state;
	char *argv[] = {"sleep", "100", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}};
	char name[SPLQ_NAME_MAX + 1], want[128];
	int status = -1, nq;

	mk_dvm(t);
	nq = count_qubes(t);
	t->fake.wait_mode = WAIT_TIMEOUT;
	memset(&t->err, 0, sizeof(t->err));
	assert_true(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 2, &status, name, &t->err) < 0);
	assert_int_equal(t->err.code, SPLQ_E_TIMEOUT);
	snprintf(want, sizeof(want), "disposable '%s' timed out after 2 s; it was killed", name);
	assert_string_equal(t->err.msg, want);
	assert_false(exists(t, name));
	assert_false(has_volumes(t, name));
	assert_int_equal(count_qubes(t), nq);
	assert_last_audit(t, "dispvm", name, "error: disposable", NULL);
}

static void test_dispvm_signal(void **state)
{
	struct T *t = *state;
	char *argv[] = {"sleep", "100", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}};
	char name[SPLQ_NAME_MAX + 1], want[128];
	int status = -1, nq;

	mk_dvm(t);
	nq = count_qubes(t);
	t->fake.wait_mode = WAIT_SIGNAL;
	t->fake.wait_signo = SIGTERM;
	memset(&t->err, 0, sizeof(t->err));
	assert_true(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 0, &status, name, &t->err) < 0);
	assert_int_equal(t->err.code, 128 + SIGTERM);
	assert_int_equal(status, 128 + SIGTERM);
	snprintf(want, sizeof(want), "interrupted by signal %d; disposable '%s' was removed",
	         SIGTERM, name);
	assert_string_equal(t->err.msg, want);
	assert_false(exists(t, name));
	assert_false(has_volumes(t, name));
	assert_int_equal(count_qubes(t), nq);
	assert_last_audit(t, "dispvm", name, "error: interrupted", NULL);
	assert_audit_verifies(t);

	/* when it cannot be removed, the message does not claim it was */
	t->fake.fail_remove = true;
	FAILS(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 0, &status, name, &t->err), 128 + SIGTERM,
	      "could not be removed");
	assert_true(exists(t, name));
	t->fake.wait_mode = WAIT_EXIT;
	t->fake.wait_status = 0;
	FAILS(splq_op_dispvm(&t->ctx, "dvm", NULL, &x, 0, &status, name, &t->err), SPLQ_E_NOSPACE,
	      "could not be removed");
}

/* A DispVM that stops by shutdown goes away (auto_cleanup). */
static void test_dispvm_auto_cleanup(void **state)
{
	struct T *t = *state;
	struct splq_qube q = {.name = "disp42", .klass = SPLQ_CLASS_DISPVM};

	mk_dvm(t);
	OK(splq_store_qube_add(t->ctx.store, &q, &t->err));
	OK(splq_store_prop_set(t->ctx.store, "disp42", "template", "dvm", &t->err));
	OK(splq_op_start(&t->ctx, "disp42", &t->err));
	assert_string_equal(t->fake.started.private_of, "dvm");
	set_add(t->fake.volumes, &t->fake.nvolumes, "disp42");
	OK(splq_op_shutdown(&t->ctx, "disp42", false, false, 0, &t->err));
	assert_false(exists(t, "disp42"));
	assert_false(has_volumes(t, "disp42"));
	assert_last_audit(t, "shutdown", "disp42", "ok", NULL);

	/* with auto_cleanup off it stays */
	struct splq_qube q2 = {.name = "disp43", .klass = SPLQ_CLASS_DISPVM};
	OK(splq_store_qube_add(t->ctx.store, &q2, &t->err));
	OK(splq_store_prop_set(t->ctx.store, "disp43", "template", "dvm", &t->err));
	OK(splq_op_prefs_set(&t->ctx, "disp43", "auto_cleanup", "False", &t->err));
	OK(splq_op_start(&t->ctx, "disp43", &t->err));
	OK(splq_op_shutdown(&t->ctx, "disp43", false, false, 0, &t->err));
	assert_true(exists(t, "disp43"));
	/* a DispVM cannot be cloned */
	FAILS(splq_op_clone(&t->ctx, "disp43", "copy", &t->err), SPLQ_E_VALUE, NULL);
}

/* ---------- audit ---------- */

/* A change whose audit entry cannot be written is reported, not hidden. */
static void test_audit_unwritable(void **state)
{
	struct T *t = *state;
	char *log = splq_strdup_printf("%s/audit.log", t->ctx.home);
	struct splq_error err;

	mk_template(t, "deb");
	mk_appvm(t, "work", "deb");
	assert_int_equal(unlink(log), 0);
	assert_int_equal(mkdir(log, 0700), 0);
	memset(&t->err, 0, sizeof(t->err));
	assert_true(splq_op_tag_add(&t->ctx, "work", "dev", &t->err) < 0);
	assert_true(t->err.code != 0);
	if (!strstr(t->err.msg, "tags on 'work' was done, but the audit log could not be written"))
		fail_msg("message: %s", t->err.msg);
	/* the change itself is there: the message says it was done */
	assert_true(splq_store_tag_has(t->ctx.store, "work", "dev"));
	/* a failing op keeps its own error */
	FAILS(splq_op_remove(&t->ctx, "deb", &t->err), SPLQ_E_STATE, "still used by: work");
	splq_rm_rf(log, &err);
	free(log);
}

/* ---------- ctx ---------- */

/* Not root: refused before anything is touched (SPLQ_HOME is not made). */
static int ctx_open_check(const char *home)
{
	struct splq_ctx ctx;
	struct splq_error err = {0};

	setenv("SPLQ_HOME", home, 1);
	if (splq_ctx_open(&ctx, &err) == 0)
		return 1;
	if (err.code != SPLQ_E_PERM)
		return 2;
	if (strcmp(err.msg, "must be run as root (rootless mode is not supported yet)") != 0)
		return 3;
	if (splq_path_exists(home))
		return 4;
	return 0;
}

static void test_ctx_open_not_root(void **state)
{
	struct T *t = *state;
	char *home = splq_strdup_printf("%s/nothome", t->dir);
	int ws = 0;
	pid_t pid;

	if (geteuid() != 0) {
		assert_int_equal(ctx_open_check(home), 0);
		free(home);
		return;
	}
	/* as root: check it from a child that gave up root */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		_exit(ctx_open_check(home));
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	if (WEXITSTATUS(ws) != 0)
		fail_msg("non-root ctx_open check failed: %d", WEXITSTATUS(ws));
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_template_create_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_template_create_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_template_create_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_template_create_volumes_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_appvm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_volumes_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_standalone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prefs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tags_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_tags_features_audit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispvm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispvm_remover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispvm_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispvm_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispvm_signal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dispvm_auto_cleanup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_unwritable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctx_open_not_root, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
