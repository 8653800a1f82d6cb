/* splq: the qrexec services that the host itself serves, for calls whose
 * target is dom0 (or @adminvm).  Each runs in the host's splq, so all
 * that a calling qube sends it is hostile: a service reads only what it
 * needs, within bounds, and never lets the caller name a host path.
 *
 *   qubes.GetDate   the host's time, UTC, as Qubes' dom0 gives it:
 *                   YYYY-MM-DDTHH:MM:SS+00:00 and a newline; its stdin
 *                   is not read.  A qube without a network sets its
 *                   clock from it. */
#ifndef SPLQ_SERVICES_HOST_H
#define SPLQ_SERVICES_HOST_H

/* A host service: its stdin, stdout and stderr in fds; the caller and
 * the argument (after '+', "" for none).  Returns the call's exit code. */
typedef int (*splq_host_service_fn)(const int fds[3], const char *source, const char *arg);

/* The service called name (SERVICE, without +ARG), or NULL: no such
 * service on the host (127). */
splq_host_service_fn splq_host_service_find(const char *name);

#endif
