#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016  # run sets status etc.; $VARS: expanded in the qube
# splq: file copy between qubes and the host (qubes.Filecopy): splq copy
# and move on the host, qvm-copy and friends inside a qube.  What a user
# checks: the files arrive whole in ~/QubesIncoming/SOURCE/, the hashes
# in the JSON are the files' own, nothing is ever overwritten, a move
# keeps its source whenever the copy failed; and what an attacker tries:
# crafted streams from inside a qube, a receiver that lies.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	splq policy >/dev/null
	make_host_template t
}

teardown() {
	kill_bg_pids
	teardown_splq
}

# qube_sums Q DIR: "SHA256  PATH" of every regular file under DIR in Q,
# sorted by path.
qube_sums() {
	"$SPLQ" run "$1" -- sh -c 'cd "$1" && find . -type f | sort | xargs -r sha256sum' _ "$2"
}

# a tree in qube Q's home: a folder with a subfolder, a big and an empty
# file, a mode, a relative symlink, an mtime
make_tree() {
	"$SPLQ" run "$1" -- sh -c 'mkdir -p tree/sub && echo hello >tree/f1 && : >tree/empty &&
		head -c 300000 /dev/urandom >tree/sub/big && chmod 600 tree/sub/big &&
		ln -s f1 tree/link && touch -d @1000000000 tree/f1 && echo top >top.txt'
}

