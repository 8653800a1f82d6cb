/* splq native: a qube's network, plumbed from the host (plumb.h). */
#include "plumb.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../model.h"
#include "../../util.h"
#include "netlink.h"

#define CLIENT_IF "eth0"

/* What a child tells: its error, or what it found (NETNS_OUT bytes). */
#define NETNS_OUT 64
struct netns_report {
	struct splq_error e;
	char out[NETNS_OUT];
};

/* Start fn(arg, out) in a child that entered the network namespace ns (a
 * pidfd of a qube's pid 1, or a namespace descriptor); its error, or what
 * it wrote to out, comes back through a pipe (netns_wait). */
static int netns_start(int ns, int (*fn)(void *arg, char *out, struct splq_error *err),
                       void *arg, struct splq_net_job *job, struct splq_error *err)
{
	int p[2];
	pid_t pid;

	*job = (struct splq_net_job){.pid = -1, .fd = -1};
	if (pipe2(p, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	pid = fork();
	if (pid == 0) {
		struct netns_report rep = {0};
		int ok;

		close(p[0]);
		if (setns(ns, CLONE_NEWNET) < 0)
			ok = splq_fail_errno(&rep.e, SPLQ_E_INTERNAL, errno,
			                     "enter the qube's network");
		else
			ok = fn(arg, rep.out, &rep.e);
		(void)!write(p[1], &rep, sizeof(rep));
		_exit(ok < 0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fork");
	}
	*job = (struct splq_net_job){.pid = pid, .fd = p[0]};
	return 0;
}

/* The end of a child netns_start made: its error, or out (may be NULL). */
static int netns_wait(struct splq_net_job *job, char *out, struct splq_error *err)
{
	struct netns_report rep = {0};
	struct splq_error *e = &rep.e;
	int st = 0;

	if (job->pid < 0)
		return 0;
	ssize_t n = read(job->fd, &rep, sizeof(rep));
	splq_close_fd(&job->fd);
	while (waitpid(job->pid, &st, 0) < 0 && errno == EINTR)
		;
	job->pid = -1;
	if (n != (ssize_t)sizeof(rep) || !WIFEXITED(st))
		return splq_fail(err, SPLQ_E_INTERNAL, "the network set-up ended early");
	if (WEXITSTATUS(st) != 0) {
		e->msg[sizeof(e->msg) - 1] = 0;
		return splq_fail(err, e->code ? e->code : SPLQ_E_INTERNAL, "%s", e->msg);
	}
	if (out) {
		rep.out[NETNS_OUT - 1] = 0;
		memcpy(out, rep.out, NETNS_OUT);
	}
	return 0;
}

int splq_net_job_wait(struct splq_net_job *job, struct splq_error *err)
{
	return netns_wait(job, NULL, err);
}

/* Run fn(arg, out) in a child in the network namespace ns, and wait. */
static int in_netns_out(int ns, int (*fn)(void *arg, char *out, struct splq_error *err),
                        void *arg, char *out, struct splq_error *err)
{
	struct splq_net_job job;

	return netns_start(ns, fn, arg, &job, err) < 0 ? -1 : netns_wait(&job, out, err);
}

struct netns_job {
	int (*fn)(void *arg, struct splq_error *err);
	void *arg;
};

static int run_job(void *arg, char *out, struct splq_error *err)
{
	struct netns_job *j = arg;

	return j->fn(j->arg, err);
}

static int in_netns(int ns, int (*fn)(void *arg, struct splq_error *err), void *arg,
                    struct splq_error *err)
{
	struct netns_job j = {fn, arg};

	return in_netns_out(ns, run_job, &j, NULL, err);
}

/* Write value to /proc/sys/PATH of the network namespace one is in. */
static int sysctl(const char *path, const char *value, struct splq_error *err)
{
	cleanup_free char *full = splq_strdup_printf("/proc/sys/%s", path);

	return splq_write_string(full, value, err);
}

static int qube_up(void *arg, struct splq_error *err)
{
	return sysctl("net/ipv4/ping_group_range", "0 2147483647", err);
}

int splq_net_qube_up(int pidfd, struct splq_error *err)
{
	return in_netns(pidfd, qube_up, NULL, err);
}

/* ---------- a network qube ---------- */

struct gateway {
	const char *dns, *nft;
};

/* Give the batch to splq-nft in this network namespace. */
static int nft_apply(const char *nft, const char *batch, struct splq_error *err)
{
	int in[2], out[2];
	char msg[512];
	size_t len = 0;
	pid_t pid;
	int st;

	if (pipe2(in, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	}
	pid = fork();
	if (pid == 0) {
		char *argv[] = {"splq-nft", NULL};
		char *env[] = {NULL};

		if (dup2(in[0], 0) < 0 || dup2(out[1], 2) < 0 || dup2(out[1], 1) < 0)
			_exit(2);
		execve(nft, argv, env);
		dprintf(2, "cannot run %s: %s", nft, strerror(errno));
		_exit(2);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fork");
	}
	(void)splq_write_all(in[1], batch, strlen(batch));
	close(in[1]);
	for (ssize_t n; len < sizeof(msg) - 1 &&
	                (n = read(out[0], msg + len, sizeof(msg) - 1 - len)) != 0;)
		if (n > 0)
			len += (size_t)n;
		else if (errno != EINTR)
			break;
	msg[len] = 0;
	close(out[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = 0;
	return splq_fail(err, SPLQ_E_INTERNAL, "nftables: %s", len ? msg : "failed");
}

static int gateway_up(void *arg, struct splq_error *err)
{
	const struct gateway *g = arg;
	/* the virtual DNS, for its clients and for itself (its firewall looks
	 * their rules' names up there) */
	const char *match = "ip daddr { " SPLQ_NET_DNS1 ", " SPLQ_NET_DNS2 " } meta l4proto "
	                    "{ tcp, udp } th dport 53";
	cleanup_free char *dnat =
	    g->dns ? splq_strdup_printf("    iifname \"vif*\" %s dnat ip to %s\n", match, g->dns)
	           : splq_xstrdup("");
	cleanup_free char *output =
	    g->dns ? splq_strdup_printf("  chain output {\n"
	                                "    type nat hook output priority -100; policy accept;\n"
	                                "    %s dnat ip to %s\n"
	                                "  }\n",
	                                match, g->dns)
	           : splq_xstrdup("");
	cleanup_free char *batch = splq_strdup_printf(
	    "table inet " SPLQ_NET_TABLE "\n"
	    "delete table inet " SPLQ_NET_TABLE "\n"
	    "table inet " SPLQ_NET_TABLE " {\n"
	    "  chain prerouting {\n"
	    "    type nat hook prerouting priority dstnat; policy accept;\n"
	    "%s"
	    "  }\n"
	    "%s"
	    "  chain postrouting {\n"
	    "    type nat hook postrouting priority srcnat; policy accept;\n"
	    "    iifname \"vif*\" oifname != \"vif*\" masquerade\n"
	    "  }\n"
	    "  map clients {\n"
	    "    type ifname : verdict;\n"
	    "  }\n"
	    "  chain forward {\n"
	    "    type filter hook forward priority filter; policy drop;\n"
	    "    ct state established,related accept\n"
	    "    iifname \"vif*\" oifname \"vif*\" drop\n"
	    "    iifname vmap @clients\n"
	    "  }\n"
	    "  chain input {\n"
	    "    type filter hook input priority filter; policy accept;\n"
	    "    iifname \"vif*\" ct state established,related accept\n"
	    "    iifname \"vif*\" meta l4proto { icmp, ipv6-icmp } accept\n"
	    "    iifname \"vif*\" drop\n"
	    "  }\n"
	    "}\n",
	    dnat, output);

	cleanup_close int nl = splq_nl_open(err);

	/* the links of clients of a network qube that crashed here */
	if (nl < 0 || splq_nl_links_del_prefix(nl, "vif", err) < 0)
		return -1;
	if (sysctl("net/ipv4/ip_forward", "1", err) < 0 ||
	    sysctl("net/ipv6/conf/all/forwarding", "1", err) < 0)
		return -1;
	return nft_apply(g->nft, batch, err);
}

int splq_net_gateway_up(int pidfd, const char *dns, const char *nft, struct splq_error *err)
{
	struct gateway g = {.dns = dns, .nft = nft};

	return in_netns(pidfd, gateway_up, &g, err);
}

struct rules_job {
	splq_net_batch_fn make;
	void *arg;
	const char *nft;
	const struct splq_net_link *l;
};

static int rules_apply(void *arg, struct splq_error *err)
{
	const struct rules_job *j = arg;
	cleanup_free char *chain = j->make(j->arg, err);
	int id = j->l->id;

	if (!chain)
		return -1;
	/* the client's chain, what it sends from any address but its own
	 * (and its MAC) dropped first, then its link's way into it, in one
	 * transaction */
	cleanup_free char *batch = splq_strdup_printf(
	    "%sinsert rule inet " SPLQ_NET_TABLE " " SPLQ_NET_CHAIN_FMT " ip6 saddr != %s drop\n"
	    "insert rule inet " SPLQ_NET_TABLE " " SPLQ_NET_CHAIN_FMT " ip saddr != %s drop\n"
	    "insert rule inet " SPLQ_NET_TABLE " " SPLQ_NET_CHAIN_FMT " ether saddr != " SPLQ_NET_MAC
	    " drop\n"
	    "add element inet " SPLQ_NET_TABLE " clients { \"vif%d\" : jump " SPLQ_NET_CHAIN_FMT
	    " }\n",
	    chain, id, j->l->ip6, id, j->l->ip4, id, id, id);
	return nft_apply(j->nft, batch, err);
}

int splq_net_rules_start(int netvm_pidfd, const struct splq_net_link *l, splq_net_batch_fn make,
                         void *arg, const char *nft, struct splq_net_job *job,
                         struct splq_error *err)
{
	struct rules_job j = {.make = make, .arg = arg, .nft = nft, .l = l};
	struct netns_job nj = {rules_apply, &j};

	return netns_start(netvm_pidfd, run_job, &nj, job, err);
}

static const char *const forwarding[2] = {"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"};

static int forwarding_get(void *arg, char *out, struct splq_error *err)
{
	char v[2] = "0";

	out[0] = 0;
	for (int i = 0; i < 2; i++) {
		cleanup_free char *path = splq_strdup_printf("/proc/sys/%s", forwarding[i]);
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, v, 1) != 1)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "read %s", path);
		out[i] = v[0] == '1' ? '1' : '0';
	}
	out[2] = 0;
	return 0;
}

int splq_net_forwarding_get(int ns, char out[3], struct splq_error *err)
{
	char buf[NETNS_OUT];

	if (in_netns_out(ns, forwarding_get, NULL, buf, err) < 0)
		return -1;
	memcpy(out, buf, 3);
	return 0;
}

static int gateway_down(void *arg, struct splq_error *err)
{
	const char *was = arg;
	cleanup_close int nl = splq_nl_open(err);

	if (nl < 0 || splq_nl_nft_table_del(SPLQ_NET_TABLE, err) < 0 ||
	    splq_nl_links_del_prefix(nl, "vif", err) < 0)
		return -1;
	for (int i = 0; i < 2 && was[i]; i++)
		if (sysctl(forwarding[i], was[i] == '1' ? "1" : "0", err) < 0)
			return -1;
	return 0;
}

int splq_net_gateway_down(int ns, const char *forwarding_was, struct splq_error *err)
{
	return in_netns(ns, gateway_down, (void *)forwarding_was, err);
}

/* ---------- a client and its network qube ---------- */

struct link_job {
	const struct splq_net_link *l;
	int netvm_pidfd;
	int client_ns; /* the client's network namespace */
	char vif[16];
};

static int client_cut(void *arg, struct splq_error *err)
{
	cleanup_close int nl = splq_nl_open(err);

	if (nl < 0)
		return -1;
	return splq_nl_link_del(nl, CLIENT_IF, err);
}

/* In the network qube: the pair, and its end with the gateway addresses
 * and the routes to the client. */
static int netvm_side(struct link_job *j, struct splq_error *err)
{
	const struct splq_net_link *l = j->l;
	cleanup_close int nl = splq_nl_open(err);
	unsigned char mac[6];

	if (nl < 0)
		return -1;
	if (sscanf(SPLQ_NET_MAC, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
	           &mac[4], &mac[5]) != 6)
		return splq_fail(err, SPLQ_E_INTERNAL, "bad MAC address " SPLQ_NET_MAC);
	/* a pair left by a client of the same id that was not cut off */
	if (splq_nl_link_del(nl, j->vif, err) < 0 ||
	    splq_nl_veth(nl, j->vif, CLIENT_IF, j->client_ns, mac, err) < 0 ||
	    splq_nl_addr_add(nl, j->vif, l->gw4, 32, err) < 0 ||
	    splq_nl_addr_add(nl, j->vif, l->gw6, 128, err) < 0 ||
	    splq_nl_link_up(nl, j->vif, err) < 0 ||
	    splq_nl_route_add(nl, j->vif, l->ip4, 32, NULL, err) < 0 ||
	    splq_nl_route_add(nl, j->vif, l->ip6, 128, NULL, err) < 0)
		return -1;
	return 0;
}

static int client_side(struct link_job *j, struct splq_error *err)
{
	const struct splq_net_link *l = j->l;
	cleanup_close int nl = splq_nl_open(err);

	if (nl < 0)
		return -1;
	if (qube_up(NULL, err) < 0 ||
	    sysctl("net/ipv6/conf/" CLIENT_IF "/accept_ra", "0", err) < 0 ||
	    splq_nl_addr_add(nl, CLIENT_IF, l->ip4, 32, err) < 0 ||
	    splq_nl_addr_add(nl, CLIENT_IF, l->ip6, 128, err) < 0 ||
	    splq_nl_link_up(nl, CLIENT_IF, err) < 0 ||
	    splq_nl_route_add(nl, CLIENT_IF, l->gw4, 32, NULL, err) < 0 ||
	    splq_nl_route_add(nl, CLIENT_IF, l->gw6, 128, NULL, err) < 0 ||
	    splq_nl_route_add(nl, CLIENT_IF, NULL, 0, l->gw4, err) < 0 ||
	    splq_nl_route_add(nl, CLIENT_IF, NULL, 0, l->gw6, err) < 0)
		return -1;
	return 0;
}

/* In the client's network namespace: its old link gone, over to the
 * network qube's for the pair, and back. */
static int link_client(void *arg, struct splq_error *err)
{
	struct link_job *j = arg;
	cleanup_close int ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (ns < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open the client's network");
	j->client_ns = ns;
	if (client_cut(NULL, err) < 0)
		return -1;
	if (setns(j->netvm_pidfd, CLONE_NEWNET) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "enter the netvm's network");
	if (netvm_side(j, err) < 0)
		return -1;
	if (setns(ns, CLONE_NEWNET) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "enter the client's network");
	return client_side(j, err);
}

static int link_ready(void *arg, struct splq_error *err)
{
	const char *name = arg;
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	for (int i = 0; i < 100; i++) {
		struct ifreq ifr = {0};

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) &&
		    ioctl(s, SIOCGIFADDR, &ifr) == 0)
			return 0;
		usleep(50000);
	}
	return splq_fail(err, SPLQ_E_TIMEOUT, "the uplink %s did not come up within 5 s", name);
}

int splq_net_link_ready(int pidfd, const char *name, struct splq_error *err)
{
	return in_netns(pidfd, link_ready, (void *)name, err);
}

int splq_net_disconnect(int client_pidfd, struct splq_error *err)
{
	return in_netns(client_pidfd, client_cut, NULL, err);
}

int splq_net_connect(int netvm_pidfd, int client_pidfd, const struct splq_net_link *l,
                     struct splq_error *err)
{
	struct link_job j = {.l = l, .netvm_pidfd = netvm_pidfd, .client_ns = -1};

	snprintf(j.vif, sizeof(j.vif), "vif%d", l->id);
	return in_netns(client_pidfd, link_client, &j, err);
}
