/* splq-init: the two small processes of a running native qube.
 *
 *   splq-init --control FD [--once FD2]
 *                    pid 1 of a qube: reaps orphans and starts the
 *                    commands that `splq run` asks for on the control
 *                    socket FD (control.h).  SIGTERM from the host ends
 *                    every process of the qube, then itself.  With --once
 *                    (a disposable), FD2 is a connection made at birth: the
 *                    qube ends with the exit code of the command asked for
 *                    on it.
 *   splq-init --supervise CGROUP RUNDIR PID TIMEOUT [--commit LINK TARGET]
 *             [--log DIRFD NAME FD] [--qrexec FD SPLQFD]
 *                    outside the qube: waits for its pid 1, then removes its
 *                    cgroup and runtime folder and exits with pid 1's code;
 *                    SIGUSR1 asks for a graceful stop: SIGTERM to pid 1,
 *                    SIGKILL after TIMEOUT seconds; SIGUSR2 kills it now.
 *                    For a TemplateVM, LINK (its root's symlink) then points
 *                    at TARGET, the root generation it worked on.  With
 *                    --log, it writes what comes out of the pipe FD into
 *                    the log of qube NAME in the folder DIRFD (qubelog.h).
 *                    With --qrexec, it serves the qube's qrexec socket FD
 *                    with the splq binary SPLQFD (supervise.h).
 *
 * Pid 1 never blocks on anything the qube controls: a command is forked
 * and its start reported through a pipe that the event loop watches, the
 * devpts and /dev/null it hands out were opened before anything in the
 * qube ran, and signals from inside the qube are ignored.
 *
 * Static and small, so that a running qube costs little beyond its own
 * processes.  splq starts it; it is not meant to be run by hand. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../lib/native/cgroup.h"
#include "../lib/native/control.h"
#include "../lib/native/supervise.h"
#include "../lib/util.h"
#include "initlog.h"

#define MAX_CLIENTS 128
#define MAX_BG      128 /* --no-wait commands whose end is logged */

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
	char shell[256];
};

/* A file of the qube's /etc, read by the command's child only: the qube
 * may have made it anything, so a FIFO or device reads as empty. */
