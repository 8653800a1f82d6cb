/* splq: libFuzzer target for minisign's public keys and signatures
 * (formats/minisign.h), as anyone may hand them to `splq verify`.  The
 * first byte picks which (even: a key, odd: a signature); the rest is the
 * text.  Checks what the parser promises: a failure says why, and what
 * it accepts formats to a text that parses to the same again; no read
 * past the text (ASan). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void key(const char *text, size_t len)
{
	struct splq_minisign_key k, again;
	struct splq_error err;
	char *out;

	err.code = 0;
	if (splq_minisign_key_parse(text, len, &k, &err) < 0) {
		if (err.code != SPLQ_E_VALUE)
			abort();
		return;
	}
	out = splq_minisign_key_format(&k);
	if (splq_minisign_key_parse(out, strlen(out), &again, &err) < 0 ||
	    memcmp(&k, &again, sizeof(k)) != 0)
		abort();
	free(out);
}

static void sig(const char *text, size_t len)
{
	struct splq_minisign_sig s, again;
	struct splq_error err;
	char *out;

	err.code = 0;
	if (splq_minisign_sig_parse(text, len, &s, &err) < 0) {
		if (err.code != SPLQ_E_VALUE)
			abort();
		return;
	}
	out = splq_minisign_sig_format(&s);
	if (splq_minisign_sig_parse(out, strlen(out), &again, &err) < 0)
		abort();
	if (again.prehashed != s.prehashed || memcmp(again.keynum, s.keynum, sizeof(s.keynum)) ||
	    memcmp(again.sig, s.sig, sizeof(s.sig)) || strcmp(again.untrusted, s.untrusted) ||
	    strcmp(again.trusted, s.trusted) || memcmp(again.global, s.global, sizeof(s.global)))
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size < 1)
		return 0;
	/* an exact copy: ASan sees a read one byte past the end */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		sig(copy, size - 1);
	else
		key(copy, size - 1);
	free(copy);
	return 0;
}
