/* splq native: cgroups for qubes (see cgroup.h), in the hierarchies that
 * cgroup_layout.h finds:
 *   - v2: the qube gets <mount>/<parent>/<qube>; memory, pids, cpu and
 *     cpuset are enabled in the subtree_control of every level above it.
 *   - v1 (and hybrid): <parent>/<qube> in the memory, pids and cpu
 *     hierarchies (and cpuset, for a qube pinned to some CPUs), and also in
 *     a cgroup2 mount without controllers if the host has one, so that
 *     cgroup.kill and cgroup.events work there.
 * A qube's supervisor gets <parent>/<qube>.sup beside it.
 * Nothing outside <mount>/<parent> is ever created, written or removed. */
#include "native/cgroup.h"
#include "native/cgroup_layout.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

#define CG_MAX_DEPTH  16
#define CG_CPU_PERIOD 100000L
#define CG_POLL_NS    1000000L

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_poll(void)
{
	struct timespec ts = {0, CG_POLL_NS};

	nanosleep(&ts, NULL);
}

static bool file_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

/* SIGKILL every process listed in dir/cgroup.procs and below; returns how
 * many were listed (0: the subtree is empty). */
static int kill_tree(const char *dir, int depth)
{
	char path[PATH_MAX];
	cleanup_fclose FILE *f = NULL;
	cleanup_dir DIR *d = NULL;
	struct dirent *e;
	int pid, count = 0;

	if (depth > CG_MAX_DEPTH ||
	    snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (f)
		while (fscanf(f, "%d", &pid) == 1)
			if (pid > 0) {
				kill(pid, SIGKILL);
				count++;
			}
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			count += kill_tree(path, depth + 1);
	}
	return count;
}

/* Does dir (or a cgroup below it) hold a process? */
static bool tree_populated(const struct cg_dir *c)
{
	char path[PATH_MAX], buf[256];
	cleanup_fclose FILE *f = NULL;
	int pid;

	if (!cg_is_dir(c->path))
		return false;
	if (c->kind == CG_V2 || c->kind == CG_UNIFIED) {
		if (snprintf(path, sizeof(path), "%s/cgroup.events", c->path) < (int)sizeof(path) &&
		    cg_read(path, buf, sizeof(buf)) == 0) {
			const char *p = strstr(buf, "populated ");

			if (p)
				return p[10] == '1';
		}
	}
	if (snprintf(path, sizeof(path), "%s/cgroup.procs", c->path) >= (int)sizeof(path))
		return false;
	f = fopen(path, "re");
	if (f && fscanf(f, "%d", &pid) == 1)
		return true;
	/* v1 lists only the cgroup's own processes: look below it too. */
	{
		cleanup_dir DIR *d = opendir(c->path);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			struct cg_dir sub = {.kind = c->kind, .mount = c->mount};

			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			if (snprintf(sub.path, sizeof(sub.path), "%s/%s", c->path, e->d_name) <
			        (int)sizeof(sub.path) &&
			    tree_populated(&sub))
				return true;
		}
	}
	return false;
}

/* rmdir dir and the (empty) cgroups below it, deepest first; -errno of
 * the first failure, 1 when removed here, 0 when never there. */
