#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines, stderr: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# shellcheck disable=SC2016  # the $ in single quotes is for the qube's shell
# splq: bounded volumes.  Every writable volume of a qube has a size: the
# qube's root, writing from INSIDE, runs into ENOSPC at that size while the
# host's disk is untouched; df inside shows the qube's own sizes; volume
# list, info and resize work as qvm-volume does; every writable mount is
# nosuid and nodev, and the qube's mountinfo names no host path.  Sizes are
# small (16-48 MiB) so that the tests write little.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
}

teardown() {
	teardown_splq
}

# Does the output say "No space left on device"?
assert_enospc() {
	if [[ $output != *"No space left on device"* ]]; then
		printf 'expected ENOSPC, got (status %s): %s\n' "$status" "$output" >&2
		return 1
	fi
}

# Bytes of the host's disk that the files under a directory take.
disk_bytes() {
	du -s -x -B1 "$1" | cut -f1
}

# The size in bytes of the file system at PATH inside qube Q.
df_size() {
	"$SPLQ" run "$1" -- df -B1 --output=size "$2" | tail -1 | tr -d ' '
}

@test "volume list and info: the three volumes of each class, their sizes and facts" {
	make_qube work t --size private=32M
	run --separate-stderr splq volume list work
	assert_status 0
	[ "${lines[0]}" = "QUBE  VOLUME    POOL   SIZE    USAGE    KEPT" ] || [[ ${lines[0]} == QUBE*VOLUME*POOL*SIZE*USAGE*KEPT ]]
	[[ ${lines[1]} == "work  root "*"image"*"10 GiB"*"no" ]]
	[[ ${lines[2]} == "work  private "*"image"*"32 MiB"*"yes" ]]
	[[ ${lines[3]} == "work  volatile "*"tmpfs"*"10 GiB"*"-"*"no" ]]

	run --separate-stderr splq --json volume ls
	assert_status 0
	assert_json
	[ "$(json_get volumes 0 qube)" = t ] || [ "$(json_get volumes 0 qube)" = work ]
	[ "$(printf '%s' "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["volumes"]))')" = 6 ]

	run --separate-stderr splq --json volume info work:private
	assert_status 0
	assert_json
	[ "$(json_get success)" = true ]
	[ "$(json_get code)" = 0 ]
	[ "$(json_get qube)" = work ]
	[ "$(json_get volume)" = private ]
	[ "$(json_get size)" = $((32 << 20)) ]
	[ "$(json_get pool)" = image ]
	[ "$(json_get path)" = "$SPLQ_HOME/qubes/work/private.img" ]
	[ "$(json_get rw)" = true ]
	[ "$(json_get save_on_stop)" = true ]
	[ "$(json_get ephemeral)" = false ]
	[ "$(json_get bounded)" = true ]
	# a sparse image: a fresh one takes a few MiB at most
	(($(json_get usage) < 8 << 20))

	run --separate-stderr splq volume info work:volatile
	assert_status 0
	[[ $output == *"pool           tmpfs"* ]]
	[[ $output == *"save_on_stop   False"* ]]
	[[ $output == *"ephemeral      True"* ]]
	[[ $output == *"size           10737418240"* ]]

	# an AppVM's root is its template's
	run --separate-stderr splq --json volume info work:root
	assert_status 0
	[ "$(json_get source)" = t:root ]
	[ "$(json_get size_of)" = t ]
	[ "$(json_get save_on_stop)" = false ]
	[ "$(json_get snap_on_start)" = true ]

	# dom0 has none
	run --separate-stderr splq --json volume list dom0
	assert_status 0
	[ "$(json_get volumes)" = "[]" ]
}

