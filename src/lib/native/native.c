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
#include <linux/openat2.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
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
#include "image.h"
#include "network.h"
#include "oom.h"
#include "qubelog.h"
#include "rootfs.h"
#include "rootmnt.h"
#include "runtime.h"
#include "seccomp.h"
#include "session.h"
#include "usage.h"
#include "userns.h"
#include "volume.h"

/* How long a freeze or a thaw may take before it counts as failed */
#define PAUSE_TIMEOUT_MS 5000
/* the mark of a frozen qube, in its runtime folder */
#define PAUSED_FILE "paused"

/* A qube whose life lock is held: Running once its pid 1 is made (its
 * pid file is written whole, by a rename: a look is enough), Transient
 * before, Paused while frozen. */
static enum splq_power locked_state(struct splq_backend *b, const char *name)
{
	char file[SPLQ_NAME_MAX + 16];
	int dir = splq_rt_dirfd(b, SPLQ_RT_QUBES);
	snprintf(file, sizeof(file), "%s/init.pid", name);
	if (faccessat(dir, file, F_OK, 0) < 0)
		return SPLQ_TRANSIENT;
	snprintf(file, sizeof(file), "%s/" PAUSED_FILE, name);
	return faccessat(dir, file, F_OK, 0) == 0 ? SPLQ_PAUSED : SPLQ_RUNNING;
}

static enum splq_power native_state(struct splq_backend *b, const char *name)
{
	int life = splq_rt_life(b, name);
	if (life == 0)
		splq_rt_sweep(b, name); /* what a supervisor no one waited for left */
	return life == 1 ? locked_state(b, name) : SPLQ_HALTED;
}

/* Connect to a running qube's pid 1, waiting at most answer_s for a
 * place in its queue. */
static int control_connect(struct splq_backend *b, const struct splq_vm_config *cfg,
                           struct splq_error *err)
{
	struct sockaddr_un addr;
	cleanup_close int dirfd = -1;
	if (splq_rt_control_addr(b, cfg->name, &addr, &dirfd, err) < 0)
		return -1;
	cleanup_close int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "socket");
	long long until = splq_now_ms() + cfg->qrexec_timeout_s * 1000;
	while (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", cfg->name);
		if (splq_now_ms() >= until)
			return splq_fail(err, SPLQ_E_NOANSWER,
			                 "qube '%s' did not answer within %ld s (its "
			                 "qrexec_timeout); 'splq kill %s' stops it",
			                 cfg->name, cfg->qrexec_timeout_s, cfg->name);
		poll(NULL, 0, 5); /* its queue is full */
	}
	return splq_steal_fd(&sock);
}

static int native_run(struct splq_backend *b, const struct splq_vm_config *cfg,
                      const struct splq_exec *x, int *status, struct splq_error *err)
{
	struct splq_session s;
	int signo;
	int sock = control_connect(b, cfg, err);
	if (sock < 0)
		return -1;
	/* the OOM kills so far, to tell whether the command was one (oom.h) */
	cleanup_free char *cgroup = x->info ? splq_rt_cgroup(b, cfg->name) : NULL;
	long long oom = cgroup ? splq_oom_kills(cgroup) : -1;
	if (splq_session_send(&s, sock, cfg->name, x, cfg->qrexec_timeout_s, err) < 0) {
		close(sock);
		return -1;
	}
	int r = splq_session_run(&s, NULL, status, &signo, err);
	if (r == 0 && x->info)
		x->info->pid = s.pid;
	if (r == 0 && oom >= 0 && *status == 128 + SIGKILL)
		x->info->oom = splq_oom_kills(cgroup) > oom;
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
	struct splq_session_end end = {
	    .supervisor = sup, .deadline = timeout_ms >= 0 ? splq_now_ms() + timeout_ms : -1};
	int r = splq_session_run(n->first, &end, status, signo, err);
	/* A disposable that goes by itself: its clean-up and its removal
	 * are not its caller's to wait for, unless the command was killed:
	 * the supervisor's OOM report then says whether for want of memory
	 * (and the wait is the whole of it). */
	if (n->first_discard && r == 0 && !*signo && *status != 128 + SIGKILL) {
		if (n->first_info)
			n->first_info->remover = sup;
		splq_close_fd(&n->first_oom);
		n->first_info = NULL;
		return 0;
	}
	/* the session is over: the qube ends with its command, or was told to */
	if (r < 0 && !*signo && err->code != SPLQ_E_TIMEOUT)
		kill(sup, SIGUSR2);
	while (waitpid(sup, NULL, 0) < 0 && errno == EINTR)
		;
	/* its supervisor told the qube's OOM kills before its cgroup went */
	if (n->first_oom >= 0) {
		char buf[32];
		ssize_t k = read(n->first_oom, buf, sizeof(buf) - 1);
		close(n->first_oom);
		n->first_oom = -1;
		if (k > 0 && r == 0 && n->first_info && *status == 128 + SIGKILL) {
			buf[k] = 0;
			n->first_info->oom = atoll(buf) > 0;
		}
	}
	n->first_info = NULL;
	splq_rt_wait_halted(b, name);
	return r;
}

