/* Unit tests: the host's relay of a file copy (services/filecopy.c)
 * between a sender and a receiver, each in a thread of its own, over
 * pipes: splq's own sender and receiver, and crafted ones that cut the
 * stream, write past its end, or lie about what they received. */
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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "formats/qfile.h"
#include "services/filecopy.h"
#include "util.h"

#include "fixture.h"
#include "qfile_stream.h"

/* What a crafted receiver gets wrong. */
enum lie {
	HONEST,
	LIE_HASH,    /* a file's SHA-256 */
	LIE_SIZE,    /* a file's size */
	LIE_MISSING, /* the last file left out */
	LIE_EXTRA,   /* a file more than was sent */
	LIE_NAME,    /* a file under another name */
	LIE_CRC,     /* the result's CRC */
	MUTE,        /* no result at all */
};

/* One end of a copy, run in a thread; it closes in and out.  No cmocka
 * assertion runs in these threads: what they saw is checked after. */
struct end {
	int in, out;
	int rc;
	struct splq_error err;
	/* splq's sender */
	const char *const *paths;
	size_t npaths;
	struct splq_qfile_send s;
	/* a crafted sender: stream, then tail (in the same write, or later) */
	struct sb stream, tail;
	bool tail_later;
	/* receivers: splq's (confirm: receive_confirmed), or a crafted one
	 * that records what it reads */
	int dfd;
	bool confirm;
	enum lie lie;
	struct splq_qfile_recv r;
	/* what a crafted end read: the receiver, every byte up to the
	 * stream's end marker (and whatever came in the same read) and what
	 * came after its result; the sender, what came back */
	struct sb got, after;
};

static void quiet_pipe(void)
{
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
}

static void read_to_end(int fd, struct sb *into)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		sb_add(into, buf, (size_t)n);
	}
}

static void *real_sender(void *arg)
{
	struct end *e = arg;

	e->rc = splq_qfile_send(e->out, e->in, e->paths, e->npaths, 0, &e->s, &e->err);
	close(e->out);
	close(e->in);
	return NULL;
}

static void *crafted_sender(void *arg)
{
	struct end *e = arg;
	struct sb all = {0};

	quiet_pipe();
	sb_add(&all, e->stream.b, e->stream.n);
	if (!e->tail_later && e->tail.n)
		sb_add(&all, e->tail.b, e->tail.n);
	e->rc = splq_write_all(e->out, all.b, all.n);
	if (e->tail_later && e->tail.n) {
		/* the host has read the stream by now: this comes on its own */
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
		(void)splq_write_all(e->out, e->tail.b, e->tail.n); /* EPIPE, if it stopped */
	}
	close(e->out);
	read_to_end(e->in, &e->got);
	close(e->in);
	free(all.b);
	return NULL;
}

static void *real_receiver(void *arg)
{
	struct end *e = arg;

	quiet_pipe(); /* a receiver whose host stopped listening gets EPIPE */
	e->rc = e->confirm ? splq_qfile_receive_confirmed(e->in, e->out, e->dfd, 0, &e->r, &e->err)
	                   : splq_qfile_receive(e->in, e->out, e->dfd, 0, &e->r, &e->err);
	close(e->in);
	close(e->out);
	return NULL;
}

/* The manifest a crafted receiver sends for what it wrote, with its lie. */
static void crafted_manifest(struct end *e, struct sb *out)
{
	const struct splq_qfile_hashes *h = &e->r.hashes;
	struct splq_qfile_hashes m = {0};
	size_t len;

	for (size_t i = 0; i < h->n; i++) {
		struct splq_qfile_hash x = h->v[i];
		unsigned char sha[32];

		memcpy(sha, x.sha256, 32);
		if (e->lie == LIE_HASH && i == 0)
			sha[31] ^= 1;
		if (e->lie == LIE_SIZE && i + 1 == h->n)
			x.size++;
		if (e->lie == LIE_NAME && i == 0)
			x.name = "top/elsewhere";
		if (e->lie == LIE_MISSING && i + 1 == h->n)
			break;
		splq_qfile_hashes_add(&m, x.name, x.size, sha);
	}
	if (e->lie == LIE_EXTRA)
		splq_qfile_hashes_add(&m, "top/extra", 1, (const unsigned char[32]){0});
	cleanup_free uint8_t *b = splq_qfile_manifest_encode(&m, &len);
	sb_add(out, b, len);
	splq_qfile_hashes_free(&m);
}

