#!/usr/bin/env python3
"""Run a command on a new pseudo-terminal, as a user at a terminal would,
and say what happened.  For the terminal tests of splq.

    ptyrun.py [--steps JSON] [--rows R --cols C] -- COMMAND [ARG...]

The command gets the terminal's slave as stdin, stdout and stderr and as
its controlling terminal.  Steps, one JSON list, run in order:
    {"send": "text"}             type text (\\u0003 is Ctrl-C, ...)
    {"expect": "regex", "timeout": S}   wait until the output matches
    {"resize": [rows, cols]}     change the window size (SIGWINCH)
    {"sleep": S}
    {"raw": true|false}          the terminal is (not) in raw mode now
    {"kill": SIGNAL}             signal the command (by its pid)
    {"killfile": PATH, "signal": N}  signal the pid written in PATH
At the end (the command exits, or 30 s after the last step) prints one
JSON object: exit (its exit code, 128+N for a signal), output (all it
wrote), attrs_same (the terminal's settings are what they were before),
rdev ("major:minor" of the slave), dev (st_dev of the slave: its devpts
instance), failed (the step that did not match,
or null).
"""
import argparse
import fcntl
import json
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", default="[]")
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--wait", type=float, default=30.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    steps = json.loads(a.steps)

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    before = termios.tcgetattr(slave)
    st = os.fstat(slave)
    rdev = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    dev = st.st_dev

    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print("exec %s: %s" % (cmd[0], e), file=sys.stderr)
        os._exit(127)

    out = bytearray()
    status = None

    def pump(timeout):
        nonlocal status
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            out.extend(data)
        if status is None:
            p, s = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = s

    failed = None
    for i, step in enumerate(steps):
        if "send" in step:
            os.write(master, step["send"].encode())
        elif "expect" in step:
            rx = re.compile(step["expect"].encode(), re.S)
            end = time.time() + step.get("timeout", 10)
            start = len(out) if step.get("new") else 0
            while not rx.search(bytes(out[start:])) and time.time() < end:
                pump(0.05)
            if not rx.search(bytes(out[start:])):
                failed = {"step": i, "expect": step["expect"]}
                break
        elif "resize" in step:
            rows, cols = step["resize"]
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif "sleep" in step:
            end = time.time() + step["sleep"]
            while time.time() < end:
                pump(0.05)
        elif "raw" in step:
            # the terminal is (or is not) in raw mode now
            lflag = termios.tcgetattr(slave)[3]
            if bool(lflag & termios.ICANON) == bool(step["raw"]):
                failed = {"step": i, "raw": step["raw"]}
                break
        elif "kill" in step:
            os.kill(pid, step["kill"])
        elif "killfile" in step:
            with open(step["killfile"]) as f:
                os.kill(int(f.read().split()[0]), step.get("signal", 9))

    end = time.time() + a.wait
    while status is None and time.time() < end:
        pump(0.05)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    while True:
        r, _, _ = select.select([master], [], [], 0.05)
        if not r:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out.extend(data)
    after = termios.tcgetattr(slave)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({
        "exit": code if code >= 0 else 128 - code,
        "output": out.decode("utf-8", "replace"),
        "attrs_same": before == after,
        "rdev": rdev,
        "dev": dev,
        "failed": failed,
    }))


if __name__ == "__main__":
    main()
