/* splq native: rtnetlink requests for a qube's network (netlink.h). */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../util.h"

/* One request under construction: a header, its message, attributes. */
struct req {
	union {
		struct nlmsghdr h;
		unsigned char buf[1024];
	};
};

static void *tail(struct req *r)
{
	return r->buf + NLMSG_ALIGN(r->h.nlmsg_len);
}

static struct rtattr *attr(struct req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = tail(r);

	if (NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len) > sizeof(r->buf))
		abort(); /* splq's own requests are small: a bug */
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nest_end(struct req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((unsigned char *)tail(r) - (unsigned char *)a);
}

static void start(struct req *r, unsigned short type, unsigned short flags, const void *msg,
                  size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_len = (unsigned)NLMSG_LENGTH(len);
	memcpy(NLMSG_DATA(&r->h), msg, len);
}

/* Send r and read its ack: 0, or -errno of the kernel's answer. */
static int talk(int nl, struct req *r)
{
	static unsigned seq;
	unsigned char buf[4096];
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	r->h.nlmsg_seq = ++seq;
	if (sendto(nl, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

int splq_nl_open(struct splq_error *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open a netlink socket");
	return fd;
}

static int name_ok(const char *name, struct splq_error *err)
{
	if (!*name || strlen(name) >= IFNAMSIZ)
		return splq_fail(err, SPLQ_E_INTERNAL, "bad interface name '%s'", name);
	return 0;
}

int splq_nl_veth(int nl, const char *name, const char *peer, int peer_ns,
                 const unsigned char *peer_mac, struct splq_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct rtattr *info, *data, *p;
	struct req r;
	int rc;

	if (name_ok(name, err) < 0 || name_ok(peer, err) < 0)
		return -1;
	start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	info = attr(&r, IFLA_LINKINFO, NULL, 0);
	attr(&r, IFLA_INFO_KIND, "veth", 5);
	data = attr(&r, IFLA_INFO_DATA, NULL, 0);
	p = attr(&r, VETH_INFO_PEER, &ifi, sizeof(ifi));
	attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	attr(&r, IFLA_NET_NS_FD, &peer_ns, sizeof(peer_ns));
	attr(&r, IFLA_ADDRESS, peer_mac, 6);
	nest_end(&r, p);
	nest_end(&r, data);
	nest_end(&r, info);
	if ((rc = talk(nl, &r)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -rc, "make the veth pair %s/%s", name,
		                       peer);
	return 0;
}

/* The index of link name, by a request whose message carries it. */
static int link_index(const char *name, struct splq_error *err)
{
	unsigned idx;

	if (name_ok(name, err) < 0)
		return -1;
	idx = if_nametoindex(name);
	if (!idx)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "find link %s", name);
	return (int)idx;
}

int splq_nl_link_del(int nl, const char *name, struct splq_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct req r;
	int rc;

	if (name_ok(name, err) < 0)
		return -1;
	start(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	rc = talk(nl, &r);
	if (rc < 0 && rc != -ENODEV)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -rc, "remove link %s", name);
	return 0;
}

int splq_nl_link_up(int nl, const char *name, struct splq_error *err)
{
	int idx = link_index(name, err);
	struct ifinfomsg ifi = {
	    .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct req r;
	int rc;

	if (idx < 0)
		return -1;
	ifi.ifi_index = idx;
	start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if ((rc = talk(nl, &r)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -rc, "bring up %s", name);
	return 0;
}

int splq_nl_parse_addr(const char *text, int *family, unsigned char addr[16],
                       struct splq_error *err)
{
	if (inet_pton(AF_INET, text, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		*family = AF_INET6;
	else
		return splq_fail(err, SPLQ_E_INTERNAL, "bad address '%s'", text);
	return 0;
}

int splq_nl_addr_add(int nl, const char *name, const char *addr, int prefix,
                     struct splq_error *err)
{
	int idx = link_index(name, err), family, rc;
	unsigned char a[16];
	struct ifaddrmsg ifa = {0};
	struct req r;

	if (idx < 0 || splq_nl_parse_addr(addr, &family, a, err) < 0)
		return -1;
	ifa.ifa_family = (unsigned char)family;
	ifa.ifa_prefixlen = (unsigned char)prefix;
	ifa.ifa_index = (unsigned)idx;
	ifa.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
	start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
	attr(&r, IFA_LOCAL, a, family == AF_INET ? 4 : 16);
	attr(&r, IFA_ADDRESS, a, family == AF_INET ? 4 : 16);
	if ((rc = talk(nl, &r)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -rc, "give %s the address %s/%d", name,
		                       addr, prefix);
	return 0;
}

int splq_nl_route_add(int nl, const char *name, const char *dst, int prefix, const char *gw,
                      struct splq_error *err)
{
	int idx = link_index(name, err), family = 0, gfamily = 0, rc;
	unsigned char d[16], g[16];
	struct rtmsg rt = {.rtm_table = RT_TABLE_MAIN,
	                   .rtm_protocol = RTPROT_STATIC,
	                   .rtm_type = RTN_UNICAST};
	struct req r;

	if (idx < 0 || (dst && splq_nl_parse_addr(dst, &family, d, err) < 0) ||
	    (gw && splq_nl_parse_addr(gw, &gfamily, g, err) < 0))
		return -1;
	if (!dst)
		family = gfamily;
	rt.rtm_family = (unsigned char)family;
	rt.rtm_dst_len = dst ? (unsigned char)prefix : 0;
	rt.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt.rtm_flags = gw ? RTNH_F_ONLINK : 0;
	start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof(rt));
	if (dst)
		attr(&r, RTA_DST, d, family == AF_INET ? 4 : 16);
	if (gw)
		attr(&r, RTA_GATEWAY, g, family == AF_INET ? 4 : 16);
	attr(&r, RTA_OIF, &idx, sizeof(idx));
	if ((rc = talk(nl, &r)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -rc, "route %s/%d on %s%s%s",
		                       dst ? dst : "default", dst ? prefix : 0, name, gw ? " via " : "",
		                       gw ? gw : "");
	return 0;
}

int splq_nl_links_del_prefix(int nl, const char *prefix, struct splq_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	char names[64][IFNAMSIZ];
	unsigned char buf[16384];
	struct req r;
	int n = 0;

	start(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	r.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.h.nlmsg_seq = 0x5e1f;
	if (send(nl, &r, r.h.nlmsg_len, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "list the links");
	for (bool done = false; !done;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "list the links");
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			struct ifinfomsg *m = NLMSG_DATA(h);
			int alen = (int)IFLA_PAYLOAD(h);
			for (struct rtattr *a = IFLA_RTA(m); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == IFLA_IFNAME && n < 64 &&
				    strncmp(RTA_DATA(a), prefix, strlen(prefix)) == 0)
					snprintf(names[n++], IFNAMSIZ, "%s", (char *)RTA_DATA(a));
		}
	}
	for (int i = 0; i < n; i++)
		if (splq_nl_link_del(nl, names[i], err) < 0)
			return -1;
	return 0;
}

/* One nfnetlink message of a batch at p: its header and nfgenmsg. */
static size_t nf_msg(unsigned char *p, unsigned short type, unsigned short flags, unsigned seq,
                     unsigned char family, unsigned short res_id)
{
	struct nlmsghdr *h = (struct nlmsghdr *)p;
	struct nfgenmsg *g = NLMSG_DATA(h);

	h->nlmsg_len = (unsigned)NLMSG_LENGTH(sizeof(*g));
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = seq;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return NLMSG_ALIGN(h->nlmsg_len);
}

int splq_nl_nft_table_del(const char *name, struct splq_error *err)
{
	unsigned char buf[512] = {0}, ack[4096];
	size_t len = 0, nlen = strlen(name) + 1;
	cleanup_close int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (nl < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open an nfnetlink socket");
	len += nf_msg(buf + len, NFNL_MSG_BATCH_BEGIN, 0, 1, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	struct nlmsghdr *h = (struct nlmsghdr *)(buf + len);
	size_t at = nf_msg(buf + len, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_ACK, 2,
	                   NFPROTO_INET, 0);
	struct rtattr *a = (struct rtattr *)(buf + len + at);
	a->rta_type = NFTA_TABLE_NAME;
	a->rta_len = (unsigned short)RTA_LENGTH(nlen);
	memcpy(RTA_DATA(a), name, nlen);
	h->nlmsg_len = (unsigned)(at + RTA_ALIGN(a->rta_len));
	len += NLMSG_ALIGN(h->nlmsg_len);
	len += nf_msg(buf + len, NFNL_MSG_BATCH_END, 0, 3, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	if (sendto(nl, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "remove table inet %s", name);
	for (;;) {
		ssize_t n = recv(nl, ack, sizeof(ack), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "remove table inet %s",
			                       name);
		for (struct nlmsghdr *m = (struct nlmsghdr *)ack; NLMSG_OK(m, (unsigned)n);
		     m = NLMSG_NEXT(m, n)) {
			if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != 2)
				continue;
			int e = -((struct nlmsgerr *)NLMSG_DATA(m))->error;
			if (e && e != ENOENT)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "remove table inet %s",
				                       name);
			return 0;
		}
	}
}
