/* splq: unit tests for minisign's keys and signatures (formats/minisign.h),
 * against a key and signatures that minisign 0.11 made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/minisign.h"
#include "util.h"

/* `minisign -G -W -p k.pub -s k.key`: the public key file, and the seed
 * and keynum out of the (unencrypted) secret key file.  A key for these
 * tests only. */
static const char KEY_PUB[] = "untrusted comment: minisign public key 3DCA29C8DF739610\n"
                              "RWQQlnPfyCnKPXTshJyLNucQE/BR7ekFnpMSGgDkAuMErNn0P6tqFJea\n";
#define KEY_B64 "RWQQlnPfyCnKPXTshJyLNucQE/BR7ekFnpMSGgDkAuMErNn0P6tqFJea"
static const uint8_t KEYNUM[8] = {0x10, 0x96, 0x73, 0xdf, 0xc8, 0x29, 0xca, 0x3d};
static const uint8_t SEED[32] = {0x92, 0x72, 0x99, 0xc4, 0x37, 0x2b, 0x50, 0xca, 0x9a, 0x4a, 0x1d,
                                 0x5c, 0xc5, 0xe7, 0xd5, 0x55, 0x4d, 0xac, 0x89, 0xe4, 0xbf, 0x67,
                                 0xb5, 0xb8, 0x6f, 0x04, 0x17, 0x6d, 0x39, 0x88, 0x86, 0x7a};
static const uint8_t PUB[32] = {0x74, 0xec, 0x84, 0x9c, 0x8b, 0x36, 0xe7, 0x10, 0x13, 0xf0, 0x51,
                                0xed, 0xe9, 0x05, 0x9e, 0x93, 0x12, 0x1a, 0x00, 0xe4, 0x02, 0xe3,
                                0x04, 0xac, 0xd9, 0xf4, 0x3f, 0xab, 0x6a, 0x14, 0x97, 0x9a};

/* The four lines of SIG, to build others from. */
#define L1 "untrusted comment: signature from minisign secret key"
/* line 2 in three parts: "ED" and the keynum's first byte, the rest of the
 * keynum and the signature's start, the signature's end */
#define L2_ALG "RUQQ"
#define L2_MID "lnPfyCnKPSrB6LBwGQ5Y9z5X1AbRReGa/+CUyg+H7crMpuCF"
#define L2_END "Aw0WxCRfVUcPj5dbX/00M61MNSXtXgRBqzQU50yPAfDOqgk="
#define L2     L2_ALG L2_MID L2_END
#define L3     "trusted comment: trusted text"
#define L4                                                                                         \
	"zcrQ0eJaWhv7qtMT1lF9Qzvv4QvdJom5R5WLK/1h4FNBryulV5Iu/jyCdRIRfke/1vPbHooOHyz05Klc25CSDQ=="

/* The file signed, and what minisign wrote of it:
 * `minisign -S -s k.key -m file -t 'trusted text'` (prehashed),
 * `minisign -S -l ... -t 'legacy trusted'` (legacy), and
 * `minisign -S ... -c 'a comment of my own'` (its own trusted comment). */
static const char FILE_TEXT[] = "splq test file\nsecond line\n";
#define SIG L1 "\n" L2 "\n" L3 "\n" L4 "\n"
static const char SIG_LEGACY[] =
    "untrusted comment: signature from minisign secret key\n"
    "RWQQlnPfyCnKPXtdFSLItPS4Sa2d1H2/04+x1Iws/nNO8kaJaN1e"
    "zKPQ1el5JbH8XCoKrB2zop4gRm0efvrkr3+0Mpcx8wud6AU=\n"
    "trusted comment: legacy trusted\n"
    "4vIUxaPq123KUUmuG5gB2LPxtHs+T/54XUSjQYaGrlW4Qet4wvwjEZ88+aisvgInDm8Ex+Dyd0mmZPYQHBdsCw==\n";
