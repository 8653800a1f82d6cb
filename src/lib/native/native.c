/* splq native: the backend that builds qubes out of kernel isolation.
 *
 * A running qube is two processes: its pid 1 (splq-init, inside every
 * namespace of the qube) and a supervisor outside (supervise.h) that waits
 * for it and then removes its cgroup and runtime folder (runtime.h).
 * start.c starts one; commands run in it through its pid 1's control
 * socket (control.h): each is forked by pid 1, so it is born inside every
 * namespace, cgroup and seccomp filter of the qube. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../backend.h"
#include "../store.h"
#include "../tree.h"
#include "../util.h"
#include "caps.h"
#include "cgroup.h"
#include "control.h"
#include "rootfs.h"
#include "runtime.h"
#include "seccomp.h"
#include "userns.h"
#include "volume.h"

static enum splq_power native_state(struct splq_backend *b, const char *name)
{
	if (!splq_rt_locked(b, name))
		return SPLQ_HALTED;
	return splq_rt_pid(b, name, "init.pid") > 0 ? SPLQ_RUNNING : SPLQ_TRANSIENT;
}

/* Send a run request: user, argv and the passed environment, with the
 * command's stdin, stdout and stderr. */
static int send_request(int sock, const struct splq_exec *x, struct splq_error *err)
{
	char *env[4];
	struct splq_ctl_request req = {.magic = SPLQ_CTL_MAGIC,
	                               .flags = x->no_wait ? SPLQ_CTL_NO_WAIT : 0,
	                               .envc = (uint32_t)splq_rt_passed_env(env, 4)};
	const char *strs[1 + 64 + 4];
	int n = 0;
	strs[n++] = x->user ? x->user : "user";
	for (; x->argv[req.argc]; req.argc++) {
		if (req.argc >= 64)
			return splq_fail(err, SPLQ_E_USAGE, "too many arguments (at most 64)");
		strs[n++] = x->argv[req.argc];
	}
	for (uint32_t i = 0; i < req.envc; i++)
		strs[n++] = env[i];
	cleanup_free char *buf = splq_xmalloc(SPLQ_CTL_MAX);
	size_t len = sizeof(req);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;
		if (len + l > SPLQ_CTL_MAX)
			return splq_fail(err, SPLQ_E_USAGE, "the command is longer than 64 KiB");
		memcpy(buf + len, strs[i], l);
		len += l;
	}
	memcpy(buf, &req, sizeof(req));
	char cbuf[CMSG_SPACE(sizeof(x->fds))] = {0};
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(x->fds));
	memcpy(CMSG_DATA(c), x->fds, sizeof(x->fds));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		return splq_fail_errno(err, SPLQ_E_STATE, errno, "send the command");
	return 0;
}

static int native_run(struct splq_backend *b, const struct splq_vm_config *cfg,
                      const struct splq_exec *x, int *status, struct splq_error *err)
{
	struct sockaddr_un addr;
	cleanup_close int dirfd = -1;
	if (splq_rt_control_addr(b, cfg->name, &addr, &dirfd, err) < 0)
		return -1;
	cleanup_close int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socket");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", cfg->name);
	if (send_request(sock, x, err) < 0)
		return -1;

	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	int r = 1; /* 1: waiting */
	while (r == 1) {
		struct pollfd fds[2] = {{.fd = sock, .events = POLLIN},
		                        {.fd = sfd, .events = POLLIN}};
		if (poll(fds, 2, -1) < 0)
			continue;
		if (fds[1].revents) {
			struct signalfd_siginfo si;
			struct splq_ctl_reply m = {.type = SPLQ_CTL_SIGNAL};
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				m.value = (int32_t)si.ssi_signo;
				(void)!send(sock, &m, sizeof(m), MSG_NOSIGNAL);
			}
		}
		if (!fds[0].revents)
			continue;
		struct splq_ctl_reply m;
		ssize_t n = recv(sock, &m, sizeof(m), 0);
		if (n != sizeof(m)) { /* the qube went away with the command */
			*status = 128 + SIGKILL;
			r = 0;
		} else if (m.type == SPLQ_CTL_STARTED && x->no_wait) {
			*status = 0;
			r = 0;
		} else if (m.type == SPLQ_CTL_EXITED) {
			*status = m.value;
			r = 0;
		} else if (m.type == SPLQ_CTL_FAILED) {
			m.msg[sizeof(m.msg) - 1] = 0;
			int code = m.value == 127               ? SPLQ_E_NOCMD
			           : m.value == 126             ? SPLQ_E_CANNOT_EXEC
			           : m.value == SPLQ_E_NOTFOUND ? SPLQ_E_NOTFOUND
			                                        : SPLQ_E_INTERNAL;
			r = splq_fail(err, code, "qube '%s': %s", cfg->name, m.msg);
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int native_wait(struct splq_backend *b, const char *name, long timeout_ms, int *status,
                       int *signo, struct splq_error *err)
{
	struct splq_native *n = (struct splq_native *)b;
	*signo = 0;
	/* Not the pid files: a quick command's qube may be gone already. */
	pid_t sup = strcmp(n->first_name, name) == 0 ? n->first_sup : -1;
	if (sup <= 0)
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' was not started with a command here",
		                 name);
	n->first_sup = -1;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	cleanup_close int pfd = (int)syscall(SYS_pidfd_open, sup, 0);
	long long deadline = timeout_ms >= 0 ? splq_now_ms() + timeout_ms : -1;
	bool killed = false, timed_out = false;
	while (pfd >= 0) {
		struct pollfd fds[2] = {{.fd = pfd, .events = POLLIN},
		                        {.fd = sfd, .events = POLLIN}};
		int wait = -1;
		if (deadline >= 0 && !killed) {
			long long left = deadline - splq_now_ms();
			wait = left > 0 ? (int)left : 0;
		}
		int ready = poll(fds, sfd >= 0 ? 2 : 1, wait);
		if (ready < 0 && errno == EINTR)
			continue;
		if (fds[0].revents)
			break;
		if (ready > 0 && fds[1].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && !*signo)
				*signo = (int)si.ssi_signo;
		} else if (ready == 0) {
			timed_out = true;
		}
		if ((*signo || timed_out) && !killed) {
			kill(sup, SIGUSR2); /* its supervisor kills pid 1 */
			killed = true;
		}
	}
	int st = 0;
	while (waitpid(sup, &st, 0) < 0 && errno == EINTR)
		;
	splq_rt_wait_halted(b, name);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (*signo)
		return splq_fail(err, 128 + *signo, "interrupted by signal %d", *signo);
	if (timed_out)
		return splq_fail(err, SPLQ_E_TIMEOUT, "timed out after %ld ms", timeout_ms);
	*status = splq_exit_code(st);
	return 0;
}