static int rmdir_tree(const char *dir, int depth)
{
	char path[PATH_MAX];
	cleanup_dir DIR *d = NULL;
	struct dirent *e;
	int r = 0;

	if (depth > CG_MAX_DEPTH)
		return -ELOOP;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		r = rmdir_tree(path, depth + 1);
		if (r < 0)
			return r;
	}
	if (rmdir(dir) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

/* Remove the parent directories of one hierarchy, deepest first, as far as
 * they are empty; stops quietly at the first one still in use. */
static void remove_parents(const char *mount, const char *parent, int from)
{
	char path[PATH_MAX];

	for (int k = cg_parent_depth(parent); k > from; k--) {
		if (cg_parent_prefix(path, sizeof(path), mount, parent, k) < 0 || rmdir(path) < 0)
			return;
	}
}

/* Enable +memory +pids +cpu (those the cgroup offers; memory must be
 * there) in dir's subtree_control unless already on. */
static int enable_controllers(const char *dir, struct splq_error *err)
{
	static const char *const wanted[] = {"memory", "pids", "cpu", "cpuset"};
	char path[PATH_MAX], ctl[1024], sub[1024];
	int r;

	if (snprintf(path, sizeof(path), "%s/cgroup.controllers", dir) >= (int)sizeof(path))
		return splq_fail(err, SPLQ_E_VALUE, "cgroup path '%s' is too long", dir);
	r = cg_read(path, ctl, sizeof(ctl));
	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot read %s", path);
	if (snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir) >= (int)sizeof(path))
		return splq_fail(err, SPLQ_E_VALUE, "cgroup path '%s' is too long", dir);
	r = cg_read(path, sub, sizeof(sub));
	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot read %s", path);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		char plus[32];

		if (cg_has_word(sub, wanted[i]))
			continue;
		if (!cg_has_word(ctl, wanted[i])) {
			if (i == 0)
				return splq_fail(
				    err, SPLQ_E_UNSUPPORTED,
				    "the cgroup %s does not offer the memory controller", dir);
			continue;
		}
		snprintf(plus, sizeof(plus), "+%s", wanted[i]);
		r = cg_write(path, plus);
		if (r < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot enable %s in %s",
			                       wanted[i], path);
	}
	return 0;
}

/* A v1 cpuset starts with no CPUs and no memory nodes, and takes no
 * process until it has some: give dir its parent's where it has none. */
static int cpuset_inherit(const char *dir, struct splq_error *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char path[PATH_MAX], up[PATH_MAX], val[1024];
	const char *slash = strrchr(dir, '/');

	for (size_t i = 0; i < 2 && slash; i++) {
		int r;

		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path) ||
		    snprintf(up, sizeof(up), "%.*s/%s", (int)(slash - dir), dir, files[i]) >=
		        (int)sizeof(up))
			return splq_fail(err, SPLQ_E_VALUE, "cgroup path '%s' is too long", dir);
		r = cg_read(path, val, sizeof(val));
		if (r == 0 && val[0] != '\n' && val[0] != '\0')
			continue;
		if (r == 0)
			r = cg_read(up, val, sizeof(val));
		if (r == 0)
			r = cg_write(path, val);
		if (r < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot set %s", path);
	}
	return 0;
}

/* How often a cgroup is made again when a level above it went away while
 * it was being made (the clean-up of the last qube below it). */
#define CG_MAKE_ATTEMPTS 20

/* mkdir the parent path and the qube's directory in one hierarchy;
 * *first gets the depth of the first parent directory made here (so that
 * a rollback removes exactly what was made).  Another qube's destroy may
 * remove an empty parent at any moment: ENOENT, or a level gone before
 * its controllers were enabled, starts over. */

static int make_dir(const struct cg_dir *c, const struct cg_layout *l, int *first, bool *made,
                    struct splq_error *err)
{
	int depth = cg_parent_depth(l->parent);
	char path[PATH_MAX];

	*first = depth + 1;
	*made = false;
	for (int attempt = 0;; attempt++) {
		bool again = false;

		if (c->kind == CG_V2 && enable_controllers(c->mount, err) < 0)
			return -1;
		for (int k = 1; k <= depth && !again; k++) {
			if (cg_parent_prefix(path, sizeof(path), c->mount, l->parent, k) < 0)
				return splq_fail(err, SPLQ_E_VALUE,
				                 "cgroup path under %s is too long", c->mount);
			if (mkdir(path, 0755) == 0) {
				if (*first > k)
					*first = k;
			} else if (errno == ENOENT && attempt < CG_MAKE_ATTEMPTS) {
				again = true;
				continue;
			} else if (errno != EEXIST) {
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot create cgroup %s", path);
			}
			if ((c->kind == CG_V2 && enable_controllers(path, err) < 0) ||
			    (c->kind == CG_V1_CPUSET && cpuset_inherit(path, err) < 0)) {
				/* another qube's clean-up removed this level,
				 * empty for a moment, meanwhile: make it again */
				if (attempt < CG_MAKE_ATTEMPTS && !cg_is_dir(path)) {
					again = true;
					continue;
				}
				return -1;
			}
		}
		if (again)
			continue;
		if (mkdir(c->path, 0755) == 0) {
			*made = true;
			return 0;
		}
		if (errno != ENOENT || attempt >= CG_MAKE_ATTEMPTS)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
			                       "cannot create cgroup %s", c->path);
	}
}

