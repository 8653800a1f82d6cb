/* splq native: volumes on disk, under SPLQ_HOME:
 *   templates/<T>/root     a TemplateVM's root, owned as on any system
 *                          (root files by host uid 0): qubes see it through
 *                          an idmapped mount
 *   qubes/<S>/root         a StandaloneVM's own copy of its template's root
 *   qubes/<Q>/private      every qube's private volume (/home), owned by the
 *                          qube's uid range, so nothing in it belongs to
 *                          host root
 * A DispVM has nothing here: its layers live under SPLQ_RUN. */
#ifndef SPLQ_NATIVE_VOLUME_H
#define SPLQ_NATIVE_VOLUME_H

#include "../backend.h"

/* malloc'ed paths */
char *splq_volume_root(const char *home, const struct splq_vm_config *cfg);
char *splq_volume_private(const char *home, const char *qube);

int splq_volume_create(const char *home, const struct splq_vm_config *cfg,
		       struct splq_error *err);
int splq_volume_clone(const char *home, const struct splq_vm_config *src,
		      const struct splq_vm_config *dst, struct splq_error *err);
int splq_volume_remove(const char *home, const struct splq_vm_config *cfg,
		       struct splq_error *err);

/* Make a fresh private volume at path for a qube whose root is host id
 * base: /home with user/ (uid 1000 in the qube). */
int splq_volume_new_private(const char *path, long base, struct splq_error *err);

#endif
