/* splq-qube: the vault's files on its private volume (the formats:
 * formats/vault.h; where they are: vault.h), read and written for its
 * agent.  Every write is whole or not at all: a temporary file, fsync'ed,
 * renamed over the old one, and the folder fsync'ed.  Folders are opened
 * without following links but for "current", the vault's own. */
#ifndef SPLQ_QUBE_VAULT_FILES_H
#define SPLQ_QUBE_VAULT_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "formats/vault.h"

/* SPLQ_VAULT_DIR (SPLQ_E_STATE: this qube is no vault), its current
 * generation's folder (in data), its pub/ folder: open descriptors. */
int splq_vfile_data_dir(struct splq_error *err);
int splq_vfile_gen_dir(int data, struct splq_error *err);
int splq_vfile_pub_dir(struct splq_error *err);

/* A regular file of dir, at most max bytes (*buf malloc'ed); one written
 * whole. */
int splq_vfile_read_at(int dir, const char *name, size_t max, uint8_t **buf, size_t *len,
                       struct splq_error *err);
int splq_vfile_write_at(int dir, const char *name, const void *buf, size_t len,
                        struct splq_error *err);

/* HOW, a service's field: "scrypt:LOG2N" or "keyfile", into m's KDF. */
int splq_vfile_parse_how(const uint8_t *how, size_t len, struct splq_vault_master *m,
                         struct splq_error *err);
/* The master file of generation folder g: written with mk sealed under
 * secret (a new salt), or opened with secret (SPLQ_E_BADSECRET). */
int splq_vfile_master_write(int g, struct splq_vault_master *m, const uint8_t *secret, size_t len,
                            const uint8_t mk[SPLQ_AES_KEY], struct splq_error *err);
int splq_vfile_master_open(int g, const uint8_t *secret, size_t len, struct splq_vault_master *m,
                           uint8_t mk[SPLQ_AES_KEY], struct splq_error *err);

/* The index of generation folder g, as it is on disk. */
struct splq_vfile_index {
	struct splq_vault_entry *e;
	size_t n;
	uint64_t serial;
};
int splq_vfile_index_load(int g, const uint8_t *mk, uint32_t gen, struct splq_vfile_index *ix,
                          struct splq_error *err);
/* written at the next serial */
int splq_vfile_index_save(int g, const uint8_t *mk, uint32_t gen, struct splq_vfile_index *ix,
                          struct splq_error *err);
struct splq_vault_entry *splq_vfile_index_find(struct splq_vfile_index *ix, const char *name);

/* A record's file in g: r/ and its id in hex (out: 32 bytes). */
void splq_vfile_record_path(const uint8_t id[SPLQ_VAULT_ID], char out[32]);
/* The value of e, read and opened (wipe it before freeing it). */
int splq_vfile_record_read(int g, const uint8_t *mk, uint32_t gen, const struct splq_vault_entry *e,
                           uint8_t **value, size_t *n, struct splq_error *err);
/* value as e's next record, under a fresh id (set in e, with its size). */
int splq_vfile_record_write(int g, const uint8_t *mk, uint32_t gen, struct splq_vault_entry *e,
                            const void *value, size_t n, struct splq_error *err);

#endif
