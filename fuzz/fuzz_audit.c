/* splq: libFuzzer target for the audit log: splq_audit_parse and
 * splq_audit_verify_buffer over arbitrary bytes, and a chain built from
 * the input, which must verify and must fail after any one changed byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Whatever parses must format to one line that parses to the same entry
 * and formats to the same bytes again. */
static void check_round_trip(const struct splq_audit_entry *e)
{
	struct splq_audit_entry again;
	struct splq_error err;
	char *line = splq_audit_format(e), *line2;

	if (!line || strchr(line, '\n'))
		abort();
	if (splq_audit_parse(line, strlen(line), &again, &err) < 0)
		abort();
	if (again.seq != e->seq || strcmp(again.time, e->time) || !same(again.actor, e->actor) ||
	    !same(again.op, e->op) || !same(again.target, e->target) ||
	    !same(again.args, e->args) || !same(again.result, e->result) ||
	    strcmp(again.prev, e->prev))
		abort();
	line2 = splq_audit_format(&again);
	if (!line2 || strcmp(line, line2))
		abort();
	free(line2);
	free(line);
	splq_audit_entry_clear(&again);
}

static long long count_lines(const char *buf, size_t len)
{
	long long n = 0;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	return n + (len && buf[len - 1] != '\n');
}

/* The input as raw bytes: one line, and a whole log against several heads. */
static void fuzz_raw(const char *buf, size_t size)
{
	struct splq_audit_entry e;
	struct splq_error err;
	long long lines = count_lines(buf, size), bad;
	char hash[65];

	if (splq_audit_parse(buf, size, &e, &err) == 0) {
		check_round_trip(&e);
		splq_audit_entry_clear(&e);
	} else if (err.code != SPLQ_E_AUDIT || !err.msg[0] || e.actor) {
		abort();
	}

	{
		/* the hash of the last line, as a store would record it */
		size_t end = size, start;
		if (end && buf[end - 1] == '\n')
			end--;
		start = end;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		splq_sha256_hex(buf + start, end - start, hash);
	}
	const long long heads[] = {0, 1, lines, lines + 1, 1LL << 40};
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		bad = -1;
		if (splq_audit_verify_buffer(buf, size, heads[h], hash, &bad, &err) < 0) {
			/* the bad entry is a line of the log or the one after it */
			if (err.code != SPLQ_E_AUDIT || bad < 1 || bad > lines + 1 || !err.msg[0])
				abort();
		} else if (bad != 0 || lines != heads[h]) {
			abort();
		}
	}
}

/* The input as fields (split at NUL bytes, five an entry): a chain made of
 * them verifies, and changing any one byte of it is caught at that entry
 * or the one after it. */
static void fuzz_chain(const char *buf, size_t size)
{
	enum { MAXE = 8 };
	const char *fields[MAXE * 5];
	size_t nf = 0, pos = 0, loglen = 0, cap = 0;
	char prev[65] = ZEROS, *log = NULL, *copy;
	long long n, bad, line = 1;
	struct splq_error err;
	char *tmp;

	tmp = malloc(size + 1);
	if (!tmp)
		abort();
	memcpy(tmp, buf, size);
	tmp[size] = '\0';
	while (nf < MAXE * 5 && pos <= size) {
		fields[nf++] = tmp + pos;
		pos += strlen(tmp + pos) + 1;
	}
	while (nf % 5)
		fields[nf++] = "";
	n = (long long)nf / 5;

	for (long long i = 0; i < n; i++) {
		struct splq_audit_entry e = {0};
		char *l;
		size_t ll;

		e.seq = i + 1;
		memcpy(e.time, "2026-11-28T10:00:00.000Z", 25);
		e.actor = (char *)fields[i * 5];
		e.op = (char *)fields[i * 5 + 1];
		e.target = (char *)fields[i * 5 + 2];
		e.args = (char *)fields[i * 5 + 3];
		e.result = (char *)fields[i * 5 + 4];
		memcpy(e.prev, prev, 65);
		l = splq_audit_format(&e);
		if (!l)
			abort();
		ll = strlen(l);
		if (loglen + ll + 1 > cap) {
			cap = (loglen + ll + 1) * 2;
			log = realloc(log, cap);
			if (!log)
				abort();
		}
		memcpy(log + loglen, l, ll);
		log[loglen + ll] = '\n';
		loglen += ll + 1;
		splq_sha256_hex(l, ll, prev);
		free(l);
	}
	if (splq_audit_verify_buffer(log, loglen, n, prev, &bad, &err) != 0)
		abort();

	/* change one byte, chosen by the input */
	{
		size_t at = 0, k;
		unsigned char x = 1;

		for (k = 0; k < size; k++)
			at = at * 31 + (unsigned char)buf[k];
		if (size)
			x = (unsigned char)buf[size - 1] ? (unsigned char)buf[size - 1] : 0x80;
		at %= loglen;
		for (k = 0; k < at; k++)
			line += log[k] == '\n';
		copy = malloc(loglen);
		if (!copy)
			abort();
		memcpy(copy, log, loglen);
		copy[at] ^= x;
		if (splq_audit_verify_buffer(copy, loglen, n, prev, &bad, &err) == 0)
			abort();
		if (bad != line && bad != line + 1)
			abort();
		free(copy);
	}
	free(log);
	free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_raw((const char *)data, size);
	fuzz_chain((const char *)data, size);
	return 0;
}
