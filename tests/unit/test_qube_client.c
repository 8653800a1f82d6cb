/* Unit tests: qrexec-client-vm (src/qube/client.c) against a fake host
 * (qx_host.h). */
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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrexec/wire.h"
#include "util.h"

#include "qx_host.h"

/* ---- the answers before a call ---- */

static void test_refused(void **state)
{
	struct fx *f = *state;

	spawn(f, "", ARGS("$dispvm:dvm", "qubes.Foo+bar"));
	host_request(f);
	/* every $ in the target became @ */
	assert_string_equal(f->target, "@dispvm:dvm");
	assert_string_equal(f->service, "qubes.Foo+bar");
	host_send(f, SPLQ_QX_REFUSED, 126, "denied by the policy", NULL, 0);
	assert_int_equal(wait_client(f), 126);
	assert_file(f, "err", "Request refused\ndenied by the policy\n");
	assert_file(f, "out", "");
	splq_close_fd(&f->conn);

	/* without a reason */
	spawn(f, "", ARGS("work", "q.S"));
	host_request(f);
	host_send(f, SPLQ_QX_REFUSED, 126, "", NULL, 0);
	assert_int_equal(wait_client(f), 126);
	assert_file(f, "err", "Request refused\n");
	splq_close_fd(&f->conn);

	/* no answer at all counts as refused, as in Qubes */
	spawn(f, "", ARGS("$default", "q.S"));
	host_request(f);
	assert_string_equal(f->target, "@default");
	splq_close_fd(&f->conn);
	assert_int_equal(wait_client(f), 126);
	assert_file(f, "err",
	            "Request refused\nthe host closed the connection without an answer\n");
}

static void test_failed(void **state)
{
	struct fx *f = *state;

	spawn(f, "", ARGS("nosuch", "q.S"));
	host_request(f);
	host_send(f, SPLQ_QX_FAILED, 125, "no such qube 'nosuch'", NULL, 0);
	assert_int_equal(wait_client(f), 125);
	assert_file(f, "err", "qrexec-client-vm: no such qube 'nosuch'\n");

	/* a reply that is none: an ACCEPTED without its pipes */
	splq_close_fd(&f->conn);
	spawn(f, "", ARGS("work", "q.S"));
	host_request(f);
	host_send(f, SPLQ_QX_ACCEPTED, 0, "", NULL, 0);
	assert_int_equal(wait_client(f), 1);
}

static void test_no_socket(void **state)
{
	struct fx *f = *state;
	char *s;

	strcat(f->sock, "-none");
	spawn(f, "", ARGS("work", "q.S"));
	assert_int_equal(wait_client(f), 1);
	s = slurp(f, "err", NULL);
	assert_non_null(strstr(s, f->sock));
	assert_non_null(strstr(s, "No such file or directory"));
	free(s);
}

/* ---- a call without a local program ---- */

static void test_relay(void **state)
{
	struct fx *f = *state;

	spawn(f, "ping\n", ARGS("work", "q.Echo+x"));
	host_request(f);
	assert_string_equal(f->target, "work");
	assert_string_equal(f->service, "q.Echo+x");
	host_accept(f);
	/* the client's stdin, then its EOF */
	assert_svc_stdin(f, "ping\n");
	svc_write(f->svc_out, "out\n", 4);
	splq_close_fd(&f->svc_out);
	svc_write(f->svc_err, "err\n", 4);
	splq_close_fd(&f->svc_err);
	/* the streams are done, the exit code has not come: it waits */
	assert_true(client_running(f));
	host_send(f, SPLQ_QX_EXITED, 3, "", NULL, 0);
	assert_int_equal(wait_client(f), 3);
	assert_file(f, "out", "out\n");
	assert_file(f, "err", "err\n");
	splq_close_fd(&f->conn);

	/* a stdout in append mode, which splice cannot write */
	char *path = in_dir(f, "out");
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	free(path);
	spawn_fds(f, -1, fd, ARGS("work", "q.S"));
	close(fd);
	host_request(f);
	host_accept(f);
	assert_svc_stdin(f, "ping\n");
	svc_finish(f, "more\n", "", 0);
	assert_int_equal(wait_client(f), 0);
	assert_file(f, "out", "out\nmore\n");
}

