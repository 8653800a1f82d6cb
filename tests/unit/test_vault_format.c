/* splq: unit tests for the vault's files (formats/vault.h): names, the
 * master key file, records, the index and a service's fields.  Every byte
 * of a master key file and of a record is changed in turn, and records are
 * moved, swapped, cut short and rolled back: none of it may open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/vault.h"
#include "util.h"

static const uint8_t MK[SPLQ_AES_KEY] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
static const uint8_t OTHER_MK[SPLQ_AES_KEY] = {
    0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
static const char PASSPHRASE[] = "correct horse battery staple";

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* An exact-size heap copy of n bytes of p (at least one byte allocated),
 * so that the sanitizers see a read past its end. */
static uint8_t *copy(const void *p, size_t n)
{
	uint8_t *c = splq_xmalloc(n ? n : 1);

	if (n)
		memcpy(c, p, n);
	return c;
}

static void expect_err(int rc, const struct splq_error *err, int code, const char *what)
{
	assert_int_equal(rc, -1);
	assert_int_equal(err->code, code);
	if (what && !strstr(err->msg, what))
		fail_msg("message \"%s\" does not say \"%s\"", err->msg, what);
}

/* ---------- names ---------- */

static void expect_name_bad(const char *name, const char *what)
{
	struct splq_error err = {0};

	expect_err(splq_vault_name_check(name, &err), &err, SPLQ_E_NAME, what);
}

