#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# shellcheck disable=SC2016  # the $ in single quotes is for the qube's shell
# splq: what a qube's root can and cannot do.  Every test works from INSIDE
# a qube (a host-based template and an AppVM, or a disposable), as an
# attacker would: it looks for the host's files, processes and network,
# checks the uid mapping, the memory limit, the refused system calls and
# what the qube looks like from inside.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	MARKERS=()
	TAG="splq-test-marker-$$-${BATS_TEST_NUMBER:-0}"
}

teardown() {
	local f
	kill_bg_pids
	for f in "${MARKERS[@]}"; do
		rm -rf -- "$f"
	done
	teardown_splq
}

# Start a host command in the background (killed by pid in teardown); its
# pid is in BG_PID.
start_bg() {
	"$@" >/dev/null 2>&1 3>&- </dev/null &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# Wait (at most $2 tenths of a second) until file $1 is not empty.
wait_file() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# The base host uid of a qube's uid range, from "0 BASE 65536" in uid_map.
map_base() {
	awk '$1 == 0 { print $2 }' <<<"$1"
}

# A raw system call: python3 -c "$SYSCALL_PY" NR [ARG...] prints "RET ERRNO".
SYSCALL_PY='
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
args = [ctypes.c_long(int(a)) for a in sys.argv[1:]]
ctypes.set_errno(0)
r = libc.syscall(*args)
print(r, ctypes.get_errno())
'

# PTRACE_ATTACH to each pid given: prints "PID RET ERRNO" per pid.
PTRACE_PY='
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
for p in sys.argv[1:]:
    ctypes.set_errno(0)
    r = libc.ptrace(16, int(p), None, None)
    print(p, r, ctypes.get_errno())
'

# setns into every namespace of pid 1: prints "NS RET ERRNO" per namespace.
SETNS_PY='
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for ns in sorted(os.listdir("/proc/self/ns")):
    fd = os.open("/proc/self/ns/" + ns, os.O_RDONLY)
    ctypes.set_errno(0)
    r = libc.setns(fd, 0)
    print(ns, r, ctypes.get_errno())
'

# The classic chroot escape: chroot into a subdirectory while holding the
# old root open, walk ".." far up from there and chroot to where that ends.
# Then print what can be seen: the listing of / and whether each path given
# exists ("PATH yes|no").
CHROOT_ESCAPE_PY='
import os, sys
os.makedirs("/tmp/jail", exist_ok=True)
fd = os.open("/", os.O_RDONLY)
os.chroot("/tmp/jail")
os.fchdir(fd)
for _ in range(64):
    os.chdir("..")
os.chroot(".")
os.chdir("/")
print("root:", " ".join(sorted(os.listdir("/"))))
for p in sys.argv[1:]:
    print(p, "yes" if os.path.lexists(p) else "no")
'

# A loopback TCP listener on a free port; writes the port to $1.
LISTENER_PY='
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.sendall(b"host listener\n")
    c.close()
'

# Connect to 127.0.0.1:$1 and print what happened: "connected: DATA",
# "refused" or another error name.
CONNECT_PY='
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("connected:", s.recv(100).decode().strip())
except ConnectionRefusedError:
    print("refused")
except Exception as e:
    print(type(e).__name__, e)
'

# ---------------------------------------------------------------- host files

@test "a qube cannot see the host's files: a marker under /root, the host's shadow, the store" {
	make_qube q
	local marker="/root/$TAG" secret
	secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s\n' "$secret" >"$marker"
	MARKERS+=("$marker")
	[ -f "$marker" ]

	# the marker: not by its path, not in a listing of /root
	run in_root q test -e "$marker"
	assert_status 1
	run --separate-stderr in_root q ls -A /root
	assert_status 0
	[[ $output != *"$TAG"* ]]

	# /etc/shadow: the qube's own, not the host's; no host user, no host hash
	local host_sum
	host_sum=$(sha256sum </etc/shadow | cut -d' ' -f1)
	run --separate-stderr in_root q sh -c 'sha256sum </etc/shadow'
	assert_status 0
	[ "${output%% *}" != "$host_sum" ]
	run --separate-stderr in_root q cat /etc/shadow
	assert_status 0
	local qube_shadow=$output user hash
	[ -n "$qube_shadow" ]
	while IFS=: read -r user hash _; do
		[ -n "$user" ] || continue
		if [ "${#hash}" -gt 3 ] && [[ $qube_shadow == *"$hash"* ]]; then
			echo "the host's password hash of $user is in the qube's /etc/shadow"
			return 1
		fi
		case $user in
		root | user | nobody) ;;
		*)
			if grep -q "^$user:" <<<"$qube_shadow"; then
				echo "the host's user $user is in the qube's /etc/shadow"
				return 1
			fi
			;;
		esac
	done </etc/shadow

	# the store: not at its host path, nowhere in the qube's file systems
	[ -e "$SPLQ_HOME/splq.db" ]
	run in_root q test -e "$SPLQ_HOME/splq.db"
	assert_status 1
	run in_root q test -e "$SPLQ_HOME"
	assert_status 1
	run in_root q test -e "$SPLQ_RUN/qubes/q/supervisor.pid"
	assert_status 1
	run --separate-stderr in_root q sh -c \
		'find / /home /tmp /run /var /root -xdev \( -name splq.db -o -name audit.log -o -name "splq-test-*" \) -print 2>/dev/null; true'
	assert_status 0
	[ -z "$output" ]

	# a disposable sees no more
	run --separate-stderr "$SPLQ" dispvm --template t --user root -- sh -c \
		"test -e '$marker' && echo marker; test -e '$SPLQ_HOME/splq.db' && echo store; ls -A /root; echo done"
	assert_status 0
	[ "$output" = "done" ]
}

