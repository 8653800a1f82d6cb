#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# shellcheck disable=SC2016  # the $ in single quotes is for the qube's shell
# splq: a hostile qube against the host's terminal and descriptors, and
# against the pid 1 that serves it.  Every attack runs from INSIDE a qube,
# on a real pseudo-terminal (ptyrun.py) where a terminal is at stake: no
# descriptor inside may be the caller's, bytes to a terminal are filtered,
# -t gives a terminal of the qube's own, and the host terminal's settings
# survive whatever happens.

bats_require_minimum_version 1.5.0

load helpers

PTYRUN="$BATS_TEST_DIRNAME/ptyrun.py"

setup() {
	require_root
	setup_splq
	make_host_template t
	"$SPLQ" create q --template t >/dev/null
}

teardown() {
	teardown_splq
}

# ptyrun STEPS COMMAND...: run COMMAND on a new pty; its JSON in $output.
ptyrun() {
	local steps=$1
	shift
	run python3 "$PTYRUN" --steps "$steps" -- "$@"
	assert_status 0
}

# pty_get KEY: a field of ptyrun's JSON.
pty_get() {
	json_get "$@"
}

# Every step of the last ptyrun matched; else show what the terminal saw.
assert_pty_steps() {
	if [ "$(pty_get failed)" != null ]; then
		printf 'step %s did not match; the terminal saw:\n%s\n' "$(pty_get failed)" \
			"$(pty_get output)" >&2
		return 1
	fi
}

# A scan of every descriptor the scanning user can see in its qube: each
# one on a mount that is not the qube's own (the host's devpts, a host
# file) prints "HOST pid fd link"; pipes, sockets and anonymous inodes
# are splq's or the qube's.  Ends with "SCANNED n".
FDSCAN_PY='
import os
own = set()
for line in open("/proc/self/mountinfo"):
    own.add(line.split()[0])
n = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        fds = os.listdir("/proc/%s/fd" % p)
    except OSError:
        continue
    for fd in fds:
        try:
            link = os.readlink("/proc/%s/fd/%s" % (p, fd))
            info = open("/proc/%s/fdinfo/%s" % (p, fd)).read()
        except OSError:
            continue
        n += 1
        mnt = [l.split()[1] for l in info.splitlines() if l.startswith("mnt_id:")][0]
        if link.split(":")[0] in ("pipe", "socket", "anon_inode") or link.startswith("anon_inode"):
            continue
        if mnt not in own:
            print("HOST", p, fd, link)
print("SCANNED", n)
'

# Fail if any descriptor of any process in qube $1 (scanned as root and as
# user, who cannot read each other's) is an object of the host's.
assert_no_host_fd_inside() {
	local q=$1 u
	for u in root user; do
		run "$SPLQ" run --user "$u" "$q" -- python3 -c "$FDSCAN_PY"
		assert_status 0
		[[ ${lines[-1]} =~ ^SCANNED\ ([0-9]+)$ ]]
		[ "${BASH_REMATCH[1]}" -ge 3 ]
		if [[ $output == *HOST* ]]; then
			echo "host descriptors inside '$q' (scanned as $u): $output" >&2
			return 1
		fi
	done
}

@test "terminal: a daemon left by run or run --no-wait holds nothing of the caller's terminal" {
	"$SPLQ" run q true
	# a daemon started by run, one by --no-wait, both trying to read the
	# terminal after splq returned; the host shell then reads a line
	ptyrun '[{"expect":"ready","timeout":20},{"send":"typed-secret\n"},{"expect":"host-got:typed-secret"}]' \
		sh -c "'$SPLQ' run q sh -c '(sleep 1; cat > /tmp/got-run) & echo started' &&
			'$SPLQ' run --no-wait q sh -c 'sleep 1; cat > /tmp/got-nowait' &&
			echo ready; read line; echo host-got:\$line; sleep 2"
	assert_pty_steps
	[ "$(pty_get attrs_same)" = true ]
	[[ $(pty_get output) == *"host-got:typed-secret"* ]]
	assert_no_host_fd_inside q
	run "$SPLQ" run q sh -c 'cat /tmp/got-run /tmp/got-nowait; echo end'
	assert_status 0
	[ "$output" = end ] # both daemons read EOF, never the typed line
}

@test "terminal: escape sequences from a qube reach a terminal as '_' unless --no-filter-escape-chars" {
	ptyrun '[]' "$SPLQ" run q sh -c 'printf "A\033]0;owned\007B\033[2JC\233D\n"; printf "E\033[31mF\n" >&2'
	local out
	out=$(pty_get output)
	[[ $out == *"A_]0;owned"$'\a'"B_[2JC_D"* ]]
	[[ $out == *"E_[31mF"* ]]
	[[ $out != *$'\033'* ]]
	ptyrun '[]' "$SPLQ" run --no-filter-escape-chars q printf 'A\033[31mB\n'
	out=$(pty_get output)
	[[ $out == *"A"$'\033'"[31mB"* ]]
	# not a terminal: bytes pass as they are (a pipe, and --json)
	run "$SPLQ" run q printf 'A\033[31mB'
	[ "$output" = "A"$'\033'"[31mB" ]
	run "$SPLQ" run --filter-escape-chars q printf 'A\033[31mB'
	[ "$output" = "A_[31mB" ]
}

