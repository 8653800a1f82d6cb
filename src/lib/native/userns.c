/* splq native: user namespaces as uid maps (see userns.h). */
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../store.h"
#include "../util.h"

long splq_slot_base(int slot)
{
	return SPLQ_UID_BASE + (long)slot * SPLQ_UID_RANGE;
}

int splq_userns_lease(int preferred, int *slot, struct splq_error *err)
{
	const char *ranges = SPLQ_HOST_DIR "/ranges";
	if (splq_mkdir_p(ranges, 0700, err) < 0)
		return -1;
	cleanup_close int dir = open(ranges, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", ranges);
	if (preferred < 1 || preferred > SPLQ_SLOTS_MAX)
		preferred = 1;
	for (int i = 0; i < SPLQ_SLOTS_MAX; i++) {
		int s = 1 + (preferred - 1 + i) % SPLQ_SLOTS_MAX;
		char name[16];
		snprintf(name, sizeof(name), "%d", s);
		int fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s/%s", ranges,
			                       name);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*slot = s;
			return fd;
		}
		int e = errno;
		close(fd);
		if (e != EWOULDBLOCK)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "lock %s/%s", ranges, name);
	}
	return splq_fail(err, SPLQ_E_STATE,
	                 "no free uid range on this host: %d qubes of its stores run",
	                 SPLQ_SLOTS_MAX);
}

static int write_map(pid_t pid, const char *file, const char *map, struct splq_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return splq_write_string(path, map, err);
}

/* The namespace's own limits (/proc/sys/user inside it, which a process
 * sees for its own user namespace).  The kernel checks a count against
 * the limit of every namespace up to the host's, so these only ever
 * lower what the owner's share on the host allows.  Nothing in a qube
 * makes namespaces (the seccomp filter refuses every CLONE_NEW* flag and
 * setns): none may be made here either, should a way around the filter
 * be found.  The inotify, fanotify and message queue limits stay the
 * host's: the owner's share on the host (its per-user limits) already
 * bounds the qube as a whole. */
#define USER_SYSCTL "/proc/sys/user/"
static const char *const no_namespaces[] = {
    USER_SYSCTL "max_user_namespaces",   USER_SYSCTL "max_mnt_namespaces",
    USER_SYSCTL "max_pid_namespaces",    USER_SYSCTL "max_net_namespaces",
    USER_SYSCTL "max_uts_namespaces",    USER_SYSCTL "max_ipc_namespaces",
    USER_SYSCTL "max_cgroup_namespaces", USER_SYSCTL "max_time_namespaces",
};

struct holder {
	int report; /* write end: the errno of the limits, 0 when set */
	int failed; /* index of the limit that failed */
};

/* The holder of a new user namespace: sets the namespace's limits (it has
 * every capability in it, CAP_SYS_RESOURCE among them), reports, and then
 * only has to exist until its maps are written and the namespace is
 * opened; then it is killed.  It shares splq's memory (and errno, which
 * splq reads only once the report is in): system calls only, nothing of
 * libc that keeps state. */
static int hold(void *arg)
{
	struct holder *h = arg;
	int e = 0;
	for (size_t i = 0; i < sizeof(no_namespaces) / sizeof(no_namespaces[0]) && !e; i++) {
		int fd = open(no_namespaces[i], O_WRONLY | O_CLOEXEC);
		/* left as they are: a limit this kernel does not have, or a
		 * /proc/sys mounted read-only (as container runtimes mount it),
		 * where the seccomp filter alone refuses new namespaces */
		if (fd < 0) {
			if (errno != ENOENT && errno != EROFS)
				e = errno, h->failed = (int)i;
			continue;
		}
		if (write(fd, "0\n", 2) != 2)
			e = errno ? errno : EIO, h->failed = (int)i;
		close(fd);
	}
	(void)!write(h->report, &e, sizeof(e));
	for (;;)
		pause();
	return 0;
}

/* clone() with effective ids (uid, gid): the kernel makes them the owner
 * of a user namespace the clone creates.  Only this thread's ids change
 * (the raw system calls; glibc's setresuid would change every thread's),
 * and only for the clone: the saved ids stay root's, so that root comes
 * back, with its capabilities. */
static pid_t clone_owned_by(uid_t uid, gid_t gid, int (*fn)(void *), void *stack, int flags,
                            void *arg)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -1;
	/* a change of effective id makes the (shared) memory not dumpable */
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (syscall(SYS_setresgid, -1, gid, -1) < 0)
		return -1;
	if (syscall(SYS_setresuid, -1, uid, -1) < 0) {
		int e = errno;
		if (syscall(SYS_setresgid, -1, eg, -1) < 0)
			abort();
		errno = e;
		return -1;
	}
	pid_t pid = clone(fn, stack, flags, arg);
	int e = errno;
	/* cannot fail: the real and saved ids are still the old ones */
	if (syscall(SYS_setresuid, -1, eu, -1) < 0 || syscall(SYS_setresgid, -1, eg, -1) < 0)
		abort();
	if (dumpable >= 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	errno = e;
	return pid;
}

int splq_userns_open(long ns_first, long host_first, long count, int *fd, struct splq_error *err)
{
	/* The namespace's owner is its first host id, not root: the kernel
	 * charges the per-user counters of everything done in a namespace
	 * (inotify instances and watches, namespaces, message queue bytes,
	 * pending signals, locked memory) to the namespace's owner at each
	 * level above it.  Owned by root, every qube would draw on root's
	 * share, and one qube could exhaust it for the host's root and for
	 * every other qube; owned by its range's first id, it has a share of
	 * its own.  Owning the namespace gives that id every capability in it
	 * only for a process of the host's namespace with that effective id,
	 * and there is none: no host account has ids that high, splq itself
	 * takes the id only for this clone, and every process that runs with
	 * it runs inside the qube's namespace, as the qube's root.  Host root
	 * still writes the maps.
	 *
	 * The holder is born in the new namespace and shares our memory (no
	 * page tables to copy, which a fork of splq would): it runs on this
	 * stack. */
	char stack[16384] __attribute__((aligned(16)));
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	struct holder h = {.report = pipefd[1]};
	pid_t pid = clone_owned_by((uid_t)host_first, (gid_t)host_first, hold,
	                           stack + sizeof(stack), CLONE_NEWUSER | CLONE_VM | SIGCHLD, &h);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return splq_fail_errno(
		    err, errno == EINVAL || errno == ENOSPC ? SPLQ_E_UNSUPPORTED : SPLQ_E_INTERNAL,
		    errno, "cannot create a user namespace owned by host uid %ld", host_first);
	}
	int r = -1, e = 0;
	ssize_t n;
	while ((n = read(pipefd[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	if (n != sizeof(e)) {
		splq_fail(err, SPLQ_E_INTERNAL, "the holder of a new user namespace ended early");
		goto out;
	}
	if (e) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, e, "set %s in a new user namespace",
		                no_namespaces[h.failed]);
		goto out;
	}
	char map[96];
	snprintf(map, sizeof(map), "%ld %ld %ld\n", ns_first, host_first, count);
	if (write_map(pid, "uid_map", map, err) < 0 || write_map(pid, "gid_map", map, err) < 0)
		goto out;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "open %s", path);
		goto out;
	}
	r = 0;
out:
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}
