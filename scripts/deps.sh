#!/usr/bin/env bash
# splq: install the Debian packages needed to build, test, demo, benchmark
# and fuzz splq.  Installs only what is missing; quiet when nothing is.
#   scripts/deps.sh           what `make check` and the others need
#   scripts/deps.sh kernels   that, and what `make check-kernels` needs
#                             besides (too big to install for everyone)
#   scripts/deps.sh package   that, and what `make check-package` needs
set -euo pipefail

packages=(
	build-essential pkg-config
	libsqlite3-dev sqlite3 libssl-dev libjansson-dev libseccomp-dev libcap-dev
	libcmocka-dev bats
	hyperfine bubblewrap
	clang libclang-rt-14-dev
	iproute2 util-linux procps python3
	e2fsprogs
	libnftables-dev nftables passt iperf3 dnsmasq-base
	minisign openssl
	man-db
)

for group in "$@"; do
	case $group in
	kernels)
		# qemu boots Debian's kernel; static busybox is the initramfs;
		# kmod's modinfo and depmod read the kernel's modules.  The
		# kernel package itself is downloaded (apt-get download) by
		# tests/kernels/run.sh, not installed.
		packages+=(qemu-system-x86 busybox-static kmod)
		;;
	package)
		# dpkg-buildpackage, dh and lintian for tests/package.sh; the
		# build dependencies in debian/control are all in the list
		# above.  No fakeroot: debian/control says Rules-Requires-Root: no.
		packages+=(dpkg-dev debhelper lintian)
		;;
	*)
		echo "deps: unknown group '$group' (known: kernels, package)" >&2
		exit 64
		;;
	esac
done

# One dpkg-query for all of them: a package is present when any of its
# lines (one per architecture) says "install ok installed".
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
	awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)

missing=()
for p in "${packages[@]}"; do
	if ! grep -qxF -- "$p" <<<"$installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
