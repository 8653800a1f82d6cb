/* splq: libFuzzer target for the manifest of a verified copy (formats/
 * qfile.h), what a receiver sends the host: the decoder fed as the host's
 * relay feeds it, a piece at a time (sizes from the input's first byte),
 * keeping what it did not take, with a cap on the records from the
 * second.  Checks what the decoder promises: it never takes more than it
 * was given, nor more records than the cap; split anywhere it decodes
 * the same as in one piece; and what it took, encoded again, is the very
 * bytes it took. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/qfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const struct splq_qfile_hashes *a, const struct splq_qfile_hashes *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) || a->v[i].size != b->v[i].size ||
		    memcmp(a->v[i].sha256, b->v[i].sha256, 32))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct splq_qfile_hashes whole = {0}, split = {0};
	struct splq_error err;
	size_t chunk, max, used, at = 0, have = 0;
	int r1, r2 = 0;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] + 1;
	max = data[1] % 16;
	data += 2;
	size -= 2;

	/* in one piece */
	r1 = splq_qfile_manifest_next(data, size, max, &whole, &used, &err);
	if (used > size || whole.n > max)
		abort();
	size_t whole_used = used;
	if (r1 == 1) {
		/* what it took is exactly the records and the end */
		size_t len;
		uint8_t *again = splq_qfile_manifest_encode(&whole, &len);

		if (len != used || memcmp(again, data, len))
			abort();
		free(again);
	}

	/* a piece at a time: [at, at + have) was given and not taken */
	while (r2 == 0 && at + have < size) {
		have += chunk < size - at - have ? chunk : size - at - have;
		r2 = splq_qfile_manifest_next(data + at, have, max, &split, &used, &err);
		if (r2 < 0)
			break;
		if (used > have || split.n > max)
			abort();
		at += used;
		have -= used;
	}
	/* the same answer, the same records, the end at the same place */
	if (r1 != r2)
		abort();
	if (r1 >= 0 && at != whole_used)
		abort();
	if (r1 >= 0)
		same_or_abort(&whole, &split);
	splq_qfile_hashes_free(&whole);
	splq_qfile_hashes_free(&split);
	return 0;
}
