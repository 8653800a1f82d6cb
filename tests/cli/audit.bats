#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, stderr: set by run
# splq: the audit log through the command line: `splq audit log` lists what
# was done, in order, with its actor, operation, target and result, and
# filters by qube and time; `splq audit verify` accepts the log as written
# and names the first bad entry after any change to the file.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
}

teardown() {
	teardown_splq
}

# The operations every test starts from; the log then holds, in order:
#   1 template-create t ok
#   2 create a ok
#   3 create b ok
#   4 prefs a ok
#   5 create a error: ... already exists
#   6 tags a ok
#   7 remove b ok
EXPECTED_ENTRIES=7

make_log() {
	make_host_template t
	splq create a --template t
	splq create b --template t --label blue
	splq prefs a vcpus 1
	run --separate-stderr splq create a --template t
	assert_status 67
	splq tags a add audited
	splq remove b
}

# Keep a copy of the log and the store (all its files) in $BATS_TEST_TMPDIR.
backup_log() {
	local f
	mkdir "$BATS_TEST_TMPDIR/good"
	for f in audit.log splq.db splq.db-wal splq.db-shm; do
		[ -e "$SPLQ_HOME/$f" ] && cp -a "$SPLQ_HOME/$f" "$BATS_TEST_TMPDIR/good/"
	done
	[ -f "$BATS_TEST_TMPDIR/good/audit.log" ]
}

# Put the good log and store back.
restore_log() {
	local f
	for f in audit.log splq.db splq.db-wal splq.db-shm; do
		rm -f "$SPLQ_HOME/$f"
		if [ -e "$BATS_TEST_TMPDIR/good/$f" ]; then
			cp -a "$BATS_TEST_TMPDIR/good/$f" "$SPLQ_HOME/"
		fi
	done
	cmp -s "$SPLQ_HOME/audit.log" "$BATS_TEST_TMPDIR/good/audit.log"
}

# Change $SPLQ_HOME/audit.log as an attacker would: tamper MODE [N].
#   byte N      change one byte inside entry N's target
#   delete N    remove line N
#   swap N      swap lines N and N+1
#   truncate    cut the last line short (no newline at the end)
#   duplicate N insert a copy of line N right after it
tamper() {
	python3 - "$SPLQ_HOME/audit.log" "$@" <<'EOF'
import sys
path, mode = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
data = open(path, 'rb').read()
lines = data.split(b'\n')
assert lines[-1] == b'', 'the log does not end with a newline'
lines = lines[:-1]
if mode == 'byte':
    line = lines[n - 1]
    key = b'"target":"'
    i = line.index(key) + len(key)
    assert line[i:i + 1] not in (b'"', b'')
    lines[n - 1] = line[:i] + bytes([line[i] ^ 0x02]) + line[i + 1:]
elif mode == 'delete':
    del lines[n - 1]
elif mode == 'swap':
    lines[n - 1], lines[n] = lines[n], lines[n - 1]
elif mode == 'duplicate':
    lines.insert(n, lines[n - 1])
out = b'\n'.join(lines) + b'\n'
if mode == 'truncate':
    out = out[:-20]
assert out != data
open(path, 'wb').write(out)
EOF
}

# After a tamper: `audit verify` exits 76 and names entry N (not N0, N1...),
# also in JSON (badEntry is one of the remaining arguments, default N);
# with the good log back it passes again.
assert_verify_names() {
	local n=$1 bad
	shift
	run --separate-stderr splq audit verify
	assert_status 76
	[ -z "$output" ]
	if ! [[ $stderr =~ ^splq:\ .*entry\ $n([^0-9]|$) ]]; then
		echo "audit verify does not name entry $n: $stderr" >&2
		return 1
	fi
	run --separate-stderr splq --json audit verify
	assert_status 76
	assert_json
	[ "$(json_get success)" = false ]
	[ "$(json_get code)" = 76 ]
	bad=$(json_get badEntry)
	if ! _splq_in "$bad" "${@:-$n}"; then
		echo "--json audit verify: badEntry $bad, expected ${*:-$n}" >&2
		return 1
	fi
	restore_log
	run --separate-stderr splq audit verify
	assert_status 0
	[[ $output == *OK* ]]
}