@test "private volume: writing past its size fails with ENOSPC inside; the host's disk is untouched" {
	make_qube work t --size private=16M
	local img="$SPLQ_HOME/qubes/work/private.img"
	run "$SPLQ" run work -- sh -c 'dd if=/dev/zero of=/home/user/big bs=1M count=64 2>&1; df -B1 /home'
	assert_enospc
	# the image never grew past its size, on the host's disk either
	[ "$(stat -c %s "$img")" = $((16 << 20)) ]
	(($(disk_bytes "$img") <= 16 << 20))
	# the qube goes on working, and other qubes are not affected
	run --separate-stderr "$SPLQ" run work -- sh -c 'rm /home/user/big && echo ok > /home/user/f && cat /home/user/f'
	assert_status 0
	[ "$output" = ok ]
	make_qube other t
	run --separate-stderr "$SPLQ" run other -- sh -c 'dd if=/dev/zero of=/home/user/x bs=1M count=20 2>/dev/null && echo ok'
	assert_status 0
	[ "$output" = ok ]
	splq kill work other
}

@test "volatile volume: /var and /tmp past its size fail with ENOSPC; nothing lands on the host's disk" {
	make_qube work t --size volatile=16M
	run in_root work sh -c 'dd if=/dev/zero of=/var/big bs=1M count=64 2>&1'
	assert_enospc
	run in_root work sh -c 'rm -f /var/big; dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1'
	assert_enospc
	# the volatile layer is in the qube's memory, not under SPLQ_RUN
	(($(disk_bytes "$SPLQ_RUN") < 1 << 20))
	[ -z "$(find "$SPLQ_RUN/qubes/work" -name big)" ]
	splq kill work
}

@test "TemplateVM: /tmp and /run come from its volatile volume and are bounded by it" {
	run --separate-stderr splq template create tt --base host --size volatile=16M
	assert_status 0
	run "$SPLQ" run --user root tt -- sh -c 'dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1'
	assert_enospc
	run --separate-stderr "$SPLQ" run tt -- df -B1 --output=size /tmp /run
	assert_status 0
	[ "$(echo "${lines[1]}" | tr -d ' ')" = $((16 << 20)) ]
	[ "$(echo "${lines[2]}" | tr -d ' ')" = $((16 << 20)) ]
	splq kill tt
}

@test "disposable: its private and volatile volumes are bounded by its dvm's sizes" {
	run --separate-stderr splq template create dt --base host --size private=16M --size volatile=24M
	assert_status 0
	run "$SPLQ" dispvm --template dt -- sh -c 'df -B1 --output=size / /home /tmp | tail -3 | tr -d " "; dd if=/dev/zero of=/home/user/big bs=1M count=64 2>&1'
	[ "${lines[0]}" = $((24 << 20)) ]
	[ "${lines[1]}" = $((16 << 20)) ]
	[ "${lines[2]}" = $((24 << 20)) ]
	assert_enospc
	run "$SPLQ" dispvm --template dt -- sh -c 'dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1'
	assert_enospc
	assert_leftovers_none
}

# No loop device is backed by a file of qube $1's.
no_loops_of() {
	! splq_loops_under "$SPLQ_HOME" "$SPLQ_RUN" | grep -q "/qubes/$1/"
}

@test "disposable from a dvm: a snapshot of the dvm's private volume, as it last stopped; its writes never reach the dvm" {
	make_qube dvm t --size private=32M --prop template_for_dispvms=True
	splq run dvm -- sh -c 'echo from-dvm > /home/user/mark'
	splq shutdown --wait dvm
	run --separate-stderr "$SPLQ" dispvm --template dvm -- sh -c 'cat /home/user/mark; echo changed > /home/user/mark; cat /home/user/mark; df -B1 --output=size /home | tail -1'
	assert_status 0
	[ "${lines[0]}" = from-dvm ]
	[ "${lines[1]}" = changed ]
	((lines[2] > 16 << 20 && lines[2] <= 32 << 20))
	# what it writes is bounded by the private size, in its own memory
	run "$SPLQ" dispvm --template dvm -- sh -c 'dd if=/dev/zero of=/home/user/big bs=1M count=64 2>&1'
	assert_enospc
	# the dvm's own volume is unchanged
	run --separate-stderr splq run dvm -- cat /home/user/mark
	[ "$output" = from-dvm ]
	# while the dvm runs, a disposable starts from it as it last stopped
	splq run dvm -- sh -c 'echo running > /home/user/mark2'
	run --separate-stderr "$SPLQ" dispvm --template dvm -- sh -c 'cat /home/user/mark; ls /home/user'
	assert_status 0
	[ "${lines[0]}" = from-dvm ]
	[[ $output != *mark2* ]]
	splq shutdown --wait dvm
	run --separate-stderr "$SPLQ" dispvm --template dvm -- cat /home/user/mark2
	assert_status 0
	[ "$output" = running ]
	# one snapshot is kept, no disposable's copy
	[ "$(find "$SPLQ_HOME/qubes/dvm/snaps" -name '*.img' | wc -l)" -eq 1 ]
	assert_leftovers_none
	# and it goes with the dvm, its mount too
	splq remove dvm
	! grep -q "$SPLQ_RUN/privates/dvm" /proc/self/mountinfo
	# (its loop device goes once the lazily detached mount is released)
	wait_for 50 no_loops_of dvm
}

