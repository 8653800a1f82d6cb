/* splq: qrexec policy v5 (reference/qubes.md §4), parsed and evaluated as
 * Qubes' own evaluator (qubes-core-qrexec) does.  Pure: the parser reads
 * buffers, and reaches other files (!include...) only through a small
 * provider of files (load.c has the one that reads a policy directory).
 *
 *   sysinfo.c   the system info: the domains a decision looks at
 *   parse.c     policy text into rules, compiled once per load
 *   eval.c      one request against the rules: a decision
 *   decision.c  a decision as one line of text
 *   load.c      policy.d/ (*.policy in name order) and its includes
 *
 * A policy that does not load (a syntax error anywhere) is SPLQ_E_POLICY,
 * its message "FILE:LINE: what is wrong".  Evaluation never fails: what
 * Qubes refuses for any reason (no matching rule, an unknown target,
 * @dispvm for a qube without default_dispvm, ...) is a deny. */
#ifndef SPLQ_POLICY_H
#define SPLQ_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* ---- the system info (sysinfo.c) ---- */

/* One domain as Qubes' system info has it.  Strings are copied. */
struct splq_policy_domain {
	const char *name; /* not empty, not starting with '@' or "uuid:" */
	const char *type; /* class: "AdminVM", "AppVM", ... (NULL: none) */
	const char *const *tags;
	int ntags;
	const char *default_dispvm; /* NULL: none */
	bool template_for_dispvms;
	const char *power_state; /* "Running", "Halted", ... (only "Running" matters) */
	const char *uuid;        /* without "uuid:"; NULL: none */
	bool internal;           /* never offered by ask */
};

struct splq_policy_sysinfo;
struct splq_policy_sysinfo *splq_policy_sysinfo_new(void);
void splq_policy_sysinfo_free(struct splq_policy_sysinfo *si);
/* SPLQ_E_VALUE for a name that cannot be a domain's or is there already. */
int splq_policy_sysinfo_add(struct splq_policy_sysinfo *si, const struct splq_policy_domain *d,
                            struct splq_error *err);
int splq_policy_sysinfo_count(const struct splq_policy_sysinfo *si);
/* JSON of Qubes' shape, {"domains":{"NAME":{"type":..,"tags":[..],
 * "default_dispvm":..|null,"template_for_dispvms":..,"power_state":..,
 * "uuid":..,"internal":..}}}; keys "uuid:..." (Qubes' aliases) are
 * skipped, unknown fields ignored.  what names the input in messages.
 * SPLQ_E_VALUE when it is not of that shape. */
int splq_policy_sysinfo_from_json(struct splq_policy_sysinfo *si, const char *text, size_t len,
                                  const char *what, struct splq_error *err);

/* ---- the policy (parse.c) ---- */

struct splq_policy;

/* Files that directives name.  path is as the directive wrote it.  read
 * gives one file's text (malloc'ed) and the name messages use for it
 * (malloc'ed); read_dir gives a directory's policy files, already chosen
 * and ordered as Qubes does (*.policy, no dot files, in name order),
 * with names and texts as read gives them.  Failures are messages
 * without a file:line (the parser adds the directive's). */
struct splq_policy_file {
	char *name;
	char *text;
	size_t len;
};
void splq_policy_files_free(struct splq_policy_file *v, int n);
struct splq_policy_includes {
	int (*read)(void *ctx, const char *path, char **text, size_t *len, char **name,
	            struct splq_error *err);
	int (*read_dir)(void *ctx, const char *path, struct splq_policy_file **files, int *n,
	                struct splq_error *err);
	void *ctx;
};

struct splq_policy *splq_policy_new(void);
void splq_policy_free(struct splq_policy *p);
/* Append the rules of one policy file (text of len bytes, UTF-8, named
 * name in messages).  inc NULL: every !include... is an error (no such
 * file).  On failure the policy must not be used (free it). */
int splq_policy_add_text(struct splq_policy *p, const char *name, const char *text, size_t len,
                         const struct splq_policy_includes *inc, struct splq_error *err);
int splq_policy_rule_count(const struct splq_policy *p);

/* ---- loading a policy directory (load.c) ---- */

/* Every *.policy file of the directory dirfd (messages name it label),
 * in name order; includes are paths inside it.  Symbolic links are not
 * followed. */
int splq_policy_load_dirfd(struct splq_policy *p, int dirfd, const char *label,
                           struct splq_error *err);
/* The same for the directory at path (SPLQ_E_NOTFOUND when it is not). */
int splq_policy_load_dir(struct splq_policy *p, const char *path, struct splq_error *err);

/* ---- evaluation (eval.c) ---- */

enum splq_policy_action { SPLQ_POLICY_DENY, SPLQ_POLICY_ALLOW, SPLQ_POLICY_ASK };

/* The answer to one request.  Strings point into the decision, the policy
 * or the system info: valid while all three live and the decision is not
 * used again.  Reuse one decision for many requests (no allocation once
 * it has grown); clear it at the end. */
struct splq_policy_decision {
	enum splq_policy_action action;
	const char *target;   /* allow: the qube (or @dispvm:DVM) to call */
	const char **targets; /* ask: what the user may choose, sorted */
	int ntargets;
	const char *default_target; /* ask: preselected (NULL: none) */
	const char *user;           /* NULL: the target's default user */
	bool autostart;             /* may start the target */
	bool notify;
	const char *file; /* the deciding rule (NULL: none matched) */
	int line;         /* its line (0: none or no line) */
	char reason[256]; /* deny: why, in words */
	/* owned storage */
	size_t cap; /* of targets */
	char *buf;  /* the allow target's text */
	size_t bufcap;
	unsigned char *set; /* ask: the targets being collected */
	size_t setcap;
};
void splq_policy_decision_clear(struct splq_policy_decision *d);

/* The call service+argument (argument "+ARG", "+" for none) from source
 * toward target ("" = @default). */
void splq_policy_eval(const struct splq_policy *p, const struct splq_policy_sysinfo *si,
                      const char *service, const char *argument, const char *source,
                      const char *target, struct splq_policy_decision *d);
/* The same for a call written "SERVICE+ARG" (no '+': empty argument). */
void splq_policy_eval_call(const struct splq_policy *p, const struct splq_policy_sysinfo *si,
                           const char *call, const char *source, const char *target,
                           struct splq_policy_decision *d);

/* Is s one of the names of dom0 that Qubes treats as one ("@adminvm",
 * "dom0", "uuid:00000000-0000-0000-0000-000000000000")? */
bool splq_policy_is_dom0(const char *s);

/* ---- a decision as text (decision.c) ---- */

/* One line, as the test vectors write it:
 *   deny
 *   allow target=T[ user=U][ autostart=no][ notify=yes]
 *   ask targets=T1,T2[ default_target=T][ user=U][ autostart=no][ notify=yes]
 * Returns the length it needs (snprintf's rule: cut when size is short). */
size_t splq_policy_decision_format(const struct splq_policy_decision *d, char *buf, size_t size);
const char *splq_policy_action_name(enum splq_policy_action a); /* "deny", "allow", "ask" */

#endif
