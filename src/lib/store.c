/* splq: the store, SQLite in WAL mode (see store.h). */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SPLQ_APPLICATION_ID     0x73706c71 /* "splq" */
#define SPLQ_SCHEMA_VERSION     3
#define DEFAULT_BUSY_TIMEOUT_MS 10000

/* Prepared statements, kept for the connection's life: parsing SQL is
 * most of what a short splq command spends in SQLite.  Keyed by the SQL
 * text's address (every statement is a literal in this file). */
#define STMT_CACHE 48

#define STORE_PREFETCH_MAX 8

struct splq_store {
	sqlite3 *db;
	char *path;
	int depth;    /* nesting of splq_store_begin */
	bool reading; /* in splq_store_read_begin */
	/* properties read at once for every qube (splq_store_read_prefetch),
	 * by qube name in order, while reading */
	struct fetched {
		const char *prop;
		char **qubes, **values;
		int n;
	} fetched[STORE_PREFETCH_MAX];
	int nfetched;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	int ncache;
};

/* Schema 2 added the volumes table: the sizes set for a qube's volumes
 * (a volume without a row has its class's default size). */
#define VOLUMES_SQL                                                                                \
	"CREATE TABLE volumes ("                                                                   \
	" qube TEXT NOT NULL REFERENCES qubes(name) ON DELETE CASCADE,"                            \
	" name TEXT NOT NULL,"                                                                     \
	" size INTEGER NOT NULL CHECK (size > 0),"                                                 \
	" PRIMARY KEY (qube, name));"

/* Schema 3 added the firewall table: a qube's firewall rules, Qubes' text
 * (formats/firewall.h), one a line (a qube without a row has Qubes'
 * default, the one rule action=accept). */
#define FIREWALL_SQL                                                                               \
	"CREATE TABLE firewall ("                                                                  \
	" qube TEXT PRIMARY KEY REFERENCES qubes(name) ON DELETE CASCADE,"                         \
	" rules TEXT NOT NULL);"

static const char schema_sql[] =
    "CREATE TABLE qubes ("
    " name TEXT PRIMARY KEY,"
    " class TEXT NOT NULL,"
    " slot INTEGER NOT NULL UNIQUE,"
    " uuid TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " base TEXT);"
    "CREATE TABLE properties ("
    " qube TEXT NOT NULL REFERENCES qubes(name) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (qube, name));"
    "CREATE TABLE tags ("
    " qube TEXT NOT NULL REFERENCES qubes(name) ON DELETE CASCADE,"
    " tag TEXT NOT NULL,"
    " PRIMARY KEY (qube, tag));"
    "CREATE TABLE features ("
    " qube TEXT NOT NULL REFERENCES qubes(name) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (qube, name));" VOLUMES_SQL FIREWALL_SQL "CREATE TABLE audit_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL,"
    " hash TEXT NOT NULL);";

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* ---- errors ---- */

/* Turn an SQLite result code into an splq error.  what says what was
 * being done ("reading qube 'work'"). */
static int db_fail_rc(struct splq_store *s, int rc, const char *what, struct splq_error *err)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return splq_fail(err, SPLQ_E_LOCKED, "store '%s' is locked by another process",
		                 s->path);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "store '%s' is corrupted or not an splq store: %s", s->path, msg);
	case SQLITE_FULL:
	case SQLITE_IOERR: {
		int e = s->db ? sqlite3_system_errno(s->db) : 0;
		if (e == ENOSPC || e == EDQUOT)
			msg = strerror(e);
		return splq_fail(err, SPLQ_E_NOSPACE, "store '%s': %s: %s", s->path, what, msg);
	}
	default:
		return splq_fail(err, SPLQ_E_INTERNAL, "store '%s': %s: %s", s->path, what, msg);
	}
}

/* ---- statements ---- */

static void finalizep(sqlite3_stmt **st)
{
	if (*st)
		sqlite3_finalize(*st);
}
#define cleanup_stmt __attribute__((cleanup(finalizep)))

/* Hand a statement from prep back to the cache. */
static void release(sqlite3_stmt **st)
{
	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
		*st = NULL;
	}
}
#define cleanup_release __attribute__((cleanup(release)))

/* Prepare sql (or take it from the cache) and bind the text arguments
 * (NULL binds NULL), in order.  Give it back with release(). */
static int prep(struct splq_store *s, sqlite3_stmt **st, const char *sql, const char *what,
                struct splq_error *err, int nargs, ...)
{
	va_list ap;
	int rc, i;

	for (i = 0; i < s->ncache && s->cache[i].sql != sql; i++)
		;
	if (i == s->ncache) {
		if (i == STMT_CACHE)
			return splq_fail(err, SPLQ_E_INTERNAL, "store: more than %d statements",
			                 STMT_CACHE);
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
		if (rc != SQLITE_OK)
			return db_fail_rc(s, rc, what, err);
		s->cache[s->ncache].sql = sql;
		s->cache[s->ncache++].st = *st;
	}
	*st = s->cache[i].st;
	va_start(ap, nargs);
	for (int i = 1; i <= nargs; i++) {
		const char *a = va_arg(ap, const char *);

		rc = a ? sqlite3_bind_text(*st, i, a, -1, SQLITE_TRANSIENT)
		       : sqlite3_bind_null(*st, i);
		if (rc != SQLITE_OK) {
			va_end(ap);
			return db_fail_rc(s, rc, what, err);
		}
	}
	va_end(ap);
	return 0;
}

/* Step once: 1 for a row, 0 for done, -1 on error. */
static int step(struct splq_store *s, sqlite3_stmt *st, const char *what, struct splq_error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail_rc(s, rc, what, err);
}

