#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016  # run sets status etc.; $(hostname): in the qube
# splq: preloaded disposables (preload-dispvm-max, as in Qubes 4.3).  A
# dvm's pool is started ahead of time and frozen; dispvm takes one, never
# the same one twice, never a stale one; the pool goes when the feature
# does, when the dvm does, and when its splq is killed mid-way nothing is
# left that the next command cannot clean.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	make_host_template t
	splq create dvm --template t --prop template_for_dispvms=True >/dev/null
}

teardown() {
	kill_bg_pids
	teardown_splq
}

# The names in dvm's pool (its feature preload-dispvm), one a line.
pool() {
	local list
	list=$(splq features "${1:-dvm}" preload-dispvm 2>/dev/null) || return 0
	tr ' ' '\n' <<<"$list" | grep .
}

# Is every process of qube $1 frozen?
frozen() {
	local d
	for d in $(qube_cgroup_dirs "$1"); do
		if [ -f "$d/cgroup.freeze" ]; then
			grep -qx 'frozen 1' "$d/cgroup.events" && return 0
		elif [ -f "$d/freezer.state" ]; then
			grep -qx FROZEN "$d/freezer.state" && return 0
		fi
	done
	return 1
}

# The disposables in the store (ls --all), one a line.
disposables() {
	splq ls --all | awk '$2 == "DispVM" { print $1 }'
}

@test "preload: the pool is started, frozen, internal and hidden from ls" {
	splq features dvm preload-dispvm-max 2
	run splq preload dvm
	assert_status 0
	[[ $output == "2 ready ("* ]]
	mapfile -t names < <(pool)
	[ "${#names[@]}" -eq 2 ]
	for q in "${names[@]}"; do
		[ "$(splq features "$q" internal)" = 1 ]
		[ "$(splq features "$q" preload-dispvm-completed)" = 1 ]
		run splq features "$q" preload-dispvm-in-progress
		[ "$status" -ne 0 ]
		frozen "$q"
		! splq ls | grep -q "^$q "
		splq ls --all | grep -q "^$q .*Paused"
	done
	# preload-dispvm* features are the dvm's alone
	run splq features "${names[0]}" preload-dispvm-max
	[ "$status" -ne 0 ]
}

@test "preload: disposables in a row each come from the pool while it keeps up" {
	splq features dvm preload-dispvm-max 2
	splq preload dvm >/dev/null
	local i before got
	for ((i = 0; i < 4; i++)); do
		before=$(pool | sort | tr '\n' ' ')
		got=$(splq dispvm --template dvm -- hostname)
		[[ " $before" == *" $got "* ]] || {
			echo "disposable $got was not one of the pool ($before)" >&2
			return 1
		}
		# what the background filler does, waited for
		splq preload dvm >/dev/null
		pool | grep -qvx "$got"
		! disposables | grep -qx "$got"
	done
	splq audit log | grep -q "dispvm $got \"exit 0\" --template dvm hostname (preloaded)"
	splq audit log | grep -q "remove $got ok preloaded disposable, used"
	splq audit log | grep -q "preload disp[0-9]* ready --template dvm"
}

@test "preload: nothing of a preloaded disposable is left after its use" {
	splq features dvm preload-dispvm-max 1
	splq preload dvm >/dev/null
	local name
	name=$(splq dispvm --template dvm -- hostname)
	splq preload dvm >/dev/null
	! disposables | grep -qx "$name"
	[ ! -e "$SPLQ_RUN/qubes/$name" ]
	[ -z "$(qube_cgroup_dirs "$name")" ]
	! grep -q "$name" /proc/self/mountinfo
}

@test "preload: a template change makes the next disposable see the new template, never the stale preload" {
	splq features dvm preload-dispvm-max 2
	splq preload dvm >/dev/null
	mapfile -t old < <(pool)
	splq run --user root t -- sh -c 'echo v2 > /etc/splq-marker'
	splq shutdown --wait t
	run splq dispvm --template dvm -- cat /etc/splq-marker
	assert_status 0
	[ "$output" = v2 ]
	splq preload dvm >/dev/null
	for q in "${old[@]}"; do
		! disposables | grep -qx "$q"
	done
	splq audit log | grep -q "remove ${old[0]} ok stale preloaded disposable\|remove ${old[0]} ok preloaded disposable, used"
	run splq dispvm --template dvm -- cat /etc/splq-marker
	[ "$output" = v2 ]
}

@test "preload: a change of the dvm makes its preloads stale" {
	splq features dvm preload-dispvm-max 1
	splq preload dvm >/dev/null
	[ "$(splq dispvm --template dvm -- id -u)" = 1000 ]
	splq preload dvm >/dev/null
	splq prefs dvm default_user root
	[ "$(splq dispvm --template dvm -- id -u)" = 0 ]
}

@test "preload: what the dvm wrote before it last stopped is in the next disposable" {
	splq features dvm preload-dispvm-max 1
	splq preload dvm >/dev/null
	splq run dvm -- sh -c 'echo v2 > /home/user/mark'
	splq shutdown --wait dvm
	run splq dispvm --template dvm -- cat /home/user/mark
	assert_status 0
	[ "$output" = v2 ]
	splq preload dvm >/dev/null
	run splq dispvm --template dvm -- cat /home/user/mark
	[ "$output" = v2 ]
	splq audit log | grep -q "dispvm disp[0-9]* \"exit 0\" --template dvm cat /home/user/mark (preloaded)"
}

