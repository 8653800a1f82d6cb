/* splq native: the read-only host-side mounts of template root
 * generations and of dvms' private snapshots.  An AppVM or a disposable reads its template's current
 * generation (templates/<T>/roots/<N>.img, an ext4 image, volume.h)
 * through one mount per generation, made on the first start that needs it
 * and shared by every later one:
 *
 *   $SPLQ_RUN/roots/<T>/<N>   the image on a loop device of its own
 *                             (read-only, autoclear), mounted ro, nosuid,
 *                             nodev, without journal recovery
 *
 * Each qube binds it idmapped into its own mount namespace (rootfs.h), so
 * a second start costs no loop device and no mount.  A mount stays while
 * its generation exists: it goes (detached; the loop device goes with its
 * last user) when the generation is removed, which is when no running qube
 * uses it and it is not current (volume.h), or with the template.  Callers
 * hold the template's lock (runtime.h: splq_rt_lock): shared to use a
 * mount, exclusive to make or remove one.
 *
 * A disposable made from a dvm reads the dvm's private snapshot
 * (qubes/<D>/snaps/<N>.img, volume.h) the same way, through
 *
 *   $SPLQ_RUN/privates/<D>/<N>
 *
 * under the dvm's lock.  kind names which: SPLQ_ROOTMNT_ROOTS or
 * SPLQ_ROOTMNT_PRIVATES. */
#ifndef SPLQ_NATIVE_ROOTMNT_H
#define SPLQ_NATIVE_ROOTMNT_H

#include <stdbool.h>

#include "../error.h"

#define SPLQ_ROOTMNT_ROOTS    "roots"
#define SPLQ_ROOTMNT_PRIVATES "privates"

/* malloc'ed: $run/<kind>/<qube>/<gen> */
char *splq_rootmnt_path(const char *run, const char *kind, const char *qube, const char *gen);
/* Is the mount of image (the generation's file) at mnt in place? */
bool splq_rootmnt_ready(const char *mnt, const char *image);
/* Mount image at mnt unless it is already (the template's lock held
 * exclusively). */
int splq_rootmnt_make(const char *mnt, const char *image, struct splq_error *err);
/* Detach the mount of generation gen ("3") of qube, if there is one. */
void splq_rootmnt_drop(const char *run, const char *kind, const char *qube, const char *gen);
/* Detach every generation's mount of qube. */
void splq_rootmnt_drop_all(const char *run, const char *kind, const char *qube);

#endif
