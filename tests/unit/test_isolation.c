/* splq: unit tests of the native isolation blocks: the seccomp filter,
 * the capability set and the qube cgroups.  They need root; each test
 * says why when it skips. */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "native/caps.h"
#include "native/cgroup.h"
#include "native/seccomp.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#define SKIP_BECAUSE(...)                                                                          \
	do {                                                                                       \
		print_message("skipped: " __VA_ARGS__);                                            \
		print_message("\n");                                                               \
		skip();                                                                            \
	} while (0)

#define REQUIRE_ROOT()                                                                             \
	do {                                                                                       \
		if (geteuid() != 0)                                                                \
			SKIP_BECAUSE("needs root");                                                \
	} while (0)

/* Wait for a child; its exit code, or 1000 + the signal that killed it. */
static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return -1;
}

/* ---------------------------------------------------------------- seccomp */

static const char *const seccomp_checks[] = {
    "load the filter",
    "mount() answers EPERM",
    "umount2() answers EPERM",
    "unshare(CLONE_NEWUSER) answers EPERM",
    "unshare(CLONE_NEWNS) answers EPERM",
    "unshare(CLONE_FILES|CLONE_NEWNET) answers EPERM",
    "clone(CLONE_NEWPID) answers EPERM",
    "clone3() answers ENOSYS",
    "keyctl() answers EPERM",
    "init_module() answers EPERM",
    "kexec_load() answers EPERM",
    "setns() answers EPERM",
    "bpf() answers EPERM",
    "personality(ADDR_NO_RANDOMIZE) answers EPERM",
    "getpid() works",
    "fork() works",
    "unshare(CLONE_FILES) works",
    "pthread_create() works",
    "personality(0xffffffff) and personality(PER_LINUX) work",
};

static void *thread_fn(void *arg)
{
	return arg;
}

static bool denied(long r, int want)
{
	return r == -1 && errno == want;
}

/* In a child: load the filter and run every check; exit 0 when all pass,
 * otherwise 1 + the index of the first failed check. */
static int seccomp_child(const void *prog, size_t len)
{
	struct splq_error err;
	uint64_t clone3_args[11] = {0};
	pthread_t th;
	static int token;
	void *ret = NULL;
	pid_t pid;
	int c = 0;

	if (splq_seccomp_load(prog, len, &err) < 0)
		return 1 + c;
	c++;
	if (!denied(mount("none", "/nonexistent-splq-test", "tmpfs", 0, NULL), EPERM))
		return 1 + c;
	c++;
	if (!denied(umount2("/nonexistent-splq-test", 0), EPERM))
		return 1 + c;
	c++;
	if (!denied(unshare(CLONE_NEWUSER), EPERM))
		return 1 + c;
	c++;
	if (!denied(unshare(CLONE_NEWNS), EPERM))
		return 1 + c;
	c++;
	if (!denied(unshare(CLONE_FILES | CLONE_NEWNET), EPERM))
		return 1 + c;
	c++;
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		wait_child(pid);
		return 1 + c;
	}
	if (errno != EPERM)
		return 1 + c;
	c++;
	clone3_args[4] = SIGCHLD; /* exit_signal */
	if (!denied(syscall(SYS_clone3, clone3_args, sizeof(clone3_args)), ENOSYS))
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM))
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_init_module, NULL, 0, ""), EPERM))
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM))
		return 1 + c;
	c++;
	if (!denied(setns(-1, 0), EPERM))
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_bpf, 0, NULL, 0), EPERM))
		return 1 + c;
	c++;
	if (!denied(personality(PER_LINUX | ADDR_NO_RANDOMIZE), EPERM))
		return 1 + c;
	c++;
	if (getpid() <= 0 || syscall(SYS_getpid) != getpid())
		return 1 + c;
	c++;
	pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid < 0 || wait_child(pid) != 7)
		return 1 + c;
	c++;
	if (unshare(CLONE_FILES) != 0)
		return 1 + c;
	c++;
	if (pthread_create(&th, NULL, thread_fn, &token) != 0 || pthread_join(th, &ret) != 0 ||
	    ret != &token)
		return 1 + c;
	c++;
	if (personality(0xffffffff) < 0 || personality(PER_LINUX) < 0)
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_io_uring_setup, 1, NULL), EPERM))
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0), EPERM))
		return 1 + c;
	c++;
	if (!denied(syscall(SYS_io_uring_register, -1, 0, NULL, 0), EPERM))
		return 1 + c;
	return 0;
}

