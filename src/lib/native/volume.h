/* splq native: volumes on disk, under SPLQ_HOME:
 *   templates/<T>/roots/N  the generations of a TemplateVM's root, owned as
 *                          on any system (root files by host uid 0): qubes
 *                          see them through an idmapped mount
 *   templates/<T>/root     symlink to the current generation.  A running
 *                          TemplateVM works on a copy (the next generation)
 *                          that becomes current when it stops, so qubes
 *                          already running keep the root they started with
 *                          and take the template's changes at their next
 *                          start; a generation no running qube uses is
 *                          removed when the template next starts
 *   qubes/<S>/root         a StandaloneVM's own copy of its template's root
 *   qubes/<Q>/private.img  every lasting qube's private volume (/home): a
 *                          sparse ext4 image of the private size whose files
 *                          are owned by qube-local ids (image.h)
 * A DispVM has nothing here: its layers live under SPLQ_RUN. */
#ifndef SPLQ_NATIVE_VOLUME_H
#define SPLQ_NATIVE_VOLUME_H

#include <sys/types.h>

#include "../backend.h"

/* malloc'ed paths; the root is the current generation's real path */
char *splq_volume_root(const char *home, const struct splq_vm_config *cfg);
/* The symlink naming a template's current generation. */
char *splq_volume_root_link(const char *home, const char *template);
/* Copy the current generation of template's root to a new one, for a
 * running TemplateVM to work on; *next gets its path.  Generations that
 * are neither current nor listed in used[] (n paths) are removed first. */
int splq_volume_template_next(const char *home, const char *template, char **used, int n,
                              char **next, struct splq_error *err);
char *splq_volume_private(const char *home, const char *qube);

int splq_volume_create(const char *home, const struct splq_vm_config *cfg, struct splq_error *err);
int splq_volume_clone(const char *home, const struct splq_vm_config *src,
                      const struct splq_vm_config *dst, struct splq_error *err);
int splq_volume_remove(const char *home, const struct splq_vm_config *cfg, struct splq_error *err);

/* mkdir with exactly this mode (no umask) and owner uid:uid. */
int splq_volume_mkdir(const char *path, mode_t mode, long uid, struct splq_error *err);

#endif