# ---------------------------------------------------------------- processes

@test "a qube sees only its own processes: pid 1 is splq-init, no host process" {
	make_qube q
	local secs=$((3000000 + RANDOM))
	start_bg sleep "$secs"
	local hostpid=$BG_PID
	# the host sees it
	pgrep -f "sleep $secs" >/dev/null

	run splq start q
	assert_status 0
	local sup
	sup=$(cat "$SPLQ_RUN/qubes/q/supervisor.pid")
	[[ $sup =~ ^[0-9]+$ ]]
	kill -0 "$sup"

	run --separate-stderr in_root q ps -e -o pid=,comm=
	assert_status 0
	local n=${#lines[@]}
	# splq-init, ps, and whatever splq runs the command with: a handful
	if [ "$n" -lt 2 ] || [ "$n" -gt 6 ]; then
		echo "ps -e inside lists $n processes:"
		printf '%s\n' "${lines[@]}"
		return 1
	fi
	local pid1
	pid1=$(awk '$1 == 1 { print $2 }' <<<"$output")
	[ "$pid1" = splq-init ]
	[[ $output != *sleep* ]]
	[[ $output != *bats* ]]

	# every /proc entry is one of those few processes
	run --separate-stderr in_root q sh -c 'ls -d /proc/[0-9]* | wc -l'
	assert_status 0
	[ "$output" -le 6 ]

	# the host's sleep: not by name, not by its command line, not by pid
	run in_root q pgrep -f "sleep $secs"
	assert_status 1
	run in_root q pgrep -x sleep
	assert_status 1
	run --separate-stderr in_root q sh -c \
		"cat /proc/$hostpid/cmdline 2>/dev/null | tr '\\0' ' '; cat /proc/$sup/cmdline 2>/dev/null | tr '\\0' ' '"
	assert_status 0
	[[ $output != *"$secs"* ]]
	[[ $output != *supervise* ]]
	# (patterns that do not match their own command line)
	run in_root q sh -c "grep -l -a -e '${secs:0:1}[${secs:1:1}]${secs:2}' -e '--supervis[e]' /proc/[0-9]*/cmdline 2>/dev/null"
	[ -z "$output" ]

	# and it cannot signal it
	run in_root q kill -0 "$hostpid"
	[ "$status" -ne 0 ]
	kill -0 "$hostpid"
}

# ---------------------------------------------------------------- network

@test "a qube's network is its own loopback: only lo, the host's loopback port unreachable" {
	make_qube q

	run --separate-stderr in_root q ip -o link
	assert_status 0
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "1: lo: <"*UP* ]]

	run --separate-stderr in_root q sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"
	assert_status 0
	[ "$output" = lo ]

	# a listener on the host's 127.0.0.1
	local portfile="$BATS_TEST_TMPDIR/port"
	start_bg python3 -c "$LISTENER_PY" "$portfile"
	wait_file "$portfile"
	local port
	port=$(cat "$portfile")
	[[ $port =~ ^[0-9]+$ ]]
	# the host reaches it
	run python3 -c "$CONNECT_PY" "$port"
	[ "$output" = "connected: host listener" ]

	# the qube does not: its 127.0.0.1 is its own, nobody listens there
	run --separate-stderr in_root q python3 -c "$CONNECT_PY" "$port"
	assert_status 0
	[ "$output" = refused ]
	run --separate-stderr "$SPLQ" run q -- python3 -c "$CONNECT_PY" "$port"
	assert_status 0
	[ "$output" = refused ]

	# nor through any other address it might know of the host
	run --separate-stderr in_root q sh -c 'ip -o -4 addr show; ip route show'
	assert_status 0
	[[ $output != *"scope global"* ]]
	[[ $output != *default* ]]
}

