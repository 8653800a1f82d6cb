/* splq native: the seccomp filter every process in a qube runs under.
 * Refused with EPERM: mounting (mount, umount2, pivot_root, fsopen, fsmount,
 * fsconfig, fspick, move_mount, open_tree, mount_setattr), new namespaces
 * (unshare and clone with any CLONE_NEW* flag, setns; clone3 answers
 * ENOSYS so libc falls back to clone), kernel modules (init_module,
 * finit_module, delete_module), kexec_load, kexec_file_load, keyrings
 * (keyctl, add_key, request_key), raw I/O (iopl, ioperm), swapon, swapoff,
 * reboot, syslog, acct, clock and time setting, bpf, perf_event_open,
 * userfaultfd, open_by_handle_at, name_to_handle_at, quotactl, personality
 * other than the default, uselib, vhangup, nfsservctl, lookup_dcookie, and
 * io_uring (io_uring_setup, io_uring_enter, io_uring_register) unless the
 * program is built with SPLQ_SECCOMP_IO_URING.  Other architectures'
 * system calls kill the process. */
#ifndef SPLQ_NATIVE_SECCOMP_H
#define SPLQ_NATIVE_SECCOMP_H

#include <stddef.h>

#include "../error.h"

/* Flags of a build: what the filter lets through that it refuses by
 * default. */
#define SPLQ_SECCOMP_IO_URING 1u /* io_uring (the feature splq.allow-io_uring) */

/* Build the filter as a classic BPF program; *prog (malloc'ed) holds *len
 * struct sock_filter entries.  Building costs some hundred microseconds:
 * native builds each variant (flags) once per splq binary and keeps it in
 * SPLQ_RUN. */
int splq_seccomp_build(unsigned flags, void **prog, size_t *len, struct splq_error *err);
/* Load a program from build (sets no_new_privs first). */
int splq_seccomp_load(const void *prog, size_t len, struct splq_error *err);

#endif
