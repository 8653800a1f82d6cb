/* splq: the system info a policy decision looks at (see policy.h): the
 * domains, kept sorted by name, built by calls or from Qubes' JSON. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

struct splq_policy_sysinfo *splq_policy_sysinfo_new(void)
{
	return splq_xcalloc(1, sizeof(struct splq_policy_sysinfo));
}

static void domain_clear(struct pol_domain *d)
{
	free(d->name);
	free(d->type);
	free(d->default_dispvm);
	free(d->power_state);
	free(d->uuid);
	for (int i = 0; i < d->ntags; i++)
		free(d->tags[i]);
	free(d->tags);
	free(d->disp_name);
	free(d->disp_default);
}

void splq_policy_sysinfo_free(struct splq_policy_sysinfo *si)
{
	if (!si)
		return;
	for (int i = 0; i < si->n; i++)
		domain_clear(&si->v[i]);
	free(si->v);
	free(si);
}

int splq_policy_sysinfo_count(const struct splq_policy_sysinfo *si)
{
	return si->n;
}

static char *dup_or_null(const char *s)
{
	return s ? splq_xstrdup(s) : NULL;
}

/* Where name is, or would go (*found tells). */
static int find_slot(const struct splq_policy_sysinfo *si, const char *name, bool *found)
{
	int lo = 0, hi = si->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(si->v[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int splq_policy_sysinfo_add(struct splq_policy_sysinfo *si, const struct splq_policy_domain *d,
                            struct splq_error *err)
{
	struct pol_domain nd = {0};
	bool found;
	int at;

	if (!d->name || !*d->name || d->name[0] == '@' || strcmp(d->name, "*") == 0 ||
	    strncmp(d->name, "uuid:", 5) == 0)
		return splq_fail(err, SPLQ_E_VALUE, "'%s' cannot be the name of a domain",
		                 d->name ? d->name : "");
	if (d->default_dispvm && (d->default_dispvm[0] == '@' || strchr(d->default_dispvm, ' ')))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "domain '%s': default_dispvm '%s' cannot name a domain", d->name,
		                 d->default_dispvm);
	at = find_slot(si, d->name, &found);
	if (found)
		return splq_fail(err, SPLQ_E_VALUE, "domain '%s' is there twice", d->name);
	nd.name = splq_xstrdup(d->name);
	nd.type = dup_or_null(d->type);
	nd.power_state = dup_or_null(d->power_state);
	nd.running = d->power_state && strcmp(d->power_state, "Running") == 0;
	nd.uuid = dup_or_null(d->uuid);
	nd.tfd = d->template_for_dispvms;
	nd.internal = d->internal;
	if (d->default_dispvm && *d->default_dispvm) {
		nd.default_dispvm = splq_xstrdup(d->default_dispvm);
		nd.disp_default = splq_strdup_printf("@dispvm:%s", d->default_dispvm);
	}
	nd.disp_name = splq_strdup_printf("@dispvm:%s", d->name);
	if (d->ntags > 0) {
		nd.tags = splq_xcalloc((size_t)d->ntags, sizeof(char *));
		for (int i = 0; i < d->ntags; i++)
			nd.tags[nd.ntags++] = splq_xstrdup(d->tags[i] ? d->tags[i] : "");
	}
	if (si->n == si->cap) {
		si->cap = si->cap ? 2 * si->cap : 16;
		si->v = realloc(si->v, (size_t)si->cap * sizeof(*si->v));
		if (!si->v)
			abort();
	}
	memmove(&si->v[at + 1], &si->v[at], (size_t)(si->n - at) * sizeof(*si->v));
	si->v[at] = nd;
	si->n++;
	return 0;
}

int splq_pol_lookup(const struct splq_policy_sysinfo *si, const char *key)
{
	bool found;
	int at;

	if (strncmp(key, "uuid:", 5) == 0) {
		for (int i = 0; i < si->n; i++)
			if (si->v[i].uuid && strcmp(si->v[i].uuid, key + 5) == 0)
				return i;
		return -1;
	}
	at = find_slot(si, key, &found);
	return found ? at : -1;
}

bool splq_pol_has_tag(const struct pol_domain *d, const char *tag)
{
	for (int i = 0; i < d->ntags; i++)
		if (strcmp(d->tags[i], tag) == 0)
			return true;
	return false;
}

/* ---- JSON ---- */

/* A string member or null/absent (*out NULL); else an error. */
static int json_str(json_t *o, const char *key, const char **out, const char *what,
                    const char *name, struct splq_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return splq_fail(err, SPLQ_E_VALUE, "%s: domain '%s': %s must be a string or null",
		                 what, name, key);
	*out = json_string_value(v);
	return 0;
}

static int json_bool(json_t *o, const char *key, bool *out, const char *what, const char *name,
                     struct splq_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return splq_fail(err, SPLQ_E_VALUE, "%s: domain '%s': %s must be true or false",
		                 what, name, key);
	*out = json_is_true(v);
	return 0;
}

static int domain_from_json(struct splq_policy_sysinfo *si, const char *name, json_t *o,
                            const char *what, struct splq_error *err)
{
	struct splq_policy_domain d = {.name = name};
	json_t *tags = json_object_get(o, "tags");
	cleanup_free const char **tv = NULL;

	if (!json_is_object(o))
		return splq_fail(err, SPLQ_E_VALUE, "%s: domain '%s' must be an object", what,
		                 name);
	if (json_str(o, "type", &d.type, what, name, err) < 0 ||
	    json_str(o, "default_dispvm", &d.default_dispvm, what, name, err) < 0 ||
	    json_str(o, "power_state", &d.power_state, what, name, err) < 0 ||
	    json_str(o, "uuid", &d.uuid, what, name, err) < 0 ||
	    json_bool(o, "template_for_dispvms", &d.template_for_dispvms, what, name, err) < 0 ||
	    json_bool(o, "internal", &d.internal, what, name, err) < 0)
		return -1;
	if (tags && !json_is_null(tags)) {
		size_t i;
		json_t *t;

		if (!json_is_array(tags))
			return splq_fail(err, SPLQ_E_VALUE,
			                 "%s: domain '%s': tags must be a list of strings", what,
			                 name);
		tv = splq_xcalloc(json_array_size(tags) + 1, sizeof(char *));
		json_array_foreach(tags, i, t)
		{
			if (!json_is_string(t))
				return splq_fail(err, SPLQ_E_VALUE,
				                 "%s: domain '%s': tags must be a list of strings",
				                 what, name);
			tv[d.ntags++] = json_string_value(t);
		}
		d.tags = tv;
	}
	if (splq_policy_sysinfo_add(si, &d, err) < 0) {
		char msg[SPLQ_ERROR_MAX];

		snprintf(msg, sizeof(msg), "%.100s: %.400s", what, err->msg);
		memcpy(err->msg, msg, sizeof(msg));
		return -1;
	}
	return 0;
}

int splq_policy_sysinfo_from_json(struct splq_policy_sysinfo *si, const char *text, size_t len,
                                  const char *what, struct splq_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *domains, *v;
	const char *name;
	int rc = 0;

	if (!root)
		return splq_fail(err, SPLQ_E_VALUE, "%s: not JSON: line %d: %s", what, jerr.line,
		                 jerr.text);
	domains = json_object_get(root, "domains");
	if (!json_is_object(root) || !json_is_object(domains)) {
		json_decref(root);
		return splq_fail(err, SPLQ_E_VALUE,
		                 "%s: system info must be an object {\"domains\": {NAME: {...}}}",
		                 what);
	}
	json_object_foreach(domains, name, v)
	{
		if (strncmp(name, "uuid:", 5) == 0) /* Qubes' second key of a domain */
			continue;
		if ((rc = domain_from_json(si, name, v, what, err)) < 0)
			break;
	}
	json_decref(root);
	return rc;
}
