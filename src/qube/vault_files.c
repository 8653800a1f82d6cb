/* splq-qube: the vault's files, as its agent reads and writes them (see
 * vault_files.h). */
#include "vault_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/minisign.h"
#include "util.h"
#include "vault.h"

#define SCRYPT_R 8
#define SCRYPT_P 1

int splq_vfile_data_dir(struct splq_error *err)
{
	int fd = open(SPLQ_VAULT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return splq_fail(err, SPLQ_E_STATE, "this qube is not a vault (splq vault init)");
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open %s",
		                       SPLQ_VAULT_DIR);
	return fd;
}

/* The generation in use: current's directory. */
int splq_vfile_gen_dir(int data, struct splq_error *err)
{
	int fd = openat(data, "current", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_CORRUPT, errno,
		                       "the vault has no current "
		                       "generation");
	return fd;
}

int splq_vfile_read_at(int dir, const char *name, size_t max, uint8_t **buf, size_t *len,
                       struct splq_error *err)
{
	cleanup_close int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	*buf = NULL;
	if (fd < 0)
		return splq_fail_errno(err, errno == ENOENT ? SPLQ_E_INTEGRITY : SPLQ_E_INTERNAL,
		                       errno, "cannot open the vault's '%s'", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max)
		return splq_fail(err, SPLQ_E_INTEGRITY,
		                 "the vault's '%s' is not a file of its size", name);
	uint8_t *b = splq_xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(b);
			return splq_fail_errno(err, SPLQ_E_NOSPACE, n < 0 ? errno : EIO,
			                       "cannot read the vault's '%s'", name);
		}
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* name in dir, whole or not at all: a temporary file, fsync'ed, renamed
 * over it, and the directory fsync'ed. */
int splq_vfile_write_at(int dir, const char *name, const void *buf, size_t len,
                        struct splq_error *err)
{
	char tmp[128];

	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	unlinkat(dir, tmp, 0);
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot write the vault's '%s'",
		                       name);
	int e = splq_write_all(fd, buf, len) < 0 || fsync(fd) < 0 ? errno : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && renameat(dir, tmp, dir, name) < 0)
		e = errno;
	if (e) {
		unlinkat(dir, tmp, 0);
		return splq_fail_errno(err, SPLQ_E_NOSPACE, e, "cannot write the vault's '%s'",
		                       name);
	}
	if (fsync(dir) < 0)
		return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "cannot write the vault's '%s'",
		                       name);
	return 0;
}