static void test_name_check(void **state)
{
	char name[SPLQ_VAULT_NAME_MAX + 2];
	static const char *const good[] = {
	    "a",       "Z",    "0",
	    "_",       "_x",   "db.password",
	    "a-b",     "a.",   "a-",
	    "A_b.c-9", "x..y", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"};
	struct splq_error err = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (splq_vault_name_check(good[i], &err) < 0)
			fail_msg("'%s': %s", good[i], err.msg);
	memset(name, 'n', sizeof(name));
	name[SPLQ_VAULT_NAME_MAX] = 0;
	assert_int_equal(splq_vault_name_check(name, NULL), 0);
	name[SPLQ_VAULT_NAME_MAX] = 'n';
	name[SPLQ_VAULT_NAME_MAX + 1] = 0;
	expect_name_bad(name, "1 to 64 characters, not 65");
	expect_name_bad("", "1 to 64 characters, not 0");
	expect_name_bad(".a", "may not start with '.'");
	expect_name_bad(".", "may not start with '.'");
	expect_name_bad("..", "may not start with '.'");
	expect_name_bad("-a", "may not start with '-'");
	expect_name_bad("a/b", "only letters, digits");
	expect_name_bad("/", "only letters, digits");
	expect_name_bad("a+b", "only letters, digits");
	expect_name_bad("a b", "only letters, digits");
	expect_name_bad(" a", "only letters, digits");
	expect_name_bad("a\tb", "only letters, digits");
	expect_name_bad("a\nb", "only letters, digits");
	expect_name_bad("a:b", "only letters, digits");
	expect_name_bad("a*", "only letters, digits");
	expect_name_bad("caf\xc3\xa9", "only letters, digits");
	expect_name_bad("\xff", "only letters, digits");
	expect_name_bad("a\x80", "only letters, digits");
	expect_name_bad("a\x7f", "only letters, digits");
	/* without err */
	assert_int_equal(splq_vault_name_check("a/b", NULL), -1);
}

/* ---------- the master key ---------- */

static void scrypt_master(struct splq_vault_master *m, uint32_t generation)
{
	memset(m, 0, sizeof(*m));
	m->kdf = SPLQ_VAULT_SCRYPT;
	m->log2n = 10;
	m->r = 8;
	m->p = 1;
	m->generation = generation;
	assert_int_equal(splq_random(m->salt, sizeof(m->salt)), 0);
}

static void keyfile_master(struct splq_vault_master *m, uint32_t generation)
{
	memset(m, 0, sizeof(*m));
	m->kdf = SPLQ_VAULT_KEYFILE;
	m->generation = generation;
	assert_int_equal(splq_random(m->salt, sizeof(m->salt)), 0);
}

static void kek_of(const struct splq_vault_master *m, const void *secret, size_t len,
                   uint8_t kek[SPLQ_AES_KEY])
{
	struct splq_error err = {0};

	if (splq_vault_kek(m, secret, len, kek, &err) < 0)
		fail_msg("%s", err.msg);
}

static void seal_master(struct splq_vault_master *m, const void *secret, size_t len,
                        const uint8_t mk[SPLQ_AES_KEY], uint8_t out[SPLQ_VAULT_MASTER_SIZE])
{
	struct splq_error err = {0};
	uint8_t kek[SPLQ_AES_KEY];

	kek_of(m, secret, len, kek);
	if (splq_vault_master_seal(m, kek, mk, out, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The file's bytes where vault.h puts them. */
static void check_master_layout(const uint8_t *buf, const struct splq_vault_master *m,
                                const uint8_t kek[SPLQ_AES_KEY], const uint8_t mk[SPLQ_AES_KEY])
{
	uint8_t plain[SPLQ_AES_KEY];

	assert_memory_equal(buf, "splqVMK1", 8);
	assert_int_equal(buf[8], m->kdf);
	assert_int_equal(buf[9], m->log2n);
	assert_int_equal(buf[10], 0);
	assert_int_equal(buf[11], 0);
	assert_int_equal(be32(buf + 12), m->r);
	assert_int_equal(be32(buf + 16), m->p);
	assert_int_equal(be32(buf + 20), m->generation);
	assert_memory_equal(buf + 24, m->salt, 32);
	assert_memory_equal(buf + 56, m->nonce, 12);
	assert_memory_equal(buf + 68, m->sealed, 32);
	assert_memory_equal(buf + 100, m->tag, 16);
	/* the MK is not in the clear, and it is AES-256-GCM under the KEK
	 * with bytes 0..55 as associated data */
	assert_memory_not_equal(buf + 68, mk, 32);
	assert_int_equal(splq_gcm_open(kek, buf + 56, buf, 56, buf + 68, 32, plain, buf + 100), 0);
	assert_memory_equal(plain, mk, 32);
}

static void test_master_scrypt(void **state)
{
	struct splq_vault_master m, back;
	struct splq_error err = {0};
	uint8_t file[SPLQ_VAULT_MASTER_SIZE], again[SPLQ_VAULT_MASTER_SIZE];
	uint8_t kek[SPLQ_AES_KEY], mk[SPLQ_AES_KEY];

	scrypt_master(&m, 0x01020304);
	seal_master(&m, PASSPHRASE, strlen(PASSPHRASE), MK, file);
	assert_int_equal(splq_vault_master_parse(file, sizeof(file), &back, &err), 0);
	assert_int_equal(back.kdf, SPLQ_VAULT_SCRYPT);
	assert_int_equal(back.log2n, 10);
	assert_int_equal(back.r, 8);
	assert_int_equal(back.p, 1);
	assert_int_equal(back.generation, 0x01020304);
	assert_memory_equal(back.salt, m.salt, 32);
	assert_memory_equal(back.nonce, m.nonce, 12);
	assert_memory_equal(file + 20, ((uint8_t[]){1, 2, 3, 4}), 4);
	assert_memory_equal(file + 12, ((uint8_t[]){0, 0, 0, 8}), 4);
	assert_memory_equal(file + 16, ((uint8_t[]){0, 0, 0, 1}), 4);
	kek_of(&back, PASSPHRASE, strlen(PASSPHRASE), kek);
	check_master_layout(file, &back, kek, MK);
	assert_int_equal(splq_vault_master_open(&back, kek, mk, &err), 0);
	assert_memory_equal(mk, MK, 32);

	/* a wrong passphrase, one a byte shorter, an empty one */
	kek_of(&back, "correct horse battery stapl3", 28, kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET,
	           "wrong passphrase");
	kek_of(&back, PASSPHRASE, strlen(PASSPHRASE) - 1, kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET,
	           "wrong passphrase");
	kek_of(&back, "", 0, kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET,
	           "wrong passphrase");

	/* a passphrase change: the same MK sealed again, new salt and nonce */
	scrypt_master(&m, 0x01020304);
	seal_master(&m, "another passphrase", 18, MK, again);
	assert_memory_not_equal(again + 24, file + 24, 32);
	assert_memory_not_equal(again + 56, file + 56, 12);
	assert_int_equal(splq_vault_master_parse(again, sizeof(again), &back, &err), 0);
	kek_of(&back, "another passphrase", 18, kek);
	assert_int_equal(splq_vault_master_open(&back, kek, mk, &err), 0);
	assert_memory_equal(mk, MK, 32);
	kek_of(&back, PASSPHRASE, strlen(PASSPHRASE), kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET, NULL);

	/* the same passphrase and salt sealed twice: a fresh nonce each time */
	seal_master(&m, "another passphrase", 18, MK, file);
	assert_memory_equal(file + 24, again + 24, 32);
	assert_memory_not_equal(file + 56, again + 56, 12);
}

static void test_master_keyfile(void **state)
{
	struct splq_vault_master m, back;
	struct splq_error err = {0};
	uint8_t file[SPLQ_VAULT_MASTER_SIZE];
	uint8_t keyfile[100], kek[SPLQ_AES_KEY], mk[SPLQ_AES_KEY];
	uint8_t h[SPLQ_BLAKE2B], input[20 + 32 + sizeof(keyfile)];

	assert_int_equal(splq_random(keyfile, sizeof(keyfile)), 0);
	keyfile_master(&m, 1);
	seal_master(&m, keyfile, sizeof(keyfile), MK, file);
	assert_int_equal(splq_vault_master_parse(file, sizeof(file), &back, &err), 0);
	assert_int_equal(back.kdf, SPLQ_VAULT_KEYFILE);
	assert_int_equal(back.log2n, 0);
	assert_int_equal(back.r, 0);
	assert_int_equal(back.p, 0);
	assert_int_equal(back.generation, 1);
	assert_int_equal(file[8], 2);
	assert_int_equal(file[9], 0);
	assert_memory_equal(file + 20, ((uint8_t[]){0, 0, 0, 1}), 4);
	kek_of(&back, keyfile, sizeof(keyfile), kek);
	check_master_layout(file, &back, kek, MK);
	assert_int_equal(splq_vault_master_open(&back, kek, mk, &err), 0);
	assert_memory_equal(mk, MK, 32);

	/* the KEK: the first 32 bytes of BLAKE2b-512 of the label (hashed
	 * with its terminating NUL, 20 bytes), the salt and the file */
	memcpy(input, "splq vault key file", 20);
	memcpy(input + 20, back.salt, 32);
	memcpy(input + 52, keyfile, sizeof(keyfile));
	assert_int_equal(splq_blake2b(input, sizeof(input), h), 0);
	assert_memory_equal(kek, h, SPLQ_AES_KEY);

	/* another key file: one bit changed, one byte less, the smallest */
	keyfile[50] ^= 0x04;
	kek_of(&back, keyfile, sizeof(keyfile), kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET,
	           "wrong key file");
	keyfile[50] ^= 0x04;
	kek_of(&back, keyfile, sizeof(keyfile) - 1, kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET,
	           "wrong key file");
	kek_of(&back, keyfile, SPLQ_VAULT_KEYFILE_MIN, kek);
	expect_err(splq_vault_master_open(&back, kek, mk, &err), &err, SPLQ_E_BADSECRET,
	           "wrong key file");

	/* a key file of exactly SPLQ_VAULT_KEYFILE_MIN bytes is enough */
	keyfile_master(&m, 2);
	seal_master(&m, keyfile, SPLQ_VAULT_KEYFILE_MIN, OTHER_MK, file);
	assert_int_equal(splq_vault_master_parse(file, sizeof(file), &back, &err), 0);
	kek_of(&back, keyfile, SPLQ_VAULT_KEYFILE_MIN, kek);
	assert_int_equal(splq_vault_master_open(&back, kek, mk, &err), 0);
	assert_memory_equal(mk, OTHER_MK, 32);

	/* one shorter is not */
	expect_err(splq_vault_kek(&back, keyfile, SPLQ_VAULT_KEYFILE_MIN - 1, kek, &err), &err,
	           SPLQ_E_VALUE, "at least 32 bytes, not 31");
	expect_err(splq_vault_kek(&back, keyfile, 0, kek, &err), &err, SPLQ_E_VALUE,
	           "at least 32 bytes, not 0");
}

static void expect_kek_bad(int kdf, unsigned log2n, uint32_t r, uint32_t p, const char *what)
{
	struct splq_vault_master m;
	struct splq_error err = {0};
	uint8_t kek[SPLQ_AES_KEY];

	scrypt_master(&m, 1);
	m.kdf = kdf;
	m.log2n = log2n;
	m.r = r;
	m.p = p;
	expect_err(splq_vault_kek(&m, PASSPHRASE, strlen(PASSPHRASE), kek, &err), &err,
	           SPLQ_E_VALUE, what);
}

static void test_kek_params(void **state)
{
	struct splq_vault_master m;
	uint8_t kek[SPLQ_AES_KEY], kek2[SPLQ_AES_KEY];

	expect_kek_bad(SPLQ_VAULT_SCRYPT, 9, 8, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 0, 8, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 23, 8, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 255, 8, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 10, 0, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 10, 33, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 10, UINT32_MAX, 1, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 10, 8, 0, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 10, 8, 17, "out of range");
	expect_kek_bad(SPLQ_VAULT_SCRYPT, 10, 8, UINT32_MAX, "N=2^10 r=8 p=4294967295");
	expect_kek_bad(0, 10, 8, 1, "no such way");
	expect_kek_bad(3, 10, 8, 1, "no such way");
	expect_kek_bad(-1, 10, 8, 1, "no such way");

	/* the edges that are in range and cheap; the salt and every
	 * parameter change the KEK */
	scrypt_master(&m, 1);
	m.r = 1;
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek);
	m.r = 32;
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek2);
	assert_memory_not_equal(kek, kek2, 32);
	m.r = 1;
	m.p = 16;
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek2);
	assert_memory_not_equal(kek, kek2, 32);
	m.p = 1;
	m.log2n = 11;
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek2);
	assert_memory_not_equal(kek, kek2, 32);
	m.log2n = 10;
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek2);
	assert_memory_equal(kek, kek2, 32);
	m.salt[31] ^= 1;
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek2);
	assert_memory_not_equal(kek, kek2, 32);
}

