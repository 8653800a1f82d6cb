/* splq native: a starting or running qube's network (network.h). */
#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../formats/firewall.h"
#include "../util.h"
#include "net/plumb.h"
#include "net/resolve.h"
#include "runtime.h"
#include "spawn.h"

#define VIRTUAL_RESOLV "nameserver " SPLQ_NET_DNS1 "\nnameserver " SPLQ_NET_DNS2 "\n"

void splq_native_net_start_clear(struct splq_net_start *ns)
{
	struct splq_error ignored;

	(void)splq_net_job_wait(&ns->fw, &ignored); /* a start that failed first */
	splq_close_fd(&ns->netns_fd);
	free(ns->resolv);
	free(ns->dns);
	ns->resolv = ns->dns = NULL;
}

/* The first IPv4 nameserver of a resolv.conf text, or NULL. */
static char *first_nameserver(const char *text)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char addr[64];
		struct in_addr a;

		if (sscanf(l, "nameserver %63s", addr) == 1 && inet_pton(AF_INET, addr, &a) == 1)
			return splq_xstrdup(addr);
	}
	return NULL;
}

/* The forwarding of the uplink namespace ns before the qube: as a start
 * before this one kept it, or as it is now (kept for the supervisor). */
static int forwarding_was(struct splq_backend *b, const char *name, int ns, char out[3],
                          struct splq_error *err)
{
	cleanup_free char *dir = splq_rt_dir(b, name);
	cleanup_free char *path = splq_strdup_printf("%s.forwarding", dir);
	cleanup_free char *kept = NULL;
	size_t len;

	if (splq_read_file(path, &kept, &len, NULL) == 0 && len >= 2 &&
	    strspn(kept, "01") >= 2) {
		memcpy(out, kept, 2);
		out[2] = 0;
		return 0;
	}
	if (splq_net_forwarding_get(ns, out, err) < 0)
		return -1;
	return splq_rt_write(path, out, 2, err);
}

/* What a client's chain is made of, in its netvm's namespace. */
struct chain_job {
	const struct splq_fw_rules *rules;
	int id;
	long long now;
	bool strict; /* a name that does not resolve fails, and nothing changes */
};

/* The rules with each dsthost rule in place of one rule per address of
 * its name, into *out. */
static int rules_resolved(const struct splq_fw_rules *r, struct splq_fw_rules *out,
                          struct splq_error *err)
{
	*out = (struct splq_fw_rules){0};
	for (size_t i = 0; i < r->n; i++) {
		const struct splq_fw_rule *x = &r->v[i];
		struct splq_resolved a;

		if (x->dst != SPLQ_FW_DSTHOST) {
			splq_fw_rules_insert(out, out->n, x);
			continue;
		}
		struct splq_error why;
		if (splq_net_resolve(x->host, &a, &why) < 0) {
			splq_fw_rules_free(out);
			return splq_fail(err, why.code, "rule %zu, dsthost=%s: %s", i, x->host, why.msg);
		}
		for (int k = 0; k < a.n4 + a.n6; k++) {
			struct splq_fw_rule y = *x;

			y.dst = k < a.n4 ? SPLQ_FW_DST4 : SPLQ_FW_DST6;
			y.prefix = k < a.n4 ? 32 : 128;
			memcpy(y.addr, k < a.n4 ? a.v4[k] : a.v6[k - a.n4], 16);
			splq_fw_rules_insert(out, out->n, &y);
		}
	}
	return 0;
}

static char *chain_batch(void *arg, struct splq_error *err)
{
	const struct chain_job *j = arg;
	struct splq_fw_rules r = {0};
	char chain[32];

	snprintf(chain, sizeof(chain), SPLQ_NET_CHAIN_FMT, j->id);
	/* as Qubes does, rules that cannot be made cut the client off */
	if (rules_resolved(j->rules, &r, err) < 0 && j->strict)
		return NULL;
	char *batch = splq_fw_nft_batch(SPLQ_NET_TABLE, chain, &r, j->now, err);
	splq_fw_rules_free(&r);
	return batch;
}

/* Start making the client's firewall chain in its netvm (pidfd netvm):
 * its rules, or Qubes' default. */
static int firewall_start(int netvm, const struct splq_vm_net *n, bool strict,
                          struct splq_net_job *job, struct splq_error *err)
{
	struct splq_fw_rules r = {0};
	struct chain_job j = {.rules = &r, .id = n->id, .now = (long long)time(NULL), .strict = strict};

	if (!n->firewall)
		splq_fw_rules_default(&r);
	else if (splq_fw_rules_parse(n->firewall, strlen(n->firewall), j.now, &r, err) < 0)
		return -1;
	struct splq_net_link l = {.id = n->id, .ip4 = n->ip4, .ip6 = n->ip6};
	cleanup_free char *nft = splq_spawn_beside("splq-nft", err);
	int rc = nft ? splq_net_rules_start(netvm, &l, chain_batch, &j, nft, job, err) : -1;
	splq_fw_rules_free(&r);
	return rc;
}

int splq_native_net_prepare(struct splq_backend *b, const struct splq_vm_config *cfg,
                            struct splq_net_start *ns, struct splq_error *err)
{
	const struct splq_vm_net *n = &cfg->net;

