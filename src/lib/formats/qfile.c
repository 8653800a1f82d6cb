/* splq: the qfile stream's headers, its CRC-32 and its streaming parser
 * (see qfile.h).  Pure: no I/O. */
#include "formats/qfile.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* ---- headers ---- */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

void splq_qfile_hdr_encode(const struct splq_qfile_hdr *h, uint8_t out[SPLQ_QFILE_HDR_SIZE])
{
	put32(out, h->namelen);
	put32(out + 4, h->mode);
	put64(out + 8, h->filelen);
	put32(out + 16, h->atime);
	put32(out + 20, h->atime_nsec);
	put32(out + 24, h->mtime);
	put32(out + 28, h->mtime_nsec);
}

void splq_qfile_hdr_decode(const uint8_t in[SPLQ_QFILE_HDR_SIZE], struct splq_qfile_hdr *h)
{
	h->namelen = get32(in);
	h->mode = get32(in + 4);
	h->filelen = get64(in + 8);
	h->atime = get32(in + 16);
	h->atime_nsec = get32(in + 20);
	h->mtime = get32(in + 24);
	h->mtime_nsec = get32(in + 28);
}

size_t splq_qfile_result_encode(uint32_t code, uint32_t crc, const char *last_name, uint8_t *out)
{
	size_t len;

	put32(out, code);
	put32(out + 4, 0);
	put64(out + 8, crc);
	if (!last_name)
		return SPLQ_QFILE_RESULT_SIZE;
	len = strnlen(last_name, SPLQ_QFILE_MAX_PATH);
	put32(out + 16, (uint32_t)len);
	memcpy(out + 20, last_name, len);
	return SPLQ_QFILE_RESULT_SIZE + 4 + len;
}

long splq_qfile_result_decode(const uint8_t *buf, size_t len, struct splq_qfile_result *r,
                              struct splq_error *err)
{
	*r = (struct splq_qfile_result){0};
	if (len < SPLQ_QFILE_RESULT_SIZE)
		return (long)(SPLQ_QFILE_RESULT_SIZE - len);
	r->error_code = get32(buf);
	r->crc32 = get64(buf + 8);
	if (len == SPLQ_QFILE_RESULT_SIZE)
		return 0; /* a result without its extension is a whole one, too */
	if (len < SPLQ_QFILE_RESULT_SIZE + 4)
		return (long)(SPLQ_QFILE_RESULT_SIZE + 4 - len);
	r->has_ext = true;
	r->last_namelen = get32(buf + 16);
	if (r->last_namelen > SPLQ_QFILE_MAX_PATH)
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "qfile result: a last name of %u bytes (at most %d)",
		                 r->last_namelen, SPLQ_QFILE_MAX_PATH);
	if (len < SPLQ_QFILE_RESULT_SIZE + 4 + (size_t)r->last_namelen)
		return (long)(SPLQ_QFILE_RESULT_SIZE + 4 + r->last_namelen - len);
	r->last_name = (const char *)buf + 20;
	return 0;
}

/* ---- CRC-32: carry-less folding where the CPU has it, else slice by 8 ----
 *
 * The stream carries a CRC-32 of every byte, computed by the sender, the
 * host and the receiver alike, so it is on the copy's hot path.  Slice by 8
 * costs about a cycle a byte; folding 64 bytes at a time with PCLMULQDQ
 * (the method of Intel's "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ Instruction") costs a tenth of that. */

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_clmul;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][i] = c;
	}
	for (int t = 1; t < 8; t++)
		for (int i = 0; i < 256; i++)
			crc_tab[t][i] =
			    (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
}

/* The register c (not inverted) over p[0..len), by table. */
static uint32_t crc_slice8(uint32_t c, const uint8_t *p, size_t len)
{
	for (; len && ((uintptr_t)p & 7); len--)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = get32(p) ^ c, hi = get32(p + 4);

		c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		    crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^ crc_tab[3][hi & 0xff] ^
		    crc_tab[2][(hi >> 8) & 0xff] ^ crc_tab[1][(hi >> 16) & 0xff] ^
		    crc_tab[0][hi >> 24];
	}
	while (len--)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* The folding constants of the bit-reflected polynomial 0xedb88320:
 * x^(4*128+32), x^(4*128-32) mod P (fold by 64 bytes), x^(128+32),
 * x^(128-32) mod P (fold by 16), x^64 mod P (64 bits to 32), then P and
 * floor(x^64 / P) for the Barrett reduction; all reflected, shifted one. */
