/* splq: the qfile stream (qubes.Filecopy, what qvm-copy sends), byte for
 * byte as Qubes OS' qfile-agent writes it and its qfile-unpacker reads it.
 *
 * The stream, sender to receiver; every integer in host byte order:
 *
 *   per entry     struct file_header (32 bytes):
 *                   u32 namelen     bytes of the name, its final NUL included
 *                   u32 mode        st_mode: file type and permissions
 *                   u64 filelen     bytes after the name
 *                   u32 atime, atime_nsec, mtime, mtime_nsec
 *                 the name: a relative path, NUL-terminated
 *                 a regular file: filelen bytes of data
 *                 a symlink: its target, filelen bytes, no NUL
 *                 a directory: nothing (filelen 0)
 *   at the end    a header whose namelen is 0 (the sender sends all zeros)
 *
 * Entries come as a depth-first walk: a directory's header, then its
 * entries (named "dir/entry"), then the directory's header once more; the
 * receiver makes it 0700 at the first and gives it its mode and times at
 * the second, so that a read-only directory can be filled.  The top-level
 * entries are the basenames of what the sender was given.
 *
 * Receiver to sender, once, at the end or at the first error:
 *
 *   struct result_header (16 bytes): u32 error_code (an errno value, 0 on
 *   success), u32 pad (0), u64 crc32: the CRC-32 (zlib's) of every stream
 *   byte the receiver read, the end marker included;
 *   then struct result_header_ext: u32 last_namelen, the last name read
 *   (no NUL).  Qubes leaves the extension out only when a name was too
 *   long to be read at all.
 *
 * The sender compares the CRC with its own.  Besides errno values Qubes
 * uses SPLQ_QFILE_LEGAL_EOF for "the stream ended inside an entry".
 *
 * What a receiver refuses (qfile-unpacker's defaults, splq's parser does
 * the same): namelen above SPLQ_QFILE_MAX_NAMELEN (ENAMETOOLONG); a name
 * that is empty, absolute, has an empty, "." or ".." component or a
 * trailing '/', or a byte outside 0x20..0x7e that does not start a UTF-8
 * character of Qubes' display allowlist (EILSEQ); a symlink at the top
 * level, or one whose target is absolute or climbs (by leading ".."
 * components) out of the top-level directory it is in (ENOLINK; "." and
 * repeated '/' are allowed in targets); a target longer than
 * SPLQ_QFILE_MAX_NAMELEN (ENAMETOOLONG); nanoseconds above 999999999; an
 * entry that is not a regular file, directory or symlink (EINVAL).
 * splq also refuses what qfile-agent never sends (EINVAL): a name without
 * its final NUL or with a NUL inside, a directory with data, an entry that
 * is not inside the directory the walk is in, and an end marker while a
 * directory is still open.  Nothing here does I/O. */
#ifndef SPLQ_FORMATS_QFILE_H
#define SPLQ_FORMATS_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define SPLQ_QFILE_HDR_SIZE    32
#define SPLQ_QFILE_RESULT_SIZE 16
/* Qubes' MAX_PATH_LENGTH is 16384; its receiver takes namelen (NUL
 * included) and symlink targets up to one less. */
#define SPLQ_QFILE_MAX_PATH    16384
#define SPLQ_QFILE_MAX_NAMELEN (SPLQ_QFILE_MAX_PATH - 1)
/* The most a result (header, extension, name) takes. */
#define SPLQ_QFILE_RESULT_MAX (SPLQ_QFILE_RESULT_SIZE + 4 + SPLQ_QFILE_MAX_PATH)
/* Qubes' error code for a stream cut inside an entry. */
#define SPLQ_QFILE_LEGAL_EOF 31415926
#define SPLQ_QFILE_MAX_NSEC  999999999u

struct splq_qfile_hdr {
	uint32_t namelen;
	uint32_t mode;
	uint64_t filelen;
	uint32_t atime, atime_nsec, mtime, mtime_nsec;
};

struct splq_qfile_result {
	uint32_t error_code;
	uint64_t crc32;
	bool has_ext;
	uint32_t last_namelen;
	const char *last_name; /* into the decoded buffer, not NUL-terminated */
};