static FILE *open_etc(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static int lookup_user(const char *name, struct user *u)
{
	FILE *f = open_etc("/etc/passwd");
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
		snprintf(u->shell, sizeof(u->shell), "%s", fields[6][0] ? fields[6] : "/bin/sh");
		found = true;
	}
	fclose(f);
	if (!found)
		return -1;
	u->groups[0] = u->gid;
	u->ngroups = 1;
	FILE *g = open_etc("/etc/group");
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
static char **command_env(const struct user *u, const char *user, char **extra, int nextra)
{
	static char *env[32];
	int n = 0;
	char *s;
	if (asprintf(&s, "HOME=%s", u->home) > 0)
		env[n++] = s;
	if (asprintf(&s, "USER=%s", user) > 0)
		env[n++] = s;
	if (asprintf(&s, "LOGNAME=%s", user) > 0)
		env[n++] = s;
	if (asprintf(&s, "SHELL=%s", u->shell) > 0)
		env[n++] = s;
	/* and splq's own helpers (qrexec-client-vm, ...: rootfs.h) */
	env[n++] = strcmp(user, "root") == 0 ? "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/"
	                                       "bin:/sbin:/bin:/run/splq/lib/bin"
	                                     : "PATH=/usr/local/bin:/usr/bin:/bin:/run/splq/lib/bin";
	for (int i = 0; i < nextra && n < 31; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	return env;
}

/* What one request asks for. */
struct job {
	const char *user;
	char **argv; /* NULL: the user's login shell; a service: its one name */
	char **env;
	int nenv;
	const char *workdir; /* NULL: the user's home */
	int stdio[3];        /* the command's stdin, stdout, stderr */
	bool tty;     /* stdio[0] is the slave of a pty: make it the ctty */
	bool service; /* argv[0] is a qrexec service, SERVICE+ARG */
};

/* Where a qrexec service is looked for, in Qubes' order, then among
 * splq's own (rootfs.h): SERVICE+ARG in every one of them first, then
 * SERVICE. */
static const char *const service_dirs[] = {"/run/qubes-rpc", "/usr/local/etc/qubes-rpc",
                                           "/etc/qubes-rpc", "/run/splq/lib/rpc"};

/* Qubes' TCP services: a service file that is a symlink to /dev/tcp...
 * names an address, not a program.  splq's helper connects to it, run as
 * `splq-tcp-connect LINK ARG` (src/qube/tcp.h). */
#define TCP_LINK   "/dev/tcp"
#define TCP_HELPER "/run/splq/lib/bin/splq-qube"

/* The program of service full (SERVICE+ARG) in path; *arg its argument
 * ("" for none); for a TCP service, *tcp is set and path holds the
 * link's target.  0; 127 when there is none; 125 when one is there but
 * cannot be looked at.  A dangling symlink is none, as in Qubes. */
static int find_service(const char *full, char *path, size_t max, const char **arg, bool *tcp)
{
	const char *plus = strchr(full, '+');
	*arg = plus ? plus + 1 : "";
	*tcp = false;
	char name[2][256];
	size_t base = plus ? (size_t)(plus - full) : strlen(full);
	if (base == 0 || base >= sizeof(name[1]))
		return 127;
	snprintf(name[1], sizeof(name[1]), "%.*s", (int)base, full);
	int n = snprintf(name[0], sizeof(name[0]), "%s%s", full, plus ? "" : "+");
	for (int pass = n < (int)sizeof(name[0]) ? 0 : 1; pass < 2; pass++) {
		for (size_t d = 0; d < sizeof(service_dirs) / sizeof(service_dirs[0]); d++) {
			struct stat st;
			snprintf(path, max, "%s/%s", service_dirs[d], name[pass]);
			if (lstat(path, &st) < 0) {
				if (errno == ENOENT || errno == ENOTDIR)
					continue;
				return 125;
			}
			if (!S_ISLNK(st.st_mode))
				return 0;
			char to[256];
			ssize_t len = readlink(path, to, sizeof(to) - 1);
			if (len < 0)
				return 125;
			to[len] = 0;
			if (strncmp(to, TCP_LINK, strlen(TCP_LINK)) == 0) {
				snprintf(path, max, "%s", to);
				*tcp = true;
				return 0;
			}
			if (stat(path, &st) == 0)
				return 0;
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return 125;
		}
	}
	return 127;
}

/* In the child: become the user and exec.  On failure, write the code and
 * the reason to report and exit. */
static void child(const struct job *j, int report)
{
	/* a fresh start: no signal ignored that splq's caller ignored (a
	 * background job's SIGINT, say), none blocked */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (j->tty && ioctl(j->stdio[0], TIOCSCTTY, 0) < 0)
		_exit(1);
	for (int i = 0; i < 3; i++)
		if (dup2(j->stdio[i], i) < 0)
			_exit(1);
	struct user u = {0};
	int e = 0, rc = 1;
	const char *what = "", *prog = j->argv ? j->argv[0] : "", *arg = NULL;
	char found[PATH_MAX];
	bool tcp = false;
	if (j->service && (rc = find_service(prog, found, sizeof(found), &arg, &tcp)) != 0) {
		char buf[320];
		int n = snprintf(buf, sizeof(buf), "%c%s '%s'", rc,
		                 rc == 127 ? "no such service" : "cannot look up the service", prog);
		(void)!write(report, buf, n > 0 ? (size_t)n : 0);
		_exit(rc);
	}
	if (lookup_user(j->user, &u) < 0) {
		rc = SPLQ_E_NOTFOUND;
	} else if (setgroups(u.ngroups, u.groups) < 0 || setresgid(u.gid, u.gid, u.gid) < 0 ||
	           setresuid(u.uid, u.uid, u.uid) < 0) {
		what = "cannot switch user", e = errno, rc = 126;
	} else {
		if (j->workdir && chdir(j->workdir) < 0) {
			char buf[320];
			int n = snprintf(buf, sizeof(buf), "%ccannot change to directory '%s': %s",
			                 126, j->workdir, strerror(errno));
			(void)!write(report, buf, n > 0 ? (size_t)n : 0);
			_exit(126);
		}
		if (!j->workdir && chdir(u.home) < 0 && chdir("/") < 0)
			_exit(1);
		environ = command_env(&u, j->user, j->env, j->nenv);
		char *login[2] = {NULL, NULL}, dash[260];
		char **argv = j->argv;
		if (!argv) { /* a login shell: argv[0] is "-" and its base name */
			const char *base = strrchr(u.shell, '/');
			snprintf(dash, sizeof(dash), "-%s", base ? base + 1 : u.shell);
			login[0] = dash;
			argv = login;
			prog = u.shell;
		}
		/* a service gets its argument, if any, as argv[1], as in Qubes */
		char *service[3] = {found, arg && *arg ? (char *)arg : NULL, NULL};
		char *tcp_argv[4] = {"splq-tcp-connect", found, arg ? (char *)arg : "", NULL};
		if (j->service && tcp) {
			prog = TCP_HELPER;
			execv(prog, tcp_argv);
		} else if (j->service) {
			prog = found;
			execv(found, service);
		} else if (j->argv) {
			execvp(prog, argv);
		} else {
			execv(prog, argv);
		}
		e = errno, rc = e == ENOENT ? 127 : 126;
		what = "cannot run";
	}
	char buf[256];
	int n = rc == SPLQ_E_NOTFOUND
	            ? snprintf(buf, sizeof(buf), "%cuser '%s' does not exist", rc, j->user)
	            : snprintf(buf, sizeof(buf), "%c%s '%s': %s", rc, what, prog, strerror(e));
	(void)!write(report, buf, n > 0 ? (size_t)n : 0);
	_exit(rc);
}

/* Fork the command.  Returns its pid, and in *report the read end of a
 * pipe that gives EOF once it exec'd or the code and reason why it did
 * not; -1 if the fork failed (msg says why). */
static pid_t spawn(const struct job *j, int *report, char *msg, size_t msglen)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child(j, pipefd[1]);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		return -1;
	}
	*report = pipefd[0];
	return pid;
}

