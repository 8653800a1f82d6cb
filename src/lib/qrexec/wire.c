/* splq qrexec: the codec of a qube's qrexec socket (wire.h). */
#include "wire.h"

#include <string.h>

int splq_qx_request_encode(char *buf, const char *target, const char *service)
{
	size_t lt = target ? strlen(target) : 0, ls = service ? strlen(service) : 0;
	if (lt > SPLQ_QX_TARGET_MAX || ls == 0 || ls > SPLQ_QX_SERVICE_MAX)
		return -1;
	struct splq_qx_request rq = {.magic = SPLQ_QX_MAGIC};
	memcpy(buf, &rq, sizeof(rq));
	memcpy(buf + sizeof(rq), target ? target : "", lt + 1);
	memcpy(buf + sizeof(rq) + lt + 1, service, ls + 1);
	return (int)(sizeof(rq) + lt + 1 + ls + 1);
}

int splq_qx_request_decode(const char *buf, size_t len, const char **target,
                           const char **service)
{
	struct splq_qx_request rq;
	if (len < sizeof(rq) || len > SPLQ_QX_REQUEST_MAX)
		return -1;
	memcpy(&rq, buf, sizeof(rq));
	if (rq.magic != SPLQ_QX_MAGIC || rq.flags || rq.reserved[0] || rq.reserved[1])
		return -1;
	const char *p = buf + sizeof(rq), *end = buf + len;
	const char *t = p, *nul = memchr(p, 0, (size_t)(end - p));
	if (!nul || (size_t)(nul - t) > SPLQ_QX_TARGET_MAX)
		return -1;
	const char *s = nul + 1;
	nul = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
	/* exactly two names, nothing after them */
	if (!nul || nul == s || (size_t)(nul - s) > SPLQ_QX_SERVICE_MAX || nul + 1 != end)
		return -1;
	*target = t;
	*service = s;
	return 0;
}

static void replace_outside(char *s, const char *extra)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(extra, c)))
			*s = '_';
	}
}

void splq_qx_sanitize(char *target, char *service)
{
	replace_outside(target, "_.@:-");
	replace_outside(service, "_.+-");
}