static bool native_fresh(struct splq_backend *b, const struct splq_vm_config *cfg)
{
	cleanup_free char *rootsrc = splq_rt_file(b, cfg->name, "rootsrc");
	cleanup_free char *used = NULL;
	if (splq_read_file(rootsrc, &used, NULL, NULL) < 0)
		return false;
	cleanup_free char *now = splq_volume_root(b->home, cfg);
	if (strcmp(used, now) != 0)
		return false;
	if (!cfg->private_of)
		return true;
	/* a disposable of a dvm: its snapshot is the one a start would take */
	cleanup_free char *privsrc = splq_rt_file(b, cfg->name, "privsrc");
	cleanup_free char *had = NULL;
	bool stale;
	cleanup_free char *snap = splq_volume_snap_current(b->home, cfg->private_of, &stale);
	return splq_read_file(privsrc, &had, NULL, NULL) == 0 && snap && strcmp(had, snap) == 0 &&
	       (!stale || splq_rt_locked(b, cfg->private_of));
}

/* Freeze or thaw a running qube's processes (cgroup.h), under its op
 * lock: a start, shutdown or kill of it waits meanwhile.  Its runtime
 * folder's PAUSED_FILE says so to state (and goes with the folder when
 * the qube halts); a freeze that does not complete is undone. */
static int pause_locked(struct splq_backend *b, const char *name, bool paused,
                        struct splq_error *err)
{
	if (!splq_rt_locked(b, name))
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	cleanup_free char *cgroup = splq_rt_cgroup(b, name);
	cleanup_free char *mark = splq_rt_file(b, name, PAUSED_FILE);
	if (splq_cgroup_freeze(cgroup, paused, PAUSE_TIMEOUT_MS, err) < 0) {
		if (paused)
			splq_cgroup_freeze(cgroup, false, PAUSE_TIMEOUT_MS, NULL);
		return -1;
	}
	if (!paused) {
		unlink(mark);
		return 0;
	}
	if (splq_rt_write(mark, "", 0, err) < 0) {
		splq_cgroup_freeze(cgroup, false, PAUSE_TIMEOUT_MS, NULL);
		return -1;
	}
	return 0;
}

static int native_usage(struct splq_backend *b, const char *name, struct splq_usage *out,
                        struct splq_error *err)
{
	cleanup_free char *cgroup = splq_rt_cgroup(b, name);
	if (!splq_rt_locked(b, name) || splq_cgroup_usage(cgroup, out) < 0)
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	return 0;
}

static int native_processes(struct splq_backend *b, const char *name, struct splq_process **out,
                            int *n, struct splq_error *err)
{
	cleanup_free char *cgroup = splq_rt_cgroup(b, name);
	if (!splq_rt_locked(b, name) || splq_cgroup_processes(cgroup, out, n) < 0)
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	return 0;
}

