/* splq: libFuzzer target for Qubes' firewall rules (formats/firewall.h): a
 * list as `splq firewall set` reads it.  Checks what the parser promises:
 * every rule it takes prints back to text that parses to the same rule
 * (printed the same), and the list always makes an nftables batch. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/firewall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct splq_fw_rules r;
	struct splq_error err;

	if (splq_fw_rules_parse((const char *)data, size, 1000000, &r, &err) < 0)
		return 0;
	for (size_t i = 0; i < r.n; i++) {
		struct splq_fw_rule again;
		char *f = splq_fw_rule_format(&r.v[i]), *g;

		if (splq_fw_rule_parse(f, strlen(f), 1000000, &again, &err) < 0)
			abort();
		g = splq_fw_rule_format(&again);
		if (strcmp(f, g) != 0)
			abort();
		free(f);
		free(g);
	}
	char *b = splq_fw_nft_batch("splq", "fw-vif1", &r, 1000000, &err);
	if (!b)
		abort();
	free(b);
	splq_fw_rules_free(&r);
	return 0;
}
