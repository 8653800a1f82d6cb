/* splq native: cgroups for qubes, on cgroup v2 or on v1 controllers (hybrid
 * hosts).  Each qube gets <parent>/<name> in every hierarchy splq uses;
 * parent is $SPLQ_CGROUP (a relative path, default "splq").
 *
 * A lasting qube's supervisor (a disposable's stays with the splq that
 * waits for it) lives in <parent>/<name>.sup, beside the qube's own
 * cgroup (on v2 a cgroup with processes can have no children with
 * controllers, so not in the parent): in the cgroup2 tree and, on v1, in
 * the memory, pids, cpu and name=systemd hierarchies.  So it is in none of
 * the cgroups of the process that started it, and a service manager that
 * kills that process's cgroup (systemd stopping a unit, logind ending a
 * session) leaves running qubes alone.  A supervisor cannot remove its own
 * cgroup: whoever waits for it to end does, or the next splq that finds the
 * qube halted (runtime.h); a start or removal of the qube removes one left
 * behind too. */
#ifndef SPLQ_NATIVE_CGROUP_H
#define SPLQ_NATIVE_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "../error.h"

#define SPLQ_CGROUP_PIDS_MAX 4096

struct splq_cgroup_limits {
	long memory_mib; /* soft limit: what the qube keeps under memory pressure
			  * (v2 memory.low, v1 memory.soft_limit_in_bytes) */
	long max_mib;	 /* hard limit (and no swap beyond it); 0: memory_mib */
	long vcpus;	 /* cpu quota in cpus; 0 = none (and no v1 cpu cgroup) */
	long pids_max;	 /* 0 = SPLQ_CGROUP_PIDS_MAX */
	const char *cpus; /* the CPUs of the qube's cpuset (a CPU list, cpus.h);
			   * NULL = none (no v1 cpuset cgroup) */
};

/* Create the qube's cgroup(s) and set the limits.  A leftover cgroup of
 * the same name (a crash) is removed first if empty.  SPLQ_E_UNSUPPORTED
 * when the host offers neither a v2 memory controller nor a v1 memory
 * hierarchy. */
int splq_cgroup_create(const char *qube, const struct splq_cgroup_limits *lim,
		       struct splq_error *err);
/* Open the cgroup.procs file(s) of the qube's cgroup(s) for writing;
 * fds[] gets up to SPLQ_CGROUP_MAX_FDS descriptors, *n how many.  Used to
 * move a process in after it has left the host's mount namespace. */
#define SPLQ_CGROUP_MAX_FDS 6
int splq_cgroup_open_procs(const char *qube, int fds[SPLQ_CGROUP_MAX_FDS], int *n,
			   struct splq_error *err);
/* Write pid ("0" = the caller) into each fd from open_procs. */
int splq_cgroup_enter(const int *fds, int n, pid_t pid, struct splq_error *err);
/* How a new process enters the qube's cgroups without a migration (which
 * takes a global lock that costs an RCU grace period, ~10 ms): a cgroup2
 * tree (v2, or the unified tree of a hybrid host) is entered at birth
 * through clone3(CLONE_INTO_CGROUP) with dir_fd; a v1 hierarchy through its
 * `tasks` file, to which the new single-threaded process writes "0"
 * (moving one thread needs no global lock). */
struct splq_cgroup_entry {
	int dir_fd; /* -1: no cgroup2 tree */
	int tasks[SPLQ_CGROUP_MAX_FDS];
	int ntasks;
};
int splq_cgroup_open_entry(const char *qube, struct splq_cgroup_entry *e,
			   struct splq_error *err);
/* In the new process: join the v1 hierarchies. */
int splq_cgroup_enter_thread(const struct splq_cgroup_entry *e, struct splq_error *err);
void splq_cgroup_entry_close(struct splq_cgroup_entry *e);

/* The supervisor's cgroups: made (a leftover of an earlier supervisor that
 * ended is removed first) and opened for entry as splq_cgroup_open_entry
 * does: a cgroup2 tree through clone3(CLONE_INTO_CGROUP) of the
 * supervisor, v1 hierarchies by the supervisor itself (enter_thread). */
int splq_cgroup_supervisor_entry(const char *qube, struct splq_cgroup_entry *e,
				 struct splq_error *err);
/* Remove the supervisor's cgroups once it has ended, waiting at most
 * timeout_ms for one on its way out to leave them; missing ones are not an
 * error. */
int splq_cgroup_supervisor_remove(const char *qube, long timeout_ms, struct splq_error *err);

/* Kill every process in the qube's cgroup (SIGKILL) and wait until it is
 * empty (at most timeout_ms), then remove the cgroup(s).  A missing cgroup
 * is not an error. */
int splq_cgroup_destroy(const char *qube, long timeout_ms, struct splq_error *err);
/* Freeze (frozen) or thaw every process of the qube: cgroup.freeze in its
 * cgroup2 tree (v2, or the controller-less one of a hybrid host), else
 * its v1 freezer cgroup.  A freeze returns once the kernel says every
 * process is frozen (at most timeout_ms), a thaw at once.  SPLQ_E_UNSUPPORTED when the host has neither. */
int splq_cgroup_freeze(const char *qube, bool frozen, long timeout_ms, struct splq_error *err);
/* Is any process left in the qube's cgroup(s)? */
bool splq_cgroup_populated(const char *qube);
/* Paths of the qube's cgroup directories (for tests and diagnostics):
 * writes up to max lines "path\n" into buf. */
int splq_cgroup_paths(const char *qube, char *buf, size_t max);

#endif
