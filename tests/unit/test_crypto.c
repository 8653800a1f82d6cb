/* splq: unit tests for the cryptography over libcrypto (crypto.h): known
 * answers from the specifications, and refusals of what is not
 * authentic. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"

/* The bytes of a hex string (spaces skipped) into out; their number. */
static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned v;

		if (*s == ' ')
			continue;
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s++;
	}
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- AES-256-GCM: the GCM specification's test cases 13 to 16
 * (McGrew and Viega, "The Galois/Counter Mode of Operation", 256-bit
 * keys) ---- */

struct gcm_case {
	const char *key, *nonce, *aad, *plain, *cipher, *tag;
};

static const struct gcm_case gcm_cases[] = {
    {/* 13 */
     "00000000000000000000000000000000 00000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {/* 14 */
     "00000000000000000000000000000000 00000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {/* 15 */
     "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72 "
     "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa "
     "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {/* 16 */
     "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeef abaddad2",
     "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72 "
     "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa "
     "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

struct gcm_bytes {
	uint8_t key[32], nonce[12], aad[32], plain[64], cipher[64], tag[16];
	size_t aadlen, n;
};

static void gcm_load(const struct gcm_case *c, struct gcm_bytes *b)
{
	assert_int_equal(hex(c->key, b->key), SPLQ_AES_KEY);
	assert_int_equal(hex(c->nonce, b->nonce), SPLQ_GCM_NONCE);
	b->aadlen = hex(c->aad, b->aad);
	b->n = hex(c->plain, b->plain);
	assert_int_equal(hex(c->cipher, b->cipher), b->n);
	assert_int_equal(hex(c->tag, b->tag), SPLQ_GCM_TAG);
}

static void test_gcm_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(gcm_cases) / sizeof(gcm_cases[0]); i++) {
		struct gcm_bytes b;
		uint8_t out[64], tag[16], back[64];

		gcm_load(&gcm_cases[i], &b);
		assert_int_equal(
		    splq_gcm_seal(b.key, b.nonce, b.aad, b.aadlen, b.plain, b.n, out, tag), 0);
		assert_memory_equal(out, b.cipher, b.n);
		assert_memory_equal(tag, b.tag, SPLQ_GCM_TAG);
		assert_int_equal(
		    splq_gcm_open(b.key, b.nonce, b.aad, b.aadlen, b.cipher, b.n, back, b.tag), 0);
		assert_memory_equal(back, b.plain, b.n);
		/* in place, both ways */
		memcpy(out, b.plain, b.n);
		assert_int_equal(splq_gcm_seal(b.key, b.nonce, b.aad, b.aadlen, out, b.n, out, tag),
		                 0);
		assert_memory_equal(out, b.cipher, b.n);
		assert_int_equal(splq_gcm_open(b.key, b.nonce, b.aad, b.aadlen, out, b.n, out, tag),
		                 0);
		assert_memory_equal(out, b.plain, b.n);
	}
}

/* Open refuses a changed byte of the ciphertext, the tag, the nonce or
 * the aad (test case 16), and wipes what it had decrypted. */
static void test_gcm_refuses(void **state)
{
	struct gcm_bytes b, t;
	uint8_t out[64];

	gcm_load(&gcm_cases[3], &b);
	for (int what = 0; what < 5; what++) {
		t = b;
		switch (what) {
		case 0:
			t.cipher[17] ^= 0x01;
			break;
		case 1:
			t.tag[15] ^= 0x80;
			break;
		case 2:
			t.nonce[0] ^= 0x01;
			break;
		case 3:
			t.aad[19] ^= 0x01;
			break;
		case 4:
			t.aadlen--; /* an aad cut short */
			break;
		}
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(
		    splq_gcm_open(t.key, t.nonce, t.aad, t.aadlen, t.cipher, t.n, out, t.tag), -1);
		assert_true(all_zero(out, t.n));
		assert_int_equal(out[t.n], 0xa5); /* and nothing beyond */
	}
	/* another key */
	t = b;
	t.key[31] ^= 1;
	assert_int_equal(splq_gcm_open(t.key, t.nonce, t.aad, t.aadlen, t.cipher, t.n, out, t.tag),
	                 -1);
	/* no aad where there was one */
	assert_int_equal(splq_gcm_open(b.key, b.nonce, NULL, 0, b.cipher, b.n, out, b.tag), -1);
	/* a ciphertext one byte shorter */
	assert_int_equal(
	    splq_gcm_open(b.key, b.nonce, b.aad, b.aadlen, b.cipher, b.n - 1, out, b.tag), -1);
	/* a random key and nonce, a longer message */
	uint8_t key[32], nonce[12], tag[16];
	static uint8_t msg[100000], enc[100000], dec[100000];
	assert_int_equal(splq_random(key, sizeof(key)), 0);
	assert_int_equal(splq_random(nonce, sizeof(nonce)), 0);
	assert_int_equal(splq_random(msg, sizeof(msg)), 0);
	assert_int_equal(splq_gcm_seal(key, nonce, "hdr", 3, msg, sizeof(msg), enc, tag), 0);
	assert_int_equal(splq_gcm_open(key, nonce, "hdr", 3, enc, sizeof(msg), dec, tag), 0);
	assert_memory_equal(dec, msg, sizeof(msg));
	enc[sizeof(enc) - 1] ^= 1;
	assert_int_equal(splq_gcm_open(key, nonce, "hdr", 3, enc, sizeof(msg), dec, tag), -1);
	assert_true(all_zero(dec, sizeof(dec)));
}

