/* splq: the manifest of a verified copy (see qfile.h): splq's own list of
 * a receiver's files and their SHA-256, after its result. */
#include <stdlib.h>
#include <string.h>

#include "formats/qfile.h"
#include "util.h"

uint8_t *splq_qfile_manifest_encode(const struct splq_qfile_hashes *h, size_t *len)
{
	size_t n = 4;

	for (size_t i = 0; i < h->n; i++)
		n += SPLQ_QFILE_MANIFEST_REC + strlen(h->v[i].name);
	uint8_t *out = splq_xmalloc(n), *p = out;
	for (size_t i = 0; i < h->n; i++) {
		uint32_t namelen = (uint32_t)strlen(h->v[i].name);

		memcpy(p, &namelen, 4);
		memcpy(p + 4, &h->v[i].size, 8);
		memcpy(p + 12, h->v[i].sha256, 32);
		memcpy(p + SPLQ_QFILE_MANIFEST_REC, h->v[i].name, namelen);
		p += SPLQ_QFILE_MANIFEST_REC + namelen;
	}
	memset(p, 0, 4);
	*len = n;
	return out;
}

int splq_qfile_manifest_next(const uint8_t *buf, size_t len, size_t max,
                             struct splq_qfile_hashes *out, size_t *used, struct splq_error *err)
{
	size_t off = 0;
	char name[SPLQ_QFILE_MAX_PATH];

	for (;;) {
		uint32_t namelen;
		uint64_t size;

		*used = off;
		if (len - off < 4)
			return 0;
		memcpy(&namelen, buf + off, 4);
		if (namelen == 0) {
			*used = off + 4;
			return 1;
		}
		if (namelen > SPLQ_QFILE_MAX_NAMELEN)
			return splq_fail(err, SPLQ_E_TRANSFER,
			                 "the manifest names a file of %u bytes", namelen);
		if (out->n >= max)
			return splq_fail(err, SPLQ_E_TRANSFER,
			                 "the manifest lists more files than were sent (%zu)", max);
		if (len - off < SPLQ_QFILE_MANIFEST_REC + namelen)
			return 0;
		memcpy(name, buf + off + SPLQ_QFILE_MANIFEST_REC, namelen);
		name[namelen] = 0;
		if (memchr(name, 0, namelen))
			return splq_fail(err, SPLQ_E_TRANSFER,
			                 "the manifest has a NUL inside a name");
		memcpy(&size, buf + off + 4, 8);
		splq_qfile_hashes_add(out, name, size, buf + off + 12);
		off += SPLQ_QFILE_MANIFEST_REC + namelen;
	}
}
