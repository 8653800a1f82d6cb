/* splq: qrexec policy v5 text into rules (see policy.h), with the syntax
 * Qubes' parser accepts and nothing more:
 *
 *   SERVICE ARGUMENT SOURCE TARGET ACTION [OPTION=VALUE]...
 *   !include PATH    !include-dir PATH    !include-service SERVICE ARG PATH
 *   !compat-4.0      # a comment (a line whose first word starts with #)
 *
 * Lines end at \n, \r\n or \r (Python's universal newlines); words are
 * split at Python's whitespace, Unicode's included.  Files included by
 * !include-service hold the old form, SOURCE TARGET ACTION[,OPTION=V...],
 * with $ for @ and "$include:PATH".  !compat-4.0 would read Qubes 4.0's
 * policy folder, which splq does not have: it adds nothing.  Any error
 * fails the whole load, its message naming file and line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

#define MAX_FIELDS 32
#define MAX_DEPTH  32

/* ---- storage: every string a rule points at lives in the arena ---- */

struct pol_chunk {
	struct pol_chunk *next;
	size_t used, size;
	char data[];
};

static char *arena_alloc(struct splq_policy *p, size_t n)
{
	struct pol_chunk *c = p->arena;

	if (!c || c->size - c->used < n) {
		size_t size = n > 65536 ? n : 65536;

		c = splq_xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = p->arena;
		p->arena = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static char *arena_strndup(struct splq_policy *p, const char *s, size_t n)
{
	char *d = arena_alloc(p, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

struct splq_policy *splq_policy_new(void)
{
	return splq_xcalloc(1, sizeof(struct splq_policy));
}

void splq_policy_free(struct splq_policy *p)
{
	if (!p)
		return;
	while (p->arena) {
		struct pol_chunk *next = p->arena->next;

		free(p->arena);
		p->arena = next;
	}
	free(p->rules);
	free(p);
}

int splq_policy_rule_count(const struct splq_policy *p)
{
	return p->n;
}

void splq_policy_files_free(struct splq_policy_file *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].text);
	}
	free(v);
}

/* ---- characters ---- */

/* The length of the whitespace character (as Python's str.isspace sees
 * it) at s, 0 if there is none.  s is valid UTF-8 and NUL-terminated. */
static size_t space_len(const unsigned char *s)
{
	if ((*s >= 0x09 && *s <= 0x0d) || (*s >= 0x1c && *s <= 0x20))
		return 1;
	if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2; /* U+0085, U+00A0 */
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3; /* U+1680 */
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3; /* U+205F */
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) and no NUL: the offset of the first bad byte, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned lo = 0x80, hi = 0xbf;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return i;
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

/* Split a NUL-terminated line in place into at most MAX_FIELDS words;
 * -1 when there are more. */
static int split(char *s, char **f)
{
	int n = 0;

	for (;;) {
		size_t w;

		while ((w = space_len((unsigned char *)s)))
			s += w;
		if (!*s)
			return n;
		if (n == MAX_FIELDS)
			return -1;
		f[n++] = s;
		while (*s && !(w = space_len((unsigned char *)s)))
			s++;
		if (!*s)
			return n;
		*s = '\0';
		s += w;
	}
}

/* ---- messages ---- */

struct pctx {
	struct splq_policy *p;
	const struct splq_policy_includes *inc;
	int depth;
};

static int fail_at(struct splq_error *err, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(struct splq_error *err, const char *file, int line, const char *fmt, ...)
{
	char msg[SPLQ_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return splq_fail(err, SPLQ_E_POLICY, "%s:%d: %s", file, line, msg);
	return splq_fail(err, SPLQ_E_POLICY, "%s: %s", file, msg);
}

/* The characters of s outside [A-Za-z0-9-._] (and '+' if plus), for a
 * message; "" when there are none. */
static const char *bad_chars(const char *s, bool plus, char *buf, size_t size)
{
	size_t n = 0;
	bool other = false;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		          (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' ||
		          (plus && *c == '+');
		if (ok)
			continue;
		if (*c >= 0x80 || *c < 0x20 || *c == 0x7f) {
			other = true;
		} else if (!memchr(buf, *c, n) && n + 1 < size) {
			buf[n++] = (char)*c;
		}
	}
	if (other && n + 12 < size) {
		memcpy(buf + n, n ? " and others" : "non-ASCII", n ? 11 : 9);
		n += n ? 11 : 9;
	}
	buf[n] = '\0';
	return (n || other) ? buf : "";
}

/* Qubes' check of a SERVICE and ARGUMENT pair ("*" for any). */
static int check_service(const char *file, int line, const char *service, const char *argument,
                         struct splq_error *err)
{
	char buf[64];
	bool any = strcmp(service, "*") == 0;

	if (!any && *bad_chars(service, false, buf, sizeof(buf)))
		return fail_at(err, file, line,
		               "service '%s' holds characters a service name cannot have: %s "
		               "(allowed: A-Z a-z 0-9 - . _)",
		               service, buf);
	if (strcmp(argument, "*") == 0)
		return 0;
	if (*bad_chars(argument, true, buf, sizeof(buf)))
		return fail_at(err, file, line,
		               "argument '%s' holds characters an argument cannot have: %s "
		               "(allowed: A-Z a-z 0-9 + - . _)",
		               argument, buf);
	if (argument[0] != '+')
		return fail_at(err, file, line, "argument '%s' must start with + (or be *)",
		               argument);
	if (any)
		return fail_at(err, file, line, "the service * takes only the argument *, not '%s'",
		               argument);
	return 0;
}

/* ---- tokens ---- */

bool splq_policy_is_dom0(const char *s)
{
	return strcmp(s, "@adminvm") == 0 || strcmp(s, "dom0") == 0 ||
	       strcmp(s, "uuid:00000000-0000-0000-0000-000000000000") == 0;
}

static const struct {
	const char *text;
	unsigned char kind, ctx;
} exacts[] = {
    {"*", TK_ANY, CTX_SOURCE | CTX_TARGET},
    {"@adminvm", TK_ADMINVM, CTX_SOURCE | CTX_TARGET | CTX_REDIRECT | CTX_INTENDED},
    {"@anyvm", TK_ANYVM, CTX_SOURCE | CTX_TARGET},
    {"@default", TK_DEFAULT, CTX_TARGET | CTX_INTENDED},
    {"@dispvm", TK_DISPVM, CTX_TARGET | CTX_REDIRECT | CTX_INTENDED},
};
/* In this order: "@dispvm:@tag:X" is tried as @dispvm: first, whose value
 * may not start with '@'. */
static const struct {
	const char *prefix;
	unsigned char kind, ctx;
} prefixes[] = {
    {"@type:", TK_TYPE, CTX_SOURCE | CTX_TARGET},
    {"@tag:", TK_TAG, CTX_SOURCE | CTX_TARGET},
    {"@dispvm:", TK_DISPVM_TPL, CTX_SOURCE | CTX_TARGET | CTX_REDIRECT | CTX_INTENDED},
    {"@dispvm:@tag:", TK_DISPVM_TAG, CTX_SOURCE | CTX_TARGET},
};

const char *splq_pol_token(const char *s, int ctx, struct pol_tok *t)
{
	t->text = t->value = s;
	t->dom0 = splq_policy_is_dom0(s);
	t->kind = TK_NAME;
	if (!*s)
		return "is empty";
	if (s[0] != '@' && strcmp(s, "*") != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(exacts) / sizeof(exacts[0]); i++) {
		if ((exacts[i].ctx & ctx) && strcmp(s, exacts[i].text) == 0) {
			t->kind = exacts[i].kind;
			return NULL;
		}
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i].prefix);

		if (!(prefixes[i].ctx & ctx) || strncmp(s, prefixes[i].prefix, n) != 0)
			continue;
		if (!s[n])
			return "names nothing after its prefix";
		if (s[n] == '@')
			continue;
		t->kind = prefixes[i].kind;
		t->value = s + n;
		return NULL;
	}
	return "is not a token that can stand there";
}

static int token_at(const char *file, int line, const char *s, int ctx, const char *what,
                    struct pol_tok *t, struct splq_error *err)
{
	const char *why = splq_pol_token(s, ctx, t);

	if (why)
		return fail_at(err, file, line, "%s '%s' %s", what, s, why);
	return 0;
}

/* ---- rules ---- */

static int add_rule(struct pctx *c, const char *file, int line, const char *service,
                    const char *argument, const char *source, const char *target,
                    const char *action, char **params, int nparams, struct splq_error *err)
{
	struct splq_policy *p = c->p;
	struct pol_rule r = {.file = file, .line = line};
	const char *keys[MAX_FIELDS], *vals[MAX_FIELDS];
	const char *tgt = NULL, *dflt = NULL;

	if (check_service(file, line, service, argument, err) < 0)
		return -1;
	r.service = strcmp(service, "*") == 0 ? NULL : service;
	r.argument = strcmp(argument, "*") == 0 ? NULL : argument;
	if (token_at(file, line, source, CTX_SOURCE, "source", &r.source, err) < 0 ||
	    token_at(file, line, target, CTX_TARGET, "target", &r.target, err) < 0)
		return -1;
	if (strcmp(action, "allow") == 0)
		r.action = ACT_ALLOW;
	else if (strcmp(action, "deny") == 0)
		r.action = ACT_DENY;
	else if (strcmp(action, "ask") == 0)
		r.action = ACT_ASK;
	else
		return fail_at(err, file, line, "unknown action '%s' (allow, deny or ask)", action);

	for (int i = 0; i < nparams; i++) {
		char *eq = strchr(params[i], '=');

		if (!eq)
			return fail_at(err, file, line, "option '%s' is not NAME=VALUE", params[i]);
		*eq = '\0';
		keys[i] = params[i];
		vals[i] = eq + 1;
		for (int k = 0; k < i; k++)
			if (strcmp(keys[k], keys[i]) == 0)
				return fail_at(err, file, line, "option %s= is given twice",
				               keys[i]);
	}
	r.notify = r.action == ACT_DENY;
	r.autostart = true;
	for (int i = 0; i < nparams; i++) {
		bool is_notify = strcmp(keys[i], "notify") == 0;

		if (!is_notify && strcmp(keys[i], "autostart") != 0)
			continue;
		if (strcmp(vals[i], "yes") != 0 && strcmp(vals[i], "no") != 0)
			return fail_at(err, file, line, "%s= takes yes or no, not '%s'", keys[i],
			               vals[i]);
		if (is_notify)
			r.notify = vals[i][0] == 'y';
		else
			r.autostart = vals[i][0] == 'y';
	}
	for (int i = 0; i < nparams; i++) {
		const char *k = keys[i];
		bool ok = strcmp(k, "notify") == 0 ||
		          (r.action != ACT_DENY &&
		           (strcmp(k, "autostart") == 0 || strcmp(k, "target") == 0 ||
		            strcmp(k, "user") == 0)) ||
		          (r.action == ACT_ASK && strcmp(k, "default_target") == 0);

		if (!ok)
			return fail_at(err, file, line, "%s takes no %s= option", action, k);
		if (strcmp(k, "target") == 0)
			tgt = vals[i];
		else if (strcmp(k, "default_target") == 0)
			dflt = vals[i];
		else if (strcmp(k, "user") == 0)
			r.user = *vals[i] ? vals[i] : NULL;
	}
	if (tgt && token_at(file, line, tgt, CTX_REDIRECT, "target=", &r.redirect, err) < 0)
		return -1;
	if (dflt &&
	    token_at(file, line, dflt, CTX_REDIRECT, "default_target=", &r.default_target, err) < 0)
		return -1;
	if (r.target.kind == TK_DEFAULT && r.action == ACT_ALLOW && !tgt)
		return fail_at(err, file, line,
		               "allow for the target @default needs a target= option (the qube "
		               "the call goes to)");

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->rules = realloc(p->rules, (size_t)p->cap * sizeof(*p->rules));
		if (!p->rules)
			abort();
	}
	p->rules[p->n++] = r;
	return 0;
}

