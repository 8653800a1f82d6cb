/* splq native: which CPUs a qube runs on.
 *
 * A qube with vcpus below the CPUs the host lets it use gets vcpus of them:
 * its pid 1 is pinned to them (sched_setaffinity, inherited by everything
 * in the qube, and what nproc, os.process_cpu_count() and JVMs read), and
 * where the host has a cpuset controller its cgroup gets them as
 * cpuset.cpus, so that the qube's root cannot widen its affinity beyond
 * them.  The CPUs are picked in turn by the qube's uid slot, so that qubes
 * running at once do not all crowd onto CPU 0.
 *
 * Lists are the kernel's format ("0-3,8,10-11"), as cpuset.cpus and
 * /sys/devices/system/cpu/online write them.  Pure functions. */
#ifndef SPLQ_NATIVE_CPUS_H
#define SPLQ_NATIVE_CPUS_H

#include <sched.h>
#include <stddef.h>

/* Parse a CPU list (a trailing newline allowed; "" is the empty set).
 * -1 on anything else or a CPU past CPU_SETSIZE. */
int splq_cpus_parse(const char *list, cpu_set_t *out);
/* Format set as a CPU list ("" when empty); -1 if max is too small. */
int splq_cpus_format(const cpu_set_t *set, char *buf, size_t max);
/* n CPUs of from: the ones starting at position (turn * n) mod |from|
 * of its ascending list, wrapping around.  -1 unless 0 < n <= |from|. */
int splq_cpus_pick(const cpu_set_t *from, long n, unsigned long turn, cpu_set_t *out);

#endif
