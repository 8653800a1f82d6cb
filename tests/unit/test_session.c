/* Unit tests: the host side of a command in a qube (native/session.c),
 * against a pid 1 played by a thread on a socket pair: the request it
 * gets, the bytes relayed both ways, the bound on output, qvm-run's
 * filter, and what a hostile pid 1 may send back. */
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
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "native/control.h"
#include "native/session.h"
#include "util.h"

static void test_filter(void **state)
{
	(void)state;
	char buf[] = "ok \t\n\r\b\a~ \x1b[31m \x9b \x7f \x01 \xc3\xa9";
	splq_filter_escapes(buf, sizeof(buf) - 1);
	assert_string_equal(buf, "ok \t\n\r\b\a~ _[31m _ _ _ __");
}

/* The fake pid 1: what it does once the request came. */
struct fake {
	int sock;
	int nfds; /* descriptors that came with the request */
	uint32_t flags;
	size_t out;  /* bytes of 'x' to write to stdout */
	bool echo;   /* copy stdin to stdout first */
	int pass_fd; /* a descriptor to send with STARTED (-1: none) */
	int exit_code;
};

static void send_reply(int sock, int type, int value, int fd)
{
	struct splq_ctl_reply r = {.type = type, .value = value};
	splq_send_fds(sock, &r, sizeof(r), &fd, fd >= 0 ? 1 : 0, 0);
}

static void *fake_init(void *arg)
{
	struct fake *f = arg;
	char buf[SPLQ_CTL_MAX];
	int fds[3] = {-1, -1, -1};
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(f->sock, &mh, 0);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c) {
		f->nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), sizeof(fds));
	}
	struct splq_ctl_request req;
	if (n >= (ssize_t)sizeof(req)) {
		memcpy(&req, buf, sizeof(req));
		f->flags = req.flags;
	}
	send_reply(f->sock, SPLQ_CTL_STARTED, 42, f->pass_fd);
	if (f->echo && fds[0] >= 0) {
		char b[4096];
		ssize_t r;
		while ((r = read(fds[0], b, sizeof(b))) > 0)
			write(fds[1], b, (size_t)r);
	}
	char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	for (size_t left = f->out; left > 0 && fds[1] >= 0;) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
		ssize_t w = write(fds[1], chunk, k);
		if (w <= 0)
			break; /* the host stopped reading */
		left -= (size_t)w;
	}
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	send_reply(f->sock, SPLQ_CTL_EXITED, f->exit_code, -1);
	return NULL;
}

/* Run x against a fake pid 1; returns splq_session_run's result. */
static int run_fake(struct fake *f, struct splq_exec *x, int *status, struct splq_error *err)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	f->sock = sv[1];
	pthread_t t;
	pthread_create(&t, NULL, fake_init, f);
	struct splq_session s;
	int signo = 0, r = splq_session_send(&s, sv[0], "fake", x, 5, err);
	if (r == 0)
		r = splq_session_run(&s, NULL, status, &signo, err);
	else
		close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	return r;
}

static int memfd(void)
{
	int fd = memfd_create("out", MFD_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static size_t memfd_size(int fd)
{
	return (size_t)lseek(fd, 0, SEEK_END);
}

static void test_relay_both_ways(void **state)
{
	(void)state;
	int in[2];
	assert_int_equal(pipe(in), 0);
	const char msg[] = "hello through the qube\n";
	write(in[1], msg, sizeof(msg) - 1);
	close(in[1]);
	char *argv[] = {"cat", NULL};
	struct splq_exec x = {.argv = argv, .fds = {in[0], memfd(), memfd()}, .filter = 0};
	struct fake f = {.echo = true, .out = 3, .pass_fd = -1, .exit_code = 5};
	struct splq_error err = {0};
	int status = -1;
	assert_int_equal(run_fake(&f, &x, &status, &err), 0);
	assert_int_equal(status, 5);
	assert_int_equal(f.nfds, 3); /* three pipes of splq's, never ours */
	assert_int_equal(f.flags, 0);
	char got[128] = {0};
	pread(x.fds[1], got, sizeof(got) - 1, 0);
	assert_string_equal(got, "hello through the qube\nxxx");
	for (int i = 0; i < 3; i++)
		close(x.fds[i]);
}

static void test_output_bound(void **state)
{
	(void)state;
	char *argv[] = {"yes", NULL};
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct splq_exec x = {
	    .argv = argv, .fds = {null, memfd(), memfd()}, .max_output = 10000, .filter = 0};
	struct fake f = {.out = 1 << 20, .pass_fd = -1};
	struct splq_error err = {0};
	int status = -1;
	assert_int_equal(run_fake(&f, &x, &status, &err), -1);
	assert_int_equal(err.code, SPLQ_E_TOOBIG);
	assert_non_null(strstr(err.msg, "10000 bytes"));
	assert_true(memfd_size(x.fds[1]) <= 10000);
	/* exactly at the bound is fine */
	close(x.fds[1]);
	x.fds[1] = memfd();
	f = (struct fake){.out = 10000, .pass_fd = -1};
	assert_int_equal(run_fake(&f, &x, &status, &err), 0);
	assert_int_equal(memfd_size(x.fds[1]), 10000);
	for (int i = 0; i < 3; i++)
		close(x.fds[i]);
}

static void test_no_wait_passes_nothing(void **state)
{
	(void)state;
	char *argv[] = {"daemon", NULL};
	struct splq_exec x = {.argv = argv, .fds = {0, 1, 2}, .no_wait = true};
	struct fake f = {.pass_fd = -1};
	struct splq_error err = {0};
	int status = -1;
	assert_int_equal(run_fake(&f, &x, &status, &err), 0);
	assert_int_equal(status, 0);
	assert_int_equal(f.nfds, 0);
	assert_true(f.flags & SPLQ_CTL_NO_WAIT);
}

static void test_tty_refuses_what_is_not_a_pty_master(void **state)
{
	(void)state;
	char *argv[] = {"sh", NULL};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct splq_exec x = {.argv = argv, .fds = {null, null, null}, .tty = true};
	/* a hostile pid 1 sends a regular file, then /dev/null, as "the pty" */
	int file = memfd();
	struct fake f = {.pass_fd = file};
	struct splq_error err = {0};
	int status = -1;
	assert_int_equal(run_fake(&f, &x, &status, &err), -1);
	assert_non_null(strstr(err.msg, "did not give a pseudo-terminal"));
	assert_true(f.flags & SPLQ_CTL_TTY);
	assert_int_equal(f.nfds, 0);
	f = (struct fake){.pass_fd = null};
	assert_int_equal(run_fake(&f, &x, &status, &err), -1);
	assert_non_null(strstr(err.msg, "did not give a pseudo-terminal"));
	close(file);
	close(null);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_relay_both_ways),
	    cmocka_unit_test(test_output_bound),
	    cmocka_unit_test(test_no_wait_passes_nothing),
	    cmocka_unit_test(test_tty_refuses_what_is_not_a_pty_master),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
