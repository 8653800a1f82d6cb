/* splq native: starting a qube.
 *
 * splq forks the supervisor-to-be into cgroups of its own (cgroup.h), out
 * of its caller's; it clones the qube's pid 1 into new pid, mount, uts,
 * ipc and net namespaces, born into the qube's cgroup.  Pid 1 (still host
 * root) joins the v1 cgroup hierarchies, is pinned to its CPUs (cpus.h),
 * joins a new cgroup namespace, mounts the root (rootfs.c), sets the
 * hostname, brings up lo, binds the control socket (control.h), pivots,
 * joins the qube's user namespace (ids 0..65535 = the qube's host range),
 * drops capabilities, loads the seccomp filter, settles the root
 * (rootfs.h) and execs splq-init.  The namespaces other than the user
 * namespace belong to the host, so root in a qube can change nothing of
 * them.  The supervisor records the pids and becomes
 * splq-init --supervise. */
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
#include "cgroup_view.h"
#include "control.h"
#include "cpus.h"
#include "image.h"
#include "qubelog.h"
#include "rootfs.h"
#include "rootmnt.h"
#include "runtime.h"
#include "seccomp.h"
#include "session.h"
#include "supervise.h"
#include "userns.h"
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

/* Read reports until EOF; the first error wins. */
static int read_reports(int fd, struct splq_error *err)
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

/* What splq brings with it: splq-init and the in-qube helpers (qube/)
 * live beside the splq binary, or in ../libexec/splq.  The path of what,
 * malloc'ed, or NULL. */
static char *find_beside(const char *what, struct splq_error *err)
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

static int open_init_binary(struct splq_error *err)
{
	cleanup_free char *path = find_beside("splq-init", err);
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

/* Everything a start prepares before its processes exist. */
struct start_plan {
	const struct splq_vm_config *cfg;
	const struct splq_exec *first;
	struct splq_rootfs fs;
	struct splq_cgroup_entry cg;
	struct splq_cgroup_entry sup; /* the supervisor's cgroups */
	struct splq_cgroup_view view; /* what the qube sees at /sys/fs/cgroup */
	bool pin;                     /* vcpus below the CPUs it may have: */
	cpu_set_t cpus;               /* pid 1's affinity (cpus.h) */
	char cpulist[2048];           /* the same as a CPU list */
	void *prog;
	size_t prog_len;
	int init_fd;
	int report_fd; /* write end */
	int once_fd;   /* a disposable's first connection, pid 1's end */
	char *cgroup;  /* the leaf of its cgroups (splq_rt_cgroup) */
	char *commit;  /* TemplateVM: the generation its supervisor makes current */
	char *prev;    /* TemplateVM: the generation current before */
	/* the qube's log (qubelog.h): its folder, and a pipe whose write end
	 * becomes pid 1's stdout and stderr and whose read end the
	 * supervisor reads */
	int log_dir;
	int log_r, log_w;
	int oom_w; /* a disposable's: its supervisor tells its OOM kills here */
	/* qrexec (qrexec/wire.h): pid 1, still host root, binds the qube's
	 * socket and hands it to the supervisor over qx; splq_fd is the splq
	 * that serves each call */
	int qx[2];
	int splq_fd;
	char *helpers; /* splq's in-qube helpers (rootfs.h) */
};

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
	return r == 1 && n == 1 ? fd : (n == 1 ? (close(fd), -1) : -1);
}

