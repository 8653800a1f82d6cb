/* splq native: a firewall rule's dsthost to its addresses, looked up as the
 * network qube that enforces the rule sees the name: from inside that
 * qube's network namespace, at Qubes' virtual DNS (10.139.1.1, .2), which
 * the network qube sends to its own upstream (plumb.h).  A stub resolver
 * of splq's own: the host's resolv.conf, hosts file and NSS name the
 * host's network, not the qube's. */
#ifndef SPLQ_NATIVE_NET_RESOLVE_H
#define SPLQ_NATIVE_NET_RESOLVE_H

#include "../../error.h"

#define SPLQ_RESOLVE_MAX 16 /* addresses of each family taken from an answer */

struct splq_resolved {
	int n4, n6;
	unsigned char v4[SPLQ_RESOLVE_MAX][16]; /* the first 4 bytes */
	unsigned char v6[SPLQ_RESOLVE_MAX][16];
};

/* name's A and AAAA records, asked for in the caller's network namespace
 * (two tries of a second each).  A name with neither is an error
 * (SPLQ_E_NOTFOUND), as is one the server does not know; no answer is
 * SPLQ_E_NOANSWER.  The message names the name. */
int splq_net_resolve(const char *name, struct splq_resolved *out, struct splq_error *err);

#endif