/* Run a statement without result rows. */
static int exec1(struct splq_store *s, const char *sql, const char *what, struct splq_error *err,
                 int nargs, const char *a1, const char *a2, const char *a3)
{
	cleanup_release sqlite3_stmt *st = NULL;

	if (prep(s, &st, sql, what, err, nargs, a1, a2, a3) < 0)
		return -1;
	return step(s, st, what, err) < 0 ? -1 : 0;
}

static int exec_plain(struct splq_store *s, const char *sql, const char *what,
                      struct splq_error *err)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_fail_rc(s, rc, what, err);
	return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return splq_xstrdup(t ? (const char *)t : "");
}

/* 1 if the qube exists, 0 if not, -1 on error. */
static int qube_exists(struct splq_store *s, const char *name, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;

	if (prep(s, &st, "SELECT 1 FROM qubes WHERE name = ?", "looking up a qube", err, 1, name) <
	    0)
		return -1;
	return step(s, st, "looking up a qube", err);
}

static int need_qube(struct splq_store *s, const char *name, struct splq_error *err)
{
	int r = qube_exists(s, name, err);

	if (r < 0)
		return -1;
	if (r == 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "no such qube '%s'", name);
	return 0;
}

/* A column of text rows into a malloc'ed array. */
static int collect(struct splq_store *s, sqlite3_stmt *st, const char *what, char ***out,
                   char ***out2, int *n, struct splq_error *err)
{
	char **v = NULL, **v2 = NULL;
	int count = 0, cap = 0, r;

	for (;;) {
		r = step(s, st, what, err);
		if (r < 0) {
			splq_strv_free(v, count);
			splq_strv_free(v2, count);
			return -1;
		}
		if (r == 0)
			break;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
			if (out2) {
				v2 = realloc(v2, cap * sizeof(*v2));
				if (!v2)
					abort();
			}
		}
		v[count] = col_dup(st, 0);
		if (out2)
			v2[count] = col_dup(st, 1);
		count++;
	}
	if (!v)
		v = splq_xcalloc(1, sizeof(*v));
	if (out2 && !v2)
		v2 = splq_xcalloc(1, sizeof(*v2));
	*out = v;
	if (out2)
		*out2 = v2;
	*n = count;
	return 0;
}

void splq_strv_free(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- transactions ---- */

int splq_store_begin(struct splq_store *s, struct splq_error *err)
{
	if (s->reading)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "store '%s': a change inside a read transaction", s->path);
	if (s->depth == 0 && exec_plain(s, "BEGIN IMMEDIATE", "starting a transaction", err) < 0)
		return -1;
	s->depth++;
	return 0;
}

int splq_store_commit(struct splq_store *s, struct splq_error *err)
{
	if (s->depth == 0)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "store '%s': commit without a transaction (it was rolled back)",
		                 s->path);
	if (--s->depth > 0)
		return 0;
	if (exec_plain(s, "COMMIT", "committing a transaction", err) < 0) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int splq_store_read_begin(struct splq_store *s, struct splq_error *err)
{
	if (s->depth || s->reading)
		return 0; /* already one */
	if (exec_plain(s, "BEGIN", "starting a read transaction", err) < 0)
		return -1;
	s->reading = true;
	return 0;
}

static void fetched_clear(struct splq_store *s)
{
	for (int i = 0; i < s->nfetched; i++) {
		splq_strv_free(s->fetched[i].qubes, s->fetched[i].n);
		splq_strv_free(s->fetched[i].values, s->fetched[i].n);
	}
	s->nfetched = 0;
}

int splq_store_read_prefetch(struct splq_store *s, const char *const *props, int n,
                             struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	if (!s->reading || s->nfetched + n > STORE_PREFETCH_MAX)
		return 0; /* read one by one, as without */
	/* one pass over the table, in its (qube, name) order */
	if (prep(s, &st, "SELECT qube, name, value FROM properties ORDER BY qube",
	         "reading the properties of every qube", err, 0) < 0)
		return -1;
	int first = s->nfetched, cap[STORE_PREFETCH_MAX] = {0}, r;
	for (int i = 0; i < n; i++)
		s->fetched[s->nfetched++] = (struct fetched){.prop = props[i]};
	while ((r = step(s, st, "reading the properties of every qube", err)) > 0) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		for (int i = first; name && i < s->nfetched; i++) {
			struct fetched *f = &s->fetched[i];
			if (strcmp(f->prop, name) != 0)
				continue;
			if (f->n == cap[i]) {
				cap[i] = cap[i] ? 2 * cap[i] : 64;
				f->qubes = realloc(f->qubes, cap[i] * sizeof(char *));
				f->values = realloc(f->values, cap[i] * sizeof(char *));
				if (!f->qubes || !f->values)
					abort();
			}
			f->qubes[f->n] = col_dup(st, 0);
			f->values[f->n++] = col_dup(st, 2);
			break;
		}
	}
	return r < 0 ? -1 : 0;
}

/* A prefetched property's value for qube: 1 and *value (not a copy), 0
 * when it is not set, -1 when prop was not prefetched. */
