/* splq: a walk over a directory tree and a map of hard links (see walk.h). */
#include "walk.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define WALK_BUF 32768

struct dent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

void splq_node_of(struct splq_node *n, const struct stat *st)
{
	*n = (struct splq_node){.dev = st->st_dev,
	                        .ino = st->st_ino,
	                        .mode = st->st_mode,
	                        .uid = st->st_uid,
	                        .gid = st->st_gid,
	                        .atim = st->st_atim,
	                        .mtim = st->st_mtim};
}

bool splq_same_inode(const struct stat *st, const struct splq_node *n)
{
	return st->st_dev == n->dev && st->st_ino == n->ino &&
	       (st->st_mode & S_IFMT) == (n->mode & S_IFMT);
}

void splq_walk_init(struct splq_walk *w, const char *top)
{
	*w = (struct splq_walk){.top = top, .fd = -1};
	w->buf = splq_xmalloc(WALK_BUF);
	w->cap = 16;
	w->lv = splq_xcalloc(w->cap, sizeof(*w->lv));
}

void splq_walk_free(struct splq_walk *w)
{
	for (size_t i = 0; i < w->cap; i++)
		free(w->lv[i].name);
	free(w->lv);
	free(w->buf);
	if (w->fd >= 0)
		close(w->fd);
	*w = (struct splq_walk){.fd = -1};
}

char *splq_walk_path(const struct splq_walk *w, const char *top, const char *name)
{
	size_t len = strlen(top) + (name ? strlen(name) + 1 : 0) + 1, at;
	char *p;

	for (size_t i = 1; i < w->depth; i++)
		len += strlen(w->lv[i].name) + 1;
	p = splq_xmalloc(len);
	at = (size_t)sprintf(p, "%s", top);
	for (size_t i = 1; i < w->depth; i++)
		at += (size_t)sprintf(p + at, "/%s", w->lv[i].name);
	if (name)
		sprintf(p + at, "/%s", name);
	if (len > 240) {
		char *s = splq_strdup_printf("%.100s/.../%s", p, p + len - 1 - 120);

		free(p);
		p = s;
	}
	return p;
}

void splq_walk_start(struct splq_walk *w, int fd, const struct stat *st)
{
	free(w->lv[0].name);
	w->lv[0] = (struct splq_level){0};
	splq_node_of(&w->lv[0].node, st);
	w->depth = 1;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = fd;
	w->len = w->pos = 0;
	w->next_off = 0;
}

int splq_walk_enter(struct splq_walk *w, const char *name, const struct stat *st,
                    struct splq_error *err)
{
	cleanup_close int fd = openat(w->fd, name, SPLQ_DIR_FLAGS);
	struct splq_level *l;
	struct stat now;
	char *n;

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP || errno == ENOENT)
			return 1;
		int e = errno;
		cleanup_free char *p = splq_walk_path(w, w->top, name);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "cannot open directory '%s'", p);
	}
	if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    !S_ISDIR(now.st_mode))
		return 1;
	if (w->depth == w->cap) {
		w->lv = realloc(w->lv, 2 * w->cap * sizeof(*w->lv));
		if (!w->lv)
			abort();
		memset(w->lv + w->cap, 0, w->cap * sizeof(*w->lv));
		w->cap *= 2;
	}
	w->lv[w->depth - 1].off = w->next_off;
	l = &w->lv[w->depth++];
	n = splq_xstrdup(name); /* name may be l->name: a directory read again */
	free(l->name);
	*l = (struct splq_level){.name = n};
	splq_node_of(&l->node, &now);
	close(w->fd);
	w->fd = splq_steal_fd(&fd);
	w->len = w->pos = 0;
	w->next_off = 0;
	return 0;
}

/* Done with the current directory: back to its parent (none after the
 * top: w->fd is then -1). */
static int walk_up(struct splq_walk *w, struct splq_walk_ev *ev, struct splq_error *err)
{
	struct splq_level *parent;
	struct stat st;
	int pfd;

	ev->left = &w->lv[--w->depth];
	if (w->depth == 0) {
		close(w->fd);
		w->fd = -1;
		return SPLQ_WALK_LEAVE;
	}
	parent = &w->lv[w->depth - 1];
	pfd = openat(w->fd, "..", SPLQ_DIR_FLAGS);
	if (pfd < 0 || fstat(pfd, &st) < 0 || !splq_same_inode(&st, &parent->node)) {
		cleanup_free char *p = splq_walk_path(w, w->top, NULL);

		if (pfd >= 0)
			close(pfd);
		return splq_fail(err, SPLQ_E_STATE,
		                 "cannot walk '%s': a directory in it was moved meanwhile", p);
	}
	close(w->fd);
	w->fd = pfd;
	w->len = w->pos = 0;
	w->next_off = parent->off;
	if (lseek(pfd, parent->off, SEEK_SET) < 0) {
		int e = errno;
		cleanup_free char *p = splq_walk_path(w, w->top, NULL);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "cannot read directory '%s'", p);
	}
	return SPLQ_WALK_LEAVE;
}