/* ---- Ed25519: RFC 8032 section 7.1, TEST 1 to 3 ---- */

struct ed_case {
	const char *seed, *pub, *msg, *sig;
};

static const struct ed_case ed_cases[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static void test_ed25519(void **state)
{
	for (size_t i = 0; i < sizeof(ed_cases) / sizeof(ed_cases[0]); i++) {
		uint8_t seed[32], pub[32], want_pub[32], msg[8], want[64], sig[64], bad[64];
		size_t n;

		assert_int_equal(hex(ed_cases[i].seed, seed), SPLQ_ED25519_SEED);
		assert_int_equal(hex(ed_cases[i].pub, want_pub), SPLQ_ED25519_PUBLIC);
		assert_int_equal(hex(ed_cases[i].sig, want), SPLQ_ED25519_SIG);
		n = hex(ed_cases[i].msg, msg);
		assert_int_equal(n, i); /* 0, 1 and 2 bytes */
		assert_int_equal(splq_ed25519_public(seed, pub), 0);
		assert_memory_equal(pub, want_pub, 32);
		assert_int_equal(splq_ed25519_sign(seed, n ? msg : NULL, n, sig), 0);
		assert_memory_equal(sig, want, 64);
		assert_int_equal(splq_ed25519_verify(pub, msg, n, sig), 0);
		/* a flipped bit of the signature, anywhere in it */
		for (int bit = 0; bit < 512; bit += 37) {
			memcpy(bad, sig, 64);
			bad[bit / 8] ^= (uint8_t)(1 << bit % 8);
			assert_int_equal(splq_ed25519_verify(pub, msg, n, bad), -1);
		}
		/* of the message, of the public key; one byte more */
		if (n) {
			msg[0] ^= 0x01;
			assert_int_equal(splq_ed25519_verify(pub, msg, n, sig), -1);
			msg[0] ^= 0x01;
		}
		pub[3] ^= 0x10;
		assert_int_equal(splq_ed25519_verify(pub, msg, n, sig), -1);
		pub[3] ^= 0x10;
		msg[n] = 0;
		assert_int_equal(splq_ed25519_verify(pub, msg, n + 1, sig), -1);
	}
	/* a fresh pair signs and verifies; its seed gives its public key */
	uint8_t seed[32], pub[32], pub2[32], sig[64];
	assert_int_equal(splq_ed25519_keypair(seed, pub), 0);
	assert_int_equal(splq_ed25519_public(seed, pub2), 0);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(splq_ed25519_sign(seed, "message", 7, sig), 0);
	assert_int_equal(splq_ed25519_verify(pub, "message", 7, sig), 0);
	assert_int_equal(splq_ed25519_verify(pub, "messagf", 7, sig), -1);
}

/* ---- scrypt: RFC 7914 section 12, vectors 1 to 3 ---- */

static void test_scrypt(void **state)
{
	uint8_t out[64], want[64];

	hex("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
	    want);
	assert_int_equal(splq_scrypt("", 0, (const uint8_t *)"", 0, 4, 1, 1, out, 64), 0);
	assert_memory_equal(out, want, 64);
	assert_int_equal(splq_scrypt(NULL, 0, NULL, 0, 4, 1, 1, out, 64), 0);
	assert_memory_equal(out, want, 64);

	hex("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
	    want);
	assert_int_equal(splq_scrypt("password", 8, (const uint8_t *)"NaCl", 4, 10, 8, 16, out, 64),
	                 0);
	assert_memory_equal(out, want, 64);

	hex("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
	    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
	    want);
	assert_int_equal(splq_scrypt("pleaseletmein", 13, (const uint8_t *)"SodiumChloride", 14, 14,
	                             8, 1, out, 64),
	                 0);
	assert_memory_equal(out, want, 64);
	/* a shorter output is the start of the longer one */
	assert_int_equal(splq_scrypt("pleaseletmein", 13, (const uint8_t *)"SodiumChloride", 14, 14,
	                             8, 1, out, 32),
	                 0);
	assert_memory_equal(out, want, 32);

	/* parameters libcrypto refuses: N of 1 or 2^64, r*p too large, and
	 * 2 GiB of memory (N = 2^21, r = 8), beyond the 1 GiB allowed */
	assert_int_equal(splq_scrypt("p", 1, (const uint8_t *)"s", 1, 0, 8, 1, out, 64), -1);
	assert_int_equal(splq_scrypt("p", 1, (const uint8_t *)"s", 1, 64, 8, 1, out, 64), -1);
	assert_int_equal(splq_scrypt("p", 1, (const uint8_t *)"s", 1, 21, 8, 1, out, 64), -1);
	assert_int_equal(splq_scrypt("p", 1, (const uint8_t *)"s", 1, 4, 1u << 30, 4, out, 64), -1);
}

/* ---- BLAKE2b-512: RFC 7693 Appendix A ("abc"), and of nothing ---- */

static const char blake_abc[] = "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                                "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
static const char blake_empty[] =
    "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
    "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce";

static void test_blake2b(void **state)
{
	uint8_t out[64], want[64], part[64];
	struct splq_blake2b h;
	static uint8_t big[1000003];

	hex(blake_abc, want);
	assert_int_equal(splq_blake2b("abc", 3, out), 0);
	assert_memory_equal(out, want, 64);
	hex(blake_empty, want);
	assert_int_equal(splq_blake2b(NULL, 0, out), 0);
	assert_memory_equal(out, want, 64);
	assert_int_equal(splq_blake2b_begin(&h), 0);
	assert_int_equal(splq_blake2b_final(&h, out), 0);
	assert_memory_equal(out, want, 64);
	assert_null(h.ctx);

	/* in parts of every size, the same as at once */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 9));
	assert_int_equal(splq_blake2b(big, sizeof(big), want), 0);
	for (size_t step = 1; step < 200000; step = step * 3 + 1) {
		assert_int_equal(splq_blake2b_begin(&h), 0);
		for (size_t off = 0; off < sizeof(big); off += step) {
			size_t k = sizeof(big) - off < step ? sizeof(big) - off : step;

			assert_int_equal(splq_blake2b_feed(&h, big + off, k), 0);
		}
		assert_int_equal(splq_blake2b_feed(&h, NULL, 0), 0);
		assert_int_equal(splq_blake2b_final(&h, part), 0);
		assert_memory_equal(part, want, 64);
	}
	/* an ended one takes nothing more; free twice is harmless */
	assert_int_equal(splq_blake2b_feed(&h, "x", 1), -1);
	assert_int_equal(splq_blake2b_final(&h, part), -1);
	assert_int_equal(splq_blake2b_begin(&h), 0);
	assert_int_equal(splq_blake2b_feed(&h, "x", 1), 0);
	splq_blake2b_free(&h);
	splq_blake2b_free(&h);
}