@test "terminal: stty inside, without -t and with it, leaves the host terminal as it was" {
	ptyrun '[]' "$SPLQ" run q sh -c 'stty -echo raw; echo "stty=$?"'
	[[ $(pty_get output) == *"stty=1"* ]] # its stdin is no terminal
	[ "$(pty_get attrs_same)" = true ]
	ptyrun '[{"expect":"\\$ ","timeout":20},{"send":"stty -echo raw; echo stty=$?\r"},{"expect":"stty=0"},{"send":"exit\r"}]' \
		"$SPLQ" run -t q
	assert_pty_steps
	[ "$(pty_get attrs_same)" = true ]
}

@test "terminal: a host file as stdout cannot be reopened, read or truncated through /proc/self/fd" {
	local f="$BATS_TEST_TMPDIR/hostfile"
	printf 'earlier line\n' >"$f"
	"$SPLQ" run --user root q sh -c '
		readlink /proc/self/fd/1 >&2
		timeout 1 cat /proc/self/fd/1 >&2 || echo "no read" >&2
		(: > /proc/self/fd/1) 2>/dev/null || echo "no reopen" >&2
		python3 -c "import os; os.ftruncate(1, 0)" 2>/dev/null || echo "no truncate" >&2
		echo appended' >>"$f" 2>"$BATS_TEST_TMPDIR/err"
	[ "$(cat "$f")" = "earlier line"$'\n'"appended" ]
	grep -q '^pipe:' "$BATS_TEST_TMPDIR/err"
	! grep -q earlier "$BATS_TEST_TMPDIR/err"
}

@test "terminal: --json reads what was written, not a size the qube claims, and stops at --max-output" {
	# ftruncate of stdout to 1 GiB: a pipe has no size to claim
	run --separate-stderr "$SPLQ" --json run --user root q python3 -c '
import os, sys
try:
    os.ftruncate(1, 1 << 30)
    print("truncated", file=sys.stderr)
except OSError as e:
    print("refused", e.errno, file=sys.stderr)
sys.stdout.write("small")'
	assert_status 0
	[ "${#output}" -lt 4096 ]
	[ "$(json_get stdout)" = small ]
	[[ $(json_get stderr) == refused* ]]
	# 20 MiB past the default bound of 16 MiB: a clear error, code 77
	run --separate-stderr "$SPLQ" --json run q sh -c 'head -c 20971520 /dev/zero; sleep 30'
	assert_status 77
	[ "$(json_get code)" = 77 ]
	[[ $(json_get error) == *"--max-output"* ]]
	[ "${#output}" -lt 4096 ]
	run --separate-stderr "$SPLQ" --json run --max-output 1K q sh -c 'head -c 1024 /dev/zero | tr "\0" x'
	assert_status 0
	run --separate-stderr "$SPLQ" --json run --max-output 1K q sh -c 'head -c 1025 /dev/zero'
	assert_status 77
	run --separate-stderr "$SPLQ" --json dispvm --template t --max-output 100 -- head -c 5000 /dev/zero
	assert_status 77
	run -64 "$SPLQ" run --max-output lots q true
	[[ $output == *"--max-output: size 'lots' must be a whole number"* ]]
}

@test "terminal: no descriptor inside is the caller's terminal after run, --no-wait, dispvm and run -t" {
	ptyrun '[]' sh -c "'$SPLQ' run q sh -c 'sleep 60 & echo ok' && '$SPLQ' run --no-wait q sleep 60"
	assert_no_host_fd_inside q
	# a disposable looks at itself, with the caller's terminal all around
	ptyrun '[]' "$SPLQ" dispvm --template t -- sh -c 'sleep 60 & python3 -c "$1"' - "$FDSCAN_PY"
	[[ $(pty_get output) == *SCANNED* ]]
	[[ $(pty_get output) != *HOST* ]]
	# -t: the command's terminal is the qube's own pty, not the caller's
	ptyrun '[{"expect":"\\$ ","timeout":20},{"send":"tty; sleep 60 & exit\r"},{"expect":"/dev/pts/"}]' \
		"$SPLQ" run -t q
	assert_no_host_fd_inside q
}