static void test_lost(void **state)
{
	struct fx *f = *state;

	spawn(f, "", ARGS("work", "q.S"));
	host_request(f);
	host_accept(f);
	assert_svc_stdin(f, "");
	svc_write(f->svc_out, "part", 4);
	splq_close_fd(&f->svc_out);
	splq_close_fd(&f->svc_err);
	splq_close_fd(&f->conn);
	assert_int_equal(wait_client(f), 255);
	assert_file(f, "out", "part");

	/* lost while the service's pipes are still open */
	spawn(f, "", ARGS("work", "q.S"));
	host_request(f);
	host_accept(f);
	splq_close_fd(&f->conn);
	assert_int_equal(wait_client(f), 255);
	assert_file(f, "err",
	            "qrexec-client-vm: the call was lost: the host closed the "
	            "connection before the service ended\n");
}

static void test_exited_ends_input(void **state)
{
	struct fx *f = *state;
	int p[2];

	/* a stdin that never ends */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	spawn_fds(f, p[0], -1, ARGS("work", "q.S"));
	close(p[0]);
	host_request(f);
	host_accept(f);
	char buf[3];
	svc_write(p[1], "abc", 3);
	assert_int_equal(read(f->svc_in, buf, 3), 3);
	assert_memory_equal(buf, "abc", 3);
	splq_close_fd(&f->svc_err);
	host_send(f, SPLQ_QX_EXITED, 7, "", NULL, 0);
	/* the exit code closes the service's stdin, while the client still
	 * relays its stdout */
	struct pollfd pfd = {.fd = f->svc_in, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_svc_stdin(f, "");
	assert_true(client_running(f));
	splq_close_fd(&f->svc_out);
	assert_int_equal(wait_client(f), 7);
	close(p[1]);
}

static void test_prefix(void **state)
{
	struct fx *f = *state;

	spawn(f, "ping", ARGS("-p", "PRE:", "work", "q.S"));
	host_request(f);
	host_accept(f);
	assert_svc_stdin(f, "PRE:ping");
	svc_finish(f, "", "", 0);
	assert_int_equal(wait_client(f), 0);

	/* with a local program, before its output */
	splq_close_fd(&f->conn);
	spawn(f, "", ARGS("--prefix-data=PRE:", "work", "q.S", "/bin/sh", "-c", "echo L"));
	host_request(f);
	host_accept(f);
	assert_svc_stdin(f, "PRE:L\n");
	svc_finish(f, "", "", 0);
	assert_int_equal(wait_client(f), 0);
}

static const char raw_bytes[] = "a\x1b[1mb\tc\x7f\x01\xc3\xa9\r\n\b\a~ z";
static const char filtered[] = "a_[1mb\tc____\r\n\b\a~ z";

static void filter_case(struct fx *f, const char *const *args, const char *out, const char *err)
{
	spawn(f, "", args);
	host_request(f);
	host_accept(f);
	assert_svc_stdin(f, "");
	svc_finish(f, raw_bytes, raw_bytes, 0);
	assert_int_equal(wait_client(f), 0);
	assert_file(f, "out", out);
	assert_file(f, "err", err);
	splq_close_fd(&f->conn);
}

static void test_filter(void **state)
{
	struct fx *f = *state;

	/* neither stdout nor stderr is a terminal: nothing is filtered */
	filter_case(f, ARGS("work", "q.S"), raw_bytes, raw_bytes);
	filter_case(f, ARGS("-t", "work", "q.S"), filtered, raw_bytes);
	filter_case(f, ARGS("-T", "work", "q.S"), raw_bytes, filtered);
	filter_case(
	    f, ARGS("--filter-escape-chars-stdout", "--filter-escape-chars-stderr", "work", "q.S"),
	    filtered, filtered);
	/* the last one wins */
	filter_case(f, ARGS("-t", "--no-filter-escape-chars-stdout", "-T", "work", "q.S"),
	            raw_bytes, filtered);
	filter_case(f, ARGS("--no-filter-escape-chars-stdout", "-t", "work", "q.S"), filtered,
	            raw_bytes);
}

/* A writer of len bytes of pattern into fd, in a child (that closes
 * other). */
static pid_t writer(int fd, size_t len, int other)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (other >= 0)
			close(other);
		char buf[4096];
		size_t done = 0;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)('a' + i % 23);
		while (done < len) {
			size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
			if (splq_write_all(fd, buf, n) < 0)
				_exit(1);
			done += n;
		}
		_exit(0);
	}
	return pid;
}

