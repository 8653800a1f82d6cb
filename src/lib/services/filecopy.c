/* splq: the host's part of a file copy (see filecopy.h): one poll loop
 * over the copy's descriptors. */
#include "services/filecopy.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define STREAM_BUF (1024 * 1024)
/* the manifest is read a record at a time: one is at most this */
#define MANIFEST_BUF (SPLQ_QFILE_MANIFEST_REC + SPLQ_QFILE_MAX_PATH + 64 * 1024)
/* after the copy is done, how long the ends' messages are waited for */
#define ERR_GRACE_MS 500
/* what is kept of each end's messages */
#define ERR_KEEP 4096

enum { FS, TR, FR, TS, E0, E1, NFD };

struct relay {
	int fd[NFD];
	int err_out;
	struct splq_filecopy *c;
	struct splq_qfile_parser p;
	EVP_MD_CTX *md;
	char *file; /* the file being hashed */
	uint64_t size;
	uint8_t *sbuf; /* stream bytes [soff, slen) still to be forwarded */
	size_t soff, slen;
	bool ended; /* the end marker came */
	bool cut;   /* the stream will not reach it: why in stream_err */
	struct splq_error stream_err;
	uint8_t res[SPLQ_QFILE_RESULT_MAX];
	size_t rlen, rsent;
	bool rdone;    /* the result is all there (rlen bytes) */
	uint8_t *mbuf; /* manifest bytes not taken yet */
	size_t mlen;
	bool mdone;
	struct splq_error verify_err;
	bool verify_failed;
	char said[2][ERR_KEEP]; /* the ends' messages */
	size_t saidlen[2];
};

static void end_fd(struct relay *r, int i)
{
	splq_close_fd(&r->fd[i]);
}

/* ---- the stream, sender to receiver ---- */

static void hash_event(struct relay *r, const struct splq_qfile_ev *ev)
{
	unsigned char sha[32];

	switch (ev->kind) {
	case SPLQ_QFILE_FILE:
		free(r->file);
		r->file = splq_xstrdup(ev->name);
		r->size = ev->hdr->filelen;
		EVP_DigestInit_ex(r->md, EVP_sha256(), NULL);
		break;
	case SPLQ_QFILE_DATA:
		EVP_DigestUpdate(r->md, ev->data, ev->len);
		r->c->bytes += ev->len;
		break;
	case SPLQ_QFILE_FILE_END:
		EVP_DigestFinal_ex(r->md, sha, NULL);
		splq_qfile_hashes_add(&r->c->sent, r->file, r->size, sha);
		break;
	case SPLQ_QFILE_END:
		r->ended = true;
		break;
	}
	if (ev->kind != SPLQ_QFILE_DATA && ev->kind != SPLQ_QFILE_FILE_END &&
	    ev->kind != SPLQ_QFILE_END)
		r->c->entries++;
}

/* The stream is done with: what is still to go, goes; nothing more is read. */
static void stream_stop(struct relay *r)
{
	end_fd(r, FS);
	if (r->soff == r->slen && (!r->c->manifest || !r->ended))
		end_fd(r, TR);
}

static void read_stream(struct relay *r)
{
	ssize_t n = read(r->fd[FS], r->sbuf, STREAM_BUF);
	size_t pos = 0, used;
	struct splq_qfile_ev ev;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (n < 0)
			splq_fail_errno(&r->stream_err, SPLQ_E_TRANSFER, errno,
			                "cannot read the stream from the sender");
		else {
			/* where it stopped, in the parser's words */
			struct splq_error at;
			const char *prefix = "qfile stream: ";
			splq_qfile_parser_eof(&r->p, &at);
			splq_fail(&r->stream_err, SPLQ_E_TRANSFER,
			          "the sender stopped before the end of its stream: it %s",
			          strncmp(at.msg, prefix, strlen(prefix)) == 0
			              ? at.msg + strlen(prefix)
			              : at.msg);
		}
		r->cut = true;
		stream_stop(r);
		return;
	}
	/* to the last event, also one that takes no bytes: the end of a file
	 * whose data ends with what was read */
	while (!r->ended) {
		int e = splq_qfile_next(&r->p, r->sbuf + pos, (size_t)n - pos, &used, &ev,
		                        &r->stream_err);
		pos += used;
		if (e < 0) {
			char why[SPLQ_ERROR_MAX];
			snprintf(why, sizeof(why), "%s", r->stream_err.msg);
			splq_fail(&r->stream_err, SPLQ_E_TRANSFER, "the sender's stream was refused: %s",
			          why);
			r->cut = true;
			break;
		}
		if (e == 0)
			break;
		hash_event(r, &ev);
	}
	/* what the parser took goes on, and nothing after the end marker */
	r->soff = 0;
	r->slen = pos;
	if (r->ended || r->cut)
		stream_stop(r);
}