/* One connection from the host.  state: a request is awaited, the
 * command is starting (its report pipe open), or running. */
enum state { AWAITING, STARTING, RUNNING };

struct client {
	int fd;
	enum state state;
	pid_t pid;
	int report; /* STARTING: the report pipe */
	int master; /* STARTING with a pty: its master, for STARTED */
	bool no_wait;
	bool failed;   /* FAILED was sent: the child's exit is not news */
	char what[80]; /* --no-wait: the command, for the log */
};

/* A --no-wait command that runs: its end goes into the log. */
struct bg {
	pid_t pid;
	char what[80];
};

/* What pid 1 holds from its start. */
struct init {
	int sfd, control, null, pts;
	struct initlog log; /* the qube's log (initlog.h) */
	struct client cl[MAX_CLIENTS];
	int ncl;
	struct bg bg[MAX_BG];
	int nbg;
	int once;       /* the --once connection until its request came */
	pid_t once_pid; /* the command asked for on it */
	bool stopping;
};

/* argv joined with spaces, cut to fit out (for the log). */
static void describe(char *out, size_t max, char **argv)
{
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; argv && argv[i] && o + 1 < max; i++)
		o += (size_t)snprintf(out + o, max - o, "%s%s", i ? " " : "", argv[i]);
	if (!argv)
		snprintf(out, max, "(login shell)");
}

static void reply_fd(int fd, int type, int value, const char *msg, int pass)
{
	struct splq_ctl_reply r = {.type = type, .value = value};
	if (msg)
		snprintf(r.msg, sizeof(r.msg), "%s", msg);
	(void)!splq_send_fds(fd, &r, sizeof(r), &pass, pass >= 0 ? 1 : 0, MSG_DONTWAIT);
}

static void reply(int fd, int type, int value, const char *msg)
{
	reply_fd(fd, type, value, msg, -1);
}

/* A pseudo-terminal of the qube's devpts, rows x cols: the master, and in
 * *slave the other side. */
