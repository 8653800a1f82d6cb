/* splq-init: the two small processes of a running native qube.
 *
 *   splq-init                          pid 1 of an idle qube: reaps orphans;
 *                                      SIGTERM ends every process in the
 *                                      qube, then itself
 *   splq-init -u UID -g GID -d HOME -- CMD...
 *                                      pid 1 of a qube that runs one command
 *                                      (a disposable): runs CMD as UID/GID,
 *                                      reaps orphans, exits with CMD's code
 *   splq-init --supervise NAME RUNDIR PID TIMEOUT
 *                                      outside the qube: waits for its pid 1,
 *                                      then removes its cgroup and runtime
 *                                      folder, exits with pid 1's code;
 *                                      SIGUSR1 asks for a graceful stop:
 *                                      SIGTERM to pid 1, SIGKILL after
 *                                      TIMEOUT seconds
 *
 * Static and small: a running qube costs little beyond its own processes.
 * splq starts it; it is not meant to be run by hand. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/native/cgroup.h"
#include "../lib/util.h"

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static long number(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0) {
		fprintf(stderr, "splq-init: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int supervise(const char *name, const char *rundir, pid_t pid, unsigned timeout)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int status = 1 << 8;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		int sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR1) {
			kill(pid, SIGTERM);
			alarm(timeout);
		} else if (sig == SIGALRM) {
			kill(pid, SIGKILL);
		}
	}
	struct splq_error err;
	splq_cgroup_destroy(name, 10000, &err);
	splq_rm_rf(rundir, &err);
	return status_code(status);
}

/* Start CMD as uid/gid with the signals unblocked. */
static pid_t spawn(char **cmd, uid_t uid, gid_t gid, const char *home)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		fprintf(stderr, "splq: cannot switch to uid %u: %s\n", uid, strerror(errno));
		_exit(126);
	}
	if (chdir(home) < 0 && chdir("/") < 0)
		_exit(126);
	execvp(cmd[0], cmd);
	int e = errno;
	fprintf(stderr, "splq: cannot run '%s': %s\n", cmd[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--supervise") == 0)
		return supervise(argv[2], argv[3], (pid_t)number(argv[4]),
				 (unsigned)number(argv[5]));

	pid_t main_pid = 0;
	if (argc > 1) {
		uid_t uid = 0;
		gid_t gid = 0;
		const char *home = "/";
		int i = 1;
		for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
			if (strcmp(argv[i], "-u") == 0)
				uid = (uid_t)number(argv[i + 1]);
			else if (strcmp(argv[i], "-g") == 0)
				gid = (gid_t)number(argv[i + 1]);
			else if (strcmp(argv[i], "-d") == 0)
				home = argv[i + 1];
			else
				break;
		}
		if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
			fprintf(stderr, "usage: splq-init [-u UID -g GID -d HOME -- CMD...]\n");
			return 2;
		}
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		main_pid = spawn(argv + i + 1, uid, gid, home);
		if (main_pid < 0) {
			fprintf(stderr, "splq-init: fork: %s\n", strerror(errno));
			return 126;
		}
	} else {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
	}

	sigset_t all;
	sigfillset(&all);
	bool stopping = false;
	for (;;) {
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == main_pid)
				return status_code(status);
		}
		if (pid < 0 && errno == ECHILD && stopping)
			return 0;
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0 || sig == SIGCHLD)
			continue;
		if (main_pid > 0) {
			kill(main_pid, sig); /* the command decides */
		} else if (sig == SIGTERM || sig == SIGINT || sig == SIGPWR) {
			stopping = true;
			kill(-1, SIGTERM);
			kill(-1, SIGCONT);
			if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
				return 0;
		}
	}
}