/* A reader of fd into the file path, in a child (that closes other). */
static pid_t reader(int fd, const char *path, int other)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(other);
		int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char buf[8192];
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (splq_write_all(out, buf, (size_t)n) < 0)
				_exit(1);
		_exit(n < 0);
	}
	return pid;
}

static void assert_pattern(const char *s, size_t len, size_t want)
{
	assert_int_equal(len, want);
	for (size_t i = 0; i < len; i++)
		if (s[i] != (char)('a' + i % 4096 % 23))
			fail_msg("byte %zu is %d", i, s[i]);
}

/* The service writes all of its output before it reads any input: the
 * client must keep both directions going at once. */
static void big_case(struct fx *f, bool pipes)
{
	const size_t N = 3 << 20;
	pid_t w = 0, r = 0;
	char *data, *path = in_dir(f, "out");
	size_t len;
	int st;

	if (pipes) {
		int pin[2], pout[2];

		/* each helper holds only its own end, so that the ends come */
		assert_int_equal(pipe2(pin, O_CLOEXEC), 0);
		w = writer(pin[1], N, pin[0]);
		close(pin[1]);
		assert_int_equal(pipe2(pout, O_CLOEXEC), 0);
		r = reader(pout[0], path, pout[1]);
		close(pout[0]);
		spawn_fds(f, pin[0], pout[1], ARGS("work", "q.S"));
		close(pin[0]);
		close(pout[1]);
	} else {
		char *in = in_dir(f, "in");
		int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		w = writer(fd, N, -1);
		assert_int_equal(waitpid(w, &st, 0), w);
		assert_int_equal(st, 0);
		close(fd);
		free(in);
		spawn_fds(f, -1, -1, ARGS("work", "q.S"));
	}
	host_request(f);
	host_accept(f);
	data = splq_xmalloc(N);
	for (size_t i = 0; i < N; i++)
		data[i] = (char)('a' + i % 4096 % 23);
	svc_write(f->svc_out, data, N);
	splq_close_fd(&f->svc_out);
	free(data);
	data = read_all(f->svc_in, &len);
	assert_pattern(data, len, N);
	free(data);
	splq_close_fd(&f->svc_in);
	splq_close_fd(&f->svc_err);
	host_send(f, SPLQ_QX_EXITED, 0, "", NULL, 0);
	assert_int_equal(wait_client(f), 0);
	if (pipes) {
		assert_int_equal(waitpid(w, &st, 0), w);
		assert_int_equal(st, 0);
		assert_int_equal(waitpid(r, &st, 0), r);
		assert_int_equal(st, 0);
	}
	data = slurp(f, "out", &len);
	assert_pattern(data, len, N);
	free(data);
	free(path);
	splq_close_fd(&f->conn);
}

static void test_both_ways(void **state)
{
	big_case(*state, false);
	big_case(*state, true);
}

static void test_stdout_broken(void **state)
{
	struct fx *f = *state;
	const size_t N = 1 << 20;
	char *data = calloc(1, N);
	int p[2];

	/* the client's stdout has no reader */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	put_file(f, "in", "", 0);
	spawn_fds(f, -1, p[1], ARGS("work", "q.S"));
	close(p[0]);
	close(p[1]);
	host_request(f);
	host_accept(f);
	/* all of it is taken (and dropped): this write ends */
	svc_write(f->svc_out, data, N);
	free(data);
	splq_close_fd(&f->svc_out);
	svc_write(f->svc_err, "e\n", 2);
	splq_close_fd(&f->svc_err);
	host_send(f, SPLQ_QX_EXITED, 0, "", NULL, 0);
	assert_int_equal(wait_client(f), 0);
	assert_file(f, "err", "e\n");
}

