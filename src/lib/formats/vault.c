/* splq: the vault's files (see vault.h). */
#include "vault.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"

#define MASTER_MAGIC "splqVMK1"
#define RECORD_MAGIC "splqVRC1"
#define INDEX_MAGIC  "splqVIX1"
#define MASTER_AAD   56 /* the master file's bytes before its nonce */
#define RECORD_HEAD  44 /* a record's header before its name */
#define INDEX_HEAD   32
/* an entry: kind, L, name, version, size, created, updated, id */
#define ENTRY_FIXED (1 + 1 + 8 + 8 + 8 + 8 + SPLQ_VAULT_ID)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int splq_vault_name_check(const char *name, struct splq_error *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > SPLQ_VAULT_NAME_MAX)
		return splq_fail(err, SPLQ_E_NAME, "a vault name has 1 to %d characters, not %zu",
		                 SPLQ_VAULT_NAME_MAX, n);
	if (name[0] == '.' || name[0] == '-')
		return splq_fail(err, SPLQ_E_NAME, "vault name '%s' may not start with '%c'", name,
		                 name[0]);
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
		return splq_fail(err, SPLQ_E_NAME,
		                 "vault name '%s' may hold only letters, digits, '_', '.' and '-'",
		                 name);
	return 0;
}

/* ---------- the master key ---------- */

static void master_header(const struct splq_vault_master *m, uint8_t *out)
{
	memset(out, 0, MASTER_AAD);
	memcpy(out, MASTER_MAGIC, 8);
	out[8] = (uint8_t)m->kdf;
	out[9] = (uint8_t)m->log2n;
	put32(out + 12, m->r);
	put32(out + 16, m->p);
	put32(out + 20, m->generation);
	memcpy(out + 24, m->salt, sizeof(m->salt));
}

int splq_vault_kek(const struct splq_vault_master *m, const void *secret, size_t len,
                   uint8_t kek[SPLQ_AES_KEY], struct splq_error *err)
{
	static const char label[] = "splq vault key file";
	uint8_t h[SPLQ_BLAKE2B];
	struct splq_blake2b b;

	if (m->kdf == SPLQ_VAULT_SCRYPT) {
		if (m->log2n < 10 || m->log2n > 22 || m->r < 1 || m->r > 32 || m->p < 1 ||
		    m->p > 16)
			return splq_fail(err, SPLQ_E_VALUE,
			                 "scrypt parameters N=2^%u r=%u p=%u are out of range "
			                 "(N 2^10..2^22, r 1..32, p 1..16)",
			                 m->log2n, m->r, m->p);
		if (splq_scrypt(secret, len, m->salt, sizeof(m->salt), m->log2n, m->r, m->p, kek,
		                SPLQ_AES_KEY) < 0)
			return splq_fail(err, SPLQ_E_INTERNAL,
			                 "scrypt with N=2^%u r=%u p=%u failed (out of memory?)",
			                 m->log2n, m->r, m->p);
		return 0;
	}
	if (m->kdf != SPLQ_VAULT_KEYFILE)
		return splq_fail(err, SPLQ_E_VALUE, "no such way to seal a master key: %d", m->kdf);
	if (len < SPLQ_VAULT_KEYFILE_MIN)
		return splq_fail(err, SPLQ_E_VALUE, "a key file needs at least %d bytes, not %zu",
		                 SPLQ_VAULT_KEYFILE_MIN, len);
	if (splq_blake2b_begin(&b) < 0 || splq_blake2b_feed(&b, label, sizeof(label)) < 0 ||
	    splq_blake2b_feed(&b, m->salt, sizeof(m->salt)) < 0 ||
	    splq_blake2b_feed(&b, secret, len) < 0 || splq_blake2b_final(&b, h) < 0) {
		splq_blake2b_free(&b);
		return splq_fail(err, SPLQ_E_INTERNAL, "BLAKE2b failed");
	}
	memcpy(kek, h, SPLQ_AES_KEY);
	splq_wipe(h, sizeof(h));
	return 0;
}