@test "preload: 10 disposables at once from a pool of 2 all succeed, each its own" {
	splq features dvm preload-dispvm-max 2
	splq preload dvm >/dev/null
	local i out="$BATS_TEST_TMPDIR/out"
	mkdir -p "$out"
	for ((i = 0; i < 10; i++)); do
		"$SPLQ" dispvm --template dvm -- hostname >"$out/$i" 2>&1 &
		BG_PIDS+=("$!")
	done
	for ((i = 0; i < 10; i++)); do
		wait "${BG_PIDS[$i]}" || {
			echo "dispvm $i failed: $(cat "$out/$i")" >&2
			return 1
		}
	done
	BG_PIDS=()
	[ "$(cat "$out"/* | grep -c '^disp[0-9]*$')" -eq 10 ]
	[ "$(cat "$out"/* | sort -u | wc -l)" -eq 10 ]
	splq preload dvm >/dev/null
	[ "$(disposables | wc -l)" -eq 2 ]
}

@test "preload: unsetting the feature removes the pool" {
	splq features dvm preload-dispvm-max 2
	splq preload dvm >/dev/null
	mapfile -t names < <(pool)
	splq features --unset dvm preload-dispvm-max
	[ -z "$(disposables)" ]
	run splq features dvm preload-dispvm
	[ "$status" -ne 0 ]
	for q in "${names[@]}"; do
		[ -z "$(qube_cgroup_dirs "$q")" ]
		[ ! -e "$SPLQ_RUN/qubes/$q" ]
	done
	# and lowering it trims the pool at once
	splq features dvm preload-dispvm-max 2
	splq preload dvm >/dev/null
	splq features dvm preload-dispvm-max 1
	[ "$(disposables | wc -l)" -eq 1 ]
}

@test "preload: removing the dvm removes its pool" {
	splq features dvm preload-dispvm-max 2
	splq preload dvm >/dev/null
	splq remove dvm
	[ -z "$(disposables)" ]
}

@test "preload: dom0's preload-dispvm-max sizes the default_dispvm's pool" {
	splq prefs dom0 default_dispvm dvm
	splq features dom0 preload-dispvm-max 1
	run splq preload
	assert_status 0
	[[ $output == "1 ready ("* ]]
	[ "$(pool | wc -l)" -eq 1 ]
}

@test "preload: a splq killed (SIGKILL) while it runs a command in a preloaded disposable leaves nothing a later command cannot clean" {
	splq features dvm preload-dispvm-max 1
	splq preload dvm >/dev/null
	local name pid i
	name=$(pool)
	"$SPLQ" dispvm --template dvm -- sleep 30 >/dev/null 2>&1 &
	pid=$!
	BG_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		pool | grep -qx "$name" || break
		sleep 0.05
	done
	! pool | grep -qx "$name"
	sleep 0.2
	kill -KILL "$pid"
	wait "$pid" || true
	BG_PIDS=()
	splq ls >/dev/null # the next command cleans
	! disposables | grep -qx "$name"
	[ -z "$(qube_cgroup_dirs "$name")" ]
	splq audit log | grep -q "remove $name ok disposable left by an ended splq"
	run splq preload dvm
	assert_status 0
	[[ $output == "1 ready ("* ]]
}

@test "preload: one that stopped (as after a reboot) is removed by the next command and replaced" {
	splq features dvm preload-dispvm-max 1
	splq preload dvm >/dev/null
	local name
	name=$(pool)
	# its supervisor and every process of it gone at once, no splq told
	local -a pids
	mapfile -t pids < <(splq_cgroup_pids $(supervisor_cgroup_dirs "$name") $(qube_cgroup_dirs "$name"))
	[ "${#pids[@]}" -gt 0 ]
	for d in $(qube_cgroup_dirs "$name"); do
		[ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze"
		[ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
	done
	kill -KILL "${pids[@]}"
	wait_for 50 sh -c "! \"\$SPLQ\" ls --all | grep -q '^$name .*Paused'"
	splq ls >/dev/null
	! disposables | grep -qx "$name"
	splq audit log | grep -q "remove $name ok preloaded disposable that stopped"
	run splq preload dvm
	assert_status 0
	[[ $output == "1 ready (1 started"* ]]
	[ "$(pool)" != "$name" ]
}

@test "preload: a bad preload-dispvm-max is refused, naming it" {
	run --separate-stderr splq features dvm preload-dispvm-max many
	assert_status 69
	[[ $stderr == *"preload-dispvm-max must be a whole number"*"'many'"* ]]
	run splq features dvm preload-dispvm-max
	[ "$status" -ne 0 ]
	run --separate-stderr splq features dvm preload-dispvm-max 1000
	assert_status 69
}

@test "preload: --netvm and --timeout start a disposable of their own" {
	splq features dvm preload-dispvm-max 1
	splq preload dvm >/dev/null
	local name
	name=$(pool)
	got=$(splq dispvm --template dvm --timeout 30 -- hostname)
	[ "$got" != "$name" ]
	[ "$(pool)" = "$name" ]
}
