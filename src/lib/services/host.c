/* splq: the qrexec services of the host (see host.h). */
#include "services/host.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int get_date(const int fds[3], const char *source, const char *arg)
{
	char buf[64];
	struct tm tm;
	time_t now = time(NULL);

	(void)source;
	(void)arg;
	if (!gmtime_r(&now, &tm))
		return 1;
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00\n", &tm);
	return n && splq_write_all(fds[1], buf, n) == 0 ? 0 : 1;
}

static const struct {
	const char *name;
	splq_host_service_fn fn;
} services[] = {
    {"qubes.GetDate", get_date},
};

splq_host_service_fn splq_host_service_find(const char *name)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(name, services[i].name) == 0)
			return services[i].fn;
	return NULL;
}
