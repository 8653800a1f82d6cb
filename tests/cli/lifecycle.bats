#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016
# (status, output, stderr, lines: set by bats' run; a $ in single quotes is
# for the qube's shell)
# splq: the life of a qube from the command line: the README tour, run,
# volumes and what survives a restart, shutdown and kill, disposables,
# templates from a directory, clone.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
}

teardown() {
	kill_bg_pids
	teardown_splq
}

# Poll (every 50 ms, for at most $1 seconds) until the command after it
# succeeds.
wait_until() {
	local tries=$(($1 * 20))
	shift
	while ((tries-- > 0)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# Milliseconds since some fixed point.
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# Fail unless qube $1 left nothing running: no runtime folder, no cgroup,
# and none of the host pids given after it alive.
assert_qube_gone_at_runtime() {
	local q=$1 p
	shift
	if [ -e "$SPLQ_RUN/qubes/$q" ]; then
		echo "runtime folder $SPLQ_RUN/qubes/$q is still there" >&2
		return 1
	fi
	if [ -n "$(qube_cgroup_dirs "$q")" ]; then
		echo "cgroups left: $(qube_cgroup_dirs "$q")" >&2
		return 1
	fi
	for p in "$@"; do
		if ! wait_until 3 proc_gone "$p"; then
			echo "process $p ($(tr '\0' ' ' <"/proc/$p/cmdline")) is still alive" >&2
			return 1
		fi
	done
}

# Is process $1 gone?  A zombie counts as gone: it waits only for its
# parent (or, orphaned, for the host's pid 1) to reap it.
proc_gone() {
	local state
	state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ]
}

# Host pids of qube $1: its supervisor and every process in its cgroups.
qube_host_pids() {
	local -a dirs
	mapfile -t dirs < <(qube_cgroup_dirs "$1")
	{
		cat "$SPLQ_RUN/qubes/$1/supervisor.pid" 2>/dev/null && echo
		splq_cgroup_pids "${dirs[@]}"
	} | grep -E '^[0-9]+$' | sort -un
}

# --- 1. the README tour ------------------------------------------------------

@test "the README tour: template, AppVM, run, ls, shutdown, remove" {
	run --separate-stderr splq template create spl-dev-template --base host
	assert_status 0
	run --separate-stderr splq create spl-dev-core --template spl-dev-template --memory 1024 --label blue
	assert_status 0

	run --separate-stderr splq run spl-dev-core -- sh -c 'echo hello from $(hostname)'
	assert_status 0
	[ "$output" = "hello from spl-dev-core" ]

	run --separate-stderr splq ls
	assert_status 0
	local line
	line=$(printf '%s\n' "$output" | awk '$1 == "spl-dev-core"')
	read -r -a f <<<"$line"
	[ "${f[1]}" = AppVM ]
	[ "${f[2]}" = Running ]
	[ "${f[3]}" = blue ]
	[ "${f[4]}" = spl-dev-template ]
	[ "${f[5]}" = - ] # no netvm
	[ "${f[6]}" = 1024 ]

	run --separate-stderr splq shutdown --wait spl-dev-core
	assert_status 0
	[ "$(qube_state spl-dev-core)" = Halted ]
	run --separate-stderr splq ls
	[[ $(printf '%s\n' "$output" | awk '$1 == "spl-dev-core" { print $3 }') == Halted ]]

	[ -d "$SPLQ_HOME/qubes/spl-dev-core" ]
	run --separate-stderr splq remove spl-dev-core
	assert_status 0
	run --separate-stderr splq ls
	assert_status 0
	[[ $output != *spl-dev-core* ]]
	[[ $output == *spl-dev-template* ]]
	[ ! -e "$SPLQ_HOME/qubes/spl-dev-core" ]
	[ ! -e "$SPLQ_RUN/qubes/spl-dev-core" ]
	assert_leftovers_none
}

# --- 2. run -----------------------------------------------------------------

@test "run: stdin, stdout and stderr pass through, separately" {
	make_host_template t
	splq create q -t t

	run --separate-stderr bash -c 'echo data | "$SPLQ" run q -- cat'
	assert_status 0
	[ "$output" = data ]

	local out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	splq run q -- sh -c 'echo to-out; echo to-err >&2' >"$out" 2>"$err"
	[ "$(cat "$out")" = to-out ]
	[ "$(cat "$err")" = to-err ]

	# binary data survives the round trip
	head -c 65536 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	splq run q -- cat <"$BATS_TEST_TMPDIR/blob" >"$BATS_TEST_TMPDIR/blob2"
	cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/blob2"
}

@test "run: exit codes pass through, 128+N for a signal" {
	make_host_template t
	splq create q -t t
	local c
	for c in 0 3 255; do
		run splq run q -- sh -c "exit $c"
		assert_status "$c"
	done
	run splq run q -- sh -c 'kill -TERM $$'
	assert_status 143
	run splq run q -- sh -c 'kill -KILL $$'
	assert_status 137
}

@test "run: the default user is user (uid 1000, HOME /home/user), --user root is uid 0" {
	make_host_template t
	splq create q -t t

	run --separate-stderr splq run q -- sh -c 'echo "$(id -u) $(id -g) $(id -un) $HOME"'
	assert_status 0
	[ "$output" = "1000 1000 user /home/user" ]

	run --separate-stderr splq run --user root q -- id -u
	assert_status 0
	[ "$output" = 0 ]
	run --separate-stderr splq run -u root q -- sh -c 'echo $HOME'
	assert_status 0
	[ "$output" = /root ]
}

@test "run --no-wait returns at once while the command goes on" {
	make_host_template t
	splq create q -t t
	splq start q

	local t0 t1
	t0=$(now_ms)
	# (not through bats' run: the command would keep its output pipe open)
	splq run --no-wait q -- sh -c 'sleep 1; echo done >/tmp/no-wait-marker' \
		</dev/null >/dev/null 2>&1
	t1=$(now_ms)
	# it returned before the command finished
	((t1 - t0 < 900))
	run splq run q -- cat /tmp/no-wait-marker
	[ "$status" -ne 0 ]
	# and the command went on
	wait_until 5 splq run q -- test -e /tmp/no-wait-marker
	run --separate-stderr splq run q -- cat /tmp/no-wait-marker
	assert_status 0
	[ "$output" = "done" ]
}

@test "run: an unknown command is exit 127 with a message naming it" {
	make_host_template t
	splq create q -t t
	run -127 --separate-stderr splq run q -- no-such-command-xyz arg
	assert_status 127
	[ -z "$output" ]
	[[ $stderr == "splq: "*no-such-command-xyz* ]]

	# a command that exists but cannot be executed is 126
	run --separate-stderr splq run q -- /etc/passwd
	assert_status 126
	[[ $stderr == "splq: "*/etc/passwd* ]]
}

@test "run on a halted qube starts it" {
	make_host_template t
	splq create q -t t
	[ "$(qube_state q)" = Halted ]
	run --separate-stderr splq run q -- hostname
	assert_status 0
	[ "$output" = q ]
	[ "$(qube_state q)" = Running ]
	# the command ended, the qube goes on running
	run --separate-stderr splq run q -- true
	assert_status 0
	[ "$(qube_state q)" = Running ]
}

@test "run on a missing qube is exit 66, touching nothing" {
	run --separate-stderr splq run nosuch -- true
	assert_status 66
	[[ $stderr == *"nosuch"* ]]
	assert_leftovers_none
}

# --- 3. volumes -------------------------------------------------------------

@test "AppVM: its root is thrown away at shutdown, /home/user is kept" {
	make_host_template t
	splq create q -t t

	splq run -u root q -- sh -c 'echo m >/etc/marker; mkdir -p /opt; echo x >/opt/x'
	splq run q -- sh -c 'echo kept >/home/user/kept'
	run splq run q -- cat /etc/marker /opt/x /home/user/kept
	assert_status 0

	splq shutdown --wait q
	splq start q
	run splq run q -- test -e /etc/marker
	assert_status 1
	run splq run q -- test -e /opt/x
	assert_status 1
	run --separate-stderr splq run q -- cat /home/user/kept
	assert_status 0
	[ "$output" = kept ]
	# the template did not get the AppVM's changes either
	run splq run t -- test -e /etc/marker
	assert_status 1
}

@test "AppVM: a template change reaches it at its next start, not while it runs" {
	make_host_template t
	splq create q -t t
	splq start q

	splq run -u root t -- sh -c 'echo from-template >/etc/template-marker'
	splq shutdown --wait t

	# still running: it keeps the root it started with
	run splq run q -- test -e /etc/template-marker
	assert_status 1

	splq shutdown --wait q
	run --separate-stderr splq run q -- cat /etc/template-marker
	assert_status 0
	[ "$output" = from-template ]
}

@test "TemplateVM: its root keeps its changes across restarts" {
	make_host_template t
	splq run -u root t -- sh -c 'echo kept >/etc/template-marker; echo home >/home/user/h'
	splq shutdown --wait t
	[ "$(qube_state t)" = Halted ]
	run --separate-stderr splq run t -- cat /etc/template-marker /home/user/h
	assert_status 0
	[ "$output" = "kept
home" ]
}

@test "StandaloneVM: keeps / across restarts and does not follow its template" {
	make_host_template t
	run --separate-stderr splq create s -t t --class StandaloneVM
	assert_status 0
	run --separate-stderr splq prefs s klass
	[ "$output" = StandaloneVM ]

	splq run -u root s -- sh -c 'echo s >/etc/standalone-marker'
	splq shutdown --wait s
	run --separate-stderr splq run s -- cat /etc/standalone-marker
	assert_status 0
	[ "$output" = s ]

	# a template change made after the StandaloneVM was created
	splq run -u root t -- sh -c 'echo t >/etc/template-marker'
	splq shutdown --wait t s
	run splq run s -- test -e /etc/template-marker
	assert_status 1
	# and its own change did not reach the template
	run splq run t -- test -e /etc/standalone-marker
	assert_status 1
}

# --- 4. shutdown and kill ---------------------------------------------------

@test "shutdown: a process that ends on SIGTERM halts the qube quickly, leaving nothing" {
	make_host_template t
	splq create q -t t
	splq run --no-wait q -- sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' \
		</dev/null >/dev/null 2>&1
	wait_until 5 splq run q -- pgrep -f 'while :' >/dev/null
	local -a pids
	mapfile -t pids < <(qube_host_pids q)
	[ "${#pids[@]}" -ge 3 ]

	local t0 t1
	t0=$(now_ms)
	run --separate-stderr splq shutdown --wait q
	t1=$(now_ms)
	assert_status 0
	[ "$(qube_state q)" = Halted ]
	# shutdown_timeout is 60 s: the qube ended on its own, long before
	((t1 - t0 < 5000))
	assert_qube_gone_at_runtime q "${pids[@]}"
	assert_leftovers_none
}

@test "shutdown without --wait: the qube halts soon after" {
	make_host_template t
	splq create q -t t
	splq start q
	run --separate-stderr splq shutdown q
	assert_status 0
	wait_until 5 state_is q Halted
	wait_until 5 test ! -e "$SPLQ_RUN/qubes/q"
	assert_leftovers_none
}

@test "shutdown --force --wait halts a running qube" {
	make_host_template t
	splq create q -t t
	splq start q
	local -a pids
	mapfile -t pids < <(qube_host_pids q)
	run --separate-stderr splq shutdown --force --wait q
	assert_status 0
	[ "$(qube_state q)" = Halted ]
	assert_qube_gone_at_runtime q "${pids[@]}"
}

@test "shutdown: a process that ignores SIGTERM is killed after shutdown_timeout" {
	make_host_template t
	splq create q -t t --prop shutdown_timeout=1
	splq run --no-wait q -- sh -c 'trap "" TERM; while :; do sleep 0.1; done' \
		</dev/null >/dev/null 2>&1
	wait_until 5 splq run q -- pgrep -f 'while :' >/dev/null
	local -a pids
	mapfile -t pids < <(qube_host_pids q)

	local t0 t1
	t0=$(now_ms)
	run --separate-stderr splq shutdown --wait q
	t1=$(now_ms)
	assert_status 0
	[ "$(qube_state q)" = Halted ]
	# it waited for the timeout (1 s), not for ever
	((t1 - t0 >= 800))
	((t1 - t0 < 5000))
	assert_qube_gone_at_runtime q "${pids[@]}"
	assert_leftovers_none
}

@test "kill: a qube that ignores SIGTERM is gone at once, leaving nothing" {
	make_host_template t
	splq create q -t t
	splq run --no-wait q -- sh -c 'trap "" TERM; while :; do sleep 0.1; done' \
		</dev/null >/dev/null 2>&1
	wait_until 5 splq run q -- pgrep -f 'while :' >/dev/null
	local -a pids
	mapfile -t pids < <(qube_host_pids q)

	local t0 t1
	t0=$(now_ms)
	run --separate-stderr splq kill q
	t1=$(now_ms)
	assert_status 0
	((t1 - t0 < 3000))
	wait_until 5 state_is q Halted
	wait_until 5 test ! -e "$SPLQ_RUN/qubes/q"
	assert_qube_gone_at_runtime q "${pids[@]}"
	assert_leftovers_none
	# and it starts again
	run --separate-stderr splq run q -- hostname
	assert_status 0
	[ "$output" = q ]
}

@test "shutdown and kill of a missing qube are exit 66" {
	run --separate-stderr splq shutdown nosuch
	assert_status 66
	[[ $stderr == *nosuch* ]]
	run --separate-stderr splq kill nosuch
	assert_status 66
	[[ $stderr == *nosuch* ]]
}

# --- 5. disposables ---------------------------------------------------------

@test "dispvm: runs in dispN, passes the exit code, leaves nothing" {
	make_host_template t
	run --separate-stderr splq dispvm --template t -- sh -c 'hostname'
	assert_status 0
	[[ $output =~ ^disp[0-9]+$ ]]
	local d=$output
	run --separate-stderr splq ls
	[[ $output != *"$d"* ]]
	[ ! -e "$SPLQ_HOME/qubes/$d" ]
	[ ! -e "$SPLQ_RUN/qubes/$d" ]

	run splq dispvm --template t -- sh -c 'exit 7'
	assert_status 7
	run splq dispvm --template t -- sh -c 'kill -TERM $$'
	assert_status 143
	run -127 --separate-stderr splq dispvm --template t -- no-such-command-xyz
	assert_status 127
	[[ $stderr == *no-such-command-xyz* ]]
	# only the template is left
	run --separate-stderr splq --json ls
	[ "$(printf '%s' "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["qubes"]))')" = 2 ]
	assert_leftovers_none
}

@test "dispvm from a dvm: gets a snapshot of its /home, writes do not reach it" {
	make_host_template t
	splq create dvm -t t --prop template_for_dispvms=True
	splq run dvm -- sh -c 'echo snap >/home/user/snap'
	splq shutdown --wait dvm

	run --separate-stderr splq dispvm --template dvm -- \
		sh -c 'cat /home/user/snap; echo w >/home/user/from-disp; echo w2 >/home/user/snap'
	assert_status 0
	[ "$output" = snap ]

	run splq run dvm -- test -e /home/user/from-disp
	assert_status 1
	run --separate-stderr splq run dvm -- cat /home/user/snap
	[ "$output" = snap ]
	# a second disposable does not see the first one's writes either
	run --separate-stderr splq dispvm --template dvm -- sh -c 'ls /home/user; cat /home/user/snap'
	assert_status 0
	[ "$output" = "snap
snap" ]
}

@test "dispvm: an AppVM without template_for_dispvms is refused" {
	make_host_template t
	splq create app -t t
	run --separate-stderr splq dispvm --template app -- true
	assert_status 69
	[[ $stderr == *template_for_dispvms* ]]
	run --separate-stderr splq prefs dom0 default_dispvm app
	assert_status 69
	[[ $stderr == *template_for_dispvms* ]]
	run --separate-stderr splq prefs dom0 default_dispvm
	[ -z "$output" ]
	assert_leftovers_none
}

@test "dispvm without --template uses dom0's default_dispvm, and without one is exit 66" {
	make_host_template t
	splq create dvm -t t --prop template_for_dispvms=True

	run --separate-stderr splq dispvm -- hostname
	assert_status 66
	[[ $stderr == *default_dispvm* ]]

	run --separate-stderr splq prefs dom0 default_dispvm dvm
	assert_status 0
	run --separate-stderr splq prefs dom0 default_dispvm
	[ "$output" = dvm ]
	splq run dvm -- sh -c 'echo from-dvm >/home/user/mark'
	splq shutdown --wait dvm
	run --separate-stderr splq dispvm -- sh -c 'hostname; cat /home/user/mark'
	assert_status 0
	[[ ${lines[0]} =~ ^disp[0-9]+$ ]]
	[ "${lines[1]}" = from-dvm ]
}

# --- 6. template create --base DIR ------------------------------------------

# Build a tiny root directory $1 holding one static program, /bin/hello:
# without arguments it prints "HOSTNAME UID"; with a path it prints
# "present" or "absent".
make_tiny_root() {
	local dir=$1 src=$BATS_TEST_TMPDIR/hello.c
	command -v cc >/dev/null || skip "needs a C compiler (cc)"
	mkdir -p "$dir/bin" "$dir/etc"
	cat >"$src" <<'EOF'
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char host[256] = {0};
	struct stat st;

	if (argc > 1) {
		puts(stat(argv[1], &st) == 0 ? "present" : "absent");
		return 0;
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		return 1;
	printf("%s %u\n", host, (unsigned)getuid());
	return 0;
}
EOF
	cc -static -O2 -o "$dir/bin/hello" "$src" 2>"$BATS_TEST_TMPDIR/cc.err" ||
		skip "cannot link a static program: $(head -c 300 "$BATS_TEST_TMPDIR/cc.err")"
	# a root has a shell: splq refuses a base without one
	cp "$dir/bin/hello" "$dir/bin/sh"
	printf 'root:x:0:0:root:/root:/bin/hello\nuser:x:1000:1000:user:/home/user:/bin/hello\n' \
		>"$dir/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\n' >"$dir/etc/group"
}

@test "template create --base DIR: a copy of a tiny root with a static program" {
	local dir=$BATS_TEST_TMPDIR/rootdir
	make_tiny_root "$dir"

	run --separate-stderr splq template create tiny --base "$dir"
	assert_status 0
	run --separate-stderr splq prefs tiny klass
	[ "$output" = TemplateVM ]
	splq create small -t tiny

	run --separate-stderr splq run small -- /bin/hello
	assert_status 0
	[ "$output" = "small 1000" ]
	run --separate-stderr splq run -u root small -- /bin/hello
	assert_status 0
	[ "$output" = "small 0" ]
	# nothing of the host's: no /usr/bin/python3 in there
	run --separate-stderr splq run small -- /bin/hello /usr/bin/python3
	[ "$output" = absent ]

	# DIR was copied: changing it later changes nothing in the template
	printf 'not a program\n' >"$dir/bin/hello"
	touch "$dir/bin/added-later"
	splq shutdown --wait small
	run --separate-stderr splq run small -- /bin/hello
	assert_status 0
	[ "$output" = "small 1000" ]
	run --separate-stderr splq run small -- /bin/hello /bin/added-later
	[ "$output" = absent ]
	run --separate-stderr splq run tiny -- /bin/hello
	assert_status 0
	[ "$output" = "tiny 1000" ]
}

@test "template create --base with a missing directory is exit 66, leaving nothing" {
	run --separate-stderr splq template create tiny --base "$BATS_TEST_TMPDIR/no-such-dir"
	assert_status 66
	[[ $stderr == *no-such-dir* ]]
	run --separate-stderr splq ls
	[[ $output != *tiny* ]]
	[ ! -e "$SPLQ_HOME/qubes/tiny" ]
	[ ! -e "$SPLQ_HOME/templates/tiny" ]
}

# --- 7. clone ---------------------------------------------------------------

@test "clone: the copy has the files, its own uid range, the properties and tags" {
	make_host_template t
	splq create src -t t --label green --memory 555
	splq tags src add project-x
	splq features src gui 1
	splq run src -- sh -c 'echo precious >/home/user/file'
	splq shutdown --wait src

	run --separate-stderr splq clone src dst
	assert_status 0

	# inside, the file belongs to user
	run --separate-stderr splq run dst -- sh -c 'cat /home/user/file; stat -c "%u %g" /home/user/file /home/user'
	assert_status 0
	[ "$output" = "precious
1000 1000
1000 1000" ]

	# on the host, the clone's private volume is an image of its own
	# (owned by qube-local ids, so the copy shifted nothing), in another
	# uid range
	local si di
	si=$(stat -c %i "$SPLQ_HOME/qubes/src/private.img")
	di=$(stat -c %i "$SPLQ_HOME/qubes/dst/private.img")
	[ "$si" != "$di" ]
	run --separate-stderr splq run src -- cat /proc/self/uid_map
	local sm=$output
	run --separate-stderr splq run dst -- cat /proc/self/uid_map
	[ "$output" != "$sm" ]
	splq kill src dst

	run --separate-stderr splq prefs dst label
	[ "$output" = green ]
	run --separate-stderr splq prefs dst memory
	[ "$output" = 555 ]
	run --separate-stderr splq prefs dst template
	[ "$output" = t ]
	run --separate-stderr splq prefs dst uuid
	local du_uuid=$output
	run --separate-stderr splq prefs src uuid
	[ "$output" != "$du_uuid" ]
	run --separate-stderr splq tags dst
	[[ $output == *project-x* ]]
	run --separate-stderr splq features dst gui
	assert_status 0
	[ "$output" = 1 ]

	# the source is untouched by the clone's writes
	splq run dst -- sh -c 'echo changed >/home/user/file'
	run --separate-stderr splq run src -- cat /home/user/file
	[ "$output" = precious ]
}

@test "clone: to an existing name is exit 67, from a missing qube exit 66" {
	make_host_template t
	splq create a -t t
	splq create b -t t
	run --separate-stderr splq clone a b
	assert_status 67
	[[ $stderr == *"already exists"* ]]
	run --separate-stderr splq clone nosuch c
	assert_status 66
	[[ $stderr == *nosuch* ]]
	run --separate-stderr splq clone a 1bad
	assert_status 65
	run --separate-stderr splq ls
	[[ $output != *" c "* ]]
	[ ! -e "$SPLQ_HOME/qubes/c" ]
	[ ! -e "$SPLQ_HOME/qubes/1bad" ]
}
