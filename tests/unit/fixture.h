/* Unit tests: a scratch folder per test (setup, teardown), and small
 * helpers to fill it.  Included by the test files that need one, after
 * cmocka.h. */
#ifndef SPLQ_TEST_FIXTURE_H
#define SPLQ_TEST_FIXTURE_H

#include <dirent.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "tree.h"
#include "util.h"

/* Skip with the reason on the test's output. */
#define skip_msg(why)                                                                              \
	do {                                                                                       \
		print_message("[ SKIP     ] %s\n", why);                                           \
		skip();                                                                            \
	} while (0)

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/splq-test-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct splq_error err;
	int r = splq_rm_rf(f->dir, &err);

	free(f);
	return r;
}

static char *path_in(void **state, const char *rel)
{
	struct fixture *f = *state;

	return splq_strdup_printf("%s/%s", f->dir, rel);
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Run fn(state) in a child in a mount namespace of its own (root only):
 * false when it cannot be made (or fn says 77), else fn must return 0. */
__attribute__((unused)) static bool in_mount_ns(void **state, int (*fn)(void **state))
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		return false;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		_exit(fn(state));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		return false;
	assert_int_equal(WEXITSTATUS(status), 0);
	return true;
}

#endif
