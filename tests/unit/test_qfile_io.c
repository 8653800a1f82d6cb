/* Unit tests: the qfile sender and receiver (formats/qfile_send.c,
 * qfile_recv.c): round trips of trees, over pipes with the result, a wrong
 * CRC, a refusal told back, a full disk; a verified copy's receiver, its
 * manifest and what it does with the host's answer. */
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
#include <openssl/sha.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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

/* The SHA-256 of the file at path, by OpenSSL's one-shot function. */
static void sha256_of(const char *path, unsigned char out[32], uint64_t *size)
{
	cleanup_free char *data = NULL;
	size_t len;

	assert_int_equal(splq_read_file(path, &data, &len, NULL), 0);
	SHA256((const unsigned char *)data, len, out);
	*size = len;
}

/* Every regular file under dir/rel, depth first: its name in the stream
 * ("top/..."), appended to names. */
static void list_files(const char *dir, const char *rel, char ***names, size_t *n)
{
	cleanup_free char *path = splq_strdup_printf("%s/%s", dir, rel);
	cleanup_dir DIR *d = opendir(path);
	struct dirent *de;
	struct stat st;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *name = splq_strdup_printf("%s/%s", rel, de->d_name);
		cleanup_free char *p = splq_strdup_printf("%s/%s", dir, name);

		assert_int_equal(lstat(p, &st), 0);
		if (S_ISDIR(st.st_mode))
			list_files(dir, name, names, n);
		if (!S_ISREG(st.st_mode)) {
			free(name);
			continue;
		}
		*names = realloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = name;
	}
}

/* h lists every regular file under dir/top, each with the size and
 * SHA-256 it has there (hashed here). */
static void check_hashes(const char *dir, const struct splq_qfile_hashes *h)
{
	char **files = NULL;
	size_t nfiles = 0;

	list_files(dir, "top", &files, &nfiles);
	assert_int_equal(h->n, nfiles);
	for (size_t i = 0; i < h->n; i++) {
		cleanup_free char *p = splq_strdup_printf("%s/%s", dir, h->v[i].name);
		unsigned char sha[32];
		uint64_t size;
		bool found = false;

		sha256_of(p, sha, &size);
		assert_memory_equal(h->v[i].sha256, sha, 32);
		assert_int_equal(h->v[i].size, size);
		for (size_t k = 0; k < nfiles; k++)
			found |= strcmp(files[k], h->v[i].name) == 0;
		assert_true(found);
	}
	for (size_t k = 0; k < nfiles; k++)
		free(files[k]);
	free(files);
}

