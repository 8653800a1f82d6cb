/* Unit tests: the qfile stream (formats/qfile*.c): headers, CRC-32, name
 * rules, the streaming parser, hostile streams fed to the receiver, the
 * manifest of a verified copy and a receiver's result as an error
 * (test_qfile_io.c: round trips through the sender and receiver). */
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
	/* Every length about the folding's 64- and 16-byte steps, at every
	 * alignment, carrying a CRC in: the same as one byte at a time. */
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; n < 300; n++)
			assert_int_equal(splq_crc32(0x12345678u, buf + off, n),
			                 crc_bitwise(0x12345678u, buf + off, n));
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
	sb_hdr(s, 0xffffffffu, S_IFREG | 0644, 0, 0);
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
	sb_hdr(s, 2, S_IFREG | 0644, 0, 1000000000);
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
	sb_hdr(s, 3, S_IFREG | 0644, 0, 0);
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

/* ---- the manifest ---- */

/* Three files: a short name, a long one, one that is not ASCII; sizes
 * from empty to past 4 GiB; each hash its own. */
static void manifest_sample(struct splq_qfile_hashes *h)
{
	static const uint64_t sizes[] = {0, 1 << 20, 0x123456789ull};
	char longname[301];
	unsigned char sha[32];

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[10] = '/';
	const char *names[] = {"f", longname, "top/\xc3\xbcml\xc3\xa4ut"};
	*h = (struct splq_qfile_hashes){0};
	for (size_t i = 0; i < 3; i++) {
		for (size_t k = 0; k < 32; k++)
			sha[k] = (uint8_t)(k * 13 + i * 101 + 1);
		splq_qfile_hashes_add(h, names[i], sizes[i], sha);
	}
}

static void check_same_hashes(const struct splq_qfile_hashes *a, const struct splq_qfile_hashes *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].name, b->v[i].name);
		assert_int_equal(a->v[i].size, b->v[i].size);
		assert_memory_equal(a->v[i].sha256, b->v[i].sha256, 32);
	}
}

static void test_manifest_codec(void **state)
{
	struct splq_qfile_hashes h, got = {0};
	struct splq_error err;
	size_t len, used, want = 4;
	uint64_t size;

	manifest_sample(&h);
	cleanup_free uint8_t *m = splq_qfile_manifest_encode(&h, &len);
	for (size_t i = 0; i < h.n; i++)
		want += SPLQ_QFILE_MANIFEST_REC + strlen(h.v[i].name);
	assert_int_equal(len, want);
	/* The first record as the header says: u32 namelen, u64 size, the
	 * hash, the name without its NUL; the end a u32 0. */
	assert_int_equal(get_u32(m), 1);
	memcpy(&size, m + 4, 8);
	assert_int_equal(size, 0);
	assert_memory_equal(m + 12, h.v[0].sha256, 32);
	assert_int_equal(m[44], 'f');
	assert_int_equal(get_u32(m + 45), 300);
	memcpy(&size, m + 49, 8);
	assert_int_equal(size, 1 << 20);
	assert_int_equal(get_u32(m + len - 4), 0);

	/* In one piece, with bytes after the end that are not taken. */
	cleanup_free uint8_t *more = malloc(len + 7);
	memcpy(more, m, len);
	memset(more + len, 0xee, 7);
	assert_int_equal(splq_qfile_manifest_next(more, len + 7, 3, &got, &used, &err), 1);
	assert_int_equal(used, len);
	check_same_hashes(&h, &got);
	splq_qfile_hashes_free(&got);

	/* Split at every offset: the first part takes its whole records
	 * only, the rest (what was not taken, then the remainder) ends it. */
	for (size_t cut = 0; cut < len; cut++) {
		cleanup_free uint8_t *rest = NULL;
		size_t took, records = 0, at = 0;

		assert_int_equal(splq_qfile_manifest_next(m, cut, 3, &got, &took, &err), 0);
		while (records < h.n &&
		       at + SPLQ_QFILE_MANIFEST_REC + strlen(h.v[records].name) <= cut)
			at += SPLQ_QFILE_MANIFEST_REC + strlen(h.v[records++].name);
		assert_int_equal(took, at);
		assert_int_equal(got.n, records);
		assert_int_equal(
		    splq_qfile_manifest_next(m + took, len - took, 3, &got, &used, &err), 1);
		assert_int_equal(took + used, len);
		check_same_hashes(&h, &got);
		splq_qfile_hashes_free(&got);
	}

	/* Byte by byte, as a reader that keeps what was not taken yet. */
	size_t have = 0, off = 0;
	int r = 0;
	for (size_t i = 0; i < len; i++) {
		have++;
		r = splq_qfile_manifest_next(m + off, have, 3, &got, &used, &err);
		assert_true(r >= 0);
		assert_true(used <= have);
		off += used;
		have -= used;
		if (i + 1 < len)
			assert_int_equal(r, 0);
	}
	assert_int_equal(r, 1);
	assert_int_equal(off, len);
	assert_int_equal(have, 0);
	check_same_hashes(&h, &got);
	splq_qfile_hashes_free(&got);
	splq_qfile_hashes_free(&h);
}