/* Receives with splq's receiver, fed by hand, so that every byte read is
 * seen; answers with the result (and, with confirm, the manifest) in one
 * write, then reads what comes after. */
static void *crafted_receiver(void *arg)
{
	struct end *e = arg;
	uint8_t buf[65536], res[SPLQ_QFILE_RESULT_MAX];
	struct sb out = {0};
	int fed = 0;

	quiet_pipe();
	splq_qfile_recv_init(&e->r, e->dfd, 0);
	while (fed == 0) {
		ssize_t n = read(e->in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fed = splq_qfile_recv_eof(&e->r, &e->err);
			break;
		}
		sb_add(&e->got, buf, (size_t)n);
		fed = splq_qfile_recv_feed(&e->r, buf, (size_t)n, &e->err);
	}
	e->rc = fed > 0 ? 0 : -1;
	if (e->lie != MUTE) {
		size_t n = splq_qfile_parser_result(&e->r.p, res);

		if (e->lie == LIE_CRC)
			res[8] ^= 1;
		sb_add(&out, res, n);
		if (fed > 0 && e->confirm)
			crafted_manifest(e, &out);
		(void)splq_write_all(e->out, out.b, out.n);
	}
	close(e->out);
	read_to_end(e->in, &e->after);
	close(e->in);
	free(out.b);
	return NULL;
}

/* Refuses at once: its result (EEXIST), the end of its output, and only
 * a while later the end of its input, never read. */
static void *hangup_receiver(void *arg)
{
	struct end *e = arg;
	uint8_t res[SPLQ_QFILE_RESULT_MAX];
	size_t n = splq_qfile_result_encode(EEXIST, 0, "top", res);

	quiet_pipe();
	e->rc = splq_write_all(e->out, res, n);
	close(e->out);
	nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
	close(e->in);
	return NULL;
}

struct progress {
	int calls, done;
	struct splq_filecopy_stats last;
};

static void on_progress(void *arg, const struct splq_filecopy_stats *s)
{
	struct progress *p = arg;

	p->calls++;
	p->done += s->done;
	p->last = *s;
}

/* Run a copy from snd to rcv through the relay: its return. */
static int relay(void *(*sf)(void *), struct end *snd, void *(*rf)(void *), struct end *rcv,
                 struct splq_filecopy *c, struct splq_error *err)
{
	int s2h[2], h2s[2], h2r[2], r2h[2], rc;
	pthread_t ts, tr;

	assert_int_equal(pipe2(s2h, O_CLOEXEC), 0);
	assert_int_equal(pipe2(h2s, O_CLOEXEC), 0);
	assert_int_equal(pipe2(h2r, O_CLOEXEC), 0);
	assert_int_equal(pipe2(r2h, O_CLOEXEC), 0);
	snd->out = s2h[1];
	snd->in = h2s[0];
	rcv->in = h2r[0];
	rcv->out = r2h[1];
	struct splq_filecopy_io io = {.from_sender = s2h[0],
	                              .to_receiver = h2r[1],
	                              .from_receiver = r2h[0],
	                              .to_sender = h2s[1],
	                              .err = {-1, -1},
	                              .err_out = -1};
	assert_int_equal(pthread_create(&ts, NULL, sf, snd), 0);
	assert_int_equal(pthread_create(&tr, NULL, rf, rcv), 0);
	alarm(30); /* a copy that hangs fails the test */
	rc = splq_filecopy_relay(&io, c, err);
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	alarm(0);
	return rc;
}

static void end_free(struct end *e)
{
	splq_qfile_send_free(&e->s);
	if (e->r.md)
		splq_qfile_recv_free(&e->r);
	if (e->dfd > 0)
		close(e->dfd);
	free(e->stream.b);
	free(e->tail.b);
	free(e->got.b);
	free(e->after.b);
}

/* ---- a tree to send ---- */