/* The receiver takes no more of the stream: what is still to go is
 * dropped and nothing more is read (the sender's writes fail; the result
 * it gets says why).  Never the receiver's end alone: with bytes still to
 * go, the sender's would be waited on for ever. */
static void receiver_gone(struct relay *r)
{
	r->soff = r->slen = 0;
	end_fd(r, TR);
	end_fd(r, FS);
}

static void write_stream(struct relay *r)
{
	ssize_t n = write(r->fd[TR], r->sbuf + r->soff, r->slen - r->soff);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		/* the receiver stopped reading: its result says why */
		receiver_gone(r);
		return;
	}
	r->soff += (size_t)n;
	if (r->soff == r->slen && r->fd[FS] < 0)
		stream_stop(r);
}

/* ---- the result and the manifest, receiver to sender ---- */

/* How long the result in r->res is, where that can be known before the
 * receiver ends: a success after the end marker carries the last name the
 * host's parser read too.  0: not yet known. */
static size_t result_len(const struct relay *r)
{
	uint32_t code, namelen;

	if (r->rlen < SPLQ_QFILE_RESULT_SIZE || !r->ended)
		return 0;
	memcpy(&code, r->res, 4);
	if (code != 0)
		return 0;
	if (!r->p.name_read)
		return SPLQ_QFILE_RESULT_SIZE;
	if (r->rlen < SPLQ_QFILE_RESULT_SIZE + 4)
		return 0;
	memcpy(&namelen, r->res + SPLQ_QFILE_RESULT_SIZE, 4);
	if (namelen > SPLQ_QFILE_MAX_PATH)
		return SPLQ_QFILE_RESULT_SIZE + 4; /* refused when decoded */
	return SPLQ_QFILE_RESULT_SIZE + 4 + namelen;
}

static void compare(struct relay *r)
{
	const struct splq_qfile_hashes *a = &r->c->sent, *b = &r->c->received;
	char q[200];

	for (size_t i = 0; i < a->n; i++) {
		const char *why = i >= b->n ? "is missing at the receiver"
		                  : strcmp(a->v[i].name, b->v[i].name) ? "is not where it should be"
		                  : a->v[i].size != b->v[i].size       ? "has another size there"
		                  : memcmp(a->v[i].sha256, b->v[i].sha256, 32)
		                      ? "has another SHA-256 there"
		                      : NULL;
		if (why) {
			r->verify_failed = true;
			splq_fail(&r->verify_err, SPLQ_E_VERIFY, "verify: '%s' %s",
			          splq_qfile_quote(a->v[i].name, q, sizeof(q)), why);
			return;
		}
	}
	if (b->n != a->n) {
		r->verify_failed = true;
		splq_fail(&r->verify_err, SPLQ_E_VERIFY,
		          "verify: the receiver lists %zu files, %zu were sent", b->n, a->n);
	}
}

static void take_manifest(struct relay *r)
{
	size_t used;
	int e = splq_qfile_manifest_next(r->mbuf, r->mlen, r->c->sent.n, &r->c->received, &used,
	                                 &r->verify_err);

	memmove(r->mbuf, r->mbuf + used, r->mlen - used);
	r->mlen -= used;
	if (e == 0)
		return;
	r->mdone = true;
	end_fd(r, FR);
	if (e < 0) {
		/* a list that cannot be right fails the copy as one that
		 * differs does */
		char why[SPLQ_ERROR_MAX];

		snprintf(why, sizeof(why), "%s", r->verify_err.msg);
		r->verify_failed = true;
		splq_fail(&r->verify_err, SPLQ_E_VERIFY, "verify: %s", why);
	} else {
		compare(r);
	}
	/* the receiver keeps the files only when told so */
	if (!r->verify_failed && r->fd[TR] >= 0 && write(r->fd[TR], "y", 1) == 1)
		r->c->verified = true;
	end_fd(r, TR);
}

static void read_back(struct relay *r)
{
	uint8_t *to = r->rdone ? r->mbuf + r->mlen : r->res + r->rlen;
	size_t room = r->rdone ? MANIFEST_BUF - r->mlen : sizeof(r->res) - r->rlen;
	ssize_t n = read(r->fd[FR], to, room);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0 || room == 0) {
		/* the receiver ended (or says more than a result and a record):
		 * what came is its result */
		r->rdone = true;
		end_fd(r, FR);
		if (r->c->manifest && !r->mdone) {
			r->verify_failed = true;
			splq_fail(&r->verify_err, SPLQ_E_VERIFY,
			          "verify: the receiver sent no list of the files it wrote");
			receiver_gone(r);
		}
		return;
	}
	if (r->rdone) {
		r->mlen += (size_t)n;
		take_manifest(r);
		return;
	}
	r->rlen += (size_t)n;
	size_t len = result_len(r);
	if (len && r->rlen >= len) {
		/* the rest is the manifest's */
		size_t extra = r->rlen - len;
		if (r->c->manifest) {
			memcpy(r->mbuf, r->res + len, extra);
			r->mlen = extra;
		}
		r->rlen = len;
		r->rdone = true;
		if (!r->c->manifest)
			end_fd(r, FR);
		else if (r->mlen)
			take_manifest(r);
	}
}

