/* splq: the qrexec policy's place in a store and the system info its
 * decisions look at (see ops.h).  The policy itself is src/lib/policy/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "policy/policy.h"
#include "util.h"

/* Written into policy.d/ when a store has none. */
static const char default_policy[] =
    "# splq's default qrexec policy, written by splq because policy.d/ was missing.\n"
    "#\n"
    "# Qubes' policy format (v5): SERVICE ARGUMENT SOURCE TARGET ACTION [OPTIONS].\n"
    "# splq reads every *.policy file of this directory in name order, and the\n"
    "# first rule that matches a call decides; a call that no rule matches is\n"
    "# denied.  Put your own rules in a file that sorts before this one, such as\n"
    "# 30-user.policy: rules here come last.  Check a call with\n"
    "#   splq policy check SERVICE+ARG SOURCE TARGET\n"
    "#\n"
    "# The host's own user may send files to any qube (splq copy --from dom0),\n"
    "# as dom0 can in Qubes: they land in the qube's ~/QubesIncoming/dom0/.\n"
    "qubes.Filecopy * dom0 @anyvm allow\n"
    "# The host's vault commands are calls of the vault's services from dom0,\n"
    "# which splq makes only to qubes that are vaults (splq vault init):\n"
    "# splq vault init: a new master key, made in the vault\n"
    "splq.VaultInit * dom0 @anyvm allow\n"
    "# splq vault unlock: the passphrase goes to the vault alone\n"
    "splq.VaultUnlock * dom0 @anyvm allow\n"
    "# splq vault lock: the master key leaves the vault's memory\n"
    "splq.VaultLock * dom0 @anyvm allow\n"
    "# splq vault status and unlock: locked or not\n"
    "splq.VaultStatus * dom0 @anyvm allow\n"
    "# splq vault passwd: the master key sealed by a new passphrase\n"
    "splq.VaultPasswd * dom0 @anyvm allow\n"
    "# splq vault rotate: a new master key for every record\n"
    "splq.VaultRotate * dom0 @anyvm allow\n"
    "# splq vault store: a secret from the host\n"
    "splq.VaultStore * dom0 @anyvm allow\n"
    "# splq vault retrieve: a secret to the host\n"
    "splq.VaultGet * dom0 @anyvm allow\n"
    "# splq vault list: names, versions and sizes, never values\n"
    "splq.VaultList * dom0 @anyvm allow\n"
    "# splq vault delete\n"
    "splq.VaultDelete * dom0 @anyvm allow\n"
    "# splq vault keygen: a signing key that never leaves the vault\n"
    "splq.VaultKeygen * dom0 @anyvm allow\n"
    "# splq vault pubkey, and audit verify without --pubkey\n"
    "splq.VaultPubkey * dom0 @anyvm allow\n"
    "# splq sign and audit seal: a hash in, a signature out\n"
    "splq.Sign * dom0 @anyvm allow\n"
    "# A qube that asks a vault for a secret (splq.VaultGet+NAME) or a signature\n"
    "# (splq.Sign+KEY) waits for the host's user to say yes, each time: dom0's\n"
    "# qrexec_ask_program answers, and with none the call is refused.  To let one\n"
    "# qube have one secret, allow it before this file, in 30-user.policy:\n"
    "#   splq.VaultGet +deploy-token spl-core spl-vault allow\n"
    "splq.VaultGet * @anyvm @anyvm ask\n"
    "# The same for a signature by a vault's key, only a hash crossing.\n"
    "splq.Sign * @anyvm @anyvm ask\n"
    "# The public half of a signing key is no secret: any qube may read it.\n"
    "splq.VaultPubkey * @anyvm @anyvm allow\n"
    "# No other call between qubes is allowed until a rule allows it.\n"
    "* * @anyvm @anyvm deny\n"
    "# Nor in dom0 (@anyvm above is every qube but dom0).\n"
    "* * @anyvm @adminvm deny\n";

