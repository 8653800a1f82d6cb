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

int splq_userns_open(long ns_first, long host_first, long count, int *fd, struct splq_error *err)
{
	int ready[2], done[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	if (pipe2(done, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "fork");
	}
	if (pid == 0) {
		/* The child only holds the namespace until the parent has
		 * written the maps and opened it. */
		close(ready[0]);
		close(done[1]);
		char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		(void)!read(done[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);
	char c = 0;
	int r = -1;
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		splq_fail(err, SPLQ_E_UNSUPPORTED,
		          "cannot create a user namespace (is user.max_user_namespaces 0?)");
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
	close(done[1]); /* lets the child end */
	close(ready[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}
