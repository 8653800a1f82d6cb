#!/bin/sh
# splq check-kernels: /init of the guest's initramfs (busybox sh).  Loads
# the modules the guest needs to reach its root (virtio, ext4) and those
# splq needs (overlay, loop), in the order /modules.list gives (each after
# what it depends on: tests/kernels/run.sh resolved that on the host),
# mounts the root disk and hands over to tests/kernels/guest-init.sh.
# Anything that goes wrong powers the guest off, so that the host sees the
# run end instead of waiting for its timeout.
export PATH=/bin

fail() {
	echo "initramfs: $*"
	echo "__SPLQ_GUEST_FAILED__ initramfs: $*" >/dev/ttyS1
	echo o >/proc/sysrq-trigger
	sleep 60
}

mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
	# A module the kernel has built in, or one already loaded by a
	# dependency, answers EEXIST: not a failure.
	insmod "/modules/$m" 2>/tmp-insmod.err ||
		grep -q 'File exists' /tmp-insmod.err ||
		echo "initramfs: insmod $m: $(cat /tmp-insmod.err)"
done </modules.list

# The disk appears once virtio_blk has probed it.
i=0
while [ ! -b /dev/vda ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "no /dev/vda after 10 s (virtio_blk not loaded?)"
	sleep 0.1
done
mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount /dev/vda"

umount /proc /sys /dev
exec switch_root /newroot /splq/tests/kernels/guest-init.sh