static int set_limit(const char *dir, const char *file, const char *fmt, long long v, bool optional,
                     struct splq_error *err)
{
	int r;

	if (optional && !file_exists(dir, file))
		return 0;
	r = cg_writef(dir, file, fmt, v);
	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot set %s/%s", dir, file);
	return 0;
}

static int set_cpus(const char *dir, const char *cpus, struct splq_error *err)
{
	char path[PATH_MAX];
	int r = snprintf(path, sizeof(path), "%s/cpuset.cpus", dir) >= (int)sizeof(path)
	            ? -ENAMETOOLONG
	            : cg_write(path, cpus);

	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot set %s to %s", path, cpus);
	return 0;
}

static int set_limits(const struct cg_dir *c, const struct splq_cgroup_limits *lim,
                      struct splq_error *err)
{
	long long soft = (long long)lim->memory_mib * 1048576LL;
	long long mem = (long long)(lim->max_mib > 0 ? lim->max_mib : lim->memory_mib) * 1048576LL;
	long long pids = lim->pids_max > 0 ? lim->pids_max : SPLQ_CGROUP_PIDS_MAX;
	long long quota = (long long)lim->vcpus * CG_CPU_PERIOD;
	int r;

	switch (c->kind) {
	case CG_V2:
		if (set_limit(c->path, "memory.max", "%lld", mem, false, err) < 0 ||
		    set_limit(c->path, "memory.low", "%lld", soft, true, err) < 0 ||
		    set_limit(c->path, "memory.swap.max", "%lld", 0, true, err) < 0 ||
		    set_limit(c->path, "pids.max", "%lld", pids, true, err) < 0)
			return -1;
		if (lim->vcpus > 0 && file_exists(c->path, "cpu.max")) {
			char path[PATH_MAX], val[64];

			snprintf(val, sizeof(val), "%lld %ld", quota, CG_CPU_PERIOD);
			if (snprintf(path, sizeof(path), "%s/cpu.max", c->path) >=
			    (int)sizeof(path))
				r = -ENAMETOOLONG;
			else
				r = cg_write(path, val);
			if (r < 0)
				return splq_fail_errno(err, SPLQ_E_INTERNAL, -r, "cannot set %s",
				                       path);
		}
		if (lim->cpus && file_exists(c->path, "cpuset.cpus"))
			return set_cpus(c->path, lim->cpus, err);
		return 0;
	case CG_V1_MEMORY:
		if (set_limit(c->path, "memory.limit_in_bytes", "%lld", mem, false, err) < 0 ||
		    set_limit(c->path, "memory.soft_limit_in_bytes", "%lld", soft, true, err) < 0)
			return -1;
		r = cg_writef(c->path, "memory.memsw.limit_in_bytes", "%lld", mem);
		if (r < 0 && r != -ENOENT && r != -EINVAL)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, -r,
			                       "cannot set %s/memory.memsw.limit_in_bytes",
			                       c->path);
		return 0;
	case CG_V1_PIDS:
		return set_limit(c->path, "pids.max", "%lld", pids, false, err);
	case CG_V1_CPU:
		if (lim->vcpus <= 0)
			return 0;
		if (set_limit(c->path, "cpu.cfs_period_us", "%lld", CG_CPU_PERIOD, false, err) <
		        0 ||
		    set_limit(c->path, "cpu.cfs_quota_us", "%lld", quota, false, err) < 0)
			return -1;
		return 0;
	case CG_V1_CPUSET:
		if (!lim->cpus)
			return 0;
		return cpuset_inherit(c->path, err) < 0 ? -1 : set_cpus(c->path, lim->cpus, err);
	case CG_UNIFIED:
	case CG_V1_SYSTEMD:
	case CG_V1_FREEZER:
	case CG_KINDS:
		return 0;
	}
	return 0;
}

