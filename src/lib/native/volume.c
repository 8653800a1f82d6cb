/* splq native: volumes on disk (see volume.h). */
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../store.h"
#include "../tree.h"
#include "../util.h"
#include "image.h"
#include "rootmnt.h"
#include "userns.h"

char *splq_volume_root_link(const char *home, const char *template)
{
	return splq_strdup_printf("%s/templates/%s/root", home, template);
}

char *splq_volume_root(const char *home, const struct splq_vm_config *cfg)
{
	if (cfg->klass == SPLQ_CLASS_STANDALONEVM && strcmp(cfg->root_of, cfg->name) == 0)
		return splq_strdup_printf("%s/qubes/%s/root.img", home, cfg->name);
	cleanup_free char *link = splq_volume_root_link(home, cfg->root_of);
	char *real = realpath(link, NULL);
	return real ? real : splq_steal(link);
}

int splq_volume_root_check(const char *path, const char *qube, struct splq_error *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return splq_fail(err, SPLQ_E_NOTFOUND, "the root volume of '%s' is missing: %s",
		                 qube, path);
	if (S_ISDIR(st.st_mode))
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "the root volume of '%s' is a directory (%s), made by an older "
		                 "splq; roots are ext4 images now: make the template again "
		                 "(splq template create) and the qubes on it",
		                 qube, path);
	if (!S_ISREG(st.st_mode))
		return splq_fail(err, SPLQ_E_CORRUPT,
		                 "the root volume of '%s' (%s) is not an image", qube, path);
	return 0;
}

/* The first generation of a new template's root: roots/1.img, and the
 * link. */
static char *first_generation(const char *home, const char *template, struct splq_error *err)
{
	cleanup_free char *link = splq_volume_root_link(home, template);
	char *gen = splq_strdup_printf("%s/templates/%s/roots/1.img", home, template);
	cleanup_free char *roots = splq_strdup_printf("%s/templates/%s/roots", home, template);
	if (splq_mkdir_p(roots, 0700, err) < 0) {
		free(gen);
		return NULL;
	}
	if (symlink("roots/1.img", link) < 0) {
		splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "symlink %s", link);
		free(gen);
		return NULL;
	}
	return gen;
}

/* The generation number of a file name "N.img" of roots/, or 0. */
static long generation_of(const char *name)
{
	char *end;
	long g = strtol(name, &end, 10);
	return g > 0 && strcmp(end, ".img") == 0 ? g : 0;
}

/* Remove the generations N.img of dir that are neither keep (a file
 * name, or NULL) nor listed in used[] (n paths), with their N.src and
 * their read-only mounts (rootmnt.h: kind, qube); *top gets the highest
 * N there was. */
static int prune(const char *dir, const char *keep, char **used, int n, const char *run,
                 const char *kind, const char *qube, long *top, struct splq_error *err)
{
	cleanup_dir DIR *d = opendir(dir);
	*top = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		long g = generation_of(de->d_name);
		if (!g)
			continue;
		*top = g > *top ? g : *top;
		cleanup_free char *path = splq_strdup_printf("%s/%s", dir, de->d_name);
		bool kept = keep && strcmp(de->d_name, keep) == 0;
		for (int i = 0; i < n && !kept; i++)
			kept = strcmp(used[i], path) == 0;
		if (kept)
			continue;
		char gen[24];
		snprintf(gen, sizeof(gen), "%ld", g);
		splq_rootmnt_drop(run, kind, qube, gen);
		cleanup_free char *src = splq_strdup_printf("%s/%ld.src", dir, g);
		unlink(src);
		if (unlink(path) < 0 && errno != ENOENT)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "remove %s", path);
	}
	return 0;
}

