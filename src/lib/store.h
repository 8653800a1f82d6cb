/* splq: the store, SQLite in WAL mode at $SPLQ_HOME/splq.db.  Every change
 * runs in a transaction; concurrent splq processes wait for each other
 * (busy timeout, $SPLQ_BUSY_TIMEOUT ms, default 10000) and then fail with
 * SPLQ_E_LOCKED.  A file that is not an splq store fails with
 * SPLQ_E_CORRUPT.  A new store holds one qube already: `dom0`, the AdminVM
 * (slot 0), whose properties (default_dispvm) are the global ones. */
#ifndef SPLQ_STORE_H
#define SPLQ_STORE_H

#include <stdbool.h>

#include "error.h"
#include "model.h"

struct splq_store;

/* A qube's row.  Properties live apart (splq_store_prop_*). */
struct splq_qube {
	char name[SPLQ_NAME_MAX + 1];
	enum splq_class klass;
	int slot;	 /* uid range index: host uids SPLQ_UID_BASE + slot * 65536 ... */
	char uuid[37];
	long long created; /* unix seconds */
	char *base;	   /* templates/standalones: "host" or the source
			    * directory given at creation; NULL otherwise */
};
void splq_qube_clear(struct splq_qube *q); /* frees base */

#define SPLQ_UID_BASE 1000000000L
#define SPLQ_UID_RANGE 65536L
#define SPLQ_SLOT_MAX 16000

/* Open (creating it and the schema if missing) $home/splq.db. */
int splq_store_open(const char *home, struct splq_store **out, struct splq_error *err);
void splq_store_close(struct splq_store *s);

/* Transactions: begin takes the write lock at once (BEGIN IMMEDIATE).
 * Nested begin/commit pairs are counted; rollback undoes the outermost. */
int splq_store_begin(struct splq_store *s, struct splq_error *err);
int splq_store_commit(struct splq_store *s, struct splq_error *err);
void splq_store_rollback(struct splq_store *s);
/* A read transaction: what is read until read_end sees one state of the
 * store, and its locks are taken once, not at every statement (what a
 * listing of many qubes costs).  Nothing may be changed meanwhile. */
int splq_store_read_begin(struct splq_store *s, struct splq_error *err);
/* In a read transaction: the properties props[0..n-1] (static strings)
 * of every qube read at once, in one pass, so that reading one of them
 * for a qube costs no statement. */
int splq_store_read_prefetch(struct splq_store *s, const char *const *props, int n,
                             struct splq_error *err);
void splq_store_read_end(struct splq_store *s);

/* Qubes.  add picks a free slot and a new uuid and fills them in q;
 * SPLQ_E_EXISTS if the name is taken. */
int splq_store_qube_add(struct splq_store *s, struct splq_qube *q, struct splq_error *err);
int splq_store_qube_get(struct splq_store *s, const char *name, struct splq_qube *out,
			struct splq_error *err); /* SPLQ_E_NOTFOUND */
int splq_store_qube_remove(struct splq_store *s, const char *name, struct splq_error *err);
/* All qubes sorted by name; *out malloc'ed array of *n (clear each). */
int splq_store_qube_list(struct splq_store *s, struct splq_qube **out, int *n,
			 struct splq_error *err);
/* Those of one class only. */
int splq_store_qube_list_of(struct splq_store *s, enum splq_class klass, struct splq_qube **out,
                            int *n, struct splq_error *err);
void splq_qube_list_free(struct splq_qube *list, int n);

/* Properties.  get returns the set value or the default (*is_default
 * tells which); the value is canonical text (see splq_prop_parse).
 * Defaults that depend on the qube: label red, memory 400, maxmem 4000,
 * auto_cleanup True for DispVM.  set/reset only store; checks of class,
 * range and references are done by the caller (ops). */
int splq_store_prop_get(struct splq_store *s, const struct splq_qube *q, const char *prop,
			char **value, bool *is_default, struct splq_error *err);
int splq_store_prop_set(struct splq_store *s, const char *qube, const char *prop, const char *value,
                        struct splq_error *err);
int splq_store_prop_reset(struct splq_store *s, const char *qube, const char *prop,
			  struct splq_error *err);
/* The properties set on qube (not those at their default), by name. */
int splq_store_prop_list_set(struct splq_store *s, const char *qube, char ***names,
                             char ***values, int *n, struct splq_error *err);
/* Names of qubes whose property prop is set to value (e.g. who uses a
 * template); *out malloc'ed array of malloc'ed strings. */
int splq_store_prop_users(struct splq_store *s, const char *prop, const char *value, char ***out,
			  int *n, struct splq_error *err);

/* Tags and features: sorted lists of malloc'ed strings. */
int splq_store_tag_list(struct splq_store *s, const char *qube, char ***out, int *n,
			struct splq_error *err);
int splq_store_tag_add(struct splq_store *s, const char *qube, const char *tag,
		       struct splq_error *err);
int splq_store_tag_remove(struct splq_store *s, const char *qube, const char *tag,
			  struct splq_error *err); /* SPLQ_E_NOTFOUND */
bool splq_store_tag_has(struct splq_store *s, const char *qube, const char *tag);

int splq_store_feature_list(struct splq_store *s, const char *qube, char ***names, char ***values,
                            int *n, struct splq_error *err);
int splq_store_feature_get(struct splq_store *s, const char *qube, const char *name, char **value,
                           struct splq_error *err); /* SPLQ_E_NOTFOUND */
/* The qubes (sorted) that have feature name set to a non-empty value. */
int splq_store_feature_holders(struct splq_store *s, const char *name, char ***qubes, int *n,
                               struct splq_error *err);
int splq_store_feature_set(struct splq_store *s, const char *qube, const char *name,
			   const char *value, struct splq_error *err);
int splq_store_feature_remove(struct splq_store *s, const char *qube, const char *name,
			      struct splq_error *err); /* SPLQ_E_NOTFOUND */

/* Volume sizes in bytes, as set (at creation or by a resize).  get leaves
 * *size alone and *is_set false when none is set (the default applies). */
int splq_store_volume_get(struct splq_store *s, const char *qube, const char *volume,
                          unsigned long long *size, bool *is_set, struct splq_error *err);
int splq_store_volume_set(struct splq_store *s, const char *qube, const char *volume,
                          unsigned long long size, struct splq_error *err);

void splq_strv_free(char **v, int n);

/* Audit head: sequence number and hash of the last audit entry, kept in
 * the store so that truncating or rewriting the log's tail is caught. */
int splq_store_audit_head(struct splq_store *s, long long *seq, char hash[65],
			  struct splq_error *err);
int splq_store_audit_set_head(struct splq_store *s, long long seq, const char *hash,
			      struct splq_error *err);

/* Firewall rules of a qube, Qubes' text (formats/firewall.h), one a line:
 * get gives NULL when none are set (Qubes' default: action=accept); set
 * with NULL goes back to that. */
int splq_store_firewall_get(struct splq_store *s, const char *qube, char **rules,
                            struct splq_error *err);
int splq_store_firewall_set(struct splq_store *s, const char *qube, const char *rules,
                            struct splq_error *err);

#endif