static void test_manifest_empty(void **state)
{
	struct splq_qfile_hashes none = {0}, got = {0};
	struct splq_error err;
	size_t len, used = 99;

	cleanup_free uint8_t *m = splq_qfile_manifest_encode(&none, &len);
	assert_int_equal(len, 4);
	assert_int_equal(get_u32(m), 0);
	for (size_t n = 0; n < 4; n++) {
		assert_int_equal(splq_qfile_manifest_next(m, n, 0, &got, &used, &err), 0);
		assert_int_equal(used, 0);
	}
	/* The end is taken even where no file may be listed. */
	assert_int_equal(splq_qfile_manifest_next(m, 4, 0, &got, &used, &err), 1);
	assert_int_equal(used, 4);
	assert_int_equal(got.n, 0);
}

/* A record with a name of namelen bytes of 'a' (the hash all 0x11). */
static uint8_t *manifest_record(uint32_t namelen, size_t *len)
{
	uint8_t *b = calloc(1, SPLQ_QFILE_MANIFEST_REC + (size_t)namelen + 4);

	assert_non_null(b);
	memcpy(b, &namelen, 4);
	memcpy(b + 4, &(uint64_t){7}, 8);
	memset(b + 12, 0x11, 32);
	memset(b + SPLQ_QFILE_MANIFEST_REC, 'a', namelen);
	*len = SPLQ_QFILE_MANIFEST_REC + (size_t)namelen + 4;
	return b;
}