static const char SIG_DEFAULT[] =
    "untrusted comment: a comment of my own\n" L2 "\n"
    "trusted comment: timestamp:1796287796\tfile:file\thashed\n"
    "yXepS+zgWsS7xo24weTmUbZ9K5j8bY70s65pXacFXbKmtvF0pLS1KzmvmWd4rlclsI/uchci8hWeG8GHcKtjBA==\n";

static void file_hash(const char *text, uint8_t hash[SPLQ_BLAKE2B])
{
	assert_int_equal(splq_blake2b(text, strlen(text), hash), 0);
}

static void parse_sig(const char *text, struct splq_minisign_sig *s)
{
	struct splq_error err = {0};

	if (splq_minisign_sig_parse(text, strlen(text), s, &err) < 0)
		fail_msg("%s", err.msg);
}

static void the_key(struct splq_minisign_key *k)
{
	struct splq_error err = {0};

	assert_int_equal(splq_minisign_key_parse(KEY_PUB, strlen(KEY_PUB), k, &err), 0);
}

static void test_keyid(void **state)
{
	char id[17];

	/* minisign's k.pub says 3DCA29C8DF739610 of keynum 10 96 73 df c8 29 ca 3d:
	 * the bytes read as a little-endian number */
	splq_minisign_keyid(KEYNUM, id);
	assert_string_equal(id, "3DCA29C8DF739610");
	splq_minisign_keyid((const uint8_t[8]){1, 0, 0, 0, 0, 0, 0, 0}, id);
	assert_string_equal(id, "0000000000000001");
	splq_minisign_keyid((const uint8_t[8]){0, 0, 0, 0, 0, 0, 0, 0xab}, id);
	assert_string_equal(id, "AB00000000000000");
}

/* minisign's key file, its line alone, with "\r\n", without the last
 * newline; formatted again, the same bytes as minisign's. */
static void test_key_real(void **state)
{
	struct splq_minisign_key k;
	struct splq_error err = {0};
	uint8_t pub[32];
	static const char *const forms[] = {
	    KEY_B64,
	    KEY_B64 "\n",
	    KEY_B64 "\r\n",
	    "untrusted comment: minisign public key 3DCA29C8DF739610\n" KEY_B64,
	    "untrusted comment: minisign public key 3DCA29C8DF739610\r\n" KEY_B64 "\r\n",
	    "untrusted comment: anything at all\n" KEY_B64 "\n",
	    "untrusted comment: \n" KEY_B64 "\n",
	};

	the_key(&k);
	assert_memory_equal(k.keynum, KEYNUM, 8);
	assert_memory_equal(k.pub, PUB, 32);
	assert_int_equal(splq_ed25519_public(SEED, pub), 0);
	assert_memory_equal(pub, PUB, 32);
	cleanup_free char *text = splq_minisign_key_format(&k);
	assert_string_equal(text, KEY_PUB);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&k, 0, sizeof(k));
		if (splq_minisign_key_parse(forms[i], strlen(forms[i]), &k, &err) < 0)
			fail_msg("form %zu: %s", i, err.msg);
		assert_memory_equal(k.keynum, KEYNUM, 8);
		assert_memory_equal(k.pub, PUB, 32);
	}
}

/* minisign's signatures parse, verify, and format back to the same bytes. */
static void test_sig_real(void **state)
{
	struct splq_minisign_key k;
	struct splq_minisign_sig s;
	struct splq_error err = {0};
	uint8_t hash[64];

	the_key(&k);
	file_hash(FILE_TEXT, hash);

	parse_sig(SIG, &s);
	assert_true(s.prehashed);
	assert_memory_equal(s.keynum, KEYNUM, 8);
	assert_string_equal(s.untrusted, "signature from minisign secret key");
	assert_string_equal(s.trusted, "trusted text");
	if (splq_minisign_verify(&k, &s, hash, NULL, 0, &err) < 0)
		fail_msg("%s", err.msg);
	cleanup_free char *text = splq_minisign_sig_format(&s);
	assert_string_equal(text, SIG);

	parse_sig(SIG_LEGACY, &s);
	assert_false(s.prehashed);
	assert_string_equal(s.trusted, "legacy trusted");
	if (splq_minisign_verify(&k, &s, NULL, FILE_TEXT, strlen(FILE_TEXT), &err) < 0)
		fail_msg("%s", err.msg);
	cleanup_free char *legacy = splq_minisign_sig_format(&s);
	assert_string_equal(legacy, SIG_LEGACY);
	/* a legacy signature is of the file, not of its hash */
	assert_int_equal(splq_minisign_verify(&k, &s, hash, hash, sizeof(hash), &err), -1);
	assert_int_equal(err.code, SPLQ_E_VERIFY);

	/* minisign's own trusted comment, tabs in it */
	parse_sig(SIG_DEFAULT, &s);
	assert_string_equal(s.untrusted, "a comment of my own");
	assert_string_equal(s.trusted, "timestamp:1796287796\tfile:file\thashed");
	if (splq_minisign_verify(&k, &s, hash, NULL, 0, &err) < 0)
		fail_msg("%s", err.msg);
}

