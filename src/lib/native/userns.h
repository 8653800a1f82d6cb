/* splq native: user namespaces as uid maps.  A qube's processes live in a
 * user namespace that maps its ids 0..65535 to the host range of its slot;
 * the same kind of namespace, used as an idmap, shows a template's files
 * (owned by host ids 0..65535) as owned by that range. */
#ifndef SPLQ_NATIVE_USERNS_H
#define SPLQ_NATIVE_USERNS_H

#include "../error.h"

/* A new user namespace whose ids ns_first..ns_first+count-1 are the host's
 * host_first..; *fd is an open namespace descriptor (O_CLOEXEC). */
int splq_userns_open(long ns_first, long host_first, long count, int *fd, struct splq_error *err);

/* The first host id of a slot's range. */
long splq_slot_base(int slot);

#endif
