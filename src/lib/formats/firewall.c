/* splq: Qubes' firewall rules (see firewall.h). */
#include "formats/firewall.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* What Qubes allows in a value (the comment has spaces too). */
#define VALUE_CHARS                                                                                \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:;,./-_[]"
#define HOST_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-._"

void splq_fw_rules_free(struct splq_fw_rules *r)
{
	free(r->v);
	*r = (struct splq_fw_rules){0};
}

static void rule_init(struct splq_fw_rule *r)
{
	*r = (struct splq_fw_rule){.icmptype = -1};
}

void splq_fw_rules_insert(struct splq_fw_rules *r, size_t at, const struct splq_fw_rule *x)
{
	struct splq_fw_rule *v = realloc(r->v, (r->n + 1) * sizeof(*r->v));

	if (!v)
		abort();
	memmove(v + at + 1, v + at, (r->n - at) * sizeof(*v));
	v[at] = *x;
	r->v = v;
	r->n++;
}

int splq_fw_rules_default(struct splq_fw_rules *r)
{
	r->v = splq_xcalloc(1, sizeof(*r->v));
	rule_init(&r->v[0]);
	r->v[0].accept = true;
	r->n = 1;
	return 0;
}

/* A decimal in lo..hi, all of text. */
static int number(const char *text, long long lo, long long hi, long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno || *end || *out < lo || *out > hi ? -1 : 0;
}

/* ADDR[/PREFIX] of family into r (host bits must be clear, as Qubes'
 * ipaddress networks have them). */
static int network(const char *key, const char *v, int family, struct splq_fw_rule *r,
                   struct splq_error *err)
{
	char a[64];
	const char *slash = strchr(v, '/');
	int max = family == AF_INET ? 32 : 128;
	long long p = max;

	if ((size_t)(slash ? slash - v : (long)strlen(v)) >= sizeof(a))
		return splq_fail(err, SPLQ_E_VALUE, "%s=%s: not an address", key, v);
	snprintf(a, sizeof(a), "%.*s", (int)(slash ? slash - v : (long)strlen(v)), v);
	if (inet_pton(family, a, r->addr) != 1)
		return splq_fail(err, SPLQ_E_VALUE, "%s=%s: not an IPv%d address", key, v,
		                 family == AF_INET ? 4 : 6);
	if (slash && number(slash + 1, 0, max, &p) < 0)
		return splq_fail(err, SPLQ_E_VALUE, "%s=%s: a prefix is 0 to %d", key, v, max);
	r->prefix = (int)p;
	for (int bit = r->prefix; bit < max; bit++)
		if (r->addr[bit / 8] & (0x80 >> (bit % 8)))
			return splq_fail(err, SPLQ_E_VALUE, "%s=%s: host bits are set for /%d", key, v,
			                 r->prefix);
	r->dst = family == AF_INET ? SPLQ_FW_DST4 : SPLQ_FW_DST6;
	return 0;
}

static int set_key(struct splq_fw_rule *r, const char *key, const char *v, long long now,
                   struct splq_error *err)
{
	long long n;