/* Ed25519 is deterministic: splq signing the file with minisign's key and
 * comments writes minisign's signature file byte for byte. */
static void test_sign_as_minisign(void **state)
{
	struct splq_minisign_sig s;
	struct splq_error err = {0};
	uint8_t hash[64];

	file_hash(FILE_TEXT, hash);
	if (splq_minisign_sign(SEED, KEYNUM, hash, "trusted text",
	                       "signature from minisign secret key", &s, &err) < 0)
		fail_msg("%s", err.msg);
	cleanup_free char *text = splq_minisign_sig_format(&s);
	assert_string_equal(text, SIG);
}

/* A fresh key and signature, through their files and back. */
static void test_round_trip(void **state)
{
	struct splq_minisign_key k, k2;
	struct splq_minisign_sig s, s2;
	struct splq_error err = {0};
	uint8_t seed[32], hash[64];

	assert_int_equal(splq_ed25519_keypair(seed, k.pub), 0);
	assert_int_equal(splq_random(k.keynum, sizeof(k.keynum)), 0);
	cleanup_free char *ktext = splq_minisign_key_format(&k);
	assert_int_equal(splq_minisign_key_parse(ktext, strlen(ktext), &k2, &err), 0);
	assert_memory_equal(&k, &k2, sizeof(k));

	file_hash("some release\n", hash);
	assert_int_equal(splq_minisign_sign(seed, k.keynum, hash, "timestamp:1\tfile:release",
	                                    "signature from splq", &s, &err),
	                 0);
	assert_true(s.prehashed);
	cleanup_free char *stext = splq_minisign_sig_format(&s);
	parse_sig(stext, &s2);
	assert_true(s2.prehashed);
	assert_memory_equal(s2.keynum, s.keynum, 8);
	assert_memory_equal(s2.sig, s.sig, 64);
	assert_memory_equal(s2.global, s.global, 64);
	assert_string_equal(s2.trusted, "timestamp:1\tfile:release");
	assert_string_equal(s2.untrusted, "signature from splq");
	assert_int_equal(splq_minisign_verify(&k2, &s2, hash, NULL, 0, &err), 0);

	/* empty comments (NULL: empty) and the longest ones */
	char longest[SPLQ_MINISIGN_COMMENT_MAX + 1];
	memset(longest, 'c', SPLQ_MINISIGN_COMMENT_MAX);
	longest[SPLQ_MINISIGN_COMMENT_MAX] = 0;
	assert_int_equal(splq_minisign_sign(seed, k.keynum, hash, NULL, NULL, &s, &err), 0);
	cleanup_free char *empty = splq_minisign_sig_format(&s);
	parse_sig(empty, &s2);
	assert_string_equal(s2.trusted, "");
	assert_string_equal(s2.untrusted, "");
	assert_int_equal(splq_minisign_verify(&k, &s2, hash, NULL, 0, &err), 0);
	assert_int_equal(splq_minisign_sign(seed, k.keynum, hash, longest, longest + 20, &s, &err),
	                 0);
	cleanup_free char *full = splq_minisign_sig_format(&s);
	parse_sig(full, &s2);
	assert_string_equal(s2.trusted, longest);
	assert_string_equal(s2.untrusted, longest + 20);
	assert_int_equal(splq_minisign_verify(&k, &s2, hash, NULL, 0, &err), 0);
}