#define CRC_K1 0x154442bd4ull
#define CRC_K2 0x1c6e41596ull
#define CRC_K3 0x1751997d0ull
#define CRC_K4 0x0ccaa009eull
#define CRC_K5 0x163cd6124ull
#define CRC_P 0x1db710641ull
#define CRC_U 0x1f7011641ull

__attribute__((target("pclmul,sse4.1"))) static inline __m128i crc_fold(__m128i x, __m128i k,
                                                                       __m128i next)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00), hi = _mm_clmulepi64_si128(x, k, 0x11);

	return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* The register c over p[0..len), len >= 64 and a multiple of 16. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul_fold(uint32_t c,
                                                                       const uint8_t *p,
                                                                       size_t len)
{
	const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
	__m128i x0 = _mm_loadu_si128((const __m128i *)p),
	        x1 = _mm_loadu_si128((const __m128i *)(p + 16)),
	        x2 = _mm_loadu_si128((const __m128i *)(p + 32)),
	        x3 = _mm_loadu_si128((const __m128i *)(p + 48)), k, t;

	x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)c));
	p += 64, len -= 64;
	k = _mm_set_epi64x((long long)CRC_K2, (long long)CRC_K1);
	for (; len >= 64; p += 64, len -= 64) {
		x0 = crc_fold(x0, k, _mm_loadu_si128((const __m128i *)p));
		x1 = crc_fold(x1, k, _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = crc_fold(x2, k, _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = crc_fold(x3, k, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	k = _mm_set_epi64x((long long)CRC_K4, (long long)CRC_K3);
	x0 = crc_fold(x0, k, x1);
	x0 = crc_fold(x0, k, x2);
	x0 = crc_fold(x0, k, x3);
	for (; len >= 16; p += 16, len -= 16)
		x0 = crc_fold(x0, k, _mm_loadu_si128((const __m128i *)p));
	/* 128 bits to 64, with 32 zero bits appended */
	t = _mm_clmulepi64_si128(x0, k, 0x10);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
	/* 64 to 32 */
	k = _mm_set_epi64x(0, (long long)CRC_K5);
	t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), k, 0x00);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 4), t);
	/* Barrett */
	k = _mm_set_epi64x((long long)CRC_U, (long long)CRC_P);
	t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), k, 0x10);
	t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), k, 0x00);
	return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x0, t), 1);
}
#endif

uint32_t splq_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_clmul && len >= 64) {
		size_t n = len & ~(size_t)15;

		c = crc_clmul_fold(c, p, n);
		p += n, len -= n;
	}
#endif
	return ~crc_slice8(c, p, len);
}

/* ---- the parser ---- */

void splq_qfile_parser_init(struct splq_qfile_parser *p, unsigned flags)
{
	*p = (struct splq_qfile_parser){.flags = flags, .name_read = true};
	p->name = splq_xcalloc(1, SPLQ_QFILE_MAX_PATH);
	p->target = splq_xcalloc(1, SPLQ_QFILE_MAX_PATH);
	p->dir = splq_xcalloc(1, SPLQ_QFILE_MAX_PATH);
}

void splq_qfile_parser_free(struct splq_qfile_parser *p)
{
	free(p->name);
	free(p->target);
	free(p->dir);
	free(p->dirs);
	*p = (struct splq_qfile_parser){0};
}

int splq_qfile_parser_fail(struct splq_qfile_parser *p, int code)
{
	p->state = SPLQ_QFILE_ST_FAILED;
	if (!p->error_code)
		p->error_code = code;
	return -1;
}

