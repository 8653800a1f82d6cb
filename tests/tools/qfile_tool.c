/* A test-only driver for the qfile stream, for checks against Qubes' own
 * qfile-agent and qfile-unpacker (built under build/, never installed):
 *   qfile_tool send [--ignore-symlinks] [--no-result] PATH...
 *                                    stream on stdout, result on stdin (unless --no-result)
 *   qfile_tool recv [--allow-all-names] [--sync] DIR  stream on stdin, result on stdout
 * Each prints what it did on stderr: the CRC-32, the result, one SHA-256
 * a regular file. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "formats/qfile.h"
#include "util.h"

static void print_hashes(const char *who, const struct splq_qfile_hashes *h)
{
	for (size_t i = 0; i < h->n; i++) {
		fprintf(stderr, "%s sha256 ", who);
		for (int k = 0; k < 32; k++)
			fprintf(stderr, "%02x", h->v[i].sha256[k]);
		fprintf(stderr, " %llu %s\n", (unsigned long long)h->v[i].size, h->v[i].name);
	}
}

int main(int argc, char **argv)
{
	struct splq_error err = {0};
	unsigned flags = 0;
	int i = 2, r;

	if (argc < 3)
		return 64;
	if (strcmp(argv[1], "send") == 0) {
		struct splq_qfile_send s;
		int in = 0;

		for (; i < argc - 1 && argv[i][0] == '-'; i++)
			if (strcmp(argv[i], "--no-result") == 0)
				in = -1;
			else
				flags |= SPLQ_QFILE_IGNORE_SYMLINKS;
		r = splq_qfile_send(1, in, (const char *const *)argv + i, (size_t)(argc - i), flags,
		                    &s, &err);
		fprintf(
		    stderr,
		    "send crc32 %08x entries %llu bytes %llu remote code %u crc %08llx last '%s'\n",
		    s.crc, (unsigned long long)s.entries, (unsigned long long)s.bytes,
		    s.remote_code, (unsigned long long)s.remote_crc,
		    s.remote_last ? s.remote_last : "(none)");
		splq_qfile_send_free(&s);
	} else if (strcmp(argv[1], "recv") == 0) {
		struct splq_qfile_recv rv;
		int dfd;

		for (; i < argc - 1 && argv[i][0] == '-'; i++)
			flags |= strcmp(argv[i], "--sync") == 0 ? SPLQ_QFILE_SYNC
			                                        : SPLQ_QFILE_ALLOW_ALL_NAMES;
		dfd = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			perror(argv[i]);
			return 66;
		}
		r = splq_qfile_receive(0, 1, dfd, flags, &rv, &err);
		fprintf(stderr, "recv crc32 %08x code %d bytes %llu\n", rv.p.crc, rv.p.error_code,
		        (unsigned long long)rv.bytes);
		print_hashes("recv", &rv.hashes);
		splq_qfile_recv_free(&rv);
		close(dfd);
	} else {
		return 64;
	}
	if (r < 0)
		fprintf(stderr, "qfile_tool: %s\n", err.msg);
	return r < 0 ? 1 : 0;
}
