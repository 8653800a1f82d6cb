#!/usr/bin/env bash
# splq: `make check-kernels`.  Boots Debian 12's own kernel (the package
# linux-image-amd64 depends on, from the archive) under qemu, once per
# cgroup layout, and runs a set of command-line tests inside the guest as
# root, with splq built on the host ($BUILD, default build).  Prints each
# guest's test output as it comes, then "N passed, N failed" per layout and
# in total, and how long it took.  Exit status 0 only when nothing failed.
#
#   tests/kernels/run.sh [LAYOUT...]   (default: v2 v1 v2-service; see
#                                       tests/kernels/guest-init.sh)
#
# Environment:
#   SPLQ_KERNEL_PACKAGE   the kernel package (default: what
#                         linux-image-amd64 depends on)
#   SPLQ_KERNEL_BATS      the tests, NAME,NAME for tests/cli/NAME.bats
#   SPLQ_KERNEL_TIMEOUT   seconds one boot may take (default 3600)
#   SPLQ_KERNEL_MEMORY    the guest's memory in MiB (default 3072)
#
# Everything downloaded or built lives under $BUILD/kernels: the kernel
# .deb (debs/), its unpacked tree (kernel/VERSION/), the initramfs, the
# staged guest system (stage/) and the root image.  A rerun reuses them
# and only refreshes splq and the tests inside the image.  The guest's
# writes go to a throw-away overlay (qemu -snapshot), so the image stays as
# built; nothing is mounted on the host (the image is made with
# `mkfs.ext4 -d`), and the only process started is qemu, killed by its pid
# if the run is cut short.
set -euo pipefail

cd "$(dirname "$0")/../.."
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

BUILD=${BUILD:-build}
out=$BUILD/kernels
bats_list=${SPLQ_KERNEL_BATS:-lifecycle,dispvm,preload,qvm,stats,security,terminal,hostile-trees,volumes,limits,basics,props,inside,supervisor,logs,calls,copy,tcp,network}
boot_timeout=${SPLQ_KERNEL_TIMEOUT:-3600}
memory=${SPLQ_KERNEL_MEMORY:-3072}
if [ "$#" -eq 0 ]; then
	set -- v2 v1 v2-service
fi
layouts=("$@")

die() {
	echo "check-kernels: $*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	die "run as root (the guest's tree is staged with its owners and device nodes)"
fi
for tool in qemu-system-x86_64 busybox modinfo depmod mkfs.ext4 dpkg-deb dpkg-query apt-get ldconfig; do
	command -v "$tool" >/dev/null || die "$tool is missing; run scripts/deps.sh kernels"
done
if ldd "$(command -v busybox)" >/dev/null 2>&1; then
	die "busybox must be the static one (busybox-static): it runs alone in the initramfs"
fi
for f in "$BUILD/splq" "$BUILD/splq-init" "$BUILD/splq-nft" "$BUILD/qube/bin/splq-qube"; do
	[ -x "$f" ] || die "$f is missing; run make first"
done
for layout in "${layouts[@]}"; do
	case $layout in
	v2 | v1 | v2-service) ;;
	*) die "unknown layout '$layout' (v2, v1, v2-service)" ;;
	esac
done

started=$(date +%s)
mkdir -p "$out/debs" "$out/kernel" "$out/logs"