/* ---- files ---- */

static int add_file(struct pctx *c, const char *name, const char *text, size_t len,
                    const char *service, const char *argument, struct splq_error *err);

/* !include PATH (service set: inside an !include-service file). */
static int include_file(struct pctx *c, const char *file, int line, const char *path,
                        const char *service, const char *argument, struct splq_error *err)
{
	cleanup_free char *text = NULL;
	cleanup_free char *name = NULL;
	size_t len = 0;

	if (!c->inc || !c->inc->read)
		return fail_at(err, file, line, "no such policy file: '%s'", path);
	if (c->depth >= MAX_DEPTH)
		return fail_at(err, file, line,
		               "includes nest more than %d deep (does a file include itself?)",
		               MAX_DEPTH);
	if (c->inc->read(c->inc->ctx, path, &text, &len, &name, err) < 0)
		return fail_at(err, file, line, "%s", err->msg);
	c->depth++;
	int rc = add_file(c, name, text, len, service, argument, err);
	c->depth--;
	return rc;
}

static int include_dir(struct pctx *c, const char *file, int line, const char *path,
                       struct splq_error *err)
{
	struct splq_policy_file *v = NULL;
	int n = 0, rc = 0;

	if (!c->inc || !c->inc->read_dir)
		return fail_at(err, file, line, "no such policy directory: '%s'", path);
	if (c->depth >= MAX_DEPTH)
		return fail_at(err, file, line,
		               "includes nest more than %d deep (does a folder include itself?)",
		               MAX_DEPTH);
	if (c->inc->read_dir(c->inc->ctx, path, &v, &n, err) < 0)
		return fail_at(err, file, line, "%s", err->msg);
	c->depth++;
	for (int i = 0; i < n && rc == 0; i++)
		rc = add_file(c, v[i].name, v[i].text, v[i].len, NULL, NULL, err);
	c->depth--;
	splq_policy_files_free(v, n);
	return rc;
}

