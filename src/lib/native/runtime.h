/* splq native: a running qube's runtime folder, $SPLQ_RUN/qubes/<name>/,
 * and the locks that order starts and stops.
 *
 *   init.pid, supervisor.pid   host pids of its pid 1 and supervisor
 *   control        pid 1's control socket (control.h)
 *   rootsrc        the root generation it mounted (volume.h)
 *   privsrc        a disposable's: the dvm snapshot it mounted (volume.h)
 *   root/ lower/ volatile/   mount points of its layers (rootfs.h): they
 *                  stay empty on the host
 *   private.loop   the number of the loop device of its private volume
 * Apart from it, $SPLQ_RUN/locks/<name>.life is held (flock) by the qube's
 * supervisor for its whole life, clean-up included: this lock, not a pid,
 * says whether a qube runs.  $SPLQ_RUN/locks/<name> orders start, shutdown
 * and kill of one qube.  Both go when the qube is removed. */
#ifndef SPLQ_NATIVE_RUNTIME_H
#define SPLQ_NATIVE_RUNTIME_H

#include <sys/types.h>
#include <sys/un.h>

#include "../backend.h"

struct splq_session;

/* The native backend: the interface, plus the supervisor this process
 * started for a first command (a disposable), which only it can wait for,
 * and that command's session. */
struct splq_native {
	struct splq_backend base;
	char first_name[SPLQ_NAME_MAX + 1];
	pid_t first_sup;
	bool first_discard; /* its supervisor removes it (discard) */
	struct splq_session *first; /* session.h */
	int first_oom; /* its supervisor's OOM report (supervise.h), or -1 */
	struct splq_exec_info *first_info; /* where to tell it, or NULL */
	int dirs[2]; /* $SPLQ_RUN/locks and /qubes, O_PATH, once opened (or -1) */
};

/* A descriptor of $SPLQ_RUN/locks (SPLQ_RT_LOCKS) or $SPLQ_RUN/qubes
 * (SPLQ_RT_QUBES), opened at the first use, or -1 while it is missing:
 * what looks at many qubes names their files relative to it. */
enum { SPLQ_RT_LOCKS, SPLQ_RT_QUBES };
int splq_rt_dirfd(struct splq_backend *b, int which);

/* Write a runtime file: no fsync (it describes processes, which a crash
 * ends too), through a rename so that a reader never sees half of it. */
int splq_rt_write(const char *path, const void *data, size_t len, struct splq_error *err);
/* The leaf of a qube's cgroups: its name and its store's id, "work.1a2b3c4d5e6f"
 * (an FNV-1a hash of SPLQ_HOME's absolute path), so that same-named qubes
 * of two stores never share a cgroup.  malloc'ed. */
char *splq_rt_cgroup(struct splq_backend *b, const char *name);
/* malloc'ed paths of the runtime folder and of a file in it */
char *splq_rt_dir(struct splq_backend *b, const char *name);
char *splq_rt_file(struct splq_backend *b, const char *name, const char *file);
/* A pid file's pid, or -1. */
pid_t splq_rt_pid(struct splq_backend *b, const char *name, const char *file);
/* The life lock's path; is it held (by a supervisor)?  1 yes, 0 no. */
char *splq_rt_life_lock(struct splq_backend *b, const char *name);
int splq_rt_locked(struct splq_backend *b, const char *name);
/* The same, or -1 when the qube has no life lock (it has not run since
 * the host booted: nothing of a supervisor is left to sweep). */
int splq_rt_life(struct splq_backend *b, const char *name);
/* Wait until the supervisor is gone (its lock released), then remove its
 * cgroup (cgroup.h). */
void splq_rt_wait_halted(struct splq_backend *b, const char *name);
/* A halted qube: remove its last supervisor's cgroup if no one has, unless
 * a supervisor holds or a start takes the lock. */
void splq_rt_sweep(struct splq_backend *b, const char *name);
/* A pidfd of a running qube's pid 1 (SPLQ_E_STATE when not running). */
int splq_rt_open_init(struct splq_backend *b, const char *name, struct splq_error *err);
/* $SPLQ_RUN/locks/<name>, flock'ed with mode (LOCK_SH, LOCK_EX); op_lock
 * is LOCK_EX.  Returns the descriptor to close. */
int splq_rt_lock(struct splq_backend *b, const char *name, int mode, struct splq_error *err);
int splq_rt_op_lock(struct splq_backend *b, const char *name, struct splq_error *err);
/* The images running qubes use, from their runtime files named file:
 * "rootsrc" (root generations), "privsrc" (dvm snapshots). */
int splq_rt_in_use(struct splq_backend *b, const char *file, char ***out, int *n);
/* TERM, LANG and LC_ALL of the caller, the only parts of splq's
 * environment that reach commands in qubes; env gets at most max-1 and a
 * NULL.  Returns how many. */
int splq_rt_passed_env(char **env, int max);
/* The control socket's address, through an O_PATH descriptor of the
 * runtime folder (*dirfd, to close) so a long SPLQ_RUN never overflows
 * sun_path. */
int splq_rt_control_addr(struct splq_backend *b, const char *name, struct sockaddr_un *addr,
                         int *dirfd, struct splq_error *err);

/* A descriptor of a running qube's mounted /home, reached through its
 * pid 1's root (a mount point the qube cannot change: its mount namespace
 * belongs to the host) without following any link.  SPLQ_E_STATE when the
 * qube does not run. */
int splq_rt_open_home(struct splq_backend *b, const char *name, struct splq_error *err);

/* start.c */
int splq_native_start(struct splq_backend *b, const struct splq_vm_config *cfg,
                      const struct splq_exec *first, struct splq_error *err);

#endif