# ---------------------------------------------------------------- uid mapping

@test "a qube's uids map to a high host range: root and user files owned by base and base+1000" {
	make_qube q

	run --separate-stderr in_root q cat /proc/self/uid_map
	assert_status 0
	local uidmap=$output base
	read -r -a f <<<"$uidmap"
	[ "${#lines[@]}" -eq 1 ]
	[ "${f[0]}" = 0 ]
	[ "${f[2]}" = 65536 ]
	base=${f[1]}
	[ "$base" -ge 1000000000 ]
	run --separate-stderr in_root q cat /proc/self/gid_map
	assert_status 0
	[ "$(map_base "$output")" = "$base" ]

	# the qube's root writes /home: the file is the base uid's on the host
	# (seen through the qube's pid 1: the private volume is mounted in the
	# qube's mount namespace only)
	run in_root q sh -c 'echo root > /home/rootfile'
	assert_status 0
	local pv
	pv="/proc/$(cat "$SPLQ_RUN/qubes/q/init.pid")/root/home"
	[ -f "$pv/rootfile" ]
	[ "$(stat -c %u "$pv/rootfile")" = "$base" ]
	[ "$(stat -c %g "$pv/rootfile")" = "$base" ]
	[ "$(stat -c %u "$pv/rootfile")" != 0 ]

	# its user writes /home/user: base + 1000
	run "$SPLQ" run q -- sh -c 'id -u; echo user > /home/user/userfile'
	assert_status 0
	[ "${lines[0]}" = 1000 ]
	[ -f "$pv/user/userfile" ]
	[ "$(stat -c %u "$pv/user/userfile")" = $((base + 1000)) ]
	[ "$(stat -c %g "$pv/user/userfile")" = $((base + 1000)) ]

	# a second qube gets a range of its own, disjoint from the first
	make_qube q2
	run --separate-stderr in_root q2 cat /proc/self/uid_map
	assert_status 0
	local base2
	base2=$(map_base "$output")
	[ "$base2" -ge 1000000000 ]
	local d=$((base2 - base))
	[ "${d#-}" -ge 65536 ]
	run in_root q2 sh -c 'touch /home/f'
	assert_status 0
	[ "$(stat -c %u "/proc/$(cat "$SPLQ_RUN/qubes/q2/init.pid")/root/home/f")" = "$base2" ]
}

