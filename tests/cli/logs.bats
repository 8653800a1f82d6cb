#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016,SC2030,SC2031  # run sets status etc.; $$ and $(...): in the qube; BG_PIDS
# splq: traces of what ran.  A qube's log (splq logs): what its --no-wait
# commands wrote and its pid 1's lines, kept by the host, bounded, filtered
# for a terminal; a disposable in the audit log from its start; a command
# that its qube's memory limit killed is named so.

bats_require_minimum_version 1.5.0

load helpers

PTYRUN="$BATS_TEST_DIRNAME/ptyrun.py"

setup() {
	require_root
	setup_splq
	BG_PIDS=()
}

teardown() {
	kill_bg_pids
	teardown_splq
}

# Wait (at most 10 s) until `splq logs Q` holds TEXT.
wait_for_log() {
	local q=$1 text=$2 i
	for ((i = 0; i < 200; i++)); do
		if "$SPLQ" logs "$q" 2>/dev/null | grep -qF -- "$text"; then
			return 0
		fi
		sleep 0.05
	done
	echo "the log of '$q' never held '$text'; it holds:" >&2
	"$SPLQ" logs "$q" >&2
	return 1
}

# The name of the one disposable that runs, once it does (at most 10 s).
wait_for_running_disposable() {
	local i name
	for ((i = 0; i < 200; i++)); do
		name=$("$SPLQ" ls 2>/dev/null |
			awk '$1 ~ /^disp[0-9]+$/ && $3 == "Running" { print $1 }')
		if [ -n "$name" ]; then
			printf '%s\n' "$name"
			return 0
		fi
		sleep 0.05
	done
	echo "no disposable became Running within 10 s" >&2
	return 1
}

@test "logs: what a --no-wait command writes to stdout and stderr, with pid 1's lines, in text and JSON" {
	make_qube q
	run "$SPLQ" run --no-wait q -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'
	assert_status 0
	wait_for_log q "exited with code 3"
	run --separate-stderr "$SPLQ" logs q
	assert_status 0
	[ -z "$stderr" ]
	[ "${lines[0]}" = "splq-init: starting 'sh -c echo to-stdout; echo to-stderr >&2; exit 3'" ]
	[[ $output == *$'\n'"to-stdout"$'\n'* ]]
	[[ $output == *$'\n'"to-stderr"$'\n'* ]]
	[[ ${lines[-1]} =~ ^"splq-init: 'sh -c echo to-stdout; echo to-stderr >&2; exit 3' (pid "[0-9]+") exited with code 3"$ ]]
	# a command that cannot start says why, in the log too
	run -127 "$SPLQ" run --no-wait q -- no-such-command
	wait_for_log q "'no-such-command' did not start: cannot run 'no-such-command'"
	run "$SPLQ" --json logs q
	assert_status 0
	assert_json
	[ "$(json_get success)" = true ]
	[ "$(json_get code)" = 0 ]
	[ "$(json_get qube)" = q ]
	[ "$(json_get lines 1)" = to-stdout ] || [ "$(json_get lines 2)" = to-stdout ]
	[[ $(json_get lines -1) == *"'no-such-command' did not start"* ]]
	# kept by the host: 0600 in a 0700 folder of the store, root's
	[ "$(stat -c '%a %u' "$SPLQ_HOME/logs")" = "700 0" ]
	[ "$(stat -c '%a %u' "$SPLQ_HOME/logs/q.log")" = "600 0" ]
	# and what the qube ran through splq run (not --no-wait) is not in it
	run "$SPLQ" run q -- echo passed-through
	[ "$output" = passed-through ]
	run "$SPLQ" logs q
	[[ $output != *passed-through* ]]
}

@test "logs: a qube that never ran has an empty log; no such qube is 66; dom0 has none" {
	make_qube q
	run --separate-stderr "$SPLQ" logs q
	assert_status 0
	[ -z "$output" ]
	[ -z "$stderr" ]
	run "$SPLQ" --json logs q
	assert_status 0
	[ "$(json_get lines)" = "[]" ]
	run --separate-stderr "$SPLQ" logs nosuch
	assert_status 66
	[ "$stderr" = "splq: no such qube 'nosuch'" ]
	run "$SPLQ" --json logs nosuch
	assert_status 66
	[ "$(json_get error)" = "no such qube 'nosuch'" ]
	run "$SPLQ" logs dom0
	assert_status 69
	run "$SPLQ" logs
	assert_status 64
	run "$SPLQ" logs q extra
	assert_status 64
	run "$SPLQ" --json logs -f q
	assert_status 64
	[[ $(json_get error) == *"--follow cannot be used with --json"* ]]
}