	if (strcmp(key, "action") == 0) {
		if (strcmp(v, "accept") && strcmp(v, "drop"))
			return splq_fail(err, SPLQ_E_VALUE, "action=%s: it is accept or drop", v);
		r->accept = strcmp(v, "accept") == 0;
	} else if (strcmp(key, "expire") == 0) {
		if (*v == '+' ? number(v + 1, 0, 315360000, &n) < 0
		              : number(v, 1, 253402300799LL, &n) < 0)
			return splq_fail(err, SPLQ_E_VALUE,
			                 "expire=%s: unix seconds, or +SECONDS from now", v);
		r->expire = *v == '+' ? now + n : n;
	} else if (strcmp(key, "dst4") == 0 || strcmp(key, "dst6") == 0) {
		if (r->dst != SPLQ_FW_DST_ANY)
			return splq_fail(err, SPLQ_E_VALUE, "%s=%s: a rule has one destination", key, v);
		return network(key, v, key[3] == '4' ? AF_INET : AF_INET6, r, err);
	} else if (strcmp(key, "dsthost") == 0) {
		unsigned char tmp[16];
		char a[64];

		if (r->dst != SPLQ_FW_DST_ANY)
			return splq_fail(err, SPLQ_E_VALUE, "dsthost=%s: a rule has one destination", v);
		snprintf(a, sizeof(a), "%.*s", (int)strcspn(v, "/"), v);
		if (inet_pton(AF_INET, a, tmp) == 1)
			return network("dsthost", v, AF_INET, r, err);
		if (inet_pton(AF_INET6, a, tmp) == 1)
			return network("dsthost", v, AF_INET6, r, err);
		if (strlen(v) > SPLQ_FW_HOST_MAX || strspn(v, HOST_CHARS) != strlen(v) || *v == '.' ||
		    *v == '-')
			return splq_fail(err, SPLQ_E_VALUE,
			                 "dsthost=%s: a host name is [a-z0-9-._], up to %d characters",
			                 v, SPLQ_FW_HOST_MAX);
		snprintf(r->host, sizeof(r->host), "%s", v);
		r->dst = SPLQ_FW_DSTHOST;
	} else if (strcmp(key, "proto") == 0) {
		if (strcmp(v, "tcp") == 0)
			r->proto = SPLQ_FW_TCP;
		else if (strcmp(v, "udp") == 0)
			r->proto = SPLQ_FW_UDP;
		else if (strcmp(v, "icmp") == 0)
			r->proto = SPLQ_FW_ICMP;
		else
			return splq_fail(err, SPLQ_E_VALUE, "proto=%s: it is tcp, udp or icmp", v);
	} else if (strcmp(key, "specialtarget") == 0) {
		if (strcmp(v, "dns"))
			return splq_fail(err, SPLQ_E_VALUE, "specialtarget=%s: the one is dns", v);
		r->dns = true;
	} else if (strcmp(key, "dstports") == 0) {
		long long lo, hi;
		const char *dash = strchr(v, '-');
		char first[16];

		snprintf(first, sizeof(first), "%.*s", (int)(dash ? dash - v : (long)strlen(v)), v);
		if (number(first, 0, 65535, &lo) < 0 || number(dash ? dash + 1 : first, 0, 65535, &hi) < 0)
			return splq_fail(err, SPLQ_E_VALUE, "dstports=%s: a port is 0 to 65535 (N or N-M)",
			                 v);
		if (lo > hi)
			return splq_fail(err, SPLQ_E_VALUE, "dstports=%s: the range ends before it starts",
			                 v);
		r->ports = true;
		r->port_lo = (unsigned)lo;
		r->port_hi = (unsigned)hi;
	} else if (strcmp(key, "icmptype") == 0) {
		if (number(v, 0, 255, &n) < 0)
			return splq_fail(err, SPLQ_E_VALUE, "icmptype=%s: it is 0 to 255", v);
		r->icmptype = (int)n;
	} else {
		return splq_fail(err, SPLQ_E_VALUE, "%s=%s: unknown key '%s'", key, v, key);
	}
	return 0;
}

int splq_fw_rule_parse(const char *text, size_t len, long long now, struct splq_fw_rule *out,
                       struct splq_error *err)
{
	static const char *const keys[] = {"action",    "expire",        "dst4",     "dst6",
	                                   "dsthost",   "proto",         "dstports", "icmptype",
	                                   "specialtarget", "comment"};
	cleanup_free char *copy = splq_strdup_printf("%.*s", (int)len, text);
	struct splq_fw_rule r;
	bool seen[10] = {false}, dst = false;
	char *p = copy;

