/* splq: random bytes, AES-256-GCM, scrypt, Ed25519, BLAKE2b-512 and
 * base64 over libcrypto (see crypto.h). */
#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

/* libcrypto counts in int: longer buffers go through in parts of this
 * size (a multiple of 3 and of 16, for base64 and the cipher alike). */
#define PART       (3u << 28)
#define FD_BLOCK   (128u * 1024)
#define SCRYPT_MEM (1024ull * 1024 * 1024)

int splq_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		size_t k = n < PART ? n : PART;

		if (RAND_bytes(p, (int)k) != 1)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* ---- AES-256-GCM ---- */

/* Feeds n bytes of in through ctx's cipher into out (out NULL: aad). */
static int gcm_update(EVP_CIPHER_CTX *ctx, bool enc, const uint8_t *in, size_t n, uint8_t *out)
{
	while (n) {
		int k = (int)(n < PART ? n : PART), done;

		if ((enc ? EVP_EncryptUpdate(ctx, out, &done, in, k)
		         : EVP_DecryptUpdate(ctx, out, &done, in, k)) != 1)
			return -1;
		if (out && done != k)
			return -1; /* GCM is a stream mode: all of it, at once */
		in += k;
		if (out)
			out += k;
		n -= (size_t)k;
	}
	return 0;
}

int splq_gcm_seal(const uint8_t key[SPLQ_AES_KEY], const uint8_t nonce[SPLQ_GCM_NONCE],
                  const void *aad, size_t aadlen, const void *in, size_t n, void *out,
                  uint8_t tag[SPLQ_GCM_TAG])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t last[16];
	int r = -1, k;

	if (!ctx)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    gcm_update(ctx, true, aad, aadlen, NULL) < 0 || gcm_update(ctx, true, in, n, out) < 0 ||
	    EVP_EncryptFinal_ex(ctx, last, &k) != 1 || k != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SPLQ_GCM_TAG, tag) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
	return r;
}

int splq_gcm_open(const uint8_t key[SPLQ_AES_KEY], const uint8_t nonce[SPLQ_GCM_NONCE],
                  const void *aad, size_t aadlen, const void *in, size_t n, void *out,
                  const uint8_t tag[SPLQ_GCM_TAG])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t last[16];
	int r = -1, k;

	if (ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	    gcm_update(ctx, false, aad, aadlen, NULL) == 0 &&
	    gcm_update(ctx, false, in, n, out) == 0 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SPLQ_GCM_TAG, (void *)tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, last, &k) == 1 && k == 0)
		r = 0;
	EVP_CIPHER_CTX_free(ctx);
	if (r < 0 && n)
		splq_wipe(out, n); /* nothing of an unauthentic plaintext is left */
	return r;
}

/* ---- scrypt ---- */

int splq_scrypt(const void *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
                unsigned log2n, uint32_t r, uint32_t p, uint8_t *out, size_t outlen)
{
	if (log2n < 1 || log2n > 63 || !outlen)
		return -1;
	if (EVP_PBE_scrypt(pass ? pass : "", passlen, salt ? salt : (const uint8_t *)"", saltlen,
	                   (uint64_t)1 << log2n, r, p, SCRYPT_MEM, out, outlen) != 1) {
		splq_wipe(out, outlen);
		return -1;
	}
	return 0;
}

/* ---- Ed25519 ---- */

int splq_ed25519_public(const uint8_t seed[SPLQ_ED25519_SEED], uint8_t pub[SPLQ_ED25519_PUBLIC])
{
	EVP_PKEY *key =
	    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SPLQ_ED25519_SEED);
	size_t len = SPLQ_ED25519_PUBLIC;
	int r;

	if (!key)
		return -1;
	r = EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == SPLQ_ED25519_PUBLIC ? 0 : -1;
	EVP_PKEY_free(key); /* wipes its copy of the seed */
	return r;
}

int splq_ed25519_keypair(uint8_t seed[SPLQ_ED25519_SEED], uint8_t pub[SPLQ_ED25519_PUBLIC])
{
	if (splq_random(seed, SPLQ_ED25519_SEED) < 0 || splq_ed25519_public(seed, pub) < 0) {
		splq_wipe(seed, SPLQ_ED25519_SEED);
		return -1;
	}
	return 0;
}

int splq_ed25519_sign(const uint8_t seed[SPLQ_ED25519_SEED], const void *msg, size_t n,
                      uint8_t sig[SPLQ_ED25519_SIG])
{
	EVP_PKEY *key =
	    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SPLQ_ED25519_SEED);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = SPLQ_ED25519_SIG;
	int r = -1;

	if (key && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &len, msg ? msg : (const void *)"", n) == 1 &&
	    len == SPLQ_ED25519_SIG)
		r = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}