@test "logs: kept across a stop and a start, gone with the qube" {
	make_qube q
	"$SPLQ" run --no-wait q -- echo first-run
	wait_for_log q first-run
	"$SPLQ" shutdown --wait q
	run "$SPLQ" logs q
	[[ $output == *first-run* ]]
	[[ $output == *"splq-init: stopping: signal 15 from the host"* ]]
	"$SPLQ" run --no-wait q -- echo second-run
	wait_for_log q second-run
	run "$SPLQ" logs q
	[[ $output == *first-run*second-run* ]]
	"$SPLQ" shutdown --wait q
	"$SPLQ" remove q
	[ ! -e "$SPLQ_HOME/logs/q.log" ]
	make_qube q
	run "$SPLQ" logs q
	assert_status 0
	[ -z "$output" ]
}

@test "logs -f: prints what comes as it comes, and ends when the qube halts" {
	make_qube q
	"$SPLQ" run --no-wait q -- sh -c 'echo before; sleep 1; echo after; sleep 30'
	wait_for_log q before
	"$SPLQ" logs -f q >"$BATS_TEST_TMPDIR/follow" 2>&1 &
	local pid=$! i
	BG_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		grep -q after "$BATS_TEST_TMPDIR/follow" && break
		sleep 0.05
	done
	grep -q before "$BATS_TEST_TMPDIR/follow"
	grep -q after "$BATS_TEST_TMPDIR/follow"
	# still following: the qube runs
	kill -0 "$pid"
	"$SPLQ" shutdown --wait q
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "logs -f still runs after the qube halted" >&2
		return 1
	fi
	local st=0
	wait "$pid" || st=$?
	[ "$st" = 0 ]
	# what pid 1 wrote at the stop is there too, to the end
	grep -q "stopping: signal 15 from the host" "$BATS_TEST_TMPDIR/follow"
	grep -q "was killed by signal" "$BATS_TEST_TMPDIR/follow"
	# of a halted qube: prints and ends at once
	run timeout 5 "$SPLQ" logs -f q
	assert_status 0
	[[ $output == *before*after* ]]
}

@test "logs: a qube that floods its log keeps at most 2 MiB of it on the host, the latest" {
	make_qube q
	"$SPLQ" run --no-wait q -- sh -c 'yes flooding-the-log-of-the-host | head -c 5000000; echo; echo END-OF-FLOOD'
	wait_for_log q "exited with code 0"
	local cur prev
	cur=$(stat -c %s "$SPLQ_HOME/logs/q.log")
	prev=$(stat -c %s "$SPLQ_HOME/logs/q.log.1")
	[ "$cur" -le 1048576 ]
	[ "$prev" -le 1048576 ]
	[ "$prev" -gt 900000 ] # it did rotate, and keeps the MiB before
	[ "$(find "$SPLQ_HOME/logs" -type f | wc -l)" = 2 ]
	run "$SPLQ" logs q
	assert_status 0
	[ "${#output}" -le 2097152 ]
	# the latest lines, in order: the rotated part first
	[[ $output == *END-OF-FLOOD*"exited with code 0" ]]
	[[ $output != *"splq-init: starting"* ]] # the oldest lines are gone
}

@test "logs: escape sequences reach a terminal as '_' unless --no-filter-escape-chars" {
	make_qube q
	"$SPLQ" run --no-wait q -- printf 'A\033]0;owned\007B\033[2JC\233D\n'
	wait_for_log q "exited with code 0"
	run python3 "$PTYRUN" -- "$SPLQ" logs q
	assert_status 0
	local out
	out=$(json_get output)
	[[ $out == *"A_]0;owned"$'\a'"B_[2JC_D"* ]]
	[[ $out != *$'\033'* ]]
	run python3 "$PTYRUN" -- "$SPLQ" logs --no-filter-escape-chars q
	out=$(json_get output)
	[[ $out == *"A"$'\033'"]0;owned"* ]]
	# not a terminal: bytes as they are, unless asked
	run "$SPLQ" logs q
	[[ $output == *"A"$'\033'"]0;owned"* ]]
	run "$SPLQ" logs --filter-escape-chars q
	[[ $output == *"A_]0;owned"* ]]
	# JSON: valid, the escape escaped
	run "$SPLQ" --json logs q
	assert_json
	[[ $output == *'A\u001B]0;owned'* ]]
}

