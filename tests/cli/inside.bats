#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# shellcheck disable=SC2016  # the $ in single quotes is for the qube's shell
# splq: what programs expect inside a qube, looked at from inside: /sys (the
# qube's own network and cgroups, read-only even to the qube's root), /run,
# /tmp and /var/tmp, /etc/mtab, and as many CPUs as its vcpus.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
}

teardown() {
	teardown_splq
}

# The mount point, file system type and per-mount options of PATH inside
# qube Q: "TARGET FSTYPE OPTIONS".
mount_of() {
	in_root "$1" findmnt -n -o TARGET,FSTYPE,OPTIONS --mountpoint "$2"
}

# Does the host have a cpuset controller for qubes?  v2: "cpuset" in the
# cgroup2 root's cgroup.controllers; v1: a cpuset hierarchy.
host_cpuset() {
	local fstype mnt opts
	while read -r fstype mnt opts; do
		if [ "$fstype" = cgroup2 ] && grep -qw memory "$mnt/cgroup.controllers" 2>/dev/null; then
			grep -qw cpuset "$mnt/cgroup.controllers"
			return
		fi
		if [ "$fstype" = cgroup ] && [[ ,$opts, == *,cpuset,* ]]; then
			return 0
		fi
	done < <(awk '{
		for (i = 7; i <= NF; i++)
			if ($i == "-") { print $(i + 1), $5, $(i + 3); break }
	}' /proc/self/mountinfo)
	return 1
}

@test "/sys: a read-only sysfs of the qube's own network; the qube's root cannot remount or write it" {
	make_qube q
	run --separate-stderr mount_of q /sys
	assert_status 0
	read -r target fstype opts <<<"$output"
	[ "$target" = /sys ]
	[ "$fstype" = sysfs ]
	for o in ro nosuid nodev noexec; do
		[[ ,$opts, == *",$o,"* ]] || {
			echo "/sys lacks $o: $opts" >&2
			return 1
		}
	done
	# its network namespace's view: lo only, whatever the host has
	run --separate-stderr in_root q ls /sys/class/net
	assert_status 0
	[ "$output" = lo ]
	[ "$(ls /sys/class/net | wc -l)" -ge 1 ]
	# the qube's root: no remount, no write, no unmount
	run in_root q mount -o remount,rw /sys
	[ "$status" -ne 0 ]
	run in_root q sh -c 'echo 1000 > /sys/class/net/lo/mtu'
	[ "$status" -ne 0 ]
	[[ $output == *"Read-only file system"* || $output == *"Permission denied"* ]]
	run in_root q umount /sys
	[ "$status" -ne 0 ]
	run --separate-stderr in_root q sh -c 'cat /sys/class/net/lo/mtu; findmnt -n -o OPTIONS --mountpoint /sys'
	assert_status 0
	[ "${lines[0]}" = 65536 ]
	[[ ${lines[1]} == ro,* ]]
	# firmware tables hidden
	if [ -d /sys/firmware ]; then
		run --separate-stderr in_root q sh -c 'ls -A /sys/firmware | wc -l'
		assert_status 0
		[ "$output" = 0 ]
	fi
	splq kill q
}

