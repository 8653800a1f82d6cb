/* splq: the cryptography splq uses, over OpenSSL's libcrypto 3 (the only
 * crypto library, DESIGN.md): random bytes, AES-256-GCM, scrypt, Ed25519
 * and BLAKE2b-512.  Small wrappers with fixed sizes, so that callers never
 * hold an OpenSSL type: every function returns 0, or -1 when libcrypto
 * failed (or, for the checks, when the data is not authentic).  Keys are
 * the callers' buffers; nothing here keeps a copy, and what a function
 * holds of a key on the way is wiped before it returns.
 *
 * Linked into splq and into the in-qube helpers (the vault's service
 * does all cryptography on secrets and keys inside the vault qube). */
#ifndef SPLQ_CRYPTO_H
#define SPLQ_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SPLQ_AES_KEY	    32 /* AES-256 */
#define SPLQ_GCM_NONCE	    12 /* 96 bits: GCM's own size, fresh per message */
#define SPLQ_GCM_TAG	    16
#define SPLQ_ED25519_SEED   32 /* the secret key is its 32-byte seed (RFC 8032) */
#define SPLQ_ED25519_PUBLIC 32
#define SPLQ_ED25519_SIG    64
#define SPLQ_BLAKE2B	    64 /* BLAKE2b-512 */

/* n random bytes from the kernel's generator (getrandom, through
 * libcrypto's RAND_bytes). */
int splq_random(void *buf, size_t n);

/* AES-256-GCM.  seal: n bytes of in encrypted to out (n bytes; out may be
 * in), aad authenticated with them, and the tag.  open: the reverse; -1
 * (and out's n bytes wiped) when the tag does not match key, nonce, aad
 * and ciphertext. */
int splq_gcm_seal(const uint8_t key[SPLQ_AES_KEY], const uint8_t nonce[SPLQ_GCM_NONCE],
                  const void *aad, size_t aadlen, const void *in, size_t n, void *out,
                  uint8_t tag[SPLQ_GCM_TAG]);
int splq_gcm_open(const uint8_t key[SPLQ_AES_KEY], const uint8_t nonce[SPLQ_GCM_NONCE],
                  const void *aad, size_t aadlen, const void *in, size_t n, void *out,
                  const uint8_t tag[SPLQ_GCM_TAG]);

/* scrypt (RFC 7914): outlen bytes from the passphrase and salt, with cost
 * N = 2^log2n, block size r and parallelism p.  -1 also for parameters
 * libcrypto refuses (memory beyond 1 GiB). */
int splq_scrypt(const void *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
                unsigned log2n, uint32_t r, uint32_t p, uint8_t *out, size_t outlen);

/* Ed25519 (RFC 8032, pure: no prehash at this level).  keypair: a fresh
 * seed and its public key; public: the public key of a seed. */
int splq_ed25519_keypair(uint8_t seed[SPLQ_ED25519_SEED], uint8_t pub[SPLQ_ED25519_PUBLIC]);
int splq_ed25519_public(const uint8_t seed[SPLQ_ED25519_SEED], uint8_t pub[SPLQ_ED25519_PUBLIC]);
int splq_ed25519_sign(const uint8_t seed[SPLQ_ED25519_SEED], const void *msg, size_t n,
                      uint8_t sig[SPLQ_ED25519_SIG]);
/* 0 when sig is pub's signature of msg, -1 otherwise. */
int splq_ed25519_verify(const uint8_t pub[SPLQ_ED25519_PUBLIC], const void *msg, size_t n,
                        const uint8_t sig[SPLQ_ED25519_SIG]);

/* BLAKE2b-512 (RFC 7693, unkeyed), at once or in parts.  A splq_blake2b
 * is begun, fed, and ended by final (which frees it) or by free. */
struct splq_blake2b {
	void *ctx;
};
int splq_blake2b(const void *data, size_t n, uint8_t out[SPLQ_BLAKE2B]);
int splq_blake2b_begin(struct splq_blake2b *h);
int splq_blake2b_feed(struct splq_blake2b *h, const void *data, size_t n);
int splq_blake2b_final(struct splq_blake2b *h, uint8_t out[SPLQ_BLAKE2B]);
void splq_blake2b_free(struct splq_blake2b *h);
/* The BLAKE2b-512 of what is left to read of fd, read in large blocks. */
int splq_blake2b_fd(int fd, uint8_t out[SPLQ_BLAKE2B]);

/* Wipe n bytes in a way the compiler keeps (OPENSSL_cleanse). */
void splq_wipe(void *p, size_t n);

/* Constant-time comparison of n bytes: 0 when equal. */
int splq_memeq_ct(const void *a, const void *b, size_t n);

/* Base64 (RFC 4648, with padding, no line breaks), as minisign writes
 * it.  encode: a malloc'ed string.  decode: into out (room for max),
 * the length, or -1 for text that is not base64 or does not fit. */
char *splq_base64_encode(const void *data, size_t n);
int splq_base64_decode(const char *text, size_t len, uint8_t *out, size_t max);

#endif
