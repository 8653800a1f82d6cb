/* splq: minisign's public keys and signatures (see minisign.h). */
#include "formats/minisign.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define UNTRUSTED "untrusted comment: "
#define TRUSTED   "trusted comment: "
#define KEY_BIN   (2 + SPLQ_MINISIGN_KEYNUM + SPLQ_ED25519_PUBLIC) /* 42 */
#define SIG_BIN   (2 + SPLQ_MINISIGN_KEYNUM + SPLQ_ED25519_SIG)    /* 74 */
/* minisign reads a signature's first line, its newline and a NUL with it,
 * into 1024 bytes: the longest untrusted comment it takes. */
#define UNTRUSTED_SIGN_MAX (1024 - 2 - (int)(sizeof(UNTRUSTED) - 1)) /* 1003 */

/* The lines of a file, one after the other. */
struct lines {
	const char *buf;
	size_t len, off;
	unsigned no; /* of the line last taken, from 1 */
};

/* The next line (without its "\n" or "\r\n") into *line and *n; false at
 * the end of the text.  The last line need not end in a newline. */
static bool next_line(struct lines *l, const char **line, size_t *n)
{
	const char *nl;
	size_t k;

	if (l->off >= l->len)
		return false;
	*line = l->buf + l->off;
	nl = memchr(*line, '\n', l->len - l->off);
	k = nl ? (size_t)(nl - *line) : l->len - l->off;
	l->off += nl ? k + 1 : k;
	if (k && (*line)[k - 1] == '\r')
		k--;
	*n = k;
	l->no++;
	return true;
}

/* The next line, that must be there. */
static int need_line(struct lines *l, const char *what, const char **line, size_t *n,
                     struct splq_error *err)
{
	if (!next_line(l, line, n))
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: missing", what, l->no + 1);
	return 0;
}

/* A comment line: prefix, then at most SPLQ_MINISIGN_COMMENT_MAX bytes of
 * a single line (no NUL, no carriage return), copied into out if not
 * NULL. */
static int comment(const char *what, unsigned no, const char *line, size_t n, const char *prefix,
                   char out[SPLQ_MINISIGN_COMMENT_MAX + 1], struct splq_error *err)
{
	size_t p = strlen(prefix);

	if (n < p || memcmp(line, prefix, p) != 0)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: does not start with \"%s\"", what,
		                 no, prefix);
	line += p;
	n -= p;
	if (n > SPLQ_MINISIGN_COMMENT_MAX)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: comment longer than %d bytes",
		                 what, no, SPLQ_MINISIGN_COMMENT_MAX);
	if (memchr(line, '\0', n) || memchr(line, '\r', n))
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: comment holds a NUL or a CR",
		                 what, no);
	if (out) {
		memcpy(out, line, n);
		out[n] = 0;
	}
	return 0;
}

/* A base64 line of exactly want bytes (at most SIG_BIN) into out. */
static int b64_line(const char *what, unsigned no, const char *line, size_t n, uint8_t *out,
                    size_t want, struct splq_error *err)
{
	uint8_t bin[SIG_BIN + 3];
	int k;

	if (n > (sizeof(bin) + 2) / 3 * 4)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: %zu characters, not %zu", what,
		                 no, n, (want + 2) / 3 * 4);
	k = splq_base64_decode(line, n, bin, sizeof(bin));
	if (k < 0)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: not base64", what, no);
	if ((size_t)k != want)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: %d bytes, not %zu", what, no, k,
		                 want);
	memcpy(out, bin, want);
	return 0;
}

/* Nothing may follow the last line. */
static int at_end(struct lines *l, const char *what, struct splq_error *err)
{
	const char *line;
	size_t n;

	if (next_line(l, &line, &n))
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: more after the last line", what,
		                 l->no);
	return 0;
}

void splq_minisign_keyid(const uint8_t keynum[SPLQ_MINISIGN_KEYNUM], char out[17])
{
	uint64_t v = 0;

	for (int i = SPLQ_MINISIGN_KEYNUM - 1; i >= 0; i--)
		v = v << 8 | keynum[i];
	snprintf(out, 17, "%016" PRIX64, v);
}

int splq_minisign_key_parse(const char *buf, size_t len, struct splq_minisign_key *k,
                            struct splq_error *err)
{
	static const char what[] = "public key";
	struct lines l = {buf, len, 0, 0};
	uint8_t bin[KEY_BIN];
	const char *line;
	size_t n;