static int fetched_get(struct splq_store *s, const char *qube, const char *prop,
                       const char **value)
{
	for (int i = 0; i < s->nfetched; i++) {
		const struct fetched *f = &s->fetched[i];
		if (strcmp(f->prop, prop) != 0)
			continue;
		for (int lo = 0, hi = f->n; lo < hi;) {
			int mid = (lo + hi) / 2, c = strcmp(f->qubes[mid], qube);
			if (c == 0) {
				*value = f->values[mid];
				return 1;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return 0;
	}
	return -1;
}

void splq_store_read_end(struct splq_store *s)
{
	if (!s->reading)
		return;
	s->reading = false;
	fetched_clear(s);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

void splq_store_rollback(struct splq_store *s)
{
	if (s->depth == 0)
		return;
	s->depth = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- open and close ---- */

#define SPLQ_WAL_BYTES (512 * 1024)

static int busy_timeout_ms(void)
{
	const char *e = getenv("SPLQ_BUSY_TIMEOUT");
	char *end;
	long v;

	if (!e || !*e)
		return DEFAULT_BUSY_TIMEOUT_MS;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno || *end || v < 0 || v > 3600000)
		return DEFAULT_BUSY_TIMEOUT_MS;
	return (int)v;
}

static int pragma_int(struct splq_store *s, const char *sql, long long *out, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	int r;

	if (prep(s, &st, sql, "reading the store's header", err, 0) < 0)
		return -1;
	r = step(s, st, "reading the store's header", err);
	if (r < 0)
		return -1;
	*out = r ? sqlite3_column_int64(st, 0) : 0;
	return 0;
}

static void make_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			abort(); /* no randomness: nothing sensible left to do */
		got += n;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

/* Check that the file is ours (or empty); *fresh when it is empty. */
static int check_identity_now(struct splq_store *s, bool *fresh, struct splq_error *err)
{
	long long app_id, version, tables;

	if (pragma_int(s, "PRAGMA application_id", &app_id, err) < 0 ||
	    pragma_int(s, "PRAGMA user_version", &version, err) < 0 ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err) < 0)
		return -1;
	*fresh = false;
	if (app_id == 0 && version == 0 && tables == 0) {
		*fresh = true;
		return 0;
	}
	if (app_id != SPLQ_APPLICATION_ID)
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "store '%s' is corrupted or not an splq store: it belongs to "
		                 "another application (application_id 0x%llx)",
		                 s->path, app_id);
	if (version > SPLQ_SCHEMA_VERSION)
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "store '%s' is corrupted or not an splq store: it was written by "
		                 "a newer splq (schema %lld; this one knows %d)",
		                 s->path, version, SPLQ_SCHEMA_VERSION);
	if (version < 1)
		return splq_fail(
		    err, SPLQ_E_CORRUPT,
		    "store '%s' is corrupted or not an splq store: schema version %lld", s->path,
		    version);
	return 0;
}

/* The three reads must see one snapshot: a store created by another
 * process between them would look foreign. */
static int check_identity(struct splq_store *s, bool *fresh, struct splq_error *err)
{
	int r;

	if (!sqlite3_get_autocommit(s->db))
		return check_identity_now(s, fresh, err);
	if (exec_plain(s, "BEGIN", "reading the store's header", err) < 0)
		return -1;
	r = check_identity_now(s, fresh, err);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return r;
}

/* Switch a new store to WAL.  Changing the journal mode does not wait on
 * the busy handler, so wait here, as long as the busy timeout. */
static int use_wal(struct splq_store *s, struct splq_error *err)
{
	long long deadline = splq_now_ms() + busy_timeout_ms();
	cleanup_stmt sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc;

	for (;;) {
		rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				mode = sqlite3_column_text(st, 0);
				if (mode && strcmp((const char *)mode, "wal") == 0)
					return 0;
				return splq_fail(err, SPLQ_E_INTERNAL,
				                 "store '%s': cannot use WAL (journal mode %s)",
				                 s->path, mode ? (const char *)mode : "?");
			}
		}
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return db_fail_rc(s, rc, "switching to WAL", err);
		if (splq_now_ms() >= deadline)
			return db_fail_rc(s, rc, "switching to WAL", err);
		sqlite3_finalize(splq_steal(st));
		usleep(10000);
	}
}

static bool in_wal(struct splq_store *s)
{
	cleanup_stmt sqlite3_stmt *st = NULL;
	const unsigned char *mode;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		return false;
	mode = sqlite3_column_text(st, 0);
	return mode && strcmp((const char *)mode, "wal") == 0;
}

static int create_schema(struct splq_store *s, struct splq_error *err)
{
	char sql[128];
	char created[32];
	bool fresh;

	if (splq_store_begin(s, err) < 0)
		return -1;
	/* Another process may have created it while this one waited. */
	if (check_identity(s, &fresh, err) < 0)
		goto fail;
	if (!fresh)
		return splq_store_commit(s, err);
	if (exec_plain(s, schema_sql, "creating the schema", err) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
	         SPLQ_APPLICATION_ID, SPLQ_SCHEMA_VERSION);
	if (exec_plain(s, sql, "marking the store", err) < 0)
		goto fail;
	snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
	if (exec1(s,
	          "INSERT INTO qubes (name, class, slot, uuid, created, base) "
	          "VALUES ('dom0', 'AdminVM', 0, '00000000-0000-0000-0000-000000000000', "
	          "CAST(? AS INTEGER), NULL)",
	          "adding dom0", err, 1, created, NULL, NULL) < 0)
		goto fail;
	return splq_store_commit(s, err);
fail:
	splq_store_rollback(s);
	return -1;
}

/* The store's files are root's alone, 0600 whatever the caller's umask:
 * splq.db is made here, empty, before SQLite opens it, and SQLite gives
 * the files it makes beside it (-wal, -shm, -journal) the database's mode
 * (it sets that mode itself, past the umask).  No umask change: that
 * would be the whole process's.  A store made before this rule is
 * tightened here.  Only paths: a descriptor of a database file opened and
 * closed here would drop the POSIX locks that another connection of this
 * process holds on it. */
