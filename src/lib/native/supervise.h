/* splq native: a qube's supervisor, outside the qube.  It waits for the
 * qube's pid 1, then removes its cgroup and runtime folder.  A TemplateVM's
 * supervisor then makes the root generation the template worked on current
 * (volume.h).  Signals: SIGUSR1 asks for a graceful stop (SIGTERM to pid 1,
 * SIGKILL after the seconds that came with it through sigqueue(3), or
 * after timeout), SIGUSR2 kills pid 1 at once; SIGINT,
 * SIGTERM and SIGHUP are ignored, so the clean-up always happens.
 *
 * A running qube's supervisor is splq-init --supervise (small and static);
 * a disposable's is the process splq forked, which its splq waits for. */
#ifndef SPLQ_NATIVE_SUPERVISE_H
#define SPLQ_NATIVE_SUPERVISE_H

#include <sys/types.h>

/* Returns pid 1's exit code.  link and target may be NULL. */
int splq_supervise(const char *name, const char *rundir, pid_t pid, unsigned timeout,
                   const char *link, const char *target);

#endif
