/* splq native: a qube's count of OOM kills (see oom.h). */
#include "oom.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util.h"
#include "cgroup.h"

long long splq_cgroup_key(const char *text, size_t len, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);
		if (n > klen + 1 && n < klen + 40 && memcmp(p, key, klen) == 0 && p[klen] == ' ') {
			char num[40];
			char *stop;
			memcpy(num, p + klen + 1, n - klen - 1);
			num[n - klen - 1] = '\0';
			errno = 0;
			long long v = strtoll(num, &stop, 10);
			if (!errno && stop != num && *stop == '\0' && v >= 0)
				return v;
		}
		p = eol + 1;
	}
	return -1;
}

long long splq_oom_parse(const char *text, size_t len)
{
	return splq_cgroup_key(text, len, "oom_kill");
}

/* A small cgroup file's count, or -1. */
static long long read_count(const char *dir, const char *file)
{
	char path[PATH_MAX + 32], buf[1024];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -1;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	return n > 0 ? splq_oom_parse(buf, (size_t)n) : -1;
}

long long splq_oom_kills(const char *cgroup)
{
	static const char *const files[] = {"memory.events", "memory.oom_control"};
	char paths[4 * (PATH_MAX + 1)];
	if (splq_cgroup_paths(cgroup, paths, sizeof(paths)) <= 0)
		return -1;
	for (char *line = paths, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		for (int i = 0; i < 2; i++) {
			long long v = read_count(line, files[i]);
			if (v >= 0)
				return v;
		}
	}
	return -1;
}
