/* splq native: the supervisor-to-be and pid 1 of a starting qube (spawn.h). */
#include "spawn.h"

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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"
#include "caps.h"
#include "runtime.h"
#include "seccomp.h"
#include "supervise.h"
#include "volume.h"

/* What the supervisor-to-be and pid 1 tell the splq that starts them
 * when they fail; EOF on the pipe means both exec'd. */
struct report {
	int code;
	char msg[SPLQ_ERROR_MAX];
};

static void report_error(int fd, const struct splq_error *err)
{
	struct report r = {.code = err->code ? err->code : SPLQ_E_INTERNAL};
	snprintf(r.msg, sizeof(r.msg), "%s", err->msg);
	(void)!write(fd, &r, sizeof(r));
}

int splq_spawn_reports(int fd, struct splq_error *err)
{
	struct report r;
	int failed = 0;
	for (;;) {
		ssize_t n = read(fd, &r, sizeof(r));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (n != sizeof(r))
			continue;
		if (r.code && !failed) {
			r.msg[sizeof(r.msg) - 1] = 0;
			failed = splq_fail(err, r.code, "%s", r.msg);
		}
	}
	return failed;
}

char *splq_spawn_beside(const char *what, struct splq_error *err)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "readlink /proc/self/exe");
		return NULL;
	}
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	const char *const where[] = {"%s/%s", "%s/../libexec/splq/%s"};
	for (size_t i = 0; i < 2; i++) {
		char *path = splq_strdup_printf(where[i], exe, what);
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	splq_fail(err, SPLQ_E_INTERNAL, "%s is missing beside %s", what, exe);
	return NULL;
}

int splq_spawn_init_binary(struct splq_error *err)
{
	cleanup_free char *path = splq_spawn_beside("splq-init", err);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (path && fd < 0)
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", path);
	return fd;
}

/* Become root of the qube for good: its user namespace's root, with the
 * reduced capabilities and the seccomp filter.  Everything started in the
 * qube descends from this. */
static int become_qube_root(int userns_fd, const void *prog, size_t len, struct splq_error *err)
{
	static const gid_t root_group = 0;
	if (setns(userns_fd, CLONE_NEWUSER) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "join the qube's user namespace");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(1, &root_group) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "become root of the qube");
	if (splq_caps_reduce(err) < 0)
		return -1;
	return splq_seccomp_load(prog, len, err);
}

static int lo_up(struct splq_error *err)
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "read the flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "bring up lo");
	return 0;
}


/* The control socket, bound on the host before the qube's root is
 * entered (control.h). */
static int control_listen(struct splq_backend *b, const char *name, struct splq_error *err)
{
	struct sockaddr_un addr;
	cleanup_close int dirfd = -1;
	if (splq_rt_control_addr(b, name, &addr, &dirfd, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socket");
	cleanup_free char *path = splq_rt_file(b, name, "control");
	mode_t old = umask(0077);
	int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (r < 0 || listen(fd, 64) < 0) {
		close(fd);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "listen on %s", path);
	}
	return fd;
}

/* In pid 1, still host root: the qube's qrexec socket, to the supervisor. */
static int give_qrexec_socket(struct start_plan *p, struct splq_error *err)
{
	cleanup_close int fd = splq_rootfs_qrexec(p->fs.stage, err);
	if (fd < 0)
		return -1;
	char one = 1;
	if (splq_send_fds(p->qx[1], &one, 1, &fd, 1, 0) != 1)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "hand over the qrexec socket");
	splq_close_fd(&p->qx[1]);
	return 0;
}

/* In the supervisor: the socket pid 1 made, or -1 if it died first. */
static int take_qrexec_socket(struct start_plan *p)
{
	splq_close_fd(&p->qx[1]);
	char one;
	int fd = -1, n = 0;
	ssize_t r;
	while ((r = splq_recv_fds(p->qx[0], &one, 1, &fd, 1, &n, 0)) < 0 && errno == EINTR)
		;
	splq_close_fd(&p->qx[0]);
	return r == 1 && n == 1 ? fd : -1; /* a failed recv closed what came */
}