/* Pid 1 of the qube: never returns. */
static void qube_init(struct splq_backend *b, struct start_plan *p)
{
	struct splq_error err = {0};
	const struct splq_vm_config *cfg = p->cfg;
	int control = -1;
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

/* The supervisor-to-be: clones pid 1, records the pids, becomes
 * splq-init --supervise.  Never returns. */
static void qube_supervisor(struct splq_backend *b, struct start_plan *p, int lock_fd, int range_fd)
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
	    .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
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
	char pidtext[16], timeout[16], fdtext[4][16];
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
	 * (unless pid 1 died before it made the socket), and a disposable's
	 * OOM report pipe */
	int keep[6] = {range_fd, p->log_dir, p->log_r}, nkeep = 3, qx_at = -1, oom_at = -1;
	if (qrexec >= 0) {
		qx_at = nkeep;
		keep[nkeep++] = qrexec;
		keep[nkeep++] = p->splq_fd;
	}
	if (p->oom_w >= 0) {
		oom_at = nkeep;
		keep[nkeep++] = p->oom_w;
	}
	for (int k = 0; k < nkeep; k++)
		if ((keep[k] = fcntl(keep[k], F_DUPFD_CLOEXEC, lock_fd + 1 + nkeep)) < 0)
			_exit(1);
	for (int k = 0; k < nkeep; k++)
		if (dup3(keep[k], lock_fd + 1 + k, 0) < 0)
			_exit(1);
	for (int k = 0; k < 4; k++)
		snprintf(fdtext[k], sizeof(fdtext[k]), "%d", lock_fd + 2 + (k < 2 ? k : qx_at + k - 3));
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
	                           .splq_fd = qx_at >= 0 ? lock_fd + 2 + qx_at : -1};
	char *argv[16] = {"splq-init", "--supervise", p->cgroup, dir, pidtext, timeout,
	                  "--log",     fdtext[0],     (char *)cfg->name, fdtext[1]};
	int argc = 10;
	if (qx_at >= 0) {
		argv[argc++] = "--qrexec";
		argv[argc++] = fdtext[2];
		argv[argc++] = fdtext[3];
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
	int init_fd = p->first ? -1 : open_init_binary(&err);
	syscall(SYS_close_range, lock_fd + 1 + nkeep, ~0U, init_fd >= 0 ? CLOSE_RANGE_CLOEXEC : 0);
	if (init_fd >= 0)
		syscall(SYS_execveat, init_fd, "", argv, environ, AT_EMPTY_PATH);
	_exit(splq_supervise(&s));
}

/* The seccomp program: one per variant (io_uring refused or allowed),
 * built once per splq binary and kept in SPLQ_RUN (building it costs more
 * than loading). */