int splq_volume_template_prune(const char *home, const char *run, const char *template, char **used,
                               int n, long *top, struct splq_error *err)
{
	cleanup_free char *link = splq_volume_root_link(home, template);
	cleanup_free char *roots = splq_strdup_printf("%s/templates/%s/roots", home, template);
	char current[64];
	ssize_t len = readlink(link, current, sizeof(current) - 1);
	if (len < 0)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "the root of template '%s'",
		                       template);
	current[len] = 0;
	if (!generation_of(current + (strncmp(current, "roots/", 6) == 0 ? 6 : 0))) {
		cleanup_free char *real = splq_volume_root(
		    home, &(struct splq_vm_config){.name = template, .root_of = template});
		return splq_volume_root_check(real, template, err) < 0
		           ? -1
		           : splq_fail(err, SPLQ_E_CORRUPT, "the root of template '%s' is %s",
		                       template, current);
	}
	cleanup_dir DIR *d = opendir(roots);
	if (!d)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "%s", roots);
	const char *keep = current + (strncmp(current, "roots/", 6) == 0 ? 6 : 0);
	return prune(roots, keep, used, n, run, SPLQ_ROOTMNT_ROOTS, template, top, err);
}

int splq_volume_template_next(const char *home, const char *run, const char *template, char **used,
                              int n, char **next, struct splq_error *err)
{
	long top;
	if (splq_volume_template_prune(home, run, template, used, n, &top, err) < 0)
		return -1;
	cleanup_free char *link = splq_volume_root_link(home, template);
	cleanup_free char *src = realpath(link, NULL);
	if (!src)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "the root of template '%s'",
		                       template);
	*next = splq_strdup_printf("%s/templates/%s/roots/%ld.img", home, template, top + 1);
	if (splq_image_copy(src, *next, err) < 0) {
		free(*next);
		*next = NULL;
		return -1;
	}
	return 0;
}

int splq_volume_template_commit(const char *home, const char *template, const char *next,
                                struct splq_error *err)
{
	cleanup_free char *link = splq_volume_root_link(home, template);
	cleanup_free char *tmp = splq_strdup_printf("%s.new", link);
	const char *slash = strrchr(next, '/');
	cleanup_free char *target = splq_strdup_printf("roots/%s", slash ? slash + 1 : next);
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
		int e = errno;
		unlink(tmp);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "make %s current", next);
	}
	return 0;
}

/* ---------- a dvm's private snapshots ---------- */

/* What names the state of a private volume: its file's inode, size and
 * modification time ("" when it cannot be read). */
