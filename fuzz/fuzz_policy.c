/* splq: libFuzzer target for the qrexec policy: the parser (with includes
 * served from memory), the evaluator and a decision's text, and the
 * system info's JSON reader.  Input: policy text, then after a NUL byte
 * one query a line ("SERVICE+ARG SOURCE TARGET"). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const char *text;
	size_t len;
	int reads; /* at most 64 an input: includes may branch */
};

/* Every included file is the input's policy again (includes nest until
 * the parser's limit); a path holding "x" is missing, and so is any after
 * the 64th. */
static int mem_read(void *ctx, const char *path, char **text, size_t *len, char **name,
                    struct splq_error *err)
{
	struct mem *m = ctx;

	if (strchr(path, 'x') || ++m->reads > 64)
		return splq_fail(err, SPLQ_E_POLICY, "no such file: %s", path);
	*text = splq_xmalloc(m->len + 1);
	memcpy(*text, m->text, m->len);
	(*text)[m->len] = '\0';
	*len = m->len;
	*name = splq_strdup_printf("inc/%s", path);
	return 0;
}

static int mem_read_dir(void *ctx, const char *path, struct splq_policy_file **files, int *n,
                        struct splq_error *err)
{
	struct splq_policy_file *v = splq_xcalloc(1, sizeof(*v));

	if (mem_read(ctx, path, &v->text, &v->len, &v->name, err) < 0) {
		free(v);
		return -1;
	}
	*files = v;
	*n = 1;
	return 0;
}

static struct splq_policy_sysinfo *sysinfo(void)
{
	static const char *const tags_dev[] = {"dev", "vault"};
	static const struct splq_policy_domain doms[] = {
	    {"dom0", "AdminVM", NULL, 0, "dvm", false, "Running",
	     "00000000-0000-0000-0000-000000000000", false},
	    {"work", "AppVM", tags_dev, 2, "dvm", false, "Running", "1", false},
	    {"vault", "AppVM", tags_dev, 1, NULL, false, "Halted", "2", false},
	    {"dvm", "AppVM", tags_dev + 1, 1, NULL, true, "Halted", "3", false},
	    {"odd", "TemplateVM", NULL, 0, "ghost", true, "Running", NULL, false},
	    {"sys", "AppVM", tags_dev, 2, "work", false, "Running", "5", true},
	};
	struct splq_policy_sysinfo *si = splq_policy_sysinfo_new();
	struct splq_error err;

	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++)
		if (splq_policy_sysinfo_add(si, &doms[i], &err) < 0)
			abort();
	return si;
}

static void check(const struct splq_policy_decision *d)
{
	char line[64];
	size_t n = splq_policy_decision_format(d, line, sizeof(line));

	if (n < 4 || strlen(line) != (n < sizeof(line) ? n : sizeof(line) - 1))
		abort();
	switch (d->action) {
	case SPLQ_POLICY_DENY:
		if (!d->reason[0] || strcmp(line, "deny") != 0)
			abort();
		break;
	case SPLQ_POLICY_ALLOW:
		if (!d->target || !d->target[0] || !d->file)
			abort();
		break;
	case SPLQ_POLICY_ASK: {
		bool dt = d->default_target == NULL;

		if (d->ntargets < 1 || !d->file)
			abort();
		for (int i = 0; i < d->ntargets; i++) {
			if (i && strcmp(d->targets[i - 1], d->targets[i]) >= 0)
				abort(); /* sorted, no repeats */
			if (d->default_target && strcmp(d->default_target, d->targets[i]) == 0)
				dt = true;
		}
		if (!dt)
			abort();
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - text) : size;
	struct mem m = {text, plen, 0};
	struct splq_policy_includes inc = {mem_read, mem_read_dir, &m};
	struct splq_policy *p = splq_policy_new();
	struct splq_policy_sysinfo *si = sysinfo(), *js = splq_policy_sysinfo_new();
	struct splq_policy_decision d = {0};
	struct splq_error err = {0};

	/* the JSON reader, on the whole input */
	if (splq_policy_sysinfo_from_json(js, text, size, "fuzz", &err) < 0 &&
	    (err.code != SPLQ_E_VALUE || strncmp(err.msg, "fuzz: ", 6) != 0))
		abort();

	if (splq_policy_add_text(p, "fuzz.policy", text, plen, &inc, &err) < 0) {
		if (err.code != SPLQ_E_POLICY ||
		    (strncmp(err.msg, "fuzz.policy:", 12) != 0 && strncmp(err.msg, "inc/", 4) != 0))
			abort();
	} else if (nul) {
		char *q = splq_xmalloc(size - plen);
		char *save = NULL;

		memcpy(q, nul + 1, size - plen - 1);
		q[size - plen - 1] = '\0';
		for (char *l = strtok_r(q, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *w[3] = {"", "", ""}, *s2 = NULL;
			int k = 0;

			for (char *t = strtok_r(l, " ", &s2); t && k < 3;
			     t = strtok_r(NULL, " ", &s2))
				w[k++] = t;
			splq_policy_eval_call(p, si, w[0], w[1], w[2], &d);
			check(&d);
			/* the same request again, on the grown decision */
			splq_policy_eval_call(p, si, w[0], w[1], w[2], &d);
			check(&d);
		}
		free(q);
	}
	splq_policy_decision_clear(&d);
	splq_policy_free(p);
	splq_policy_sysinfo_free(si);
	splq_policy_sysinfo_free(js);
	return 0;
}