int splq_op_policy_dir(struct splq_ctx *ctx, char **dir, struct splq_error *err)
{
	cleanup_free char *d = splq_strdup_printf("%s/%s", ctx->home, SPLQ_POLICY_DIR);
	cleanup_free char *tmp = NULL;
	cleanup_free char *file = NULL;
	struct stat st;

	*dir = NULL;
	if (lstat(d, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return splq_fail(err, SPLQ_E_POLICY, "'%s' is not a directory", d);
		*dir = splq_steal(d);
		return 0;
	}
	if (errno != ENOENT)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot look at '%s'", d);
	/* made aside and renamed into place: never half a default */
	tmp = splq_strdup_printf("%s/.%s.new", ctx->home, SPLQ_POLICY_DIR);
	file = splq_strdup_printf("%s/%s", tmp, SPLQ_POLICY_DEFAULT_FILE);
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot make '%s'", tmp);
	if (splq_write_file(file, default_policy, sizeof(default_policy) - 1, 0600, err) < 0)
		return -1;
	if (rename(tmp, d) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot make '%s'", d);
	if (splq_path_exists(file)) { /* another splq made it first */
		unlink(file);
		rmdir(tmp);
	}
	*dir = splq_steal(d);
	return 0;
}

/* One qube as Qubes' system info has it. */
static int add_qube(struct splq_ctx *ctx, struct splq_policy_sysinfo *si, const struct splq_qube *q,
                    const char *global_dvm, struct splq_error *err)
{
	cleanup_free char *dvm = NULL;
	char **tags = NULL;
	int ntags = 0, rc;
	struct splq_error ignored;
	struct splq_policy_domain d = {
	    .name = q->name,
	    .type = splq_class_name(q->klass),
	    .power_state = splq_power_name(splq_ops_power_of(ctx, q)),
	    .uuid = q->uuid,
	    /* what splq makes disposables from: a TemplateVM, or an AppVM
	     * with template_for_dispvms=True */
	    .template_for_dispvms =
	        q->klass != SPLQ_CLASS_ADMINVM && splq_ops_dvm_check(ctx, q, "", &ignored) == 0,
	};

	if (splq_ops_prop_get(ctx, q, "default_dispvm", &dvm, err) < 0)
		return -1;
	/* unset: the global one, as in Qubes */
	d.default_dispvm = dvm && *dvm ? dvm : *global_dvm ? global_dvm : NULL;
	if (splq_store_tag_list(ctx->store, q->name, &tags, &ntags, err) < 0)
		return -1;
	d.tags = (const char *const *)tags;
	d.ntags = ntags;
	rc = splq_policy_sysinfo_add(si, &d, err);
	splq_strv_free(tags, ntags);
	return rc;
}

int splq_op_policy_sysinfo(struct splq_ctx *ctx, struct splq_policy_sysinfo **out,
                           struct splq_error *err)
{
	struct splq_policy_sysinfo *si = splq_policy_sysinfo_new();
	struct splq_qube *v = NULL;
	cleanup_free char *global = NULL;
	int n = 0, rc = 0;

	*out = NULL;
	if (splq_ops_global_get(ctx, "default_dispvm", &global, err) < 0 ||
	    splq_store_qube_list(ctx->store, &v, &n, err) < 0) {
		splq_policy_sysinfo_free(si);
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = add_qube(ctx, si, &v[i], global, err);
	splq_qube_list_free(v, n);
	if (rc < 0) {
		splq_policy_sysinfo_free(si);
		return -1;
	}
	*out = si;
	return 0;
}

int splq_op_policy_sysinfo_file(const char *path, struct splq_policy_sysinfo **out,
                                struct splq_error *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct splq_policy_sysinfo *si;

	*out = NULL;
	if (splq_read_file(path, &text, &len, err) < 0) {
		if (!splq_path_exists(path))
			return splq_fail(err, SPLQ_E_NOTFOUND, "no system info file '%s'", path);
		return -1;
	}
	si = splq_policy_sysinfo_new();
	if (splq_policy_sysinfo_from_json(si, text, len, path, err) < 0) {
		splq_policy_sysinfo_free(si);
		return -1;
	}
	*out = si;
	return 0;
}

int splq_op_policy_load(const char *dir, struct splq_policy **out, struct splq_error *err)
{
	struct splq_policy *p = splq_policy_new();

	*out = NULL;
	if (splq_policy_load_dir(p, dir, err) < 0) {
		splq_policy_free(p);
		return -1;
	}
	*out = p;
	return 0;
}
