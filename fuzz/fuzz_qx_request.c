/* splq: libFuzzer target for a qube's qrexec request (qrexec/wire.c), the
 * first bytes the host reads from a qube.  Checks what the decoder
 * promises: a request it takes has both names inside the input, each
 * NUL-terminated, within their limits, the service not empty, and encodes
 * back to the very same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qrexec/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char again[SPLQ_QX_REQUEST_MAX];
	const char *buf = (const char *)data, *t, *s;
	size_t lt, ls;
	int n;

	if (splq_qx_request_decode(buf, size, &t, &s) < 0)
		return 0;
	if (t < buf || t >= buf + size || s <= t || s >= buf + size)
		abort();
	lt = strnlen(t, (size_t)(buf + size - t));
	ls = strnlen(s, (size_t)(buf + size - s));
	if (t + lt >= buf + size || s + ls >= buf + size || lt > SPLQ_QX_TARGET_MAX || ls == 0 ||
	    ls > SPLQ_QX_SERVICE_MAX)
		abort();
	n = splq_qx_request_encode(again, t, s);
	if (n < 0 || (size_t)n != size || memcmp(again, buf, size) != 0)
		abort();
	return 0;
}