int splq_vault_master_seal(struct splq_vault_master *m, const uint8_t kek[SPLQ_AES_KEY],
                           const uint8_t mk[SPLQ_AES_KEY], uint8_t out[SPLQ_VAULT_MASTER_SIZE],
                           struct splq_error *err)
{
	if (splq_random(m->nonce, sizeof(m->nonce)) < 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "no random bytes");
	master_header(m, out);
	if (splq_gcm_seal(kek, m->nonce, out, MASTER_AAD, mk, SPLQ_AES_KEY, m->sealed, m->tag) < 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "AES-256-GCM failed");
	memcpy(out + 56, m->nonce, SPLQ_GCM_NONCE);
	memcpy(out + 68, m->sealed, SPLQ_AES_KEY);
	memcpy(out + 100, m->tag, SPLQ_GCM_TAG);
	return 0;
}

int splq_vault_master_parse(const uint8_t *buf, size_t len, struct splq_vault_master *m,
                            struct splq_error *err)
{
	memset(m, 0, sizeof(*m));
	if (len != SPLQ_VAULT_MASTER_SIZE || memcmp(buf, MASTER_MAGIC, 8) != 0)
		return splq_fail(err, SPLQ_E_CORRUPT, "the master key file is not one of splq's");
	if (buf[10] || buf[11])
		return splq_fail(err, SPLQ_E_CORRUPT, "the master key file has unknown flags");
	m->kdf = buf[8];
	m->log2n = buf[9];
	m->r = get32(buf + 12);
	m->p = get32(buf + 16);
	m->generation = get32(buf + 20);
	memcpy(m->salt, buf + 24, sizeof(m->salt));
	memcpy(m->nonce, buf + 56, sizeof(m->nonce));
	memcpy(m->sealed, buf + 68, sizeof(m->sealed));
	memcpy(m->tag, buf + 100, sizeof(m->tag));
	if (m->kdf != SPLQ_VAULT_SCRYPT && m->kdf != SPLQ_VAULT_KEYFILE)
		return splq_fail(err, SPLQ_E_CORRUPT, "the master key file names no known KDF (%d)",
		                 m->kdf);
	return 0;
}

int splq_vault_master_open(const struct splq_vault_master *m, const uint8_t kek[SPLQ_AES_KEY],
                           uint8_t mk[SPLQ_AES_KEY], struct splq_error *err)
{
	uint8_t head[MASTER_AAD];

	master_header(m, head);
	if (splq_gcm_open(kek, m->nonce, head, sizeof(head), m->sealed, SPLQ_AES_KEY, mk, m->tag) <
	    0)
		return splq_fail(err, SPLQ_E_BADSECRET,
		                 m->kdf == SPLQ_VAULT_KEYFILE ? "wrong key file"
		                                              : "wrong passphrase");
	return 0;
}

/* ---------- records ---------- */

static size_t record_head(uint32_t gen, const struct splq_vault_entry *e, const uint8_t *nonce,
                          uint8_t *out)
{
	size_t l = strlen(e->name);

	memset(out, 0, RECORD_HEAD);
	memcpy(out, RECORD_MAGIC, 8);
	out[8] = (uint8_t)e->kind;
	out[9] = (uint8_t)l;
	put32(out + 12, gen);
	put64(out + 16, e->version);
	put64(out + 24, e->size);
	memcpy(out + 32, nonce, SPLQ_GCM_NONCE);
	memcpy(out + RECORD_HEAD, e->name, l);
	return RECORD_HEAD + l;
}

int splq_vault_record_seal(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen,
                           const struct splq_vault_entry *e, const void *value, size_t n,
                           uint8_t **out, size_t *len, struct splq_error *err)
{
	uint8_t nonce[SPLQ_GCM_NONCE];
	size_t l = strlen(e->name);

	*out = NULL;
	if (l == 0 || l > SPLQ_VAULT_NAME_MAX || e->size != n)
		return splq_fail(err, SPLQ_E_INTERNAL, "record of '%s': bad entry", e->name);
	if (splq_random(nonce, sizeof(nonce)) < 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "no random bytes");
	uint8_t *buf = splq_xmalloc(RECORD_HEAD + l + n + SPLQ_GCM_TAG);
	size_t h = record_head(gen, e, nonce, buf);
	if (splq_gcm_seal(mk, nonce, buf, h, value, n, buf + h, buf + h + n) < 0) {
		free(buf);
		return splq_fail(err, SPLQ_E_INTERNAL, "AES-256-GCM failed");
	}
	*out = buf;
	*len = h + n + SPLQ_GCM_TAG;
	return 0;
}