static int store_files_private(const char *db, struct splq_error *err)
{
	static const char *const side[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		cleanup_free char *path = splq_strdup_printf("%s%s", db, side[i]);
		struct stat st;

		if (i == 0) {
			int fd =
			    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd >= 0) {
				close(fd);
				if (chmod(path, 0600) < 0) /* the umask may have taken bits */
					return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
					                       "chmod %s", path);
				continue;
			}
			if (errno != EEXIST)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot create store '%s'", path);
		}
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "stat %s", path);
		}
		if (S_ISREG(st.st_mode) && (st.st_mode & 07777) != 0600 &&
		    fchmodat(AT_FDCWD, path, 0600, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EROFS) /* a store on a read-only mount stays as it is */
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot make store file %s private (0600)", path);
	}
	return 0;
}

/* Bring a store of an older schema up to this one, in one transaction. */
static int migrate(struct splq_store *s, struct splq_error *err)
{
	long long version;
	char sql[64];

	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0)
		return -1;
	if (version >= SPLQ_SCHEMA_VERSION)
		return 0;
	if (splq_store_begin(s, err) < 0)
		return -1;
	/* another process may have migrated it meanwhile */
	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0)
		goto fail;
	if (version < 2 && exec_plain(s, VOLUMES_SQL, "adding the volumes table", err) < 0)
		goto fail;
	if (version < 3 && exec_plain(s, FIREWALL_SQL, "adding the firewall table", err) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SPLQ_SCHEMA_VERSION);
	if (version < SPLQ_SCHEMA_VERSION && exec_plain(s, sql, "marking the store", err) < 0)
		goto fail;
	return splq_store_commit(s, err);
fail:
	splq_store_rollback(s);
	return -1;
}

int splq_store_open(const char *home, struct splq_store **out, struct splq_error *err)
{
	struct splq_store *s;
	bool fresh;
	int rc;

	*out = NULL;
	if (!home || !*home)
		return splq_fail(err, SPLQ_E_INTERNAL, "no home directory for the store");
	if (splq_mkdir_p(home, 0700, err) < 0)
		return -1;
	s = splq_xcalloc(1, sizeof(*s));
	s->path = splq_strdup_printf("%s/splq.db", home);
	if (store_files_private(s->path, err) < 0) {
		free(s->path);
		free(s);
		return -1;
	}

	rc =
	    sqlite3_open_v2(s->path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (!s->db)
			abort(); /* SQLite could not allocate its handle */
		db_fail_rc(s, rc, "opening", err);
		if (err && err->code == SPLQ_E_INTERNAL)
			splq_fail(err, SPLQ_E_INTERNAL, "cannot open store '%s': %s", s->path,
			          sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, busy_timeout_ms());
	/* Every splq command is a short-lived connection: checkpointing the
	 * WAL at each close would cost fsyncs per command.  splq_store_close
	 * checkpoints (and truncates) it only once it has grown past
	 * SPLQ_WAL_BYTES, which also bounds what the next connection reads
	 * back from it when it opens. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_autocheckpoint(s->db, 0);

	if (check_identity(s, &fresh, err) < 0)
		goto fail;
	/* Only a store known to be ours is switched to WAL. */
	if ((!in_wal(s) && use_wal(s, err) < 0) ||
	    exec_plain(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
	               "setting up the connection", err) < 0)
		goto fail;
	if (fresh ? create_schema(s, err) < 0 : migrate(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	splq_store_close(s);
	return -1;
}

void splq_store_close(struct splq_store *s)
{
	if (!s)
		return;
	if (s->db) {
		for (int i = 0; i < s->ncache; i++)
			sqlite3_finalize(s->cache[i].st);
		splq_store_rollback(s);
		cleanup_free char *wal = splq_strdup_printf("%s-wal", s->path);
		struct stat st;
		if (stat(wal, &st) == 0 && st.st_size > SPLQ_WAL_BYTES)
			sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
			                          NULL);
		sqlite3_close_v2(s->db);
	}
	free(s->path);
	free(s);
}

/* ---- qubes ---- */

void splq_qube_clear(struct splq_qube *q)
{
	if (!q)
		return;
	free(q->base);
	q->base = NULL;
}

void splq_qube_list_free(struct splq_qube *list, int n)
{
	if (!list)
		return;
	for (int i = 0; i < n; i++)
		splq_qube_clear(&list[i]);
	free(list);
}

#define QUBE_COLS "name, class, slot, uuid, created, base"

static int row_to_qube(struct splq_store *s, sqlite3_stmt *st, struct splq_qube *q,
                       struct splq_error *err)
{
	const char *name = (const char *)sqlite3_column_text(st, 0);
	const char *klass = (const char *)sqlite3_column_text(st, 1);
	const char *uuid = (const char *)sqlite3_column_text(st, 3);
	const char *base = (const char *)sqlite3_column_text(st, 5);
	int c = splq_class_parse(klass);

	memset(q, 0, sizeof(*q));
	if (!name || strlen(name) > SPLQ_NAME_MAX || c < 0 || !uuid || strlen(uuid) != 36)
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "store '%s' is corrupted or not an splq store: a bad row for qube "
		                 "'%s'",
		                 s->path, name ? name : "");
	strcpy(q->name, name);
	q->klass = c;
	q->slot = sqlite3_column_int(st, 2);
	strcpy(q->uuid, uuid);
	q->created = sqlite3_column_int64(st, 4);
	q->base = base ? splq_xstrdup(base) : NULL;
	return 0;
}

int splq_store_qube_add(struct splq_store *s, struct splq_qube *q, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	char slot[16], created[32], uuid[37];
	long long free_slot;
	int r;

	if (splq_name_check(q->name, err) < 0)
		return -1;
	if ((int)q->klass < 0 || q->klass >= SPLQ_CLASS_COUNT || q->klass == SPLQ_CLASS_ADMINVM)
		return splq_fail(err, SPLQ_E_VALUE, "cannot add qube '%s' of class %s", q->name,
		                 splq_class_name(q->klass));
	if (splq_store_begin(s, err) < 0)
		return -1;
	r = qube_exists(s, q->name, err);
	if (r < 0)
		goto fail;
	if (r > 0) {
		splq_fail(err, SPLQ_E_EXISTS, "qube '%s' already exists", q->name);
		goto fail;
	}
	/* The lowest slot >= 1 that no qube holds. */
	if (prep(s, &st,
	         "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM qubes WHERE slot = 1) THEN 1 "
	         "ELSE (SELECT min(a.slot) + 1 FROM qubes a WHERE a.slot >= 1 AND NOT EXISTS "
	         "(SELECT 1 FROM qubes b WHERE b.slot = a.slot + 1)) END",
	         "choosing a uid range", err, 0) < 0)
		goto fail;
	r = step(s, st, "choosing a uid range", err);
	if (r < 0)
		goto fail;
	free_slot = sqlite3_column_int64(st, 0);
	release(&st);
	if (free_slot < 1 || free_slot > SPLQ_SLOT_MAX) {
		splq_fail(err, SPLQ_E_NOSPACE, "no free uid range for qube '%s' (all %d are taken)",
		          q->name, SPLQ_SLOT_MAX);
		goto fail;
	}
	make_uuid(uuid);
	snprintf(slot, sizeof(slot), "%lld", free_slot);
	snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
	if (prep(s, &st,
	         "INSERT INTO qubes (name, class, slot, uuid, created, base) "
	         "VALUES (?, ?, CAST(? AS INTEGER), ?, CAST(? AS INTEGER), ?)",
	         "adding a qube", err, 6, q->name, splq_class_name(q->klass), slot, uuid, created,
	         q->base) < 0)
		goto fail;
	r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		if ((r & 0xff) == SQLITE_CONSTRAINT)
			splq_fail(err, SPLQ_E_EXISTS, "qube '%s' already exists", q->name);
		else
			db_fail_rc(s, r, "adding a qube", err);
		goto fail;
	}
	if (splq_store_commit(s, err) < 0)
		return -1;
	q->slot = (int)free_slot;
	memcpy(q->uuid, uuid, sizeof(q->uuid));
	q->created = atoll(created);
	return 0;
fail:
	splq_store_rollback(s);
	return -1;
}

