/* Unit tests: a scratch folder per test (setup, teardown), and small
 * helpers to fill it.  Included by the test files that need one, after
 * cmocka.h. */
#ifndef SPLQ_TEST_FIXTURE_H
#define SPLQ_TEST_FIXTURE_H

#include <dirent.h>
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

#endif
