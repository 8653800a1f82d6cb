/* splq: small helpers shared by all of libsplq: cleanup attributes, files,
 * directories, paths.  Nothing here prints. */
#ifndef SPLQ_UTIL_H
#define SPLQ_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

static inline void splq_freep(void *p) { free(*(void **)p); }
static inline void splq_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void splq_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void splq_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define cleanup_free __attribute__((cleanup(splq_freep)))
#define cleanup_close __attribute__((cleanup(splq_closep)))
#define cleanup_fclose __attribute__((cleanup(splq_fclosep)))
#define cleanup_dir __attribute__((cleanup(splq_closedirp)))

/* Hand an owned value out of a cleanup variable. */
#define splq_steal(p)                                                                              \
	({                                                                                         \
		__typeof__(p) _tmp = (p);                                                          \
		(p) = (__typeof__(p))0;                                                            \
		_tmp;                                                                              \
	})
static inline int splq_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* Close *fd if it is open, and forget it. */
static inline void splq_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* asprintf that aborts on out-of-memory (the only allocation failure
 * policy in splq: there is nothing sensible to do after it). */
char *splq_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append printf text to the malloc'ed string *s of length *len (both
 * kept up to date; *s NULL and *len 0 start one); aborts as the above. */
void splq_str_appendf(char **s, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *splq_xmalloc(size_t n);
void *splq_xcalloc(size_t n, size_t size);
char *splq_xstrdup(const char *s);

/* mkdir -p with mode for the directories it makes. */
int splq_mkdir_p(const char *path, mode_t mode, struct splq_error *err);
/* Split path into an open fd of its parent directory (*pfd) and its last
 * component (*base, pointing into *copy, malloc'ed).  -2 when the parent
 * does not exist; "", "." and ".." are refused. */
int splq_open_parent(const char *path, char **copy, const char **base, int *pfd,
                     struct splq_error *err);

/* Write a whole file atomically (temporary file, fsync, rename). */
int splq_write_file(const char *path, const void *data, size_t len, mode_t mode,
		    struct splq_error *err);
/* All len bytes to fd (a short write is retried); 0, or -1 and errno. */
int splq_write_all(int fd, const void *data, size_t len);
/* Exactly len bytes from fd (a short read is retried); 0, or -1 with
 * errno (0 when fd ended first). */
int splq_read_all(int fd, void *buf, size_t len);
/* Read a whole file; *out is NUL-terminated, *len (if not NULL) its length. */
int splq_read_file(const char *path, char **out, size_t *len, struct splq_error *err);
/* The same for the whole of fd (a file one can seek in), from its start;
 * what names it in the error ("the log back"). */
int splq_read_fd(int fd, char **out, size_t *len, struct splq_error *err, const char *what);
/* Write a short string into an existing file (for /proc and cgroup files). */
int splq_write_string(const char *path, const char *s, struct splq_error *err);

bool splq_path_exists(const char *path);

/* size bytes of in to the same offsets of out, holes kept: a clone of its
 * extents where the file system can, else its data extents (SEEK_DATA,
 * SEEK_HOLE) by copy_file_range, or by read and write where that cannot.
 * out is size long afterwards.  0; 1 when in turned out shorter; -errno. */
int splq_copy_data(int in, int out, off_t size);

/* One message of len bytes on sock with nfds descriptors (SCM_RIGHTS, at
 * most SPLQ_SEND_FDS_MAX); never SIGPIPE.  sendmsg's result. */
#define SPLQ_SEND_FDS_MAX 4
ssize_t splq_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds, int flags);
/* One message of at most len bytes from sock, with the descriptors that
 * came with it (close-on-exec) in fds[0..*nfds); any beyond max are
 * closed, and a message cut short (MSG_TRUNC, MSG_CTRUNC) fails with
 * EMSGSIZE, its descriptors closed.  recvmsg's result. */
ssize_t splq_recv_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds, int flags);

/* Three pipes, close-on-exec, for a command's stdin, stdout and stderr:
 * its ends (stdin's read end, the others' write ends) in theirs, the
 * other ends in mine.  0, or -1 with errno and none left open. */
int splq_stdio_pipes(int mine[3], int theirs[3]);

/* qvm-run's and qrexec-client-vm's output filter, in place: every byte
 * that is not printable ASCII (0x20-0x7e), tab, newline, carriage
 * return, backspace or bell becomes '_'. */
void splq_filter_escapes(char *buf, size_t len);

/* A wait status as an exit code, as shells give it: 128+N for signal N. */
int splq_exit_code(int status);

/* Milliseconds on the monotonic clock. */
long long splq_now_ms(void);

/* FNV-1a (64 bits) of n bytes, going on from h (SPLQ_FNV1A_INIT to
 * begin): a fingerprint, not a cryptographic hash. */
#define SPLQ_FNV1A_INIT 0xcbf29ce484222325ULL
unsigned long long splq_fnv1a(unsigned long long h, const void *data, size_t n);
/* Unix time in milliseconds (the wall clock). */
long long splq_wall_ms(void);
/* SIGPIPE held off while writing into pipes whose reader may be gone, so
 * that a write fails with EPIPE instead; release drops one that came
 * meanwhile (not one that was pending before). */
struct splq_sigpipe {
	sigset_t old;
	bool was_pending;
};
void splq_sigpipe_hold(struct splq_sigpipe *h);
void splq_sigpipe_release(struct splq_sigpipe *h);

#endif
