/* splq native: a qube's log, the writer's side (see qubelog.h).  Linked
 * into splq and into the static splq-init, whose supervisor writes it. */
#include "qubelog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

void splq_qubelog_names(const char *name, struct splq_qubelog_names *n)
{
	snprintf(n->cur, sizeof(n->cur), "%.*s.log", SPLQ_NAME_MAX, name);
	snprintf(n->prev, sizeof(n->prev), "%.*s.log.1", SPLQ_NAME_MAX, name);
}

int splq_qubelog_dir(const char *home, struct splq_error *err)
{
	cleanup_free char *path = splq_strdup_printf("%s/%s", home, SPLQ_QUBELOG_DIR);
	if (splq_mkdir_p(path, 0700, err) < 0)
		return -1;
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", path);
	return fd;
}

void splq_qubelog_init(struct splq_qubelog *l, int dir, const char *name, long long max)
{
	l->dir = dir;
	l->fd = -1;
	l->size = 0;
	l->max = max > 0 ? max : SPLQ_QUBELOG_MAX;
	splq_qubelog_names(name, &l->names);
}

bool splq_qubelog_must_rotate(long long size, size_t len, long long max)
{
	if (size <= 0 || len == 0)
		return false;
	return size >= max || len > (unsigned long long)(max - size);
}

/* Open the current file for appending (made 0600 if missing, or emptied
 * with trunc); -1 when it cannot be, or is not a regular file. */
static int open_current(struct splq_qubelog *l, bool trunc)
{
	struct stat st;
	int fd = openat(l->dir, l->names.cur,
	                O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC |
	                    (trunc ? O_TRUNC : 0),
	                0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	fchmod(fd, 0600); /* whatever the umask */
	l->size = st.st_size;
	return fd;
}

void splq_qubelog_write(struct splq_qubelog *l, const char *buf, size_t len)
{
	if (l->dir < 0 || len == 0)
		return;
	if ((long long)len > l->max) { /* the end of it is what matters */
		buf += len - (size_t)l->max;
		len = (size_t)l->max;
	}
	if (l->fd < 0 && (l->fd = open_current(l, false)) < 0)
		return;
	if (splq_qubelog_must_rotate(l->size, len, l->max)) {
		renameat(l->dir, l->names.cur, l->dir, l->names.prev);
		close(l->fd);
		if ((l->fd = open_current(l, true)) < 0)
			return;
	}
	while (len > 0) {
		ssize_t w = write(l->fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk: dropped */
		buf += w;
		len -= (size_t)w;
		l->size += w;
	}
}

void splq_qubelog_close(struct splq_qubelog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int splq_qubelog_remove(const char *home, const char *name, struct splq_error *err)
{
	struct splq_qubelog_names n;
	splq_qubelog_names(name, &n);
	const char *files[] = {n.cur, n.prev};
	int r = 0;
	for (int i = 0; i < 2; i++) {
		cleanup_free char *path =
		    splq_strdup_printf("%s/%s/%s", home, SPLQ_QUBELOG_DIR, files[i]);
		if (unlink(path) < 0 && errno != ENOENT && r == 0)
			r = splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "remove %s", path);
	}
	return r;
}
