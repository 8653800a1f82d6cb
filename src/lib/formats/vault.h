/* splq: the vault's files, as its service keeps them on the vault qube's
 * private volume (src/qube/vault.h).  Format 1.  Every number is
 * big-endian; every file is written whole to a temporary name, fsync'ed,
 * renamed into place and its directory fsync'ed.  Pure: no I/O; what is
 * read back is checked as if it were hostile (a vault's volume is a file
 * on the host that anyone with root there can change).
 *
 * The master key (MK, 32 random bytes) encrypts everything else.  It is
 * sealed by a key-encryption key (KEK) that comes from the passphrase
 * (scrypt) or from a key file (BLAKE2b-512 of "splq vault key file" with
 * its NUL, the salt and the file's bytes; its first 32 bytes):
 *
 *   master, 116 bytes
 *     0  8  "splqVMK1"
 *     8  1  how the KEK is made: 1 scrypt, 2 key file
 *     9  1  scrypt: log2 N (10..22); key file: 0
 *    10  2  0
 *    12  4  scrypt r (key file: 0)
 *    16  4  scrypt p (key file: 0)
 *    20  4  generation: the MK's number, 1 at init, one more at each rotate
 *    24 32  salt
 *    56 12  nonce
 *    68 32  MK, AES-256-GCM under the KEK, bytes 0..55 as associated data
 *   100 16  tag
 *
 * A passphrase change seals the same MK again (new salt and nonce): no
 * secret is encrypted again.
 *
 * Each secret or signing key is a record, one file per version:
 *
 *   record
 *     0  8  "splqVRC1"
 *     8  1  kind: 1 secret, 2 signing key (keynum 8 bytes, Ed25519 seed 32)
 *     9  1  length L of the name (1..SPLQ_VAULT_NAME_MAX)
 *    10  2  0
 *    12  4  generation of the MK it is under
 *    16  8  version: 1 at the first store, one more at each store after
 *    24  8  length S of the value
 *    32 12  nonce, fresh and random at every write
 *    44  L  the name
 *  44+L  S  the value, AES-256-GCM under the MK, bytes 0..43+L as
 *           associated data: kind, name, generation and version are bound
 *           to the ciphertext
 *  ...  16  tag
 *
 * The index lists the records that are current.  It is encrypted too (the
 * names of the secrets are not left in the clear):
 *
 *   index
 *     0  8  "splqVIX1"
 *     8  4  generation
 *    12  8  serial: one more at every write of the index
 *    20 12  nonce
 *    32  N  the entries, AES-256-GCM under the MK, bytes 0..31 as
 *           associated data
 *  32+N 16  tag
 *
 *   entries: a count (4 bytes), then for each, in name order:
 *     1  kind   1  L   L  name   8 version   8 size (of the value)
 *     8  created (unix ms)   8 updated (unix ms)   12  record id
 *
 * A record is found by its id (its file is r/<24 hex digits>) and read
 * only when its kind, name, generation and version are the ones the index
 * holds for it and its tag holds: a record moved to another name, swapped
 * with another, or replaced by an older version of itself is refused. */
#ifndef SPLQ_FORMATS_VAULT_H
#define SPLQ_FORMATS_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto.h"
#include "../error.h"

#define SPLQ_VAULT_MASTER_SIZE 116
#define SPLQ_VAULT_NAME_MAX    64
#define SPLQ_VAULT_ID          12
#define SPLQ_VAULT_SECRET_MAX  (64u << 20) /* a value, at most */
#define SPLQ_VAULT_KEYFILE_MIN 32          /* bytes of a key file, at least */

enum splq_vault_kdf { SPLQ_VAULT_SCRYPT = 1, SPLQ_VAULT_KEYFILE = 2 };
enum splq_vault_kind { SPLQ_VAULT_SECRET = 1, SPLQ_VAULT_SIGNKEY = 2 };

/* A name of a secret or key: 1 to SPLQ_VAULT_NAME_MAX of [A-Za-z0-9_.-],
 * not starting with '.' or '-' (it travels as a qrexec argument).  0, or
 * -1 with SPLQ_E_NAME. */
