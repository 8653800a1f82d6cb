/* splq native: where cgroups are: the host's hierarchies, the directories
 * of a qube and of its supervisor in them, what a qube sees of them; and
 * reading and writing cgroup files.  Private to the cgroup code (the API is
 * cgroup.h; cgroup.c makes and removes the directories).
 *
 * The layout is found at run time from /proc/self/mountinfo:
 *   - v2: a cgroup2 mount whose cgroup.controllers offers "memory";
 *   - v1 (and hybrid): the v1 hierarchies of the memory, pids, cpu and
 *     cpuset controllers, the name=systemd one (where a systemd that does
 *     not use cgroup2 tracks its units), and a cgroup2 mount without
 *     controllers if the host has one (where a hybrid systemd tracks them);
 *     without one, the v1 freezer hierarchy (pause, cgroup.h).
 * The splq parent is $SPLQ_CGROUP (a relative path, default "splq"). */
#ifndef SPLQ_NATIVE_CGROUP_LAYOUT_H
#define SPLQ_NATIVE_CGROUP_LAYOUT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "../error.h"

#define CG_PARENT_MAX 200
#define CG_OPTS_MAX   128
#define CG_QUBE_MAX   64
#define CG_MAX_DIRS   6

enum cg_kind {
	CG_V2,      /* cgroup2 with controllers */
	CG_UNIFIED, /* cgroup2 without controllers, beside v1 (hybrid) */
	CG_V1_MEMORY,
	CG_V1_PIDS,
	CG_V1_CPU,
	CG_V1_CPUSET,
	CG_V1_SYSTEMD, /* name=systemd: only supervisors get a cgroup there */
	CG_V1_FREEZER, /* only where no cgroup2 tree offers cgroup.freeze */
	CG_KINDS,
};

struct cg_layout {
	bool v2;                /* memory is on a cgroup2 mount */
	char v2mount[PATH_MAX]; /* that mount, or a controller-less cgroup2 ("" = none) */
	char memory[PATH_MAX];  /* v1 mount points ("" = not mounted) */
	char pids[PATH_MAX];
	char cpu[PATH_MAX];
	char cpuset[PATH_MAX];
	char systemd[PATH_MAX];
	char freezer[PATH_MAX];
	char opts[CG_KINDS][CG_OPTS_MAX]; /* a v1 hierarchy's mount options (its
	                                   * controllers, a name=), by kind */
	char parent[CG_PARENT_MAX];       /* validated $SPLQ_CGROUP */
};

/* The layout, read once per process, with the current $SPLQ_CGROUP. */
int cg_load_layout(struct cg_layout *l, struct splq_error *err);

/* One cgroup directory: <mount>/<parent>/<leaf>. */
struct cg_dir {
	enum cg_kind kind;
	const char *mount; /* points into the layout */
	char path[PATH_MAX];
};
/* The qube's cgroup directories, in the order they are made: v2 one; v1
 * memory, pids, cpu, cpuset and the controller-less cgroup2 (or, without
 * one, the v1 freezer). */
int cg_qube_dirs(const struct cg_layout *l, const char *qube, struct cg_dir d[CG_MAX_DIRS], int *n,
                 struct splq_error *err);
/* The directories of the qube's supervisor, <qube>.sup: in the cgroup2
 * tree, and on v1 in memory, pids, cpu and name=systemd. */
int cg_sup_dirs(const struct cg_layout *l, const char *qube, struct cg_dir d[CG_MAX_DIRS], int *n,
                struct splq_error *err);
/* Is a cgroup of kind made only for some qubes (a cpu quota, CPUs of
 * their own)?  Then a missing one is no error. */
bool cg_optional_kind(enum cg_kind kind);
bool cg_is_dir(const char *path);
/* Number of '/'-separated components of the parent path. */
int cg_parent_depth(const char *parent);
/* mount/<first k components of parent> into out; -1 if too long. */
int cg_parent_prefix(char *out, size_t max, const char *mount, const char *parent, int k);

/* Write a short string into a cgroup file; -errno on failure. */
int cg_write(const char *path, const char *s);
/* Write fmt with v into dir/file; -errno on failure. */
int cg_writef(const char *dir, const char *file, const char *fmt, long long v);
/* Read a small cgroup file into buf (NUL-terminated); -errno on failure. */
int cg_read(const char *path, char *buf, size_t max);
/* Is word one of the space-separated words in list? */
bool cg_has_word(const char *list, const char *word);

#endif