static int native_shutdown(struct splq_backend *b, const struct splq_vm_config *cfg, bool force,
                           bool wait, struct splq_error *err)
{
	cleanup_close int oplock = splq_rt_op_lock(b, cfg->name, err);
	if (oplock < 0)
		return -1;
	cleanup_close int init = splq_rt_open_init(b, cfg->name, err);
	if (init < 0)
		return -1;
	pid_t sup = splq_rt_pid(b, cfg->name, "supervisor.pid");
	if (force || sup <= 0) {
		syscall(SYS_pidfd_send_signal, init, SIGKILL, NULL, 0);
	} else if (kill(sup, SIGUSR1) < 0) {
		return splq_fail_errno(err, SPLQ_E_STATE, errno,
		                       "cannot reach the supervisor of '%s'", cfg->name);
	}
	if (wait)
		splq_rt_wait_halted(b, cfg->name);
	return 0;
}

static int native_kill(struct splq_backend *b, const char *name, struct splq_error *err)
{
	cleanup_close int oplock = splq_rt_op_lock(b, name, err);
	if (oplock < 0)
		return -1;
	cleanup_close int init = splq_rt_open_init(b, name, err);
	if (init < 0)
		return -1;
	if (syscall(SYS_pidfd_send_signal, init, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "kill '%s'", name);
	splq_rt_wait_halted(b, name);
	return 0;
}

static int native_volumes_create(struct splq_backend *b, const struct splq_vm_config *cfg,
                                 struct splq_error *err)
{
	return splq_volume_create(b->home, cfg, err);
}

static int native_volumes_clone(struct splq_backend *b, const struct splq_vm_config *src,
                                const struct splq_vm_config *dst, struct splq_error *err)
{
	return splq_volume_clone(b->home, src, dst, err);
}

static int native_volumes_remove(struct splq_backend *b, const struct splq_vm_config *cfg,
                                 struct splq_error *err)
{
	cleanup_free char *dir = splq_rt_dir(b, cfg->name);
	if (splq_rt_locked(b, cfg->name))
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is running", cfg->name);
	struct splq_error ignored;
	splq_cgroup_destroy(cfg->name, 2000, &ignored);
	/* the volumes go as far as they can even if the runtime folder cannot */
	int r = splq_rm_rf(dir, err);
	if (splq_volume_remove(b->home, cfg, r < 0 ? &ignored : err) < 0 || r < 0)
		return -1;
	/* the qube is gone: no start or stop can want its locks */
	cleanup_free char *lock = splq_strdup_printf("%s/locks/%s", b->run, cfg->name);
	cleanup_free char *life = splq_rt_life_lock(b, cfg->name);
	unlink(lock);
	unlink(life);
	return 0;
}

static void native_free(struct splq_backend *b)
{
	if (!b)
		return;
	free(b->home);
	free(b->run);
	free(b);
}

static const struct splq_backend_ops native_ops = {
    .name = "native",
    .volumes_create = native_volumes_create,
    .volumes_clone = native_volumes_clone,
    .volumes_remove = native_volumes_remove,
    .state = native_state,
    .start = splq_native_start,
    .run = native_run,
    .wait = native_wait,
    .shutdown = native_shutdown,
    .kill = native_kill,
    .free = native_free,
};

int splq_backend_native_new(const char *home, const char *run, struct splq_backend **out,
                            struct splq_error *err)
{
	struct splq_native *n = splq_xcalloc(1, sizeof(*n));
	n->base.ops = &native_ops;
	n->base.home = splq_xstrdup(home);
	n->base.run = splq_xstrdup(run);
	n->first_sup = -1;
	*out = &n->base;
	return 0;
}

const char *splq_power_name(enum splq_power p)
{
	static const char *const names[] = {"Halted", "Running", "Transient", "Halting", "NA"};
	return p <= SPLQ_POWER_NA ? names[p] : "NA";
}
