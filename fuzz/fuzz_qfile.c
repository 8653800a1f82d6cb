/* splq: libFuzzer target for the qfile stream: the streaming parser, fed
 * in chunks whose sizes the input's first byte picks (a hostile sender
 * splits anywhere), the result it would send, and the name rules.  Checks
 * what the parser promises: every name it hands out passed the rules, data
 * never runs past a file's length, and its CRC covers exactly the bytes it
 * took. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/qfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flag_sets[] = {0, SPLQ_QFILE_ALLOW_ALL_NAMES,
	                                     SPLQ_QFILE_CANONICAL_SYMLINKS,
	                                     SPLQ_QFILE_ALLOW_UNSAFE_SYMLINKS};
	uint8_t res[SPLQ_QFILE_RESULT_MAX];
	struct splq_qfile_parser p;
	struct splq_qfile_result rr;
	struct splq_qfile_ev ev;
	struct splq_error err;
	size_t at = 0, chunk, used;
	uint64_t left = 0;
	unsigned flags;
	int r = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] & 0x3f) + 1;
	flags = flag_sets[data[0] >> 6];
	data++;
	size--;
	splq_qfile_parser_init(&p, flags);
	while (r >= 0) {
		size_t n = chunk < size - at ? chunk : size - at;

		r = splq_qfile_next(&p, data + at, n, &used, &ev, &err);
		if (used > n)
			abort();
		at += used;
		if (r < 0)
			break;
		if (r == 0) {
			if (at == size)
				break;
			continue;
		}
		switch (ev.kind) {
		case SPLQ_QFILE_FILE:
			left = ev.hdr->filelen;
			/* fall through */
		case SPLQ_QFILE_DIR:
			if (splq_qfile_check_name(ev.name, flags, &err) < 0)
				abort();
			break;
		case SPLQ_QFILE_DATA:
			if (ev.len > left || ev.len == 0)
				abort();
			left -= ev.len;
			break;
		case SPLQ_QFILE_FILE_END:
			if (left)
				abort();
			break;
		case SPLQ_QFILE_SYMLINK:
			if (!(flags & SPLQ_QFILE_ALLOW_UNSAFE_SYMLINKS) &&
			    splq_qfile_check_symlink(ev.name, ev.target, flags, &err) < 0)
				abort();
			break;
		}
		if (ev.kind == SPLQ_QFILE_END)
			break;
	}
	if (r >= 0 && ev.kind != SPLQ_QFILE_END)
		splq_qfile_parser_eof(&p, &err);
	if (p.crc != splq_crc32(0, data, at))
		abort();
	size_t n = splq_qfile_parser_result(&p, res);
	if (splq_qfile_result_decode(res, n, &rr, &err) != 0 || rr.crc32 != p.crc)
		abort();
	splq_qfile_parser_free(&p);
	return 0;
}
