/* splq: the little of DNS (RFC 1035, 3596) that a firewall needs to turn a
 * rule's dsthost into addresses: a query for a name's A or AAAA records,
 * and the addresses in the answer to it.  Pure: no I/O.  An answer comes
 * from the network and is read as hostile: every length is checked,
 * compressed names are followed a bounded number of times, and records
 * that are not the answer asked for are skipped. */
#ifndef SPLQ_FORMATS_DNS_H
#define SPLQ_FORMATS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "../error.h"

#define SPLQ_DNS_A	   1
#define SPLQ_DNS_AAAA	   28
#define SPLQ_DNS_QUERY_MAX 512 /* a name of 255 characters fits */

/* The query id asks for qtype (SPLQ_DNS_A or _AAAA) records of name, with
 * recursion desired, into buf (at least SPLQ_DNS_QUERY_MAX bytes).
 * Returns its length, or -1 for a name that is not a host name. */
int splq_dns_query(uint8_t *buf, uint16_t id, const char *name, int qtype);

/* The addresses of the answer buf (len bytes) to that query: up to max of
 * 4 (A) or 16 (AAAA) bytes each into addrs.  Returns how many (0: the
 * name has none of that type); -1 with err for an answer that is not to
 * the query (wrong id, question or form: SPLQ_E_CORRUPT), or that says
 * the name does not exist (SPLQ_E_NOTFOUND) or the server failed
 * (SPLQ_E_STATE). */
int splq_dns_answer(const uint8_t *buf, size_t len, uint16_t id, const char *name, int qtype,
                    uint8_t (*addrs)[16], int max, struct splq_error *err);

#endif
