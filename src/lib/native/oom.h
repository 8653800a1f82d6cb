/* splq native: how many processes of a qube the kernel killed for want of
 * memory: the oom_kill count of its memory cgroup (cgroup.h), from
 * memory.events on cgroup v2 and memory.oom_control on v1 (Linux 4.13 and
 * later).  A command that ends by SIGKILL while the count grows was,
 * most likely, the one killed: splq says so (its exit code stays 137). */
#ifndef SPLQ_NATIVE_OOM_H
#define SPLQ_NATIVE_OOM_H

#include <stddef.h>

/* The count of the qube's cgroup leaf (splq_rt_cgroup), or -1 when it
 * cannot be read (no such cgroup, a kernel that does not count). */
long long splq_oom_kills(const char *cgroup);

/* Pure: the value of the "oom_kill N" line of a memory.events or
 * memory.oom_control text, or -1 when there is none. */
long long splq_oom_parse(const char *text, size_t len);

/* Pure: the value of KEY's line ("KEY N") in a flat keyed cgroup file's
 * text (memory.events, cpu.stat), or -1 when there is none. */
long long splq_cgroup_key(const char *text, size_t len, const char *key);

#endif