int splq_vault_name_check(const char *name, struct splq_error *err);

/* The master file's header fields (read or to write). */
struct splq_vault_master {
	int kdf;        /* enum splq_vault_kdf */
	unsigned log2n; /* scrypt */
	uint32_t r, p;
	uint32_t generation;
	uint8_t salt[32];
	uint8_t nonce[SPLQ_GCM_NONCE];
	uint8_t sealed[SPLQ_AES_KEY];
	uint8_t tag[SPLQ_GCM_TAG];
};

/* The KEK of m (kdf, parameters, salt) from secret (a passphrase, or a key
 * file's bytes): SPLQ_E_VALUE for a key file shorter than
 * SPLQ_VAULT_KEYFILE_MIN or scrypt parameters out of range. */
int splq_vault_kek(const struct splq_vault_master *m, const void *secret, size_t len,
                   uint8_t kek[SPLQ_AES_KEY], struct splq_error *err);
/* Seal mk under kek into m (fresh nonce; m's other fields as set) and
 * write the file's bytes into out. */
int splq_vault_master_seal(struct splq_vault_master *m, const uint8_t kek[SPLQ_AES_KEY],
                           const uint8_t mk[SPLQ_AES_KEY], uint8_t out[SPLQ_VAULT_MASTER_SIZE],
                           struct splq_error *err);
/* Read a master file (SPLQ_E_CORRUPT: not one), then open it: mk, or
 * SPLQ_E_BADSECRET when kek is not the one it was sealed with. */
int splq_vault_master_parse(const uint8_t *buf, size_t len, struct splq_vault_master *m,
                            struct splq_error *err);
int splq_vault_master_open(const struct splq_vault_master *m, const uint8_t kek[SPLQ_AES_KEY],
                           uint8_t mk[SPLQ_AES_KEY], struct splq_error *err);

/* One entry of the index. */
struct splq_vault_entry {
	int kind;
	char name[SPLQ_VAULT_NAME_MAX + 1];
	uint64_t version, size;
	int64_t created_ms, updated_ms;
	uint8_t id[SPLQ_VAULT_ID];
};

/* A record of value (n bytes) for e (kind, name, version, size = n) under
 * mk of generation gen: *out malloc'ed, *len its length. */
int splq_vault_record_seal(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen,
                           const struct splq_vault_entry *e, const void *value, size_t n,
                           uint8_t **out, size_t *len, struct splq_error *err);
/* The value of record buf (len bytes), which must be e's under mk of
 * generation gen: *value malloc'ed (*n bytes; wipe it before freeing).
 * SPLQ_E_INTEGRITY naming what does not agree, and nothing decrypted. */
int splq_vault_record_open(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen,
                           const struct splq_vault_entry *e, const uint8_t *buf, size_t len,
                           uint8_t **value, size_t *n, struct splq_error *err);

/* The index of n entries (sorted here by name) at serial, under mk of
 * generation gen: *out malloc'ed. */
int splq_vault_index_seal(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen, uint64_t serial,
                          struct splq_vault_entry *entries, size_t n, uint8_t **out, size_t *len,
                          struct splq_error *err);
/* The entries of index buf: *entries malloc'ed (*n of them), *serial.
 * SPLQ_E_INTEGRITY when it is not an index of generation gen under mk, or
 * its entries are malformed. */
int splq_vault_index_open(const uint8_t mk[SPLQ_AES_KEY], uint32_t gen, const uint8_t *buf,
                          size_t len, struct splq_vault_entry **entries, size_t *n,
                          uint64_t *serial, struct splq_error *err);

/* What a vault service reads on stdin besides a value (src/qube/vault.h):
 * fields, each a 4-byte length and that many bytes.  encode: n fields
 * into a malloc'ed buffer.  decode: up to max fields of buf into
 * f[i]/flen[i] (pointing into buf), how many, or -1 when buf is not
 * whole fields. */
uint8_t *splq_vault_fields_encode(const void *const *f, const size_t *flen, int n, size_t *len);
int splq_vault_fields_decode(const uint8_t *buf, size_t len, const uint8_t **f, size_t *flen,
                             int max);

#endif