static void expect_verify_fails(const struct splq_minisign_key *k,
                                const struct splq_minisign_sig *s, const uint8_t *hash,
                                const char *msg, const char *what)
{
	struct splq_error err = {0};

	assert_int_equal(splq_minisign_verify(k, s, hash, msg, msg ? strlen(msg) : 0, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VERIFY);
	if (!strstr(err.msg, what))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, what);
}

static void test_tampered(void **state)
{
	struct splq_minisign_key k, other;
	struct splq_minisign_sig s;
	struct splq_error err = {0};
	uint8_t hash[64], seed[32];

	the_key(&k);
	/* another file */
	file_hash("splq test file\nsecond line!\n", hash);
	parse_sig(SIG, &s);
	expect_verify_fails(&k, &s, hash, NULL, "not key 3DCA29C8DF739610's signature of the file");
	parse_sig(SIG_LEGACY, &s);
	expect_verify_fails(&k, &s, NULL, "splq test file\nsecond linE\n", "of the file");

	/* another trusted comment, in the file or in memory */
	file_hash(FILE_TEXT, hash);
	parse_sig(L1 "\n" L2 "\ntrusted comment: trusted texT\n" L4 "\n", &s);
	expect_verify_fails(&k, &s, hash, NULL, "trusted comment");
	parse_sig(SIG, &s);
	s.trusted[0] = 'T';
	expect_verify_fails(&k, &s, hash, NULL, "trusted comment");
	parse_sig(SIG, &s);
	s.global[10] ^= 4;
	expect_verify_fails(&k, &s, hash, NULL, "trusted comment");
	parse_sig(SIG, &s);
	memset(s.trusted, 'x', sizeof(s.trusted)); /* no NUL: never read past */
	expect_verify_fails(&k, &s, hash, NULL, "trusted comment");

	/* another untrusted comment: still good, it is not signed */
	parse_sig("untrusted comment: changed by anyone\n" L2 "\n" L3 "\n" L4 "\n", &s);
	assert_int_equal(splq_minisign_verify(&k, &s, hash, NULL, 0, &err), 0);

	/* another key: its id, or the same id and another public key */
	parse_sig(SIG, &s);
	other = k;
	other.keynum[0] ^= 1;
	expect_verify_fails(&other, &s, hash, NULL, "made by key 3DCA29C8DF739610, not by key");
	assert_int_equal(splq_ed25519_keypair(seed, other.pub), 0);
	memcpy(other.keynum, k.keynum, 8);
	expect_verify_fails(&other, &s, hash, NULL, "signature of the file");
	/* a signature's own bits */
	s.sig[63] ^= 0x40;
	expect_verify_fails(&k, &s, hash, NULL, "signature of the file");

	/* a prehashed signature needs the hash */
	parse_sig(SIG, &s);
	assert_int_equal(splq_minisign_verify(&k, &s, NULL, FILE_TEXT, strlen(FILE_TEXT), &err),
	                 -1);
	assert_int_not_equal(err.code, 0);
	/* and a prehashed one is not a legacy one: the algorithm is signed
	 * only in effect, through what the signature is of */
	s.prehashed = false;
	expect_verify_fails(&k, &s, NULL, FILE_TEXT, "of the file");
}

/* A signature file from parts (the lines joined by "\n"). */
static char *sig_text(const char *l1, const char *l2, const char *l3, const char *l4)
{
	return splq_strdup_printf("%s\n%s\n%s\n%s\n", l1, l2, l3, l4);
}

static void expect_sig_bad(const char *text, size_t len, const char *what)
{
	struct splq_minisign_sig s;
	struct splq_error err = {0};
	/* an exact copy on the heap: a read past the end is seen (ASan) */
	char *copy = malloc(len ? len : 1);

	memcpy(copy, text, len);
	if (splq_minisign_sig_parse(copy, len, &s, &err) == 0)
		fail_msg("parsed: \"%.*s\"", (int)len, text);
	free(copy);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	if (!strstr(err.msg, what))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, what);
}