# ---------------------------------------------------------------- memory

@test "a qube with --memory 64: a memory hog is killed, the qube and the host live on" {
	make_qube m t --memory 64 --maxmem 64
	run splq start m
	assert_status 0

	# the limit is in the qube's cgroup
	local d limit=""
	while IFS= read -r d; do
		if [ -f "$d/memory.limit_in_bytes" ]; then
			limit=$(cat "$d/memory.limit_in_bytes")
		elif [ -f "$d/memory.max" ]; then
			limit=$(cat "$d/memory.max")
		fi
	done < <(qube_cgroup_dirs m)
	[ "$limit" = $((64 * 1024 * 1024)) ]

	# 400 MB through tail, which keeps it all: tail is killed (SIGKILL)
	run in_root m sh -c 'head -c 400M /dev/zero | tail'
	assert_status 137

	run --separate-stderr splq ls
	assert_status 0
	[[ $output =~ (^|$'\n')m\ +AppVM\ +Running ]]
	run --separate-stderr "$SPLQ" run m -- echo alive
	assert_status 0
	[ "$output" = alive ]

	# 300 MB touched by python3: killed, as the qube's user too
	run "$SPLQ" run m -- python3 -c 'b = b"x" * (300 << 20); print("survived", len(b))'
	assert_status 137
	[[ $output != *survived* ]]

	run --separate-stderr in_root m cat /proc/1/cmdline
	assert_status 0
	[[ $output == splq-init* ]]
	run --separate-stderr splq --json ls
	assert_status 0
	[ "$(json_get qubes 1 name)" = m ]
	[ "$(json_get qubes 1 state)" = Running ]
}

# ---------------------------------------------------------------- refused

@test "inside a qube: mount is refused" {
	make_qube q
	run in_root q mount -t tmpfs none /mnt
	[ "$status" -ne 0 ]
	run --separate-stderr in_root q sh -c 'awk "\$5 == \"/mnt\"" /proc/self/mountinfo'
	assert_status 0
	[ -z "$output" ]
	# the raw system call: mount("none", "/mnt", "tmpfs", 0, NULL) -> EPERM
	run --separate-stderr in_root q python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)
print(r, ctypes.get_errno())'
	assert_status 0
	[ "$output" = "-1 1" ]
	# nor umount of what the qube was given
	run in_root q umount -l /home
	[ "$status" -ne 0 ]
	run in_root q test -e /home/user
	assert_status 0
}

@test "inside a qube: a new user namespace is refused" {
	make_qube q
	run in_root q unshare -U true
	[ "$status" -ne 0 ]
	run in_root q unshare -r true
	[ "$status" -ne 0 ]
	run "$SPLQ" run q -- unshare -U true
	[ "$status" -ne 0 ]
	run "$SPLQ" run q -- unshare -r true
	[ "$status" -ne 0 ]
	# unshare(CLONE_NEWUSER) (NR 272, flag 0x10000000) -> EPERM
	[ "$(uname -m)" = x86_64 ] || skip "raw system call numbers are x86_64 ones"
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 272 $((0x10000000))
	assert_status 0
	[ "$output" = "-1 1" ]
	run --separate-stderr "$SPLQ" run q -- python3 -c "$SYSCALL_PY" 272 $((0x10000000))
	assert_status 0
	[ "$output" = "-1 1" ]
	# other namespaces neither: mount, network, pid
	run in_root q unshare -m true
	[ "$status" -ne 0 ]
	run in_root q unshare -n true
	[ "$status" -ne 0 ]
	run in_root q unshare -p -f true
	[ "$status" -ne 0 ]
}

