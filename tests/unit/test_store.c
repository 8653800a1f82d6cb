/* Unit tests: the SQLite store. */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "store.h"
#include "tree.h"
#include "util.h"

struct fixture {
	char dir[64];
	char home[96];
	char db[128];
	struct splq_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct splq_error err;

	strcpy(f->dir, "/tmp/splq-test-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	/* A home that does not exist yet: open makes it. */
	snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/splq.db", f->home);
	unsetenv("SPLQ_BUSY_TIMEOUT");
	*state = f;
	if (splq_store_open(f->home, &f->s, &err) < 0) {
		print_error("open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	int r;

	splq_store_close(f->s);
	r = splq_rm_rf(f->dir, &err);
	free(f);
	unsetenv("SPLQ_BUSY_TIMEOUT");
	return r;
}

static void fails(int r, const struct splq_error *err, int code, const char *want)
{
	assert_int_equal(r, -1);
	assert_int_equal(err->code, code);
	if (!strstr(err->msg, want))
		fail_msg("message '%s' does not contain '%s'", err->msg, want);
}

static void add(struct splq_store *s, const char *name, enum splq_class c, struct splq_qube *q)
{
	struct splq_qube tmp;
	struct splq_error err;

	if (!q)
		q = &tmp;
	memset(q, 0, sizeof(*q));
	strcpy(q->name, name);
	q->klass = c;
	if (splq_store_qube_add(s, q, &err) != 0)
		fail_msg("adding '%s': %s", name, err.msg);
}

/* One integer from SQL run on a separate connection. */
static long long sql_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static bool uuid_v4(const char *u)
{
	if (strlen(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-')
		return false;
	for (int i = 0; i < 36; i++)
		if (i != 8 && i != 13 && i != 18 && i != 23 && !strchr("0123456789abcdef", u[i]))
			return false;
	return u[14] == '4' && strchr("89ab", u[19]);
}

/* ---- open ---- */

static void test_open_creates(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q;
	struct splq_error err;
	struct stat st;

	assert_int_equal(stat(f->home, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_true(splq_path_exists(f->db));
	assert_int_equal(sql_int(f->db, "PRAGMA application_id"), 0x73706c71);
	assert_int_equal(sql_int(f->db, "PRAGMA user_version"), 3);
	assert_int_equal(sql_int(f->db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

	/* dom0 is there from the start. */
	assert_int_equal(splq_store_qube_get(f->s, "dom0", &q, &err), 0);
	assert_int_equal(q.klass, SPLQ_CLASS_ADMINVM);
	assert_int_equal(q.slot, 0);
	assert_null(q.base);
	splq_qube_clear(&q);
}

static void test_reopen_keeps(void **state)
{
	struct fixture *f = *state;
	struct splq_qube a, b;
	struct splq_error err;
	cleanup_free char *v = NULL;

	memset(&a, 0, sizeof(a));
	strcpy(a.name, "tpl");
	a.klass = SPLQ_CLASS_TEMPLATEVM;
	a.base = (char *)"/srv/rootfs";
	assert_int_equal(splq_store_qube_add(f->s, &a, &err), 0);
	assert_int_equal(splq_store_prop_set(f->s, "tpl", "memory", "800", &err), 0);
	splq_store_close(f->s);
	f->s = NULL;

	assert_int_equal(splq_store_open(f->home, &f->s, &err), 0);
	assert_int_equal(splq_store_qube_get(f->s, "tpl", &b, &err), 0);
	assert_string_equal(b.uuid, a.uuid);
	assert_int_equal(b.slot, a.slot);
	assert_int_equal(b.created, a.created);
	assert_int_equal(b.klass, SPLQ_CLASS_TEMPLATEVM);
	assert_string_equal(b.base, "/srv/rootfs");
	assert_int_equal(splq_store_prop_get(f->s, &b, "memory", &v, NULL, &err), 0);
	assert_string_equal(v, "800");
	splq_qube_clear(&b);
	/* Still exactly one dom0. */
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM qubes WHERE name = 'dom0'"), 1);
}

/* ---- qubes ---- */

static void test_add_get_list_remove(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q, g, *list;
	struct splq_error err;
	long long before = time(NULL);
	int n;

	add(f->s, "work", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 1);
	assert_true(uuid_v4(q.uuid));
	assert_true(q.created >= before && q.created <= time(NULL));

	assert_int_equal(splq_store_qube_get(f->s, "work", &g, &err), 0);
	assert_string_equal(g.name, "work");
	assert_int_equal(g.klass, SPLQ_CLASS_APPVM);
	assert_int_equal(g.slot, 1);
	assert_string_equal(g.uuid, q.uuid);
	assert_null(g.base);
	splq_qube_clear(&g);

	add(f->s, "banking", SPLQ_CLASS_STANDALONEVM, NULL);
	add(f->s, "Zeta", SPLQ_CLASS_TEMPLATEVM, NULL);
	assert_int_equal(splq_store_qube_list(f->s, &list, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].name, "Zeta");
	assert_string_equal(list[1].name, "banking");
	assert_string_equal(list[2].name, "dom0");
	assert_string_equal(list[3].name, "work");
	assert_int_equal(list[1].klass, SPLQ_CLASS_STANDALONEVM);
	assert_string_not_equal(list[1].uuid, list[3].uuid);
	splq_qube_list_free(list, n);

	assert_int_equal(splq_store_qube_remove(f->s, "work", &err), 0);
	fails(splq_store_qube_get(f->s, "work", &g, &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'work'");
	fails(splq_store_qube_remove(f->s, "work", &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'work'");
	fails(splq_store_qube_remove(f->s, "dom0", &err), &err, SPLQ_E_STATE, "dom0");
	assert_int_equal(splq_store_qube_list(f->s, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	splq_qube_list_free(list, n);
}

static void test_add_refuses(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q, d;
	struct splq_error err;

	add(f->s, "work", SPLQ_CLASS_APPVM, &q);
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "work");
	d.klass = SPLQ_CLASS_STANDALONEVM;
	fails(splq_store_qube_add(f->s, &d, &err), &err, SPLQ_E_EXISTS,
	      "qube 'work' already exists");
	/* The first one is unchanged. */
	assert_int_equal(splq_store_qube_get(f->s, "work", &d, &err), 0);
	assert_int_equal(d.klass, SPLQ_CLASS_APPVM);
	assert_string_equal(d.uuid, q.uuid);
	splq_qube_clear(&d);

	memset(&d, 0, sizeof(d));
	strcpy(d.name, "dom0");
	d.klass = SPLQ_CLASS_APPVM;
	assert_int_equal(splq_store_qube_add(f->s, &d, &err), -1);
	strcpy(d.name, "bad name");
	fails(splq_store_qube_add(f->s, &d, &err), &err, SPLQ_E_NAME, "bad name");
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM qubes"), 2);
}

static void test_slots(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q, *list;
	struct splq_error err;
	int n;

	add(f->s, "a", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 1);
	add(f->s, "b", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 2);
	add(f->s, "c", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 3);
	add(f->s, "d", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 4);
	assert_int_equal(splq_store_qube_remove(f->s, "b", &err), 0);
	assert_int_equal(splq_store_qube_remove(f->s, "a", &err), 0);
	/* The lowest free slot comes back first. */
	add(f->s, "e", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 1);
	add(f->s, "f", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 2);
	add(f->s, "g", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, 5);

	assert_int_equal(splq_store_qube_list(f->s, &list, &n, &err), 0);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			assert_int_not_equal(list[i].slot, list[j].slot);
	splq_qube_list_free(list, n);
}

static void test_slots_exhausted(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q;
	struct splq_error err;
	char sql[160];
	sqlite3 *h;

	/* Fill every slot but the last with rows written directly. */
	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
	         "INSERT INTO qubes SELECT 'q' || i, 'AppVM', i, 'x', 0, NULL FROM n",
	         SPLQ_SLOT_MAX - 1);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	add(f->s, "last", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(q.slot, SPLQ_SLOT_MAX);
	memset(&q, 0, sizeof(q));
	strcpy(q.name, "onemore");
	q.klass = SPLQ_CLASS_APPVM;
	fails(splq_store_qube_add(f->s, &q, &err), &err, SPLQ_E_NOSPACE, "no free uid range");
	fails(splq_store_qube_get(f->s, "onemore", &q, &err), &err, SPLQ_E_NOTFOUND, "onemore");
}

/* ---- transactions ---- */

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q;
	struct splq_error err;

	assert_int_equal(splq_store_begin(f->s, &err), 0);
	add(f->s, "gone", SPLQ_CLASS_APPVM, NULL);
	splq_store_rollback(f->s);
	fails(splq_store_qube_get(f->s, "gone", &q, &err), &err, SPLQ_E_NOTFOUND, "gone");

	/* Nested pairs: only the outermost commit writes. */
	assert_int_equal(splq_store_begin(f->s, &err), 0);
	assert_int_equal(splq_store_begin(f->s, &err), 0);
	add(f->s, "kept", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_commit(f->s, &err), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM qubes WHERE name = 'kept'"), 0);
	assert_int_equal(splq_store_commit(f->s, &err), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM qubes WHERE name = 'kept'"), 1);

	/* A rollback inside undoes the whole; the outer commit says so. */
	assert_int_equal(splq_store_begin(f->s, &err), 0);
	add(f->s, "inner", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_begin(f->s, &err), 0);
	splq_store_rollback(f->s);
	assert_int_equal(splq_store_commit(f->s, &err), -1);
	fails(splq_store_qube_get(f->s, "inner", &q, &err), &err, SPLQ_E_NOTFOUND, "inner");
}

/* ---- properties ---- */

static void test_props(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q, dom0, disp;
	struct splq_error err;
	char *v = NULL;
	bool dflt = false;

	add(f->s, "work", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(splq_store_prop_get(f->s, &q, "memory", &v, &dflt, &err), 0);
	assert_string_equal(v, "400");
	assert_true(dflt);
	free(v);
	assert_int_equal(splq_store_prop_get(f->s, &q, "label", &v, &dflt, &err), 0);
	assert_string_equal(v, "red");
	assert_true(dflt);
	free(v);
	assert_int_equal(splq_store_prop_get(f->s, &q, "netvm", &v, &dflt, &err), 0);
	assert_string_equal(v, "");
	free(v);

	assert_int_equal(splq_store_prop_set(f->s, "work", "memory", "1000", &err), 0);
	assert_int_equal(splq_store_prop_get(f->s, &q, "memory", &v, &dflt, &err), 0);
	assert_string_equal(v, "1000");
	assert_false(dflt);
	free(v);
	assert_int_equal(splq_store_prop_set(f->s, "work", "memory", "2000", &err), 0);
	assert_int_equal(splq_store_prop_get(f->s, &q, "memory", &v, &dflt, &err), 0);
	assert_string_equal(v, "2000");
	free(v);
	assert_int_equal(splq_store_prop_reset(f->s, "work", "memory", &err), 0);
	assert_int_equal(splq_store_prop_get(f->s, &q, "memory", &v, &dflt, &err), 0);
	assert_string_equal(v, "400");
	assert_true(dflt);
	free(v);
	/* Resetting what is not set is fine. */
	assert_int_equal(splq_store_prop_reset(f->s, "work", "memory", &err), 0);

	/* name, klass, uuid come from the row. */
	assert_int_equal(splq_store_prop_get(f->s, &q, "name", &v, &dflt, &err), 0);
	assert_string_equal(v, "work");
	free(v);
	assert_int_equal(splq_store_prop_get(f->s, &q, "klass", &v, &dflt, &err), 0);
	assert_string_equal(v, "AppVM");
	assert_false(dflt); /* fixed at creation, never a default */
	free(v);
	assert_int_equal(splq_store_prop_get(f->s, &q, "uuid", &v, &dflt, &err), 0);
	assert_string_equal(v, q.uuid);
	free(v);
	fails(splq_store_prop_set(f->s, "work", "uuid", "x", &err), &err, SPLQ_E_VALUE,
	      "property 'uuid' is read-only");

	/* Wrong class, unknown property, unknown qube. */
	fails(splq_store_prop_get(f->s, &q, "auto_cleanup", &v, &dflt, &err), &err, SPLQ_E_NOTFOUND,
	      "qube 'work' (AppVM) has no property 'auto_cleanup'");
	fails(splq_store_prop_get(f->s, &q, "foo", &v, &dflt, &err), &err, SPLQ_E_NOTFOUND,
	      "no such property 'foo'");
	fails(splq_store_prop_set(f->s, "work", "foo", "1", &err), &err, SPLQ_E_NOTFOUND,
	      "no such property 'foo'");
	fails(splq_store_prop_set(f->s, "nope", "memory", "500", &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'nope'");
	fails(splq_store_prop_reset(f->s, "nope", "memory", &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'nope'");

	/* Per-class defaults: dom0 is black and has no memory; a DispVM cleans up. */
	assert_int_equal(splq_store_qube_get(f->s, "dom0", &dom0, &err), 0);
	assert_int_equal(splq_store_prop_get(f->s, &dom0, "label", &v, &dflt, &err), 0);
	assert_string_equal(v, "black");
	assert_true(dflt);
	free(v);
	fails(splq_store_prop_get(f->s, &dom0, "memory", &v, &dflt, &err), &err, SPLQ_E_NOTFOUND,
	      "qube 'dom0' (AdminVM) has no property 'memory'");
	assert_int_equal(splq_store_prop_set(f->s, "dom0", "default_dispvm", "work", &err), 0);
	assert_int_equal(splq_store_prop_get(f->s, &dom0, "default_dispvm", &v, &dflt, &err), 0);
	assert_string_equal(v, "work");
	assert_false(dflt);
	free(v);
	splq_qube_clear(&dom0);
	add(f->s, "disp42", SPLQ_CLASS_DISPVM, &disp);
	assert_int_equal(splq_store_prop_get(f->s, &disp, "auto_cleanup", &v, &dflt, &err), 0);
	assert_string_equal(v, "True");
	free(v);
}

static void test_remove_cascades(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q;
	struct splq_error err;
	char **names, **values, *v;
	int n;
	bool dflt;

	add(f->s, "work", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_prop_set(f->s, "work", "memory", "999", &err), 0);
	assert_int_equal(splq_store_tag_add(f->s, "work", "t1", &err), 0);
	assert_int_equal(splq_store_feature_set(f->s, "work", "f1", "v", &err), 0);
	assert_int_equal(splq_store_qube_remove(f->s, "work", &err), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM properties WHERE qube = 'work'"), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM tags WHERE qube = 'work'"), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM features WHERE qube = 'work'"), 0);

	/* A new qube of the same name starts clean. */
	add(f->s, "work", SPLQ_CLASS_APPVM, &q);
	assert_int_equal(splq_store_prop_get(f->s, &q, "memory", &v, &dflt, &err), 0);
	assert_string_equal(v, "400");
	assert_true(dflt);
	free(v);
	assert_false(splq_store_tag_has(f->s, "work", "t1"));
	assert_int_equal(splq_store_feature_list(f->s, "work", &names, &values, &n, &err), 0);
	assert_int_equal(n, 0);
	splq_strv_free(names, n);
	splq_strv_free(values, n);
}

static void test_prop_users(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	char **users;
	int n;

	add(f->s, "t1", SPLQ_CLASS_TEMPLATEVM, NULL);
	add(f->s, "t2", SPLQ_CLASS_TEMPLATEVM, NULL);
	add(f->s, "c", SPLQ_CLASS_APPVM, NULL);
	add(f->s, "a", SPLQ_CLASS_APPVM, NULL);
	add(f->s, "b", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_prop_set(f->s, "c", "template", "t1", &err), 0);
	assert_int_equal(splq_store_prop_set(f->s, "a", "template", "t1", &err), 0);
	assert_int_equal(splq_store_prop_set(f->s, "b", "template", "t2", &err), 0);
	assert_int_equal(splq_store_prop_set(f->s, "b", "default_dispvm", "t1", &err), 0);

	assert_int_equal(splq_store_prop_users(f->s, "template", "t1", &users, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(users[0], "a");
	assert_string_equal(users[1], "c");
	splq_strv_free(users, n);
	assert_int_equal(splq_store_prop_users(f->s, "template", "nobody", &users, &n, &err), 0);
	assert_int_equal(n, 0);
	splq_strv_free(users, n);
	/* Quotes in a value are data, not SQL. */
	assert_int_equal(splq_store_prop_users(f->s, "template", "x' OR '1'='1", &users, &n, &err),
	                 0);
	assert_int_equal(n, 0);
	splq_strv_free(users, n);
}

/* ---- tags and features ---- */

static void test_tags(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	char **tags;
	int n;

	add(f->s, "work", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_tag_add(f->s, "work", "zeta", &err), 0);
	assert_int_equal(splq_store_tag_add(f->s, "work", "created-by-dom0", &err), 0);
	assert_int_equal(splq_store_tag_add(f->s, "work", "zeta", &err), 0); /* again: fine */
	assert_int_equal(splq_store_tag_list(f->s, "work", &tags, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(tags[0], "created-by-dom0");
	assert_string_equal(tags[1], "zeta");
	splq_strv_free(tags, n);
	assert_true(splq_store_tag_has(f->s, "work", "zeta"));
	assert_false(splq_store_tag_has(f->s, "work", "other"));
	assert_false(splq_store_tag_has(f->s, "dom0", "zeta"));

	assert_int_equal(splq_store_tag_remove(f->s, "work", "zeta", &err), 0);
	assert_false(splq_store_tag_has(f->s, "work", "zeta"));
	fails(splq_store_tag_remove(f->s, "work", "zeta", &err), &err, SPLQ_E_NOTFOUND,
	      "qube 'work' has no tag 'zeta'");
	fails(splq_store_tag_add(f->s, "nope", "t", &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'nope'");
	fails(splq_store_tag_list(f->s, "nope", &tags, &n, &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'nope'");
	fails(splq_store_tag_add(f->s, "work", "bad tag", &err), &err, SPLQ_E_VALUE, "bad tag");
}

/* Firewall rules: none set is NULL (Qubes' default), set replaces, NULL
 * resets; they go with their qube. */
static void test_firewall(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	char *v;

	add(f->s, "work", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_firewall_get(f->s, "work", &v, &err), 0);
	assert_null(v);
	assert_int_equal(splq_store_firewall_set(f->s, "work", "action=accept proto=tcp\n", &err),
	                 0);
	assert_int_equal(splq_store_firewall_set(f->s, "work", "action=drop\n", &err), 0);
	assert_int_equal(splq_store_firewall_get(f->s, "work", &v, &err), 0);
	assert_string_equal(v, "action=drop\n");
	free(v);
	assert_int_equal(splq_store_firewall_set(f->s, "work", NULL, &err), 0);
	assert_int_equal(splq_store_firewall_get(f->s, "work", &v, &err), 0);
	assert_null(v);
	fails(splq_store_firewall_set(f->s, "ghost", "action=drop", &err), &err, SPLQ_E_NOTFOUND,
	      "ghost");
	assert_int_equal(splq_store_firewall_set(f->s, "work", "action=drop\n", &err), 0);
	assert_int_equal(splq_store_qube_remove(f->s, "work", &err), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM firewall"), 0);
}

static void test_features(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	char **names, **values, *v;
	int n;

	add(f->s, "work", SPLQ_CLASS_APPVM, NULL);
	assert_int_equal(splq_store_feature_set(f->s, "work", "service.cups", "1", &err), 0);
	assert_int_equal(splq_store_feature_set(f->s, "work", "gui", "", &err), 0);
	assert_int_equal(splq_store_feature_set(f->s, "work", "service.cups", "0", &err), 0);
	assert_int_equal(splq_store_feature_get(f->s, "work", "service.cups", &v, &err), 0);
	assert_string_equal(v, "0");
	free(v);
	assert_int_equal(splq_store_feature_list(f->s, "work", &names, &values, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "gui");
	assert_string_equal(values[0], "");
	assert_string_equal(names[1], "service.cups");
	assert_string_equal(values[1], "0");
	splq_strv_free(names, n);
	splq_strv_free(values, n);

	assert_int_equal(splq_store_feature_remove(f->s, "work", "gui", &err), 0);
	fails(splq_store_feature_get(f->s, "work", "gui", &v, &err), &err, SPLQ_E_NOTFOUND,
	      "qube 'work' has no feature 'gui'");
	fails(splq_store_feature_remove(f->s, "work", "gui", &err), &err, SPLQ_E_NOTFOUND,
	      "qube 'work' has no feature 'gui'");
	fails(splq_store_feature_set(f->s, "nope", "a", "b", &err), &err, SPLQ_E_NOTFOUND,
	      "no such qube 'nope'");
	fails(splq_store_feature_set(f->s, "work", "a b", "b", &err), &err, SPLQ_E_VALUE, "a b");
	fails(splq_store_feature_set(f->s, "work", "a", "x\ny", &err), &err, SPLQ_E_VALUE,
	      "printable");
}

/* ---- audit head ---- */

static void test_audit_head(void **state)
{
	struct fixture *f = *state;
	const char *h1 = "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19";
	struct splq_error err;
	long long seq = -1;
	char hash[65];

	assert_int_equal(splq_store_audit_head(f->s, &seq, hash, &err), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(hash,
	                    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(splq_store_audit_set_head(f->s, 7, h1, &err), 0);
	assert_int_equal(splq_store_audit_set_head(f->s, 8, h1, &err), 0);
	splq_store_close(f->s);
	f->s = NULL;
	assert_int_equal(splq_store_open(f->home, &f->s, &err), 0);
	assert_int_equal(splq_store_audit_head(f->s, &seq, hash, &err), 0);
	assert_int_equal(seq, 8);
	assert_string_equal(hash, h1);
	assert_int_equal(splq_store_audit_set_head(f->s, 9, "short", &err), -1);
	assert_int_equal(splq_store_audit_head(f->s, &seq, hash, &err), 0);
	assert_int_equal(seq, 8);
}

/* ---- bad files and locks ---- */

static void test_garbage_file(void **state)
{
	struct fixture *f = *state;
	struct splq_store *s = NULL;
	struct splq_error err;
	char buf[8192];
	cleanup_free char *after = NULL;
	char home2[128];
	char db2[160];
	size_t len;

	snprintf(home2, sizeof(home2), "%s/garbage", f->dir);
	snprintf(db2, sizeof(db2), "%s/splq.db", home2);
	assert_int_equal(mkdir(home2, 0700), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)("not a database "[i % 15]);
	assert_int_equal(splq_write_file(db2, buf, sizeof(buf), 0600, &err), 0);

	fails(splq_store_open(home2, &s, &err), &err, SPLQ_E_CORRUPT,
	      "is corrupted or not an splq store");
	assert_non_null(strstr(err.msg, db2));
	assert_null(s);
	/* The file is left as it was. */
	assert_int_equal(splq_read_file(db2, &after, &len, &err), 0);
	assert_int_equal(len, sizeof(buf));
	assert_memory_equal(after, buf, sizeof(buf));
}

static void foreign_db(const char *home, const char *sql)
{
	cleanup_free char *db = splq_strdup_printf("%s/splq.db", home);
	sqlite3 *h;

	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void test_foreign_db(void **state)
{
	struct fixture *f = *state;
	struct splq_store *s = NULL;
	struct splq_error err;
	cleanup_free char *h1 = splq_strdup_printf("%s/other-app", f->dir);
	cleanup_free char *h2 = splq_strdup_printf("%s/plain", f->dir);
	cleanup_free char *h3 = splq_strdup_printf("%s/newer", f->dir);
	cleanup_free char *db2 = splq_strdup_printf("%s/splq.db", h2);

	foreign_db(h1, "PRAGMA application_id = 1234; CREATE TABLE t(x)");
	fails(splq_store_open(h1, &s, &err), &err, SPLQ_E_CORRUPT, "another application");
	assert_null(s);

	foreign_db(h2, "CREATE TABLE qubes(x); INSERT INTO qubes VALUES (1)");
	fails(splq_store_open(h2, &s, &err), &err, SPLQ_E_CORRUPT,
	      "is corrupted or not an splq store");
	/* Left untouched: not switched to WAL, no tables added. */
	assert_int_equal(sql_int(db2, "SELECT count(*) FROM sqlite_schema"), 1);
	assert_int_equal(sql_int(db2, "SELECT journal_mode = 'delete' FROM pragma_journal_mode"),
	                 1);

	foreign_db(h3, "PRAGMA application_id = 1936747633; PRAGMA user_version = 4; "
	               "CREATE TABLE t(x)");
	fails(splq_store_open(h3, &s, &err), &err, SPLQ_E_CORRUPT, "newer");
}

/* A store of schema 1 (before volume sizes) gets the volumes table, and
 * the firewall table of schema 3. */
static void test_migrate_v1(void **state)
{
	struct fixture *f = *state;
	struct splq_store *s = NULL;
	struct splq_error err;
	unsigned long long size = 7;
	bool is_set = true;
	cleanup_free char *h = splq_strdup_printf("%s/v1", f->dir);
	cleanup_free char *db = splq_strdup_printf("%s/splq.db", h);

	foreign_db(h, "PRAGMA application_id = 1936747633; PRAGMA user_version = 1; "
	              "CREATE TABLE qubes (name TEXT PRIMARY KEY, class TEXT NOT NULL, slot "
	              "INTEGER NOT NULL UNIQUE, uuid TEXT NOT NULL, created INTEGER NOT NULL, "
	              "base TEXT);"
	              "INSERT INTO qubes VALUES ('dom0', 'AdminVM', 0, "
	              "'00000000-0000-0000-0000-000000000000', 0, NULL);"
	              "INSERT INTO qubes VALUES ('work', 'AppVM', 1, 'u', 0, NULL);");
	assert_int_equal(splq_store_open(h, &s, &err), 0);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
	assert_int_equal(splq_store_firewall_set(s, "work", "action=drop", &err), 0);
	assert_int_equal(splq_store_volume_get(s, "work", "private", &size, &is_set, &err), 0);
	assert_false(is_set);
	assert_int_equal(size, 7);
	assert_int_equal(splq_store_volume_set(s, "work", "private", 64ULL << 20, &err), 0);
	assert_int_equal(splq_store_volume_get(s, "work", "private", &size, &is_set, &err), 0);
	assert_true(is_set);
	assert_int_equal(size, 64ULL << 20);
	fails(splq_store_volume_set(s, "nosuch", "private", 1, &err), &err, SPLQ_E_NOTFOUND,
	      "nosuch");
	/* the sizes go with their qube */
	assert_int_equal(splq_store_qube_remove(s, "work", &err), 0);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM volumes"), 0);
	splq_store_close(s);
}

static void test_locked(void **state)
{
	struct fixture *f = *state;
	struct splq_qube q;
	struct splq_error err;
	long long t0;
	sqlite3 *h;

	/* A fresh connection picks up the short timeout. */
	splq_store_close(f->s);
	f->s = NULL;
	setenv("SPLQ_BUSY_TIMEOUT", "100", 1);
	assert_int_equal(splq_store_open(f->home, &f->s, &err), 0);

	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	t0 = splq_now_ms();
	fails(splq_store_begin(f->s, &err), &err, SPLQ_E_LOCKED, "is locked by another process");
	assert_non_null(strstr(err.msg, f->db));
	assert_true(splq_now_ms() - t0 >= 90);
	assert_true(splq_now_ms() - t0 < 5000);

	memset(&q, 0, sizeof(q));
	strcpy(q.name, "work");
	q.klass = SPLQ_CLASS_APPVM;
	fails(splq_store_qube_add(f->s, &q, &err), &err, SPLQ_E_LOCKED, "locked");
	fails(splq_store_prop_set(f->s, "dom0", "default_dispvm", "x", &err), &err, SPLQ_E_LOCKED,
	      "locked");
	/* Readers are not blocked (WAL). */
	assert_int_equal(splq_store_qube_get(f->s, "dom0", &q, &err), 0);
	splq_qube_clear(&q);

	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	add(f->s, "work", SPLQ_CLASS_APPVM, NULL);
}

/* Several processes create the same new store and add qubes at once. */
static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	cleanup_free char *home = splq_strdup_printf("%s/shared", f->dir);
	struct splq_store *s;
	struct splq_qube *list;
	struct splq_error err;
	enum { PROCS = 4, EACH = 10 };
	pid_t pids[PROCS];
	int n, status;

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct splq_store *cs;
			struct splq_qube q;

			if (splq_store_open(home, &cs, &err) < 0)
				_exit(1);
			for (int i = 0; i < EACH; i++) {
				memset(&q, 0, sizeof(q));
				snprintf(q.name, sizeof(q.name), "p%d-q%d", p, i);
				q.klass = SPLQ_CLASS_APPVM;
				if (splq_store_qube_add(cs, &q, &err) < 0)
					_exit(2);
			}
			splq_store_close(cs);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(splq_store_open(home, &s, &err), 0);
	assert_int_equal(splq_store_qube_list(s, &list, &n, &err), 0);
	assert_int_equal(n, PROCS * EACH + 1);
	for (int i = 0; i < n; i++) {
		assert_true(list[i].slot >= 0 && list[i].slot <= PROCS * EACH);
		for (int j = i + 1; j < n; j++)
			assert_int_not_equal(list[i].slot, list[j].slot);
	}
	splq_qube_list_free(list, n);
	splq_store_close(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_open_creates), T(test_reopen_keeps), T(test_add_get_list_remove),
	    T(test_add_refuses),  T(test_slots),        T(test_slots_exhausted),
	    T(test_transactions), T(test_props),        T(test_remove_cascades),
	    T(test_prop_users),   T(test_tags),         T(test_features),
	    T(test_firewall),
	    T(test_audit_head),   T(test_garbage_file), T(test_foreign_db),
	    T(test_migrate_v1),   T(test_locked),       T(test_concurrent),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