# Whatever the run leaves half made goes at exit; qemu too, by its pid.
tmp=$(mktemp -d "$out/tmp.XXXXXX")
qemu_pid=
cleanup() {
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the kernel ---------------------------------------------------------

# The package: the one Debian's linux-image-amd64 points at now, or, with
# no archive in reach, the newest one downloaded before.
pkg=${SPLQ_KERNEL_PACKAGE:-}
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }' || true)
fi
deb=
if [ -n "$pkg" ]; then
	deb=$(find "$out/debs" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -1)
	if [ -z "$deb" ]; then
		echo "check-kernels: downloading $pkg"
		# Into a folder of its own first: an interrupted download
		# leaves no .deb that looks whole.
		mkdir "$tmp/dl"
		if ! (cd "$tmp/dl" && apt-get download -q "$pkg") >"$tmp/dl.log" 2>&1; then
			sed 's/^/  apt-get: /' "$tmp/dl.log" >&2
		fi
		for f in "$tmp"/dl/*.deb; do
			[ -f "$f" ] && mv "$f" "$out/debs/"
		done
		deb=$(find "$out/debs" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -1)
	fi
else
	deb=$(find "$out/debs" -maxdepth 1 -name 'linux-image-*_amd64.deb' | sort -V | tail -1)
fi
[ -n "$deb" ] || die "cannot find or download the kernel package ${pkg:-linux-image-*-amd64}"
pkg=$(dpkg-deb -f "$deb" Package)
pkg_version=$(dpkg-deb -f "$deb" Version)
kver=${pkg#linux-image-}
kdir=$out/kernel/$kver
if [ ! -f "$kdir/.unpacked" ]; then
	rm -rf "$kdir"
	dpkg-deb -x "$deb" "$tmp/k"
	mv "$tmp/k" "$kdir"
	touch "$kdir/.unpacked"
fi
vmlinuz=$kdir/boot/vmlinuz-$kver
moddir=$kdir/lib/modules/$kver
[ -f "$vmlinuz" ] || die "$deb holds no boot/vmlinuz-$kver"

# Every module a module needs, then the module itself (by name; '-' and
# '_' are the same to the kernel): the .deb has no modules.dep, so each
# module's own depends= and softdep pre: lines say.
declare -A mod_path=() mod_seen=()
while IFS= read -r f; do
	n=${f##*/}
	n=${n%.ko}
	mod_path[${n//-/_}]=$f
done < <(find "$moddir/kernel" -name '*.ko')
mod_order=()
#   add_module NAME [soft]   (soft: a soft dependency, which may name an
#                             alias, such as crypto-crc32c, rather than a
#                             module; what it stands for is loaded by name)
add_module() {
	local n=${1//-/_} d
	[ -z "${mod_seen[$n]:-}" ] || return 0
	mod_seen[$n]=1
	if [ -z "${mod_path[$n]:-}" ]; then
		# built in, an alias, or not in this kernel at all
		if [ -z "${2:-}" ] && ! grep -q "/$n.ko\$" "$moddir/modules.builtin"; then
			echo "check-kernels: module $1 is not in $pkg" >&2
		fi
		return 0
	fi
	for d in $(modinfo -F depends "${mod_path[$n]}" | tr , ' '); do
		add_module "$d"
	done
	for d in $(modinfo -F softdep "${mod_path[$n]}" | sed -n 's/^pre: *//p'); do
		add_module "$d" soft
	done
	mod_order+=("$n")
}
# The root disk (virtio, ext4 and the crc32c it checksums with), and what
# splq needs before anything could load it on demand (overlay, loop).
for m in virtio_pci virtio_blk crc32c_generic crc32c_intel ext4 overlay loop; do
	add_module "$m"
done
# What network qubes use: veth pairs, and the nftables of their rules
# (nat, masquerade, conntrack matches, reject).
for m in veth nf_tables nft_chain_nat nft_nat nft_masq nft_ct nft_reject_inet; do
	add_module "$m"
done

# --- the initramfs (static busybox, the modules, /init) -----------------

initrd=$out/initramfs-$kver.cpio.gz
if [ ! -f "$initrd" ] || [ tests/kernels/initramfs-init.sh -nt "$initrd" ] ||
	[ tests/kernels/run.sh -nt "$initrd" ]; then
	r=$tmp/initramfs
	mkdir -p "$r/bin" "$r/dev" "$r/modules"
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in $(busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	# The kernel opens /dev/console before it runs /init.
	mknod -m 600 "$r/dev/console" c 5 1
	install -m 755 tests/kernels/initramfs-init.sh "$r/init"
	: >"$r/modules.list"
	for n in "${mod_order[@]}"; do
		cp "${mod_path[$n]}" "$r/modules/$n.ko"
		echo "$n.ko" >>"$r/modules.list"
	done
	(cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$tmp/initrd"
	mv "$tmp/initrd" "$initrd"
fi

# --- the guest's system: a small merged /usr from the host's packages ---

# The packages whose files the tests and splq run (found with `dpkg -S`
# on each command the tests name); the libraries they link come after,
# from ldd.  No docs, man pages or translations.
guest_packages=(
	libc-bin bash dash coreutils util-linux mount procps findutils grep sed mawk
	diffutils hostname iproute2 e2fsprogs kmod sqlite3 bats
	python3-minimal python3.11-minimal ncurses-base ncurses-bin base-files
	# network.bats: nft, the test internet's DNS server, pasta
	nftables dnsmasq-base passt
	# cc -static: lifecycle.bats builds a tiny root around a program
	gcc gcc-12 cpp-12 binutils binutils-x86-64-linux-gnu libc6-dev libgcc-12-dev
	linux-libc-dev libcrypt-dev
)
stage=$out/stage
stage_key="$pkg $pkg_version $(sha256sum tests/kernels/run.sh | cut -c1-16)"
if [ "$(cat "$stage/.staged" 2>/dev/null || true)" != "$stage_key" ]; then
	echo "check-kernels: staging the guest's system"
	rm -rf "$stage"
	s=$tmp/stage
	mkdir -p "$s"/usr/{bin,sbin,lib,lib64} "$s"/{etc,root,tmp,run,proc,sys,dev,home,var/tmp,splq}
	chmod 700 "$s/root"
	chmod 1777 "$s/tmp" "$s/var/tmp"
	for l in bin sbin lib lib64; do
		ln -s "usr/$l" "$s/$l"
	done

	# The packages' own paths, as merged /usr names (dpkg still knows
	# many as /bin/..., /lib/...; the host is merged too, so the /usr
	# name is where the file really is).
	usrmerge='s,^/(bin|sbin|lib|lib64)(/|$),/usr/\1\2,'
	dpkg-query -L "${guest_packages[@]}" 2>/dev/null |
		sed -E "$usrmerge" |
		grep -Ev '^/usr/share/(doc|man|info|locale|lintian|bash-completion|zsh|bug)(/|$)|^/\.$|^/?$' |
		sort -u >"$tmp/paths"
	# Python's standard library as installed (with the byte code Debian
	# compiled at install: without it each python3 in the tests would
	# compile what it imports, slowly, under emulation).
	find /usr/lib/python3.11 \
		\( -path /usr/lib/python3.11/config-3.11-x86_64-linux-gnu -o \
		-path /usr/lib/python3.11/test -o -path /usr/lib/python3.11/idlelib -o \
		-path /usr/lib/python3.11/tkinter -o -path /usr/lib/python3.11/turtledemo -o \
		-path /usr/lib/python3.11/ensurepip -o -path /usr/lib/python3.11/lib2to3 -o \
		-path /usr/lib/python3.11/site-packages -o -path /usr/lib/python3.11/dist-packages \) -prune -o \
		-print >>"$tmp/paths"
	copy_paths() {
		# existing paths only, without descending (each is listed)
		while IFS= read -r p; do
			[ -e "$p" ] || [ -L "$p" ] && printf '%s\n' "$p"
		done | sort -u | tar -C / --no-recursion -cf - -T - 2>/dev/null | tar -C "$s" -xpf -
	}
	copy_paths <"$tmp/paths"

	# The shared libraries of every ELF file staged, until none is new.
	: >"$tmp/libs"
	while :; do
		find "$s" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
			{ xargs -0 -r -n 64 ldd 2>/dev/null || true; } | # scripts: not ELF
			awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
			sort -u >"$tmp/need"
		: >"$tmp/new"
		while IFS= read -r lib; do
			m=$(sed -E "$usrmerge" <<<"$lib")
			for p in "$m" "$(readlink -f "$m")"; do
				[ -e "$s$p" ] || [ -L "$s$p" ] || printf '%s\n' "$p"
			done
		done <"$tmp/need" >"$tmp/new"
		[ -s "$tmp/new" ] || break
		# with the folders above each, so that tar makes them as the
		# host has them
		while IFS= read -r p; do
			d=$(dirname "$p")
			while [ "$d" != / ]; do
				printf '%s\n' "$d"
				d=$(dirname "$d")
			done
			printf '%s\n' "$p"
		done <"$tmp/new" | copy_paths
	done

	# /etc: what a booted Debian has that the tests or splq read
	for f in alternatives bash.bashrc debian_version environment host.conf inputrc \
		ld.so.conf ld.so.conf.d localtime login.defs mime.types os-release profile \
		profile.d protocols rpc services shells skel terminfo timezone nsswitch.conf \
		mke2fs.conf; do
		[ -e "/etc/$f" ] || [ -L "/etc/$f" ] || continue
		[ -e "$s/etc/$f" ] || cp -a "/etc/$f" "$s/etc/$f"
	done
	# The commands update-alternatives made (awk: mawk), where the staged
	# system has what they point at.
	for l in /usr/bin/* /usr/sbin/*; do
		{ [ -L "$l" ] && [ ! -L "$s$l" ]; } || continue
		t=$(readlink "$l")
		case $t in
		/etc/alternatives/*)
			if [ -e "$s$(readlink -f "$l")" ]; then
				ln -s "$t" "$s$l"
			fi
			;;
		esac
	done
	printf '%s\n' 'root:x:0:0:root:/root:/bin/bash' \
		'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"$s/etc/passwd"
	printf '%s\n' 'root:x:0:' 'tty:x:5:' 'disk:x:6:' 'shadow:x:42:' 'nogroup:x:65534:' \
		>"$s/etc/group"
	# A shadow file with a hash in it, as every Debian has: the tests
	# check that none of it reaches a qube.  (Not a real password's.)
	(
		umask 027
		printf 'root:%s:19700:0:99999:7:::\n' \
			"\$y\$j9T\$splqguestsalt\$$(head -c 32 /dev/urandom | sha256sum | cut -c1-43)" \
			>"$s/etc/shadow"
		printf '%s\n' 'nobody:*:19700:0:99999:7:::' >>"$s/etc/shadow"
	)
	chgrp 42 "$s/etc/shadow"
	echo splq-guest >"$s/etc/hostname"
	ln -sfn ../proc/self/mounts "$s/etc/mtab"
	ldconfig -r "$s"

	# The kernel's modules, for what the kernel loads on demand
	# (/sbin/modprobe is kmod): file systems, block, virtio, network.
	m=$s/usr/lib/modules/$kver
	mkdir -p "$m/kernel/drivers"
	cp -a "$moddir"/modules.builtin* "$moddir/modules.order" "$m/"
	for d in fs lib crypto arch net drivers/block drivers/virtio drivers/net; do
		if [ -d "$moddir/kernel/$d" ]; then
			mkdir -p "$m/kernel/$(dirname "$d")"
			cp -a "$moddir/kernel/$d" "$m/kernel/$d"
		fi
	done
	depmod -b "$s" "$kver"

	echo "$stage_key" >"$s/.staged"
	mv "$s" "$stage"
fi

# splq and its tests, fresh at every run
rm -rf "$stage/splq"
mkdir -p "$stage/splq/build"
cp -a tests "$stage/splq/tests"
cp -a contrib "$stage/splq/contrib"
cp "$BUILD/splq" "$BUILD/splq-init" "$BUILD/splq-nft" "$stage/splq/build/"
cp -a "$BUILD/qube" "$stage/splq/build/qube" # the in-qube helpers, beside splq
image=$out/root.img
rm -f "$image"
truncate -s 2G "$tmp/root.img"
mkfs.ext4 -q -F -L splq-guest -E root_owner=0:0 -d "$stage" "$tmp/root.img"
mv "$tmp/root.img" "$image"

# --- one boot per layout --------------------------------------------------

declare -A result=() took=()
total_passed=0
total_failed=0
for layout in "${layouts[@]}"; do
	console=$out/logs/console-$layout.log
	log=$out/logs/tests-$layout.log
	: >"$console"
	: >"$log"
	echo
	echo "=== $pkg ($pkg_version), cgroup layout $layout"
	t0=$(date +%s)
	# No network device at all (-nic none); the guest's writes go to a
	# temporary overlay (snapshot=on); its first serial port is the
	# kernel's console, the second the tests' output.
	qemu-system-x86_64 -accel tcg -machine pc -cpu max -smp 2 -m "$memory" \
		-nic none -display none -monitor none -no-reboot -nodefaults \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4 splq.layout=$layout splq.bats=$bats_list" \
		-drive "file=$image,format=raw,if=virtio,snapshot=on" \
		-serial "file:$console" -serial "file:$log" \
		</dev/null >"$tmp/qemu.out" 2>&1 &
	qemu_pid=$!
	# Show the tests' output as it comes; give up after the timeout.
	tail -n +1 -F --pid="$qemu_pid" "$log" 2>/dev/null |
		sed -u -e 's/\r$//' -e '/^__SPLQ_GUEST_/d' &
	tail_pid=$!
	timed_out=0
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ $(($(date +%s) - t0)) -ge "$boot_timeout" ]; then
			timed_out=1
			kill "$qemu_pid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	wait "$tail_pid" 2>/dev/null || true
	took[$layout]=$(($(date +%s) - t0))

	summary=$(tr -d '\r' <"$log" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1 || true)
	why=
	if [ "$timed_out" = 1 ]; then
		why="timed out after $boot_timeout s"
	elif grep -q '^__SPLQ_GUEST_FAILED__' "$log"; then
		why=$(tr -d '\r' <"$log" | sed -n 's/^__SPLQ_GUEST_FAILED__ //p' | tail -1)
	elif [ -z "$summary" ]; then
		why="the guest ended without a summary (see $console)"
	fi
	if [ -n "$summary" ]; then
		p=${summary%% passed*}
		f=${summary#* passed, }
		f=${f%% failed}
	else
		p=0
		f=0
	fi
	if [ -n "$why" ]; then
		f=$((f + 1))
		echo "check-kernels: $layout: $why" >&2
		if [ -s "$tmp/qemu.out" ]; then
			sed 's/^/  qemu: /' "$tmp/qemu.out" >&2
		fi
		tail -n 20 "$console" | tr -d '\r' | sed 's/^/  console: /' >&2
	fi
	result[$layout]="$p passed, $f failed"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
done

echo
echo "=== check-kernels: $pkg ($pkg_version), tests: $bats_list"
for layout in "${layouts[@]}"; do
	printf '  %-11s %s (%d s)\n' "$layout" "${result[$layout]}" "${took[$layout]}"
done
echo "  logs: $out/logs/"
echo "took $(($(date +%s) - started)) s"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