__attribute__((format(printf, 4, 5))) static int
refuse(struct splq_qfile_parser *p, int code, struct splq_error *err, const char *fmt, ...)
{
	char msg[SPLQ_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	splq_fail(err, SPLQ_E_CORRUPT, "qfile stream: %s", msg);
	return splq_qfile_parser_fail(p, code);
}

static const char *type_name(uint32_t mode)
{
	return S_ISREG(mode) ? "file" : S_ISDIR(mode) ? "directory" : "symlink";
}

/* Where the entry p->name goes: inside the open directory (0, *base), or
 * that directory itself, a second time (1). */
static int place(struct splq_qfile_parser *p, size_t len, const char **base, struct splq_error *err)
{
	size_t dl = p->depth ? p->dirs[p->depth - 1] : 0;
	char q[200], d[200];

	if (p->depth && S_ISDIR(p->hdr.mode) && len == dl && memcmp(p->name, p->dir, dl) == 0) {
		const char *slash = strrchr(p->name, '/');

		*base = slash ? slash + 1 : p->name;
		return 1;
	}
	if (p->depth == 0 && !strchr(p->name, '/')) {
		*base = p->name;
		return 0;
	}
	if (p->depth && len > dl + 1 && memcmp(p->name, p->dir, dl) == 0 && p->name[dl] == '/' &&
	    !strchr(p->name + dl + 1, '/')) {
		*base = p->name + dl + 1;
		return 0;
	}
	splq_qfile_quote(p->name, q, sizeof(q));
	if (!p->depth)
		return refuse(p, EINVAL, err, "%s '%s' comes before the directory holding it",
		              type_name(p->hdr.mode), q);
	return refuse(p, EINVAL, err, "%s '%s' is not inside directory '%s', which is still open",
	              type_name(p->hdr.mode), q, splq_qfile_quote(p->dir, d, sizeof(d)));
}

static int check_times(struct splq_qfile_parser *p, struct splq_error *err)
{
	char q[200];

	if (p->hdr.atime_nsec <= SPLQ_QFILE_MAX_NSEC && p->hdr.mtime_nsec <= SPLQ_QFILE_MAX_NSEC)
		return 0;
	return refuse(p, EINVAL, err, "%s '%s' has %u nanoseconds (at most %u)",
	              type_name(p->hdr.mode), splq_qfile_quote(p->name, q, sizeof(q)),
	              p->hdr.atime_nsec > SPLQ_QFILE_MAX_NSEC ? p->hdr.atime_nsec
	                                                      : p->hdr.mtime_nsec,
	              SPLQ_QFILE_MAX_NSEC);
}

/* A whole name came: check it and say what the entry is. */
static int name_done(struct splq_qfile_parser *p, struct splq_qfile_ev *ev, struct splq_error *err)
{
	uint32_t mode = p->hdr.mode, n = p->hdr.namelen;
	size_t len = strlen(p->name);
	const char *base = NULL;
	char q[200];
	int r;

	splq_qfile_quote(p->name, q, sizeof(q));
	if (len != n - 1)
		return refuse(p, EINVAL, err, "name '%s' %s", q,
		              len < n - 1 ? "has a NUL byte inside" : "does not end in a NUL byte");
	if (!S_ISREG(mode) && !S_ISDIR(mode) && !S_ISLNK(mode))
		return refuse(p, EINVAL, err, "'%s' has mode 0%o: not a file, directory or symlink",
		              q, mode);
	r = splq_qfile_check_name(p->name, p->flags, err);
	if (r < 0)
		return splq_qfile_parser_fail(p, -r);
	if (!S_ISLNK(mode) && check_times(p, err) < 0)
		return -1;
	if (S_ISREG(mode) && p->hdr.filelen > LLONG_MAX)
		return refuse(p, EDQUOT, err, "file '%s' is %llu bytes long", q,
		              (unsigned long long)p->hdr.filelen);
	if (S_ISDIR(mode) && p->hdr.filelen)
		return refuse(p, EINVAL, err, "directory '%s' comes with %llu bytes of data", q,
		              (unsigned long long)p->hdr.filelen);
	if (S_ISLNK(mode) && p->hdr.filelen > SPLQ_QFILE_MAX_NAMELEN)
		return refuse(p, ENAMETOOLONG, err,
		              "symlink '%s' has a target of %llu bytes (at most %d)", q,
		              (unsigned long long)p->hdr.filelen, SPLQ_QFILE_MAX_NAMELEN);
	if (S_ISLNK(mode) && p->hdr.filelen == 0)
		return refuse(p, ENOENT, err, "symlink '%s' has an empty target", q);
	r = place(p, len, &base, err);
	if (r < 0)
		return -1;
	*ev = (struct splq_qfile_ev){
	    .hdr = &p->hdr, .name = p->name, .base = base, .depth = p->depth};
	p->entries++;
	if (r == 1) {
		ev->kind = SPLQ_QFILE_DIR_END;
		ev->depth = --p->depth;
		p->dir[p->depth ? p->dirs[p->depth - 1] : 0] = '\0';
		p->state = SPLQ_QFILE_ST_HDR;
		return 1;
	}
	if (S_ISDIR(mode)) {
		if (p->depth == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 16;
			p->dirs = realloc(p->dirs, p->cap * sizeof(*p->dirs));
			if (!p->dirs)
				abort();
		}
		p->dirs[p->depth++] = len;
		memcpy(p->dir, p->name, len + 1);
		ev->kind = SPLQ_QFILE_DIR;
		p->state = SPLQ_QFILE_ST_HDR;
		return 1;
	}
	p->left = p->hdr.filelen;
	p->have = 0;
	if (S_ISLNK(mode)) {
		p->state = SPLQ_QFILE_ST_TARGET;
		return 0; /* the event comes with the target */
	}
	ev->kind = SPLQ_QFILE_FILE;
	p->state = p->left ? SPLQ_QFILE_ST_DATA : SPLQ_QFILE_ST_FILE_END;
	return 1;
}

static int target_done(struct splq_qfile_parser *p, struct splq_qfile_ev *ev,
                       struct splq_error *err)
{
	char q[200];
	int r;

	p->target[p->hdr.filelen] = '\0';
	p->have = 0;
	if (strlen(p->target) != p->hdr.filelen)
		return refuse(p, EINVAL, err, "symlink '%s' has a NUL byte inside its target",
		              splq_qfile_quote(p->name, q, sizeof(q)));
	r = splq_qfile_check_symlink(p->name, p->target, p->flags, err);
	if (r < 0) {
		p->last_is_target = true; /* as Qubes' receiver reports it */
		return splq_qfile_parser_fail(p, -r);
	}
	*ev = (struct splq_qfile_ev){.kind = SPLQ_QFILE_SYMLINK,
	                             .hdr = &p->hdr,
	                             .name = p->name,
	                             .target = p->target,
	                             .depth = p->depth};
	ev->base = p->depth ? p->name + p->dirs[p->depth - 1] + 1 : p->name;
	p->state = SPLQ_QFILE_ST_HDR;
	return 1;
}

/* Bytes of b from *pos into dst until it holds want (p->have so far);
 * whether it does. */
static bool gather(struct splq_qfile_parser *p, uint8_t *dst, size_t want, const uint8_t *b,
                   size_t len, size_t *pos)
{
	size_t n = want - p->have < len - *pos ? want - p->have : len - *pos;

	memcpy(dst + p->have, b + *pos, n);
	p->crc = splq_crc32(p->crc, b + *pos, n);
	*pos += n;
	p->have += n;
	return p->have == want;
}

int splq_qfile_next(struct splq_qfile_parser *p, const void *buf, size_t len, size_t *used,
                    struct splq_qfile_ev *ev, struct splq_error *err)
{
	const uint8_t *b = buf;
	size_t pos = 0, n;
	int r = 0;
	char q[200];

	*used = 0;
	*ev = (struct splq_qfile_ev){0};
	while (r == 0) {
		switch (p->state) {
		case SPLQ_QFILE_ST_DONE:
			ev->kind = SPLQ_QFILE_END;
			return 1;
		case SPLQ_QFILE_ST_FAILED:
			return splq_fail(err, SPLQ_E_CORRUPT, "qfile stream: already refused");
		case SPLQ_QFILE_ST_FILE_END:
			*ev = (struct splq_qfile_ev){.kind = SPLQ_QFILE_FILE_END,
			                             .hdr = &p->hdr,
			                             .name = p->name,
			                             .depth = p->depth};
			p->state = SPLQ_QFILE_ST_HDR;
			return 1;
		default:
			break;
		}
		if (pos == len)
			break;
		switch (p->state) {
		case SPLQ_QFILE_ST_HDR:
			if (!gather(p, p->hbuf, SPLQ_QFILE_HDR_SIZE, b, len, &pos))
				break;
			p->have = 0;
			splq_qfile_hdr_decode(p->hbuf, &p->hdr);
			if (p->hdr.namelen == 0) {
				p->state = SPLQ_QFILE_ST_DONE;
				*used = pos;
				if (p->depth)
					return refuse(p, EINVAL, err,
					              "stream ends with directory '%s' still open",
					              splq_qfile_quote(p->dir, q, sizeof(q)));
				ev->kind = SPLQ_QFILE_END;
				return 1;
			}
			if (p->hdr.namelen > SPLQ_QFILE_MAX_NAMELEN) {
				p->name_read = false;
				*used = pos;
				return refuse(p, ENAMETOOLONG, err,
				              "a name of %u bytes (at most %d with its NUL)",
				              p->hdr.namelen, SPLQ_QFILE_MAX_NAMELEN);
			}
			p->state = SPLQ_QFILE_ST_NAME;
			break;
		case SPLQ_QFILE_ST_NAME:
			if (!gather(p, (uint8_t *)p->name, p->hdr.namelen, b, len, &pos))
				break;
			p->name[p->have] = '\0';
			p->have = 0;
			r = name_done(p, ev, err);
			break;
		case SPLQ_QFILE_ST_DATA:
			n = p->left < len - pos ? (size_t)p->left : len - pos;
			p->crc = splq_crc32(p->crc, b + pos, n);
			*ev = (struct splq_qfile_ev){.kind = SPLQ_QFILE_DATA,
			                             .hdr = &p->hdr,
			                             .name = p->name,
			                             .data = b + pos,
			                             .len = n,
			                             .depth = p->depth};
			pos += n;
			p->left -= n;
			if (!p->left)
				p->state = SPLQ_QFILE_ST_FILE_END;
			r = 1;
			break;
		case SPLQ_QFILE_ST_TARGET:
			if (gather(p, (uint8_t *)p->target, (size_t)p->hdr.filelen, b, len, &pos))
				r = target_done(p, ev, err);
			break;
		}
	}
	*used = pos;
	return r;
}

int splq_qfile_parser_eof(struct splq_qfile_parser *p, struct splq_error *err)
{
	char q[200];

	switch (p->state) {
	case SPLQ_QFILE_ST_DONE:
		return 0;
	case SPLQ_QFILE_ST_FAILED:
		return splq_fail(err, SPLQ_E_CORRUPT, "qfile stream: already refused");
	case SPLQ_QFILE_ST_NAME:
		p->name_read = false;
		return refuse(p, SPLQ_QFILE_LEGAL_EOF, err, "ends inside a name");
	case SPLQ_QFILE_ST_DATA:
	case SPLQ_QFILE_ST_TARGET:
		return refuse(p, SPLQ_QFILE_LEGAL_EOF, err, "ends inside %s '%s'",
		              type_name(p->hdr.mode), splq_qfile_quote(p->name, q, sizeof(q)));
	default:
		return refuse(p, EREMOTEIO, err, "ends without its end marker (after %llu entries)",
		              (unsigned long long)p->entries);
	}
}

size_t splq_qfile_parser_result(const struct splq_qfile_parser *p, uint8_t *out)
{
	const char *last = !p->name_read ? NULL : p->last_is_target ? p->target : p->name;

	return splq_qfile_result_encode((uint32_t)p->error_code, p->crc, last, out);
}

/* ---- hashes ---- */

void splq_qfile_hashes_add(struct splq_qfile_hashes *h, const char *name, uint64_t size,
                           const unsigned char sha256[32])
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		if (!h->v)
			abort();
	}
	h->v[h->n].name = splq_xstrdup(name);
	h->v[h->n].size = size;
	memcpy(h->v[h->n].sha256, sha256, 32);
	h->n++;
}

void splq_qfile_hashes_free(struct splq_qfile_hashes *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	*h = (struct splq_qfile_hashes){0};
}
