/* splq command line: pure text helpers (see cli.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[3] = {'\xef', '\xbf', '\xbd'};

/* For a lead byte: how many continuation bytes follow and the range the
 * first of them must be in (which excludes overlong forms, surrogates and
 * code points past U+10FFFF).  need 0: not a lead byte. */
static int lead_info(unsigned char b, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf)
		return 1;
	if (b == 0xe0) {
		*lo = 0xa0;
		return 2;
	}
	if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
		return 2;
	if (b == 0xed) {
		*hi = 0x9f;
		return 2;
	}
	if (b == 0xf0) {
		*lo = 0x90;
		return 3;
	}
	if (b >= 0xf1 && b <= 0xf3)
		return 3;
	if (b == 0xf4) {
		*hi = 0x8f;
		return 3;
	}
	return 0;
}

char *cli_utf8_sanitize(const char *buf, size_t len, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)buf;
	/* At worst every byte becomes a three-byte replacement. */
	char *out = splq_xmalloc(len * 3 + 1);
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char lo, hi;
		int need;
		size_t j;

		if (s[i] < 0x80) {
			out[o++] = (char)s[i++];
			continue;
		}
		need = lead_info(s[i], &lo, &hi);
		j = i + 1;
		for (int k = 0; k < need && j < len; k++, j++) {
			unsigned char l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xbf;

			if (s[j] < l || s[j] > h)
				break;
		}
		if (need > 0 && j - i == (size_t)need + 1) {
			memcpy(out + o, s + i, j - i);
			o += j - i;
		} else {
			/* Not a lead byte, or a sequence cut short: its
			 * well-formed beginning becomes one replacement. */
			memcpy(out + o, replacement, sizeof(replacement));
			o += sizeof(replacement);
		}
		i = j;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

char *cli_one_line(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}
