/* splq native: the seccomp filter of a qube (see seccomp.h).
 *
 * libseccomp builds the filter once; it is exported as a classic BPF
 * program so that loading it in a qube's process is two system calls and
 * no libseccomp work. */
#include "native/seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* System calls newer than some libseccomp releases know: their numbers
 * come from the kernel headers, or from the table every architecture
 * shares since Linux 5.1 (numbers 424 and up) where that table applies. */
#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) ||                            \
    (defined(__riscv) && __riscv_xlen == 64)
#define SHARED_NR(n) (n)
#else
#define SHARED_NR(n) (-1)
#endif
#ifdef __NR_clone3
#define NR_CLONE3 __NR_clone3
#else
#define NR_CLONE3 SHARED_NR(435)
#endif
#ifdef __NR_fsopen
#define NR_FSOPEN __NR_fsopen
#else
#define NR_FSOPEN SHARED_NR(430)
#endif
#ifdef __NR_fsconfig
#define NR_FSCONFIG __NR_fsconfig
#else
#define NR_FSCONFIG SHARED_NR(431)
#endif
#ifdef __NR_fsmount
#define NR_FSMOUNT __NR_fsmount
#else
#define NR_FSMOUNT SHARED_NR(432)
#endif
#ifdef __NR_fspick
#define NR_FSPICK __NR_fspick
#else
#define NR_FSPICK SHARED_NR(433)
#endif
#ifdef __NR_open_tree
#define NR_OPEN_TREE __NR_open_tree
#else
#define NR_OPEN_TREE SHARED_NR(428)
#endif
#ifdef __NR_move_mount
#define NR_MOVE_MOUNT __NR_move_mount
#else
#define NR_MOVE_MOUNT SHARED_NR(429)
#endif
#ifdef __NR_mount_setattr
#define NR_MOUNT_SETATTR __NR_mount_setattr
#else
#define NR_MOUNT_SETATTR SHARED_NR(442)
#endif
#ifdef __NR_quotactl_fd
#define NR_QUOTACTL_FD __NR_quotactl_fd
#else
#define NR_QUOTACTL_FD SHARED_NR(443)
#endif
#ifdef __NR_open_tree_attr
#define NR_OPEN_TREE_ATTR __NR_open_tree_attr
#else
#define NR_OPEN_TREE_ATTR SHARED_NR(467)
#endif
#ifdef __NR_io_uring_setup
#define NR_IO_URING_SETUP __NR_io_uring_setup
#else
#define NR_IO_URING_SETUP SHARED_NR(425)
#endif
#ifdef __NR_io_uring_enter
#define NR_IO_URING_ENTER __NR_io_uring_enter
#else
#define NR_IO_URING_ENTER SHARED_NR(426)
#endif
#ifdef __NR_io_uring_register
#define NR_IO_URING_REGISTER __NR_io_uring_register
#else
#define NR_IO_URING_REGISTER SHARED_NR(427)
#endif
#define NR_NONE (-1)

struct denied {
	const char *name;
	int fallback; /* number to use if libseccomp does not know the name */
};