static void test_manifest_refusals(void **state)
{
	struct splq_qfile_hashes h, got = {0};
	struct splq_error err;
	size_t len, used;

	/* The longest name a stream can carry is taken, one byte more is
	 * not, and that as soon as its length is there. */
	cleanup_free uint8_t *max = manifest_record(SPLQ_QFILE_MAX_NAMELEN, &len);
	assert_int_equal(splq_qfile_manifest_next(max, len, 1, &got, &used, &err), 1);
	assert_int_equal(got.n, 1);
	assert_int_equal(strlen(got.v[0].name), SPLQ_QFILE_MAX_NAMELEN);
	assert_int_equal(got.v[0].size, 7);
	splq_qfile_hashes_free(&got);
	cleanup_free uint8_t *big = manifest_record(SPLQ_QFILE_MAX_NAMELEN + 1, &len);
	assert_int_equal(splq_qfile_manifest_next(big, 4, 1, &got, &used, &err), -1);
	assert_int_equal(err.code, SPLQ_E_TRANSFER);
	assert_non_null(strstr(err.msg, "16384 bytes"));
	assert_int_equal(got.n, 0);
	memcpy(big, &(uint32_t){0xffffffffu}, 4);
	assert_int_equal(splq_qfile_manifest_next(big, 4, 1, &got, &used, &err), -1);
	assert_int_equal(err.code, SPLQ_E_TRANSFER);

	/* A NUL inside a name, anywhere in it. */
	for (size_t at = 0; at < 5; at++) {
		cleanup_free uint8_t *nul = manifest_record(5, &len);

		nul[SPLQ_QFILE_MANIFEST_REC + at] = '\0';
		err = (struct splq_error){0};
		assert_int_equal(splq_qfile_manifest_next(nul, len, 1, &got, &used, &err), -1);
		assert_int_equal(err.code, SPLQ_E_TRANSFER);
		assert_non_null(strstr(err.msg, "NUL"));
		assert_int_equal(got.n, 0);
	}

	/* More records than max: refused at the first one too many, the ones
	 * before it taken. */
	manifest_sample(&h);
	cleanup_free uint8_t *m = splq_qfile_manifest_encode(&h, &len);
	assert_int_equal(splq_qfile_manifest_next(m, len, 3, &got, &used, &err), 1);
	splq_qfile_hashes_free(&got);
	assert_int_equal(splq_qfile_manifest_next(m, len, 2, &got, &used, &err), -1);
	assert_int_equal(err.code, SPLQ_E_TRANSFER);
	assert_non_null(strstr(err.msg, "more files than were sent (2)"));
	assert_int_equal(got.n, 2);
	splq_qfile_hashes_free(&got);
	assert_int_equal(splq_qfile_manifest_next(m, len, 0, &got, &used, &err), -1);
	assert_int_equal(got.n, 0);
	splq_qfile_hashes_free(&h);
}

/* ---- a receiver's result as an error ---- */

static void test_result_check(void **state)
{
	struct splq_error err = {0};

	assert_int_equal(splq_qfile_result_check(0, "a", &err), 0);
	assert_int_equal(splq_qfile_result_check(0, NULL, &err), 0);
	assert_int_equal(splq_qfile_result_check(EEXIST, "top/a", &err), -1);
	assert_int_equal(err.code, SPLQ_E_EXISTS);
	assert_string_equal(err.msg,
	                    "qfile send: a file named 'top/a' already exists where it goes");
	assert_int_equal(splq_qfile_result_check(ENOSPC, "big", &err), -1);
	assert_int_equal(err.code, SPLQ_E_NOSPACE);
	assert_non_null(strstr(err.msg, "'big'"));
	assert_non_null(strstr(err.msg, strerror(ENOSPC)));
	assert_int_equal(splq_qfile_result_check(EDQUOT, "big", &err), -1);
	assert_int_equal(err.code, SPLQ_E_NOSPACE);
	assert_int_equal(splq_qfile_result_check(EILSEQ, "bad\x1b[31m", &err), -1);
	assert_int_equal(err.code, SPLQ_E_CORRUPT);
	assert_non_null(strstr(err.msg, "refuses a character"));
	/* The receiver's name is quoted, never printed raw. */
	assert_non_null(strstr(err.msg, "bad\\x1b[31m"));
	assert_null(strchr(err.msg, '\x1b'));
	assert_int_equal(splq_qfile_result_check(ENOLINK, "d/l", &err), -1);
	assert_int_equal(err.code, SPLQ_E_CORRUPT);
	assert_non_null(strstr(err.msg, "link 'd/l'"));
	assert_int_equal(splq_qfile_result_check(SPLQ_QFILE_LEGAL_EOF, "d/part", &err), -1);
	assert_int_equal(err.code, SPLQ_E_CORRUPT);
	assert_non_null(strstr(err.msg, "cut short at 'd/part'"));
	assert_int_equal(splq_qfile_result_check(EACCES, NULL, &err), -1);
	assert_int_equal(err.code, SPLQ_E_INTERNAL);
	assert_non_null(strstr(err.msg, strerror(EACCES)));
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
	    cmocka_unit_test(test_manifest_codec),
	    cmocka_unit_test(test_manifest_empty),
	    cmocka_unit_test(test_manifest_refusals),
	    cmocka_unit_test(test_result_check),
	};

	return cmocka_run_group_tests_name("qfile", tests, NULL, NULL);
}