static void test_stdin_socket(void **state)
{
	struct fx *f = *state;
	int sp[2];
	char *s;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	spawn_fds(f, sp[1], -1, ARGS("--use-stdin-socket", "work", "q.S"));
	close(sp[1]);
	host_request(f);
	host_accept(f);
	svc_write(sp[0], "abc", 3);
	shutdown(sp[0], SHUT_WR);
	assert_svc_stdin(f, "abc");
	svc_finish(f, "xyz", "", 0);
	/* its stdout went into the socket, then the socket's end */
	s = read_all(sp[0], NULL);
	assert_string_equal(s, "xyz");
	free(s);
	close(sp[0]);
	assert_int_equal(wait_client(f), 0);
	assert_file(f, "out", "");

	/* not with a local program, and not when stdin is no socket */
	spawn(f, "", ARGS("--use-stdin-socket", "work", "q.S", "/bin/true"));
	assert_int_equal(wait_client(f), 2);
	spawn(f, "", ARGS("--use-stdin-socket", "work", "q.S"));
	assert_int_equal(wait_client(f), 2);
	assert_file(f, "err",
	            "qrexec-client-vm: --use-stdin-socket: stdin is not a stream socket\n");
}

/* ---- a call with a local program ---- */

static void test_local_program(void **state)
{
	struct fx *f = *state;
	char *want;

	spawn(f, "orig\n",
	      ARGS("work", "q.S", "/bin/sh", "-c",
	           /* (dash takes no fd above 9 in a redirection) */
	           "echo lerr >&2; read x; read y </proc/self/fd/$SAVED_FD_0; "
	           "echo oob >>/proc/self/fd/$SAVED_FD_1; "
	           "echo \"got:$x saved:$y pid:$QREXEC_AGENT_PID\"; exit 4"));
	host_request(f);
	host_accept(f);
	svc_write(f->svc_out, "hi\n", 3);
	splq_close_fd(&f->svc_out);
	/* the program's stdout is the service's stdin */
	want = splq_strdup_printf("got:hi saved:orig pid:%d\n", (int)f->pid);
	assert_svc_stdin(f, want);
	free(want);
	svc_write(f->svc_err, "serr\n", 5);
	splq_close_fd(&f->svc_err);
	host_send(f, SPLQ_QX_EXITED, 0, "", NULL, 0);
	/* remote 0, local 4 */
	assert_int_equal(wait_client(f), 4);
	assert_file(f, "out", "oob\n");
	assert_file(f, "err", "lerr\nserr\n");
}

static int local_case(struct fx *f, const char *script, int remote)
{
	spawn(f, "", ARGS("work", "q.S", "/bin/sh", "-c", script));
	host_request(f);
	host_accept(f);
	splq_close_fd(&f->svc_out);
	char *s = read_all(f->svc_in, NULL);
	free(s);
	splq_close_fd(&f->svc_in);
	splq_close_fd(&f->svc_err);
	host_send(f, SPLQ_QX_EXITED, remote, "", NULL, 0);
	int r = wait_client(f);
	splq_close_fd(&f->conn);
	return r;
}

static void test_local_exit_rule(void **state)
{
	struct fx *f = *state;

	/* a failed service wins; else the local program's code */
	assert_int_equal(local_case(f, "cat >/dev/null; exit 0", 5), 5);
	assert_int_equal(local_case(f, "exit 4", 5), 5);
	assert_int_equal(local_case(f, "exit 0", 0), 0);
	assert_int_equal(local_case(f, "exit 9", 0), 9);
	assert_int_equal(local_case(f, "kill -TERM $$", 0), 143);
}

static void test_local_start(void **state)
{
	struct fx *f = *state;
	char *flag = in_dir(f, "started"), *script = splq_strdup_printf("touch %s", flag);
	char *s;
	size_t len;

	/* argv[0] is the basename */
	spawn(f, "", ARGS("work", "q.S", "/bin/sh", "-c", "head -c 3 /proc/$$/cmdline"));
	host_request(f);
	host_accept(f);
	splq_close_fd(&f->svc_out);
	s = read_all(f->svc_in, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "sh\0", 3);
	free(s);
	svc_finish(f, "", "", 0);
	assert_int_equal(wait_client(f), 0);
	splq_close_fd(&f->conn);

	/* not started unless the call is accepted */
	spawn(f, "", ARGS("work", "q.S", "/bin/sh", "-c", script));
	host_request(f);
	assert_true(client_running(f));
	host_send(f, SPLQ_QX_REFUSED, 126, "", NULL, 0);
	assert_int_equal(wait_client(f), 126);
	assert_false(splq_path_exists(flag));
	splq_close_fd(&f->conn);

	/* no PATH search; one that cannot run exits 255 */
	spawn(f, "", ARGS("work", "q.S", "sh", "-c", "exit 0"));
	host_request(f);
	host_accept(f);
	svc_finish(f, "", "", 0);
	assert_int_equal(wait_client(f), 255);
	assert_file(f, "err", "qrexec-client-vm: cannot run 'sh': No such file or directory\n");
	free(flag);
	free(script);
}

