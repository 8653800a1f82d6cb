/* splq native: what a running qube uses now, read from its cgroups (the
 * host's cgroup files, which nothing in the qube can write): its memory
 * (v2 memory.current, v1 memory.usage_in_bytes), the hard limit on it
 * (memory.max, memory.limit_in_bytes), its CPU time (v2 cpu.stat's
 * usage_usec, v1 cpuacct.usage) and its processes (pids.current). */
#ifndef SPLQ_NATIVE_USAGE_H
#define SPLQ_NATIVE_USAGE_H

#include <stddef.h>

#include "../backend.h"

/* cgroup: the qube's cgroup leaf (splq_rt_cgroup).  0, or -1 when none of
 * its cgroups is there (the qube is not running).  A figure the host does
 * not keep is -1. */
int splq_cgroup_usage(const char *cgroup, struct splq_usage *out);

/* The processes in the qube's cgroups (at most SPLQ_CGROUP_PIDS_MAX), by
 * pid, as the qube sees them: its pids (NSpid), uids (less the start of
 * the qube's uid range) and command lines.  Read from /proc with nothing
 * followed: a process that ends meanwhile is left out.  0, or -1 when the
 * qube has no cgroup. */
int splq_cgroup_processes(const char *cgroup, struct splq_process **out, int *n);

#endif
