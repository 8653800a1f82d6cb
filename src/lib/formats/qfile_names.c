/* splq: the qfile receiver's rules for names and symlink targets (see
 * qfile.h), as Qubes' qfile-unpacker applies them by default. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/qfile.h"

/* The code points above U+007F that Qubes' receiver lets into a name: its
 * allowlist of characters safe to display (letters, digits, punctuation
 * and math and currency symbols of the Latin, Greek, Cyrillic, Han,
 * Hangul, Kana, Bopomofo, Braille, Common and Inherited scripts, written
 * left to right or neutral; no marks, spaces, format or private-use
 * characters), as of qubes-linux-utils 4.3.  Sorted, for a binary
 * search. */
static const uint32_t allowed[][2] = {
    {0x000a1, 0x000a5}, {0x000a7, 0x000a7}, {0x000aa, 0x000ac}, {0x000b1, 0x000b3},
    {0x000b5, 0x000b7}, {0x000b9, 0x002c1}, {0x002c6, 0x002d1}, {0x002e0, 0x002e4},
    {0x002ec, 0x002ec}, {0x002ee, 0x002ee}, {0x00370, 0x00374}, {0x00376, 0x00377},
    {0x0037a, 0x0037f}, {0x00386, 0x0038a}, {0x0038c, 0x0038c}, {0x0038e, 0x003a1},
    {0x003a3, 0x003e1}, {0x003f0, 0x00481}, {0x0048a, 0x0052f}, {0x0060c, 0x0060c},
    {0x00964, 0x00965}, {0x00e3f, 0x00e3f}, {0x010fb, 0x010fb}, {0x01100, 0x011ff},
    {0x016eb, 0x016ed}, {0x01735, 0x01736}, {0x01802, 0x01803}, {0x01805, 0x01805},
    {0x01c80, 0x01c88}, {0x01cd3, 0x01cd3}, {0x01ce9, 0x01cec}, {0x01cee, 0x01cf3},
    {0x01cf5, 0x01cf6}, {0x01cfa, 0x01cfa}, {0x01d00, 0x01dbf}, {0x01e00, 0x01f15},
    {0x01f18, 0x01f1d}, {0x01f20, 0x01f45}, {0x01f48, 0x01f4d}, {0x01f50, 0x01f57},
    {0x01f59, 0x01f59}, {0x01f5b, 0x01f5b}, {0x01f5d, 0x01f5d}, {0x01f5f, 0x01f7d},
    {0x01f80, 0x01fb4}, {0x01fb6, 0x01fbc}, {0x01fbe, 0x01fbe}, {0x01fc2, 0x01fc4},
    {0x01fc6, 0x01fcc}, {0x01fd0, 0x01fd3}, {0x01fd6, 0x01fdb}, {0x01fe0, 0x01fec},
    {0x01ff2, 0x01ff4}, {0x01ff6, 0x01ffc}, {0x02010, 0x02027}, {0x02030, 0x0205e},
    {0x02070, 0x02071}, {0x02074, 0x0208e}, {0x02090, 0x0209c}, {0x020a0, 0x020c0},
    {0x02102, 0x02102}, {0x02107, 0x02107}, {0x0210a, 0x02113}, {0x02115, 0x02115},
    {0x02118, 0x0211d}, {0x02124, 0x02124}, {0x02126, 0x02126}, {0x02128, 0x02128},
    {0x0212a, 0x0212d}, {0x0212f, 0x02139}, {0x0213c, 0x02149}, {0x0214b, 0x0214b},
    {0x0214e, 0x0214e}, {0x02150, 0x02189}, {0x02190, 0x02194}, {0x0219a, 0x0219b},
    {0x021a0, 0x021a0}, {0x021a3, 0x021a3}, {0x021a6, 0x021a6}, {0x021ae, 0x021ae},
    {0x021ce, 0x021cf}, {0x021d2, 0x021d2}, {0x021d4, 0x021d4}, {0x021f4, 0x022ff},
    {0x02308, 0x0230b}, {0x02320, 0x02321}, {0x02329, 0x0232a}, {0x0237c, 0x0237c},
    {0x0239b, 0x023b3}, {0x023dc, 0x023e1}, {0x02460, 0x0249b}, {0x024ea, 0x024ff},
    {0x025b7, 0x025b7}, {0x025c1, 0x025c1}, {0x025f8, 0x025ff}, {0x0266f, 0x0266f},
    {0x02768, 0x02793}, {0x027c0, 0x027ff}, {0x02900, 0x02aff}, {0x02b30, 0x02b44},
    {0x02b47, 0x02b4c}, {0x02c60, 0x02c7f}, {0x02e00, 0x02e4f}, {0x02e52, 0x02e5d},
    {0x03001, 0x03003}, {0x03005, 0x03011}, {0x03014, 0x0301f}, {0x03021, 0x03029},
    {0x03030, 0x03035}, {0x03038, 0x0303d}, {0x03041, 0x03096}, {0x0309d, 0x030ff},
    {0x03105, 0x0312f}, {0x03131, 0x0318e}, {0x03192, 0x03195}, {0x031a0, 0x031bf},
    {0x031f0, 0x031ff}, {0x03220, 0x03229}, {0x03248, 0x0324f}, {0x03251, 0x0325f},
    {0x03280, 0x03289}, {0x032b1, 0x032bf}, {0x03400, 0x04dbf}, {0x04e00, 0x09fff},
    {0x0a640, 0x0a66e}, {0x0a673, 0x0a673}, {0x0a67e, 0x0a69d}, {0x0a717, 0x0a71f},
    {0x0a722, 0x0a788}, {0x0a78b, 0x0a7ca}, {0x0a7d0, 0x0a7d1}, {0x0a7d3, 0x0a7d3},
    {0x0a7d5, 0x0a7d9}, {0x0a7f2, 0x0a7ff}, {0x0a830, 0x0a835}, {0x0a838, 0x0a838},
    {0x0a92e, 0x0a92e}, {0x0a960, 0x0a97c}, {0x0a9cf, 0x0a9cf}, {0x0ab30, 0x0ab5a},
    {0x0ab5c, 0x0ab69}, {0x0ac00, 0x0d7a3}, {0x0d7b0, 0x0d7c6}, {0x0d7cb, 0x0d7fb},
    {0x0f900, 0x0fa6d}, {0x0fa70, 0x0fad9}, {0x0fb00, 0x0fb06}, {0x0fd3e, 0x0fd3f},
    {0x0fe10, 0x0fe19}, {0x0fe30, 0x0fe52}, {0x0fe54, 0x0fe66}, {0x0fe68, 0x0fe6b},
    {0x0ff01, 0x0ff3d}, {0x0ff3f, 0x0ff3f}, {0x0ff41, 0x0ffbe}, {0x0ffc2, 0x0ffc7},
    {0x0ffca, 0x0ffcf}, {0x0ffd2, 0x0ffd7}, {0x0ffda, 0x0ffdc}, {0x0ffe0, 0x0ffe2},
    {0x0ffe5, 0x0ffe6}, {0x0ffe9, 0x0ffec}, {0x10100, 0x10102}, {0x10107, 0x10133},
    {0x10140, 0x10178}, {0x1018a, 0x1018b}, {0x102e1, 0x102fb}, {0x10780, 0x10785},
    {0x10787, 0x107b0}, {0x107b2, 0x107ba}, {0x16fe2, 0x16fe3}, {0x1aff0, 0x1aff3},
    {0x1aff5, 0x1affb}, {0x1affd, 0x1affe}, {0x1b000, 0x1b122}, {0x1b132, 0x1b132},
    {0x1b150, 0x1b152}, {0x1b155, 0x1b155}, {0x1b164, 0x1b167}, {0x1d2c0, 0x1d2d3},
    {0x1d2e0, 0x1d2f3}, {0x1d360, 0x1d378}, {0x1d400, 0x1d454}, {0x1d456, 0x1d49c},
    {0x1d49e, 0x1d49f}, {0x1d4a2, 0x1d4a2}, {0x1d4a5, 0x1d4a6}, {0x1d4a9, 0x1d4ac},
    {0x1d4ae, 0x1d4b9}, {0x1d4bb, 0x1d4bb}, {0x1d4bd, 0x1d4c3}, {0x1d4c5, 0x1d505},
    {0x1d507, 0x1d50a}, {0x1d50d, 0x1d514}, {0x1d516, 0x1d51c}, {0x1d51e, 0x1d539},
    {0x1d53b, 0x1d53e}, {0x1d540, 0x1d544}, {0x1d546, 0x1d546}, {0x1d54a, 0x1d550},
    {0x1d552, 0x1d6a5}, {0x1d6a8, 0x1d7cb}, {0x1d7ce, 0x1d7ff}, {0x1df00, 0x1df1e},
    {0x1df25, 0x1df2a}, {0x1e030, 0x1e06d}, {0x1f100, 0x1f10c}, {0x1fbf0, 0x1fbf9},
    {0x20000, 0x2a6df}, {0x2a700, 0x2b739}, {0x2b740, 0x2b81d}, {0x2b820, 0x2cea1},
    {0x2ceb0, 0x2ebe0}, {0x2f800, 0x2fa1d}, {0x30000, 0x3134a}, {0x31350, 0x323af},
};

