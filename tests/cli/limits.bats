#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# shellcheck disable=SC2016  # the $ in single quotes is for the qube's shell
# splq: a qube's share of the kernel's per-user limits, the io_uring switch
# and the modes of the store's files.  The attacks run INSIDE a qube, as its
# root: a qube that exhausts a per-user limit (inotify instances and
# watches, POSIX message queue bytes) exhausts its own share, never the
# host root's nor another qube's.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	SYSCTL_RESTORE=()
}

teardown() {
	local s
	kill_bg_pids
	teardown_splq
	# after the qubes are gone, so that their watches no longer count
	for s in "${SYSCTL_RESTORE[@]}"; do
		printf '%s\n' "${s#*=}" >"${s%%=*}"
	done
}

# The attack: exhaust one per-user limit, print "WHAT COUNT ERRNO" (how
# many it got before the kernel refused, and the refusal), then hold what
# it got for $2 seconds.
#   inotify   inotify_init1 until it fails (EMFILE)
#   watches   inotify_add_watch on files of its own until it fails (ENOSPC)
#   mqueue    mq_open of default-sized queues until it fails (EMFILE)
ATTACK_PY='
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
what, hold = sys.argv[1], float(sys.argv[2])
held, n, err = [], 0, 0
if what == "inotify":
    while n < 100000:
        fd = libc.inotify_init1(0o2000000)
        if fd < 0:
            err = ctypes.get_errno()
            break
        held.append(fd)
        n += 1
elif what == "watches":
    os.makedirs("/tmp/w", exist_ok=True)
    files = []
    for i in range(int(sys.argv[3])):
        p = "/tmp/w/%d" % i
        open(p, "w").close()
        files.append(p.encode())
    while not err and n < 10000000:
        fd = libc.inotify_init1(0o2000000)
        if fd < 0:
            err = ctypes.get_errno()
            break
        held.append(fd)
        for p in files:
            if libc.inotify_add_watch(fd, p, 2) < 0:
                err = ctypes.get_errno()
                break
            n += 1
elif what == "mqueue":
    libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    while n < 10000:
        fd = libc.mq_open(b"/splq-attack-%d" % n, os.O_CREAT | os.O_RDWR, 0o600, None)
        if fd < 0:
            err = ctypes.get_errno()
            break
        held.append(fd)
        n += 1
print(what, n, err, flush=True)
time.sleep(hold)
'

# One try at what the attack exhausts: prints "ok" or "errno N".
PROBE_PY='
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
what = sys.argv[1]
r = -1
if what == "inotify":
    r = libc.inotify_init1(0o2000000)
elif what == "watches":
    fd = libc.inotify_init1(0o2000000)
    r = fd if fd < 0 else libc.inotify_add_watch(fd, b"/", 2)
elif what == "mqueue":
    libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    name = b"/splq-probe-%d" % os.getpid()
    r = libc.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, None)
    if r >= 0:
        libc.mq_unlink(name)
print("ok" if r >= 0 else "errno %d" % ctypes.get_errno())
'

# Start the attack WHAT [ARGS] in running qube Q in the background (its
# splq run killed by pid in teardown, the qube killed by the test) and
# wait for its report; ATTACK holds the report.
start_attack() {
	local q=$1 what=$2 out="$BATS_TEST_TMPDIR/attack-$2" i
	shift 2
	"$SPLQ" run --user root "$q" -- python3 -c "$ATTACK_PY" "$what" 120 "$@" \
		>"$out" 2>&1 </dev/null &
	BG_PIDS+=("$!")
	for ((i = 0; i < 300; i++)); do
		if [ -s "$out" ] && grep -q "^$what " "$out"; then
			ATTACK=$(grep "^$what " "$out")
			return 0
		fi
		sleep 0.1
	done
	echo "the attack did not report: $(cat "$out")" >&2
	return 1
}