/* Refused outright with EPERM. */
static const struct denied denied_calls[] = {
    /* mounting */
    {"mount", NR_NONE},
    {"umount", NR_NONE},
    {"umount2", NR_NONE},
    {"pivot_root", NR_NONE},
    {"fsopen", NR_FSOPEN},
    {"fsconfig", NR_FSCONFIG},
    {"fsmount", NR_FSMOUNT},
    {"fspick", NR_FSPICK},
    {"open_tree", NR_OPEN_TREE},
    {"open_tree_attr", NR_OPEN_TREE_ATTR},
    {"move_mount", NR_MOVE_MOUNT},
    {"mount_setattr", NR_MOUNT_SETATTR},
    /* joining namespaces */
    {"setns", NR_NONE},
    /* kernel modules, kexec */
    {"init_module", NR_NONE},
    {"finit_module", NR_NONE},
    {"delete_module", NR_NONE},
    {"kexec_load", NR_NONE},
    {"kexec_file_load", NR_NONE},
    /* keyrings */
    {"keyctl", NR_NONE},
    {"add_key", NR_NONE},
    {"request_key", NR_NONE},
    /* raw I/O */
    {"iopl", NR_NONE},
    {"ioperm", NR_NONE},
    /* the host's swap, power, log and accounting */
    {"swapon", NR_NONE},
    {"swapoff", NR_NONE},
    {"reboot", NR_NONE},
    {"syslog", NR_NONE},
    {"acct", NR_NONE},
    /* clocks and time */
    {"settimeofday", NR_NONE},
    {"stime", NR_NONE},
    {"clock_settime", NR_NONE},
    {"clock_settime64", NR_NONE},
    {"adjtimex", NR_NONE},
    {"clock_adjtime", NR_NONE},
    {"clock_adjtime64", NR_NONE},
    /* kernel attack surface */
    {"bpf", NR_NONE},
    {"perf_event_open", NR_NONE},
    {"userfaultfd", NR_NONE},
    {"open_by_handle_at", NR_NONE},
    {"name_to_handle_at", NR_NONE},
    {"quotactl", NR_NONE},
    {"quotactl_fd", NR_QUOTACTL_FD},
    {"uselib", NR_NONE},
    {"vhangup", NR_NONE},
    {"nfsservctl", NR_NONE},
    {"lookup_dcookie", NR_NONE},
};

/* io_uring: a large kernel surface that seccomp cannot see into (the
 * operations it runs are not system calls), refused unless the qube has
 * the feature splq.allow-io_uring.  EPERM, as the kernel itself answers
 * when io_uring is disabled (kernel.io_uring_disabled) and as container
 * runtimes' default profiles answer: programs already fall back on it. */
static const struct denied io_uring_calls[] = {
    {"io_uring_setup", NR_IO_URING_SETUP},
    {"io_uring_enter", NR_IO_URING_ENTER},
    {"io_uring_register", NR_IO_URING_REGISTER},
};

/* Every flag that makes a new namespace. */
static const uint64_t ns_flags[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME,
};

#define PERSONALITY_QUERY 0xffffffffULL

/* The number of a system call on the native architecture; -1 if neither
 * libseccomp nor the kernel headers know it there. */
static int resolve(const char *name, int fallback)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return fallback >= 0 ? fallback : -1;
	return nr;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
                    unsigned int argc, const struct scmp_arg_cmp *args, struct splq_error *err)
{
	int r = seccomp_rule_add_array(ctx, action, nr, argc, args);

	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r,
		                       "cannot add the seccomp rule for %s", name);
	return 0;
}

/* action when (arg & flag) != 0 for any namespace flag */
static int deny_ns_flags(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned int arg,
                         struct splq_error *err)
{
	int nr = resolve(name, NR_NONE);

	if (nr < 0)
		return 0;
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		struct scmp_arg_cmp cmp = {arg, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]};

		if (add_rule(ctx, action, nr, name, 1, &cmp, err) < 0)
			return -1;
	}
	return 0;
}

/* personality: only PER_LINUX (0) and the query 0xffffffff.  The kernel
 * reads the low 32 bits; they are neither all zeros nor all ones exactly
 * when two neighbouring bits differ, and each such pair is one rule. */
static int deny_personality(scmp_filter_ctx ctx, struct splq_error *err)
{
	int nr = resolve("personality", NR_NONE);

	if (nr < 0)
		return 0;
	for (int bit = 0; bit < 31; bit++) {
		uint64_t mask = 3ULL << bit;
		struct scmp_arg_cmp lo = {0, SCMP_CMP_MASKED_EQ, mask, 1ULL << bit};
		struct scmp_arg_cmp hi = {0, SCMP_CMP_MASKED_EQ, mask, 2ULL << bit};

		if (add_rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, "personality", 1, &lo, err) < 0 ||
		    add_rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, "personality", 1, &hi, err) < 0)
			return -1;
	}
	return 0;
}

