/* splq: the audit log (see audit.h).
 *
 * Each line is one compact JSON object with its keys in a fixed order; its
 * prev field is the SHA-256 of the line before it (the bytes without the
 * newline).  The store keeps the seq and hash of the last line, and moves it
 * in the same transaction that appends, so the store's write lock serialises
 * appenders across processes. */
/* libcrypto's direct SHA-256 functions: the EVP route spends ~5 million
 * instructions (about 1.5 ms) on provider and name lookups at its first
 * digest, more than a whole `splq run` may take.  They compute the same
 * digest with the same code. */
#define OPENSSL_API_COMPAT 10101

#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define AUDIT_FILE "audit.log"
#define ZERO_HASH  "0000000000000000000000000000000000000000000000000000000000000000"
#define TIME_LEN   24 /* "2026-11-28T10:00:00.123Z" */

static const char *const audit_keys[] = {"seq",    "time", "actor",  "op",
                                         "target", "args", "result", "prev"};

void splq_audit_entry_clear(struct splq_audit_entry *e)
{
	if (!e)
		return;
	free(e->actor);
	free(e->op);
	free(e->target);
	free(e->args);
	free(e->result);
	memset(e, 0, sizeof(*e));
}

const char *splq_audit_host_actor(char buf[32])
{
	snprintf(buf, 32, "uid:%u", (unsigned)getuid());
	return buf;
}

void splq_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int mdlen = SHA256_DIGEST_LENGTH;
	SHA256_CTX c;

	if (!SHA256_Init(&c) || !SHA256_Update(&c, data, len) || !SHA256_Final(md, &c)) {
		/* Only possible when libcrypto itself is broken; a hash that
		 * matches nothing makes every check fail, never pass. */
		memset(out, 'x', 64);
		out[64] = '\0';
		return;
	}
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}

static bool is_hash(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[64] == '\0';
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at s; -1 if any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at s: checks the date and gives days since the epoch. */
static bool parse_date(const char *s, long long *days)
{
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);

	if (y < 0 || m < 1 || m > 12 || d < 1 || s[4] != '-' || s[7] != '-')
		return false;
	if (d > days_in_month(y, m))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

/* "HH:MM:SS" at s: seconds into the day. */
static bool parse_clock(const char *s, long long *secs)
{
	int h = digits(s, 2), mi = digits(s + 3, 2), se = digits(s + 6, 2);

	if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 || s[2] != ':' || s[5] != ':')
		return false;
	*secs = h * 3600LL + mi * 60LL + se;
	return true;
}

/* An entry's time, exactly "YYYY-MM-DDTHH:MM:SS.mmmZ", to unix ms. */
static bool entry_time_ms(const char *s, size_t len, long long *ms)
{
	long long days, secs;
	int frac;

	if (len != TIME_LEN || s[10] != 'T' || s[19] != '.' || s[23] != 'Z')
		return false;
	if (!parse_date(s, &days) || !parse_clock(s + 11, &secs))
		return false;
	frac = digits(s + 20, 3);
	if (frac < 0)
		return false;
	*ms = (days * 86400 + secs) * 1000 + frac;
	return true;
}

