/* splq native: a dsthost's addresses at Qubes' virtual DNS (resolve.h). */
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../formats/dns.h"
#include "../../model.h"
#include "../../util.h"

#define TRIES	 2
#define TRY_MSEC 1000

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Send both queries (A, AAAA) to the virtual DNS's two addresses. */
static int send_queries(int fd, const char *name, const uint16_t id[2], struct splq_error *err)
{
	static const char *const servers[] = {SPLQ_NET_DNS1, SPLQ_NET_DNS2};
	static const int types[] = {SPLQ_DNS_A, SPLQ_DNS_AAAA};
	uint8_t q[SPLQ_DNS_QUERY_MAX];
	int sent = 0, e = 0;

	for (int s = 0; s < 2; s++) {
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};

		inet_pton(AF_INET, servers[s], &to.sin_addr);
		for (int t = 0; t < 2; t++) {
			int len = splq_dns_query(q, id[t], name, types[t]);

			if (len < 0)
				return splq_fail(err, SPLQ_E_VALUE, "%s: not a host name", name);
			if (sendto(fd, q, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == len)
				sent++;
			else
				e = errno;
		}
	}
	if (!sent)
		return splq_fail_errno(err, SPLQ_E_NOANSWER, e, "%s: cannot ask the DNS", name);
	return 0;
}

int splq_net_resolve(const char *name, struct splq_resolved *out, struct splq_error *err)
{
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint16_t id[2];
	bool done[2] = {false, false};
	struct splq_error why = {0}, failed = {0};

	*out = (struct splq_resolved){0};
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socket");
	if (getrandom(id, sizeof(id), 0) != sizeof(id))
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "getrandom");
	id[1] ^= id[0] == id[1]; /* two queries, two ids */
	for (int try = 0; try < TRIES && !(done[0] && done[1]); try++) {
		if (send_queries(fd, name, id, err) < 0)
			return -1;
		long long end = now_ms() + TRY_MSEC;
		for (long long left; !(done[0] && done[1]) && (left = end - now_ms()) > 0;) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			uint8_t buf[4096];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);

			if (poll(&p, 1, (int)left) <= 0)
				continue;
			ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			                     &fl);
			/* only an answer from the port asked (a spoof must also guess the id) */
			if (n <= 0 || from.sin_port != htons(53))
				continue;
			for (int t = 0; t < 2; t++) {
				int got;

				if (done[t] || n < 2 || (uint16_t)(buf[0] << 8 | buf[1]) != id[t])
					continue;
				got = splq_dns_answer(buf, (size_t)n, id[t], name,
				                      t ? SPLQ_DNS_AAAA : SPLQ_DNS_A, t ? out->v6 : out->v4,
				                      SPLQ_RESOLVE_MAX, &why);
				if (got < 0 && why.code == SPLQ_E_CORRUPT)
					continue; /* not the answer: wait for it */
				done[t] = true;
				/* the first refusal is told, if the other type has
				 * no address either (some servers say a name with
				 * no AAAA does not exist) */
				if (got < 0 && !failed.code)
					failed = why;
				*(t ? &out->n6 : &out->n4) = got < 0 ? 0 : got;
			}
		}
	}
	if (out->n4 || out->n6)
		return 0;
	if (failed.code)
		return splq_fail(err, failed.code, "%s", failed.msg);
	if (!done[0] && !done[1])
		return splq_fail(err, SPLQ_E_NOANSWER, "%s: no answer from the DNS (%s)", name,
		                 SPLQ_NET_DNS1);
	return splq_fail(err, SPLQ_E_NOTFOUND, "%s: the name has no address", name);
}