@test "df inside shows the qube's own sizes for /, /home and /tmp" {
	make_qube work t --size private=48M --size volatile=24M
	[ "$(df_size work /)" = $((24 << 20)) ]
	[ "$(df_size work /tmp)" = $((24 << 20)) ]
	local home
	home=$(df_size work /home)
	((home > 32 << 20 && home <= 48 << 20))
	splq kill work
}

@test "volume resize: grows a running qube's private volume; df inside sees it" {
	make_qube work t --size private=16M --size volatile=16M
	local before after
	before=$(df_size work /home)
	run --separate-stderr splq --json volume resize work:private 64M
	assert_status 0
	assert_json
	[ "$(json_get size)" = $((64 << 20)) ]
	[ "$(json_get running)" = true ]
	[ "$(stat -c %s "$SPLQ_HOME/qubes/work/private.img")" = $((64 << 20)) ]
	if [ "$(json_get live)" = true ]; then
		after=$(df_size work /home)
	else
		# The host withholds CAP_SYS_RESOURCE from splq (online growth
		# of ext4 needs it): the file system grows at the next start.
		echo "# no online ext4 growth on this host (CAP_SYS_RESOURCE): checked after a restart" >&3
		splq shutdown --wait work
		after=$(df_size work /home)
	fi
	((after > before + (40 << 20)))
	# the data survives, and writing more than the old size works now
	run --separate-stderr "$SPLQ" run work -- sh -c 'dd if=/dev/zero of=/home/user/x bs=1M count=30 2>/dev/null && echo ok'
	[ "$output" = ok ]
	# the store keeps the new size
	run --separate-stderr splq --json volume info work:private
	[ "$(json_get size)" = $((64 << 20)) ]
	[ "$(json_get size_default)" = false ]
	# growing a halted qube's volume: its next start sees it
	splq shutdown --wait work
	run --separate-stderr splq volume resize work:private 80MiB
	assert_status 0
	[ "$output" = "" ]
	after=$(df_size work /home)
	((after > 64 << 20))
	# the volatile volume of a running qube takes its size at the next start
	run --separate-stderr splq volume resize work:volatile 32M
	assert_status 0
	[[ $output == *"next start"* ]]
	splq shutdown --wait work
	[ "$(df_size work /tmp)" = $((32 << 20)) ]
	# every resize is in the audit log
	run --separate-stderr splq audit log --qube work
	[[ $output == *"volume-resize work ok private 64M"* ]] || [[ $output == *"volume-resize work \"ok (live)\" private 64M"* ]]
	[[ $output == *"volume-resize work ok private 80MiB"* ]]
	splq kill work
	assert_leftovers_none
}