bool splq_qfile_code_point_ok(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(allowed) / sizeof(allowed[0]);

	if (cp >= 0x20 && cp <= 0x7e)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < allowed[mid][0])
			hi = mid;
		else if (cp > allowed[mid][1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The length of the UTF-8 character at s if it is one Qubes allows, else
 * 0.  Lead bytes C2..F4 only; after E0 the next byte is A0..BF, after F0
 * 90..BF (no overlong forms); surrogates and code points past U+10FFFF
 * decode here but are not in the allowlist.  A NUL ends the walk (it is
 * no continuation byte). */
static size_t utf8_char(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if (s[0] == 0xe0 && s[1] < 0xa0)
			return 0;
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if (s[0] == 0xf0 && s[1] < 0x90)
			return 0;
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	return splq_qfile_code_point_ok(cp) ? n : 0;
}

enum why { W_EMPTY = 1, W_ABSOLUTE, W_EMPTY_PART, W_DOT, W_DOTDOT, W_CHAR, W_SLASH };

struct rule {
	size_t dotdot; /* leading ".." components allowed */
	bool loose;    /* "." and repeated '/' are passed over, "" is fine */
	bool slash;    /* a trailing '/' is fine */
	bool any_byte; /* --allow-all-names */
	enum why why;  /* out */
	size_t at;     /* out: the offending byte */
};

/* Qubes' path rule: the number of components other than ".." (> 0 for a
 * valid name), or -errno and r->why. */
static long path_rule(const char *s, struct rule *r)
{
	const unsigned char *u = (const unsigned char *)s;
	long parts = 0;
	size_t i = 0;

	if (!u[0]) {
		r->why = W_EMPTY;
		return r->loose ? 0 : -ENOLINK;
	}
	if (u[0] == '/') {
		r->why = W_ABSOLUTE;
		return -ENOLINK;
	}
	while (u[i]) {
		if (i == 0 || u[i - 1] == '/') {
			bool dot = u[i] == '.' && (!u[i + 1] || u[i + 1] == '/');
			bool dotdot =
			    u[i] == '.' && u[i + 1] == '.' && (!u[i + 2] || u[i + 2] == '/');

			if ((u[i] == '/' || dot) && r->loose) {
				i++;
				continue;
			}
			if (u[i] == '/' || dot) {
				r->why = dot ? W_DOT : W_EMPTY_PART;
				r->at = i;
				return -EILSEQ;
			}
			if (dotdot) {
				if (r->dotdot == 0) {
					r->why = W_DOTDOT;
					r->at = i;
					return -ENOLINK;
				}
				r->dotdot--;
				i += 2;
				continue;
			}
			r->dotdot = 0;
			parts++;
		}
		if ((u[i] >= 0x20 && u[i] <= 0x7e) || r->any_byte) {
			i++;
		} else {
			size_t n = utf8_char(u + i);

			if (!n) {
				r->why = W_CHAR;
				r->at = i;
				return -EILSEQ;
			}
			i += n;
		}
	}
	if (!r->slash && u[i - 1] == '/') {
		r->why = W_SLASH;
		return -EILSEQ;
	}
	return parts;
}

static const char *why_text(const struct rule *r, const char *s, char *buf, size_t len)
{
	switch (r->why) {
	case W_EMPTY:
		return "is empty";
	case W_ABSOLUTE:
		return "is an absolute path";
	case W_EMPTY_PART:
		return "has an empty component";
	case W_DOT:
		return "has a '.' component";
	case W_DOTDOT:
		return "has a '..' component";
	case W_SLASH:
		return "ends in '/'";
	case W_CHAR:
		snprintf(buf, len,
		         "has a character Qubes does not allow in names (byte 0x%02x at %zu)",
		         (unsigned char)s[r->at], r->at);
		return buf;
	}
	return "is not valid";
}

int splq_qfile_check_name(const char *name, unsigned flags, struct splq_error *err)
{
	struct rule r = {.any_byte = flags & SPLQ_QFILE_ALLOW_ALL_NAMES};
	char q[200], b[96];

	if (path_rule(name, &r) > 0)
		return 0;
	splq_fail(err, SPLQ_E_CORRUPT, "qfile stream: name '%s' %s",
	          splq_qfile_quote(name, q, sizeof(q)), why_text(&r, name, b, sizeof(b)));
	return -EILSEQ;
}

int splq_qfile_check_symlink(const char *name, const char *target, unsigned flags,
                             struct splq_error *err)
{
	struct rule r = {.any_byte = flags & SPLQ_QFILE_ALLOW_ALL_NAMES};
	char q[200], t[200], b[96];
	long depth, res;

	if (splq_qfile_check_name(name, flags, err) < 0)
		return -EILSEQ;
	depth = path_rule(name, &r);
	if (flags & SPLQ_QFILE_ALLOW_UNSAFE_SYMLINKS)
		return 0;
	splq_qfile_quote(name, q, sizeof(q));
	if (depth < 2) {
		splq_fail(err, SPLQ_E_CORRUPT,
		          "qfile stream: symlink '%s' is at the top of the copy (Qubes accepts "
		          "symlinks only inside a copied directory)",
		          q);
		return -ENOLINK;
	}
	r = (struct rule){.dotdot = (size_t)depth - 2,
	                  .loose = !(flags & SPLQ_QFILE_CANONICAL_SYMLINKS),
	                  .slash = true,
	                  .any_byte = flags & SPLQ_QFILE_ALLOW_ALL_NAMES};
	res = path_rule(target, &r);
	if (res >= 0)
		return 0;
	splq_qfile_quote(target, t, sizeof(t));
	if (r.why == W_DOTDOT || r.why == W_ABSOLUTE)
		splq_fail(err, SPLQ_E_CORRUPT,
		          "qfile stream: symlink '%s' points out of the copied directory "
		          "(target '%s' %s)",
		          q, t, r.why == W_DOTDOT ? "climbs above it" : "is an absolute path");
	else
		splq_fail(err, SPLQ_E_CORRUPT, "qfile stream: symlink '%s': target '%s' %s", q, t,
		          why_text(&r, target, b, sizeof(b)));
	return (int)res;
}

const char *splq_qfile_quote(const char *s, char *out, size_t outsz)
{
	size_t len = strlen(s), o = 0, keep = (outsz - 16) / 8;

	for (size_t i = 0; i < len && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (len > 2 * keep && i == keep) {
			o += (size_t)snprintf(out + o, outsz - o, "...");
			i = len - keep - 1;
			continue;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}