@test "audit log lists the operations in order with actor, op, target and result" {
	make_log
	run --separate-stderr splq audit log
	assert_status 0
	local -a want=(
		"1 template-create t ok"
		"2 create a ok"
		"3 create b ok"
		"4 prefs a ok"
		"5 create a \"error:"
		"6 tags a ok"
		"7 remove b ok"
	)
	[ "${#lines[@]}" -eq "$EXPECTED_ENTRIES" ]
	local i seq time actor op target result
	for ((i = 0; i < EXPECTED_ENTRIES; i++)); do
		read -r seq time actor op target result _ <<<"${lines[i]}"
		if [ "$seq $op $target $result" != "${want[i]}" ]; then
			printf 'line %d: %s\nexpected: %s\n' "$((i + 1))" "${lines[i]}" \
				"${want[i]}" >&2
			return 1
		fi
		[ "$actor" = uid:0 ]
		[[ $time =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]]
	done
	# the failure keeps its reason; arguments follow the result
	[[ ${lines[4]} == *"already exists"* ]]
	[[ ${lines[1]} == *"--template t"* ]]
	[[ ${lines[3]} == *"vcpus"* ]]
	# times never go backwards
	local sorted
	sorted=$(printf '%s\n' "${lines[@]}" | awk '{ print $2 }' | sort -c && echo yes)
	[ "$sorted" = yes ]
}

@test "audit log --qube and --since filter the entries" {
	make_log
	run --separate-stderr splq audit log --qube a
	assert_status 0
	[ "$(printf '%s\n' "${lines[@]}" | awk '{ print $1 }' | tr '\n' ' ')" = "2 4 5 6 " ]
	run --separate-stderr splq audit log --qube b
	assert_status 0
	[ "$(printf '%s\n' "${lines[@]}" | awk '{ print $1 }' | tr '\n' ' ')" = "3 7 " ]
	run --separate-stderr splq audit log --qube nosuch
	assert_status 0
	[ -z "$output" ]

	run --separate-stderr splq audit log --since 1h
	assert_status 0
	[ "${#lines[@]}" -eq "$EXPECTED_ENTRIES" ]
	run --separate-stderr splq audit log --since "@$(($(date +%s) - 600))"
	assert_status 0
	[ "${#lines[@]}" -eq "$EXPECTED_ENTRIES" ]
	run --separate-stderr splq audit log --since "$(date -u -d tomorrow +%Y-%m-%d)"
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr splq audit log --since "@$(($(date +%s) + 3600))"
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr splq audit log --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr splq audit log --qube a --since 1h
	assert_status 0
	[ "${#lines[@]}" -eq 4 ]

	run --separate-stderr splq audit log --since yesterday-ish
	assert_status 64
	[[ $stderr == *"--since"* ]]
}

@test "audit log --json: the entries with seq, actor, op, target, result and the hash chain" {
	make_log
	run --separate-stderr splq --json audit log
	assert_status 0
	assert_json
	[ "$(json_get success)" = true ]
	[ "$(json_get code)" = 0 ]
	printf '%s' "$output" | python3 -c '
import hashlib, json, sys
entries = json.load(sys.stdin)["entries"]
want = [(1, "template-create", "t"), (2, "create", "a"), (3, "create", "b"),
        (4, "prefs", "a"), (5, "create", "a"), (6, "tags", "a"), (7, "remove", "b")]
assert [(e["seq"], e["op"], e["target"]) for e in entries] == want, entries
assert all(e["actor"] == "uid:0" for e in entries)
assert [e["result"] == "ok" for e in entries] == [True] * 4 + [False] + [True] * 2
assert entries[4]["result"].startswith("error:") and "already exists" in entries[4]["result"]
assert entries[0]["prev"] == "0" * 64
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
assert len(lines) == 7
for i in range(1, 7):
    assert entries[i]["prev"] == hashlib.sha256(lines[i - 1]).hexdigest(), i
' "$SPLQ_HOME/audit.log"

	run --separate-stderr splq audit log --json --qube b
	assert_status 0
	assert_json
	[ "$(json_get entries 0 seq)" = 3 ]
	[ "$(json_get entries 1 seq)" = 7 ]
	[ "$(json_get entries 1 op)" = remove ]
}

