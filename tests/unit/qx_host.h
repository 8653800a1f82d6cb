/* Unit tests of qrexec-client-vm: a fake host.  Each test binds a qrexec
 * socket of its own in a scratch folder and plays the host on it: it
 * takes the request, answers, and, for an accepted call, plays the
 * service at the other ends of the three pipes.  The client runs in a
 * child of the test, the program's own function called after fork (so it
 * runs under the sanitizers in build-san as the rest of the test does),
 * with its stdin, stdout and stderr files of the scratch folder unless a
 * test gives it others.  Included by test_qube_client.c after cmocka.h. */
#ifndef SPLQ_TEST_QX_HOST_H
#define SPLQ_TEST_QX_HOST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrexec/wire.h"
#include "qube/client.h"
#include "tree.h"
#include "util.h"

struct fx {
	char dir[64];
	char sock[128];
	int lfd, conn;
	pid_t pid;
	char target[SPLQ_QX_TARGET_MAX + 1], service[SPLQ_QX_SERVICE_MAX + 1];
	int svc_in, svc_out, svc_err; /* the service's ends of its pipes */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	strcpy(f->dir, "/tmp/splq-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/qrexec", f->dir);
	strcpy(sa.sun_path, f->sock);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 4) < 0)
		return -1;
	f->conn = f->svc_in = f->svc_out = f->svc_err = -1;
	/* a client that hangs fails the test instead of hanging it */
	alarm(30);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct splq_error err;

	alarm(0);
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	splq_close_fd(&f->lfd);
	splq_close_fd(&f->conn);
	splq_close_fd(&f->svc_in);
	splq_close_fd(&f->svc_out);
	splq_close_fd(&f->svc_err);
	int r = splq_rm_rf(f->dir, &err);
	free(f);
	return r;
}

static char *in_dir(struct fx *f, const char *name)
{
	return splq_strdup_printf("%s/%s", f->dir, name);
}

static void put_file(struct fx *f, const char *name, const void *data, size_t len)
{
	char *p = in_dir(f, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(splq_write_all(fd, data, len), 0);
	close(fd);
	free(p);
}

/* The whole of fd until EOF (NUL-terminated; its length in *len). */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = splq_xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static char *slurp(struct fx *f, const char *name, size_t *len)
{
	char *p = in_dir(f, name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	char *s;

	assert_true(fd >= 0);
	s = read_all(fd, len);
	close(fd);
	free(p);
	return s;
}

static void assert_file(struct fx *f, const char *name, const char *want)
{
	char *s = slurp(f, name, NULL);

	assert_string_equal(s, want);
	free(s);
}

/* Start `qrexec-client-vm -a SOCK ARGS...`; its stdin is in (or the file
 * "in" when -1), its stdout out (or the file "out"), its stderr the file
 * "err". */
static void spawn_fds(struct fx *f, int in, int out, const char *const *args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "qrexec-client-vm";
	argv[argc++] = "-a";
	argv[argc++] = f->sock;
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		/* gone with the test, should the test be killed */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char *pin = in_dir(f, "in"), *pout = in_dir(f, "out"), *perr = in_dir(f, "err");
		int fi = in >= 0 ? in : open(pin, O_RDONLY | O_CREAT, 0644);
		int fo = out >= 0 ? out : open(pout, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(perr, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fi < 0 || fo < 0 || fe < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(99);
		/* nothing else of the test's, as after an exec */
		close_range(3, ~0U, 0);
		int r = splq_qrexec_client_vm(argc, argv);
		fflush(stdout);
		_exit(r);
	}
}

static void spawn(struct fx *f, const char *stdin_text, const char *const *args)
{
	put_file(f, "in", stdin_text, strlen(stdin_text));
	spawn_fds(f, -1, -1, args);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The client's exit status, once it ended. */
static int wait_client(struct fx *f)
{
	int st;

	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	f->pid = 0;
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Has the client ended, after a moment? */
static bool client_running(struct fx *f)
{
	struct timespec ts = {0, 100 * 1000 * 1000};

	nanosleep(&ts, NULL);
	return waitpid(f->pid, NULL, WNOHANG) == 0;
}

/* Take the client's connection and its request. */
static void host_request(struct fx *f)
{
	char buf[SPLQ_QX_REQUEST_MAX + 1];
	const char *t, *s;
	ssize_t n;

	f->conn = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->conn >= 0);
	n = recv(f->conn, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(splq_qx_request_decode(buf, (size_t)n, &t, &s), 0);
	strcpy(f->target, t);
	strcpy(f->service, s);
}

static void host_send(struct fx *f, int type, int value, const char *msg, const int *fds, int nfds)
{
	struct splq_qx_reply rep = {.type = type, .value = value};

	snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	assert_int_equal(splq_send_fds(f->conn, &rep, sizeof(rep), fds, nfds, 0),
	                 (ssize_t)sizeof(rep));
}

/* Accept the call: the service's three pipes to the client. */
static void host_accept(struct fx *f)
{
	int in[2], out[2], err[2], fds[3];

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	fds[0] = in[1];
	fds[1] = out[0];
	fds[2] = err[0];
	host_send(f, SPLQ_QX_ACCEPTED, 0, "", fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	f->svc_in = in[0];
	f->svc_out = out[1];
	f->svc_err = err[1];
}

static void svc_write(int fd, const void *data, size_t len)
{
	assert_int_equal(splq_write_all(fd, data, len), 0);
}

/* What the service got on its stdin, to EOF. */
static void assert_svc_stdin(struct fx *f, const char *want)
{
	char *s = read_all(f->svc_in, NULL);

	assert_string_equal(s, want);
	free(s);
	splq_close_fd(&f->svc_in);
}

/* The service writes out and err, ends both, and exits with code. */
static void svc_finish(struct fx *f, const char *out, const char *err, int code)
{
	svc_write(f->svc_out, out, strlen(out));
	splq_close_fd(&f->svc_out);
	svc_write(f->svc_err, err, strlen(err));
	splq_close_fd(&f->svc_err);
	host_send(f, SPLQ_QX_EXITED, code, "", NULL, 0);
}

#endif
