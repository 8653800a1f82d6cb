/* splq: what the ops files share and nothing outside them uses; common.c
 * holds it, and disposable.c what concerns starts and disposables.  Each other file of the layer holds one group of
 * operations and calls only these and the layers below, never another
 * ops file. */
#ifndef SPLQ_OPS_INTERNAL_H
#define SPLQ_OPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ops.h"

/* Functions take a NULL err as "don't care"; ops read err->msg for the
 * audit, so they always work on a real one. */
#define ERR_GUARD(err)                                                                             \
	struct splq_error _local_err;                                                              \
	if (!(err))                                                                                \
	(err) = &_local_err

#define cleanup_qube __attribute__((cleanup(splq_qube_clear)))

/* The longest args string an audit entry keeps (longer ones end in
 * "..."). */
#define AUDIT_ARGS_MAX 200

bool splq_ops_streq(const char *a, const char *b);
/* Does the property exist for qubes of class c? */
bool splq_ops_class_has(const struct splq_prop_def *def, enum splq_class c);

/* Append one audit entry for an operation that ended with rc (err holds
 * the failure when rc < 0).  A failed operation keeps its own error; a
 * successful one whose entry cannot be written fails with that. */
int splq_ops_audit_done(struct splq_ctx *ctx, const char *op, const char *target, const char *args,
                        const char *ok_result, int rc, struct splq_error *err);
/* A finished command's info (the backend filled oom): the memory limit
 * and whose it is, copied to x->info when the caller asked for it. */
void splq_ops_exec_info(struct splq_exec *x, struct splq_exec_info *info,
                        const struct splq_vm_config *c, const char *memory_of);
/* Its audit result: "exit N", "exit 137 (oom)" when the kernel killed it
 * for want of memory. */
char *splq_ops_exit_result(int status, const struct splq_exec_info *info);
/* Audit summary of a command: [prefix][--user U ]argv, or --service
 * SERVICE+ARG for a qrexec service. */
char *splq_ops_exec_args(const char *prefix, const struct splq_exec *x);

/* A qube by name; SPLQ_E_USAGE when none is named. */
int splq_ops_qube_get(struct splq_ctx *ctx, const char *name, struct splq_qube *q,
                      struct splq_error *err);
enum splq_power splq_ops_power_of(struct splq_ctx *ctx, const struct splq_qube *q);

/* A property's value (set or default). */
int splq_ops_prop_get(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop,
                      char **value, struct splq_error *err);
/* A numeric property, or dflt when the qube's class does not have it. */
int splq_ops_prop_long(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop, long dflt,
                       long *out, struct splq_error *err);
#define DOM0 "dom0"

/* A global property (dom0's, as qubes-prefs has them); "" when unset. */
int splq_ops_global_get(struct splq_ctx *ctx, const char *prop, char **value,
                        struct splq_error *err);
/* Is a bool property True?  false when the class lacks it or it cannot
 * be read. */
bool splq_ops_prop_true(struct splq_ctx *ctx, const struct splq_qube *q, const char *prop);

/* struct splq_vm_config with the strings it points at. */
struct splq_ops_vmcfg {
	struct splq_vm_config c;
	char name[SPLQ_NAME_MAX + 1];
	char *root_of;
	char *root_base;
	char *private_of;
	char *firewall; /* c.net.firewall */
};
void splq_ops_vmcfg_clear(struct splq_ops_vmcfg *v);
#define cleanup_vmcfg __attribute__((cleanup(splq_ops_vmcfg_clear)))
/* The backend's view of qube q, from the store. */
int splq_ops_vmcfg_build(struct splq_ctx *ctx, const struct splq_qube *q, struct splq_ops_vmcfg *v,
                         struct splq_error *err);
/* The root of a qube that uses template tname: sets v->root_of and
 * v->root_base (not v->c's). */
int splq_ops_vmcfg_set_root(struct splq_ctx *ctx, struct splq_ops_vmcfg *v, const char *tname,
                            struct splq_error *err);

/* The size of volume vol (an index of splq_volume_names) of qube q: set,
 * or the default.  A disposable's sizes are its dvm's, an AppVM's root is
 * its template's: owner (SPLQ_NAME_MAX+1, may be NULL) gets the name of
 * the qube whose size it is. */
int splq_ops_volume_size(struct splq_ctx *ctx, const struct splq_qube *q, int vol,
                         unsigned long long *size, bool *is_default, char *owner,
                         struct splq_error *err);

/* Copy the set (non-default) properties, and with tags_features the tags
 * and features, of src to dst (inside the caller's transaction).  skip:
 * NULL-ended property names not to copy. */
int splq_ops_copy_qube_data(struct splq_ctx *ctx, const struct splq_qube *src, const char *dst,
                            enum splq_class dst_klass, const char *const *skip, bool tags_features,
                            struct splq_error *err);
/* Remove a halted qube's row and volumes in one transaction; missing_ok:
 * a row already gone is fine (another splq removed it): 1 then. */
int splq_ops_remove_qube(struct splq_ctx *ctx, const struct splq_ops_vmcfg *v, bool missing_ok,
                         struct splq_error *err);

/* Property checks, shared by create and prefs. */
/* The property named prop, or SPLQ_E_NOTFOUND. */
const struct splq_prop_def *splq_ops_prop_def(const char *prop, struct splq_error *err);
/* May property def of a qube (name, class, running) change at all? */
int splq_ops_prop_changeable(const char *qname, enum splq_class klass, bool running,
                             const struct splq_prop_def *def, struct splq_error *err);