static void private_stamp(const char *path, char *out, size_t max)
{
	struct stat st;
	out[0] = 0;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		snprintf(out, max, "%llu %lld %lld.%09ld\n", (unsigned long long)st.st_ino,
		         (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* The highest snapshot number in dir, 0 for none. */
static long top_snapshot(const char *dir)
{
	cleanup_dir DIR *d = opendir(dir);
	long top = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		long g = generation_of(de->d_name);
		top = g > top ? g : top;
	}
	return top;
}

char *splq_volume_snap_current(const char *home, const char *dvm, bool *stale)
{
	cleanup_free char *dir = splq_strdup_printf("%s/qubes/%s/snaps", home, dvm);
	long top = top_snapshot(dir);
	*stale = true;
	if (!top)
		return NULL;
	cleanup_free char *src = splq_strdup_printf("%s/%ld.src", dir, top);
	cleanup_free char *priv = splq_volume_private(home, dvm);
	cleanup_free char *was = NULL;
	char now[128];
	private_stamp(priv, now, sizeof(now));
	if (splq_read_file(src, &was, NULL, NULL) == 0)
		*stale = strcmp(was, now) != 0;
	return splq_strdup_printf("%s/%ld.img", dir, top);
}

int splq_volume_snap_take(const char *home, const char *run, const char *dvm, char **used, int n,
                          char **out, struct splq_error *err)
{
	cleanup_free char *dir = splq_strdup_printf("%s/qubes/%s/snaps", home, dvm);
	cleanup_free char *priv = splq_volume_private(home, dvm);
	*out = NULL;
	if (splq_mkdir_p(dir, 0700, err) < 0)
		return -1;
	/* the ones no running disposable uses go, with their mounts */
	long top;
	if (prune(dir, NULL, used, n, run, SPLQ_ROOTMNT_PRIVATES, dvm, &top, err) < 0)
		return -1;
	/* the stamp first: a change meanwhile makes the snapshot stale, never
	 * a stale one look fresh */
	char stamp[128];
	private_stamp(priv, stamp, sizeof(stamp));
	cleanup_free char *tmp = splq_strdup_printf("%s/%ld.img.new", dir, top + 1);
	cleanup_free char *img = splq_strdup_printf("%s/%ld.img", dir, top + 1);
	cleanup_free char *src = splq_strdup_printf("%s/%ld.src", dir, top + 1);
	unlink(tmp);
	if (splq_image_copy(priv, tmp, err) < 0)
		return -1;
	if (splq_write_file(src, stamp, strlen(stamp), 0600, err) < 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, img) < 0) {
		int e = errno;
		unlink(tmp);
		unlink(src);
		return splq_fail_errno(err, SPLQ_E_INTERNAL, e, "make snapshot %s", img);
	}
	*out = splq_steal(img);
	return 0;
}

char *splq_volume_private(const char *home, const char *qube)
{
	return splq_strdup_printf("%s/qubes/%s/private.img", home, qube);
}

int splq_volume_mkdir(const char *path, mode_t mode, long uid, struct splq_error *err)
{
	if (mkdir(path, mode) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "mkdir %s", path);
	/* mkdir's mode is masked by the umask; the volume's is not */
	if (chmod(path, mode) < 0 || chown(path, uid, uid) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "set owner of %s", path);
	return 0;
}

/* The host's /etc entries a "--base host" template starts from: none of
 * them holds a secret (no shadow, keys, ssh, sudoers, credentials). */
static const char *const host_etc[] = {
    "alternatives",   "bash.bashrc",     "ca-certificates.conf",
    "debian_version", "environment",     "host.conf",
    "inputrc",        "ld.so.cache",     "ld.so.conf",
    "ld.so.conf.d",   "localtime",       "login.defs",
    "mime.types",     "os-release",      "profile",
    "profile.d",      "protocols",       "rpc",
    "services",       "shells",          "skel",
    "ssl/certs",      "ssl/openssl.cnf", "terminfo",
    "timezone",
};

/* What splq writes itself. */
static const char *const own_etc[][2] = {
    {"passwd", "root:x:0:0:root:/root:/bin/bash\n"
               "user:x:1000:1000:user:/home/user:/bin/bash\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"},
    {"group", "root:x:0:\ntty:x:5:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n"},
    {"shadow",
     "root:*:20000:0:99999:7:::\nuser:!:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n"},
    {"gshadow", "root:*::\ntty:*::\nusers:*::user\nuser:!::\nnogroup:*::\n"},
    {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
    {"resolv.conf", "# this qube has no network\n"},
    {"nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
                      "networks: files\nprotocols: files\nservices: files\nethers: files\n"
                      "rpc: files\n"},
};

/* Copy one host entry (file, symlink or directory) to dst. */
static int copy_entry(const char *src, const char *dst, struct splq_error *err)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return errno == ENOENT ? 0
		                       : splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "%s", src);
	if (S_ISDIR(st.st_mode))
		return splq_copy_tree(src, dst, 0, err);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "readlink %s", src);
		target[n] = 0;
		if (symlink(target, dst) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "symlink %s", dst);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (splq_read_file(src, &data, &len, err) < 0)
		return -1;
	return splq_write_file(dst, data, len, st.st_mode & 07777, err);
}

/* A root whose /usr is the host's (bound read-only at start) and whose
 * /etc is its own. */
