#!/usr/bin/env python3
# splq tests: qfile streams (qubes.Filecopy) that a hostile sender writes,
# one per case, to stdout; run inside a qube and piped into
# qrexec-client-vm TARGET qubes.Filecopy.  With "lying-receiver" instead,
# it is a receiver: it reads a stream, answers with a result whose CRC is
# wrong, and exits 0.  With "bad-manifest", a receiver whose result is
# right but whose manifest gives every file another SHA-256; the host's
# answer goes to /tmp/answer.
import struct
import sys
import zlib

S_IFREG, S_IFDIR, S_IFLNK = 0o100000, 0o040000, 0o120000


def hdr(name, mode, data=b"", namelen=None, nsec=0):
    raw = name.encode("utf-8", "surrogateescape") + b"\0"
    n = len(raw) if namelen is None else namelen
    return struct.pack("<IIQIIII", n, mode, len(data), 0, nsec, 0, nsec) + raw + data


END = b"\0" * 32

CASES = {
    "absolute": hdr("/tmp/evil", S_IFREG | 0o644, b"x") + END,
    "dotdot": hdr("../evil", S_IFREG | 0o644, b"x") + END,
    "empty-component": hdr("d", S_IFDIR | 0o755) + hdr("d//evil", S_IFREG | 0o644, b"x")
    + hdr("d", S_IFDIR | 0o755) + END,
    "escaping-symlink": hdr("d", S_IFDIR | 0o755) + hdr("d/l", S_IFLNK | 0o777, b"../../..")
    + hdr("d", S_IFDIR | 0o755) + END,
    "absolute-symlink": hdr("d", S_IFDIR | 0o755) + hdr("d/l", S_IFLNK | 0o777, b"/etc")
    + hdr("d", S_IFDIR | 0o755) + END,
    "huge-namelen": struct.pack("<IIQIIII", 0x7FFFFFFF, S_IFREG | 0o644, 0, 0, 0, 0, 0) + b"a" * 64,
    "truncated": hdr("part", S_IFREG | 0o644, b"y" * 100)[: 32 + 5 + 10],
    "nsec": hdr("late", S_IFREG | 0o644, b"x", nsec=1000000000) + END,
    "file-then-dir": hdr("x", S_IFREG | 0o644, b"x") + hdr("x", S_IFDIR | 0o755)
    + hdr("x", S_IFDIR | 0o755) + END,
    "control-chars": hdr("a\x1b[31mb", S_IFREG | 0o644, b"x") + END,
    "no-end": hdr("kept-only-if-ended", S_IFREG | 0o644, b"x"),
}


def receive():
    """Read one stream from stdin: its CRC and regular files' names/sizes."""
    data = sys.stdin.buffer
    crc, files = 0, []
    while True:
        h = data.read(32)
        crc = zlib.crc32(h, crc)
        namelen, mode, size = struct.unpack("<IIQ", h[:16])
        if namelen == 0:
            return crc, files, last
        name = data.read(namelen)
        crc = zlib.crc32(name, crc)
        last = name[:-1]
        body = data.read(size)
        crc = zlib.crc32(body, crc)
        if mode & 0o170000 == S_IFREG:
            files.append((last, size))


def main():
    case = sys.argv[1]
    out = sys.stdout.buffer
    if case in ("lying-receiver", "bad-manifest"):
        crc, files, last = receive()
        if case == "lying-receiver":
            crc ^= 1
        out.write(struct.pack("<IIQI", 0, 0, crc, len(last)) + last)
        if case == "bad-manifest":
            for name, size in files:
                out.write(struct.pack("<IQ", len(name), size) + b"\xab" * 32 + name)
            out.write(b"\0\0\0\0")
            out.flush()
            answer = sys.stdin.buffer.read(1)
            with open("/tmp/answer", "wb") as f:
                f.write(answer)
        out.flush()
        return
    out.write(CASES[case])


if __name__ == "__main__":
    main()