void splq_vfile_record_path(const uint8_t id[SPLQ_VAULT_ID], char out[32])
{
	memcpy(out, "r/", 2);
	for (int i = 0; i < SPLQ_VAULT_ID; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", id[i]);
}

/* ---------- the master key and the index ---------- */

/* HOW: "scrypt:LOG2N" or "keyfile", into m's KDF fields. */
int splq_vfile_parse_how(const uint8_t *how, size_t len, struct splq_vault_master *m,
                         struct splq_error *err)
{
	char s[32];

	if (len >= sizeof(s))
		return splq_fail(err, SPLQ_E_VALUE, "unknown way to seal the master key");
	memcpy(s, how, len);
	s[len] = 0;
	if (strcmp(s, "keyfile") == 0) {
		m->kdf = SPLQ_VAULT_KEYFILE;
		m->log2n = m->r = m->p = 0;
		return 0;
	}
	char *end;
	unsigned long n = strncmp(s, "scrypt:", 7) == 0 ? strtoul(s + 7, &end, 10) : 0;
	if (n < 10 || n > 22 || *end)
		return splq_fail(
		    err, SPLQ_E_VALUE,
		    "'%s': the master key is sealed by scrypt:LOG2N (10..22) or keyfile", s);
	m->kdf = SPLQ_VAULT_SCRYPT;
	m->log2n = (unsigned)n;
	m->r = SCRYPT_R;
	m->p = SCRYPT_P;
	return 0;
}

/* The master file of gen directory g sealed under secret: a new salt, kek
 * made, mk sealed, the file written. */
int splq_vfile_master_write(int g, struct splq_vault_master *m, const uint8_t *secret, size_t len,
                            const uint8_t mk[SPLQ_AES_KEY], struct splq_error *err)
{
	uint8_t kek[SPLQ_AES_KEY], file[SPLQ_VAULT_MASTER_SIZE];
	int rc = -1;

	if (splq_random(m->salt, sizeof(m->salt)) < 0) {
		splq_fail(err, SPLQ_E_INTERNAL, "no random bytes");
	} else if (splq_vault_kek(m, secret, len, kek, err) == 0 &&
	           splq_vault_master_seal(m, kek, mk, file, err) == 0) {
		rc = splq_vfile_write_at(g, "master", file, sizeof(file), err);
	}
	splq_wipe(kek, sizeof(kek));
	return rc;
}

/* The master key of gen directory g, opened with secret. */
int splq_vfile_master_open(int g, const uint8_t *secret, size_t len, struct splq_vault_master *m,
                           uint8_t mk[SPLQ_AES_KEY], struct splq_error *err)
{
	cleanup_free uint8_t *buf = NULL;
	uint8_t kek[SPLQ_AES_KEY];
	size_t blen;

	if (splq_vfile_read_at(g, "master", SPLQ_VAULT_MASTER_SIZE, &buf, &blen, err) < 0 ||
	    splq_vault_master_parse(buf, blen, m, err) < 0)
		return -1;
	/* a passphrase where a key file seals it is just as wrong */
	if (m->kdf == SPLQ_VAULT_KEYFILE && len < SPLQ_VAULT_KEYFILE_MIN)
		return splq_fail(err, SPLQ_E_BADSECRET, "wrong key file");
	if (splq_vault_kek(m, secret, len, kek, err) < 0)
		return -1;
	int rc = splq_vault_master_open(m, kek, mk, err);
	splq_wipe(kek, sizeof(kek));
	return rc;
}

int splq_vfile_index_load(int g, const uint8_t *mk, uint32_t gen, struct splq_vfile_index *ix,
                          struct splq_error *err)
{
	cleanup_free uint8_t *buf = NULL;
	size_t len;

	memset(ix, 0, sizeof(*ix));
	if (splq_vfile_read_at(g, "index", 1u << 26, &buf, &len, err) < 0)
		return -1;
	return splq_vault_index_open(mk, gen, buf, len, &ix->e, &ix->n, &ix->serial, err);
}

int splq_vfile_index_save(int g, const uint8_t *mk, uint32_t gen, struct splq_vfile_index *ix,
                          struct splq_error *err)
{
	cleanup_free uint8_t *buf = NULL;
	size_t len;

	if (splq_vault_index_seal(mk, gen, ix->serial + 1, ix->e, ix->n, &buf, &len, err) < 0)
		return -1;
	ix->serial++;
	return splq_vfile_write_at(g, "index", buf, len, err);
}

struct splq_vault_entry *splq_vfile_index_find(struct splq_vfile_index *ix, const char *name)
{
	for (size_t i = 0; i < ix->n; i++)
		if (strcmp(ix->e[i].name, name) == 0)
			return &ix->e[i];
	return NULL;
}

/* The value of e, read and opened. */
int splq_vfile_record_read(int g, const uint8_t *mk, uint32_t gen, const struct splq_vault_entry *e,
                           uint8_t **value, size_t *n, struct splq_error *err)
{
	cleanup_free uint8_t *buf = NULL;
	char path[32];
	size_t len;

	splq_vfile_record_path(e->id, path);
	if (splq_vfile_read_at(g, path, SPLQ_VAULT_SECRET_MAX + 4096, &buf, &len, err) < 0)
		return -1;
	return splq_vault_record_open(mk, gen, e, buf, len, value, n, err);
}

/* e (a fresh id) with value, written as a record of gen directory g. */
int splq_vfile_record_write(int g, const uint8_t *mk, uint32_t gen, struct splq_vault_entry *e,
                            const void *value, size_t n, struct splq_error *err)
{
	cleanup_free uint8_t *buf = NULL;
	char path[32];
	size_t len;

	if (splq_random(e->id, sizeof(e->id)) < 0)
		return splq_fail(err, SPLQ_E_INTERNAL, "no random bytes");
	e->size = n;
	splq_vfile_record_path(e->id, path);
	if (splq_vault_record_seal(mk, gen, e, value, n, &buf, &len, err) < 0)
		return -1;
	cleanup_close int r = openat(g, "r", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r < 0)
		return splq_fail_errno(err, SPLQ_E_CORRUPT, errno,
		                       "the vault has no records folder");
	return splq_vfile_write_at(r, path + 2, buf, len, err);
}

int splq_vfile_pub_dir(struct splq_error *err)
{
	cleanup_close int d = splq_vfile_data_dir(err);
	if (d < 0)
		return -1;
	int p = openat(d, "pub", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p < 0)
		return splq_fail_errno(err, SPLQ_E_CORRUPT, errno, "the vault has no 'pub' folder");
	return p;
}
