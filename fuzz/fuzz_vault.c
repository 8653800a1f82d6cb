/* splq: libFuzzer target for the vault's files (formats/vault.h), as
 * anyone with root on the host may rewrite them on the vault qube's
 * volume, and for the fields a vault service reads on stdin.  The first
 * byte picks what the rest is:
 *   0  a master key file: parsed, then opened with a fixed KEK
 *   1  a record, opened as a fixed entry's under a fixed MK
 *   2  an index, opened under the fixed MK
 *   3  fields, decoded
 *   4  the entries of an index (its plaintext): sealed here in a valid
 *      index under the fixed MK and opened, so that the entries' parser
 *      is reached past AES-GCM's tag
 * Checks what the parsers promise: a failure says why with the code the
 * header names and hands nothing out; what they accept lies within the
 * input and reads back the same; no read past the input (ASan). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GEN            7
#define FIELDS_MAX     4
#define INDEX_HEAD     32
#define ENTRY_FIXED    (1 + 1 + 8 + 8 + 8 + 8 + SPLQ_VAULT_ID)
#define RECORD_NAME    "fuzz.a-record-name-longer-than-sixteen"
#define RECORD_VERSION 3
#define RECORD_SIZE    5

static const uint8_t MK[SPLQ_AES_KEY] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                         12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                         23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t KEYFILE[SPLQ_VAULT_KEYFILE_MIN] = "a key file of the fuzzer, 32 b.";

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

static void master(const uint8_t *buf, size_t len)
{
	struct splq_vault_master m;
	struct splq_error err;
	uint8_t kek[SPLQ_AES_KEY], mk[SPLQ_AES_KEY];

	err.code = 0;
	if (splq_vault_master_parse(buf, len, &m, &err) < 0) {
		if (err.code != SPLQ_E_CORRUPT)
			abort();
		return;
	}
	/* what parses is the file's own fields */
	if (len != SPLQ_VAULT_MASTER_SIZE || m.kdf != buf[8] || m.log2n != buf[9] ||
	    m.r != be32(buf + 12) || m.p != be32(buf + 16) || m.generation != be32(buf + 20) ||
	    memcmp(m.salt, buf + 24, 32) || memcmp(m.nonce, buf + 56, SPLQ_GCM_NONCE) ||
	    memcmp(m.sealed, buf + 68, SPLQ_AES_KEY) || memcmp(m.tag, buf + 100, SPLQ_GCM_TAG))
		abort();
	memset(kek, 0x5a, sizeof(kek));
	if (splq_vault_master_open(&m, kek, mk, &err) < 0 && err.code != SPLQ_E_BADSECRET)
		abort();
	/* a key file's KEK is cheap to make (scrypt's is not, at the costs a
	 * file may name) */
	if (m.kdf == SPLQ_VAULT_KEYFILE) {
		if (splq_vault_kek(&m, KEYFILE, sizeof(KEYFILE), kek, &err) < 0)
			abort();
		if (splq_vault_master_open(&m, kek, mk, &err) < 0 && err.code != SPLQ_E_BADSECRET)
			abort();
	}
}

static void record(const uint8_t *buf, size_t len)
{
	struct splq_vault_entry e;
	struct splq_error err;
	uint8_t *value = (uint8_t *)&e;
	size_t n = 1;

	memset(&e, 0, sizeof(e));
	e.kind = SPLQ_VAULT_SECRET;
	strcpy(e.name, RECORD_NAME);
	e.version = RECORD_VERSION;
	e.size = RECORD_SIZE;
	err.code = 0;
	if (splq_vault_record_open(MK, GEN, &e, buf, len, &value, &n, &err) < 0) {
		if (value || n || err.code != SPLQ_E_INTEGRITY)
			abort();
		return;
	}
	if (!value || n != RECORD_SIZE)
		abort();
	splq_wipe(value, n);
	free(value);
}

/* What index_open handed out: entries with names as vault.h allows them,
 * that take exactly the plaintext's size bytes when plain_size is
 * known; and, when in strictly increasing name order, sealed again to
 * the same plaintext. */
