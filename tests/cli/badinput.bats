#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2030,SC2031  # run sets status etc.; @test bodies share globals
# splq: bad input and a hostile environment.  Every refusal has its exit
# code and a message naming the fault, and leaves no partial qube behind
# (no row in `splq ls`, no directory under $SPLQ_HOME/qubes or templates).

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	TMPFS_DIR=
	NOBODY_DIR=
}

teardown() {
	kill_bg_pids
	if [ -n "$TMPFS_DIR" ]; then
		if mountpoint -q "$TMPFS_DIR"; then
			umount "$TMPFS_DIR" || umount -l "$TMPFS_DIR"
		fi
		rm -rf "$TMPFS_DIR"
		SPLQ_HOME=$ORIG_HOME
	fi
	[ -n "$NOBODY_DIR" ] && rm -rf "$NOBODY_DIR"
	teardown_splq
}

# The names in `splq ls`, sorted, one a line.
ls_names() {
	"$SPLQ" ls | awk 'NR > 1 { print $1 }' | sort
}

# The entries of a directory, sorted, one a line (nothing if it is absent).
dir_names() {
	[ -d "$1" ] || return 0
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
}

# Fail unless the store lists exactly dom0 and the qubes given, and
# $SPLQ_HOME/qubes holds exactly the qubes given and $SPLQ_HOME/templates
# nothing but the templates among them (those given as T:NAME).
assert_qubes_exactly() {
	local -a all=(dom0) vols=() tmpls=()
	local q want got
	for q in "$@"; do
		all+=("${q#T:}")
		vols+=("${q#T:}")
		[ "${q#T:}" != "$q" ] && tmpls+=("${q#T:}")
	done
	want=$(printf '%s\n' "${all[@]}" | sort)
	got=$(ls_names)
	if [ "$got" != "$want" ]; then
		printf 'splq ls lists:\n%s\nexpected:\n%s\n' "$got" "$want" >&2
		return 1
	fi
	want=
	[ "${#vols[@]}" -eq 0 ] || want=$(printf '%s\n' "${vols[@]}" | sort)
	got=$(dir_names "$SPLQ_HOME/qubes")
	if [ "$got" != "$want" ]; then
		printf '%s/qubes holds:\n%s\nexpected:\n%s\n' "$SPLQ_HOME" "$got" "$want" >&2
		return 1
	fi
	want=
	[ "${#tmpls[@]}" -eq 0 ] || want=$(printf '%s\n' "${tmpls[@]}" | sort)
	got=$(dir_names "$SPLQ_HOME/templates")
	if [ "$got" != "$want" ]; then
		printf '%s/templates holds:\n%s\nexpected:\n%s\n' "$SPLQ_HOME" "$got" "$want" >&2
		return 1
	fi
}

# Check the last run: exit status CODE, one line on stderr starting with
# "splq: " and holding every other argument.
assert_refused() {
	local code=$1 word
	shift
	assert_status "$code"
	if [[ $stderr != "splq: "* ]]; then
		printf 'stderr does not start with "splq: ": %s\n' "$stderr" >&2
		return 1
	fi
	for word in "$@"; do
		if [[ $stderr != *"$word"* ]]; then
			printf 'message lacks "%s": %s\n' "$word" "$stderr" >&2
			return 1
		fi
	done
}

# Does the last run's message say the disk is full ("No space left on
# device", "disk is full")?
assert_says_full() {
	if [[ $stderr != *[Ss]pace* && $stderr != *full* ]]; then
		printf 'message does not say the disk is full: %s\n' "$stderr" >&2
		return 1
	fi
}