@test "copy --verify between qubes: tree, modes, links and times arrive; the JSON's hashes are the files' own" {
	make_qube a
	make_qube b
	make_tree a
	policy 'qubes.Filecopy * a b allow'
	run --separate-stderr "$SPLQ" --json copy --from a --to b --verify tree top.txt
	assert_status 0
	assert_json
	[ "$(json_get verified)" = true ]
	[ "$(json_get to)" = b ]
	# the hashes splq reports are those sha256sum computes at either end
	local want got listed
	want=$(qube_sums a tree)
	got=$(qube_sums b QubesIncoming/a/tree)
	[ -n "$want" ] && [ "$want" = "$got" ]
	listed=$(printf '%s' "$output" | python3 -c '
import json, sys
for f in sorted(json.load(sys.stdin)["files"], key=lambda f: f["name"]):
    if f["name"].startswith("tree/"):
        print(f["sha256"] + "  ./" + f["name"][5:])')
	[ "$listed" = "$want" ]
	run "$SPLQ" run b -- sh -c 'cd QubesIncoming/a && stat -c "%n %a %Y" tree/sub/big tree/f1 && readlink tree/link && cat top.txt'
	[[ ${lines[0]} == "tree/sub/big 600 "* ]]
	[ "${lines[1]}" = "tree/f1 644 1000000000" ]
	[ "${lines[2]}" = f1 ]
	[ "${lines[3]}" = top ]
	run "$SPLQ" audit log --qube a
	[[ $output == *'copy a "4 files, 300010 bytes, verified" a -> b, 2 paths, verify'* ]]
}

@test "copy: refused by the policy is 81 and starts nothing; a name that exists is 67, nothing overwritten, nothing of the copy stays" {
	make_qube a
	make_qube b
	make_tree a
	run --separate-stderr "$SPLQ" copy --from a --to b top.txt
	assert_status 81
	[[ $stderr == *"refused"*"90-splq-default.policy"* ]]
	run "$SPLQ" ls
	[[ $output =~ b\ +AppVM\ +Halted ]]
	policy 'qubes.Filecopy * a b allow'
	"$SPLQ" run b -- sh -c 'mkdir -p QubesIncoming/a && echo mine >QubesIncoming/a/top.txt'
	run --separate-stderr "$SPLQ" copy --from a --to b tree top.txt
	assert_status 67
	[[ $stderr == *"'top.txt' already exists"* ]]
	run "$SPLQ" run b -- sh -c 'ls -A QubesIncoming/a; cat QubesIncoming/a/top.txt'
	[ "$output" = "top.txt
mine" ]
	run --separate-stderr "$SPLQ" copy --from a --to a top.txt
	assert_status 64
	run --separate-stderr "$SPLQ" copy --from a top.txt
	assert_status 64
	run --separate-stderr "$SPLQ" copy --from nosuch --to b top.txt
	assert_status 66
}

@test "copy: the host as either end; dom0 may send by the default policy, files to dom0 need --dest" {
	make_qube a
	make_tree a
	mkdir "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	printf 'from the host\n' >"$BATS_TEST_TMPDIR/out/h.txt"
	run --separate-stderr "$SPLQ" copy --from dom0 --to a --verify "$BATS_TEST_TMPDIR/out/h.txt"
	assert_status 0
	run "$SPLQ" run a -- cat QubesIncoming/dom0/h.txt
	[ "$output" = "from the host" ]
	run --separate-stderr "$SPLQ" copy --from a --to dom0 --dest "$BATS_TEST_TMPDIR/in" tree
	assert_status 81
	policy 'qubes.Filecopy * a dom0 allow'
	run --separate-stderr "$SPLQ" copy --from a --to dom0 tree
	assert_status 64
	[[ $stderr == *"--dest"* ]]
	run --separate-stderr "$SPLQ" copy --from a --to dom0 --dest "$BATS_TEST_TMPDIR/in" --verify tree
	assert_status 0
	[ "$(cat "$BATS_TEST_TMPDIR/in/tree/f1")" = hello ]
	[ "$(readlink "$BATS_TEST_TMPDIR/in/tree/link")" = f1 ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/in/tree/sub/big")" = 300000 ]
	# the host's receiver refuses what a qube's refuses: nothing leaves the folder
	run --separate-stderr "$SPLQ" copy --from a --to dom0 --dest "$BATS_TEST_TMPDIR/in" tree
	assert_status 67
}

@test "move: the source goes only once every hash agreed; a refusing receiver, a full disk, a receiver killed mid-stream keep it" {
	make_qube a
	make_qube b t --size private=32M
	make_tree a
	policy 'qubes.Filecopy * a b allow'
	run --separate-stderr "$SPLQ" --json move --from a --to b tree
	assert_status 0
	[ "$(json_get removed)" = true ]
	[ "$(json_get verified)" = true ]
	run "$SPLQ" run a -- ls
	[[ $output != *tree* ]]
	run "$SPLQ" run b -- cat QubesIncoming/a/tree/f1
	[ "$output" = hello ]
	# the name exists there: the move fails, the source stays
	"$SPLQ" run a -- sh -c 'mkdir tree && echo again >tree/f1'
	run --separate-stderr "$SPLQ" move --from a --to b tree
	assert_status 67
	run "$SPLQ" run a -- cat tree/f1
	[ "$output" = again ]
	# more than b's disk holds: no space (73), the source whole, no part left in b
	"$SPLQ" run a -- sh -c 'head -c 48000000 /dev/urandom >huge'
	run --separate-stderr "$SPLQ" move --from a --to b huge
	assert_status 73
	run "$SPLQ" run a -- stat -c %s huge
	[ "$output" = 48000000 ]
	run "$SPLQ" run b -- ls -A QubesIncoming/a
	[ "$output" = tree ]
	# the receiver's qube killed mid-stream: the move fails, the source stays
	"$SPLQ" run a -- truncate -s 8G sparse
	# (bounded: a move that never ends after its receiver went is a failure)
	timeout 300 "$SPLQ" move --from a --to b sparse >"$BATS_TEST_TMPDIR/move.out" 2>&1 &
	local mover=$! i
	BG_PIDS+=("$mover")
	for ((i = 0; i < 400; i++)); do
		"$SPLQ" run b -- sh -c 'grep -l qubes.Filecopy /proc/[0-9]*/cmdline' >/dev/null 2>&1 && break
		sleep 0.05
	done
	"$SPLQ" kill b
	local moved=0
	wait "$mover" || moved=$?
	[ "$moved" -ne 0 ] && [ "$moved" -ne 124 ]
	run "$SPLQ" run a -- stat -c %s sparse
	[ "$output" = 8589934592 ]
	# a receiver that had not started yet when b was killed starts b again
	"$SPLQ" kill b >/dev/null 2>&1 || true
	assert_leftovers_none a
}

@test "move --secure: the data is overwritten before the unlink; a file with another link keeps its data" {
	make_qube a
	make_qube b
	policy 'qubes.Filecopy * a b allow'
	"$SPLQ" run a -- sh -c 'mkdir s && printf secret-data >s/secret && printf shared >s/linked && ln s/linked keep'
	# a process of the qube keeps the secret open: what the file held is
	# then readable through its descriptor
	"$SPLQ" run --no-wait a -- sh -c 'echo $$ >/tmp/holder.pid; exec 3<s/secret; exec sleep 600'
	local i
	for ((i = 0; i < 100; i++)); do
		"$SPLQ" run a -- test -s /tmp/holder.pid && break
		sleep 0.05
	done
	run --separate-stderr "$SPLQ" move --from a --to b --secure s
	assert_status 0
	run "$SPLQ" run a -- sh -c 'test ! -e s && od -An -c /proc/$(cat /tmp/holder.pid)/fd/3 | tr -d " \n"; echo; cat keep'
	[ "${lines[0]}" = '\0\0\0\0\0\0\0\0\0\0\0' ]
	[ "${lines[1]}" = shared ]
	run "$SPLQ" run b -- cat QubesIncoming/a/s/secret
	[ "$output" = secret-data ]
	run --separate-stderr "$SPLQ" copy --from a --to b --secure keep
	assert_status 64
}

@test "inside a qube: qvm-copy-to-vm and qvm-move-to-vm; a refused move and a lying receiver keep the file" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	"$SPLQ" run a -- sh -c 'echo one >one && echo two >two && mkdir d && echo three >d/three'
	policy 'qubes.Filecopy * a b allow'
	run --separate-stderr "$SPLQ" run a -- qvm-copy-to-vm b one d/
	assert_status 0
	run --separate-stderr "$SPLQ" run a -- qvm-move-to-vm b two
	assert_status 0
	run "$SPLQ" run b -- sh -c 'cd QubesIncoming/a && cat one d/three two'
	[ "$output" = "one
three
two" ]
	run "$SPLQ" run a -- ls
	[[ $output == *one* && $output != *two* ]]
	# @default with no target= in the policy: refused, the file stays
	run --separate-stderr "$SPLQ" run a -- qvm-move one
	assert_status 126
	"$SPLQ" run a -- test -f one
	run --separate-stderr "$SPLQ" run a -- qvm-copy
	assert_status 1
	# a receiver that answers with a wrong CRC: the move fails, the file stays
	in_root b sh -c 'mkdir -p /etc/qubes-rpc && printf "#!/bin/sh\nexec python3 /tmp/craft.py lying-receiver\n" >/etc/qubes-rpc/qubes.Filecopy && chmod 755 /etc/qubes-rpc/qubes.Filecopy'
	in_root b sh -c 'cat >/tmp/craft.py' <"$BATS_TEST_DIRNAME/qfile_craft.py"
	run --separate-stderr "$SPLQ" run a -- qvm-move-to-vm b one
	[ "$status" -ne 0 ]
	[[ $stderr == *"checksum mismatch"* ]]
	"$SPLQ" run a -- test -f one
}

@test "verify: a receiver whose hashes differ fails the copy with 83 and is never told yes" {
	make_qube a
	make_qube b
	splq start b
	make_tree a
	policy 'qubes.Filecopy * a b allow'
	in_root b sh -c 'mkdir -p /etc/qubes-rpc && printf "#!/bin/sh\nexec python3 /tmp/craft.py bad-manifest\n" >/etc/qubes-rpc/qubes.Filecopy && chmod 755 /etc/qubes-rpc/qubes.Filecopy'
	in_root b sh -c 'cat >/tmp/craft.py' <"$BATS_TEST_DIRNAME/qfile_craft.py"
	run --separate-stderr "$SPLQ" move --from a --to b --verify tree
	assert_status 83
	[[ $stderr == *"verify: 'tree/"*"' has another SHA-256 there"* ]]
	run "$SPLQ" run b -- od -An -c /tmp/answer
	[ -z "${output// /}" ]
	"$SPLQ" run a -- test -f tree/f1
}

@test "hostile sender in a qube: every crafted stream is refused, nothing lands outside QubesIncoming, no part stays" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	policy 'qubes.Filecopy * a b allow'
	"$SPLQ" run a -- sh -c 'cat >craft.py' <"$BATS_TEST_DIRNAME/qfile_craft.py"
	local c
	for c in absolute dotdot empty-component escaping-symlink absolute-symlink huge-namelen \
		truncated nsec file-then-dir control-chars no-end; do
		run --separate-stderr "$SPLQ" run a -- sh -c 'python3 craft.py "$1" | qrexec-client-vm b qubes.Filecopy >/dev/null' _ "$c"
		if [ "$status" -eq 0 ]; then
			printf 'case %s was accepted\n' "$c" >&2
			return 1
		fi
		run "$SPLQ" run b -- sh -c 'ls -A QubesIncoming/a'
		if [ -n "$output" ]; then
			printf 'case %s left: %s\n' "$c" "$output" >&2
			return 1
		fi
	done
	run "$SPLQ" run b -- sh -c 'ls -d /tmp/evil /home/evil /home/user/evil /home/user/QubesIncoming/evil /evil 2>/dev/null'
	[ -z "$output" ]
}

@test "copy to @dispvm: the disposable gets the files for its one call and is removed; nothing is left" {
	make_qube a
	make_tree a
	policy 'qubes.Filecopy * a @dispvm:t allow'
	run --separate-stderr "$SPLQ" --json copy --from a --to @dispvm:t --verify top.txt
	assert_status 0
	[ "$(json_get verified)" = true ]
	run "$SPLQ" ls
	[[ ! $output =~ disp[0-9] ]]
	assert_leftovers_none a
}