int splq_store_qube_get(struct splq_store *s, const char *name, struct splq_qube *out,
                        struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (prep(s, &st, "SELECT " QUBE_COLS " FROM qubes WHERE name = ?", "reading a qube", err, 1,
	         name) < 0)
		return -1;
	r = step(s, st, "reading a qube", err);
	if (r < 0)
		return -1;
	if (r == 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "no such qube '%s'", name);
	return row_to_qube(s, st, out, err);
}

int splq_store_qube_remove(struct splq_store *s, const char *name, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;

	if (prep(s, &st, "DELETE FROM qubes WHERE name = ? AND slot <> 0", "removing a qube", err,
	         1, name) < 0)
		return -1;
	if (step(s, st, "removing a qube", err) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0) {
		int r = qube_exists(s, name, err);

		if (r < 0)
			return -1;
		if (r > 0)
			return splq_fail(err, SPLQ_E_STATE,
			                 "qube '%s' is the AdminVM and cannot be removed", name);
		return splq_fail(err, SPLQ_E_NOTFOUND, "no such qube '%s'", name);
	}
	return 0;
}

/* The qubes, all (klass < 0) or of one class. */
static int qube_list(struct splq_store *s, int klass, struct splq_qube **out, int *n,
                     struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	struct splq_qube *v = NULL;
	int count = 0, cap = 0, r;

	*out = NULL;
	*n = 0;
	if (klass < 0 ? prep(s, &st, "SELECT " QUBE_COLS " FROM qubes ORDER BY name",
	                     "listing qubes", err, 0)
	              : prep(s, &st, "SELECT " QUBE_COLS " FROM qubes WHERE class = ? ORDER BY name",
	                     "listing qubes", err, 1, splq_class_name((enum splq_class)klass)) <
	                    0)
		return -1;
	for (;;) {
		r = step(s, st, "listing qubes", err);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		if (row_to_qube(s, st, &v[count], err) < 0)
			goto fail;
		count++;
	}
	*out = v ? v : splq_xcalloc(1, sizeof(*v));
	*n = count;
	return 0;
fail:
	splq_qube_list_free(v, count);
	return -1;
}

int splq_store_qube_list(struct splq_store *s, struct splq_qube **out, int *n,
                         struct splq_error *err)
{
	return qube_list(s, -1, out, n, err);
}

int splq_store_qube_list_of(struct splq_store *s, enum splq_class klass, struct splq_qube **out,
                            int *n, struct splq_error *err)
{
	return qube_list(s, (int)klass, out, n, err);
}

/* ---- properties ---- */

static const struct splq_prop_def *need_prop(const char *prop, struct splq_error *err)
{
	const struct splq_prop_def *def = splq_prop_find(prop);

	if (!def)
		splq_fail(err, SPLQ_E_NOTFOUND, "no such property '%s'", prop);
	return def;
}

/* prop of the qube named name ("" for no name, or one that is gone). */
static int prop_of(struct splq_store *s, const char *name, const char *prop, char **value,
                   struct splq_error *err)
{
	struct splq_qube t = {0};
	int r;

	*value = NULL;
	if (*name && splq_store_qube_get(s, name, &t, err) == 0) {
		r = splq_store_prop_get(s, &t, prop, value, NULL, err);
		splq_qube_clear(&t);
		return r;
	}
	if (*name && err->code != SPLQ_E_NOTFOUND)
		return -1;
	*value = splq_xstrdup("");
	return 0;
}

