/* splq native: the control socket of a running qube.
 *
 * Pid 1 of a qube (splq-init) listens on $SPLQ_RUN/qubes/<name>/control,
 * a SOCK_SEQPACKET socket bound on the host before the qube's root was
 * entered, owned by host root with mode 0600: only host root reaches it,
 * and nothing inside the qube sees it.  `splq run` sends one request per
 * connection: the command, its user, and its stdin, stdout and stderr as
 * SCM_RIGHTS.  Pid 1 forks the command, which is born inside every
 * namespace, cgroup and seccomp filter of the qube (nothing is joined from
 * outside), and answers STARTED, then EXITED; or FAILED.  While it runs,
 * the caller may send SIGNAL messages. */
#ifndef SPLQ_NATIVE_CONTROL_H
#define SPLQ_NATIVE_CONTROL_H

#include <stdint.h>

#define SPLQ_CTL_MAGIC   0x73706c31u /* "spl1" */
#define SPLQ_CTL_MAX     65536       /* one request: header + strings */
#define SPLQ_CTL_NO_WAIT 1u

/* A request: this header, then argc + envc NUL-terminated strings after
 * the user name: "user\0argv0\0argv1\0...\0TERM=xterm\0". */
struct splq_ctl_request {
	uint32_t magic;
	uint32_t flags;
	uint32_t argc;
	uint32_t envc;
};

enum splq_ctl_type {
	SPLQ_CTL_STARTED = 1, /* value: the command's pid in the qube */
	SPLQ_CTL_EXITED,      /* value: exit code, 128+N for signal N */
	SPLQ_CTL_FAILED,      /* value: 126 or 127 or 1, msg says why */
	SPLQ_CTL_SIGNAL,      /* caller to pid 1: value is a signal */
};

struct splq_ctl_reply {
	int32_t type;
	int32_t value;
	char msg[256];
};

#endif
