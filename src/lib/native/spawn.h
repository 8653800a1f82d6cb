/* splq native: the processes a start makes (start.c plans a start,
 * spawn.c holds them).
 *
 * The supervisor-to-be, forked by the starting splq: it clones the qube's
 * pid 1 into new pid, mount, uts, ipc and net namespaces, born into the
 * qube's cgroup; takes the qube's qrexec socket from it; records the pids
 * and becomes splq-init --supervise (a disposable's supervises as it is).
 * Pid 1, still host root: joins the v1 cgroup hierarchies, is pinned to
 * its CPUs (cpus.h), joins a new cgroup namespace, mounts the root
 * (rootfs.h), binds the qrexec socket (qrexec/wire.h) and hands it over,
 * sets the hostname, brings up lo, binds the control socket (control.h),
 * pivots, joins the qube's user namespace (ids 0..65535 = the qube's host
 * range), drops capabilities, loads the seccomp filter, settles the root
 * and execs splq-init.  Either reports a failure on the report pipe; EOF
 * on it means both exec'd.  Internal to start.c and spawn.c. */
#ifndef SPLQ_NATIVE_SPAWN_H
#define SPLQ_NATIVE_SPAWN_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "../backend.h"
#include "cgroup.h"
#include "cgroup_view.h"
#include "network.h"
#include "rootfs.h"

/* Everything a start prepares before its processes exist. */
struct start_plan {
	const struct splq_vm_config *cfg;
	const struct splq_exec *first;
	struct splq_rootfs fs;
	struct splq_cgroup_entry cg;
	struct splq_cgroup_entry sup; /* the supervisor's cgroups */
	struct splq_cgroup_view view; /* what the qube sees at /sys/fs/cgroup */
	bool pin;                     /* vcpus below the CPUs it may have: */
	cpu_set_t cpus;               /* pid 1's affinity (cpus.h) */
	char cpulist[2048];           /* the same as a CPU list */
	void *prog;
	size_t prog_len;
	int init_fd;
	int report_fd; /* write end */
	int once_fd;   /* a disposable's first connection, pid 1's end */
	char *cgroup;  /* the leaf of its cgroups (splq_rt_cgroup) */
	char *commit;  /* TemplateVM: the generation its supervisor makes current */
	char *prev;    /* TemplateVM: the generation current before */
	/* the qube's log (qubelog.h): its folder, and a pipe whose write end
	 * becomes pid 1's stdout and stderr and whose read end the
	 * supervisor reads */
	int log_dir;
	int log_r, log_w;
	int oom_w; /* a disposable's: its supervisor tells its OOM kills here */
	/* qrexec (qrexec/wire.h): pid 1, still host root, binds the qube's
	 * socket and hands it to the supervisor over qx; splq_fd is the splq
	 * that serves each call */
	int qx[2];
	int splq_fd;
	char *helpers; /* splq's in-qube helpers (rootfs.h) */
	struct splq_net_start net; /* network.h */
};

/* Never returns: the supervisor-to-be, in the child of the fork.  lock_fd
 * is the qube's life lock, range_fd the lease of its uid range. */
__attribute__((noreturn)) void splq_spawn_supervisor(struct splq_backend *b, struct start_plan *p,
                                                     int lock_fd, int range_fd);
/* Read the report pipe fd until EOF: 0, or the first failure reported. */
int splq_spawn_reports(int fd, struct splq_error *err);
/* What splq brings with it: splq-init and the in-qube helpers (qube/)
 * live beside the splq binary, or in ../libexec/splq.  The path of what,
 * malloc'ed, or NULL. */
char *splq_spawn_beside(const char *what, struct splq_error *err);
/* splq-init, opened for execveat. */
int splq_spawn_init_binary(struct splq_error *err);

#endif