static void write_back(struct relay *r)
{
	ssize_t n = write(r->fd[TS], r->res + r->rsent, r->rlen - r->rsent);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		end_fd(r, TS);
		return;
	}
	r->rsent += (size_t)n;
	if (r->rsent == r->rlen)
		end_fd(r, TS);
}

/* ---- the ends' messages ----
 * Kept (the first ERR_KEEP bytes of each) and told at the end, unless the
 * receiver's result says what went wrong: then splq's own message, which
 * gives the receiver's word, is all that is needed. */

static void read_err(struct relay *r, int i)
{
	char buf[4096];
	ssize_t n = read(r->fd[i], buf, sizeof(buf));
	size_t *len = &r->saidlen[i - E0];

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		end_fd(r, i);
		return;
	}
	size_t keep = ERR_KEEP - *len < (size_t)n ? ERR_KEEP - *len : (size_t)n;
	memcpy(r->said[i - E0] + *len, buf, keep);
	splq_filter_escapes(r->said[i - E0] + *len, keep);
	*len += keep;
}

/* The receiver's result code (0 when there is none), and whether it is the
 * receiver's own refusal rather than its word that the stream was cut. */
static uint32_t result_code(const struct relay *r, bool *refusal)
{
	uint32_t code = 0;

	if (r->rdone && r->rlen >= SPLQ_QFILE_RESULT_SIZE)
		memcpy(&code, r->res, 4);
	*refusal = code != 0 && code != SPLQ_QFILE_LEGAL_EOF && code != EREMOTEIO;
	return code;
}

static void tell_ends(const struct relay *r)
{
	bool refusal;

	result_code(r, &refusal);
	for (int i = 0; i < 2 && !refusal && r->err_out >= 0; i++)
		(void)splq_write_all(r->err_out, r->said[i], r->saidlen[i]);
}

/* ---- the loop ---- */

static bool copy_open(const struct relay *r)
{
	for (int i = FS; i <= TS; i++)
		if (r->fd[i] >= 0)
			return true;
	return false;
}

static void report(struct relay *r, long long start, bool done)
{
	if (!r->c->progress)
		return;
	struct splq_filecopy_stats s = {.bytes = r->c->bytes,
	                                .files = r->c->sent.n,
	                                .elapsed_ms = splq_now_ms() - start,
	                                .done = done};
	r->c->progress(r->c->progress_arg, &s);
}

/* The outcome, once every descriptor is done. */
static int outcome(struct relay *r, struct splq_error *err)
{
	struct splq_qfile_result res;
	cleanup_free char *last = NULL;
	bool refusal;

	result_code(r, &refusal);
	if (r->cut && !refusal)
		return splq_fail(err, SPLQ_E_TRANSFER, "%s", r->stream_err.msg);
	if (!r->rdone || r->rlen < SPLQ_QFILE_RESULT_SIZE ||
	    splq_qfile_result_decode(r->res, r->rlen, &res, err) != 0) {
		if (r->cut)
			return splq_fail(err, SPLQ_E_TRANSFER, "%s", r->stream_err.msg);
		return splq_fail(err, SPLQ_E_TRANSFER, "the receiver ended without a result");
	}
	last = splq_xmalloc((size_t)res.last_namelen + 1);
	memcpy(last, res.last_name ? res.last_name : "", res.last_namelen);
	last[res.last_namelen] = 0;
	if (res.error_code != 0 && splq_qfile_result_check(res.error_code, last, err) < 0) {
		/* the receiver's word, without the sender's prefix */
		const char *prefix = "qfile send: ";
		if (strncmp(err->msg, prefix, strlen(prefix)) == 0)
			memmove(err->msg, err->msg + strlen(prefix),
			        strlen(err->msg) - strlen(prefix) + 1);
		if (err->code != SPLQ_E_EXISTS && err->code != SPLQ_E_NOSPACE)
			err->code = SPLQ_E_TRANSFER;
		return -1;
	}
	if (r->cut)
		return splq_fail(err, SPLQ_E_TRANSFER, "%s", r->stream_err.msg);
	if (!r->ended)
		return splq_fail(err, SPLQ_E_TRANSFER, "the stream ended before its end marker");
	if (res.crc32 != (uint64_t)r->p.crc)
		return splq_fail(err, SPLQ_E_TRANSFER,
		                 "checksum mismatch: the host forwarded CRC-32 %08x, the "
		                 "receiver got %08llx",
		                 r->p.crc, (unsigned long long)res.crc32);
	if (r->c->manifest && (r->verify_failed || !r->c->verified)) {
		if (!r->verify_failed)
			splq_fail(&r->verify_err, SPLQ_E_VERIFY,
			          "verify: the receiver could not be told that the hashes agree");
		*err = r->verify_err;
		return -1;
	}
	return 0;
}