/* src/top: files (one of 3 MiB, more than the host reads at once), an
 * empty one, directories, a symlink; src/single, a file. */
static void make_src(void **state)
{
	static const char *const dirs[] = {"src", "src/top", "src/top/sub", "src/top/sub/deep"};
	cleanup_free char *big = path_in(state, "src/top/sub/big");
	cleanup_free char *link = path_in(state, "src/top/sub/link");
	uint8_t buf[65536];
	int fd;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		cleanup_free char *d = path_in(state, dirs[i]);

		assert_int_equal(mkdir(d, 0750), 0);
	}
	static const char *const files[][2] = {{"src/top/a", "alpha\n"},
	                                       {"src/top/empty", ""},
	                                       {"src/top/sub/deep/f", "deep"},
	                                       {"src/single", "a single file"}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *f = path_in(state, files[i][0]);

		put(f, files[i][1], 0640);
	}
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	for (size_t i = 0; i < 48; i++) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(k * 7 + i * 3 + (k >> 11));
		assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	}
	close(fd);
	assert_int_equal(symlink("../a", link), 0);
}

static char *make_dst(void **state, const char *name, int *dfd)
{
	char *dst = path_in(state, name);

	assert_int_equal(mkdir(dst, 0700), 0);
	*dfd = open_dir(dst);
	return dst;
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

/* Every file in h is in dir, with h's size and SHA-256 (OpenSSL's
 * one-shot SHA256 over the file read here). */
static void check_files(const char *dir, const struct splq_qfile_hashes *h)
{
	for (size_t i = 0; i < h->n; i++) {
		cleanup_free char *p = splq_strdup_printf("%s/%s", dir, h->v[i].name);
		cleanup_free char *data = NULL;
		unsigned char sha[32];
		size_t len;

		assert_int_equal(splq_read_file(p, &data, &len, NULL), 0);
		SHA256((const unsigned char *)data, len, sha);
		assert_int_equal(h->v[i].size, len);
		assert_memory_equal(h->v[i].sha256, sha, 32);
	}
}

/* ---- copies that work ---- */

static void copy_ok(void **state, bool manifest)
{
	cleanup_free char *top = path_in(state, "src/top");
	cleanup_free char *single = path_in(state, "src/single");
	cleanup_free char *src = path_in(state, "src");
	const char *paths[] = {top, single};
	struct end snd = {.paths = paths, .npaths = 2}, rcv = {.confirm = manifest};
	struct progress prog = {0};
	struct splq_filecopy c = {
	    .manifest = manifest, .progress = on_progress, .progress_arg = &prog};
	struct splq_error err;
	struct stat st;

	make_src(state);
	cleanup_free char *dst = make_dst(state, "dst", &rcv.dfd);
	cleanup_free char *link = path_in(state, "dst/top/sub/link");
	cleanup_free char *target = NULL;
	if (relay(real_sender, &snd, real_receiver, &rcv, &c, &err) < 0)
		fail_msg("%s", err.msg);
	if (snd.rc < 0)
		fail_msg("sender: %s", snd.err.msg);
	if (rcv.rc < 0)
		fail_msg("receiver: %s", rcv.err.msg);
	/* The sender got the receiver's result: success, its own CRC. */
	assert_int_equal(snd.s.remote_code, 0);
	assert_int_equal(snd.s.remote_crc, snd.s.crc);
	assert_int_equal(rcv.r.p.crc, snd.s.crc);
	/* The host hashed what passed: the files the receiver wrote, and
	 * those on both disks. */
	assert_int_equal(c.sent.n, 5);
	check_hashes(&c.sent, &rcv.r.hashes);
	check_files(src, &c.sent);
	check_files(dst, &c.sent);
	assert_int_equal(c.bytes, 48 * 65536 + 6 + 4 + 13);
	assert_int_equal(c.bytes, snd.s.bytes);
	assert_int_equal(c.bytes, rcv.r.bytes);
	assert_int_equal(c.entries, 12); /* 3 directories twice, 5 files, a link */
	assert_int_equal(c.entries, snd.s.entries);
	if (manifest) {
		/* The receiver's list, the host's, agreed; it was told so. */
		assert_true(c.verified);
		check_hashes(&c.sent, &c.received);
	} else {
		assert_false(c.verified);
		assert_int_equal(c.received.n, 0);
	}
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(count_entries(dst), 2);
	/* Progress: the last call says it is done, with the totals. */
	assert_true(prog.calls >= 1);
	assert_int_equal(prog.done, 1);
	assert_true(prog.last.done);
	assert_int_equal(prog.last.bytes, c.bytes);
	assert_int_equal(prog.last.files, 5);
	splq_filecopy_free(&c);
	end_free(&snd);
	end_free(&rcv);
}

static void test_copy(void **state)
{
	copy_ok(state, false);
}

static void test_copy_verified(void **state)
{
	copy_ok(state, true);
}

/* ---- a receiver that refuses ---- */

static void test_copy_exists(void **state)
{
	cleanup_free char *single = path_in(state, "src/single");
	cleanup_free char *top = path_in(state, "src/top");

	make_src(state);
	for (int manifest = 0; manifest < 2; manifest++) {
		/* "single" goes first and arrives; "top" is taken, by a file. */
		const char *paths[] = {single, top};
		struct end snd = {.paths = paths, .npaths = 2}, rcv = {.confirm = manifest};
		struct splq_filecopy c = {.manifest = manifest};
		struct splq_error err = {0};
		cleanup_free char *text = NULL;
		cleanup_free char *dst = make_dst(state, manifest ? "dst1" : "dst0", &rcv.dfd);
		cleanup_free char *mine = splq_strdup_printf("%s/top", dst);

		put(mine, "mine", 0600);
		assert_int_equal(relay(real_sender, &snd, real_receiver, &rcv, &c, &err), -1);
		assert_int_equal(err.code, SPLQ_E_EXISTS);
		assert_non_null(strstr(err.msg, "'top' already exists"));
		assert_null(strstr(err.msg, "qfile send: "));
		assert_false(c.verified);
		assert_int_equal(rcv.rc, -1);
		assert_int_equal(rcv.err.code, SPLQ_E_EXISTS);
		/* the sender was told the receiver's reason */
		assert_int_equal(snd.rc, -1);
		assert_int_equal(snd.err.code, SPLQ_E_EXISTS);
		assert_int_equal(snd.s.remote_code, EEXIST);
		/* Nothing of the copy stays; what was there is untouched. */
		assert_int_equal(count_entries(dst), 1);
		assert_int_equal(splq_read_file(mine, &text, NULL, NULL), 0);
		assert_string_equal(text, "mine");
		splq_filecopy_free(&c);
		end_free(&snd);
		end_free(&rcv);
	}
}

/* A receiver that is gone before the stream is through: the sender is
 * stopped too, and told why, whether or not a manifest was wanted. */
static void test_copy_receiver_gone(void **state)
{
	cleanup_free char *top = path_in(state, "src/top");

	make_src(state);
	for (int manifest = 0; manifest < 2; manifest++) {
		const char *paths[] = {top};
		struct end snd = {.paths = paths, .npaths = 1}, rcv = {0};
		struct splq_filecopy c = {.manifest = manifest};
		struct splq_error err = {0};

		assert_int_equal(relay(real_sender, &snd, hangup_receiver, &rcv, &c, &err), -1);
		if (err.code != SPLQ_E_EXISTS)
			fail_msg("manifest %d: code %d: %s", manifest, err.code, err.msg);
		assert_false(c.verified);
		assert_int_equal(rcv.rc, 0);
		assert_int_equal(snd.rc, -1);
		assert_int_equal(snd.err.code, SPLQ_E_EXISTS);
		assert_int_equal(snd.s.remote_code, EEXIST);
		splq_filecopy_free(&c);
		end_free(&snd);
		end_free(&rcv);
	}
}

/* ---- receivers that lie ---- */

static void test_copy_tampered(void **state)
{
	static const struct {
		enum lie lie;
		int code;
		const char *msg;
	} cases[] = {
	    {HONEST, 0, NULL},
	    {LIE_HASH, SPLQ_E_VERIFY, "has another SHA-256 there"},
	    {LIE_SIZE, SPLQ_E_VERIFY, "has another size there"},
	    {LIE_MISSING, SPLQ_E_VERIFY, "is missing at the receiver"},
	    {LIE_NAME, SPLQ_E_VERIFY, "is not where it should be"},
	    {LIE_EXTRA, SPLQ_E_VERIFY, "verify: the manifest lists more files than were sent (5)"},
	};
	cleanup_free char *top = path_in(state, "src/top");
	cleanup_free char *single = path_in(state, "src/single");

	make_src(state);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *paths[] = {top, single};
		struct end snd = {.paths = paths, .npaths = 2},
		           rcv = {.confirm = true, .lie = cases[i].lie};
		struct splq_filecopy c = {.manifest = true};
		struct splq_error err = {0};
		char name[16];

		snprintf(name, sizeof(name), "dst%zu", i);
		cleanup_free char *dst = make_dst(state, name, &rcv.dfd);
		int rc = relay(real_sender, &snd, crafted_receiver, &rcv, &c, &err);
		assert_int_equal(rcv.rc, 0);
		if (cases[i].lie == HONEST) {
			/* the control: the same receiver, honest, is told yes */
			if (rc < 0)
				fail_msg("%s", err.msg);
			assert_true(c.verified);
			assert_int_equal(rcv.after.n, 1);
			assert_int_equal(rcv.after.b[0], 'y');
		} else {
			assert_int_equal(rc, -1);
			if (err.code != cases[i].code || !strstr(err.msg, cases[i].msg))
				fail_msg("lie %d: code %d: %s", cases[i].lie, err.code, err.msg);
			assert_false(c.verified);
			/* never told yes: nothing at all after its manifest */
			assert_int_equal(rcv.after.n, 0);
		}
		assert_int_equal(c.sent.n, 5);
		splq_filecopy_free(&c);
		end_free(&snd);
		end_free(&rcv);
	}
}