@test "audit verify accepts the log as splq wrote it" {
	make_log
	run --separate-stderr splq audit verify
	assert_status 0
	[ "$output" = "audit log OK: $EXPECTED_ENTRIES entries" ]
	run --separate-stderr splq --json audit verify
	assert_status 0
	assert_json
	[ "$(json_get success)" = true ]
	[ "$(json_get count)" = "$EXPECTED_ENTRIES" ]
}

@test "audit verify: one byte changed in entry 2's target names entry 2" {
	make_log
	backup_log
	tamper byte 2
	# the change shows first where entry 3 no longer follows entry 2
	assert_verify_names 2 2 3
}

@test "audit verify: the 3rd line deleted names entry 3" {
	make_log
	backup_log
	tamper delete 3
	assert_verify_names 3
}

@test "audit verify: lines 2 and 3 swapped names entry 2" {
	make_log
	backup_log
	tamper swap 2
	assert_verify_names 2
}

@test "audit verify: the last entry changed names it" {
	make_log
	backup_log
	tamper byte "$EXPECTED_ENTRIES"
	assert_verify_names "$EXPECTED_ENTRIES"
}

@test "audit verify: the last line cut short names it" {
	make_log
	backup_log
	tamper truncate
	assert_verify_names "$EXPECTED_ENTRIES"
}

@test "audit verify: the last line removed whole is noticed" {
	make_log
	backup_log
	tamper delete "$EXPECTED_ENTRIES"
	run --separate-stderr splq audit verify
	assert_status 76
	[[ $stderr == *"$EXPECTED_ENTRIES"* ]]
	restore_log
	run --separate-stderr splq audit verify
	assert_status 0
}

@test "audit verify: a copied line inserted fails" {
	make_log
	backup_log
	tamper duplicate 4
	# the copy sits at line 5
	assert_verify_names 5
}

@test "audit verify: a new operation after a good verify is appended and still verifies" {
	make_log
	run --separate-stderr splq audit verify
	assert_status 0
	splq create c --template t
	run --separate-stderr splq audit verify
	assert_status 0
	[ "$output" = "audit log OK: $((EXPECTED_ENTRIES + 1)) entries" ]
	run --separate-stderr splq audit log --qube c
	assert_status 0
	[[ ${lines[0]} == "$((EXPECTED_ENTRIES + 1)) "*" uid:0 create c ok"* ]]
}

@test "audit log -f: what is there, then each entry as it is appended (filtered), until SIGTERM; --json a line each" {
	make_host_template t
	"$SPLQ" create a --template t
	"$SPLQ" audit log -f --qube a >"$BATS_TEST_TMPDIR/follow.out" 2>&1 &
	local pid=$!
	"$SPLQ" --json audit log -f >"$BATS_TEST_TMPDIR/follow.json" 2>&1 &
	local jpid=$!
	wait_for 50 grep -q ' create a ok' "$BATS_TEST_TMPDIR/follow.out"
	"$SPLQ" create b --template t
	"$SPLQ" prefs a memory 500
	wait_for 50 grep -q ' prefs a ok' "$BATS_TEST_TMPDIR/follow.out"
	wait_for 50 grep -q '"op": "prefs"' "$BATS_TEST_TMPDIR/follow.json"
	kill -TERM "$pid" "$jpid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" = 0 ]
	run cat "$BATS_TEST_TMPDIR/follow.out"
	[ "${#lines[@]}" = 2 ]
	[[ ${lines[0]} == *" create a ok"* ]]
	[[ ${lines[1]} == *" prefs a ok"* ]]
	# every entry, each a JSON object of its own line, in order
	python3 - "$BATS_TEST_TMPDIR/follow.json" <<'PY'
import json, sys
ops = [json.loads(l)["op"] for l in open(sys.argv[1])]
assert ops == ["template-create", "create", "create", "prefs"], ops
PY
}