static void test_master_parse_refuses(void **state)
{
	struct splq_vault_master m;
	struct splq_error err = {0};
	uint8_t file[SPLQ_VAULT_MASTER_SIZE + 1];

	scrypt_master(&m, 1);
	seal_master(&m, PASSPHRASE, strlen(PASSPHRASE), MK, file);
	file[SPLQ_VAULT_MASTER_SIZE] = 0;
	for (size_t len = 0; len <= SPLQ_VAULT_MASTER_SIZE + 1; len++) {
		if (len == SPLQ_VAULT_MASTER_SIZE)
			continue;
		cleanup_free uint8_t *c = copy(file, len);
		expect_err(splq_vault_master_parse(c, len, &m, &err), &err, SPLQ_E_CORRUPT,
		           "not one of splq's");
	}
	file[10] = 1;
	expect_err(splq_vault_master_parse(file, SPLQ_VAULT_MASTER_SIZE, &m, &err), &err,
	           SPLQ_E_CORRUPT, "unknown flags");
	file[10] = 0;
	file[11] = 0x80;
	expect_err(splq_vault_master_parse(file, SPLQ_VAULT_MASTER_SIZE, &m, &err), &err,
	           SPLQ_E_CORRUPT, "unknown flags");
	file[11] = 0;
	file[8] = 0;
	expect_err(splq_vault_master_parse(file, SPLQ_VAULT_MASTER_SIZE, &m, &err), &err,
	           SPLQ_E_CORRUPT, "no known KDF (0)");
	file[8] = 3;
	expect_err(splq_vault_master_parse(file, SPLQ_VAULT_MASTER_SIZE, &m, &err), &err,
	           SPLQ_E_CORRUPT, "no known KDF (3)");
	file[8] = SPLQ_VAULT_SCRYPT;
	file[7] = '2';
	expect_err(splq_vault_master_parse(file, SPLQ_VAULT_MASTER_SIZE, &m, &err), &err,
	           SPLQ_E_CORRUPT, "not one of splq's");
}

/* Every byte of a master file changed, three ways: the file does not
 * parse (SPLQ_E_CORRUPT) or does not open (SPLQ_E_BADSECRET), neither
 * with the KEK it was sealed with nor with the one the changed file's
 * own parameters give the right secret (which may also be out of range:
 * SPLQ_E_VALUE); it never opens. */
static void master_every_byte(const uint8_t *file, const uint8_t kek[SPLQ_AES_KEY],
                              const void *secret, size_t len)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	struct splq_vault_master m;
	struct splq_error err = {0};
	uint8_t mk[SPLQ_AES_KEY], kek2[SPLQ_AES_KEY];
	int parsed = 0;

	for (size_t i = 0; i < SPLQ_VAULT_MASTER_SIZE; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			cleanup_free uint8_t *c = copy(file, SPLQ_VAULT_MASTER_SIZE);
			c[i] ^= masks[k];
			err.code = 0;
			if (splq_vault_master_parse(c, SPLQ_VAULT_MASTER_SIZE, &m, &err) < 0) {
				if (err.code != SPLQ_E_CORRUPT)
					fail_msg("byte %zu ^ %#x: parse says %d", i, masks[k],
					         err.code);
				continue;
			}
			parsed++;
			memset(mk, 0xa5, sizeof(mk));
			if (splq_vault_master_open(&m, kek, mk, &err) == 0)
				fail_msg("byte %zu ^ %#x: opened", i, masks[k]);
			assert_int_equal(err.code, SPLQ_E_BADSECRET);
			if (splq_vault_kek(&m, secret, len, kek2, &err) < 0) {
				assert_int_equal(err.code, SPLQ_E_VALUE);
				continue;
			}
			if (splq_vault_master_open(&m, kek2, mk, &err) == 0)
				fail_msg("byte %zu ^ %#x: opened with its own KEK", i, masks[k]);
			assert_int_equal(err.code, SPLQ_E_BADSECRET);
		}
	}
	/* all but the changes of the magic, the KDF and the zero bytes parse:
	 * the tag is what refuses them */
	assert_int_equal(parsed, 3 * (SPLQ_VAULT_MASTER_SIZE - 11));
}

static void test_master_every_byte(void **state)
{
	struct splq_vault_master m;
	uint8_t file[SPLQ_VAULT_MASTER_SIZE], kek[SPLQ_AES_KEY], keyfile[64];

	scrypt_master(&m, 5);
	seal_master(&m, PASSPHRASE, strlen(PASSPHRASE), MK, file);
	kek_of(&m, PASSPHRASE, strlen(PASSPHRASE), kek);
	master_every_byte(file, kek, PASSPHRASE, strlen(PASSPHRASE));

	assert_int_equal(splq_random(keyfile, sizeof(keyfile)), 0);
	keyfile_master(&m, 5);
	seal_master(&m, keyfile, sizeof(keyfile), MK, file);
	kek_of(&m, keyfile, sizeof(keyfile), kek);
	master_every_byte(file, kek, keyfile, sizeof(keyfile));
}

