/* splq native: a qube's log, $SPLQ_HOME/logs/<name>.log (as Qubes OS keeps
 * /var/log/qubes/guest-<name>.log): what its --no-wait commands wrote to
 * stdout and stderr, and its pid 1's own messages (splq-init: ...).
 *
 * Only the host writes it.  Pid 1 gets the write ends of two pipes at its
 * birth (start.c): its stdout, which it hands to --no-wait commands as
 * their stdout and stderr, and its stderr, for its own messages (written
 * without blocking: a message that finds the pipe full is dropped).  The
 * qube's supervisor, outside the qube for the qube's whole life, reads
 * the other ends and appends the bytes to the file (supervise.h); nothing
 * of the qube ever names or opens a host path, and the host takes nothing
 * from the qube but bytes.
 *
 * Bounded: a file grows to SPLQ_QUBELOG_MAX bytes at most; the write that
 * would pass it first renames it to <name>.log.1 (replacing the one
 * before) and starts a new one, so a qube keeps at most twice
 * SPLQ_QUBELOG_MAX bytes of log on the host's disk however much it
 * writes.  The file is made at the first byte, 0600 in a 0700 folder; it
 * survives the qube's stop (a qube's log spans its starts) and goes when
 * the qube is removed (a disposable's with it). */
#ifndef SPLQ_NATIVE_QUBELOG_H
#define SPLQ_NATIVE_QUBELOG_H

#include <stdbool.h>
#include <stddef.h>

#include "../error.h"
#include "../model.h"

#define SPLQ_QUBELOG_MAX (1LL << 20) /* bytes per file; one rotated file kept */
#define SPLQ_QUBELOG_DIR "logs"      /* under SPLQ_HOME */

/* The current and the rotated file's names in the logs folder. */
struct splq_qubelog_names {
	char cur[SPLQ_NAME_MAX + 8];  /* "<name>.log" */
	char prev[SPLQ_NAME_MAX + 8]; /* "<name>.log.1" */
};
void splq_qubelog_names(const char *name, struct splq_qubelog_names *n);

/* A descriptor (O_PATH) of $home/logs, made 0700 when missing. */
int splq_qubelog_dir(const char *home, struct splq_error *err);

/* The writer's side: appends to the current file, rotating at max. */
struct splq_qubelog {
	int dir;        /* the logs folder (not owned) */
	int fd;         /* the current file, -1 until the first byte */
	long long size; /* its size */
	long long max;  /* SPLQ_QUBELOG_MAX (smaller in tests) */
	struct splq_qubelog_names names;
};
void splq_qubelog_init(struct splq_qubelog *l, int dir, const char *name, long long max);
/* Append len bytes; errors (a full disk) drop them: the qube is never
 * held up by its log. */
void splq_qubelog_write(struct splq_qubelog *l, const char *buf, size_t len);
void splq_qubelog_close(struct splq_qubelog *l);

/* Pure: must a file of size bytes be rotated before len more are written
 * to it, to stay within max?  Never for an empty file (a write larger
 * than max is cut to max by splq_qubelog_write). */
bool splq_qubelog_must_rotate(long long size, size_t len, long long max);

/* Remove a qube's log files (a missing one is fine). */
int splq_qubelog_remove(const char *home, const char *name, struct splq_error *err);

#endif