static int native_pause(struct splq_backend *b, const char *name, bool paused,
                        struct splq_error *err)
{
	cleanup_close int oplock = splq_rt_op_lock(b, name, err);
	if (oplock < 0)
		return -1;
	return pause_locked(b, name, paused, err);
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
	/* a paused qube takes no signal until it is thawed */
	pause_locked(b, cfg->name, false, NULL);
	pid_t sup = splq_rt_pid(b, cfg->name, "supervisor.pid");
	if (force || sup <= 0) {
		syscall(SYS_pidfd_send_signal, init, SIGKILL, NULL, 0);
	} else if (sigqueue(sup, SIGUSR1,
	                    (union sigval){.sival_int = (int)cfg->shutdown_timeout_s}) < 0) {
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
	if (init < 0 && splq_rt_locked(b, name)) {
		/* its pid 1 has ended: its supervisor is cleaning up */
		splq_rt_wait_halted(b, name);
		return 0;
	}
	if (init < 0)
		return -1;
	pause_locked(b, name, false, NULL);
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
	cleanup_free char *cgroup = splq_rt_cgroup(b, cfg->name);
	splq_cgroup_destroy(cgroup, 2000, &ignored);
	splq_cgroup_supervisor_remove(cgroup, 2000, &ignored);
	if (cfg->klass == SPLQ_CLASS_TEMPLATEVM)
		splq_rootmnt_drop_all(b->run, SPLQ_ROOTMNT_ROOTS, cfg->name);
	splq_rootmnt_drop_all(b->run, SPLQ_ROOTMNT_PRIVATES, cfg->name);
	/* the volumes go as far as they can even if the runtime folder cannot */
	int r = splq_rm_rf(dir, err);
	if (splq_volume_remove(b->home, cfg, r < 0 ? &ignored : err) < 0 || r < 0)
		return -1;
	if (splq_qubelog_remove(b->home, cfg->name, err) < 0)
		return -1;
	/* the qube is gone: no start or stop can want its locks */
	cleanup_free char *lock = splq_strdup_printf("%s/locks/%s", b->run, cfg->name);
	cleanup_free char *life = splq_rt_life_lock(b, cfg->name);
	unlink(lock);
	unlink(life);
	return 0;
}

static long long native_volume_usage(struct splq_backend *b, const struct splq_vm_config *cfg,
                                     int v)
{
	cleanup_free char *path = NULL;
	if (v == 0 &&
	    (cfg->klass == SPLQ_CLASS_TEMPLATEVM || cfg->klass == SPLQ_CLASS_STANDALONEVM))
		path = splq_volume_root(b->home, cfg);
	else if (v == 1 && cfg->klass != SPLQ_CLASS_DISPVM)
		path = splq_volume_private(b->home, cfg->name);
	struct stat st;
	if (!path || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return (long long)st.st_blocks * 512;
}

/* A descriptor of a running qube's root, through its pid 1 (as
 * splq_rt_open_home reaches /home). */
static int open_root(struct splq_backend *b, const char *name, struct splq_error *err)
{
	cleanup_close int pidfd = splq_rt_open_init(b, name, err);
	if (pidfd < 0)
		return -1;
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)splq_rt_pid(b, name, "init.pid"));
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		if (fd >= 0)
			close(fd);
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	}
	return fd;
}

/* Grow the image at path to size bytes: offline unless running; else the
 * running qube's file system (on the loop device its runtime file rec
 * names) grows with it, or at its next start where the kernel cannot. */
