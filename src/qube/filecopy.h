/* splq-qube: file copy between qubes, Qubes' qvm-copy and its receiver.
 *
 *   qvm-copy [OPTIONS] FILE...             to the qube the policy names
 *   qvm-copy-to-vm [OPTIONS] QUBE FILE...  to QUBE
 *   qvm-move, qvm-move-to-vm               the same, then the files are
 *                                          removed here once the receiver
 *                                          took all of them
 *   options: --with-progress, --without-progress (no effect: splq copy on
 *   the host shows progress), --ignore-symlinks, --no-ignore-symlinks, --
 *
 * Each is `qrexec-client-vm QUBE qubes.Filecopy` with qfile-agent as its
 * local program, as in Qubes; the exit status is the client's (126 when
 * the policy refused, the receiver's code when it failed, else the
 * sender's), and 1 for a bad option or argument (usage on stderr).
 *
 *   qfile-agent [--ignore-symlinks] [--] FILE...
 *       writes the qfile stream of FILEs (formats/qfile.h) to stdout and
 *       checks the receiver's result on stdin; 0, or 1 with the reason.
 *   qubes.Filecopy [allow-all-names]   (in /run/splq/lib/rpc)
 *       the service: the stream on stdin lands in
 *       ~/QubesIncoming/$QREXEC_REMOTE_DOMAIN/, the result goes to stdout.
 *       Where splq's host asked for it (SPLQ_QFILE_MANIFEST=1 in the
 *       service's environment, which only the host sets), the manifest of
 *       the files follows the result, and the files stay only if the host
 *       then answers 'y' on stdin: anything else, or none, removes them.
 *   splq-remove [--secure] [--] PATH...
 *       rm -rf that never follows a link (tree.h), --secure overwriting
 *       the files' data first: the end of a move that splq's host made. */
#ifndef SPLQ_QUBE_FILECOPY_H
#define SPLQ_QUBE_FILECOPY_H

int splq_qvm_copy(int argc, char **argv);
int splq_qfile_agent(int argc, char **argv);
int splq_qubes_filecopy(int argc, char **argv);
int splq_remove(int argc, char **argv);

#endif
