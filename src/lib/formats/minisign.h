/* splq: minisign's public keys and signatures (https://jedisct1.github.io/
 * minisign/), byte for byte as minisign 0.11 writes and reads them, so
 * that `minisign -V` checks what splq signs and `splq verify` checks what
 * `minisign -S` signs.  Pure: no I/O; a signature file or a key comes from
 * anywhere and is read as hostile.
 *
 * Public key file, two lines:
 *
 *   untrusted comment: minisign public key 5C1A37F8A11D9E0B
 *   RWQLnh2h+DcaXB0...                      base64 of 42 bytes:
 *       "Ed"        2 bytes  the algorithm (Ed25519)
 *       keynum      8 bytes  the key's id, random at keygen
 *       public key 32 bytes
 *
 * The key id shown in comments and messages is keynum read as a
 * little-endian 64-bit number, in upper-case hex (16 digits).  A key may
 * also be given as its base64 line alone (minisign -P).
 *
 * Signature file (FILE.minisig), four lines:
 *
 *   untrusted comment: <anything; not signed>
 *   base64 of 74 bytes:
 *       "ED"        2 bytes  prehashed: the signature is of BLAKE2b-512(FILE)
 *                            ("Ed": legacy, of FILE itself; read, not written)
 *       keynum      8 bytes  the signing key's id
 *       signature  64 bytes  Ed25519
 *   trusted comment: <text>
 *   base64 of 64 bytes: the global signature, Ed25519 of the 64-byte
 *       signature followed by <text> (without "trusted comment: ")
 *
 * Lines end in "\n" ("\r\n" is read too); comments are single lines of at
 * most SPLQ_MINISIGN_COMMENT_MAX bytes. */
#ifndef SPLQ_FORMATS_MINISIGN_H
#define SPLQ_FORMATS_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto.h"
#include "../error.h"

#define SPLQ_MINISIGN_KEYNUM	  8
#define SPLQ_MINISIGN_COMMENT_MAX 1023

struct splq_minisign_key {
	uint8_t keynum[SPLQ_MINISIGN_KEYNUM];
	uint8_t pub[SPLQ_ED25519_PUBLIC];
};

struct splq_minisign_sig {
	bool prehashed; /* "ED"; false: legacy "Ed" */
	uint8_t keynum[SPLQ_MINISIGN_KEYNUM];
	uint8_t sig[SPLQ_ED25519_SIG];
	char untrusted[SPLQ_MINISIGN_COMMENT_MAX + 1];
	char trusted[SPLQ_MINISIGN_COMMENT_MAX + 1];
	uint8_t global[SPLQ_ED25519_SIG];
};

/* The comments splq signs with when it is told none: minisign's own
 * trusted comment for file path at unix time t ("timestamp:T\tfile:BASENAME
 * \thashed", malloc'ed), and its untrusted one. */
char *splq_minisign_trusted_default(const char *path, long long t);
#define SPLQ_MINISIGN_UNTRUSTED_DEFAULT "signature from splq secret key"

/* The key id of keynum as minisign shows it (16 hex digits and a NUL). */
void splq_minisign_keyid(const uint8_t keynum[SPLQ_MINISIGN_KEYNUM], char out[17]);

/* A public key file, or its base64 line alone: SPLQ_E_VALUE naming what
 * is wrong (not base64, wrong length, another algorithm). */
int splq_minisign_key_parse(const char *buf, size_t len, struct splq_minisign_key *k,
                            struct splq_error *err);
/* The public key file of k (malloc'ed). */
char *splq_minisign_key_format(const struct splq_minisign_key *k);

/* A signature file: SPLQ_E_VALUE naming the line at fault. */
int splq_minisign_sig_parse(const char *buf, size_t len, struct splq_minisign_sig *s,
                            struct splq_error *err);
/* The signature file of s (malloc'ed): "ED" for a prehashed one (all that
 * splq_minisign_sign makes), "Ed" for a legacy one read in. */
char *splq_minisign_sig_format(const struct splq_minisign_sig *s);

/* What a signer signs: into s, the signature of hash (BLAKE2b-512 of the
 * file) and the global signature over it and trusted (a single line,
 * copied in); untrusted the free comment, of at most 1003 bytes (the
 * longest minisign reads).  The secret key is seed. */
int splq_minisign_sign(const uint8_t seed[SPLQ_ED25519_SEED],
                       const uint8_t keynum[SPLQ_MINISIGN_KEYNUM],
                       const uint8_t hash[SPLQ_BLAKE2B], const char *trusted,
                       const char *untrusted, struct splq_minisign_sig *s, struct splq_error *err);

/* Check s against key k: the key ids must agree, the signature must be of
 * the file (hash: its BLAKE2b-512, for a prehashed signature; msg, n: the
 * file itself, for a legacy one: pass what the signature needs, see
 * s->prehashed), and the global signature of the trusted comment must
 * hold.  SPLQ_E_VERIFY names which part failed. */
int splq_minisign_verify(const struct splq_minisign_key *k, const struct splq_minisign_sig *s,
                         const uint8_t hash[SPLQ_BLAKE2B], const void *msg, size_t n,
                         struct splq_error *err);

#endif
