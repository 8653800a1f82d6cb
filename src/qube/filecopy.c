/* splq-qube: qvm-copy and friends, qfile-agent, the qubes.Filecopy
 * service and splq-remove (filecopy.h). */
#include "filecopy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "formats/qfile.h"
#include "tree.h"
#include "util.h"

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- qvm-copy, qvm-copy-to-vm, qvm-move, qvm-move-to-vm ---- */

static int copy_usage(const char *prog, bool to_vm)
{
	fprintf(stderr,
	        "usage: %s [--with-progress|--without-progress] [--ignore-symlinks|"
	        "--no-ignore-symlinks] %sFILE...\n"
	        "%s FILEs to %s through qrexec (qubes.Filecopy); they land in\n"
	        "~/QubesIncoming/<this qube>/ there.\n",
	        prog, to_vm ? "QUBE " : "", strstr(prog, "move") ? "Move" : "Copy",
	        to_vm ? "QUBE" : "the qube the policy chooses");
	return 1;
}

int splq_qvm_copy(int argc, char **argv)
{
	const char *prog = base_of(argv[0]);
	bool move = strncmp(prog, "qvm-move", 8) == 0;
	bool to_vm = strstr(prog, "-to-vm") != NULL;
	bool ignore_symlinks = false;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--ignore-symlinks") == 0)
			ignore_symlinks = true;
		else if (strcmp(argv[i], "--no-ignore-symlinks") == 0)
			ignore_symlinks = false;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return copy_usage(prog, to_vm) & 0;
		else if (strcmp(argv[i], "--with-progress") != 0 &&
		         strcmp(argv[i], "--without-progress") != 0)
			return copy_usage(prog, to_vm);
	}
	const char *target = "@default";
	if (to_vm) {
		if (argc - i < 2)
			return copy_usage(prog, to_vm);
		target = argv[i++];
		fprintf(stderr,
		        "%s: qvm-copy and qvm-move do the same and let the policy "
		        "choose the qube\n",
		        prog);
	}
	if (argc - i < 1)
		return copy_usage(prog, to_vm);

	/* qrexec-client-vm --filter-escape-chars-stderr -- TARGET
	 * qubes.Filecopy SELF qfile-agent [--ignore-symlinks] -- FILE... */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "%s: cannot find its own program: %s\n", prog, strerror(errno));
		return 1;
	}
	self[n] = 0;
	size_t nfiles = (size_t)(argc - i);
	char **cargv = splq_xmalloc((nfiles + 10) * sizeof(*cargv));
	int c = 0;
	cargv[c++] = "qrexec-client-vm";
	cargv[c++] = "--filter-escape-chars-stderr";
	cargv[c++] = "--";
	cargv[c++] = (char *)target;
	cargv[c++] = "qubes.Filecopy";
	cargv[c++] = self;
	cargv[c++] = "qfile-agent";
	if (ignore_symlinks)
		cargv[c++] = "--ignore-symlinks";
	cargv[c++] = "--";
	for (size_t f = 0; f < nfiles; f++) {
		/* a trailing '/' names the same file, as in Qubes */
		char *file = argv[i + (int)f];
		size_t len = strlen(file);
		while (len > 1 && file[len - 1] == '/')
			file[--len] = 0;
		cargv[c++] = file;
	}
	cargv[c] = NULL;
	int rc = splq_qrexec_client_vm(c, cargv);
	free(cargv);
	if (rc != 0 || !move)
		return rc;
	/* the receiver took every file: only now are they removed here */
	for (size_t f = 0; f < nfiles; f++) {
		struct splq_error err = {0};
		if (splq_rm_rf(argv[i + (int)f], &err) < 0) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			rc = 1;
		}
	}
	return rc;
}

/* The command line PROG [FLAG] [--] PATH... of qfile-agent and
 * splq-remove: the index of the first PATH, *set when FLAG came; -1 (the
 * usage printed) for another option, or fewer than min PATHs. */
static int flag_then_paths(int argc, char **argv, const char *flag, int min, bool *set)
{
	int i = 1;
	bool bad = false;

	*set = false;
	for (; i < argc && argv[i][0] == '-' && !bad; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		bad = strcmp(argv[i], flag) != 0;
		*set = true;
	}
	if (bad || argc - i < min) {
		fprintf(stderr, "usage: %s [%s] [--] PATH...\n", base_of(argv[0]), flag);
		return -1;
	}
	return i;
}

