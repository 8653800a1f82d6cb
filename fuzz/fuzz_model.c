/* splq: libFuzzer target for the model's checks of outside input: qube
 * names, every property's value parser, labels, tags, features, users. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct splq_error err;
	const struct splq_label *l;
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0'; /* (a NUL inside ends the string, as argv would) */

	if (splq_name_check(s, &err) == 0) {
		size_t len = strlen(s);
		if (len < 1 || len > SPLQ_NAME_MAX ||
		    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
			abort();
	} else if (!err.msg[0]) {
		abort();
	}

	/* each property: a value it accepts comes out canonical, and the
	 * canonical form is accepted as it is */
	for (const struct splq_prop_def *d = splq_props; d->name; d++) {
		char *out = NULL, *again = NULL;

		if (splq_prop_find(d->name) != d)
			abort();
		if (splq_prop_parse(d, s, &out, &err) < 0) {
			if (out || !err.msg[0])
				abort();
			continue;
		}
		if (!out || d->readonly)
			abort();
		if (splq_prop_parse(d, out, &again, &err) < 0 || strcmp(out, again) != 0)
			abort();
		free(again);
		free(out);
	}
	splq_prop_find(s);

	l = splq_label_find(s);
	if (l && (l < splq_labels || l >= splq_labels + 8 || splq_label_find(l->name) != l ||
	          splq_label_by_index(l->index) != l))
		abort();

	splq_class_parse(s);
	splq_tag_check(s, &err);
	splq_feature_name_check(s, &err);
	splq_feature_value_check(s, &err);
	splq_user_name_check(s, &err);
	/* a size: within bounds, a whole MiB, and what it formats to reads
	 * back as the same size */
	unsigned long long n, exact, back;
	if (splq_bytes_parse(s, &exact, &err) == 0 && exact > SPLQ_SIZE_MAX)
		abort();
	if (splq_size_parse(s, &n, &err) == 0) {
		char text[32], *sp;
		if (n < SPLQ_SIZE_MIN || n > SPLQ_SIZE_MAX || n % SPLQ_MIB)
			abort();
		splq_size_format(n, text, sizeof(text));
		if ((sp = strchr(text, ' ')))
			memmove(sp, sp + 1, strlen(sp));
		if (splq_size_parse(text, &back, &err) < 0 || back != n)
			abort();
	}
	free(s);
	return 0;
}