/* getpid through the i386 system call entry (int 0x80). */
static int foreign_getpid(void)
{
#if defined(__x86_64__)
	int r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
	return r;
#else
	return -1;
#endif
}

static void test_seccomp_filter(void **state)
{
	struct splq_error err = {0};
	void *prog = NULL;
	size_t len = 0;
	pid_t pid;
	int rc;

	REQUIRE_ROOT();
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
		SKIP_BECAUSE("the kernel has no seccomp");

	assert_int_equal(splq_seccomp_build(0, &prog, &len, &err), 0);
	assert_non_null(prog);
	assert_true(len > 0 && len <= 4096);

	/* Without the filter, root gets other answers: the checks below tell
	 * the filter's work apart from the kernel's. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool ok =
		    !denied(mount("none", "/nonexistent-splq-test", "tmpfs", 0, NULL), EPERM) &&
		    !denied(setns(-1, 0), EPERM) &&
		    !denied(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(wait_child(pid), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(seccomp_child(prog, len));
	rc = wait_child(pid);
	if (rc != 0)
		print_message(
		    "seccomp check failed: %s (child status %d)\n",
		    rc > 0 && rc <= (int)(sizeof(seccomp_checks) / sizeof(seccomp_checks[0]))
		        ? seccomp_checks[rc - 1]
		        : "?",
		    rc);
	assert_int_equal(rc, 0);

	/* A system call of another architecture kills the process. */
#if defined(__x86_64__)
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* without i386 entry the kernel answers SIGSEGV: die of it here,
		 * not in cmocka's handler (which would go on running tests) */
		signal(SIGSEGV, SIG_DFL);
		_exit(foreign_getpid() == getpid() ? 0 : 1);
	}
	if (wait_child(pid) != 0) {
		print_message("note: no i386 system calls on this kernel; foreign-call check "
		              "left out\n");
	} else {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (splq_seccomp_load(prog, len, &err) < 0)
				_exit(2);
			foreign_getpid();
			_exit(0);
		}
		assert_int_equal(wait_child(pid), 1000 + SIGSYS);
	}
#endif
	free(prog);

	/* With SPLQ_SECCOMP_IO_URING, io_uring reaches the kernel (which
	 * faults the missing parameters, or answers EPERM itself when the
	 * host disables io_uring); the rest stays refused. */
	assert_int_equal(splq_seccomp_build(SPLQ_SECCOMP_IO_URING, &prog, &len, &err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (splq_seccomp_load(prog, len, &err) < 0)
			_exit(2);
		long r = syscall(SYS_io_uring_setup, 1, NULL);
		int e = errno;
		if (!denied(setns(-1, 0), EPERM) ||
		    !denied(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM))
			_exit(3);
		if (r == -1 && e == EFAULT)
			_exit(0);
		_exit(r == -1 && e == EPERM ? 4 : 5);
	}
	rc = wait_child(pid);
	if (rc == 4)
		print_message("note: io_uring is disabled on this host; allowed-variant check "
		              "left out\n");
	else
		assert_int_equal(rc, 0);
	free(prog);
}

