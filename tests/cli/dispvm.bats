#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016,SC2030,SC2031  # run sets status etc.; $(hostname): in the qube
# splq: a disposable leaves nothing behind, however it ends (normal exit,
# killed command, --timeout, splq itself interrupted), also when twenty run
# at once; two creates of the same name race to exactly one winner.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	NET_NS_BEFORE=()
}

teardown() {
	kill_bg_pids
	teardown_splq
}

# "INODE PID" for every process on the host, by network namespace.
net_ns_holders() {
	find /proc/[0-9]*/ns -maxdepth 1 -name net -printf '%l %h\n' 2>/dev/null |
		sed -nE 's|^net:\[([0-9]+)\] /proc/([0-9]+)/ns$|\1 \2|p'
}

# Remember which network namespaces exist before a scenario.
net_ns_snapshot() {
	mapfile -t NET_NS_BEFORE < <(net_ns_holders | cut -d' ' -f1 | sort -u)
}

# Whose is process PID: "ours" (in this test's cgroup, or its command line
# names this test's directories), "other" (a qube process or an splq
# process of some other splq environment), or "unknown".
process_owner() {
	local pid=$1 cmd cg uid
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	cg=$(cat "/proc/$pid/cgroup" 2>/dev/null)
	if [[ $cg == *"/$SPLQ_CGROUP/"* || $cg == *"/$SPLQ_CGROUP"$'\n'* ||
		$cg == *"/$SPLQ_CGROUP" || $cmd == *"$SPLQ_RUN"* || $cmd == *"$SPLQ_HOME"* ]]; then
		echo ours
		return
	fi
	uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status" 2>/dev/null)
	if [[ ${uid:-0} -ge 1000000000 || $cmd == *splq* || $cg == *splq* ]]; then
		echo other
		return
	fi
	echo unknown
}

