/* splq native: a qube's supervisor (see supervise.h). */
#include "supervise.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tree.h"
#include "../util.h"
#include "cgroup.h"
#include "net/plumb.h"
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

/* A host splq started ahead of the next call, `splq qrexec-in --warm
 * NAME`: it has opened the store and waits on its stdin, one end of a
 * socketpair, for the connection of a call.  It is made when a call has
 * ended, so that a qube that calls often finds one ready, and let go (its
 * end closed: it exits) once no call came for WARM_IDLE_MS.  It makes
 * itself ready at SCHED_IDLE, on CPU time no one else wants, and is given
 * the normal policy back with its call. */
#define WARM_IDLE_MS 30000

#define UPLINK_GONE "splq: the uplink (pasta) ended; the qube has no way out now\n"

struct warm {
	pid_t pid;
	int fd; /* -1: none */
	long long since;
	pid_t idle; /* the last one let go unused: its end is no call's */
};

/* Fork the host splq of a call with stdin on fd, as it is or (warm) as
 * one that waits for its call there.  Its pid, or -1. */
static pid_t spawn_splq(const struct splq_supervise *s, int fd, bool warm)
{
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(fd, 0) < 0)
			_exit(125);
		if (warm)
			sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){0});
		char *cold[] = {"splq", "qrexec-in", (char *)s->name, NULL};
		char *ahead[] = {"splq", "qrexec-in", "--warm", (char *)s->name, NULL};
		syscall(SYS_execveat, s->splq_fd, "", warm ? ahead : cold, environ, AT_EMPTY_PATH);
		_exit(125);
	}
	return pid;
}

static void warm_let_go(struct warm *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->pid = 0;
}

/* Returns 1 when one was started. */
static int warm_start(const struct splq_supervise *s, struct warm *w)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	pid_t pid = spawn_splq(s, sv[1], true);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return 0;
	}
	*w = (struct warm){.pid = pid, .fd = sv[0], .since = splq_now_ms(), .idle = w->idle};
	return 1;
}

/* A call came in on the qrexec socket: the warm splq takes it, or a host
 * splq is started with the connection as its stdin.  Returns the number
 * of host splqs started. */
static int serve_call(const struct splq_supervise *s, struct warm *w)
{
	int c = accept4(s->qrexec_fd, NULL, NULL, SOCK_CLOEXEC);
	int started = 0;
	if (c < 0)
		return 0;
	if (w->fd >= 0)
		sched_setscheduler(w->pid, SCHED_OTHER, &(struct sched_param){0});
	if (w->fd >= 0 && splq_send_fds(w->fd, "c", 1, &c, 1, 0) == 1) {
		warm_let_go(w); /* it is the call's now */
	} else {
		warm_let_go(w);
		started += spawn_splq(s, c, false) > 0;
	}
	close(c);
	return started;
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
	struct warm warm = {.fd = -1};
	pid_t uplink = s->uplink_pid;
	bool ended = false;
	while (!ended) {
		int st;
		pid_t r;
		/* pid 1, and the splq of each call */
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r == s->pid) {
				status = st;
				ended = true;
			} else if (r == uplink) {
				splq_qubelog_write(&log, UPLINK_GONE, strlen(UPLINK_GONE));
				uplink = 0;
			} else if (r == warm.pid || r == warm.idle) {
				/* it failed to start, or went unused */
				if (r == warm.pid)
					warm_let_go(&warm);
				warm.idle = 0;
				calls--;
			} else if (calls > 0) {
				/* a call ended: the next one's splq is made now, not
				 * while a call wants the CPUs */
				calls--;
				if (warm.fd < 0 && s->qrexec_fd >= 0 && calls < SPLQ_SUPERVISE_CALLS)
					calls += warm_start(s, &warm);
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
		} else if (poll(p, 3,
		                warm.fd < 0 ? -1
		                            : (int)(warm.since + WARM_IDLE_MS - splq_now_ms()) + 1) > 0) {
			struct signalfd_siginfo si;
			if (p[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
				sig = (int)si.ssi_signo;
				if (si.ssi_code == SI_QUEUE && si.ssi_int > 0)
					t = (unsigned)si.ssi_int;
			}
			if (fd >= 0 && p[1].revents)
				pump_log(&log, &fd, false);
			if (qfd >= 0 && p[2].revents)
				calls += serve_call(s, &warm);
		}
		if (warm.fd >= 0 && splq_now_ms() - warm.since >= WARM_IDLE_MS) {
			pid_t pid = warm.pid;
			warm_let_go(&warm); /* it sees its end close, and exits */
			warm.idle = pid;
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
	if (uplink > 0) {
		kill(uplink, SIGTERM);
		while (waitpid(uplink, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (warm.fd >= 0) {
		/* no call for it now: it goes before the qube's clean-up */
		pid_t pid = warm.pid;
		warm_let_go(&warm);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (s->oom_fd >= 0) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%lld\n", splq_oom_kills(s->cgroup));
		(void)!write(s->oom_fd, line, (size_t)n);
		close(s->oom_fd);
	}
	struct splq_error err;
	splq_cgroup_destroy(s->cgroup, 10000, &err);
	/* the uplink namespace outlives the qube: nothing of it stays there */
	if (s->netns_fd >= 0) {
		if (splq_net_gateway_down(s->netns_fd, s->forwarding_was, &err) == 0) {
			cleanup_free char *kept = splq_strdup_printf("%s.forwarding", s->rundir);
			unlink(kept);
		} else {
			splq_qubelog_write(&log, err.msg, strlen(err.msg));
		}
	}
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
