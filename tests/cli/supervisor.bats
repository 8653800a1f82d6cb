#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# splq: a qube's supervisor outlives the session that started it.  It lives
# in cgroups of its own beside its qube's (cgroup.h), so that a service
# manager killing every process of the caller's cgroup (systemd stopping
# the unit that ran `splq start`, logind ending a session) leaves the qube
# running; and those cgroups go when the qube stops.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	# the cgroup of the test's "caller", as a service manager would make
	# one for a unit or a session
	CALLER="$SPLQ_CGROUP-caller"
	BG_PIDS=()
}

teardown() {
	kill_bg_pids
	splq_scratch_cleanup "" "" "$CALLER"
	teardown_splq
}

# The mounted cgroup hierarchies a service manager tracks or limits a unit
# with: the cgroup2 tree, name=systemd, and the v1 memory and pids ones;
# "KIND MOUNTPOINT" a line.
caller_hierarchies() {
	awk '{
		for (i = 7; i <= NF; i++)
			if ($i == "-") {
				t = $(i + 1); o = $(i + 3)
				if (t == "cgroup2") print "cgroup2 " $5
				else if (t == "cgroup" && o ~ /(^|,)(name=systemd|memory|pids)(,|$)/)
					print "v1 " $5
				break
			}
	}' /proc/self/mountinfo
}

# The pids in the cgroup directories given.
pids_in() {
	cat "${@/%//cgroup.procs}" 2>/dev/null | sort -un
}

# The caller's cgroups, made in every hierarchy caller_hierarchies names;
# their directories in DIRS, their cgroup.procs files in PROCS.
make_caller_cgroups() {
	local kind mnt
	DIRS=() PROCS=()
	while read -r kind mnt; do
		mkdir "$mnt/$CALLER"
		DIRS+=("$mnt/$CALLER")
		PROCS+=("$mnt/$CALLER/cgroup.procs")
	done < <(caller_hierarchies)
	[ "${#DIRS[@]}" -ge 1 ]
}

# What a service manager does at a unit's stop: cgroup.kill where there is
# one, SIGKILL to every listed pid everywhere (the caller's cgroups hold
# only what the test started); waits until they are empty.
kill_caller_cgroups() {
	local d p
	[ -n "$(pids_in "${DIRS[@]}")" ]
	for d in "${DIRS[@]}"; do
		if [ -f "$d/cgroup.kill" ]; then
			echo 1 >"$d/cgroup.kill"
		fi
	done
	for p in $(pids_in "${DIRS[@]}"); do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait_for 50 test -z "$(pids_in "${DIRS[@]}")"
}

@test "killing every process of the caller's cgroup leaves its qube running" {
	make_qube q
	make_caller_cgroups
	# the caller: a shell put in those cgroups, that starts the qube and
	# stays, as a unit's main process would
	bash -c 'for f in "$@"; do echo $$ > "$f" || exit 1; done
		"$SPLQ" start q > "$BATS_TEST_TMPDIR/started" 2>&1; echo $? >> "$BATS_TEST_TMPDIR/started"
		exec sleep 600' _ "${PROCS[@]}" 3>&- &
	BG_PIDS+=($!)
	wait_for 300 grep -qx 0 "$BATS_TEST_TMPDIR/started"
	[ "$(qube_state q)" = Running ]
	local sup init
	sup=$(cat "$SPLQ_RUN/qubes/q/supervisor.pid")
	init=$(cat "$SPLQ_RUN/qubes/q/init.pid")
	# neither the supervisor nor the qube is in a cgroup of the caller's
	for p in "$sup" "$init"; do
		run cat "/proc/$p/cgroup"
		assert_status 0
		[[ $output != *"$CALLER"* ]] || {
			echo "process $p is still in the caller's cgroup: $output" >&2
			return 1
		}
	done
	# the supervisor is in its own, beside the qube's, in every hierarchy
	# the caller was in
	run --separate-stderr grep -c "/$SPLQ_CGROUP/q\.[0-9a-f]*\.sup$" "/proc/$sup/cgroup"
	[ "$output" -ge "${#DIRS[@]}" ]
	kill_caller_cgroups
	# the qube lives on and answers
	[ "$(qube_state q)" = Running ]
	kill -0 "$sup"
	kill -0 "$init"
	run --separate-stderr splq run q -- echo alive
	assert_status 0
	[ "$output" = alive ]
	splq shutdown --wait q
	assert_leftovers_none
}