/* ---------- records ---------- */

static struct splq_vault_entry entry(int kind, const char *name, uint64_t version, uint64_t size)
{
	struct splq_vault_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	assert_true(strlen(name) <= SPLQ_VAULT_NAME_MAX);
	strcpy(e.name, name);
	e.version = version;
	e.size = size;
	return e;
}

static uint8_t *seal_record(uint32_t gen, const struct splq_vault_entry *e, const void *value,
                            size_t n, size_t *len)
{
	struct splq_error err = {0};
	uint8_t *out = NULL;

	if (splq_vault_record_seal(MK, gen, e, value, n, &out, len, &err) < 0)
		fail_msg("%s", err.msg);
	return out;
}

/* Open an exact-size copy of buf as e's record: what it says, and with
 * value and n as on failure (NULL, 0) checked. */
static int open_record(const uint8_t *mk, uint32_t gen, const struct splq_vault_entry *e,
                       const uint8_t *buf, size_t len, uint8_t **value, size_t *n,
                       struct splq_error *err)
{
	cleanup_free uint8_t *c = copy(buf, len);

	*value = (uint8_t *)"not set";
	*n = 12345;
	err->code = 0;
	int rc = splq_vault_record_open(mk, gen, e, c, len, value, n, err);
	if (rc < 0) {
		assert_null(*value);
		assert_int_equal(*n, 0);
		assert_int_equal(err->code, SPLQ_E_INTEGRITY);
	}
	return rc;
}

static void expect_record_bad(const uint8_t *mk, uint32_t gen, const struct splq_vault_entry *e,
                              const uint8_t *buf, size_t len, const char *what)
{
	struct splq_error err = {0};
	uint8_t *value;
	size_t n;

	assert_int_equal(open_record(mk, gen, e, buf, len, &value, &n, &err), -1);
	if (what && !strstr(err.msg, what))
		fail_msg("message \"%s\" does not say \"%s\"", err.msg, what);
}

static void round_trip(int kind, const char *name, uint32_t gen, uint64_t version,
                       const void *value, size_t n)
{
	struct splq_vault_entry e = entry(kind, name, version, n);
	struct splq_error err = {0};
	size_t len, l = strlen(name), got_n;
	uint8_t *got;

	cleanup_free uint8_t *rec = seal_record(gen, &e, value, n, &len);
	assert_int_equal(len, 44 + l + n + 16);
	assert_memory_equal(rec, "splqVRC1", 8);
	assert_int_equal(rec[8], kind);
	assert_int_equal(rec[9], l);
	assert_int_equal(rec[10], 0);
	assert_int_equal(rec[11], 0);
	assert_int_equal(be32(rec + 12), gen);
	assert_int_equal(be64(rec + 16), version);
	assert_int_equal(be64(rec + 24), n);
	assert_memory_equal(rec + 44, name, l);
	if (n >= 16)
		assert_memory_not_equal(rec + 44 + l, value, n);
	/* AES-256-GCM under the MK with the nonce at 32 and bytes 0..43+L as
	 * associated data */
	cleanup_free uint8_t *plain = splq_xmalloc(n ? n : 1);
	assert_int_equal(
	    splq_gcm_open(MK, rec + 32, rec, 44 + l, rec + 44 + l, n, plain, rec + 44 + l + n), 0);
	if (n)
		assert_memory_equal(plain, value, n);

	if (open_record(MK, gen, &e, rec, len, &got, &got_n, &err) < 0)
		fail_msg("%s", err.msg);
	assert_non_null(got);
	assert_int_equal(got_n, n);
	if (n)
		assert_memory_equal(got, value, n);
	splq_wipe(got, got_n);
	free(got);
}

static void test_record_round_trip(void **state)
{
	uint8_t binary[512], seed[SPLQ_ED25519_SEED + 8];
	char longest[SPLQ_VAULT_NAME_MAX + 1];
	size_t mib = 1 << 20;
	cleanup_free uint8_t *big = splq_xmalloc(mib);

	round_trip(SPLQ_VAULT_SECRET, "empty", 1, 1, "", 0);
	round_trip(SPLQ_VAULT_SECRET, "x", 1, 1, "a", 1);
	round_trip(SPLQ_VAULT_SECRET, "nul", 1, 2, "\0", 1);
	for (size_t i = 0; i < sizeof(binary); i++)
		binary[i] = (uint8_t)(i * 7 + 3);
	round_trip(SPLQ_VAULT_SECRET, "binary.bin", 9, 1, binary, sizeof(binary));
	assert_int_equal(splq_random(big, mib), 0);
	round_trip(SPLQ_VAULT_SECRET, "one-mib", 3, 77, big, mib);
	assert_int_equal(splq_random(seed, sizeof(seed)), 0);
	round_trip(SPLQ_VAULT_SIGNKEY, "release-key", 0xfffffffe, UINT64_MAX - 1, seed,
	           sizeof(seed));
	memset(longest, 'L', SPLQ_VAULT_NAME_MAX);
	longest[SPLQ_VAULT_NAME_MAX] = 0;
	round_trip(SPLQ_VAULT_SECRET, longest, 1, 1, "v", 1);
}

/* Two seals of the same value under the same entry: fresh nonces, so
 * different bytes; both open. */
static void test_record_fresh_nonce(void **state)
{
	struct splq_vault_entry e = entry(SPLQ_VAULT_SECRET, "api-token", 4, 6);
	struct splq_error err = {0};
	size_t len1, len2, n;
	uint8_t *v;

	cleanup_free uint8_t *a = seal_record(2, &e, "secret", 6, &len1);
	cleanup_free uint8_t *b = seal_record(2, &e, "secret", 6, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a + 32, b + 32, 12);
	assert_memory_not_equal(a + 44 + 9, b + 44 + 9, 6 + 16);
	assert_int_equal(open_record(MK, 2, &e, a, len1, &v, &n, &err), 0);
	free(v);
	assert_int_equal(open_record(MK, 2, &e, b, len2, &v, &n, &err), 0);
	free(v);
}

