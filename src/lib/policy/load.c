/* splq: a policy directory (policy.d/) into a policy (see policy.h).
 *
 * As Qubes reads /etc/qubes/policy.d: the regular files whose names end
 * in ".policy" and do not start with '.', in name order; any such name
 * with a character other than 0-9 a-z _ . - fails the whole load.  Paths
 * in !include, !include-dir and !include-service are relative to the
 * policy directory, also in included files.  Unlike Qubes, splq follows
 * no symbolic link inside the directory (a linked policy file is an
 * error) and takes no absolute path and no ".." in an include: every
 * file is opened beneath the directory's descriptor, with O_NOFOLLOW at
 * each step. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "util.h"

#define MAX_FILE (16 << 20)

struct loader {
	int dirfd;
	const char *label;
};

/* Open path beneath l->dirfd, no links followed; dir: it must be a
 * directory.  *shown gets "LABEL/path" (malloc'ed). */
static int open_beneath(const struct loader *l, const char *path, bool dir, char **shown,
                        struct splq_error *err)
{
	cleanup_free char *copy = splq_xstrdup(path);
	cleanup_free char *name = splq_xstrdup(l->label);
	char *save = NULL, *comp, *next;
	int fd = dup(l->dirfd);

	*shown = NULL;
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open '%s'", path);
	if (path[0] == '/') {
		close(fd);
		return splq_fail(
		    err, SPLQ_E_POLICY,
		    "'%s': an include names a path inside the policy directory, not an "
		    "absolute one",
		    path);
	}
	comp = strtok_r(copy, "/", &save);
	while (comp) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, ".") == 0) {
			comp = next;
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			close(fd);
			return splq_fail(err, SPLQ_E_POLICY,
			                 "'%s': an include cannot leave the policy directory (..)",
			                 path);
		}
		char *longer = splq_strdup_printf("%s/%s", name, comp);
		free(name);
		name = longer;
		int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
		if (next || dir)
			flags |= O_DIRECTORY;
		int nfd = openat(fd, comp, flags);
		int e = errno;
		close(fd);
		if (nfd < 0) {
			if (e == ELOOP)
				return splq_fail(
				    err, SPLQ_E_POLICY,
				    "%s is a symbolic link (splq follows none in policy "
				    "directories)",
				    name);
			if (e == ENOTDIR)
				return splq_fail(err, SPLQ_E_POLICY, "not a directory: %s", name);
			if (e == ENOENT)
				return splq_fail(err, SPLQ_E_POLICY, "no such file: %s", name);
			return splq_fail_errno(err, SPLQ_E_POLICY, e, "cannot open %s", name);
		}
		fd = nfd;
		comp = next;
	}
	*shown = splq_steal(name);
	return fd;
}

/* The whole regular file open at fd. */
static int read_fd(int fd, const char *shown, char **text, size_t *len, struct splq_error *err)
{
	struct stat st;
	size_t n = 0, cap;
	char *buf;

	if (fstat(fd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot read %s", shown);
	if (!S_ISREG(st.st_mode))
		return splq_fail(err, SPLQ_E_POLICY, "not a file: %s", shown);
	if (st.st_size > MAX_FILE)
		return splq_fail(err, SPLQ_E_POLICY, "%s is larger than %d MiB", shown,
		                 MAX_FILE >> 20);
	cap = (size_t)st.st_size + 1;
	buf = splq_xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			if (cap > MAX_FILE) {
				free(buf);
				return splq_fail(err, SPLQ_E_POLICY, "%s is larger than %d MiB",
				                 shown, MAX_FILE >> 20);
			}
			cap *= 2;
			if (!(buf = realloc(buf, cap)))
				abort();
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "cannot read %s", shown);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int read_one(void *ctx, const char *path, char **text, size_t *len, char **name,
                    struct splq_error *err)
{
	const struct loader *l = ctx;
	int fd = open_beneath(l, path, false, name, err);
	int rc;

	if (fd < 0)
		return -1;
	rc = read_fd(fd, *name, text, len, err);
	close(fd);
	if (rc < 0) {
		free(*name);
		*name = NULL;
	}
	return rc;
}

static bool policy_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 7 && strcmp(n + len - 7, ".policy") == 0;
}

static bool name_ok(const char *n)
{
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_' ||
		      *n == '.' || *n == '-'))
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The policy files of the directory open at dfd (consumed), shown as
 * shown. */
static int read_files(int dfd, const char *shown, struct splq_policy_file **out, int *nout,
                      struct splq_error *err)
{
	DIR *d = fdopendir(dfd);
	char **names = NULL;
	int n = 0, cap = 0, rc = 0;
	struct dirent *e;
	struct splq_policy_file *v = NULL;

	*out = NULL;
	*nout = 0;
	if (!d) {
		int en = errno;
		close(dfd);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, en, "cannot list %s", shown);
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!policy_name(e->d_name))
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISLNK(st.st_mode)) {
			rc = splq_fail(err, SPLQ_E_POLICY,
			               "%s/%s is a symbolic link (splq follows none in policy "
			               "directories)",
			               shown, e->d_name);
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if (!(names = realloc(names, (size_t)cap * sizeof(char *))))
				abort();
		}
		names[n++] = splq_xstrdup(e->d_name);
	}
	for (int i = 0; rc == 0 && i < n; i++)
		if (!name_ok(names[i]))
			rc = splq_fail(err, SPLQ_E_POLICY,
			               "%s/%s: a policy file's name may hold only 0-9 a-z _ . -",
			               shown, names[i]);
	if (rc == 0) {
		qsort(names, (size_t)n, sizeof(char *), cmp_str);
		v = splq_xcalloc((size_t)n + 1, sizeof(*v));
	}
	for (int i = 0; rc == 0 && i < n; i++) {
		int fd = openat(dfd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

		v[i].name = splq_strdup_printf("%s/%s", shown, names[i]);
		if (fd < 0) {
			rc = splq_fail_errno(err, errno == ELOOP ? SPLQ_E_POLICY : SPLQ_E_INTERNAL,
			                     errno, "cannot open %s", v[i].name);
			break;
		}
		rc = read_fd(fd, v[i].name, &v[i].text, &v[i].len, err);
		close(fd);
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc < 0) {
		if (v)
			splq_policy_files_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int read_dir(void *ctx, const char *path, struct splq_policy_file **files, int *n,
                    struct splq_error *err)
{
	const struct loader *l = ctx;
	cleanup_free char *shown = NULL;
	int fd = open_beneath(l, path, true, &shown, err);

	if (fd < 0)
		return -1;
	return read_files(fd, shown, files, n, err);
}

int splq_policy_load_dirfd(struct splq_policy *p, int dirfd, const char *label,
                           struct splq_error *err)
{
	struct loader l = {.dirfd = dirfd, .label = label};
	struct splq_policy_includes inc = {.read = read_one, .read_dir = read_dir, .ctx = &l};
	struct splq_policy_file *v;
	int n, rc = 0, fd = dup(dirfd);

	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open %s", label);
	if (read_files(fd, label, &v, &n, err) < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++)
		rc = splq_policy_add_text(p, v[i].name, v[i].text, v[i].len, &inc, err);
	splq_policy_files_free(v, n);
	return rc;
}

int splq_policy_load_dir(struct splq_policy *p, const char *path, struct splq_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *label = splq_xstrdup(path);
	size_t len = strlen(label);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return splq_fail(err, SPLQ_E_NOTFOUND, "no policy directory '%s'", path);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open '%s'", path);
	}
	while (len > 1 && label[len - 1] == '/')
		label[--len] = '\0';
	return splq_policy_load_dirfd(p, fd, label, err);
}