static int open_pty(struct init *in, unsigned rows, unsigned cols, int *slave, char *msg,
                    size_t msglen)
{
	int m =
	    in->pts < 0 ? -1 : openat(in->pts, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
	int unlock = 0;
	if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 ||
	    (*slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		snprintf(msg, msglen, "cannot allocate a pseudo-terminal: %s", strerror(errno));
		if (m >= 0)
			close(m);
		return -1;
	}
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	if (rows && cols)
		ioctl(m, TIOCSWINSZ, &ws);
	return m;
}

/* A request on client c: start its command. */
static void serve(struct init *in, struct client *c)
{
	static char buf[SPLQ_CTL_MAX];
	int fds[3] = {-1, -1, -1}, slave = -1;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	c->state = RUNNING; /* whatever happens, one request only */
	c->failed = true;
	if (n <= 0)
		return;
	buf[n] = 0;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int nfds = 0;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		nfds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(cm), (nfds > 3 ? 3 : nfds) * sizeof(int));
	}
	struct splq_ctl_request req;
	char *strs[1 + 64 + 16];
	int nstr = 0;
	char msg[256] = "malformed request";
	int code = 1;
	if ((size_t)n < sizeof(req) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		goto fail;
	memcpy(&req, buf, sizeof(req));
	bool tty = req.flags & SPLQ_CTL_TTY, no_wait = req.flags & SPLQ_CTL_NO_WAIT,
	     login = req.flags & SPLQ_CTL_LOGIN, service = req.flags & SPLQ_CTL_SERVICE,
	     workdir = req.flags & SPLQ_CTL_WORKDIR;
	if (req.magic != SPLQ_CTL_MAGIC || req.argc > 64 || req.envc > 16 ||
	    (req.argc == 0) != login || (tty && no_wait) || nfds != (tty || no_wait ? 0 : 3) ||
	    (service && (req.argc != 1 || tty || no_wait || workdir)))
		goto fail;
	for (char *p = buf + sizeof(req); p < buf + n && nstr < 1 + 64 + 16; p += strlen(p) + 1)
		strs[nstr++] = p;
	if ((uint32_t)nstr != 1 + req.argc + req.envc + (workdir ? 1 : 0))
		goto fail;
	char *argv[65];
	memcpy(argv, strs + 1, req.argc * sizeof(char *));
	argv[req.argc] = NULL;
	struct job j = {.user = strs[0],
	                .argv = login ? NULL : argv,
	                .env = strs + 1 + req.argc,
	                .nenv = (int)req.envc,
	                .workdir = workdir ? strs[nstr - 1] : NULL,
	                .tty = tty,
	                .service = service};
	int master = -1;
	if (tty) {
		if ((master = open_pty(in, req.rows, req.cols, &slave, msg, sizeof(msg))) < 0)
			goto fail;
		j.stdio[0] = j.stdio[1] = j.stdio[2] = slave;
	} else if (no_wait) {
		j.stdio[0] = in->null;
		j.stdio[1] = j.stdio[2] = in->log.log >= 0 ? in->log.collect_w : in->null;
		describe(c->what, sizeof(c->what), j.argv);
		/* before it can write a byte */
		initlog_note(&in->log, "starting '%s'", c->what);
	} else {
		memcpy(j.stdio, fds, sizeof(fds));
	}
	c->pid = spawn(&j, &c->report, msg, sizeof(msg));
	if (c->pid < 0) {
		if (master >= 0)
			close(master);
		goto fail;
	}
	c->state = STARTING;
	c->failed = false;
	c->master = master;
	c->no_wait = no_wait;
	goto out;
fail:
	reply(c->fd, SPLQ_CTL_FAILED, code, msg);
out:
	if (slave >= 0)
		close(slave);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The start of c's command is known: the report pipe is readable or its
 * child exited.  FAILED, or STARTED (with the pty master). */
static void started(struct init *in, struct client *c)
{
	char buf[256];
	ssize_t n = read(c->report, buf, sizeof(buf) - 1);
	if (n < 0 && errno == EAGAIN)
		return; /* not yet */
	close(c->report);
	c->report = -1;
	if (n > 0) {
		buf[n] = 0;
		reply(c->fd, SPLQ_CTL_FAILED, (unsigned char)buf[0], buf + 1);
		c->failed = true;
		if (c->no_wait)
			initlog_note(&in->log, "'%s' did not start: %s", c->what, buf + 1);
	} else {
		reply_fd(c->fd, SPLQ_CTL_STARTED, c->pid, NULL, c->master);
		if (c->no_wait) {
			if (in->nbg < MAX_BG) {
				in->bg[in->nbg].pid = c->pid;
				memcpy(in->bg[in->nbg++].what, c->what, sizeof(c->what));
			}
		}
	}
	if (c->master >= 0)
		close(c->master);
	c->master = -1;
	c->state = RUNNING;
}

static void drop_client(struct init *in, int i)
{
	struct client *c = &in->cl[i];
	close(c->fd);
	if (c->report >= 0)
		close(c->report);
	if (c->master >= 0)
		close(c->master);
	in->cl[i] = in->cl[--in->ncl];
}

static void add_client(struct init *in, int fd)
{
	if (in->ncl >= MAX_CLIENTS) {
		close(fd);
		return;
	}
	in->cl[in->ncl++] = (struct client){.fd = fd, .report = -1, .master = -1};
}

/* Reap; returns -1, or the exit code with which pid 1 ends (the --once
 * command has exited, or the stop is complete). */
static int reap(struct init *in)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < in->ncl; i++) {
			struct client *c = &in->cl[i];
			if (c->pid != pid)
				continue;
			if (c->state == STARTING)
				started(in, c);
			if (!c->failed && !c->no_wait)
				reply(c->fd, SPLQ_CTL_EXITED, splq_exit_code(status), NULL);
			drop_client(in, i);
			break;
		}
		/* after the clients: one may have just been started() */
		for (int i = 0; i < in->nbg; i++) {
			if (in->bg[i].pid != pid)
				continue;
			if (WIFSIGNALED(status))
				initlog_note(&in->log, "'%s' (pid %d) was killed by signal %d",
				             in->bg[i].what, (int)pid, WTERMSIG(status));
			else
				initlog_note(&in->log, "'%s' (pid %d) exited with code %d",
				             in->bg[i].what, (int)pid, splq_exit_code(status));
			in->bg[i] = in->bg[--in->nbg];
			break;
		}
		if (pid == in->once_pid)
			return splq_exit_code(status);
	}
	if (in->stopping && pid < 0 && errno == ECHILD)
		return 0;
	return -1;
}

