/* splq: errors.  A function that can fail returns int (< 0 on failure) and
 * fills a struct splq_error with one of the codes below and a message that
 * names the thing at fault.  Only main() prints. */
#ifndef SPLQ_ERROR_H
#define SPLQ_ERROR_H

#include <stdarg.h>

/* splq's own exit codes.  They sit in a range that ordinary programs rarely
 * use; `run` and `dispvm` pass their command's exit code through otherwise
 * (see docs/exit-codes.md, the one table). */
enum splq_code {
	SPLQ_OK = 0,
	SPLQ_E_USAGE = 64,	 /* bad option or argument on the command line */
	SPLQ_E_NAME = 65,	 /* a name breaks Qubes' name rule */
	SPLQ_E_NOTFOUND = 66,	 /* no such qube, template, property, tag, feature */
	SPLQ_E_EXISTS = 67,	 /* a qube of that name already exists */
	SPLQ_E_STATE = 68,	 /* wrong state: running, halted, still in use */
	SPLQ_E_VALUE = 69,	 /* a property value of the wrong type or out of range */
	SPLQ_E_INTERNAL = 70,	 /* a bug or an unexpected system error */
	SPLQ_E_LOCKED = 71,	 /* the store is locked by another process */
	SPLQ_E_CORRUPT = 72,	 /* the store is not a valid splq database */
	SPLQ_E_NOSPACE = 73,	 /* disk full or another I/O error */
	SPLQ_E_UNSUPPORTED = 74, /* the host lacks a kernel feature splq needs */
	SPLQ_E_PERM = 75,	 /* not root */
	SPLQ_E_AUDIT = 76,	 /* the audit log failed verification */
	SPLQ_E_TOOBIG = 77,	 /* a command's output passed --max-output */
	SPLQ_E_NOANSWER = 78,	 /* a qube's pid 1 did not answer in time */
	SPLQ_E_SHRINK = 79,	 /* a volume cannot be made smaller */
	SPLQ_E_POLICY = 80,	 /* the qrexec policy does not load (FILE:LINE: ...) */
	SPLQ_E_REFUSED = 81,	 /* the qrexec policy refused a call */
	SPLQ_E_TRANSFER = 82,	 /* a file copy failed on the way: an end
				  * refused the stream, or it was cut */
	SPLQ_E_VERIFY = 83,	 /* a verified copy's hashes did not agree, or a
				  * signature does not hold */
	SPLQ_E_VAULT_LOCKED = 84,/* the vault is locked */
	SPLQ_E_BADSECRET = 85,	 /* a wrong passphrase or key file */
	SPLQ_E_INTEGRITY = 86,	 /* a vault's record or index is not authentic:
				  * changed, moved, swapped or rolled back */
	SPLQ_E_TIMEOUT = 124,	 /* a dispvm --timeout expired */
	SPLQ_E_CANNOT_EXEC = 126,/* the command in the qube could not be executed */
	SPLQ_E_NOCMD = 127,	 /* the command in the qube was not found */
};

#define SPLQ_ERROR_MAX 512

struct splq_error {
	int code; /* enum splq_code */
	char msg[SPLQ_ERROR_MAX];
};

/* Fill err (if not NULL) and return -1.  The message is printf-style. */
int splq_fail(struct splq_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like splq_fail, appending ": strerror(errno_value)".  ENOSPC, EDQUOT and
 * EIO turn any code into SPLQ_E_NOSPACE: a full disk is always told as such. */
int splq_fail_errno(struct splq_error *err, int code, int errno_value, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

/* Short symbolic name of a code ("not-found", "exists", ...), for JSON. */
const char *splq_code_name(int code);

#endif
