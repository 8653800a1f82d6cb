/* Unit tests: the qfile stream (formats/qfile*.c): headers, CRC-32, name
 * rules, the streaming parser, receiver and sender, and hostile streams. */
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

/* ---- a stream built by hand ---- */

struct sb {
	uint8_t *b;
	size_t n;
};

static void sb_add(struct sb *s, const void *p, size_t n)
{
	s->b = realloc(s->b, s->n + n + 1);
	assert_non_null(s->b);
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

/* An entry: header (namelen from name, NUL included), name, then data. */
static void sb_entry(struct sb *s, const char *name, uint32_t mode, const void *data,
                     uint64_t filelen)
{
	struct splq_qfile_hdr h = {.namelen = (uint32_t)strlen(name) + 1,
	                           .mode = mode,
	                           .filelen = filelen,
	                           .atime = 1000000000,
	                           .atime_nsec = 5,
	                           .mtime = 1100000000,
	                           .mtime_nsec = 999999999};
	uint8_t b[SPLQ_QFILE_HDR_SIZE];

	splq_qfile_hdr_encode(&h, b);
	sb_add(s, b, sizeof(b));
	sb_add(s, name, strlen(name) + 1);
	if (data)
		sb_add(s, data, (size_t)filelen);
}

static void sb_dir(struct sb *s, const char *name)
{
	sb_entry(s, name, S_IFDIR | 0755, NULL, 0);
}

static void sb_end(struct sb *s)
{
	uint8_t z[SPLQ_QFILE_HDR_SIZE] = {0};

	sb_add(s, z, sizeof(z));
}

/* Feed the stream to a receiver into dfd, chunk bytes at a time: the
 * receiver's return, its result bytes in res (*reslen). */
static int recv_bytes(int dfd, const struct sb *s, size_t chunk, unsigned flags, uint8_t *res,
                      size_t *reslen, struct splq_error *err)
{
	struct splq_qfile_recv r;
	int e = 0;

	splq_qfile_recv_init(&r, dfd, flags);
	for (size_t at = 0; at < s->n && e == 0; at += chunk)
		e = splq_qfile_recv_feed(&r, s->b + at, chunk < s->n - at ? chunk : s->n - at, err);
	if (e == 0)
		e = splq_qfile_recv_eof(&r, err);
	if (res)
		*reslen = splq_qfile_parser_result(&r.p, res);
	splq_qfile_recv_free(&r);
	return e < 0 ? -1 : 0;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* ---- codec, CRC ---- */

static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static void test_crc32(void **state)
{
	uint8_t buf[4099];
	uint32_t c = 0;

	assert_int_equal(splq_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(splq_crc32(0, "", 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 3));
	/* Any split, any alignment, the same as one byte at a time. */
	for (size_t a = 0; a < sizeof(buf); a += 1 + a / 3)
		c = splq_crc32(c, buf + a,
		               (a + 1 + a / 3 > sizeof(buf) ? sizeof(buf) : a + 1 + a / 3) - a);
	assert_int_equal(c, crc_bitwise(0, buf, sizeof(buf)));
	assert_int_equal(splq_crc32(0, buf + 3, 1000), crc_bitwise(0, buf + 3, 1000));
}

static void test_header_codec(void **state)
{
	struct splq_qfile_hdr h = {5, 0100644, 0x0102030405060708ull, 9, 10, 11, 12}, d;
	uint8_t b[SPLQ_QFILE_HDR_SIZE], res[SPLQ_QFILE_RESULT_MAX];
	struct splq_qfile_result r;
	struct splq_error err;
	size_t n;

	splq_qfile_hdr_encode(&h, b);
	assert_int_equal(get_u32(b), 5);
	assert_int_equal(get_u32(b + 4), 0100644);
	assert_int_equal(get_u32(b + 8), 0x05060708);
	assert_int_equal(get_u32(b + 12), 0x01020304);
	assert_int_equal(get_u32(b + 28), 12);
	splq_qfile_hdr_decode(b, &d);
	assert_memory_equal(&h, &d, sizeof(h));

	n = splq_qfile_result_encode(17, 0xdeadbeef, "a/b", res);
	assert_int_equal(n, 16 + 4 + 3);
	assert_int_equal(get_u32(res), 17);
	assert_int_equal(get_u32(res + 4), 0);
	assert_int_equal(get_u32(res + 8), 0xdeadbeef);
	assert_int_equal(get_u32(res + 12), 0);
	assert_int_equal(get_u32(res + 16), 3);
	assert_memory_equal(res + 20, "a/b", 3);
	assert_int_equal(splq_qfile_result_decode(res, n - 1, &r, &err), 1);
	assert_int_equal(splq_qfile_result_decode(res, n, &r, &err), 0);
	assert_true(r.has_ext);
	assert_int_equal(r.crc32, 0xdeadbeef);
	assert_memory_equal(r.last_name, "a/b", 3);
	assert_int_equal(splq_qfile_result_encode(0, 1, NULL, res), 16);
	memcpy(res + 16, &(uint32_t){SPLQ_QFILE_MAX_PATH + 1}, 4);
	assert_true(splq_qfile_result_decode(res, 20, &r, &err) < 0);
}

/* ---- names ---- */

static void test_names(void **state)
{
	static const char *const good[] = {"a",   "a/b",      "a b",    ".hidden", "..a",  "a..",
	                                   "~x!", "\xc3\xbc", "日本語", "a/.b/c",  "Ωmega"};
	static const struct {
		const char *name, *why;
	} bad[] = {
	    {"", "is empty"},
	    {"/etc/passwd", "absolute"},
	    {"a//b", "empty component"},
	    {"./a", "'.' component"},
	    {"a/.", "'.' component"},
	    {"a/../b", "'..' component"},
	    {"..", "'..' component"},
	    {"a/", "ends in '/'"},
	    {"a\x01"
	     "b",
	     "byte 0x01"},
	    {"a\x1b[31m", "byte 0x1b"},
	    {"a\x7f", "byte 0x7f"},
	    {"\xc0\xaf", "byte 0xc0"},     /* overlong '/' */
	    {"\xe0\x80\xaf", "byte 0xe0"}, /* overlong */
	    {"\xed\xa0\x80", "byte 0xed"}, /* a surrogate */
	    {"\xe2\x80\xae"
	     "txt",
	     "byte 0xe2"}, /* right-to-left override */
	    {"a\xc2\xa0"
	     "b",
	     "byte 0xc2"},                     /* no-break space */
	    {"\xf4\x90\x80\x80", "byte 0xf4"}, /* past U+10FFFF */
	    {"\xc3", "byte 0xc3"},             /* cut short */
	};
	struct splq_error err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(splq_qfile_check_name(good[i], 0, &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(splq_qfile_check_name(bad[i].name, 0, &err), -EILSEQ);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("'%s': %s", bad[i].why, err.msg);
	}
	assert_string_equal(err.msg, "qfile stream: name '\\xc3' has a character Qubes does not "
	                             "allow in names (byte 0xc3 at 0)");
	splq_qfile_check_name("a/../b", 0, &err);
	assert_string_equal(err.msg, "qfile stream: name 'a/../b' has a '..' component");
	/* --allow-all-names lets any byte in, never a bad path. */
	assert_int_equal(splq_qfile_check_name("a\x01\x7f\xff", SPLQ_QFILE_ALLOW_ALL_NAMES, &err),
	                 0);
	assert_int_equal(splq_qfile_check_name("a/../b", SPLQ_QFILE_ALLOW_ALL_NAMES, &err),
	                 -EILSEQ);
	assert_true(splq_qfile_code_point_ok('a'));
	assert_true(splq_qfile_code_point_ok(0x4e2d));
	assert_false(splq_qfile_code_point_ok(0x202e));
	assert_false(splq_qfile_code_point_ok(0x05d0)); /* Hebrew: right to left */
	assert_false(splq_qfile_code_point_ok(0x110000));
}

static void test_symlink_rule(void **state)
{
	struct splq_error err;

	assert_int_equal(splq_qfile_check_symlink("a/b", "c", 0, &err), 0);
	assert_int_equal(splq_qfile_check_symlink("a/b", "c/d/", 0, &err), 0);
	assert_int_equal(splq_qfile_check_symlink("a/b/c", "../d", 0, &err), 0);
	assert_int_equal(splq_qfile_check_symlink("a/b/c/d", "../../e", 0, &err), 0);
	assert_int_equal(splq_qfile_check_symlink("a/b", "../c", 0, &err), -ENOLINK);
	assert_string_equal(err.msg, "qfile stream: symlink 'a/b' points out of the copied "
	                             "directory (target '../c' climbs above it)");
	assert_int_equal(splq_qfile_check_symlink("a/b/c", "../../d", 0, &err), -ENOLINK);
	assert_int_equal(splq_qfile_check_symlink("a/b/c", "x/../../d", 0, &err), -ENOLINK);
	assert_int_equal(splq_qfile_check_symlink("a/b", "/etc/passwd", 0, &err), -ENOLINK);
	assert_int_equal(splq_qfile_check_symlink("a", "b", 0, &err), -ENOLINK);
	assert_non_null(strstr(err.msg, "at the top of the copy"));
	/* Qubes' default lets "." and "//" into targets; canonical refuses. */
	assert_int_equal(splq_qfile_check_symlink("a/b", "./c//d", 0, &err), 0);
	assert_int_equal(
	    splq_qfile_check_symlink("a/b", "./c", SPLQ_QFILE_CANONICAL_SYMLINKS, &err), -EILSEQ);
	assert_int_equal(splq_qfile_check_symlink("a/b", "c\x01", 0, &err), -EILSEQ);
	assert_int_equal(splq_qfile_check_symlink("a/../b", "c", 0, &err), -EILSEQ);
	assert_int_equal(
	    splq_qfile_check_symlink("a", "/etc", SPLQ_QFILE_ALLOW_UNSAFE_SYMLINKS, &err), 0);
}

/* ---- the parser, split anywhere ---- */

static void test_parser_events(void **state)
{
	struct sb s = {0};
	static const int want[] = {SPLQ_QFILE_DIR,      SPLQ_QFILE_FILE,    SPLQ_QFILE_DATA,
	                           SPLQ_QFILE_FILE_END, SPLQ_QFILE_SYMLINK, SPLQ_QFILE_FILE,
	                           SPLQ_QFILE_FILE_END, SPLQ_QFILE_DIR_END, SPLQ_QFILE_END};

	sb_dir(&s, "d");
	sb_entry(&s, "d/f", S_IFREG | 0644, "hello", 5);
	sb_entry(&s, "d/l", S_IFLNK | 0777, "f", 1);
	sb_entry(&s, "d/e", S_IFREG | 0600, NULL, 0);
	sb_dir(&s, "d");
	sb_end(&s);
	for (size_t chunk = 1; chunk <= s.n; chunk += chunk < 40 ? 1 : 97) {
		struct splq_qfile_parser p;
		struct splq_qfile_ev ev;
		struct splq_error err;
		size_t at = 0, used, k = 0, data = 0;
		int r;

		splq_qfile_parser_init(&p, 0);
		while (k < sizeof(want) / sizeof(want[0])) {
			size_t n = chunk < s.n - at ? chunk : s.n - at;

			r = splq_qfile_next(&p, s.b + at, n, &used, &ev, &err);
			assert_true(r >= 0);
			at += used;
			if (r == 0)
				continue;
			if (ev.kind == SPLQ_QFILE_DATA) {
				assert_memory_equal(ev.data, "hello" + data, ev.len);
				data += ev.len;
				if (data < 5)
					continue;
			}
			assert_int_equal(ev.kind, want[k]);
			if (ev.kind == SPLQ_QFILE_SYMLINK) {
				assert_string_equal(ev.name, "d/l");
				assert_string_equal(ev.base, "l");
				assert_string_equal(ev.target, "f");
			}
			if (ev.kind == SPLQ_QFILE_DIR_END)
				assert_int_equal(ev.depth, 0);
			k++;
		}
		assert_int_equal(at, s.n);
		assert_int_equal(p.crc, splq_crc32(0, s.b, s.n));
		assert_int_equal(splq_qfile_parser_eof(&p, &err), 0);
		splq_qfile_parser_free(&p);
	}
	free(s.b);
}

/* ---- hostile streams ---- */

struct hostile {
	const char *what;
	int code;        /* the result's error code */
	const char *msg; /* in the message */
	void (*build)(struct sb *s);
};

static void h_absolute(struct sb *s)
{
	sb_entry(s, "/etc/x", S_IFREG | 0644, "x", 1);
}
static void h_dotdot(struct sb *s)
{
	sb_dir(s, "a");
	sb_entry(s, "a/../../b", S_IFREG | 0644, "x", 1);
}
static void h_empty_part(struct sb *s)
{
	sb_dir(s, "a");
	sb_entry(s, "a//b", S_IFREG | 0644, "x", 1);
}
static void h_escape(struct sb *s)
{
	sb_dir(s, "a");
	sb_entry(s, "a/l", S_IFLNK | 0777, "../../etc", 9);
}
static void h_top_link(struct sb *s)
{
	sb_entry(s, "l", S_IFLNK | 0777, "x", 1);
}
static void h_huge_name(struct sb *s)
{
	struct splq_qfile_hdr h = {.namelen = 0xffffffffu, .mode = S_IFREG | 0644};
	uint8_t b[SPLQ_QFILE_HDR_SIZE];

	splq_qfile_hdr_encode(&h, b);
	sb_add(s, b, sizeof(b));
	sb_add(s, "aaaa", 4);
}
static void h_truncated(struct sb *s)
{
	sb_dir(s, "a");
	sb_entry(s, "a/f", S_IFREG | 0644, NULL, 100);
	sb_add(s, "0123456789", 10);
}
static void h_no_end(struct sb *s)
{
	sb_entry(s, "f", S_IFREG | 0644, "whole", 5);
}
static void h_nsec(struct sb *s)
{
	struct splq_qfile_hdr h = {.namelen = 2, .mode = S_IFREG | 0644, .mtime_nsec = 1000000000};
	uint8_t b[SPLQ_QFILE_HDR_SIZE];

	splq_qfile_hdr_encode(&h, b);
	sb_add(s, b, sizeof(b));
	sb_add(s, "f", 2);
	sb_end(s);
}
static void h_file_then_dir(struct sb *s)
{
	sb_entry(s, "f", S_IFREG | 0644, "x", 1);
	sb_dir(s, "f");
	sb_dir(s, "f");
	sb_end(s);
}
static void h_dir_then_file(struct sb *s)
{
	sb_dir(s, "d");
	sb_entry(s, "d/x", S_IFREG | 0644, "x", 1);
	sb_dir(s, "d");
	sb_entry(s, "d", S_IFREG | 0644, "y", 1);
	sb_end(s);
}
static void h_exists(struct sb *s)
{
	sb_entry(s, "new", S_IFREG | 0644, "n", 1);
	sb_entry(s, "keep", S_IFREG | 0644, "evil", 4);
	sb_end(s);
}
static void h_control(struct sb *s)
{
	sb_entry(s, "a\x1b]0;pwned\x07", S_IFREG | 0644, "x", 1);
}
static void h_outside_dir(struct sb *s)
{
	sb_dir(s, "a");
	sb_entry(s, "b/x", S_IFREG | 0644, "x", 1);
}
static void h_no_parent(struct sb *s)
{
	sb_entry(s, "a/b", S_IFREG | 0644, "x", 1);
}
static void h_no_nul(struct sb *s)
{
	struct splq_qfile_hdr h = {.namelen = 3, .mode = S_IFREG | 0644};
	uint8_t b[SPLQ_QFILE_HDR_SIZE];

	splq_qfile_hdr_encode(&h, b);
	sb_add(s, b, sizeof(b));
	sb_add(s, "abc", 3);
	sb_end(s);
}
static void h_fifo(struct sb *s)
{
	sb_entry(s, "p", S_IFIFO | 0644, NULL, 0);
	sb_end(s);
}
static void h_open_at_end(struct sb *s)
{
	sb_dir(s, "a");
	sb_entry(s, "a/f", S_IFREG | 0644, "x", 1);
	sb_end(s);
}
static void h_dir_data(struct sb *s)
{
	sb_entry(s, "a", S_IFDIR | 0755, "xxxx", 4);
}

static const struct hostile hostile[] = {
    {"absolute path", EILSEQ, "'/etc/x' is an absolute path", h_absolute},
    {"..", EILSEQ, "'a/../../b' has a '..' component", h_dotdot},
    {"empty component", EILSEQ, "has an empty component", h_empty_part},
    {"escaping symlink", ENOLINK, "points out of the copied directory", h_escape},
    {"top-level symlink", ENOLINK, "at the top of the copy", h_top_link},
    {"huge namelen", ENAMETOOLONG, "a name of 4294967295 bytes", h_huge_name},
    {"truncated", SPLQ_QFILE_LEGAL_EOF, "ends inside file 'a/f'", h_truncated},
    {"no end marker", EREMOTEIO, "ends without its end marker", h_no_end},
    {"nanoseconds", EINVAL, "1000000000 nanoseconds", h_nsec},
    {"file then dir", EEXIST, "the name exists", h_file_then_dir},
    {"dir then file", EEXIST, "cannot create (the name exists; it is never overwritten) 'd'",
     h_dir_then_file},
    {"exists", EEXIST, "cannot create (the name exists; it is never overwritten) 'keep'", h_exists},
    {"control characters", EILSEQ, "byte 0x1b", h_control},
    {"outside the open dir", EINVAL, "is not inside directory 'a'", h_outside_dir},
    {"no parent", EINVAL, "file 'a/b' comes before the directory holding it", h_no_parent},
    {"no NUL", EINVAL, "does not end in a NUL byte", h_no_nul},
    {"fifo", EINVAL, "not a file, directory or symlink", h_fifo},
    {"dir open at end", EINVAL, "directory 'a' still open", h_open_at_end},
    {"dir with data", EINVAL, "comes with 4 bytes of data", h_dir_data},
};

static void test_hostile(void **state)
{
	cleanup_free char *dst = path_in(state, "dst");
	cleanup_free char *keep = path_in(state, "dst/keep");
	cleanup_free char *outside = path_in(state, "outside");
	cleanup_free char *text = NULL;
	uint8_t res[SPLQ_QFILE_RESULT_MAX];

	assert_int_equal(mkdir(dst, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	put(keep, "precious", 0644);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		for (size_t chunk = 1; chunk <= 1 << 20; chunk <<= 20) {
			struct sb s = {0};
			struct splq_error err = {0};
			size_t reslen;
			int dfd = open_dir(dst);

			hostile[i].build(&s);
			if (recv_bytes(dfd, &s, chunk, 0, res, &reslen, &err) == 0)
				fail_msg("%s: accepted", hostile[i].what);
			if (!strstr(err.msg, hostile[i].msg))
				fail_msg("%s: %s", hostile[i].what, err.msg);
			if (get_u32(res) != (uint32_t)hostile[i].code)
				fail_msg("%s: code %u, not %d", hostile[i].what, get_u32(res),
				         hostile[i].code);
			/* Nothing of it stays, nothing lands beside, nothing is overwritten. */
			if (count_entries(dst) != 1)
				fail_msg("%s: left %d entries", hostile[i].what,
				         count_entries(dst));
			assert_int_equal(count_entries(outside), 0);
			close(dfd);
			free(s.b);
		}
	}
	assert_int_equal(splq_read_file(keep, &text, NULL, NULL), 0);
	assert_string_equal(text, "precious");
}

static void test_result_as_qubes(void **state)
{
	cleanup_free char *dst = path_in(state, "dst");
	uint8_t res[SPLQ_QFILE_RESULT_MAX];
	struct splq_error err;
	struct sb s = {0};
	size_t n;
	int dfd;

	assert_int_equal(mkdir(dst, 0755), 0);
	dfd = open_dir(dst);
	/* Success: code 0, the CRC of every byte, the last name read. */
	sb_dir(&s, "d");
	sb_entry(&s, "d/f", S_IFREG | 0644, "data", 4);
	sb_dir(&s, "d");
	sb_end(&s);
	assert_int_equal(recv_bytes(dfd, &s, 3, 0, res, &n, &err), 0);
	assert_int_equal(n, 16 + 4 + 1);
	assert_int_equal(get_u32(res), 0);
	assert_int_equal(get_u32(res + 8), splq_crc32(0, s.b, s.n));
	assert_int_equal(get_u32(res + 16), 1);
	assert_memory_equal(res + 20, "d", 1);
	free(s.b);
	/* An empty stream: an empty last name. */
	s = (struct sb){0};
	sb_end(&s);
	assert_int_equal(recv_bytes(dfd, &s, 32, 0, res, &n, &err), 0);
	assert_int_equal(n, 20);
	free(s.b);
	/* A name too long to read: no extension, as Qubes. */
	s = (struct sb){0};
	h_huge_name(&s);
	assert_int_equal(recv_bytes(dfd, &s, 32, 0, res, &n, &err), -1);
	assert_int_equal(n, 16);
	free(s.b);
	/* A refused symlink: Qubes names its target. */
	s = (struct sb){0};
	h_escape(&s);
	assert_int_equal(recv_bytes(dfd, &s, 32, 0, res, &n, &err), -1);
	assert_int_equal(get_u32(res + 16), 9);
	assert_memory_equal(res + 20, "../../etc", 9);
	free(s.b);
	close(dfd);
}

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
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip_msg("needs root and mount namespaces to mount a small tmpfs");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		_exit(nospace_child(state));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip_msg("cannot mount a tmpfs here");
	assert_int_equal(WEXITSTATUS(status), 0);
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
	    cmocka_unit_test(test_crc32),
	    cmocka_unit_test(test_header_codec),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_symlink_rule),
	    cmocka_unit_test(test_parser_events),
	    T(test_hostile),
	    T(test_result_as_qubes),
	    T(test_roundtrip),
	    T(test_roundtrip_large),
	    T(test_sender_bytes),
	    T(test_pipes),
	    T(test_wrong_crc),
	    T(test_remote_refusal),
	    T(test_nospace),
	    T(test_sender_skips),
	};

	return cmocka_run_group_tests_name("qfile", tests, NULL, NULL);
}
