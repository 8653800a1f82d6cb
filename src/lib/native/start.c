/* splq native: starting a qube.  splq plans the start (its root, private
 * volume, user namespace, seccomp program, cgroups, CPUs, log), takes the
 * qube's locks and its uid range, and forks the supervisor-to-be
 * (spawn.h) into cgroups of its own (cgroup.h), out of its caller's; then
 * waits for the reports of the supervisor and pid 1, and for a disposable
 * sends its command. */
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

#include "../store.h"
#include "../tree.h"
#include "../util.h"
#include "cpus.h"
#include "image.h"
#include "qubelog.h"
#include "rootmnt.h"
#include "runtime.h"
#include "seccomp.h"
#include "session.h"
#include "spawn.h"
#include "userns.h"
#include "volume.h"

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
		*mnt = splq_rootmnt_path(b->run, SPLQ_ROOTMNT_ROOTS, cfg->root_of, gen);
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
		splq_rt_in_use(b, "rootsrc", &used, &n);
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

/* A disposable's private volume: the read-only mount of its dvm's
 * current snapshot (volume.h, rootmnt.h), recorded in privsrc.  Under the
 * dvm's lock, shared to use a snapshot and its mount, exclusive to take a
 * snapshot (none yet, or the dvm changed while halted: a running dvm's
 * current one is as it was when it last stopped) or make the mount. */
static int reader_private(struct splq_backend *b, const struct splq_vm_config *cfg, char **mnt,
                          struct splq_error *err)
{
	const char *dvm = cfg->private_of;
	cleanup_free char *image = NULL;
	for (int mode = LOCK_SH;; mode = LOCK_EX) {
		cleanup_close int lock = splq_rt_lock(b, dvm, mode, err);
		if (lock < 0)
			return -1;
		bool stale, running = splq_rt_locked(b, dvm);
		free(image);
		image = splq_volume_snap_current(b->home, dvm, &stale);
		if (!image || (stale && !running)) {
			if (mode == LOCK_SH)
				continue;
			/* of a running dvm (one started before it was a dvm):
			 * what a crash would leave of it, flushed */
			struct splq_error ignored;
			int home = running ? splq_rt_open_home(b, dvm, &ignored) : -1;
			if (home >= 0) {
				syncfs(home);
				close(home);
			}
			char **used;
			int n;
			free(image);
			splq_rt_in_use(b, "privsrc", &used, &n);
			int r = splq_volume_snap_take(b->home, b->run, dvm, used, n, &image, err);
			splq_strv_free(used, n);
			if (r < 0)
				return -1;
		}
		const char *name = strrchr(image, '/') + 1;
		cleanup_free char *gen = strndup(name, strcspn(name, "."));
		free(*mnt);
		*mnt = splq_rootmnt_path(b->run, SPLQ_ROOTMNT_PRIVATES, dvm, gen);
		if (!splq_rootmnt_ready(*mnt, image)) {
			if (mode == LOCK_SH)
				continue;
			if (splq_rootmnt_make(*mnt, image, err) < 0)
				return -1;
		}
		cleanup_free char *privsrc = splq_rt_file(b, cfg->name, "privsrc");
		return splq_rt_write(privsrc, image, strlen(image), err);
	}
}

/* A dvm starting (its op lock held): its snapshot brought up to date
 * first, so that disposables made while it runs start from it as it was
 * when it last stopped. */
static int dvm_snapshot(struct splq_backend *b, const struct splq_vm_config *cfg,
                        struct splq_error *err)
{
	bool stale;
	cleanup_free char *image = splq_volume_snap_current(b->home, cfg->name, &stale);
	if (image && !stale)
		return 0;
	char **used;
	int n;
	free(image);
	image = NULL;
	splq_rt_in_use(b, "privsrc", &used, &n);
	int r = splq_volume_snap_take(b->home, b->run, cfg->name, used, n, &image, err);
	splq_strv_free(used, n);
	return r;
}

/* The private volume this start mounts: the qube's own image; for a
 * disposable its dvm's snapshot, read-only under a layer of its own, or
 * none (an empty tmpfs).  An image is opened here, attached by pid 1. */
static int open_private(struct splq_backend *b, struct start_plan *p, char **paths,
                        struct splq_error *err)
{
	const struct splq_vm_config *cfg = p->cfg;
	struct splq_rootfs *fs = &p->fs;
	fs->private_size = cfg->private_size;
	if (cfg->klass == SPLQ_CLASS_DISPVM) {
		if (!cfg->private_of)
			return 0;
		if (reader_private(b, cfg, &paths[4], err) < 0)
			return -1;
		/* the upper layer's top takes the owner and mode of the
		 * snapshot's, shifted into the qube's range */
		struct stat st;
		if (stat(paths[4], &st) < 0)
			return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "volume %s", paths[4]);
		fs->private_src = paths[4];
		fs->private_mode = st.st_mode & 07777;
		fs->private_uid = st.st_uid + fs->base;
		fs->private_gid = st.st_gid + fs->base;
		return 0;
	}
	if (cfg->dvm && dvm_snapshot(b, cfg, err) < 0)
		return -1;
	paths[4] = splq_volume_private(b->home, cfg->name);
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
	if (splq_native_net_prepare(b, cfg, &p->net, err) < 0)
		return -1;
	fs->resolv = p->net.resolv;
	p->init_fd = splq_spawn_init_binary(err);
	if (p->init_fd < 0 || !(p->helpers = splq_spawn_beside("qube", err)))
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
	                       .splq_fd = -1,
	                       .net = {.netns_fd = -1}};
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
		splq_spawn_supervisor(b, &p, lock, range);
	if (sup < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "fork");
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	/* only the supervisor and its pid 1 hand the qrexec socket over */
	splq_close_fd(&p.qx[0]);
	splq_close_fd(&p.qx[1]);
	if (splq_spawn_reports(pipefd[0], err) < 0 || splq_native_net_up(b, &leased, &p.net, err) < 0) {
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
		n->first_discard = cfg->discard;
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
	splq_native_net_start_clear(&p.net);
	splq_close_fd(&p.splq_fd);
	splq_close_fd(&p.qx[0]);
	splq_close_fd(&p.qx[1]);
	free(p.prog);
	free(p.commit);
	free(p.prev);
	return r;
}
