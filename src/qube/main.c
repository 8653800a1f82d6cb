/* splq-qube: splq's helpers inside a qube, one static program that acts
 * as the one it is called as (the basename of argv[0], a symlink to it in
 * /run/splq/lib/bin), or as `splq-qube NAME ARGS...`.
 *
 *   qrexec-client-vm    call a service in another qube (client.h)
 *   qvm-copy, qvm-copy-to-vm, qvm-move, qvm-move-to-vm, qfile-agent,
 *   splq-remove, and the service qubes.Filecopy (in /run/splq/lib/rpc):
 *                       file copy (filecopy.h)
 *   qvm-connect-tcp, the service qubes.ConnectTCP, and splq-tcp-connect
 *   (pid 1's for Qubes' /dev/tcp services):
 *                       TCP between qubes (tcp.h)
 *   the services splq.Vault* and splq.Sign (in /run/splq/lib/rpc), and
 *   splq-sign:          the vault, in the vault qube, and signing by it
 *                       from another (vault.h) */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "filecopy.h"
#include "tcp.h"
#include "vault.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} programs[] = {
    {"qrexec-client-vm", splq_qrexec_client_vm},
    {"qvm-copy", splq_qvm_copy},
    {"qvm-copy-to-vm", splq_qvm_copy},
    {"qvm-move", splq_qvm_copy},
    {"qvm-move-to-vm", splq_qvm_copy},
    {"qfile-agent", splq_qfile_agent},
    {"splq-remove", splq_remove},
    {"qubes.Filecopy", splq_qubes_filecopy},
    {"qvm-connect-tcp", splq_qvm_connect_tcp},
    {"qubes.ConnectTCP", splq_qubes_connect_tcp},
    {"splq-tcp-connect", splq_tcp_connect},
    {"splq-sign", splq_sign},
    {"splq.VaultInit", splq_vault_service},
    {"splq.VaultUnlock", splq_vault_service},
    {"splq.VaultLock", splq_vault_service},
    {"splq.VaultStatus", splq_vault_service},
    {"splq.VaultPasswd", splq_vault_service},
    {"splq.VaultRotate", splq_vault_service},
    {"splq.VaultStore", splq_vault_service},
    {"splq.VaultGet", splq_vault_service},
    {"splq.VaultList", splq_vault_service},
    {"splq.VaultDelete", splq_vault_service},
    {"splq.VaultKeygen", splq_vault_service},
    {"splq.VaultPubkey", splq_vault_service},
    {"splq.Sign", splq_vault_service},
};

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
	const char *name = argc > 0 ? base(argv[0]) : "splq-qube";

	if (strcmp(name, "splq-qube") == 0) {
		if (argc < 2) {
			fputs("usage: splq-qube PROGRAM [ARGS...]\nprograms:", stderr);
			for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
				fprintf(stderr, " %s", programs[i].name);
			fputc('\n', stderr);
			return 2;
		}
		argc--;
		argv++;
		name = base(argv[0]);
	}
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (strcmp(name, programs[i].name) == 0)
			return programs[i].main(argc, argv);
	fprintf(stderr, "splq-qube: no program named '%s'\n", name);
	return 127;
}
