/* Unit tests of the qfile stream: a stream built by hand, fed to a
 * receiver in chunks of any size.  Included by test_qfile*.c after
 * cmocka.h and fixture.h. */
#ifndef SPLQ_TEST_QFILE_STREAM_H
#define SPLQ_TEST_QFILE_STREAM_H

#include <fcntl.h>
#include <string.h>

#include "formats/qfile.h"

#define maybe_unused __attribute__((unused))

struct sb {
	uint8_t *b;
	size_t n;
};

maybe_unused static void sb_add(struct sb *s, const void *p, size_t n)
{
	s->b = realloc(s->b, s->n + n + 1);
	assert_non_null(s->b);
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

/* A header with these fields, the rest zero. */
maybe_unused static void sb_hdr(struct sb *s, uint32_t namelen, uint32_t mode, uint64_t filelen,
                                uint32_t mtime_nsec)
{
	struct splq_qfile_hdr h = {
	    .namelen = namelen, .mode = mode, .filelen = filelen, .mtime_nsec = mtime_nsec};
	uint8_t b[SPLQ_QFILE_HDR_SIZE];

	splq_qfile_hdr_encode(&h, b);
	sb_add(s, b, sizeof(b));
}

/* An entry: header (namelen from name, NUL included), name, then data. */
maybe_unused static void sb_entry(struct sb *s, const char *name, uint32_t mode, const void *data,
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

maybe_unused static void sb_dir(struct sb *s, const char *name)
{
	sb_entry(s, name, S_IFDIR | 0755, NULL, 0);
}

maybe_unused static void sb_end(struct sb *s)
{
	uint8_t z[SPLQ_QFILE_HDR_SIZE] = {0};

	sb_add(s, z, sizeof(z));
}

/* Feed the stream to a receiver into dfd, chunk bytes at a time: the
 * receiver's return, its result bytes in res (*reslen). */
maybe_unused static int recv_bytes(int dfd, const struct sb *s, size_t chunk, unsigned flags,
                                   uint8_t *res, size_t *reslen, struct splq_error *err)
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

maybe_unused static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

maybe_unused static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

#endif