/* A netvm not set: none for a template and a qube that provides network
 * itself; a disposable's dvm's; else dom0's default_netvm (unless that is
 * the qube itself), as in Qubes OS. */
static int netvm_default(struct splq_store *s, const struct splq_qube *q, char **value,
                         struct splq_error *err)
{
	cleanup_free char *pn = NULL;
	cleanup_free char *tpl = NULL;

	*value = NULL;
	if (q->klass == SPLQ_CLASS_TEMPLATEVM || q->klass == SPLQ_CLASS_ADMINVM) {
		*value = splq_xstrdup("");
		return 0;
	}
	if (splq_store_prop_get(s, q, "provides_network", &pn, NULL, err) < 0)
		return -1;
	if (strcmp(pn, "True") == 0) {
		*value = splq_xstrdup("");
		return 0;
	}
	if (q->klass == SPLQ_CLASS_DISPVM) {
		if (splq_store_prop_get(s, q, "template", &tpl, NULL, err) < 0)
			return -1;
		return prop_of(s, tpl, "netvm", value, err);
	}
	/* dom0's: the class is all its row would tell */
	struct splq_qube dom0 = {.name = "dom0", .klass = SPLQ_CLASS_ADMINVM};
	if (splq_store_prop_get(s, &dom0, "default_netvm", value, NULL, err) < 0)
		return -1;
	if (strcmp(*value, q->name) == 0)
		(*value)[0] = 0;
	return 0;
}

/* The read-only network properties, from the qube's id and its netvm's. */
static int net_prop(struct splq_store *s, const struct splq_qube *q, const char *prop,
                    char **value, struct splq_error *err)
{
	cleanup_free char *netvm = NULL;
	cleanup_free char *pn = NULL;
	char a4[SPLQ_NET_ADDR_MAX], a6[SPLQ_NET_ADDR_MAX];
	int disp = q->klass == SPLQ_CLASS_DISPVM ? splq_net_dispid(q->name) : -1;
	bool provides;

	*value = NULL;
	if (splq_store_prop_get(s, q, "netvm", &netvm, NULL, err) < 0 ||
	    splq_store_prop_get(s, q, "provides_network", &pn, NULL, err) < 0)
		return -1;
	provides = strcmp(pn, "True") == 0;
	if (!*netvm && !provides) {
		*value = splq_xstrdup("");
		return 0;
	}
	splq_net_ip4(disp >= 0 ? disp : q->slot, disp >= 0, a4);
	splq_net_ip6(disp >= 0 ? disp : q->slot, disp >= 0, a6);
	if (strcmp(prop, "ip") == 0 || strcmp(prop, "visible_ip") == 0)
		*value = splq_xstrdup(a4);
	else if (strcmp(prop, "ip6") == 0 || strcmp(prop, "visible_ip6") == 0)
		*value = splq_xstrdup(a6);
	else if (strcmp(prop, "gateway") == 0)
		*value = splq_xstrdup(provides ? a4 : "");
	else if (strcmp(prop, "gateway6") == 0)
		*value = splq_xstrdup(provides ? a6 : "");
	else if (strcmp(prop, "visible_gateway") == 0)
		return prop_of(s, netvm, "gateway", value, err);
	else if (strcmp(prop, "visible_gateway6") == 0)
		return prop_of(s, netvm, "gateway6", value, err);
	else if (strcmp(prop, "visible_netmask") == 0)
		*value = splq_xstrdup(SPLQ_NET_NETMASK);
	else if (strcmp(prop, "dns") == 0)
		*value = splq_xstrdup(SPLQ_NET_DNS1 " " SPLQ_NET_DNS2);
	else if (strcmp(prop, "mac") == 0)
		*value = splq_xstrdup(SPLQ_NET_MAC);
	else
		*value = splq_xstrdup("");
	return 0;
}

int splq_store_prop_get(struct splq_store *s, const struct splq_qube *q, const char *prop,
                        char **value, bool *is_default, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	const struct splq_prop_def *def;
	bool dflt = true;
	int r;

	*value = NULL;
	def = need_prop(prop, err);
	if (!def)
		return -1;
	if (!(def->classes & (1u << q->klass)))
		return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' (%s) has no property '%s'",
		                 q->name, splq_class_name(q->klass), prop);

	if (strcmp(prop, "name") == 0) {
		*value = splq_xstrdup(q->name);
		dflt = false;
	} else if (strcmp(prop, "klass") == 0) {
		*value = splq_xstrdup(splq_class_name(q->klass));
		dflt = false;
	} else if (strcmp(prop, "uuid") == 0) {
		*value = splq_xstrdup(q->uuid);
		dflt = false;
	} else if (def->readonly) {
		if (net_prop(s, q, prop, value, err) < 0)
			return -1;
		dflt = false;
	} else {
		const char *got;
		if ((r = fetched_get(s, q->name, prop, &got)) < 0) {
			if (prep(s, &st, "SELECT value FROM properties WHERE qube = ? AND name = ?",
			         "reading a property", err, 2, q->name, prop) < 0)
				return -1;
			r = step(s, st, "reading a property", err);
			if (r < 0)
				return -1;
			got = r > 0 ? (const char *)sqlite3_column_text(st, 0) : NULL;
		}
		if (r > 0) {
			*value = splq_xstrdup(got ? got : "");
			dflt = false;
		} else if (strcmp(prop, "label") == 0 && q->klass == SPLQ_CLASS_ADMINVM) {
			*value = splq_xstrdup("black");
		} else if (strcmp(prop, "maxmem") == 0) {
			/* 4000, or memory where that is more: the hard limit
			 * is never below what the qube is given */
			cleanup_free char *mem = NULL;
			long m;

			release(&st); /* the cached statement serves memory too */
			if (splq_store_prop_get(s, q, "memory", &mem, NULL, err) < 0)
				return -1;
			m = strtol(mem, NULL, 10);
			*value = m > SPLQ_MAXMEM_DEFAULT ? splq_xstrdup(mem)
			                                 : splq_strdup_printf("%d", SPLQ_MAXMEM_DEFAULT);
		} else if (strcmp(prop, "netvm") == 0) {
			release(&st);
			if (netvm_default(s, q, value, err) < 0)
				return -1;
		} else {
			*value = splq_xstrdup(def->dflt ? def->dflt : "");
		}
	}
	if (is_default)
		*is_default = dflt;
	return 0;
}