/* Undo make_dir of d[0..last]: what was made goes, with the parents made
 * for it. */
static void undo_dirs(const struct cg_dir *d, const struct cg_layout *l, const int *first,
                      const bool *made, int last)
{
	for (int i = last; i >= 0; i--) {
		if (made[i])
			rmdir(d[i].path);
		remove_parents(d[i].mount, l->parent, first[i] - 1);
	}
}

int splq_cgroup_create(const char *qube, const struct splq_cgroup_limits *lim,
                       struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	int n, first[CG_MAX_DIRS];
	bool made[CG_MAX_DIRS] = {false};
	int i, r;

	if (!lim || lim->memory_mib <= 0 || lim->memory_mib > LLONG_MAX / 1048576 / 2 ||
	    lim->max_mib < 0 || lim->max_mib > LLONG_MAX / 1048576 / 2)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "memory of qube '%s' must be a positive MiB count",
		                 qube ? qube : "");
	if (lim->max_mib > 0 && lim->max_mib < lim->memory_mib)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "maxmem of qube '%s' (%ld MiB) is below its memory (%ld MiB)",
		                 qube ? qube : "", lim->max_mib, lim->memory_mib);
	if (lim->vcpus < 0 || lim->vcpus > 1000000)
		return splq_fail(err, SPLQ_E_VALUE, "vcpus of qube '%s' out of range: %ld",
		                 qube ? qube : "", lim->vcpus);
	if (lim->pids_max < 0)
		return splq_fail(err, SPLQ_E_VALUE, "pids limit of qube '%s' is negative: %ld",
		                 qube ? qube : "", lim->pids_max);
	if (cg_load_layout(&l, err) < 0 || cg_qube_dirs(&l, qube, d, &n, err) < 0)
		return -1;

	/* A leftover of a crash: remove it if nothing runs in it. */
	for (i = 0; i < n; i++) {
		if (!cg_is_dir(d[i].path))
			continue;
		r = rmdir_tree(d[i].path, 0);
		if (r < 0)
			return splq_fail_errno(err, r == -EBUSY ? SPLQ_E_STATE : SPLQ_E_INTERNAL,
			                       -r,
			                       "qube '%s' has a cgroup left from an earlier run "
			                       "that cannot be removed (%s)",
			                       qube, d[i].path);
	}

	for (i = 0; i < n; i++) {
		first[i] = cg_parent_depth(l.parent) + 1;
		/* no quota: the v1 cpu hierarchy has nothing to hold; no CPUs
		 * of its own: nor has cpuset */
		if ((d[i].kind == CG_V1_CPU && lim->vcpus == 0) ||
		    (d[i].kind == CG_V1_CPUSET && !lim->cpus))
			continue;
		if (make_dir(&d[i], &l, &first[i], &made[i], err) < 0 ||
		    set_limits(&d[i], lim, err) < 0)
			goto fail;
	}
	return 0;
fail:
	undo_dirs(d, &l, first, made, i);
	return -1;
}