@test "inside a qube: kexec_load, init_module, finit_module are refused with EPERM" {
	[ "$(uname -m)" = x86_64 ] || skip "raw system call numbers are x86_64 ones"
	make_qube q
	local call
	for call in "246 0 0 0 0" "175 0 0 0" "313 -1 0 0" "320 -1 -1 0 0 0" "176 0 0"; do
		# shellcheck disable=SC2086  # the call is several words
		run --separate-stderr in_root q python3 -c "$SYSCALL_PY" $call
		assert_status 0
		if [ "$output" != "-1 1" ]; then
			echo "syscall $call: $output (expected -1 EPERM)"
			return 1
		fi
	done
}

@test "inside a qube: keyctl is refused with EPERM" {
	[ "$(uname -m)" = x86_64 ] || skip "raw system call numbers are x86_64 ones"
	make_qube q
	# keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1)
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 250 0 -3 1
	assert_status 0
	[ "$output" = "-1 1" ]
	run --separate-stderr "$SPLQ" run q -- python3 -c "$SYSCALL_PY" 250 0 -3 1
	assert_status 0
	[ "$output" = "-1 1" ]
	# request_key (249) too
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 249 0 0 0 0
	assert_status 0
	[ "$output" = "-1 1" ]
}

@test "inside a qube: ptrace of the qube's supervisor and of the host's shell fails" {
	make_qube q
	run splq start q
	assert_status 0
	local sup
	sup=$(cat "$SPLQ_RUN/qubes/q/supervisor.pid")
	[[ $sup =~ ^[0-9]+$ ]]
	kill -0 "$sup"
	run --separate-stderr in_root q python3 -c "$PTRACE_PY" "$sup" "$BASHPID" "$$"
	assert_status 0
	[ "${#lines[@]}" -eq 3 ]
	local l p r e
	for l in "${lines[@]}"; do
		read -r p r e <<<"$l"
		if [ "$r" != -1 ] || { [ "$e" != 3 ] && [ "$e" != 1 ]; }; then
			echo "PTRACE_ATTACH $p from inside: $l (expected -1 ESRCH or EPERM)"
			return 1
		fi
	done
	# both are still there and not traced
	kill -0 "$sup"
	[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$sup/status")" = 0 ]
	[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$BASHPID/status")" = 0 ]
}

@test "inside a qube: setns fails, pivot_root fails, pid 1 cannot be inspected" {
	make_qube q
	run --separate-stderr in_root q python3 -c "$SETNS_PY"
	assert_status 0
	[ "${#lines[@]}" -ge 6 ]
	local l ns r e
	for l in "${lines[@]}"; do
		read -r ns r e <<<"$l"
		if [ "$r" != -1 ] || [ "$e" != 1 ]; then
			echo "setns into /proc/self/ns/$ns: $l (expected -1 EPERM)"
			return 1
		fi
	done
	# pivot_root(2): the raw call and the tool
	run --separate-stderr in_root q python3 -c '
import ctypes, os
os.makedirs("/tmp/newroot/old", exist_ok=True)
libc = ctypes.CDLL(None, use_errno=True)
ctypes.set_errno(0)
r = libc.syscall(155, b"/tmp/newroot", b"/tmp/newroot/old")
print(r, ctypes.get_errno())'
	assert_status 0
	[ "$output" = "-1 1" ]
	run in_root q sh -c 'mkdir -p /tmp/nr/old && pivot_root /tmp/nr /tmp/nr/old'
	[ "$status" -ne 0 ]
	run --separate-stderr in_root q sh -c 'test -e /etc/passwd && hostname'
	assert_status 0
	[ "$output" = q ]
}

