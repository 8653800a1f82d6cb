#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines, stderr: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# splq: properties mean what they say (memory, maxmem, vcpus, autostart,
# shutdown_timeout, dom0's default_template), and input is checked before
# anything is made (--base of something that is not a root, relative
# SPLQ_HOME and SPLQ_RUN, a first start whose command cannot run).

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
}

teardown() {
	teardown_splq
}

# The value of FILE in the qube's memory cgroup (v2 or v1), or "".
memory_cg() {
	local q=$1 file d
	shift
	while IFS= read -r d; do
		for file in "$@"; do
			if [ -f "$d/$file" ]; then
				cat "$d/$file"
				return 0
			fi
		done
	done < <(qube_cgroup_dirs "$q")
}

# Wait up to $2 seconds for qube $1 to halt; true when it did.
halts_within() {
	local q=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		"$SPLQ" ls | grep -qE "^$q +[A-Za-z]+ +Halted" && return 0
		sleep 0.1
	done
	return 1
}

# --------------------------------------------------------- memory, maxmem

@test "maxmem below memory is refused, at create and by prefs, and nothing changes" {
	make_host_template t
	run --separate-stderr splq create w -t t --memory 800 --maxmem 600
	assert_status 69
	[[ $stderr == *"maxmem 600 MiB"*"cannot be below memory 800 MiB"* ]]
	run splq ls
	[[ $output != *" w "* && $output != *$'\nw '* ]]
	[ ! -e "$SPLQ_HOME/qubes/w" ]

	splq create w -t t --memory 800 --maxmem 1000
	run --separate-stderr splq prefs w maxmem 700
	assert_status 69
	[[ $stderr == *"qube 'w': maxmem 700 MiB"* ]]
	[ "$("$SPLQ" prefs w maxmem)" = 1000 ]
	# nor may memory rise above a maxmem that is set
	run --separate-stderr splq prefs w memory 1200
	assert_status 69
	[ "$("$SPLQ" prefs w memory)" = 800 ]
	# 0 turns balancing off: memory is the hard limit too
	splq prefs w maxmem 0
	splq prefs w memory 1200
	[ "$("$SPLQ" prefs w memory)" = 1200 ]
}

@test "the default maxmem is 4000, or memory where that is more" {
	local host_mib
	host_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	((host_mib > 4000)) || skip "needs a host with more than 4000 MiB (memory is at most the host's)"
	make_host_template t
	splq create small -t t --memory 400
	splq create big -t t --memory 4001
	[ "$("$SPLQ" prefs small maxmem)" = 4000 ]
	[ "$("$SPLQ" prefs big maxmem)" = 4001 ]
	run --separate-stderr splq prefs big
	printf '%s\n' "${lines[@]}" | grep -qxE 'maxmem +D +4001'
}

@test "maxmem is the cgroup's hard limit, memory its soft one; 0 makes memory both" {
	make_qube w t --memory 200 --maxmem 300
	splq start w
	[ "$(memory_cg w memory.max memory.limit_in_bytes)" = $((300 << 20)) ]
	[ "$(memory_cg w memory.low memory.soft_limit_in_bytes)" = $((200 << 20)) ]
	splq shutdown --wait w

	splq prefs w maxmem 0
	splq start w
	[ "$(memory_cg w memory.max memory.limit_in_bytes)" = $((200 << 20)) ]
	splq kill w
}

@test "memory above the host's memory and vcpus above its CPUs are refused" {
	make_host_template t
	local host_mib cpus
	host_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	cpus=$(nproc)

	run --separate-stderr splq create w -t t --memory $((host_mib + 1)) --maxmem 0
	assert_status 69
	[[ $stderr == *"memory $((host_mib + 1)) MiB is more than this host's"* ]]
	[ ! -e "$SPLQ_HOME/qubes/w" ]
	run --separate-stderr splq create w -t t --vcpus $((cpus + 1))
	assert_status 69
	[[ $stderr == *"vcpus $((cpus + 1)) is more than the $cpus CPUs"* ]]

	splq create w -t t --vcpus "$cpus"
	run --separate-stderr splq prefs w vcpus $((cpus + 1))
	assert_status 69
	[ "$("$SPLQ" prefs w vcpus)" = "$cpus" ]
	run --separate-stderr splq prefs w memory $((host_mib + 1))
	assert_status 69
	[ "$("$SPLQ" prefs w memory)" = 400 ]
}

@test "include_in_backups and autostart take only booleans" {
	make_qube w
	run --separate-stderr splq prefs w include_in_backups maybe
	assert_status 69
	run --separate-stderr splq prefs w autostart 2
	assert_status 69
	splq prefs w include_in_backups False
	[ "$("$SPLQ" prefs w include_in_backups)" = False ]
}

# -------------------------------------------------------------- autostart

@test "start --autostart starts the halted qubes with autostart, goes on past one that fails" {
	make_qube a
	make_qube b
	make_qube c
	make_qube off
	splq prefs a autostart True
	splq prefs b autostart True
	splq prefs c autostart True
	splq start c # already running: left alone
	rm "$SPLQ_HOME/qubes/b/private.img"

	run --separate-stderr splq --json start --autostart
	assert_status 66
	[ "$(json_get qubes)" = '["a"]' ]
	[ "$(json_get failed 0 qube)" = b ]
	[[ $(json_get failed 0 error) == *"private volume of 'b'"* ]]
	[[ $(json_get error) == *"1 of 2 qubes with autostart did not start"* ]]
	run splq ls
	[[ $output =~ (^|$'\n')a\ +AppVM\ +Running ]]
	[[ $output =~ (^|$'\n')b\ +AppVM\ +Halted ]]
	[[ $output =~ (^|$'\n')off\ +AppVM\ +Halted ]]

	# text mode: each failure on stderr, then the summary
	run --separate-stderr splq start --autostart
	assert_status 66
	[[ $stderr == *"private volume of 'b'"*"1 of 1 qubes with autostart"* ]]
	run --separate-stderr splq start --autostart a
	assert_status 64
}

