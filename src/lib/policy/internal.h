/* splq: the compiled policy and system info that parse.c and sysinfo.c
 * build and eval.c walks.  Nothing outside src/lib/policy/ includes it. */
#ifndef SPLQ_POLICY_INTERNAL_H
#define SPLQ_POLICY_INTERNAL_H

#include <stdbool.h>
#include <string.h>

#include "policy.h"

/* The kinds of token in a rule's columns and options, and of a request's
 * target.  Which kind may stand where follows Qubes: a source may be any
 * but DEFAULT and DISPVM; a target anything; target= and default_target=
 * (a redirect) NAME, ADMINVM, DISPVM or DISPVM_TPL; a request's target
 * the same and DEFAULT. */
enum pol_kind {
	TK_NONE,       /* no token (an option not given) */
	TK_NAME,       /* a qube name, "dom0", "uuid:..." or any other plain word */
	TK_ANY,        /* "*" */
	TK_ADMINVM,    /* "@adminvm" */
	TK_ANYVM,      /* "@anyvm" */
	TK_DEFAULT,    /* "@default" */
	TK_TYPE,       /* "@type:X" */
	TK_TAG,        /* "@tag:X" */
	TK_DISPVM,     /* "@dispvm" */
	TK_DISPVM_TPL, /* "@dispvm:X" */
	TK_DISPVM_TAG, /* "@dispvm:@tag:X" */
};

/* The contexts, as bits: where a kind may stand. */
enum pol_ctx { CTX_SOURCE = 1, CTX_TARGET = 2, CTX_REDIRECT = 4, CTX_INTENDED = 8 };

struct pol_tok {
	unsigned char kind; /* enum pol_kind */
	bool dom0;          /* its text is "@adminvm", "dom0" or dom0's uuid: */
	const char *text;   /* the whole token */
	const char *value;  /* after the prefix (@type:, @tag:, @dispvm:, @dispvm:@tag:) */
};

enum pol_action { ACT_DENY, ACT_ALLOW, ACT_ASK };

struct pol_rule {
	const char *service;  /* NULL: "*" */
	const char *argument; /* "+ARG"; NULL: "*" */
	struct pol_tok source, target;
	struct pol_tok redirect;       /* target= (kind TK_NONE: not given) */
	struct pol_tok default_target; /* default_target= */
	unsigned char action;          /* enum pol_action */
	bool notify, autostart;
	const char *user; /* NULL: not given (or empty) */
	const char *file;
	int line;
};

struct pol_chunk;
struct splq_policy {
	struct pol_rule *rules;
	int n, cap;
	struct pol_chunk *arena; /* every string the rules point at */
};

/* Parse a token for context ctx (one CTX_ bit) into t (text and value
 * point into s).  NULL on success, else what is wrong with it. */
const char *splq_pol_token(const char *s, int ctx, struct pol_tok *t);

/* sysinfo.c: domains, sorted by name. */
struct pol_domain {
	char *name, *type, *default_dispvm, *power_state, *uuid;
	char **tags;
	int ntags;
	bool tfd, internal, running;
	char *disp_name;    /* "@dispvm:NAME" */
	char *disp_default; /* "@dispvm:DEFAULT_DISPVM", NULL without one */
};
struct splq_policy_sysinfo {
	struct pol_domain *v;
	int n, cap;
};
/* Python's info[key]: a name, or "uuid:UUID" for the domain of that uuid;
 * -1 when there is none. */
int splq_pol_lookup(const struct splq_policy_sysinfo *si, const char *key);
bool splq_pol_has_tag(const struct pol_domain *d, const char *tag);

#endif
