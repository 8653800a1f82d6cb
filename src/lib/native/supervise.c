/* splq native: a qube's supervisor (see supervise.h). */
#include "supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tree.h"
#include "../util.h"
#include "cgroup.h"

/* Make link point at target, atomically. */
static void commit(const char *link, const char *target)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.new", link);
	unlink(tmp);
	if (symlink(target, tmp) == 0 && rename(tmp, link) < 0)
		unlink(tmp);
}

int splq_supervise(const char *name, const char *rundir, pid_t pid, unsigned timeout,
                   const char *link, const char *target)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int status = 1 << 8;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig == SIGUSR1) {
			/* splq shutdown sends the qube's shutdown_timeout as it
			 * is now (sigqueue); a bare SIGUSR1 takes the one of the
			 * start */
			unsigned t = timeout;
			if (si.si_code == SI_QUEUE && si.si_value.sival_int > 0)
				t = (unsigned)si.si_value.sival_int;
			kill(pid, SIGTERM);
			alarm(t);
		} else if (sig == SIGALRM || sig == SIGUSR2) {
			kill(pid, SIGKILL);
		}
	}
	struct splq_error err;
	splq_cgroup_destroy(name, 10000, &err);
	if (link)
		commit(link, target);
	splq_rm_rf(rundir, &err);
	return splq_exit_code(status);
}