/* EPERM for each call of list */
static int deny_calls(scmp_filter_ctx ctx, const struct denied *list, size_t n,
                      struct splq_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int nr = resolve(list[i].name, list[i].fallback);

		if (nr < 0)
			continue;
		if (add_rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, list[i].name, 0, NULL, err) < 0)
			return -1;
	}
	return 0;
}

static int build_rules(scmp_filter_ctx ctx, unsigned flags, struct splq_error *err)
{
	uint32_t arch = seccomp_arch_native();
	/* clone(flags, ...) everywhere but on s390, where flags come second */
	unsigned int clone_flags_arg = (arch == SCMP_ARCH_S390 || arch == SCMP_ARCH_S390X) ? 1 : 0;
	int r, nr;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r,
		                       "cannot make foreign system calls kill the process");

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
	if (deny_calls(ctx, denied_calls, COUNT(denied_calls), err) < 0)
		return -1;
	if (!(flags & SPLQ_SECCOMP_IO_URING) &&
	    deny_calls(ctx, io_uring_calls, COUNT(io_uring_calls), err) < 0)
		return -1;
#undef COUNT
	if (deny_ns_flags(ctx, SCMP_ACT_ERRNO(EPERM), "unshare", 0, err) < 0 ||
	    deny_ns_flags(ctx, SCMP_ACT_ERRNO(EPERM), "clone", clone_flags_arg, err) < 0 ||
	    deny_personality(ctx, err) < 0)
		return -1;
	/* clone3 hides its flags behind a pointer: ENOSYS makes libc fall
	 * back to clone, whose flags the filter can see. */
	nr = resolve("clone3", NR_CLONE3);
	if (nr >= 0 && add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, "clone3", 0, NULL, err) < 0)
		return -1;
	return 0;
}

/* Export the filter as raw BPF through a memfd and read it back. */
static int export_bpf(scmp_filter_ctx ctx, void **prog, size_t *len, struct splq_error *err)
{
	cleanup_close int fd = memfd_create("splq-seccomp", MFD_CLOEXEC);
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t off = 0;
	int r;

	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot create a memfd for the seccomp filter");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, -r,
		                       "cannot export the seccomp filter");
	if (fstat(fd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno,
		                       "cannot size the exported seccomp filter");
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "the exported seccomp filter has an unexpected size (%lld bytes)",
		                 (long long)st.st_size);
	buf = splq_xmalloc((size_t)st.st_size);
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, n < 0 ? errno : EIO,
			                       "cannot read back the seccomp filter");
		off += (size_t)n;
	}
	*len = (size_t)st.st_size / sizeof(struct sock_filter);
	*prog = splq_steal(buf);
	return 0;
}

int splq_seccomp_build(unsigned flags, void **prog, size_t *len, struct splq_error *err)
{
	scmp_filter_ctx ctx;
	int r;

	*prog = NULL;
	*len = 0;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot start building the seccomp filter");
	r = build_rules(ctx, flags, err);
	if (r == 0)
		r = export_bpf(ctx, prog, len, err);
	seccomp_release(ctx);
	return r;
}

int splq_seccomp_load(const void *prog, size_t len, struct splq_error *err)
{
	struct sock_fprog fprog;
	long r;

	if (!prog || len == 0 || len > BPF_MAXINSNS)
		return splq_fail(err, SPLQ_E_VALUE,
		                 "a seccomp filter of %zu instructions cannot be loaded", len);
	fprog.len = (unsigned short)len;
	fprog.filter = (struct sock_filter *)prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot set no_new_privs");
	/* TSYNC: every thread of the process gets the filter, or none does. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (r == 0)
		return 0;
	if (r > 0)
		return splq_fail(err, SPLQ_E_INTERNAL,
		                 "cannot load the seccomp filter: thread %ld runs another filter",
		                 r);
	if (errno == ENOSYS && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == 0)
		return 0;
	if (errno == EINVAL)
		return splq_fail_errno(err, SPLQ_E_UNSUPPORTED, errno,
		                       "the kernel refused the seccomp filter");
	return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot load the seccomp filter");
}