int splq_vault_record_open(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen,
                           const struct splq_vault_entry *e, const uint8_t *buf, size_t len,
                           uint8_t **value, size_t *n, struct splq_error *err)
{
	size_t l = strlen(e->name);

	*value = NULL;
	*n = 0;
	if (len < RECORD_HEAD + SPLQ_GCM_TAG || memcmp(buf, RECORD_MAGIC, 8) != 0)
		return splq_fail(err, SPLQ_E_INTEGRITY, "'%s': its record is not one of splq's",
		                 e->name);
	if (buf[9] != l || len < RECORD_HEAD + l + SPLQ_GCM_TAG ||
	    memcmp(buf + RECORD_HEAD, e->name, l) != 0)
		return splq_fail(err, SPLQ_E_INTEGRITY,
		                 "'%s': its record is another name's (moved or swapped)", e->name);
	if (buf[8] != e->kind || buf[10] || buf[11])
		return splq_fail(err, SPLQ_E_INTEGRITY, "'%s': its record is of another kind",
		                 e->name);
	if (get32(buf + 12) != gen)
		return splq_fail(
		    err, SPLQ_E_INTEGRITY,
		    "'%s': its record is under another master key (generation %u, not %u)", e->name,
		    get32(buf + 12), gen);
	if (get64(buf + 16) != e->version)
		return splq_fail(
		    err, SPLQ_E_INTEGRITY,
		    "'%s': its record is version %llu, not version %llu (rolled back?)", e->name,
		    (unsigned long long)get64(buf + 16), (unsigned long long)e->version);
	uint64_t size = get64(buf + 24);
	if (size != e->size || size != len - RECORD_HEAD - l - SPLQ_GCM_TAG)
		return splq_fail(err, SPLQ_E_INTEGRITY, "'%s': its record has the wrong length",
		                 e->name);
	size_t h = RECORD_HEAD + l;
	uint8_t *v = splq_xmalloc(size ? size : 1);
	if (splq_gcm_open(mk, buf + 32, buf, h, buf + h, size, v, buf + h + size) < 0) {
		free(v);
		return splq_fail(err, SPLQ_E_INTEGRITY,
		                 "'%s': its record does not authenticate (changed on disk)",
		                 e->name);
	}
	*value = v;
	*n = size;
	return 0;
}

/* ---------- the index ---------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct splq_vault_entry *)a)->name,
	              ((const struct splq_vault_entry *)b)->name);
}

int splq_vault_index_seal(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen, uint64_t serial,
                          struct splq_vault_entry *entries, size_t n, uint8_t **out, size_t *len,
                          struct splq_error *err)
{
	size_t size = 4;

	*out = NULL;
	/* entries may be NULL when n is 0, and qsort may not be passed NULL */
	if (n > 1)
		qsort(entries, n, sizeof(*entries), by_name);
	for (size_t i = 0; i < n; i++)
		size += ENTRY_FIXED + strlen(entries[i].name);
	uint8_t *buf = splq_xmalloc(INDEX_HEAD + size + SPLQ_GCM_TAG);
	uint8_t *plain = splq_xmalloc(size);
	uint8_t *p = plain;
	put32(p, (uint32_t)n);
	p += 4;
	for (size_t i = 0; i < n; i++) {
		const struct splq_vault_entry *e = &entries[i];
		size_t l = strlen(e->name);
		*p++ = (uint8_t)e->kind;
		*p++ = (uint8_t)l;
		memcpy(p, e->name, l);
		p += l;
		put64(p, e->version);
		put64(p + 8, e->size);
		put64(p + 16, (uint64_t)e->created_ms);
		put64(p + 24, (uint64_t)e->updated_ms);
		memcpy(p + 32, e->id, SPLQ_VAULT_ID);
		p += 32 + SPLQ_VAULT_ID;
	}
	memcpy(buf, INDEX_MAGIC, 8);
	put32(buf + 8, gen);
	put64(buf + 12, serial);
	int rc = splq_random(buf + 20, SPLQ_GCM_NONCE);
	if (rc == 0)
		rc = splq_gcm_seal(mk, buf + 20, buf, INDEX_HEAD, plain, size, buf + INDEX_HEAD,
		                   buf + INDEX_HEAD + size);
	splq_wipe(plain, size);
	free(plain);
	if (rc < 0) {
		free(buf);
		return splq_fail(err, SPLQ_E_INTERNAL, "AES-256-GCM failed");
	}
	*out = buf;
	*len = INDEX_HEAD + size + SPLQ_GCM_TAG;
	return 0;
}