static int grow_image(struct splq_backend *b, const struct splq_vm_config *cfg, const char *path,
                      bool running, int vol, unsigned long long size, bool *live,
                      struct splq_error *err)
{
	const char *vname = splq_volume_names[vol];
	cleanup_close int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "the %s volume of '%s' (%s)",
		                       vname, cfg->name, path);
	if ((unsigned long long)st.st_size > size)
		return splq_fail(err, SPLQ_E_SHRINK,
		                 "the %s volume of '%s' is %lld bytes already; it cannot shrink",
		                 vname, cfg->name, (long long)st.st_size);
	if (ftruncate(fd, (off_t)size) < 0)
		return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "grow %s", path);
	if (!running)
		return splq_image_grow_offline(path, err);
	cleanup_free char *file = splq_strdup_printf("%s.loop", vname);
	cleanup_free char *rec = splq_rt_file(b, cfg->name, file);
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct splq_error ignored;
	if (splq_read_file(rec, &text, &len, &ignored) < 0)
		return 0; /* stopped meanwhile: its next start grows it */
	int nr = atoi(text);
	cleanup_close int mnt =
	    vol == 0 ? open_root(b, cfg->name, err) : splq_rt_open_home(b, cfg->name, err);
	if (mnt < 0)
		return err->code == SPLQ_E_STATE && !splq_rt_locked(b, cfg->name) ? 0 : -1;
	char what[64];
	snprintf(what, sizeof(what), "the %s volume of '%s'", vname, cfg->name);
	if (splq_image_grow_live(fd, nr, mnt, size, what, err) < 0)
		/* the file system grows at the qube's next start (start.c) */
		return err->code == SPLQ_E_UNSUPPORTED ? 0 : -1;
	*live = true;
	return 0;
}

/* A halted template's root grows as a new generation, so that qubes
 * reading the current one (through its mount) never see it change. */
static int grow_template_root(struct splq_backend *b, const struct splq_vm_config *cfg,
                              unsigned long long size, bool *live, struct splq_error *err)
{
	char **used;
	int n;
	cleanup_free char *next = NULL;
	splq_rt_in_use(b, "rootsrc", &used, &n);
	int r = splq_volume_template_next(b->home, b->run, cfg->name, used, n, &next, err);
	splq_strv_free(used, n);
	if (r < 0)
		return -1;
	if (grow_image(b, cfg, next, false, 0, size, live, err) < 0 ||
	    splq_volume_template_commit(b->home, cfg->name, next, err) < 0) {
		unlink(next);
		return -1;
	}
	return 0;
}

static int native_volume_grow(struct splq_backend *b, const struct splq_vm_config *cfg, int v,
                              unsigned long long size, bool *live, struct splq_error *err)
{
	*live = false;
	/* of a template: its lock, which its qubes' starts take shared */
	cleanup_close int oplock = splq_rt_op_lock(b, cfg->name, err);
	if (oplock < 0)
		return -1;
	bool running = splq_rt_locked(b, cfg->name);
	if (v == 1) {
		cleanup_free char *path = splq_volume_private(b->home, cfg->name);
		return grow_image(b, cfg, path, running, 1, size, live, err);
	}
	if (v == 0 && cfg->klass == SPLQ_CLASS_STANDALONEVM) {
		cleanup_free char *path = splq_volume_root(b->home, cfg);
		if (splq_volume_root_check(path, cfg->name, err) < 0)
			return -1;
		return grow_image(b, cfg, path, running, 0, size, live, err);
	}
	if (v == 0 && cfg->klass == SPLQ_CLASS_TEMPLATEVM) {
		cleanup_free char *cur = splq_volume_root(b->home, cfg);
		if (splq_volume_root_check(cur, cfg->name, err) < 0)
			return -1;
		if (!running)
			return grow_template_root(b, cfg, size, live, err);
		/* the generation it works on, current when it stops */
		cleanup_free char *rootsrc = splq_rt_file(b, cfg->name, "rootsrc");
		cleanup_free char *next = NULL;
		if (splq_read_file(rootsrc, &next, NULL, err) < 0)
			return -1;
		return grow_image(b, cfg, next, true, 0, size, live, err);
	}
	return 0; /* a tmpfs, made at each start with its size */
}

/* The CPUs splq itself may run on (a cpuset or affinity of the host's
 * own narrows them) and the host's memory. */
static int native_host_resources(struct splq_backend *b, struct splq_host_resources *out,
                                 struct splq_error *err)
{
	cpu_set_t set;
	struct sysinfo si;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "sched_getaffinity");
	if (sysinfo(&si) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "sysinfo");
	out->cpus = CPU_COUNT(&set);
	out->memory_mib = (long)((unsigned long long)si.totalram * si.mem_unit / 1048576);
	return 0;
}