static void test_seccomp_load_rejects_bad_program(void **state)
{
	struct splq_error err = {0};
	char buf[8] = {0};

	assert_int_equal(splq_seccomp_load(NULL, 0, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	assert_int_equal(splq_seccomp_load(buf, 100000, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
}

/* ------------------------------------------------------------------- caps */

/* CapEff of a program run after the reduction (root exec'ing a binary
 * would regain everything in the bounding set). */
static int exec_cap_eff(unsigned long long *eff)
{
	int p[2];
	char buf[8192];
	size_t off = 0;
	ssize_t n;
	pid_t pid;
	const char *line;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (off < sizeof(buf) - 1 && (n = read(p[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(p[0]);
	if (wait_child(pid) != 0)
		return -1;
	line = strstr(buf, "\nCapEff:");
	if (!line || sscanf(line + 8, "%llx", eff) != 1)
		return -1;
	return 0;
}

static int caps_child(void)
{
	struct splq_error err;
	cap_t caps;
	cap_flag_value_t v;
	unsigned long long eff;
	char path[] = "/tmp/splq-caps-XXXXXX";
	int fd, rc = 0;

	if (splq_caps_reduce(&err) < 0)
		return 10;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_SYS_PTRACE, 0, 0, 0) != 0)
		return 11;
	if (prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 1 ||
	    prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) != 1 ||
	    prctl(PR_CAPBSET_READ, CAP_NET_BIND_SERVICE, 0, 0, 0) != 1)
		return 12;
	caps = cap_get_proc();
	if (!caps)
		return 13;
	if (cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) < 0 || v != CAP_CLEAR ||
	    cap_get_flag(caps, CAP_SYS_ADMIN, CAP_PERMITTED, &v) < 0 || v != CAP_CLEAR ||
	    cap_get_flag(caps, CAP_CHOWN, CAP_EFFECTIVE, &v) < 0 || v != CAP_SET)
		rc = 13;
	cap_free(caps);
	if (rc)
		return rc;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0) == 1)
		return 14;
	/* What root notices: no new mount namespace, but chown still works. */
	if (unshare(CLONE_NEWNS) == 0 || errno != EPERM)
		return 15;
	fd = mkstemp(path);
	if (fd < 0)
		return 16;
	rc = fchown(fd, 12345, 12345) == 0 ? 0 : 16;
	close(fd);
	unlink(path);
	if (rc)
		return rc;
	/* A program exec'ed afterwards does not get the capabilities back. */
	if (exec_cap_eff(&eff) < 0)
		return 17;
	if ((eff & (1ULL << CAP_SYS_ADMIN)) || !(eff & (1ULL << CAP_CHOWN)))
		return 18;
	return 0;
}

static void test_caps_reduce(void **state)
{
	pid_t pid;
	int rc;

	REQUIRE_ROOT();
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 1)
		SKIP_BECAUSE("CAP_SYS_ADMIN is already out of the bounding set here");

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(caps_child());
	rc = wait_child(pid);
	if (rc != 0)
		print_message("capability check %d failed (see caps_child)\n", rc);
	assert_int_equal(rc, 0);
	/* The test process itself is untouched. */
	assert_int_equal(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0), 1);
}

/* ----------------------------------------------------------------- cgroup */

struct cg_state {
	char parent[64];
};

static int cg_setup(void **state)
{
	static struct cg_state st;

	snprintf(st.parent, sizeof(st.parent), "splq-unit-%d", (int)getpid());
	setenv("SPLQ_CGROUP", st.parent, 1);
	*state = &st;
	return 0;
}

/* SIGKILL what runs in the qube's cgroups without help from the code
 * under test, so that a failed test leaves nothing running. */
static void kill_listed(const char *qube)
{
	char list[4096], path[4352];
	int pid;

	if (splq_cgroup_paths(qube, list, sizeof(list)) <= 0)
		return;
	for (char *save = NULL, *d = strtok_r(list, "\n", &save); d;
	     d = strtok_r(NULL, "\n", &save)) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/cgroup.procs", d);
		f = fopen(path, "re");
		while (f && fscanf(f, "%d", &pid) == 1)
			kill(pid, SIGKILL);
		if (f)
			fclose(f);
	}
}

