/* splq-init: the two small processes of a running native qube.
 *
 *   splq-init --control FD [--user NAME -- CMD...]
 *                    pid 1 of a qube: reaps orphans, starts the commands
 *                    that `splq run` asks for on the control socket FD
 *                    (control.h); SIGTERM ends every process of the qube,
 *                    then itself.  With CMD (a disposable) it runs CMD as
 *                    NAME first and exits with CMD's exit code.
 *   splq-init --supervise NAME RUNDIR PID TIMEOUT [LINK TARGET]
 *                    outside the qube: waits for its pid 1, then removes its
 *                    cgroup and runtime folder and exits with pid 1's code;
 *                    SIGUSR1 asks for a graceful stop: SIGTERM to pid 1,
 *                    SIGKILL after TIMEOUT seconds; SIGUSR2 kills it now.  For a TemplateVM, LINK
 *                    (its root's symlink) then points at TARGET, the root
 *                    generation it worked on.
 *
 * Static and small, so that a running qube costs little beyond its own
 * processes.  splq starts it; it is not meant to be run by hand. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/native/cgroup.h"
#include "../lib/native/control.h"
#include "../lib/native/supervise.h"
#include "../lib/util.h"

#define MAX_CLIENTS 128

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

/* A user of the qube, from its own /etc/passwd and /etc/group. */
struct user {
	uid_t uid;
	gid_t gid;
	gid_t groups[32];
	int ngroups;
	char home[256];
};

static int lookup_user(const char *name, struct user *u)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return -1;
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *fields[7] = {0}, *p = line, *end;
		int i;
		for (i = 0; i < 7 && p; i++)
			fields[i] = strsep(&p, ":\n");
		if (i < 7 || !fields[6] || strcmp(fields[0], name) != 0)
			continue;
		unsigned long uid = strtoul(fields[2], &end, 10);
		if (*end || uid > 65535)
			continue;
		unsigned long gid = strtoul(fields[3], &end, 10);
		if (*end || gid > 65535)
			continue;
		u->uid = (uid_t)uid;
		u->gid = (gid_t)gid;
		snprintf(u->home, sizeof(u->home), "%s", fields[5][0] ? fields[5] : "/");
		found = true;
	}
	fclose(f);
	if (!found)
		return -1;
	u->groups[0] = u->gid;
	u->ngroups = 1;
	FILE *g = fopen("/etc/group", "re");
	while (g && fgets(line, sizeof(line), g) && u->ngroups < 32) {
		char *p = line;
		strsep(&p, ":");
		strsep(&p, ":");
		char *gidtext = strsep(&p, ":"), *members = strsep(&p, "\n"), *m;
		while (gidtext && members && (m = strsep(&members, ","))) {
			unsigned long gid = strtoul(gidtext, NULL, 10);
			if (strcmp(m, name) == 0 && gid <= 65535 && gid != u->gid) {
				u->groups[u->ngroups++] = (gid_t)gid;
				break;
			}
		}
	}
	if (g)
		fclose(g);
	return 0;
}

/* What a started command gets: a fresh environment plus what the caller
 * passed (TERM, LANG).  In the child only. */