@test "volume resize: shrinking is refused with 79, the volume untouched" {
	make_qube work t --size private=32M
	run --separate-stderr splq volume resize work:private 16M
	assert_status 79
	[[ $stderr == "splq: volume 'work:private' is 32 MiB; it cannot shrink to 16 MiB"* ]]
	run --separate-stderr splq --json volume resize work:volatile 1G
	assert_status 79
	assert_json
	[ "$(json_get code)" = 79 ]
	[[ $(json_get error) == *"cannot shrink"* ]]
	[ "$(stat -c %s "$SPLQ_HOME/qubes/work/private.img")" = $((32 << 20)) ]
	# the same size is no change, and fine
	run --separate-stderr splq volume resize work:private 32M
	assert_status 0
	run --separate-stderr splq audit log --qube work
	[[ $output == *"volume-resize work \"error: volume 'work:private' is 32 MiB; it cannot shrink"* ]]
}

@test "volume: bad sizes, unknown volumes and qubes get clear messages and their exit codes" {
	make_qube work t
	local s
	for s in 4X -1G 1.5G "" G 0 15M 17T 99999999999999999999999; do
		run --separate-stderr splq volume resize work:private -- "$s"
		assert_status 69
		[[ $stderr == "splq: size '$s'"* ]]
	done
	run --separate-stderr splq volume resize work:kernel 4G
	assert_status 66
	[[ $stderr == *"qube 'work' has no volume 'kernel'"* ]]
	run --separate-stderr splq volume info nosuch:private
	assert_status 66
	[[ $stderr == *"no such qube 'nosuch'"* ]]
	run --separate-stderr splq volume list nosuch
	assert_status 66
	run --separate-stderr splq volume info dom0:private
	assert_status 66
	run --separate-stderr splq volume info work
	assert_status 64
	[[ $stderr == *"QUBE:VOLUME"* ]]
	run --separate-stderr splq volume resize work:private
	assert_status 64
	run --separate-stderr splq volume list work extra
	assert_status 64
	# an AppVM's root is its template's, a disposable's sizes its dvm's
	run --separate-stderr splq volume resize work:root 20G
	assert_status 69
	[[ $stderr == *"resize t:root"* ]]
	run --separate-stderr splq create bad --template t --size private=nonsense
	assert_status 69
	run --separate-stderr splq create bad --template t --size swap=1G
	assert_status 66
	run --separate-stderr splq create bad --template t --size private
	assert_status 64
	[ ! -e "$SPLQ_HOME/qubes/bad" ]
	# nothing changed
	run --separate-stderr splq --json volume info work:private
	[ "$(json_get size)" = $((2 << 30)) ]
	[ "$(json_get size_default)" = true ]
}

@test "inside a qube: every writable mount is nosuid and nodev; a setuid copy in /home gains nothing" {
	make_qube work t --size private=16M
	# fields: 5 mount point, 6 per-mount options; /dev and /dev/pts are
	# there to hold device nodes (noexec; only host root could make one)
	run --separate-stderr in_root work awk '$6 ~ /(^|,)rw(,|$)/ && $5 != "/dev" && $5 != "/dev/pts" {
		if ($6 !~ /nosuid/ || $6 !~ /nodev/) print "writable without nosuid,nodev: " $5 " " $6
		n++
	} END { print n " writable mounts" }' /proc/self/mountinfo
	assert_status 0
	[[ ${lines[0]} == *"writable mounts" ]]
	[ "${#lines[@]}" = 1 ]
	run --separate-stderr in_root work findmnt -no OPTIONS /home
	[[ $output == *nosuid* && $output == *nodev* ]]
	# a setuid-root copy of id in /home: the user stays the user
	run --separate-stderr in_root work sh -c 'cp /usr/bin/id /home/user/suid-id && chown 0:0 /home/user/suid-id && chmod 4755 /home/user/suid-id && stat -c %a /home/user/suid-id'
	assert_status 0
	[ "$output" = 4755 ]
	run --separate-stderr splq run work -- /home/user/suid-id -u
	assert_status 0
	[ "$output" = 1000 ]
	# and the kernel refuses it even to a process that could gain
	# privileges: mount flags, not only no_new_privs
	run --separate-stderr in_root work sh -c 'mknod /home/null c 1 3 2>&1; echo $?'
	[[ $output == *"Operation not permitted"* ]]
	splq kill work
}