@test "create: each clause of the name rule is refused with 65, no partial qube" {
	local long31 long32
	make_host_template t
	long31=$(printf 'a%.0s' {1..31})
	long32=${long31}b

	run --separate-stderr splq create "" --template t
	assert_refused 65 "empty"

	run --separate-stderr splq create "$long32" --template t
	assert_refused 65 "$long32" "31"

	run --separate-stderr splq create 1abc --template t
	assert_refused 65 "'1abc'" "letter"

	# a name beginning with '-' needs '--' to get past option parsing
	run --separate-stderr splq create --template t -- -abc
	assert_refused 65 "'-abc'" "letter"

	run --separate-stderr splq create a/b --template t
	assert_refused 65 "'a/b'" "'/'"

	run --separate-stderr splq create "a b" --template t
	assert_refused 65 "'a b'" "' '"

	run --separate-stderr splq create "é" --template t
	assert_status 65

	run --separate-stderr splq create "caf%" --template t
	assert_refused 65 "'caf%'" "'%'"

	local reserved
	for reserved in none default Domain-0 dom0; do
		run --separate-stderr splq create "$reserved" --template t
		assert_refused 65 "'$reserved'"
	done
	run --separate-stderr splq create none --template t
	assert_refused 65 "reserved"

	run --separate-stderr splq create work-dm --template t
	assert_refused 65 "'work-dm'" "-dm"

	# the same rule for templates
	run --separate-stderr splq template create 9t --base host
	assert_refused 65 "'9t'"
	run --separate-stderr splq template create t-dm --base host
	assert_refused 65 "'t-dm'"

	assert_qubes_exactly T:t

	# 31 characters are fine; '_', '.' and '-' after the first letter too
	run --separate-stderr splq create "$long31" --template t
	assert_status 0
	run --separate-stderr splq create "A_b.c-d" --template t
	assert_status 0
	assert_qubes_exactly T:t "$long31" A_b.c-d
}

@test "create: a duplicate name is refused with 67 and the first qube is kept" {
	make_host_template t
	run --separate-stderr splq create work --template t --label blue
	assert_status 0
	run --separate-stderr splq create work --template t --label green
	assert_refused 67 "'work'" "already exists"
	run --separate-stderr splq template create t --base host
	assert_refused 67 "'t'" "already exists"
	run --separate-stderr splq prefs work label
	assert_status 0
	[ "$output" = blue ]
	[ -f "$SPLQ_HOME/qubes/work/private.img" ]
	assert_qubes_exactly T:t work
}

@test "create: an unknown template is 66, an AppVM as template is 69" {
	make_host_template t
	run --separate-stderr splq create work --template nosuch
	assert_refused 66 "'nosuch'"
	run --separate-stderr splq create app --template t
	assert_status 0
	run --separate-stderr splq create work --template app
	assert_refused 69 "'app'" "AppVM" "TemplateVM"
	assert_qubes_exactly T:t app
}

@test "remove: a running qube is refused with 68 and kept" {
	make_host_template t
	splq create work --template t
	splq start work
	run --separate-stderr splq remove work
	assert_refused 68 "'work'" "running"
	[ "$(ls_names | grep -cx work)" -eq 1 ]
	[ -f "$SPLQ_HOME/qubes/work/private.img" ]
	run --separate-stderr splq kill work
	assert_status 0
	assert_leftovers_none
}

@test "remove: a template still used is refused with 68 naming its users" {
	make_host_template t
	splq create alpha --template t
	splq create beta --template t
	run --separate-stderr splq remove t
	assert_refused 68 "'t'" "alpha" "beta"
	assert_qubes_exactly T:t alpha beta
	[ -d "$SPLQ_HOME/templates/t" ]
	# once unused it goes
	splq remove alpha beta
	run --separate-stderr splq remove t
	assert_status 0
	assert_qubes_exactly
}

@test "create: a property of the wrong type or out of range is 69, no qube" {
	make_host_template t
	run --separate-stderr splq create work --template t --memory abc
	assert_refused 69 "memory" "abc"
	run --separate-stderr splq create work --template t --memory 0
	assert_refused 69 "memory" "'0'"
	run --separate-stderr splq create work --template t --prop vcpus=-1
	assert_refused 69 "vcpus" "-1"
	run --separate-stderr splq create work --template t --vcpus 0
	assert_refused 69 "vcpus"
	run --separate-stderr splq create work --template t --label mauve
	assert_refused 69 "label" "mauve"
	assert_qubes_exactly T:t
}

@test "usage errors: unknown option and missing --template are 64" {
	make_host_template t
	run --separate-stderr splq create work --template t --no-such-option
	assert_refused 64 "--no-such-option"
	run --separate-stderr splq create work
	assert_refused 64 "--template"
	run --separate-stderr splq create --template t
	assert_status 64
	run --separate-stderr splq create work --template
	assert_status 64
	assert_qubes_exactly T:t
}

@test "template create --base /nonexistent is 66, nothing made" {
	run --separate-stderr splq template create t --base /nonexistent
	assert_refused 66 "/nonexistent"
	assert_qubes_exactly
}

