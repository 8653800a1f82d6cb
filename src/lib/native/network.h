/* splq native: a starting or running qube's network (net/plumb.h does the
 * plumbing): where a network qube's uplink is, what its DNS is, and
 * connecting a client to its network qube. */
#ifndef SPLQ_NATIVE_NETWORK_H
#define SPLQ_NATIVE_NETWORK_H

#include "../backend.h"
#include "net/plumb.h"

/* Where a network qube with the uplink pasta sends its DNS (pasta
 * forwards it to the host's resolver). */
#define SPLQ_PASTA_DNS "169.254.0.53"

/* What a start needs before pid 1 is made. */
struct splq_net_start {
	int netns_fd; /* uplink netns:NAME: pid 1 is born in it; else -1 */
	char *resolv; /* the qube's /etc/resolv.conf, or NULL: its own */
	char *dns;    /* a network qube's upstream DNS server (IPv4), or NULL */
	/* what the uplink's namespace forwarded before the qube turned it on
	 * (plumb.h), kept in RUNDIR.forwarding until its supervisor puts it
	 * back: a supervisor that crashed leaves it to the next start */
	char forwarding_was[3];
	struct splq_net_job fw; /* a client's firewall, made meanwhile */
};
int splq_native_net_prepare(struct splq_backend *b, const struct splq_vm_config *cfg,
                            struct splq_net_start *ns, struct splq_error *err);
void splq_native_net_start_clear(struct splq_net_start *ns);

/* Pid 1 is up: plumb its network (a network qube's gateway, a client's
 * link to its running netvm). */
int splq_native_net_up(struct splq_backend *b, const struct splq_vm_config *cfg,
                       struct splq_net_start *ns, struct splq_error *err);

/* A running client's link again, to cfg->net.netvm (cut it off if "").
 * The backend's relink. */
int splq_native_net_relink(struct splq_backend *b, const struct splq_vm_config *cfg,
                           struct splq_error *err);

/* A running client's firewall again, in its netvm if that one runs. */
int splq_native_net_firewall(struct splq_backend *b, const struct splq_vm_config *cfg,
                             struct splq_error *err);

#endif