	if (need_line(&l, what, &line, &n, err) < 0)
		return -1;
	/* a key file's first line is its comment; a key alone is its line */
	if (n >= strlen(UNTRUSTED) && memcmp(line, UNTRUSTED, strlen(UNTRUSTED)) == 0) {
		if (comment(what, l.no, line, n, UNTRUSTED, NULL, err) < 0 ||
		    need_line(&l, what, &line, &n, err) < 0)
			return -1;
	} else if (l.off < len) {
		return comment(what, l.no, line, n, UNTRUSTED, NULL, err);
	}
	if (b64_line(what, l.no, line, n, bin, sizeof(bin), err) < 0)
		return -1;
	if (memcmp(bin, "Ed", 2) != 0)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: not an Ed25519 key", what, l.no);
	if (at_end(&l, what, err) < 0)
		return -1;
	memcpy(k->keynum, bin + 2, SPLQ_MINISIGN_KEYNUM);
	memcpy(k->pub, bin + 2 + SPLQ_MINISIGN_KEYNUM, SPLQ_ED25519_PUBLIC);
	return 0;
}

char *splq_minisign_key_format(const struct splq_minisign_key *k)
{
	uint8_t bin[KEY_BIN];
	cleanup_free char *b64 = NULL;
	char id[17];

	memcpy(bin, "Ed", 2);
	memcpy(bin + 2, k->keynum, SPLQ_MINISIGN_KEYNUM);
	memcpy(bin + 2 + SPLQ_MINISIGN_KEYNUM, k->pub, SPLQ_ED25519_PUBLIC);
	b64 = splq_base64_encode(bin, sizeof(bin));
	splq_minisign_keyid(k->keynum, id);
	return splq_strdup_printf(UNTRUSTED "minisign public key %s\n%s\n", id, b64);
}

int splq_minisign_sig_parse(const char *buf, size_t len, struct splq_minisign_sig *s,
                            struct splq_error *err)
{
	static const char what[] = "signature";
	struct lines l = {buf, len, 0, 0};
	uint8_t bin[SIG_BIN];
	const char *line;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (need_line(&l, what, &line, &n, err) < 0 ||
	    comment(what, l.no, line, n, UNTRUSTED, s->untrusted, err) < 0 ||
	    need_line(&l, what, &line, &n, err) < 0 ||
	    b64_line(what, l.no, line, n, bin, sizeof(bin), err) < 0)
		return -1;
	if (memcmp(bin, "ED", 2) == 0)
		s->prehashed = true;
	else if (memcmp(bin, "Ed", 2) != 0)
		return splq_fail(err, SPLQ_E_VALUE, "%s: line %u: not an Ed25519 signature", what,
		                 l.no);
	memcpy(s->keynum, bin + 2, SPLQ_MINISIGN_KEYNUM);
	memcpy(s->sig, bin + 2 + SPLQ_MINISIGN_KEYNUM, SPLQ_ED25519_SIG);
	if (need_line(&l, what, &line, &n, err) < 0 ||
	    comment(what, l.no, line, n, TRUSTED, s->trusted, err) < 0 ||
	    need_line(&l, what, &line, &n, err) < 0 ||
	    b64_line(what, l.no, line, n, s->global, SPLQ_ED25519_SIG, err) < 0 ||
	    at_end(&l, what, err) < 0)
		return -1;
	return 0;
}

char *splq_minisign_sig_format(const struct splq_minisign_sig *s)
{
	uint8_t bin[SIG_BIN];
	cleanup_free char *b64 = NULL;
	cleanup_free char *global = NULL;

	memcpy(bin, s->prehashed ? "ED" : "Ed", 2);
	memcpy(bin + 2, s->keynum, SPLQ_MINISIGN_KEYNUM);
	memcpy(bin + 2 + SPLQ_MINISIGN_KEYNUM, s->sig, SPLQ_ED25519_SIG);
	b64 = splq_base64_encode(bin, sizeof(bin));
	global = splq_base64_encode(s->global, SPLQ_ED25519_SIG);
	return splq_strdup_printf(
	    UNTRUSTED "%.*s\n%s\n" TRUSTED "%.*s\n%s\n",
	    (int)strnlen(s->untrusted, SPLQ_MINISIGN_COMMENT_MAX), s->untrusted, b64,
	    (int)strnlen(s->trusted, SPLQ_MINISIGN_COMMENT_MAX), s->trusted, global);
}