	rule_init(&r);
	while (*p) {
		char *word = p + strspn(p, " \t"), *eq, *end;

		if (!*word)
			break;
		eq = strchr(word, '=');
		end = word + strcspn(word, " \t");
		if (!eq || eq > end)
			return splq_fail(err, SPLQ_E_VALUE, "'%.*s': a rule is key=value words",
			                 (int)(end - word), word);
		*eq = 0;
		size_t k = 0;
		while (k < 10 && strcmp(keys[k], word))
			k++;
		if (k < 10 && seen[k])
			return splq_fail(err, SPLQ_E_VALUE, "%s: given twice", word);
		if (k < 10)
			seen[k] = true;
		if (k == 9) { /* comment: the rest of the line */
			char *c = eq + 1;
			size_t cl = strlen(c);
			while (cl && (c[cl - 1] == ' ' || c[cl - 1] == '\t'))
				c[--cl] = 0;
			if (cl > SPLQ_FW_COMMENT_MAX || strspn(c, VALUE_CHARS " ") != cl)
				return splq_fail(err, SPLQ_E_VALUE,
				                 "comment=%s: up to %d of [A-Za-z0-9:;,./-_[]] and spaces",
				                 c, SPLQ_FW_COMMENT_MAX);
			snprintf(r.comment, sizeof(r.comment), "%s", c);
			break;
		}
		char *v = eq + 1;
		if (*end)
			*end++ = 0;
		/* expire=+SECONDS: qvm-firewall's "from now" */
		const char *chars = v + (k == 1 && *v == '+');
		if (!*chars || strspn(chars, VALUE_CHARS) != strlen(chars))
			return splq_fail(err, SPLQ_E_VALUE, "%s=%s: a value is [A-Za-z0-9:;,./-_[]]",
			                 word, v);
		if (set_key(&r, word, v, now, err) < 0)
			return -1;
		dst |= k >= 2 && k <= 4;
		p = end;
	}
	if (!seen[0])
		return splq_fail(err, SPLQ_E_VALUE, "a rule needs action=accept or action=drop");
	if (r.ports && r.proto != SPLQ_FW_TCP && r.proto != SPLQ_FW_UDP)
		return splq_fail(err, SPLQ_E_VALUE, "dstports=%u-%u: only with proto=tcp or proto=udp",
		                 r.port_lo, r.port_hi);
	if (r.icmptype >= 0 && r.proto != SPLQ_FW_ICMP)
		return splq_fail(err, SPLQ_E_VALUE, "icmptype=%d: only with proto=icmp", r.icmptype);
	if (r.dns && dst)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "specialtarget=dns: its own destination, with no dst4, dst6 or dsthost");
	*out = r;
	return 0;
}

int splq_fw_rules_parse(const char *buf, size_t len, long long now, struct splq_fw_rules *out,
                        struct splq_error *err)
{
	struct splq_fw_rules r = {0};
	size_t at = 0;
	int line = 0;

	while (at < len) {
		const char *s = buf + at, *nl = memchr(s, '\n', len - at);
		size_t l = nl ? (size_t)(nl - s) : len - at;
		size_t lead = 0;

		at += l + 1;
		line++;
		while (lead < l && (s[lead] == ' ' || s[lead] == '\t' || s[lead] == '\r'))
			lead++;
		while (l > lead && (s[l - 1] == '\r' || s[l - 1] == ' '))
			l--;
		if (lead == l || s[lead] == '#')
			continue;
		if (memchr(s, '\0', l)) {
			splq_fw_rules_free(&r);
			return splq_fail(err, SPLQ_E_VALUE, "line %d: a NUL byte", line);
		}
		struct splq_fw_rule x;
		if (splq_fw_rule_parse(s + lead, l - lead, now, &x, err) < 0) {
			char why[SPLQ_ERROR_MAX];
			snprintf(why, sizeof(why), "%s", err->msg);
			splq_fw_rules_free(&r);
			return splq_fail(err, SPLQ_E_VALUE, "line %d: %s", line, why);
		}
		splq_fw_rules_insert(&r, r.n, &x);
	}
	*out = r;
	return 0;
}

bool splq_fw_rule_expired(const struct splq_fw_rule *r, long long now)
{
	return r->expire && r->expire <= now;
}

static const char *const protos[] = {"", "tcp", "udp", "icmp"};

/* The destination as text: ADDR/PREFIX, or the name. */
static void dst_text(const struct splq_fw_rule *r, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (r->dst == SPLQ_FW_DSTHOST) {
		snprintf(out, len, "%s", r->host);
		return;
	}
	inet_ntop(r->dst == SPLQ_FW_DST4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a));
	snprintf(out, len, "%s/%d", a, r->prefix);
}

