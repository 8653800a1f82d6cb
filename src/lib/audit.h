/* splq: the audit log, $SPLQ_HOME/audit.log: append-only, one JSON object a
 * line, each line carrying the SHA-256 of the line before it:
 *
 *   {"seq":7,"time":"2026-11-28T10:00:00.123Z","actor":"uid:0","op":"create",
 *    "target":"work","args":"--template t --label blue","result":"ok",
 *    "prev":"<64 hex>"}
 *
 * The first line's prev is 64 zeros.  The store keeps the seq and hash of
 * the last line (the head), so a changed, removed, inserted or reordered
 * line, and a cut-off tail, all fail verification. */
#ifndef SPLQ_AUDIT_H
#define SPLQ_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

struct splq_audit_entry {
	long long seq;
	char time[32];	  /* RFC 3339, UTC, milliseconds */
	char *actor;	  /* "uid:N" for a host user, "qube:NAME" for a qube */
	char *op;	  /* "create", "start", "run", "dispvm", "prefs", ... */
	char *target;	  /* the qube (or "" when none) */
	char *args;	  /* a short summary of the arguments */
	char *result;	  /* "ok", or "error: <message>", or "exit N" ("exit
			   * 137 (oom)": its qube's memory limit killed it),
			   * or "started" (a disposable's first entry, before
			   * its command runs; its last says how it ended) */
	char prev[65];	  /* hex SHA-256 of the previous line */
};
void splq_audit_entry_clear(struct splq_audit_entry *e);

/* Append one entry (seq, time and prev are filled in here) inside a store
 * transaction that also moves the head, so appenders are serialised by the
 * store's lock.  args and result may be NULL. */
int splq_audit_append(struct splq_store *s, const char *home, const char *actor, const char *op,
		      const char *target, const char *args, const char *result,
		      struct splq_error *err);

/* "uid:<getuid()>" */
const char *splq_audit_host_actor(char buf[32]);

/* Pure helpers over buffers (unit-tested, fuzzed). */
/* Format e as one line (no newline); malloc'ed. */
char *splq_audit_format(const struct splq_audit_entry *e);
/* Parse one line (without its newline). */
int splq_audit_parse(const char *line, size_t len, struct splq_audit_entry *out,
		     struct splq_error *err);
/* Hex SHA-256 of a buffer. */
void splq_sha256_hex(const void *data, size_t len, char out[65]);

/* Verify a whole log held in memory against the head (head_seq 0 and an
 * empty log are fine).  On failure: SPLQ_E_AUDIT, *bad_seq = the position
 * (1-based line number) of the first bad entry, and the message says what
 * is wrong with it. */
int splq_audit_verify_buffer(const char *log, size_t len, long long head_seq,
			     const char *head_hash, long long *bad_line, struct splq_error *err);
/* Verify $home/audit.log against the store's head. */
int splq_audit_verify(struct splq_store *s, const char *home, long long *entries,
		      long long *bad_line, struct splq_error *err);

/* Read entries, filtered: qube (NULL = all), since (unix ms, 0 = all).
 * Entries oldest first; *out malloc'ed array of *n (clear each). */
int splq_audit_read(const char *home, const char *qube, long long since_ms,
		    struct splq_audit_entry **out, int *n, struct splq_error *err);
/* Parse "--since" values: RFC 3339 date or date-time ("2026-11-28",
 * "2026-11-28T10:00:00Z"), unix seconds "@1764324000", or an age "30s",
 * "15m", "2h", "7d" (before now).  Result in unix ms. */
int splq_audit_parse_since(const char *s, long long now_ms, long long *out_ms,
			   struct splq_error *err);

#endif