static void expect_sig_bad_str(const char *text, const char *what)
{
	expect_sig_bad(text, strlen(text), what);
}

static void expect_line2_bad(const char *line2, const char *what)
{
	cleanup_free char *text = sig_text(L1, line2, L3, L4);

	expect_sig_bad_str(text, what);
}

static void test_sig_malformed(void **state)
{
	char long_comment[2100];
	struct splq_minisign_sig s, want;

	parse_sig(SIG, &want);
	/* lines missing */
	expect_sig_bad_str("", "signature: line 1: missing");
	expect_sig_bad_str(L1 "\n", "signature: line 2: missing");
	expect_sig_bad_str(L1 "\n" L2 "\n", "signature: line 3: missing");
	expect_sig_bad_str(L1 "\n" L2 "\n" L3 "\n", "signature: line 4: missing");
	expect_sig_bad_str(L1 "\n" L2 "\n" L3, "signature: line 4: missing");
	/* the prefixes */
	expect_sig_bad_str("untrusted comment:x\n" L2 "\n" L3 "\n" L4 "\n",
	                   "line 1: does not start with \"untrusted comment: \"");
	expect_sig_bad_str("Untrusted comment: x\n" L2 "\n" L3 "\n" L4 "\n", "line 1: does not");
	expect_sig_bad_str(L2 "\n" L3 "\n" L4 "\n", "line 1: does not");
	expect_sig_bad_str(L1 "\n" L2 "\nuntrusted comment: trusted text\n" L4 "\n",
	                   "line 3: does not start with \"trusted comment: \"");
	expect_sig_bad_str(L1 "\n" L2 "\n" L4 "\n" L3 "\n", "line 3: does not");
	expect_sig_bad_str(L1 "\n\n" L2 "\n" L3 "\n" L4 "\n", "line 2: 0 bytes, not 74");
	/* comments: the longest, one byte more, NUL, CR */
	memset(long_comment, 'a', sizeof(long_comment));
	memcpy(long_comment, "untrusted comment: ", 19);
	long_comment[19 + SPLQ_MINISIGN_COMMENT_MAX] = 0;
	cleanup_free char *longest = sig_text(long_comment, L2, L3, L4);
	parse_sig(longest, &s);
	assert_int_equal(strlen(s.untrusted), SPLQ_MINISIGN_COMMENT_MAX);
	long_comment[19 + SPLQ_MINISIGN_COMMENT_MAX] = 'a';
	long_comment[19 + SPLQ_MINISIGN_COMMENT_MAX + 1] = 0;
	cleanup_free char *too_long = sig_text(long_comment, L2, L3, L4);
	expect_sig_bad_str(too_long, "line 1: comment longer than 1023 bytes");
	long_comment[2099] = 0;
	cleanup_free char *far_too_long = sig_text(long_comment, L2, L3, L4);
	expect_sig_bad_str(far_too_long, "line 1: comment longer");
	memcpy(long_comment, "trusted comment: ", 17);
	long_comment[17 + SPLQ_MINISIGN_COMMENT_MAX + 1] = 0;
	cleanup_free char *trusted_too_long = sig_text(L1, L2, long_comment, L4);
	expect_sig_bad_str(trusted_too_long, "line 3: comment longer");
	static const char nul[] = L1 "\n" L2 "\ntrusted comment: a\0b\n" L4 "\n";
	expect_sig_bad(nul, sizeof(nul) - 1, "line 3: comment holds a NUL or a CR");
	static const char nul1[] = "untrusted comment: \0\n" L2 "\n" L3 "\n" L4 "\n";
	expect_sig_bad(nul1, sizeof(nul1) - 1, "line 1: comment holds");
	expect_sig_bad_str(L1 "\n" L2 "\ntrusted comment: a\rb\n" L4 "\n", "line 3: comment holds");
	/* the signature line: not base64, white space, padding, lengths,
	 * the algorithm */
	expect_sig_bad_str(L1 "\n" L2 "!\n" L3 "\n" L4 "\n", "line 2: not base64");
	expect_sig_bad_str(L1 "\n " L2 "\n" L3 "\n" L4 "\n", "line 2: not base64");
	expect_sig_bad_str(L1 "\n" L2 " \n" L3 "\n" L4 "\n", "line 2: not base64");
	expect_line2_bad(L2_ALG " " L2_MID L2_END, "line 2: not base64");
	expect_line2_bad(L2_ALG L2_MID "Aw0WxCRfVUcPj5dbX/00M61MNSXtXgRBqzQU50yPAfDOqgk",
	                 "line 2: not base64"); /* its padding left off */
	expect_line2_bad(L2_ALG L2_MID "Aw0WxCRfVUcPj5dbX/00M61MNSXtXgRBqzQU50yPAfDOqgl=",
	                 "line 2: not base64"); /* a bit set after the last byte */
	expect_line2_bad(L2_ALG L2_MID "Aw0WxCRfVUcPj5dbX/00M61MNSXtXgRBqzQU50yPAfDOq",
	                 "line 2: not base64");
	expect_line2_bad(L2_ALG L2_MID "Aw0WxCRfVUcPj5dbX/00M61MNSXtXgRBqzQU50yPAfDO",
	                 "line 2: 72 bytes, not 74");
	expect_line2_bad(L2 "AAAA", "line 2: not base64");
	expect_line2_bad(L4, "line 2: 64 bytes, not 74");
	expect_line2_bad(L2 L2, "line 2: 200 characters, not 100");
	/* "EX" and "\0\0" are other algorithms */
	expect_line2_bad("RVgQ" L2_MID L2_END, "line 2: not an Ed25519 signature");
	expect_line2_bad("AAAQ" L2_MID L2_END, "line 2: not an Ed25519 signature");
	/* the global signature's line */
	expect_sig_bad_str(L1 "\n" L2 "\n" L3 "\n" L4 "\t\n", "line 4: not base64");
	expect_sig_bad_str(L1 "\n" L2 "\n" L3 "\n" L2 "\n", "line 4: 74 bytes, not 64");
	expect_sig_bad_str(L1 "\n" L2 "\n" L3 "\n"
	                      "zcrQ0eJaWhv7qtMT1lF9Qzvv4QvdJom5R5WLK/1h4FNBryulV5Iu/jyCdRIRfke/"
	                      "1vPbHooOHyz05Klc25CSDQ=\n",
	                   "line 4: not base64");
	expect_sig_bad_str(L1 "\n" L2 "\n" L3 "\n\n", "line 4: 0 bytes");
	/* more after the last line: another line, a blank one */
	expect_sig_bad_str(SIG "x\n", "line 5: more after the last line");
	expect_sig_bad_str(SIG "\n", "line 5: more after");
	expect_sig_bad_str(SIG "\r\n", "line 5: more after");

	/* what is read: "\r\n", no newline at the end */
	parse_sig(L1 "\r\n" L2 "\r\n" L3 "\r\n" L4 "\r\n", &s);
	assert_memory_equal(&s, &want, sizeof(s));
	parse_sig(L1 "\n" L2 "\n" L3 "\n" L4, &s);
	assert_memory_equal(&s, &want, sizeof(s));
	parse_sig(L1 "\r\n" L2 "\n" L3 "\r\n" L4 "\r", &s);
	assert_memory_equal(&s, &want, sizeof(s));
	/* every prefix of a good file is refused, without reading past it */
	for (size_t n = 0; n < strlen(SIG) - 1; n++)
		expect_sig_bad(SIG, n, "signature: line ");
}