static int make_host_root(const char *root, struct splq_error *err)
{
	static const struct {
		const char *path;
		mode_t mode;
	} dirs[] = {{"", 0755},        {"etc", 0755},     {"etc/ssl", 0755},   {"root", 0700},
	            {"home", 0755},    {"tmp", 01777},    {"var", 0755},       {"var/tmp", 01777},
	            {"var/lib", 0755}, {"var/log", 0755}, {"var/cache", 0755}, {"opt", 0755},
	            {"srv", 0755},     {"mnt", 0755},     {"media", 0755},     {"run", 0755},
	            {"proc", 0555},    {"dev", 0755},     {"sys", 0555},       {"usr", 0755}};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		cleanup_free char *p = splq_strdup_printf("%s/%s", root, dirs[i].path);
		if (splq_volume_mkdir(p, dirs[i].mode, 0, err) < 0)
			return -1;
	}
	/* merged /usr: the top-level links the host has */
	static const char *const links[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cleanup_free char *hostp = splq_strdup_printf("/%s", links[i]);
		cleanup_free char *p = splq_strdup_printf("%s/%s", root, links[i]);
		cleanup_free char *target = splq_strdup_printf("usr/%s", links[i]);
		struct stat st;
		if (lstat(hostp, &st) < 0)
			continue;
		if (symlink(target, p) < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "symlink %s", p);
	}
	for (size_t i = 0; i < sizeof(host_etc) / sizeof(host_etc[0]); i++) {
		cleanup_free char *src = splq_strdup_printf("/etc/%s", host_etc[i]);
		cleanup_free char *dst = splq_strdup_printf("%s/etc/%s", root, host_etc[i]);
		if (copy_entry(src, dst, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(own_etc) / sizeof(own_etc[0]); i++) {
		cleanup_free char *dst = splq_strdup_printf("%s/etc/%s", root, own_etc[i][0]);
		mode_t mode = strstr(own_etc[i][0], "shadow") ? 0640 : 0644;
		if (splq_write_file(dst, own_etc[i][1], strlen(own_etc[i][1]), mode, err) < 0)
			return -1;
	}
	cleanup_free char *mtab = splq_strdup_printf("%s/etc/mtab", root);
	if (symlink("../proc/self/mounts", mtab) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "symlink %s", mtab);
	return 0;
}

/* A root copied from a directory; the mount points a qube needs are added
 * where the directory lacks them. */
static int make_dir_root(const char *base, const char *root, struct splq_error *err)
{
	if (splq_copy_tree(base, root, 0, err) < 0)
		return -1;
	static const struct {
		const char *path;
		mode_t mode;
	} need[] = {{"proc", 0555}, {"dev", 0755},  {"tmp", 01777}, {"home", 0755},
	            {"run", 0755},  {"root", 0700}, {"sys", 0555}};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		cleanup_free char *p = splq_strdup_printf("%s/%s", root, need[i].path);
		struct stat st;
		if (lstat(p, &st) == 0)
			continue;
		if (splq_volume_mkdir(p, need[i].mode, 0, err) < 0)
			return -1;
	}
	return 0;
}

static int make_parent(const char *path, struct splq_error *err)
{
	cleanup_free char *dir = splq_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	return splq_mkdir_p(dir, 0700, err);
}

/* A copy of the image src at dst (new) of at least size bytes. */
static int copy_sized(const char *src, const char *dst, unsigned long long size,
                      struct splq_error *err)
{
	if (make_parent(dst, err) < 0 || splq_image_copy(src, dst, err) < 0)
		return -1;
	struct stat st;
	if (stat(dst, &st) < 0)
		return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "%s", dst);
	if ((unsigned long long)st.st_size >= size)
		return 0;
	if (truncate(dst, (off_t)size) < 0)
		return splq_fail_errno(err, SPLQ_E_NOSPACE, errno, "grow %s", dst);
	return splq_image_grow_offline(dst, err);
}

/* A new template's first generation: the host stages the tree in a
 * directory beside it (host-made data only), mkfs.ext4 -d copies it into
 * the image, and the directory goes. */