char *splq_fw_rule_format(const struct splq_fw_rule *r)
{
	static const char *const dkey[] = {"", "dst4", "dst6", "dsthost"};
	char buf[2048], d[SPLQ_FW_HOST_MAX + 8];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "action=%s", r->accept ? "accept" : "drop");

	if (r->expire)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " expire=%lld", r->expire);
	if (r->dst != SPLQ_FW_DST_ANY) {
		dst_text(r, d, sizeof(d));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%s", dkey[r->dst], d);
	}
	if (r->proto)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " proto=%s", protos[r->proto]);
	if (r->dns)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " specialtarget=dns");
	if (r->ports)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " dstports=%u-%u", r->port_lo,
		                      r->port_hi);
	if (r->icmptype >= 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " icmptype=%d", r->icmptype);
	if (*r->comment)
		snprintf(buf + n, sizeof(buf) - n, " comment=%s", r->comment);
	return splq_xstrdup(buf);
}

/* ---- nftables ---- */

static bool nft_name_ok(const char *s)
{
	size_t l = strlen(s);

	return l && l <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == l;
}

/* The match of one rule (without its verdict); false when it matches
 * nothing (a name).  v6: an ICMP rule without a destination, for IPv6. */
static bool rule_match(const struct splq_fw_rule *r, bool v6, char *out, size_t len)
{
	char d[SPLQ_FW_HOST_MAX + 8];
	size_t n = 0;

	out[0] = 0;
	if (r->dst == SPLQ_FW_DSTHOST)
		return false;
	if (r->expire)
		n += (size_t)snprintf(out + n, len - n, "meta time < %lld ", r->expire);
	v6 = v6 || r->dst == SPLQ_FW_DST6;
	if (r->dst != SPLQ_FW_DST_ANY) {
		dst_text(r, d, sizeof(d));
		n += (size_t)snprintf(out + n, len - n, "%s daddr %s ",
		                      r->dst == SPLQ_FW_DST4 ? "ip" : "ip6", d);
	}
	/* the virtual DNS, as the client sent it (the netvm's DNAT has
	 * changed the address by the time the packet is forwarded) */
	if (r->dns)
		n += (size_t)snprintf(out + n, len - n,
		                      "ct original ip daddr { 10.139.1.1, 10.139.1.2 } ");
	if (r->proto == SPLQ_FW_ICMP)
		n += (size_t)snprintf(out + n, len - n, "%s",
		                      v6 ? "meta l4proto ipv6-icmp " : "meta l4proto icmp ");
	else if (r->proto)
		n += (size_t)snprintf(out + n, len - n, "meta l4proto %s ", protos[r->proto]);
	else if (r->dns)
		n += (size_t)snprintf(out + n, len - n, "meta l4proto { tcp, udp } ");
	if (r->ports)
		n += (size_t)snprintf(out + n, len - n, "th dport %u-%u ", r->port_lo, r->port_hi);
	else if (r->dns)
		n += (size_t)snprintf(out + n, len - n, "th dport 53 ");
	if (r->icmptype >= 0)
		snprintf(out + n, len - n, "%s type %d ", v6 ? "icmpv6" : "icmp", r->icmptype);
	return true;
}

char *splq_fw_nft_batch(const char *table, const char *chain, const struct splq_fw_rules *r,
                        long long now, struct splq_error *err)
{
	size_t len = 0;
	char *out;

	if (!nft_name_ok(table) || !nft_name_ok(chain)) {
		splq_fail(err, SPLQ_E_INTERNAL, "bad nftables table or chain name");
		return NULL;
	}
	out = NULL;
	splq_str_appendf(&out, &len, "add chain inet %s %s\nflush chain inet %s %s\n", table,
	                 chain, table, chain);
	/* each rule once, an ICMP one without a destination twice (IPv4,
	 * IPv6); after the last, everything */
	for (size_t i = 0; i <= r->n; i++) {
		const struct splq_fw_rule *x = i < r->n ? &r->v[i] : NULL;
		bool twice = x && x->proto == SPLQ_FW_ICMP && x->dst == SPLQ_FW_DST_ANY;

		for (int pass = 0; pass < 1 + twice; pass++) {
			char m[1024] = "";

			if (x && (splq_fw_rule_expired(x, now) || !rule_match(x, pass, m, sizeof(m))))
				continue;
			splq_str_appendf(&out, &len, "add rule inet %s %s %s%s\n", table, chain, m,
			                 x && x->accept ? "accept"
			                                : "reject with icmpx type admin-prohibited");
		}
	}
	return out;
}