static void test_blake2b_fd(void **state)
{
	char path[] = "/tmp/splq-test-crypto-XXXXXX";
	static uint8_t big[300001];
	uint8_t want[64], out[64];
	int fd, p[2];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(splq_blake2b(big, sizeof(big), want), 0);

	/* a file, larger than a block; what is left of it after a seek */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(splq_blake2b_fd(fd, out), 0);
	assert_memory_equal(out, want, 64);
	assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
	assert_int_equal(splq_blake2b_fd(fd, out), 0);
	assert_int_equal(splq_blake2b(big + 100, sizeof(big) - 100, want), 0);
	assert_memory_equal(out, want, 64);
	/* at its end: the hash of nothing */
	assert_int_equal(splq_blake2b_fd(fd, out), 0);
	hex(blake_empty, want);
	assert_memory_equal(out, want, 64);
	close(fd);

	/* a pipe, fed by a child in small writes */
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (size_t off = 0; off < sizeof(big); off += 4096) {
			size_t k = sizeof(big) - off < 4096 ? sizeof(big) - off : 4096;

			if (write(p[1], big + off, k) != (ssize_t)k)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(splq_blake2b_fd(p[0], out), 0);
	close(p[0]);
	assert_int_equal(splq_blake2b(big, sizeof(big), want), 0);
	assert_memory_equal(out, want, 64);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);

	/* a descriptor that is not open */
	errno = 0;
	assert_int_equal(splq_blake2b_fd(-1, out), -1);
	assert_int_equal(errno, EBADF);
}

