/* splq native: user namespaces as uid maps (see userns.h). */
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../store.h"
#include "../util.h"

long splq_slot_base(int slot)
{
	return SPLQ_UID_BASE + (long)slot * SPLQ_UID_RANGE;
}

static int write_map(pid_t pid, const char *file, const char *map, struct splq_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return splq_write_string(path, map, err);
}

/* The holder of a new user namespace: it only has to exist until its
 * maps are written and the namespace is opened, then it is killed. */
static int hold(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int splq_userns_open(long ns_first, long host_first, long count, int *fd, struct splq_error *err)
{
	/* Born in the new namespace, sharing our memory (no page tables to
	 * copy, which a fork of splq would): the holder runs on this stack. */
	char stack[16384] __attribute__((aligned(16)));
	pid_t pid = clone(hold, stack + sizeof(stack), CLONE_NEWUSER | CLONE_VM | SIGCHLD, NULL);
	if (pid < 0)
		return splq_fail_errno(
		    err, errno == EINVAL || errno == ENOSPC ? SPLQ_E_UNSUPPORTED : SPLQ_E_INTERNAL,
		    errno, "cannot create a user namespace");
	int r = -1;
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
