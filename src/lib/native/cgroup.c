/* splq native: cgroups for qubes (see cgroup.h).
 *
 * The layout is found at run time from /proc/self/mountinfo:
 *   - v2: a cgroup2 mount whose cgroup.controllers offers "memory".  The
 *     qube gets <mount>/<parent>/<qube>; memory, pids and cpu are enabled
 *     in the subtree_control of every level above it.
 *   - v1 (and hybrid): separate v1 hierarchies for memory, pids and cpu;
 *     the qube gets <parent>/<qube> in each of them, and also in a cgroup2
 *     mount without controllers if the host has one, so that cgroup.kill
 *     and cgroup.events work there.
 * Nothing outside <mount>/<parent> is ever created, written or removed. */
#include "native/cgroup.h"

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

#define CG_DEFAULT_PARENT "splq"
#define CG_PARENT_MAX     200
#define CG_QUBE_MAX       64
#define CG_MAX_DIRS       4
#define CG_MAX_DEPTH      16
#define CG_CPU_PERIOD     100000L
#define CG_POLL_NS        1000000L

enum cg_kind {
	CG_V2,      /* cgroup2 with controllers */
	CG_UNIFIED, /* cgroup2 without controllers, beside v1 (hybrid) */
	CG_V1_MEMORY,
	CG_V1_PIDS,
	CG_V1_CPU,
};

struct cg_layout {
	bool v2;                /* memory is on a cgroup2 mount */
	char v2mount[PATH_MAX]; /* that mount, or a controller-less cgroup2 ("" = none) */
	char memory[PATH_MAX];  /* v1 mount points ("" = not mounted) */
	char pids[PATH_MAX];
	char cpu[PATH_MAX];
	char parent[CG_PARENT_MAX]; /* validated $SPLQ_CGROUP */
};

struct cg_dir {
	enum cg_kind kind;
	const char *mount; /* points into the layout */
	char path[PATH_MAX];
};

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

/* Write a short string into a cgroup file; -errno on failure. */
static int cg_write(const char *path, const char *s)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(s);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = write(fd, s, len);
	if (r < 0)
		return -errno;
	if ((size_t)r != len)
		return -EIO;
	return 0;
}

static int cg_writef(const char *dir, const char *file, const char *fmt, long long v)
{
	char path[PATH_MAX], val[64];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(val, sizeof(val), fmt, v);
	return cg_write(path, val);
}

/* Read a small cgroup file (controllers, subtree_control, events). */
static int cg_read(const char *path, char *buf, size_t max)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	while (off + 1 < max) {
		r = read(fd, buf + off, max - 1 - off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	buf[off] = '\0';
	return 0;
}

/* Is word one of the space-separated words in list? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		bool start = p == list || isspace((unsigned char)p[-1]);
		bool end = p[n] == '\0' || isspace((unsigned char)p[n]);

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

/* Is word one of the comma-separated options in opts? */
static bool has_option(const char *opts, const char *word)
{
	size_t n = strlen(word);
	const char *p = opts;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		if (!comma)
			return false;
		p = comma + 1;
	}
}