@test "dispvm: in the audit log from its start; killed by SIGKILL, its command and dvm stay, then its removal" {
	make_host_template t
	"$SPLQ" dispvm --template t -- sleep 30 >/dev/null 2>&1 3>&- &
	local pid=$! name
	BG_PIDS+=("$pid")
	name=$(wait_for_running_disposable)
	# while it runs, the log says what runs, and from what
	run "$SPLQ" audit log --qube "$name"
	[[ ${lines[-1]} == *" dispvm $name started --template t sleep 30" ]]
	kill -KILL "$pid"
	wait "$pid" || true
	local i
	# its command is hung up, and its supervisor cleans up
	for ((i = 0; i < 100; i++)); do
		[ -e "$SPLQ_RUN/qubes/$name" ] || break
		sleep 0.05
	done
	[ ! -e "$SPLQ_RUN/qubes/$name" ]
	"$SPLQ" ls >/dev/null # removes what the killed splq left
	run "$SPLQ" --json audit log --qube "$name"
	assert_status 0
	printf '%s' "$output" | python3 -c '
import json, sys
es = json.load(sys.stdin)["entries"]
name = sys.argv[1]
assert [e["op"] for e in es] == ["dispvm", "remove"], es
assert es[0]["target"] == name and es[0]["result"] == "started", es[0]
assert es[0]["args"] == "--template t sleep 30", es[0]
assert es[1]["target"] == name and es[1]["result"] == "ok", es[1]
assert es[1]["args"] == "disposable left by an ended splq", es[1]' "$name"
	run "$SPLQ" audit verify
	assert_status 0
	# and nothing of it is left, its log neither
	[ ! -e "$SPLQ_HOME/logs/$name.log" ]
	run "$SPLQ" ls
	[[ $output != *"$name"* ]]
	assert_leftovers_none
}

@test "dispvm: one that ends has its start, its end and its removal in the audit log" {
	make_host_template t
	run --separate-stderr "$SPLQ" dispvm --template t -- sh -c 'hostname; exit 4'
	assert_status 4
	local name=$output
	splq_wait_background # its supervisor removes it
	run "$SPLQ" audit log --qube "$name"
	[ "${#lines[@]}" = 3 ]
	[[ ${lines[0]} == *" dispvm $name started --template t sh -c hostname; exit 4" ]]
	[[ ${lines[1]} == *" dispvm $name \"exit 4\" --template t sh -c hostname; exit 4" ]]
	[[ ${lines[2]} == *" remove $name ok disposable, used" ]]
}

# A command that takes 200 MiB (python3 from the host's /usr).
ALLOC=(python3 -c 'x = b"x" * (200 << 20)')

@test "run: a command its qube's memory limit killed says so; exit 137, and the audit entry says oom" {
	make_qube q t --memory 32 --maxmem 48
	run --separate-stderr "$SPLQ" run q -- "${ALLOC[@]}"
	assert_status 137
	[ "$stderr" = "splq: qube 'q' ran out of memory (maxmem 48 MiB): the command was killed; raise it with 'splq prefs q maxmem 96'" ]
	run "$SPLQ" --json audit log --qube q
	[ "$(json_get entries -1 op)" = run ]
	[ "$(json_get entries -1 result)" = "exit 137 (oom)" ]
	run --separate-stderr "$SPLQ" --json run q -- "${ALLOC[@]}"
	assert_status 137
	[ -z "$stderr" ]
	[ "$(json_get exitCode)" = 137 ]
	[ "$(json_get outOfMemory)" = true ]
	# a SIGKILL that is not the kernel's is only a SIGKILL
	run --separate-stderr "$SPLQ" run q -- sh -c 'kill -KILL $$'
	assert_status 137
	[ -z "$stderr" ]
	run "$SPLQ" --json audit log --qube q
	[ "$(json_get entries -1 result)" = "exit 137" ]
	# and with enough memory, nothing
	"$SPLQ" shutdown --wait q
	"$SPLQ" prefs q maxmem 400
	run --separate-stderr "$SPLQ" --json run q -- "${ALLOC[@]}"
	assert_status 0
	[ "$(json_get outOfMemory)" = false ]
	run "$SPLQ" audit verify
	assert_status 0
}

@test "dispvm: a disposable its memory limit killed says so and names its dvm's memory" {
	make_host_template t
	# maxmem 0: memory is the hard limit too
	"$SPLQ" prefs t maxmem 0
	"$SPLQ" prefs t memory 32
	run --separate-stderr "$SPLQ" dispvm --template t -- "${ALLOC[@]}"
	assert_status 137
	[[ $stderr =~ ^"splq: qube 'disp"[0-9]+"' ran out of memory (memory 32 MiB): the command was killed; raise it with 'splq prefs t memory 64'"$ ]]
	run "$SPLQ" --json audit log
	[ "$(json_get entries -1 op)" = dispvm ]
	[ "$(json_get entries -1 result)" = "exit 137 (oom)" ]
	assert_leftovers_none
}
