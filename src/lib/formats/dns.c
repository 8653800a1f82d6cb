/* splq: a DNS query and its answer's addresses (see dns.h). */
#include "formats/dns.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HEADER	   12
#define NAME_MAX_  255 /* on the wire, RFC 1035 2.3.4 */
#define HOPS_MAX   16  /* compression pointers followed in one name */
#define CLASS_IN   1
#define TYPE_CNAME 5

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int splq_dns_query(uint8_t *buf, uint16_t id, const char *name, int qtype)
{
	size_t n = HEADER, l = strlen(name);

	if (l && name[l - 1] == '.')
		l--; /* the root's dot */
	if (l == 0 || l + 2 > NAME_MAX_)
		return -1;
	memset(buf, 0, HEADER);
	put16(buf, id);
	buf[2] = 0x01; /* RD */
	put16(buf + 4, 1);
	for (size_t i = 0; i < l;) {
		size_t e = i;

		while (e < l && name[e] != '.')
			e++;
		if (e == i || e - i > 63)
			return -1;
		buf[n++] = (uint8_t)(e - i);
		for (; i < e; i++)
			buf[n++] = (uint8_t)tolower((unsigned char)name[i]);
		i = e + 1;
		if (e + 1 == l)
			return -1; /* "a..", a dot at the end of an empty label */
	}
	buf[n++] = 0;
	put16(buf + n, (unsigned)qtype);
	put16(buf + n + 2, CLASS_IN);
	return (int)(n + 4);
}

/* The name at *off of the message buf (len bytes), dotted and without the
 * root's dot, into out (NAME_MAX_ + 1); *off moves past it (past the
 * first pointer, if it is compressed).  -1: not a name. */
static int read_name(const uint8_t *buf, size_t len, size_t *off, char *out)
{
	size_t p = *off, n = 0;
	int hops = 0;
	bool jumped = false;

	for (;;) {
		if (p >= len)
			return -1;
		uint8_t c = buf[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > HOPS_MAX)
				return -1;
			if (!jumped)
				*off = p + 2;
			jumped = true;
			p = (size_t)(get16(buf + p) & 0x3fff);
			continue;
		}
		if (c & 0xc0)
			return -1; /* the extended label types: none in use */
		p++;
		if (c == 0)
			break;
		if (p + c > len || n + c + 1 > NAME_MAX_)
			return -1;
		if (n)
			out[n++] = '.';
		for (size_t i = 0; i < c; i++)
			out[n++] = (char)tolower(buf[p + i]);
		p += c;
	}
	out[n] = 0;
	if (!jumped)
		*off = p;
	return 0;
}

/* The name as the query spelt it: lower case, no root's dot. */
static bool same_name(const char *wire, const char *name)
{
	size_t l = strlen(name);

	if (l && name[l - 1] == '.')
		l--;
	return strlen(wire) == l && strncasecmp(wire, name, l) == 0;
}

int splq_dns_answer(const uint8_t *buf, size_t len, uint16_t id, const char *name, int qtype,
                    uint8_t (*addrs)[16], int max, struct splq_error *err)
{
	char owner[NAME_MAX_ + 1], want[NAME_MAX_ + 1];
	size_t off = HEADER, size = qtype == SPLQ_DNS_A ? 4 : 16;
	int found = 0;

	if (len < HEADER || get16(buf) != id || !(buf[2] & 0x80) || (buf[2] & 0x78) ||
	    get16(buf + 4) != 1)
		return splq_fail(err, SPLQ_E_CORRUPT, "%s: the DNS answer is not to its query", name);
	switch (buf[3] & 0x0f) {
	case 0:
		break;
	case 3:
		return splq_fail(err, SPLQ_E_NOTFOUND, "%s: no such name (DNS)", name);
	default:
		return splq_fail(err, SPLQ_E_STATE, "%s: the DNS server failed (rcode %d)", name,
		                 buf[3] & 0x0f);
	}
	if (read_name(buf, len, &off, owner) < 0 || !same_name(owner, name) || off + 4 > len ||
	    get16(buf + off) != qtype || get16(buf + off + 2) != CLASS_IN)
		return splq_fail(err, SPLQ_E_CORRUPT, "%s: the DNS answer is not to its query", name);
	off += 4;
	/* the answers, in order: the name's records, or those of the name a
	 * CNAME before them gave it */
	snprintf(want, sizeof(want), "%s", owner);
	for (unsigned i = 0, an = get16(buf + 6); i < an; i++) {
		if (read_name(buf, len, &off, owner) < 0 || off + 10 > len)
			return splq_fail(err, SPLQ_E_CORRUPT, "%s: a DNS answer cut short", name);
		unsigned type = get16(buf + off), klass = get16(buf + off + 2);
		size_t rdlen = get16(buf + off + 8), rd = off + 10;
		if (rd + rdlen > len)
			return splq_fail(err, SPLQ_E_CORRUPT, "%s: a DNS answer cut short", name);
		off = rd + rdlen;
		if (klass != CLASS_IN || strcmp(owner, want) != 0)
			continue;
		if (type == TYPE_CNAME) {
			size_t t = rd;
			if (read_name(buf, rd + rdlen, &t, want) < 0)
				return splq_fail(err, SPLQ_E_CORRUPT, "%s: a bad CNAME in its DNS answer",
				                 name);
		} else if (type == (unsigned)qtype && rdlen == size && found < max) {
			memset(addrs[found], 0, 16);
			memcpy(addrs[found++], buf + rd, size);
		}
	}
	return found;
}