static int directive(struct pctx *c, const char *file, int line, char **f, int n,
                     struct splq_error *err)
{
	const char *d = f[0];
	int want = strcmp(d, "!include") == 0 || strcmp(d, "!include-dir") == 0 ? 1
	           : strcmp(d, "!include-service") == 0                         ? 3
	           : strcmp(d, "!compat-4.0") == 0                              ? 0
	                                                                        : -1;

	if (want < 0)
		return fail_at(err, file, line,
		               "unknown directive '%s' (!include, !include-dir, !include-service, "
		               "!compat-4.0)",
		               d);
	if (n - 1 != want)
		return fail_at(err, file, line, "%s takes %d argument%s, not %d", d, want,
		               want == 1 ? "" : "s", n - 1);
	if (strcmp(d, "!include") == 0)
		return include_file(c, file, line, f[1], NULL, NULL, err);
	if (strcmp(d, "!include-dir") == 0)
		return include_dir(c, file, line, f[1], err);
	if (strcmp(d, "!include-service") == 0) {
		if (check_service(file, line, f[1], f[2], err) < 0)
			return -1;
		return include_file(c, file, line, f[3], f[1], f[2], err);
	}
	return 0; /* !compat-4.0: there is no 4.0 policy to add */
}

/* A line of an !include-service file: Qubes' substitutions ("$include:"
 * to "!include ", '$' to '@', ',' to ' '), into the arena. */