int splq_cgroup_open_procs(const char *qube, int fds[SPLQ_CGROUP_MAX_FDS], int *n,
                           struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	char path[PATH_MAX];
	int nd;

	*n = 0;
	if (cg_load_layout(&l, err) < 0 || cg_qube_dirs(&l, qube, d, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd && i < SPLQ_CGROUP_MAX_FDS; i++) {
		int fd;

		if (cg_optional_kind(d[i].kind) && !cg_is_dir(d[i].path))
			continue;
		if (snprintf(path, sizeof(path), "%s/cgroup.procs", d[i].path) >= (int)sizeof(path))
			fd = -1, errno = ENAMETOOLONG;
		else
			fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			while (*n > 0)
				close(fds[--*n]);
			return splq_fail_errno(err, e == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL,
			                       e, "cannot open the cgroup of qube '%s' (%s)", qube,
			                       path);
		}
		fds[(*n)++] = fd;
	}
	return 0;
}

/* Open the entry (cgroup.h) of directories d; what names them in errors. */
static int open_dirs(const struct cg_dir *d, int nd, const char *what, struct splq_cgroup_entry *e,
                     struct splq_error *err)
{
	char path[PATH_MAX];

	e->dir_fd = -1;
	e->ntasks = 0;
	for (int i = 0; i < nd; i++) {
		bool v2 = d[i].kind == CG_V2 || d[i].kind == CG_UNIFIED;
		int fd;

		if (cg_optional_kind(d[i].kind) && !cg_is_dir(d[i].path))
			continue; /* made without a cpu quota, or CPUs of its own */
		if (snprintf(path, sizeof(path), "%s%s", d[i].path, v2 ? "" : "/tasks") >=
		    (int)sizeof(path))
			fd = -1, errno = ENAMETOOLONG;
		else if (v2)
			fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else
			fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int e2 = errno;

			splq_cgroup_entry_close(e);
			return splq_fail_errno(err,
			                       e2 == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL, e2,
			                       "cannot open the cgroup of %s (%s)", what, path);
		}
		if (v2)
			e->dir_fd = fd;
		else
			e->tasks[e->ntasks++] = fd;
	}
	return 0;
}

