/* splq native: what a running qube uses now (see usage.h). */
#include "usage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util.h"
#include "cgroup.h"
#include "oom.h"

/* A cgroup file's text, or -1 (no such file). */
static ssize_t read_small(const char *dir, const char *file, char *buf, size_t max)
{
	char path[PATH_MAX + 32];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -1;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, max - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* One number (or "max": LLONG_MAX), or -1. */
static long long read_number(const char *dir, const char *file)
{
	char buf[64], *stop;
	if (read_small(dir, file, buf, sizeof(buf)) <= 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0)
		return LLONG_MAX;
	errno = 0;
	long long v = strtoll(buf, &stop, 10);
	return errno || stop == buf || v < 0 ? -1 : v;
}

void splq_processes_free(struct splq_process *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].cmd);
	free(v);
}

/* The last number of KEY's line in /proc/PID/status ("NSpid:\t9\t1"),
 * and how many numbers the line holds (the depth of pid namespaces). */
static long long status_last(const char *text, const char *key, int *count)
{
	const char *p = strstr(text, key);
	*count = 0;
	if (!p || (p != text && p[-1] != '\n'))
		return -1;
	long long last = -1;
	for (p += strlen(key); *p && *p != '\n';) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p)
			break;
		last = v;
		(*count)++;
		p = end;
	}
	return last;
}

/* The first number after KEY ("Uid:\t1000131072\t..."). */
static long long status_first(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (!p || (p != text && p[-1] != '\n'))
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	return *p >= '0' && *p <= '9' ? strtoll(p, NULL, 10) : -1;
}

/* The pid as its own pid namespace sees it, of host pid pid, and how deep
 * that namespace is (*depth: 0 when gone), or 0. */
static int inner_pid(int pid, int *depth, long long *uid_out)
{
	char path[64], text[4096];
	*depth = 0;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (read_small(path, "status", text, sizeof(text)) <= 0)
		return 0;
	if (uid_out)
		*uid_out = status_first(text, "Uid:");
	long long in = status_last(text, "NSpid:", depth);
	return in > 0 ? (int)in : 0;
}

static int cmp_pid(const void *a, const void *b)
{
	return ((const struct splq_process *)a)->pid - ((const struct splq_process *)b)->pid;
}

int splq_cgroup_processes(const char *cgroup, struct splq_process **out, int *n)
{
	char paths[4 * (PATH_MAX + 1)], line[64];
	*out = NULL;
	*n = 0;
	if (splq_cgroup_paths(cgroup, paths, sizeof(paths)) <= 0)
		return -1;
	/* the first of its cgroups that lists them: every process of the
	 * qube is in each (v1: the pids hierarchy's or the memory one's) */
	FILE *procs = NULL;
	for (char *dir = paths, *nl; *dir && !procs; dir = nl + 1) {
		if (!(nl = strchr(dir, '\n')))
			break;
		*nl = '\0';
		char path[PATH_MAX + 32];
		if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) < (int)sizeof(path))
			procs = fopen(path, "re");
	}
	if (!procs)
		return -1;
	struct splq_process *v = splq_xcalloc(SPLQ_CGROUP_PIDS_MAX, sizeof(*v));
	long long base = -1;
	while (*n < SPLQ_CGROUP_PIDS_MAX && fgets(line, sizeof(line), procs)) {
		int pid = atoi(line);
		char dir[64], stat[1024], cmd[4096];
		long long uid = -1;
		int depth = 0, pdepth = 0;
		int in = pid > 0 ? inner_pid(pid, &depth, &uid) : 0;
		snprintf(dir, sizeof(dir), "/proc/%d", pid);
		ssize_t k = in ? read_small(dir, "stat", stat, sizeof(stat)) : -1;
		/* after the command name, which the process chose: its last ')' */
		char *rp = k > 0 ? strrchr(stat, ')') : NULL;
		if (!rp)
			continue;
		struct splq_process *p = &v[(*n)++];
		char st = '?';
		int ppid = 0;
		unsigned long long ut = 0, stt = 0;
		sscanf(rp + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &st, &ppid, &ut,
		       &stt);
		long tck = sysconf(_SC_CLK_TCK);
		p->pid = in;
		/* a parent outside the qube's pid namespace (its supervisor) is 0 */
		int pin = ppid > 0 ? inner_pid(ppid, &pdepth, NULL) : 0;
		p->ppid = pdepth == depth ? pin : 0;
		p->state = st;
		p->cpu_ms = tck > 0 ? (long long)((ut + stt) * 1000 / (unsigned long long)tck) : -1;
		/* the qube's pid 1 is root of the qube: its uid is the range's start */
		if (in == 1)
			base = uid;
		p->uid = uid;
		ssize_t c = read_small(dir, "cmdline", cmd, sizeof(cmd));
		for (ssize_t i = 0; i + 1 < c; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		if (c <= 0) { /* a kernel-less argv (a zombie): its name */
			char *lp = strchr(stat, '(');
			*rp = '\0';
			snprintf(cmd, sizeof(cmd), "[%s]", lp ? lp + 1 : "?");
		}
		p->cmd = splq_xstrdup(cmd);
	}
	fclose(procs);
	for (int i = 0; i < *n; i++)
		v[i].uid = base >= 0 && v[i].uid >= base ? v[i].uid - base : -1;
	qsort(v, (size_t)*n, sizeof(*v), cmp_pid);
	*out = v;
	return 0;
}

int splq_cgroup_usage(const char *cgroup, struct splq_usage *out)
{
	char paths[4 * (PATH_MAX + 1)], text[4096];
	*out = (struct splq_usage){.memory = -1, .memory_max = -1, .cpu_usec = -1, .pids = -1};
	if (splq_cgroup_paths(cgroup, paths, sizeof(paths)) <= 0)
		return -1;
	for (char *dir = paths, *nl; *dir; dir = nl + 1) {
		if (!(nl = strchr(dir, '\n')))
			break;
		*nl = '\0';
		long long v;
		if (out->memory < 0 && ((v = read_number(dir, "memory.current")) >= 0 ||
		                        (v = read_number(dir, "memory.usage_in_bytes")) >= 0))
			out->memory = v;
		if (out->memory_max < 0 && ((v = read_number(dir, "memory.max")) >= 0 ||
		                            (v = read_number(dir, "memory.limit_in_bytes")) >= 0))
			out->memory_max = v;
		ssize_t n;
		if (out->cpu_usec < 0 && (n = read_small(dir, "cpu.stat", text, sizeof(text))) > 0)
			out->cpu_usec = splq_cgroup_key(text, (size_t)n, "usage_usec");
		if (out->cpu_usec < 0 && (v = read_number(dir, "cpuacct.usage")) >= 0)
			out->cpu_usec = v / 1000;
		if (out->pids < 0)
			out->pids = read_number(dir, "pids.current");
	}
	return 0;
}
