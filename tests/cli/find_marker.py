#!/usr/bin/env python3
"""Print every regular file under the given folders whose bytes hold a
marker, for the vault's tests (no plaintext anywhere on disk).

    find_marker.py MARKER DIR...

Only the data of a file is read (SEEK_DATA and SEEK_HOLE), so that a
sparse volume image of gigabytes costs what it holds.  Links are not
followed; folders named bats-run-* (the tests' own files) are skipped.
Exits 0 either way."""
import os
import stat
import sys


def holds(path, mark):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        pos, tail = 0, b""
        while pos < st.st_size:
            try:
                pos = os.lseek(fd, pos, os.SEEK_DATA)
                stop = os.lseek(fd, pos, os.SEEK_HOLE)
            except OSError:
                break
            os.lseek(fd, pos, os.SEEK_SET)
            tail = b""
            while pos < stop:
                b = os.read(fd, min(1 << 22, stop - pos))
                if not b:
                    break
                if mark in tail + b:
                    return True
                tail, pos = b[-len(mark):], pos + len(b)
        return False
    finally:
        os.close(fd)


def main():
    mark = sys.argv[1].encode()
    for top in sys.argv[2:]:
        for d, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if not x.startswith("bats-run-")]
            for f in files:
                if holds(os.path.join(d, f), mark):
                    print(os.path.join(d, f))


main()