static void check_entries(const struct splq_vault_entry *es, size_t n, uint64_t serial,
                          uint64_t want_serial, const uint8_t *plain, size_t plain_size)
{
	size_t total = 4;
	int sorted = 1;

	if (!es || serial != want_serial)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t l = strnlen(es[i].name, sizeof(es[i].name));
		if (l > SPLQ_VAULT_NAME_MAX || splq_vault_name_check(es[i].name, NULL) < 0)
			abort();
		total += ENTRY_FIXED + l;
		if (i > 0 && strcmp(es[i - 1].name, es[i].name) >= 0)
			sorted = 0;
	}
	if (!plain)
		return;
	if (total != plain_size)
		abort();
	if (!sorted)
		return;
	struct splq_vault_entry *copy = malloc(n ? n * sizeof(*copy) : 1);
	struct splq_error err;
	uint8_t *out, *again;
	size_t len;
	if (n)
		memcpy(copy, es, n * sizeof(*copy));
	if (splq_vault_index_seal(MK, GEN, serial, copy, n, &out, &len, &err) < 0 ||
	    len != INDEX_HEAD + plain_size + SPLQ_GCM_TAG)
		abort();
	again = malloc(plain_size);
	if (splq_gcm_open(MK, out + 20, out, INDEX_HEAD, out + INDEX_HEAD, plain_size, again,
	                  out + INDEX_HEAD + plain_size) < 0 ||
	    memcmp(again, plain, plain_size) != 0)
		abort();
	free(again);
	free(out);
	free(copy);
}

static void index_open(const uint8_t *buf, size_t len, const uint8_t *plain, size_t plain_size)
{
	struct splq_vault_entry *es = (struct splq_vault_entry *)&len;
	struct splq_error err;
	uint64_t serial = 0;
	size_t n = 1;

	err.code = 0;
	if (splq_vault_index_open(MK, GEN, buf, len, &es, &n, &serial, &err) < 0) {
		if (es || n || err.code != SPLQ_E_INTEGRITY)
			abort();
		return;
	}
	if (len < INDEX_HEAD + 4 + SPLQ_GCM_TAG)
		abort();
	check_entries(es, n, serial, be64(buf + 12), plain, plain_size);
	free(es);
}

/* An index around plain (n bytes) as vault.h lays it out: magic,
 * generation, serial, nonce, then the entries under AES-256-GCM with the
 * 32 bytes before them as associated data, and the tag.  A fixed nonce:
 * the same input makes the same index. */
static uint8_t *index_around(const uint8_t *plain, size_t n, size_t *len)
{
	uint8_t *buf = malloc(INDEX_HEAD + n + SPLQ_GCM_TAG);

	memcpy(buf, "splqVIX1", 8);
	put_be32(buf + 8, GEN);
	put_be64(buf + 12, 0x0102030405060708ull);
	memset(buf + 20, 0xc3, SPLQ_GCM_NONCE);
	if (splq_gcm_seal(MK, buf + 20, buf, INDEX_HEAD, plain, n, buf + INDEX_HEAD,
	                  buf + INDEX_HEAD + n) < 0)
		abort();
	*len = INDEX_HEAD + n + SPLQ_GCM_TAG;
	return buf;
}

static void fields(const uint8_t *buf, size_t len)
{
	const uint8_t *f[FIELDS_MAX];
	size_t flen[FIELDS_MAX], at = 0, elen;
	int n = splq_vault_fields_decode(buf, len, f, flen, FIELDS_MAX);

	if (n < -1 || n > FIELDS_MAX)
		abort();
	if (n < 0)
		return;
	/* each field right after its length, inside the buffer, and the
	 * fields end where the buffer does */
	for (int i = 0; i < n; i++) {
		if (at + 4 > len || f[i] != buf + at + 4 || flen[i] > len - at - 4 ||
		    be32(buf + at) != flen[i])
			abort();
		at += 4 + flen[i];
	}
	if (at != len)
		abort();
	uint8_t *again = splq_vault_fields_encode((const void *const *)f, flen, n, &elen);
	if (elen != len || (len && memcmp(again, buf, len) != 0))
		abort();
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy, *ix;
	size_t len;

	if (size < 1)
		return 0;
	/* an exact copy: ASan sees a read one byte past the end */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		master(copy, size - 1);
		break;
	case 1:
		record(copy, size - 1);
		break;
	case 2:
		index_open(copy, size - 1, NULL, 0);
		break;
	case 3:
		fields(copy, size - 1);
		break;
	case 4:
		ix = index_around(copy, size - 1, &len);
		index_open(ix, len, copy, size - 1);
		free(ix);
		break;
	}
	free(copy);
	return 0;
}
