#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, stderr, stderr_lines: set by run
# splq: the basics of the command line: help, version, unknown commands,
# the root check, errors in JSON.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	setup_splq
}

teardown() {
	teardown_splq
}

# Every command as a user types it (the first word(s) of its usage).
COMMANDS=(
	"template create" create clone remove rm start shutdown kill run dispvm ls prefs tags
	features "audit log" "audit verify"
)

# Run $SPLQ as nobody, with a copy of the binary that nobody can reach.
run_as_nobody() {
	local bindir
	bindir=$(mktemp -d /tmp/splq-test-bin.XXXXXX)
	chmod 755 "$bindir"
	cp "$SPLQ" "$bindir/splq"
	chmod 755 "$bindir/splq"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		env SPLQ_HOME="$SPLQ_HOME/home" SPLQ_RUN="$SPLQ_RUN/run" \
		"$bindir/splq" "$@"
	rm -rf "$bindir"
}

@test "splq --help and splq help print the usage and exit 0" {
	run --separate-stderr splq --help
	assert_status 0
	[[ $output == *Usage* || $output == *usage* ]]
	for c in "${COMMANDS[@]}"; do
		[[ $output == *"$c"* ]] || {
			echo "splq --help does not mention '$c'"
			return 1
		}
	done
	run --separate-stderr splq help
	assert_status 0
	[[ $output == *"audit verify"* ]]
}

@test "every command's --help exits 0 and names the command" {
	local c
	for c in "${COMMANDS[@]}"; do
		# shellcheck disable=SC2086  # "template create" is two words
		run --separate-stderr splq $c --help
		if [ "$status" -ne 0 ] || [[ $output != *"$c"* ]]; then
			echo "splq $c --help: status $status, output: $output"
			return 1
		fi
		# shellcheck disable=SC2086
		run --separate-stderr splq help $c
		if [ "$status" -ne 0 ] || [[ $output != *"$c"* ]]; then
			echo "splq help $c: status $status, output: $output"
			return 1
		fi
	done
	# --help touches nothing
	[ -z "$(ls -A "$SPLQ_HOME")" ]
}

@test "splq --version prints the version" {
	run --separate-stderr splq --version
	assert_status 0
	[ "$output" = "splq 0.1.0" ]
}

@test "an unknown command exits 64 with one line on stderr" {
	require_root
	run --separate-stderr splq frobnicate
	assert_status 64
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ ${stderr_lines[0]} == "splq: "*frobnicate* ]]
}

@test "an unknown option exits 64" {
	require_root
	run --separate-stderr splq ls --no-such-option
	assert_status 64
	[[ $stderr == "splq: "* ]]
}

@test "a user other than root is refused with exit 75, touching nothing" {
	require_root
	run_as_nobody ls
	assert_status 75
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "${stderr_lines[0]}" = "splq: must be run as root (rootless mode is not supported yet)" ]
	[ ! -e "$SPLQ_HOME/home" ]
	[ ! -e "$SPLQ_RUN/run" ]

	run_as_nobody --json create work --template t
	assert_status 75
	[ ! -e "$SPLQ_HOME/home" ]
}

@test "--help and --version work for any user, touching nothing" {
	require_root
	run_as_nobody --help
	assert_status 0
	[[ $output == *"dispvm"* ]]
	run_as_nobody run --help
	assert_status 0
	run_as_nobody --version
	assert_status 0
	[ "$output" = "splq 0.1.0" ]
	[ ! -e "$SPLQ_HOME/home" ]
	[ ! -e "$SPLQ_RUN/run" ]
}

@test "--json: an unknown command is one JSON object with success false" {
	require_root
	run --separate-stderr splq --json frobnicate
	assert_status 64
	assert_json
	[ "$(json_get success)" = false ]
	[ "$(json_get code)" = 64 ]
	[[ $(json_get error) == *frobnicate* ]]
}

@test "--json: a missing qube is one JSON object with success false and code 66" {
	require_root
	run --separate-stderr splq --json prefs no-such-qube
	assert_status 66
	assert_json
	[ "$(json_get success)" = false ]
	[ "$(json_get code)" = 66 ]
	[[ $(json_get error) == *no-such-qube* ]]

	# --json also works among the command's own options
	run --separate-stderr splq prefs --json no-such-qube
	assert_status 66
	assert_json
	[ "$(json_get success)" = false ]
}

@test "--json: ls on an empty store lists dom0 only" {
	require_root
	run --separate-stderr splq --json ls
	assert_status 0
	assert_json
	[ "$(json_get success)" = true ]
	[ "$(json_get code)" = 0 ]
	[ "$(json_get qubes 0 name)" = dom0 ]
	[ "$(json_get qubes 0 class)" = AdminVM ]
	assert_leftovers_none
}