/* The qube has halted: its life lock and the lease of its uid range go
 * with every descriptor but the splq one, and this process becomes the
 * splq that removes the disposable (`splq discard`), off its caller's
 * time. */
static void discard(int splq_fd, const char *name)
{
	syscall(SYS_close_range, 3, splq_fd - 1, 0);
	syscall(SYS_close_range, splq_fd + 1, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	char *argv[] = {"splq", "discard", (char *)name, NULL};
	syscall(SYS_execveat, splq_fd, "", argv, environ, AT_EMPTY_PATH);
}

/* Pid 1 of the qube: never returns. */
static void qube_init(struct splq_backend *b, struct start_plan *p)
{
	struct splq_error err = {0};
	const struct splq_vm_config *cfg = p->cfg;
	int control = -1;
	/* a network qube whose uplink is a network namespace of the host's
	 * lives in it */
	if (p->net.netns_fd >= 0 && setns(p->net.netns_fd, CLONE_NEWNET) < 0) {
		splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "enter the uplink's network namespace");
		goto fail;
	}
	if (splq_cgroup_enter_thread(&p->cg, &err) < 0)
		goto fail;
	if (p->pin && sched_setaffinity(0, sizeof(p->cpus), &p->cpus) < 0) {
		splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "pin '%s' to CPUs %s", cfg->name,
		                p->cpulist);
		goto fail;
	}
	if (unshare(CLONE_NEWCGROUP) < 0) {
		splq_fail_errno(&err, SPLQ_E_UNSUPPORTED, errno, "cgroup namespace");
		goto fail;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "make mounts private");
		goto fail;
	}
	if (splq_rootfs_mount(&p->fs, &err) < 0 || give_qrexec_socket(p, &err) < 0)
		goto fail;
	if (sethostname(cfg->name, strlen(cfg->name)) < 0) {
		splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "sethostname");
		goto fail;
	}
	if (lo_up(&err) < 0 || (control = control_listen(b, cfg->name, &err)) < 0 ||
	    splq_rootfs_pivot(p->fs.stage, &err) < 0 ||
	    become_qube_root(p->fs.userns_fd, p->prog, p->prog_len, &err) < 0)
		goto fail;
	splq_rootfs_settle();

	char *argv[] = {"splq-init", "--control", "3", p->once_fd >= 0 ? "--once" : NULL,
	                "6",         NULL};
	char *env[4];
	splq_rt_passed_env(env, 4);
	/* fds: 3 the control socket (kept), 4 splq-init, 5 the report pipe,
	 * 6 a disposable's first connection (kept) */
	/* and 1, 2: the write end of the log pipe (kept) */
	int c = fcntl(control, F_DUPFD_CLOEXEC, 10), i = fcntl(p->init_fd, F_DUPFD_CLOEXEC, 10),
	    r = fcntl(p->report_fd, F_DUPFD_CLOEXEC, 10),
	    o = p->once_fd >= 0 ? fcntl(p->once_fd, F_DUPFD_CLOEXEC, 10) : 0,
	    lo = fcntl(p->log_w, F_DUPFD_CLOEXEC, 10);
	if (c < 0 || i < 0 || r < 0 || o < 0 || lo < 0 || dup3(c, 3, 0) < 0 ||
	    dup3(i, 4, O_CLOEXEC) < 0 || dup3(r, 5, O_CLOEXEC) < 0 ||
	    (p->once_fd >= 0 && dup3(o, 6, 0) < 0) || dup3(lo, 1, 0) < 0 || dup3(lo, 2, 0) < 0) {
		splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "arrange descriptors");
		goto fail;
	}
	p->report_fd = 5;
	syscall(SYS_close_range, p->once_fd >= 0 ? 7 : 6, ~0U, 0);
	syscall(SYS_execveat, 4, "", argv, env, AT_EMPTY_PATH);
	splq_fail_errno(&err, SPLQ_E_INTERNAL, errno, "exec splq-init");
fail:
	report_error(p->report_fd, &err);
	_exit(1);
}