@test "terminal: -t gives a terminal inside: tty, Ctrl-C, Ctrl-Z and fg, the window size and its changes" {
	# Each line is typed at a prompt, and each key after the shell has
	# read the line before it: typed ahead, a slow machine's (an emulated
	# one: make check-kernels) Ctrl-C would reach the shell, not sleep.
	# The echo's output starts a line, after \r or \n as TERM has it.
	ptyrun '[{"expect":"\\$ ","timeout":20},
		{"send":"tty; stty size\r"},{"expect":"/dev/pts/[0-9]+\r\n24 80\r\n.*\\$ "},
		{"send":"sleep 50; echo after-$((1+1))\r"},{"expect":"\\)\\)\r\n","new":true},
		{"sleep":0.5},{"send":"\u0003"},
		{"expect":"\\^C","new":true},{"send":"echo shell-goes-on\r"},{"expect":"[\r\n]shell-goes-on\r\n.*\\$ "},
		{"send":"sleep 40\r"},{"expect":"sleep 40\r\n","new":true},{"sleep":0.5},{"send":"\u001a"},{"expect":"Stopped"},
		{"send":"fg\r"},{"expect":"sleep 40","new":true},{"sleep":0.3},{"send":"\u0003"},
		{"resize":[45,120]},{"sleep":0.3},{"send":"stty size\r"},{"expect":"45 120"},
		{"send":"echo $0; exit 7\r"}]' \
		"$SPLQ" run -t q
	assert_pty_steps
	[ "$(pty_get exit)" = 7 ]
	[ "$(pty_get attrs_same)" = true ]
	local out
	out=$(pty_get output)
	[[ $out != *after-2* ]] # Ctrl-C ended sleep and its list, not the shell
	[[ $out == *"-bash"* ]]     # no command: the user's login shell
	# in a disposable, Ctrl-C interrupts the foreground job only
	ptyrun '[{"expect":"\\$ ","timeout":20},{"send":"sleep 50\r"},{"expect":"sleep 50\r\n","new":true},
		{"sleep":0.5},{"send":"\u0003"},{"expect":"\\^C","new":true},
		{"send":"echo still-here\r"},{"expect":"[\r\n]still-here\r\n"},{"send":"exit 3\r"}]' \
		"$SPLQ" dispvm --template t -t
	assert_pty_steps
	[ "$(pty_get exit)" = 3 ]
	[ "$(pty_get attrs_same)" = true ]
}

@test "terminal: the host terminal is restored when the qube is killed under run -t" {
	# (an explicit stdin: sh gives a background job /dev/null otherwise)
	ptyrun '[{"expect":"\\$ ","timeout":20},{"raw":true},{"send":"sleep 100\r"},{"sleep":0.5}]' \
		sh -c "'$SPLQ' run -t q </dev/tty & sleep 3; '$SPLQ' kill q; wait"
	assert_pty_steps
	[ "$(pty_get attrs_same)" = true ]
	[ "$(pty_get exit)" = 0 ]
	# and when splq itself gets SIGTERM or SIGHUP
	local sig
	for sig in TERM HUP; do
		ptyrun '[{"expect":"\\$ ","timeout":20},{"raw":true},{"send":"sleep 100\r"},{"sleep":0.5}]' \
			sh -c "'$SPLQ' run -t q </dev/tty & p=\$!; sleep 3; kill -$sig \$p; wait \$p; echo splq-ended=\$?"
		assert_pty_steps
		[ "$(pty_get attrs_same)" = true ]
		[[ $(pty_get output) == *splq-ended=* ]]
	done
}

@test "terminal: without -t, SIGINT to splq reaches the command's whole process group" {
	local t0 t1
	"$SPLQ" run q true
	"$SPLQ" run q sh -c 'sleep 4; echo after' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	sleep 0.7
	t0=$(date +%s%N)
	kill -INT "$pid"
	local st=0
	wait "$pid" || st=$?
	t1=$(date +%s%N)
	[ "$st" -eq 130 ]
	! grep -q after "$BATS_TEST_TMPDIR/out"
	if (((t1 - t0) / 1000000 > 2500)); then
		echo "splq run took $(((t1 - t0) / 1000000)) ms to end after SIGINT" >&2
		return 1
	fi
	run "$SPLQ" run q sh -c 'ps -eo args | grep -c "[s]leep 4" || true'
	[ "$output" = 0 ]
}

@test "pid 1: signals from inside the qube do not stop it; a pid 1 that does not answer times out" {
	"$SPLQ" run --user root q sh -c 'trap "" TERM; (trap "" TERM; sleep 60) &
		kill -TERM 1; kill -INT 1; kill -PWR 1; kill -HUP 1; echo sent'
	run timeout 20 "$SPLQ" run q echo still-serving
	assert_status 0
	[ "$output" = still-serving ]
	run "$SPLQ" ls
	[[ $output == *"q "*Running* ]]
	# a qube that makes /etc/passwd a FIFO gets an answer, not a hang
	"$SPLQ" run --user root q sh -c 'rm /etc/passwd; mkfifo /etc/passwd'
	run -66 timeout 20 "$SPLQ" run q true
	[[ $output == *"user 'user' does not exist"* ]]
	# a pid 1 that does not answer (stopped from the host here, as a
	# wedged one would be): the caller gives up after qrexec_timeout
	"$SPLQ" prefs q qrexec_timeout 2
	local init
	init=$(cat "$SPLQ_RUN/qubes/q/init.pid")
	kill -STOP "$init"
	run -78 timeout 30 "$SPLQ" run q true
	kill -CONT "$init"
	[[ $output == *"did not answer within 2 s"* ]]
	"$SPLQ" kill q
	run "$SPLQ" run q echo fresh
	assert_status 0
	[ "$output" = fresh ]
}