static int cg_teardown(void **state)
{
	static const char *const qubes[] = {"q1", "q2"};

	if (geteuid() == 0)
		for (size_t i = 0; i < sizeof(qubes) / sizeof(qubes[0]); i++) {
			kill_listed(qubes[i]);
			splq_cgroup_destroy(qubes[i], 2000, NULL);
		}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	unsetenv("SPLQ_CGROUP");
	return 0;
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int read_text(const char *path, char *buf, size_t max)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, max - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* Split the output of splq_cgroup_paths into an array. */
static int split_paths(char *buf, char *out[8])
{
	int n = 0;

	for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t && n < 8;
	     t = strtok_r(NULL, "\n", &save))
		out[n++] = t;
	return n;
}

/* The first of the qube's directories that holds file; NULL if none. */
static const char *dir_with(char **dirs, int n, const char *file, char *path, size_t max)
{
	for (int i = 0; i < n; i++) {
		snprintf(path, max, "%s/%s", dirs[i], file);
		if (access(path, F_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

static long long counter(const char *path, const char *key)
{
	char buf[4096], *p;

	if (read_text(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, key)))
		return -1;
	return atoll(p + strlen(key));
}

/* Is pid listed in dir/cgroup.procs? */
static bool listed_in(const char *dir, pid_t pid)
{
	char path[4352];
	FILE *f;
	int p;
	bool found = false;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && !found && fscanf(f, "%d", &p) == 1)
		found = p == pid;
	if (f)
		fclose(f);
	return found;
}

/* The path of pid in the hierarchy of controller ctrl ("" = the cgroup2
 * tree), from /proc/<pid>/cgroup; false if there is no such line. */
static bool proc_cgroup_of(pid_t pid, const char *ctrl, char *out, size_t max)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool match = false;

		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		if (!*ctrl)
			match = strcmp(l, "0") == 0 && c1[1] == '\0';
		else
			for (char *s2 = NULL, *c = strtok_r(c1 + 1, ",", &s2); c && !match;
			     c = strtok_r(NULL, ",", &s2))
				match = strcmp(c, ctrl) == 0;
		if (match) {
			snprintf(out, max, "%s", c2 + 1);
			return true;
		}
	}
	return false;
}

/* Does /proc/<pid>/cgroup put the process in /<parent>/<qube>?  On v1 the
 * memory hierarchy's line decides, on v2 the unified one. */
static bool proc_in_cgroup(pid_t pid, const char *want)
{
	char path[64], buf[4096];
	const char *mem = NULL, *unified = NULL;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		if (strcmp(c1 + 1, "") == 0 && strcmp(l, "0") == 0)
			unified = c2 + 1;
		else
			for (char *s2 = NULL, *ctl = strtok_r(c1 + 1, ",", &s2); ctl;
			     ctl = strtok_r(NULL, ",", &s2))
				if (strcmp(ctl, "memory") == 0)
					mem = c2 + 1;
	}
	if (mem)
		return strcmp(mem, want) == 0;
	return unified && strcmp(unified, want) == 0;
}

/* Fork a child that waits for a byte on a pipe, then runs fn. */
static pid_t spawn_waiting(int *go, int (*fn)(int), int arg)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		_exit(fn(arg));
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static int eat_memory(int mib)
{
	size_t n = (size_t)mib << 20;
	volatile char *m = malloc(n);

	if (!m)
		return 3;
	for (size_t i = 0; i < n; i += 4096)
		m[i] = 1;
	return 0; /* survived: the limit did not hold */
}

/* Fork up to n children that sleep; report how many forks worked on fd
 * (the write end of a pipe, passed as the low 16 bits of arg) and sleep. */
static int fork_many(int arg)
{
	int fd = arg & 0xffff, n = arg >> 16, made = 0;
	unsigned char r;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0)
			break;
		made++;
	}
	r = (unsigned char)made;
	if (write(fd, &r, 1) != 1)
		return 4;
	pause();
	return 0;
}

