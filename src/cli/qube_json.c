/* splq command line: a qube as JSON, one shape wherever a qube is shown
 * (ls, check, prefs): its name, class, state and tags, and every property
 * under the name prefs gives it ("class", not Qubes' "klass"), each value
 * typed (a number, true or false, a string, null for no qube). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

const char *cli_pref_type(const struct splq_pref *p)
{
	return p->def ? splq_prop_type_name(p->def->type) : "str";
}

const char *cli_pref_key(const struct splq_pref *p)
{
	return strcmp(p->def->name, "klass") == 0 ? "class" : p->def->name;
}

json_t *cli_pref_value(const struct splq_pref *p)
{
	const char *v = p->value ? p->value : "";
	char *end;

	switch (p->def ? p->def->type : SPLQ_PT_STR) {
	case SPLQ_PT_INT: {
		long long n = strtoll(v, &end, 10);
		return *v && !*end ? json_integer(n) : json_null();
	}
	case SPLQ_PT_BOOL:
		return json_boolean(strcmp(v, "True") == 0);
	case SPLQ_PT_VM:
		return *v ? cli_jstr(v) : json_null();
	default:
		return cli_jstr(v);
	}
}

json_t *cli_qube_json(struct splq_ctx *ctx, const struct splq_qube_info *q, struct splq_error *err)
{
	struct splq_pref *v;
	char **tags;
	int n, ntags;

	if (splq_op_prefs_list(ctx, q->name, &v, &n, err) < 0)
		return NULL;
	if (splq_op_tag_list(ctx, q->name, &tags, &ntags, err) < 0) {
		splq_prefs_free(v, n);
		return NULL;
	}
	json_t *o = json_pack("{s:o,s:s,s:s}", "name", cli_jstr(q->name), "class",
	                      splq_class_name(q->klass), "state", splq_power_name(q->power));
	for (int i = 0; i < n; i++)
		if (v[i].def && !json_object_get(o, cli_pref_key(&v[i])))
			json_object_set_new(o, cli_pref_key(&v[i]), cli_pref_value(&v[i]));
	json_t *a = json_array();
	for (int i = 0; i < ntags; i++) {
		json_array_append_new(a, cli_jstr(tags[i]));
		free(tags[i]);
	}
	free(tags);
	json_object_set_new(o, "tags", a);
	splq_prefs_free(v, n);
	return o;
}