/* A message from the host on a client with a command. */
static void client_message(struct init *in, int i)
{
	struct client *c = &in->cl[i];
	struct splq_ctl_reply m;
	ssize_t n = recv(c->fd, &m, sizeof(m), MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n == sizeof(m) && m.type == SPLQ_CTL_SIGNAL && m.value > 0 && m.value < 65) {
		if (c->pid > 0 && kill(-c->pid, m.value) < 0)
			kill(c->pid, m.value);
		return;
	}
	if (n > 0)
		return; /* not a message of the protocol: ignored */
	/* the caller went away: hang the command up (one not yet started
	 * is killed, as no one waits for it) */
	if (c->pid > 0)
		kill(-c->pid, c->state == STARTING ? SIGKILL : SIGHUP);
	c->failed = true;
	drop_client(in, i);
}

static int init_main(struct init *in)
{
	for (;;) {
		struct pollfd pfd[4 + 2 * MAX_CLIENTS];
		int np = 4;
		pfd[0] = (struct pollfd){.fd = in->sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = in->stopping ? -1 : in->control, .events = POLLIN};
		initlog_poll(&in->log, pfd + 2);
		for (int i = 0; i < in->ncl; i++) {
			pfd[np++] = (struct pollfd){.fd = in->cl[i].fd, .events = POLLIN};
			pfd[np++] = (struct pollfd){.fd = in->cl[i].report, .events = POLLIN};
		}
		if (poll(pfd, np, -1) < 0)
			continue;
		if (pfd[2].revents || pfd[3].revents)
			initlog_pump(&in->log);
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			if (read(in->sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				int r = reap(in);
				if (r >= 0)
					return r;
				continue; /* the client list changed */
			}
			/* Only the host (outside this pid namespace: pid 0)
			 * may stop the qube. */
			bool host = si.ssi_pid == 0 && si.ssi_code == SI_USER;
			if (host && (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT ||
			             si.ssi_signo == SIGPWR)) {
				in->stopping = true;
				initlog_note(&in->log, "stopping: signal %d from the host",
				             (int)si.ssi_signo);
				kill(-1, SIGTERM);
				kill(-1, SIGCONT);
				int r = reap(in);
				if (r >= 0)
					return r;
			}
		}
		if (pfd[1].revents) {
			int fd = accept4(in->control, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0)
				add_client(in, fd);
		}
		for (int i = in->ncl - 1; i >= 0; i--) {
			struct client *c = &in->cl[i];
			short ev = pfd[4 + 2 * i].fd == c->fd ? pfd[4 + 2 * i].revents : 0;
			short rev = pfd[5 + 2 * i].fd == c->report && c->report >= 0
			                ? pfd[5 + 2 * i].revents
			                : 0;
			if (c->state == STARTING && rev) {
				started(in, c);
				if (c->no_wait && !c->failed) {
					c->pid = 0; /* forgotten: an orphan to reap */
					drop_client(in, i);
					continue;
				}
			}
			if (!ev)
				continue;
			if (c->state == AWAITING) {
				bool once = c->fd == in->once;
				serve(in, c);
				if (once && c->state != AWAITING) {
					in->once = -1;
					in->once_pid = c->failed ? 0 : c->pid;
					if (c->failed)
						return 127; /* nothing to run */
				}
				if (c->failed)
					drop_client(in, i);
			} else {
				client_message(in, i);
			}
		}
		if (in->once >= 0) {
			bool there = false;
			for (int i = 0; i < in->ncl; i++)
				there = there || in->cl[i].fd == in->once;
			if (!there) /* its splq went away before asking */
				return 1;
		}
	}
}