/* A verified copy to a receiver that sends no manifest fails; one that
 * sends none of its result, or another CRC, fails any copy. */
static void test_copy_no_manifest_bad_result(void **state)
{
	static const struct {
		bool manifest;
		enum lie lie;
		int code;
		const char *msg;
	} cases[] = {
	    {true, HONEST, SPLQ_E_VERIFY, "sent no list of the files it wrote"},
	    {false, MUTE, SPLQ_E_TRANSFER, "ended without a result"},
	    {true, MUTE, SPLQ_E_TRANSFER, "ended without a result"},
	    {false, LIE_CRC, SPLQ_E_TRANSFER, "checksum mismatch"},
	};
	cleanup_free char *top = path_in(state, "src/top");

	make_src(state);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *paths[] = {top};
		/* the first: splq's receiver, not asked for a manifest */
		bool real = i == 0;
		struct end snd = {.paths = paths, .npaths = 1}, rcv = {.lie = cases[i].lie};
		struct splq_filecopy c = {.manifest = cases[i].manifest};
		struct splq_error err = {0};
		char name[16];

		snprintf(name, sizeof(name), "dst%zu", i);
		cleanup_free char *dst = make_dst(state, name, &rcv.dfd);
		assert_int_equal(relay(real_sender, &snd, real ? real_receiver : crafted_receiver,
		                       &rcv, &c, &err),
		                 -1);
		if (err.code != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: code %d: %s", i, err.code, err.msg);
		assert_false(c.verified);
		splq_filecopy_free(&c);
		end_free(&snd);
		end_free(&rcv);
	}
}