@test "/sys/fs/cgroup: the qube's own cgroups, read-only, with its memory limit and no host tree" {
	make_qube q t --memory 300 --maxmem 300
	run --separate-stderr in_root q sh -c 'findmnt -rn -o FSTYPE,OPTIONS --mountpoint /sys/fs/cgroup'
	assert_status 0
	[[ $output == "cgroup2 ro,"* || $output == "tmpfs ro,"* ]]
	# the hard memory limit (maxmem), where programs (JVMs, node) look for it
	run --separate-stderr in_root q sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null ||
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
	assert_status 0
	[ "$output" = $((300 << 20)) ]
	# every cgroup mount is read-only, and roots at the qube's own cgroup:
	# no cgroup below it, nothing named after the host's tree
	run --separate-stderr in_root q sh -c 'findmnt -rn -t cgroup,cgroup2 -o TARGET,OPTIONS'
	assert_status 0
	[ "${#lines[@]}" -ge 1 ]
	for l in "${lines[@]}"; do
		[[ ${l#* } == ro,* ]] || {
			echo "not read-only: $l" >&2
			return 1
		}
	done
	run --separate-stderr in_root q sh -c 'find /sys/fs/cgroup -mindepth 1 -type d -not -path "/sys/fs/cgroup/*/*" -printf "%f\n";
		find /sys/fs/cgroup -mindepth 2 -type d; cat /proc/self/cgroup; cat /proc/self/mountinfo'
	assert_status 0
	[[ $output != *"$SPLQ_CGROUP"* && $output != *splq-test* ]]
	# hybrid: the top holds one directory per hierarchy and none below them
	run --separate-stderr in_root q find /sys/fs/cgroup -mindepth 2 -type d
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr in_root q sh -c 'cut -d: -f3 /proc/self/cgroup | sort -u'
	[ "$output" = / ]
	# the qube's root can neither write nor remount them
	run in_root q sh -c 'for f in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
		[ -e "$f" ] && echo 1G > "$f" && echo "wrote $f"; done; true'
	[[ $output != *wrote* ]]
	run in_root q mount -o remount,rw /sys/fs/cgroup
	[ "$status" -ne 0 ]
	run --separate-stderr in_root q sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null ||
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
	[ "$output" = $((300 << 20)) ]
	splq kill q
}

@test "/run is a tmpfs of the qube's root; /tmp and /var/tmp are sticky and writable; an AppVM's start afresh" {
	make_qube q
	run --separate-stderr in_root q sh -c 'findmnt -rn -o FSTYPE,OPTIONS --mountpoint /run; stat -c "%a %U" /run /tmp /var/tmp'
	assert_status 0
	[[ ${lines[0]} == "tmpfs rw,nosuid,nodev"* ]]
	[ "${lines[1]}" = "755 root" ]
	[ "${lines[2]}" = "1777 root" ]
	[ "${lines[3]}" = "1777 root" ]
	run --separate-stderr in_root q sh -c 'mkdir /run/lock && echo a > /run/lock/x && cat /run/lock/x'
	assert_status 0
	[ "$output" = a ]
	run in_root q sh -c 'mount -o remount,exec,suid /run'
	[ "$status" -ne 0 ]
	run --separate-stderr splq run q -- sh -c 'echo b > /tmp/b && echo c > /var/tmp/c && cat /tmp/b /var/tmp/c; touch /run/u 2>&1 || true'
	assert_status 0
	[ "${lines[0]}" = b ]
	[ "${lines[1]}" = c ]
	[[ ${lines[2]} == *"Permission denied"* ]]
	# an AppVM's root is thrown away at shutdown: /var/tmp with it; /run
	# holds only splq's own /run/splq (its helpers and qrexec socket)
	splq shutdown --wait q
	run --separate-stderr in_root q sh -c 'ls -A /run /var/tmp /tmp | grep -v :$ | grep . ; true'
	assert_status 0
	[ "$output" = splq ]
	splq kill q
}

@test "/etc/mtab and /var/tmp: made inside the qube when its template lacks them, the template untouched" {
	make_host_template t
	# the template drops both, and /tmp's mode
	run --separate-stderr splq run --user root t -- sh -c 'rm -f /etc/mtab && rm -rf /var/tmp && ls -ld /etc/mtab /var/tmp 2>&1; true'
	assert_status 0
	[[ $output == *"No such file"* ]]
	splq shutdown --wait t
	make_qube q t
	run --separate-stderr in_root q sh -c 'readlink /etc/mtab; stat -c %a /var/tmp; grep -c " /sys sysfs " /etc/mtab; grep -c " /home " /etc/mtab'
	assert_status 0
	[ "${lines[0]}" = ../proc/self/mounts ]
	[ "${lines[1]}" = 1777 ]
	[ "${lines[2]}" = 1 ]
	[ "${lines[3]}" = 1 ]
	# in the AppVM's volatile layer only: the template's current root has
	# neither (looked at from the host, never following a link)
	local gen n=0
	while IFS= read -r gen; do
		[ -d "$gen/etc" ]
		[ ! -e "$gen/etc/mtab" ]
		[ ! -L "$gen/etc/mtab" ]
		[ ! -e "$gen/var/tmp" ]
		n=$((n + 1))
	done < <(splq_generation_mounts)
	[ "$n" -ge 1 ]
	# a template of its own root keeps what its start made
	run --separate-stderr splq run --user root t -- readlink /etc/mtab
	assert_status 0
	[ "$output" = ../proc/self/mounts ]
	splq kill q t
}

@test "nproc and os.cpu_count() show vcpus: 1 of the host's CPUs, or all with vcpus at least their count" {
	local host
	host=$(nproc)
	if [ "$host" -lt 2 ]; then
		skip "needs at least 2 CPUs (this host: $host)"
	fi
	make_qube one t --vcpus 1
	make_qube all t --vcpus "$host"
	run --separate-stderr splq run one -- sh -c 'nproc; python3 -c "import os; print(os.cpu_count(), len(os.sched_getaffinity(0)))"; cat /sys/devices/system/cpu/online; grep Cpus_allowed_list /proc/self/status'
	assert_status 0
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "1 1" ]
	[[ ${lines[2]} =~ ^[0-9]+$ ]]
	[ "${lines[3]}" = "Cpus_allowed_list:	${lines[2]}" ]
	run --separate-stderr splq run all -- sh -c 'nproc; python3 -c "import os; print(os.cpu_count())"'
	assert_status 0
	[ "${lines[0]}" = "$host" ]
	[ "${lines[1]}" = "$(python3 -c 'import os; print(os.cpu_count())')" ]
	# a change of vcpus counts at the next start
	splq shutdown --wait all
	splq prefs all vcpus $((host - 1))
	run --separate-stderr splq run all -- nproc
	[ "$output" = $((host - 1)) ]
	splq kill one all
}

@test "vcpus 1: the qube's root cannot widen its affinity beyond its cpuset" {
	if [ "$(nproc)" -lt 2 ]; then
		skip "needs at least 2 CPUs (this host: $(nproc))"
	fi
	if ! host_cpuset; then
		skip "this host has no cpuset cgroup controller: a qube's CPUs are bound by its affinity and cpu.max only"
	fi
	make_qube q t --vcpus 1
	run --separate-stderr in_root q python3 -c '
import os
before = os.sched_getaffinity(0)
try:
    os.sched_setaffinity(0, range(1024))
except OSError as e:
    print("refused", e.errno)
print(len(before), len(os.sched_getaffinity(0)))'
	assert_status 0
	[ "${lines[-1]}" = "1 1" ]
	# and the host holds the qube's cgroup to that CPU
	local d cpus=""
	while IFS= read -r d; do
		if [ -f "$d/cpuset.cpus" ]; then
			cpus=$(cat "$d/cpuset.cpus")
		fi
	done < <(qube_cgroup_dirs q)
	[[ $cpus =~ ^[0-9]+$ ]]
	run --separate-stderr in_root q sh -c 'grep Cpus_allowed_list /proc/self/status'
	[ "$output" = "Cpus_allowed_list:	$cpus" ]
	splq kill q
}
