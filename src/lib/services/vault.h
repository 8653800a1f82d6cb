/* splq: the vault's qrexec services as the host sees them.  They run in
 * the vault qube (src/qube/vault.h says what each reads and writes); the
 * host only calls them, for its own commands (ops.h: splq_op_vault_*) and
 * for qubes the policy lets call them.
 *
 * Every one of them runs as root in the vault, whatever user the policy's
 * rule names: the vault's files and its agent are root's, so that no
 * other user of the vault qube (a program a copy brought in, say) can
 * reach them. */
#ifndef SPLQ_SERVICES_VAULT_H
#define SPLQ_SERVICES_VAULT_H

#include <stdbool.h>

#define SPLQ_VAULT_FEATURE "vault" /* on a vault qube: "1" */
#define SPLQ_VAULT_USER    "root"

/* Is SERVICE (or SERVICE+ARG) one of the vault's? */
bool splq_vault_service_is(const char *service);

#endif
