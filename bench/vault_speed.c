/* splq: the throughput of the vault's encryption, for `make bench`: a
 * record of SIZE bytes (default 1 MiB) sealed, as the vault seals a
 * secret it stores (formats/vault.h: AES-256-GCM under a fresh nonce,
 * the header as associated data), over and over for SECONDS (default 2),
 * then opened again as often.  Prints "seal BYTES_PER_S open BYTES_PER_S". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "formats/vault.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 1u << 20;
	double secs = argc > 2 ? strtod(argv[2], NULL) : 2.0;
	uint8_t mk[SPLQ_AES_KEY];
	struct splq_vault_entry e = {
	    .kind = SPLQ_VAULT_SECRET, .name = "bench", .version = 1, .size = size};
	struct splq_error err;
	uint8_t *value = malloc(size ? size : 1), *rec = NULL, *back = NULL;
	size_t len = 0, n = 0;
	double bytes = 0, t0;

	if (!value || splq_random(mk, sizeof(mk)) < 0 || splq_random(value, size) < 0)
		return 1;
	for (t0 = now(); now() - t0 < secs; bytes += (double)size) {
		free(rec);
		if (splq_vault_record_seal(mk, 1, &e, value, size, &rec, &len, &err) < 0) {
			fprintf(stderr, "vault_speed: %s\n", err.msg);
			return 1;
		}
	}
	double seal = bytes / (now() - t0);
	bytes = 0;
	for (t0 = now(); now() - t0 < secs; bytes += (double)size) {
		free(back);
		if (splq_vault_record_open(mk, 1, &e, rec, len, &back, &n, &err) < 0 || n != size ||
		    memcmp(back, value, size) != 0) {
			fprintf(stderr, "vault_speed: %s\n", err.msg);
			return 1;
		}
	}
	printf("seal %.0f open %.0f\n", seal, bytes / (now() - t0));
	return 0;
}