@test "a locked store: 71 'locked' after SPLQ_BUSY_TIMEOUT, no qube" {
	local i t0 t1
	make_host_template t
	[ -f "$SPLQ_HOME/splq.db" ]
	python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
open(sys.argv[2], 'w').close()
time.sleep(30)" "$SPLQ_HOME/splq.db" "$BATS_TEST_TMPDIR/locked" >/dev/null 2>&1 3>&- &
	BG_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		[ -e "$BATS_TEST_TMPDIR/locked" ] && break
		sleep 0.05
	done
	[ -e "$BATS_TEST_TMPDIR/locked" ]

	t0=$(date +%s%N)
	run --separate-stderr env SPLQ_BUSY_TIMEOUT=200 "$SPLQ" create x --template t
	t1=$(date +%s%N)
	assert_refused 71 "locked"
	[ ! -e "$SPLQ_HOME/qubes/x" ]
	if (((t1 - t0) / 1000000 > 5000)); then
		echo "splq waited $(((t1 - t0) / 1000000)) ms with SPLQ_BUSY_TIMEOUT=200" >&2
		return 1
	fi
	run --separate-stderr env SPLQ_BUSY_TIMEOUT=200 "$SPLQ" --json create x --template t
	assert_status 71
	assert_json
	[ "$(json_get code)" = 71 ]

	kill -KILL "${BG_PIDS[0]}"
	wait "${BG_PIDS[0]}" || true
	BG_PIDS=()
	assert_qubes_exactly T:t
}

@test "a corrupted store: 72 'corrupt', and splq leaves the file alone" {
	local sum
	make_host_template t
	head -c 16384 /dev/urandom >"$SPLQ_HOME/splq.db"
	rm -f "$SPLQ_HOME/splq.db-wal" "$SPLQ_HOME/splq.db-shm"
	sum=$(sha256sum <"$SPLQ_HOME/splq.db")

	run --separate-stderr splq create x --template t
	assert_refused 72 "corrupt" "splq.db"
	run --separate-stderr splq ls
	assert_refused 72 "corrupt"
	[ -z "$output" ]
	[ ! -e "$SPLQ_HOME/qubes/x" ]
	# not silently replaced by a new, empty store
	[ "$(sha256sum <"$SPLQ_HOME/splq.db")" = "$sum" ]
}

@test "a full disk: template create and create fail with 73, nothing half made" {
	local avail
	ORIG_HOME=$SPLQ_HOME
	TMPFS_DIR=$(mktemp -d /tmp/splq-test-tmpfs.XXXXXX)
	# room for a template and a qube's private image (a few MiB of ext4)
	mount -t tmpfs -o size=16m,mode=0700 tmpfs "$TMPFS_DIR"
	SPLQ_HOME=$TMPFS_DIR
	make_host_template t

	# about 100 KiB left: too little for a template's /etc
	avail=$(df -k --output=avail "$TMPFS_DIR" | tail -1)
	[ "$avail" -gt 100 ]
	dd if=/dev/zero of="$TMPFS_DIR/filler" bs=1k count=$((avail - 100)) status=none
	run --separate-stderr splq template create t2 --base host
	assert_refused 73
	assert_says_full

	# nothing left at all
	dd if=/dev/zero of="$TMPFS_DIR/filler2" bs=4k status=none 2>/dev/null || true
	run --separate-stderr splq create work --template t
	assert_refused 73
	assert_says_full

	rm -f "$TMPFS_DIR/filler" "$TMPFS_DIR/filler2"
	assert_qubes_exactly T:t
	run --separate-stderr splq audit verify
	assert_status 0
	# and both work now that there is room
	run --separate-stderr splq create work --template t
	assert_status 0
	assert_qubes_exactly T:t work
}

@test "not root: 75 and nothing created" {
	NOBODY_DIR=$(mktemp -d /tmp/splq-test-nobody.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	cp "$SPLQ" "$NOBODY_DIR/splq"
	chmod 755 "$NOBODY_DIR/splq"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		env SPLQ_HOME="$SPLQ_HOME/new" SPLQ_RUN="$SPLQ_RUN/new" "$NOBODY_DIR/splq" ls
	assert_refused 75 "must be run as root"
	[ -z "$output" ]
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		env SPLQ_HOME="$SPLQ_HOME/new" SPLQ_RUN="$SPLQ_RUN/new" "$NOBODY_DIR/splq" \
		template create t --base host
	assert_refused 75 "root"
	[ ! -e "$SPLQ_HOME/new" ]
	[ ! -e "$SPLQ_RUN/new" ]
	[ -z "$(ls -A "$SPLQ_HOME")" ]
}