/* Each byte of a small record changed (three ways), then every shorter
 * length, then a byte more: all refused, nothing handed out. */
static void test_record_every_byte(void **state)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	struct splq_vault_entry e = entry(SPLQ_VAULT_SECRET, "db.password", 3, 7);
	struct splq_error err = {0};
	uint8_t *v;
	size_t len, n;

	cleanup_free uint8_t *rec = seal_record(1, &e, "hunter2", 7, &len);
	assert_int_equal(len, 44 + 11 + 7 + 16);
	for (size_t i = 0; i < len; i++)
		for (size_t k = 0; k < sizeof(masks); k++) {
			cleanup_free uint8_t *c = copy(rec, len);
			c[i] ^= masks[k];
			if (open_record(MK, 1, &e, c, len, &v, &n, &err) == 0)
				fail_msg("byte %zu ^ %#x: opened", i, masks[k]);
		}
	for (size_t l = 0; l < len; l++)
		expect_record_bad(MK, 1, &e, rec, l, NULL);
	cleanup_free uint8_t *longer = splq_xmalloc(len + 1);
	memcpy(longer, rec, len);
	longer[len] = 0;
	expect_record_bad(MK, 1, &e, longer, len + 1, "wrong length");
	/* the record itself still opens */
	assert_int_equal(open_record(MK, 1, &e, rec, len, &v, &n, &err), 0);
	assert_memory_equal(v, "hunter2", 7);
	free(v);
}

/* A record with a long name cut short anywhere: refused without reading
 * past its end (the sanitizers watch the exact-size copies). */
static void test_record_truncated(void **state)
{
	const char *name = "production.database.password.of.the-billing-service";
	struct splq_vault_entry e = entry(SPLQ_VAULT_SECRET, name, 1, 3);
	size_t len;

	cleanup_free uint8_t *rec = seal_record(1, &e, "abc", 3, &len);
	for (size_t l = 0; l < len; l++)
		expect_record_bad(MK, 1, &e, rec, l, NULL);
	expect_record_bad(MK, 1, &e, rec, 7, "not one of splq's");
	expect_record_bad(MK, 1, &e, rec, 44 + 16 - 1, "not one of splq's");
	expect_record_bad(MK, 1, &e, rec, 44 + 16, "another name");
	expect_record_bad(MK, 1, &e, rec, 44 + strlen(name) + 16 - 1, "another name");
	expect_record_bad(MK, 1, &e, rec, 44 + strlen(name) + 16, "wrong length");
	expect_record_bad(MK, 1, &e, rec, len - 1, "wrong length");
}

/* A record read as another entry's, or under another MK or generation:
 * refused, saying what does not agree. */
static void test_record_moved(void **state)
{
	struct splq_vault_entry e = entry(SPLQ_VAULT_SECRET, "mail", 5, 4);
	struct splq_vault_entry other = entry(SPLQ_VAULT_SECRET, "bank", 2, 4);
	struct splq_vault_entry x;
	size_t len, olen;

	cleanup_free uint8_t *rec = seal_record(7, &e, "pass", 4, &len);
	cleanup_free uint8_t *orec = seal_record(7, &other, "word", 4, &olen);
	/* other names: same length, longer, shorter, a prefix */
	x = entry(SPLQ_VAULT_SECRET, "bank", 5, 4);
	expect_record_bad(MK, 7, &x, rec, len, "another name's (moved or swapped)");
	x = entry(SPLQ_VAULT_SECRET, "mail2", 5, 4);
	expect_record_bad(MK, 7, &x, rec, len, "another name");
	x = entry(SPLQ_VAULT_SECRET, "mai", 5, 4);
	expect_record_bad(MK, 7, &x, rec, len, "another name");
	x = entry(SPLQ_VAULT_SECRET, "Mail", 5, 4);
	expect_record_bad(MK, 7, &x, rec, len, "another name");
	/* two records swapped */
	expect_record_bad(MK, 7, &e, orec, olen, "another name");
	expect_record_bad(MK, 7, &other, rec, len, "another name");
	/* another kind */
	x = entry(SPLQ_VAULT_SIGNKEY, "mail", 5, 4);
	expect_record_bad(MK, 7, &x, rec, len, "another kind");
	x = entry(0, "mail", 5, 4);
	expect_record_bad(MK, 7, &x, rec, len, "another kind");
	/* another generation of the MK, older and newer */
	expect_record_bad(MK, 6, &e, rec, len, "another master key (generation 7, not 6)");
	expect_record_bad(MK, 8, &e, rec, len, "another master key");
	/* an older version of the record where the index holds a newer one,
	 * and the reverse */
	x = entry(SPLQ_VAULT_SECRET, "mail", 6, 4);
	expect_record_bad(MK, 7, &x, rec, len, "version 5, not version 6 (rolled back?)");
	x = entry(SPLQ_VAULT_SECRET, "mail", 4, 4);
	expect_record_bad(MK, 7, &x, rec, len, "not version 4");
	x = entry(SPLQ_VAULT_SECRET, "mail", 5 + (1ull << 32), 4);
	expect_record_bad(MK, 7, &x, rec, len, "rolled back");
	/* another size */
	x = entry(SPLQ_VAULT_SECRET, "mail", 5, 3);
	expect_record_bad(MK, 7, &x, rec, len, "wrong length");
	x = entry(SPLQ_VAULT_SECRET, "mail", 5, 5);
	expect_record_bad(MK, 7, &x, rec, len, "wrong length");
	/* another MK */
	expect_record_bad(OTHER_MK, 7, &e, rec, len, "does not authenticate");
}

/* The header rewritten to what the index holds (as one with write access
 * to the volume could): the tag still refuses it. */
static void test_record_header_rewritten(void **state)
{
	struct splq_vault_entry v1 = entry(SPLQ_VAULT_SECRET, "mail", 1, 4);
	struct splq_vault_entry v2 = entry(SPLQ_VAULT_SECRET, "mail", 2, 4);
	struct splq_vault_entry key = entry(SPLQ_VAULT_SIGNKEY, "mail", 1, 4);
	size_t len, klen;

	cleanup_free uint8_t *rec = seal_record(3, &v1, "old!", 4, &len);
	put_be64(rec + 16, 2);
	expect_record_bad(MK, 3, &v2, rec, len, "does not authenticate");
	put_be64(rec + 16, 1);
	put_be32(rec + 12, 4);
	expect_record_bad(MK, 4, &v1, rec, len, "does not authenticate");
	cleanup_free uint8_t *krec = seal_record(3, &key, "seed", 4, &klen);
	krec[8] = SPLQ_VAULT_SECRET;
	expect_record_bad(MK, 3, &v1, krec, klen, "does not authenticate");
}