/* ---- senders that cut the stream or write past its end ---- */

static void test_copy_sender_cut(void **state)
{
	uint8_t data[1000];

	memset(data, 'x', sizeof(data));
	for (int i = 0; i < 4; i++) {
		bool manifest = i & 1, mid_file = i < 2;
		struct end snd = {0}, rcv = {.confirm = manifest};
		struct splq_filecopy c = {.manifest = manifest};
		struct splq_error err = {0};
		char name[16];

		/* a directory, a whole file in it, then a file of 100000
		 * bytes cut after 1000 (or a cut after the whole file) */
		sb_dir(&snd.stream, "d");
		sb_entry(&snd.stream, "d/a", S_IFREG | 0644, "alpha", 5);
		if (mid_file) {
			sb_entry(&snd.stream, "d/big", S_IFREG | 0644, NULL, 100000);
			sb_add(&snd.stream, data, sizeof(data));
		}
		snprintf(name, sizeof(name), "dst%d", i);
		cleanup_free char *dst = make_dst(state, name, &rcv.dfd);
		assert_int_equal(relay(crafted_sender, &snd, real_receiver, &rcv, &c, &err), -1);
		if (err.code != SPLQ_E_TRANSFER)
			fail_msg("case %d: code %d: %s", i, err.code, err.msg);
		if (mid_file)
			assert_non_null(strstr(err.msg, "'d/big'"));
		assert_false(c.verified);
		if (c.sent.n != 1)
			fail_msg("case %d: %zu files hashed", i, c.sent.n);
		/* the receiver saw the cut and removed all it made */
		assert_int_equal(rcv.rc, -1);
		assert_int_equal(count_entries(dst), 0);
		/* the sender was told the receiver's result */
		assert_true(snd.got.n >= SPLQ_QFILE_RESULT_SIZE);
		if (mid_file)
			assert_int_equal(get_u32(snd.got.b), SPLQ_QFILE_LEGAL_EOF);
		else
			assert_int_not_equal(get_u32(snd.got.b), 0);
		splq_filecopy_free(&c);
		end_free(&snd);
		end_free(&rcv);
	}
}

