/* splq native: what a qube sees of the host's cgroups: the CPUs its
 * cpuset may have, and the cgroup file systems at its /sys/fs/cgroup.
 * Questions of where cgroups are (cgroup_layout.h), asked by the start
 * and the root file system code. */
#ifndef SPLQ_NATIVE_CGROUP_VIEW_H
#define SPLQ_NATIVE_CGROUP_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "../error.h"

/* The CPUs a qube's cpuset may have, as a CPU list (cpus.h) in buf: 1; 0
 * (buf "") when qubes get no cpuset on this host (no cpuset controller). */
int splq_cgroup_cpus(char *buf, size_t max);

/* The cgroup file systems a qube shows at /sys/fs/cgroup, read-only: each
 * mounted from inside the qube's cgroup namespace, so that its root is the
 * qube's own cgroup.  v2: one cgroup2 at /sys/fs/cgroup itself; v1: a
 * tmpfs there holding the v1 hierarchies the qube has a cgroup in (named
 * as the host names their mount points: memory, pids, cpu or cpu,cpuacct,
 * cpuset) and the controller-less cgroup2 as unified. */
#define SPLQ_CGROUP_VIEW_MAX 6
struct splq_cgroup_fs {
	char name[32];	 /* under /sys/fs/cgroup; "" = there itself */
	char type[8];	 /* cgroup or cgroup2 */
	char opts[128];	 /* a v1 hierarchy's options: its controllers, name= */
};
struct splq_cgroup_view {
	bool tmpfs; /* a tmpfs at /sys/fs/cgroup holds the file systems */
	int n;
	struct splq_cgroup_fs fs[SPLQ_CGROUP_VIEW_MAX];
};
int splq_cgroup_view(const char *qube, struct splq_cgroup_view *v, struct splq_error *err);

#endif