@test "the shipped unit runs start --autostart at boot" {
	local unit
	unit=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/contrib/systemd/splq-autostart.service
	[ -f "$unit" ]
	grep -qx 'ExecStart=@BINDIR@/splq start --autostart' "$unit"
	grep -qx 'WantedBy=multi-user.target' "$unit"
	if command -v systemd-analyze >/dev/null; then
		sed "s|@BINDIR@|$(dirname "$SPLQ")|" "$unit" >"$BATS_TEST_TMPDIR/splq-autostart.service"
		run systemd-analyze verify "$BATS_TEST_TMPDIR/splq-autostart.service"
		[[ $output != *rror* ]]
	fi
}

# ------------------------------------------------------- shutdown_timeout

# A qube whose command ignores SIGTERM: only the timeout's SIGKILL ends it.
start_stubborn() {
	make_qube "$1"
	splq prefs "$1" shutdown_timeout "$2"
	splq run --no-wait "$1" -- sh -c 'trap "" TERM; while :; do sleep 1; done'
	splq run "$1" -- true
}

@test "shutdown_timeout changed on a running qube applies to its next shutdown" {
	start_stubborn w 3600
	splq prefs w shutdown_timeout 1
	splq shutdown w
	# the hour it was started with would keep it far longer than this
	halts_within w 30
}

@test "shutdown --timeout S overrides shutdown_timeout once, and is audited" {
	start_stubborn w 3600
	run --separate-stderr splq shutdown --timeout 0 w
	assert_status 64
	splq shutdown --timeout 1 w
	halts_within w 30
	[ "$("$SPLQ" prefs w shutdown_timeout)" = 3600 ]
	run splq audit log
	[[ $output == *"shutdown w ok --timeout 1"* ]]
}

# ------------------------------------------------------- default_template

@test "dom0's default_template lets create go without --template" {
	make_host_template t
	run --separate-stderr splq create w
	assert_status 64
	[[ $stderr == *"splq prefs dom0 default_template T"* ]]

	run --separate-stderr splq prefs dom0 default_template nosuch
	assert_status 66
	[[ $stderr == *"template 'nosuch' does not exist"* ]]
	splq create app -t t
	run --separate-stderr splq prefs dom0 default_template app
	assert_status 69
	[[ $stderr == *"not a TemplateVM"* ]]

	splq prefs dom0 default_template t
	[ "$("$SPLQ" prefs dom0 default_template)" = t ]
	splq create w
	[ "$("$SPLQ" prefs w template)" = t ]
	run splq audit log
	[[ $output == *"create w ok --template t --label red"* ]]
	# the default template cannot go while it is the default
	splq remove w app
	run --separate-stderr splq remove t
	assert_status 68
	[[ $stderr == *dom0* ]]
	splq prefs --default dom0 default_template
	splq remove t
}

# ---------------------------------------------------------- checked input

@test "template create --base of a folder that is not a root is refused, nothing made" {
	local src
	src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	run --separate-stderr splq template create t --base "$src"
	assert_status 69
	[[ $stderr == *"base '$src' does not look like a root file system: it has no /etc"* ]]
	mkdir -p "$BATS_TEST_TMPDIR/r/etc"
	run --separate-stderr splq template create t --base "$BATS_TEST_TMPDIR/r"
	assert_status 69
	[[ $stderr == *"no shell at /bin/sh"* ]]
	run splq ls
	[[ $output != *TemplateVM* ]]
	[ -z "$(ls -A "$SPLQ_HOME/templates" 2>/dev/null)" ]
}

@test "template create --base with a relative path takes it from the current folder" {
	mkdir -p "$BATS_TEST_TMPDIR/r/etc" "$BATS_TEST_TMPDIR/r/bin"
	cp /bin/true "$BATS_TEST_TMPDIR/r/bin/sh"
	(cd "$BATS_TEST_TMPDIR" && "$SPLQ" template create rel --base r)
	run --separate-stderr splq --json audit log
	[[ $output == *"--base $BATS_TEST_TMPDIR/r"* ]]
}

@test "a relative SPLQ_HOME or SPLQ_RUN is refused, and no store is made" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr env SPLQ_HOME=store "$SPLQ" ls
	assert_status 69
	[[ $stderr == *"SPLQ_HOME must be an absolute path, not 'store'"* ]]
	run --separate-stderr env SPLQ_RUN=run/x "$SPLQ" ls
	assert_status 69
	[[ $stderr == *"SPLQ_RUN must be an absolute path, not 'run/x'"* ]]
	[ ! -e store ] && [ ! -e run ]
}

@test "a first start whose command cannot run leaves the qube Halted" {
	make_qube w
	run -127 --separate-stderr splq run w -- no-such-command
	[[ $stderr == *"qube 'w' was started for it and is halted again"* ]]
	run splq ls
	[[ $output =~ (^|$'\n')w\ +AppVM\ +Halted ]]
	# a running qube stays running when a command fails
	splq start w
	run -127 --separate-stderr splq run w -- no-such-command
	run splq ls
	[[ $output =~ (^|$'\n')w\ +AppVM\ +Running ]]
}