static void expect_key_bad(const char *text, const char *what)
{
	struct splq_minisign_key k;
	struct splq_error err = {0};
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);

	memcpy(copy, text, len);
	if (splq_minisign_key_parse(copy, len, &k, &err) == 0)
		fail_msg("parsed: \"%s\"", text);
	free(copy);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	if (!strstr(err.msg, what))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, what);
}

static void test_key_malformed(void **state)
{
	char long_comment[1100];

	expect_key_bad("", "public key: line 1: missing");
	expect_key_bad("\n", "public key: line 1: 0 bytes, not 42");
	expect_key_bad("untrusted comment: minisign public key 3DCA29C8DF739610\n",
	               "public key: line 2: missing");
	expect_key_bad("untrusted comment: x", "line 2: missing");
	expect_key_bad("comment: x\n" KEY_B64 "\n", "line 1: does not start with \"untrusted");
	expect_key_bad("\n" KEY_B64 "\n", "line 1: does not start");
	expect_key_bad(KEY_B64 "\n" KEY_B64 "\n", "line 1: does not start");
	expect_key_bad("untrusted comment: x\n" KEY_B64 "=\n", "line 2: not base64");
	expect_key_bad("untrusted comment: x\n " KEY_B64 "\n", "line 2: not base64");
	expect_key_bad(KEY_B64 " ", "line 1: not base64");
	expect_key_bad("RWQQlnPfyCnKPXTshJyLNucQE/BR7ekFnpMSGgDkAuMErNn0P6tqFJ", "not base64");
	expect_key_bad("RWQQlnPfyCnKPXTshJyLNucQE/BR7ekFnpMSGgDkAuMErNn0P6tqFA==",
	               "40 bytes, not 42");
	expect_key_bad("untrusted comment: x\n" L2 "\n", "line 2: 74 bytes, not 42");
	/* "ED" (the prehashed signatures' name) is no key algorithm */
	expect_key_bad("RUQQlnPfyCnKPXTshJyLNucQE/BR7ekFnpMSGgDkAuMErNn0P6tqFJea",
	               "line 1: not an Ed25519 key");
	expect_key_bad("untrusted comment: x\n" KEY_B64 "\nmore\n", "line 3: more after");
	memset(long_comment, 'a', sizeof(long_comment));
	memcpy(long_comment, "untrusted comment: ", 19);
	long_comment[19 + SPLQ_MINISIGN_COMMENT_MAX + 1] = 0;
	cleanup_free char *too_long = splq_strdup_printf("%s\n%s\n", long_comment, KEY_B64);
	expect_key_bad(too_long, "line 1: comment longer than 1023 bytes");
}

