/* splq native: volumes on disk, under SPLQ_HOME:
 *   templates/<T>/roots/N.img  the generations of a TemplateVM's root: sparse
 *                          ext4 images of the root size whose files are owned
 *                          as on any system (root files by uid 0): qubes see
 *                          them through an idmapped mount, and nothing of
 *                          them is a file on the host's file system (a
 *                          setuid file in a root is one only inside its
 *                          image, mounted nosuid everywhere)
 *   templates/<T>/root     symlink to the current generation.  A running
 *                          TemplateVM works on a copy (the next generation,
 *                          mounted read-write in its own mount namespace)
 *                          that becomes current when it stops, so qubes
 *                          already running keep the root they started with
 *                          and take the template's changes at their next
 *                          start; a generation that is neither current nor
 *                          used by a running qube is removed when the
 *                          template next starts or grows (with its
 *                          read-only mount, rootmnt.h)
 *   qubes/<S>/root.img     a StandaloneVM's own copy of its template's root
 *   qubes/<Q>/private.img  every lasting qube's private volume (/home): a
 *                          sparse ext4 image of the private size whose files
 *                          are owned by qube-local ids (image.h)
 *   qubes/<D>/snaps/N.img  a dvm's private snapshots: copies of its
 *                          private volume (N.src names the state it was
 *                          copied in), the highest N current.  A disposable
 *                          of D starts from the current one (its read-only
 *                          mount, rootmnt.h, under an upper layer of its
 *                          own), so its start costs the same whatever the
 *                          size of D's private volume; a new one is taken
 *                          when D starts (as D was when it last stopped),
 *                          or by the first disposable after D changed while
 *                          halted; the others go once no running
 *                          disposable uses them
 * A DispVM has nothing here: its layers live under SPLQ_RUN.  Roots made
 * by an older splq (directories) are refused with a message saying so. */
#ifndef SPLQ_NATIVE_VOLUME_H
#define SPLQ_NATIVE_VOLUME_H

#include <stdbool.h>
#include <sys/types.h>

#include "../backend.h"

/* malloc'ed paths; the root is the current generation's real path */
char *splq_volume_root(const char *home, const struct splq_vm_config *cfg);
/* The symlink naming a template's current generation. */
char *splq_volume_root_link(const char *home, const char *template);
/* Is the root volume at path (of qube) an image?  A directory is a root
 * of an older splq: refused, saying so. */
int splq_volume_root_check(const char *path, const char *qube, struct splq_error *err);
/* Remove the generations of template's root that are neither current nor
 * listed in used[] (n paths), and their read-only mounts under run
 * (rootmnt.h); *top gets the highest generation number there is. */
int splq_volume_template_prune(const char *home, const char *run, const char *template, char **used,
                               int n, long *top, struct splq_error *err);
/* Prune, then copy the current generation to a new one (*next its path),
 * for a running TemplateVM to work on or to grow. */
int splq_volume_template_next(const char *home, const char *run, const char *template, char **used,
                              int n, char **next, struct splq_error *err);
/* Make the generation at path next current (atomically). */
int splq_volume_template_commit(const char *home, const char *template, const char *next,
                                struct splq_error *err);
char *splq_volume_private(const char *home, const char *qube);
/* The current snapshot of dvm's private volume (its image's path), or
 * NULL when there is none; *stale: the private volume has changed since. */
char *splq_volume_snap_current(const char *home, const char *dvm, bool *stale);
/* Remove the snapshots not listed in used[] (n image paths) and their
 * mounts under run, then take a new one, current from now on (*out its
 * path).  The dvm's lock held exclusively. */
int splq_volume_snap_take(const char *home, const char *run, const char *dvm, char **used, int n,
                          char **out, struct splq_error *err);

int splq_volume_create(const char *home, const struct splq_vm_config *cfg, struct splq_error *err);
int splq_volume_clone(const char *home, const struct splq_vm_config *src,
                      const struct splq_vm_config *dst, struct splq_error *err);
int splq_volume_remove(const char *home, const struct splq_vm_config *cfg, struct splq_error *err);

/* mkdir with exactly this mode (no umask) and owner uid:uid. */
int splq_volume_mkdir(const char *path, mode_t mode, long uid, struct splq_error *err);

#endif
