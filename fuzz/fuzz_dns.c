/* splq: libFuzzer target for a DNS answer (formats/dns.h), as the network
 * sends it to a netvm looking a firewall rule's dsthost up.  The first
 * byte picks the type asked for (A or AAAA); the rest is the answer to a
 * query of id 0x1234 for www.example.test.  Checks what the parser
 * promises: a count within max, and no read past the answer (ASan). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t addrs[4][16];
	struct splq_error err;
	uint8_t *copy;
	int n;

	if (size < 1)
		return 0;
	/* an exact copy: ASan sees a read one byte past the end */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	n = splq_dns_answer(copy, size - 1, 0x1234, "www.example.test",
	                    data[0] & 1 ? SPLQ_DNS_AAAA : SPLQ_DNS_A, addrs, 4, &err);
	if (n > 4 || (n < 0 && !err.code))
		abort();
	free(copy);
	return 0;
}