int splq_filecopy_relay(const struct splq_filecopy_io *io, struct splq_filecopy *c,
                        struct splq_error *err)
{
	struct relay r = {.fd = {io->from_sender, io->to_receiver, io->from_receiver, io->to_sender,
	                         io->err[0], io->err[1]},
	                  .err_out = io->err_out,
	                  .c = c};
	struct splq_sigpipe hold;
	long long start = splq_now_ms(), last = start, quiet_since = 0;

	splq_sigpipe_hold(&hold);
	c->sent = c->received = (struct splq_qfile_hashes){0};
	c->bytes = c->entries = 0;
	c->verified = false;
	/* the host reads the stream leniently: the receiver decides names */
	splq_qfile_parser_init(&r.p, SPLQ_QFILE_ALLOW_ALL_NAMES | SPLQ_QFILE_ALLOW_UNSAFE_SYMLINKS);
	r.md = EVP_MD_CTX_new();
	if (!r.md)
		abort();
	r.sbuf = splq_xmalloc(STREAM_BUF);
	r.mbuf = splq_xmalloc(MANIFEST_BUF);
	fcntl(r.fd[TR], F_SETFL, O_NONBLOCK);
	fcntl(r.fd[TS], F_SETFL, O_NONBLOCK);
	fcntl(r.fd[TR], F_SETPIPE_SZ, STREAM_BUF);
	for (;;) {
		struct pollfd pf[NFD];
		bool open = copy_open(&r);
		if (!open && !quiet_since)
			quiet_since = splq_now_ms();
		if (!open && (r.fd[E0] < 0 && r.fd[E1] < 0))
			break;
		if (!open && splq_now_ms() - quiet_since > ERR_GRACE_MS)
			break;
		for (int i = 0; i < NFD; i++)
			pf[i] = (struct pollfd){.fd = -1};
		if (r.soff == r.slen && r.fd[FS] >= 0)
			pf[FS] = (struct pollfd){.fd = r.fd[FS], .events = POLLIN};
		if (r.soff < r.slen && r.fd[TR] >= 0)
			pf[TR] = (struct pollfd){.fd = r.fd[TR], .events = POLLOUT};
		if (r.fd[FR] >= 0)
			pf[FR] = (struct pollfd){.fd = r.fd[FR], .events = POLLIN};
		if (r.rdone && r.rsent < r.rlen && r.fd[TS] >= 0)
			pf[TS] = (struct pollfd){.fd = r.fd[TS], .events = POLLOUT};
		for (int i = E0; i <= E1; i++)
			if (r.fd[i] >= 0)
				pf[i] = (struct pollfd){.fd = r.fd[i], .events = POLLIN};
		/* a result without bytes (the receiver said nothing) ends the
		 * sender's wait too */
		if (r.rdone && r.rsent == r.rlen)
			end_fd(&r, TS);
		int n = poll(pf, NFD, open ? 250 : ERR_GRACE_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			if (pf[FS].revents)
				read_stream(&r);
			if (pf[TR].revents && r.fd[TR] >= 0)
				write_stream(&r);
			if (pf[FR].revents && r.fd[FR] >= 0)
				read_back(&r);
			if (pf[TS].revents && r.fd[TS] >= 0)
				write_back(&r);
			for (int i = E0; i <= E1; i++)
				if (pf[i].revents && r.fd[i] >= 0)
					read_err(&r, i);
		}
		if (splq_now_ms() - last >= 250) {
			last = splq_now_ms();
			report(&r, start, false);
		}
	}
	for (int i = 0; i < NFD; i++)
		end_fd(&r, i);
	report(&r, start, true);
	tell_ends(&r);
	int rc = outcome(&r, err);
	splq_sigpipe_release(&hold);
	EVP_MD_CTX_free(r.md);
	splq_qfile_parser_free(&r.p);
	free(r.file);
	free(r.sbuf);
	free(r.mbuf);
	return rc;
}

void splq_filecopy_free(struct splq_filecopy *c)
{
	splq_qfile_hashes_free(&c->sent);
	splq_qfile_hashes_free(&c->received);
}