@test "inside a qube: mountinfo names no host path (AppVM, disposable, TemplateVM, StandaloneVM)" {
	make_qube work t
	run --separate-stderr splq run work -- cat /proc/self/mountinfo
	assert_status 0
	[[ $output != *"$SPLQ_HOME"* && $output != *"$SPLQ_RUN"* && $output != *splq-test* ]]
	[[ $output == *"lowerdir=lower,upperdir=volatile/upper,workdir=volatile/work"* ]]
	run --separate-stderr "$SPLQ" dispvm --template t -- cat /proc/self/mountinfo
	assert_status 0
	[[ $output != *"$SPLQ_HOME"* && $output != *"$SPLQ_RUN"* && $output != *splq-test* ]]
	run --separate-stderr splq run t -- cat /proc/self/mountinfo
	assert_status 0
	[[ $output != *"$SPLQ_HOME"* && $output != *"$SPLQ_RUN"* && $output != *splq-test* ]]
	[[ $output == *" / / rw,nosuid,nodev"*" - ext4 /dev/loop"* ]]
	splq create sa --class StandaloneVM --template t --size root=32M 2>/dev/null ||
		splq create sa --class StandaloneVM --template t
	run --separate-stderr splq run sa -- cat /proc/self/mountinfo
	assert_status 0
	[[ $output != *"$SPLQ_HOME"* && $output != *"$SPLQ_RUN"* && $output != *splq-test* ]]
	splq kill work t sa
}

@test "nothing is left after stop and remove: loop devices, mounts, files" {
	make_qube work t --size private=16M
	splq run work -- true
	[ "$(splq_loops_under "$SPLQ_HOME/qubes" | wc -l)" = 1 ]
	splq shutdown --wait work
	assert_leftovers_none
	splq start work
	splq kill work
	assert_leftovers_none
	run --separate-stderr splq remove work
	assert_status 0
	[ ! -e "$SPLQ_HOME/qubes/work" ]
	assert_leftovers_none
}

@test "a failed start leaves no loop device behind" {
	make_qube work t --size private=16M
	local img="$SPLQ_HOME/qubes/work/private.img"
	# keep the superblock, break the group descriptors: the mount fails
	# after the image was attached
	dd if=/dev/zero of="$img" bs=4096 seek=1 count=1 conv=notrunc 2>/dev/null
	run --separate-stderr splq start work
	[ "$status" -ne 0 ]
	[[ $stderr == *"private volume"* ]]
	assert_leftovers_none
	run --separate-stderr splq ls
	[[ $output == *"work "*Halted* ]]
}

# The generation files of template T's root, one a line ("1.img").
generations() {
	find "$SPLQ_HOME/templates/$1/roots" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n
}