# The attack exhausted the limit in qube Q ($1), with errno $2; then the
# host root, a host user and another running qube ($3) are untouched.
check_untouched() {
	local q=$1 want=$2 q2=$3 what
	read -r what _ e <<<"$ATTACK"
	if [ "$e" != "$want" ]; then
		echo "the attack ended with errno $e, not $want: $ATTACK"
		return 1
	fi
	# the attacker's own qube: its share is gone, for every user in it
	run --separate-stderr in_root "$q" python3 -c "$PROBE_PY" "$what"
	assert_status 0
	[ "$output" = "errno $want" ]
	# the host's root
	run python3 -c "$PROBE_PY" "$what"
	if [ "$output" != ok ]; then
		echo "host root: $what: $output (exhausted by qube $q)"
		return 1
	fi
	# a host user (the system python3: a root-only one may be first in PATH)
	run setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "$PROBE_PY" "$what"
	[ "$output" = ok ]
	# another qube, its root and its user
	run --separate-stderr in_root "$q2" python3 -c "$PROBE_PY" "$what"
	if [ "$output" != ok ]; then
		echo "qube $q2: $what: $output (exhausted by qube $q)"
		return 1
	fi
	run --separate-stderr "$SPLQ" run "$q2" -- python3 -c "$PROBE_PY" "$what"
	[ "$output" = ok ]
}

# ---------------------------------------------------------------- per-user limits

@test "a qube that exhausts inotify instances leaves the host root and other qubes theirs" {
	make_qube q
	make_qube q2
	run splq start q
	assert_status 0
	run splq start q2
	assert_status 0
	start_attack q inotify
	# the host's limit per user (128 by default) bounds the whole qube
	read -r _ n _ <<<"$ATTACK"
	[ "$n" -ge 1 ]
	[ "$n" -le "$(cat /proc/sys/fs/inotify/max_user_instances)" ]
	check_untouched q 24 q2
	run splq kill q
	assert_status 0
}