/* ---- qfile-agent ---- */

int splq_qfile_agent(int argc, char **argv)
{
	bool ignore;
	int i = flag_then_paths(argc, argv, "--ignore-symlinks", 1, &ignore);

	if (i < 0)
		return 1;
	unsigned flags = ignore ? SPLQ_QFILE_IGNORE_SYMLINKS : 0;
	struct splq_qfile_send s;
	struct splq_error err = {0};
	int rc = splq_qfile_send(STDOUT_FILENO, STDIN_FILENO, (const char *const *)argv + i,
	                         (size_t)(argc - i), flags, &s, &err);
	if (rc < 0)
		fprintf(stderr, "qfile-agent: %s\n", err.msg);
	splq_qfile_send_free(&s);
	return rc < 0 ? 1 : 0;
}

/* ---- qubes.Filecopy ---- */

/* ~/QubesIncoming/SOURCE, made (0700) where missing, opened without
 * following a link at any step below the home directory. */
static int open_incoming(const char *source, struct splq_error *err)
{
	/* a qube's pid 1 gives every command the user's home */
	const char *home = getenv("HOME");

	if (!home || home[0] != '/')
		return splq_fail(err, SPLQ_E_NOTFOUND, "no home directory in HOME");
	cleanup_close int h = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h < 0)
		return splq_fail_errno(err, SPLQ_E_NOTFOUND, errno, "cannot open '%s'", home);
	const char *steps[] = {"QubesIncoming", source};
	int fd = h;
	for (int s = 0; s < 2; s++) {
		if (mkdirat(fd, steps[s], 0700) < 0 && errno != EEXIST)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot make '%s'",
			                       steps[s]);
		int next = openat(fd, steps[s], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != h)
			close(fd);
		if (next < 0)
			return splq_fail_errno(err, SPLQ_E_INTERNAL, errno, "cannot open '%s'",
			                       steps[s]);
		fd = next;
	}
	return fd;
}

int splq_qubes_filecopy(int argc, char **argv)
{
	const char *source = getenv("QREXEC_REMOTE_DOMAIN");
	const char *manifest = getenv("SPLQ_QFILE_MANIFEST");
	unsigned flags = 0;
	struct splq_error err = {0};

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "allow-all-names") != 0)) {
		fprintf(stderr, "qubes.Filecopy: unknown argument '%s'\n", argv[1]);
		return 1;
	}
	if (argc == 2)
		flags |= SPLQ_QFILE_ALLOW_ALL_NAMES;
	if (!source || !*source || strlen(source) > 63 || strchr(source, '/') ||
	    strcmp(source, ".") == 0 || strcmp(source, "..") == 0) {
		fprintf(stderr, "qubes.Filecopy: no calling qube in QREXEC_REMOTE_DOMAIN\n");
		return 1;
	}
	int dir = open_incoming(source, &err);
	if (dir < 0) {
		fprintf(stderr, "qubes.Filecopy: %s\n", err.msg);
		return 1;
	}
	struct splq_qfile_recv r;
	int rc =
	    manifest && strcmp(manifest, "1") == 0
	        ? splq_qfile_receive_confirmed(STDIN_FILENO, STDOUT_FILENO, dir, flags, &r, &err)
	        : splq_qfile_receive(STDIN_FILENO, STDOUT_FILENO, dir, flags, &r, &err);
	if (rc < 0)
		fprintf(stderr, "qubes.Filecopy: %s\n", err.msg);
	splq_qfile_recv_free(&r);
	close(dir);
	return rc < 0 ? 1 : 0;
}

/* ---- splq-remove ---- */

int splq_remove(int argc, char **argv)
{
	bool secure;
	int i = flag_then_paths(argc, argv, "--secure", 0, &secure), rc = 0;

	if (i < 0)
		return 1;
	unsigned flags = secure ? SPLQ_RM_SECURE : 0;
	for (; i < argc; i++) {
		struct splq_error err = {0};
		if (splq_rm_tree(argv[i], flags, &err) < 0) {
			fprintf(stderr, "splq-remove: %s\n", err.msg);
			rc = 1;
		}
	}
	return rc;
}