static void test_copy_nothing_after_end(void **state)
{
	for (int i = 0; i < 4; i++) {
		bool manifest = i & 1;
		struct end snd = {.tail_later = i >= 2}, rcv = {.confirm = manifest};
		struct splq_filecopy c = {.manifest = manifest};
		struct splq_qfile_result res;
		struct splq_error err = {0};
		char name[16];

		sb_entry(&snd.stream, "f", S_IFREG | 0644, "hello", 5);
		sb_end(&snd.stream);
		/* after the end marker: another entry, an end, and garbage */
		sb_entry(&snd.tail, "evil", S_IFREG | 0644, "gotcha", 6);
		sb_end(&snd.tail);
		sb_add(&snd.tail, "garbage", 7);
		snprintf(name, sizeof(name), "dst%d", i);
		cleanup_free char *dst = make_dst(state, name, &rcv.dfd);
		cleanup_free char *evil = splq_strdup_printf("%s/evil", dst);
		if (relay(crafted_sender, &snd, crafted_receiver, &rcv, &c, &err) < 0)
			fail_msg("case %d: %s", i, err.msg);
		/* The receiver got the stream to its end marker, not a byte
		 * more; after its result only the host's 'y', when asked. */
		assert_int_equal(rcv.got.n, snd.stream.n);
		assert_memory_equal(rcv.got.b, snd.stream.b, snd.stream.n);
		assert_int_equal(rcv.after.n, manifest ? 1 : 0);
		if (manifest)
			assert_int_equal(rcv.after.b[0], 'y');
		assert_int_equal(manifest, c.verified);
		assert_false(splq_path_exists(evil));
		assert_int_equal(count_entries(dst), 1);
		assert_int_equal(c.entries, 1);
		assert_int_equal(c.sent.n, 1);
		assert_int_equal(c.bytes, 5);
		/* The sender got the result and nothing of the manifest. */
		assert_int_equal(snd.got.n, SPLQ_QFILE_RESULT_SIZE + 4 + 1);
		assert_int_equal(splq_qfile_result_decode(snd.got.b, snd.got.n, &res, &err), 0);
		assert_int_equal(res.error_code, 0);
		assert_int_equal(res.crc32, splq_crc32(0, snd.stream.b, snd.stream.n));
		assert_memory_equal(res.last_name, "f", 1);
		splq_filecopy_free(&c);
		end_free(&snd);
		end_free(&rcv);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_copy),
	    T(test_copy_verified),
	    T(test_copy_exists),
	    T(test_copy_receiver_gone),
	    T(test_copy_tampered),
	    T(test_copy_no_manifest_bad_result),
	    T(test_copy_sender_cut),
	    T(test_copy_nothing_after_end),
	};

	return cmocka_run_group_tests_name("filecopy", tests, NULL, NULL);
}