static void roundtrip(void **state, bool big)
{
	cleanup_free char *top = path_in(state, "src/top");
	cleanup_free char *src = path_in(state, "src");
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
	check_hashes(src, &r.hashes);
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
	cleanup_free char *src = path_in(state, "src");
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
	check_hashes(src, &p.r.hashes);
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

/* ---- a verified copy's receiver: the manifest, then the host's word ---- */

struct confirmed {
	int in, out, dfd;
	int rc;
	struct splq_qfile_recv r;
	struct splq_error err;
};

static void *confirmed_receiver(void *arg)
{
	struct confirmed *c = arg;
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	c->rc = splq_qfile_receive_confirmed(c->in, c->out, c->dfd, 0, &c->r, &c->err);
	close(c->in);
	close(c->out);
	return NULL;
}

/* Exactly n bytes from fd, or fail. */
static void read_exact(int fd, void *buf, size_t n)
{
	size_t have = 0;

	while (have < n) {
		ssize_t got = read(fd, (uint8_t *)buf + have, n - have);

		assert_true(got > 0);
		have += (size_t)got;
	}
}

/* The stream of src/top goes to a receive_confirmed into dst; the result
 * and the manifest are read back and checked against the files that
 * arrived, hashed here; then the answer (0: none, the end of its input). */
static void confirmed(void **state, char answer)
{
	cleanup_free char *top = path_in(state, "src/top");
	cleanup_free char *src = path_in(state, "src");
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *got = path_in(state, "dst/top");
	cleanup_free char *stream = path_in(state, "stream");
	cleanup_free char *bytes = NULL;
	cleanup_free uint8_t *m = NULL;
	const char *paths[] = {top};
	struct splq_qfile_hashes listed = {0};
	struct splq_qfile_result res;
	struct splq_qfile_send s;
	struct splq_error err;
	struct confirmed c;
	uint8_t rb[SPLQ_QFILE_RESULT_MAX];
	size_t len, mlen = 0, used;
	int to[2], from[2], out, r = 0;
	pthread_t t;

	make_tree(state, false);
	assert_int_equal(mkdir(dst, 0700), 0);
	out = open(stream, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(splq_qfile_send(out, -1, paths, 1, 0, &s, &err), 0);
	close(out);
	assert_int_equal(splq_read_file(stream, &bytes, &len, NULL), 0);
	assert_int_equal(pipe2(to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from, O_CLOEXEC), 0);
	c = (struct confirmed){.in = to[0], .out = from[1], .dfd = open_dir(dst)};
	assert_int_equal(pthread_create(&t, NULL, confirmed_receiver, &c), 0);
	assert_int_equal(splq_write_all(to[1], bytes, len), 0);

	/* The result first, as any receiver's: success, the stream's CRC. */
	read_exact(from[0], rb, SPLQ_QFILE_RESULT_SIZE + 4);
	assert_int_equal(get_u32(rb), 0);
	assert_int_equal(get_u32(rb + 16), 3);
	read_exact(from[0], rb + 20, 3);
	assert_int_equal(splq_qfile_result_decode(rb, 23, &res, &err), 0);
	assert_int_equal(res.crc32, s.crc);
	assert_memory_equal(res.last_name, "top", 3);
	/* Then the manifest, to its end, and nothing after it yet. */
	while (r == 0) {
		m = realloc(m, mlen + 4096);
		ssize_t n = read(from[0], m + mlen, 4096);
		assert_true(n > 0);
		mlen += (size_t)n;
		r = splq_qfile_manifest_next(m, mlen, 64, &listed, &used, &err);
		assert_true(r >= 0);
		memmove(m, m + used, mlen - used);
		mlen -= used;
	}
	assert_int_equal(mlen, 0);
	/* It lists every file that arrived, each with the SHA-256 and size
	 * it has on disk, and at its source. */
	assert_int_equal(listed.n, 7);
	check_hashes(dst, &listed);
	check_hashes(src, &listed);
	/* Until the answer comes, the files are there. */
	check_same_tree(top, got);

	if (answer)
		assert_int_equal(write(to[1], &answer, 1), 1);
	close(to[1]);
	pthread_join(t, NULL);
	close(from[0]);
	if (answer == 'y') {
		if (c.rc < 0)
			fail_msg("%s", c.err.msg);
		check_same_tree(top, got);
	} else {
		assert_int_equal(c.rc, -1);
		assert_int_equal(c.err.code, SPLQ_E_VERIFY);
		assert_non_null(strstr(c.err.msg, "not confirmed"));
		/* Every file and directory it made is gone. */
		assert_int_equal(count_entries(dst), 0);
	}
	close(c.dfd);
	splq_qfile_recv_free(&c.r);
	splq_qfile_hashes_free(&listed);
	splq_qfile_send_free(&s);
}

static void test_confirmed_yes(void **state)
{
	confirmed(state, 'y');
}

static void test_confirmed_no(void **state)
{
	confirmed(state, 'n');
}

static void test_confirmed_eof(void **state)
{
	confirmed(state, 0);
}

/* A stream the receiver refuses: no manifest, no wait for an answer. */
static void test_confirmed_refused(void **state)
{
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *keep = path_in(state, "dst/x");
	cleanup_free char *text = NULL;
	struct splq_qfile_recv r;
	struct splq_error err;
	struct sb s = {0};
	uint8_t rb[64];
	int to[2], from[2], dfd;

	assert_int_equal(mkdir(dst, 0700), 0);
	put(keep, "mine", 0600);
	sb_dir(&s, "d");
	sb_entry(&s, "d/f", S_IFREG | 0644, "data", 4);
	sb_dir(&s, "d");
	sb_entry(&s, "x", S_IFREG | 0644, "other", 5);
	sb_end(&s);
	assert_int_equal(pipe2(to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from, O_CLOEXEC), 0);
	assert_int_equal(splq_write_all(to[1], s.b, s.n), 0);
	dfd = open_dir(dst);
	/* An answer already waiting does not keep a refused copy. */
	assert_int_equal(write(to[1], "y", 1), 1);
	close(to[1]);
	assert_int_equal(splq_qfile_receive_confirmed(to[0], from[1], dfd, 0, &r, &err), -1);
	assert_int_equal(err.code, SPLQ_E_EXISTS);
	close(from[1]);
	/* Only the result came back, no manifest. */
	ssize_t n = read(from[0], rb, sizeof(rb));
	assert_int_equal(n, 16 + 4 + 1);
	assert_int_equal(get_u32(rb), EEXIST);
	assert_int_equal(read(from[0], rb, sizeof(rb)), 0);
	assert_int_equal(count_entries(dst), 1);
	assert_int_equal(splq_read_file(keep, &text, NULL, NULL), 0);
	assert_string_equal(text, "mine");
	splq_qfile_recv_free(&r);
	close(to[0]);
	close(from[0]);
	close(dfd);
	free(s.b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_roundtrip),    T(test_roundtrip_large), T(test_sender_bytes),
	    T(test_pipes),        T(test_wrong_crc),       T(test_remote_refusal),
	    T(test_nospace),      T(test_sender_skips),    T(test_confirmed_yes),
	    T(test_confirmed_no), T(test_confirmed_eof),   T(test_confirmed_refused),
	};

	return cmocka_run_group_tests_name("qfile_io", tests, NULL, NULL);
}