/* Undo the octal escapes (\040 for a space, ...) of a mountinfo field. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static void set_once(char *dst, const char *src)
{
	if (dst[0] == '\0' && strlen(src) < PATH_MAX)
		strcpy(dst, src);
}

static int check_parent(const char *p, struct splq_error *err)
{
	size_t len = strlen(p);

	if (len >= CG_PARENT_MAX)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "SPLQ_CGROUP '%.40s...' is too long (at most %d)", p,
		                 CG_PARENT_MAX - 1);
	if (p[0] == '/')
		return splq_fail(err, SPLQ_E_VALUE,
		                 "SPLQ_CGROUP '%s' must be relative (no leading '/')", p);
	if (strstr(p, ".."))
		return splq_fail(err, SPLQ_E_VALUE, "SPLQ_CGROUP '%s' must not contain '..'", p);
	for (const char *c = p; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-/", *c))
			return splq_fail(
			    err, SPLQ_E_VALUE,
			    "SPLQ_CGROUP '%s' may only hold letters, digits, '_', '.', "
			    "'-' and '/'",
			    p);
	if (strstr(p, "//") || p[len - 1] == '/' || strcmp(p, ".") == 0 ||
	    strncmp(p, "./", 2) == 0 || strstr(p, "/./") ||
	    (len >= 2 && strcmp(p + len - 2, "/.") == 0))
		return splq_fail(err, SPLQ_E_VALUE,
		                 "SPLQ_CGROUP '%s' has an empty or '.' path component", p);
	return 0;
}

static int check_qube(const char *qube, struct splq_error *err)
{
	size_t len = qube ? strlen(qube) : 0;

	if (len == 0 || len > CG_QUBE_MAX || qube[0] == '.')
		return splq_fail(err, SPLQ_E_NAME, "'%s' is not a valid qube name for a cgroup",
		                 qube ? qube : "");
	for (const char *c = qube; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
			return splq_fail(err, SPLQ_E_NAME,
			                 "'%s' is not a valid qube name for a cgroup", qube);
	return 0;
}

static int read_layout(struct cg_layout *l, struct splq_error *err);

/* The host's cgroup mounts do not change under a running splq, and a start
 * asks for them several times: they are read once per process (the only
 * state this file keeps; forked children inherit it). */
static int load_layout(struct cg_layout *l, struct splq_error *err)
{
	static struct cg_layout cached;
	static bool have;
	const char *env = getenv("SPLQ_CGROUP");

	if (!have) {
		if (read_layout(&cached, err) < 0)
			return -1;
		have = true;
	}
	*l = cached;
	if (!env || !*env)
		env = CG_DEFAULT_PARENT;
	if (check_parent(env, err) < 0)
		return -1;
	strcpy(l->parent, env);
	return 0;
}

static int read_layout(struct cg_layout *l, struct splq_error *err)
{
	cleanup_fclose FILE *f = NULL;
	cleanup_free char *line = NULL;
	size_t cap = 0;
	char unified[PATH_MAX] = "";

	memset(l, 0, sizeof(*l));
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot read /proc/self/mountinfo to find cgroups");
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - ");
		char *field[5] = {0}, *save = NULL, *fstype, *superopts;
		int i = 0;

		if (!sep)
			continue;
		*sep = '\0';
		for (char *t = strtok_r(line, " ", &save); t && i < 5;
		     t = strtok_r(NULL, " ", &save))
			field[i++] = t;
		if (i < 5)
			continue;
		save = NULL;
		fstype = strtok_r(sep + 3, " \n", &save);
		strtok_r(NULL, " \n", &save); /* source */
		superopts = strtok_r(NULL, " \n", &save);
		if (!fstype)
			continue;
		unescape(field[4]);
		if (strcmp(fstype, "cgroup2") == 0) {
			char path[PATH_MAX], ctl[1024];

			if (snprintf(path, sizeof(path), "%s/cgroup.controllers", field[4]) >=
			    (int)sizeof(path))
				continue;
			if (cg_read(path, ctl, sizeof(ctl)) == 0 && has_word(ctl, "memory") &&
			    !l->v2) {
				l->v2 = true;
				strcpy(l->v2mount, field[4]);
			} else {
				set_once(unified, field[4]);
			}
		} else if (strcmp(fstype, "cgroup") == 0 && superopts) {
			if (has_option(superopts, "memory"))
				set_once(l->memory, field[4]);
			if (has_option(superopts, "pids"))
				set_once(l->pids, field[4]);
			if (has_option(superopts, "cpu"))
				set_once(l->cpu, field[4]);
		}
	}
	if (l->v2) {
		l->memory[0] = l->pids[0] = l->cpu[0] = '\0';
		return 0;
	}
	if (l->memory[0] == '\0')
		return splq_fail(err, SPLQ_E_UNSUPPORTED,
		                 "no memory cgroup controller on this host: looked for a cgroup2 "
		                 "mount with 'memory' in cgroup.controllers and a cgroup v1 "
		                 "'memory' hierarchy in /proc/self/mountinfo");
	strcpy(l->v2mount, unified);
	return 0;
}

