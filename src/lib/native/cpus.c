/* splq native: CPU lists (see cpus.h). */
#include "cpus.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int number(const char **p, long *v)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -1;
	*v = strtol(*p, &end, 10);
	if (*v < 0 || *v >= CPU_SETSIZE)
		return -1;
	*p = end;
	return 0;
}

int splq_cpus_parse(const char *list, cpu_set_t *out)
{
	const char *p = list;

	CPU_ZERO(out);
	if (strcmp(list, "") == 0 || strcmp(list, "\n") == 0)
		return 0;
	for (;;) {
		long a, b;

		if (number(&p, &a) < 0)
			return -1;
		b = a;
		if (*p == '-') {
			p++;
			if (number(&p, &b) < 0 || b < a)
				return -1;
		}
		for (long c = a; c <= b; c++)
			CPU_SET((size_t)c, out);
		if (*p != ',')
			break;
		p++;
	}
	return *p == '\0' || (*p == '\n' && p[1] == '\0') ? 0 : -1;
}

int splq_cpus_format(const cpu_set_t *set, char *buf, size_t max)
{
	size_t off = 0;

	if (max == 0)
		return -1;
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE; c++) {
		int end = c;
		int w;

		if (!CPU_ISSET(c, set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set))
			end++;
		if (end == c)
			w = snprintf(buf + off, max - off, "%s%d", off ? "," : "", c);
		else
			w = snprintf(buf + off, max - off, "%s%d-%d", off ? "," : "", c, end);
		if (w < 0 || (size_t)w >= max - off) {
			buf[0] = '\0';
			return -1;
		}
		off += (size_t)w;
		c = end;
	}
	return 0;
}

int splq_cpus_pick(const cpu_set_t *from, long n, unsigned long turn, cpu_set_t *out)
{
	int cpus[CPU_SETSIZE], m = 0;

	CPU_ZERO(out);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, from))
			cpus[m++] = c;
	if (n <= 0 || n > m)
		return -1;
	unsigned long start =
	    (unsigned long)((turn % (unsigned long)m) * (unsigned long)n) % (unsigned long)m;
	for (long i = 0; i < n; i++)
		CPU_SET(cpus[(start + (unsigned long)i) % (unsigned long)m], out);
	return 0;
}
