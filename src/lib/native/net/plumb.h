/* splq native: a qube's network, plumbed from the host.  Every network
 * namespace belongs to the host (a qube's pid 1 is made in it by host
 * root), so neither a client's root nor a network qube's can change what
 * is set here.  A qube is named by a pidfd of its pid 1; the work is done
 * in a short-lived child of the caller that enters that qube's network
 * namespace, and no other of its namespaces. */
#ifndef SPLQ_NATIVE_NET_PLUMB_H
#define SPLQ_NATIVE_NET_PLUMB_H

#include "../../error.h"

/* A qube with network: ICMP echo sockets (ping) for all its users (its
 * root has no capability over the namespace, so no raw socket). */
int splq_net_qube_up(int pidfd, struct splq_error *err);

/* A network qube: it forwards, NATs its clients behind its own address,
 * sends their virtual DNS (10.139.1.1, .2), and its own, to dns (an IPv4
 * address; NULL: on to its own netvm, which does the same), drops what its clients send
 * each other, and answers them only ICMP.  What a client sends goes
 * through its firewall chain (splq_net_rules_apply), and is dropped while
 * it has none.  nft: the splq-nft program. */
int splq_net_gateway_up(int pidfd, const char *dns, const char *nft, struct splq_error *err);

/* A client's firewall in its network qube: make, run in a child that
 * entered the network qube's network namespace (where it may look the
 * rules' names up: net/resolve.h), returns (malloc'ed) the nftables
 * commands that fill the chain SPLQ_NET_CHAIN_FMT of table inet
 * SPLQ_NET_TABLE (formats/firewall.h), or NULL and err; the chain drops
 * first what the client (the link l: its id and addresses) sends from
 * another address, and its link vif<id> jumps to it, in the same nftables
 * transaction.  Until it
 * does, what the client sends is dropped, so the rules may be set before
 * the link is made.  The child is started, and *job waited for with
 * splq_net_job_wait (arg may go once this returns: the child has its own
 * copy).  An nftables transaction takes the kernel a while (an RCU grace
 * period): a start makes the link meanwhile. */
#define SPLQ_NET_TABLE	   "splq"
#define SPLQ_NET_CHAIN_FMT "fw-vif%d"
typedef char *(*splq_net_batch_fn)(void *arg, struct splq_error *err);
struct splq_net_job {
	int pid, fd; /* -1: none */
};
struct splq_net_link;
int splq_net_rules_start(int netvm_pidfd, const struct splq_net_link *l, splq_net_batch_fn make,
                         void *arg, const char *nft, struct splq_net_job *job,
                         struct splq_error *err);
/* The job's end: its error.  A job of pid -1 is none: 0. */
int splq_net_job_wait(struct splq_net_job *job, struct splq_error *err);

/* A network qube that lived in a network namespace of the host's (ns, a
 * descriptor of it) is gone: its table, its clients' links and the
 * forwarding it turned on (forwarding_was, from splq_net_forwarding_get:
 * "01" is IPv4 off, IPv6 on) go with it. */
int splq_net_forwarding_get(int ns, char out[3], struct splq_error *err);
int splq_net_gateway_down(int ns, const char *forwarding_was, struct splq_error *err);

/* Connect a client to its network qube: a veth pair, vif<id> in the
 * network qube with the gateway addresses gw4/gw6, eth0 in the client with
 * ip4/ip6, host routes both ways and the client's default route; and
 * what splq_net_qube_up gives every qube with network. */
struct splq_net_link {
	int id;
	const char *ip4, *ip6, *gw4, *gw6;
};
int splq_net_connect(int netvm_pidfd, int client_pidfd, const struct splq_net_link *l,
                     struct splq_error *err);
/* Wait (at most 5 s) until link name of the qube is up with an address:
 * an uplink that another process (pasta) sets up. */
int splq_net_link_ready(int pidfd, const char *name, struct splq_error *err);
/* Cut a client off its network qube (its eth0, and with it the pair). */
int splq_net_disconnect(int client_pidfd, struct splq_error *err);

#endif