/* pasta (passt), the user-mode uplink of a network qube: in the host's
 * network, it gives the qube's namespace (pid 1's) an interface uplink0
 * with the host's addresses and routes, maps the gateway address to the
 * host's loopback and forwards DNS sent to SPLQ_PASTA_DNS to the host's
 * resolver.  Nothing of the host's is forwarded into the qube.  It dies
 * with the supervisor.  Its pid, or -1 (the qube then has no way out; its
 * log says why). */
static pid_t spawn_pasta(pid_t init)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	/* opened here: pasta drops what it would need to open it itself */
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"pasta", "--config-net", "--runas", "0", "--foreground", "--quiet",
		                "--netns", "/proc/self/fd/3", "--netns-only", "--ns-ifname", "uplink0",
		                "--dns-forward", SPLQ_PASTA_DNS, "-t", "none", "-u", "none", "-T",
		                "none", "-U", "none", NULL};
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(ns, 3) < 0)
			_exit(127);
		syscall(SYS_close_range, 4, ~0U, 0); /* the report pipe above all */
		execvp("pasta", argv);
		_exit(127);
	}
	close(ns);
	return pid;
}

void splq_spawn_supervisor(struct splq_backend *b, struct start_plan *p, int lock_fd, int range_fd)
{
	struct splq_error err = {0};
	const struct splq_vm_config *cfg = p->cfg;
	/* in none of the caller's cgroups (cgroup.h): born into the cgroup2
	 * one, joining the v1 ones here */
	if (splq_cgroup_enter_thread(&p->sup, &err) < 0) {
		report_error(p->report_fd, &err);
		_exit(1);
	}
	/* no descriptor of the caller's, and not in its terminal's session:
	 * nothing of the qube is reached by the caller's terminal signals */
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3 && null >= 0; i++)
		dup2(null, i);
	struct clone_args args = {
	    .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
	             (p->net.netns_fd >= 0 ? 0 : CLONE_NEWNET) |
	             (p->cg.dir_fd >= 0 ? CLONE_INTO_CGROUP : 0),
	    .exit_signal = SIGCHLD,
	    .cgroup = p->cg.dir_fd >= 0 ? (uint64_t)p->cg.dir_fd : 0,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		qube_init(b, p);
	if (pid < 0) {
		splq_fail_errno(&err, SPLQ_E_UNSUPPORTED, errno, "create the namespaces of '%s'",
		                cfg->name);
		report_error(p->report_fd, &err);
		_exit(1);
	}
	/* pasta: the uplink of a network qube, a child of the supervisor that
	 * goes with it (and with the qube) */
	pid_t uplink = strcmp(cfg->net.uplink, "pasta") == 0 ? spawn_pasta(pid) : 0;
	cleanup_free char *initpid = splq_rt_file(b, cfg->name, "init.pid");
	cleanup_free char *suppid = splq_rt_file(b, cfg->name, "supervisor.pid");
	char text[32];
	int len = snprintf(text, sizeof(text), "%d\n", (int)pid);
	if (splq_rt_write(initpid, text, len, &err) < 0)
		report_error(p->report_fd, &err);
	len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (splq_rt_write(suppid, text, len, &err) < 0)
		report_error(p->report_fd, &err);

	/* once pid 1 has made it, after its mounts */
	int qrexec = take_qrexec_socket(p);

	cleanup_free char *dir = splq_rt_dir(b, cfg->name);
	char pidtext[16], timeout[16], fdtext[5][16], uplinktext[16];
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	snprintf(timeout, sizeof(timeout), "%ld", cfg->shutdown_timeout_s);
	cleanup_free char *link = p->commit ? splq_volume_root_link(b->home, cfg->name) : NULL;
	cleanup_free char *target =
	    p->commit ? splq_strdup_printf("roots/%s", strrchr(p->commit, '/') + 1) : NULL;
	/* pid 1 has the log pipe's write end: the supervisor keeps none */
	close(p->log_w);
	/* what the supervisor keeps, from lock_fd on: its life lock, the
	 * lease of its uid range (userns.h), the logs folder, the log pipe's
	 * read end, the qrexec socket and the splq that serves its calls
	 * (unless pid 1 died before it made the socket), a disposable's
	 * OOM report pipe, and the splq that removes a disposable that goes
	 * once halted (discard) */
	int keep[8] = {range_fd, p->log_dir, p->log_r}, nkeep = 3, qx_at = -1, oom_at = -1,
	    ns_at = -1, discard_at = -1;
	if (qrexec >= 0) {
		qx_at = nkeep;
		keep[nkeep++] = qrexec;
		keep[nkeep++] = p->splq_fd;
	}
	if (p->oom_w >= 0) {
		oom_at = nkeep;
		keep[nkeep++] = p->oom_w;
	}
	if (p->net.netns_fd >= 0) {
		ns_at = nkeep;
		keep[nkeep++] = p->net.netns_fd;
	}
	if (p->first && cfg->discard) {
		discard_at = nkeep;
		keep[nkeep++] = p->splq_fd;
	}
	for (int k = 0; k < nkeep; k++)
		if ((keep[k] = fcntl(keep[k], F_DUPFD_CLOEXEC, lock_fd + 1 + nkeep)) < 0)
			_exit(1);
	for (int k = 0; k < nkeep; k++)
		if (dup3(keep[k], lock_fd + 1 + k, 0) < 0)
			_exit(1);
	struct splq_supervise s = {.cgroup = p->cgroup,
	                           .rundir = dir,
	                           .pid = pid,
	                           .timeout = (unsigned)cfg->shutdown_timeout_s,
	                           .link = link,
	                           .target = target,
	                           .name = cfg->name,
	                           .log_dir = lock_fd + 2,
	                           .log_fd = lock_fd + 3,
	                           .oom_fd = oom_at >= 0 ? lock_fd + 1 + oom_at : -1,
	                           .qrexec_fd = qx_at >= 0 ? lock_fd + 1 + qx_at : -1,
	                           .splq_fd = qx_at >= 0 ? lock_fd + 2 + qx_at : -1,
	                           .netns_fd = ns_at >= 0 ? lock_fd + 1 + ns_at : -1,
	                           .forwarding_was = p->net.forwarding_was,
	                           .uplink_pid = uplink > 0 ? uplink : 0};
	const int texts[5] = {s.log_dir, s.log_fd, s.qrexec_fd, s.splq_fd, s.netns_fd};
	for (int k = 0; k < 5; k++)
		snprintf(fdtext[k], sizeof(fdtext[k]), "%d", texts[k]);
	/* 10 fixed, --qrexec FD FD, --commit LINK TARGET, --netns FD WAS,
	 * --uplink PID, NULL */
	char *argv[22] = {"splq-init", "--supervise", p->cgroup, dir, pidtext, timeout,
	                  "--log",     fdtext[0],     (char *)cfg->name, fdtext[1]};
	int argc = 10;
	if (qx_at >= 0) {
		argv[argc++] = "--qrexec";
		argv[argc++] = fdtext[2];
		argv[argc++] = fdtext[3];
	}
	if (uplink > 0) {
		snprintf(uplinktext, sizeof(uplinktext), "%d", (int)uplink);
		argv[argc++] = "--uplink";
		argv[argc++] = uplinktext;
	}
	if (ns_at >= 0) {
		argv[argc++] = "--netns";
		argv[argc++] = fdtext[4];
		argv[argc++] = p->net.forwarding_was;
	}
	if (link) {
		argv[argc++] = "--commit";
		argv[argc++] = link;
		argv[argc++] = target;
	}
	argv[argc] = NULL;
	fcntl(lock_fd, F_SETFD, 0);
	syscall(SYS_close_range, 3, lock_fd - 1, 0);
	/* A disposable's splq waits for this process: it supervises as it
	 * is.  A lasting qube's supervisor becomes the small splq-init. */
	int init_fd = p->first ? -1 : splq_spawn_init_binary(&err);
	syscall(SYS_close_range, lock_fd + 1 + nkeep, ~0U, init_fd >= 0 ? CLOSE_RANGE_CLOEXEC : 0);
	if (init_fd >= 0)
		syscall(SYS_execveat, init_fd, "", argv, environ, AT_EMPTY_PATH);
	int code = splq_supervise(&s);
	if (discard_at >= 0)
		discard(lock_fd + 1 + discard_at, cfg->name);
	_exit(code);
}

