/* splq: Qubes' firewall rules (reference/qubes.md §2): parse, check and
 * print them in Qubes' text, and turn a list into the nftables commands
 * that enforce it.  Pure: no I/O, no name lookups. */
#ifndef SPLQ_FORMATS_FIREWALL_H
#define SPLQ_FORMATS_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#include "../error.h"

#define SPLQ_FW_HOST_MAX    255
#define SPLQ_FW_COMMENT_MAX 1024

enum splq_fw_dst { SPLQ_FW_DST_ANY, SPLQ_FW_DST4, SPLQ_FW_DST6, SPLQ_FW_DSTHOST };
enum splq_fw_proto { SPLQ_FW_PROTO_ANY, SPLQ_FW_TCP, SPLQ_FW_UDP, SPLQ_FW_ICMP };

struct splq_fw_rule {
	bool accept;             /* action=accept, else drop */
	long long expire;        /* unix seconds, 0: never */
	enum splq_fw_dst dst;    /* dst4 and dst6: addr/prefix; dsthost: a name */
	unsigned char addr[16];  /* network byte order, host bits cleared */
	int prefix;
	char host[SPLQ_FW_HOST_MAX + 1];
	enum splq_fw_proto proto;
	bool dns;                /* specialtarget=dns */
	bool ports;                /* dstports port_lo-port_hi (0 to 65535) */
	unsigned port_lo, port_hi;
	int icmptype;            /* -1: none */
	char comment[SPLQ_FW_COMMENT_MAX + 1];
};

struct splq_fw_rules {
	struct splq_fw_rule *v;
	size_t n;
};
void splq_fw_rules_free(struct splq_fw_rules *r);
/* A copy of x before rule number at (0 to r->n). */
void splq_fw_rules_insert(struct splq_fw_rules *r, size_t at, const struct splq_fw_rule *x);
/* Qubes' rules of a qube that has none set: the one rule action=accept. */
int splq_fw_rules_default(struct splq_fw_rules *r);

/* One rule, key=value words separated by spaces, as qvm-firewall takes
 * it (dsthost may be an address or a prefix: it becomes dst4 or dst6;
 * expire may be +SECONDS from now).  The error names the key and value. */
int splq_fw_rule_parse(const char *text, size_t len, long long now, struct splq_fw_rule *out,
                       struct splq_error *err);
/* One rule a line; empty lines and # comments skipped.  A bad line fails
 * the whole list ("line N: ..."), *out untouched. */
int splq_fw_rules_parse(const char *buf, size_t len, long long now, struct splq_fw_rules *out,
                        struct splq_error *err);
/* The rule in Qubes' canonical text and order (malloc'ed). */
char *splq_fw_rule_format(const struct splq_fw_rule *r);
bool splq_fw_rule_expired(const struct splq_fw_rule *r, long long now);

/* nftables commands that make chain (in table inet table) the rules: the
 * first that matches decides, then everything is dropped.  As in Qubes,
 * a drop is a reject (ICMP admin-prohibited: the client's connection
 * fails at once), and proto=icmp without a destination is ICMP and
 * ICMPv6.  A rule that expires stops matching at its time by itself
 * (nftables' meta time); one expired at now is left out; a dsthost name
 * matches nothing (whoever gives the rules looks names up, and gives one
 * dst4 or dst6 rule for each address).  The chain must be reached from the forward (or input,
 * output, prerouting) hook.
 * Malloc'ed, or NULL and err for a bad table or chain name. */
char *splq_fw_nft_batch(const char *table, const char *chain, const struct splq_fw_rules *r,
                        long long now, struct splq_error *err);

#endif