static int make_template_root(const char *home, const struct splq_vm_config *cfg,
                              struct splq_error *err)
{
	cleanup_free char *root = first_generation(home, cfg->name, err);
	if (!root)
		return -1;
	cleanup_free char *stage = splq_strdup_printf("%s.stage", root);
	int r = strcmp(cfg->root_base, "host") == 0 ? make_host_root(stage, err)
	                                            : make_dir_root(cfg->root_base, stage, err);
	if (r == 0)
		r = splq_image_make_from(root, cfg->root_size, stage, err);
	struct splq_error ignored;
	splq_rm_rf(stage, &ignored);
	return r;
}

static int create(const char *home, const struct splq_vm_config *cfg, struct splq_error *err)
{
	if (cfg->klass == SPLQ_CLASS_DISPVM)
		return 0;
	if (cfg->klass == SPLQ_CLASS_TEMPLATEVM) {
		if (make_template_root(home, cfg, err) < 0)
			return -1;
	} else if (cfg->klass == SPLQ_CLASS_STANDALONEVM) {
		/* root_of names the template to copy from */
		struct splq_vm_config own = *cfg;
		own.root_of = cfg->name;
		cleanup_free char *src = splq_volume_root(home, cfg);
		cleanup_free char *root = splq_volume_root(home, &own);
		if (splq_volume_root_check(src, cfg->root_of, err) < 0 ||
		    copy_sized(src, root, cfg->root_size, err) < 0)
			return -1;
	}
	cleanup_free char *priv = splq_volume_private(home, cfg->name);
	if (make_parent(priv, err) < 0 || splq_image_make(priv, cfg->private_size, err) < 0)
		return -1;
	return 0;
}

int splq_volume_create(const char *home, const struct splq_vm_config *cfg, struct splq_error *err)
{
	cleanup_free char *priv = splq_volume_private(home, cfg->name);
	if (splq_path_exists(priv))
		return splq_fail(err, SPLQ_E_EXISTS, "volume '%s' already exists", priv);
	if (create(home, cfg, err) == 0)
		return 0;
	struct splq_error ignored;
	struct splq_vm_config own = *cfg;
	if (cfg->klass == SPLQ_CLASS_STANDALONEVM)
		own.root_of = cfg->name;
	splq_volume_remove(home, &own, &ignored);
	return -1;
}

int splq_volume_clone(const char *home, const struct splq_vm_config *src,
                      const struct splq_vm_config *dst, struct splq_error *err)
{
	cleanup_free char *spriv = splq_volume_private(home, src->name);
	cleanup_free char *dpriv = splq_volume_private(home, dst->name);
	int r = make_parent(dpriv, err);
	if (r == 0 &&
	    (src->klass == SPLQ_CLASS_TEMPLATEVM || src->klass == SPLQ_CLASS_STANDALONEVM)) {
		cleanup_free char *sroot = splq_volume_root(home, src);
		cleanup_free char *droot = src->klass == SPLQ_CLASS_TEMPLATEVM
		                               ? first_generation(home, dst->name, err)
		                               : splq_volume_root(home, dst);
		r = droot ? splq_volume_root_check(sroot, src->name, err) : -1;
		if (r == 0)
			r = copy_sized(sroot, droot, dst->root_size, err);
	}
	if (r == 0)
		r = splq_image_copy(spriv, dpriv, err); /* qube-local ids: no shift */
	if (r < 0) {
		struct splq_error ignored;
		splq_volume_remove(home, dst, &ignored);
	}
	return r;
}

int splq_volume_remove(const char *home, const struct splq_vm_config *cfg, struct splq_error *err)
{
	cleanup_free char *qdir = splq_strdup_printf("%s/qubes/%s", home, cfg->name);
	struct splq_error later;
	/* each part goes as far as it can; err tells the first failure */
	int r = splq_rm_rf(qdir, err);
	if (cfg->klass == SPLQ_CLASS_TEMPLATEVM) {
		cleanup_free char *tdir = splq_strdup_printf("%s/templates/%s", home, cfg->name);
		if (splq_rm_rf(tdir, r < 0 ? &later : err) < 0)
			r = -1;
	}
	return r;
}
