#!/bin/bash
# splq check-kernels: pid 1 of the guest, after the initramfs's
# switch_root.  Mounts what a booted Debian has (as systemd would), lays
# out the cgroups named by splq.layout= on the kernel command line, runs
# the tests named by splq.bats= (NAME,NAME: tests/cli/NAME.bats) with
# tests/run-all.sh, and powers off.
#
# The tests' output goes to the second serial port (/dev/ttyS1, a file on
# the host), the kernel's and this script's messages to the first: the
# host reads the results without kernel messages in between.  The last
# line on ttyS1 is "__SPLQ_GUEST_DONE__ STATUS" (run-all.sh's exit
# status) or "__SPLQ_GUEST_FAILED__ WHY".
#
# Layouts:
#   v2          pure cgroup v2 mounted as systemd mounts it (nsdelegate,
#               memory_recursiveprot), no controller enabled anywhere: splq
#               enables what it needs; the tests run in the root cgroup
#   v2-service  the same mount, controllers enabled as systemd enables them
#               (root and system.slice), the tests run from
#               system.slice/splq-tests.service, as from a unit
#   v1          hybrid, as this project's CI host has it: a tmpfs at
#               /sys/fs/cgroup, each v1 controller in a hierarchy of its
#               own, name=systemd, and cgroup2 without controllers at
#               /sys/fs/cgroup/unified
set -uo pipefail # no -e: pid 1 must reach the power-off whatever fails

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
	echo b >/proc/sysrq-trigger
}

fail() {
	echo "guest-init: $*" >&2
	echo "__SPLQ_GUEST_FAILED__ $*" >/dev/ttyS1
	poweroff
}

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# What udev and systemd add to /dev
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0000 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755,size=20% tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777,size=50% tmpfs /tmp
# systemd makes every mount shared; splq's own mount namespaces must not
# depend on the host being private.
mount --make-rshared /
stty -F /dev/ttyS1 raw -echo 2>/dev/null
hostname splq-guest
ip link set lo up 2>/dev/null

param() {
	local w words
	read -r -a words </proc/cmdline
	for w in "${words[@]}"; do
		case $w in
		"$1"=*) printf '%s\n' "${w#*=}" ;;
		esac
	done
}
layout=$(param splq.layout)
bats=
for b in $(param splq.bats | tr , ' '); do
	bats+=" tests/cli/$b.bats"
done

cg=/sys/fs/cgroup
case $layout in
v2 | v2-service)
	mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $cg ||
		fail "cannot mount cgroup2"
	if [ "$layout" = v2-service ]; then
		# systemd enables in the root every controller it knows, and
		# in a slice those its units use.
		for c in cpuset cpu io memory pids; do
			echo "+$c" >$cg/cgroup.subtree_control || fail "cannot enable $c in $cg"
		done
		mkdir -p $cg/init.scope $cg/system.slice/splq-tests.service
		echo $$ >$cg/init.scope/cgroup.procs # the root may hold no process then
		for c in cpu io memory pids; do
			echo "+$c" >$cg/system.slice/cgroup.subtree_control ||
				fail "cannot enable $c in system.slice"
		done
	fi
	;;
v1)
	mount -t tmpfs -o nosuid,nodev,noexec,mode=0755 tmpfs $cg || fail "cannot mount tmpfs on $cg"
	for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
		mkdir $cg/$c
		mount -t cgroup -o nosuid,nodev,noexec,$c cgroup $cg/$c || fail "cannot mount cgroup $c"
	done
	mkdir $cg/systemd $cg/unified
	mount -t cgroup -o nosuid,nodev,noexec,none,name=systemd cgroup $cg/systemd ||
		fail "cannot mount cgroup name=systemd"
	mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 $cg/unified ||
		fail "cannot mount cgroup2 on $cg/unified"
	;;
*)
	fail "unknown splq.layout '$layout'"
	;;
esac

{
	echo "== guest: kernel $(uname -r), layout $layout, $(nproc) cpus," \
		"$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024)) MiB, booted in $(cut -d' ' -f1 /proc/uptime) s"
	awk '{
		for (i = 7; i <= NF; i++)
			if ($i == "-") {
				if ($(i + 1) ~ /^cgroup/)
					print "   " $5, $(i + 1), $(i + 3)
				break
			}
	}' /proc/self/mountinfo
} >/dev/ttyS1

cd /splq || fail "no /splq in the root image"
(
	if [ "$layout" = v2-service ]; then
		echo $BASHPID >$cg/system.slice/splq-tests.service/cgroup.procs ||
			exit 125
	fi
	echo "   tests run in cgroup $(cut -d: -f3- /proc/self/cgroup | sort -u | tr '\n' ' ')"
	SPLQ_BATS=$bats exec tests/run-all.sh build
) >/dev/ttyS1 2>&1 </dev/null
status=$?
echo "__SPLQ_GUEST_DONE__ $status" >/dev/ttyS1
poweroff