int splq_walk_next(struct splq_walk *w, struct splq_walk_ev *ev, struct splq_error *err)
{
	for (;;) {
		if (w->pos < w->len) {
			struct dent64 *d = (struct dent64 *)(w->buf + w->pos);
			const char *n = d->d_name;

			w->pos += d->d_reclen;
			w->next_off = d->d_off;
			if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
				continue;
			ev->name = n;
			ev->stat_errno = 0;
			if (fstatat(w->fd, n, &ev->st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue; /* gone since it was listed */
				ev->stat_errno = errno;
			}
			return SPLQ_WALK_ENTRY;
		}
		long n = syscall(SYS_getdents64, w->fd, w->buf, WALK_BUF);
		if (n < 0) {
			int e = errno;
			cleanup_free char *p = splq_walk_path(w, w->top, NULL);
			return splq_fail_errno(err, SPLQ_E_INTERNAL, e,
			                       "cannot read directory '%s'", p);
		}
		if (n == 0)
			return walk_up(w, ev, err);
		w->len = (size_t)n;
		w->pos = 0;
	}
}

int splq_walk_owner(const struct splq_node *n, long shift, const struct splq_walk *w,
                    const char *top, const char *name, uid_t *uid, gid_t *gid,
                    struct splq_error *err)
{
	long long u = (long long)n->uid + shift, g = (long long)n->gid + shift;

	if (u >= 0 && u < UINT32_MAX && g >= 0 && g < UINT32_MAX) {
		*uid = (uid_t)u;
		*gid = (gid_t)g;
		return 0;
	}
	cleanup_free char *p = splq_walk_path(w, top, name);
	return splq_fail(err, SPLQ_E_VALUE,
	                 "cannot shift the owner %ld:%ld of '%s' by %ld: out of range",
	                 (long)n->uid, (long)n->gid, p, shift);
}

/* ---- hard links ---- */

static size_t link_hash(dev_t dev, ino_t ino)
{
	uint64_t h =
	    ((uint64_t)ino ^ ((uint64_t)dev << 32 | (uint64_t)dev >> 32)) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ (h >> 29));
}

struct splq_link *splq_links_find(struct splq_links *m, dev_t dev, ino_t ino)
{
	if (!m->cap)
		return NULL;
	for (size_t i = link_hash(dev, ino) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->v[i].left)
			return NULL;
		if (m->v[i].dev == dev && m->v[i].ino == ino)
			return &m->v[i];
	}
}

static void links_put(struct splq_links *m, struct splq_link l)
{
	size_t i = link_hash(l.dev, l.ino) & (m->cap - 1);

	while (m->v[i].left)
		i = (i + 1) & (m->cap - 1);
	m->v[i] = l;
	m->n++;
}

bool splq_links_add(struct splq_links *m, dev_t dev, ino_t ino, nlink_t left, unsigned id)
{
	if (m->n >= SPLQ_LINKS_MAX || left == 0)
		return false;
	if (2 * (m->n + 1) > m->cap) {
		struct splq_links old = *m;

		m->cap = old.cap ? 2 * old.cap : 64;
		m->v = splq_xcalloc(m->cap, sizeof(*m->v));
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i].left)
				links_put(m, old.v[i]);
		free(old.v);
	}
	links_put(m, (struct splq_link){.dev = dev, .ino = ino, .left = left, .id = id});
	return true;
}

void splq_links_drop(struct splq_links *m, struct splq_link *l)
{
	size_t i = (size_t)(l - m->v), mask = m->cap - 1;

	m->v[i].left = 0;
	m->n--;
	/* Linear probing: move back the later slots of the run that may no
	 * longer be found past the hole. */
	for (size_t j = (i + 1) & mask; m->v[j].left; j = (j + 1) & mask) {
		size_t home = link_hash(m->v[j].dev, m->v[j].ino) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			m->v[j].left = 0;
			i = j;
		}
	}
}

void splq_links_free(struct splq_links *m)
{
	free(m->v);
	*m = (struct splq_links){0};
}
