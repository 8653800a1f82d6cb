/* splq-qube: the vault, inside the vault qube.  All cryptography on
 * secrets and keys happens here; splq's host only passes requests and
 * results through qrexec, and its policy decides who may make them.
 *
 * Services, in /run/splq/lib/rpc (every one runs as root in the vault:
 * splq's host gives its vault services that user, whatever the policy's
 * user= says; services/vault.h):
 *
 *   splq.VaultInit         stdin: fields HOW, SECRET (formats/vault.h; HOW
 *                          is "scrypt:LOG2N" or "keyfile"): makes the vault
 *                          with a new master key sealed by SECRET, and
 *                          leaves it unlocked
 *   splq.VaultUnlock       stdin: fields SECRET; an unlocked vault stays as
 *                          it is
 *   splq.VaultLock         the master key is wiped from memory
 *   splq.VaultStatus       stdout: "locked\n" or "unlocked\n"
 *   splq.VaultPasswd       stdin: fields OLD, HOW, NEW: the master key
 *                          sealed again, nothing else changes
 *   splq.VaultRotate       stdin: fields SECRET: a new master key, every
 *                          record encrypted again under it, all at once
 *   splq.VaultStore+NAME   stdin: the value (at most SPLQ_VAULT_SECRET_MAX)
 *   splq.VaultGet+NAME     stdout: the value
 *   splq.VaultList         stdout: one line per secret or key, by name,
 *                          NAME KIND VERSION SIZE CREATED UPDATED (tabs;
 *                          KIND "secret" or "key", times in unix ms)
 *   splq.VaultDelete+NAME  a secret or a key, gone
 *   splq.VaultKeygen+NAME  a new Ed25519 key; stdout: its public key file
 *   splq.VaultPubkey+NAME  stdout: the public key file (locked or not)
 *   splq.Sign+NAME         stdin: fields HASH (the BLAKE2b-512 of the file,
 *                          64 bytes), TRUSTED, UNTRUSTED (one-line
 *                          comments); stdout: the signature file in
 *                          minisign's format (formats/minisign.h)
 *
 * Each exits 0, or with splq's code for what went wrong (error.h: 66 no
 * such secret, 67 one exists, 68 not a vault, 84 locked, 85 a wrong
 * passphrase, 86 a record or index that is not authentic, ...) and one
 * line "splq-vault: MESSAGE" on stderr.
 *
 * The vault's files are in SPLQ_VAULT_DIR on its private volume
 * (formats/vault.h): current (a symbolic link to the generation in
 * use), gN/master, gN/index and gN/r/<id> (the records), and pub/NAME.pub
 * (the public keys, which are no secret).
 *
 * The master key lives in one process, the vault's agent: started, as
 * root, by the first service that brings a secret (init, unlock,
 * passwd, rotate), in a session of its own, with no descriptor but its
 * socket SPLQ_VAULT_AGENT (in a directory of root's, mode 0700); it ends
 * with the qube.  It keeps the key in memory locked against swapping and
 * out of core dumps, and wipes it at lock.  The services are its clients,
 * one request per connection, served one at a time:
 *
 *   service -> agent  struct splq_vault_req, then length bytes (the
 *                     value, or the fields)
 *   agent -> service  struct splq_vault_rep, then length bytes (for
 *                     stdout); code and msg as the service exits with
 *
 * Plaintext is only ever in the memory of these processes: never in a
 * file, not even a temporary one. */
#ifndef SPLQ_QUBE_VAULT_H
#define SPLQ_QUBE_VAULT_H

#include <stdint.h>

#define SPLQ_VAULT_DIR       "/home/.splq-vault"
#define SPLQ_VAULT_RUN       "/run/splq-vault"
#define SPLQ_VAULT_AGENT     SPLQ_VAULT_RUN "/agent"
#define SPLQ_VAULT_REQ_MAGIC 0x73717631u /* "sqv1" */

enum splq_vault_op {
	SPLQ_VOP_INIT = 1,
	SPLQ_VOP_UNLOCK,
	SPLQ_VOP_LOCK,
	SPLQ_VOP_STATUS,
	SPLQ_VOP_PASSWD,
	SPLQ_VOP_ROTATE,
	SPLQ_VOP_STORE,
	SPLQ_VOP_GET,
	SPLQ_VOP_LIST,
	SPLQ_VOP_DELETE,
	SPLQ_VOP_KEYGEN,
	SPLQ_VOP_SIGN,
};

struct splq_vault_req {
	uint32_t magic;
	uint32_t op;
	char name[72]; /* NUL-terminated; "" for none */
	uint64_t length;
};

struct splq_vault_rep {
	int32_t code;
	uint32_t reserved;
	uint64_t length;
	char msg[240];
};

/* splq-sign [-t TRUSTED] [-c COMMENT] [-x SIGFILE] VAULT KEY FILE: a
 * qube's own `splq sign`: FILE hashed here, `qrexec-client-vm VAULT
 * splq.Sign+KEY` (the policy decides), the signature written to SIGFILE
 * (default FILE.minisig) once it is one; its path on stdout.  Exits with
 * the call's code (126: refused), 1 when the file cannot be read or
 * written, 2 for a bad argument. */
int splq_sign(int argc, char **argv);

/* The service program, for every name above (argv[0]'s basename). */
int splq_vault_service(int argc, char **argv);

/* The agent (vault_agent.c): serves on listening socket sock until the
 * qube ends.  Never returns. */
void splq_vault_agent(int sock) __attribute__((noreturn));

#endif