int splq_cgroup_open_entry(const char *qube, struct splq_cgroup_entry *e, struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	char what[CG_QUBE_MAX + 16];
	int nd;

	e->dir_fd = -1;
	e->ntasks = 0;
	if (cg_load_layout(&l, err) < 0 || cg_qube_dirs(&l, qube, d, &nd, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "qube '%s'", qube);
	return open_dirs(d, nd, what, e, err);
}

/* rmdir the supervisor's directories d, waiting until deadline for one on
 * its way out to leave them. */
static int remove_sup_dirs(const struct cg_layout *l, const struct cg_dir *d, int n,
                           const char *qube, long long deadline, struct splq_error *err)
{
	for (int i = 0; i < n; i++) {
		int r;

		while ((r = rmdir_tree(d[i].path, 0)) == -EBUSY && now_ms() < deadline)
			sleep_poll();
		if (r < 0)
			return splq_fail_errno(err, r == -EBUSY ? SPLQ_E_STATE : SPLQ_E_INTERNAL,
			                       -r,
			                       "cannot remove the cgroup of the supervisor of "
			                       "qube '%s' (%s)",
			                       qube, d[i].path);
		if (r > 0)
			remove_parents(d[i].mount, l->parent, 0);
	}
	return 0;
}

int splq_cgroup_supervisor_entry(const char *qube, struct splq_cgroup_entry *e,
                                 struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	char what[CG_QUBE_MAX + 32];
	int n, i, first[CG_MAX_DIRS];
	bool made[CG_MAX_DIRS] = {false};

	e->dir_fd = -1;
	e->ntasks = 0;
	if (cg_load_layout(&l, err) < 0 || cg_sup_dirs(&l, qube, d, &n, err) < 0 ||
	    remove_sup_dirs(&l, d, n, qube, now_ms() + 2000, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "the supervisor of qube '%s'", qube);
	for (i = 0; i < n; i++) {
		first[i] = cg_parent_depth(l.parent) + 1;
		if (make_dir(&d[i], &l, &first[i], &made[i], err) < 0)
			goto fail;
	}
	i = n - 1;
	if (open_dirs(d, n, what, e, err) == 0)
		return 0;
fail:
	undo_dirs(d, &l, first, made, i);
	return -1;
}

int splq_cgroup_supervisor_remove(const char *qube, long timeout_ms, struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	struct splq_error lerr;
	int n;

	if (cg_load_layout(&l, &lerr) < 0) {
		if (lerr.code == SPLQ_E_UNSUPPORTED)
			return 0; /* no cgroups: none made */
		if (err)
			*err = lerr;
		return -1;
	}
	if (cg_sup_dirs(&l, qube, d, &n, err) < 0)
		return -1;
	return remove_sup_dirs(&l, d, n, qube, now_ms() + (timeout_ms > 0 ? timeout_ms : 0), err);
}

int splq_cgroup_enter_thread(const struct splq_cgroup_entry *e, struct splq_error *err)
{
	return splq_cgroup_enter(e->tasks, e->ntasks, 0, err);
}

void splq_cgroup_entry_close(struct splq_cgroup_entry *e)
{
	if (e->dir_fd >= 0)
		close(e->dir_fd);
	e->dir_fd = -1;
	while (e->ntasks > 0)
		close(e->tasks[--e->ntasks]);
}

int splq_cgroup_enter(const int *fds, int n, pid_t pid, struct splq_error *err)
{
	char val[32];
	int len = snprintf(val, sizeof(val), "%d", (int)pid);

	for (int i = 0; i < n; i++) {
		if (write(fds[i], val, (size_t)len) != len) {
			int e = errno;
			char link[64], target[PATH_MAX];
			ssize_t t;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
			t = readlink(link, target, sizeof(target) - 1);
			target[t > 0 ? t : 0] = '\0';
			return splq_fail_errno(err, e == ESRCH ? SPLQ_E_STATE : SPLQ_E_INTERNAL, e,
			                       "cannot move process %d into cgroup %s", (int)pid,
			                       t > 0 ? target : "(unknown)");
		}
	}
	return 0;
}

int splq_cgroup_destroy(const char *qube, long timeout_ms, struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	struct splq_error lerr;
	long long deadline;
	int n, r, left;

	if (cg_load_layout(&l, &lerr) < 0) {
		/* No cgroups on this host: none can have been made. */
		if (lerr.code == SPLQ_E_UNSUPPORTED)
			return 0;
		if (err)
			*err = lerr;
		return -1;
	}
	if (cg_qube_dirs(&l, qube, d, &n, err) < 0)
		return -1;
	deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	/* the directories there now: a qube never started, or gone already,
	 * costs no more than a look */
	bool there[CG_MAX_DIRS], any = false;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		there[i] = cg_is_dir(d[i].path);
		any |= there[i];
		if ((d[i].kind == CG_V2 || d[i].kind == CG_UNIFIED) && there[i] &&
		    snprintf(path, sizeof(path), "%s/cgroup.kill", d[i].path) < (int)sizeof(path))
			cg_write(path, "1"); /* ENOENT on old kernels: killed one by one below */
	}
	if (!any)
		return 0;
	for (;;) {
		left = 0;
		for (int i = 0; i < n; i++)
			if (there[i])
				left += kill_tree(d[i].path, 0);
		if (left == 0)
			break;
		if (now_ms() >= deadline)
			return splq_fail(err, SPLQ_E_STATE,
			                 "%d process(es) of qube '%s' still run after %ld ms", left,
			                 qube, timeout_ms);
		sleep_poll();
	}
	for (int i = 0; i < n; i++) {
		if (!there[i])
			continue;
		while ((r = rmdir_tree(d[i].path, 0)) == -EBUSY && now_ms() < deadline) {
			kill_tree(d[i].path, 0);
			sleep_poll();
		}
		if (r < 0)
			return splq_fail_errno(err, r == -EBUSY ? SPLQ_E_STATE : SPLQ_E_INTERNAL,
			                       -r, "cannot remove the cgroup of qube '%s' (%s)",
			                       qube, d[i].path);
		if (r > 0)
			remove_parents(d[i].mount, l.parent, 0);
	}
	return 0;
}

/* Has the freezer of directory c frozen everything?  cgroup2 says it in
 * cgroup.events ("frozen 1"), v1 in freezer.state (FREEZING on the way). */
static bool freezer_done(const struct cg_dir *c)
{
	char path[PATH_MAX], buf[512];
	bool v2 = c->kind != CG_V1_FREEZER;
	if (snprintf(path, sizeof(path), "%s/%s", c->path, v2 ? "cgroup.events" : "freezer.state") >=
	        (int)sizeof(path) ||
	    cg_read(path, buf, sizeof(buf)) < 0)
		return false;
	if (!v2)
		return strncmp(buf, "FROZEN", 6) == 0;
	const char *f = strstr(buf, "frozen ");
	return f && (f == buf || f[-1] == '\n') && f[7] == '1';
}

int splq_cgroup_freeze(const char *qube, bool frozen, long timeout_ms, struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	int n;
	if (cg_load_layout(&l, err) < 0 || cg_qube_dirs(&l, qube, d, &n, err) < 0)
		return -1;
	const struct cg_dir *c = NULL;
	for (int i = 0; i < n && !c; i++)
		if (d[i].kind == CG_V2 || d[i].kind == CG_UNIFIED || d[i].kind == CG_V1_FREEZER)
			c = &d[i];
	if (!c)
		return splq_fail(err, SPLQ_E_UNSUPPORTED,
		                 "cannot pause qube '%s': this host has neither a cgroup2 tree nor "
		                 "a v1 freezer hierarchy",
		                 qube);
	bool v2 = c->kind != CG_V1_FREEZER;
	char path[PATH_MAX];
	int r = snprintf(path, sizeof(path), "%s/%s", c->path,
	                 v2 ? "cgroup.freeze" : "freezer.state") >= (int)sizeof(path)
	            ? -ENAMETOOLONG
	            : cg_write(path, v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED"));
	if (r < 0)
		return splq_fail_errno(err, r == -ENOENT ? SPLQ_E_STATE : SPLQ_E_INTERNAL, -r,
		                       "cannot %s qube '%s' (%s)", frozen ? "pause" : "unpause", qube,
		                       path);
	/* a thawed process runs again as soon as it is scheduled: what is
	 * asked of it next (through its sockets) waits for that anyway */
	long long deadline = now_ms() + timeout_ms;
	while (frozen && !freezer_done(c)) {
		if (now_ms() >= deadline)
			return splq_fail(err, SPLQ_E_TIMEOUT, "qube '%s' did not %s within %ld ms",
			                 qube, frozen ? "pause" : "unpause", timeout_ms);
		if (!v2) /* v1 may stay FREEZING: asking again moves it on */
			cg_write(path, "FROZEN");
		sleep_poll();
	}
	return 0;
}

bool splq_cgroup_populated(const char *qube)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	int n;

	if (cg_load_layout(&l, NULL) < 0 || cg_qube_dirs(&l, qube, d, &n, NULL) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (tree_populated(&d[i]))
			return true;
	return false;
}

int splq_cgroup_paths(const char *qube, char *buf, size_t max)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	size_t off = 0;
	int n, listed = 0;

	if (!buf || max == 0)
		return -1;
	buf[0] = '\0';
	if (cg_load_layout(&l, NULL) < 0 || cg_qube_dirs(&l, qube, d, &n, NULL) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (cg_optional_kind(d[i].kind) && !cg_is_dir(d[i].path))
			continue; /* made without a cpu quota, or CPUs of its own */
		int w = snprintf(buf + off, max - off, "%s\n", d[i].path);

		if (w < 0 || (size_t)w >= max - off) {
			buf[off] = '\0';
			return -1;
		}
		off += (size_t)w;
		listed++;
	}
	return listed;
}
