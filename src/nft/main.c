/* splq-nft: apply an nftables command batch, read from stdin, in the
 * network namespace it runs in, as one transaction (libnftables).  splq
 * runs it, in a network qube's namespace, with batches it wrote itself; it
 * is a program of its own because libnftables comes as a shared library
 * only, and splq is linked statically.  Exit 0, 1 when nftables refused the
 * batch (its messages on stderr), 2 on bad use. */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_MAX (4 << 20)

int main(int argc, char **argv)
{
	size_t len = 0;
	char *buf = malloc(BATCH_MAX + 1);
	ssize_t n;

	if (argc != 1 || !buf) {
		fprintf(stderr, "usage: splq-nft < BATCH\n");
		return 2;
	}
	while ((n = read(STDIN_FILENO, buf + len, BATCH_MAX - len)) > 0)
		len += (size_t)n;
	if (n < 0 || len == BATCH_MAX) {
		fprintf(stderr, "splq-nft: %s\n", n < 0 ? "cannot read the batch" : "batch too big");
		return 2;
	}
	buf[len] = 0;
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		fprintf(stderr, "splq-nft: no nftables context\n");
		return 2;
	}
	nft_ctx_buffer_error(nft);
	int rc = nft_run_cmd_from_buffer(nft, buf);
	const char *msg = nft_ctx_get_error_buffer(nft);
	if (rc != 0)
		fprintf(stderr, "%s", msg && *msg ? msg : "nftables refused the batch\n");
	nft_ctx_free(nft);
	free(buf);
	return rc != 0;
}