void splq_qfile_hdr_encode(const struct splq_qfile_hdr *h, uint8_t out[SPLQ_QFILE_HDR_SIZE]);
void splq_qfile_hdr_decode(const uint8_t in[SPLQ_QFILE_HDR_SIZE], struct splq_qfile_hdr *h);
/* The result into out (SPLQ_QFILE_RESULT_MAX bytes); its length.  No
 * extension when last_name is NULL; a name is cut at SPLQ_QFILE_MAX_PATH. */
size_t splq_qfile_result_encode(uint32_t code, uint32_t crc, const char *last_name, uint8_t *out);
/* The result in buf: 0 when all of it is there, the bytes still missing
 * (> 0) when len is too short; a last_namelen over SPLQ_QFILE_MAX_PATH is
 * refused (-1). */
long splq_qfile_result_decode(const uint8_t *buf, size_t len, struct splq_qfile_result *r,
                              struct splq_error *err);

/* CRC-32 as zlib's crc32(): 0 to begin, the result of the last call to go
 * on. */
uint32_t splq_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- names (qfile_names.c) ---- */

/* The receiver's options, Qubes' qfile-unpacker flags. */
enum {
	SPLQ_QFILE_ALLOW_ALL_NAMES = 1 << 0,       /* --allow-all-names: any byte but NUL */
	SPLQ_QFILE_ALLOW_UNSAFE_SYMLINKS = 1 << 1, /* --allow-unsafe-symlinks */
	SPLQ_QFILE_CANONICAL_SYMLINKS = 1 << 2,    /* refuse "." and "//" in targets */
	SPLQ_QFILE_SYNC = 1 << 3,                  /* receiver: syncfs before the result */
};

/* Is the code point in Qubes' allowlist of characters safe to display? */
bool splq_qfile_code_point_ok(uint32_t cp);
/* 0, or -errno (EILSEQ) with err naming what is wrong with name. */
int splq_qfile_check_name(const char *name, unsigned flags, struct splq_error *err);
/* 0, or -errno (EILSEQ for the name, ENOLINK or EILSEQ for the target). */
int splq_qfile_check_symlink(const char *name, const char *target, unsigned flags,
                             struct splq_error *err);
/* s quoted for a message: non-printable bytes as \xNN, a long one cut in
 * the middle.  out holds at least 160 bytes. */
const char *splq_qfile_quote(const char *s, char *out, size_t outsz);

/* ---- the streaming parser ---- */

enum splq_qfile_ev_kind {
	SPLQ_QFILE_FILE = 1, /* a regular file begins: hdr, name */
	SPLQ_QFILE_DATA,     /* data of it: data, len (into the caller's buffer) */
	SPLQ_QFILE_FILE_END, /* all filelen bytes came */
	SPLQ_QFILE_DIR,      /* a directory, first time: hdr, name */
	SPLQ_QFILE_DIR_END,  /* the same directory after its entries: hdr (its mode, times) */
	SPLQ_QFILE_SYMLINK,  /* hdr, name, target */
	SPLQ_QFILE_END,      /* the end marker */
};

struct splq_qfile_ev {
	int kind;
	const struct splq_qfile_hdr *hdr;
	const char *name;   /* the full name, valid until the next call */
	const char *base;   /* its last component, within name */
	const char *target; /* SYMLINK */
	const uint8_t *data;
	size_t len;
	size_t depth; /* directories open around the entry */
};

enum {
	SPLQ_QFILE_ST_HDR,
	SPLQ_QFILE_ST_NAME,
	SPLQ_QFILE_ST_DATA,
	SPLQ_QFILE_ST_TARGET,
	SPLQ_QFILE_ST_FILE_END,
	SPLQ_QFILE_ST_DONE,
	SPLQ_QFILE_ST_FAILED
};

