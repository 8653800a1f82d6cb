/* splq native: what a qube sees of cgroups (see cgroup_view.h). */
#include "native/cgroup_view.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "native/cgroup_layout.h"

int splq_cgroup_cpus(char *buf, size_t max)
{
	struct cg_layout l;
	char path[PATH_MAX], ctl[1024];
	const char *mount, *file;

	buf[0] = '\0';
	if (cg_load_layout(&l, NULL) < 0)
		return 0;
	mount = l.v2 ? l.v2mount : l.cpuset;
	file = l.v2 ? "cpuset.cpus.effective" : "cpuset.cpus";
	if (!mount[0])
		return 0;
	if (l.v2 &&
	    (snprintf(path, sizeof(path), "%s/cgroup.controllers", mount) >= (int)sizeof(path) ||
	     cg_read(path, ctl, sizeof(ctl)) < 0 || !cg_has_word(ctl, "cpuset")))
		return 0;
	/* the nearest level of the parent path that has its CPUs: what a
	 * cgroup made below it may have */
	for (int k = cg_parent_depth(l.parent); k >= 0; k--) {
		char dir[PATH_MAX];
		size_t len;

		if (cg_parent_prefix(dir, sizeof(dir), mount, l.parent, k) < 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
		    cg_read(path, buf, max) < 0)
			continue;
		len = strlen(buf);
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			buf[--len] = '\0';
		if (len)
			return 1;
	}
	buf[0] = '\0';
	return 0;
}

int splq_cgroup_view(const char *qube, struct splq_cgroup_view *v, struct splq_error *err)
{
	struct cg_layout l;
	struct cg_dir d[CG_MAX_DIRS];
	int n;

	memset(v, 0, sizeof(*v));
	if (cg_load_layout(&l, err) < 0 || cg_qube_dirs(&l, qube, d, &n, err) < 0)
		return -1;
	v->tmpfs = !l.v2;
	for (int i = 0; i < n && v->n < SPLQ_CGROUP_VIEW_MAX; i++) {
		struct splq_cgroup_fs *fs = &v->fs[v->n];
		const char *base = strrchr(d[i].mount, '/');

		if (cg_optional_kind(d[i].kind) && !cg_is_dir(d[i].path))
			continue;
		if (d[i].kind == CG_V2 || d[i].kind == CG_UNIFIED) {
			snprintf(fs->type, sizeof(fs->type), "cgroup2");
			snprintf(fs->name, sizeof(fs->name), "%s", l.v2 ? "" : "unified");
		} else {
			/* the name of the host's mount point ("memory",
			 * "cpu,cpuacct"), if it is a plain one */
			base = base ? base + 1 : d[i].mount;
			if (!*base || strlen(base) >= sizeof(fs->name) || base[0] == '.' ||
			    strspn(base, "abcdefghijklmnopqrstuvwxyz0123456789_,=.") !=
			        strlen(base))
				base = l.opts[d[i].kind];
			snprintf(fs->type, sizeof(fs->type), "cgroup");
			snprintf(fs->name, sizeof(fs->name), "%.*s", (int)sizeof(fs->name) - 1,
			         base);
			snprintf(fs->opts, sizeof(fs->opts), "%s", l.opts[d[i].kind]);
		}
		v->n++;
	}
	return 0;
}