@test "inside a qube: a chroot escape ends in the qube's own root, not the host's" {
	make_qube q
	local marker="/root/$TAG"
	echo host >"$marker"
	MARKERS+=("$marker")
	run in_root q touch "/qube-root-$TAG"
	assert_status 0
	run --separate-stderr in_root q python3 -c "$CHROOT_ESCAPE_PY" \
		"/qube-root-$TAG" "$marker" "$SPLQ_HOME/splq.db" "$SPLQ_RUN/qubes/q" /work
	assert_status 0
	[ "${lines[1]}" = "/qube-root-$TAG yes" ]
	[ "${lines[2]}" = "$marker no" ]
	[ "${lines[3]}" = "$SPLQ_HOME/splq.db no" ]
	[ "${lines[4]}" = "$SPLQ_RUN/qubes/q no" ]
	[ "${lines[5]}" = "/work no" ]
}

@test "inside a qube: the host name cannot be changed, /proc/sysrq-trigger is not writable" {
	make_qube q
	run in_root q hostname x
	[ "$status" -ne 0 ]
	run in_root q sh -c 'echo x > /proc/sys/kernel/hostname'
	[ "$status" -ne 0 ]
	# sethostname(2) directly
	run --separate-stderr in_root q python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.sethostname(b"x", 1), ctypes.get_errno())'
	assert_status 0
	[ "$output" = "-1 1" ]
	run --separate-stderr in_root q hostname
	assert_status 0
	[ "$output" = q ]
	[ "$(hostname)" != x ]
	# "h" only prints the help: harmless if it ever got through
	run in_root q sh -c 'printf h > /proc/sysrq-trigger'
	[ "$status" -ne 0 ]
	run in_root q sh -c 'printf 1 > /proc/sys/kernel/sysrq'
	[ "$status" -ne 0 ]
}

# ---------------------------------------------------------------- inside view

