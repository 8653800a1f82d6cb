#!/usr/bin/env bash
# splq: run every test, unit (cmocka) and command line (bats), and end with
# one line "N passed, N failed".  Called by `make check` with the build
# folders to test as arguments (build, build-san: the plain build and the
# one under ASan and UBSan); with none, $BUILD (default build).
# SPLQ_BATS, when set, names the .bats files to run (space-separated, paths
# relative to the repository; default every tests/cli/*.bats): the kernel
# checks run a subset inside a virtual machine.  A sanitizer build (a
# folder named *-san) runs every unit test but, of the command-line tests,
# SPLQ_BATS_SAN (default: the files where splq's host side reads what a
# user, a file or a qube hands it: streams, requests, policies, rules,
# logs, attacks from inside); the plain build runs them all.
# Exit status 0 only when nothing failed.
set -euo pipefail

cd "$(dirname "$0")/.."
# The system's tools first (the Debian packages scripts/deps.sh installs):
# a per-user shim of python3 (pyenv) costs 0.3 s a call, and the tests
# make thousands.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
if [ "$#" -eq 0 ]; then
	set -- "${BUILD:-build}"
fi

SAN_BATS="tests/cli/badinput.bats tests/cli/hostile-trees.bats tests/cli/copy.bats
tests/cli/calls.bats tests/cli/tcp.bats tests/cli/policy.bats tests/cli/audit.bats
tests/cli/network.bats tests/cli/security.bats tests/cli/vault.bats"
SAN_BATS=${SAN_BATS//$'\n'/ }

passed=0
failed=0
skipped=0
failures=()
skips=()

# Does a TAP result's description carry a SKIP directive?  Sets
# BASH_REMATCH: [1] the name before it, [3] the text after it.
is_skip() {
	local re='^(.*[^[:space:]])?[[:space:]]*#[[:space:]]*[Ss][Kk][Ii][Pp]([[:space:]]+(.*))?$'
	[[ $1 =~ $re ]]
}

# Read TAP (one suite) on stdin; the last line is "__SPLQ_EXIT__ STATUS",
# the suite's exit status.  Updates the counters above.
#   $1  suite label ("unit/test_store", "cli")
#   $2  "unit" (cmocka: "not ok N # SKIP name", reason printed before it)
#       or "bats" ("ok N name # skip reason")
parse_tap() {
	local suite=$1 kind=$2
	local line status="" planned=0 results=0 suite_failed=0 name reason
	local -a diag=()
	local in_fail=0

	while IFS= read -r line; do
		case $line in
		__SPLQ_EXIT__\ *)
			status=${line#__SPLQ_EXIT__ }
			continue
			;;
		esac
		if [[ $line =~ ^([0-9]+)\.\.([0-9]+) ]]; then
			planned=$((planned + BASH_REMATCH[2]))
			in_fail=0
			continue
		fi
		if [[ $line =~ ^(not\ )?ok\ [0-9]+(\ -)?\ ?(.*)$ ]]; then
			local negated=${BASH_REMATCH[1]} rest=${BASH_REMATCH[3]}
			results=$((results + 1))
			in_fail=0
			if is_skip "$rest"; then
				name=${BASH_REMATCH[1]}
				reason=${BASH_REMATCH[3]}
				if [ "$kind" = unit ]; then
					# cmocka: the name follows SKIP; the reason is what
					# the test printed just before skipping.
					name=$reason
					reason=""
					local i
					for ((i = ${#diag[@]} - 1; i >= 0; i--)); do
						if [[ ${diag[i]} =~ [^[:space:]#] ]]; then
							reason=${diag[i]#\# }
							break
						fi
					done
				fi
				skipped=$((skipped + 1))
				skips+=("$suite: $name (${reason:-no reason given})")
				printf '  skip     %s: %s: %s\n' "$suite" "$name" "${reason:-no reason given}"
			elif [ -n "$negated" ]; then
				failed=$((failed + 1))
				suite_failed=$((suite_failed + 1))
				failures+=("$suite: $rest")
				printf '  FAIL     %s: %s\n' "$suite" "$rest"
				# What the test printed before failing, then the
				# "# ..." details that follow the line.
				local d
				for d in "${diag[@]}"; do
					printf '           %s\n' "$d"
				done
				in_fail=1
			else
				passed=$((passed + 1))
				printf '  ok       %s: %s\n' "$suite" "$rest"
			fi
			diag=()
			continue
		fi
		# Anything else is a diagnostic or the test's own output.
		[ -n "$line" ] || continue
		[[ $line =~ ^#\ (not\ )?ok\ -\  ]] && continue # cmocka group summary
		if [ "$in_fail" = 1 ] && { [ "$kind" = bats ] || [[ $line == \#* ]]; }; then
			printf '           %s\n' "$line"
		else
			diag+=("$line")
			# keep the last few lines only
			if [ "${#diag[@]}" -gt 40 ]; then
				diag=("${diag[@]:1}")
			fi
		fi
	done

	# A suite that crashed, printed no plan, stopped short of its plan or
	# failed without saying which test counts as one failure.
	local why=""
	if [ -z "$status" ]; then
		why="no exit status"
	elif [ "$planned" -eq 0 ] && [ "$results" -eq 0 ]; then
		why="printed no test plan (exit status $status)"
	elif [ "$status" -gt 128 ]; then
		why="killed by signal $((status - 128))"
	elif [ "$results" -lt "$planned" ]; then
		why="stopped after $results of $planned tests (exit status $status)"
	elif [ "$status" -ne 0 ] && [ "$suite_failed" -eq 0 ]; then
		why="exited with status $status but reported no failing test"
	fi
	if [ -n "$why" ]; then
		failed=$((failed + 1))
		failures+=("$suite: $why")
		printf '  FAIL     %s: %s\n' "$suite" "$why"
		local d
		for d in "${diag[@]}"; do
			printf '           %s\n' "$d"
		done
	fi
}

# Every test of one build folder.
run_build() {
	local BUILD=$1 label=$1
	echo "== unit tests ($BUILD/tests)"
	shopt -s nullglob
	units=("$BUILD"/tests/test_*)
	shopt -u nullglob
	if [ "${#units[@]}" -eq 0 ]; then
		echo "  (no unit test binaries in $BUILD/tests)"
	fi
	for bin in "${units[@]}"; do
		if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
		parse_tap "$label/unit/$(basename "$bin")" unit < <(
			set +e
			CMOCKA_MESSAGE_OUTPUT=TAP "$bin" </dev/null 2>&1
			printf '\n__SPLQ_EXIT__ %d\n' "$?"
		)
	done

	case $BUILD in
	/*) SPLQ=$BUILD/splq ;;
	*) SPLQ=$PWD/$BUILD/splq ;;
	esac
	export SPLQ
	echo "== command-line tests (tests/cli, $SPLQ)"
	if [ -n "${SPLQ_BATS:-}" ]; then
		read -r -a bats_files <<<"$SPLQ_BATS"
	elif [[ $BUILD == *-san ]]; then
		read -r -a bats_files <<<"${SPLQ_BATS_SAN:-$SAN_BATS}"
	else
		shopt -s nullglob
		bats_files=(tests/cli/*.bats)
		shopt -u nullglob
	fi
	if [ "${#bats_files[@]}" -gt 0 ]; then
		if [ ! -x "$SPLQ" ]; then
			failed=$((failed + 1))
			failures+=("$label/cli: $SPLQ is missing; run make first")
			echo "  FAIL     $label/cli: $SPLQ is missing; run make first"
		else
			parse_tap "$label/cli" bats < <(
				set +e
				bats --tap "${bats_files[@]}" </dev/null 2>&1
				printf '\n__SPLQ_EXIT__ %d\n' "$?"
			)
		fi
	else
		echo "  (no .bats files)"
	fi
}

for b in "$@"; do
	run_build "$b"
done

echo
if [ "${#failures[@]}" -gt 0 ]; then
	echo "failed:"
	for f in "${failures[@]}"; do
		echo "  $f"
	done
fi
if [ "$skipped" -gt 0 ]; then
	line="$skipped skipped:"
	for s in "${skips[@]}"; do
		line+=" $s;"
	done
	echo "${line%;}"
else
	echo "0 skipped"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
