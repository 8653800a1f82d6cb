/* Unit tests: the qfile sender and receiver (formats/qfile_send.c,
 * qfile_recv.c): round trips of trees, over pipes with the result, a wrong
 * CRC, a refusal told back, a full disk. */
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
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "error.h"
#include "formats/qfile.h"
#include "util.h"

#include "fixture.h"
#include "qfile_stream.h"

/* ---- round trips ---- */

static void set_time(const char *path, time_t sec, long nsec)
{
	struct timespec ts[2] = {{sec, nsec}, {sec + 7, nsec + 1}};

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void make_tree(void **state, bool big)
{
	static const char *const dirs[] = {"src", "src/top", "src/top/sub", "src/top/sub/deep",
	                                   "src/top/ro"};
	cleanup_free char *sparse = path_in(state, "src/top/sparse");
	cleanup_free char *rnd = path_in(state, "src/top/random");
	uint8_t buf[65536];
	int fd;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		cleanup_free char *d = path_in(state, dirs[i]);

		assert_int_equal(mkdir(d, 0755), 0);
	}
	static const char *const files[][2] = {{"src/top/a", "alpha\n"},
	                                       {"src/top/empty", ""},
	                                       {"src/top/sub/deep/f", "deep"},
	                                       {"src/top/ro/in", "inside a read-only dir"},
	                                       {"src/top/\xc3\xbcml\xc3\xa4ut", "u"}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *f = path_in(state, files[i][0]);

		put(f, files[i][1], 0640 - 0100 * (i % 2));
		set_time(f, 1500000000 + (time_t)i, 123456789);
	}
	fd = open(rnd, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	for (size_t i = 0; i < (big ? 64u : 1u); i++) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(k * 31 + i * 7 + (k >> 9));
		assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	}
	close(fd);
	fd = open(sparse, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "middle", 6, big ? 16 << 20 : 10000), 6);
	assert_int_equal(ftruncate(fd, big ? 32 << 20 : 20000), 0);
	close(fd);
	cleanup_free char *l1 = path_in(state, "src/top/link");
	cleanup_free char *l2 = path_in(state, "src/top/sub/up");
	cleanup_free char *ro = path_in(state, "src/top/ro");
	cleanup_free char *sub = path_in(state, "src/top/sub");
	assert_int_equal(symlink("a", l1), 0);
	assert_int_equal(symlink("../a", l2), 0);
	set_time(l1, 1400000000, 1);
	assert_int_equal(chmod(sub, 0751), 0);
	set_time(sub, 1300000000, 999999998);
	assert_int_equal(chmod(ro, 0555), 0);
}

/* The trees under a and b have the same entries, types, modes, sizes,
 * mtimes, contents and link targets.  (Atimes: the stream carries each
 * file's from before the sender read it, as Qubes' does.) */
static void check_same_tree(const char *a, const char *b)
{
	struct stat sa, sb;
	cleanup_dir DIR *d = NULL;
	struct dirent *de;

	assert_int_equal(lstat(a, &sa), 0);
	assert_int_equal(lstat(b, &sb), 0);
	assert_int_equal(sa.st_mode, sb.st_mode);
	assert_int_equal(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	assert_int_equal(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	if (S_ISLNK(sa.st_mode)) {
		char ta[256] = {0}, tb[256] = {0};

		assert_true(readlink(a, ta, sizeof(ta)) > 0);
		assert_true(readlink(b, tb, sizeof(tb)) > 0);
		assert_string_equal(ta, tb);
		return;
	}
	if (S_ISREG(sa.st_mode)) {
		cleanup_free char *ca = NULL, *cb = NULL;
		size_t la, lb;

		assert_int_equal(splq_read_file(a, &ca, &la, NULL), 0);
		assert_int_equal(splq_read_file(b, &cb, &lb, NULL), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(ca, cb, la);
		return;
	}
	assert_int_equal(count_entries(a), count_entries(b));
	d = opendir(a);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *pa = splq_strdup_printf("%s/%s", a, de->d_name);
		cleanup_free char *pb = splq_strdup_printf("%s/%s", b, de->d_name);

		check_same_tree(pa, pb);
	}
}

static void check_hashes(const struct splq_qfile_hashes *a, const struct splq_qfile_hashes *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].name, b->v[i].name);
		assert_int_equal(a->v[i].size, b->v[i].size);
		assert_memory_equal(a->v[i].sha256, b->v[i].sha256, 32);
	}
}