static int seccomp_program(struct splq_backend *b, struct start_plan *p, struct splq_error *err)
{
	struct stat st;
	if (stat("/proc/self/exe", &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "stat /proc/self/exe");
	unsigned flags = p->cfg->allow_io_uring ? SPLQ_SECCOMP_IO_URING : 0;
	cleanup_free char *path =
	    splq_strdup_printf("%s/seccomp-%lx-%lx-%x.bpf", b->run, (unsigned long)st.st_ino,
	                       (unsigned long)st.st_mtime, flags);
	size_t len = 0;
	struct splq_error ignored;
	if (splq_read_file(path, (char **)&p->prog, &len, &ignored) == 0 && len && len % 8 == 0) {
		p->prog_len = len / 8;
		return 0;
	}
	free(p->prog);
	p->prog = NULL;
	if (splq_seccomp_build(flags, &p->prog, &p->prog_len, err) < 0)
		return -1;
	splq_rt_write(path, p->prog, p->prog_len * 8, &ignored);
	return 0;
}

/* An AppVM's or a disposable's root: the read-only mount of its
 * template's current generation (rootmnt.h), made here by the first start
 * that needs it, under the template's lock taken exclusively; a shared
 * lock is enough to find it made.  *lock stays held for the caller. */
static int reader_root(struct splq_backend *b, const struct splq_vm_config *cfg, char **mnt,
                       char **image, int *lock, struct splq_error *err)
{
	for (int mode = LOCK_SH;; mode = LOCK_EX) {
		*lock = splq_rt_lock(b, cfg->root_of, mode, err);
		if (*lock < 0)
			return -1;
		free(*image);
		free(*mnt);
		*mnt = NULL;
		*image = splq_volume_root(b->home, cfg);
		if (splq_volume_root_check(*image, cfg->root_of, err) < 0)
			return -1;
		const char *name = strrchr(*image, '/') + 1;
		const char *dot = strrchr(name, '.');
		cleanup_free char *gen = strndup(name, dot ? (size_t)(dot - name) : strlen(name));
		*mnt = splq_rootmnt_path(b->run, cfg->root_of, gen);
		if (splq_rootmnt_ready(*mnt, *image))
			return 0;
		if (mode == LOCK_EX)
			return splq_rootmnt_make(*mnt, *image, err);
		close(*lock);
		*lock = -1;
	}
}

/* The root this start mounts: a TemplateVM works on a new generation of
 * its root (committed by its supervisor when it stops); a StandaloneVM on
 * its own; everything else reads the template's current one.  *image is
 * the image, *root (readers only) its mount.  The image is recorded in
 * rootsrc, under the template's lock, so that no generation a running
 * qube uses is removed. */
static int pick_root(struct splq_backend *b, struct start_plan *p, char **root, char **image,
                     struct splq_error *err)
{
	const struct splq_vm_config *cfg = p->cfg;
	cleanup_close int lock = -1;
	if (cfg->klass == SPLQ_CLASS_TEMPLATEVM) {
		/* the start's op lock is the template's lock, held exclusively */
		char **used;
		int n;
		cleanup_free char *link = splq_volume_root_link(b->home, cfg->name);
		p->prev = realpath(link, NULL);
		splq_rt_roots_in_use(b, &used, &n);
		int r = splq_volume_template_next(b->home, b->run, cfg->name, used, n, image, err);
		splq_strv_free(used, n);
		if (r < 0)
			return -1;
		p->commit = splq_xstrdup(*image);
	} else if (cfg->klass == SPLQ_CLASS_STANDALONEVM) {
		*image = splq_volume_root(b->home, cfg);
		if (splq_volume_root_check(*image, cfg->name, err) < 0)
			return -1;
	} else if (reader_root(b, cfg, root, image, &lock, err) < 0) {
		return -1;
	}
	cleanup_free char *rootsrc = splq_rt_file(b, cfg->name, "rootsrc");
	return splq_rt_write(rootsrc, *image, strlen(*image), err);
}

/* The private volume this start mounts: the qube's own image; a
 * disposable's copy of its dvm's (in the runtime folder, gone at stop),
 * or none (an empty tmpfs).  Opened here, attached by pid 1. */
static int open_private(struct splq_backend *b, struct start_plan *p, char **paths,
                        struct splq_error *err)
{
	const struct splq_vm_config *cfg = p->cfg;
	struct splq_rootfs *fs = &p->fs;
	fs->private_size = cfg->private_size;
	if (cfg->klass == SPLQ_CLASS_DISPVM && !cfg->private_of)
		return 0;
	if (cfg->klass != SPLQ_CLASS_DISPVM) {
		paths[4] = splq_volume_private(b->home, cfg->name);
	} else {
		/* a copy of the dvm's image; of a running dvm, what a crash
		 * would leave after what it wrote so far is flushed */
		cleanup_free char *src = splq_volume_private(b->home, cfg->private_of);
		struct splq_error ignored;
		int home = splq_rt_locked(b, cfg->private_of)
		               ? splq_rt_open_home(b, cfg->private_of, &ignored)
		               : -1;
		if (home >= 0) {
			syncfs(home);
			close(home);
		}
		paths[4] = splq_rt_file(b, cfg->name, "private.img");
		if (splq_image_copy(src, paths[4], err) < 0)
			return -1;
	}
	cleanup_free char *what = splq_strdup_printf("the private volume of '%s'", cfg->name);
	fs->private_fd = splq_image_open(paths[4], what, err);
	return fs->private_fd < 0 ? -1 : 0;
}

/* The CPUs of a qube with vcpus below the CPUs it may have (cpus.h): those
 * of its cpuset parent where the host has a cpuset controller, else those
 * of its caller.  Sets p->pin, p->cpus and, with a cpuset, lim->cpus. */
static int pick_cpus(struct start_plan *p, struct splq_cgroup_limits *lim)
{
	cpu_set_t from;
	char list[2048];
	bool cpuset = splq_cgroup_cpus(list, sizeof(list)) > 0 &&
	              splq_cpus_parse(list, &from) == 0 && CPU_COUNT(&from) > 0;
	if (!cpuset && sched_getaffinity(0, sizeof(from), &from) < 0)
		return -1;
	if (p->cfg->vcpus <= 0 || p->cfg->vcpus >= CPU_COUNT(&from))
		return 0;
	if (splq_cpus_pick(&from, p->cfg->vcpus, (unsigned long)p->cfg->slot, &p->cpus) < 0 ||
	    splq_cpus_format(&p->cpus, p->cpulist, sizeof(p->cpulist)) < 0)
		return -1;
	p->pin = true;
	lim->cpus = cpuset ? p->cpulist : NULL;
	return 0;
}

/* The runtime folder's layers and the mount plan. */
static int prepare(struct splq_backend *b, struct start_plan *p, char **paths,
                   struct splq_error *err)
{
	const struct splq_vm_config *cfg = p->cfg;
	long base = splq_slot_base(cfg->slot);
	/* paths: 0 stage, 1 the runtime folder, 4 the private image, 5 the
	 * root's read-only mount, 6 the root's image */
	paths[0] = splq_rt_file(b, cfg->name, "root");
	paths[1] = splq_rt_dir(b, cfg->name);
	if (pick_root(b, p, &paths[5], &paths[6], err) < 0)
		return -1;
	struct splq_rootfs *fs = &p->fs;
	fs->stage = paths[0];
	fs->rundir = paths[1];
	fs->root_src = paths[5];
	fs->root_rw = cfg->klass == SPLQ_CLASS_TEMPLATEVM || cfg->klass == SPLQ_CLASS_STANDALONEVM;
	fs->host_usr = cfg->root_base && strcmp(cfg->root_base, "host") == 0;
	fs->base = base;
	fs->volatile_size = cfg->volatile_size;
	if (splq_volume_mkdir(paths[0], 0755, 0, err) < 0)
		return -1;
	if (fs->root_rw) {
		cleanup_free char *what = splq_strdup_printf("the root volume of '%s'", cfg->name);
		fs->root_fd = splq_image_open(paths[6], what, err);
		if (fs->root_fd < 0)
			return -1;
	} else {
		/* the upper layer's top takes the owner and mode of the
		 * lower's, shifted into the qube's range */
		struct stat st;
		if (stat(paths[5], &st) < 0)
			return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "volume %s", paths[5]);
		fs->upper_mode = st.st_mode & 07777;
		fs->upper_uid = st.st_uid + base;
		fs->upper_gid = st.st_gid + base;
	}
	if (open_private(b, p, paths, err) < 0)
		return -1;
	if (splq_userns_open(0, base, SPLQ_UID_RANGE, &fs->userns_fd, err) < 0 ||
	    seccomp_program(b, p, err) < 0)
		return -1;
	struct splq_cgroup_limits lim = {
	    .memory_mib = cfg->memory_mib, .max_mib = cfg->maxmem_mib, .vcpus = cfg->vcpus};
	if (pick_cpus(p, &lim) < 0)
		lim.cpus = NULL;
	if (splq_cgroup_create(p->cgroup, &lim, err) < 0 ||
	    splq_cgroup_open_entry(p->cgroup, &p->cg, err) < 0 ||
	    splq_cgroup_view(p->cgroup, &p->view, err) < 0)
		return -1;
	fs->cgroups = &p->view;
	fs->cpus_online = p->pin ? p->cpulist : NULL;
	/* /run: a fifth of its memory, as systemd sizes it, within its
	 * volatile volume */
	fs->run_size = (unsigned long long)cfg->memory_mib * 1048576ULL / 5;
	if (fs->run_size > fs->volatile_size)
		fs->run_size = fs->volatile_size;
	p->init_fd = open_init_binary(err);
	if (p->init_fd < 0 || !(p->helpers = find_beside("qube", err)))
		return -1;
	fs->helpers = p->helpers;
	/* the splq that serves the qube's calls is this one (supervise.h) */
	if ((p->splq_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open /proc/self/exe");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->qx) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socketpair");
	return 0;
}

/* The log pipe (see start_plan) and, with oom_r, a disposable's OOM
 * report pipe: its read end in *oom_r. */
static int log_pipes(struct start_plan *p, int *oom_r, struct splq_error *err)
{
	int fd[2];
	if (pipe2(fd, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	p->log_r = fd[0];
	p->log_w = fd[1];
	if (oom_r) {
		if (pipe2(fd, O_CLOEXEC) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
		*oom_r = fd[0];
		p->oom_w = fd[1];
	}
	return 0;
}

static void block_stop_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

int splq_native_start(struct splq_backend *b, const struct splq_vm_config *cfg,
                      const struct splq_exec *first, struct splq_error *err)
{
	cleanup_close int oplock = splq_rt_op_lock(b, cfg->name, err);
	if (oplock < 0)
		return -1;
	cleanup_free char *parent = splq_strdup_printf("%s/qubes", b->run);
	if (splq_mkdir_p(parent, 0700, err) < 0)
		return -1;
	cleanup_free char *lockpath = splq_rt_life_lock(b, cfg->name);
	cleanup_close int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", lockpath);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		/* a supervisor: of a running qube, or of one still cleaning up
		 * after its stop, which the start waits for */
		struct splq_error ignored;
		int init = splq_rt_open_init(b, cfg->name, &ignored);
		if (init >= 0 && syscall(SYS_pidfd_send_signal, init, 0, NULL, 0) == 0) {
			close(init);
			return splq_fail(err, SPLQ_E_STATE, "qube '%s' is already running",
			                 cfg->name);
		}
		if (init >= 0)
			close(init);
		while (flock(lock, LOCK_EX) < 0)
			if (errno != EINTR)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "lock %s",
				                       lockpath);
	}
	cleanup_free char *dir = splq_rt_dir(b, cfg->name);
	cleanup_free char *cgroup = splq_rt_cgroup(b, cfg->name);
	struct splq_error ignored;
	/* leftovers of a supervisor that did not finish, or that no one
	 * waited for */
	splq_cgroup_destroy(cgroup, 2000, &ignored);
	splq_cgroup_supervisor_remove(cgroup, 2000, &ignored);
	if (splq_rm_rf(dir, err) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", dir);

	/* the uid range: leased host-wide for the qube's life, so that no two
	 * live qubes of any stores share one */
	struct splq_vm_config leased = *cfg;
	cleanup_close int range = splq_userns_lease(cfg->slot, &leased.slot, err);
	if (range < 0)
		return -1;
	struct start_plan p = {.cfg = &leased,
	                       .first = first,
	                       .init_fd = -1,
	                       .once_fd = -1,
	                       .cgroup = cgroup,
	                       .cg = {.dir_fd = -1},
	                       .sup = {.dir_fd = -1},
	                       .log_dir = -1,
	                       .log_r = -1,
	                       .log_w = -1,
	                       .oom_w = -1,
	                       .qx = {-1, -1},
	                       .splq_fd = -1};
	int once[2] = {-1, -1}, oom_r = -1;
	p.fs.userns_fd = -1;
	p.fs.private_fd = -1;
	p.fs.root_fd = -1;
	char *paths[7] = {0};
	int pipefd[2] = {-1, -1};
	sigset_t old;
	int r = -1;
	/* A lasting qube's supervisor leaves the caller's cgroups for its own
	 * (cgroup.h); a disposable's stays with the splq that waits for it
	 * and ends with it. */
	if (prepare(b, &p, paths, err) < 0 ||
	    (!first && splq_cgroup_supervisor_entry(cgroup, &p.sup, err) < 0))
		goto out;
	if (pipe2(pipefd, O_CLOEXEC) < 0 || log_pipes(&p, first ? &oom_r : NULL, err) < 0) {
		if (pipefd[0] < 0)
			splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
		goto out;
	}
	if ((p.log_dir = splq_qubelog_dir(b->home, err)) < 0)
		goto out;
	p.report_fd = pipefd[1];
	if (first) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, once) < 0) {
			splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socketpair");
			goto out;
		}
		p.once_fd = once[1];
		block_stop_signals(&old);
	}
	/* born into its cgroup2 one where there is one */
	struct clone_args args = {
	    .flags = p.sup.dir_fd >= 0 ? CLONE_INTO_CGROUP : 0,
	    .exit_signal = SIGCHLD,
	    .cgroup = p.sup.dir_fd >= 0 ? (uint64_t)p.sup.dir_fd : 0,
	};
	pid_t sup = p.sup.dir_fd >= 0 ? (pid_t)syscall(SYS_clone3, &args, sizeof(args)) : fork();
	if (sup == 0)
		qube_supervisor(b, &p, lock, range);
	if (sup < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fork");
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	/* only the supervisor and its pid 1 hand the qrexec socket over */
	splq_close_fd(&p.qx[0]);
	splq_close_fd(&p.qx[1]);
	if (read_reports(pipefd[0], err) < 0) {
		kill(sup, SIGUSR2);    /* pid 1, if it was made, dies */
		waitpid(sup, NULL, 0); /* and its supervisor cleans up */
		goto out;
	}
	if (first) {
		struct splq_native *n = (struct splq_native *)b;
		if (!n->first)
			n->first = splq_xmalloc(sizeof(*n->first));
		if (splq_session_send(n->first, once[0], cfg->name, first, cfg->qrexec_timeout_s,
		                      err) < 0) {
			kill(sup, SIGUSR2);
			waitpid(sup, NULL, 0);
			goto out;
		}
		once[0] = -1; /* the session's */
		snprintf(n->first_name, sizeof(n->first_name), "%s", cfg->name);
		n->first_sup = sup;
		if (n->first_oom >= 0)
			close(n->first_oom);
		n->first_oom = splq_steal_fd(&oom_r);
		n->first_info = first->info;
	}
	r = 0;
out:
	if (r < 0 && first)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		splq_cgroup_destroy(cgroup, 2000, &ignored);
		splq_cgroup_supervisor_remove(cgroup, 2000, &ignored);
		splq_rm_rf(dir, &ignored);
	}
	if (r < 0 && p.commit) {
		/* the new generation goes; its supervisor may have made it
		 * current on its way out */
		cleanup_free char *link = splq_volume_root_link(b->home, cfg->name);
		cleanup_free char *now = realpath(link, NULL);
		if (p.prev && now && strcmp(now, p.commit) == 0)
			splq_volume_template_commit(b->home, cfg->name, p.prev, &ignored);
		unlink(p.commit);
	}
	for (int i = 0; i < 7; i++)
		free(paths[i]);
	splq_cgroup_entry_close(&p.cg);
	splq_cgroup_entry_close(&p.sup);
	for (int i = 0; i < 2; i++) {
		if (pipefd[i] >= 0)
			close(pipefd[i]);
		if (once[i] >= 0)
			close(once[i]);
	}
	if (p.log_r >= 0)
		close(p.log_r);
	if (p.log_w >= 0)
		close(p.log_w);
	if (p.log_dir >= 0)
		close(p.log_dir);
	if (p.oom_w >= 0)
		close(p.oom_w);
	if (oom_r >= 0)
		close(oom_r);
	if (p.fs.userns_fd >= 0)
		close(p.fs.userns_fd);
	if (p.fs.private_fd >= 0)
		close(p.fs.private_fd);
	if (p.fs.root_fd >= 0)
		close(p.fs.root_fd);
	if (p.init_fd >= 0)
		close(p.init_fd);
	free(p.helpers);
	splq_close_fd(&p.splq_fd);
	splq_close_fd(&p.qx[0]);
	splq_close_fd(&p.qx[1]);
	free(p.prog);
	free(p.commit);
	free(p.prev);
	return r;
}