static void now_rfc3339(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* (the moduli only tell the compiler the widths) */
	snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	         (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
	         (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	         (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
	         (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

/* ---- one line ---- */

/* Length of a valid UTF-8 sequence at s (as jansson accepts it: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0], cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string of s, with each byte that is not part of valid UTF-8
 * replaced by U+FFFD (arguments come from argv, which may hold anything). */
static json_t *json_text(const char *s)
{
	cleanup_free char *clean = NULL;
	const unsigned char *p;
	size_t o = 0;

	if (!s)
		s = "";
	for (p = (const unsigned char *)s; *p;) {
		size_t n = utf8_seq(p);
		if (!n)
			break;
		p += n;
	}
	if (!*p)
		return json_string(s);
	clean = splq_xmalloc(strlen(s) * 3 + 1);
	for (p = (const unsigned char *)s; *p;) {
		size_t n = utf8_seq(p);
		if (n) {
			memcpy(clean + o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	clean[o] = '\0';
	return json_string(clean);
}

char *splq_audit_format(const struct splq_audit_entry *e)
{
	json_t *o = json_object();
	char *line;

	if (!o)
		return NULL;
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "time", json_text(e->time));
	json_object_set_new(o, "actor", json_text(e->actor));
	json_object_set_new(o, "op", json_text(e->op));
	json_object_set_new(o, "target", json_text(e->target));
	json_object_set_new(o, "args", json_text(e->args));
	json_object_set_new(o, "result", json_text(e->result));
	json_object_set_new(o, "prev", json_text(e->prev));
	/* Anything below 0x20 in a string is escaped by the encoder, so the
	 * line holds no raw newline. */
	line = json_object_size(o) == 8 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return line;
}

static bool known_key(const char *key)
{
	for (size_t i = 0; i < sizeof(audit_keys) / sizeof(audit_keys[0]); i++)
		if (strcmp(key, audit_keys[i]) == 0)
			return true;
	return false;
}

static int get_string(json_t *root, const char *key, const char **out, size_t *len,
                      struct splq_error *err)
{
	json_t *v = json_object_get(root, key);

	if (!v)
		return splq_fail(err, SPLQ_E_AUDIT, "the key \"%s\" is missing", key);
	if (!json_is_string(v))
		return splq_fail(err, SPLQ_E_AUDIT, "\"%s\" is not a string", key);
	*out = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

int splq_audit_parse(const char *line, size_t len, struct splq_audit_entry *out,
                     struct splq_error *err)
{
	const char *key, *s = NULL, *strs[5] = {NULL};
	size_t slen = 0;
	json_error_t jerr;
	json_t *root, *v;
	int r = -1;

	memset(out, 0, sizeof(*out));
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return splq_fail(err, SPLQ_E_AUDIT, "not JSON: %s (at byte %d)", jerr.text,
		                 jerr.position);
	if (!json_is_object(root)) {
		splq_fail(err, SPLQ_E_AUDIT, "not a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		if (!known_key(key)) {
			splq_fail(err, SPLQ_E_AUDIT, "unknown key \"%.64s\"", key);
			goto out;
		}
	}

	v = json_object_get(root, "seq");
	if (!v) {
		splq_fail(err, SPLQ_E_AUDIT, "the key \"seq\" is missing");
		goto out;
	}
	if (!json_is_integer(v)) {
		splq_fail(err, SPLQ_E_AUDIT, "\"seq\" is not an integer");
		goto out;
	}
	if (json_integer_value(v) < 1) {
		splq_fail(err, SPLQ_E_AUDIT, "\"seq\" is %lld; it must be 1 or more",
		          (long long)json_integer_value(v));
		goto out;
	}
	out->seq = json_integer_value(v);

	if (get_string(root, "time", &s, &slen, err) < 0)
		goto out;
	{
		long long ms;
		if (!entry_time_ms(s, slen, &ms)) {
			splq_fail(err, SPLQ_E_AUDIT,
			          "\"time\" is not a UTC time like 2026-11-28T10:00:00.123Z");
			goto out;
		}
	}
	memcpy(out->time, s, slen + 1);

	for (int i = 0; i < 5; i++)
		if (get_string(root, audit_keys[2 + i], &strs[i], &slen, err) < 0)
			goto out;

	if (get_string(root, "prev", &s, &slen, err) < 0)
		goto out;
	if (slen != 64 || !is_hash(s)) {
		splq_fail(err, SPLQ_E_AUDIT, "\"prev\" is not 64 lowercase hex digits");
		goto out;
	}
	memcpy(out->prev, s, 65);

	out->actor = splq_xstrdup(strs[0]);
	out->op = splq_xstrdup(strs[1]);
	out->target = splq_xstrdup(strs[2]);
	out->args = splq_xstrdup(strs[3]);
	out->result = splq_xstrdup(strs[4]);
	r = 0;
out:
	json_decref(root);
	if (r < 0)
		splq_audit_entry_clear(out);
	return r;
}

/* ---- verification ---- */

static int verify_fail(long long *bad_line, long long line, struct splq_error *err, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
static int verify_fail(long long *bad_line, long long line, struct splq_error *err, const char *fmt,
                       ...)
{
	va_list ap;

	if (bad_line)
		*bad_line = line;
	if (err) {
		err->code = SPLQ_E_AUDIT;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

int splq_audit_verify_buffer(const char *log, size_t len, long long head_seq, const char *head_hash,
                             long long *bad_line, struct splq_error *err)
{
	char prev[65] = ZERO_HASH;
	size_t pos = 0;
	long long i = 0;

	if (bad_line)
		*bad_line = 0;
	while (pos < len) {
		const char *start = log + pos, *nl = memchr(start, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - start) : len - pos;
		struct splq_audit_entry e;
		struct splq_error perr;
		long long seq;
		bool chained;

		i++;
		if (i > head_seq)
			return verify_fail(
			    bad_line, i, err,
			    "entry %lld: not recorded in the store (appended by hand)", i);
		if (splq_audit_parse(start, llen, &e, &perr) < 0)
			return verify_fail(bad_line, i, err,
			                   "entry %lld: not a valid audit entry: %s", i, perr.msg);
		seq = e.seq;
		chained = strcmp(e.prev, prev) == 0;
		splq_audit_entry_clear(&e);
		if (seq != i)
			return verify_fail(bad_line, i, err,
			                   "entry %lld: sequence number is %lld, expected %lld (an "
			                   "entry was removed, inserted or moved)",
			                   i, seq, i);
		if (!chained && i == 1)
			return verify_fail(bad_line, i, err,
			                   "entry 1: does not start the chain (its prev is not 64 "
			                   "zeros; it was changed)");
		if (!chained)
			return verify_fail(bad_line, i, err,
			                   "entry %lld: does not follow entry %lld (entry %lld was "
			                   "changed, or entries were reordered)",
			                   i, i - 1, i - 1);
		if (!nl)
			return verify_fail(bad_line, i, err,
			                   "entry %lld: incomplete (the log does not end with a "
			                   "newline)",
			                   i);
		splq_sha256_hex(start, llen, prev);
		if (i == head_seq && (!head_hash || strcmp(prev, head_hash) != 0))
			return verify_fail(
			    bad_line, i, err,
			    "entry %lld: changed (its hash does not match the store's "
			    "record)",
			    i);
		pos += llen + 1;
	}
	if (i < head_seq && i == 0)
		return verify_fail(bad_line, 1, err,
		                   "the log is empty but the store records %lld entries (entries "
		                   "were removed)",
		                   head_seq);
	if (i < head_seq)
		return verify_fail(bad_line, i + 1, err,
		                   "the log ends at entry %lld but the store records %lld entries "
		                   "(entries were removed from the end)",
		                   i, head_seq);
	return 0;
}

/* ---- the file ---- */

/* Read the whole log; a missing file gives *missing and an empty buffer. */
static int read_log(const char *path, char **out, size_t *len, bool *missing,
                    struct splq_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *buf = NULL;
	size_t cap = 0, n = 0;
	struct stat st;

	*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*missing = true;
		*out = splq_xstrdup("");
		*len = 0;
		return 0;
	}
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open the audit log %s",
		                       path);
	if (fstat(fd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot stat %s", path);
	if (!S_ISREG(st.st_mode))
		return splq_fail(err, SPLQ_E_AUDIT, "the audit log %s is not a regular file", path);
	cap = (size_t)st.st_size + 1;
	buf = splq_xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *bigger;
			cap *= 2;
			bigger = realloc(buf, cap);
			if (!bigger)
				abort();
			buf = bigger;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot read %s", path);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = splq_steal(buf);
	*len = n;
	return 0;
}

static int append_locked(struct splq_store *s, const char *home, const char *actor, const char *op,
                         const char *target, const char *args, const char *result,
                         struct splq_error *err)
{
	cleanup_free char *path = NULL, *line = NULL;
	cleanup_close int fd = -1;
	struct splq_audit_entry e = {0};
	char head[65] = "", hash[65];
	long long seq = 0;
	struct stat st;
	size_t len, done = 0;

	if (splq_store_audit_head(s, &seq, head, err) < 0)
		return -1;
	if (seq < 0 || (seq > 0 && !is_hash(head)))
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "the store's record of the audit log is damaged (entry %lld)",
		                 seq);

	e.seq = seq + 1;
	now_rfc3339(e.time);
	e.actor = (char *)(actor ? actor : "");
	e.op = (char *)(op ? op : "");
	e.target = (char *)(target ? target : "");
	e.args = (char *)(args ? args : "");
	e.result = (char *)(result ? result : "");
	memcpy(e.prev, seq > 0 ? head : ZERO_HASH, 65);
	line = splq_audit_format(&e);
	if (!line)
		return splq_fail(err, SPLQ_E_INTERNAL, "cannot format audit entry %lld", e.seq);
	len = strlen(line);
	splq_sha256_hex(line, len, hash);

	path = splq_strdup_printf("%s/" AUDIT_FILE, home);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open the audit log %s",
		                       path);
	if (fstat(fd, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot stat %s", path);

	/* One write of the line and its newline; a short write is continued,
	 * and one that cannot be is undone so no half line stays. */
	{
		cleanup_free char *buf = splq_strdup_printf("%s\n", line);
		size_t total = len + 1;

		while (done < total) {
			ssize_t w = write(fd, buf + done, total - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int saved = w < 0 ? errno : ENOSPC;
				if (ftruncate(fd, st.st_size) < 0) {
					/* nothing more can be done; the message
					 * below still names the file */
				}
				splq_fail_errno(err, SPLQ_E_NOSPACE, saved,
				                "cannot append to the audit log %s", path);
				if (err)
					err->code = SPLQ_E_NOSPACE;
				return -1;
			}
			done += (size_t)w;
		}
	}

	if (splq_store_audit_set_head(s, e.seq, hash, err) < 0 || splq_store_commit(s, err) < 0) {
		if (ftruncate(fd, st.st_size) < 0) {
			/* the entry stays; verify reports it as not recorded */
		}
		return -1;
	}
	return 0;
}

int splq_audit_append(struct splq_store *s, const char *home, const char *actor, const char *op,
                      const char *target, const char *args, const char *result,
                      struct splq_error *err)
{
	if (splq_store_begin(s, err) < 0)
		return -1;
	if (append_locked(s, home, actor, op, target, args, result, err) < 0) {
		splq_store_rollback(s);
		return -1;
	}
	return 0;
}

static long long count_lines(const char *log, size_t len)
{
	long long n = 0;
	const char *p = log, *end = log + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

int splq_audit_verify(struct splq_store *s, const char *home, long long *entries,
                      long long *bad_line, struct splq_error *err)
{
	cleanup_free char *path = NULL, *log = NULL;
	char head[65] = "";
	long long seq = 0, dummy;
	size_t len = 0;
	bool missing;
	int r;

	if (!bad_line)
		bad_line = &dummy;
	*bad_line = 0;
	if (entries)
		*entries = 0;
	path = splq_strdup_printf("%s/" AUDIT_FILE, home);
	/* Under the write lock, so no entry is appended between reading the
	 * head and reading the file. */
	if (splq_store_begin(s, err) < 0)
		return -1;
	r = splq_store_audit_head(s, &seq, head, err);
	if (r == 0)
		r = read_log(path, &log, &len, &missing, err);
	if (r < 0) {
		splq_store_rollback(s);
		return -1;
	}
	if (splq_store_commit(s, err) < 0)
		return -1;

	if (entries)
		*entries = count_lines(log, len);
	if (missing && seq > 0) {
		*bad_line = 1;
		return splq_fail(err, SPLQ_E_AUDIT,
		                 "the audit log %s is missing but the store records %lld entries",
		                 path, seq);
	}
	return splq_audit_verify_buffer(log, len, seq, head, bad_line, err);
}

int splq_audit_read(const char *home, const char *qube, long long since_ms,
                    struct splq_audit_entry **out, int *n, struct splq_error *err)
{
	cleanup_free char *path = NULL, *log = NULL;
	struct splq_audit_entry *list = NULL;
	int count = 0, cap = 0;
	size_t len = 0, pos = 0;
	long long lineno = 0;
	bool missing;

	*out = NULL;
	*n = 0;
	path = splq_strdup_printf("%s/" AUDIT_FILE, home);
	if (read_log(path, &log, &len, &missing, err) < 0)
		return -1;
	while (pos < len) {
		const char *start = log + pos, *nl = memchr(start, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - start) : len - pos;
		struct splq_audit_entry e;
		struct splq_error perr;
		long long ms = 0;

		lineno++;
		pos += llen + 1;
		if (splq_audit_parse(start, llen, &e, &perr) < 0) {
			for (int k = 0; k < count; k++)
				splq_audit_entry_clear(&list[k]);
			free(list);
			return splq_fail(err, SPLQ_E_AUDIT,
			                 "%s, line %lld: not a valid audit entry: %s", path, lineno,
			                 perr.msg);
		}
		entry_time_ms(e.time, strlen(e.time), &ms);
		if ((qube && strcmp(e.target, qube) != 0) || (since_ms != 0 && ms < since_ms)) {
			splq_audit_entry_clear(&e);
			continue;
		}
		if (count == cap) {
			struct splq_audit_entry *bigger;
			cap = cap ? cap * 2 : 16;
			bigger = realloc(list, (size_t)cap * sizeof(*list));
			if (!bigger)
				abort();
			list = bigger;
		}
		list[count++] = e;
	}
	*out = list;
	*n = count;
	return 0;
}

/* ---- --since ---- */

static int since_usage(const char *s, struct splq_error *err)
{
	return splq_fail(err, SPLQ_E_USAGE,
	                 "--since '%.100s' is not a date (2026-11-28), a UTC date-time "
	                 "(2026-11-28T10:00:00Z, the Z may go), unix seconds (@1764324000) or an "
	                 "age (30, 30s, 15m, 2h, 7d)",
	                 s);
}

/* Decimal digits, all of s[0..len), into *v without overflow. */
static bool parse_count(const char *s, size_t len, long long *v)
{
	long long x = 0;

	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

int splq_audit_parse_since(const char *s, long long now_ms, long long *out_ms,
                           struct splq_error *err)
{
	size_t len;
	long long v, days, secs, ms = 0;

	if (!s || !*s)
		return splq_fail(err, SPLQ_E_USAGE,
		                 "--since needs a value (a date, a date-time, "
		                 "@unix-seconds or an age such as 2h)");
	len = strlen(s);

	/* @unix-seconds */
	if (s[0] == '@') {
		if (!parse_count(s + 1, len - 1, &v) || v > LLONG_MAX / 1000)
			return since_usage(s, err);
		*out_ms = v * 1000;
		return 0;
	}

	/* an age: a duration (model.h), shorter than a date's ten characters */
	if (len < 10 && splq_duration_parse(s, 100LL * 366 * 86400, &v, NULL) == 0) {
		*out_ms = now_ms - v * 1000;
		return 0;
	}

	/* RFC 3339: full-date, or full-date "T" time [.frac] ("Z" / +hh:mm / -hh:mm) */
	if (len < 10 || !parse_date(s, &days))
		return since_usage(s, err);
	if (len == 10) {
		*out_ms = days * 86400000LL;
		return 0;
	}
	if ((s[10] != 'T' && s[10] != 't') || len < 19 || !parse_clock(s + 11, &secs))
		return since_usage(s, err);
	{
		const char *p = s + 19;
		long long offset = 0;

		if (*p == '.') {
			int nd = 0;
			p++;
			while (*p >= '0' && *p <= '9') {
				if (nd < 3)
					ms = ms * 10 + (*p - '0');
				nd++;
				p++;
			}
			if (nd == 0)
				return since_usage(s, err);
			for (; nd < 3; nd++)
				ms *= 10;
		}
		if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0')) {
			offset = 0; /* without a zone, as with Z: UTC, as the log writes it */
		} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
			int oh = digits(p + 1, 2), om = digits(p + 4, 2);
			if (oh < 0 || oh > 23 || om < 0 || om > 59)
				return since_usage(s, err);
			offset = (oh * 60LL + om) * 60000LL;
			if (*p == '-')
				offset = -offset;
		} else {
			return since_usage(s, err);
		}
		*out_ms = (days * 86400 + secs) * 1000 + ms - offset;
	}
	return 0;
}