static void test_record_seal_refuses(void **state)
{
	struct splq_vault_entry e = entry(SPLQ_VAULT_SECRET, "x", 1, 3);
	struct splq_error err = {0};
	uint8_t *out = (uint8_t *)"not set";
	size_t len;

	expect_err(splq_vault_record_seal(MK, 1, &e, "ab", 2, &out, &len, &err), &err,
	           SPLQ_E_INTERNAL, "bad entry");
	assert_null(out);
	e = entry(SPLQ_VAULT_SECRET, "", 1, 0);
	out = (uint8_t *)"not set";
	expect_err(splq_vault_record_seal(MK, 1, &e, "", 0, &out, &len, &err), &err,
	           SPLQ_E_INTERNAL, "bad entry");
	assert_null(out);
}

/* ---------- the index ---------- */

/* An index container as vault.h lays it out, around any entries' bytes. */
static uint8_t *index_of(const uint8_t *mk, uint32_t gen, uint64_t serial, const uint8_t *plain,
                         size_t n, size_t *len)
{
	uint8_t *buf = splq_xmalloc(32 + n + 16);

	memcpy(buf, "splqVIX1", 8);
	put_be32(buf + 8, gen);
	put_be64(buf + 12, serial);
	assert_int_equal(splq_random(buf + 20, 12), 0);
	assert_int_equal(splq_gcm_seal(mk, buf + 20, buf, 32, plain, n, buf + 32, buf + 32 + n), 0);
	*len = 32 + n + 16;
	return buf;
}

static uint8_t *seal_index(uint32_t gen, uint64_t serial, struct splq_vault_entry *es, size_t n,
                           size_t *len)
{
	struct splq_error err = {0};
	uint8_t *out = NULL;

	if (splq_vault_index_seal(MK, gen, serial, es, n, &out, len, &err) < 0)
		fail_msg("%s", err.msg);
	return out;
}

/* Open an exact-size copy of buf; on failure, nothing handed out. */
static int open_index(const uint8_t *mk, uint32_t gen, const uint8_t *buf, size_t len,
                      struct splq_vault_entry **es, size_t *n, uint64_t *serial,
                      struct splq_error *err)
{
	cleanup_free uint8_t *c = copy(buf, len);

	*es = (struct splq_vault_entry *)"not set";
	*n = 12345;
	err->code = 0;
	int rc = splq_vault_index_open(mk, gen, c, len, es, n, serial, err);
	if (rc < 0) {
		assert_null(*es);
		assert_int_equal(*n, 0);
		assert_int_equal(err->code, SPLQ_E_INTEGRITY);
	}
	return rc;
}

static void expect_index_bad(const uint8_t *mk, uint32_t gen, const uint8_t *buf, size_t len,
                             const char *what)
{
	struct splq_vault_entry *es;
	struct splq_error err = {0};
	uint64_t serial;
	size_t n;

	assert_int_equal(open_index(mk, gen, buf, len, &es, &n, &serial, &err), -1);
	if (what && !strstr(err.msg, what))
		fail_msg("message \"%s\" does not say \"%s\"", err.msg, what);
}

static void expect_plain_bad(const uint8_t *plain, size_t n, const char *what)
{
	size_t len;
	cleanup_free uint8_t *buf = index_of(MK, 1, 1, plain, n, &len);

	expect_index_bad(MK, 1, buf, len, what);
}

static void assert_entry_equal(const struct splq_vault_entry *a, const struct splq_vault_entry *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->size, b->size);
	assert_true(a->created_ms == b->created_ms);
	assert_true(a->updated_ms == b->updated_ms);
	assert_memory_equal(a->id, b->id, SPLQ_VAULT_ID);
}