static char *old_form(struct splq_policy *p, const char *s)
{
	size_t n = 0, len = strlen(s);
	char *out = arena_alloc(p, 2 * len + 1);

	while (*s) {
		if (strncmp(s, "$include:", 9) == 0) {
			memcpy(out + n, "!include ", 9);
			n += 9;
			s += 9;
			continue;
		}
		out[n++] = *s == '$' ? '@' : *s == ',' ? ' ' : *s;
		s++;
	}
	out[n] = '\0';
	return out;
}

static int add_line(struct pctx *c, const char *file, int line, char *s, const char *service,
                    const char *argument, struct splq_error *err)
{
	char *f[MAX_FIELDS];
	int n;
	size_t w;

	while ((w = space_len((unsigned char *)s)))
		s += w;
	if (!*s || *s == '#')
		return 0;
	if (service)
		s = old_form(c->p, s);
	bool bang = s[0] == '!'; /* (after the substitutions, as Qubes tests it) */
	n = split(s, f);
	if (n < 0)
		return fail_at(err, file, line, "a rule has at most %d words", MAX_FIELDS);
	if (bang) {
		if (service && strcmp(f[0], "!include") != 0)
			return fail_at(err, file, line,
			               "only !include is allowed in a file of !include-service, "
			               "not '%s'",
			               f[0]);
		if (service) {
			if (n != 2)
				return fail_at(err, file, line, "!include takes 1 argument, not %d",
				               n - 1);
			return include_file(c, file, line, f[1], service, argument, err);
		}
		return directive(c, file, line, f, n, err);
	}
	if (service) {
		if (n < 3)
			return fail_at(err, file, line,
			               "a rule of an !include-service file is SOURCE TARGET "
			               "ACTION[,OPTION=VALUE...], not %d word%s",
			               n, n == 1 ? "" : "s");
		return add_rule(c, file, line, service, argument, f[0], f[1], f[2], f + 3, n - 3,
		                err);
	}
	if (n < 5)
		return fail_at(err, file, line,
		               "a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [OPTION=VALUE...], "
		               "not %d word%s",
		               n, n == 1 ? "" : "s");
	return add_rule(c, file, line, f[0], f[1], f[2], f[3], f[4], f + 5, n - 5, err);
}