static char **command_env(const char *user, const char *home, char **extra, int nextra)
{
	static char *env[32];
	int n = 0;
	char *s;
	if (asprintf(&s, "HOME=%s", home) > 0)
		env[n++] = s;
	if (asprintf(&s, "USER=%s", user) > 0)
		env[n++] = s;
	if (asprintf(&s, "LOGNAME=%s", user) > 0)
		env[n++] = s;
	env[n++] = strcmp(user, "root") == 0
	               ? "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	               : "PATH=/usr/local/bin:/usr/bin:/bin";
	env[n++] = "SHELL=/bin/sh";
	for (int i = 0; i < nextra && n < 31; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	return env;
}

/* Start argv as user with the given stdio (fds NULL: keep ours).  Returns
 * the pid, or -1 with *code (127 not found, 126 not executable,
 * SPLQ_E_NOTFOUND no such user, 1 otherwise) and msg filled. */
static pid_t spawn(const char *user, char **argv, char **extra, int nextra, const int *fds,
                   int *code, char *msg, size_t msglen)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		*code = 1;
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		for (int i = 0; fds && i < 3; i++)
			if (dup2(fds[i], i) < 0)
				_exit(1);
		struct user u = {0};
		int e = 0, rc = 1;
		const char *what = "";
		if (lookup_user(user, &u) < 0) {
			rc = SPLQ_E_NOTFOUND;
		} else if (setgroups(u.ngroups, u.groups) < 0 ||
		           setresgid(u.gid, u.gid, u.gid) < 0 ||
		           setresuid(u.uid, u.uid, u.uid) < 0) {
			what = "cannot switch user", e = errno, rc = 126;
		} else {
			if (chdir(u.home) < 0 && chdir("/") < 0)
				_exit(1);
			environ = command_env(user, u.home, extra, nextra);
			execvp(argv[0], argv);
			e = errno, rc = e == ENOENT ? 127 : 126;
			what = "cannot run";
		}
		char buf[256];
		int n = rc == SPLQ_E_NOTFOUND
		            ? snprintf(buf, sizeof(buf), "%cuser '%s' does not exist", rc, user)
		            : snprintf(buf, sizeof(buf), "%c%s '%s': %s", rc, what, argv[0],
		                       strerror(e));
		(void)!write(pipefd[1], buf, n > 0 ? (size_t)n : 0);
		_exit(rc);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		*code = 1;
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		return -1;
	}
	char buf[256];
	ssize_t n;
	while ((n = read(pipefd[0], buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	if (n <= 0)
		return pid; /* exec'd */
	buf[n] = 0;
	*code = (unsigned char)buf[0];
	snprintf(msg, msglen, "%s", buf + 1);
	waitpid(pid, NULL, 0);
	return -1;
}

struct client {
	int fd;
	pid_t pid;
};

static void reply(int fd, int type, int value, const char *msg)
{
	struct splq_ctl_reply r = {.type = type, .value = value};
	if (msg)
		snprintf(r.msg, sizeof(r.msg), "%s", msg);
	(void)!send(fd, &r, sizeof(r), MSG_NOSIGNAL);
}

/* One request from a client: spawn its command.  Returns the pid or -1. */
static pid_t serve(int fd, bool *no_wait)
{
	static char buf[SPLQ_CTL_MAX];
	int fds[3] = {-1, -1, -1};
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(fds)))
		memcpy(fds, CMSG_DATA(c), sizeof(fds));
	struct splq_ctl_request req;
	pid_t pid = -1;
	char *strs[130];
	int nstr = 0;
	if ((size_t)n < sizeof(req) || fds[2] < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		goto bad;
	memcpy(&req, buf, sizeof(req));
	if (req.magic != SPLQ_CTL_MAGIC || req.argc < 1 || req.argc > 64 || req.envc > 16)
		goto bad;
	for (char *p = buf + sizeof(req); p < buf + n && nstr < 130; p += strlen(p) + 1)
		strs[nstr++] = p;
	if ((uint32_t)nstr != 1 + req.argc + req.envc)
		goto bad;
	char *argv[65];
	memcpy(argv, strs + 1, req.argc * sizeof(char *));
	argv[req.argc] = NULL;
	int code = 0;
	char msg[256];
	pid =
	    spawn(strs[0], argv, strs + 1 + req.argc, (int)req.envc, fds, &code, msg, sizeof(msg));
	if (pid < 0)
		reply(fd, SPLQ_CTL_FAILED, code, msg);
	else
		reply(fd, SPLQ_CTL_STARTED, pid, NULL);
	*no_wait = req.flags & SPLQ_CTL_NO_WAIT;
	goto out;
bad:
	reply(fd, SPLQ_CTL_FAILED, 1, "malformed request");
out:
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return pid;
}

static void drop_client(struct client *cl, int *n, int i)
{
	close(cl[i].fd);
	cl[i] = cl[--*n];
}

/* Pid 1: the event loop. */
static int init_main(int control, const char *user, char **cmd)
{
	sigset_t set;
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (control >= 0)
		fcntl(control, F_SETFD, FD_CLOEXEC);
	pid_t main_pid = 0;
	if (cmd) {
		int code = 0;
		char msg[256];
		int nenv = 0;
		while (environ && environ[nenv])
			nenv++;
		main_pid = spawn(user, cmd, environ, nenv, NULL, &code, msg, sizeof(msg));
		if (main_pid < 0) {
			fprintf(stderr, "splq: %s\n", msg);
			return code;
		}
	}
	struct client cl[MAX_CLIENTS];
	int ncl = 0;
	bool stopping = false;
	for (;;) {
		struct pollfd pfd[MAX_CLIENTS + 2];
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = stopping ? -1 : control, .events = POLLIN};
		for (int i = 0; i < ncl; i++)
			pfd[2 + i] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
		if (poll(pfd, 2 + ncl, -1) < 0)
			continue;
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				int status;
				pid_t pid;
				while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
					if (pid == main_pid)
						return splq_exit_code(status);
					for (int i = 0; i < ncl; i++)
						if (cl[i].pid == pid) {
							reply(cl[i].fd, SPLQ_CTL_EXITED,
							      splq_exit_code(status), NULL);
							drop_client(cl, &ncl, i);
							break;
						}
				}
				if (stopping && pid < 0 && errno == ECHILD)
					return 0;
			} else if (main_pid > 0) {
				kill(main_pid, (int)si.ssi_signo);
			} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT ||
			           si.ssi_signo == SIGPWR) {
				stopping = true;
				kill(-1, SIGTERM);
				kill(-1, SIGCONT);
				if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
					return 0;
			}
		}
		if (pfd[1].revents && ncl < MAX_CLIENTS) {
			int fd = accept4(control, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				cl[ncl++] = (struct client){.fd = fd};
		}
		for (int i = ncl - 1; i >= 0; i--) {
			if (!pfd[2 + i].revents || pfd[2 + i].fd != cl[i].fd)
				continue;
			if (cl[i].pid == 0) {
				bool no_wait = false;
				pid_t pid = serve(cl[i].fd, &no_wait);
				if (pid < 0 || no_wait)
					drop_client(cl, &ncl, i);
				else
					cl[i].pid = pid;
				continue;
			}
			struct splq_ctl_reply m;
			ssize_t n = recv(cl[i].fd, &m, sizeof(m), 0);
			if (n == sizeof(m) && m.type == SPLQ_CTL_SIGNAL && m.value > 0 &&
			    m.value < 65)
				kill(cl[i].pid, m.value);
			else if (n <= 0) { /* the caller went away: hang up */
				kill(cl[i].pid, SIGHUP);
				drop_client(cl, &ncl, i);
			}
		}
	}
}

int main(int argc, char **argv)
{
	if ((argc == 6 || argc == 8) && strcmp(argv[1], "--supervise") == 0)
		return splq_supervise(argv[2], argv[3], (pid_t)number(argv[4]),
		                      (unsigned)number(argv[5]), argc == 8 ? argv[6] : NULL,
		                      argc == 8 ? argv[7] : NULL);
	/* Nothing in the qube may ptrace its pid 1 (which holds the control
	 * socket) or read its memory. */
	prctl(PR_SET_DUMPABLE, 0);
	int control = -1;
	const char *user = NULL;
	char **cmd = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			control = (int)number(argv[++i]);
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--") == 0 && user && i + 1 < argc) {
			cmd = argv + i + 1;
			break;
		} else {
			fprintf(stderr, "usage: splq-init --control FD [--user NAME -- CMD...]\n");
			return 2;
		}
	}
	return init_main(control, user, cmd);
}
