/* splq native: a qube's supervisor (see supervise.h). */
#include "supervise.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tree.h"
#include "../util.h"
#include "cgroup.h"
#include "oom.h"
#include "qubelog.h"

#define LOG_CHUNK 65536

/* Make link point at target, atomically. */
static void commit(const char *link, const char *target)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.new", link);
	unlink(tmp);
	if (symlink(target, tmp) == 0 && rename(tmp, link) < 0)
		unlink(tmp);
}

/* Move what the log pipe *fd holds into the log; at its end (no writer
 * left) or on an error, close it.  With drain, until it holds no more. */
static void pump_log(struct splq_qubelog *log, int *fd, bool drain)
{
	static char buf[LOG_CHUNK];
	do {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			splq_qubelog_write(log, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(*fd);
			*fd = -1;
		}
		return;
	} while (drain);
}

/* A call came in on the qrexec socket: a host splq serves it, with the
 * connection as its stdin.  Returns 1 when one was started. */
static int serve_call(const struct splq_supervise *s)
{
	int c = accept4(s->qrexec_fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(c, 0) < 0)
			_exit(125);
		char *argv[] = {"splq", "qrexec-in", (char *)s->name, NULL};
		syscall(SYS_execveat, s->splq_fd, "", argv, environ, AT_EMPTY_PATH);
		_exit(125);
	}
	close(c);
	return pid > 0;
}

int splq_supervise(const struct splq_supervise *s)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN); /* a disposable's splq may be gone: oom_fd */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	struct splq_qubelog log;
	int fd = s->log_fd;
	splq_qubelog_init(&log, s->name ? s->log_dir : -1, s->name ? s->name : "", 0);
	if (fd >= 0)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	int status = 1 << 8, calls = 0;
	bool ended = false;
	while (!ended) {
		int st;
		pid_t r;
		/* pid 1, and the splq of each call */
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r == s->pid) {
				status = st;
				ended = true;
			} else if (calls > 0) {
				calls--;
			}
		}
		if (ended || (r < 0 && errno == ECHILD))
			break;
		int qfd = s->qrexec_fd >= 0 && calls < SPLQ_SUPERVISE_CALLS ? s->qrexec_fd : -1;
		struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
		                      {.fd = fd, .events = POLLIN},
		                      {.fd = qfd, .events = POLLIN}};
		int sig = 0;
		/* splq shutdown sends the qube's shutdown_timeout as it is now
		 * (sigqueue); a bare SIGUSR1 takes the one of the start */
		unsigned t = s->timeout;
		if (sfd < 0) {
			siginfo_t si;
			sig = sigwaitinfo(&set, &si);
			if (sig == SIGUSR1 && si.si_code == SI_QUEUE && si.si_value.sival_int > 0)
				t = (unsigned)si.si_value.sival_int;
		} else if (poll(p, 3, -1) > 0) {
			struct signalfd_siginfo si;
			if (p[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
				sig = (int)si.ssi_signo;
				if (si.ssi_code == SI_QUEUE && si.ssi_int > 0)
					t = (unsigned)si.ssi_int;
			}
			if (fd >= 0 && p[1].revents)
				pump_log(&log, &fd, false);
			if (qfd >= 0 && p[2].revents)
				calls += serve_call(s);
		}
		if (sig == SIGUSR1) {
			kill(s->pid, SIGTERM);
			alarm(t);
		} else if (sig == SIGALRM || sig == SIGUSR2) {
			kill(s->pid, SIGKILL);
		}
	}
	if (s->qrexec_fd >= 0)
		close(s->qrexec_fd); /* no more calls: its connections are refused */
	if (s->oom_fd >= 0) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%lld\n", splq_oom_kills(s->cgroup));
		(void)!write(s->oom_fd, line, (size_t)n);
		close(s->oom_fd);
	}
	struct splq_error err;
	splq_cgroup_destroy(s->cgroup, 10000, &err);
	/* every process of the qube is gone: what its pipes hold is all */
	if (fd >= 0)
		pump_log(&log, &fd, true);
	splq_qubelog_close(&log);
	if (s->link)
		commit(s->link, s->target);
	splq_rm_rf(s->rundir, &err);
	if (sfd >= 0)
		close(sfd);
	return splq_exit_code(status);
}