@test "the supervisor's cgroups go with it: shutdown --wait, kill, shutdown, a disposable" {
	make_qube q
	splq start q
	local sup d
	sup=$(cat "$SPLQ_RUN/qubes/q/supervisor.pid")
	mapfile -t dirs < <(supervisor_cgroup_dirs q)
	[ "${#dirs[@]}" -ge 1 ]
	for d in "${dirs[@]}"; do
		grep -qx "$sup" "$d/cgroup.procs"
	done
	# while it runs, the leftover check accepts them as the qube's
	assert_leftovers_none q
	splq shutdown --wait q
	[ -z "$(supervisor_cgroup_dirs q)" ]
	assert_leftovers_none

	splq start q
	[ -n "$(supervisor_cgroup_dirs q)" ]
	splq kill q
	[ -z "$(supervisor_cgroup_dirs q)" ]
	assert_leftovers_none

	# no one waits: the next look at the halted qube removes them
	splq start q
	splq shutdown q
	wait_for 100 state_is q Halted
	[ -z "$(supervisor_cgroup_dirs q)" ]
	assert_leftovers_none

	run --separate-stderr "$SPLQ" dispvm --template t -- true
	assert_status 0
	assert_leftovers_none
}

@test "a disposable ends with its caller's cgroup: its supervisor stays there, the next ls removes the rest" {
	make_host_template t
	make_caller_cgroups
	bash -c 'for f in "$@"; do echo $$ > "$f" || exit 1; done
		exec "$SPLQ" dispvm --template t -- sleep 600' _ "${PROCS[@]}" >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	local name sup
	for ((i = 0; i < 200; i++)); do
		name=$("$SPLQ" ls 2>/dev/null | awk '$1 ~ /^disp[0-9]+$/ && $3 == "Running" { print $1 }')
		[ -z "$name" ] || break
		sleep 0.05
	done
	[ -n "$name" ]
	sup=$(cat "$SPLQ_RUN/qubes/$name/supervisor.pid")
	# no cgroup of its own: it is where the splq that waits for it is
	[ -z "$(supervisor_cgroup_dirs "$name")" ]
	local d
	for d in "${DIRS[@]}"; do
		grep -qx "$sup" "$d/cgroup.procs"
	done
	# the unit's stop
	kill_caller_cgroups
	# its command is hung up with its splq; what is left goes at the next look
	wait_for 100 eval '! state_is '"$name"' Running'
	"$SPLQ" ls >/dev/null
	[ "$(qube_state "$name")" = absent ]
	assert_leftovers_none
}

@test "a supervisor killed behind splq's back: the next start cleans up and moves the new one in" {
	make_qube q
	splq start q
	local sup init d
	sup=$(cat "$SPLQ_RUN/qubes/q/supervisor.pid")
	init=$(cat "$SPLQ_RUN/qubes/q/init.pid")
	# a crash: its cgroups, and its qube's, are left behind
	kill -KILL "$sup"
	wait_for 100 eval '! kill -0 '"$sup"' 2>/dev/null'
	run --separate-stderr splq start q
	assert_status 0
	# the old qube is gone, the new supervisor is in the new cgroups
	wait_for 50 eval '! kill -0 '"$init"' 2>/dev/null'
	sup=$(cat "$SPLQ_RUN/qubes/q/supervisor.pid")
	mapfile -t dirs < <(supervisor_cgroup_dirs q)
	[ "${#dirs[@]}" -ge 1 ]
	for d in "${dirs[@]}"; do
		grep -qx "$sup" "$d/cgroup.procs"
		if grep -qx "$init" "$d/cgroup.procs"; then
			echo "the old qube's pid 1 is still in $d" >&2
			return 1
		fi
	done
	run --separate-stderr splq run q -- echo alive
	[ "$output" = alive ]
	splq kill q
	assert_leftovers_none
}
