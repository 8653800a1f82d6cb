/* splq native: the runtime folder and locks (see runtime.h). */
#include "runtime.h"

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

#include "../util.h"
#include "cgroup.h"

/* Runtime files need no fsync: they describe processes, which a crash
 * ends too.  Written through a rename so a reader never sees half. */
int splq_rt_write(const char *path, const void *data, size_t len, struct splq_error *err)
{
	cleanup_free char *tmp = splq_strdup_printf("%s.new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "create %s", tmp);
	ssize_t n = write(fd, data, len);
	int e = errno;
	close(fd);
	if (n != (ssize_t)len || rename(tmp, path) < 0) {
		e = n != (ssize_t)len ? (n < 0 ? e : ENOSPC) : errno;
		unlink(tmp);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "write %s", path);
	}
	return 0;
}

char *splq_rt_cgroup(struct splq_backend *b, const char *name)
{
	unsigned long long h = splq_fnv1a(SPLQ_FNV1A_INIT, b->home, strlen(b->home));
	return splq_strdup_printf("%s.%012llx", name, h & 0xffffffffffffULL);
}

char *splq_rt_dir(struct splq_backend *b, const char *name)
{
	return splq_strdup_printf("%s/qubes/%s", b->run, name);
}

char *splq_rt_file(struct splq_backend *b, const char *name, const char *file)
{
	return splq_strdup_printf("%s/qubes/%s/%s", b->run, name, file);
}

pid_t splq_rt_pid(struct splq_backend *b, const char *name, const char *file)
{
	cleanup_free char *path = splq_rt_file(b, name, file);
	cleanup_free char *text = NULL;
	struct splq_error ignored;
	if (splq_read_file(path, &text, NULL, &ignored) < 0)
		return -1;
	long v = strtol(text, NULL, 10);
	return v > 0 ? (pid_t)v : -1;
}

char *splq_rt_life_lock(struct splq_backend *b, const char *name)
{
	return splq_strdup_printf("%s/locks/%s.life", b->run, name);
}

int splq_rt_dirfd(struct splq_backend *b, int which)
{
	struct splq_native *n = (struct splq_native *)b;
	if (n->dirs[which] < 0) {
		cleanup_free char *dir =
		    splq_strdup_printf("%s/%s", b->run, which == SPLQ_RT_LOCKS ? "locks" : "qubes");
		n->dirs[which] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	return n->dirs[which];
}

int splq_rt_life(struct splq_backend *b, const char *name)
{
	char file[SPLQ_NAME_MAX + 8];
	snprintf(file, sizeof(file), "%s.life", name);
	cleanup_close int fd = openat(splq_rt_dirfd(b, SPLQ_RT_LOCKS), file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -1 : 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : 0;
	return 0;
}

int splq_rt_locked(struct splq_backend *b, const char *name)
{
	return splq_rt_life(b, name) == 1;
}

/* A supervisor cannot remove its own cgroup (cgroup.h): the process that
 * finds it ended does, holding the life lock shared, so that no start
 * makes a new one meanwhile.  It may still be on its way out of it (its
 * lock goes before its cgroup): a little wait. */
static void remove_supervisor_cgroup(struct splq_backend *b, const char *name, long wait_ms)
{
	cleanup_free char *cgroup = splq_rt_cgroup(b, name);
	struct splq_error ignored;
	splq_cgroup_supervisor_remove(cgroup, wait_ms, &ignored);
}

void splq_rt_wait_halted(struct splq_backend *b, const char *name)
{
	cleanup_free char *path = splq_rt_life_lock(b, name);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
	remove_supervisor_cgroup(b, name, 2000);
}

void splq_rt_sweep(struct splq_backend *b, const char *name)
{
	cleanup_free char *path = splq_rt_life_lock(b, name);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* a look, not a wait: what cannot go at once goes at the next one */
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0)
		remove_supervisor_cgroup(b, name, 100);
}

/* A pidfd of a running qube's pid 1, checked against the lock after it
 * was opened, so a reused pid is never taken for the qube's. */
int splq_rt_open_init(struct splq_backend *b, const char *name, struct splq_error *err)
{
	pid_t pid = splq_rt_pid(b, name, "init.pid");
	int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (fd < 0 || !splq_rt_locked(b, name)) {
		if (fd >= 0)
			close(fd);
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	}
	return fd;
}

/* A per-qube lock for start, shutdown and kill, so two splq processes never
 * start one qube twice. */
int splq_rt_lock(struct splq_backend *b, const char *name, int mode, struct splq_error *err)
{
	cleanup_free char *dir = splq_strdup_printf("%s/locks", b->run);
	if (splq_mkdir_p(dir, 0700, err) < 0)
		return -1;
	cleanup_free char *path = splq_strdup_printf("%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", path);
	while (flock(fd, mode) < 0) {
		if (errno != EINTR) {
			close(fd);
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "lock %s", path);
		}
	}
	return fd;
}

int splq_rt_op_lock(struct splq_backend *b, const char *name, struct splq_error *err)
{
	return splq_rt_lock(b, name, LOCK_EX, err);
}

int splq_rt_in_use(struct splq_backend *b, const char *file, char ***out, int *n)
{
	cleanup_free char *dir = splq_strdup_printf("%s/qubes", b->run);
	cleanup_dir DIR *d = opendir(dir);
	*out = NULL;
	*n = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *path = splq_rt_file(b, de->d_name, file);
		char *text = NULL;
		struct splq_error ignored;
		if (splq_read_file(path, &text, NULL, &ignored) < 0)
			continue;
		*out = realloc(*out, (*n + 1) * sizeof(char *));
		if (!*out)
			abort();
		(*out)[(*n)++] = text;
	}
	return 0;
}

/* TERM, LANG and LC_ALL of the caller reach commands in qubes; nothing
 * else of splq's environment does.  Fills env (NULL-terminated). */
int splq_rt_passed_env(char **env, int max)
{
	static const char *const keep[] = {"TERM", "LANG", "LC_ALL"};
	int n = 0;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]) && n < max - 1; i++)
		for (char **e = environ; e && *e; e++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0 &&
			    (*e)[strlen(keep[i])] == '=' && strlen(*e) < 256) {
				env[n++] = *e;
				break;
			}
	env[n] = NULL;
	return n;
}

/* The control socket's path, reached through an O_PATH descriptor of the
 * runtime folder so that a long SPLQ_RUN never overflows sun_path. */
int splq_rt_control_addr(struct splq_backend *b, const char *name, struct sockaddr_un *addr,
                         int *dirfd, struct splq_error *err)
{
	cleanup_free char *dir = splq_rt_dir(b, name);
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/control", *dirfd);
	return 0;
}

/* The mounted private volume of a running qube: its /home, reached
 * through its pid 1's root (a mount point the qube cannot change: its
 * mount namespace belongs to the host), without following any link. */
int splq_rt_open_home(struct splq_backend *b, const char *name, struct splq_error *err)
{
	cleanup_close int pidfd = splq_rt_open_init(b, name, err);
	if (pidfd < 0)
		return -1;
	pid_t pid = splq_rt_pid(b, name, "init.pid");
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	cleanup_close int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return splq_fail(err, SPLQ_E_STATE, "qube '%s' is not running", name);
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	                       .resolve =
	                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, rfd, "home", &how, sizeof(how));
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_STATE, errno, "open /home of '%s'", name);
	return fd;
}
