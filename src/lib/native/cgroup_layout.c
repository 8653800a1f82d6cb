/* splq native: the host's cgroup hierarchies (see cgroup_layout.h). */
#include "native/cgroup_layout.h"


#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define CG_DEFAULT_PARENT "splq"

/* Write a short string into a cgroup file; -errno on failure. */
int cg_write(const char *path, const char *s)
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

int cg_writef(const char *dir, const char *file, const char *fmt, long long v)
{
	char path[PATH_MAX], val[64];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(val, sizeof(val), fmt, v);
	return cg_write(path, val);
}

/* Read a small cgroup file (controllers, subtree_control, events). */
int cg_read(const char *path, char *buf, size_t max)
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
bool cg_has_word(const char *list, const char *word)
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

/* A v1 hierarchy of kind at mountpoint: the first one found counts.  Its
 * options, as a mount of it inside a qube gives them (the controllers, a
 * name=), are kept: every option but rw, ro and release_agent=. */
static void found(struct cg_layout *l, enum cg_kind kind, char *dst, const char *mountpoint,
                  const char *superopts)
{
	char *opts = l->opts[kind];
	size_t off = 0;

	if (dst[0] != '\0' || strlen(mountpoint) >= PATH_MAX)
		return;
	strcpy(dst, mountpoint);
	opts[0] = '\0';
	for (const char *p = superopts; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (!(len == 2 && (strncmp(p, "rw", 2) == 0 || strncmp(p, "ro", 2) == 0)) &&
		    strncmp(p, "release_agent=", 14) != 0 && off + len + 2 < CG_OPTS_MAX) {
			if (off)
				opts[off++] = ',';
			memcpy(opts + off, p, len);
			off += len;
			opts[off] = '\0';
		}
		p += len + (comma ? 1 : 0);
	}
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
			if (cg_read(path, ctl, sizeof(ctl)) == 0 && cg_has_word(ctl, "memory") &&
			    !l->v2) {
				l->v2 = true;
				strcpy(l->v2mount, field[4]);
			} else {
				set_once(unified, field[4]);
			}
		} else if (strcmp(fstype, "cgroup") == 0 && superopts) {
			if (has_option(superopts, "memory"))
				found(l, CG_V1_MEMORY, l->memory, field[4], superopts);
			if (has_option(superopts, "pids"))
				found(l, CG_V1_PIDS, l->pids, field[4], superopts);
			if (has_option(superopts, "cpu"))
				found(l, CG_V1_CPU, l->cpu, field[4], superopts);
			if (has_option(superopts, "cpuset"))
				found(l, CG_V1_CPUSET, l->cpuset, field[4], superopts);
			if (has_option(superopts, "name=systemd"))
				found(l, CG_V1_SYSTEMD, l->systemd, field[4], superopts);
			if (has_option(superopts, "freezer"))
				found(l, CG_V1_FREEZER, l->freezer, field[4], superopts);
		}
	}
	if (l->v2) {
		l->memory[0] = l->pids[0] = l->cpu[0] = l->cpuset[0] = l->systemd[0] = '\0';
		l->freezer[0] = '\0';
		return 0;
	}
	if (l->memory[0] == '\0')
		return splq_fail(err, SPLQ_E_UNSUPPORTED,
		                 "no memory cgroup controller on this host: looked for a cgroup2 "
		                 "mount with 'memory' in cgroup.controllers and a cgroup v1 "
		                 "'memory' hierarchy in /proc/self/mountinfo");
	strcpy(l->v2mount, unified);
	if (unified[0]) /* cgroup.freeze there */
		l->freezer[0] = '\0';
	return 0;
}

/* The host's cgroup mounts do not change under a running splq, and a start
 * asks for them several times: they are read once per process (the only
 * state this file keeps; forked children inherit it). */
int cg_load_layout(struct cg_layout *l, struct splq_error *err)
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

int cg_qube_dirs(const struct cg_layout *l, const char *qube, struct cg_dir d[CG_MAX_DIRS], int *n,
                 struct splq_error *err)
{
	*n = 0;
	if (check_qube(qube, err) < 0)
		return -1;
	if (l->v2)
		return add_dir(d, n, CG_V2, l->v2mount, l, qube, err);
	if (add_dir(d, n, CG_V1_MEMORY, l->memory, l, qube, err) < 0 ||
	    add_dir(d, n, CG_V1_PIDS, l->pids, l, qube, err) < 0 ||
	    add_dir(d, n, CG_V1_CPU, l->cpu, l, qube, err) < 0 ||
	    add_dir(d, n, CG_V1_CPUSET, l->cpuset, l, qube, err) < 0 ||
	    add_dir(d, n, CG_UNIFIED, l->v2mount, l, qube, err) < 0 ||
	    add_dir(d, n, CG_V1_FREEZER, l->freezer, l, qube, err) < 0)
		return -1;
	return 0;
}

/* On v1: the hierarchies the qube has a cgroup in (bar cpuset, which no
 * service manager kills by) and name=systemd, so that the supervisor is in
 * none of its caller's cgroups that a service manager kills. */
int cg_sup_dirs(const struct cg_layout *l, const char *qube, struct cg_dir d[CG_MAX_DIRS], int *n,
                struct splq_error *err)
{
	char sup[CG_QUBE_MAX + 8];

	*n = 0;
	if (check_qube(qube, err) < 0)
		return -1;
	snprintf(sup, sizeof(sup), "%s.sup", qube);
	if (l->v2)
		return add_dir(d, n, CG_V2, l->v2mount, l, sup, err);
	if (add_dir(d, n, CG_V1_MEMORY, l->memory, l, sup, err) < 0 ||
	    add_dir(d, n, CG_V1_PIDS, l->pids, l, sup, err) < 0 ||
	    add_dir(d, n, CG_V1_CPU, l->cpu, l, sup, err) < 0 ||
	    add_dir(d, n, CG_V1_SYSTEMD, l->systemd, l, sup, err) < 0 ||
	    add_dir(d, n, CG_UNIFIED, l->v2mount, l, sup, err) < 0)
		return -1;
	return 0;
}

bool cg_optional_kind(enum cg_kind kind)
{
	return kind == CG_V1_CPU || kind == CG_V1_CPUSET;
}

bool cg_is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cg_parent_depth(const char *parent)
{
	int n = 1;

	for (const char *c = parent; *c; c++)
		n += *c == '/';
	return n;
}

int cg_parent_prefix(char *out, size_t max, const char *mount, const char *parent, int k)
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