int splq_ed25519_verify(const uint8_t pub[SPLQ_ED25519_PUBLIC], const void *msg, size_t n,
                        const uint8_t sig[SPLQ_ED25519_SIG])
{
	EVP_PKEY *key =
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SPLQ_ED25519_PUBLIC);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = -1;

	if (key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, SPLQ_ED25519_SIG, msg ? msg : (const void *)"", n) == 1)
		r = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}

/* ---- BLAKE2b-512 ---- */

int splq_blake2b_begin(struct splq_blake2b *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx && EVP_DigestInit_ex(h->ctx, EVP_blake2b512(), NULL) == 1)
		return 0;
	splq_blake2b_free(h);
	return -1;
}

int splq_blake2b_feed(struct splq_blake2b *h, const void *data, size_t n)
{
	if (!h->ctx)
		return -1;
	return n == 0 || EVP_DigestUpdate(h->ctx, data, n) == 1 ? 0 : -1;
}

int splq_blake2b_final(struct splq_blake2b *h, uint8_t out[SPLQ_BLAKE2B])
{
	unsigned len = 0;
	int r;

	if (!h->ctx)
		return -1;
	r = EVP_DigestFinal_ex(h->ctx, out, &len) == 1 && len == SPLQ_BLAKE2B ? 0 : -1;
	splq_blake2b_free(h);
	return r;
}

void splq_blake2b_free(struct splq_blake2b *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int splq_blake2b(const void *data, size_t n, uint8_t out[SPLQ_BLAKE2B])
{
	struct splq_blake2b h;

	if (splq_blake2b_begin(&h) < 0)
		return -1;
	if (splq_blake2b_feed(&h, data, n) < 0) {
		splq_blake2b_free(&h);
		return -1;
	}
	return splq_blake2b_final(&h, out);
}

int splq_blake2b_fd(int fd, uint8_t out[SPLQ_BLAKE2B])
{
	cleanup_free uint8_t *buf = splq_xmalloc(FD_BLOCK);
	struct splq_blake2b h;
	ssize_t k;

	if (splq_blake2b_begin(&h) < 0)
		return -1;
	while ((k = read(fd, buf, FD_BLOCK)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 || splq_blake2b_feed(&h, buf, (size_t)k) < 0) {
			int e = errno;

			splq_blake2b_free(&h);
			errno = e; /* read's, for the caller's message */
			return -1;
		}
	}
	return splq_blake2b_final(&h, out);
}

/* ---- comparison, wiping ---- */

void splq_wipe(void *p, size_t n)
{
	if (n)
		OPENSSL_cleanse(p, n);
}

int splq_memeq_ct(const void *a, const void *b, size_t n)
{
	return n == 0 || CRYPTO_memcmp(a, b, n) == 0 ? 0 : -1;
}

/* ---- base64 ---- */

char *splq_base64_encode(const void *data, size_t n)
{
	const uint8_t *p = data;
	char *text, *w;

	if (n > (SIZE_MAX - 1) / 4 * 3)
		return NULL;
	text = w = splq_xmalloc((n + 2) / 3 * 4 + 1);
	*w = 0;
	while (n) {
		size_t k = n < PART ? n : PART;

		w += EVP_EncodeBlock((unsigned char *)w, p, (int)k); /* NUL-terminates */
		p += k;
		n -= k;
	}
	return text;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* The value of a base64 character (one b64_char accepts). */
static unsigned b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0' + 52);
	return c == '+' ? 62 : 63;
}

/* EVP_DecodeBlock skips white space at both ends, decodes padding as zero
 * bits and counts them as bytes: the text is checked here first (only the
 * alphabet, whole groups of four, "=" or "==" only at the end, no bits
 * set beyond the data), and the length is the real one. */
int splq_base64_decode(const char *text, size_t len, uint8_t *out, size_t max)
{
	size_t pad = 0, n, body;
	uint8_t last[3];

	if (len == 0)
		return 0;
	if (len % 4 || len / 4 * 3 > INT_MAX)
		return -1;
	if (text[len - 1] == '=')
		pad = text[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char(text[i]))
			return -1;
	/* the bits after the last byte are zero: one canonical text per data */
	if ((pad == 1 && b64_value(text[len - 2]) & 0x03) ||
	    (pad == 2 && b64_value(text[len - 3]) & 0x0f))
		return -1;
	n = len / 4 * 3 - pad;
	if (n > max)
		return -1;
	/* all groups but the last straight into out, the last through last[]
	 * (it decodes to three bytes, padding included) */
	body = len - 4;
	for (size_t i = 0; i < body; i += PART / 3 * 4) {
		size_t k = body - i < PART / 3 * 4 ? body - i : PART / 3 * 4;

		if (EVP_DecodeBlock(out + i / 4 * 3, (const unsigned char *)text + i, (int)k) < 0)
			return -1;
	}
	if (EVP_DecodeBlock(last, (const unsigned char *)text + body, 4) == 3)
		memcpy(out + body / 4 * 3, last, 3 - pad);
	else
		n = (size_t)-1;
	splq_wipe(last, sizeof(last));
	return n == (size_t)-1 ? -1 : (int)n;
}
