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

/* Host-wide state, shared by every store on the host (whatever its
 * SPLQ_HOME and SPLQ_RUN): SPLQ_HOST_DIR/ranges/<slot> is flock'ed by the
 * supervisor of the one live qube that uses that slot's uid range. */
#define SPLQ_HOST_DIR	"/run/splq-host"
#define SPLQ_SLOTS_MAX	32768 /* ranges up to 1000000000 + 32768 * 65536 */

/* Lease a uid range for a qube's life: preferred (the qube's slot in its
 * store) if no live qube of any store holds it, else the next free one.
 * Returns the lock's descriptor (O_CLOEXEC; the range is the caller's
 * until it and its copies are closed), *slot the slot leased. */
int splq_userns_lease(int preferred, int *slot, struct splq_error *err);

#endif