static int settable(const char *prop, struct splq_error *err)
{
	const struct splq_prop_def *def = need_prop(prop, err);

	if (!def)
		return -1;
	if (def->readonly)
		return splq_fail(err, SPLQ_E_VALUE, "property '%s' is read-only", prop);
	return 0;
}

int splq_store_prop_set(struct splq_store *s, const char *qube, const char *prop, const char *value,
                        struct splq_error *err)
{
	if (settable(prop, err) < 0)
		return -1;
	if (!value)
		return splq_fail(err, SPLQ_E_VALUE, "property '%s' needs a value", prop);
	if (need_qube(s, qube, err) < 0)
		return -1;
	return exec1(s,
	             "INSERT INTO properties (qube, name, value) VALUES (?, ?, ?) "
	             "ON CONFLICT (qube, name) DO UPDATE SET value = excluded.value",
	             "setting a property", err, 3, qube, prop, value);
}

int splq_store_prop_reset(struct splq_store *s, const char *qube, const char *prop,
                          struct splq_error *err)
{
	if (settable(prop, err) < 0)
		return -1;
	if (need_qube(s, qube, err) < 0)
		return -1;
	return exec1(s, "DELETE FROM properties WHERE qube = ? AND name = ?",
	             "resetting a property", err, 2, qube, prop, NULL);
}

int splq_store_prop_users(struct splq_store *s, const char *prop, const char *value, char ***out,
                          int *n, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;

	*out = NULL;
	*n = 0;
	if (prep(s, &st, "SELECT qube FROM properties WHERE name = ? AND value = ? ORDER BY qube",
	         "finding property users", err, 2, prop, value) < 0)
		return -1;
	return collect(s, st, "finding property users", out, NULL, n, err);
}

/* ---- tags ---- */

int splq_store_tag_list(struct splq_store *s, const char *qube, char ***out, int *n,
                        struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;

	*out = NULL;
	*n = 0;
	if (need_qube(s, qube, err) < 0)
		return -1;
	if (prep(s, &st, "SELECT tag FROM tags WHERE qube = ? ORDER BY tag", "listing tags", err, 1,
	         qube) < 0)
		return -1;
	return collect(s, st, "listing tags", out, NULL, n, err);
}

int splq_store_tag_add(struct splq_store *s, const char *qube, const char *tag,
                       struct splq_error *err)
{
	if (splq_tag_check(tag, err) < 0)
		return -1;
	if (need_qube(s, qube, err) < 0)
		return -1;
	return exec1(s, "INSERT OR IGNORE INTO tags (qube, tag) VALUES (?, ?)", "adding a tag", err,
	             2, qube, tag, NULL);
}