	*ns = (struct splq_net_start){.netns_fd = -1, .fw = {-1, -1}};
	if (*n->netvm) {
		struct splq_error why;
		cleanup_close int netvm = splq_rt_open_init(b, n->netvm, &why);

		ns->resolv = splq_xstrdup(VIRTUAL_RESOLV);
		/* its chain while the qube is made (a netvm not running is
		 * told when the link is made) */
		return netvm < 0 ? 0 : firewall_start(netvm, n, false, &ns->fw, err);
	}
	if (n->provides_network && strcmp(n->uplink, "pasta") == 0) {
		ns->dns = splq_xstrdup(SPLQ_PASTA_DNS);
		ns->resolv = splq_xstrdup("nameserver " SPLQ_PASTA_DNS "\n");
		return 0;
	}
	if (!n->provides_network || strncmp(n->uplink, "netns:", 6) != 0)
		return 0;
	/* the host's named network namespace, as `ip netns` keeps them;
	 * its DNS is /etc/netns/NAME/resolv.conf, as `ip netns exec` has it */
	const char *name = n->uplink + 6;
	cleanup_free char *path = splq_strdup_printf("/run/netns/%s", name);
	ns->netns_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (ns->netns_fd < 0 || ioctl(ns->netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		splq_close_fd(&ns->netns_fd);
		return splq_fail(err, SPLQ_E_NOTFOUND,
		                 "uplink netns:%s of '%s': %s is not a network namespace (make it "
		                 "with: ip netns add %s)",
		                 name, cfg->name, path, name);
	}
	if (forwarding_was(b, cfg->name, ns->netns_fd, ns->forwarding_was, err) < 0)
		return -1;
	cleanup_free char *conf = splq_strdup_printf("/etc/netns/%s/resolv.conf", name);
	size_t len;
	if (splq_read_file(conf, &ns->resolv, &len, NULL) == 0)
		ns->dns = first_nameserver(ns->resolv);
	return 0;
}

static int firewall_in(int netvm, const struct splq_vm_net *n, bool strict,
                       struct splq_error *err)
{
	struct splq_net_job job;

	if (firewall_start(netvm, n, strict, &job, err) < 0)
		return -1;
	return splq_net_job_wait(&job, err);
}

/* Link the running client to its running netvm (or cut it off); its
 * firewall there is made by fw (a job started before), or now. */
static int link_up(struct splq_backend *b, const struct splq_vm_config *cfg,
                   struct splq_net_job *fw, struct splq_error *err)
{
	const struct splq_vm_net *n = &cfg->net;
	cleanup_close int self = splq_rt_open_init(b, cfg->name, err);
	struct splq_error why;

	if (self < 0)
		return -1;
	if (!*n->netvm)
		return splq_net_disconnect(self, err);
	cleanup_close int netvm = splq_rt_open_init(b, n->netvm, &why);
	if (netvm < 0)
		return splq_fail(err, SPLQ_E_STATE, "netvm '%s' of '%s' is not running", n->netvm,
		                 cfg->name);
	struct splq_net_link l = {
	    .id = n->id, .ip4 = n->ip4, .ip6 = n->ip6, .gw4 = n->gw4, .gw6 = n->gw6};
	int rc = splq_net_connect(netvm, self, &l, err);
	if (fw && fw->pid >= 0) {
		int fw_rc = splq_net_job_wait(fw, rc < 0 ? &why : err);
		return rc < 0 || fw_rc < 0 ? -1 : 0;
	}
	return rc < 0 ? -1 : firewall_in(netvm, n, false, err);
}

int splq_native_net_relink(struct splq_backend *b, const struct splq_vm_config *cfg,
                           struct splq_error *err)
{
	return link_up(b, cfg, NULL, err);
}

int splq_native_net_up(struct splq_backend *b, const struct splq_vm_config *cfg,
                       struct splq_net_start *ns, struct splq_error *err)
{
	const struct splq_vm_net *n = &cfg->net;

	if (!*n->netvm && !n->provides_network)
		return 0;
	cleanup_close int self = splq_rt_open_init(b, cfg->name, err);
	/* a client's link does this in the same step */
	if (self < 0 || (!*n->netvm && splq_net_qube_up(self, err) < 0))
		return -1;
	if (n->provides_network) {
		cleanup_free char *nft = splq_spawn_beside("splq-nft", err);
		if (!nft || splq_net_gateway_up(self, ns->dns, nft, err) < 0)
			return -1;
		if (strcmp(n->uplink, "pasta") == 0 && splq_net_link_ready(self, "uplink0", err) < 0)
			return -1;
	}
	return *n->netvm ? link_up(b, cfg, &ns->fw, err) : 0;
}

int splq_native_net_firewall(struct splq_backend *b, const struct splq_vm_config *cfg,
                             struct splq_error *err)
{
	struct splq_error why;
	cleanup_close int netvm =
	    *cfg->net.netvm ? splq_rt_open_init(b, cfg->net.netvm, &why) : -1;

	/* a halted netvm gets the client's rules when the client links up */
	return netvm < 0 ? 0 : firewall_in(netvm, &cfg->net, true, err);
}