/* A comment the caller gives: a single line of at most max bytes. */
static int check_comment(const char *what, const char *c, int max, struct splq_error *err)
{
	if (strlen(c) > (size_t)max)
		return splq_fail(err, SPLQ_E_VALUE, "%s longer than %d bytes", what, max);
	if (strpbrk(c, "\r\n"))
		return splq_fail(err, SPLQ_E_VALUE, "%s is not a single line", what);
	return 0;
}

/* What the global signature signs: the signature, then the trusted
 * comment; its length, 0 for a comment without its NUL. */
static size_t global_msg(const struct splq_minisign_sig *s,
                         uint8_t out[SPLQ_ED25519_SIG + SPLQ_MINISIGN_COMMENT_MAX])
{
	size_t n = strnlen(s->trusted, sizeof(s->trusted));

	if (n == sizeof(s->trusted))
		return 0;
	memcpy(out, s->sig, SPLQ_ED25519_SIG);
	memcpy(out + SPLQ_ED25519_SIG, s->trusted, n);
	return SPLQ_ED25519_SIG + n;
}

int splq_minisign_sign(const uint8_t seed[SPLQ_ED25519_SEED],
                       const uint8_t keynum[SPLQ_MINISIGN_KEYNUM], const uint8_t hash[SPLQ_BLAKE2B],
                       const char *trusted, const char *untrusted, struct splq_minisign_sig *s,
                       struct splq_error *err)
{
	uint8_t msg[SPLQ_ED25519_SIG + SPLQ_MINISIGN_COMMENT_MAX];
	size_t n;

	if (!trusted)
		trusted = "";
	if (!untrusted)
		untrusted = "";
	if (check_comment("trusted comment", trusted, SPLQ_MINISIGN_COMMENT_MAX, err) < 0 ||
	    check_comment("untrusted comment", untrusted, UNTRUSTED_SIGN_MAX, err) < 0)
		return -1;
	memset(s, 0, sizeof(*s));
	s->prehashed = true;
	memcpy(s->keynum, keynum, SPLQ_MINISIGN_KEYNUM);
	strcpy(s->trusted, trusted);
	strcpy(s->untrusted, untrusted);
	if (splq_ed25519_sign(seed, hash, SPLQ_BLAKE2B, s->sig) < 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "signature: libcrypto could not sign");
	n = global_msg(s, msg);
	if (splq_ed25519_sign(seed, msg, n, s->global) < 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "signature: libcrypto could not sign");
	return 0;
}

int splq_minisign_verify(const struct splq_minisign_key *k, const struct splq_minisign_sig *s,
                         const uint8_t hash[SPLQ_BLAKE2B], const void *msg, size_t n,
                         struct splq_error *err)
{
	uint8_t gmsg[SPLQ_ED25519_SIG + SPLQ_MINISIGN_COMMENT_MAX];
	char id[17], kid[17];
	size_t gn;
	int r;

	splq_minisign_keyid(s->keynum, id);
	if (memcmp(s->keynum, k->keynum, SPLQ_MINISIGN_KEYNUM) != 0) {
		splq_minisign_keyid(k->keynum, kid);
		return splq_fail(err, SPLQ_E_VERIFY, "signature: made by key %s, not by key %s", id,
		                 kid);
	}
	if (s->prehashed && !hash)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "signature: a prehashed signature needs "
		                 "the file's BLAKE2b-512");
	if (!s->prehashed && !msg && n)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "signature: a legacy signature needs the "
		                 "file itself");
	r = s->prehashed ? splq_ed25519_verify(k->pub, hash, SPLQ_BLAKE2B, s->sig)
	                 : splq_ed25519_verify(k->pub, msg, n, s->sig);
	if (r < 0)
		return splq_fail(err, SPLQ_E_VERIFY,
		                 "signature: not key %s's signature of the file", id);
	gn = global_msg(s, gmsg);
	if (gn == 0 || splq_ed25519_verify(k->pub, gmsg, gn, s->global) < 0)
		return splq_fail(err, SPLQ_E_VERIFY,
		                 "signature: the trusted comment is not key %s's (its global "
		                 "signature does not hold)",
		                 id);
	return 0;
}

char *splq_minisign_trusted_default(const char *path, long long t)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	return splq_strdup_printf("timestamp:%lld\tfile:%s\thashed", t, base);
}