int splq_store_tag_remove(struct splq_store *s, const char *qube, const char *tag,
                          struct splq_error *err)
{
	if (need_qube(s, qube, err) < 0)
		return -1;
	if (exec1(s, "DELETE FROM tags WHERE qube = ? AND tag = ?", "removing a tag", err, 2, qube,
	          tag, NULL) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' has no tag '%s'", qube, tag);
	return 0;
}

bool splq_store_tag_has(struct splq_store *s, const char *qube, const char *tag)
{
	cleanup_release sqlite3_stmt *st = NULL;

	if (prep(s, &st, "SELECT 1 FROM tags WHERE qube = ? AND tag = ?", "reading a tag", NULL, 2,
	         qube, tag) < 0)
		return false;
	return step(s, st, "reading a tag", NULL) == 1;
}

/* ---- features ---- */

int splq_store_feature_list(struct splq_store *s, const char *qube, char ***names, char ***values,
                            int *n, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;

	*names = NULL;
	*values = NULL;
	*n = 0;
	if (need_qube(s, qube, err) < 0)
		return -1;
	if (prep(s, &st, "SELECT name, value FROM features WHERE qube = ? ORDER BY name",
	         "listing features", err, 1, qube) < 0)
		return -1;
	return collect(s, st, "listing features", names, values, n, err);
}

int splq_store_prop_list_set(struct splq_store *s, const char *qube, char ***names,
                             char ***values, int *n, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	*names = *values = NULL;
	*n = 0;
	if (prep(s, &st, "SELECT name, value FROM properties WHERE qube = ? ORDER BY name",
	         "listing a qube's properties", err, 1, qube) < 0)
		return -1;
	return collect(s, st, "listing a qube's properties", names, values, n, err);
}

int splq_store_feature_holders(struct splq_store *s, const char *name, char ***qubes, int *n,
                               struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	*qubes = NULL;
	*n = 0;
	if (prep(s, &st, "SELECT qube FROM features WHERE name = ? AND value <> '' ORDER BY qube",
	         "listing a feature's qubes", err, 1, name) < 0)
		return -1;
	return collect(s, st, "listing a feature's qubes", qubes, NULL, n, err);
}

int splq_store_feature_get(struct splq_store *s, const char *qube, const char *name, char **value,
                           struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	int r;

	*value = NULL;
	if (need_qube(s, qube, err) < 0)
		return -1;
	if (prep(s, &st, "SELECT value FROM features WHERE qube = ? AND name = ?",
	         "reading a feature", err, 2, qube, name) < 0)
		return -1;
	r = step(s, st, "reading a feature", err);
	if (r < 0)
		return -1;
	if (r == 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' has no feature '%s'", qube, name);
	*value = col_dup(st, 0);
	return 0;
}

int splq_store_feature_set(struct splq_store *s, const char *qube, const char *name,
                           const char *value, struct splq_error *err)
{
	if (splq_feature_name_check(name, err) < 0 || splq_feature_value_check(value, err) < 0)
		return -1;
	if (need_qube(s, qube, err) < 0)
		return -1;
	return exec1(s,
	             "INSERT INTO features (qube, name, value) VALUES (?, ?, ?) "
	             "ON CONFLICT (qube, name) DO UPDATE SET value = excluded.value",
	             "setting a feature", err, 3, qube, name, value);
}

int splq_store_feature_remove(struct splq_store *s, const char *qube, const char *name,
                              struct splq_error *err)
{
	if (need_qube(s, qube, err) < 0)
		return -1;
	if (exec1(s, "DELETE FROM features WHERE qube = ? AND name = ?", "removing a feature", err,
	          2, qube, name, NULL) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "qube '%s' has no feature '%s'", qube, name);
	return 0;
}

/* ---- volumes ---- */

int splq_store_volume_get(struct splq_store *s, const char *qube, const char *volume,
                          unsigned long long *size, bool *is_set, struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	int r;

	*is_set = false;
	if (prep(s, &st, "SELECT size FROM volumes WHERE qube = ? AND name = ?",
	         "reading a volume's size", err, 2, qube, volume) < 0)
		return -1;
	r = step(s, st, "reading a volume's size", err);
	if (r < 0)
		return -1;
	if (r == 1) {
		sqlite3_int64 v = sqlite3_column_int64(st, 0);

		if (v <= 0)
			return splq_fail(err, SPLQ_E_CORRUPT, "volume '%s:%s' has a bad size %lld",
			                 qube, volume, (long long)v);
		*size = (unsigned long long)v;
		*is_set = true;
	}
	return 0;
}

int splq_store_volume_set(struct splq_store *s, const char *qube, const char *volume,
                          unsigned long long size, struct splq_error *err)
{
	char text[32];

	if (need_qube(s, qube, err) < 0)
		return -1;
	snprintf(text, sizeof(text), "%llu", size);
	return exec1(s,
	             "INSERT INTO volumes (qube, name, size) VALUES (?, ?, CAST(? AS INTEGER)) "
	             "ON CONFLICT (qube, name) DO UPDATE SET size = excluded.size",
	             "setting a volume's size", err, 3, qube, volume, text);
}

/* ---- audit head ---- */

static bool is_hex64(const char *h)
{
	if (!h || strlen(h) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

int splq_store_audit_head(struct splq_store *s, long long *seq, char hash[65],
                          struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	const char *h;
	int r;

	if (prep(s, &st, "SELECT seq, hash FROM audit_head WHERE id = 1", "reading the audit head",
	         err, 0) < 0)
		return -1;
	r = step(s, st, "reading the audit head", err);
	if (r < 0)
		return -1;
	if (r == 0) {
		*seq = 0;
		memcpy(hash, zero_hash, 65);
		return 0;
	}
	h = (const char *)sqlite3_column_text(st, 1);
	if (!is_hex64(h))
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "store '%s' is corrupted or not an splq store: a bad audit head",
		                 s->path);
	*seq = sqlite3_column_int64(st, 0);
	memcpy(hash, h, 65);
	return 0;
}

int splq_store_audit_set_head(struct splq_store *s, long long seq, const char *hash,
                              struct splq_error *err)
{
	char seqs[32];

	if (seq < 0 || !is_hex64(hash))
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "store '%s': a bad audit head (seq %lld, hash '%.64s')", s->path,
		                 seq, hash ? hash : "");
	snprintf(seqs, sizeof(seqs), "%lld", seq);
	return exec1(s,
	             "INSERT INTO audit_head (id, seq, hash) VALUES (1, CAST(? AS INTEGER), ?) "
	             "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
	             "moving the audit head", err, 2, seqs, hash, NULL);
}

/* ---- firewall ---- */

int splq_store_firewall_get(struct splq_store *s, const char *qube, char **rules,
                            struct splq_error *err)
{
	cleanup_release sqlite3_stmt *st = NULL;
	int r;

	*rules = NULL;
	if (need_qube(s, qube, err) < 0 ||
	    prep(s, &st, "SELECT rules FROM firewall WHERE qube = ?", "reading firewall rules", err,
	         1, qube) < 0)
		return -1;
	if ((r = step(s, st, "reading firewall rules", err)) < 0)
		return -1;
	if (r > 0)
		*rules = col_dup(st, 0);
	return 0;
}

int splq_store_firewall_set(struct splq_store *s, const char *qube, const char *rules,
                            struct splq_error *err)
{
	if (need_qube(s, qube, err) < 0)
		return -1;
	if (!rules)
		return exec1(s, "DELETE FROM firewall WHERE qube = ?", "resetting firewall rules",
		             err, 1, qube, NULL, NULL);
	return exec1(s,
	             "INSERT INTO firewall (qube, rules) VALUES (?, ?) "
	             "ON CONFLICT (qube) DO UPDATE SET rules = excluded.rules",
	             "setting firewall rules", err, 2, qube, rules, NULL);
}