@test "a qube that exhausts inotify watches leaves the host root and other qubes theirs" {
	make_qube q
	make_qube q2
	run splq start q
	assert_status 0
	run splq start q2
	assert_status 0
	# a limit a qube reaches quickly: the watches root holds now plus 3000
	local f=/proc/sys/fs/inotify/max_user_watches old used
	old=$(cat "$f")
	used=$(cat /proc/[0-9]*/fdinfo/* 2>/dev/null | grep -c '^inotify wd' || true)
	SYSCTL_RESTORE+=("$f=$old")
	echo $((used + 3000)) >"$f"
	start_attack q watches 1000
	check_untouched q 28 q2
	run splq kill q
	assert_status 0
}

@test "a qube that exhausts POSIX message queue bytes leaves the host root and other qubes theirs" {
	make_qube q
	make_qube q2
	run splq start q
	assert_status 0
	run splq start q2
	assert_status 0
	start_attack q mqueue
	read -r _ n _ <<<"$ATTACK"
	[ "$n" -ge 1 ]
	check_untouched q 24 q2
	run splq kill q
	assert_status 0
}

@test "a qube's user namespace is owned by its base uid, and makes no namespaces of its own" {
	make_qube q
	run splq start q
	assert_status 0
	local init base
	init=$(cat "$SPLQ_RUN/qubes/q/init.pid")
	[[ $init =~ ^[0-9]+$ ]]
	base=$(awk '$1 == 0 { print $2 }' "/proc/$init/uid_map")
	[ "$base" -ge 1000000000 ]
	# NS_GET_OWNER_UID on the namespace of the qube's pid 1
	run python3 -c '
import ctypes, fcntl, os, sys
fd = os.open("/proc/%s/ns/user" % sys.argv[1], os.O_RDONLY)
uid = ctypes.c_uint(0)
fcntl.ioctl(fd, 0xb704, uid)
print(uid.value)' "$init"
	assert_status 0
	[ "$output" = "$base" ]
	# owning it grants a process of the host's user namespace with that
	# effective uid every capability in it: there is none (every process
	# that has the uid runs in a qube's user namespace)
	local p u hostns
	hostns=$(readlink /proc/self/ns/user)
	[ "$(readlink "/proc/$init/ns/user")" != "$hostns" ]
	for p in /proc/[0-9]*; do
		u=$(awk '/^Uid:/ { print $3 }' "$p/status" 2>/dev/null) || continue
		[ "$u" = "$base" ] || continue
		if [ "$(readlink "$p/ns/user" 2>/dev/null)" = "$hostns" ]; then
			echo "host process ${p#/proc/} runs as $base in the host's user namespace"
			return 1
		fi
	done
	# its own limits: no namespaces, and its root cannot raise that
	run --separate-stderr in_root q sh -c 'cat /proc/sys/user/max_user_namespaces /proc/sys/user/max_mnt_namespaces /proc/sys/user/max_net_namespaces'
	assert_status 0
	[ "$output" = $'0\n0\n0' ]
	run in_root q sh -c 'echo 100 > /proc/sys/user/max_user_namespaces'
	[ "$status" -ne 0 ]
	run --separate-stderr in_root q cat /proc/sys/user/max_user_namespaces
	[ "$output" = 0 ]
	# the host's are untouched
	[ "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 ]
}

# ---------------------------------------------------------------- io_uring

# io_uring_setup(4, params): prints "fd 0" when the kernel made a ring,
# "-1 ERRNO" when not.
IO_URING_PY='
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
params = ctypes.create_string_buffer(120)
ctypes.set_errno(0)
r = libc.syscall(ctypes.c_long(425), ctypes.c_long(4), params)
print("fd" if r >= 0 else r, ctypes.get_errno())
'

# A raw system call: prints "RET ERRNO".
SYSCALL_PY='
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
args = [ctypes.c_long(int(a)) for a in sys.argv[1:]]
ctypes.set_errno(0)
print(libc.syscall(*args), ctypes.get_errno())
'

require_io_uring() {
	[ "$(uname -m)" = x86_64 ] || skip "raw system call numbers are x86_64 ones"
	local v
	v=$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)
	[ "$v" = 0 ] || skip "io_uring is disabled on this host (kernel.io_uring_disabled=$v)"
	run python3 -c "$IO_URING_PY"
	[ "$output" = "fd 0" ] || skip "the host's kernel makes no io_uring: $output"
}

@test "inside a qube: io_uring is refused with EPERM; the feature splq.allow-io_uring allows it, audited" {
	require_io_uring
	make_qube q
	# refused, for root and for user, and io_uring_enter/register too
	run --separate-stderr in_root q python3 -c "$IO_URING_PY"
	assert_status 0
	[ "$output" = "-1 1" ]
	run --separate-stderr "$SPLQ" run q -- python3 -c "$IO_URING_PY"
	assert_status 0
	[ "$output" = "-1 1" ]
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 426 -1 0 0 0 0 0
	[ "$output" = "-1 1" ]
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 427 -1 0 0 0
	[ "$output" = "-1 1" ]
	run --separate-stderr "$SPLQ" dispvm --template t --user root -- python3 -c "$IO_URING_PY"
	assert_status 0
	[ "$output" = "-1 1" ]

	# a bad value is refused
	run --separate-stderr splq features q splq.allow-io_uring maybe
	assert_status 69
	[[ $stderr == *"feature 'splq.allow-io_uring' takes 1 or 0 (True or False), not 'maybe'"* ]]

	# the feature takes effect at the next start (q runs since the first
	# in_root)
	run splq features q splq.allow-io_uring 1
	assert_status 0
	run --separate-stderr in_root q python3 -c "$IO_URING_PY"
	[ "$output" = "-1 1" ]
	run splq shutdown --wait q
	assert_status 0
	run --separate-stderr in_root q python3 -c "$IO_URING_PY"
	assert_status 0
	[ "$output" = "fd 0" ]
	run --separate-stderr "$SPLQ" run q -- python3 -c "$IO_URING_PY"
	[ "$output" = "fd 0" ]
	# bad parameters reach the kernel now: EBADF, not EPERM
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 426 -1 0 0 0 0 0
	[ "$output" = "-1 9" ]
	# the rest of the filter stays: a new user namespace is still refused
	run --separate-stderr in_root q python3 -c "$SYSCALL_PY" 272 $((0x10000000))
	[ "$output" = "-1 1" ]

	# the audit log has the feature and the start that allowed it
	run --separate-stderr splq audit log --qube q
	assert_status 0
	grep -q ' features q ok splq.allow-io_uring=1$' <<<"$output"
	grep -q ' start q ok .*splq.allow-io_uring=1$' <<<"$output"

	# another qube is not affected; 0 turns it off again
	make_qube q2
	run --separate-stderr in_root q2 python3 -c "$IO_URING_PY"
	[ "$output" = "-1 1" ]
	run splq kill q
	assert_status 0
	run splq features q splq.allow-io_uring 0
	assert_status 0
	run --separate-stderr in_root q python3 -c "$IO_URING_PY"
	[ "$output" = "-1 1" ]
	run splq kill q
	run splq kill q2
}

@test "a disposable takes splq.allow-io_uring from the qube it is made from, unless it has its own" {
	require_io_uring
	make_qube dvm t --prop template_for_dispvms=True
	run splq features dvm splq.allow-io_uring True
	assert_status 0
	run --separate-stderr "$SPLQ" dispvm --template dvm --user root -- python3 -c "$IO_URING_PY"
	assert_status 0
	[ "$output" = "fd 0" ]
	run --separate-stderr splq audit log
	grep -q ' dispvm disp[0-9]* "exit 0" splq.allow-io_uring=1 --template dvm ' <<<"$output"
	run splq features --unset dvm splq.allow-io_uring
	assert_status 0
	run --separate-stderr "$SPLQ" dispvm --template dvm --user root -- python3 -c "$IO_URING_PY"
	assert_status 0
	[ "$output" = "-1 1" ]
}

# ---------------------------------------------------------------- store modes

# Every file and folder of the store and of the runtime state under $1
# whose mode is not 0600 (files) or 0700 (folders, sockets), one
# "MODE PATH" a line.  Left out: the volumes' contents (the qubes' own
# files, with the modes the qubes see: a template's root generations, a
# private volume, a running qube's layers and mount points) and symbolic
# links (which have no mode of their own).
loose_modes() {
	find "$@" \
		\( -path "$SPLQ_RUN/roots/*/*" -o -path "$SPLQ_RUN/privates/*/*" \
		-o -path "$SPLQ_HOME/qubes/*/private" -o -path "$SPLQ_RUN/qubes/*/plower" \
		-o -path "$SPLQ_RUN/qubes/*/root" -o -path "$SPLQ_RUN/qubes/*/lower" \
		-o -path "$SPLQ_RUN/qubes/*/upper" -o -path "$SPLQ_RUN/qubes/*/work" \
		-o -path "$SPLQ_RUN/qubes/*/private" \) -prune -o \
		\( -type f ! -perm 0600 -printf '%m %p\n' \) -o \
		\( -type d ! -perm 0700 -printf '%m %p\n' \) -o \
		\( -type s ! -perm 0700 ! -perm 0600 -printf '%m %p\n' \)
}

@test "every file of the store is 0600 and every folder 0700, whatever the umask" {
	# splq makes both folders itself
	rmdir "$SPLQ_HOME" "$SPLQ_RUN"
	(
		umask 000
		make_host_template t
		"$SPLQ" create q --template t
		"$SPLQ" create dvm --template t --prop template_for_dispvms=True
		"$SPLQ" features q splq.allow-io_uring 1
		"$SPLQ" start q
		"$SPLQ" run q -- true
		"$SPLQ" dispvm --template dvm -- true
		"$SPLQ" dispvm --template t -- true
		"$SPLQ" audit verify
	) >"$BATS_TEST_TMPDIR/out" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/out"
		return 1
	}
	[ -f "$SPLQ_HOME/splq.db" ]
	[ -f "$SPLQ_HOME/splq.db-wal" ]
	[ -f "$SPLQ_HOME/audit.log" ]
	[ -f "$SPLQ_RUN/qubes/q/init.pid" ]
	run loose_modes "$SPLQ_HOME" "$SPLQ_RUN"
	if [ -n "$output" ]; then
		echo "not 0600/0700:"
		echo "$output"
		return 1
	fi
	run splq kill q
	assert_status 0
	run loose_modes "$SPLQ_HOME" "$SPLQ_RUN"
	[ -z "$output" ]
}

@test "a store made before this rule is tightened when splq opens it" {
	run splq ls
	assert_status 0
	chmod 0644 "$SPLQ_HOME/splq.db" "$SPLQ_HOME/splq.db-wal" "$SPLQ_HOME/splq.db-shm"
	run splq ls
	assert_status 0
	[ "$(stat -c %a "$SPLQ_HOME/splq.db")" = 600 ]
	[ "$(stat -c %a "$SPLQ_HOME/splq.db-wal")" = 600 ]
	[ "$(stat -c %a "$SPLQ_HOME/splq.db-shm")" = 600 ]
}