/* ---- base64 ---- */

static void test_base64(void **state)
{
	/* RFC 4648 section 10 */
	static const char *const vec[][2] = {{"", ""},
	                                     {"f", "Zg=="},
	                                     {"fo", "Zm8="},
	                                     {"foo", "Zm9v"},
	                                     {"foob", "Zm9vYg=="},
	                                     {"fooba", "Zm9vYmE="},
	                                     {"foobar", "Zm9vYmFy"}};
	uint8_t out[400], data[300];

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *t = splq_base64_encode(vec[i][0], strlen(vec[i][0]));
		size_t n = strlen(vec[i][0]);

		assert_string_equal(t, vec[i][1]);
		free(t);
		assert_int_equal(splq_base64_decode(vec[i][1], strlen(vec[i][1]), out, sizeof(out)),
		                 (int)n);
		assert_memory_equal(out, vec[i][0], n);
		/* exactly the room needed, on the heap: no byte written past it */
		uint8_t *exact = malloc(n ? n : 1);
		assert_int_equal(splq_base64_decode(vec[i][1], strlen(vec[i][1]), exact, n),
		                 (int)n);
		assert_memory_equal(exact, vec[i][0], n);
		free(exact);
		if (n)
			assert_int_equal(
			    splq_base64_decode(vec[i][1], strlen(vec[i][1]), out, n - 1), -1);
	}

	/* round trips of every length up to 300 */
	assert_int_equal(splq_random(data, sizeof(data)), 0);
	for (size_t n = 0; n <= sizeof(data); n++) {
		char *t = splq_base64_encode(data, n);

		assert_int_equal(strlen(t), (n + 2) / 3 * 4);
		assert_int_equal(splq_base64_decode(t, strlen(t), out, sizeof(out)), (int)n);
		assert_memory_equal(out, data, n);
		free(t);
	}

	/* not base64: lengths, padding, white space, other alphabets, bits
	 * set after the data, NUL */
	static const char *const bad[] = {
	    "Zg=",  "Zg",      "Z",     "Z===",  "====",     "=Zg=",      "Zg==Zg==",
	    "Zm=v", "Zm9v\n",  " Zm9v", "Zm9v ", "Zm 9v===", "Zm9vYg=\n", "Zm9vYmE=\r\n",
	    "Zm-_", "Zm9\x80", "Zh==",  "Zm9=",  "Zm9vYh==", "Zm9vYmF=",  "\tZm9v",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(splq_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	assert_int_equal(splq_base64_decode("Zm\0v", 4, out, sizeof(out)), -1);
	assert_int_equal(splq_base64_decode("Zm9v\0", 5, out, sizeof(out)), -1);
	/* a length that counts only part of the text */
	assert_int_equal(splq_base64_decode("Zm9vYmFy", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "foo", 3);
}

/* ---- the rest ---- */

static void test_memeq_random(void **state)
{
	uint8_t a[32], b[32];

	assert_int_equal(splq_memeq_ct("abcd", "abcd", 4), 0);
	assert_int_not_equal(splq_memeq_ct("abcd", "abce", 4), 0);
	assert_int_not_equal(splq_memeq_ct("\x80", "\x00", 1), 0);
	assert_int_equal(splq_memeq_ct("x", "y", 0), 0);
	assert_int_equal(splq_random(a, sizeof(a)), 0);
	assert_int_equal(splq_random(b, sizeof(b)), 0);
	assert_int_not_equal(splq_memeq_ct(a, b, sizeof(a)), 0);
	assert_int_equal(splq_random(a, 0), 0);
	memcpy(b, a, sizeof(b));
	assert_int_equal(splq_memeq_ct(a, b, sizeof(a)), 0);
	splq_wipe(a, sizeof(a));
	assert_true(all_zero(a, sizeof(a)));
	splq_wipe(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gcm_vectors), cmocka_unit_test(test_gcm_refuses),
	    cmocka_unit_test(test_ed25519),     cmocka_unit_test(test_scrypt),
	    cmocka_unit_test(test_blake2b),     cmocka_unit_test(test_blake2b_fd),
	    cmocka_unit_test(test_base64),      cmocka_unit_test(test_memeq_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
