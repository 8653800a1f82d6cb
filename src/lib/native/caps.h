/* splq native: capabilities of processes in a qube.  Root in a qube keeps
 * only CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
 * NET_BIND_SERVICE, SYS_CHROOT, SETFCAP, AUDIT_WRITE (all of them only
 * within the qube's user namespace); every other capability leaves the
 * bounding set, ambient capabilities are cleared. */
#ifndef SPLQ_NATIVE_CAPS_H
#define SPLQ_NATIVE_CAPS_H

#include "../error.h"

/* Drop everything outside the set from the bounding, permitted, effective
 * and inheritable sets, and clear the ambient set. */
int splq_caps_reduce(struct splq_error *err);

#endif