static int add_file(struct pctx *c, const char *name, const char *text, size_t len,
                    const char *service, const char *argument, struct splq_error *err)
{
	struct splq_policy *p = c->p;
	const char *file = arena_strndup(p, name, strlen(name));
	size_t bad = utf8_check((const unsigned char *)text, len);
	char *buf, *s, *end;
	int line = 1;

	if (bad < len) {
		for (size_t i = 0; i < bad; i++)
			if (text[i] == '\n' ||
			    (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n')))
				line++;
		return fail_at(err, file, line, "%s",
		               text[bad] ? "not valid UTF-8" : "holds a NUL byte");
	}
	if (service) {
		service = arena_strndup(p, service, strlen(service));
		argument = arena_strndup(p, argument, strlen(argument));
	}
	buf = arena_strndup(p, text, len);
	end = buf + len;
	for (s = buf; s < end; line++) {
		char *e = s;

		while (e < end && *e != '\n' && *e != '\r')
			e++;
		char *next = e < end && *e == '\r' && e + 1 < end && e[1] == '\n' ? e + 2
		             : e < end                                            ? e + 1
		                                                                  : e;
		*e = '\0';
		if (add_line(c, file, line, s, service, argument, err) < 0)
			return -1;
		s = next;
	}
	return 0;
}

int splq_policy_add_text(struct splq_policy *p, const char *name, const char *text, size_t len,
                         const struct splq_policy_includes *inc, struct splq_error *err)
{
	struct pctx c = {.p = p, .inc = inc};

	return add_file(&c, name, text, len, NULL, NULL, err);
}
