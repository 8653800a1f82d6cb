/* splq: a policy decision as one line of text (see policy.h). */
#include <stdio.h>
#include <string.h>

#include "policy.h"

const char *splq_policy_action_name(enum splq_policy_action a)
{
	return a == SPLQ_POLICY_ALLOW ? "allow" : a == SPLQ_POLICY_ASK ? "ask" : "deny";
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len < o->size) {
		size_t room = o->size - o->len - 1, k = n < room ? n : room;

		memcpy(o->buf + o->len, s, k);
		o->buf[o->len + k] = '\0';
	}
	o->len += n;
}

size_t splq_policy_decision_format(const struct splq_policy_decision *d, char *buf, size_t size)
{
	struct out o = {.buf = buf, .size = size};

	if (size)
		buf[0] = '\0';
	if (d->action == SPLQ_POLICY_DENY) {
		put(&o, "deny");
		return o.len;
	}
	if (d->action == SPLQ_POLICY_ALLOW) {
		put(&o, "allow target=");
		put(&o, d->target);
	} else {
		put(&o, "ask targets=");
		for (int i = 0; i < d->ntargets; i++) {
			if (i)
				put(&o, ",");
			put(&o, d->targets[i]);
		}
		if (d->default_target) {
			put(&o, " default_target=");
			put(&o, d->default_target);
		}
	}
	if (d->user) {
		put(&o, " user=");
		put(&o, d->user);
	}
	if (!d->autostart)
		put(&o, " autostart=no");
	if (d->notify)
		put(&o, " notify=yes");
	return o.len;
}
