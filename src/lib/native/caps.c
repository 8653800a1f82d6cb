/* splq native: the capabilities of processes in a qube (see caps.h). */
#include "native/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

/* What root in a qube keeps. */
static const cap_value_t kept[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FOWNER,  CAP_FSETID,           CAP_KILL,
    CAP_SETGID,  CAP_SETUID,       CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_SETFCAP, CAP_AUDIT_WRITE,
};

static bool is_kept(int cap)
{
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (kept[i] == cap)
			return true;
	return false;
}

/* The highest capability the running kernel knows. */
static int last_cap(void)
{
	cleanup_close int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16];
	ssize_t n;
	int cap;

	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		char *end;
		long v;

		buf[n] = '\0';
		v = strtol(buf, &end, 10);
		if (end != buf && v >= 0 && v < 64)
			return (int)v;
	}
	/* No /proc (yet): ask the bounding set, which answers EINVAL past the end. */
	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break;
	return cap > 0 ? cap - 1 : CAP_LAST_CAP;
}

int splq_caps_reduce(struct splq_error *err)
{
	int last = last_cap();
	cap_t cur, want;
	int r = 0;

	for (int cap = 0; cap <= last; cap++) {
		if (is_kept(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			continue; /* a capability this kernel does not have */
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
			continue; /* already out of the bounding set */
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot drop capability %d from the bounding set", cap);
	}

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot clear the ambient capabilities");

	cur = cap_get_proc();
	if (!cur)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot read the process's capabilities");
	want = cap_init();
	if (!want) {
		cap_free(cur);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot allocate a capability set");
	}
	/* permitted and effective: the kept set as far as the process has it;
	 * inheritable: the same, within the bounding set (the kernel refuses
	 * more) */
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		cap_value_t c = kept[i];
		cap_flag_value_t have = CAP_CLEAR;

		if (c > last || cap_get_flag(cur, c, CAP_PERMITTED, &have) < 0 || have != CAP_SET)
			continue;
		if (cap_set_flag(want, CAP_PERMITTED, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0) {
			r = splq_fail(err, SPLQ_E_INTERNAL, "cannot build the capability set");
			goto out;
		}
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    cap_set_flag(want, CAP_INHERITABLE, 1, &c, CAP_SET) < 0) {
			r = splq_fail(err, SPLQ_E_INTERNAL, "cannot build the capability set");
			goto out;
		}
	}
	if (cap_set_proc(want) < 0)
		r = splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                    "cannot set the process's capabilities");
out:
	cap_free(want);
	cap_free(cur);
	return r;
}
