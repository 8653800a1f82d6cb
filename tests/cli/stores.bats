#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# splq: many stores on one host.  Host-wide resources are leased host-wide:
# no two live qubes of any stores share a uid range, and same-named qubes
# of stores under one cgroup parent never share (or clean up) a cgroup.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	STORES=()
}

teardown() {
	local s
	for s in "${STORES[@]}"; do
		# shellcheck disable=SC2086  # three words: home, run, cgroup
		splq_scratch_cleanup $s
	done
}

# in_store N CMD...: run CMD with store N's environment.
in_store() {
	local n=$1
	shift
	local -a s
	read -ra s <<<"${STORES[n]}"
	SPLQ_HOME=${s[0]} SPLQ_RUN=${s[1]} SPLQ_CGROUP=${s[2]} "$@"
}

# new_store: a scratch store of its own, with a template t and an AppVM w.
new_store() {
	local home run
	home=$(mktemp -d /tmp/splq-test-home.XXXXXX)
	run=$(mktemp -d /tmp/splq-test-run.XXXXXX)
	# one cgroup parent for all: the stores must keep apart within it
	STORES+=("$home $run splq-test-$$-${BATS_TEST_NUMBER:-0}")
	in_store $((${#STORES[@]} - 1)) make_host_template t
	in_store $((${#STORES[@]} - 1)) "$SPLQ" create w --template t >/dev/null
}

@test "stores: five stores' qubes of one name run at once, each in a uid range of its own" {
	local i base
	local -A seen=()
	for ((i = 0; i < 5; i++)); do
		new_store
	done
	# every store's w gets the same slot in its own store: the host leases
	# each a different range
	for ((i = 0; i < 5; i++)); do
		run in_store "$i" "$SPLQ" run w -- cat /proc/self/uid_map
		assert_status 0
		base=$(awk '$1 == 0 { print $2 }' <<<"$output")
		[ -n "$base" ]
		if [ -n "${seen[$base]:-}" ]; then
			echo "stores ${seen[$base]} and $i share the uid range at $base" >&2
			return 1
		fi
		seen[$base]=$i
	done
	# a disposable of each store too, while all five run
	for ((i = 0; i < 5; i++)); do
		run in_store "$i" "$SPLQ" dispvm --template t -- cat /proc/self/uid_map
		assert_status 0
		base=$(awk '$1 == 0 { print $2 }' <<<"$output")
		[ -z "${seen[$base]:-}" ]
	done
	# stopping one store's w leaves the others running, and frees its range
	# for the next start
	in_store 0 "$SPLQ" shutdown --wait w
	for ((i = 1; i < 5; i++)); do
		run in_store "$i" "$SPLQ" ls
		[[ $output == *"w "*Running* ]]
	done
	run in_store 0 "$SPLQ" run w -- cat /proc/self/uid_map
	assert_status 0
	base=$(awk '$1 == 0 { print $2 }' <<<"$output")
	[ "${seen[$base]:-0}" = 0 ] # not a range another store's w holds
	# that start cleaned up after its own w only: the others still run,
	# each in a cgroup of its own
	for ((i = 0; i < 5; i++)); do
		run in_store "$i" "$SPLQ" ls
		[[ $output == *"w "*Running* ]]
	done
	run in_store 0 qube_cgroup_dirs w
	assert_status 0
	[ "$(printf '%s\n' "${lines[@]}" | sed 's,.*/,,' | sort -u | wc -l)" = 5 ]
}
