/* splq: the vault's qrexec services as the host sees them (see vault.h). */
#include "vault.h"

#include <string.h>

bool splq_vault_service_is(const char *service)
{
	size_t n = strcspn(service, "+");

	return (n > 10 && strncmp(service, "splq.Vault", 10) == 0) ||
	       (n == 9 && strncmp(service, "splq.Sign", 9) == 0);
}