# Fail, listing what is left, unless no trace of a disposable remains: no
# runtime directory under $SPLQ_RUN/qubes, no volume under $SPLQ_HOME, no
# cgroup below $SPLQ_CGROUP and no process in it, no mount naming
# $SPLQ_HOME or $SPLQ_RUN but a template root generation's, no supervisor (splq-init --supervise) of this
# environment, no network namespace made since net_ns_snapshot that is not
# another environment's, and no disposable in `splq ls`.  The arguments
# are the names of the disposables the scenario made.
assert_no_disposable_leftovers() {
	local -a problems=() dirs children pids holders
	local -A before=() owners=()
	local d c name line ns pid owner

	# the clean-up that follows the command's end goes on in the background
	splq_wait_background || problems+=("background splq processes")
	if [ -d "$SPLQ_RUN/qubes" ]; then
		for d in "$SPLQ_RUN"/qubes/* "$SPLQ_RUN"/qubes/.[!.]*; do
			[ -e "$d" ] && problems+=("runtime directory $d")
		done
	fi
	for d in "$SPLQ_HOME"/qubes/disp* "$SPLQ_HOME"/templates/disp*; do
		[ -e "$d" ] && problems+=("directory $d")
	done
	for name in "$@"; do
		[ -e "$SPLQ_HOME/qubes/$name" ] && problems+=("directory $SPLQ_HOME/qubes/$name")
		[ -e "$SPLQ_RUN/qubes/$name" ] && problems+=("directory $SPLQ_RUN/qubes/$name")
	done

	mapfile -t dirs < <(splq_cgroup_dirs "$SPLQ_CGROUP")
	for d in "${dirs[@]}"; do
		mapfile -t children < <(find "$d" -mindepth 1 -type d)
		for c in "${children[@]}"; do
			problems+=("cgroup $c")
		done
		mapfile -t pids < <(splq_cgroup_pids "$d")
		[ "${#pids[@]}" -gt 0 ] && problems+=("processes in cgroup $d: ${pids[*]}")
	done

	# the read-only mount of a template root generation stays while the
	# generation exists (rootmnt.h): a disposable's start costs no mount
	while IFS= read -r line; do
		splq_generation_mount "$(awk '{ print $5 }' <<<"$line")" ||
			problems+=("mount: $line")
	done < <(grep -F -e "$SPLQ_RUN" -e "$SPLQ_HOME" /proc/self/mountinfo)

	mapfile -t pids < <(pgrep -f -- "splq-init --supervise [^ ]+ $SPLQ_RUN/")
	[ "${#pids[@]}" -gt 0 ] && problems+=("supervisors still running: ${pids[*]}")
	for name in "$@"; do
		mapfile -t pids < <(pgrep -f -- "splq-init --supervise $name $SPLQ_RUN/")
		[ "${#pids[@]}" -gt 0 ] &&
			problems+=("supervisor of $name still running: ${pids[*]}")
	done

	# without a snapshot the host's own namespace would count as new
	[ "${#NET_NS_BEFORE[@]}" -gt 0 ] || problems+=("no net_ns_snapshot before the scenario")
	for ns in "${NET_NS_BEFORE[@]}"; do
		before[$ns]=1
	done
	while read -r ns pid; do
		[ -n "${before[$ns]:-}" ] && continue
		owner=$(process_owner "$pid")
		[ -n "$owner" ] || continue
		case ${owners[$ns]:-} in
		ours) ;;
		other) [ "$owner" = ours ] && owners[$ns]=ours ;;
		*) owners[$ns]=$owner ;;
		esac
		[ "$owner" = other ] && continue
		holders+=("$ns: pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))")
	done < <(net_ns_holders)
	for ns in "${!owners[@]}"; do
		[ "${owners[$ns]}" = other ] && continue
		problems+=("network namespace $ns made during the test")
	done
	[ "${#problems[@]}" -gt 0 ] && [ "${#holders[@]}" -gt 0 ] &&
		problems+=("holders: ${holders[*]}")

	if ! line=$("$SPLQ" ls 2>&1); then
		problems+=("splq ls failed: $line")
	elif [[ $'\n'$line == *$'\n'disp* ]]; then
		problems+=("splq ls still lists a disposable: $line")
	fi

	if [ "${#problems[@]}" -gt 0 ]; then
		printf 'left behind: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# Start `splq dispvm --template t -- sleep 30` in the background, its output
# in $BATS_TEST_TMPDIR/bg.out and bg.err; BG_PID is splq's pid.
start_background_dispvm() {
	"$SPLQ" dispvm --template t -- sleep 30 >"$BATS_TEST_TMPDIR/bg.out" \
		2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# Print the name of the running disposable once `splq ls` shows one as
# Running (within 10 s); fail otherwise.
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
	echo "no disposable became Running within 10 s; splq ls:" >&2
	"$SPLQ" ls >&2
	return 1
}

# Wait (at most 10 s) for background process PID to end; its exit status
# goes to WAIT_STATUS.
wait_bounded() {
	local pid=$1 i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "process $pid still running 10 s after its signal" >&2
		return 1
	fi
	WAIT_STATUS=0
	wait "$pid" || WAIT_STATUS=$?
}

# Send SIGNAL to a background `splq dispvm` once its disposable runs and
# check that splq ends with 128+N, says so, and leaves nothing behind.
interrupt_dispvm() {
	local sig=$1 code=$2 name
	make_host_template t
	net_ns_snapshot
	start_background_dispvm
	name=$(wait_for_running_disposable)
	[ -d "$SPLQ_RUN/qubes/$name" ] # the scenario really ran
	kill -"$sig" "$BG_PID"
	wait_bounded "$BG_PID"
	if [ "$WAIT_STATUS" -ne "$code" ]; then
		echo "splq dispvm exited $WAIT_STATUS after SIG$sig, expected $code; stderr:" >&2
		cat "$BATS_TEST_TMPDIR/bg.err" >&2
		return 1
	fi
	assert_no_disposable_leftovers "$name"
}

@test "dispvm: exit codes 0 and 7 pass through and the disposable leaves nothing behind" {
	make_host_template t
	net_ns_snapshot

	run --separate-stderr splq dispvm --template t -- sh -c 'echo $(hostname)'
	assert_status 0
	[[ $output =~ ^disp[0-9]+$ ]]
	assert_no_disposable_leftovers "$output"

	run --separate-stderr splq dispvm --template t -- sh -c 'echo $(hostname); exit 7'
	assert_status 7
	[[ $output =~ ^disp[0-9]+$ ]]
	assert_no_disposable_leftovers "$output"
}

@test "dispvm: the result comes before the clean-up, which the supervisor does; the disposable is hidden meanwhile" {
	make_host_template t
	net_ns_snapshot
	"$SPLQ" dispvm --template t -- sh -c 'sleep 1; exit 5' >/dev/null 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	local pid=$! name sup
	BG_PIDS+=("$pid")
	name=$(wait_for_running_disposable)
	sup=$(cat "$SPLQ_RUN/qubes/$name/supervisor.pid")
	# a supervisor that cannot clean up (stopped) holds up no result
	kill -STOP "$sup"
	wait_bounded "$pid" || {
		kill -CONT "$sup"
		false
	}
	[ "$WAIT_STATUS" -eq 5 ] || {
		kill -CONT "$sup"
		cat "$BATS_TEST_TMPDIR/bg.err" >&2
		false
	}
	# meanwhile: not in ls, in ls --all, marked used and owned by its
	# remover; another splq's clean-up of ended ones leaves it to that
	local ls_out all_out feats
	ls_out=$("$SPLQ" ls)
	all_out=$("$SPLQ" ls --all)
	feats=$("$SPLQ" features "$name")
	kill -CONT "$sup"
	[[ $ls_out != *"$name"* ]]
	[[ $all_out == *"$name"* ]]
	[[ $feats == *"internal"*1* && $feats == *"splq.discard"*1* ]]
	[[ $feats == *"splq.owner"*"$sup "* ]]
	assert_no_disposable_leftovers "$name"
	run "$SPLQ" audit log --qube "$name"
	assert_status 0
	[[ ${lines[-2]} == *"dispvm $name \"exit 5\""* ]]
	[[ ${lines[-1]} == *"remove $name ok disposable, used"* ]]
}

@test "discard: only a halted disposable goes; a running one (68) and another class (69) stay; a gone one is no error" {
	make_host_template t
	net_ns_snapshot
	start_background_dispvm
	local name
	name=$(wait_for_running_disposable)
	run --separate-stderr "$SPLQ" discard "$name"
	assert_status 68
	[[ $stderr == *"disposable '$name' is running"* ]]
	[ -d "$SPLQ_RUN/qubes/$name" ]
	run --separate-stderr "$SPLQ" discard t
	assert_status 69
	[[ $stderr == *"'t' is a TemplateVM, not a disposable"* ]]
	run "$SPLQ" discard disp0
	assert_status 0
	[[ $output == "disp0 was removed already" ]]
	run "$SPLQ" discard --json disp0
	assert_status 0
	[ "$(json_get qube)" = disp0 ] && [ "$(json_get removed)" = false ]
	kill -TERM "$BG_PID"
	wait_bounded "$BG_PID"
	assert_no_disposable_leftovers "$name"
}

@test "dispvm: a command killed by SIGKILL gives 137 and leaves nothing behind" {
	make_host_template t
	net_ns_snapshot
	run --separate-stderr splq dispvm --template t -- sh -c 'echo $(hostname); kill -KILL $$'
	assert_status 137
	[[ $output =~ ^disp[0-9]+$ ]]
	assert_no_disposable_leftovers "$output"
}

@test "dispvm --timeout 1: a long command is stopped with 124 within seconds, nothing left" {
	local t0 t1
	make_host_template t
	net_ns_snapshot
	t0=$(date +%s%N)
	run --separate-stderr splq dispvm --timeout 1 --template t -- \
		sh -c 'echo $(hostname); exec sleep 30'
	t1=$(date +%s%N)
	assert_status 124
	[[ $output =~ ^disp[0-9]+$ ]]
	[[ $stderr == *"timed out"* ]]
	[[ $stderr == *"$output"* ]]
	if (((t1 - t0) / 1000000 > 5000)); then
		echo "dispvm --timeout 1 took $(((t1 - t0) / 1000000)) ms" >&2
		return 1
	fi
	if (((t1 - t0) / 1000000 < 900)); then
		echo "dispvm --timeout 1 ended after only $(((t1 - t0) / 1000000)) ms" >&2
		return 1
	fi
	assert_no_disposable_leftovers "$output"
}

@test "dispvm: SIGTERM to splq removes the disposable and exits 143" {
	interrupt_dispvm TERM 143
}

@test "dispvm: SIGINT to splq removes the disposable and exits 130" {
	interrupt_dispvm INT 130
}

@test "dispvm: one whose splq was killed (SIGKILL) is hung up and removed by the next ls" {
	make_host_template t
	net_ns_snapshot
	"$SPLQ" dispvm --template t -- sleep 30 >/dev/null 2>&1 3>&- &
	local pid=$! name i
	BG_PIDS+=("$pid")
	name=$(wait_for_running_disposable)
	kill -KILL "$pid"
	wait "$pid" || true
	# its command is hung up (SIGHUP) at once, as a terminal's would be,
	# and its supervisor cleans up; the next ls finds the disposable's
	# splq gone and removes the rest
	for ((i = 0; i < 300; i++)); do
		[ -e "$SPLQ_RUN/qubes/$name" ] || break
		sleep 0.05
	done
	if [ -e "$SPLQ_RUN/qubes/$name" ]; then
		echo "after 15 s, $SPLQ_RUN/qubes/$name is still there:" >&2
		ls -la "$SPLQ_RUN/qubes/$name" >&2
		local p
		for p in $(splq_env_pids "$SPLQ_RUN"); do
			echo "splq process $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)" >&2
		done
		false
	fi
	# its supervisor's cgroup, which no one waited to remove, goes too
	"$SPLQ" ls >/dev/null
	assert_no_disposable_leftovers "$name"
	run "$SPLQ" audit log --qube "$name"
	assert_status 0
	[[ ${lines[-1]} == *"remove $name ok disposable left by an ended splq"* ]]
}

@test "dispvm: 20 disposables in parallel all succeed with distinct names, nothing left" {
	local -a pids=() names=()
	local i st fails=0
	make_host_template t
	net_ns_snapshot
	for ((i = 0; i < 20; i++)); do
		"$SPLQ" dispvm --template t -- sh -c 'echo $(hostname)' \
			>"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" 3>&- &
		pids+=("$!")
		BG_PIDS+=("$!")
	done
	for ((i = 0; i < 20; i++)); do
		st=0
		wait "${pids[i]}" || st=$?
		if [ "$st" -ne 0 ]; then
			echo "dispvm $i exited $st: $(cat "$BATS_TEST_TMPDIR/err.$i")" >&2
			fails=$((fails + 1))
		fi
	done
	[ "$fails" -eq 0 ]
	mapfile -t names < <(cat "$BATS_TEST_TMPDIR"/out.*)
	[ "${#names[@]}" -eq 20 ]
	for i in "${names[@]}"; do
		[[ $i =~ ^disp[0-9]+$ ]] || {
			echo "not a disposable's name: '$i'" >&2
			return 1
		}
	done
	[ "$(printf '%s\n' "${names[@]}" | sort -u | wc -l)" -eq 20 ]
	assert_no_disposable_leftovers "${names[@]}"
}

@test "create: two parallel creates of one name give one winner (0) and one 67" {
	local round s1 s2 loser
	make_host_template t
	for round in 1 2 3; do
		"$SPLQ" create "same$round" --template t >"$BATS_TEST_TMPDIR/c1.out" \
			2>"$BATS_TEST_TMPDIR/c1.err" 3>&- &
		local p1=$!
		"$SPLQ" create "same$round" --template t >"$BATS_TEST_TMPDIR/c2.out" \
			2>"$BATS_TEST_TMPDIR/c2.err" 3>&- &
		local p2=$!
		BG_PIDS+=("$p1" "$p2")
		s1=0 s2=0
		wait "$p1" || s1=$?
		wait "$p2" || s2=$?
		if [ "$s1" -eq 0 ] && [ "$s2" -eq 67 ]; then
			loser=c2
		elif [ "$s1" -eq 67 ] && [ "$s2" -eq 0 ]; then
			loser=c1
		else
			echo "round $round: exit codes $s1 and $s2, expected 0 and 67" >&2
			cat "$BATS_TEST_TMPDIR"/c?.err >&2
			return 1
		fi
		grep -q "already exists" "$BATS_TEST_TMPDIR/$loser.err"
		grep -q "same$round" "$BATS_TEST_TMPDIR/$loser.err"

		# The winner is whole: one row, its private volume, and it runs
		# with that volume as /home.
		run --separate-stderr splq ls
		assert_status 0
		[ "$(printf '%s\n' "$output" | awk -v n="same$round" '$1 == n { print $2 }')" \
			= AppVM ]
		[ -f "$SPLQ_HOME/qubes/same$round/private.img" ]
		run --separate-stderr splq run "same$round" -- \
			sh -c 'echo won > /home/user/mark; hostname'
		assert_status 0
		[ "$output" = "same$round" ]
		[ "$("$SPLQ" run "same$round" -- cat /home/user/mark)" = won ]
		run --separate-stderr splq kill "same$round"
		assert_status 0
	done
	assert_leftovers_none
}