struct splq_qfile_parser {
	unsigned flags;
	int state;
	uint32_t crc;        /* of every byte consumed */
	int error_code;      /* for the result: errno or SPLQ_QFILE_LEGAL_EOF, 0 */
	bool name_read;      /* the result carries the last name */
	bool last_is_target; /* ... and it is the refused symlink's target */
	uint8_t hbuf[SPLQ_QFILE_HDR_SIZE];
	size_t have; /* bytes of the header, name or target so far */
	struct splq_qfile_hdr hdr;
	char *name;   /* the last name read, SPLQ_QFILE_MAX_PATH */
	char *target; /* SPLQ_QFILE_MAX_PATH */
	uint64_t left;
	char *dir;    /* the name of the directory the walk is in */
	size_t *dirs; /* per open directory, the length of its name */
	size_t depth, cap;
	uint64_t entries;
};

void splq_qfile_parser_init(struct splq_qfile_parser *p, unsigned flags);
void splq_qfile_parser_free(struct splq_qfile_parser *p);
/* Read from buf (len bytes) up to the next event: 1 and *ev, *used the
 * bytes taken (0 for events that need none); 0 when all len bytes were
 * taken and no event is complete; -1 (p->error_code, err) when the stream
 * is refused.  Bytes may come split anywhere.  After the end marker,
 * SPLQ_QFILE_END again, taking nothing. */
int splq_qfile_next(struct splq_qfile_parser *p, const void *buf, size_t len, size_t *used,
                    struct splq_qfile_ev *ev, struct splq_error *err);
/* The input ended: 0 after the end marker, else -1 (EREMOTEIO between
 * entries, SPLQ_QFILE_LEGAL_EOF inside one). */
int splq_qfile_parser_eof(struct splq_qfile_parser *p, struct splq_error *err);
/* The result a receiver sends for where p is: its error code, CRC and
 * last name, as Qubes' receiver gives them. */
size_t splq_qfile_parser_result(const struct splq_qfile_parser *p, uint8_t *out);
/* Fail p as the receiver (an I/O error on the current entry): the result
 * then carries code. */
int splq_qfile_parser_fail(struct splq_qfile_parser *p, int code);

/* ---- per-file SHA-256, both ends ---- */

struct splq_qfile_hash {
	char *name;
	uint64_t size;
	unsigned char sha256[32];
};

struct splq_qfile_hashes {
	struct splq_qfile_hash *v;
	size_t n, cap;
};

void splq_qfile_hashes_add(struct splq_qfile_hashes *h, const char *name, uint64_t size,
                           const unsigned char sha256[32]);
void splq_qfile_hashes_free(struct splq_qfile_hashes *h);

/* ---- the manifest: splq's, not Qubes' ----
 * The list of a receiver's files and their SHA-256, which a receiver that
 * splq's host started for a verified copy (splq copy --verify) sends after
 * its result; Qubes' senders never see one.  Per file, in stream order:
 * u32 namelen (no NUL), u64 size, the 32 bytes of its SHA-256, the name;
 * at the end a u32 0.  Host byte order, as the stream. */
#define SPLQ_QFILE_MANIFEST_REC 44
/* h as a manifest, malloc'ed; *len its bytes. */
uint8_t *splq_qfile_manifest_encode(const struct splq_qfile_hashes *h, size_t *len);
/* Take the whole records at the start of buf (len bytes) into out: 1 when
 * the end came (*used the bytes up to it), 0 when more are wanted (*used
 * the bytes of the records taken), -1 when it is malformed: a name that
 * is too long, has a NUL in it, or more than max records. */
int splq_qfile_manifest_next(const uint8_t *buf, size_t len, size_t max,
                             struct splq_qfile_hashes *out, size_t *used, struct splq_error *err);

/* ---- receiver (qfile_recv.c) ----
 * Writes a stream's entries beneath the directory open at dirfd, every
 * step relative to a directory descriptor: directories are made 0700 and
 * opened O_NOFOLLOW | O_DIRECTORY, then at their second header get their
 * mode (without set-id bits) and times; files are written into an unnamed
 * O_TMPFILE (or, where the file system has none, a hidden temporary name)
 * with holes where the data is zeros, get their mode and times, and only
 * then are linked under their name; symlinks are made after their target
 * passed the rules above.  A name that exists is refused (EEXIST), never
 * overwritten, directories included (Qubes merges into an existing one).
 * On any error nothing of the stream stays: the file being written is
 * gone and every top-level entry it made is removed. */

