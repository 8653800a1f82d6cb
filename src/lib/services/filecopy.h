/* splq: the host's part of a file copy (qubes.Filecopy) that splq itself
 * makes, `splq copy` and `splq move`: the stream passes through the host
 * between a sender (qfile-agent in the source qube, or the host's own) and
 * a receiver (the qubes.Filecopy service in the target, or the host's
 * own), and the receiver's result goes back the other way.
 *
 * Both ends are hostile to the host.  The host reads the stream with the
 * receiver's parser (formats/qfile.h), forwards exactly the bytes up to
 * its end marker and nothing after them, and hashes every file as it
 * passes: that is the source's SHA-256, computed while it is sent.  With
 * manifest, the receiver, which splq started with SPLQ_QFILE_MANIFEST=1,
 * sends the SHA-256 of what it wrote after its result (formats/qfile.h's
 * manifest); the host compares the two lists name by name and answers 'y'
 * only when every name, size and hash agrees, and the receiver keeps the
 * files only then.  Nothing here starts or waits for a process. */
#ifndef SPLQ_SERVICES_FILECOPY_H
#define SPLQ_SERVICES_FILECOPY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "formats/qfile.h"

/* The descriptors of a copy, each taken (closed by the relay). */
struct splq_filecopy_io {
	int from_sender;   /* the stream */
	int to_receiver;   /* the stream, then the answer */
	int from_receiver; /* its result, then its manifest */
	int to_sender;     /* the result */
	int err[2];        /* the ends' stderr (-1: none) */
	int err_out;       /* where their lines go, escapes filtered (-1: dropped; not taken) */
};

struct splq_filecopy_stats {
	uint64_t bytes; /* of file data so far */
	uint64_t files;
	long long elapsed_ms;
	bool done; /* the last call */
};

struct splq_filecopy {
	bool manifest; /* a verified copy */
	/* called every quarter of a second while it runs, and at the end */
	void (*progress)(void *arg, const struct splq_filecopy_stats *s);
	void *progress_arg;
	/* out */
	struct splq_qfile_hashes sent;     /* every regular file, in stream order */
	struct splq_qfile_hashes received; /* the receiver's manifest */
	uint64_t bytes, entries;
	bool verified; /* the two lists agreed and the receiver was told */
};

/* Relay one copy to its end.  0 when the stream reached its end marker,
 * the receiver's result said it took every byte (code 0, the CRC of what
 * was forwarded) and, with manifest, its hashes agreed.  Otherwise -1:
 * SPLQ_E_TRANSFER (the stream was cut or refused), SPLQ_E_EXISTS,
 * SPLQ_E_NOSPACE (the receiver's own error), SPLQ_E_VERIFY (a hash
 * differs, or the receiver's list is missing or malformed: the receiver
 * removes the copy).  c keeps what was learned. */
int splq_filecopy_relay(const struct splq_filecopy_io *io, struct splq_filecopy *c,
                        struct splq_error *err);
void splq_filecopy_free(struct splq_filecopy *c);

#endif
