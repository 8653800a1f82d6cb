#!/usr/bin/env bash
# splq: `make check-package`.  Builds the Debian package (debian/) with
# dpkg-buildpackage in a temporary clone of this repository, so the work
# tree and its build/ stay untouched and the .deb lands in the scratch
# directory; runs lintian on it (an error fails); unpacks it with `dpkg -x`
# into a scratch root, never through the host's dpkg database, and checks
# the files, the maintainer scripts (sh -n; as root also what they do to
# the store, in a mount namespace with /var/lib a tmpfs) and `splq
# --version` there.  Prints "N passed, N failed"; exit status 0 only when
# nothing failed.
#
# The clone holds what is committed: uncommitted changes are not built.
# Needs dpkg-dev, debhelper, lintian and the build dependencies in
# debian/control (scripts/deps.sh package installs them).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/splq-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() {
	echo "ok: $*"
	passed=$((passed + 1))
}
fail() {
	echo "FAILED: $*"
	failed=$((failed + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	if [ "$failed" -eq 0 ]; then exit 0; fi
	exit 1
}

for tool in git dpkg-buildpackage dpkg-architecture dpkg-deb dpkg-parsechangelog lintian; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is missing (scripts/deps.sh package)"
		finish
	fi
done

git clone -q "$repo" "$tmp/src"
echo "package: building $(git -C "$tmp/src" log -1 --format='%h %s' | cut -c1-72)"
if [ -n "$(git -C "$repo" status --porcelain -- debian)" ]; then
	echo "package: note: debian/ has uncommitted changes; they are not in this build"
fi

# ---------- build ----------
if (cd "$tmp/src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b"
else
	tail -n 40 "$tmp/build.log"
	fail "dpkg-buildpackage -us -uc -b (the last lines of its log above)"
	finish
fi

version=$(dpkg-parsechangelog -l "$tmp/src/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
deb=$tmp/splq_${version}_$arch.deb
changes=$tmp/splq_${version}_$arch.changes
check "splq_${version}_$arch.deb and .changes made" test -f "$deb" -a -f "$changes"
[ -f "$deb" ] || finish

# ---------- lintian ----------
status=0
lintian -I "$changes" >"$tmp/lintian.txt" 2>&1 || status=$?
sed 's/^/lintian: /' "$tmp/lintian.txt"
if [ "$status" -eq 0 ] && ! grep -q '^E: ' "$tmp/lintian.txt"; then
	pass "lintian: no errors"
else
	fail "lintian: errors (status $status)"
fi

# ---------- the control part ----------
dpkg-deb -e "$deb" "$tmp/control"
for script in preinst postinst prerm postrm; do
	if [ -e "$tmp/control/$script" ]; then
		check "$script: sh -n" sh -n "$tmp/control/$script"
	fi
done
depends=$(dpkg-deb -f "$deb" Depends)
for dep in e2fsprogs libc6 libnftables1; do
	check "Depends names $dep" grep -qE "(^|, )$dep( |,|$)" <<<"$depends"
done

# ---------- the files ----------
root=$tmp/root
dpkg -x "$deb" "$root"
exe() { [ -f "$root/$1" ] && [ -x "$root/$1" ]; }
link() { [ -L "$root/$1" ] && [ "$(readlink "$root/$1")" = "$2" ]; }
for f in usr/bin/splq usr/libexec/splq/splq-init usr/libexec/splq/splq-nft \
	usr/libexec/splq/qube/bin/splq-qube; do
	check "/$f" exe "$f"
done
check "/usr/libexec/splq/qube/bin/qrexec-client-vm -> splq-qube" \
	link usr/libexec/splq/qube/bin/qrexec-client-vm splq-qube
check "/usr/libexec/splq/qube/rpc/qubes.Filecopy -> ../bin/splq-qube" \
	link usr/libexec/splq/qube/rpc/qubes.Filecopy ../bin/splq-qube
check "bash completion in /usr/share/bash-completion/completions/splq" \
	test -s "$root/usr/share/bash-completion/completions/splq"
check "zsh completion in /usr/share/zsh/vendor-completions/_splq" \
	test -s "$root/usr/share/zsh/vendor-completions/_splq"
unit=$root/usr/lib/systemd/system/splq-autostart.service
check "/usr/lib/systemd/system/splq-autostart.service runs /usr/bin/splq" \
	grep -qx 'ExecStart=/usr/bin/splq start --autostart' "$unit"
check "the unit is not enabled by the package (nothing in /etc)" test ! -e "$root/etc"
check "/usr/share/doc/splq/copyright" test -s "$root/usr/share/doc/splq/copyright"
check "nothing under /usr/local or /var" test ! -e "$root/usr/local" -a ! -e "$root/var"
check "/usr/share/man/man1/splq.1.gz" test -s "$root/usr/share/man/man1/splq.1.gz"
check "the man pages all compressed" \
	test -z "$(find "$root/usr/share/man" -type f ! -name '*.gz' 2>/dev/null)"

# ---------- the store on install, remove and purge ----------
# debian/postinst and debian/postrm without debhelper's snippets (those
# would ask the host's systemd), run in a mount namespace of their own
# with a tmpfs on /var/lib: the host's /var/lib/splq is never seen.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	cat >"$tmp/store.sh" <<'EOF'
set -u
mount -t tmpfs tmpfs /var/lib || { echo "FAILED: a tmpfs on /var/lib"; exit; }
say() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fi; }
s=/var/lib/splq note=$2/note
sh "$1/postinst" configure
say "postinst configure makes $s, mode 0700" '[ "$(stat -c %a $s)" = 700 ]'
mkdir -p $s/qubes/work
: >$s/qubes/work/private.img
: >$s/splq.db
sh "$1/postrm" remove
say "postrm remove keeps $s" '[ -e $s/splq.db ]'
sh "$1/postrm" purge 2>"$note"
say "postrm purge keeps $s while it holds a qube" '[ -e $s/qubes/work/private.img ]'
say "and says so" 'grep -q "was kept" "$note"'
cat "$note"
rm -r $s/qubes/work
sh "$1/postrm" purge
say "postrm purge removes $s once it holds none" '[ ! -e $s ]'
EOF
	while IFS= read -r line; do
		case $line in
		"ok: "*) pass "${line#ok: }" ;;
		"FAILED: "*) fail "${line#FAILED: }" ;;
		*) echo "package: $line" ;;
		esac
	done < <(unshare --mount --propagation private sh "$tmp/store.sh" "$tmp/src/debian" "$tmp" 2>&1)
else
	echo "package: skipped the store checks (they need root and unshare)"
fi

# ---------- it runs ----------
if out=$("$root/usr/bin/splq" --version 2>&1) && [ "$out" = "splq $version" ]; then
	pass "splq --version: $out"
else
	fail "splq --version: '$out', expected 'splq $version'"
fi

finish
