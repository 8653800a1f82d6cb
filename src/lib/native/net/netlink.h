/* splq native: the little of rtnetlink that plumbs a qube's network: a veth
 * pair whose peer is born in another network namespace, links up,
 * addresses and routes.  Each call works in the network namespace of the
 * socket it is given (the one its caller was in when it opened it). */
#ifndef SPLQ_NATIVE_NET_NETLINK_H
#define SPLQ_NATIVE_NET_NETLINK_H

#include "../../error.h"

/* A NETLINK_ROUTE socket (O_CLOEXEC) in the caller's network namespace. */
int splq_nl_open(struct splq_error *err);

/* A veth pair: name here, peer in the network namespace peer_ns (a
 * namespace descriptor) with the MAC address peer_mac (6 bytes), both
 * down. */
int splq_nl_veth(int nl, const char *name, const char *peer, int peer_ns,
                 const unsigned char *peer_mac, struct splq_error *err);
/* Remove link name (and so a veth's peer); one that is not there is no
 * error. */
int splq_nl_link_del(int nl, const char *name, struct splq_error *err);
int splq_nl_link_up(int nl, const char *name, struct splq_error *err);

/* Address text (IPv4 or IPv6) to the family and bytes of an address. */
int splq_nl_parse_addr(const char *text, int *family, unsigned char addr[16],
                       struct splq_error *err);
/* Address addr/prefix on link name (IPv6 without duplicate detection: the
 * other end of a veth is the qube's netvm or client, nothing else). */
int splq_nl_addr_add(int nl, const char *name, const char *addr, int prefix,
                     struct splq_error *err);
/* A route to dst/prefix (dst NULL: the default route) on link name, via
 * gw where not NULL (on the link, whatever its addresses say). */
int splq_nl_route_add(int nl, const char *name, const char *dst, int prefix, const char *gw,
                      struct splq_error *err);

/* Remove every link whose name starts with prefix. */
int splq_nl_links_del_prefix(int nl, const char *prefix, struct splq_error *err);
/* Remove the nftables table inet name, if there is one (nfnetlink: the
 * caller's network namespace). */
int splq_nl_nft_table_del(const char *name, struct splq_error *err);

#endif
