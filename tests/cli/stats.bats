#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016
# (status, output, stderr, lines: set by bats' run; a $ in single quotes is
# for the qube's shell)
# splq: what Podman users reach for to see inside running qubes: ps (the
# processes, as the qube sees them, read on the host) and stats (CPU,
# memory and processes from the qube's cgroups).

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	make_qube q t --maxmem 3000
}

teardown() {
	teardown_splq
}

@test "ps: the qube's processes by pid as it sees them: pid 1 first, uids inside, its command lines made harmless" {
	"$SPLQ" start q
	"$SPLQ" run --no-wait q -- sleep 300
	# a command line with a terminal escape in it
	"$SPLQ" run --no-wait q -- python3 -c 'import os; os.execv("/bin/sleep", ["\x1b[31mevil", "301"])'
	wait_for 50 sh -c '"$SPLQ" ps q | grep -q "evil 301"'
	run --separate-stderr "$SPLQ" ps q
	assert_status 0
	[[ ${lines[0]} == *"PID"*"PPID"*"UID"*"S"*"TIME"*"COMMAND" ]]
	[[ ${lines[1]} =~ ^\ +1\ +0\ +0\ +S\ .*splq-init ]]
	[[ $output == *" 1000  S "*"sleep 300"* ]]
	[[ $output == *"_[31mevil 301"* ]]
	[[ $output != *$'\e'* ]]
	run --separate-stderr "$SPLQ" --json ps q
	assert_status 0
	[ "$(json_get qube)" = q ]
	[ "$(json_get processes 0 pid)" = 1 ]
	[ "$(json_get processes 0 uid)" = 0 ]
	[[ $(json_get processes) == *'"command": "sleep 300"'* ]]
	# and only the qube's: no host process
	[[ $(json_get processes) != *'"ppid": '"$$"* ]]
}

@test "ps and stats: a halted qube is 68, dom0 69, a missing one 66, no NAME for ps 64" {
	for cmd in ps stats; do
		run --separate-stderr "$SPLQ" "$cmd" q
		assert_status 68
		[ "$stderr" = "splq: qube 'q' is not running" ]
		run --separate-stderr "$SPLQ" "$cmd" dom0
		assert_status 69
		run --separate-stderr "$SPLQ" "$cmd" nope
		assert_status 66
	done
	run --separate-stderr "$SPLQ" ps
	assert_status 64
}

@test "stats: CPU time, memory and its limit (maxmem), and processes from the qube's cgroups" {
	"$SPLQ" start q
	"$SPLQ" run --no-wait q -- sh -c 'while :; do :; done'
	"$SPLQ" run --no-wait q -- sleep 300
	wait_for 50 sh -c '[ "$("$SPLQ" ps q | wc -l)" -ge 4 ]'
	run --separate-stderr "$SPLQ" --json stats q
	assert_status 0
	[ "$(json_get qubes 0 name)" = q ]
	[ "$(json_get qubes 0 memoryLimit)" = $((3000 * 1048576)) ]
	[ "$(json_get qubes 0 memory)" -gt 0 ]
	[ "$(json_get qubes 0 pids)" -ge 3 ]
	[ "$(json_get qubes 0 cpuTimeUsec)" -gt 0 ]
	python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(0 if v > 0 else 1)' \
		"$(json_get qubes 0 cpuPercent)"
	# without names: the running qubes, once when not on a terminal
	run --separate-stderr "$SPLQ" stats
	assert_status 0
	[[ ${lines[0]} == "NAME"*"CPU %"*"MEM USAGE / LIMIT"*"PIDS"*"CPU TIME" ]]
	[[ ${lines[1]} == "q "*" / 3000.0MiB "* ]]
	[ "${#lines[@]}" = 2 ]
}