static void roundtrip(void **state, bool big)
{
	cleanup_free char *top = path_in(state, "src/top");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *stream = path_in(state, "stream");
	cleanup_free char *got = path_in(state, "dst/top");
	cleanup_free char *sparse = path_in(state, "dst/top/sparse");
	const char *paths[] = {top};
	struct splq_qfile_send s;
	struct splq_qfile_recv r;
	struct splq_error err;
	struct stat st;
	int out, in, dfd;

	make_tree(state, big);
	assert_int_equal(mkdir(dst, 0700), 0);
	out = open(stream, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(out >= 0);
	if (splq_qfile_send(out, -1, paths, 1, 0, &s, &err) < 0)
		fail_msg("%s", err.msg);
	close(out);
	assert_int_equal(s.entries, 17); /* 5 directories twice, 7 files */
	in = open(stream, O_RDONLY);
	dfd = open_dir(dst);
	if (splq_qfile_receive(in, -1, dfd, 0, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.p.crc, s.crc);
	check_hashes(&s.hashes, &r.hashes);
	check_same_tree(top, got);
	/* Holes stay holes. */
	assert_int_equal(stat(sparse, &st), 0);
	if (big)
		assert_true(st.st_blocks * 512 < 1 << 20);
	splq_qfile_recv_free(&r);
	close(in);
	/* The same again is refused: names are never overwritten. */
	in = open(stream, O_RDONLY);
	assert_int_equal(splq_qfile_receive(in, -1, dfd, 0, &r, &err), -1);
	assert_int_equal(err.code, SPLQ_E_EXISTS);
	assert_int_equal(r.p.error_code, EEXIST);
	splq_qfile_recv_free(&r);
	close(in);
	close(dfd);
	splq_qfile_send_free(&s);
}

static void test_roundtrip(void **state)
{
	roundtrip(state, false);
}

static void test_roundtrip_large(void **state)
{
	roundtrip(state, true);
}

/* The sender's exact bytes for one file. */
static void test_sender_bytes(void **state)
{
	cleanup_free char *f = path_in(state, "f");
	cleanup_free char *stream = path_in(state, "stream");
	cleanup_free char *bytes = NULL;
	const char *paths[] = {f};
	struct splq_qfile_send s;
	struct splq_error err;
	struct splq_qfile_hdr h;
	size_t len;
	int out;

	put(f, "abc", 0604);
	set_time(f, 1234567890, 42);
	out = open(stream, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(splq_qfile_send(out, -1, paths, 1, 0, &s, &err), 0);
	close(out);
	assert_int_equal(splq_read_file(stream, &bytes, &len, NULL), 0);
	assert_int_equal(len, 32 + 2 + 3 + 32);
	splq_qfile_hdr_decode((uint8_t *)bytes, &h);
	assert_int_equal(h.namelen, 2);
	assert_int_equal(h.mode, S_IFREG | 0604);
	assert_int_equal(h.filelen, 3);
	assert_int_equal(h.atime, 1234567890);
	assert_int_equal(h.atime_nsec, 42);
	assert_int_equal(h.mtime, 1234567897);
	assert_int_equal(h.mtime_nsec, 43);
	assert_memory_equal(bytes + 32, "f\0abc", 5);
	for (size_t i = 37; i < len; i++)
		assert_int_equal(bytes[i], 0);
	assert_int_equal(s.crc, splq_crc32(0, bytes, len));
	splq_qfile_send_free(&s);
}

/* ---- over pipes, with the result ---- */

struct peer {
	int in, out, dfd;
	bool bad_crc;
	int rc;
	struct splq_qfile_recv r;
	struct splq_error err;
};

static void *receiver(void *arg)
{
	struct peer *p = arg;

	if (!p->bad_crc) {
		p->rc = splq_qfile_receive(p->in, p->out, p->dfd, 0, &p->r, &p->err);
	} else {
		/* Receives the stream, answers with a CRC one off. */
		uint8_t res[SPLQ_QFILE_RESULT_MAX];
		size_t n;

		p->rc = splq_qfile_receive(p->in, -1, p->dfd, 0, &p->r, &p->err);
		n = splq_qfile_result_encode(0, p->r.p.crc + 1, "top", res);
		assert_int_equal(write(p->out, res, n), (ssize_t)n);
	}
	close(p->out);
	return NULL;
}

static int over_pipes(void **state, bool bad_crc, const char *path, struct splq_qfile_send *s,
                      struct peer *p, struct splq_error *err)
{
	cleanup_free char *dst = path_in(state, "dst");
	int to[2], from[2], r;
	pthread_t t;
	const char *paths[] = {path};

	assert_int_equal(mkdir(dst, 0700), 0);
	assert_int_equal(pipe2(to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from, O_CLOEXEC), 0);
	*p = (struct peer){.in = to[0], .out = from[1], .dfd = open_dir(dst), .bad_crc = bad_crc};
	assert_int_equal(pthread_create(&t, NULL, receiver, p), 0);
	r = splq_qfile_send(to[1], from[0], paths, 1, 0, s, err);
	close(to[1]);
	pthread_join(t, NULL);
	close(to[0]);
	close(from[0]);
	close(p->dfd);
	return r;
}

static void test_pipes(void **state)
{
	cleanup_free char *top = path_in(state, "src/top");
	cleanup_free char *got = path_in(state, "dst/top");
	struct splq_qfile_send s;
	struct splq_error err;
	struct peer p;

	make_tree(state, false);
	if (over_pipes(state, false, top, &s, &p, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(p.rc, 0);
	assert_int_equal(s.remote_code, 0);
	assert_int_equal(s.remote_crc, s.crc);
	assert_string_equal(s.remote_last, "top");
	check_hashes(&s.hashes, &p.r.hashes);
	check_same_tree(top, got);
	splq_qfile_recv_free(&p.r);
	splq_qfile_send_free(&s);
}

static void test_wrong_crc(void **state)
{
	cleanup_free char *top = path_in(state, "src/top");
	struct splq_qfile_send s;
	struct splq_error err;
	struct peer p;

	make_tree(state, false);
	assert_int_equal(over_pipes(state, true, top, &s, &p, &err), -1);
	assert_int_equal(err.code, SPLQ_E_CORRUPT);
	assert_non_null(strstr(err.msg, "checksum mismatch"));
	splq_qfile_recv_free(&p.r);
	splq_qfile_send_free(&s);
}

/* The receiver refuses: the sender tells the receiver's reason. */
static void test_remote_refusal(void **state)
{
	cleanup_free char *f = path_in(state, "bad\x01name");
	struct splq_qfile_send s;
	struct splq_error err;
	struct peer p;

	put(f, "x", 0644);
	assert_int_equal(over_pipes(state, false, f, &s, &p, &err), -1);
	assert_int_equal(s.remote_code, EILSEQ);
	assert_non_null(strstr(err.msg, "refuses a character"));
	assert_int_equal(p.rc, -1);
	splq_qfile_recv_free(&p.r);
	splq_qfile_send_free(&s);
}

/* ---- disk full ---- */

static int nospace_child(void **state)
{
	cleanup_free char *mnt = path_in(state, "small");
	struct splq_error err = {0};
	uint8_t res[SPLQ_QFILE_RESULT_MAX];
	struct sb s = {0};
	size_t n = 2 * 1024 * 1024, reslen;
	char *data = malloc(n);
	int dfd;

	if (mkdir(mnt, 0755) < 0 || mount("splqtest", mnt, "tmpfs", 0, "size=256k") < 0)
		return 77;
	memset(data, 'x', n);
	sb_dir(&s, "d");
	sb_entry(&s, "d/small", S_IFREG | 0644, "ok", 2);
	sb_entry(&s, "d/big", S_IFREG | 0644, data, n);
	sb_dir(&s, "d");
	sb_end(&s);
	dfd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (recv_bytes(dfd, &s, 65536, 0, res, &reslen, &err) == 0)
		return 1;
	if (err.code != SPLQ_E_NOSPACE || get_u32(res) != ENOSPC)
		return 2;
	if (count_entries(mnt) != 0)
		return 3; /* nothing half-made stays */
	return 0;
}

static void test_nospace(void **state)
{
	if (!in_mount_ns(state, nospace_child))
		skip_msg("needs root and mount namespaces to mount a small tmpfs");
}

/* Fifos are left out, as Qubes' sender does; --ignore-symlinks leaves links. */
static void test_sender_skips(void **state)
{
	cleanup_free char *top = path_in(state, "top");
	cleanup_free char *fifo = path_in(state, "top/fifo");
	cleanup_free char *link = path_in(state, "top/link");
	cleanup_free char *stream = path_in(state, "stream");
	const char *paths[] = {top};
	struct splq_qfile_send s;
	struct splq_error err;
	int out;

	assert_int_equal(mkdir(top, 0755), 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(symlink("x", link), 0);
	out = open(stream, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(splq_qfile_send(out, -1, paths, 1, SPLQ_QFILE_IGNORE_SYMLINKS, &s, &err),
	                 0);
	close(out);
	assert_int_equal(s.entries, 2);
	assert_int_equal(s.skipped, 1);
	splq_qfile_send_free(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_roundtrip), T(test_roundtrip_large), T(test_sender_bytes), T(test_pipes),
	    T(test_wrong_crc), T(test_remote_refusal),  T(test_nospace),      T(test_sender_skips),
	};

	return cmocka_run_group_tests_name("qfile_io", tests, NULL, NULL);
}