@test "inside a qube: host name, its own /proc, a minimal /dev" {
	make_qube q
	run --separate-stderr "$SPLQ" run q -- hostname
	assert_status 0
	[ "$output" = q ]
	run --separate-stderr in_root q sh -c 'tr "\0" " " </proc/1/cmdline'
	assert_status 0
	[[ $output == splq-init* ]]
	run --separate-stderr in_root q sh -c 'readlink /proc/self; sed -n "s/^Name:\t//p" /proc/1/status'
	assert_status 0
	[ "${lines[0]}" -lt 100 ]
	[ "${lines[1]}" = splq-init ]
	# pid 1 holds the control socket: not even the qube's root may look
	# into it (it is not dumpable)
	run in_root q readlink /proc/1/exe
	[ "$status" -ne 0 ]
	run in_root q readlink /proc/1/fd/3
	[ "$status" -ne 0 ]

	run --separate-stderr in_root q sh -c 'ls -A /dev | sort | tr "\n" " "'
	assert_status 0
	[ "$output" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " ]
	run --separate-stderr in_root q sh -c \
		'find /dev -xdev -type b; for d in null zero full random urandom tty; do test -c /dev/$d || echo "not a char device: $d"; done; for x in sda vda mem kmem port kmsg mapper loop0 nvme0 dri fuse net/tun; do test -e /dev/$x && echo "present: $x"; done; true'
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr in_root q sh -c 'head -c 4 /dev/zero | od -An -tx1 | tr -d " "; echo ok > /dev/null'
	assert_status 0
	[ "$output" = 00000000 ]
}

@test "inside a qube: /tmp is private, to the host and to another qube" {
	make_qube q
	make_qube q2
	local name="/tmp/$TAG"
	MARKERS+=("$name")
	run in_root q sh -c "echo qube-q > $name"
	assert_status 0
	run --separate-stderr "$SPLQ" run q -- cat "$name"
	assert_status 0
	[ "$output" = qube-q ]
	[ ! -e "$name" ]
	run in_root q2 test -e "$name"
	assert_status 1
	# the other way round: the host's /tmp file is not in the qube
	echo host >"$name"
	run in_root q2 test -e "$name"
	assert_status 1
	run --separate-stderr "$SPLQ" run q -- cat "$name"
	assert_status 0
	[ "$output" = qube-q ]
}

@test "inside a qube: init reaps orphans, no zombie is left" {
	make_qube q
	local i
	for i in 1 2 3; do
		# the orphans let go of the caller's output, so run returns at once;
		# they outlive the three runs and the ps even on a slow machine
		# (an emulated one: make check-kernels)
		run "$SPLQ" run q -- sh -c 'sleep 4 >/dev/null 2>&1 & sleep 4 >/dev/null 2>&1 & exit 0'
		assert_status 0
	done
	# the orphans are still running, in the qube
	run --separate-stderr in_root q ps -e -o pid=,ppid=,stat=,comm=
	assert_status 0
	local n
	n=$(grep -c ' sleep$' <<<"$output" || true)
	[ "$n" -ge 4 ]
	# after they end: neither they nor a zombie of them remain
	for ((i = 0; i < 100; i++)); do
		run --separate-stderr in_root q ps -e -o stat=,comm=
		if ! grep -q -e sleep -e '^Z' -e defunct <<<"$output"; then
			break
		fi
		sleep 0.1
	done
	assert_status 0
	if grep -q -e '^Z' -e defunct -e sleep <<<"$output"; then
		echo "left inside the qube:"
		printf '%s\n' "$output"
		return 1
	fi
}

@test "inside a qube: no CAP_SYS_ADMIN, no capability for user, no_new_privs, seccomp filter" {
	make_qube q
	run --separate-stderr in_root q grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status
	assert_status 0
	local capbnd capeff
	capbnd=$(awk '$1 == "CapBnd:" { print $2 }' <<<"$output")
	capeff=$(awk '$1 == "CapEff:" { print $2 }' <<<"$output")
	[ -n "$capbnd" ] && [ -n "$capeff" ]
	# CAP_SYS_ADMIN = 21, CAP_SYS_MODULE = 16, CAP_SYS_PTRACE = 19, CAP_SYS_RAWIO = 17
	local bit
	for bit in 16 17 19 21; do
		if (((16#$capbnd >> bit) & 1)) || (((16#$capeff >> bit) & 1)); then
			echo "capability $bit in the bounding or effective set of the qube's root: $output"
			return 1
		fi
	done
	[[ $output == *$'NoNewPrivs:\t1'* ]]
	[[ $output =~ Seccomp:[[:space:]]+2 ]]

	run --separate-stderr "$SPLQ" run q -- grep -E '^(CapEff|CapPrm|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
	assert_status 0
	[[ $output =~ CapEff:[[:space:]]+0+($'\n'|$) ]]
	[[ $output =~ CapPrm:[[:space:]]+0+($'\n'|$) ]]
	[[ $output =~ CapAmb:[[:space:]]+0+($'\n'|$) ]]
	[[ $output == *$'NoNewPrivs:\t1'* ]]
	[[ $output =~ Seccomp:[[:space:]]+2 ]]

	# the same for pid 1
	run --separate-stderr in_root q grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/1/status
	assert_status 0
	capbnd=$(awk '$1 == "CapBnd:" { print $2 }' <<<"$output")
	(((16#$capbnd >> 21) & 1)) && return 1
	[[ $output =~ Seccomp:[[:space:]]+2 ]]
}

# ---------------------------------------------------------------- template

@test "a host template's root holds none of the host's secrets: shadow, ssh keys, /root, /home" {
	# markers on the host before the template is made
	local rmark="/root/$TAG" hmark="/home/$TAG" kmark=""
	echo secret >"$rmark"
	MARKERS+=("$rmark")
	mkdir "$hmark"
	echo secret >"$hmark/file"
	MARKERS+=("$hmark")
	if [ -d /etc/ssh ]; then
		kmark="/etc/ssh/ssh_host_${TAG//-/_}_key"
		printf 'not a real key\n' >"$kmark"
		chmod 600 "$kmark"
		MARKERS+=("$kmark")
	fi

	make_host_template t
	# the root is an ext4 image: looked at through a read-only mount of
	# the test's own under SPLQ_RUN (teardown unmounts it and frees its
	# loop device, whatever happens)
	local root="$SPLQ_RUN/inspect"
	mkdir "$root"
	mount -o ro,norecovery,nosuid,nodev,noexec,loop "$SPLQ_HOME/templates/t/root" "$root"
	[ -d "$root/etc" ]

	# /etc/shadow and gshadow: the template's own
	[ -f "$root/etc/shadow" ]
	local f
	for f in shadow gshadow sudoers; do
		if [ -f "/etc/$f" ] && cmp -s "/etc/$f" "$root/etc/$f"; then
			echo "the template's /etc/$f is the host's"
			return 1
		fi
	done
	local user hash
	while IFS=: read -r user hash _; do
		[ -n "$user" ] || continue
		if [ "${#hash}" -gt 3 ] && grep -qF -- "$hash" "$root/etc/shadow"; then
			echo "the host's password hash of $user is in the template"
			return 1
		fi
		case $user in
		root | user | nobody) ;;
		*)
			if grep -q "^$user:" "$root/etc/shadow"; then
				echo "the host's user $user is in the template's /etc/shadow"
				return 1
			fi
			;;
		esac
	done </etc/shadow

	# no ssh key, no sudoers, no copy of a host secret anywhere in the template
	run find "$root" -xdev \( -path "*/ssh/*key*" -o -name "ssh_host_*" -o -name "sudoers*" \
		-o -name "$TAG" -o -name "*.pem" -path "*/private/*" \) -print
	assert_status 0
	[ -z "$output" ]
	if [ -n "$kmark" ]; then
		[ ! -e "$root$kmark" ]
	fi

	# /root and /home: not the host's
	[ ! -e "$root$rmark" ]
	[ ! -e "$root$hmark" ]
	local e
	while IFS= read -r e; do
		case $e in
		.bashrc | .profile) continue ;;
		esac
		if [ -e "$root/root/$e" ] || [ -L "$root/root/$e" ]; then
			echo "the host's /root/$e is in the template"
			return 1
		fi
	done < <(ls -A /root)
	while IFS= read -r e; do
		if [ -e "$root/home/$e" ] || [ -L "$root/home/$e" ]; then
			echo "the host's /home/$e is in the template"
			return 1
		fi
	done < <(ls -A /home)

	# and from inside an AppVM on it
	make_qube q t
	run --separate-stderr in_root q sh -c \
		"ls -A /root /home; ls /etc/ssh 2>/dev/null; test -e '$rmark' && echo rmark; test -e '$hmark' && echo hmark; true"
	assert_status 0
	[[ $output != *"$TAG"* ]]
	[[ $output != *key* ]]
	[[ $output != *rmark* && $output != *hmark* ]]
}

# A process holding the caller's terminal could type into the host's shell
# with TIOCSTI; commands in a qube never hold it (their stdio are pipes
# that splq relays: ENOTTY), have no controlling terminal (pid 1 starts
# each in a session of its own) and no CAP_SYS_ADMIN on the host.
TIOCSTI_PY='
import os, pty, sys
code = """
import fcntl, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    print("injected")
except OSError as e:
    print("refused", e.errno)
"""
pid, fd = pty.fork()
if pid == 0:
    # run --user USER QUBE, or dispvm --user USER --template TEMPLATE
    os.execv(sys.argv[1], [sys.argv[1]] + sys.argv[2:] + ["--", "python3", "-c", code])
out = b""
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
os.waitpid(pid, 0)
print(out.decode().strip())
'

@test "inside a qube: TIOCSTI on the caller's terminal cannot type into the host" {
	make_qube q
	local user
	for user in root user; do
		run python3 -c "$TIOCSTI_PY" "$SPLQ" run --user "$user" q
		assert_status 0
		[[ $output == "refused "* ]]
		run python3 -c "$TIOCSTI_PY" "$SPLQ" dispvm --user "$user" --template t
		assert_status 0
		[[ $output == "refused "* ]]
	done
}