/* Comments a signer gives that no signature file can hold. */
static void test_sign_refuses(void **state)
{
	struct splq_minisign_sig s;
	struct splq_error err = {0};
	uint8_t hash[64] = {0};
	char long_comment[SPLQ_MINISIGN_COMMENT_MAX + 2];

	assert_int_equal(splq_minisign_sign(SEED, KEYNUM, hash, "two\nlines", "", &s, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	assert_non_null(strstr(err.msg, "trusted comment is not a single line"));
	assert_int_equal(splq_minisign_sign(SEED, KEYNUM, hash, "ok", "a\rb", &s, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	assert_non_null(strstr(err.msg, "untrusted comment"));
	memset(long_comment, 't', sizeof(long_comment) - 1);
	long_comment[sizeof(long_comment) - 1] = 0;
	assert_int_equal(splq_minisign_sign(SEED, KEYNUM, hash, long_comment, "", &s, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	assert_non_null(strstr(err.msg, "longer than 1023 bytes"));
	/* an untrusted comment minisign -V would refuse: more than 1003 bytes */
	long_comment[1004] = 0;
	assert_int_equal(splq_minisign_sign(SEED, KEYNUM, hash, "t", long_comment, &s, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	assert_non_null(strstr(err.msg, "untrusted comment longer than 1003 bytes"));
	long_comment[1003] = 0;
	assert_int_equal(splq_minisign_sign(SEED, KEYNUM, hash, "t", long_comment, &s, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keyid),         cmocka_unit_test(test_key_real),
	    cmocka_unit_test(test_sig_real),      cmocka_unit_test(test_sign_as_minisign),
	    cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_sig_malformed), cmocka_unit_test(test_key_malformed),
	    cmocka_unit_test(test_sign_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
