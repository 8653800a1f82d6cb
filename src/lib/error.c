/* splq: errors (see error.h). */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void fill(struct splq_error *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int splq_fail(struct splq_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	fill(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int splq_fail_errno(struct splq_error *err, int code, int errno_value, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	char buf[128];

	if (!err)
		return -1;
	if (errno_value == ENOSPC || errno_value == EDQUOT || errno_value == EIO)
		code = SPLQ_E_NOSPACE;
	va_start(ap, fmt);
	fill(err, code, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	/* The GNU strerror_r returns the message, maybe not in buf. */
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
	         strerror_r(errno_value, buf, sizeof(buf)));
	return -1;
}

const char *splq_code_name(int code)
{
	switch (code) {
	case SPLQ_OK:
		return "ok";
	case SPLQ_E_USAGE:
		return "usage";
	case SPLQ_E_NAME:
		return "bad-name";
	case SPLQ_E_NOTFOUND:
		return "not-found";
	case SPLQ_E_EXISTS:
		return "exists";
	case SPLQ_E_STATE:
		return "state";
	case SPLQ_E_VALUE:
		return "bad-value";
	case SPLQ_E_INTERNAL:
		return "internal";
	case SPLQ_E_LOCKED:
		return "locked";
	case SPLQ_E_CORRUPT:
		return "corrupt";
	case SPLQ_E_NOSPACE:
		return "no-space";
	case SPLQ_E_UNSUPPORTED:
		return "unsupported";
	case SPLQ_E_PERM:
		return "not-root";
	case SPLQ_E_AUDIT:
		return "audit";
	case SPLQ_E_TOOBIG:
		return "output-too-big";
	case SPLQ_E_NOANSWER:
		return "no-answer";
	case SPLQ_E_SHRINK:
		return "shrink";
	case SPLQ_E_POLICY:
		return "policy";
	case SPLQ_E_REFUSED:
		return "refused";
	case SPLQ_E_TRANSFER:
		return "transfer";
	case SPLQ_E_VERIFY:
		return "verify";
	case SPLQ_E_VAULT_LOCKED:
		return "vault-locked";
	case SPLQ_E_BADSECRET:
		return "bad-secret";
	case SPLQ_E_INTEGRITY:
		return "integrity";
	case SPLQ_E_TIMEOUT:
		return "timeout";
	case SPLQ_E_CANNOT_EXEC:
		return "cannot-exec";
	case SPLQ_E_NOCMD:
		return "no-command";
	}
	return "unknown";
}