struct splq_qfile_dir_id {
	dev_t dev;
	ino_t ino;
};

struct splq_qfile_recv {
	struct splq_qfile_parser p;
	int root;     /* not owned */
	int cur;      /* the directory the walk is in: root, or owned */
	int out;      /* the file being written, -1 */
	char tmp[32]; /* its temporary name, "" for an O_TMPFILE */
	bool no_tmpfile;
	uint64_t off;
	void *md;                      /* EVP_MD_CTX of that file */
	struct splq_qfile_dir_id *ids; /* per open directory */
	size_t idcap;
	char **tops; /* top-level entries made, for removal on failure */
	size_t ntops, topcap;
	struct splq_qfile_hashes hashes; /* regular files, in stream order */
	uint64_t bytes;                  /* of file data */
	bool done;
};

void splq_qfile_recv_init(struct splq_qfile_recv *r, int dirfd, unsigned flags);
void splq_qfile_recv_free(struct splq_qfile_recv *r);
/* Take len bytes of stream: 1 when the end marker came (bytes after it are
 * left), 0 when more are wanted, -1 on failure (everything undone). */
int splq_qfile_recv_feed(struct splq_qfile_recv *r, const void *buf, size_t len,
                         struct splq_error *err);
/* The input ended before the end marker: -1, everything undone. */
int splq_qfile_recv_eof(struct splq_qfile_recv *r, struct splq_error *err);
/* Remove everything the stream made after all (a verified copy whose
 * hashes did not agree, or were not confirmed). */
void splq_qfile_recv_undo(struct splq_qfile_recv *r);
/* Read the stream from in, write the result to out (if >= 0); 0 or -1.
 * r (initialized here) keeps the hashes; the caller frees it. */
int splq_qfile_receive(int in, int out, int dirfd, unsigned flags, struct splq_qfile_recv *r,
                       struct splq_error *err);

/* The same, then the manifest of r's files after the result, and the
 * files stay only when the other end answers 'y' on in (its hashes
 * agreed): anything else, or the end of in, removes them (SPLQ_E_VERIFY). */
int splq_qfile_receive_confirmed(int in, int out, int dirfd, unsigned flags,
                                 struct splq_qfile_recv *r, struct splq_error *err);

/* ---- sender (qfile_send.c) ----
 * Sends each path as qfile-agent does: its basename at the top, the
 * directory holding it opened as given (the user's own path, so links in
 * it are followed), and below that nothing followed: entries read with
 * O_NOFOLLOW in directory order, a directory twice, a symlink as a link;
 * fifos, sockets and devices are left out (Qubes sends nothing for them).
 * A file is sent at the size it had when listed; one that shrank while it
 * was read is refused (SPLQ_E_STATE). */

enum { SPLQ_QFILE_IGNORE_SYMLINKS = 1 << 0 };

struct splq_qfile_send {
	uint32_t crc;
	uint64_t bytes; /* of file data */
	uint64_t entries;
	size_t skipped; /* fifos, sockets, devices */
	/* the receiver's result */
	uint32_t remote_code;
	uint64_t remote_crc;
	char *remote_last;
};

/* Write the stream of paths to out; then, if in >= 0, read the receiver's
 * result from it and check its code and CRC.  SIGPIPE is held off while
 * writing.  0 or -1; s keeps what was sent, the caller frees it. */
int splq_qfile_send(int out, int in, const char *const *paths, size_t npaths, unsigned flags,
                    struct splq_qfile_send *s, struct splq_error *err);
void splq_qfile_send_free(struct splq_qfile_send *s);
/* A receiver's result code (and the last name it read) as an error: 0
 * for success, else -1 with err saying what the receiver refused (an
 * existing name: SPLQ_E_EXISTS; a full disk: SPLQ_E_NOSPACE). */
int splq_qfile_result_check(uint32_t code, const char *last, struct splq_error *err);

#endif