static int add_dir(struct cg_dir *d, int *n, enum cg_kind kind, const char *mount,
                   const struct cg_layout *l, const char *qube, struct splq_error *err)
{
	if (!mount[0])
		return 0;
	d[*n].kind = kind;
	d[*n].mount = mount;
	if (snprintf(d[*n].path, sizeof(d[*n].path), "%s/%s/%s", mount, l->parent, qube) >=
	    (int)sizeof(d[*n].path))
		return splq_fail(err, SPLQ_E_VALUE, "cgroup path for qube '%s' is too long", qube);
	(*n)++;
	return 0;
}

/* The qube's cgroup directories, in the order they are created. */
static int qube_dirs(const struct cg_layout *l, const char *qube, struct cg_dir d[CG_MAX_DIRS],
                     int *n, struct splq_error *err)
{
	*n = 0;
	if (check_qube(qube, err) < 0)
		return -1;
	if (l->v2)
		return add_dir(d, n, CG_V2, l->v2mount, l, qube, err);
	if (add_dir(d, n, CG_V1_MEMORY, l->memory, l, qube, err) < 0 ||
	    add_dir(d, n, CG_V1_PIDS, l->pids, l, qube, err) < 0 ||
	    add_dir(d, n, CG_V1_CPU, l->cpu, l, qube, err) < 0 ||
	    add_dir(d, n, CG_UNIFIED, l->v2mount, l, qube, err) < 0)
		return -1;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
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

	if (!is_dir(c->path))
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
 * the first failure, 0 when gone (or never there). */
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
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Number of '/'-separated components of the parent path. */
static int parent_depth(const char *parent)
{
	int n = 1;

	for (const char *c = parent; *c; c++)
		n += *c == '/';
	return n;
}

/* mount/<first k components of parent> */
static int parent_prefix(char *out, size_t max, const char *mount, const char *parent, int k)
{
	const char *c = parent;
	int len;

	for (int i = 0; i < k && c; i++) {
		c = strchr(c, '/');
		if (c && i + 1 < k)
			c++;
	}
	len = c ? (int)(c - parent) : (int)strlen(parent);
	if (k == 0)
		return snprintf(out, max, "%s", mount) >= (int)max ? -1 : 0;
	return snprintf(out, max, "%s/%.*s", mount, len, parent) >= (int)max ? -1 : 0;
}

/* Remove the parent directories of one hierarchy, deepest first, as far as
 * they are empty; stops quietly at the first one still in use. */
static void remove_parents(const char *mount, const char *parent, int from)
{
	char path[PATH_MAX];

	for (int k = parent_depth(parent); k > from; k--) {
		if (parent_prefix(path, sizeof(path), mount, parent, k) < 0 || rmdir(path) < 0)
			return;
	}
}

/* Enable +memory +pids +cpu (those the cgroup offers; memory must be
 * there) in dir's subtree_control unless already on. */
static int enable_controllers(const char *dir, struct splq_error *err)
{
	static const char *const wanted[] = {"memory", "pids", "cpu"};
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

		if (has_word(sub, wanted[i]))
			continue;
		if (!has_word(ctl, wanted[i])) {
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

/* mkdir the parent path and the qube's directory in one hierarchy;
 * *first gets the depth of the first parent directory made here (so that
 * a rollback removes exactly what was made).  Another qube's destroy may
 * remove an empty parent at any moment: ENOENT starts over. */
static int make_dir(const struct cg_dir *c, const struct cg_layout *l, int *first, bool *made,
                    struct splq_error *err)
{
	int depth = parent_depth(l->parent);
	char path[PATH_MAX];

	*first = depth + 1;
	*made = false;
	for (int attempt = 0;; attempt++) {
		bool again = false;

		if (c->kind == CG_V2 && enable_controllers(c->mount, err) < 0)
			return -1;
		for (int k = 1; k <= depth && !again; k++) {
			if (parent_prefix(path, sizeof(path), c->mount, l->parent, k) < 0)
				return splq_fail(err, SPLQ_E_VALUE,
				                 "cgroup path under %s is too long", c->mount);
			if (mkdir(path, 0755) == 0) {
				if (*first > k)
					*first = k;
			} else if (errno == ENOENT && attempt < 3) {
				again = true;
				continue;
			} else if (errno != EEXIST) {
				return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
				                       "cannot create cgroup %s", path);
			}
			if (c->kind == CG_V2 && enable_controllers(path, err) < 0)
				return -1;
		}
		if (again)
			continue;
		if (mkdir(c->path, 0755) == 0) {
			*made = true;
			return 0;
		}
		if (errno != ENOENT || attempt >= 3)
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
	case CG_UNIFIED:
		return 0;
	}
	return 0;
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
	if (load_layout(&l, err) < 0 || qube_dirs(&l, qube, d, &n, err) < 0)
		return -1;

	/* A leftover of a crash: remove it if nothing runs in it. */
	for (i = 0; i < n; i++) {
		if (!is_dir(d[i].path))
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
		first[i] = parent_depth(l.parent) + 1;
		/* no quota: the v1 cpu hierarchy has nothing to hold */
		if (d[i].kind == CG_V1_CPU && lim->vcpus == 0)
			continue;
		if (make_dir(&d[i], &l, &first[i], &made[i], err) < 0 ||
		    set_limits(&d[i], lim, err) < 0)
			goto fail;
	}
	return 0;
fail:
	for (; i >= 0; i--) {
		if (made[i])
			rmdir(d[i].path);
		remove_parents(d[i].mount, l.parent, first[i] - 1);
	}
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
	if (load_layout(&l, err) < 0 || qube_dirs(&l, qube, d, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd && i < SPLQ_CGROUP_MAX_FDS; i++) {
		int fd;

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

int splq_cgroup_open_entry(const char *qube, struct splq_cgroup_entry *e, struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	char path[PATH_MAX];
	int nd;

	e->dir_fd = -1;
	e->ntasks = 0;
	if (load_layout(&l, err) < 0 || qube_dirs(&l, qube, d, &nd, err) < 0)
		return -1;
	for (int i = 0; i < nd; i++) {
		bool v2 = d[i].kind == CG_V2 || d[i].kind == CG_UNIFIED;
		int fd;

		if (d[i].kind == CG_V1_CPU && !is_dir(d[i].path))
			continue; /* made without a cpu quota */
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
			return splq_fail_errno(
			    err, e2 == ENOENT ? SPLQ_E_NOTFOUND : SPLQ_E_INTERNAL, e2,
			    "cannot open the cgroup of qube '%s' (%s)", qube, path);
		}
		if (v2)
			e->dir_fd = fd;
		else
			e->tasks[e->ntasks++] = fd;
	}
	return 0;
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

	if (load_layout(&l, &lerr) < 0) {
		/* No cgroups on this host: none can have been made. */
		if (lerr.code == SPLQ_E_UNSUPPORTED)
			return 0;
		if (err)
			*err = lerr;
		return -1;
	}
	if (qube_dirs(&l, qube, d, &n, err) < 0)
		return -1;
	deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		if ((d[i].kind == CG_V2 || d[i].kind == CG_UNIFIED) && is_dir(d[i].path) &&
		    snprintf(path, sizeof(path), "%s/cgroup.kill", d[i].path) < (int)sizeof(path))
			cg_write(path, "1"); /* ENOENT on old kernels: killed one by one below */
	}
	for (;;) {
		left = 0;
		for (int i = 0; i < n; i++)
			if (is_dir(d[i].path))
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
		while ((r = rmdir_tree(d[i].path, 0)) == -EBUSY && now_ms() < deadline) {
			kill_tree(d[i].path, 0);
			sleep_poll();
		}
		if (r < 0)
			return splq_fail_errno(err, r == -EBUSY ? SPLQ_E_STATE : SPLQ_E_INTERNAL,
			                       -r, "cannot remove the cgroup of qube '%s' (%s)",
			                       qube, d[i].path);
		remove_parents(d[i].mount, l.parent, 0);
	}
	return 0;
}

bool splq_cgroup_populated(const char *qube)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	int n;

	if (load_layout(&l, NULL) < 0 || qube_dirs(&l, qube, d, &n, NULL) < 0)
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
	if (load_layout(&l, NULL) < 0 || qube_dirs(&l, qube, d, &n, NULL) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (d[i].kind == CG_V1_CPU && !is_dir(d[i].path))
			continue; /* made without a cpu quota */
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