static void enter(const char *qube, pid_t pid)
{
	struct splq_error err = {0};
	int fds[SPLQ_CGROUP_MAX_FDS], n = 0;

	assert_int_equal(splq_cgroup_open_procs(qube, fds, &n, &err), 0);
	assert_true(n >= 1);
	assert_int_equal(splq_cgroup_enter(fds, n, pid, &err), 0);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void test_cgroup_limits(void **state)
{
	struct cg_state *st = *state;
	struct splq_error err = {0};
	struct splq_cgroup_limits lim = {.memory_mib = 64, .vcpus = 1, .pids_max = 32};
	char list[4096], list2[4096], path[4352], text[256], want[128], *dirs[8];
	const char *d;
	pid_t a, b;
	int go = -1, p[2], n, status;
	unsigned char made;
	long long ooms;

	REQUIRE_ROOT();
	if (splq_cgroup_create("q1", &lim, &err) < 0) {
		if (err.code == SPLQ_E_UNSUPPORTED)
			SKIP_BECAUSE("%s", err.msg);
		fail_msg("create: %s", err.msg);
	}
	n = splq_cgroup_paths("q1", list, sizeof(list));
	assert_true(n >= 1);
	memcpy(list2, list, sizeof(list));
	assert_int_equal(split_paths(list2, dirs), n);
	for (int i = 0; i < n; i++) {
		print_message("cgroup: %s\n", dirs[i]);
		assert_true(dir_exists(dirs[i]));
	}

	/* The limits, as the kernel shows them. */
	d = dir_with(dirs, n, "memory.limit_in_bytes", path, sizeof(path));
	if (!d)
		d = dir_with(dirs, n, "memory.max", path, sizeof(path));
	assert_non_null(d);
	assert_int_equal(read_text(path, text, sizeof(text)), 0);
	assert_string_equal(text, "67108864\n");
	if (dir_with(dirs, n, "pids.max", path, sizeof(path))) {
		assert_int_equal(read_text(path, text, sizeof(text)), 0);
		assert_string_equal(text, "32\n");
	}
	if (dir_with(dirs, n, "cpu.cfs_quota_us", path, sizeof(path))) {
		assert_int_equal(read_text(path, text, sizeof(text)), 0);
		assert_string_equal(text, "100000\n");
	} else if (dir_with(dirs, n, "cpu.max", path, sizeof(path))) {
		assert_int_equal(read_text(path, text, sizeof(text)), 0);
		assert_string_equal(text, "100000 100000\n");
	}
	assert_false(splq_cgroup_populated("q1"));

	/* A process moved in shows up there and is held to 64 MiB: the OOM
	 * killer ends it, the test process lives on. */
	a = spawn_waiting(&go, eat_memory, 200);
	assert_true(a > 0);
	enter("q1", a);
	snprintf(want, sizeof(want), "/%s/q1", st->parent);
	assert_true(proc_in_cgroup(a, want));
	assert_true(splq_cgroup_populated("q1"));
	assert_int_equal(write(go, "x", 1), 1);
	close(go);
	assert_int_equal(wait_child(a), 1000 + SIGKILL);
	if (dir_with(dirs, n, "memory.oom_control", path, sizeof(path)))
		ooms = counter(path, "oom_kill ");
	else if (dir_with(dirs, n, "memory.events", path, sizeof(path)))
		ooms = counter(path, "oom_kill ");
	else
		ooms = -1;
	assert_true(ooms >= 1);

	/* pids.max holds a fork bomb; destroy kills whatever is left. */
	if (dir_with(dirs, n, "pids.max", path, sizeof(path))) {
		assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
		assert_int_equal(pipe(p), 0);
		b = spawn_waiting(&go, fork_many, p[1] | (60 << 16));
		assert_true(b > 0);
		close(p[1]);
		enter("q1", b);
		assert_int_equal(write(go, "x", 1), 1);
		close(go);
		assert_int_equal(read(p[0], &made, 1), 1);
		close(p[0]);
		print_message("forks that worked under pids.max 32: %d\n", made);
		assert_true(made > 0 && made < 32);
		assert_true(splq_cgroup_populated("q1"));

		if (splq_cgroup_destroy("q1", 5000, &err) < 0) {
			kill_listed("q1");
			kill(b, SIGKILL);
			fail_msg("destroy: %s", err.msg);
		}
		assert_int_equal(wait_child(b), 1000 + SIGKILL);
		/* the sleepers, now ours: each was killed */
		for (int i = 0; i < made; i++) {
			pid_t w = waitpid(-1, &status, 0);

			assert_true(w > 0);
			assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		}
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	} else {
		assert_int_equal(splq_cgroup_destroy("q1", 5000, &err), 0);
	}

	/* Nothing is left: the qube's directories and the unique parent. */
	assert_false(splq_cgroup_populated("q1"));
	for (int i = 0; i < n; i++) {
		char *slash;

		assert_false(dir_exists(dirs[i]));
		slash = strrchr(dirs[i], '/');
		*slash = '\0';
		assert_true(strstr(dirs[i], st->parent) != NULL);
		assert_false(dir_exists(dirs[i]));
	}
	/* Destroying a qube without cgroups is not an error. */
	assert_int_equal(splq_cgroup_destroy("q1", 100, &err), 0);
}

/* A new process enters at birth: clone3(CLONE_INTO_CGROUP) for the
 * cgroup2 tree, then its own write to the v1 tasks files. */
static void test_cgroup_entry_at_birth(void **state)
{
	struct cg_state *st = *state;
	struct splq_error err = {0};
	struct splq_cgroup_limits lim = {.memory_mib = 64, .pids_max = 16};
	struct splq_cgroup_entry e;
	uint64_t args[11] = {0};
	char want[128], got[256], list[4096], *dirs[8];
	bool had_v2;
	int p[2], q[2], n;
	char c = 0;
	long pid;

	REQUIRE_ROOT();
	if (splq_cgroup_create("q1", &lim, &err) < 0) {
		if (err.code == SPLQ_E_UNSUPPORTED)
			SKIP_BECAUSE("%s", err.msg);
		fail_msg("create: %s", err.msg);
	}
	assert_int_equal(splq_cgroup_open_entry("q1", &e, &err), 0);
	assert_true(e.dir_fd >= 0 || e.ntasks > 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	args[0] = e.dir_fd >= 0 ? 0x200000000ULL /* CLONE_INTO_CGROUP */ : 0;
	args[4] = SIGCHLD;
	args[10] = e.dir_fd >= 0 ? (uint64_t)e.dir_fd : 0;
	pid = syscall(SYS_clone3, args, sizeof(args));
	if (pid < 0 && errno == ENOSYS) {
		splq_cgroup_entry_close(&e);
		SKIP_BECAUSE("the kernel has no clone3");
	}
	assert_true(pid >= 0);
	if (pid == 0) {
		char r = splq_cgroup_enter_thread(&e, &err) == 0 ? 'y' : 'n';

		if (write(q[1], &r, 1) != 1 || read(p[0], &r, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(q[1]);
	close(p[0]);
	had_v2 = e.dir_fd >= 0;
	splq_cgroup_entry_close(&e);
	assert_int_equal(e.dir_fd, -1);
	assert_int_equal(e.ntasks, 0);
	assert_int_equal(read(q[0], &c, 1), 1);
	close(q[0]);
	assert_int_equal(c, 'y');

	/* The process is listed in every one of the qube's cgroups... */
	n = splq_cgroup_paths("q1", list, sizeof(list));
	assert_true(n >= 1);
	assert_int_equal(split_paths(list, dirs), n);
	for (int i = 0; i < n; i++)
		assert_true(listed_in(dirs[i], (pid_t)pid));
	/* ... and sees itself there. */
	snprintf(want, sizeof(want), "/%s/q1", st->parent);
	assert_true(proc_in_cgroup((pid_t)pid, want));
	if (had_v2) {
		assert_true(proc_cgroup_of((pid_t)pid, "", got, sizeof(got)));
		assert_string_equal(got, want);
	}
	assert_true(splq_cgroup_populated("q1"));
	/* destroy ends it */
	assert_int_equal(splq_cgroup_destroy("q1", 5000, &err), 0);
	assert_int_equal(wait_child((pid_t)pid), 1000 + SIGKILL);
	close(p[1]);
}

static void test_cgroup_leftover_and_parent_kept(void **state)
{
	struct splq_error err = {0};
	struct splq_cgroup_limits lim = {.memory_mib = 32};
	char list[4096], *dirs[8], parent[4096];
	int n;

	REQUIRE_ROOT();
	if (splq_cgroup_create("q1", &lim, &err) < 0) {
		if (err.code == SPLQ_E_UNSUPPORTED)
			SKIP_BECAUSE("%s", err.msg);
		fail_msg("create q1: %s", err.msg);
	}
	/* A leftover empty cgroup of the same name (a crash) is replaced. */
	assert_int_equal(splq_cgroup_create("q2", &lim, &err), 0);
	assert_int_equal(splq_cgroup_create("q2", &lim, &err), 0);
	/* Another qube of the same parent keeps the parent in place. */
	assert_int_equal(splq_cgroup_destroy("q2", 2000, &err), 0);
	n = splq_cgroup_paths("q1", list, sizeof(list));
	assert_true(n >= 1);
	assert_int_equal(split_paths(list, dirs), n);
	assert_true(dir_exists(dirs[0]));
	assert_int_equal(splq_cgroup_destroy("q1", 2000, &err), 0);
	assert_false(dir_exists(dirs[0]));
	snprintf(parent, sizeof(parent), "%s", dirs[0]);
	*strrchr(parent, '/') = '\0';
	assert_false(dir_exists(parent));
}

static void test_cgroup_bad_input(void **state)
{
	struct splq_error err = {0};
	struct splq_cgroup_limits lim = {.memory_mib = 64};
	static const char *const bad_parents[] = {"../escape", "/abs",   "a//b", "a/",
	                                          "sp ace",    "x/../y", "./x"};
	char buf[64];

	for (size_t i = 0; i < sizeof(bad_parents) / sizeof(bad_parents[0]); i++) {
		setenv("SPLQ_CGROUP", bad_parents[i], 1);
		assert_int_equal(splq_cgroup_create("q1", &lim, &err), -1);
		assert_int_equal(err.code, SPLQ_E_VALUE);
		assert_non_null(strstr(err.msg, "SPLQ_CGROUP"));
	}
	cg_setup(state);
	assert_int_equal(splq_cgroup_create("../q", &lim, &err), -1);
	assert_int_equal(err.code, SPLQ_E_NAME);
	assert_int_equal(splq_cgroup_create("a/b", &lim, &err), -1);
	assert_int_equal(err.code, SPLQ_E_NAME);
	lim.memory_mib = 0;
	assert_int_equal(splq_cgroup_create("q1", &lim, &err), -1);
	assert_int_equal(err.code, SPLQ_E_VALUE);
	assert_int_equal(splq_cgroup_paths("a/b", buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seccomp_filter),
	    cmocka_unit_test(test_seccomp_load_rejects_bad_program),
	    cmocka_unit_test(test_caps_reduce),
	    cmocka_unit_test_setup_teardown(test_cgroup_limits, cg_setup, cg_teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup_entry_at_birth, cg_setup, cg_teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup_leftover_and_parent_kept, cg_setup,
	                                    cg_teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup_bad_input, cg_setup, cg_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