@test "TemplateVM root: writing past its size fails with ENOSPC inside; the host's disk is untouched; its next generation becomes current" {
	run --separate-stderr splq template create tt --base host --size root=32M
	assert_status 0
	local before after img
	before=$(df -B1 --output=avail "$SPLQ_HOME" | tail -1)
	run in_root tt sh -c 'echo new > /etc/mark; dd if=/dev/zero of=/var/big bs=1M count=64 2>&1; rm -f /var/big; sync'
	assert_enospc
	after=$(df -B1 --output=avail "$SPLQ_HOME" | tail -1)
	((before - after < 40 << 20))
	for img in "$SPLQ_HOME"/templates/tt/roots/*.img; do
		[ "$(stat -c %s "$img")" = $((32 << 20)) ]
		(($(disk_bytes "$img") <= 32 << 20))
	done
	# the TemplateVM goes on working, and shuts down cleanly
	run --separate-stderr in_root tt cat /etc/mark
	[ "$output" = new ]
	run --separate-stderr splq shutdown --wait tt
	assert_status 0
	[ "$(readlink "$SPLQ_HOME/templates/tt/root")" = roots/2.img ]
	# an AppVM on it sees the new content
	make_qube work tt
	run --separate-stderr splq run work -- cat /etc/mark
	assert_status 0
	[ "$output" = new ]
	run --separate-stderr splq --json volume info tt:root
	[ "$(json_get bounded)" = true ]
	[ "$(json_get pool)" = image ]
	[ "$(json_get path)" = "$SPLQ_HOME/templates/tt/roots/2.img" ]
	splq kill work
	assert_leftovers_none
}

@test "TemplateVM root: df inside shows its size; volume resize grows it (halted: a new generation; running: live or at its next start)" {
	run --separate-stderr splq template create tt --base host --size root=32M
	assert_status 0
	local size
	size=$(df_size tt /)
	((size > 24 << 20 && size <= 32 << 20))
	run --separate-stderr splq --json volume resize tt:root 48M
	assert_status 0
	[ "$(json_get size)" = $((48 << 20)) ]
	if [ "$(json_get live)" != true ]; then
		echo "# no online ext4 growth on this host (CAP_SYS_RESOURCE): checked after a restart" >&3
		splq shutdown --wait tt
	fi
	size=$(df_size tt /)
	((size > 40 << 20 && size <= 48 << 20))
	splq shutdown --wait tt
	# halted: the current generation is copied and grown; qubes reading
	# the old one never see it change
	run --separate-stderr splq volume resize tt:root 64M
	assert_status 0
	[ "$(stat -c %s "$(realpath "$SPLQ_HOME/templates/tt/root")")" = $((64 << 20)) ]
	size=$(df_size tt /)
	((size > 56 << 20 && size <= 64 << 20))
	run --separate-stderr splq volume resize tt:root 32M
	assert_status 79
	splq kill tt
	assert_leftovers_none
}

@test "StandaloneVM root: its own image, bounded; ENOSPC inside; its template untouched" {
	run --separate-stderr splq template create st --base host --size root=32M
	assert_status 0
	run --separate-stderr splq create sa --class StandaloneVM --template st --size root=40M
	assert_status 0
	local img="$SPLQ_HOME/qubes/sa/root.img" size
	[ -f "$img" ]
	[ "$(stat -c %s "$img")" = $((40 << 20)) ]
	size=$(df_size sa /)
	((size > 32 << 20 && size <= 40 << 20))
	run in_root sa sh -c 'echo mine > /etc/mark; dd if=/dev/zero of=/var/big bs=1M count=64 2>&1; rm -f /var/big'
	assert_enospc
	[ "$(stat -c %s "$img")" = $((40 << 20)) ]
	(($(disk_bytes "$img") <= 40 << 20))
	run --separate-stderr splq shutdown --wait sa
	assert_status 0
	run --separate-stderr splq run sa -- cat /etc/mark
	[ "$output" = mine ]
	run --separate-stderr splq --json volume info sa:root
	[ "$(json_get bounded)" = true ]
	[ "$(json_get path)" = "$img" ]
	# the template's root is not the StandaloneVM's
	make_qube work st
	run splq run work -- cat /etc/mark
	[ "$status" -ne 0 ]
	# grown while halted: its next start sees it
	splq kill sa work
	run --separate-stderr splq volume resize sa:root 56M
	assert_status 0
	size=$(df_size sa /)
	((size > 48 << 20 && size <= 56 << 20))
	splq kill sa
	assert_leftovers_none
}

@test "a setuid-root file a TemplateVM writes is one only inside its image; AppVMs read its root through a nosuid read-only mount" {
	run --separate-stderr splq template create tt --base host --size root=32M
	assert_status 0
	run --separate-stderr in_root tt sh -c 'cp /usr/bin/id /opt/suid-id && chmod 4755 /opt/suid-id && stat -c %a:%u /opt/suid-id'
	assert_status 0
	[ "$output" = 4755:0 ]
	splq shutdown --wait tt
	# no setuid file anywhere on the host's file system: only in images
	[ -z "$(find "$SPLQ_HOME" "$SPLQ_RUN" -xdev -perm -4000)" ]
	make_qube work tt
	run --separate-stderr splq run work -- sh -c 'stat -c %a /opt/suid-id; /opt/suid-id -u'
	assert_status 0
	[ "${lines[0]}" = 4755 ]
	[ "${lines[1]}" = 1000 ]
	# what the AppVM's root lies on: the generation's mount, ro,nosuid,nodev
	local mnt="$SPLQ_RUN/roots/tt/2"
	run --separate-stderr findmnt -n -o OPTIONS --mountpoint "$mnt"
	assert_status 0
	[[ $output == ro,nosuid,nodev,* ]]
	splq kill work
}

@test "two AppVMs of one template start at once on one mount; after they stop and the template goes, nothing is mounted or attached" {
	make_qube a t
	make_qube b t
	splq start a &
	local pa=$!
	splq start b &
	local pb=$!
	wait "$pa"
	wait "$pb"
	run --separate-stderr splq run a -- cat /etc/os-release
	assert_status 0
	run --separate-stderr splq run b -- cat /etc/os-release
	assert_status 0
	# one mount and one loop device for the generation, shared
	[ "$(splq_generation_mounts | wc -l)" = 1 ]
	[ "$(splq_loops_under "$SPLQ_HOME/templates" | wc -l)" = 1 ]
	splq shutdown --wait a b
	splq remove a b
	run --separate-stderr splq remove t
	assert_status 0
	[ -z "$(splq_generation_mounts)" ]
	[ -z "$(splq_loops_under "$SPLQ_HOME" "$SPLQ_RUN")" ]
	[ ! -e "$SPLQ_RUN/roots/t" ]
	assert_leftovers_none
}

@test "generations: an AppVM keeps its generation while the TemplateVM starts twice; unused ones go with their mounts" {
	make_qube work t
	splq start work
	splq run --user root t -- sh -c 'echo g2 > /etc/mark'
	splq shutdown --wait t
	splq run --user root t -- sh -c 'echo g3 > /etc/mark'
	splq shutdown --wait t
	# 1 is the AppVM's, 2 was current at the second start, 3 is now
	[ "$(generations t | tr '\n' ' ')" = "1.img 2.img 3.img " ]
	run splq run work -- cat /etc/mark
	[ "$status" -ne 0 ]
	[ -d "$SPLQ_RUN/roots/t/1" ]
	[ ! -e "$SPLQ_RUN/roots/t/2" ]
	splq shutdown --wait work
	# unused now: removed, mount included, at the template's next start
	splq start t
	[ "$(generations t | tr '\n' ' ')" = "3.img 4.img " ]
	[ ! -e "$SPLQ_RUN/roots/t/1" ]
	[ "$(splq_generation_mounts | wc -l)" = 0 ]
	splq shutdown --wait t
	run --separate-stderr splq run work -- cat /etc/mark
	[ "$output" = g3 ]
	splq kill work
	assert_leftovers_none
}

@test "a failed TemplateVM start removes the generation it made" {
	run --separate-stderr splq template create tt --base host
	assert_status 0
	dd if=/dev/zero of="$SPLQ_HOME/qubes/tt/private.img" bs=4096 seek=1 count=1 conv=notrunc 2>/dev/null
	run --separate-stderr splq start tt
	[ "$status" -ne 0 ]
	[ "$(generations tt | tr '\n' ' ')" = "1.img " ]
	[ "$(readlink "$SPLQ_HOME/templates/tt/root")" = roots/1.img ]
	assert_leftovers_none
}

@test "a root made by an older splq (a directory) is refused with a message saying so" {
	make_qube work t
	rm "$SPLQ_HOME/templates/t/root"
	mkdir "$SPLQ_HOME/templates/t/roots/1"
	ln -s roots/1 "$SPLQ_HOME/templates/t/root"
	run --separate-stderr splq start work
	[ "$status" -ne 0 ]
	[[ $stderr == *"is a directory"*"older splq"* ]]
	run --separate-stderr splq start t
	[ "$status" -ne 0 ]
	[[ $stderr == *"older splq"* ]]
	assert_leftovers_none
}