int splq_vault_index_open(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen, const uint8_t *buf,
                          size_t len, struct splq_vault_entry **entries, size_t *n,
                          uint64_t *serial, struct splq_error *err)
{
	*entries = NULL;
	*n = 0;
	if (len < INDEX_HEAD + 4 + SPLQ_GCM_TAG || memcmp(buf, INDEX_MAGIC, 8) != 0)
		return splq_fail(err, SPLQ_E_INTEGRITY, "the vault's index is not one of splq's");
	if (get32(buf + 8) != gen)
		return splq_fail(
		    err, SPLQ_E_INTEGRITY,
		    "the vault's index is under another master key (generation %u, not %u)",
		    get32(buf + 8), gen);
	size_t size = len - INDEX_HEAD - SPLQ_GCM_TAG;
	uint8_t *plain = splq_xmalloc(size);
	if (splq_gcm_open(mk, buf + 20, buf, INDEX_HEAD, buf + INDEX_HEAD, size, plain,
	                  buf + INDEX_HEAD + size) < 0) {
		free(plain);
		return splq_fail(err, SPLQ_E_INTEGRITY,
		                 "the vault's index does not authenticate (changed on disk)");
	}
	uint32_t count = get32(plain);
	const uint8_t *p = plain + 4, *end = plain + size;
	struct splq_vault_entry *es = NULL;
	int rc = -1;
	/* authentic, so written by a vault; still read within its bounds */
	if (count > (size - 4) / ENTRY_FIXED) {
		splq_fail(err, SPLQ_E_INTEGRITY, "the vault's index counts %u entries", count);
		goto out;
	}
	es = splq_xcalloc(count ? count : 1, sizeof(*es));
	for (uint32_t i = 0; i < count; i++) {
		if (end - p < ENTRY_FIXED || p[1] == 0 || p[1] > SPLQ_VAULT_NAME_MAX ||
		    end - p < ENTRY_FIXED + p[1]) {
			splq_fail(err, SPLQ_E_INTEGRITY, "the vault's index has a malformed entry");
			goto out;
		}
		struct splq_vault_entry *e = &es[i];
		size_t l = p[1];
		e->kind = p[0];
		memcpy(e->name, p + 2, l);
		e->name[l] = 0;
		p += 2 + l;
		e->version = get64(p);
		e->size = get64(p + 8);
		e->created_ms = (int64_t)get64(p + 16);
		e->updated_ms = (int64_t)get64(p + 24);
		memcpy(e->id, p + 32, SPLQ_VAULT_ID);
		p += 32 + SPLQ_VAULT_ID;
		if (strlen(e->name) != l || splq_vault_name_check(e->name, NULL) < 0) {
			splq_fail(err, SPLQ_E_INTEGRITY, "the vault's index has a malformed name");
			goto out;
		}
	}
	if (p != end) {
		splq_fail(err, SPLQ_E_INTEGRITY, "the vault's index has bytes past its entries");
		goto out;
	}
	*entries = splq_steal(es);
	*n = count;
	*serial = get64(buf + 12);
	rc = 0;
out:
	free(es);
	splq_wipe(plain, size);
	free(plain);
	return rc;
}

/* ---------- a service's fields ---------- */

uint8_t *splq_vault_fields_encode(const void *const *f, const size_t *flen, int n, size_t *len)
{
	size_t size = 0;

	for (int i = 0; i < n; i++)
		size += 4 + flen[i];
	uint8_t *buf = splq_xmalloc(size ? size : 1), *p = buf;
	for (int i = 0; i < n; i++) {
		put32(p, (uint32_t)flen[i]);
		memcpy(p + 4, f[i], flen[i]);
		p += 4 + flen[i];
	}
	*len = size;
	return buf;
}

int splq_vault_fields_decode(const uint8_t *buf, size_t len, const uint8_t **f, size_t *flen,
                             int max)
{
	int n = 0;

	while (len > 0) {
		if (len < 4 || n == max)
			return -1;
		uint32_t l = get32(buf);
		if (l > len - 4)
			return -1;
		f[n] = buf + 4;
		flen[n++] = l;
		buf += 4 + l;
		len -= 4 + l;
	}
	return n;
}