static void test_index_empty(void **state)
{
	struct splq_vault_entry *es;
	struct splq_error err = {0};
	uint64_t serial = 0;
	size_t len, n;
	uint8_t plain[4];

	/* entries NULL, as the service's first index has them */
	cleanup_free uint8_t *buf = seal_index(0x0a0b0c0d, 0x1122334455667788ull, NULL, 0, &len);
	assert_int_equal(len, 32 + 4 + 16);
	assert_memory_equal(buf, "splqVIX1", 8);
	assert_int_equal(be32(buf + 8), 0x0a0b0c0d);
	assert_int_equal(be64(buf + 12), 0x1122334455667788ull);
	assert_int_equal(splq_gcm_open(MK, buf + 20, buf, 32, buf + 32, 4, plain, buf + 36), 0);
	assert_memory_equal(plain, ((uint8_t[]){0, 0, 0, 0}), 4);
	if (open_index(MK, 0x0a0b0c0d, buf, len, &es, &n, &serial, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(n, 0);
	assert_int_equal(serial, 0x1122334455667788ull);
	free(es);
}

static void test_index_one(void **state)
{
	struct splq_vault_entry e = entry(SPLQ_VAULT_SIGNKEY, "release", 3, 40), *es;
	struct splq_error err = {0};
	uint64_t serial = 0;
	size_t len, n;
	uint8_t plain[4 + 46 + 7];

	e.created_ms = 1796287796000;
	e.updated_ms = -1;
	for (int i = 0; i < SPLQ_VAULT_ID; i++)
		e.id[i] = (uint8_t)(0xf0 + i);
	cleanup_free uint8_t *buf = seal_index(2, 1, &e, 1, &len);
	assert_int_equal(len, 32 + sizeof(plain) + 16);
	assert_int_equal(be64(buf + 12), 1);
	/* the entry where vault.h puts it */
	assert_int_equal(splq_gcm_open(MK, buf + 20, buf, 32, buf + 32, sizeof(plain), plain,
	                               buf + 32 + sizeof(plain)),
	                 0);
	assert_int_equal(be32(plain), 1);
	assert_int_equal(plain[4], SPLQ_VAULT_SIGNKEY);
	assert_int_equal(plain[5], 7);
	assert_memory_equal(plain + 6, "release", 7);
	assert_int_equal(be64(plain + 13), 3);
	assert_int_equal(be64(plain + 21), 40);
	assert_int_equal(be64(plain + 29), 1796287796000);
	assert_int_equal(be64(plain + 37), UINT64_MAX);
	assert_memory_equal(plain + 45, e.id, SPLQ_VAULT_ID);

	if (open_index(MK, 2, buf, len, &es, &n, &serial, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(n, 1);
	assert_int_equal(serial, 1);
	assert_entry_equal(&es[0], &e);
	free(es);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct splq_vault_entry *)a)->name,
	              ((const struct splq_vault_entry *)b)->name);
}

/* 50 entries of names 1 to 64 long, handed over in no order: back sorted
 * by name, each as it went in. */
static void test_index_fifty(void **state)
{
	struct splq_vault_entry in[50], want[50], *es;
	struct splq_error err = {0};
	uint64_t serial = 0;
	size_t len, n, plain = 4;
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	for (int i = 0; i < 50; i++) {
		struct splq_vault_entry *e = &in[i];
		/* names of lengths 1..64 across the entries, distinct by
		 * their first character */
		size_t l = 1 + (size_t)(i * 37 % SPLQ_VAULT_NAME_MAX);
		memset(e, 0, sizeof(*e));
		e->name[0] = chars[(i * 17) % 50];
		for (size_t j = 1; j < l; j++)
			e->name[j] = chars[(i + j) % 64];
		e->kind = i % 3 ? SPLQ_VAULT_SECRET : SPLQ_VAULT_SIGNKEY;
		e->version = (uint64_t)i * 0x0101010101ull + 1;
		e->size = (uint64_t)i << 20;
		e->created_ms = (int64_t)i * 1000 - 25000;
		e->updated_ms = INT64_MAX - i;
		assert_int_equal(splq_random(e->id, SPLQ_VAULT_ID), 0);
		assert_int_equal(splq_vault_name_check(e->name, NULL), 0);
		plain += 46 + l;
	}
	memcpy(want, in, sizeof(in));
	qsort(want, 50, sizeof(want[0]), by_name);
	for (int i = 1; i < 50; i++)
		assert_true(strcmp(want[i - 1].name, want[i].name) < 0);
	cleanup_free uint8_t *buf = seal_index(9, UINT64_MAX, in, 50, &len);
	assert_int_equal(len, 32 + plain + 16);
	/* sorted in place, as vault.h says */
	for (int i = 0; i < 50; i++)
		assert_entry_equal(&in[i], &want[i]);
	if (open_index(MK, 9, buf, len, &es, &n, &serial, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(n, 50);
	assert_int_equal(serial, UINT64_MAX);
	for (int i = 0; i < 50; i++)
		assert_entry_equal(&es[i], &want[i]);
	free(es);
}

static void test_index_refused(void **state)
{
	struct splq_vault_entry es[2] = {entry(SPLQ_VAULT_SECRET, "b", 1, 1),
	                                 entry(SPLQ_VAULT_SECRET, "a", 2, 2)};
	size_t len;

	cleanup_free uint8_t *buf = seal_index(4, 10, es, 2, &len);
	/* each byte changed */
	for (size_t i = 0; i < len; i++) {
		cleanup_free uint8_t *c = copy(buf, len);
		c[i] ^= (uint8_t)(1 << (i % 8));
		expect_index_bad(MK, 4, c, len, NULL);
	}
	/* cut short, a byte more */
	for (size_t l = 0; l < len; l++)
		expect_index_bad(MK, 4, buf, l, NULL);
	expect_index_bad(MK, 4, buf, 32 + 4 + 16 - 1, "not one of splq's");
	cleanup_free uint8_t *longer = splq_xmalloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	expect_index_bad(MK, 4, longer, len + 1, "does not authenticate");
	/* another generation, another MK */
	expect_index_bad(MK, 3, buf, len, "another master key (generation 4, not 3)");
	expect_index_bad(MK, 5, buf, len, "another master key");
	expect_index_bad(OTHER_MK, 4, buf, len, "does not authenticate");
	/* an older index's header on a newer one's entries (a serial rolled
	 * back): the tag covers the header */
	cleanup_free uint8_t *c = copy(buf, len);
	put_be64(c + 12, 9);
	expect_index_bad(MK, 4, c, len, "does not authenticate");
}

/* Entries that authenticate but are malformed: refused all the same. */
static void test_index_malformed(void **state)
{
	struct splq_vault_entry *es;
	struct splq_error err = {0};
	uint64_t serial;
	size_t len, n;
	/* an entry of name "ok" */
	uint8_t one[4 + 46 + 2] = {0, 0, 0, 1, SPLQ_VAULT_SECRET, 2, 'o', 'k'};
	uint8_t buf[4 + 2 * (46 + 70)] = {0};

	cleanup_free uint8_t *good = index_of(MK, 1, 77, one, sizeof(one), &len);
	if (open_index(MK, 1, good, len, &es, &n, &serial, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(n, 1);
	assert_int_equal(serial, 77);
	assert_string_equal(es[0].name, "ok");
	free(es);

	/* a plaintext shorter than a count */
	expect_plain_bad(one, 0, "not one of splq's");
	expect_plain_bad(one, 3, "not one of splq's");
	/* counts beyond what the bytes can hold */
	memcpy(buf, one, sizeof(one));
	put_be32(buf, 2);
	expect_plain_bad(buf, sizeof(one), "counts 2 entries");
	put_be32(buf, UINT32_MAX);
	expect_plain_bad(buf, sizeof(one), "counts 4294967295 entries");
	put_be32(buf, 1);
	expect_plain_bad(buf, 4, "counts 1 entries");
	/* one entry cut short, bytes after the last one */
	expect_plain_bad(buf, sizeof(one) - 1, "malformed entry");
	memset(buf + sizeof(one), 0, 46);
	expect_plain_bad(buf, sizeof(one) + 1, "bytes past its entries");
	put_be32(buf, 0);
	expect_plain_bad(buf, 5, "bytes past its entries");
	/* two counted, the second cut short */
	put_be32(buf, 2);
	buf[sizeof(one)] = SPLQ_VAULT_SECRET;
	buf[sizeof(one) + 1] = 3;
	memcpy(buf + sizeof(one) + 2, "abc", 3);
	expect_plain_bad(buf, sizeof(one) + 46 + 2, "malformed entry");
	/* names: empty, too long (a 65-byte one that fits the bytes), with a
	 * NUL, with a '/', starting with '.' */
	memcpy(buf, one, sizeof(one));
	buf[5] = 0;
	expect_plain_bad(buf, sizeof(one) - 2, "malformed entry");
	memset(buf + 6, 'n', 65);
	buf[5] = 65;
	memset(buf + 6 + 65, 0, 44);
	expect_plain_bad(buf, 4 + 46 + 65, "malformed entry");
	memcpy(buf, one, sizeof(one));
	buf[7] = 0;
	expect_plain_bad(buf, sizeof(one), "malformed name");
	buf[7] = '/';
	expect_plain_bad(buf, sizeof(one), "malformed name");
	buf[6] = '.';
	buf[7] = 'k';
	expect_plain_bad(buf, sizeof(one), "malformed name");
	/* a name length past the plaintext's end */
	memcpy(buf, one, sizeof(one));
	buf[5] = 3;
	expect_plain_bad(buf, sizeof(one), "malformed entry");
}

/* ---------- fields ---------- */

static void fields_round_trip(const void *const *f, const size_t *flen, int n)
{
	const uint8_t *got[4];
	size_t got_len[4], len, want = 0;

	for (int i = 0; i < n; i++)
		want += 4 + flen[i];
	cleanup_free uint8_t *buf = splq_vault_fields_encode(f, flen, n, &len);
	assert_non_null(buf);
	assert_int_equal(len, want);
	const uint8_t *p = buf;
	for (int i = 0; i < n; i++) {
		assert_int_equal(be32(p), flen[i]);
		if (flen[i])
			assert_memory_equal(p + 4, f[i], flen[i]);
		p += 4 + flen[i];
	}
	cleanup_free uint8_t *c = copy(buf, len);
	assert_int_equal(splq_vault_fields_decode(c, len, got, got_len, 4), n);
	assert_int_equal(splq_vault_fields_decode(c, len, got, got_len, n), n);
	if (n > 0)
		assert_int_equal(splq_vault_fields_decode(c, len, got, got_len, n - 1), -1);
	for (int i = 0; i < n; i++) {
		assert_int_equal(got_len[i], flen[i]);
		assert_true(got[i] >= c + 4 && got[i] + got_len[i] <= c + len);
		if (flen[i])
			assert_memory_equal(got[i], f[i], flen[i]);
	}
	/* every length short of the whole: whole fields, or -1 */
	for (size_t l = 0; l < len; l++) {
		size_t at = 0;
		int whole = 0;
		while (whole < n && at + 4 + flen[whole] <= l)
			at += 4 + flen[whole++];
		cleanup_free uint8_t *s = copy(buf, l);
		assert_int_equal(splq_vault_fields_decode(s, l, got, got_len, 4),
		                 at == l ? whole : -1);
	}
}

static void test_fields_round_trip(void **state)
{
	static const uint8_t bin[] = {0, 1, 2, 0xff, 0, 0x80};

	fields_round_trip(NULL, NULL, 0);
	fields_round_trip((const void *const[]){"abc"}, (const size_t[]){3}, 1);
	fields_round_trip((const void *const[]){""}, (const size_t[]){0}, 1);
	fields_round_trip((const void *const[]){"", "x"}, (const size_t[]){0, 1}, 2);
	fields_round_trip((const void *const[]){"name", ""}, (const size_t[]){4, 0}, 2);
	fields_round_trip((const void *const[]){"a", "", bin}, (const size_t[]){1, 0, sizeof(bin)},
	                  3);
	fields_round_trip((const void *const[]){"", "", ""}, (const size_t[]){0, 0, 0}, 3);
}

static void test_fields_decode_refuses(void **state)
{
	const uint8_t *f[3];
	size_t flen[3];
	static const uint8_t one[] = {0, 0, 0, 1, 'a'};
	static const uint8_t past[] = {0, 0, 0, 5, 'a', 'b'};
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
	static const uint8_t after[] = {0, 0, 0, 1, 'a', 0, 0};
	static const uint8_t four[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	/* a length cut short, alone or after a field */
	for (size_t l = 1; l < 4; l++) {
		cleanup_free uint8_t *c = copy(one, l);
		assert_int_equal(splq_vault_fields_decode(c, l, f, flen, 3), -1);
	}
	cleanup_free uint8_t *a = copy(after, sizeof(after));
	assert_int_equal(splq_vault_fields_decode(a, sizeof(after), f, flen, 3), -1);
	/* lengths past the end */
	cleanup_free uint8_t *p = copy(past, sizeof(past));
	assert_int_equal(splq_vault_fields_decode(p, sizeof(past), f, flen, 3), -1);
	cleanup_free uint8_t *h = copy(huge, sizeof(huge));
	assert_int_equal(splq_vault_fields_decode(h, sizeof(huge), f, flen, 3), -1);
	/* more fields than max: four empty ones */
	cleanup_free uint8_t *z = copy(four, sizeof(four));
	assert_int_equal(splq_vault_fields_decode(z, sizeof(four), f, flen, 3), -1);
	assert_int_equal(splq_vault_fields_decode(z, 12, f, flen, 3), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(flen[i], 0);
	assert_int_equal(splq_vault_fields_decode(z, 4, f, flen, 0), -1);
	assert_int_equal(splq_vault_fields_decode(z, 0, f, flen, 0), 0);
	cleanup_free uint8_t *o = copy(one, sizeof(one));
	assert_int_equal(splq_vault_fields_decode(o, sizeof(one), f, flen, 1), 1);
	assert_true(f[0] == o + 4);
	assert_int_equal(flen[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_check),
	    cmocka_unit_test(test_master_scrypt),
	    cmocka_unit_test(test_master_keyfile),
	    cmocka_unit_test(test_kek_params),
	    cmocka_unit_test(test_master_parse_refuses),
	    cmocka_unit_test(test_master_every_byte),
	    cmocka_unit_test(test_record_round_trip),
	    cmocka_unit_test(test_record_fresh_nonce),
	    cmocka_unit_test(test_record_every_byte),
	    cmocka_unit_test(test_record_truncated),
	    cmocka_unit_test(test_record_moved),
	    cmocka_unit_test(test_record_header_rewritten),
	    cmocka_unit_test(test_record_seal_refuses),
	    cmocka_unit_test(test_index_empty),
	    cmocka_unit_test(test_index_one),
	    cmocka_unit_test(test_index_fifty),
	    cmocka_unit_test(test_index_refused),
	    cmocka_unit_test(test_index_malformed),
	    cmocka_unit_test(test_fields_round_trip),
	    cmocka_unit_test(test_fields_decode_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