/* ---- options ---- */

static void test_options(void **state)
{
	struct fx *f = *state;
	char *s;

	spawn(f, "", ARGS("-h"));
	assert_int_equal(wait_client(f), 0);
	s = slurp(f, "out", NULL);
	assert_memory_equal(s, "usage: qrexec-client-vm [OPTIONS] TARGET", 40);
	free(s);
	assert_file(f, "err", "");

	/* too few arguments, a bad option, -p twice: usage on stderr, 2 */
	const char *const *bad[] = {
	    ARGS("work"),
	    ARGS("--nosuch", "work", "q.S"),
	    ARGS("-x", "work", "q.S"),
	    ARGS("-p", "a", "-p", "b", "work", "q.S"),
	    ARGS("--buffer-size"),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spawn(f, "", bad[i]);
		assert_int_equal(wait_client(f), 2);
		s = slurp(f, "err", NULL);
		assert_non_null(strstr(s, "usage: qrexec-client-vm [OPTIONS] TARGET"));
		free(s);
		assert_file(f, "out", "");
	}
	spawn(f, "", ARGS("-s", "work", "work", "q.S"));
	assert_int_equal(wait_client(f), 2);
	assert_file(f, "err",
	            "qrexec-client-vm: --source-qube is not supported: splq knows the "
	            "calling qube by the socket its call comes in on\n");

	/* --buffer-size: checked as Qubes checks it, else 1 */
	const char *const bad_sizes[] = {"--buffer-size=x", "--buffer-size=-1", "--buffer-size= 1",
	                                 "--buffer-size=12k", "--buffer-size=2147483648"};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		spawn(f, "", ARGS(bad_sizes[i], "work", "q.S"));
		assert_int_equal(wait_client(f), 1);
	}
	const char *const good_sizes[] = {"--buffer-size=0", "--buffer-size=0x100",
	                                  "--buffer-size=2147483647"};
	for (size_t i = 0; i < sizeof(good_sizes) / sizeof(good_sizes[0]); i++) {
		spawn(f, "", ARGS(good_sizes[i], "work", "q.S"));
		host_request(f);
		host_send(f, SPLQ_QX_REFUSED, 126, "", NULL, 0);
		assert_int_equal(wait_client(f), 126);
		splq_close_fd(&f->conn);
	}

	/* options end at TARGET, or at -- */
	spawn(f, "", ARGS("--", "-t", "q.S"));
	host_request(f);
	assert_string_equal(f->target, "-t");
	assert_string_equal(f->service, "q.S");
	host_send(f, SPLQ_QX_REFUSED, 126, "", NULL, 0);
	assert_int_equal(wait_client(f), 126);
	splq_close_fd(&f->conn);
	/* an empty target is @default, for the host to resolve */
	spawn(f, "", ARGS("", "q.S", "/bin/sh", "-t"));
	host_request(f);
	assert_string_equal(f->target, "");
	host_send(f, SPLQ_QX_REFUSED, 126, "", NULL, 0);
	assert_int_equal(wait_client(f), 126);
	splq_close_fd(&f->conn);

	/* names too long for the wire, or empty */
	spawn(f, "",
	      ARGS("a123456789a123456789a123456789a123456789a123456789a123456789abcd", "q.S"));
	assert_int_equal(wait_client(f), 2);
	spawn(f, "", ARGS("work", ""));
	assert_int_equal(wait_client(f), 2);
	assert_file(f, "err", "qrexec-client-vm: the service name is empty\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exited_ends_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdout_broken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdin_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_program, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_exit_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_options, setup, teardown),
	};

	/* a write to a pipe whose reader is gone fails the test, not kills it */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