/* splq-init --supervise CGROUP RUNDIR PID TIMEOUT [--commit LINK TARGET]
 *            [--log DIRFD NAME FD] [--qrexec FD SPLQFD] [--netns FD WAS] [--uplink PID] */
static int supervise_main(int argc, char **argv)
{
	struct splq_supervise s = {.log_dir = -1,
	                           .log_fd = -1,
	                           .oom_fd = -1,
	                           .qrexec_fd = -1,
	                           .splq_fd = -1,
	                           .netns_fd = -1};
	if (argc < 6) {
		fprintf(stderr, "splq-init: --supervise needs CGROUP RUNDIR PID TIMEOUT\n");
		return 2;
	}
	s.cgroup = argv[2];
	s.rundir = argv[3];
	s.pid = (pid_t)number(argv[4]);
	s.timeout = (unsigned)number(argv[5]);
	for (int i = 6; i < argc; i++) {
		if (strcmp(argv[i], "--commit") == 0 && i + 2 < argc) {
			s.link = argv[i + 1];
			s.target = argv[i + 2];
			i += 2;
		} else if (strcmp(argv[i], "--qrexec") == 0 && i + 2 < argc) {
			s.qrexec_fd = (int)number(argv[i + 1]);
			s.splq_fd = (int)number(argv[i + 2]);
			i += 2;
		} else if (strcmp(argv[i], "--uplink") == 0 && i + 1 < argc) {
			s.uplink_pid = (pid_t)number(argv[i + 1]);
			i += 1;
		} else if (strcmp(argv[i], "--netns") == 0 && i + 2 < argc) {
			s.netns_fd = (int)number(argv[i + 1]);
			s.forwarding_was = argv[i + 2];
			i += 2;
		} else if (strcmp(argv[i], "--log") == 0 && i + 3 < argc) {
			s.log_dir = (int)number(argv[i + 1]);
			s.name = argv[i + 2];
			s.log_fd = (int)number(argv[i + 3]);
			i += 3;
		} else {
			fprintf(stderr, "splq-init: unknown --supervise argument '%s'\n", argv[i]);
			return 2;
		}
	}
	return splq_supervise(&s);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--supervise") == 0)
		return supervise_main(argc, argv);
	/* Nothing in the qube may ptrace its pid 1 (which holds the control
	 * socket) or read its memory. */
	prctl(PR_SET_DUMPABLE, 0);
	static struct init in = {.control = -1, .once = -1};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
			in.control = (int)number(argv[++i]);
		} else if (strcmp(argv[i], "--once") == 0 && i + 1 < argc) {
			in.once = (int)number(argv[++i]);
		} else {
			fprintf(stderr, "usage: splq-init --control FD [--once FD]\n");
			return 2;
		}
	}
	if (in.control < 0) {
		fprintf(stderr, "usage: splq-init --control FD [--once FD]\n");
		return 2;
	}
	sigset_t set;
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	in.sfd = signalfd(-1, &set, SFD_CLOEXEC);
	fcntl(in.control, F_SETFD, FD_CLOEXEC);
	fcntl(in.control, F_SETFL, O_NONBLOCK);
	/* opened before anything of the qube runs: what the qube later does
	 * to /dev cannot change what these are */
	in.null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	in.pts = open("/dev/pts", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	initlog_open(&in.log, 1); /* stdout and stderr are its pipe */
	if (in.once >= 0) {
		fcntl(in.once, F_SETFD, FD_CLOEXEC);
		fcntl(in.once, F_SETFL, O_NONBLOCK);
		add_client(&in, in.once);
	}
	int r = init_main(&in);
	initlog_finish(&in.log);
	return r;
}