/* memory and maxmem of qube qname agree: maxmem (unless 0) is not below
 * memory. */
int splq_ops_memory_check(const char *qname, long memory, long maxmem, struct splq_error *err);
/* Check a canonical value (from splq_prop_parse) for def on a qube: vm
 * properties name a fitting qube, memory and vcpus fit the host. */
int splq_ops_prop_value_check(struct splq_ctx *ctx, enum splq_class klass,
                              const struct splq_prop_def *def, const char *value,
                              struct splq_error *err);

/* Is qube name a vault (splq vault init: the feature SPLQ_VAULT_FEATURE)? */
bool splq_ops_is_vault(struct splq_ctx *ctx, const char *name);

/* The network settings of qube name (as the store holds them now, in
 * the caller's transaction) agree: its netvm exists, provides network
 * and leads to no loop; an uplink only on a network qube without a
 * netvm; with users, a qube that does not provide network is no one's
 * netvm (a new qube has no users to look for).  For
 * dom0: its default_netvm provides network. */
int splq_ops_net_check(struct splq_ctx *ctx, const char *name, bool users, struct splq_error *err);

/* A qube usable as the source of disposables: a TemplateVM,
 * or an AppVM with template_for_dispvms=True.  what: the role it is
 * checked for, for the message ("a default_dispvm"). */
int splq_ops_dvm_check(struct splq_ctx *ctx, const struct splq_qube *d, const char *what,
                       struct splq_error *err);
/* ---------- disposable.c ---------- */

/* Start a halted qube, after the netvms it reaches the network through
 * (each one halted is started first, as in Qubes OS); args for the audit
 * entry, may be NULL.  netvm_up: that chain only, for user (a name for
 * the message). */
int splq_ops_start_qube(struct splq_ctx *ctx, const struct splq_qube *q, const char *args,
                        struct splq_error *err);
int splq_ops_netvm_up(struct splq_ctx *ctx, const char *netvm, const char *user,
                      struct splq_error *err);

/* Make a DispVM's row from dvm d (its own transaction), its name filled
 * in q; netvm, unless NULL, instead of d's.  The caller's splq owns it
 * (DISP_OWNER).  preload_rev, unless NULL: a member of d's pool, being
 * started (the features below, in d's list). */
int splq_ops_disp_add(struct splq_ctx *ctx, const struct splq_qube *d, const char *netvm,
                      const char *preload_rev, struct splq_qube *q, struct splq_error *err);

/* Remove the disposables whose splq ended without removing them (killed
 * by SIGKILL, a crash), running or not: each names the splq that made it,
 * or took it from a pool, in its feature splq.owner, a
 * splq_ops_process_id; and the preloaded ones that stopped (a reboot). */
#define DISP_OWNER "splq.owner"
int splq_ops_reap_disposables(struct splq_ctx *ctx);
/* A process's identity that survives pid reuse, "<pid> <start time>",
 * into out (max bytes); false when the process is gone. */
bool splq_ops_process_id(pid_t pid, char *out, size_t max);

/* Preloaded disposables (reference/qubes.md §7; disposable.c says how). */
#define SPLQ_FEATURE_INTERNAL "internal"
#define SPLQ_PRELOAD_MAX      "preload-dispvm-max"
#define SPLQ_PRELOAD_LIST     "preload-dispvm"
#define SPLQ_PRELOAD_PROGRESS "preload-dispvm-in-progress"
#define SPLQ_PRELOAD_DONE     "preload-dispvm-completed"
/* How many preloaded disposables dvm d's pool should hold: dom0's
 * preload-dispvm-max for its default_dispvm, else d's own; 0 for a qube
 * that is no dvm. */
long splq_ops_preload_max(struct splq_ctx *ctx, const struct splq_qube *d);
/* A value of preload-dispvm-max: "" (none) or 0..SPLQ_PRELOAD_LIMIT. */
int splq_ops_preload_value(const char *value, long *n, struct splq_error *err);
/* Take a ready, fresh member of d's pool (row in p, vm config in v): 1,
 * or 0 when there is none (stale ones met on the way are left to the
 * filler). */
int splq_ops_preload_take(struct splq_ctx *ctx, const struct splq_qube *d, struct splq_qube *p,
                          struct splq_ops_vmcfg *v, struct splq_error *err);
/* A disposable's command has ended: hidden (internal) and marked used
 * (splq.discard), for its remover: a preloaded one's filler, or a cold
 * one's supervisor (splq_op_discard), the pid remover, which becomes its
 * owner (splq.owner). */
void splq_ops_disp_used(struct splq_ctx *ctx, const char *name, pid_t remover);
/* The filler, one per dvm at a time: remove what hand-outs used and the
 * members that are stale or too many, then, with start, start members
 * until the pool is full. */
int splq_ops_preload_fill(struct splq_ctx *ctx, const struct splq_qube *d, bool start,
                          struct splq_preload_report *rep, struct splq_error *err);
/* Remove every member of d's pool (d goes, or its pool does). */
void splq_ops_preload_drain(struct splq_ctx *ctx, const struct splq_qube *d);
/* Run the filler of dvm in the background (`splq preload DVM`, detached:
 * no descriptor or signal of the caller's), never waited for. */
void splq_ops_preload_spawn(const char *dvm);

#endif
