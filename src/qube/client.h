/* splq-qube: qrexec-client-vm, the client of qrexec inside a qube.
 *
 *   qrexec-client-vm [OPTIONS] TARGET SERVICE[+ARG] [LOCAL_PROGRAM [ARGS...]]
 *
 * Asks the host, over the qube's qrexec socket (src/lib/qrexec/wire.h),
 * to call SERVICE in TARGET, and relays the call's bytes.  It behaves as
 * Qubes' qrexec-client-vm does, so that scripts written for Qubes work:
 *
 * - Options come before TARGET only (the first other word, or `--`, ends
 *   them).  Every `$` in TARGET becomes `@` ($dispvm, $default).
 * - Without LOCAL_PROGRAM: the client's stdin goes to the service's stdin
 *   (its EOF is the service's EOF), the service's stdout and stderr to the
 *   client's.  With LOCAL_PROGRAM (run by execv, no PATH search, argv[0]
 *   its basename, only once the call is accepted): its stdin is the
 *   service's stdout, its stdout the service's stdin, its stderr the
 *   client's; the service's stderr goes to the client's stderr.  It gets
 *   SAVED_FD_0 and SAVED_FD_1 (copies of the client's own stdin and
 *   stdout) and QREXEC_AGENT_PID (the client's pid) in its environment.
 * - A failed write to a local output counts as that output's end; the
 *   rest of that stream is read and dropped.  When the service's exit
 *   code comes, the client stops reading its local input.  It ends once
 *   the service's stdout and stderr ended, its exit code came and the
 *   local program (never killed) was reaped.
 *
 * Exit status:
 *   0..255  the service's exit code; with LOCAL_PROGRAM, the service's
 *           code when it is not 0, else the local program's (255 when it
 *           could not be run)
 *   126     the call was refused ("Request refused" on stderr; the host
 *           keeps why to itself), or the host closed the connection
 *           without an answer
 *   125     the host could not make the call (its reason on stderr)
 *   255     the call was lost: the connection closed before the exit code
 *   2       a bad option or argument (usage on stderr), or one that splq
 *           does not support (-s)
 *   1       no qrexec socket to connect to, or a bad --buffer-size */
#ifndef SPLQ_QUBE_CLIENT_H
#define SPLQ_QUBE_CLIENT_H

/* The whole program: its exit status. */
int splq_qrexec_client_vm(int argc, char **argv);

#endif