/* Copy what src holds from where it is to its end to fd, filtered. */
static int copy_log(int src, int fd, bool filter, const char *name, struct splq_error *err)
{
	static char buf[65536];
	for (;;) {
		ssize_t n = read(src, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (filter)
			splq_filter_escapes(buf, (size_t)n);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return splq_fail_errno(err, SPLQ_E_NOSPACE, errno,
				                       "cannot write the log of '%s'", name);
			off += w;
		}
	}
}

static int open_log(struct splq_backend *b, const char *file)
{
	cleanup_free char *path = splq_strdup_printf("%s/%s/%s", b->home, SPLQ_QUBELOG_DIR, file);
	return open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
}

/* Is fd no longer the file that file names (the log was rotated)? */
static bool log_moved(struct splq_backend *b, int fd, const char *file)
{
	cleanup_free char *path = splq_strdup_printf("%s/%s/%s", b->home, SPLQ_QUBELOG_DIR, file);
	struct stat a, p;
	if (fstat(fd, &a) < 0 || lstat(path, &p) < 0)
		return true;
	return a.st_ino != p.st_ino || a.st_dev != p.st_dev;
}

static int native_logs(struct splq_backend *b, const char *name, int fd, int filter, bool follow,
                       struct splq_error *err)
{
	bool filt = filter > 0 || (filter < 0 && isatty(fd));
	struct splq_qubelog_names nm;
	splq_qubelog_names(name, &nm);
	/* the rotated part first */
	cleanup_close int prev = open_log(b, nm.prev);
	if (prev >= 0 && copy_log(prev, fd, filt, name, err) < 0)
		return -1;
	cleanup_close int cur = open_log(b, nm.cur);
	if (cur >= 0 && copy_log(cur, fd, filt, name, err) < 0)
		return -1;
	while (follow) {
		/* asked first: once its supervisor is gone, the file holds
		 * everything it will ever get */
		bool running = splq_rt_locked(b, name);
		if (cur >= 0 && copy_log(cur, fd, filt, name, err) < 0)
			return -1;
		if (cur < 0 || log_moved(b, cur, nm.cur)) {
			/* rotated: the rest of the old file, then the new one */
			if (cur >= 0 && copy_log(cur, fd, filt, name, err) < 0)
				return -1;
			if (cur >= 0)
				close(cur);
			cur = open_log(b, nm.cur);
			if (cur >= 0 && copy_log(cur, fd, filt, name, err) < 0)
				return -1;
		}
		if (!running)
			break;
		poll(NULL, 0, 100);
	}
	return 0;
}

static void native_free(struct splq_backend *b)
{
	if (!b)
		return;
	if (((struct splq_native *)b)->first_oom >= 0)
		close(((struct splq_native *)b)->first_oom);
	for (int i = 0; i < 2; i++)
		if (((struct splq_native *)b)->dirs[i] >= 0)
			close(((struct splq_native *)b)->dirs[i]);
	free(((struct splq_native *)b)->first);
	free(b->home);
	free(b->run);
	free(b);
}

static const struct splq_backend_ops native_ops = {
    .name = "native",
    .host_resources = native_host_resources,
    .volumes_create = native_volumes_create,
    .volumes_clone = native_volumes_clone,
    .volumes_remove = native_volumes_remove,
    .volume_usage = native_volume_usage,
    .volume_grow = native_volume_grow,
    .state = native_state,
    .start = splq_native_start,
    .run = native_run,
    .wait = native_wait,
    .shutdown = native_shutdown,
    .kill = native_kill,
    .fresh = native_fresh,
    .pause = native_pause,
    .usage = native_usage,
    .processes = native_processes,
    .net_relink = splq_native_net_relink,
    .firewall_apply = splq_native_net_firewall,
    .logs = native_logs,
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
	n->first_oom = -1;
	n->dirs[0] = n->dirs[1] = -1;
	*out = &n->base;
	return 0;
}

const char *splq_power_name(enum splq_power p)
{
	static const char *const names[] = {"Halted", "Running", "Transient", "Halting", "Paused",
	                                    "NA"};
	return p <= SPLQ_POWER_NA ? names[p] : "NA";
}
